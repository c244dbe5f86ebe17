"""The S3 client against a real S3-compatible server (moto's, as its own process on 127.0.0.1)."""
from __future__ import annotations

import datetime
import http.server
import random
import ssl
import subprocess
import sys
import threading
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import trustme
from storage.s3_server import running_moto
from support import free_port

from memos.gen.store.instance_setting_pb2 import StorageS3Config
from memos.storage.s3 import CHUNK_SIZE, S3Client, S3Clients, S3Error

NOW = datetime.datetime(2026, 3, 14, 15, 9, 26, tzinfo=datetime.UTC)
AWKWARD_KEYS = ["a b/c+d~e.txt", "ünïcødé/日本語 (1)!*'.png", "x//y/z", "percent%2Fstays.txt", "q?u#e&r=y.txt"]


def _copy(config: StorageS3Config, **changes: object) -> StorageS3Config:
    copy = StorageS3Config()
    copy.CopyFrom(config)
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def _unique(name: str) -> str:
    return f"test-s3/{uuid.uuid4().hex}/{name}"


@pytest.fixture
async def client(s3_config: StorageS3Config) -> AsyncIterator[S3Client]:
    opened = S3Client(s3_config)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture(scope="module")
def verifying_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageS3Config]:
    """A second moto server that checks every request's signature against the IAM key it issued."""
    with running_moto(tmp_path_factory.mktemp("moto-verifying"), verify_signatures=True) as config:
        yield config


async def _read_all(client: S3Client, key: str) -> tuple[int | None, str, list[bytes]]:
    async with await client.open_object(key) as stored:
        return stored.size, stored.content_type, [chunk async for chunk in stored]


@pytest.mark.anyio
async def test_binary_data_of_several_megabytes_round_trips_streamed_in_chunks(client: S3Client) -> None:
    content = random.Random(8).randbytes(5 * 1024 * 1024 + 123)
    key = _unique("blob.bin")
    await client.put_object(key, content, "application/x-test-binary")
    size, content_type, chunks = await _read_all(client, key)
    assert size == len(content)
    assert content_type == "application/x-test-binary"
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK_SIZE
    assert b"".join(chunks) == content


@pytest.mark.anyio
@pytest.mark.parametrize(("given", "kept"), [("image/png", "image/png"), ("", "application/octet-stream")])
async def test_the_content_type_is_kept(client: S3Client, given: str, kept: str) -> None:
    key = _unique("typed")
    await client.put_object(key, b"\x89PNG", given)
    assert (await _read_all(client, key))[:2] == (4, kept)


@pytest.mark.anyio
async def test_a_deleted_object_is_gone_and_deleting_again_is_fine(client: S3Client) -> None:
    key = _unique("doomed.txt")
    await client.put_object(key, b"bye", "text/plain")
    await client.delete_object(key)
    with pytest.raises(S3Error) as failure:
        await client.open_object(key)
    assert failure.value.status == 404
    await client.delete_object(key)


@pytest.mark.anyio
async def test_an_unknown_key_is_a_404_naming_the_key(client: S3Client) -> None:
    with pytest.raises(S3Error) as failure:
        await client.open_object("never/written.txt")
    assert failure.value.status == 404
    assert "NoSuchKey" in failure.value.message and "never/written.txt" in failure.value.message


@pytest.mark.anyio
async def test_a_missing_bucket_is_an_s3_error_with_its_status(s3_config: StorageS3Config) -> None:
    missing = S3Client(_copy(s3_config, bucket="no-such-bucket"))
    try:
        with pytest.raises(S3Error) as failure:
            await missing.put_object("k.txt", b"x", "text/plain")
    finally:
        await missing.aclose()
    assert failure.value.status == 404
    assert "NoSuchBucket" in failure.value.message


@pytest.mark.anyio
async def test_a_presigned_url_is_fetchable_with_plain_httpx(client: S3Client) -> None:
    key = _unique("shared photo ü.jpg")
    await client.put_object(key, b"jpeg bytes", "image/jpeg")
    url = client.presign_get(key, 5 * 24 * 3600, datetime.datetime.now(datetime.UTC))
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"jpeg bytes"
    assert response.headers["content-type"] == "image/jpeg"
    # moto checks neither the signature nor the expiry of a presigned URL; test_sigv4 holds both to botocore's.


@pytest.mark.anyio
async def test_an_object_abandoned_mid_stream_is_closed_and_the_client_goes_on(client: S3Client) -> None:
    key = _unique("long.bin")
    content = bytes(range(256)) * 4096
    await client.put_object(key, content, "application/octet-stream")
    for _ in range(3):
        async with await client.open_object(key) as stored:
            async for _chunk in stored:
                break
    stored = await client.open_object(key)
    await stored.aclose()
    assert b"".join((await _read_all(client, key))[2]) == content


@pytest.mark.anyio
@pytest.mark.parametrize("key", AWKWARD_KEYS)
async def test_a_server_that_checks_signatures_accepts_ours(verifying_config: StorageS3Config, key: str) -> None:
    client = S3Client(verifying_config)
    try:
        await client.put_object(key, b"signed", "text/plain")
        assert (await _read_all(client, key))[2] == [b"signed"]
        await client.delete_object(key)
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_a_wrong_secret_is_refused_and_never_repeated(verifying_config: StorageS3Config) -> None:
    secret = "Wrong+Secret/NeverShown0123456789abcdef"
    client = S3Client(_copy(verifying_config, access_key_secret=secret))
    try:
        with pytest.raises(S3Error) as failure:
            await client.put_object("k.txt", b"x", "text/plain")
    finally:
        await client.aclose()
    assert failure.value.status == 403
    assert "SignatureDoesNotMatch" in failure.value.message
    assert secret not in str(failure.value) and secret not in repr(failure.value)


@pytest.mark.anyio
async def test_an_unreachable_endpoint_is_an_s3_error_without_the_secret(s3_config: StorageS3Config) -> None:
    secret = "Unreachable+Secret/0123456789"
    client = S3Client(_copy(s3_config, endpoint=f"http://127.0.0.1:{free_port()}", access_key_secret=secret))
    try:
        with pytest.raises(S3Error) as failure:
            await client.open_object("k.txt")
    finally:
        await client.aclose()
    assert failure.value.status == 0
    assert secret not in str(failure.value)


def _config(**fields: object) -> StorageS3Config:
    defaults: dict[str, object] = {"access_key_id": "AKID", "access_key_secret": "s3cr3t", "bucket": "photos"}
    return StorageS3Config(**{**defaults, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        ({"endpoint": "minio.example:9000"}, "https://photos.minio.example:9000/a%20b/c.jpg"),
        ({"endpoint": "http://minio.example:9000/"}, "http://photos.minio.example:9000/a%20b/c.jpg"),
        ({"endpoint": "https://minio.example:443"}, "https://photos.minio.example/a%20b/c.jpg"),
        ({"endpoint": "", "region": "eu-west-3"}, "https://photos.s3.eu-west-3.amazonaws.com/a%20b/c.jpg"),
        ({"endpoint": ""}, "https://photos.s3.us-east-1.amazonaws.com/a%20b/c.jpg"),
        ({"endpoint": "minio.example:9000", "use_path_style": True}, "https://minio.example:9000/photos/a%20b/c.jpg"),
        ({"endpoint": "http://h/prefix", "use_path_style": True}, "http://h/prefix/photos/a%20b/c.jpg"),
    ],
)
def test_addressing_virtual_hosted_and_path_style(fields: dict[str, object], url: str) -> None:
    assert S3Client(_config(**fields)).address("a b/c.jpg").url == url


def test_a_presigned_url_names_the_region_defaulting_to_us_east_1() -> None:
    url = S3Client(_config(endpoint="minio.example")).presign_get("k.txt", 60, NOW)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("https://photos.minio.example/k.txt?")
    assert query["X-Amz-Credential"] == "AKID/20260314/us-east-1/s3/aws4_request"
    assert query["X-Amz-Expires"] == "60"
    assert "s3cr3t" not in url


def test_a_presigned_url_lives_at_most_seven_days() -> None:
    with pytest.raises(S3Error, match="604800"):
        S3Client(_config(endpoint="minio.example")).presign_get("k.txt", 604801, NOW)


@pytest.mark.parametrize("endpoint", ["ftp://host", "https://", "user:pw@host", "host:port", "https://h/?q=1"])
def test_an_endpoint_that_is_not_an_http_host_is_refused(endpoint: str) -> None:
    with pytest.raises(S3Error, match="endpoint") as failure:
        S3Client(_config(endpoint=endpoint))
    assert failure.value.status == 0


def test_a_config_without_a_bucket_is_refused() -> None:
    with pytest.raises(S3Error, match="bucket"):
        S3Client(_config(bucket=" "))


@pytest.mark.parametrize("key", ["", "a/../b", "./a", "a/."])
def test_a_key_an_http_client_would_rewrite_is_refused(key: str) -> None:
    with pytest.raises(S3Error) as failure:
        S3Client(_config(endpoint="h")).address(key)
    assert failure.value.status == 0


@pytest.mark.anyio
async def test_one_client_per_distinct_config() -> None:
    clients = S3Clients()
    first = clients.get(_config(endpoint="h"))
    assert clients.get(_config(endpoint="h")) is first
    assert clients.get(_config(endpoint="h", bucket="other")) is not first
    await clients.aclose()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server with a certificate no system trusts, answering every PUT with 200."""

    class Accepting(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Accepting)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.anyio
@pytest.mark.parametrize("skip_verify", [False, True])
async def test_tls_verification_is_skipped_only_when_asked(tls_server: str, skip_verify: bool) -> None:
    client = S3Client(_config(endpoint=tls_server, use_path_style=True, insecure_skip_tls_verify=skip_verify))
    try:
        if skip_verify:
            await client.put_object("k.txt", b"x", "text/plain")
        else:
            with pytest.raises(S3Error, match="CERTIFICATE_VERIFY_FAILED") as failure:
                await client.put_object("k.txt", b"x", "text/plain")
            assert failure.value.status == 0
    finally:
        await client.aclose()


def test_importing_the_app_does_not_import_the_s3_client() -> None:
    probe = "import sys, memos.app; print(sorted(m for m in sys.modules if m.startswith('memos.storage.')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "memos.storage.s3" not in loaded and "memos.storage.sigv4" not in loaded
