"""Dialect-neutral rows as the drivers return them.

JSON columns stay text here; the facade turns them into memos.store messages so
that every driver stores byte-compatible values.
"""
from __future__ import annotations

import dataclasses
from typing import Any

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


@dataclasses.dataclass(frozen=True, slots=True)
class IdpRow:
    """An ``idp`` row as stored; ``config`` is JSON text (of OAuth2Config in v0.30 rows)."""

    id: int
    uid: str
    name: str
    type: str
    identifier_filter: str
    config: str


@dataclasses.dataclass(frozen=True, slots=True)
class UserIdentity:
    """A link between a user and an account at an identity provider (provider = the IdP uid)."""

    id: int
    user_id: int
    provider: str
    extern_uid: str
    created_ts: int
    updated_ts: int


INBOX_UNREAD = "UNREAD"
INBOX_ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True, slots=True)
class InboxRow:
    """An ``inbox`` row as stored; ``message`` is JSON text."""

    id: int
    created_ts: int
    sender_id: int
    receiver_id: int
    status: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class InboxMessage:
    """An inbox row with its message decoded (a ``memos.store.InboxMessage``)."""

    id: int
    created_ts: int
    sender_id: int
    receiver_id: int
    status: str
    message: Any


@dataclasses.dataclass(frozen=True, slots=True)
class MemoSummary:
    """A memo without its content: what statistics, notification checks and the sitemap need.

    ``payload`` is JSON text at the driver level and a ``memos.store.MemoPayload``
    once the facade has decoded it.
    """

    id: int
    uid: str
    creator_id: int
    created_ts: int
    updated_ts: int
    pinned: bool
    visibility: str
    payload: Any


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentRef:
    """Where a removed attachment's content lived, so its file or object can be deleted after commit.

    ``payload`` is JSON text at the driver level and a ``memos.store.AttachmentPayload``
    from the facade.
    """

    id: int
    uid: str
    storage_type: str
    reference: str
    payload: Any
