"""The dependency direction of DESIGN.md holds, with no exceptions.

    web / rpc  ->  api  ->  auth, notify  ->  store, markdown, filter, storage  ->  call, gen

``memos.call`` (status codes, the error type, the call context), ``memos.gen``,
``memos.profile`` and the package root are the base every part may use. What each
part may import is written out below; anything else is a violation:

- ``rpc`` is domain-free: it knows the call vocabulary and nothing of memos.
- ``store`` knows nothing of calls: not even the status type (it raises its own errors).
- ``app``, ``cli``, ``server`` and ``__main__`` sit on top; no part imports them.
- ``ops`` (backup, restore, export, import) sits at ``web``'s level without the transports.
"""
from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "memos"

BASE = {"memos", "memos.call", "memos.gen", "memos.profile"}
DATA = {"memos.store", "memos.markdown", "memos.filter", "memos.storage"}
SERVICES = {"memos.auth", "memos.notify"}

# part -> the parts it may import besides itself
ALLOWED: dict[str, set[str]] = {
    "memos.web": {"memos.rpc", "memos.api"} | SERVICES | DATA | BASE,
    # Command-line operations (backup, restore, export, import): beside the server, at app level.
    "memos.ops": {"memos.api"} | SERVICES | DATA | BASE,
    "memos.rpc": {"memos", "memos.call"},
    "memos.api": SERVICES | DATA | BASE,
    "memos.auth": DATA | BASE,
    "memos.notify": DATA | BASE,
    "memos.store": (DATA | BASE) - {"memos.call"},
    "memos.markdown": DATA | BASE,
    "memos.filter": DATA | BASE,
    "memos.storage": DATA | BASE,
    "memos.call": {"memos"},
    "memos.gen": {"memos.gen"},
    "memos.profile": {"memos"},
    "memos": set(),
}
TOP = {"memos.app", "memos.cli", "memos.server", "memos.__main__"}


def _part_of(module: str) -> str:
    """The part a module belongs to: the longest name in ALLOWED or TOP it falls under."""
    for part in sorted(ALLOWED.keys() | TOP, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    raise AssertionError(f"{module} belongs to no part of DESIGN.md; add its part to ALLOWED")


def _module_name(path: pathlib.Path) -> str:
    root = next(parent for parent in path.parents if parent.name == "memos").parent
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from memos import x" may name the submodule memos.x: judge that one.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "memos" or name.startswith("memos.")}


def _target_part(target: str) -> str:
    # "memos.__version__" and the like are attributes of the package root.
    while target not in ALLOWED and target not in TOP:
        try:
            return _part_of(target)
        except AssertionError:
            target = target.rpartition(".")[0]
    return target


def _violations(path: pathlib.Path) -> list[str]:
    module = _module_name(path)
    part = _part_of(module)
    if part in TOP:
        return []
    problems = []
    for target in sorted(_imports(path)):
        target_part = _target_part(target)
        if target_part != part and target_part not in ALLOWED[part]:
            problems.append(f"{module} imports {target}")
    return problems


def test_every_module_respects_the_dependency_direction() -> None:
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in _violations(path)]
    assert problems == []


def test_every_module_belongs_to_a_part() -> None:
    for path in PACKAGE.rglob("*.py"):
        _part_of(_module_name(path))


def _write(tmp_path: pathlib.Path, relative: str, text: str) -> pathlib.Path:
    path = tmp_path / "memos" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_checker_sees_upward_imports(tmp_path: pathlib.Path) -> None:
    bad = _write(
        tmp_path, "store/bad.py",
        "from memos.api import instance_service\nfrom memos.call import RpcError\nimport memos.app\n",
    )
    assert _violations(bad) == [
        "memos.store.bad imports memos.api.instance_service",
        "memos.store.bad imports memos.app",
        "memos.store.bad imports memos.call.RpcError",
    ]


def test_the_checker_keeps_rpc_free_of_the_domain(tmp_path: pathlib.Path) -> None:
    bad = _write(tmp_path, "rpc/bad.py", "from memos.auth.tokens import x\nfrom ..store import models\n")
    assert _violations(bad) == ["memos.rpc.bad imports memos.auth.tokens.x", "memos.rpc.bad imports memos.store.models"]


def test_the_checker_allows_the_design_direction(tmp_path: pathlib.Path) -> None:
    good = _write(
        tmp_path, "api/good.py",
        "from memos.call import Code\nfrom memos.store.models import User\nfrom memos.auth import tokens\n"
        "from memos import __version__\nfrom . import access\n",
    )
    assert _violations(good) == []
