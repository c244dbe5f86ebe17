"""IdentityProviderService over REST and Connect: who may do what, secrets, deployment files, the lock-out guard."""
from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import apsw
import pytest
from google.protobuf import field_mask_pb2
from oauth2_provider import OAuth2Provider
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, make_profile, sign_in

from memos.app import create_app
from memos.gen.api.v1 import idp_service_pb2 as api
from memos.profile import Profile

REST = "/api/v1/identity-providers"
CONNECT = "/memos.api.v1.IdentityProviderService/"
SHORTUUID_ALPHABET = set("23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


class Instance:
    """The app with an admin and a regular user already signed in."""

    def __init__(self, client: TestClient, profile: Profile) -> None:
        self.client = client
        self.profile = profile
        create_user_row(client, "boss", role="ADMIN")
        create_user_row(client, "pleb")
        self.admin = bearer(sign_in(client, "boss"))
        self.user = bearer(sign_in(client, "pleb"))

    def create(self, provider: OAuth2Provider, uid: str = "test", title: str = "Test IdP", **body: object) -> dict:
        response = self.create_raw(provider, uid, title, **body)
        assert response.status_code == 200, response.text
        return response.json()

    def create_raw(self, provider: OAuth2Provider, uid: str = "test", title: str = "Test IdP",
                   headers: dict | None = None, **body: object):
        payload = {"title": title, "type": "OAUTH2", "config": {"oauth2Config": provider.oauth2_config()}, **body}
        params = {"identityProviderId": uid} if uid else {}
        return self.client.post(REST, params=params, json=payload, headers=self.admin if headers is None else headers)

    def sso_sign_in(self, provider: OAuth2Provider, subject: str, uid: str = "test"):
        credentials = {"idpName": f"identity-providers/{uid}", "code": provider.issue_code(subject),
                       "redirectUri": "http://memos.test/auth/callback"}
        return self.client.post("/api/v1/auth/signin", json={"ssoCredentials": credentials})

    def stored_config(self, uid: str) -> dict:
        connection = apsw.Connection(self.profile.dsn, flags=apsw.SQLITE_OPEN_READONLY)
        try:
            (config,) = connection.execute("SELECT config FROM idp WHERE uid = ?", (uid,)).fetchone()
        finally:
            connection.close()
        return json.loads(config)


@pytest.fixture
def instance(client: TestClient, profile: Profile) -> Instance:
    return Instance(client, profile)


def _assert_error(response, status: int, code: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    if message is not None:
        assert body["message"] == message


# --- access ------------------------------------------------------------------------------


def test_create_by_anonymous_is_401_and_by_a_user_403(instance: Instance, provider: OAuth2Provider) -> None:
    _assert_error(instance.create_raw(provider, headers={}), 401, 16, "authentication required")
    _assert_error(instance.create_raw(provider, headers=instance.user), 403, 7, "permission denied")
    connect = instance.client.post(CONNECT + "CreateIdentityProvider", json={"identityProviderId": "x"},
                                   headers=instance.user)
    assert connect.status_code == 403 and connect.json() == {
        "code": "permission_denied",
        "message": "permission denied",
    }
    assert instance.client.get(REST).json() == {"identityProviders": []}


def test_update_and_delete_are_for_admins_only(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    patch = instance.client.patch(
        f"{REST}/test", params={"updateMask": "title"}, json={"title": "Hacked"}, headers=instance.user
    )
    _assert_error(patch, 403, 7, "permission denied")
    _assert_error(instance.client.delete(f"{REST}/test", headers=instance.user), 403, 7)
    _assert_error(instance.client.delete(f"{REST}/test"), 401, 16)
    assert instance.client.get(f"{REST}/test", headers=instance.admin).json()["title"] == "Test IdP"


def test_list_is_public_even_on_a_private_instance_but_get_needs_a_caller(
    instance: Instance, provider: OAuth2Provider
) -> None:
    instance.create(provider)
    listed = instance.client.get(REST).json()["identityProviders"]
    assert [idp["name"] for idp in listed] == ["identity-providers/test"]
    _assert_error(instance.client.get(f"{REST}/test"), 401, 16, "authentication required")
    assert instance.client.get(f"{REST}/test", headers=instance.user).json()["name"] == "identity-providers/test"


# --- the secret ------------------------------------------------------------------------------


def test_client_secret_is_never_returned_but_is_stored(instance: Instance, provider: OAuth2Provider) -> None:
    created = instance.create(provider, display_name="ignored")
    seen = [
        created,
        instance.client.get(REST).json()["identityProviders"][0],
        instance.client.get(f"{REST}/test", headers=instance.admin).json(),
        instance.client.get(f"{REST}/test", headers=instance.user).json(),
        connect_call(
            instance.client,
            CONNECT + "GetIdentityProvider",
            api.GetIdentityProviderRequest(name="identity-providers/test"),
            api.IdentityProvider,
            "proto",
            headers=instance.admin,
        ),
    ]
    for idp in seen[:4]:
        oauth = idp["config"]["oauth2Config"]
        assert oauth["clientSecret"] == "" and oauth["clientId"] == provider.client_id
    assert seen[4].config.oauth2_config.client_secret == ""
    assert provider.client_secret not in json.dumps(seen[:4])
    # Memos keeps the OAuth2Config itself in idp.config (no wrapper), secret included.
    stored = instance.stored_config("test")
    assert stored["clientSecret"] == provider.client_secret
    assert stored["fieldMapping"] == {"identifier": "sub"}
    assert stored["tokenUrl"] == provider.token_url


def test_update_with_empty_secret_keeps_it_and_changes_the_title(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    config = provider.oauth2_config(display_name="name")
    config["clientSecret"] = ""
    config["scopes"] = ["email"]
    response = instance.client.patch(
        f"{REST}/test",
        params={"updateMask": "title,config"},
        headers=instance.admin,
        json={
            "name": "identity-providers/test",
            "type": "OAUTH2",
            "title": "Renamed",
            "config": {"oauth2Config": config},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Renamed" and body["config"]["oauth2Config"]["scopes"] == ["email"]
    assert body["config"]["oauth2Config"]["fieldMapping"]["displayName"] == "name"
    assert body["config"]["oauth2Config"]["clientSecret"] == ""
    assert instance.stored_config("test")["clientSecret"] == provider.client_secret
    # The kept secret still works against the provider.
    assert instance.sso_sign_in(provider, "alice").status_code == 200


def test_update_with_a_new_secret_replaces_it(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    config = provider.oauth2_config()
    config["clientSecret"] = "rotated"
    request = api.UpdateIdentityProviderRequest(update_mask=field_mask_pb2.FieldMask(paths=["config"]))
    request.identity_provider.name = "identity-providers/test"
    request.identity_provider.type = api.IdentityProvider.OAUTH2
    request.identity_provider.config.oauth2_config.client_secret = "rotated"
    request.identity_provider.config.oauth2_config.field_mapping.identifier = "sub"
    updated = connect_call(
        instance.client,
        CONNECT + "UpdateIdentityProvider",
        request,
        api.IdentityProvider,
        "json",
        headers=instance.admin,
    )
    assert updated.config.oauth2_config.client_secret == ""
    assert instance.stored_config("test")["clientSecret"] == "rotated"


def test_update_ignores_config_unless_the_type_is_oauth2_and_ignores_unknown_paths(
    instance: Instance, provider: OAuth2Provider
) -> None:
    instance.create(provider)
    response = instance.client.patch(
        f"{REST}/test",
        params={"updateMask": "config,identifier_filter,type"},
        headers=instance.admin,
        json={"title": "x", "identifierFilter": "@corp$", "config": {"oauth2Config": {"clientId": "other"}}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["config"]["oauth2Config"]["clientId"] == provider.client_id
    assert body["identifierFilter"] == "@corp$" and body["title"] == "Test IdP" and body["type"] == "OAUTH2"


# --- names and ids -----------------------------------------------------------------------------


def test_get_unknown_is_404_and_a_bad_name_is_400(instance: Instance) -> None:
    _assert_error(instance.client.get(f"{REST}/999", headers=instance.admin), 404, 5, "identity provider not found")
    bad = instance.client.post(CONNECT + "GetIdentityProvider", json={"name": "invalid-name"}, headers=instance.admin)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_argument"
    assert bad.json()["message"].startswith("invalid identity provider name")


def test_update_needs_a_mask_and_a_good_name(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    # The REST gateway infers the mask from the body's keys, so only an empty body (no bytes) leaves it
    # empty; a body of exactly {} gives one empty path (memos.md §0.6), which passes and changes nothing.
    empty_body = instance.client.patch(
        f"{REST}/test", content=b"", headers={**instance.admin, "Content-Type": "application/json"}
    )
    _assert_error(empty_body, 400, 3, "update_mask is required")
    unchanged = instance.client.patch(f"{REST}/test", json={}, headers=instance.admin)
    assert unchanged.status_code == 200 and unchanged.json()["title"] == "Test IdP"
    no_mask = instance.client.post(
        CONNECT + "UpdateIdentityProvider",
        headers=instance.admin,
        json={"identityProvider": {"name": "identity-providers/test", "title": "x"}},
    )
    assert no_mask.status_code == 400
    assert no_mask.json() == {"code": "invalid_argument", "message": "update_mask is required"}
    bad_name = instance.client.post(
        CONNECT + "UpdateIdentityProvider",
        headers=instance.admin,
        json={"identityProvider": {"name": "invalid-name", "title": "x"}, "updateMask": "title"},
    )
    assert bad_name.status_code == 400 and bad_name.json()["code"] == "invalid_argument"
    unknown = instance.client.patch(
        f"{REST}/nope", params={"updateMask": "title"}, json={"title": "x"}, headers=instance.admin
    )
    _assert_error(unknown, 404, 5, "identity provider not found")


def test_create_without_an_id_generates_a_shortuuid(instance: Instance, provider: OAuth2Provider) -> None:
    created = instance.create(provider, uid="")
    uid = created["name"].removeprefix("identity-providers/")
    assert len(uid) == 22 and set(uid) <= SHORTUUID_ALPHABET
    assert instance.client.get(f"{REST}/{uid}", headers=instance.user).status_code == 200


@pytest.mark.parametrize("uid", ["12345", "a", "Corp-SSO-1", "x" * 36, "  padded  "])
def test_create_accepts_ids_of_the_id_rule(instance: Instance, provider: OAuth2Provider, uid: str) -> None:
    assert instance.create(provider, uid=uid)["name"] == f"identity-providers/{uid.strip()}"


@pytest.mark.parametrize("uid", ["bad_id", "-lead", "trail-", "x" * 37, "a/b", "é"])
def test_create_refuses_ids_outside_the_rule(instance: Instance, provider: OAuth2Provider, uid: str) -> None:
    _assert_error(
        instance.create_raw(provider, uid=uid),
        400,
        3,
        "invalid UID: must be 1-36 characters, contain only letters, digits, or hyphens, "
        "and start and end with a letter or digit",
    )


def test_duplicate_id_is_internal(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    response = instance.create_raw(provider)
    assert response.status_code == 500 and response.json()["code"] == 13


def test_create_without_oauth2_config_is_400(instance: Instance) -> None:
    response = instance.client.post(
        REST, params={"identityProviderId": "x"}, json={"title": "x", "type": "OAUTH2"}, headers=instance.admin
    )
    _assert_error(response, 400, 3)


def test_list_is_in_creation_order(instance: Instance, provider: OAuth2Provider) -> None:
    for uid in ("zeta", "alpha", "mid"):
        instance.create(provider, uid=uid, title=uid.title())
    listed = instance.client.get(REST).json()["identityProviders"]
    assert [idp["title"] for idp in listed] == ["Zeta", "Alpha", "Mid"]


def test_connect_binary_create_then_list(instance: Instance, provider: OAuth2Provider) -> None:
    request = api.CreateIdentityProviderRequest(identity_provider_id="bin")
    request.identity_provider.title = "Binary"
    request.identity_provider.type = api.IdentityProvider.OAUTH2
    oauth = request.identity_provider.config.oauth2_config
    oauth.client_id, oauth.client_secret = provider.client_id, provider.client_secret
    oauth.token_url, oauth.user_info_url = provider.token_url, provider.user_info_url
    oauth.field_mapping.identifier = "sub"
    created = connect_call(
        instance.client,
        CONNECT + "CreateIdentityProvider",
        request,
        api.IdentityProvider,
        "proto",
        headers=instance.admin,
    )
    assert created.name == "identity-providers/bin" and created.config.oauth2_config.client_secret == ""
    listed = connect_call(
        instance.client,
        CONNECT + "ListIdentityProviders",
        api.ListIdentityProvidersRequest(),
        api.ListIdentityProvidersResponse,
        "proto",
    )
    assert [idp.title for idp in listed.identity_providers] == ["Binary"]


# --- delete ------------------------------------------------------------------------------------


def test_delete_then_get_is_404_and_unknown_delete_is_404(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    assert instance.client.delete(f"{REST}/test", headers=instance.admin).status_code == 200
    _assert_error(instance.client.get(f"{REST}/test", headers=instance.admin), 404, 5)
    _assert_error(instance.client.delete(f"{REST}/test", headers=instance.admin), 404, 5, "identity provider not found")
    bad = instance.client.post(CONNECT + "DeleteIdentityProvider", json={"name": "nope"}, headers=instance.admin)
    assert bad.status_code == 400


def test_links_survive_a_delete_and_resume_when_the_uid_returns(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    first = instance.sso_sign_in(provider, "alice").json()["user"]
    assert instance.client.delete(f"{REST}/test", headers=instance.admin).status_code == 200
    gone = instance.sso_sign_in(provider, "alice")
    _assert_error(gone, 400, 3, "identity provider not found")
    instance.create(provider)
    again = instance.sso_sign_in(provider, "alice")
    assert again.status_code == 200 and again.json()["user"]["name"] == first["name"] == "users/alice"


def _set_password_auth(instance: Instance, disallowed: bool):
    return instance.client.patch(
        "/api/v1/instance/settings/GENERAL",
        params={"updateMask": "disallow_password_auth"},
        headers=instance.admin,
        json={"name": "instance/settings/GENERAL", "generalSetting": {"disallowPasswordAuth": disallowed}},
    )


def test_deleting_the_last_provider_while_password_auth_is_off_is_refused(
    instance: Instance, provider: OAuth2Provider
) -> None:
    _assert_error(_set_password_auth(instance, True), 400, 9)
    instance.create(provider, uid="one")
    instance.create(provider, uid="two")
    assert _set_password_auth(instance, True).status_code == 200
    assert instance.client.delete(f"{REST}/one", headers=instance.admin).status_code == 200
    _assert_error(
        instance.client.delete(f"{REST}/two", headers=instance.admin),
        400,
        9,
        "password authentication for regular users cannot be disabled without an effective identity provider",
    )
    assert [idp["name"] for idp in instance.client.get(REST).json()["identityProviders"]] == ["identity-providers/two"]
    # With password sign-in allowed again the last provider may go.
    assert _set_password_auth(instance, False).status_code == 200
    assert instance.client.delete(f"{REST}/two", headers=instance.admin).status_code == 200


# --- deployment files -----------------------------------------------------------------------------


@pytest.fixture
def deployed(tmp_path: pathlib.Path, provider: OAuth2Provider) -> Iterator[Instance]:
    """An instance whose deployment directory configures the provider ``corp``."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    document = {
        "uid": "corp",
        "name": "Corp SSO (file)",
        "type": "OAUTH2",
        "config": {"oauth2Config": provider.oauth2_config(display_name="name")},
    }
    (secrets_dir / "memos-idp-corp.json").write_text(json.dumps(document))
    profile = make_profile(tmp_path / "deployed-data", deployment_dir=str(secrets_dir))
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        yield Instance(client, profile)


def test_file_backed_provider_is_listed_and_cannot_be_changed(deployed: Instance, provider: OAuth2Provider) -> None:
    refusal = 'identity provider "corp" is configured by the deployment'
    listed = deployed.client.get(REST).json()["identityProviders"]
    assert [(idp["name"], idp["title"]) for idp in listed] == [("identity-providers/corp", "Corp SSO (file)")]
    assert listed[0]["config"]["oauth2Config"]["clientSecret"] == ""
    _assert_error(deployed.create_raw(provider, uid="corp"), 400, 9, refusal)
    patch = deployed.client.patch(
        f"{REST}/corp", params={"updateMask": "title"}, json={"title": "x"}, headers=deployed.admin
    )
    _assert_error(patch, 400, 9, refusal)
    _assert_error(deployed.client.delete(f"{REST}/corp", headers=deployed.admin), 400, 9, refusal)
    assert deployed.client.get(f"{REST}/corp", headers=deployed.user).json()["title"] == "Corp SSO (file)"


def test_file_backed_provider_signs_users_in(deployed: Instance, provider: OAuth2Provider) -> None:
    response = deployed.client.post(
        "/api/v1/auth/signin",
        json={
            "ssoCredentials": {
                "idpName": "identity-providers/corp",
                "code": provider.issue_code({"sub": "dana", "name": "Dana"}),
                "redirectUri": "http://memos.test/auth/callback",
            }
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "dana" and response.json()["user"]["displayName"] == "Dana"


def test_update_of_config_without_an_oauth2_config_is_refused(instance: Instance, provider: OAuth2Provider) -> None:
    instance.create(provider)
    response = instance.client.patch(
        f"{REST}/test", params={"updateMask": "config"}, headers=instance.admin, json={"type": "OAUTH2", "config": {}}
    )
    _assert_error(response, 400, 3, "oauth2 config is required")
    assert instance.stored_config("test")["clientId"] == provider.client_id


# --- rows written by Memos ----------------------------------------------------------------------------


def test_rows_as_memos_writes_them_are_served(
    tmp_path: pathlib.Path, demo_data_dir: pathlib.Path, provider: OAuth2Provider
) -> None:
    """Memos v0.30 rows: loose JSON spacing, an unknown key, and one provider without a field mapping."""
    config = provider.oauth2_config(display_name="name")
    with_spaces = json.dumps({**config, "legacyKey": 1}, indent=2)
    no_mapping = json.dumps({key: value for key, value in config.items() if key != "fieldMapping"})
    connection = apsw.Connection(str(demo_data_dir / "memos_prod.db"))
    with connection:
        connection.execute(
            "INSERT INTO idp (uid, name, type, identifier_filter, config) VALUES "
            "('legacy', 'Legacy', 'OAUTH2', '', ?), ('bare', 'Bare', 'OAUTH2', '', ?)",
            (with_spaces, no_mapping),
        )
    connection.close()
    profile = make_profile(demo_data_dir, instance_url="http://memos.test")
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        listed = client.get(REST).json()["identityProviders"]
        assert [(idp["name"], idp["title"]) for idp in listed] == [
            ("identity-providers/legacy", "Legacy"),
            ("identity-providers/bare", "Bare"),
        ]
        assert listed[1]["config"]["oauth2Config"]["fieldMapping"]["identifier"] == ""
        assert all(idp["config"]["oauth2Config"]["clientSecret"] == "" for idp in listed)

        def sso(uid: str):
            return client.post(
                "/api/v1/auth/signin",
                json={
                    "ssoCredentials": {
                        "idpName": f"identity-providers/{uid}",
                        "code": provider.issue_code({"sub": "zoe", "name": "Zoe"}),
                        "redirectUri": "http://memos.test/auth/callback",
                    }
                },
            )

        signed_in = sso("legacy")
        assert signed_in.status_code == 200 and signed_in.json()["user"]["displayName"] == "Zoe"
        unusable = sso("bare")
        assert unusable.status_code == 500
        assert unusable.json()["message"].startswith("failed to create oauth2 identity provider, error: ")
