"""InstanceService over REST, Connect JSON and Connect binary, for an anonymous caller."""
from __future__ import annotations

import json
import pathlib

import pytest
from starlette.testclient import TestClient

from memos import __version__
from memos.app import create_app
from memos.gen.api.v1 import instance_service_pb2 as api
from support import connect_call, make_profile

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
    as_json = connect_call(client, CONNECT + "GetInstanceProfile", api.GetInstanceProfileRequest(), api.InstanceProfile, "json")
    as_binary = connect_call(client, CONNECT + "GetInstanceProfile", api.GetInstanceProfileRequest(), api.InstanceProfile, "proto")
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
        client, CONNECT + "GetInstanceSetting", api.GetInstanceSettingRequest(name="instance/settings/BASIC"),
        api.InstanceSetting, "proto",
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
        ("instance/settings/", "invalid instance setting name: instance/settings/"),
        ("settings/GENERAL", "invalid instance setting name: settings/GENERAL"),
        ("instance/settings/GENERAL/x", "invalid instance setting name: instance/settings/GENERAL/x"),
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
    response = client.post(
        "/api/v1/instance/settings:batchGet", json={"names": ["instance/settings/GENERAL"] * 101}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "too many instance setting names (max 100)"
