"""The Swagger UI at ``/docs``: a page whose every asset the app serves itself (it works offline), no API key."""

from __future__ import annotations

import re

import pytest

EXPECTED_ASSETS = {
    "/docs/index.css": "text/css",
    "/docs/swagger-ui.css": "text/css",
    "/docs/favicon-32x32.png": "image/png",
    "/docs/favicon-16x16.png": "image/png",
    "/docs/swagger-ui-bundle.js": "text/javascript",
    "/docs/swagger-ui-standalone-preset.js": "text/javascript",
}


def _page(client, path: str = "/docs") -> str:
    response = client.get(path)  # no X-API-Key header: the page is public, as the document is
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_docs_page_references_only_assets_the_app_serves(client) -> None:
    html = _page(client)
    assets = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert assets == set(EXPECTED_ASSETS)
    for url in re.findall(r"""https?://[^"'\s]+""", html):  # the only absolute URL: the OAuth redirect, here
        assert url.startswith("http://localhost/docs/"), url
    for asset, mimetype in EXPECTED_ASSETS.items():
        response = client.get(asset)
        assert response.status_code == 200 and response.mimetype == mimetype, asset
        assert len(response.data) > 100, asset
    assert b"SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js").data


def test_docs_page_shows_the_served_document_without_the_online_validator(client) -> None:
    html = _page(client)
    config = re.search(r"var user_config = (\{.*?\});", html)
    assert config, html
    assert '"url": "/openapi.json"' in config.group(1) and '"validatorUrl": null' in config.group(1)
    assert client.get("/openapi.json").status_code == 200  # what the page loads, also without the key


def test_docs_with_a_trailing_slash_is_the_same_page(client) -> None:
    assert _page(client, "/docs/") == _page(client, "/docs")


@pytest.mark.parametrize("path", ["/docs/nope.js", "/docs/../api/app.py", "/docs/%2e%2e/api/app.py"])
def test_docs_serves_no_other_file(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.get_json() == {"error": "No such route."}


def test_docs_refuses_writes(client) -> None:
    response = client.post("/docs", json={})
    assert response.status_code == 405
    assert response.get_json() == {"error": "This route does not accept that method."}
