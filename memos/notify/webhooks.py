"""Webhook delivery: the payload Memos sends, Standard Webhooks signing, and a background dispatcher.

Deliveries run on a bounded queue drained by a few workers, so an API call
that triggers a webhook never waits for the receiver; a full queue drops the
delivery. Every delivery goes through the address guard at connect time.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import secrets
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from memos.call import Code, RpcError
from memos.notify.background import BackgroundQueue
from memos.notify.netguard import AddressGuard, BlockedAddressError, GuardedClient

if TYPE_CHECKING:
    from google._upb._message import Descriptor as UpbDescriptor
    from google._upb._message import FieldDescriptor as UpbFieldDescriptor

# A descriptor's fields come from the pure-Python or the upb implementation of protobuf.
Field: TypeAlias = "FieldDescriptor | UpbFieldDescriptor"

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
DELIVERY_TIMEOUT_SECONDS = 30.0
QUEUE_SIZE = 128
WORKERS = 4

MEMO_CREATED = "memos.memo.created"
MEMO_UPDATED = "memos.memo.updated"
MEMO_DELETED = "memos.memo.deleted"
MEMO_COMMENT_CREATED = "memos.memo.comment.created"


# --- signing secrets -------------------------------------------------------------


def generate_signing_secret() -> str:
    """``whsec_`` + standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def validate_signing_secret(secret: str) -> str:
    """A client-supplied secret as stored (trimmed), or RpcError INVALID_ARGUMENT.

    Only printable ASCII is allowed (the secret travels in configuration and
    headers); a ``whsec_`` secret must carry valid base64 after the prefix.
    """
    secret = secret.strip()
    if any(not 0x20 <= ord(ch) <= 0x7E for ch in secret):
        raise RpcError(Code.INVALID_ARGUMENT, "signing secret contains invalid character")
    if secret.startswith(SECRET_PREFIX):
        try:
            base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RpcError(
                Code.INVALID_ARGUMENT, f"signing secret has whsec_ prefix but is not valid base64: {exc}"
            ) from exc
    return secret


def signing_key(secret: str) -> bytes:
    """The HMAC key: the decoded bytes after ``whsec_``, else the secret's own bytes."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :])
    return secret.encode("utf-8")


def signature_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``; none when the secret is empty."""
    if not secret:
        return {}
    message_id = f"msg_{uuid.uuid4()}"
    timestamp = str(int(now if now is not None else time.time()))
    signed = f"{message_id}.{timestamp}.".encode("ascii") + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


# --- payload ---------------------------------------------------------------------


def go_json(message: Message) -> dict[str, Any]:
    """A protobuf message as Go's encoding/json writes the generated struct.

    Memos serialises the memo of a webhook with encoding/json rather than the
    protobuf JSON mapping: proto field names, zero values left out, enums as
    numbers, Timestamps as ``{"seconds","nanos"}``, int64 as numbers.
    """
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.is_repeated:
            if not value:
                continue
            entry = _map_entry(field)
            if entry is not None:
                value_field = entry.fields_by_name["value"]
                out[field.name] = {str(k): _go_value(value_field, value[k]) for k in sorted(value)}
            else:
                out[field.name] = [_go_value(field, item) for item in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE or field.has_presence:
            # Go keeps these as pointers: present (even when empty or zero) iff set.
            if message.HasField(field.name):
                out[field.name] = _go_value(field, value)
        elif value:
            out[field.name] = _go_value(field, value)
    return out


def _map_entry(field: Field) -> Descriptor | UpbDescriptor | None:
    """The entry message type of a map field (its ``key`` and ``value`` fields), None for other fields."""
    entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
    return entry if entry is not None and entry.GetOptions().map_entry else None


def _go_value(field: Field, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return go_json(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return _go_float(value)
    return value  # enums are already their numbers


def _go_float(value: float) -> float | int:
    """Go prints whole floats without a fraction (2, not 2.0)."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


# encoding/json escapes these even inside strings; receivers comparing bytes see the same text.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_dumps(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


def build_payload(url: str, activity_type: str, creator: str, memo: Message) -> bytes:
    """The request body: ``{"url","activityType","creator","memo"}`` with ``memo`` an API Memo in Go JSON."""
    return _go_dumps({"url": url, "activityType": activity_type, "creator": creator, "memo": go_json(memo)})


# --- delivery --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes
    signing_secret: str = ""


@dataclasses.dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    detail: str
    status: int | None = None


def _accepted(status: int, body: bytes) -> tuple[bool, str]:
    """Memos counts a delivery as accepted on 2xx with a JSON body whose optional ``code`` is 0."""
    if not 200 <= status < 300:
        return False, f"receiver answered HTTP {status}"
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return False, "receiver answer is not JSON"
    code = answer.get("code", 0) if isinstance(answer, dict) else 0
    if code != 0:
        return False, f"receiver answered code {code}"
    return True, "delivered"


class WebhookDispatcher:
    """Sends webhook deliveries in the background; ``deliver`` does one synchronously."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout: float = DELIVERY_TIMEOUT_SECONDS,
        queue_size: int = QUEUE_SIZE,
        workers: int = WORKERS,
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._queue: BackgroundQueue[Delivery] = BackgroundQueue(
            "webhook", self.deliver, size=queue_size, workers=workers
        )
        self._http = GuardedClient()

    def submit(self, delivery: Delivery) -> bool:
        """Queue one delivery without waiting; False when the queue was full and it was dropped."""
        return self._queue.submit(delivery)

    def submit_memo_event(self, webhooks: Iterable[Any], activity_type: str, creator: str, memo: Message) -> int:
        """Queue ``activity_type`` for each webhook (store ``WebhooksUserSetting.Webhook``); returns how many."""
        queued = 0
        for webhook in webhooks:
            body = build_payload(webhook.url, activity_type, creator, memo)
            queued += self.submit(Delivery(webhook.url, body, webhook.signing_secret))
        return queued

    async def join(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        await self._queue.close()
        await self._http.close()

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """POST one delivery now (through the guard); failures are logged and returned, never raised."""
        headers = {"Content-Type": "application/json", **signature_headers(delivery.signing_secret, delivery.body)}
        try:
            response = await self._guard.post(
                self._http.get(), delivery.url, content=delivery.body, headers=headers, timeout=self._timeout
            )
        except BlockedAddressError as exc:
            result = DeliveryResult(False, f"refused: {exc}")
        except Exception as exc:  # network errors, timeouts, bad URLs: logged only, as in Memos
            result = DeliveryResult(False, f"request failed: {type(exc).__name__}: {exc}")
        else:
            ok, detail = _accepted(response.status_code, response.content)
            result = DeliveryResult(ok, detail, response.status_code)
        if not result.ok:
            log.warning("webhook delivery to %s failed: %s", delivery.url, result.detail)
        return result
