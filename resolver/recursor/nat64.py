"""NAT64 upstream (Unbound's do-nat64 / nat64-prefix): IPv4 servers asked over IPv6.

On a host with IPv6 only, an IPv4 server address (a root hint, glue, a resolved NS name) is
reached at the address RFC 6052 §2.2 embeds it in under the NAT64 prefix (64:ff9b::/96 by
default): the prefix, then the four IPv4 octets, skipping bits 64 to 71, which are zero.
unbound.conf(5): do-nat64 "Use NAT64 to reach IPv4-only servers"; nat64-prefix "Defaults to
using dns64-prefix value or 64:ff9b::/96"; Unbound's iterator.c applies addr_to_nat64 to every
IPv4 target when do-nat64 is on.

The recursor keeps reasoning about IPv4 addresses (selection, lameness, the cache): only the
exchange with the world sees the translated ones, and its result names the IPv4 address again.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

DEFAULT_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
PREFIX_LENGTHS = (32, 40, 48, 56, 64, 96)  # RFC 6052 §2.2


def nat64_prefix(text: str) -> ipaddress.IPv6Network:
    """A NAT64 prefix from its text (``ValueError``: not IPv6, or a length RFC 6052 lacks)."""
    net = ipaddress.ip_network(text.strip(), strict=False)
    if not isinstance(net, ipaddress.IPv6Network):
        raise ValueError(f"{text!r} is not an IPv6 prefix")
    if net.prefixlen not in PREFIX_LENGTHS:
        raise ValueError(f"{text!r}: the prefix length must be 32, 40, 48, 56, 64 or 96")
    return net


def embed(v4: ipaddress.IPv4Address, prefix: ipaddress.IPv6Network) -> ipaddress.IPv6Address:
    """The IPv6 address of ``v4`` under ``prefix`` (RFC 6052 §2.2)."""
    out = bytearray(prefix.network_address.packed)
    at = prefix.prefixlen // 8
    for octet in v4.packed:
        if at == 8:  # bits 64-71 ("u") are zero
            out[at] = 0
            at += 1
        out[at] = octet
        at += 1
    return ipaddress.IPv6Address(bytes(out))


def translate(address: str, prefix: ipaddress.IPv6Network) -> str:
    """``address`` (``ip`` or ``ip@port``) with an IPv4 ip replaced by its NAT64 address."""
    ip, sep, port = address.partition("@")
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return address
    if parsed.version != 4:
        return address
    return f"{embed(parsed, prefix).compressed}{sep}{port}"


class Nat64Exchanger:
    """An exchanger that sends IPv4 servers' queries to their NAT64 addresses."""

    def __init__(self, inner: Exchanger, prefix: ipaddress.IPv6Network) -> None:
        self.inner = inner
        self.prefix = prefix

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        back: dict[str, str] = {}
        for server in query.servers:
            back.setdefault(translate(server, self.prefix), server)
        result = await self.inner.exchange(dataclasses.replace(query, servers=tuple(back)))
        if result.server is not None:
            result.server = back.get(result.server, result.server)
        result.failures = [(back.get(s, s), f) for s, f in result.failures]
        return result


def through_nat64(exchanger: Exchanger, prefix: ipaddress.IPv6Network | None) -> Exchanger:
    """``exchanger`` itself, or wrapped to use NAT64 when ``prefix`` is set."""
    return exchanger if prefix is None else Nat64Exchanger(exchanger, prefix)
