"""memos.api.v1.AttachmentService: CreateAttachment, ListAttachments, GetAttachment, UpdateAttachment,
DeleteAttachment, BatchDeleteAttachments (spec memos.md §6).

Every RPC needs a signed-in caller (the access layer turns anonymous callers away first).
An upload is checked completely (``upload``) before a byte is stored; its bytes go where
the STORAGE setting says (``memos.storage.attachments.AttachmentStorage``), then the row
is written. Deleting works the other way round: the rows go first, in one transaction,
then the stored bytes, so a failure can leave an orphan file (logged) but never a row
pointing at nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterable, Sequence

from google.protobuf import empty_pb2

from memos.api.access import is_admin, require_caller
from memos.api.attachment.removal import remove_stored
from memos.api.attachment.upload import (
    ContentPipeline,
    check_filename,
    check_size,
    choose_type,
    client_motion,
)
from memos.api.convert.attachment import attachment_to_message
from memos.api.convert.memo import memo_name
from memos.api.filters import attachment_filter
from memos.api.ids import chosen_or_new_uid
from memos.api.names import parse_attachment_name, parse_memo_name
from memos.api.paging import normalized_page_size
from memos.api.visibility import PRIVATE, PROTECTED, PUBLIC
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import attachment_service_pb2 as api
from memos.gen.store import attachment_pb2 as store_pb
from memos.gen.store.instance_setting_pb2 import InstanceStorageSetting
from memos.storage.attachments import AttachmentStorage, StorageUnavailable, StoredContent
from memos.store import (
    Attachment,
    AttachmentRef,
    CreateAttachment,
    FindAttachment,
    FindMemo,
    Memo,
    Store,
    StoreError,
    UpdateAttachment,
    User,
)

log = logging.getLogger(__name__)

MAX_BATCH_DELETE = 100
# ListAttachments' page token is a decimal offset; Memos reads the integer it starts with.
_LEADING_INTEGER = re.compile(r"\s*([+-]?\d+)")


class AttachmentService:
    """The six AttachmentService RPCs over one store and one AttachmentStorage."""

    SERVICE_NAME = "memos.api.v1.AttachmentService"

    def __init__(self, store: Store, storage: AttachmentStorage, pipeline: ContentPipeline | None = None) -> None:
        self._store = store
        self._storage = storage
        self._pipeline = pipeline or ContentPipeline()

    # --- CreateAttachment -------------------------------------------------------------------------

    async def CreateAttachment(self, request: api.CreateAttachmentRequest, ctx: CallContext) -> api.Attachment:
        caller = require_caller(ctx)
        if not request.HasField("attachment"):
            raise RpcError(Code.INVALID_ARGUMENT, "attachment is required")
        wanted = request.attachment
        filename = wanted.filename
        check_filename(filename)
        # Read once: every read of a bytes field hands out a fresh copy of the whole upload.
        content = wanted.content
        content_type = choose_type(wanted.type, filename, content)
        uid = chosen_or_new_uid(request.attachment_id)
        motion = client_motion(wanted)
        setting = await self._storage_setting()
        check_size(len(content), setting.upload_size_limit_mb)
        memo = await self._memo_to_link(wanted, caller)
        await self._refuse_taken_uid(uid)
        # Rebinding drops the original bytes when stripping made new ones.
        content, motion = await self._pipeline.process(content, content_type, uid, motion)
        size = len(content)
        stored = await self._save(setting, uid, filename, content_type, content)
        del content  # DATABASE storage carries it on in ``stored.blob``; nothing else needs it
        create = CreateAttachment(
            uid=uid,
            creator_id=caller.id,
            filename=filename,
            type=content_type,
            size=size,
            storage_type=stored.storage_type,
            reference=stored.reference,
            payload=_payload(stored, motion),
            blob=stored.blob,
            memo_id=memo.id if memo is not None else None,
        )
        try:
            row = await self._store.attachments.create(create)
        except StoreError as exc:
            await self._storage.remove([AttachmentRef(0, uid, stored.storage_type, stored.reference, create.payload)])
            raise RpcError(Code.INTERNAL, f"failed to create attachment: {exc}") from None
        return attachment_to_message(row, memo_name=memo_name(memo.uid) if memo is not None else None)

    async def _storage_setting(self) -> InstanceStorageSetting:
        return (await self._store.instance_settings.get("STORAGE")).storage_setting

    async def _memo_to_link(self, wanted: api.Attachment, caller: User) -> Memo | None:
        """The memo the upload names (spec §6.1 step 7): the caller's own, or any for an admin."""
        if not wanted.HasField("memo"):
            return None
        uid = parse_memo_name(wanted.memo)
        memo = await self._store.memos.get_by_uid(uid)
        if memo is None:
            raise RpcError(Code.NOT_FOUND, f"memo not found: {memo_name(uid)}")
        if memo.creator_id != caller.id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        return memo

    async def _refuse_taken_uid(self, uid: str) -> None:
        # Checked before the bytes are stored, so a taken id costs no upload to disk or S3.
        if await self._store.attachments.get(FindAttachment(uid=uid)) is not None:
            raise RpcError(Code.INTERNAL, f'failed to create attachment: attachment with ID "{uid}" already exists')

    async def _save(
        self, setting: InstanceStorageSetting, uid: str, filename: str, content_type: str, content: bytes
    ) -> StoredContent:
        try:
            return await self._storage.save(
                setting, uid=uid, filename=filename, content_type=content_type, content=content,
                now=dt.datetime.now().astimezone(),
            )
        except StorageUnavailable as exc:
            raise RpcError(Code.INTERNAL, f"failed to save attachment blob: {exc}") from None

    # --- ListAttachments ----------------------------------------------------------------------------

    async def ListAttachments(
        self, request: api.ListAttachmentsRequest, ctx: CallContext
    ) -> api.ListAttachmentsResponse:
        caller = require_caller(ctx)
        limit = normalized_page_size(request.page_size)
        offset = _offset_token(request.page_token)
        condition = attachment_filter(request.filter)
        # ``order_by`` is ignored: the newest change first, always.
        find = FindAttachment(creator_id=caller.id, filter=condition, limit=limit, offset=offset)
        try:
            found = await self._store.attachments.find(find)
        except StoreError as exc:
            raise RpcError(Code.INTERNAL, f"failed to list attachments: {exc}") from None
        return api.ListAttachmentsResponse(
            attachments=await self._messages(found),
            # Memos hands out a token whenever the page is full, even when nothing follows.
            next_page_token=str(offset + limit) if len(found) == limit else "",
        )

    async def _messages(self, attachments: Sequence[Attachment]) -> list[api.Attachment]:
        """Attachment messages, each naming its memo (read in one query)."""
        memo_ids = {a.memo_id for a in attachments if a.memo_id is not None}
        memo_uids: dict[int, str] = {}
        if memo_ids:
            find = FindMemo(ids=sorted(memo_ids), row_status=None, exclude_comments=False)
            memo_uids = {memo.id: memo.uid for memo in await self._store.memos.find_summaries(find)}
        return [
            attachment_to_message(a, memo_name=_linked_memo_name(a, memo_uids.get(a.memo_id or 0)))
            for a in attachments
        ]

    # --- GetAttachment ------------------------------------------------------------------------------

    async def GetAttachment(self, request: api.GetAttachmentRequest, ctx: CallContext) -> api.Attachment:
        caller = require_caller(ctx)
        attachment = await self._attachment(_attachment_uid(request.name))
        memo = await self._check_readable(attachment, caller)
        return attachment_to_message(attachment, memo_name=memo_name(memo.uid) if memo is not None else None)

    async def _attachment(self, uid: str, *, creator_id: int | None = None) -> Attachment:
        found = await self._store.attachments.get(FindAttachment(uid=uid, creator_id=creator_id))
        if found is None:
            raise RpcError(Code.NOT_FOUND, "attachment not found")
        return found

    async def _check_readable(self, attachment: Attachment, caller: User) -> Memo | None:
        """Spec §6.3: an unlinked attachment is its creator's (and admins'); a linked one is as
        visible as its memo. Returns the memo it is linked to."""
        if attachment.memo_id is None:
            if attachment.creator_id != caller.id and not is_admin(caller):
                raise RpcError(Code.PERMISSION_DENIED, "permission denied")
            return None
        memo = await self._store.memos.get_by_id(attachment.memo_id)
        if memo is None:
            raise RpcError(Code.NOT_FOUND, "memo not found")
        if memo.visibility in (PUBLIC, PROTECTED):
            return memo  # the caller is signed in: PROTECTED is theirs to read
        if memo.visibility == PRIVATE and (memo.creator_id == caller.id or is_admin(caller)):
            return memo
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")

    # --- UpdateAttachment ---------------------------------------------------------------------------

    async def UpdateAttachment(self, request: api.UpdateAttachmentRequest, ctx: CallContext) -> api.Attachment:
        uid = _attachment_uid(request.attachment.name)
        paths = list(request.update_mask.paths)
        if not paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update mask is required")
        caller = require_caller(ctx)
        attachment = await self._attachment(uid)
        if attachment.creator_id != caller.id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        filename = None
        if "filename" in paths:  # the only field a client may change; other paths are ignored
            check_filename(request.attachment.filename)
            filename = request.attachment.filename
        # The time moves on every successful call, which can move the attachment within its memo.
        change = UpdateAttachment(id=attachment.id, filename=filename, updated_ts=int(time.time()))
        try:
            updated = await self._store.attachments.update(change)
        except StoreError:
            raise RpcError(Code.NOT_FOUND, "attachment not found") from None  # deleted meanwhile
        # The response is what GetAttachment answers the caller.
        memo = await self._check_readable(updated, caller)
        return attachment_to_message(updated, memo_name=memo_name(memo.uid) if memo is not None else None)

    # --- DeleteAttachment, BatchDeleteAttachments ------------------------------------------------------

    async def DeleteAttachment(self, request: api.DeleteAttachmentRequest, ctx: CallContext) -> empty_pb2.Empty:
        caller = require_caller(ctx)
        # Only one's own: someone else's attachment does not exist here, even for an admin.
        attachment = await self._attachment(_attachment_uid(request.name), creator_id=caller.id)
        await self._delete([attachment])
        return empty_pb2.Empty()

    async def BatchDeleteAttachments(
        self, request: api.BatchDeleteAttachmentsRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        caller = require_caller(ctx)
        uids = _batch_uids(request.names)
        attachments = []
        for uid in uids:  # every one is checked before anything is deleted
            attachment = await self._attachment(uid)
            if attachment.creator_id != caller.id and not is_admin(caller):
                raise RpcError(Code.PERMISSION_DENIED, "permission denied")
            attachments.append(attachment)
        await self._delete(attachments)
        return empty_pb2.Empty()

    async def _delete(self, attachments: Iterable[Attachment]) -> None:
        """Rows first (one transaction), then their stored bytes and caches.

        Memos answers INTERNAL when a local file cannot be removed, after it has removed
        others and before the row goes. Here the rows are gone by then, so the answer is
        success and the leftover file is logged: an orphan file wastes space, while a row
        whose file is gone would be a broken attachment for every reader.
        """
        removed = await self._store.attachments.delete([a.id for a in attachments])
        await remove_stored(self._store, self._storage, removed)


def _payload(stored: StoredContent, motion: store_pb.MotionMedia | None) -> store_pb.AttachmentPayload:
    payload = store_pb.AttachmentPayload()
    if stored.s3_object is not None:
        payload.s3_object.CopyFrom(stored.s3_object)
    if motion is not None:
        payload.motion_media.CopyFrom(motion)
    return payload


def _linked_memo_name(attachment: Attachment, memo_uid: str | None) -> str | None:
    return memo_name(memo_uid) if attachment.memo_id is not None and memo_uid is not None else None


def _attachment_uid(name: str) -> str:
    """``attachments/{uid}`` -> uid; the attachment RPCs word a bad name ``invalid attachment id: ...``."""
    try:
        return parse_attachment_name(name)
    except RpcError as exc:
        raise RpcError(exc.code, exc.message.replace("invalid attachment name", "invalid attachment id", 1)) from None


def _batch_uids(names: Sequence[str]) -> list[str]:
    """The distinct uids of a BatchDeleteAttachments request, in request order (spec §6.6)."""
    if not names:
        raise RpcError(Code.INVALID_ARGUMENT, "attachment names are required")
    if len(names) > MAX_BATCH_DELETE:
        raise RpcError(Code.INVALID_ARGUMENT, f"too many attachment names; max {MAX_BATCH_DELETE}")
    uids: dict[str, None] = {}
    for name in names:
        if not name:
            raise RpcError(Code.INVALID_ARGUMENT, "attachment name is required")
        uids[_attachment_uid(name)] = None
    return list(uids)


def _offset_token(token: str) -> int:
    """ListAttachments' page token: the decimal offset it starts with; "" is the first page."""
    if not token:
        return 0
    match = _LEADING_INTEGER.match(token)
    if match is None:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid page token")
    return max(int(match.group(1)), 0)
