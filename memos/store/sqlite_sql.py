"""SQL helpers shared by the SQLite driver (sqlite.py) and its query mixin (sqlite_identity.py).

They run inside a transaction the caller already opened on ``conn``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import apsw

from memos.store.errors import InvalidValue
from memos.store.models import USER_WRITABLE_FIELDS, SystemSettingRow, User

_USER_COLUMNS = (
    "id, username, role, email, nickname, password_hash, avatar_url, description, "
    "row_status, created_ts, updated_ts"
)


def _rows(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(sql, tuple(args)).fetchall()


def _first(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    rows = _rows(conn, sql, args)
    return rows[0] if rows else None


def _where(criteria: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """``1 = 1 AND column = ?...`` for the criteria whose value is not None."""
    clauses, args = ["1 = 1"], []
    for column, value in criteria:
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    return " AND ".join(clauses), args


def _insert(conn: apsw.Connection, table: str, fields: Mapping[str, object], returning: str) -> tuple[Any, ...]:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    row = _first(conn, f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {returning}", list(fields.values()))
    assert row is not None
    return row


def _check_user_fields(fields: Mapping[str, object]) -> None:
    unknown = set(fields) - USER_WRITABLE_FIELDS
    if unknown:
        raise InvalidValue(f"unknown user fields: {', '.join(sorted(unknown))}")


def _insert_user(conn: apsw.Connection, fields: Mapping[str, object]) -> User:
    return User(*_insert(conn, "user", fields, _USER_COLUMNS))


def _upsert_system_setting(conn: apsw.Connection, row: SystemSettingRow) -> SystemSettingRow:
    # An update keeps the stored description: only the value is the caller's.
    found = _first(
        conn,
        "INSERT INTO system_setting (name, value, description) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        " RETURNING name, value, description",
        (row.name, row.value, row.description),
    )
    assert found is not None
    return SystemSettingRow(*found)


def _upsert_user_setting(conn: apsw.Connection, user_id: int, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO user_setting (user_id, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value",
        (user_id, key, value),
    )
