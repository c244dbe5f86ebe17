"""memos.store.InstanceSetting <-> memos.api.v1.InstanceSetting, with read redaction."""
from __future__ import annotations

from memos.api.names import INSTANCE_SETTING_PREFIX
from memos.gen.api.v1 import instance_service_pb2 as api
from memos.gen.store import instance_setting_pb2 as store

# store oneof member -> api oneof member. The group messages share field numbers
# and types on both sides, so a group converts by re-reading its wire bytes.
_GROUPS = {
    "GENERAL": ("general_setting", "general_setting"),
    "STORAGE": ("storage_setting", "storage_setting"),
    "MEMO_RELATED": ("memo_related_setting", "memo_related_setting"),
    "TAGS": ("tags_setting", "tags_setting"),
    "NOTIFICATION": ("notification_setting", "notification_setting"),
    "AI": ("ai_setting", "ai_setting"),
}


def setting_to_message(setting: store.InstanceSetting, *, viewer_is_admin: bool) -> api.InstanceSetting:
    """The API view of a stored setting: secrets never leave, BASIC shows only its name."""
    key = store.InstanceSettingKey.Name(setting.key)
    message = api.InstanceSetting(name=INSTANCE_SETTING_PREFIX + key)
    if key not in _GROUPS:
        return message
    store_field, api_field = _GROUPS[key]
    group = getattr(message, api_field)
    group.ParseFromString(getattr(setting, store_field).SerializeToString())
    _redact(message, viewer_is_admin=viewer_is_admin)
    return message


def _redact(message: api.InstanceSetting, *, viewer_is_admin: bool) -> None:
    which = message.WhichOneof("value")
    if which == "storage_setting":
        if message.storage_setting.HasField("s3_config"):
            message.storage_setting.s3_config.ClearField("access_key_secret")
    elif which == "notification_setting":
        if message.notification_setting.HasField("email"):
            message.notification_setting.email.ClearField("smtp_password")
    elif which == "ai_setting":
        for provider in message.ai_setting.providers:
            provider.api_key_set = bool(provider.api_key)
            provider.api_key_hint = api_key_hint(provider.api_key)
            provider.api_key = ""
        if not viewer_is_admin and message.ai_setting.HasField("transcription"):
            transcription = message.ai_setting.transcription
            transcription.model = transcription.language = transcription.prompt = ""


def api_key_hint(key: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if not key:
        return ""
    if len(key) <= 8:
        return "..."
    return f"{key[:4]}...{key[-4:]}"


def setting_from_message(message: api.InstanceSetting, key: str) -> store.InstanceSetting:
    """The store form of the group an update carries for ``key`` (an absent group is an empty one).

    Raises ValueError when the message carries the group of another key.
    """
    store_field, api_field = _GROUPS[key]
    carried = message.WhichOneof("value")
    if carried not in (None, api_field):
        raise ValueError(f"setting {key} cannot carry {carried}")
    setting = store.InstanceSetting(key=key)
    group = getattr(setting, store_field)
    group.ParseFromString(getattr(message, api_field).SerializeToString())
    # Output-only API fields (api_key_set, api_key_hint) have no place in the store.
    group.DiscardUnknownFields()
    return setting
