"""Filters against a real SQLite database file: each returns the memos (or attachments) the spec says."""
from __future__ import annotations

import pathlib
import re
from collections.abc import Callable, Iterator

import apsw
import pytest
from filter_support import ATTACHMENTS, MEMOS, NOW, Memo, attachment_ids, create_database, memo_ids, ts

from memos.filter import FilterError, parse_attachment_filter, parse_memo_filter, render_sqlite
from memos.filter import conditions as c
from memos.filter.sqlite import escape_like


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apsw.Connection]:
    conn = create_database(tmp_path_factory.mktemp("filter") / "memos.db")
    yield conn
    conn.close()


def ids(db: apsw.Connection, text: str) -> list[int]:
    return memo_ids(db, parse_memo_filter(text, now=NOW))


def where(predicate: Callable[[Memo], bool]) -> list[int]:
    return [memo.id for memo in MEMOS if predicate(memo)]


def _under(tag: str, root: str) -> bool:
    return tag.lower() == root.lower() or tag.lower().startswith(root.lower() + "/")


# Spec §9.7, with the expected set written as a plain predicate over the memos.
EXAMPLES: list[tuple[str, Callable[[Memo], bool]]] = [
    ("pinned", lambda m: m.pinned),
    ('!pinned && visibility == "PUBLIC"', lambda m: not m.pinned and m.visibility == "PUBLIC"),
    ('visibility in ["PUBLIC", "PRIVATE"]', lambda m: m.visibility in ("PUBLIC", "PRIVATE")),
    ('creator == "users/steven"', lambda m: m.creator_id == 1),
    ("creator_id != 1", lambda m: m.creator_id != 1),
    ('tag in ["book"]', lambda m: any(_under(t, "book") for t in m.tags)),
    ('tag in ["work", "personal"]', lambda m: any(_under(t, "work") or _under(t, "personal") for t in m.tags)),
    ('"project" in tags', lambda m: "project" in m.tags),
    ('tags.exists(t, t.startsWith("archive"))', lambda m: any(t.startswith("archive") for t in m.tags)),
    ('!tags.exists(t, t.startsWith("archive"))', lambda m: not any(t.startswith("archive") for t in m.tags)),
    ('tags.all(t, t.startsWith("work/"))', lambda m: bool(m.tags) and all(t.startswith("work/") for t in m.tags)),
    ('tags.exists_one(t, t == "urgent")', lambda m: m.tags.count("urgent") == 1),
    ('sets.equivalent(tags, ["work", "urgent"])', lambda m: set(m.tags) == {"work", "urgent"}),
    ("size(tags) == 0", lambda m: not m.tags),
    ('content.contains("TODO")', lambda m: "todo" in m.content.lower()),
    ('content.startsWith("100%")', lambda m: m.content.startswith("100%")),
    ('content.matches("v[0-9]+")', lambda m: re.search("v[0-9]+", m.content) is not None),
    ("size(content) > 500", lambda m: len(m.content) > 500),
    ("has_task_list && has_incomplete_tasks", lambda m: bool(m.flags.get("hasTaskList") and
                                                              m.flags.get("hasIncompleteTasks"))),
    ("has_link || has_code", lambda m: bool(m.flags.get("hasLink") or m.flags.get("hasCode"))),
    ('created_ts >= now - duration("24h")', lambda m: m.created_ts >= NOW - 86400),
    ("created_ts >= timestamp(1730000000) && created_ts < timestamp(1730086400)",
     lambda m: 1730000000 <= m.created_ts < 1730086400),
    ('updated_ts > timestamp("2025-01-01T00:00:00Z")', lambda m: m.updated > ts("2025-01-01T00:00:00")),
    ("created_ts.getDayOfWeek() == 0 || created_ts.getDayOfWeek() == 6",
     lambda m: (m.created_ts // 86400 + 4) % 7 in (0, 6)),  # 1970-01-01 was a Thursday
    ("created_ts.getFullYear() == 2024",
     lambda m: ts("2024-01-01T00:00:00") <= m.created_ts < ts("2025-01-01T00:00:00")),
    ("true", lambda m: True),
]


@pytest.mark.parametrize(("text", "predicate"), EXAMPLES, ids=[text for text, _ in EXAMPLES])
def test_spec_examples(db: apsw.Connection, text: str, predicate: Callable[[Memo], bool]) -> None:
    expected = where(predicate)
    assert ids(db, text) == expected
    assert text == "true" or expected, "every example should select something from the data set"


# Checklist statements of spec §11 and semantics of §9.4, on named memos.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('tag in ["book"]', [1, 2, 3]),  # book, book/fiction, Book; not bookshelf
        ('"work" in tags', [5, 21, 23, 25]),  # not work/a; WORK matches (ASCII case-insensitive)
        ('tag in ["work"]', [5, 6, 7, 19, 21, 23, 25]),  # not workshop
        ('tags.exists(t, t == "1231")', [15]),  # not tag/1231
        ('tags.all(t, t.startsWith("work/"))', [6]),  # {work/a, work/b}; not {work/a, home}
        ('tags.all(t, t == "x")', [12]),  # {x}; not {x, xy}
        ('tags.exists_one(t, t.startsWith("x"))', [12]),  # not {x, xy}
        ('sets.contains(tags, ["work", "urgent"])', [5, 21]),
        ('sets.equivalent(tags, ["work"])', [23, 25]),
        ('sets.intersects(tags, ["urgent", "home"])', [5, 7, 21, 22]),
        ('content.contains("привет")', [8]),  # Unicode case folding
        ('content.contains("STRASSE")', [11]),  # full folding: ß -> ss
        ('content.contains("k")', [4, 5, 6, 21, 25]),  # the Kelvin sign folds to k
        ('content.startsWith("100%")', [9]),  # not "100 things"
        ('content.contains("_")', [13]),
        ('content.contains("")', [m.id for m in MEMOS]),
        ('content.endsWith("MEMO")', [18]),
        ('content == "plain"', [14]),
        ('content == "PLAIN"', []),
        ('tag in ["测试"]', [19]),
        ('tag in ["work/测试"]', [19]),
        ('"100%" in tags', [20]),
        ('"a_b" in tags', [20]),
        ('"a%b" in tags', [20]),  # quirk: % in the value is a wildcard
        ('tags.exists(t, t.endsWith("hive"))', []),
        ('tags.exists(t, t.endsWith("ived"))', [11]),
        ('tags.exists(t, t.contains("\\",\\""))', [4, 5, 6, 7, 13, 19, 20, 21]),  # across tag boundaries
        ('tags.all(t, t.contains("%"))', []),  # literal % inside all()
        ('tags.all(t, t.endsWith("%"))', []),
        ('tags.exists_one(t, t.contains("%"))', [20]),
        ("!has_task_list", [m.id for m in MEMOS if m.id not in (5, 6)]),
        ("has_task_list == false", [23]),  # quirk: only an explicitly stored false
        ("has_task_list != true", [23]),
        ("has_task_list != false", [5, 6]),
        ("has_link == false", [m.id for m in MEMOS if m.id not in (1, 8)]),
        ("has_link != true", [m.id for m in MEMOS if m.id not in (1, 8)]),
        ("has_code != false", [4, 8]),
        ("pinned == false", [m.id for m in MEMOS if not m.pinned]),
        ('creator in ["users/alice", "users/nobody"]', [3, 4, 9, 10, 15, 16, 21, 22]),
        ('creator != "users/steven"', [m.id for m in MEMOS if m.creator_id != 1]),
        ('creator == "users/nobody"', []),
        ('creator == "users/bob_x"', [5, 6, 11, 12, 17, 18, 23, 24]),  # _ is not a wildcard here
        ("creator_id in [2, 3] && pinned", [5, 11]),
        ("created_ts.getMonth() == 2 && created_ts.getDate() == 2", [1]),
        ("created_ts.getDayOfMonth() == 1", [1, 20, 24]),
        ("created_ts.getDayOfYear() == 59", [13]),  # 29 February of a leap year
        ("created_ts.getHours() == 23 && created_ts.getMinutes() == 30", [2]),
        ("created_ts.getSeconds() == 8", [11]),
        ("now.getFullYear() >= 2026", [m.id for m in MEMOS]),
        ("now.getFullYear() < 2026", []),
        ('updated_ts > now - duration("1m")', [24]),
        ("size(tags) >= 2", [4, 5, 6, 7, 13, 19, 20, 21]),
        ("false", []),
        ('tag in ["book"] || true', [m.id for m in MEMOS]),
        ('tag in ["book"] && false', []),
        ("tag in []", []),  # Memos fails with invalid SQL here; matching nothing is the safe reading
        ('visibility in []', []),
    ],
)
def test_semantics(db: apsw.Connection, text: str, expected: list[int]) -> None:
    assert ids(db, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("memo_id == null", [2, 4]),
        ("memo_id != null", [1, 3, 5]),
        ("memo_id == 5", [3, 5]),
        ("memo_id != 5", [1]),  # unlinked attachments are not "not 5" (NULL semantics)
        ("!(memo_id == 5)", [1]),
        ("memo_id in [1, 5]", [1, 3, 5]),
        ('filename.endsWith(".png")', [1]),
        ('filename.contains("STRASSE")', [4]),
        ('filename.startsWith("100%_")', [3]),
        ('mime_type.startsWith("image/")', [1, 4]),
        ('mime_type in ["video/mp4", "text/plain"]', [2, 5]),
        ('filename < "n"', [3, 4, 5]),  # binary order: uppercase and digits sort first
        ("size(filename) > 9", [3, 4]),
        ('create_time > now - duration("1h")', [5]),
        ('create_time < timestamp("2025-01-15T00:00:00Z")', [1, 4]),
        ("create_time.getMonth() == 1", [2]),
        ('filename.matches("^[a-z]+\\\\.")', [1, 2, 5]),
    ],
)
def test_attachment_filters(db: apsw.Connection, text: str, expected: list[int]) -> None:
    assert attachment_ids(db, parse_attachment_filter(text, now=NOW)) == expected


# Spec §11 checklist 37-72, each on the few memos it names.
CHECKLIST_NOW = 1_700_000_000 + 2
CHECKLIST_MEMOS = [
    Memo(1, 1, 1_700_000_000, "100% complete", ("book",), {"hasTaskList": True}),
    Memo(2, 2, 1_600_000_000, "100 things to do", ("book/fiction",), {"hasLink": True}, "PUBLIC"),
    Memo(3, 1, 1_600_000_000, "release v2024 notes", ("Work",), visibility="PROTECTED"),
    Memo(4, 1, 1_600_000_000, "Привет Мир", ("work/x",)),
    Memo(5, 2, 1_600_000_000, "get 50%_off now", ("work", "urgent"), pinned=True),
    Memo(6, 1, 1_600_000_000, "get 50% off now", ("work/a", "work/b")),
    Memo(7, 1, 1_600_000_000, "hello world", ("work/a", "home")),
    Memo(8, 1, 1_600_000_000, "abc"),
    Memo(9, 1, 1_600_000_000, "HELLO again", ("1231",)),
    Memo(10, 1, 1_600_000_000, "tagged", ("tag/1231",)),
    Memo(11, 1, 1_600_000_000, "x only", ("x",)),
    Memo(12, 1, 1_600_000_000, "x and y", ("x", "y")),
    Memo(13, 1, 1_600_000_000, "x and xy", ("x", "xy")),
    Memo(14, 1, 1_600_000_000, "z", ("z",)),
    Memo(15, 1, 1_600_000_000, "home", ("home",)),
    Memo(16, 1, 1_600_000_000, "Hello there"),
]
CHECKLIST = [
    ('tag in ["book"]', [1, 2]),
    ('"work" in tags', [3, 5]),  # Work too: ASCII case-insensitive on SQLite
    ('tag in ["work"]', [3, 4, 5, 6, 7]),
    ('tags.exists(t, t == "1231")', [9]),
    ('tags.all(t, t.startsWith("work/"))', [4, 6]),
    ('!tags.all(t, t.startsWith("work/"))', [1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
    ('tags.all(t, t == "x")', [11]),
    ('tags.exists_one(t, t.startsWith("x"))', [11, 12]),
    ('sets.contains(tags, ["work","urgent"])', [5]),
    ('sets.equivalent(tags, ["work"])', [3]),  # {Work}, not {work, urgent}
    ('sets.intersects(tags, ["urgent","home"])', [5, 7, 15]),
    ('content.contains("привет")', [4]),
    ('content.startsWith("100%")', [1]),
    ('content.contains("50%_off")', [5]),
    ('content.matches("^release")', [3]),
    ('!content.startsWith("Hello")', [1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15]),
    ("size(content) == 3", [8]),
    ("has_task_list", [1]),
    ("!has_task_list", list(range(2, 17))),
    ("has_task_list || has_link", [1, 2]),
    ("has_task_list == false", []),
    ("pinned == false", [m for m in range(1, 17) if m != 5]),
    ("!pinned", [m for m in range(1, 17) if m != 5]),
    ('creator == "users/alice"', [2, 5]),
    ("creator_id == 2", [2, 5]),
    ('visibility != "PUBLIC"', [m for m in range(1, 17) if m != 2]),
    ('created_ts < now + duration("5s")', list(range(1, 17))),
    ('created_ts > now + duration("5s")', []),
    ('created_ts >= now - duration("30m") - duration("30m")', [1]),
    ("created_ts.getFullYear() == 2023 && created_ts.getMonth() == 10 && created_ts.getDate() == 14"
     " && created_ts.getHours() == 22 && created_ts.getDayOfWeek() == 2", [1]),
    ('created_ts == timestamp("2023-11-14T22:13:20Z")', [1]),
    ('created_ts > now - duration("168h")', [1]),
    ("true", list(range(1, 17))),
    ("false", []),
]


@pytest.fixture(scope="module")
def checklist_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apsw.Connection]:
    conn = create_database(tmp_path_factory.mktemp("checklist") / "memos.db", CHECKLIST_MEMOS)
    yield conn
    conn.close()


@pytest.mark.parametrize(("text", "expected"), CHECKLIST, ids=[text for text, _ in CHECKLIST])
def test_checklist(checklist_db: apsw.Connection, text: str, expected: list[int]) -> None:
    assert memo_ids(checklist_db, parse_memo_filter(text, now=CHECKLIST_NOW)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('mime_type in ["image/png","image/jpeg"]', [1, 4]),
        ('filename.endsWith(".pdf")', [3]),
        ('filename.contains("")', [1, 2, 3, 4, 5]),
    ],
)
def test_checklist_attachments(db: apsw.Connection, text: str, expected: list[int]) -> None:
    assert attachment_ids(db, parse_attachment_filter(text, now=NOW)) == expected


# --- injection: refused, or matched literally -------------------------------------------

HOSTILE = ["'", '"', "' OR 1=1 --", "--", ";", "; DROP TABLE memo;", "%", "_", "\\", "\\%", "?", "$1", "')", "*/", "/*"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_matched_literally(db: apsw.Connection, text: str) -> None:
    literal = _cel_string(text)
    assert ids(db, f"content.contains({literal})") == where(lambda m: text.casefold() in m.content.casefold())
    assert ids(db, f"content == {literal}") == where(lambda m: m.content == text)
    assert ids(db, f'creator == "users/" + {literal}') == []
    sql, params = render_sqlite(parse_memo_filter(f"content.contains({literal})"))
    assert sql == render_sqlite(parse_memo_filter('content.contains("harmless")'))[0]  # the text never shapes SQL
    assert params == [f"%{escape_like(text.casefold())}%"]
    assert db.execute("SELECT COUNT(*) FROM memo").fetchall() == [(len(MEMOS),)]


def test_quotes_and_sql_comments_in_content(db: apsw.Connection) -> None:
    assert ids(db, 'content.contains("it\'s \\"quoted\\"")') == [17]
    assert ids(db, "content.contains('a -- b; DROP TABLE memo')") == [18]
    assert ids(db, 'content.contains("""-- b;""")') == [18]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('content.contains("a\\x00b")', "NUL characters are not allowed"),
        ('content.contains("a\\000b")', "NUL characters are not allowed"),
        ("creator_id == 9223372036854775808", "out of range"),
        ("creator_id == 99999999999999999999999999", "out of range"),
        ("creator_id == 9223372036854775807 + 1", "integer overflow"),
        ("creator_id == -9223372036854775808 - 1", "integer overflow"),
        ("created_ts > timestamp(99999999999999)", "timestamp out of range"),
        ('created_ts > now - duration("9999999999h")', "invalid duration literal"),
        ('content.contains("\\ud800")', "not a valid Unicode code point"),
        ("content == '" + "x" * 9000 + "'", "string literal is too long"),
    ],
)
def test_hostile_values_are_refused(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=re.escape(message)):
        parse_memo_filter(text)


def test_extreme_int64_values_bind(db: apsw.Connection) -> None:
    assert ids(db, "creator_id == -9223372036854775808") == []
    assert ids(db, "creator_id != 9223372036854775807") == [m.id for m in MEMOS]
    assert ids(db, "created_ts.getMonth() < 9223372036854775807") == [m.id for m in MEMOS]
    assert ids(db, "created_ts.getDayOfYear() > -9223372036854775808") == [m.id for m in MEMOS]
    assert ids(db, "size(content) < 9223372036854775807 && size(tags) > -9223372036854775808") == [
        m.id for m in MEMOS
    ]


# --- the renderer itself ---------------------------------------------------------------

def test_values_are_always_parameters() -> None:
    sql, params = render_sqlite(parse_memo_filter('visibility == "PUBLIC" && creator_id == 7 && tag in ["x"]'))
    assert "PUBLIC" not in sql and "7" not in sql and '"x"' not in sql
    assert params == ["PUBLIC", 7, '%"x"%', '%"x/%']


def test_table_alias_is_used_and_checked() -> None:
    sql, _ = render_sqlite(parse_memo_filter("pinned && has_link"), table="m")
    assert "m.pinned" in sql and "m.payload" in sql
    with pytest.raises(ValueError, match="plain identifier"):
        render_sqlite(c.TRUE, table="memo; DROP TABLE memo")


def test_constants_render_as_literals() -> None:
    assert render_sqlite(c.TRUE) == ("1", [])
    assert render_sqlite(c.FALSE) == ("0", [])
    assert render_sqlite(c.Membership(c.Column.VISIBILITY, ())) == ("0", [])
    assert render_sqlite(c.CreatorIn(())) == ("0", [])


def test_long_disjunctions_stay_shallow(db: apsw.Connection) -> None:
    # SQLite refuses expressions deeper than 1000; a balanced tree keeps 3000 ORs far below that.
    condition = c.Or(tuple(c.Comparison(c.Column.CREATOR_ID, c.Op.EQ, n) for n in range(3000)))
    assert memo_ids(db, condition) == where(lambda m: m.creator_id < 3000)


def test_escape_like() -> None:
    assert escape_like("100%_\\x") == "100\\%\\_\\\\x"


def _cel_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_database_is_a_real_file(db: apsw.Connection) -> None:
    path = pathlib.Path(db.execute("PRAGMA database_list").fetchall()[0][2])
    assert path.name == "memos.db" and path.stat().st_size > 0
    assert db.execute("SELECT COUNT(*) FROM attachment").fetchall() == [(len(ATTACHMENTS),)]
