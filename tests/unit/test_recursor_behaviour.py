"""Recursor behaviours matched to Unbound, over the MockTransport seam: answers and the
upstream questions they cost."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from resolver.app import ResolverAnswerer
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.model import Request
from resolver.recursor import ConfiguredZone, Recursor, RecursorConfig
from resolver.recursor.learn import insecure_cuts
from tests.unit.test_recursor import ROOT, TLD, addresses, make, reply, resolve

T = dns.rdatatype


def to_ex(query: dns.message.Message) -> dns.message.Message:
    """The root's referral to ex. (served by ns.ex. at TLD)."""
    return reply(query, aa=False, authority=("ex. 3600 NS ns.ex.",),
                 additional=("ns.ex. 3600 A " + TLD,))


def dname_world(query: dns.message.Message, address: str) -> dns.message.Message:
    q = query.question[0]
    name = q.name.to_text().lower()
    if address == ROOT:
        return to_ex(query)
    if name.endswith(".d.ex."):
        target = name[: -len("d.ex.")] + "t.ex."
        return reply(query, answer=("d.ex. 300 DNAME t.ex.", f"{name} 300 CNAME {target}"))
    return reply(query, authority=("ex. 300 SOA ns.ex. host.ex. 1 2 3 4 300",))


async def test_cname_question_under_a_dname_stops_at_the_synthesised_cname() -> None:
    recursor, conductor, transport, _ = make(dname_world, qmin=False)
    res = await resolve(recursor, conductor, "www.d.ex.", "CNAME")
    assert res.rcode == dns.rcode.NOERROR
    assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in res.answer] == [
        ("d.ex.", "DNAME"), ("www.d.ex.", "CNAME"),
    ]
    assert res.authority == []
    # the target is not asked for: the CNAME is the answer (RFC 6672 §3.2)
    assert [(q, t) for _, q, t in transport.questions()] == [
        ("www.d.ex.", "CNAME"), ("www.d.ex.", "CNAME"),
    ]
    # from the cached DNAME, too
    before = len(transport.sent)
    again = await resolve(recursor, conductor, "mail.d.ex.", "CNAME")
    assert [T.to_text(r.rdtype) for r in again.answer] == ["DNAME", "CNAME"]
    assert len(transport.sent) == before


async def test_other_questions_under_a_dname_follow_the_synthesised_cname() -> None:
    recursor, conductor, transport, _ = make(dname_world, qmin=False)
    res = await resolve(recursor, conductor, "www.d.ex.", "A")
    assert [T.to_text(r.rdtype) for r in res.answer] == ["DNAME", "CNAME"]
    assert ("www.t.ex.", "A") in [(q, t) for _, q, t in transport.questions()]


BAD = "127.9.2.66"  # the child's own address for its nameserver: always SERVFAIL
GOOD = "127.9.2.44"  # the parent's glue for it: works


def pside_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """zone.ex. is served by ns.other.ex.; the parent (ex.) glue for ns.other.ex. is GOOD,
    but other.ex.'s own answer says BAD, which is broken (Deckard's iter_pcnamerec shape)."""
    q = query.question[0]
    name = q.name.to_text().lower()
    if address == ROOT:
        return to_ex(query)
    if address == TLD:
        if name.endswith("other.ex."):
            return reply(query, aa=False, authority=("other.ex. 3600 NS ns.other.ex.",),
                         additional=(f"ns.other.ex. 3600 A {GOOD}",))
        if name.endswith("zone.ex."):
            return reply(query, aa=False, authority=("zone.ex. 3600 NS ns.other.ex.",))
        return reply(query, authority=("ex. 300 SOA ns.ex. host.ex. 1 2 3 4 300",))
    if address == BAD:
        return reply(query, aa=False, rcode=dns.rcode.SERVFAIL)
    if name == "ns.other.ex." and q.rdtype == T.A:
        return reply(query, answer=(f"ns.other.ex. 3600 A {BAD}",))
    if name.endswith("zone.ex.") and q.rdtype == T.A:
        return reply(query, answer=(f"{name} 300 A 127.100.0.5",))
    return reply(query, authority=("other.ex. 300 SOA ns.other.ex. h.other.ex. 1 2 3 4 300",))


async def test_parent_side_glue_is_the_last_resort_for_later_client_queries() -> None:
    recursor, conductor, transport, _ = make(pside_world, qmin=False)
    first = await resolve(recursor, conductor, "www.zone.ex.")
    assert [rd.address for r in first.answer for rd in r] == ["127.100.0.5"]
    # the cache now holds the child's (broken) address for ns.other.ex.
    assert recursor.cache.rrsets.get(dns.name.from_text("ns.other.ex."), T.A, 0.0) is not None
    before = len(transport.sent)
    second = await resolve(recursor, conductor, "mail.zone.ex.")
    assert second.rcode == dns.rcode.NOERROR
    assert [rd.address for r in second.answer for rd in r] == ["127.100.0.5"]
    later = [(a, q) for a, q, _ in transport.questions()[before:]]
    # the child's address first (it fails), then the parent-side glue kept in the cache
    assert later[0] == (BAD, "mail.zone.ex.") and later[-1] == (GOOD, "mail.zone.ex.")
    assert {a for a, _ in later} == {BAD, GOOD}


def rrsig_world(query: dns.message.Message, address: str) -> dns.message.Message:
    if address == ROOT:
        return to_ex(query)
    sig = "{} 10 1 300 20301221212655 20201208120941 37310 ex. ZsKG0TImVm+nAuWvn+Kg"
    return reply(query, answer=("www.ex. 300 A 127.100.0.7",
                                "www.ex. 300 RRSIG " + sig.format("A"),
                                "www.ex. 300 RRSIG " + sig.format("TXT")))


async def test_qtype_rrsig_answers_every_signature_and_caches_none() -> None:
    recursor, conductor, transport, _ = make(rrsig_world, qmin=False)
    res = await resolve(recursor, conductor, "www.ex.", "RRSIG")
    assert res.rcode == dns.rcode.NOERROR
    assert sorted(T.to_text(r.covers) for r in res.answer if r.rdtype == T.RRSIG) == ["A", "TXT"]
    assert all(r.rdtype == T.RRSIG for r in res.answer)
    # not cached: the signatures were never checked, so the next question goes out again
    before = len(transport.sent)
    await resolve(recursor, conductor, "www.ex.", "RRSIG")
    assert len(transport.sent) == before + 1


SUB = "127.9.2.77"  # the server of sub.ex.


def dname_above_zone_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """sub.ex.'s server answers x.sub.ex. with a DNAME owned by ex. (above its zone) that
    maps ex. to z.sub.ex. - a name the same DNAME would rewrite again and again."""
    q = query.question[0]
    name = q.name.to_text().lower()
    if address == ROOT:
        return to_ex(query)
    if address == TLD:
        return reply(query, aa=False, authority=("sub.ex. 3600 NS ns.sub.ex.",),
                     additional=(f"ns.sub.ex. 3600 A {SUB}",))
    if name == "x.sub.ex." and q.rdtype == T.A:
        return reply(query, answer=("ex. 300 DNAME z.sub.ex.",),
                     authority=("sub.ex. 3600 NS ns.sub.ex.",))
    return reply(query, authority=("sub.ex. 300 SOA ns.sub.ex. h.sub.ex. 1 2 3 4 300",))


async def test_a_dname_owned_above_the_servers_zone_is_not_believed() -> None:
    """RFC 2181 §5.4.1: data outside the answering server's zone is out of bailiwick; a
    DNAME at ex. from sub.ex.'s server redirects nothing (Unbound scrubs it), so the answer
    is NODATA, not a chain of ever longer synthesised names."""
    recursor, conductor, _, _ = make(dname_above_zone_world, qmin=False)
    res = await resolve(recursor, conductor, "x.sub.ex.", "A")
    assert res.rcode == dns.rcode.NOERROR
    assert res.answer == []


def glueless_in_zone_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """ex.'s server delegates sub.ex. to ns.sub.ex. without glue, but answers the address
    of ns.sub.ex. itself when asked (Unbound's testdata fetch_glue shape)."""
    q = query.question[0]
    name = q.name.to_text().lower()
    if address == ROOT:
        return to_ex(query)
    if address == TLD:
        if name == "ns.sub.ex." and q.rdtype == T.A:
            return reply(query, answer=(f"ns.sub.ex. 3600 A {SUB}",))
        return reply(query, aa=False, authority=("sub.ex. 3600 NS ns.sub.ex.",))
    if name == "www.sub.ex." and q.rdtype == T.A:
        return reply(query, answer=("www.sub.ex. 300 A 127.100.0.9",))
    return reply(query, authority=("sub.ex. 300 SOA ns.sub.ex. h.sub.ex. 1 2 3 4 300",))


@pytest.mark.parametrize("qmin", [True, False])
async def test_a_delegation_to_in_zone_names_without_glue_asks_the_parent(qmin: bool) -> None:
    """Every NS of sub.ex. is inside sub.ex. and no address came: the cut is useless
    (Unbound's iter_dp_is_useless), so the address of ns.sub.ex. is asked of the parent."""
    recursor, conductor, transport, _ = make(glueless_in_zone_world, qmin=qmin)
    res = await resolve(recursor, conductor, "www.sub.ex.", "A")
    assert res.rcode == dns.rcode.NOERROR
    assert [rd.address for r in res.answer for rd in r] == ["127.100.0.9"]
    assert ("ns.sub.ex.", "A") in [(q, t) for _, q, t in transport.questions()]


def bare_nodata_world(ra: bool) -> Callable[[dns.message.Message, str], dns.message.Message]:
    """sub.ex.'s server answers www.sub.ex. MX with an empty NOERROR: no AA, no SOA, no NS
    (RFC 2308 §2.2 NODATA type 3); with ``ra`` it also sets RA, as a recursive server
    with nothing cached would."""
    def world(query: dns.message.Message, address: str) -> dns.message.Message:
        q = query.question[0]
        if address == ROOT:
            return to_ex(query)
        if address == TLD:
            return reply(query, aa=False, authority=("sub.ex. 3600 NS ns.sub.ex.",),
                         additional=(f"ns.sub.ex. 3600 A {SUB}",))
        if q.rdtype == T.MX:
            r = reply(query, aa=False)
            if ra:
                r.flags |= dns.flags.RA
            return r
        return reply(query, authority=("sub.ex. 300 SOA ns.sub.ex. h.sub.ex. 1 2 3 4 300",))
    return world


async def test_an_empty_answer_without_aa_is_nodata_unless_it_looks_recursive() -> None:
    """Unbound's response_type_from_server: an empty NOERROR is an answer (NODATA), lame
    only with RA and without AA (or when it was an upward referral, iter_lamescrub)."""
    recursor, conductor, _, _ = make(bare_nodata_world(ra=False), qmin=False)
    res = await resolve(recursor, conductor, "www.sub.ex.", "MX")
    assert (res.rcode, res.answer) == (dns.rcode.NOERROR, [])
    recursor, conductor, _, _ = make(bare_nodata_world(ra=True), qmin=False)
    assert (await resolve(recursor, conductor, "www.sub.ex.", "MX")).rcode == dns.rcode.SERVFAIL


def any_world(query: dns.message.Message, address: str) -> dns.message.Message:
    q = query.question[0]
    if address == ROOT:
        return to_ex(query)
    if q.name == dns.name.from_text("www.ex.") and q.rdtype == T.ANY:
        return reply(query, answer=("www.ex. 300 MX 10 mail.ex.", "www.ex. 300 A 127.100.0.7",
                                    "www.ex. 300 AAAA ::7"))
    return reply(query, authority=("ex. 300 SOA ns.ex. h.ex. 1 2 3 4 300",))


async def test_any_is_answered_with_every_rrset_of_the_name() -> None:
    """QTYPE * matches all types (RFC 1035 §3.2.3): the RRsets the server gives are the
    answer, not a NODATA for a type called ANY."""
    recursor, conductor, _, _ = make(any_world, qmin=False)
    res = await resolve(recursor, conductor, "www.ex.", "ANY")
    assert res.rcode == dns.rcode.NOERROR
    assert sorted(T.to_text(r.rdtype) for r in res.answer) == ["A", "AAAA", "MX"]


def glue_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """ex.'s referral gives ns.ex. one address (glue); ns.ex. itself says it has two, and
    ex.'s own NS RRset names a second server."""
    q = query.question[0]
    if address == ROOT:
        return to_ex(query)
    if q.name == dns.name.from_text("ns.ex.") and q.rdtype == T.A:
        return reply(query, answer=("ns.ex. 300 A " + TLD, "ns.ex. 300 A 127.100.0.9"))
    if q.name == dns.name.from_text("ex.") and q.rdtype == T.NS:
        return reply(query, answer=("ex. 300 NS ns.ex.", "ex. 300 NS ns2.ex."))
    return reply(query, answer=(f"{q.name} 300 A 127.100.0.7",))


async def test_glue_and_a_referral_s_ns_set_are_no_answer_to_a_client() -> None:
    """RFC 2181 §5.4.1: glue and the authority section of a referral "should not be cached
    in such a way that they would ever be returned as answers": asked for, those names are
    asked of their zone, whose authoritative RRsets are the answer."""
    recursor, conductor, transport, _ = make(glue_world, qmin=False)
    await resolve(recursor, conductor, "www.ex.")
    before = len(transport.sent)
    res = await resolve(recursor, conductor, "ns.ex.")
    assert addresses(res) == {TLD, "127.100.0.9"}
    res = await resolve(recursor, conductor, "ex.", "NS")
    assert sorted(rd.target.to_text() for rd in res.answer[0]) == ["ns.ex.", "ns2.ex."]
    assert len(transport.sent) == before + 2
    # the authoritative answers are cached answers now: asked again, nothing is sent
    await resolve(recursor, conductor, "ns.ex.")
    await resolve(recursor, conductor, "ex.", "NS")
    assert len(transport.sent) == before + 2


CHILD = "127.100.0.20"


def ns_in_answer_world(parent_aa: bool) -> Callable[[dns.message.Message, str],
                                                    dns.message.Message]:
    """ex.'s server answers child.ex.'s NS question with child.ex.'s NS RRset in the answer
    section (AA as given); child.ex.'s own server has a larger NS RRset."""
    def world(query: dns.message.Message, address: str) -> dns.message.Message:
        if address == ROOT:
            return to_ex(query)
        if address == TLD:
            return reply(query, aa=parent_aa, answer=("child.ex. 3600 NS ns.child.ex.",),
                         additional=(f"ns.child.ex. 3600 A {CHILD}",))
        return reply(query, answer=("child.ex. 300 NS ns.child.ex.",
                                    "child.ex. 300 NS ns2.child.ex."))
    return world


@pytest.mark.parametrize(("parent_aa", "expected"), [
    (False, ["ns.child.ex.", "ns2.child.ex."]),  # a referral: the child is asked
    (True, ["ns.child.ex."]),  # an authoritative answer is the answer
])
async def test_ns_in_the_answer_section_without_aa_is_a_referral(
    parent_aa: bool, expected: list[str]
) -> None:
    """Unbound's iter_resptype.c: an NS question answered by the parent with the child's NS
    RRset in the answer section but without AA is a referral "where the NS went to AN
    section"; the child's authoritative NS RRset is the answer (RFC 2181 §5.4.1)."""
    recursor, conductor, transport, _ = make(ns_in_answer_world(parent_aa), qmin=False)
    res = await resolve(recursor, conductor, "child.ex.", "NS")
    assert res.rcode == dns.rcode.NOERROR
    assert sorted(rd.target.to_text() for rd in res.answer[0]) == expected
    assert (CHILD in {addr for addr, _, _ in transport.questions()}) is not parent_aa


def chain_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """c0.ex. -> c1.ex. -> ... each a CNAME to the next; c99.ex. ends every chain."""
    if address == ROOT:
        return to_ex(query)
    name = query.question[0].name.to_text()
    number = int(name.split(".")[0][1:])
    if number >= 99:
        return reply(query, answer=(f"{name} 300 A 127.100.0.7",))
    return reply(query, answer=(f"{name} 300 CNAME c{number + 1}.ex.",))


@pytest.mark.parametrize(("restarts", "start", "rcode"), [
    (11, 88, dns.rcode.NOERROR),  # 11 CNAMEs: Unbound's default max-query-restarts
    (11, 87, dns.rcode.SERVFAIL),  # 12 CNAMEs: one too many
    (3, 96, dns.rcode.NOERROR),
    (3, 95, dns.rcode.SERVFAIL),
])
async def test_a_cname_chain_longer_than_max_query_restarts_is_servfail(
    restarts: int, start: int, rcode: int
) -> None:
    """unbound.conf(5) max-query-restarts: "If a query encounters more than the specified
    number of CNAME records before resolving, Unbound will reply with SERVFAIL"."""
    recursor, conductor, _, _ = make(chain_world, qmin=False)
    recursor.config = dataclasses.replace(recursor.config, max_query_restarts=restarts)
    res = await resolve(recursor, conductor, f"c{start}.ex.")
    assert res.rcode == rcode
    if rcode == dns.rcode.NOERROR:
        assert len(res.answer) == 100 - start


def ttl0_referral_world(query: dns.message.Message, address: str) -> dns.message.Message:
    if address == ROOT:
        return reply(query, aa=False, authority=("ex. 0 NS ns.ex.",),
                     additional=("ns.ex. 0 A " + TLD,))
    return reply(query, answer=(f"{query.question[0].name} 300 A 127.100.0.7",))


async def test_a_referral_with_ttl_zero_is_used_for_the_query_in_progress() -> None:
    """RFC 1035 §3.2.1: TTL 0 data "can only be used for the transaction in progress": the
    referral's glue (not cached) still takes the query to the child, nothing else is
    asked; the next query gets the referral again."""
    recursor, conductor, transport, _ = make(ttl0_referral_world, qmin=False)
    for name in ("www.ex.", "mail.ex."):
        res = await resolve(recursor, conductor, name)
        assert addresses(res) == {"127.100.0.7"}
    assert [(a, q) for a, q, _ in transport.questions()] == [
        (ROOT, "www.ex."), (TLD, "www.ex."), (ROOT, "mail.ex."), (TLD, "mail.ex.")]


@pytest.mark.parametrize("klass", ["CH", "HS", "NONE"])
async def test_a_question_of_a_class_without_hints_is_refused_unasked(klass: str) -> None:
    """Root hints are class IN: a CH question has no servers to start from and is REFUSED
    (Unbound: "Cannot prime due to lack of hints"), never asked of the IN servers."""
    recursor, conductor, transport, _ = make(any_world, qmin=False)
    request = Request(dns.name.from_text("www.ex."), T.TXT,
                      qclass=dns.rdataclass.from_text(klass))
    res = await recursor.resolve(request, conductor)
    assert res.rcode == dns.rcode.REFUSED and res.answer == []
    assert transport.sent == []
    # class IN and ANY are still resolved
    assert (await resolve(recursor, conductor, "www.ex.", "ANY")).rcode == dns.rcode.NOERROR
    any_class = Request(dns.name.from_text("www.ex."), T.ANY, qclass=dns.rdataclass.ANY)
    assert (await recursor.resolve(any_class, conductor)).rcode == dns.rcode.NOERROR


def test_insecure_cuts_are_read_from_nsec_and_nsec3_type_maps() -> None:
    n = dns.name.from_text
    nsec = dns.rrset.from_text("unsafe.ex.", 300, "IN", "NSEC", "v.ex. NS RRSIG NSEC")
    signed_cut = dns.rrset.from_text("safe.ex.", 300, "IN", "NSEC", "t.ex. NS DS RRSIG NSEC")
    assert insecure_cuts(n("www.unsafe.ex."), [nsec, signed_cut]) == [n("unsafe.ex.")]
    assert insecure_cuts(n("www.safe.ex."), [nsec, signed_cut]) == []
    hashed = dns.dnssec.nsec3_hash(n("sub.ex."), "", 1, 1).lower()
    nsec3 = dns.rrset.from_text(f"{hashed}.ex.", 300, "IN", "NSEC3", f"1 0 1 - {hashed} NS")
    assert insecure_cuts(n("a.sub.ex."), [nsec3]) == [n("sub.ex.")]
    apex = dns.rrset.from_text(f"{hashed}.ex.", 300, "IN", "NSEC3", f"1 0 1 - {hashed} NS SOA")
    assert insecure_cuts(n("a.sub.ex."), [apex]) == []


def cname_to_unsigned_world(query: dns.message.Message, address: str) -> dns.message.Message:
    q = query.question[0]
    if address == ROOT:
        return to_ex(query)
    if q.name == dns.name.from_text("www.ex."):
        return reply(query, answer=("www.ex. 300 CNAME www.unsafe.ex.",),
                     authority=("unsafe.ex. 300 NSEC v.ex. NS RRSIG NSEC",))
    return reply(query, authority=("ex. 300 SOA ns.ex. h.ex. 1 2 3 4 300",))


async def test_a_cname_answer_s_proof_of_an_unsigned_delegation_is_kept_as_its_ds_denial() -> None:
    """Unbound keeps the NSEC records of a response and answers a later DS question from
    them; the candidate keeps them as the cut's DS denial (checked by the validator)."""
    recursor, conductor, _, clock = make(cname_to_unsigned_world, qmin=False)
    await resolve(recursor, conductor, "www.ex.", "A")
    denial = recursor.cache.negative.get(dns.name.from_text("unsafe.ex."), T.DS, clock.monotonic())
    assert denial is not None and denial.soa is None
    assert [r.rdtype for r in denial.proofs] == [T.NSEC]


async def test_a_forwarded_cname_answer_keeps_its_denial_records() -> None:
    """Forwarding takes the NSEC/NSEC3 of a positive answer's authority along, as iterating
    does (a wildcard's proof, an unsigned delegation's): without them the validator cannot
    check the answer."""
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: cname_to_unsigned_world(q, TLD))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, forwarders=(TLD,)))
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert [T.to_text(r.rdtype) for r in res.authority if r.name == dns.name.from_text("unsafe.ex.")
            ] == ["NSEC"]


async def test_a_cached_cname_does_not_answer_a_ds_question() -> None:
    """Unbound's dns_cache_lookup skips a cached CNAME for DS (which belongs to the parent
    side of the name): the DS question is asked, not answered with the CNAME's target."""
    recursor, conductor, transport, _ = make(cname_to_unsigned_world, qmin=False)
    await resolve(recursor, conductor, "www.ex.", "A")
    before = len(transport.sent)
    await resolve(recursor, conductor, "www.ex.", "DS")
    assert ("www.ex.", "DS") in [(q, t) for _, q, t in transport.questions()[before:]]


def misplaced_sig_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """The server of ex. puts the answer's RRSIG in the additional section and another
    name's RRSIG in the answer section (Unbound's testdata iter_emptydp shape)."""
    if address == ROOT:
        return to_ex(query)
    sig = "A 8 2 300 20300101000000 20200101000000 1 ex. AAAA"
    return reply(query, answer=("www.ex. 300 A 127.100.0.8", f"ns.ex. 300 RRSIG {sig}"),
                 additional=(f"ns.ex. 300 A {TLD}", f"www.ex. 300 RRSIG {sig}"))


async def test_a_signature_in_another_section_goes_with_the_rrset_it_covers() -> None:
    recursor, conductor, _, _ = make(misplaced_sig_world, qmin=False)
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in res.answer] == [
        ("www.ex.", "A"), ("www.ex.", "RRSIG"),
    ]


def chatty_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """ex.'s server sends its NS RRset and address beside every positive answer."""
    q = query.question[0]
    if address == ROOT:
        return to_ex(query)
    if q.name == dns.name.from_text("www.ex.") and q.rdtype == T.A:
        return reply(query, answer=("www.ex. 300 A 127.100.0.9",),
                     authority=("ex. 3600 NS ns.ex.",), additional=(f"ns.ex. 3600 A {TLD}",))
    if q.name == dns.name.from_text("bare.ex."):
        # a NODATA without SOA: the zone's NS RRset and address only
        return reply(query, authority=("ex. 3600 NS ns.ex.",),
                     additional=(f"ns.ex. 3600 A {TLD}",))
    return reply(query, rcode=dns.rcode.NXDOMAIN,
                 authority=("ex. 300 SOA ns.ex. h.ex. 1 2 3 4 300",))


@pytest.mark.parametrize("minimal", [True, False])
async def test_non_minimal_responses_carry_what_the_server_sent_beside_the_answer(
    minimal: bool,
) -> None:
    """Unbound's minimal-responses: no copies a positive answer's NS RRset and addresses
    into the reply, and a NODATA without SOA's (Unbound replies with the scrubbed upstream
    message); NXDOMAIN with its SOA and the default (minimal) reply do not."""
    recursor, conductor, _, _ = make(chatty_world, qmin=False)
    answerer = ResolverAnswerer(recursor, conductor, minimal_responses=minimal)

    async def ask(name: str) -> dns.message.Message:
        query = dns.message.make_query(name, "A")
        return await answerer.answer(Request(dns.name.from_text(name), T.A), query)

    out = await ask("www.ex.")
    got = [(r.name.to_text(), T.to_text(r.rdtype)) for r in out.authority + out.additional]
    assert got == ([] if minimal else [("ex.", "NS"), ("ns.ex.", "A")])
    nx = await ask("nope.ex.")
    assert [T.to_text(r.rdtype) for r in nx.authority] == ["SOA"] and not nx.additional
    bare = await ask("bare.ex.")
    got = [(r.name.to_text(), T.to_text(r.rdtype)) for r in bare.authority + bare.additional]
    assert bare.rcode() == dns.rcode.NOERROR and not bare.answer
    assert got == ([] if minimal else [("ex.", "NS"), ("ns.ex.", "A")])


async def test_ttls_are_kept_inside_the_configured_bounds() -> None:
    """Unbound's cache-max-ttl / cache-min-ttl / cache-max-negative-ttl: answers (and what
    is cached) carry TTLs inside the bounds."""
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024, max_negative_ttl=7)
    transport = MockTransport(lambda addr, q, tcp: chatty_world(q, addr))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    config = RecursorConfig(qname_minimisation=False, cache_max_ttl=10,
                            cache_max_negative_ttl=7)
    recursor = Recursor(cache, (("a.root.", ROOT),), clock, config)
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert [r.ttl for r in res.answer] == [10]
    assert {r.ttl for r in res.extra_authority + res.extra_additional} == {10}
    nx = await resolve(recursor, conductor, "nope.ex.", "A")
    assert [r.ttl for r in nx.authority] == [7]
    clock.advance(11)
    before = len(transport.sent)
    await resolve(recursor, conductor, "www.ex.", "A")
    assert len(transport.sent) > before  # expired after 10 s, not 300
    recursor = Recursor(DnsCache(8 * 1024 * 1024), (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, cache_min_ttl=900))
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert [r.ttl for r in res.answer] == [900]
    # cache-max-ttl bounds a negative answer too, below cache-max-negative-ttl (rdata_copy)
    cache = DnsCache(8 * 1024 * 1024, max_negative_ttl=3600, max_ttl=5)
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, cache_max_ttl=5))
    nx = await resolve(recursor, conductor, "nope.ex.", "A")
    assert [r.ttl for r in nx.authority] == [5]
    clock.advance(6)
    before = len(transport.sent)
    await resolve(recursor, conductor, "nope.ex.", "A")
    assert len(transport.sent) > before  # the NXDOMAIN expired after 5 s


async def test_a_cached_answer_keeps_its_extras_when_asked_to() -> None:
    """keep_extras (for non-minimal responses): an answer from the cache carries what the
    server sent beside it, its TTLs lowered by the time since, as Unbound's message cache
    gives the whole reply back."""
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: chatty_world(q, addr))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, keep_extras=True))
    await resolve(recursor, conductor, "www.ex.", "A")
    clock.advance(100)
    before = len(transport.sent)
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert len(transport.sent) == before  # from the cache
    assert [(r.name.to_text(), r.ttl) for r in res.extra_authority + res.extra_additional] == [
        ("ex.", 3500), ("ns.ex.", 3500),
    ]


def mail_world(query: dns.message.Message, address: str) -> dns.message.Message:
    """ex.'s server answers an MX with its exchange's address beside it, an A with the
    same address record repeated in the additional section, and its NS RRset."""
    q = query.question[0]
    if address == ROOT:
        return to_ex(query)
    if q.name == dns.name.from_text("ex.") and q.rdtype == T.NS:
        return reply(query, answer=("ex. 3600 NS ns.ex.",), additional=(f"ns.ex. 3600 A {TLD}",))
    if q.rdtype == T.MX:
        return reply(query, answer=("ex. 300 MX 10 mail.ex.",),
                     authority=("ex. 3600 NS ns.ex.",),
                     additional=("mail.ex. 300 A 127.100.0.25", "other.ex. 300 A 127.6.6.6"))
    return reply(query, answer=("mail.ex. 300 A 127.100.0.25",),
                 authority=("ex. 3600 NS ns.ex.",), additional=("mail.ex. 300 A 127.100.0.25",))


async def test_extras_follow_additional_section_processing() -> None:
    """Non-minimal replies: an MX exchange's address is additional data (RFC 1035 §3.3.9;
    an unrelated address is scrubbed), an RRset in the answer is not repeated in the
    additional section, and with minimal replies an answer to NS keeps its addresses when
    asked (Unbound's positive_answer exception for NS)."""
    recursor, conductor, _, _ = make(mail_world, qmin=False)
    answerer = ResolverAnswerer(recursor, conductor, minimal_responses=False)

    async def ask(name: str, qtype: str, on: ResolverAnswerer = answerer) -> dns.message.Message:
        query = dns.message.make_query(name, qtype)
        return await on.answer(Request(dns.name.from_text(name), T.from_text(qtype)), query)

    mx = await ask("ex.", "MX")
    assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in mx.additional] == [
        ("mail.ex.", "A")]
    a = await ask("mail.ex.", "A")
    assert a.answer and not a.additional
    recursor.config.keep_extras = True  # (as the testbound candidate has it with these)
    for minimal_ns, expected in ((True, []), (False, [("ns.ex.", "A")])):
        minimal = ResolverAnswerer(recursor, conductor, minimal_responses=True,
                                   minimal_ns_answers=minimal_ns)
        ns = await ask("ex.", "NS", minimal)
        assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in ns.additional] == expected


async def test_a_cached_ns_answer_carries_its_servers_cached_addresses() -> None:
    """An NS RRset known from a referral, asked for: with keep_extras its servers' cached
    addresses (the referral's glue) are its additional data."""
    recursor, conductor, transport, _ = make(mail_world, qmin=False)
    recursor.config.keep_extras = True
    await resolve(recursor, conductor, "mail.ex.", "A")  # the referral caches ex. NS + glue
    before = len(transport.sent)
    res = await resolve(recursor, conductor, "ex.", "NS")
    assert len(transport.sent) == before  # answered from the cache
    assert [(r.name.to_text(), T.to_text(r.rdtype)) for r in res.extra_additional] == [
        ("ns.ex.", "A")]


@pytest.mark.parametrize("no_cache", [False, True])
async def test_forward_no_cache_asks_the_forwarder_every_time(no_cache: bool) -> None:
    """unbound.conf(5) forward-no-cache: "data inside the forward is not cached": a second
    question goes to the forwarder again, and nothing of the answer is stored."""
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: cname_to_unsigned_world(q, TLD))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    zone = ConfiguredZone(dns.name.from_text("ex."), True, (TLD,), no_cache=no_cache)
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, zones=(zone,)))
    for _ in range(2):
        res = await resolve(recursor, conductor, "www.ex.", "A")
        assert res.answer
    asked = [q for _, q, _ in transport.questions() if q == "www.ex."]
    assert len(asked) == (2 if no_cache else 1)
    cached = cache.rrsets.get(dns.name.from_text("www.ex."), T.CNAME, clock.monotonic())
    assert (cached is None) == no_cache


async def test_a_forwarders_referral_is_the_answer() -> None:
    """Unbound's processQueryResponse: "When forwarding (RD bit is set), we handle
    referrals differently.  No queries should be sent elsewhere": NOERROR, no data, and
    the servers the referral names are never asked."""
    def forwarder(query: dns.message.Message) -> dns.message.Message:
        return reply(query, aa=False, authority=("ex. 3600 NS ns.ex.",),
                     additional=("ns.ex. 3600 A 127.9.9.9",))

    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: forwarder(q))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, forwarders=(TLD,)))
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert res.rcode == dns.rcode.NOERROR and not res.answer
    assert {s.address for s in transport.sent} == {TLD}


@pytest.mark.parametrize("do_ip6", [False, True])
async def test_a_configured_server_of_an_unused_family_is_not_asked(do_ip6: bool) -> None:
    """unbound.conf(5) do-ip6: no: "Unbound does not use IPv6 to send queries", to the
    forwarders of a forward zone too."""
    clock = ManualClock()
    cache = DnsCache(8 * 1024 * 1024)
    transport = MockTransport(lambda addr, q, tcp: cname_to_unsigned_world(q, TLD))
    conductor = Conductor(transport, cache.infra, clock, random.Random(7))
    zone = ConfiguredZone(dns.name.from_text("ex."), True, ("2001:db8::53",))
    recursor = Recursor(cache, (("a.root.", ROOT),), clock,
                        RecursorConfig(qname_minimisation=False, zones=(zone,), do_ip6=do_ip6))
    res = await resolve(recursor, conductor, "www.ex.", "A")
    assert bool(res.answer) == do_ip6
    assert ("2001:db8::53" in {s.address for s in transport.sent}) == do_ip6
