"""Message encodings of the two transports.

Connect speaks binary protobuf or canonical protobuf JSON that leaves out
default values. The REST gateway speaks protobuf JSON that prints every field
(see ``gateway_json_encode``). Decoding failures always become
INVALID_ARGUMENT with a readable message: bad input is the client's problem.
"""
from __future__ import annotations

import collections
import json
from typing import Any, TypeVar, cast

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message

from memos.call import Code, RpcError
from memos.rpc import json_render
from memos.rpc.json_input import parse_json_body

M = TypeVar("M", bound=Message)


def descriptor_of(message: Message) -> Descriptor:
    """A message's descriptor, typed as the one descriptor API.

    The stubs type ``Message.DESCRIPTOR`` as either the pure-Python or the upb
    class; at run time both offer the same API, and protobuf's own isinstance
    check accepts either as a ``Descriptor``.
    """
    return cast(Descriptor, message.DESCRIPTOR)


def binary_decode(data: bytes | bytearray, message_class: type[M]) -> M:
    try:
        # The parser takes any buffer (the stubs say bytes): no copy of the body into bytes first.
        return message_class.FromString(cast(bytes, data))
    except (DecodeError, ValueError, TypeError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"unmarshal into {message_class.DESCRIPTOR.full_name}: {exc}") from None


def binary_encode(message: Message) -> bytes:
    return message.SerializeToString()


def connect_json_encode(message: Message) -> bytes:
    """Canonical protobuf JSON: fields at their default are left out, set optionals kept."""
    return _dump(json_render.render_canonical(message))


def connect_json_decode(data: bytes | bytearray, message_class: type[M]) -> M:
    """Canonical protobuf JSON into a new message; unknown fields are ignored.

    A ``bytearray`` body is emptied on the way (see ``json_input``).
    """
    if not data.strip():
        # An empty body is not a JSON object (Connect peers reject it the same way).
        raise RpcError(
            Code.INVALID_ARGUMENT,
            f"unmarshal into {message_class.DESCRIPTOR.full_name}: zero-length payload is not a valid JSON object",
        )
    return _json_decode(data, message_class)


def gateway_json_encode(message: Message) -> bytes:
    """The gateway rendering: every field printed, unset singular messages as null.

    Fields with explicit presence that are unset (members of a oneof, proto3
    ``optional`` fields) stay out, exactly as the Go gateway prints them.
    """
    return _dump(json_render.render_gateway(message))


def gateway_json_decode(data: bytes | bytearray, message_class: type[M]) -> M:
    """A whole request message from a REST body; an empty body gives an empty message.

    A ``bytearray`` body is emptied on the way (see ``json_input``).
    """
    return _json_decode(data, message_class)


def _json_decode(data: bytes | bytearray, message_class: type[M]) -> M:
    if len(data) > SMALL_BODY_BYTES:
        return _merged(data, message_class)
    key = (message_class.DESCRIPTOR.full_name, bytes(data))
    if isinstance(data, bytearray):
        data.clear()  # as a large body would be: the copy in the key is what is read
    kept = _small_bodies.get(key)
    if kept is None:
        kept = _merged(key[1], message_class).SerializeToString()  # a body that fails raises: not kept
        _small_bodies[key] = kept
        if len(_small_bodies) > SMALL_BODIES_KEPT:
            _small_bodies.popitem(last=False)
    else:
        _small_bodies.move_to_end(key)
    # The binary form is lossless for a message (unknown JSON keys are dropped anyway).
    return message_class.FromString(kept)


# Clients send the same small requests again and again (the first page of memos on every visit):
# the decoded form of the most recent few hundred is kept, binary (a few hundred KiB at most).
SMALL_BODY_BYTES = 1024
SMALL_BODIES_KEPT = 256
_small_bodies: collections.OrderedDict[tuple[str, bytes], bytes] = collections.OrderedDict()


def _merged(data: bytes | bytearray, message_class: type[M]) -> M:
    message = message_class()
    body = parse_json_body(data)
    if body is not None:
        body.merge_into(message)
    return message


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


is_map = json_render.is_map
