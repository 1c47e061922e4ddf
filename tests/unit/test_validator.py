"""The validating recursor over the lab, in process (MockTransport + LabServer.answer).

The whole default lab: every manifest name's DNSSEC state (AD / SERVFAIL+EDE / plain) is
the manifest's, which is what Unbound answers, with QNAME minimisation on and off.  Small
worlds made here: signature times against a fake clock (EDE 7 and 8, TTL capping),
unsupported algorithms and digests (insecure), NSEC3 iteration limits (EDE 27), negative
trust anchors, CD, the AD rules, and what the cache keeps.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rrset
import pytest

from lab.authserver import LabServer
from lab.manifest import agrees, manifest
from lab.run import root_servers
from lab.world import WorldDef, load_world, parse_world
from lab.zones import LabZone, build_zones, trust_anchor_ds
from resolver.app import assemble
from resolver.cache import DnsCache, Rank, Security
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.dnssec.anchors import TrustAnchors
from resolver.dnssec.chain import ZoneKeys
from resolver.dnssec.config import BOGUS_TTL_S, DnssecConfig
from resolver.dnssec.validating import ValidatedResolution, ValidatingRecursor
from resolver.dnssec.verdicts import Ede
from resolver.model import Request
from resolver.recursor import Recursor, RecursorConfig

T = dns.rdatatype
N = dns.name.from_text
START = 1_700_000_000
DAY = 86400
DNSSEC_EDE = {1, 2, 6, 7, 8, 9, 10, 12, 27}

Zones = dict[dns.name.Name, LabZone]


class Lab:
    """A world answered in process, a validating resolver in front of it, a fake clock."""

    def __init__(
        self,
        world: WorldDef,
        zones: Zones,
        clock: ManualClock,
        *,
        qmin: bool = True,
        negative: tuple[str, ...] = (),
        anchors: list[str] | None = None,
        config: DnssecConfig | None = None,
        tamper: Callable[[dns.message.Message], None] | None = None,
    ) -> None:
        server = LabServer(world, zones, seed=5)
        by_addr = {s.address: s for s in world.servers.values()}

        def handler(address: str, query: dns.message.Message,
                    tcp: bool) -> dns.message.Message | None:
            s = by_addr.get(address)
            if s is None:
                return None
            wire = server.answer(s, query.to_wire(), "127.54.3.1", tcp)
            if wire is None:
                return None
            response = dns.message.from_wire(wire)
            if tamper is not None:
                tamper(response)  # an on-path meddler
            return response

        self.clock = clock
        self.cache = DnsCache(32 * 1024 * 1024)
        self.transport = MockTransport(handler)
        ta = TrustAnchors.from_records(
            trust_anchor_ds(zones) if anchors is None else anchors, negative
        )
        resolver = assemble(self.transport, clock, cache=self.cache,
                            root_hints=root_servers(zones),
                            recursor_config=RecursorConfig(qname_minimisation=qmin),
                            anchors=ta, dnssec_config=config, rng=random.Random(11))
        assert resolver.validator is not None
        self.conductor, self.validator = resolver.conductor, resolver.validator
        self.answerer = resolver.answerer

    async def ask(self, name: str | dns.name.Name, rdtype: str | int = "A", *, do: bool = True,
                  cd: bool = False, ad: bool = False, edns: bool = True) -> dns.message.Message:
        qname = N(name) if isinstance(name, str) else name
        qtype = T.from_text(rdtype) if isinstance(rdtype, str) else rdtype
        query = dns.message.make_query(qname, T.RdataType.make(qtype), use_edns=0 if edns else None,
                                       want_dnssec=do)
        if cd:
            query.flags |= dns.flags.CD
        if ad:
            query.flags |= dns.flags.AD
        return await self.answerer.answer(Request(qname, qtype, do=do, cd=cd), query)

    async def resolve(self, name: str, rdtype: str = "A", cd: bool = False) -> ValidatedResolution:
        return await self.validator.resolve(Request(N(name), T.from_text(rdtype), cd=cd),
                                            self.conductor)


def ede_codes(reply: dns.message.Message) -> list[int]:
    return [int(o.code) for o in reply.options if isinstance(o, dns.edns.EDEOption)]


def ad(reply: dns.message.Message) -> bool:
    return bool(reply.flags & dns.flags.AD)


def state_of(reply: dns.message.Message) -> str:
    """What a client sees: secure (AD), bogus (SERVFAIL with a DNSSEC EDE), insecure (no AD),
    or servfail (SERVFAIL without one)."""
    if reply.rcode() == dns.rcode.SERVFAIL:
        return "bogus" if set(ede_codes(reply)) & DNSSEC_EDE else "servfail"
    return "secure" if ad(reply) else "insecure"


# -- the whole lab -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_lab() -> tuple[WorldDef, Zones]:
    world = load_world()
    return world, build_zones(world, now=START)


EXPECTED_EDE = {
    "www.expired.broken.": Ede.SIGNATURE_EXPIRED,
    "www.future.broken.": Ede.SIGNATURE_NOT_YET_VALID,
    "www.badsig.broken.": Ede.DNSSEC_BOGUS,
    "www.nokey.broken.": Ede.DNSKEY_MISSING,
    "www.stripped.broken.": Ede.RRSIGS_MISSING,
}


def test_the_recursor_is_given_the_zone_keys_and_each_resolver_has_its_own_memo() -> None:
    """The recursor learns which zones are signed from the ZoneKeys it was built with (not
    from a callback pushed in afterwards); a recursor built without them is refused; two
    validating recursors share no signature memo."""
    anchors = TrustAnchors.from_records([". DS 20326 8 2 " + "AB" * 32])
    clock = ManualClock()
    hints = (("a.root.", "127.0.0.1"),)
    made = []
    for _ in range(2):
        zones = ZoneKeys(anchors, clock)
        recursor = Recursor(DnsCache(1 << 20), hints, clock, signed_zone_hint=zones.is_signed)
        made.append(ValidatingRecursor(recursor, zones))
        assert recursor.signed_zone_hint is not None
        assert recursor.signed_zone_hint(dns.name.root)  # the anchored root is signed
        assert not recursor.signed_zone_hint(dns.name.from_text("example."))  # unknown yet
    assert made[0].verifier.memo is not made[1].verifier.memo
    with pytest.raises(ValueError, match="signed_zone_hint"):
        ValidatingRecursor(Recursor(DnsCache(1 << 20), hints, clock), ZoneKeys(anchors, clock))


@pytest.mark.parametrize("qmin", [True, False], ids=["qmin", "no-qmin"])
async def test_every_manifest_dnssec_state_matches(
    default_lab: tuple[WorldDef, Zones], qmin: bool
) -> None:
    world, zones = default_lab
    lab = Lab(world, zones, ManualClock(START), qmin=qmin)
    counts: collections.Counter[str] = collections.Counter()
    wrong: list[str] = []
    for entry in manifest(world):
        assert entry.dnssec is not None
        expected = entry.dnssec
        if entry.rcode == dns.rcode.SERVFAIL and entry.dnssec != "bogus":
            expected = "servfail"  # resolution itself fails (lame, dead, CNAME loop)
        reply = await lab.ask(entry.name, entry.rdtype)
        got = state_of(reply)
        fine, why = agrees(entry, reply)
        if got != expected or not fine:
            wrong.append(f"{entry.name} {T.to_text(entry.rdtype)}: {got}, expected {expected}"
                         f" ({why}; EDE {ede_codes(reply)})")
            continue
        code = EXPECTED_EDE.get(entry.name.to_text())
        if code is not None and ede_codes(reply) != [code]:
            wrong.append(f"{entry.name}: EDE {ede_codes(reply)}, expected {int(code)}")
            continue
        counts[expected] += 1
    assert not wrong, "\n".join(wrong)
    print(f"qmin={qmin}: matching names per state: {dict(sorted(counts.items()))}")
    assert counts["secure"] >= 30 and counts["insecure"] >= 8 and counts["bogus"] == 5
    # the same names again, from the cache: the same verdicts, no upstream traffic
    sent = len(lab.transport.sent)
    for entry in manifest(world):
        if entry.rcode == dns.rcode.SERVFAIL and entry.dnssec != "bogus":
            continue
        reply = await lab.ask(entry.name, entry.rdtype)
        assert state_of(reply) == entry.dnssec, entry.name
    assert len(lab.transport.sent) - sent <= 10  # only bogus data is fetched again (60 s TTL)


# -- small worlds ----------------------------------------------------------------------------------

SIGNED = {"algorithm": "ECDSAP256SHA256", "denial": "nsec"}


def small_world(**extra_zones: Any) -> WorldDef:
    servers: dict[str, Any] = {
        "root": {"name": "a.root.lab.", "address": "127.60.0.1"},
        "tld": {"name": "ns.nic.lab.", "address": "127.60.0.2"},
        "ex": {"name": "ns.example.lab.", "address": "127.60.0.3"},
        "ins": {"name": "ns.insecure.lab.", "address": "127.60.0.4"},
    }
    zones: dict[str, Any] = {
        ".": {"servers": ["root"], "ttl": 86400, "signing": SIGNED},
        "lab.": {"servers": ["tld"], "signing": SIGNED},
        "example.lab.": {
            "servers": ["ex"],
            "signing": {**SIGNED, "split_keys": True},
            "records": "www 300 A 127.100.0.1\n*.wild 300 A 127.100.0.2\nalias 300 CNAME www\n",
        },
        "insecure.lab.": {"servers": ["ins"], "records": "www 300 A 127.100.0.3\n"},
    }
    for i, (origin, body) in enumerate(extra_zones.items()):
        sid = f"extra{i}"
        name = f"ns.{origin.replace('_', '.')}.lab."
        servers[sid] = {"name": name, "address": f"127.60.1.{i + 1}"}
        zones[f"{origin.replace('_', '.')}.lab."] = {"servers": [sid], **body}
    return parse_world({"port": 53, "servers": servers, "zones": zones}, "<test>")


@pytest.fixture(scope="module")
def small() -> tuple[WorldDef, Zones]:
    world = small_world(
        bad={"signing": {**SIGNED, "mode": "bad_signature"}, "records": "www 300 A 127.1.0.1\n"},
        it={"signing": {"algorithm": "ECDSAP256SHA256", "denial": "nsec3",
                        "nsec3_iterations": 151},
            "records": "www 300 A 127.1.0.2\n"},
        it150={"signing": {"algorithm": "ECDSAP256SHA256", "denial": "nsec3",
                           "nsec3_iterations": 150},
               "records": "www 300 A 127.1.0.3\n"},
    )
    return world, build_zones(world, now=START)


async def test_expired_signatures_give_ede_7_by_the_injected_clock(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START + 40 * DAY))  # signatures last 30 days
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.SIGNATURE_EXPIRED]
    assert not reply.answer


async def test_signatures_from_the_future_give_ede_8(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START - 3 * DAY))  # inception is START - 1 hour
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert ede_codes(reply) == [Ede.SIGNATURE_NOT_YET_VALID]


async def test_validity_follows_the_clock_and_caps_ttls(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    clock = ManualClock(START + 30 * DAY - 100)  # 100 s before every signature expires
    lab = Lab(world, zones, clock)
    reply = await lab.ask("www.example.lab.")
    assert ad(reply) and reply.answer[0].ttl <= 100  # not the 300 it was published with
    clock.advance(2 * DAY)  # past expiration and the skew allowance; caches expired too
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.SIGNATURE_EXPIRED]


async def test_ad_only_for_secure_answers_to_do_or_ad_clients(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    plain = await lab.ask("www.example.lab.", do=False)
    assert not ad(plain) and plain.answer and all(r.rdtype != T.RRSIG for r in plain.answer)
    asked_ad = await lab.ask("www.example.lab.", do=False, ad=True)
    assert ad(asked_ad) and all(r.rdtype != T.RRSIG for r in asked_ad.answer)
    with_do = await lab.ask("www.example.lab.")
    assert ad(with_do) and any(r.rdtype == T.RRSIG for r in with_do.answer)
    insecure = await lab.ask("www.insecure.lab.")
    assert insecure.rcode() == dns.rcode.NOERROR and not ad(insecure) and not ede_codes(insecure)
    # a secure NXDOMAIN carries its proof for DO clients
    nx = await lab.ask("nope.example.lab.")
    assert nx.rcode() == dns.rcode.NXDOMAIN and ad(nx)
    assert {r.rdtype for r in nx.authority} >= {T.SOA, T.NSEC, T.RRSIG}
    nx_plain = await lab.ask("nope.example.lab.", do=False)
    assert {r.rdtype for r in nx_plain.authority} == {T.SOA}
    # a wildcard answer and its proof
    wild = await lab.ask("a.wild.example.lab.")
    assert ad(wild) and any(r.rdtype == T.NSEC for r in wild.authority)


async def test_bogus_is_servfail_unless_cd_and_never_served_from_cache(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    reply = await lab.ask("www.bad.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSSEC_BOGUS]
    cd = await lab.ask("www.bad.lab.", cd=True)
    assert cd.rcode() == dns.rcode.NOERROR and not ad(cd)
    assert any(r.rdtype == T.A for r in cd.answer)  # the data, bogus, passed on
    again = await lab.ask("www.bad.lab.")
    assert again.rcode() == dns.rcode.SERVFAIL  # the cached copy is not served either
    cached = lab.cache.rrsets.get(N("www.bad.lab."), T.A, lab.clock.monotonic())
    assert cached is not None and cached.security is Security.BOGUS
    assert cached.rrset.ttl <= BOGUS_TTL_S
    # a bogus answer learnt under CD first is still refused without CD
    fresh = Lab(world, zones, ManualClock(START))
    assert (await fresh.ask("www.bad.lab.", cd=True)).rcode() == dns.rcode.NOERROR
    assert (await fresh.ask("www.bad.lab.")).rcode() == dns.rcode.SERVFAIL


async def test_cd_query_is_validated_secure_keeps_ad(small: tuple[WorldDef, Zones]) -> None:
    # RFC 6840 §5.9 and Unbound (validator.c needs_validation: CD queries are validated
    # "to make our cache clean"): secure data asked with CD and DO carries AD; bogus data
    # asked with CD comes as it is, without AD
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    good = await lab.ask("www.example.lab.", cd=True)
    assert good.rcode() == dns.rcode.NOERROR and ad(good)
    bad = await lab.ask("www.bad.lab.", cd=True)
    assert bad.rcode() == dns.rcode.NOERROR and not ad(bad) and bad.answer


async def test_ede_needs_edns(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    reply = await lab.ask("www.bad.lab.", do=False, edns=False)
    assert reply.rcode() == dns.rcode.SERVFAIL and reply.edns < 0


async def test_cache_keeps_security_and_reuses_validated_keys(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    assert ad(await lab.ask("www.example.lab."))
    now = lab.clock.monotonic()
    a = lab.cache.rrsets.get(N("www.example.lab."), T.A, now)
    keys = lab.cache.rrsets.get(N("example.lab."), T.DNSKEY, now)
    ds = lab.cache.rrsets.get(N("example.lab."), T.DS, now)
    for hit in (a, keys, ds):
        assert hit is not None and hit.security is Security.SECURE and hit.rank == Rank.VALIDATED
    fetched = dict(lab.validator.stats)
    sent = len(lab.transport.sent)
    # Another name in the same zone: its data is fetched, the keys and DS are not.
    assert ad(await lab.ask("alias.example.lab."))
    assert lab.validator.stats["fetch_DNSKEY"] == fetched["fetch_DNSKEY"]
    assert lab.validator.stats["fetch_DS"] == fetched["fetch_DS"]
    assert len(lab.transport.sent) - sent == 1
    # The same name again: the verdict kept with the RRset is used as it is.
    before = lab.validator.stats["cached_verdicts"]
    assert ad(await lab.ask("www.example.lab."))
    assert lab.validator.stats["cached_verdicts"] == before + 1
    insecure = await lab.resolve("www.insecure.lab.")
    assert insecure.security is Security.INSECURE
    hit = lab.cache.rrsets.get(N("www.insecure.lab."), T.A, lab.clock.monotonic())
    assert hit is not None and hit.security is Security.INSECURE


async def test_negative_trust_anchor_makes_a_bogus_zone_insecure(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START), negative=("bad.lab.",))
    reply = await lab.ask("www.bad.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and not ad(reply)
    assert ad(await lab.ask("www.example.lab."))  # the rest is still validated


async def test_wrong_trust_anchor_makes_everything_bogus(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    stray = ". 86400 IN DS 1234 13 2 " + "00" * 32
    lab = Lab(world, zones, ManualClock(START), anchors=[stray])
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSKEY_MISSING]
    # and no anchor at all: nothing is validated (indeterminate), nothing fails
    none = Lab(world, zones, ManualClock(START), anchors=[])
    plain = await none.ask("www.bad.lab.")
    assert plain.rcode() == dns.rcode.NOERROR and not ad(plain)


async def test_without_harden_dnssec_stripped_failing_keys_make_a_zone_insecure(
    small: tuple[WorldDef, Zones],
) -> None:
    """Unbound's harden-dnssec-stripped: no: a DNSKEY RRset that does not match the anchor
    makes the zone insecure ("like there is no trust anchor"), not bogus."""
    world, zones = small
    stray = ". 86400 IN DS 1234 13 2 " + "00" * 32
    soft = DnssecConfig(harden_dnssec_stripped=False)
    lab = Lab(world, zones, ManualClock(START), anchors=[stray], config=soft)
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and not ad(reply)


async def test_nsec3_iterations_above_the_limit_are_insecure(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    nx = await lab.ask("nope.it.lab.")
    assert nx.rcode() == dns.rcode.NXDOMAIN and not ad(nx)
    assert ede_codes(nx) == [Ede.UNSUPPORTED_NSEC3_ITERATIONS]
    assert ad(await lab.ask("www.it.lab."))  # signatures are fine: positive data is secure
    at_limit = await lab.ask("nope.it150.lab.")
    assert at_limit.rcode() == dns.rcode.NXDOMAIN and ad(at_limit)
    strict = Lab(world, zones, ManualClock(START),
                 config=DnssecConfig(nsec3_bogus_iterations=150))
    reply = await strict.ask("nope.it.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL
    assert ede_codes(reply) == [Ede.UNSUPPORTED_NSEC3_ITERATIONS]


def _replace_ds(zones: Zones, child: str, **changes: int) -> None:
    """Give ``child`` a DS (re-signed by its parent) with other algorithm or digest type."""
    name = N(child)
    parent = zones[name.parent()]
    assert parent.signer is not None
    old = parent.nodes[name][T.DS][0]
    assert isinstance(old, dns.rdtypes.ANY.DS.DS)
    rrset = dns.rrset.from_rdata(name, 3600, old.replace(**changes))
    parent.nodes[name][T.DS] = rrset
    parent.sigs[(name, T.DS)] = parent.signer.sign(rrset)


@pytest.mark.parametrize(
    ("changes", "ede"),
    [
        ({"algorithm": 253}, Ede.UNSUPPORTED_DNSKEY_ALGORITHM),  # PRIVATEDNS
        ({"algorithm": 12}, Ede.UNSUPPORTED_DNSKEY_ALGORITHM),  # ECC-GOST (RFC 8624: MAY)
        ({"digest_type": 3}, Ede.UNSUPPORTED_DS_DIGEST),  # GOST R 34.11-94
    ],
)
async def test_unsupported_algorithm_or_digest_is_insecure(changes: dict[str, int],
                                                           ede: Ede) -> None:
    world = small_world()
    zones = build_zones(world, now=START)
    _replace_ds(zones, "example.lab.", **changes)
    lab = Lab(world, zones, ManualClock(START))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and not ad(reply)  # insecure, not bogus
    assert ede_codes(reply) == [ede]
    assert ad(await lab.ask("lab.", "SOA"))


async def test_ds_mismatch_with_a_supported_digest_is_bogus() -> None:
    world = small_world()
    zones = build_zones(world, now=START)
    _replace_ds(zones, "example.lab.", key_tag=1)
    lab = Lab(world, zones, ManualClock(START))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSKEY_MISSING]


async def test_chain_state_is_the_weakest_link(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    example = zones[N("example.lab.")]
    assert example.signer is not None
    for owner, target in (("toinsecure", "www.insecure.lab."), ("tobogus", "www.bad.lab."),
                          ("tosecure", "www.it.lab.")):
        rrset = dns.rrset.from_text(f"{owner}.example.lab.", 300, "IN", "CNAME", target)
        example.nodes[rrset.name] = {T.CNAME: rrset}
        example.sigs[(rrset.name, T.CNAME)] = example.signer.sign(rrset)
        example.existing.add(rrset.name)
    secure = await lab.ask("tosecure.example.lab.")
    assert ad(secure) and [r.rdtype for r in secure.answer if r.rdtype != T.RRSIG] == [
        T.CNAME, T.A]
    insecure = await lab.ask("toinsecure.example.lab.")
    assert insecure.rcode() == dns.rcode.NOERROR and not ad(insecure)
    bogus = await lab.ask("tobogus.example.lab.")
    assert bogus.rcode() == dns.rcode.SERVFAIL and ede_codes(bogus) == [Ede.DNSSEC_BOGUS]


def _strip(name: str, section: str, *types: int) -> Callable[[dns.message.Message], None]:
    """Drop records of ``types`` from one section of the answers about ``name``."""
    def tamper(response: dns.message.Message) -> None:
        if response.question and response.question[0].name == N(name):
            kept = [r for r in getattr(response, section)
                    if r.rdtype not in types and r.covers not in types]
            setattr(response, section, kept)
    return tamper


async def test_unsigned_data_in_a_signed_zone_is_bogus(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("www.example.lab.", "answer", T.RRSIG))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.RRSIGS_MISSING]
    assert (await lab.ask("www.example.lab.", cd=True)).answer  # CD: the data anyway
    assert ad(await lab.ask("alias.example.lab."))  # the zone itself is fine


async def test_wildcard_answer_without_its_proof_is_bogus(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("a.wild.example.lab.", "authority", T.NSEC))
    reply = await lab.ask("a.wild.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.NSEC_MISSING]
    assert ad(await lab.ask("b.wild.example.lab."))  # with its proof, the same wildcard is fine


async def test_denial_without_proof_or_with_unsigned_soa_is_bogus(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("nope.example.lab.", "authority", T.NSEC))
    reply = await lab.ask("nope.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.NSEC_MISSING]
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("nope2.example.lab.", "authority", T.RRSIG))
    reply = await lab.ask("nope2.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.RRSIGS_MISSING]


async def test_stripped_ds_proof_of_an_unsigned_delegation_is_bogus(
    small: tuple[WorldDef, Zones],
) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("insecure.lab.", "authority", T.NSEC))
    reply = await lab.ask("www.insecure.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.NSEC_MISSING]


async def test_a_bogus_rrset_beside_a_positive_answer_makes_it_bogus(
    small: tuple[WorldDef, Zones],
) -> None:
    def add_bogus_nsec(response: dns.message.Message) -> None:
        # An NSEC beside www's answer whose RRSIG is the A's signature relabelled: it fails.
        if response.question and response.question[0].name == N("www.example.lab.") \
                and response.answer:
            sig = next(r for r in response.answer if r.rdtype == T.RRSIG)
            nsec = dns.rrset.from_text("www.example.lab.", 300, "IN", "NSEC",
                                       "www2.example.lab. A RRSIG NSEC")
            forged = dns.rrset.from_rdata(sig.name, sig.ttl, sig[0].replace(type_covered=T.NSEC))
            response.authority = [*response.authority, nsec, forged]

    world, zones = small
    lab = Lab(world, zones, ManualClock(START), tamper=add_bogus_nsec)
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSSEC_BOGUS]
    assert ad(await lab.ask("alias.example.lab."))  # the zone itself is fine


def _strip_sigs_over(*covered: int) -> Callable[[dns.message.Message], None]:
    """Drop the RRSIGs over ``covered`` types from every response."""
    def tamper(response: dns.message.Message) -> None:
        for section in ("answer", "authority"):
            kept = [r for r in getattr(response, section)
                    if not (r.rdtype == T.RRSIG and r.covers in covered)]
            setattr(response, section, kept)
    return tamper


async def test_forged_nsec_is_bogus(small: tuple[WorldDef, Zones]) -> None:
    def forge(response: dns.message.Message) -> None:
        # Stretch the NSEC so it "covers" www.example.lab. as well: the signature breaks.
        # (Inside the zone: an NSEC whose next name leaves the zone is scrubbed away first.)
        for i, r in enumerate(response.authority):
            if r.rdtype == T.NSEC:
                forged = dns.rrset.from_rdata(r.name, r.ttl,
                                              r[0].replace(next=N("zzz.example.lab.")))
                response.authority[i] = forged

    world, zones = small
    lab = Lab(world, zones, ManualClock(START), tamper=forge)
    reply = await lab.ask("www.example.lab.", "MX")  # NODATA, proven by an NSEC
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.DNSSEC_BOGUS]


async def test_unsigned_soa_in_a_denial_is_bogus(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START), tamper=_strip_sigs_over(T.SOA))
    reply = await lab.ask("nope.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.RRSIGS_MISSING]


async def test_unsigned_ds_is_bogus(small: tuple[WorldDef, Zones]) -> None:
    world, zones = small
    lab = Lab(world, zones, ManualClock(START), tamper=_strip_sigs_over(T.DS))
    reply = await lab.ask("www.example.lab.")
    assert reply.rcode() == dns.rcode.SERVFAIL and ede_codes(reply) == [Ede.RRSIGS_MISSING]


async def test_nxdomain_whose_proof_shows_nodata_is_noerror(small: tuple[WorldDef, Zones]) -> None:
    """A server that says NXDOMAIN for an empty non-terminal, with the signed NSEC that
    proves the name exists: Unbound is lenient with the rcode (validate_nameerror_response)
    and answers NOERROR, secure.  A proof of nothing at all stays bogus."""
    world, zones = small

    def nx(response: dns.message.Message) -> None:
        if response.question and response.question[0].name == N("wild.example.lab."):
            response.set_rcode(dns.rcode.NXDOMAIN)

    lab = Lab(world, zones, ManualClock(START), tamper=nx)
    reply = await lab.ask("wild.example.lab.")
    assert reply.rcode() == dns.rcode.NOERROR and ad(reply) and not reply.answer
    lab = Lab(world, zones, ManualClock(START),
              tamper=_strip("nothing.example.lab.", "authority", T.NSEC))
    assert (await lab.ask("nothing.example.lab.")).rcode() == dns.rcode.SERVFAIL


async def test_a_question_of_another_class_is_refused_with_validation_on(
    small: tuple[WorldDef, Zones],
) -> None:
    """A CH question has no hints to start from (the recursor's REFUSED, as Unbound's
    "Cannot prime due to lack of hints"); validation does not turn it into anything else
    and nothing is asked upstream."""
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    await lab.ask("www.example.lab.")  # the cache holds the zone's keys and denials now
    sent = len(lab.transport.sent)
    qname = N("www.example.lab.")
    query = dns.message.make_query(qname, "TXT", rdclass=dns.rdataclass.CH, want_dnssec=True)
    reply = await lab.answerer.answer(
        Request(qname, T.TXT, qclass=dns.rdataclass.CH, do=True), query)
    assert reply.rcode() == dns.rcode.REFUSED and not reply.answer and not ad(reply)
    assert len(lab.transport.sent) == sent


async def test_any_answer_keeps_rrsigs_without_do(small: tuple[WorldDef, Zones]) -> None:
    # RFC 4035 §3.2.1 (DNSSEC RRs only when asked for; ANY asks every type) and Unbound's
    # reply encoder ("include all types in ANY answer"); other qtypes still lose them
    world, zones = small
    lab = Lab(world, zones, ManualClock(START))
    any_reply = await lab.ask("www.example.lab.", "ANY", do=False)
    assert any(r.rdtype == T.RRSIG for r in any_reply.answer) and not ad(any_reply)
    plain = await lab.ask("www.example.lab.", "A", do=False)
    assert plain.answer and not any(r.rdtype == T.RRSIG for r in plain.answer)
