"""The JWTs: header, claim order, lifetimes and the verification rules."""
from __future__ import annotations

import base64
import datetime as dt
import json
import types

import pytest
from support import forge_jwt

from memos.auth import tokens

KEY = b"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
USER = types.SimpleNamespace(id=3, role="USER", row_status="NORMAL", username="bob")


def _segments(token: str) -> tuple[dict, dict]:
    def decode(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)), object_pairs_hook=dict)

    header, payload, _ = token.split(".")
    return decode(header), decode(payload)


def _forge(header: dict, claims: dict, key: bytes = KEY) -> str:
    return forge_jwt(claims, key, header)


def _access_claims(**changes: object) -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"type": "access", "role": "USER", "status": "NORMAL", "username": "bob", "iss": "memos", "sub": "3",
              "aud": ["user.access-token"], "exp": now + 900, "iat": now}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


HEADER = {"alg": "HS256", "kid": "v1", "typ": "JWT"}


def test_access_token_header_claims_and_order() -> None:
    issued = tokens.issue_access_token(USER, KEY)
    header, claims = _segments(issued.token)
    assert header == HEADER and list(header) == ["alg", "kid", "typ"]
    assert list(claims) == ["type", "role", "status", "username", "iss", "sub", "aud", "exp", "iat"]
    assert claims["type"] == "access" and claims["sub"] == "3" and claims["aud"] == ["user.access-token"]
    assert claims["iss"] == "memos" and claims["exp"] - claims["iat"] == 900
    ahead = issued.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < ahead <= dt.timedelta(minutes=15)
    assert tokens.parse_access_token(issued.token, KEY).user_id == 3


def test_refresh_token_claims() -> None:
    issued = tokens.issue_refresh_token(7, "tid-1", KEY)
    header, claims = _segments(issued.token)
    assert header == HEADER
    assert list(claims) == ["type", "tid", "iss", "sub", "aud", "exp", "iat"]
    assert claims["aud"] == ["user.refresh-token"] and claims["type"] == "refresh" and claims["tid"] == "tid-1"
    assert claims["exp"] - claims["iat"] == 2_592_000
    parsed = tokens.parse_refresh_token(issued.token, KEY)
    assert (parsed.user_id, parsed.token_id) == (7, "tid-1")


def test_other_secret_is_rejected_for_both_kinds() -> None:
    other = b"another-secret-of-another-instance!!"
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(tokens.issue_access_token(USER, other).token, KEY)
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_refresh_token(tokens.issue_refresh_token(3, "t", other).token, KEY)


def test_kinds_are_not_interchangeable() -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(tokens.issue_refresh_token(3, "t", KEY).token, KEY)
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_refresh_token(tokens.issue_access_token(USER, KEY).token, KEY)


def test_hand_made_token_with_the_right_shape_verifies() -> None:
    assert tokens.parse_access_token(_forge(HEADER, _access_claims()), KEY).user_id == 3


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"alg": "HS256", "typ": "JWT"}, _access_claims()),  # no kid
        ({"alg": "HS256", "kid": "v2", "typ": "JWT"}, _access_claims()),
        ({"alg": "HS512", "kid": "v1", "typ": "JWT"}, _access_claims()),
        ({"alg": "none", "kid": "v1", "typ": "JWT"}, _access_claims()),
        (HEADER, _access_claims(iss="other")),
        (HEADER, _access_claims(aud=["user.refresh-token"])),
        (HEADER, _access_claims(type=None)),  # legacy token without type
        (HEADER, _access_claims(exp=int(dt.datetime.now(dt.UTC).timestamp()) - 1)),
        (HEADER, _access_claims(sub="abc")),
        (HEADER, _access_claims(sub="4294967296")),  # not a 32-bit integer
        (HEADER, _access_claims(sub=3)),
    ],
)
def test_invalid_access_tokens(header: dict, claims: dict) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(_forge(header, claims), KEY)


def test_iat_is_not_checked_and_audience_may_be_a_string() -> None:
    future = int(dt.datetime.now(dt.UTC).timestamp()) + 3600
    token = _forge(HEADER, _access_claims(iat=future, aud="user.access-token"))
    assert tokens.parse_access_token(token, KEY).user_id == 3


@pytest.mark.parametrize("garbage", ["", "not-a-valid-jwt", "a.b.c", "eyJ.eyJ.sig"])
def test_garbage_is_invalid(garbage: str) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(garbage, KEY)


def test_short_legacy_secret_signs_without_warnings() -> None:
    # warnings are errors in this suite: a short stored secret must not trigger one
    issued = tokens.issue_access_token(USER, b"short")
    assert tokens.parse_access_token(issued.token, b"short").user_id == 3


# --- interoperability with an independent implementation (PyJWT) ---------------------------


def test_pyjwt_verifies_our_access_token() -> None:
    import jwt

    token = tokens.issue_access_token(USER, KEY).token
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience="user.access-token", issuer="memos")
    assert claims["sub"] == "3" and claims["type"] == "access"
    assert jwt.get_unverified_header(token) == HEADER


def test_we_verify_a_pyjwt_token_and_refuse_its_tampered_twin() -> None:
    import jwt

    token = jwt.encode(_access_claims(), KEY, algorithm="HS256", headers={"kid": "v1"})
    assert tokens.parse_access_token(token, KEY).user_id == 3
    header, _, signature = token.split(".")
    other_claims = _forge(HEADER, _access_claims(sub="1")).split(".")[1]
    tampered = f"{header}.{other_claims}.{signature}"
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(tampered, KEY)


@pytest.mark.parametrize("odd", ["é.é.é", "a.b", "a.b.c.d", "eyJhbGciOiJIUzI1NiJ9.e30.!!"])
def test_odd_token_text_is_invalid_not_an_error(odd: str) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.parse_access_token(odd, KEY)


def test_a_token_verified_before_still_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    issued = tokens.issue_access_token(USER, KEY)
    assert tokens.parse_access_token(issued.token, KEY).user_id == 3
    assert tokens.parse_access_token(issued.token, KEY).user_id == 3  # the second use is the remembered one
    monkeypatch.setattr(tokens.time, "time", lambda: issued.expires_at.timestamp() + 1)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.parse_access_token(issued.token, KEY)


def test_a_token_verified_before_is_refused_under_another_secret() -> None:
    issued = tokens.issue_access_token(USER, KEY)
    assert tokens.parse_access_token(issued.token, KEY).user_id == 3
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.parse_access_token(issued.token, b"another-secret")
