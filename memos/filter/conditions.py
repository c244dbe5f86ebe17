"""The dialect-neutral condition tree a filter compiles to.

Every value in it is a checked constant; no node holds filter text. A renderer
(``memos.filter.sqlite`` today) turns it into one dialect's SQL. Nodes name
logical columns and payload properties, not SQL, so PostgreSQL and MySQL can
render the same tree their own way (JSON containment for tags, ILIKE, ...).

Truth values: every node is TRUE or FALSE for every row, except where SQL's
NULL is kept on purpose: ``Comparison`` and ``Membership`` on a nullable column
(the attachment's memo id) and ``FlagComparison``. NOT of an unknown is
unknown and the row is not returned, as in SQL.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Column(enum.Enum):
    """A column of the filtered table; the value is its name in every Memos schema."""

    CONTENT = "content"
    CREATOR_ID = "creator_id"
    CREATED_TS = "created_ts"
    UPDATED_TS = "updated_ts"
    VISIBILITY = "visibility"
    PINNED = "pinned"
    FILENAME = "filename"
    MIME_TYPE = "type"
    MEMO_ID = "memo_id"


class Flag(enum.Enum):
    """A boolean of the memo payload's ``property``; the value is its JSON key."""

    HAS_LINK = "hasLink"
    HAS_TASK_LIST = "hasTaskList"
    HAS_CODE = "hasCode"
    HAS_INCOMPLETE_TASKS = "hasIncompleteTasks"


class TimePart(enum.Enum):
    """A calendar part of a timestamp in UTC, numbered as CEL's accessors number it."""

    YEAR = "getFullYear"
    MONTH = "getMonth"  # 0-11
    DATE = "getDate"  # 1-31
    DAY_OF_MONTH = "getDayOfMonth"  # 0-30
    DAY_OF_WEEK = "getDayOfWeek"  # 0-6, Sunday first
    DAY_OF_YEAR = "getDayOfYear"  # 0-365
    HOURS = "getHours"
    MINUTES = "getMinutes"
    SECONDS = "getSeconds"


class TextMode(enum.Enum):
    CONTAINS = "contains"
    PREFIX = "startsWith"
    SUFFIX = "endsWith"


class Op(enum.Enum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


Scalar = int | str | bool


@dataclass(frozen=True)
class Constant:
    """TRUE (no restriction) or FALSE (no row)."""

    value: bool


@dataclass(frozen=True)
class And:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


@dataclass(frozen=True)
class Comparison:
    """``column op value``; ``None`` only with EQ/NE (IS NULL / IS NOT NULL). Text compares binary."""

    column: Column
    op: Op
    value: Scalar | None


@dataclass(frozen=True)
class Membership:
    """``column IN (values)``; an empty tuple matches nothing."""

    column: Column
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class CreatorIn:
    """The memo's creator has one of these usernames (``creator == "users/<name>"``)."""

    usernames: tuple[str, ...]


@dataclass(frozen=True)
class TextSearch:
    """Case-insensitive (full Unicode case folding) substring, prefix or suffix; ``text`` is literal."""

    column: Column
    mode: TextMode
    text: str


@dataclass(frozen=True)
class RegexSearch:
    """The pattern (RE2 syntax, checked at compile time) matches anywhere in the column."""

    column: Column
    pattern: str


@dataclass(frozen=True)
class LengthComparison:
    """``length(column) op value``, in characters."""

    column: Column
    op: Op
    value: int


@dataclass(frozen=True)
class TimePartComparison:
    """``part(column) op value`` with the column holding Unix seconds, read in UTC."""

    column: Column
    part: TimePart
    op: Op
    value: int


@dataclass(frozen=True)
class FlagIsTrue:
    """The payload property is true; an absent key counts as false."""

    flag: Flag


@dataclass(frozen=True)
class FlagComparison:
    """The stored property compared with true/false as Memos on SQLite does it: an absent key is
    unknown, so it matches neither ``== false`` nor ``!= true``."""

    flag: Flag
    op: Op
    value: bool


@dataclass(frozen=True)
class TagEquals:
    """Some stored tag equals ``tag`` (``"x" in tags``): on SQLite ASCII-case-insensitive, with
    ``%``/``_`` acting as wildcards, as in Memos."""

    tag: str


@dataclass(frozen=True)
class TagUnder:
    """Some stored tag is ``tag`` or below it (``tag/...``): ``tag in [...]``."""

    tag: str


@dataclass(frozen=True)
class TagTextMatch:
    """``tags.exists(t, t.startsWith|endsWith|contains(text))``: on SQLite a LIKE on the JSON text of
    the tag list (contains may match across tags); the memo has at least one tag."""

    mode: TextMode
    text: str


@dataclass(frozen=True)
class TagPredicate:
    """A test of one tag: ``mode`` None is exact equality (case-sensitive), otherwise a
    Unicode-case-insensitive literal text match."""

    mode: TextMode | None
    text: str


@dataclass(frozen=True)
class EveryTag:
    """The memo has at least one tag and every tag satisfies the predicate."""

    predicate: TagPredicate


@dataclass(frozen=True)
class ExactlyOneTag:
    predicate: TagPredicate


@dataclass(frozen=True)
class TagCount:
    """``size(tags) op value``; a memo without tags has 0."""

    op: Op
    value: int


Condition = (
    Constant | And | Or | Not | Comparison | Membership | CreatorIn | TextSearch | RegexSearch
    | LengthComparison | TimePartComparison | FlagIsTrue | FlagComparison | TagEquals | TagUnder
    | TagTextMatch | EveryTag | ExactlyOneTag | TagCount
)

TRUE = Constant(True)
FALSE = Constant(False)


def conjunction(parts: list[Condition]) -> Condition:
    """AND of ``parts`` with constants folded away and nested ANDs flattened."""
    return _fold(parts, And, absorbing=FALSE)


def disjunction(parts: list[Condition]) -> Condition:
    """OR of ``parts`` with constants folded away and nested ORs flattened."""
    return _fold(parts, Or, absorbing=TRUE)


def _fold(parts: list[Condition], kind: type[And] | type[Or], absorbing: Constant) -> Condition:
    """``kind`` of ``parts``: ``absorbing`` decides it, the other constant drops out, nested ``kind`` flattens."""
    neutral = Constant(not absorbing.value)
    kept: list[Condition] = []
    for part in parts:
        if part == absorbing:
            return absorbing
        if isinstance(part, kind):
            kept.extend(part.parts)
        elif part != neutral:
            kept.append(part)
    if not kept:
        return neutral
    return kept[0] if len(kept) == 1 else kind(tuple(kept))


def negation(part: Condition) -> Condition:
    if isinstance(part, Constant):
        return Constant(not part.value)
    if isinstance(part, Not):
        # NOT NOT x is x in three-valued logic too (unknown stays unknown).
        return part.part
    return Not(part)
