"""SSO: from an authorization code to the Memos user it signs in (or links).

Two entry points:

* ``exchange_identity(store, idp_uid, code, redirect_uri, code_verifier)``
  resolves the provider by its uid, runs the OAuth2 exchange and
  returns the ``ExternalIdentity`` (provider uid, subject, mapped profile).
  UserService.CreateLinkedIdentity binds that to the caller.
* ``SsoSignIn(store).resolve_user(idp_uid, credentials, ctx)`` is what AuthService.SignIn
  calls with ``SignInRequest.SSOCredentials``: it returns the user linked to
  the subject, creating user and link on a first sign-in when registration
  is open.

Every failure is an RpcError with the code the client sees. The API layer parses
the provider's resource name (``memos.api.names``) and passes its uid in.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from typing import Any

from memos.auth import oauth2
from memos.auth.oauth2 import ExternalProfile
from memos.auth.passwords import hash_password, random_password
from memos.call import Code, RpcError
from memos.store import ROLE_USER, CreateUser, FindIdentityProvider, FindUser, FindUserIdentity, Store, User
from memos.store.errors import Conflict

log = logging.getLogger("memos.auth.sso")

# Usernames a person may choose (and an SSO subject may become): 1-36 ASCII
# letters, digits or hyphens, alphanumeric at both ends, not only digits.
_WRITABLE_USERNAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,34}[a-zA-Z0-9])?")
# Names an SSO subject never takes over, whatever its case or padding: they
# read as the instance's own accounts.
RESERVED_USERNAMES = frozenset({"admin", "administrator", "api", "memos", "root", "support", "system"})
# A first sign-in tries the subject, then fresh UUIDs, this many times in all.
USERNAME_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """An account at a provider: ``idp_uid`` is the link's provider key, ``subject`` its extern_uid."""

    idp_uid: str
    subject: str
    profile: ExternalProfile


def is_writable_username(username: str) -> bool:
    return _WRITABLE_USERNAME.fullmatch(username) is not None and not username.isdigit()


def is_reserved_username(username: str) -> bool:
    return username.strip().lower() in RESERVED_USERNAMES


async def exchange_identity(
    store: Store, idp_uid: str, code: str, redirect_uri: str, code_verifier: str = ""
) -> ExternalIdentity:
    """Resolve the provider (stored or deployment-backed) and run the code exchange with it.

    Raises INVALID_ARGUMENT for an unknown provider, INTERNAL when
    the provider is misconfigured or fails, PERMISSION_DENIED when its
    identifier filter refuses the subject.
    """
    idp = await store.identity_providers.get(FindIdentityProvider(uid=idp_uid))
    if idp is None:
        raise RpcError(Code.INVALID_ARGUMENT, "identity provider not found")
    profile = await oauth2.authenticate(idp, code, redirect_uri, code_verifier)
    return ExternalIdentity(idp_uid=idp_uid, subject=profile.identifier, profile=profile)


class SsoSignIn:
    """The SSO half of AuthService.SignIn: credentials in, the store user out (SignIn refuses archived ones)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def resolve_user(self, idp_uid: str, credentials: Any, ctx: Any = None) -> User:
        """``credentials`` is a ``SignInRequest.SSOCredentials`` naming the provider ``idp_uid``;
        ``ctx`` is not needed yet."""
        identity = await exchange_identity(
            self._store, idp_uid, credentials.code, credentials.redirect_uri,
            credentials.code_verifier,
        )
        return await self.user_for(identity)

    async def user_for(self, identity: ExternalIdentity) -> User:
        """The user linked to ``identity``, provisioning one on a first sign-in."""
        if not identity.subject:
            # oauth2.map_claims already refuses empty identifiers; never link one regardless.
            raise RpcError(Code.INVALID_ARGUMENT, "identity provider returned an empty subject identifier")
        linked = await self._linked_user(identity)
        if linked is not None:
            return linked
        general = (await self._store.instance_settings.get("GENERAL")).general_setting
        if general.disallow_user_registration:
            raise RpcError(Code.PERMISSION_DENIED, "user registration is not allowed")
        return await self._provision(identity)

    async def _linked_user(self, identity: ExternalIdentity) -> User | None:
        find = FindUserIdentity(provider=identity.idp_uid, extern_uid=identity.subject)
        link = await self._store.user_identities.get(find)
        if link is None:
            return None
        user: User | None = await self._store.users.get(FindUser(id=link.user_id))
        if user is None:
            # A link left behind by a deleted user must not sign anyone in.
            raise RpcError(Code.INTERNAL, "linked user not found")
        return user

    async def _provision(self, identity: ExternalIdentity) -> User:
        """Create user + link in one transaction; concurrent first sign-ins converge on one user."""
        password_hash = await hash_password(random_password())
        username = await self._preferred_username(identity.subject)
        for _ in range(USERNAME_ATTEMPTS):
            try:
                create = CreateUser(
                    username=username,
                    password_hash=password_hash,
                    # Never ADMIN, even on an empty instance: the first admin sets up with a password.
                    role=ROLE_USER,
                    nickname=identity.profile.display_name,
                    email=identity.profile.email,
                    avatar_url=identity.profile.avatar_url,
                )
                return await self._store.users.create_with_identity(
                    create, provider=identity.idp_uid, extern_uid=identity.subject
                )
            except Conflict:
                # Either another sign-in of the same subject won (use its user)
                # or the username was taken meanwhile (try a UUID).
                linked = await self._linked_user(identity)
                if linked is not None:
                    return linked
                username = str(uuid.uuid4())
        log.warning("SSO sign-in for %s at %s found no free username", identity.subject, identity.idp_uid)
        # Every name tried was taken: a conflict with existing users, not a server fault.
        raise RpcError(Code.ALREADY_EXISTS, "failed to create user: every username tried already exists")

    async def _preferred_username(self, subject: str) -> str:
        """The subject itself when it is a valid, unreserved, free username; else a UUID.

        A same-named existing account is never linked: the newcomer gets a UUID instead.
        """
        if is_writable_username(subject) and not is_reserved_username(subject):
            if await self._store.users.get(FindUser(username=subject)) is None:
                return subject
        return str(uuid.uuid4())
