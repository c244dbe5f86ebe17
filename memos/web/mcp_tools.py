"""The MCP tools (spec server.md §16): 20 REST operations of the API, described from the descriptors.

Each tool is one HTTP binding of a memos.api.v1 RPC. Its path (OpenAPI style,
``/api/v1/memos/{memo}``), query parameters, body and schemas are computed from the
proto descriptors the gateway serves, so tools and API cannot drift. A call is checked
against the tool's input schema here and turned into a REST request (``ToolRequest``),
which ``memos.web.mcp`` runs through the app itself, so the caller's credential, the
access table and the services apply exactly as for any API client.
"""
from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from memos.rpc.methods import Method, MethodTable
from memos.rpc.templates import Variable, parse_template

# (service, method, description): the curated set; nothing admin-only, nothing that signs in.
CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("MemoService", "ListMemos", "List the memos the caller may see, newest first; supports filter and paging."),
    ("MemoService", "CreateMemo", "Write a new memo (Markdown content, visibility)."),
    ("MemoService", "GetMemo", "Read one memo by its id or name (memos/{id})."),
    ("MemoService", "UpdateMemo", "Change a memo; only the fields given in body are changed."),
    ("MemoService", "DeleteMemo", "Delete a memo and its comments."),
    ("MemoService", "ListMemoComments", "List the comments on a memo."),
    ("MemoService", "CreateMemoComment", "Comment on a memo."),
    ("MemoService", "ListMemoAttachments", "List the attachments of a memo."),
    ("MemoService", "SetMemoAttachments", "Replace the attachments of a memo."),
    ("MemoService", "ListMemoReactions", "List the reactions on a memo."),
    ("MemoService", "UpsertMemoReaction", "Add a reaction to a memo."),
    ("MemoService", "DeleteMemoReaction", "Remove a reaction from a memo."),
    ("MemoService", "ListMemoRelations", "List the relations (references, comments) of a memo."),
    ("MemoService", "SetMemoRelations", "Replace the relations of a memo."),
    ("AttachmentService", "ListAttachments", "List the caller's attachments."),
    ("AttachmentService", "CreateAttachment", "Upload an attachment (content as base64)."),
    ("AttachmentService", "GetAttachment", "Read one attachment's metadata."),
    ("AttachmentService", "DeleteAttachment", "Delete an attachment."),
    ("ShortcutService", "ListShortcuts", "List a user's saved memo filters (shortcuts)."),
    ("AuthService", "GetCurrentUser", "Tell who the caller is signed in as."),
)

# Body overrides of the spec: what a body must hold, and the name field a body must not carry.
_BODY_REQUIRED: dict[str, list[str]] = {
    "CreateMemo": ["content"],
    "CreateMemoComment": ["content"],
    "SetMemoAttachments": ["attachments"],
    "SetMemoRelations": ["relations"],
    "UpsertMemoReaction": ["reaction"],
}
_BODY_WITHOUT_NAME = {"UpdateMemo", "SetMemoAttachments", "SetMemoRelations", "UpsertMemoReaction"}
_DESTRUCTIVE_AND_IDEMPOTENT = {"SetMemoAttachments", "SetMemoRelations"}
_NO_OUTPUT = {"type": "object", "properties": {"ok": {"type": "boolean"}}}

_INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_SFIXED32,
}
_NUMBER_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
# Well-known types by their JSON form.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.Empty": {"type": "object"},
}


class ToolArgumentError(ValueError):
    """Arguments that do not fit the tool: a tool error, no API call."""


@dataclasses.dataclass(frozen=True)
class ToolRequest:
    method: str
    path: str  # escaped, with the query string
    body: bytes | None


def snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() and index else char.lower() for index, char in enumerate(name))


def _singular(collection: str) -> str:
    return collection[:-1] if collection.endswith("s") else collection


class _Schemas:
    """JSON schemas of messages, with each message defined once in ``defs``.

    Descriptors are typed ``Any``: the upb and pure-Python runtimes have different classes.
    """

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def message(self, descriptor: Any, *, without: frozenset[str] = frozenset()) -> dict[str, Any]:
        properties = {
            field.json_name: self.field(field) for field in descriptor.fields if field.name not in without
        }
        return {"type": "object", "properties": properties}

    def field(self, field: Any) -> dict[str, Any]:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            return {"type": "object", "additionalProperties": self.single(field.message_type.fields_by_name["value"])}
        schema = self.single(field)
        return {"type": "array", "items": schema} if field.is_repeated else schema

    def single(self, field: Any) -> dict[str, Any]:
        if field.message_type is not None:
            return self.reference(field.message_type)
        if field.enum_type is not None:
            return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
        if field.type == FieldDescriptor.TYPE_BOOL:
            return {"type": "boolean"}
        if field.type in _INTEGER_TYPES:
            return {"type": "integer", "format": "int32"}
        if field.type in _NUMBER_TYPES:
            return {"type": "number"}
        if field.type == FieldDescriptor.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        if field.type == FieldDescriptor.TYPE_STRING:
            return {"type": "string"}
        return {"type": "string", "format": "int64"}  # 64-bit integers are strings in JSON

    def reference(self, descriptor: Any) -> dict[str, Any]:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        if descriptor.name not in self.defs:
            self.defs[descriptor.name] = {}  # placeholder first: messages may refer to themselves
            self.defs[descriptor.name] = self.message(descriptor)
        return {"$ref": f"#/$defs/{descriptor.name}"}


@dataclasses.dataclass(frozen=True)
class PathPart:
    literal: str | None = None  # a fixed segment, or
    parameter: str | None = None  # a parameter (the singular of the collection before it)
    collection: str = ""


@dataclasses.dataclass
class Tool:
    name: str
    method: Method
    verb: str
    path: tuple[PathPart, ...]
    verb_suffix: str
    query: dict[str, str]  # parameter -> JSON schema type
    has_body: bool
    descriptor: dict[str, Any]

    @property
    def openapi_path(self) -> str:
        parts = [part.literal if part.parameter is None else "{" + part.parameter + "}" for part in self.path]
        return "/" + "/".join(str(part) for part in parts) + (":" + self.verb_suffix if self.verb_suffix else "")

    def request(self, arguments: Mapping[str, Any]) -> ToolRequest:
        """Check ``arguments`` against the input schema and build the REST request."""
        schema = self.descriptor["inputSchema"]
        properties: dict[str, Any] = schema["properties"]
        for name in arguments:
            if name not in properties:
                raise ToolArgumentError(f'unknown argument "{name}"')
        for name in schema.get("required", []):
            if name not in arguments:
                raise ToolArgumentError(f'missing required argument "{name}"')
        for name, value in arguments.items():
            _check_type(name, value, properties[name])
        return ToolRequest(self.verb, self._path(arguments) + self._query(arguments), self._body(arguments))

    def _path(self, arguments: Mapping[str, Any]) -> str:
        segments: list[str] = []
        trail: list[str] = []  # the resource name resolved so far: ["memos", "abc"]
        pending: list[str] = []  # literals since the last parameter
        for part in self.path:
            if part.parameter is None:
                segments.append(urllib.parse.quote(str(part.literal), safe=""))
                pending.append(str(part.literal))
                continue
            value = arguments.get(part.parameter)
            if value is None or value == "":
                raise ToolArgumentError(f'missing required path parameter "{part.parameter}"')
            trail = trail + pending if trail else [part.collection]
            pending = []
            # A full name ("memos/abc/reactions/r1") gives its last id when it fits this path.
            text, prefix = _text(value), "/".join(trail) + "/"
            if text.startswith(prefix) and text != prefix and "/" not in text[len(prefix):]:
                text = text[len(prefix):]
            segments.append(urllib.parse.quote(text, safe=""))
            trail.append(text)
        path = "/" + "/".join(segments)
        return path + (":" + self.verb_suffix if self.verb_suffix else "")

    def _query(self, arguments: Mapping[str, Any]) -> str:
        pairs = [(name, _text(arguments[name])) for name in self.query if name in arguments]
        return "?" + urllib.parse.urlencode(pairs) if pairs else ""

    def _body(self, arguments: Mapping[str, Any]) -> bytes | None:
        if not self.has_body:
            return None
        body = arguments.get("body", {})
        minimum = self.descriptor["inputSchema"]["properties"]["body"].get("minProperties", 0)
        if len(body) < minimum:
            raise ToolArgumentError(
                f"MCP tool arguments do not match input schema: body needs at least {minimum} property"
            )
        return json.dumps(body).encode()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_type(name: str, value: Any, schema: Mapping[str, Any]) -> None:
    expected = schema.get("type")
    fits = {
        "string": lambda: isinstance(value, str),
        "integer": lambda: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda: isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": lambda: isinstance(value, bool),
        "object": lambda: isinstance(value, dict),
        "array": lambda: isinstance(value, list),
    }.get(str(expected))
    if fits is not None and not fits():
        raise ToolArgumentError(f'argument "{name}" must be {expected}')


def _path_parts(template: str) -> tuple[tuple[PathPart, ...], str, set[str]]:
    """OpenAPI-style parts of a binding's path, its custom verb, and the request fields it binds."""
    parsed = parse_template(template)
    parts: list[PathPart] = []
    bound: set[str] = set()
    for segment in parsed.segments:
        if not isinstance(segment, Variable):
            parts.append(PathPart(literal=segment))
            continue
        bound.add(segment.field_path.split(".")[0])
        previous = ""
        for piece in segment.segments:
            if piece == "*":
                parts.append(PathPart(parameter=_singular(previous), collection=previous))
            else:
                parts.append(PathPart(literal=piece))
                previous = piece
    return tuple(parts), parsed.verb, bound


def _annotations(verb: str, rpc: str) -> dict[str, Any]:
    read_only = verb == "GET"
    destructive = verb == "DELETE" or rpc in _DESTRUCTIVE_AND_IDEMPOTENT or rpc == "UpdateMemo"
    idempotent = verb in ("GET", "DELETE") or rpc in _DESTRUCTIVE_AND_IDEMPOTENT
    return {
        "readOnlyHint": read_only,
        "destructiveHint": destructive,
        "idempotentHint": idempotent,
        "openWorldHint": False,
    }


def _tool(method: Method, description: str) -> Tool:
    binding = method.bindings[0]
    parts, verb_suffix, bound = _path_parts(binding.template)
    schemas = _Schemas()
    request = method.input.DESCRIPTOR
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in parts:
        if part.parameter is not None:
            properties[part.parameter] = {"type": "string", "description": f"The {part.parameter} id or name"}
            required.append(part.parameter)
    query: dict[str, str] = {}
    if binding.body != "*":
        for field in request.fields:
            if field.name in bound or field.name == binding.body:
                continue
            if field.message_type is not None and field.message_type.full_name not in _WELL_KNOWN:
                continue
            properties[field.json_name] = schemas.field(field)
            query[field.json_name] = str(properties[field.json_name].get("type", "string"))
    has_body = bool(binding.body)
    if has_body:
        if binding.body == "*":
            body = schemas.message(request, without=frozenset(bound))
        else:
            body_field = request.fields_by_name[binding.body]
            body = schemas.message(body_field.message_type)
        if method.name in _BODY_WITHOUT_NAME:
            body["properties"].pop("name", None)
        if method.name in _BODY_REQUIRED:
            body["required"] = _BODY_REQUIRED[method.name]
        if method.name == "UpdateMemo":
            body["minProperties"] = 1
        properties["body"] = body
        required.append("body")
    input_schema: dict[str, Any] = {
        "type": "object", "properties": properties, "required": required, "additionalProperties": False,
    }
    output = method.output.DESCRIPTOR
    output_schema = dict(_NO_OUTPUT) if output.full_name == "google.protobuf.Empty" else schemas.message(output)
    if schemas.defs:
        input_schema["$defs"] = output_schema["$defs"] = schemas.defs
    name = f"{snake(method.service.rsplit('.', 1)[1].removesuffix('Service'))}_{snake(method.name)}"
    tool = Tool(name, method, binding.verb, parts, verb_suffix, query, has_body, {})
    operation_id = f"{method.service.rsplit('.', 1)[1]}_{method.name}"
    tool.descriptor = {
        "name": name,
        "title": " ".join(word.capitalize() for word in name.split("_")),
        "description": description,
        "inputSchema": input_schema,
        "outputSchema": output_schema,
        "annotations": _annotations(binding.verb, method.name),
        "_meta": {"operationId": operation_id, "method": binding.verb, "path": tool.openapi_path},
    }
    return tool


def build_tools(table: MethodTable) -> dict[str, Tool]:
    """The tools by name, from the memos.api.v1 method table."""
    tools = {}
    for service, rpc, description in CATALOGUE:
        method = table.get(f"/memos.api.v1.{service}/{rpc}")
        if method is None or not method.bindings:
            raise ValueError(f"no REST binding for {service}/{rpc}")
        tool = _tool(method, description)
        tools[tool.name] = tool
    return tools
