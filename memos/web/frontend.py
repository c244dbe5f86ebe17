"""The web UI: static files from the package, cache headers, and the SPA fallback.

Order per request (paths of the API, files, feeds and SEO files are left alone):
cache headers are chosen from the path alone; an existing file is served
directly; otherwise the routes answer, and a 404 on `/`, `/index.html` or an
extension-less path is replaced by `index.html`, so client-side routes such as
`/memos/abc` load the app. Missing paths with an extension stay 404.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import mimetypes
import os
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memos.store import Store
from memos.web.content import BytesSource, content_response
from memos.web.ui_page import BASE_HEADERS, UiPages

NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
IMMUTABLE = {"Cache-Control": "public, max-age=2592000, immutable"}
ONE_HOUR = {"Cache-Control": "public, max-age=3600"}

_EXCLUDED_EXACT = frozenset({"/api", "/file", "/memos.api.v1", "/robots.txt", "/sitemap.xml"})
_EXCLUDED_PREFIXES = ("/api/", "/file/", "/memos.api.v1.")

# Explicit types for what a web UI ships, so the answer does not depend on the
# host's /etc/mime.types; charset on text types as Go's mime package gives them.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".wasm": "application/wasm",
}


def default_static_dir() -> Path:
    """`memos/static` of the installed package (a real directory, also inside a shiv extraction)."""
    return Path(str(importlib.resources.files("memos") / "static"))


def is_excluded(path: str) -> bool:
    """Paths that belong to the API, file server, feeds or SEO routes, never to the UI."""
    return path in _EXCLUDED_EXACT or path.startswith(_EXCLUDED_PREFIXES) or path.endswith("/rss.xml")


def extension(path: str) -> str:
    """The extension of the last path element, including the dot ('' if none)."""
    last = path.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return last[dot:] if dot >= 0 else ""


def is_app_route(path: str) -> bool:
    """Paths that may fall back to index.html when nothing else answers them."""
    return path in ("/", "/index.html") or extension(path) == ""


def cache_headers(path: str) -> dict[str, str]:
    """Cache headers for a non-excluded path; decided before knowing if the file exists."""
    if is_excluded(path):
        return {}
    if is_app_route(path):
        return NO_CACHE
    if path.startswith("/assets/"):
        return IMMUTABLE
    return ONE_HOUR


def content_type(name: str) -> str:
    ext = extension(name).lower()
    return _CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def compact(content: bytes, suffix: str) -> bytes:
    """The bundle as sent: the sources keep their comments, indentation and spacing for people,
    the browser gets none of them.

    rJSmin and rCSSmin only drop what cannot change a program's meaning (comments and
    whitespace outside strings, keeping the line breaks that end statements). rJSmin reads a
    template literal as one string up to the next backtick, so the sources never nest one
    template literal inside another (tests/web/test_static.py checks).
    """
    minified: str
    if suffix in (".js", ".mjs"):
        import rjsmin  # the bundle is compacted once, at start-up

        minified = rjsmin.jsmin(content.decode())
    elif suffix == ".css":
        import rcssmin

        minified = rcssmin.cssmin(content.decode())
    else:
        return content
    return (minified + "\n").encode()


class BundleFile:
    """One file of the UI bundle, held in memory: the bundle is small and never changes
    while the server runs, so it is read once instead of through a file-reading thread."""

    def __init__(self, path: Path) -> None:
        self.content = compact(path.read_bytes(), path.suffix)
        self.etag = f'"{hashlib.sha256(self.content).hexdigest()[:16]}"'
        self.content_type = content_type(path.name)

    def response(self, request_headers: Headers, extra: dict[str, str], method: str) -> Response:
        """The file with byte ranges and conditional requests (memos.web.content), ETag and no Last-Modified."""
        source = BytesSource(self.content, etag=self.etag)
        return content_response(source, request_headers, method, content_type=self.content_type, headers=extra)


class FrontendMiddleware:
    """ASGI middleware serving the UI around the routes (see the module docstring)."""

    def __init__(self, app: ASGIApp, static_dir: str | os.PathLike[str] | None = None,
                 store: Store | None = None) -> None:
        self.app = app
        self.root = Path(static_dir) if static_dir is not None else default_static_dir()
        self._files: dict[Path, BundleFile] = {}
        self._pages = UiPages(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_excluded(scope["path"]):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = cache_headers(path)
        readable = scope["method"] in ("GET", "HEAD")
        found = self.find(path) if readable else None
        if found is not None:
            await self._send_file(found, headers, scope, receive, send)
            return
        index = self.root / "index.html"
        may_fall_back = readable and is_app_route(path) and index.is_file()
        interceptor = _Interceptor(send, headers, may_fall_back)
        await self.app(scope, receive, interceptor.send)
        if interceptor.swallowed_404:
            await self._send_file(index, headers, scope, receive, send)

    def find(self, path: str) -> Path | None:
        """The bundled file for a URL path (a directory means its index.html), if any."""
        parts = [part for part in path.split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\x00" in part for part in parts):
            return None
        candidate = self.root.joinpath(*parts)
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    async def _send_file(self, file: Path, headers: dict[str, str], scope: Scope, receive: Receive, send: Send) -> None:
        if file.suffix == ".html":  # a page: its own nonce, CSP and the admin's custom code (memos.web.ui_page)
            page = await self._pages.response(file, headers, scope["method"])
            await page(scope, receive, send)
            return
        headers = {**headers, **BASE_HEADERS}
        bundled = self._files.get(file)
        if bundled is None:
            bundled = self._files[file] = BundleFile(file)
        # No Last-Modified: the bundle's file times say nothing about the UI version (Memos sends none).
        response = bundled.response(Headers(scope=scope), headers, scope["method"])
        await response(scope, receive, send)


class _Interceptor:
    """Adds the cache headers to a route's answer, or holds back a 404 for the fallback."""

    def __init__(self, send: Send, headers: dict[str, str], may_fall_back: bool) -> None:
        self._send = send
        self._headers = headers
        self._may_fall_back = may_fall_back
        self.swallowed_404 = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self._may_fall_back and message["status"] == 404:
                self.swallowed_404 = True
                return
            response_headers = MutableHeaders(scope=message)
            for name, value in self._headers.items():
                # A route that chose its own caching keeps it.
                if name not in response_headers:
                    response_headers[name] = value
        elif self.swallowed_404:
            return
        await self._send(message)
