"""GET /healthz answers without any store behind it."""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from memos.web.health import health_routes


def test_healthz_is_exactly_service_ready() -> None:
    response = TestClient(Starlette(routes=health_routes())).get("/healthz")
    assert response.status_code == 200
    assert response.content == b"Service ready."
    assert response.headers["content-type"] == "text/plain; charset=UTF-8"


def test_healthz_answers_head() -> None:
    response = TestClient(Starlette(routes=health_routes())).head("/healthz")
    assert response.status_code == 200
    assert response.content == b""
