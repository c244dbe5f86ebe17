"""A real S3-compatible server for the tests: moto's, as its own process on 127.0.0.1.

``running_moto`` starts it, creates a bucket with requests signed by memos.storage.sigv4
and yields a path-style ``StorageS3Config`` for it. By default the server takes any
credentials (as moto does), which keeps presigned URLs usable: moto does not check those.
With ``verify_signatures=True`` it is switched to checking every request's signature
against an IAM key it issued, so a wrong signature or secret is refused as S3 would.
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator

import httpx
from support import free_port, stop_process, wait_until_answering

from memos.gen.store.instance_setting_pb2 import StorageS3Config
from memos.storage import sigv4
from memos.storage.s3 import DEFAULT_REGION, parse_endpoint

BUCKET = "memos-test"
# Any key pair works while moto does not check signatures.
ACCESS_KEY_ID = "memos-test-access-key"
ACCESS_KEY_SECRET = "memos-test-secret-Zq7uX2vB"
STARTUP_SECONDS = 60.0


@contextlib.contextmanager
def running_moto(log_dir: pathlib.Path, *, verify_signatures: bool = False) -> Iterator[StorageS3Config]:
    """A moto server process with the bucket ``BUCKET``; its config is yielded, the process stopped after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / f"moto-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            wait_until_answering(f"{url}/moto-api/data.json", process, STARTUP_SECONDS, log=log_path)
            key_id, secret = _iam_key(url) if verify_signatures else (ACCESS_KEY_ID, ACCESS_KEY_SECRET)
            config = StorageS3Config(
                access_key_id=key_id, access_key_secret=secret, endpoint=url,
                region=DEFAULT_REGION, bucket=BUCKET, use_path_style=True,
            )
            create_bucket(config)
            if verify_signatures:
                _post(url, "/moto-api/reset-auth", b"0", {})
            yield config
        finally:
            stop_process(process, timeout=10)


def create_bucket(config: StorageS3Config) -> None:
    """PUT a bucket named ``config.bucket`` (path style), signed with our sigv4."""
    endpoint = parse_endpoint(config.endpoint, config.region)
    path = f"{endpoint.base_path}/{config.bucket}"
    credentials = sigv4.Credentials(config.access_key_id, config.access_key_secret, config.region)
    headers = sigv4.signed_headers(
        credentials, "PUT", path, (), {"host": endpoint.host}, sigv4.EMPTY_PAYLOAD_SHA256, _now()
    )
    response = httpx.put(f"{endpoint.scheme}://{endpoint.host}{sigv4.canonical_uri(path)}", headers=headers)
    assert response.status_code == 200, (response.status_code, response.text)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iam_key(url: str) -> tuple[str, str]:
    """An IAM user allowed every S3 action, and a key pair of its own (made before checks are on)."""
    user = "memos-test"
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    _iam(url, {"Action": "CreateUser", "UserName": user})
    _iam(url, {"Action": "PutUserPolicy", "UserName": user, "PolicyName": "s3", "PolicyDocument": json.dumps(policy)})
    answer = _iam(url, {"Action": "CreateAccessKey", "UserName": user})
    key_id = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", answer)
    secret = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", answer)
    assert key_id and secret, answer
    return key_id.group(1), secret.group(1)


def _iam(url: str, params: dict[str, str]) -> str:
    # moto serves every AWS service on one port and routes by the service named in the signature's scope.
    body = urllib.parse.urlencode({**params, "Version": "2010-05-08"}).encode()
    credentials = sigv4.Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, DEFAULT_REGION, service="iam")
    host = urllib.parse.urlsplit(url).netloc
    headers = sigv4.signed_headers(
        credentials, "POST", "/", (), {"host": host, "content-type": "application/x-www-form-urlencoded"},
        hashlib.sha256(body).hexdigest(), _now(),
    )
    return _post(url, "/", body, headers)


def _post(url: str, path: str, body: bytes, headers: dict[str, str]) -> str:
    response = httpx.post(f"{url}{path}", content=body, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.text
