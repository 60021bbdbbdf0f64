# The MLflow tracking server of the compose stack: PostgreSQL backend store (psycopg 3) and
# proxied artifacts (--serve-artifacts) on a volume. The command line lives in docker-compose.yml.
#   docker build -f docker/mlflow.Dockerfile -t air-paradise-mlflow .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /mlflow

COPY requirements-mlflow.txt ./
RUN pip install --no-cache-dir -r requirements-mlflow.txt && pip check

RUN groupadd --system --gid 10001 mlflow \
    && useradd --system --uid 10001 --gid mlflow --home-dir /mlflow --no-create-home mlflow \
    && mkdir -p /mlflow/artifacts \
    && chown -R mlflow:mlflow /mlflow

USER 10001:10001
VOLUME ["/mlflow/artifacts"]
EXPOSE 5000

HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]

CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--artifacts-destination", "/mlflow/artifacts", "--serve-artifacts"]
