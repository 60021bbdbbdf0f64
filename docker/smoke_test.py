"""Smoke test of a deployed prediction API: waits for ``/ready``, then checks ``/predict`` and ``/model``.

Run by the CD workflow after each deployment (standard library only, so it runs on the bare
runner)::

    python3 docker/smoke_test.py https://<app>.azurecontainerapps.io --timeout 600

Exit code 0 when the API is ready, answers a real label and P(negative) in [0, 1] for a
negative and a positive tweet, and names the model version it serves; 1 otherwise, with one
``smoke test failed: ...`` line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

LABELS = ("negative", "positive")
TWEETS = ("my flight was delayed again and they lost my bag", "great crew, smooth flight, thank you!")


class SmokeTestError(RuntimeError):
    """The deployed API did not behave as expected."""


def _call(url: str, body: dict[str, Any] | None = None, timeout: float = 10.0) -> tuple[int, Any]:
    """One HTTP request; returns (status, decoded JSON or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"null")
        except ValueError:
            return exc.code, None


def wait_ready(base_url: str, timeout_s: float, poll_s: float = 2.0) -> dict[str, Any]:
    """Poll ``/ready`` until it answers 200 or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, body = _call(f"{base_url}/ready")
            if status == 200:
                return body
            last = f"{status} {body}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(poll_s)
    raise SmokeTestError(f"{base_url}/ready not 200 within {timeout_s:.0f} s (last: {last})")


def check_predictions(base_url: str) -> list[dict[str, Any]]:
    """``POST /predict`` with a batch of two tweets: valid labels and probabilities."""
    status, body = _call(f"{base_url}/predict", {"texts": list(TWEETS)})
    if status != 200:
        raise SmokeTestError(f"POST /predict answered {status}: {body}")
    predictions = body.get("predictions") if isinstance(body, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(TWEETS):
        raise SmokeTestError(f"POST /predict returned no prediction list: {body}")
    for prediction in predictions:
        if prediction.get("label") not in LABELS:
            raise SmokeTestError(f"unexpected label in {prediction}")
        probability = prediction.get("probability_negative")
        if not isinstance(probability, int | float) or not 0.0 <= probability <= 1.0:
            raise SmokeTestError(f"P(negative) outside [0, 1] in {prediction}")
    return predictions


def check_model(base_url: str) -> dict[str, Any]:
    """``GET /model`` names the registered model and version being served."""
    status, body = _call(f"{base_url}/model")
    if status != 200 or not isinstance(body, dict) or not body.get("version"):
        raise SmokeTestError(f"GET /model answered {status}: {body}")
    return body


def run(base_url: str, timeout_s: float) -> dict[str, Any]:
    """All checks; returns a summary for the log."""
    base_url = base_url.rstrip("/")
    wait_ready(base_url, timeout_s)
    predictions = check_predictions(base_url)
    model = check_model(base_url)
    return {
        "url": base_url,
        "model": f"{model.get('name')} v{model.get('version')}",
        "family": model.get("family"),
        "labels": [p["label"] for p in predictions],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the API's base URL, e.g. https://api.example.net")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for /ready (default 300)")
    args = parser.parse_args(argv)
    try:
        summary = run(args.base_url, args.timeout)
    except SmokeTestError as exc:
        print(f"smoke test failed: {exc}", file=sys.stderr)
        return 1
    print(f"smoke test passed: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
