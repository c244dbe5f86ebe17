"""SQLite SQL of linked identities (``user_identity``)."""
from __future__ import annotations

import apsw

from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import given, insert, rows, where
from memos.store.user_identity import CreateUserIdentity, FindUserIdentity, UserIdentity

COLUMNS = "id, user_id, provider, extern_uid, created_ts, updated_ts"


def insert_identity(conn: apsw.Connection, create: CreateUserIdentity) -> UserIdentity:
    return UserIdentity(*insert(conn, "user_identity", given(create), COLUMNS))


class SqliteUserIdentities:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, create: CreateUserIdentity) -> UserIdentity:
        return await self._db.run_write(lambda conn: insert_identity(conn, create))

    async def find(self, find: FindUserIdentity) -> list[UserIdentity]:
        condition, args = where(given(find))
        sql = f"SELECT {COLUMNS} FROM user_identity WHERE {condition} ORDER BY id ASC"
        return await self._db.run_read(lambda conn: [UserIdentity(*row) for row in rows(conn, sql, args)])

    async def delete(self, find: FindUserIdentity) -> int:
        condition, args = where(given(find))
        if not args:
            raise ValueError("refusing to delete every linked identity")

        def delete(conn: apsw.Connection) -> int:
            conn.execute(f"DELETE FROM user_identity WHERE {condition}", args)
            return conn.changes()

        return await self._db.run_write(delete)
