"""The SQLite database handle, on apsw: connections, threads, transactions and SQL functions.

Concurrency model: one writer connection lives on one dedicated thread and
wraps every write in ``BEGIN IMMEDIATE`` (so writers from other processes wait
up to the busy timeout instead of failing mid-transaction); reads run on a
small pool of threads, each with its own read-only connection. In WAL mode a
long read therefore never blocks a write, a write never blocks reads, and the
event loop only ever awaits futures.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

import apsw

from memos.store.errors import Conflict, DatabaseDamaged, InvalidValue, StoreError
from memos.store.sqlite.sql import first

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
READER_THREADS = 4

# memos_unicode_lower runs on every row of a case-insensitive search, and
# filters repeat the same few patterns, so compiled patterns are kept.
_REGEX_CACHE_SIZE = 512


# --- SQL functions --------------------------------------------------------------


def unicode_lower(value: Any) -> Any:
    """Full Unicode case folding (``ß`` -> ``ss``) of text and UTF-8 blobs."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").casefold()
    return value


@functools.lru_cache(maxsize=_REGEX_CACHE_SIZE)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regexp(pattern: Any, value: Any) -> int:
    """``value REGEXP pattern``: 1 when the pattern matches anywhere in value."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return 0
    try:
        compiled = _compiled(pattern)
    except re.error as exc:
        # apsw hands this exception, unchanged, to whoever ran the statement.
        raise InvalidValue(f"invalid regular expression {pattern!r}: {exc}") from None
    return 1 if compiled.search(value) else 0


def register_functions(conn: apsw.Connection) -> None:
    # apsw types a scalar function as taking any number of values; these take a fixed count.
    conn.create_scalar_function(
        "memos_unicode_lower", cast("apsw.ScalarProtocol", unicode_lower), 1, deterministic=True
    )
    conn.create_scalar_function("regexp", cast("apsw.ScalarProtocol", regexp), 2, deterministic=True)


# --- helpers ----------------------------------------------------------------------


def _pragma(conn: apsw.Connection, statement: str) -> None:
    conn.execute(f"PRAGMA {statement}").fetchall()


def translate(exc: apsw.Error) -> StoreError:
    """The store's error for an apsw failure (a UNIQUE violation becomes Conflict naming its columns)."""
    if isinstance(exc, apsw.ConstraintError) and "UNIQUE" in str(exc):
        columns = str(exc).rsplit(":", 1)[-1].strip()
        return Conflict(f"already exists: {columns}", tuple(c.strip() for c in columns.split(",")))
    if isinstance(exc, (apsw.NotADBError, apsw.CorruptError)):
        return DatabaseDamaged(f"database error: {exc}")
    if isinstance(exc, apsw.BusyError):
        return StoreError("the database stayed locked by another writer for too long")
    return StoreError(f"database error: {exc}")


# --- the database -----------------------------------------------------------------


class SqliteDatabase:
    def __init__(self, dsn: str) -> None:
        """Use ``await SqliteDatabase.open(dsn)``; this only prepares the threads."""
        if dsn.strip() in ("", ":memory:") or "mode=memory" in dsn:
            raise StoreError("the SQLite database must be a file; in-memory databases are not supported")
        self.dsn = dsn
        pool = concurrent.futures.ThreadPoolExecutor
        self._writer = pool(1, thread_name_prefix="memos-sqlite-writer")
        self._readers = pool(READER_THREADS, thread_name_prefix="memos-sqlite-reader")
        self._writer_conn: apsw.Connection | None = None
        self._reader_local = threading.local()
        self._reader_conns: list[apsw.Connection] = []
        self._reader_lock = threading.Lock()
        self._wal_enabled = False
        self._closed = False
        # What ``generation`` is made of: write transactions this process ran (counted on the
        # writer thread once they end), and a connection that only asks SQLite whether any
        # connection, of any process, committed since (PRAGMA data_version).
        self._writes = 0
        self._watch_conn: apsw.Connection | None = None

    @classmethod
    async def open(cls, dsn: str) -> SqliteDatabase:
        db = cls(dsn)
        try:
            await db._submit(db._writer, db._open_writer)
        except BaseException:
            await db.close()
            raise
        return db

    # --- connections and threads ---------------------------------------------------

    def _connect(self) -> apsw.Connection:
        flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        if self.dsn.startswith("file:"):
            flags |= apsw.SQLITE_OPEN_URI
        try:
            conn = apsw.Connection(self.dsn, flags=flags)
        except apsw.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.dsn}: {exc}") from exc
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        _pragma(conn, "foreign_keys = 0")
        _pragma(conn, "mmap_size = 0")
        register_functions(conn)
        return conn

    def _open_writer(self) -> None:
        self._writer_conn = self._connect()

    def _reader_conn(self) -> apsw.Connection:
        conn = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._connect()
            # A guard against a read path that tries to write by mistake.
            _pragma(conn, "query_only = 1")
            self._reader_local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return cast(apsw.Connection, conn)

    async def _submit(self, executor: concurrent.futures.Executor, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("the store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, functools.partial(fn, *args))
        except RuntimeError as exc:
            if "shutdown" in str(exc):
                raise StoreError("the store is closed") from exc
            raise

    def _write_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        conn = self._writer_conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result
        except apsw.Error as exc:
            raise translate(exc) from exc
        finally:
            # Only after the COMMIT: a reader that saw the old count must not see the new rows
            # under it. A rolled-back write counts too; that only costs a cache a miss.
            self._writes += 1

    def _read_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        try:
            conn = self._reader_conn()
            # One snapshot for the whole read, even when it takes several queries.
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        except apsw.Error as exc:
            raise translate(exc) from exc

    async def run_write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` transaction on the writer thread."""
        return await self._submit(self._writer, self._write_sync, fn)

    async def run_read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one read transaction on a reader thread."""
        return await self._submit(self._readers, self._read_sync, fn)

    def generation(self) -> tuple[int, int] | None:
        """A value that changes whenever a write is committed to the file, by this process or any
        other (a restore, a backup tool); None when it cannot tell or the database is closed.

        Called on the event loop: ``PRAGMA data_version`` only reads SQLite's shared WAL index
        (microseconds), which is what lets a cached answer be served without a thread hand-off.
        """
        if self._closed:
            return None
        try:
            if self._watch_conn is None:
                self._watch_conn = self._connect()
                _pragma(self._watch_conn, "query_only = 1")
                self._watch_conn.set_busy_timeout(0)  # never wait on the event loop: no answer instead
            row = first(self._watch_conn, "PRAGMA data_version")
        except (apsw.Error, StoreError):
            return None
        return (self._writes, int(row[0])) if row else None

    async def enable_wal(self) -> None:
        """Switch the file to WAL mode (once): the first change a successful open makes."""
        await self._submit(self._writer, self._switch_to_wal)

    def _switch_to_wal(self) -> None:
        # journal_mode is stored in the file, so refused opens must never get here.
        conn = self._writer_conn
        assert conn is not None
        if self._wal_enabled:
            return
        try:
            mode = first(conn, "PRAGMA journal_mode = WAL")
        except apsw.Error as exc:
            raise translate(exc) from exc
        if not mode or str(mode[0]).lower() != "wal":
            raise StoreError(f"cannot switch the database to WAL mode (got {mode and mode[0]})")
        self._wal_enabled = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._readers.shutdown(wait=True)
        if self._watch_conn is not None:
            self._watch_conn.close()
            self._watch_conn = None
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        # The writer closes last: as the final connection it checkpoints the WAL.
        self._writer.submit(self._close_writer).result()
        self._writer.shutdown(wait=True)

    async def refresh_statistics(self) -> None:
        """Let SQLite refresh the planner's table statistics where they are missing or stale.

        Without them the planner walks a list index over every memo instead of starting from
        the few search hits (12 ms against under 1 ms at 100k memos). It only writes SQLite's
        own ``sqlite_stat1``, never a Memos table, and is cheap when nothing changed.
        """
        await self.run_write(_optimize_at_open)

    def _close_writer(self) -> None:
        if self._writer_conn is not None:
            # As the last connection, note what this run taught the planner (SQLite's advice);
            # a refused open (writes never enabled) leaves the file exactly as it found it.
            if self._wal_enabled:
                with contextlib.suppress(apsw.Error):
                    self._writer_conn.execute("PRAGMA optimize").fetchall()
            self._writer_conn.close()
            self._writer_conn = None


def _optimize_at_open(conn: apsw.Connection) -> None:
    # 0x10002: analyse with a bounded effort, and every table that has none yet (SQLite's advice at open).
    conn.execute("PRAGMA optimize=0x10002").fetchall()
