"""SQLite SQL of memos: today the summary reads."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from memos.store.memo import FindMemo, MemoSummary
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, rows, where

SUMMARY_COLUMNS = "id, uid, creator_id, created_ts, updated_ts, pinned, visibility, payload"


def _criteria(find: FindMemo) -> tuple[str, list[Any]]:
    condition, args = where({"creator_id": find.creator_id, "row_status": find.row_status})
    if find.ids is not None:
        condition += f" AND id {IN_JSON}"
        args.append(json.dumps(list(find.ids)))
    if find.visibilities is not None:
        # The caller's own memos may count whatever their visibility.
        own = " OR creator_id = ?" if find.or_creator_id is not None else ""
        condition += f" AND (visibility {IN_JSON}{own})"
        args.append(json.dumps(list(find.visibilities)))
        if find.or_creator_id is not None:
            args.append(find.or_creator_id)
    if find.exclude_comments:
        # Served by the UNIQUE(memo_id, related_memo_id, type) index.
        condition += (
            " AND NOT EXISTS (SELECT 1 FROM memo_relation AS relation"
            " WHERE relation.memo_id = memo.id AND relation.type = 'COMMENT')"
        )
    return condition, args


class SqliteMemos:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        condition, args = _criteria(find)
        sql = f"SELECT {SUMMARY_COLUMNS} FROM memo WHERE {condition} ORDER BY created_ts DESC, id DESC"

        def query(conn: apsw.Connection) -> list[MemoSummary]:
            return [
                MemoSummary(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])
                for row in rows(conn, sql, args)
            ]

        return await self._db.run_read(query)

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        sql = f"SELECT id, content FROM memo WHERE id {IN_JSON}"
        args = [json.dumps(list(ids))]

        def query(conn: apsw.Connection) -> dict[int, str]:
            return {row[0]: row[1] for row in rows(conn, sql, args)}

        return await self._db.run_read(query)
