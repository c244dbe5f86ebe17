"""Deployment configuration files: identity providers and instance settings managed by the operator.

At startup the direct children of a directory (``/etc/secrets`` by default) are
read once. ``memos-idp-<label>.json`` holds one ``memos.store.IdentityProvider``
and ``memos-instance-setting-<label>.json`` one ``memos.store.InstanceSetting``,
both in protobuf JSON. Their values shadow the stored ones on every read and are
never written to the database. Any invalid file stops startup with an error
naming it, so a half-applied configuration never serves requests.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import stat
import urllib.parse
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from memos.gen.store import idp_pb2, instance_setting_pb2
from memos.store import codec
from memos.store.errors import DeploymentError

log = logging.getLogger(__name__)

IdentityProvider = idp_pb2.IdentityProvider
InstanceSetting = instance_setting_pb2.InstanceSetting

MAX_FILE_BYTES = 1 << 20
IDP_PREFIX = "memos-idp-"
SETTING_PREFIX = "memos-instance-setting-"
_LABEL = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

# Keys an operator may pin; BASIC holds the signing secret and TAGS is user-facing data.
OVERLAY_SETTING_KEYS = frozenset({"GENERAL", "STORAGE", "MEMO_RELATED", "NOTIFICATION", "AI"})
DEFAULT_AI_ENDPOINTS = {
    instance_setting_pb2.OPENAI: "https://api.openai.com/v1",
    instance_setting_pb2.GEMINI: "https://generativelanguage.googleapis.com/v1beta",
}
AI_MODEL_MAX, AI_LANGUAGE_MAX, AI_PROMPT_MAX = 256, 32, 4096


@dataclasses.dataclass(frozen=True)
class DeploymentConfig:
    """What the files provide: identity providers by uid and instance settings by key name."""

    identity_providers: dict[str, IdentityProvider] = dataclasses.field(default_factory=dict)
    instance_settings: dict[str, InstanceSetting] = dataclasses.field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.identity_providers and not self.instance_settings


def load(directory: str | os.PathLike[str] | None) -> DeploymentConfig:
    """Read and validate every deployment file of ``directory``; a missing directory means none."""
    if directory is None:
        return DeploymentConfig()
    folder = Path(directory)
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return DeploymentConfig()
    except OSError as exc:
        raise DeploymentError(f"cannot read the deployment directory {folder}: {exc}") from exc

    providers: dict[str, IdentityProvider] = {}
    settings: dict[str, InstanceSetting] = {}
    origins: dict[str, str] = {}
    for name in names:
        kind = _kind_of(name)
        if kind is None:
            continue
        path = folder / name
        if kind == "idp":
            provider = _load_idp(path)
            _claim(origins, f"identity provider {provider.uid!r}", name)
            providers[provider.uid] = provider
        else:
            setting = _load_setting(path)
            key = instance_setting_pb2.InstanceSettingKey.Name(setting.key)
            _claim(origins, f"instance setting {key}", name)
            settings[key] = setting
    return DeploymentConfig(dict(sorted(providers.items())), settings)


def _kind_of(name: str) -> str | None:
    """"idp", "setting" or None (ignored) for a file name, warning about near misses."""
    if not name.startswith("memos-"):
        return None
    if name.startswith(IDP_PREFIX) and name.endswith(".json"):
        if not _LABEL.fullmatch(name[len(IDP_PREFIX):-len(".json")]):
            log.warning("deployment file %s: the name should be memos-idp-<lowercase-kebab-label>.json", name)
        return "idp"
    if name.startswith(SETTING_PREFIX) and name.endswith(".json"):
        if _LABEL.fullmatch(name[len(SETTING_PREFIX):-len(".json")]):
            return "setting"
    log.warning("ignoring %s: not a memos-idp-<label>.json or memos-instance-setting-<label>.json file", name)
    return None


def _claim(origins: dict[str, str], what: str, file_name: str) -> None:
    if what in origins:
        raise DeploymentError(f"deployment file {file_name}: {what} is already configured by {origins[what]}")
    origins[what] = file_name


def _read(path: Path) -> str:
    try:
        info = path.stat()  # follows symlinks: a link to a regular file is fine
        if not stat.S_ISREG(info.st_mode):
            raise DeploymentError(f"deployment file {path.name}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise DeploymentError(f"deployment file {path.name}: larger than {MAX_FILE_BYTES} bytes")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DeploymentError(f"cannot read deployment file {path.name}: {exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise DeploymentError(f"deployment file {path.name}: larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeploymentError(f"deployment file {path.name}: not UTF-8 text") from exc


def _parse(path: Path, message: Message) -> dict[str, Any]:
    text = _read(path)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DeploymentError(f"deployment file {path.name}: invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise DeploymentError(f"deployment file {path.name}: expected a JSON object")
    try:
        # Unknown fields are mistakes here (a typo would silently drop a value).
        json_format.ParseDict(document, message, ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        raise DeploymentError(f"deployment file {path.name}: {exc}") from exc
    return document


# --- identity providers -----------------------------------------------------------------


def _load_idp(path: Path) -> IdentityProvider:
    provider = IdentityProvider()
    document = _parse(path, provider)
    problem = _idp_problem(provider, document)
    if problem:
        raise DeploymentError(f"deployment file {path.name}: {problem}")
    return provider


def _idp_problem(provider: IdentityProvider, document: dict[str, Any]) -> str | None:
    if "id" in document:
        return "id must not be set (providers are addressed by uid)"
    if not codec.is_valid_uid(provider.uid):
        return (
            f"invalid uid {provider.uid!r}: 1-36 letters, digits or hyphens,"
            " starting and ending with a letter or digit"
        )
    if not provider.name.strip():
        return "name must not be blank"
    if provider.type != IdentityProvider.OAUTH2:
        return "type must be OAUTH2"
    if not _compiles(provider.identifier_filter):
        return f"identifierFilter is not a valid regular expression: {provider.identifier_filter!r}"
    if not provider.config.HasField("oauth2_config"):
        return "config.oauth2Config is required"
    oauth = provider.config.oauth2_config
    for field_name, value in (("clientId", oauth.client_id), ("clientSecret", oauth.client_secret)):
        if not value.strip():
            return f"config.oauth2Config.{field_name} is required"
    for field_name, url in (("authUrl", oauth.auth_url), ("tokenUrl", oauth.token_url),
                            ("userInfoUrl", oauth.user_info_url)):
        if not _is_http_url(url):
            return f"config.oauth2Config.{field_name} must be an absolute http(s) URL"
    if not oauth.scopes or any(not scope.strip() for scope in oauth.scopes):
        return "config.oauth2Config.scopes needs at least one scope and no blank ones"
    if not oauth.field_mapping.identifier.strip():
        return "config.oauth2Config.fieldMapping.identifier is required"
    return None


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _is_http_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# --- instance settings ----------------------------------------------------------------------


def _load_setting(path: Path) -> InstanceSetting:
    setting = InstanceSetting()
    _parse(path, setting)
    problem = _setting_problem(setting)
    if problem:
        raise DeploymentError(f"deployment file {path.name}: {problem}")
    return setting


def _setting_problem(setting: InstanceSetting) -> str | None:
    key = instance_setting_pb2.InstanceSettingKey.Name(setting.key)
    if key not in OVERLAY_SETTING_KEYS:
        return f"key {key} cannot be set by a deployment file"
    expected = codec.INSTANCE_SETTING_FIELDS[key]
    chosen = setting.WhichOneof("value")
    if chosen != expected:
        # Named as the file spells them (JSON names), not as Python does.
        fields = InstanceSetting.DESCRIPTOR.fields_by_name
        got = fields[chosen].json_name if chosen else "no value"
        return f"key {key} needs a {fields[expected].json_name} value, got {got}"
    check = _SETTING_CHECKS.get(key)
    return check(setting) if check else None


def _general_problem(setting: InstanceSetting) -> str | None:
    if not -1 <= setting.general_setting.week_start_day_offset <= 6:
        return "generalSetting.weekStartDayOffset must be between -1 and 6"
    return None


def _storage_problem(setting: InstanceSetting) -> str | None:
    storage = setting.storage_setting
    if storage.upload_size_limit_mb < 0:
        return "storageSetting.uploadSizeLimitMb must not be negative"
    if storage.storage_type == instance_setting_pb2.InstanceStorageSetting.S3:
        s3 = storage.s3_config
        for field_name, value in (("accessKeyId", s3.access_key_id), ("accessKeySecret", s3.access_key_secret),
                                  ("endpoint", s3.endpoint), ("region", s3.region), ("bucket", s3.bucket)):
            if not value.strip():
                return f"storageSetting.s3Config.{field_name} is required for S3 storage"
    return None


def _notification_problem(setting: InstanceSetting) -> str | None:
    email = setting.notification_setting.email
    if email.use_tls and email.use_ssl:
        return "notificationSetting.email cannot use both TLS and SSL"
    if email.enabled:
        if not email.smtp_host.strip():
            return "notificationSetting.email.smtpHost is required when e-mail is enabled"
        if email.smtp_port <= 0:
            return "notificationSetting.email.smtpPort must be positive when e-mail is enabled"
        if not email.from_email.strip():
            return "notificationSetting.email.fromEmail is required when e-mail is enabled"
    return None


def _ai_problem(setting: InstanceSetting) -> str | None:
    ai = setting.ai_setting
    seen: set[str] = set()
    for index, provider in enumerate(ai.providers):
        where = f"aiSetting.providers[{index}]"
        for field_name, value in (("id", provider.id), ("title", provider.title), ("apiKey", provider.api_key)):
            if not value.strip():
                return f"{where}.{field_name} is required"
        if provider.id in seen:
            return f"{where}.id {provider.id!r} is used twice"
        seen.add(provider.id)
        if provider.type not in DEFAULT_AI_ENDPOINTS:
            return f"{where}.type must be OPENAI or GEMINI"
        if not provider.endpoint.strip():
            provider.endpoint = DEFAULT_AI_ENDPOINTS[provider.type]
    if ai.HasField("transcription"):
        transcription = ai.transcription
        if transcription.provider_id not in seen:
            return f"aiSetting.transcription.providerId {transcription.provider_id!r} names no provider"
        for field_name, value, limit in (("model", transcription.model, AI_MODEL_MAX),
                                         ("language", transcription.language, AI_LANGUAGE_MAX),
                                         ("prompt", transcription.prompt, AI_PROMPT_MAX)):
            if len(value) > limit:
                return f"aiSetting.transcription.{field_name} is longer than {limit} characters"
    return None


_SETTING_CHECKS = {
    "GENERAL": _general_problem,
    "STORAGE": _storage_problem,
    "NOTIFICATION": _notification_problem,
    "AI": _ai_problem,
}
