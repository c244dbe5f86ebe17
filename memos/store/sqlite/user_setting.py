"""SQLite SQL of user settings (``user_setting``)."""
from __future__ import annotations

from typing import Any

import apsw

from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import first, given, rows, upsert_user_setting, where
from memos.store.user_setting import FindUserSetting, UserSettingRow, ValueChange

# CASE keeps json_each away from a malformed row, which would fail the whole query.
_HOLDS_TOKEN_HASH = (
    "CASE WHEN json_valid(value) THEN EXISTS ("
    " SELECT 1 FROM json_each(user_setting.value, '$.tokens') AS token"
    " WHERE json_extract(token.value, '$.tokenHash') = ?)"
    " ELSE 0 END"
)


class SqliteUserSettings:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def find(self, find: FindUserSetting) -> list[UserSettingRow]:
        condition, args = where(given(find, without=("token_hash",)))
        if find.token_hash is not None:
            condition += f" AND {_HOLDS_TOKEN_HASH}"
            args.append(find.token_hash)
        sql = f"SELECT user_id, key, value FROM user_setting WHERE {condition}"
        return await self._db.run_read(lambda conn: [UserSettingRow(*row) for row in rows(conn, sql, args)])

    async def upsert(self, row: UserSettingRow) -> UserSettingRow:
        await self._db.run_write(lambda conn: upsert_user_setting(conn, row.user_id, row.key, row.value))
        return row

    async def delete(self, user_id: int, key: str) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM user_setting WHERE user_id = ? AND key = ?", (user_id, key))
            return conn.changes() > 0

        return await self._db.run_write(delete)

    async def modify(self, user_id: int, key: str, change: ValueChange) -> str | None:
        """``change(stored value or None)`` returns the new value, or None to leave the row alone.

        Read and write share one write transaction, so no other writer slips in between.
        """

        def modify(conn: apsw.Connection) -> str | None:
            args: tuple[Any, ...] = (user_id, key)
            row = first(conn, "SELECT value FROM user_setting WHERE user_id = ? AND key = ?", args)
            new_value = change(row[0] if row else None)
            if new_value is not None:
                upsert_user_setting(conn, user_id, key, new_value)
            return new_value

        return await self._db.run_write(modify)
