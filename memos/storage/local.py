"""Attachment content kept as files under the data directory, and the caches derived from it.

A LOCAL attachment's reference is an absolute path (Memos v0.30) or a path
relative to the data directory (older rows). Whatever the storage type, the
thumbnails and motion-photo videos made from an attachment are cached under the
data directory, keyed by the attachment's uid.
"""
from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable
from typing import Protocol

LOCAL = "LOCAL"
FILE_MODE = 0o644


class OutsideDataDirectory(ValueError):
    """A filepath template (or what it made of a filename) names a place outside the data directory."""


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


def local_target(data_dir: str, expanded: str) -> pathlib.Path:
    """Where an expanded template puts a new file: inside ``data_dir``, whatever the template says.

    Judged on the path as written (``..`` resolved lexically), not through symlinks, so an
    operator may still make ``assets`` a link to a bigger disk.
    """
    data = pathlib.Path(os.path.normpath(data_dir))
    target = pathlib.Path(os.path.normpath(data / expanded))
    if data not in target.parents:
        raise OutsideDataDirectory(f"{target} is outside the data directory {data}")
    return target


def write_new_file(target: pathlib.Path, uid: str, content: bytes) -> pathlib.Path:
    """Writes ``content`` to ``target`` or, when that exists, to ``<stem>_<uid><ext>`` beside it; the path written.

    Never replaces an existing file: each name is created exclusively, and a
    failed write leaves no partial file behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for candidate in (target, target.with_name(f"{target.stem}_{uid}{target.suffix}")):
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
        except FileExistsError:
            continue
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), FILE_MODE)  # whatever the umask
                file.write(content)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
        return candidate
    raise FileExistsError(f"both {target.name} and its uid-suffixed name exist in {target.parent}")


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
