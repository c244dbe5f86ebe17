"""The SQLite driver, on apsw.

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
import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import apsw

from memos.store.errors import Conflict, InvalidValue, StoreError
from memos.store.models import SystemSettingRow, User, UserSettingRow
from memos.store.sqlite_identity import SqliteIdentityQueries
from memos.store.sqlite_sql import (
    _USER_COLUMNS,
    _check_user_fields,
    _first,
    _insert_user,
    _rows,
    _upsert_system_setting,
    _upsert_user_setting,
    _where,
)

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
    conn.create_scalar_function("memos_unicode_lower", unicode_lower, 1, deterministic=True)
    conn.create_scalar_function("regexp", regexp, 2, deterministic=True)


# --- helpers ----------------------------------------------------------------------


def _pragma(conn: apsw.Connection, statement: str) -> None:
    conn.execute(f"PRAGMA {statement}").fetchall()


def _translate(exc: apsw.Error) -> StoreError:
    if isinstance(exc, apsw.ConstraintError) and "UNIQUE" in str(exc):
        columns = str(exc).rsplit(":", 1)[-1].strip()
        return Conflict(f"already exists: {columns}", tuple(c.strip() for c in columns.split(",")))
    if isinstance(exc, apsw.BusyError):
        return StoreError("the database stayed locked by another writer for too long")
    return StoreError(f"database error: {exc}")


def _limit_clause(limit: int | None, offset: int | None) -> tuple[str, list[int]]:
    # OFFSET only makes sense (and is only emitted) together with a limit.
    if limit is None:
        return "", []
    if offset:
        return " LIMIT ? OFFSET ?", [limit, offset]
    return " LIMIT ?", [limit]


# --- the driver --------------------------------------------------------------------


class SqliteDriver(SqliteIdentityQueries):
    name = "sqlite"

    def __init__(self, dsn: str) -> None:
        """Use ``await SqliteDriver.open(dsn)``; this only prepares the threads."""
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

    @classmethod
    async def open(cls, dsn: str) -> SqliteDriver:
        driver = cls(dsn)
        try:
            await driver._submit(driver._writer, driver._open_writer)
        except BaseException:
            await driver.close()
            raise
        return driver

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
        return conn

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
            raise _translate(exc) from exc

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
            raise _translate(exc) from exc

    async def run_write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` transaction on the writer thread."""
        return await self._submit(self._writer, self._write_sync, fn)

    async def run_read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` in one read transaction on a reader thread."""
        return await self._submit(self._readers, self._read_sync, fn)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._readers.shutdown(wait=True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        # The writer closes last: as the final connection it checkpoints the WAL.
        self._writer.submit(self._close_writer).result()
        self._writer.shutdown(wait=True)

    def _close_writer(self) -> None:
        if self._writer_conn is not None:
            self._writer_conn.close()
            self._writer_conn = None

    # --- schema and migration ---------------------------------------------------------

    async def is_initialised(self) -> bool:
        def query(conn: apsw.Connection) -> bool:
            return _first(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memo'") is not None

        return await self.run_read(query)

    async def enable_writes(self) -> None:
        await self._submit(self._writer, self._switch_to_wal)

    def _switch_to_wal(self) -> None:
        # journal_mode is stored in the file, so this is the first change a
        # successful open makes; refused opens never get here.
        conn = self._writer_conn
        assert conn is not None
        if self._wal_enabled:
            return
        try:
            mode = _first(conn, "PRAGMA journal_mode = WAL")
        except apsw.Error as exc:
            raise _translate(exc) from exc
        if not mode or str(mode[0]).lower() != "wal":
            raise StoreError(f"cannot switch the database to WAL mode (got {mode and mode[0]})")
        self._wal_enabled = True

    async def create_schema(self, script: str, stamp: SystemSettingRow) -> None:
        def create(conn: apsw.Connection) -> None:
            conn.execute(script)
            _upsert_system_setting(conn, stamp)

        await self.run_write(create)

    async def apply_migrations(self, scripts: Sequence[str]) -> None:
        def apply(conn: apsw.Connection) -> None:
            for script in scripts:
                conn.execute(script)

        await self.run_write(apply)

    async def execute_script(self, script: str) -> None:
        await self.run_write(lambda conn: conn.execute(script).fetchall())

    async def database_size(self) -> int:
        def query(conn: apsw.Connection) -> int:
            pages = _first(conn, "PRAGMA page_count")
            size = _first(conn, "PRAGMA page_size")
            if not pages or not size:
                return -1
            return int(pages[0]) * int(size[0])

        return await self.run_read(query)

    # --- instance settings ---------------------------------------------------------------

    async def list_system_settings(self, name: str | None = None) -> list[SystemSettingRow]:
        def query(conn: apsw.Connection) -> list[SystemSettingRow]:
            sql = "SELECT name, value, description FROM system_setting"
            args: list[Any] = []
            if name is not None:
                sql += " WHERE name = ?"
                args.append(name)
            return [SystemSettingRow(*row) for row in _rows(conn, sql, args)]

        return await self.run_read(query)

    async def upsert_system_setting(self, row: SystemSettingRow) -> SystemSettingRow:
        return await self.run_write(lambda conn: _upsert_system_setting(conn, row))

    # --- users ----------------------------------------------------------------------------

    async def create_user(self, fields: Mapping[str, object]) -> User:
        _check_user_fields(fields)
        return await self.run_write(lambda conn: _insert_user(conn, fields))

    async def create_user_if_none(self, fields: Mapping[str, object]) -> User | None:
        _check_user_fields(fields)

        def create(conn: apsw.Connection) -> User | None:
            # BEGIN IMMEDIATE holds the write lock, so no other writer (in this
            # process or another) can insert between this check and the insert.
            if _first(conn, "SELECT 1 FROM user LIMIT 1") is not None:
                return None
            return _insert_user(conn, fields)

        return await self.run_write(create)

    async def list_users(
        self,
        *,
        id: int | None = None,
        username: str | None = None,
        role: str | None = None,
        row_status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[User]:
        where, args = _where([("id", id), ("username", username), ("role", role), ("row_status", row_status)])
        tail, tail_args = _limit_clause(limit, offset)
        sql = (
            f"SELECT {_USER_COLUMNS} FROM user WHERE {where}"
            f" ORDER BY created_ts DESC, row_status DESC, id DESC{tail}"
        )
        return await self.run_read(lambda conn: [User(*row) for row in _rows(conn, sql, args + tail_args)])

    async def count_users(self, *, role: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM user", []
        if role is not None:
            sql += " WHERE role = ?"
            args.append(role)
        return await self.run_read(lambda conn: int(_rows(conn, sql, args)[0][0]))

    async def update_user(self, user_id: int, fields: Mapping[str, object]) -> User | None:
        _check_user_fields(fields)
        if not fields:
            users = await self.list_users(id=user_id)
            return users[0] if users else None
        assignments = ", ".join(f"{column} = ?" for column in fields)
        sql = f"UPDATE user SET {assignments} WHERE id = ? RETURNING {_USER_COLUMNS}"
        args = [*fields.values(), user_id]

        def update(conn: apsw.Connection) -> User | None:
            row = _first(conn, sql, args)
            return User(*row) if row else None

        return await self.run_write(update)

    # --- user settings --------------------------------------------------------------------------

    async def list_user_settings(
        self, *, user_id: int | None = None, key: str | None = None
    ) -> list[UserSettingRow]:
        where, args = _where([("user_id", user_id), ("key", key)])
        sql = f"SELECT user_id, key, value FROM user_setting WHERE {where}"
        return await self.run_read(lambda conn: [UserSettingRow(*row) for row in _rows(conn, sql, args)])

    async def upsert_user_setting(self, row: UserSettingRow) -> UserSettingRow:
        await self.run_write(lambda conn: _upsert_user_setting(conn, row.user_id, row.key, row.value))
        return row

    async def delete_user_setting(self, user_id: int, key: str) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM user_setting WHERE user_id = ? AND key = ?", (user_id, key))
            return conn.changes() > 0

        return await self.run_write(delete)

    async def find_personal_access_token(self, token_hash: str) -> UserSettingRow | None:
        # CASE keeps json_each away from a malformed row, which would fail the whole query.
        sql = (
            "SELECT user_id, key, value FROM user_setting WHERE key = 'PERSONAL_ACCESS_TOKENS' AND"
            " CASE WHEN json_valid(value) THEN EXISTS ("
            "   SELECT 1 FROM json_each(user_setting.value, '$.tokens') AS token"
            "   WHERE json_extract(token.value, '$.tokenHash') = ?)"
            " ELSE 0 END LIMIT 1"
        )

        def query(conn: apsw.Connection) -> UserSettingRow | None:
            row = _first(conn, sql, (token_hash,))
            return UserSettingRow(*row) if row else None

        return await self.run_read(query)

