"""SQLite SQL of memo shares (``memo_share``)."""
from __future__ import annotations

import apsw

from memos.store.memo_share import CreateMemoShare, FindMemoShare, MemoShare
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import given, insert, rows, where

COLUMNS = "id, uid, memo_id, creator_id, created_ts, expires_ts"


class SqliteMemoShares:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, create: CreateMemoShare) -> MemoShare:
        return await self._db.run_write(lambda conn: MemoShare(*insert(conn, "memo_share", given(create), COLUMNS)))

    async def find(self, find: FindMemoShare) -> list[MemoShare]:
        condition, args = where(given(find))
        sql = f"SELECT {COLUMNS} FROM memo_share WHERE {condition} ORDER BY id"
        return await self._db.run_read(lambda conn: [MemoShare(*row) for row in rows(conn, sql, args)])

    async def delete(self, share_id: int) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM memo_share WHERE id = ?", (share_id,))
            return conn.changes() > 0

        return await self._db.run_write(delete)
