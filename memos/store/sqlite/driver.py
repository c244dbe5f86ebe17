"""The SQLite driver: the database handle, one object per entity, and the schema operations."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import apsw

from memos.store.instance_setting import SystemSettingRow
from memos.store.sqlite.attachment import SqliteAttachments
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.idp import SqliteIdentityProviders
from memos.store.sqlite.inbox import SqliteInboxes
from memos.store.sqlite.instance_setting import SqliteInstanceSettings
from memos.store.sqlite.memo import SqliteMemos
from memos.store.sqlite.memo_html import SqliteMemoHtml
from memos.store.sqlite.memo_relation import SqliteMemoRelations
from memos.store.sqlite.memo_share import SqliteMemoShares
from memos.store.sqlite.project_schema import MemoSearch
from memos.store.sqlite.reaction import SqliteReactions
from memos.store.sqlite.sql import first, upsert_system_setting
from memos.store.sqlite.user import SqliteUsers
from memos.store.sqlite.user_identity import SqliteUserIdentities
from memos.store.sqlite.user_setting import SqliteUserSettings

T = TypeVar("T")


class SqliteDriver:
    name = "sqlite"

    def __init__(self, db: SqliteDatabase) -> None:
        """Use ``await SqliteDriver.open(dsn)``."""
        self.db = db
        self.search = MemoSearch(db)
        self.users = SqliteUsers(db, self.search)
        self.user_settings = SqliteUserSettings(db)
        self.instance_settings = SqliteInstanceSettings(db)
        self.identity_providers = SqliteIdentityProviders(db)
        self.user_identities = SqliteUserIdentities(db)
        self.inboxes = SqliteInboxes(db)
        self.memos = SqliteMemos(db, self.search)
        self.memo_relations = SqliteMemoRelations(db)
        self.reactions = SqliteReactions(db)
        self.memo_shares = SqliteMemoShares(db)
        self.attachments = SqliteAttachments(db)
        self.memo_html = SqliteMemoHtml(db)

    @classmethod
    async def open(cls, dsn: str) -> SqliteDriver:
        return cls(await SqliteDatabase.open(dsn))

    async def close(self) -> None:
        await self.db.close()

    async def run_read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one read transaction (see ``SqliteDatabase.run_read``)."""
        return await self.db.run_read(fn)

    def generation(self) -> tuple[int, int] | None:
        return self.db.generation()

    async def run_write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one write transaction (see ``SqliteDatabase.run_write``)."""
        return await self.db.run_write(fn)

    # --- schema and migration ---------------------------------------------------------

    async def is_initialised(self) -> bool:
        def query(conn: apsw.Connection) -> bool:
            return first(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memo'") is not None

        return await self.db.run_read(query)

    async def enable_writes(self) -> None:
        await self.db.enable_wal()

    async def create_schema(self, script: str, stamp: SystemSettingRow) -> None:
        def create(conn: apsw.Connection) -> None:
            conn.execute(script)
            upsert_system_setting(conn, stamp)

        await self.db.run_write(create)

    async def apply_migrations(self, scripts: Sequence[str]) -> None:
        def apply(conn: apsw.Connection) -> None:
            for script in scripts:
                conn.execute(script)

        await self.db.run_write(apply)

    async def ensure_project_schema(self) -> None:
        await self.search.ensure()
        await self.memo_html.ensure()
        await self.db.refresh_statistics()

    async def execute_script(self, script: str) -> None:
        await self.db.run_write(lambda conn: conn.execute(script).fetchall())

    async def database_size(self) -> int:
        def query(conn: apsw.Connection) -> int:
            pages = first(conn, "PRAGMA page_count")
            size = first(conn, "PRAGMA page_size")
            if not pages or not size:
                return -1
            return int(pages[0]) * int(size[0])

        return await self.db.run_read(query)
