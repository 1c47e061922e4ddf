"""RFC 8109 priming over a MockTransport: the hints are asked for ". NS" once, and the answer's
NS set and addresses, not the hints, are what the recursor then iterates from; a failed
priming keeps the hints and is tried again later; an expired NS set is primed again."""

from __future__ import annotations

import asyncio
import random

import dns.message
import dns.rcode
import pytest

from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.model import Request
from resolver.recursor import Recursor, RecursorConfig
from resolver.recursor.config import PRIME_RETRY
from tests.unit.test_recursor import N, T, reply

HINT = "127.9.0.1"  # what the hints file says
PRIMED = "127.9.0.7"  # what the root's own NS set says
PRIMED6 = "::1"
TLD = "127.9.1.1"
NS_TTL = 300


class World:
    """A root reachable at both addresses; the hint also answers the priming query (or not)."""

    def __init__(self, prime_answer: str = "ok") -> None:
        self.prime_answer = prime_answer

    def __call__(self, query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        if q.name == N(".") and q.rdtype == T.NS:
            if self.prime_answer == "refused":
                return reply(query, rcode=dns.rcode.REFUSED)
            if self.prime_answer == "timeout":
                return None
            if self.prime_answer == "no glue":
                return reply(query, answer=(f". {NS_TTL} NS x.primed.",))
            return reply(query, answer=(f". {NS_TTL} NS x.primed.",),
                         additional=(f"x.primed. {NS_TTL} A {PRIMED}",
                                     f"x.primed. {NS_TTL} AAAA {PRIMED6}",
                                     "not.asked. 300 A 127.9.9.9"))
        if address in (HINT, PRIMED):  # a referral to the name's TLD, served by TLD
            tld = q.name.split(2)[1].to_text()
            return reply(query, aa=False, authority=(f"{tld} 3600 NS ns.{tld}",),
                         additional=(f"ns.{tld} 3600 A {TLD}",))
        if address == TLD:
            return reply(query, answer=(f"{q.name} 60 A 127.100.0.1",))
        return None


def make(world: World, prime: bool = True, do_ip6: bool = False
         ) -> tuple[Recursor, Conductor, MockTransport, ManualClock]:
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: world(q, addr))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    recursor = Recursor(cache, (("a.root.", HINT),), clock,
                        RecursorConfig(qname_minimisation=False, prime=prime, do_ip6=do_ip6))
    return recursor, conductor, transport, clock


async def ask(recursor: Recursor, conductor: Conductor, name: str) -> int:
    res = await recursor.resolve(Request(N(name), T.A), conductor)
    return res.rcode


def primes(transport: MockTransport) -> list[str]:
    return [s.address for s in transport.sent if s.qname == N(".") and s.qtype == T.NS]


async def test_primed_ns_set_replaces_the_hints() -> None:
    recursor, conductor, transport, _ = make(World())
    assert await ask(recursor, conductor, "www.ex.") == dns.rcode.NOERROR
    assert transport.questions()[:3] == [(HINT, ".", "NS"), (PRIMED, "www.ex.", "A"),
                                         (TLD, "www.ex.", "A")]
    assert recursor.primings == 1
    # out-of-set additional data is not taken
    assert recursor.cache.rrsets.get(N("not.asked."), T.A, 0.0) is None
    assert await ask(recursor, conductor, "other.ex.") == dns.rcode.NOERROR  # from cache: ex.
    assert primes(transport) == [HINT]


async def test_primed_ipv6_addresses_are_used_with_do_ip6() -> None:
    world = World()
    recursor, conductor, transport, _ = make(world, do_ip6=True)
    assert await ask(recursor, conductor, "www.ex.") == dns.rcode.NOERROR
    assert transport.sent[1].address in (PRIMED, PRIMED6)
    assert recursor.cache.rrsets.get(N("x.primed."), T.AAAA, 1000.0) is not None


async def test_without_priming_the_hint_is_asked() -> None:
    recursor, conductor, transport, _ = make(World(), prime=False)
    assert await ask(recursor, conductor, "www.ex.") == dns.rcode.NOERROR
    assert transport.questions()[0] == (HINT, "www.ex.", "A") and not primes(transport)


@pytest.mark.parametrize("failure", ["refused", "timeout", "no glue"])
async def test_failed_priming_keeps_the_hints_and_retries_later(failure: str) -> None:
    world = World(failure)
    recursor, conductor, transport, clock = make(world)
    assert await ask(recursor, conductor, "www.ex.") == dns.rcode.NOERROR
    first = len(primes(transport))  # one exchange (the conductor retries a timeout)
    assert first >= 1 and set(primes(transport)) == {HINT} and recursor.primings == 0
    assert (HINT, "www.ex.", "A") in transport.questions()  # the hint, still in charge
    clock.advance(PRIME_RETRY / 2)
    assert await ask(recursor, conductor, "a.zz.") == dns.rcode.NOERROR  # needs the root
    assert len(primes(transport)) == first  # not due again yet
    clock.advance(PRIME_RETRY / 2)
    world.prime_answer = "ok"
    assert await ask(recursor, conductor, "b.yy.") == dns.rcode.NOERROR
    assert len(primes(transport)) == first + 1 and recursor.primings == 1
    assert transport.questions()[-2][0] == PRIMED  # b.yy. went to the primed root


async def test_expired_root_ns_is_primed_again() -> None:
    recursor, conductor, transport, clock = make(World())
    assert await ask(recursor, conductor, "www.ex.") == dns.rcode.NOERROR
    clock.advance(3700)  # past the primed NS TTL (300 s) and the ex. delegation (3600 s)
    assert await ask(recursor, conductor, "new.ex.") == dns.rcode.NOERROR
    assert primes(transport) == [HINT, HINT] and recursor.primings == 2


async def test_concurrent_resolutions_share_one_priming() -> None:
    recursor, conductor, transport, _ = make(World())
    codes = await asyncio.gather(*(ask(recursor, conductor, f"n{i}.ex.") for i in range(8)))
    assert codes == [dns.rcode.NOERROR] * 8
    assert primes(transport) == [HINT]
