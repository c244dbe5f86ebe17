"""The access table: which procedures anonymous callers reach, on public and private instances."""
from __future__ import annotations

import pytest
from support import all_procedures

from memos.auth.acl import BOOTSTRAP_METHODS, EXTENSION_PUBLIC_METHODS, PUBLIC_METHODS, anonymous_may_call


def test_the_table_names_only_real_procedures() -> None:
    procedures = set(all_procedures())
    assert len(procedures) == 73
    assert procedures >= PUBLIC_METHODS
    assert len(PUBLIC_METHODS) == 17 and len(BOOTSTRAP_METHODS) == 8
    assert BOOTSTRAP_METHODS < PUBLIC_METHODS


def test_extensions_have_the_access_of_the_rpc_they_complement() -> None:
    from memos.app import EXT_PACKAGE, load_api_descriptors
    from memos.rpc.methods import MethodTable

    load_api_descriptors()
    extension_procedures = {method.procedure for method in MethodTable.from_package(EXT_PACKAGE).methods}
    assert set(EXTENSION_PUBLIC_METHODS) <= extension_procedures
    for procedure, memos_rpc in EXTENSION_PUBLIC_METHODS.items():
        for public in (True, False):
            assert anonymous_may_call(procedure, instance_is_public=public) == anonymous_may_call(
                f"/memos.api.v1.{memos_rpc}", instance_is_public=public
            )


@pytest.mark.parametrize(
    "procedure",
    ["AuthService/SignIn", "UserService/CreateUser", "MemoService/GetSharedMemo", "InstanceService/GetInstanceProfile"],
)
def test_bootstrap_methods_are_open_even_on_a_private_instance(procedure: str) -> None:
    assert anonymous_may_call(f"/memos.api.v1.{procedure}", instance_is_public=False)


def test_public_reads_need_a_public_instance() -> None:
    assert anonymous_may_call("/memos.api.v1.MemoService/ListMemos", instance_is_public=True)
    assert not anonymous_may_call("/memos.api.v1.MemoService/ListMemos", instance_is_public=False)


@pytest.mark.parametrize(
    "procedure",
    [
        "/memos.api.v1.AuthService/GetCurrentUser",
        "/memos.api.v1.AuthService/SignOut",
        "/memos.api.v1.MemoService/CreateMemo",
        "/memos.api.v1.UserService/ListUsers",
        "/memos.api.v1.NoSuchService/Anything",
        "",
    ],
)
def test_everything_else_is_protected_everywhere(procedure: str) -> None:
    assert not anonymous_may_call(procedure, instance_is_public=True)
    assert not anonymous_may_call(procedure, instance_is_public=False)


def test_exactly_seventeen_procedures_are_open_on_a_public_instance() -> None:
    open_public = [p for p in all_procedures() if anonymous_may_call(p, instance_is_public=True)]
    open_private = [p for p in all_procedures() if anonymous_may_call(p, instance_is_public=False)]
    assert len(open_public) == 17 and len(open_private) == 8
