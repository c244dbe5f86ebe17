"""AttachmentStorage on the database and on local disk (S3: tests/storage/test_attachments_s3.py)."""
from __future__ import annotations

import datetime as dt
import pathlib
import stat

import pytest

from memos.gen.store.instance_setting_pb2 import InstanceStorageSetting
from memos.storage.attachments import AttachmentStorage, StorageUnavailable
from memos.store import AttachmentRef

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _setting(storage_type: int, template: str = "assets/{filename}") -> InstanceStorageSetting:
    return InstanceStorageSetting(storage_type=storage_type, filepath_template=template)  # type: ignore[arg-type]


async def _save(storage: AttachmentStorage, setting: InstanceStorageSetting, filename: str, uid: str = "u1") -> object:
    return await storage.save(setting, uid=uid, filename=filename, content_type="text/plain", content=b"hello",
                              now=NOW)


async def test_database_storage_keeps_the_bytes_in_the_row(tmp_path: pathlib.Path) -> None:
    stored = await _save(AttachmentStorage(str(tmp_path)), _setting(InstanceStorageSetting.DATABASE), "a.txt")
    assert (stored.storage_type, stored.reference, stored.blob) == ("", "", b"hello")  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []


async def test_local_storage_writes_under_the_data_dir_with_an_absolute_reference(tmp_path: pathlib.Path) -> None:
    storage = AttachmentStorage(str(tmp_path))
    stored = await _save(storage, _setting(InstanceStorageSetting.LOCAL, "assets/{year}/{filename}"), "a b.txt")
    path = tmp_path / "assets" / "2026" / "a b.txt"
    assert (stored.storage_type, stored.reference, stored.blob) == ("LOCAL", path.as_posix(), None)  # type: ignore[attr-defined]
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


async def test_an_existing_name_gets_the_uid_and_nothing_is_replaced(tmp_path: pathlib.Path) -> None:
    storage = AttachmentStorage(str(tmp_path))
    setting = _setting(InstanceStorageSetting.LOCAL, "assets/{filename}")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "shot.png").write_bytes(b"first")
    stored = await _save(storage, setting, "shot.png", uid="U2")
    assert stored.reference == (tmp_path / "assets" / "shot_U2.png").as_posix()  # type: ignore[attr-defined]
    assert (tmp_path / "assets" / "shot.png").read_bytes() == b"first"


@pytest.mark.parametrize("template", [
    "../outside/{filename}", "assets/../../{filename}", "/etc/{filename}", "{filename}/../../x", "", "/",
])
async def test_no_template_leads_outside_the_data_dir(tmp_path: pathlib.Path, template: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(StorageUnavailable, match="outside the data directory") as raised:
        await _save(AttachmentStorage(str(data)), _setting(InstanceStorageSetting.LOCAL, template), "x.txt")
    assert str(tmp_path) not in str(raised.value)  # the client learns no server path
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data"]


async def test_an_absolute_template_inside_the_data_dir_is_fine(tmp_path: pathlib.Path) -> None:
    template = f"{tmp_path.as_posix()}/abs/{{filename}}"
    stored = await _save(AttachmentStorage(str(tmp_path)), _setting(InstanceStorageSetting.LOCAL, template), "x.txt")
    assert stored.reference == (tmp_path / "abs" / "x.txt").as_posix()  # type: ignore[attr-defined]


async def test_an_unwritable_directory_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "assets").write_bytes(b"a file where the directory should be")  # fails even for root
    with pytest.raises(StorageUnavailable, match="could not be written"):
        await _save(AttachmentStorage(str(tmp_path)), _setting(InstanceStorageSetting.LOCAL), "x.txt")


async def test_remove_deletes_files_and_caches_and_reports_failures(tmp_path: pathlib.Path) -> None:
    storage = AttachmentStorage(str(tmp_path))
    stored = await _save(storage, _setting(InstanceStorageSetting.LOCAL), "x.txt")
    thumb = tmp_path / ".thumbnail_cache" / "u1.v2.jpeg"
    thumb.parent.mkdir()
    thumb.write_bytes(b"jpeg")
    ref = AttachmentRef(1, "u1", "LOCAL", stored.reference, None)  # type: ignore[attr-defined]
    assert await storage.remove([ref]) == []
    assert not pathlib.Path(stored.reference).exists() and not thumb.exists()  # type: ignore[attr-defined]
    assert await storage.remove([ref]) == []  # already gone: no failure
