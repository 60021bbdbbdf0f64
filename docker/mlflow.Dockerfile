# The MLflow tracking server of the compose stack: PostgreSQL backend store (psycopg 3), proxied
# artifacts (--serve-artifacts) on a volume, and MLflow's basic-auth app (`--app-name basic-auth`,
# Flask-WTF from mlflow[auth]) with its users in SQLite on a second volume. The admin is created on
# the first start from MLFLOW_AUTH_ADMIN_USERNAME / MLFLOW_AUTH_ADMIN_PASSWORD, and the app needs
# MLFLOW_FLASK_SERVER_SECRET_KEY: docker-compose.yml passes them from .env, with the command line.
#   docker build -f docker/mlflow.Dockerfile -t air-paradise-mlflow .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_AUTH_CONFIG_PATH=/mlflow/basic_auth.ini

WORKDIR /mlflow

COPY requirements-mlflow.txt ./
RUN pip install --no-cache-dir -r requirements-mlflow.txt && pip check

# The basic-auth app's settings (no secret in them): every user it knows may read, the admin may
# do everything; its user store on the auth volume. A login it has checked is trusted for 60 s (per
# worker): without that each request, each artifact file of a model the API loads, costs a password
# hash (~0.25 s); a changed password or a deleted user then takes up to 60 s to reach every worker.
# tests/delivery/test_mlflow_auth.py runs these settings.
RUN groupadd --system --gid 10001 mlflow \
    && useradd --system --uid 10001 --gid mlflow --home-dir /mlflow --no-create-home mlflow \
    && mkdir -p /mlflow/artifacts /mlflow/auth \
    && printf '%s\n' '[mlflow]' 'default_permission = READ' 'database_uri = sqlite:////mlflow/auth/basic_auth.db' \
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth' \
        'auth_cache_ttl_seconds = 60' > "${MLFLOW_AUTH_CONFIG_PATH}" \
    && chown -R mlflow:mlflow /mlflow

USER 10001:10001
VOLUME ["/mlflow/artifacts", "/mlflow/auth"]
EXPOSE 5000

HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]

CMD ["mlflow", "server", "--app-name", "basic-auth", "--host", "0.0.0.0", "--port", "5000", "--artifacts-destination", "/mlflow/artifacts", "--serve-artifacts"]
