"""Memo summaries through store.memos (statistics, notifications, the sitemap)."""
from __future__ import annotations

import pathlib

import pytest
from support import insert_memo as _insert_memo
from support import sqlite_rows as _rows

from memos.gen.store import idp_pb2, inbox_pb2, user_setting_pb2
from memos.store import (
    FindMemo,
    Store,
)

pytestmark = pytest.mark.anyio

UserSetting = user_setting_pb2.UserSetting
IdentityProvider = idp_pb2.IdentityProvider
InboxMessage = inbox_pb2.InboxMessage


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
