"""The refresh cookie: exact attribute sequence, the Secure rule, reading it back."""
from __future__ import annotations

import datetime as dt

import pytest

from memos.auth import cookies

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
    ("headers", "secure"),
    [
        ({"x-forwarded-proto": "https"}, True),
        ({"x-forwarded-proto": "http, HTTPS "}, True),
        ({"forwarded": "for=1.2.3.4;Proto=HTTPS"}, True),
        ({"origin": "HTTPS://memos.example.com"}, True),
        ({"origin": "http://memos.example.com"}, False),
        ({"x-forwarded-proto": "http"}, False),
        ({}, False),
    ],
)
def test_secure_is_judged_from_headers(headers: dict[str, str], secure: bool) -> None:
    assert cookies.is_secure_request(headers) is secure


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
