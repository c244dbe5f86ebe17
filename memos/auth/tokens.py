"""The access and refresh JWTs (HS256, signed with the instance secret).

Claims, their order and the header are those Memos v0.30 emits, so tokens
are interchangeable with it. Verification follows its rules: header kid
``v1``, issuer ``memos``, the audience of the token kind, zero leeway on
``exp``, ``iat`` unchecked, and the ``type`` claim must match.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
from typing import Any

from memos.store import Store

ISSUER = "memos"
KEY_ID = "v1"
ACCESS_AUDIENCE = "user.access-token"
REFRESH_AUDIENCE = "user.refresh-token"
ACCESS_TOKEN_TTL = dt.timedelta(minutes=15)
REFRESH_TOKEN_TTL = dt.timedelta(days=30)

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_DECIMAL = re.compile(r"[+-]?[0-9]+")


class InvalidToken(Exception):
    """The token cannot be used; the message says why (it may reach the client)."""


# HS256 is one HMAC over two base64url segments: done here with the standard
# library, because a JWT library pulls in a crypto stack (megabytes of resident
# memory on a Raspberry Pi) for what one line of hmac does. The tests check the
# tokens against PyJWT as an independent implementation.
_HEADER = {"alg": "HS256", "kid": KEY_ID, "typ": "JWT"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed token") from None


def _mac(signing_input: bytes, key: bytes) -> bytes:
    return hmac.new(key, signing_input, hashlib.sha256).digest()


def _json_segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _decode_json_segment(segment: str) -> Any:
    try:
        return json.loads(_b64url_decode(segment))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("malformed token") from None


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime  # full precision, as returned to the client


@dataclasses.dataclass(frozen=True)
class AccessClaims:
    user_id: int


@dataclasses.dataclass(frozen=True)
class RefreshClaims:
    user_id: int
    token_id: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sign(claims: dict[str, Any], key: bytes) -> str:
    # The claims keep their insertion order: exactly the order Memos emits.
    signing_input = f"{_json_segment(_HEADER)}.{_json_segment(claims)}"
    return f"{signing_input}.{_b64url(_mac(signing_input.encode('ascii'), key))}"


def issue_access_token(user: Any, key: bytes, now: dt.datetime | None = None) -> IssuedToken:
    """A 15-minute access token for a store user (role/status/username are informational)."""
    now = now or _now()
    expires_at = now + ACCESS_TOKEN_TTL
    claims = {
        "type": "access",
        "role": user.role,
        "status": user.row_status,
        "username": user.username,
        "iss": ISSUER,
        "sub": str(user.id),
        "aud": [ACCESS_AUDIENCE],
        "exp": int(expires_at.timestamp()),
        "iat": int(now.timestamp()),
    }
    return IssuedToken(_sign(claims, key), expires_at)


def issue_refresh_token(user_id: int, token_id: str, key: bytes, now: dt.datetime | None = None) -> IssuedToken:
    """A 30-day refresh token; ``token_id`` names its entry in the user's REFRESH_TOKENS."""
    now = now or _now()
    expires_at = now + REFRESH_TOKEN_TTL
    claims = {
        "type": "refresh",
        "tid": token_id,
        "iss": ISSUER,
        "sub": str(user_id),
        "aud": [REFRESH_AUDIENCE],
        "exp": int(expires_at.timestamp()),
        "iat": int(now.timestamp()),
    }
    return IssuedToken(_sign(claims, key), expires_at)


def _verified_claims(token: str, key: bytes, audience: str, kind: str) -> dict[str, Any]:
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise InvalidToken("malformed token")
    header = _decode_json_segment(segments[0])
    if not isinstance(header, dict) or header.get("alg") != "HS256" or header.get("kid") != KEY_ID:
        raise InvalidToken("unexpected signing method or key id")
    expected = _mac(f"{segments[0]}.{segments[1]}".encode("ascii"), key)
    if not hmac.compare_digest(expected, _b64url_decode(segments[2])):
        raise InvalidToken("signature is invalid")
    claims = _decode_json_segment(segments[1])
    if not isinstance(claims, dict):
        raise InvalidToken("malformed token claims")
    if claims.get("iss") != ISSUER:
        raise InvalidToken("invalid issuer")
    if audience not in _audiences(claims.get("aud")):
        raise InvalidToken("invalid audience")
    _check_expiry(claims.get("exp"))
    if claims.get("type") != kind:
        raise InvalidToken(f"not a{'n' if kind == 'access' else ''} {kind} token")
    return claims


def _audiences(value: Any) -> list[Any]:
    # RFC 7519 allows a single string as well as an array.
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []


def _check_expiry(exp: Any) -> None:
    if exp is None:
        return
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise InvalidToken("invalid exp claim")
    if time.time() >= exp:
        raise InvalidToken("token has expired")


def _user_id(claims: dict[str, Any]) -> int:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _DECIMAL.fullmatch(subject):
        raise InvalidToken("invalid subject")
    user_id = int(subject)
    if not _INT32_MIN <= user_id <= _INT32_MAX:
        raise InvalidToken("invalid subject")
    return user_id


class _VerifiedTokens:
    """Access tokens whose signature and claims verified, with their expiry, most recent last.

    A client sends the same access token with every call for up to 15 minutes; its HMAC and
    claims need checking once. The expiry is still checked at every use, and the key is part of
    the entry, so a changed secret verifies afresh. Access tokens are not revocable (the user's
    state is the caller's check, at every call), so an entry can never outlive a revocation.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[tuple[str, bytes], tuple[AccessClaims, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, key: bytes) -> tuple[AccessClaims, Any] | None:
        return self._entries.get((token, key))

    def put(self, token: str, key: bytes, claims: AccessClaims, exp: Any) -> None:
        with self._lock:
            self._entries[(token, key)] = (claims, exp)
            while len(self._entries) > self._capacity:
                del self._entries[next(iter(self._entries))]  # the oldest first


# A few hundred signed-in clients at once; each entry is a token of some 300 bytes.
_verified_access_tokens = _VerifiedTokens(capacity=512)


def parse_access_token(token: str, key: bytes) -> AccessClaims:
    """The claims of a valid access token; InvalidToken otherwise (user existence is the caller's check)."""
    kept = _verified_access_tokens.get(token, key)
    if kept is not None:
        _check_expiry(kept[1])
        return kept[0]
    claims = _verified_claims(token, key, ACCESS_AUDIENCE, "access")
    access = AccessClaims(_user_id(claims))
    _verified_access_tokens.put(token, key, access, claims.get("exp"))
    return access


def parse_refresh_token(token: str, key: bytes) -> RefreshClaims:
    """The claims of a cryptographically valid refresh token (revocation is checked elsewhere)."""
    claims = _verified_claims(token, key, REFRESH_AUDIENCE, "refresh")
    token_id = claims.get("tid")
    if not isinstance(token_id, str) or not token_id:
        raise InvalidToken("missing token id")
    return RefreshClaims(_user_id(claims), token_id)


async def signing_key(store: Store) -> bytes:
    """The HMAC key: the BASIC secret as stored.

    Safer than Memos: demo mode signs with this per-instance secret too, never
    with the public string Memos uses there (anyone could forge tokens with it).
    """
    basic = await store.instance_settings.basic()
    secret: str = basic.secret_key
    return secret.encode("utf-8")
