"""The store's own failures; the api layer decides which RPC code each one becomes."""
from __future__ import annotations


class StoreError(Exception):
    """Any failure of the store that the caller cannot fix by changing its input."""


class NotFound(StoreError):
    """The row the caller named does not exist."""


class Conflict(StoreError):
    """The write would break a UNIQUE constraint (e.g. a taken username)."""


class InvalidValue(StoreError):
    """The caller passed something the store refuses to persist (bad key, unknown column)."""


class MigrationError(StoreError):
    """The database schema cannot be brought to this build's version; nothing was written."""
