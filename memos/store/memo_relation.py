"""Memo relations: REFERENCE links between memos and the COMMENT link of a comment to its memo.

``store.memo_relations`` writes relations, pages a memo's comments and reads the
relations of many memos at once (with the ends' uids, owners and visibilities) so a
list of memos is assembled in a constant number of queries.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from memos.store.errors import InvalidValue

if TYPE_CHECKING:
    from memos.store.store import Store

RELATION_REFERENCE = "REFERENCE"
RELATION_COMMENT = "COMMENT"
RELATION_TYPES = (RELATION_REFERENCE, RELATION_COMMENT)



def reference_targets(memo_id: int, related_memo_ids: Sequence[int]) -> tuple[int, ...]:
    """The REFERENCEs a memo keeps from those asked for: each once, never to itself."""
    return tuple(related for related in dict.fromkeys(related_memo_ids) if related != memo_id)

@dataclasses.dataclass(frozen=True, slots=True)
class MemoRelation:
    """A ``memo_relation`` row: ``memo_id`` (the source) refers to or comments on ``related_memo_id``."""

    memo_id: int
    related_memo_id: int
    type: str


@dataclasses.dataclass(frozen=True, slots=True)
class FindMemoRelation:
    """Relations matching every given criterion (None: not given), in insertion order."""

    memo_id: int | None = None
    related_memo_id: int | None = None
    type: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RelatedMemo:
    """One end of a relation: what a response needs to name it and to decide who may see it.

    ``content`` is only read when asked for (single-memo responses carry snippets);
    otherwise it is ``""``.
    """

    id: int
    uid: str
    creator_id: int
    visibility: str
    row_status: str
    content: str


@dataclasses.dataclass(frozen=True, slots=True)
class LinkedRelation:
    """A relation with both ends: ``memo`` is the source, ``related_memo`` the target."""

    memo: RelatedMemo
    related_memo: RelatedMemo
    type: str


class MemoRelationDriver(Protocol):
    async def upsert(self, relation: MemoRelation) -> MemoRelation:
        """Insert unless the same relation exists (then nothing changes)."""
        ...

    async def find(self, find: FindMemoRelation) -> list[MemoRelation]: ...

    async def delete(self, find: FindMemoRelation) -> int:
        """Remove the matching relations; how many were removed."""
        ...

    async def replace_references(self, memo_id: int, related_memo_ids: Sequence[int]) -> None:
        """In one transaction: drop the memo's outgoing REFERENCEs, then add one per id."""
        ...

    async def find_comment_ids(self, memo_id: int, limit: int | None, offset: int | None) -> list[int]:
        """Ids of the memos with a COMMENT relation to ``memo_id``, highest id first, paged."""
        ...

    async def find_linked(self, memo_ids: Sequence[int], with_content: bool) -> list[tuple[int, LinkedRelation]]:
        """Relations touching any of the memos whose both ends exist, each with its rowid."""
        ...


def _check_type(relation_type: str | None) -> None:
    if relation_type is not None and relation_type not in RELATION_TYPES:
        raise InvalidValue(f"unknown memo relation type {relation_type!r}")


class MemoRelations:
    """``store.memo_relations``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def upsert(self, relation: MemoRelation) -> MemoRelation:
        """Add a relation; adding one that exists changes nothing (no error)."""
        _check_type(relation.type)
        return await self._store.driver.memo_relations.upsert(relation)

    async def find(self, find: FindMemoRelation) -> list[MemoRelation]:
        _check_type(find.type)
        return await self._store.driver.memo_relations.find(find)

    async def delete(self, find: FindMemoRelation) -> int:
        """Remove the relations matching ``find`` (at least one criterion); how many were removed."""
        if find == FindMemoRelation():
            raise InvalidValue("deleting memo relations needs a criterion")
        _check_type(find.type)
        return await self._store.driver.memo_relations.delete(find)

    async def replace_references(self, memo_id: int, related_memo_ids: Sequence[int]) -> None:
        """What SetMemoRelations stores: the memo's outgoing REFERENCEs become exactly these.

        Incoming references and COMMENT relations are untouched; a reference to the memo
        itself is dropped; duplicates are stored once. One transaction.
        """
        targets = reference_targets(memo_id, related_memo_ids)
        await self._store.driver.memo_relations.replace_references(memo_id, targets)

    async def find_comment_ids(self, memo_id: int, *, limit: int | None = None, offset: int | None = None) -> list[int]:
        """Ids of the comments on ``memo_id`` (COMMENT relations to it), highest id first.

        ListMemoComments pages these relation rows, then reads the memos.
        """
        if min(limit or 0, offset or 0) < 0:
            raise InvalidValue("limit and offset must not be negative")
        return await self._store.driver.memo_relations.find_comment_ids(memo_id, limit, offset)

    async def find_for_memos(
        self, memo_ids: Sequence[int], *, with_content: bool = False
    ) -> dict[int, list[LinkedRelation]]:
        """The relations of each memo, as a Memo response lists them, in one query.

        For every id: relations where it is the source (by target id, then type), then
        those where it is the target (in insertion order), each once. Relations whose
        other end no longer exists are left out. ``with_content`` reads both ends'
        content (for snippets). Visibility filtering is the caller's. Every id is a key.
        """
        wanted = list(dict.fromkeys(memo_ids))
        if not wanted:
            return {}
        return relations_by_memo(wanted, await self._store.driver.memo_relations.find_linked(wanted, with_content))

    async def find_parent_ids(self, memo_ids: Sequence[int]) -> dict[int, int]:
        """comment id -> the id of the memo it comments on, for those of ``memo_ids`` that are comments."""
        found = await self.find_for_memos(memo_ids)
        return {
            memo_id: relation.related_memo.id
            for memo_id, relations in found.items()
            for relation in relations
            if relation.type == RELATION_COMMENT and relation.memo.id == memo_id
        }


def relations_by_memo(
    memo_ids: Sequence[int], linked: Sequence[tuple[int, LinkedRelation]]
) -> dict[int, list[LinkedRelation]]:
    """Each memo's relations as ``MemoRelations.find_for_memos`` orders them, from the rows
    ``find_linked`` gives (relation rowid, relation); every id is a key."""
    result: dict[int, list[LinkedRelation]] = {memo_id: [] for memo_id in memo_ids}
    outgoing = sorted(linked, key=lambda item: (item[1].related_memo.id, item[1].type))
    incoming = sorted(linked, key=lambda item: item[0])
    for _, relation in outgoing:
        if relation.memo.id in result:
            result[relation.memo.id].append(relation)
    for _, relation in incoming:
        own = result.get(relation.related_memo.id)
        if own is not None and relation not in own:
            own.append(relation)
    return result
