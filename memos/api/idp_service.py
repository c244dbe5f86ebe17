"""memos.api.v1.IdentityProviderService: the OAuth2 providers users can sign in with.

Listing is public (the sign-in page builds its buttons from it); reading one
needs any signed-in caller; changes are for admins. Providers configured by
deployment files are read like stored ones but cannot be changed through the API.
"""
from __future__ import annotations

import re
from typing import Any

from google.protobuf import empty_pb2

from memos.api.access import require_admin
from memos.api.convert.idp import config_from_message, idp_to_message, type_from_message
from memos.api.ids import short_uuid
from memos.api.instance_setting_rules import LOCKOUT_MESSAGE
from memos.api.names import parse_idp_name
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import idp_service_pb2 as api
from memos.gen.store import idp_pb2 as store_pb
from memos.store.errors import Conflict, GuardRefused, NotFound, StoreError

# Provider ids: 1-36 letters, digits or hyphens, alphanumeric at both ends (all digits is fine here).
_UID = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,34}[a-zA-Z0-9])?")
INVALID_UID_MESSAGE = (
    "invalid UID: must be 1-36 characters, contain only letters, digits, or hyphens, "
    "and start and end with a letter or digit"
)
NOT_FOUND_MESSAGE = "identity provider not found"



def _leaves_a_way_to_sign_in(general: Any, remaining_providers: list[Any]) -> bool:
    """The lock-out guard: with password sign-in off for regular users, keep at least one provider."""
    return not general.disallow_password_auth or bool(remaining_providers)


def _deployment_refusal(uid: str) -> RpcError:
    return RpcError(Code.FAILED_PRECONDITION, f'identity provider "{uid}" is configured by the deployment')


def _store_error(exc: StoreError) -> RpcError:
    if isinstance(exc, NotFound):
        return RpcError(Code.NOT_FOUND, NOT_FOUND_MESSAGE)
    return RpcError(Code.INTERNAL, f"failed to save identity provider: {exc}")


class IdentityProviderService:
    SERVICE_NAME = "memos.api.v1.IdentityProviderService"

    def __init__(self, store: Any) -> None:
        self._store = store

    async def ListIdentityProviders(
        self, request: api.ListIdentityProvidersRequest, ctx: CallContext
    ) -> api.ListIdentityProvidersResponse:
        providers = await self._store.list_identity_providers()
        return api.ListIdentityProvidersResponse(identity_providers=[idp_to_message(idp) for idp in providers])

    async def GetIdentityProvider(
        self, request: api.GetIdentityProviderRequest, ctx: CallContext
    ) -> api.IdentityProvider:
        uid = parse_idp_name(request.name)
        return idp_to_message(await self._existing(uid))

    async def CreateIdentityProvider(
        self, request: api.CreateIdentityProviderRequest, ctx: CallContext
    ) -> api.IdentityProvider:
        require_admin(ctx)
        uid = request.identity_provider_id.strip() or short_uuid()
        if not _UID.fullmatch(uid):
            raise RpcError(Code.INVALID_ARGUMENT, INVALID_UID_MESSAGE)
        if self._store.is_deployment_idp(uid):
            raise _deployment_refusal(uid)
        given = request.identity_provider
        if not given.config.HasField("oauth2_config") or not given.config.oauth2_config.HasField("field_mapping"):
            raise RpcError(Code.INVALID_ARGUMENT, "oauth2 config with a field mapping is required")
        idp = store_pb.IdentityProvider(
            uid=uid,
            name=given.title,
            # OAuth2 is the only kind there is; a client that left the type out still means it.
            type=store_pb.IdentityProvider.OAUTH2,
            identifier_filter=given.identifier_filter,
            config=config_from_message(given.config),
        )
        try:
            created = await self._store.create_identity_provider(idp)
        except Conflict:
            raise RpcError(Code.INTERNAL, f'failed to create identity provider: uid "{uid}" already exists') from None
        return idp_to_message(created)

    async def UpdateIdentityProvider(
        self, request: api.UpdateIdentityProviderRequest, ctx: CallContext
    ) -> api.IdentityProvider:
        require_admin(ctx)
        if not request.HasField("update_mask") or not request.update_mask.paths:
            raise RpcError(Code.INVALID_ARGUMENT, "update_mask is required")
        given = request.identity_provider
        uid = parse_idp_name(given.name)
        if self._store.is_deployment_idp(uid):
            raise _deployment_refusal(uid)
        idp = await self._existing(uid)
        for path in request.update_mask.paths:
            if path == "title":
                idp.name = given.title
            elif path == "identifier_filter":
                idp.identifier_filter = given.identifier_filter
            elif path == "config" and given.type == api.IdentityProvider.OAUTH2:
                if not given.config.HasField("oauth2_config"):
                    # Replacing the config with nothing would leave a provider nobody can sign in with.
                    raise RpcError(Code.INVALID_ARGUMENT, "oauth2 config is required")
                self._replace_config(idp, given.config)
            # Any other path is ignored, as Memos does.
        try:
            updated = await self._store.update_identity_provider(idp)
        except StoreError as exc:
            raise _store_error(exc) from None
        return idp_to_message(updated)

    @staticmethod
    def _replace_config(idp: store_pb.IdentityProvider, config: api.IdentityProviderConfig) -> None:
        """The whole config is replaced, except that an empty client secret keeps the stored one."""
        kept_secret = idp.config.oauth2_config.client_secret
        idp.config.CopyFrom(config_from_message(config))
        idp.type = type_from_message(api.IdentityProvider.OAUTH2)
        if idp.config.HasField("oauth2_config") and not idp.config.oauth2_config.client_secret:
            idp.config.oauth2_config.client_secret = kept_secret

    async def DeleteIdentityProvider(
        self, request: api.DeleteIdentityProviderRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        require_admin(ctx)
        uid = parse_idp_name(request.name)
        if self._store.is_deployment_idp(uid):
            raise _deployment_refusal(uid)
        await self._existing(uid)
        try:
            await self._store.delete_identity_provider(uid, is_safe=_leaves_a_way_to_sign_in)
        except GuardRefused:
            raise RpcError(Code.FAILED_PRECONDITION, LOCKOUT_MESSAGE) from None
        except StoreError as exc:
            raise _store_error(exc) from None
        return empty_pb2.Empty()

    async def _existing(self, uid: str) -> store_pb.IdentityProvider:
        idp: store_pb.IdentityProvider | None = await self._store.get_identity_provider(uid=uid)
        if idp is None:
            raise RpcError(Code.NOT_FOUND, NOT_FOUND_MESSAGE)
        return idp
