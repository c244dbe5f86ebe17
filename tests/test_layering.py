"""The dependency direction of DESIGN.md holds: each part imports only what lies below it.

web/rpc -> api -> auth -> store, markdown, filter, storage -> gen.  The RPC
status type and call context (memos.rpc.errors, memos.rpc.context) are the one
piece of rpc that services may name: they are the vocabulary of a call, not a
transport.
"""
from __future__ import annotations

import ast
import pathlib


PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "memos"

SHARED = {"memos", "memos.profile", "memos.rpc.errors", "memos.rpc.context"}
LOWER = {"memos.gen"}
DATA = {"memos.store", "memos.markdown", "memos.filter", "memos.storage"}

# part -> the parts it may import (besides itself and SHARED)
ALLOWED: dict[str, set[str]] = {
    "memos.gen": set(),
    "memos.store": LOWER | DATA,
    "memos.markdown": LOWER | DATA,
    "memos.filter": LOWER | DATA,
    "memos.storage": LOWER | DATA,
    "memos.auth": LOWER | DATA,
    # Outgoing delivery (SMTP, webhooks, the private-address guard): beside auth.
    "memos.notify": LOWER | DATA,
    "memos.api": LOWER | DATA | {"memos.auth", "memos.notify"},
    "memos.rpc": set(),
    "memos.web": LOWER | DATA | {"memos.auth", "memos.api", "memos.notify"},
}
# The store knows nothing of calls, not even their status type.
NO_SHARED_RPC = {"memos.gen", "memos.store", "memos.markdown", "memos.filter", "memos.storage"}


def _part_of(module: str) -> str | None:
    for part in sorted(ALLOWED, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return None


def _module_name(path: pathlib.Path) -> str:
    root = next(parent for parent in path.parents if parent.name == "memos").parent
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    module = _module_name(path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level + (1 if path.name == "__init__.py" else 0) or None]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "memos" or name.startswith("memos.")}


def _violations(path: pathlib.Path) -> list[str]:
    part = _part_of(_module_name(path))
    if part is None:
        return []
    problems = []
    for target in _imports(path):
        if target in SHARED or any(target.startswith(s + ".") for s in SHARED - {"memos"}):
            if part in NO_SHARED_RPC and target.startswith("memos.rpc"):
                problems.append(f"{_module_name(path)} imports {target}")
            continue
        target_part = _part_of(target)
        if target_part is None:
            # memos.app, memos.cli, memos.server: the top, importable by nobody below
            if target.split(".")[1] not in {"__version__"} and target != "memos":
                problems.append(f"{_module_name(path)} imports {target}")
            continue
        if target_part != part and target_part not in ALLOWED[part]:
            problems.append(f"{_module_name(path)} imports {target}")
    return problems


def test_every_module_respects_the_dependency_direction() -> None:
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in _violations(path)]
    assert problems == []


def test_the_checker_sees_a_violation(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "memos" / "store" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from memos.api import instance_service\nfrom memos.rpc.errors import RpcError\nimport memos.app\n")
    assert sorted(_violations(bad)) == [
        "memos.store.bad imports memos.api",
        "memos.store.bad imports memos.api.instance_service",
        "memos.store.bad imports memos.app",
        "memos.store.bad imports memos.rpc.errors",
        "memos.store.bad imports memos.rpc.errors.RpcError",
    ]
