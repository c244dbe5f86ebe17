"""Serving a body with byte ranges and conditional requests, streamed: one implementation for
attachments (disk, database, S3) and the UI bundle.

The behaviour is that of Go's `http.ServeContent`, which Memos serves its files with:

1. Preconditions: If-Match (strong comparison), else If-Unmodified-Since -> 412 when they fail;
   If-None-Match (weak comparison), else If-Modified-Since -> 304 for GET/HEAD (412 for other
   methods when If-None-Match matches). Dates compare at whole seconds.
2. If-Range (an entity tag, compared strongly, or a date equal to Last-Modified) keeps the Range
   header only when it matches; otherwise the whole body is served.
3. `Range: bytes=...` with one range -> 206 and Content-Range; several -> 206 as
   multipart/byteranges; none satisfiable or a malformed range set -> 416 with
   `Content-Range: bytes */size`.

Where this differs from Go, on purpose:
- Other range units are ignored (200), as RFC 9110 asks, instead of answered with 416.
- `bytes=-0` is unsatisfiable (Go answers an empty 206 that cannot be written correctly).
- A zero-byte body ignores Range (200, empty): no byte range of it can be expressed.
- More than MAX_RANGES ranges are ignored and the whole body is served. Many tiny ranges are the
  known amplification attack (each part costs a header of ~100 bytes for as little as one byte
  of content, and work per part); the whole body costs no more than a plain GET anyone may send,
  so it amplifies nothing, while a legitimate client that asked for many pieces still gets
  correct bytes (a 416 would make it fail instead).
- As in Go, ranges whose lengths add up to more than the body are ignored too (200 whole).

The body is read from a ContentSource chunk by chunk while it is sent, so a large file costs one
chunk of memory; the response closes its source when it ends, also when the client goes away.
"""
from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import errno
import math
import os
import re
import secrets
import stat
import threading
import types
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

CHUNK_SIZE = 64 * 1024
MAX_RANGES = 32

NOT_SATISFIABLE_BODY = b"requested range not satisfiable\n"

_NO_HEADERS: Mapping[str, str] = types.MappingProxyType({})


class ContentSource(Protocol):
    """A body to serve: its size, validators, and its bytes on demand.

    A source may also have a ``close()`` method (see Closable); the response calls it when it is done.
    """

    @property
    def size(self) -> int: ...

    @property
    def last_modified(self) -> float | None:
        """POSIX seconds; None: no Last-Modified header and no date preconditions."""

    @property
    def etag(self) -> str | None:
        """A quoted entity tag (`"abc"` or `W/"abc"`), or None."""

    def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        """The bytes [start, end), in chunks of at most CHUNK_SIZE bytes."""
        ...


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None: ...


class BytesSource:
    """A body already in memory (a database blob, a file of the UI bundle)."""

    def __init__(self, data: bytes, etag: str | None = None, last_modified: float | None = None) -> None:
        self._data = memoryview(data)
        self.size = len(data)
        self.etag = etag
        self.last_modified = last_modified

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        for offset in range(start, end, CHUNK_SIZE):
            yield bytes(self._data[offset : min(offset + CHUNK_SIZE, end)])


class FileSource:
    """A regular file, opened at once (size and mtime come from that open file, so a file
    replaced meanwhile cannot mix one file's size with another's bytes).

    One FileSource serves one response, which closes it; code that makes one and then does
    not respond with it must close it (``close()`` or ``with``).
    Raises OSError when the path cannot be opened or is not a regular file.
    """

    def __init__(self, path: str | os.PathLike[str], *, etag: str | None = None) -> None:
        # O_NONBLOCK: a FIFO placed where a file was expected must not block the open.
        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL,
                              "not a regular file", os.fspath(path))
        except BaseException:
            os.close(fd)
            raise
        # A file object rather than a bare descriptor: if a response is dropped unsent,
        # garbage collection still closes it.
        self._file = os.fdopen(fd, "rb", buffering=0)
        self._lock = threading.Lock()  # for the seek+read fallback where pread is missing
        self.size = info.st_size
        self.last_modified: float | None = info.st_mtime
        self.etag = etag

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        position = start
        while position < end:
            # anyio waits for the thread even when cancelled, so the file is never closed under a read.
            chunk = await anyio.to_thread.run_sync(self._read_at, position, min(CHUNK_SIZE, end - position))
            if not chunk:
                return  # the file shrank; the response reports the short body
            position += len(chunk)
            yield chunk

    def _read_at(self, offset: int, count: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self._file.fileno(), count, offset)
        with self._lock:
            self._file.seek(offset)
            return self._file.read(count) or b""


# --- the decision ------------------------------------------------------------------------


@dataclass(frozen=True)
class ByteRange:
    start: int
    length: int

    @property
    def end(self) -> int:
        """Exclusive end."""
        return self.start + self.length

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class RangeNotSatisfiable(Exception):
    """A `bytes=` range set that is malformed or overlaps nothing of the body (416)."""


def content_response(
    source: ContentSource,
    request_headers: Headers,
    method: str,
    *,
    content_type: str,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> Response:
    """The response serving ``source`` for a request (see the module docstring for the rules).

    ``headers`` (caching, Content-Disposition, security headers) go on every answer, 304 included;
    ETag and Last-Modified come from the source. The response closes the source once sent.
    """
    base = {name.lower(): value for name, value in headers.items()}
    base.pop("content-length", None)
    if source.etag is not None:
        base["etag"] = source.etag
    modified = _known_seconds(source.last_modified)
    if modified is not None:
        base["last-modified"] = email.utils.formatdate(modified, usegmt=True)
    verdict = _precondition_status(request_headers, method, source.etag, modified)
    if verdict == 304:
        return _not_modified(source, base)
    if verdict == 412:
        return ContentResponse(source, 412, base, [])
    base["accept-ranges"] = "bytes"
    wanted = request_headers.get("range", "")
    if wanted and not _if_range_holds(request_headers.get("if-range", ""), source.etag, modified):
        wanted = ""
    try:
        ranges = parse_ranges(wanted, source.size)
    except RangeNotSatisfiable:
        return _not_satisfiable(source, base, send_body=method != "HEAD")
    send_body = method != "HEAD"
    if len(ranges) == 1:
        only = ranges[0]
        base.update({"content-type": content_type, "content-range": only.content_range(source.size)})
        return ContentResponse(source, 206, base, [only], send_body=send_body)
    if ranges:
        plan = _multipart_plan(source, base, ranges, content_type)
        return ContentResponse(source, 206, base, plan, send_body=send_body)
    base["content-type"] = content_type
    return ContentResponse(source, 200, base, [ByteRange(0, source.size)], send_body=send_body)


def _known_seconds(last_modified: float | None) -> int | None:
    """Whole seconds of a modification time, None when unknown (Go also treats the epoch as unknown)."""
    if last_modified is None or last_modified == 0 or not math.isfinite(last_modified):
        return None
    return math.floor(last_modified)


def _not_modified(source: ContentSource, base: dict[str, str]) -> Response:
    # 304 carries validators and caching headers but nothing that describes a body; with an
    # ETag present, Last-Modified is dropped as Go does.
    if "etag" in base:
        base.pop("last-modified", None)
    for name in ("content-type", "content-encoding"):
        base.pop(name, None)
    return ContentResponse(source, 304, base, [])


def _not_satisfiable(source: ContentSource, base: dict[str, str], *, send_body: bool) -> Response:
    base.update({
        "content-range": f"bytes */{source.size}",
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
    })
    base.pop("content-encoding", None)
    return ContentResponse(source, 416, base, [NOT_SATISFIABLE_BODY], send_body=send_body)


def _multipart_plan(
    source: ContentSource, base: dict[str, str], ranges: list[ByteRange], content_type: str
) -> list[bytes | ByteRange]:
    """The parts of a multipart/byteranges body (its Content-Type goes into ``base``)."""
    boundary = secrets.token_hex(16)
    plan: list[bytes | ByteRange] = []
    for index, wanted in enumerate(ranges):
        lead = b"\r\n" if index else b""
        part_type = f"Content-Type: {content_type}\r\n" if content_type else ""
        head = f"--{boundary}\r\n{part_type}Content-Range: {wanted.content_range(source.size)}\r\n\r\n"
        plan += [lead + head.encode("latin-1"), wanted]
    plan.append(f"\r\n--{boundary}--\r\n".encode("latin-1"))
    base["content-type"] = f"multipart/byteranges; boundary={boundary}"
    return plan


# --- preconditions -----------------------------------------------------------------------


def _precondition_status(headers: Headers, method: str, etag: str | None, modified: int | None) -> int | None:
    """412 or 304 when the conditional headers end the request, else None."""
    matched = _if_match(_joined(headers, "if-match"), etag)
    if matched is None:
        matched = _if_unmodified_since(headers.get("if-unmodified-since", ""), modified)
    if matched is False:
        return 412
    none_match = _joined(headers, "if-none-match")
    reading = method in ("GET", "HEAD")
    if none_match:
        if _any_tag_matches(none_match, etag, strong=False):
            return 304 if reading else 412
        return None
    if reading and _modified_since(headers.get("if-modified-since", ""), modified) is False:
        return 304
    return None


def _joined(headers: Headers, name: str) -> str:
    """A list-valued header sent on several lines, as one comma-separated value."""
    return ", ".join(value for value in headers.getlist(name) if value.strip())


def _if_match(value: str, etag: str | None) -> bool | None:
    if not value.strip():
        return None
    return _any_tag_matches(value, etag, strong=True)


def _if_unmodified_since(value: str, modified: int | None) -> bool | None:
    since = parse_http_date(value) if value and modified is not None else None
    if since is None or modified is None:
        return None
    return modified <= since


def _modified_since(value: str, modified: int | None) -> bool | None:
    since = parse_http_date(value) if value and modified is not None else None
    if since is None or modified is None:
        return None
    return modified > since


def _if_range_holds(value: str, etag: str | None, modified: int | None) -> bool:
    """Whether the Range header stays in force under If-Range (absent If-Range: it does)."""
    value = value.strip()
    if not value:
        return True
    if value.startswith(('"', "W/")):
        tags = list(entity_tags(value))
        return len(tags) == 1 and etag is not None and _strong_equal(tags[0], etag)
    since = parse_http_date(value)
    return since is not None and modified is not None and since == modified


def _any_tag_matches(value: str, etag: str | None, *, strong: bool) -> bool:
    for tag in entity_tags(value):
        if tag == "*":
            return True
        if etag is not None and (_strong_equal(tag, etag) if strong else _weak_equal(tag, etag)):
            return True
    return False


def _strong_equal(a: str, b: str) -> bool:
    return a == b and not a.startswith("W/")


def _weak_equal(a: str, b: str) -> bool:
    return a.removeprefix("W/") == b.removeprefix("W/")


_ENTITY_TAG = re.compile(r'[ \t]*(\*|(?:W/)?"[\x21\x23-\x7e\x80-\uffff]*")[ \t]*(?:,|$)')
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")


def entity_tags(value: str) -> Iterator[str]:
    """The entity tags (or `*`) of a comma-separated list, up to the first malformed element."""
    position = 0
    while position < len(value):
        empty = _EMPTY_ELEMENT.match(value, position)
        if empty:
            position = empty.end()
            continue
        found = _ENTITY_TAG.match(value, position)
        if found is None:
            return
        yield found.group(1)
        position = found.end()


# --- dates -------------------------------------------------------------------------------

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_CLOCK = r"(\d\d):(\d\d):(\d\d)"
_IMF_FIXDATE = re.compile(rf"[A-Za-z]{{3}}, (\d\d) ([A-Za-z]{{3}}) (\d{{4}}) {_CLOCK} GMT")
_RFC850_DATE = re.compile(rf"[A-Za-z]{{6,9}}, (\d\d)-([A-Za-z]{{3}})-(\d\d) {_CLOCK} GMT")
_ASCTIME_DATE = re.compile(rf"[A-Za-z]{{3}} ([A-Za-z]{{3}}) ([ \d]\d) {_CLOCK} (\d{{4}})")


def parse_http_date(value: str) -> int | None:
    """POSIX seconds of an HTTP date (IMF-fixdate, RFC 850 or asctime form); None if it is not one."""
    value = value.strip()
    if found := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hour, minute, second = found.groups()
    elif found := _RFC850_DATE.fullmatch(value):
        day, month, short_year, hour, minute, second = found.groups()
        year = str(int(short_year) + (2000 if int(short_year) < 70 else 1900))
    elif found := _ASCTIME_DATE.fullmatch(value):
        month, day, hour, minute, second, year = found.groups()
    else:
        return None
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        moment = dt.datetime(int(year), number, int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    return calendar.timegm(moment.timetuple())


# --- ranges ------------------------------------------------------------------------------

_POSITION = re.compile(r"[0-9]+")


def parse_ranges(value: str, size: int) -> list[ByteRange]:
    """The byte ranges a Range header asks of a body of ``size`` bytes.

    [] means: serve the whole body (no header, another unit, an empty body, too many ranges,
    or ranges adding up to more than the body). RangeNotSatisfiable: a malformed `bytes=`
    set, or one overlapping nothing (416).
    """
    unit, equals, spec = value.partition("=")
    if not equals or unit.strip().lower() != "bytes" or size == 0:
        return []
    elements = [element.strip(" \t") for element in spec.split(",")]
    elements = [element for element in elements if element]
    if not elements:
        raise RangeNotSatisfiable("empty range set")
    if len(elements) > MAX_RANGES:
        return []
    ranges = [found for element in elements if (found := _one_range(element, size)) is not None]
    if not ranges:
        raise RangeNotSatisfiable("no range overlaps the body")
    if sum(found.length for found in ranges) > size:
        return []
    return ranges


def _one_range(element: str, size: int) -> ByteRange | None:
    """One `first-last`, `first-` or `-suffix` element; None when it lies beyond the body."""
    first, dash, last = element.partition("-")
    first, last = first.strip(" \t"), last.strip(" \t")
    if not dash or (first and not _POSITION.fullmatch(first)) or (last and not _POSITION.fullmatch(last)):
        raise RangeNotSatisfiable(f"malformed range {element!r}")
    if not first:
        if not last:
            raise RangeNotSatisfiable(f"malformed range {element!r}")
        count = _position(last)
        return ByteRange(size - min(count, size), min(count, size)) if count else None
    start = _position(first)
    if last and _position(last) < start:
        raise RangeNotSatisfiable(f"malformed range {element!r}")
    if start >= size:
        return None
    stop = min(_position(last), size - 1) if last else size - 1
    return ByteRange(start, stop - start + 1)


def _position(digits: str) -> int:
    try:
        return int(digits)
    except ValueError as exc:  # more digits than Python converts: no body is that large
        raise RangeNotSatisfiable("range position too large") from exc


# --- the response ------------------------------------------------------------------------


def _planned_length(piece: bytes | ByteRange) -> int:
    return len(piece) if isinstance(piece, bytes) else piece.length


class ContentShortError(RuntimeError):
    """The source gave fewer or more bytes than it announced (a file changed while being sent)."""


class ContentResponse(Response):
    """Sends fixed pieces and source ranges as one body of a declared Content-Length.

    The body is streamed while a watcher listens for the client's disconnect, which stops the
    stream; the source is closed in every case.
    """

    def __init__(self, source: ContentSource, status_code: int, headers: Mapping[str, str],
                 plan: list[bytes | ByteRange], *, send_body: bool = True) -> None:
        self.source = source
        self.status_code = status_code
        self.background = None
        self.body = b""
        # HEAD announces the length of the body it does not send.
        self._plan = plan if send_body else []
        fields = dict(headers)
        if status_code != 304:
            fields["content-length"] = str(sum(_planned_length(piece) for piece in plan))
        self.raw_headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fields.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            if self._plan:
                await self._stream_until_disconnect(receive, send)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if isinstance(self.source, Closable):
                self.source.close()

    async def _stream_until_disconnect(self, receive: Receive, send: Send) -> None:
        failure: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            try:
                await self._send_plan(send)
            except Exception as exc:  # re-raised below, outside the task group's exception group
                failure = exc
            group.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _send_plan(self, send: Send) -> None:
        for piece in self._plan:
            if isinstance(piece, bytes):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            else:
                await self._send_range(piece, send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_range(self, wanted: ByteRange, send: Send) -> None:
        chunks = self.source.read(wanted.start, wanted.end)
        sent = 0
        try:
            async for chunk in chunks:
                sent += len(chunk)
                if sent > wanted.length:
                    raise ContentShortError(f"source gave more than the {wanted.length} bytes asked")
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            closing = getattr(chunks, "aclose", None)
            if closing is not None:
                # Shielded: a source's cleanup (an upstream connection) must run even when cancelled.
                with anyio.CancelScope(shield=True):
                    await closing()
        if sent < wanted.length:
            raise ContentShortError(f"source ended after {sent} of {wanted.length} bytes")


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
