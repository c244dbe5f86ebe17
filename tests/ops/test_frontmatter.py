"""The exported memo file: front matter of JSON values, then the content byte for byte."""
from __future__ import annotations

import pytest

from memos.ops.frontmatter import FrontMatterError, parse, render


@pytest.mark.parametrize("content", ["", "plain", "---\nlooks like a fence\n---\n", "tail without newline", "ü 🎉\r\n"])
def test_content_comes_back_exactly(content: str) -> None:
    fields = {"uid": "a1", "tags": ["x", "y"], "location": None, "pinned": True, "title": 'say "hi"\n'}
    assert parse(render(fields, content)) == (fields, content)


def test_the_header_reads_as_yaml_keys() -> None:
    text = render({"uid": "a1", "creator": "alice"}, "body")
    assert text == '---\nuid: "a1"\ncreator: "alice"\n---\nbody'


@pytest.mark.parametrize(("text", "message"), [
    ("no header", "does not start"),
    ("---\nuid: \"a\"\nbody", "no closing"),
    ("---\nuid \"a\"\n---\n", "line 2 is not"),
    ("---\nuid: a\n---\n", "JSON value"),
])
def test_malformed_headers_are_named(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        parse(text)
