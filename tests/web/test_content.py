"""Byte ranges and conditional responses (memos.web.content) through a real Starlette app.

Every case runs for a body in memory (BytesSource) and a file on disk (FileSource); the large-file
cases (a 200 MB sparse file, aborted downloads, a big multi-range request) run against hypercorn on
127.0.0.1, where a client really goes away.
"""
from __future__ import annotations

import contextlib
import email.utils
import os
import random
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from support import serve_app_in_thread

from memos.server import _release_closed_connections
from memos.web.content import (
    CHUNK_SIZE,
    MAX_RANGES,
    BytesSource,
    ContentSource,
    FileSource,
    content_response,
    parse_http_date,
)

DATA = random.Random(8).randbytes(3 * CHUNK_SIZE + 1234)  # several chunks, the last one short
SIZE = len(DATA)
ETAG = '"v1-abc"'
MTIME = 1_700_000_000.75  # Tue, 14 Nov 2023 22:13:20 GMT, plus a fraction the header drops
MTIME_HTTP = "Tue, 14 Nov 2023 22:13:20 GMT"
TYPE = "application/pdf"
EXTRA = {"Cache-Control": "private, max-age=60", "Content-Disposition": 'inline; filename="a.pdf"'}
BIG = 200 * 1024 * 1024

proc_fd = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts descriptors in /proc")


def make_app(sources: dict[str, Callable[[], ContentSource]]) -> Starlette:
    async def serve(request: Request) -> Response:
        source = sources[request.path_params["name"]]()
        return content_response(source, request.headers, request.method, content_type=TYPE, headers=EXTRA)

    return Starlette(routes=[Route("/{name}", serve, methods=["GET", "HEAD", "POST"])])


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    os.utime(path, (MTIME, MTIME))
    return path


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    return path


@pytest.fixture
def client(data_file: Path, empty_file: Path) -> Iterator[TestClient]:
    sources: dict[str, Callable[[], ContentSource]] = {
        "bytes": lambda: BytesSource(DATA, etag=ETAG, last_modified=MTIME),
        "file": lambda: FileSource(data_file, etag=ETAG),
        "bare-bytes": lambda: BytesSource(DATA),
        "empty-bytes": lambda: BytesSource(b"", etag=ETAG, last_modified=MTIME),
        "empty-file": lambda: FileSource(empty_file, etag=ETAG),
    }
    with TestClient(make_app(sources)) as test_client:
        yield test_client


@pytest.fixture(params=["bytes", "file"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_descriptors_on(path: Path) -> int:
    """How many descriptors of this process point at ``path``."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{name}") == str(path)
    return count


def parse_multipart(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    """(headers, payload) of each part of a multipart/byteranges body, checked against its framing."""
    media_type, _, parameter = response.headers["content-type"].partition("; ")
    assert media_type == "multipart/byteranges" and parameter.startswith("boundary=")
    boundary = parameter.removeprefix("boundary=").encode()
    pieces = (b"\r\n" + response.content).split(b"\r\n--" + boundary)
    assert pieces[0] == b"" and pieces[-1] == b"--\r\n"
    parts = []
    for piece in pieces[1:-1]:
        assert piece.startswith(b"\r\n")
        head, _, payload = piece[2:].partition(b"\r\n\r\n")
        fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append(({name.lower(): value for name, value in fields.items()}, payload))
    return parts


# --- whole bodies --------------------------------------------------------------------------


def test_whole_body_with_validators_and_caller_headers(client: TestClient, kind: str) -> None:
    response = client.get(f"/{kind}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["content-type"] == TYPE
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == ETAG
    assert response.headers["last-modified"] == MTIME_HTTP
    assert response.headers["cache-control"] == EXTRA["Cache-Control"]
    assert response.headers["content-disposition"] == EXTRA["Content-Disposition"]


def test_head_has_the_get_headers_and_no_body(client: TestClient, kind: str) -> None:
    response = client.head(f"/{kind}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["etag"] == ETAG


def test_source_without_validators_sends_neither_header(client: TestClient) -> None:
    response = client.get("/bare-bytes", headers={"If-Modified-Since": MTIME_HTTP})
    assert response.status_code == 200 and response.content == DATA
    assert "etag" not in response.headers and "last-modified" not in response.headers


@pytest.mark.parametrize("wanted", [None, "bytes=0-", "bytes=-5", "bytes=3-4"])
def test_zero_byte_body_is_served_whole(client: TestClient, wanted: str | None) -> None:
    for name in ("empty-bytes", "empty-file"):
        response = client.get(f"/{name}", headers={"Range": wanted} if wanted else {})
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "0"


# --- single ranges -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "start", "end"),
    [
        ("bytes=0-4", 0, 5),
        ("bytes=0-0", 0, 1),
        ("bytes=-3", SIZE - 3, SIZE),
        ("bytes=-999999999", 0, SIZE),  # a suffix longer than the body is the whole body
        ("bytes=7-", 7, SIZE),
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE),
        ("bytes=7-99999999999999999999999", 7, SIZE),  # an end beyond the body stops at the body
        (f"bytes={CHUNK_SIZE - 2}-{2 * CHUNK_SIZE + 1}", CHUNK_SIZE - 2, 2 * CHUNK_SIZE + 2),
        ("  bytes=\t10 - 20 ", 10, 21),
        ("BYTES=10-20", 10, 21),
        ("bytes=10-20,", 10, 21),  # empty list elements are allowed
    ],
)
def test_one_range_is_a_206(client: TestClient, kind: str, wanted: str, start: int, end: int) -> None:
    response = client.get(f"/{kind}", headers={"Range": wanted})
    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["content-type"] == TYPE
    assert response.headers["etag"] == ETAG


def test_head_with_a_range_announces_the_part(client: TestClient, kind: str) -> None:
    response = client.head(f"/{kind}", headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["content-length"] == "10"
    assert response.headers["content-range"] == f"bytes 10-19/{SIZE}"


@pytest.mark.parametrize(
    "wanted",
    [
        f"bytes={SIZE}-",  # starts past the end
        f"bytes={SIZE}-{SIZE + 10},{SIZE + 100}-",
        "bytes=-0",
        "bytes=5-2",
        "bytes=abc",
        "bytes=1",
        "bytes=-",
        "bytes=",
        "bytes=,",
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=0x1-2",
        "bytes=--5",
        "bytes=0-1,abc",
        "bytes=" + "9" * 5000 + "-",
    ],
)
def test_unsatisfiable_or_malformed_range_is_416(client: TestClient, kind: str, wanted: str) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/{kind}", headers={"Range": wanted})
        assert response.status_code == 416
        assert response.headers["content-range"] == f"bytes */{SIZE}"
        if method == "GET":
            assert response.content.startswith(b"requested range not satisfiable")
            assert int(response.headers["content-length"]) == len(response.content)
        else:
            assert response.content == b""


@pytest.mark.parametrize(
    "wanted",
    [
        "pages=1-2",  # another unit: ignored
        "bytes 0-5",  # not a byte range set at all
        "bytes=0-,0-",  # more bytes than the body: ignored, as Go does
        f"bytes=0-{SIZE // 2},{SIZE // 2}-",
        "bytes=" + ",".join(f"{n}-{n}" for n in range(MAX_RANGES + 1)),  # too many ranges
        "bytes=" + ",".join("0-0" for _ in range(500)),  # the amplification attack
    ],
)
def test_ignored_range_serves_the_whole_body(client: TestClient, kind: str, wanted: str) -> None:
    response = client.get(f"/{kind}", headers={"Range": wanted})
    assert response.status_code == 200
    assert response.content == DATA
    assert "content-range" not in response.headers


# --- several ranges ------------------------------------------------------------------------


def test_several_ranges_are_multipart(client: TestClient, kind: str) -> None:
    response = client.get(f"/{kind}", headers={"Range": f"bytes=0-9, 20-29 ,-5,{SIZE + 9}-,{CHUNK_SIZE - 1}-"})
    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)
    expected = [(0, 10), (20, 30), (SIZE - 5, SIZE), (CHUNK_SIZE - 1, SIZE)]  # past-the-end dropped, order kept
    parts = parse_multipart(response)
    assert [payload for _, payload in parts] == [DATA[start:end] for start, end in expected]
    for (headers, _), (start, end) in zip(parts, expected, strict=True):
        assert headers == {"content-type": TYPE, "content-range": f"bytes {start}-{end - 1}/{SIZE}"}


def test_head_with_several_ranges_announces_the_exact_length(client: TestClient, kind: str) -> None:
    wanted = {"Range": "bytes=0-9,100-199"}
    full = client.get(f"/{kind}", headers=wanted)
    head = client.head(f"/{kind}", headers=wanted)
    assert head.status_code == 206 and head.content == b""
    assert head.headers["content-length"] == full.headers["content-length"] == str(len(full.content))


def test_as_many_ranges_as_allowed_are_served(client: TestClient, kind: str) -> None:
    wanted = "bytes=" + ",".join(f"{n * 100}-{n * 100 + 9}" for n in range(MAX_RANGES))
    response = client.get(f"/{kind}", headers={"Range": wanted})
    assert response.status_code == 206
    parts = parse_multipart(response)
    assert [payload for _, payload in parts] == [DATA[n * 100 : n * 100 + 10] for n in range(MAX_RANGES)]


# --- conditional requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"If-None-Match": ETAG},
        {"If-None-Match": f'"other", {ETAG}'},
        {"If-None-Match": f"W/{ETAG}"},  # If-None-Match compares weakly
        {"If-None-Match": "*"},
        {"If-Modified-Since": MTIME_HTTP},  # the fraction of a second does not count
        {"If-Modified-Since": "Wed, 15 Nov 2023 00:00:00 GMT"},
        {"If-Modified-Since": "Tuesday, 14-Nov-23 22:13:20 GMT"},  # RFC 850 form
        {"If-Modified-Since": "Tue Nov 14 22:13:20 2023"},  # asctime form
        {"If-None-Match": ETAG, "Range": "bytes=0-1"},
    ],
)
def test_not_modified(client: TestClient, kind: str, condition: dict[str, str]) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/{kind}", headers=condition)
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == ETAG
        assert response.headers["cache-control"] == EXTRA["Cache-Control"]
        for absent in ("content-type", "content-length", "last-modified", "content-range"):
            assert absent not in response.headers


def test_not_modified_without_etag_keeps_last_modified(data_file: Path) -> None:
    app = make_app({"plain": lambda: FileSource(data_file)})
    with TestClient(app) as client:
        response = client.get("/plain", headers={"If-Modified-Since": MTIME_HTTP})
    assert response.status_code == 304
    assert response.headers["last-modified"] == MTIME_HTTP
    assert "etag" not in response.headers


@pytest.mark.parametrize(
    "condition",
    [
        {"If-None-Match": '"other"'},
        {"If-None-Match": f'W/"{ETAG}x"'},
        {"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"},  # one second before
        {"If-Modified-Since": "yesterday"},  # not a date: ignored
        {"If-Modified-Since": "Tue, 31 Feb 2023 22:13:20 GMT"},
        {"If-None-Match": '"other"', "If-Modified-Since": MTIME_HTTP},  # If-None-Match decides
        {"If-Match": ETAG},
        {"If-Match": f'"other", {ETAG}'},
        {"If-Match": "*"},
        {"If-Unmodified-Since": MTIME_HTTP},
        {"If-Unmodified-Since": "not a date"},
        {"If-Match": ETAG, "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},  # If-Match decides
    ],
)
def test_conditions_that_let_the_body_through(client: TestClient, kind: str, condition: dict[str, str]) -> None:
    response = client.get(f"/{kind}", headers=condition)
    assert response.status_code == 200
    assert response.content == DATA


@pytest.mark.parametrize(
    "condition",
    [
        {"If-Match": '"other"'},
        {"If-Match": f"W/{ETAG}"},  # If-Match compares strongly
        {"If-Match": "garbage"},
        {"If-Unmodified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"},
        {"If-Match": '"other"', "Range": "bytes=0-1"},
    ],
)
def test_precondition_failed(client: TestClient, kind: str, condition: dict[str, str]) -> None:
    response = client.get(f"/{kind}", headers=condition)
    assert response.status_code == 412
    assert response.content == b""
    assert response.headers["etag"] == ETAG
    assert "content-range" not in response.headers


def test_if_none_match_on_other_methods_is_412(client: TestClient, kind: str) -> None:
    assert client.post(f"/{kind}", headers={"If-None-Match": ETAG}).status_code == 412
    # If-Modified-Since only concerns GET and HEAD.
    assert client.post(f"/{kind}", headers={"If-Modified-Since": MTIME_HTTP}).status_code == 200


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        ('"other"', 200),
        (f"W/{ETAG}", 200),  # If-Range compares strongly
        (MTIME_HTTP, 206),
        ("Tue, 14 Nov 2023 22:13:21 GMT", 200),  # only the exact date keeps the range
        ("garbage", 200),
    ],
)
def test_if_range(client: TestClient, kind: str, if_range: str, status: int) -> None:
    response = client.get(f"/{kind}", headers={"Range": "bytes=5-9", "If-Range": if_range})
    assert response.status_code == status
    assert response.content == (DATA[5:10] if status == 206 else DATA)


def test_http_dates() -> None:
    expected = 1_700_000_000
    assert parse_http_date(MTIME_HTTP) == expected
    assert parse_http_date(email.utils.formatdate(expected, usegmt=True)) == expected
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    for bad in ("", "1700000000", "Tue, 14 Nov 2023 22:13:20 CET", "Tue, 14 Nov 2023 25:13:20 GMT"):
        assert parse_http_date(bad) is None


# --- files and their descriptors -----------------------------------------------------------


@proc_fd
def test_every_kind_of_answer_closes_the_file(client: TestClient, data_file: Path) -> None:
    answers = [
        client.get("/file"),
        client.head("/file"),
        client.get("/file", headers={"Range": "bytes=1-2"}),
        client.get("/file", headers={"Range": "bytes=1-2,5-6"}),
        client.get("/file", headers={"Range": "bytes=999999-"}),
        client.get("/file", headers={"If-None-Match": ETAG}),
        client.get("/file", headers={"If-Match": '"other"'}),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 206, 206, 416, 304, 412]
    assert open_descriptors_on(data_file) == 0


def test_file_source_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        FileSource(tmp_path)
    with pytest.raises(FileNotFoundError):
        FileSource(tmp_path / "missing")


def test_file_source_reads_in_bounded_chunks(data_file: Path) -> None:
    async def chunks() -> list[bytes]:
        with FileSource(data_file) as source:
            return [chunk async for chunk in source.read(3, SIZE)]

    read = anyio.run(chunks)
    assert b"".join(read) == DATA[3:]
    assert max(len(chunk) for chunk in read) == CHUNK_SIZE


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """A 200 MB sparse file: zeros, with known bytes at its start, in its middle and at its end."""
    path = tmp_path / "big.bin"
    with path.open("wb") as file:
        file.truncate(BIG)
        for offset in (0, BIG // 2, BIG - len(DATA)):
            file.seek(offset)
            file.write(DATA)
    return path


def expected_bytes(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as file:
        file.seek(start)
        return file.read(end - start)


@pytest.fixture
def big_server(big_file: Path) -> Iterator[str]:
    # As memos.server runs hypercorn: a connection the client closed is released at once.
    _release_closed_connections()
    with serve_app_in_thread(make_app({"big": lambda: FileSource(big_file)})) as server:
        yield server.url


def test_range_near_the_end_of_a_200_mb_file(big_server: str) -> None:
    response = httpx.get(f"{big_server}/big", headers={"Range": f"bytes={BIG - 1000}-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {BIG - 1000}-{BIG - 1}/{BIG}"
    assert response.content == DATA[-1000:]


def test_a_200_mb_download_is_streamed(big_server: str, big_file: Path) -> None:
    received = 0
    tracemalloc.start()
    try:
        with httpx.stream("GET", f"{big_server}/big", timeout=60) as response:
            assert response.headers["content-length"] == str(BIG)
            for chunk in response.iter_raw():
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == BIG
    assert peak < 16 * 1024 * 1024  # server and client together hold a few chunks, never the file


def test_big_multi_range_request(big_server: str, big_file: Path) -> None:
    # As many ranges as allowed, each a few chunks long, spread over the file and out of order.
    spans = [(offset, offset + 3 * CHUNK_SIZE + 17) for offset in range(BIG - 4 * CHUNK_SIZE, 0, -(BIG // MAX_RANGES))]
    assert len(spans) == MAX_RANGES
    wanted = "bytes=" + ",".join(f"{start}-{end - 1}" for start, end in spans)
    response = httpx.get(f"{big_server}/big", headers={"Range": wanted}, timeout=60)
    assert response.status_code == 206
    assert int(response.headers["content-length"]) == len(response.content)
    parts = parse_multipart(response)
    for (headers, payload), (start, end) in zip(parts, spans, strict=True):
        assert headers["content-range"] == f"bytes {start}-{end - 1}/{BIG}"
        assert payload == expected_bytes(big_file, start, end)


@proc_fd
def test_aborted_downloads_leave_no_descriptor_open(big_server: str, big_file: Path) -> None:
    baseline = len(os.listdir("/proc/self/fd"))
    for _ in range(200):
        with httpx.Client() as client, client.stream("GET", f"{big_server}/big") as response:
            next(response.iter_raw())  # the download has begun; leaving the block hangs up
    # The server notices each hang-up on its own schedule: wait for it, then count.
    def settled() -> bool:
        return open_descriptors_on(big_file) == 0 and len(os.listdir("/proc/self/fd")) <= baseline

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not settled():
        time.sleep(0.05)
    assert open_descriptors_on(big_file) == 0
    assert len(os.listdir("/proc/self/fd")) <= baseline


# --- sources written elsewhere -------------------------------------------------------------


class CountingSource:
    """A source of another kind (as an S3 object would be): it only implements the protocol."""

    def __init__(self) -> None:
        self.size = SIZE
        self.etag: str | None = None
        self.last_modified: float | None = None
        self.finished_reads = 0

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            for offset in range(start, end, 1000):
                yield DATA[offset : min(offset + 1000, end)]
        finally:
            self.finished_reads += 1


def test_any_source_of_the_protocol_is_served_and_its_reads_are_closed() -> None:
    source = CountingSource()
    with TestClient(make_app({"other": lambda: source})) as client:
        response = client.get("/other", headers={"Range": "bytes=0-9,2000-2999"})
    assert response.status_code == 206
    assert [payload for _, payload in parse_multipart(response)] == [DATA[:10], DATA[2000:3000]]
    assert source.finished_reads == 2
