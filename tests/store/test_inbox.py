"""Inbox messages through store.inboxes."""
from __future__ import annotations

import pathlib

import pytest
from support import sqlite_execute as _execute
from support import sqlite_rows as _rows

from memos.gen.store import inbox_pb2
from memos.store import (
    CreateInbox,
    FindInbox,
    NotFound,
    Store,
    UpdateInbox,
)

pytestmark = pytest.mark.anyio

InboxMessage = inbox_pb2.InboxMessage


def _comment(memo_id: int, related_memo_id: int) -> InboxMessage:
    return InboxMessage(
        type=InboxMessage.MEMO_COMMENT,
        memo_comment=InboxMessage.MemoCommentPayload(memo_id=memo_id, related_memo_id=related_memo_id),
    )


async def test_inbox_round_trip_newest_first(store: Store, db_path: pathlib.Path) -> None:
    first = await store.inboxes.create(CreateInbox(sender_id=2, receiver_id=1, message=_comment(5, 4), created_ts=100))
    second = await store.inboxes.create(CreateInbox(
        sender_id=3, receiver_id=1, created_ts=200,
        message=InboxMessage(type=InboxMessage.MEMO_MENTION, memo_mention=InboxMessage.MemoMentionPayload(memo_id=6)),
    ))
    await store.inboxes.create(CreateInbox(sender_id=1, receiver_id=2, message=_comment(7, 6)))
    assert first.status == "UNREAD" and first.message == _comment(5, 4)
    assert _rows(db_path, "SELECT message FROM inbox WHERE id = ?", (first.id,)) == [
        ('{"type":"MEMO_COMMENT","memoComment":{"memoId":5,"relatedMemoId":4}}',)
    ]
    assert [m.id for m in await store.inboxes.find(FindInbox(receiver_id=1))] == [second.id, first.id]

    archived = await store.inboxes.update(UpdateInbox(first.id, status="ARCHIVED"))
    assert archived.status == "ARCHIVED" and (await store.inboxes.get(first.id)).status == "ARCHIVED"
    await store.inboxes.delete(first.id)
    assert await store.inboxes.get(first.id) is None
    with pytest.raises(NotFound):
        await store.inboxes.delete(first.id)
    with pytest.raises(NotFound):
        await store.inboxes.update(UpdateInbox(first.id, status="UNREAD"))


async def test_inbox_rows_written_by_memos_read_back(store: Store, db_path: pathlib.Path) -> None:
    # Spaced JSON, ids as strings and obsolete keys, as older writers leave them.
    _execute(
        db_path,
        "INSERT INTO inbox (sender_id, receiver_id, status, message) VALUES"
        " (2, 1, 'UNREAD', '{ \"type\": \"MEMO_COMMENT\", \"memoComment\": {\"memoId\": \"9\","
        " \"relatedMemoId\": 8}, \"activityId\": 3 }')",
    )
    [message] = await store.inboxes.find(FindInbox(receiver_id=1))
    assert message.message == _comment(9, 8)
