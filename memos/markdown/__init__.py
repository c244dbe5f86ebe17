"""The one Markdown engine: everything derived from a memo's content, computed once per write.

``derive(content)`` parses the content once and returns its tags, properties, mentions,
snippet and HTML (spec §10). The API layer calls it when a memo is created or its content
changes, stores the result (``fill_payload`` writes tags and properties into the stored
``MemoPayload`` the way Memos does) and never re-parses on read. ``snippet(content)`` and
``mentions(content)`` are the cheaper single answers for callers that need only those.

Importing this package is cheap (idle memory matters on a Raspberry Pi): markdown-it-py
loads on the first call, Pygments with the first code block rendered, and the math
converter (about 12 MiB resident) with the first formula.

HTML contract (what the web UI may rely on)
------------------------------------------
Raw HTML in the content is shown as escaped text (a raw HTML block becomes
``<p class="raw-html">``); links carry only http(s), mailto, relative or fragment addresses
(others lose their ``href``), images only http(s) or relative ones (others become their alt
text). All text and attribute values are escaped. Single newlines are line breaks. As in
Memos, underlined ("setext") headings are not shown as headings: ``Text\\n===`` is a paragraph
ending in a line ``===``, and ``Text\\n---`` a paragraph followed by ``<hr>``.

- Tags: ``<span class="tag" data-tag="work/notes">#work/notes</span>``; inside link text a
  tag is plain text.
- Mentions: ``<span class="mention" data-mention="alice">@Alice</span>``; ``data-mention`` is the
  lower-cased username (the form users are matched by), the text is as written.
- Task items: ``<li class="task-list-item" data-task-index="N" data-task-line="L">`` followed by
  ``<input type="checkbox" class="task-list-item-checkbox" disabled [checked]>``. ``N`` is the
  0-based index of the item among all task items in source order (nested lists included);
  ``L`` is the 0-based line of the content (lines end at ``\\n``, ``\\r\\n`` or ``\\r``) that
  holds the item's marker: the first ``[ ]``, ``[x]`` or ``[X]`` on it right after a list bullet
  (``-``, ``+``, ``*``, ``1.`` or ``1)``) and its spaces, i.e. the first match of
  ``(?:[-+*]|\\d{1,9}[.)])[ \\t]+\\[([ xX])\\]``. Lists holding tasks have class
  ``contains-task-list``. The UI enables the box for writers.
- Headings: ``<hN id="md-SLUG">``; SLUG is the heading text lower-cased with spaces as ``-`` and
  punctuation dropped; repeats get ``-1``, ``-2``. Fragment links in the content are rewritten
  to the same prefix (``[see](#intro)`` -> ``href="#md-intro"``). Ids are unique within one memo
  only: the UI looks them up inside the memo's own element.
- Links: external ones have ``target="_blank" rel="noopener noreferrer"``; autolinked bare
  URLs, ``www.`` links and e-mail addresses also have ``class="autolink"``.
- Images: ``<img src alt [title] loading="lazy">``.
- Code blocks: ``<pre class="code-block" data-language="LANG"><code class="language-LANG">``
  (``data-language=""`` and no class when none is given). Known languages are coloured with
  Pygments token classes prefixed ``hl-`` (``hl-k`` keyword, ``hl-s`` string, ...); ``mermaid``
  and very long blocks stay plain escaped code.
- Math: ``$...$`` -> ``<span class="math math-inline"><math ...>`` and ``$$...$$`` (own lines)
  -> ``<div class="math math-display"><math display="block">`` as sanitised MathML (``$$...$$``
  within a line: ``<span class="math math-inline"><math display="block">``); when the TeX
  cannot be converted, ``<code class="math math-source">`` (inline) or
  ``<pre class="math math-source"><code>`` (block) shows the source.
- Footnotes: ``<sup class="footnote-ref"><a href="#md-fn-1" id="md-fnref-1">[1]</a></sup>``;
  the notes follow in ``<section class="footnotes"><ol class="footnotes-list">`` with
  ``<li class="footnote-item" id="md-fn-1">`` and back-links ``<a class="footnote-backref"
  href="#md-fnref-1">`` (``md-fnref-1-1`` for the second reference to the same note,
  ``-2`` for the third...).
- Tables: plain ``<table>`` with ``style="text-align:..."`` on aligned cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memos.gen.store.memo_pb2 import MemoPayload

__all__ = ["HTML_VERSION", "Derived", "derive", "fill_payload", "mentions", "snippet"]

# Changes whenever the HTML contract above or the rendering changes: stored HTML made under
# another version is stale and should be derived again from the content.
HTML_VERSION = 1


@dataclass(frozen=True, slots=True)
class Derived:
    """Everything computed from one memo's content."""

    tags: tuple[str, ...]  # document order, deduplicated case-sensitively (§10.1)
    has_link: bool
    has_task_list: bool
    has_code: bool
    has_incomplete_tasks: bool
    title: str  # §10.4; "" when the memo does not open with a level-1 heading
    mentions: tuple[str, ...]  # lower-cased usernames, deduplicated, document order (§10.3)
    snippet: str  # §10.6 with the usual limit of 64
    html: str  # safe HTML for the web UI (see the module docstring)


def derive(content: str) -> Derived:
    from memos.markdown import engine, extract, render, summary

    tokens = engine.parse(content)
    facts = extract.extract(tokens)
    return Derived(
        tags=facts.tags,
        has_link=facts.has_link,
        has_task_list=facts.has_task_list,
        has_code=facts.has_code,
        has_incomplete_tasks=facts.has_incomplete_tasks,
        title=facts.title,
        mentions=facts.mentions,
        snippet=summary.snippet_of(tokens),
        html=render.render(tokens, content),
    )


def snippet(content: str, limit: int = 64) -> str:
    """The plain-text preview of ``content`` (§10.6): at most ``limit`` characters plus `` ...``."""
    from memos.markdown import engine, summary

    return summary.snippet_of(engine.parse(content), limit)


def mentions(content: str) -> tuple[str, ...]:
    """The lower-cased usernames ``content`` mentions, without rendering anything."""
    from memos.markdown import engine, extract

    return extract.extract(engine.parse(content)).mentions


def fill_payload(payload: MemoPayload, derived: Derived) -> None:
    """Replace the payload's tags and property with ``derived``'s (§10.5); location is kept.

    The property is always present afterwards, so plain text is stored as ``{"property":{}}``.
    """
    del payload.tags[:]
    payload.tags.extend(derived.tags)
    prop = payload.property
    prop.Clear()
    prop.has_link = derived.has_link
    prop.has_task_list = derived.has_task_list
    prop.has_code = derived.has_code
    prop.has_incomplete_tasks = derived.has_incomplete_tasks
    prop.title = derived.title
    payload.property.SetInParent()
