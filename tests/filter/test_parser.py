"""The parser: precedence, refused constructs, and the bounds that keep hostile input cheap."""
from __future__ import annotations

import pytest

from memos.filter import FilterError, parse_memo_filter
from memos.filter.errors import MAX_FILTER_LENGTH, MAX_NESTING, MAX_TREE_DEPTH
from memos.filter.parser import parse
from memos.filter.syntax import Binary, Call, Ident, ListExpr, Literal, Logical, Select, Unary


def test_precedence() -> None:
    tree = parse("a || b && c == 1 + 2 * 3")
    assert isinstance(tree, Logical) and tree.op == "||"
    right = tree.operands[1]
    assert isinstance(right, Logical) and right.op == "&&"
    comparison = right.operands[1]
    assert isinstance(comparison, Binary) and comparison.op == "=="
    total = comparison.right
    assert isinstance(total, Binary) and total.op == "+"
    assert isinstance(total.right, Binary) and total.right.op == "*"


def test_chains_stay_flat() -> None:
    tree = parse(" && ".join(["pinned"] * 500))
    assert isinstance(tree, Logical) and len(tree.operands) == 500 and tree.depth == 2


def test_shapes() -> None:
    assert parse("!!-x") == Unary(0, "!", Unary(1, "!", Unary(2, "-", Ident(3, "x"))))
    assert parse("-5") == Literal(0, "int", -5)
    assert parse("-5.size()") == Unary(0, "-", Call(3, Literal(1, "int", 5), "size", ()))
    assert parse("a.b") == Select(2, Ident(0, "a"), "b")
    assert parse('sets.contains(tags, ["a",])') == Call(
        5, Ident(0, "sets"), "contains", (Ident(14, "tags"), ListExpr(20, (Literal(21, "string", "a"),)))
    )
    assert parse("f()") == Call(0, None, "f", ())
    assert parse("x in [1]") == Binary(2, "in", Ident(0, "x"), ListExpr(5, (Literal(6, "int", 1),)))
    assert parse("null") == Literal(0, "null", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "filter expression is empty"),
        ("\n\t ", "filter expression is empty"),
        ("pinned ? true : false", "the conditional operator ?: is not supported"),
        ("tags[0] == 'a'", "indexing with [...] is not supported"),
        ('{"a": 1} == {}', "map literals are not supported"),
        (".pinned", "qualified identifiers (leading '.') are not supported"),
        ("pinned pinned", "Syntax error: unexpected 'pinned'"),
        ("pinned &&", "Syntax error: unexpected end of input"),
        ("content.", "expected a field or method name"),
        ("content.1", "expected a field or method name"),
        ("f(1 2)", "Syntax error: unexpected '2', expected ')'"),
        ("(pinned", "expected ')'"),
        ("pinned)", "Syntax error: unexpected ')'"),
        ("[1, 2", "expected ']'"),
        ("-9223372036854775809 < 0", "out of range"),
        ("9223372036854775808 > 0", "out of range"),
        ("18446744073709551616u > 0u", "out of range"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 5_000 + "pinned" + ")" * 5_000, f"the limit is {MAX_NESTING} levels of brackets"),
        ("[" * 10_000, f"the limit is {MAX_NESTING} levels of brackets"),
        ("f(" * 5_000, f"the limit is {MAX_NESTING} levels of brackets"),
        ("!" * 10_000 + "pinned", f"the limit is {MAX_TREE_DEPTH} levels"),
        ("-" * 10_000 + "1 == 1", f"the limit is {MAX_TREE_DEPTH} levels"),
        ("creator_id == 1" + " + 1" * 3_000, f"the limit is {MAX_TREE_DEPTH} levels"),
        ("content" + ".size()" * 2_000 + " > 0", f"the limit is {MAX_TREE_DEPTH} levels"),
        ("1 == 1 " + "== true " * 2_000, f"the limit is {MAX_TREE_DEPTH} levels"),
        ("pinned || " * 10_000 + "pinned", f"the limit is {MAX_FILTER_LENGTH}"),
        ("(" * 10_000 + "pinned" + ")" * 10_000, "filter is too long (20006 characters"),
        ("x" * 100_000, f"filter is too long (100000 characters; the limit is {MAX_FILTER_LENGTH})"),
    ],
)
def test_bounds_give_clean_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_memo_filter(text)
    assert message in str(caught.value)


def test_depth_within_limits_compiles() -> None:
    nested = "(" * (MAX_NESTING - 1) + "pinned" + ")" * (MAX_NESTING - 1)
    parse_memo_filter(nested)
    parse_memo_filter("!" * (MAX_TREE_DEPTH - 2) + "pinned")
    parse_memo_filter(" || ".join(f"creator_id == {n}" for n in range(600)))


def test_worst_case_fits_a_deep_caller_stack() -> None:
    """The deepest accepted filter still compiles when the caller already uses 400 frames."""
    levels = MAX_NESTING - 2  # the whole filter and the call arguments are levels too
    worst = "(" * levels + "!" * 20 + "tags.exists(t, t == " + "-" * 20 + "1 + 1)" + ")" * levels

    def at_depth(frames: int) -> None:
        if frames:
            at_depth(frames - 1)
            return
        with pytest.raises(FilterError, match="found no matching overload"):
            parse_memo_filter(worst)

    at_depth(400)
