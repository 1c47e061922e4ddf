"""Aggressive use of DNSSEC-validated cache (RFC 8198), as Unbound's ``aggressive-nsec``.

:class:`AggressiveNsec` is the part the validating recursor owns: it keeps the NSEC and NSEC3
records of proofs that have just validated (:meth:`AggressiveNsec.learn`, in the cache's
``NsecCache``) and answers a question from them when it can (:meth:`AggressiveNsec.answer`),
through the pure functions below.

:func:`synthesise` is pure: given a name and type, the zone that is authoritative for it and
lookups into that zone's cached, validated NSEC records (and its validated wildcard RRsets),
it returns the NXDOMAIN, NODATA or wildcard answer those records prove, or ``None`` when they
prove nothing (the question then goes upstream).  Every synthesis is checked by the same
proof functions (:mod:`resolver.dnssec.denial`) that check upstream denials, so the rules
of RFC 4035 §5.4 and RFC 6840 §4.1 hold: an NSEC at a delegation (NS without SOA) or a DNAME
proves nothing below it, and an NSEC at a delegation proves no NODATA there.

NSEC3 (RFC 8198 §4 makes it optional; Unbound 1.17 does NSEC only, Knot Resolver both):
:func:`synthesise_nsec3` hashes the names a proof needs (the name, its ancestors, the next
closer name, the wildcard) and looks each hash up among the zone's cached NSEC3 records,
whose canonical order is hash order; the records found go through the same NSEC3 proof
checks as an upstream denial.  An opt-out span proves nothing (the answer would be
insecure), so it is never synthesised from; nor are DS questions.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.SOA
import dns.rrset

from resolver.cache import MAX_TTL_S, DnsCache, Security
from resolver.clock import Clock
from resolver.dnssec.chain import VerifiedRRset, ZoneKeys
from resolver.dnssec.denial import (
    DEFAULT_LIMITS,
    Limits,
    nsec3_owner,
    nsec3_params,
    nsec_closest_encloser,
    nsec_covers,
    prove_nodata,
    prove_nxdomain,
    prove_wildcard_answer,
)
from resolver.dnssec.signatures import signer_of
from resolver.dnssec.verdicts import Outcome
from resolver.model import Request, with_ttl
from resolver.recursor.config import Resolution

__all__ = ["NEVER", "AggressiveNsec", "Proof", "Synthesis", "synthesise", "synthesise_nsec3"]

T = dns.rdatatype
Name = dns.name.Name

NEVER = frozenset({T.ANY, T.RRSIG, T.NSEC, T.NSEC3, T.AXFR, T.IXFR, T.OPT})
"""Question types never answered from NSEC records: meta types and DNSSEC records
themselves."""


@dataclass(frozen=True)
class Proof:
    """A cached, validated RRset with its RRSIGs and the seconds it has left."""

    rrset: dns.rrset.RRset
    sigs: dns.rrset.RRset | None
    ttl: int


@dataclass(frozen=True)
class Synthesis:
    """What the cached records prove: ``rcode`` (NXDOMAIN or NOERROR), the wildcard expansion
    (``answer``, empty for a denial) and the NSEC records that prove it."""

    rcode: int
    answer: Proof | None
    proofs: tuple[Proof, ...]
    why: str

    @property
    def ttl(self) -> int:
        return min([p.ttl for p in self.proofs] + ([self.answer.ttl] if self.answer else []))


NsecLookup = Callable[[Name], Proof | None]
"""The zone's NSEC with the greatest owner at or before a name (canonical order)."""

WildcardLookup = Callable[[Name, int], Proof | None]
"""The zone's validated RRset of a type at a wildcard name."""


def _nsec(p: Proof) -> dns.rdtypes.ANY.NSEC.NSEC | None:
    rd = next(iter(p.rrset), None)
    return rd if isinstance(rd, dns.rdtypes.ANY.NSEC.NSEC) else None


def _wildcard_data(wildcard: WildcardLookup, wild: Name, qtype: int) -> Proof | None:
    """The live cached RRset of ``qtype`` at ``wild``, else its CNAME (the caller follows
    it), else None."""
    data = wildcard(wild, qtype)
    if data is None and qtype != T.CNAME:
        data = wildcard(wild, T.CNAME)
    return data if data is not None and data.ttl > 0 else None


def synthesise(
    qname: Name,
    qtype: int,
    zone: Name,
    nsec_at_or_before: NsecLookup,
    wildcard: WildcardLookup,
) -> Synthesis | None:
    """The answer ``zone``'s validated NSEC records prove for ``qname``/``qtype``, or None.

    For a DS, ``zone`` is the parent's (the zone above ``qname``): an NSEC at a delegation
    without DS proves an insecure delegation (NODATA), one with SOA (the child's apex) is
    refused, as in an upstream answer."""
    if qtype in NEVER or not qname.is_subdomain(zone):
        return None
    if qtype == T.DS and qname == zone:
        return None
    first = nsec_at_or_before(qname)
    if first is None or first.ttl <= 0 or _nsec(first) is None:
        return None
    if first.rrset.name == qname:
        out = prove_nodata(qname, qtype, zone, [first.rrset])
        if not out.secure:
            return None  # the type (or a CNAME) is there, or a delegation: ask
        return Synthesis(dns.rcode.NOERROR, None, (first,), out.why)
    rd = _nsec(first)
    assert rd is not None
    if not nsec_covers(first.rrset.name, rd.next, qname):
        return None
    if rd.next.is_subdomain(qname):  # an empty non-terminal
        out = prove_nodata(qname, qtype, zone, [first.rrset])
        return Synthesis(dns.rcode.NOERROR, None, (first,), out.why) if out.secure else None
    ce = nsec_closest_encloser(first.rrset.name, rd.next, qname)
    if not ce.is_subdomain(zone):
        return None
    wild = dns.name.Name((b"*",) + ce.labels)
    data = _wildcard_data(wildcard, wild, qtype)
    if data is not None:
        out = prove_wildcard_answer(qname, ce, zone, [first.rrset])
        if not out.secure:
            return None
        return Synthesis(dns.rcode.NOERROR, data, (first,), out.why)
    second = nsec_at_or_before(wild)
    if second is None or second.ttl <= 0 or _nsec(second) is None:
        return None
    proofs = (first,) if second.rrset.name == first.rrset.name else (first, second)
    rrsets = [p.rrset for p in proofs]
    if second.rrset.name == wild:
        out = prove_nodata(qname, qtype, zone, rrsets)  # wildcard NODATA (or ask)
        rcode = dns.rcode.NOERROR
    else:
        out = prove_nxdomain(qname, zone, rrsets)
        rcode = dns.rcode.NXDOMAIN
    return Synthesis(rcode, None, proofs, out.why) if out.secure else None


Nsec3Lookup = Callable[[Name], Proof | None]
"""The zone's NSEC3 with the greatest owner at or before a hashed owner name (or the last
one, which covers the hashes below the first)."""


def synthesise_nsec3(
    qname: Name,
    qtype: int,
    zone: Name,
    params: tuple[int, int, bytes],
    nsec3_at_or_before: Nsec3Lookup,
    wildcard: WildcardLookup,
    limits: Limits = DEFAULT_LIMITS,
) -> Synthesis | None:
    """The answer ``zone``'s validated NSEC3 records prove for ``qname``/``qtype``, or None."""
    if qtype in NEVER or qtype == T.DS or not qname.is_subdomain(zone):
        return None

    def record(name: Name) -> tuple[Proof | None, bool]:
        """The record matching or covering ``name``'s hash, and whether it matches."""
        owner = nsec3_owner(name, zone, params)
        hit = nsec3_at_or_before(owner)
        if hit is None or hit.ttl <= 0:
            return None, False
        return hit, hit.rrset.name == owner

    def done(rcode: int, answer: Proof | None, proofs: list[Proof | None],
             out: Outcome) -> Synthesis | None:
        if not out.secure or any(p is None for p in proofs):
            return None  # insecure (opt-out) or bogus: the question goes upstream
        unique: list[Proof] = []
        for p in proofs:
            if p is not None and all(p.rrset.name != u.rrset.name for u in unique):
                unique.append(p)
        return Synthesis(rcode, answer, tuple(unique), out.why)

    own, matches = record(qname)
    if own is None:
        return None
    if matches:
        out = prove_nodata(qname, qtype, zone, [own.rrset], limits)
        return done(dns.rcode.NOERROR, None, [own], out)
    # The closest encloser: the nearest ancestor that a record's hash matches, or that has
    # a cached validated wildcard (whose RRSIG labels proved that ancestor exists).  Either
    # way the next closer name must be covered, which fails if a nearer ancestor exists.
    ce: Name | None = None
    ce_proof: Proof | None = None
    data: Proof | None = None
    n = qname
    while n != zone:
        n = n.parent()
        data = _wildcard_data(wildcard, dns.name.Name((b"*",) + n.labels), qtype)
        if data is not None:
            ce = n
            break
        hit, hit_matches = record(n)
        if hit is not None and hit_matches:
            ce, ce_proof = n, hit
            break
    if ce is None:
        return None
    next_closer = qname.split(len(ce) + 1)[1]
    cover, cover_matches = record(next_closer)
    if cover is None or cover_matches:
        return None
    if data is not None:
        out = prove_wildcard_answer(qname, ce, zone, [cover.rrset], limits)
        return done(dns.rcode.NOERROR, data, [cover], out)
    wild = dns.name.Name((b"*",) + ce.labels)
    wild_proof, wild_matches = record(wild)
    if wild_proof is None or ce_proof is None:
        return None
    proofs: list[Proof | None] = [ce_proof, cover, wild_proof]
    rrsets = [ce_proof.rrset, cover.rrset, wild_proof.rrset]
    if wild_matches:
        out = prove_nodata(qname, qtype, zone, rrsets, limits)  # wildcard NODATA
        return done(dns.rcode.NOERROR, None, proofs, out)
    out = prove_nxdomain(qname, zone, rrsets, limits)
    return done(dns.rcode.NXDOMAIN, None, proofs, out)


def soa_minimum(soa: dns.rrset.RRset) -> int:
    """The SOA's MINIMUM field, which caps the negative TTL (RFC 2308 §5, RFC 9077)."""
    return next((rd.minimum for rd in soa if isinstance(rd, dns.rdtypes.ANY.SOA.SOA)), 0)


def _renamed(rrset: dns.rrset.RRset, owner: Name, ttl: int) -> dns.rrset.RRset:
    """A copy of ``rrset`` at ``owner`` with ``ttl`` (a wildcard's data, expanded or not)."""
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    out.ttl = ttl
    return out


class AggressiveNsec:
    """The validating recursor's RFC 8198 part: what it learns from validated denials and
    the answers it synthesises from them, in the shared cache's ``NsecCache``."""

    def __init__(self, cache: DnsCache, clock: Clock, zones: ZoneKeys, limits: Limits,
                 stats: collections.Counter[str]) -> None:
        self.cache = cache
        self.clock = clock
        self.zones = zones
        self.anchors = zones.anchors
        self.limits = limits
        self.stats = stats

    def learn(
        self,
        zone: Name,
        verified: Sequence[VerifiedRRset],
        *,
        soa: VerifiedRRset | None = None,
        wildcard: tuple[dns.rrset.RRset, dns.rrset.RRset | None, Name, int | None] | None = None,
    ) -> None:
        """Keep the secure NSEC records of ``zone`` (a proof that has just validated) for
        aggressive use, with the zone's SOA of a denial (each NSEC then lives no longer than
        the SOA's negative TTL, RFC 8198 §5.4 / RFC 9077) and a wildcard RRset it expanded."""
        mono = self.clock.monotonic()
        store = self.cache.nsec
        cap = MAX_TTL_S
        if soa is not None:
            rrset, sigs, ttl = soa
            minimum = soa_minimum(rrset)
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, MAX_TTL_S)
            cap = min(keep, minimum)
            store.put_soa(zone, rrset, sigs, mono + keep)
        for rrset, sigs, ttl in verified:
            if rrset.rdtype not in (T.NSEC, T.NSEC3) or signer_of(sigs) != zone:
                continue
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, cap)
            if keep <= 0:
                continue
            if rrset.rdtype == T.NSEC:
                store.put_nsec(zone, rrset, sigs, mono + keep)
                continue
            params = nsec3_params(rrset, zone)
            if params is not None:
                store.put_nsec3(zone, rrset, sigs, mono + keep, params)
        if wildcard is not None:
            rrset, sigs, source, ttl = wildcard
            wild = dns.name.Name((b"*",) + source.labels)
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, MAX_TTL_S)
            if keep > 0 and sigs is not None:
                store.put_wildcard(zone, _renamed(rrset, wild, keep), _renamed(sigs, wild, keep),
                                   mono + keep)

    def _zone_for(self, request: Request, mono: float) -> Name | None:
        """The zone whose NSEC records may answer ``request``: its keys known secure, and
        authoritative for the name (no zone cut known below it, down to the name)."""
        qname, qtype = request.qname, request.qtype
        if qtype in NEVER or self.anchors.is_negative(qname):
            return None
        # A DS is the parent's: the zone above the name (which may itself be a cut) denies it.
        if qtype == T.DS and qname == dns.name.root:
            return None
        below = qname.parent() if qtype == T.DS else qname
        zone = self.cache.nsec.zone_for(below)
        if zone is None:
            return None
        entry = self.zones.get(zone, mono)
        if entry is None or entry.security is not Security.SECURE:
            return None
        n = below
        while n != zone:
            # A cut below the zone (known keys or NS records): the zone is not authoritative.
            if self.zones.get(n, mono) is not None or self.cache.rrsets.get(n, T.NS, mono):
                return None
            n = n.parent()
        return zone

    def answer(self, request: Request) -> Resolution | None:
        """The answer the cached validated NSEC records prove for ``request`` without asking
        anyone (RFC 8198), or None.  Only from a zone whose keys are known secure, only when
        that zone is authoritative for the name, and never when the cache holds the name's
        data or denial already."""
        qname, qtype = request.qname, request.qtype
        mono = self.clock.monotonic()
        zone = self._zone_for(request, mono)
        if zone is None:
            return None
        rrsets = self.cache.rrsets
        if (rrsets.get(qname, qtype, mono) or rrsets.get(qname, T.CNAME, mono)
                or self.cache.negative.get(qname, qtype, mono)):
            return None  # the ordinary cache answers it
        store = self.cache.nsec

        def nsec(name: Name) -> Proof | None:
            hit = store.at_or_before(zone, name, mono)
            return None if hit is None else Proof(hit.rrset, hit.sigs, hit.ttl(mono))

        def wild(name: Name, rdtype: int) -> Proof | None:
            hit = store.wildcard(zone, name, rdtype, mono)
            return None if hit is None else Proof(hit.rrset, hit.sigs, hit.ttl(mono))

        synth = synthesise(qname, qtype, zone, nsec, wild)
        params = store.nsec3_params(zone)
        if synth is None and params is not None \
                and params[1] <= self.limits.lowest().max_iterations:

            def nsec3(name: Name) -> Proof | None:
                hit = store.at_or_before(zone, name, mono) or store.last(zone, mono)
                if hit is None or hit.rrset.rdtype != T.NSEC3:
                    return None
                return Proof(hit.rrset, hit.sigs, hit.ttl(mono))

            synth = synthesise_nsec3(qname, qtype, zone, params, nsec3, wild,
                                     self.limits.lowest())
        if synth is None:
            return None
        ttl = synth.ttl
        answer: list[dns.rrset.RRset] = []
        authority: list[dns.rrset.RRset] = []
        if synth.answer is not None:
            answer.append(_renamed(synth.answer.rrset, qname, ttl))
            if synth.answer.sigs is not None:
                answer.append(_renamed(synth.answer.sigs, qname, ttl))
        else:
            soa = store.soa(zone, mono)
            if soa is None:
                return None  # a denial needs the zone's SOA
            ttl = min(ttl, soa.ttl(mono), soa_minimum(soa.rrset))
            authority.append(with_ttl(soa.rrset, ttl))
            if soa.sigs is not None:
                authority.append(with_ttl(soa.sigs, ttl))
        if ttl <= 0:
            return None
        for p in synth.proofs:
            authority.append(with_ttl(p.rrset, ttl))
            if p.sigs is not None:
                authority.append(with_ttl(p.sigs, ttl))
        self.stats["aggressive"] += 1
        return Resolution(synth.rcode, answer, authority, 0, f"aggressive NSEC: {synth.why}")
