# The prediction API (api/ + core/): Flask under gunicorn, with only what serving a scikit-learn
# (TF-IDF) champion needs (requirements-api.txt, a subset of requirements.txt's pins).
# The model is NOT baked in: the API loads the registry's `champion` at start from the MLflow
# server named by $MLFLOW_TRACKING_URI, and POST /model/reload switches to a newly promoted one.
#   docker build -f docker/api.Dockerfile -t air-paradise-api .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NLTK_DATA=/opt/nltk_data \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false \
    API_FEEDBACK_DB=/data/feedback.db

WORKDIR /app

COPY requirements-api.txt ./
RUN pip install --no-cache-dir -r requirements-api.txt && pip check

# WordNet for the `lemmatize` preprocessing, fetched while building (never at run time).
ARG NLTK_PACKAGES=wordnet
RUN python -m nltk.downloader -q -d /opt/nltk_data ${NLTK_PACKAGES}

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /data \
    && chown app:app /data

# Only what serving needs: no training, retraining or CLI code. The delivery test
# (tests/delivery/test_deployment_path.py) starts the API from exactly these files.
COPY core/__init__.py core/errors.py core/
COPY core/config/ core/config/
COPY core/data/ core/data/
COPY core/evaluation/ core/evaluation/
COPY core/models/ core/models/
COPY core/explanations/ core/explanations/
COPY core/tracking/ core/tracking/
COPY core/serving/ core/serving/
COPY core/monitoring/ core/monitoring/
COPY api/ api/

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# /health answers while the process runs; /ready (503 until a model is loaded) is for the platform.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# One worker (one model in memory) with threads; `kill -HUP 1` reloads the model in every worker.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "1", "--threads", "8", "--timeout", "120", "--access-logfile", "-", "api:create_app()"]
