"""HTTP prediction API of the Air Paradise tweet sentiment product (Flask, served by gunicorn).

Run::

    MLFLOW_TRACKING_URI=sqlite:////path/to/.mlflow/mlflow.db API_KEY=... \\
        gunicorn -b 0.0.0.0:8000 "api:create_app()"

Without ``MLFLOW_TRACKING_URI`` the embedded store of ``python -m core train`` (``.mlflow/``)
is used. The model (default: alias ``champion`` of ``air-paradise-sentiment``) is loaded once
at start; the app starts even when none can be loaded, answering 503 on ``/ready``,
``/predict`` and ``/model`` until ``POST /model/reload`` succeeds.

Environment (all optional): ``MLFLOW_TRACKING_URI``; ``API_REGISTERED_MODEL``;
``API_MODEL_ALIAS`` or ``API_MODEL_VERSION`` (pins a version); ``API_MODEL_RUNTIME`` (``auto``:
ONNX Runtime on the fastest export, int8 first, else its framework; ``native``, ``onnx``,
``onnx_int8``); ``API_KEY`` (secret for ``X-API-Key``; unset: write routes answer 401; never
logged; or ``API_KEY_FILE``, a secrets file); ``API_RATE_LIMIT_PER_MINUTE`` (6000 per client and worker, 0: off),
``API_RATE_LIMIT_BURST`` (200), ``API_TRUSTED_PROXIES`` (0), ``API_CORS_ORIGINS`` (the client app's origin;
unset: no cross-origin calls); ``API_MAX_TEXT_LENGTH`` (1000 chars); ``API_MAX_BATCH_SIZE`` (256);
``API_MAX_BODY_BYTES`` (1,000,000 -> 413);
``API_FEEDBACK_DB`` (SQLite file of predictions and feedback, default ``.data/feedback.db``);
monitoring (event store URL, privacy, Application Insights, alert rule, mail and webhook):
:meth:`core.monitoring.settings.MonitoringConfig.from_env`.

Routes (full schema: ``GET /openapi.json``, browsable at ``GET /docs``)::

    POST /predict        {"text": "..."} -> {"label", "probability_negative", "model": {"name", "version"},
                         "prediction_id"};  {"texts": [...]} -> {"predictions": [...same, in order]}
    GET  /health         200 while the process runs
    GET  /ready          200 {"status": "ready", "model"} | 503 {"error"}
    GET  /model          name, version, family, preprocessing, threshold, metric {name, split, value}, trained_at,
                         runtime
    POST /feedback       X-API-Key; {"prediction_id", "correct_label"} -> 201 (committed before answering)
    POST /model/reload   X-API-Key; switch to the current champion; on failure 503, old model kept
    GET  /monitoring     prediction-event counters (queued, written, dropped, failed), outputs in use
    GET  /openapi.json   OpenAPI 3.1 document, generated from api/schemas.py with these settings' limits
    GET  /docs           Swagger UI of that document (assets served by the app: works offline; no API key)

Errors are JSON ``{"error": "<one sentence>"}``: 400 malformed JSON; 422 missing field, wrong
type, empty/whitespace text, text too long, empty or oversized batch, bad label; 413 body too
large; 415 not ``application/json``; 401 API key; 404 unknown route or prediction id; 405
wrong method; 429 rate limit (``Retry-After``); 503 no model; 500 only for server faults (logged).

Workers: each gunicorn worker process holds its own model, and ``POST /model/reload`` reaches
only the worker that answers it. Run one worker with threads (``-w 1 --threads 8``, the TF-IDF
model is fast), or reload every worker with ``kill -HUP <gunicorn master pid>``.

Example::

    curl -s localhost:8000/predict -H 'Content-Type: application/json' -d '{"text": "lost my bag again"}'
"""

from api.app import create_app
from api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
