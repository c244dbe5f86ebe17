"""Offset paging as Memos does it: page sizes, page tokens and the next token.

A token is standard base64 (padded) of a binary ``memos.api.v1.PageToken``
(limit, offset), so a client that kept a token from Memos keeps its place. The
server reads one row more than the page: only when that row comes back is there
a next page.

Size rules, the same for every list: 0 or negative means the default (50),
anything above 1000 is 1000. With a token the request's page size is ignored
and the token's limit is normalised the same way; a negative offset is 0.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses

from google.protobuf.message import DecodeError

from memos.call import Code, RpcError
from memos.gen.api.v1 import common_pb2

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def normalized_page_size(size: int) -> int:
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


@dataclasses.dataclass(frozen=True)
class Page:
    """Which rows one list call answers with."""

    limit: int
    offset: int

    @property
    def fetch_limit(self) -> int:
        """Rows to read: one more than the page tells whether another page exists."""
        return self.limit + 1

    def next_page_token(self, rows_fetched: int) -> str:
        """The token of the following page, or "" when the fetch came back no longer than the page."""
        if rows_fetched <= self.limit:
            return ""
        return encode_page_token(self.limit, self.offset + self.limit)


def requested_page(page_size: int, page_token: str) -> Page:
    """The page a request asks for: its token's when it has one, else the first page of ``page_size``."""
    if page_token:
        return decode_page_token(page_token)
    return Page(normalized_page_size(page_size), 0)


def decode_page_token(token: str) -> Page:
    """The page a token names; INVALID_ARGUMENT ``invalid page token: ...`` when it is not a token."""
    try:
        raw = base64.b64decode(token, validate=True)
        decoded = common_pb2.PageToken.FromString(raw)
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid page token: {exc}") from None
    return Page(normalized_page_size(decoded.limit), max(decoded.offset, 0))


def encode_page_token(limit: int, offset: int) -> str:
    return base64.b64encode(common_pb2.PageToken(limit=limit, offset=offset).SerializeToString()).decode("ascii")
