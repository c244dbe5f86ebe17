"""Keeps the presigned links of S3 attachments fresh.

An S3 attachment's ``reference`` is a presigned GET link, valid for five days.
Links older than four days are signed anew (with the attachment's own copy of the
S3 configuration, or the instance's when the row has none) at start-up and every
twelve hours; ``updated_ts`` is left alone so memo order does not move.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from google.protobuf.timestamp_pb2 import Timestamp

from memos.gen.store import attachment_pb2
from memos.gen.store.instance_setting_pb2 import StorageS3Config
from memos.storage.attachments import PRESIGN_SECONDS, AttachmentStorage
from memos.store import STORAGE_S3, Attachment, FindAttachment, Store, UpdateAttachment

log = logging.getLogger("memos.storage")

REFRESH_AFTER_SECONDS = 4 * 24 * 3600
INTERVAL_SECONDS = 12 * 3600
PAGE = 100


async def refresh_presigned_links(store: Store, storage: AttachmentStorage, now: dt.datetime) -> int:
    """Signs anew every S3 link older than four days; how many were refreshed. Errors are logged and skipped."""
    if not await store.attachments.find(FindAttachment(storage_type=STORAGE_S3, limit=1)):
        return 0  # the common case: no S3 at all, and the S3 client is never loaded
    instance_s3 = (await store.instance_settings.get("STORAGE")).storage_setting.s3_config
    refreshed, offset = 0, 0
    while True:
        page = await store.attachments.find(FindAttachment(storage_type=STORAGE_S3, limit=PAGE, offset=offset))
        for attachment in page:
            try:
                refreshed += await _refresh_one(store, storage, attachment, instance_s3, now)
            except Exception:  # one bad row must not stop the others
                log.exception("presigned link of attachment %s not refreshed", attachment.uid)
        if len(page) < PAGE:
            return refreshed
        offset += PAGE


async def _refresh_one(
    store: Store, storage: AttachmentStorage, attachment: Attachment, instance_s3: StorageS3Config, now: dt.datetime
) -> int:
    payload = attachment_pb2.AttachmentPayload()
    payload.CopyFrom(attachment.payload)
    s3_object = payload.s3_object
    if not s3_object.key:
        return 0
    signed_at = s3_object.last_presigned_time.seconds if s3_object.HasField("last_presigned_time") else 0
    if now.timestamp() - signed_at < REFRESH_AFTER_SECONDS:
        return 0
    if not s3_object.HasField("s3_config"):
        s3_object.s3_config.CopyFrom(instance_s3)
    if not s3_object.s3_config.bucket:
        log.warning("attachment %s has no S3 configuration to sign its link with", attachment.uid)
        return 0
    link = storage.s3_client(s3_object.s3_config).presign_get(s3_object.key, PRESIGN_SECONDS, now)
    s3_object.last_presigned_time.CopyFrom(Timestamp(seconds=int(now.timestamp())))
    await store.attachments.update(UpdateAttachment(id=attachment.id, reference=link, payload=payload))
    return 1


async def keep_presigned_links_fresh(store: Store, storage: AttachmentStorage) -> None:
    """Runs until cancelled: a refresh now, then every twelve hours."""
    while True:
        try:
            count = await refresh_presigned_links(store, storage, dt.datetime.now(dt.UTC))
        except Exception:  # the database may be briefly unavailable: try again next time
            log.exception("refreshing presigned S3 links failed")
        else:
            if count:
                log.info("refreshed %d presigned S3 link(s)", count)
        await asyncio.sleep(INTERVAL_SECONDS)
