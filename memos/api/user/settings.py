"""UserService RPCs on a user's settings (GENERAL, TAGS, ...)."""
from __future__ import annotations

from memos.api.access import require_self
from memos.api.convert.user_setting import (
    API_SETTING_KEYS,
    StoreSetting,
    default_setting,
    setting_to_message,
    tags_to_store,
)
from memos.api.instance_setting_rules import tag_rule_violation
from memos.api.names import parse_user_name, parse_user_setting_name
from memos.api.user.lookup import UserLookups
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.store.models import User


class UserSettingService(UserLookups):
    """Reading and updating the settings a user owns."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def _setting_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, key = parse_user_setting_name(name)
        owner = await self._owner(username)
        require_self(ctx, owner)
        if key not in API_SETTING_KEYS:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid setting key: unknown setting key: {key}")
        return owner, key

    async def _read_setting(self, owner: User, key: str) -> api.UserSetting:
        stored = await self._store.get_user_setting(owner.id, key)
        if stored is None:
            return default_setting(owner.username, key)
        return setting_to_message(owner.username, stored)

    async def GetUserSetting(self, request: api.GetUserSettingRequest, ctx: CallContext) -> api.UserSetting:
        owner, key = await self._setting_target(request.name, ctx)
        return await self._read_setting(owner, key)

    async def ListUserSettings(
        self, request: api.ListUserSettingsRequest, ctx: CallContext
    ) -> api.ListUserSettingsResponse:
        owner = await self._owner(parse_user_name(request.parent))
        require_self(ctx, owner)
        stored = [
            s
            for s in await self._store.list_user_settings(owner.id)
            if StoreSetting.Key.Name(s.key) in API_SETTING_KEYS
        ]
        settings = [setting_to_message(owner.username, s) for s in stored]
        if not any(s.key == StoreSetting.GENERAL for s in stored):
            settings.insert(0, default_setting(owner.username, "GENERAL"))
        return api.ListUserSettingsResponse(settings=settings)

    async def UpdateUserSetting(self, request: api.UpdateUserSettingRequest, ctx: CallContext) -> api.UserSetting:
        owner, key = await self._setting_target(request.setting.name, ctx)
        paths = list(request.update_mask.paths)
        if not paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update mask is empty")
        if key == "GENERAL":
            await self._update_general(owner, request.setting, paths)
        elif key == "TAGS":
            await self._update_tags(owner, request.setting, paths)
        else:
            raise RpcError(Code.INVALID_ARGUMENT, f"setting type {key} should not be updated via UpdateUserSetting")
        return await self._read_setting(owner, key)

    async def _update_general(self, owner: User, setting: api.UserSetting, paths: list[str]) -> None:
        if not setting.HasField("general_setting"):
            raise RpcError(Code.INVALID_ARGUMENT, "general setting is required")
        # Memos merges into the stored values, or into empty strings when there is no row (not the defaults).
        stored = await self._store.get_user_setting(owner.id, "GENERAL")
        general = stored.general if stored is not None else store_pb.GeneralUserSetting()
        for path in paths:
            if path in ("locale", "memo_visibility", "theme"):
                setattr(general, path, getattr(setting.general_setting, path))
        await self._store.upsert_user_setting(StoreSetting(user_id=owner.id, key=StoreSetting.GENERAL, general=general))

    async def _update_tags(self, owner: User, setting: api.UserSetting, paths: list[str]) -> None:
        for path in paths:
            if path != "tags":
                raise RpcError(Code.INVALID_ARGUMENT, f"unsupported update mask path for tags setting: {path}")
        if not setting.HasField("tags_setting"):
            raise RpcError(Code.INVALID_ARGUMENT, "tags setting is required")
        problem = tag_rule_violation(setting.tags_setting)
        if problem:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid user tags setting: {problem}")
        tags = tags_to_store(setting.tags_setting)
        await self._store.upsert_user_setting(StoreSetting(user_id=owner.id, key=StoreSetting.TAGS, tags=tags))
