"""What the Store facade needs from a database driver.

Every operation is async: a driver decides where its blocking work runs (the
SQLite driver uses one writer thread and a small reader pool) so the event loop
never waits on the database. Drivers speak in the rows of memos.store.models;
JSON columns are plain text at this level.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from memos.store.models import (
    AttachmentRef,
    IdpRow,
    InboxRow,
    MemoSummary,
    SystemSettingRow,
    User,
    UserIdentity,
    UserSettingRow,
)

# (current GENERAL value or None, identity-provider rows) -> raises to refuse a write.
AuthConfigCheck = Callable[[str | None, list[IdpRow]], None]


class Driver(Protocol):
    name: str
    """Dialect name; also the folder of its migration files (``migration/<name>``)."""

    async def close(self) -> None: ...

    # --- schema and migration -------------------------------------------------
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

    async def execute_script(self, script: str) -> None:
        """Run arbitrary SQL (the demo seed) in one transaction."""
        ...

    async def database_size(self) -> int:
        """Bytes used by the database, -1 when the dialect cannot tell."""
        ...

    # --- instance settings ------------------------------------------------------
    async def list_system_settings(self, name: str | None = None) -> list[SystemSettingRow]: ...

    async def upsert_system_setting(self, row: SystemSettingRow) -> SystemSettingRow: ...

    # --- users --------------------------------------------------------------------
    async def create_user(self, fields: Mapping[str, object]) -> User:
        """Insert a user; raises Conflict when the username is taken."""
        ...

    async def create_user_if_none(self, fields: Mapping[str, object]) -> User | None:
        """Insert the user only when the table is empty, atomically; None otherwise."""
        ...

    async def list_users(
        self,
        *,
        id: int | None = None,
        username: str | None = None,
        role: str | None = None,
        row_status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[User]: ...

    async def count_users(self, *, role: str | None = None) -> int: ...

    async def update_user(self, user_id: int, fields: Mapping[str, object]) -> User | None:
        """Set only the given columns; None when no such user."""
        ...

    # --- user settings ------------------------------------------------------------
    async def list_user_settings(
        self, *, user_id: int | None = None, key: str | None = None
    ) -> list[UserSettingRow]: ...

    async def upsert_user_setting(self, row: UserSettingRow) -> UserSettingRow: ...

    async def delete_user_setting(self, user_id: int, key: str) -> bool: ...

    async def find_personal_access_token(self, token_hash: str) -> UserSettingRow | None:
        """The PERSONAL_ACCESS_TOKENS row holding a token with this hash, if any."""
        ...

    async def modify_user_setting(
        self, user_id: int, key: str, change: Callable[[str | None], str | None]
    ) -> str | None:
        """Read-modify-write of one setting in one write transaction; returns the value written."""
        ...

    # --- identity providers and the authentication configuration ----------------------
    async def create_idp(self, fields: Mapping[str, object]) -> IdpRow:
        """Insert (uid, name, type, identifier_filter, config); Conflict on a taken uid."""
        ...

    async def list_idps(self, *, id: int | None = None, uid: str | None = None) -> list[IdpRow]:
        """In id order."""
        ...

    async def update_idp(self, uid: str, fields: Mapping[str, object]) -> IdpRow | None: ...

    async def delete_idp_checked(self, uid: str, check: AuthConfigCheck | None = None) -> bool:
        """``check(GENERAL value, remaining providers)`` runs in the deleting transaction."""
        ...

    async def upsert_system_setting_checked(self, row: SystemSettingRow, check: AuthConfigCheck) -> SystemSettingRow:
        """``check(current value of row.name, providers)`` runs in the writing transaction."""
        ...

    # --- linked identities ------------------------------------------------------------------
    async def create_user_identity(self, user_id: int, provider: str, extern_uid: str) -> UserIdentity: ...

    async def list_user_identities(
        self,
        *,
        id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        extern_uid: str | None = None,
    ) -> list[UserIdentity]: ...

    async def delete_user_identities(
        self, *, id: int | None = None, user_id: int | None = None, provider: str | None = None
    ) -> int: ...

    async def create_user_with_identity(
        self, user_fields: Mapping[str, object], provider: str, extern_uid: str
    ) -> tuple[User, UserIdentity]:
        """Both inserts in one transaction; Conflict (nothing written) on any UNIQUE violation."""
        ...

    # --- inbox ----------------------------------------------------------------------------------
    async def create_inbox(self, fields: Mapping[str, object]) -> InboxRow: ...

    async def list_inboxes(
        self,
        *,
        id: int | None = None,
        receiver_id: int | None = None,
        sender_id: int | None = None,
        status: str | None = None,
    ) -> list[InboxRow]:
        """Newest first: created_ts DESC, id DESC."""
        ...

    async def update_inbox(self, id: int, status: str) -> InboxRow | None: ...

    async def delete_inbox(self, id: int) -> bool: ...

    # --- memos ---------------------------------------------------------------------------------
    async def list_memo_summary_rows(
        self,
        *,
        ids: Sequence[int] | None = None,
        creator_id: int | None = None,
        row_status: str | None = None,
        visibilities: Sequence[str] | None = None,
        or_creator_id: int | None = None,
        exclude_comments: bool = True,
    ) -> list[MemoSummary]: ...

    async def delete_user_cascade(self, user_id: int) -> list[AttachmentRef] | None:
        """Remove a user with their memos, comment subtrees and dependent rows in one
        transaction; the removed attachments, or None when there is no such user."""
        ...
