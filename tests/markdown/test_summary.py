"""The snippet (spec §10.6, checklist 131)."""
from __future__ import annotations

import pytest

from memos.markdown.engine import parse
from memos.markdown.summary import collect, shorten, snippet_of


def snippet(content: str, limit: int = 64) -> str:
    return snippet_of(parse(content), limit)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # the table of §10.6
        ("This is **bold** and *italic* text.", "This is bold and italic text."),
        ("# My Title\n\nThis is the first paragraph.", "My Title This is the first paragraph."),
        ("Text before\n\n```go\ncode\n```\n\nText after", "Text before Text after"),
        ("- Item 1\n- Item 2\n- Item 3", "Item 1 Item 2 Item 3"),
        ("Use `fmt.Println` to print output.", "Use fmt.Println to print output."),
        ("![alt text](https://example.com/img.png)", "alt text"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"),
        ("Remember to #review the #code", "Remember to #review the #code"),
        ("Hi @alice", "Hi"),
        # the rules behind it
        ("- a\n\nText", "a Text"),
        ("> quoted\n\nafter", "quoted after"),
        ("line one\nline two", "line one line two"),
        ("hard  \nbreak", "hardbreak"),
        ("back\\\nslash", "backslash"),
        ("~~struck~~ and ~single~", "struck and single"),
        ("[link text](https://example.com/path)", "link text"),
        ("see https://example.com/a now", "see https://example.com/a now"),
        ("visit www.example.com today", "visit http://www.example.com today"),
        ("<https://example.com>", "https://example.com"),
        ("write to me@example.com", "write to me@example.com"),
        ("raw <b>html</b> here", "raw html here"),
        ("<div>\nblock\n</div>", ""),
        ("- [ ] task one\n- [x] task two", "task one task two"),
        ("    indented code\n\npara", "para"),
        ("a &amp; b", "a & b"),
        ("Title\n===\n\nbody", "Title body"),
        ("text[^1]\n\n[^1]: the note", "text"),
        ("before\n\n$$\nx^2\n$$\n\nafter", "before $$ x^2 $$ after"),
        ("inline $x^2$ and $$y$$", "inline $x^2$ and $$y$$"),
        # a list or other container starting right after a block clears the pending space
        ("para\n\n- item", "paraitem"),
        ("para\n\n---\n\nnext", "paranext"),
        ("   \n\n  ", ""),
    ],
)
def test_snippet(content: str, expected: str) -> None:
    assert snippet(content) == expected


def test_checklist_sentence_cut_at_the_last_space() -> None:
    content = "Hellooo, any words after this sentence won't be in the snippet. This is the next sentence."
    assert snippet(content) == content[:63] + " ..."


def test_word_boundary_cut_with_a_smaller_limit() -> None:
    content = "This is a very long piece of text that should be truncated at a word boundary."
    assert snippet(content, 30) == "This is a very long piece of ..."


def test_a_space_at_the_limit_cuts_before_it() -> None:
    content = "x" * 63 + " " + "y" * 10
    assert snippet(content) == "x" * 63 + " ..."


def test_cjk_without_spaces_is_cut_at_the_limit() -> None:
    assert snippet("中" * 40, 15) == "中" * 15 + " ..."


def test_more_bytes_than_the_limit_but_not_more_characters_is_kept_whole() -> None:
    content = "中" * 60  # 180 bytes, 60 characters
    assert snippet(content) == content


def test_one_word_longer_than_the_limit_is_cut_inside_it() -> None:
    assert snippet("a" * 100) == "a" * 64 + " ..."


def test_collection_stops_after_the_node_that_passes_the_byte_budget() -> None:
    tokens = parse("first paragraph\n\n" + "x" * 200 + "\n\nnever reached")
    assert collect(tokens, 128) == "first paragraph " + "x" * 200


def test_shorten_trims_after_cutting() -> None:
    assert shorten("  short  ") == "short"
    # the cut ends at the last whitespace, so earlier whitespace stays: only the ends are trimmed
    assert shorten(" " + "a" * 10 + " " * 70, 20) == "a" * 10 + " " * 8 + " ..."
