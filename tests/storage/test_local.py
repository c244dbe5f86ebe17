"""Removing a deleted attachment's files: its LOCAL file and the caches derived from it."""
from __future__ import annotations

import pathlib

from memos.storage.local import cached_files, remove_attachment_files
from memos.store.models import AttachmentRef


def _ref(attachment_id: int, uid: str, storage_type: str, reference: str) -> AttachmentRef:
    return AttachmentRef(attachment_id, uid, storage_type, reference, None)


def _touch(path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_local_file_goes_whether_its_reference_is_relative_or_absolute(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    relative = _touch(data / "assets" / "old.txt")
    absolute = _touch(tmp_path / "elsewhere" / "new.txt")
    failures = remove_attachment_files(
        str(data), [_ref(1, "a1", "LOCAL", "assets/old.txt"), _ref(2, "a2", "LOCAL", str(absolute))]
    )
    assert failures == []
    assert not relative.exists() and not absolute.exists()


def test_the_derived_caches_go_for_every_storage_type(tmp_path: pathlib.Path) -> None:
    caches = [_touch(path) for path in cached_files(str(tmp_path), "s3thing")]
    keep = _touch(tmp_path / ".thumbnail_cache" / "other.jpeg")
    assert remove_attachment_files(str(tmp_path), [_ref(3, "s3thing", "S3", "bucket/key")]) == []
    assert not any(path.exists() for path in caches)
    assert keep.exists()


def test_files_already_gone_are_no_failure(tmp_path: pathlib.Path) -> None:
    assert remove_attachment_files(str(tmp_path), [_ref(4, "gone", "LOCAL", "assets/gone.txt")]) == []


def test_a_database_blob_leaves_files_named_like_its_reference_alone(tmp_path: pathlib.Path) -> None:
    bystander = _touch(tmp_path / "notes.txt")
    assert remove_attachment_files(str(tmp_path), [_ref(5, "db1", "DATABASE", "notes.txt")]) == []
    assert bystander.exists()


def test_a_file_that_cannot_be_removed_is_reported_and_the_rest_still_go(tmp_path: pathlib.Path) -> None:
    stuck = tmp_path / "assets" / "stuck"
    _touch(stuck / "inside.txt")  # a non-empty directory: unlink fails
    other = _touch(tmp_path / "assets" / "other.txt")
    failures = remove_attachment_files(
        str(tmp_path), [_ref(6, "a6", "LOCAL", "assets/stuck"), _ref(7, "a7", "LOCAL", "assets/other.txt")]
    )
    assert [attachment_id for attachment_id, _ in failures] == [6]
    assert "stuck" in failures[0][1]
    assert not other.exists()
