"""The fast renderer prints exactly what json_format printed, for every API message type.

The reference is the rendering the codec used before: ``MessageToDict`` (with
defaults for the gateway) plus null for unset singular messages, reordered to
declaration order. Random messages (seeded, so a failure reproduces) fill
every kind of field: scalars at edge values, enums (also unknown numbers),
oneofs, proto3 optional, repeated, maps, nested and well-known types.
"""
from __future__ import annotations

import importlib
import json
import math
import pkgutil
import random
from typing import Any

import pytest
from google.protobuf import any_pb2, json_format, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

import memos.gen.api.v1
from memos.gen.api.v1 import memo_service_pb2
from memos.rpc import codec, json_render

# Every generated module of memos.api.v1 (the services and common_pb2).
_MODULES = tuple(
    importlib.import_module(module.name)
    for module in pkgutil.iter_modules(memos.gen.api.v1.__path__, "memos.gen.api.v1.")
    if module.name.endswith("_pb2")
)
_WELL_KNOWN = "google.protobuf."
_STRINGS = ("", "a", "memos/1", "ünïcode ✓", '"quoted"\n\\', "\u0000", "𝄞")
_INTS32 = (0, 1, -1, 2**31 - 1, -(2**31))
_INTS64 = (0, 1, -1, 2**63 - 1, -(2**63), 2**53 + 1)
_UINTS = (0, 1, 2**32 - 1)
_UINTS64 = (0, 1, 2**64 - 1)
_DOUBLES = (0.0, -0.0, 1.5, -2.25, 1e300, math.inf, -math.inf, math.nan, 0.1)


def _all_messages() -> list[Descriptor]:
    found: dict[str, Descriptor] = {}

    def walk(descriptor: Descriptor) -> None:
        if descriptor.full_name in found or descriptor.GetOptions().map_entry:
            return
        found[descriptor.full_name] = descriptor
        for nested in descriptor.nested_types:
            walk(nested)
        for field in descriptor.fields:
            if field.message_type is not None and not field.message_type.full_name.startswith(_WELL_KNOWN):
                walk(field.message_type)

    for module in _MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            walk(descriptor)
    return sorted(found.values(), key=lambda d: d.full_name)


def _scalar(rng: random.Random, field: FieldDescriptor) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = list(field.enum_type.values_by_number)
        return rng.choice([*numbers, 77]) if not field.enum_type.is_closed else rng.choice(numbers)
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(_STRINGS)
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(5)))
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice(_DOUBLES)
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64):
        return rng.choice(_INTS64)
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice(_UINTS64)
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice(_UINTS)
    return rng.choice(_INTS32)


def _fill_well_known(rng: random.Random, message: Message, depth: int) -> None:
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = rng.choice((0, 1_700_000_000, -1, 253402300799))
        message.nanos = rng.choice((0, 1_000_000, 123_456_789, 1000))
    elif name == "google.protobuf.Duration":
        message.seconds = rng.choice((0, 5, -5, 3600))
        message.nanos = rng.choice((0, 500_000_000)) * (1 if message.seconds >= 0 else -1)
    elif name == "google.protobuf.FieldMask":
        message.paths.extend(rng.sample(["content", "visibility", "display_name", "a.b_c"], rng.randrange(3)))
    elif name == "google.protobuf.Struct":
        message.update({"k": rng.choice(_STRINGS), "n": 2.5, "b": True, "z": None, "l": [1, "x"]})
    elif name == "google.protobuf.Value":
        message.MergeFrom(struct_pb2.Value(string_value=rng.choice(_STRINGS)))
    elif name == "google.protobuf.Any":
        inner = memo_service_pb2.Memo()
        _fill(rng, inner, depth + 1)
        message.Pack(inner)  # type: ignore[attr-defined]
    elif message.DESCRIPTOR.file.name == "google/protobuf/wrappers.proto":
        message.value = _scalar(rng, message.DESCRIPTOR.fields_by_name["value"])


def _fill(rng: random.Random, message: Message, depth: int = 0) -> None:
    """Set a random subset of ``message``'s fields to random values."""
    descriptor = message.DESCRIPTOR
    if descriptor.full_name.startswith(_WELL_KNOWN):
        _fill_well_known(rng, message, depth)
        return
    for field in descriptor.fields:
        if rng.random() < 0.35 or (depth > 3 and field.message_type is not None):
            continue
        if field.is_repeated and field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            target = getattr(message, field.name)
            for _ in range(rng.randrange(3)):
                key = _scalar(rng, key_field)
                if value_field.message_type is not None:
                    _fill(rng, target[key], depth + 1)
                else:
                    target[key] = _scalar(rng, value_field)
        elif field.is_repeated:
            target = getattr(message, field.name)
            for _ in range(rng.randrange(3)):
                if field.message_type is not None:
                    _fill(rng, target.add(), depth + 1)
                else:
                    target.append(_scalar(rng, field))
        elif field.message_type is not None:
            sub = getattr(message, field.name)
            sub.SetInParent()
            _fill(rng, sub, depth + 1)
        else:
            setattr(message, field.name, _scalar(rng, field))


def _reference_nulls(message: Message, rendered: dict[str, Any]) -> None:
    """The codec's former gateway pass: null for unset singular messages, declaration order."""
    descriptor = message.DESCRIPTOR
    if descriptor.full_name.startswith(_WELL_KNOWN):
        return
    for field in descriptor.fields:
        if field.message_type is None:
            continue
        if codec.is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None and not value_field.message_type.full_name.startswith(_WELL_KNOWN):
                entries = rendered.get(field.json_name, {})
                for key, item in getattr(message, field.name).items():
                    text = ("true" if key else "false") if isinstance(key, bool) else str(key)
                    _reference_nulls(item, entries[text])
        elif field.is_repeated:
            if not field.message_type.full_name.startswith(_WELL_KNOWN):
                items = zip(getattr(message, field.name), rendered.get(field.json_name, []), strict=False)
                for item, item_rendered in items:
                    _reference_nulls(item, item_rendered)
        elif message.HasField(field.name):
            if isinstance(rendered.get(field.json_name), dict):
                _reference_nulls(getattr(message, field.name), rendered[field.json_name])
        elif field.containing_oneof is None:
            rendered[field.json_name] = None
    ordered = {f.json_name: rendered[f.json_name] for f in descriptor.fields if f.json_name in rendered}
    rendered.clear()
    rendered.update(ordered)


def _reference_gateway(message: Message) -> dict[str, Any]:
    rendered = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    _reference_nulls(message, rendered)
    return rendered


def _text(value: Any) -> str:
    # Compare the bytes a client sees (key order included; NaN never equals itself as a float).
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_DESCRIPTORS = _all_messages()


def test_every_api_message_type_is_covered() -> None:
    names = {d.full_name for d in _DESCRIPTORS}
    assert "memos.api.v1.Memo" in names and "memos.api.v1.ListMemosResponse" in names and len(names) > 100


@pytest.mark.parametrize("descriptor", _DESCRIPTORS, ids=lambda d: d.full_name)
def test_renderer_matches_json_format(descriptor: Descriptor) -> None:
    message_class = GetMessageClass(descriptor)
    rng = random.Random(descriptor.full_name)
    for round_ in range(40):
        message = message_class()
        if round_:
            _fill(rng, message)
        assert _text(json_render.render_canonical(message)) == _text(json_format.MessageToDict(message))
        assert _text(json_render.render_gateway(message)) == _text(_reference_gateway(message))


@pytest.mark.parametrize(
    "message",
    [
        struct_pb2.Struct(),
        struct_pb2.Value(number_value=1.5),
        any_pb2.Any(),
        memo_service_pb2.Memo(),
    ],
    ids=lambda m: m.DESCRIPTOR.full_name,
)
def test_top_level_messages_render_alike(message: Message) -> None:
    assert _text(json_render.render_canonical(message)) == _text(json_format.MessageToDict(message))
    assert _text(json_render.render_gateway(message)) == _text(_reference_gateway(message))
