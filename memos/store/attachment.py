"""Attachments: the row, its lookup and change objects, what a dialect provides, and the facade part.

``store.attachments`` reads rows without their blob (in batches for memo lists), reads a
blob in slices (so a large file in the database is streamed, never loaded whole),
creates, renames and deletes rows, and replaces a memo's set of attachments in one
transaction. Every removal returns the references (``AttachmentRef``) of what went,
so the caller can delete the stored bytes after the commit.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from memos.store import codec
from memos.store.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    # A filter exists only once memos.filter has made it (see memos.store.memo).
    from memos.filter import Condition
    from memos.gen.store.attachment_pb2 import AttachmentPayload
    from memos.store.store import Store

STORAGE_DATABASE = ""
STORAGE_LOCAL = "LOCAL"
STORAGE_S3 = "S3"
STORAGE_EXTERNAL = "EXTERNAL"


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
    ``ids`` narrows to those rows (an empty list: none). ``filter`` is a compiled
    attachment filter (``memos.filter.parse_attachment_filter``), ANDed.
    ``limit``/``offset`` page the ordered list (``offset`` only with a ``limit``).
    """

    id: int | None = None
    uid: str | None = None
    ids: Sequence[int] | None = None
    uids: Sequence[str] | None = None
    creator_id: int | None = None
    memo_id: int | None = None
    memo_ids: Sequence[int] | None = None
    storage_type: str | None = None
    per_memo_limit: int | None = None
    filter: Condition | None = None
    limit: int | None = None
    offset: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateAttachment:
    """A new attachment row. ``blob`` holds the bytes of DATABASE storage (None otherwise);
    ``created_ts``/``updated_ts`` None take the database's clock."""

    uid: str
    creator_id: int
    filename: str
    type: str
    size: int
    storage_type: str = STORAGE_DATABASE
    reference: str = ""
    payload: AttachmentPayload | None = None
    blob: bytes | None = None
    memo_id: int | None = None
    created_ts: int | None = None
    updated_ts: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateAttachment:
    """New values for the given fields (None: unchanged) of attachment ``id``."""

    id: int
    filename: str | None = None
    updated_ts: int | None = None
    reference: str | None = None
    payload: AttachmentPayload | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SetMemoAttachments:
    """A memo's new set of attachments: ``keep`` (ids, in the order the memo shows them) is
    linked to the memo, ``remove`` (ids) is deleted, in one transaction.

    The kept rows get ``updated_ts`` = ``now`` + (n - 1 - position), so that reading them
    back newest first gives exactly the order of ``keep``.
    """

    memo_id: int
    keep: Sequence[int]
    remove: Sequence[int]
    now: int


_Row = TypeVar("_Row", Attachment, AttachmentRef)


def _payload_json(payload: AttachmentPayload | None) -> Any:
    return None if payload is None else codec.to_json(payload)


def with_decoded_payload(row: _Row) -> _Row:
    """``row`` with its payload JSON text decoded into a ``memos.store.AttachmentPayload``."""
    return dataclasses.replace(row, payload=codec.decode_attachment_payload(row.payload, where=f"attachment {row.uid}"))


class AttachmentDriver(Protocol):
    async def find(self, find: FindAttachment) -> list[Attachment]:
        """Payloads stay JSON text."""
        ...

    async def create(self, create: CreateAttachment) -> Attachment:
        """``create.payload`` arrives as JSON text; the row's payload stays JSON text."""
        ...

    async def update(self, update: UpdateAttachment) -> Attachment | None:
        """``update.payload`` arrives as JSON text; None when there is no such row."""
        ...

    async def delete(self, ids: Sequence[int]) -> list[AttachmentRef]:
        """The rows that existed and are gone now, deleted in one transaction."""
        ...

    async def set_memo_attachments(self, change: SetMemoAttachments) -> list[AttachmentRef]:
        """The removed rows."""
        ...

    async def blob_size(self, attachment_id: int) -> int | None:
        """The length of the stored blob (None: no such row or a NULL blob)."""
        ...

    async def read_blob(self, attachment_id: int, offset: int, length: int) -> bytes:
        """``length`` bytes of the blob from ``offset`` (fewer at its end), read without loading the rest."""
        ...


class Attachments:
    """``store.attachments``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def find(self, find: FindAttachment) -> list[Attachment]:
        for name in ("per_memo_limit", "limit", "offset"):
            value = getattr(find, name)
            if value is not None and value < 0:
                raise InvalidValue(f"{name} must not be negative")
        return [with_decoded_payload(row) for row in await self._store.driver.attachments.find(find)]

    async def get(self, find: FindAttachment) -> Attachment | None:
        found = await self.find(dataclasses.replace(find, limit=1))
        return found[0] if found else None

    async def create(self, create: CreateAttachment) -> Attachment:
        if create.size < 0:
            raise InvalidValue("size must not be negative")
        codec.check_uid(create.uid)
        encoded = dataclasses.replace(create, payload=_payload_json(create.payload))
        row = await self._store.driver.attachments.create(encoded)
        return with_decoded_payload(row)

    async def update(self, update: UpdateAttachment) -> Attachment:
        """Raises NotFound when the row is gone."""
        encoded = dataclasses.replace(update, payload=_payload_json(update.payload))
        row = await self._store.driver.attachments.update(encoded)
        if row is None:
            raise NotFound(f"attachment {update.id} not found")
        return with_decoded_payload(row)

    async def delete(self, ids: Sequence[int]) -> list[AttachmentRef]:
        """Deletes the rows in one transaction; what was removed (missing ids are skipped)."""
        if not ids:
            return []
        return [with_decoded_payload(ref) for ref in await self._store.driver.attachments.delete(list(ids))]

    async def set_memo_attachments(self, change: SetMemoAttachments) -> list[AttachmentRef]:
        if set(change.keep) & set(change.remove) or len(set(change.keep)) != len(change.keep):
            raise InvalidValue("an attachment is kept twice, or both kept and removed")
        return [with_decoded_payload(ref) for ref in await self._store.driver.attachments.set_memo_attachments(change)]

    async def blob_size(self, attachment_id: int) -> int | None:
        return await self._store.driver.attachments.blob_size(attachment_id)

    async def read_blob(self, attachment_id: int, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise InvalidValue("offset and length must not be negative")
        return await self._store.driver.attachments.read_blob(attachment_id, offset, length)

    async def find_by_memo_ids(
        self, memo_ids: Sequence[int], *, per_memo_limit: int | None = None
    ) -> dict[int, list[Attachment]]:
        """memo id -> its attachments (newest ``updated_ts`` first) for many memos in one query.

        Every id is a key. ListMemos reads them uncapped; single-memo responses pass 100.
        """
        if not memo_ids:
            return {}
        find = FindAttachment(memo_ids=list(dict.fromkeys(memo_ids)), per_memo_limit=per_memo_limit)
        return attachments_by_memo(memo_ids, await self.find(find))


def attachments_by_memo(memo_ids: Sequence[int], attachments: Sequence[Attachment]) -> dict[int, list[Attachment]]:
    """memo id -> its attachments, in the order given; every id is a key."""
    result: dict[int, list[Attachment]] = {memo_id: [] for memo_id in memo_ids}
    for attachment in attachments:
        assert attachment.memo_id is not None
        result[attachment.memo_id].append(attachment)
    return result
