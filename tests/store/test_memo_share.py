"""Memo shares through store.memo_shares: tokens, lookups, expiry, deletes."""
from __future__ import annotations

import time

import pytest

from memos.store import Conflict, CreateMemo, CreateMemoShare, FindMemoShare, InvalidValue, NotFound, Store

pytestmark = pytest.mark.anyio


async def test_create_find_by_token_memo_and_creator(store: Store) -> None:
    memo = await store.memos.create(CreateMemo(uid="m", creator_id=1))
    other = await store.memos.create(CreateMemo(uid="o", creator_id=2))
    forever = await store.memo_shares.create(CreateMemoShare(uid="tok1", memo_id=memo.id, creator_id=1))
    until = await store.memo_shares.create(
        CreateMemoShare(uid="tok2", memo_id=memo.id, creator_id=1, expires_ts=2_000_000_000)
    )
    theirs = await store.memo_shares.create(CreateMemoShare(uid="tok3", memo_id=other.id, creator_id=2))
    assert forever.expires_ts is None and abs(forever.created_ts - int(time.time())) < 5
    assert until.expires_ts == 2_000_000_000
    assert await store.memo_shares.find(FindMemoShare(memo_id=memo.id)) == [forever, until]
    assert await store.memo_shares.find(FindMemoShare(creator_id=2)) == [theirs]
    assert await store.memo_shares.get_by_uid("tok2") == until
    assert await store.memo_shares.get_by_uid("nope") is None
    with pytest.raises(Conflict):
        await store.memo_shares.create(CreateMemoShare(uid="tok1", memo_id=other.id, creator_id=2))
    with pytest.raises(InvalidValue):
        await store.memo_shares.create(CreateMemoShare(uid="", memo_id=memo.id, creator_id=1))


async def test_a_share_is_valid_during_its_expiry_second(store: Store) -> None:
    share = await store.memo_shares.create(CreateMemoShare(uid="t", memo_id=1, creator_id=1, expires_ts=100))
    assert not share.expired(99) and not share.expired(100) and share.expired(101)
    forever = await store.memo_shares.create(CreateMemoShare(uid="f", memo_id=1, creator_id=1))
    assert not forever.expired(2**40)


async def test_delete_and_shares_outlive_their_memo(store: Store) -> None:
    memo = await store.memos.create(CreateMemo(uid="m", creator_id=1))
    share = await store.memo_shares.create(CreateMemoShare(uid="t", memo_id=memo.id, creator_id=1))
    kept = await store.memo_shares.create(CreateMemoShare(uid="k", memo_id=memo.id, creator_id=1))
    await store.memo_shares.delete(share.id)
    with pytest.raises(NotFound):
        await store.memo_shares.delete(share.id)
    await store.memos.delete(memo.id)
    # As in Memos: the row stays; GetSharedMemo answers NotFound because the memo is gone.
    assert await store.memo_shares.get_by_uid("k") == kept
    assert await store.memos.get_by_id(kept.memo_id) is None
