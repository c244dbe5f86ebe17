"""How large a request body may be, decided from the request's headers before the body is read.

A caller who is not signed in only ever needs a small body (sign-in, sign-up,
a token refresh), so that is all it may send. A signed-in caller may send what
the largest legitimate request needs: a file of the instance's upload limit
(STORAGE ``upload_size_limit_mb``), base64-encoded inside JSON, with room for
the rest of the message.

"Signed in" is judged cheaply and without believing the client: a bearer
access token whose signature and expiry verify (no database read), a personal
access token that exists and has not expired (one database lookup), or a
``memos_refresh`` cookie whose signature and expiry verify. Whether the user
may actually make the call is decided later, as for every call; this only
decides how many bytes are worth reading first.

A body that declares a length anyone may send, uncompressed, needs no credential
check at all: the anonymous cap already admits it. Most calls (every list, get
and small update) are such bodies, and a token verified here would only be
verified again by the authenticator.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping

from memos.auth import tokens
from memos.auth.authenticator import bearer_token
from memos.auth.cookies import REFRESH_COOKIE, read_cookie
from memos.auth.pat import find_live_personal_access_token, is_personal_access_token
from memos.store import Store

MIB = 1024 * 1024
# Sign-in and sign-up bodies are a few hundred bytes; 64 KiB leaves room for
# long SSO redirect URIs and codes while keeping thousands of anonymous
# requests in flight within a few dozen MiB.
ANONYMOUS_MAX_BODY_BYTES = 64 * 1024
# AIService.Transcribe takes audio up to this size whatever the upload limit is.
LARGEST_AUDIO_BYTES = 25 * MIB
# The JSON around the file: field names, file name, type, memo reference.
ENVELOPE_BYTES = 1 * MIB


def base64_length(size: int) -> int:
    """The length of ``size`` bytes in padded base64."""
    return 4 * math.ceil(size / 3)


def _small_and_plain(headers: Mapping[str, str]) -> bool:
    """A declared length within the anonymous cap, not compressed (a compressed body's cap bounds
    what it inflates to, which the length does not tell)."""
    declared = headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()) or int(declared) > ANONYMOUS_MAX_BODY_BYTES:
        return False
    return headers.get("content-encoding", "").strip().lower() in ("", "identity")


class RequestBodyLimits:
    """The ``body_limit_of`` policy of the RPC transports for this instance."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, headers: Mapping[str, str]) -> int:
        if _small_and_plain(headers):
            return ANONYMOUS_MAX_BODY_BYTES
        if await self.vouched_for(headers):
            return await self.signed_in_limit()
        return ANONYMOUS_MAX_BODY_BYTES

    async def signed_in_limit(self) -> int:
        """The largest legitimate body: the largest file a request may carry, as base64 in JSON."""
        storage = (await self._store.instance_settings.get("STORAGE")).storage_setting
        largest_file = max(storage.upload_size_limit_mb * MIB, LARGEST_AUDIO_BYTES)
        return base64_length(largest_file) + ENVELOPE_BYTES

    async def vouched_for(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries a credential that verifies (see the module's note)."""
        token = bearer_token(headers.get("authorization"))
        if token is not None:
            if is_personal_access_token(token):
                return await self._personal_access_token_is_live(token)
            return await self._verifies(token, tokens.parse_access_token)
        cookie = read_cookie(headers.get("cookie"), REFRESH_COOKIE)
        if not cookie:
            return False
        return await self._verifies(cookie, tokens.parse_refresh_token)

    async def _verifies(self, token: str, parse: Callable[[str, bytes], object]) -> bool:
        try:
            parse(token, await tokens.signing_key(self._store))
        except tokens.InvalidToken:
            return False
        return True

    async def _personal_access_token_is_live(self, token: str) -> bool:
        return await find_live_personal_access_token(self._store, token, dt.datetime.now(dt.UTC)) is not None
