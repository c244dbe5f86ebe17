"""MemoService comments: CreateMemoComment and ListMemoComments (checklist 81-88 of spec memos.md §11)."""
from __future__ import annotations

from typing import Any

from memo_support import World, error


def _notifications(world: World, who: str) -> list[dict]:
    response = world.client.get(f"/api/v1/users/{who}/notifications", headers=world.headers[who])
    assert response.status_code == 200, response.text
    return response.json()["notifications"]


def test_81_private_parents_take_comments_from_their_creator_and_admins_only(world: World) -> None:
    parent = world.create("alice", visibility="PRIVATE")["name"]
    assert error(world.comment("bob", parent)) == (403, "permission denied")
    assert world.comment("root", parent).status_code == 200
    assert world.comment("alice", parent).status_code == 200


def test_83_the_response_is_the_comment_with_its_relation_and_parent(world: World) -> None:
    parent = world.create("alice", "the parent", visibility="PUBLIC")["name"]
    comment = world.comment("bob", parent, "nice #idea", comment_id="my-comment").json()
    assert comment["name"] == "memos/my-comment" and comment["creator"] == "users/bob"
    assert comment["parent"] == parent and comment["tags"] == ["idea"] and comment["visibility"] == "PUBLIC"
    assert comment["relations"] == [{
        "memo": {"name": comment["name"], "snippet": "nice #idea"},
        "relatedMemo": {"name": parent, "snippet": "the parent"},
        "type": "COMMENT",
    }]
    assert world.get("alice", parent).json()["relations"] == comment["relations"]
    assert world.get("anon", comment["name"]).json()["parent"] == parent


def test_84_comment_inbox_items(world: World) -> None:
    public = world.create("alice", visibility="PUBLIC")["name"]
    world.comment("bob", public)
    items = _notifications(world, "alice")
    assert [(n["type"], n["status"], n["sender"]) for n in items] == [("MEMO_COMMENT", "UNREAD", "users/bob")]
    world.comment("alice", public)  # on one's own memo: nothing
    private = world.create("alice", visibility="PRIVATE")["name"]
    world.comment("root", private)  # a PRIVATE comment: nothing
    assert len(_notifications(world, "alice")) == 1


def test_comment_mentions_notify_the_mentioned_user(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    world.comment("alice", parent, "hey @bob")
    assert [n["type"] for n in _notifications(world, "bob")] == ["MEMO_MENTION"]


def test_85_bad_comments_store_nothing(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    # Memos answers INTERNAL "failed to create memo" here; the client's mistake keeps its code.
    too_long = world.comment("bob", parent, "x" * 8193)
    assert error(too_long) == (400, "failed to create memo: content too long (max 8192 characters)")
    odd_id = world.comment("bob", parent, comment_id="-x")
    assert odd_id.status_code == 400 and odd_id.json()["message"].startswith("failed to create memo: invalid UID")
    assert world.comment("bob", parent, comment_id="dup").status_code == 200
    assert world.comment("bob", parent, comment_id="dup").status_code == 409
    missing = world.connect("bob", "CreateMemoComment", {"name": parent})
    assert missing.status_code == 400 and missing.json()["message"] == "comment is required"
    assert len(world.client.get(f"/api/v1/{parent}/comments").json()["memos"]) == 1


def test_unknown_or_misnamed_parents(world: World) -> None:
    assert error(world.comment("bob", "memos/nope")) == (404, "memo not found")
    misnamed = world.connect("bob", "CreateMemoComment", {"name": "memo/x", "comment": {"content": "x"}})
    assert misnamed.status_code == 400 and misnamed.json()["message"].startswith("invalid memo name: ")


def _comments(world: World, who: str, parent: str, **params: Any) -> Any:
    return world.client.get(f"/api/v1/{parent}/comments", params=params, headers=world.headers[who])


def test_86_comments_page_newest_first(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    names = [world.comment("bob", parent, f"c{i}").json()["name"] for i in range(3)]
    first = _comments(world, "anon", parent, pageSize=2).json()
    assert [m["name"] for m in first["memos"]] == [names[2], names[1]] and first["nextPageToken"] == "CAIQAg=="
    rest = _comments(world, "anon", parent, pageToken=first["nextPageToken"]).json()
    assert [m["name"] for m in rest["memos"]] == [names[0]] and rest["nextPageToken"] == ""
    listed = first["memos"][0]
    assert listed["parent"] == parent
    assert listed["relations"][0]["memo"]["snippet"] == "" and listed["relations"][0]["type"] == "COMMENT"


def test_87_comments_of_a_private_parent(world: World) -> None:
    parent = world.create("alice", visibility="PRIVATE")["name"]
    world.comment("alice", parent, "mine")
    world.comment("root", parent, "the admin's")
    assert error(_comments(world, "anon", parent)) == (401, "user not authenticated")
    assert error(_comments(world, "bob", parent)) == (403, "permission denied")
    # Comments are PRIVATE like their parent: each caller sees only their own.
    assert [m["content"] for m in _comments(world, "alice", parent).json()["memos"]] == ["mine"]


def test_archived_parents_and_comments(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    comment = world.comment("bob", parent).json()["name"]
    world.patch("bob", comment, {"state": "ARCHIVED"}, "state")
    assert [m["name"] for m in _comments(world, "anon", parent).json()["memos"]] == [comment]  # still listed
    world.patch("alice", parent, {"state": "ARCHIVED"}, "state")
    assert error(_comments(world, "bob", parent)) == (404, "memo not found")
    assert _comments(world, "alice", parent).status_code == 200


def test_88_comments_of_deleted_users_are_left_out(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    world.comment("bob", parent)
    kept = world.comment("alice", parent).json()["name"]
    world.run_sql("DELETE FROM user WHERE id = ?", world.ids["bob"])
    world.client.app.state.store.users.cache.delete(world.ids["bob"])
    assert [m["name"] for m in _comments(world, "anon", parent).json()["memos"]] == [kept]


def test_comment_paging_bad_input(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    status, message = error(_comments(world, "anon", parent, pageToken="%%%"))
    assert status == 400 and message.startswith("invalid page token")
    for size in (0, -1, 10**9):
        assert _comments(world, "anon", parent, pageSize=size).status_code == 200
