"""InstanceService over REST, Connect JSON and Connect binary: anonymous reads, admin updates, test e-mail, stats."""
from __future__ import annotations

import json
import pathlib

import httpx
import pytest
from notify.smtp_server import smtp_server
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, free_port, make_profile, sign_in

from memos import __version__
from memos.app import create_app
from memos.gen.api.v1 import instance_service_pb2 as api
from memos.profile import Profile

PROFILE_PATH = "/api/v1/instance/profile"
CONNECT = "/memos.api.v1.InstanceService/"


def test_fresh_instance_profile_over_rest(client: TestClient) -> None:
    response = client.get(PROFILE_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "version": __version__,
        "demo": False,
        "instanceUrl": "",
        "admin": None,
        "commit": "unknown",
        "needsSetup": True,
    }


def test_profile_is_identical_on_all_three_wires(client: TestClient) -> None:
    rest = client.get(PROFILE_PATH).json()
    as_json = connect_call(
        client, CONNECT + "GetInstanceProfile", api.GetInstanceProfileRequest(), api.InstanceProfile, "json"
    )
    as_binary = connect_call(
        client, CONNECT + "GetInstanceProfile", api.GetInstanceProfileRequest(), api.InstanceProfile, "proto"
    )
    assert as_json == as_binary
    assert as_json.version == rest["version"] and as_json.needs_setup is rest["needsSetup"] is True
    assert not as_json.HasField("admin")


def test_form_post_to_the_profile_is_served_as_the_get(client: TestClient) -> None:
    response = client.post(PROFILE_PATH, content=b"", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert "version" in response.json()


def test_demo_database_profile_names_its_admin_without_email(demo_data_dir: pathlib.Path) -> None:
    profile = make_profile(demo_data_dir, instance_url="https://memos.example.com")
    with TestClient(create_app(profile)) as client:
        body = client.get(PROFILE_PATH).json()
    assert body["needsSetup"] is False
    assert body["instanceUrl"] == "https://memos.example.com"
    admin = body["admin"]
    assert admin["name"] == "users/steven" and admin["role"] == "ADMIN" and admin["displayName"] == "Steven"
    assert admin["email"] == ""
    assert admin["state"] == "NORMAL"


def test_general_setting_defaults(client: TestClient) -> None:
    response = client.get("/api/v1/instance/settings/GENERAL")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "instance/settings/GENERAL"
    general = body["generalSetting"]
    assert general["disallowUserRegistration"] is False and general["weekStartDayOffset"] == 0
    assert general["customProfile"] is None


def test_memo_related_defaults_apply_on_read(client: TestClient) -> None:
    body = client.get("/api/v1/instance/settings/MEMO_RELATED").json()["memoRelatedSetting"]
    assert body["contentLengthLimit"] == 8192
    assert body["reactions"] == ["👍", "👎", "❤️", "🎉", "😄", "😕", "😢", "😡"]


def test_demo_memo_related_row_is_read_with_its_obsolete_keys_ignored(demo_data_dir: pathlib.Path) -> None:
    with TestClient(create_app(make_profile(demo_data_dir))) as client:
        body = client.get("/api/v1/instance/settings/MEMO_RELATED").json()["memoRelatedSetting"]
    assert body["reactions"][:3] == ["👍", "💛", "🔥"] and len(body["reactions"]) == 15
    assert body["contentLengthLimit"] == 8192


def test_basic_setting_shows_only_its_name(client: TestClient) -> None:
    body = client.get("/api/v1/instance/settings/BASIC").json()
    assert body == {"name": "instance/settings/BASIC"}
    as_binary = connect_call(
        client,
        CONNECT + "GetInstanceSetting",
        api.GetInstanceSettingRequest(name="instance/settings/BASIC"),
        api.InstanceSetting,
        "proto",
    )
    assert as_binary == api.InstanceSetting(name="instance/settings/BASIC")


@pytest.mark.parametrize("key", ["STORAGE", "NOTIFICATION", "AI"])
def test_restricted_settings_need_a_user(client: TestClient, key: str) -> None:
    response = client.get(f"/api/v1/instance/settings/{key}")
    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "user not authenticated", "details": []}
    assert response.headers["www-authenticate"] == "user not authenticated"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("instance/settings/general", "unsupported instance setting key: general"),
        ("instance/settings/NOPE", "unsupported instance setting key: NOPE"),
        ("instance/settings/", "invalid instance setting name: instance/settings/ ({key} is empty)"),
        ("settings/GENERAL", "invalid instance setting name: settings/GENERAL (expected instance/settings/{key})"),
        (
            "instance/settings/GENERAL/x",
            "invalid instance setting name: instance/settings/GENERAL/x (expected instance/settings/{key})",
        ),
    ],
)
def test_bad_setting_names_are_invalid_arguments(client: TestClient, name: str, message: str) -> None:
    response = client.post(
        CONNECT + "GetInstanceSetting", content=json.dumps({"name": name}), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_argument", "message": message}


def test_batch_get_keeps_request_order(client: TestClient) -> None:
    response = client.post(
        "/api/v1/instance/settings:batchGet",
        json={"names": ["instance/settings/MEMO_RELATED", "instance/settings/GENERAL", "instance/settings/TAGS"]},
    )
    assert response.status_code == 200
    names = [setting["name"] for setting in response.json()["settings"]]
    assert names == ["instance/settings/MEMO_RELATED", "instance/settings/GENERAL", "instance/settings/TAGS"]
    assert response.json()["settings"][2]["tagsSetting"] == {"tags": {}}


def test_batch_get_fails_whole_on_one_refused_name(client: TestClient) -> None:
    response = client.post(
        "/api/v1/instance/settings:batchGet",
        json={"names": ["instance/settings/GENERAL", "instance/settings/STORAGE"]},
    )
    assert response.status_code == 401


def test_batch_get_refuses_more_than_a_hundred_names(client: TestClient) -> None:
    response = client.post("/api/v1/instance/settings:batchGet", json={"names": ["instance/settings/GENERAL"] * 101})
    assert response.status_code == 400
    assert response.json()["message"] == "too many instance setting names (max 100)"


# --- signed-in callers: admin rules, updates, the test e-mail, stats ---------------------------

SETTINGS = "/api/v1/instance/settings/"
TEST_EMAIL = "/api/v1/instance/settings/notification:testEmail"
STATS = "/api/v1/instance/stats"


class Callers:
    """The app with an admin and a regular user signed in."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        create_user_row(client, "root", role="ADMIN", email="root@example.com")
        create_user_row(client, "joe", email="joe@example.com")
        self.admin = bearer(sign_in(client, "root"))
        self.user = bearer(sign_in(client, "joe"))

    def patch(self, key: str, setting: dict, headers: dict | None = None) -> httpx.Response:
        body = {"name": f"instance/settings/{key}", **setting}
        return self.client.patch(SETTINGS + key, json=body, headers=self.admin if headers is None else headers)

    def get(self, key: str, headers: dict | None = None) -> dict:
        response = self.client.get(SETTINGS + key, headers=self.admin if headers is None else headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def callers(client: TestClient) -> Callers:
    return Callers(client)


def test_profile_with_only_a_regular_user_needs_no_setup_and_names_no_admin(client: TestClient) -> None:
    create_user_row(client, "joe")
    body = client.get(PROFILE_PATH).json()
    assert body["admin"] is None and body["needsSetup"] is False


def test_notification_setting_needs_an_admin_and_never_shows_the_password(callers: Callers) -> None:
    assert (
        callers.patch(
            "NOTIFICATION",
            {
                "notificationSetting": {
                    "email": {"smtpHost": "smtp.example.com", "smtpPort": 587, "smtpPassword": "hunter2"}
                }
            },
        ).status_code
        == 200
    )
    refused = callers.client.get(SETTINGS + "NOTIFICATION", headers=callers.user)
    assert refused.status_code == 403 and refused.json()["message"] == "permission denied"
    email = callers.get("NOTIFICATION")["notificationSetting"]["email"]
    assert email["smtpHost"] == "smtp.example.com" and email["smtpPassword"] == ""


def test_ai_setting_is_readable_by_any_signed_in_caller(callers: Callers) -> None:
    for headers in (callers.user, callers.admin):
        assert callers.get("AI", headers)["aiSetting"]["providers"] == []


def test_batch_with_an_admin_key_is_refused_whole_for_a_user(callers: Callers) -> None:
    response = callers.client.post(
        "/api/v1/instance/settings:batchGet",
        headers=callers.user,
        json={"names": ["instance/settings/GENERAL", "instance/settings/NOTIFICATION"]},
    )
    assert response.status_code == 403


def test_update_needs_an_admin(callers: Callers) -> None:
    anonymous = callers.client.patch(SETTINGS + "GENERAL", json={"name": "instance/settings/GENERAL"})
    assert anonymous.status_code == 401
    by_user = callers.patch("GENERAL", {"generalSetting": {}}, headers=callers.user)
    assert by_user.status_code == 403 and by_user.json()["message"] == "permission denied"
    for procedure in ("TestInstanceEmailSetting", "GetInstanceStats"):
        response = callers.client.post(CONNECT + procedure, json={}, headers=callers.user)
        assert response.status_code == 403, procedure
        assert callers.client.post(CONNECT + procedure, json={}).status_code == 401


def test_update_replaces_the_whole_group_and_ignores_the_mask(callers: Callers) -> None:
    first = callers.patch("GENERAL", {"generalSetting": {"additionalStyle": "body{}", "weekStartDayOffset": 1}})
    assert first.status_code == 200
    second = callers.client.patch(
        SETTINGS + "GENERAL?updateMask=additionalScript",
        headers=callers.admin,
        json={"name": "instance/settings/GENERAL", "generalSetting": {"additionalScript": "x()"}},
    )
    assert second.status_code == 200
    general = callers.get("GENERAL", {})["generalSetting"]
    assert (
        general["additionalScript"] == "x()" and general["additionalStyle"] == "" and general["weekStartDayOffset"] == 0
    )


def test_update_without_a_setting_over_connect(callers: Callers) -> None:
    response = callers.client.post(CONNECT + "UpdateInstanceSetting", json={}, headers=callers.admin)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_argument", "message": "instance setting is required"}


@pytest.mark.parametrize("key", ["BASIC", "NOPE"])
def test_basic_and_unknown_keys_cannot_be_updated(callers: Callers, key: str) -> None:
    response = callers.client.post(
        CONNECT + "UpdateInstanceSetting",
        headers=callers.admin,
        json={"setting": {"name": f"instance/settings/{key}", "generalSetting": {}}},
    )
    assert response.status_code == 400
    assert response.json()["message"] == f"unsupported instance setting key: {key}"
    assert callers.client.get(PROFILE_PATH).status_code == 200
    # BASIC still holds the secret: the admin's token still works.
    assert callers.client.get(STATS, headers=callers.admin).status_code == 200


def test_a_group_that_does_not_match_the_key_is_refused(callers: Callers) -> None:
    response = callers.patch("GENERAL", {"storageSetting": {"uploadSizeLimitMb": 5}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("invalid instance setting: ")


def test_password_auth_cannot_be_disabled_without_an_identity_provider(callers: Callers) -> None:
    response = callers.patch("GENERAL", {"generalSetting": {"disallowPasswordAuth": True}})
    assert response.status_code == 400
    assert response.json() == {
        "code": 9,
        "details": [],
        "message": "password authentication for regular users cannot be disabled"
        " without an effective identity provider",
    }
    assert callers.get("GENERAL", {})["generalSetting"]["disallowPasswordAuth"] is False
    provider = {
        "title": "SSO",
        "type": "OAUTH2",
        "config": {
            "oauth2Config": {
                "clientId": "c",
                "clientSecret": "s",
                "authUrl": "https://sso.example/a",
                "tokenUrl": "https://sso.example/t",
                "userInfoUrl": "https://sso.example/u",
                "scopes": ["openid"],
                "fieldMapping": {"identifier": "email"},
            }
        },
    }
    created = callers.client.post("/api/v1/identity-providers", json=provider, headers=callers.admin)
    assert created.status_code == 200, created.text
    assert callers.patch("GENERAL", {"generalSetting": {"disallowPasswordAuth": True}}).status_code == 200
    deleted = callers.client.delete(f"/api/v1/{created.json()['name']}", headers=callers.admin)
    assert deleted.status_code == 400


def test_tags_colours_must_be_between_zero_and_one(callers: Callers) -> None:
    bad = callers.patch("TAGS", {"tagsSetting": {"tags": {"work": {"backgroundColor": {"red": 1.2}}}}})
    assert bad.status_code == 400 and "invalid instance setting" in bad.json()["message"]
    good = callers.patch("TAGS", {"tagsSetting": {"tags": {"secret": {"blurContent": True}}}})
    assert good.status_code == 200
    assert good.json()["tagsSetting"]["tags"]["secret"] == {"backgroundColor": None, "blurContent": True}
    assert callers.get("TAGS", {})["tagsSetting"]["tags"]["secret"]["blurContent"] is True


@pytest.mark.parametrize("pattern", ["(unclosed", "  ", "(?=look)ahead"])
def test_tag_names_must_be_regular_expressions(callers: Callers, pattern: str) -> None:
    response = callers.patch("TAGS", {"tagsSetting": {"tags": {pattern: {"blurContent": True}}}})
    assert response.status_code == 400 and response.json()["message"].startswith("invalid instance setting: ")


SMTP = {"smtpHost": "smtp.example.com", "smtpPort": 587, "smtpUsername": "mailer", "fromEmail": "m@example.com"}


def test_smtp_password_is_write_only_and_kept_for_the_same_server(callers: Callers, client: TestClient) -> None:
    first = callers.patch("NOTIFICATION", {"notificationSetting": {"email": {**SMTP, "smtpPassword": "hunter2"}}})
    assert first.status_code == 200 and first.json()["notificationSetting"]["email"]["smtpPassword"] == ""
    again = callers.patch("NOTIFICATION", {"notificationSetting": {"email": {**SMTP, "enabled": True}}})
    assert again.status_code == 200
    stored = client.portal.call(client.app.state.store.instance_settings.get_stored, "NOTIFICATION")
    assert stored.notification_setting.email.smtp_password == "hunter2"
    assert stored.notification_setting.email.enabled is True
    moved = callers.patch("NOTIFICATION", {"notificationSetting": {"email": {**SMTP, "smtpHost": "evil.example"}}})
    assert moved.status_code == 400
    assert moved.json()["message"] == (
        "smtp password is required when changing SMTP host, port, username, or encryption settings"
    )


def test_s3_secret_is_kept_and_never_returned(callers: Callers, client: TestClient) -> None:
    s3 = {
        "accessKeyId": "AK",
        "endpoint": "https://s3.example",
        "region": "r",
        "bucket": "b",
        "insecureSkipTlsVerify": True,
    }
    first = callers.patch(
        "STORAGE", {"storageSetting": {"storageType": "S3", "s3Config": {**s3, "accessKeySecret": "SK"}}}
    )
    assert first.status_code == 200 and first.json()["storageSetting"]["s3Config"]["accessKeySecret"] == ""
    assert callers.patch("STORAGE", {"storageSetting": {"storageType": "S3", "s3Config": s3}}).status_code == 200
    read = callers.get("STORAGE")["storageSetting"]
    assert read["s3Config"]["accessKeySecret"] == "" and read["s3Config"]["insecureSkipTlsVerify"] is True
    stored = client.portal.call(client.app.state.store.instance_settings.get_stored, "STORAGE")
    assert stored.storage_setting.s3_config.access_key_secret == "SK"


def test_storage_and_memo_defaults_on_read(callers: Callers) -> None:
    storage = callers.get("STORAGE")["storageSetting"]
    assert storage["storageType"] == "LOCAL" and storage["uploadSizeLimitMb"] == "30"
    assert storage["filepathTemplate"] == "assets/{timestamp}_{uuid}_{filename}"
    response = callers.patch("MEMO_RELATED", {"memoRelatedSetting": {"contentLengthLimit": 100}})
    assert response.json()["memoRelatedSetting"]["contentLengthLimit"] == 100  # stored as sent
    related = callers.get("MEMO_RELATED")["memoRelatedSetting"]
    assert related["contentLengthLimit"] >= 8192 and related["reactions"]


def _ai(**transcription: str) -> dict:
    setting: dict = {"providers": [{"id": "p1", "title": " OpenAI ", "type": "OPENAI", "apiKey": "sk-original"}]}
    if transcription:
        setting["transcription"] = transcription
    return {"aiSetting": setting}


def test_ai_key_is_write_only_with_a_hint_and_kept(callers: Callers, client: TestClient) -> None:
    first = callers.patch("AI", _ai(providerId="p1", model="whisper-large", language="en"))
    assert first.status_code == 200, first.text
    provider = first.json()["aiSetting"]["providers"][0]
    assert provider["apiKey"] == "" and provider["apiKeySet"] is True and provider["apiKeyHint"] == "sk-o...inal"
    assert provider["endpoint"] == "https://api.openai.com/v1" and provider["title"] == "OpenAI"
    keep = {"aiSetting": {"providers": [{"id": "p1", "title": "OpenAI", "type": "OPENAI"}]}}
    second = callers.patch("AI", keep)
    assert second.status_code == 200, second.text
    stored = client.portal.call(client.app.state.store.instance_settings.get_stored, "AI").ai_setting
    assert stored.providers[0].api_key == "sk-original"
    assert stored.transcription.model == "whisper-large"  # omitted transcription kept
    as_user = callers.get("AI", callers.user)["aiSetting"]
    assert as_user["transcription"]["providerId"] == "p1" and as_user["transcription"]["model"] == ""
    assert callers.get("AI")["aiSetting"]["transcription"]["model"] == "whisper-large"


def test_new_ai_provider_gets_an_id_and_needs_a_key(callers: Callers) -> None:
    created = callers.patch("AI", {"aiSetting": {"providers": [{"title": "G", "type": "GEMINI", "apiKey": "k"}]}})
    provider = created.json()["aiSetting"]["providers"][0]
    assert len(provider["id"]) == 22 and provider["endpoint"] == "https://generativelanguage.googleapis.com/v1beta"
    keyless = callers.patch("AI", {"aiSetting": {"providers": [{"id": "new", "title": "G", "type": "GEMINI"}]}})
    assert keyless.status_code == 400 and keyless.json()["message"].startswith("invalid AI setting: ")


@pytest.mark.parametrize(
    ("transcription", "message"),
    [
        (
            {"providerId": "does-not-exist"},
            'invalid AI setting: transcription provider_id "does-not-exist" does not reference any configured provider',
        ),
        ({"providerId": "p1", "model": "m" * 257}, "invalid AI setting: transcription model is too long"),
        ({"providerId": "p1", "language": "l" * 33}, "invalid AI setting: transcription language is too long"),
        ({"providerId": "p1", "prompt": "p" * 4097}, "invalid AI setting: transcription prompt is too long"),
    ],
)
def test_invalid_transcription_settings(callers: Callers, transcription: dict, message: str) -> None:
    response = callers.patch("AI", _ai(**transcription))
    assert response.status_code == 400 and response.json()["message"].startswith(message)


def test_ai_provider_rules(callers: Callers) -> None:
    twice = {"aiSetting": {"providers": [{"id": "a", "title": "A", "type": "OPENAI", "apiKey": "k"}] * 2}}
    assert callers.patch("AI", twice).json()["message"] == 'invalid AI setting: duplicate provider id "a"'
    untitled = {"aiSetting": {"providers": [{"id": "a", "title": " ", "type": "OPENAI", "apiKey": "k"}]}}
    assert callers.patch("AI", untitled).status_code == 400
    untyped = {"aiSetting": {"providers": [{"id": "a", "title": "A", "apiKey": "k"}]}}
    assert callers.patch("AI", untyped).status_code == 400


def test_deployment_backed_setting_cannot_be_updated(tmp_path: pathlib.Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "memos-instance-setting-general.json").write_text(
        json.dumps({"key": "GENERAL", "generalSetting": {"additionalStyle": "from-file"}})
    )
    (secrets / "memos-instance-setting-storage.json").write_text(json.dumps({"key": "STORAGE", "storageSetting": {}}))
    with TestClient(create_app(make_profile(tmp_path / "data", deployment_dir=str(secrets)))) as client:
        callers = Callers(client)
        for query in ("", "?updateMask=additionalScript"):
            response = client.patch(
                SETTINGS + "GENERAL" + query,
                headers=callers.admin,
                json={"name": "instance/settings/GENERAL", "generalSetting": {}},
            )
            assert response.status_code == 400
            assert response.json()["message"] == 'instance setting "GENERAL" is configured by the deployment'
        assert callers.get("GENERAL", {})["generalSetting"]["additionalStyle"] == "from-file"
        storage = callers.get("STORAGE")["storageSetting"]
        assert storage["uploadSizeLimitMb"] == "30" and storage["filepathTemplate"].startswith("assets/")


# --- TestInstanceEmailSetting against a real SMTP server ------------------------------------------


def test_test_email_with_nothing_configured_is_an_invalid_argument(callers: Callers) -> None:
    response = callers.client.post(TEST_EMAIL, json={}, headers=callers.admin)
    assert response.status_code == 400
    assert response.json()["message"] == "invalid notification email setting: SMTP host is required"


def test_test_email_goes_to_the_admin_by_default(callers: Callers) -> None:
    with smtp_server() as (port, inbox):
        email = {
            "smtpHost": "127.0.0.1",
            "smtpPort": port,
            "fromEmail": "memos@example.com",
            "replyTo": "r@example.com",
        }
        response = callers.client.post(TEST_EMAIL, json={"email": email}, headers=callers.admin)
    assert response.status_code == 200, response.text
    [received] = inbox.messages
    assert received.recipients == ["root@example.com"]
    assert received.header("Subject") == "[Memos] Test email" and received.header("Reply-To") == "r@example.com"


def test_test_email_uses_the_stored_setting_and_its_password(callers: Callers) -> None:
    with smtp_server(credentials=("mailer", "s3cret")) as (port, inbox):
        email = {
            "smtpHost": "127.0.0.1",
            "smtpPort": port,
            "smtpUsername": "mailer",
            "smtpPassword": "s3cret",
            "fromEmail": "memos@example.com",
        }
        assert callers.patch("NOTIFICATION", {"notificationSetting": {"email": email}}).status_code == 200
        stored = callers.client.post(TEST_EMAIL, json={"recipientEmail": " x@example.com "}, headers=callers.admin)
        same_server = callers.client.post(
            TEST_EMAIL,
            json={"email": {**email, "smtpPassword": ""}, "recipientEmail": "y@example.com"},
            headers=callers.admin,
        )
        other_host = callers.client.post(
            TEST_EMAIL, json={"email": {**email, "smtpPassword": "", "smtpHost": "localhost"}}, headers=callers.admin
        )
    assert stored.status_code == 200 and same_server.status_code == 200, (stored.text, same_server.text)
    assert [m.recipients for m in inbox.messages] == [["x@example.com"], ["y@example.com"]]
    assert all(m.login == "mailer" for m in inbox.messages)
    assert other_host.status_code == 400 and other_host.json()["message"].startswith("smtp password is required")


def test_test_email_failure_is_internal_with_a_hint(callers: Callers) -> None:
    email = {"smtpHost": "127.0.0.1", "smtpPort": free_port(), "fromEmail": "memos@example.com"}
    response = callers.client.post(TEST_EMAIL, json={"email": email}, headers=callers.admin)
    assert response.status_code == 500
    message = response.json()["message"]
    assert message.startswith("failed to send test email: ") and "port" in message


def test_test_email_needs_a_recipient(client: TestClient) -> None:
    create_user_row(client, "root", role="ADMIN")  # no e-mail address
    response = client.post(
        TEST_EMAIL,
        json={"email": {"smtpHost": "h", "smtpPort": 25, "fromEmail": "m@x"}},
        headers=bearer(sign_in(client, "root")),
    )
    assert response.status_code == 400 and response.json()["message"] == "recipient email is required"


# --- GetInstanceStats ---------------------------------------------------------------------------------


def test_stats_for_an_admin_are_memoised(callers: Callers, profile: Profile) -> None:
    first = callers.client.get(STATS, headers=callers.admin)
    assert first.status_code == 200
    body = first.json()
    assert body["database"]["driver"] == "sqlite" and int(body["database"]["sizeBytes"]) > 0
    assert int(body["localStorageBytes"]) > 0  # the database file itself lives in the data directory
    (pathlib.Path(profile.data) / "big.bin").write_bytes(b"x" * 100_000)
    assert callers.client.get(STATS, headers=callers.admin).json() == body
    as_binary = connect_call(
        callers.client,
        CONNECT + "GetInstanceStats",
        api.GetInstanceStatsRequest(),
        api.InstanceStats,
        "proto",
        headers=callers.admin,
    )
    assert as_binary.generated_time.ToJsonString() == body["generatedTime"]


@pytest.mark.parametrize("template", ["../{filename}", "assets/../../x/{filename}", "/etc/{filename}", "/"])
def test_a_storage_template_leading_out_of_the_data_dir_is_refused(callers: Callers, template: str) -> None:
    response = callers.patch("STORAGE", {"storageSetting": {"storageType": "LOCAL", "filepathTemplate": template}})
    assert response.status_code == 400, response.text
    assert "filepath_template must stay inside the data directory" in response.json()["message"]
    assert callers.get("STORAGE")["storageSetting"]["filepathTemplate"] == "assets/{timestamp}_{uuid}_{filename}"


def test_storage_templates_inside_the_data_dir_and_sane_limits_are_accepted(callers: Callers) -> None:
    data = callers.client.app.state.profile.data
    for template in ("files/{year}/{month}/{filename}", "{uuid}", f"{data}/abs/{{filename}}", "a/../b/{filename}"):
        setting = {"storageSetting": {"storageType": "LOCAL", "filepathTemplate": template}}
        assert callers.patch("STORAGE", setting).status_code == 200, template
    assert callers.patch("STORAGE", {"storageSetting": {"uploadSizeLimitMb": 1024}}).status_code == 200
    for limit in (1025, 2**62, -1):
        refused = callers.patch("STORAGE", {"storageSetting": {"uploadSizeLimitMb": str(limit)}})
        assert refused.status_code == 400 and "upload_size_limit_mb must be between" in refused.json()["message"]
