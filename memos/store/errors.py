"""The store's own failures; the api layer decides which RPC code each one becomes."""
from __future__ import annotations


class StoreError(Exception):
    """Any failure of the store that the caller cannot fix by changing its input."""


class NotFound(StoreError):
    """The row the caller named does not exist."""


class Conflict(StoreError):
    """The write would break a UNIQUE constraint (e.g. a taken username).

    ``columns`` names the constraint's columns as ``table.column`` (empty when
    unknown), so a caller can tell a taken username from an identity that
    another request linked first.
    """

    def __init__(self, message: str, columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.columns = columns


class InvalidValue(StoreError):
    """The caller passed something the store refuses to persist (bad key, unknown column)."""


class DatabaseDamaged(StoreError):
    """The database file is not a database, or its contents are corrupt; nothing was written."""


class MigrationError(StoreError):
    """The database schema cannot be brought to this build's version; nothing was written."""


class DeploymentError(StoreError):
    """A deployment configuration file (or the state it produces) is unusable; startup stops."""


class DeploymentManaged(StoreError):
    """The setting or identity provider comes from a deployment file and cannot be changed here."""


class GuardRefused(StoreError):
    """A guarded write was refused because the caller's safety check said no; nothing was written."""
