"""The resolved server configuration: what flags and MEMOS_* variables decided."""
from __future__ import annotations

import dataclasses

from memos import __version__


@dataclasses.dataclass(frozen=True)
class Profile:
    """Everything the server needs to know about how it was started.

    ``data`` is an absolute directory that exists; ``dsn`` is the database
    source actually used (for SQLite the file path, already defaulted).
    """

    data: str
    dsn: str
    driver: str = "sqlite"
    addr: str = ""
    port: int = 8081
    unix_sock: str = ""
    instance_url: str = ""
    demo: bool = False
    allow_private_webhooks: bool = False
    log_level: str = "info"
    # Reverse proxies whose forwarding headers are believed (addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    version: str = __version__
    commit: str = "unknown"
    # Memos reads deployment files (identity providers, instance settings) from
    # here; not a flag, but tests point it at a directory of their own.
    deployment_dir: str = "/etc/secrets"

    @property
    def is_public(self) -> bool:
        """A non-blank instance URL opens the instance to anonymous visitors."""
        return bool(self.instance_url.strip())
