"""The Store facade: the one object the rest of the server talks to for persistence.

It opens the dialect's driver, migrates the database, reads the deployment files,
and exposes one part per entity (``store.users``, ``store.inboxes``...; each lives in
``memos/store/<entity>.py``). The parts own the caches (read-your-writes within this
process), turn JSON columns into memos.store messages and apply read-time defaults;
the driver does the SQL. Every call is async; the driver keeps blocking work off the
event loop.
"""
from __future__ import annotations

import importlib.resources
import logging
import os
from collections.abc import Hashable

from memos.store import deployment, migrator
from memos.store.attachment import Attachments
from memos.store.driver import Driver, open_driver
from memos.store.errors import DeploymentError, StoreError
from memos.store.idp import IdentityProviders
from memos.store.inbox import Inboxes
from memos.store.instance_setting import InstanceSettings
from memos.store.memo import Memos
from memos.store.memo_html import MemoHtmls
from memos.store.memo_relation import MemoRelations
from memos.store.memo_share import MemoShares
from memos.store.reaction import Reactions
from memos.store.user import Users
from memos.store.user_identity import UserIdentities
from memos.store.user_setting import UserSettings

log = logging.getLogger(__name__)

DEFAULT_DEPLOYMENT_DIR = "/etc/secrets"


def _demo_seed_scripts(driver_name: str) -> list[str]:
    """SQL files of ``migration/<driver>/seed/``, in name order (none are shipped yet)."""
    folder = importlib.resources.files("memos.store").joinpath("migration", driver_name, "seed")
    if not folder.is_dir():
        return []
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".sql")), key=lambda e: e.name)
    return [entry.read_text(encoding="utf-8") for entry in files]


class Store:
    def __init__(
        self,
        driver: str,
        dsn: str,
        *,
        demo: bool = False,
        deployment_dir: str | os.PathLike[str] | None = DEFAULT_DEPLOYMENT_DIR,
    ) -> None:
        """Describe the database; nothing is opened until ``await start()`` (or use ``Store.open``).

        ``deployment_dir`` is where deployment configuration files are read at start
        (None: no overlay).
        """
        self.driver_name = driver
        self.dsn = dsn
        self.demo = demo
        self.deployment_dir = deployment_dir
        self.deployment = deployment.DeploymentConfig()
        self._driver: Driver | None = None
        self.users = Users(self)
        self.user_settings = UserSettings(self)
        self.instance_settings = InstanceSettings(self)
        self.identity_providers = IdentityProviders(self)
        self.user_identities = UserIdentities(self)
        self.inboxes = Inboxes(self)
        self.memos = Memos(self)
        self.memo_relations = MemoRelations(self)
        self.reactions = Reactions(self)
        self.memo_shares = MemoShares(self)
        self.attachments = Attachments(self)
        self.memo_html = MemoHtmls(self)

    @classmethod
    async def open(
        cls,
        driver: str,
        dsn: str,
        *,
        demo: bool = False,
        deployment_dir: str | os.PathLike[str] | None = DEFAULT_DEPLOYMENT_DIR,
    ) -> Store:
        """A started store: opened, migrated, seeded in demo mode, BASIC with a secret."""
        store = cls(driver, dsn, demo=demo, deployment_dir=deployment_dir)
        await store.start()
        return store

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise StoreError("the store is closed (or not started yet)")
        return self._driver

    async def start(self) -> None:
        """Open the database, migrate it, seed it in demo mode and make sure BASIC has a secret.

        Raises MigrationError (nothing written) when the schema cannot be used, and
        DeploymentError when a deployment file is invalid (checked before the
        database is touched) or the configuration they produce locks everyone out.
        """
        self.deployment = deployment.load(self.deployment_dir)
        opened = await open_driver(self.driver_name, self.dsn)
        try:
            await migrator.migrate(opened)
            if self.demo:
                for script in _demo_seed_scripts(opened.name):
                    await opened.execute_script(script)
            await opened.ensure_project_schema()
            self._driver = opened
            await self.instance_settings.ensure_secret_key()
            await self._check_auth_lockout()
        except BaseException:
            self._driver = None
            await opened.close()
            raise

    async def close(self) -> None:
        self.instance_settings.cache.clear()
        self.users.cache.clear()
        self.user_settings.cache.clear()
        if self._driver is not None:
            driver, self._driver = self._driver, None
            await driver.close()

    def generation(self) -> Hashable | None:
        """Changes whenever a write is committed to the database (by this process or another); None
        when that cannot be told now (closed, or the dialect cannot say): then nothing may be reused."""
        driver = self._driver
        return driver.generation() if driver is not None else None

    async def database_size(self) -> int:
        return await self.driver.database_size()

    async def _check_auth_lockout(self) -> None:
        """Refuse to start when deployment files leave password sign-in off and no identity provider."""
        general = (await self.instance_settings.get("GENERAL")).general_setting
        if not general.disallow_password_auth or await self.identity_providers.all():
            return
        if "GENERAL" in self.deployment.instance_settings or self.deployment.identity_providers:
            raise DeploymentError(
                "deployment configuration disables password sign-in but leaves no identity provider;"
                " nobody but an admin could sign in"
            )
        log.warning("password sign-in is disabled and there is no identity provider; only admins can sign in")
