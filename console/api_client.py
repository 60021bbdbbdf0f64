"""The two calls the console makes to the prediction API, over HTTP (it never imports ``api``):
``POST /model/reload`` after a promotion, then ``GET /model`` to show what the API now serves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from core.errors import CoreError

RELOAD_TIMEOUT_S = 120.0
"""Loading a model can take a while (a BERT from the registry: tens of seconds on 2 cores)."""


class ApiCallError(CoreError):
    """The API could not be reached, or refused or failed the call."""


def _call(url: str, method: str, api_key: str | None, timeout_s: float) -> dict[str, Any]:
    headers = {"Accept": "application/json", **({"X-API-Key": api_key} if api_key else {})}
    request = urllib.request.Request(url, method=method, headers=headers, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read() or b"{}").get("error") or exc.reason
        except (ValueError, AttributeError):
            reason = exc.reason
        raise ApiCallError(f"{method} {url} answered {exc.code}: {reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiCallError(f"{method} {url} failed: {reason}") from None


def reload_served_model(api_url: str, api_key: str, timeout_s: float = RELOAD_TIMEOUT_S) -> dict[str, Any]:
    """Ask the API to load the registry's current model, then read back what it serves.

    Args:
        api_url: the API's base URL (``http://127.0.0.1:8000``).
        api_key: its ``X-API-Key`` (the reload route requires it).
        timeout_s: how long the reload may take.

    Returns:
        The API's ``GET /model`` answer after the reload (``name``, ``version``, ``family``, ...).

    Raises:
        ApiCallError: the API is unreachable, refused the key, or failed to load the model.
    """
    base = api_url.rstrip("/")
    _call(f"{base}/model/reload", "POST", api_key, timeout_s)
    return _call(f"{base}/model", "GET", None, 10.0)
