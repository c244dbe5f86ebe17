"""A consistent copy of a live SQLite database, and the facts a backup records about it.

The copy is made with SQLite's online backup API, a few hundred pages per step. The
source connection holds one read transaction for the whole copy: in WAL mode that
pins a single snapshot (so the copy never restarts, however busy the server is) and
never blocks the server's writes.

The facts are read from the copy, not the live file, so the file list matches the
database exactly. The copy is read with plain read-only SQL rather than through the
Store: opening it through the Store would migrate and write to it, and a backup must be
the database as the server had it.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

import apsw

from memos.ops.common import OpsError, Progress, bad_input

PAGES_PER_STEP = 256
BUSY_TIMEOUT_MS = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class LocalReference:
    uid: str
    reference: str


@dataclasses.dataclass(frozen=True, slots=True)
class SnapshotFacts:
    schema_version: str
    users: int
    memos: int
    attachments: int
    local_files: tuple[LocalReference, ...]


def copy_database(dsn: str, target: pathlib.Path, progress: Progress) -> None:
    """Copy the database at ``dsn`` into the new file ``target`` as one consistent snapshot."""
    if not pathlib.Path(dsn).is_file():
        raise bad_input(f"there is no database at {dsn}; check --data or --dsn")
    try:
        source = apsw.Connection(dsn, flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as exc:
        raise OpsError(f"cannot open the database {dsn}: {exc}") from None
    try:
        source.set_busy_timeout(BUSY_TIMEOUT_MS)
        destination = apsw.Connection(str(target))
        try:
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchall()  # takes the snapshot now
            _copy_in_steps(source, destination, progress)
            source.execute("COMMIT")
            # The copy inherits WAL mode; as a single file it must not grow -wal/-shm companions
            # when read (the server switches it back to WAL when it opens it).
            destination.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            destination.close()
    except apsw.Error as exc:
        raise OpsError(f"the database copy failed: {exc}") from None
    finally:
        source.close()


def _copy_in_steps(source: apsw.Connection, destination: apsw.Connection, progress: Progress) -> None:
    with destination.backup("main", source, "main") as backup:
        backup.step(0)  # learn the page count before the first real step
        pages, copied = backup.page_count, 0
        page_size = int(str(source.execute("PRAGMA page_size").fetchall()[0][0]))
        progress.start("database", pages * page_size)
        while not backup.done:
            backup.step(PAGES_PER_STEP)
            now_copied = backup.page_count - backup.remaining
            progress.advance((now_copied - copied) * page_size)
            copied = now_copied
        progress.finish()


def read_facts(database: pathlib.Path) -> SnapshotFacts:
    """Schema version, counts and LOCAL attachment references of a copied database."""
    connection = apsw.Connection(str(database), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise OpsError(f"the copied database fails SQLite's check: {check[0][0]}")
        if not _has_table(connection, "memo"):
            raise bad_input("the database holds no Memos data (no memo table)")
        return SnapshotFacts(
            schema_version=_schema_version(connection),
            users=_count(connection, "user"),
            memos=_count(connection, "memo"),
            attachments=_count(connection, "attachment"),
            local_files=tuple(
                LocalReference(str(uid), str(reference))
                for uid, reference in connection.execute(
                    "SELECT uid, reference FROM attachment WHERE storage_type = 'LOCAL' AND reference != '' "
                    "ORDER BY id"
                )
            ),
        )
    except apsw.Error as exc:
        raise OpsError(f"the copied database cannot be read: {exc}") from None
    finally:
        connection.close()


def _has_table(connection: apsw.Connection, name: str) -> bool:
    rows = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchall()
    return bool(rows)


def _count(connection: apsw.Connection, table: str) -> int:
    return int(str(connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]))


def _schema_version(connection: apsw.Connection) -> str:
    rows = connection.execute("SELECT value FROM system_setting WHERE name = 'BASIC'").fetchall()
    if not rows:
        return ""
    try:
        return str(json.loads(str(rows[0][0])).get("schemaVersion", ""))
    except (ValueError, AttributeError):
        return ""
