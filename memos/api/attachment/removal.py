"""Removing the stored bytes of attachment rows that are already deleted, for every service that deletes them
(DeleteAttachment, BatchDeleteAttachments, a memo's attachment set, DeleteMemo, DeleteUser)."""
from __future__ import annotations

from collections.abc import Sequence

from memos.storage.attachments import AttachmentStorage
from memos.store import STORAGE_S3, AttachmentRef, Store


async def remove_stored(
    store: Store, storage: AttachmentStorage, removed: Sequence[AttachmentRef]
) -> list[tuple[int, str]]:
    """Deletes the file or object and the derived caches of each removed row; (id, error) of each failure.

    The storage logs failures. An S3 row written without its own copy of the configuration
    is deleted with the instance's current one.
    """
    if not removed:
        return []
    fallback = None
    if any(ref.storage_type == STORAGE_S3 for ref in removed):
        setting = (await store.instance_settings.get("STORAGE")).storage_setting
        fallback = setting.s3_config if setting.HasField("s3_config") else None
    return await storage.remove(removed, fallback_s3=fallback)
