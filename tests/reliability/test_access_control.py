"""Access control: the API key (constant-time, from the environment or a secrets file), the per-client
rate limit (429 + Retry-After), CORS restricted to the client app's origin, and no secret or tweet in logs."""

from __future__ import annotations

import logging

import pytest

from api import ApiSettings, create_app
from api.security import RateLimiter, key_matches
from core.errors import ConfigError
from tests.api.conftest import API_KEY, make_settings
from tests.reliability.conftest import KEY

CLIENT_ORIGIN = "https://client.airparadise.example"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": ""}, {"X-API-Key": "wrong"}, {"X-API-Key": API_KEY + "x"}, {"X-API-Key": API_KEY[:-1]}],
    ids=["none", "empty", "wrong", "longer", "prefix"],
)
def test_write_routes_refuse_a_missing_or_wrong_key(client, headers: dict) -> None:
    served = client.post("/predict", json={"text": "lost my bag"}).get_json()
    for path, body in (
        ("/feedback", {"prediction_id": served["prediction_id"], "correct_label": "positive"}),
        ("/model/reload", None),
    ):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.get_json() == {"error": "A valid API key is required in the X-API-Key header."}
    ok = client.post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": "positive"}, headers=KEY
    )
    assert ok.status_code == 201


def test_key_comparison_is_constant_time_over_digests() -> None:
    # hmac.compare_digest over SHA-256 digests: same length whatever was sent, no early exit on a prefix
    assert key_matches("s3cret", "s3cret") and not key_matches("s3cre", "s3cret") and not key_matches("", "")
    assert not key_matches("anything", None) and not key_matches(None, "s3cret")
    assert not key_matches("\ud800", "s3cret")  # an unencodable header value is just a wrong key


def test_no_key_configured_refuses_every_write(tracking, tmp_path) -> None:
    client = create_app(ApiSettings(tracking=tracking, feedback_db=tmp_path / "f.db")).test_client()
    assert client.post("/model/reload", headers={"X-API-Key": ""}).status_code == 401


def test_key_comes_from_the_environment_or_a_secrets_file(tmp_path) -> None:
    secret = tmp_path / "api_key"
    secret.write_text("from-a-file-123\n")
    assert ApiSettings.from_env({"API_KEY_FILE": str(secret)}).api_key == "from-a-file-123"
    assert ApiSettings.from_env({"API_KEY": "from-env"}).api_key == "from-env"
    assert "from-a-file-123" not in repr(ApiSettings.from_env({"API_KEY_FILE": str(secret)}))
    with pytest.raises(ConfigError, match="not both"):
        ApiSettings.from_env({"API_KEY": "a", "API_KEY_FILE": str(secret)})
    with pytest.raises(ConfigError, match="cannot be read"):
        ApiSettings.from_env({"API_KEY_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        ApiSettings.from_env({"API_KEY_FILE": str(tmp_path / "empty")})
    with pytest.raises(ConfigError, match="no '\\*'"):
        ApiSettings.from_env({"API_CORS_ORIGINS": "*"})


def test_rate_limit_answers_429_with_retry_after_per_client(tracking, tmp_path) -> None:
    settings = make_settings(tracking, tmp_path / "f.db", rate_limit_per_minute=60, rate_limit_burst=3)
    client = create_app(settings).test_client()
    here, there = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    answers = [client.post("/predict", json={"text": "late again"}, environ_base=here) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.get_json() == {"error": "Too many requests; retry after 1 s."}
    assert refused.headers["Retry-After"] == "1"
    assert client.post("/predict", json={"text": "late again"}, environ_base=there).status_code == 200  # own bucket
    assert client.get("/health", environ_base=here).status_code == 200  # probes are never limited
    assert client.get("/ready", environ_base=here).status_code == 200
    # a valid key is counted on its own; made-up keys count against the address (no escape by inventing keys)
    assert client.post("/model/reload", headers={"X-API-Key": "made-up"}, environ_base=here).status_code == 429
    assert client.post("/model/reload", headers=KEY, environ_base=here).status_code == 200


def test_rate_limiter_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=120, burst=2, max_clients=2, clock=lambda: now[0])
    assert limiter.acquire("a") is None and limiter.acquire("a") is None
    assert limiter.acquire("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.acquire("a") is None
    for name in ("b", "c", "d"):  # bounded memory: the least recently seen client is forgotten
        limiter.acquire(name)
    assert len(limiter._buckets) == 2
    assert RateLimiter(per_minute=0, burst=1).acquire("x") is None  # 0: no limit


def test_cors_allows_only_the_client_apps_origin(tracking, tmp_path) -> None:
    settings = make_settings(tracking, tmp_path / "f.db", cors_origins=(CLIENT_ORIGIN,))
    client = create_app(settings).test_client()
    allowed = client.post("/predict", json={"text": "hi"}, headers={"Origin": CLIENT_ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == CLIENT_ORIGIN and "Origin" in allowed.headers["Vary"]
    other = client.post("/predict", json={"text": "hi"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/feedback",
        headers={
            "Origin": CLIENT_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == CLIENT_ORIGIN
    assert "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]
    evil_preflight = client.options(
        "/feedback", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in evil_preflight.headers
    assert allowed.headers["X-Content-Type-Options"] == "nosniff"
    default = create_app(make_settings(tracking, tmp_path / "g.db")).test_client()  # no origin configured: none allowed
    assert (
        "Access-Control-Allow-Origin"
        not in default.post("/predict", json={"text": "hi"}, headers={"Origin": CLIENT_ORIGIN}).headers
    )


def test_no_secret_or_tweet_text_in_logs_at_info(tracking, tmp_path, caplog) -> None:
    tweet = "my very private complaint about flight AP1234 and seat 17C"
    caplog.set_level(logging.INFO)
    client = create_app(make_settings(tracking, tmp_path / "f.db")).test_client()
    served = client.post("/predict", json={"text": tweet}).get_json()
    client.post("/predict", json={"texts": [tweet, tweet + "!"]})
    client.post("/explain", json={"text": tweet})
    client.post("/predict", json={"text": tweet * 50})  # too long: 422
    client.post("/feedback", json={"prediction_id": served["prediction_id"], "correct_label": "positive"}, headers=KEY)
    client.post("/feedback", json={"prediction_id": served["prediction_id"]}, headers={"X-API-Key": "guess-" + API_KEY})
    client.post("/model/reload", headers=KEY)
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert caplog.records, "expected some INFO logs (model loaded, ...)"
    assert API_KEY not in logged
    assert "private complaint" not in logged and "AP1234" not in logged
