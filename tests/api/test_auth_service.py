"""AuthService through the whole app, over REST and Connect (where cookies make the transports differ)."""
from __future__ import annotations

import base64
import json
import pathlib

import pytest
from starlette.testclient import TestClient

from memos.app import create_app
from support import bearer, create_user_row, make_profile, sign_in

SIGNIN = "/api/v1/auth/signin"
ME = "/api/v1/auth/me"
CONNECT = "/memos.api.v1.AuthService/"


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _password(username: str, password: str = "pw") -> dict:
    return {"passwordCredentials": {"username": username, "password": password}}


def test_sign_in_returns_user_with_email_and_an_access_token(client: TestClient) -> None:
    create_user_row(client, "alice", email="alice@example.com")
    response = client.post(SIGNIN, json=_password("alice"))
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "users/alice" and body["user"]["email"] == "alice@example.com"
    claims = _claims(body["accessToken"])
    assert claims["type"] == "access" and claims["username"] == "alice"
    assert body["accessTokenExpiresAt"]


def test_get_current_user_with_the_access_token(client: TestClient) -> None:
    create_user_row(client, "alice", email="alice@example.com")
    token = sign_in(client, "alice")
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "alice@example.com"


def test_get_current_user_anonymously_is_refused(client: TestClient) -> None:
    response = client.get(ME)
    assert response.status_code == 401
    assert response.content == b'{"code": 16, "message": "authentication required"}\n'


@pytest.mark.parametrize("password", ["wrong", ""])
def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient, password: str) -> None:
    create_user_row(client, "alice")
    for credentials in (_password("alice", password), _password("nobody", "pw")):
        response = client.post(SIGNIN, json=credentials)
        assert response.status_code == 400
        assert response.json()["message"] == "unmatched username and password"
