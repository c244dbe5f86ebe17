"""What UpdateInstanceSetting checks and fills in before a group is written.

Every rule works on store messages: ``incoming`` is the group as the admin sent
it, ``current`` the effective stored value. Secrets the client left empty are
carried over from ``current`` (the API never returns them, so a client cannot
send them back).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from memos.api.ids import short_uuid
from memos.call import Code, RpcError
from memos.gen.store import instance_setting_pb2 as store
from memos.storage.local import OutsideDataDirectory, local_target
from memos.storage.template import expand_template

LOCKOUT_MESSAGE = (
    "password authentication for regular users cannot be disabled without an effective identity provider"
)
SMTP_PASSWORD_REQUIRED = (
    "smtp password is required when changing SMTP host, port, username, or encryption settings"
)

DEFAULT_ENDPOINTS = {
    store.OPENAI: "https://api.openai.com/v1",
    store.GEMINI: "https://generativelanguage.googleapis.com/v1beta",
}
MAX_MODEL_BYTES = 256
MAX_LANGUAGE_BYTES = 32
MAX_PROMPT_BYTES = 4096
# Uploads arrive whole (base64 inside JSON or a protobuf field), so the limit bounds the memory
# one request may take; beyond 1 GiB a small server would run out of memory first.
MAX_UPLOAD_SIZE_LIMIT_MB = 1024

# Constructs Python's re accepts but RE2 (what Memos compiles tag patterns with) does not.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


def prepare_update(incoming: store.InstanceSetting, current: store.InstanceSetting, *, data_dir: str) -> None:
    """Validate ``incoming`` in place and carry over kept secrets; RpcError INVALID_ARGUMENT on bad input."""
    key = store.InstanceSettingKey.Name(incoming.key)
    if key == "STORAGE":
        _check_storage(incoming.storage_setting, data_dir)
        _keep_s3_secret(incoming.storage_setting, current.storage_setting)
    elif key == "TAGS":
        problem = tag_rule_violation(incoming.tags_setting)
        if problem:
            raise _invalid_setting(problem)
    elif key == "NOTIFICATION":
        keep_smtp_password(incoming.notification_setting.email, current.notification_setting.email)
    elif key == "AI":
        _prepare_ai(incoming.ai_setting, current.ai_setting)


def _check_storage(setting: store.InstanceStorageSetting, data_dir: str) -> None:
    """Refuse what Memos would accept and then fail on (or be harmed by) at upload time."""
    if not 0 <= setting.upload_size_limit_mb <= MAX_UPLOAD_SIZE_LIMIT_MB:
        raise _invalid_setting(
            f"upload_size_limit_mb must be between 0 (the default, 30) and {MAX_UPLOAD_SIZE_LIMIT_MB}"
        )
    if setting.filepath_template:
        # Any filename and any time give the same directory part, so one expansion tells.
        sample = expand_template(setting.filepath_template, "file.txt", dt.datetime.now().astimezone())
        try:
            local_target(data_dir, sample)
        except OutsideDataDirectory:
            raise _invalid_setting(
                "filepath_template must stay inside the data directory (no '..' out of it, no absolute path elsewhere)"
            ) from None


def _keep_s3_secret(incoming: store.InstanceStorageSetting, current: store.InstanceStorageSetting) -> None:
    if incoming.HasField("s3_config") and not incoming.s3_config.access_key_secret:
        incoming.s3_config.access_key_secret = current.s3_config.access_key_secret


def _smtp_identity(email: store.InstanceNotificationSetting.EmailSetting) -> tuple[object, ...]:
    return (email.smtp_host.strip(), email.smtp_port, email.smtp_username.strip(), email.use_tls, email.use_ssl)


def keep_smtp_password(
    incoming: store.InstanceNotificationSetting.EmailSetting, stored: store.InstanceNotificationSetting.EmailSetting
) -> None:
    """An empty password means "keep the stored one", but only for the same server and account.

    Otherwise a stored password could be sent to a server the admin just typed in.
    """
    if incoming.smtp_password or not stored.smtp_password:
        return
    if _smtp_identity(incoming) != _smtp_identity(stored):
        raise RpcError(Code.INVALID_ARGUMENT, SMTP_PASSWORD_REQUIRED)
    incoming.smtp_password = stored.smtp_password


def _invalid_setting(reason: str) -> RpcError:
    return RpcError(Code.INVALID_ARGUMENT, f"invalid instance setting: {reason}")


def tag_rule_violation(tags: Any) -> str | None:
    """What is wrong with a tag-rule map (the instance or a user TAGS setting), None when nothing is.

    Every key must be a non-blank RE2-compatible regular expression and every
    background colour component a number in [0, 1].
    """
    for name, metadata in tags.tags.items():
        if not name.strip():
            return "tag name must not be blank"
        if _NOT_RE2.search(name):
            return f"tag {name!r} is not a valid regular expression: unsupported syntax"
        try:
            re.compile(name)
        except re.error as exc:
            return f"tag {name!r} is not a valid regular expression: {exc}"
        if metadata.HasField("background_color"):
            problem = _color_violation(name, metadata.background_color)
            if problem:
                return problem
    return None


def _color_violation(tag: str, color: Any) -> str | None:
    channels = {"red": color.red, "green": color.green, "blue": color.blue}
    if color.HasField("alpha"):
        channels["alpha"] = color.alpha.value
    for channel, value in channels.items():
        if not 0.0 <= value <= 1.0:  # also false for NaN
            return f"tag {tag!r} background color {channel} {value:g} is outside [0, 1]"
    return None


def _invalid_ai(reason: str) -> RpcError:
    return RpcError(Code.INVALID_ARGUMENT, f"invalid AI setting: {reason}")


def _prepare_ai(incoming: store.InstanceAISetting, current: store.InstanceAISetting) -> None:
    stored_keys = {provider.id: provider.api_key for provider in current.providers}
    seen: set[str] = set()
    for provider in incoming.providers:
        provider.id = provider.id.strip() or short_uuid()
        if provider.id in seen:
            raise _invalid_ai(f'duplicate provider id "{provider.id}"')
        seen.add(provider.id)
        provider.title = provider.title.strip()
        if not provider.title:
            raise _invalid_ai(f'provider "{provider.id}" title is required')
        if provider.type not in DEFAULT_ENDPOINTS:
            raise _invalid_ai(f'provider "{provider.id}" type must be OPENAI or GEMINI')
        provider.endpoint = provider.endpoint.strip() or DEFAULT_ENDPOINTS[provider.type]
        provider.api_key = provider.api_key or stored_keys.get(provider.id, "")
        if not provider.api_key:
            raise _invalid_ai(f'provider "{provider.id}" API key is required')
    if not incoming.HasField("transcription"):
        if current.HasField("transcription"):
            incoming.transcription.CopyFrom(current.transcription)
        return
    _check_transcription(incoming.transcription, seen)


def _check_transcription(transcription: store.TranscriptionConfig, provider_ids: set[str]) -> None:
    transcription.provider_id = transcription.provider_id.strip()
    transcription.model = transcription.model.strip()
    transcription.language = transcription.language.strip()
    transcription.prompt = transcription.prompt.strip()
    if transcription.provider_id and transcription.provider_id not in provider_ids:
        raise _invalid_ai(
            f'transcription provider_id "{transcription.provider_id}" does not reference any configured provider'
        )
    limits = (("model", MAX_MODEL_BYTES), ("language", MAX_LANGUAGE_BYTES), ("prompt", MAX_PROMPT_BYTES))
    for field, limit in limits:
        if len(getattr(transcription, field).encode("utf-8")) > limit:
            raise _invalid_ai(f"transcription {field} is too long; maximum length is {limit} characters")
