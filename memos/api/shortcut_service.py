"""memos.api.v1.ShortcutService: a user's saved memo filters.

Shortcuts live in the owner's SHORTCUTS user setting as ``{id, title, filter}``
entries in the order they were made. Only the owner may call any of these RPCs
(admins are refused like anyone else). A shortcut's filter must be a valid,
non-empty memo filter; it is checked when written, never when read.

Beyond Memos, what one user may store is bounded: at most ``MAX_SHORTCUTS``
shortcuts and titles of at most ``MAX_TITLE_CHARS`` characters (the filter
language bounds the filter itself).
"""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import empty_pb2

from memos.api.access import require_self
from memos.api.convert.shortcut import StoreShortcut, shortcut_to_message
from memos.api.filters import memo_filter
from memos.api.ids import shortcut_id
from memos.api.names import parse_shortcut_name, parse_user_name
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import shortcut_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.store import FindUser, Store, User

KEY = "SHORTCUTS"
MAX_SHORTCUTS = 100
MAX_TITLE_CHARS = 256
NOT_FOUND_MESSAGE = "shortcut not found"


def check_title(title: str) -> str:
    if not title:
        raise RpcError(Code.INVALID_ARGUMENT, "title is required")
    if len(title) > MAX_TITLE_CHARS:
        raise RpcError(Code.INVALID_ARGUMENT, f"title is too long ({len(title)} characters; at most {MAX_TITLE_CHARS})")
    return title


def check_filter(text: str) -> str:
    """``text`` once it compiles as a memo filter; for shortcuts an empty filter is an error too."""
    if not text:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid filter: filter cannot be empty")
    memo_filter(text)
    return text


def _index_of(setting: store_pb.ShortcutsUserSetting, wanted_id: str) -> int:
    for index, shortcut in enumerate(setting.shortcuts):
        if shortcut.id == wanted_id:
            return index
    raise RpcError(Code.NOT_FOUND, NOT_FOUND_MESSAGE)


class ShortcutService:
    SERVICE_NAME = "memos.api.v1.ShortcutService"

    def __init__(self, store: Store) -> None:
        self._store = store

    # --- whose shortcuts -------------------------------------------------------------

    async def _parent_owner(self, parent: str, ctx: CallContext) -> User:
        """The owner of ``users/{username}``: NOT_FOUND when unknown, PERMISSION_DENIED when not the caller."""
        user = await self._store.users.get(FindUser(username=parse_user_name(parent)))
        if user is None:
            raise RpcError(Code.NOT_FOUND, "user not found")
        return require_self(ctx, user)

    async def _shortcut_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        """Owner and id of ``users/{username}/shortcuts/{id}``; an unknown user makes the name invalid."""
        username, wanted_id = parse_shortcut_name(name)
        user = await self._store.users.get(FindUser(username=username))
        if user is None:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid shortcut name: {name} (no user {username!r})")
        return require_self(ctx, user), wanted_id

    async def _stored(self, owner: User) -> store_pb.ShortcutsUserSetting:
        setting = await self._store.user_settings.get(owner.id, KEY)
        return setting.shortcuts if setting is not None else store_pb.ShortcutsUserSetting()

    async def _stored_shortcut(self, owner: User, wanted_id: str) -> StoreShortcut:
        shortcuts = await self._stored(owner)
        return shortcuts.shortcuts[_index_of(shortcuts, wanted_id)]

    async def _modify(self, owner: User, change: Callable[[store_pb.ShortcutsUserSetting], None]) -> None:
        """Apply ``change`` to the owner's shortcuts in one write transaction (an error it raises writes nothing)."""

        def modify(setting: store_pb.UserSetting) -> bool:
            change(setting.shortcuts)
            return True

        await self._store.user_settings.modify(owner.id, KEY, modify)

    # --- RPCs --------------------------------------------------------------------------

    async def ListShortcuts(self, request: api.ListShortcutsRequest, ctx: CallContext) -> api.ListShortcutsResponse:
        owner = await self._parent_owner(request.parent, ctx)
        shortcuts = await self._stored(owner)
        return api.ListShortcutsResponse(
            shortcuts=[shortcut_to_message(owner.username, s) for s in shortcuts.shortcuts]
        )

    async def GetShortcut(self, request: api.GetShortcutRequest, ctx: CallContext) -> api.Shortcut:
        owner, wanted_id = await self._shortcut_target(request.name, ctx)
        return shortcut_to_message(owner.username, await self._stored_shortcut(owner, wanted_id))

    async def CreateShortcut(self, request: api.CreateShortcutRequest, ctx: CallContext) -> api.Shortcut:
        owner = await self._parent_owner(request.parent, ctx)
        wanted = request.shortcut
        shortcut = StoreShortcut(id=shortcut_id(), title=check_title(wanted.title), filter=check_filter(wanted.filter))
        if request.validate_only:
            return shortcut_to_message(owner.username, shortcut)

        def append(setting: store_pb.ShortcutsUserSetting) -> None:
            if len(setting.shortcuts) >= MAX_SHORTCUTS:
                raise RpcError(Code.RESOURCE_EXHAUSTED, f"a user may have at most {MAX_SHORTCUTS} shortcuts")
            setting.shortcuts.append(shortcut)

        await self._modify(owner, append)
        return shortcut_to_message(owner.username, shortcut)

    async def UpdateShortcut(self, request: api.UpdateShortcutRequest, ctx: CallContext) -> api.Shortcut:
        owner, wanted_id = await self._shortcut_target(request.shortcut.name, ctx)
        paths = set(request.update_mask.paths)
        if not paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update mask is required")
        await self._stored_shortcut(owner, wanted_id)  # an unknown id is NOT_FOUND before any validation
        changes = {}
        if "title" in paths:
            changes["title"] = check_title(request.shortcut.title)
        if "filter" in paths:
            changes["filter"] = check_filter(request.shortcut.filter)
        updated: list[StoreShortcut] = []

        def apply(setting: store_pb.ShortcutsUserSetting) -> None:
            shortcut = setting.shortcuts[_index_of(setting, wanted_id)]
            for field, value in changes.items():
                setattr(shortcut, field, value)
            updated.append(shortcut)

        await self._modify(owner, apply)
        return shortcut_to_message(owner.username, updated[0])

    async def DeleteShortcut(self, request: api.DeleteShortcutRequest, ctx: CallContext) -> empty_pb2.Empty:
        owner, wanted_id = await self._shortcut_target(request.name, ctx)

        def remove(setting: store_pb.ShortcutsUserSetting) -> None:
            del setting.shortcuts[_index_of(setting, wanted_id)]

        await self._modify(owner, remove)
        return empty_pb2.Empty()
