"""The file server's avatar route and the credentials of /file routes, over HTTP through the whole app.

Server spec §13.3 (credentials), §13.6 (avatars), checklist item 55; auth spec
§2.4 (the /file row), §5.2 (avatar_url rendering) and issue 3 item 8: a present
but invalid refresh cookie is anonymous here, never a 500.
"""
from __future__ import annotations

import base64
import datetime as dt
import pathlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient
from support import (
    bearer,
    create_user_row,
    make_profile,
    refresh_token_entries,
    running_server,
    sign_in,
    write_refresh_token_entries,
)

from memos.app import create_app

AVATAR = "/file/users/alice/avatar"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline';",
}
UNAUTHORIZED_BODY = b'{"message":"unauthorized access"}\n'


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def public_client(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_profile(tmp_path / "public", instance_url="http://memos.test")),
                    raise_server_exceptions=False) as client:
        yield client


def _store(client: TestClient) -> Any:
    return client.app.state.store


def _run(client: TestClient, make_coroutine: Callable[[], Any]) -> Any:
    return client.portal.call(make_coroutine)


def _alice(client: TestClient, avatar_url: str = PNG_URI, **columns: Any) -> int:
    return create_user_row(client, "alice", avatar_url=avatar_url, **columns)


def _set_avatar(client: TestClient, user_id: int, avatar_url: str) -> None:
    _run(client, lambda: _store(client).update_user(user_id, avatar_url=avatar_url))


def _archive(client: TestClient, user_id: int) -> None:
    _run(client, lambda: _store(client).update_user(user_id, row_status="ARCHIVED"))


def _refresh_cookie(client: TestClient, username: str) -> str:
    """``memos_refresh=<jwt>`` from a Connect sign-in (the transport that hands the cookie out)."""
    response = client.post(
        "/memos.api.v1.AuthService/SignIn",
        json={"passwordCredentials": {"username": username, "password": "pw"}},
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()  # every request below sends its cookie explicitly
    return response.headers["set-cookie"].split(";")[0]


def _get(client: TestClient, path: str = AVATAR, *, cookie: str | None = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    sent = dict(headers or {})
    if cookie is not None:
        sent["cookie"] = cookie
    return client.get(path, headers=sent)


def _secret(client: TestClient) -> str:
    return _run(client, _store(client).basic_setting).secret_key


def _refresh_jwt(client: TestClient, user_id: int, tid: str, *, exp: int) -> str:
    """A refresh token signed by PyJWT (an implementation independent of ours)."""
    claims = {"type": "refresh", "tid": tid, "iss": "memos", "sub": str(user_id), "aud": ["user.refresh-token"],
              "exp": exp, "iat": exp - 3600}
    return jwt.encode(claims, _secret(client), algorithm="HS256", headers={"kid": "v1"})


def _assert_avatar(response: httpx.Response, content: bytes = PNG, content_type: str = "image/png") -> None:
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=3600"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "color-gamut" not in response.headers  # attachments only, never avatars


def _assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.content == UNAUTHORIZED_BODY
    assert response.headers["content-type"] == "application/json"


# --- access -------------------------------------------------------------------------------


def test_anonymous_avatar_public_200_private_401(client: TestClient, public_client: TestClient) -> None:  # 55
    _alice(public_client)
    _assert_avatar(_get(public_client))
    _alice(client)
    _assert_unauthorized(_get(client))


def test_private_instance_accepts_an_access_token(client: TestClient) -> None:
    _alice(client)
    _assert_avatar(_get(client, headers=bearer(sign_in(client, "alice"))))


def test_private_instance_accepts_another_users_credential(client: TestClient) -> None:
    _alice(client)
    create_user_row(client, "bob")
    _assert_avatar(_get(client, headers=bearer(sign_in(client, "bob"))))


def test_private_instance_accepts_a_personal_access_token(client: TestClient) -> None:
    _alice(client)
    alice = bearer(sign_in(client, "alice"))
    created = client.post("/api/v1/users/alice/personalAccessTokens", json={"description": "img"}, headers=alice)
    assert created.status_code == 200, created.text
    _assert_avatar(_get(client, headers=bearer(created.json()["token"])))


def test_private_instance_accepts_the_refresh_cookie(client: TestClient) -> None:
    _alice(client)
    _assert_avatar(_get(client, cookie=_refresh_cookie(client, "alice")))


def test_invalid_bearer_falls_back_to_the_cookie(client: TestClient) -> None:
    _alice(client)
    cookie = _refresh_cookie(client, "alice")
    for authorization in ("Bearer not-a-token", "Bearer memos_pat_unknown", "Basic abc"):
        _assert_avatar(_get(client, cookie=cookie, headers={"authorization": authorization}))


def test_invalid_bearer_without_a_cookie_is_anonymous(client: TestClient) -> None:
    _alice(client)
    for authorization in ("Bearer not-a-token", "Bearer memos_pat_unknown", "Bearer"):
        _assert_unauthorized(_get(client, headers={"authorization": authorization}))


def test_refresh_cookie_among_other_cookies(client: TestClient) -> None:
    _alice(client)
    cookie = _refresh_cookie(client, "alice")
    _assert_avatar(_get(client, cookie=f"theme=dark; {cookie}; lang=en"))


def test_empty_refresh_cookie_is_anonymous(client: TestClient) -> None:
    _alice(client)
    _assert_unauthorized(_get(client, cookie="memos_refresh="))


def test_archived_callers_credentials_are_refused(client: TestClient) -> None:
    _alice(client)
    bob_id = create_user_row(client, "bob")
    token, cookie = sign_in(client, "bob"), _refresh_cookie(client, "bob")
    _archive(client, bob_id)
    _assert_unauthorized(_get(client, headers=bearer(token)))
    _assert_unauthorized(_get(client, cookie=cookie))


# --- invalid refresh cookies: anonymous, never 500 (safer than Memos) ---------------------


def _malformed(client: TestClient, bob_id: int) -> str:
    return "memos_refresh=garbage"


def _wrong_signature(client: TestClient, bob_id: int) -> str:
    claims = {"type": "refresh", "tid": "t", "iss": "memos", "sub": str(bob_id), "aud": ["user.refresh-token"],
              "exp": int(time.time()) + 3600}
    forged = jwt.encode(claims, "not the instance secret, but long enough", algorithm="HS256", headers={"kid": "v1"})
    return "memos_refresh=" + forged


def _access_token_as_cookie(client: TestClient, bob_id: int) -> str:
    return "memos_refresh=" + sign_in(client, "bob")


def _revoked_by_sign_out(client: TestClient, bob_id: int) -> str:
    cookie = _refresh_cookie(client, "bob")
    response = client.post("/api/v1/auth/signout", headers={**bearer(sign_in(client, "bob")), "cookie": cookie})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    tid = jwt.decode(cookie.split("=", 1)[1], options={"verify_signature": False})["tid"]
    assert tid not in [entry.token_id for entry in refresh_token_entries(client, bob_id)]
    return cookie


def _never_stored(client: TestClient, bob_id: int) -> str:
    return "memos_refresh=" + _refresh_jwt(client, bob_id, str(uuid.uuid4()), exp=int(time.time()) + 3600)


def _stored_entry_expired(client: TestClient, bob_id: int) -> str:
    cookie = _refresh_cookie(client, "bob")
    (entry,) = refresh_token_entries(client, bob_id)
    entry.expires_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    write_refresh_token_entries(client, bob_id, [entry])
    return cookie


def _token_expired(client: TestClient, bob_id: int) -> str:
    # The stored entry is still valid; only the JWT's own exp has passed.
    _refresh_cookie(client, "bob")
    (entry,) = refresh_token_entries(client, bob_id)
    return "memos_refresh=" + _refresh_jwt(client, bob_id, entry.token_id, exp=int(time.time()) - 5)


def _user_archived(client: TestClient, bob_id: int) -> str:
    cookie = _refresh_cookie(client, "bob")
    _archive(client, bob_id)
    return cookie


def _user_deleted(client: TestClient, bob_id: int) -> str:
    cookie = _refresh_cookie(client, "bob")
    _run(client, lambda: _store(client).delete_user(bob_id))
    return cookie


INVALID_COOKIES = [
    _malformed, _wrong_signature, _access_token_as_cookie, _revoked_by_sign_out, _never_stored,
    _stored_entry_expired, _token_expired, _user_archived, _user_deleted,
]


@pytest.mark.parametrize("make_cookie", INVALID_COOKIES, ids=lambda make: make.__name__.strip("_"))
def test_invalid_refresh_cookie_is_anonymous_on_a_private_instance(
    client: TestClient, make_cookie: Callable[[TestClient, int], str]
) -> None:
    _alice(client)
    cookie = make_cookie(client, create_user_row(client, "bob"))
    _assert_unauthorized(_get(client, cookie=cookie))


@pytest.mark.parametrize("make_cookie", INVALID_COOKIES, ids=lambda make: make.__name__.strip("_"))
def test_invalid_refresh_cookie_is_anonymous_on_a_public_instance(
    public_client: TestClient, make_cookie: Callable[[TestClient, int], str]
) -> None:
    _alice(public_client)
    cookie = make_cookie(public_client, create_user_row(public_client, "bob"))
    _assert_avatar(_get(public_client, cookie=cookie))


def test_the_same_cookie_works_until_it_is_revoked(client: TestClient) -> None:
    # Guards the parametrized cases: the cookie they spoil is a working credential before.
    _alice(client)
    create_user_row(client, "bob")
    cookie = _refresh_cookie(client, "bob")
    _assert_avatar(_get(client, cookie=cookie))
    client.post("/api/v1/auth/signout", headers={**bearer(sign_in(client, "bob")), "cookie": cookie})
    client.cookies.clear()
    _assert_unauthorized(_get(client, cookie=cookie))


# --- the avatar itself --------------------------------------------------------------------


def _error(response: httpx.Response) -> tuple[int, bytes]:
    return response.status_code, response.content


def test_unknown_user(public_client: TestClient) -> None:
    _alice(public_client)
    assert _error(_get(public_client, "/file/users/nobody/avatar")) == (404, b'{"message":"user not found"}\n')


def test_username_is_matched_exactly_and_ids_are_not_names(public_client: TestClient) -> None:
    alice_id = _alice(public_client)
    for path in ("/file/users/Alice/avatar", f"/file/users/{alice_id}/avatar"):
        assert _error(_get(public_client, path)) == (404, b'{"message":"user not found"}\n')


def test_user_without_avatar(public_client: TestClient) -> None:
    _alice(public_client, avatar_url="")
    assert _error(_get(public_client)) == (404, b'{"message":"avatar not found"}\n')


@pytest.mark.parametrize("stored", [
    "https://sso.example.com/pictures/alice.png",  # what an SSO provider's field mapping stores
    "data:image/png,notbase64",
    "data:image/png;base64,",
    "data:image/png;base64,%%%not-base64%%%",
    "data:image/png;base64,iVBORw0KGgo",  # padding missing
])
def test_stored_value_that_is_no_inline_image_is_not_found(public_client: TestClient, stored: str) -> None:
    # Memos answers 500 for these; there is simply no avatar to serve.
    _alice(public_client, avatar_url=stored)
    response = _get(public_client)
    assert _error(response) == (404, b'{"message":"avatar not found"}\n')
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("image_type", ["image/svg+xml", "text/html", "image/png;charset=utf-8", "IMAGE/PNG"])
def test_type_not_allowed(public_client: TestClient, image_type: str) -> None:
    _alice(public_client, avatar_url=f"data:{image_type};base64," + base64.b64encode(PNG).decode())
    assert _error(_get(public_client)) == (400, b'{"message":"invalid avatar image type"}\n')


@pytest.mark.parametrize("image_type", ["image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp",
                                        "image/heic", "image/heif"])
def test_every_allowed_type_is_served_as_stored(public_client: TestClient, image_type: str) -> None:
    payload = b"\x00\x01image bytes\xff"
    _alice(public_client, avatar_url=f"data:{image_type};base64," + base64.b64encode(payload).decode())
    _assert_avatar(_get(public_client), payload, image_type)


def test_archived_users_avatar_is_still_served(client: TestClient) -> None:
    alice_id = _alice(client)
    create_user_row(client, "bob")
    _archive(client, alice_id)
    _assert_avatar(_get(client, headers=bearer(sign_in(client, "bob"))))


def test_uploaded_avatar_round_trip(client: TestClient) -> None:
    # The API renders an inline avatar as this route's path; the route serves what was uploaded.
    create_user_row(client, "alice")
    alice = bearer(sign_in(client, "alice"))
    updated = client.patch("/api/v1/users/alice?updateMask=avatar_url", json={"avatarUrl": PNG_URI}, headers=alice)
    assert updated.status_code == 200, updated.text
    path = updated.json()["avatarUrl"]
    assert path == AVATAR
    _assert_avatar(_get(client, path, headers=alice))


def test_avatar_changes_are_served_at_once(public_client: TestClient) -> None:
    alice_id = _alice(public_client)
    _assert_avatar(_get(public_client))
    _set_avatar(public_client, alice_id, "data:image/gif;base64," + base64.b64encode(b"GIF89a").decode())
    _assert_avatar(_get(public_client), b"GIF89a", "image/gif")


def test_private_check_comes_before_the_user_lookup(client: TestClient) -> None:
    # Anonymous callers of a private instance learn nothing about which usernames exist.
    _assert_unauthorized(_get(client, "/file/users/nobody/avatar"))


# --- other /file paths --------------------------------------------------------------------


def test_other_file_paths_get_the_gateways_not_found(client: TestClient) -> None:
    gateway = client.get("/api/v1/no/such/binding")
    assert gateway.status_code == 404
    for path in ("/file/users/alice", "/file/users/alice/avatar/extra", "/file/elsewhere"):
        response = client.get(path)
        assert (response.status_code, response.content) == (404, gateway.content), path
        assert response.json() == {"code": 5, "message": "Not Found", "details": []}


# --- the real server process --------------------------------------------------------------


def test_avatar_on_the_real_server(tmp_path: pathlib.Path) -> None:
    """`python -m memos`, private: the first user signs in over Connect and the cookie opens the avatar."""
    with running_server([sys.executable, "-m", "memos"], tmp_path / "data") as url, httpx.Client(base_url=url) as http:
        created = http.post("/api/v1/users", json={"username": "alice", "password": "pw"})
        assert created.status_code == 200, created.text
        signed_in = http.post(
            "/memos.api.v1.AuthService/SignIn", json={"passwordCredentials": {"username": "alice", "password": "pw"}}
        )
        assert signed_in.status_code == 200, signed_in.text
        access = signed_in.json()["accessToken"]
        cookie = signed_in.headers["set-cookie"].split(";")[0]
        http.cookies.clear()
        patched = http.patch("/api/v1/users/alice?updateMask=avatar_url", json={"avatarUrl": PNG_URI},
                             headers=bearer(access))
        assert patched.status_code == 200, patched.text
        _assert_unauthorized(http.get(AVATAR))
        _assert_unauthorized(http.get(AVATAR, headers={"cookie": "memos_refresh=garbage"}))
        _assert_avatar(http.get(AVATAR, headers={"cookie": cookie}))
