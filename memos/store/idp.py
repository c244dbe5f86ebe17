"""Identity providers (the ``idp`` table), overlaid by the deployment's provider files.

The effective providers are the stored ones in id order (a file-backed provider
takes the place of the stored uid it shadows), then the providers only the files
have, by uid. File-backed providers cannot be changed through the store.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from memos.gen.store import idp_pb2, instance_setting_pb2
from memos.store import codec
from memos.store.errors import DeploymentManaged, GuardRefused, InvalidValue, NotFound

if TYPE_CHECKING:
    from memos.store.store import Store

IdentityProvider = idp_pb2.IdentityProvider

# is_safe(effective GENERAL, effective identity providers left after the delete) -> bool
IdpDeleteGuard = Callable[[instance_setting_pb2.InstanceGeneralSetting, list[IdentityProvider]], bool]


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
class FindIdentityProvider:
    """Providers matching every given criterion (None: not given), in id order."""

    id: int | None = None
    uid: str | None = None


# (current GENERAL value or None, identity-provider rows) -> raises to refuse a write.
AuthConfigCheck = Callable[[str | None, list[IdpRow]], None]


class IdpDriver(Protocol):
    """A dialect writes a provider's columns with ``codec.encode_idp`` (which validates it)."""

    async def create(self, provider: IdentityProvider) -> IdpRow:
        """Insert (its ``id`` is ignored); Conflict on a taken uid."""
        ...

    async def find(self, find: FindIdentityProvider) -> list[IdpRow]: ...

    async def update(self, provider: IdentityProvider) -> IdpRow | None:
        """Replace every column but the uid of the provider ``provider.uid``; None if absent."""
        ...

    async def delete(self, uid: str, check: AuthConfigCheck | None) -> bool:
        """``check(GENERAL value, remaining providers)`` runs in the deleting transaction; False if absent."""
        ...


class IdentityProviders:
    """``store.identity_providers``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def is_deployment(self, uid: str) -> bool:
        """Whether a deployment file provides the identity provider with this uid."""
        return uid in self._store.deployment.identity_providers

    def _refuse_deployment(self, uid: str) -> None:
        if self.is_deployment(uid):
            raise DeploymentManaged(f'identity provider "{uid}" is configured by the deployment')

    def effective(self, stored: Sequence[IdpRow]) -> list[IdentityProvider]:
        """These stored providers as the deployment files overlay them (see the module's docstring)."""
        files = self._store.deployment.identity_providers
        providers = [codec.clone(files[row.uid]) if row.uid in files else codec.decode_idp(row) for row in stored]
        stored_uids = {row.uid for row in stored}
        providers.extend(codec.clone(p) for uid, p in files.items() if uid not in stored_uids)
        return providers

    async def create(self, provider: IdentityProvider) -> IdentityProvider:
        """Insert a provider (its ``id`` is ignored); Conflict when the uid is taken,
        DeploymentManaged when a deployment file owns the uid."""
        self._refuse_deployment(provider.uid)
        return codec.decode_idp(await self._store.driver.identity_providers.create(provider))

    async def all(self) -> list[IdentityProvider]:
        """The effective providers: stored ones by id, file-backed ones in place or appended."""
        return self.effective(await self._store.driver.identity_providers.find(FindIdentityProvider()))

    async def find(self, find: FindIdentityProvider) -> list[IdentityProvider]:
        """Only the database's providers, ignoring deployment files."""
        return [codec.decode_idp(row) for row in await self._store.driver.identity_providers.find(find)]

    async def get(self, find: FindIdentityProvider) -> IdentityProvider | None:
        """The effective provider with this uid (or stored id), None if there is none."""
        if find.uid is None and find.id is None:
            raise InvalidValue("getting an identity provider needs a uid or an id")
        files = self._store.deployment.identity_providers
        if find.uid is not None and find.id is None and find.uid in files:
            return codec.clone(files[find.uid])
        rows = await self._store.driver.identity_providers.find(find)
        return self.effective(rows)[0] if rows else None

    async def update(self, provider: IdentityProvider) -> IdentityProvider:
        """Replace name, type, identifier filter and config of the stored provider ``provider.uid``.

        The caller merges (e.g. keeps a secret the request left empty). NotFound when
        absent, DeploymentManaged when a deployment file owns the uid.
        """
        self._refuse_deployment(provider.uid)
        row = await self._store.driver.identity_providers.update(provider)
        if row is None:
            raise NotFound(f"identity provider {provider.uid} not found")
        return codec.decode_idp(row)

    async def delete(self, uid: str, *, is_safe: IdpDeleteGuard | None = None) -> None:
        """Delete the stored provider; linked identities stay (a re-created uid resumes them).

        With ``is_safe``, ``is_safe(effective GENERAL, effective providers left)`` is asked
        inside the deleting transaction and GuardRefused is raised (nothing deleted)
        when it answers False. NotFound when absent; DeploymentManaged for a file-backed uid.
        """
        self._refuse_deployment(uid)

        def check(general_value: str | None, remaining: list[IdpRow]) -> None:
            assert is_safe is not None
            general = self._store.instance_settings.effective_general(general_value)
            if not is_safe(general, self.effective(remaining)):
                raise GuardRefused(f"deleting identity provider {uid} was refused by the guard")

        if not await self._store.driver.identity_providers.delete(uid, check if is_safe else None):
            raise NotFound(f"identity provider {uid} not found")
