"""UserService users: sign-up and bootstrap, reading, listing, updating and deleting, over REST and Connect."""
from __future__ import annotations

import base64
import concurrent.futures
import json
import pathlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, make_profile, sign_in

from memos.app import create_app
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import user_service_pb2 as api

CONNECT = "/memos.api.v1.UserService/"
PNG_PIXEL = base64.b64encode(bytes.fromhex("89504e470d0a1a0a")).decode()


@pytest.fixture
def public(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    """A public instance (instance URL set): anonymous visitors may read users."""
    with TestClient(create_app(make_profile(tmp_path / "pub", instance_url="http://memos.test"))) as client:
        yield client


def connect_error(client: TestClient, method: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    response = client.post(
        CONNECT + method, content=json.dumps(body), headers={"content-type": "application/json", **(headers or {})}
    )
    return response.status_code, response.json()


def set_general(client: TestClient, **fields: bool) -> None:
    """Write the GENERAL instance setting through the store (InstanceService updates are another area)."""
    from memos.gen.store import instance_setting_pb2 as store_pb

    setting = store_pb.InstanceSetting(key=store_pb.GENERAL, general_setting=store_pb.InstanceGeneralSetting(**fields))
    client.portal.call(client.app.state.store.instance_settings.upsert, setting)


def admin_and_user(client: TestClient) -> tuple[str, str]:
    """Tokens of an admin ``root`` and a regular user ``alice`` (with e-mail addresses)."""
    create_user_row(client, "root", role="ADMIN", email="root@example.com")
    create_user_row(client, "alice", email="alice@example.com")
    return sign_in(client, "root"), sign_in(client, "alice")


# --- CreateUser and the first user ---------------------------------------------------------


def test_first_user_becomes_admin_and_the_profile_names_them(client: TestClient) -> None:
    response = client.post("/api/v1/users", json={"username": "first", "password": "secret", "email": "f@example.com"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "users/first" and body["role"] == "ADMIN" and body["email"] == "f@example.com"
    assert body["password"] == ""
    profile = client.get("/api/v1/instance/profile").json()
    assert profile["needsSetup"] is False and profile["admin"]["username"] == "first"
    assert profile["admin"]["email"] == ""  # anonymous viewers never see e-mail
    assert sign_in(client, "first", "secret")


def test_concurrent_first_sign_ups_make_exactly_one_admin(client: TestClient) -> None:
    def sign_up(index: int) -> str:
        response = client.post("/api/v1/users", json={"username": f"racer{index}", "password": "pw"})
        assert response.status_code == 200, response.text
        return response.json()["role"]

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        roles = list(pool.map(sign_up, range(12)))
    assert sorted(roles) == ["ADMIN"] + ["USER"] * 11


def test_later_anonymous_sign_up_is_a_user_whatever_role_it_asks_for(client: TestClient) -> None:
    create_user_row(client, "root", role="ADMIN")
    response = client.post("/api/v1/users", json={"username": "mallory", "password": "pw", "role": "ADMIN"})
    assert response.status_code == 200 and response.json()["role"] == "USER"


def test_registration_switch_refuses_anonymous_and_users_but_not_admins(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    set_general(client, disallow_user_registration=True)
    expected = {"code": 7, "message": "user registration is not allowed", "details": []}
    for headers in ({}, bearer(alice)):
        response = client.post("/api/v1/users", json={"username": "bob", "password": "pw"}, headers=headers)
        assert (response.status_code, response.json()) == (403, expected)
    response = client.post("/api/v1/users", json={"username": "bob", "password": "pw"}, headers=bearer(root))
    assert response.status_code == 200 and response.json()["role"] == "USER"


def test_password_auth_switch_refuses_sign_up(client: TestClient) -> None:
    create_user_row(client, "root", role="ADMIN")
    set_general(client, disallow_password_auth=True)
    status, body = connect_error(client, "CreateUser", {"user": {"username": "bob", "password": "pw"}})
    assert (status, body) == (403, {"code": "permission_denied", "message": "password signup is not allowed"})


def test_admin_creates_an_admin_over_connect_binary(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    request = api.CreateUserRequest(user=api.User(username="second", password="pw", role=api.User.ADMIN))
    created = connect_call(client, CONNECT + "CreateUser", request, api.User, "proto", headers=bearer(root))
    assert created.name == "users/second" and created.role == api.User.ADMIN


@pytest.mark.parametrize(
    ("user", "extra", "message"),
    [
        ({"username": "bob", "password": ""}, {}, "password must not be empty"),
        ({"username": "alice", "password": "pw"}, {"userId": "bob"}, "user_id must match user.username"),
        ({"username": "alice@example.com", "password": "pw"}, {}, 'invalid username "alice@example.com"'),
        ({"username": "legacy_user", "password": "pw"}, {"validateOnly": True}, 'invalid username "legacy_user"'),
        ({"username": "123", "password": "pw"}, {}, 'invalid username "123"'),
        ({"username": "a" + "b" * 36, "password": "pw"}, {}, f'invalid username "a{"b" * 36}"'),
    ],
)
def test_create_user_input_errors(client: TestClient, user: dict, extra: dict, message: str) -> None:
    status, body = connect_error(client, "CreateUser", {"user": user, **extra})
    assert (status, body) == (400, {"code": "invalid_argument", "message": message})


def test_create_user_without_a_user(client: TestClient) -> None:
    status, body = connect_error(client, "CreateUser", {})
    assert (status, body["message"]) == (400, "user is required")


def test_duplicate_username_is_already_exists(client: TestClient) -> None:
    # Memos answers INTERNAL (500); a taken name is the client's to fix.
    create_user_row(client, "root", role="ADMIN")
    create_user_row(client, "alice")
    root = sign_in(client, "root")
    status, body = connect_error(client, "CreateUser", {"user": {"username": "alice", "password": "pw"}})
    assert (status, body) == (409, {"code": "already_exists", "message": "username 'alice' is already taken"})
    for headers in ({}, bearer(root)):  # sign-up and admin creation
        rest = client.post("/api/v1/users", json={"username": "alice", "password": "pw"}, headers=headers)
        assert rest.status_code == 409
        assert rest.json() == {"code": 6, "message": "username 'alice' is already taken", "details": []}
    assert sign_in(client, "alice")  # the existing account is untouched


def test_validate_only_writes_nothing(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users?validateOnly=true", json={"username": "ghost", "password": "pw", "email": "g@example.com"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "" and body["username"] == "ghost" and body["role"] == "ADMIN"
    assert body["email"] == "g@example.com"
    assert client.get("/api/v1/instance/profile").json()["needsSetup"] is True


# --- GetUser, BatchGetUsers, ListUsers --------------------------------------------------------


def test_get_user_by_username_and_not_by_id(public: TestClient) -> None:
    create_user_row(public, "testuser")
    assert public.get("/api/v1/users/testuser").json()["name"] == "users/testuser"
    response = public.get("/api/v1/users/1")
    assert (response.status_code, response.json()["message"]) == (404, "user not found")


def test_email_is_shown_only_to_the_user_and_admins(public: TestClient) -> None:
    root, alice = admin_and_user(public)
    create_user_row(public, "bob")
    bob = sign_in(public, "bob")
    seen = {
        who: public.get("/api/v1/users/alice", headers=headers).json()["email"]
        for who, headers in {"anon": {}, "bob": bearer(bob), "alice": bearer(alice), "root": bearer(root)}.items()
    }
    assert seen == {"anon": "", "bob": "", "alice": "alice@example.com", "root": "alice@example.com"}


def test_mixed_case_usernames_round_trip(public: TestClient) -> None:
    create_user_row(public, "Gnammi")
    token = sign_in(public, "Gnammi")
    me = public.get("/api/v1/auth/me", headers=bearer(token)).json()["user"]
    assert me["name"] == "users/Gnammi"
    assert public.get("/api/v1/users/Gnammi").json()["username"] == "Gnammi"
    assert public.get("/api/v1/users/gnammi").status_code == 404
    settings = public.get("/api/v1/users/Gnammi/settings", headers=bearer(token)).json()
    assert settings["settings"][0]["name"] == "users/Gnammi/settings/GENERAL"


def test_batch_get_trims_deduplicates_and_skips_archived(public: TestClient) -> None:
    create_user_row(public, "batch@example.com")
    create_user_row(public, "gone", row_status="ARCHIVED")
    response = public.post(
        "/api/v1/users:batchGet",
        json={"usernames": [" batch@example.com ", "missing@example.com", "batch@example.com", "gone", ""]},
    )
    assert response.status_code == 200
    assert [u["name"] for u in response.json()["users"]] == ["users/batch@example.com"]
    assert public.post("/api/v1/users:batchGet", json={}).json() == {"users": []}


def test_batch_get_counts_names_before_deduplication(public: TestClient) -> None:
    response = public.post("/api/v1/users:batchGet", json={"usernames": ["same"] * 101})
    assert response.status_code == 400 and "too many usernames" in response.json()["message"]


def test_batch_get_answers_newest_first(public: TestClient) -> None:
    for index, name in enumerate(["old", "mid", "new"]):
        create_user_row(public, name, created_ts=1_700_000_000 + index)
    response = public.post("/api/v1/users:batchGet", json={"usernames": ["old", "new", "mid"]})
    assert [u["username"] for u in response.json()["users"]] == ["new", "mid", "old"]


@pytest.mark.parametrize("rpc", ["GetUser", "BatchGetUsers"])
def test_anonymous_reads_need_a_public_instance(client: TestClient, rpc: str) -> None:
    create_user_row(client, "alice")
    body = {"name": "users/alice"} if rpc == "GetUser" else {"usernames": ["alice"]}
    status, answer = connect_error(client, rpc, body)
    assert (status, answer["code"]) == (401, "unauthenticated")


def test_list_users_is_for_admins(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    response = client.get("/api/v1/users", headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (403, "permission denied")
    assert client.get("/api/v1/users").status_code == 401
    listed = client.get("/api/v1/users", headers=bearer(root)).json()
    assert {u["username"] for u in listed["users"]} == {"root", "alice"} and listed["nextPageToken"] == ""


def test_list_users_pages_through_everyone_once(client: TestClient) -> None:
    create_user_row(client, "root", role="ADMIN")
    for index in range(5):
        create_user_row(client, f"user{index}", row_status="ARCHIVED" if index == 0 else "NORMAL")
    root = sign_in(client, "root")
    seen, token = [], ""
    while True:
        page = client.get("/api/v1/users", params={"pageSize": 2, "pageToken": token}, headers=bearer(root)).json()
        assert len(page["users"]) <= 2
        seen += [u["username"] for u in page["users"]]
        token = page["nextPageToken"]
        if not token:
            break
        assert common_pb2.PageToken.FromString(base64.b64decode(token)).limit == 2
    assert sorted(seen) == sorted(["root", "user0", "user1", "user2", "user3", "user4"])


def test_list_users_filter_by_username(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    for text in ('username == "alice"', "'alice' == username"):
        users = client.get("/api/v1/users", params={"filter": text}, headers=bearer(root)).json()["users"]
        assert [u["username"] for u in users] == ["alice"]
    for text in ('email == "a"', 'username == ""', "username != 'alice'"):
        response = client.get("/api/v1/users", params={"filter": text}, headers=bearer(root))
        assert response.status_code == 400 and response.json()["message"].startswith("invalid filter: ")


def test_list_users_rejects_a_bad_page_token(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    response = client.get("/api/v1/users", params={"pageToken": "not-a-valid-token"}, headers=bearer(root))
    assert response.status_code == 400 and "invalid page token" in response.json()["message"]


# --- UpdateUser ------------------------------------------------------------------------------


def test_update_user_requires_a_user_and_a_mask(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    status, body = connect_error(client, "UpdateUser", {}, bearer(alice))
    assert (status, body["message"]) == (400, "user is required")
    status, body = connect_error(client, "UpdateUser", {"user": {"name": "users/alice"}}, bearer(alice))
    assert (status, body["message"]) == (400, "update mask is empty")


def test_update_user_profile_fields(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    response = client.patch(
        "/api/v1/users/alice", json={"displayName": "Alice A", "description": "hi", "email": "new@example.com"},
        headers=bearer(alice),
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["displayName"], body["description"], body["email"]) == ("Alice A", "hi", "new@example.com")


def test_update_with_the_name_in_the_rest_body_names_the_bad_path(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    body = {"name": "users/alice", "description": "x"}
    response = client.patch("/api/v1/users/alice", json=body, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (400, "invalid update path: name")


def test_empty_password_is_refused(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    response = client.patch("/api/v1/users/alice?updateMask=password", json={"password": ""}, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (400, "password must not be empty")


def test_a_pat_cannot_change_the_password(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    pat = client.post("/api/v1/users/alice/personalAccessTokens", json={}, headers=bearer(alice)).json()["token"]
    response = client.patch("/api/v1/users/alice", json={"password": "taken-over"}, headers=bearer(pat))
    assert (response.status_code, response.json()["code"]) == (403, 7)
    assert response.json()["message"] == (
        "a personal access token cannot change a password; sign in with your password or single sign-on"
    )
    status, body = connect_error(
        client, "UpdateUser",
        {"user": {"name": "users/alice", "password": "taken-over"}, "updateMask": "password"}, bearer(pat),
    )
    assert (status, body["code"]) == (403, "permission_denied")
    assert sign_in(client, "alice", "pw")  # unchanged
    renamed = client.patch("/api/v1/users/alice", json={"displayName": "Al"}, headers=bearer(pat))
    assert renamed.status_code == 200  # other profile fields stay open to scripts


def _connect_session(client: TestClient, username: str) -> str:
    """A refresh cookie from a Connect sign-in (kept out of the client's cookie jar)."""
    response = client.post(
        "/memos.api.v1.AuthService/SignIn", json={"passwordCredentials": {"username": username, "password": "pw"}}
    )
    assert response.status_code == 200, response.text
    cookie = response.cookies["memos_refresh"]
    client.cookies.clear()
    return cookie


def _refresh(client: TestClient, cookie: str) -> int:
    response = client.post(
        "/memos.api.v1.AuthService/RefreshToken", json={}, headers={"cookie": f"memos_refresh={cookie}"}
    )
    client.cookies.clear()
    return response.status_code


def test_password_change_keeps_only_the_changing_session(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    this_session, other_session = _connect_session(client, "alice"), _connect_session(client, "alice")
    response = client.patch(
        "/api/v1/users/alice",
        json={"password": "new-pw"},
        headers={**bearer(alice), "cookie": f"memos_refresh={this_session}"},
    )
    assert response.status_code == 200
    assert sign_in(client, "alice", "new-pw")
    assert _refresh(client, other_session) == 401
    assert _refresh(client, this_session) == 200
    assert client.get("/api/v1/auth/me", headers=bearer(alice)).status_code == 200  # the access token runs out alone


def test_admin_password_reset_ends_every_session(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    session = _connect_session(client, "alice")
    response = client.patch(
        "/api/v1/users/alice",
        json={"password": "reset"},
        headers={**bearer(root), "cookie": f"memos_refresh={session}"},
    )
    assert response.status_code == 200
    assert _refresh(client, session) == 401


def test_state_and_role_are_for_admins(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    for field, value in (("state", "ARCHIVED"), ("role", "ADMIN")):
        response = client.patch("/api/v1/users/alice", json={field: value}, headers=bearer(alice))
        assert response.status_code == 403
    response = client.patch("/api/v1/users/alice", json={"state": "ARCHIVED"}, headers=bearer(root))
    assert response.status_code == 200 and response.json()["state"] == "ARCHIVED"
    # The archived user's own credential no longer works.
    assert client.get("/api/v1/auth/me", headers=bearer(alice)).status_code == 401
    assert client.patch("/api/v1/users/alice", json={"description": "x"}, headers=bearer(alice)).status_code == 401


def test_admin_promotes_a_user(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    response = client.patch("/api/v1/users/alice", json={"role": "ADMIN"}, headers=bearer(root))
    assert response.json()["role"] == "ADMIN"


@pytest.mark.parametrize("name", ["alice@example.com", "legacy_user", "-bad", "123"])
def test_rename_to_an_invalid_username_is_refused_even_for_admins(client: TestClient, name: str) -> None:
    root, alice = admin_and_user(client)
    for token in (alice, root):
        response = client.patch("/api/v1/users/alice", json={"username": name}, headers=bearer(token))
        assert response.status_code == 400 and "invalid username" in response.json()["message"]
    assert client.get("/api/v1/users/alice", headers=bearer(root)).status_code == 200


def test_legacy_username_can_be_renamed_to_a_valid_one(client: TestClient) -> None:
    create_user_row(client, "bob@example.com")
    token = sign_in(client, "bob@example.com")
    response = client.patch("/api/v1/users/bob@example.com", json={"username": "bob"}, headers=bearer(token))
    assert response.status_code == 200 and response.json()["name"] == "users/bob"
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json()["user"]["name"] == "users/bob"


def test_rename_to_a_taken_username_is_a_conflict(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    response = client.patch("/api/v1/users/alice", json={"username": "root"}, headers=bearer(root))
    assert response.status_code == 409


def test_change_switches_refuse_renames_and_nicknames(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    set_general(client, disallow_change_username=True, disallow_change_nickname=True)
    for token in (alice, root):
        response = client.patch("/api/v1/users/alice", json={"username": "alicia"}, headers=bearer(token))
        assert (response.status_code, response.json()["message"]) == (
            403,
            "permission denied: disallow change username",
        )
        response = client.patch("/api/v1/users/alice", json={"displayName": "A"}, headers=bearer(token))
        assert (response.status_code, response.json()["message"]) == (
            403,
            "permission denied: disallow change nickname",
        )


def test_avatar_must_be_an_inline_raster_image(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    for url in ("https://example.com/a.png", f"data:image/svg+xml;base64,{PNG_PIXEL}"):
        response = client.patch("/api/v1/users/alice", json={"avatarUrl": url}, headers=bearer(alice))
        assert response.status_code == 400, url
    svg = client.patch(
        "/api/v1/users/alice", json={"avatarUrl": f"data:image/svg+xml;base64,{PNG_PIXEL}"}, headers=bearer(alice)
    ).json()["message"]
    assert svg == "invalid avatar image type: image/svg+xml. Only PNG, JPEG, GIF, and WebP are allowed"
    response = client.patch(
        "/api/v1/users/alice", json={"avatarUrl": f"data:image/png;base64,{PNG_PIXEL}"}, headers=bearer(alice)
    )
    assert response.status_code == 200 and response.json()["avatarUrl"] == "/file/users/alice/avatar"


def test_unknown_update_path(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    status, body = connect_error(
        client, "UpdateUser", {"user": {"name": "users/alice"}, "updateMask": "name"}, bearer(alice)
    )
    assert (status, body["message"]) == (400, "invalid update path: name")


def test_first_bad_path_aborts_the_whole_update(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    status, _ = connect_error(
        client,
        "UpdateUser",
        {"user": {"name": "users/alice", "description": "changed", "role": "ADMIN"}, "updateMask": "description,role"},
        bearer(alice),
    )
    assert status == 403
    assert client.get("/api/v1/users/alice", headers=bearer(root)).json()["description"] == ""


def test_other_users_may_not_update_or_delete(client: TestClient) -> None:
    _, alice = admin_and_user(client)
    create_user_row(client, "bob")
    response = client.patch("/api/v1/users/bob", json={"description": "x"}, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (403, "permission denied")
    assert client.delete("/api/v1/users/bob", headers=bearer(alice)).status_code == 403


def test_update_of_a_missing_user(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    response = client.patch("/api/v1/users/nobody", json={"description": "x"}, headers=bearer(root))
    assert (response.status_code, response.json()["message"]) == (404, "user not found")


# --- DeleteUser ---------------------------------------------------------------------------------


def test_self_delete_removes_the_user_and_clears_the_cookie(client: TestClient) -> None:
    root, alice = admin_and_user(client)
    response = client.post(CONNECT + "DeleteUser", json={"name": "users/alice"}, headers=bearer(alice))
    assert response.status_code == 200, response.text
    assert response.headers["set-cookie"].startswith("memos_refresh=; Path=/; HttpOnly; Expires=Thu, 01 Jan 1970")
    assert client.get("/api/v1/users/alice", headers=bearer(root)).status_code == 404
    assert client.get("/api/v1/auth/me", headers=bearer(alice)).status_code == 401


def test_admin_deletes_another_user_without_touching_cookies(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    response = client.delete("/api/v1/users/alice", headers=bearer(root))
    assert response.status_code == 200 and "grpc-metadata-set-cookie" not in response.headers
    assert client.delete("/api/v1/users/alice", headers=bearer(root)).status_code == 404


def _add_local_attachment(client: TestClient, uid: str, owner: str, reference: str) -> None:
    import apsw

    profile = client.app.state.profile
    connection = apsw.Connection(profile.dsn)
    try:
        with connection:
            connection.execute(
                "INSERT INTO attachment (uid, creator_id, filename, type, size, storage_type, reference)"
                " SELECT ?, id, 'f.txt', 'text/plain', 2, 'LOCAL', ? FROM user WHERE username = ?",
                (uid, reference, owner),
            )
    finally:
        connection.close()


def test_delete_removes_the_users_local_files(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    data = pathlib.Path(client.app.state.profile.data)
    (data / "assets").mkdir()
    (data / "assets" / "mine.txt").write_text("hi")
    (data / ".thumbnail_cache").mkdir()
    (data / ".thumbnail_cache" / "att1.v2.jpeg").write_bytes(b"jpg")
    _add_local_attachment(client, "att1", "alice", str(data / "assets" / "mine.txt"))
    response = client.delete("/api/v1/users/alice", headers=bearer(root))
    assert response.status_code == 200, response.text
    assert not (data / "assets" / "mine.txt").exists() and not (data / ".thumbnail_cache" / "att1.v2.jpeg").exists()


def test_delete_whose_file_cleanup_fails_reports_it_and_stays_deleted(client: TestClient) -> None:
    root, _ = admin_and_user(client)
    # Nobody, root included, can remove a file from /proc: the cleanup must fail.
    _add_local_attachment(client, "stuck", "alice", "/proc/version")
    response = client.delete("/api/v1/users/alice", headers=bearer(root))
    assert response.status_code == 500
    message = response.json()["message"]
    assert "attachment storage cleanup failed for 1 attachment(s)" in message and "attachment_id=" in message
    assert client.get("/api/v1/users/alice", headers=bearer(root)).status_code == 404
