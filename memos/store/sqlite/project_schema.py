"""What this project adds beside the Memos schema: list indexes and the memo search index.

Nothing here changes a Memos table: the additions are indexes created with
``IF NOT EXISTS`` and tables of our own, so a database made here still opens in
Memos v0.30, and a Memos v0.30 database gets them at our next start.

The search index is an FTS5 table with the trigram tokenizer over the case-folded
content (``memos_unicode_lower``, the folding of the filter's exact test), without a
copy of the text (contentless). ``memo_search_source`` records what each memo looked
like when indexed (its ``updated_ts`` and content size), so a start after Memos v0.30
wrote to the file re-indexes what changed, and an interrupted build resumes.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence

import apsw

from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, rows

log = logging.getLogger(__name__)

SEARCH_TABLE = "memo_search"
SOURCE_TABLE = "memo_search_source"

# The orders ListMemos asks for, each walkable without a sort: an index's rows end
# with the rowid (memo.id), which gives the "id DESC" tie-break for free.
LIST_INDEXES = """
CREATE INDEX IF NOT EXISTS idx_pyz_memo_status_created ON memo (row_status, created_ts);
CREATE INDEX IF NOT EXISTS idx_pyz_memo_status_updated ON memo (row_status, updated_ts);
CREATE INDEX IF NOT EXISTS idx_pyz_memo_status_pinned_created ON memo (row_status, pinned, created_ts);
CREATE INDEX IF NOT EXISTS idx_pyz_memo_status_pinned_updated ON memo (row_status, pinned, updated_ts);
CREATE INDEX IF NOT EXISTS idx_pyz_memo_creator_status_created ON memo (creator_id, row_status, created_ts);
"""

SEARCH_TABLES = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5(
  folded, content='', contentless_delete=1, tokenize='trigram case_sensitive 1'
);
CREATE TABLE IF NOT EXISTS {SOURCE_TABLE} (
  memo_id INTEGER PRIMARY KEY,
  updated_ts INTEGER NOT NULL,
  content_bytes INTEGER NOT NULL
);
"""

# Memos indexed in one transaction while building; progress is logged per batch.
BUILD_BATCH = 5_000
LOG_BUILD_FROM = 20_000

_STALE = f"""
SELECT memo.id FROM memo LEFT JOIN {SOURCE_TABLE} AS source ON source.memo_id = memo.id
WHERE source.memo_id IS NULL OR source.updated_ts != memo.updated_ts
   OR source.content_bytes != octet_length(memo.content)
ORDER BY memo.id
"""
_GONE = f"SELECT memo_id FROM {SOURCE_TABLE} WHERE memo_id NOT IN (SELECT id FROM memo)"


class MemoSearch:
    """The search index of one database; the memo writes call ``reindex``/``forget`` in their transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        # Set once the index is built and current; until then searches scan.
        self.ready = False

    @property
    def table(self) -> str | None:
        """The table the filter renderer may use, None while it cannot."""
        return SEARCH_TABLE if self.ready else None

    def reindex(self, conn: apsw.Connection, memo_ids: Sequence[int]) -> None:
        """Index the current content of these memos (inside the caller's write transaction)."""
        if self.ready and memo_ids:
            _reindex(conn, json.dumps(list(memo_ids)))

    def touch(self, conn: apsw.Connection, memo_id: int) -> None:
        """Record a memo's new ``updated_ts`` when its content did not change."""
        if self.ready:
            conn.execute(
                f"UPDATE {SOURCE_TABLE} SET updated_ts = (SELECT updated_ts FROM memo WHERE id = ?)"
                " WHERE memo_id = ?",
                (memo_id, memo_id),
            )

    def forget(self, conn: apsw.Connection, ids_json: str) -> None:
        """Drop the entries of removed memos (a JSON array of ids)."""
        if self.ready:
            _forget(conn, ids_json)

    async def ensure(self) -> None:
        """Create the indexes and tables if missing and bring the search index up to date."""
        try:
            await self._db.run_write(lambda conn: conn.execute(LIST_INDEXES + SEARCH_TABLES))
        except Exception as exc:  # an SQLite built without FTS5: lists still work, searches scan
            log.warning("memo search index unavailable, content searches will scan: %s", exc)
            await self._db.run_write(lambda conn: conn.execute(LIST_INDEXES))
            return
        gone = await self._db.run_read(lambda conn: [row[0] for row in rows(conn, _GONE)])
        if gone:
            await self._db.run_write(lambda conn: _forget(conn, json.dumps(gone)))
        stale = await self._db.run_read(lambda conn: [row[0] for row in rows(conn, _STALE)])
        if len(stale) >= LOG_BUILD_FROM:
            log.info("building the memo search index for %d memos", len(stale))
        for start in range(0, len(stale), BUILD_BATCH):
            batch = json.dumps(stale[start : start + BUILD_BATCH])
            await self._db.run_write(functools.partial(_reindex, ids_json=batch))
            if len(stale) >= LOG_BUILD_FROM:
                log.info("memo search index: %d of %d memos indexed", min(start + BUILD_BATCH, len(stale)), len(stale))
        self.ready = True


def _forget(conn: apsw.Connection, ids_json: str) -> None:
    conn.execute(f"DELETE FROM {SEARCH_TABLE} WHERE rowid {IN_JSON}", (ids_json,))
    conn.execute(f"DELETE FROM {SOURCE_TABLE} WHERE memo_id {IN_JSON}", (ids_json,))


def _reindex(conn: apsw.Connection, ids_json: str) -> None:
    _forget(conn, ids_json)
    conn.execute(
        f"INSERT INTO {SEARCH_TABLE} (rowid, folded)"
        f" SELECT id, memos_unicode_lower(content) FROM memo WHERE id {IN_JSON}",
        (ids_json,),
    )
    conn.execute(
        f"INSERT INTO {SOURCE_TABLE} (memo_id, updated_ts, content_bytes)"
        f" SELECT id, updated_ts, octet_length(content) FROM memo WHERE id {IN_JSON}",
        (ids_json,),
    )
