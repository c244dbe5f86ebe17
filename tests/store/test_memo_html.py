"""The rendered-HTML table through store.memo_html: fresh only for the same content and version."""
from __future__ import annotations

import pathlib

import pytest
from support import sqlite_execute, sqlite_rows

from memos.store import CreateMemo, Store, UpdateMemo

pytestmark = pytest.mark.anyio


async def test_put_then_fresh_for_same_content_and_version(store: Store) -> None:
    memo = await store.memos.create(CreateMemo(uid="m", creator_id=1, content="hello"))
    await store.memo_html.put(memo.id, "hello", "<p>hello</p>", 3)
    assert await store.memo_html.fresh({memo.id: "hello"}, 3) == {memo.id: "<p>hello</p>"}
    assert await store.memo_html.fresh({memo.id: "hello"}, 4) == {}
    assert await store.memo_html.fresh({memo.id: "hellO"}, 3) == {}
    assert await store.memo_html.fresh({}, 3) == {}


async def test_put_replaces_and_ignores_missing_memos(store: Store) -> None:
    memo = await store.memos.create(CreateMemo(uid="m", creator_id=1, content="a"))
    await store.memo_html.put(memo.id, "a", "<p>a</p>", 1)
    await store.memos.update(UpdateMemo(id=memo.id, content="b"))
    await store.memo_html.put(memo.id, "b", "<p>b</p>", 1)
    await store.memo_html.put(9999, "x", "<p>x</p>", 1)
    assert await store.memo_html.fresh({memo.id: "b", 9999: "x"}, 1) == {memo.id: "<p>b</p>"}


async def test_rows_of_deleted_memos_go_at_the_next_start(db_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    kept = await store.memos.create(CreateMemo(uid="kept", creator_id=1, content="k"))
    gone = await store.memos.create(CreateMemo(uid="gone", creator_id=1, content="g"))
    await store.memo_html.put(kept.id, "k", "<p>k</p>", 1)
    await store.memo_html.put(gone.id, "g", "<p>g</p>", 1)
    await store.close()
    sqlite_execute(db_path, f"DELETE FROM memo WHERE id = {gone.id}")  # as Memos v0.30 would
    reopened = await Store.open("sqlite", str(db_path), deployment_dir=None)
    await reopened.close()
    assert sqlite_rows(db_path, "SELECT memo_id FROM memo_html") == [(kept.id,)]


async def test_put_many_in_one_call(store: Store) -> None:
    first = await store.memos.create(CreateMemo(uid="a", creator_id=1, content="a"))
    second = await store.memos.create(CreateMemo(uid="b", creator_id=1, content="b"))
    await store.memo_html.put_many([(first.id, "a", "<p>a</p>"), (second.id, "b", "<p>b</p>")], 2)
    await store.memo_html.put_many([], 2)
    assert await store.memo_html.fresh({first.id: "a", second.id: "b"}, 2) == {first.id: "<p>a</p>",
                                                                                 second.id: "<p>b</p>"}
