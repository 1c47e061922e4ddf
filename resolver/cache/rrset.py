"""RRsets (with their RRSIGs) keyed by owner, type and class, as Unbound's rrset cache.

A :class:`~resolver.cache.common.Rank` says how much each one is trusted; an unexpired entry
is replaced only by data of equal or higher rank, so glue from a referral can never overwrite
an authoritative answer.  :class:`~resolver.cache.common.Security` is the validator's verdict,
kept beside it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.cache.arc import ARC
from resolver.cache.common import (
    GHOST_BYTES,
    MAX_TTL_S,
    ArcBacked,
    Kept,
    Rank,
    Security,
    clamp_ttl,
    key_name,
    remaining_ttl,
    rrsets_charge,
    servable,
)
from resolver.model import with_ttl

__all__ = ["CachedRRset", "RRsetCache", "RRsetKey"]

RRsetKey = tuple[dns.name.Name, int, int]
"""(owner name lower-cased, rdtype, rdclass)."""


@dataclass(frozen=True, slots=True)
class CachedRRset:
    """An RRset served from cache: ``rrset`` and ``sigs`` carry the remaining TTL."""

    rrset: dns.rrset.RRset
    sigs: dns.rrset.RRset | None
    rank: Rank
    security: Security
    expires: float
    proofs: tuple[dns.rrset.RRset, ...] = ()  # a wildcard expansion's NSEC/NSEC3 (+RRSIGs)
    stored_ttl: int = 0  # the TTL it was stored with (for prefetching)
    stale: bool = False  # expired, served under serve-expired (TTL 0 here)


@dataclass(frozen=True, slots=True)
class _StoredRRset:
    rrset: dns.rrset.RRset  # TTL is the capped TTL it was stored with
    sigs: dns.rrset.RRset | None
    rank: Rank
    security: Security
    expires: float
    proofs: tuple[dns.rrset.RRset, ...] = ()
    stale_until: float | None = None  # serve-expired-ttl-reset: servable expired until then


class RRsetCache(ArcBacked):
    """RRsets by (owner, type, class) on an :class:`ARC` with a byte budget.

    Replacement rule: an unexpired entry is replaced only by an RRset of equal or higher
    :class:`Rank`; an expired one by anything. Signatures are stored with the RRset they
    cover (``sigs``), never as an RRset of their own.
    """

    def __init__(self, capacity_bytes: int, *, max_ttl: int = MAX_TTL_S,
                 dname_zero_ttl_grace: bool = False) -> None:
        self._arc: ARC[RRsetKey, _StoredRRset] = ARC(capacity_bytes, ghost_bytes=GHOST_BYTES)
        self.max_ttl = max_ttl
        # Unbound (PR #1411, 1.24): a DNAME that came with TTL 0 stays usable for synthesis
        # for one more second of its whole-second clock, and is answered with TTL 0
        self.dname_zero_ttl_grace = dname_zero_ttl_grace
        self.hits = 0
        self.misses = 0
        self.rank_rejections = 0

    def put(
        self,
        rrset: dns.rrset.RRset,
        rank: Rank,
        now: float,
        security: Security = Security.INDETERMINATE,
        sigs: dns.rrset.RRset | None = None,
        proofs: tuple[dns.rrset.RRset, ...] = (),
    ) -> bool:
        """Store a copy of ``rrset`` (and ``sigs``) until ``now`` + TTL; whether it was stored.

        ``proofs`` travel with an RRset synthesised from a wildcard: the NSEC/NSEC3 records
        (and their RRSIGs) proving the name itself does not exist, served with it later.

        The TTL is the lower of the RRset's and its signatures', capped at ``max_ttl``; an NS
        RRset that replaces an unexpired one never outlives it (the ghost-domain rule). Not
        stored: TTL 0, an unexpired entry of higher rank, or an entry bigger than the budget.
        With ``dname_zero_ttl_grace`` a DNAME of TTL 0 is the exception: it is kept until the
        end of the next whole second (Unbound counts time in whole seconds: an RRset stored
        at second T with TTL 0 is used while the clock reads T or T+1) and read with TTL 0.
        """
        if len(rrset) == 0:
            raise ValueError("cannot cache an empty RRset")
        if rrset.rdtype == dns.rdatatype.RRSIG:
            raise ValueError("store RRSIGs as sigs= of the RRset they cover")
        if sigs is not None and (
            sigs.rdtype != dns.rdatatype.RRSIG
            or sigs.covers != rrset.rdtype
            or sigs.name != rrset.name
        ):
            raise ValueError(f"sigs must be RRSIGs over {rrset.name} {rrset.rdtype!r}")
        ttl = rrset.ttl if sigs is None else min(rrset.ttl, sigs.ttl)
        ttl = clamp_ttl(ttl, self.max_ttl)
        lifetime: float = ttl
        if ttl <= 0:
            if not (self.dname_zero_ttl_grace and rrset.rdtype == dns.rdatatype.DNAME):
                return False
            ttl, lifetime = 0, math.floor(now) + 2 - now
        key: RRsetKey = (key_name(rrset.name), int(rrset.rdtype), int(rrset.rdclass))
        cached = self._arc.peek(key)
        if cached is not None and now < cached.expires and rank < cached.rank:
            self.rank_rejections += 1
            return False
        if rrset.rdtype == dns.rdatatype.NS and cached is not None and now < cached.expires:
            # Ghost domains (CVE-2012-1191): an NS RRset that replaces an unexpired one, of
            # the same rank or a higher one (the child's own NS set over the parent's
            # referral, RFC 2181 §5.4.1), keeps the expiry the cached one had, so the
            # delegation still ends when the parent's does and the parent is asked again
            # (Unbound's need_to_update_rrset keeps the old TTL for NS of the same trust;
            # since 1.25.1, CVE-2026-40622, NS TTLs are not extended whatever the trust).
            ttl = min(ttl, remaining_ttl(cached.expires, now, ttl))
            if ttl <= 0:
                return False
            lifetime = ttl
        if not proofs and cached is not None and now < cached.expires and cached.proofs \
                and cached.rrset == rrset:
            proofs = cached.proofs  # the same data stored again (say, once validated)
        entry = _StoredRRset(
            rrset=with_ttl(rrset, ttl),
            sigs=None if sigs is None else with_ttl(sigs, ttl),
            rank=Rank(rank),
            security=security,
            expires=now + lifetime,
            proofs=tuple(with_ttl(p, min(p.ttl, ttl)) for p in proofs),
        )
        size = rrsets_charge((rrset, sigs, *proofs))
        return self._arc.put(key, entry, size)

    def get(
        self,
        name: dns.name.Name,
        rdtype: int,
        now: float,
        rdclass: int = dns.rdataclass.IN,
        *,
        stale: float | None = None,
    ) -> CachedRRset | None:
        """The cached RRset with its remaining TTL (rounded down), or ``None`` if absent/expired.

        An expired entry stays resident (so a popular name keeps its place in the ARC when
        it is refreshed) until it is replaced or evicted.  With ``stale`` (seconds, or
        ``math.inf``) an entry expired for less than that is returned too, marked ``stale``
        with TTL 0 (serve-expired, RFC 8767 §4), unless the validator found it bogus.
        """
        entry = self._arc.get((key_name(name), int(rdtype), int(rdclass)))
        if entry is None or now >= entry.expires and (  # (one comparison when fresh)
                entry.security is Security.BOGUS
                or not servable(entry.expires, entry.stale_until, now, stale)):
            self.misses += 1
            return None
        self.hits += 1
        ttl = remaining_ttl(entry.expires, now, entry.rrset.ttl)
        return CachedRRset(
            rrset=with_ttl(entry.rrset, ttl),
            sigs=None if entry.sigs is None else with_ttl(entry.sigs, ttl),
            rank=entry.rank,
            security=entry.security,
            expires=entry.expires,
            proofs=tuple(with_ttl(p, min(p.ttl, ttl)) for p in entry.proofs),
            stored_ttl=entry.rrset.ttl,
            stale=now >= entry.expires,
        )

    def expire(self, name: dns.name.Name, rdtype: int, now: float,
               rdclass: int = dns.rdataclass.IN) -> bool:
        """Make an unexpired RRset expire at ``now`` (kept, as any expired entry, for
        serve-expired); whether there was one."""
        key: RRsetKey = (key_name(name), int(rdtype), int(rdclass))
        entry = self._arc.peek(key)
        if entry is None or now >= entry.expires:
            return False
        self._arc.replace(key, dataclasses.replace(entry, expires=now))
        return True

    def reset_stale(self, name: dns.name.Name, rdtype: int, now: float, until: float,
                    rdclass: int = dns.rdataclass.IN) -> bool:
        """An expired RRset stays servable (serve-expired) until ``until`` at least, as
        Unbound's serve-expired-ttl-reset after a failed refresh; whether one was there."""
        key: RRsetKey = (key_name(name), int(rdtype), int(rdclass))
        entry = self._arc.peek(key)
        if entry is None or now < entry.expires or (
                entry.stale_until is not None and entry.stale_until >= until):
            return False
        self._arc.replace(key, dataclasses.replace(entry, stale_until=until))
        return True

    def pop_expired(self, name: dns.name.Name, rdtype: int, now: float,
                    rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget the RRset if it has expired (serve-expired: a refresh superseded it, say
        with an answer of TTL 0 that is not cached); whether one went."""
        key: RRsetKey = (key_name(name), int(rdtype), int(rdclass))
        entry = self._arc.peek(key)
        return entry is not None and now >= entry.expires and self._arc.pop(key) is not None

    def keep(self, name: dns.name.Name, *rdtypes: int,
             rdclass: int = dns.rdataclass.IN) -> Kept:
        """The RRsets of ``rdtypes`` at ``name`` as they are now, for :meth:`put_back`."""
        return self._keep(tuple((key_name(name), int(t), int(rdclass)) for t in rdtypes))

    def put_back(self, kept: Kept) -> None:
        """Those RRsets as they were when kept (what replaced them since is dropped)."""
        self._put_back(kept)

    def pop(self, name: dns.name.Name, rdtype: int, rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget one RRset; whether it was cached."""
        return self._arc.pop((key_name(name), int(rdtype), int(rdclass))) is not None

    def clear(self) -> None:
        self._arc.clear()

    def stats(self) -> dict[str, int]:
        return {
            **self._arc.stats(),
            "hits": self.hits,
            "misses": self.misses,
            "rank_rejections": self.rank_rejections,
        }
