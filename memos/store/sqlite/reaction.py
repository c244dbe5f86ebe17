"""SQLite SQL of reactions (``reaction``)."""
from __future__ import annotations

import json

import apsw

from memos.store.reaction import CreateReaction, FindReaction, Reaction
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.sql import IN_JSON, given, insert, rows, where

COLUMNS = "id, created_ts, creator_id, content_id, reaction_type"


class SqliteReactions:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, create: CreateReaction) -> Reaction:
        return await self._db.run_write(lambda conn: Reaction(*insert(conn, "reaction", given(create), COLUMNS)))

    async def find(self, find: FindReaction) -> list[Reaction]:
        return await self._db.run_read(lambda conn: find_reactions(conn, find))

    async def delete(self, reaction_id: int) -> bool:
        def delete(conn: apsw.Connection) -> bool:
            conn.execute("DELETE FROM reaction WHERE id = ?", (reaction_id,))
            return conn.changes() > 0

        return await self._db.run_write(delete)


def find_reactions(conn: apsw.Connection, find: FindReaction) -> list[Reaction]:
    """``SqliteReactions.find`` inside the caller's read transaction."""
    condition, args = where(given(find, without=("content_ids", "existing_creators")))
    if find.content_ids is not None:
        condition += f" AND content_id {IN_JSON}"
        args.append(json.dumps(list(find.content_ids)))
    if find.existing_creators:
        condition += ' AND EXISTS (SELECT 1 FROM "user" WHERE "user".id = reaction.creator_id)'
    sql = f"SELECT {COLUMNS} FROM reaction WHERE {condition} ORDER BY id"
    return [Reaction(*row) for row in rows(conn, sql, args)]
