"""Attachment content kept as files under the data directory, and the caches derived from it.

A LOCAL attachment's reference is an absolute path (Memos v0.30) or a path
relative to the data directory (older rows). Whatever the storage type, the
thumbnails and motion-photo videos made from an attachment are cached under the
data directory, keyed by the attachment's uid.
"""
from __future__ import annotations

import pathlib
from collections.abc import Iterable
from typing import Protocol

LOCAL = "LOCAL"


class StoredAttachment(Protocol):
    """What removal needs of an attachment row."""

    @property
    def id(self) -> int: ...

    @property
    def uid(self) -> str: ...

    @property
    def storage_type(self) -> str: ...

    @property
    def reference(self) -> str: ...


def local_file(data_dir: str, reference: str) -> pathlib.Path:
    """The file a LOCAL reference names: an absolute reference replaces the data directory."""
    return pathlib.Path(data_dir) / reference


def cached_files(data_dir: str, uid: str) -> list[pathlib.Path]:
    """The thumbnails and motion video the server may have derived from attachment ``uid``."""
    data = pathlib.Path(data_dir)
    return [
        data / ".thumbnail_cache" / f"{uid}.jpeg",
        data / ".thumbnail_cache" / f"{uid}.v2.jpeg",
        data / ".motion_cache" / f"{uid}.mp4",
    ]


def remove_attachment_files(data_dir: str, attachments: Iterable[StoredAttachment]) -> list[tuple[int, str]]:
    """Delete the files of removed attachment rows; (attachment id, error) for each that failed.

    A file already gone is fine: removal runs after the rows are gone, so a
    retry or a concurrent removal must not count as a failure.
    """
    failures = []
    for attachment in attachments:
        targets = cached_files(data_dir, attachment.uid)
        if attachment.storage_type == LOCAL and attachment.reference:
            targets.insert(0, local_file(data_dir, attachment.reference))
        try:
            for target in targets:
                target.unlink(missing_ok=True)
        except OSError as exc:
            failures.append((attachment.id, str(exc)))
    return failures
