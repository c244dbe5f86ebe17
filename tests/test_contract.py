"""The compiled descriptors match the Memos v0.30 contract field for field.

The contract listings live in ../shared/contract/ beside the checkout, or where
MEMOS_CONTRACT_DIR points (tests/support.py; under CI a missing one fails the run);
they are read at test time and never copied into the project.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest
from google.api import annotations_pb2, field_behavior_pb2
from google.protobuf import descriptor, descriptor_pool
from support import CONTRACT_DIR, CONTRACT_MISSING

import memos.gen  # noqa: F401  (package import; the modules below register the files)
from memos.gen.api.v1 import (  # noqa: F401
    ai_service_pb2,
    attachment_service_pb2,
    auth_service_pb2,
    common_pb2,
    idp_service_pb2,
    instance_service_pb2,
    memo_service_pb2,
    shortcut_service_pb2,
    user_service_pb2,
)
from memos.gen.store import (  # noqa: F401
    attachment_pb2,
    idp_pb2,
    inbox_pb2,
    instance_setting_pb2,
    memo_pb2,
    user_setting_pb2,
)

pytestmark = pytest.mark.skipif(not CONTRACT_DIR.is_dir(), reason=CONTRACT_MISSING)


@dataclasses.dataclass
class Listing:
    """What a contract file says: one line of facts per element, keyed by full name."""

    files: dict[str, str] = dataclasses.field(default_factory=dict)  # element -> file path
    rpcs: dict[str, str] = dataclasses.field(default_factory=dict)
    messages: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    enums: dict[str, set[str]] = dataclasses.field(default_factory=dict)


def _parse_listing(path: pathlib.Path) -> Listing:
    listing = Listing()
    file_path = ""
    stack: list[tuple[int, str, str]] = []  # (indent, kind, full name)
    for raw in path.read_text().splitlines():
        if not raw.strip():
            continue
        header = re.match(r"# file (\S+) \(package (\S+)\)", raw)
        if header:
            file_path, stack = header.group(1), []
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        body = raw.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        kind, _, rest = body.partition(" ")
        if kind in ("service", "message", "enum"):
            stack.append((indent, kind, rest))
            listing.files[rest] = file_path
            if kind == "message":
                listing.messages[rest] = set()
            elif kind == "enum":
                listing.enums[rest] = set()
        elif kind == "rpc":
            signature, binding = body.split("\t")
            name = re.match(r"rpc (\w+)\(", signature).group(1)
            listing.rpcs[f"{stack[-1][2]}.{name}"] = f"{signature}\t{binding}"
        elif kind == "reserved":
            listing.messages[stack[-1][2]].add(body)
        elif stack[-1][1] == "enum":
            listing.enums[stack[-1][2]].add(body)
        else:
            listing.messages[stack[-1][2]].add(body)
    return listing


_SCALARS = {
    descriptor.FieldDescriptor.TYPE_DOUBLE: "double",
    descriptor.FieldDescriptor.TYPE_FLOAT: "float",
    descriptor.FieldDescriptor.TYPE_INT64: "int64",
    descriptor.FieldDescriptor.TYPE_UINT64: "uint64",
    descriptor.FieldDescriptor.TYPE_INT32: "int32",
    descriptor.FieldDescriptor.TYPE_UINT32: "uint32",
    descriptor.FieldDescriptor.TYPE_BOOL: "bool",
    descriptor.FieldDescriptor.TYPE_STRING: "string",
    descriptor.FieldDescriptor.TYPE_BYTES: "bytes",
    descriptor.FieldDescriptor.TYPE_SINT32: "sint32",
    descriptor.FieldDescriptor.TYPE_SINT64: "sint64",
    descriptor.FieldDescriptor.TYPE_FIXED32: "fixed32",
    descriptor.FieldDescriptor.TYPE_FIXED64: "fixed64",
}


def _type_name(field: descriptor.FieldDescriptor) -> str:
    if field.message_type is not None:
        return field.message_type.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return _SCALARS[field.type]


def _describe_field(field: descriptor.FieldDescriptor) -> str:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        declared = f"map<{_type_name(key)}, {_type_name(value)}>"
    elif field.is_repeated:
        declared = f"repeated {_type_name(field)}"
    elif field.containing_oneof is not None and field.containing_oneof.name.startswith("_"):
        declared = f"optional {_type_name(field)}"
    else:
        declared = _type_name(field)
    extras = []
    real_oneof = field.containing_oneof
    if real_oneof is not None and not real_oneof.name.startswith("_"):
        extras.append(f"oneof {real_oneof.name}")
    behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    if behaviors:
        names = ",".join(field_behavior_pb2.FieldBehavior.Name(b) for b in behaviors)
        extras.append(f"behavior {names}")
    line = f"{field.number}\t{declared} {field.name}\tjson={field.json_name}"
    return line + ("\t" + "; ".join(extras) if extras else "")




def _reserved_numbers(message: descriptor.Descriptor) -> set[str]:
    from google.protobuf import descriptor_pb2

    proto = descriptor_pb2.DescriptorProto()
    message.CopyToProto(proto)
    numbers = set()
    for reserved in proto.reserved_range:
        numbers.update(f"reserved {n}" for n in range(reserved.start, reserved.end))
    return numbers


def _describe_rpc(method: descriptor.MethodDescriptor) -> str:
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    binding = f"{verb.upper()} {getattr(rule, verb)}" + (f" body={rule.body}" if rule.body else "")
    signature = f"rpc {method.name}({method.input_type.full_name}) returns ({method.output_type.full_name})"
    return f"{signature}\t{binding}"


def _compiled(listing: Listing, package: str) -> Listing:
    pool = descriptor_pool.Default()
    compiled = Listing()
    for file_path in sorted(set(listing.files.values())):
        file_descriptor = pool.FindFileByName(file_path)
        assert file_descriptor.package == package, f"{file_path} is in package {file_descriptor.package}"
        for service in file_descriptor.services_by_name.values():
            compiled.files[service.full_name] = file_path
            for method in service.methods:
                compiled.rpcs[f"{service.full_name}.{method.name}"] = _describe_rpc(method)

        def walk_enum(enum: descriptor.EnumDescriptor, file_path: str = file_path) -> None:
            compiled.files[enum.full_name] = file_path
            compiled.enums[enum.full_name] = {f"{v.number}\t{v.name}" for v in enum.values}

        def walk_message(message: descriptor.Descriptor, file_path: str = file_path) -> None:
            if message.GetOptions().map_entry:
                return
            compiled.files[message.full_name] = file_path
            compiled.messages[message.full_name] = {_describe_field(f) for f in message.fields} | _reserved_numbers(
                message
            )
            for nested in message.nested_types:
                walk_message(nested)
            for enum in message.enum_types:
                walk_enum(enum)

        for message in file_descriptor.message_types_by_name.values():
            walk_message(message)
        for enum in file_descriptor.enum_types_by_name.values():
            walk_enum(enum)
    return compiled


LISTINGS = [("api-v1-fields.txt", "memos.api.v1"), ("store-fields.txt", "memos.store")]


@pytest.fixture(scope="module", params=LISTINGS, ids=[name for name, _ in LISTINGS])
def pair(request: pytest.FixtureRequest) -> tuple[Listing, Listing]:
    file_name, package = request.param
    expected = _parse_listing(CONTRACT_DIR / file_name)
    return expected, _compiled(expected, package)


def test_every_element_lives_in_the_same_file(pair: tuple[Listing, Listing]) -> None:
    expected, actual = pair
    assert actual.files == expected.files


def test_services_methods_and_http_bindings_match(pair: tuple[Listing, Listing]) -> None:
    expected, actual = pair
    assert actual.rpcs == expected.rpcs


def test_messages_match_field_for_field(pair: tuple[Listing, Listing]) -> None:
    expected, actual = pair
    assert sorted(actual.messages) == sorted(expected.messages)
    for name, fields in expected.messages.items():
        assert actual.messages[name] == fields, name


def test_enums_match_value_for_value(pair: tuple[Listing, Listing]) -> None:
    expected, actual = pair
    assert actual.enums == expected.enums


def test_api_has_eight_services_and_seventy_three_rpcs() -> None:
    expected = _parse_listing(CONTRACT_DIR / "api-v1-fields.txt")
    services = {name.rsplit(".", 1)[0] for name in expected.rpcs}
    assert len(services) == 8 and len(expected.rpcs) == 73


def test_a_changed_field_is_noticed() -> None:
    """The comparison is sensitive: a different number or label is a mismatch."""
    message = user_service_pb2.User.DESCRIPTOR
    line = _describe_field(message.fields_by_name["username"])
    assert line == "3\tstring username\tjson=username\tbehavior REQUIRED"
    expected = _parse_listing(CONTRACT_DIR / "api-v1-fields.txt")
    assert line in expected.messages["memos.api.v1.User"]
    assert line.replace("3\t", "4\t") not in expected.messages["memos.api.v1.User"]
