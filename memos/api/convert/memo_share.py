"""Store memo_share rows -> memos.api.v1.MemoShare."""
from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from memos.gen.api.v1 import memo_service_pb2 as api
from memos.store import MemoShare


def memo_share_name(memo_uid: str, token: str) -> str:
    return f"memos/{memo_uid}/shares/{token}"


def memo_share_to_message(share: MemoShare, *, memo_uid: str) -> api.MemoShare:
    """``expire_time`` is present only for a share that expires (the field is optional on the wire)."""
    message = api.MemoShare(name=memo_share_name(memo_uid, share.uid), create_time=Timestamp(seconds=share.created_ts))
    if share.expires_ts is not None:
        message.expire_time.CopyFrom(Timestamp(seconds=share.expires_ts))
    return message
