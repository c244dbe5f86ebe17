"""SQLite SQL of users, including the cascading delete of everything a user owns."""
from __future__ import annotations

import json

import apsw

from memos.store.attachment import AttachmentRef
from memos.store.sqlite.db import SqliteDatabase
from memos.store.sqlite.project_schema import MemoSearch
from memos.store.sqlite.sql import IN_JSON, first, given, insert, limit_clause, rows, update, where
from memos.store.sqlite.user_identity import insert_identity
from memos.store.user import CreateUser, FindUser, UpdateUser, User
from memos.store.user_identity import CreateUserIdentity, UserIdentity

COLUMNS = (
    "id, username, role, email, nickname, password_hash, avatar_url, description, "
    "row_status, created_ts, updated_ts"
)


def _insert_user(conn: apsw.Connection, create: CreateUser) -> User:
    return User(*insert(conn, "user", given(create), COLUMNS))


def _criteria(find: FindUser) -> tuple[str, list[object]]:
    return where(given(find, without=("limit", "offset")))


class SqliteUsers:
    def __init__(self, db: SqliteDatabase, search: MemoSearch) -> None:
        self._db = db
        self._search = search

    async def create(self, create: CreateUser) -> User:
        return await self._db.run_write(lambda conn: _insert_user(conn, create))

    async def create_first(self, create: CreateUser) -> User | None:
        def create_if_none(conn: apsw.Connection) -> User | None:
            # BEGIN IMMEDIATE holds the write lock, so no other writer (in this
            # process or another) can insert between this check and the insert.
            if first(conn, "SELECT 1 FROM user LIMIT 1") is not None:
                return None
            return _insert_user(conn, create)

        return await self._db.run_write(create_if_none)

    async def create_with_identity(
        self, create: CreateUser, provider: str, extern_uid: str
    ) -> tuple[User, UserIdentity]:
        def create_both(conn: apsw.Connection) -> tuple[User, UserIdentity]:
            # A UNIQUE failure on either insert rolls back both (one transaction).
            user = _insert_user(conn, create)
            return user, insert_identity(conn, CreateUserIdentity(user.id, provider, extern_uid))

        return await self._db.run_write(create_both)

    async def find(self, find: FindUser) -> list[User]:
        condition, args = _criteria(find)
        tail, tail_args = limit_clause(find.limit, find.offset)
        sql = (
            f"SELECT {COLUMNS} FROM user WHERE {condition}"
            f" ORDER BY created_ts DESC, row_status DESC, id DESC{tail}"
        )
        return await self._db.run_read(lambda conn: [User(*row) for row in rows(conn, sql, [*args, *tail_args])])

    async def count(self, find: FindUser) -> int:
        condition, args = _criteria(find)
        sql = f"SELECT COUNT(*) FROM user WHERE {condition}"
        return await self._db.run_read(lambda conn: int(rows(conn, sql, args)[0][0]))

    async def update(self, change: UpdateUser) -> User | None:
        changes = given(change, without=("id",))

        def update_user(conn: apsw.Connection) -> User | None:
            if changes:
                row = update(conn, "user", changes, ("id", change.id), COLUMNS)
            else:
                row = first(conn, f"SELECT {COLUMNS} FROM user WHERE id = ?", (change.id,))
            return User(*row) if row else None

        return await self._db.run_write(update_user)

    async def delete(self, user_id: int) -> list[AttachmentRef] | None:
        return await self._db.run_write(lambda conn: _delete_user_cascade(conn, user_id, self._search))


# Both payload kinds of an inbox message name memos; a row goes with a user's
# memos when any of these ids is among them. CAST tolerates ids written as strings.
_INBOX_MEMO_PATHS = (
    "$.memoComment.memoId",
    "$.memoComment.relatedMemoId",
    "$.memoMention.memoId",
    "$.memoMention.relatedMemoId",
)

# Every memo of the user, then every memo commenting on a collected memo, to any depth.
# UNION (not UNION ALL) stops on cyclic relations left behind by bad data.
_USER_MEMO_TREE = """
WITH RECURSIVE removed(id) AS (
  SELECT id FROM memo WHERE creator_id = ?
  UNION
  SELECT relation.memo_id FROM memo_relation AS relation
  JOIN removed ON relation.related_memo_id = removed.id
  WHERE relation.type = 'COMMENT'
)
SELECT memo.id, memo.uid FROM memo JOIN removed ON memo.id = removed.id
"""


def _delete_user_cascade(conn: apsw.Connection, user_id: int, search: MemoSearch) -> list[AttachmentRef] | None:
    if first(conn, "SELECT 1 FROM user WHERE id = ?", (user_id,)) is None:
        return None
    memos = rows(conn, _USER_MEMO_TREE, (user_id,))
    memo_ids = json.dumps([memo_id for memo_id, _ in memos])
    content_ids = json.dumps([f"memos/{uid}" for _, uid in memos])

    attachments = [
        AttachmentRef(*row)
        for row in rows(
            conn,
            "SELECT id, uid, storage_type, reference, payload FROM attachment"
            f" WHERE creator_id = ? OR memo_id {IN_JSON} ORDER BY id",
            (user_id, memo_ids),
        )
    ]
    conn.execute(f"DELETE FROM attachment WHERE creator_id = ? OR memo_id {IN_JSON}", (user_id, memo_ids))
    conn.execute(f"DELETE FROM reaction WHERE creator_id = ? OR content_id {IN_JSON}", (user_id, content_ids))
    conn.execute(f"DELETE FROM memo_share WHERE creator_id = ? OR memo_id {IN_JSON}", (user_id, memo_ids))
    references = " OR ".join(
        f"CAST(json_extract(message, '{path}') AS INTEGER) {IN_JSON}" for path in _INBOX_MEMO_PATHS
    )
    # json_valid keeps one malformed row from failing the whole delete.
    conn.execute(
        f"DELETE FROM inbox WHERE sender_id = ? OR receiver_id = ?"
        f" OR (json_valid(message) AND ({references}))",
        (user_id, user_id, *([memo_ids] * len(_INBOX_MEMO_PATHS))),
    )
    conn.execute(
        f"DELETE FROM memo_relation WHERE memo_id {IN_JSON} OR related_memo_id {IN_JSON}", (memo_ids, memo_ids)
    )
    conn.execute(f"DELETE FROM memo WHERE id {IN_JSON}", (memo_ids,))
    search.forget(conn, memo_ids)
    conn.execute("DELETE FROM user_identity WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM user_setting WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM user WHERE id = ?", (user_id,))
    return attachments
