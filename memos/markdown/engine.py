"""The one Markdown parser: CommonMark with the GitHub extensions Memos uses, plus tags and mentions.

Loaded on first use only (see the package docstring): importing it pulls in markdown-it-py.

The token stream it produces is what every consumer walks: extraction of tags and
properties, the snippet, and the HTML renderer. Two inline token types are added:

- ``memo_tag``: ``content`` is the tag body (without ``#``);
- ``memo_mention``: ``content`` is the username as written (without ``@``).

Both are produced wherever inline text is parsed, link text included; consumers decide
what a tag inside a link means (for extraction: nothing).
"""
from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin

from memos.markdown import grammar

# markdown-it's guard against runaway recursion: content nested deeper than this (quotes in
# lists in quotes...) is dropped. Far beyond what people write, and the work hostile input
# such as 100 KB of "[" can cause grows with it (20 is markdown-it's CommonMark default).
MAX_NESTING = 20


def parse(content: str) -> list[Token]:
    return _parser().parse(content)


def parser_options() -> OptionsDict:
    """The options the tokens were parsed with (the renderer reads e.g. ``breaks``)."""
    return _parser().options


@functools.cache
def _parser() -> MarkdownIt:
    options = {
        # Raw HTML must be recognised so that it is never inline-parsed (no tags inside it);
        # the renderer writes it out escaped.
        "html": True,
        "breaks": True,
        "xhtmlOut": False,
        "maxNesting": MAX_NESTING,
        "tasklists": True,
        "strikethrough_single_tilde": True,
    }
    md = MarkdownIt("commonmark", options)
    md.enable(["table", "strikethrough"])
    md.use(gfm_autolink_plugin)
    md.use(footnote_plugin, inline=False)
    # Pandoc's rule for inline math ($ hugging its content, no digit after the closing $)
    # keeps prices such as "$5 and $10" plain text.
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    # After the e-mail autolink rule, so that "name@example.com" stays an address.
    md.inline.ruler.push("memo_tag", _tag_rule)
    md.inline.ruler.push("memo_mention", _mention_rule)
    return md


def _tag_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "#":
        return False
    body = grammar.tag_body(state.src, state.pos + 1, state.posMax)
    return _consume(state, silent, "memo_tag", body)


def _mention_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@" or not grammar.may_start_mention(state.src, state.pos):
        return False
    body = grammar.mention_body(state.src, state.pos + 1, state.posMax)
    return _consume(state, silent, "memo_mention", body)


def _consume(state: StateInline, silent: bool, token_type: str, body: str) -> bool:
    """Step over the sigil at ``state.pos`` and ``body``, pushing a ``token_type`` token unless silent."""
    if not body:
        return False
    if not silent:
        token = state.push(token_type, "", 0)
        token.content = body
        token.markup = state.src[state.pos]
    state.pos += 1 + len(body)
    return True
