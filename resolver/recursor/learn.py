"""What a response teaches the cache beyond its answer: a referral's delegation (NS, DS or
its denial, glue, each also kept as parent-side data), the zone's own NS set, a minimised
name without a cut, servers that refused, and unsigned delegations shown by a CNAME
answer's NSEC/NSEC3 records."""

from __future__ import annotations

from collections.abc import Sequence

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.NSEC3 import NSEC3

from resolver.cache import DnsCache, Rank
from resolver.dnssec.denial import bitmap_types
from resolver.model import with_ttl
from resolver.recursor.classify import Classified, Kind
from resolver.recursor.config import LAME_TTL
from resolver.recursor.exchanger import Failure, UpstreamResult

T = dns.rdatatype


def cache_referral(cache: DnsCache, c: Classified, zone: dns.name.Name, now: float) -> None:
    """A referral's NS set, DS (or the proof there is none) and glue; ``zone`` is the zone
    whose servers gave it.

    The delegation ends no later than ``zone``'s own cached NS set (the root's excepted):
    a sub-delegation learnt from a zone's servers must not keep resolution going below a
    zone whose delegation has ended, or a revoked zone's children would stay resolvable
    (ghost domains, CVE-2012-1191 and CVE-2022-30698; Unbound's iter_ghost_sub and
    iter_ghost_ns_childapex tests expect the parent to be asked again once it has ended).
    """
    assert c.ns is not None
    ns = _within_delegation(cache, c.ns, zone, now)
    if ns is None:
        return  # (the zone's delegation ends this very second)
    cache.rrsets.put(ns, Rank.AUTHORITY_NONAUTH, now)
    # (kept apart too: ServerAddresses.others asks the NS names the child dropped)
    cache.parent_side.put(ns, Rank.AUTHORITY_NONAUTH, now)
    if c.ds is not None:
        ds_sigs = c.sigs.get((c.ds.name, T.DS))
        cache.rrsets.put(c.ds, Rank.AUTHORITY_AUTH, now, sigs=ds_sigs)
    elif c.proofs and c.cut is not None \
            and cache.negative.get(c.cut, T.DS, now) is None:
        # an unsigned delegation from a signed parent: the NSEC/NSEC3 records say so
        cache.negative.put_referral_ds_denial(c.cut, c.proofs, now)
    for g in c.glue:
        cache.rrsets.put(g, Rank.ADDITIONAL, now)
        # Also kept apart: the child's own answer replaces the glue in the RRset cache,
        # and when the child's addresses are broken the parent's are the last resort
        # (Unbound's parent-side rrsets, iter_lookup_parent_glue_from_cache).
        cache.parent_side.put(g, Rank.ADDITIONAL, now)


def _within_delegation(cache: DnsCache, ns: dns.rrset.RRset, zone: dns.name.Name,
                       now: float) -> dns.rrset.RRset | None:
    """``ns`` with its TTL cut to what is left of ``zone``'s cached NS set; None when
    nothing is left.  Unchanged for the root and for a zone with no NS set cached (a
    configured stub zone, say)."""
    if zone == dns.name.root:
        return ns
    own = cache.rrsets.get(zone, T.NS, now)
    if own is None or own.rrset.ttl >= ns.ttl:
        return ns
    if own.rrset.ttl <= 0:
        return None
    return with_ttl(ns, own.rrset.ttl)


def cache_child_ns(cache: DnsCache, response: dns.message.Message, zone: dns.name.Name,
                   now: float) -> None:
    """The zone's own NS set, from the authority section of its authoritative answer.

    RFC 2181 §5.4.1 ranks it above the parent's referral, so it replaces the delegation
    in the cache: the child's servers are the ones asked next (a nameserver the parent
    still lists but the child dropped is not).  The cache does not let a same-ranked
    copy extend its TTL (RRsetCache.put, the ghost-domain rule).

    The addresses of those nameservers that the answer carries in its additional section
    and that are in the zone are kept too, ranked as glue: "additional information from
    an authoritative answer" (RFC 2181 §5.4.1; Unbound stores such A/AAAA records for
    the nameservers of the message), so a server the parent does not list can be reached
    without asking the zone (whose only other server may have stopped answering).
    """
    for rrset in response.authority:
        if rrset.rdtype == T.NS and rrset.name == zone and zone != dns.name.root:
            cache.rrsets.put(rrset, Rank.AUTHORITY_AUTH, now)
            targets = {rd.target for rd in rrset}
            for extra in response.additional:
                if extra.rdtype in (T.A, T.AAAA) and extra.name in targets \
                        and extra.name.is_subdomain(zone):
                    cache.rrsets.put(extra, Rank.ADDITIONAL, now)


def remember_no_cut(cache: DnsCache, qmin_qtype: int, name: dns.name.Name, c: Classified,
                    now: float) -> None:
    """A minimised name answered NODATA by its zone's servers: no cut there."""
    if c.kind is Kind.NODATA and c.soa is not None and not c.chain:
        cache.negative.put_nodata(name, qmin_qtype, c.soa, now, proofs=tuple(c.proofs))


def mark_refusers(cache: DnsCache, result: UpstreamResult, zone: dns.name.Name,
                  now: float) -> None:
    """A server that refused the question does not serve ``zone``: lame for it (RFC 4697
    §2.1), and not asked for the zone again while it has other servers."""
    for addr, failure in result.failures:
        if failure is Failure.REFUSED:
            cache.infra.mark_lame(addr, zone, now, LAME_TTL)


def learn_insecure_cuts(
    cache: DnsCache, target: dns.name.Name, proofs: Sequence[dns.rrset.RRset], now: float
) -> None:
    """A CNAME answer whose authority carries the NSEC/NSEC3 of an unsigned delegation
    above the CNAME's target (NS in its type map, no DS, no SOA): kept as that cut's DS
    denial, as a referral's would be (Unbound keeps the validated NSEC records of a
    response, its negative cache answers the DS question from them).  The validator
    checks it against the parent's keys when it needs the DS, and drops it if it fails."""
    for cut in insecure_cuts(target, proofs):
        if cache.negative.get(cut, T.DS, now) is None:
            cache.negative.put_referral_ds_denial(cut, proofs, now)


def insecure_cuts(
    target: dns.name.Name, proofs: Sequence[dns.rrset.RRset]
) -> list[dns.name.Name]:
    """The names at or above ``target`` (not the root) that an NSEC or NSEC3 record among
    ``proofs`` shows as an unsigned delegation: NS in its type map, neither DS nor SOA
    (RFC 4035 §5.2, RFC 5155 §8.9)."""
    names = []
    n = target
    while n != dns.name.root:
        names.append(n)
        n = n.parent()
    out: list[dns.name.Name] = []
    for rrset in proofs:
        if rrset.rdtype not in (T.NSEC, T.NSEC3):
            continue
        for rd in rrset:
            types = bitmap_types(rd.windows)
            if T.NS not in types or T.DS in types or T.SOA in types:
                continue
            for name in names:
                if name in out:
                    continue
                if rrset.rdtype == T.NSEC and rrset.name == name:
                    out.append(name)
                elif rrset.rdtype == T.NSEC3 and _nsec3_owner_of(rrset.name, rd, name):
                    out.append(name)
    return out


def _nsec3_owner_of(owner: dns.name.Name, rd: NSEC3, name: dns.name.Name) -> bool:
    """Is the NSEC3 record at ``owner`` the one of ``name`` (its hashed owner label)?"""
    if len(owner) < 2 or not name.is_subdomain(owner.parent()):
        return False
    try:
        hashed = dns.dnssec.nsec3_hash(name, rd.salt, rd.iterations, rd.algorithm)
    except (ValueError, dns.exception.DNSException):
        return False
    return bool(owner.labels[0].decode("ascii", "replace").lower() == hashed.lower())


def set_aside_unverified_glue(cache: DnsCache, c: Classified, now: float) -> None:
    """Take the glue of names outside the referral's child zone out of ``c`` and keep it
    apart, for the last resort only (Unbound's harden-unverified-glue: scrub_sanitize stores
    such addresses as unverified glue, "retrieved if we can't separately resolve the glue",
    processLastResort; RFC 2181 §5.4.1)."""
    assert c.cut is not None
    unverified = [g for g in c.glue if not (g.name.is_subdomain(c.cut) and g.name != c.cut)]
    c.glue = [g for g in c.glue if g not in unverified]
    for g in unverified:
        cache.parent_side.put(g, Rank.ADDITIONAL, now)
