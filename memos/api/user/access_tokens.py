"""UserService RPCs on a user's personal access tokens."""
from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf import empty_pb2

from memos.api.access import require_self, require_self_or_admin
from memos.api.convert.user_setting import (
    StorePersonalAccessToken,
    StoreSetting,
    personal_access_token_to_message,
)
from memos.api.names import parse_personal_access_token_name
from memos.api.user.lookup import UserLookups
from memos.auth.authenticator import refuse_personal_access_token
from memos.auth.pat import generate_personal_access_token, hash_personal_access_token
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.store import User

# A hundred years: far beyond any use, and the expiry stays a valid timestamp (before year 9999).
MAX_EXPIRES_IN_DAYS = 36_500


def check_expires_in_days(days: int) -> None:
    # Zero or less means "never expires", as in Memos.
    if days > MAX_EXPIRES_IN_DAYS:
        raise RpcError(
            Code.INVALID_ARGUMENT,
            f"expires_in_days must be at most {MAX_EXPIRES_IN_DAYS} (100 years), got {days}; "
            "0 means the token never expires",
        )


class PersonalAccessTokenService(UserLookups):
    """Listing, minting and revoking personal access tokens."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def _personal_access_tokens(self, owner: User) -> store_pb.PersonalAccessTokensUserSetting:
        stored = await self._store.user_settings.get(owner.id, "PERSONAL_ACCESS_TOKENS")
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
        refuse_personal_access_token(ctx, "create personal access tokens")
        check_expires_in_days(request.expires_in_days)
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

        await self._store.user_settings.modify(owner.id, "PERSONAL_ACCESS_TOKENS", add)
        return api.CreatePersonalAccessTokenResponse(
            personal_access_token=personal_access_token_to_message(owner.username, entry), token=token
        )

    async def DeletePersonalAccessToken(
        self, request: api.DeletePersonalAccessTokenRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        username, token_id = parse_personal_access_token_name(request.name)
        owner = await self._user(username)
        require_self(ctx, owner)

        def remove(setting: StoreSetting) -> bool:
            tokens = setting.personal_access_tokens.tokens
            found = [index for index, token in enumerate(tokens) if token.token_id == token_id]
            for index in reversed(found):
                del tokens[index]
            return bool(found)  # an unknown id deletes quietly

        await self._store.user_settings.modify(owner.id, "PERSONAL_ACCESS_TOKENS", remove)
        return empty_pb2.Empty()
