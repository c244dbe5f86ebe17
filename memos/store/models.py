"""Dialect-neutral rows as the drivers return them.

JSON columns stay text here; the facade turns them into memos.store messages so
that every driver stores byte-compatible values.
"""
from __future__ import annotations

import dataclasses

ROLE_ADMIN = "ADMIN"
ROLE_USER = "USER"
ROW_STATUS_NORMAL = "NORMAL"
ROW_STATUS_ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    email: str
    nickname: str
    password_hash: str
    avatar_url: str
    description: str
    row_status: str
    created_ts: int
    updated_ts: int


# Columns a caller may set when creating or updating a user; id and the
# timestamps are the database's unless explicitly given.
USER_WRITABLE_FIELDS = frozenset(
    {
        "username",
        "role",
        "email",
        "nickname",
        "password_hash",
        "avatar_url",
        "description",
        "row_status",
        "created_ts",
        "updated_ts",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class UserSettingRow:
    user_id: int
    key: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class SystemSettingRow:
    name: str
    value: str
    description: str = ""
