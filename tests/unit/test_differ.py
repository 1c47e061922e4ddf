"""The differ piece by piece: fast path, comparison, each normaliser (its noise explained, the
real difference of the same shape not), category priority, DNSSEC outcomes, and the
confirmation flow against a fake Requery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.differ import (
    PRIORITY,
    Differ,
    DifferConfig,
    Knowledge,
    Outcome,
    Pair,
    compare,
    dnssec_category,
    dnssec_outcome,
    domain_of,
    normalise,
    parse,
    primary,
    registered_domain,
)
from harness.differ.classify import rank
from harness.differ.compare import Difference
from harness.differ.normalise import (
    DEFAULT_NORMALISERS,
    Case,
    Cdn,
    Geo,
    Order,
    Pool,
    Resign,
    TcOnly,
    Ttl,
)
from harness.differ.wire import Layouts, walk
from harness.evidence import Confirmation, DnssecOutcomes, Evidence, FloorEntry
from harness.records import Observation, Query, TargetAnswer, Verdict, VerdictKind

A = dns.rdatatype.A


def resp(qname: str = "www.example.", qtype: str = "A", *, answer: Sequence[str] = (),
         authority: Sequence[str] = (), additional: Sequence[str] = (),
         rcode: int = dns.rcode.NOERROR, ad: bool = False, aa: bool = False,
         do: bool = True, edns: bool = True, payload: int = 1232,
         ede: Sequence[int] = (), qid: int = 1) -> bytes:
    """A response as a resolver would send it; records as 'owner ttl type rdata...'."""
    q = dns.message.make_query(qname, qtype, use_edns=True, want_dnssec=do, payload=payload)
    r = dns.message.make_response(q, our_payload=payload)
    r.id = qid
    r.flags |= dns.flags.RA
    if ad:
        r.flags |= dns.flags.AD
    if aa:
        r.flags |= dns.flags.AA
    r.set_rcode(dns.rcode.Rcode(rcode))
    for section, texts in ((r.answer, answer), (r.authority, authority),
                           (r.additional, additional)):
        for text in texts:
            owner, ttl, rdtype, rdata = text.split(maxsplit=3)
            rdatas = [rdata] if rdtype in ("RRSIG", "TXT") else rdata.split(",")
            rrset = dns.rrset.from_text(owner, int(ttl), "IN", rdtype, *rdatas)
            existing = [x for x in section if x.name == rrset.name and x.rdtype == rrset.rdtype
                        and x.covers == rrset.covers]
            if existing:
                existing[0].union_update(rrset)
            else:
                section.append(rrset)
    if ede:
        r.use_edns(0, dns.flags.DO if do else 0, payload,
                   options=[dns.edns.EDEOption(dns.edns.EDECode(c)) for c in ede])
    if do:
        r.ednsflags |= dns.flags.DO
    if not edns:
        r.use_edns(False)
    return r.to_wire(want_shuffle=False)


def sig(covers: str, owner: str = "www.example.", ttl: int = 300, orig: int = 300,
        inception: str = "20200101000000") -> str:
    return (f"{owner} {ttl} RRSIG {covers} 8 2 {orig} 20300101000000 {inception} 4242 "
            "example. c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVieXRlcw==")


def diffs(cand: bytes, ref: bytes, asked: bool = True) -> list[Difference]:
    return compare(parse(cand), parse(ref), asked_dnssec=asked)


def cats(ds: Sequence[Difference]) -> set[str]:
    return {d.category for d in ds}


def explain(cand: bytes, ref: bytes, k: Knowledge | None = None,
            normaliser: object | None = None) -> tuple[list[Difference], list[Difference]]:
    """(all differences, those left unexplained) — with one normaliser or all of them."""
    k = k or Knowledge()
    pair = Pair(parse(cand), parse(ref), k)
    ds = compare(pair.candidate, pair.reference)
    result = normalise(pair, ds, None if normaliser is None else [normaliser])  # type: ignore[list-item]
    return ds, result.remaining


# -- fast path ---------------------------------------------------------------------------------


def test_walk_finds_every_ttl_but_opts() -> None:
    wire = resp(answer=["www.example. 300 A 192.0.2.1,192.0.2.2", sig("A")])
    w = walk(wire)
    assert w is not None and len(w.ttl_offsets) == 3  # two A, one RRSIG; OPT skipped
    assert all(int.from_bytes(wire[o:o + 4]) == 300 for o in w.ttl_offsets)
    assert walk(wire[:-1]) is None and walk(wire + b"\0") is None and walk(b"\0" * 5) is None


def test_fast_path_masks_id_and_decayed_ttls_only() -> None:
    lay = Layouts()
    ref = resp(answer=["www.example. 300 A 192.0.2.1"], qid=1)
    assert lay.fast_equal(resp(answer=["www.example. 120 A 192.0.2.1"], qid=2), ref)
    # a candidate TTL above anything the reference showed for this layout: slow path
    assert not lay.fast_equal(resp(answer=["www.example. 301 A 192.0.2.1"]), ref)
    # ... but within what the reference once showed, equal
    lay.fast_equal(ref, resp(answer=["www.example. 300 A 192.0.2.1"]))
    decayed_ref = resp(answer=["www.example. 100 A 192.0.2.1"])
    assert lay.fast_equal(resp(answer=["www.example. 250 A 192.0.2.1"]), decayed_ref)
    # anything else that differs is not masked
    assert not lay.fast_equal(resp(answer=["www.example. 300 A 192.0.2.9"]), ref)
    assert not lay.fast_equal(resp(answer=["www.example. 300 A 192.0.2.1"], ad=True), ref)
    assert not lay.fast_equal(resp(answer=["www.example. 300 A 192.0.2.1"], do=False), ref)
    assert not lay.fast_equal(resp("WWW.example.", answer=["www.example. 300 A 192.0.2.1"]),
                              ref)


def test_fast_path_keeps_reference_answers_to_learn_from_later() -> None:
    lay = Layouts()
    ref = resp(answer=["www.example. 200 A 192.0.2.1"])
    lay.fast_equal(ref, ref)
    lay.fast_equal(resp(answer=["www.example. 300 A 192.0.2.1"]),
                   resp(answer=["www.example. 300 A 192.0.2.1"]))
    pending = lay.pending(resp("WwW.example."))  # any 0x20 spelling of the question
    assert len(pending) == 1
    assert parse(pending[0][0]).sections["answer"][("www.example.", A, 0)].ttl == 300
    assert lay.pending(resp()) == []  # handed out once


# -- comparison --------------------------------------------------------------------------------


def test_identical_answers_have_no_differences() -> None:
    wire = resp(answer=["www.example. 300 A 192.0.2.1", sig("A")])
    assert diffs(wire, wire) == []


def test_field_by_field() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1"], aa=False)
    assert cats(diffs(resp(rcode=dns.rcode.NXDOMAIN), ref)) >= {"rcode", "answer.data"}
    assert cats(diffs(resp(answer=["www.example. 300 A 192.0.2.1"], aa=True), ref)) == \
        {"flags.aa"}
    assert cats(diffs(resp("WWW.example.", answer=["www.example. 300 A 192.0.2.1"]), ref)) \
        >= {"question"}
    assert cats(diffs(resp(answer=["www.example. 300 A 192.0.2.1"], payload=4096), ref)) == \
        {"edns.payload"}
    assert cats(diffs(resp(answer=["www.example. 300 A 192.0.2.1"], edns=False), ref)) == \
        {"edns.presence"}
    assert cats(diffs(resp(answer=["www.example. 300 A 192.0.2.1"],
                           additional=["ns.example. 300 A 192.0.2.53"]), ref)) == \
        {"additional.data"}
    assert cats(diffs(resp(answer=["www.example. 300 A 192.0.2.1"],
                           authority=["example. 300 NS ns.example."]), ref)) == \
        {"authority.data"}


def test_rrsigs_by_identity_then_bytes() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1", sig("A")])
    stripped = resp(answer=["www.example. 300 A 192.0.2.1"])
    resigned = resp(answer=["www.example. 300 A 192.0.2.1",
                            sig("A", inception="20210101000000")])
    assert cats(diffs(stripped, ref)) == {"answer.rrsig"}
    assert cats(diffs(resigned, ref)) == {"answer.signature"}


# -- normalisers: the noise, and the real difference of the same shape -------------------------


def test_ttl_decay_explained_raised_ttl_real() -> None:
    ref = resp(answer=["www.example. 200 A 192.0.2.1", sig("A", ttl=200, orig=300)])
    decayed = resp(answer=["www.example. 120 A 192.0.2.1", sig("A", ttl=120, orig=300)])
    fresher = resp(answer=["www.example. 300 A 192.0.2.1", sig("A", ttl=300, orig=300)])
    raised = resp(answer=["www.example. 3900 A 192.0.2.1", sig("A", ttl=300, orig=300)])
    for cand in (decayed, fresher):
        ds, left = explain(cand, ref, normaliser=Ttl())
        assert cats(ds) == {"answer.ttl"} and left == []
    ds, left = explain(raised, ref, normaliser=Ttl())
    assert cats(left) == {"answer.ttl"}
    assert left[0].candidate == 3900


def test_ttl_bound_without_signatures_is_what_the_reference_side_showed() -> None:
    ref = resp(answer=["www.example. 100 A 192.0.2.1"])
    fresher = resp(answer=["www.example. 300 A 192.0.2.1"])
    _, left = explain(fresher, ref, normaliser=Ttl())
    assert cats(left) == {"answer.ttl"}  # nothing says the authority gave 300 yet
    k = Knowledge()
    k.learn(parse(resp(answer=["www.example. 300 A 192.0.2.1"])), "eu")
    _, left = explain(fresher, ref, k, Ttl())
    assert left == []
    _, left = explain(resp(answer=["www.example. 301 A 192.0.2.1"]), ref, k, Ttl())
    assert cats(left) == {"answer.ttl"}


def test_order_explained_but_not_a_cname_after_its_target() -> None:
    ref = resp("alias.example.", answer=["alias.example. 300 CNAME www.example.",
                                         "www.example. 300 A 192.0.2.1,192.0.2.2"])
    permuted = resp("alias.example.", answer=["alias.example. 300 CNAME www.example.",
                                              "www.example. 300 A 192.0.2.2,192.0.2.1"])
    ds, left = explain(permuted, ref, normaliser=Order())
    assert cats(ds) == {"answer.order"} and left == []
    reordered = resp("alias.example.", answer=["www.example. 300 A 192.0.2.1,192.0.2.2",
                                               "alias.example. 300 CNAME www.example."])
    ds, left = explain(reordered, ref)  # every normaliser
    assert "cname.order" in cats(ds)
    assert cats(left) == {"cname.order"}


def test_case_explained_in_owner_names_not_in_the_question() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1"])
    # the owner written out in other case instead of pointing at the question
    cased = ref.replace(b"\xc0\x0c\x00\x01\x00\x01", b"\x03WwW\x07ExAmple\x00\x00\x01\x00\x01")
    assert parse(cased).sections["answer"][("www.example.", A, 0)].owner == "WwW.ExAmple."
    ds, left = explain(cased, ref, normaliser=Case())
    assert cats(ds) == {"answer.case"} and left == []
    ds, left = explain(resp("WWW.example.", answer=["www.example. 300 A 192.0.2.1"]),
                       ref, normaliser=Case())
    assert "question" in cats(left)


def test_resign_explained_missing_signature_not() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1", sig("A")])
    resigned = resp(answer=["www.example. 300 A 192.0.2.1",
                            sig("A", inception="20210101000000")])
    _, left = explain(resigned, ref, normaliser=Resign())
    assert left == []
    _, left = explain(resp(answer=["www.example. 300 A 192.0.2.1"]), ref, normaliser=Resign())
    assert cats(left) == {"answer.rrsig"}


def pool_knowledge(*sets: str, vantage: str = "eu") -> Knowledge:
    k = Knowledge()
    for s in sets:
        k.learn(parse(resp(answer=[f"www.example. 60 A {s}"])), vantage)
    return k


def test_pool_explained_within_learned_pool_outside_real() -> None:
    k = pool_knowledge("192.0.2.1,192.0.2.2", "192.0.2.3,192.0.2.4", "192.0.2.2,192.0.2.5")
    ref = resp(answer=["www.example. 60 A 192.0.2.1,192.0.2.2"])
    within = resp(answer=["www.example. 60 A 192.0.2.4,192.0.2.5"])
    outside = resp(answer=["www.example. 60 A 192.0.2.4,198.51.100.7"])
    dropped = resp(answer=["www.example. 60 A 192.0.2.4"])  # one RR dropped: count never seen
    _, left = explain(within, ref, k, Pool())
    assert left == []
    _, left = explain(outside, ref, k, Pool())
    assert cats(left) == {"answer.data"}
    _, left = explain(dropped, ref, k, Pool())
    assert cats(left) == {"answer.data"}
    # the candidate never teaches: its addresses are not in the pool afterwards
    assert "198.51.100.7" not in k.pool(("www.example.", A, 0))


def test_geo_explained_when_vantages_differ_stably_not_for_a_churning_pool() -> None:
    k = Knowledge()
    for _ in range(2):
        k.learn(parse(resp(answer=["www.example. 300 A 192.0.2.21"])), "eu")
        k.learn(parse(resp(answer=["www.example. 300 A 192.0.2.22"])), "us")
    ref = resp(answer=["www.example. 300 A 192.0.2.21"])
    third_region = resp(answer=["www.example. 300 A 192.0.2.23"])
    _, left = explain(third_region, ref, k, Geo())
    assert left == []
    # other structure (two records where the reference has one): not geo
    _, left = explain(resp(answer=["www.example. 300 A 192.0.2.23,192.0.2.24"]), ref, k, Geo())
    assert cats(left) == {"answer.data"}
    # one sighting per vantage is not enough evidence
    k1 = Knowledge()
    k1.learn(parse(resp(answer=["www.example. 300 A 192.0.2.21"])), "eu")
    k1.learn(parse(resp(answer=["www.example. 300 A 192.0.2.22"])), "us")
    _, left = explain(third_region, ref, k1, Geo())
    assert cats(left) == {"answer.data"}
    # a vantage whose own answers churn over time is a pool, and an unseen address is real
    k.learn(parse(resp(answer=["www.example. 300 A 192.0.2.29"])), "eu")
    _, left = explain(third_region, ref, k, Geo())
    assert cats(left) == {"answer.data"}


CDN_REF = ["shop.example. 300 CNAME shop.eu.edge.cdnprov.net.",
           "shop.eu.edge.cdnprov.net. 20 A 203.0.113.1"]
CDN_CAND = ["shop.example. 300 CNAME shop.ap.edge.cdnprov.net.",
            "shop.ap.edge.cdnprov.net. 20 A 203.0.113.3"]


def test_cdn_chain_to_another_edge_of_the_same_provider_explained_once_confirmed() -> None:
    ref = resp("shop.example.", answer=CDN_REF)
    cand = resp("shop.example.", answer=CDN_CAND)
    k = Knowledge()
    pair = Pair(parse(cand), parse(ref), k)
    result = normalise(pair, compare(pair.candidate, pair.reference), [Cdn()])
    # the chain is explained, but the candidate's edge address waits for the reference's word
    assert result.wants == [("shop.ap.edge.cdnprov.net.", A)]
    assert cats(result.remaining) == {"answer.data"}
    k.learn(parse(resp("shop.ap.edge.cdnprov.net.",
                       answer=["shop.ap.edge.cdnprov.net. 20 A 203.0.113.3"])), "eu")
    _, left = explain(cand, ref, k, Cdn())
    assert left == []
    # the same edge name with an address the reference does not give it: real
    wrong = resp("shop.example.", answer=[CDN_CAND[0],
                                          "shop.ap.edge.cdnprov.net. 20 A 192.0.2.66"])
    _, left = explain(wrong, ref, k, Cdn())
    assert cats(left) == {"answer.data"}


def test_cdn_not_across_registered_domains() -> None:
    ref = resp("shop.example.", answer=CDN_REF)
    other = resp("shop.example.", answer=["shop.example. 300 CNAME shop.evil.example.net.",
                                          "shop.evil.example.net. 20 A 203.0.113.3"])
    _, left = explain(other, ref, normaliser=Cdn())
    assert "cname.chain" in cats(left) and "answer.data" in cats(left)


def test_registered_domain_uses_the_bundled_public_suffix_list() -> None:
    assert registered_domain("e1234.a.akamaiedge.net.") == "akamaiedge.net."
    assert registered_domain("x.Example.CO.UK") == "example.co.uk."
    assert registered_domain("shop.ap.edge.cdnprov.ed.") == "cdnprov.ed."  # unknown TLD: "*"
    assert registered_domain("co.uk.") is None


def test_domain_of_is_always_absolute() -> None:
    """One form everywhere (differ, report, exports): lower case with the trailing dot, the
    name itself where it has no registered domain."""
    assert domain_of("WWW.Example.NET") == "example.net."
    assert domain_of("www.example.net.") == "example.net."
    assert domain_of("lab.") == "lab."
    assert domain_of("co.uk") == "co.uk."
    assert domain_of(".") == "."


# -- priority and DNSSEC -------------------------------------------------------------------------


def test_category_priority() -> None:
    order = ["rcode", "dnssec.secure_insecure", "answer.data", "cname.chain", "flags.aa",
             "authority.data", "additional.data", "edns.payload"]
    assert sorted(reversed(order), key=rank) == order
    assert primary(["edns.do", "flags.ad", "authority.ttl"]) == "flags.ad"
    assert primary(["answer.ttl", "cname.order"]) == "answer.ttl"
    assert primary(["dnssec.ede", "answer.data", "rcode"]) == "rcode"
    assert primary([]) == ""
    assert len(set(PRIORITY)) == len(PRIORITY)


def test_a_query_counts_once_under_its_most_important_category() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1"], ad=True)
    cand = resp(rcode=dns.rcode.NXDOMAIN, answer=[], aa=True, payload=4096)
    ds = diffs(cand, ref)
    assert primary(d.category for d in ds) == "rcode"
    assert {"rcode", "answer.data", "flags.aa", "edns.payload"} <= cats(ds)


@pytest.mark.parametrize("rcode,ad,ede,asked,cd_rcode,expected", [
    (dns.rcode.NOERROR, True, (), True, None, Outcome.SECURE),
    (dns.rcode.NXDOMAIN, True, (), True, None, Outcome.SECURE),
    (dns.rcode.NOERROR, False, (), True, None, Outcome.INSECURE),
    (dns.rcode.NOERROR, False, (), False, None, Outcome.INDETERMINATE),
    (dns.rcode.SERVFAIL, False, (6,), True, None, Outcome.BOGUS),
    (dns.rcode.SERVFAIL, False, (7,), True, None, Outcome.BOGUS),
    (dns.rcode.SERVFAIL, False, (22,), True, None, Outcome.INDETERMINATE),
    (dns.rcode.SERVFAIL, False, (), True, dns.rcode.NOERROR, Outcome.BOGUS),
    (dns.rcode.SERVFAIL, False, (), True, dns.rcode.SERVFAIL, Outcome.INDETERMINATE),
    (dns.rcode.REFUSED, False, (), True, None, Outcome.INDETERMINATE),
])
def test_dnssec_outcome(rcode: int, ad: bool, ede: tuple[int, ...], asked: bool,
                        cd_rcode: int | None, expected: Outcome) -> None:
    p = parse(resp(rcode=rcode, ad=ad, ede=ede))
    assert dnssec_outcome(p, asked_dnssec=asked, cd_rcode=cd_rcode) is expected


def test_dnssec_category_matrix() -> None:
    sec, ins, bog, ind = (Outcome.SECURE, Outcome.INSECURE, Outcome.BOGUS,
                          Outcome.INDETERMINATE)
    assert dnssec_category(sec, ins) == dnssec_category(ins, sec) == "dnssec.secure_insecure"
    assert dnssec_category(bog, sec) == dnssec_category(sec, bog) == "dnssec.bogus_secure"
    assert dnssec_category(bog, ins) == dnssec_category(ins, bog) == "dnssec.bogus_insecure"
    for o in (sec, ins, bog, ind):
        assert dnssec_category(o, o) is None
        assert dnssec_category(o, ind) is None  # indeterminate: rcode and EDE say the rest


def test_bogus_against_an_answer_counts_as_dnssec_not_rcode() -> None:
    secure = resp(answer=["www.example. 300 A 192.0.2.1"], ad=True)
    insecure = resp(answer=["www.example. 300 A 192.0.2.1"])
    bogus = resp(rcode=dns.rcode.SERVFAIL, ede=[6])
    assert primary(d.category for d in diffs(bogus, secure)) == "dnssec.bogus_secure"
    assert primary(d.category for d in diffs(insecure, bogus)) == "dnssec.bogus_insecure"
    assert primary(d.category for d in diffs(insecure, secure)) == "dnssec.secure_insecure"
    assert "rcode" not in cats(diffs(bogus, secure))


def test_a_different_ede_code_is_real() -> None:
    ref = resp(rcode=dns.rcode.SERVFAIL, ede=[6])
    cand = resp(rcode=dns.rcode.SERVFAIL, ede=[22])
    ds, left = explain(cand, ref)
    assert cats(left) == {"dnssec.ede"}
    assert ds[0].candidate == "22" and ds[0].reference == "6"


# -- the differ and its confirmation -------------------------------------------------------------


class FakeRequery:
    """Answers re-queries from per-target scripts: a list of wires (last repeated) or None
    for a timeout.  Records every call."""

    def __init__(self, script: dict[str, list[bytes | None]],
                 lookups: dict[str, bytes] | None = None) -> None:
        self.script = script
        self.lookups = lookups or {}
        self.calls: list[tuple[str, str, bool, bool]] = []

    async def __call__(self, target: str, query: Query, *, flush: bool = False,
                       cd: bool = False) -> TargetAnswer:
        self.calls.append((target, query.qname, flush, cd))
        if query.qname in self.lookups:
            return TargetAnswer(target, self.lookups[query.qname])
        answers = self.script.get(target, [None])
        wire = answers.pop(0) if len(answers) > 1 else answers[0]
        return TargetAnswer(target, wire, error=None if wire is not None else "timeout")


def observation(cand: bytes | None, ref: bytes | None, qname: str = "www.example.",
                **others: bytes) -> Observation:
    answers = {"candidate": TargetAnswer("candidate", cand, error=None if cand else "timeout"),
               "unbound": TargetAnswer("unbound", ref, error=None if ref else "timeout")}
    for name, wire in others.items():
        answers[name] = TargetAnswer(name, wire)
    return Observation(Query(qname, int(A), do=True, edns_payload=1232), answers, id=7)


async def judge(obs: Observation, requery: FakeRequery,
                differ: Differ | None = None) -> Verdict:
    return await (differ or Differ()).judge(obs, requery)


GOOD = resp(answer=["www.example. 300 A 192.0.2.1"])
BAD = resp(answer=["www.example. 300 A 192.0.2.66"])
OTHER = resp(answer=["www.example. 300 A 192.0.2.2"])


async def test_equal_answers_need_no_requery() -> None:
    rq = FakeRequery({})
    v = await judge(observation(resp(answer=["www.example. 250 A 192.0.2.1"], qid=9), GOOD), rq)
    assert v.kind is VerdictKind.EQUAL and v.category == "equal" and rq.calls == []


async def test_noise_needs_no_requery_and_says_what_explained_it() -> None:
    ref = resp(answer=["www.example. 300 A 192.0.2.1,192.0.2.2"])
    cand = resp(answer=["www.example. 200 A 192.0.2.2,192.0.2.1"])
    rq = FakeRequery({})
    v = await judge(observation(cand, ref), rq)
    assert v.kind is VerdictKind.NOISE and rq.calls == []
    assert set(v.explained_by) == {"order", "ttl"} and v.category == "answer.ttl"
    assert {e.normaliser for e in v.evidence.explained} == {"order", "ttl"}


async def test_persistent_divergence_is_real_with_evidence() -> None:
    rq = FakeRequery({"candidate": [BAD], "unbound": [GOOD]})
    v = await judge(observation(BAD, GOOD), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"
    ev = v.evidence
    assert ev.confirmed is True
    assert ev.confirmation == Confirmation(persisted=True, candidate_changed=False,
                                           reference_changed=False)
    assert ev.differences[0].candidate == "192.0.2.66"
    assert ev.differences[0].reference == "192.0.2.1"
    targets = {(t, flush) for t, _, flush, _ in rq.calls}
    # both sides; the reference flushed, and again cached for the noise floor
    assert targets == {("candidate", False), ("unbound", True), ("unbound", False)}
    assert ev.requeries and all(r.answer for r in ev.requeries)
    assert "192.0.2.66" in str(ev.candidate) and v.observation_id == 7


async def test_unstable_reference_is_unstable() -> None:
    # the reference said 192.0.2.1, then agrees with the candidate on re-query
    rq = FakeRequery({"candidate": [OTHER], "unbound": [OTHER]})
    v = await judge(observation(OTHER, GOOD), rq)
    assert v.kind is VerdictKind.UNSTABLE
    assert v.evidence.unstable_side == "reference"


async def test_reference_flapping_between_answers_the_candidate_matches_is_unstable() -> None:
    third = resp(answer=["www.example. 300 A 192.0.2.3"])
    rq = FakeRequery({"candidate": [OTHER], "unbound": [third]})
    obs = observation(OTHER, GOOD)
    obs.staging_wire = OTHER  # the staging resolver answered what the candidate did
    v = await judge(obs, rq)
    assert v.kind is VerdictKind.UNSTABLE
    assert v.evidence.confirmation == Confirmation(matches="staging")


async def test_candidate_that_changes_its_mind_is_unstable_not_real() -> None:
    rq = FakeRequery({"candidate": [GOOD], "unbound": [GOOD]})
    v = await judge(observation(BAD, GOOD), rq)
    assert v.kind is VerdictKind.UNSTABLE and v.evidence.unstable_side == "candidate"


async def test_timeouts() -> None:
    # no answer first, none on retry either
    v = await judge(observation(None, GOOD), FakeRequery({"candidate": [None]}))
    assert v.kind is VerdictKind.TIMEOUT and v.evidence.side == "candidate"
    # no answer first, then an equal one: not a timeout
    v = await judge(observation(None, GOOD), FakeRequery({"candidate": [GOOD]}))
    assert v.kind is VerdictKind.EQUAL
    assert v.evidence.first_attempt_errors == {"candidate": "timeout"}
    # the confirmation re-query of the reference times out
    v = await judge(observation(BAD, GOOD), FakeRequery({"candidate": [BAD],
                                                          "unbound": [None]}))
    assert v.kind is VerdictKind.TIMEOUT and v.evidence.side == "reference"
    # a confirmation re-query lost once (a packet dropped under load) is asked again
    rq = FakeRequery({"candidate": [None, BAD], "unbound": [GOOD]})
    v = await judge(observation(BAD, GOOD), rq)
    assert v.kind is VerdictKind.REAL, v.evidence
    assert [r.purpose for r in v.evidence.requeries
            if r.target == "candidate"][:2] == ["confirm", "retry"]


async def test_requery_that_raises_is_a_timeout_not_a_crash() -> None:
    async def broken(target: str, query: Query, *, flush: bool = False,
                     cd: bool = False) -> TargetAnswer:
        raise ConnectionError("gone")

    v = await Differ().judge(observation(BAD, GOOD), broken)
    assert v.kind is VerdictKind.TIMEOUT
    assert "gone" in str(v.evidence.errors)


async def test_cd_requery_turns_servfail_into_bogus() -> None:
    servfail = resp(rcode=dns.rcode.SERVFAIL)
    answered = resp(answer=["www.example. 300 A 192.0.2.1"])
    rq = FakeRequery({"candidate": [answered], "unbound": [servfail, answered]})
    # unbound: SERVFAIL without EDE; with CD=1 it answers: validation failed there
    v = await judge(observation(answered, servfail), rq)
    assert v.kind is VerdictKind.REAL and v.category == "dnssec.bogus_insecure"
    assert ("unbound", "www.example.", False, True) in rq.calls
    assert v.evidence.dnssec == DnssecOutcomes(candidate="insecure", reference="bogus")
    # a SERVFAIL that stays SERVFAIL with CD=1 is only an rcode divergence
    rq = FakeRequery({"candidate": [answered], "unbound": [servfail]})
    v = await judge(observation(answered, servfail), rq)
    assert v.kind is VerdictKind.REAL and v.category == "rcode"


async def test_raised_ttl_is_found_even_when_everything_else_is_equal() -> None:
    ref = resp(answer=["www.example. 250 A 192.0.2.1", sig("A", ttl=250)])
    raised = resp(answer=["www.example. 3900 A 192.0.2.1", sig("A", ttl=250)])
    rq = FakeRequery({"candidate": [raised], "unbound": [ref]})
    v = await judge(observation(raised, ref), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"


async def test_pool_is_learned_from_reference_requeries() -> None:
    ref = resp(answer=["www.example. 60 A 192.0.2.1,192.0.2.2"])
    cand = resp(answer=["www.example. 60 A 192.0.2.3,192.0.2.4"])
    samples: list[bytes | None] = [
        resp(answer=[f"www.example. 60 A 192.0.2.{a},192.0.2.{b}"])
        for a, b in ((2, 5), (1, 3), (5, 6), (4, 6), (1, 2))]
    rq = FakeRequery({"candidate": [cand], "unbound": samples})
    v = await judge(observation(cand, ref), rq)
    assert v.kind is VerdictKind.NOISE and "pool" in v.explained_by
    assert v.evidence.pool_requeries >= 1
    # an address the reference never gives, once the pool has stopped growing: real
    differ = Differ(DifferConfig(pool_patience=3))
    for _ in range(2):
        rq = FakeRequery({"candidate": [cand], "unbound": list(samples)})
        await judge(observation(cand, ref), rq, differ)
    outside = resp(answer=["www.example. 60 A 192.0.2.3,198.51.100.9"])
    rq = FakeRequery({"candidate": [outside], "unbound": list(samples)})
    v = await judge(observation(outside, ref), rq, differ)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"


async def test_geo_from_two_reference_vantages() -> None:
    eu = resp(answer=["www.example. 300 A 192.0.2.21"])
    us = resp(answer=["www.example. 300 A 192.0.2.22"])
    ap = resp(answer=["www.example. 300 A 192.0.2.23"])
    differ = Differ(DifferConfig(references=("unbound", "kresd")))
    rq = FakeRequery({"candidate": [ap], "unbound": [eu], "kresd": [us]})
    v = await judge(observation(ap, eu, kresd=us), rq, differ)
    assert v.kind is VerdictKind.NOISE and v.explained_by == ["geo"]
    assert any(c[0] == "kresd" for c in rq.calls)  # the other vantage was asked again
    # next time: explained without any re-query
    rq = FakeRequery({})
    v = await judge(observation(ap, eu, kresd=us), rq, differ)
    assert v.kind is VerdictKind.NOISE and rq.calls == []
    # one reference only: nothing shows the answer is localised, so it is real
    rq = FakeRequery({"candidate": [ap], "unbound": [eu]})
    v = await judge(observation(ap, eu), rq)
    assert v.kind is VerdictKind.REAL


async def test_cdn_edge_is_looked_up_at_the_reference() -> None:
    ref = resp("shop.example.", answer=CDN_REF)
    cand = resp("shop.example.", answer=CDN_CAND)
    edge = resp("shop.ap.edge.cdnprov.net.",
                answer=["shop.ap.edge.cdnprov.net. 20 A 203.0.113.3"])
    rq = FakeRequery({}, lookups={"shop.ap.edge.cdnprov.net.": edge})
    v = await judge(observation(cand, ref, "shop.example."), rq)
    assert v.kind is VerdictKind.NOISE and "cdn" in v.explained_by
    assert [c[:2] for c in rq.calls] == [("unbound", "shop.ap.edge.cdnprov.net.")]
    # the reference gives that edge another address: the candidate's is real
    wrong_edge = resp("shop.ap.edge.cdnprov.net.",
                      answer=["shop.ap.edge.cdnprov.net. 20 A 203.0.113.99"])
    rq = FakeRequery({"candidate": [cand], "unbound": [ref]},
                     lookups={"shop.ap.edge.cdnprov.net.": wrong_edge})
    v = await judge(observation(cand, ref, "shop.example."), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"


async def test_without_confirmation_divergences_are_unconfirmed_real() -> None:
    differ = Differ(DifferConfig(confirm=False))
    rq = FakeRequery({})
    v = await judge(observation(BAD, GOOD), rq, differ)
    assert v.kind is VerdictKind.REAL and v.evidence.confirmed is False and rq.calls == []


async def test_memo_recalls_noise_but_not_a_raised_ttl() -> None:
    differ = Differ()
    ref = resp(answer=["www.example. 300 A 192.0.2.1,192.0.2.2", sig("A")])
    cand = resp(answer=["www.example. 200 A 192.0.2.2,192.0.2.1", sig("A", ttl=200)])
    v = await judge(observation(cand, ref), FakeRequery({}), differ)
    assert v.kind is VerdictKind.NOISE and not v.evidence.memo
    again = resp("wWw.EXAMPLE.", answer=["www.example. 150 A 192.0.2.2,192.0.2.1",
                                         sig("A", ttl=150)])
    ref2 = resp("wWw.EXAMPLE.", answer=["www.example. 280 A 192.0.2.1,192.0.2.2", sig("A")])
    v = await judge(observation(again, ref2, "wWw.EXAMPLE."), FakeRequery({}), differ)
    assert v.kind is VerdictKind.NOISE and v.evidence.memo is True
    raised = resp(answer=["www.example. 9000 A 192.0.2.2,192.0.2.1", sig("A", ttl=200)])
    rq = FakeRequery({"candidate": [raised], "unbound": [ref]})
    v = await judge(observation(raised, ref), rq, differ)
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"


async def test_unparseable_candidate_is_format() -> None:
    rq = FakeRequery({"candidate": [b"\x00\x01garbage"]})
    v = await judge(observation(b"\x00\x01garbage", GOOD), rq)
    assert v.kind is VerdictKind.REAL and v.category == "format"


def test_verdict_evidence_is_json() -> None:
    import asyncio
    import json

    rq = FakeRequery({"candidate": [BAD], "unbound": [GOOD]})
    v = asyncio.run(judge(observation(BAD, GOOD), rq))
    text = json.dumps(v.evidence.to_json())
    assert Evidence.from_json(json.loads(text)) == v.evidence


def test_normalisers_have_distinct_names() -> None:
    from harness.differ import DEFAULT_NORMALISERS

    names = [n.name for n in DEFAULT_NORMALISERS]
    assert len(set(names)) == len(names)
    assert set(names) == {"case", "order", "ttl", "resign", "pool", "geo", "cdn"}



def test_negative_answer_soa_ttl_is_bounded_by_the_soa_minimum() -> None:
    soa = "example. {ttl} SOA ns.example. host.example. 1 7200 3600 1209600 300"
    soa_sig = ("example. {ttl} RRSIG SOA 8 1 86400 20300101000000 20200101000000 4242 "
               "example. c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVieXRlcw==")
    ref = resp("nx.example.", rcode=dns.rcode.NXDOMAIN,
               authority=[soa.format(ttl=200), soa_sig.format(ttl=200)])
    fresher = resp("nx.example.", rcode=dns.rcode.NXDOMAIN,
                   authority=[soa.format(ttl=300), soa_sig.format(ttl=300)])
    raised = resp("nx.example.", rcode=dns.rcode.NXDOMAIN,
                  authority=[soa.format(ttl=3900), soa_sig.format(ttl=300)])
    _, left = explain(fresher, ref, normaliser=Ttl())
    assert left == []
    # the RRSIG says 86400, but a negative answer lives no longer than the SOA minimum
    _, left = explain(raised, ref, normaliser=Ttl())
    assert cats(left) == {"authority.ttl"}


async def test_raised_ttl_is_not_hidden_by_a_flapping_reference() -> None:
    ref = resp(answer=["www.example. 5 A 192.0.2.31", sig("A", ttl=5, orig=5)])
    ref_re = resp(answer=["www.example. 5 A 192.0.2.32", sig("A", ttl=5, orig=5)])
    cand = resp(answer=["www.example. 3605 A 192.0.2.32", sig("A", ttl=5, orig=5)])
    fine = resp(answer=["www.example. 4 A 192.0.2.32", sig("A", ttl=4, orig=5)])
    rq = FakeRequery({"candidate": [fine], "unbound": [ref_re]})
    v = await judge(observation(fine, ref), rq)
    assert v.kind is VerdictKind.UNSTABLE  # the reference moved to the candidate's answer
    rq = FakeRequery({"candidate": [cand], "unbound": [ref_re]})
    v = await judge(observation(cand, ref), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"


@given(st.binary(max_size=80))
def test_walk_never_raises_on_garbage(data: bytes) -> None:
    walk(data)
    Layouts().fast_equal(data, data[::-1])


_variant = st.fixed_dictionaries({
    "ttl": st.integers(0, 400), "last": st.integers(1, 3), "ad": st.booleans(),
    "do": st.booleans(), "rcode": st.sampled_from([0, 2, 3]), "qname": st.sampled_from(
        ["www.example.", "WWW.example."])})


@settings(max_examples=150, deadline=None)
@given(_variant, _variant)
def test_fast_path_equal_means_only_decayed_ttls_differ(a: dict[str, Any],
                                                        b: dict[str, Any]) -> None:
    def make(v: dict[str, Any]) -> bytes:
        return resp(v["qname"], answer=[f"www.example. {v['ttl']} A 192.0.2.{v['last']}"],
                    ad=v["ad"], do=v["do"], rcode=v["rcode"])

    cand, ref = make(a), make(b)
    if Layouts().fast_equal(cand, ref):
        ds = diffs(cand, ref)
        assert all(d.category == "answer.ttl" for d in ds)
        assert all(int(d.candidate or 0) <= int(d.reference or 0) for d in ds)


# -- truncation as noise (--ignore-tc-only) --------------------------------------------------


def truncated(wire: bytes) -> bytes:
    return wire[:2] + bytes([wire[2] | 0x02]) + wire[3:]


def test_tc_only_explains_the_bit_and_a_bare_slip_but_not_data() -> None:
    answer = resp(answer=["www.example. 300 A 192.0.2.1"])
    slip = truncated(resp())  # an RRL slip: header and question only
    ds, left = explain(slip, answer, normaliser=TcOnly())
    assert "flags.tc" in cats(ds) and len(ds) > 1 and left == []
    ds, left = explain(answer, slip, normaliser=TcOnly())  # the reference slipped
    assert left == []
    # the bit alone on an otherwise equal answer
    ds, left = explain(truncated(answer), answer, normaliser=TcOnly())
    assert cats(ds) == {"flags.tc"} and left == []
    # a truncated side that does carry records: only the bit is explained, the data is real
    other = truncated(resp(answer=["www.example. 300 A 192.0.2.66"]))
    ds, left = explain(other, answer, normaliser=TcOnly())
    assert "flags.tc" not in cats(left) and "answer.data" in cats(left)
    # an rcode difference is never truncation
    refused = truncated(resp(rcode=dns.rcode.REFUSED))
    _, left = explain(refused, answer, normaliser=TcOnly())
    assert "rcode" in {c.split(".")[0] for c in cats(left)}
    # both truncated, or neither: nothing to explain
    _, left = explain(truncated(answer), truncated(OTHER), normaliser=TcOnly())
    assert "answer.data" in cats(left)


async def test_tc_only_is_off_by_default_and_on_when_asked() -> None:
    slip = truncated(resp())
    v = await judge(observation(slip, GOOD), FakeRequery({"candidate": [slip],
                                                          "unbound": [GOOD]}))
    assert v.kind is VerdictKind.REAL
    differ = Differ(normalisers=(*DEFAULT_NORMALISERS, TcOnly()))
    v = await judge(observation(slip, GOOD), FakeRequery({}), differ)
    assert v.kind is VerdictKind.NOISE and "tc" in v.explained_by
# -- the noise floor: measured, not listed ------------------------------------------------------


def txt(value: str, qname: str = "www.example.") -> bytes:
    return resp(qname, "TXT", answer=[f'{qname} 300 TXT "{value}"'])


class Fresh(FakeRequery):
    """A FakeRequery whose flushes can fail (``flush_works``), like an unmanaged target."""

    def __init__(self, script: dict[str, list[bytes | None]], flush_works: bool = True) -> None:
        super().__init__(script)
        self.flush_works = flush_works

    async def __call__(self, target: str, query: Query, *, flush: bool = False,
                       cd: bool = False) -> TargetAnswer:
        answer = await super().__call__(target, query, flush=flush, cd=cd)
        if flush:
            answer.flushed = self.flush_works
        return answer


def floor_evidence(v: Verdict) -> list[FloorEntry]:
    assert v.evidence.noise_floor, v.evidence
    return v.evidence.noise_floor


async def test_a_nonce_is_noise_with_evidence_never_real() -> None:
    # every fetch, on either side, gives a new value (an online signer's nonce, a random
    # token): nobody told the differ about this kind of noise
    rq = FakeRequery({"candidate": [txt("c2"), txt("c3"), txt("c4")],
                      "unbound": [txt("r2"), txt("r3"), txt("r4"), txt("r5")]})
    v = await judge(observation(txt("c1"), txt("r1")), rq)
    assert v.kind is VerdictKind.NOISE, v.evidence
    assert "floor" in v.explained_by
    ev = floor_evidence(v)
    assert ev[0].field == "answer.data www.example. TXT"
    assert ev[0].evidence == "fresh per fetch" and ev[0].sample == "candidate (flushed)"
    assert "unbound re-query" in str(ev[0].how)  # which sample varied, and how
    assert ("candidate", "www.example.", True, False) in rq.calls  # a fresh candidate fetch


async def test_a_nonce_without_a_fresh_candidate_fetch_is_unstable_not_real() -> None:
    rq = Fresh({"candidate": [txt("c1")], "unbound": [txt("r2"), txt("r3"), txt("r4")]},
               flush_works=False)
    v = await judge(observation(txt("c1"), txt("r1")), rq)
    assert v.kind is VerdictKind.UNSTABLE, v.evidence
    assert floor_evidence(v)[0].evidence == "undetermined"


async def test_reference_that_gave_the_candidates_value_once_explains_it() -> None:
    # a small set of values served at random (anycast instance names): a later reference
    # sample gave what the candidate did
    rq = FakeRequery({"candidate": [txt("b")], "unbound": [txt("c"), txt("b"), txt("a")]})
    v = await judge(observation(txt("b"), txt("a")), rq)
    assert v.kind is VerdictKind.NOISE
    ev = floor_evidence(v)[0]
    assert ev.evidence == "reference varies" and "cached" in str(ev.sample)


async def test_a_fault_against_a_stable_reference_is_real() -> None:
    rq = FakeRequery({"candidate": [BAD], "unbound": [GOOD]})
    v = await judge(observation(BAD, GOOD), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"
    assert sum(1 for t, *_ in rq.calls if t == "unbound") >= 3  # three reference samples
    assert {(t, f) for t, _, f, _ in rq.calls if t == "unbound"} == {("unbound", True),
                                                                    ("unbound", False)}
    ev = floor_evidence(v)[0]
    assert ev.evidence == "reference stable" and "4 samples" in str(ev.how)


async def test_a_fault_that_persists_in_a_churning_pool_is_real() -> None:
    ref = resp(answer=["www.example. 60 A 192.0.2.1"])
    samples: list[bytes | None] = [resp(answer=[f"www.example. 60 A 192.0.2.{i}"])
                                   for i in range(2, 30)]
    bad = resp(answer=["www.example. 60 A 127.66.6.6"])
    rq = FakeRequery({"candidate": [bad], "unbound": samples})
    v = await judge(observation(bad, ref), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"
    assert any(f.evidence == "persisted" for f in floor_evidence(v))


async def test_cname_order_change_is_still_real() -> None:
    chain = ["alias.example. 300 CNAME www.example.", "www.example. 300 A 192.0.2.1"]
    ref = resp("alias.example.", answer=chain)
    bad = resp("alias.example.", answer=chain[::-1])
    rq = FakeRequery({"candidate": [bad], "unbound": [ref]})
    v = await judge(observation(bad, ref, "alias.example."), rq)
    assert v.kind is VerdictKind.REAL and v.category == "cname.order"


def test_ecdsa_signatures_differing_only_in_bytes_are_equal() -> None:
    def ecdsa(sig_b64: str) -> str:
        return ("www.example. 300 RRSIG A 13 2 300 20300101000000 20200101000000 4242 "
                f"example. {sig_b64}")

    a = resp(answer=["www.example. 300 A 192.0.2.1", ecdsa("c2lnbmF0dXJlb25l" * 4)])
    b = resp(answer=["www.example. 300 A 192.0.2.1", ecdsa("b3RoZXJieXRlcyEh" * 4)])
    assert diffs(a, b) == []
    # another window is a re-signing (explained), another key is not
    later = sig("A", inception="20210101000000")
    _, left = explain(resp(answer=["www.example. 300 A 192.0.2.1", later]),
                      resp(answer=["www.example. 300 A 192.0.2.1", sig("A")]))
    assert left == []
    other_key = sig("A").replace(" 4242 ", " 4243 ")
    _, left = explain(resp(answer=["www.example. 300 A 192.0.2.1", other_key]),
                      resp(answer=["www.example. 300 A 192.0.2.1", sig("A")]))
    assert cats(left) == {"answer.rrsig"}


def test_an_original_ttl_difference_is_judged_by_the_ttl_rule() -> None:
    ref = resp(answer=["www.example. 600 A 192.0.2.1", sig("A", ttl=600, orig=600)])
    older = resp(answer=["www.example. 250 A 192.0.2.1", sig("A", ttl=250, orig=300)])
    ds, left = explain(older, ref)
    assert "answer.ttl" in cats(ds) and "answer.rrsig" not in cats(ds) and left == []
    raised = resp(answer=["www.example. 600 A 192.0.2.1", sig("A", ttl=600, orig=7200)])
    _, left = explain(raised, ref)
    assert cats(left) == {"answer.ttl"}


async def test_ttl_decay_is_measured_against_the_time_between_answers() -> None:
    def timed(cand_ttl: int, lag: float) -> Observation:
        obs = observation(resp(answer=[f"www.example. {cand_ttl} A 192.0.2.1"]),
                          resp(answer=["www.example. 300 A 192.0.2.1"]))
        obs.answers["candidate"].received = 100.0
        obs.answers["unbound"].received = 100.0 + lag
        return obs

    fresh = resp(answer=["www.example. 300 A 192.0.2.1"])
    # one second more after 1.2 s: decay (a fresh differ each time: nothing learned)
    v = await judge(timed(301, 1.2), FakeRequery({"candidate": [fresh], "unbound": [fresh]}))
    assert v.kind is VerdictKind.NOISE and v.explained_by == ["ttl"]
    v = await judge(timed(302, 1.2), FakeRequery({"candidate": [fresh], "unbound": [fresh]}))
    assert v.kind is VerdictKind.NOISE
    # two seconds more with no time between the answers: above the reference
    rq = FakeRequery({"candidate": [resp(answer=["www.example. 302 A 192.0.2.1"])],
                      "unbound": [resp(answer=["www.example. 300 A 192.0.2.1"])]})
    v = await judge(timed(302, 0.0), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"


class Unflushable(FakeRequery):
    """The references flush; the candidate cannot (a resolver the harness does not manage)."""

    async def __call__(self, target: str, query: Query, *, flush: bool = False,
                       cd: bool = False) -> TargetAnswer:
        answer = await super().__call__(target, query, flush=flush, cd=cd)
        if flush:
            answer.flushed = target != "candidate"
        return answer


async def test_a_ttl_beyond_a_varying_authoritys_span_is_real_without_a_fresh_fetch() -> None:
    # the authority jitters its TTL per answer: the reference's fresh fetches (the
    # confirmation re-query and the floor's flushed one) disagree by more than the time
    # between them; the candidate cannot be flushed
    def ttl(t: int) -> bytes:
        return resp(answer=[f"www.example. {t} A 192.0.2.1"])

    script: dict[str, list[bytes | None]] = {"candidate": [ttl(3890)],
                                             "unbound": [ttl(212), ttl(237), ttl(230)]}
    v = await judge(observation(ttl(3890), ttl(196)), Unflushable(script))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl", v.evidence
    ev = floor_evidence(v)[0]
    assert ev.evidence == "beyond variation" and "(237)" in (ev.how or ""), ev
    # a draw above everything the reference side showed, but within the span of the
    # variation: only a fresh fetch of the candidate could tell, and there is none
    script = {"candidate": [ttl(290)], "unbound": [ttl(212), ttl(237), ttl(230)]}
    v = await judge(observation(ttl(290), ttl(196)), Unflushable(script))
    assert v.kind is VerdictKind.UNSTABLE, v.evidence
    assert floor_evidence(v)[0].evidence == "undetermined"
    # the boundary: twice the highest (237) plus a second of rounding
    for mine, kind in ((475, VerdictKind.UNSTABLE), (476, VerdictKind.REAL)):
        script = {"candidate": [ttl(mine)], "unbound": [ttl(212), ttl(237), ttl(230)]}
        v = await judge(observation(ttl(mine), ttl(196)), Unflushable(script))
        assert v.kind is kind, (mine, v.evidence)


async def test_a_raised_negative_ttl_is_real_above_the_soa_minimum_however_ttls_vary() -> None:
    # a negative answer's SOA: the reference's fresh fetches disagree on its TTL, the
    # knowledge holds the SOA's own TTL of a day (from a positive answer), the candidate
    # cannot be flushed; the negative TTL is at most the SOA MINIMUM (RFC 2308 5)
    soa = "example. {ttl} SOA ns.example. host.example. 1 7200 3600 1209600 300"

    def nx(ttl: int) -> bytes:
        return resp(rcode=dns.rcode.NXDOMAIN, authority=[soa.format(ttl=ttl)])

    differ = Differ()
    differ.knowledge.learn(parse(resp("example.", "SOA", answer=[soa.format(ttl=86400)])),
                           "unbound")
    script: dict[str, list[bytes | None]] = {"candidate": [nx(3900)],
                                             "unbound": [nx(300), nx(120), nx(250)]}
    v = await judge(observation(nx(3900), nx(200)), Unflushable(script), differ)
    assert v.kind is VerdictKind.REAL and v.category == "authority.ttl", v.evidence
    ev = floor_evidence(v)[0]
    assert ev.evidence == "ttl" and "SOA MINIMUM of the negative answer (300)" in (ev.how or "")


async def test_an_unseen_address_on_a_varying_name_is_real_once_the_pool_stops_growing() -> None:
    # data that changes over time (a flap, a lagging secondary): the reference's samples
    # disagree, the candidate cannot be flushed.  Flushed reference re-queries learn the
    # pool until it stops growing; an address outside it is the candidate's, not noise
    def a(*addrs: str) -> bytes:
        return resp(answer=[f"www.example. 5 A {x}" for x in addrs])

    script: dict[str, list[bytes | None]] = {
        "candidate": [a("192.0.2.66")],
        "unbound": [a("192.0.2.31"), a("192.0.2.31"), a("192.0.2.32")]}
    rq = Unflushable(script)
    v = await judge(observation(a("192.0.2.66"), a("192.0.2.31")), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data", v.evidence
    assert floor_evidence(v)[0].evidence == "persisted", v.evidence
    assert "stopped growing" in (floor_evidence(v)[0].how or "")
    assert v.evidence.pool_requeries >= 8
    # a record dropped from a varying pool: a count it never gave, once the pool is known
    script = {"candidate": [a("192.0.2.31")],
              "unbound": [a("192.0.2.31", "192.0.2.40"), a("192.0.2.31", "192.0.2.40"),
                          a("192.0.2.32", "192.0.2.41")]}
    v = await judge(observation(a("192.0.2.31"), a("192.0.2.31", "192.0.2.40")),
                    Unflushable(script))
    assert v.kind is VerdictKind.REAL and v.category == "answer.data", v.evidence
    # one of the values the reference side gives: noise, with no pool learning needed
    script = {"candidate": [a("192.0.2.32")],
              "unbound": [a("192.0.2.31"), a("192.0.2.31"), a("192.0.2.32")]}
    v = await judge(observation(a("192.0.2.32"), a("192.0.2.31")), Unflushable(script))
    assert v.kind is VerdictKind.NOISE, v.evidence


async def test_budget_exhausted_is_undecided_never_real() -> None:
    differ = Differ(DifferConfig(requery_rate=0.001, requery_burst=2))
    rq = FakeRequery({"candidate": [BAD], "unbound": [GOOD]})
    v = await judge(observation(BAD, GOOD), rq, differ)
    assert v.kind is VerdictKind.UNDECIDED and v.evidence.budget == "exhausted"
    assert v.category == "answer.data" and len(rq.calls) == 2
    assert differ.stats["budget_exhausted"] == 1 and differ.stats["requeries"] == 2
    assert differ.stats["verdict_undecided"] == 1
    # equal answers need no budget
    v = await judge(observation(GOOD, GOOD), FakeRequery({}), differ)
    assert v.kind is VerdictKind.EQUAL


async def test_egress_swap_tells_an_answer_about_the_querier_from_a_fault() -> None:
    # the authority echoes the querier's address: each side's egress
    def echo(addr: str) -> bytes:
        return resp(answer=[f"www.example. 0 A {addr}"])

    cfg = DifferConfig(twins={"unbound": "unbound@cand", "candidate": "candidate@ref"})
    script: dict[str, list[bytes | None]] = {
        "candidate": [echo("127.54.3.1")], "unbound": [echo("127.54.1.1")],
        "unbound@cand": [echo("127.54.3.1")], "candidate@ref": [echo("127.54.1.1")]}
    v = await judge(observation(echo("127.54.3.1"), echo("127.54.1.1")),
                    FakeRequery(dict(script)), Differ(cfg))
    assert v.kind is VerdictKind.NOISE
    ev = floor_evidence(v)[0]
    assert ev.evidence == "egress" and "unbound@cand" in str(ev.sample)
    # the same world, a candidate that changes the address: real
    bad = {**script, "candidate": [echo("127.66.6.6")], "candidate@ref": [echo("127.66.6.6")]}
    v = await judge(observation(echo("127.66.6.6"), echo("127.54.1.1")),
                    FakeRequery(bad), Differ(cfg))
    assert v.kind is VerdictKind.REAL
    # egress swap off: the twins are not asked, and the localised answer cannot be told
    off = Differ(dataclasses.replace(cfg, egress_swap=False))
    rq = FakeRequery(dict(script))
    v = await judge(observation(echo("127.54.3.1"), echo("127.54.1.1")), rq, off)
    assert v.kind is VerdictKind.REAL and not any("@" in c[0] for c in rq.calls)


def test_only_the_ede_code_differing_is_its_own_category() -> None:
    nokey = resp(rcode=dns.rcode.SERVFAIL, ede=[9])
    bogus = resp(rcode=dns.rcode.SERVFAIL, ede=[6])
    assert cats(diffs(nokey, bogus)) == {"dnssec.ede_code"}
    assert rank("dnssec.ede") < rank("dnssec.ede_code") < rank("answer.data")
    # an EDE missing, or a different outcome, stays dnssec.ede
    assert cats(diffs(resp(rcode=dns.rcode.SERVFAIL), bogus)) >= {"dnssec.ede"}
    stale = resp(answer=["www.example. 300 A 192.0.2.1"], ede=[3])
    assert cats(diffs(stale, GOOD)) == {"dnssec.ede"}
    # codes on both sides, but one side answered (other rcode and outcome): not a code choice
    assert "dnssec.ede" in cats(diffs(stale, resp(rcode=dns.rcode.SERVFAIL, ede=[22])))


async def test_a_dropped_record_in_a_churning_pool_is_real() -> None:
    # the reference always gives two of a pool; the candidate one, a new one on each fetch
    def pair(a: int, b: int) -> bytes:
        return resp(answer=[f"www.example. 60 A 192.0.2.{a},192.0.2.{b}"])

    samples: list[bytes | None] = [pair(i, i + 1) for i in range(2, 40, 2)]
    rq = FakeRequery({"candidate": [resp(answer=["www.example. 60 A 192.0.2.77"]),
                                    resp(answer=["www.example. 60 A 192.0.2.78"])],
                      "unbound": samples})
    v = await judge(observation(resp(answer=["www.example. 60 A 192.0.2.76"]), pair(0, 1)), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"
    ev = [f for f in floor_evidence(v) if f.evidence == "persisted"]
    assert ev and "count" in str(ev[0].how)  # the pool stopped growing: a count never given
    # a candidate that cannot be flushed: a pool the reference has shown in full still tells
    rq = Fresh({"candidate": [resp(answer=["www.example. 60 A 192.0.2.76"])],
                "unbound": list(samples)}, flush_works=False)
    v = await judge(observation(resp(answer=["www.example. 60 A 192.0.2.76"]), pair(0, 1)), rq)
    assert v.kind is VerdictKind.REAL
    assert "outside a pool that stopped growing" in str(floor_evidence(v)[0].how)


async def test_a_changed_address_behind_per_answer_steering_is_real() -> None:
    # the CNAME target is picked per answer (a, b or c); each edge's address never changes
    def steer(edge: str, addr: str) -> bytes:
        return resp("steer.example.", answer=[f"steer.example. 10 CNAME {edge}.edge.example.",
                                              f"{edge}.edge.example. 60 A {addr}"])

    a, b, c = steer("a", "192.0.2.11"), steer("b", "192.0.2.12"), steer("c", "192.0.2.13")
    bad = steer("a", "127.66.6.6")
    lookups = {"a.edge.example.": resp("a.edge.example.",
                                       answer=["a.edge.example. 60 A 192.0.2.11"])}
    rq = FakeRequery({"candidate": [bad, steer("c", "127.66.6.6")],
                      "unbound": [b, c, b, a], "kresd": [a]}, lookups)
    differ = Differ(DifferConfig(references=("unbound", "kresd")))
    v = await judge(observation(bad, b, "steer.example.", kresd=a), rq, differ)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data", v.evidence
    assert any(f.evidence == "reference stable" for f in floor_evidence(v))
    # the same steering without the fault: noise
    rq = FakeRequery({"candidate": [a, c], "unbound": [b, c, b, a], "kresd": [a]}, lookups)
    v = await judge(observation(a, b, "steer.example.", kresd=a), rq, Differ(differ.config))
    assert v.kind is VerdictKind.NOISE, v.evidence


async def test_a_dropped_rrset_under_a_nonce_is_real_without_a_fresh_fetch() -> None:
    empty = resp("www.example.", "TXT")  # the candidate dropped the only record
    rq = Fresh({"candidate": [empty], "unbound": [txt("r2"), txt("r3"), txt("r4")]},
               flush_works=False)
    v = await judge(observation(empty, txt("r1")), rq)
    assert v.kind is VerdictKind.REAL and v.category == "answer.data"
    assert floor_evidence(v)[0].evidence == "reference stable"


async def test_a_ttl_above_the_signers_original_ttl_is_real_even_when_ttls_jitter() -> None:
    def jit(ttl: int) -> bytes:
        return resp(answer=[f"www.example. {ttl} A 192.0.2.1", sig("A", ttl=ttl, orig=300)])

    # fresh reference fetches disagree (the authority jitters its TTL), no fresh candidate
    rq = Fresh({"candidate": [jit(3900)], "unbound": [jit(200), jit(199), jit(280)]},
               flush_works=True)
    rq.script["candidate"] = [jit(3900)]
    v = await judge(observation(jit(3900), jit(160)), rq,
                    Differ(DifferConfig(fresh_candidate=False)))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"
    assert "original TTL the signer gave (300)" in str(floor_evidence(v)[0].how)


def test_a_cname_chain_that_ends_in_nothing_is_answer_data() -> None:
    ref = resp("alias.example.", answer=["alias.example. 300 CNAME a.edge.example.",
                                         "a.edge.example. 60 A 192.0.2.1"])
    other_edge = resp("alias.example.", answer=["alias.example. 300 CNAME b.edge.example.",
                                                "b.edge.example. 60 A 192.0.2.2"])
    empty = resp("alias.example.", answer=["alias.example. 300 CNAME b.edge.example."])
    assert not any(d.key == ("alias.example.", 1, 0) for d in diffs(other_edge, ref))
    ended = [d for d in diffs(empty, ref) if d.key == ("alias.example.", 1, 0)]
    assert [(d.category, d.candidate, d.reference) for d in ended] == [
        ("answer.data", "nothing", "A")]
