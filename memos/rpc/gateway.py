"""The REST gateway: /api/v1/... requests mapped onto RPCs through their http bindings."""
from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from starlette.requests import Request
from starlette.responses import Response

from memos.call import AccessRefused, CallContext, Code, RpcError, encode_answer
from memos.rpc import codec
from memos.rpc.json_input import parse_json_body
from memos.rpc.methods import FORM_CONTENT_TYPE, HttpBinding, RestMatch
from memos.rpc.transport import BUSY_RETRY_AFTER_SECONDS, BodyTooLarge, Endpoint, ServerBusy, run_call

METADATA_PREFIX = "grpc-metadata-"
PERMANENT_PREFIX = "grpcgateway-"

# HTTP headers the gateway hands to services with the "grpcgateway-" prefix.
# Host is absent: the Go server keeps it out of the header map.
PERMANENT_HEADERS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-language",
        "accept-ranges",
        "authorization",
        "cache-control",
        "content-type",
        "cookie",
        "date",
        "expect",
        "from",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-schedule-tag-match",
        "if-unmodified-since",
        "max-forwards",
        "origin",
        "pragma",
        "referer",
        "user-agent",
        "via",
        "warning",
    }
)

ACCESS_REFUSED_BODY = b'{"code": 16, "message": "authentication required"}\n'

_MAP_KEY = re.compile(r"^(.*)\[(.*)\]$")
_SIGNED = re.compile(r"[+-]?[0-9]+")
_UNSIGNED = re.compile(r"\+?[0-9]+")
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_UNSIGNED_TYPES = {
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_FIXED64,
}
_DYNAMIC_TYPES = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
_WRAPPERS = {
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
}


class GatewayEndpoint(Endpoint):
    """A Starlette endpoint serving every http binding of a method table."""

    async def __call__(self, request: Request) -> Response:
        path = request.scope["path"]
        http_method, form = effective_method(request.method, request.headers)
        match = self.table.match_rest(http_method, path, form=form)
        if match is None:
            if self.table.path_is_bound(path):
                return status_response(Code.UNIMPLEMENTED, "Method Not Allowed")
            return status_response(Code.NOT_FOUND, "Not Found")
        try:
            async with self.body_budget.hold() as held:
                message = await build_request(request, match, functools.partial(self.read_body, request, held))
                headers = request.headers
                ctx = CallContext(
                    procedure=match.method.procedure,
                    transport="rest",
                    headers=forwarded_headers(request, self.peer_ip_of(request)),
                    peer=self.client_address(request),
                    secure=self.is_https(request),
                    # Memos reads Grpc-Metadata-Cookie here; the plain Cookie header is read too.
                    cookie_headers=(*headers.getlist(METADATA_PREFIX + "cookie"), *headers.getlist("cookie")),
                    # Response headers reach scripts here (as Grpc-Metadata-*), never a real cookie.
                    can_set_cookies=False,
                    encoding="rest-json",
                )
                response = await run_call(match.method, message, ctx, self.interceptors)
        except AccessRefused:
            return access_refused()
        except RpcError as exc:
            return error_response(exc)
        except BodyTooLarge as exc:
            return status_response(Code.RESOURCE_EXHAUSTED, str(exc), http_status=413)
        except ServerBusy as exc:
            busy = status_response(Code.UNAVAILABLE, str(exc))
            busy.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
            return busy
        payload = encode_answer(ctx, response, codec.gateway_json_encode)
        result = Response(payload, status_code=200, media_type="application/json")
        for name, value in ctx.response_headers:
            result.raw_headers.append(((METADATA_PREFIX + name).lower().encode("latin-1"), value.encode("latin-1")))
        return result


def effective_method(http_method: str, headers: Any) -> tuple[str, bool]:
    """The HTTP method the bindings are matched with, and whether a form POST may fall back to GET."""
    http_method = http_method.upper()
    is_form = http_method == "POST" and headers.get("content-type", "").strip().lower() == FORM_CONTENT_TYPE
    override = headers.get("x-http-method-override", "").strip()
    if is_form and override:
        http_method = override.upper()
    return http_method, is_form and http_method == "POST"


def status_response(code: Code, message: str, *, http_status: int | None = None) -> Response:
    """The gateway's error body; the HTTP status follows the code unless ``http_status`` says otherwise."""
    body = {"code": int(code), "message": message, "details": []}
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status_code=http_status or code.http_status,
        media_type="application/json",
    )


def error_response(error: RpcError) -> Response:
    response = status_response(error.code, error.message)
    if error.code is Code.UNAUTHENTICATED:
        response.headers["WWW-Authenticate"] = error.message
    return response


def access_refused() -> Response:
    return Response(
        ACCESS_REFUSED_BODY,
        status_code=401,
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
    )


def forwarded_headers(request: Request, peer_ip: str | None) -> dict[str, str]:
    """The request metadata services see over REST (names lower-case)."""
    headers: dict[str, str] = {}

    def add(name: str, value: str) -> None:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value

    for name, value in request.headers.items():
        if name == "authorization":
            add("authorization", value)
        if name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX):
            add(name[len(METADATA_PREFIX) :], value)
        elif name in PERMANENT_HEADERS:
            add(PERMANENT_PREFIX + name, value)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host")
    if host:
        headers["x-forwarded-host"] = host
    if peer_ip:
        client_chain = request.headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{client_chain}, {peer_ip}" if client_chain else peer_ip
    return headers


async def build_request(
    request: Request, match: RestMatch, read_body: Callable[[], Awaitable[tuple[bytearray, int]]]
) -> Message:
    """The RPC request message: body, then path values, then query parameters.

    ``read_body`` gives the body (and the cap it was read under); it is called
    only when the binding takes one, so a GET costs no body check.
    """
    binding = match.binding
    message = match.method.input()
    form_values: list[tuple[str, str]] = []
    if binding.body or _reads_form(request):
        body, _limit = await read_body()
        if binding.body == "*":
            message = codec.gateway_json_decode(body, match.method.input)
        elif binding.body:
            _apply_body(message, binding, body)
        else:
            form_values = _parse_query(body.decode("utf-8", errors="replace"))
    for field_path, value in match.path_values.items():
        set_field(message, field_path.split("."), [value])
    if binding.body != "*":
        filters = [tuple(variable.split(".")) for variable in match.path_values]
        if binding.body:
            filters.append((binding.body,))
        query = form_values + _parse_query(request.scope.get("query_string", b"").decode("latin-1"))
        apply_query(message, query, filters)
    return message


def _reads_form(request: Request) -> bool:
    # Form fields count as parameters only for bodiless bindings (Go's ParseForm).
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == FORM_CONTENT_TYPE and request.method.upper() in ("POST", "PUT", "PATCH")


def _parse_query(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def _apply_body(message: Message, binding: HttpBinding, body: bytearray) -> None:
    """A body bound to one top-level field (and, on PATCH, the update mask it implies)."""
    field = codec.descriptor_of(message).fields_by_name.get(binding.body)
    if field is None:
        raise RpcError(Code.INTERNAL, f"binding body {binding.body!r} names no field")
    parsed = parse_json_body(body)
    value = parsed.value if parsed is not None else None
    if parsed is not None:
        if field.message_type is not None and not field.is_repeated:
            target = getattr(message, field.name)
            parsed.merge_into(target)
            target.SetInParent()
        else:
            parsed.wrapped(field.name).merge_into(message)
    if binding.verb == "PATCH" and _has_update_mask(codec.descriptor_of(message)):
        fields: Any = message  # generated fields are known only through the descriptor
        mask = fields.update_mask
        mask.SetInParent()
        if field.message_type is not None and not field.is_repeated:
            mask.paths.extend(mask_from_json(value, field.message_type))


def _has_update_mask(descriptor: Descriptor) -> bool:
    field = descriptor.fields_by_name.get("update_mask")
    return field is not None and field.message_type is not None and (
        field.message_type.full_name == "google.protobuf.FieldMask"
    )


def mask_from_json(value: Any, descriptor: Descriptor) -> list[str]:
    """The field mask a PATCH body implies: one path per leaf key, lists and maps whole, sorted."""
    paths: list[str] = []
    queue: list[tuple[Any, Descriptor | None, str]] = [(value, descriptor, "")]
    while queue:
        node, node_descriptor, prefix = queue.pop(0)
        if isinstance(node, dict) and node:
            for key, child in node.items():
                if node_descriptor is None:
                    raise RpcError(Code.INVALID_ARGUMENT, "JSON structure did not match request type")
                field = _field_by_json_key(node_descriptor, key)
                if field is None:
                    raise RpcError(
                        Code.INVALID_ARGUMENT,
                        f'could not find field "{key}" in "{node_descriptor.full_name}"',
                    )
                path = f"{prefix}.{field.name}" if prefix else field.name
                if field.is_repeated:
                    paths.append(path)
                elif field.message_type is not None and field.message_type.full_name in _DYNAMIC_TYPES:
                    paths.extend(_blind_paths(child, path))
                else:
                    queue.append((child, field.message_type, path))
        elif prefix or node == {}:
            # A body of exactly {} gives one empty path, as the Go gateway does: the mask is
            # present (so "update mask is required" does not apply) and names no field.
            paths.append(prefix)
    return sorted(paths)


def _blind_paths(node: Any, prefix: str) -> list[str]:
    if isinstance(node, dict) and node:
        return [path for key, child in node.items() for path in _blind_paths(child, f"{prefix}.{key}")]
    return [prefix]


def _field_by_json_key(descriptor: Descriptor, key: str) -> FieldDescriptor | None:
    return _fields_by_json_key(descriptor).get(key)


def _field_by_param_name(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    return _fields_by_param_name(descriptor).get(name)


# Both name lookups are built once per message type (descriptors live as long as
# the process), not searched field by field for every parameter of every request.


@functools.cache
def _fields_by_json_key(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    """A JSON body key: the JSON name wins over an original name, the first field over a later one."""
    return {**descriptor.fields_by_name, **{field.json_name: field for field in reversed(descriptor.fields)}}


@functools.cache
def _fields_by_param_name(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    """A query parameter segment: the original name wins over a JSON name."""
    return {**{field.json_name: field for field in reversed(descriptor.fields)}, **descriptor.fields_by_name}


def apply_query(message: Message, params: list[tuple[str, str]], filters: list[tuple[str, ...]]) -> None:
    """Set request fields from query parameters; unknown names are ignored.

    ``filters`` are field paths already supplied by the path or the body: a
    parameter on, above or below one of them is skipped.
    """
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        map_key = None
        bracket = _MAP_KEY.match(key)
        if bracket:
            key, map_key = bracket.group(1), bracket.group(2)
        names = _resolve_names(codec.descriptor_of(message), key.split("."))
        if names is None or any(_common_prefix(names, taken) for taken in filters):
            continue
        set_field(message, names, values, map_key=map_key)


def _resolve_names(descriptor: Descriptor | None, names: list[str]) -> tuple[str, ...] | None:
    """Parameter segments (original or JSON names) as original names; None if any is unknown."""
    resolved = []
    for name in names:
        if descriptor is None:
            return None
        field = _field_by_param_name(descriptor, name)
        if field is None:
            return None
        resolved.append(field.name)
        descriptor = field.message_type
    return tuple(resolved)


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def set_field(message: Message, names: Sequence[str], values: list[str], *, map_key: str | None = None) -> None:
    """Set the field at ``names`` (original or JSON names) from text values."""
    for depth, name in enumerate(names):
        field = _field_by_param_name(codec.descriptor_of(message), name)
        if field is None:
            return
        _check_oneof(message, field)
        if depth == len(names) - 1:
            _set_leaf(message, field, values, map_key)
            return
        if field.message_type is None or field.is_repeated:
            raise RpcError(Code.INVALID_ARGUMENT, f"invalid path: {'.'.join(names)!r}: {name!r} is not a message")
        message = getattr(message, field.name)


def _check_oneof(message: Message, field: FieldDescriptor) -> None:
    oneof = field.containing_oneof
    if oneof is None or _is_synthetic(oneof):
        return
    chosen = message.WhichOneof(oneof.name)
    if chosen is not None and chosen != field.name:
        raise RpcError(Code.INVALID_ARGUMENT, f"field already set for oneof {oneof.name!r}")


def _is_synthetic(oneof: Any) -> bool:
    # A proto3 "optional" field sits alone in a synthetic oneof named "_<field>".
    return len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name


def _set_leaf(message: Message, field: FieldDescriptor, values: list[str], map_key: str | None) -> None:
    if map_key is not None and not codec.is_map(field):
        raise RpcError(Code.INVALID_ARGUMENT, f"field {field.name!r} is not a map")
    if codec.is_map(field):
        if map_key is None:
            problem = f"map field {field.name!r} needs parameters of the form {field.name}[key]"
            raise RpcError(Code.INVALID_ARGUMENT, problem)
        if len(values) != 1:
            raise RpcError(Code.INVALID_ARGUMENT, f"more than one value for key {map_key!r} in map {field.name!r}")
        entry = _message_type(field)
        key_field = entry.fields_by_name["key"]
        value_field = entry.fields_by_name["value"]
        container = getattr(message, field.name)
        key = parse_scalar(key_field, map_key)
        if value_field.message_type is not None:
            container[key].CopyFrom(_parse_message(value_field, values[0]))
        else:
            container[key] = parse_scalar(value_field, values[0])
        return
    if field.is_repeated:
        container = getattr(message, field.name)
        for value in values:
            if field.message_type is not None:
                container.add().CopyFrom(_parse_message(field, value))
            else:
                container.append(parse_scalar(field, value))
        return
    if len(values) > 1:
        raise RpcError(Code.INVALID_ARGUMENT, f"too many values for field {field.name!r}: {', '.join(values)}")
    if field.message_type is not None:
        getattr(message, field.name).CopyFrom(_parse_message(field, values[0]))
    else:
        setattr(message, field.name, parse_scalar(field, values[0]))


def parse_scalar(field: FieldDescriptor, text: str) -> Any:
    """A query/path text value as the Python value of a non-message field."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return text
    if kind == FieldDescriptor.TYPE_BOOL:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _bad_value(field, text, "not a boolean")
    if kind in _INT_RANGES:
        pattern = _UNSIGNED if kind in _UNSIGNED_TYPES else _SIGNED
        low, high = _INT_RANGES[kind]
        if not pattern.fullmatch(text):
            raise _bad_value(field, text, "not an integer")
        number = int(text)
        if not low <= number <= high:
            raise _bad_value(field, text, "out of range")
        return number
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        try:
            real = float(text)
        except ValueError:
            raise _bad_value(field, text, "not a number") from None
        if kind == FieldDescriptor.TYPE_FLOAT and math.isfinite(real) and abs(real) > 3.4028234663852886e38:
            raise _bad_value(field, text, "out of range")
        return real
    if kind == FieldDescriptor.TYPE_BYTES:
        return _parse_bytes(field, text)
    if kind == FieldDescriptor.TYPE_ENUM:
        return _parse_enum(field, text)
    raise _bad_value(field, text, "unsupported field type")


def _parse_bytes(field: FieldDescriptor, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        pass
    try:
        return base64.urlsafe_b64decode(text)
    except ValueError:
        raise _bad_value(field, text, "not base64") from None


def _parse_enum(field: FieldDescriptor, text: str) -> int:
    enum = field.enum_type
    if enum is None:
        raise _bad_value(field, text, "not an enum field")
    by_name = enum.values_by_name.get(text)
    if by_name is not None:
        return by_name.number
    if _SIGNED.fullmatch(text) and -(2**31) <= int(text) < 2**31:
        if int(text) in enum.values_by_number:
            return int(text)
    raise _bad_value(field, text, f"not a value of {enum.full_name}")


def _message_type(field: FieldDescriptor) -> Descriptor:
    """The message type of a field the caller has already found to hold messages."""
    if field.message_type is None:
        raise RpcError(Code.INTERNAL, f"field {field.name!r} holds no message")
    return field.message_type


def _parse_message(field: FieldDescriptor, text: str) -> Message:
    """Well-known message types that have a one-string form in a query."""
    message_type = _message_type(field)
    message = GetMessageClass(message_type)()
    full_name = message_type.full_name
    if full_name == "google.protobuf.FieldMask":
        # Paths are used verbatim: no camelCase conversion.
        assert isinstance(message, field_mask_pb2.FieldMask)
        message.paths.extend(path for path in text.split(",") if path)
        return message
    if full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        try:
            message.FromJsonString(text)  # type: ignore[attr-defined]
        except ValueError as exc:
            raise _bad_value(field, text, str(exc)) from None
        return message
    if full_name in _WRAPPERS:
        wrapper: Any = message  # generated fields are known only through the descriptor
        wrapper.value = parse_scalar(message_type.fields_by_name["value"], text)
        return message
    raise RpcError(Code.INVALID_ARGUMENT, f"unsupported message type {full_name!r} for parameter {field.name!r}")


def _bad_value(field: FieldDescriptor, text: str, reason: str) -> RpcError:
    return RpcError(Code.INVALID_ARGUMENT, f"invalid value {text!r} for field {field.name!r}: {reason}")
