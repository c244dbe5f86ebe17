"""UserService linked identities, statistics and the notification inbox, through the real app."""
from __future__ import annotations

import pathlib
from collections.abc import Iterator

import apsw
import pytest
from google.protobuf import json_format
from oauth2_provider import OAuth2Provider
from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, sign_in

from memos.app import create_app
from memos.gen.store import idp_pb2, inbox_pb2

CONNECT = "/memos.api.v1.UserService/"


@pytest.fixture
def public(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_profile(tmp_path / "pub", instance_url="http://memos.test"))) as client:
        yield client


def users(client: TestClient) -> tuple[str, str, str]:
    """Tokens of admin ``root`` and regular users ``alice`` and ``bob``."""
    create_user_row(client, "root", role="ADMIN")
    create_user_row(client, "alice")
    create_user_row(client, "bob")
    return sign_in(client, "root"), sign_in(client, "alice"), sign_in(client, "bob")


def user_id(client: TestClient, username: str) -> int:
    async def lookup() -> int:
        return (await client.app.state.store.get_user(username=username)).id

    return client.portal.call(lookup)


def insert_memo(client: TestClient, creator: str, uid: str, visibility: str = "PUBLIC", *, pinned: bool = False,
                payload: str = "{}", row_status: str = "NORMAL", created_ts: int = 1_700_000_000) -> int:
    """A memo row written beside the running app (memo writes belong to the memo issue)."""
    connection = apsw.Connection(client.app.state.profile.dsn)
    try:
        with connection:
            connection.execute(
                "INSERT INTO memo (uid, creator_id, content, visibility, pinned, payload, row_status, created_ts,"
                " updated_ts) VALUES (?, ?, 'text', ?, ?, ?, ?, ?, ?)",
                (uid, user_id(client, creator), visibility, int(pinned), payload, row_status, created_ts,
                 created_ts + 5),
            )
        return connection.last_insert_rowid()
    finally:
        connection.close()


def add_comment_relation(client: TestClient, comment_id: int, memo_id: int) -> None:
    connection = apsw.Connection(client.app.state.profile.dsn)
    try:
        with connection:
            connection.execute(
                "INSERT INTO memo_relation (memo_id, related_memo_id, type) VALUES (?, ?, 'COMMENT')",
                (comment_id, memo_id),
            )
    finally:
        connection.close()


# --- linked identities ------------------------------------------------------------------


def add_provider(client: TestClient, provider: OAuth2Provider, uid: str = "corp") -> None:
    config = idp_pb2.IdentityProviderConfig()
    json_format.ParseDict({"oauth2Config": provider.oauth2_config()}, config)
    idp = idp_pb2.IdentityProvider(uid=uid, name="Corp", type=idp_pb2.IdentityProvider.OAUTH2, config=config)
    client.portal.call(client.app.state.store.create_identity_provider, idp)


def link(client: TestClient, provider: OAuth2Provider, token: str, owner: str, subject: str, uid: str = "corp"):
    return client.post(
        f"/api/v1/users/{owner}/linkedIdentities",
        json={"idpName": f"identity-providers/{uid}", "code": provider.issue_code(subject),
              "redirectUri": "http://memos.test/auth/callback"},
        headers=bearer(token),
    )


def test_linking_binds_the_current_user_and_round_trips(client: TestClient, provider: OAuth2Provider) -> None:
    root, alice, _ = users(client)
    add_provider(client, provider)
    response = link(client, provider, alice, "alice", "ext-alice")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "users/alice/linkedIdentities/corp", "idpName": "identity-providers/corp", "externUid": "ext-alice"
    }
    # Linking the same account again is a no-op success; no user was created.
    assert link(client, provider, alice, "alice", "ext-alice").status_code == 200
    assert len(client.get("/api/v1/users", headers=bearer(root)).json()["users"]) == 3
    for token in (alice, root):
        listed = client.get("/api/v1/users/alice/linkedIdentities", headers=bearer(token)).json()
        assert [i["externUid"] for i in listed["linkedIdentities"]] == ["ext-alice"]
        got = client.get("/api/v1/users/alice/linkedIdentities/corp", headers=bearer(token))
        assert got.json()["idpName"] == "identity-providers/corp"
    assert client.delete("/api/v1/users/alice/linkedIdentities/corp", headers=bearer(alice)).status_code == 200
    assert client.get("/api/v1/users/alice/linkedIdentities", headers=bearer(alice)).json()["linkedIdentities"] == []
    missing = client.get("/api/v1/users/alice/linkedIdentities/corp", headers=bearer(alice))
    assert (missing.status_code, missing.json()["message"]) == (404, "linked identity not found")
    assert client.delete("/api/v1/users/alice/linkedIdentities/corp", headers=bearer(alice)).status_code == 404


def test_linking_conflicts(client: TestClient, provider: OAuth2Provider) -> None:
    _, alice, bob = users(client)
    add_provider(client, provider)
    assert link(client, provider, alice, "alice", "ext-alice").status_code == 200
    taken = link(client, provider, bob, "bob", "ext-alice")
    assert (taken.status_code, taken.json()["message"]) == (
        409, "identity provider account is already linked to another user"
    )
    other = link(client, provider, alice, "alice", "ext-other")
    assert (other.status_code, other.json()["message"]) == (
        409, "identity provider is already linked to another external account for this user"
    )


def test_linking_is_for_the_user_alone_and_listing_needs_a_caller(client: TestClient, provider: OAuth2Provider) -> None:
    root, _, bob = users(client)
    add_provider(client, provider)
    for token in (root, bob):
        assert link(client, provider, token, "alice", "x").status_code == 403
    assert client.get("/api/v1/users/alice/linkedIdentities").status_code == 401
    assert client.get("/api/v1/users/alice/linkedIdentities", headers=bearer(bob)).status_code == 403


def test_linking_with_an_unknown_provider(client: TestClient, provider: OAuth2Provider) -> None:
    _, alice, _ = users(client)
    response = link(client, provider, alice, "alice", "x", uid="nope")
    assert (response.status_code, response.json()["message"]) == (400, "identity provider not found")


# --- stats ---------------------------------------------------------------------------------


def test_user_stats_count_what_the_caller_may_see(public: TestClient) -> None:
    root, alice, bob = users(public)
    insert_memo(public, "alice", "pub1", "PUBLIC", pinned=True, payload='{"tags":["work"],"property":{"hasLink":true}}')
    insert_memo(public, "alice", "prot", "PROTECTED", payload='{"tags":["work","home"]}')
    insert_memo(public, "alice", "priv", "PRIVATE", payload='{"tags":["secret"],"property":{"hasCode":true}}')
    comment = insert_memo(public, "bob", "cmt", "PUBLIC", payload='{"tags":["work"]}')
    add_comment_relation(public, comment, 1)
    insert_memo(public, "alice", "old", "PUBLIC", row_status="ARCHIVED")

    anonymous = public.get("/api/v1/users/alice:getStats").json()
    assert anonymous["name"] == "users/alice/stats" and anonymous["totalMemoCount"] == 1
    assert anonymous["tagCount"] == {"work": 1} and anonymous["pinnedMemos"] == ["memos/pub1"]
    assert anonymous["memoTypeStats"]["linkCount"] == 1
    assert anonymous["memoCreatedTimestamps"] == ["2023-11-14T22:13:20Z"]
    assert anonymous["memoUpdatedTimestamps"] == ["2023-11-14T22:13:25Z"]
    for token in (bob, root):  # admins get no bypass
        seen = public.get("/api/v1/users/alice:getStats", headers=bearer(token)).json()
        assert seen["totalMemoCount"] == 2 and seen["tagCount"] == {"work": 2, "home": 1}
    own = public.get("/api/v1/users/alice:getStats", headers=bearer(alice)).json()
    assert own["totalMemoCount"] == 3 and own["tagCount"]["secret"] == 1 and own["memoTypeStats"]["codeCount"] == 1
    missing = public.get("/api/v1/users/1:getStats")
    assert (missing.status_code, missing.json()["message"]) == (404, "user not found")


def test_all_user_stats(public: TestClient) -> None:
    _, alice, bob = users(public)
    insert_memo(public, "alice", "a1", "PUBLIC", payload='{"tags":["a"]}')
    insert_memo(public, "alice", "a2", "PRIVATE", payload='{"tags":["mine"]}')
    insert_memo(public, "bob", "b1", "PROTECTED", payload='{"tags":["b"]}')
    insert_memo(public, "alice", "a3", "PUBLIC", row_status="ARCHIVED", payload='{"tags":["archived"]}')

    def stats(headers: dict, **params: str) -> dict[str, dict]:
        body = public.get("/api/v1/users:stats", params=params, headers=headers).json()
        return {s["name"]: s["tagCount"] for s in body["stats"]}

    assert stats({}) == {"users/alice/stats": {"a": 1}}
    assert stats(bearer(alice)) == {"users/alice/stats": {"a": 1, "mine": 1}, "users/bob/stats": {"b": 1}}
    assert stats(bearer(alice), state="ARCHIVED") == {"users/alice/stats": {"archived": 1}}
    assert stats(bearer(bob), state="ARCHIVED") == {}
    assert stats({}, state="ARCHIVED") == {}


def test_stats_need_a_public_instance_for_anonymous_callers(client: TestClient) -> None:
    create_user_row(client, "alice")
    assert client.get("/api/v1/users/alice:getStats").status_code == 401
    assert client.get("/api/v1/users:stats").status_code == 401


# --- notifications ----------------------------------------------------------------------------


def add_inbox(client: TestClient, sender: str, receiver: str, kind: str, memo_id: int, related_id: int = 0,
              created_ts: int = 1_700_000_000) -> int:
    message = inbox_pb2.InboxMessage(type=inbox_pb2.InboxMessage.Type.Value(kind))
    payload = message.memo_comment if kind == "MEMO_COMMENT" else message.memo_mention
    payload.memo_id, payload.related_memo_id = memo_id, related_id

    sender_id, receiver_id = user_id(client, sender), user_id(client, receiver)

    async def create() -> int:
        row = await client.app.state.store.create_inbox(
            sender_id=sender_id, receiver_id=receiver_id, message=message, created_ts=created_ts
        )
        return row.id

    return client.portal.call(create)


def notifications(client: TestClient, token: str, owner: str = "alice") -> list[dict]:
    response = client.get(f"/api/v1/users/{owner}/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["notifications"]


def test_comment_and_mention_notifications(client: TestClient) -> None:
    _, alice, _ = users(client)
    base = insert_memo(client, "alice", "base", "PUBLIC")
    comment = insert_memo(client, "bob", "reply", "PUBLIC")
    mention = insert_memo(client, "bob", "hello", "PROTECTED")
    add_inbox(client, "bob", "alice", "MEMO_COMMENT", comment, base, created_ts=1_700_000_000)
    add_inbox(client, "bob", "alice", "MEMO_MENTION", mention, created_ts=1_700_000_100)
    listed = notifications(client, alice)
    assert [n["type"] for n in listed] == ["MEMO_MENTION", "MEMO_COMMENT"]  # newest first
    mentioned, commented = listed
    assert commented["sender"] == "users/bob" and commented["senderUser"]["username"] == "bob"
    assert commented["status"] == "UNREAD" and commented["name"].startswith("users/alice/notifications/")
    assert commented["memoComment"]["memo"] == "memos/reply" and commented["memoComment"]["relatedMemo"] == "memos/base"
    assert mentioned["memoMention"]["memo"] == "memos/hello" and mentioned["memoMention"]["relatedMemo"] == ""


def test_payloads_hide_memos_the_receiver_can_no_longer_see(client: TestClient) -> None:
    _, alice, _ = users(client)
    base = insert_memo(client, "alice", "base", "PUBLIC")
    private_comment = insert_memo(client, "bob", "secret", "PRIVATE")
    add_inbox(client, "bob", "alice", "MEMO_COMMENT", private_comment, base)
    add_inbox(client, "bob", "alice", "MEMO_COMMENT", 999, base)  # the comment was deleted
    listed = notifications(client, alice)
    assert len(listed) == 2 and all(n.get("memoComment") is None for n in listed)


def test_rows_of_deleted_senders_are_not_listed(client: TestClient) -> None:
    root, alice, _ = users(client)
    create_user_row(client, "carol")
    memo = insert_memo(client, "alice", "m", "PUBLIC")
    add_inbox(client, "carol", "alice", "MEMO_MENTION", memo)
    assert len(notifications(client, alice)) == 1
    assert client.delete("/api/v1/users/carol", headers=bearer(root)).status_code == 200
    assert notifications(client, alice) == []


def test_inbox_belongs_to_its_receiver_alone(client: TestClient) -> None:
    root, alice, bob = users(client)
    memo = insert_memo(client, "alice", "m", "PUBLIC")
    inbox = add_inbox(client, "bob", "alice", "MEMO_MENTION", memo)
    for token in (root, bob):
        assert client.get("/api/v1/users/alice/notifications", headers=bearer(token)).status_code == 403
    response = client.get("/api/v1/users/1/notifications", headers=bearer(alice))
    assert response.status_code == 400 and "user not found" in response.json()["message"]
    # bob addressing alice's row under his own name: the row is someone else's.
    path = f"/api/v1/users/bob/notifications/{inbox}"
    response = client.patch(path, json={"status": "ARCHIVED"}, headers=bearer(bob))
    assert response.status_code == 403


def test_update_and_delete_a_notification(client: TestClient) -> None:
    _, alice, _ = users(client)
    memo = insert_memo(client, "alice", "m", "PUBLIC")
    inbox = add_inbox(client, "bob", "alice", "MEMO_MENTION", memo)
    path = f"/api/v1/users/alice/notifications/{inbox}"
    response = client.patch(path, json={"status": "ARCHIVED"}, headers=bearer(alice))
    assert response.status_code == 200 and response.json()["status"] == "ARCHIVED"
    assert notifications(client, alice)[0]["status"] == "ARCHIVED"
    bad = client.patch(path, json={"status": "STATUS_UNSPECIFIED"}, headers=bearer(alice))
    assert (bad.status_code, bad.json()["message"]) == (400, "invalid status")
    bad = client.patch(path + "?updateMask=type", json={"type": "MEMO_COMMENT"}, headers=bearer(alice))
    assert (bad.status_code, bad.json()["message"]) == (400, "invalid update path: type")
    missing = client.post(CONNECT + "UpdateUserNotification", json={}, headers=bearer(alice))
    assert (missing.status_code, missing.json()["message"]) == (400, "notification is required")
    assert client.delete(path, headers=bearer(alice)).status_code == 200
    assert client.delete(path, headers=bearer(alice)).status_code == 404
    assert client.delete("/api/v1/users/alice/notifications/x", headers=bearer(alice)).status_code == 400
