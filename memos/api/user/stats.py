"""UserService RPCs on memo statistics per user."""
from __future__ import annotations

from typing import Any

from memos.api.convert.stats import user_stats_message
from memos.api.user.lookup import UserLookups
from memos.api.visibility import visibilities_of_creator, visibilities_of_others
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import user_service_pb2 as api
from memos.store.models import ROW_STATUS_ARCHIVED


class UserStatsService(UserLookups):
    """Per-user memo statistics, counted over the memos the caller may see."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def GetUserStats(self, request: api.GetUserStatsRequest, ctx: CallContext) -> api.UserStats:
        target = await self._user_named(request.name)
        visibilities = visibilities_of_creator(ctx.principal, target.id)
        memos = await self._store.list_memo_summaries(creator_id=target.id, visibilities=visibilities)
        return user_stats_message(target.username, memos)

    async def ListAllUserStats(
        self, request: api.ListAllUserStatsRequest, ctx: CallContext
    ) -> api.ListAllUserStatsResponse:
        caller = ctx.principal
        if request.filter.strip():
            # The memo filter language belongs to the memo filter compiler, which does not exist yet.
            raise RpcError(Code.INVALID_ARGUMENT, "invalid filter: memo filters are not supported yet")
        if request.state == common_pb2.ARCHIVED:
            if caller is None:
                return api.ListAllUserStatsResponse()
            memos = await self._store.list_memo_summaries(creator_id=caller.id, row_status=ROW_STATUS_ARCHIVED)
        else:
            memos = await self._store.list_memo_summaries(
                visibilities=visibilities_of_others(caller), or_creator_id=caller.id if caller is not None else None
            )
        by_creator: dict[int, list[Any]] = {}
        for memo in memos:
            by_creator.setdefault(memo.creator_id, []).append(memo)
        stats = []
        for creator_id, own in by_creator.items():
            creator = await self._store.get_user(id=creator_id)
            if creator is not None:
                stats.append(user_stats_message(creator.username, own))
        return api.ListAllUserStatsResponse(stats=stats)
