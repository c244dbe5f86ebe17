"""Store user rows <-> memos.api.v1.User."""
from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from memos.api.access import is_admin
from memos.gen.api.v1 import common_pb2, user_service_pb2

_ROLES = {"ADMIN": user_service_pb2.User.ADMIN, "USER": user_service_pb2.User.USER}
_STATES = {"NORMAL": common_pb2.NORMAL, "ARCHIVED": common_pb2.ARCHIVED}


def role_to_message(role: str) -> user_service_pb2.User.Role:
    return _ROLES.get(role, user_service_pb2.User.ROLE_UNSPECIFIED)


def seconds_to_timestamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=int(seconds))


def user_name(username: str) -> str:
    return f"users/{username}"


def viewer_sees_email(user: Any, viewer: Any) -> bool:
    """Only the user themself and admins see an e-mail address."""
    return viewer is not None and (viewer.id == user.id or is_admin(viewer))


def user_to_message(user: Any, viewer: Any) -> user_service_pb2.User:
    """Render a store user for ``viewer`` (None: anonymous)."""
    avatar = user.avatar_url
    if avatar.startswith("data:"):
        # Inline images are served by the file route, not shipped in every message.
        avatar = f"/file/users/{user.username}/avatar"
    return user_service_pb2.User(
        name=user_name(user.username),
        role=role_to_message(user.role),
        username=user.username,
        email=user.email if viewer_sees_email(user, viewer) else "",
        display_name=user.nickname,
        avatar_url=avatar,
        description=user.description,
        state=_STATES.get(user.row_status, common_pb2.STATE_UNSPECIFIED),
        create_time=seconds_to_timestamp(user.created_ts),
        update_time=seconds_to_timestamp(user.updated_ts),
    )
