"""AWS Signature Version 4, as S3 checks it: pure functions over strings, bytes and a time.

Signing is a handful of HMAC-SHA256 steps over a canonical form of the request; the
standard library does it, so S3 support needs no SDK. Every function takes the time as
a parameter so signatures are reproducible. Paths are given decoded (``/bucket/my key``)
and encoded here, segment by segment, the way S3 expects: S3 never normalises a path,
so ``.``/``..`` segments and repeated slashes are signed as they are.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterable, Mapping

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
# S3 refuses presigned URLs meant to live longer than seven days.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

Query = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Who signs, and for which region and service (``s3``; ``iam`` and others sign the same way)."""

    access_key_id: str
    secret_access_key: str = dataclasses.field(repr=False)
    region: str
    service: str = "s3"


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """Percent-encode UTF-8 bytes of ``text``, keeping only RFC 3986 unreserved characters (and '/' if asked)."""
    return urllib.parse.quote(text, safe="/~" if keep_slash else "~")


def canonical_uri(path: str) -> str:
    """The encoded form of a decoded path; every segment is encoded, the slashes between them kept."""
    return uri_encode(path or "/", keep_slash=True)


def canonical_query(query: Query) -> str:
    """Encoded ``name=value`` pairs sorted by encoded name, then value; an empty query gives ``""``."""
    pairs = query.items() if isinstance(query, Mapping) else query
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """(one ``name:value`` line per header, ``;``-joined names): names lower-cased and sorted,
    values trimmed with inner runs of whitespace collapsed to one space."""
    lines = sorted((name.strip().lower(), " ".join(value.split())) for name, value in headers.items())
    block = "".join(f"{name}:{value}\n" for name, value in lines)
    return block, ";".join(name for name, _ in lines)


def canonical_request(method: str, path: str, query: Query, headers: Mapping[str, str], payload_hash: str) -> str:
    """The request in canonical form; ``payload_hash`` is the body's hex SHA-256 or ``UNSIGNED-PAYLOAD``."""
    block, signed = canonical_headers(headers)
    return "\n".join([method.upper(), canonical_uri(path), canonical_query(query), block, signed, payload_hash])


def amz_timestamp(now: datetime.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` in UTC; a naive time is refused, since guessing its zone would sign the wrong hour."""
    if now.tzinfo is None:
        raise ValueError("signing time must carry a time zone")
    return now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def credential_scope(timestamp: str, credentials: Credentials) -> str:
    return f"{timestamp[:8]}/{credentials.region}/{credentials.service}/aws4_request"


def string_to_sign(timestamp: str, scope: str, request: str) -> str:
    digest = hashlib.sha256(request.encode()).hexdigest()
    return "\n".join([ALGORITHM, timestamp, scope, digest])


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The key for one day, region and service, derived from the secret by chained HMACs."""
    key = f"AWS4{secret_access_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(credentials: Credentials, timestamp: str, request: str) -> str:
    key = signing_key(credentials.secret_access_key, timestamp[:8], credentials.region, credentials.service)
    message = string_to_sign(timestamp, credential_scope(timestamp, credentials), request)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    credentials: Credentials,
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    payload_hash: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """``headers`` (which must hold ``host``) plus ``x-amz-date``, ``x-amz-content-sha256`` and
    ``Authorization``: everything the request must carry, all of it signed but Authorization."""
    timestamp = amz_timestamp(now)
    headers = {name.lower(): value for name, value in headers.items()}
    if "host" not in headers:
        raise ValueError("the host header must be signed")
    headers["x-amz-date"] = timestamp
    headers["x-amz-content-sha256"] = payload_hash
    request = canonical_request(method, path, query, headers, payload_hash)
    _, names = canonical_headers(headers)
    headers["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{credential_scope(timestamp, credentials)}, "
        f"SignedHeaders={names}, Signature={signature(credentials, timestamp, request)}"
    )
    return headers


def presigned_query(
    credentials: Credentials,
    method: str,
    path: str,
    host: str,
    expires_seconds: int,
    now: datetime.datetime,
    query: Query = (),
) -> str:
    """The encoded query string that lets anyone holding it make this one request until it expires.

    Only ``host`` is signed and the payload is ``UNSIGNED-PAYLOAD``, so the URL works from any client.
    """
    if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"a presigned URL lives 1 to {MAX_PRESIGN_SECONDS} seconds, not {expires_seconds}")
    timestamp = amz_timestamp(now)
    pairs = list(query.items() if isinstance(query, Mapping) else query)
    pairs += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key_id}/{credential_scope(timestamp, credentials)}"),
        ("X-Amz-Date", timestamp),
        ("X-Amz-Expires", str(expires_seconds)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    request = canonical_request(method, path, pairs, {"host": host}, UNSIGNED_PAYLOAD)
    return f"{canonical_query(pairs)}&X-Amz-Signature={signature(credentials, timestamp, request)}"
