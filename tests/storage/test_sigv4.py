"""Our SigV4 signatures and presigned URLs are the ones botocore (AWS's own signer) makes for the same request."""
from __future__ import annotations

import datetime
import hashlib
import urllib.parse

import botocore.auth
import botocore.config
import botocore.credentials
import pytest
from botocore.awsrequest import AWSRequest
from botocore.utils import percent_encode

from memos.storage import sigv4

NOW = datetime.datetime(2026, 3, 14, 15, 9, 26, tzinfo=datetime.UTC)
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-central-1"
HOST = "127.0.0.1:9000"

KEYS = [
    "plain.txt",
    "assets/1700000000_a1b2_photo of me.jpg",
    "ünïcødé/日本語 ファイル.png",
    "a+b=c&d.txt",
    "tilde~and-dash_dot.txt",
    "brackets (1) [2] {3} !*'.txt",
    "deep/er/and//double/slash/",
    "percent%20already.txt",
]


@pytest.fixture(autouse=True)
def fixed_botocore_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads the clock itself; give it the time we sign at (it wants naive UTC)."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


def _credentials(region: str = REGION) -> sigv4.Credentials:
    return sigv4.Credentials(KEY_ID, SECRET, region)


def _botocore_path(path: str) -> str:
    # How botocore's request serializer puts an S3 bucket and key into the URL.
    return percent_encode(path, safe="/~")


def _botocore_authorization(
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes,
    *, sign_payload: bool = True,
) -> AWSRequest:
    request = AWSRequest(
        method=method, url=f"http://{HOST}{_botocore_path(path)}", params=query, headers=headers, data=body
    )
    request.context["client_config"] = botocore.config.Config(s3={"payload_signing_enabled": sign_payload})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "s3", REGION).add_auth(request)
    return request


@pytest.mark.parametrize("key", KEYS)
def test_an_object_request_is_signed_as_botocore_signs_it(key: str) -> None:
    body = b"\x00binary\xff" * 100
    path = f"/bucket/{key}"
    ours = sigv4.signed_headers(
        _credentials(), "PUT", path, (), {"host": HOST, "Content-Type": "image/png"},
        hashlib.sha256(body).hexdigest(), NOW,
    )
    theirs = _botocore_authorization("PUT", path, [], {"Content-Type": "image/png"}, body)
    assert ours["authorization"] == theirs.headers["Authorization"]
    assert ours["x-amz-date"] == theirs.headers["X-Amz-Date"] == "20260314T150926Z"
    assert ours["x-amz-content-sha256"] == theirs.headers["X-Amz-Content-SHA256"]
    assert sigv4.canonical_uri(path) == urllib.parse.urlsplit(theirs.url).path


def test_an_empty_body_and_empty_query_sign_alike() -> None:
    ours = sigv4.signed_headers(_credentials(), "get", "/bucket/k", (), {"Host": HOST}, sigv4.EMPTY_PAYLOAD_SHA256, NOW)
    theirs = _botocore_authorization("GET", "/bucket/k", [], {}, b"")
    assert ours["authorization"] == theirs.headers["Authorization"]
    assert ours["x-amz-content-sha256"] == sigv4.EMPTY_PAYLOAD_SHA256


def test_query_parameters_are_sorted_and_encoded_alike() -> None:
    query = [("prefix", "a b/ü+"), ("list-type", "2"), ("delimiter", "/"), ("uploads", ""), ("max-keys", "10")]
    empty = sigv4.EMPTY_PAYLOAD_SHA256
    ours = sigv4.signed_headers(_credentials(), "GET", "/bucket", query, {"host": HOST}, empty, NOW)
    theirs = _botocore_authorization("GET", "/bucket", query, {}, b"")
    assert ours["authorization"] == theirs.headers["Authorization"]
    assert sigv4.canonical_query(query).startswith("delimiter=%2F&list-type=2&max-keys=10&prefix=a%20b%2F%C3%BC%2B")


def test_many_headers_with_mixed_case_and_loose_spacing_sign_alike() -> None:
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Amz-Meta-Title": "  two   spaces  inside  ",
        "x-amz-meta-author": "Zoë",
        "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        "Cache-Control": "no-cache",
        "x-amz-acl": "private",
    }
    ours = sigv4.signed_headers(
        _credentials(), "PUT", "/bucket/k", (), {"host": HOST, **headers}, hashlib.sha256(b"x").hexdigest(), NOW
    )
    theirs = _botocore_authorization("PUT", "/bucket/k", [], headers, b"x")
    assert ours["authorization"] == theirs.headers["Authorization"]
    assert "SignedHeaders=cache-control;content-md5;content-type;host;x-amz-acl;" in ours["authorization"]


def test_an_unsigned_payload_is_signed_as_that_constant() -> None:
    ours = sigv4.signed_headers(_credentials(), "PUT", "/bucket/k", (), {"host": HOST}, sigv4.UNSIGNED_PAYLOAD, NOW)
    theirs = _botocore_authorization("PUT", "/bucket/k", [], {}, b"x", sign_payload=False)
    assert theirs.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert ours["authorization"] == theirs.headers["Authorization"]


def _botocore_presigned(url: str, expires: int, region: str = REGION) -> str:
    request = AWSRequest(method="GET", url=url)
    credentials = botocore.credentials.Credentials(KEY_ID, SECRET)
    botocore.auth.S3SigV4QueryAuth(credentials, "s3", region, expires=expires).add_auth(request)
    return str(request.url)


@pytest.mark.parametrize("key", KEYS)
def test_a_presigned_url_is_the_one_botocore_makes(key: str) -> None:
    path = f"/bucket/{key}"
    base = f"https://{HOST}{sigv4.canonical_uri(path)}"
    ours = f"{base}?{sigv4.presigned_query(_credentials(), 'GET', path, HOST, 432000, NOW)}"
    assert ours == _botocore_presigned(f"https://{HOST}{_botocore_path(path)}", 432000)


def test_a_presigned_url_for_a_virtual_hosted_bucket_and_default_region() -> None:
    host = "my-bucket.s3.us-east-1.amazonaws.com"
    query_string = sigv4.presigned_query(_credentials("us-east-1"), "GET", "/a b.txt", host, 60, NOW)
    ours = f"https://{host}/a%20b.txt?{query_string}"
    assert ours == _botocore_presigned(f"https://{host}/a%20b.txt", 60, region="us-east-1")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(ours).query))
    assert query["X-Amz-Credential"] == f"{KEY_ID}/20260314/us-east-1/s3/aws4_request"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Date"] == "20260314T150926Z"


@pytest.mark.parametrize("expires", [0, -1, sigv4.MAX_PRESIGN_SECONDS + 1])
def test_a_presigned_url_lives_at_most_seven_days(expires: int) -> None:
    with pytest.raises(ValueError, match="604800"):
        sigv4.presigned_query(_credentials(), "GET", "/b/k", HOST, expires, NOW)


def test_seven_days_exactly_is_allowed() -> None:
    assert "X-Amz-Expires=604800&" in sigv4.presigned_query(_credentials(), "GET", "/b/k", HOST, 604800, NOW)


def test_the_signing_time_is_taken_in_utc_and_must_carry_a_zone() -> None:
    paris = NOW.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert sigv4.amz_timestamp(paris) == "20260314T150926Z"
    with pytest.raises(ValueError, match="time zone"):
        sigv4.amz_timestamp(NOW.replace(tzinfo=None))


def test_a_request_without_a_host_header_is_refused() -> None:
    with pytest.raises(ValueError, match="host"):
        sigv4.signed_headers(_credentials(), "GET", "/b/k", (), {}, sigv4.EMPTY_PAYLOAD_SHA256, NOW)


def test_the_secret_is_not_in_the_credentials_repr() -> None:
    assert SECRET not in repr(_credentials())
