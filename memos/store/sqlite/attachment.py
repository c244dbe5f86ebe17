"""SQLite SQL of attachments (``attachment``): rows without the blob column, the blob in slices, writes."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from memos.store.attachment import (
    Attachment,
    AttachmentRef,
    CreateAttachment,
    FindAttachment,
    SetMemoAttachments,
    UpdateAttachment,
)
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, first, given, insert, limit_clause, rows, update, where

COLUMNS = (
    "id, uid, creator_id, created_ts, updated_ts, filename, type, size, memo_id, storage_type, reference, payload"
)
REF_COLUMNS = "id, uid, storage_type, reference, payload"
ORDER = "updated_ts DESC, id DESC"
_LISTS = ("ids", "uids", "memo_ids")
_NOT_COLUMNS = (*_LISTS, "per_memo_limit", "filter", "limit", "offset")


class SqliteAttachments:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def find(self, find: FindAttachment) -> list[Attachment]:
        return await self._db.run_read(lambda conn: find_attachments(conn, find))

    async def create(self, create: CreateAttachment) -> Attachment:
        fields = given(create)
        return Attachment(*await self._db.run_write(lambda conn: insert(conn, "attachment", fields, COLUMNS)))

    async def update(self, change: UpdateAttachment) -> Attachment | None:
        changes = given(change, without=("id",))

        def apply(conn: apsw.Connection) -> Attachment | None:
            if not changes:
                row = first(conn, f"SELECT {COLUMNS} FROM attachment WHERE id = ?", (change.id,))
            else:
                row = update(conn, "attachment", changes, ("id", change.id), COLUMNS)
            return None if row is None else Attachment(*row)

        return await self._db.run_write(apply)

    async def delete(self, ids: Sequence[int]) -> list[AttachmentRef]:
        return await self._db.run_write(lambda conn: _delete(conn, ids))

    async def set_memo_attachments(self, change: SetMemoAttachments) -> list[AttachmentRef]:
        def apply(conn: apsw.Connection) -> list[AttachmentRef]:
            removed = _delete(conn, change.remove)
            last = len(change.keep) - 1
            conn.executemany(
                "UPDATE attachment SET memo_id = ?, updated_ts = ? WHERE id = ?",
                [(change.memo_id, change.now + last - position, attachment_id)
                 for position, attachment_id in enumerate(change.keep)],
            )
            return removed

        return await self._db.run_write(apply)

    async def blob_size(self, attachment_id: int) -> int | None:
        sql = "SELECT length(blob) FROM attachment WHERE id = ?"
        return await self._db.run_read(lambda conn: _scalar(first(conn, sql, (attachment_id,))))

    async def read_blob(self, attachment_id: int, offset: int, length: int) -> bytes:
        def read(conn: apsw.Connection) -> bytes:
            # Incremental blob I/O reads only the pages of the slice, never the whole value.
            try:
                blob = conn.blob_open("main", "attachment", "blob", attachment_id, False)
            except apsw.SQLError:  # no such row, or a NULL blob
                return b""
            try:
                blob.seek(min(offset, blob.length()))
                return blob.read(length)
            finally:
                blob.close()

        return await self._db.run_read(read)


def _condition(find: FindAttachment) -> tuple[str, list[Any]]:
    condition, args = where(given(find, without=_NOT_COLUMNS))
    for field, column in (("ids", "id"), ("uids", "uid"), ("memo_ids", "memo_id")):
        values = getattr(find, field)
        if values is not None:
            condition += f" AND {column} {IN_JSON}"
            args.append(json.dumps(list(values)))
    if find.filter is not None:
        # Imported here: a filter exists only once memos.filter has compiled it.
        from memos.filter import TRUE, render_sqlite

        if find.filter != TRUE:
            sql, params = render_sqlite(find.filter, table="attachment")
            condition += f" AND {sql}"
            args.extend(params)
    return condition, args


def _delete(conn: apsw.Connection, ids: Sequence[int]) -> list[AttachmentRef]:
    if not ids:
        return []
    sql = f"DELETE FROM attachment WHERE id {IN_JSON} RETURNING {REF_COLUMNS}"
    return sorted((AttachmentRef(*row) for row in rows(conn, sql, (json.dumps(list(ids)),))), key=lambda ref: ref.id)


def _scalar(row: tuple[Any, ...] | None) -> int | None:
    return None if row is None else row[0]


def find_attachments(conn: apsw.Connection, find: FindAttachment) -> list[Attachment]:
    """``SqliteAttachments.find`` inside the caller's read transaction."""
    condition, args = _condition(find)
    sql = f"SELECT {COLUMNS} FROM attachment WHERE {condition} ORDER BY {ORDER}"
    if find.per_memo_limit is not None:
        ranked = f"SELECT {COLUMNS}, ROW_NUMBER() OVER (PARTITION BY memo_id ORDER BY {ORDER}) AS rank"
        sql = (
            f"SELECT {COLUMNS} FROM ({ranked} FROM attachment WHERE {condition})"
            f" WHERE rank <= ? ORDER BY {ORDER}"
        )
        args.append(find.per_memo_limit)
    paging, paging_args = limit_clause(find.limit, find.offset)
    return [Attachment(*row) for row in rows(conn, sql + paging, [*args, *paging_args])]
