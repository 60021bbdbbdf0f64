"""The API in its own process: imports only what a TF-IDF champion needs; gunicorn serves it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.config import PROJECT_ROOT
from core.tracking.setup import resolve_tracking_uri
from tests.api.conftest import API_KEY
from tests.harness import request, serving_api

FORBIDDEN = ("console", "client_app", "tensorflow", "torch", "keras", "transformers")

_PROBE = f"""
import sys
from api import create_app
client = create_app().test_client()
assert client.get("/ready").status_code == 200, client.get("/ready").get_json()
assert client.post("/predict", json={{"text": "lost my bag"}}).status_code == 200
print(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r}))
"""


def _env(tracking, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MLFLOW_TRACKING_URI=resolve_tracking_uri(tracking),
        API_FEEDBACK_DB=str(tmp_path / "feedback.db"),
        API_KEY=API_KEY,
    )
    return env


def test_serving_a_tfidf_champion_imports_no_ui_or_deep_learning_framework(tracking, tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=PROJECT_ROOT,
        env=_env(tracking, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_gunicorn_serves_the_app(tracking, tmp_path) -> None:
    log = tmp_path / "gunicorn.log"
    with serving_api(_env(tracking, tmp_path), log, workers=1, threads=1, cwd=PROJECT_ROOT) as (base, _):
        status, body = request(f"{base}/predict", {"texts": ["lost my bag again", "great crew, thanks"]}, timeout=30)
        assert status == 200 and [p["label"] for p in body["predictions"]] == ["negative", "positive"]
        status, body = request(f"{base}/predict", {"text": ""}, timeout=30)
        assert status == 422 and "empty" in body["error"]
    assert API_KEY not in log.read_text()
