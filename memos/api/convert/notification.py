"""Inbox rows -> memos.api.v1.UserNotification, with payloads only the viewer may see."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from memos.api.convert.memo import memo_name
from memos.api.convert.user import user_name, user_to_message
from memos.api.visibility import may_see
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import inbox_pb2

_STATUS = {"UNREAD": api.UserNotification.UNREAD, "ARCHIVED": api.UserNotification.ARCHIVED}
_TYPE = {
    inbox_pb2.InboxMessage.MEMO_COMMENT: api.UserNotification.MEMO_COMMENT,
    inbox_pb2.InboxMessage.MEMO_MENTION: api.UserNotification.MEMO_MENTION,
}


def notification_memo_ids(message: inbox_pb2.InboxMessage) -> list[int]:
    """The memo ids a stored inbox message refers to (zero ids left out)."""
    payload = _payload(message)
    if payload is None:
        return []
    return [i for i in (payload.memo_id, payload.related_memo_id) if i]


def _payload(message: inbox_pb2.InboxMessage) -> Any:
    if message.type == inbox_pb2.InboxMessage.MEMO_COMMENT and message.HasField("memo_comment"):
        return message.memo_comment
    if message.type == inbox_pb2.InboxMessage.MEMO_MENTION and message.HasField("memo_mention"):
        return message.memo_mention
    return None


def can_see(memo: Any, viewer: Any) -> bool:
    """Whether ``viewer`` may still read the memo a notification points at (admins may, as Memos lets them)."""
    return memo is not None and may_see(viewer, memo, admin_sees_private=True)


def notification_to_message(
    receiver: Any, sender: Any, viewer: Any, row: Any, memos: Mapping[int, Any], snippets: Mapping[int, str]
) -> api.UserNotification:
    """``row`` is a store inbox row; ``memos`` maps memo ids to rows with uid, creator_id, visibility,
    ``snippets`` memo ids to their snippets (``memos.markdown.snippet`` of the content)."""
    message = row.message
    notification = api.UserNotification(
        name=f"users/{receiver.username}/notifications/{row.id}",
        sender=user_name(sender.username) if sender is not None else "",
        status=_STATUS.get(row.status, api.UserNotification.STATUS_UNSPECIFIED),
        create_time=Timestamp(seconds=row.created_ts),
        type=_TYPE.get(message.type, api.UserNotification.TYPE_UNSPECIFIED),
    )
    if sender is not None:
        notification.sender_user.CopyFrom(user_to_message(sender, viewer))
    payload = _payload(message)
    if payload is None:
        return notification
    memo, related = memos.get(payload.memo_id), memos.get(payload.related_memo_id)
    if message.type == inbox_pb2.InboxMessage.MEMO_COMMENT:
        # A comment notification shows nothing unless both the comment and its memo are visible.
        if can_see(memo, viewer) and can_see(related, viewer):
            notification.memo_comment.CopyFrom(
                _payload_message(api.UserNotification.MemoCommentPayload, memo, related, snippets)
            )
    elif can_see(memo, viewer):
        shown_related = related if can_see(related, viewer) else None
        notification.memo_mention.CopyFrom(
            _payload_message(api.UserNotification.MemoMentionPayload, memo, shown_related, snippets)
        )
    return notification


def _payload_message(kind: type, memo: Any, related: Any | None, snippets: Mapping[int, str]) -> Any:
    payload = kind(memo=memo_name(memo.uid), memo_snippet=snippets.get(memo.id, ""))
    if related is not None:
        payload.related_memo = memo_name(related.uid)
        payload.related_memo_snippet = snippets.get(related.id, "")
    return payload
