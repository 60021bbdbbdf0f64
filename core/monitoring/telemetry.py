"""Application Insights telemetry through OpenTelemetry and ``azure-monitor-opentelemetry-exporter``.

Each served prediction becomes a trace (``traces`` table, message ``prediction``) and each tweet
that feedback flags as misclassified becomes a custom event ``MisclassifiedTweet``
(``customEvents`` table) with the tweet, the predicted label, P(negative), the correct label and
the model version as custom dimensions; the scheduled alert rule in ``infra/`` queries it.

OpenTelemetry, not OpenCensus: Microsoft retired the OpenCensus SDK (``opencensus-ext-azure``)
and points to this exporter. Records go through the SDK's batch processor: emitting one only
appends to a bounded in-memory queue, and a background thread exports them, so telemetry never
slows a request (beyond the queue's 2,048 records, new ones are dropped by the SDK).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.monitoring.event_store import FlaggedError, PredictionRecord

MISCLASSIFIED_EVENT = "MisclassifiedTweet"
"""Name of the custom event of a flagged tweet (the KQL in ``infra/`` filters on it)."""
PREDICTION_MESSAGE = "prediction"
SERVICE_NAME = "air-paradise-sentiment-api"

# The exporter turns a log record carrying this attribute into a custom event of that name.
_CUSTOM_EVENT_ATTRIBUTE = "microsoft.custom_event.name"


class Telemetry:
    """Sends prediction traces and misclassified-tweet events to Application Insights.

    Args:
        connection_string: the resource's connection string (``InstrumentationKey=...;IngestionEndpoint=...``).
        offline_storage: keep failed sends on disk and retry them later (the exporter's default).
        schedule_delay_ms: how often the batch processor exports.

    Raises:
        ValueError: the connection string is malformed (raised by the exporter).
    """

    def __init__(self, connection_string: str, offline_storage: bool = True, schedule_delay_ms: int = 5000) -> None:
        from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter  # lazy: only with a connection string
        from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.resources import Resource

        exporter = AzureMonitorLogExporter(
            connection_string=connection_string, disable_offline_storage=not offline_storage
        )
        self.provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
        self.provider.add_log_record_processor(
            BatchLogRecordProcessor(exporter, schedule_delay_millis=schedule_delay_ms)
        )
        # A private logger: these records go to Azure only, never to the application's log output.
        self.logger = logging.getLogger(f"{__name__}.{id(self):x}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=self.provider))

    def predictions(self, records: Iterable[PredictionRecord]) -> None:
        """One trace per served prediction (no tweet text: volume and privacy)."""
        for r in records:
            self.logger.info(
                PREDICTION_MESSAGE,
                extra={
                    "prediction_id": r.id,
                    "label": r.label,
                    "probability_negative": round(r.probability_negative, 6),
                    "model_name": r.model_name,
                    "model_version": r.model_version,
                    "latency_ms": -1.0 if r.latency_ms is None else round(r.latency_ms, 3),
                    "text_length": r.text_length,
                },
            )

    def misclassified(self, flag: FlaggedError) -> None:
        """One ``MisclassifiedTweet`` custom event (the text only when the store keeps texts)."""
        p = flag.prediction
        self.logger.warning(
            MISCLASSIFIED_EVENT,
            extra={
                _CUSTOM_EVENT_ATTRIBUTE: MISCLASSIFIED_EVENT,
                "prediction_id": p.id,
                "text": p.text if p.text is not None else "",
                "text_sha256": p.text_hash,
                "predicted_label": p.label,
                "correct_label": flag.correct_label,
                "probability_negative": round(p.probability_negative, 6),
                "model_name": p.model_name,
                "model_version": p.model_version,
                "predicted_at": p.created_at,
                "flagged_at": flag.flagged_at,
            },
        )

    def flush(self, timeout_ms: int = 10_000) -> bool:
        """Export everything queued now."""
        return self.provider.force_flush(timeout_ms)

    def close(self) -> None:
        """Flush and stop the exporter."""
        self.provider.shutdown()
