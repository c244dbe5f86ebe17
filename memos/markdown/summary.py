"""The plain-text snippet of a memo (spec §10.6): a short preview for lists, relations and notifications."""
from __future__ import annotations

from collections.abc import Sequence

from markdown_it.token import Token

from memos.markdown.extract import is_autolink

SNIPPET_LIMIT = 64
ELLIPSIS = " ..."

# Blocks whose end asks for a space before the next one of them starts.
_SPACED = frozenset({"paragraph", "heading", "list_item", "tr", "th", "td"})
# Whole subtrees that contribute nothing and do not count as started nodes.
_SKIPPED = frozenset({"fence", "code_block"})
# Containers markdown-it has and the reference document model lacks: not nodes at all.
_TRANSPARENT = frozenset({"thead", "tbody", "inline"})


class _Collector:
    """Text gathered in document order, with the block-spacing rule of §10.6."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: list[str] = []
        self.size = 0  # UTF-8 bytes collected
        self.space_due = False

    @property
    def full(self) -> bool:
        return self.size > self.max_bytes

    def start(self, kind: str) -> None:
        if kind in _SPACED and self.space_due and self.size:
            self.add(" ")
        self.space_due = False

    def end(self, kind: str) -> None:
        if kind in _SPACED:
            self.space_due = True

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode())


def collect(tokens: Sequence[Token], max_bytes: int) -> str:
    """The document's text in order, until it exceeds ``max_bytes`` (UTF-8)."""
    collector = _Collector(max_bytes)
    for token in tokens:
        # Footnote bodies are gathered at the end of the stream; they are no part of a preview.
        if token.type == "footnote_block_open" or collector.full:
            break
        _visit_block(collector, token)
    return "".join(collector.parts)


def _kind(token: Token) -> str:
    return token.type.removesuffix("_open").removesuffix("_close")


def _visit_block(collector: _Collector, token: Token) -> None:
    kind = _kind(token)
    if token.type in _SKIPPED:
        return
    if token.type == "inline":
        _visit_inline(collector, token.children or [])
    elif kind in _TRANSPARENT:
        return
    elif token.nesting == 1:
        collector.start(kind)
    elif token.nesting == -1:
        collector.end(kind)
    elif token.type in ("math_block", "math_block_label"):
        collector.start("paragraph")
        collector.add("$$ " + " ".join(token.content.split()) + " $$")
        collector.end("paragraph")
    else:  # raw HTML, thematic breaks: started and dropped
        collector.start(kind)


def _visit_inline(collector: _Collector, children: Sequence[Token]) -> None:
    autolink_open = False
    for token in children:
        if collector.full:
            return
        if autolink_open:
            autolink_open = token.type != "link_close"
            if token.type == "text":
                collector.add(_autolink_url(token.content))
            continue
        if token.type == "softbreak":
            collector.add(" ")
            continue
        if token.type == "hardbreak":
            continue
        if token.nesting == -1:
            collector.end(_kind(token))
            continue
        collector.start(_kind(token))
        if token.type == "link_open" and is_autolink(token):
            autolink_open = True
        elif token.type in ("text", "code_inline"):
            collector.add(token.content)
        elif token.type == "memo_tag":
            collector.add("#" + token.content)
        elif token.type in ("math_inline", "math_inline_double"):
            collector.add(token.markup + token.content + token.markup)
        elif token.type == "image":
            _visit_inline(collector, token.children or [])


def _autolink_url(written: str) -> str:
    """An autolink as its URL: ``www.`` links gain the scheme a browser would use."""
    return "http://" + written if written.lower().startswith("www.") else written


def shorten(text: str, limit: int = SNIPPET_LIMIT) -> str:
    """Cut collected text to ``limit`` characters at a word boundary, marking the cut (§10.6 steps 2-3)."""
    if len(text.encode()) > limit and len(text) > limit:
        cut = text[:limit]
        last_space = max((i for i, char in enumerate(cut) if char.isspace()), default=-1)
        if last_space > 0:
            cut = cut[:last_space]
        text = cut + ELLIPSIS
    return text.strip()


def snippet_of(tokens: Sequence[Token], limit: int = SNIPPET_LIMIT) -> str:
    # Twice the limit in bytes (128 for the usual 64) is always enough to cut from.
    return shorten(collect(tokens, 2 * limit), limit)
