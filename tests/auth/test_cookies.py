"""The refresh cookie: exact attribute sequence, reading it back, what the transport allows."""
from __future__ import annotations

import datetime as dt

import pytest

from memos.auth import cookies
from memos.call import CallContext

EXPIRY = dt.datetime(2026, 3, 5, 7, 8, 9, 123456, tzinfo=dt.UTC)


def test_refresh_cookie_attribute_sequence() -> None:
    assert cookies.refresh_cookie("jwt", EXPIRY, secure=False) == (
        "memos_refresh=jwt; Path=/; HttpOnly; Expires=Thu, 05 Mar 2026 07:08:09 GMT; SameSite=Lax"
    )
    assert cookies.refresh_cookie("jwt", EXPIRY, secure=True).endswith("; SameSite=Lax; Secure")


def test_clearing_cookie() -> None:
    assert cookies.clearing_cookie(secure=False) == (
        "memos_refresh=; Path=/; HttpOnly; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax"
    )
    assert cookies.clearing_cookie(secure=True).endswith("SameSite=Lax; Secure")


def test_expiry_is_rendered_in_utc() -> None:
    east = dt.timezone(dt.timedelta(hours=9))
    assert cookies.http_date(dt.datetime(2026, 1, 1, 8, 0, tzinfo=east)) == "Wed, 31 Dec 2025 23:00:00 GMT"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("memos_refresh=abc", "abc"),
        ("a=1; memos_refresh=first; memos_refresh=second", "first"),
        ('memos_refresh="quoted"', "quoted"),
        ("other=1", None),
        ("memos_refreshx=1", None),
        ("", None),
        (None, None),
    ],
)
def test_reading_the_cookie(header: str | None, value: str | None) -> None:
    assert cookies.read_cookie(header) == value


def _ctx(*, can_set_cookies: bool, secure: bool = False, cookie_headers: tuple[str, ...] = ()) -> CallContext:
    return CallContext(
        procedure="/memos.api.v1.AuthService/SignIn", transport="any", headers={},
        secure=secure, cookie_headers=cookie_headers, can_set_cookies=can_set_cookies,
    )


def test_the_refresh_token_is_set_only_where_the_transport_makes_a_real_cookie() -> None:
    private = _ctx(can_set_cookies=True, secure=True)
    cookies.attach_refresh_cookie(private, "jwt", EXPIRY)
    assert private.response_headers == [("Set-Cookie", cookies.refresh_cookie("jwt", EXPIRY, secure=True))]
    exposed = _ctx(can_set_cookies=False)
    cookies.attach_refresh_cookie(exposed, "jwt", EXPIRY)
    assert exposed.response_headers == []


@pytest.mark.parametrize("can_set_cookies", [True, False])
def test_the_clearing_cookie_holds_no_secret_and_is_always_sent(can_set_cookies: bool) -> None:
    ctx = _ctx(can_set_cookies=can_set_cookies, secure=False)
    cookies.attach_clearing_cookie(ctx)
    assert ctx.response_headers == [("Set-Cookie", cookies.clearing_cookie(secure=False))]


def test_secure_follows_what_the_transport_decided_not_the_headers() -> None:
    ctx = _ctx(can_set_cookies=True, secure=False)
    ctx.headers.update({"x-forwarded-proto": "https", "origin": "https://memos.example.com"})
    cookies.attach_refresh_cookie(ctx, "jwt", EXPIRY)
    assert not ctx.response_headers[0][1].endswith("Secure")


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        (("memos_refresh=first", "memos_refresh=second"), "first"),
        (("other=1", "memos_refresh=second"), "second"),
        (("other=1",), None),
        ((), None),
    ],
)
def test_the_first_refresh_cookie_in_the_transports_order_wins(headers: tuple[str, ...], found: str | None) -> None:
    assert cookies.request_refresh_cookie(_ctx(can_set_cookies=True, cookie_headers=headers)) == found
