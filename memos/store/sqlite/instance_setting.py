"""SQLite SQL of instance settings (``system_setting``), with the guarded write."""
from __future__ import annotations

import apsw

from memos.store.idp import AuthConfigCheck
from memos.store.instance_setting import FindInstanceSetting, SystemSettingRow
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.idp import all_idps
from memos.store.sqlite.sql import given, rows, setting_value, upsert_system_setting, where


class SqliteInstanceSettings:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def find(self, find: FindInstanceSetting) -> list[SystemSettingRow]:
        condition, args = where(given(find))
        sql = f"SELECT name, value, description FROM system_setting WHERE {condition}"
        return await self._db.run_read(lambda conn: [SystemSettingRow(*row) for row in rows(conn, sql, args)])

    async def upsert(self, row: SystemSettingRow) -> SystemSettingRow:
        return await self._db.run_write(lambda conn: upsert_system_setting(conn, row))

    async def upsert_checked(self, row: SystemSettingRow, check: AuthConfigCheck) -> SystemSettingRow:
        def upsert(conn: apsw.Connection) -> SystemSettingRow:
            check(setting_value(conn, row.name), all_idps(conn))
            return upsert_system_setting(conn, row)

        return await self._db.run_write(upsert)
