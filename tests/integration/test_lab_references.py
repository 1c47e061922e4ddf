"""The foundation's promise: the lab plus real Unbound and Knot Resolver agree with the manifest."""

from __future__ import annotations

import dns.flags
import dns.name
import dns.rdatatype
import pytest

from lab.manifest import agrees, manifest
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver
from shadowdns.demo import ask

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

# (name, type) pairs the foundation issue names, each checked against the manifest.
REQUIRED = [
    ("www.example.lab.", "A"),            # plain name
    ("cross.example.lab.", "A"),          # cross-zone CNAME chain
    ("a.wild.example.lab.", "A"),         # wildcard
    ("nonexistent.example.lab.", "A"),    # signed NXDOMAIN (AD)
    ("www.nsec3.rsa.", "A"),              # NSEC3 name (AD)
    ("www.badsig.broken.", "A"),          # bogus (SERVFAIL)
    ("www.expired.broken.", "A"),         # bogus (SERVFAIL)
    ("www.insecure.lab.", "A"),           # insecure delegation (no AD)
    ("www.tc.lab.", "A"),                 # truncating server: answer only via TCP
    ("www.halfdead.lab.", "A"),           # one dead and one live NS
    ("big.example.lab.", "TXT"),          # > 1232 bytes
    ("www.glueless.lab.", "A"),           # glue-less delegation
    ("www.oob.lab.", "A"),                # out-of-bailiwick NS
]


def entry_for(name: str, rdtype: str) -> ManifestEntry:
    wanted = (dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
    for e in manifest(load_world()):
        if (e.name, e.rdtype) == wanted:
            return e
    raise AssertionError(f"{name} {rdtype} is not in the manifest")


@pytest.mark.parametrize("kind", ["unbound", "kresd"])
@pytest.mark.parametrize(("name", "rdtype"), REQUIRED)
async def test_reference_agrees_with_manifest(references: dict[str, ManagedResolver], kind: str,
                                              name: str, rdtype: str) -> None:
    entry = entry_for(name, rdtype)
    ref = references[kind]
    observed = await ask(entry, ref.address, ref.port)
    assert observed.response is not None, f"{kind}: {observed.error}"
    ok, why = agrees(entry, observed.response)
    assert ok, f"{kind} on {name} {rdtype}: {why}\n{observed.response}"


async def test_geo_name_differs_by_egress_address(references: dict[str, ManagedResolver]) -> None:
    entry = entry_for("geo.noise.lab.", "A")
    answers = {}
    for kind, ref in references.items():
        observed = await ask(entry, ref.address, ref.port)
        assert observed.response is not None
        answers[kind] = {rd.address for rrset in observed.response.answer
                         if rrset.rdtype == dns.rdatatype.A for rd in rrset}
    assert answers["unbound"] and answers["kresd"]
    assert answers["unbound"] != answers["kresd"]


async def test_cdn_chain_points_each_reference_at_its_own_edge(
        references: dict[str, ManagedResolver]) -> None:
    entry = entry_for("cdn.noise.lab.", "A")
    targets = {}
    for kind, ref in references.items():
        observed = await ask(entry, ref.address, ref.port)
        assert observed.response is not None
        cname = [r for r in observed.response.answer if r.rdtype == dns.rdatatype.CNAME]
        targets[kind] = cname[0][0].target.to_text()
    assert targets == {"unbound": "shop.eu.edge.cdnprov.ed.", "kresd": "shop.us.edge.cdnprov.ed."}


async def test_secure_answers_carry_ad_only_when_asked(
        references: dict[str, ManagedResolver]) -> None:
    import dns.asyncquery
    import dns.message

    for ref in references.values():
        plain = dns.message.make_query("www.example.lab.", "A")  # no DO, no AD: no AD back
        r = await dns.asyncquery.udp(plain, ref.address, port=ref.port, timeout=5)
        assert not r.flags & dns.flags.AD
