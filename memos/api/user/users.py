"""UserService RPCs on the users themselves: list, batch-get, get, create, update, delete."""
from __future__ import annotations

import ast
import base64
import binascii
import re
import time
from typing import Any

from google.protobuf import empty_pb2

from memos.api.access import is_admin, require_admin, require_self_or_admin
from memos.api.attachment.removal import remove_stored
from memos.api.convert.user import role_to_message, user_to_message
from memos.api.paging import requested_page
from memos.api.user.lookup import UserLookups
from memos.auth import cookies, sessions
from memos.auth.authenticator import refuse_personal_access_token
from memos.auth.passwords import EMPTY_PASSWORD_MESSAGE, hash_password
from memos.auth.sso import is_writable_username
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store.instance_setting_pb2 import InstanceGeneralSetting
from memos.profile import Profile
from memos.storage.attachments import AttachmentStorage
from memos.store import (
    ROLE_ADMIN,
    ROLE_USER,
    ROW_STATUS_ARCHIVED,
    ROW_STATUS_NORMAL,
    CreateUser,
    FindUser,
    Store,
    UpdateUser,
    User,
)
from memos.store.errors import Conflict, NotFound

MAX_BATCH_USERNAMES = 100
ALLOWED_AVATAR_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp")

# ListUsers accepts exactly one filter shape: username == "<name>", either way round.
_QUOTED = r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_USERNAME_FILTER = re.compile(rf"\s*(?:username\s*==\s*{_QUOTED}|{_QUOTED}\s*==\s*username)\s*")
_DATA_URI = re.compile(r"data:([^;,]*);base64,(.*)", re.DOTALL)


# --- ListUsers filter ------------------------------------------------------------------


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


class UserAccountService(UserLookups):
    """The users themselves: listing, reading, creating, updating, deleting."""

    SERVICE_NAME = "memos.api.v1.UserService"

    def __init__(self, store: Store, profile: Profile, storage: AttachmentStorage | None = None) -> None:
        super().__init__(store, profile)
        # Where a deleted user's attachments are removed from; create_app passes its one instance.
        self._storage = storage or AttachmentStorage(profile.data)

    async def ListUsers(self, request: api.ListUsersRequest, ctx: CallContext) -> api.ListUsersResponse:
        caller = require_admin(ctx)
        username = parse_username_filter(request.filter)
        page = requested_page(request.page_size, request.page_token)
        users = await self._store.users.find(FindUser(username=username, limit=page.fetch_limit, offset=page.offset))
        return api.ListUsersResponse(
            users=[user_to_message(u, caller) for u in users[: page.limit]],
            next_page_token=page.next_page_token(len(users)),
        )

    async def BatchGetUsers(self, request: api.BatchGetUsersRequest, ctx: CallContext) -> api.BatchGetUsersResponse:
        wanted = [name.strip() for name in request.usernames if name.strip()]
        if len(wanted) > MAX_BATCH_USERNAMES:
            raise RpcError(Code.INVALID_ARGUMENT, f"too many usernames (max {MAX_BATCH_USERNAMES})")
        found = []
        for username in dict.fromkeys(wanted):
            user = await self._store.users.get(FindUser(username=username))
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
        except Conflict:
            # Memos answers INTERNAL here; a taken username is the client's to fix.
            raise RpcError(Code.ALREADY_EXISTS, f"username {wanted.username!r} is already taken") from None
        return user_to_message(created, created)

    async def _create_user(self, caller: User | None, requested_role: int, fields: dict[str, Any]) -> User:
        if is_admin(caller):
            return await self._store.users.create(CreateUser(role=_role_of(requested_role), **fields))
        if await self._store.users.count(FindUser()) == 0:
            # The store re-checks "no users yet" atomically: of racing sign-ups exactly one wins.
            first = await self._store.users.create_first(CreateUser(role=ROLE_ADMIN, **fields))
            if first is not None:
                return first
        await self._check_registration_open()
        return await self._store.users.create(CreateUser(role=ROLE_USER, **fields))

    async def _role_for_new_user(self, caller: User | None, requested_role: int) -> str:
        """The role CreateUser would assign (for validate_only), running the same gates."""
        if is_admin(caller):
            return _role_of(requested_role)
        if await self._store.users.count(FindUser()) == 0:
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
        if "password" in request.update_mask.paths:
            refuse_personal_access_token(ctx, "change a password")
        changes = await self._user_changes(request.user, list(request.update_mask.paths), caller)
        changes["updated_ts"] = int(time.time())
        try:
            updated = await self._store.users.update(UpdateUser(target.id, **changes))
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
        needs_general = bool({"username", "display_name"} & set(paths))
        general = await self._general_setting() if needs_general else InstanceGeneralSetting()
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
        removed = await self._store.users.delete(target.id)
        if caller.id == target.id:
            cookies.attach_clearing_cookie(ctx)
        await self._clean_up_attachment_storage(removed)
        return empty_pb2.Empty()

    async def _clean_up_attachment_storage(self, attachments: list[Any]) -> None:
        failures = await remove_stored(self._store, self._storage, attachments)
        if failures:
            first_id, error = failures[0]
            raise RpcError(
                Code.INTERNAL,
                f"user was deleted but attachment storage cleanup failed for {len(failures)} attachment(s), "
                f"first attachment_id={first_id}: {error}",
            )
