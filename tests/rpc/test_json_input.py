"""Request JSON into messages: long base64 strings read from the body in place give exactly what
json_format gives, for any message shape; the body buffer is let go of once read."""
from __future__ import annotations

import base64
import json
import string
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, struct_pb2, wrappers_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import given, settings
from hypothesis import strategies as st

import memos.gen.api.v1.attachment_service_pb2 as attachment_pb
from memos.call import Code, RpcError
from memos.rpc.json_input import parse_json_body

# --- a message type with every shape a bytes value can sit in ----------------------------------

_FIELD = descriptor_pb2.FieldDescriptorProto
_TYPES = {"bytes": _FIELD.TYPE_BYTES, "string": _FIELD.TYPE_STRING, "int64": _FIELD.TYPE_INT64,
          "bool": _FIELD.TYPE_BOOL, "Kind": _FIELD.TYPE_ENUM}
_NAMED = {"Kind": ".jsoninput.test.Kind", "Sample": ".jsoninput.test.Sample",
          "BytesValue": ".google.protobuf.BytesValue", "Struct": ".google.protobuf.Struct"}
# (name, type, how): how is "", "repeated", "map" (string keys), "oneof" (one oneof) or "optional".
_SAMPLE_FIELDS = [
    ("blob", "bytes", ""), ("blobs", "bytes", "repeated"), ("blob_map", "bytes", "map"),
    ("child", "Sample", ""), ("children", "Sample", "repeated"), ("child_map", "Sample", "map"),
    ("text", "string", ""), ("texts", "string", "repeated"), ("count", "int64", ""), ("kind", "Kind", ""),
    ("flag", "bool", ""), ("one_blob", "bytes", "oneof"), ("one_text", "string", "oneof"),
    ("maybe_blob", "bytes", "optional"), ("wrapped", "BytesValue", ""), ("meta", "Struct", ""),
    ("renamed_blob", "bytes", ""),
]


def _sample_class() -> type[Message]:
    """A message type with every place a bytes value can sit in, made at run time."""
    pool = descriptor_pool.Default()
    try:
        return GetMessageClass(pool.FindMessageTypeByName("jsoninput.test.Sample"))
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name="tests/rpc/json_input_sample.proto", package="jsoninput.test", syntax="proto3",
        dependency=[wrappers_pb2.DESCRIPTOR.name, struct_pb2.DESCRIPTOR.name],
    )
    kind = file.enum_type.add(name="Kind")
    for number, name in enumerate(["KIND_UNSPECIFIED", "ABC", "QUIET"]):
        kind.value.add(name=name, number=number)
    sample = file.message_type.add(name="Sample")
    sample.oneof_decl.add(name="choice")
    for number, (name, kind_name, how) in enumerate(_SAMPLE_FIELDS, start=1):
        field = sample.field.add(name=name, number=number, label=_FIELD.LABEL_OPTIONAL)
        _set_type(field, kind_name)
        if how == "repeated":
            field.label = _FIELD.LABEL_REPEATED
        elif how == "map":
            _make_map(sample, field)
        elif how == "oneof":
            field.oneof_index = 0
        elif how == "optional":
            field.oneof_index = len(sample.oneof_decl)
            sample.oneof_decl.add(name="_" + name)
            field.proto3_optional = True
    sample.field[-1].json_name = "otherName"
    pool.Add(file)
    return GetMessageClass(pool.FindMessageTypeByName("jsoninput.test.Sample"))


def _set_type(field: descriptor_pb2.FieldDescriptorProto, kind_name: str) -> None:
    field.type = _TYPES.get(kind_name, _FIELD.TYPE_MESSAGE)
    if kind_name in _NAMED:
        field.type_name = _NAMED[kind_name]


def _make_map(sample: descriptor_pb2.DescriptorProto, field: descriptor_pb2.FieldDescriptorProto) -> None:
    entry = sample.nested_type.add(name="".join(part.title() for part in field.name.split("_")) + "Entry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, label=_FIELD.LABEL_OPTIONAL, type=_FIELD.TYPE_STRING)
    value = entry.field.add(name="value", number=2, label=_FIELD.LABEL_OPTIONAL)
    value.type = field.type
    if field.HasField("type_name"):
        value.type_name = field.type_name
    field.label, field.type = _FIELD.LABEL_REPEATED, _FIELD.TYPE_MESSAGE
    field.type_name = f".jsoninput.test.Sample.{entry.name}"


Sample = _sample_class()

# --- random JSON for it: mostly valid, often not ----------------------------------------------------

BASE64_CHARS = string.ascii_letters + string.digits + "+/=-_"


@st.composite
def base64_text(draw: st.DrawFn) -> str:
    """Base64 of random bytes in every spelling clients use, or base64 characters in any order."""
    data = draw(st.binary(max_size=40))
    encoded = draw(st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]))(data).decode()
    return draw(st.one_of(
        st.just(encoded), st.just(encoded.rstrip("=")), st.just(encoded + "="),
        st.text(alphabet=BASE64_CHARS, max_size=24),
    ))


SCALARS: st.SearchStrategy[Any] = st.one_of(
    base64_text(), st.text(max_size=8), st.integers(-5, 10**20), st.booleans(), st.none(),
    st.sampled_from(["ABC", "QUIET", "12", "NaN"]),
)


def _value(draw: st.DrawFn, field: FieldDescriptor, depth: int) -> Any:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        value_field = message_type.fields_by_name["value"]
        keys = st.one_of(st.text(max_size=4), base64_text())
        return {draw(keys): _single(draw, value_field, depth) for _ in range(draw(st.integers(0, 2)))}
    if field.is_repeated:
        return [_single(draw, field, depth) for _ in range(draw(st.integers(0, 2)))]
    return _single(draw, field, depth)


def _single(draw: st.DrawFn, field: FieldDescriptor, depth: int) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(SCALARS)  # any type at all: json_format decides
    message_type = field.message_type
    if message_type is None:
        return draw(base64_text()) if field.type in (field.TYPE_BYTES, field.TYPE_STRING) else draw(SCALARS)
    if message_type.full_name == "google.protobuf.BytesValue":
        return draw(base64_text())
    if message_type.full_name == "google.protobuf.Struct":
        return draw(st.dictionaries(st.text(max_size=4), st.one_of(base64_text(), st.integers()), max_size=2))
    return _object(draw, message_type, depth - 1) if depth > 0 else {}


def _object(draw: st.DrawFn, descriptor: Descriptor, depth: int) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(list(descriptor.fields)), max_size=4))
    result: dict[str, Any] = {}
    for field in chosen:  # a field chosen twice may come back under its other spelling
        key = draw(st.sampled_from([field.name, field.json_name]))
        result[key] = _value(draw, field, depth)
    if draw(st.booleans()):
        result[draw(st.sampled_from(["unknownField", "blobx", "AAAA"]))] = draw(SCALARS)
    return result


@st.composite
def sample_json(draw: st.DrawFn) -> str:
    text = json.dumps(_object(draw, Sample.DESCRIPTOR, depth=3), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = text.replace("/", "\\/")  # some encoders escape the slash; it reads the same
    return text


def _reference(text: str, message_class: type[Message]) -> Message | str:
    """What the plain route makes of ``text``: the message, or "error"."""
    message = message_class()
    try:
        json_format.ParseDict(json.loads(text), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, KeyError):
        return "error"
    return message


def _decoded(text: str, message_class: type[Message], min_blob_chars: int) -> Message | str:
    message = message_class()
    try:
        body = parse_json_body(bytearray(text.encode()), min_blob_chars=min_blob_chars)
        if body is not None:
            body.merge_into(message)
    except RpcError as error:
        assert error.code is Code.INVALID_ARGUMENT
        return "error"
    return message


@settings(max_examples=400, deadline=None)
@given(sample_json(), st.integers(1, 6))
def test_any_body_decodes_exactly_as_json_format_does(text: str, min_blob_chars: int) -> None:
    assert _decoded(text, Sample, min_blob_chars) == _reference(text, Sample)


# --- the cases one by one ---------------------------------------------------------------------------


def _blob_body(content: bytes, **extra: Any) -> bytearray:
    return bytearray(json.dumps({"filename": "a.bin", "content": base64.b64encode(content).decode(), **extra}).encode())


def test_a_long_base64_value_becomes_the_bytes_field_and_the_body_is_emptied() -> None:
    content = bytes(range(256)) * 64
    body = _blob_body(content, memo="memos/1")
    parsed = parse_json_body(body, min_blob_chars=1024)
    assert parsed is not None
    attachment = attachment_pb.Attachment()
    parsed.merge_into(attachment)
    assert attachment.content == content and attachment.filename == "a.bin" and attachment.memo == "memos/1"
    assert body == bytearray()  # released before the message was filled


@pytest.mark.parametrize("encode", [base64.urlsafe_b64encode, lambda data: base64.b64encode(data).rstrip(b"=")])
def test_url_safe_and_unpadded_base64_are_read_as_json_format_reads_them(encode: Any) -> None:
    content = b"\xfb\xff\xfe" * 1000 + b"x"
    text = json.dumps({"content": encode(content).decode()})
    assert _decoded(text, attachment_pb.Attachment, 100) == _reference(text, attachment_pb.Attachment)
    assert _decoded(text, attachment_pb.Attachment, 100).content == content  # type: ignore[union-attr]


def test_invalid_base64_fails_with_the_json_format_message() -> None:
    text = json.dumps({"attachment": {"content": "A" * 4001}})
    with pytest.raises(RpcError) as raised:
        parsed = parse_json_body(bytearray(text.encode()), min_blob_chars=100)
        assert parsed is not None
        parsed.merge_into(attachment_pb.CreateAttachmentRequest())
    with pytest.raises(json_format.ParseError) as expected:
        json_format.ParseDict(json.loads(text), attachment_pb.CreateAttachmentRequest())
    assert raised.value.code is Code.INVALID_ARGUMENT
    assert raised.value.message == str(expected.value)


def test_long_strings_that_are_not_bytes_fields_keep_their_text() -> None:
    long = "QUFB" * 500
    text = json.dumps({"filename": long, "type": long, "size": "1" * 10, "unknown": long, "externalLink": [long]})
    assert _decoded(text, attachment_pb.Attachment, 8) == _reference(text, attachment_pb.Attachment)


def test_a_quote_escaped_inside_a_string_is_not_taken_for_the_start_of_one() -> None:
    text = '{"filename": "x\\"' + "QUFB" * 100 + '", "content": "' + "QUFB" * 100 + '"}'
    decoded = _decoded(text, attachment_pb.Attachment, 16)
    assert decoded == _reference(text, attachment_pb.Attachment)
    assert decoded.filename == 'x"' + "QUFB" * 100  # type: ignore[union-attr]


def test_an_object_key_made_of_base64_characters_stays_a_key() -> None:
    text = '{"content" : "QUFB", "' + "Q" * 40 + '" : 1}'
    assert _decoded(text, attachment_pb.Attachment, 4) == _reference(text, attachment_pb.Attachment)


def test_a_body_that_is_one_long_string_is_refused_as_before() -> None:
    assert _decoded('"' + "QUFB" * 100 + '"', attachment_pb.Attachment, 8) == "error"


def test_empty_and_malformed_bodies() -> None:
    assert parse_json_body(bytearray(b"  \n")) is None
    for bad in (b"{not json", b'{"content": "' + b"Q" * 64 + b'"', b"\xff\xfe", b'{"a": "' + b"Q" * 64 + b'\xff"}'):
        with pytest.raises(RpcError) as raised:
            parse_json_body(bytearray(bad), min_blob_chars=8)
        assert raised.value.code is Code.INVALID_ARGUMENT
