"""Refresh sessions in REFRESH_TOKENS, and AuthService's SSO branch, on a real SQLite store."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import password_hash

from memos.api.auth_service import AuthService
from memos.auth import sessions
from memos.auth.client_info import ClientInfo
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import auth_service_pb2 as api
from memos.store import CreateUser, Store

pytestmark = pytest.mark.anyio


async def _user(store: Store, username: str, **columns: Any) -> Any:
    return await store.users.create(CreateUser(username=username, password_hash=password_hash("pw"), **columns))


def _ctx() -> CallContext:
    return CallContext(
        procedure="/memos.api.v1.AuthService/SignIn", transport="connect", headers={}, peer="p", can_set_cookies=True
    )


async def _tids(store: Store, user_id: int) -> list[str]:
    return [entry.token_id for entry in await sessions.list_refresh_tokens(store, user_id)]


async def test_concurrent_sign_ins_keep_every_entry(store: Store) -> None:
    user = await _user(store, "alice")
    started = await asyncio.gather(*(sessions.start_session(store, user, ClientInfo()) for _ in range(12)))
    assert sorted(await _tids(store, user.id)) == sorted(session.token_id for session in started)


async def test_revoke_other_refresh_tokens_keeps_only_the_named_one(store: Store) -> None:
    user = await _user(store, "alice")
    other = await _user(store, "bob")
    first, second, _third = [await sessions.start_session(store, user, ClientInfo()) for _ in range(3)]
    bobs = await sessions.start_session(store, other, ClientInfo())
    await sessions.revoke_other_refresh_tokens(store, user.id, second.token_id)
    assert await _tids(store, user.id) == [second.token_id]
    with pytest.raises(sessions.InvalidRefreshToken, match="revoked"):
        await sessions.validate_refresh_token(store, first.refresh.token)
    assert (await sessions.validate_refresh_token(store, second.refresh.token))[0].id == user.id
    await sessions.revoke_other_refresh_tokens(store, user.id, None)
    assert await _tids(store, user.id) == []
    assert await _tids(store, other.id) == [bobs.token_id]


async def test_one_refresh_token_rotates_once_even_when_raced(store: Store) -> None:
    user = await _user(store, "alice")
    session = await sessions.start_session(store, user, ClientInfo())
    outcomes = await asyncio.gather(
        *(sessions.rotate_session(store, session.refresh.token, ClientInfo()) for _ in range(5)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, sessions.Session)]
    assert len(winners) == 1
    assert all(isinstance(o, sessions.InvalidRefreshToken) for o in outcomes if o not in winners)
    assert await _tids(store, user.id) == [winners[0].token_id]


class FixedResolver:
    """Stands in for the OAuth2 exchange: resolves every credential to one user."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.seen: list[Any] = []

    async def resolve_user(self, idp_uid: str, credentials: Any, ctx: CallContext) -> Any:
        self.seen.append(credentials)
        return self.user


SSO_REQUEST = api.SignInRequest(
    sso_credentials=api.SignInRequest.SSOCredentials(idp_name="identity-providers/x", code="c", redirect_uri="r")
)


async def test_sso_sign_in_is_unavailable_without_a_resolver(store: Store) -> None:
    with pytest.raises(RpcError) as caught:
        await AuthService(store).SignIn(SSO_REQUEST, _ctx())
    assert caught.value.code is Code.UNIMPLEMENTED and caught.value.message == "SSO sign-in is not available"


async def test_sso_sign_in_issues_a_session_for_the_resolved_user(store: Store) -> None:
    user = await _user(store, "alice", email="a@example.com")
    resolver = FixedResolver(user)
    ctx = _ctx()
    response = await AuthService(store, sso=resolver).SignIn(SSO_REQUEST, ctx)
    assert resolver.seen == [SSO_REQUEST.sso_credentials]
    assert response.user.email == "a@example.com" and response.access_token
    (cookie,) = [value for name, value in ctx.response_headers if name == "Set-Cookie"]
    assert cookie.startswith("memos_refresh=")
    assert len(await _tids(store, user.id)) == 1


async def test_sso_sign_in_of_an_archived_user_is_refused(store: Store) -> None:
    user = await _user(store, "alice", row_status="ARCHIVED")
    with pytest.raises(RpcError) as caught:
        await AuthService(store, sso=FixedResolver(user)).SignIn(SSO_REQUEST, _ctx())
    assert caught.value.code is Code.PERMISSION_DENIED
    assert caught.value.message == "user has been archived with username alice"
    assert await _tids(store, user.id) == []


async def test_the_session_list_is_capped_and_the_oldest_sessions_end_first(store: Store) -> None:
    user = await _user(store, "alice")
    started = [await sessions.start_session(store, user, ClientInfo()) for _ in range(sessions.MAX_SESSIONS + 10)]
    assert await _tids(store, user.id) == [s.token_id for s in started[-sessions.MAX_SESSIONS :]]
    with pytest.raises(sessions.InvalidRefreshToken, match="revoked"):
        await sessions.validate_refresh_token(store, started[9].refresh.token)
    oldest_kept = started[10]
    rotated = await sessions.rotate_session(store, oldest_kept.refresh.token, ClientInfo())
    tids = await _tids(store, user.id)
    assert len(tids) == sessions.MAX_SESSIONS and tids[-1] == rotated.token_id  # a refresh makes a session young
    await sessions.start_session(store, user, ClientInfo())
    assert started[11].token_id not in await _tids(store, user.id)  # now the oldest
    assert rotated.token_id in await _tids(store, user.id)
