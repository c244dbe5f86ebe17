"""The OAuth2 authorization-code client used for SSO sign-in and identity linking.

Given a stored identity provider and the code the browser brought back, this
module exchanges the code for an access token, fetches the userinfo document,
maps its top-level string claims onto a profile and applies the provider's
identifier filter. Every failure is an RpcError carrying the code the client
sees (INTERNAL for a misconfigured or failing provider, PERMISSION_DENIED for a
filtered identifier).

httpx is imported only when a provider is actually contacted: an instance
without SSO never needs it.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import urllib.parse
from typing import Any

from memos.call import Code, RpcError
from memos.gen.store import idp_pb2

HTTP_TIMEOUT_SECONDS = 10.0
# How much of a failing userinfo body is quoted back in the error message.
ERROR_BODY_LIMIT = 4096
# Token and userinfo documents are small; anything bigger is not a provider we can use.
MAX_RESPONSE_BYTES = 1 << 20

OAuth2Config = idp_pb2.OAuth2Config


@dataclasses.dataclass(frozen=True, slots=True)
class ExternalProfile:
    """What a provider says about the person signing in, after field mapping."""

    identifier: str
    display_name: str
    email: str
    avatar_url: str


class _ExchangeFailed(Exception):
    """The token endpoint refused or answered nonsense; the text goes into the RPC message."""


# --- configuration -------------------------------------------------------------------


def oauth2_config_of(idp: idp_pb2.IdentityProvider) -> OAuth2Config:
    """The usable OAuth2 configuration of ``idp``, or INTERNAL naming what is missing."""
    if idp.type != idp_pb2.IdentityProvider.OAUTH2 or not idp.config.HasField("oauth2_config"):
        raise _config_error("unsupported identity provider type")
    config = idp.config.oauth2_config
    required = {
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "token_url": config.token_url,
        "user_info_url": config.user_info_url,
        "field_mapping.identifier": config.field_mapping.identifier,
    }
    missing = [name for name, value in required.items() if not value.strip()]
    if missing:
        raise _config_error(f"missing {', '.join(missing)}")
    return config


def _config_error(detail: str) -> RpcError:
    return RpcError(Code.INTERNAL, f"failed to create oauth2 identity provider, error: {detail}")


# --- claims ------------------------------------------------------------------------


def _string_claim(claims: dict[str, Any], key: str) -> str:
    """The value of top-level ``key`` when it is a JSON string; nested paths are not followed."""
    if not key:
        return ""
    value = claims.get(key)
    return value if isinstance(value, str) else ""


def map_claims(claims: dict[str, Any], mapping: idp_pb2.FieldMapping) -> ExternalProfile:
    """Apply the field mapping; a missing, non-string or empty identifier is INTERNAL."""
    identifier = _string_claim(claims, mapping.identifier)
    if not identifier:
        raise RpcError(
            Code.INTERNAL,
            f'failed to get user info, error: the field "{mapping.identifier}"'
            " is not found in claims or has empty value",
        )
    return ExternalProfile(
        identifier=identifier,
        display_name=_string_claim(claims, mapping.display_name) or identifier,
        email=_string_claim(claims, mapping.email),
        avatar_url=_string_claim(claims, mapping.avatar_url),
    )


def check_identifier_filter(identifier_filter: str, identifier: str) -> None:
    """Refuse identifiers the provider's filter does not match.

    The filter is searched for anywhere in the identifier (not anchored), as
    Memos does: administrators who mean "ends with" must write the ``$``.
    """
    if not identifier_filter:
        return
    try:
        pattern = re.compile(identifier_filter)
    except re.error as exc:
        raise RpcError(Code.INTERNAL, f"failed to compile identifier filter: {exc}") from None
    if pattern.search(identifier) is None:
        raise RpcError(Code.PERMISSION_DENIED, f"identifier {identifier} is not allowed")


# --- HTTP --------------------------------------------------------------------------


def _basic_credentials(client_id: str, client_secret: str) -> str:
    # RFC 6749 §2.3.1: both parts are form-encoded before joining and base64.
    joined = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(joined.encode()).decode("ascii")


def _parse_token_response(status: int, content_type: str, body: bytes) -> str:
    """The access token of a 2xx token response (JSON, or form-encoded as GitHub answers by default)."""
    if not 200 <= status < 300:
        snippet = body[:ERROR_BODY_LIMIT].decode("utf-8", "replace")
        raise _ExchangeFailed(f"token endpoint answered {status}: {snippet}")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "text/plain"):
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        token = (fields.get("access_token") or [""])[0]
    else:
        try:
            document = json.loads(body)
        except ValueError:
            raise _ExchangeFailed("token response is not JSON") from None
        found = document.get("access_token") if isinstance(document, dict) else None
        token = found if isinstance(found, str) else ""
    if not token:
        raise _ExchangeFailed("server response missing access_token")
    return token


async def _read_limited(response: Any) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > MAX_RESPONSE_BYTES:
            raise _ExchangeFailed(f"response larger than {MAX_RESPONSE_BYTES} bytes")
    return bytes(body)


class OAuth2Client:
    """Talks to one provider's token and userinfo endpoints."""

    def __init__(self, config: OAuth2Config, *, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        self._config = config
        self._timeout = timeout

    def _http(self) -> Any:
        import httpx  # SSO is optional; the dependency is paid only when it is used

        # Redirects are not followed: a token endpoint that redirects would have
        # the code and client secret re-posted wherever it points.
        return httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, trust_env=False)

    async def exchange_token(self, code: str, redirect_uri: str, code_verifier: str = "") -> str:
        """Trade an authorization code for an access token; INTERNAL on any failure."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        try:
            async with self._http() as http:
                # Client authentication is detected as Go's oauth2 package does:
                # HTTP Basic first, then the credentials in the form body.
                try:
                    return await self._post_token(http, form, basic=True)
                except _ExchangeFailed:
                    return await self._post_token(http, form, basic=False)
        except _ExchangeFailed as exc:
            raise RpcError(Code.INTERNAL, f"failed to exchange token, error: {exc}") from None
        except Exception as exc:  # network failures of any kind (httpx.HTTPError, OSError)
            raise RpcError(Code.INTERNAL, f"failed to exchange token, error: {_describe(exc)}") from None

    async def _post_token(self, http: Any, form: dict[str, str], *, basic: bool) -> str:
        headers = {"Accept": "application/json"}
        fields = dict(form)
        if basic:
            headers["Authorization"] = _basic_credentials(self._config.client_id, self._config.client_secret)
        else:
            fields.update(client_id=self._config.client_id, client_secret=self._config.client_secret)
        async with http.stream("POST", self._config.token_url, data=fields, headers=headers) as response:
            body = await _read_limited(response)
            return _parse_token_response(response.status_code, response.headers.get("content-type", ""), body)

    async def user_info(self, access_token: str) -> dict[str, Any]:
        """The userinfo document as a JSON object; INTERNAL on any failure."""
        try:
            async with self._http() as http:
                headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
                async with http.stream("GET", self._config.user_info_url, headers=headers) as response:
                    body = await _read_limited(response)
                    status = response.status_code
        except _ExchangeFailed as exc:
            raise _userinfo_error(str(exc)) from None
        except Exception as exc:
            raise _userinfo_error(_describe(exc)) from None
        if not 200 <= status < 300:
            snippet = body[:ERROR_BODY_LIMIT].decode("utf-8", "replace")
            raise _userinfo_error(f"userinfo request failed with status {status}: {snippet}")
        try:
            claims = json.loads(body)
        except ValueError:
            raise _userinfo_error("userinfo response is not JSON") from None
        if not isinstance(claims, dict):
            raise _userinfo_error("userinfo response is not a JSON object")
        return claims


def _userinfo_error(detail: str) -> RpcError:
    return RpcError(Code.INTERNAL, f"failed to get user info, error: {detail}")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --- the whole flow ------------------------------------------------------------------


async def authenticate(
    idp: idp_pb2.IdentityProvider, code: str, redirect_uri: str, code_verifier: str = ""
) -> ExternalProfile:
    """Steps 2-5 of an SSO sign-in: config check, code exchange, userinfo, mapping, filter."""
    config = oauth2_config_of(idp)
    client = OAuth2Client(config)
    access_token = await client.exchange_token(code, redirect_uri, code_verifier)
    claims = await client.user_info(access_token)
    profile = map_claims(claims, config.field_mapping)
    check_identifier_filter(idp.identifier_filter, profile.identifier)
    return profile
