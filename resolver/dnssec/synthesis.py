"""Aggressive use of DNSSEC-validated cache (RFC 8198), NSEC only, as Unbound's
``aggressive-nsec``.

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

from collections.abc import Callable
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rrset

from resolver.dnssec import denial as v

__all__ = ["NEVER", "Proof", "Synthesis", "synthesise", "synthesise_nsec3"]

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
        out = v.prove_nodata(qname, qtype, zone, [first.rrset])
        if not out.secure:
            return None  # the type (or a CNAME) is there, or a delegation: ask
        return Synthesis(dns.rcode.NOERROR, None, (first,), out.why)
    rd = _nsec(first)
    assert rd is not None
    if not v.nsec_covers(first.rrset.name, rd.next, qname):
        return None
    if rd.next.is_subdomain(qname):  # an empty non-terminal
        out = v.prove_nodata(qname, qtype, zone, [first.rrset])
        return Synthesis(dns.rcode.NOERROR, None, (first,), out.why) if out.secure else None
    ce = v.nsec_closest_encloser(first.rrset.name, rd.next, qname)
    if not ce.is_subdomain(zone):
        return None
    wild = dns.name.Name((b"*",) + ce.labels)
    data = _wildcard_data(wildcard, wild, qtype)
    if data is not None:
        out = v.prove_wildcard_answer(qname, ce, zone, [first.rrset])
        if not out.secure:
            return None
        return Synthesis(dns.rcode.NOERROR, data, (first,), out.why)
    second = nsec_at_or_before(wild)
    if second is None or second.ttl <= 0 or _nsec(second) is None:
        return None
    proofs = (first,) if second.rrset.name == first.rrset.name else (first, second)
    rrsets = [p.rrset for p in proofs]
    if second.rrset.name == wild:
        out = v.prove_nodata(qname, qtype, zone, rrsets)  # wildcard NODATA (or ask)
        rcode = dns.rcode.NOERROR
    else:
        out = v.prove_nxdomain(qname, zone, rrsets)
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
    limits: v.Limits = v.DEFAULT_LIMITS,
) -> Synthesis | None:
    """The answer ``zone``'s validated NSEC3 records prove for ``qname``/``qtype``, or None."""
    if qtype in NEVER or qtype == T.DS or not qname.is_subdomain(zone):
        return None

    def record(name: Name) -> tuple[Proof | None, bool]:
        """The record matching or covering ``name``'s hash, and whether it matches."""
        owner = v.nsec3_owner(name, zone, params)
        hit = nsec3_at_or_before(owner)
        if hit is None or hit.ttl <= 0:
            return None, False
        return hit, hit.rrset.name == owner

    def done(rcode: int, answer: Proof | None, proofs: list[Proof | None],
             out: v.Outcome) -> Synthesis | None:
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
        out = v.prove_nodata(qname, qtype, zone, [own.rrset], limits)
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
        out = v.prove_wildcard_answer(qname, ce, zone, [cover.rrset], limits)
        return done(dns.rcode.NOERROR, data, [cover], out)
    wild = dns.name.Name((b"*",) + ce.labels)
    wild_proof, wild_matches = record(wild)
    if wild_proof is None or ce_proof is None:
        return None
    proofs: list[Proof | None] = [ce_proof, cover, wild_proof]
    rrsets = [ce_proof.rrset, cover.rrset, wild_proof.rrset]
    if wild_matches:
        out = v.prove_nodata(qname, qtype, zone, rrsets, limits)  # wildcard NODATA
        return done(dns.rcode.NOERROR, None, proofs, out)
    out = v.prove_nxdomain(qname, zone, rrsets, limits)
    return done(dns.rcode.NXDOMAIN, None, proofs, out)
