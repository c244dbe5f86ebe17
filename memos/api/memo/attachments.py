"""MemoService RPCs on a memo's attachments: SetMemoAttachments and ListMemoAttachments (spec §3.6, §3.7),
and the one way a memo's set of attachments is replaced, shared with CreateMemo and UpdateMemo.

Replacing a memo's attachments is planned first (``plan_attachments``: every check made,
nothing written), then applied in one transaction (``apply_attachments``): the kept ones are
linked to the memo in the requested order, the others deleted, and only then their stored
bytes removed.

Motion groups (spec §3.6 step 2): the halves of an Apple Live Photo (a still and a video
sharing ``motion_media.group_id``) belong together. A request that names only some of a
group the memo holds drops the whole group, so a client cannot leave half a Live Photo
behind; a group's members are kept together at the position of the first one named.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from google.protobuf import empty_pb2

from memos.api.access import is_admin, require_caller
from memos.api.attachment.removal import remove_stored
from memos.api.convert.attachment import attachment_to_message
from memos.api.convert.memo import memo_name
from memos.api.memo.lookup import SINGLE_MEMO_ATTACHMENTS, MemoLookups
from memos.api.names import parse_attachment_name, parse_memo_name
from memos.api.visibility import PRIVATE
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import attachment_service_pb2 as attachment_api
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.storage.attachments import AttachmentStorage
from memos.store import Attachment, FindAttachment, SetMemoAttachments, Store, User


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentPlan:
    """A memo's new set: ``keep`` (attachment ids, in the order the memo shows them) and ``remove``."""

    keep: tuple[int, ...]
    remove: tuple[int, ...]


class MemoAttachmentService(MemoLookups):
    """A memo's attachments: replacing them, listing them."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    async def SetMemoAttachments(self, request: api.SetMemoAttachmentsRequest, ctx: CallContext) -> empty_pb2.Empty:
        require_caller(ctx)
        memo = await self._memo_by_uid(parse_memo_name(request.name))
        caller = self._check_writer(memo, ctx)
        creator = await self._creator_of(memo)
        plan = await plan_attachments(self._store, memo.id, request.attachments, caller)
        await apply_attachments(self._store, self._storage, memo.id, plan)
        await self._announce_set_change(memo, caller, creator)
        return empty_pb2.Empty()

    async def ListMemoAttachments(
        self, request: api.ListMemoAttachmentsRequest, ctx: CallContext
    ) -> api.ListMemoAttachmentsResponse:
        caller = require_caller(ctx)
        memo = await self._memo_named(request.name)
        # Only PRIVATE is guarded (PROTECTED is for every signed-in caller); the archive is not checked.
        if memo.visibility == PRIVATE and memo.creator_id != caller.id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        found = await self._store.attachments.find_by_memo_ids([memo.id], per_memo_limit=SINGLE_MEMO_ATTACHMENTS)
        name = memo_name(memo.uid)
        # Not paged: the page fields are ignored and no token is ever given.
        return api.ListMemoAttachmentsResponse(
            attachments=[attachment_to_message(attachment, memo_name=name) for attachment in found[memo.id]]
        )


# --- the shared algorithm -----------------------------------------------------------------------------


async def plan_attachments(
    store: Store, memo_id: int | None, requested: Sequence[attachment_api.Attachment], caller: User
) -> AttachmentPlan:
    """Spec §3.6 steps 1-3 for memo ``memo_id`` (None: a memo being created, holding nothing yet).

    Every check is made before anything changes: a refused removal leaves the memo as it was.
    """
    chosen = await resolve_requested(store, requested, caller)
    current: list[Attachment] = []
    if memo_id is not None:
        held = await store.attachments.find_by_memo_ids([memo_id], per_memo_limit=SINGLE_MEMO_ATTACHMENTS)
        current = held[memo_id]
    kept = normalise_motion_groups(chosen, current)
    kept_ids = {attachment.id for attachment in kept}
    removed = [attachment for attachment in current if attachment.id not in kept_ids]
    for attachment in removed:
        if attachment.creator_id != caller.id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "cannot remove another user's attachment")
    return AttachmentPlan(tuple(a.id for a in kept), tuple(a.id for a in removed))


async def apply_attachments(store: Store, storage: AttachmentStorage, memo_id: int, plan: AttachmentPlan) -> None:
    """Links the kept attachments (moving any from another memo) and deletes the rest, in one
    transaction; then the removed ones' stored bytes go (a failure there is logged, not raised)."""
    change = SetMemoAttachments(memo_id=memo_id, keep=plan.keep, remove=plan.remove, now=int(time.time()))
    removed = await store.attachments.set_memo_attachments(change)
    await remove_stored(store, storage, removed)


async def resolve_requested(
    store: Store, requested: Sequence[attachment_api.Attachment], caller: User
) -> list[Attachment]:
    """Step 1: the attachments the request names (only their names are read), in request order.

    Read in one query; the errors are still those of the first bad entry in request order.
    """
    uids: list[str | RpcError] = []
    for item in requested:
        try:
            uids.append(parse_attachment_name(item.name))
        except RpcError as exc:
            uids.append(exc)
    wanted = [uid for uid in uids if isinstance(uid, str)]
    found = {a.uid: a for a in await store.attachments.find(FindAttachment(uids=wanted))} if wanted else {}
    chosen = []
    for uid in uids:
        if isinstance(uid, RpcError):
            raise uid
        attachment = found.get(uid)
        if attachment is None:
            raise RpcError(Code.NOT_FOUND, f"attachment not found: {uid}")
        if attachment.creator_id != caller.id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "cannot attach another user's attachment")
        chosen.append(attachment)
    return chosen


def motion_group(attachment: Attachment) -> str:
    """The motion group an attachment belongs to; "" for none."""
    payload = attachment.payload
    if payload is None or not payload.HasField("motion_media"):
        return ""
    return str(payload.motion_media.group_id)


def normalise_motion_groups(requested: Sequence[Attachment], current: Sequence[Attachment]) -> list[Attachment]:
    """Step 2: the request in order, without repeats, with each motion group kept whole or dropped.

    A group the memo holds two or more members of is dropped from the request unless the
    request names all of them; otherwise the requested members of a group stand together
    where the first of them was named.
    """
    held: dict[str, set[int]] = {}
    for attachment in current:
        group = motion_group(attachment)
        if group:
            held.setdefault(group, set()).add(attachment.id)
    requested_ids = {attachment.id for attachment in requested}
    kept: list[Attachment] = []
    seen_ids: set[int] = set()
    seen_groups: set[str] = set()
    for attachment in requested:
        group = motion_group(attachment)
        if not group:
            if attachment.id not in seen_ids:
                seen_ids.add(attachment.id)
                kept.append(attachment)
            continue
        if group in seen_groups:
            continue  # placed with the first member of its group
        seen_groups.add(group)
        members_held = held.get(group, set())
        if len(members_held) >= 2 and not members_held <= requested_ids:
            continue  # part of a group the memo holds: the whole group goes
        for member in requested:
            if motion_group(member) == group and member.id not in seen_ids:
                seen_ids.add(member.id)
                kept.append(member)
    return kept


def wrapped_error(exc: RpcError) -> RpcError:
    """How CreateMemo reports a failure to attach (spec §0.4): the code kept, the message as Go words it."""
    described = f"rpc error: code = {go_code_name(exc.code)} desc = {exc.message}"
    return RpcError(exc.code, f"failed to set memo attachments: {described}")


def go_code_name(code: Code) -> str:
    """The name Go's gRPC status gives a code (``PermissionDenied``, ``Canceled``)."""
    if code is Code.OK:
        return "OK"
    if code is Code.CANCELLED:
        return "Canceled"
    return "".join(word.capitalize() for word in code.name.split("_"))
