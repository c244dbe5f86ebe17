"""memospyz.v1.MemoHtmlService: the HTML rendered from memos' Markdown, for the web UI.

An extension of this project (its own proto package and ``/api/pyz/v1`` paths), so
memos.api.v1 stays exactly Memos's. The HTML is derived once per write: the memo write
path stores it with ``store.memo_html.put``; ``rendered_html`` serves what is stored and
renders (and saves) only what is missing or stale, i.e. made by another ``HTML_VERSION``
or from other content. RSS uses the same function.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

from memos.api.convert.memo import memo_name
from memos.api.memo.lookup import MemoLookups
from memos.api.memo.shares import memo_opened_by_share
from memos.api.names import parse_memo_name
from memos.call import CallContext, Code, RpcError
from memos.gen.ext.v1 import memo_html_service_pb2 as ext
from memos.markdown import HTML_VERSION
from memos.store import FindMemo, Memo, Store, User

MAX_NAMES = 100


def _render_all(contents: dict[int, str]) -> dict[int, str]:
    from memos.markdown import derive

    return {memo_id: derive(content).html for memo_id, content in contents.items()}


async def rendered_html(store: Store, memos: Sequence[Memo]) -> dict[int, str]:
    """memo id -> its HTML; what is not stored fresh is rendered off the event loop, then saved."""
    contents = {memo.id: memo.content for memo in memos}
    html = await store.memo_html.fresh(contents, HTML_VERSION)
    missing = {memo_id: content for memo_id, content in contents.items() if memo_id not in html}
    if missing:
        rendered = await asyncio.to_thread(_render_all, missing)
        await store.memo_html.put_many([(memo_id, missing[memo_id], text) for memo_id, text in rendered.items()],
                                       HTML_VERSION)
        html.update(rendered)
    return html


class MemoHtmlService(MemoLookups):
    """Built like the parts of MemoService, whose access rules (``MemoLookups``) it applies."""

    SERVICE_NAME = "memospyz.v1.MemoHtmlService"

    async def BatchGetMemoHtml(
        self, request: ext.BatchGetMemoHtmlRequest, ctx: CallContext
    ) -> ext.BatchGetMemoHtmlResponse:
        if len(request.names) > MAX_NAMES:
            raise RpcError(Code.INVALID_ARGUMENT, f"at most {MAX_NAMES} names per request")
        uids = [parse_memo_name(name) for name in request.names]
        memos = await self._readable(uids, ctx.principal)
        html = await rendered_html(self._store, list({memo.id: memo for memo in memos}.values()))
        return ext.BatchGetMemoHtmlResponse(
            memos=[
                ext.MemoHtml(name=memo_name(memo.uid), html=html[memo.id], html_version=HTML_VERSION)
                for memo in memos
            ]
        )

    async def GetSharedMemoHtml(self, request: ext.GetSharedMemoHtmlRequest, ctx: CallContext) -> ext.MemoHtml:
        """What GetSharedMemo opens, rendered; a token that opens nothing is the same NOT_FOUND."""
        memo = await memo_opened_by_share(self._store, request.share_token)
        if memo is None:
            raise RpcError(Code.NOT_FOUND, "not found")
        html = await rendered_html(self._store, [memo])
        return ext.MemoHtml(name=memo_name(memo.uid), html=html[memo.id], html_version=HTML_VERSION)

    async def _readable(self, uids: list[str], caller: User | None) -> list[Memo]:
        """The memos, in order, if the caller may GetMemo each (a comment also needs its parent
        readable); else the error GetMemo gives for the first one refused. Three queries in all."""
        if not uids:
            return []
        found = await self._store.memos.find(FindMemo(uids=uids, row_status=None, exclude_comments=False))
        by_uid = {memo.uid: memo for memo in found}
        parent_ids = await self._store.memo_relations.find_parent_ids([memo.id for memo in found])
        parents = {}
        if parent_ids:
            wanted = sorted(set(parent_ids.values()))
            parent_rows = await self._store.memos.find(FindMemo(ids=wanted, row_status=None, exclude_comments=False))
            parents = {memo.id: memo for memo in parent_rows}
        memos = []
        for uid in uids:
            memo = by_uid.get(uid)
            if memo is None:
                raise RpcError(Code.NOT_FOUND, "memo not found")
            self._check_readable(memo, caller)
            if memo.id in parent_ids:  # GetMemo's parent step, with the parents read in one batch
                parent = parents.get(parent_ids[memo.id])
                if parent is None:
                    raise RpcError(Code.NOT_FOUND, "memo not found")
                self._check_readable(parent, caller)
            memos.append(memo)
        return memos
