"""Reactions over REST and Connect: ListMemoReactions, UpsertMemoReaction, DeleteMemoReaction (memos.md §3.12-3.14).

Memos are written through the API (CreateMemo); alice owns them, bob is another user, root the admin.
"""
from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator

import pytest
from memo_support import CONNECT, SignedInWorld, error, signed_in_world
from support import connect_call, sqlite_execute, sqlite_rows

from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import FindUser


@dataclasses.dataclass
class World(SignedInWorld):
    def react(self, who: str | None, memo: str, reaction: str = "👍", *, path_memo: str | None = None):
        body = {"reaction": {"contentId": memo, "reactionType": reaction}}
        return self.client.post(f"/api/v1/{path_memo or memo}/reactions", json=body, headers=self.headers(who))

    def reactions(self, who: str | None, memo: str):
        return self.client.get(f"/api/v1/{memo}/reactions", headers=self.headers(who))

    def types(self, memo: str, who: str = "alice") -> list[tuple[str, str]]:
        response = self.reactions(who, memo)
        assert response.status_code == 200, response.text
        return [(r["creator"], r["reactionType"]) for r in response.json()["reactions"]]


@pytest.fixture
def world(tmp_path: pathlib.Path) -> Iterator[World]:
    yield from signed_in_world(World, tmp_path / "data", instance_url="http://memos.test")


# --- UpsertMemoReaction -------------------------------------------------------------------------


def test_a_reaction_names_its_creator_and_itself(world: World) -> None:
    memo = world.memo()
    response = world.react("bob", memo)
    assert response.status_code == 200, response.text
    body = response.json()
    uid = memo.removeprefix("memos/")
    assert body["name"].startswith(f"memos/{uid}/reactions/") and body["name"].rsplit("/", 1)[1].isdigit()
    assert body["creator"] == "users/bob" and body["contentId"] == memo and body["reactionType"] == "👍"
    assert body["createTime"].endswith("Z")


def test_the_same_reaction_twice_fails_and_another_type_coexists(world: World) -> None:
    memo = world.memo()
    assert world.react("bob", memo).status_code == 200
    assert error(world.react("bob", memo)) == (500, "failed to upsert reaction")
    assert world.react("bob", memo, "❤️").status_code == 200
    assert world.react("alice", memo).status_code == 200  # another user, same type
    assert world.types(memo) == [("users/bob", "👍"), ("users/bob", "❤️"), ("users/alice", "👍")]
    shown = world.client.get(f"/api/v1/{memo}", headers=world.headers("bob")).json()["reactions"]
    assert [(r["creator"], r["reactionType"]) for r in shown] == world.types(memo)


def test_any_reaction_string_is_accepted_but_none_beyond_bounds(world: World) -> None:
    memo = world.memo()
    for reaction in ("not an emoji", "👩🏽‍🚀", ":custom_shortcode:", "x" * 256):
        assert world.react("bob", memo, reaction).status_code == 200, reaction
    assert error(world.react("bob", memo, "")) == (400, "reaction type is required")
    assert error(world.react("bob", memo, "x" * 257)) == (400, "reaction type is too long (max 256 bytes)")
    assert world.react("bob", memo, "👍" * 1000).status_code == 400
    assert len(world.types(memo)) == 4


def test_the_memo_is_the_content_id_not_the_request_name(world: World) -> None:
    first, second = world.memo(), world.memo()
    assert world.react("bob", second, path_memo=first).status_code == 200
    assert world.types(first) == [] and world.types(second) == [("users/bob", "👍")]


def test_private_memos_take_reactions_from_their_creator_and_admins_only(world: World) -> None:
    memo = world.memo(visibility="PRIVATE")
    assert error(world.react("bob", memo)) == (403, "permission denied")
    assert world.react("alice", memo).status_code == 200
    assert world.react("root", memo).status_code == 200
    protected = world.memo(visibility="PROTECTED")
    assert world.react("bob", protected).status_code == 200


def test_archived_memos_still_take_reactions(world: World) -> None:
    memo = world.memo()
    archived = world.client.patch(
        f"/api/v1/{memo}", params={"updateMask": "state"}, json={"state": "ARCHIVED"}, headers=world.headers("alice")
    )
    assert archived.status_code == 200, archived.text
    assert world.react("bob", memo).status_code == 200
    assert world.types(memo, "bob") == [("users/bob", "👍")]


@pytest.mark.parametrize(
    ("content_id", "status", "message"),
    [
        ("memos/no-such-memo", 404, "memo not found"),
        ("memos/", 400, "invalid memo name: memos/ ({uid} is empty)"),
        ("memos/a/b", 400, "invalid memo name: memos/a/b (expected memos/{uid})"),
        ("users/alice", 400, "invalid memo name: users/alice (expected 'memos' where it says 'users')"),
        ("", 400, "invalid memo name:  (expected memos/{uid})"),
    ],
)
def test_the_content_id_must_name_an_existing_memo(world: World, content_id: str, status: int, message: str) -> None:
    memo = world.memo()
    body = {"reaction": {"contentId": content_id, "reactionType": "👍"}}
    response = world.client.post(f"/api/v1/{memo}/reactions", json=body, headers=world.headers("bob"))
    assert error(response) == (status, message)
    assert sqlite_rows(pathlib.Path(world.client.app.state.profile.dsn), "SELECT COUNT(*) FROM reaction") == [(0,)]


def test_anonymous_callers_are_refused_before_the_service(world: World) -> None:
    memo = world.memo()
    response = world.react(None, memo)
    assert (response.status_code, response.json()["code"]) == (401, 16)
    assert world.reactions(None, memo).status_code == 401  # even for a PUBLIC memo


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_connect_upserts_and_lists_the_same_way(world: World, codec: str) -> None:
    memo = world.memo()
    request = api.UpsertMemoReactionRequest(name=memo, reaction=api.Reaction(content_id=memo, reaction_type="🎉"))
    made = connect_call(world.client, CONNECT + "UpsertMemoReaction", request, api.Reaction, codec,
                        headers=world.headers("bob"))
    assert made.creator == "users/bob" and made.content_id == memo and made.create_time.seconds > 0
    listed = connect_call(world.client, CONNECT + "ListMemoReactions", api.ListMemoReactionsRequest(name=memo),
                          api.ListMemoReactionsResponse, codec, headers=world.headers("alice"))
    assert [r.name for r in listed.reactions] == [made.name]


# --- ListMemoReactions --------------------------------------------------------------------------


def test_listing_follows_visibility_and_lets_admins_see_private_memos(world: World) -> None:
    private = world.memo(visibility="PRIVATE")
    world.react("alice", private)
    assert error(world.reactions("bob", private)) == (403, "permission denied")
    assert world.types(private, "root") == [("users/alice", "👍")]
    assert error(world.reactions("bob", "memos/missing")) == (404, "memo not found")
    assert error(world.reactions("bob", "memos/a/b/c"))[0] == 404  # no such REST route segment count


def test_reactions_of_missing_users_are_left_out(world: World) -> None:
    memo = world.memo()
    world.react("bob", memo)
    dsn = pathlib.Path(world.client.app.state.profile.dsn)
    # As a Memos database may hold: a reaction whose creator row is gone.
    sqlite_execute(dsn, f"INSERT INTO reaction (creator_id, content_id, reaction_type) VALUES (999, '{memo}', '😢')")
    assert world.types(memo) == [("users/bob", "👍")]
    shown = world.client.get(f"/api/v1/{memo}", headers=world.headers("alice")).json()["reactions"]
    assert [r["reactionType"] for r in shown] == ["👍"]


# --- DeleteMemoReaction -------------------------------------------------------------------------


def test_deleting_is_for_the_reactions_creator_and_admins(world: World) -> None:
    memo = world.memo()
    first = world.react("bob", memo).json()["name"]
    second = world.react("bob", memo, "❤️").json()["name"]
    assert error(world.client.delete(f"/api/v1/{first}", headers=world.headers("alice"))) == (403, "permission denied")
    assert world.client.delete(f"/api/v1/{first}", headers=world.headers("root")).status_code == 200
    assert world.client.delete(f"/api/v1/{second}", headers=world.headers("bob")).status_code == 200
    assert world.types(memo) == []
    # Gone now: the same answer as for an id that never existed.
    assert error(world.client.delete(f"/api/v1/{second}", headers=world.headers("bob"))) == (403, "permission denied")


def test_an_unknown_reaction_is_permission_denied(world: World) -> None:
    response = world.client.delete("/api/v1/memos/nonexistent/reactions/99999", headers=world.headers("root"))
    assert error(response) == (403, "permission denied")


def test_the_memo_part_of_a_reaction_name_is_not_read(world: World) -> None:
    memo = world.memo()
    reaction_id = world.react("bob", memo).json()["name"].rsplit("/", 1)[1]
    response = world.client.delete(f"/api/v1/memos/elsewhere/reactions/{reaction_id}", headers=world.headers("bob"))
    assert response.status_code == 200 and world.types(memo) == []


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("memos/m/reactions/abc", "{id} must be a decimal number, not 'abc'"),
        ("memos/m/reactions/-1", "{id} must be a decimal number, not '-1'"),
        ("memos/m/reactions/2147483648", "{id} must be at most 2147483647"),
        ("memos/m/reactions/99999999999999999999999", "{id} must be at most 2147483647"),
    ],
)
def test_a_reaction_id_must_be_a_32_bit_number(world: World, name: str, problem: str) -> None:
    response = world.client.post(CONNECT + "DeleteMemoReaction", json={"name": name}, headers=world.headers("root"))
    assert (response.status_code, response.json()["message"]) == (400, f"invalid reaction name: {name} ({problem})")


# --- live events --------------------------------------------------------------------------------


def test_reactions_publish_live_events_to_those_who_may_see_the_memo(world: World) -> None:
    client = world.client
    hub, store = client.app.state.live_hub, client.app.state.store
    viewers = {name: client.portal.call(store.users.get, FindUser(username=name)) for name in ("alice", "bob")}
    streams = {name: client.portal.call(hub.subscribe, user) for name, user in viewers.items()}

    def received(name: str) -> list[tuple[str, str, str]]:
        events = client.portal.call(streams[name].next_events, 0)
        return [(str(event.type), event.name, event.parent) for event in events or []]

    public, private = world.memo(), world.memo(visibility="PRIVATE")
    received("alice"), received("bob")  # the memo.created events
    reaction = world.react("bob", public).json()["name"]
    world.react("alice", private)
    assert world.client.delete(f"/api/v1/{reaction}", headers=world.headers("bob")).status_code == 200
    assert received("alice") == [
        ("reaction.upserted", public, ""),
        ("reaction.upserted", private, ""),
        ("reaction.deleted", public, ""),
    ]
    assert received("bob") == [("reaction.upserted", public, ""), ("reaction.deleted", public, "")]
    world.react("bob", public, "x")
    assert error(world.react("bob", public, "x"))[0] == 500
    assert received("bob") == [("reaction.upserted", public, "")]  # a failed upsert publishes nothing
