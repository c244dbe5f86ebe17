"""Every RPC x {anonymous, user, another user, admin} x {public, private instance}: the code each caller gets.

The expectations are written out from the access table of the spec (who may
call what), not computed from the code under test. "alice" owns the resources
the requests name; "bob" is another regular user; "root" is the admin. A call
that passes the access layer gets the service's own answer (200 for a good
request, 501 while a service is not implemented yet, or the status noted).
"""
from __future__ import annotations

import base64
import dataclasses
import itertools
import pathlib
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient
from support import all_procedures, bearer, create_user_row, make_profile, sign_in

from memos.app import create_app
from memos.gen.store import inbox_pb2
from memos.store import CreateInbox, CreateUserIdentity

CALLERS = ("anon", "alice", "bob", "root")
ALICE_FILE_ID = "alice-file"  # an unlinked attachment of alice's
_unique = itertools.count()


@dataclasses.dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    pat_id: str
    webhook_id: str
    notification_id: int
    shortcut_id: str
    reaction_name: str = ""  # alice's reaction on her PRIVATE memo
    share_token: str = ""  # a share link of that memo


def _make_world(data_dir: pathlib.Path, public: bool) -> Iterator[World]:
    profile = make_profile(
        data_dir, instance_url="http://memos.test" if public else "", allow_private_webhooks=True
    )
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        ids = {name: create_user_row(client, name, role) for name, role in
               (("root", "ADMIN"), ("alice", "USER"), ("bob", "USER"), ("carol", "USER"))}
        tokens = {name: sign_in(client, name) for name in ("alice", "bob", "root")}
        alice, root = bearer(tokens["alice"]), bearer(tokens["root"])
        pat = client.post("/api/v1/users/alice/personalAccessTokens", json={"description": "m"}, headers=alice)
        webhook = client.post(
            "/api/v1/users/alice/webhooks", json={"url": "http://127.0.0.1:9/hook", "displayName": "h"}, headers=alice
        )
        idp = client.post(
            "/api/v1/identity-providers?identityProviderId=idp1",
            json={"title": "IdP", "type": "OAUTH2", "config": {"oauth2Config": {
                "clientId": "c", "clientSecret": "s", "authUrl": "http://127.0.0.1:9/a", "tokenUrl": "http://127.0.0.1:9/t",
                "userInfoUrl": "http://127.0.0.1:9/u", "scopes": ["x"], "fieldMapping": {"identifier": "sub"}}}},
            headers=root,
        )
        shortcut = client.post(
            "/api/v1/users/alice/shortcuts", json={"title": "Pinned", "filter": "pinned"}, headers=alice
        )
        assert (pat.status_code, webhook.status_code, idp.status_code, shortcut.status_code) == (200, 200, 200, 200), (
            pat.text,
            webhook.text,
            idp.text,
            shortcut.text,
        )
        memo = client.post("/api/v1/memos?memoId=alice-private", json={"content": "mine"}, headers=alice)
        assert memo.status_code == 200, memo.text
        reaction = client.post(
            "/api/v1/memos/alice-private/reactions",
            json={"reaction": {"contentId": "memos/alice-private", "reactionType": "👍"}},
            headers=alice,
        )
        share = client.post("/api/v1/memos/alice-private/shares", json={}, headers=alice)
        upload = client.post(f"/api/v1/attachments?attachmentId={ALICE_FILE_ID}",
                             json={"filename": "a.txt", "content": "aGk="}, headers=alice)
        assert upload.status_code == 200, upload.text
        assert (reaction.status_code, share.status_code) == (200, 200), (reaction.text, share.text)
        store = client.app.state.store
        message = inbox_pb2.InboxMessage(
            type=inbox_pb2.InboxMessage.MEMO_COMMENT,
            memo_comment=inbox_pb2.InboxMessage.MemoCommentPayload(memo_id=1, related_memo_id=2),
        )
        inbox = client.portal.call(
            lambda: store.inboxes.create(CreateInbox(sender_id=ids["bob"], receiver_id=ids["alice"], message=message))
        )
        link = CreateUserIdentity(user_id=ids["alice"], provider="idp1", extern_uid="a1")
        client.portal.call(lambda: store.user_identities.create(link))
        yield World(
            client,
            tokens,
            pat.json()["personalAccessToken"]["name"].rsplit("/", 1)[1],
            webhook.json()["name"].rsplit("/", 1)[1],
            inbox.id,
            shortcut.json()["name"].rsplit("/", 1)[1],
            reaction.json()["name"],
            share.json()["name"].rsplit("/", 1)[1],
        )


@dataclasses.dataclass(frozen=True)
class Row:
    """One procedure: who passes the access table, what the service allows, what a good call returns."""

    procedure: str
    request: Callable[[World], dict]
    anon_public: bool  # anonymous callers pass the access layer on a public instance
    anon_private: bool  # ... and on a private one
    rule: str  # anyone | signed_in | self | self_or_admin | admin | unimplemented
    ok: int = 200
    overrides: tuple[tuple[str, int], ...] = ()  # caller -> status, where the service answers otherwise
    destructive: bool = False  # needs a fresh world for every caller

    def expected(self, caller: str, public: bool) -> int:
        if caller == "anon" and not (self.anon_public if public else self.anon_private):
            return 401
        if dict(self.overrides).get(caller):
            return dict(self.overrides)[caller]
        if self.rule == "unimplemented":
            return 501
        allowed = {
            "anyone": CALLERS,
            "signed_in": ("alice", "bob", "root"),
            "self": ("alice",),
            "self_or_admin": ("alice", "root"),
            "admin": ("root",),
        }[self.rule]
        if caller in allowed:
            return self.ok
        return 401 if caller == "anon" else 403


def _empty(world: World) -> dict:
    return {}


def _const(body: dict) -> Callable[[World], dict]:
    return lambda world: body


WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()
IDP = {
    "title": "IdP",
    "type": "OAUTH2",
    "config": {"oauth2Config": {"clientId": "c", "fieldMapping": {"identifier": "sub"}}},
}

ROWS = [
    # AuthService
    Row(
        "AuthService/SignIn",
        _const({"passwordCredentials": {"username": "carol", "password": "pw"}}),
        True,
        True,
        "anyone",
    ),
    Row("AuthService/RefreshToken", _empty, True, True, "anyone", ok=401),  # no refresh cookie: the service says so
    Row("AuthService/SignOut", _empty, False, False, "signed_in"),
    Row("AuthService/GetCurrentUser", _empty, False, False, "signed_in"),
    # InstanceService
    Row("InstanceService/GetInstanceProfile", _empty, True, True, "anyone"),
    Row("InstanceService/GetInstanceSetting", _const({"name": "instance/settings/GENERAL"}), True, True, "anyone"),
    Row(
        "InstanceService/BatchGetInstanceSettings",
        _const({"names": ["instance/settings/GENERAL"]}),
        True,
        True,
        "anyone",
    ),
    Row(
        "InstanceService/UpdateInstanceSetting",
        _const(
            {"setting": {"name": "instance/settings/MEMO_RELATED", "memoRelatedSetting": {"contentLengthLimit": 9000}}}
        ),
        False,
        False,
        "admin",
    ),
    Row(
        "InstanceService/TestInstanceEmailSetting",
        _const({"recipientEmail": "x@example.com"}),
        False,
        False,
        "admin",
        ok=400,
    ),  # nothing configured: the admin is told the setting is invalid
    Row("InstanceService/GetInstanceStats", _empty, False, False, "admin"),
    # AIService
    Row(
        "AIService/Transcribe",
        _const({"audio": {"content": WAV, "contentType": "audio/wav"}}),
        False,
        False,
        "signed_in",
        ok=400,
    ),  # transcription is not configured
    # IdentityProviderService
    Row("IdentityProviderService/ListIdentityProviders", _empty, True, True, "anyone"),
    Row(
        "IdentityProviderService/GetIdentityProvider",
        _const({"name": "identity-providers/idp1"}),
        False,
        False,
        "signed_in",
    ),
    Row(
        "IdentityProviderService/CreateIdentityProvider",
        lambda w: {"identityProvider": IDP, "identityProviderId": f"new{next(_unique)}"},
        False,
        False,
        "admin",
    ),
    Row(
        "IdentityProviderService/UpdateIdentityProvider",
        _const(
            {
                "identityProvider": {"name": "identity-providers/idp1", "title": "T", "type": "OAUTH2"},
                "updateMask": "title",
            }
        ),
        False,
        False,
        "admin",
    ),
    Row(
        "IdentityProviderService/DeleteIdentityProvider",
        _const({"name": "identity-providers/idp1"}),
        False,
        False,
        "admin",
        destructive=True,
    ),
    # UserService
    Row("UserService/ListUsers", _empty, False, False, "admin"),
    Row("UserService/BatchGetUsers", _const({"usernames": ["alice"]}), True, False, "anyone"),
    Row("UserService/GetUser", _const({"name": "users/alice"}), True, False, "anyone"),
    Row(
        "UserService/CreateUser",
        lambda w: {"user": {"username": f"new{next(_unique)}", "password": "pw"}},
        True,
        True,
        "anyone",
    ),
    Row(
        "UserService/UpdateUser",
        _const({"user": {"name": "users/alice", "displayName": "A"}, "updateMask": "displayName"}),
        False,
        False,
        "self_or_admin",
    ),
    Row("UserService/DeleteUser", _const({"name": "users/alice"}), False, False, "self_or_admin", destructive=True),
    Row("UserService/ListAllUserStats", _empty, True, False, "anyone"),
    Row("UserService/GetUserStats", _const({"name": "users/alice"}), True, False, "anyone"),
    Row("UserService/GetUserSetting", _const({"name": "users/alice/settings/GENERAL"}), False, False, "self"),
    Row(
        "UserService/UpdateUserSetting",
        _const(
            {
                "setting": {"name": "users/alice/settings/GENERAL", "generalSetting": {"locale": "fr"}},
                "updateMask": "locale",
            }
        ),
        False,
        False,
        "self",
    ),
    Row("UserService/ListUserSettings", _const({"parent": "users/alice"}), False, False, "self"),
    Row("UserService/ListLinkedIdentities", _const({"parent": "users/alice"}), False, False, "self_or_admin"),
    Row(
        "UserService/CreateLinkedIdentity",
        _const(
            {
                "parent": "users/alice",
                "idpName": "identity-providers/missing",
                "code": "c",
                "redirectUri": "http://x/cb",
            }
        ),
        False,
        False,
        "self",
        ok=400,
    ),  # allowed, then: no such identity provider
    Row(
        "UserService/GetLinkedIdentity",
        _const({"name": "users/alice/linkedIdentities/idp1"}),
        False,
        False,
        "self_or_admin",
    ),
    Row(
        "UserService/DeleteLinkedIdentity",
        _const({"name": "users/alice/linkedIdentities/idp1"}),
        False,
        False,
        "self_or_admin",
        destructive=True,
    ),
    Row("UserService/ListPersonalAccessTokens", _const({"parent": "users/alice"}), False, False, "self_or_admin"),
    Row(
        "UserService/CreatePersonalAccessToken",
        _const({"parent": "users/alice", "description": "d"}),
        False,
        False,
        "self",
    ),
    Row(
        "UserService/DeletePersonalAccessToken",
        lambda w: {"name": f"users/alice/personalAccessTokens/{w.pat_id}"},
        False,
        False,
        "self",
        destructive=True,
    ),
    Row("UserService/ListUserWebhooks", _const({"parent": "users/alice"}), False, False, "self_or_admin"),
    Row(
        "UserService/CreateUserWebhook",
        _const({"parent": "users/alice", "webhook": {"url": "http://127.0.0.1:9/x", "displayName": "x"}}),
        False,
        False,
        "self_or_admin",
    ),
    Row(
        "UserService/UpdateUserWebhook",
        lambda w: {
            "webhook": {"name": f"users/alice/webhooks/{w.webhook_id}", "displayName": "y"},
            "updateMask": "displayName",
        },
        False,
        False,
        "self_or_admin",
    ),
    Row(
        "UserService/DeleteUserWebhook",
        lambda w: {"name": f"users/alice/webhooks/{w.webhook_id}"},
        False,
        False,
        "self_or_admin",
        destructive=True,
    ),
    Row(
        "UserService/GetUserWebhookSigningSecret",
        lambda w: {"name": f"users/alice/webhooks/{w.webhook_id}"},
        False,
        False,
        "self_or_admin",
    ),
    Row("UserService/ListUserNotifications", _const({"parent": "users/alice"}), False, False, "self"),
    Row(
        "UserService/UpdateUserNotification",
        lambda w: {
            "notification": {"name": f"users/alice/notifications/{w.notification_id}", "status": "ARCHIVED"},
            "updateMask": "status",
        },
        False,
        False,
        "self",
    ),
    Row(
        "UserService/DeleteUserNotification",
        lambda w: {"name": f"users/alice/notifications/{w.notification_id}"},
        False,
        False,
        "self",
        destructive=True,
    ),
]

# MemoService: "alice-private" is alice's PRIVATE memo.
_ALICE_MEMO = "memos/alice-private"
ROWS += [
    Row("MemoService/CreateMemo", _const({"memo": {"content": "x"}}), False, False, "signed_in"),
    Row("MemoService/ListMemos", _empty, True, False, "anyone"),
    Row("MemoService/GetMemo", _const({"name": _ALICE_MEMO}), True, False, "self"),
    Row(
        "MemoService/UpdateMemo",
        _const({"memo": {"name": _ALICE_MEMO, "content": "y"}, "updateMask": "content"}),
        False,
        False,
        "self_or_admin",
    ),
    Row("MemoService/DeleteMemo", _const({"name": _ALICE_MEMO}), False, False, "self_or_admin", destructive=True),
    Row(
        "MemoService/SetMemoRelations", _const({"name": _ALICE_MEMO, "relations": []}), False, False, "self_or_admin"
    ),
    Row("MemoService/ListMemoRelations", _const({"name": _ALICE_MEMO}), False, False, "signed_in"),
    Row(
        "MemoService/CreateMemoComment",
        _const({"name": _ALICE_MEMO, "comment": {"content": "c"}}),
        False,
        False,
        "self_or_admin",  # the parent is PRIVATE: its creator or an admin
    ),
    Row("MemoService/ListMemoComments", _const({"name": _ALICE_MEMO}), True, False, "self"),
    # Reactions on a PRIVATE memo: its creator or an admin; a reaction is deleted by its creator or an admin.
    Row("MemoService/ListMemoReactions", _const({"name": _ALICE_MEMO}), False, False, "self_or_admin"),
    Row(
        "MemoService/UpsertMemoReaction",
        lambda w: {"name": _ALICE_MEMO, "reaction": {"contentId": _ALICE_MEMO, "reactionType": f"r{next(_unique)}"}},
        False,
        False,
        "self_or_admin",
    ),
    Row(
        "MemoService/DeleteMemoReaction",
        lambda w: {"name": w.reaction_name},
        False,
        False,
        "self_or_admin",
        destructive=True,
    ),
    # Share links: the memo's creator or an admin manage them; the token opens the memo to anyone.
    Row("MemoService/CreateMemoShare", _const({"parent": _ALICE_MEMO, "memoShare": {}}), False, False, "self_or_admin"),
    Row("MemoService/ListMemoShares", _const({"parent": _ALICE_MEMO}), False, False, "self_or_admin"),
    Row(
        "MemoService/DeleteMemoShare",
        lambda w: {"name": f"{_ALICE_MEMO}/shares/{w.share_token}"},
        False,
        False,
        "self_or_admin",
        destructive=True,
    ),
    Row("MemoService/GetSharedMemo", lambda w: {"shareToken": w.share_token}, True, True, "anyone"),
    # Public on an open instance; an empty request names no URL, which the service refuses.
    Row("MemoService/GetLinkMetadata", _empty, True, False, "anyone", ok=400),
    Row("MemoService/BatchGetLinkMetadata", _empty, True, False, "anyone", ok=400),
]
# A memo's attachments: its creator or an admin (the memo is PRIVATE, so reading is theirs too).
ROWS += [
    Row("MemoService/SetMemoAttachments", _const({"name": _ALICE_MEMO, "attachments": []}), False, False,
        "self_or_admin"),
    Row("MemoService/ListMemoAttachments", _const({"name": _ALICE_MEMO}), False, False, "self_or_admin"),
]
# Attachments: any signed-in user uploads and lists their own; alice's unlinked file is hers and
# the admin's, except that DeleteAttachment finds only the caller's own (404 for everyone else).
_ALICE_FILE = f"attachments/{ALICE_FILE_ID}"
ROWS += [
    Row("AttachmentService/CreateAttachment", _const({"attachment": {"filename": "a.txt", "content": "aGk="}}),
        False, False, "signed_in"),
    Row("AttachmentService/ListAttachments", _empty, False, False, "signed_in"),
    Row("AttachmentService/GetAttachment", _const({"name": _ALICE_FILE}), False, False, "self_or_admin"),
    Row("AttachmentService/UpdateAttachment",
        _const({"attachment": {"name": _ALICE_FILE, "filename": "b.txt"}, "updateMask": "filename"}),
        False, False, "self_or_admin"),
    Row("AttachmentService/DeleteAttachment", _const({"name": _ALICE_FILE}), False, False, "self",
        overrides=(("bob", 404), ("root", 404)), destructive=True),
    Row("AttachmentService/BatchDeleteAttachments", _const({"names": [_ALICE_FILE]}), False, False,
        "self_or_admin", destructive=True),
]
# ShortcutService: the owner only; admins are refused like anyone else.
ROWS += [
    Row("ShortcutService/ListShortcuts", _const({"parent": "users/alice"}), False, False, "self"),
    Row(
        "ShortcutService/GetShortcut",
        lambda w: {"name": f"users/alice/shortcuts/{w.shortcut_id}"},
        False,
        False,
        "self",
    ),
    Row(
        "ShortcutService/CreateShortcut",
        _const({"parent": "users/alice", "shortcut": {"title": "t", "filter": "pinned"}}),
        False,
        False,
        "self",
    ),
    Row(
        "ShortcutService/UpdateShortcut",
        lambda w: {"shortcut": {"name": f"users/alice/shortcuts/{w.shortcut_id}", "title": "T"}, "updateMask": "title"},
        False,
        False,
        "self",
    ),
    Row(
        "ShortcutService/DeleteShortcut",
        lambda w: {"name": f"users/alice/shortcuts/{w.shortcut_id}"},
        False,
        False,
        "self",
        destructive=True,
    ),
]


def _call(world: World, row: Row, caller: str) -> tuple[int, str]:
    headers = {"content-type": "application/json"}
    world.client.cookies.clear()  # a sign-in over Connect leaves a refresh cookie in the client's jar
    if caller != "anon":
        headers.update(bearer(world.tokens[caller]))
    response = world.client.post(f"/memos.api.v1.{row.procedure}", json=row.request(world), headers=headers)
    return response.status_code, response.text


def test_the_matrix_names_every_rpc_once() -> None:
    assert sorted(f"/memos.api.v1.{row.procedure}" for row in ROWS) == sorted(all_procedures())


@pytest.fixture(scope="module", params=[True, False], ids=["public", "private"])
def shared_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _make_world(tmp_path_factory.mktemp("world"), request.param)


@pytest.mark.parametrize("row", [r for r in ROWS if not r.destructive], ids=lambda r: r.procedure)
def test_each_caller_gets_its_code(shared_world: World, row: Row) -> None:
    public = bool(shared_world.client.app.state.profile.instance_url)
    got = {caller: _call(shared_world, row, caller) for caller in CALLERS}
    expected = {caller: row.expected(caller, public) for caller in CALLERS}
    assert {caller: status for caller, (status, _) in got.items()} == expected, got


@pytest.mark.parametrize("public", [True, False], ids=["public", "private"])
@pytest.mark.parametrize("row", [r for r in ROWS if r.destructive], ids=lambda r: r.procedure)
def test_each_caller_gets_its_code_for_destructive_calls(tmp_path: pathlib.Path, row: Row, public: bool) -> None:
    for caller in CALLERS:  # a fresh world each time: the call may remove what the next caller needs
        for world in _make_world(tmp_path / caller, public):
            status, text = _call(world, row, caller)
            assert status == row.expected(caller, public), (caller, text)
