"""MemoService share links: CreateMemoShare, ListMemoShares, DeleteMemoShare, GetSharedMemo (spec §3.15-3.18).

A share is a random token (a 22-letter short UUID) that opens one memo without signing in,
optionally until an expiry time. Its creator or an admin manages a memo's shares; the
memo's own visibility does not matter to the token. What a token opens is limited:
the memo with its content, tags, property, attachments and reactions, but no relations
and no parent (a shared comment does not lead to the memo it belongs to). Every way a
token can fail (unknown, expired, memo deleted or archived, creator gone) answers the
same NOT_FOUND ``not found``, so a token's history cannot be probed.
"""
from __future__ import annotations

import time

from google.protobuf import empty_pb2

from memos.api.convert.memo import timestamp_seconds
from memos.api.convert.memo_share import memo_share_to_message
from memos.api.ids import short_uuid
from memos.api.memo.lookup import MemoLookups
from memos.api.names import parse_share_name
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import ROW_STATUS_ARCHIVED, CreateMemoShare, FindMemoShare, Memo, NotFound, Store

_SHARED_MEMO_NOT_FOUND = "not found"


class MemoShareService(MemoLookups):
    SERVICE_NAME = "memos.api.v1.MemoService"

    async def CreateMemoShare(self, request: api.CreateMemoShareRequest, ctx: CallContext) -> api.MemoShare:
        """A new token for the memo; archived memos may be shared too (the token opens them once restored)."""
        memo = await self._memo_named(request.parent)
        caller = self._check_writer(memo, ctx)
        expires_ts = _expiry(request.memo_share) if request.HasField("memo_share") else None
        share = await self._store.memo_shares.create(
            CreateMemoShare(uid=short_uuid(), memo_id=memo.id, creator_id=caller.id, expires_ts=expires_ts)
        )
        return memo_share_to_message(share, memo_uid=memo.uid)

    async def ListMemoShares(self, request: api.ListMemoSharesRequest, ctx: CallContext) -> api.ListMemoSharesResponse:
        """Every share of the memo, expired ones included, oldest first. Not paged."""
        memo = await self._memo_named(request.parent)
        self._check_writer(memo, ctx)
        shares = await self._store.memo_shares.find(FindMemoShare(memo_id=memo.id))
        return api.ListMemoSharesResponse(memo_shares=[memo_share_to_message(s, memo_uid=memo.uid) for s in shares])

    async def DeleteMemoShare(self, request: api.DeleteMemoShareRequest, ctx: CallContext) -> empty_pb2.Empty:
        """The token must belong to the memo the name gives: another memo's token is NOT_FOUND and keeps working."""
        memo_uid, token = parse_share_name(request.name)
        memo = await self._memo_by_uid(memo_uid)
        self._check_writer(memo, ctx)
        share = await self._store.memo_shares.get_by_uid(token)
        if share is None or share.memo_id != memo.id:
            raise RpcError(Code.NOT_FOUND, "memo share not found")
        try:
            await self._store.memo_shares.delete(share.id)
        except NotFound:  # deleted meanwhile by another request
            raise RpcError(Code.NOT_FOUND, "memo share not found") from None
        return empty_pb2.Empty()

    async def GetSharedMemo(self, request: api.GetSharedMemoRequest, ctx: CallContext) -> api.Memo:
        """The memo a valid token opens, for anyone (no sign-in, even on a private instance)."""
        memo = await self._shared_memo(request.share_token)
        rendered = await self._render([memo], None, single=True)
        if not rendered:  # the creator's row is gone
            raise RpcError(Code.NOT_FOUND, _SHARED_MEMO_NOT_FOUND)
        message = rendered[0]
        # A token opens this memo alone: nothing it relates to, not even the memo a comment belongs to.
        del message.relations[:]
        message.ClearField("parent")
        return message

    async def _shared_memo(self, token: str) -> Memo:
        memo = await memo_opened_by_share(self._store, token)
        if memo is None:
            raise RpcError(Code.NOT_FOUND, _SHARED_MEMO_NOT_FOUND)
        return memo


async def memo_opened_by_share(store: Store, token: str) -> Memo | None:
    """The memo share token ``token`` opens now: None when the token is unknown or expired (it still
    opens during its expiry second), or its memo is gone or archived.

    GetSharedMemo and the file route (``?share_token=`` for the memo's own attachments) both ask this.
    """
    share = await store.memo_shares.get_by_uid(token) if token else None
    if share is None or share.expired(int(time.time())):
        return None
    memo = await store.memos.get_by_id(share.memo_id)
    if memo is None or memo.row_status == ROW_STATUS_ARCHIVED:
        return None
    return memo


def _expiry(share: api.MemoShare) -> int | None:
    """Seconds of the requested expiry (None: never), which must lie after the current second."""
    if not share.HasField("expire_time"):
        return None
    seconds = timestamp_seconds(share.expire_time)
    if seconds is None:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid expire_time: out of range")
    if seconds <= int(time.time()):
        raise RpcError(Code.INVALID_ARGUMENT, "expire_time must be in the future")
    return seconds

