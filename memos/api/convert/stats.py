"""Memo rows (creator, times, pin, payload) -> memos.api.v1.UserStats."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from memos.api.convert.memo import memo_name
from memos.gen.api.v1 import user_service_pb2 as api


def user_stats_message(username: str, memos: Sequence[Any]) -> api.UserStats:
    """Statistics over ``memos`` (already filtered to what the caller may count), in their order."""
    stats = api.UserStats(name=f"users/{username}/stats", total_memo_count=len(memos))
    stats.memo_type_stats.SetInParent()
    counts = stats.memo_type_stats
    for memo in memos:
        stats.memo_created_timestamps.append(Timestamp(seconds=memo.created_ts))
        stats.memo_updated_timestamps.append(Timestamp(seconds=memo.updated_ts))
        for tag in memo.payload.tags:
            stats.tag_count[tag] += 1
        prop = memo.payload.property
        counts.link_count += prop.has_link
        counts.code_count += prop.has_code
        counts.todo_count += prop.has_task_list
        counts.undo_count += prop.has_incomplete_tasks
        if memo.pinned:
            stats.pinned_memos.append(memo_name(memo.uid))
    return stats
