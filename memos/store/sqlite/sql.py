"""SQL helpers shared by the SQLite entity modules.

Each runs inside the transaction its caller already opened on ``conn``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import apsw

from memos.store.instance_setting import SystemSettingRow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Row = tuple[Any, ...]

# "column IN_JSON" binds any number of values as one JSON array argument.
IN_JSON = "IN (SELECT value FROM json_each(?))"


def rows(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> list[Row]:
    return conn.execute(sql, tuple(args)).fetchall()


def first(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> Row | None:
    found = rows(conn, sql, args)
    return found[0] if found else None


def given(change: DataclassInstance, *, without: Sequence[str] = ()) -> dict[str, Any]:
    """column -> value of a Find/Create/Update dataclass's fields that are not None."""
    values = {field.name: getattr(change, field.name) for field in dataclasses.fields(change)}
    return {column: value for column, value in values.items() if value is not None and column not in without}


def where(criteria: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``1 = 1 AND column = ?...`` for the criteria whose value is not None."""
    clauses, args = ["1 = 1"], []
    for column, value in criteria.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    return " AND ".join(clauses), args


def limit_clause(limit: int | None, offset: int | None) -> tuple[str, list[int]]:
    # OFFSET only makes sense (and is only emitted) together with a limit.
    if limit is None:
        return "", []
    if offset:
        return " LIMIT ? OFFSET ?", [limit, offset]
    return " LIMIT ?", [limit]


def insert(conn: apsw.Connection, table: str, fields: Mapping[str, object], returning: str) -> Row:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {returning}"
    row = first(conn, sql, list(fields.values()))
    assert row is not None
    return row


def update(
    conn: apsw.Connection, table: str, changes: Mapping[str, object], key: tuple[str, object], returning: str
) -> Row | None:
    """Set ``changes`` on the row whose ``key`` column has that value; None when there is none."""
    assignments = ", ".join(f"{column} = ?" for column in changes)
    sql = f"UPDATE {table} SET {assignments} WHERE {key[0]} = ? RETURNING {returning}"
    return first(conn, sql, [*changes.values(), key[1]])


def setting_value(conn: apsw.Connection, name: str) -> str | None:
    """The stored value of instance setting ``name``, None when there is no row."""
    row = first(conn, "SELECT value FROM system_setting WHERE name = ?", (name,))
    return row[0] if row else None


def upsert_system_setting(conn: apsw.Connection, row: SystemSettingRow) -> SystemSettingRow:
    # An update keeps the stored description: only the value is the caller's.
    found = first(
        conn,
        "INSERT INTO system_setting (name, value, description) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        " RETURNING name, value, description",
        (row.name, row.value, row.description),
    )
    assert found is not None
    return SystemSettingRow(*found)


def upsert_user_setting(conn: apsw.Connection, user_id: int, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO user_setting (user_id, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value",
        (user_id, key, value),
    )
