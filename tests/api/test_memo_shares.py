"""Share links over REST and Connect: Create/List/DeleteMemoShare and GetSharedMemo (memos.md §3.15-3.18).

Memos are written through the API; alice owns them, bob is another user, root the admin.
"""
from __future__ import annotations

import dataclasses
import datetime
import pathlib
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from memo_support import CONNECT, SignedInWorld, error, signed_in_world
from support import connect_call, insert_memo, sqlite_rows

from memos.api.ids import SHORT_UUID_ALPHABET
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import CreateMemoShare, FindUser


def rfc3339(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class World(SignedInWorld):
    memo_visibility: ClassVar[str] = "PRIVATE"
    memo_content: ClassVar[str] = "secret plan #work"

    def share(self, who: str | None, memo: str, **body: object):
        return self.client.post(f"/api/v1/{memo}/shares", json=body, headers=self.headers(who))

    def token(self, memo: str, who: str = "alice", **body: object) -> str:
        response = self.share(who, memo, **body)
        assert response.status_code == 200, response.text
        return str(response.json()["name"]).rsplit("/", 1)[1]

    def shared(self, token: str, who: str | None = None):
        return self.client.get(f"/api/v1/shares/{token}/memo", headers=self.headers(who))

    def shares(self, who: str | None, memo: str):
        return self.client.get(f"/api/v1/{memo}/shares", headers=self.headers(who))

    def archive(self, memo: str, state: str = "ARCHIVED") -> None:
        response = self.client.patch(
            f"/api/v1/{memo}", params={"updateMask": "state"}, json={"state": state}, headers=self.headers("alice")
        )
        assert response.status_code == 200, response.text

    def add_share_row(self, memo: str, expires_ts: int | None, token: str) -> None:
        """A share written through the store, for expiry times the API refuses to create."""
        store = self.client.app.state.store
        found = self.client.portal.call(store.memos.get_by_uid, memo.removeprefix("memos/"))
        alice = self.client.portal.call(store.users.get, FindUser(username="alice"))
        create = CreateMemoShare(uid=token, memo_id=found.id, creator_id=alice.id, expires_ts=expires_ts)
        self.client.portal.call(store.memo_shares.create, create)


@pytest.fixture
def world(tmp_path: pathlib.Path) -> Iterator[World]:
    """A private instance (no instance URL): share links must work there for anonymous visitors."""
    yield from signed_in_world(World, tmp_path / "data")


# --- CreateMemoShare ----------------------------------------------------------------------------


def test_a_share_without_expiry_has_a_short_uuid_token(world: World) -> None:
    memo = world.memo()
    before = int(time.time())
    response = world.share("alice", memo)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"name", "createTime"}  # expireTime is optional: omitted when unset
    prefix, token = body["name"].rsplit("/", 1)
    assert prefix == f"{memo}/shares" and len(token) == 22 and set(token) <= set(SHORT_UUID_ALPHABET)
    assert rfc3339(before) <= body["createTime"] <= rfc3339(int(time.time()))
    assert world.token(memo) != token


def test_a_future_expiry_is_kept_and_a_past_one_refused(world: World) -> None:
    memo = world.memo()
    later = int(time.time()) + 3600
    body = world.share("alice", memo, expireTime=rfc3339(later)).json()
    assert body["expireTime"] == rfc3339(later)
    for past in (int(time.time()) - 1, int(time.time()) - 86400, 0):
        assert error(world.share("alice", memo, expireTime=rfc3339(past))) == (400, "expire_time must be in the future")
    assert len(world.shares("alice", memo).json()["memoShares"]) == 1  # nothing stored for the refused ones


def test_an_expiry_beyond_what_a_timestamp_holds_is_refused_over_binary_connect(world: World) -> None:
    memo = world.memo()
    request = api.CreateMemoShareRequest(parent=memo)
    request.memo_share.expire_time.seconds = 2**62
    response = world.client.post(CONNECT + "CreateMemoShare", content=request.SerializeToString(),
                                 headers={"content-type": "application/proto", **world.headers("alice")})
    assert response.status_code == 400, response.text
    assert len(world.shares("alice", memo).json()["memoShares"]) == 0


def test_sharing_is_for_the_creator_and_admins(world: World) -> None:
    memo = world.memo(visibility="PUBLIC")
    assert error(world.share("bob", memo)) == (403, "permission denied")
    assert world.share("root", memo).status_code == 200
    assert world.share(None, memo).status_code == 401
    assert error(world.share("alice", "memos/missing")) == (404, "memo not found")
    response = world.client.post(CONNECT + "CreateMemoShare", json={"parent": "memo/x", "memoShare": {}},
                                 headers=world.headers("alice"))
    assert error(response) == (400, "invalid memo name: memo/x (expected 'memos' where it says 'memo')")


def test_an_archived_memo_can_be_shared_but_opens_only_once_restored(world: World) -> None:
    memo = world.memo()
    world.archive(memo)
    token = world.token(memo)
    assert error(world.shared(token)) == (404, "not found")
    world.archive(memo, "NORMAL")
    assert world.shared(token).json()["name"] == memo


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_connect_creates_and_lists_shares(world: World, codec: str) -> None:
    memo = world.memo()
    made = connect_call(world.client, CONNECT + "CreateMemoShare",
                        api.CreateMemoShareRequest(parent=memo, memo_share=api.MemoShare()), api.MemoShare, codec,
                        headers=world.headers("alice"))
    assert made.name.startswith(f"{memo}/shares/") and not made.HasField("expire_time")
    listed = connect_call(world.client, CONNECT + "ListMemoShares", api.ListMemoSharesRequest(parent=memo),
                          api.ListMemoSharesResponse, codec, headers=world.headers("alice"))
    assert [share.name for share in listed.memo_shares] == [made.name]


# --- ListMemoShares -----------------------------------------------------------------------------


def test_listing_shows_every_share_oldest_first_expired_ones_too(world: World) -> None:
    memo = world.memo()
    expired_at = int(time.time()) - 60
    world.add_share_row(memo, expired_at, "expired-token")
    fresh = world.token(memo)
    listed = world.shares("alice", memo).json()["memoShares"]
    assert [share["name"].rsplit("/", 1)[1] for share in listed] == ["expired-token", fresh]
    assert listed[0]["expireTime"] == rfc3339(expired_at) and "expireTime" not in listed[1]
    assert [s["name"] for s in world.shares("root", memo).json()["memoShares"]] == [s["name"] for s in listed]
    assert error(world.shares("bob", memo)) == (403, "permission denied")
    assert world.shares(None, memo).status_code == 401
    assert world.shares("alice", world.memo()).json() == {"memoShares": []}


# --- DeleteMemoShare ----------------------------------------------------------------------------


def test_deleting_a_share_ends_its_link(world: World) -> None:
    memo = world.memo()
    token = world.token(memo)
    name = f"{memo}/shares/{token}"
    assert error(world.client.delete(f"/api/v1/{name}", headers=world.headers("bob"))) == (403, "permission denied")
    assert world.client.delete(f"/api/v1/{name}", headers=world.headers("alice")).status_code == 200
    assert error(world.shared(token)) == (404, "not found")
    again = world.client.delete(f"/api/v1/{name}", headers=world.headers("alice"))
    assert error(again) == (404, "memo share not found")


def test_a_forged_name_with_another_memos_token_is_not_found(world: World) -> None:
    mine, other = world.memo(), world.memo()
    token = world.token(mine)
    forged = f"/api/v1/{other}/shares/{token}"
    assert error(world.client.delete(forged, headers=world.headers("alice"))) == (404, "memo share not found")
    assert world.shared(token).status_code == 200  # the share keeps working
    missing = f"/api/v1/memos/nope/shares/{token}"
    assert error(world.client.delete(missing, headers=world.headers("alice"))) == (404, "memo not found")


def test_admins_may_delete_shares(world: World) -> None:
    memo = world.memo()
    token = world.token(memo)
    assert world.client.delete(f"/api/v1/{memo}/shares/{token}", headers=world.headers("root")).status_code == 200


# --- GetSharedMemo ------------------------------------------------------------------------------


def test_a_token_opens_a_private_memo_to_anyone_even_on_a_private_instance(world: World) -> None:
    memo = world.memo()
    reacted = world.client.post(f"/api/v1/{memo}/reactions", headers=world.headers("alice"),
                                json={"reaction": {"contentId": memo, "reactionType": "👍"}})
    assert reacted.status_code == 200, reacted.text
    assert world.client.get(f"/api/v1/{memo}").status_code == 401  # the memo itself stays closed
    response = world.shared(world.token(memo))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == memo and body["content"] == "secret plan #work" and body["visibility"] == "PRIVATE"
    assert body["creator"] == "users/alice" and body["tags"] == ["work"] and body["property"] is not None
    assert [r["reactionType"] for r in body["reactions"]] == ["👍"]
    assert body["relations"] == [] and "parent" not in body


def test_a_shared_memo_shows_no_relations_and_a_shared_comment_no_parent(world: World) -> None:
    target = world.memo(visibility="PUBLIC")
    linking = world.client.post(
        "/api/v1/memos",
        json={"content": "see", "visibility": "PUBLIC", "relations": [
            {"relatedMemo": {"name": target}, "type": "REFERENCE"}]},
        headers=world.headers("alice"),
    )
    assert linking.status_code == 200, linking.text
    assert linking.json()["relations"] != []  # the memo has a relation; the share does not show it
    assert world.shared(world.token(linking.json()["name"])).json()["relations"] == []
    store = world.client.app.state.store
    parent = world.client.portal.call(store.memos.get_by_uid, target.removeprefix("memos/"))
    world.client.portal.call(lambda: insert_memo(store, "a-comment", parent.creator_id, created_ts=1_700_000_000,
                                                 visibility="PUBLIC", comment_on=parent.id))
    signed_in = world.client.get("/api/v1/memos/a-comment", headers=world.headers("alice")).json()
    assert signed_in["parent"] == target
    shared = world.shared(world.token("memos/a-comment")).json()
    assert "parent" not in shared and shared["relations"] == []


def test_every_failing_token_is_the_same_not_found(world: World) -> None:
    memo = world.memo()
    world.add_share_row(memo, int(time.time()) - 1, "expired")
    world.add_share_row(memo, int(time.time()) + 60, "valid")
    for token in ("unknown", "expired", "x" * 2000, "%F0%9F%91%8D", "a%20b"):
        assert error(world.shared(token)) == (404, "not found"), token
    assert world.shared("..%2F..%2Fetc").status_code == 404  # no route: the gateway's own 404
    assert world.shared("valid").status_code == 200
    empty = world.client.post(CONNECT + "GetSharedMemo", json={"shareToken": ""})
    assert (empty.status_code, empty.json()["message"]) == (404, "not found")


def test_the_token_still_opens_during_its_expiry_second(world: World) -> None:
    memo = world.memo()
    now = int(time.time())
    world.add_share_row(memo, now + 1, "last-second")
    assert world.shared("last-second").status_code == 200


def test_a_deleted_memo_or_creator_ends_the_link(world: World) -> None:
    memo, other = world.memo(), world.memo(owner="bob")
    token, bobs = world.token(memo), world.token(other, who="bob")
    assert world.client.delete(f"/api/v1/{memo}", headers=world.headers("alice")).status_code == 200
    assert error(world.shared(token)) == (404, "not found")
    dsn = pathlib.Path(world.client.app.state.profile.dsn)
    assert sqlite_rows(dsn, "SELECT COUNT(*) FROM memo_share WHERE uid = ?", (token,)) == [(1,)]  # kept, as in Memos
    assert world.client.delete("/api/v1/users/bob", headers=world.headers("root")).status_code == 200
    assert error(world.shared(bobs)) == (404, "not found")


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_connect_opens_a_shared_memo_anonymously(world: World, codec: str) -> None:
    memo = world.memo()
    token = world.token(memo)
    got = connect_call(world.client, CONNECT + "GetSharedMemo", api.GetSharedMemoRequest(share_token=token),
                       api.Memo, codec)
    assert got.name == memo and got.content == "secret plan #work" and not got.HasField("parent")


def test_an_invalid_bearer_token_is_anonymous_for_shared_memos(world: World) -> None:
    token = world.token(world.memo())
    response = world.client.get(f"/api/v1/shares/{token}/memo", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 200
