"""Reactions: an emoji (any string) a user puts on a memo, named by the memo's resource name.

``content_id`` is the memo's resource name (``memos/{uid}``), as Memos stores it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from memos.store.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    from memos.store.store import Store


@dataclasses.dataclass(frozen=True, slots=True)
class Reaction:
    id: int
    created_ts: int
    creator_id: int
    content_id: str
    reaction_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class FindReaction:
    """Reactions matching every given criterion (None: not given), oldest first (ascending id).

    ``content_ids`` reads the reactions of many memos at once (an empty list: none).
    ``existing_creators`` leaves out reactions whose creator's user row is gone, as
    Memo responses do.
    """

    id: int | None = None
    creator_id: int | None = None
    content_id: str | None = None
    content_ids: Sequence[str] | None = None
    reaction_type: str | None = None
    existing_creators: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CreateReaction:
    creator_id: int
    content_id: str
    reaction_type: str
    created_ts: int | None = None  # None: now


class ReactionDriver(Protocol):
    async def create(self, create: CreateReaction) -> Reaction:
        """Raises Conflict when the same (creator, content, type) exists."""
        ...

    async def find(self, find: FindReaction) -> list[Reaction]:
        """Ascending id."""
        ...

    async def delete(self, reaction_id: int) -> bool: ...


class Reactions:
    """``store.reactions``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, create: CreateReaction) -> Reaction:
        """Insert a reaction, as UpsertMemoReaction stores it: a plain insert.

        The same (creator, content, type) a second time raises Conflict (the UNIQUE
        rule; UpsertMemoReaction answers Internal then); other types by the same user
        coexist. The reaction type is stored verbatim.
        """
        if not create.content_id or not create.reaction_type:
            raise InvalidValue("a reaction needs a content id and a reaction type")
        return await self._store.driver.reactions.create(create)

    async def find(self, find: FindReaction) -> list[Reaction]:
        """Reactions matching ``find``, ascending id."""
        return await self._store.driver.reactions.find(find)

    async def get(self, reaction_id: int) -> Reaction | None:
        found = await self.find(FindReaction(id=reaction_id))
        return found[0] if found else None

    async def find_by_content_ids(
        self, content_ids: Sequence[str], *, existing_creators: bool = True
    ) -> dict[str, list[Reaction]]:
        """content id -> its reactions (ascending id) for many memos in one query; every id is a key."""
        if not content_ids:
            return {}
        find = FindReaction(content_ids=list(dict.fromkeys(content_ids)), existing_creators=existing_creators)
        return reactions_by_content(content_ids, await self.find(find))

    async def delete(self, reaction_id: int) -> None:
        """NotFound if there is no such reaction."""
        if not await self._store.driver.reactions.delete(reaction_id):
            raise NotFound(f"reaction {reaction_id} not found")


def reactions_by_content(content_ids: Sequence[str], reactions: Sequence[Reaction]) -> dict[str, list[Reaction]]:
    """content id -> its reactions, in the order given; every id is a key."""
    result: dict[str, list[Reaction]] = {content_id: [] for content_id in content_ids}
    for reaction in reactions:
        result[reaction.content_id].append(reaction)
    return result
