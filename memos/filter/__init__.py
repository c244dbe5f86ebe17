"""The filter language of ListMemos, shortcuts and ListAttachments: a CEL subset compiled to SQL.

A filter goes through three steps, and no SQL is ever built from unchecked text:

1. ``parse_memo_filter(text, now=...)`` / ``parse_attachment_filter(text, now=...)``
   parse the text (bounded: length, nesting and tree depth are limited),
   type-check it against the memo or attachment fields and return a
   dialect-neutral ``Condition`` (``memos.filter.conditions``) whose values are
   checked constants. Any problem raises ``FilterError``; its ``str()`` is the
   diagnostic (with line and column) that the API layer reports as
   ``INVALID_ARGUMENT`` ``invalid filter: <diagnostic>``. Blank text is an error
   (``filter expression is empty``); callers for which an empty filter means
   "no filter" (ListMemos, ListAttachments) skip the call for ``""``.
2. A store dialect renders the condition. For SQLite::

       condition = parse_memo_filter(request.filter, now=int(time.time()))
       sql, params = render_sqlite(condition, table="memo")
       rows = conn.execute(f"SELECT ... FROM memo WHERE row_status = ? AND {sql}", [status, *params])

   The fragment is a parenthesised boolean expression to AND into the WHERE
   clause; its parameters are positional ``?`` values, to be placed where the
   fragment appears. It reads the columns of the memo table (``content``,
   ``creator_id``, ``created_ts``, ``updated_ts``, ``visibility``, ``pinned``,
   ``payload``) or of the attachment table (``filename``, ``type``,
   ``created_ts``, ``memo_id``) through the name given as ``table`` (the table
   name or its alias in the query), looks usernames up in the ``user`` table,
   and needs the connection's ``memos_unicode_lower`` and ``regexp`` functions
   (``memos.store.sqlite.db.register_functions``).
3. ``TRUE`` (``Constant(True)``) means no restriction and ``FALSE`` no row; a
   store may skip the fragment or the query for them.

Other dialects add a renderer module beside ``sqlite.py`` that maps each
condition node to their SQL (placeholders, JSON operators, case folding); the
tree carries logical columns, payload properties and tag intents, never SQL.
A PostgreSQL renderer will also take the number of its first ``$n``
placeholder, since its fragment follows the query's own arguments.
"""
from __future__ import annotations

import time

from memos.filter.compiler import compile_filter
from memos.filter.conditions import FALSE, TRUE, Condition
from memos.filter.environment import ATTACHMENT_FIELDS, MEMO_FIELDS
from memos.filter.errors import FilterError
from memos.filter.sqlite import render_sqlite

__all__ = [
    "FALSE",
    "TRUE",
    "Condition",
    "FilterError",
    "parse_attachment_filter",
    "parse_memo_filter",
    "render_sqlite",
]


def parse_memo_filter(text: str, *, now: int | None = None) -> Condition:
    """The condition of a memo filter; ``now`` (Unix seconds) is the instant ``now`` stands for."""
    return compile_filter(text, MEMO_FIELDS, _seconds(now))


def parse_attachment_filter(text: str, *, now: int | None = None) -> Condition:
    """The condition of an attachment filter (ListAttachments)."""
    return compile_filter(text, ATTACHMENT_FIELDS, _seconds(now))


def _seconds(now: int | None) -> int:
    # Frozen once per compilation: every use of `now` in one filter is the same instant.
    return int(time.time()) if now is None else now
