"""The ``memos_refresh`` cookie: how it is written, cleared and read."""
from __future__ import annotations

import datetime as dt

from memos.call import CallContext

REFRESH_COOKIE = "memos_refresh"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def http_date(moment: dt.datetime) -> str:
    """``Thu, 01 Jan 1970 00:00:00 GMT`` (RFC 7231 IMF-fixdate, always UTC, English names)."""
    moment = moment.astimezone(dt.UTC)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[moment.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[moment.month - 1]
    return f"{day}, {moment.day:02d} {month} {moment.year:04d} {moment:%H:%M:%S} GMT"


def _cookie(value: str, expires: dt.datetime, secure: bool) -> str:
    parts = [f"{REFRESH_COOKIE}={value}", "Path=/", "HttpOnly", f"Expires={http_date(expires)}", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def refresh_cookie(token: str, expires_at: dt.datetime, *, secure: bool) -> str:
    """The Set-Cookie value carrying a refresh token until its expiry."""
    return _cookie(token, expires_at, secure)


def clearing_cookie(*, secure: bool) -> str:
    """The Set-Cookie value that makes a browser drop the refresh cookie."""
    return _cookie("", _EPOCH, secure)


def read_cookie(cookie_header: str | None, name: str = REFRESH_COOKIE) -> str | None:
    """The first cookie called ``name`` in a Cookie header (surrounding double quotes removed)."""
    if not cookie_header:
        return None
    for pair in cookie_header.split(";"):
        key, sep, value = pair.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return None


# --- the cookie of a call ------------------------------------------------------
# The transport says whether a Set-Cookie becomes a real browser cookie (Connect)
# or a header scripts can read (the REST gateway turns it into Grpc-Metadata-Set-Cookie):
# the refresh token itself only ever travels the first way (safer than Memos). The
# clearing cookie holds no secret and is sent either way, as Memos does.


def attach_refresh_cookie(ctx: CallContext, token: str, expires_at: dt.datetime) -> None:
    if ctx.can_set_cookies:
        ctx.response_headers.append(("Set-Cookie", refresh_cookie(token, expires_at, secure=ctx.secure)))


def attach_clearing_cookie(ctx: CallContext) -> None:
    """Tell the browser to drop its refresh cookie (SignOut, a user deleting themself)."""
    ctx.response_headers.append(("Set-Cookie", clearing_cookie(secure=ctx.secure)))


def request_refresh_cookie(ctx: CallContext) -> str | None:
    """The refresh cookie sent with this call: the first found in the Cookie headers the transport names."""
    for header in ctx.cookie_headers:
        found = read_cookie(header)
        if found is not None:
            return found
    return None
