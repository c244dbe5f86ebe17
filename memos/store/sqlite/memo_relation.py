"""SQLite SQL of memo relations (``memo_relation``)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from memos.store.memo_relation import (
    RELATION_COMMENT,
    RELATION_REFERENCE,
    FindMemoRelation,
    LinkedRelation,
    MemoRelation,
    RelatedMemo,
)
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, given, limit_clause, rows, where

COLUMNS = "memo_id, related_memo_id, type"


def upsert_relation(conn: apsw.Connection, relation: MemoRelation) -> None:
    conn.execute(
        "INSERT INTO memo_relation (memo_id, related_memo_id, type) VALUES (?, ?, ?)"
        " ON CONFLICT (memo_id, related_memo_id, type) DO NOTHING",
        (relation.memo_id, relation.related_memo_id, relation.type),
    )


def replace_references(conn: apsw.Connection, memo_id: int, related_memo_ids: Sequence[int]) -> None:
    """Make ``related_memo_ids`` the memo's outgoing REFERENCE relations (inside the caller's transaction)."""
    conn.execute("DELETE FROM memo_relation WHERE memo_id = ? AND type = ?", (memo_id, RELATION_REFERENCE))
    for related in related_memo_ids:
        upsert_relation(conn, MemoRelation(memo_id, related, RELATION_REFERENCE))


def _end(row: Sequence[Any]) -> RelatedMemo:
    return RelatedMemo(row[0], row[1], row[2], row[3], row[4], row[5] or "")


class SqliteMemoRelations:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def upsert(self, relation: MemoRelation) -> MemoRelation:
        await self._db.run_write(lambda conn: upsert_relation(conn, relation))
        return relation

    async def find(self, find: FindMemoRelation) -> list[MemoRelation]:
        condition, args = where(given(find))
        sql = f"SELECT {COLUMNS} FROM memo_relation WHERE {condition} ORDER BY rowid"
        return await self._db.run_read(lambda conn: [MemoRelation(*row) for row in rows(conn, sql, args)])

    async def delete(self, find: FindMemoRelation) -> int:
        condition, args = where(given(find))

        def delete(conn: apsw.Connection) -> int:
            conn.execute(f"DELETE FROM memo_relation WHERE {condition}", args)
            return int(conn.changes())

        return await self._db.run_write(delete)

    async def replace_references(self, memo_id: int, related_memo_ids: Sequence[int]) -> None:
        await self._db.run_write(lambda conn: replace_references(conn, memo_id, related_memo_ids))

    async def find_comment_ids(self, memo_id: int, limit: int | None, offset: int | None) -> list[int]:
        tail, tail_args = limit_clause(limit, offset)
        sql = (
            "SELECT memo_id FROM memo_relation WHERE related_memo_id = ? AND type = ?"
            f" ORDER BY memo_id DESC{tail}"
        )
        args = [memo_id, RELATION_COMMENT, *tail_args]
        return await self._db.run_read(lambda conn: [row[0] for row in rows(conn, sql, args)])

    async def find_linked(self, memo_ids: Sequence[int], with_content: bool) -> list[tuple[int, LinkedRelation]]:
        return await self._db.run_read(lambda conn: find_linked(conn, memo_ids, with_content))


def find_linked(conn: apsw.Connection, memo_ids: Sequence[int], with_content: bool) -> list[tuple[int, LinkedRelation]]:
    """``SqliteMemoRelations.find_linked`` inside the caller's read transaction."""
    content = "{}.content" if with_content else "NULL"
    ends = ", ".join(
        f"{alias}.id, {alias}.uid, {alias}.creator_id, {alias}.visibility, {alias}.row_status, "
        + content.format(alias)
        for alias in ("source", "target")
    )
    sql = (
        f"SELECT relation.rowid, relation.type, {ends} FROM memo_relation AS relation"
        " JOIN memo AS source ON source.id = relation.memo_id"
        " JOIN memo AS target ON target.id = relation.related_memo_id"
        f" WHERE relation.memo_id {IN_JSON} OR relation.related_memo_id {IN_JSON}"
    )
    ids = json.dumps(list(memo_ids))
    return [
        (row[0], LinkedRelation(_end(row[2:8]), _end(row[8:14]), row[1]))
        for row in rows(conn, sql, (ids, ids))
    ]
