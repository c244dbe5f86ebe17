"""MemoService reactions: ListMemoReactions, UpsertMemoReaction, DeleteMemoReaction (spec §3.12-3.14).

A reaction is any string a signed-in user puts on a memo they may see (PRIVATE memos: their
creator or an admin); the type is stored as given, not checked against the instance's
reaction list, as in Memos. Reactions are kept by the memo's resource name
(``content_id`` = ``memos/{uid}``) and survive the memo's deletion.
"""
from __future__ import annotations

from google.protobuf import empty_pb2

from memos.api.access import is_admin, require_caller
from memos.api.convert.memo import MEMO_PREFIX, memo_name, reaction_to_message
from memos.api.live import reaction_deleted, reaction_upserted
from memos.api.memo.lookup import MemoLookups
from memos.api.names import parse_memo_name, parse_reaction_name
from memos.api.visibility import PRIVATE
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import Conflict, CreateReaction, FindReaction, Memo, NotFound, User

# Longer than any emoji sequence or shortcode a client offers; anything beyond is no reaction.
MAX_REACTION_TYPE_BYTES = 256


class MemoReactionService(MemoLookups):
    SERVICE_NAME = "memos.api.v1.MemoService"

    async def ListMemoReactions(
        self, request: api.ListMemoReactionsRequest, ctx: CallContext
    ) -> api.ListMemoReactionsResponse:
        """Every reaction of the memo, oldest first; those of deleted users are left out. Not paged."""
        caller = require_caller(ctx)
        memo = await self._memo_named(request.name)
        _check_reaction_access(memo, caller)
        found = await self._store.reactions.find(FindReaction(content_id=memo_name(memo.uid), existing_creators=True))
        usernames = await self._usernames({reaction.creator_id for reaction in found})
        return api.ListMemoReactionsResponse(
            reactions=[
                reaction_to_message(reaction, creator_username=usernames[reaction.creator_id])
                for reaction in found
                if reaction.creator_id in usernames
            ]
        )

    async def UpsertMemoReaction(self, request: api.UpsertMemoReactionRequest, ctx: CallContext) -> api.Reaction:
        """The memo is the reaction's ``content_id`` (the request's ``name`` is not used, as in Memos)."""
        caller = require_caller(ctx)
        uid = parse_memo_name(request.reaction.content_id)
        memo = await self._memo_by_uid(uid)
        _check_reaction_access(memo, caller)
        reaction_type = _checked_type(request.reaction.reaction_type)
        try:
            reaction = await self._store.reactions.create(
                CreateReaction(creator_id=caller.id, content_id=memo_name(memo.uid), reaction_type=reaction_type)
            )
        except Conflict:
            # The same user, memo and type twice: Memos's plain insert fails on the unique rule.
            raise RpcError(Code.INTERNAL, "failed to upsert reaction") from None
        self._publish(reaction_upserted(memo, await self._parent_of(memo)))
        return reaction_to_message(reaction, creator_username=caller.username)

    async def DeleteMemoReaction(self, request: api.DeleteMemoReactionRequest, ctx: CallContext) -> empty_pb2.Empty:
        """By reaction id alone (the memo part of the name is not read); its creator or an admin.

        An unknown id is PERMISSION_DENIED, not NOT_FOUND, as in Memos: nobody learns which ids exist.
        """
        caller = require_caller(ctx)
        _, reaction_id = parse_reaction_name(request.name)
        reaction = await self._store.reactions.get(reaction_id)
        if reaction is None or (reaction.creator_id != caller.id and not is_admin(caller)):
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        try:
            await self._store.reactions.delete(reaction.id)
        except NotFound:  # deleted meanwhile: the same answer as for an id that never existed
            raise RpcError(Code.PERMISSION_DENIED, "permission denied") from None
        memo = await self._store.memos.get_by_uid(reaction.content_id.removeprefix(MEMO_PREFIX))
        if memo is not None:  # a reaction outlives its memo; an event needs the memo's visibility and owner
            self._publish(reaction_deleted(memo, await self._parent_of(memo)))
        return empty_pb2.Empty()


def _check_reaction_access(memo: Memo, caller: User) -> None:
    """Reading and adding reactions: any signed-in user, except on a PRIVATE memo (its creator or an admin).

    Archived memos are no exception, as in Memos.
    """
    if memo.visibility == PRIVATE and caller.id != memo.creator_id and not is_admin(caller):
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")


def _checked_type(reaction_type: str) -> str:
    if not reaction_type:
        raise RpcError(Code.INVALID_ARGUMENT, "reaction type is required")
    if len(reaction_type.encode("utf-8", "surrogatepass")) > MAX_REACTION_TYPE_BYTES:
        raise RpcError(Code.INVALID_ARGUMENT, f"reaction type is too long (max {MAX_REACTION_TYPE_BYTES} bytes)")
    return reaction_type
