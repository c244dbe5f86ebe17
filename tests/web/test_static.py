"""The UI bundle in memos/static: its size budget and its message catalogs."""
from __future__ import annotations

import re
from pathlib import Path

from memos.web.frontend import compact, default_static_dir

STATIC = default_static_dir()
CATALOG_GROUP = re.compile(r"^  '?([A-Za-z0-9-]+)'?: \{$")
CATALOG_ENTRY = re.compile(r"^    '?([A-Za-z0-9.-]+)'?: '.*',$")
USED_KEY = re.compile(r"\bt\('([a-z0-9.-]+)'[,)]")


def catalog(locale: str) -> set[str]:
    """The keys of a catalog ('memo.deleted' for `memo: {deleted: ...}`), as core/i18n.js looks them up.

    The catalogs are written in one shape, which this reads line by line: a group per first part of
    the key, one entry per line, nothing else but comments.
    """
    keys: set[str] = set()
    group = ""
    for line in (STATIC / "i18n" / f"{locale}.js").read_text().splitlines():
        if opened := CATALOG_GROUP.match(line):
            group = opened[1]
        elif entry := CATALOG_ENTRY.match(line):
            assert group, line
            keys.add(f"{group}.{entry[1]}")
        else:
            assert line in ("export default {", "  },", "};") or line.startswith("//"), f"{locale}.js: {line}"
    return keys


def served_size(path: Path) -> int:
    return len(compact(path.read_bytes(), path.suffix))


# The UI must weigh less than 200 KB before compression (issue 9), counted as sent: a feature that
# needs bytes finds them by making older code smaller, never by raising this.
BUDGET_BYTES = 200_000


def test_the_whole_ui_weighs_less_than_200_kb_as_served() -> None:
    # What a browser can load in one language: every file as served, with the English catalog; any other
    # catalog replaces it when chosen and is checked on its own below.
    files = [path for path in STATIC.rglob("*") if path.is_file() and path.suffix != ".md"]
    shipped = [path for path in files if path.parent.name != "i18n" or path.name == "en.js"]
    assert sum(served_size(path) for path in shipped) < BUDGET_BYTES
    english = served_size(STATIC / "i18n" / "en.js")
    for catalog_file in (STATIC / "i18n").glob("*.js"):
        assert served_size(catalog_file) < 1.5 * english, catalog_file.name


def nested_template_literals(source: str) -> list[int]:
    """Line numbers where a template literal opens inside another one's ${...}."""
    found: list[int] = []
    depths: list[int] = []  # brace depth inside each open ${...}, innermost last
    in_template = False
    quote = ""
    line = 1
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\n":
            line += 1
        if char == "\\" and (in_template or quote):
            index += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif in_template:
            if char == "`":
                in_template = False
            elif source.startswith("${", index):
                depths.append(0)
                in_template = False
                index += 1
        elif char in "'\"" and depths:
            quote = char
        elif char == "`":
            if depths:
                found.append(line)
            in_template = True
        elif depths and char == "{":
            depths[-1] += 1
        elif depths and char == "}":
            if depths[-1] == 0:
                depths.pop()
                in_template = True
            else:
                depths[-1] -= 1
        index += 1
    return found


def test_no_template_literal_nests_in_another() -> None:
    # What memos.web.frontend.compact relies on: rJSmin takes the text between two backticks for one
    # string, so a nested template would have its text compacted as code (`a${b ? ` c` : ''}` loses
    # the space before c). Build such strings from parts instead.
    for path in STATIC.rglob("*.js"):
        assert nested_template_literals(path.read_text()) == [], path.name


def test_the_nesting_check_finds_nested_templates() -> None:
    assert nested_template_literals("const a = `x${b ? ` c` : ''}`;\n") == [1]
    assert nested_template_literals("const a = `x${f({b: '}'})}`;\nconst c = `d${e}`;\n") == []
    assert nested_template_literals("const a = `x${f({b: 1})}`;\nconst c = `d${`e`}`;\n") == [2]


def test_compacting_keeps_strings_and_drops_comments_and_spacing() -> None:
    source = b"// a note\nconst a = 1; // gone\n\n    if (a) {\n      call(\"// not a comment\", ` x ${a} `);\n    }\n"
    assert compact(source, ".js") == b'const a=1;if(a){call("// not a comment",` x ${a} `);}\n'
    css = b"/* tokens */\n:root {\n  --x: 1px; /* why */\n}\n.a .b { margin: calc(1px + 2px) 0; }\n"
    assert compact(css, ".css") == b":root{--x:1px}.a .b{margin:calc(1px + 2px) 0}\n"
    assert compact(b"  <p>\n", ".html") == b"  <p>\n"


def test_every_locale_has_exactly_the_english_keys() -> None:
    english = catalog("en")
    assert english
    for path in (STATIC / "i18n").glob("*.js"):
        assert catalog(path.stem) == english, path.name


def test_every_key_the_code_names_is_in_the_english_catalog() -> None:
    used = {key for path in STATIC.rglob("*.js") for key in USED_KEY.findall(path.read_text())}
    assert used - catalog("en") == set()
