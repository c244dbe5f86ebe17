"""The authenticator: who is calling, and with which kind of credential (recorded on the call)."""
from __future__ import annotations

import uuid

import pytest
from support import password_hash

from memos.auth import tokens
from memos.auth.authenticator import (
    ACCESS_TOKEN,
    PERSONAL_ACCESS_TOKEN,
    Authenticator,
    authenticated_with_pat,
    refuse_personal_access_token,
)
from memos.auth.pat import hash_personal_access_token
from memos.call import CallContext, Code, RpcError
from memos.gen.store import user_setting_pb2
from memos.store import CreateUser, Store

pytestmark = pytest.mark.anyio

PAT = "memos_pat_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4"


def _ctx(authorization: str | None) -> CallContext:
    headers = {"authorization": authorization} if authorization else {}
    return CallContext(procedure="/memos.api.v1.AuthService/GetCurrentUser", transport="connect", headers=headers)


async def _with_pat(store: Store, user_id: int) -> None:
    setting = user_setting_pb2.UserSetting(user_id=user_id, key=user_setting_pb2.UserSetting.PERSONAL_ACCESS_TOKENS)
    tokens_list = setting.personal_access_tokens.tokens
    entry = tokens_list.add(token_id=str(uuid.uuid4()), token_hash=hash_personal_access_token(PAT))
    entry.created_at.GetCurrentTime()
    await store.user_settings.upsert(setting)


async def test_the_credential_kind_is_recorded_on_the_call(store: Store) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash=password_hash("pw")))
    await _with_pat(store, user.id)
    access = tokens.issue_access_token(user, await tokens.signing_key(store)).token
    authenticate = Authenticator(store)
    expected = [
        (f"Bearer {access}", "alice", ACCESS_TOKEN),
        (f"Bearer {PAT}", "alice", PERSONAL_ACCESS_TOKEN),
        ("Bearer memos_pat_unknown", None, None),
        ("Bearer not-a-jwt", None, None),
        (None, None, None),
    ]
    for authorization, username, credential in expected:
        ctx = _ctx(authorization)
        found = await authenticate(ctx)
        assert (found.username if found else None, ctx.credential) == (username, credential), authorization
        assert authenticated_with_pat(ctx) is (credential == PERSONAL_ACCESS_TOKEN)


def test_only_a_personal_access_token_is_refused() -> None:
    signed_in = _ctx(None)
    signed_in.credential = ACCESS_TOKEN
    refuse_personal_access_token(signed_in, "change a password")
    script = _ctx(None)
    script.credential = PERSONAL_ACCESS_TOKEN
    with pytest.raises(RpcError) as caught:
        refuse_personal_access_token(script, "change a password")
    assert caught.value.code is Code.PERMISSION_DENIED
    assert caught.value.message == (
        "a personal access token cannot change a password; sign in with your password or single sign-on"
    )
