"""AttachmentStorage on S3 (a moto server on 127.0.0.1) and the presigned-link refresher."""
from __future__ import annotations

import datetime as dt
import pathlib
import uuid

import httpx
import pytest

from memos.gen.store.instance_setting_pb2 import InstanceStorageSetting, StorageS3Config
from memos.storage.attachments import AttachmentStorage, StorageUnavailable
from memos.storage.presign import refresh_presigned_links
from memos.store import AttachmentRef, CreateAttachment, FindAttachment, Store

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _setting(s3_config: StorageS3Config, template: str) -> InstanceStorageSetting:
    setting = InstanceStorageSetting(storage_type=InstanceStorageSetting.S3, filepath_template=template)
    setting.s3_config.CopyFrom(s3_config)
    return setting


async def test_s3_upload_keeps_a_copy_of_the_config_and_a_working_link(
    tmp_path: pathlib.Path, s3_config: StorageS3Config
) -> None:
    storage = AttachmentStorage(str(tmp_path))
    prefix = uuid.uuid4().hex
    try:
        stored = await storage.save(_setting(s3_config, f"{prefix}/{{year}}/{{filename}}"), uid="u1",
                                    filename="report.pdf", content_type="application/pdf", content=b"%PDF-1.4 x",
                                    now=dt.datetime.now(dt.UTC))
        assert stored.storage_type == "S3" and stored.blob is None
        assert stored.s3_object is not None
        assert stored.s3_object.key == f"{prefix}/{dt.datetime.now().year}/report.pdf"
        assert stored.s3_object.s3_config == s3_config
        fetched = httpx.get(stored.reference)
        assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 x"
        assert list(tmp_path.iterdir()) == []  # nothing on local disk

        from memos.gen.store.attachment_pb2 import AttachmentPayload

        payload = AttachmentPayload()
        payload.s3_object.CopyFrom(stored.s3_object)
        assert await storage.remove([AttachmentRef(1, "u1", "S3", stored.reference, payload)]) == []
        assert httpx.get(stored.reference).status_code == 404
    finally:
        await storage.close()


async def test_an_unconfigured_or_unreachable_s3_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    storage = AttachmentStorage(str(tmp_path))
    try:
        with pytest.raises(StorageUnavailable, match="no S3 bucket"):
            await storage.save(_setting(StorageS3Config(), "{filename}"), uid="u", filename="a", content_type="",
                               content=b"x", now=NOW)
        dead = StorageS3Config(endpoint="http://127.0.0.1:9", bucket="b", access_key_id="AK",
                               access_key_secret="TOPSECRET", use_path_style=True)
        with pytest.raises(StorageUnavailable, match="S3 upload failed") as raised:
            await storage.save(_setting(dead, "{filename}"), uid="u", filename="a", content_type="", content=b"x",
                               now=NOW)
        assert "TOPSECRET" not in str(raised.value)
    finally:
        await storage.close()


async def test_old_links_are_signed_anew_and_fresh_ones_left_alone(
    tmp_path: pathlib.Path, s3_config: StorageS3Config
) -> None:
    store = await Store.open("sqlite", str(tmp_path / "memos.db"), deployment_dir=None)
    storage = AttachmentStorage(str(tmp_path))
    try:
        assert await refresh_presigned_links(store, storage, NOW) == 0  # no S3 rows at all
        key = f"{uuid.uuid4().hex}/old.txt"
        await storage.s3_client(s3_config).put_object(key, b"old bytes", "text/plain")
        from memos.gen.store.attachment_pb2 import AttachmentPayload

        def payload(signed_at: dt.datetime) -> AttachmentPayload:
            made = AttachmentPayload()
            made.s3_object.key = key
            made.s3_object.s3_config.CopyFrom(s3_config)
            made.s3_object.last_presigned_time.FromDatetime(signed_at)
            return made

        old = await store.attachments.create(CreateAttachment(
            uid="old", creator_id=1, filename="old.txt", type="text/plain", size=9, storage_type="S3",
            reference="https://stale.example/old", payload=payload(NOW - dt.timedelta(days=5)), updated_ts=77))
        fresh = await store.attachments.create(CreateAttachment(
            uid="fresh", creator_id=1, filename="f.txt", type="text/plain", size=9, storage_type="S3",
            reference="https://kept.example/f", payload=payload(NOW - dt.timedelta(days=1))))
        assert await refresh_presigned_links(store, storage, NOW) == 1
        renewed = await store.attachments.get(FindAttachment(id=old.id))
        assert renewed is not None and renewed.reference.startswith(s3_config.endpoint)
        assert renewed.updated_ts == 77
        assert renewed.payload.s3_object.last_presigned_time.seconds == int(NOW.timestamp())
        kept = await store.attachments.get(FindAttachment(id=fresh.id))
        assert kept is not None and kept.reference == "https://kept.example/f"
    finally:
        await storage.close()
        await store.close()
