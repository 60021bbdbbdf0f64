"""The served model: loaded once at start, swapped atomically on reload."""

from __future__ import annotations

import logging
import threading

from core.config import TrackingConfig
from core.errors import CoreError
from core.serving.predictor import Predictor

logger = logging.getLogger(__name__)


class ModelUnavailableError(CoreError):
    """No model is loaded (e.g. nothing holds the champion alias yet)."""


class ReloadError(CoreError):
    """A reload failed; the previous model (if any) is still served."""


class ModelHolder:
    """Holds one fully loaded :class:`Predictor` and replaces it under a lock.

    A request takes the reference once (:meth:`current`) and uses it to the end, so a
    reload never changes the model under a request in flight, and a new model is only
    published after it has loaded completely.

    Args:
        tracking: store and registered model name.
        alias: registry alias to serve (``None``: the champion alias).
        version: pinned version (wins over ``alias``).
        runtime: what scores tweets (see :class:`core.serving.predictor.Predictor`).
    """

    def __init__(
        self, tracking: TrackingConfig, alias: str | None = None, version: str | None = None, runtime: str = "auto"
    ) -> None:
        self._tracking, self._alias, self._version, self._runtime = tracking, alias, version, runtime
        self._predictor: Predictor | None = None
        self._error: str | None = "The model has not been loaded yet."
        self._swap_lock = threading.Lock()
        self._reload_lock = threading.Lock()  # one load at a time; readers never wait on it

    def _load(self) -> Predictor:
        return Predictor(self._tracking, alias=self._alias, version=self._version, runtime=self._runtime)

    def start(self) -> None:
        """Load the model; on failure remember why (the app still starts and reports it)."""
        try:
            self.reload()
        except ReloadError:
            pass

    def reload(self) -> Predictor:
        """Load the configured model again and publish it.

        Raises:
            ReloadError: loading failed; the previous model, if any, stays in service.
        """
        with self._reload_lock:
            try:
                predictor = self._load()
            except CoreError as exc:
                return self._failed(str(exc))
            except Exception as exc:  # a corrupt artifact must not take the served model down
                logger.exception("Model load failed")
                return self._failed(f"Loading the model failed ({type(exc).__name__}).")
            with self._swap_lock:
                self._predictor, self._error = predictor, None
        logger.info("Serving %s version %s", predictor.info.name, predictor.version)
        return predictor

    def _failed(self, reason: str) -> Predictor:
        logger.warning("Model load failed: %s", reason)
        with self._swap_lock:
            old = self._predictor
            if old is None:
                self._error = reason
        if old is not None:
            raise ReloadError(f"{reason} Still serving version {old.version}.")
        raise ReloadError(reason)

    def current(self) -> Predictor:
        """The model to use for one whole request.

        Raises:
            ModelUnavailableError: no model is loaded.
        """
        with self._swap_lock:
            predictor, error = self._predictor, self._error
        if predictor is None:
            raise ModelUnavailableError(error or "No model is loaded.")
        return predictor

    @property
    def error(self) -> str | None:
        """Why no model is loaded, or ``None`` when one is."""
        with self._swap_lock:
            return None if self._predictor is not None else self._error
