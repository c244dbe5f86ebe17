"""UserService settings, personal access tokens and webhooks, through the real app."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, sign_in

from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.store import FindUser

CONNECT = "/memos.api.v1.UserService/"


def two_users(client: TestClient) -> tuple[str, str, str]:
    """Tokens of admin ``root``, and of regular users ``alice`` and ``bob``."""
    create_user_row(client, "root", role="ADMIN")
    create_user_row(client, "alice")
    create_user_row(client, "bob")
    return sign_in(client, "root"), sign_in(client, "alice"), sign_in(client, "bob")


def store_setting(client: TestClient, setting: store_pb.UserSetting) -> None:
    client.portal.call(client.app.state.store.user_settings.upsert, setting)


def stored_setting(client: TestClient, user_id: int, key: str) -> store_pb.UserSetting | None:
    return client.portal.call(client.app.state.store.user_settings.get, user_id, key)


def user_id(client: TestClient, username: str) -> int:
    async def lookup() -> int:
        return (await client.app.state.store.users.get(FindUser(username=username))).id

    return client.portal.call(lookup)


# --- settings ---------------------------------------------------------------------------


def test_settings_default_to_general_only(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    body = client.get("/api/v1/users/alice/settings", headers=bearer(alice)).json()
    assert body["settings"] == [
        {
            "name": "users/alice/settings/GENERAL",
            "generalSetting": {"locale": "en", "memoVisibility": "PRIVATE", "theme": ""},
        }
    ]
    webhooks = client.get("/api/v1/users/alice/settings/WEBHOOKS", headers=bearer(alice)).json()
    assert webhooks == {"name": "users/alice/settings/WEBHOOKS", "webhooksSetting": {"webhooks": []}}
    tags = client.get("/api/v1/users/alice/settings/TAGS", headers=bearer(alice)).json()
    assert tags == {"name": "users/alice/settings/TAGS", "tagsSetting": {"tags": {}}}


def test_internal_settings_are_never_listed(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    alice_id = user_id(client, "alice")
    store_setting(
        client,
        store_pb.UserSetting(
            user_id=alice_id, key=store_pb.UserSetting.GENERAL, general=store_pb.GeneralUserSetting(locale="fr")
        ),
    )
    store_setting(
        client,
        store_pb.UserSetting(
            user_id=alice_id, key=store_pb.UserSetting.SHORTCUTS, shortcuts=store_pb.ShortcutsUserSetting()
        ),
    )
    settings = client.get("/api/v1/users/alice/settings", headers=bearer(alice)).json()["settings"]
    assert [(s["name"], s["generalSetting"]["locale"]) for s in settings] == [("users/alice/settings/GENERAL", "fr")]


def test_general_update_merges_the_masked_fields_into_the_stored_row(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    response = client.patch(
        "/api/v1/users/alice/settings/GENERAL?updateMask=locale",
        json={"generalSetting": {"locale": "de", "theme": "ignored"}},
        headers=bearer(alice),
    )
    assert response.status_code == 200, response.text
    # No row existed: the merge starts from empty strings, not from the defaults.
    assert response.json()["generalSetting"] == {"locale": "de", "memoVisibility": "", "theme": ""}
    response = client.patch(
        "/api/v1/users/alice/settings/GENERAL?updateMask=theme",
        json={"generalSetting": {"theme": "dark"}},
        headers=bearer(alice),
    )
    assert response.json()["generalSetting"] == {"locale": "de", "memoVisibility": "", "theme": "dark"}


def test_settings_belong_to_their_owner_alone(client: TestClient) -> None:
    root, _alice, bob = two_users(client)
    for token in (bob, root):
        assert client.get("/api/v1/users/alice/settings/GENERAL", headers=bearer(token)).status_code == 403
        response = client.patch(
            "/api/v1/users/alice/settings/GENERAL?updateMask=locale",
            json={"generalSetting": {"locale": "x"}},
            headers=bearer(token),
        )
        assert (response.status_code, response.json()["message"]) == (403, "permission denied")
    assert client.get("/api/v1/users/alice/settings").status_code == 401


def test_unknown_owner_and_unknown_keys(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    response = client.get("/api/v1/users/nobody/settings/GENERAL", headers=bearer(alice))
    assert response.status_code == 400 and "user not found" in response.json()["message"]
    response = client.get("/api/v1/users/alice/settings/SHORTCUTS", headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (
        400,
        "invalid setting key: unknown setting key: SHORTCUTS",
    )


def test_webhooks_setting_is_not_updated_directly(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    response = client.patch(
        "/api/v1/users/alice/settings/WEBHOOKS?updateMask=webhooks", json={"webhooksSetting": {}}, headers=bearer(alice)
    )
    assert (response.status_code, response.json()["message"]) == (
        400,
        "setting type WEBHOOKS should not be updated via UpdateUserSetting",
    )


def test_update_setting_needs_a_mask(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    response = client.post(
        CONNECT + "UpdateUserSetting",
        json={"setting": {"name": "users/alice/settings/GENERAL", "generalSetting": {"locale": "x"}}},
        headers=bearer(alice),
    )
    assert (response.status_code, response.json()["message"]) == (400, "update mask is empty")


@pytest.mark.parametrize(
    ("tags", "mask", "message"),
    [
        ({"(": {}}, "tags", "invalid user tags setting"),
        ({"bug": {"backgroundColor": {"red": 1.2}}}, "tags", "invalid user tags setting"),
        ({"bug": {"backgroundColor": {"red": 0.5, "alpha": -0.1}}}, "tags", "invalid user tags setting"),
        ({" ": {}}, "tags", "invalid user tags setting"),
        ({"(?=look)ahead": {}}, "tags", "invalid user tags setting"),  # Python re accepts it, RE2 does not
        ({"bug": {}}, "locale", "unsupported update mask path for tags setting: locale"),
    ],
)
def test_tags_setting_validation(client: TestClient, tags: dict, mask: str, message: str) -> None:
    _, alice, _ = two_users(client)
    response = client.patch(
        f"/api/v1/users/alice/settings/TAGS?updateMask={mask}",
        json={"tagsSetting": {"tags": tags}},
        headers=bearer(alice),
    )
    assert response.status_code == 400 and message in response.json()["message"]


def test_tags_round_trip_through_get_and_list(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    tags = {"bug": {"backgroundColor": {"red": 1, "green": 0.25, "blue": 0}}, "private/.*": {"blurContent": True}}
    request = api.UpdateUserSettingRequest(
        setting=api.UserSetting(name="users/alice/settings/TAGS"), update_mask={"paths": ["tags"]}
    )
    request.setting.tags_setting.tags["bug"].background_color.red = 1
    request.setting.tags_setting.tags["bug"].background_color.green = 0.25
    request.setting.tags_setting.tags["private/.*"].blur_content = True
    updated = connect_call(
        client, CONNECT + "UpdateUserSetting", request, api.UserSetting, "proto", headers=bearer(alice)
    )
    assert updated.tags_setting.tags["private/.*"].blur_content is True
    got = client.get("/api/v1/users/alice/settings/TAGS", headers=bearer(alice)).json()["tagsSetting"]["tags"]
    assert got["bug"]["backgroundColor"]["red"] == 1 and got["bug"]["backgroundColor"]["green"] == 0.25
    assert got["private/.*"]["blurContent"] is True and set(got) == set(tags)
    listed = client.get("/api/v1/users/alice/settings", headers=bearer(alice)).json()["settings"]
    assert [s["name"] for s in listed] == ["users/alice/settings/GENERAL", "users/alice/settings/TAGS"]


# --- personal access tokens ---------------------------------------------------------------


def create_pat(client: TestClient, token: str, owner: str = "alice", **body: object) -> dict:
    response = client.post(f"/api/v1/users/{owner}/personalAccessTokens", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_pat_creation_stores_only_the_hash(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    created = create_pat(client, alice, description="laptop")
    token = created["token"]
    assert token.startswith("memos_pat_") and len(token) == 42
    pat = created["personalAccessToken"]
    assert pat["name"].startswith("users/alice/personalAccessTokens/") and pat["description"] == "laptop"
    assert pat["expiresAt"] is None
    stored = stored_setting(client, user_id(client, "alice"), "PERSONAL_ACCESS_TOKENS")
    assert stored.personal_access_tokens.tokens[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored)
    me = client.get("/api/v1/auth/me", headers=bearer(token)).json()["user"]
    assert me["name"] == "users/alice"


def test_pat_expiry_is_days_ahead(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    expires = create_pat(client, alice, expiresInDays=30)["personalAccessToken"]["expiresAt"]
    delta = dt.datetime.fromisoformat(expires.replace("Z", "+00:00")) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=29) < delta < dt.timedelta(days=31)


@pytest.mark.parametrize("days", [36_501, 2_147_483_647])
def test_pat_expiry_out_of_range_is_invalid_argument(client: TestClient, days: int) -> None:
    _, alice, _ = two_users(client)
    rest = client.post("/api/v1/users/alice/personalAccessTokens", json={"expiresInDays": days}, headers=bearer(alice))
    assert (rest.status_code, rest.json()["code"]) == (400, 3)
    assert rest.json()["message"] == (
        f"expires_in_days must be at most 36500 (100 years), got {days}; 0 means the token never expires"
    )
    connect = client.post(
        CONNECT + "CreatePersonalAccessToken",
        json={"parent": "users/alice", "expiresInDays": str(days)},
        headers=bearer(alice),
    )
    assert (connect.status_code, connect.json()["code"]) == (400, "invalid_argument")
    assert stored_setting(client, user_id(client, "alice"), "PERSONAL_ACCESS_TOKENS") is None  # nothing written


def test_pat_expiry_at_the_limit_is_a_valid_timestamp(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    expires = create_pat(client, alice, expiresInDays=36_500)["personalAccessToken"]["expiresAt"]
    assert dt.datetime.fromisoformat(expires.replace("Z", "+00:00")).year >= 2100
    assert create_pat(client, alice, expiresInDays=-5)["personalAccessToken"]["expiresAt"] is None  # as in Memos


def test_a_pat_cannot_mint_another_pat(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    pat = create_pat(client, alice)["token"]
    rest = client.post("/api/v1/users/alice/personalAccessTokens", json={}, headers=bearer(pat))
    assert (rest.status_code, rest.json()["code"]) == (403, 7)
    assert rest.json()["message"] == (
        "a personal access token cannot create personal access tokens; sign in with your password or single sign-on"
    )
    connect = client.post(CONNECT + "CreatePersonalAccessToken", json={"parent": "users/alice"}, headers=bearer(pat))
    assert (connect.status_code, connect.json()["code"]) == (403, "permission_denied")
    listed = client.get("/api/v1/users/alice/personalAccessTokens", headers=bearer(pat)).json()
    assert len(listed["personalAccessTokens"]) == 1  # the PAT may still read


def test_pat_listing_is_for_owner_and_admins(client: TestClient) -> None:
    root, alice, bob = two_users(client)
    create_pat(client, alice, description="one")
    create_pat(client, alice, description="two", expiresInDays=1)
    for token in (alice, root):
        listed = client.get("/api/v1/users/alice/personalAccessTokens", headers=bearer(token)).json()
        assert [t["description"] for t in listed["personalAccessTokens"]] == ["one", "two"]
        assert "tokenHash" not in json.dumps(listed)
    assert client.get("/api/v1/users/alice/personalAccessTokens", headers=bearer(bob)).status_code == 403


def test_only_the_owner_creates_and_deletes_pats(client: TestClient) -> None:
    root, alice, bob = two_users(client)
    name = create_pat(client, alice)["personalAccessToken"]["name"]
    for token in (root, bob):
        assert (
            client.post("/api/v1/users/alice/personalAccessTokens", json={}, headers=bearer(token)).status_code == 403
        )
        assert client.delete(f"/api/v1/{name}", headers=bearer(token)).status_code == 403


def test_deleted_pat_stops_working_and_unknown_ids_delete_quietly(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    created = create_pat(client, alice)
    assert client.get("/api/v1/auth/me", headers=bearer(created["token"])).status_code == 200
    assert client.delete(f"/api/v1/{created['personalAccessToken']['name']}", headers=bearer(alice)).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(created["token"])).status_code == 401
    assert client.delete("/api/v1/users/alice/personalAccessTokens/nope", headers=bearer(alice)).status_code == 200
    listed = client.get("/api/v1/users/alice/personalAccessTokens", headers=bearer(alice)).json()
    assert listed["personalAccessTokens"] == []


def test_pat_name_must_have_four_segments(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    response = client.post(
        CONNECT + "DeletePersonalAccessToken", json={"name": "users/alice/personalAccessTokens"}, headers=bearer(alice)
    )
    assert (response.status_code, response.json()["message"]) == (400, "invalid personal access token name")


@pytest.mark.parametrize(
    ("rpc", "name", "message"),
    [
        ("GetUserSetting", "users/alice/settings/", "invalid setting name: users/alice/settings/ ({key} is empty)"),
        (
            "GetUserSetting",
            "users/alice/preferences/GENERAL",
            "invalid setting name: users/alice/preferences/GENERAL (expected 'settings' where it says 'preferences')",
        ),
        ("DeletePersonalAccessToken", "users/alice/personalAccessTokens/", "invalid personal access token name"),
        ("DeletePersonalAccessToken", "users/alice/tokens/x", "invalid personal access token name"),
        (
            "GetUserWebhookSigningSecret",
            "users/alice/webhooks/",
            "invalid webhook name: users/alice/webhooks/ ({id} is empty)",
        ),
    ],
)
def test_malformed_child_names(client: TestClient, rpc: str, name: str, message: str) -> None:
    _, alice, _ = two_users(client)
    response = client.post(CONNECT + rpc, json={"name": name}, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (400, message)


# --- webhooks --------------------------------------------------------------------------------


@pytest.fixture
def private_hooks_client(tmp_path) -> TestClient:
    from support import make_profile

    from memos.app import create_app

    with TestClient(create_app(make_profile(tmp_path / "hooks", allow_private_webhooks=True))) as client:
        yield client


def create_webhook(client: TestClient, token: str, owner: str = "alice", **webhook: object) -> dict:
    response = client.post(f"/api/v1/users/{owner}/webhooks", json=webhook, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_webhook_gets_a_generated_secret_that_only_its_own_rpc_reveals(private_hooks_client: TestClient) -> None:
    client = private_hooks_client
    root, alice, bob = two_users(client)
    hook = create_webhook(client, alice, url=" http://127.0.0.1:9/hook ", displayName="CI")
    assert hook["name"].startswith("users/alice/webhooks/") and len(hook["name"].rsplit("/", 1)[1]) == 16
    assert hook["url"] == "http://127.0.0.1:9/hook" and hook["displayName"] == "CI"
    assert hook["signingSecretSet"] is True and hook["signingSecret"] == ""
    for token in (alice, root):
        secret = client.get(f"/api/v1/{hook['name']}:getSigningSecret", headers=bearer(token)).json()["signingSecret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    assert client.get(f"/api/v1/{hook['name']}:getSigningSecret", headers=bearer(bob)).status_code == 403
    assert client.get("/api/v1/users/alice/webhooks", headers=bearer(bob)).status_code == 403
    listed = client.get("/api/v1/users/alice/webhooks", headers=bearer(root)).json()["webhooks"]
    assert [w["name"] for w in listed] == [hook["name"]]
    setting = client.get("/api/v1/users/alice/settings/WEBHOOKS", headers=bearer(alice)).json()
    assert setting["webhooksSetting"]["webhooks"][0]["signingSecret"] == ""


@pytest.mark.parametrize("secret", ["abcDEF123!@#", "whsec_" + base64.b64encode(b"k" * 32).decode()])
def test_client_secrets_that_are_accepted(private_hooks_client: TestClient, secret: str) -> None:
    client = private_hooks_client
    _, alice, _ = two_users(client)
    hook = create_webhook(client, alice, url="http://127.0.0.1:9/", signingSecret=secret)
    got = client.get(f"/api/v1/{hook['name']}:getSigningSecret", headers=bearer(alice)).json()["signingSecret"]
    assert got == secret


@pytest.mark.parametrize("secret", ["a\nb", "a\rb", "a\tb", "caf€", "whsec_not!base64"])
def test_client_secrets_that_are_refused(private_hooks_client: TestClient, secret: str) -> None:
    client = private_hooks_client
    _, alice, _ = two_users(client)
    response = client.post(
        "/api/v1/users/alice/webhooks",
        json={"url": "http://127.0.0.1:9/", "signingSecret": secret},
        headers=bearer(alice),
    )
    assert response.status_code == 400 and "signing secret" in response.json()["message"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "webhook URL is required"),
        ("http://127.0.0.1:9/hook", "webhook URL must not resolve to a reserved or private IP address"),
        ("http://10.1.2.3/hook", "webhook URL must not resolve to a reserved or private IP address"),
        ("ftp://example.com/x", 'webhook URL must use http or https scheme, got "ftp"'),
    ],
)
def test_webhook_urls_that_are_refused(client: TestClient, url: str, message: str) -> None:
    _, alice, _ = two_users(client)
    response = client.post("/api/v1/users/alice/webhooks", json={"url": url}, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (400, message)


def test_webhook_update_with_and_without_a_mask(private_hooks_client: TestClient) -> None:
    client = private_hooks_client
    _, alice, _ = two_users(client)
    hook = create_webhook(client, alice, url="http://127.0.0.1:9/a", displayName="one", signingSecret="s1")
    response = client.patch(
        f"/api/v1/{hook['name']}?updateMask=display_name,signing_secret",
        json={"displayName": "two", "signingSecret": "", "url": "http://127.0.0.1:9/ignored"},
        headers=bearer(alice),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**hook, "displayName": "two", "signingSecretSet": False}
    # Connect without a mask: url when given, display name always, secret only when non-empty.
    updated = connect_call(
        client,
        CONNECT + "UpdateUserWebhook",
        api.UpdateUserWebhookRequest(webhook=api.UserWebhook(name=hook["name"], url="http://127.0.0.1:9/b")),
        api.UserWebhook,
        "json",
        headers=bearer(alice),
    )
    assert (updated.url, updated.display_name, updated.signing_secret_set) == ("http://127.0.0.1:9/b", "", False)


def test_webhook_update_validates_the_url(client: TestClient) -> None:
    _, alice, _ = two_users(client)
    store_setting(
        client,
        store_pb.UserSetting(
            user_id=user_id(client, "alice"),
            key=store_pb.UserSetting.WEBHOOKS,
            webhooks=store_pb.WebhooksUserSetting(webhooks=[{"id": "abc", "url": "https://example.com", "title": "t"}]),
        ),
    )
    response = client.patch(
        "/api/v1/users/alice/webhooks/abc?updateMask=url", json={"url": "http://192.168.1.1/"}, headers=bearer(alice)
    )
    assert response.status_code == 400


def test_unknown_webhooks(private_hooks_client: TestClient) -> None:
    client = private_hooks_client
    _, alice, _ = two_users(client)
    create_webhook(client, alice, url="http://127.0.0.1:9/")
    missing = "/api/v1/users/alice/webhooks/0000000000000000"
    response = client.patch(missing + "?updateMask=display_name", json={"displayName": "x"}, headers=bearer(alice))
    assert (response.status_code, response.json()["message"]) == (404, "webhook not found")
    assert client.delete(missing, headers=bearer(alice)).status_code == 404
    assert client.get(missing + ":getSigningSecret", headers=bearer(alice)).status_code == 404
    response = client.post(CONNECT + "DeleteUserWebhook", json={"name": "users/alice/hooks/1"}, headers=bearer(alice))
    assert response.status_code == 400 and response.json()["message"].startswith("invalid webhook name: ")


def test_webhook_delete(private_hooks_client: TestClient) -> None:
    client = private_hooks_client
    root, alice, _ = two_users(client)
    first = create_webhook(client, alice, url="http://127.0.0.1:9/1")
    second = create_webhook(client, alice, url="http://127.0.0.1:9/2")
    assert client.delete(f"/api/v1/{first['name']}", headers=bearer(root)).status_code == 200
    listed = client.get("/api/v1/users/alice/webhooks", headers=bearer(alice)).json()["webhooks"]
    assert [w["name"] for w in listed] == [second["name"]]


def test_concurrent_token_and_webhook_creations_lose_nothing(private_hooks_client: TestClient) -> None:
    """Each list is one row read, changed and written whole: concurrent edits must not drop each other."""
    import concurrent.futures

    client = private_hooks_client
    create_user_row(client, "alice")
    token = sign_in(client, "alice")

    def create_pat(n: int) -> int:
        return client.post(
            "/api/v1/users/alice/personalAccessTokens", json={"description": f"t{n}"}, headers=bearer(token)
        ).status_code

    def create_hook(n: int) -> int:
        return client.post(
            "/api/v1/users/alice/webhooks", json={"url": f"http://127.0.0.1:9/h{n}"}, headers=bearer(token)
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create_pat, range(12))) + list(pool.map(create_hook, range(12)))
    assert statuses == [200] * 24
    pats = client.get("/api/v1/users/alice/personalAccessTokens", headers=bearer(token)).json()
    hooks = client.get("/api/v1/users/alice/webhooks", headers=bearer(token)).json()
    assert sorted(p["description"] for p in pats["personalAccessTokens"]) == sorted(f"t{n}" for n in range(12))
    assert sorted(h["url"] for h in hooks["webhooks"]) == sorted(f"http://127.0.0.1:9/h{n}" for n in range(12))
