"""The conductor's upstream transport choices that forwarding and Unbound's options rely on
(issue 16 part 3, helper fwd): address-family preference (prefer-ip4 / prefer-ip6)."""

from __future__ import annotations

import random

import pytest

from resolver.cache.infra import InfraCache
from resolver.conductor.selection import order_servers

SERVERS = ["192.0.2.1", "2001:db8::1", "192.0.2.2@5353", "2001:db8::2@5353"]


@pytest.mark.parametrize("prefer", [4, 6])
def test_the_preferred_family_is_asked_first(prefer: int) -> None:
    """unbound.conf(5) prefer-ip6: "prefer IPv6 transport for sending DNS queries to
    internet nameservers" (prefer-ip4 likewise): whatever the RTTs and the random pick,
    the live servers of that family come before the others, which stay as a fallback."""
    infra = InfraCache(16)
    for i, server in enumerate(SERVERS):  # the other family looks faster
        infra.rtt_update(server, 0.010 if (":" in server) != (prefer == 6) else 0.300 + i, 0.0)
    for seed in range(200):
        order = order_servers(SERVERS, infra, 0.0, random.Random(seed), prefer)
        families = [6 if ":" in s.partition("@")[0] else 4 for s in order]
        assert families == [prefer, prefer, 10 - prefer, 10 - prefer]


def test_without_a_preference_the_rtt_decides() -> None:
    infra = InfraCache(16)
    infra.rtt_update("192.0.2.1", 0.010, 0.0)
    infra.rtt_update("2001:db8::1", 0.900, 0.0)
    assert order_servers(["2001:db8::1", "192.0.2.1"], infra, 0.0, random.Random(1))[0] \
        == "192.0.2.1"


def test_resolver_serve_prefer_flags() -> None:
    from resolver.app import build
    from tests.unit.test_root_data import config

    assert config().prefer_family is None
    assert config("--prefer-ip6").prefer_family == 6
    c = config("--prefer-ip4")
    assert c.prefer_family == 4
    assert build(c).exchanger.prefer_family == 4  # type: ignore[attr-defined]


def test_resolver_serve_caps_exempt() -> None:
    import dns.name

    from resolver.app import build
    from resolver.config import ConfigError
    from tests.unit.test_root_data import config

    c = config("--caps-exempt", "lb.example", "--caps-exempt", "cdn.example.")
    assert build(c).exchanger.caps_exempt == (  # type: ignore[attr-defined]
        dns.name.from_text("lb.example."), dns.name.from_text("cdn.example."))
    with pytest.raises(ConfigError, match="--caps-exempt"):
        build(config("--caps-exempt", "a..b"))
