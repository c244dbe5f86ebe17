"""FilterError: message, position, and where the position falls in the text."""
from __future__ import annotations

from memos.filter import FilterError


def test_position_becomes_line_and_column() -> None:
    error = FilterError("bad", 7, "ab\ncdefgh")
    assert (error.message, error.position, error.line, error.column) == ("bad", 7, 2, 5)
    assert str(error) == "bad (line 2, column 5)"
    assert isinstance(error, ValueError)


def test_without_position() -> None:
    error = FilterError("filter expression is empty")
    assert str(error) == "filter expression is empty" and error.position is None


def test_located() -> None:
    assert str(FilterError("x", 3).located("ab\ncd")) == "x (line 2, column 1)"
