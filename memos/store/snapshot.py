"""Online copies of the database for ``memos backup``, and the facts a backup records about a copy.

A copy is one consistent snapshot taken while the server keeps writing; the facts
(schema version, counts, LOCAL attachment references) are read from the copy itself,
read-only, so the file list matches the database exactly and the copy is never migrated.
Only the SQLite dialect can do this; its code is loaded on first use, as ``open_driver`` does.
"""
from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable

from memos.store.errors import StoreError

# (bytes copied so far, bytes in all)
CopyProgress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True, slots=True)
class LocalReference:
    """A LOCAL attachment: its uid and the reference of its file (absolute, or relative to the data directory)."""

    uid: str
    reference: str


@dataclasses.dataclass(frozen=True, slots=True)
class SnapshotFacts:
    schema_version: str
    users: int
    memos: int
    attachments: int
    local_files: tuple[LocalReference, ...]


def copy_online(driver: str, dsn: str, target: pathlib.Path, on_progress: CopyProgress) -> None:
    """Copy the live database at ``dsn`` into the new file ``target`` as one snapshot, without blocking writers.

    Raises InvalidValue when there is no database at ``dsn`` and StoreError when the copy fails.
    """
    if driver != "sqlite":
        raise StoreError(f"online copies of a {driver} database are not supported")
    from memos.store.sqlite import snapshot

    snapshot.copy_online(dsn, target, on_progress)


def read_facts(driver: str, copy: pathlib.Path) -> SnapshotFacts:
    """What a backup records about a copy made by ``copy_online``; InvalidValue when it holds no Memos data."""
    if driver != "sqlite":
        raise StoreError(f"online copies of a {driver} database are not supported")
    from memos.store.sqlite import snapshot

    return snapshot.read_facts(copy)
