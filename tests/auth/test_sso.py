"""SSO sign-in through AuthService.SignIn (REST and Connect) against the loopback OAuth2 provider.

Who gets created, under which username, how links are kept, how concurrent
first sign-ins converge, and what registration settings change.
"""
from __future__ import annotations

import concurrent.futures
import json
import pathlib
import re
import sys

import apsw
import httpx
import pytest
from google.protobuf import json_format
from oauth2_provider import OAuth2Provider
from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, running_server, sign_in

from memos.app import create_app
from memos.gen.api.v1 import auth_service_pb2
from memos.profile import Profile

SIGNIN = "/api/v1/auth/signin"
CONNECT_SIGNIN = "/memos.api.v1.AuthService/SignIn"
REDIRECT = "http://memos.test/auth/callback"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class Instance:
    """A private instance with an admin and the identity providers ``test`` and ``other``."""

    def __init__(self, client: TestClient, profile: Profile, provider: OAuth2Provider) -> None:
        self.client = client
        self.profile = profile
        self.provider = provider
        create_user_row(client, "boss", role="ADMIN")
        self.admin = bearer(sign_in(client, "boss"))
        for uid in ("test", "other"):
            self.add_provider(uid)

    def add_provider(self, uid: str, **extra: object) -> None:
        config = self.provider.oauth2_config(display_name="name", email="email", avatar_url="picture")
        body = {"title": uid, "type": "OAUTH2", "config": {"oauth2Config": config}, **extra}
        response = self.client.post("/api/v1/identity-providers", params={"identityProviderId": uid}, json=body,
                                    headers=self.admin)
        assert response.status_code == 200, response.text

    def sso(self, claims: dict | str, uid: str = "test"):
        """SSO SignIn over REST with a fresh code for ``claims``; the raw response."""
        credentials = {"idpName": f"identity-providers/{uid}", "code": self.provider.issue_code(claims),
                       "redirectUri": REDIRECT}
        return self.client.post(SIGNIN, json={"ssoCredentials": credentials})

    def sso_user(self, claims: dict | str, uid: str = "test") -> dict:
        response = self.sso(claims, uid)
        assert response.status_code == 200, response.text
        return response.json()["user"]

    def query(self, sql: str, *args: object) -> list[tuple]:
        connection = apsw.Connection(self.profile.dsn, flags=apsw.SQLITE_OPEN_READONLY)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()

    def users(self) -> list[tuple[str, str]]:
        """(username, role) of every user but the admin, by id."""
        return self.query("SELECT username, role FROM user WHERE username != 'boss' ORDER BY id")

    def links(self) -> list[tuple[str, str, str]]:
        """(username, provider, extern_uid) of every identity link, by id."""
        return self.query("SELECT u.username, i.provider, i.extern_uid FROM user_identity i "
                          "JOIN user u ON u.id = i.user_id ORDER BY i.id")

    def set_general(self, **fields: bool) -> None:
        response = self.client.patch("/api/v1/instance/settings/GENERAL", headers=self.admin, json={
            "name": "instance/settings/GENERAL", "generalSetting": fields})
        assert response.status_code == 200, response.text


@pytest.fixture
def instance(client: TestClient, profile: Profile, provider: OAuth2Provider) -> Instance:
    return Instance(client, profile, provider)


# --- usernames -------------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["alice", "a", "Alice-01", "a" * 36])
def test_a_valid_subject_becomes_the_username(instance: Instance, subject: str) -> None:
    user = instance.sso_user(subject)
    assert user["name"] == f"users/{subject}" and user["username"] == subject
    assert instance.users() == [(subject, "USER")]
    assert instance.links() == [(subject, "test", subject)]


@pytest.mark.parametrize("subject", ["12345", "alice@example.com", "alice_example", "-alice", "alice-",
                                     " alice ", "a" * 37, "爱丽丝"])
def test_a_subject_that_is_no_valid_username_gets_a_uuid(instance: Instance, subject: str) -> None:
    user = instance.sso_user(subject)
    assert UUID4.fullmatch(user["username"]), user["username"]
    # The link keeps the subject exactly as the provider sent it.
    assert instance.links() == [(user["username"], "test", subject)]


@pytest.mark.parametrize("subject", ["admin", "Admin", "support", "root", "SYSTEM", "memos", "api", "administrator"])
def test_reserved_names_are_never_taken_over(instance: Instance, subject: str) -> None:
    assert UUID4.fullmatch(instance.sso_user(subject)["username"])


def test_a_local_account_with_the_same_name_is_never_linked(instance: Instance) -> None:
    create_user_row(instance.client, "alice", email="local@example.com")
    first = instance.sso_user("alice")
    assert UUID4.fullmatch(first["username"])
    assert instance.sso_user("alice")["name"] == first["name"]
    assert instance.users() == [("alice", "USER"), (first["username"], "USER")]
    assert instance.links() == [(first["username"], "test", "alice")]
    # The local alice still signs in with her password and has no link.
    assert sign_in(instance.client, "alice")


def test_every_username_taken_is_already_exists_and_creates_nothing(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from memos.auth import sso

    taken = uuid.UUID("00000000-0000-4000-8000-000000000001")
    create_user_row(instance.client, "alice")
    create_user_row(instance.client, str(taken))
    monkeypatch.setattr(sso.uuid, "uuid4", lambda: taken)  # every fallback name collides
    response = instance.sso("alice")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == 6 and "already exists" in response.json()["message"]
    assert instance.links() == []


# --- who signs in ------------------------------------------------------------------------------------


def test_repeated_sign_ins_return_the_same_user(instance: Instance) -> None:
    names = {instance.sso_user("alice")["name"] for _ in range(3)}
    assert names == {"users/alice"}
    assert instance.users() == [("alice", "USER")] and len(instance.links()) == 1


def test_the_same_subject_at_two_providers_is_two_users(instance: Instance) -> None:
    first = instance.sso_user("alice", uid="test")
    second = instance.sso_user("alice", uid="other")
    assert first["username"] == "alice" and UUID4.fullmatch(second["username"])
    assert instance.links() == [("alice", "test", "alice"), (second["username"], "other", "alice")]


def test_concurrent_first_sign_ins_converge_on_one_user(instance: Instance) -> None:
    codes = [instance.provider.issue_code("alice") for _ in range(8)]
    instance.provider.state.userinfo_gate = 8  # all eight learn their subject at the same moment

    def one(code: str):
        return instance.client.post(SIGNIN, json={"ssoCredentials": {
            "idpName": "identity-providers/test", "code": code, "redirectUri": REDIRECT}})

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one, codes))
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert {r.json()["user"]["name"] for r in responses} == {"users/alice"}
    assert instance.users() == [("alice", "USER")]
    assert instance.links() == [("alice", "test", "alice")]


@pytest.mark.parametrize("claims", [{"sub": ""}, {"name": "No Subject"}, {"sub": 42}])
def test_an_empty_subject_creates_nothing(instance: Instance, claims: dict) -> None:
    response = instance.sso(claims)
    assert response.status_code != 200
    assert instance.users() == [] and instance.links() == []


def test_registration_disabled_blocks_only_new_subjects(instance: Instance) -> None:
    instance.sso_user("known")
    instance.set_general(disallowUserRegistration=True)
    refused = instance.sso("stranger")
    assert refused.status_code == 403
    assert refused.json() == {"code": 7, "message": "user registration is not allowed", "details": []}
    assert instance.users() == [("known", "USER")]
    assert instance.sso_user("known")["username"] == "known"


def test_password_auth_switch_does_not_matter_to_sso(instance: Instance) -> None:
    instance.set_general(disallowPasswordAuth=True)
    assert instance.sso_user("newcomer")["role"] == "USER"


def test_profile_fields_come_from_the_mapped_claims(instance: Instance) -> None:
    user = instance.sso_user({"sub": "carol", "name": "Carol C.", "email": "carol@example.com",
                              "picture": "https://img.example.com/c.png"})
    assert (user["displayName"], user["email"], user["avatarUrl"]) == (
        "Carol C.", "carol@example.com", "https://img.example.com/c.png")
    assert user["role"] == "USER"
    assert instance.query("SELECT nickname, email, avatar_url FROM user WHERE username = 'carol'") == [
        ("Carol C.", "carol@example.com", "https://img.example.com/c.png")]


def test_display_name_defaults_to_the_subject(instance: Instance) -> None:
    assert instance.sso_user("dave")["displayName"] == "dave"


def test_an_archived_linked_user_is_refused(instance: Instance) -> None:
    instance.sso_user("erin")
    archive = instance.client.patch("/api/v1/users/erin", params={"updateMask": "state"},
                                    json={"state": "ARCHIVED"}, headers=instance.admin)
    assert archive.status_code == 200, archive.text
    refused = instance.sso("erin")
    assert refused.status_code == 403
    assert refused.json()["message"] == "user has been archived with username erin"


def test_the_session_works_like_a_password_session(instance: Instance) -> None:
    response = instance.sso("frank")
    token = response.json()["accessToken"]
    me = instance.client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["user"]["username"] == "frank"


# --- failures -------------------------------------------------------------------------------------


def test_unknown_or_malformed_provider_names_are_invalid(instance: Instance) -> None:
    unknown = instance.client.post(SIGNIN, json={"ssoCredentials": {
        "idpName": "identity-providers/nope", "code": "x", "redirectUri": REDIRECT}})
    assert unknown.status_code == 400 and unknown.json()["message"] == "identity provider not found"
    malformed = instance.client.post(SIGNIN, json={"ssoCredentials": {
        "idpName": "nope", "code": "x", "redirectUri": REDIRECT}})
    assert malformed.status_code == 400 and malformed.json()["message"].startswith("invalid identity provider name")


def test_a_failed_exchange_is_internal_and_creates_nothing(instance: Instance) -> None:
    response = instance.client.post(SIGNIN, json={"ssoCredentials": {
        "idpName": "identity-providers/test", "code": "never-issued", "redirectUri": REDIRECT}})
    assert response.status_code == 500
    assert response.json()["message"].startswith("failed to exchange token, error: ")
    assert instance.provider.client_secret not in response.text
    assert instance.users() == []


def test_the_identifier_filter_refuses_other_subjects(instance: Instance) -> None:
    instance.add_provider("corp", identifierFilter="@corp\\.example$")
    refused = instance.sso({"sub": "mallory@corp.example.evil"}, uid="corp")
    assert refused.status_code == 403
    assert refused.json()["message"] == "identifier mallory@corp.example.evil is not allowed"
    assert instance.users() == []
    assert UUID4.fullmatch(instance.sso_user({"sub": "grace@corp.example"}, uid="corp")["username"])


# --- Connect ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_connect_sso_sign_in_sets_the_refresh_cookie(instance: Instance, codec: str) -> None:
    request = auth_service_pb2.SignInRequest(sso_credentials=auth_service_pb2.SignInRequest.SSOCredentials(
        idp_name="identity-providers/test", code=instance.provider.issue_code("heidi"), redirect_uri=REDIRECT,
        code_verifier="pkce-verifier"))
    body = request.SerializeToString() if codec == "proto" else json_format.MessageToJson(request).encode()
    response = instance.client.post(CONNECT_SIGNIN, content=body, headers={"content-type": f"application/{codec}"})
    assert response.status_code == 200, response.text
    if codec == "proto":
        answer = auth_service_pb2.SignInResponse.FromString(response.content)
    else:
        answer = json_format.Parse(response.content, auth_service_pb2.SignInResponse())
    assert answer.user.name == "users/heidi" and answer.access_token
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("memos_refresh=") and "HttpOnly" in cookie
    assert instance.provider.state.token_requests[-1].form["code_verifier"] == "pkce-verifier"


def test_connect_errors_use_connect_codes(instance: Instance) -> None:
    instance.set_general(disallowUserRegistration=True)
    request = auth_service_pb2.SignInRequest(sso_credentials=auth_service_pb2.SignInRequest.SSOCredentials(
        idp_name="identity-providers/test", code=instance.provider.issue_code("ivan"), redirect_uri=REDIRECT))
    response = instance.client.post(CONNECT_SIGNIN, content=request.SerializeToString(),
                                    headers={"content-type": "application/proto"})
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "user registration is not allowed"}


# --- an empty instance ------------------------------------------------------------------------------


def test_sso_users_are_never_admins_even_on_an_empty_instance(tmp_path: pathlib.Path, provider: OAuth2Provider) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    document = {"uid": "corp", "name": "Corp", "type": "OAUTH2",
                "config": {"oauth2Config": provider.oauth2_config()}}
    (secrets_dir / "memos-idp-corp.json").write_text(json.dumps(document))
    profile = make_profile(tmp_path / "empty", deployment_dir=str(secrets_dir))
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        assert client.get("/api/v1/instance/profile").json()["needsSetup"] is True
        response = client.post(SIGNIN, json={"ssoCredentials": {
            "idpName": "identity-providers/corp", "code": provider.issue_code("first"), "redirectUri": REDIRECT}})
        assert response.status_code == 200, response.text
        assert response.json()["user"]["role"] == "USER"
        profile_after = client.get("/api/v1/instance/profile").json()
        assert profile_after["admin"] is None


# --- linked identities (UserService binds what this module exchanges) ------------------------------------


def _link(instance: Instance, username: str, token: dict, subject: str, uid: str = "test"):
    return instance.client.post(f"/api/v1/users/{username}/linkedIdentities", headers=token, json={
        "idpName": f"identity-providers/{uid}", "code": instance.provider.issue_code(subject), "redirectUri": REDIRECT})


def test_linking_binds_to_the_caller_without_creating_users(instance: Instance) -> None:
    create_user_row(instance.client, "judy")
    judy = bearer(sign_in(instance.client, "judy"))
    response = _link(instance, "judy", judy, "judy-at-idp")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "users/judy/linkedIdentities/test"
    assert response.json()["idpName"] == "identity-providers/test"
    assert instance.users() == [("judy", "USER")]
    assert instance.sso_user("judy-at-idp")["username"] == "judy"


def test_linking_a_subject_someone_else_has_is_already_exists(instance: Instance) -> None:
    instance.sso_user("taken")
    create_user_row(instance.client, "ken")
    ken = bearer(sign_in(instance.client, "ken"))
    assert _link(instance, "ken", ken, "taken").status_code == 409
    assert _link(instance, "ken", ken, "ken-1").status_code == 200
    assert _link(instance, "ken", ken, "ken-2").status_code == 409
    assert instance.links() == [("taken", "test", "taken"), ("ken", "test", "ken-1")]


# --- the real server process ------------------------------------------------------------------------------


def test_sso_against_the_real_server_process(tmp_path: pathlib.Path, provider: OAuth2Provider) -> None:
    with running_server([sys.executable, "-m", "memos"], tmp_path / "real") as url, httpx.Client(base_url=url) as http:
        created = http.post("/api/v1/users", json={"username": "owner", "password": "pw"})
        assert created.status_code == 200 and created.json()["role"] == "ADMIN"
        admin = bearer(sign_in(http, "owner"))
        body = {"title": "Loopback", "type": "OAUTH2", "config": {"oauth2Config": provider.oauth2_config()}}
        assert http.post("/api/v1/identity-providers", params={"identityProviderId": "lo"}, json=body,
                         headers=admin).status_code == 200
        response = http.post(SIGNIN, json={"ssoCredentials": {
            "idpName": "identity-providers/lo", "code": provider.issue_code("olga"), "redirectUri": REDIRECT}})
        assert response.status_code == 200, response.text
        assert response.json()["user"]["name"] == "users/olga" and response.json()["user"]["role"] == "USER"
