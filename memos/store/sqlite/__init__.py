"""The SQLite dialect, on apsw: ``db`` (connections, threads, SQL functions), ``sql`` (shared
helpers), one module per entity with its SQL, and ``driver`` putting them together."""
from __future__ import annotations

from memos.store.sqlite.driver import SqliteDriver

__all__ = ["SqliteDriver"]
