"""MemoService relations: SetMemoRelations, ListMemoRelations and relations in Memo responses
(checklist 94, 96, 97 of spec memos.md §11)."""
from __future__ import annotations

from typing import Any

from memo_support import World, error


def _set(world: World, who: str, name: str, *targets: str, kind: str = "REFERENCE") -> Any:
    relations = [{"relatedMemo": {"name": target}, "type": kind} for target in targets]
    return world.client.patch(f"/api/v1/{name}/relations", json={"name": name, "relations": relations},
                              headers=world.headers[who])


def _listed(world: World, who: str, name: str) -> list[tuple[str, str, str]]:
    response = world.client.get(f"/api/v1/{name}/relations", headers=world.headers[who])
    assert response.status_code == 200, response.text
    return [(r["memo"]["name"], r["relatedMemo"]["name"], r["type"]) for r in response.json()["relations"]]


def test_96_only_outgoing_references_are_replaced_and_self_references_dropped(world: World) -> None:
    memo = world.create("alice", visibility="PUBLIC", updateTime="2020-01-01T00:00:00Z")["name"]
    one, two = (world.create("alice", f"t{i}", visibility="PUBLIC")["name"] for i in range(2))
    refer = [{"relatedMemo": {"name": memo}}]
    incoming = world.create("bob", "points here", visibility="PROTECTED", relations=refer)["name"]
    comment = world.comment("bob", memo).json()["name"]
    assert _set(world, "alice", memo, one).status_code == 200
    assert _set(world, "alice", memo, two, memo, two).status_code == 200
    assert _listed(world, "alice", memo) == [
        (memo, two, "REFERENCE"),
        (incoming, memo, "REFERENCE"),
        (comment, memo, "COMMENT"),
    ]
    relations = world.get("alice", memo).json()["relations"]
    assert relations[0]["relatedMemo"] == {"name": two, "snippet": "t1"}  # single responses carry snippets


def test_94_set_relations_moves_update_time_to_now(world: World) -> None:
    memo = world.create("alice", updateTime="2020-01-01T00:00:00Z")["name"]
    assert _set(world, "alice", memo).status_code == 200
    assert not world.get("alice", memo).json()["updateTime"].startswith("2020")


def test_comment_type_entries_are_skipped(world: World) -> None:
    memo = world.create("alice")["name"]
    other = world.create("alice")["name"]
    assert _set(world, "alice", memo, other, kind="COMMENT").status_code == 200
    assert _listed(world, "alice", memo) == []


def test_97_a_relation_shows_only_to_callers_who_see_both_memos(world: World) -> None:
    # Y (bob) refers from a PUBLIC memo to X's (alice's) memo, which X then makes PRIVATE.
    target = world.create("alice", visibility="PUBLIC")["name"]
    source = world.create("bob", visibility="PUBLIC", relations=[{"relatedMemo": {"name": target}}])["name"]
    world.patch("alice", target, {"visibility": "PRIVATE"}, "visibility")
    assert world.get("bob", source).json()["relations"] == []
    assert world.get("root", source).json()["relations"] == []
    assert world.get("anon", source).json()["relations"] == []
    assert [r["relatedMemo"]["name"] for r in world.get("alice", source).json()["relations"]] == [target]
    assert _listed(world, "bob", source) == []
    assert _listed(world, "alice", source) == [(source, target, "REFERENCE")]
    # Bob may keep the reference he has (re-sending it works) but cannot make a new one.
    assert _set(world, "bob", source, target).status_code == 200
    other = world.create("bob", visibility="PUBLIC")["name"]
    refused = _set(world, "bob", other, target)
    assert refused.status_code == 403
    assert _listed(world, "alice", other) == []


def test_writers_only_and_bad_names(world: World) -> None:
    memo = world.create("alice", visibility="PUBLIC")["name"]
    other = world.create("bob", visibility="PUBLIC")["name"]
    assert error(_set(world, "bob", memo, other)) == (403, "permission denied")
    assert _set(world, "root", memo, other).status_code == 200
    assert error(_set(world, "alice", "memos/nope", other)) == (404, "memo not found")
    status, message = error(_set(world, "alice", memo, "not-a-name"))
    assert status == 400 and message.startswith("invalid related memo name: ")
    assert error(_set(world, "alice", memo, "memos/ghost")) == (404, "related memo not found: memos/ghost")
    assert _listed(world, "alice", memo) == [(memo, other, "REFERENCE")]  # the failed calls changed nothing
    unknown = world.client.get("/api/v1/memos/nope/relations", headers=world.headers["alice"])
    assert error(unknown) == (404, "memo not found")


def test_list_relations_needs_a_signed_in_caller(world: World) -> None:
    memo = world.create("alice", visibility="PUBLIC")["name"]
    assert world.client.get(f"/api/v1/{memo}/relations").status_code == 401
