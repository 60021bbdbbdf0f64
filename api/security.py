"""Access control around the routes: API key check, per-client rate limit, CORS and response headers.

Everything here is per process: each gunicorn worker keeps its own rate-limit buckets, so a
client may get up to ``workers x limit`` requests a minute through (documented in
``docs/reliability.md``); one worker with threads, the recommended set-up, enforces it exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Request, Response, request

from api.errors import error_response

UNLIMITED_PATHS = frozenset({"/health", "/ready"})
"""Probes of the orchestrator are never limited (a limited probe would restart a healthy API)."""

_CORS_METHODS = "GET, POST"
_CORS_HEADERS = "Content-Type, X-API-Key"


def key_matches(given: str | None, expected: str | None) -> bool:
    """Whether the presented key equals the configured one, compared in constant time.

    Both sides are hashed first, so neither the comparison time nor an early length check says
    anything about the secret. No configured key means no key matches.
    """
    if not expected or not given:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest(),
    )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client: ``per_minute`` requests a minute on average, bursts up to ``burst``.

    Args:
        per_minute: sustained rate (``0``: no limit).
        burst: bucket size, the most requests a client may send at once.
        max_clients: buckets kept at most; the least recently seen client is forgotten first
            (an attacker cycling through addresses cannot exhaust memory).
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, per_minute: int, burst: int, max_clients: int = 100_000, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether any limit applies."""
        return self.rate > 0

    def acquire(self, client: str) -> float | None:
        """Take one request from ``client``'s bucket.

        Returns:
            ``None`` when the request may go ahead, else the seconds until it would be allowed.
        """
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[client] = bucket  # most recently seen last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self.rate


def client_identity(req: Request, api_key: str | None) -> str:
    """Whom a request is counted against: the API key when it presents the valid one, else its address.

    A wrong or made-up key counts against the address, so inventing keys never buys more requests.
    """
    if key_matches(req.headers.get("X-API-Key"), api_key):
        return "key"
    return f"ip:{req.remote_addr or 'unknown'}"


def install(
    app: Flask, limiter: RateLimiter, api_key: str | None, cors_origins: tuple[str, ...], trusted_proxies: int = 0
) -> None:
    """Add the rate limit, CORS and security headers to ``app``.

    Args:
        app: the API.
        limiter: the per-client rate limit.
        api_key: the configured key (requests presenting it share one bucket).
        cors_origins: origins a browser may call the API from (exact ``scheme://host[:port]``);
            empty: no cross-origin call is allowed.
        trusted_proxies: reverse proxies in front of the API whose ``X-Forwarded-For`` is trusted
            to give the client's address (``0``: use the socket's address).
    """
    if trusted_proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies)
    allowed = frozenset(cors_origins)

    @app.before_request
    def _rate_limit():
        if request.path in UNLIMITED_PATHS or request.method == "OPTIONS":
            return None
        wait = limiter.acquire(client_identity(request, api_key))
        if wait is None:
            return None
        seconds = max(1, math.ceil(wait))
        response, status = error_response(429, f"Too many requests; retry after {seconds} s.")
        response.headers["Retry-After"] = str(seconds)
        return response, status

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        origin = request.headers.get("Origin")
        if allowed:
            response.vary.add("Origin")
        if origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = _CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        return response
