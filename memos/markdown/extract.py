"""Tags, properties, mentions and title from the token stream (spec §10.1-§10.4)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it.token import Token


@dataclass(frozen=True, slots=True)
class Facts:
    tags: tuple[str, ...]
    mentions: tuple[str, ...]
    has_link: bool
    has_code: bool
    has_task_list: bool
    has_incomplete_tasks: bool
    title: str


def is_autolink(token: Token) -> bool:
    """Bare URLs, ``www.`` links, e-mail addresses and ``<...>`` autolinks: not Markdown links."""
    return token.markup == "autolink"


def outside_links(children: Sequence[Token]) -> Iterator[Token]:
    """The inline tokens that are not inside link text or image alt text (images keep alt in children)."""
    depth = 0
    for token in children:
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
        elif depth == 0:
            yield token


def extract(tokens: Sequence[Token]) -> Facts:
    tags: dict[str, None] = {}
    mentions: dict[str, None] = {}
    has_link = has_code = has_task_list = has_incomplete_tasks = False
    for token in tokens:
        if token.type in ("fence", "code_block"):
            has_code = True
        elif token.type == "list_item_open" and token.meta and "checked" in token.meta:
            has_task_list = True
            has_incomplete_tasks = has_incomplete_tasks or not token.meta["checked"]
        elif token.type == "inline":
            children = token.children or []
            has_link = has_link or any(c.type == "link_open" and not is_autolink(c) for c in children)
            has_code = has_code or any(c.type == "code_inline" for c in children)
            for child in outside_links(children):
                if child.type == "memo_tag":
                    tags.setdefault(child.content)
                elif child.type == "memo_mention":
                    mentions.setdefault(child.content.lower())
    return Facts(
        tags=tuple(tags),
        mentions=tuple(mentions),
        has_link=has_link,
        has_code=has_code,
        has_task_list=has_task_list,
        has_incomplete_tasks=has_incomplete_tasks,
        title=title(tokens),
    )


def title(tokens: Sequence[Token]) -> str:
    """The text of the document's first block when that block is a level-1 heading, else ""."""
    if len(tokens) < 2 or tokens[0].type != "heading_open" or tokens[0].tag != "h1":
        return ""
    return "".join(_title_text(tokens[1].children or []))


def _title_text(children: Sequence[Token]) -> Iterator[str]:
    inside_autolink = False
    for token in children:
        if token.type in ("link_open", "link_close") and is_autolink(token):
            inside_autolink = token.type == "link_open"
        elif inside_autolink:
            continue
        elif token.type in ("text", "code_inline"):
            yield token.content
        elif token.type == "image":
            yield from _title_text(token.children or [])
        elif token.type in ("math_inline", "math_inline_double"):
            yield token.markup + token.content + token.markup
