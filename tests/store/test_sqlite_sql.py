"""The shared SQLite helpers (memos/store/sqlite/sql.py) on a real database file."""
from __future__ import annotations

import pathlib

import apsw
import pytest

from memos.store import FindUser, UpdateUser
from memos.store.sqlite import sql


@pytest.fixture
def conn(tmp_path: pathlib.Path):
    connection = apsw.Connection(str(tmp_path / "helpers.db"))
    connection.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE, size INTEGER DEFAULT 1)")
    yield connection
    connection.close()


def test_given_keeps_the_fields_that_were_given() -> None:
    assert sql.given(FindUser()) == {}
    assert sql.given(FindUser(username="a", limit=5), without=("limit", "offset")) == {"username": "a"}
    # An empty string or zero is a value; only None means "not given".
    change = UpdateUser(3, description="", updated_ts=0)
    assert sql.given(change, without=("id",)) == {"description": "", "updated_ts": 0}


def test_where_matches_every_given_criterion(conn: apsw.Connection) -> None:
    sql.insert(conn, "item", {"name": "a", "size": 1}, "id")
    sql.insert(conn, "item", {"name": "b", "size": 2}, "id")
    condition, args = sql.where({"name": None, "size": 2})
    assert (condition, args) == ("1 = 1 AND size = ?", [2])
    assert sql.rows(conn, f"SELECT name FROM item WHERE {condition}", args) == [("b",)]
    assert sql.where({}) == ("1 = 1", [])


def test_limit_and_offset_go_together() -> None:
    assert sql.limit_clause(None, 5) == ("", [])
    assert sql.limit_clause(2, None) == (" LIMIT ?", [2])
    assert sql.limit_clause(2, 0) == (" LIMIT ?", [2])
    assert sql.limit_clause(2, 4) == (" LIMIT ? OFFSET ?", [2, 4])


def test_insert_and_update_return_the_row(conn: apsw.Connection) -> None:
    assert sql.insert(conn, "item", {"name": "a"}, "id, name, size") == (1, "a", 1)
    assert sql.update(conn, "item", {"size": 7}, ("name", "a"), "id, size") == (1, 7)
    assert sql.update(conn, "item", {"size": 7}, ("name", "missing"), "id") is None
    assert sql.first(conn, "SELECT name FROM item WHERE id = ?", (2,)) is None
    with pytest.raises(apsw.ConstraintError):
        sql.insert(conn, "item", {"name": "a"}, "id")
