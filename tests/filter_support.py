"""Shared by tests/filter: a real SQLite database of varied memos and attachments, and a
plain-Python evaluator of condition trees (SQL's three-valued logic, Memos's quirks)."""
from __future__ import annotations

import datetime
import json
import pathlib
import re
from dataclasses import dataclass, field

import apsw

from memos.filter import conditions as c
from memos.filter.sqlite import render_sqlite
from memos.store.sqlite.db import register_functions

SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "memos" / "store" / "migration" / "sqlite" / "LATEST.sql"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
USERS = {1: "steven", 2: "alice", 3: "bob_x"}


@dataclass(frozen=True)
class Memo:
    id: int
    creator_id: int
    created_ts: int
    content: str = ""
    tags: tuple[str, ...] = ()
    flags: dict[str, bool] = field(default_factory=dict)
    visibility: str = "PRIVATE"
    pinned: bool = False
    updated_ts: int | None = None
    payload_text: str | None = None  # stored as given instead of the canonical form

    @property
    def creator(self) -> str:
        return "users/" + USERS[self.creator_id]

    @property
    def updated(self) -> int:
        return self.created_ts if self.updated_ts is None else self.updated_ts

    @property
    def payload(self) -> str:
        if self.payload_text is not None:
            return self.payload_text
        document: dict[str, object] = {"property": {key: True for key, value in self.flags.items() if value}}
        if self.tags:
            document["tags"] = list(self.tags)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def ts(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp())


MEMOS = [
    Memo(1, 1, ts("2024-03-02T10:00:00"), "Reading list TODO", ("book",), {"hasLink": True},
         "PUBLIC", pinned=True),
    Memo(2, 1, ts("2024-03-03T23:30:00"), "Fiction notes", ("book/fiction",), visibility="PROTECTED"),
    Memo(3, 2, ts("2024-07-14T08:15:00"), "Shelf todo", ("Book",), visibility="PUBLIC"),
    Memo(4, 2, ts("2025-01-01T00:00:00"), "Workshop ideas", ("bookshelf", "workshop"), {"hasCode": True}),
    Memo(5, 3, ts("2025-06-07T12:00:00"), "Work item", ("work", "urgent"), {"hasTaskList": True,
         "hasIncompleteTasks": True}, "PUBLIC", pinned=True),
    Memo(6, 3, ts("2025-06-08T12:00:00"), "Work sub", ("work/a", "work/b"), {"hasTaskList": True}),
    Memo(7, 1, ts("2025-12-31T01:00:00"), "Home", ("work/a", "home")),
    Memo(8, 1, ts("2025-12-31T12:00:00"), "Привет Мир", ("project",), {"hasLink": True, "hasCode": True}),
    Memo(9, 2, NOW - 3600, "100% done", ("project/x",), visibility="PUBLIC"),
    Memo(10, 2, NOW - 2 * DAY, "100 things", ("archive/old",)),
    Memo(11, 3, ts("2023-02-05T06:07:08"), "Straße release v12", ("archived",), pinned=True),
    Memo(12, 3, ts("2023-11-11T11:11:11"), "x" * 600, ("x",), visibility="PROTECTED"),
    Memo(13, 1, ts("2024-02-29T00:00:01"), "foo_bar baz", ("x", "xy")),
    Memo(14, 1, ts("2024-12-31T23:59:59"), "plain", ("z",), visibility="PUBLIC"),
    Memo(15, 2, ts("2025-03-16T05:05:05"), "numbers", ("1231",)),
    Memo(16, 2, ts("2025-03-17T05:05:05"), "numbers again", ("tag/1231",)),
    Memo(17, 3, ts("2025-08-09T10:11:12"), "untagged it's \"quoted\"", visibility="PUBLIC"),
    Memo(18, 3, ts("2025-08-10T10:11:12"), "a -- b; DROP TABLE memo", (), {"hasTaskList": False}),
    Memo(19, 1, ts("2025-09-01T00:00:00"), "Tagged 测试", ("work/测试/项目", "测试")),
    Memo(20, 1, ts("2025-09-02T00:00:00"), "percent tags", ("100%", "a_b")),
    Memo(21, 2, ts("2025-10-05T18:00:00"), "work urgent pair", ("urgent", "work"), visibility="PUBLIC"),
    Memo(22, 2, ts("2025-10-06T18:00:00"), "home only", ("home",)),
    # Memos's demo seed writes payloads with spaces and explicit false values.
    Memo(23, 3, ts("2025-11-01T09:00:00"), "demo style", ("work",), {"hasTaskList": False},
         payload_text='{"property": {"hasLink": false, "hasTaskList": false}, "tags": ["work"]}'),
    Memo(24, 3, ts("2025-11-02T09:00:00"), "empty payload", payload_text="{}", updated_ts=NOW - 10),
    Memo(25, 1, ts("2025-11-03T09:00:00"), "KELVIN \u212a sign", ("WORK",)),
    Memo(26, 1, 1_730_000_100, "window"),  # inside the web client's date-range example
]


@dataclass(frozen=True)
class Attachment:
    id: int
    filename: str
    mime_type: str
    created_ts: int
    memo_id: int | None


ATTACHMENTS = [
    Attachment(1, "photo.png", "image/png", ts("2025-01-01T00:00:00"), 1),
    Attachment(2, "notes.txt", "text/plain", ts("2025-02-01T00:00:00"), None),
    Attachment(3, "100%_report.pdf", "application/pdf", ts("2025-03-01T00:00:00"), 5),
    Attachment(4, "Straße.JPG", "image/jpeg", ts("2024-03-01T00:00:00"), None),
    Attachment(5, "clip.mp4", "video/mp4", NOW - 60, 5),
]


def create_database(path: pathlib.Path, memos: list[Memo] | None = None) -> apsw.Connection:
    """A database file with the project's schema, the store's SQL functions and the rows above
    (or ``memos`` instead of MEMOS)."""
    conn = apsw.Connection(str(path))
    register_functions(conn)
    conn.execute(SCHEMA.read_text())
    for user_id, username in USERS.items():
        conn.execute("INSERT INTO user (id, username, password_hash) VALUES (?, ?, '')", (user_id, username))
    for memo in MEMOS if memos is None else memos:
        conn.execute(
            "INSERT INTO memo (id, uid, creator_id, created_ts, updated_ts, content, visibility, pinned, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (memo.id, f"uid{memo.id}", memo.creator_id, memo.created_ts, memo.updated, memo.content,
             memo.visibility, int(memo.pinned), memo.payload),
        )
    for item in ATTACHMENTS:
        conn.execute(
            "INSERT INTO attachment (id, uid, creator_id, created_ts, filename, type, memo_id)"
            " VALUES (?, ?, 1, ?, ?, ?, ?)",
            (item.id, f"a{item.id}", item.created_ts, item.filename, item.mime_type, item.memo_id),
        )
    return conn


def memo_ids(conn: apsw.Connection, condition: c.Condition) -> list[int]:
    sql, params = render_sqlite(condition, table="m")
    rows = conn.execute(f"SELECT m.id FROM memo AS m WHERE {sql} ORDER BY m.id", params).fetchall()
    return [row[0] for row in rows]


def attachment_ids(conn: apsw.Connection, condition: c.Condition) -> list[int]:
    sql, params = render_sqlite(condition, table="attachment")
    rows = conn.execute(f"SELECT id FROM attachment WHERE {sql} ORDER BY id", params).fetchall()
    return [row[0] for row in rows]


# --- the plain-Python evaluator ------------------------------------------------------------

Truth = bool | None  # None is SQL's unknown


def like(value: str, pattern: str, escape: str | None = None) -> bool:
    """SQLite's LIKE: % and _ wildcards, case-insensitive for ASCII letters only."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(_ascii_lower(char)))
        index += 1
    return re.fullmatch("".join(parts), _ascii_lower(value), re.DOTALL) is not None


def _ascii_lower(text: str) -> str:
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def _compare(left: object, op: c.Op, right: object) -> bool:
    results = {
        c.Op.EQ: left == right, c.Op.NE: left != right,
        c.Op.LT: left < right, c.Op.LE: left <= right,  # type: ignore[operator]
        c.Op.GT: left > right, c.Op.GE: left >= right,  # type: ignore[operator]
    }
    return results[op]


def _part(seconds: int, part: c.TimePart) -> int:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return {
        c.TimePart.YEAR: moment.year, c.TimePart.MONTH: moment.month - 1, c.TimePart.DATE: moment.day,
        c.TimePart.DAY_OF_MONTH: moment.day - 1, c.TimePart.DAY_OF_WEEK: moment.isoweekday() % 7,
        c.TimePart.DAY_OF_YEAR: moment.timetuple().tm_yday - 1, c.TimePart.HOURS: moment.hour,
        c.TimePart.MINUTES: moment.minute, c.TimePart.SECONDS: moment.second,
    }[part]


def _text_test(mode: c.TextMode, value: str, text: str) -> bool:
    value, text = value.casefold(), text.casefold()
    if mode is c.TextMode.PREFIX:
        return value.startswith(text)
    if mode is c.TextMode.SUFFIX:
        return value.endswith(text)
    return text in value


class MemoRow:
    """What the evaluator reads of one memo: columns by name and the parsed payload."""

    def __init__(self, memo: Memo) -> None:
        self.memo = memo
        payload = json.loads(memo.payload)
        self.tags: list[str] = payload.get("tags", [])
        self.properties: dict[str, object] = payload.get("property", {})
        self.tags_json = json.dumps(self.tags, ensure_ascii=False, separators=(",", ":"))
        self.columns: dict[c.Column, object] = {
            c.Column.CONTENT: memo.content, c.Column.CREATOR_ID: memo.creator_id,
            c.Column.CREATED_TS: memo.created_ts, c.Column.UPDATED_TS: memo.updated,
            c.Column.VISIBILITY: memo.visibility, c.Column.PINNED: int(memo.pinned),
        }


def evaluate(condition: c.Condition, row: MemoRow) -> Truth:
    if isinstance(condition, c.Constant):
        return condition.value
    if isinstance(condition, c.And):
        values = [evaluate(part, row) for part in condition.parts]
        return False if False in values else None if None in values else True
    if isinstance(condition, c.Or):
        values = [evaluate(part, row) for part in condition.parts]
        return True if True in values else None if None in values else False
    if isinstance(condition, c.Not):
        inner = evaluate(condition.part, row)
        return None if inner is None else not inner
    if isinstance(condition, c.Comparison):
        value = row.columns[condition.column]
        expected = int(condition.value) if isinstance(condition.value, bool) else condition.value
        return _compare(value, condition.op, expected)
    if isinstance(condition, c.Membership):
        return row.columns[condition.column] in condition.values
    if isinstance(condition, c.CreatorIn):
        return USERS[row.memo.creator_id] in condition.usernames
    if isinstance(condition, c.TextSearch):
        return _text_test(condition.mode, str(row.columns[condition.column]), condition.text)
    if isinstance(condition, c.RegexSearch):
        return re.search(condition.pattern, str(row.columns[condition.column])) is not None
    if isinstance(condition, c.LengthComparison):
        return _compare(len(str(row.columns[condition.column])), condition.op, condition.value)
    if isinstance(condition, c.TimePartComparison):
        seconds = row.columns[condition.column]
        assert isinstance(seconds, int)
        return _compare(_part(seconds, condition.part), condition.op, condition.value)
    if isinstance(condition, c.FlagIsTrue):
        return row.properties.get(condition.flag.value) is True
    if isinstance(condition, c.FlagComparison):
        stored = row.properties.get(condition.flag.value)
        return None if stored is None else _compare(int(bool(stored)), condition.op, int(condition.value))
    return _evaluate_tags(condition, row)


def _evaluate_tags(condition: c.Condition, row: MemoRow) -> Truth:
    if isinstance(condition, c.TagEquals):
        return like(row.tags_json, f'%"{condition.tag}"%')
    if isinstance(condition, c.TagUnder):
        return like(row.tags_json, f'%"{condition.tag}"%') or like(row.tags_json, f'%"{condition.tag}/%')
    if isinstance(condition, c.TagTextMatch):
        fragment = {c.TextMode.PREFIX: f'"{condition.text}', c.TextMode.SUFFIX: f'{condition.text}"',
                    c.TextMode.CONTAINS: condition.text}[condition.mode]
        return bool(row.tags) and like(row.tags_json, f"%{fragment}%")
    if isinstance(condition, c.EveryTag):
        return bool(row.tags) and all(_tag_matches(condition.predicate, tag) for tag in row.tags)
    if isinstance(condition, c.ExactlyOneTag):
        return sum(_tag_matches(condition.predicate, tag) for tag in row.tags) == 1
    assert isinstance(condition, c.TagCount), condition
    return _compare(len(row.tags), condition.op, condition.value)


def _tag_matches(predicate: c.TagPredicate, tag: str) -> bool:
    if predicate.mode is None:
        return tag == predicate.text
    return _text_test(predicate.mode, tag, predicate.text)


def expected_ids(condition: c.Condition) -> list[int]:
    return [memo.id for memo in MEMOS if evaluate(condition, MemoRow(memo)) is True]
