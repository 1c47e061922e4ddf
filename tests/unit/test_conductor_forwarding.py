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


async def test_edns_buffer_size_is_advertised_upstream() -> None:
    """unbound.conf(5) edns-buffer-size: "Number of bytes size to advertise as the EDNS
    reassembly buffer size.  This is the value put into datagrams over UDP towards
    peers" (1232 by default, DNS Flag Day 2020)."""
    import dns.message
    import dns.name

    from resolver.cache import DnsCache
    from resolver.clock import ManualClock
    from resolver.conductor import Conductor, MockTransport
    from resolver.recursor.exchanger import UpstreamQuery

    seen: list[int] = []

    def handler(addr: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        seen.append(query.payload)
        return dns.message.make_response(query)

    for size in (1232, 4096):
        cache = DnsCache(1 << 20)
        conductor = Conductor(MockTransport(handler), cache.infra, ManualClock(),
                              random.Random(1), edns_payload=size)
        await conductor.exchange(UpstreamQuery(dns.name.from_text("a.example."), 1,
                                               dns.name.from_text("example."), ("192.0.2.1",)))
    assert seen == [1232, 4096]


def test_edns_buffer_size_flag_and_header() -> None:
    from pathlib import Path

    from deckard.text import ScenarioError
    from deckard.unboundconf import parse_unbound_conf
    from resolver.config import ConfigError
    from tests.unit.test_root_data import config

    assert config().edns_buffer_size == 1232
    assert config("--edns-buffer-size", "4096").edns_buffer_size == 4096
    with pytest.raises(ConfigError, match="--edns-buffer-size"):
        config("--edns-buffer-size", "100")

    def header(value: str) -> list[tuple[int, str]]:
        text = f"server:\n\tedns-buffer-size: {value}\nstub-zone:\n\tname: \".\"\n" \
               "\tstub-addr: 192.0.2.1\n"
        return list(enumerate(text.splitlines(), 1))

    assert parse_unbound_conf(Path("x.rpl"), header("1480")).edns_buffer_size == 1480
    with pytest.raises(ScenarioError, match="edns-buffer-size"):
        parse_unbound_conf(Path("x.rpl"), header("lots"))
