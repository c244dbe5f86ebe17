"""Persistence: the Store facade, its caches, and one driver per SQL dialect."""
from __future__ import annotations

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
from memos.store.models import AttachmentRef, InboxMessage, MemoSummary, User, UserIdentity
from memos.store.store import Store

__all__ = [
    "AttachmentRef",
    "Conflict",
    "DeploymentError",
    "DeploymentManaged",
    "GuardRefused",
    "InboxMessage",
    "InvalidValue",
    "MemoSummary",
    "MigrationError",
    "NotFound",
    "Store",
    "StoreError",
    "User",
    "UserIdentity",
]
