"""The recursor and conductor over MockTransport: answers and the upstream traffic they cost.

Two kinds of fake internet: small hand-made ones, for exact branch checks (glue scrubbing,
spoofed answers, lame servers), and the whole lab world answered in-process through
``LabServer.answer`` (no sockets), for every name of the manifest.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from lab.authserver import LabServer
from lab.manifest import manifest
from lab.run import root_servers
from lab.world import load_world
from lab.zones import build_zones
from resolver.app import assemble
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.model import Request
from resolver.recursor import MAX_UPSTREAM_QUERIES, Recursor, RecursorConfig, Resolution

T = dns.rdatatype
N = dns.name.from_text

# -- a hand-made internet ------------------------------------------------------------------------

ROOT = "127.9.0.1"
TLD = "127.9.1.1"
AUTH = "127.9.2.1"
AUTH2 = "127.9.2.2"


def reply(
    query: dns.message.Message,
    *,
    aa: bool = True,
    rcode: int = dns.rcode.NOERROR,
    answer: tuple[str, ...] = (),
    authority: tuple[str, ...] = (),
    additional: tuple[str, ...] = (),
) -> dns.message.Message:
    r = dns.message.make_response(query)
    r.flags &= ~dns.flags.RA
    if aa:
        r.flags |= dns.flags.AA
    r.set_rcode(dns.rcode.Rcode(rcode))
    for section, texts in (
        (r.answer, answer),
        (r.authority, authority),
        (r.additional, additional),
    ):
        for text in texts:
            owner, ttl, rdtype, *rdata = text.split(maxsplit=3)
            section.append(dns.rrset.from_text(owner, int(ttl), "IN", rdtype, *rdata))
    return r


SOA = "ex. 300 SOA ns.ex. host.ex. 1 7200 3600 1209600 300"


def small_world(query: dns.message.Message, address: str) -> dns.message.Message | None:
    q = query.question[0]
    name, qtype = q.name.to_text().lower(), q.rdtype
    if address == ROOT:
        return reply(
            query, aa=False, authority=("ex. 3600 NS ns.ex.",), additional=("ns.ex. 3600 A " + TLD,)
        )
    if address == TLD:
        if name.endswith("zone.ex.") or name == "zone.ex.":
            return reply(
                query,
                aa=False,
                authority=("zone.ex. 3600 NS ns1.zone.ex.", "zone.ex. 3600 NS ns2.zone.ex."),
                additional=(
                    "ns1.zone.ex. 3600 A " + AUTH,
                    "ns2.zone.ex. 3600 A " + AUTH2,
                    # out of bailiwick: must be scrubbed, never cached
                    "victim.other. 3600 A 127.66.66.66",
                ),
            )
        if name.endswith("glueless.ex."):
            return reply(query, aa=False, authority=("glueless.ex. 3600 NS ns1.zone.ex.",))
        return reply(query, rcode=dns.rcode.NXDOMAIN, authority=(SOA,))
    if address in (AUTH, AUTH2):
        if name in ("www.zone.ex.", "www.glueless.ex.") and qtype == T.A:
            return reply(query, answer=(f"{name} 300 A 127.100.0.1",))
        if name == "ns1.zone.ex." and qtype == T.A:
            return reply(query, answer=(f"{name} 300 A {AUTH}",))
        if name == "alias.zone.ex.":
            return reply(
                query,
                answer=("alias.zone.ex. 300 CNAME www.zone.ex.", "www.zone.ex. 300 A 127.100.0.1"),
            )
        if name == "out.zone.ex.":
            return reply(
                query,
                answer=(
                    "out.zone.ex. 300 CNAME www.glueless.ex.",
                    "www.glueless.ex. 300 A 127.66.0.1",
                ),
            )  # not believed
        if (
            name.endswith("zone.ex.")
            and name != "zone.ex."
            and name not in ("www.zone.ex.", "ns1.zone.ex.", "ns2.zone.ex.")
        ):
            return reply(
                query,
                rcode=dns.rcode.NXDOMAIN,
                authority=("zone.ex. 300 SOA ns1.zone.ex. h.zone.ex. 1 2 3 4 60",),
            )
        return reply(query, authority=("zone.ex. 300 SOA ns1.zone.ex. h.zone.ex. 1 2 3 4 60",))
    return None


def make(
    handler: Callable[[dns.message.Message, str], dns.message.Message | None],
    qmin: bool = True,
    hints: tuple[tuple[str, str], ...] = (("a.root.", ROOT),),
    signed_zone_hint: Callable[[dns.name.Name], bool] | None = None,
) -> tuple[Recursor, Conductor, MockTransport, ManualClock]:
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: handler(q, addr))
    resolver = assemble(transport, clock, cache=cache, root_hints=hints,
                        recursor_config=RecursorConfig(qname_minimisation=qmin),
                        rng=random.Random(7))
    if signed_zone_hint is not None:  # (what a validator's ZoneKeys would say, without one)
        resolver.recursor.signed_zone_hint = signed_zone_hint
    return resolver.recursor, resolver.conductor, transport, clock


async def resolve(
    recursor: Recursor, conductor: Conductor, name: str, qtype: str = "A"
) -> Resolution:
    return await recursor.resolve(Request(N(name), T.from_text(qtype)), conductor)


def addresses(res: Resolution) -> set[str]:
    return {rd.address for r in res.answer if r.rdtype == T.A for rd in r}


@pytest.mark.parametrize("qmin", [True, False])
async def test_iterates_from_root_through_referrals(qmin: bool) -> None:
    recursor, conductor, transport, _ = make(small_world, qmin)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.NOERROR and addresses(res) == {"127.100.0.1"}
    per = transport.per_server()
    assert per[ROOT] == 1 and per[TLD] == 1 and per[AUTH] + per[AUTH2] == 1
    asked = [q for _, q, _ in transport.questions()]
    if qmin:
        assert asked == ["ex.", "zone.ex.", "www.zone.ex."]
    else:
        assert asked == ["www.zone.ex."] * 3


async def test_second_query_is_answered_from_cache() -> None:
    recursor, conductor, transport, _ = make(small_world)
    await resolve(recursor, conductor, "www.zone.ex.")
    before = len(transport.sent)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"} and len(transport.sent) == before
    # a sibling name starts at the cached zone cut, not at the root
    await resolve(recursor, conductor, "nx.zone.ex.")
    assert [a for a, _, _ in transport.questions()[before:]] in ([AUTH], [AUTH2])


async def test_out_of_bailiwick_glue_is_scrubbed() -> None:
    recursor, conductor, _, clock = make(small_world)
    await resolve(recursor, conductor, "www.zone.ex.")
    assert recursor.cache.rrsets.get(N("victim.other."), T.A, clock.monotonic()) is None
    assert recursor.cache.rrsets.get(N("ns1.zone.ex."), T.A, clock.monotonic()) is not None


async def test_glueless_delegation_resolves_ns_name_as_subquery() -> None:
    recursor, conductor, transport, _ = make(small_world, qmin=False)
    res = await resolve(recursor, conductor, "www.glueless.ex.")
    assert addresses(res) == {"127.100.0.1"}
    asked = transport.questions()
    assert ("127.9.2.1", "ns1.zone.ex.", "A") in asked or (
        "127.9.2.2",
        "ns1.zone.ex.",
        "A",
    ) in asked


async def test_cname_in_answer_and_chain_leaving_zone() -> None:
    recursor, conductor, transport, _ = make(small_world)
    res = await resolve(recursor, conductor, "alias.zone.ex.")
    assert [r.rdtype for r in res.answer] == [T.CNAME, T.A]
    res = await resolve(recursor, conductor, "out.zone.ex.")
    # the out-of-zone A in that answer is not believed: www.glueless.ex. is resolved itself
    assert addresses(res) == {"127.100.0.1"}


async def test_nxdomain_is_negatively_cached() -> None:
    recursor, conductor, transport, _ = make(small_world, qmin=False)
    res = await resolve(recursor, conductor, "nope.zone.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert res.authority and res.authority[0].rdtype == T.SOA
    n = len(transport.sent)
    again = await resolve(recursor, conductor, "nope.zone.ex.", "AAAA")
    assert again.rcode == dns.rcode.NXDOMAIN and len(transport.sent) == n


def _wrong_id(r: dns.message.Message) -> None:
    r.id ^= 0x5555  # an off-path answer with the wrong ID


def _not_a_response(r: dns.message.Message) -> None:
    r.flags &= ~dns.flags.QR


def _another_opcode(r: dns.message.Message) -> None:
    r.set_opcode(dns.opcode.UPDATE)  # found by bench chaos's hostile authorities


@pytest.mark.parametrize("bend", [_wrong_id, _not_a_response, _another_opcode])
async def test_spoofed_id_is_not_accepted(bend: Callable[[dns.message.Message], None]) -> None:
    """AUTH answers with a poisoned address in a reply that does not match the query (wrong
    ID, QR clear, another opcode): every such answer is counted as a mismatch and dropped, and
    the address comes from AUTH2 (RFC 5452 §4.3: an answer is accepted only if its ID and
    question match the query; RFC 1035 §4.1.1: a response copies the query's opcode)."""
    def spoofing(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == AUTH and query.question[0].rdtype == T.A:
            r = reply(query, answer=(f"{query.question[0].name} 300 A 127.66.6.6",))
            bend(r)
            return r
        return small_world(query, address)

    recursor, conductor, transport, _ = make(spoofing, qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert addresses(res) == {"127.100.0.1"}  # AUTH2's, never the spoofed one
    tried = transport.per_server()[AUTH]
    assert tried >= 1
    # refused as a mismatch (or, an UPDATE that does not parse as one, as malformed)
    assert conductor.metrics.errors[AUTH]["mismatch"] + \
        conductor.metrics.errors[AUTH]["malformed"] == tried
    assert transport.per_server()[AUTH2] >= 1


async def test_timeouts_move_to_the_next_server() -> None:
    def half_dead(query: dns.message.Message, address: str) -> dns.message.Message | None:
        return None if address == AUTH else small_world(query, address)

    recursor, conductor, _, _ = make(half_dead)
    for _ in range(3):
        recursor.cache.rrsets = type(recursor.cache.rrsets)(1024 * 1024)  # forget answers
        res = await resolve(recursor, conductor, "www.zone.ex.")
        assert addresses(res) == {"127.100.0.1"}
    assert conductor.metrics.errors[AUTH]["timeout"] >= 1


async def test_all_servers_dead_is_servfail_within_budget() -> None:
    recursor, conductor, transport, _ = make(lambda q, a: None)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.SERVFAIL
    assert len(transport.sent) <= MAX_UPSTREAM_QUERIES


async def test_concurrent_identical_queries_share_upstream_work() -> None:
    async def slow_world(query: dns.message.Message, address: str) -> dns.message.Message | None:
        await asyncio.sleep(0.01)
        return small_world(query, address)

    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: slow_world(q, addr))
    resolver = assemble(transport, clock, cache=cache, root_hints=(("a.root.", ROOT),),
                        rng=random.Random(1))
    recursor, conductor = resolver.recursor, resolver.conductor
    results = await asyncio.gather(
        *[resolve(recursor, conductor, "www.zone.ex.") for _ in range(20)]
    )
    assert all(addresses(r) == {"127.100.0.1"} for r in results)
    assert len(transport.sent) == 3  # one upstream query per step, not 20
    assert conductor.metrics.deduplicated == 19 * 3


async def test_upward_referral_is_lame_and_skipped() -> None:
    def upward(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == AUTH:
            return reply(query, aa=False, authority=(". 3600 NS a.root.",))
        return small_world(query, address)

    recursor, conductor, _, _ = make(upward, qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}


async def test_truncated_answer_is_retried_over_tcp() -> None:
    def tc(query: dns.message.Message, address: str, tcp: bool) -> dns.message.Message | None:
        r = small_world(query, address)
        if r is not None and address in (AUTH, AUTH2) and not tcp:
            r.flags |= dns.flags.TC
            r.answer.clear()
        return r

    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, t: tc(q, addr, t))
    resolver = assemble(transport, clock, cache=cache, root_hints=(("a.root.", ROOT),),
                        rng=random.Random(3))
    res = await resolve(resolver.recursor, resolver.conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert any(s.tcp for s in transport.sent)


@pytest.mark.parametrize("rcode", [dns.rcode.FORMERR, dns.rcode.NOTIMP])
async def test_edns_intolerant_server_gets_plain_dns(rcode: dns.rcode.Rcode) -> None:
    """RFC 6891 §7 (FORMERR), and Unbound's serviced_udp_callback (FORMERR or NOTIMP):
    the question is asked again without EDNS, and the server remembered as such."""
    def intolerant(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address in (AUTH, AUTH2) and query.edns >= 0:
            r = dns.message.make_response(query)
            r.use_edns(False)
            r.set_rcode(rcode)
            return r
        return small_world(query, address)

    recursor, conductor, transport, _ = make(intolerant)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert any(s.address in (AUTH, AUTH2) and not s.edns for s in transport.sent)
    asked = next(s.address for s in transport.sent if s.address in (AUTH, AUTH2))
    assert not conductor.infra.edns_ok(asked, 0.0)


# -- the whole lab, in process ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab_world():  # type: ignore[no-untyped-def]
    world = load_world()
    zones = build_zones(world)
    return world, zones, LabServer(world, zones, seed=5)


def lab_recursor(lab_world, qmin: bool, source: str = "127.54.3.1", anchors=None):  # type: ignore[no-untyped-def]
    """(what resolves: the recursor, or the validator over it with ``anchors``; the
    conductor; the transport) over the lab, in process."""
    world, zones, server = lab_world
    by_addr = {s.address: s for s in world.servers.values()}

    def handler(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message | None:
        s = by_addr.get(address)
        if s is None:
            return None
        wire = server.answer(s, query.to_wire(), source, tcp)
        return None if wire is None else dns.message.from_wire(wire)

    clock = ManualClock(time.time())  # the lab signs with the real time
    cache = DnsCache(32 * 1024 * 1024)
    transport = MockTransport(handler)
    resolver = assemble(transport, clock, cache=cache, root_hints=root_servers(zones),
                        recursor_config=RecursorConfig(qname_minimisation=qmin),
                        anchors=anchors, rng=random.Random(11))
    return resolver.resolves, resolver.conductor, transport


@pytest.mark.parametrize("qmin", [True, False])
async def test_every_non_dnssec_manifest_name_resolves_as_the_manifest_says(
    lab_world, qmin: bool
) -> None:  # type: ignore[no-untyped-def]
    recursor, conductor, transport = lab_recursor(lab_world, qmin)
    world = lab_world[0]
    wrong = []
    for entry in manifest(world):
        if entry.dnssec == "bogus":
            continue  # validation is its own issue
        res = await recursor.resolve(Request(entry.name, entry.rdtype), conductor)
        if res.rcode != entry.rcode:
            wrong.append(
                f"{entry.name} {T.to_text(entry.rdtype)}: {dns.rcode.to_text(res.rcode)}"
                f" expected {dns.rcode.to_text(dns.rcode.Rcode(entry.rcode))} "
                f"({res.reason})"
            )
            continue
        has = any(r.rdtype == entry.rdtype for r in res.answer)
        if entry.rcode == dns.rcode.NOERROR and has == entry.nodata:
            wrong.append(f"{entry.name}: data={has} nodata={entry.nodata}")
    assert not wrong, "\n".join(wrong)


async def test_wildcard_answer_from_cache_keeps_its_proof_and_negative_ttls_are_capped(
        lab_world) -> None:  # type: ignore[no-untyped-def]
    recursor, conductor, transport = lab_recursor(lab_world, qmin=True)
    req = Request(N("a.wild.example.lab."), T.A, do=True)
    fresh = await recursor.resolve(req, conductor)
    sent = len(transport.sent)
    cached = await recursor.resolve(req, conductor)
    assert len(transport.sent) == sent  # from cache
    for res in (fresh, cached):
        assert any(r.rdtype == T.NSEC for r in res.authority), res.authority
    neg = await recursor.resolve(Request(N("nonexistent.example.lab."), T.A, do=True), conductor)
    soa = [r for r in neg.authority if r.rdtype == T.SOA][0]
    soa_sigs = [r for r in neg.authority if r.rdtype == T.RRSIG and r.covers == T.SOA]
    assert soa_sigs and all(s.ttl <= soa.ttl for s in soa_sigs)


async def test_validated_wildcard_answer_from_cache_keeps_its_proof(lab_world) -> None:  # type: ignore[no-untyped-def]
    from lab.zones import trust_anchor_ds
    from resolver.dnssec.anchors import TrustAnchors

    anchors = TrustAnchors.from_text("\n".join(trust_anchor_ds(lab_world[1])))
    validating, conductor, transport = lab_recursor(lab_world, qmin=True, anchors=anchors)
    req = Request(N("x.wild.nsec3.rsa."), T.A, do=True)
    for _ in range(2):  # fresh, then from cache (where the validator stored its verdict)
        res = await validating.resolve(req, conductor)
        assert res.rcode == dns.rcode.NOERROR
        assert any(r.rdtype == T.NSEC3 for r in res.authority), res.authority
