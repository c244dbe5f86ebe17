"""memos.store.IdentityProvider <-> memos.api.v1.IdentityProvider.

The client secret only ever travels inward: API messages built here never
carry it, whoever the viewer is.
"""
from __future__ import annotations

from memos.api.names import IDP_PREFIX
from memos.gen.api.v1 import idp_service_pb2 as api
from memos.gen.store import idp_pb2 as store


def idp_name(uid: str) -> str:
    return IDP_PREFIX + uid


def _type_to_message(value: store.IdentityProvider.Type) -> api.IdentityProvider.Type:
    return (
        api.IdentityProvider.OAUTH2 if value == store.IdentityProvider.OAUTH2 else api.IdentityProvider.TYPE_UNSPECIFIED
    )


def idp_to_message(idp: store.IdentityProvider) -> api.IdentityProvider:
    """The API view of a provider, with the client secret left out."""
    message = api.IdentityProvider(
        name=idp_name(idp.uid),
        type=_type_to_message(idp.type),
        title=idp.name,
        identifier_filter=idp.identifier_filter,
    )
    if idp.config.HasField("oauth2_config"):
        source = idp.config.oauth2_config
        target = message.config.oauth2_config
        target.client_id = source.client_id
        target.auth_url = source.auth_url
        target.token_url = source.token_url
        target.user_info_url = source.user_info_url
        target.scopes.extend(source.scopes)
        target.field_mapping.CopyFrom(
            api.FieldMapping(
                identifier=source.field_mapping.identifier,
                display_name=source.field_mapping.display_name,
                email=source.field_mapping.email,
                avatar_url=source.field_mapping.avatar_url,
            )
        )
    return message


def oauth2_config_from_message(config: api.OAuth2Config) -> store.OAuth2Config:
    return store.OAuth2Config(
        client_id=config.client_id,
        client_secret=config.client_secret,
        auth_url=config.auth_url,
        token_url=config.token_url,
        user_info_url=config.user_info_url,
        scopes=list(config.scopes),
        field_mapping=store.FieldMapping(
            identifier=config.field_mapping.identifier,
            display_name=config.field_mapping.display_name,
            email=config.field_mapping.email,
            avatar_url=config.field_mapping.avatar_url,
        ),
    )


def config_from_message(config: api.IdentityProviderConfig) -> store.IdentityProviderConfig:
    if not config.HasField("oauth2_config"):
        return store.IdentityProviderConfig()
    return store.IdentityProviderConfig(oauth2_config=oauth2_config_from_message(config.oauth2_config))


def type_from_message(value: api.IdentityProvider.Type) -> store.IdentityProvider.Type:
    return (
        store.IdentityProvider.OAUTH2
        if value == api.IdentityProvider.OAUTH2
        else store.IdentityProvider.TYPE_UNSPECIFIED
    )
