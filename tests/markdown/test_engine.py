"""The parser: its extra token types, and bounded work on hostile input."""
from __future__ import annotations

import time

import pytest

from memos.markdown import derive
from memos.markdown.engine import MAX_NESTING, parse


def inline_tokens(content: str) -> list[tuple[str, str]]:
    return [(child.type, child.content) for token in parse(content) for child in token.children or []]


def test_tags_and_mentions_are_tokens_of_their_own() -> None:
    assert inline_tokens("a #b @c") == [("text", "a "), ("memo_tag", "b"), ("text", " "), ("memo_mention", "c")]


def test_email_addresses_are_autolinks_not_mentions() -> None:
    assert [kind for kind, _ in inline_tokens("mail a.b@example.com")] == ["text", "link_open", "text", "link_close"]


def test_url_fragments_belong_to_the_autolink() -> None:
    assert inline_tokens("see https://e.com/p#frag.") == [
        ("text", "see "), ("link_open", ""), ("text", "https://e.com/p#frag"), ("link_close", ""), ("text", "."),
    ]


def test_task_items_are_marked_on_the_list_item() -> None:
    items = [token.meta for token in parse("- [ ] a\n- [x] b\n- c") if token.type == "list_item_open"]
    assert items == [{"checked": False}, {"checked": True}, {}]


def test_raw_html_is_recognised_as_such() -> None:
    assert [token.type for token in parse("<div>\n#x\n</div>")] == ["html_block"]
    assert inline_tokens("a <b>c</b>") == [
        ("text", "a "), ("html_inline", "<b>"), ("text", "c"), ("html_inline", "</b>"),
    ]


def test_nesting_is_bounded() -> None:
    assert MAX_NESTING == 20
    assert derive("> " * (MAX_NESTING - 1) + "deep #t").tags == ("t",)
    tokens = parse("> " * (MAX_NESTING + 5) + "deep")
    assert max(token.level for token in tokens) <= MAX_NESTING


# Hostile shapes, each about 20 KB: all must finish quickly (a quadratic path would take
# minutes at this size) and never raise.
SIZE = 20_000
HOSTILE_SHAPES = {
    "brackets": "[" * SIZE,
    "image openers": "![" * (SIZE // 2),
    "footnote openers": "[^" * (SIZE // 2),
    "link openers": "[a](" * (SIZE // 4),
    "balanced brackets": "[" * (SIZE // 2) + "]" * (SIZE // 2),
    "quotes": "> " * (SIZE // 2) + "x",
    "lists": "- " * (SIZE // 2) + "x",
    "indented lists": "".join(" " * i + "- x\n" for i in range(200)),
    "emphasis": "*a " * (SIZE // 3),
    "nested emphasis": "*" * (SIZE // 2) + "a" + "*" * (SIZE // 2),
    "backticks": "`a" * (SIZE // 2),
    "tags": " ".join(f"#t{i}" for i in range(10_000)),
    "mentions": " ".join(f"@u{i}" for i in range(3_000)),
    "dollars": "$a " * (SIZE // 3),
    "angles": "<" * SIZE,
    "ampersands": "&#" * (SIZE // 2),
    "backslashes": "\\" * SIZE,
    "hashes": "#" * SIZE,
    "wide table": "|" + "a|" * 3000 + "\n|" + "-|" * 3000 + "\n|" + "1|" * 3000,
    "www": "www." * (SIZE // 4),
    "e-mail": "x@" * (SIZE // 2),
    "tasks": "- [ ] t\n" * 2000,
    "many fences": "```py\nx=1\n```\n" * 1500,
    "nested math": "$" + "{" * 1000 + "x" + "}" * 1000 + "$",
    "footnotes": "".join(f"a[^{i}]\n\n[^{i}]: n\n\n" for i in range(1000)),
}


@pytest.mark.parametrize("content", HOSTILE_SHAPES.values(), ids=HOSTILE_SHAPES.keys())
def test_hostile_shapes_finish_quickly(content: str) -> None:
    started = time.perf_counter()
    derived = derive(content)
    assert time.perf_counter() - started < 5
    assert isinstance(derived.html, str)


def test_a_hundred_kilobytes_of_brackets() -> None:
    started = time.perf_counter()
    derived = derive("[" * 100_000)
    assert time.perf_counter() - started < 15
    assert derived.snippet.startswith("[" * 64) and derived.html.startswith("<p>[[[")


def test_ten_thousand_distinct_tags_are_all_kept_in_order() -> None:
    tags = [f"t{i}" for i in range(10_000)]
    assert derive(" ".join("#" + tag for tag in tags)).tags == tuple(tags)
