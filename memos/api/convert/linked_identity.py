"""memos.store user identities -> memos.api.v1.LinkedIdentity."""
from __future__ import annotations

from typing import Any

from memos.api.convert.idp import idp_name
from memos.gen.api.v1 import user_service_pb2 as api


def linked_identity_to_message(username: str, link: Any) -> api.LinkedIdentity:
    """A link is named by the user and the provider: one link per (user, provider)."""
    return api.LinkedIdentity(
        name=f"users/{username}/linkedIdentities/{link.provider}",
        idp_name=idp_name(link.provider),
        extern_uid=link.extern_uid,
    )
