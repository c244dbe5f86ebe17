"""memos.api.v1.InstanceService: the instance profile, its settings, stats and the test e-mail."""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from google.protobuf import empty_pb2, timestamp_pb2

from memos.api import instance_setting_rules as rules
from memos.api.access import is_admin, require_admin
from memos.api.convert.instance_setting import setting_from_message, setting_to_message
from memos.api.convert.user import user_to_message
from memos.api.names import INSTANCE_SETTING_PREFIX, parse_instance_setting_name
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import instance_service_pb2 as api
from memos.gen.store import instance_setting_pb2 as store_pb
from memos.notify import email as mail
from memos.profile import Profile
from memos.store import FindUser, Store
from memos.store.errors import DeploymentManaged, GuardRefused, StoreError

MAX_BATCH_NAMES = 100
STATS_TTL_SECONDS = 60.0

# Who may read each key; BASIC is readable but shows nothing but its name.
_ANYONE = frozenset({"GENERAL", "MEMO_RELATED", "TAGS", "BASIC"})
_SIGNED_IN = frozenset({"AI"})
_ADMIN = frozenset({"STORAGE", "NOTIFICATION"})


def parse_setting_name(name: str) -> str:
    """``instance/settings/GENERAL`` -> ``GENERAL``, for a key this service knows; else INVALID_ARGUMENT."""
    key = parse_instance_setting_name(name)
    if key not in _ANYONE | _SIGNED_IN | _ADMIN:
        raise RpcError(Code.INVALID_ARGUMENT, f"unsupported instance setting key: {key}")
    return key


def parse_updatable_key(name: str) -> str:
    """Like parse_setting_name, but BASIC (the JWT secret) can never be written through the API."""
    key = parse_setting_name(name)
    if key == "BASIC":
        raise RpcError(Code.INVALID_ARGUMENT, f"unsupported instance setting key: {key}")
    return key


def _check_read_access(key: str, caller: Any) -> None:
    if key in _ANYONE:
        return
    if caller is None:
        raise RpcError(Code.UNAUTHENTICATED, "user not authenticated")
    if key in _ADMIN and not is_admin(caller):
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")


class InstanceService:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    def __init__(self, store: Store, profile: Profile) -> None:
        self._store = store
        self._profile = profile
        self._stats: api.InstanceStats | None = None
        self._stats_expiry = 0.0
        self._stats_lock = asyncio.Lock()

    async def GetInstanceProfile(self, request: api.GetInstanceProfileRequest, ctx: CallContext) -> api.InstanceProfile:
        profile = api.InstanceProfile(
            version=self._profile.version,
            demo=self._profile.demo,
            instance_url=self._profile.instance_url,
            commit=self._profile.commit,
        )
        admins = await self._store.users.find(FindUser(role="ADMIN", limit=1))
        if admins:
            profile.admin.CopyFrom(user_to_message(admins[0], ctx.principal))
        profile.needs_setup = await self._store.users.count(FindUser()) == 0
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
            return api.InstanceSetting(name=INSTANCE_SETTING_PREFIX + key)
        setting = await self._store.instance_settings.get(key)
        return setting_to_message(setting, viewer_is_admin=is_admin(caller))

    # --- updates -------------------------------------------------------------------

    async def UpdateInstanceSetting(
        self, request: api.UpdateInstanceSettingRequest, ctx: CallContext
    ) -> api.InstanceSetting:
        require_admin(ctx)
        if not request.HasField("setting"):
            raise RpcError(Code.INVALID_ARGUMENT, "instance setting is required")
        key = parse_updatable_key(request.setting.name)
        if self._store.instance_settings.is_deployment(key):
            raise RpcError(Code.FAILED_PRECONDITION, f'instance setting "{key}" is configured by the deployment')
        if key == "TAGS" and request.setting.WhichOneof("value") is None:
            raise RpcError(Code.INVALID_ARGUMENT, "invalid instance setting: tags setting is required")
        # update_mask is ignored on purpose: Memos replaces the whole group.
        try:
            incoming = setting_from_message(request.setting, key)
        except ValueError as exc:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid instance setting: {exc}") from exc
        current = await self._store.instance_settings.get(key)
        rules.prepare_update(incoming, current, data_dir=self._profile.data)
        if key == "GENERAL":
            stored = await self._write_general(incoming)
        else:
            stored = await self._store.instance_settings.upsert(incoming)
        return setting_to_message(stored, viewer_is_admin=True)

    async def _write_general(self, incoming: store_pb.InstanceSetting) -> Any:
        """Write GENERAL unless it would newly lock regular users out; check and write are one transaction."""
        try:
            settings = self._store.instance_settings
            return await settings.update_general_guarded(incoming.general_setting, _general_is_safe)
        except GuardRefused as exc:
            raise RpcError(Code.FAILED_PRECONDITION, rules.LOCKOUT_MESSAGE) from exc
        except DeploymentManaged as exc:
            message = 'instance setting "GENERAL" is configured by the deployment'
            raise RpcError(Code.FAILED_PRECONDITION, message) from exc

    # --- test e-mail ----------------------------------------------------------------

    async def TestInstanceEmailSetting(
        self, request: api.TestInstanceEmailSettingRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        require_admin(ctx)
        stored = (await self._store.instance_settings.get("NOTIFICATION")).notification_setting.email
        if request.HasField("email"):
            setting = store_pb.InstanceNotificationSetting.EmailSetting()
            setting.ParseFromString(request.email.SerializeToString())
            rules.keep_smtp_password(setting, stored)
        else:
            setting = stored
        recipient = request.recipient_email.strip() or (ctx.principal.email or "").strip()
        if not recipient:
            raise RpcError(Code.INVALID_ARGUMENT, "recipient email is required")
        config = mail.SmtpConfig.from_setting(setting)
        try:
            config.validate()
        except mail.EmailConfigError as exc:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid notification email setting: {exc}") from exc
        try:
            await mail.send_email(config, mail.instance_test_email(recipient))
        except (mail.EmailSendError, mail.EmailConfigError) as exc:
            raise RpcError(Code.INTERNAL, f"failed to send test email: {exc}; {_smtp_hint(config)}") from exc
        return empty_pb2.Empty()

    # --- stats ------------------------------------------------------------------------

    async def GetInstanceStats(self, request: api.GetInstanceStatsRequest, ctx: CallContext) -> api.InstanceStats:
        require_admin(ctx)
        async with self._stats_lock:
            if self._stats is None or time.monotonic() >= self._stats_expiry:
                self._stats = await self._compute_stats()
                self._stats_expiry = time.monotonic() + STATS_TTL_SECONDS
            stats = api.InstanceStats()
            stats.CopyFrom(self._stats)
            return stats

    async def _compute_stats(self) -> api.InstanceStats:
        try:
            size = await self._store.database_size()
        except (StoreError, OSError):
            size = -1
        local_bytes = await asyncio.to_thread(_tree_size, self._profile.data)
        if size < 0 and local_bytes < 0:
            raise RpcError(Code.INTERNAL, "failed to compute instance stats")
        generated = timestamp_pb2.Timestamp()
        generated.GetCurrentTime()
        return api.InstanceStats(
            database=api.InstanceStats.DatabaseStats(driver=self._profile.driver, size_bytes=size),
            local_storage_bytes=local_bytes,
            generated_time=generated,
        )


def _general_is_safe(current: Any, proposed: Any, providers: list[Any]) -> bool:
    """The lock-out rule is about transitions: only turning password sign-in off with no IdP is refused.

    An already-unsafe stored state (from older versions) does not block other edits.
    """
    turning_off = proposed.disallow_password_auth and not current.disallow_password_auth
    return not turning_off or bool(providers)


def _smtp_hint(config: mail.SmtpConfig) -> str:
    mode = "SSL" if config.use_ssl else "STARTTLS" if config.use_tls else "no encryption"
    return (
        f"check the SMTP port and encryption ({mode} on port {config.port}); "
        "port 465 usually needs SSL and port 587 STARTTLS"
    )


def _tree_size(root: str) -> int:
    """Bytes in regular files under ``root``, symlinks not followed, unreadable entries skipped; -1 on failure."""
    total = 0
    pending = [root]
    try:
        os.stat(root)
    except OSError:
        return -1
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total
