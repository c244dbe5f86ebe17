"""Protobuf messages to JSON-ready dicts, fast, with the output of ``json_format``.

``json_format.MessageToDict`` decides how to print each field anew for every
value (descriptor lookups, type switches), which made it the largest single
cost of a list response. Here that decision is made once per message type: a
plan holds, for each field, its JSON name, when it is printed and a converter
for its values. The output is the same dict ``MessageToDict`` gives (keys in
the same order), checked over random messages of every API type by
tests/rpc/test_json_render.py.

Two modes:

* canonical (Connect JSON): fields at their default are left out; keys in the
  order ``ListFields`` gives (field number).
* gateway (REST): every field without presence printed, unset singular message
  fields outside a oneof printed as null, keys in declaration order, as the Go
  gateway does. Unset fields with explicit presence (oneof members, proto3
  ``optional``) stay out.

Well-known types (``google.protobuf.*``) are printed by ``json_format`` itself:
they have their own JSON forms and are rare enough not to matter.
"""
from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

Convert = Callable[[Any], Any]
Render = Callable[[Message], dict[str, Any]]

WELL_KNOWN_PREFIX = "google.protobuf."
# These three print as a string through their own method (json_format does the same).
_STRING_FORM = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"})
_INT64_TYPES = frozenset({
    FieldDescriptor.CPPTYPE_INT64,
    FieldDescriptor.CPPTYPE_UINT64,
})

# How a field is printed in gateway mode.
_ALWAYS = 0  # no presence: printed even at its default
_IF_SET = 1  # explicit presence: printed only when set
_OR_NULL = 2  # singular message outside a oneof: printed, or null when unset

_Field = tuple[str, str, int, Convert]  # name, json name, gateway rule, converter
_Plan = tuple[tuple[_Field, ...], dict[int, tuple[str, Convert]]]


def render_canonical(message: Message) -> dict[str, Any]:
    """What ``MessageToDict(message)`` returns."""
    return _CANONICAL.render(message)


def render_gateway(message: Message) -> dict[str, Any]:
    """What ``MessageToDict(message, always_print_fields_with_no_presence=True)`` returns,
    plus null for unset singular message fields outside oneofs, keys in declaration order."""
    return _GATEWAY.render(message)


class _Renderer:
    """One mode's plans, built on first use of each message type."""

    def __init__(self, *, gateway: bool) -> None:
        self._gateway = gateway
        self._plans: dict[Any, _Plan] = {}
        # json_format's own printer names enum values (it knows custom JSON names);
        # asked once per enum value, and for numbers outside the enum.
        self._printer: Any = getattr(json_format, "_Printer")(always_print_fields_with_no_presence=gateway)  # noqa: B009

    def render(self, message: Message) -> dict[str, Any]:
        descriptor = cast(Descriptor, message.DESCRIPTOR)
        if descriptor.full_name.startswith(WELL_KNOWN_PREFIX):
            rendered: dict[str, Any] = self._well_known(message)
            return rendered
        plan = self._plans.get(descriptor)
        if plan is None:
            plan = self._plan(descriptor)
        if self._gateway:
            return _render_all(message, plan[0])
        return _render_set(message, plan[1])

    def _well_known(self, message: Message) -> Any:
        return json_format.MessageToDict(message, always_print_fields_with_no_presence=self._gateway)

    def _plan(self, descriptor: Descriptor) -> _Plan:
        fields = tuple(self._field(field) for field in descriptor.fields)
        by_number = {field.number: (entry[1], entry[3]) for field, entry in zip(descriptor.fields, fields, strict=True)}
        plan: _Plan = (fields, by_number)
        self._plans[descriptor] = plan
        return plan

    def _field(self, field: FieldDescriptor) -> _Field:
        if is_map(field):
            rule = _ALWAYS
            entry_type = cast(Descriptor, field.message_type)
            convert = _map_converter(self._value(entry_type.fields_by_name["value"]))
        elif field.is_repeated:
            rule = _ALWAYS
            convert = _list_converter(self._value(field))
        elif field.message_type is not None:
            rule = _OR_NULL if field.containing_oneof is None else _IF_SET
            convert = self._value(field)
        else:
            rule = _IF_SET if field.has_presence else _ALWAYS
            convert = self._value(field)
        return (field.name, field.json_name, rule, convert)

    def _value(self, field: FieldDescriptor) -> Convert:
        """The converter of one value of ``field`` (one item, for repeated fields)."""
        cpp_type = field.cpp_type
        if field.message_type is not None:
            return self._message_converter(field.message_type)
        if cpp_type == FieldDescriptor.CPPTYPE_ENUM:
            return self._enum_converter(field)
        if cpp_type == FieldDescriptor.CPPTYPE_STRING:
            return _bytes_text if field.type == FieldDescriptor.TYPE_BYTES else _same
        if cpp_type in _INT64_TYPES:
            return str
        if cpp_type == FieldDescriptor.CPPTYPE_DOUBLE:
            return _double
        if cpp_type == FieldDescriptor.CPPTYPE_FLOAT:
            return _float
        return _same  # bool, 32-bit integers

    def _message_converter(self, descriptor: Descriptor) -> Convert:
        if descriptor.full_name in _STRING_FORM:
            return _to_json_string
        if descriptor.full_name.startswith(WELL_KNOWN_PREFIX):
            return self._well_known
        return self.render

    def _enum_converter(self, field: FieldDescriptor) -> Convert:
        printer = self._printer
        # The printer's own answer for each known number (custom JSON names included).
        numbers = field.enum_type.values_by_number if field.enum_type is not None else {}
        names = {number: printer._FieldToJsonObject(field, number) for number in numbers}

        def convert(value: Any) -> Any:
            name = names.get(value)
            if name is None:
                return printer._FieldToJsonObject(field, value)
            return name

        return convert


def _render_all(message: Message, fields: tuple[_Field, ...]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for name, json_name, rule, convert in fields:
        if rule == _ALWAYS or message.HasField(name):
            rendered[json_name] = convert(getattr(message, name))
        elif rule == _OR_NULL:
            rendered[json_name] = None
    return rendered


def _render_set(message: Message, by_number: dict[int, tuple[str, Convert]]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for field, value in message.ListFields():
        entry = by_number.get(field.number)
        if entry is None:
            # Extensions print under their full name; json_format knows how.
            return json_format.MessageToDict(message)
        rendered[entry[0]] = entry[1](value)
    return rendered


def is_map(field: FieldDescriptor) -> bool:
    """A map field (a repeated field of generated map-entry messages)."""
    return field.is_repeated and field.message_type is not None and field.message_type.GetOptions().map_entry


def _list_converter(item: Convert) -> Convert:
    if item is _same:
        return list
    return lambda values: [item(value) for value in values]


def _map_converter(item: Convert) -> Convert:
    return lambda entries: {_key_text(key): item(value) for key, value in entries.items()}


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _same(value: Any) -> Any:
    return value


def _bytes_text(value: bytes) -> str:
    return base64.b64encode(value).decode("utf-8")


def _to_json_string(value: Any) -> Any:
    return value.ToJsonString()


def _double(value: float) -> Any:
    if math.isinf(value):
        return "-Infinity" if value < 0.0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    return value


def _float(value: float) -> Any:
    if math.isinf(value) or math.isnan(value):
        return _double(value)
    return type_checkers.ToShortestFloat(value)


_CANONICAL = _Renderer(gateway=False)
_GATEWAY = _Renderer(gateway=True)
