# The Streamlit experiment console (console/ + core/): it launches trainings of every model
# family, so it carries the whole of requirements.txt (TensorFlow and PyTorch, CPU builds).
# The data comes from a read-only volume mounted at /shared (core reads /shared/data and
# /shared/nltk_data, i.e. ../shared next to the project folder /app).
#   docker build -f docker/console.Dockerfile -t air-paradise-console .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false

WORKDIR /app

# The runtime pins (requirements.txt; the test and lint tools are in requirements-dev.txt);
# PyTorch's CPU wheels (the default index's Linux wheels pull the CUDA libraries, gigabytes).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY requirements.txt ./
RUN pip install --no-cache-dir --extra-index-url "${TORCH_INDEX}" -r requirements.txt

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /app/.cache /app/reports /app/.mlflow \
    && chown -R app:app /app

COPY core/ core/
COPY console/ console/

USER 10001:10001
EXPOSE 8501

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "console/app.py", "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
