"""The manifest: every interesting name of a world with what a correct resolver makes of it.

DNSSEC state is derived from the chain of zones from the root down to the name's zone:
the first unsigned zone or DS-less delegation makes it insecure, the first DS that matches
no key or broken signing mode makes it bogus; a manifest entry may say otherwise (chains
that cross zones).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import dns.name

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
