"""Type checking and compilation: the errors of spec §9.5 and the condition trees filters become."""
from __future__ import annotations

import re

import pytest

from memos.filter import FilterError, parse_attachment_filter, parse_memo_filter
from memos.filter import conditions as c
from memos.filter.conditions import Column, Flag, Op, TextMode, TimePart

NOW = 1_750_000_000  # 2025-06-15T15:06:40Z, a Sunday


def compile_memo(text: str) -> c.Condition:
    return parse_memo_filter(text, now=NOW)


def error_of(text: str, *, attachment: bool = False) -> FilterError:
    with pytest.raises(FilterError) as caught:
        (parse_attachment_filter if attachment else parse_memo_filter)(text, now=NOW)
    return caught.value


# Spec §9.5: each filter and a text its diagnostic contains.
SPEC_ERRORS = [
    ("foo == 1", "undeclared reference to 'foo'"),
    ('creator_id == "1"', "found no matching overload"),
    ("tag in [", "Syntax error"),
    ('((tag in ["a"]', "Syntax error"),
    ("1", "filter must evaluate to a boolean value"),
    ("content", 'identifier "content" is not boolean'),
    ('visibility < "P"', 'operator < not allowed for field "visibility"'),
    ('visibility.startsWith("P")', "does not support text matching"),
    ('tag == "work"', 'field "tag" does not support comparison'),
    ("content.getFullYear() == 2024", "found no matching overload"),
    ('created_ts >= now - duration("garbage")', "invalid duration literal"),
    ("creator_id == 10 / 0", "division by zero"),
    ('created_ts.getHours("UTC") == 9', "timezone argument not supported"),
    ("tags.all(t, size(t) > 2)", "unsupported predicate"),
    ("   ", "filter expression is empty"),
]


@pytest.mark.parametrize(("text", "diagnostic"), SPEC_ERRORS, ids=[text for text, _ in SPEC_ERRORS])
def test_spec_errors(text: str, diagnostic: str) -> None:
    assert diagnostic in str(error_of(text))


@pytest.mark.parametrize(
    ("text", "diagnostic"),
    [
        ("created_ts > 1700000000", "found no matching overload for '_>_' applied to "
                                    "'(google.protobuf.Timestamp, int)'"),
        ("pinned && 1", "found no matching overload for '_&&_' applied to '(bool, int)'"),
        ('"x" in tag', "found no matching overload for '@in'"),
        ("tag in work", "undeclared reference to 'work'"),
        ("invalid||filter))syntax", "Syntax error"),
        ("now()", "now() is not supported"),
        ("creator_id == 1u", "found no matching overload for '_==_' applied to '(int, uint)'"),
        ("creator_id == 1.0", "applied to '(int, double)'"),
        ('content.matches("(")', "invalid regular expression"),
        ('content.matches("(?=a)")', "lookaround and backreferences are not supported"),
        ('content.matches("(a+)+$")', "exponential time"),
        ('content == "' + "ß" * 4001 + '"', "string literal is too long"),
        ('content == "' + "ß" * 2001 + '" + "' + "ß" * 2000 + '"', "string is too long"),
        ('content.matches("(a)\\\\1")', "lookaround and backreferences are not supported"),
        ('content.contains(content)', "must be a constant string"),
        ("content.contains(1)", "found no matching overload for 'contains'"),
        ('creator.contains("a")', 'field "creator" does not support text matching'),
        ('tag.startsWith("a")', 'field "tag" does not support text matching'),
        ("created_ts + duration(\"1h\") > now", "arithmetic on fields is not supported"),
        ("-creator_id == 1", "arithmetic on fields is not supported"),
        ("created_ts < updated_ts", "a field can only be compared with a constant"),
        ("created_ts.getHours() == updated_ts.getHours()", "a field can only be compared with a constant"),
        ("creator_id > 1", 'operator > not allowed for field "creator_id"'),
        ("pinned > false", 'operator > not allowed for field "pinned"'),
        ('tags == ["a"]', 'field "tags" does not support comparison'),
        ('tags.exists(t, t != "a")', "unsupported predicate"),
        ('tags.exists(t, t == t)', "unsupported predicate"),
        ('tags.map(t, t == "a")', "the map() macro is not supported"),
        ('tags.filter(t, t == "a")', "the filter() macro is not supported"),
        ('content.exists(t, t == "a")', "exists() is only supported on tags"),
        ('tags.exists(1, true)', "takes a variable name and a predicate"),
        ('sets.contains(content, ["a"])', "sets.contains() is only supported on tags"),
        ('sets.contains(tags, "a")', "found no matching overload for 'sets.contains'"),
        ("sets.contains(tags, [1])", "found no matching overload for 'sets.contains'"),
        ('sets.union(tags, ["a"])', "unsupported function 'sets.union'"),
        ('has(content)', "has() is not supported"),
        ('int("1") == 1', "undeclared reference to 'int'"),
        ('content.lowerAscii() == "a"', "unsupported function 'lowerAscii'"),
        ("content.size() > 1 && size(visibility) > 1", 'size() is not supported for field "visibility"'),
        ("size(1) > 1", "found no matching overload for 'size'"),
        ("size() > 1", "found no matching overload for 'size'"),
        ("content.foo", "field selection '.foo' is not supported"),
        ('timestamp("2025-01-01") < now', "invalid timestamp literal"),
        ("timestamp(true) < now", "found no matching overload for 'timestamp'"),
        ("timestamp(creator_id) < now", "timestamp() needs a constant argument"),
        ('duration("7d") > duration("1h")', "invalid duration literal"),
        ("duration(1) > duration(\"1h\")", "found no matching overload for 'duration'"),
        ("creator_id == 10 % 0", "modulus by zero"),
        ('"a" + 1 == "a1"', "found no matching overload for '_+_'"),
        ("1.5 % 1.0 == 0.5", "found no matching overload for '_%_'"),
        ("!1", "found no matching overload for '!_'"),
        ('-"a" == "a"', "found no matching overload for '-_'"),
        ('creator == "alice"', 'creator must be "users/<username>"'),
        ('creator in ["users/"]', 'creator must be "users/<username>"'),
        ('visibility in ["PUBLIC", 1]', "found no matching overload for '@in'"),
        ("visibility in [visibility]", "list elements must be constants"),
        ('created_ts in [now]', '"in" is not supported for field "created_ts"'),
        ('1 in tags', "found no matching overload for '@in' applied to '(int, list(string))'"),
        ('content in tags', 'only a constant string can be tested with "in tags"'),
        ("visibility in 1", "found no matching overload for '@in'"),
        ("tag", 'identifier "tag" is not boolean'),
        ("now", "filter must evaluate to a boolean value"),
        ("null", "filter must evaluate to a boolean value"),
        ("size(content)", "filter must evaluate to a boolean value"),
        ("pinned == null", "found no matching overload for '_==_' applied to '(bool, null_type)'"),
        ("size(content) > \"1\"", "found no matching overload for '_>_' applied to '(int, string)'"),
        ("(pinned && has_link) == 1", "found no matching overload for '_==_' applied to '(bool, int)'"),
        ("1 < \"a\"", "found no matching overload for '_<_' applied to '(int, string)'"),
        ("[1] < [2]", "found no matching overload for '_<_'"),
        ("created_ts.getHours(1) == 1", "found no matching overload for 'getHours'"),
        ("duration(\"1h\").getFullYear() == 1", "found no matching overload for 'getFullYear'"),
        ("creator_id == 9223372036854775807 * 2", "integer overflow"),
        ("18446744073709551615u + 1u == 0u", "unsigned integer overflow"),
        ('timestamp("9999-12-31T23:59:59Z") + duration("1s") > now', "timestamp out of range"),
        ("filename == \"a\"", "undeclared reference to 'filename'"),
    ],
)
def test_type_errors(text: str, diagnostic: str) -> None:
    assert diagnostic in str(error_of(text))


@pytest.mark.parametrize(
    ("text", "diagnostic"),
    [
        ("content.contains(\"a\")", "undeclared reference to 'content'"),
        ("memo_id < 5", 'operator < not allowed for field "memo_id"'),
        ('memo_id == "5"', 'field "memo_id" can only be compared with an integer or null'),
        ("memo_id > null", 'operator > not allowed for field "memo_id"'),
        ("pinned", "undeclared reference to 'pinned'"),
        ("create_time > 1", "found no matching overload"),
    ],
)
def test_attachment_errors(text: str, diagnostic: str) -> None:
    assert diagnostic in str(error_of(text, attachment=True))


def test_errors_point_at_the_problem() -> None:
    error = error_of('pinned &&\n  creator_id == "1"')
    assert (error.line, error.column, error.position) == (2, 14, 23)
    assert str(error).endswith("(line 2, column 14)")
    error = error_of("visibility == 'PUBLIC' && bogus")
    assert error.column == 27 and "'bogus'" in error.message


# --- what filters compile to ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("pinned", c.Comparison(Column.PINNED, Op.EQ, True)),
        ("!pinned", c.Not(c.Comparison(Column.PINNED, Op.EQ, True))),
        ("!!pinned", c.Comparison(Column.PINNED, Op.EQ, True)),
        ("pinned == false", c.Comparison(Column.PINNED, Op.EQ, False)),
        ('"PUBLIC" == visibility', c.Comparison(Column.VISIBILITY, Op.EQ, "PUBLIC")),
        ("now.getHours() < created_ts.getHours()",
         c.TimePartComparison(Column.CREATED_TS, TimePart.HOURS, Op.GT, 15)),
        ("now.getFullYear() >= 2025", c.TRUE),
        ("now.getDayOfWeek() == 0 && now.getMonth() == 5 && now.getDate() == 15", c.TRUE),
        ("creator_id == 100 / 10", c.Comparison(Column.CREATOR_ID, Op.EQ, 10)),
        ("creator_id == -7 / 2", c.Comparison(Column.CREATOR_ID, Op.EQ, -3)),  # truncates toward zero
        ("creator_id == -7 % 2", c.Comparison(Column.CREATOR_ID, Op.EQ, -1)),
        ("creator_id == 0x10", c.Comparison(Column.CREATOR_ID, Op.EQ, 16)),
        ("creator_id == -9223372036854775808", c.Comparison(Column.CREATOR_ID, Op.EQ, -(2**63))),
        ('created_ts >= now - duration("1h30m")', c.Comparison(Column.CREATED_TS, Op.GE, NOW - 5400)),
        ('created_ts < timestamp("2025-01-01T02:00:00+02:00")',
         c.Comparison(Column.CREATED_TS, Op.LT, 1_735_689_600)),
        ("created_ts < timestamp(timestamp(5))", c.Comparison(Column.CREATED_TS, Op.LT, 5)),
        ('created_ts > now - (now - timestamp(0)) + duration("2s")', c.Comparison(Column.CREATED_TS, Op.GT, 2)),
        ("pinned || true", c.TRUE),
        ("pinned && false", c.FALSE),
        ("true && pinned", c.Comparison(Column.PINNED, Op.EQ, True)),
        ("!(1 == 1)", c.FALSE),
        ('"a" + "b" == "ab"', c.TRUE),
        ("1.5 + 1.0 > 2.0", c.TRUE),
        ("1.0 / 0.0 > 1e308", c.TRUE),
        ("null == null && [1, 2] == [1, 2] && 2u > 1u && 1 != null", c.TRUE),
        ('"b" in ["a", "b"] && !(3 in [1, 2]) && size("héllo") == 5 && size([1, 2]) == 2', c.TRUE),
        ('"abc".startsWith("a") && "abc".endsWith("c") && "abc".contains("b") && "abc".matches("^a")', c.TRUE),
        ('duration("90m").getHours() == 1 && duration("-90s").getMinutes() == -1', c.TRUE),
        ("content.size() > 3", c.LengthComparison(Column.CONTENT, Op.GT, 3)),
        ("3 < size(content)", c.LengthComparison(Column.CONTENT, Op.GT, 3)),
        ("size(tags) == 0", c.TagCount(Op.EQ, 0)),
        ("has_link", c.FlagIsTrue(Flag.HAS_LINK)),
        ("has_code == false", c.Not(c.FlagIsTrue(Flag.HAS_CODE))),
        ("has_incomplete_tasks != false", c.FlagIsTrue(Flag.HAS_INCOMPLETE_TASKS)),
        ("has_task_list == false", c.FlagComparison(Flag.HAS_TASK_LIST, Op.EQ, False)),
        ("has_task_list", c.FlagIsTrue(Flag.HAS_TASK_LIST)),
        ('content.contains("a") == false', c.Not(c.TextSearch(Column.CONTENT, TextMode.CONTAINS, "a"))),
        ('creator == "users/a"', c.CreatorIn(("a",))),
        ('creator != "users/a"', c.Not(c.CreatorIn(("a",)))),
        ('creator in ["users/a", "users/b"]', c.CreatorIn(("a", "b"))),
        ('tag in ["a", "b"]', c.Or((c.TagUnder("a"), c.TagUnder("b")))),
        ('"a" in tags', c.TagEquals("a")),
        ('tags.exists(t, "a" == t)', c.TagEquals("a")),
        ('tags.exists(x, x.endsWith("s"))', c.TagTextMatch(TextMode.SUFFIX, "s")),
        ('tags.all(t, t == "a")', c.EveryTag(c.TagPredicate(None, "a"))),
        ('tags.exists_one(t, t.contains("a" + "b"))', c.ExactlyOneTag(c.TagPredicate(TextMode.CONTAINS, "ab"))),
        ('sets.contains(tags, [])', c.TRUE),
        ('sets.intersects(tags, [])', c.FALSE),
        ('sets.equivalent(tags, [])', c.TagCount(Op.EQ, 0)),
        ('sets.equivalent(tags, ["a", "a"])', c.And((c.TagEquals("a"), c.TagEquals("a"), c.TagCount(Op.EQ, 1)))),
        ('visibility in ["PUBLIC"]', c.Membership(Column.VISIBILITY, ("PUBLIC",))),
        ("creator_id in []", c.FALSE),
        ('content.matches("(?i)todo")', c.RegexSearch(Column.CONTENT, "(?i)todo")),
        ("created_ts.getMonth() == now.getMonth() && created_ts.getDate() == now.getDate()",
         c.And((c.TimePartComparison(Column.CREATED_TS, TimePart.MONTH, Op.EQ, 5),
                c.TimePartComparison(Column.CREATED_TS, TimePart.DATE, Op.EQ, 15)))),
    ],
)
def test_compiled_conditions(text: str, condition: c.Condition) -> None:
    assert compile_memo(text) == condition


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("memo_id == null", c.Comparison(Column.MEMO_ID, Op.EQ, None)),
        ("null != memo_id", c.Comparison(Column.MEMO_ID, Op.NE, None)),
        ("memo_id in [1, 2]", c.Membership(Column.MEMO_ID, (1, 2))),
        ('mime_type == "image/png"', c.Comparison(Column.MIME_TYPE, Op.EQ, "image/png")),
        ('filename.contains("x")', c.TextSearch(Column.FILENAME, TextMode.CONTAINS, "x")),
        ("create_time.getFullYear() == 2025", c.TimePartComparison(Column.CREATED_TS, TimePart.YEAR, Op.EQ, 2025)),
    ],
)
def test_attachment_conditions(text: str, condition: c.Condition) -> None:
    assert parse_attachment_filter(text, now=NOW) == condition


@pytest.mark.parametrize(
    "text",
    [
        'creator == "users/steven"', 'content.contains("word")', 'tag in ["tag"]', "pinned", "has_link",
        "has_task_list", "has_code", "created_ts >= timestamp(1730000000) && created_ts < timestamp(1730086400)",
        'visibility in ["PUBLIC"]', 'visibility in ["PUBLIC", "PROTECTED"]',
        'creator == "users/a" && content.contains("x") && tag in ["t"] && pinned && visibility in ["PUBLIC"]',
    ],
)
def test_web_client_filters_compile(text: str) -> None:
    """Spec frontend §0.5: every shape the web UI sends."""
    compile_memo(text)


def test_now_defaults_to_the_clock_and_is_frozen() -> None:
    import time

    before = int(time.time())
    condition = parse_memo_filter("created_ts >= now && updated_ts >= now")
    assert isinstance(condition, c.And)
    values = {part.value for part in condition.parts if isinstance(part, c.Comparison)}
    assert len(values) == 1
    (value,) = values
    assert isinstance(value, int) and before <= value <= int(time.time())


def test_shortcut_filters_of_the_checklist() -> None:
    for text in ("has_task_list == false", "creator_id == 1", 'visibility == "PUBLIC"'):
        compile_memo(text)
    for text in ("invalid||filter))syntax", 'tag == "work"', "tag in work"):
        with pytest.raises(FilterError):
            compile_memo(text)


def test_regex_messages_name_the_pattern() -> None:
    assert re.search(r"invalid regular expression '\['", str(error_of('content.matches("[")')))
