"""SQLite queries for identity: identity providers, linked identities, inbox, memo reads for
statistics, the cascading user delete and guarded authentication-config writes.

A mixin of SqliteDriver: every method runs through ``run_read`` / ``run_write``,
so each one is a single transaction on the driver's threads.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import apsw

from memos.store.driver import AuthConfigCheck
from memos.store.errors import InvalidValue
from memos.store.models import (
    AttachmentRef,
    IdpRow,
    InboxRow,
    MemoSummary,
    SystemSettingRow,
    User,
    UserIdentity,
)
from memos.store.sqlite_sql import (
    _check_user_fields,
    _first,
    _insert,
    _insert_user,
    _rows,
    _upsert_system_setting,
    _upsert_user_setting,
    _where,
)

_IDP_COLUMNS = "id, uid, name, type, identifier_filter, config"
_IDENTITY_COLUMNS = "id, user_id, provider, extern_uid, created_ts, updated_ts"
_INBOX_COLUMNS = "id, created_ts, sender_id, receiver_id, status, message"
_MEMO_SUMMARY_COLUMNS = "id, uid, creator_id, created_ts, updated_ts, pinned, visibility, payload"
_IDP_WRITABLE = frozenset({"uid", "name", "type", "identifier_filter", "config"})

# Both payload kinds of an inbox message name memos; a row goes with a user's
# memos when any of these ids is among them. CAST tolerates ids written as strings.
_INBOX_MEMO_PATHS = (
    "$.memoComment.memoId",
    "$.memoComment.relatedMemoId",
    "$.memoMention.memoId",
    "$.memoMention.relatedMemoId",
)

# Every memo of the user, then every memo commenting on a collected memo, to any depth.
# UNION (not UNION ALL) stops on cyclic relations left behind by bad data.
_USER_MEMO_TREE = """
WITH RECURSIVE removed(id) AS (
  SELECT id FROM memo WHERE creator_id = ?
  UNION
  SELECT relation.memo_id FROM memo_relation AS relation
  JOIN removed ON relation.related_memo_id = removed.id
  WHERE relation.type = 'COMMENT'
)
SELECT memo.id, memo.uid FROM memo JOIN removed ON memo.id = removed.id
"""

# "id IN (SELECT value FROM json_each(?))" binds any number of ids as one JSON array.
_IN_IDS = "IN (SELECT value FROM json_each(?))"


def _current_value(conn: apsw.Connection, name: str) -> str | None:
    row = _first(conn, "SELECT value FROM system_setting WHERE name = ?", (name,))
    return row[0] if row else None


def _all_idps(conn: apsw.Connection) -> list[IdpRow]:
    return [IdpRow(*row) for row in _rows(conn, f"SELECT {_IDP_COLUMNS} FROM idp ORDER BY id ASC")]


class SqliteIdentityQueries:
    """Mixed into SqliteDriver, which provides run_read / run_write."""

    async def run_read(self, fn: Callable[[apsw.Connection], Any]) -> Any: ...  # provided by the driver

    async def run_write(self, fn: Callable[[apsw.Connection], Any]) -> Any: ...  # provided by the driver

    # --- identity providers -----------------------------------------------------------

    async def create_idp(self, fields: Mapping[str, object]) -> IdpRow:
        _check_idp_fields(fields)
        return await self.run_write(lambda conn: IdpRow(*_insert(conn, "idp", fields, _IDP_COLUMNS)))

    async def list_idps(self, *, id: int | None = None, uid: str | None = None) -> list[IdpRow]:
        where, args = _where([("id", id), ("uid", uid)])
        sql = f"SELECT {_IDP_COLUMNS} FROM idp WHERE {where} ORDER BY id ASC"
        return await self.run_read(lambda conn: [IdpRow(*row) for row in _rows(conn, sql, args)])

    async def update_idp(self, uid: str, fields: Mapping[str, object]) -> IdpRow | None:
        _check_idp_fields(fields)
        if not fields:
            rows = await self.list_idps(uid=uid)
            return rows[0] if rows else None
        assignments = ", ".join(f"{column} = ?" for column in fields)
        sql = f"UPDATE idp SET {assignments} WHERE uid = ? RETURNING {_IDP_COLUMNS}"

        def update(conn: apsw.Connection) -> IdpRow | None:
            row = _first(conn, sql, [*fields.values(), uid])
            return IdpRow(*row) if row else None

        return await self.run_write(update)

    async def delete_idp_checked(self, uid: str, check: AuthConfigCheck | None = None) -> bool:
        """Delete the provider; ``check(general, remaining providers)`` may refuse first. False if absent."""

        def delete(conn: apsw.Connection) -> bool:
            providers = _all_idps(conn)
            if not any(provider.uid == uid for provider in providers):
                return False
            if check is not None:
                check(_current_value(conn, "GENERAL"), [p for p in providers if p.uid != uid])
            conn.execute("DELETE FROM idp WHERE uid = ?", (uid,))
            return True

        return await self.run_write(delete)

    async def upsert_system_setting_checked(self, row: SystemSettingRow, check: AuthConfigCheck) -> SystemSettingRow:
        """Upsert the setting after ``check(current value of that name, providers)`` accepted it."""

        def upsert(conn: apsw.Connection) -> SystemSettingRow:
            check(_current_value(conn, row.name), _all_idps(conn))
            return _upsert_system_setting(conn, row)

        return await self.run_write(upsert)

    # --- linked identities ----------------------------------------------------------------

    async def create_user_identity(self, user_id: int, provider: str, extern_uid: str) -> UserIdentity:
        fields = {"user_id": user_id, "provider": provider, "extern_uid": extern_uid}
        return await self.run_write(
            lambda conn: UserIdentity(*_insert(conn, "user_identity", fields, _IDENTITY_COLUMNS))
        )

    async def list_user_identities(
        self,
        *,
        id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        extern_uid: str | None = None,
    ) -> list[UserIdentity]:
        where, args = _where([("id", id), ("user_id", user_id), ("provider", provider), ("extern_uid", extern_uid)])
        sql = f"SELECT {_IDENTITY_COLUMNS} FROM user_identity WHERE {where} ORDER BY id ASC"
        return await self.run_read(lambda conn: [UserIdentity(*row) for row in _rows(conn, sql, args)])

    async def delete_user_identities(
        self, *, id: int | None = None, user_id: int | None = None, provider: str | None = None
    ) -> int:
        where, args = _where([("id", id), ("user_id", user_id), ("provider", provider)])
        if not args:
            raise ValueError("refusing to delete every linked identity")

        def delete(conn: apsw.Connection) -> int:
            conn.execute(f"DELETE FROM user_identity WHERE {where}", args)
            return conn.changes()

        return await self.run_write(delete)

    async def create_user_with_identity(
        self, user_fields: Mapping[str, object], provider: str, extern_uid: str
    ) -> tuple[User, UserIdentity]:
        _check_user_fields(user_fields)

        def create(conn: apsw.Connection) -> tuple[User, UserIdentity]:
            # A UNIQUE failure on either insert rolls back both (one transaction).
            user = _insert_user(conn, user_fields)
            fields = {"user_id": user.id, "provider": provider, "extern_uid": extern_uid}
            return user, UserIdentity(*_insert(conn, "user_identity", fields, _IDENTITY_COLUMNS))

        return await self.run_write(create)

    # --- inbox --------------------------------------------------------------------------

    async def create_inbox(self, fields: Mapping[str, object]) -> InboxRow:
        return await self.run_write(lambda conn: InboxRow(*_insert(conn, "inbox", fields, _INBOX_COLUMNS)))

    async def list_inboxes(
        self,
        *,
        id: int | None = None,
        receiver_id: int | None = None,
        sender_id: int | None = None,
        status: str | None = None,
    ) -> list[InboxRow]:
        where, args = _where([("id", id), ("receiver_id", receiver_id), ("sender_id", sender_id), ("status", status)])
        sql = f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE {where} ORDER BY created_ts DESC, id DESC"
        return await self.run_read(lambda conn: [InboxRow(*row) for row in _rows(conn, sql, args)])

    async def update_inbox(self, id: int, status: str) -> InboxRow | None:
        sql = f"UPDATE inbox SET status = ? WHERE id = ? RETURNING {_INBOX_COLUMNS}"

        def update(conn: apsw.Connection) -> InboxRow | None:
            row = _first(conn, sql, (status, id))
            return InboxRow(*row) if row else None

        return await self.run_write(update)

    async def delete_inbox(self, id: int) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM inbox WHERE id = ?", (id,))
            return conn.changes() > 0

        return await self.run_write(delete)

    # --- memo reads for statistics ------------------------------------------------------------

    async def list_memo_summary_rows(
        self,
        *,
        ids: Sequence[int] | None = None,
        creator_id: int | None = None,
        row_status: str | None = None,
        visibilities: Sequence[str] | None = None,
        or_creator_id: int | None = None,
        exclude_comments: bool = True,
    ) -> list[MemoSummary]:
        where, args = _where([("creator_id", creator_id), ("row_status", row_status)])
        if ids is not None:
            where += f" AND id {_IN_IDS}"
            args.append(json.dumps(list(ids)))
        if visibilities is not None:
            # The caller's own memos may count whatever their visibility.
            own = " OR creator_id = ?" if or_creator_id is not None else ""
            where += f" AND (visibility {_IN_IDS}{own})"
            args.append(json.dumps(list(visibilities)))
            if or_creator_id is not None:
                args.append(or_creator_id)
        if exclude_comments:
            # Served by the UNIQUE(memo_id, related_memo_id, type) index.
            where += (
                " AND NOT EXISTS (SELECT 1 FROM memo_relation AS relation"
                " WHERE relation.memo_id = memo.id AND relation.type = 'COMMENT')"
            )
        sql = f"SELECT {_MEMO_SUMMARY_COLUMNS} FROM memo WHERE {where} ORDER BY created_ts DESC, id DESC"

        def query(conn: apsw.Connection) -> list[MemoSummary]:
            return [MemoSummary(*row[:5], bool(row[5]), *row[6:]) for row in _rows(conn, sql, args)]

        return await self.run_read(query)

    # --- deleting a user and everything that hangs off them ----------------------------------------

    async def delete_user_cascade(self, user_id: int) -> list[AttachmentRef] | None:
        """Remove the user and their data in one transaction; None (nothing written) if no such user."""
        return await self.run_write(lambda conn: _delete_user_cascade(conn, user_id))

    # --- read-modify-write of one user setting -----------------------------------------------------

    async def modify_user_setting(
        self, user_id: int, key: str, change: Callable[[str | None], str | None]
    ) -> str | None:
        """``change(stored value or None)`` returns the new value, or None to leave the row alone.

        Returns the value written (None when nothing was). Read and write share one
        write transaction, so no other writer slips in between.
        """

        def modify(conn: apsw.Connection) -> str | None:
            row = _first(conn, "SELECT value FROM user_setting WHERE user_id = ? AND key = ?", (user_id, key))
            new_value = change(row[0] if row else None)
            if new_value is not None:
                _upsert_user_setting(conn, user_id, key, new_value)
            return new_value

        return await self.run_write(modify)


def _check_idp_fields(fields: Mapping[str, object]) -> None:
    unknown = set(fields) - _IDP_WRITABLE
    if unknown:
        raise InvalidValue(f"unknown identity provider fields: {', '.join(sorted(unknown))}")


def _delete_user_cascade(conn: apsw.Connection, user_id: int) -> list[AttachmentRef] | None:
    if _first(conn, "SELECT 1 FROM user WHERE id = ?", (user_id,)) is None:
        return None
    memos = _rows(conn, _USER_MEMO_TREE, (user_id,))
    memo_ids = json.dumps([memo_id for memo_id, _ in memos])
    content_ids = json.dumps([f"memos/{uid}" for _, uid in memos])

    attachments = [
        AttachmentRef(*row)
        for row in _rows(
            conn,
            "SELECT id, uid, storage_type, reference, payload FROM attachment"
            f" WHERE creator_id = ? OR memo_id {_IN_IDS} ORDER BY id",
            (user_id, memo_ids),
        )
    ]
    conn.execute(f"DELETE FROM attachment WHERE creator_id = ? OR memo_id {_IN_IDS}", (user_id, memo_ids))
    conn.execute(f"DELETE FROM reaction WHERE creator_id = ? OR content_id {_IN_IDS}", (user_id, content_ids))
    conn.execute(f"DELETE FROM memo_share WHERE creator_id = ? OR memo_id {_IN_IDS}", (user_id, memo_ids))
    references = " OR ".join(
        f"CAST(json_extract(message, '{path}') AS INTEGER) {_IN_IDS}" for path in _INBOX_MEMO_PATHS
    )
    # json_valid keeps one malformed row from failing the whole delete.
    conn.execute(
        f"DELETE FROM inbox WHERE sender_id = ? OR receiver_id = ?"
        f" OR (json_valid(message) AND ({references}))",
        (user_id, user_id, *([memo_ids] * len(_INBOX_MEMO_PATHS))),
    )
    conn.execute(
        f"DELETE FROM memo_relation WHERE memo_id {_IN_IDS} OR related_memo_id {_IN_IDS}", (memo_ids, memo_ids)
    )
    conn.execute(f"DELETE FROM memo WHERE id {_IN_IDS}", (memo_ids,))
    conn.execute("DELETE FROM user_identity WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM user_setting WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM user WHERE id = ?", (user_id,))
    return attachments
