"""MemoService RPCs on memos themselves: create, list, get, update, delete (spec §3.1-3.5)."""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from google.protobuf import empty_pb2

from memos.api import live
from memos.api.access import require_caller
from memos.api.attachment.removal import remove_stored
from memos.api.convert.memo import (
    location_to_payload,
    remember_snippet,
    state_to_store,
    timestamp_seconds,
    visibility_to_store,
)
from memos.api.filters import memo_filter
from memos.api.memo.attachments import AttachmentPlan, apply_attachments, plan_attachments
from memos.api.memo.lookup import list_scope
from memos.api.memo.writer import MemoWriter, client_time
from memos.api.names import parse_memo_name
from memos.api.paging import requested_page
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.gen.store import memo_pb2
from memos.markdown import HTML_VERSION, fill_payload
from memos.store import (
    FindMemo,
    Memo,
    StoreError,
    UpdateMemo,
    User,
)
from memos.store.memo import TimeField

log = logging.getLogger(__name__)

ORDER_FIELDS = ("pinned", "create_time", "update_time", "name")
_TIME_COLUMNS: dict[str, TimeField] = {"create_time": "created_ts", "name": "created_ts", "update_time": "updated_ts"}


@dataclasses.dataclass(frozen=True, slots=True)
class MemoOrder:
    """What ``order_by`` asks for: pinned first or not, one time column and its direction."""

    pinned_first: bool = False
    time_field: TimeField = "created_ts"
    ascending: bool = False


def parse_order_by(text: str) -> MemoOrder:
    """ListMemos ``order_by`` (spec §3.2): ``field [asc|desc], ...``; INVALID_ARGUMENT ``invalid order_by: ...``."""
    if not text:
        return MemoOrder()
    if not text.strip():
        raise RpcError(Code.INVALID_ARGUMENT, "invalid order_by: empty order_by")
    pinned_first = False
    time_order: tuple[TimeField, bool] | None = None
    for item in text.split(","):
        words = item.split()
        if not words:
            continue
        field, direction = words[0], words[1].lower() if len(words) > 1 else "desc"
        if field not in ORDER_FIELDS:
            raise RpcError(
                Code.INVALID_ARGUMENT,
                f"invalid order_by: unsupported order field: {field}, supported fields are: "
                "pinned, create_time, update_time, name",
            )
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise RpcError(
                Code.INVALID_ARGUMENT,
                f"invalid order_by: invalid order direction: {' '.join(words[1:])}, must be 'asc' or 'desc'",
            )
        if field == "pinned":
            pinned_first = True  # always descending, always the first key, wherever it is listed
        elif time_order is None:
            time_order = (_TIME_COLUMNS[field], direction == "asc")  # later time fields are ignored
    time_field, ascending = time_order or ("created_ts", False)
    return MemoOrder(pinned_first, time_field, ascending)


class MemoService(MemoWriter):
    """Memos themselves: CreateMemo, ListMemos, GetMemo, UpdateMemo, DeleteMemo."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    # --- CreateMemo ---------------------------------------------------------------------------

    async def CreateMemo(self, request: api.CreateMemoRequest, ctx: CallContext) -> api.Memo:
        caller = require_caller(ctx)
        memo, derived_mentions = await self._create(request.memo, request.memo_id, caller)
        message = await self._render_one(memo, caller)
        await self._effects.memo_created(message, memo_id=memo.id, creator=caller, mentioned=derived_mentions)
        self._publish(live.memo_created(memo))
        return message

    # --- ListMemos ----------------------------------------------------------------------------

    async def ListMemos(self, request: api.ListMemosRequest, ctx: CallContext) -> api.ListMemosResponse:
        caller: User | None = ctx.principal
        archived = request.state == common_pb2.ARCHIVED
        if archived and caller is None:
            return api.ListMemosResponse()  # nobody's archive is anonymous
        order = parse_order_by(request.order_by)
        condition = memo_filter(request.filter)
        page = requested_page(request.page_size, request.page_token)
        find = FindMemo(
            filter=condition,
            pinned_first=order.pinned_first,
            time_field=order.time_field,
            ascending=order.ascending,
            limit=page.fetch_limit,
            offset=page.offset,
            **list_scope(caller, archived),
        )
        try:
            found = await self._store.memos.find_page(find)  # one read: the memos and what they show
        except StoreError as exc:
            log.warning("ListMemos failed: %s", exc)
            raise RpcError(Code.INTERNAL, f"failed to list memos: {exc}") from None
        return api.ListMemosResponse(
            memos=await self._render_page(found.memos[: page.limit], found, caller),
            next_page_token=page.next_page_token(len(found.memos)),
        )

    # --- GetMemo --------------------------------------------------------------------------------

    async def GetMemo(self, request: api.GetMemoRequest, ctx: CallContext) -> api.Memo:
        return await self._readable_rendered(request.name, ctx.principal)

    # --- UpdateMemo -----------------------------------------------------------------------------

    async def UpdateMemo(self, request: api.UpdateMemoRequest, ctx: CallContext) -> api.Memo:
        uid = parse_memo_name(request.memo.name)
        paths = list(request.update_mask.paths)
        if not paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update mask is required")
        memo = await self._memo_by_uid(uid)
        caller = self._check_writer(memo, ctx)
        creator = await self._creator_of(memo)
        parent = await self._parent_of(memo)
        plan = await self._update_plan(memo, request.memo, paths, caller, parent)
        references = tuple(plan.references) if plan.references is not None else None
        updated = await self._store.memos.update(dataclasses.replace(plan.update, id=memo.id, references=references))
        if plan.attachments is not None:
            await apply_attachments(self._store, self._storage, memo.id, plan.attachments)
        if plan.html is not None:
            await self._store.memo_html.put(memo.id, updated.content, plan.html, HTML_VERSION)
        message = await self._render_one(updated, caller)
        await self._effects.memo_updated(
            message,
            memo_id=memo.id,
            creator=creator,
            previous_content=memo.content if plan.mentions is not None else None,
            parent=self._parent_memo(parent) if parent is not None else None,
            mentioned=plan.mentions,
        )
        self._publish(live.memo_updated(updated, parent))
        return message

    async def _update_plan(
        self, memo: Memo, wanted: api.Memo, paths: list[str], caller: User, parent: Memo | None
    ) -> _UpdatePlan:
        """Every change the mask asks for, validated before anything is written (spec §3.4)."""
        changes: dict[str, Any] = {}
        payload: memo_pb2.MemoPayload | None = None
        mentions: tuple[str, ...] | None = None
        html: str | None = None
        references: list[int] | None = None
        attachments: AttachmentPlan | None = None
        for path in paths:
            if path == "content":
                await self._check_content(wanted.content)
                derived = await self._derive(wanted.content)
                payload = payload or _copy_payload(memo.payload)
                fill_payload(payload, derived)
                changes["content"] = wanted.content
                mentions = derived.mentions
                html = derived.html
                remember_snippet(wanted.content, derived.snippet)  # a pure function of the content
            elif path == "visibility":
                # A comment always has its parent's visibility, whatever is asked.
                changes["visibility"] = parent.visibility if parent is not None else visibility_to_store(
                    wanted.visibility
                )
            elif path == "pinned":
                changes["pinned"] = wanted.pinned
            elif path == "state":
                changes["row_status"] = state_to_store(wanted.state)
            elif path == "create_time":
                changes["created_ts"] = timestamp_seconds(wanted.create_time) or 0
            elif path == "update_time":
                given = client_time(wanted, "update_time")
                changes["updated_ts"] = given if given is not None else int(time.time())
            elif path == "display_time":
                raise RpcError(Code.INVALID_ARGUMENT, "display_time is not supported")
            elif path == "location":
                payload = payload or _copy_payload(memo.payload)
                if wanted.HasField("location"):
                    location_to_payload(wanted.location, payload)
                else:
                    payload.ClearField("location")
            elif path == "attachments":
                attachments = await plan_attachments(self._store, memo.id, wanted.attachments, caller)
            elif path == "relations":
                references = await self._reference_targets(
                    wanted.relations, caller, self_uid=memo.uid, self_id=memo.id
                )
            elif path not in _IGNORED_PATHS:
                raise RpcError(Code.INVALID_ARGUMENT, f"invalid update path: {path}")
        if payload is not None:
            changes["payload"] = payload
        return _UpdatePlan(UpdateMemo(id=memo.id, **changes), mentions, html, references, attachments)

    # --- DeleteMemo ---------------------------------------------------------------------------

    async def DeleteMemo(self, request: api.DeleteMemoRequest, ctx: CallContext) -> empty_pb2.Empty:
        memo = await self._memo_named(request.name)
        caller = self._check_writer(memo, ctx)
        message = await self._rendered_or_none(memo, caller)
        creator = await self._user_by_id(memo.creator_id)
        if message is not None and creator is not None:
            await self._effects.memo_deleted(message, creator=creator)
        try:
            removed = await self._store.memos.delete(memo.id)
        except StoreError as exc:
            raise RpcError(Code.NOT_FOUND, "memo not found") from exc  # deleted meanwhile
        # The rows are gone; content that could not be removed is only an orphan (logged).
        await remove_stored(self._store, self._storage, removed)
        self._publish(live.memo_deleted(request.name, memo))
        return empty_pb2.Empty()

    async def _rendered_or_none(self, memo: Memo, caller: User) -> api.Memo | None:
        rendered = await self._render([memo], caller, single=True)
        return rendered[0] if rendered else None


# Paths naming fields of Memo that a client cannot set: ignored, as Memos does, so a client
# that PATCHes a whole memo it read keeps working. A path naming no field at all is an error.
# The empty path is what a REST body of exactly {} yields (§0.6): it changes nothing.
_IGNORED_PATHS = frozenset({"", "name", "creator", "tags", "snippet", "property", "parent", "reactions"})


@dataclasses.dataclass(frozen=True, slots=True)
class _UpdatePlan:
    update: UpdateMemo
    mentions: tuple[str, ...] | None  # set when the content changes: its mentions
    html: str | None  # set when the content changes: its rendering, stored once here rather than on reads
    references: list[int] | None  # set when the mask names relations: the new outgoing references
    attachments: AttachmentPlan | None  # set when the mask names attachments: the memo's new set


def _copy_payload(payload: memo_pb2.MemoPayload | None) -> memo_pb2.MemoPayload:
    copy = memo_pb2.MemoPayload()
    if payload is not None:
        copy.CopyFrom(payload)
    return copy
