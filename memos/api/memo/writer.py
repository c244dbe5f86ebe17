"""How a memo is created, shared by CreateMemo and CreateMemoComment (spec §3.1)."""
from __future__ import annotations

from memos.api.convert.memo import location_to_payload, remember_snippet, timestamp_seconds, visibility_to_store
from memos.api.ids import chosen_or_new_uid
from memos.api.memo.attachments import AttachmentPlan, apply_attachments, plan_attachments, wrapped_error
from memos.api.memo.lookup import MemoLookups
from memos.call import Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.gen.store import memo_pb2
from memos.markdown import HTML_VERSION, fill_payload
from memos.store import RELATION_COMMENT, RELATION_REFERENCE, CreateMemo, Memo, User
from memos.store.errors import Conflict


class MemoWriter(MemoLookups):
    """The base of the MemoService parts that create memos."""

    async def _create(
        self,
        wanted: api.Memo,
        requested_uid: str,
        caller: User,
        *,
        visibility: str | None = None,
        parent_id: int | None = None,
    ) -> tuple[Memo, tuple[str, ...]]:
        """Validate everything, then store the memo with its references (spec §3.1) in one transaction.

        ``visibility`` overrides the requested one (comments take their parent's); ``parent_id``
        makes the memo a comment on that memo. Returns the row and the mentions its content derived.
        """
        uid = chosen_or_new_uid(requested_uid)
        await self._check_content(wanted.content)
        # Checked before the memo is stored (Memos stores the memo first and keeps it when
        # attaching fails): a refused request leaves nothing behind.
        attachments = await self._attachment_plan(wanted, caller)
        targets = await self._reference_targets(wanted.relations, caller, self_uid=uid, self_id=None)
        derived = await self._derive(wanted.content)
        payload = memo_pb2.MemoPayload()
        fill_payload(payload, derived)
        if wanted.HasField("location"):
            location_to_payload(wanted.location, payload)
        create = CreateMemo(
            uid=uid,
            creator_id=caller.id,
            content=wanted.content,
            visibility=visibility or visibility_to_store(wanted.visibility),
            payload=payload,
            created_ts=client_time(wanted, "create_time"),
            updated_ts=client_time(wanted, "update_time"),
            relations=(
                *((target, RELATION_REFERENCE) for target in targets),
                *(((parent_id, RELATION_COMMENT),) if parent_id is not None else ()),
            ),
        )
        try:
            memo = await self._store.memos.create(create)
        except Conflict:
            raise RpcError(Code.ALREADY_EXISTS, f'memo with ID "{uid}" already exists') from None
        if attachments is not None:
            await apply_attachments(self._store, self._storage, memo.id, attachments)
        await self._store.memo_html.put(memo.id, memo.content, derived.html, HTML_VERSION)
        remember_snippet(memo.content, derived.snippet)
        return memo, derived.mentions

    async def _attachment_plan(self, wanted: api.Memo, caller: User) -> AttachmentPlan | None:
        """The new memo's attachments, bound as SetMemoAttachments would bind them to an empty memo."""
        if not wanted.attachments:
            return None
        try:
            return await plan_attachments(self._store, None, wanted.attachments, caller)
        except RpcError as exc:
            raise wrapped_error(exc) from None


def client_time(memo: api.Memo, field: str) -> int | None:
    """A create/update time the client gave, or None (the store's now) when absent, epoch 0 or unusable."""
    if not memo.HasField(field):
        return None
    return timestamp_seconds(getattr(memo, field)) or None
