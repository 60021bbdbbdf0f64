"""HTTP client of the prediction API: the only place that knows its routes and JSON shapes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import requests

from client_app.errors import ApiAnswerError, ApiUnavailableError, ClientError
from client_app.settings import ClientSettings

logger = logging.getLogger(__name__)

LABELS = ("negative", "positive")


@dataclass(frozen=True)
class Prediction:
    """One answer of ``POST /predict``."""

    prediction_id: str
    label: str
    probability_negative: float
    model_name: str
    model_version: str
    threshold: float | None = None
    """The model's decision threshold: "negative" where P(negative) reaches it (``None``: not known)."""


@dataclass(frozen=True)
class WordPush:
    """One word of the tweet (``text[start:end]``) and its push: > 0 towards negative, < 0 towards positive."""

    token: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class Explanation:
    """One answer of ``POST /explain``: how the words were weighed, and each word's push."""

    method: str
    words: tuple[WordPush, ...]
    model: tuple[str, str] | None = None
    """(name, version) of the model that explained (``None``: not said)."""


def _threshold(value: Any) -> float | None:
    """A threshold as the API gives it, if it is one: a number in [0, 1]; anything else is ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        return None
    return float(value)


def opposite_label(label: str) -> str:
    """The other sentiment label.

    Raises:
        ValueError: ``label`` is neither ``negative`` nor ``positive``.
    """
    if label not in LABELS:
        raise ValueError(f"Unknown label '{label}'.")
    return LABELS[1 - LABELS.index(label)]


class SentimentApiClient:
    """Calls the prediction API.

    Args:
        settings: URL, key and timeout of the API.
        session: HTTP session to use (``None``: a new one).
    """

    def __init__(self, settings: ClientSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        # A registered version's threshold never changes; there are few versions, so no eviction.
        self._thresholds: dict[tuple[str, str], float | None] = {}

    def _post(self, route: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST JSON and return the JSON answer of a 2xx (see :meth:`_request`)."""
        return self._request("POST", route, body, headers)

    def _request(
        self, method: str, route: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Send one request (JSON ``body`` if any) and return the JSON answer of a 2xx.

        Raises:
            ApiUnavailableError: no connection, timeout, or an answer that is not JSON.
            ApiAnswerError: the API answered 4xx/5xx (message: its ``error`` sentence).
        """
        url = f"{self.settings.api_url}{route}"
        try:
            response = self._session.request(method, url, json=body, headers=headers, timeout=self.settings.timeout_s)
        except requests.Timeout:
            logger.warning("The API at %s did not answer within %s s.", url, self.settings.timeout_s)
            raise ApiUnavailableError(
                "The sentiment service did not answer in time. Please try again in a moment."
            ) from None
        except requests.RequestException as exc:
            logger.warning("The API at %s cannot be reached: %s", url, type(exc).__name__)
            raise ApiUnavailableError(
                "The sentiment service cannot be reached right now. Please try again in a moment."
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.ok:
            message = answer.get("error") if isinstance(answer, dict) else None
            raise ApiAnswerError(
                response.status_code,
                str(message) if message else f"The sentiment service answered with status {response.status_code}.",
            )
        if not isinstance(answer, dict):
            raise ApiUnavailableError("The sentiment service sent an answer this page cannot read.")
        return answer

    def predict(self, text: str) -> Prediction:
        """Score one tweet; its threshold is the answer's own, else the one ``GET /model`` gives for its model.

        Raises:
            ApiUnavailableError: the API cannot be reached or answered something unreadable.
            ApiAnswerError: the API refused the text or has no model (its sentence).
        """
        answer = self._post("/predict", {"text": text})
        try:
            prediction = Prediction(
                prediction_id=str(answer["prediction_id"]),
                label=str(answer["label"]),
                probability_negative=float(answer["probability_negative"]),
                model_name=str(answer["model"]["name"]),
                model_version=str(answer["model"]["version"]),
                threshold=_threshold(answer.get("threshold")),
            )
        except (KeyError, TypeError, ValueError):
            raise ApiUnavailableError("The sentiment service sent an answer this page cannot read.") from None
        if prediction.threshold is None:
            threshold = self.threshold_of(prediction.model_name, prediction.model_version)
            prediction = replace(prediction, threshold=threshold)
        return prediction

    def threshold_of(self, model_name: str, model_version: str) -> float | None:
        """The decision threshold of one model version, as ``GET /model`` reports it (remembered per version).

        Returns:
            The threshold; ``None`` when the API cannot tell (unreachable, no threshold recorded, or it now
            serves another version: a reload happened since the prediction).
        """
        key = (model_name, model_version)
        if key in self._thresholds:
            return self._thresholds[key]
        try:
            answer = self._request("GET", "/model")
        except ClientError as error:
            logger.warning("No decision threshold for %s v%s: %s", model_name, model_version, error)
            return None
        if (str(answer.get("name")), str(answer.get("version"))) != key:
            return None
        self._thresholds[key] = _threshold(answer.get("threshold"))
        return self._thresholds[key]

    def explain(self, text: str) -> Explanation:
        """Which words of one tweet pushed it towards negative or positive.

        Raises:
            ApiUnavailableError: the API cannot be reached or answered something unreadable.
            ApiAnswerError: the API refused the text or has no model (its sentence).
        """
        answer = self._post("/explain", {"text": text})
        try:
            words = tuple(
                WordPush(str(t["token"]), int(t["start"]), int(t["end"]), float(t["weight"])) for t in answer["tokens"]
            )
            model = answer.get("model")
            model = (str(model["name"]), str(model["version"])) if isinstance(model, dict) else None
            return Explanation(method=str(answer["method"]), words=words, model=model)
        except (KeyError, TypeError, ValueError):
            raise ApiUnavailableError("The sentiment service sent an answer this page cannot read.") from None

    def send_feedback(self, prediction_id: str, correct_label: str) -> None:
        """Record the correct label of a served prediction (sends ``X-API-Key``).

        Raises:
            ApiUnavailableError: the API cannot be reached.
            ApiAnswerError: the API refused the feedback (its sentence, e.g. a wrong key).
        """
        headers = {"X-API-Key": self.settings.api_key or ""}
        self._post("/feedback", {"prediction_id": prediction_id, "correct_label": correct_label}, headers)
