"""Linked identities: which account at an identity provider belongs to which user.

``provider`` is the identity provider's uid. Links outlive their provider, so a
re-created provider with the same uid resumes them.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from memos.store.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    from memos.store.store import Store


@dataclasses.dataclass(frozen=True, slots=True)
class UserIdentity:
    """A link between a user and an account at an identity provider (provider = the IdP uid)."""

    id: int
    user_id: int
    provider: str
    extern_uid: str
    created_ts: int
    updated_ts: int


@dataclasses.dataclass(frozen=True, slots=True)
class FindUserIdentity:
    """Links matching every given criterion (None: not given), in id order."""

    id: int | None = None
    user_id: int | None = None
    provider: str | None = None
    extern_uid: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateUserIdentity:
    user_id: int
    provider: str
    extern_uid: str


class UserIdentityDriver(Protocol):
    async def create(self, create: CreateUserIdentity) -> UserIdentity:
        """Conflict when the account or the (user, provider) pair is already linked."""
        ...

    async def find(self, find: FindUserIdentity) -> list[UserIdentity]: ...

    async def delete(self, find: FindUserIdentity) -> int:
        """Delete the matching links (at least one criterion given); how many went."""
        ...


class UserIdentities:
    """``store.user_identities``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, create: CreateUserIdentity) -> UserIdentity:
        """Link a user to an account at a provider; Conflict when the account or the
        (user, provider) pair is already linked (see ``Conflict.columns``)."""
        return await self._store.driver.user_identities.create(create)

    async def find(self, find: FindUserIdentity) -> list[UserIdentity]:
        """Links matching every given criterion, in id order."""
        return await self._store.driver.user_identities.find(find)

    async def get(self, find: FindUserIdentity) -> UserIdentity | None:
        if find == FindUserIdentity():
            raise InvalidValue("getting a linked identity needs at least one criterion")
        found = await self.find(find)
        return found[0] if found else None

    async def delete(self, find: FindUserIdentity) -> None:
        """Delete the link with this id, or the user's link to this provider; NotFound if none."""
        if find.id is None and (find.user_id is None or find.provider is None):
            raise InvalidValue("deleting a linked identity needs an id, or a user id and a provider")
        if not await self._store.driver.user_identities.delete(find):
            raise NotFound("linked identity not found")
