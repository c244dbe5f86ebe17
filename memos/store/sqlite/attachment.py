"""SQLite SQL of attachments (``attachment``): reads without the blob column."""
from __future__ import annotations

import json

from memos.store.attachment import Attachment, FindAttachment
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, given, rows, where

COLUMNS = (
    "id, uid, creator_id, created_ts, updated_ts, filename, type, size, memo_id, storage_type, reference, payload"
)
ORDER = "updated_ts DESC, id DESC"


class SqliteAttachments:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def find(self, find: FindAttachment) -> list[Attachment]:
        condition, args = where(given(find, without=("memo_ids", "per_memo_limit")))
        if find.memo_ids is not None:
            condition += f" AND memo_id {IN_JSON}"
            args.append(json.dumps(list(find.memo_ids)))
        sql = f"SELECT {COLUMNS} FROM attachment WHERE {condition} ORDER BY {ORDER}"
        if find.per_memo_limit is not None:
            ranked = f"SELECT {COLUMNS}, ROW_NUMBER() OVER (PARTITION BY memo_id ORDER BY {ORDER}) AS rank"
            sql = (
                f"SELECT {COLUMNS} FROM ({ranked} FROM attachment WHERE {condition})"
                f" WHERE rank <= ? ORDER BY {ORDER}"
            )
            args.append(find.per_memo_limit)
        return await self._db.run_read(lambda conn: [Attachment(*row) for row in rows(conn, sql, args)])
