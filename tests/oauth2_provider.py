"""A small OAuth2 provider for the tests, served by hypercorn on 127.0.0.1 in a thread.

Tests hand out authorization codes with ``provider.issue_code(claims)`` (or a
bare subject); the token endpoint trades a code once for an access token, and
the userinfo endpoint answers that token with the claims. Knobs let a test
choose the client-authentication style the token endpoint accepts, make
userinfo fail or answer slowly, and inspect the requests that arrived.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from support import serve_on_loopback

CLIENT_ID = "memos-client"
CLIENT_SECRET = "s3cret/with:odd+chars"


@dataclasses.dataclass
class TokenRequest:
    """One call of the token endpoint as the provider saw it."""

    form: dict[str, str]
    authorization: str


@dataclasses.dataclass
class ProviderState:
    # "basic": only HTTP Basic is accepted; "post": only form credentials; "any": either.
    auth_style: str = "any"
    # userinfo: (status, body) to answer instead of the claims; None = the claims.
    userinfo_override: tuple[int, bytes] | None = None
    userinfo_delay: float = 0.0
    # userinfo holds every answer until this many userinfo requests have arrived
    # (lines concurrent sign-ins up so they reach the server's user lookup together).
    userinfo_gate: int = 0
    userinfo_arrivals: int = 0
    # token endpoint: answer form-encoded (as GitHub does without Accept: application/json).
    token_as_form: bool = False
    token_requests: list[TokenRequest] = dataclasses.field(default_factory=list)
    codes: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class OAuth2Provider:
    """Handle on the running provider: its URLs, its state and the code-issuing helper."""

    def __init__(self, base_url: str, state: ProviderState) -> None:
        self.base_url = base_url
        self.state = state
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def user_info_url(self) -> str:
        return f"{self.base_url}/userinfo"

    def issue_code(self, claims: dict[str, Any] | str) -> str:
        """A fresh single-use code whose userinfo is ``claims`` (a string is the ``sub``)."""
        code = secrets.token_urlsafe(12)
        with self.state.lock:
            self.state.codes[code] = {"sub": claims} if isinstance(claims, str) else dict(claims)
        return code

    def reset(self) -> None:
        fresh = ProviderState()
        for field in dataclasses.fields(ProviderState):
            if field.name != "lock":
                setattr(self.state, field.name, getattr(fresh, field.name))

    def oauth2_config(self, **mapping: str) -> dict[str, Any]:
        """The API JSON ``oauth2Config`` pointing at this provider (mapping defaults to ``sub``)."""
        return {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "authUrl": self.auth_url,
            "tokenUrl": self.token_url,
            "userInfoUrl": self.user_info_url,
            "scopes": ["openid", "profile"],
            "fieldMapping": {"identifier": "sub", **mapping},
        }


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, str] | None:
    """(style, id, secret) from the Basic header or the form body; None when neither is there."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        decoded = base64.b64decode(header[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return "basic", urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
    if "client_id" in form:
        return "post", form["client_id"], form.get("client_secret", "")
    return None


def build_app(state: ProviderState) -> Starlette:
    async def token(request: Request) -> Response:
        # parse_qsl rather than request.form(): that needs python-multipart, which nothing else needs.
        form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
        with state.lock:
            state.token_requests.append(TokenRequest(form, request.headers.get("authorization", "")))
        credentials = _client_credentials(request, form)
        if credentials is None or credentials[1:] != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if state.auth_style not in ("any", credentials[0]):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with state.lock:
            claims = state.codes.pop(form.get("code", ""), None)
            if claims is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            access_token = secrets.token_urlsafe(16)
            state.tokens[access_token] = claims
        if state.token_as_form:
            body = urllib.parse.urlencode({"access_token": access_token, "token_type": "bearer"})
            return PlainTextResponse(body, media_type="application/x-www-form-urlencoded")
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600})

    async def userinfo(request: Request) -> Response:
        if state.userinfo_delay:
            await asyncio.sleep(state.userinfo_delay)
        if state.userinfo_gate:
            with state.lock:
                state.userinfo_arrivals += 1
            deadline = time.monotonic() + 10
            while state.userinfo_arrivals < state.userinfo_gate and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        if state.userinfo_override is not None:
            status, body = state.userinfo_override
            return Response(body, status_code=status, media_type="application/json")
        scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
        with state.lock:
            claims = state.tokens.get(access_token) if scheme.lower() == "bearer" else None
        if claims is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(claims)

    return Starlette(routes=[
        Route("/token", token, methods=["POST"]),
        Route("/userinfo", userinfo, methods=["GET"]),
    ])


@contextlib.contextmanager
def serve_provider() -> Iterator[OAuth2Provider]:
    """Run the provider on a free 127.0.0.1 port for the duration of the block."""
    state = ProviderState()
    with serve_on_loopback(build_app(state)) as base_url:
        yield OAuth2Provider(base_url, state)

