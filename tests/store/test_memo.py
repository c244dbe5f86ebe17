"""Memo summaries through store.memos (statistics, notifications, the sitemap)."""
from __future__ import annotations

import dataclasses
import pathlib
import time

import pytest
from support import insert_memo as _insert_memo
from support import sqlite_rows as _rows

from memos.store import (
    FindMemo,
    Store,
)

pytestmark = pytest.mark.anyio



async def test_stat_rows_are_newest_first_without_comments(store: Store) -> None:
    base = await _insert_memo(store, "base", 1, created_ts=100, pinned=1,
                              payload='{"tags":["go"],"property":{"hasCode":true}, "old": 1}')
    await _insert_memo(store, "same-time", 1, created_ts=100, visibility="PRIVATE")
    await _insert_memo(store, "newest", 1, created_ts=300, visibility="PROTECTED")
    await _insert_memo(store, "archived", 1, created_ts=400, row_status="ARCHIVED")
    await _insert_memo(store, "comment", 1, created_ts=500, comment_on=base)
    await _insert_memo(store, "other", 2, created_ts=200, visibility="PROTECTED")

    rows = await store.memos.find_summaries(FindMemo(creator_id=1))
    assert [row.uid for row in rows] == ["newest", "same-time", "base"]
    base_row = rows[-1]
    assert (base_row.created_ts, base_row.updated_ts) == (100, 105)
    assert (base_row.pinned, base_row.visibility) == (True, "PUBLIC")
    assert list(base_row.payload.tags) == ["go"] and base_row.payload.property.has_code

    public = await store.memos.find_summaries(FindMemo(creator_id=1, visibilities=["PUBLIC"]))
    assert [row.uid for row in public] == ["base"]
    mine_and_shared = await store.memos.find_summaries(FindMemo(visibilities=["PUBLIC", "PROTECTED"], or_creator_id=1))
    assert [row.uid for row in mine_and_shared] == ["newest", "other", "same-time", "base"]
    archived = await store.memos.find_summaries(FindMemo(creator_id=1, row_status="ARCHIVED"))
    assert [row.uid for row in archived] == ["archived"]
    with_comments = await store.memos.find_summaries(FindMemo(creator_id=1, exclude_comments=False))
    assert with_comments[0].uid == "comment"


async def test_summaries_by_id_include_archived_memos_and_comments(store: Store) -> None:
    base = await _insert_memo(store, "base", 1, created_ts=100)
    archived = await _insert_memo(store, "archived", 2, created_ts=200, row_status="ARCHIVED")
    comment = await _insert_memo(store, "comment", 2, created_ts=300, comment_on=base)
    await _insert_memo(store, "not-asked", 1, created_ts=400)

    by_id = FindMemo(ids=[base, archived, comment, 999], row_status=None, exclude_comments=False)
    rows = await store.memos.find_summaries(by_id)
    assert [row.uid for row in rows] == ["comment", "archived", "base"]
    assert await store.memos.find_summaries(FindMemo(ids=[])) == []


async def test_stat_rows_of_the_demo_database(v030_database: pathlib.Path, tmp_path: pathlib.Path) -> None:
    expected = _rows(
        v030_database,
        "SELECT uid FROM memo WHERE creator_id = 2 AND row_status = 'NORMAL' AND id NOT IN"
        " (SELECT memo_id FROM memo_relation WHERE type = 'COMMENT') ORDER BY created_ts DESC, id DESC",
    )
    store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        rows = await store.memos.find_summaries(FindMemo(creator_id=2))
        plan = await store.driver.run_read(
            lambda conn: conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM memo WHERE creator_id = 2 AND NOT EXISTS (SELECT 1 FROM"
                " memo_relation AS relation WHERE relation.memo_id = memo.id AND relation.type = 'COMMENT')"
            ).fetchall()
        )
    finally:
        await store.close()
    assert [row.uid for row in rows] == [uid for (uid,) in expected] and len(rows) == 7
    assert any(row.payload.tags for row in rows)
    details = " ".join(str(step[-1]) for step in plan)
    assert "idx_memo_creator_id" in details and "SCAN memo_relation" not in details


# --- memos proper: writes, lookups, ordering, scoping, filters ----------------------------

from memos.filter import parse_memo_filter  # noqa: E402
from memos.gen.store import memo_pb2  # noqa: E402
from memos.store import (  # noqa: E402
    Conflict,
    CreateMemo,
    CreateReaction,
    InvalidValue,
    MemoRelation,
    NotFound,
    UpdateMemo,
)


async def _memo(store: Store, uid: str, creator_id: int = 1, **fields: object) -> int:
    return (await store.memos.create(CreateMemo(uid=uid, creator_id=creator_id, **fields))).id  # type: ignore[arg-type]


async def test_create_stores_the_given_fields_and_defaults(store: Store) -> None:
    payload = memo_pb2.MemoPayload(tags=["work", "测"], property=memo_pb2.MemoPayload.Property(has_code=True))
    memo = await store.memos.create(
        CreateMemo(uid="first", creator_id=1, content="Hello #work", visibility="PUBLIC", payload=payload,
                   created_ts=1577880000, updated_ts=1577880001)
    )
    assert (memo.uid, memo.creator_id, memo.content, memo.visibility) == ("first", 1, "Hello #work", "PUBLIC")
    assert (memo.created_ts, memo.updated_ts, memo.row_status, memo.pinned) == (1577880000, 1577880001, "NORMAL", False)
    assert list(memo.payload.tags) == ["work", "测"] and memo.payload.property.has_code
    stored = _rows(store_path(store), "SELECT payload FROM memo WHERE uid = 'first'")[0][0]
    assert stored == '{"property":{"hasCode":true},"tags":["work","测"]}'

    plain = await store.memos.create(CreateMemo(uid="plain", creator_id=1))
    assert (plain.visibility, plain.content, plain.payload) == ("PRIVATE", "", memo_pb2.MemoPayload())
    assert abs(plain.created_ts - int(time.time())) < 5 and plain.updated_ts == plain.created_ts


def store_path(store: Store) -> pathlib.Path:
    return pathlib.Path(store.dsn)


async def test_a_memo_and_its_relations_are_written_together_or_not_at_all(store: Store) -> None:
    parent = await _memo(store, "parent")
    cited = await _memo(store, "cited")
    comment = await store.memos.create(
        CreateMemo(uid="comment", creator_id=1, relations=((cited, "REFERENCE"), (parent, "COMMENT")))
    )
    relations = _rows(store_path(store), "SELECT memo_id, related_memo_id, type FROM memo_relation ORDER BY type")
    assert relations == [(comment.id, parent, "COMMENT"), (comment.id, cited, "REFERENCE")]
    # A uid conflict rolls the relations back with the memo.
    with pytest.raises(Conflict):
        await store.memos.create(CreateMemo(uid="comment", creator_id=1, relations=((parent, "COMMENT"),)))
    assert len(_rows(store_path(store), "SELECT 1 FROM memo_relation")) == 2


async def test_an_update_replaces_references_with_the_memo_in_one_transaction(store: Store) -> None:
    memo_id, t1, t2 = [await _memo(store, uid) for uid in ("m", "t1", "t2")]
    await store.memos.update(UpdateMemo(id=memo_id, content="one", references=(t1, t1, memo_id)))
    query = "SELECT related_memo_id FROM memo_relation WHERE memo_id = ? AND type = 'REFERENCE'"
    assert _rows(store_path(store), query, (memo_id,)) == [(t1,)]  # once, never to itself
    await store.memos.update(UpdateMemo(id=memo_id, references=(t2,)))
    assert _rows(store_path(store), query, (memo_id,)) == [(t2,)]
    with pytest.raises(NotFound):
        await store.memos.update(UpdateMemo(id=9999, references=(t1,)))
    assert _rows(store_path(store), "SELECT 1 FROM memo_relation WHERE memo_id = 9999") == []


async def test_a_taken_uid_is_a_conflict_and_bad_values_are_refused(store: Store) -> None:
    await _memo(store, "same")
    with pytest.raises(Conflict) as caught:
        await _memo(store, "same", content="other")
    assert "memo.uid" in caught.value.columns
    with pytest.raises(InvalidValue):
        await _memo(store, "bad", visibility="SECRET")
    with pytest.raises(InvalidValue):
        await _memo(store, "")
    assert [uid for (uid,) in _rows(store_path(store), "SELECT uid FROM memo")] == ["same"]


async def test_get_by_id_and_uid_see_archived_memos_and_comments(store: Store) -> None:
    parent = await _memo(store, "parent")
    comment = await _memo(store, "comment")
    await store.memo_relations.upsert(MemoRelation(comment, parent, "COMMENT"))
    await store.memos.update(UpdateMemo(id=parent, row_status="ARCHIVED"))
    assert (await store.memos.get_by_uid("comment")).id == comment  # type: ignore[union-attr]
    assert (await store.memos.get_by_id(parent)).row_status == "ARCHIVED"  # type: ignore[union-attr]
    assert await store.memos.get_by_uid("missing") is None
    # The list defaults leave both out.
    assert await store.memos.find(FindMemo()) == []


async def test_update_sets_only_the_given_columns(store: Store) -> None:
    memo_id = await _memo(store, "m", content="old", visibility="PUBLIC", created_ts=100, updated_ts=100)
    updated = await store.memos.update(UpdateMemo(id=memo_id, content="new #x", pinned=True,
                                                  payload=memo_pb2.MemoPayload(tags=["x"])))
    assert (updated.content, updated.pinned, updated.visibility, updated.updated_ts) == ("new #x", True, "PUBLIC", 100)
    assert list(updated.payload.tags) == ["x"]
    moved = await store.memos.update(UpdateMemo(id=memo_id, created_ts=50, updated_ts=200, visibility="PROTECTED",
                                                row_status="ARCHIVED", pinned=False))
    assert (moved.created_ts, moved.updated_ts, moved.visibility, moved.row_status, moved.pinned) == (
        50, 200, "PROTECTED", "ARCHIVED", False)
    assert (await store.memos.update(UpdateMemo(id=memo_id))).content == "new #x"
    with pytest.raises(NotFound):
        await store.memos.update(UpdateMemo(id=999, content="x"))
    with pytest.raises(InvalidValue):
        await store.memos.update(UpdateMemo(id=memo_id, row_status="DELETED"))


async def test_list_order_pinned_first_time_field_direction_and_id_tie_break(store: Store) -> None:
    a = await _memo(store, "a", created_ts=100, updated_ts=400)
    b = await _memo(store, "b", created_ts=100, updated_ts=300)
    c = await _memo(store, "c", created_ts=200, updated_ts=100)
    d = await _memo(store, "d", created_ts=50, updated_ts=50)
    await store.memos.update(UpdateMemo(id=d, pinned=True))

    async def uids(**order: object) -> list[str]:
        return [memo.uid for memo in await store.memos.find(FindMemo(**order))]  # type: ignore[arg-type]

    assert await uids() == ["c", "b", "a", "d"]
    assert await uids(ascending=True) == ["d", "b", "a", "c"]  # id stays descending on ties
    assert await uids(time_field="updated_ts") == ["a", "b", "c", "d"]
    assert await uids(pinned_first=True) == ["d", "c", "b", "a"]
    assert await uids(pinned_first=True, time_field="updated_ts", ascending=True) == ["d", "c", "b", "a"]
    assert await uids(limit=2, offset=1) == ["b", "a"]
    assert await uids(pinned=True) == ["d"]
    assert await store.memos.count(FindMemo(limit=1)) == 4
    assert (a, b, c) == (1, 2, 3)
    with pytest.raises(InvalidValue):
        await uids(time_field="display_ts")
    with pytest.raises(InvalidValue):
        await uids(limit=-1)


async def test_scoping_own_memos_whatever_their_visibility(store: Store) -> None:
    await _memo(store, "mine-private", 1, visibility="PRIVATE", created_ts=1)
    await _memo(store, "theirs-private", 2, visibility="PRIVATE", created_ts=2)
    await _memo(store, "theirs-protected", 2, visibility="PROTECTED", created_ts=3)
    await _memo(store, "theirs-public", 2, visibility="PUBLIC", created_ts=4)
    signed_in = FindMemo(visibilities=["PUBLIC", "PROTECTED"], or_creator_id=1)
    assert [m.uid for m in await store.memos.find(signed_in)] == ["theirs-public", "theirs-protected", "mine-private"]
    anonymous = FindMemo(visibilities=["PUBLIC"])
    assert [m.uid for m in await store.memos.find(anonymous)] == ["theirs-public"]
    assert await store.memos.find(FindMemo(uids=[])) == []
    assert [m.uid for m in await store.memos.find(FindMemo(uids=["theirs-public", "x"]))] == ["theirs-public"]


async def test_filters_reach_sql_and_are_anded_with_scoping(store: Store) -> None:
    tags = memo_pb2.MemoPayload(tags=["book/fiction"])
    await _memo(store, "book", 1, content="Привет Мир", visibility="PUBLIC", payload=tags, created_ts=10)
    await _memo(store, "todo", 1, content="50%_off TODO", visibility="PRIVATE", created_ts=20)
    await _memo(store, "other", 2, content="todo elsewhere", visibility="PRIVATE", created_ts=30)

    async def uids(text: str, **find: object) -> list[str]:
        found = await store.memos.find(FindMemo(filter=parse_memo_filter(text), **find))  # type: ignore[arg-type]
        return [memo.uid for memo in found]

    assert await uids('tag in ["book"]') == ["book"]
    assert await uids('content.contains("привет")') == ["book"]
    assert await uids('content.contains("50%_off")') == ["todo"]
    assert await uids('content.contains("todo")') == ["other", "todo"]
    assert await uids('content.contains("todo")', visibilities=["PUBLIC"], or_creator_id=1) == ["todo"]
    assert await uids("creator_id == 2") == ["other"]
    assert await uids("true") == ["other", "todo", "book"] and await uids("false") == []
    visible = FindMemo(visibilities=["PUBLIC"], filter=parse_memo_filter('visibility in ["PUBLIC"]'))
    assert [row.uid for row in await store.memos.find_summaries(visible)] == ["book"]
    assert await store.memos.count(FindMemo(filter=parse_memo_filter('content.contains("o")'))) == 2


async def test_delete_cascades_as_memos_does(store: Store) -> None:
    memo = await _memo(store, "memo")
    comment = await _memo(store, "comment")
    grandchild = await _memo(store, "grandchild")
    referrer = await _memo(store, "referrer")
    target = await _memo(store, "target")
    await store.memo_relations.upsert(MemoRelation(comment, memo, "COMMENT"))
    await store.memo_relations.upsert(MemoRelation(grandchild, comment, "COMMENT"))
    await store.memo_relations.upsert(MemoRelation(referrer, memo, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(memo, target, "REFERENCE"))
    await store.reactions.create(CreateReaction(creator_id=2, content_id="memos/memo", reaction_type="👍"))

    def add_attachments(conn: object) -> None:
        for index in range(102):
            conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO attachment (uid, creator_id, updated_ts, memo_id, storage_type, reference)"
                " VALUES (?, 1, ?, ?, 'LOCAL', ?)", (f"a{index}", index, memo, f"/f/{index}"))
        conn.execute("INSERT INTO attachment (uid, creator_id, memo_id) VALUES ('c1', 2, ?)", (comment,))  # type: ignore[attr-defined]
        conn.execute("INSERT INTO memo_share (uid, memo_id, creator_id) VALUES ('tok', ?, 1)", (memo,))  # type: ignore[attr-defined]

    await store.driver.run_write(add_attachments)
    removed = await store.memos.delete(memo)
    assert sorted(ref.uid for ref in removed) == sorted(["c1", *(f"a{i}" for i in range(2, 102))])
    path = store_path(store)
    assert [uid for (uid,) in _rows(path, "SELECT uid FROM memo ORDER BY id")] == ["grandchild", "referrer", "target"]
    assert _rows(path, "SELECT * FROM memo_relation") == []
    # Memos keeps reactions, shares, and the two oldest attachments beyond the 100 it reads.
    assert _rows(path, "SELECT count(*) FROM reaction")[0][0] == 1
    assert _rows(path, "SELECT count(*) FROM memo_share")[0][0] == 1
    assert sorted(uid for (uid,) in _rows(path, "SELECT uid FROM attachment")) == ["a0", "a1"]
    with pytest.raises(NotFound):
        await store.memos.delete(memo)


async def test_the_memos_demo_database_lists_per_visibility(v030_database: pathlib.Path) -> None:
    top_level = (
        "row_status = 'NORMAL' AND id NOT IN (SELECT memo_id FROM memo_relation WHERE type = 'COMMENT')"
    )
    public = _rows(v030_database, f"SELECT uid FROM memo WHERE {top_level} AND visibility = 'PUBLIC'"
                                  " ORDER BY created_ts DESC, id DESC")
    users = [user_id for (user_id,) in _rows(v030_database, "SELECT id FROM user ORDER BY id")]
    store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        anonymous = await store.memos.find(FindMemo(visibilities=["PUBLIC"]))
        assert [memo.uid for memo in anonymous] == [uid for (uid,) in public] and public
        for user_id in users:
            expected = _rows(
                v030_database,
                f"SELECT count(*) FROM memo WHERE {top_level}"
                " AND (visibility IN ('PUBLIC', 'PROTECTED') OR creator_id = ?)",
                (user_id,),
            )[0][0]
            scope = FindMemo(visibilities=["PUBLIC", "PROTECTED"], or_creator_id=user_id)
            assert await store.memos.count(scope) == expected
            page = await store.memos.find(dataclasses.replace(scope, limit=5, offset=5, pinned_first=True))
            everything = await store.memos.find(dataclasses.replace(scope, pinned_first=True))
            assert page == everything[5:10]
            assert [memo.pinned for memo in everything] == sorted((m.pinned for m in everything), reverse=True)
        comments = _rows(v030_database, "SELECT related_memo_id, count(*) FROM memo_relation WHERE type = 'COMMENT'"
                                        " GROUP BY related_memo_id")
        for parent, count in comments:
            assert len(await store.memo_relations.find_comment_ids(parent)) == count
        relations = await store.memo_relations.find_for_memos([memo.id for memo in anonymous])
        assert sum(map(len, relations.values())) > 0
    finally:
        await store.close()


async def test_a_page_read_at_once_is_what_the_separate_finds_give(store: Store) -> None:
    from memos.store import CreateAttachment, CreateReaction, CreateUser, MemoRelation

    for name in ("ann", "ben"):
        await store.users.create(CreateUser(username=name, role="USER", password_hash="x"))
    first = await _insert_memo(store, "first", 1, created_ts=100)
    second = await _insert_memo(store, "second", 1, created_ts=200, visibility="PRIVATE")
    await _insert_memo(store, "a-comment", 2, created_ts=300, comment_on=first)
    await store.memo_relations.upsert(MemoRelation(second, first, "REFERENCE"))
    for uid in ("older", "newer"):
        await store.attachments.create(CreateAttachment(uid=uid, creator_id=1, filename=f"{uid}.txt", type="text/plain",
                                                        size=1, memo_id=first))
    await store.reactions.create(CreateReaction(creator_id=2, content_id="memos/first", reaction_type="👍"))
    await store.reactions.create(CreateReaction(creator_id=99, content_id="memos/first", reaction_type="👎"))

    for find, limit, with_content in ((FindMemo(), None, False), (FindMemo(uid="a-comment", exclude_comments=False),
                                                                   100, True), (FindMemo(limit=1), None, False)):
        page = await store.memos.find_page(find, per_memo_attachments=limit, with_content=with_content)
        memos = await store.memos.find(find)
        ids = [memo.id for memo in memos]
        assert page.memos == memos
        assert page.attachments == await store.attachments.find_by_memo_ids(ids, per_memo_limit=limit)
        assert page.relations == await store.memo_relations.find_for_memos(ids, with_content=with_content)
        assert page.reactions == await store.reactions.find_by_content_ids([f"memos/{memo.uid}" for memo in memos])
    page = await store.memos.find_page(FindMemo())
    assert [attachment.uid for attachment in page.attachments[first]] == ["newer", "older"]
    assert [reaction.reaction_type for reaction in page.reactions["memos/first"]] == ["👍"]  # user 99 is gone
    assert len(page.relations[first]) == 2 and page.relations[second][0].related_memo.id == first
    assert await store.memos.find_page(FindMemo(uid="none")) == type(page)([], {}, {}, {})
