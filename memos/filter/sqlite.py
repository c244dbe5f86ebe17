"""Renders a condition tree as a SQLite WHERE fragment with ``?`` parameters.

Every value travels as a bound parameter; the SQL text is built only from this
module's own constants, column names from ``Column`` and the table alias the
caller passes (checked to be a plain identifier). The fragment expects:

- the filtered table (``memo`` or ``attachment``) under ``table``;
- a ``user`` table with ``id`` and ``username`` (for ``creator``);
- the SQL functions ``memos_unicode_lower`` (full Unicode case folding) and
  ``regexp`` (so ``x REGEXP p`` works), as ``memos.store.sqlite.db.register_functions``
  registers them; and SQLite's JSON functions (built in since 3.38).

Semantics follow Memos on SQLite, quirks included: ``"x" in tags`` and
``tag in [...]`` are LIKE tests on the JSON text of ``payload.tags`` (ASCII
case-insensitive, ``%``/``_`` in the value act as wildcards), while text
searches case-fold both sides and escape ``%``, ``_`` and ``\\``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from memos.filter import conditions as c
from memos.filter.conditions import Condition, Op, TextMode, TimePart

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SQL_OPS = {Op.EQ: "=", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}
# strftime code, and what to subtract to turn SQLite's numbering (from 1) into CEL's (from 0).
_TIME_PARTS = {
    TimePart.YEAR: ("%Y", 0),
    TimePart.MONTH: ("%m", 1),
    TimePart.DATE: ("%d", 0),
    TimePart.DAY_OF_MONTH: ("%d", 1),
    TimePart.DAY_OF_WEEK: ("%w", 0),
    TimePart.DAY_OF_YEAR: ("%j", 1),
    TimePart.HOURS: ("%H", 0),
    TimePart.MINUTES: ("%M", 0),
    TimePart.SECONDS: ("%S", 0),
}
_LIKE_ESCAPE = "\\"
# More terms narrow the candidates little and cost a posting-list read each.
_MAX_TRIGRAMS = 32

Fragment = tuple[str, list[object]]
N = TypeVar("N")


def render_sqlite(condition: Condition, *, table: str = "memo", search_table: str | None = None) -> Fragment:
    """``(sql, params)`` for ``condition`` against the table (or alias) ``table``.

    ``search_table`` names a trigram index of the memo contents that the store keeps
    (an FTS5 table, ``tokenize='trigram'``, whose rowid is the memo id and whose only
    column holds ``memos_unicode_lower(content)``). When given, text searches on
    ``content`` of at least three folded characters first narrow the rows through it;
    the exact test stays, so results are the same with or without the index.
    """
    for name in (table, search_table):
        if name is not None and not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"table names must be plain identifiers, got {name!r}")
    return _Renderer(table, search_table).render(condition)


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern that uses ``ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Renderer:
    def __init__(self, table: str, search_table: str | None = None) -> None:
        self.table = table
        self.search_table = search_table

    def render(self, condition: Condition) -> Fragment:
        return _HANDLERS[type(condition)](self, condition)

    def column(self, column: c.Column) -> str:
        return f"{self.table}.{column.value}"

    @property
    def payload(self) -> str:
        return f"{self.table}.payload"

    @property
    def tags_json(self) -> str:
        # Untagged memos have no key: their JSON text counts as an empty list, never NULL.
        return f"COALESCE(json_extract({self.payload}, '$.tags'), '[]')"

    @property
    def tag_count(self) -> str:
        return f"COALESCE(json_array_length({self.payload}, '$.tags'), 0)"

    # --- logic -------------------------------------------------------------------------

    def _constant(self, node: c.Constant) -> Fragment:
        return ("1" if node.value else "0"), []

    def _joined(self, parts: tuple[Condition, ...], keyword: str) -> Fragment:
        # A balanced tree keeps SQLite's expression depth logarithmic in the number of parts.
        return _balanced(list(parts), self.render, lambda a, b: (f"({a[0]} {keyword} {b[0]})", a[1] + b[1]))

    def _not(self, node: c.Not) -> Fragment:
        sql, params = self.render(node.part)
        return f"(NOT {sql})", params

    # --- columns -------------------------------------------------------------------------

    def _comparison(self, node: c.Comparison) -> Fragment:
        column = self.column(node.column)
        if node.value is None:
            return f"({column} IS {'NULL' if node.op is Op.EQ else 'NOT NULL'})", []
        return f"({column} {_SQL_OPS[node.op]} ?)", [_bindable(node.value)]

    def _membership(self, node: c.Membership) -> Fragment:
        if not node.values:
            return "0", []
        return f"({self.column(node.column)} IN ({_placeholders(len(node.values))}))", [
            _bindable(value) for value in node.values
        ]

    def _creator(self, node: c.CreatorIn) -> Fragment:
        if not node.usernames:
            return "0", []
        inner = f'SELECT id FROM "user" WHERE username IN ({_placeholders(len(node.usernames))})'
        return f"({self.column(c.Column.CREATOR_ID)} IN ({inner}))", list(node.usernames)

    def _text_search(self, node: c.TextSearch) -> Fragment:
        folded = node.text.casefold()
        pattern = _like_pattern(node.mode, escape_like(folded))
        exact = f"(memos_unicode_lower({self.column(node.column)}) LIKE ? ESCAPE '\\')"
        query = trigram_query(folded) if node.column is c.Column.CONTENT and self.search_table else None
        if query is None:
            return exact, [pattern]
        # A needle's trigrams all occur in any text that contains it: the index only
        # drops rows the exact test would drop too.
        candidates = f"SELECT rowid FROM {self.search_table} WHERE {self.search_table} MATCH ?"
        return f"({self.table}.id IN ({candidates}) AND {exact})", [query, pattern]

    def _regex(self, node: c.RegexSearch) -> Fragment:
        return f"({self.column(node.column)} REGEXP ?)", [node.pattern]

    def _length(self, node: c.LengthComparison) -> Fragment:
        return f"(length({self.column(node.column)}) {_SQL_OPS[node.op]} ?)", [node.value]

    def _time_part(self, node: c.TimePartComparison) -> Fragment:
        code, shift = _TIME_PARTS[node.part]
        part = f"CAST(strftime('{code}', {self.column(node.column)}, 'unixepoch') AS INTEGER)"
        if shift:
            # Shifted on the column side: added to the constant, an int64 bound could overflow.
            part = f"({part} - {shift})"
        return f"({part} {_SQL_OPS[node.op]} ?)", [node.value]

    # --- payload -------------------------------------------------------------------------

    def _flag_path(self, flag: c.Flag) -> str:
        return f"json_extract({self.payload}, '$.property.{flag.value}')"

    def _flag_is_true(self, node: c.FlagIsTrue) -> Fragment:
        return f"({self._flag_path(node.flag)} IS 1)", []

    def _flag_comparison(self, node: c.FlagComparison) -> Fragment:
        return f"({self._flag_path(node.flag)} {_SQL_OPS[node.op]} ?)", [1 if node.value else 0]

    def _tag_equals(self, node: c.TagEquals) -> Fragment:
        return f"({self.tags_json} LIKE ?)", [f'%"{node.tag}"%']

    def _tag_under(self, node: c.TagUnder) -> Fragment:
        return f"({self.tags_json} LIKE ? OR {self.tags_json} LIKE ?)", [f'%"{node.tag}"%', f'%"{node.tag}/%']

    def _tag_text_match(self, node: c.TagTextMatch) -> Fragment:
        fragments = {TextMode.PREFIX: f'"{node.text}', TextMode.SUFFIX: f'{node.text}"', TextMode.CONTAINS: node.text}
        return f"({self.tag_count} > 0 AND {self.tags_json} LIKE ?)", [f"%{fragments[node.mode]}%"]

    def _tag_test(self, predicate: c.TagPredicate) -> Fragment:
        """The predicate on one element ``tag.value`` of ``json_each``."""
        if predicate.mode is None:
            return "tag.value = ?", [predicate.text]
        pattern = _like_pattern(predicate.mode, escape_like(predicate.text.casefold()))
        return "memos_unicode_lower(tag.value) LIKE ? ESCAPE '\\'", [pattern]

    def _every_tag(self, node: c.EveryTag) -> Fragment:
        test, params = self._tag_test(node.predicate)
        failing = f"SELECT 1 FROM json_each({self.payload}, '$.tags') AS tag WHERE NOT ({test})"
        return f"({self.tag_count} > 0 AND NOT EXISTS ({failing}))", params

    def _exactly_one_tag(self, node: c.ExactlyOneTag) -> Fragment:
        test, params = self._tag_test(node.predicate)
        return f"((SELECT COUNT(*) FROM json_each({self.payload}, '$.tags') AS tag WHERE {test}) = 1)", params

    def _tag_count(self, node: c.TagCount) -> Fragment:
        return f"({self.tag_count} {_SQL_OPS[node.op]} ?)", [node.value]


# One entry per condition node type: how _Renderer writes it.
_HANDLERS: dict[type[Any], Callable[[_Renderer, Any], Fragment]] = {
    c.Constant: _Renderer._constant,
    c.And: lambda renderer, node: renderer._joined(node.parts, "AND"),
    c.Or: lambda renderer, node: renderer._joined(node.parts, "OR"),
    c.Not: _Renderer._not,
    c.Comparison: _Renderer._comparison,
    c.Membership: _Renderer._membership,
    c.CreatorIn: _Renderer._creator,
    c.TextSearch: _Renderer._text_search,
    c.RegexSearch: _Renderer._regex,
    c.LengthComparison: _Renderer._length,
    c.TimePartComparison: _Renderer._time_part,
    c.FlagIsTrue: _Renderer._flag_is_true,
    c.FlagComparison: _Renderer._flag_comparison,
    c.TagEquals: _Renderer._tag_equals,
    c.TagUnder: _Renderer._tag_under,
    c.TagTextMatch: _Renderer._tag_text_match,
    c.EveryTag: _Renderer._every_tag,
    c.ExactlyOneTag: _Renderer._exactly_one_tag,
    c.TagCount: _Renderer._tag_count,
}


def trigram_query(folded: str) -> str | None:
    """An FTS5 query matching every text that contains ``folded``; None below three characters.

    Each distinct trigram is a quoted term (quotes doubled), ANDed: a superset of the
    substring matches that needs no token positions. Very long needles keep an even
    spread of at most ``_MAX_TRIGRAMS`` terms, which only widens the superset.
    """
    trigrams = list(dict.fromkeys(folded[i : i + 3] for i in range(len(folded) - 2)))
    if not trigrams:
        return None
    if len(trigrams) > _MAX_TRIGRAMS:
        step = len(trigrams) / _MAX_TRIGRAMS
        trigrams = [trigrams[int(i * step)] for i in range(_MAX_TRIGRAMS)]
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)


def _like_pattern(mode: TextMode, escaped: str) -> str:
    if mode is TextMode.PREFIX:
        return f"{escaped}%"
    if mode is TextMode.SUFFIX:
        return f"%{escaped}"
    return f"%{escaped}%"


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _bindable(value: int | str | bool) -> int | str:
    return int(value) if isinstance(value, bool) else value


def _balanced(
    items: list[N], render: Callable[[N], Fragment], join: Callable[[Fragment, Fragment], Fragment]
) -> Fragment:
    if len(items) == 1:
        return render(items[0])
    middle = len(items) // 2
    return join(_balanced(items[:middle], render, join), _balanced(items[middle:], render, join))
