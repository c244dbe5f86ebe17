"""The Connect unary protocol over HTTP/1.1: POST /<package>.<Service>/<Method>."""
from __future__ import annotations

import gzip
import json
import re

from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from memos.call import CallContext, Code, RpcError, encode_answer
from memos.rpc import codec
from memos.rpc.methods import Method
from memos.rpc.transport import (
    BUSY_RETRY_AFTER_SECONDS,
    BodyHold,
    BodyTooLarge,
    Endpoint,
    ServerBusy,
    gunzip,
    run_call,
)

PROTO = "application/proto"
JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"
ACCEPTED_CONTENT_TYPES = (JSON, JSON_UTF8, PROTO)

# Request headers the services may read over Connect (besides authorization).
FORWARDED_HEADERS = (
    "authorization",
    "user-agent",
    "origin",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
    "cookie",
)

_TIMEOUT = re.compile(r"[0-9]{1,10}")


class ConnectEndpoint(Endpoint):
    """A Starlette endpoint serving every procedure of a method table."""

    async def __call__(self, request: Request) -> Response:
        method = self.table.get(request.scope["path"])
        if method is None:
            return not_found()
        if request.method != "POST":
            # No RPC is side-effect free, so Connect GET is not offered.
            return Response(status_code=405, headers={"Allow": "POST"})
        content_type = canonical_content_type(request.headers.get("content-type", ""))
        if content_type not in ACCEPTED_CONTENT_TYPES:
            return Response(status_code=415, headers={"Accept-Post": ", ".join(ACCEPTED_CONTENT_TYPES)})
        try:
            async with self.body_budget.hold() as held:
                return await self._serve(request, method, content_type, held)
        except RpcError as exc:
            return error_response(exc)
        except BodyTooLarge as exc:
            # 413 says "too large" to any HTTP client; the body keeps Connect's shape.
            return error_response(RpcError(Code.RESOURCE_EXHAUSTED, str(exc)), status=413)
        except ServerBusy as exc:
            response = error_response(RpcError(Code.UNAVAILABLE, str(exc)))
            response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
            return response

    async def _serve(self, request: Request, method: Method, content_type: str, held: BodyHold) -> Response:
        _check_protocol_version(request)
        timeout = _timeout_of(request)
        compressed = _request_is_gzipped(request)
        received, limit = await self.read_body(request, held)
        body: bytes | bytearray = gunzip(received, limit, held) if compressed else received
        del received  # the compressed body, when there is one, is not needed any more
        message = _decode(body, method.input, content_type)
        del body  # the decoded message is what the call needs
        ctx = CallContext(
            procedure=method.procedure,
            transport="connect",
            headers=_forwarded_headers(request),
            peer=self.client_address(request),
            secure=self.is_https(request),
            cookie_headers=tuple(request.headers.getlist("cookie")),
            can_set_cookies=True,
            encoding="connect-proto" if content_type == PROTO else "connect-json",
        )
        response = await run_call(method, message, ctx, self.interceptors, timeout)
        encode = codec.binary_encode if content_type == PROTO else codec.connect_json_encode
        payload = encode_answer(ctx, response, encode)
        headers = [("Content-Type", content_type), ("Accept-Encoding", "gzip")]
        if compressed or _accepts_gzip(request.headers.get("accept-encoding", "")):
            payload = gzip.compress(payload)
            headers.append(("Content-Encoding", "gzip"))
        headers.extend(ctx.response_headers)
        return _raw_response(200, payload, headers)


def canonical_content_type(value: str) -> str:
    """Lower-case media type with normalised parameters ("application/json; charset=utf-8")."""
    base, *params = [part.strip() for part in value.split(";")]
    pairs = []
    for param in params:
        name, _, param_value = param.partition("=")
        name = name.strip().lower()
        param_value = param_value.strip().strip('"')
        pairs.append((name, param_value.lower() if name == "charset" else param_value))
    return "; ".join([base.lower()] + [f"{name}={param_value}" for name, param_value in sorted(pairs)])


def error_response(error: RpcError, status: int | None = None) -> Response:
    """The Connect error body; never compressed, never cacheable-marked.

    The HTTP status follows the code unless ``status`` says otherwise.
    """
    body: dict[str, str] = {"code": error.code.connect_name}
    if error.message:
        body["message"] = error.message
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _raw_response(status or error.code.http_status, payload, [("Content-Type", "application/json")])


def not_found() -> Response:
    return PlainTextResponse(
        "404 page not found\n",
        status_code=404,
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _raw_response(status: int, payload: bytes, headers: list[tuple[str, str]]) -> Response:
    response = Response(payload, status_code=status)
    # Set-Cookie and friends may repeat, so headers are appended, not mapped.
    response.raw_headers.extend((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers)
    return response


def _decode(body: bytes | bytearray, message_class: type[Message], content_type: str) -> Message:
    if content_type == PROTO:
        return codec.binary_decode(body, message_class)  # the caller lets go of the body right after
    return codec.connect_json_decode(body, message_class)


def _check_protocol_version(request: Request) -> None:
    version = request.headers.get("connect-protocol-version")
    if version is not None and version != "1":
        raise RpcError(Code.INVALID_ARGUMENT, f'connect-protocol-version must be "1": got {version!r}')


def _timeout_of(request: Request) -> float | None:
    value = request.headers.get("connect-timeout-ms")
    if value is None:
        return None
    if not _TIMEOUT.fullmatch(value):
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid connect-timeout-ms value {value!r}")
    return int(value) / 1000


def _request_is_gzipped(request: Request) -> bool:
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return False
    if encoding == "gzip":
        return True
    raise RpcError(Code.UNIMPLEMENTED, f'unknown compression "{encoding}": supported encodings are gzip')


def _accepts_gzip(accept_encoding: str) -> bool:
    # Only the bare token counts; "gzip;q=0.5" is not recognised.
    return "gzip" in re.split(r"[,\s]+", accept_encoding.lower())


def _forwarded_headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():  # names arrive lower-cased
        if name in FORWARDED_HEADERS:
            separator = "; " if name == "cookie" else ", "
            headers[name] = f"{headers[name]}{separator}{value}" if name in headers else value
    return headers
