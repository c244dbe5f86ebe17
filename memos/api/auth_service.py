"""memos.api.v1.AuthService: password (and SSO) sign-in, token refresh, sign-out, the current user."""
from __future__ import annotations

import logging
from typing import Protocol

from google.protobuf.empty_pb2 import Empty

from memos.api.access import require_caller
from memos.api.convert.user import user_to_message
from memos.api.names import parse_idp_name
from memos.auth import passwords, sessions, tokens
from memos.auth.authenticator import authenticated_with_pat
from memos.auth.client_info import client_info
from memos.auth.cookies import attach_clearing_cookie, attach_refresh_cookie, request_refresh_cookie
from memos.auth.throttle import SignInThrottle
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import auth_service_pb2 as api
from memos.store import ROLE_USER, ROW_STATUS_ARCHIVED, FindUser, Store, User

logger = logging.getLogger("memos.auth")

UNMATCHED = "unmatched username and password"


class SsoResolver(Protocol):
    """Turns SSO credentials into the (possibly just provisioned) user; raises RpcError otherwise."""

    async def resolve_user(
        self, idp_uid: str, credentials: api.SignInRequest.SSOCredentials, ctx: CallContext
    ) -> User: ...


class AuthService:
    SERVICE_NAME = "memos.api.v1.AuthService"

    def __init__(self, store: Store, *, sso: SsoResolver | None = None, throttle: SignInThrottle | None = None) -> None:
        self._store = store
        self._sso = sso
        self._throttle = throttle or SignInThrottle()

    # --- SignIn ------------------------------------------------------------------

    async def SignIn(self, request: api.SignInRequest, ctx: CallContext) -> api.SignInResponse:
        kind = request.WhichOneof("credentials")
        if kind == "password_credentials":
            user = await self._password_user(request.password_credentials, ctx)
        elif kind == "sso_credentials":
            user = await self._sso_user(request.sso_credentials, ctx)
        else:
            raise RpcError(Code.INVALID_ARGUMENT, "invalid credentials")
        if user.row_status == ROW_STATUS_ARCHIVED:
            raise RpcError(Code.PERMISSION_DENIED, f"user has been archived with username {user.username}")
        return await self._issue_session(user, ctx)

    async def _password_user(self, credentials: api.SignInRequest.PasswordCredentials, ctx: CallContext) -> User:
        username, password = credentials.username, credentials.password
        passwords.check_sign_in_sizes(username, password)  # before bcrypt and before anything is counted
        address = ctx.peer  # the transport believed forwarding headers only from trusted proxies
        self._throttle.check(username, address)
        user: User | None = await self._store.users.get(FindUser(username=username)) if username else None
        if user is None:
            # Same cost as a wrong password, so timing does not reveal which usernames exist.
            await passwords.burn_verification_time(password)
            matched = False
        else:
            matched = await passwords.verify_password(password, user.password_hash)
        if user is None or not matched:
            self._throttle.record_failure(username, address)
            raise RpcError(Code.INVALID_ARGUMENT, UNMATCHED)
        self._throttle.record_success(username, address)
        general = (await self._store.instance_settings.get("GENERAL")).general_setting
        if general.disallow_password_auth and user.role == ROLE_USER:
            raise RpcError(Code.PERMISSION_DENIED, "password signin is not allowed")
        return user

    async def _sso_user(self, credentials: api.SignInRequest.SSOCredentials, ctx: CallContext) -> User:
        if self._sso is None:
            raise RpcError(Code.UNIMPLEMENTED, "SSO sign-in is not available")
        return await self._sso.resolve_user(parse_idp_name(credentials.idp_name), credentials, ctx)

    async def _issue_session(self, user: User, ctx: CallContext) -> api.SignInResponse:
        session = await sessions.start_session(self._store, user, client_info(ctx.headers, ctx.peer))
        attach_refresh_cookie(ctx, session.refresh.token, session.refresh.expires_at)
        access = tokens.issue_access_token(user, await tokens.signing_key(self._store))
        return api.SignInResponse(
            user=user_to_message(user, user),
            access_token=access.token,
            access_token_expires_at=sessions.to_timestamp(access.expires_at),
        )

    # --- RefreshToken --------------------------------------------------------------

    async def RefreshToken(self, request: api.RefreshTokenRequest, ctx: CallContext) -> api.RefreshTokenResponse:
        cookie = request_refresh_cookie(ctx)
        if not cookie:
            raise RpcError(Code.UNAUTHENTICATED, "refresh token not found")
        try:
            if ctx.can_set_cookies:
                session = await sessions.rotate_session(self._store, cookie, client_info(ctx.headers, ctx.peer))
                attach_refresh_cookie(ctx, session.refresh.token, session.refresh.expires_at)
                user = session.user
            else:
                # A new refresh token could only travel in a header scripts can read, so
                # this transport keeps the presented one (its own 30-day expiry still applies).
                user, _ = await sessions.validate_refresh_token(self._store, cookie)
        except sessions.InvalidRefreshToken as exc:
            raise RpcError(Code.UNAUTHENTICATED, f"invalid refresh token: {exc}") from None
        except RpcError:
            raise
        except Exception as exc:
            logger.exception("failed to rotate a refresh token")
            raise RpcError(Code.INTERNAL, f"failed to store refresh token: {exc}") from None
        access = tokens.issue_access_token(user, await tokens.signing_key(self._store))
        return api.RefreshTokenResponse(access_token=access.token, expires_at=sessions.to_timestamp(access.expires_at))

    # --- SignOut / GetCurrentUser ------------------------------------------------------

    async def SignOut(self, request: api.SignOutRequest, ctx: CallContext) -> Empty:
        caller = require_caller(ctx)
        cookie = request_refresh_cookie(ctx)
        if cookie and not authenticated_with_pat(ctx):
            await self._revoke_cookie_session(caller, cookie)
        attach_clearing_cookie(ctx)
        return Empty()

    async def _revoke_cookie_session(self, caller: User, cookie: str) -> None:
        claims = await sessions.refresh_claims(self._store, cookie)
        if claims is None:
            return  # nothing to revoke
        try:
            # Only the caller's own list is touched, whoever the cookie names.
            await sessions.remove_refresh_token(self._store, caller.id, claims.token_id)
        except Exception:
            logger.warning("failed to revoke a refresh token at sign-out", exc_info=True)

    async def GetCurrentUser(self, request: api.GetCurrentUserRequest, ctx: CallContext) -> api.GetCurrentUserResponse:
        caller = require_caller(ctx)
        return api.GetCurrentUserResponse(user=user_to_message(caller, caller))

