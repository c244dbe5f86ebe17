"""Which procedures an anonymous caller may reach: the one table both transports use."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_PREFIX = "/memos.api.v1."

# Reachable anonymously even on a private instance: what a visitor needs to
# sign in, sign up, or open a share link.
BOOTSTRAP_METHODS = frozenset(
    _PREFIX + name
    for name in (
        "AuthService/SignIn",
        "AuthService/RefreshToken",
        "InstanceService/GetInstanceProfile",
        "InstanceService/GetInstanceSetting",
        "InstanceService/BatchGetInstanceSettings",
        "IdentityProviderService/ListIdentityProviders",
        "UserService/CreateUser",
        "MemoService/GetSharedMemo",
    )
)

# Reachable anonymously on a public instance (one with an instance URL).
PUBLIC_METHODS = BOOTSTRAP_METHODS | frozenset(
    _PREFIX + name
    for name in (
        "UserService/GetUser",
        "UserService/BatchGetUsers",
        "UserService/GetUserStats",
        "UserService/ListAllUserStats",
        "MemoService/GetMemo",
        "MemoService/ListMemos",
        "MemoService/ListMemoComments",
        "MemoService/GetLinkMetadata",
        "MemoService/BatchGetLinkMetadata",
    )
)

# The project's own extensions (memospyz.v1), each open exactly where the Memos RPC it
# complements is.
# procedure -> the memos.api.v1 RPC whose access it has.
EXTENSION_PUBLIC_METHODS: Mapping[str, str] = MappingProxyType(
    {
        "/memospyz.v1.MemoHtmlService/BatchGetMemoHtml": "MemoService/GetMemo",
        "/memospyz.v1.MemoHtmlService/GetSharedMemoHtml": "MemoService/GetSharedMemo",
    }
)


def anonymous_may_call(procedure: str, *, instance_is_public: bool) -> bool:
    """True when an anonymous caller passes the access layer; unknown procedures are protected."""
    complemented = EXTENSION_PUBLIC_METHODS.get(procedure)
    if complemented is not None:
        procedure = _PREFIX + complemented
    if procedure in BOOTSTRAP_METHODS:
        return True
    return instance_is_public and procedure in PUBLIC_METHODS
