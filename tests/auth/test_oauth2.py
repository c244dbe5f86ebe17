"""The OAuth2 client against the loopback test provider: exchange, userinfo, mapping, filter."""
from __future__ import annotations

import pytest
from oauth2_provider import OAuth2Provider

from memos.auth.oauth2 import OAuth2Client, authenticate, check_identifier_filter, map_claims
from memos.call import Code, RpcError
from memos.gen.store import idp_pb2

pytestmark = pytest.mark.anyio


def make_idp(provider: OAuth2Provider, *, identifier_filter: str = "", **mapping: str) -> idp_pb2.IdentityProvider:
    config = idp_pb2.OAuth2Config(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        auth_url=provider.auth_url,
        token_url=provider.token_url,
        user_info_url=provider.user_info_url,
        scopes=["openid"],
        field_mapping=idp_pb2.FieldMapping(identifier="sub", **mapping),
    )
    return idp_pb2.IdentityProvider(
        id=1, uid="test", name="Test", type=idp_pb2.IdentityProvider.OAUTH2,
        identifier_filter=identifier_filter, config=idp_pb2.IdentityProviderConfig(oauth2_config=config),
    )


async def test_full_flow_maps_the_configured_claims(provider: OAuth2Provider) -> None:
    idp = make_idp(provider, display_name="name", email="email", avatar_url="picture")
    code = provider.issue_code({"sub": "alice", "name": "Alice A.", "email": "a@example.com",
                                "picture": "https://img.example.com/a.png"})
    profile = await authenticate(idp, code, "http://memos.test/auth/callback")
    assert (profile.identifier, profile.display_name, profile.email, profile.avatar_url) == (
        "alice", "Alice A.", "a@example.com", "https://img.example.com/a.png")


async def test_basic_client_authentication_is_tried_first(provider: OAuth2Provider) -> None:
    provider.state.auth_style = "basic"
    code = provider.issue_code("alice")
    await authenticate(make_idp(provider), code, "http://memos.test/auth/callback", "verifier-123")
    [request] = provider.state.token_requests
    assert request.authorization.startswith("Basic ")
    assert request.form == {"grant_type": "authorization_code", "code": code,
                            "redirect_uri": "http://memos.test/auth/callback", "code_verifier": "verifier-123"}


async def test_form_credentials_are_the_retry_when_basic_is_refused(provider: OAuth2Provider) -> None:
    provider.state.auth_style = "post"
    profile = await authenticate(make_idp(provider), provider.issue_code("bob"), "http://x/auth/callback")
    assert profile.identifier == "bob"
    first, second = provider.state.token_requests
    assert first.authorization.startswith("Basic ") and "client_secret" not in first.form
    assert second.authorization == ""
    assert second.form["client_id"] == provider.client_id and second.form["client_secret"] == provider.client_secret
    # No PKCE verifier was given, so none is sent; scopes never go to the token endpoint.
    assert "code_verifier" not in second.form and "scope" not in second.form


async def test_form_encoded_token_response_is_understood(provider: OAuth2Provider) -> None:
    provider.state.token_as_form = True
    profile = await authenticate(make_idp(provider), provider.issue_code("carol"), "http://x/auth/callback")
    assert profile.identifier == "carol"


async def test_unknown_code_fails_the_exchange(provider: OAuth2Provider) -> None:
    with pytest.raises(RpcError) as failure:
        await authenticate(make_idp(provider), "never-issued", "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message.startswith("failed to exchange token, error: ")
    assert "invalid_grant" in failure.value.message
    assert provider.client_secret not in failure.value.message


async def test_unreachable_token_endpoint_is_internal(provider: OAuth2Provider) -> None:
    idp = make_idp(provider)
    idp.config.oauth2_config.token_url = "http://127.0.0.1:9/token"
    with pytest.raises(RpcError) as failure:
        await authenticate(idp, "code", "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message.startswith("failed to exchange token, error: ")


async def test_failing_userinfo_quotes_status_and_first_4096_bytes(provider: OAuth2Provider) -> None:
    provider.state.userinfo_override = (503, b"x" * 5000)
    with pytest.raises(RpcError) as failure:
        await authenticate(make_idp(provider), provider.issue_code("alice"), "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message == (
        "failed to get user info, error: userinfo request failed with status 503: " + "x" * 4096)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"alice"'])
async def test_userinfo_that_is_not_a_json_object_is_internal(provider: OAuth2Provider, body: bytes) -> None:
    provider.state.userinfo_override = (200, body)
    with pytest.raises(RpcError) as failure:
        await authenticate(make_idp(provider), provider.issue_code("alice"), "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message.startswith("failed to get user info, error: ")


async def test_slow_userinfo_times_out(provider: OAuth2Provider) -> None:
    provider.state.userinfo_delay = 2.0
    client = OAuth2Client(make_idp(provider).config.oauth2_config, timeout=0.3)
    with pytest.raises(RpcError) as failure:
        await client.user_info("any-token")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message.startswith("failed to get user info, error: ")


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "token_url", "user_info_url"])
async def test_incomplete_config_is_internal(provider: OAuth2Provider, missing: str) -> None:
    idp = make_idp(provider)
    setattr(idp.config.oauth2_config, missing, "")
    with pytest.raises(RpcError) as failure:
        await authenticate(idp, provider.issue_code("alice"), "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL
    assert failure.value.message.startswith("failed to create oauth2 identity provider, error: ")
    assert provider.state.token_requests == []


async def test_missing_identifier_mapping_is_internal(provider: OAuth2Provider) -> None:
    idp = make_idp(provider)
    idp.config.oauth2_config.field_mapping.identifier = ""
    with pytest.raises(RpcError) as failure:
        await authenticate(idp, provider.issue_code("alice"), "http://x/auth/callback")
    assert failure.value.code == Code.INTERNAL


def _mapping(**fields: str) -> idp_pb2.FieldMapping:
    return idp_pb2.FieldMapping(**{"identifier": "sub", **fields})


@pytest.mark.parametrize("claims", [{"sub": 12345}, {"sub": ""}, {"id": "alice"}, {"sub": None},
                                    {"sub": ["alice"]}, {"user": {"sub": "alice"}}])
def test_identifier_must_be_a_non_empty_top_level_string(claims: dict) -> None:
    with pytest.raises(RpcError) as failure:
        map_claims(claims, _mapping())
    assert failure.value.code == Code.INTERNAL
    assert 'the field "sub" is not found in claims or has empty value' in failure.value.message


def test_display_name_falls_back_to_the_identifier_and_non_strings_are_ignored() -> None:
    profile = map_claims({"sub": "alice", "name": 7, "email": {"x": 1}}, _mapping(display_name="name", email="email"))
    assert (profile.display_name, profile.email, profile.avatar_url) == ("alice", "", "")


def test_nested_keys_are_not_followed() -> None:
    profile = map_claims({"sub": "a", "profile.name": "Flat", "profile": {"name": "Nested"}},
                         _mapping(display_name="profile.name"))
    assert profile.display_name == "Flat"


def test_identifier_filter_is_an_unanchored_search() -> None:
    check_identifier_filter("@corp\\.com", "x@corp.com")
    check_identifier_filter("@corp\\.com", "x@corp.com.evil.net")  # unanchored, as the reference
    check_identifier_filter("", "anything")
    with pytest.raises(RpcError) as failure:
        check_identifier_filter("@corp\\.com$", "x@corp.com.evil.net")
    assert failure.value.code == Code.PERMISSION_DENIED
    assert failure.value.message == "identifier x@corp.com.evil.net is not allowed"


def test_invalid_identifier_filter_is_internal() -> None:
    with pytest.raises(RpcError) as failure:
        check_identifier_filter("([", "alice")
    assert failure.value.code == Code.INTERNAL


async def test_filter_applies_after_the_exchange(provider: OAuth2Provider) -> None:
    idp = make_idp(provider, identifier_filter="^staff-")
    with pytest.raises(RpcError) as failure:
        await authenticate(idp, provider.issue_code("guest-1"), "http://x/auth/callback")
    assert failure.value.code == Code.PERMISSION_DENIED
    assert (await authenticate(idp, provider.issue_code("staff-1"), "http://x/cb")).identifier == "staff-1"
