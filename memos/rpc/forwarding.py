"""Which forwarding headers to believe: only those set by a reverse proxy the operator named.

A client can send ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``Forwarded``
itself, so they count only when the TCP peer is a trusted proxy (by default
loopback: a reverse proxy on the same host). From such a peer, the client's
address is the rightmost ``X-Forwarded-For`` entry that is not itself a
trusted proxy (proxies append the address they saw; entries further left came
from the client and may be invented), and the scheme is what the proxy says.
Everything that depends on the client's address or scheme (the sign-in
throttle, the refresh cookie's ``Secure`` flag) follows this one rule.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ("127.0.0.0/8", "::1/128")


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses or CIDR networks; ValueError names the first bad entry.

    An empty list (or the word ``none``) trusts no proxy at all.
    """
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if [entry.lower() for entry in entries] == ["none"]:
        return ()
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network (e.g. 10.0.0.5 or 10.0.0.0/8)") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client of a dual-stack socket shows up as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclasses.dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...] = tuple(ipaddress.ip_network(net) for net in LOOPBACK)

    def trusts(self, address: str | None) -> bool:
        """Whether a peer is a trusted proxy. A peer without an address came through the
        Unix socket, which only this host can reach: it counts as loopback."""
        ip = _ip(address or "127.0.0.1")
        return ip is not None and any(ip in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Iterable[str]) -> str | None:
        """The client's address: ``peer`` itself unless a trusted proxy forwarded the request.

        ``forwarded_for`` are the request's X-Forwarded-For header values in order.
        The result is a normalised IP address whenever it comes from the header.
        """
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        address = peer
        while hops and self.trusts(address):
            ip = _ip(hops.pop())
            if ip is None:
                break  # garbage from the client: the last trusted hop is all we know
            address = str(ip)
        return address

    def is_https(self, scheme: str, peer: str | None, forwarded_proto: Iterable[str], forwarded: Iterable[str]) -> bool:
        """Whether the client reached us over HTTPS: directly, or as a trusted proxy reports.

        ``forwarded_proto`` are the X-Forwarded-Proto values, ``forwarded`` the
        RFC 7239 Forwarded values; neither counts from an untrusted peer.
        """
        if scheme == "https":
            return True
        if not self.trusts(peer):
            return False
        if any(part.strip().lower() == "https" for value in forwarded_proto for part in value.split(",")):
            return True
        return any(_forwarded_proto(value) == "https" for value in forwarded)


def _forwarded_proto(value: str) -> str:
    """The first ``proto=`` parameter of a Forwarded header value, lower-cased ("" when none)."""
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, parameter = pair.partition("=")
            if name.strip().lower() == "proto":
                return parameter.strip().strip('"').lower()
    return ""
