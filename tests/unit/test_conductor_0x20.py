"""0x20 (RFC 5452 §9.1): the conductor sends names in a random case and accepts only an
answer whose question has exactly that case; a server that does not echo the case is sent
lower case from then on (remembered in the infra cache), and resolution still succeeds."""

from __future__ import annotations

import random

import dns.flags
import dns.message
import dns.name
import dns.rrset

from resolver.cache import DnsCache
from resolver.cache.infra import CAPS_RECHECK_S
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.conductor.core import random_case
from resolver.recursor.exchanger import Failure, UpstreamQuery
from tests.unit.test_recursor import (
    AUTH,
    AUTH2,
    ROOT,
    TLD,
    N,
    T,
    addresses,
    make,
    resolve,
    small_world,
)

SERVER = "127.9.5.1"


def _answer(query: dns.message.Message) -> dns.message.Message:
    r = dns.message.make_response(query)
    q = query.question[0]
    r.answer.append(dns.rrset.from_text(q.name, 300, "IN", "A", "127.100.0.9"))
    return r


def _lower_casing(query: dns.message.Message) -> dns.message.Message:
    """A server that answers with the question in lower case (does not echo 0x20)."""
    r = _answer(query)
    q = r.question[0]
    r.question[0] = dns.rrset.RRset(q.name.canonicalize(), q.rdclass, q.rdtype)
    return r


def _conductor(handler, seed: int = 5, **kw: bool):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    cache = DnsCache(1 << 20)
    transport = MockTransport(lambda addr, q, tcp: handler(q))
    return Conductor(transport, cache.infra, clock, random.Random(seed), **kw), transport, clock


def _query(name: str) -> UpstreamQuery:
    return UpstreamQuery(N(name), T.A, N("example."), (SERVER,))


def _letters(names: list[dns.name.Name]) -> tuple[int, int]:
    text = "".join(n.to_text() for n in names)
    return sum(c.isupper() for c in text), sum(c.islower() for c in text)


def test_random_case_keeps_the_name_and_varies_the_case() -> None:
    rng = random.Random(1)
    name = N("www.some-domain.example.")
    seen = {random_case(name, rng).to_text() for _ in range(200)}
    assert all(dns.name.from_text(s) == name for s in seen)
    assert len(seen) > 150  # 2^17 patterns: nearly every one differs
    assert random_case(N("123.45."), rng).to_text() == "123.45."


async def test_names_sent_upstream_have_mixed_case_over_many_queries() -> None:
    conductor, transport, _ = _conductor(_answer)
    for i in range(200):
        result = await conductor.exchange(_query(f"host{i}.example."))
        assert result.response is not None
    upper, lower = _letters([s.qname for s in transport.sent])
    assert len(transport.sent) == 200
    # each letter is upper case with probability 1/2
    assert 0.4 < upper / (upper + lower) < 0.6
    # and the response handed back carries the name as asked, not the random pattern
    assert result.response.question[0].name.to_text() == "host199.example."
    assert result.response.answer[0].name.to_text() == "host199.example."


async def test_without_0x20_names_go_in_lower_case() -> None:
    conductor, transport, _ = _conductor(_answer, use_0x20=False)
    for i in range(20):
        await conductor.exchange(_query(f"Host{i}.EXAMPLE."))
    assert _letters([s.qname for s in transport.sent])[0] == 0


async def test_answer_with_the_wrong_case_is_rejected() -> None:
    """A forged answer that guessed ID and port but not the case is never accepted: the
    fallback asks again in lower case (Unbound's), the genuine answer differs from the
    forgery, and the exchange fails ("getting different replies") rather than take it."""
    forged: list[dns.message.Message] = []

    def spoofer(query: dns.message.Message) -> dns.message.Message:
        r = _answer(query)
        q = r.question[0]
        if q.name.to_text() == q.name.to_text().lower():
            return r  # the genuine server's answer to a plain query
        flipped = dns.name.from_text(q.name.to_text().swapcase())
        r.question[0] = dns.rrset.RRset(flipped, q.rdclass, q.rdtype)
        r.answer[0] = dns.rrset.from_text(flipped, 300, "IN", "A", "127.66.66.66")
        forged.append(r)
        return r

    conductor, transport, _ = _conductor(spoofer)
    result = await conductor.exchange(_query("www.example."))
    assert result.response is None
    assert forged and Failure.CAPS_FALLBACK in {f for _, f in result.failures}
    assert conductor.metrics.caps_mismatches[SERVER] >= 1


async def test_lower_casing_server_gets_the_fallback_after_the_first_mismatch() -> None:
    conductor, transport, clock = _conductor(_lower_casing)
    result = await conductor.exchange(_query("www.example."))
    assert result.response is not None  # resolution still succeeds, from the same server
    assert result.server == SERVER
    first, second = transport.sent[0].qname, transport.sent[1].qname
    assert _letters([first])[0] > 0  # the random case went first (seed 5 has upper case)
    assert second.to_text() == "www.example."  # then plain lower case
    assert conductor.metrics.caps_mismatches[SERVER] == 1
    # remembered: later queries to this server go in lower case and succeed at once
    before = len(transport.sent)
    for i in range(10):
        assert (await conductor.exchange(_query(f"n{i}.example."))).response is not None
    later = [s.qname for s in transport.sent[before:]]
    assert len(later) == 10 and _letters(later)[0] == 0
    assert conductor.metrics.caps_mismatches[SERVER] == 1
    # the verdict expires: after CAPS_RECHECK_S the server is tried with 0x20 again
    clock.advance(CAPS_RECHECK_S + 1)
    await conductor.exchange(_query("again.example."))
    assert conductor.metrics.caps_mismatches[SERVER] == 2


async def test_full_resolution_through_a_lower_casing_authority() -> None:
    """The recursor resolves through servers that lower-case their answers, and caches and
    returns the name in the case the client asked."""

    def world(query: dns.message.Message, address: str) -> dns.message.Message | None:
        r = small_world(query, address)
        if r is not None and address in (AUTH, AUTH2, TLD):
            q = r.question[0]
            r.question[0] = dns.rrset.RRset(q.name.canonicalize(), q.rdclass, q.rdtype)
        return r

    recursor, conductor, transport, _ = make(world)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert {a.to_text() for a in {r.name for r in res.answer}} == {"www.zone.ex."}
    assert conductor.infra.caps_ok(ROOT, 0.0)  # the root echoes the case: 0x20 stays on
    assert not conductor.infra.caps_ok(TLD, 0.0)
    again = await resolve(recursor, conductor, "WWW.Zone.EX.")  # from the cache
    assert addresses(again) == {"127.100.0.1"}


async def test_restoring_the_case_keeps_the_records_in_the_order_received() -> None:
    """The restored message is rendered again: without dnspython's default shuffle, so the
    order of records as received (hence of servers tried from them) stays reproducible."""
    order = [f"127.100.0.{i}" for i in range(1, 9)]

    class InOrder:  # a transport whose server does not shuffle either
        async def query(self, address: str, message: dns.message.Message, *, tcp: bool,
                        timeout: float) -> dns.message.Message:
            r = dns.message.make_response(dns.message.from_wire(message.to_wire()))
            r.answer.append(dns.rrset.from_text_list(r.question[0].name, 300, "IN", "A",
                                                     order))
            return dns.message.from_wire(r.to_wire(want_shuffle=False))

    conductor = Conductor(InOrder(), DnsCache(1 << 20).infra, ManualClock(), random.Random(1))
    for i in range(5):
        result = await conductor.exchange(_query(f"n{i}.example."))
        assert result.response is not None
        assert [rd.address for rd in result.response.answer[0]] == order


def test_ids_and_case_bits_come_from_the_system_generator() -> None:
    """RFC 5452 §9.2: IDs and 0x20 bits unpredictable.  A Mersenne Twister gives its state
    away after 624 outputs (an authority an attacker runs sees the IDs); only a conductor
    built with an explicit rng (tests) is reproducible."""
    import random

    from resolver.conductor import Conductor, MockTransport

    c = Conductor(MockTransport({}))
    assert isinstance(c.rng, random.SystemRandom)
    assert isinstance(c.case_rng, random.SystemRandom)
    seeded = Conductor(MockTransport({}), rng=random.Random(7))
    assert not isinstance(seeded.case_rng, random.SystemRandom)


def _two_servers(differ: bool):  # type: ignore[no-untyped-def]
    """Two servers that answer with the question in lower case; with ``differ`` the second
    answers another address (a load balancer's)."""
    second = "127.9.5.2"

    def handler(addr: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        r = _lower_casing(query)
        if differ and addr == second:
            r.answer[0] = dns.rrset.from_text(r.answer[0].name, 300, "IN", "A", "127.100.0.8")
        return r

    clock = ManualClock()
    cache = DnsCache(1 << 20)
    transport = MockTransport(handler)
    conductor = Conductor(transport, cache.infra, clock, random.Random(5))
    query = UpstreamQuery(N("www.example."), T.A, N("example."), (SERVER, second))
    return conductor, transport, query


async def test_the_fallback_takes_an_answer_the_servers_agree_on() -> None:
    """Unbound's 0x20 fallback: asked again without 0x20, three answers per server address
    must agree before the answer is taken."""
    conductor, transport, query = _two_servers(differ=False)
    result = await conductor.exchange(query)
    assert result.response is not None
    assert len(transport.sent) == 3 * 2
    assert _letters([s.qname for s in transport.sent[1:]])[0] == 0  # fallback: lower case


async def test_the_fallback_fails_when_the_servers_disagree() -> None:
    """"Capsforid fallback: getting different replies, failed" (Unbound): no answer."""
    conductor, _, query = _two_servers(differ=True)
    result = await conductor.exchange(query)
    assert result.response is None and result.failure is Failure.CAPS_FALLBACK


async def test_caps_exempt_names_go_in_lower_case() -> None:
    """unbound.conf(5) caps-exempt: names at or below the domain get no 0x20, so servers
    that disagree and do not echo the case still answer."""
    conductor, transport, query = _two_servers(differ=True)
    conductor.caps_exempt = (N("example."),)
    result = await conductor.exchange(query)
    assert result.response is not None and len(transport.sent) == 1
    assert _letters([transport.sent[0].qname])[0] == 0


async def test_a_truncated_answer_goes_to_tcp_before_the_case_is_judged() -> None:
    """Unbound retries a TC answer over TCP inside its serviced query, before the 0x20
    check: a server that does not echo the case over either transport still gives the
    full answer (through the fallback), not a truncated one compared with it."""
    def handler(addr: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        r = _lower_casing(query)
        if not tcp:
            r.flags |= dns.flags.TC
            r.answer.clear()
        return r

    clock = ManualClock()
    cache = DnsCache(1 << 20)
    transport = MockTransport(handler)
    conductor = Conductor(transport, cache.infra, clock, random.Random(5))
    result = await conductor.exchange(_query("www.example."))
    assert result.response is not None and result.response.answer
