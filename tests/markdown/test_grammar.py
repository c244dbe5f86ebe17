"""The tag and mention character grammar (spec §10.1, §10.3)."""
from __future__ import annotations

import pytest

from memos.markdown.grammar import is_tag_character, may_start_mention, mention_body, tag_body


@pytest.mark.parametrize("char", [*"aZ7_-/&$+<=>^`|~", "é", "测", "٣", "🚀", "\u200d", "\ufe0f", "\u0301", "©"])
def test_tag_characters(char: str) -> None:
    assert is_tag_character(char)


@pytest.mark.parametrize("char", [*" \t\n.,;:!?\"'()[]{}*@#%\\", "。", "、", "\u00a0", "\u3000", "«"])
def test_characters_that_end_a_tag(char: str) -> None:
    assert not is_tag_character(char)


def test_tag_body() -> None:
    assert tag_body("#abc def", 1) == "abc"
    assert tag_body("# x", 1) == ""
    assert tag_body("#abc", 1, 3) == "ab"
    assert tag_body("#" + "x" * 120, 1) == "x" * 100


def test_mention_start() -> None:
    assert may_start_mention("@a", 0)
    assert may_start_mention("x @a", 2)
    assert may_start_mention("x\n@a", 2)
    assert may_start_mention("(@a", 1)
    assert may_start_mention("+@a", 1)
    assert not may_start_mention("x@a", 1)
    assert not may_start_mention("7@a", 1)
    assert not may_start_mention("\x01@a", 1)  # a control character is neither space, punctuation nor symbol


def test_mention_body() -> None:
    assert mention_body("@alice.", 1) == "alice"
    assert mention_body("@a-b_c", 1) == "a-b"
    assert mention_body("@---", 1) == ""
    assert mention_body("@" + "a" * 63, 1) == "a" * 63
    assert mention_body("@" + "a" * 64, 1) == ""
    assert mention_body("@Jürgen", 1) == "Jürgen"
    assert mention_body("@abc", 1, 3) == "ab"
