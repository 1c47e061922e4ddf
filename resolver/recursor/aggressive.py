"""Aggressive use of DNSSEC-validated cache (RFC 8198), NSEC only, as Unbound's
``aggressive-nsec``.

:func:`synthesise` is pure: given a name and type, the zone that is authoritative for it and
lookups into that zone's cached, validated NSEC records (and its validated wildcard RRsets),
it returns the NXDOMAIN, NODATA or wildcard answer those records prove, or ``None`` when they
prove nothing (the question then goes upstream).  Every synthesis is checked by the same
proof functions (:mod:`resolver.recursor.validate`) that check upstream denials, so the rules
of RFC 4035 §5.4 and RFC 6840 §4.1 hold: an NSEC at a delegation (NS without SOA) or a DNAME
proves nothing below it, and an NSEC at a delegation proves no NODATA there.

NSEC3 is not used (RFC 8198 §4 makes it optional; Unbound 1.17 does NSEC only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rrset

from resolver.recursor import validate as v

__all__ = ["NEVER", "Proof", "Synthesis", "synthesise"]

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
    data = wildcard(wild, qtype)
    if data is None and qtype != T.CNAME:
        data = wildcard(wild, T.CNAME)  # the caller follows the CNAME
    if data is not None and data.ttl > 0:
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
