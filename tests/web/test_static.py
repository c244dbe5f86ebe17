"""The UI bundle in memos/static: its size budget and its message catalogs."""
from __future__ import annotations

import re

from memos.web.frontend import default_static_dir

STATIC = default_static_dir()
CATALOG_KEY = re.compile(r"^\s+'([a-z0-9.-]+)': ", re.MULTILINE)
USED_KEY = re.compile(r"\bt\('([a-z0-9.-]+)'")


def catalog(locale: str) -> set[str]:
    return set(CATALOG_KEY.findall((STATIC / "i18n" / f"{locale}.js").read_text()))


def test_the_whole_ui_stays_under_200_kb() -> None:
    size = sum(path.stat().st_size for path in STATIC.rglob("*") if path.is_file() and path.suffix != ".md")
    assert size < 200 * 1024


def test_every_locale_has_exactly_the_english_keys() -> None:
    english = catalog("en")
    assert english
    for path in (STATIC / "i18n").glob("*.js"):
        assert catalog(path.stem) == english, path.name


def test_every_key_the_code_names_is_in_the_english_catalog() -> None:
    used = {key for path in STATIC.rglob("*.js") for key in USED_KEY.findall(path.read_text())}
    assert used - catalog("en") == set()
