"""The RPC methods of a proto package, read from the descriptors, and their bindings.

The table is the single source of procedures for both transports: Connect looks
methods up by procedure, the REST gateway by HTTP method and path.
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FileDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from memos.call import CallContext, Code, RpcError
from memos.rpc.templates import PathTemplate, parse_template

Implementation = Callable[[Message, CallContext], Awaitable[Message]]

_HTTP_VERBS = ("get", "put", "post", "delete", "patch")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclasses.dataclass(frozen=True)
class HttpBinding:
    """One google.api.http rule: the HTTP method, path template and body field."""

    verb: str  # upper case: "GET", "PATCH", ...
    template: str  # as written in the proto, e.g. "/api/v1/{name=memos/*}"
    body: str = ""  # "", "*" or a top-level field name

    @property
    def path(self) -> PathTemplate:
        return parse_template(self.template)


@dataclasses.dataclass
class Method:
    """One RPC: its names, message classes, HTTP bindings and (once bound) implementation."""

    procedure: str  # "/memos.api.v1.InstanceService/GetInstanceProfile"
    service: str  # "memos.api.v1.InstanceService"
    name: str  # "GetInstanceProfile"
    input: type[Message]
    output: type[Message]
    bindings: list[HttpBinding]
    implementation: Implementation | None = None

    async def invoke(self, request: Message, ctx: CallContext) -> Message:
        """Run the service method; an unbound RPC answers UNIMPLEMENTED."""
        if self.implementation is None:
            raise RpcError(Code.UNIMPLEMENTED, f"method {self.name} not implemented")
        response = await self.implementation(request, ctx)
        if not isinstance(response, self.output):
            # A wrong type would otherwise surface as a confusing encoding failure.
            raise TypeError(f"{self.procedure} returned {type(response).__name__}, not {self.output.__name__}")
        return response


@dataclasses.dataclass(frozen=True)
class RestMatch:
    """A request path that fits a binding: which method, how, and the path values."""

    method: Method
    binding: HttpBinding
    path_values: dict[str, str]
    form_fallback: bool = False  # a form POST served by a GET binding


@dataclasses.dataclass(frozen=True)
class _Route:
    method: Method
    binding: HttpBinding
    template: PathTemplate


class MethodTable:
    """Every RPC of a package, addressable by procedure and by REST route."""

    def __init__(self, methods: Iterable[Method]) -> None:
        self._by_procedure: dict[str, Method] = {}
        for method in methods:
            self._by_procedure[method.procedure] = method
        self._routes = self._build_routes()

    @classmethod
    def from_package(cls, package: str = "memos.api.v1") -> MethodTable:
        """Collect the services of ``package`` from the *_pb2 modules already imported."""
        services = sorted(
            (
                service
                for file in _loaded_files()
                if file.package == package
                for service in file.services_by_name.values()
            ),
            key=lambda service: service.full_name,
        )
        return cls(_method_of(service, method) for service in services for method in service.methods)

    @property
    def methods(self) -> list[Method]:
        return list(self._by_procedure.values())

    @property
    def services(self) -> set[str]:
        return {method.service for method in self._by_procedure.values()}

    def get(self, procedure: str) -> Method | None:
        return self._by_procedure.get(procedure)

    def bind(self, services: Iterable[object]) -> None:
        """Attach implementations: each object names its service in SERVICE_NAME and
        has one async method per RPC it implements; several objects may share a
        service, each binding the RPCs it has. Missing RPCs stay UNIMPLEMENTED.

        A misspelt method must fail at start-up rather than leave its RPC silently
        UNIMPLEMENTED, so ValueError for: an unknown SERVICE_NAME, a public method
        (helpers are ``_private``) that names no RPC of the service, an RPC that a
        second object (or a second bind) would implement again.
        """
        for service in services:
            service_name = getattr(service, "SERVICE_NAME", None)
            if service_name not in self.services:
                raise ValueError(
                    f"{type(service).__name__}.SERVICE_NAME={service_name!r} is not a service of this table"
                )
            rpcs = {method.name: method for method in self._by_procedure.values() if method.service == service_name}
            self._check_bindable(service, service_name, rpcs)
            for name, method in rpcs.items():
                implementation = getattr(service, name, None)
                if implementation is not None:
                    method.implementation = implementation

    @staticmethod
    def _check_bindable(service: object, service_name: str, rpcs: dict[str, Method]) -> None:
        owner = type(service).__name__
        public = sorted(
            name for name in dir(service) if not name.startswith("_") and callable(getattr(service, name))
        )
        strangers = [name for name in public if name not in rpcs]
        if strangers:
            raise ValueError(
                f"{owner} has public methods that are no RPC of {service_name}: {', '.join(strangers)} "
                "(misspelt? helpers must start with '_')"
            )
        for name in public:
            bound = rpcs[name].implementation
            if bound is not None:
                other = type(getattr(bound, "__self__", bound)).__name__
                raise ValueError(f"{service_name}/{name} is bound twice: by {other} and by {owner}")

    def match_rest(self, http_method: str, path: str, *, form: bool = False) -> RestMatch | None:
        """The binding a REST request lands on, or None.

        ``form`` says the request is a POST with a form body: when no POST binding
        fits, it may run a GET binding of the same path (the gateway's fallback).
        """
        http_method = http_method.upper()
        for route in self._routes.get(http_method, ()):
            values = route.template.match(path)
            if values is not None:
                return RestMatch(route.method, route.binding, values)
        if form and http_method == "POST":
            for route in self._routes.get("GET", ()):
                values = route.template.match(path)
                if values is not None:
                    return RestMatch(route.method, route.binding, values, form_fallback=True)
        return None

    def path_is_bound(self, path: str) -> bool:
        """Whether any HTTP method has a binding for this path."""
        return any(route.template.match(path) is not None for routes in self._routes.values() for route in routes)

    def _build_routes(self) -> dict[str, list[_Route]]:
        routes: dict[str, list[_Route]] = {}
        for method in self._by_procedure.values():
            for binding in method.bindings:
                routes.setdefault(binding.verb, []).append(_Route(method, binding, binding.path))
        for candidates in routes.values():
            # A binding with a custom verb must win over a plain one that would also
            # swallow "x:verb" as a variable value (GetUserStats before GetUser).
            candidates.sort(key=lambda route: not route.template.verb)
        return routes


def _loaded_files() -> list[FileDescriptor]:
    pool = descriptor_pool.Default()
    files: dict[str, FileDescriptor] = {}
    for module in list(sys.modules.values()):
        file = getattr(module, "DESCRIPTOR", None)
        if isinstance(file, FileDescriptor) and file.pool is pool:
            files[file.name] = file
    return [files[name] for name in sorted(files)]


def _method_of(service: ServiceDescriptor, method: MethodDescriptor) -> Method:
    return Method(
        procedure=f"/{service.full_name}/{method.name}",
        service=service.full_name,
        name=method.name,
        input=GetMessageClass(method.input_type),
        output=GetMessageClass(method.output_type),
        bindings=_bindings_of(method),
    )


def _bindings_of(method: MethodDescriptor) -> list[HttpBinding]:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    rule = options.Extensions[annotations_pb2.http]
    return [_binding_of(rule)] + [_binding_of(extra) for extra in rule.additional_bindings]


def _binding_of(rule: Any) -> HttpBinding:
    pattern = rule.WhichOneof("pattern")
    if pattern == "custom":
        return HttpBinding(rule.custom.kind.upper(), rule.custom.path, rule.body)
    if pattern not in _HTTP_VERBS:
        raise ValueError(f"http rule without a path: {rule}")
    return HttpBinding(pattern.upper(), getattr(rule, pattern), rule.body)
