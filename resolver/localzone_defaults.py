"""Unbound's default local zones, as a table with each zone's RFC (services/localzone.c
local_zone_enter_defaults, util/as112.c, unbound.conf(5) "local-zone" default zones).  They
are answered by :mod:`resolver.localzone` unless the configuration turns them off."""

from __future__ import annotations

_EMPTY_SOA = "localhost. nobody.invalid. 1 3600 1200 604800 10800"
_LOOPBACK6 = "1." + "0." * 31 + "ip6.arpa."

AS112_ZONES: tuple[tuple[str, str], ...] = (
    *((f"{n}.in-addr.arpa.", "RFC 1918 §3 (10/8)") for n in ("10",)),
    *((f"{n}.172.in-addr.arpa.", "RFC 1918 §3 (172.16/12)") for n in range(16, 32)),
    ("168.192.in-addr.arpa.", "RFC 1918 §3 (192.168/16)"),
    ("0.in-addr.arpa.", "RFC 6303 §4.1 (0/8, this network)"),
    *((f"{n}.100.in-addr.arpa.", "RFC 6598 / RFC 7793 (100.64/10, shared address space)")
      for n in range(64, 128)),
    ("254.169.in-addr.arpa.", "RFC 6303 §4.3 (169.254/16, link local)"),
    ("2.0.192.in-addr.arpa.", "RFC 6303 §4.4 (192.0.2/24, TEST-NET-1)"),
    ("100.51.198.in-addr.arpa.", "RFC 6303 §4.4 (198.51.100/24, TEST-NET-2)"),
    ("113.0.203.in-addr.arpa.", "RFC 6303 §4.4 (203.0.113/24, TEST-NET-3)"),
    ("255.255.255.255.in-addr.arpa.", "RFC 6303 §4.5 (broadcast)"),
    ("0." * 32 + "ip6.arpa.", "RFC 6303 §4.7 (::, unspecified)"),
    ("d.f.ip6.arpa.", "RFC 6303 §4.8, RFC 4193 (fd00::/8, unique local)"),
    ("8.e.f.ip6.arpa.", "RFC 6303 §4.9 (fe80::/10, link local)"),
    ("9.e.f.ip6.arpa.", "RFC 6303 §4.9 (fe80::/10, link local)"),
    ("a.e.f.ip6.arpa.", "RFC 6303 §4.9 (fe80::/10, link local)"),
    ("b.e.f.ip6.arpa.", "RFC 6303 §4.9 (fe80::/10, link local)"),
    ("8.b.d.0.1.0.0.2.ip6.arpa.", "RFC 6303 §4.10, RFC 3849 (2001:db8::/32, documentation)"),
    ("home.arpa.", "RFC 8375 (residential networks)"),
    ("resolver.arpa.", "RFC 9462 (DDR, answered by the resolver itself)"),
    ("service.arpa.", "RFC 9665 (SRP, locally served)"),
)
"""Unbound's AS112 / locally served zones (util/as112.c and unbound.conf(5)): each a static
zone with ``NS localhost.`` and ``SOA localhost. nobody.invalid. 1 3600 1200 604800 10800``,
left out with ``unblock-lan-zones: yes``."""


def _empty_zone(name: str) -> tuple[str, ...]:
    return (f"{name} 10800 IN NS localhost.", f"{name} 10800 IN SOA {_EMPTY_SOA}")


DEFAULT_ZONES: tuple[tuple[str, str, str, tuple[str, ...], bool], ...] = (
    ("localhost.", "redirect", "RFC 6761 §6.3 (every name below answers the loopback)",
     ("localhost. 10800 IN NS localhost.", f"localhost. 10800 IN SOA {_EMPTY_SOA}",
      "localhost. 10800 IN A 127.0.0.1", "localhost. 10800 IN AAAA ::1"), False),
    ("127.in-addr.arpa.", "static", "RFC 6761 §6.3, RFC 6303 §4.2 (127/8 reverse)",
     (*_empty_zone("127.in-addr.arpa."), "1.0.0.127.in-addr.arpa. 10800 IN PTR localhost."),
     False),
    (_LOOPBACK6, "static", "RFC 6303 §4.6 (::1 reverse)",
     (*_empty_zone(_LOOPBACK6), f"{_LOOPBACK6} 10800 IN PTR localhost."), False),
    ("onion.", "static", "RFC 7686 §2 (Tor names are not resolved in the DNS)",
     _empty_zone("onion."), False),
    ("test.", "static", "RFC 6761 §6.2", _empty_zone("test."), False),
    ("invalid.", "static", "RFC 6761 §6.4", _empty_zone("invalid."), False),
    *((name, "static", rfc, _empty_zone(name), True) for name, rfc in AS112_ZONES),
)
"""Unbound's default local zones, in its order (services/localzone.c
local_zone_enter_defaults): (zone, type, RFC, records, a LAN zone left out by
``unblock_lan``)."""
