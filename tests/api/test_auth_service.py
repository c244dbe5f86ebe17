"""AuthService and the bearer credentials through the whole app, over REST and Connect.

The transports differ in how the refresh cookie travels (Connect: real
cookies; REST: the refresh token is never handed out), so those cases run on
both. Checklist numbers refer to the auth spec's behaviour checklist.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import pathlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from support import (
    bearer,
    create_user_row,
    forge_jwt,
    make_profile,
    refresh_token_entries,
    sign_in,
    write_refresh_token_entries,
)

from memos.app import create_app
from memos.auth import passwords
from memos.gen.store import user_setting_pb2
from memos.store import FindUser, UpdateUser

SIGNIN = "/api/v1/auth/signin"
REFRESH = "/api/v1/auth/refresh"
SIGNOUT = "/api/v1/auth/signout"
ME = "/api/v1/auth/me"
PROFILE = "/api/v1/instance/profile"
CONNECT = "/memos.api.v1.AuthService/"
UserSetting = user_setting_pb2.UserSetting


# --- helpers ------------------------------------------------------------------------------


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _password(username: str, password: str = "pw") -> dict:
    return {"passwordCredentials": {"username": username, "password": password}}


def _connect(client: TestClient, method: str, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
    """One Connect JSON call; the client's cookie jar is emptied so every test sends cookies explicitly."""
    response = client.post(CONNECT + method, json=body or {}, headers=headers or {})
    client.cookies.clear()
    return response


def _run(client: TestClient, make_coroutine: Any) -> Any:
    return client.portal.call(make_coroutine)


def _store(client: TestClient) -> Any:
    return client.app.state.store


def _secret(client: TestClient) -> bytes:
    return _run(client, _store(client).instance_settings.basic).secret_key.encode()


def _refresh_cookie(response: httpx.Response) -> str:
    """``memos_refresh=<jwt>`` from the one Set-Cookie of a Connect answer."""
    (set_cookie,) = response.headers.get_list("set-cookie")
    return set_cookie.split(";")[0]


def _jwt_of(cookie: str) -> str:
    return cookie.split("=", 1)[1]


def _connect_sign_in(client: TestClient, username: str, headers: dict | None = None) -> httpx.Response:
    response = _connect(client, "SignIn", _password(username), headers)
    assert response.status_code == 200, response.text
    return response


def _archive(client: TestClient, user_id: int) -> None:
    _run(client, lambda: _store(client).users.update(UpdateUser(user_id, row_status="ARCHIVED")))


def _set_general(client: TestClient, **fields: Any) -> None:
    store = _store(client)

    async def write() -> None:
        setting = await store.instance_settings.get("GENERAL")
        for name, value in fields.items():
            setattr(setting.general_setting, name, value)
        await store.instance_settings.upsert(setting)

    _run(client, write)


def _refresh_claims(user_id: int, tid: str) -> dict:
    now = int(time.time())
    return {"type": "refresh", "tid": tid, "iss": "memos", "sub": str(user_id), "aud": ["user.refresh-token"],
            "exp": now + 3600, "iat": now}


def _access_claims(user_id: int, **changes: Any) -> dict:
    now = int(time.time())
    claims = {"type": "access", "role": "USER", "status": "NORMAL", "username": "x", "iss": "memos",
              "sub": str(user_id), "aud": ["user.access-token"], "exp": now + 900, "iat": now}
    claims.update(changes)
    return claims


def _add_pat(client: TestClient, user_id: int, token: str, expires_at: dt.datetime | None = None) -> None:
    store = _store(client)

    async def write() -> None:
        setting = await store.user_settings.get(user_id, "PERSONAL_ACCESS_TOKENS")
        if setting is None:
            setting = UserSetting(user_id=user_id, key=UserSetting.PERSONAL_ACCESS_TOKENS)
        entry = setting.personal_access_tokens.tokens.add(
            token_id=str(uuid.uuid4()), token_hash=hashlib.sha256(token.encode()).hexdigest(), description="t"
        )
        entry.created_at.GetCurrentTime()
        if expires_at is not None:
            entry.expires_at.FromDatetime(expires_at)
        await store.user_settings.upsert(setting)

    _run(client, write)


def _remove_pats(client: TestClient, user_id: int) -> None:
    _run(client, lambda: _store(client).user_settings.delete(user_id, "PERSONAL_ACCESS_TOKENS"))


PAT = "memos_pat_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"


@pytest.fixture
def public_client(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    profile = make_profile(tmp_path / "public", instance_url="http://memos.test")
    with TestClient(create_app(profile), raise_server_exceptions=False) as test_client:
        yield test_client


# --- SignIn -----------------------------------------------------------------------------


def test_sign_in_returns_user_with_email_and_a_15_minute_access_token(client: TestClient) -> None:  # 1, 15
    create_user_row(client, "alice", email="alice@example.com")
    response = client.post(SIGNIN, json=_password("alice"))
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "users/alice" and body["user"]["email"] == "alice@example.com"
    token = body["accessToken"]
    assert _header(token) == {"alg": "HS256", "kid": "v1", "typ": "JWT"}
    claims = _claims(token)
    assert claims["type"] == "access" and claims["iss"] == "memos" and claims["aud"] == ["user.access-token"]
    assert claims["sub"] == str(_run(client, lambda: _store(client).users.get(FindUser(username="alice"))).id)
    assert claims["exp"] - claims["iat"] == 900
    expires = dt.datetime.fromisoformat(body["accessTokenExpiresAt"].replace("Z", "+00:00"))
    ahead = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < ahead <= dt.timedelta(minutes=15)


def test_connect_sign_in_sets_the_refresh_cookie(client: TestClient) -> None:  # 2, 15
    create_user_row(client, "alice")
    response = _connect_sign_in(client, "alice")
    (set_cookie,) = response.headers.get_list("set-cookie")
    parts = set_cookie.split("; ")
    assert parts[0].startswith("memos_refresh=") and parts[1:3] == ["Path=/", "HttpOnly"]
    assert parts[3].startswith("Expires=") and parts[3].endswith(" GMT") and parts[4:] == ["SameSite=Lax"]
    claims = _claims(_jwt_of(parts[0]))
    assert claims["type"] == "refresh" and claims["aud"] == ["user.refresh-token"] and claims["tid"]
    assert claims["exp"] - claims["iat"] == 2_592_000
    assert response.json()["accessToken"]


def test_rest_sign_in_never_hands_out_the_refresh_token(client: TestClient) -> None:  # 15 (safer)
    create_user_row(client, "alice")
    response = client.post(SIGNIN, json=_password("alice"))
    assert response.status_code == 200
    assert "set-cookie" not in response.headers and "grpc-metadata-set-cookie" not in response.headers
    assert "memos_refresh" not in str(response.headers)


def test_unknown_user_and_wrong_password_get_the_same_answer(client: TestClient) -> None:  # 16, 17
    create_user_row(client, "alice")
    for credentials in (_password("alice", "wrong"), _password("alice", ""), _password("nobody"), _password("")):
        response = client.post(SIGNIN, json=credentials)
        assert response.status_code == 400
        assert response.json()["message"] == "unmatched username and password"
    connect = _connect(client, "SignIn", _password("alice", "wrong"))
    assert connect.status_code == 400
    assert connect.json() == {"code": "invalid_argument", "message": "unmatched username and password"}


def test_sign_in_without_credentials(client: TestClient) -> None:  # 18
    for response in (client.post(SIGNIN, json={}), _connect(client, "SignIn", {})):
        assert response.status_code == 400
        assert response.json()["message"] == "invalid credentials"


def test_disallowed_password_auth_blocks_users_not_admins(client: TestClient) -> None:  # 19
    create_user_row(client, "root1", role="ADMIN")
    create_user_row(client, "alice")
    _set_general(client, disallow_password_auth=True)
    response = client.post(SIGNIN, json=_password("alice"))
    assert response.status_code == 403 and response.json()["message"] == "password signin is not allowed"
    assert sign_in(client, "root1")
    # a wrong password still says only "unmatched", whatever the setting
    assert client.post(SIGNIN, json=_password("alice", "bad")).status_code == 400


def test_archived_user_cannot_sign_in(client: TestClient) -> None:  # 20
    user_id = create_user_row(client, "alice")
    _archive(client, user_id)
    response = client.post(SIGNIN, json=_password("alice"))
    assert response.status_code == 403
    assert response.json()["message"] == "user has been archived with username alice"


def test_legacy_usernames_can_sign_in(client: TestClient) -> None:  # 21
    create_user_row(client, "signin@example.com", password="secret")
    create_user_row(client, "legacy_user")
    assert sign_in(client, "signin@example.com", "secret")
    assert sign_in(client, "legacy_user")


def test_each_sign_in_appends_one_refresh_entry(client: TestClient) -> None:  # 22
    user_id = create_user_row(client, "alice")
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0"
    # The test client's peer is no trusted proxy: its X-Forwarded-For claim is not what gets recorded.
    first = _connect_sign_in(client, "alice", {"user-agent": agent, "x-forwarded-for": "198.51.100.4, 10.0.0.1"})
    entries = refresh_token_entries(client, user_id)
    assert len(entries) == 1
    assert entries[0].token_id == _claims(_jwt_of(_refresh_cookie(first)))["tid"]
    info = entries[0].client_info
    assert (info.user_agent, info.ip_address, info.device_type, info.os, info.browser) == (
        agent, "testclient", "desktop", "Linux", "Firefox 119.0")
    sign_in(client, "alice")
    _connect_sign_in(client, "alice")
    assert len(refresh_token_entries(client, user_id)) == 3


@pytest.fixture
def client_at(tmp_path: pathlib.Path) -> Iterator[Any]:
    """Open the app as seen from a given TCP peer address (the default trusted proxies: loopback)."""
    opened: list[TestClient] = []

    def at(peer: str) -> TestClient:
        profile = make_profile(tmp_path / f"peer-{len(opened)}")
        test_client = TestClient(create_app(profile), raise_server_exceptions=False, client=(peer, 40000))
        opened.append(test_client.__enter__())
        return test_client

    yield at
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("peer", "headers", "secure"),
    [
        ("127.0.0.1", {"x-forwarded-proto": "https"}, True),
        ("127.0.0.1", {"forwarded": "for=198.51.100.1;proto=https"}, True),
        ("127.0.0.1", {"x-forwarded-proto": "http"}, False),
        ("127.0.0.1", {}, False),
        # Safer than Memos: only a trusted proxy's word counts, and Origin never does.
        ("127.0.0.1", {"origin": "https://memos.example.com"}, False),
        ("192.168.1.20", {"x-forwarded-proto": "https"}, False),
        ("192.168.1.20", {"forwarded": "for=198.51.100.1;proto=https"}, False),
    ],
)
def test_cookie_secure_flag(client_at: Any, peer: str, headers: dict, secure: bool) -> None:  # 23
    client = client_at(peer)
    create_user_row(client, "alice")
    (set_cookie,) = _connect_sign_in(client, "alice", headers).headers.get_list("set-cookie")
    assert set_cookie.endswith("; Secure") is secure


def test_sign_in_takes_as_long_for_unknown_users_as_for_wrong_passwords(client: TestClient) -> None:  # safer
    # a hash at the real cost, as CreateUser writes it (test users are normally cheaper)
    create_user_row(client, "alice", password_hash=passwords.hash_password_blocking("right"))

    def duration(username: str) -> float:
        started = time.perf_counter()
        assert client.post(SIGNIN, json=_password(username, "wrong")).status_code == 400
        return time.perf_counter() - started

    # alternate so both see the same machine load; the minimum filters out scheduling noise
    wrong, unknown = [], []
    for _ in range(3):
        wrong.append(duration("alice"))
        unknown.append(duration("nobody-by-this-name"))
    # without the dummy comparison an unknown user answers some 50x faster than a bcrypt check
    assert min(unknown) > 0.5 * min(wrong)


def test_repeated_failures_for_one_account_are_slowed_down(client: TestClient) -> None:  # safer
    create_user_row(client, "alice")
    create_user_row(client, "bob")
    for _ in range(5):
        assert client.post(SIGNIN, json=_password("alice", "guess")).status_code == 400
    refused = client.post(SIGNIN, json=_password("alice"))  # even the right password must wait
    assert refused.status_code == 429
    assert refused.json()["code"] == 8
    assert refused.json()["message"].startswith("too many failed sign-in attempts; retry in ")
    connect = _connect(client, "SignIn", _password("alice"))
    assert connect.status_code == 429 and connect.json()["code"] == "resource_exhausted"
    assert sign_in(client, "bob")  # other accounts are unaffected
    time.sleep(1.1)  # the first wait is one second
    assert sign_in(client, "alice")


def test_repeated_failures_from_one_address_are_slowed_down(client: TestClient) -> None:  # safer
    create_user_row(client, "alice")
    for index in range(20):
        assert client.post(SIGNIN, json=_password(f"someone{index}", "guess")).status_code == 400
    refused = client.post(SIGNIN, json=_password("alice"))
    assert refused.status_code == 429
    assert "retry in" in refused.json()["message"]


def test_oversized_credentials_are_refused_before_anything_is_counted(client: TestClient) -> None:
    create_user_row(client, "alice")
    for _ in range(25):  # more than the per-address threshold
        too_long = client.post(SIGNIN, json=_password("u" * 257, "guess"))
        assert (too_long.status_code, too_long.json()["code"]) == (400, 3)
        assert too_long.json()["message"] == "username is too long: at most 256 bytes"
        connect = _connect(client, "SignIn", _password("alice", "p" * 1025))
        assert connect.status_code == 400 and connect.json() == {
            "code": "invalid_argument", "message": "password is too long: at most 1024 bytes"
        }
    assert sign_in(client, "alice")  # nothing was counted against the address or the account


def _sign_in_from(client: TestClient, forwarded_for: str, password: str = "pw") -> int:
    body = _password("alice", password)
    return client.post(SIGNIN, json=body, headers={"X-Forwarded-For": forwarded_for}).status_code


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(client_at: Any) -> None:  # safer
    client = client_at("127.0.0.1")  # a reverse proxy on this host, trusted by default
    create_user_row(client, "alice")
    assert _sign_in_from(client, "203.0.113.10") == 200  # the owner at home
    refused = 0
    for _ in range(12):
        refused += _sign_in_from(client, "198.51.100.66", "guess") == 429
    assert refused > 0  # the guesser is slowed down ...
    assert _sign_in_from(client, "203.0.113.10") == 200  # ... the owner at home is not
    assert _sign_in_from(client, "192.0.2.77") == 200  # nor the owner on a new network


def test_the_session_records_the_client_a_trusted_proxy_names(client_at: Any) -> None:
    client = client_at("127.0.0.1")
    user_id = create_user_row(client, "alice")
    _connect_sign_in(client, "alice", {"x-forwarded-for": "6.6.6.6, 198.51.100.4"})
    (entry,) = refresh_token_entries(client, user_id)
    assert entry.client_info.ip_address == "198.51.100.4"  # the proxy's entry, not the client's own claim


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_budget(client_at: Any) -> None:  # safer
    client = client_at("192.168.1.20")  # a LAN neighbour, not a named proxy
    create_user_row(client, "alice")
    for index in range(20):
        body = _password(f"someone{index}", "guess")
        assert client.post(SIGNIN, json=body, headers={"X-Forwarded-For": f"10.9.8.{index}"}).status_code == 400
    assert _sign_in_from(client, "10.9.8.200") == 429


# --- Access tokens and bearer resolution ------------------------------------------------


def test_get_current_user_with_the_access_token(client: TestClient) -> None:
    create_user_row(client, "alice", email="alice@example.com")
    token = sign_in(client, "alice")
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 200 and response.json()["user"]["email"] == "alice@example.com"
    connect = _connect(client, "GetCurrentUser", headers={"authorization": f"bearer {token}"})
    assert connect.status_code == 200 and connect.json()["user"]["username"] == "alice"


def test_get_current_user_anonymously(client: TestClient) -> None:  # 31, 38, 39
    response = client.get(ME)
    assert response.status_code == 401
    assert response.content == b'{"code": 16, "message": "authentication required"}\n'
    connect = _connect(client, "GetCurrentUser")
    assert connect.status_code == 401 and connect.json()["code"] == "unauthenticated"


def test_token_signed_with_another_secret_is_rejected(client: TestClient) -> None:  # 3
    user_id = create_user_row(client, "alice")
    other = b"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert client.get(ME, headers=bearer(forge_jwt(_access_claims(user_id), other))).status_code == 401
    assert client.get(ME, headers=bearer(forge_jwt(_access_claims(user_id), _secret(client)))).status_code == 200
    tid = _claims(_jwt_of(_refresh_cookie(_connect_sign_in(client, "alice"))))["tid"]
    forged = forge_jwt(_refresh_claims(user_id, tid), other)
    response = _connect(client, "RefreshToken", headers={"cookie": f"memos_refresh={forged}"})
    assert response.status_code == 401 and response.json()["message"].startswith("invalid refresh token: ")


def test_refresh_token_is_not_a_bearer_credential(client: TestClient) -> None:  # 4
    create_user_row(client, "alice")
    refresh = _jwt_of(_refresh_cookie(_connect_sign_in(client, "alice")))
    assert client.get(ME, headers=bearer(refresh)).status_code == 401


def test_access_token_is_not_a_refresh_cookie(client: TestClient) -> None:  # 5
    create_user_row(client, "alice")
    access = sign_in(client, "alice")
    response = _connect(client, "RefreshToken", headers={"cookie": f"memos_refresh={access}"})
    assert response.status_code == 401


@pytest.mark.parametrize("authorization", ["Bearer not-a-valid-jwt", "Bearer", "Basic abc", "Bearer a b", "bearer  "])
def test_unusable_authorization_means_anonymous(client: TestClient, authorization: str) -> None:  # 6
    assert client.get(PROFILE, headers={"Authorization": authorization}).status_code == 200
    assert client.get(ME, headers={"Authorization": authorization}).status_code == 401


def test_access_token_of_a_user_archived_later_is_rejected(client: TestClient) -> None:  # 7, 73
    user_id = create_user_row(client, "alice")
    token = sign_in(client, "alice")
    assert client.get(ME, headers=bearer(token)).status_code == 200
    _archive(client, user_id)
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_access_token_of_a_deleted_user_is_rejected(client: TestClient) -> None:
    user_id = create_user_row(client, "alice")
    token = sign_in(client, "alice")
    _run(client, lambda: _store(client).users.delete(user_id))
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_expired_bearer_on_a_public_rpc_gives_anonymous_data(client: TestClient) -> None:  # 40
    admin_id = create_user_row(client, "root1", role="ADMIN", email="root@example.com")
    expired = forge_jwt(_access_claims(admin_id, exp=int(time.time()) - 5, iat=int(time.time()) - 905), _secret(client))
    response = client.get(PROFILE, headers=bearer(expired))
    assert response.status_code == 200 and response.json()["admin"]["email"] == ""  # what anonymous sees
    fresh = sign_in(client, "root1")
    assert client.get(PROFILE, headers=bearer(fresh)).json()["admin"]["email"] == "root@example.com"
    assert client.get(ME, headers=bearer(expired)).status_code == 401


def test_demo_mode_signs_with_the_instance_secret_not_a_public_one(tmp_path: pathlib.Path) -> None:  # safer
    with TestClient(create_app(make_profile(tmp_path / "demo", demo=True))) as demo:
        user_id = create_user_row(demo, "alice")
        token = sign_in(demo, "alice")
        head, payload, signature = token.split(".")
        public_key_signature = hmac.new(b"usememos", f"{head}.{payload}".encode(), hashlib.sha256).digest()
        assert base64.urlsafe_b64encode(public_key_signature).rstrip(b"=").decode() != signature
        forged = forge_jwt(_access_claims(user_id), b"usememos")
        assert demo.get(ME, headers=bearer(forged)).status_code == 401
        assert demo.get(ME, headers=bearer(token)).status_code == 200


# --- Personal access tokens ----------------------------------------------------------


def test_pat_authenticates_on_a_private_instance(client: TestClient) -> None:  # 14, 31
    user_id = create_user_row(client, "alice", email="alice@example.com")
    _add_pat(client, user_id, PAT)
    response = client.get(ME, headers=bearer(PAT))
    assert response.status_code == 200
    assert response.json()["user"]["name"] == "users/alice" and response.json()["user"]["email"] == "alice@example.com"
    connect = _connect(client, "GetCurrentUser", headers={"authorization": f"Bearer {PAT}"})
    assert connect.status_code == 200


def test_pat_use_is_recorded_in_the_background(client: TestClient) -> None:  # 12
    user_id = create_user_row(client, "alice")
    _add_pat(client, user_id, PAT)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert client.get(ME, headers=bearer(PAT)).status_code == 200

    def last_used() -> dt.datetime | None:
        setting = _run(client, lambda: _store(client).user_settings.get(user_id, "PERSONAL_ACCESS_TOKENS"))
        (token,) = setting.personal_access_tokens.tokens
        return token.last_used_at.ToDatetime(dt.UTC) if token.HasField("last_used_at") else None

    deadline = time.monotonic() + 1.5
    while last_used() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    used = last_used()
    assert used is not None and used >= before


def test_expired_pat_and_pat_of_archived_user_are_rejected(client: TestClient) -> None:  # 11
    alice = create_user_row(client, "alice")
    bob = create_user_row(client, "bob")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    _add_pat(client, alice, PAT, expires_at=past)
    assert client.get(ME, headers=bearer(PAT)).status_code == 401
    bob_pat = PAT[:-1] + "Z"
    _add_pat(client, bob, bob_pat, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert client.get(ME, headers=bearer(bob_pat)).status_code == 200
    _archive(client, bob)
    assert client.get(ME, headers=bearer(bob_pat)).status_code == 401


def test_only_prefixed_strings_are_tried_as_pats(client: TestClient) -> None:  # 11
    user_id = create_user_row(client, "alice")
    unprefixed = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
    _add_pat(client, user_id, unprefixed)  # its hash is stored, but it lacks the prefix
    assert client.get(ME, headers=bearer(unprefixed)).status_code == 401


def test_deleted_pat_no_longer_authenticates(client: TestClient) -> None:  # 13
    user_id = create_user_row(client, "alice")
    _add_pat(client, user_id, PAT)
    assert client.get(ME, headers=bearer(PAT)).status_code == 200
    _remove_pats(client, user_id)
    assert client.get(ME, headers=bearer(PAT)).status_code == 401


def test_pat_reaches_methods_closed_to_anonymous_callers(client: TestClient) -> None:  # 14
    user_id = create_user_row(client, "alice")
    _add_pat(client, user_id, PAT)
    # SignOut is protected; with a PAT it runs but revokes nothing
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    response = _connect(client, "SignOut", headers={"authorization": f"Bearer {PAT}", "cookie": cookie})
    assert response.status_code == 200
    assert len(refresh_token_entries(client, user_id)) == 1


# --- RefreshToken --------------------------------------------------------------------


def test_refresh_without_a_cookie(client: TestClient) -> None:  # 24
    for response in (client.post(REFRESH, json={}), _connect(client, "RefreshToken")):
        assert response.status_code == 401
        assert response.json()["message"] == "refresh token not found"


def test_connect_refresh_rotates_the_cookie(client: TestClient) -> None:  # 25
    user_id = create_user_row(client, "alice")
    old = _refresh_cookie(_connect_sign_in(client, "alice"))
    response = _connect(client, "RefreshToken", headers={"cookie": f"theme=dark; {old}"})
    assert response.status_code == 200
    body = response.json()
    assert _claims(body["accessToken"])["type"] == "access" and body["expiresAt"]
    new = _refresh_cookie(response)
    assert new != old
    tids = [entry.token_id for entry in refresh_token_entries(client, user_id)]
    assert tids == [_claims(_jwt_of(new))["tid"]]
    reused = _connect(client, "RefreshToken", headers={"cookie": old})
    assert reused.status_code == 401 and "revoked" in reused.json()["message"]
    assert _connect(client, "RefreshToken", headers={"cookie": new}).status_code == 200


def test_stored_entry_past_its_expiry_is_rejected(client: TestClient) -> None:  # 26
    user_id = create_user_row(client, "alice")
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    (entry,) = refresh_token_entries(client, user_id)
    entry.expires_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    write_refresh_token_entries(client, user_id, [entry])
    response = _connect(client, "RefreshToken", headers={"cookie": cookie})
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_refresh_token_whose_id_is_not_stored(client: TestClient) -> None:  # 27
    user_id = create_user_row(client, "alice")
    forged = forge_jwt(_refresh_claims(user_id, str(uuid.uuid4())), _secret(client))
    response = _connect(client, "RefreshToken", headers={"cookie": f"memos_refresh={forged}"})
    assert response.status_code == 401
    assert response.json()["message"] == "invalid refresh token: refresh token revoked"


def test_refresh_for_an_archived_user(client: TestClient) -> None:  # 28
    user_id = create_user_row(client, "alice")
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    _archive(client, user_id)
    response = _connect(client, "RefreshToken", headers={"cookie": cookie})
    assert response.status_code == 401 and "archived" in response.json()["message"]


def test_rest_refresh_accepts_a_plain_cookie_and_keeps_it(client: TestClient) -> None:  # 24 superset, safer
    user_id = create_user_row(client, "alice")
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    for headers in ({"Cookie": cookie}, {"Grpc-Metadata-Cookie": cookie}):
        response = client.post(REFRESH, json={}, headers=headers)
        client.cookies.clear()
        assert response.status_code == 200
        assert _claims(response.json()["accessToken"])["type"] == "access"
        assert "memos_refresh" not in str(response.headers)  # no new refresh token for scripts to read
    # without a way to hand out a successor, REST does not rotate: the cookie stays usable
    assert len(refresh_token_entries(client, user_id)) == 1
    assert _connect(client, "RefreshToken", headers={"cookie": cookie}).status_code == 200


def test_rest_refresh_with_a_revoked_cookie(client: TestClient) -> None:
    user_id = create_user_row(client, "alice")
    forged = forge_jwt(_refresh_claims(user_id, str(uuid.uuid4())), _secret(client))
    response = client.post(REFRESH, json={}, headers={"Cookie": f"memos_refresh={forged}"})
    assert response.status_code == 401 and "revoked" in response.json()["message"]


def test_expired_entries_are_pruned_when_the_list_is_written(client: TestClient) -> None:  # safer
    user_id = create_user_row(client, "alice")
    stale = user_setting_pb2.RefreshTokensUserSetting.RefreshToken(token_id="stale")
    stale.expires_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    unexpiring = user_setting_pb2.RefreshTokensUserSetting.RefreshToken(token_id="no-expiry")
    write_refresh_token_entries(client, user_id, [stale, unexpiring])
    _connect_sign_in(client, "alice")
    tids = [entry.token_id for entry in refresh_token_entries(client, user_id)]
    assert "stale" not in tids and "no-expiry" in tids and len(tids) == 2


# --- SignOut --------------------------------------------------------------------------


def test_sign_out_requires_a_credential(client: TestClient) -> None:  # 29
    assert client.post(SIGNOUT).status_code == 401
    assert _connect(client, "SignOut").status_code == 401


def test_connect_sign_out_revokes_the_cookie_session(client: TestClient) -> None:  # 30
    user_id = create_user_row(client, "alice")
    signed_in = _connect_sign_in(client, "alice")
    cookie, access = _refresh_cookie(signed_in), signed_in.json()["accessToken"]
    _connect_sign_in(client, "alice")  # a second session that must survive
    assert len(refresh_token_entries(client, user_id)) == 2
    response = _connect(client, "SignOut", headers={"authorization": f"Bearer {access}", "cookie": cookie})
    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == [
        "memos_refresh=; Path=/; HttpOnly; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax"
    ]
    assert len(refresh_token_entries(client, user_id)) == 1
    assert _connect(client, "RefreshToken", headers={"cookie": cookie}).status_code == 401
    # the access token stays valid until it expires
    assert client.get(ME, headers=bearer(access)).status_code == 200


def test_connect_sign_out_clearing_cookie_is_secure_over_https(client_at: Any) -> None:
    client = client_at("127.0.0.1")
    create_user_row(client, "alice")
    access = sign_in(client, "alice")
    headers = {"authorization": f"Bearer {access}", "x-forwarded-proto": "https"}
    response = _connect(client, "SignOut", headers=headers)
    assert response.headers["set-cookie"].endswith("; SameSite=Lax; Secure")


def test_rest_sign_out_with_a_plain_cookie(client: TestClient) -> None:
    user_id = create_user_row(client, "alice")
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    access = sign_in(client, "alice")
    response = client.post(SIGNOUT, headers={**bearer(access), "Cookie": cookie})
    client.cookies.clear()
    assert response.status_code == 200 and response.json() == {}
    assert response.headers["grpc-metadata-set-cookie"].startswith("memos_refresh=; ")
    assert len(refresh_token_entries(client, user_id)) == 1  # only the REST sign-in's entry is left


def test_sign_out_never_touches_another_users_sessions(client: TestClient) -> None:
    bob_id = create_user_row(client, "bob")
    create_user_row(client, "alice")
    bob_cookie = _refresh_cookie(_connect_sign_in(client, "bob"))
    alice = sign_in(client, "alice")
    response = _connect(client, "SignOut", headers={"authorization": f"Bearer {alice}", "cookie": bob_cookie})
    assert response.status_code == 200
    assert len(refresh_token_entries(client, bob_id)) == 1


def test_cookie_alone_is_not_an_api_credential(client: TestClient) -> None:  # 32
    create_user_row(client, "alice")
    cookie = _refresh_cookie(_connect_sign_in(client, "alice"))
    assert client.get(ME, headers={"Cookie": cookie}).status_code == 401
    assert _connect(client, "GetCurrentUser", headers={"cookie": cookie}).status_code == 401


# --- access layer with credentials -------------------------------------------------------


def test_private_instance_bootstrap_methods_pass_anonymously(client: TestClient) -> None:  # 34 (auth part)
    assert client.post(SIGNIN, json=_password("nobody")).status_code == 400  # reached the service
    assert client.post(REFRESH, json={}).json()["message"] == "refresh token not found"


def test_anonymous_on_a_public_instance_still_cannot_reach_protected_auth_methods(public_client: TestClient) -> None:
    assert public_client.get(ME).status_code == 401
    assert public_client.post(SIGNOUT).status_code == 401
    create_user_row(public_client, "alice")
    assert public_client.get(ME, headers=bearer(sign_in(public_client, "alice"))).status_code == 200
