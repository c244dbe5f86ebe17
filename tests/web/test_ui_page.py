"""The UI's pages: a nonce per response, the Content-Security-Policy, and the admin's custom code."""
from __future__ import annotations

import re

from starlette.testclient import TestClient
from support import create_user_row, sign_in

from memos.web.ui_page import content_security_policy

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def admin_token(client: TestClient) -> str:
    create_user_row(client, "admin", role="ADMIN")
    return sign_in(client, "admin")


def set_custom_code(client: TestClient, token: str, style: str, script: str) -> None:
    general = {"additionalStyle": style, "additionalScript": script}
    answer = client.post(
        "/memos.api.v1.InstanceService/UpdateInstanceSetting",
        json={"setting": {"name": "instance/settings/GENERAL", "generalSetting": general}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def test_every_page_has_a_strict_policy_with_its_own_nonce(client: TestClient) -> None:
    first, second = client.get("/"), client.get("/memos/abc")
    for page in (first, second):
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'",
                          "img-src 'self' data: blob:"):
            assert directive in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "etag" not in page.headers
    nonces = {NONCE.findall(page.headers["content-security-policy"])[0] for page in (first, second)}
    assert len(nonces) == 2


def test_assets_are_not_sniffed(client: TestClient) -> None:
    asset = client.get("/app.js")
    assert asset.status_code == 200
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert asset.headers["content-type"] == "text/javascript; charset=utf-8"


def test_without_custom_code_the_page_has_no_inline_code(client: TestClient) -> None:
    page = client.get("/").text
    assert "<style" not in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script src="/theme-boot.js">', '<script type="module" src="/app.js">']


def test_the_admins_code_carries_the_nonce_and_cannot_close_its_element(client: TestClient) -> None:
    token = admin_token(client)
    set_custom_code(client, token, "body { color: red }</style><script>evil()</script>", "run('</script><b>');")
    page = client.get("/explore")
    nonce = NONCE.findall(page.headers["content-security-policy"])[0]
    assert f'<style nonce="{nonce}">body {{ color: red }}<\\/style><script>evil()<\\/script></style>' in page.text
    assert f"<script nonce=\"{nonce}\">run('<\\/script><b>');</script>" in page.text
    # The next page load has a new nonce; a changed setting shows at once.
    set_custom_code(client, token, "", "second();")
    again = client.get("/")
    assert "second();" in again.text and "color: red" not in again.text


def test_policy_names_the_nonce_for_scripts_and_styles() -> None:
    policy = content_security_policy("abc")
    assert "script-src 'self' 'nonce-abc'" in policy
    assert "style-src 'self' 'nonce-abc'" in policy
