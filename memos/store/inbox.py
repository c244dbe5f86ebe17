"""Inbox messages: notifications for a receiver (comments on and mentions of their memos)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from memos.gen.store import inbox_pb2
from memos.store import codec
from memos.store.errors import NotFound

if TYPE_CHECKING:
    from memos.store.store import Store

INBOX_UNREAD = "UNREAD"
INBOX_ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True, slots=True)
class InboxRow:
    """An ``inbox`` row as stored; ``message`` is JSON text."""

    id: int
    created_ts: int
    sender_id: int
    receiver_id: int
    status: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class InboxMessage:
    """An inbox row with its message decoded (a ``memos.store.InboxMessage``)."""

    id: int
    created_ts: int
    sender_id: int
    receiver_id: int
    status: str
    message: inbox_pb2.InboxMessage


@dataclasses.dataclass(frozen=True, slots=True)
class FindInbox:
    """Inbox rows matching every given criterion (None: not given), newest first."""

    id: int | None = None
    receiver_id: int | None = None
    sender_id: int | None = None
    status: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateInbox:
    sender_id: int
    receiver_id: int
    message: inbox_pb2.InboxMessage
    status: str = INBOX_UNREAD
    created_ts: int | None = None  # None: now


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateInbox:
    id: int
    status: str


class InboxDriver(Protocol):
    """A dialect writes the message with ``codec.to_json``."""

    async def create(self, create: CreateInbox) -> InboxRow: ...

    async def find(self, find: FindInbox) -> list[InboxRow]:
        """Newest first: created_ts DESC, id DESC."""
        ...

    async def update(self, update: UpdateInbox) -> InboxRow | None: ...

    async def delete(self, inbox_id: int) -> bool: ...


def _decoded(row: InboxRow) -> InboxMessage:
    message = codec.decode_inbox_message(row.message, where=f"inbox {row.id}")
    return InboxMessage(row.id, row.created_ts, row.sender_id, row.receiver_id, row.status, message)


class Inboxes:
    """``store.inboxes``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, create: CreateInbox) -> InboxMessage:
        return _decoded(await self._store.driver.inboxes.create(create))

    async def find(self, find: FindInbox) -> list[InboxMessage]:
        """Inbox rows matching every given criterion, newest first (created_ts DESC, id DESC)."""
        return [_decoded(row) for row in await self._store.driver.inboxes.find(find)]

    async def get(self, inbox_id: int) -> InboxMessage | None:
        found = await self.find(FindInbox(id=inbox_id))
        return found[0] if found else None

    async def update(self, update: UpdateInbox) -> InboxMessage:
        row = await self._store.driver.inboxes.update(update)
        if row is None:
            raise NotFound(f"inbox {update.id} not found")
        return _decoded(row)

    async def delete(self, inbox_id: int) -> None:
        if not await self._store.driver.inboxes.delete(inbox_id):
            raise NotFound(f"inbox {inbox_id} not found")
