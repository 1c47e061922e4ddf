"""On the real lab, over real sockets: the candidate resolves and validates like Unbound.

For every name the manifest calls stable and every misbehaving-server name, the candidate's
rcode, AD bit and answer/authority RRsets (TTLs, order and DNSSEC records aside) equal
Unbound's, both validating with the lab's trust anchor and asked as dig asks (AD set).  The
candidate egresses from its own address (region ap), Unbound from region eu; stable names
do not depend on the region.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import pytest_asyncio

from configfiles.roothints import read_root_hints
from lab.manifest import manifest
from lab.run import LabInfo
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver, ReferenceSpec
from resolver.app import build
from resolver.config import ResolverConfig
from resolver.model import Request
from shadowdns.demo import ask

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

def comparable(entries: list[ManifestEntry]) -> list[ManifestEntry]:
    return [e for e in entries if e.category in ("stable", "broken") and e.kind != "dead"]


ENTRIES = comparable(manifest(load_world()))


def normal(rrsets: list[dns.rrset.RRset]) -> set[tuple[str, int, frozenset[str]]]:
    return {(r.name.to_text().lower(), r.rdtype, frozenset(rd.to_text() for rd in r))
            for r in rrsets if r.rdtype not in (dns.rdatatype.RRSIG, dns.rdatatype.NSEC,
                                                dns.rdatatype.NSEC3)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def unbound(lab: LabInfo, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[ManagedResolver]:
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen="127.55.0.13", port=5053,
        workdir=Path(tmp_path_factory.mktemp("ub")), root_hints_file=lab.hints_path,
        trust_anchor_file=lab.anchor_path, outgoing_address=lab.egress["unbound"])
    async with ManagedResolver.from_spec(spec) as ref:
        yield ref


@pytest.mark.parametrize("qmin", [True, False])
async def test_candidate_equals_unbound_on_the_lab(lab: LabInfo, unbound: ManagedResolver,
                                                   qmin: bool) -> None:
    config = ResolverConfig(root_hints=read_root_hints(lab.hints_path),
                            trust_anchor_file=lab.anchor_path,
                            qname_minimisation=qmin, egress=lab.egress["candidate"],
                            do_ip6=False)
    candidate = build(config)
    differences = []
    for entry in ENTRIES:
        query = dns.message.make_query(entry.name, entry.rdtype, want_dnssec=True)
        query.flags |= dns.flags.AD
        ours = await candidate.answer(Request(entry.name, entry.rdtype, do=True), query)
        what = f"{entry.name} {dns.rdatatype.to_text(entry.rdtype)}"
        observed = await ask(entry, unbound.address, unbound.port)
        if observed.response is None:
            differences.append(f"{what}: unbound gave no answer ({observed.error})")
            continue
        ref = observed.response
        if ours.rcode() != ref.rcode():
            differences.append(f"{what}: rcode {dns.rcode.to_text(ours.rcode())} vs unbound "
                               f"{dns.rcode.to_text(ref.rcode())}")
            continue
        if (ours.flags & dns.flags.AD) != (ref.flags & dns.flags.AD):
            differences.append(f"{what}: AD {bool(ours.flags & dns.flags.AD)} vs unbound "
                               f"{bool(ref.flags & dns.flags.AD)}")
        if normal(ours.answer) != normal(ref.answer):
            differences.append(f"{what}: answer {normal(ours.answer)} vs {normal(ref.answer)}")
        if normal(ours.authority) != normal(ref.authority):
            differences.append(f"{what}: authority {normal(ours.authority)} vs "
                               f"{normal(ref.authority)}")
    # Known, documented divergence: Unbound 1.17 takes a non-AA self-referral as NODATA.
    differences = [d for d in differences if not d.startswith("www.selfref.lab.")]
    assert not differences, "\n".join(differences)
    assert len(ENTRIES) >= 35
