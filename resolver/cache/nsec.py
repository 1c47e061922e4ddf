"""Validated NSEC and NSEC3 records, per signer zone in canonical order, with the zone's
validated SOA and wildcard RRsets: what RFC 8198 aggressive use synthesises denials from.
Only the validator stores anything here."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import dns.name
import dns.rrset

from resolver.cache.common import key_name

__all__ = ["DEFAULT_NSEC_PER_ZONE", "DEFAULT_NSEC_ZONES", "CachedProof", "NsecCache"]


@dataclass(frozen=True, slots=True)
class CachedProof:
    """A validated (secure) RRset kept for aggressive use, with its RRSIGs; ``ttl`` is what
    is left of it when it was looked up."""

    rrset: dns.rrset.RRset
    sigs: dns.rrset.RRset | None
    expires: float

    def ttl(self, now: float) -> int:
        return max(0, int(self.expires - now))


@dataclass
class _NsecZone:
    owners: list[dns.name.Name] = field(default_factory=list)  # canonical order
    nsecs: dict[dns.name.Name, CachedProof] = field(default_factory=dict)
    soa: CachedProof | None = None
    wildcards: dict[tuple[dns.name.Name, int], CachedProof] = field(default_factory=dict)
    nsec3_params: tuple[int, int, bytes] | None = None  # algorithm, iterations, salt


DEFAULT_NSEC_ZONES = 1_000
DEFAULT_NSEC_PER_ZONE = 10_000


class NsecCache:
    """NSEC RRsets the validator found secure, per signer zone and sorted by canonical owner
    (with the zone's validated SOA and the wildcard RRsets it validated), for RFC 8198
    aggressive use.  Only the validator puts anything here; entries expire at ``expires``
    (monotonic).  Zones are forgotten least recently stored first; a zone holds at most
    ``per_zone`` NSEC records (the oldest stored goes first)."""

    def __init__(self, zones: int = DEFAULT_NSEC_ZONES,
                 per_zone: int = DEFAULT_NSEC_PER_ZONE) -> None:
        self.max_zones = zones
        self.per_zone = per_zone
        self._zones: dict[dns.name.Name, _NsecZone] = {}

    def __len__(self) -> int:
        return sum(len(z.nsecs) for z in self._zones.values())

    def _zone(self, zone: dns.name.Name) -> _NsecZone:
        key = key_name(zone)
        z = self._zones.pop(key, None) or _NsecZone()
        self._zones[key] = z  # most recently stored last
        while len(self._zones) > self.max_zones:
            del self._zones[next(iter(self._zones))]
        return z

    def put_nsec(self, zone: dns.name.Name, rrset: dns.rrset.RRset,
                 sigs: dns.rrset.RRset | None, expires: float) -> None:
        z = self._zone(zone)
        owner = key_name(rrset.name)
        if owner not in z.nsecs:
            z.owners.insert(bisect.bisect_left(z.owners, owner), owner)
        z.nsecs.pop(owner, None)
        z.nsecs[owner] = CachedProof(rrset, sigs, expires)
        while len(z.nsecs) > self.per_zone:
            oldest = next(iter(z.nsecs))
            del z.nsecs[oldest]
            z.owners.remove(oldest)

    def put_nsec3(self, zone: dns.name.Name, rrset: dns.rrset.RRset,
                  sigs: dns.rrset.RRset | None, expires: float,
                  params: tuple[int, int, bytes]) -> None:
        """An NSEC3 RRset (its owner is a hash: canonical order is hash order, so
        :meth:`at_or_before` finds the record matching or covering a hashed name).  The
        zone's records share one parameter set: new parameters drop the old records."""
        z = self._zone(zone)
        if z.nsec3_params != params:
            z.owners.clear()
            z.nsecs.clear()
            z.nsec3_params = params
        self.put_nsec(zone, rrset, sigs, expires)

    def nsec3_params(self, zone: dns.name.Name) -> tuple[int, int, bytes] | None:
        z = self._zones.get(key_name(zone))
        return None if z is None else z.nsec3_params

    def last(self, zone: dns.name.Name, now: float) -> CachedProof | None:
        """The unexpired record with the greatest owner (the one that wraps around)."""
        z = self._zones.get(key_name(zone))
        if z is None or not z.owners:
            return None
        hit = z.nsecs[z.owners[-1]]
        return None if now >= hit.expires else hit

    def put_soa(self, zone: dns.name.Name, rrset: dns.rrset.RRset,
                sigs: dns.rrset.RRset | None, expires: float) -> None:
        self._zone(zone).soa = CachedProof(rrset, sigs, expires)

    def put_wildcard(self, zone: dns.name.Name, rrset: dns.rrset.RRset,
                     sigs: dns.rrset.RRset | None, expires: float) -> None:
        z = self._zone(zone)
        z.wildcards[(key_name(rrset.name), rrset.rdtype)] = CachedProof(rrset, sigs, expires)
        while len(z.wildcards) > self.per_zone:
            del z.wildcards[next(iter(z.wildcards))]

    def zone_for(self, name: dns.name.Name) -> dns.name.Name | None:
        """The closest zone at or above ``name`` that has NSEC records here."""
        n = key_name(name)
        while True:
            z = self._zones.get(n)
            if z is not None and z.nsecs:
                return n
            if n == dns.name.root:
                return None
            n = n.parent()

    def at_or_before(self, zone: dns.name.Name, name: dns.name.Name,
                     now: float) -> CachedProof | None:
        """The unexpired NSEC of ``zone`` with the greatest owner at or before ``name`` in
        canonical order (the one that matches or may cover it)."""
        z = self._zones.get(key_name(zone))
        if z is None:
            return None
        i = bisect.bisect_right(z.owners, key_name(name)) - 1
        if i < 0:
            return None
        hit = z.nsecs[z.owners[i]]
        if now >= hit.expires:
            del z.nsecs[z.owners[i]]
            del z.owners[i]
            return None
        return hit

    def soa(self, zone: dns.name.Name, now: float) -> CachedProof | None:
        z = self._zones.get(key_name(zone))
        if z is None or z.soa is None or now >= z.soa.expires:
            return None
        return z.soa

    def wildcard(self, zone: dns.name.Name, name: dns.name.Name, rdtype: int,
                 now: float) -> CachedProof | None:
        z = self._zones.get(key_name(zone))
        hit = None if z is None else z.wildcards.get((key_name(name), rdtype))
        if hit is None or now >= hit.expires:
            return None
        return hit

    def clear(self) -> None:
        self._zones.clear()
