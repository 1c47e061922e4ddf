"""The authority sweep at its seam: a fake reference (its re-queries and the lookups that
learn a zone's NS set) and fake authoritative servers (``Authorities``) on loopback
addresses.  The held-out ``instance`` situation: the reference keeps to one server of the NS
set, the candidate to another, and nothing on the reference side varies."""

from __future__ import annotations

import asyncio
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from harness.differ import Differ, DifferConfig
from harness.differ.answers import parse
from harness.differ.sweep import AuthorityAnswer, UdpAuthorities, apex_of, server_addresses
from harness.evidence import FloorEntry, SweepEntry
from harness.records import Query, TargetAnswer, Verdict, VerdictKind
from netpolicy import AddressPolicy
from tests.unit.test_differ import FakeRequery, observation, resp, sig

SOA = "example. 300 SOA ns1.example. hostmaster.example. 1 7200 3600 1209600 300"
NS1, NS2 = "127.0.0.53", "127.0.0.54"


def a(addr: str, ttl: int = 300, *, aa: bool = False) -> bytes:
    return resp(answer=[f"www.example. {ttl} A {addr}"], aa=aa)


class Reference(FakeRequery):
    """The reference's re-queries by script, and its answers to the sweep's lookups."""

    def __init__(self, script: dict[str, list[bytes | None]], glue: bool = False) -> None:
        super().__init__(script)
        additional = [f"ns1.example. 300 A {NS1}", f"ns2.example. 300 A {NS2}"] if glue else []
        self.questions: dict[tuple[str, int], bytes] = {
            ("www.example.", int(dns.rdatatype.SOA)): resp("www.example.", "SOA",
                                                           authority=[SOA]),
            ("example.", int(dns.rdatatype.NS)): resp(
                "example.", "NS", answer=["example. 300 NS ns1.example.,ns2.example."],
                additional=additional),
            ("ns1.example.", int(dns.rdatatype.A)): resp(
                "ns1.example.", answer=[f"ns1.example. 300 A {NS1}"]),
            ("ns2.example.", int(dns.rdatatype.A)): resp(
                "ns2.example.", answer=[f"ns2.example. 300 A {NS2}"]),
        }
        self.lookups_made: list[tuple[str, int]] = []

    async def __call__(self, target: str, query: Query, *, flush: bool = False,
                       cd: bool = False) -> TargetAnswer:
        if query.qtype != int(dns.rdatatype.A) or query.qname != "www.example.":
            self.lookups_made.append((query.qname, query.qtype))
            wire = self.questions.get((query.qname, query.qtype),
                                      resp(query.qname, dns.rdatatype.to_text(query.qtype),
                                           authority=[SOA]))
            return TargetAnswer(target, wire)
        return await super().__call__(target, query, flush=flush, cd=cd)


class FakeAuthorities:
    """Authoritative servers by address; records every question."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str, int]] = []

    async def __call__(self, address: str, query: Query) -> TargetAnswer:
        self.asked.append((address, query.qname, query.qtype))
        assert not query.rd  # the server's own data: no recursion
        wire = self.answers.get(address)
        return TargetAnswer(f"authority {address}", wire,
                            error=None if wire is not None else "timeout")


def sweep_evidence(v: Verdict) -> FloorEntry:
    return next(f for f in v.evidence.noise_floor if f.evidence == "authority sweep")


def stable(cand: str, ref: str) -> dict[str, list[bytes | None]]:
    """Each side keeps to its own server: every re-query gives the same value."""
    return {"candidate": [a(cand)], "unbound": [a(ref)]}


async def test_an_answer_that_depends_on_the_server_is_noise_named_by_server() -> None:
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.2", aa=True)})
    differ = Differ(authorities=auth)
    rq = Reference(stable("192.0.2.2", "192.0.2.1"))
    v = await differ.judge(observation(a("192.0.2.2"), a("192.0.2.1")), rq)
    assert v.kind is VerdictKind.NOISE, v.evidence
    ev = sweep_evidence(v)
    assert ev.sample == f"ns2.example. ({NS2})"
    assert "192.0.2.2" in str(ev.how) and f"ns1.example. ({NS1}) gave 192.0.2.1" in str(ev.how)
    assert sorted(x[0] for x in auth.asked) == [NS1, NS2]
    assert v.evidence.authority_sweep == [SweepEntry(
        "www.example.", 1, "example.", [f"ns1.example. ({NS1})", f"ns2.example. ({NS2})"])]
    # counted like other confirmation traffic; the zone's servers are learned once
    assert differ.stats["authority_queries"] == 2
    assert differ.stats["requeries"] >= 2 + 4  # four lookups through the reference
    assert [r for r in v.evidence.requeries if r.purpose == "sweep"]
    rq2 = Reference(stable("192.0.2.2", "192.0.2.1"))
    await differ.judge(observation(a("192.0.2.2"), a("192.0.2.1")), rq2)
    assert rq2.lookups_made == []
    assert differ.stats["authority_queries"] == 4


async def test_a_fault_stays_real_when_every_authority_agrees() -> None:
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.1", aa=True)})
    rq = Reference(stable("192.0.2.66", "192.0.2.1"), glue=True)
    v = await Differ(authorities=auth).judge(observation(a("192.0.2.66"), a("192.0.2.1")), rq)
    assert v.kind is VerdictKind.REAL, v.evidence
    assert len(auth.asked) == 2  # the servers were asked (from the glue: no A lookups)
    assert ("ns1.example.", int(dns.rdatatype.A)) not in rq.lookups_made
    assert not any(f.evidence == "authority sweep" for f in v.evidence.noise_floor)
    # authorities that disagree, none with the candidate's value: still real
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.2", aa=True)})
    rq = Reference(stable("192.0.2.66", "192.0.2.1"))
    v = await Differ(authorities=auth).judge(observation(a("192.0.2.66"), a("192.0.2.1")), rq)
    assert v.kind is VerdictKind.REAL


async def test_only_authoritative_answers_count() -> None:
    # a server that answers without AA (a referral, a lame server) speaks for nobody
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.2", aa=False)})
    rq = Reference(stable("192.0.2.2", "192.0.2.1"))
    v = await Differ(authorities=auth).judge(observation(a("192.0.2.2"), a("192.0.2.1")), rq)
    assert v.kind is VerdictKind.REAL


async def test_a_ttl_one_authority_gives_is_noise_a_raised_one_is_not() -> None:
    auth = FakeAuthorities({NS1: a("192.0.2.1", 300, aa=True), NS2: a("192.0.2.1", 30, aa=True)})
    script = {"candidate": [a("192.0.2.1", 300)], "unbound": [a("192.0.2.1", 30)]}
    v = await Differ(authorities=auth).judge(
        observation(a("192.0.2.1", 300), a("192.0.2.1", 30)), Reference(script))
    assert v.kind is VerdictKind.NOISE, v.evidence
    assert sweep_evidence(v).sample == f"ns1.example. ({NS1})"
    script = {"candidate": [a("192.0.2.1", 3900)], "unbound": [a("192.0.2.1", 30)]}
    v = await Differ(authorities=auth).judge(
        observation(a("192.0.2.1", 3900), a("192.0.2.1", 30)), Reference(script))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl"


async def test_a_ttl_the_authorities_vary_is_decided_by_a_fresh_candidate_fetch() -> None:
    # a TTL jittered per answer: the authorities, asked at one moment, disagree on it
    auth = FakeAuthorities({NS1: a("192.0.2.1", 180, aa=True), NS2: a("192.0.2.1", 250, aa=True)})
    obs = observation(a("192.0.2.1", 290), a("192.0.2.1", 200))
    script = {"candidate": [a("192.0.2.1", 290), a("192.0.2.1", 170)],
              "unbound": [a("192.0.2.1", 200)]}
    v = await Differ(authorities=auth).judge(obs, Reference(script))
    assert v.kind is VerdictKind.NOISE, v.evidence
    ev = sweep_evidence(v)
    assert ev.sample == "candidate (flushed)" and "180" in str(ev.how) and "250" in str(ev.how)
    # a raised TTL comes back on the fresh fetch: real
    raised = {"candidate": [a("192.0.2.1", 3890)], "unbound": [a("192.0.2.1", 200)]}
    v = await Differ(authorities=auth).judge(observation(a("192.0.2.1", 3890),
                                                         a("192.0.2.1", 200)), Reference(raised))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl", v.evidence
    # no fresh fetch to be had: never real
    v = await Differ(DifferConfig(fresh_candidate=False), authorities=auth).judge(
        obs, Reference(dict(script)))
    assert v.kind is VerdictKind.UNSTABLE, v.evidence


async def test_a_ttl_beyond_what_varying_authorities_give_is_real_without_a_fresh_fetch() -> None:
    # a TTL per server (a CDN's edges): 300 from one, 30 from the other; the reference keeps
    # to the second, the candidate cannot be flushed.  A raised TTL is beyond the variation
    # the authorities show, whatever server the candidate used
    auth = FakeAuthorities({NS1: a("192.0.2.1", 300, aa=True), NS2: a("192.0.2.1", 30, aa=True)})
    obs = observation(a("192.0.2.1", 3885), a("192.0.2.1", 28))
    script = {"candidate": [a("192.0.2.1", 3883)], "unbound": [a("192.0.2.1", 30)]}
    v = await Differ(DifferConfig(fresh_candidate=False), authorities=auth).judge(
        obs, Reference(script))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl", v.evidence
    ev = [f for f in v.evidence.noise_floor if f.evidence == "beyond variation"]
    assert ev and "(300)" in (ev[0].how or ""), v.evidence
    # the other server's TTL is noise, as before
    obs = observation(a("192.0.2.1", 299), a("192.0.2.1", 28))
    script = {"candidate": [a("192.0.2.1", 298)], "unbound": [a("192.0.2.1", 30)]}
    v = await Differ(DifferConfig(fresh_candidate=False), authorities=auth).judge(
        obs, Reference(script))
    assert v.kind is VerdictKind.NOISE, v.evidence


async def test_a_ttl_above_the_signers_original_ttl_stays_real_when_authorities_vary() -> None:
    # signed data jittered per answer under its RRSIG's original TTL (300): the authorities
    # disagree on the TTL, yet no draw can exceed what the signer gave (RFC 4035 5.3.3)
    def signed(ttl: int, *, aa: bool = False) -> bytes:
        return resp(answer=[f"www.example. {ttl} A 192.0.2.1", sig("A", ttl=min(ttl, 300))],
                    aa=aa)

    auth = FakeAuthorities({NS1: signed(157, aa=True), NS2: signed(290, aa=True)})
    script = {"candidate": [signed(3782)], "unbound": [signed(166), signed(166), signed(161)]}
    v = await Differ(DifferConfig(fresh_candidate=False), authorities=auth).judge(
        observation(signed(3783), signed(256)), Reference(script))
    assert v.kind is VerdictKind.REAL and v.category == "answer.ttl", v.evidence
    assert any("original TTL the signer gave (300)" in (f.how or "")
               for f in v.evidence.noise_floor), v.evidence


async def test_a_raised_negative_ttl_is_real_whatever_ttl_the_authority_gives_its_soa() -> None:
    # the authority gives its SOA a day; a negative answer carries it for the negative TTL
    day = SOA.replace("example. 300 SOA", "example. 86400 SOA")

    def neg(ttl: int, *, aa: bool = False) -> bytes:
        return resp(rcode=dns.rcode.NXDOMAIN, authority=[SOA.replace(" 300 SOA", f" {ttl} SOA")],
                    aa=aa)

    auth = FakeAuthorities({NS1: resp("example.", "SOA", answer=[day], aa=True),
                            NS2: resp("example.", "SOA", answer=[day], aa=True)})
    script = {"candidate": [neg(3900)], "unbound": [neg(300)]}
    v = await Differ(authorities=auth).judge(observation(neg(3900), neg(300)),
                                             Reference(script))
    assert v.kind is VerdictKind.REAL and v.category == "authority.ttl", v.evidence


async def test_without_authorities_or_switched_off_nothing_is_swept() -> None:
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.2", aa=True)})
    off = Differ(DifferConfig(authority_sweep=False), authorities=auth)
    v = await off.judge(observation(a("192.0.2.2"), a("192.0.2.1")),
                        Reference(stable("192.0.2.2", "192.0.2.1")))
    assert v.kind is VerdictKind.REAL and auth.asked == []
    v = await Differ().judge(observation(a("192.0.2.2"), a("192.0.2.1")),
                             Reference(stable("192.0.2.2", "192.0.2.1")))
    assert v.kind is VerdictKind.REAL and not v.evidence.authority_sweep


async def test_the_budget_covers_the_sweep_never_real_when_spent() -> None:
    auth = FakeAuthorities({NS1: a("192.0.2.1", aa=True), NS2: a("192.0.2.2", aa=True)})
    cfg = DifferConfig(requery_rate=0.001, requery_burst=8)  # the floor's share, no more
    v = await Differ(cfg, authorities=auth).judge(
        observation(a("192.0.2.2"), a("192.0.2.1")), Reference(stable("192.0.2.2",
                                                                     "192.0.2.1")))
    assert v.kind is VerdictKind.UNDECIDED, v.evidence
    assert v.evidence.budget_exhausted_at in ("sweep", "floor", "egress", "fresh")


def test_the_zone_and_its_servers_from_the_reference_s_answers() -> None:
    neg = parse(resp("www.example.", "SOA", authority=[SOA]))
    assert apex_of(neg, "www.example.") == "example."
    at_apex = parse(resp("example.", "SOA", answer=[SOA]))
    assert apex_of(at_apex, "example.") == "example."
    assert apex_of(parse(resp("www.other.", "SOA", authority=[SOA])), "www.other.") is None
    ns = parse(resp("example.", "NS", answer=["example. 300 NS ns2.example.,ns1.example."],
                    additional=[f"ns1.example. 300 A {NS1}"]))
    assert server_addresses(ns, "example.") == (["ns1.example.", "ns2.example."],
                                                {"ns1.example.": [NS1]})
    assert AuthorityAnswer("x", parse(a("192.0.2.1", aa=True))).authoritative
    assert not AuthorityAnswer("x", parse(a("192.0.2.1"))).authoritative
    refused = resp(rcode=dns.rcode.REFUSED, aa=True)
    assert not AuthorityAnswer("x", parse(refused)).authoritative


async def test_udp_authorities_keep_to_the_address_policy() -> None:
    lab = UdpAuthorities(53, timeout=0.2, policy=AddressPolicy.lab_mode("test"))
    answer = await lab("192.0.2.1", Query("www.example.", 1, rd=False))
    assert answer.wire is None and answer.error is not None and "refused" in answer.error


async def test_udp_authorities_ask_without_recursion_on_loopback() -> None:
    seen: list[dns.message.Message] = []

    class Server(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            q = dns.message.from_wire(data)
            seen.append(q)
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(q.question[0].name, 30, "IN", "A",
                                                "192.0.2.9"))
            self.transport.sendto(r.to_wire(), addr)  # type: ignore[attr-defined]

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Server, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        ask = UdpAuthorities(port, timeout=2.0, policy=AddressPolicy.lab_mode("test"))
        answer = await ask("127.0.0.1", Query("www.example.", 1, rd=True, do=True))
    finally:
        transport.close()
    assert answer.wire is not None, answer.error
    assert AuthorityAnswer("x", parse(answer.wire)).authoritative
    [q] = seen
    assert not q.flags & dns.flags.RD and q.ednsflags & dns.flags.DO
