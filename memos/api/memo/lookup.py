"""Finding the memos a MemoService request names, deciding who may read or change them, and
rendering memos as responses; the base every part of MemoService builds on.

MemoService is split by concern into one class per module here (memos, comments,
relations, reactions, shares, ...), each bound to ``memos.api.v1.MemoService`` for its
own RPCs and each a ``MemoLookups``. Public methods of those classes are RPCs, so the
shared helpers here start with ``_``.

Access (spec §2):
- ``_check_readable``: the single-memo rules of §2.1 (archived -> NOT_FOUND for all but
  the creator, non-PUBLIC -> UNAUTHENTICATED for anonymous callers, PRIVATE -> PERMISSION_DENIED
  for all but the creator, admins included); ``_check_readable_with_parent`` adds the
  parent step of GetMemo.
- ``_check_writer``: creator or admin, else PERMISSION_DENIED ``permission denied``.
- relations in responses are those whose both ends ``may_see`` (``memos.api.visibility``).

Rendering: ``_render(memos, caller, single=...)`` turns store rows into Memo messages in a
constant number of queries per page (attachments, relations, reactions each read in one
batch; creators' usernames come from the store's user cache), dropping memos whose
creator row is gone. ``single=True`` is the shape of one-memo responses: relation snippets
filled and at most 100 attachments.

Every part is constructed as ``(store, profile, effects, live, storage)`` (``memos/app.py``). After a
committed write it calls ``self._effects`` (``memos.api.memo_effects``) and
``self._publish(<event helper of memos.api.live>(...))``.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from memos.api import live
from memos.api.access import is_admin, require_caller
from memos.api.convert.memo import MemoParts, memo_name, memo_to_message, visibility_to_message
from memos.api.live import LiveHub, MemoEvent
from memos.api.memo_effects import MemoEffects, ParentMemo
from memos.api.names import parse_memo_name
from memos.api.visibility import PRIVATE, PUBLIC, may_see, visibilities_of_others
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.markdown import Derived, derive
from memos.profile import Profile
from memos.storage.attachments import AttachmentStorage
from memos.store import (
    RELATION_COMMENT,
    RELATION_REFERENCE,
    ROW_STATUS_ARCHIVED,
    ROW_STATUS_NORMAL,
    FindMemo,
    FindMemoRelation,
    FindUser,
    LinkedRelation,
    Memo,
    MemoPage,
    Store,
    UpdateMemo,
    User,
)

# A single memo's response carries at most this many attachments (the newest), as in Memos.
SINGLE_MEMO_ATTACHMENTS = 100
# Content longer than this is parsed in a worker thread so one big memo cannot stall the loop.
_INLINE_DERIVE_CHARS = 16_384


class MemoLookups:
    """What every part of MemoService shares: the store, the profile, the side effects, lookups and rendering."""

    def __init__(
        self,
        store: Store,
        profile: Profile,
        effects: MemoEffects,
        live: LiveHub | None = None,
        storage: AttachmentStorage | None = None,
    ) -> None:
        self._store = store
        self._profile = profile
        self._effects = effects
        self._live = live
        # Where removed attachments' bytes are deleted; create_app passes its one instance.
        self._storage = storage or AttachmentStorage(profile.data)

    # --- lookups -------------------------------------------------------------------------

    async def _memo_named(self, name: str, *, what: str = "memo") -> Memo:
        """The memo of ``memos/{uid}`` in any state, comments included; NOT_FOUND ``memo not found``."""
        return await self._memo_by_uid(parse_memo_name(name, what=what))

    async def _memo_by_uid(self, uid: str) -> Memo:
        memo = await self._store.memos.get_by_uid(uid)
        if memo is None:
            raise RpcError(Code.NOT_FOUND, "memo not found")
        return memo

    async def _user_by_id(self, user_id: int) -> User | None:
        """A memo's creator (served from the store's user cache after the first read)."""
        return await self._store.users.get(FindUser(id=user_id))

    async def _creator_of(self, memo: Memo) -> User:
        creator = await self._user_by_id(memo.creator_id)
        if creator is None:
            raise RpcError(Code.NOT_FOUND, "memo creator not found")
        return creator

    async def _parent_of(self, memo: Memo) -> Memo | None:
        """The memo a comment belongs to; None for a memo that is no comment (or whose parent is gone)."""
        parent_ids = await self._store.memo_relations.find_parent_ids([memo.id])
        parent_id = parent_ids.get(memo.id)
        return await self._store.memos.get_by_id(parent_id) if parent_id is not None else None

    @staticmethod
    def _parent_memo(parent: Memo) -> ParentMemo:
        """A comment's parent as the side effects want it."""
        message = api.Memo(name=memo_name(parent.uid), visibility=visibility_to_message(parent.visibility))
        return ParentMemo(memo=message, id=parent.id, creator_id=parent.creator_id)

    async def _content_length_limit(self) -> int:
        """The instance's content length limit in bytes (the store applies the 8192 floor)."""
        setting = await self._store.instance_settings.get("MEMO_RELATED")
        return int(setting.memo_related_setting.content_length_limit)

    async def _check_content(self, content: str) -> None:
        limit = await self._content_length_limit()
        if len(content.encode("utf-8", "surrogatepass")) > limit:
            raise RpcError(Code.INVALID_ARGUMENT, f"content too long (max {limit} characters)")

    async def _reference_targets(
        self, requested: Sequence[api.MemoRelation], caller: User, *, self_uid: str, self_id: int | None
    ) -> list[int]:
        """Ids of the memos ``requested`` references, validated before anything is written (spec §3.8).

        Entries of type COMMENT and references to the memo itself are skipped, as Memos does.
        An unknown related memo is NOT_FOUND; a new reference to a memo the caller may not
        see is PERMISSION_DENIED (one the memo already has is kept as it is).
        """
        existing: set[int] = set()
        if self_id is not None:
            found = await self._store.memo_relations.find(FindMemoRelation(memo_id=self_id, type=RELATION_REFERENCE))
            existing = {relation.related_memo_id for relation in found}
        targets: list[int] = []
        for relation in requested:
            if relation.type == api.MemoRelation.COMMENT:
                continue
            uid = parse_memo_name(relation.related_memo.name, what="related memo")
            if uid == self_uid:
                continue
            target = await self._store.memos.get_by_uid(uid)
            if target is None:
                raise RpcError(Code.NOT_FOUND, f"related memo not found: {memo_name(uid)}")
            if target.id not in existing and not may_see(caller, target):
                raise RpcError(Code.PERMISSION_DENIED, f"permission denied: cannot relate to {memo_name(uid)}")
            targets.append(target.id)
        return targets

    # --- access ----------------------------------------------------------------------------

    @staticmethod
    def _check_readable(memo: Memo, caller: User | None) -> None:
        """Spec §2.1 rules 1-3, in their order."""
        is_creator = caller is not None and caller.id == memo.creator_id
        if memo.row_status == ROW_STATUS_ARCHIVED and not is_creator:
            raise RpcError(Code.NOT_FOUND, "memo not found")
        if memo.visibility != PUBLIC and caller is None:
            raise RpcError(Code.UNAUTHENTICATED, "user not authenticated")
        if memo.visibility == PRIVATE and not is_creator:
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")

    async def _check_readable_with_parent(self, memo: Memo, caller: User | None) -> Memo | None:
        """§2.1 with step 4 (GetMemo): a comment is readable only when its parent is. Returns the parent."""
        self._check_readable(memo, caller)
        parent_ids = await self._store.memo_relations.find_parent_ids([memo.id])
        if memo.id not in parent_ids:
            return None
        parent = await self._store.memos.get_by_id(parent_ids[memo.id])
        if parent is None:
            raise RpcError(Code.NOT_FOUND, "memo not found")
        self._check_readable(parent, caller)
        return parent

    @staticmethod
    def _check_writer(memo: Memo, ctx: CallContext) -> User:
        """Creator or admin; the access layer has turned anonymous callers away already."""
        caller = require_caller(ctx)
        if caller.id != memo.creator_id and not is_admin(caller):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        return caller

    # --- derived data ------------------------------------------------------------------------

    @staticmethod
    async def _derive(content: str) -> Derived:
        """Tags, properties, mentions (spec §10), computed once per write."""
        if len(content) <= _INLINE_DERIVE_CHARS:
            return derive(content)
        return await asyncio.to_thread(derive, content)

    # --- rendering ------------------------------------------------------------------------------

    async def _render(self, memos: Sequence[Memo], caller: User | None, *, single: bool = False) -> list[api.Memo]:
        """Memo messages for ``memos`` in their order; memos whose creator is gone are left out."""
        if not memos:
            return []
        ids = [memo.id for memo in memos]
        attachments = await self._store.attachments.find_by_memo_ids(
            ids, per_memo_limit=SINGLE_MEMO_ATTACHMENTS if single else None
        )
        relations = await self._store.memo_relations.find_for_memos(ids, with_content=single)
        reactions = await self._store.reactions.find_by_content_ids([memo_name(memo.uid) for memo in memos])
        return await self._assemble(memos, MemoPage(list(memos), attachments, relations, reactions), caller, single)

    async def _render_page(self, memos: Sequence[Memo], page: MemoPage, caller: User | None) -> list[api.Memo]:
        """``_render`` of list entries (some or all of ``page.memos``) from what ``store.memos.find_page`` read."""
        return await self._assemble(memos, page, caller, single=False)

    async def _assemble(
        self, memos: Sequence[Memo], page: MemoPage, caller: User | None, single: bool
    ) -> list[api.Memo]:
        attachments, relations, reactions = page.attachments, page.relations, page.reactions
        usernames = await self._usernames(
            {memo.creator_id for memo in memos}
            | {reaction.creator_id for memo in memos for reaction in reactions[memo_name(memo.uid)]}
        )
        rendered = []
        for memo in memos:
            creator = usernames.get(memo.creator_id)
            if creator is None:
                continue  # the creator's row is gone: Memos skips such memos
            own = relations[memo.id]
            parts = MemoParts(
                creator_username=creator,
                attachments=attachments[memo.id],
                relations=[relation for relation in own if visible_relation(relation, caller)],
                reactions=[
                    (reaction, usernames[reaction.creator_id])
                    for reaction in reactions[memo_name(memo.uid)]
                    if reaction.creator_id in usernames
                ],
                parent_uid=_parent_uid(memo.id, own),
                with_snippets=single,
            )
            rendered.append(memo_to_message(memo, parts))
        return rendered

    async def _readable_rendered(self, name: str, caller: User | None) -> api.Memo:
        """GetMemo: the memo of ``name`` when ``caller`` may read it (with its parent, §2.1), rendered.

        The memo and everything its response shows come from one read; a comment's parent from a second.
        """
        find = FindMemo(uid=parse_memo_name(name), row_status=None, exclude_comments=False, limit=1)
        page = await self._store.memos.find_page(find, per_memo_attachments=SINGLE_MEMO_ATTACHMENTS, with_content=True)
        if not page.memos:
            raise RpcError(Code.NOT_FOUND, "memo not found")
        memo = page.memos[0]
        self._check_readable(memo, caller)
        parent_id = _parent_id(memo.id, page.relations[memo.id])
        if parent_id is not None:
            parent = await self._store.memos.get_by_id(parent_id)
            if parent is None:
                raise RpcError(Code.NOT_FOUND, "memo not found")
            self._check_readable(parent, caller)
        rendered = await self._assemble([memo], page, caller, single=True)
        if not rendered:
            raise RpcError(Code.NOT_FOUND, "memo creator not found")
        return rendered[0]

    async def _render_one(self, memo: Memo, caller: User | None) -> api.Memo:
        """The single-memo response; NOT_FOUND ``memo creator not found`` when the creator is gone."""
        rendered = await self._render([memo], caller, single=True)
        if not rendered:
            raise RpcError(Code.NOT_FOUND, "memo creator not found")
        return rendered[0]

    async def _usernames(self, user_ids: set[int]) -> dict[int, str]:
        found = {}
        for user_id in user_ids:
            user = await self._user_by_id(user_id)
            if user is not None:
                found[user_id] = user.username
        return found

    # --- live events ----------------------------------------------------------------------------

    def _publish(self, event: MemoEvent) -> None:
        """Send a live event (spec §5.4) after a committed write; build it with the helpers of memos.api.live."""
        if self._live is not None:
            self._live.publish(event)

    async def _announce_set_change(self, memo: Memo, caller: User, creator: User) -> None:
        """After a memo's attachments or relations were replaced: the memo counts as updated now,
        and says so once (webhook ``memos.memo.updated`` and live event ``memo.updated``)."""
        updated = await self._store.memos.update(UpdateMemo(id=memo.id, updated_ts=int(time.time())))
        parent = await self._parent_of(updated)
        message = await self._render_one(updated, caller)
        await self._effects.memo_updated(
            message, memo_id=memo.id, creator=creator, parent=self._parent_memo(parent) if parent else None
        )
        self._publish(live.memo_updated(updated, parent))


def visible_relation(relation: LinkedRelation, caller: User | None) -> bool:
    """A relation is shown only to callers who may see both of its memos (spec §4)."""
    return may_see(caller, relation.memo) and may_see(caller, relation.related_memo)


def _parent_id(memo_id: int, relations: Sequence[LinkedRelation]) -> int | None:
    """The memo a comment belongs to, as ``MemoRelations.find_parent_ids`` tells it (the last COMMENT relation)."""
    parents = [
        relation.related_memo.id
        for relation in relations
        if relation.type == RELATION_COMMENT and relation.memo.id == memo_id
    ]
    return parents[-1] if parents else None


def _parent_uid(memo_id: int, relations: Sequence[LinkedRelation]) -> str | None:
    for relation in relations:
        if relation.type == RELATION_COMMENT and relation.memo.id == memo_id:
            return relation.related_memo.uid
    return None


def list_scope(caller: User | None, archived: bool) -> dict[str, Any]:
    """Which memos a list may show the caller (spec §3.2), as FindMemo criteria."""
    if archived:
        assert caller is not None
        return {"row_status": ROW_STATUS_ARCHIVED, "creator_id": caller.id}
    scope: dict[str, Any] = {"row_status": ROW_STATUS_NORMAL, "visibilities": visibilities_of_others(caller)}
    if caller is not None:
        scope["or_creator_id"] = caller.id
    return scope
