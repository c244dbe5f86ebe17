"""The UI bundle as the server sends it (compacted by memos.web.frontend): every module still loads."""
from __future__ import annotations

from typing import Any

from memos.web.frontend import default_static_dir

STATIC = default_static_dir()

IMPORT_ALL = """async (urls) => {
  const failed = [];
  for (const url of urls) {
    try { await import(url); } catch (error) { failed.push(`${url}: ${error}`); }
  }
  return failed;
}"""


def test_every_compacted_module_parses_and_links_in_chromium(page: Any) -> None:
    # Syntax errors from compaction (a lost line break, a regular expression taken for a division)
    # surface here for modules that no other browser test happens to load.
    urls = sorted("/" + path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*.js"))
    page.goto("/about")
    assert page.evaluate(IMPORT_ALL, urls) == []
    assert len(urls) > 50
