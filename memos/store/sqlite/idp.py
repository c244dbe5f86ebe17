"""SQLite SQL of identity providers (``idp``), with the guarded delete."""
from __future__ import annotations

import apsw

from memos.store import codec
from memos.store.idp import AuthConfigCheck, FindIdentityProvider, IdentityProvider, IdpRow
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import given, insert, rows, setting_value, update, where

COLUMNS = "id, uid, name, type, identifier_filter, config"

def all_idps(conn: apsw.Connection) -> list[IdpRow]:
    return [IdpRow(*row) for row in rows(conn, f"SELECT {COLUMNS} FROM idp ORDER BY id ASC")]

class SqliteIdentityProviders:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, provider: IdentityProvider) -> IdpRow:
        fields = codec.encode_idp(provider)
        return await self._db.run_write(lambda conn: IdpRow(*insert(conn, "idp", fields, COLUMNS)))

    async def find(self, find: FindIdentityProvider) -> list[IdpRow]:
        condition, args = where(given(find))
        sql = f"SELECT {COLUMNS} FROM idp WHERE {condition} ORDER BY id ASC"
        return await self._db.run_read(lambda conn: [IdpRow(*row) for row in rows(conn, sql, args)])

    async def update(self, provider: IdentityProvider) -> IdpRow | None:
        changes = codec.encode_idp(provider)
        uid = changes.pop("uid")

        def update_idp(conn: apsw.Connection) -> IdpRow | None:
            row = update(conn, "idp", changes, ("uid", uid), COLUMNS)
            return IdpRow(*row) if row else None

        return await self._db.run_write(update_idp)

    async def delete(self, uid: str, check: AuthConfigCheck | None) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            providers = all_idps(conn)
            if not any(provider.uid == uid for provider in providers):
                return False
            if check is not None:
                check(setting_value(conn, "GENERAL"), [p for p in providers if p.uid != uid])
            conn.execute("DELETE FROM idp WHERE uid = ?", (uid,))
            return True

        return await self._db.run_write(delete)
