"""memos.store messages <-> the JSON text kept in the database, and read-time defaults.

Values are written in the protobuf JSON mapping without default-valued fields
(as Memos does) and read leniently: unknown keys and unknown enum names left
behind by other Memos versions are ignored.
"""
from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from memos.gen.store import attachment_pb2, idp_pb2, inbox_pb2, instance_setting_pb2, memo_pb2, user_setting_pb2
from memos.store.errors import InvalidValue, StoreError

if TYPE_CHECKING:
    from memos.store.idp import IdpRow

M = TypeVar("M", bound=Message)

InstanceSetting = instance_setting_pb2.InstanceSetting
InstanceSettingKey = instance_setting_pb2.InstanceSettingKey
UserSetting = user_setting_pb2.UserSetting

# system_setting.name -> the InstanceSetting oneof field carrying its value.
INSTANCE_SETTING_FIELDS: dict[str, str] = {
    "BASIC": "basic_setting",
    "GENERAL": "general_setting",
    "STORAGE": "storage_setting",
    "MEMO_RELATED": "memo_related_setting",
    "TAGS": "tags_setting",
    "NOTIFICATION": "notification_setting",
    "AI": "ai_setting",
}

# user_setting.key -> the UserSetting oneof field carrying its value.
USER_SETTING_FIELDS: dict[str, str] = {
    "GENERAL": "general",
    "SHORTCUTS": "shortcuts",
    "WEBHOOKS": "webhooks",
    "REFRESH_TOKENS": "refresh_tokens",
    "PERSONAL_ACCESS_TOKENS": "personal_access_tokens",
    "TAGS": "tags",
}

DEFAULT_FILEPATH_TEMPLATE = "assets/{timestamp}_{uuid}_{filename}"
DEFAULT_UPLOAD_SIZE_LIMIT_MB = 30
MIN_CONTENT_LENGTH_LIMIT = 8192
DEFAULT_REACTIONS = ("👍", "👎", "❤️", "🎉", "😄", "😕", "😢", "😡")


def to_json(message: Message) -> str:
    """Compact protobuf JSON; non-ASCII kept as is, like the rows Memos writes."""
    as_dict = json_format.MessageToDict(message)
    return json.dumps(as_dict, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str, message: M, *, where: str) -> M:
    try:
        json_format.Parse(text or "{}", message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise StoreError(f"stored value of {where} is not valid: {exc}") from exc
    return message


def clone(message: M) -> M:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


def instance_setting_name(key: str | int) -> str:
    """Accept the key as its name ("GENERAL") or enum number; reject anything else."""
    if isinstance(key, int) and not isinstance(key, bool):
        name = InstanceSettingKey.Name(key) if key in InstanceSettingKey.values() else ""
    else:
        name = str(key)
    if name not in INSTANCE_SETTING_FIELDS:
        raise InvalidValue(f"unsupported instance setting key: {key}")
    return name


def user_setting_name(key: str | int) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        name = UserSetting.Key.Name(key) if key in UserSetting.Key.values() else ""
    else:
        name = str(key)
    if name not in USER_SETTING_FIELDS:
        raise InvalidValue(f"unsupported user setting key: {key}")
    return name


def decode_instance_setting(name: str, value: str) -> InstanceSetting:
    setting = InstanceSetting(key=name)
    field = INSTANCE_SETTING_FIELDS[name]
    inner = getattr(setting, field)
    inner.SetInParent()
    from_json(value, inner, where=f"instance setting {name}")
    return setting


def encode_instance_setting(setting: InstanceSetting) -> tuple[str, str]:
    """(system_setting.name, value JSON); the oneof may be empty (an empty group)."""
    name = instance_setting_name(setting.key)
    field = INSTANCE_SETTING_FIELDS[name]
    chosen = setting.WhichOneof("value")
    if chosen not in (None, field):
        raise InvalidValue(f"instance setting {name} cannot carry a {chosen} value")
    return name, to_json(getattr(setting, field))


def decode_user_setting(user_id: int, key: str, value: str) -> UserSetting:
    setting = UserSetting(user_id=user_id, key=key)
    inner = getattr(setting, USER_SETTING_FIELDS[key])
    inner.SetInParent()
    from_json(value, inner, where=f"user setting {user_id}-{key}")
    return setting


def encode_user_setting(setting: UserSetting) -> tuple[int, str, str]:
    """(user_id, key, value JSON) of a store UserSetting."""
    if setting.user_id <= 0:
        raise InvalidValue("user setting needs a user id")
    key = user_setting_name(setting.key)
    field = USER_SETTING_FIELDS[key]
    chosen = setting.WhichOneof("value")
    if chosen not in (None, field):
        raise InvalidValue(f"user setting {key} cannot carry a {chosen} value")
    return setting.user_id, key, to_json(getattr(setting, field))


def empty_instance_setting(name: str) -> InstanceSetting:
    setting = InstanceSetting(key=name)
    getattr(setting, INSTANCE_SETTING_FIELDS[name]).SetInParent()
    return setting


def with_read_defaults(setting: InstanceSetting) -> InstanceSetting:
    """The effective value: zero fields replaced by the defaults Memos fills on read.

    Returns a new message; the defaults are never written back.
    """
    effective = clone(setting)
    name = InstanceSettingKey.Name(effective.key)
    getattr(effective, INSTANCE_SETTING_FIELDS[name]).SetInParent()
    if name == "STORAGE":
        storage = effective.storage_setting
        if storage.storage_type == instance_setting_pb2.InstanceStorageSetting.STORAGE_TYPE_UNSPECIFIED:
            storage.storage_type = instance_setting_pb2.InstanceStorageSetting.LOCAL
        if storage.upload_size_limit_mb == 0:
            storage.upload_size_limit_mb = DEFAULT_UPLOAD_SIZE_LIMIT_MB
        if not storage.filepath_template:
            storage.filepath_template = DEFAULT_FILEPATH_TEMPLATE
    elif name == "MEMO_RELATED":
        related = effective.memo_related_setting
        related.content_length_limit = max(related.content_length_limit, MIN_CONTENT_LENGTH_LIMIT)
        if not related.reactions:
            related.reactions.extend(DEFAULT_REACTIONS)
    elif name == "NOTIFICATION":
        effective.notification_setting.email.SetInParent()
    return effective


# --- identity providers, inbox messages, memo and attachment payloads ----------------------

IdentityProvider = idp_pb2.IdentityProvider

# 1-36 ASCII letters, digits and hyphens, starting and ending with a letter or digit.
_UID_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,34}[A-Za-z0-9])?")


def is_valid_uid(uid: str) -> bool:
    """The uid rule shared by memos, attachments and identity providers."""
    return _UID_PATTERN.fullmatch(uid) is not None


def check_uid(uid: str) -> str:
    if not is_valid_uid(uid):
        raise InvalidValue(f"invalid uid: {uid!r}")
    return uid


def encode_idp(provider: IdentityProvider) -> dict[str, str]:
    """The writable ``idp`` columns; ``config`` holds the OAuth2Config itself, as Memos writes it."""
    type_name = IdentityProvider.Type.Name(provider.type)
    if type_name != "OAUTH2":
        raise InvalidValue(f"unsupported identity provider type: {type_name}")
    return {
        "uid": check_uid(provider.uid),
        "name": provider.name,
        "type": type_name,
        "identifier_filter": provider.identifier_filter,
        "config": to_json(provider.config.oauth2_config),
    }


def decode_idp(row: IdpRow) -> IdentityProvider:
    known_type = row.type in IdentityProvider.Type.keys()  # noqa: SIM118 (a protobuf enum wrapper, not a dict)
    provider = IdentityProvider(
        id=row.id, uid=row.uid, name=row.name, identifier_filter=row.identifier_filter,
        type=row.type if known_type else None,
    )
    where = f"identity provider {row.uid}"
    try:
        stored = json.loads(row.config or "{}")
    except ValueError as exc:
        raise StoreError(f"stored value of {where} is not valid JSON: {exc}") from exc
    if isinstance(stored, dict) and "oauth2Config" in stored:
        # Rows written by other tools may wrap the config in IdentityProviderConfig.
        from_json(row.config, provider.config, where=where)
    else:
        from_json(row.config, provider.config.oauth2_config, where=where)
    # Memos crashes on a config without fieldMapping; here it reads as an empty mapping.
    provider.config.oauth2_config.field_mapping.SetInParent()
    return provider


def decode_inbox_message(text: str, *, where: str) -> inbox_pb2.InboxMessage:
    return from_json(text, inbox_pb2.InboxMessage(), where=where)


def decode_memo_payload(text: str, *, where: str) -> memo_pb2.MemoPayload:
    """A new MemoPayload from its stored text.

    Every list reads 20 or more payloads, and parsing protobuf JSON is slow
    (about a tenth of a ListMemos); the same texts come back again and again,
    so their binary form is kept (bounded) and each caller gets its own copy.
    """
    try:
        encoded = _memo_payload_bytes(text)
    except json_format.ParseError as exc:
        raise StoreError(f"stored value of {where} is not valid: {exc}") from exc
    return memo_pb2.MemoPayload.FromString(encoded)


@functools.lru_cache(maxsize=4096)
def _memo_payload_bytes(text: str) -> bytes:
    """The binary form of a stored payload text (the text alone decides it)."""
    message = memo_pb2.MemoPayload()
    json_format.Parse(text or "{}", message, ignore_unknown_fields=True)
    return message.SerializeToString()


def decode_attachment_payload(text: str, *, where: str) -> attachment_pb2.AttachmentPayload:
    return from_json(text, attachment_pb2.AttachmentPayload(), where=where)
