"""Attachment objects in an S3-compatible store: put, stream, delete, presign.

Four operations are all memos needs, so requests are signed by ``memos.storage.sigv4``
and sent with httpx rather than through an SDK. This module is imported only when an
S3 attachment is written or read (memos.app must not import it).

A config is the ``StorageS3Config`` of the instance setting or the copy kept in an
attachment's payload; ``S3Clients`` keeps one connection pool per distinct config.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from types import TracebackType

import httpx

from memos.gen.store import instance_setting_pb2
from memos.storage import sigv4

DEFAULT_REGION = "us-east-1"
CHUNK_SIZE = 64 * 1024
# An S3 error document is a few hundred bytes; read no more of one than this.
ERROR_BODY_LIMIT = 16 * 1024
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class S3Error(Exception):
    """An S3 request that failed. ``status`` is the HTTP status of the store's answer,
    or 0 when none came (bad config, connection, TLS or timeout). The message never
    holds the secret key."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclasses.dataclass(frozen=True)
class Address:
    """Where the requests for one object go: the URL scheme, the Host header and the decoded path."""

    scheme: str
    host: str
    path: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{sigv4.canonical_uri(self.path)}"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    base_path: str


def parse_endpoint(endpoint: str, region: str) -> Endpoint:
    """The configured endpoint, with or without a scheme (https when none); AWS's regional one when empty."""
    text = endpoint.strip() or f"s3.{region}.amazonaws.com"
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 -- only to refuse a port that is not a number
    except ValueError:
        raise S3Error(f"S3 endpoint {endpoint!r} is not an http(s) host", 0) from None
    plain_host = bool(parts.hostname) and "@" not in parts.netloc and not parts.query and not parts.fragment
    if parts.scheme not in ("http", "https") or not plain_host:
        raise S3Error(f"S3 endpoint {endpoint!r} is not an http(s) host", 0)
    host = parts.netloc
    # Clients leave a default port out of the Host header they send; the signed host must match it.
    default_port = ":443" if parts.scheme == "https" else ":80"
    if host.endswith(default_port):
        host = host.removesuffix(default_port)
    return Endpoint(parts.scheme, host, urllib.parse.unquote(parts.path.rstrip("/")))


class S3Object:
    """An object being read: its size and type known, its bytes streamed on iteration.

    Iterate it once (``async for chunk in obj``); the response is closed when iteration
    ends, fails or is cancelled, and by ``aclose()`` (idempotent) when it is abandoned —
    e.g. ``StreamingResponse(obj, background=BackgroundTask(obj.aclose))``. ``async with``
    closes it too.
    """

    def __init__(self, response: httpx.Response, size: int | None, content_type: str) -> None:
        self._response = response
        self.size = size
        self.content_type = content_type

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            # Raw bytes: exactly what was stored (Content-Length counts them), never decompressed here.
            async for chunk in self._response.aiter_raw(CHUNK_SIZE):
                yield chunk
        except httpx.HTTPError as exc:
            raise S3Error(f"S3 read broke off: {type(exc).__name__}", 0) from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> S3Object:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class S3Client:
    """One bucket of one S3-compatible store, with its own connection pool (close it with ``aclose``)."""

    def __init__(self, config: instance_setting_pb2.StorageS3Config) -> None:
        self._region = config.region.strip() or DEFAULT_REGION
        self._bucket = config.bucket.strip()
        self._path_style = config.use_path_style
        self._endpoint = parse_endpoint(config.endpoint, self._region)
        self._credentials = sigv4.Credentials(config.access_key_id, config.access_key_secret, self._region)
        if not self._bucket:
            raise S3Error("S3 bucket is not set", 0)
        self._http = httpx.AsyncClient(verify=not config.insecure_skip_tls_verify, timeout=TIMEOUT)

    def address(self, key: str) -> Address:
        """Path style: ``endpoint/bucket/key``; virtual-hosted: ``bucket.endpoint/key``."""
        if not key:
            raise S3Error("S3 object key is empty", 0)
        if any(segment in (".", "..") for segment in key.split("/")):
            # HTTP clients (httpx, browsers) resolve dot segments, so the path sent would not be the one signed.
            raise S3Error(f"S3 object key {key!r} has a '.' or '..' segment", 0)
        base = self._endpoint.base_path
        if self._path_style:
            return Address(self._endpoint.scheme, self._endpoint.host, f"{base}/{self._bucket}/{key}")
        return Address(self._endpoint.scheme, f"{self._bucket}.{self._endpoint.host}", f"{base}/{key}")

    async def put_object(self, key: str, content: bytes, content_type: str) -> None:
        headers = {"content-type": content_type or "application/octet-stream"}
        response = await self._send("PUT", key, headers, content)
        await self._check(response, "PUT", key)
        await _finish(response)

    async def open_object(self, key: str) -> S3Object:
        """The object's size, type and a stream of its bytes; raises ``S3Error`` (404 when the key is unknown)."""
        response = await self._send("GET", key, {}, b"")
        await self._check(response, "GET", key)
        length = response.headers.get("content-length", "")
        size = int(length) if length.isdigit() else None
        content_type = response.headers.get("content-type", "application/octet-stream")
        return S3Object(response, size, content_type)

    async def delete_object(self, key: str) -> None:
        """Remove the object; S3 answers a missing key with success too."""
        response = await self._send("DELETE", key, {}, b"")
        await self._check(response, "DELETE", key)
        await _finish(response)

    def presign_get(self, key: str, expires_seconds: int, now: datetime.datetime) -> str:
        """A URL anyone can GET the object with until ``now + expires_seconds`` (at most 7 days)."""
        address = self.address(key)
        try:
            query = sigv4.presigned_query(self._credentials, "GET", address.path, address.host, expires_seconds, now)
        except ValueError as exc:
            raise S3Error(str(exc), 0) from None
        return f"{address.url}?{query}"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, method: str, key: str, headers: Mapping[str, str], body: bytes) -> httpx.Response:
        """The signed request's response, its body not yet read: the caller reads or closes it."""
        address = self.address(key)
        payload_hash = hashlib.sha256(body).hexdigest()
        now = datetime.datetime.now(datetime.UTC)
        signed = sigv4.signed_headers(
            self._credentials, method, address.path, (), {**headers, "host": address.host}, payload_hash, now
        )
        request = self._http.build_request(method, address.url, headers=signed, content=body or None)
        try:
            return await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise S3Error(self._scrub(f"S3 {method} {key!r}: no answer from {address.host} ({exc})"), 0) from None

    async def _check(self, response: httpx.Response, method: str, key: str) -> None:
        """Raise ``S3Error`` for a failure answer (closing it); a success is left open for the caller."""
        if response.is_success:
            return
        try:
            body = await _read_limited(response, ERROR_BODY_LIMIT)
        finally:
            await response.aclose()
        detail = _error_detail(body) or response.reason_phrase
        raise S3Error(self._scrub(f"S3 {method} {key!r} failed: {response.status_code} {detail}"), response.status_code)

    def _scrub(self, message: str) -> str:
        secret = self._credentials.secret_access_key
        return message.replace(secret, "[secret]") if secret else message


class S3Clients:
    """One ``S3Client`` per distinct config, so requests with the same config share connections."""

    def __init__(self) -> None:
        self._clients: dict[bytes, S3Client] = {}

    def get(self, config: instance_setting_pb2.StorageS3Config) -> S3Client:
        identity = config.SerializeToString(deterministic=True)
        client = self._clients.get(identity)
        if client is None:
            client = self._clients[identity] = S3Client(config)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


async def _finish(response: httpx.Response) -> None:
    """Drain a small success answer before closing it, so its connection can serve the next request."""
    try:
        await _read_limited(response, ERROR_BODY_LIMIT)
    finally:
        await response.aclose()


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    body = b""
    try:
        async for chunk in response.aiter_raw(4096):
            body += chunk
            if len(body) >= limit:
                break
    except httpx.HTTPError:
        pass  # the status already says what failed; a truncated error body only loses detail
    return body[:limit]


_ERROR_FIELD = re.compile(rb"<(Code|Message)>([^<]{0,500})</\1>")


def _error_detail(body: bytes) -> str:
    """``Code: Message`` from an S3 XML error document, read with a pattern rather than an XML parser
    since the body comes from a server we do not control."""
    fields: dict[bytes, str] = {}
    for name, value in _ERROR_FIELD.findall(body):
        fields.setdefault(name, value.decode(errors="replace").strip())
    return ": ".join(text for text in (fields.get(b"Code"), fields.get(b"Message")) if text)
