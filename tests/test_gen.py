"""memos/gen is exactly what scripts/gen_proto.py makes from proto/ (a stale copy fails)."""
from __future__ import annotations

import filecmp
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tree(root: pathlib.Path) -> dict[str, pathlib.Path]:
    return {
        str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def test_generated_code_is_fresh(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--out", str(out)], check=True)
    committed, regenerated = _tree(ROOT / "memos" / "gen"), _tree(out)
    assert sorted(committed) == sorted(regenerated), "files differ: run python scripts/gen_proto.py"
    stale = [name for name in committed if not filecmp.cmp(committed[name], regenerated[name], shallow=False)]
    assert stale == [], f"stale generated files {stale}: run python scripts/gen_proto.py"


def test_every_proto_source_has_generated_code() -> None:
    sources = sorted((ROOT / "proto").rglob("*.proto"))
    assert sources
    for source in sources:
        relative = source.relative_to(ROOT / "proto").with_suffix("")
        assert (ROOT / "memos" / "gen" / relative.parent / f"{relative.name}_pb2.py").is_file(), source
