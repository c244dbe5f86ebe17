"""The UI bundle in memos/static: its size budget and its message catalogs."""
from __future__ import annotations

import re
from pathlib import Path

from memos.web.frontend import compact, default_static_dir

STATIC = default_static_dir()
CATALOG_KEY = re.compile(r"^\s+'([a-z0-9.-]+)': ", re.MULTILINE)
USED_KEY = re.compile(r"\bt\('([a-z0-9.-]+)'")


def catalog(locale: str) -> set[str]:
    return set(CATALOG_KEY.findall((STATIC / "i18n" / f"{locale}.js").read_text()))


def served_size(path: Path) -> int:
    return len(compact(path.read_bytes(), path.suffix))


# Issue 9 asks for less than 200 KB; the UI is over it (about 225.5 KiB served) and the issue stays open
# until a trim pass gets there. Until then this ceiling keeps it from growing while features are added:
# lower it with every trim, never raise it.
GOAL_BYTES = 200 * 1024
CEILING_BYTES = 226 * 1024


def test_the_whole_ui_stays_under_its_size_ceiling() -> None:
    # What a browser can load in one language: every file as served, with the English catalog; any other
    # catalog replaces it when chosen and is checked on its own below.
    files = [path for path in STATIC.rglob("*") if path.is_file() and path.suffix != ".md"]
    shipped = [path for path in files if path.parent.name != "i18n" or path.name == "en.js"]
    assert GOAL_BYTES < CEILING_BYTES
    assert sum(served_size(path) for path in shipped) < CEILING_BYTES
    english = served_size(STATIC / "i18n" / "en.js")
    for catalog_file in (STATIC / "i18n").glob("*.js"):
        assert served_size(catalog_file) < 1.5 * english, catalog_file.name


def test_no_javascript_string_spans_lines() -> None:
    # What lets the server drop indentation and whole-line comments safely (memos.web.frontend.compact).
    for path in STATIC.rglob("*.js"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert line.replace("\\`", "").count("`") % 2 == 0, f"{path.name}:{number}"
            assert not line.rstrip().endswith("\\"), f"{path.name}:{number}"


def test_compacting_keeps_code_and_drops_comments() -> None:
    source = b"// a note\nconst a = 1; // kept\n\n    if (a) {\n      call(\"// not a comment\");\n    }\n"
    assert compact(source, ".js") == b'const a = 1; // kept\nif (a) {\ncall("// not a comment");\n}\n'
    css = b"/* tokens */\n:root {\n  --x: 1px; /* why */\n}\n"
    assert compact(css, ".css") == b":root {\n--x: 1px;\n}\n"
    assert compact(b"  <p>\n", ".html") == b"  <p>\n"


def test_every_locale_has_exactly_the_english_keys() -> None:
    english = catalog("en")
    assert english
    for path in (STATIC / "i18n").glob("*.js"):
        assert catalog(path.stem) == english, path.name


def test_every_key_the_code_names_is_in_the_english_catalog() -> None:
    used = {key for path in STATIC.rglob("*.js") for key in USED_KEY.findall(path.read_text())}
    assert used - catalog("en") == set()
