"""HTTP client of the prediction API: the only place that knows its routes and JSON shapes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from client_app.errors import ApiAnswerError, ApiUnavailableError
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

    @property
    def confidence(self) -> float:
        """Probability of the predicted label (P(negative) for "negative", else its complement)."""
        return self.probability_negative if self.label == "negative" else 1.0 - self.probability_negative


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

    def _post(self, route: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST JSON and return the JSON answer of a 2xx.

        Raises:
            ApiUnavailableError: no connection, timeout, or an answer that is not JSON.
            ApiAnswerError: the API answered 4xx/5xx (message: its ``error`` sentence).
        """
        url = f"{self.settings.api_url}{route}"
        try:
            response = self._session.post(url, json=body, headers=headers, timeout=self.settings.timeout_s)
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
        """Score one tweet.

        Raises:
            ApiUnavailableError: the API cannot be reached or answered something unreadable.
            ApiAnswerError: the API refused the text or has no model (its sentence).
        """
        answer = self._post("/predict", {"text": text})
        try:
            return Prediction(
                prediction_id=str(answer["prediction_id"]),
                label=str(answer["label"]),
                probability_negative=float(answer["probability_negative"]),
                model_name=str(answer["model"]["name"]),
                model_version=str(answer["model"]["version"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ApiUnavailableError("The sentiment service sent an answer this page cannot read.") from None

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
            return Explanation(method=str(answer["method"]), words=words)
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
