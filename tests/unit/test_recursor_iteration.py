"""Iteration around broken and lame servers, and NS sets that change (issue 16).

Recursion-lame answers (RA without AA) are not used while the zone has another server
(RFC 4697, Unbound's REC_LAME) and are the last resort when it has none; lameness is kept
per address and zone in the infra cache; addresses that cannot be a unicast server are never
sent to; the child's authoritative NS set replaces the parent's delegation (RFC 2181 §5.4.1)
while the parent's is kept apart as the last resort; an NS set never extends the TTL of the
one it replaces, and a referral ends with the delegation of the zone that gave it (ghost
domains).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from resolver.cache import DnsCache, Rank, RRsetCache
from resolver.recursor import ConfiguredZone, RecursorConfig
from resolver.recursor.classify import Classified, Kind, classify
from resolver.recursor.learn import cache_referral
from tests.unit.test_recursor import (
    AUTH,
    AUTH2,
    ROOT,
    TLD,
    addresses,
    make,
    reply,
    resolve,
    small_world,
)

N = dns.name.from_text
T = dns.rdatatype


Handler = Callable[[dns.message.Message, str], dns.message.Message | None]


def recursion_lame(at: set[str]) -> Handler:
    """small_world, except that servers in ``at`` answer like open resolvers (RA, no AA)
    with their own (wrong) data for www.zone.ex."""

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address in at:
            r = reply(query, aa=False, answer=("www.zone.ex. 60 A 127.66.0.1",))
            r.flags |= dns.flags.RA
            return r
        return small_world(query, address)

    return handler


async def test_recursion_lame_answer_is_skipped_and_the_address_marked_lame() -> None:
    recursor, conductor, transport, clock = make(recursion_lame({AUTH}), qmin=False)
    # AUTH looks fastest, so it is asked first
    recursor.cache.infra.rtt_update(AUTH, 0.001, clock.monotonic())
    recursor.cache.infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert AUTH in {s.address for s in transport.sent}
    assert recursor.cache.infra.is_lame(AUTH, N("zone.ex."), clock.monotonic())
    assert not recursor.cache.infra.is_lame(AUTH, N("other.ex."), clock.monotonic())

    # the next name in the zone does not go to the lame address, though it still looks fastest
    transport.sent.clear()
    res = await resolve(recursor, conductor, "nope.zone.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert [s.address for s in transport.sent] == [AUTH2]


async def test_when_every_server_is_recursion_lame_their_answer_is_taken() -> None:
    recursor, conductor, _, _ = make(recursion_lame({AUTH, AUTH2}), qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.66.0.1"}


async def test_knot_resolvers_rule_takes_a_positive_answer_without_aa() -> None:
    """RecursorConfig.recursion_lame_answers off (Knot Resolver, lib/layer/iterate.c: "an
    authoritative answer (even with AA=0)"): the first server's positive answer is taken
    whatever its AA bit, and the address is not marked lame; a negative one still is."""
    recursor, conductor, _, clock = make(recursion_lame({AUTH}), qmin=False)
    recursor.config.recursion_lame_answers = False
    recursor.cache.infra.rtt_update(AUTH, 0.001, clock.monotonic())
    recursor.cache.infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.66.0.1"}
    assert not recursor.cache.infra.is_lame(AUTH, N("zone.ex."), clock.monotonic())

    q = dns.message.make_query("nope.zone.ex.", "A")
    negative = reply(q, aa=False, rcode=dns.rcode.NXDOMAIN,
                     authority=("zone.ex. 60 SOA ns.zone.ex. h.zone.ex. 1 2 3 4 60",))
    negative.flags |= dns.flags.RA
    c = classify(negative, N("nope.zone.ex."), T.A, N("zone.ex."), 11, False,
                 lame_answers=False)
    assert c.kind is Kind.LAME and c.fallback is not None


@pytest.mark.parametrize("qmin", [True, False])
async def test_forwarded_answers_with_ra_are_fine(qmin: bool) -> None:
    def forwarder(query: dns.message.Message, address: str) -> dns.message.Message | None:
        r = reply(query, aa=False, answer=("www.zone.ex. 60 A 127.100.0.9",))
        r.flags |= dns.flags.RA
        return r

    recursor, conductor, _, _ = make(forwarder, qmin=qmin)
    recursor.config.forwarders = (AUTH,)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.9"}


async def test_forward_hosts_are_looked_up_and_tried_after_the_forwarders() -> None:
    """Unbound's forward-host: the name's addresses (asked of the forwarder) become more
    forwarders; the first forwarder failing a question, the next address answers it."""
    def forwarders(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        name = q.name.to_text().lower()
        if name == "fwd.ex." and q.rdtype == T.A and address == AUTH:
            r = reply(query, aa=False)
            r.answer.append(dns.rrset.from_text("fwd.ex.", 300, "IN", "A", AUTH, AUTH2))
            return r
        if address == AUTH2:
            return reply(query, aa=False, answer=("www.zone.ex. 60 A 127.100.0.8",))
        return reply(query, aa=False, rcode=dns.rcode.SERVFAIL)

    recursor, conductor, transport, _ = make(forwarders, qmin=False)
    recursor.config.forwarders = (AUTH,)
    recursor.config.forward_hosts = (N("fwd.ex."),)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.8"}
    assert ("fwd.ex.", "A") in {(n, t) for _, n, t in transport.questions()}


@pytest.mark.parametrize("address", ["0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.53",
                                     "::", "ff02::1"])
def test_addresses_that_are_no_unicast_server_are_unusable(address: str) -> None:
    config = RecursorConfig(do_ip6=True)
    assert not config.usable(address)
    assert not config.usable(address, configured=True)
    assert config.usable("192.0.2.1") and config.usable("2001:db8::1")


async def test_unusable_glue_is_never_sent_to() -> None:
    def bad_glue(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == TLD and query.question[0].name.is_subdomain(N("zone.ex.")):
            return reply(query, aa=False,
                         authority=("zone.ex. 3600 NS ns1.zone.ex.",
                                    "zone.ex. 3600 NS ns2.zone.ex."),
                         additional=("ns1.zone.ex. 3600 A 0.0.0.0", f"ns2.zone.ex. 3600 A {AUTH2}"))
        return small_world(query, address)

    recursor, conductor, transport, _ = make(bad_glue, qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert "0.0.0.0" not in {s.address for s in transport.sent}


def child_ns(query: dns.message.Message, address: str) -> dns.message.Message | None:
    """small_world, with the child's answers naming only ns2 as the zone's server."""
    r = small_world(query, address)
    if r is not None and address in (AUTH, AUTH2) and r.flags & dns.flags.AA and r.answer:
        r.authority.append(dns.rrset.from_text("zone.ex.", 300, "IN", "NS", "ns2.zone.ex."))
    return r


async def test_child_ns_set_replaces_the_delegation_and_the_parents_is_kept_apart() -> None:
    recursor, conductor, _, clock = make(child_ns, qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    now = clock.monotonic()
    hit = recursor.cache.rrsets.get(N("zone.ex."), T.NS, now)
    assert hit is not None and hit.rank == Rank.AUTHORITY_AUTH
    assert {rd.target for rd in hit.rrset} == {N("ns2.zone.ex.")}
    parent = recursor.cache.parent_side.get(N("zone.ex."), T.NS, now)
    assert parent is not None
    assert {rd.target for rd in parent.rrset} == {N("ns1.zone.ex."), N("ns2.zone.ex.")}


async def test_parent_side_nameserver_is_the_last_resort() -> None:
    """The child names only ns2; once ns2's address stops answering, ns1 (which only the
    parent lists) is asked rather than failing."""
    dead: set[str] = set()

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        return None if address in dead else child_ns(query, address)

    recursor, conductor, transport, _ = make(handler, qmin=False)
    assert addresses(await resolve(recursor, conductor, "www.zone.ex.")) == {"127.100.0.1"}
    dead.add(AUTH2)
    transport.sent.clear()
    res = await resolve(recursor, conductor, "alias.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert AUTH in {s.address for s in transport.sent}


def ns(targets: str, ttl: int) -> dns.rrset.RRset:
    return dns.rrset.from_text("zone.ex.", ttl, "IN", "NS", *targets.split())


def test_same_ranked_ns_set_does_not_extend_its_ttl() -> None:
    cache = RRsetCache(1 << 20)
    cache.put(ns("a.ex.", 600), Rank.AUTHORITY_AUTH, 0.0)
    cache.put(ns("a.ex.", 600), Rank.AUTHORITY_AUTH, 400.0)  # re-asserted
    cache.put(ns("b.ex.", 600), Rank.AUTHORITY_AUTH, 500.0)  # changed by the same source
    hit = cache.get(N("zone.ex."), T.NS, 550.0)
    assert hit is not None and {rd.target for rd in hit.rrset} == {N("b.ex.")}
    assert hit.rrset.ttl == 50
    assert cache.get(N("zone.ex."), T.NS, 600.0) is None
    # a higher rank replaces its data (RFC 2181 §5.4.1) but not its expiry (Unbound 1.25.1,
    # CVE-2026-40622): the child's own NS set ends with the parent's referral
    cache.put(ns("c.ex.", 600), Rank.AUTHORITY_NONAUTH, 700.0)
    cache.put(ns("d.ex.", 900), Rank.ANSWER_AUTH, 800.0)
    hit = cache.get(N("zone.ex."), T.NS, 800.0)
    assert hit is not None and {rd.target for rd in hit.rrset} == {N("d.ex.")}
    assert hit.rrset.ttl == 500 and hit.rank is Rank.ANSWER_AUTH
    assert cache.get(N("zone.ex."), T.NS, 1300.0) is None
    # once it has expired, a new NS set is stored with its own TTL
    cache.put(ns("e.ex.", 900), Rank.AUTHORITY_NONAUTH, 1300.0)
    hit = cache.get(N("zone.ex."), T.NS, 1300.0)
    assert hit is not None and hit.rrset.ttl == 900


def test_referral_ends_with_the_delegation_of_the_zone_that_gave_it() -> None:
    """A sub-delegation from zone.ex's servers expires with zone.ex's own NS set (ghost
    domains, CVE-2022-30698); one from the root's servers keeps its TTL."""
    cache = DnsCache(1 << 22)
    cache.rrsets.put(ns("ns.zone.ex.", 5), Rank.AUTHORITY_NONAUTH, 0.0)
    sub = dns.rrset.from_text("sub.zone.ex.", 3600, "IN", "NS", "ns.sub.zone.ex.")
    cache_referral(cache, Classified(Kind.REFERRAL, ns=sub, cut=N("sub.zone.ex.")),
                   N("zone.ex."), 2.0)
    for store in (cache.rrsets, cache.parent_side):
        hit = store.get(N("sub.zone.ex."), T.NS, 2.0)
        assert hit is not None and hit.rrset.ttl == 3
        assert store.get(N("sub.zone.ex."), T.NS, 5.0) is None
    cache.rrsets.put(dns.rrset.from_text(".", 5, "IN", "NS", "a.root."),
                     Rank.ANSWER_AUTH, 0.0)
    tld = dns.rrset.from_text("ex.", 7200, "IN", "NS", "ns.ex.")
    cache_referral(cache, Classified(Kind.REFERRAL, ns=tld, cut=N("ex.")), dns.name.root, 2.0)
    hit = cache.rrsets.get(N("ex."), T.NS, 2.0)
    assert hit is not None and hit.rrset.ttl == 7200
    # a zone with no NS set cached (a stub zone, say) does not cut its referrals
    other = dns.rrset.from_text("sub.other.ex.", 600, "IN", "NS", "ns.other.ex.")
    cache_referral(cache, Classified(Kind.REFERRAL, ns=other, cut=N("sub.other.ex.")),
                   N("other.ex."), 2.0)
    hit = cache.rrsets.get(N("sub.other.ex."), T.NS, 2.0)
    assert hit is not None and hit.rrset.ttl == 600


async def test_root_hint_lame_for_the_question_is_primed_past() -> None:
    """The hint answers the priming question (RFC 8109) and refuses everything else: the
    root servers it names are asked instead."""
    hint, real_root = "127.9.0.9", ROOT

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        if address == hint:
            if q.name == dns.name.root and q.rdtype == T.NS:
                return reply(query, answer=(". 3600 NS a.root.",),
                             additional=(f"a.root. 3600 A {real_root}",))
            return reply(query, aa=False, rcode=dns.rcode.REFUSED)
        return small_world(query, address)

    recursor, conductor, transport, _ = make(handler, qmin=False, hints=(("h.root.", hint),))
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert real_root in {s.address for s in transport.sent}
    # the root's NS set is cached: the next walk from the root starts at the primed server
    root_ns = recursor.cache.rrsets.get(dns.name.root, T.NS, 0.0)
    assert root_ns is not None and {rd.target for rd in root_ns.rrset} == {N("a.root.")}
    assert sum(1 for s in transport.sent if s.qname == dns.name.root) == 1  # primed once


async def test_failed_cached_delegation_is_fetched_again_from_the_parent() -> None:
    """zone.ex moves to another server while its old delegation is cached; the old servers
    refuse.  The parent is asked again (once) and the new server answers."""
    moved = False
    new = "127.9.2.3"

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if not moved:
            return small_world(query, address)
        if address in (AUTH, AUTH2):
            return reply(query, aa=False, rcode=dns.rcode.REFUSED)
        if address == TLD and query.question[0].name.is_subdomain(N("zone.ex.")):
            return reply(query, aa=False, authority=("zone.ex. 3600 NS ns3.zone.ex.",),
                         additional=(f"ns3.zone.ex. 3600 A {new}",))
        return small_world(query, AUTH if address == new else address)

    recursor, conductor, transport, _ = make(handler, qmin=False)
    assert addresses(await resolve(recursor, conductor, "www.zone.ex.")) == {"127.100.0.1"}
    moved = True
    transport.sent.clear()
    res = await resolve(recursor, conductor, "alias.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert [s.address for s in transport.sent][-1] == new
    ns = recursor.cache.rrsets.get(N("zone.ex."), T.NS, 0.0)
    assert ns is not None and {rd.target for rd in ns.rrset} == {N("ns3.zone.ex.")}

    # when the parent still lists the failing servers, that is final (no loop)
    def stuck(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address in (AUTH, AUTH2):
            return reply(query, aa=False, rcode=dns.rcode.REFUSED)
        return small_world(query, address)

    recursor, conductor, transport, _ = make(stuck, qmin=False)
    recursor.cache.rrsets.put(dns.rrset.from_text("zone.ex.", 3600, "IN", "NS", "ns1.zone.ex."),
                              Rank.AUTHORITY_AUTH, 0.0)
    recursor.cache.rrsets.put(dns.rrset.from_text("ns1.zone.ex.", 3600, "IN", "A", AUTH),
                              Rank.ADDITIONAL, 0.0)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.SERVFAIL
    assert len(transport.sent) < 20


@pytest.mark.parametrize("qmin", [True, False])
async def test_untried_addresses_are_not_counted_as_failed(qmin: bool) -> None:
    """Eight addresses, only the last answers: one exchange's attempts do not reach them all,
    and the ones it did not try are tried next rather than written off."""
    addrs = [f"127.9.3.{i}" for i in range(1, 9)]

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == TLD and query.question[0].name.is_subdomain(N("zone.ex.")):
            return reply(query, aa=False,
                         authority=tuple(f"zone.ex. 3600 NS ns{i}.zone.ex." for i in range(8)),
                         additional=tuple(f"ns{i}.zone.ex. 3600 A {a}"
                                          for i, a in enumerate(addrs)))
        if address in addrs:
            return small_world(query, AUTH) if address == addrs[-1] else None
        return small_world(query, address)

    recursor, conductor, transport, clock = make(handler, qmin=qmin)
    for a in addrs[:-1]:  # the silent ones look fastest
        recursor.cache.infra.rtt_update(a, 0.001, clock.monotonic())
    recursor.cache.infra.rtt_update(addrs[-1], 0.9, clock.monotonic())
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}


def servfailing(query: dns.message.Message, address: str) -> dns.message.Message | None:
    """small_world, except that both servers of zone.ex answer SERVFAIL to everything."""
    if address in (AUTH, AUTH2):
        return reply(query, aa=False, rcode=dns.rcode.SERVFAIL)
    return small_world(query, address)


async def test_parent_is_asked_again_only_while_no_refetched_ns_set_stands() -> None:
    """Every server of a cached delegation fails: the parent is asked once more for the
    delegation, and not again on later questions while the NS set it gave stands (Unbound's
    processLastResort goes up only when no parent-side NS set is cached)."""
    recursor, conductor, transport, clock = make(servfailing, qmin=False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.SERVFAIL  # (the delegation is fresh: no re-fetch)

    for name, parent_asked in (("a.zone.ex.", True), ("b.zone.ex.", False),
                               ("c.zone.ex.", False)):
        transport.sent.clear()
        clock.advance(1)
        res = await resolve(recursor, conductor, name)
        assert res.rcode == dns.rcode.SERVFAIL
        assert any(s.address == TLD for s in transport.sent) is parent_asked, name
    # once the re-fetched NS set has expired, the parent may be asked again
    clock.advance(3600)
    transport.sent.clear()
    res = await resolve(recursor, conductor, "d.zone.ex.")
    assert res.rcode == dns.rcode.SERVFAIL
    assert any(s.address == TLD for s in transport.sent)


def promiscuous(query: dns.message.Message, address: str) -> dns.message.Message | None:
    """small_world, except that zone.ex's answer for www.zone.ex. carries an NS set for
    its zone naming another server, with glue."""
    q = query.question[0]
    if address in (AUTH, AUTH2) and q.name == N("www.zone.ex.") and q.rdtype == T.A:
        return reply(query, answer=("www.zone.ex. 300 A 127.100.0.1",),
                     authority=("zone.ex. 86400 NS ns9.zone.ex.",),
                     additional=("ns9.zone.ex. 86400 A 127.66.0.9",))
    return small_world(query, address)


@pytest.mark.parametrize("scrub", [True, False])
async def test_ns_set_beside_an_answer_is_scrubbed_when_asked(scrub: bool) -> None:
    """Unbound's iter-scrub-promiscuous: an NS set in the authority section of an answer
    (not a referral) is dropped with its glue and does not replace the delegation.  Off,
    the zone's own NS set replaces the parent's (RFC 2181 §5.4.1 ranks it higher)."""
    recursor, conductor, transport, _ = make(promiscuous, qmin=False)
    recursor.config = RecursorConfig(qname_minimisation=False, scrub_promiscuous=scrub)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    ns = recursor.cache.rrsets.get(N("zone.ex."), T.NS, 0.0)
    assert ns is not None
    targets = {rd.target for rd in ns.rrset}
    glue = recursor.cache.rrsets.get(N("ns9.zone.ex."), T.A, 0.0)
    if scrub:
        assert targets == {N("ns1.zone.ex."), N("ns2.zone.ex.")} and glue is None
    else:
        assert targets == {N("ns9.zone.ex.")}


def stale_target(query: dns.message.Message, address: str) -> dns.message.Message | None:
    """small_world, except that the answer for alias.zone.ex. carries a stale A record for
    its CNAME's target (in the zone), unlike what the server gives for the target itself."""
    if address in (AUTH, AUTH2) and query.question[0].name == N("alias.zone.ex."):
        return reply(query, answer=("alias.zone.ex. 300 CNAME www.zone.ex.",
                                    "www.zone.ex. 300 A 127.66.0.2"))
    return small_world(query, address)


@pytest.mark.parametrize("cut", [True, False])
async def test_cut_cname_chain_asks_the_target_again(cut: bool) -> None:
    # RFC 2181 §5.4.1 / Unbound's scrub_sanitize: with the chain cut, only the alias is
    # taken from the answer and the target is asked for itself; without, the target's
    # records in the same in-zone answer are used (Knot Resolver's way)
    recursor, conductor, transport, _ = make(stale_target, qmin=False)
    recursor.config.cut_cname_chains = cut
    res = await resolve(recursor, conductor, "alias.zone.ex.")
    asked = [s.qname for s in transport.sent]
    assert [r.rdtype for r in res.answer] == [T.CNAME, T.A]
    assert addresses(res) == ({"127.100.0.1"} if cut else {"127.66.0.2"})
    assert (N("www.zone.ex.") in asked) is cut


def dname_world(query: dns.message.Message, address: str) -> dns.message.Message | None:
    """small_world with an unsigned DNAME d.zone.ex. -> zone.ex. at the zone's servers."""
    name = query.question[0].name
    if address in (AUTH, AUTH2) and name.is_subdomain(N("d.zone.ex.")) and name != N("d.zone.ex."):
        target = name.relativize(N("d.zone.ex.")).derelativize(N("zone.ex."))
        return reply(query, answer=("d.zone.ex. 300 DNAME zone.ex.",
                                    f"{name} 300 CNAME {target}"))
    return small_world(query, address)


@pytest.mark.parametrize("cut", [True, False])
async def test_only_a_secure_cached_dname_synthesises(cut: bool) -> None:
    # Unbound's dns_cache_lookup synthesises a CNAME from a cached DNAME only when the
    # DNAME was validated secure; an unvalidated one sends the question upstream again
    recursor, conductor, transport, _ = make(dname_world, qmin=False)
    recursor.config.cut_cname_chains = cut
    first = await resolve(recursor, conductor, "www.d.zone.ex.")
    assert addresses(first) == {"127.100.0.1"}
    transport.sent.clear()
    again = await resolve(recursor, conductor, "www.d.zone.ex.")
    assert [r.rdtype for r in again.answer] == [T.DNAME, T.CNAME, T.A]
    assert ([s.qname for s in transport.sent] == [N("www.d.zone.ex.")]) is cut
    assert (transport.sent == []) is not cut


async def test_a_nameserver_lookup_that_failed_is_not_made_again_in_one_query() -> None:
    """The in-zone nameserver ns.sub.ex. has no glue; its A is a CNAME to ns2.sub.ex.
    (whose A the parent also serves), its AAAA a referral back to sub.ex. (a cycle).  The
    AAAA lookup fails once; chasing the CNAME must not send it round again (through the
    cached CNAME: ns2.sub.ex. AAAA, which nobody answers) but ask the parent for ns2."""
    server = "127.9.3.1"

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        name, qtype = q.name.to_text().lower(), q.rdtype
        if address == ROOT:
            return reply(query, aa=False, authority=("ex. 3600 NS ns.ex.",),
                         additional=("ns.ex. 3600 A " + TLD,))
        if address == TLD:
            if name == "ns.sub.ex." and qtype == T.A:
                return reply(query, answer=("ns.sub.ex. 300 CNAME ns2.sub.ex.",))
            if name == "ns2.sub.ex." and qtype == T.A:
                return reply(query, answer=(f"ns2.sub.ex. 300 A {server}",))
            if name == "ns2.sub.ex.":
                return None  # never answered
            return reply(query, aa=False, authority=("sub.ex. 3600 NS ns.sub.ex.",))
        if address == server and name == "www.sub.ex." and qtype == T.A:
            return reply(query, answer=("www.sub.ex. 300 A 127.100.0.9",))
        return None

    recursor, conductor, transport, _ = make(handler, qmin=False)
    recursor.config = dataclasses.replace(recursor.config, do_ip6=True)
    res = await resolve(recursor, conductor, "www.sub.ex.")
    assert [rd.address for r in res.answer for rd in r] == ["127.100.0.9"]
    assert ("ns2.sub.ex.", "AAAA") not in {(n, t) for _, n, t in transport.questions()}


async def test_a_ds_question_answered_with_a_referral_takes_the_referrals_ds() -> None:
    """The parent answers sub.ex. DS with its referral to sub.ex. (NS, DS, glue): the DS
    RRset it carries is the answer (RFC 4035 §3.1.4.1), not a reason to ask the child."""
    child = "127.9.3.2"
    ds = "sub.ex. 3600 DS 12345 13 2 " + "AB" * 32

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == ROOT:
            return reply(query, aa=False, authority=("ex. 3600 NS ns.ex.",),
                         additional=("ns.ex. 3600 A " + TLD,))
        if address == TLD:
            return reply(query, aa=False, authority=("sub.ex. 3600 NS ns.sub.ex.", ds),
                         additional=(f"ns.sub.ex. 3600 A {child}",))
        return reply(query, rcode=dns.rcode.REFUSED)  # the child knows no DS

    recursor, conductor, transport, _ = make(handler, qmin=True)
    res = await resolve(recursor, conductor, "sub.ex.", "DS")
    assert res.rcode == dns.rcode.NOERROR
    assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in res.answer] == [("sub.ex.", "DS")]
    assert not res.extra_authority and not res.extra_additional
    assert child not in {a for a, _, _ in transport.questions()}


@pytest.mark.parametrize("first", [False, True])
async def test_configured_zones_below_the_root(first: bool) -> None:
    """A forward zone's questions go to its forwarder with RD=1; a stub zone's to its
    server without; with stub-first a failing stub zone is resolved as if not configured."""
    fwd, stub = "127.9.4.1", "127.9.4.2"

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        name = query.question[0].name.to_text().lower()
        if address == fwd and query.flags & dns.flags.RD:
            return reply(query, aa=False, answer=(f"{name} 60 A 127.100.0.1",))
        if address == stub and not query.flags & dns.flags.RD:
            return reply(query, rcode=dns.rcode.SERVFAIL)  # a broken stub server
        return small_world(query, address)

    recursor, conductor, transport, _ = make(handler, qmin=False)
    recursor.config.zones = (
        ConfiguredZone(N("fwd.ex."), True, (fwd,)),
        ConfiguredZone(N("zone.ex."), False, (stub,), first=first),
    )
    res = await resolve(recursor, conductor, "www.fwd.ex.")
    assert addresses(res) == {"127.100.0.1"}
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert stub in {a for a, _, _ in transport.questions()}
    if first:
        assert addresses(res) == {"127.100.0.1"}  # from the delegation, after the stub
    else:
        assert res.rcode == dns.rcode.SERVFAIL


@pytest.mark.parametrize("harden", [False, True])
async def test_harden_referral_path_asks_the_zone_for_its_own_ns_set(harden: bool) -> None:
    """Unbound's harden-referral-path: after the referral to zone.ex. (two servers), the
    zone's own NS RRset (one server) is asked for and replaces the referral's."""
    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        if address in (AUTH, AUTH2) and q.name == N("zone.ex.") and q.rdtype == T.NS:
            return reply(query, answer=("zone.ex. 3600 NS ns1.zone.ex.",))
        return small_world(query, address)

    recursor, conductor, transport, _ = make(handler, qmin=False)
    recursor.config.harden_referral_path = harden
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    asked = ("zone.ex.", "NS") in {(n, t) for _, n, t in transport.questions()}
    ns = recursor.cache.rrsets.get(N("zone.ex."), T.NS, 0.0)
    assert ns is not None
    assert asked is harden
    assert {rd.target for rd in ns.rrset} == (
        {N("ns1.zone.ex.")} if harden else {N("ns1.zone.ex."), N("ns2.zone.ex.")})


@pytest.mark.parametrize(("aa", "rd", "kind"), [
    (False, False, Kind.REFERRAL),  # provisional answer beside a delegation: a referral
    (True, False, Kind.ANSWER),  # authoritative: the answer
    (False, True, Kind.ANSWER),  # a forwarder's: its answer
])
def test_a_non_authoritative_answer_beside_a_child_delegation_is_a_referral(
    aa: bool, rd: bool, kind: Kind
) -> None:
    """Unbound's iter_resptype.c: a non-AA answer is only provisional, an NS RRset of a zone
    below the one asked makes it a referral (not when forwarding); the answer's addresses
    are glue then (delegpt_from_message)."""

    query = dns.message.make_query("ns.child.ex.", "A")
    response = dns.message.make_response(query)
    response.flags = dns.flags.QR | (dns.flags.AA if aa else 0)
    response.answer.append(dns.rrset.from_text("ns.child.ex.", 300, "IN", "A", "192.0.2.7"))
    response.authority.append(dns.rrset.from_text("child.ex.", 300, "IN", "NS", "ns.child.ex."))
    c = classify(response, dns.name.from_text("ns.child.ex."), dns.rdatatype.A,
                 dns.name.from_text("ex."), recursion_desired=rd)
    assert c.kind is kind
    if kind is Kind.REFERRAL:
        assert c.cut == dns.name.from_text("child.ex.")
        assert [r.name.to_text() for r in c.glue] == ["ns.child.ex."]
