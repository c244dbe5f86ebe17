"""Deployment configuration files: loading, validation, and how the Store overlays them."""
from __future__ import annotations

import json
import pathlib

import apsw
import pytest

from memos.gen.store import idp_pb2
from memos.gen.store import instance_setting_pb2 as settings_pb
from memos.store import DeploymentError, DeploymentManaged, Store, deployment

pytestmark = pytest.mark.anyio


def _idp_document(uid: str = "primary-sso", **changes: object) -> dict:
    document = {
        "uid": uid,
        "name": "Primary SSO",
        "type": "OAUTH2",
        "identifierFilter": "@corp\\.example$",
        "config": {
            "oauth2Config": {
                "clientId": "memos",
                "clientSecret": "file-secret",
                "authUrl": "https://sso.corp.example/authorize",
                "tokenUrl": "https://sso.corp.example/token",
                "userInfoUrl": "http://sso.corp.example:8080/userinfo",
                "scopes": ["openid", "email"],
                "fieldMapping": {"identifier": "email"},
            }
        },
    }
    document.update(changes)
    return document


def _write(folder: pathlib.Path, name: str, document: object) -> pathlib.Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


GENERAL_NO_PASSWORD = {"key": "GENERAL", "generalSetting": {"disallowPasswordAuth": True}}


@pytest.fixture
def secrets(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "secrets"


@pytest.fixture
def db_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "memos_prod.db"


# --- loading -------------------------------------------------------------------------------


def test_a_missing_directory_means_no_overlay(tmp_path: pathlib.Path) -> None:
    assert deployment.load(tmp_path / "absent").empty
    assert deployment.load(None).empty


def test_a_directory_that_cannot_be_listed_stops_startup(tmp_path: pathlib.Path) -> None:
    not_a_directory = _write(tmp_path, "secrets", "{}")
    with pytest.raises(DeploymentError, match="deployment directory"):
        deployment.load(not_a_directory)


def test_names_decide_what_is_loaded(secrets: pathlib.Path) -> None:
    _write(secrets, "memos-idp-primary-sso.json", _idp_document("primary"))
    _write(secrets, "memos-idp-Legacy_Name.json", _idp_document("legacy"))  # loaded, with a warning
    _write(secrets, "memos-instance-setting-Odd_Name.json", GENERAL_NO_PASSWORD)  # ignored, with a warning
    _write(secrets, "memos-instance-setting-storage.json", {"key": "STORAGE", "storageSetting": {}})
    _write(secrets, "memos-notes.txt", "not json")
    _write(secrets, "unrelated.json", "not json")
    loaded = deployment.load(secrets)
    assert list(loaded.identity_providers) == ["legacy", "primary"]
    assert list(loaded.instance_settings) == ["STORAGE"]


def test_a_symlink_to_a_regular_file_is_accepted(secrets: pathlib.Path, tmp_path: pathlib.Path) -> None:
    target = _write(tmp_path, "real.json", _idp_document())
    secrets.mkdir()
    (secrets / "memos-idp-linked.json").symlink_to(target)
    assert list(deployment.load(secrets).identity_providers) == ["primary-sso"]


def test_empty_ai_endpoints_get_the_provider_default(secrets: pathlib.Path) -> None:
    _write(secrets, "memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {
        "providers": [
            {"id": "o", "title": "OpenAI", "type": "OPENAI", "apiKey": "k"},
            {"id": "g", "title": "Gemini", "type": "GEMINI", "apiKey": "k"},
            {"id": "c", "title": "Custom", "type": "OPENAI", "apiKey": "k", "endpoint": "http://127.0.0.1:9/v1"},
        ],
        "transcription": {"providerId": "o", "model": "whisper-1"},
    }})
    providers = deployment.load(secrets).instance_settings["AI"].ai_setting.providers
    assert [p.endpoint for p in providers] == [
        "https://api.openai.com/v1", "https://generativelanguage.googleapis.com/v1beta", "http://127.0.0.1:9/v1"
    ]


INVALID_FILES = [
    ("memos-idp-x.json", "{not json", "invalid JSON"),
    ("memos-idp-x.json", "[]", "JSON object"),
    ("memos-idp-x.json", _idp_document(extra=1), "extra"),
    ("memos-idp-x.json", _idp_document(id=4), "id must not be set"),
    ("memos-idp-x.json", _idp_document(uid="-bad-"), "invalid uid"),
    ("memos-idp-x.json", _idp_document(name="  "), "name"),
    ("memos-idp-x.json", _idp_document(type="TYPE_UNSPECIFIED"), "OAUTH2"),
    ("memos-idp-x.json", _idp_document(identifierFilter="("), "identifierFilter"),
    ("memos-idp-x.json", _idp_document(config={}), "oauth2Config"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "clientSecret": ""}}}, "clientSecret"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "tokenUrl": "/token"}}}, "tokenUrl"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "authUrl": "ftp://sso.example/a"}}}, "authUrl"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "scopes": []}}}, "scopes"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "scopes": ["openid", " "]}}}, "scopes"),
    ("memos-idp-x.json", {**_idp_document(), "config": {"oauth2Config": {
        **_idp_document()["config"]["oauth2Config"], "fieldMapping": {"email": "email"}}}}, "identifier"),
    ("memos-instance-setting-basic.json", {"key": "BASIC", "basicSetting": {"secretKey": "x"}}, "BASIC"),
    ("memos-instance-setting-tags.json", {"key": "TAGS", "tagsSetting": {}}, "TAGS"),
    ("memos-instance-setting-general.json", {"key": "GENERAL", "storageSetting": {}}, "generalSetting"),
    ("memos-instance-setting-general.json", {"key": "GENERAL", "generalSetting": {"weekStartDayOffset": 7}},
     "weekStartDayOffset"),
    ("memos-instance-setting-general.json", {"key": "GENERAL", "generalSetting": {"unknownFlag": True}},
     "unknownFlag"),
    ("memos-instance-setting-storage.json", {"key": "STORAGE", "storageSetting": {"uploadSizeLimitMb": "-1"}},
     "uploadSizeLimitMb"),
    ("memos-instance-setting-storage.json", {"key": "STORAGE", "storageSetting": {"storageType": "S3", "s3Config": {
        "accessKeyId": "a", "accessKeySecret": "s", "endpoint": "e", "region": "r"}}}, "bucket"),
    ("memos-instance-setting-mail.json", {"key": "NOTIFICATION", "notificationSetting": {"email": {
        "enabled": True, "smtpPort": 25, "fromEmail": "m@x"}}}, "smtpHost"),
    ("memos-instance-setting-mail.json", {"key": "NOTIFICATION", "notificationSetting": {"email": {
        "enabled": True, "smtpHost": "h", "fromEmail": "m@x"}}}, "smtpPort"),
    ("memos-instance-setting-mail.json", {"key": "NOTIFICATION", "notificationSetting": {"email": {
        "enabled": True, "smtpHost": "h", "smtpPort": 465, "fromEmail": "m@x", "useTls": True, "useSsl": True}}},
     "both TLS and SSL"),
    ("memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {"providers": [
        {"id": "a", "title": "A", "type": "OPENAI", "apiKey": "k"},
        {"id": "a", "title": "B", "type": "OPENAI", "apiKey": "k"}]}}, "used twice"),
    ("memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {"providers": [
        {"id": "a", "title": "A", "type": "OPENAI"}]}}, "apiKey"),
    ("memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {"providers": [
        {"id": "a", "title": "A", "apiKey": "k"}]}}, "OPENAI or GEMINI"),
    ("memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {"transcription": {"providerId": "nope"}}},
     "names no provider"),
    ("memos-instance-setting-ai.json", {"key": "AI", "aiSetting": {
        "providers": [{"id": "a", "title": "A", "type": "OPENAI", "apiKey": "k"}],
        "transcription": {"providerId": "a", "prompt": "p" * 4097}}}, "prompt"),
]


@pytest.mark.parametrize(("name", "document", "message"), INVALID_FILES)
def test_invalid_files_are_refused_naming_the_file(
    secrets: pathlib.Path, name: str, document: object, message: str
) -> None:
    _write(secrets, "memos-idp-good.json", _idp_document("good"))
    _write(secrets, name, document)
    with pytest.raises(DeploymentError, match=name.replace(".", r"\.")) as refused:
        deployment.load(secrets)
    assert message in str(refused.value)


def test_oversized_files_and_directories_are_refused(secrets: pathlib.Path) -> None:
    document = _idp_document()
    document["name"] = "x" * (1 << 20)
    _write(secrets, "memos-idp-big.json", document)
    with pytest.raises(DeploymentError, match=r"memos-idp-big\.json: larger than"):
        deployment.load(secrets)
    (secrets / "memos-idp-big.json").unlink()
    (secrets / "memos-instance-setting-general.json").mkdir()
    with pytest.raises(DeploymentError, match=r"memos-instance-setting-general\.json: not a regular file"):
        deployment.load(secrets)


def test_the_same_uid_or_key_in_two_files_is_refused(secrets: pathlib.Path) -> None:
    _write(secrets, "memos-idp-a.json", _idp_document("same"))
    _write(secrets, "memos-idp-b.json", _idp_document("same"))
    with pytest.raises(DeploymentError, match=r"memos-idp-b\.json.*memos-idp-a\.json"):
        deployment.load(secrets)
    for path in secrets.iterdir():
        path.unlink()
    _write(secrets, "memos-instance-setting-a.json", {"key": "STORAGE", "storageSetting": {}})
    _write(secrets, "memos-instance-setting-b.json", {"key": "STORAGE", "storageSetting": {}})
    with pytest.raises(DeploymentError, match="STORAGE"):
        deployment.load(secrets)


# --- the overlay in the Store ------------------------------------------------------------------


async def test_files_override_stored_general_and_expose_the_provider(
    secrets: pathlib.Path, db_path: pathlib.Path
) -> None:
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    await store.upsert_instance_setting(settings_pb.InstanceSetting(
        key=settings_pb.GENERAL, general_setting=settings_pb.InstanceGeneralSetting(additional_style="stored")
    ))
    await store.close()
    _write(secrets, "memos-idp-primary-sso.json", _idp_document())
    _write(secrets, "memos-instance-setting-general.json", GENERAL_NO_PASSWORD)

    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    try:
        general = (await store.get_instance_setting("GENERAL")).general_setting
        assert general.disallow_password_auth and general.additional_style == ""
        [provider] = await store.list_identity_providers()
        assert (provider.uid, provider.name) == ("primary-sso", "Primary SSO")
        assert provider.config.oauth2_config.client_secret == "file-secret"
        assert await store.get_identity_provider(uid="primary-sso") == provider
        assert store.is_deployment_setting("GENERAL") and not store.is_deployment_setting("STORAGE")
        assert store.is_deployment_idp("primary-sso") and not store.is_deployment_idp("other")
        # The stored row is still there, untouched, for when the file goes away.
        assert (await store.get_instance_setting_raw("GENERAL")).general_setting.additional_style == "stored"
    finally:
        await store.close()
    conn = apsw.Connection(str(db_path))
    try:
        assert conn.execute("SELECT COUNT(*) FROM idp").fetchall() == [(0,)]
    finally:
        conn.close()


async def test_api_writes_of_file_backed_values_are_refused(secrets: pathlib.Path, db_path: pathlib.Path) -> None:
    _write(secrets, "memos-idp-primary-sso.json", _idp_document())
    _write(secrets, "memos-instance-setting-general.json", {"key": "GENERAL", "generalSetting": {}})
    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    try:
        with pytest.raises(DeploymentManaged, match='instance setting "GENERAL" is configured by the deployment'):
            await store.upsert_instance_setting(settings_pb.InstanceSetting(
                key=settings_pb.GENERAL, general_setting=settings_pb.InstanceGeneralSetting()
            ))
        with pytest.raises(DeploymentManaged, match="GENERAL"):
            await store.update_general_setting_guarded(settings_pb.InstanceGeneralSetting(), lambda *_: True)
        provider = await store.get_identity_provider(uid="primary-sso")
        with pytest.raises(DeploymentManaged, match='identity provider "primary-sso" is configured by the deployment'):
            await store.create_identity_provider(provider)
        with pytest.raises(DeploymentManaged):
            await store.update_identity_provider(provider)
        with pytest.raises(DeploymentManaged):
            await store.delete_identity_provider("primary-sso")
    finally:
        await store.close()


async def test_file_providers_shadow_stored_ones_in_place_and_others_follow(
    secrets: pathlib.Path, db_path: pathlib.Path
) -> None:
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    for uid in ("first", "shadowed", "last"):
        await store.create_identity_provider(idp_pb2.IdentityProvider(
            uid=uid, name=f"stored {uid}", type=idp_pb2.IdentityProvider.OAUTH2
        ))
    await store.close()
    _write(secrets, "memos-idp-shadow.json", _idp_document("shadowed", name="from file"))
    _write(secrets, "memos-idp-zz.json", _idp_document("zz-only-file"))
    _write(secrets, "memos-idp-aa.json", _idp_document("aa-only-file"))
    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    try:
        listed = await store.list_identity_providers()
        assert [(p.uid, p.name) for p in listed] == [
            ("first", "stored first"), ("shadowed", "from file"), ("last", "stored last"),
            ("aa-only-file", "Primary SSO"), ("zz-only-file", "Primary SSO"),
        ]
        assert (await store.get_identity_provider(uid="shadowed")).name == "from file"
        assert [p.uid for p in await store.list_stored_identity_providers()] == ["first", "shadowed", "last"]
    finally:
        await store.close()


async def test_file_backed_settings_still_get_read_defaults(secrets: pathlib.Path, db_path: pathlib.Path) -> None:
    _write(secrets, "memos-instance-setting-storage.json",
           {"key": "STORAGE", "storageSetting": {"storageType": "LOCAL"}})
    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    try:
        storage = (await store.get_instance_setting("STORAGE")).storage_setting
        assert storage.upload_size_limit_mb == 30
        assert storage.filepath_template == "assets/{timestamp}_{uuid}_{filename}"
        assert await store.get_instance_setting_raw("STORAGE") is None
    finally:
        await store.close()


async def test_files_that_lock_everyone_out_stop_startup(secrets: pathlib.Path, db_path: pathlib.Path) -> None:
    _write(secrets, "memos-instance-setting-general.json", GENERAL_NO_PASSWORD)
    with pytest.raises(DeploymentError, match="no identity provider"):
        await Store.open("sqlite", str(db_path), deployment_dir=secrets)

    # An identity provider in the database makes the same file acceptable.
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    await store.create_identity_provider(idp_pb2.IdentityProvider(uid="db", name="DB", type=1))
    await store.close()
    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    await store.close()


async def test_a_stored_unsafe_state_without_files_only_warns(
    secrets: pathlib.Path, db_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open("sqlite", str(db_path), deployment_dir=None)
    await store.upsert_instance_setting(settings_pb.InstanceSetting(
        key=settings_pb.GENERAL, general_setting=settings_pb.InstanceGeneralSetting(disallow_password_auth=True)
    ))
    await store.close()
    _write(secrets, "memos-instance-setting-storage.json", {"key": "STORAGE", "storageSetting": {}})
    store = await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    await store.close()
    assert "only admins can sign in" in caplog.text


async def test_an_invalid_file_stops_startup_before_the_database_is_touched(
    secrets: pathlib.Path, db_path: pathlib.Path
) -> None:
    _write(secrets, "memos-idp-broken.json", _idp_document(uid=""))
    with pytest.raises(DeploymentError, match=r"memos-idp-broken\.json"):
        await Store.open("sqlite", str(db_path), deployment_dir=secrets)
    assert not db_path.exists()
