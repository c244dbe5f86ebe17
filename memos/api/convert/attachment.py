"""Store attachment rows -> memos.api.v1.Attachment (as memos carry them and the attachment RPCs answer)."""
from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from memos.gen.api.v1 import attachment_service_pb2 as api
from memos.store import Attachment

ATTACHMENT_PREFIX = "attachments/"
# Rows whose bytes live elsewhere: the client reads them from this link instead of the file route.
_LINKED_STORAGE = frozenset({"S3", "EXTERNAL"})


def attachment_name(uid: str) -> str:
    return f"{ATTACHMENT_PREFIX}{uid}"


def attachment_to_message(attachment: Attachment, *, memo_name: str | None) -> api.Attachment:
    """``memo_name`` is the name of the memo it is linked to (None: unlinked, ``memo`` omitted)."""
    message = api.Attachment(
        name=attachment_name(attachment.uid),
        create_time=Timestamp(seconds=attachment.created_ts),
        filename=attachment.filename,
        type=attachment.type,
        size=attachment.size,
        external_link=attachment.reference if attachment.storage_type in _LINKED_STORAGE else "",
    )
    if memo_name is not None:
        message.memo = memo_name
    payload = attachment.payload
    if payload is not None and payload.HasField("motion_media"):
        # The store and API messages share field numbers, so the bytes carry over unchanged.
        message.motion_media.ParseFromString(payload.motion_media.SerializeToString())
    return message
