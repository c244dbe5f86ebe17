"""MemoService RPCs on comments: CreateMemoComment and ListMemoComments (spec §3.10, §3.11).

A comment is a memo with a COMMENT relation to the memo it belongs to (its parent); it
always has its parent's visibility and never appears in ListMemos.
"""
from __future__ import annotations

from memos.api import live
from memos.api.access import is_admin, require_caller
from memos.api.memo.lookup import list_scope
from memos.api.memo.writer import MemoWriter
from memos.api.paging import requested_page
from memos.api.visibility import PRIVATE
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import FindMemo, User


class MemoCommentService(MemoWriter):
    """Comments: creating one under a memo, listing a memo's comments."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    async def CreateMemoComment(self, request: api.CreateMemoCommentRequest, ctx: CallContext) -> api.Memo:
        parent = await self._memo_named(request.name)
        caller = require_caller(ctx)
        if parent.visibility == PRIVATE and caller.id != parent.creator_id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        if not request.HasField("comment"):
            raise RpcError(Code.INVALID_ARGUMENT, "comment is required")
        try:
            comment, mentioned = await self._create(
                request.comment, request.comment_id, caller, visibility=parent.visibility, parent_id=parent.id
            )
        except RpcError as exc:
            # Memos answers INTERNAL for any of these; the client's mistakes keep their own code here.
            raise RpcError(exc.code, f"failed to create memo: {exc.message}") from None
        message = await self._render_one(comment, caller)
        await self._effects.comment_created(
            message, comment_id=comment.id, commenter=caller, parent=self._parent_memo(parent), mentioned=mentioned
        )
        self._publish(live.comment_created(parent))
        return message

    async def ListMemoComments(
        self, request: api.ListMemoCommentsRequest, ctx: CallContext
    ) -> api.ListMemoCommentsResponse:
        parent = await self._memo_named(request.name)
        caller: User | None = ctx.principal
        self._check_readable(parent, caller)
        page = requested_page(request.page_size, request.page_token)
        # Paged over the relation rows (newest comment id first), then shown newest first.
        ids = await self._store.memo_relations.find_comment_ids(
            parent.id, limit=page.fetch_limit, offset=page.offset
        )
        scope = list_scope(caller, archived=False)
        del scope["row_status"]  # archived comments are listed too
        comments = await self._store.memos.find(
            FindMemo(ids=ids[: page.limit], row_status=None, exclude_comments=False, **scope)
        ) if ids else []
        return api.ListMemoCommentsResponse(
            memos=await self._render(comments, caller),
            next_page_token=page.next_page_token(len(ids)),
        )
