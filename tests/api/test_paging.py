"""Offset paging: the page a request asks for, tokens as Memos forms them, and the next token."""
from __future__ import annotations

import base64

import pytest

from memos.api.paging import Page, decode_page_token, encode_page_token, normalized_page_size, requested_page
from memos.call import Code, RpcError
from memos.gen.api.v1 import common_pb2


@pytest.mark.parametrize(
    ("token", "limit", "offset"),
    [("CAoQCg==", 10, 10), ("CDIQMg==", 50, 50), ("CAIQAg==", 2, 2)],
)
def test_tokens_are_the_ones_memos_forms(token: str, limit: int, offset: int) -> None:
    assert encode_page_token(limit, offset) == token
    assert decode_page_token(token) == Page(limit, offset)


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (7, 14), (1000, 2_000_000_000)])
def test_a_token_round_trips(limit: int, offset: int) -> None:
    assert decode_page_token(encode_page_token(limit, offset)) == Page(limit, offset)


@pytest.mark.parametrize(
    ("size", "normalized"),
    [(0, 50), (-1, 50), (-(2**31), 50), (1, 1), (999, 999), (1000, 1000), (1001, 1000), (2**31 - 1, 1000)],
)
def test_page_sizes_default_and_cap(size: int, normalized: int) -> None:
    assert normalized_page_size(size) == normalized
    assert requested_page(size, "") == Page(normalized, 0)


def test_a_token_wins_over_the_page_size_and_is_normalised_too() -> None:
    assert requested_page(5, encode_page_token(20, 40)) == Page(20, 40)
    assert requested_page(5, encode_page_token(0, 40)) == Page(50, 40)
    assert requested_page(5, encode_page_token(5000, 40)) == Page(1000, 40)
    assert requested_page(5, encode_page_token(10, -3)) == Page(10, 0)


def test_the_next_token_exists_only_when_the_extra_row_came_back() -> None:
    page = Page(10, 20)
    assert page.fetch_limit == 11
    assert page.next_page_token(11) == encode_page_token(10, 30)
    assert page.next_page_token(10) == ""
    assert page.next_page_token(0) == ""


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        "CAoQCg",  # padding missing
        base64.b64encode(b"\xff\xff\xff").decode(),  # base64 of bytes that are no PageToken
        base64.b64encode(common_pb2.PageToken(limit=1).SerializeToString()[:-1]).decode(),  # cut short
    ],
)
def test_a_malformed_token_is_invalid_argument(token: str) -> None:
    with pytest.raises(RpcError) as raised:
        requested_page(10, token)
    assert raised.value.code is Code.INVALID_ARGUMENT
    assert raised.value.message.startswith("invalid page token: ")
