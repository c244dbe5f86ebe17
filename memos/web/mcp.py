"""``/mcp``: the Model Context Protocol over Streamable HTTP, stateless, JSON responses (spec server.md §16).

Order of checks: the origin guard (a browser page of another site must not drive the
caller's credential), the transport rules (methods, content type, Accept, protocol
version header), the body cap (the API's own limits: 64 KiB without a credential),
then JSON-RPC 2.0: ``initialize``, ``ping``, ``tools/list``, ``tools/call``,
``logging/setLevel``. No session is kept: every request stands alone.

A tool call becomes a REST request of the API, run in-process through the app itself
with the caller's ``Authorization`` header: the same access table, services and error
answers as any API client gets, and nothing here reads the store.
"""
from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from memos.call import RpcError
from memos.profile import Profile
from memos.rpc.methods import MethodTable
from memos.rpc.transport import (
    BUSY_RETRY_AFTER_SECONDS,
    BodyBudget,
    BodyLimitOf,
    BodyTooLarge,
    ServerBusy,
    declared_length,
    read_body,
)
from memos.web.errors import echo_error
from memos.web.mcp_tools import Tool, ToolArgumentError, build_tools

log = logging.getLogger(__name__)

LATEST_PROTOCOL = "2025-11-25"
PROTOCOLS = (LATEST_PROTOCOL, "2025-06-18", "2025-03-26", "2024-11-05")
DEFAULT_HEADER_PROTOCOL = "2025-03-26"
RESPONSE_HEADERS = {"Cache-Control": "no-cache, no-transform"}

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


def origin_allowed(origin: str | None, host: str, instance_url: str) -> bool:
    """No Origin, the request's own host (any scheme), or the instance URL's scheme and host."""
    if origin is None:
        return True
    parsed = urllib.parse.urlsplit(origin.strip())
    if not parsed.scheme or not parsed.netloc:
        return False
    if parsed.netloc.lower() == host.lower():
        return True
    instance = urllib.parse.urlsplit(instance_url.strip())
    return bool(instance.netloc) and (parsed.scheme.lower(), parsed.netloc.lower()) == (
        instance.scheme.lower(),
        instance.netloc.lower(),
    )


def _accepts(accept: str, media_type: str) -> bool:
    return any(part.split(";")[0].strip().lower() == media_type for part in accept.split(","))


def _json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=RESPONSE_HEADERS)


def _error(message_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}


def _result(message_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "result": result}


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


class McpEndpoint:
    def __init__(
        self,
        tools: dict[str, Tool],
        profile: Profile,
        body_limit_of: BodyLimitOf,
        body_budget: BodyBudget,
    ) -> None:
        self._tools = tools
        self._tool_list = [tool.descriptor for tool in tools.values()]
        self._profile = profile
        self._body_limit_of = body_limit_of
        self._body_budget = body_budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        headers = request.headers
        if not origin_allowed(headers.get("origin"), headers.get("host", ""), self._profile.instance_url):
            return Response(status_code=403)
        refusal = self._transport_refusal(request)
        if refusal is not None:
            return refusal
        declared = declared_length(request)  # refused before reading when too large
        try:
            async with self._body_budget.hold() as held:
                body = await read_body(request, await self._body_limit_of(headers), held, declared=declared)
        except BodyTooLarge:
            return echo_error(413, "Request Entity Too Large")
        except ServerBusy:
            return echo_error(503, "Service Unavailable", {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
        except RpcError as exc:  # the body stalled
            return echo_error(408, exc.message)
        return await self._rpc(request, body)

    def _transport_refusal(self, request: Request) -> Response | None:
        method, headers = request.method, request.headers
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if method == "POST" and content_type != "application/json":
            return echo_error(415, "Content-Type must be application/json")
        accept = headers.get("accept", "")
        if method == "GET" and not _accepts(accept, "text/event-stream"):
            return echo_error(400, "Accept must contain text/event-stream")
        if method != "DELETE" and not (_accepts(accept, "application/json") and _accepts(accept, "text/event-stream")):
            return echo_error(400, "Accept must contain both application/json and text/event-stream")
        if method == "DELETE":
            if not headers.get("mcp-session-id"):
                return echo_error(400, "Mcp-Session-Id header is required")
            return Response(status_code=204)
        if method != "POST":
            return echo_error(405, "Method Not Allowed", {"Allow": "POST"})
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in PROTOCOLS:
            return echo_error(400, f"unsupported MCP protocol version {version!r}")
        return None

    async def _rpc(self, request: Request, body: bytes | bytearray) -> Response:
        try:
            decoded = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _json_response(_error(None, PARSE_ERROR, "parse error: the body is not JSON"), 400)
        batch = isinstance(decoded, list)
        messages = decoded if batch else [decoded]
        if not messages:
            return _json_response(_error(None, INVALID_REQUEST, "empty batch"), 400)
        answers = []
        for message in messages:
            answer = await self._message(request, message)
            if answer is not None:
                answers.append(answer)
        if not answers:
            return Response(status_code=202, headers=RESPONSE_HEADERS)
        return _json_response(answers if batch else answers[0])

    async def _message(self, request: Request, message: Any) -> dict[str, Any] | None:
        """The answer to one JSON-RPC message; None for notifications and responses."""
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return _error(None, INVALID_REQUEST, "invalid request: not a JSON-RPC 2.0 message")
        if "method" not in message:
            return None  # a response to a request of ours: we send none, nothing to do
        method, params = message["method"], message.get("params", {})
        if "id" not in message:
            return None  # a notification (initialized, cancelled...): nothing to answer
        message_id = message["id"]
        if not _valid_id(message_id) or not isinstance(method, str):
            return _error(None, INVALID_REQUEST, "invalid request: bad id or method")
        if not isinstance(params, dict):
            return _error(message_id, INVALID_PARAMS, "params must be an object")
        if method == "initialize":
            return _result(message_id, self._initialize(params))
        if method in ("ping", "logging/setLevel"):
            return _result(message_id, {})
        if method == "tools/list":
            return _result(message_id, {"tools": self._tool_list})
        if method == "tools/call":
            return await self._call(request, message_id, params)
        return _error(message_id, METHOD_NOT_FOUND, f"method not found: {method}")

    def _initialize(self, params: Mapping[str, Any]) -> dict[str, Any]:
        asked = params.get("protocolVersion")
        return {
            "protocolVersion": asked if asked in PROTOCOLS else LATEST_PROTOCOL,
            "capabilities": {"logging": {}, "tools": {"listChanged": True}},
            "serverInfo": {"name": "memos", "version": self._profile.version or "dev"},
        }

    async def _call(self, request: Request, message_id: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        name = params.get("name")
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            return _error(message_id, INVALID_PARAMS, f"unknown tool {name!r}")
        arguments = params.get("arguments") or {}
        try:
            if not isinstance(arguments, dict):
                raise ToolArgumentError("MCP tool arguments do not match input schema: arguments must be an object")
            call = tool.request(arguments)
        except ToolArgumentError as exc:
            return _result(message_id, _tool_error(str(exc)))
        status, payload = await _run_in_app(request, call.method, call.path, call.body)
        return _result(message_id, _tool_result(status, payload))


def _tool_error(text: str) -> dict[str, Any]:
    return {"isError": True, "content": [{"type": "text", "text": text}]}


def _tool_result(status: int, payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload) if payload.strip() else None
    except ValueError:
        value = payload.decode("utf-8", "replace")
    if not 200 <= status < 300:
        message = value.get("message") or value.get("error") if isinstance(value, dict) else value
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        return _tool_error(f"{status} {reason}: {message or ''}".rstrip())
    if value is None:
        structured: Any = {"ok": True}
    elif isinstance(value, dict):
        structured = value
    else:
        structured = {"result": value}
    text = json.dumps(structured, ensure_ascii=False)
    return {"structuredContent": structured, "content": [{"type": "text", "text": text}]}


async def _run_in_app(request: Request, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
    """Send one REST request through the whole app (middleware, gateway, access table, service)."""
    import httpx  # loaded with the first tool call

    app: ASGIApp = request.scope["app"]
    client = request.client
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=False, client=(client.host, client.port) if client else ("127.0.0.1", 0)
    )
    headers = {"accept": "application/json"}
    authorization = request.headers.get("authorization")
    if authorization is not None:
        headers["authorization"] = authorization
    if body is not None:
        headers["content-type"] = "application/json"
    base = f"{request.url.scheme}://{request.headers.get('host') or 'localhost'}"
    async with httpx.AsyncClient(transport=transport, base_url=base) as inner:
        response = await inner.request(method, path, headers=headers, content=body)
    return response.status_code, response.content


def mcp_routes(
    table: MethodTable, profile: Profile, *, body_limit_of: BodyLimitOf, body_budget: BodyBudget
) -> list[BaseRoute]:
    """``/mcp`` for every HTTP method (the endpoint answers 405 itself); tools from ``table``."""
    endpoint = McpEndpoint(build_tools(table), profile, body_limit_of, body_budget)
    return [Route("/mcp", endpoint)]
