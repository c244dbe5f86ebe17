"""Syntax colouring of fenced code with Pygments, as CSS classes (never inline styles).

Loaded with the first code block rendered. Work is bounded: a block longer than MAX_BLOCK_CHARS, or any
block once a document has had MAX_DOCUMENT_CHARS coloured, is written out escaped but
uncoloured, so one memo cannot pin a CPU.
"""
from __future__ import annotations

import functools

from markdown_it.common.utils import escapeHtml
from pygments import highlight as pygments_highlight
from pygments.formatters.html import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class, get_all_lexers

MAX_BLOCK_CHARS = 20_000
MAX_DOCUMENT_CHARS = 100_000
# Token classes are Pygments' short names with this prefix ("hl-k" for a keyword), so they
# cannot collide with the UI's own classes.
CLASS_PREFIX = "hl-"
# Diagram sources stay plain code: the UI turns them into pictures.
PLAIN_LANGUAGES = frozenset({"mermaid"})


class Budget:
    """How many more characters one document may have coloured."""

    def __init__(self, chars: int = MAX_DOCUMENT_CHARS) -> None:
        self.chars = chars

    def spend(self, chars: int) -> bool:
        if chars > MAX_BLOCK_CHARS or chars > self.chars:
            return False
        self.chars -= chars
        return True


def code_html(code: str, language: str, budget: Budget) -> str:
    """The inner HTML of a code block: coloured spans when the language is known and affordable."""
    lexer = _lexer(language.lower()) if language.lower() not in PLAIN_LANGUAGES else None
    if lexer is None or not budget.spend(len(code)):
        return escapeHtml(code)
    coloured: str = pygments_highlight(code, lexer, _formatter())
    return coloured


@functools.lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = _lexer_names().get(language)
    lexer_class = find_lexer_class(name) if name else None
    # Keep the block's blank lines as written.
    return lexer_class(stripnl=False, ensurenl=False) if lexer_class else None


@functools.cache
def _lexer_names() -> dict[str, str]:
    """Alias -> lexer name for the lexers Pygments ships; unknown names then cost a dict miss,
    not a scan of installed plugins."""
    return {alias.lower(): name for name, aliases, _, _ in get_all_lexers(plugins=False) for alias in aliases}


@functools.cache
def _formatter() -> HtmlFormatter[str]:
    return HtmlFormatter(nowrap=True, classprefix=CLASS_PREFIX)
