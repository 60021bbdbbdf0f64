"""Every request and response body of the API as a pydantic v2 model: the one typed place that the OpenAPI
document (:mod:`api.openapi`) is generated from and that the routes (:mod:`api.routes`) shape their answers with.

Requests are checked by :mod:`api.validation`, whose sentences and strict JSON checks (a key named twice, nesting
too deep, NUL characters, unpaired surrogates) are the API's contract and which pydantic cannot reproduce; the
request models here state the same rules for the document, and ``tests/api/test_openapi.py`` proves that the
validator, these models and the generated schema accept and refuse the same bodies. The text and batch limits are
the API settings', so the request models are built per limits by :func:`request_models`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    RootModel,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from core.monitoring.event_store import LABELS

MAX_PREDICTION_ID_LENGTH = 64
"""Served ids are 32 hex digits; the store's column holds 64."""

_NOT_BLANK = "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
TEXT_PATTERN = "^[^\\x00]*" + _NOT_BLANK.replace("[^", "[^\\x00") + "[^\\x00]*$"
"""No NUL character, and at least one that is not white space (Python's ``str.isspace``, spelled out so that
ECMA, Rust and Python regular expressions agree)."""

Label = Literal[LABELS]  # ("negative", "positive")
Probability = Annotated[float, Field(ge=0, le=1)]
IsoDateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An ISO 8601 timestamp, served as the store wrote it."""


# --- requests ----------------------------------------------------------------------------------------------------


def _refuse_together(schema: dict[str, Any], cls: type) -> None:
    schema["not"] = {"required": [cls.refused]}


class _OneOfTextOrTexts(BaseModel):
    """A body naming ``text`` or ``texts``, never both (the server refuses both: neither wins)."""

    model_config = ConfigDict(json_schema_extra=_refuse_together)
    refused: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _not_both(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.refused in data:
            raise ValueError("Send exactly one of 'text' (a string) or 'texts' (a list of strings).")
        return data


@dataclass(frozen=True)
class RequestModels:
    """The request models of one pair of limits (see :func:`request_models`)."""

    predict: type[RootModel]
    explain: type[BaseModel]
    feedback: type[BaseModel]


@functools.cache
def request_models(max_text_length: int, max_batch_size: int) -> RequestModels:
    """The request bodies with the API's limits (``ApiSettings.max_text_length`` and ``max_batch_size``).

    Built once per pair of limits (cached): the classes carry the limits in their field constraints, so the
    generated schema says what the server enforces.
    """
    Tweet = Annotated[str, StringConstraints(min_length=1, max_length=max_text_length, pattern=TEXT_PATTERN)]

    class PredictText(_OneOfTextOrTexts):
        """One tweet."""

        refused: ClassVar[str] = "texts"
        text: Tweet

    class PredictBatch(_OneOfTextOrTexts):
        """A batch of tweets; the answers come in the same order."""

        refused: ClassVar[str] = "text"
        texts: Annotated[list[Tweet], Field(min_length=1, max_length=max_batch_size)]

    class PredictRequest(RootModel[PredictText | PredictBatch]):
        """Exactly one of `text` or `texts`."""

    class ExplainRequest(PredictText):
        """One tweet (`texts` is refused: one tweet at a time)."""

    return RequestModels(predict=PredictRequest, explain=ExplainRequest, feedback=FeedbackRequest)


class FeedbackRequest(BaseModel):
    """The correct label of a served prediction."""

    prediction_id: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_PREDICTION_ID_LENGTH, pattern=TEXT_PATTERN)
    ]
    correct_label: Label


# --- responses ---------------------------------------------------------------------------------------------------


class Error(BaseModel):
    """Every failure: 4xx for what the client sent, 5xx for the server."""

    error: str = Field(description="One sentence saying what went wrong.")


class ModelRef(BaseModel):
    """Which registered model version answered."""

    name: str
    version: str


class Prediction(BaseModel):
    """The sentiment of one tweet; `prediction_id` is what `/feedback` refers to."""

    label: Label
    probability_negative: Probability
    model: ModelRef
    prediction_id: str


class PredictionBatch(BaseModel):
    """The predictions of a batch, in the order of `texts`."""

    predictions: list[Prediction]


class TokenWeight(BaseModel):
    """`token` is `text[start:end]` (offsets in Unicode code points)."""

    token: str
    start: NonNegativeInt
    end: Annotated[int, Field(ge=1)]
    weight: float


class Explanation(BaseModel):
    """Weights are in logit units of P(negative): > 0 pushes towards negative, < 0 towards positive. `linear`
    (TF-IDF family): exact shares, `base_value` (the intercept) + the weights = `logit`. `occlusion` (other
    families): the logit drop when the token alone is removed; `base_value`: the logit with every token removed.
    `logit` is the model's score before calibration; `probability_negative` and `label` are the served
    (calibrated) ones, as `/predict` answers them."""

    label: Label
    probability_negative: Probability
    model: ModelRef
    method: Literal["linear", "occlusion"]
    tokens: list[TokenWeight]
    logit: float
    base_value: float | None


class Health(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class Ready(BaseModel):
    """A model is loaded and answers."""

    status: Literal["ready"]
    model: ModelRef


class SelectionMetric(BaseModel):
    """The metric the model was selected on, where it was read, and its value."""

    name: str | None
    split: str
    value: float | None


class ModelInfo(BaseModel):
    """The served model: registry identity and the facts of its training run."""

    name: str
    version: str
    run_id: str | None
    family: str | None
    preprocessing: str | None
    threshold: float | None
    metric: SelectionMetric
    trained_at: IsoDateTime | None
    runtime: Literal["native", "onnx", "onnx_int8", "mixed"] | None = Field(
        description="What scores tweets in this process (ONNX Runtime or the family's own framework; "
        "mixed: an ensemble whose members run on different ones)."
    )


class Reloaded(BaseModel):
    """The reload succeeded: the new model answers from now on."""

    status: Literal["reloaded"]
    previous_version: str | None
    model: ModelRef


class FeedbackRecorded(BaseModel):
    """The feedback as stored (committed before this answer)."""

    feedback_id: int
    prediction_id: str
    correct_label: Label
    prediction_was_correct: bool
    recorded_at: IsoDateTime


class EventCounters(BaseModel):
    """This worker's prediction events: waiting, stored, dropped (queue full), failed."""

    queued: NonNegativeInt
    written: NonNegativeInt
    dropped: NonNegativeInt
    failed: NonNegativeInt


class Monitoring(BaseModel):
    """Prediction-event counters and the monitoring outputs in use."""

    events: EventCounters
    telemetry: bool = Field(description="Application Insights is configured.")
    alert_channels: list[Literal["mail", "webhook"]]


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
