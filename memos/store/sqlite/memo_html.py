"""SQLite SQL of the rendered memo HTML (``memo_html``, a table of this project)."""
from __future__ import annotations

import json
from collections.abc import Sequence

import apsw

from memos.store.memo_html import MemoHtml
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, rows

TABLE = """
CREATE TABLE IF NOT EXISTS memo_html (
  memo_id INTEGER PRIMARY KEY,
  html_version INTEGER NOT NULL,
  content_digest TEXT NOT NULL,
  html TEXT NOT NULL
);
"""
# Rows of memos deleted since (by us before this table existed, or by Memos v0.30).
PRUNE = "DELETE FROM memo_html WHERE memo_id NOT IN (SELECT id FROM memo)"


class SqliteMemoHtml:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def ensure(self) -> None:
        """Create the table where missing and drop rows of memos that are gone (at every start)."""
        await self._db.run_write(lambda conn: conn.execute(TABLE + PRUNE))

    async def put(self, rows: Sequence[MemoHtml]) -> None:
        def put(conn: apsw.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO memo_html (memo_id, html_version, content_digest, html)"
                " SELECT id, ?, ?, ? FROM memo WHERE id = ?",
                [(row.html_version, row.content_digest, row.html, row.memo_id) for row in rows],
            )

        await self._db.run_write(put)

    async def find(self, memo_ids: Sequence[int]) -> list[MemoHtml]:
        sql = f"SELECT memo_id, html, html_version, content_digest FROM memo_html WHERE memo_id {IN_JSON}"
        ids = json.dumps(list(memo_ids))
        return await self._db.run_read(lambda conn: [MemoHtml(*row) for row in rows(conn, sql, (ids,))])
