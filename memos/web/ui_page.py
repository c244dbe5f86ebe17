"""The UI's HTML pages, served safely: a per-response nonce, a strict Content-Security-Policy,
and the admin's custom code (GENERAL `additional_style` / `additional_script`) applied with
that nonce, so it is the only inline code a browser will run.

The page's markers `<!--memos:style-->` and `<!--memos:script-->` are replaced; a page without
them is sent with the headers only. GENERAL is read through the store, whose cache is refreshed
by every write of the setting: a page costs no database read, and a change of the setting shows
on the next page load. Assets never read it.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from starlette.responses import Response

from memos.store import Store

STYLE_MARKER = b"<!--memos:style-->"
SCRIPT_MARKER = b"<!--memos:script-->"

# For every response of the UI, HTML or asset.
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def content_security_policy(nonce: str) -> str:
    """Nothing inline runs but what carries this response's nonce; nothing is loaded from elsewhere."""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
    ])


def page_headers(nonce: str) -> dict[str, str]:
    return {**BASE_HEADERS, "Content-Security-Policy": content_security_policy(nonce)}


def _inline(tag: str, code: str, nonce: str) -> bytes:
    """``<tag nonce>code</tag>``; a closing tag inside the admin's code cannot end the element early
    (``<\\/`` means the same in JavaScript strings and CSS)."""
    if not code.strip():
        return b""
    safe = code.replace("</", "<\\/")
    return f'<{tag} nonce="{nonce}">{safe}</{tag}>'.encode()


class PageTemplate:
    """An HTML page of the bundle, read once."""

    def __init__(self, path: Path) -> None:
        self.content = path.read_bytes()

    def render(self, nonce: str, style: str, script: str) -> bytes:
        page = self.content.replace(STYLE_MARKER, _inline("style", style, nonce), 1)
        return page.replace(SCRIPT_MARKER, _inline("script", script, nonce), 1)


class UiPages:
    """Renders the bundle's HTML files for one response each."""

    def __init__(self, store: Store | None) -> None:
        self._store = store
        self._templates: dict[Path, PageTemplate] = {}

    async def custom_code(self) -> tuple[str, str]:
        """(additional_style, additional_script) of the GENERAL setting ('' without a store)."""
        if self._store is None:
            return "", ""
        general = (await self._store.instance_settings.get("GENERAL")).general_setting
        return general.additional_style, general.additional_script

    async def response(self, path: Path, extra: dict[str, str], method: str) -> Response:
        template = self._templates.get(path)
        if template is None:
            template = self._templates[path] = PageTemplate(path)
        nonce = secrets.token_urlsafe(18)
        style, script = await self.custom_code()
        body = template.render(nonce, style, script)
        headers = {**extra, **page_headers(nonce), "Content-Type": "text/html; charset=utf-8"}
        # No ETag: every response has its own nonce.
        return Response(b"" if method == "HEAD" else body, headers={**headers, "Content-Length": str(len(body))})
