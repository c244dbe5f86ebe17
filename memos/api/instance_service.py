"""memos.api.v1.InstanceService: the instance profile and its settings."""
from __future__ import annotations

from typing import Any

from memos.api.convert.instance_setting import SETTING_PREFIX, setting_to_message
from memos.api.convert.user import user_to_message
from memos.gen.api.v1 import instance_service_pb2 as api
from memos.profile import Profile
from memos.rpc.context import CallContext
from memos.rpc.errors import Code, RpcError

MAX_BATCH_NAMES = 100

# Who may read each key; BASIC is readable but shows nothing but its name.
_ANYONE = frozenset({"GENERAL", "MEMO_RELATED", "TAGS", "BASIC"})
_SIGNED_IN = frozenset({"AI"})
_ADMIN = frozenset({"STORAGE", "NOTIFICATION"})


def parse_setting_name(name: str) -> str:
    """``instance/settings/GENERAL`` -> ``GENERAL``; anything else is INVALID_ARGUMENT."""
    key = name[len(SETTING_PREFIX) :] if name.startswith(SETTING_PREFIX) else ""
    if not key or "/" in key:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid instance setting name: {name}")
    if key not in _ANYONE | _SIGNED_IN | _ADMIN:
        raise RpcError(Code.INVALID_ARGUMENT, f"unsupported instance setting key: {key}")
    return key


def _is_admin(caller: Any) -> bool:
    return caller is not None and caller.role == "ADMIN"


def _check_read_access(key: str, caller: Any) -> None:
    if key in _ANYONE:
        return
    if caller is None:
        raise RpcError(Code.UNAUTHENTICATED, "user not authenticated")
    if key in _ADMIN and not _is_admin(caller):
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")


class InstanceService:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    def __init__(self, store: Any, profile: Profile) -> None:
        self._store = store
        self._profile = profile

    async def GetInstanceProfile(self, request: api.GetInstanceProfileRequest, ctx: CallContext) -> api.InstanceProfile:
        profile = api.InstanceProfile(
            version=self._profile.version,
            demo=self._profile.demo,
            instance_url=self._profile.instance_url,
            commit=self._profile.commit,
        )
        admins = await self._store.list_users(role="ADMIN", limit=1)
        if admins:
            profile.admin.CopyFrom(user_to_message(admins[0], ctx.principal))
        profile.needs_setup = await self._store.count_users() == 0
        return profile

    async def GetInstanceSetting(self, request: api.GetInstanceSettingRequest, ctx: CallContext) -> api.InstanceSetting:
        return await self._read_setting(request.name, ctx.principal)

    async def BatchGetInstanceSettings(
        self, request: api.BatchGetInstanceSettingsRequest, ctx: CallContext
    ) -> api.BatchGetInstanceSettingsResponse:
        if len(request.names) > MAX_BATCH_NAMES:
            raise RpcError(Code.INVALID_ARGUMENT, f"too many instance setting names (max {MAX_BATCH_NAMES})")
        settings = [await self._read_setting(name, ctx.principal) for name in request.names]
        return api.BatchGetInstanceSettingsResponse(settings=settings)

    async def _read_setting(self, name: str, caller: Any) -> api.InstanceSetting:
        key = parse_setting_name(name)
        _check_read_access(key, caller)
        if key == "BASIC":
            return api.InstanceSetting(name=SETTING_PREFIX + key)
        setting = await self._store.get_instance_setting(key)
        return setting_to_message(setting, viewer_is_admin=_is_admin(caller))
