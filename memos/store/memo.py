"""Memos: the row, its lookup and change objects, what a dialect provides, and the facade's part.

``store.memos`` writes memos (create, update, delete with Memos's cascade), reads them
(``find`` with scoping, a compiled filter, ordering and paging; ``count``) and reads
summaries (a memo without its content) for statistics, notification checks and the
sitemap. The dialect keeps the project's search index (``content.contains``) current
inside the same transaction as every memo write.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from memos.gen.store import memo_pb2
from memos.store import codec
from memos.store.attachment import Attachment, AttachmentRef, attachments_by_memo, with_decoded_payload
from memos.store.errors import InvalidValue, NotFound
from memos.store.memo_relation import LinkedRelation, reference_targets, relations_by_memo
from memos.store.reaction import Reaction, reactions_by_content
from memos.store.user import ROW_STATUS_ARCHIVED, ROW_STATUS_NORMAL

if TYPE_CHECKING:
    # Only filters carry these, and a filter exists only once memos.filter has made it:
    # the compiler is not loaded for a server that has not seen one yet.
    from memos.filter import Condition
    from memos.store.store import Store

def memo_content_id(uid: str) -> str:
    """What a reaction names its memo by (``Reaction.content_id``)."""
    return f"memos/{uid}"


VISIBILITY_PUBLIC = "PUBLIC"
VISIBILITY_PROTECTED = "PROTECTED"
VISIBILITY_PRIVATE = "PRIVATE"
VISIBILITIES = (VISIBILITY_PUBLIC, VISIBILITY_PROTECTED, VISIBILITY_PRIVATE)
ROW_STATUSES = (ROW_STATUS_NORMAL, ROW_STATUS_ARCHIVED)

TimeField = Literal["created_ts", "updated_ts"]
TIME_FIELDS: tuple[TimeField, ...] = ("created_ts", "updated_ts")


@dataclasses.dataclass(frozen=True, slots=True)
class Memo:
    """A ``memo`` row. ``payload`` is JSON text from a dialect and a ``memos.store.MemoPayload``
    from the facade."""

    id: int
    uid: str
    creator_id: int
    created_ts: int
    updated_ts: int
    row_status: str
    content: str
    visibility: str
    pinned: bool
    payload: Any


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
    """Memos matching every given criterion, in ``ListMemos`` order, optionally paged.

    None means "not given", but unlike the other lookups two criteria have defaults
    because the lists want them: only NORMAL memos (``row_status=None``: any) and no
    comments (``exclude_comments=False`` keeps them). Single lookups by id or uid
    that must see archived memos and comments use ``Memos.get_by_id``/``get_by_uid``.

    - ``ids``/``uids`` narrow the list to those memos (an empty list: no memo).
    - ``visibilities`` limits the visibilities, except for memos of ``or_creator_id``
      (the caller's own memos count whatever their visibility): ListMemos passes
      ``["PUBLIC", "PROTECTED"]`` and the caller's id for a signed-in caller.
    - ``filter`` is a compiled memo filter (``memos.filter.parse_memo_filter``), ANDed.
    - Order: pinned memos first when ``pinned_first``, then ``time_field``
      (``created_ts`` or ``updated_ts``) descending unless ``ascending``, then id
      descending, whatever the time direction (as Memos does).
    - ``limit``/``offset`` page the ordered list (``offset`` only with a ``limit``).
    """

    id: int | None = None
    uid: str | None = None
    ids: Sequence[int] | None = None
    uids: Sequence[str] | None = None
    creator_id: int | None = None
    row_status: str | None = ROW_STATUS_NORMAL
    visibilities: Sequence[str] | None = None
    or_creator_id: int | None = None
    exclude_comments: bool = True
    pinned: bool | None = None
    filter: Condition | None = None
    pinned_first: bool = False
    time_field: TimeField = "created_ts"
    ascending: bool = False
    limit: int | None = None
    offset: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateMemo:
    """A new memo; None takes the database's default (visibility PRIVATE, times now).

    New memos are always NORMAL and unpinned (CreateMemo ignores both in requests).
    """

    uid: str
    creator_id: int
    content: str = ""
    visibility: str | None = None
    payload: memo_pb2.MemoPayload | None = None
    created_ts: int | None = None
    updated_ts: int | None = None
    # (related memo id, relation type) rows written in the same transaction as the memo, so a
    # comment never exists without its parent link and a memo never without its references.
    relations: tuple[tuple[int, str], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateMemo:
    """Set the given columns (None: left alone) of memo ``id``.

    ``updated_ts`` is never bumped implicitly: the caller decides (UpdateMemo only
    changes it when its mask names ``update_time``).
    """

    id: int
    content: str | None = None
    visibility: str | None = None
    pinned: bool | None = None
    row_status: str | None = None
    payload: memo_pb2.MemoPayload | None = None
    created_ts: int | None = None
    updated_ts: int | None = None
    # The memo's outgoing REFERENCE relations, replaced in the same transaction (None: left alone).
    references: tuple[int, ...] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PageRows:
    """What a dialect reads for ``Memos.find_page``, in one read transaction: the memos, then
    their attachments, relations (with the relation's rowid) and reactions, as the separate
    finds would give them."""

    memos: list[Memo]
    attachments: list[Attachment]
    relations: list[tuple[int, LinkedRelation]]
    reactions: list[Reaction]


@dataclasses.dataclass(frozen=True, slots=True)
class MemoPage:
    """Memos and what a response shows with each, read from one snapshot (see ``Memos.find_page``)."""

    memos: list[Memo]
    attachments: dict[int, list[Attachment]]  # memo id -> newest first
    relations: dict[int, list[LinkedRelation]]  # memo id -> as ``MemoRelations.find_for_memos`` orders them
    reactions: dict[str, list[Reaction]]  # "memos/{uid}" -> ascending id; reactions of deleted users left out


class MemoDriver(Protocol):
    """Rows come back with payloads as JSON text; a dialect writes payloads with ``codec.to_json``."""

    async def create(self, create: CreateMemo) -> Memo:
        """Raises Conflict (``memo.uid``) when the uid is taken."""
        ...

    async def find(self, find: FindMemo) -> list[Memo]: ...

    async def count(self, find: FindMemo) -> int:
        """How many memos match (order, limit and offset ignored)."""
        ...

    async def update(self, update: UpdateMemo) -> Memo | None:
        """None when there is no such memo."""
        ...

    async def delete(self, memo_id: int) -> list[AttachmentRef] | None:
        """The cascade of ``Memos.delete`` in one transaction; None when there is no such memo."""
        ...

    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        """Payloads stay JSON text."""
        ...

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """The content of each of these memos that exists, by id."""
        ...

    async def find_page(self, find: FindMemo, per_memo_attachments: int | None, with_content: bool) -> PageRows:
        """``find``, then the found memos' attachments (at most ``per_memo_attachments`` each, None: all),
        relations (both ends' content when ``with_content``) and reactions (of existing users), in one read."""
        ...


def _check_visibility(visibility: str | None) -> None:
    if visibility is not None and visibility not in VISIBILITIES:
        raise InvalidValue(f"unknown memo visibility {visibility!r}")


def _check_create(create: CreateMemo) -> CreateMemo:
    if not create.uid:
        raise InvalidValue("a memo needs a uid")
    _check_visibility(create.visibility)
    return create


def _check_update(update: UpdateMemo) -> UpdateMemo:
    _check_visibility(update.visibility)
    if update.row_status is not None and update.row_status not in ROW_STATUSES:
        raise InvalidValue(f"unknown row status {update.row_status!r}")
    return update


def _check_find(find: FindMemo) -> FindMemo:
    if find.time_field not in TIME_FIELDS:
        raise InvalidValue(f"memos cannot be ordered by {find.time_field!r}")
    if min(find.limit or 0, find.offset or 0) < 0:
        raise InvalidValue("limit and offset must not be negative")
    return find


_Row = TypeVar("_Row", Memo, MemoSummary)


def _decoded(memo: _Row) -> _Row:
    return dataclasses.replace(memo, payload=codec.decode_memo_payload(memo.payload, where=f"memo {memo.uid}"))


class Memos:
    """``store.memos``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, create: CreateMemo) -> Memo:
        """Insert a memo (and index its content for search); Conflict when the uid is taken."""
        return _decoded(await self._store.driver.memos.create(_check_create(create)))

    async def find(self, find: FindMemo) -> list[Memo]:
        """Memos matching ``find`` in its order (see ``FindMemo``), payloads decoded."""
        return [_decoded(memo) for memo in await self._store.driver.memos.find(_check_find(find))]

    async def find_page(
        self, find: FindMemo, *, per_memo_attachments: int | None = None, with_content: bool = False
    ) -> MemoPage:
        """``find`` with each memo's attachments, relations and reactions, read at once.

        The same as ``find`` then ``store.attachments.find_by_memo_ids``, ``store.memo_relations.find_for_memos``
        and ``store.reactions.find_by_content_ids``, but one trip to the database instead of four,
        and all of it from one snapshot.
        """
        if per_memo_attachments is not None and per_memo_attachments < 0:
            raise InvalidValue("per_memo_attachments must not be negative")
        rows = await self._store.driver.memos.find_page(_check_find(find), per_memo_attachments, with_content)
        memos = [_decoded(memo) for memo in rows.memos]
        ids = [memo.id for memo in memos]
        return MemoPage(
            memos=memos,
            attachments=attachments_by_memo(ids, [with_decoded_payload(row) for row in rows.attachments]),
            relations=relations_by_memo(list(dict.fromkeys(ids)), rows.relations),
            reactions=reactions_by_content([memo_content_id(memo.uid) for memo in memos], rows.reactions),
        )

    async def get(self, find: FindMemo) -> Memo | None:
        """The first memo ``find`` yields (mind its NORMAL and no-comment defaults)."""
        found = await self.find(dataclasses.replace(find, limit=1, offset=None))
        return found[0] if found else None

    async def get_by_id(self, memo_id: int) -> Memo | None:
        """Memo ``memo_id`` whatever its state, comments included."""
        return await self.get(FindMemo(id=memo_id, row_status=None, exclude_comments=False))

    async def get_by_uid(self, uid: str) -> Memo | None:
        """The memo named ``memos/{uid}`` whatever its state, comments included."""
        return await self.get(FindMemo(uid=uid, row_status=None, exclude_comments=False))

    async def count(self, find: FindMemo) -> int:
        """How many memos match ``find`` (order, limit and offset ignored)."""
        return await self._store.driver.memos.count(_check_find(find))

    async def update(self, update: UpdateMemo) -> Memo:
        """Set only the given columns; NotFound if there is no such memo."""
        if update.references is not None:
            update = dataclasses.replace(update, references=reference_targets(update.id, update.references))
        memo = await self._store.driver.memos.update(_check_update(update))
        if memo is None:
            raise NotFound(f"memo {update.id} not found")
        return _decoded(memo)

    async def delete(self, memo_id: int) -> list[AttachmentRef]:
        """Delete memo ``memo_id`` as DeleteMemo does, in one transaction.

        Removed: every memo with a COMMENT relation to it (each with its relations in
        both directions and its attachments), its own relations in both directions,
        its attachments (only the 100 most recently updated, as a single memo's
        attachments are read everywhere), the row. Kept, as in Memos: reactions,
        shares, inbox rows; comments of comments (they lose their COMMENT relation
        and become top-level memos). Returns the removed attachments so the caller
        can delete their files after the commit. NotFound (nothing written) if there
        is no such memo.
        """
        attachments = await self._store.driver.memos.delete(memo_id)
        if attachments is None:
            raise NotFound(f"memo {memo_id} not found")
        return [with_decoded_payload(ref) for ref in attachments]

    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        """Memos (without content) matching ``find``, in its order, with their payloads decoded."""
        return [_decoded(row) for row in await self._store.driver.memos.find_summaries(_check_find(find))]

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        """The content of each memo of ``ids`` that exists (any state, comments included), by id.

        For the few memos a notification list names; lists of memos read their content with the rows.
        """
        return await self._store.driver.memos.contents(ids) if ids else {}
