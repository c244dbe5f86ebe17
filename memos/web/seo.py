"""`/robots.txt` and `/sitemap.xml`: only meaningful with a configured instance URL."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from memos.profile import Profile
from memos.web.errors import echo_error

NO_INSTANCE_URL = "instance URL is not configured"

# Returns the uids of all PUBLIC memos, newest first (supplied by the memo service).
PublicMemoUids = Callable[[], Awaitable[Iterable[str]]]


def base_url(profile: Profile) -> str:
    return profile.instance_url.strip().rstrip("/")


def robots_txt(url: str) -> str:
    return "\n".join(["User-agent: *", "Allow: /", f"Host: {url}", f"Sitemap: {url}/sitemap.xml"])


def sitemap_xml(url: str, uids: Iterable[str]) -> str:
    entries = "".join(f"<url><loc>{escape(f'{url}/memos/{uid}')}</loc></url>" for uid in uids)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def seo_routes(profile: Profile, public_memo_uids: PublicMemoUids | None = None) -> list[BaseRoute]:
    """robots.txt always; sitemap.xml once a source of public memo uids is given."""

    async def robots(request: Request) -> Response:
        if not profile.is_public:
            return echo_error(404, NO_INSTANCE_URL)
        return PlainTextResponse(robots_txt(base_url(profile)), media_type="text/plain; charset=UTF-8")

    routes: list[BaseRoute] = [Route("/robots.txt", robots, methods=["GET"])]
    if public_memo_uids is not None:
        list_uids = public_memo_uids

        async def sitemap(request: Request) -> Response:
            if not profile.is_public:
                return echo_error(404, NO_INSTANCE_URL)
            body = sitemap_xml(base_url(profile), await list_uids())
            return Response(body, media_type="application/xml; charset=UTF-8")

        routes.append(Route("/sitemap.xml", sitemap, methods=["GET"]))
    return routes
