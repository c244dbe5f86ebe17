"""UserService RPCs on the identity-provider accounts linked to a user."""
from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from memos.api.access import require_self, require_self_or_admin
from memos.api.convert.linked_identity import linked_identity_to_message
from memos.api.names import parse_idp_name, parse_linked_identity_name
from memos.api.user.lookup import UserLookups
from memos.auth import sso
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import user_service_pb2 as api
from memos.store.errors import Conflict, NotFound
from memos.store.models import User


class LinkedIdentityService(UserLookups):
    """Linking, reading and unlinking SSO identities."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def _identity_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, provider = parse_linked_identity_name(name)
        owner = await self._user(username)
        require_self_or_admin(ctx, owner)
        return owner, provider

    async def ListLinkedIdentities(
        self, request: api.ListLinkedIdentitiesRequest, ctx: CallContext
    ) -> api.ListLinkedIdentitiesResponse:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        links = await self._store.list_user_identities(user_id=owner.id)
        return api.ListLinkedIdentitiesResponse(
            linked_identities=[linked_identity_to_message(owner.username, i) for i in links]
        )

    async def GetLinkedIdentity(self, request: api.GetLinkedIdentityRequest, ctx: CallContext) -> api.LinkedIdentity:
        owner, provider = await self._identity_target(request.name, ctx)
        link = await self._store.get_user_identity(user_id=owner.id, provider=provider)
        if link is None:
            raise RpcError(Code.NOT_FOUND, "linked identity not found")
        return linked_identity_to_message(owner.username, link)

    async def DeleteLinkedIdentity(self, request: api.DeleteLinkedIdentityRequest, ctx: CallContext) -> empty_pb2.Empty:
        owner, provider = await self._identity_target(request.name, ctx)
        try:
            await self._store.delete_user_identity(user_id=owner.id, provider=provider)
        except NotFound:
            raise RpcError(Code.NOT_FOUND, "linked identity not found") from None
        return empty_pb2.Empty()

    async def CreateLinkedIdentity(
        self, request: api.CreateLinkedIdentityRequest, ctx: CallContext
    ) -> api.LinkedIdentity:
        owner = await self._user_named(request.parent)
        require_self(ctx, owner)
        identity = await sso.exchange_identity(
            self._store, parse_idp_name(request.idp_name), request.code, request.redirect_uri, request.code_verifier
        )
        link = await self._existing_link(owner, identity.idp_uid, identity.subject)
        if link is None:
            try:
                link = await self._store.create_user_identity(
                    user_id=owner.id, provider=identity.idp_uid, extern_uid=identity.subject
                )
            except Conflict:
                # Another request linked first: answer as if it had been there all along.
                link = await self._existing_link(owner, identity.idp_uid, identity.subject)
                if link is None:
                    raise RpcError(Code.ABORTED, "linked identity changed concurrently, try again") from None
        return linked_identity_to_message(owner.username, link)

    async def _existing_link(self, owner: User, provider: str, subject: str) -> Any | None:
        """The identical link if it exists; ALREADY_EXISTS when either side is linked elsewhere."""
        by_subject = await self._store.get_user_identity(provider=provider, extern_uid=subject)
        if by_subject is not None and by_subject.user_id != owner.id:
            raise RpcError(Code.ALREADY_EXISTS, "identity provider account is already linked to another user")
        if by_subject is not None:
            return by_subject
        mine = await self._store.get_user_identity(user_id=owner.id, provider=provider)
        if mine is not None:
            raise RpcError(
                Code.ALREADY_EXISTS, "identity provider is already linked to another external account for this user"
            )
        return None
