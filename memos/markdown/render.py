"""Safe HTML for the web UI from the token stream, with the hooks the UI relies on.

The hooks and their names are documented in the package docstring. Safety rests on three
rules: raw HTML is written as escaped text; every attribute value and text is escaped;
addresses pass the allow-list of ``memos.markdown.urls``. Nothing from the memo ever
becomes a tag or attribute name.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from memos.markdown import engine
from memos.markdown.extract import is_autolink
from memos.markdown.urls import IMAGE_SCHEMES, LINK_SCHEMES, is_fragment, safe_url

if TYPE_CHECKING:
    from memos.markdown.highlight import Budget

# Ids made from memo text are prefixed so that a heading cannot take the id of a page element.
ID_PREFIX = "md-"


def render(tokens: Sequence[Token], content: str) -> str:
    """The HTML of ``content``, given the tokens parsed from it."""
    return _DocumentRenderer(tokens, content).render(tokens, engine.parser_options(), {})


def _attributes(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(f' {name}="{escapeHtml(value)}"' for name, value in pairs)


def plain_text(children: Sequence[Token]) -> Iterator[str]:
    """Inline content as a reader sees it: text, code, tags, mentions, link text, image alt."""
    for token in children:
        if token.type in ("text", "code_inline"):
            yield token.content
        elif token.type in ("memo_tag", "memo_mention"):
            yield token.markup + token.content
        elif token.type in ("math_inline", "math_inline_double"):
            yield token.markup + token.content + token.markup
        elif token.type == "image":
            yield from plain_text(token.children or [])
        elif token.type in ("softbreak", "hardbreak"):
            yield " "


def slug(text: str) -> str:
    """A heading id in the GitHub manner: lower case, spaces as hyphens, other punctuation dropped."""
    kept = (char for char in text.lower() if char in "-_ " or unicodedata.category(char)[0] in "LNM")
    return "".join(kept).replace(" ", "-")


class _DocumentRenderer(RendererHTML):
    """Renders one document; holds the state that numbering and budgets need across it."""

    def __init__(self, tokens: Sequence[Token], content: str) -> None:
        super().__init__()
        self.lines = _LINE_END.split(content)
        self.task_indexes = _task_indexes(tokens)
        self.slug_counts: dict[str, int] = {}
        self.link_depth = 0
        self.budget: Budget | None = None  # made with the first code block

    # --- raw HTML: shown, never interpreted -----------------------------------------------

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        lines = tokens[idx].content.rstrip("\n").split("\n")
        return '<p class="raw-html">' + "<br>\n".join(escapeHtml(line) for line in lines) + "</p>\n"

    def html_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return escapeHtml(tokens[idx].content)

    # --- links and images ----------------------------------------------------------------

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        self.link_depth += 1
        href = safe_url(str(token.attrGet("href") or ""), LINK_SCHEMES)
        pairs: list[tuple[str, str]] = []
        if href is not None and is_fragment(href):
            pairs.append(("href", "#" + ID_PREFIX + href[1:]))
        elif href is not None:
            pairs += [("href", href), ("target", "_blank"), ("rel", "noopener noreferrer")]
        if token.attrGet("title"):
            pairs.append(("title", str(token.attrGet("title"))))
        if is_autolink(token):
            pairs.append(("class", "autolink"))
        return "<a" + _attributes(pairs) + ">"

    def link_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        self.link_depth -= 1
        return "</a>"

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        alt = "".join(plain_text(token.children or []))
        src = safe_url(str(token.attrGet("src") or ""), IMAGE_SCHEMES)
        if src is None:
            return escapeHtml(alt)
        pairs = [("src", src), ("alt", alt)]
        if token.attrGet("title"):
            pairs.append(("title", str(token.attrGet("title"))))
        return "<img" + _attributes([*pairs, ("loading", "lazy")]) + ">"

    # --- tags and mentions ---------------------------------------------------------------

    def memo_tag(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tag = tokens[idx].content
        if self.link_depth:  # no pill (a second interactive element) inside a link
            return escapeHtml("#" + tag)
        return f'<span class="tag"{_attributes([("data-tag", tag)])}>#{escapeHtml(tag)}</span>'

    def memo_mention(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        name = tokens[idx].content
        if self.link_depth:
            return escapeHtml("@" + name)
        return f'<span class="mention"{_attributes([("data-mention", name.lower())])}>@{escapeHtml(name)}</span>'

    # --- headings and task items ---------------------------------------------------------

    def heading_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if _is_setext(tokens[idx]):
            return "<p>"
        text = "".join(plain_text(tokens[idx + 1].children or []))
        return f"<{tokens[idx].tag}{_attributes([('id', ID_PREFIX + self._unique_slug(slug(text)))])}>"

    def heading_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        opening = tokens[idx - 2]  # heading_open, inline, heading_close
        if not _is_setext(opening):
            return f"</{tokens[idx].tag}>\n"
        # Memos shows underlined ("setext") headings as the text they are: the underline stays
        # a line of the paragraph, or becomes a thematic break when it is one.
        underline = self._underline(opening)
        if underline.startswith("-") and len(underline) >= 3:
            return "</p>\n<hr>\n"
        return f"<br>\n{escapeHtml(underline)}</p>\n"

    def _underline(self, opening: Token) -> str:
        line = self.lines[opening.map[1] - 1] if opening.map and opening.map[1] <= len(self.lines) else ""
        found = _UNDERLINE.search(line)
        return found.group(1) if found else opening.markup

    def _unique_slug(self, base: str) -> str:
        candidate = base
        while candidate in self.slug_counts:
            self.slug_counts[base] += 1
            candidate = f"{base}-{self.slug_counts[base]}"
        self.slug_counts[candidate] = 0
        return candidate

    def list_item_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        if not (token.meta and "checked" in token.meta):
            return self.renderToken(tokens, idx, options, env)
        pairs = [
            ("class", "task-list-item"),
            ("data-task-index", str(self.task_indexes[id(token)])),
            ("data-task-line", str(token.map[0] if token.map else -1)),
        ]
        checked = " checked" if token.meta["checked"] else ""
        return f'<li{_attributes(pairs)}><input type="checkbox" class="task-list-item-checkbox" disabled{checked}> '

    # --- code and math -------------------------------------------------------------------

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Pygments loads with the first code block, not with the first memo.
        from memos.markdown import highlight

        token = tokens[idx]
        words = unescapeAll(token.info).split(maxsplit=1)
        language = words[0] if words else ""
        self.budget = self.budget or highlight.Budget()
        inner = highlight.code_html(token.content, language, self.budget)
        code_class = _attributes([("class", "language-" + language)]) if language else ""
        pre = '<pre class="code-block"' + _attributes([("data-language", language)]) + ">"
        return f"{pre}<code{code_class}>{inner}</code></pre>\n"

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f'<pre class="code-block" data-language=""><code>{escapeHtml(tokens[idx].content)}</code></pre>\n'

    def math_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=False, block=False)

    def math_inline_double(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True, block=False)

    def math_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True, block=True)

    def math_block_label(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True, block=True)

    # --- footnotes -----------------------------------------------------------------------

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        number, back_id = _footnote_ids(tokens[idx])
        link = _attributes([("href", f"#{ID_PREFIX}fn-{number}"), ("id", back_id)])
        return f'<sup class="footnote-ref"><a{link}>[{number}]</a></sup>'

    def footnote_block_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return '<section class="footnotes">\n<ol class="footnotes-list">\n'

    def footnote_block_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "</ol>\n</section>\n"

    def footnote_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        number, _ = _footnote_ids(tokens[idx])
        return f'<li class="footnote-item"{_attributes([("id", f"{ID_PREFIX}fn-{number}")])}>'

    def footnote_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "</li>\n"

    def footnote_anchor(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        _, back_id = _footnote_ids(tokens[idx])
        return f' <a class="footnote-backref"{_attributes([("href", "#" + back_id)])}>\u21a9\ufe0e</a>'


# Line ends as markdown-it counts them, so that token line numbers index this list.
_LINE_END = re.compile(r"\r\n|\r|\n")
_UNDERLINE = re.compile(r"(=+|-+)[ \t]*$")


def _is_setext(heading: Token) -> bool:
    return heading.markup in ("=", "-")


def _footnote_ids(token: Token) -> tuple[int, str]:
    """The footnote's number (1-based) and the id of the reference a back-link returns to."""
    number = int(token.meta["id"]) + 1
    repeat = int(token.meta.get("subId", 0))
    return number, f"{ID_PREFIX}fnref-{number}" + (f"-{repeat}" if repeat else "")


def _math(tex: str, *, display: bool, block: bool) -> str:
    # The converter costs about 12 MiB once loaded: only memos with math pay for it.
    from memos.markdown import mathml

    markup = mathml.to_mathml(tex, display=display)
    if markup is None:  # the source, as code, is the honest fallback
        source = escapeHtml(tex)
        if block:
            return f'<pre class="math math-source"><code>{source}</code></pre>\n'
        return f'<code class="math math-source">{source}</code>'
    if block:
        return f'<div class="math math-display">{markup}</div>\n'
    return f'<span class="math math-inline">{markup}</span>'


def _task_indexes(tokens: Sequence[Token]) -> dict[int, int]:
    """id(task item token) -> its 0-based position among task items in source order.

    Source order, not token order: footnote bodies are moved to the end of the token stream.
    """
    items = [t for t in tokens if t.type == "list_item_open" and t.meta and "checked" in t.meta]
    items.sort(key=lambda t: t.map[0] if t.map else 0)
    return {id(token): index for index, token in enumerate(items)}
