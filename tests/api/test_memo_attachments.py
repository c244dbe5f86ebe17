"""A memo's attachments: SetMemoAttachments, ListMemoAttachments, and attachments given to CreateMemo and
UpdateMemo (spec memos.md §3.1, §3.4, §3.6, §3.7; checklist 11, 23, 24, 91-95; server.md checklist 43, 45)."""
from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from memo_support import CONNECT, World, error, uploaded
from support import sqlite_rows

from memos.store import FindUser


def _names(items: list[dict]) -> list[str]:
    return [item["name"] for item in items]


def _set(world: World, who: str, memo: str, names: list[str], *, connect: bool = False) -> Any:
    attachments = [{"name": name} for name in names]
    if connect:
        return world.connect(who, "SetMemoAttachments", {"name": memo, "attachments": attachments})
    return world.client.patch(f"/api/v1/{memo}/attachments", json={"name": memo, "attachments": attachments},
                              headers=world.headers[who])


def _listed(world: World, who: str, memo: str) -> list[str]:
    response = world.client.get(f"/api/v1/{memo}/attachments", headers=world.headers[who])
    assert response.status_code == 200, response.text
    assert response.json()["nextPageToken"] == ""
    return _names(response.json()["attachments"])


def _shown(world: World, memo: str) -> list[str]:
    return _names(world.get("alice", memo).json()["attachments"])


def _files(world: World) -> int:
    assets = pathlib.Path(world.client.app.state.profile.data) / "assets"
    return len(list(assets.iterdir())) if assets.exists() else 0


def _count(world: World) -> int:
    data = pathlib.Path(world.client.app.state.profile.data)
    return int(sqlite_rows(data / "memos_prod.db", "SELECT count(*) FROM attachment")[0][0])


def _live_photo(world: World, who: str, group: str) -> tuple[str, str]:
    still, video = (
        uploaded(world, who, f"{group}.{ext}", b"x", motionMedia={"family": "APPLE_LIVE_PHOTO", "role": role,
                                                                    "groupId": group})["name"]
        for ext, role in (("heic", "STILL"), ("mov", "VIDEO"))
    )
    return still, video


# --- CreateMemo ----------------------------------------------------------------------------------------------------


def test_23_create_memo_links_the_attachments_in_request_order(world: World) -> None:
    a, b, c = (uploaded(world, "alice", f"{n}.txt")["name"] for n in "abc")
    memo = world.create("alice", attachments=[{"name": b}, {"name": a}, {"name": c}, {"name": b}])
    assert _names(memo["attachments"]) == [b, a, c]
    assert {item["memo"] for item in memo["attachments"]} == {memo["name"]}
    assert _shown(world, memo["name"]) == [b, a, c]
    listed = world.list("alice").json()["memos"]
    assert _names(listed[0]["attachments"]) == [b, a, c]
    assert _listed(world, "alice", memo["name"]) == [b, a, c]


def test_24_create_memo_with_someone_elses_attachment_is_refused_and_stores_no_memo(world: World) -> None:
    bobs = uploaded(world, "bob")["name"]
    response = world.client.post("/api/v1/memos", json={"content": "x", "attachments": [{"name": bobs}]},
                                 headers=world.headers["alice"])
    assert error(response) == (
        403,
        "failed to set memo attachments: rpc error: code = PermissionDenied "
        "desc = cannot attach another user's attachment",
    )
    assert world.names("alice") == []
    # An admin may attach anyone's.
    assert _names(world.create("root", attachments=[{"name": bobs}])["attachments"]) == [bobs]


def test_create_memo_names_the_attachments_it_cannot_find(world: World) -> None:
    response = world.client.post("/api/v1/memos", json={"content": "x", "attachments": [{"name": "attachments/no"}]},
                                 headers=world.headers["alice"])
    assert error(response) == (
        404, "failed to set memo attachments: rpc error: code = NotFound desc = attachment not found: no"
    )
    response = world.client.post("/api/v1/memos", json={"content": "x", "attachments": [{"name": "no"}]},
                                 headers=world.headers["alice"])
    status, message = error(response)
    assert status == 400
    assert message.startswith("failed to set memo attachments: rpc error: code = InvalidArgument "
                              "desc = invalid attachment name: ")


def test_a_comment_carries_its_attachments(world: World) -> None:
    memo = world.create("alice", visibility="PUBLIC")["name"]
    file = uploaded(world, "bob")["name"]
    comment = world.comment("bob", memo, attachments=[{"name": file}])
    assert comment.status_code == 200, comment.text
    assert _names(comment.json()["attachments"]) == [file]


def test_moving_an_attachment_from_another_memo(world: World) -> None:
    file = uploaded(world, "alice")["name"]
    first = world.create("alice", attachments=[{"name": file}])["name"]
    second = world.create("alice", attachments=[{"name": file}])["name"]
    assert (_shown(world, first), _shown(world, second)) == ([], [file])
    assert _set(world, "alice", first, [file]).status_code == 200
    assert (_shown(world, first), _shown(world, second)) == ([file], [])
    assert _files(world) == 1  # moved, not copied or deleted


# --- SetMemoAttachments -------------------------------------------------------------------------------------


@pytest.mark.parametrize("connect", [False, True], ids=["rest", "connect"])
def test_set_replaces_the_set_in_request_order_and_deletes_the_rest(world: World, connect: bool) -> None:
    a, b, c = (uploaded(world, "alice", f"{n}.txt")["name"] for n in "abc")
    memo = world.create("alice", attachments=[{"name": a}, {"name": b}])["name"]
    assert _set(world, "alice", memo, [c, a], connect=connect).status_code == 200
    assert _shown(world, memo) == [c, a]
    assert world.get("alice", b).status_code == 404  # deleted, not just unlinked
    assert (_count(world), _files(world)) == (2, 2)


def test_91_an_empty_set_deletes_the_attachments_and_their_files(world: World) -> None:
    files = [uploaded(world, "alice", f"{n}.txt")["name"] for n in "ab"]
    memo = world.create("alice", attachments=[{"name": name} for name in files])["name"]
    assert _files(world) == 2
    assert _set(world, "alice", memo, []).status_code == 200
    assert (_shown(world, memo), _count(world), _files(world)) == ([], 0, 0)


def test_92_naming_only_half_of_a_live_photo_drops_the_whole_group(world: World) -> None:
    still, video = _live_photo(world, "alice", "g1")
    memo = world.create("alice", attachments=[{"name": still}, {"name": video}])["name"]
    assert _shown(world, memo) == [still, video]
    assert _set(world, "alice", memo, [still]).status_code == 200
    assert (_shown(world, memo), _count(world)) == ([], 0)


def test_a_group_stands_together_where_its_first_member_was_named(world: World) -> None:
    still, video = _live_photo(world, "alice", "g1")
    a, b = (uploaded(world, "alice", f"{n}.txt")["name"] for n in "ab")
    memo = world.create("alice", attachments=[{"name": video}, {"name": a}, {"name": still}, {"name": b}])["name"]
    assert _shown(world, memo) == [video, still, a, b]
    # Naming the whole group keeps it; a group the memo does not hold yet may arrive in part.
    other_still, _other_video = _live_photo(world, "alice", "g2")
    assert _set(world, "alice", memo, [b, still, other_still, video]).status_code == 200
    assert _shown(world, memo) == [b, still, video, other_still]


def test_93_removing_someone_elses_attachment_is_refused_and_changes_nothing(world: World) -> None:
    memo = world.create("alice")["name"]
    admins = uploaded(world, "root", "admin.txt", memo=memo)["name"]
    own = uploaded(world, "alice", "own.txt")["name"]
    assert error(_set(world, "alice", memo, [own])) == (403, "cannot remove another user's attachment")
    assert _shown(world, memo) == [admins]
    assert world.get("alice", own).json().get("memo") is None
    assert _set(world, "root", memo, [own]).status_code == 200  # an admin may remove it
    assert _shown(world, memo) == [own]


def test_94_set_moves_the_memos_update_time_to_now(world: World) -> None:
    memo = world.create("alice", updateTime="2020-01-01T00:00:00Z")["name"]
    assert _set(world, "alice", memo, []).status_code == 200
    assert not world.get("alice", memo).json()["updateTime"].startswith("2020")


def test_95_and_the_other_refusals_of_set(world: World) -> None:
    memo = world.create("alice", visibility="PUBLIC")["name"]
    file = uploaded(world, "alice")["name"]
    assert error(_set(world, "alice", "memos/nonexistent-uid-12345", [])) == (404, "memo not found")
    assert error(_set(world, "bob", memo, [])) == (403, "permission denied")
    bobs = uploaded(world, "bob")["name"]
    assert error(_set(world, "alice", memo, [file, bobs])) == (403, "cannot attach another user's attachment")
    assert error(_set(world, "alice", memo, ["attachments/ghost"])) == (404, "attachment not found: ghost")
    status, message = error(_set(world, "alice", memo, ["ghost"]))
    assert status == 400 and message.startswith("invalid attachment name: ")
    assert _shown(world, memo) == []
    assert world.connect("anon", "SetMemoAttachments", {"name": memo}).status_code == 401


# --- UpdateMemo with the attachments path -------------------------------------------------------------------


def test_update_memo_replaces_attachments_like_set(world: World) -> None:
    a, b = (uploaded(world, "alice", f"{n}.txt")["name"] for n in "ab")
    memo = world.create("alice", attachments=[{"name": a}])["name"]
    updated = world.patch("alice", memo, {"attachments": [{"name": b}], "pinned": True}, "attachments,pinned")
    assert updated.status_code == 200, updated.text
    assert (_names(updated.json()["attachments"]), updated.json()["pinned"]) == ([b], True)
    assert world.get("alice", a).status_code == 404
    refused = world.patch("alice", memo, {"attachments": [{"name": uploaded(world, "bob")["name"]}]}, "attachments")
    assert error(refused) == (403, "cannot attach another user's attachment")
    assert _shown(world, memo) == [b]


# --- ListMemoAttachments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("visibility", "bob"), [("PRIVATE", 403), ("PROTECTED", 200), ("PUBLIC", 200)])
def test_11_listing_a_memos_attachments(world: World, visibility: str, bob: int) -> None:
    file = uploaded(world, "alice")["name"]
    memo = world.create("alice", visibility=visibility, attachments=[{"name": file}])["name"]
    response = world.client.get(f"/api/v1/{memo}/attachments", params={"pageSize": 1, "pageToken": "junk"},
                                headers=world.headers["bob"])
    assert response.status_code == bob
    assert _listed(world, "root", memo) == [file]
    assert world.client.get(f"/api/v1/{memo}/attachments").status_code == 401
    assert error(world.client.get("/api/v1/memos/ghost/attachments", headers=world.headers["alice"])) == (
        404, "memo not found"
    )


# --- live events --------------------------------------------------------------------------------------------


async def _subscribe(hub: Any, viewer: Any) -> Any:
    return hub.subscribe(viewer)


def test_server_43_45_one_event_per_write(world: World) -> None:
    hub = world.client.app.state.live_hub
    root = world.client.portal.call(world.client.app.state.store.users.get, FindUser(username="root"))
    stream = world.client.portal.call(lambda: _subscribe(hub, root))
    file = uploaded(world, "alice")["name"]
    memo = world.create("alice", attachments=[{"name": file}])["name"]
    assert _set(world, "alice", memo, []).status_code == 200
    events = world.client.portal.call(stream.next_events, 1.0)
    assert [json.loads(event.to_json()) for event in events] == [
        {"type": "memo.created", "name": memo},
        {"type": "memo.updated", "name": memo},
    ]
    stream.close()


def test_connect_list_memo_attachments(world: World) -> None:
    file = uploaded(world, "alice")["name"]
    memo = world.create("alice", attachments=[{"name": file}])["name"]
    response = world.client.post(CONNECT + "ListMemoAttachments", json={"name": memo},
                                 headers={"content-type": "application/json", **world.headers["alice"]})
    assert response.status_code == 200
    assert _names(response.json()["attachments"]) == [file]
