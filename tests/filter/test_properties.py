"""Property tests: arbitrary input fails only with FilterError, accepted input always gives SQL
SQLite runs, and valid filters select exactly the memos a plain-Python evaluation selects."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import apsw
import pytest
from filter_support import MEMOS, NOW, attachment_ids, create_database, expected_ids, memo_ids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memos.filter import FilterError, parse_attachment_filter, parse_memo_filter

PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apsw.Connection]:
    conn = create_database(tmp_path_factory.mktemp("filter-properties") / "memos.db")
    yield conn
    conn.close()


def accepted_or_refused(db: apsw.Connection, text: str) -> None:
    """Compile ``text`` in both environments; whatever compiles must run on SQLite."""
    with contextlib.suppress(FilterError):
        memo_ids(db, parse_memo_filter(text, now=NOW))
    with contextlib.suppress(FilterError):
        attachment_ids(db, parse_attachment_filter(text, now=NOW))


# --- token soup ------------------------------------------------------------------------

VOCABULARY = [
    "content", "creator", "creator_id", "created_ts", "updated_ts", "pinned", "visibility", "tags", "tag",
    "has_link", "has_task_list", "has_code", "has_incomplete_tasks", "now", "filename", "mime_type",
    "create_time", "memo_id", "t", "sets", "foo", "null", "true", "false",
    "&&", "||", "!", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%", "?", ":",
    "(", ")", "[", "]", "{", "}", ".", ",",
    "contains", "startsWith", "endsWith", "matches", "size", "exists", "all", "exists_one", "intersects",
    "equivalent", "getFullYear", "getHours", "getDayOfWeek", "timestamp", "duration", "has", "map",
    "0", "1", "-1", "10", "1u", "1.5", "0x7fffffffffffffff", "9223372036854775808", "99999999999999999999",
    '"PUBLIC"', '"users/steven"', '"work"', '"24h"', '"7d"', '"2025-01-01T00:00:00Z"', '"("', '"%"', '"_"',
    "'\\''", '"\\\\"', '"\\x00"', '"; DROP TABLE memo; --"', "r'\\d+'", 'b"x"', '"""a"""', '"',
]


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=20).map(" ".join))
def test_token_soup(db: apsw.Connection, text: str) -> None:
    accepted_or_refused(db, text)


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
def test_arbitrary_text(db: apsw.Connection, text: str) -> None:
    accepted_or_refused(db, text)


# --- random syntax trees (well-formed, often ill-typed) -----------------------------------

IDENTIFIERS = st.sampled_from(VOCABULARY[:24])
LITERALS = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(lambda f: f"{f:.3f}"),
    st.text(max_size=5).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.sampled_from(["true", "false", "null", '"24h"', '"1h30m"', '"2025-01-01T00:00:00Z"', "1730000000"]),
)
METHODS = ["contains", "startsWith", "endsWith", "matches", "size", "getFullYear", "getMonth", "getDate",
           "getDayOfWeek", "getHours", "exists", "all", "exists_one", "intersects", "equivalent"]
FUNCTIONS = ["size", "timestamp", "duration", "now", "has"]
BINARY = ["&&", "||", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"]


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda p: f"{p[0]} {p[1]} {p[2]}"),
        st.tuples(st.sampled_from(["!", "-"]), children).map(lambda p: f"{p[0]}{p[1]}"),
        children.map(lambda x: f"({x})"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(children, st.sampled_from(METHODS), st.lists(children, max_size=2)).map(
            lambda p: f"{p[0]}.{p[1]}({', '.join(p[2])})"
        ),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, max_size=2)).map(
            lambda p: f"{p[0]}({', '.join(p[1])})"
        ),
        st.tuples(st.sampled_from(["exists", "all", "exists_one"]), children).map(
            lambda p: f"tags.{p[0]}(t, {p[1]})"
        ),
    )


# --- valid filters: SQLite agrees with the plain-Python evaluation -----------------------

TEXTS = st.text(alphabet="aAbkK%_\\\"'/ßΣσς测 -;\u212a", max_size=5)
TAG_VALUES = st.one_of(
    st.sampled_from(sorted({tag for memo in MEMOS for tag in memo.tags} | {"wo", "work/", "%", "_", ""})),
    TEXTS,
)
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
EQ_OPS = st.sampled_from(["==", "!="])
EXTREMES = st.sampled_from([-(2**63), 2**63 - 1])
SMALL = st.one_of(st.integers(min_value=-2, max_value=40), EXTREMES)
FLAGS = st.sampled_from(["has_link", "has_task_list", "has_code", "has_incomplete_tasks"])
TIME_FIELDS = st.sampled_from(["created_ts", "updated_ts"])
ACCESSORS = st.sampled_from(["getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
                             "getDayOfYear", "getHours", "getMinutes", "getSeconds"])
PATTERNS = st.sampled_from(["v[0-9]+", "^[A-Z]", "(?i)todo", "o$", "x{3}", "Мир|ß", "\\\\d"])


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


ATOMS = st.one_of(
    st.just("pinned"),
    st.tuples(EQ_OPS, st.booleans()).map(lambda p: f"pinned {p[0]} {str(p[1]).lower()}"),
    FLAGS,
    st.tuples(FLAGS, EQ_OPS, st.booleans()).map(lambda p: f"{p[0]} {p[1]} {str(p[2]).lower()}"),
    st.tuples(EQ_OPS, st.sampled_from(["PUBLIC", "PROTECTED", "PRIVATE", "public"])).map(
        lambda p: f"visibility {p[0]} {_s(p[1])}"
    ),
    st.lists(st.sampled_from(["PUBLIC", "PROTECTED", "PRIVATE"]), max_size=3).map(
        lambda v: f"visibility in {_list(v)}"
    ),
    st.tuples(EQ_OPS, st.sampled_from(["steven", "alice", "bob_x", "bob%", "nobody"])).map(
        lambda p: f'creator {p[0]} "users/{p[1]}"'
    ),
    st.tuples(EQ_OPS, SMALL).map(lambda p: f"creator_id {p[0]} {p[1]}"),
    st.lists(SMALL, max_size=3).map(lambda v: f"creator_id in {v}"),
    st.tuples(st.sampled_from(["contains", "startsWith", "endsWith"]), TEXTS).map(
        lambda p: f"content.{p[0]}({_s(p[1])})"
    ),
    PATTERNS.map(lambda p: f'content.matches("{p}")'),
    st.tuples(OPS, TEXTS).map(lambda p: f"content {p[0]} {_s(p[1])}"),
    st.tuples(OPS, st.integers(min_value=0, max_value=700)).map(lambda p: f"size(content) {p[0]} {p[1]}"),
    TAG_VALUES.map(lambda v: f"{_s(v)} in tags"),
    st.lists(TAG_VALUES, max_size=3).map(lambda v: f"tag in {_list(v)}"),
    st.tuples(st.sampled_from(["exists", "all", "exists_one"]), st.sampled_from(["==", "startsWith", "endsWith",
                                                                                 "contains"]), TAG_VALUES).map(
        lambda p: f"tags.{p[0]}(t, t == {_s(p[2])})" if p[1] == "==" else f"tags.{p[0]}(t, t.{p[1]}({_s(p[2])}))"
    ),
    st.tuples(st.sampled_from(["contains", "intersects", "equivalent"]), st.lists(TAG_VALUES, max_size=3)).map(
        lambda p: f"sets.{p[0]}(tags, {_list(p[1])})"
    ),
    st.tuples(OPS, st.one_of(st.integers(min_value=0, max_value=3), EXTREMES)).map(
        lambda p: f"size(tags) {p[0]} {p[1]}"
    ),
    st.tuples(TIME_FIELDS, OPS, st.integers(min_value=1_650_000_000, max_value=1_770_000_000)).map(
        lambda p: f"{p[0]} {p[1]} timestamp({p[2]})"
    ),
    st.tuples(TIME_FIELDS, OPS, st.integers(min_value=0, max_value=900)).map(
        lambda p: f'{p[0]} {p[1]} now - duration("{p[2]}h")'
    ),
    st.tuples(TIME_FIELDS, ACCESSORS, OPS, st.one_of(st.integers(min_value=-1, max_value=2026), EXTREMES)).map(
        lambda p: f"{p[0]}.{p[1]}() {p[2]} {p[3] if p[1] == 'getFullYear' or p[3] < 60 else p[3] % 60}"
    ),
    st.tuples(TIME_FIELDS, ACCESSORS).map(lambda p: f"now.{p[1]}() == {p[0]}.{p[1]}()"),
    st.sampled_from(["true", "false"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["&&", "||"]), children).map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
        children.map(lambda x: f"!({x})"),
    )


VALID_FILTERS = st.recursive(ATOMS, _combine, max_leaves=6)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(VALID_FILTERS)
def test_valid_filters_match_the_evaluator(db: apsw.Connection, text: str) -> None:
    condition = parse_memo_filter(text, now=NOW)
    assert memo_ids(db, condition) == expected_ids(condition)


# Leaves mix valid atoms with bare identifiers and literals, so a good share of trees compiles.
EXPRESSIONS = st.recursive(st.one_of(ATOMS, IDENTIFIERS, LITERALS), _compound, max_leaves=10)


@PROPERTY_SETTINGS
@given(EXPRESSIONS)
def test_random_syntax_trees(db: apsw.Connection, text: str) -> None:
    accepted_or_refused(db, text)
