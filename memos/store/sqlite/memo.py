"""SQLite SQL of memos: writes (with the search index kept in step), lists, counts and summaries."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import apsw

from memos.store import codec
from memos.store.attachment import AttachmentRef, FindAttachment
from memos.store.memo import CreateMemo, FindMemo, Memo, MemoSummary, PageRows, UpdateMemo, memo_content_id
from memos.store.memo_relation import MemoRelation
from memos.store.reaction import FindReaction
from memos.store.sqlite.attachment import find_attachments
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.memo_relation import find_linked, replace_references, upsert_relation
from memos.store.sqlite.project_schema import MemoSearch
from memos.store.sqlite.reaction import find_reactions
from memos.store.sqlite.sql import IN_JSON, first, given, insert, limit_clause, rows, update, where

if TYPE_CHECKING:
    from memos.filter import Condition

COLUMNS = "id, uid, creator_id, created_ts, updated_ts, row_status, content, visibility, pinned, payload"
SUMMARY_COLUMNS = "id, uid, creator_id, created_ts, updated_ts, pinned, visibility, payload"
# As everywhere a single memo's attachments are read, only this many (newest first) go with it.
ATTACHMENTS_PER_MEMO = 100
# A needle with at least this many search-index candidates is common: walking the list
# order and testing each row fills a page sooner than collecting and sorting them all.
COMMON_NEEDLE = 2_000


def _memo(row: tuple[Any, ...]) -> Memo:
    return Memo(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9])


def _criteria(find: FindMemo, search_table: str | None) -> tuple[str, list[Any]]:
    condition, args = where(
        {"id": find.id, "uid": find.uid, "creator_id": find.creator_id, "row_status": find.row_status}
    )
    if find.pinned is not None:
        condition += " AND pinned = ?"
        args.append(int(find.pinned))
    if find.ids is not None:
        condition += f" AND id {IN_JSON}"
        args.append(json.dumps(list(find.ids)))
    if find.uids is not None:
        condition += f" AND uid {IN_JSON}"
        args.append(json.dumps(list(find.uids)))
    if find.visibilities is not None:
        # The caller's own memos may count whatever their visibility.
        own = " OR creator_id = ?" if find.or_creator_id is not None else ""
        condition += f" AND (visibility {IN_JSON}{own})"
        args.append(json.dumps(list(find.visibilities)))
        if find.or_creator_id is not None:
            args.append(find.or_creator_id)
    if find.exclude_comments:
        # Served by the UNIQUE(memo_id, related_memo_id, type) index.
        condition += (
            " AND NOT EXISTS (SELECT 1 FROM memo_relation AS relation"
            " WHERE relation.memo_id = memo.id AND relation.type = 'COMMENT')"
        )
    if find.filter is not None:
        # Imported here: a filter exists only once memos.filter has compiled it.
        from memos.filter import TRUE, render_sqlite

        if find.filter == TRUE:
            return condition, args
        sql, params = render_sqlite(find.filter, table="memo", search_table=search_table)
        condition += f" AND {sql}"
        args.extend(params)
    return condition, args


def _order(find: FindMemo) -> str:
    keys = ["pinned DESC"] if find.pinned_first else []
    keys.append(f"{find.time_field} {'ASC' if find.ascending else 'DESC'}")
    keys.append("id DESC")
    return ", ".join(keys)


def _content_needles(condition: Condition) -> list[str]:
    """The search-index queries of the content text searches in a filter."""
    from memos.filter import conditions as c
    from memos.filter.sqlite import trigram_query

    if isinstance(condition, (c.And, c.Or)):
        return [query for part in condition.parts for query in _content_needles(part)]
    if isinstance(condition, c.Not):
        return _content_needles(condition.part)
    if isinstance(condition, c.TextSearch) and condition.column is c.Column.CONTENT:
        query = trigram_query(condition.text.casefold())
        return [query] if query else []
    return []


def list_query(columns: str, find: FindMemo, search_table: str | None) -> tuple[str, list[Any]]:
    """The SELECT of ``find`` (its plan is checked by the tests: lists must walk an index)."""
    condition, args = _criteria(find, search_table)
    tail, tail_args = limit_clause(find.limit, find.offset)
    return f"SELECT {columns} FROM memo WHERE {condition} ORDER BY {_order(find)}{tail}", [*args, *tail_args]


class SqliteMemos:
    def __init__(self, db: SqliteDatabase, search: MemoSearch) -> None:
        self._db = db
        self._search = search

    async def create(self, create: CreateMemo) -> Memo:
        fields = given(create, without=("payload", "relations"))
        if create.payload is not None:
            fields["payload"] = codec.to_json(create.payload)

        def create_memo(conn: apsw.Connection) -> Memo:
            memo = _memo(insert(conn, "memo", fields, COLUMNS))
            for related_id, relation_type in create.relations:
                upsert_relation(conn, MemoRelation(memo.id, related_id, relation_type))
            self._search.reindex(conn, [memo.id])
            return memo

        return await self._db.run_write(create_memo)

    def _search_table_for(self, conn: apsw.Connection, find: FindMemo) -> str | None:
        """The search index for this list, unless every needle in it is common (see COMMON_NEEDLE).

        Either way the rows are the same; only the plan differs. Counts and unpaged
        lists always use the index: they visit every match anyway.
        """
        table = self._search.table
        if table is None or find.filter is None or find.limit is None:
            return table
        probe = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)"
        for query in _content_needles(find.filter):
            found = first(conn, probe, (query, COMMON_NEEDLE))
            if found is not None and found[0] < COMMON_NEEDLE:
                return table
        return None

    async def find(self, find: FindMemo) -> list[Memo]:
        return await self._db.run_read(lambda conn: self._find(conn, find))

    def _find(self, conn: apsw.Connection, find: FindMemo) -> list[Memo]:
        sql, args = list_query(COLUMNS, find, self._search_table_for(conn, find))
        return [_memo(row) for row in rows(conn, sql, args)]

    async def find_page(self, find: FindMemo, per_memo_attachments: int | None, with_content: bool) -> PageRows:
        def query(conn: apsw.Connection) -> PageRows:
            memos = self._find(conn, find)
            if not memos:
                return PageRows(memos, [], [], [])
            ids = list(dict.fromkeys(memo.id for memo in memos))
            content_ids = list(dict.fromkeys(memo_content_id(memo.uid) for memo in memos))
            return PageRows(
                memos,
                find_attachments(conn, FindAttachment(memo_ids=ids, per_memo_limit=per_memo_attachments)),
                find_linked(conn, ids, with_content),
                find_reactions(conn, FindReaction(content_ids=content_ids, existing_creators=True)),
            )

        return await self._db.run_read(query)

    async def count(self, find: FindMemo) -> int:
        condition, args = _criteria(find, self._search.table)
        sql = f"SELECT COUNT(*) FROM memo WHERE {condition}"
        return await self._db.run_read(lambda conn: int(rows(conn, sql, args)[0][0]))

    async def update(self, change: UpdateMemo) -> Memo | None:
        changes: dict[str, object] = given(change, without=("id", "payload", "pinned", "references"))
        if change.payload is not None:
            changes["payload"] = codec.to_json(change.payload)
        if change.pinned is not None:
            changes["pinned"] = int(change.pinned)

        def update_memo(conn: apsw.Connection) -> Memo | None:
            if not changes:
                row = first(conn, f"SELECT {COLUMNS} FROM memo WHERE id = ?", (change.id,))
            else:
                row = update(conn, "memo", changes, ("id", change.id), COLUMNS)
            if row is None:
                return None
            if change.references is not None:
                replace_references(conn, change.id, change.references)
            if change.content is not None:
                self._search.reindex(conn, [change.id])
            elif change.updated_ts is not None:
                self._search.touch(conn, change.id)
            return _memo(row)

        return await self._db.run_write(update_memo)

    async def delete(self, memo_id: int) -> list[AttachmentRef] | None:
        return await self._db.run_write(lambda conn: self._delete_cascade(conn, memo_id))

    def _delete_cascade(self, conn: apsw.Connection, memo_id: int) -> list[AttachmentRef] | None:
        if first(conn, "SELECT 1 FROM memo WHERE id = ?", (memo_id,)) is None:
            return None
        # Direct comments only: a comment's own comments lose their relation and stay.
        comments = rows(
            conn, "SELECT memo_id FROM memo_relation WHERE related_memo_id = ? AND type = 'COMMENT'", (memo_id,)
        )
        removed = json.dumps(sorted({memo_id, *(row[0] for row in comments)}))
        attachments = [
            AttachmentRef(*row)
            for row in rows(
                conn,
                "SELECT id, uid, storage_type, reference, payload FROM ("
                "  SELECT *, ROW_NUMBER() OVER (PARTITION BY memo_id ORDER BY updated_ts DESC, id DESC) AS newest"
                f"  FROM attachment WHERE memo_id {IN_JSON}"
                ") WHERE newest <= ? ORDER BY id",
                (removed, ATTACHMENTS_PER_MEMO),
            )
        ]
        conn.execute(
            f"DELETE FROM attachment WHERE id {IN_JSON}", (json.dumps([attachment.id for attachment in attachments]),)
        )
        conn.execute(
            f"DELETE FROM memo_relation WHERE memo_id {IN_JSON} OR related_memo_id {IN_JSON}", (removed, removed)
        )
        conn.execute(f"DELETE FROM memo WHERE id {IN_JSON}", (removed,))
        self._search.forget(conn, removed)
        return attachments

    async def find_summaries(self, find: FindMemo) -> list[MemoSummary]:
        def query(conn: apsw.Connection) -> list[MemoSummary]:
            sql, args = list_query(SUMMARY_COLUMNS, find, self._search_table_for(conn, find))
            return [
                MemoSummary(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])
                for row in rows(conn, sql, args)
            ]

        return await self._db.run_read(query)

    async def contents(self, ids: Sequence[int]) -> dict[int, str]:
        sql = f"SELECT id, content FROM memo WHERE id {IN_JSON}"
        args = [json.dumps(list(ids))]

        def query(conn: apsw.Connection) -> dict[int, str]:
            return {row[0]: row[1] for row in rows(conn, sql, args)}

        return await self._db.run_read(query)
