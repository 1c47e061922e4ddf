"""The manifest: every interesting name of a world with what a correct resolver makes of it.

DNSSEC state is derived from the chain of zones from the root down to the name's zone:
the first unsigned zone or DS-less delegation makes it insecure, the first DS that matches
no key or broken signing mode makes it bogus; a manifest entry may say otherwise (chains
that cross zones).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from lab.world import ManifestEntry, WorldDef, ZoneDef


def zone_state(world: WorldDef, zone: ZoneDef) -> str:
    by_origin = {z.origin: z for z in world.zones}
    chain: list[ZoneDef] = []
    n: dns.name.Name | None = zone.origin
    while n is not None:
        if n in by_origin:
            chain.append(by_origin[n])
        n = None if n == dns.name.root else n.parent()
    for i, z in enumerate(reversed(chain)):
        if z.signing is None or (i > 0 and z.ds == "none"):
            return "insecure"
        if (i > 0 and z.ds == "mismatch") or z.signing.mode != "good":
            return "bogus"
    return "secure"


def manifest(world: WorldDef) -> list[ManifestEntry]:
    out: list[ManifestEntry] = []
    for zone in world.zones:
        state = zone_state(world, zone)
        for entry in zone.names:
            out.append(dataclasses.replace(entry, dnssec=entry.dnssec or state))
    return out


def select(entries: Iterable[ManifestEntry], category: str | None = None,
           kind: str | None = None, dnssec: str | None = None) -> list[ManifestEntry]:
    return [
        e for e in entries
        if (category is None or e.category == category)
        and (kind is None or e.kind == kind)
        and (dnssec is None or e.dnssec == dnssec)
    ]


def agrees(entry: ManifestEntry, response: dns.message.Message) -> tuple[bool, str]:
    """Does a resolver's response (to a query with AD or DO set) match the ground truth?

    Returns the verdict and a short reason. Bogus data must be SERVFAIL; secure data must
    carry AD; insecure data must not.
    """
    rcode = response.rcode()
    ad = bool(response.flags & dns.flags.AD)
    if rcode != entry.rcode:
        expected = dns.rcode.to_text(dns.rcode.Rcode(entry.rcode))
        return False, f"rcode {dns.rcode.to_text(rcode)}, expected {expected}"
    if rcode == dns.rcode.SERVFAIL:
        return True, "SERVFAIL as expected"
    if entry.dnssec == "secure" and not ad:
        return False, "no AD on secure data"
    if entry.dnssec == "insecure" and ad:
        return False, "AD on insecure data"
    if rcode == dns.rcode.NOERROR and entry.rdtype != dns.rdatatype.ANY:
        has_data = any(r.rdtype == entry.rdtype for r in response.answer)
        if has_data == entry.nodata:
            return False, "answer data where NODATA is expected" if has_data else "no answer data"
    return True, "agrees"
