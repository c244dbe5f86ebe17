"""memos.api.v1.UserService: users, their settings, tokens, webhooks, identities, stats and inbox.

Who may call what follows the per-RPC table of the access spec: the access
layer has already turned away anonymous callers of protected RPCs, so the
checks here are the role and ownership rules (self, self-or-admin, admin).
"""
from __future__ import annotations

import ast
import base64
import binascii
import datetime as dt
import pathlib
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from google.protobuf import empty_pb2
from google.protobuf.message import DecodeError

from memos.api.access import is_admin, require_admin, require_self, require_self_or_admin
from memos.api.convert.linked_identity import linked_identity_to_message
from memos.api.convert.notification import notification_memo_ids, notification_to_message
from memos.api.convert.stats import user_stats_message
from memos.api.convert.user import role_to_message, user_to_message
from memos.api.convert.user_setting import (
    API_SETTING_KEYS,
    StorePersonalAccessToken,
    StoreSetting,
    StoreWebhook,
    default_setting,
    personal_access_token_to_message,
    setting_to_message,
    tags_to_store,
    webhook_to_message,
)
from memos.api.instance_setting_rules import tag_rule_violation
from memos.auth import cookies, sessions, sso
from memos.auth.passwords import EMPTY_PASSWORD_MESSAGE, hash_password
from memos.auth.pat import generate_personal_access_token, hash_personal_access_token
from memos.auth.sso import is_writable_username
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.notify.netguard import validate_webhook_url
from memos.notify.webhooks import generate_signing_secret, validate_signing_secret
from memos.profile import Profile
from memos.store.errors import Conflict, NotFound
from memos.store.models import ROLE_ADMIN, ROLE_USER, ROW_STATUS_ARCHIVED, ROW_STATUS_NORMAL, User

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BATCH_USERNAMES = 100
ALLOWED_AVATAR_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp")

# ListUsers accepts exactly one filter shape: username == "<name>", either way round.
_QUOTED = r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_USERNAME_FILTER = re.compile(rf"\s*(?:username\s*==\s*{_QUOTED}|{_QUOTED}\s*==\s*username)\s*")
_DATA_URI = re.compile(r"data:([^;,]*);base64,(.*)", re.DOTALL)


# --- callers and names --------------------------------------------------------------


def parse_user_name(name: str) -> str:
    """``users/{username}`` -> username (case kept; legacy names with ``@`` or ``_`` included)."""
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "users" or not parts[1]:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid user name: {name}")
    return parts[1]


def parse_child_name(name: str, collection: str, what: str, *, message: str = "") -> tuple[str, str]:
    """``users/{username}/{collection}/{id}`` -> (username, id).

    Otherwise INVALID_ARGUMENT ``invalid {what} name: {name}``, or ``message`` when the spec words it differently.
    """
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "users" or parts[2] != collection or not parts[1] or not parts[3]:
        raise RpcError(Code.INVALID_ARGUMENT, message or f"invalid {what} name: {name}")
    return parts[1], parts[3]


# --- ListUsers paging and filter ------------------------------------------------------


def _normalized_page_size(size: int) -> int:
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def decode_page_token(token: str) -> tuple[int, int]:
    """(limit, offset) of a base64 PageToken; INVALID_ARGUMENT when it is not one."""
    try:
        raw = base64.b64decode(token, validate=True)
        decoded = common_pb2.PageToken.FromString(raw)
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid page token: {exc}") from None
    return _normalized_page_size(decoded.limit), max(decoded.offset, 0)


def encode_page_token(limit: int, offset: int) -> str:
    return base64.b64encode(common_pb2.PageToken(limit=limit, offset=offset).SerializeToString()).decode("ascii")


def parse_username_filter(text: str) -> str | None:
    """The username of ``username == "x"`` (None for an empty filter); anything else is refused."""
    if not text.strip():
        return None
    match = _USERNAME_FILTER.fullmatch(text)
    if match is None:
        raise RpcError(Code.INVALID_ARGUMENT, f'invalid filter: only username == "<name>" is supported, got {text!r}')
    literal = match.group(1) or match.group(2)
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid filter: {exc}") from None
    if not isinstance(value, str) or not value:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid filter: the username must be a non-empty string")
    return value


# --- field validation ---------------------------------------------------------------------


def check_writable_username(username: str) -> None:
    if not is_writable_username(username):
        raise RpcError(Code.INVALID_ARGUMENT, f'invalid username "{username}"')


def check_avatar(avatar_url: str) -> None:
    """An avatar is uploaded as a base64 data URI of a raster image type (or emptied)."""
    if not avatar_url:
        return
    match = _DATA_URI.fullmatch(avatar_url)
    if match is None:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid avatar format: expected data:<type>;base64,<data>")
    image_type = match.group(1)
    if image_type not in ALLOWED_AVATAR_TYPES:
        raise RpcError(
            Code.INVALID_ARGUMENT,
            f"invalid avatar image type: {image_type}. Only PNG, JPEG, GIF, and WebP are allowed",
        )
    try:
        base64.b64decode(match.group(2), validate=True)
    except binascii.Error as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid avatar format: {exc}") from None


def _role_of(role: int) -> str:
    """The stored role a requested API role means: anything but ADMIN (unspecified too) is USER."""
    return ROLE_ADMIN if role == api.User.ADMIN else ROLE_USER


class UserService:
    SERVICE_NAME = "memos.api.v1.UserService"

    def __init__(self, store: Any, profile: Profile) -> None:
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

    async def _general_setting(self) -> Any:
        return (await self._store.get_instance_setting("GENERAL")).general_setting

    # --- users -------------------------------------------------------------------------

    async def ListUsers(self, request: api.ListUsersRequest, ctx: CallContext) -> api.ListUsersResponse:
        caller = require_admin(ctx)
        username = parse_username_filter(request.filter)
        if request.page_token:
            limit, offset = decode_page_token(request.page_token)
        else:
            limit, offset = _normalized_page_size(request.page_size), 0
        # One row more than the page tells whether another page exists.
        users = await self._store.list_users(username=username, limit=limit + 1, offset=offset)
        response = api.ListUsersResponse(users=[user_to_message(u, caller) for u in users[:limit]])
        if len(users) > limit:
            response.next_page_token = encode_page_token(limit, offset + limit)
        return response

    async def BatchGetUsers(self, request: api.BatchGetUsersRequest, ctx: CallContext) -> api.BatchGetUsersResponse:
        wanted = [name.strip() for name in request.usernames if name.strip()]
        if len(wanted) > MAX_BATCH_USERNAMES:
            raise RpcError(Code.INVALID_ARGUMENT, f"too many usernames (max {MAX_BATCH_USERNAMES})")
        found = []
        for username in dict.fromkeys(wanted):
            user = await self._store.get_user(username=username)
            if user is not None and user.row_status == ROW_STATUS_NORMAL:
                found.append(user)
        # Memos answers in its list order (newest first), not in the order asked.
        found.sort(key=lambda user: (user.created_ts, user.id), reverse=True)
        return api.BatchGetUsersResponse(users=[user_to_message(u, ctx.principal) for u in found])

    async def GetUser(self, request: api.GetUserRequest, ctx: CallContext) -> api.User:
        return user_to_message(await self._user_named(request.name), ctx.principal)

    async def CreateUser(self, request: api.CreateUserRequest, ctx: CallContext) -> api.User:
        if not request.HasField("user"):
            raise RpcError(Code.INVALID_ARGUMENT, "user is required")
        wanted = request.user
        if request.user_id and request.user_id != wanted.username:
            raise RpcError(Code.INVALID_ARGUMENT, "user_id must match user.username")
        check_writable_username(wanted.username)
        if not wanted.password:
            raise RpcError(Code.INVALID_ARGUMENT, EMPTY_PASSWORD_MESSAGE)
        caller = ctx.principal
        if request.validate_only:
            role = await self._role_for_new_user(caller, wanted.role)
            return api.User(
                username=wanted.username,
                email=wanted.email,
                display_name=wanted.display_name,
                role=role_to_message(role),
            )
        password_hash = await hash_password(wanted.password)
        fields = dict(
            username=wanted.username, password_hash=password_hash, email=wanted.email, nickname=wanted.display_name
        )
        try:
            created = await self._create_user(caller, wanted.role, fields)
        except Conflict as exc:
            # Memos has no pre-check here: the UNIQUE constraint answers, as an internal error.
            raise RpcError(Code.INTERNAL, f"failed to create user: {exc}") from None
        return user_to_message(created, created)

    async def _create_user(self, caller: User | None, requested_role: int, fields: dict[str, Any]) -> User:
        if is_admin(caller):
            return await self._store.create_user(role=_role_of(requested_role), **fields)
        if await self._store.count_users() == 0:
            # The store re-checks "no users yet" atomically: of racing sign-ups exactly one wins.
            first = await self._store.create_first_user(role=ROLE_ADMIN, **fields)
            if first is not None:
                return first
        await self._check_registration_open()
        return await self._store.create_user(role=ROLE_USER, **fields)

    async def _role_for_new_user(self, caller: User | None, requested_role: int) -> str:
        """The role CreateUser would assign (for validate_only), running the same gates."""
        if is_admin(caller):
            return _role_of(requested_role)
        if await self._store.count_users() == 0:
            return ROLE_ADMIN
        await self._check_registration_open()
        return ROLE_USER

    async def _check_registration_open(self) -> None:
        general = await self._general_setting()
        if general.disallow_user_registration:
            raise RpcError(Code.PERMISSION_DENIED, "user registration is not allowed")
        if general.disallow_password_auth:
            raise RpcError(Code.PERMISSION_DENIED, "password signup is not allowed")

    async def UpdateUser(self, request: api.UpdateUserRequest, ctx: CallContext) -> api.User:
        if not request.HasField("user"):
            raise RpcError(Code.INVALID_ARGUMENT, "user is required")
        if not request.HasField("update_mask") or not request.update_mask.paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update mask is empty")
        target = await self._user_named(request.user.name)
        caller = require_self_or_admin(ctx, target)
        changes = await self._user_changes(request.user, list(request.update_mask.paths), caller)
        changes["updated_ts"] = int(time.time())
        try:
            updated = await self._store.update_user(target.id, **changes)
        except Conflict:
            raise RpcError(Code.ALREADY_EXISTS, f"username {changes.get('username')!r} is already taken") from None
        except NotFound:
            raise RpcError(Code.NOT_FOUND, "user not found") from None
        if "password_hash" in changes:
            await self._end_other_sessions(ctx, caller, updated)
        return user_to_message(updated, caller)

    async def _user_changes(self, user: api.User, paths: list[str], caller: User) -> dict[str, Any]:
        """The columns a masked update writes; the first invalid path aborts before anything is written."""
        changes: dict[str, Any] = {}
        # Read once for both switches, and only when a path needs it.
        general = await self._general_setting() if {"username", "display_name"} & set(paths) else None
        for path in paths:
            if path == "username":
                if general.disallow_change_username:
                    raise RpcError(Code.PERMISSION_DENIED, "permission denied: disallow change username")
                check_writable_username(user.username)
                changes["username"] = user.username
            elif path == "display_name":
                if general.disallow_change_nickname:
                    raise RpcError(Code.PERMISSION_DENIED, "permission denied: disallow change nickname")
                changes["nickname"] = user.display_name
            elif path == "email":
                changes["email"] = user.email
            elif path == "avatar_url":
                check_avatar(user.avatar_url)
                changes["avatar_url"] = user.avatar_url
            elif path == "description":
                changes["description"] = user.description
            elif path == "role":
                if not is_admin(caller):
                    raise RpcError(Code.PERMISSION_DENIED, "permission denied")
                changes["role"] = _role_of(user.role)
            elif path == "password":
                if not user.password:
                    raise RpcError(Code.INVALID_ARGUMENT, EMPTY_PASSWORD_MESSAGE)
                changes["password_hash"] = await hash_password(user.password)
            elif path == "state":
                if not is_admin(caller):
                    raise RpcError(Code.PERMISSION_DENIED, "permission denied")
                changes["row_status"] = ROW_STATUS_ARCHIVED if user.state == common_pb2.ARCHIVED else ROW_STATUS_NORMAL
            else:
                raise RpcError(Code.INVALID_ARGUMENT, f"invalid update path: {path}")
        return changes

    async def _end_other_sessions(self, ctx: CallContext, caller: User, user: User) -> None:
        """After a password change only the session making the change survives (Memos keeps them all)."""
        keep_tid = None
        if caller.id == user.id:
            keep_tid = await self._refresh_token_id_of_request(ctx, user.id)
        await sessions.revoke_other_refresh_tokens(self._store, user.id, keep_tid)

    async def _refresh_token_id_of_request(self, ctx: CallContext, user_id: int) -> str | None:
        claims = await sessions.refresh_claims(self._store, cookies.request_refresh_cookie(ctx))
        return claims.token_id if claims is not None and claims.user_id == user_id else None

    async def DeleteUser(self, request: api.DeleteUserRequest, ctx: CallContext) -> empty_pb2.Empty:
        target = await self._user_named(request.name)
        caller = require_self_or_admin(ctx, target)
        removed = await self._store.delete_user(target.id)
        if caller.id == target.id:
            cookies.attach_clearing_cookie(ctx)
        self._clean_up_attachment_storage(removed)
        return empty_pb2.Empty()

    def _clean_up_attachment_storage(self, attachments: list[Any]) -> None:
        failures = remove_attachment_files(self._profile.data, attachments)
        if failures:
            first_id, error = failures[0]
            raise RpcError(
                Code.INTERNAL,
                f"user was deleted but attachment storage cleanup failed for {len(failures)} attachment(s), "
                f"first attachment_id={first_id}: {error}",
            )

    # --- settings ------------------------------------------------------------------------

    async def _setting_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, key = parse_child_name(name, "settings", "setting")
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

    # --- personal access tokens ----------------------------------------------------------------

    async def _personal_access_tokens(self, owner: User) -> store_pb.PersonalAccessTokensUserSetting:
        stored = await self._store.get_user_setting(owner.id, "PERSONAL_ACCESS_TOKENS")
        return stored.personal_access_tokens if stored is not None else store_pb.PersonalAccessTokensUserSetting()

    async def ListPersonalAccessTokens(
        self, request: api.ListPersonalAccessTokensRequest, ctx: CallContext
    ) -> api.ListPersonalAccessTokensResponse:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        stored = await self._personal_access_tokens(owner)
        return api.ListPersonalAccessTokensResponse(
            personal_access_tokens=[personal_access_token_to_message(owner.username, t) for t in stored.tokens]
        )

    async def CreatePersonalAccessToken(
        self, request: api.CreatePersonalAccessTokenRequest, ctx: CallContext
    ) -> api.CreatePersonalAccessTokenResponse:
        owner = await self._user_named(request.parent)
        require_self(ctx, owner)
        token = generate_personal_access_token()
        now = dt.datetime.now(dt.UTC)
        entry = StorePersonalAccessToken(
            token_id=str(uuid.uuid4()), token_hash=hash_personal_access_token(token), description=request.description
        )
        entry.created_at.FromDatetime(now)
        if request.expires_in_days > 0:
            entry.expires_at.FromDatetime(now + dt.timedelta(days=request.expires_in_days))

        def add(setting: StoreSetting) -> bool:
            setting.personal_access_tokens.tokens.append(entry)
            return True

        await self._store.modify_user_setting(owner.id, "PERSONAL_ACCESS_TOKENS", add)
        return api.CreatePersonalAccessTokenResponse(
            personal_access_token=personal_access_token_to_message(owner.username, entry), token=token
        )

    async def DeletePersonalAccessToken(
        self, request: api.DeletePersonalAccessTokenRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        username, token_id = parse_child_name(
            request.name, "personalAccessTokens", "personal access token", message="invalid personal access token name"
        )
        owner = await self._user(username)
        require_self(ctx, owner)

        def remove(setting: StoreSetting) -> bool:
            tokens = setting.personal_access_tokens.tokens
            found = [index for index, token in enumerate(tokens) if token.token_id == token_id]
            for index in reversed(found):
                del tokens[index]
            return bool(found)  # an unknown id deletes quietly

        await self._store.modify_user_setting(owner.id, "PERSONAL_ACCESS_TOKENS", remove)
        return empty_pb2.Empty()

    # --- webhooks --------------------------------------------------------------------------

    async def _webhooks(self, owner: User) -> store_pb.WebhooksUserSetting:
        stored = await self._store.get_user_setting(owner.id, "WEBHOOKS")
        return stored.webhooks if stored is not None else store_pb.WebhooksUserSetting()

    async def _stored_webhook(self, owner: User, webhook_id: str) -> StoreWebhook:
        webhooks = await self._webhooks(owner)
        stored = next((w for w in webhooks.webhooks if w.id == webhook_id), None)
        if stored is None:
            raise RpcError(Code.NOT_FOUND, "webhook not found")
        return stored

    async def _modify_webhook(
        self, owner: User, webhook_id: str, change: Callable[[StoreWebhook], None]
    ) -> StoreWebhook:
        """Apply ``change`` to one stored webhook in one write transaction; NOT_FOUND when it is not there."""
        changed: list[StoreWebhook] = []

        def modify(setting: StoreSetting) -> bool:
            webhook = next((w for w in setting.webhooks.webhooks if w.id == webhook_id), None)
            if webhook is None:
                raise RpcError(Code.NOT_FOUND, "webhook not found")
            change(webhook)
            changed.append(webhook)
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", modify)
        return changed[0]

    async def _webhook_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, webhook_id = parse_child_name(name, "webhooks", "webhook")
        owner = await self._user(username)
        require_self_or_admin(ctx, owner)
        return owner, webhook_id

    async def _checked_url(self, url: str) -> str:
        """The trimmed URL, once it is http(s) and resolves to no private address (unless allowed)."""
        return await validate_webhook_url(url, allow_private=self._profile.allow_private_webhooks)

    async def ListUserWebhooks(
        self, request: api.ListUserWebhooksRequest, ctx: CallContext
    ) -> api.ListUserWebhooksResponse:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        webhooks = await self._webhooks(owner)
        return api.ListUserWebhooksResponse(webhooks=[webhook_to_message(owner.username, w) for w in webhooks.webhooks])

    async def CreateUserWebhook(self, request: api.CreateUserWebhookRequest, ctx: CallContext) -> api.UserWebhook:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        wanted = request.webhook
        if not wanted.url.strip():
            raise RpcError(Code.INVALID_ARGUMENT, "webhook URL is required")
        url = await self._checked_url(wanted.url)
        secret = validate_signing_secret(wanted.signing_secret)
        webhook = StoreWebhook(
            id=secrets.token_hex(8),
            title=wanted.display_name,
            url=url,
            signing_secret=secret or generate_signing_secret(),
        )

        def add(setting: StoreSetting) -> bool:
            setting.webhooks.webhooks.append(webhook)
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", add)
        return webhook_to_message(owner.username, webhook)

    async def UpdateUserWebhook(self, request: api.UpdateUserWebhookRequest, ctx: CallContext) -> api.UserWebhook:
        if not request.HasField("webhook"):
            raise RpcError(Code.INVALID_ARGUMENT, "webhook is required")
        owner, webhook_id = await self._webhook_target(request.webhook.name, ctx)
        await self._stored_webhook(owner, webhook_id)  # an unknown id is NOT_FOUND before any validation
        wanted = request.webhook
        masked = set(request.update_mask.paths) if request.HasField("update_mask") else None
        changes: dict[str, str] = {}
        # URLs are resolved (awaited) before the write transaction, which must not wait on the network.
        if (masked is None or "url" in masked) and wanted.url.strip():
            changes["url"] = await self._checked_url(wanted.url)
        if masked is None or "display_name" in masked:
            changes["title"] = wanted.display_name
        if masked is not None and "signing_secret" in masked:
            # An empty secret is allowed here: it switches signing off.
            changes["signing_secret"] = validate_signing_secret(wanted.signing_secret)
        elif masked is None and wanted.signing_secret.strip():
            changes["signing_secret"] = validate_signing_secret(wanted.signing_secret)

        def apply(webhook: StoreWebhook) -> None:
            for field, value in changes.items():
                setattr(webhook, field, value)

        return webhook_to_message(owner.username, await self._modify_webhook(owner, webhook_id, apply))

    async def DeleteUserWebhook(self, request: api.DeleteUserWebhookRequest, ctx: CallContext) -> empty_pb2.Empty:
        owner, webhook_id = await self._webhook_target(request.name, ctx)

        def remove(setting: StoreSetting) -> bool:
            webhooks = setting.webhooks.webhooks
            index = next((i for i, w in enumerate(webhooks) if w.id == webhook_id), None)
            if index is None:
                raise RpcError(Code.NOT_FOUND, "webhook not found")
            del webhooks[index]
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", remove)
        return empty_pb2.Empty()

    async def GetUserWebhookSigningSecret(
        self, request: api.GetUserWebhookSigningSecretRequest, ctx: CallContext
    ) -> api.GetUserWebhookSigningSecretResponse:
        owner, webhook_id = await self._webhook_target(request.name, ctx)
        stored = await self._stored_webhook(owner, webhook_id)
        return api.GetUserWebhookSigningSecretResponse(signing_secret=stored.signing_secret)

    # --- linked identities ---------------------------------------------------------------------

    async def _identity_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, provider = parse_child_name(name, "linkedIdentities", "linked identity")
        owner = await self._user(username)
        require_self_or_admin(ctx, owner)
        return owner, provider

    async def ListLinkedIdentities(
        self, request: api.ListLinkedIdentitiesRequest, ctx: CallContext
    ) -> api.ListLinkedIdentitiesResponse:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        links = await self._store.list_user_identities(user_id=owner.id)
        return api.ListLinkedIdentitiesResponse(
            linked_identities=[linked_identity_to_message(owner.username, i) for i in links]
        )

    async def GetLinkedIdentity(self, request: api.GetLinkedIdentityRequest, ctx: CallContext) -> api.LinkedIdentity:
        owner, provider = await self._identity_target(request.name, ctx)
        link = await self._store.get_user_identity(user_id=owner.id, provider=provider)
        if link is None:
            raise RpcError(Code.NOT_FOUND, "linked identity not found")
        return linked_identity_to_message(owner.username, link)

    async def DeleteLinkedIdentity(self, request: api.DeleteLinkedIdentityRequest, ctx: CallContext) -> empty_pb2.Empty:
        owner, provider = await self._identity_target(request.name, ctx)
        try:
            await self._store.delete_user_identity(user_id=owner.id, provider=provider)
        except NotFound:
            raise RpcError(Code.NOT_FOUND, "linked identity not found") from None
        return empty_pb2.Empty()

    async def CreateLinkedIdentity(
        self, request: api.CreateLinkedIdentityRequest, ctx: CallContext
    ) -> api.LinkedIdentity:
        owner = await self._user_named(request.parent)
        require_self(ctx, owner)
        identity = await sso.exchange_identity(
            self._store, request.idp_name, request.code, request.redirect_uri, request.code_verifier
        )
        link = await self._existing_link(owner, identity.idp_uid, identity.subject)
        if link is None:
            try:
                link = await self._store.create_user_identity(
                    user_id=owner.id, provider=identity.idp_uid, extern_uid=identity.subject
                )
            except Conflict:
                # Another request linked first: answer as if it had been there all along.
                link = await self._existing_link(owner, identity.idp_uid, identity.subject)
                if link is None:
                    raise RpcError(Code.ABORTED, "linked identity changed concurrently, try again") from None
        return linked_identity_to_message(owner.username, link)

    async def _existing_link(self, owner: User, provider: str, subject: str) -> Any | None:
        """The identical link if it exists; ALREADY_EXISTS when either side is linked elsewhere."""
        by_subject = await self._store.get_user_identity(provider=provider, extern_uid=subject)
        if by_subject is not None and by_subject.user_id != owner.id:
            raise RpcError(Code.ALREADY_EXISTS, "identity provider account is already linked to another user")
        if by_subject is not None:
            return by_subject
        mine = await self._store.get_user_identity(user_id=owner.id, provider=provider)
        if mine is not None:
            raise RpcError(
                Code.ALREADY_EXISTS, "identity provider is already linked to another external account for this user"
            )
        return None

    # --- stats -------------------------------------------------------------------------------------

    async def GetUserStats(self, request: api.GetUserStatsRequest, ctx: CallContext) -> api.UserStats:
        target = await self._user_named(request.name)
        caller = ctx.principal
        if caller is None:
            visibilities: list[str] | None = ["PUBLIC"]
        elif caller.id == target.id:
            visibilities = None  # one's own memos count whatever their visibility
        else:
            visibilities = ["PUBLIC", "PROTECTED"]  # admins get no bypass here
        memos = await self._store.list_memo_summaries(creator_id=target.id, visibilities=visibilities)
        return user_stats_message(target.username, memos)

    async def ListAllUserStats(
        self, request: api.ListAllUserStatsRequest, ctx: CallContext
    ) -> api.ListAllUserStatsResponse:
        caller = ctx.principal
        if request.filter.strip():
            # The memo filter language belongs to the memo filter compiler, which does not exist yet.
            raise RpcError(Code.INVALID_ARGUMENT, "invalid filter: memo filters are not supported yet")
        if request.state == common_pb2.ARCHIVED:
            if caller is None:
                return api.ListAllUserStatsResponse()
            memos = await self._store.list_memo_summaries(creator_id=caller.id, row_status=ROW_STATUS_ARCHIVED)
        elif caller is None:
            memos = await self._store.list_memo_summaries(visibilities=["PUBLIC"])
        else:
            memos = await self._store.list_memo_summaries(visibilities=["PUBLIC", "PROTECTED"], or_creator_id=caller.id)
        by_creator: dict[int, list[Any]] = {}
        for memo in memos:
            by_creator.setdefault(memo.creator_id, []).append(memo)
        stats = []
        for creator_id, own in by_creator.items():
            creator = await self._store.get_user(id=creator_id)
            if creator is not None:
                stats.append(user_stats_message(creator.username, own))
        return api.ListAllUserStatsResponse(stats=stats)

    # --- notifications ---------------------------------------------------------------------------

    async def _notification_target(self, name: str, ctx: CallContext) -> tuple[User, int]:
        username, raw_id = parse_child_name(name, "notifications", "notification")
        if not raw_id.isdigit():
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid notification name: {name}")
        owner = await self._owner(username)
        require_self(ctx, owner)
        row = await self._store.get_inbox(int(raw_id))
        if row is None:
            raise RpcError(Code.NOT_FOUND, "notification not found")
        if row.receiver_id != owner.id:
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        return owner, row.id

    async def ListUserNotifications(
        self, request: api.ListUserNotificationsRequest, ctx: CallContext
    ) -> api.ListUserNotificationsResponse:
        owner = await self._owner(parse_user_name(request.parent))
        caller = require_self(ctx, owner)
        rows = [r for r in await self._store.list_inboxes(receiver_id=owner.id) if r.message.type != 0]
        memo_ids = {i for r in rows for i in notification_memo_ids(r.message)}
        memos = {m.id: m for m in await self._memos_by_id(memo_ids)}
        notifications = []
        for row in rows:
            sender = await self._store.get_user(id=row.sender_id)
            if sender is None:
                continue  # Memos skips rows whose sender is gone
            notifications.append(notification_to_message(owner, sender, caller, row, memos))
        return api.ListUserNotificationsResponse(notifications=notifications)

    async def _memos_by_id(self, ids: set[int]) -> list[Any]:
        if not ids:
            return []
        # The payload check needs only creator, visibility and uid: the stats rows carry them.
        return await self._store.list_memo_summaries(ids=sorted(ids), row_status=None, exclude_comments=False)

    async def UpdateUserNotification(
        self, request: api.UpdateUserNotificationRequest, ctx: CallContext
    ) -> api.UserNotification:
        if not request.HasField("notification"):
            raise RpcError(Code.INVALID_ARGUMENT, "notification is required")
        owner, inbox_id = await self._notification_target(request.notification.name, ctx)
        status = None
        for path in request.update_mask.paths:
            if path != "status":
                raise RpcError(Code.INVALID_ARGUMENT, f"invalid update path: {path}")
            status = _INBOX_STATUS.get(request.notification.status)
            if status is None:
                raise RpcError(Code.INVALID_ARGUMENT, "invalid status")
        row = (
            await self._store.update_inbox(inbox_id, status=status) if status else await self._store.get_inbox(inbox_id)
        )
        sender = await self._store.get_user(id=row.sender_id)
        memos = {m.id: m for m in await self._memos_by_id(set(notification_memo_ids(row.message)))}
        return notification_to_message(owner, sender, ctx.principal, row, memos)

    async def DeleteUserNotification(
        self, request: api.DeleteUserNotificationRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        _, inbox_id = await self._notification_target(request.name, ctx)
        try:
            await self._store.delete_inbox(inbox_id)
        except NotFound:
            raise RpcError(Code.NOT_FOUND, "notification not found") from None
        return empty_pb2.Empty()


_INBOX_STATUS = {api.UserNotification.UNREAD: "UNREAD", api.UserNotification.ARCHIVED: "ARCHIVED"}


def remove_attachment_files(data_dir: str, attachments: list[Any]) -> list[tuple[int, str]]:
    """Delete what the removed attachment rows pointed at; (attachment id, error) for each failure.

    LOCAL files are named by absolute paths (v0.30) or paths relative to the data
    directory (older rows); a file already gone is fine. Thumbnail and motion
    caches are keyed by the attachment uid.
    """
    data = pathlib.Path(data_dir)
    failures = []
    for attachment in attachments:
        targets = [
            data / ".thumbnail_cache" / f"{attachment.uid}.jpeg",
            data / ".thumbnail_cache" / f"{attachment.uid}.v2.jpeg",
            data / ".motion_cache" / f"{attachment.uid}.mp4",
        ]
        if attachment.storage_type == "LOCAL" and attachment.reference:
            targets.insert(0, data / attachment.reference)  # an absolute reference replaces the data dir
        try:
            for target in targets:
                target.unlink(missing_ok=True)
        except OSError as exc:
            failures.append((attachment.id, str(exc)))
    return failures
