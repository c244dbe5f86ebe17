"""Persistence: the Store facade, its caches, and one driver per SQL dialect."""
from __future__ import annotations

from memos.store.errors import Conflict, InvalidValue, MigrationError, NotFound, StoreError
from memos.store.models import User
from memos.store.store import Store

__all__ = ["Conflict", "InvalidValue", "MigrationError", "NotFound", "Store", "StoreError", "User"]
