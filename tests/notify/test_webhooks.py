"""Webhook signing secrets, the Go-JSON payload, and delivery to a receiver on 127.0.0.1 that checks signatures."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest
from google.protobuf import timestamp_pb2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import serve_on_loopback

from memos.call import Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as memo_api
from memos.gen.store import user_setting_pb2
from memos.notify.netguard import AddressGuard
from memos.notify.webhooks import (
    MEMO_CREATED,
    Delivery,
    WebhookDispatcher,
    build_payload,
    generate_signing_secret,
    go_json,
    validate_signing_secret,
)

pytestmark = pytest.mark.anyio


def test_generated_secret_is_whsec_and_32_bytes() -> None:
    secret = generate_signing_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:], validate=True)) == 32
    assert generate_signing_secret() != secret


@pytest.mark.parametrize("secret", ["", "abcDEF123!@#", "whsec_" + base64.b64encode(b"k" * 32).decode(), " spaced "])
def test_acceptable_secrets(secret: str) -> None:
    assert validate_signing_secret(secret) == secret.strip()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("bad\nsecret", "signing secret contains invalid character"),
        ("bad\rsecret", "signing secret contains invalid character"),
        ("bad\tsecret", "signing secret contains invalid character"),
        ("price€", "signing secret contains invalid character"),
        ("whsec_not!base64", "signing secret has whsec_ prefix but is not valid base64: "),
    ],
)
def test_rejected_secrets(secret: str, message: str) -> None:
    with pytest.raises(RpcError) as raised:
        validate_signing_secret(secret)
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert raised.value.message.startswith(message)


def _memo() -> memo_api.Memo:
    return memo_api.Memo(
        name="memos/abc",
        state=1,  # NORMAL
        creator="users/alice",
        create_time=timestamp_pb2.Timestamp(seconds=1700000000),
        update_time=timestamp_pb2.Timestamp(seconds=1700000001, nanos=5),
        content="a <b> & c",
        visibility=memo_api.Visibility.Value("PUBLIC"),
        tags=["x"],
        property=memo_api.Memo.Property(has_link=True),
    )


def test_memo_payload_uses_go_json_rules() -> None:
    memo = _memo()
    memo.parent = ""  # proto3 optional: present although empty
    body = build_payload("https://hooks.example/x", MEMO_CREATED, "users/alice", memo)
    assert b"\\u003cb\\u003e \\u0026 c" in body  # Go escapes HTML characters
    payload = json.loads(body)
    assert list(payload) == ["url", "activityType", "creator", "memo"]
    assert payload["url"] == "https://hooks.example/x" and payload["activityType"] == "memos.memo.created"
    assert payload["memo"] == {
        "name": "memos/abc",
        "state": 1,
        "creator": "users/alice",
        "create_time": {"seconds": 1700000000},
        "update_time": {"seconds": 1700000001, "nanos": 5},
        "content": "a <b> & c",
        "visibility": 3,
        "tags": ["x"],
        "property": {"has_link": True},
        "parent": "",
    }


def test_go_json_writes_whole_floats_without_fraction() -> None:
    location = memo_api.Location(latitude=2.0, longitude=1.5)
    assert go_json(location) == {"latitude": 2, "longitude": 1.5}
    assert json.dumps(go_json(location)) == '{"latitude": 2, "longitude": 1.5}'


class Receiver:
    """A webhook endpoint that records requests and answers what the test asks for."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answer: Response = JSONResponse({"code": 0})
        self.delay = 0.0
        self.arrived = asyncio.Event()

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.requests.append((dict(request.headers), await request.body()))
            if self.delay:
                await asyncio.sleep(self.delay)
            return self.answer

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def _expected_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    # The key is derived here by the Standard Webhooks rule, not by the code under test.
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _dispatcher(**kwargs: object) -> WebhookDispatcher:
    return WebhookDispatcher(AddressGuard(allow_private=True), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["whsec_" + base64.b64encode(bytes(range(32))).decode(), "plain-secret!"])
async def test_signed_delivery_verifies_with_the_decoded_key(secret: str) -> None:
    receiver = Receiver()
    dispatcher = _dispatcher()
    with serve_on_loopback(receiver.app()) as base:
        webhook = user_setting_pb2.WebhooksUserSetting.Webhook(id="w1", url=f"{base}/hook", signing_secret=secret)
        assert dispatcher.submit_memo_event([webhook], MEMO_CREATED, "users/alice", _memo()) == 1
        await dispatcher.join()
        await dispatcher.close()
    [(headers, body)] = receiver.requests
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_") and len(headers["webhook-id"]) == 40
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"] == _expected_signature(secret, headers, body)
    assert json.loads(body)["url"] == f"{base}/hook"


async def test_unsigned_webhook_sends_no_signature_headers() -> None:
    receiver = Receiver()
    dispatcher = _dispatcher()
    with serve_on_loopback(receiver.app()) as base:
        result = await dispatcher.deliver(Delivery(f"{base}/hook", b'{"a":1}'))
        await dispatcher.close()
    assert result.ok
    [(headers, body)] = receiver.requests
    assert body == b'{"a":1}'
    assert not {"webhook-id", "webhook-timestamp", "webhook-signature"} & set(headers)


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (JSONResponse({"code": 0}, status_code=500), "receiver answered HTTP 500"),
        (JSONResponse({"code": 7, "message": "nope"}), "receiver answered code 7"),
        (Response("ok", media_type="text/plain"), "receiver answer is not JSON"),
    ],
)
async def test_unaccepted_answers_are_failures(answer: Response, detail: str) -> None:
    receiver = Receiver()
    receiver.answer = answer
    dispatcher = _dispatcher()
    with serve_on_loopback(receiver.app()) as base:
        result = await dispatcher.deliver(Delivery(f"{base}/hook", b"{}"))
        await dispatcher.close()
    assert not result.ok and result.detail == detail


async def test_slow_receiver_times_out_and_never_blocks_the_submitter() -> None:
    receiver = Receiver()
    receiver.delay = 3.0
    dispatcher = _dispatcher(timeout=0.5)
    with serve_on_loopback(receiver.app()) as base:
        started = time.monotonic()
        assert dispatcher.submit(Delivery(f"{base}/hook", b"{}"))
        assert time.monotonic() - started < 1.0  # far below the 3 s the receiver takes
        result = await dispatcher.deliver(Delivery(f"{base}/hook", b"{}"))
        await dispatcher.close()
    assert not result.ok and "Timeout" in result.detail


async def test_guard_refuses_private_receivers_unless_allowed() -> None:
    receiver = Receiver()
    guarded = WebhookDispatcher(AddressGuard(allow_private=False))
    with serve_on_loopback(receiver.app()) as base:
        result = await guarded.deliver(Delivery(f"{base}/hook", b"{}"))
        await guarded.close()
    assert not result.ok and result.detail.startswith("refused: ")
    assert receiver.requests == []


async def test_full_queue_drops_instead_of_waiting() -> None:
    dispatcher = _dispatcher(queue_size=128)
    # No await between submissions: the workers cannot take anything off the queue meanwhile.
    accepted = [dispatcher.submit(Delivery("http://127.0.0.1:9/hook", b"{}")) for _ in range(130)]
    assert accepted.count(True) == 128 and accepted[-2:] == [False, False]
    await dispatcher.close()
