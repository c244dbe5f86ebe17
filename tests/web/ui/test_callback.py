"""Signing in through an OAuth2 provider: the buttons on /auth, the redirect with state and PKCE, and
/auth/callback (frontend.md A4, A5), against the tests' loopback provider (tests/oauth2_provider.py).
The provider has no authorization page, so the browser's visit to it is answered here with the
redirect back that a provider sends once the person agreed."""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from oauth2_provider import OAuth2Provider
from playwright.sync_api import Route, expect
from ui_support import User


@pytest.fixture
def identity_provider(admin: User, provider: OAuth2Provider) -> Iterator[dict[str, Any]]:
    config = {"oauth2Config": provider.oauth2_config(displayName="name")}
    created = admin.call("IdentityProviderService", "CreateIdentityProvider", {
        "identityProvider": {"type": "OAUTH2", "title": "Loopback ID", "config": config},
        "identityProviderId": "loopback",
    })
    yield created
    admin.call("IdentityProviderService", "DeleteIdentityProvider", {"name": created["name"]})


def agree_as(provider: OAuth2Provider, claims: dict[str, Any], seen: list[dict[str, str]]) -> Any:
    def handle(route: Route) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(route.request.url).query))
        seen.append(query)
        code = provider.issue_code(claims)
        back = f"{query['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': query['state']})}"
        route.fulfill(status=302, headers={"Location": back})

    return handle


def test_signing_in_with_a_provider_lands_on_the_redirect_target(
        page: Any, provider: OAuth2Provider, identity_provider: dict[str, Any]) -> None:
    seen: list[dict[str, str]] = []
    page.route(f"{provider.auth_url}**", agree_as(provider, {"sub": "sso-ada", "name": "Ada from SSO"}, seen))
    page.goto("/auth?redirect=%2Fsetting")
    expect(page.get_by_text("or", exact=True)).to_be_visible()
    page.get_by_role("button", name="Continue with Loopback ID").click()
    page.wait_for_url(re.compile(r"/setting$"))
    expect(page.get_by_role("heading", name="Ada from SSO")).to_be_visible()
    query = seen[0]
    assert query["client_id"] == provider.client_id and query["response_type"] == "code"
    assert query["scope"] == "openid profile" and len(query["state"]) == 64
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"].endswith("/auth/callback")
    assert page.evaluate("sessionStorage.getItem('oauth_state')") is None


def test_a_provider_error_or_an_unknown_state_is_shown(page: Any) -> None:
    page.goto("/auth/callback?error=access_denied&error_description=The+user+said+no")
    expect(page.locator(".callback-text")).to_have_text("access_denied\nThe user said no")
    page.goto("/auth/callback?code=abc&state=forged")
    expect(page.locator(".callback-text")).to_contain_text("CSRF")
    page.goto("/auth/callback")
    expect(page.locator(".callback-text")).to_have_text("The provider sent no code or state back.")
