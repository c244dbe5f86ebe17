"""The method table: procedures and REST routes of memos.api.v1, read from the descriptors."""
from __future__ import annotations

import re

import pytest
from google.protobuf import empty_pb2
from support import API_SERVICES, contract_path

import memos.gen.api.v1.instance_service_pb2 as instance_pb
from memos.call import CallContext, Code, RpcError
from memos.rpc.methods import HttpBinding, MethodTable
from memos.rpc.templates import Variable, parse_template

FORM = "application/x-www-form-urlencoded"


def _name(table: MethodTable, method: str, path: str, content_type: str = "") -> str | None:
    found = table.match_rest(method, path, form=content_type == FORM)
    return found.method.name if found else None


def test_the_table_holds_every_service_and_rpc(table: MethodTable) -> None:
    assert sorted(service.rsplit(".", 1)[1] for service in table.services) == sorted(API_SERVICES)
    assert len(table.methods) == 73
    assert all(method.bindings for method in table.methods)


def test_a_method_knows_its_names_and_message_classes(table: MethodTable) -> None:
    method = table.get("/memos.api.v1.InstanceService/GetInstanceProfile")
    assert method is not None
    assert (method.service, method.name) == ("memos.api.v1.InstanceService", "GetInstanceProfile")
    assert method.input().DESCRIPTOR.full_name == "memos.api.v1.GetInstanceProfileRequest"
    assert method.output().DESCRIPTOR.full_name == "memos.api.v1.InstanceProfile"
    assert method.bindings == [HttpBinding("GET", "/api/v1/instance/profile", "")]


def test_bindings_match_the_contract(table: MethodTable) -> None:
    listing = contract_path("api-v1-fields.txt")
    expected = {}
    service = ""
    for line in listing.read_text().splitlines():
        if line.startswith("service "):
            service = line.split()[1]
        found = re.match(r"\s+rpc (\w+)\(.*\)\t(\w+) (\S+)(?: body=(\S+))?$", line)
        if found:
            rpc, verb, template, body = found.groups()
            expected[f"/{service}/{rpc}"] = [HttpBinding(verb, template, body or "")]
    assert {method.procedure: method.bindings for method in table.methods} == expected


@pytest.mark.parametrize(
    ("method", "path", "rpc"),
    [
        ("POST", "/api/v1/auth/signin", "SignIn"),
        ("GET", "/api/v1/users", "ListUsers"),
        ("POST", "/api/v1/users", "CreateUser"),
        ("GET", "/api/v1/users/1", "GetUser"),
        ("GET", "/api/v1/users/1:getStats", "GetUserStats"),
        ("GET", "/api/v1/users:stats", "ListAllUserStats"),
        ("GET", "/api/v1/memos/abc", "GetMemo"),
        ("GET", "/api/v1/shares/token:with-colon/memo", "GetSharedMemo"),
        ("GET", "/api/v1/memos/-/linkMetadata", "GetLinkMetadata"),
        ("PATCH", "/api/v1/memos/abc", "UpdateMemo"),
        ("DELETE", "/api/v1/memos/abc/reactions/5", "DeleteMemoReaction"),
    ],
)
def test_rest_requests_resolve_to_their_procedure(table: MethodTable, method: str, path: str, rpc: str) -> None:
    assert _name(table, method, path) == rpc


def test_unbound_requests_resolve_to_nothing(table: MethodTable) -> None:
    assert _name(table, "GET", "/api/v1/nothing/here") is None
    assert _name(table, "DELETE", "/api/v1/instance/profile") is None
    assert table.path_is_bound("/api/v1/instance/profile")
    assert not table.path_is_bound("/api/v1/nothing/here")


def test_a_form_post_falls_back_to_the_get_binding_only_without_a_post_binding(table: MethodTable) -> None:
    assert _name(table, "POST", "/api/v1/instance/profile", FORM) == "GetInstanceProfile"
    assert _name(table, "POST", "/api/v1/memos", FORM) == "CreateMemo"
    assert _name(table, "POST", "/api/v1/instance/profile", "application/json") is None


def _instantiate(template: str) -> str:
    parsed = parse_template(template)
    parts = []
    for segment in parsed.segments:
        if isinstance(segment, Variable):
            parts.extend("x1" if part == "*" else "a/b" if part == "**" else part for part in segment.segments)
        else:
            parts.append(segment)
    return "/" + "/".join(parts) + (":" + parsed.verb if parsed.verb else "")


def test_every_binding_instantiated_resolves_back_to_its_own_procedure(table: MethodTable) -> None:
    mismatches = []
    for method in table.methods:
        for binding in method.bindings:
            path = _instantiate(binding.template)
            found = table.match_rest(binding.verb, path)
            if found is None or found.method is not method:
                mismatches.append((binding.verb, path, method.name, found and found.method.name))
    assert mismatches == []


def test_path_values_come_back_by_field_path(table: MethodTable) -> None:
    match = table.match_rest("PATCH", "/api/v1/memos/abc")
    assert match is not None and match.path_values == {"memo.name": "memos/abc"}


class _Instance:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    async def GetInstanceProfile(self, request: object, ctx: CallContext) -> instance_pb.InstanceProfile:
        return instance_pb.InstanceProfile(version="1")

    async def GetInstanceSetting(self, request: object, ctx: CallContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()  # the wrong type on purpose


def _ctx(procedure: str) -> CallContext:
    return CallContext(procedure=procedure, transport="connect", headers={})


@pytest.mark.anyio
async def test_bound_methods_run_and_missing_ones_are_unimplemented(table: MethodTable) -> None:
    table.bind([_Instance()])
    profile = table.get("/memos.api.v1.InstanceService/GetInstanceProfile")
    stats = table.get("/memos.api.v1.InstanceService/GetInstanceStats")
    shortcuts = table.get("/memos.api.v1.ShortcutService/ListShortcuts")
    assert profile and stats and shortcuts
    assert (await profile.invoke(profile.input(), _ctx(profile.procedure))).version == "1"
    for missing, name in ((stats, "GetInstanceStats"), (shortcuts, "ListShortcuts")):
        with pytest.raises(RpcError) as raised:
            await missing.invoke(missing.input(), _ctx(missing.procedure))
        assert raised.value.code is Code.UNIMPLEMENTED
        assert raised.value.message == f"method {name} not implemented"


@pytest.mark.anyio
async def test_a_response_of_the_wrong_type_is_a_server_bug(table: MethodTable) -> None:
    table.bind([_Instance()])
    setting = table.get("/memos.api.v1.InstanceService/GetInstanceSetting")
    assert setting is not None
    with pytest.raises(TypeError):
        await setting.invoke(setting.input(), _ctx(setting.procedure))


def test_binding_an_object_for_an_unknown_service_fails_loudly(table: MethodTable) -> None:
    class Stranger:
        SERVICE_NAME = "memos.api.v1.NoSuchService"

    with pytest.raises(ValueError, match="NoSuchService"):
        table.bind([Stranger()])


def test_a_misspelt_method_fails_at_bind_time(table: MethodTable) -> None:
    class Misspelt:
        SERVICE_NAME = "memos.api.v1.InstanceService"

        async def GetInstanceProfil(self, request: object, ctx: CallContext) -> instance_pb.InstanceProfile:
            return instance_pb.InstanceProfile()

    with pytest.raises(ValueError, match=r"Misspelt .*InstanceService: GetInstanceProfil\b"):
        table.bind([Misspelt()])


def test_a_public_helper_is_refused_and_a_private_one_ignored(table: MethodTable) -> None:
    class Helpful:
        SERVICE_NAME = "memos.api.v1.InstanceService"
        PAGE_SIZE = 10  # data, not a method

        def normalize(self) -> None: ...

    class Careful:
        SERVICE_NAME = "memos.api.v1.InstanceService"
        PAGE_SIZE = 10

        def _normalize(self) -> None: ...

    with pytest.raises(ValueError, match="normalize"):
        table.bind([Helpful()])
    table.bind([Careful()])


@pytest.mark.anyio
async def test_two_objects_of_one_service_bind_their_own_rpcs(table: MethodTable) -> None:
    class Profiles:
        SERVICE_NAME = "memos.api.v1.InstanceService"

        async def GetInstanceProfile(self, request: object, ctx: CallContext) -> instance_pb.InstanceProfile:
            return instance_pb.InstanceProfile(version="profiles")

    class Stats:
        SERVICE_NAME = "memos.api.v1.InstanceService"

        async def GetInstanceStats(self, request: object, ctx: CallContext) -> instance_pb.InstanceStats:
            return instance_pb.InstanceStats(local_storage_bytes=7)

    table.bind([Profiles(), Stats()])
    profile = table.get("/memos.api.v1.InstanceService/GetInstanceProfile")
    stats = table.get("/memos.api.v1.InstanceService/GetInstanceStats")
    setting = table.get("/memos.api.v1.InstanceService/GetInstanceSetting")
    assert profile and stats and setting
    assert (await profile.invoke(profile.input(), _ctx(profile.procedure))).version == "profiles"
    assert (await stats.invoke(stats.input(), _ctx(stats.procedure))).local_storage_bytes == 7
    with pytest.raises(RpcError) as raised:
        await setting.invoke(setting.input(), _ctx(setting.procedure))
    assert raised.value.code is Code.UNIMPLEMENTED


def test_an_rpc_bound_twice_is_refused(table: MethodTable) -> None:
    class First:
        SERVICE_NAME = "memos.api.v1.InstanceService"

        async def GetInstanceProfile(self, request: object, ctx: CallContext) -> instance_pb.InstanceProfile:
            return instance_pb.InstanceProfile()

    class Second(First):
        pass

    with pytest.raises(ValueError, match="InstanceService/GetInstanceProfile is bound twice: by First and by Second"):
        table.bind([First(), Second()])

