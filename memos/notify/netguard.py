"""Keeps server-side requests to user-chosen URLs away from private and special networks.

Memos checks a small list of private ranges when a webhook is saved and again
when it connects. This guard covers every range that is not ordinary public
unicast (loopback, private, link-local, CGNAT, unspecified, multicast,
reserved, documentation, NAT64 and the IPv4 forms embedded in IPv6), and it
checks the addresses a name resolves to at the moment of the request, then
connects to exactly the address it checked. A name that resolves to a public
address when checked and to a private one a moment later (DNS rebinding)
therefore never reaches the private address.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from memos.call import Code, RpcError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_BLOCKED_V4 = (
    "0.0.0.0/8",  # "this network", includes the unspecified address
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, where cloud metadata services live
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, includes broadcast
)
_BLOCKED_V6 = (
    "::/128",
    "::1/128",
    # IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses are
    # judged by the IPv4 address they carry (is_blocked).
    "64:ff9b::/96",  # NAT64, well-known prefix
    "64:ff9b:1::/48",  # NAT64, local-use prefix
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments, includes Teredo
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4: tunnels to an arbitrary embedded IPv4 address
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated)
    "ff00::/8",  # multicast
)

BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr) for cidr in (*_BLOCKED_V4, *_BLOCKED_V6)
)

BLOCKED_MESSAGE = "webhook URL must not resolve to a reserved or private IP address"

# (host, port) -> the addresses it resolves to; replaceable so tests can play DNS.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class BlockedAddressError(Exception):
    """A request was refused because its host resolves to a guarded address."""


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives for ``host`` (an IP literal resolves to itself)."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"no addresses for {host}")
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or IPv4-compatible IPv6 address stands for."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_blocked(address: IPAddress, networks: Sequence[IPNetwork] = BLOCKED_NETWORKS) -> bool:
    """True when ``address`` (or the IPv4 address embedded in it) lies in a guarded range."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_blocked(embedded, networks):
            return True
    return any(address.version == network.version and address in network for network in networks)


class AddressGuard:
    """The policy for outgoing requests to URLs that users choose.

    ``allow_private`` (``--allow-private-webhooks``) turns the guard off.
    ``networks`` and ``resolve`` exist so tests can choose what counts as
    private and what a name resolves to.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        networks: Sequence[IPNetwork] = BLOCKED_NETWORKS,
        resolve: Resolver = system_resolve,
    ) -> None:
        self.allow_private = allow_private
        self._networks = tuple(networks)
        self._resolve = resolve

    def blocked(self, addresses: Iterable[IPAddress]) -> bool:
        return not self.allow_private and any(is_blocked(a, self._networks) for a in addresses)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        return await self._resolve(host, port)

    async def validate_url(self, url: str) -> str:
        """The trimmed URL when it may be used; RpcError INVALID_ARGUMENT otherwise."""
        url = url.strip()
        parts = _parse_request_uri(url)
        if self.allow_private:
            return url
        host = parts.hostname or ""
        try:
            addresses = await self.resolve(host, _port_for(parts.scheme, parts.port))
        except (OSError, UnicodeError, ValueError) as exc:
            raise RpcError(Code.INVALID_ARGUMENT, f"webhook URL hostname could not be resolved: {exc}") from exc
        if self.blocked(addresses):
            raise RpcError(Code.INVALID_ARGUMENT, BLOCKED_MESSAGE)
        return url

    async def post(
        self,
        client: Any,
        url: str,
        *,
        content: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> Any:
        """POST through an ``httpx.AsyncClient``, connecting only to an address that passed the guard.

        Raises BlockedAddressError when the host resolves to a guarded address.
        """
        request = await self.build_request(client, "POST", url, content=content, headers=headers, timeout=timeout)
        return await client.send(request)

    async def build_request(
        self,
        client: Any,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        timeout: float,
        content: bytes | None = None,
    ) -> Any:
        """An ``httpx.Request`` of ``client`` for ``url`` that connects only to an address that passed the guard.

        The request goes to the checked IP itself; the Host header and the TLS
        server name (SNI and certificate check) still carry the URL's host, so
        the name is resolved exactly once, here. Send it with ``client.send``
        (``stream=True`` to read a bounded part of the answer). Raises
        BlockedAddressError when the host resolves to a guarded address and
        OSError when it does not resolve.
        """
        import httpx

        if self.allow_private:
            return client.build_request(method, url, content=content, headers=headers, timeout=timeout)
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")  # IDNA-encoded: what DNS and SNI expect
        addresses = await self.resolve(host, _port_for(target.scheme, target.port))
        if self.blocked(addresses):
            raise BlockedAddressError(f"{host} resolves to a reserved or private IP address")
        pinned = target.copy_with(host=str(addresses[0]))
        sent_headers = {**headers, "Host": target.netloc.decode("ascii")}
        named = target.scheme == "https" and _ip_literal(host) is None
        extensions = {"sni_hostname": host} if named else {}
        return client.build_request(
            method, pinned, content=content, headers=sent_headers, timeout=timeout, extensions=extensions
        )


class GuardedClient:
    """One ``httpx.AsyncClient`` for requests built by an AddressGuard: opened on first use, closed with ``close``.

    No proxies from the environment (the guard must see the real destination) and
    no automatic redirects (each hop must pass the guard); httpx is imported only
    when a request is first made.
    """

    def __init__(self) -> None:
        self._client: Any = None

    def get(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _parse_request_uri(url: str) -> urllib.parse.SplitResult:
    """An absolute http(s) URL with a host, or INVALID_ARGUMENT with the reason."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid webhook URL: {exc}") from exc
    if not parts.scheme or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid webhook URL: {url!r} is not an absolute URL")
    if parts.scheme not in ("http", "https"):
        raise RpcError(Code.INVALID_ARGUMENT, f'webhook URL must use http or https scheme, got "{parts.scheme}"')
    if not parts.hostname:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid webhook URL: {url!r} has no host")
    return parts


def _port_for(scheme: str, port: int | None) -> int:
    return port or (443 if scheme == "https" else 80)


async def validate_webhook_url(url: str, allow_private: bool) -> str:
    """Check a webhook URL when it is saved: the trimmed URL, or RpcError INVALID_ARGUMENT.

    Messages: ``invalid webhook URL: …``, ``webhook URL must use http or https
    scheme, got "<s>"``, ``webhook URL hostname could not be resolved: …`` and
    ``webhook URL must not resolve to a reserved or private IP address``. The
    same check runs again at delivery time (AddressGuard.post).
    """
    return await AddressGuard(allow_private=allow_private).validate_url(url)
