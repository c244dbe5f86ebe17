"""Resource names of memos.api.v1, parsed in one place for every service.

A name is ``/``-separated segments: fixed collection words and the ids
between them (``users/{username}/webhooks/{id}``). A name parses only when it
has exactly the pattern's segments, every fixed word is spelt as written and no
id is empty; ids themselves are not validated here (an unknown one is the
service's NOT_FOUND). Anything else is INVALID_ARGUMENT ``invalid <what> name:
<the name> (<what is wrong with it>)``, where ``what`` is the RPC's wording of
the resource (a MemoService RPC may say "related memo" where another says "memo").

User names carry the username, never the numeric id: ``users/1`` is a user
literally named ``1``.
"""
from __future__ import annotations

from memos.call import Code, RpcError

IDP_PREFIX = "identity-providers/"
INSTANCE_SETTING_PREFIX = "instance/settings/"


def _invalid(what: str, name: str, problem: str) -> RpcError:
    return RpcError(Code.INVALID_ARGUMENT, f"invalid {what} name: {name} ({problem})")


def _ids(name: str, pattern: str, what: str) -> list[str]:
    """The id segments of ``name`` when it fits ``pattern``, e.g. ``users/{username}/webhooks/{id}``."""
    segments = name.split("/")
    expected = pattern.split("/")
    if len(segments) != len(expected):
        raise _invalid(what, name, f"expected {pattern}")
    ids = []
    for segment, want in zip(segments, expected, strict=True):
        if want.startswith("{"):
            if not segment:
                raise _invalid(what, name, f"{want} is empty")
            ids.append(segment)
        elif segment != want:
            raise _invalid(what, name, f"expected {want!r} where it says {segment!r}")
    return ids


def _user_child(name: str, collection: str, what: str, slot: str = "id") -> tuple[str, str]:
    username, child = _ids(name, f"users/{{username}}/{collection}/{{{slot}}}", what)
    return username, child


def _decimal(raw: str, what: str, name: str) -> int:
    # Only plain decimal digits: int() would also take "+1", " 1" and "1_0".
    if not (raw.isascii() and raw.isdigit()):
        raise _invalid(what, name, f"{{id}} must be a decimal number, not {raw!r}")
    return int(raw)


# --- users and what they own -----------------------------------------------------------


def parse_user_name(name: str, *, what: str = "user") -> str:
    """``users/{username}`` -> username (case kept; legacy names with ``@`` or ``_`` included)."""
    (username,) = _ids(name, "users/{username}", what)
    return username


def parse_user_setting_name(name: str) -> tuple[str, str]:
    """``users/{username}/settings/{KEY}`` -> (username, key); whether the key exists is the service's check."""
    return _user_child(name, "settings", "setting", "key")


def parse_personal_access_token_name(name: str) -> tuple[str, str]:
    """``users/{username}/personalAccessTokens/{id}`` -> (username, token id)."""
    try:
        return _user_child(name, "personalAccessTokens", "personal access token")
    except RpcError:
        # Memos words this one without the name.
        raise RpcError(Code.INVALID_ARGUMENT, "invalid personal access token name") from None


def parse_webhook_name(name: str) -> tuple[str, str]:
    """``users/{username}/webhooks/{id}`` -> (username, webhook id)."""
    return _user_child(name, "webhooks", "webhook")


def parse_linked_identity_name(name: str) -> tuple[str, str]:
    """``users/{username}/linkedIdentities/{idp uid}`` -> (username, provider uid)."""
    return _user_child(name, "linkedIdentities", "linked identity", "idp")


def parse_notification_name(name: str) -> tuple[str, int]:
    """``users/{username}/notifications/{id}`` -> (username, inbox id); the id is decimal."""
    username, raw_id = _user_child(name, "notifications", "notification")
    return username, _decimal(raw_id, "notification", name)


def parse_shortcut_name(name: str) -> tuple[str, str]:
    """``users/{username}/shortcuts/{id}`` -> (username, shortcut id)."""
    return _user_child(name, "shortcuts", "shortcut")


# --- memos and attachments -------------------------------------------------------------------


def parse_memo_name(name: str, *, what: str = "memo") -> str:
    """``memos/{uid}`` -> uid."""
    (uid,) = _ids(name, "memos/{uid}", what)
    return uid


def parse_attachment_name(name: str, *, what: str = "attachment") -> str:
    """``attachments/{uid}`` -> uid."""
    (uid,) = _ids(name, "attachments/{uid}", what)
    return uid


_INT32_MAX = 2**31 - 1


def parse_reaction_name(name: str) -> tuple[str, int]:
    """``memos/{uid}/reactions/{id}`` -> (memo uid, reaction id); the id is decimal and fits 32 bits, as in Memos."""
    memo_uid, raw_id = _ids(name, "memos/{uid}/reactions/{id}", "reaction")
    reaction_id = _decimal(raw_id, "reaction", name)
    if reaction_id > _INT32_MAX:
        raise _invalid("reaction", name, f"{{id}} must be at most {_INT32_MAX}")
    return memo_uid, reaction_id


def parse_share_name(name: str) -> tuple[str, str]:
    """``memos/{uid}/shares/{token}`` -> (memo uid, share token)."""
    memo_uid, token = _ids(name, "memos/{uid}/shares/{token}", "share")
    return memo_uid, token


# --- instance-wide resources ----------------------------------------------------------------


def parse_idp_name(name: str) -> str:
    """``identity-providers/{uid}`` -> uid."""
    (uid,) = _ids(name, "identity-providers/{uid}", "identity provider")
    return uid


def parse_instance_setting_name(name: str) -> str:
    """``instance/settings/{KEY}`` -> key; whether the key exists is the service's check."""
    (key,) = _ids(name, "instance/settings/{key}", "instance setting")
    return key
