"""Memo shares: a link token that opens one memo without signing in, optionally until a time."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from memos.store.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    from memos.store.store import Store


@dataclasses.dataclass(frozen=True, slots=True)
class MemoShare:
    """A ``memo_share`` row; ``uid`` is the share token, ``expires_ts`` None never expires."""

    id: int
    uid: str
    memo_id: int
    creator_id: int
    created_ts: int
    expires_ts: int | None

    def expired(self, now: int) -> bool:
        """Whether the token no longer opens the memo at ``now``; it still does during its expiry second."""
        return self.expires_ts is not None and now > self.expires_ts


@dataclasses.dataclass(frozen=True, slots=True)
class FindMemoShare:
    """Shares matching every given criterion (None: not given), oldest first (ascending id)."""

    id: int | None = None
    uid: str | None = None
    memo_id: int | None = None
    creator_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateMemoShare:
    uid: str
    memo_id: int
    creator_id: int
    expires_ts: int | None = None  # None: never expires
    created_ts: int | None = None  # None: now


class MemoShareDriver(Protocol):
    async def create(self, create: CreateMemoShare) -> MemoShare:
        """Raises Conflict when the token is taken."""
        ...

    async def find(self, find: FindMemoShare) -> list[MemoShare]:
        """Ascending id."""
        ...

    async def delete(self, share_id: int) -> bool: ...


class MemoShares:
    """``store.memo_shares``. Shares outlive their memo, as in Memos (DeleteMemo keeps them)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, create: CreateMemoShare) -> MemoShare:
        """Insert a share; Conflict when the token is taken."""
        if not create.uid:
            raise InvalidValue("a memo share needs a token")
        return await self._store.driver.memo_shares.create(create)

    async def find(self, find: FindMemoShare) -> list[MemoShare]:
        """Shares matching ``find``, expired ones included, ascending id."""
        return await self._store.driver.memo_shares.find(find)

    async def get_by_uid(self, uid: str) -> MemoShare | None:
        """The share with token ``uid``, expired or not."""
        found = await self.find(FindMemoShare(uid=uid))
        return found[0] if found else None

    async def delete(self, share_id: int) -> None:
        """NotFound if there is no such share."""
        if not await self._store.driver.memo_shares.delete(share_id):
            raise NotFound(f"memo share {share_id} not found")
