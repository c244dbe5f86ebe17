"""The UI handler: bundled files, cache headers by path, SPA fallback, excluded paths."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from memos.profile import Profile
from memos.web import echo_exception_handlers, web_middleware, web_routes
from memos.web.frontend import cache_headers, default_static_dir, is_excluded

INDEX = b"<!doctype html><title>test ui</title>"
NO_CACHE = "no-cache, no-store, must-revalidate"


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-deadbeef.js").write_text("export const answer = 42;\n")
    (root / "logo.webp").write_bytes(b"RIFF....WEBP")
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<!doctype html>docs")
    (tmp_path / "secret.txt").write_text("outside the bundle")
    return root


def api_echo(request):
    return JSONResponse({"path": request.url.path})


def own_cache(request):
    return PlainTextResponse("mine", headers={"Cache-Control": "private, max-age=5"})


@pytest.fixture
def client(tmp_path: Path, static_dir: Path) -> TestClient:
    profile = Profile(data=str(tmp_path), dsn=str(tmp_path / "memos_prod.db"))
    routes = [
        *web_routes(profile),
        Route("/api/v1/echo", api_echo),
        Route("/u/{name}/rss.xml", api_echo),
        Route("/own-cache", own_cache),
    ]
    app = Starlette(
        routes=routes,
        middleware=web_middleware(profile, static_dir=static_dir),
        exception_handlers=echo_exception_handlers(),
    )
    return TestClient(app)


@pytest.mark.parametrize("path", ["/", "/index.html", "/memos/publicmemo"])
def test_app_routes_get_index_with_no_cache_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == NO_CACHE
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["expires"] == "0"


def test_hashed_asset_is_immutable(client: TestClient) -> None:
    response = client.get("/assets/index-deadbeef.js")
    assert response.status_code == 200
    assert response.text == "export const answer=42;\n"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=2592000, immutable"


def test_other_file_is_cached_one_hour(client: TestClient) -> None:
    response = client.get("/logo.webp")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_missing_asset_is_404_not_the_app(client: TestClient) -> None:
    response = client.get("/assets/missing.js")
    assert response.status_code == 404
    assert response.content == b'{"message":"Not Found"}\n'
    assert response.headers["cache-control"] == "public, max-age=2592000, immutable"


def test_directory_serves_its_index(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.text == "<!doctype html>docs"


def test_no_last_modified_and_range_works(client: TestClient) -> None:
    response = client.get("/assets/index-deadbeef.js", headers={"Range": "bytes=7-11"})
    assert response.status_code == 206
    assert response.content == b"const"
    assert "last-modified" not in response.headers


def test_head_gets_headers_without_body(client: TestClient) -> None:
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(INDEX))


def test_healthz_route_still_answers_with_no_cache_headers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.text == "Service ready."
    assert response.headers["cache-control"] == NO_CACHE


def test_api_route_gets_no_frontend_cache_header(client: TestClient) -> None:
    response = client.get("/api/v1/echo")
    assert response.json() == {"path": "/api/v1/echo"}
    assert "cache-control" not in response.headers


def test_unknown_api_path_is_not_replaced_by_the_app(client: TestClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert INDEX not in response.content


def test_rss_paths_are_left_to_their_routes(client: TestClient) -> None:
    response = client.get("/u/alice/rss.xml")
    assert response.json() == {"path": "/u/alice/rss.xml"}
    assert "cache-control" not in response.headers


def test_route_keeps_its_own_cache_control(client: TestClient) -> None:
    assert client.get("/own-cache").headers["cache-control"] == "private, max-age=5"


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"])
def test_no_file_outside_the_bundle(client: TestClient, path: str) -> None:
    assert b"outside the bundle" not in client.get(path).content


def test_post_to_app_route_is_not_served_the_app(client: TestClient) -> None:
    response = client.post("/memos/abc")
    assert response.status_code == 404
    assert response.content == b'{"message":"Not Found"}\n'


@pytest.mark.parametrize(
    "path, excluded",
    [
        ("/api", True), ("/api/v1/memos", True), ("/apis", False),
        ("/file", True), ("/file/attachments/x/y.png", True), ("/files", False),
        ("/memos.api.v1", True), ("/memos.api.v1.MemoService/ListMemos", True),
        ("/robots.txt", True), ("/sitemap.xml", True), ("/explore/rss.xml", True),
        ("/u/bob/rss.xml", True), ("/rss.xml.bak", False), ("/", False), ("/mcp", False),
    ],
)
def test_excluded_paths(path: str, excluded: bool) -> None:
    assert is_excluded(path) is excluded


def test_cache_headers_for_excluded_paths_are_empty() -> None:
    assert cache_headers("/api/v1/memos") == {}
    assert cache_headers("/mcp")["Cache-Control"] == NO_CACHE


def test_packaged_placeholder_index_is_html() -> None:
    text = (default_static_dir() / "index.html").read_text()
    assert text.lower().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("wanted", "status", "body", "content_range"),
    [
        ("bytes=0-4", 206, b"expor", "bytes 0-4/{size}"),
        ("bytes=-3", 206, None, "bytes {last3}/{size}"),
        ("bytes=7-", 206, None, "bytes 7-{end}/{size}"),
        ("bytes=7-999999", 206, None, "bytes 7-{end}/{size}"),
        ("bytes=999999-", 416, b"", "bytes */{size}"),
        ("bytes=5-2", 416, b"", "bytes */{size}"),
        ("pages=1-2", 200, None, None),
    ],
)
def test_byte_ranges(
    client: TestClient, wanted: str, status: int, body: bytes | None, content_range: str | None
) -> None:
    whole = client.get("/assets/index-deadbeef.js").content
    size = len(whole)
    response = client.get("/assets/index-deadbeef.js", headers={"Range": wanted})
    assert response.status_code == status
    if content_range is None:
        assert "content-range" not in response.headers and response.content == whole
        return
    expected_range = content_range.format(size=size, end=size - 1, last3=f"{size - 3}-{size - 1}")
    assert response.headers["content-range"] == expected_range
    if status == 206:
        first, last = (int(n) for n in expected_range.split(" ")[1].split("/")[0].split("-"))
        assert response.content == (body if body is not None else whole[first : last + 1])


def test_a_matching_etag_gets_304(client: TestClient) -> None:
    first = client.get("/assets/index-deadbeef.js")
    again = client.get("/assets/index-deadbeef.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "public, max-age=2592000, immutable"
    changed = client.get("/assets/index-deadbeef.js", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200
