"""memos.store user settings <-> memos.api.v1.UserSetting, webhooks and personal access tokens."""
from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb

_Target = TypeVar("_Target", bound=Message)

# The keys the API exposes; SHORTCUTS, REFRESH_TOKENS and PERSONAL_ACCESS_TOKENS stay inside the server.
API_SETTING_KEYS = ("GENERAL", "WEBHOOKS", "TAGS")

StoreSetting = store_pb.UserSetting
StoreWebhook = store_pb.WebhooksUserSetting.Webhook
StorePersonalAccessToken = store_pb.PersonalAccessTokensUserSetting.PersonalAccessToken


def setting_name(username: str, key: str) -> str:
    return f"users/{username}/settings/{key}"


def webhook_name(username: str, webhook_id: str) -> str:
    return f"users/{username}/webhooks/{webhook_id}"


def personal_access_token_name(username: str, token_id: str) -> str:
    return f"users/{username}/personalAccessTokens/{token_id}"


def _same_wire_copy(source: Message, target: _Target) -> _Target:
    # The api and store tag messages are field-for-field identical (same numbers and
    # types), so the binary encoding of one is a valid encoding of the other.
    target.ParseFromString(source.SerializeToString())
    return target


def default_setting(username: str, key: str) -> api.UserSetting:
    """What a user sees for a key that has no stored row."""
    setting = api.UserSetting(name=setting_name(username, key))
    if key == "GENERAL":
        setting.general_setting.CopyFrom(api.UserSetting.GeneralSetting(locale="en", memo_visibility="PRIVATE"))
    elif key == "WEBHOOKS":
        setting.webhooks_setting.SetInParent()
    else:
        setting.tags_setting.SetInParent()
    return setting


def webhook_to_message(username: str, webhook: StoreWebhook) -> api.UserWebhook:
    """The API view of a stored webhook; the signing secret itself never leaves through here."""
    return api.UserWebhook(
        name=webhook_name(username, webhook.id),
        url=webhook.url,
        display_name=webhook.title,
        signing_secret_set=bool(webhook.signing_secret),
    )


def setting_to_message(username: str, setting: StoreSetting) -> api.UserSetting:
    """A stored GENERAL/WEBHOOKS/TAGS row as the API renders it."""
    key = StoreSetting.Key.Name(setting.key)
    message = api.UserSetting(name=setting_name(username, key))
    if key == "GENERAL":
        general = setting.general
        message.general_setting.CopyFrom(
            api.UserSetting.GeneralSetting(
                locale=general.locale, memo_visibility=general.memo_visibility, theme=general.theme
            )
        )
    elif key == "WEBHOOKS":
        message.webhooks_setting.SetInParent()
        message.webhooks_setting.webhooks.extend(webhook_to_message(username, w) for w in setting.webhooks.webhooks)
    elif key == "TAGS":
        message.tags_setting.SetInParent()
        for tag, metadata in setting.tags.tags.items():
            _same_wire_copy(metadata, message.tags_setting.tags[tag])
    return message


def tags_to_store(tags: api.UserSetting.TagsSetting) -> store_pb.TagsUserSetting:
    return _same_wire_copy(tags, store_pb.TagsUserSetting())


def personal_access_token_to_message(username: str, token: StorePersonalAccessToken) -> api.PersonalAccessToken:
    """Everything about a token except its hash."""
    message = api.PersonalAccessToken(
        name=personal_access_token_name(username, token.token_id), description=token.description
    )
    for field in ("created_at", "expires_at", "last_used_at"):
        if token.HasField(field):
            getattr(message, field).CopyFrom(getattr(token, field))
    return message
