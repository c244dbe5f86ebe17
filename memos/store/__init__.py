"""Persistence: the Store facade, one module per entity, and one driver per SQL dialect.

``store.<entity part>.<verb>(<Find|Create|Update><Entity>(...))``: each entity module
(``user``, ``user_setting``, ``instance_setting``, ``idp``, ``user_identity``, ``inbox``,
``memo``, ``memo_relation``, ``reaction``, ``memo_share``, ``attachment``) holds its row,
its lookup and change objects, the protocol its dialect objects follow and its part of
the facade; ``sqlite/<entity>.py`` holds its SQL.
"""
from __future__ import annotations

from memos.store.attachment import (
    STORAGE_DATABASE,
    STORAGE_EXTERNAL,
    STORAGE_LOCAL,
    STORAGE_S3,
    Attachment,
    AttachmentRef,
    CreateAttachment,
    FindAttachment,
    SetMemoAttachments,
    UpdateAttachment,
)
from memos.store.errors import (
    Conflict,
    DeploymentError,
    DeploymentManaged,
    GuardRefused,
    InvalidValue,
    MigrationError,
    NotFound,
    StoreError,
)
from memos.store.idp import FindIdentityProvider
from memos.store.inbox import CreateInbox, FindInbox, InboxMessage, UpdateInbox
from memos.store.instance_setting import FindInstanceSetting
from memos.store.memo import (
    VISIBILITIES,
    VISIBILITY_PRIVATE,
    VISIBILITY_PROTECTED,
    VISIBILITY_PUBLIC,
    CreateMemo,
    FindMemo,
    Memo,
    MemoPage,
    MemoSummary,
    UpdateMemo,
)
from memos.store.memo_relation import (
    RELATION_COMMENT,
    RELATION_REFERENCE,
    FindMemoRelation,
    LinkedRelation,
    MemoRelation,
    RelatedMemo,
)
from memos.store.memo_share import CreateMemoShare, FindMemoShare, MemoShare
from memos.store.reaction import CreateReaction, FindReaction, Reaction
from memos.store.store import Store
from memos.store.user import (
    ROLE_ADMIN,
    ROLE_USER,
    ROW_STATUS_ARCHIVED,
    ROW_STATUS_NORMAL,
    CreateUser,
    FindUser,
    UpdateUser,
    User,
)
from memos.store.user_identity import CreateUserIdentity, FindUserIdentity, UserIdentity
from memos.store.user_setting import FindUserSetting

__all__ = [
    "RELATION_COMMENT",
    "RELATION_REFERENCE",
    "ROLE_ADMIN",
    "ROLE_USER",
    "ROW_STATUS_ARCHIVED",
    "ROW_STATUS_NORMAL",
    "STORAGE_DATABASE",
    "STORAGE_EXTERNAL",
    "STORAGE_LOCAL",
    "STORAGE_S3",
    "VISIBILITIES",
    "VISIBILITY_PRIVATE",
    "VISIBILITY_PROTECTED",
    "VISIBILITY_PUBLIC",
    "Attachment",
    "AttachmentRef",
    "Conflict",
    "CreateAttachment",
    "CreateInbox",
    "CreateMemo",
    "CreateMemoShare",
    "CreateReaction",
    "CreateUser",
    "CreateUserIdentity",
    "DeploymentError",
    "DeploymentManaged",
    "FindAttachment",
    "FindIdentityProvider",
    "FindInbox",
    "FindInstanceSetting",
    "FindMemo",
    "FindMemoRelation",
    "FindMemoShare",
    "FindReaction",
    "FindUser",
    "FindUserIdentity",
    "FindUserSetting",
    "GuardRefused",
    "InboxMessage",
    "InvalidValue",
    "LinkedRelation",
    "Memo",
    "MemoPage",
    "MemoRelation",
    "MemoShare",
    "MemoSummary",
    "MigrationError",
    "NotFound",
    "Reaction",
    "RelatedMemo",
    "SetMemoAttachments",
    "Store",
    "StoreError",
    "UpdateAttachment",
    "UpdateInbox",
    "UpdateMemo",
    "UpdateUser",
    "User",
    "UserIdentity",
]
