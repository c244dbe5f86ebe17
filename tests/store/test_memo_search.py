"""The project's additions beside the Memos schema: list indexes and the content search index.

``content.contains`` (and startsWith/endsWith) keep their exact semantics with the
trigram index as a pre-filter: the same rows with and without it, for any text.
"""
from __future__ import annotations

import logging
import pathlib
import random

import apsw
import pytest
from support import insert_memo as _insert_memo
from support import sqlite_rows as _rows

from memos.filter import parse_memo_filter
from memos.store import CreateMemo, CreateUser, FindMemo, MemoRelation, Store, UpdateMemo, migrator
from memos.store.sqlite import memo as memo_sqlite
from memos.store.sqlite import project_schema
from memos.store.sqlite.memo import COLUMNS, list_query

pytestmark = pytest.mark.anyio

# Letters that fold in interesting ways (ß -> ss, ﬁ -> fi, Σ/σ/ς, İ, K (Kelvin sign)), CJK,
# emoji with variation selectors and joiners, LIKE's own wildcards and escape, quotes.
ALPHABET = [*"aAbBsSßẞﬁΣσςİıiIKk测试中文テスト😀👍🏽❤️\u200d%_\\\"' .\n", "ab", "AB", "ss", "Ss"]


def _random_text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))


def _search_ready(store: Store) -> bool:
    return bool(store.driver.search.ready)  # type: ignore[attr-defined]


async def _uids(store: Store, text: str, *, indexed: bool, limit: int | None = None) -> list[str]:
    search = store.driver.search  # type: ignore[attr-defined]
    saved, search.ready = search.ready, indexed
    try:
        found = await store.memos.find(FindMemo(filter=parse_memo_filter(text), limit=limit, offset=limit))
    finally:
        search.ready = saved
    return [memo.uid for memo in found]


def _literal(needle: str) -> str:
    return '"' + needle.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.mark.parametrize("common_needle", [memo_sqlite.COMMON_NEEDLE, 4])
async def test_search_gives_the_same_rows_with_and_without_the_index(
    store: Store, monkeypatch: pytest.MonkeyPatch, common_needle: int
) -> None:
    # A low threshold makes paged searches take the ordered walk for most needles.
    monkeypatch.setattr(memo_sqlite, "COMMON_NEEDLE", common_needle)
    rng = random.Random(7)
    contents = [_random_text(rng, 0, 40) for _ in range(250)]
    for index, content in enumerate(contents):
        await store.memos.create(CreateMemo(uid=f"m{index}", creator_id=1, content=content, created_ts=index))
    assert _search_ready(store)
    needles = [_random_text(rng, 1, 6) for _ in range(150)]
    for content in rng.sample(contents, 100):  # needles that do occur, with their case flipped
        start = rng.randint(0, max(len(content) - 1, 0))
        needles.append(content[start : start + rng.randint(1, 8)].swapcase())
    checked = 0
    for needle in needles:
        for form in ("contains", "startsWith", "endsWith"):
            text = f"content.{form}({_literal(needle)})"
            indexed = await _uids(store, text, indexed=True)
            assert indexed == await _uids(store, text, indexed=False), text
            paged = await _uids(store, text, indexed=True, limit=3)
            assert paged == await _uids(store, text, indexed=False, limit=3) == indexed[3:6], text
            if form == "contains":
                folded = needle.casefold()
                expected = [f"m{i}" for i in reversed(range(len(contents))) if folded in contents[i].casefold()]
                assert indexed == expected, text
                checked += bool(expected)
        negated = f"!content.contains({_literal(needle)}) && creator_id == 1"
        assert await _uids(store, negated, indexed=True) == await _uids(store, negated, indexed=False)
    assert checked > 80  # most needles found something: the comparison is not vacuous


async def test_the_index_narrows_the_query_only_from_three_folded_characters(store: Store) -> None:
    def plan_of(text: str) -> str:
        sql, _ = list_query(COLUMNS, FindMemo(filter=parse_memo_filter(text)), project_schema.SEARCH_TABLE)
        return sql

    assert "memo_search MATCH" in plan_of('content.contains("abc")')
    assert "memo_search" not in plan_of('content.contains("ab")')
    assert "memo_search" not in plan_of('content.contains("ß")')  # folds to "ss": two letters
    assert "memo_search MATCH" in plan_of('content.contains("aß")')  # "ass"


async def test_every_memo_write_keeps_the_index_current(store: Store) -> None:
    def found(text: str) -> list[str]:
        return _rows(
            pathlib.Path(store.dsn),
            "SELECT memo.uid FROM memo_search JOIN memo ON memo.id = memo_search.rowid"
            " WHERE memo_search MATCH ? ORDER BY memo.uid",
            (f'"{text}"',),
        )

    user = await store.users.create(CreateUser(username="gone", password_hash="x"))
    first = await store.memos.create(CreateMemo(uid="first", creator_id=1, content="Quarterly PLANNING"))
    await store.memos.create(CreateMemo(uid="theirs", creator_id=user.id, content="planning too"))
    assert found("planning") == [("first",), ("theirs",)]
    await store.memos.update(UpdateMemo(id=first.id, content="nothing here"))
    assert found("planning") == [("theirs",)] and found("nothing") == [("first",)]
    await store.memos.update(UpdateMemo(id=first.id, updated_ts=5))
    comment = await store.memos.create(CreateMemo(uid="comment", creator_id=1, content="nothing either"))
    await store.memo_relations.upsert(MemoRelation(comment.id, first.id, "COMMENT"))
    await store.memos.delete(first.id)
    assert found("nothing") == []
    await store.users.delete(user.id)
    assert found("planning") == []
    assert _rows(pathlib.Path(store.dsn), "SELECT count(*) FROM memo_search_source")[0][0] == 0


async def test_a_memos_v030_database_gets_indexes_and_search_at_start(
    v030_database: pathlib.Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(project_schema, "LOG_BUILD_FROM", 10)
    monkeypatch.setattr(project_schema, "BUILD_BATCH", 8)
    memo_count = _rows(v030_database, "SELECT count(*) FROM memo")[0][0]
    with caplog.at_level(logging.INFO, logger=project_schema.__name__):
        store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        assert _search_ready(store)
        needle = "memos"
        every_memo = _rows(v030_database, "SELECT uid, content FROM memo")
        expected = sorted(uid for uid, content in every_memo if needle in content.casefold())
        indexed = await store.memos.find(
            FindMemo(filter=parse_memo_filter(f'content.contains("{needle.upper()}")'), row_status=None,
                     exclude_comments=False)
        )
        assert sorted(memo.uid for memo in indexed) == expected and expected
    finally:
        await store.close()
    names = {name for (name,) in _rows(v030_database, "SELECT name FROM sqlite_master")}
    assert {"idx_pyz_memo_status_created", "memo_search", "memo_search_source"} <= names
    assert _rows(v030_database, "SELECT count(*) FROM memo_search_source")[0][0] == memo_count
    messages = [record.getMessage() for record in caplog.records]
    assert f"building the memo search index for {memo_count} memos" in messages
    assert f"memo search index: {memo_count} of {memo_count} memos indexed" in messages


async def test_writes_made_by_memos_v030_meanwhile_are_indexed_at_the_next_start(db_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    kept = await store.memos.create(CreateMemo(uid="kept", creator_id=1, content="alpha"))
    edited = await store.memos.create(CreateMemo(uid="edited", creator_id=1, content="alpha"))
    removed = await store.memos.create(CreateMemo(uid="removed", creator_id=1, content="alpha"))
    await store.close()

    # Memos v0.30 knows nothing of the index: plain SQL, no project functions.
    conn = apsw.Connection(str(db_path))
    with conn:
        conn.execute("UPDATE memo SET content = 'omega', updated_ts = updated_ts + 1 WHERE id = ?", (edited.id,))
        conn.execute("DELETE FROM memo WHERE id = ?", (removed.id,))
        conn.execute("INSERT INTO memo (uid, creator_id, content) VALUES ('added', 1, 'OMEGA alpha')")
    conn.close()

    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    try:
        assert await _uids(store, 'content.contains("omega")', indexed=True) == ["added", "edited"]
        assert await _uids(store, 'content.contains("alpha")', indexed=True) == ["added", "kept"]
        indexed_ids = [memo_id for (memo_id,) in _rows(db_path, "SELECT memo_id FROM memo_search_source")]
        assert kept.id in indexed_ids and removed.id not in indexed_ids and len(indexed_ids) == 3
    finally:
        await store.close()


async def test_a_database_made_here_keeps_the_memos_tables_as_memos_makes_them(
    store: Store, tmp_path: pathlib.Path
) -> None:
    await store.memos.create(CreateMemo(uid="m", creator_id=1, content="text"))
    reference = tmp_path / "reference.db"
    conn = apsw.Connection(str(reference))
    conn.execute(migrator.latest_schema("sqlite"))
    conn.close()
    schema = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ours = {row[1]: row for row in _rows(pathlib.Path(store.dsn), schema)}
    theirs = {row[1]: row for row in _rows(reference, schema)}
    assert all(ours[name] == row for name, row in theirs.items())
    added = set(ours) - set(theirs)
    assert all(name.startswith(("idx_pyz_memo_", "memo_search", "memo_html")) for name in added)
    assert not [name for name, row in ours.items() if row[0] == "trigger"]
    # A connection without the project's SQL functions (as Memos has) reads and writes memos.
    plain = apsw.Connection(store.dsn)
    try:
        plain.execute("INSERT INTO memo (uid, creator_id, content) VALUES ('plain', 1, 'x')")
        assert plain.execute("SELECT count(*) FROM memo").fetchall() == [(2,)]
    finally:
        plain.close()


def _plan(store_path: pathlib.Path, find: FindMemo) -> str:
    sql, args = list_query(COLUMNS, find, project_schema.SEARCH_TABLE)
    conn = apsw.Connection(str(store_path))
    try:
        return " | ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall())
    finally:
        conn.close()


async def test_list_queries_walk_an_index_instead_of_sorting(store: Store) -> None:
    for index in range(300):
        await store.memos.create(
            CreateMemo(uid=f"m{index}", creator_id=index % 5, visibility="PUBLIC" if index % 2 else "PRIVATE",
                       created_ts=index, updated_ts=1000 - index)
        )
    await store.driver.run_write(lambda conn: conn.execute("ANALYZE"))
    path = pathlib.Path(store.dsn)
    page = {"limit": 21, "offset": 0}
    orders = [
        ({}, "idx_pyz_memo_status_created"),  # default ListMemos (created_ts DESC, id DESC)
        ({"time_field": "updated_ts"}, "idx_pyz_memo_status_updated"),
        ({"pinned_first": True}, "idx_pyz_memo_status_pinned_created"),
        ({"pinned_first": True, "time_field": "updated_ts"}, "idx_pyz_memo_status_pinned_updated"),
    ]
    for order, index in orders:
        for scope in ({"visibilities": ["PUBLIC"]}, {"visibilities": ["PUBLIC", "PROTECTED"], "or_creator_id": 1}):
            plan = _plan(path, FindMemo(**order, **scope, **page))  # type: ignore[arg-type]
            assert index in plan and "TEMP B-TREE" not in plan, (order, scope, plan)
    archived = _plan(path, FindMemo(creator_id=1, row_status="ARCHIVED", **page))  # type: ignore[arg-type]
    assert "idx_pyz_memo_creator_status_created" in archived and "TEMP B-TREE" not in archived


async def test_memos_inserted_by_the_test_helper_are_searchable(store: Store) -> None:
    await _insert_memo(store, "raw", 1, created_ts=1)
    assert await _uids(store, 'content.contains("TEXT")', indexed=True) == ["raw"]
