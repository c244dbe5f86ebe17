"""Live memo events: the one in-process hub behind ``GET /api/v1/sse``.

Publishing (MemoService; any code that writes memos, comments or reactions)
---------------------------------------------------------------------------
``create_app`` makes one ``LiveHub`` and hands it to the services that write
memos. After a write has been committed, build the event with the helper named
after it and publish it; every helper takes rows that have ``uid``,
``creator_id`` and ``visibility`` (a store memo row, a ``MemoSummary``)::

    hub.publish(memo_created(memo))                  # CreateMemo (not CreateMemoComment): once,
                                                     # even with attachments or relations
    hub.publish(memo_updated(memo, parent))          # UpdateMemo, SetMemoAttachments, SetMemoRelations
    hub.publish(memo_deleted(name, memo))            # DeleteMemo; ``name``: the name the request gave
    hub.publish(comment_created(parent))             # CreateMemoComment: its only event
    hub.publish(reaction_upserted(memo, parent))     # UpsertMemoReaction; ``memo``: the reacted memo
    hub.publish(reaction_deleted(memo, parent))      # DeleteMemoReaction

``parent`` is the memo that ``memo`` comments on, or None when it is no
comment. The helpers encode which memo gives the event's name, visibility and
owner (server spec §12); ``MemoEvent`` itself is public for anything else.

``publish`` never blocks and never raises for a subscriber's sake: it must be
called on the event loop (a coroutine of the service is), costs one filter test
per open stream, and returns how many streams took the event.

Who receives what
-----------------
A stream's viewer (user id and admin role) is fixed when it connects. PRIVATE
events reach their owner and admins; PUBLIC, PROTECTED and those without a
visibility reach every open stream (all of them are signed in); any other
visibility reaches nobody.

Bounds
------
Each stream buffers at most ``QUEUE_LIMIT`` (32) events; while its buffer is
full, new events for it are dropped (the spec's rule: a slow reader misses
events and refetches after reconnecting; memory never grows). A user may hold
``MAX_STREAMS_PER_USER`` streams, the server ``MAX_STREAMS`` in all; past a
limit ``subscribe`` raises ``TooManyStreams`` and the route answers 429 (per
user) or 503 (server full). ``close()`` (on shutdown) ends every stream at once
and refuses new ones.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import json
from collections.abc import Callable
from typing import Protocol

from memos.api.access import is_admin
from memos.api.visibility import PRIVATE, PROTECTED, PUBLIC
from memos.store import User

QUEUE_LIMIT = 32
MAX_STREAMS_PER_USER = 32
MAX_STREAMS = 1024


class EventType(enum.StrEnum):
    MEMO_CREATED = "memo.created"
    MEMO_UPDATED = "memo.updated"
    MEMO_DELETED = "memo.deleted"
    MEMO_COMMENT_CREATED = "memo.comment.created"
    REACTION_UPSERTED = "reaction.upserted"
    REACTION_DELETED = "reaction.deleted"


@dataclasses.dataclass(frozen=True, slots=True)
class MemoEvent:
    """One change, as clients see it (``type``, ``name``, ``parent``) and as delivery needs it.

    ``visibility`` and ``owner_id`` decide who receives it (see the module docstring);
    they never reach the client.
    """

    type: EventType
    name: str  # "memos/<uid>"
    visibility: str
    owner_id: int
    parent: str = ""  # "memos/<uid>" of the memo commented on, when the spec names one

    def to_json(self) -> str:
        """The ``data:`` payload: ``{"type","name"}`` plus ``"parent"`` when there is one, in that order."""
        body = {"type": str(self.type), "name": self.name}
        if self.parent:
            body["parent"] = self.parent
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class MemoRef(Protocol):
    """What the event helpers read from a memo row."""

    @property
    def uid(self) -> str: ...

    @property
    def creator_id(self) -> int: ...

    @property
    def visibility(self) -> str: ...


def _name(memo: MemoRef) -> str:
    return f"memos/{memo.uid}"


def memo_created(memo: MemoRef) -> MemoEvent:
    return MemoEvent(EventType.MEMO_CREATED, _name(memo), memo.visibility, memo.creator_id)


def memo_updated(memo: MemoRef, parent: MemoRef | None = None) -> MemoEvent:
    """The memo's visibility; its owner is the parent's creator when it is a comment."""
    return _about_memo(EventType.MEMO_UPDATED, memo, parent)


def memo_deleted(name: str, memo: MemoRef) -> MemoEvent:
    """``name`` is the name the DeleteMemo request gave."""
    return MemoEvent(EventType.MEMO_DELETED, name, memo.visibility, memo.creator_id)


def comment_created(parent: MemoRef) -> MemoEvent:
    """Named after the memo commented on, with its visibility and creator."""
    return MemoEvent(EventType.MEMO_COMMENT_CREATED, _name(parent), parent.visibility, parent.creator_id)


def reaction_upserted(memo: MemoRef, parent: MemoRef | None = None) -> MemoEvent:
    return _about_memo(EventType.REACTION_UPSERTED, memo, parent)


def reaction_deleted(memo: MemoRef, parent: MemoRef | None = None) -> MemoEvent:
    return _about_memo(EventType.REACTION_DELETED, memo, parent)


def _about_memo(type_: EventType, memo: MemoRef, parent: MemoRef | None) -> MemoEvent:
    if parent is None:
        return MemoEvent(type_, _name(memo), memo.visibility, memo.creator_id)
    return MemoEvent(type_, _name(memo), memo.visibility, parent.creator_id, parent=_name(parent))


def may_receive(viewer_id: int, viewer_is_admin: bool, event: MemoEvent) -> bool:
    """Whether a stream of this viewer gets ``event``."""
    if event.visibility == PRIVATE:
        return viewer_is_admin or viewer_id == event.owner_id
    return event.visibility in (PUBLIC, PROTECTED, "")


class TooManyStreams(Exception):
    """A limit on open streams is reached; ``per_user`` tells which one."""

    def __init__(self, message: str, *, per_user: bool) -> None:
        super().__init__(message)
        self.per_user = per_user


class Subscription:
    """One open stream's view of the hub: its viewer, its buffered events, whether it is closed."""

    def __init__(self, viewer_id: int, viewer_is_admin: bool, limit: int, on_close: Callable[[Subscription], None]):
        self.viewer_id = viewer_id
        self.viewer_is_admin = viewer_is_admin
        self.dropped = 0  # events lost because the buffer was full
        self._limit = limit
        self._pending: collections.deque[MemoEvent] = collections.deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._on_close = [on_close]

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._pending)

    def offer(self, event: MemoEvent) -> bool:
        """Buffer ``event`` if this viewer may see it and there is room; whether it was taken."""
        if self._closed or not may_receive(self.viewer_id, self.viewer_is_admin, event):
            return False
        if len(self._pending) >= self._limit:
            self.dropped += 1
            return False
        self._pending.append(event)
        self._wakeup.set()
        return True

    async def next_events(self, timeout: float) -> list[MemoEvent] | None:
        """The buffered events, waiting up to ``timeout`` seconds for one ([] when none came); None once closed."""
        if not self._pending and not self._closed:
            self._wakeup.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
        if self._closed:
            return None
        events = list(self._pending)
        self._pending.clear()
        return events

    def add_close_callback(self, callback: Callable[[Subscription], None]) -> None:
        """Run ``callback`` when the subscription closes (at once if it already has)."""
        if self._closed:
            callback(self)
        else:
            self._on_close.append(callback)

    def close(self) -> None:
        """End the stream: wakes its reader, leaves the hub. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        self._wakeup.set()
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            callback(self)


class LiveHub:
    """Fans published events out to the open streams that may see them."""

    def __init__(
        self,
        *,
        queue_limit: int = QUEUE_LIMIT,
        max_per_user: int = MAX_STREAMS_PER_USER,
        max_total: int = MAX_STREAMS,
    ) -> None:
        self.queue_limit = queue_limit
        self.max_per_user = max_per_user
        self.max_total = max_total
        self._subscriptions: set[Subscription] = set()
        self._per_user: collections.Counter[int] = collections.Counter()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, viewer: User) -> Subscription:
        """A new stream for ``viewer``; close it when the stream ends.

        Raises TooManyStreams past a limit, or once the hub is closed (shutting down).
        """
        if self._closed:
            raise TooManyStreams("the server is shutting down", per_user=False)
        if self._per_user[viewer.id] >= self.max_per_user:
            message = f"too many live connections for this user (at most {self.max_per_user})"
            raise TooManyStreams(message, per_user=True)
        if len(self._subscriptions) >= self.max_total:
            raise TooManyStreams(f"too many live connections (at most {self.max_total})", per_user=False)
        subscription = Subscription(viewer.id, is_admin(viewer), self.queue_limit, self._forget)
        self._subscriptions.add(subscription)
        self._per_user[viewer.id] += 1
        return subscription

    def publish(self, event: MemoEvent) -> int:
        """Offer ``event`` to every open stream; never blocks. Call it on the event loop, after the write."""
        return sum(subscription.offer(event) for subscription in list(self._subscriptions))

    def close(self) -> None:
        """Shutting down: end every open stream now and refuse new ones."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.close()

    def _forget(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        self._per_user[subscription.viewer_id] -= 1
        if self._per_user[subscription.viewer_id] <= 0:
            del self._per_user[subscription.viewer_id]
