"""MemoService on memos: CreateMemo, ListMemos, GetMemo, UpdateMemo, DeleteMemo, over REST and Connect.

Numbers in test names and comments are the statements of the behaviour checklist
(spec memos.md §11) each test shows.
"""
from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import pytest
from memo_support import CONNECT, World, error, memo_world
from starlette.testclient import TestClient
from support import (
    bearer,
    build_memos_demo_database,
    connect_call,
    make_profile,
    password_hash,
    sign_in,
)

from memos.api.paging import encode_page_token
from memos.app import create_app
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.gen.store import instance_setting_pb2 as setting_pb
from memos.store import CreateReaction, FindUser

# --- access ------------------------------------------------------------------------------------


def test_1_anonymous_create_is_401_before_the_service(world: World) -> None:
    response = world.client.post("/api/v1/memos", json={"content": "x"})
    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "authentication required"}


def test_2_anonymous_lists_only_public_normal_top_level_memos(world: World) -> None:
    public = world.create("alice", visibility="PUBLIC")["name"]
    world.create("alice", visibility="PROTECTED")
    world.create("alice", visibility="PRIVATE")
    archived = world.create("alice", visibility="PUBLIC")["name"]
    assert world.patch("alice", archived, {"state": "ARCHIVED"}, "state").status_code == 200
    assert world.comment("bob", public).status_code == 200  # a PUBLIC comment, never listed
    assert world.names("anon") == [public]


def test_3_a_private_instance_turns_anonymous_lists_away(tmp_path: pathlib.Path) -> None:
    for private in memo_world(tmp_path / "private", public=False):
        private.create("alice", visibility="PUBLIC")
        response = private.list("anon")
        assert response.status_code == 401 and response.json()["code"] == 16
        assert private.names("bob") != []


def test_4_anonymous_get_of_a_protected_memo_is_unauthenticated_over_rest_and_connect(world: World) -> None:
    name = world.create("alice", visibility="PROTECTED")["name"]
    assert error(world.get("anon", name)) == (401, "user not authenticated")
    response = world.connect("anon", "GetMemo", {"name": name})
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "user not authenticated"}


def test_5_private_memos_are_refused_to_other_users_and_admins(world: World) -> None:
    name = world.create("alice", visibility="PRIVATE")["name"]
    assert error(world.get("bob", name)) == (403, "permission denied")
    assert error(world.get("root", name)) == (403, "permission denied")
    assert world.get("anon", name).status_code == 401
    assert world.get("alice", name).json()["visibility"] == "PRIVATE"


def test_6_archived_memos_are_not_found_for_all_but_their_creator(world: World) -> None:
    name = world.create("alice", visibility="PUBLIC")["name"]
    world.patch("alice", name, {"state": "ARCHIVED"}, "state")
    for who in ("anon", "bob", "root"):
        assert error(world.get(who, name)) == (404, "memo not found")
    assert world.get("alice", name).json()["state"] == "ARCHIVED"


def test_7_a_public_comment_under_a_private_parent_follows_the_parent(world: World) -> None:
    parent = world.create("alice", visibility="PUBLIC")["name"]
    comment = world.comment("alice", parent).json()["name"]
    assert world.patch("alice", parent, {"visibility": "PRIVATE"}, "visibility").status_code == 200
    assert world.get("alice", comment).json()["visibility"] == "PUBLIC"  # not cascaded
    assert error(world.get("anon", comment)) == (401, "user not authenticated")
    assert error(world.get("bob", comment)) == (403, "permission denied")
    assert world.get("alice", comment).json()["parent"] == parent


def test_8_signed_in_lists_show_own_memos_and_others_public_and_protected(world: World) -> None:
    mine = world.create("bob", visibility="PRIVATE")["name"]
    public = world.create("alice", visibility="PUBLIC")["name"]
    protected = world.create("alice", visibility="PROTECTED")["name"]
    world.create("alice", visibility="PRIVATE")
    assert set(world.names("bob")) == {mine, public, protected}
    assert set(world.names("root")) == {public, protected}  # admins see no more


def test_9_the_archive_lists_only_the_callers_archived_memos(world: World) -> None:
    mine = world.create("alice", visibility="PRIVATE")["name"]
    theirs = world.create("bob", visibility="PUBLIC")["name"]
    for who, name in (("alice", mine), ("bob", theirs)):
        world.patch(who, name, {"state": "ARCHIVED"}, "state")
    assert world.names("alice", state="ARCHIVED") == [mine]
    assert world.names("alice") == []
    anonymous = world.list("anon", state="ARCHIVED", filter="((")  # empty before any validation
    assert anonymous.status_code == 200 and anonymous.json() == {"memos": [], "nextPageToken": ""}


def test_12_update_and_delete_by_others_are_refused_admins_may(world: World) -> None:
    name = world.create("alice", visibility="PUBLIC")["name"]
    assert error(world.patch("bob", name, {"content": "x"}, "content")) == (403, "permission denied")
    assert error(world.client.delete(f"/api/v1/{name}", headers=world.headers["bob"])) == (403, "permission denied")
    updated = world.patch("root", name, {"content": "by admin"}, "content")
    assert updated.status_code == 200 and updated.json()["creator"] == "users/alice"
    assert world.client.delete(f"/api/v1/{name}", headers=world.headers["root"]).status_code == 200
    assert world.get("alice", name).status_code == 404


# --- CreateMemo --------------------------------------------------------------------------------


def test_13_14_memo_ids_chosen_or_generated(world: World) -> None:
    uid = "21ec98aa-9a8f-458c-a2a3-c7dc69b6f591"
    assert world.create("alice", memo_id=uid)["name"] == f"memos/{uid}"
    generated = world.create("alice")["name"].removeprefix("memos/")
    assert len(generated) == 22
    assert set(generated) <= set("23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
    assert world.create("alice", memo_id="  a--b  ")["name"] == "memos/a--b"  # trimmed


@pytest.mark.parametrize("uid", ["-abc", "abc-", "a b", "x" * 37, "ä", "a/b", "a_b", "a.b", "%2e%2e"])
def test_15_odd_memo_ids_are_invalid_and_store_nothing(world: World, uid: str) -> None:
    response = world.client.post("/api/v1/memos", params={"memoId": uid}, json={"content": "x"},
                                 headers=world.headers["alice"])
    status, message = error(response)
    assert status == 400 and message.startswith("invalid UID:")
    assert world.names("alice") == []


def test_16_a_taken_memo_id_is_already_exists(world: World) -> None:
    world.create("alice", memo_id="twice")
    response = world.client.post("/api/v1/memos?memoId=twice", json={"content": "again"},
                                 headers=world.headers["bob"])
    assert error(response) == (409, 'memo with ID "twice" already exists')
    assert world.get("alice", "memos/twice").json()["content"] == "text"


def _set_content_limit(world: World, limit: int) -> None:
    setting = setting_pb.InstanceSetting(
        key=setting_pb.MEMO_RELATED,
        memo_related_setting=setting_pb.InstanceMemoRelatedSetting(content_length_limit=limit),
    )
    world.client.portal.call(world.client.app.state.store.instance_settings.upsert, setting)


def test_17_content_is_limited_in_bytes_with_a_floor_of_8192(world: World) -> None:
    assert world.create("alice", "x" * 8192)["content"] == "x" * 8192
    too_long = world.client.post("/api/v1/memos", json={"content": "x" * 8193}, headers=world.headers["alice"])
    assert error(too_long) == (400, "content too long (max 8192 characters)")
    multibyte = world.client.post("/api/v1/memos", json={"content": "é" * 4097}, headers=world.headers["alice"])
    assert error(multibyte)[0] == 400  # 8194 bytes, 4097 characters
    _set_content_limit(world, 100)
    assert world.create("alice", "y" * 8192)["content"] == "y" * 8192  # below the floor counts as 8192
    _set_content_limit(world, 10_000)
    assert world.create("alice", "z" * 10_000)["content"] == "z" * 10_000
    assert len(world.names("alice")) == 3


def test_18_19_20_empty_content_unspecified_visibility_and_pinned_on_create(world: World) -> None:
    memo = world.create("alice", "", pinned=True, state="ARCHIVED")
    assert memo["content"] == "" and memo["visibility"] == "PRIVATE"
    assert memo["pinned"] is False and memo["state"] == "NORMAL"


def test_unknown_visibility_values_are_stored_private(world: World) -> None:
    # §1.3: any visibility but PUBLIC and PROTECTED is stored PRIVATE, a name the client made up too.
    unknown = world.client.post("/api/v1/memos", json={"content": "x", "visibility": "SECRET"},
                                headers=world.headers["alice"])
    assert unknown.status_code == 200 and unknown.json()["visibility"] == "PRIVATE"
    # visibility = 99 (field 9, varint), unknown to the enum: stored PRIVATE as Memos does.
    memo_bytes = api.Memo(content="x").SerializeToString() + bytes([9 << 3, 99])
    raw = bytes([1 << 3 | 2, len(memo_bytes)]) + memo_bytes
    response = world.client.post(CONNECT + "CreateMemo", content=raw,
                                 headers={"content-type": "application/proto", **world.headers["alice"]})
    assert response.status_code == 200, response.text
    assert api.Memo.FromString(response.content).visibility == api.PRIVATE
    assert len(world.names("alice")) == 2


def test_21_client_times_are_kept_and_default_to_now(world: World) -> None:
    memo = world.create("alice", createTime="2020-01-01T12:00:00Z", updateTime="2021-02-03T04:05:06Z")
    assert (memo["createTime"], memo["updateTime"]) == ("2020-01-01T12:00:00Z", "2021-02-03T04:05:06Z")
    assert world.get("alice", memo["name"]).json()["createTime"] == "2020-01-01T12:00:00Z"
    now = world.create("alice", createTime="1970-01-01T00:00:00Z")  # epoch 0 means "not given"
    for field in ("createTime", "updateTime"):
        year = int(now[field][:4])
        assert year == time.gmtime().tm_year


def test_22_tags_and_properties_are_derived_at_write_and_stored(world: World) -> None:
    memo = world.create("alice", "# Plan\n\nHello #work\n\n- [ ] task\n\n`code` [l](https://e.com)")
    assert memo["tags"] == ["work"]
    assert memo["property"] == {"hasLink": True, "hasTaskList": True, "hasCode": True,
                                "hasIncompleteTasks": True, "title": "Plan"}
    store = world.client.app.state.store
    stored = world.client.portal.call(store.memos.get_by_uid, memo["name"].removeprefix("memos/"))
    assert list(stored.payload.tags) == ["work"] and stored.payload.property.title == "Plan"


def test_22_a_stored_payload_is_served_as_stored_not_recomputed(world: World) -> None:
    memo = world.create("alice", "Hello #work")
    world.run_sql("UPDATE memo SET payload = ? WHERE uid = ?", '{"tags":["other"]}', memo["name"][6:])
    served = world.get("alice", memo["name"]).json()
    assert served["tags"] == ["other"] and served["property"] is None


def test_location_is_stored_and_kept_across_content_edits(world: World) -> None:
    memo = world.create("alice", location={"placeholder": "Home", "latitude": 1.5, "longitude": -2.25})
    assert memo["location"] == {"placeholder": "Home", "latitude": 1.5, "longitude": -2.25}
    edited = world.patch("alice", memo["name"], {"content": "#a #b"}, "content").json()  # 76
    assert edited["tags"] == ["a", "b"] and edited["location"]["placeholder"] == "Home"
    cleared = world.patch("alice", memo["name"], {}, "location").json()
    assert "location" not in cleared
    assert "location" not in world.create("alice")  # optional: omitted when unset


def test_25_26_relations_given_on_create(world: World) -> None:
    target = world.create("alice", "the target", visibility="PUBLIC")["name"]
    memo = world.create("alice", "see it", relations=[
        {"relatedMemo": {"name": target}, "type": "REFERENCE"},
        {"relatedMemo": {"name": target}, "type": "COMMENT"},  # 26: never a comment by this route
    ])
    expected = {"memo": {"name": memo["name"], "snippet": "see it"},
                "relatedMemo": {"name": target, "snippet": "the target"}, "type": "REFERENCE"}
    assert memo["relations"] == [expected]
    assert world.get("alice", target).json()["relations"] == [expected]
    listed = {m["name"]: m for m in world.list("alice").json()["memos"]}
    assert listed[target]["relations"] == [{**expected, "memo": {"name": memo["name"], "snippet": ""},
                                            "relatedMemo": {"name": target, "snippet": ""}}]
    assert "parent" not in listed[target]


def test_relations_to_unknown_or_invisible_memos_are_refused_and_store_nothing(world: World) -> None:
    hidden = world.create("bob", visibility="PRIVATE")["name"]
    before = world.names("alice")
    unknown = world.client.post("/api/v1/memos", json={"content": "x", "relations": [
        {"relatedMemo": {"name": "memos/nope"}}]}, headers=world.headers["alice"])
    assert error(unknown) == (404, "related memo not found: memos/nope")
    invisible = world.client.post("/api/v1/memos", json={"content": "x", "relations": [
        {"relatedMemo": {"name": hidden}}]}, headers=world.headers["alice"])
    assert invisible.status_code == 403
    malformed = world.client.post("/api/v1/memos", json={"content": "x", "relations": [
        {"relatedMemo": {"name": "nope"}}]}, headers=world.headers["alice"])
    assert error(malformed)[0] == 400 and "invalid related memo name" in error(malformed)[1]
    assert world.names("alice") == before


def test_a_relation_to_itself_on_create_is_dropped(world: World) -> None:
    memo = world.create("alice", memo_id="selfish", relations=[{"relatedMemo": {"name": "memos/selfish"}}])
    assert memo["relations"] == []


def test_create_over_connect_proto_and_json(world: World) -> None:
    for codec in ("proto", "json"):
        created = connect_call(world.client, CONNECT + "CreateMemo",
                               api.CreateMemoRequest(memo=api.Memo(content=f"#{codec}", visibility=api.PUBLIC)),
                               api.Memo, codec, headers=world.headers["alice"])
        assert list(created.tags) == [codec] and created.creator == "users/alice"
        assert created.HasField("property") and not created.HasField("location")


# --- ListMemos: ordering and paging -------------------------------------------------------------


def _seed_times(world: World) -> list[str]:
    """Three PUBLIC memos of alice: created 1000, 2000, 3000, updated in the reverse order."""
    names = []
    for index, (created, updated) in enumerate(((1000, 9000), (2000, 8000), (3000, 7000))):
        stamp = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))  # noqa: E731
        names.append(world.create("alice", f"m{index}", visibility="PUBLIC",
                                  createTime=stamp(created), updateTime=stamp(updated))["name"])
    return names


def test_27_28_29_orders(world: World) -> None:
    first, second, third = _seed_times(world)
    assert world.names("anon") == [third, second, first]
    assert world.names("anon", orderBy="update_time desc") == [first, second, third]
    assert world.names("anon", orderBy="create_time asc") == [first, second, third]
    assert world.names("anon", orderBy="name ASC") == [first, second, third]
    assert world.names("anon", orderBy="create_time asc, update_time asc") == [first, second, third]


def test_27_equal_times_break_ties_by_id_descending(world: World) -> None:
    names = [world.create("alice", visibility="PUBLIC", createTime="2022-01-01T00:00:00Z")["name"]
             for _ in range(3)]
    assert world.names("anon") == names[::-1]
    assert world.names("anon", orderBy="create_time asc") == names[::-1]


@pytest.mark.parametrize(("order_by", "message"), [
    ("display_time desc", "invalid order_by: unsupported order field: display_time, supported fields are: "
                          "pinned, create_time, update_time, name"),
    ("create_time sideways", "invalid order_by: invalid order direction: sideways, must be 'asc' or 'desc'"),
    ("   ", "invalid order_by: empty order_by"),
])
def test_30_bad_orders_are_invalid(world: World, order_by: str, message: str) -> None:
    assert error(world.list("alice", orderBy=order_by)) == (400, message)


def test_31_pinned_first_wherever_it_is_listed(world: World) -> None:
    first, second, third = _seed_times(world)
    assert world.patch("alice", first, {"pinned": True}, "pinned").json()["pinned"] is True
    for order_by in ("pinned desc, create_time desc", "create_time desc, pinned", "pinned asc"):
        assert world.names("anon", orderBy=order_by) == [first, third, second]


def test_32_page_sizes_are_normalised(world: World) -> None:
    store = world.client.app.state.store

    def many(conn: Any) -> None:
        for index in range(1002):
            conn.execute("INSERT INTO memo (uid, creator_id, content, visibility, payload) "
                         "VALUES (?, ?, '', 'PUBLIC', '{}')", (f"bulk{index}", world.ids["alice"]))

    world.client.portal.call(store.driver.run_write, many)
    for size, expected in ((0, 50), (-1, 50), (5000, 1000), (10**9, 1000), (7, 7)):
        response = world.list("anon", pageSize=size)
        assert response.status_code == 200 and len(response.json()["memos"]) == expected, size
        assert response.json()["nextPageToken"] == encode_page_token(expected, expected)


def test_33_34_page_tokens_as_memos_forms_them(world: World) -> None:
    first, second, third = _seed_times(world)
    page = world.list("anon", pageSize=2).json()
    assert [m["name"] for m in page["memos"]] == [third, second] and page["nextPageToken"] == "CAIQAg=="
    rest = world.list("anon", pageSize=1, pageToken="CAIQAg==").json()  # 34: the token's size wins
    assert [m["name"] for m in rest["memos"]] == [first] and rest["nextPageToken"] == ""


@pytest.mark.parametrize("token", ["not base64!", "CAIQ", "////", "A" * 5000, "%00"])
def test_malformed_page_tokens_are_invalid(world: World, token: str) -> None:
    status, message = error(world.list("anon", pageToken=token))
    assert status == 400 and message.startswith("invalid page token")


def test_35_memos_and_reactions_of_deleted_users_are_left_out(world: World) -> None:
    kept = world.create("alice", visibility="PUBLIC")["name"]
    lost = world.create("bob", visibility="PUBLIC")["name"]
    store = world.client.app.state.store
    for who in ("alice", "bob"):
        reaction = CreateReaction(creator_id=world.ids[who], content_id=kept, reaction_type="👍")
        world.client.portal.call(store.reactions.create, reaction)
    assert len(world.get("alice", kept).json()["reactions"]) == 2
    world.run_sql("DELETE FROM user WHERE id = ?", world.ids["bob"])
    store.users.cache.delete(world.ids["bob"])
    assert world.names("anon") == [kept]
    reactions = world.list("anon").json()["memos"][0]["reactions"]
    assert [r["creator"] for r in reactions] == ["users/alice"]
    assert reactions[0]["name"].startswith(f"{kept}/reactions/") and reactions[0]["contentId"] == kept
    assert error(world.get("alice", lost)) == (404, "memo creator not found")


def test_36_lists_never_show_comments_whatever_the_filter(world: World) -> None:
    parent = world.create("alice", "parent", visibility="PUBLIC")["name"]
    world.comment("alice", parent, "comment #c")
    assert world.names("alice") == [parent]
    assert world.names("alice", filter='"c" in tags') == []


# --- ListMemos: filters ---------------------------------------------------------------------


def test_37_38_39_58_69_filters_are_anded_with_the_scope(world: World) -> None:
    book = world.create("alice", "#book", visibility="PUBLIC")["name"]
    fiction = world.create("alice", "#book/fiction", visibility="PUBLIC")["name"]
    work = world.create("alice", "#Work", visibility="PUBLIC")["name"]
    hidden = world.create("bob", "#book", visibility="PRIVATE")["name"]
    assert set(world.names("alice", filter='tag in ["book"]')) == {book, fiction}
    assert world.names("alice", filter='"book" in tags') == [book]
    assert world.names("alice", filter='tag in ["work"]') == [work]
    assert world.names("bob", filter='tag in ["book"]') == [hidden, fiction, book]
    assert world.names("alice", filter='creator == "users/bob"') == []
    assert len(world.names("alice", filter="true")) == 3 and world.names("alice", filter="false") == []


@pytest.mark.parametrize("text", [
    'tag == "work"', "1", "   ", "created_ts > 1700000000", "content.matches(\"(\")",
    "(" * 5000 + "true" + ")" * 5000, "x" * 100_000, 'content.contains("' + "a" * 100_000 + '"',
    "creator_id == 10 / 0", "unknown_field", "'; DROP TABLE memo; --",
])
def test_40_68_70_bad_filters_are_invalid_never_500(world: World, text: str) -> None:
    world.create("alice")
    # Over Connect: the body carries filters of any length (a URL's query would not).
    response = world.connect("alice", "ListMemos", {"filter": text})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_argument"
    assert response.json()["message"].startswith("invalid filter: ")
    if len(text) < 1000:
        status, message = error(world.list("alice", filter=text))
        assert status == 400 and message.startswith("invalid filter: "), message


def test_a_long_valid_filter_is_answered(world: World) -> None:
    memo = world.create("alice", "needle")["name"]
    text = " || ".join(['content.contains("needle")'] * 500)  # about 15 KB, under the 16 KB filter limit
    response = world.connect("alice", "ListMemos", {"filter": text})
    assert response.status_code == 200, response.text
    assert [m["name"] for m in response.json()["memos"]] == [memo]


# --- UpdateMemo ----------------------------------------------------------------------------


def test_73_74_79_masks(world: World) -> None:
    name = world.create("alice", "before")["name"]
    empty = world.client.patch(f"/api/v1/{name}", content=b"", headers=world.headers["alice"])
    assert error(empty) == (400, "update mask is required")
    response = world.connect("alice", "UpdateMemo", {"memo": {"name": name, "content": "x"}})
    assert response.status_code == 400 and response.json()["message"] == "update mask is required"
    assert error(world.patch("alice", name, {}, "display_time")) == (400, "display_time is not supported")
    ignored = world.patch("alice", name, {"content": "after"}, "content,name,tags,snippet,creator,property")
    assert ignored.status_code == 200 and ignored.json()["content"] == "after"
    unknown = world.patch("alice", name, {"content": "never"}, "content,colour")
    assert error(unknown) == (400, "invalid update path: colour")
    assert world.get("alice", name).json()["content"] == "after"  # nothing stored half-way
    assert world.patch("alice", name, {"colour": "red"}).status_code == 400  # the gateway's check


def test_75_update_time_moves_only_when_the_mask_names_it(world: World) -> None:
    memo = world.create("alice", updateTime="2020-01-01T00:00:00Z")
    edited = world.patch("alice", memo["name"], {"content": "x"}, "content").json()
    assert edited["updateTime"] == "2020-01-01T00:00:00Z"
    bumped = world.patch("alice", memo["name"], {"content": "y"}, "content,update_time").json()
    assert int(bumped["updateTime"][:4]) == time.gmtime().tm_year
    given = world.patch("alice", memo["name"], {"updateTime": "2019-05-05T05:05:05Z"}, "update_time").json()
    assert given["updateTime"] == "2019-05-05T05:05:05Z"
    created = world.patch("alice", memo["name"], {"createTime": "2018-01-01T00:00:00Z"}, "create_time").json()
    assert created["createTime"] == "2018-01-01T00:00:00Z"


def test_77_82_a_comment_keeps_its_parents_visibility(world: World) -> None:
    parent = world.create("alice", visibility="PRIVATE")["name"]
    comment = world.comment("alice", parent, visibility="PUBLIC").json()
    assert comment["visibility"] == "PRIVATE"  # 82
    updated = world.patch("alice", comment["name"], {"visibility": "PUBLIC"}, "visibility").json()
    assert updated["visibility"] == "PRIVATE"  # 77


def test_78_archiving_and_restoring(world: World) -> None:
    name = world.create("alice", visibility="PUBLIC")["name"]
    assert world.patch("alice", name, {"state": "ARCHIVED"}, "state").json()["state"] == "ARCHIVED"
    assert world.names("alice") == []
    assert world.patch("alice", name, {"state": "STATE_UNSPECIFIED"}, "state").json()["state"] == "NORMAL"
    assert world.names("alice") == [name]


def test_80_rest_patch_derives_the_mask_from_the_body(world: World) -> None:
    name = world.create("alice", "old", visibility="PRIVATE")["name"]
    updated = world.patch("alice", name, {"content": "new #tag", "visibility": "PUBLIC"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["content"], updated.json()["visibility"]) == ("new #tag", "PUBLIC")
    assert updated.json()["tags"] == ["tag"]


def test_update_content_over_the_limit_changes_nothing(world: World) -> None:
    name = world.create("alice", "kept")["name"]
    response = world.patch("alice", name, {"content": "x" * 9000, "pinned": True}, "pinned,content")
    assert error(response) == (400, "content too long (max 8192 characters)")
    memo = world.get("alice", name).json()
    assert (memo["content"], memo["pinned"]) == ("kept", False)


def test_update_relations_replaces_outgoing_references(world: World) -> None:
    one = world.create("alice", "one")["name"]
    two = world.create("alice", "two")["name"]
    memo = world.create("alice", "main", relations=[{"relatedMemo": {"name": one}}])["name"]
    updated = world.patch("alice", memo, {"relations": [{"relatedMemo": {"name": two}}]}, "relations").json()
    assert [r["relatedMemo"]["name"] for r in updated["relations"]] == [two]


def test_update_of_an_unknown_or_misnamed_memo(world: World) -> None:
    assert error(world.patch("alice", "memos/nope", {"content": "x"}, "content")) == (404, "memo not found")
    response = world.connect("alice", "UpdateMemo", {"memo": {"name": "notes/x"}, "updateMask": "content"})
    assert response.status_code == 400 and response.json()["message"].startswith("invalid memo name: ")


# --- DeleteMemo ----------------------------------------------------------------------------------


def _attach(world: World, uid: str, memo_name: str, data_dir: pathlib.Path) -> pathlib.Path:
    """An attachment row of alice's, linked to the memo, its bytes in a local file."""
    path = data_dir / "assets" / f"{uid}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("bytes")
    world.run_sql(
        "INSERT INTO attachment (uid, creator_id, filename, type, size, memo_id, storage_type, reference, payload)"
        " VALUES (?, ?, ?, 'text/plain', 5, (SELECT id FROM memo WHERE uid = ?), 'LOCAL', ?, '{}')",
        uid, world.ids["alice"], f"{uid}.txt", memo_name.removeprefix("memos/"), f"assets/{uid}.txt",
    )
    return path


def _count(world: World, sql: str, *args: Any) -> int:
    store = world.client.app.state.store
    return int(world.client.portal.call(store.driver.run_write, lambda conn: conn.execute(sql, args).fetchall())[0][0])


def test_89_90_delete_cascades_to_comments_relations_and_attachments(world: World) -> None:
    data_dir = pathlib.Path(world.client.app.state.profile.data)
    memo = world.create("alice", "doomed", visibility="PUBLIC")
    name = memo["name"]
    other = world.create("alice", "refers", relations=[{"relatedMemo": {"name": name}}])["name"]
    comment = world.comment("bob", name).json()["name"]
    own_file = _attach(world, "att1", name, data_dir)
    comment_file = _attach(world, "att2", comment, data_dir)
    listed = world.get("alice", name).json()
    assert [a["name"] for a in listed["attachments"]] == ["attachments/att1"]
    assert listed["attachments"][0]["memo"] == name
    world.client.portal.call(world.client.app.state.store.reactions.create,
                             CreateReaction(creator_id=world.ids["bob"], content_id=name, reaction_type="👍"))
    world.run_sql("INSERT INTO memo_share (uid, memo_id, creator_id) VALUES ('tok', (SELECT id FROM memo WHERE"
                  " uid = ?), ?)", name.removeprefix("memos/"), world.ids["alice"])
    assert world.client.delete(f"/api/v1/{name}", headers=world.headers["alice"]).status_code == 200
    assert world.get("alice", name).status_code == 404
    assert world.get("bob", comment).status_code == 404
    assert world.get("alice", other).json()["relations"] == []
    assert not own_file.exists() and not comment_file.exists()
    assert _count(world, "SELECT count(*) FROM attachment") == 0
    assert _count(world, "SELECT count(*) FROM reaction") == 1  # kept, as in Memos
    assert _count(world, "SELECT count(*) FROM memo_share") == 1
    assert world.client.get("/api/v1/shares/tok/memo").status_code in (404, 501)  # 90 (GetSharedMemo)


def test_delete_of_unknown_or_misnamed_memos(world: World) -> None:
    assert error(world.client.delete("/api/v1/memos/nope", headers=world.headers["alice"])) == (
        404, "memo not found")
    response = world.connect("alice", "DeleteMemo", {"name": "memos/"})
    assert response.status_code == 400


# --- the Memos demo database ------------------------------------------------------------------


def test_the_memos_demo_database_is_served_per_visibility(tmp_path: pathlib.Path) -> None:
    import apsw

    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    build_memos_demo_database(data_dir / "memos_prod.db")
    connection = apsw.Connection(str(data_dir / "memos_prod.db"))
    # The demo users' passwords are unknown here: each gets the password "pw".
    connection.execute("UPDATE user SET password_hash = ?", (password_hash("pw"),))
    top_level = "row_status = 'NORMAL' AND id NOT IN (SELECT memo_id FROM memo_relation WHERE type = 'COMMENT')"
    count = lambda sql, *args: connection.execute(sql, args).fetchall()[0][0]  # noqa: E731
    users = connection.execute("SELECT username, id, role FROM user WHERE row_status = 'NORMAL'").fetchall()
    expected_public = count(f"SELECT count(*) FROM memo WHERE {top_level} AND visibility = 'PUBLIC'")
    expected = {
        username: count(f"SELECT count(*) FROM memo WHERE {top_level} AND (visibility IN ('PUBLIC', 'PROTECTED')"
                        " OR creator_id = ?)", user_id)
        for username, user_id, _ in users
    }
    connection.close()
    assert expected_public > 0 and any(role == "ADMIN" for _, _, role in users)
    profile = make_profile(data_dir, instance_url="http://memos.test")
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        def listed(headers: dict[str, str]) -> list[dict]:
            response = client.get("/api/v1/memos", params={"pageSize": 1000}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["memos"]

        anonymous = listed({})
        assert len(anonymous) == expected_public
        assert {memo["visibility"] for memo in anonymous} == {"PUBLIC"}
        for username, _, _ in users:
            memos = listed(bearer(sign_in(client, username)))
            assert len(memos) == expected[username], username
            for memo in memos:
                assert memo["visibility"] != "PRIVATE" or memo["creator"] == f"users/{username}"


# --- live events ---------------------------------------------------------------------------------


def test_writes_publish_live_events_after_commit(world: World) -> None:
    hub = world.client.app.state.live_hub
    store = world.client.app.state.store
    root = world.client.portal.call(store.users.get, FindUser(username="root"))
    stream = world.client.portal.call(lambda: _subscribe(hub, root))
    memo = world.create("alice", visibility="PRIVATE")["name"]
    world.patch("alice", memo, {"content": "x"}, "content")
    comment = world.comment("alice", memo).json()["name"]
    world.patch("alice", comment, {"pinned": True}, "pinned")
    world.client.patch(f"/api/v1/{memo}/relations", json={"relations": []}, headers=world.headers["alice"])
    world.client.delete(f"/api/v1/{memo}", headers=world.headers["alice"])
    events = world.client.portal.call(stream.next_events, 1.0)
    assert [json.loads(event.to_json()) for event in events] == [
        {"type": "memo.created", "name": memo},
        {"type": "memo.updated", "name": memo},
        {"type": "memo.comment.created", "name": memo},
        {"type": "memo.updated", "name": comment, "parent": memo},
        {"type": "memo.updated", "name": memo},
        {"type": "memo.deleted", "name": memo},
    ]
    assert world.client.post("/api/v1/memos", json={"content": "x" * 9000},
                             headers=world.headers["alice"]).status_code == 400
    assert world.client.portal.call(stream.next_events, 0.05) == []  # a failed write publishes nothing
    stream.close()


async def _subscribe(hub: Any, viewer: Any) -> Any:
    return hub.subscribe(viewer)


def test_mentions_notify_once_on_create_and_only_new_names_on_edit(world: World) -> None:
    def mentions(who: str) -> int:
        response = world.client.get(f"/api/v1/users/{who}/notifications", headers=world.headers[who])
        return sum(item["type"] == "MEMO_MENTION" for item in response.json()["notifications"])

    name = world.create("alice", "hi @bob", visibility="PROTECTED")["name"]
    assert (mentions("bob"), mentions("root")) == (1, 0)
    world.patch("alice", name, {"content": "hi @bob and @root"}, "content")
    assert (mentions("bob"), mentions("root")) == (1, 1)
    world.patch("alice", name, {"pinned": True}, "pinned")  # no content change: nobody is told again
    assert (mentions("bob"), mentions("root")) == (1, 1)
    world.create("alice", "private note for @bob", visibility="PRIVATE")
    assert mentions("bob") == 1


def test_a_write_derives_the_snippet_once_and_its_response_reuses_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import memos.api.convert.memo as convert

    def parse_again(content: str) -> str:
        raise AssertionError(f"the snippet of {content!r} was parsed again on the write's response")

    monkeypatch.setattr(convert, "snippet", parse_again)
    content = "Derived once: **bold** text 42a7"
    created = world.client.post("/api/v1/memos", json={"content": content}, headers=world.headers["alice"])
    assert created.status_code == 200, created.text
    assert created.json()["snippet"] == "Derived once: bold text 42a7"
    changed = world.client.patch(
        f"/api/v1/{created.json()['name']}", params={"updateMask": "content"},
        json={"content": "Changed _once_ 42a7"}, headers=world.headers["alice"],
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["snippet"] == "Changed once 42a7"
