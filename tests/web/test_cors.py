"""CORS: reflection, credentials only for trusted origins, preflights answered directly."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from memos.profile import Profile
from memos.web import echo_exception_handlers, web_middleware, web_routes
from memos.web.cors import is_trusted_origin

INSTANCE_URL = "https://memos.example.com/app"


async def api(scope, receive, send):
    # Like the REST gateway: one mount that takes every method.
    await JSONResponse({"method": scope["method"]})(scope, receive, send)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    profile = Profile(data=str(tmp_path), dsn="x", instance_url=INSTANCE_URL)
    app = Starlette(
        routes=[
            *web_routes(profile),
            Mount("/api/v1", app=api),
            Mount("/sub", routes=[Route("/only-post", api, methods=["POST"])]),
        ],
        middleware=web_middleware(profile, static_dir=tmp_path),
        exception_handlers=echo_exception_handlers(),
    )
    return TestClient(app, base_url="http://localhost:8081")


def preflight(client: TestClient, path: str, origin: str | None, **extra: str):
    headers = {"Access-Control-Request-Method": "POST", **extra}
    if origin is not None:
        headers["Origin"] = origin
    return client.options(path, headers=headers)


def test_preflight_from_instance_url_origin_allows_credentials(client: TestClient) -> None:
    response = preflight(client, "/api/v1/memos", "https://memos.example.com")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://memos.example.com"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert response.headers["vary"] == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    assert "access-control-max-age" not in response.headers


def test_preflight_from_unrelated_origin_reflects_without_credentials(client: TestClient) -> None:
    response = preflight(client, "/api/v1/memos", "https://evil.example")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://evil.example"
    assert "access-control-allow-credentials" not in response.headers


def test_preflight_echoes_requested_headers(client: TestClient) -> None:
    response = preflight(
        client,
        "/api/v1/memos",
        "https://third.party",
        **{"Access-Control-Request-Headers": "authorization,content-type"},
    )
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_preflight_with_null_origin_reflects_nothing(client: TestClient) -> None:
    response = preflight(client, "/api/v1/memos", "null")
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_options_without_origin_is_204_without_cors_headers(client: TestClient) -> None:
    response = preflight(client, "/api/v1/memos", None)
    assert response.status_code == 204
    assert not [name for name in response.headers if name.startswith("access-control-")]
    assert response.headers["vary"] == "Origin"


def test_preflight_on_get_only_route_lists_its_methods(client: TestClient) -> None:
    response = preflight(client, "/healthz", "https://evil.example")
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "OPTIONS, GET, HEAD"
    assert response.headers["allow"] == "OPTIONS, GET, HEAD"


def test_preflight_on_route_inside_a_mount_lists_its_methods(client: TestClient) -> None:
    response = preflight(client, "/sub/only-post", "https://evil.example")
    assert response.headers["access-control-allow-methods"] == "OPTIONS, POST"


def test_simple_request_reflects_origin_and_varies(client: TestClient) -> None:
    response = client.get("/api/v1/memos", headers={"Origin": "http://localhost:8081"})
    assert response.json() == {"method": "GET"}
    assert response.headers["access-control-allow-origin"] == "http://localhost:8081"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    assert "access-control-expose-headers" not in response.headers


def test_request_without_origin_still_varies(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_null_origin_on_simple_request_is_not_reflected(client: TestClient) -> None:
    response = client.post("/api/v1/memos", headers={"Origin": "null"})
    assert response.json() == {"method": "POST"}
    assert "access-control-allow-origin" not in response.headers


def test_error_responses_carry_cors_headers_too(client: TestClient) -> None:
    response = client.get("/nothing.js", headers={"Origin": "https://a.example"})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "https://a.example"


@pytest.mark.parametrize(
    "origin, host",
    [
        ("http://localhost", "localhost"),
        ("https://LOCALHOST:8081", "localhost:8081"),  # scheme is not compared for Host
        ("https://memos.example.com", "127.0.0.1:5230"),  # instance URL, path ignored
    ],
)
def test_trusted_origins(origin: str, host: str) -> None:
    assert is_trusted_origin(origin, host, INSTANCE_URL)


@pytest.mark.parametrize(
    "origin",
    [
        "https://usememos.com",
        "https://demo.usememos.com",
        "https://evilusememos.com",
        "http://localhost.usememos.com:3001",
        "https://evil.example",
        "http://memos.example.com",  # instance URL host with another scheme
        "https://memos.example.com:8443",
        "not a url",
        "null",
        "",
    ],
)
def test_untrusted_origins(origin: str) -> None:
    assert not is_trusted_origin(origin, "localhost:8081", INSTANCE_URL)


def test_no_instance_url_trusts_only_the_host() -> None:
    assert not is_trusted_origin("https://memos.example.com", "localhost", "  ")
    assert is_trusted_origin("https://memos.example.com", "memos.example.com", "")
