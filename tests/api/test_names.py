"""Resource names: every kind parses to its ids, and a bad one is INVALID_ARGUMENT naming what was wrong."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from memos.api import names
from memos.call import Code, RpcError


@pytest.mark.parametrize(
    ("parse", "name", "parsed"),
    [
        (names.parse_user_name, "users/alice", "alice"),
        (names.parse_user_name, "users/1", "1"),  # a username, never the numeric id
        (names.parse_user_name, "users/Legacy_user@x", "Legacy_user@x"),
        (names.parse_user_setting_name, "users/alice/settings/GENERAL", ("alice", "GENERAL")),
        (names.parse_personal_access_token_name, "users/alice/personalAccessTokens/t-1", ("alice", "t-1")),
        (names.parse_webhook_name, "users/alice/webhooks/ab12", ("alice", "ab12")),
        (names.parse_linked_identity_name, "users/alice/linkedIdentities/google", ("alice", "google")),
        (names.parse_notification_name, "users/alice/notifications/42", ("alice", 42)),
        (names.parse_shortcut_name, "users/alice/shortcuts/0b6c", ("alice", "0b6c")),
        (names.parse_memo_name, "memos/Xy7-abc", "Xy7-abc"),
        (names.parse_attachment_name, "attachments/a1", "a1"),
        (names.parse_reaction_name, "memos/m1/reactions/7", ("m1", 7)),
        (names.parse_reaction_name, "memos/m1/reactions/2147483647", ("m1", 2147483647)),
        (names.parse_share_name, "memos/m1/shares/tok", ("m1", "tok")),
        (names.parse_idp_name, "identity-providers/google", "google"),
        (names.parse_instance_setting_name, "instance/settings/GENERAL", "GENERAL"),
    ],
)
def test_a_well_formed_name_gives_its_ids(parse: Callable[[str], Any], name: str, parsed: Any) -> None:
    assert parse(name) == parsed


@pytest.mark.parametrize(
    ("parse", "name", "what", "problem"),
    [
        (names.parse_user_name, "", "user", "expected users/{username}"),
        (names.parse_user_name, "users/", "user", "{username} is empty"),
        (names.parse_user_name, "user/alice", "user", "expected 'users' where it says 'user'"),
        (names.parse_user_name, "users/alice/extra", "user", "expected users/{username}"),
        (names.parse_user_setting_name, "users/alice/settings/", "setting", "{key} is empty"),
        (
            names.parse_user_setting_name,
            "users/alice/preferences/GENERAL",
            "setting",
            "expected 'settings' where it says 'preferences'",
        ),
        (names.parse_user_setting_name, "users//settings/GENERAL", "setting", "{username} is empty"),
        (names.parse_webhook_name, "users/alice/webhooks", "webhook", "expected users/{username}/webhooks/{id}"),
        (names.parse_linked_identity_name, "users/alice/linkedIdentities/", "linked identity", "{idp} is empty"),
        (
            names.parse_notification_name,
            "users/alice/notifications/x1",
            "notification",
            "{id} must be a decimal number, not 'x1'",
        ),
        (
            names.parse_notification_name,
            "users/alice/notifications/+1",
            "notification",
            "{id} must be a decimal number, not '+1'",
        ),
        (  # a non-ASCII digit
            names.parse_notification_name,
            "users/alice/notifications/\u0661",
            "notification",
            "{id} must be a decimal number, not '\u0661'",
        ),
        (
            names.parse_shortcut_name,
            "users/alice/shortcut/1",
            "shortcut",
            "expected 'shortcuts' where it says 'shortcut'",
        ),
        (names.parse_memo_name, "memos/", "memo", "{uid} is empty"),
        (names.parse_memo_name, "memos/a/b", "memo", "expected memos/{uid}"),
        (names.parse_memo_name, "attachments/a", "memo", "expected 'memos' where it says 'attachments'"),
        (names.parse_attachment_name, "attachments", "attachment", "expected attachments/{uid}"),
        (names.parse_reaction_name, "memos/m1/reactions/x", "reaction", "{id} must be a decimal number, not 'x'"),
        (names.parse_reaction_name, "memos//reactions/1", "reaction", "{uid} is empty"),
        (names.parse_reaction_name, "memos/m1/reactions/2147483648", "reaction", "{id} must be at most 2147483647"),
        (names.parse_share_name, "memos/m1/share/tok", "share", "expected 'shares' where it says 'share'"),
        (names.parse_share_name, "memos/m1/shares/", "share", "{token} is empty"),
        (names.parse_idp_name, "identity-providers/a/b", "identity provider", "expected identity-providers/{uid}"),
        (names.parse_idp_name, "idp/google", "identity provider", "expected 'identity-providers' where it says 'idp'"),
        (names.parse_instance_setting_name, "instance/settings/", "instance setting", "{key} is empty"),
        (names.parse_instance_setting_name, "settings/GENERAL", "instance setting", "expected instance/settings/{key}"),
    ],
)
def test_a_malformed_name_is_invalid_argument_naming_what_is_wrong(
    parse: Callable[[str], Any], name: str, what: str, problem: str
) -> None:
    with pytest.raises(RpcError) as raised:
        parse(name)
    assert raised.value.code is Code.INVALID_ARGUMENT
    assert raised.value.message == f"invalid {what} name: {name} ({problem})"


def test_the_rpc_may_word_the_kind_of_a_memo_or_user() -> None:
    with pytest.raises(RpcError, match=r"^invalid related memo name: memo/x \(expected 'memos' "):
        names.parse_memo_name("memo/x", what="related memo")
    with pytest.raises(RpcError, match=r"^invalid creator name: creators/x \("):
        names.parse_user_name("creators/x", what="creator")


def test_a_bad_token_name_is_worded_without_the_name() -> None:
    with pytest.raises(RpcError) as raised:
        names.parse_personal_access_token_name("users/alice/tokens/x")
    assert (raised.value.code, raised.value.message) == (Code.INVALID_ARGUMENT, "invalid personal access token name")
