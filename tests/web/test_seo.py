"""robots.txt and sitemap.xml: content with an instance URL, Echo 404 without."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from memos.profile import Profile
from memos.web import echo_exception_handlers, web_middleware, web_routes

NOT_CONFIGURED = b'{"message":"instance URL is not configured"}\n'


def make_client(tmp_path: Path, instance_url: str, uids: list[str] | None = None) -> TestClient:
    async def public_memo_uids() -> list[str]:
        return uids or []

    profile = Profile(data=str(tmp_path), dsn="x", instance_url=instance_url)
    index = tmp_path / "index.html"
    index.write_text("<!doctype html>")
    app = Starlette(
        routes=web_routes(profile, public_memo_uids=public_memo_uids if uids is not None else None),
        middleware=web_middleware(profile, static_dir=tmp_path),
        exception_handlers=echo_exception_handlers(),
    )
    return TestClient(app)


def test_robots_txt_with_instance_url(tmp_path: Path) -> None:
    response = make_client(tmp_path, "https://demo.usememos.com/").get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=UTF-8"
    assert response.text == (
        "User-agent: *\nAllow: /\nHost: https://demo.usememos.com\nSitemap: https://demo.usememos.com/sitemap.xml"
    )
    assert "cache-control" not in response.headers


@pytest.mark.parametrize("instance_url", ["", "   "])
def test_without_instance_url_both_files_are_404(tmp_path: Path, instance_url: str) -> None:
    client = make_client(tmp_path, instance_url, uids=["publicmemo"])
    for path in ("/robots.txt", "/sitemap.xml"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.content == NOT_CONFIGURED


def test_sitemap_lists_public_memos(tmp_path: Path) -> None:
    client = make_client(tmp_path, "https://demo.usememos.com", uids=["publicmemo", "a&b"])
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert "application/xml" in response.headers["content-type"]
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<urlset ')
    assert "<url><loc>https://demo.usememos.com/memos/publicmemo</loc></url>" in response.text
    assert "<loc>https://demo.usememos.com/memos/a&amp;b</loc>" in response.text


def test_sitemap_without_memo_source_is_not_the_app(tmp_path: Path) -> None:
    response = make_client(tmp_path, "https://demo.usememos.com").get("/sitemap.xml")
    assert response.status_code == 404
    assert b"doctype" not in response.content
