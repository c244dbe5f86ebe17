"""Echo error bodies for the plain routes: 404, 405 with Allow, 500 without details."""
from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from memos.profile import Profile
from memos.web import echo_exception_handlers, web_middleware, web_routes
from memos.web.errors import echo_body, echo_error


def explode(request):
    raise RuntimeError("secret detail")


def make_client(tmp_path: Path) -> TestClient:
    profile = Profile(data=str(tmp_path), dsn="x")
    app = Starlette(
        routes=[*web_routes(profile), Route("/explode", explode)],
        middleware=web_middleware(profile, static_dir=tmp_path),
        exception_handlers=echo_exception_handlers(),
    )
    return TestClient(app, raise_server_exceptions=False)


def test_unknown_path_with_extension_is_echo_404(tmp_path: Path) -> None:
    response = make_client(tmp_path).get("/nothing/here.css")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message":"Not Found"}\n'


def test_wrong_method_on_known_path_is_echo_405_with_allow(tmp_path: Path) -> None:
    response = make_client(tmp_path).post("/robots.txt")
    assert response.status_code == 405
    assert response.content == b'{"message":"Method Not Allowed"}\n'
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_unexpected_exception_is_echo_500_without_details(tmp_path: Path) -> None:
    response = make_client(tmp_path).get("/explode")
    assert response.status_code == 500
    assert response.content == b'{"message":"Internal Server Error"}\n'


def test_echo_body_escapes_like_go() -> None:
    assert echo_body('a <b> & "c" é') == '{"message":"a \\u003cb\\u003e \\u0026 \\"c\\" é"}\n'.encode()


def test_echo_error_keeps_headers() -> None:
    response = echo_error(405, "Method Not Allowed", {"Allow": "GET"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.body == b'{"message":"Method Not Allowed"}\n'
