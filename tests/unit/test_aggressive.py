"""RFC 8198 aggressive use of validated NSEC records (resolver.dnssec.synthesis and the
validator's use of it), on a small signed lab world answered in process (MockTransport).

example.lab.'s NSEC chain: example.lab. → deleg → mail → ns1 → *.wild → www → (apex).
deleg.example.lab. is an unsigned child zone; insecure.lab. is unsigned.
"""

from __future__ import annotations

from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from lab.world import WorldDef, parse_world
from lab.zones import LabZone, build_zones
from resolver.cache import NsecCache
from resolver.dnssec import synthesis as aggressive
from resolver.model import Request
from tests.unit.test_validator_restarts import Lab as RestartsLab

T = dns.rdatatype
N = dns.name.from_text
START = 1_700_000_000
SIGNED = {"algorithm": "ECDSAP256SHA256", "denial": "nsec"}

Zones = dict[dns.name.Name, LabZone]


def signed_lab(servers: dict[str, Any], zones: dict[str, Any]) -> WorldDef:
    """A signed root and lab. (NSEC) above the given servers and zones."""
    return parse_world({"port": 53, "servers": {
        "root": {"name": "a.root.lab.", "address": "127.62.0.1"},
        "tld": {"name": "ns.nic.lab.", "address": "127.62.0.2"}, **servers,
    }, "zones": {
        ".": {"servers": ["root"], "ttl": 86400, "signing": SIGNED},
        "lab.": {"servers": ["tld"], "signing": SIGNED}, **zones,
    }}, "<test>")


def world() -> WorldDef:
    servers: dict[str, Any] = {
        "ex": {"name": "ns1.example.lab.", "address": "127.62.0.3"},
        "ins": {"name": "ns.insecure.lab.", "address": "127.62.0.5"},
        "del": {"name": "ns.deleg.example.lab.", "address": "127.62.0.6"},
    }
    zones: dict[str, Any] = {
        "example.lab.": {"servers": ["ex"], "signing": SIGNED,
                         "records": "www 300 A 127.100.0.1\nmail 300 A 127.100.0.2\n"
                                    "*.wild 300 A 127.100.0.9\n"},
        "deleg.example.lab.": {"servers": ["del"], "records": "www 300 A 127.100.0.4\n"},
        "insecure.lab.": {"servers": ["ins"], "records": "www 300 A 127.100.0.3\n"},
    }
    return signed_lab(servers, zones)


@pytest.fixture(scope="module")
def lab_world() -> tuple[WorldDef, Zones]:
    w = world()
    return w, build_zones(w, now=START)


class Lab(RestartsLab):
    """test_validator_restarts' lab behind a validating resolver, asked with DO and CD as
    given, counting what it sent."""

    async def ask(self, name: str, rdtype: str = "A", *, cd: bool = False,
                  do: bool = True) -> dns.message.Message:
        qname, qtype = N(name), T.from_text(rdtype)
        query = dns.message.make_query(qname, qtype, use_edns=0, want_dnssec=do)
        if cd:
            query.flags |= dns.flags.CD
        return await self.answerer.answer(Request(qname, qtype, do=do, cd=cd), query)

    @property
    def sent(self) -> int:
        return len(self.transport.sent)


def ad(reply: dns.message.Message) -> bool:
    return bool(reply.flags & dns.flags.AD)


def types(section: list[dns.rrset.RRset]) -> set[tuple[str, int]]:
    return {(r.name.to_text(), r.rdtype) for r in section}


async def test_nxdomain_is_synthesised_from_a_cached_nsec(
        lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    first = await lab.ask("nx1.example.lab.")
    assert first.rcode() == dns.rcode.NXDOMAIN and ad(first)
    sent = lab.sent
    second = await lab.ask("ok.example.lab.")  # ns1 < ok < *.wild: the same NSEC
    assert lab.sent == sent
    assert second.rcode() == dns.rcode.NXDOMAIN and ad(second)
    # The same proofs an authoritative answer carries: SOA, the covering NSEC, the NSEC
    # denying the wildcard, each with its RRSIG.
    got = types(second.authority)
    assert ("example.lab.", T.SOA) in got
    assert ("ns1.example.lab.", T.NSEC) in got and ("example.lab.", T.NSEC) in got
    assert sum(1 for r in second.authority if r.rdtype == T.RRSIG) == 3
    assert lab.validator.stats["aggressive"] == 1
    soa = next(r for r in second.authority if r.rdtype == T.SOA)
    assert 0 < soa.ttl <= soa[0].minimum


async def test_a_name_the_nsecs_do_not_cover_goes_upstream(
        lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    await lab.ask("nx1.example.lab.")
    sent = lab.sent
    reply = await lab.ask("zzz.example.lab.")  # after www: the apex-wrapping NSEC, not cached
    assert lab.sent > sent
    assert reply.rcode() == dns.rcode.NXDOMAIN and ad(reply)
    assert lab.validator.stats["aggressive"] == 0


async def test_nodata_for_an_existing_name_is_synthesised(
        lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    first = await lab.ask("mail.example.lab.", "AAAA")
    assert first.rcode() == dns.rcode.NOERROR and not first.answer and ad(first)
    sent = lab.sent
    reply = await lab.ask("mail.example.lab.", "TXT")
    assert lab.sent == sent
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer and ad(reply)
    assert ("mail.example.lab.", T.NSEC) in types(reply.authority)
    # The type the NSEC lists is not denied: it is asked for.
    data = await lab.ask("mail.example.lab.", "A")
    assert data.answer and lab.sent > sent


async def test_wildcard_answer_is_synthesised_from_cache(
        lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    first = await lab.ask("a.wild.example.lab.")
    assert first.rcode() == dns.rcode.NOERROR and ad(first)
    sent = lab.sent
    reply = await lab.ask("b.wild.example.lab.")
    assert lab.sent == sent
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply)
    a = next(r for r in reply.answer if r.rdtype == T.A)
    assert a.name == N("b.wild.example.lab.") and a[0].address == "127.100.0.9"
    sig = next(r for r in reply.answer if r.rdtype == T.RRSIG)
    assert sig.name == a.name and sig[0].labels == 3  # still the wildcard's signature
    assert ("*.wild.example.lab.", T.NSEC) in types(reply.authority)
    # Without DO the proofs and signatures stay out.
    plain = await lab.ask("c.wild.example.lab.", do=False)
    assert lab.sent == sent
    assert {r.rdtype for r in plain.answer} == {T.A} and not plain.authority


async def test_cd_never_synthesises(lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    await lab.ask("nx1.example.lab.")
    sent = lab.sent
    reply = await lab.ask("ok.example.lab.", cd=True)
    assert lab.sent > sent
    # asked upstream, then validated as any answer: a CD query's secure data keeps AD
    # (RFC 6840 §5.9; Unbound validates CD queries too)
    assert reply.rcode() == dns.rcode.NXDOMAIN and ad(reply)
    assert lab.validator.stats["aggressive"] == 0


async def test_expired_nsec_is_not_used(lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    first = await lab.ask("nx1.example.lab.")
    soa = next(r for r in first.authority if r.rdtype == T.SOA)
    lab.clock.advance(soa.ttl + 1)
    sent = lab.sent
    reply = await lab.ask("ok.example.lab.")
    assert lab.sent > sent
    assert reply.rcode() == dns.rcode.NXDOMAIN and ad(reply)
    assert lab.validator.stats["aggressive"] == 0


async def test_insecure_zone_never_synthesises(lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    first = await lab.ask("nx1.insecure.lab.")
    assert first.rcode() == dns.rcode.NXDOMAIN and not ad(first)
    sent = lab.sent
    reply = await lab.ask("nx2.insecure.lab.")
    assert lab.sent > sent and reply.rcode() == dns.rcode.NXDOMAIN and not ad(reply)
    assert lab.validator.stats["aggressive"] == 0


async def test_no_synthesis_below_a_delegation(lab_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*lab_world)
    # "dz" sorts after "deleg": the NXDOMAIN proof is the NSEC at the delegation (NS, no SOA).
    first = await lab.ask("dz.example.lab.")
    assert first.rcode() == dns.rcode.NXDOMAIN and ad(first)
    assert ("deleg.example.lab.", T.NSEC) in types(first.authority)
    sent = lab.sent
    reply = await lab.ask("nx.deleg.example.lab.")  # spanned by that NSEC, but below the cut
    assert lab.sent > sent
    assert reply.rcode() == dns.rcode.NXDOMAIN and not ad(reply)  # the unsigned child's
    assert lab.validator.stats["aggressive"] == 0


# -- the pure function ---------------------------------------------------------------------------


def _nsec(owner: str, nxt: str, bitmap: str) -> aggressive.Proof:
    rrset = dns.rrset.from_text(owner, 300, "IN", "NSEC", f"{nxt} {bitmap}")
    return aggressive.Proof(rrset, None, 300)


def _lookup(chain: list[aggressive.Proof]) -> aggressive.NsecLookup:
    cache = NsecCache()
    for p in chain:
        cache.put_nsec(N("z."), p.rrset, None, 300.0)

    def find(name: dns.name.Name) -> aggressive.Proof | None:
        hit = cache.at_or_before(N("z."), name, 0.0)
        return None if hit is None else aggressive.Proof(hit.rrset, hit.sigs, hit.ttl(0.0))

    return find


CHAIN = [
    _nsec("z.", "b.z.", "NS SOA RRSIG NSEC DNSKEY"),
    _nsec("b.z.", "cut.z.", "A RRSIG NSEC"),
    _nsec("cut.z.", "d.z.", "NS RRSIG NSEC"),
    _nsec("d.z.", "x.e.z.", "A RRSIG NSEC"),
    _nsec("x.e.z.", "z.", "A RRSIG NSEC"),
]


def _none(name: dns.name.Name, rdtype: int) -> aggressive.Proof | None:
    return None


@pytest.mark.parametrize(("qname", "qtype", "rcode"), [
    ("c.z.", T.A, dns.rcode.NXDOMAIN),  # b < c < cut; the apex NSEC denies *.z
    ("b.z.", T.AAAA, dns.rcode.NOERROR),  # NODATA at b
    ("e.z.", T.A, dns.rcode.NOERROR),  # an empty non-terminal
    ("cut.z.", T.DS, dns.rcode.NOERROR),  # an insecure delegation, from the parent
    ("b.z.", T.A, None),  # the type exists
    ("x.cut.z.", T.A, None),  # below the delegation
    ("cut.z.", T.A, None),  # the parent side of a cut proves no NODATA
    ("b.z.", T.ANY, None),
])
def test_synthesise(qname: str, qtype: int, rcode: int | None) -> None:
    out = aggressive.synthesise(N(qname), qtype, N("z."), _lookup(CHAIN), _none)
    assert (None if out is None else out.rcode) == rcode


# -- NSEC3 ------------------------------------------------------------------------------------

NSEC3 = {"algorithm": "ECDSAP256SHA256", "denial": "nsec3", "nsec3_salt": "aabbccdd"}
OPTOUT = {"algorithm": "ECDSAP256SHA256", "denial": "nsec3_optout"}


@pytest.fixture(scope="module")
def nsec3_world() -> tuple[WorldDef, Zones]:
    servers: dict[str, Any] = {
        "n3": {"name": "ns1.n3.lab.", "address": "127.62.0.7"},
        "oo": {"name": "ns1.oo.lab.", "address": "127.62.0.8"},
        "un": {"name": "ns.un.oo.lab.", "address": "127.62.0.9"},
    }
    zones: dict[str, Any] = {
        "n3.lab.": {"servers": ["n3"], "signing": NSEC3,
                    "records": "www 300 A 127.100.0.1\nmail 300 A 127.100.0.2\n"
                               "*.wild 300 A 127.100.0.9\n"},
        "oo.lab.": {"servers": ["oo"], "signing": OPTOUT, "records": "www 300 A 127.100.0.5\n"},
        "un.oo.lab.": {"servers": ["un"], "records": "www 300 A 127.100.0.6\n"},
    }
    w = signed_lab(servers, zones)
    return w, build_zones(w, now=START)


async def test_nsec3_wildcard_answer_is_synthesised(
        nsec3_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*nsec3_world)
    first = await lab.ask("a.wild.n3.lab.")
    assert first.rcode() == dns.rcode.NOERROR and ad(first)
    sent = lab.sent
    for label in ("b", "c", "d", "e", "f"):  # hashes fall into the zone's few NSEC3 spans
        await lab.ask(f"{label}.wild.n3.lab.")
    synthesised = lab.validator.stats["aggressive"]
    assert synthesised >= 1 and lab.sent - sent == 5 - synthesised
    # a synthesised answer looks like an upstream one: wildcard signature and NSEC3 proof
    lab2 = Lab(*nsec3_world)
    await lab2.ask("a.wild.n3.lab.")
    for label in ("b", "c", "d", "e", "f"):
        upstream = await lab2.ask(f"{label}.wild.n3.lab.")
        cached = await lab.ask(f"{label}.wild.n3.lab.")
        assert cached.rcode() == upstream.rcode() == dns.rcode.NOERROR and ad(cached)
        assert [(r.name, r.rdtype) for r in cached.answer if r.rdtype == T.A] == \
            [(r.name, r.rdtype) for r in upstream.answer if r.rdtype == T.A]
        assert any(r.rdtype == T.NSEC3 for r in cached.authority)


async def test_nsec3_nxdomain_and_nodata_are_synthesised_once_the_spans_are_cached(
        nsec3_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*nsec3_world)
    names = [f"nx{i}.n3.lab." for i in range(12)]
    for name in names:  # fills the cache with the zone's NSEC3 records
        reply = await lab.ask(name)
        assert reply.rcode() == dns.rcode.NXDOMAIN and ad(reply)
    sent, before = lab.sent, lab.validator.stats["aggressive"]
    for name in names:
        again = await lab.ask("y" + name)  # other names (below one would be RFC 8020's)
        assert again.rcode() == dns.rcode.NXDOMAIN and ad(again), name
        assert ("n3.lab.", T.SOA) in types(again.authority)
        assert sum(1 for r in again.authority if r.rdtype == T.NSEC3) in (2, 3)
    synthesised = lab.validator.stats["aggressive"] - before
    assert synthesised >= 6 and lab.sent - sent == 12 - synthesised
    nodata = await lab.ask("mail.n3.lab.", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and ad(nodata)
    sent = lab.sent
    txt = await lab.ask("mail.n3.lab.", "TXT")
    assert lab.sent == sent and not txt.answer and ad(txt)
    data = await lab.ask("mail.n3.lab.", "A")  # the type the NSEC3 lists is asked for
    assert data.answer and lab.sent > sent


async def test_nsec3_opt_out_spans_are_never_synthesised_from(
        nsec3_world: tuple[WorldDef, Zones]) -> None:
    lab = Lab(*nsec3_world)
    names = [f"nx{i}.oo.lab." for i in range(8)]
    for name in names:
        first = await lab.ask(name)
        assert first.rcode() == dns.rcode.NXDOMAIN and not ad(first)  # opt-out: insecure
    sent = lab.sent
    for name in names:
        again = await lab.ask("y" + name)
        assert again.rcode() == dns.rcode.NXDOMAIN and not ad(again)
    assert lab.validator.stats["aggressive"] == 0 and lab.sent - sent == 8
