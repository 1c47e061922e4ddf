"""Validation failures that another server, or a fresh fetch, can mend; denials without SOA.

A small signed lab world answered in process (MockTransport + LabServer.answer) with an
on-path meddler that spoils chosen responses:

* bogus data, a bogus DNSKEY set, a bogus DS (denial) from one server of a zone is fetched
  again from the zone's other servers, as Unbound does with its blacklist (RFC 4035 §5.5);
  when every server has given bogus data the answer stays bogus, cached as such;
* a DS taken from a referral that does not verify is fetched afresh;
* NSEC/NSEC3 proofs prove a denial without an SOA beside them;
* a bad NSEC record that the proof does not need does not spoil it; when it is needed, its
  failure is the one reported.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from lab.authserver import LabServer
from lab.run import root_servers
from lab.world import WorldDef, parse_world
from lab.zones import LabZone, build_zones, trust_anchor_ds
from resolver.app import assemble
from resolver.cache import DnsCache, Security
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.dnssec.anchors import TrustAnchors
from resolver.dnssec.verdicts import Ede
from resolver.model import Request
from resolver.recursor import RecursorConfig

T = dns.rdatatype
N = dns.name.from_text
START = 1_700_000_000
SIGNED = {"algorithm": "ECDSAP256SHA256", "denial": "nsec"}
EX1, EX2 = "127.61.0.3", "127.61.0.4"

Zones = dict[dns.name.Name, LabZone]
Tamper = Callable[[str, dns.message.Message], None]


def world() -> WorldDef:
    servers: dict[str, Any] = {
        "root": {"name": "a.root.lab.", "address": "127.61.0.1"},
        "tld": {"name": "ns.nic.lab.", "address": "127.61.0.2"},
        "ex1": {"name": "ns1.example.lab.", "address": EX1},
        "ex2": {"name": "ns2.example.lab.", "address": EX2},
        "ins": {"name": "ns.insecure.lab.", "address": "127.61.0.5"},
    }
    zones: dict[str, Any] = {
        ".": {"servers": ["root"], "ttl": 86400, "signing": SIGNED},
        "lab.": {"servers": ["tld"], "signing": SIGNED},
        "example.lab.": {"servers": ["ex1", "ex2"], "signing": SIGNED,
                         "records": "www 300 A 127.100.0.1\nmail 300 A 127.100.0.2\n"},
        "insecure.lab.": {"servers": ["ins"], "records": "www 300 A 127.100.0.3\n"},
    }
    return parse_world({"port": 53, "servers": servers, "zones": zones}, "<test>")


@pytest.fixture(scope="module")
def lab_world() -> tuple[WorldDef, Zones]:
    w = world()
    return w, build_zones(w, now=START)


class Lab:
    def __init__(self, w: WorldDef, zones: Zones, tamper: Tamper | None = None) -> None:
        server = LabServer(w, zones, seed=5)
        by_addr = {s.address: s for s in w.servers.values()}

        def handler(address: str, query: dns.message.Message,
                    tcp: bool) -> dns.message.Message | None:
            wire = server.answer(by_addr[address], query.to_wire(), "127.54.3.1", tcp)
            if wire is None:
                return None
            response = dns.message.from_wire(wire)
            if tamper is not None:
                tamper(address, response)
            return response

        self.clock = ManualClock(START)
        self.cache = DnsCache(8 * 1024 * 1024)
        self.transport = MockTransport(handler)
        resolver = assemble(self.transport, self.clock, cache=self.cache,
                            root_hints=root_servers(zones),
                            recursor_config=RecursorConfig(qname_minimisation=False),
                            anchors=TrustAnchors.from_records(trust_anchor_ds(zones)),
                            rng=random.Random(3))
        assert resolver.validator is not None
        self.conductor, self.validator = resolver.conductor, resolver.validator
        self.answerer = resolver.answerer

    async def ask(self, name: str, rdtype: str = "A") -> dns.message.Message:
        qname, qtype = N(name), T.from_text(rdtype)
        query = dns.message.make_query(qname, qtype, use_edns=0, want_dnssec=True)
        return await self.answerer.answer(Request(qname, qtype, do=True), query)

    def asked(self, name: str, rdtype: str, among: tuple[str, ...] = ()) -> list[str]:
        """The servers asked (name, rdtype), in order (only those of ``among``, if given)."""
        return [s.address for s in self.transport.sent
                if s.qname == N(name) and s.qtype == T.from_text(rdtype)
                and (not among or s.address in among)]


def ad(reply: dns.message.Message) -> bool:
    return bool(reply.flags & dns.flags.AD)


def ede_codes(reply: dns.message.Message) -> list[int]:
    return [int(o.code) for o in reply.options if isinstance(o, dns.edns.EDEOption)]


def _spoil(section: list[dns.rrset.RRset], owner: str, covers: int) -> bool:
    """Break the signature over (owner, covers) in ``section``: one bit of it flipped."""
    for i, r in enumerate(section):
        if r.rdtype == T.RRSIG and r.covers == covers and r.name == N(owner):
            bad = dns.rrset.RRset(r.name, r.rdclass, r.rdtype, r.covers)
            for rd in r:
                sig = bytearray(rd.signature)
                sig[-1] ^= 0x01
                bad.add(rd.replace(signature=bytes(sig)), r.ttl)
            section[i] = bad
            return True
    return False


def spoil_first(owner: str, qtype: int, covers: int, *, section: str = "answer",
                only: str | None = None, signed: str | None = None) -> Tamper:
    """A meddler that breaks the signature over (``signed`` or ``owner``, ``covers``) in the
    first response to (owner, qtype) (from the server ``only``, if set)."""
    done: list[str] = []

    def tamper(address: str, response: dns.message.Message) -> None:
        q = response.question[0]
        if done or q.name != N(owner) or q.rdtype != qtype:
            return
        if only is not None and address != only:
            return
        if _spoil(getattr(response, section), signed or owner, covers):
            done.append(address)

    return tamper


async def test_bogus_answer_is_fetched_again_from_the_zones_other_server(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    lab = Lab(*lab_world, spoil_first("www.example.lab.", T.A, T.A))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply)
    assert [r.rdtype for r in reply.answer if r.rdtype == T.A] == [T.A]
    servers = lab.asked("www.example.lab.", "A", (EX1, EX2))
    assert len(servers) == 2 and set(servers) == {EX1, EX2}  # the other one, once
    assert lab.validator.stats["bogus_restarts"] == 1
    sent = len(lab.transport.sent)
    again = await lab.ask("www.example.lab.")  # the good copy is what is cached
    assert ad(again) and len(lab.transport.sent) == sent


async def test_bogus_from_every_server_stays_bogus_and_cached(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    def always(address: str, response: dns.message.Message) -> None:
        if response.question[0].name == N("www.example.lab."):
            _spoil(response.answer, "www.example.lab.", T.A)

    lab = Lab(*lab_world, always)
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSSEC_BOGUS]
    servers = lab.asked("www.example.lab.", "A", (EX1, EX2))
    assert sorted(servers) == sorted([EX1, EX2])  # each asked once, then nobody is left
    cached = lab.cache.rrsets.get(N("www.example.lab."), T.A, lab.clock.monotonic())
    assert cached is not None and cached.security is Security.BOGUS
    sent = len(lab.transport.sent)
    again = await lab.ask("www.example.lab.")
    assert again.rcode() == dns.rcode.SERVFAIL and len(lab.transport.sent) == sent


async def test_bogus_dnskey_set_is_fetched_again_from_the_other_server(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    lab = Lab(*lab_world, spoil_first("example.lab.", T.DNSKEY, T.DNSKEY))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply)
    servers = lab.asked("example.lab.", "DNSKEY")
    assert len(servers) == 2 and set(servers) == {EX1, EX2}
    assert lab.validator.stats["dnskey_restarts"] == 1


async def test_a_referrals_bogus_ds_is_fetched_afresh(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    # The referral to example.lab. carries a DS whose signature is broken (cached as is).
    lab = Lab(*lab_world, spoil_first("www.example.lab.", T.A, T.DS, section="authority",
                                      only="127.61.0.2", signed="example.lab."))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply)
    assert lab.asked("example.lab.", "DS") == ["127.61.0.2"]  # fetched once, afresh
    assert lab.validator.stats["ds_restarts"] == 1


def strip_soa(owner_zone: str, qtype: int) -> Tamper:
    def tamper(address: str, response: dns.message.Message) -> None:
        if response.question[0].rdtype != qtype:
            return
        response.authority = [
            r for r in response.authority
            if not (r.name == N(owner_zone)
                    and (r.rdtype == T.SOA or (r.rdtype == T.RRSIG and r.covers == T.SOA)))
        ]

    return tamper


async def test_denials_without_soa_are_proven_by_their_nsec_records(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    # The referral to insecure.lab. proves "no DS" with its NSEC: no DS query at all.
    lab = Lab(*lab_world)
    reply = await lab.ask("www.insecure.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and not ad(reply) and not ede_codes(reply)
    assert not lab.asked("insecure.lab.", "DS")
    assert lab.validator.stats["ds_from_referral"] >= 1
    # Without those NSEC records the DS is asked, and its denial comes without lab.'s SOA:
    # still an insecure delegation.
    strip = strip_soa("lab.", T.DS)

    def no_referral_proofs(address: str, response: dns.message.Message) -> None:
        strip(address, response)
        if any(r.rdtype == T.NS and r.name == N("insecure.lab.") for r in response.authority):
            response.authority = [r for r in response.authority
                                  if r.rdtype not in (T.NSEC, T.RRSIG)]

    lab = Lab(*lab_world, no_referral_proofs)
    reply = await lab.ask("www.insecure.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and not ad(reply) and not ede_codes(reply)
    assert lab.asked("insecure.lab.", "DS")
    # A NODATA without SOA from a signed zone: secure, from the NSEC alone.
    lab = Lab(*lab_world, strip_soa("example.lab.", T.TXT))
    reply = await lab.ask("www.example.lab.", "TXT")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply) and not reply.answer
    assert any(r.rdtype == T.NSEC for r in reply.authority)


def add_forged_nsec(owner: str, *, needed: bool) -> Tamper:
    """Add a badly signed NSEC to NXDOMAIN answers; or, with ``needed``, spoil the one that
    covers the name."""

    def tamper(address: str, response: dns.message.Message) -> None:
        if response.rcode() != dns.rcode.NXDOMAIN:
            return
        nsecs = [r for r in response.authority if r.rdtype == T.NSEC]
        if needed:
            covering = next(r for r in nsecs if r.name < N(owner))
            _spoil(response.authority, covering.name.to_text(), T.NSEC)
            return
        extra = nsecs[0].name.to_text()
        sigs = [r for r in response.authority if r.rdtype == T.RRSIG
                and r.covers == T.NSEC and r.name == nsecs[0].name]
        fake = dns.rrset.from_text("zzz.example.lab.", 300, "IN", "NSEC",
                                   "example.lab. A RRSIG NSEC")
        fake_sig = dns.rrset.RRset(fake.name, fake.rdclass, T.RRSIG, T.NSEC)
        for rd in sigs[0]:
            fake_sig.add(rd.replace(labels=3), 300)  # a signature over something else
        response.authority.extend([fake, fake_sig])
        assert extra

    return tamper


async def test_a_bad_nsec_the_proof_does_not_need_does_not_spoil_it(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    lab = Lab(*lab_world, add_forged_nsec("nope.example.lab.", needed=False))
    reply = await lab.ask("nope.example.lab.")
    assert reply.rcode() == dns.rcode.NXDOMAIN and ad(reply)
    lab = Lab(*lab_world, add_forged_nsec("nope.example.lab.", needed=True))
    reply = await lab.ask("nope.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert ede_codes(reply) == [Ede.DNSSEC_BOGUS]  # the bad signature, not "NSEC missing"


async def test_ds_at_the_root_is_denied_by_the_root_itself(
    lab_world: tuple[WorldDef, Zones],
) -> None:
    # The root has no parent: its apex NSEC (with SOA) is what denies ". DS", and that is
    # a secure NODATA, not "a DS denied by the child side of a cut".
    lab = Lab(*lab_world)
    reply = await lab.ask(".", "DS")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply) and not reply.answer
    assert {r.rdtype for r in reply.authority} >= {T.SOA, T.NSEC}
    assert lab.asked(".", "DS") == ["127.61.0.1"]
