"""The resolver's caches kept apart the way Unbound keeps them (services/cache/), and the
:class:`DnsCache` facade that owns one of each:

* :mod:`resolver.cache.rrset`: RRsets with their RRSIGs, trust rank and validator verdict;
* :mod:`resolver.cache.negative`: denials (RFC 2308, the RFC 8020 cut);
* :mod:`resolver.cache.infra`: what we know about upstream servers (RFC 6298 RTT, hold-down,
  EDNS, 0x20, lameness per zone);
* :mod:`resolver.cache.nsec`: validated NSEC/NSEC3 records for RFC 8198 aggressive use;
* :mod:`resolver.cache.common`: what they share (TTL caps, :class:`Rank`, :class:`Security`,
  cache keys, what an entry costs).

Whole replies as served to clients are kept apart from these, as wire bytes, by the server's
reply cache (:mod:`resolver.cache.reply`).
"""

from __future__ import annotations

import dns.name
import dns.rdatatype

from resolver.cache.arc import LRU
from resolver.cache.common import (
    MAX_NEGATIVE_TTL_S,
    MAX_TTL_S,
    Kept,
    key_name,
)
from resolver.cache.infra import InfraCache
from resolver.cache.negative import NegativeCache
from resolver.cache.nsec import NsecCache
from resolver.cache.rrset import RRsetCache

__all__ = [
    "DEFAULT_INFRA_ENTRIES",
    "FLUSH_TYPES",
    "NEGATIVE_SHARE_PERCENT",
    "PARENT_SIDE_SHARE_PERCENT",
    "RRSET_SHARE_PERCENT",
    "DnsCache",
]

DEFAULT_INFRA_ENTRIES = 10_000
"""Servers the :class:`DnsCache` facade remembers by default."""

# -- the byte budget split ----------------------------------------------------------------

RRSET_SHARE_PERCENT = 70
NEGATIVE_SHARE_PERCENT = 30
"""The RRset and negative caches share the budget 70:30 (the 50:20 they had beside the
message cache, which was never written and is gone, scaled up to the whole)."""
PARENT_SIDE_SHARE_PERCENT = 2
"""Parent-side nameserver addresses (referral glue) get a small budget of their own, on top
of the shares above: Unbound keeps them apart from the child's data (its
PACKED_RRSET_PARENT_SIDE entries) as a last resort when the child's addresses fail."""

FLUSH_TYPES = tuple(int(t) for t in (
    dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.NS, dns.rdatatype.SOA,
    dns.rdatatype.CNAME, dns.rdatatype.DNAME, dns.rdatatype.MX, dns.rdatatype.PTR,
    dns.rdatatype.SRV, dns.rdatatype.NAPTR, dns.rdatatype.TXT, dns.rdatatype.DS,
    dns.rdatatype.DNSKEY, dns.rdatatype.HTTPS, dns.rdatatype.SVCB, dns.rdatatype.CAA))
"""The types :meth:`DnsCache.flush_name` forgets (Unbound's flush_name list, and more)."""


NXDOMAIN_CUTS = ("any", "secure", "none")
"""Which NXDOMAINs deny the names below them (RFC 8020): every one, DNSSEC-secure ones
only (Unbound's harden-below-nxdomain: yes), none (harden-below-nxdomain: no)."""


class DnsCache:
    """The resolver's caches, with one byte budget split between them.

    ``rrsets`` gets :data:`RRSET_SHARE_PERCENT` of it and ``negative``
    :data:`NEGATIVE_SHARE_PERCENT`; ``parent_side`` :data:`PARENT_SIDE_SHARE_PERCENT` on
    top.  ``infra`` is counted in servers, not bytes; ``nsec`` in zones and records.
    """

    def __init__(
        self,
        total_bytes: int,
        *,
        infra_entries: int = DEFAULT_INFRA_ENTRIES,
        max_negative_ttl: int = MAX_NEGATIVE_TTL_S,
        dname_zero_ttl_grace: bool = False,
        shared_soa: bool = False,
        max_ttl: int = MAX_TTL_S,
        nxdomain_cut: str = "any",
    ) -> None:
        if total_bytes < 100:
            raise ValueError(f"a DNS cache needs at least 100 bytes, not {total_bytes}")
        self.total_bytes = total_bytes
        # max_ttl: Unbound's cache-max-ttl bounds every cached RRset (delegations too)
        self.rrsets = RRsetCache(total_bytes * RRSET_SHARE_PERCENT // 100, max_ttl=max_ttl,
                                 dname_zero_ttl_grace=dname_zero_ttl_grace)
        # nxdomain_cut: which NXDOMAINs deny the names below them (RFC 8020): "any",
        # "secure" (Unbound's harden-below-nxdomain: yes) or "none" (harden-below-nxdomain: no)
        if nxdomain_cut not in NXDOMAIN_CUTS:
            raise ValueError(f"nxdomain_cut is one of {', '.join(NXDOMAIN_CUTS)}, "
                             f"not {nxdomain_cut!r}")
        # cache-max-ttl bounds negative answers too (Unbound's rdata_copy caps every RR's TTL,
        # the negative answer's SOA included, after cache-max-negative-ttl)
        self.negative = NegativeCache(
            total_bytes * NEGATIVE_SHARE_PERCENT // 100, max_ttl=min(max_negative_ttl, max_ttl),
            shared_soa=shared_soa, secure_cut_only=nxdomain_cut == "secure",
            cut_below=nxdomain_cut != "none",
        )
        self.infra = InfraCache(infra_entries)
        self.parent_side = RRsetCache(max(1024, total_bytes * PARENT_SIDE_SHARE_PERCENT // 100))
        # zone -> until when the parent's NS set, fetched again because every server of
        # the cached delegation failed, stands (see parent_refetched)
        self._refetched: LRU[dns.name.Name, float] = LRU(infra_entries)
        self.nsec = NsecCache()  # validated NSEC records (RFC 8198), fed by the validator

    @property
    def size_bytes(self) -> int:
        return self.rrsets.size_bytes + self.negative.size_bytes + self.parent_side.size_bytes

    def mark_parent_refetched(self, zone: dns.name.Name, now: float, ttl: float) -> None:
        """The parent's NS set for ``zone`` was fetched again (every server of the cached
        delegation having failed); it stands as the parent-side NS set for ``ttl`` seconds."""
        if ttl > 0:
            self._refetched.put(key_name(zone), now + ttl, 1)

    def parent_refetched(self, zone: dns.name.Name, now: float) -> bool:
        """Whether ``zone``'s parent-side NS set was fetched again and has not expired: as
        Unbound's processLastResort, which goes up to the parent only when no parent-side NS
        set is cached (iter_lookup_parent_NS_from_cache), the resolver does not ask the
        parent again while it stands."""
        until = self._refetched.peek(key_name(zone))
        if until is None:
            return False
        if now >= until:
            self._refetched.pop(key_name(zone))
            return False
        return True

    def flush_name(self, name: dns.name.Name) -> int:
        """Forget what is cached at ``name`` (not below it), as ``unbound-control
        flush_name`` does: its RRsets of the usual types (and their parent-side copies), its
        denials.  Server knowledge and validated NSEC records stay.
        Returns how many entries went."""
        gone = 0
        for rdtype in FLUSH_TYPES:
            gone += self.rrsets.pop(name, rdtype)
            gone += self.parent_side.pop(name, rdtype)
            gone += self.negative.pop(name, rdtype)
        gone += self._refetched.pop(key_name(name)) is not None
        return gone

    def expire(self, name: dns.name.Name, rdtype: int, now: float) -> bool:
        """Make the cached answer to (``name``, ``rdtype``) expire at ``now``: its RRset (or
        the CNAME there) and its denial, kept as expired data are (serve-expired);
        whether anything was cached (testbound's EXPIRE_MESSAGE)."""
        done = self.rrsets.expire(name, rdtype, now)
        done |= self.rrsets.expire(name, dns.rdatatype.CNAME, now)
        return self.negative.expire(name, rdtype, now) or done

    def reset_stale(self, name: dns.name.Name, rdtype: int, now: float, until: float) -> None:
        """Keep the expired answer to (``name``, ``rdtype``) servable until ``until``: its
        RRset (or the CNAME there) and its denial (Unbound's serve-expired-ttl-reset, after
        a failed refresh)."""
        self.rrsets.reset_stale(name, rdtype, now, until)
        self.rrsets.reset_stale(name, dns.rdatatype.CNAME, now, until)
        self.negative.reset_stale(name, rdtype, now, until)

    def drop_expired(self, name: dns.name.Name, rdtype: int, now: float) -> None:
        """Forget the expired parts of the cached answer to (``name``, ``rdtype``): its
        RRset, the CNAME there, its denials.  A refresh that succeeded supersedes them even
        when what it brought is not cached (TTL 0: NLnetLabs/unbound#860, an expired
        NXDOMAIN served for ever in place of a record of TTL 0)."""
        self.rrsets.pop_expired(name, rdtype, now)
        self.rrsets.pop_expired(name, dns.rdatatype.CNAME, now)
        self.negative.pop_expired(name, rdtype, now)

    def keep(self, name: dns.name.Name, rdtype: int) -> tuple[Kept, Kept]:
        """The cached answer to (``name``, ``rdtype``) as it is now (its RRset, the CNAME
        there, its denials), for :meth:`put_back`."""
        return (self.rrsets.keep(name, rdtype, dns.rdatatype.CNAME),
                self.negative.keep(name, rdtype))

    def put_back(self, kept: tuple[Kept, Kept]) -> None:
        """That answer as it was when kept: serve-expired's valid expired data back in
        place of a refresh the validator found bogus (Unbound keeps "still usable expired
        records" over bogus replies, NLnetLabs/unbound#1143)."""
        self.rrsets.put_back(kept[0])
        self.negative.put_back(kept[1])

    def clear(self) -> None:
        """Flush answers and server knowledge alike."""
        self.rrsets.clear()
        self.negative.clear()
        self.infra.clear()
        self.parent_side.clear()
        self._refetched.clear()
        self.nsec.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            "rrset": self.rrsets.stats(),
            "negative": self.negative.stats(),
            "infra": self.infra.stats(),
        }

