"""Memos. Today only summaries (a memo without its content) for statistics, notification checks
and the sitemap; memos proper, with their Find, Create and Update objects, grow here."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from memos.store import codec
from memos.store.user import ROW_STATUS_NORMAL

if TYPE_CHECKING:
    from memos.store.store import Store


@dataclasses.dataclass(frozen=True, slots=True)
class MemoSummary:
    """A memo without its content: what statistics, notification checks and the sitemap need.

    ``payload`` is JSON text from a dialect and a ``memos.store.MemoPayload``
    once the facade has decoded it.
    """

    id: int
    uid: str
    creator_id: int
    created_ts: int
    updated_ts: int
    pinned: bool
    visibility: str
    payload: Any


@dataclasses.dataclass(frozen=True, slots=True)
class FindMemo:
    """Memos matching every given criterion, newest first (created_ts DESC, id DESC).

    None means "not given", but unlike the other lookups two criteria have defaults:
    only NORMAL memos (``row_status=None``: any) and no comments.
    ``ids`` narrows the list to those memo ids. ``visibilities`` limits the visibilities,
    except for memos of ``or_creator_id`` (the caller's own memos count whatever their
    visibility). ``exclude_comments`` drops memos that are a COMMENT on another memo.
    """

    ids: Sequence[int] | None = None
    creator_id: int | None = None
    row_status: str | None = ROW_STATUS_NORMAL
    visibilities: Sequence[str] | None = None
    or_creator_id: int | None = None
    exclude_comments: bool = True


class MemoDriver(Protocol):
    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        """Payloads stay JSON text."""
        ...

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """The content of each of these memos that exists, by id."""
        ...


class Memos:
    """``store.memos``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        """Memos (without content) matching ``find``, with their payloads decoded."""
        return [
            dataclasses.replace(row, payload=codec.decode_memo_payload(row.payload, where=f"memo {row.uid}"))
            for row in await self._store.driver.memos.find_summaries(find)
        ]

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """The content of each memo of ``ids`` that exists (any state, comments included), by id.

        For the few memos a notification list names; lists of memos read their content with the rows.
        """
        return await self._store.driver.memos.contents(ids) if ids else {}
