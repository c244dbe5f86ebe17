"""SQLite SQL of inbox messages (``inbox``)."""
from __future__ import annotations

import apsw

from memos.store import codec
from memos.store.inbox import CreateInbox, FindInbox, InboxRow, UpdateInbox
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import given, insert, rows, update, where

COLUMNS = "id, created_ts, sender_id, receiver_id, status, message"


class SqliteInboxes:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, create: CreateInbox) -> InboxRow:
        fields = given(create, without=("message",)) | {"message": codec.to_json(create.message)}
        return await self._db.run_write(lambda conn: InboxRow(*insert(conn, "inbox", fields, COLUMNS)))

    async def find(self, find: FindInbox) -> list[InboxRow]:
        condition, args = where(given(find))
        sql = f"SELECT {COLUMNS} FROM inbox WHERE {condition} ORDER BY created_ts DESC, id DESC"
        return await self._db.run_read(lambda conn: [InboxRow(*row) for row in rows(conn, sql, args)])

    async def update(self, change: UpdateInbox) -> InboxRow | None:
        def update_inbox(conn: apsw.Connection) -> InboxRow | None:
            row = update(conn, "inbox", {"status": change.status}, ("id", change.id), COLUMNS)
            return InboxRow(*row) if row else None

        return await self._db.run_write(update_inbox)

    async def delete(self, inbox_id: int) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM inbox WHERE id = ?", (inbox_id,))
            return conn.changes() > 0

        return await self._db.run_write(delete)
