"""AttachmentStorage: the one place that saves a new attachment's bytes where the STORAGE setting
says, and removes the bytes (and everything derived from them) of attachments that are gone.

DATABASE keeps the bytes in the row; LOCAL writes a file under the data directory
named by the filepath template; S3 uploads an object keyed by the same template and
keeps a presigned link. The S3 client is imported only when S3 is used.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from google.protobuf.timestamp_pb2 import Timestamp

from memos.gen.store import attachment_pb2, instance_setting_pb2
from memos.storage import local
from memos.storage.template import expand_template
from memos.store import STORAGE_DATABASE, STORAGE_LOCAL, STORAGE_S3, AttachmentRef

if TYPE_CHECKING:
    from memos.storage.s3 import S3Client, S3Clients

log = logging.getLogger("memos.storage")

StorageSetting = instance_setting_pb2.InstanceStorageSetting
# How long a presigned link in ``reference`` stays valid (Memos: 5 days; refreshed after 4).
PRESIGN_SECONDS = 5 * 24 * 3600


class StorageUnavailable(Exception):
    """The bytes could not be stored; the message is fit for the client (no paths, no secrets)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredContent:
    """Where ``save`` put the bytes: the row's storage columns (``blob`` only for DATABASE)."""

    storage_type: str
    reference: str
    blob: bytes | None
    s3_object: attachment_pb2.AttachmentPayload.S3Object | None = None


class AttachmentStorage:
    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir
        self._s3_clients: S3Clients | None = None  # made on first use: most servers never load S3 code

    async def save(
        self, setting: StorageSetting, *, uid: str, filename: str, content_type: str, content: bytes, now: dt.datetime
    ) -> StoredContent:
        """Stores ``content`` as ``setting`` (the effective STORAGE setting) says."""
        if setting.storage_type == StorageSetting.DATABASE:
            return StoredContent(STORAGE_DATABASE, "", content)
        expanded = expand_template(setting.filepath_template, filename, now)
        if setting.storage_type == StorageSetting.S3:
            return await self._save_s3(setting.s3_config, expanded, content_type, content, now)
        return await asyncio.to_thread(self._save_local, expanded, uid, content)

    def _save_local(self, expanded: str, uid: str, content: bytes) -> StoredContent:
        try:
            target = local.local_target(self.data_dir, expanded)
        except local.OutsideDataDirectory as exc:
            log.error("attachment not saved: %s", exc)
            raise StorageUnavailable(
                "the instance's storage filepath template leads outside the data directory; an admin must change it"
            ) from None
        try:
            written = local.write_new_file(target, uid, content)
        except OSError as exc:
            log.error("attachment file %s not written: %s", target, exc)
            raise StorageUnavailable(f"the file could not be written: {exc.strerror or 'input/output error'}") from None
        # Memos v0.30 stores the absolute path it wrote; both forms are read back.
        return StoredContent(STORAGE_LOCAL, written.as_posix(), None)

    async def _save_s3(
        self, config: instance_setting_pb2.StorageS3Config, key: str, content_type: str, content: bytes,
        now: dt.datetime,
    ) -> StoredContent:
        if not config.bucket:
            raise StorageUnavailable("S3 storage is selected but no S3 bucket is configured")
        key = key.lstrip("/")
        client = self.s3_client(config)
        from memos.storage.s3 import S3Error

        try:
            await client.put_object(key, content, content_type)
        except S3Error as exc:
            log.error("S3 upload of %s failed: %s", key, exc)
            raise StorageUnavailable(f"the S3 upload failed: {exc}") from None
        s3_object = attachment_pb2.AttachmentPayload.S3Object(key=key)
        s3_object.s3_config.CopyFrom(config)
        s3_object.last_presigned_time.CopyFrom(Timestamp(seconds=int(now.timestamp())))
        return StoredContent(STORAGE_S3, client.presign_get(key, PRESIGN_SECONDS, now), None, s3_object)

    def s3_client(self, config: instance_setting_pb2.StorageS3Config) -> S3Client:
        """One client (and connection pool) per distinct configuration."""
        if self._s3_clients is None:
            from memos.storage.s3 import S3Clients

            self._s3_clients = S3Clients()
        return self._s3_clients.get(config)

    async def remove(
        self, removed: Iterable[AttachmentRef], *, fallback_s3: instance_setting_pb2.StorageS3Config | None = None
    ) -> list[tuple[int, str]]:
        """Deletes the bytes and derived files of attachment rows already deleted; (id, error) of each failure.

        Runs after the rows are gone, so a failure leaves an orphan file (logged), never a
        row pointing at nothing. An S3 row without its own config uses ``fallback_s3``.
        """
        removed = list(removed)
        failures = await asyncio.to_thread(local.remove_attachment_files, self.data_dir, removed)
        for ref in removed:
            if ref.storage_type == STORAGE_S3:
                error = await self._remove_s3(ref, fallback_s3)
                if error:
                    failures.append((ref.id, error))
        for attachment_id, error in failures:
            log.warning("stored content of attachment %s not removed: %s", attachment_id, error)
        return failures

    async def _remove_s3(self, ref: AttachmentRef, fallback: instance_setting_pb2.StorageS3Config | None) -> str:
        s3_object = ref.payload.s3_object if ref.payload is not None else None
        if s3_object is None or not s3_object.key:
            return ""
        config = s3_object.s3_config if s3_object.HasField("s3_config") else fallback
        if config is None or not config.bucket:
            return f"no S3 configuration to delete {s3_object.key} with"
        from memos.storage.s3 import S3Error

        try:
            await self.s3_client(config).delete_object(s3_object.key)
        except S3Error as exc:
            return str(exc)
        return ""

    async def close(self) -> None:
        if self._s3_clients is not None:
            await self._s3_clients.aclose()
