"""SQLite's side of ``memos.store.snapshot``: the online backup API, and plain read-only SQL on the copy.

The copy is made a few hundred pages per step. The source connection holds one read
transaction for the whole copy: in WAL mode that pins a single snapshot (so the copy
never restarts, however busy the server is) and never blocks the server's writes.
"""
from __future__ import annotations

import json
import pathlib

import apsw

from memos.store.errors import InvalidValue, StoreError
from memos.store.snapshot import CopyProgress, LocalReference, SnapshotFacts

PAGES_PER_STEP = 256
BUSY_TIMEOUT_MS = 10_000


def copy_online(dsn: str, target: pathlib.Path, on_progress: CopyProgress) -> None:
    if not pathlib.Path(dsn).is_file():
        raise InvalidValue(f"there is no database at {dsn}; check --data or --dsn")
    try:
        source = apsw.Connection(dsn, flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as exc:
        raise StoreError(f"cannot open the database {dsn}: {exc}") from None
    try:
        source.set_busy_timeout(BUSY_TIMEOUT_MS)
        destination = apsw.Connection(str(target))
        try:
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchall()  # takes the snapshot now
            _copy_in_steps(source, destination, on_progress)
            source.execute("COMMIT")
            # The copy inherits WAL mode; as a single file it must not grow -wal/-shm companions
            # when read (the server switches it back to WAL when it opens it).
            destination.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            destination.close()
    except apsw.Error as exc:
        raise StoreError(f"the database copy failed: {exc}") from None
    finally:
        source.close()


def _copy_in_steps(source: apsw.Connection, destination: apsw.Connection, on_progress: CopyProgress) -> None:
    page_size = int(str(source.execute("PRAGMA page_size").fetchall()[0][0]))
    with destination.backup("main", source, "main") as backup:
        backup.step(0)  # learns the page count before the first real step
        total = backup.page_count * page_size
        on_progress(0, total)
        while not backup.done:
            backup.step(PAGES_PER_STEP)
            on_progress((backup.page_count - backup.remaining) * page_size, total)


def read_facts(copy: pathlib.Path) -> SnapshotFacts:
    connection = apsw.Connection(str(copy), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise StoreError(f"the copied database fails SQLite's check: {check[0][0]}")
        if not _has_table(connection, "memo"):
            raise InvalidValue("the database holds no Memos data (no memo table)")
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
        raise StoreError(f"the copied database cannot be read: {exc}") from None
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
