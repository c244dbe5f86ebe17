"""MemoService RPCs on relations between memos: SetMemoRelations and ListMemoRelations (spec §3.8, §3.9).

A memo's outgoing REFERENCE relations are what a client sets; COMMENT relations come
from CreateMemoComment only. A relation is shown only to callers who may see both memos.
"""
from __future__ import annotations

from google.protobuf import empty_pb2

from memos.api.access import require_caller
from memos.api.convert.memo import relation_to_message
from memos.api.memo.lookup import MemoLookups, visible_relation
from memos.api.names import parse_memo_name
from memos.call import CallContext
from memos.gen.api.v1 import memo_service_pb2 as api


class MemoRelationService(MemoLookups):
    """Relations: replacing a memo's references, listing a memo's relations."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    async def SetMemoRelations(self, request: api.SetMemoRelationsRequest, ctx: CallContext) -> empty_pb2.Empty:
        require_caller(ctx)
        memo = await self._memo_by_uid(parse_memo_name(request.name))
        caller = self._check_writer(memo, ctx)
        creator = await self._creator_of(memo)
        targets = await self._reference_targets(request.relations, caller, self_uid=memo.uid, self_id=memo.id)
        await self._store.memo_relations.replace_references(memo.id, targets)
        await self._announce_set_change(memo, caller, creator)
        return empty_pb2.Empty()

    async def ListMemoRelations(
        self, request: api.ListMemoRelationsRequest, ctx: CallContext
    ) -> api.ListMemoRelationsResponse:
        caller = require_caller(ctx)
        # Memos answers INTERNAL for an unknown memo; NOT_FOUND says what happened.
        memo = await self._memo_named(request.name)
        found = await self._store.memo_relations.find_for_memos([memo.id], with_content=True)
        return api.ListMemoRelationsResponse(
            relations=[
                relation_to_message(relation, with_snippets=True)
                for relation in found[memo.id]
                if visible_relation(relation, caller)
            ]
        )
