"""Unbound's stub-prime (unbound.conf(5): "performs NS set priming [...] it starts using the
list of nameservers currently published by the zone") over the MockTransport seam, and its
translation from a testbound header."""

from __future__ import annotations

import random
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from deckard.candidate import CandidateConfig
from deckard.scenario import parse
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.model import Request
from resolver.recursor import ConfiguredZone, Recursor, RecursorConfig
from tests.unit.test_recursor import ROOT, N, T, reply
from tests.unit.test_testbound import scenario_text

STUB = "192.0.2.1"  # the configured stub address
PUBLISHED = "192.0.2.2"  # the server the zone's own NS set names


def world(prime_answer: str) -> MockTransport:
    def handler(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        q = query.question[0]
        if q.name == N("ex.") and q.rdtype == T.NS:
            if prime_answer == "refused":
                return reply(query, rcode=dns.rcode.REFUSED)
            return reply(query, answer=("ex. 3600 NS ns2.ex.",),
                         additional=(f"ns2.ex. 3600 A {PUBLISHED}",))
        if address == STUB:
            return reply(query, answer=(f"{q.name} 60 A 198.51.100.66",))
        if address == PUBLISHED:
            return reply(query, answer=(f"{q.name} 60 A 198.51.100.55",))
        raise AssertionError(f"{address} asked {q.name}")
    return MockTransport(handler)


async def ask(prime: bool, prime_answer: str = "ok") -> tuple[set[str], MockTransport]:
    transport = world(prime_answer)
    clock = ManualClock()
    cache = DnsCache(4 * 1024 * 1024)
    zone = ConfiguredZone(N("ex."), False, (STUB,), prime=prime)
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, zones=(zone,)))
    conductor = Conductor(transport, cache.infra, clock, random.Random(1))
    found: set[str] = set()
    for name in ("www.ex.", "mail.ex."):
        res = await recursor.resolve(Request(N(name), T.A), conductor)
        found |= {rd.address for r in res.answer for rd in r}
    return found, transport


async def test_a_primed_stub_zone_is_served_by_its_published_servers() -> None:
    found, transport = await ask(prime=True)
    assert found == {"198.51.100.55"}
    assert transport.questions() == [(STUB, "ex.", "NS"), (PUBLISHED, "www.ex.", "A"),
                                     (PUBLISHED, "mail.ex.", "A")]  # primed once


@pytest.mark.parametrize("prime, answer", [(False, "ok"), (True, "refused")])
async def test_without_priming_or_when_it_fails_the_stub_serves(prime: bool,
                                                                answer: str) -> None:
    found, transport = await ask(prime, answer)
    assert found == {"198.51.100.66"}
    assert {a for a, _, _ in transport.questions()} == {STUB}


def test_stub_prime_is_translated() -> None:
    text = scenario_text().replace('stub-zone:\n\tname: "."',
                                   'stub-zone:\n\tname: "ex."\n\tstub-addr: 192.0.2.1\n'
                                   '\tstub-prime: yes\nstub-zone:\n\tname: "."')
    c = parse(Path("x.rpl"), text).config
    assert c.unsupported == ()
    assert [(z.name, z.prime) for z in c.zones] == [(N("ex."), True)]
    assert CandidateConfig.from_scenario(c, False).root_stub is True  # the root: not primed
    root = parse(Path("x.rpl"), scenario_text().replace(
        "K.ROOT-SERVERS.NET.\n", "K.ROOT-SERVERS.NET.\n\tstub-prime: yes\n", 1)).config
    assert root.unsupported == () and root.root_stub_prime is True
    assert CandidateConfig.from_scenario(root, False).root_stub is False
