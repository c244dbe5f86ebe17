"""The package API as a store uses it: compile, render, AND into a WHERE clause with other parameters."""
from __future__ import annotations

import pathlib

import pytest
from filter_support import MEMOS, NOW, create_database

import memos.filter as memo_filter
from memos.filter import FALSE, TRUE, FilterError, parse_attachment_filter, parse_memo_filter, render_sqlite


def test_public_names() -> None:
    assert set(memo_filter.__all__) == {
        "FALSE", "TRUE", "Condition", "FilterError", "parse_attachment_filter", "parse_memo_filter", "render_sqlite",
    }


def test_store_usage(tmp_path: pathlib.Path) -> None:
    """The pattern the package docstring describes: the fragment's parameters follow the query's own."""
    conn = create_database(tmp_path / "memos.db")
    sql, params = render_sqlite(parse_memo_filter('tag in ["work"] && visibility == "PUBLIC"', now=NOW))
    rows = conn.execute(
        f"SELECT id FROM memo WHERE row_status = ? AND creator_id != ? AND {sql} ORDER BY id",
        ["NORMAL", 1, *params],
    ).fetchall()
    assert rows == [(5,), (21,)]
    attachment_sql, attachment_params = render_sqlite(parse_attachment_filter("memo_id == null"), table="attachment")
    assert conn.execute(f"SELECT COUNT(*) FROM attachment WHERE {attachment_sql}", attachment_params).fetchall() == [
        (2,)
    ]
    conn.close()


def test_constant_results() -> None:
    assert parse_memo_filter("true") == TRUE
    assert parse_memo_filter("false || 1 > 2") == FALSE
    assert len(MEMOS) > 20


def test_filter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^filter expression is empty$") as caught:
        parse_memo_filter("")
    assert isinstance(caught.value, FilterError)
