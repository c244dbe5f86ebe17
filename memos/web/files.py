"""The file server's routes: `/file/users/{username}/avatar` and who the caller of a `/file/...` route is.

Browsers load these URLs from `<img>` tags, which cannot send an
Authorization header, so besides a bearer credential the `memos_refresh`
cookie identifies the caller here (and only here: it is not an API credential).
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from memos.auth.authenticator import user_from_bearer
from memos.auth.cookies import REFRESH_COOKIE, read_cookie
from memos.auth.sessions import InvalidRefreshToken, validate_refresh_token
from memos.profile import Profile
from memos.store import ROW_STATUS_NORMAL, FindUser, Store, User
from memos.web.errors import echo_error

logger = logging.getLogger("memos.web")

ASGIHandler = Callable[[Request], Awaitable[Response]]

UNAUTHORIZED = "unauthorized access"
USER_NOT_FOUND = "user not found"
AVATAR_NOT_FOUND = "avatar not found"
INVALID_AVATAR_TYPE = "invalid avatar image type"

AVATAR_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "image/heic", "image/heif"}
)

# Served bytes are user uploads: the browser must neither sniff them into
# something executable nor frame them, and an SVG slipped in runs no script.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';",
}
FILE_CACHE_CONTROL = "public, max-age=3600"

# Memos' reading of a stored avatar: the type runs up to the last ";base64,"
# and the payload is the rest of that line.
_DATA_URI = re.compile(r"data:(.+);base64,(.+)")


async def file_caller(store: Store, request: Request) -> User | None:
    """The user a `/file/...` request comes from, or None (anonymous).

    A bearer access token or PAT first; failing that, the refresh cookie,
    fully validated (signature, expiry, still listed in the user's sessions,
    user active). Safer than Memos: a cookie that is present but fails any of
    those checks makes the caller anonymous instead of failing the request
    with a 500, so the route's own rule (401 or public content) applies.
    """
    user = await user_from_bearer(store, request.headers.get("authorization"))
    if user is not None:
        return user
    cookie = read_cookie(request.headers.get("cookie"), REFRESH_COOKIE)
    if not cookie:
        return None
    try:
        user, _claims = await validate_refresh_token(store, cookie)
    except InvalidRefreshToken as exc:
        logger.debug("refresh cookie on %s ignored: %s", request.url.path, exc)
        return None
    return user if user.row_status == ROW_STATUS_NORMAL else None


def parse_avatar(avatar_url: str) -> tuple[str, str] | None:
    """(type, base64 payload) of a stored `data:<type>;base64,<data>` avatar; None if it is not one."""
    match = _DATA_URI.match(avatar_url)
    return (match.group(1), match.group(2)) if match else None


def decode_base64(payload: str) -> bytes | None:
    """Standard padded base64 (what the upload check accepted), or None if damaged."""
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def file_response(content: bytes, content_type: str) -> Response:
    """A 200 with a stored file's bytes and the headers every file answer carries."""
    headers = {**SECURITY_HEADERS, "Cache-Control": FILE_CACHE_CONTROL}
    return Response(content, headers=headers, media_type=content_type)


def file_routes(store: Store, profile: Profile, attachments: ASGIHandler) -> list[BaseRoute]:
    """The specific `/file/...` routes; register them before the `/file` catch-all of the gateway.

    ``attachments`` answers `/file/attachments/{uid}/{filename}` (``memos.web.attachment_files``).
    """

    async def avatar(request: Request) -> Response:
        if not profile.is_public and await file_caller(store, request) is None:
            return echo_error(401, UNAUTHORIZED)
        user = await store.users.get(FindUser(username=request.path_params["username"]))
        if user is None:
            return echo_error(404, USER_NOT_FOUND)
        if not user.avatar_url:
            return echo_error(404, AVATAR_NOT_FOUND)
        parsed = parse_avatar(user.avatar_url)
        if parsed is None:
            # Memos answers 500 here. An SSO provider's https URL (rendered
            # verbatim by the API) is no avatar this route serves.
            return echo_error(404, AVATAR_NOT_FOUND)
        content_type, payload = parsed
        if content_type not in AVATAR_TYPES:
            return echo_error(400, INVALID_AVATAR_TYPE)
        content = decode_base64(payload)
        if content is None:
            return echo_error(404, AVATAR_NOT_FOUND)  # Memos: 500; damaged data is no avatar either
        return file_response(content, content_type)

    return [
        Route("/file/users/{username}/avatar", avatar, methods=["GET"]),
        Route("/file/attachments/{uid}/{filename:path}", attachments, methods=["GET", "HEAD"]),
    ]
