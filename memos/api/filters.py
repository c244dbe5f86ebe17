"""Filters in requests (ListMemos, ListAllUserStats, shortcuts, ListAttachments): compiled once, refused
with their diagnostic."""
from __future__ import annotations

from typing import TYPE_CHECKING

from memos.call import Code, RpcError

if TYPE_CHECKING:
    from memos.filter import Condition


def memo_filter(text: str) -> Condition | None:
    """The condition of a request's memo filter; None when the request has none (an empty string).

    A filter of only blanks is not "none": it is refused like any other bad filter, with
    INVALID_ARGUMENT ``invalid filter: <what is wrong, with line and column>``.
    """
    return _compiled(text, "memo")


def attachment_filter(text: str) -> Condition | None:
    """The condition of ListAttachments' filter (the attachment fields); refused like ``memo_filter``."""
    return _compiled(text, "attachment")


def _compiled(text: str, kind: str) -> Condition | None:
    if not text:
        return None
    # The filter compiler loads on first use.
    from memos.filter import FilterError, parse_attachment_filter, parse_memo_filter

    parse = parse_memo_filter if kind == "memo" else parse_attachment_filter
    try:
        return parse(text)
    except FilterError as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid filter: {exc}") from None
