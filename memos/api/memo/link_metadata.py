"""MemoService link previews: GetLinkMetadata and BatchGetLinkMetadata.

The fetching itself (address guard, deadline, size cap, redirects, parsing)
is ``memos.notify.link_preview``; this part validates requests and words
failures as Memos does.
"""
from __future__ import annotations

import asyncio

from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.notify.link_preview import LinkFetchError, LinkPreviewer

MAX_BATCH_URLS = 10


class LinkMetadataService:
    """Public RPCs (the access layer turns anonymous callers away on a private instance)."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    def __init__(self, previewer: LinkPreviewer) -> None:
        self._previewer = previewer

    async def GetLinkMetadata(self, request: api.GetLinkMetadataRequest, ctx: CallContext) -> api.LinkMetadata:
        return await self._metadata(request.url)

    async def BatchGetLinkMetadata(
        self, request: api.BatchGetLinkMetadataRequest, ctx: CallContext
    ) -> api.BatchGetLinkMetadataResponse:
        if not request.urls:
            raise RpcError(Code.INVALID_ARGUMENT, "urls are required")
        if len(request.urls) > MAX_BATCH_URLS:
            raise RpcError(Code.INVALID_ARGUMENT, f"too many urls (max {MAX_BATCH_URLS})")
        for url in request.urls:  # every URL is checked before any page is fetched
            _required(url)
        tasks = [asyncio.ensure_future(self._metadata(url)) for url in request.urls]
        try:
            results = await asyncio.gather(*tasks)
        finally:
            for task in tasks:  # one failure fails the batch: the other fetches are not waited for
                task.cancel()
        return api.BatchGetLinkMetadataResponse(link_metadata=results)

    async def _metadata(self, url: str) -> api.LinkMetadata:
        try:
            page = await self._previewer.fetch(_required(url))
        except LinkFetchError as exc:
            raise RpcError(Code.INVALID_ARGUMENT, f"failed to fetch link metadata: {exc}") from None
        # The URL is echoed as the client sent it, untrimmed.
        return api.LinkMetadata(url=url, title=page.title, description=page.description, image=page.image)


def _required(url: str) -> str:
    trimmed = url.strip()
    if not trimmed:
        raise RpcError(Code.INVALID_ARGUMENT, "url is required")
    return trimmed
