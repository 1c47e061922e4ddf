"""Serve-stale (RFC 8767) as Unbound's serve-expired family (unbound.conf(5)): the caches
keep expired data servable for a window, and the recursor answers with it when a fresh
resolution fails or is slow, over the MockTransport seam."""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from configfiles import ConfigError
from lab.world import WorldDef
from lab.zones import build_zones
from resolver import cli as resolver_cli
from resolver.app import Assembly, assemble, build
from resolver.cache import ARC, DnsCache, NegativeCache, Rank, RRsetCache, Security
from resolver.cache.reply import UNSTORED_KEY, FastCache
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig
from resolver.model import Request
from resolver.recursor import Recursor, RecursorConfig
from resolver.recursor.config import Resolution
from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult
from tests.unit.test_recursor import ROOT, TLD, reply
from tests.unit.test_validator_restarts import START, Lab, Zones, _spoil, world
from tests.unit.test_workers import FakeAnswerer, query, workers
from tests.unit.test_workers import ask as ask_workers

T = dns.rdatatype
N = dns.name.from_text
SOA = "ex. 10 SOA ns.ex. host.ex. 1 7200 3600 1209600 10"


def rrset(text: str) -> dns.rrset.RRset:
    owner, ttl, rdtype, *rdata = text.split(maxsplit=3)
    return dns.rrset.from_text(owner, int(ttl), "IN", rdtype, *rdata)


# -- the caches ---------------------------------------------------------------------------------


def test_an_expired_rrset_is_served_only_inside_the_stale_window() -> None:
    cache = RRsetCache(1 << 20)
    cache.put(rrset("www.ex. 10 A 192.0.2.1"), Rank.ANSWER_AUTH, now=100.0)
    assert cache.get(N("www.ex."), T.A, 115.0) is None  # expired: not without a window
    hit = cache.get(N("www.ex."), T.A, 115.0, stale=20)
    assert hit is not None and hit.stale and hit.rrset.ttl == 0
    assert cache.get(N("www.ex."), T.A, 131.0, stale=20) is None  # 21 s past expiry
    assert cache.get(N("www.ex."), T.A, 1e9, stale=math.inf) is not None  # no limit
    fresh = cache.get(N("www.ex."), T.A, 105.0, stale=20)
    assert fresh is not None and not fresh.stale and fresh.rrset.ttl == 5


def test_expired_bogus_data_is_never_served() -> None:
    cache = RRsetCache(1 << 20)
    cache.put(rrset("www.ex. 10 A 192.0.2.1"), Rank.VALIDATED, 100.0, security=Security.BOGUS)
    assert cache.get(N("www.ex."), T.A, 105.0) is not None  # (unexpired: the validator's)
    assert cache.get(N("www.ex."), T.A, 115.0, stale=math.inf) is None
    neg = NegativeCache(1 << 20)
    neg.put_nxdomain(N("nx.ex."), rrset(SOA), 100.0, security=Security.BOGUS)
    assert neg.get(N("nx.ex."), T.A, 115.0, stale=math.inf) is None


def test_a_reset_window_and_an_early_expiry() -> None:
    cache = RRsetCache(1 << 20)
    cache.put(rrset("www.ex. 10 A 192.0.2.1"), Rank.ANSWER_AUTH, now=100.0)
    assert not cache.reset_stale(N("www.ex."), T.A, 105.0, 200.0)  # not expired yet
    assert cache.reset_stale(N("www.ex."), T.A, 125.0, 145.0)  # serve-expired-ttl-reset
    assert cache.get(N("www.ex."), T.A, 140.0, stale=20) is not None  # 30 s past expiry
    assert cache.get(N("www.ex."), T.A, 146.0, stale=20) is None
    cache.put(rrset("two.ex. 300 A 192.0.2.2"), Rank.ANSWER_AUTH, now=100.0)
    assert cache.expire(N("two.ex."), T.A, 110.0)  # testbound's EXPIRE_MESSAGE
    assert cache.get(N("two.ex."), T.A, 110.0) is None
    hit = cache.get(N("two.ex."), T.A, 110.0, stale=5)
    assert hit is not None and hit.stale


def test_an_expired_denial_is_served_inside_the_window() -> None:
    neg = NegativeCache(1 << 20)
    neg.put_nxdomain(N("nx.ex."), rrset(SOA), 100.0)
    assert neg.get(N("nx.ex."), T.A, 115.0) is None
    hit = neg.get(N("below.nx.ex."), T.A, 115.0, stale=20)  # (the RFC 8020 cut too)
    assert hit is not None and hit.stale and hit.soa is not None and hit.soa.ttl == 0
    assert neg.get(N("nx.ex."), T.A, 131.0, stale=20) is None
    assert neg.reset_stale(N("nx.ex."), T.A, 125.0, 160.0)
    assert neg.get(N("nx.ex."), T.A, 150.0, stale=20) is not None
    neg.put_nodata(N("www.ex."), T.MX, rrset(SOA), 100.0)
    assert neg.expire(N("www.ex."), T.MX, 101.0)
    assert neg.get(N("www.ex."), T.MX, 101.0) is None
    assert neg.get(N("www.ex."), T.MX, 101.0, stale=1) is not None


def test_arc_replace_keeps_the_entry_where_it_is() -> None:
    arc: ARC[str, int] = ARC(100)
    arc.put("a", 1, 10)
    arc.get("a")  # now in T2
    assert arc.replace("a", 2) and arc.peek("a") == 2 and arc.size_bytes == 10
    assert not arc.replace("b", 3) and "b" not in arc


# -- the recursor ---------------------------------------------------------------------------------


class World:
    """The root delegates ex. to TLD, whose server answers www.ex. A (TTL 10, the address
    ``address``), nx.ex. NXDOMAIN, and SERVFAIL to everything while ``failing``."""

    def __init__(self) -> None:
        self.failing = False
        self.address = "192.0.2.1"
        self.nx_exists = False  # then nx.ex. A 192.0.2.7, TTL 0

    def __call__(self, query: dns.message.Message, server: str) -> dns.message.Message:
        if server == ROOT:
            return reply(query, aa=False, authority=("ex. 86400 NS ns.ex.",),
                         additional=(f"ns.ex. 86400 A {TLD}",))
        if self.failing:
            return reply(query, rcode=dns.rcode.SERVFAIL)
        name = query.question[0].name.to_text().lower()
        if name == "www.ex.":
            return reply(query, answer=(f"www.ex. 10 A {self.address}",))
        if name == "nx.ex." and self.nx_exists:
            return reply(query, answer=("nx.ex. 0 A 192.0.2.7",))
        return reply(query, rcode=dns.rcode.NXDOMAIN, authority=(SOA,))


def assembly(world: World, **config: object) -> tuple[Assembly, ManualClock]:
    clock = ManualClock(start=1000.0)
    transport = MockTransport(lambda addr, q, tcp: world(q, addr))
    recursor_config = RecursorConfig(qname_minimisation=False, **config)  # type: ignore[arg-type]
    parts = assemble(transport, clock, cache=DnsCache(1 << 22), root_hints=(("a.root.", ROOT),),
                     recursor_config=recursor_config, rng=random.Random(7))
    return parts, clock


def make(world: World, **config: object) -> tuple[Recursor, Exchanger, ManualClock]:
    parts, clock = assembly(world, **config)
    return parts.recursor, parts.conductor, clock


async def ask(recursor: Recursor, exchanger: Exchanger, name: str = "www.ex.",
              qtype: str = "A") -> Resolution:
    return await recursor.resolve(Request(N(name), T.from_text(qtype)), exchanger)


def answer(res: Resolution) -> list[tuple[str, int]]:
    return [(rd.to_text(), r.ttl) for r in res.answer for rd in r]


async def test_without_serve_expired_a_failed_refresh_is_servfail() -> None:
    world = World()
    recursor, exchanger, clock = make(world)
    assert answer(await ask(recursor, exchanger)) == [("192.0.2.1", 10)]
    world.failing = True
    clock.advance(20)
    assert (await ask(recursor, exchanger)).rcode == dns.rcode.SERVFAIL


async def test_a_failed_refresh_serves_the_expired_answer_with_the_reply_ttl() -> None:
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True, serve_expired_reply_ttl=7)
    await ask(recursor, exchanger)
    await ask(recursor, exchanger, "nx.ex.")
    world.failing = True
    clock.advance(20)
    res = await ask(recursor, exchanger)
    assert res.rcode == dns.rcode.NOERROR and res.stale
    assert answer(res) == [("192.0.2.1", 7)]
    assert res.upstream_queries > 0  # the refresh was tried first (client timeout 1800 ms)
    nx = await ask(recursor, exchanger, "nx.ex.")
    assert nx.rcode == dns.rcode.NXDOMAIN and nx.stale and [r.ttl for r in nx.authority] == [7]


async def moved(**config: object) -> tuple[World, Recursor, Exchanger, ManualClock]:
    """www.ex. cached (192.0.2.1, TTL 10), expired 10 s ago, and now 192.0.2.9 upstream."""
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True, **config)
    await ask(recursor, exchanger)
    clock.advance(20)
    world.address = "192.0.2.9"
    return world, recursor, exchanger, clock


async def test_a_working_upstream_answers_fresh_and_replaces_the_expired_data() -> None:
    world, recursor, exchanger, clock = await moved()
    res = await ask(recursor, exchanger)
    assert not res.stale and answer(res) == [("192.0.2.9", 10)]
    world.failing = True
    clock.advance(20)
    assert answer(await ask(recursor, exchanger)) == [("192.0.2.9", 30)]


@pytest.mark.parametrize("timeout_ms", [0, 1800])
async def test_a_refresh_supersedes_the_expired_data_even_when_it_is_not_cached(
        timeout_ms: int) -> None:
    """NLnetLabs/unbound#860: an expired NXDOMAIN must not be served for ever once the name
    has a record of TTL 0 (which is not cached)."""
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True,
                                      serve_expired_client_timeout=timeout_ms)
    assert (await ask(recursor, exchanger, "nx.ex.")).rcode == dns.rcode.NXDOMAIN
    clock.advance(20)
    world.nx_exists = True
    first = await ask(recursor, exchanger, "nx.ex.")
    await recursor.settle()
    second = await ask(recursor, exchanger, "nx.ex.")
    assert answer(second) == [("192.0.2.7", 0)] and not second.stale
    assert first.stale is (timeout_ms == 0)


async def test_the_window_and_its_reset() -> None:
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True, serve_expired_ttl=20)
    await ask(recursor, exchanger)
    world.failing = True
    clock.advance(25)  # 15 s past expiry
    assert (await ask(recursor, exchanger)).stale
    clock.advance(10)  # 25 s past expiry
    assert (await ask(recursor, exchanger)).rcode == dns.rcode.SERVFAIL
    world.failing = False
    recursor, exchanger, clock = make(world, serve_expired=True, serve_expired_ttl=20,
                                      serve_expired_ttl_reset=True)
    await ask(recursor, exchanger)
    world.failing = True
    clock.advance(25)
    assert (await ask(recursor, exchanger)).stale  # failed: the window starts again
    clock.advance(10)
    assert (await ask(recursor, exchanger)).stale


async def test_a_failed_refresh_is_not_tried_again_for_five_seconds() -> None:
    """Unbound 1.22.1 (#1174): after a failed refresh the expired entry is used for a while
    without asking again (RFC 8767 §5's failure recheck timer)."""
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True)
    await ask(recursor, exchanger)
    world.failing = True
    clock.advance(20)
    assert (await ask(recursor, exchanger)).upstream_queries > 0
    clock.advance(4)
    again = await ask(recursor, exchanger)
    assert again.stale and again.upstream_queries == 0
    clock.advance(1)
    assert (await ask(recursor, exchanger)).upstream_queries > 0


async def test_the_cache_alone_answers_expired_data_when_it_would_at_once() -> None:
    """Recursor.cached (queries without RD, allow_snoop): expired data with client timeout
    0, or while a failed refresh backs off (Unbound's answer_from_cache); not otherwise."""
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True)
    await ask(recursor, exchanger)
    clock.advance(20)
    request = Request(N("www.ex."), T.A, rd=False)
    assert recursor.cached(request) is None  # client timeout 1800: the refresh comes first
    world.failing = True
    await ask(recursor, exchanger)  # fails: backing off
    res = recursor.cached(request)
    assert res is not None and res.stale and answer(res) == [("192.0.2.1", 30)]
    recursor.config = RecursorConfig(qname_minimisation=False, serve_expired=True,
                                     serve_expired_client_timeout=0)
    clock.advance(10)
    assert recursor.cached(request) is not None


async def test_keys_are_never_served_expired() -> None:
    world = World()
    recursor, exchanger, clock = make(world, serve_expired=True)
    recursor.cache.rrsets.put(rrset("ex. 10 DNSKEY 257 3 8 AwEAAQ=="), Rank.ANSWER_AUTH,
                              clock.monotonic())
    world.failing = True
    clock.advance(20)
    assert (await ask(recursor, exchanger, "ex.", "DNSKEY")).rcode == dns.rcode.SERVFAIL


class Slow:
    """An exchanger that answers after ``delay`` real seconds."""

    def __init__(self, inner: Exchanger, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        await asyncio.sleep(self.delay)
        return await self.inner.exchange(query)


@pytest.mark.parametrize(("timeout_ms", "delay"), [(0, 0.0), (20, 0.05)])
async def test_expired_data_at_once_or_at_the_client_timeout_refreshed_behind(
        timeout_ms: int, delay: float) -> None:
    """Client timeout 0: the expired answer at once (Unbound before 1.23); otherwise when
    the resolution takes longer than the timeout (RFC 8767 §5).  Either way the resolution
    goes on behind the answer and its result is cached for the next client."""
    _, recursor, exchanger, _ = await moved(serve_expired_client_timeout=timeout_ms)
    res = await ask(recursor, Slow(exchanger, delay))
    assert res.stale and answer(res) == [("192.0.2.1", 30)]
    await recursor.settle()
    res = await ask(recursor, exchanger)
    assert answer(res) == [("192.0.2.9", 10)] and res.upstream_queries == 0


async def test_a_refresh_outlives_a_client_that_gave_up() -> None:
    _, recursor, exchanger, _ = await moved()
    with pytest.raises(TimeoutError):  # the server's deadline, before the client timeout
        await asyncio.wait_for(ask(recursor, Slow(exchanger, 0.05)), 0.01)
    await recursor.settle()
    res = await ask(recursor, exchanger)
    assert answer(res) == [("192.0.2.9", 10)] and res.upstream_queries == 0


async def test_the_answerer_adds_ede_3_to_expired_answers_when_asked() -> None:
    world = World()
    parts, clock = assembly(world, serve_expired=True, serve_expired_ede=True)
    query = dns.message.make_query("www.ex.", "A", use_edns=0)
    request = Request(N("www.ex."), T.A)
    fresh = await parts.answerer.answer(request, query)
    assert not any(o.otype == dns.edns.OptionType.EDE for o in fresh.options)
    assert UNSTORED_KEY not in request.extra  # a fresh answer may go to the reply cache
    world.failing = True
    clock.advance(20)
    request = Request(N("www.ex."), T.A)
    stale = await parts.answerer.answer(request, query)
    assert [o.code for o in stale.options if isinstance(o, dns.edns.EDEOption)] == [
        dns.edns.EDECode.STALE_ANSWER]
    assert request.extra[UNSTORED_KEY]  # an expired one not: the next client gets fresh
    world.failing = False
    query = dns.message.make_query("nx.ex.", "A", use_edns=0)
    await parts.answerer.answer(Request(N("nx.ex."), T.A), query)
    world.failing = True
    clock.advance(20)
    nx = await parts.answerer.answer(Request(N("nx.ex."), T.A), query)
    assert nx.rcode() == dns.rcode.NXDOMAIN  # RFC 8914 §4.20 for a stale NXDOMAIN
    assert [o.code for o in nx.options if isinstance(o, dns.edns.EDEOption)] == [
        dns.edns.EDECode.STALE_NXDOMAIN_ANSWER]


@pytest.mark.parametrize("field", ["serve_expired_ttl", "serve_expired_reply_ttl",
                                   "serve_expired_client_timeout"])
def test_bad_values_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field.replace('_', '-')}: -1 is not a whole"):
        RecursorConfig(**{field: -1})  # type: ignore[arg-type]


# -- the operator's settings ---------------------------------------------------------------------


def serve_config(*argv: str) -> ResolverConfig:
    parser = argparse.ArgumentParser()
    resolver_cli.register(parser.add_subparsers(dest="command"))
    return resolver_cli.config_from(parser.parse_args(["resolver", "serve", "--no-validation",
                                                       *argv]))


def test_resolver_serve_flags_reach_the_recursor() -> None:
    assert not serve_config().serve_expired  # off unless asked
    config = serve_config("--serve-expired", "--serve-expired-ttl", "0",
                          "--serve-expired-reply-ttl", "5", "--serve-expired-client-timeout",
                          "0", "--serve-expired-ttl-reset", "--ede-serve-expired",
                          "--serve-original-ttl")
    answerer = build(config, ManualClock(), MockTransport(lambda addr, q, tcp: None))
    recursor = answerer.recursor
    assert isinstance(recursor, Recursor) and answerer.stale_ede
    assert recursor.config.serve_original_ttl and not answerer.store_replies
    assert (recursor.config.serve_expired, recursor.config.serve_expired_ttl,
            recursor.config.serve_expired_reply_ttl, recursor.config.serve_expired_client_timeout,
            recursor.config.serve_expired_ttl_reset) == (True, 0, 5, 0, True)


@pytest.mark.parametrize("flag", ["--serve-expired-ttl", "--serve-expired-reply-ttl",
                                  "--serve-expired-client-timeout"])
def test_resolver_serve_refuses_negative_values_in_one_line(flag: str) -> None:
    with pytest.raises(ConfigError, match=f"^{flag}: expected a whole number >= 0, got -1$"):
        serve_config(flag, "-1")


# -- with validation -----------------------------------------------------------------------------


class SignedLab(Lab):
    """The signed lab world of test_validator_restarts, serve-expired on; ``spoil``: every
    response about www.example.lab. A has its signature broken (bogus)."""

    def __init__(self, w: WorldDef, zones: Zones, timeout_ms: int = 1800) -> None:
        self.spoil = False

        def tamper(address: str, response: dns.message.Message) -> None:
            if self.spoil and response.question[0].name == N("www.example.lab."):
                _spoil(response.answer, "www.example.lab.", T.A)

        super().__init__(w, zones, tamper)
        self.validator.inner.config = RecursorConfig(
            qname_minimisation=False, serve_expired=True,
            serve_expired_client_timeout=timeout_ms)


@pytest.fixture(scope="module")
def signed_world() -> tuple[WorldDef, Zones]:
    w = world()
    return w, build_zones(w, now=START)


@pytest.mark.parametrize("timeout_ms", [0, 1800])
async def test_a_bogus_refresh_leaves_the_valid_expired_answer_to_serve(
    signed_world: tuple[WorldDef, Zones], timeout_ms: int,
) -> None:
    """Unbound keeps still usable expired records over bogus replies and answers with them
    (NLnetLabs/unbound#1143), whether the refresh ran first (client timeout) or behind an
    expired answer (0); expired data is never itself bogus."""
    lab = SignedLab(*signed_world, timeout_ms)
    first = await lab.ask("www.example.lab.")
    assert first.rcode() == dns.rcode.NOERROR and first.flags & dns.flags.AD
    lab.spoil = True
    lab.clock.advance(400)  # www 300 A has expired
    stale = await lab.ask("www.example.lab.")
    assert stale.rcode() == dns.rcode.NOERROR
    assert [(r.rdtype, r.ttl) for r in stale.answer if r.rdtype == T.A] == [(T.A, 30)]
    await lab.validator.inner.settle()
    lab.clock.advance(10)  # past the back-off: asked again, bogus again, expired again
    sent = len(lab.transport.sent)
    again = await lab.ask("www.example.lab.")
    await lab.validator.inner.settle()
    assert again.rcode() == dns.rcode.NOERROR and len(lab.transport.sent) > sent


async def test_the_server_keeps_no_expired_answer_in_its_reply_cache() -> None:
    """An answer from expired data is not stored as bytes: the next client's question
    reaches the resolver, which may have refreshed it meanwhile."""

    class Expired(FakeAnswerer):
        async def answer(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message:
            request.extra[UNSTORED_KEY] = True
            return await super().answer(request, query)

    for answerer, stored in ((FakeAnswerer(), True), (Expired(), False)):
        fast = FastCache(1 << 20)
        wire = query().to_wire()
        await ask_workers(workers(answerer, fastcache=fast), wire)
        assert (fast.lookup(wire, time.monotonic()) is not None) is stored


# -- serve-original-ttl ---------------------------------------------------------------------------


async def test_serve_original_ttl_answers_with_the_ttl_the_data_came_with() -> None:
    """unbound.conf(5) serve-original-ttl: the TTL as received, not the decrementing one;
    cache expiry unchanged; cache-min-ttl and cache-max-ttl not enforced."""
    world = World()
    parts, clock = assembly(world, serve_original_ttl=True, cache_max_ttl=5)
    recursor, exchanger = parts.recursor, parts.conductor
    assert answer(await ask(recursor, exchanger)) == [("192.0.2.1", 10)]  # not capped at 5
    nx = await ask(recursor, exchanger, "nx.ex.")
    clock.advance(7)
    cached = await ask(recursor, exchanger)
    assert answer(cached) == [("192.0.2.1", 10)] and cached.upstream_queries == 0
    nx = await ask(recursor, exchanger, "nx.ex.")
    assert nx.upstream_queries == 0 and [r.ttl for r in nx.authority] == [10]
    clock.advance(4)  # expired after its own 10 s
    assert (await ask(recursor, exchanger)).upstream_queries > 0
    request = Request(N("www.ex."), T.A)
    await parts.answerer.answer(request, dns.message.make_query("www.ex.", "A"))
    assert request.extra[UNSTORED_KEY]  # the reply cache would lower the TTLs
