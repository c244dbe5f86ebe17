"""UserService RPCs on memo statistics per user."""
from __future__ import annotations

from typing import Any

from memos.api.convert.stats import user_stats_message
from memos.api.filters import memo_filter
from memos.api.user.lookup import UserLookups
from memos.api.visibility import visibilities_of_creator, visibilities_of_others
from memos.call import CallContext
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import user_service_pb2 as api
from memos.store import ROW_STATUS_ARCHIVED, FindMemo, FindUser


class UserStatsService(UserLookups):
    """Per-user memo statistics, counted over the memos the caller may see."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def GetUserStats(self, request: api.GetUserStatsRequest, ctx: CallContext) -> api.UserStats:
        target = await self._user_named(request.name)
        visibilities = visibilities_of_creator(ctx.principal, target.id)
        memos = await self._store.memos.find_summaries(FindMemo(creator_id=target.id, visibilities=visibilities))
        return user_stats_message(target.username, memos)

    async def ListAllUserStats(
        self, request: api.ListAllUserStatsRequest, ctx: CallContext
    ) -> api.ListAllUserStatsResponse:
        caller = ctx.principal
        condition = memo_filter(request.filter)  # checked first: a bad filter is refused for everyone
        if request.state == common_pb2.ARCHIVED:
            if caller is None:
                return api.ListAllUserStatsResponse()
            find = FindMemo(creator_id=caller.id, row_status=ROW_STATUS_ARCHIVED, filter=condition)
        else:
            caller_id = caller.id if caller is not None else None
            find = FindMemo(visibilities=visibilities_of_others(caller), or_creator_id=caller_id, filter=condition)
        memos = await self._store.memos.find_summaries(find)
        by_creator: dict[int, list[Any]] = {}
        for memo in memos:
            by_creator.setdefault(memo.creator_id, []).append(memo)
        stats = []
        for creator_id, own in by_creator.items():
            creator = await self._store.users.get(FindUser(id=creator_id))
            if creator is not None:
                stats.append(user_stats_message(creator.username, own))
        return api.ListAllUserStatsResponse(stats=stats)
