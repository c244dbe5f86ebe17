"""What the Store facade needs from a database dialect.

A driver has the schema operations below and one object per entity (``users``,
``inboxes``...), each following the ``<Entity>Driver`` protocol of its entity module
(``memos/store/<entity>.py``). The lookup and change objects (``FindUser``,
``UpdateUser``...) reach those methods unchanged. Every operation is async: a driver
decides where its blocking work runs (the SQLite driver uses one writer thread and
a small reader pool) so the event loop never waits on the database.

Rows come back with JSON columns as text; the facade decodes them. Where a
dialect writes JSON itself it uses ``codec``, so every dialect stores the same bytes.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

from memos.store.attachment import AttachmentDriver
from memos.store.errors import StoreError
from memos.store.idp import IdpDriver
from memos.store.inbox import InboxDriver
from memos.store.instance_setting import InstanceSettingDriver, SystemSettingRow
from memos.store.memo import MemoDriver
from memos.store.memo_html import MemoHtmlDriver
from memos.store.memo_relation import MemoRelationDriver
from memos.store.memo_share import MemoShareDriver
from memos.store.reaction import ReactionDriver
from memos.store.user import UserDriver
from memos.store.user_identity import UserIdentityDriver
from memos.store.user_setting import UserSettingDriver


class Driver(Protocol):
    @property
    def name(self) -> str:
        """Dialect name; also the folder of its migration files (``migration/<name>``)."""
        ...

    # --- one object per entity ----------------------------------------------------
    @property
    def users(self) -> UserDriver: ...

    @property
    def user_settings(self) -> UserSettingDriver: ...

    @property
    def instance_settings(self) -> InstanceSettingDriver: ...

    @property
    def identity_providers(self) -> IdpDriver: ...

    @property
    def user_identities(self) -> UserIdentityDriver: ...

    @property
    def inboxes(self) -> InboxDriver: ...

    @property
    def memos(self) -> MemoDriver: ...

    @property
    def memo_relations(self) -> MemoRelationDriver: ...

    @property
    def reactions(self) -> ReactionDriver: ...

    @property
    def memo_shares(self) -> MemoShareDriver: ...

    @property
    def attachments(self) -> AttachmentDriver: ...

    @property
    def memo_html(self) -> MemoHtmlDriver: ...

    # --- the database itself ---------------------------------------------------------
    def generation(self) -> Hashable | None:
        """A value that changes whenever a write is committed to the database, by this process or
        another; None when the dialect cannot tell now. Cheap and non-blocking: called on the event loop."""
        ...

    async def close(self) -> None: ...

    async def is_initialised(self) -> bool:
        """Whether the database already holds a Memos schema (a ``memo`` table)."""
        ...

    async def enable_writes(self) -> None:
        """Called once the schema checks passed and before the first write.

        Refused opens must leave the file untouched, so anything that changes
        the file (SQLite: switching to WAL) waits for this call.
        """
        ...

    async def create_schema(self, script: str, stamp: SystemSettingRow) -> None:
        """Run the full schema script and insert the version stamp in one transaction."""
        ...

    async def apply_migrations(self, scripts: Sequence[str]) -> None:
        """Run upgrade scripts in order, all in one transaction."""
        ...

    async def ensure_project_schema(self) -> None:
        """Add what this project keeps beside the Memos schema (list indexes, the search
        index, the rendered HTML) where missing and bring it up to date; run at every start, after migration.

        Never changes a Memos table, so the database still opens in Memos v0.30.
        """
        ...

    async def execute_script(self, script: str) -> None:
        """Run arbitrary SQL (the demo seed) in one transaction."""
        ...

    async def database_size(self) -> int:
        """Bytes used by the database, -1 when the dialect cannot tell."""
        ...


async def open_driver(name: str, dsn: str) -> Driver:
    """The driver of dialect ``name``, opened on ``dsn``; only here is a dialect chosen."""
    if name == "sqlite":
        from memos.store.sqlite import SqliteDriver

        return await SqliteDriver.open(dsn)
    if name in ("mysql", "postgres"):
        raise StoreError(f"the {name} driver is not supported yet")
    raise StoreError(f"unknown db driver: {name}")
