"""Attachments: the rows a memo carries (read in batches for memo lists) and the reference a
removed attachment leaves behind (see ``Users.delete``, ``Memos.delete``).

The rest of the attachment entity (its writes) grows here.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from memos.store import codec
from memos.store.errors import InvalidValue

if TYPE_CHECKING:
    from memos.store.store import Store


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentRef:
    """Where a removed attachment's content lived, so its file or object can be deleted after commit.

    ``payload`` is JSON text from a dialect and a ``memos.store.AttachmentPayload``
    from the facade.
    """

    id: int
    uid: str
    storage_type: str
    reference: str
    payload: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Attachment:
    """An ``attachment`` row without its blob. ``payload`` is JSON text from a dialect and a
    ``memos.store.AttachmentPayload`` from the facade."""

    id: int
    uid: str
    creator_id: int
    created_ts: int
    updated_ts: int
    filename: str
    type: str
    size: int
    memo_id: int | None
    storage_type: str
    reference: str
    payload: Any


@dataclasses.dataclass(frozen=True, slots=True)
class FindAttachment:
    """Attachments matching every given criterion (None: not given), newest ``updated_ts`` first
    (then id descending), as a memo's attachments are listed.

    ``memo_ids`` reads the attachments of many memos at once (an empty list: none);
    ``per_memo_limit`` keeps only that many per memo (a single memo shows at most 100).
    """

    id: int | None = None
    uid: str | None = None
    creator_id: int | None = None
    memo_id: int | None = None
    memo_ids: Sequence[int] | None = None
    per_memo_limit: int | None = None


_Row = TypeVar("_Row", Attachment, AttachmentRef)


def with_decoded_payload(row: _Row) -> _Row:
    """``row`` with its payload JSON text decoded into a ``memos.store.AttachmentPayload``."""
    return dataclasses.replace(row, payload=codec.decode_attachment_payload(row.payload, where=f"attachment {row.uid}"))


class AttachmentDriver(Protocol):
    async def find(self, find: FindAttachment) -> list[Attachment]:
        """Payloads stay JSON text."""
        ...


class Attachments:
    """``store.attachments``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def find(self, find: FindAttachment) -> list[Attachment]:
        if find.per_memo_limit is not None and find.per_memo_limit < 0:
            raise InvalidValue("per_memo_limit must not be negative")
        return [with_decoded_payload(row) for row in await self._store.driver.attachments.find(find)]

    async def find_by_memo_ids(
        self, memo_ids: Sequence[int], *, per_memo_limit: int | None = None
    ) -> dict[int, list[Attachment]]:
        """memo id -> its attachments (newest ``updated_ts`` first) for many memos in one query.

        Every id is a key. ListMemos reads them uncapped; single-memo responses pass 100.
        """
        result: dict[int, list[Attachment]] = {memo_id: [] for memo_id in memo_ids}
        if result:
            find = FindAttachment(memo_ids=list(result), per_memo_limit=per_memo_limit)
            for attachment in await self.find(find):
                assert attachment.memo_id is not None
                result[attachment.memo_id].append(attachment)
        return result
