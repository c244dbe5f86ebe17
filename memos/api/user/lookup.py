"""Finding the users a UserService request names; the base every part of the service builds on.

UserService is split by concern into one class per module here, each bound to
``memos.api.v1.UserService`` for its own RPCs. Who may call what follows the
per-RPC table of the access spec: the access layer has already turned away
anonymous callers of protected RPCs, so the checks here are the role and
ownership rules (self, self-or-admin, admin).
"""
from __future__ import annotations

from memos.api.names import parse_user_name
from memos.call import Code, RpcError
from memos.gen.store.instance_setting_pb2 import InstanceGeneralSetting, InstanceSetting
from memos.profile import Profile
from memos.store.models import User
from memos.store.store import Store


class UserLookups:
    """What every part of UserService shares: the store, the profile and finding the users a request names."""

    def __init__(self, store: Store, profile: Profile) -> None:
        self._store = store
        self._profile = profile

    # --- lookups ---------------------------------------------------------------------

    async def _user_named(self, name: str) -> User:
        """The user of ``users/{username}``; NOT_FOUND when there is none."""
        return await self._user(parse_user_name(name))

    async def _user(self, username: str) -> User:
        user = await self._store.get_user(username=username)
        if user is None:
            raise RpcError(Code.NOT_FOUND, "user not found")
        return user

    async def _owner(self, username: str) -> User:
        """The owner of a settings/inbox resource: an unknown one is a bad argument, not a 404."""
        user = await self._store.get_user(username=username)
        if user is None:
            raise RpcError(Code.INVALID_ARGUMENT, f"user not found: {username}")
        return user

    async def _general_setting(self) -> InstanceGeneralSetting:
        setting: InstanceSetting = await self._store.get_instance_setting("GENERAL")
        return setting.general_setting
