"""Request JSON into protobuf messages, without holding a large upload several times over.

A file sent over REST is one long base64 string inside the JSON body. Parsed the usual way it
is held as the body, as the body's text, as a Python string in the parsed object, then twice
more inside ``json_format`` (encoded, padded) before it becomes bytes: six or seven times the
file at once. Here, string values of at least ``MIN_BLOB_CHARS`` characters made only of base64
characters (no escapes) are cut out of the body before it is parsed: the parser sees a short
placeholder instead. When the parsed value is merged into a message, each placeholder that
stands for a singular ``bytes`` field of an ordinary message is base64-decoded straight from
the body; every other placeholder (a string field, an unknown field, anything under a
well-known type or a map) gets its text back, so ``json_format`` judges it as before. The body
buffer is emptied before the decoded bytes go into the message.

What comes out is exactly what ``json_format.ParseDict(json.loads(body), message,
ignore_unknown_fields=True)`` makes: the same field lookup (JSON name first, then the original
name), the same base64 reading (either alphabet, padding optional), the same errors as
INVALID_ARGUMENT (an invalid blob is reported before the other fields are checked).
"""
from __future__ import annotations

import base64
import binascii
import collections
import functools
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from memos.call import Code, RpcError

# Shorter strings cost little held twice; cutting them out would only add work.
MIN_BLOB_CHARS = 64 * 1024
WELL_KNOWN_PREFIX = "google.protobuf."

Span = tuple[int, int]
# How to reach a message inside the request: (field name, index in a repeated field or None).
Steps = tuple[tuple[str, int | None], ...]
# The JSON keys along the same way, with whether each field is in a oneof (for error texts).
Keys = tuple[tuple[str, bool], ...]


@functools.cache
def _long_string(min_chars: int) -> re.Pattern[bytes]:
    # A whole JSON string value: base64 characters only (so no escapes) between quotes, and
    # not followed by a colon (that would make it an object key). The possessive repeat
    # keeps a long run that fails to match from being retried character by character.
    return re.compile(rb'"([A-Za-z0-9+/=_-]{%d,}+)"(?![ \t\r\n]*:)' % min_chars)


class JsonBody:
    """A parsed JSON body whose long base64-looking strings are still in the body buffer."""

    def __init__(self, value: Any, source: bytes | bytearray, blobs: dict[str, Span]) -> None:
        self.value = value
        self._source = source
        self._blobs = blobs  # placeholder -> where its text is in ``source``

    def wrapped(self, key: str) -> JsonBody:
        """The same body as the value of ``key`` in an object (a REST body bound to one field)."""
        return JsonBody({key: self.value}, self._source, self._blobs)

    def merge_into(self, message: Message) -> None:
        """Merge into ``message`` as ``json_format`` would; the body buffer is released on the way."""
        targets = self._claim(descriptor_of(message))
        decoded = [(steps, name, self._decode(keys, span)) for steps, name, keys, span in targets]
        self.release()
        merge_json(self.value, message)  # the claimed fields hold "" so far
        while decoded:
            steps, name, data = decoded.pop(0)
            setattr(_reach(message, steps), name, data)
            del data  # one decoded blob at a time beside the message

    def release(self) -> None:
        """Let go of the body: empty it when it is ours to empty, so callers' references free nothing."""
        if isinstance(self._source, bytearray):
            self._source.clear()
        self._source = b""
        self._blobs = {}

    def _claim(self, descriptor: Descriptor) -> list[tuple[Steps, str, Keys, Span]]:
        """The blobs that are singular bytes fields (left as "" in ``value``); every other blob gets its text back.

        A walk with a queue, not recursion: the depth of a client's JSON is the client's choice.
        """
        targets: list[tuple[Steps, str, Keys, Span]] = []
        if not self._blobs:
            return targets
        top = self._span_of(self.value)
        if top is not None:  # the whole body is one string
            self.value = self._text(top)
        start = None if descriptor.full_name.startswith(WELL_KNOWN_PREFIX) else descriptor
        queue: collections.deque[tuple[Any, Descriptor | None, Steps, Keys]] = collections.deque(
            [(self.value, start, (), ())]
        )
        while queue:
            node, node_descriptor, steps, keys = queue.popleft()
            if isinstance(node, dict) and node_descriptor is not None:
                targets.extend(self._claim_fields(node, node_descriptor, steps, keys, queue))
            elif isinstance(node, (dict, list)):
                self._restore_below(node, queue)
        return targets

    def _claim_fields(
        self,
        node: dict[str, Any],
        descriptor: Descriptor,
        steps: Steps,
        keys: Keys,
        queue: collections.deque[tuple[Any, Descriptor | None, Steps, Keys]],
    ) -> Iterator[tuple[Steps, str, Keys, Span]]:
        fields = {key: _field_for_key(descriptor, key) for key in node}
        named_twice = _named_twice(fields.values())
        for key, child in node.items():
            field = fields[key]
            span = self._span_of(child)
            path_keys = (*keys, (key, field is not None and field.containing_oneof is not None))
            if span is not None and field is not None and field not in named_twice and _is_singular_bytes(field):
                node[key] = ""
                yield steps, field.name, path_keys, span
            elif span is not None:
                node[key] = self._text(span)
            elif not isinstance(child, (dict, list)):
                continue
            elif field is None or field in named_twice or not _is_plain_message_field(field):
                queue.append((child, None, (), ()))  # only blobs to give back below here
            elif field.is_repeated and isinstance(child, list):
                message_type = _message_type(field)
                for index, item in enumerate(child):
                    if isinstance(item, dict):
                        queue.append((item, message_type, (*steps, (field.name, index)), path_keys))
                self._restore_below(child, queue, dicts_too=False)
            elif not field.is_repeated:
                queue.append((child, _message_type(field), (*steps, (field.name, None)), path_keys))
            else:
                queue.append((child, None, (), ()))

    def _restore_below(
        self,
        node: dict[str, Any] | list[Any],
        queue: collections.deque[tuple[Any, Descriptor | None, Steps, Keys]],
        *,
        dicts_too: bool = True,
    ) -> None:
        """Give every blob directly in ``node`` its text back; the containers in it go on the queue
        (objects only when ``dicts_too``: the caller has queued them already)."""
        items: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            span = self._span_of(child)
            if span is not None:
                node[key] = self._text(span)
            elif isinstance(child, list) or (dicts_too and isinstance(child, dict)):
                queue.append((child, None, (), ()))

    def _span_of(self, value: Any) -> Span | None:
        return self._blobs.get(value) if isinstance(value, str) else None

    def _text(self, span: Span) -> str:
        with memoryview(self._source) as whole, whole[span[0] : span[1]] as raw:
            return str(raw, "ascii")

    def _decode(self, keys: Keys, span: Span) -> bytes:
        with memoryview(self._source) as whole, whole[span[0] : span[1]] as raw:
            try:
                return decode_base64(raw)
            except binascii.Error as exc:
                raise RpcError(Code.INVALID_ARGUMENT, _parse_error_text(keys, exc)) from None


def decode_base64(raw: memoryview) -> bytes:
    """What ``json_format`` makes of a JSON string of base64 characters, read from the body in place.

    Standard, padded base64 (what browsers and most encoders send) decodes strictly without a
    copy, and strict success means the lenient reading agrees. Anything else (the URL-safe
    alphabet, missing padding) takes ``json_format``'s own steps on a copy.
    """
    try:
        return binascii.a2b_base64(raw, strict_mode=True)
    except binascii.Error:
        pass
    text = bytes(raw)
    return base64.urlsafe_b64decode(text + b"=" * (4 - len(text) % 4))


def _parse_error_text(keys: Keys, error: Exception) -> str:
    """The text ``json_format`` gives for a bad value at the end of ``keys``."""
    leaf, _ = keys[-1]
    text = f"Failed to parse {leaf} field: {error}."
    for key, in_oneof in reversed(keys[:-1]):
        if not in_oneof:
            text = f"Failed to parse {key} field: {text}."
    return text


def _reach(message: Message, steps: Steps) -> Message:
    for name, index in steps:
        child = getattr(message, name)
        message = child if index is None else child[index]
    return message


# --- parsing -----------------------------------------------------------------------------------


def parse_json_body(data: bytes | bytearray, *, min_blob_chars: int = MIN_BLOB_CHARS) -> JsonBody | None:
    """Parse a JSON request body; None for an empty one. Malformed text is INVALID_ARGUMENT.

    A ``bytearray`` is emptied once nothing more is needed from it (see ``JsonBody.release``).
    """
    if len(data) < min_blob_chars + 2:
        # Too short to hold a blob and its quotes (most requests): nothing to cut out.
        return _parsed_whole(data)
    spans = [match.span(1) for match in _long_string(min_blob_chars).finditer(data) if _opens_string(data, match)]
    marker = secrets.token_hex(16)  # a client cannot guess it, so cannot forge a placeholder
    placeholders = [f"\x00{marker}:{index}" for index in range(len(spans))]
    text = _text_without(data, spans, placeholders)
    body = JsonBody(_load(text), data, dict(zip(placeholders, spans, strict=True)))
    if body.value is _EMPTY:
        body.release()
        return None
    if not spans:
        body.release()  # the parsed value holds all there is
    return body


def _parsed_whole(data: bytes | bytearray) -> JsonBody | None:
    value = _load(_text_without(data, [], []))
    if isinstance(data, bytearray):
        data.clear()  # as JsonBody.release would: the parsed value holds all there is
    return None if value is _EMPTY else JsonBody(value, b"", {})


def _opens_string(data: bytes | bytearray, match: re.Match[bytes]) -> bool:
    """The match's first quote starts a string: it is not itself escaped (an odd run of backslashes)."""
    start = match.start()
    backslashes = 0
    while start - backslashes > 0 and data[start - backslashes - 1] == 0x5C:
        backslashes += 1
    return backslashes % 2 == 0


def _text_without(data: bytes | bytearray, spans: list[Span], placeholders: list[str]) -> str:
    """The body as text, each span replaced by its placeholder (written as JSON)."""
    if spans:
        # Only the short parts are copied: the spans are what is left out.
        pieces: list[bytes | bytearray] = []
        position = 0
        for (start, end), placeholder in zip(spans, placeholders, strict=True):
            pieces.append(data[position:start])
            pieces.append(json.dumps(placeholder)[1:-1].encode("ascii"))
            position = end
        pieces.append(data[position:])
        data = b"".join(pieces)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RpcError(Code.INVALID_ARGUMENT, "request body is not valid UTF-8") from None


_EMPTY = object()


def _load(text: str) -> Any:
    if not text.strip():
        return _EMPTY
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid JSON in request body: {exc}") from None


def merge_json(value: Any, message: Message) -> None:
    """Merge parsed protobuf JSON into ``message`` (either field spelling; unknown keys ignored)."""
    if not isinstance(value, dict) and not message.DESCRIPTOR.full_name.startswith(WELL_KNOWN_PREFIX):
        raise RpcError(
            Code.INVALID_ARGUMENT,
            f"{message.DESCRIPTOR.full_name} must be a JSON object, not {type(value).__name__}",
        )
    try:
        json_format.ParseDict(value, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise RpcError(Code.INVALID_ARGUMENT, str(exc)) from None
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        # json_format lets some shape mismatches through as plain Python errors.
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid value for {message.DESCRIPTOR.full_name}: {exc}") from None


# --- which fields a blob may go to directly -------------------------------------------------------


def descriptor_of(message: Message) -> Descriptor:
    # The stubs type DESCRIPTOR as one of two classes with the same API (see codec.descriptor_of).
    return cast(Descriptor, message.DESCRIPTOR)


@functools.cache
def _fields_by_key(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    """json_format's lookup: the JSON name (a later field over an earlier one), then the original name."""
    by_json_name = {field.json_name: field for field in descriptor.fields}
    return {**descriptor.fields_by_name, **by_json_name}


def _field_for_key(descriptor: Descriptor, key: str) -> FieldDescriptor | None:
    return _fields_by_key(descriptor).get(key)


def _named_twice(fields: Any) -> set[FieldDescriptor]:
    """Fields given under both spellings: left to json_format whole, since it merges or replaces them."""
    seen: set[FieldDescriptor] = set()
    twice: set[FieldDescriptor] = set()
    for field in fields:
        if field is not None:
            (twice if field in seen else seen).add(field)
    return twice


def _is_singular_bytes(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_BYTES and not field.is_repeated


def _is_plain_message_field(field: FieldDescriptor) -> bool:
    """A message field json_format fills key by key: not a map, not a well-known type."""
    message_type = field.message_type
    if message_type is None or message_type.GetOptions().map_entry:
        return False
    return not message_type.full_name.startswith(WELL_KNOWN_PREFIX)


def _message_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None  # only asked of message fields
    return field.message_type
