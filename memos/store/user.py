"""Users: the row, its lookup and change objects, what a dialect provides, and the facade's part.

``store.users`` serves users by id from a read-your-writes cache; deleting a user
removes everything that belongs to them in one transaction.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from memos.store.attachment import AttachmentRef, with_decoded_payload
from memos.store.cache import TTLCache
from memos.store.errors import InvalidValue, NotFound
from memos.store.user_identity import UserIdentity

if TYPE_CHECKING:
    from memos.store.store import Store

ROLE_ADMIN = "ADMIN"
ROLE_USER = "USER"
ROW_STATUS_NORMAL = "NORMAL"
ROW_STATUS_ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    email: str
    nickname: str
    password_hash: str
    avatar_url: str
    description: str
    row_status: str
    created_ts: int
    updated_ts: int


@dataclasses.dataclass(frozen=True, slots=True)
class FindUser:
    """Users matching every given criterion (None: not given), newest first, optionally paged."""

    id: int | None = None
    username: str | None = None
    email: str | None = None
    role: str | None = None
    row_status: str | None = None
    limit: int | None = None
    offset: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CreateUser:
    """A new user; the columns left None take the database's defaults (role: USER, but ADMIN
    for ``Users.create_first``)."""

    username: str
    password_hash: str
    role: str | None = None
    email: str | None = None
    nickname: str | None = None
    avatar_url: str | None = None
    description: str | None = None
    row_status: str | None = None
    created_ts: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateUser:
    """Set the given columns (None: left alone) of user ``id``; updated_ts is not bumped implicitly."""

    id: int
    username: str | None = None
    role: str | None = None
    email: str | None = None
    nickname: str | None = None
    password_hash: str | None = None
    avatar_url: str | None = None
    description: str | None = None
    row_status: str | None = None
    updated_ts: int | None = None


class UserDriver(Protocol):
    async def create(self, create: CreateUser) -> User:
        """Raises Conflict when the username is taken."""
        ...

    async def create_first(self, create: CreateUser) -> User | None:
        """Insert only when the table is empty, atomically; None otherwise."""
        ...

    async def create_with_identity(
        self, create: CreateUser, provider: str, extern_uid: str
    ) -> tuple[User, UserIdentity]:
        """Both inserts in one transaction; Conflict (nothing written) on any UNIQUE violation."""
        ...

    async def find(self, find: FindUser) -> list[User]:
        """Newest first: created_ts DESC, row_status DESC, id DESC."""
        ...

    async def count(self, find: FindUser) -> int:
        """How many users match (limit and offset ignored)."""
        ...

    async def update(self, update: UpdateUser) -> User | None:
        """None when there is no such user."""
        ...

    async def delete(self, user_id: int) -> list[AttachmentRef] | None:
        """Remove a user with their memos, comment subtrees and dependent rows in one
        transaction; the removed attachments, or None when there is no such user."""
        ...


def _check(create: CreateUser) -> CreateUser:
    if not create.username:
        raise InvalidValue("a user needs a username")
    return create


class Users:
    """``store.users``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.cache: TTLCache[int, User] = TTLCache()

    def _remember(self, user: User) -> User:
        self.cache.set(user.id, user)
        return user

    async def create(self, create: CreateUser) -> User:
        """Insert a user; raises Conflict when the username is taken."""
        return self._remember(await self._store.driver.users.create(_check(create)))

    async def create_first(self, create: CreateUser) -> User | None:
        """Create the user only if there are no users yet, as one atomic step.

        Returns None when another user already exists (the caller then goes on
        with an ordinary registration). Concurrent callers get exactly one winner.
        """
        if create.role is None:
            create = dataclasses.replace(create, role=ROLE_ADMIN)
        user = await self._store.driver.users.create_first(_check(create))
        return self._remember(user) if user is not None else None

    async def create_with_identity(self, create: CreateUser, *, provider: str, extern_uid: str) -> User:
        """Create a user and its link to an account at ``provider`` in one transaction.

        Conflict when the username is taken (``"user.username" in exc.columns``) or the
        account was linked meanwhile (``"user_identity.extern_uid"``); then nothing is written.
        """
        user, _ = await self._store.driver.users.create_with_identity(_check(create), provider, extern_uid)
        return self._remember(user)

    async def get(self, find: FindUser) -> User | None:
        """The first match; a lookup by id alone is served from the cache when possible."""
        if find == FindUser(limit=find.limit, offset=find.offset):
            raise InvalidValue("getting a user needs a criterion (an id or a username)")
        if find == FindUser(id=find.id):
            cached = self.cache.get(find.id) if find.id is not None else None
            if cached is not None:
                return cached
        users = await self.find(dataclasses.replace(find, limit=1))
        return users[0] if users else None

    async def find(self, find: FindUser) -> list[User]:
        """Users newest first (created_ts DESC, row_status DESC, id DESC)."""
        return [self._remember(user) for user in await self._store.driver.users.find(find)]

    async def count(self, find: FindUser) -> int:
        """How many users match (limit and offset ignored)."""
        return await self._store.driver.users.count(find)

    async def update(self, update: UpdateUser) -> User:
        """Set only the given columns; NotFound if there is no such user."""
        user = await self._store.driver.users.update(update)
        if user is None:
            self.cache.delete(update.id)
            raise NotFound(f"user {update.id} not found")
        return self._remember(user)

    async def delete(self, user_id: int) -> list[AttachmentRef]:
        """Delete the user and everything that belongs to them, in one transaction.

        Removed: the user's memos and every memo in their comment subtrees (other
        users' comments included); attachments created by the user or attached to a
        removed memo; reactions on removed memos or by the user; shares by the user or
        of removed memos; inbox rows the user sent or received or that name a removed
        memo; linked identities; settings; relations touching removed memos; the user.
        Returns the removed attachments so the caller can delete their files after the
        commit. NotFound (nothing written) if there is no such user.
        """
        attachments = await self._store.driver.users.delete(user_id)
        self.cache.delete(user_id)
        self._store.user_settings.forget_user(user_id)
        if attachments is None:
            raise NotFound(f"user {user_id} not found")
        return [with_decoded_payload(ref) for ref in attachments]
