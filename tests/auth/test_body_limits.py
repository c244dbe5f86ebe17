"""The request body cap, judged from the headers alone, on a real SQLite store."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from support import forge_jwt, password_hash

from memos.api.ai_service import MAX_AUDIO_BYTES
from memos.auth import tokens
from memos.auth.body_limits import ANONYMOUS_MAX_BODY_BYTES, LARGEST_AUDIO_BYTES, RequestBodyLimits, base64_length
from memos.auth.pat import generate_personal_access_token, hash_personal_access_token
from memos.gen.store.user_setting_pb2 import UserSetting
from memos.store import CreateUser, Store

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
DEFAULT_SIGNED_IN = 4 * (30 * MIB // 3) + MIB  # 30 MiB file as base64, plus the envelope


async def _user(store: Store) -> Any:
    return await store.users.create(CreateUser(username="alice", password_hash=password_hash("pw")))


async def _key(store: Store) -> bytes:
    return await tokens.signing_key(store)


async def _pat(store: Store, user_id: int, expires_at: dt.datetime | None = None) -> str:
    token = generate_personal_access_token()
    setting = UserSetting(user_id=user_id, key=UserSetting.PERSONAL_ACCESS_TOKENS)
    entry = setting.personal_access_tokens.tokens.add(token_id="t1", token_hash=hash_personal_access_token(token))
    if expires_at is not None:
        entry.expires_at.FromDatetime(expires_at)
    await store.user_settings.upsert(setting)
    return token


def test_base64_length() -> None:
    assert [base64_length(size) for size in (0, 1, 2, 3, 4)] == [0, 4, 4, 4, 8]


def test_the_audio_floor_covers_what_transcription_accepts() -> None:
    assert LARGEST_AUDIO_BYTES >= MAX_AUDIO_BYTES


async def test_anonymous_requests_get_the_small_cap(store: Store) -> None:
    limits = RequestBodyLimits(store)
    assert await limits({}) == ANONYMOUS_MAX_BODY_BYTES == 64 * 1024
    assert await limits({"authorization": "Basic YWxpY2U6cHc="}) == ANONYMOUS_MAX_BODY_BYTES


async def test_a_verified_access_token_gets_the_upload_sized_cap(store: Store) -> None:
    user = await _user(store)
    token = tokens.issue_access_token(user, await _key(store)).token
    assert await RequestBodyLimits(store)({"authorization": f"Bearer {token}"}) == DEFAULT_SIGNED_IN


@pytest.mark.parametrize("problem", ["wrong key", "expired", "refresh token as bearer"])
async def test_tokens_that_do_not_verify_count_as_anonymous(store: Store, problem: str) -> None:
    user = await _user(store)
    key = await _key(store)
    if problem == "wrong key":
        token = tokens.issue_access_token(user, b"not the instance secret").token
    elif problem == "expired":
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        token = tokens.issue_access_token(user, key, now=past).token
    else:
        token = tokens.issue_refresh_token(user.id, "tid", key).token
    assert await RequestBodyLimits(store)({"authorization": f"Bearer {token}"}) == ANONYMOUS_MAX_BODY_BYTES


async def test_a_forged_claim_set_does_not_verify(store: Store) -> None:
    claims = {"type": "access", "iss": "memos", "sub": "1", "aud": ["user.access-token"], "exp": 2**31}
    forged = forge_jwt(claims, b"guessed")
    assert await RequestBodyLimits(store)({"authorization": f"Bearer {forged}"}) == ANONYMOUS_MAX_BODY_BYTES


async def test_a_personal_access_token_must_exist_and_be_unexpired(store: Store) -> None:
    user = await _user(store)
    limits = RequestBodyLimits(store)
    live = await _pat(store, user.id)
    assert await limits({"authorization": f"Bearer {live}"}) == DEFAULT_SIGNED_IN
    unknown = generate_personal_access_token()
    assert await limits({"authorization": f"Bearer {unknown}"}) == ANONYMOUS_MAX_BODY_BYTES
    expired = await _pat(store, user.id, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert await limits({"authorization": f"Bearer {expired}"}) == ANONYMOUS_MAX_BODY_BYTES


async def test_a_verified_refresh_cookie_counts_as_signed_in(store: Store) -> None:
    user = await _user(store)
    refresh = tokens.issue_refresh_token(user.id, "tid", await _key(store)).token
    limits = RequestBodyLimits(store)
    assert await limits({"cookie": f"theme=dark; memos_refresh={refresh}"}) == DEFAULT_SIGNED_IN
    assert await limits({"cookie": "memos_refresh=abc.def.ghi"}) == ANONYMOUS_MAX_BODY_BYTES


async def test_the_signed_in_cap_follows_the_instance_upload_limit(store: Store) -> None:
    user = await _user(store)
    headers = {"authorization": f"Bearer {tokens.issue_access_token(user, await _key(store)).token}"}
    setting = await store.instance_settings.get("STORAGE")
    setting.storage_setting.upload_size_limit_mb = 100
    await store.instance_settings.upsert(setting)
    assert await RequestBodyLimits(store)(headers) == base64_length(100 * MIB) + MIB
    # A small upload limit still leaves room for the largest audio transcription.
    setting.storage_setting.upload_size_limit_mb = 1
    await store.instance_settings.upsert(setting)
    assert await RequestBodyLimits(store)(headers) == base64_length(25 * MIB) + MIB


async def test_a_small_plain_body_is_admitted_without_judging_the_credential(store: Store) -> None:
    limits = RequestBodyLimits(store)
    small = {"content-length": "300", "authorization": "Bearer not-a-token"}
    assert await limits(small) == ANONYMOUS_MAX_BODY_BYTES
    assert await limits({"content-length": str(ANONYMOUS_MAX_BODY_BYTES)}) == ANONYMOUS_MAX_BODY_BYTES


async def test_larger_or_compressed_bodies_are_still_judged_by_the_credential(store: Store) -> None:
    user = await _user(store)
    bearer = f"Bearer {tokens.issue_access_token(user, await _key(store)).token}"
    limits = RequestBodyLimits(store)
    larger = str(ANONYMOUS_MAX_BODY_BYTES + 1)
    assert await limits({"content-length": larger, "authorization": bearer}) == DEFAULT_SIGNED_IN
    assert await limits({"content-length": larger}) == ANONYMOUS_MAX_BODY_BYTES
    gzipped = {"content-length": "300", "content-encoding": "gzip"}
    assert await limits({**gzipped, "authorization": bearer}) == DEFAULT_SIGNED_IN
    assert await limits(gzipped) == ANONYMOUS_MAX_BODY_BYTES
    assert await limits({"content-length": "\u00b2", "authorization": bearer}) == DEFAULT_SIGNED_IN
