"""Denials (RFC 2308): NXDOMAIN per name, NODATA per name and type, each with the SOA and
the NSEC/NSEC3 proofs that came with it.  An NXDOMAIN also denies every name below it
(RFC 8020)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset

from resolver.cache.arc import ARC, LRU
from resolver.cache.common import (
    GHOST_BYTES,
    MAX_NEGATIVE_TTL_S,
    ArcBacked,
    Kept,
    Security,
    clamp_ttl,
    key_name,
    remaining_ttl,
    rrsets_charge,
    servable,
)
from resolver.model import with_ttl

__all__ = ["MAX_SHARED_SOAS", "CachedNegative", "NegativeCache", "NegativeKey", "NegativeKind"]

NegativeKind = Literal["nxdomain", "nodata"]
NegativeKey = tuple[NegativeKind, dns.name.Name, int, int]
"""(kind, owner lower-cased, rdtype or 0 for NXDOMAIN, rdclass)."""


@dataclass(frozen=True, slots=True)
class CachedNegative:
    """A cached denial. ``name`` is the owner it was cached for: for an NXDOMAIN found by the
    RFC 8020 cut it is an ancestor of the name asked. ``soa`` and ``proofs`` carry the
    remaining TTL; ``soa`` is None for a DS denial that came with a referral (its NSEC or
    NSEC3 records are the whole proof)."""

    kind: NegativeKind
    name: dns.name.Name
    rdtype: int | None
    soa: dns.rrset.RRset | None
    proofs: tuple[dns.rrset.RRset, ...]
    security: Security
    expires: float
    stale: bool = False  # expired, served under serve-expired (TTLs 0 here)
    stored_ttl: int = 0  # the TTL it was stored with (serve-original-ttl)


@dataclass(frozen=True, slots=True)
class _StoredNegative:
    kind: NegativeKind
    name: dns.name.Name
    rdtype: int | None
    soa: dns.rrset.RRset | None
    proofs: tuple[dns.rrset.RRset, ...]
    security: Security
    stored_at: float
    ttl: int
    expired_at: float | None = None  # made to expire early (testbound's EXPIRE_MESSAGE)
    stale_until: float | None = None  # serve-expired-ttl-reset: servable expired until then

    @property
    def expires(self) -> float:
        end = self.stored_at + self.ttl
        return end if self.expired_at is None else min(end, self.expired_at)


def _servable(entry: _StoredNegative, now: float, stale: float | None) -> bool:
    if now >= entry.expires and entry.security is Security.BOGUS:
        return False  # expired bogus data is never served (serve-expired)
    return servable(entry.expires, entry.stale_until, now, stale)


def _charge(soa: dns.rrset.RRset | None, proofs: Iterable[dns.rrset.RRset]) -> int:
    """The bytes a denial is charged in the cache: every RRset it holds counts (its key's
    two names take the place the first one has in an RRset entry's overhead)."""
    return rrsets_charge((soa, *proofs), included=0)


MAX_SHARED_SOAS = 10_000  # zones whose latest SOA is remembered (NegativeCache.shared_soa)


class NegativeCache(ArcBacked):
    """NXDOMAIN and NODATA answers (RFC 2308) on an :class:`ARC` with a byte budget.

    The TTL is ``min(SOA TTL, SOA MINIMUM)`` (RFC 2308 §5), capped at ``max_ttl``. An
    NXDOMAIN for a name answers every type at that name and every name below it (RFC 8020);
    with ``secure_cut_only`` the cut applies below the name only when the NXDOMAIN was
    validated secure, as Unbound's harden-below-nxdomain does ("only DNSSEC-secure
    NXDOMAINs are used", unbound.conf(5)); with ``cut_below`` off (harden-below-nxdomain:
    no) an NXDOMAIN answers for its own name only.
    """

    def __init__(
        self,
        capacity_bytes: int,
        *,
        max_ttl: int = MAX_NEGATIVE_TTL_S,
        secure_cut_only: bool = False,
        shared_soa: bool = False,
        cut_below: bool = True,
    ) -> None:
        self._arc: ARC[NegativeKey, _StoredNegative] = ARC(capacity_bytes, ghost_bytes=GHOST_BYTES)
        self.max_ttl = max_ttl
        self.secure_cut_only = secure_cut_only
        self.cut_below = cut_below
        # Unbound's message cache refers to the RRsets of its RRset cache: a cached denial
        # shows the zone's SOA RRset as it was last stored (by a later denial, say), with
        # that RRset's TTL, while the denial itself expires when it was due to
        self.shared_soa = shared_soa
        self._soas: LRU[tuple[dns.name.Name, int], tuple[dns.rrset.RRset, float, float]] = \
            LRU(MAX_SHARED_SOAS)
        self.hits = 0
        self.misses = 0

    def put_nxdomain(
        self,
        name: dns.name.Name,
        soa_rrset: dns.rrset.RRset,
        now: float,
        proofs: Iterable[dns.rrset.RRset] | None = None,
        security: Security = Security.INDETERMINATE,
        min_ttl: int = 0,
    ) -> bool:
        """Cache "``name`` does not exist"; whether it was stored.  ``min_ttl``: see
        :meth:`_put`."""
        if name == dns.name.root:
            raise ValueError("the root always exists")
        return self._put("nxdomain", name, None, soa_rrset, now, proofs, security, min_ttl)

    def put_nodata(
        self,
        name: dns.name.Name,
        rdtype: int,
        soa_rrset: dns.rrset.RRset,
        now: float,
        proofs: Iterable[dns.rrset.RRset] | None = None,
        security: Security = Security.INDETERMINATE,
        min_ttl: int = 0,
    ) -> bool:
        """Cache "``name`` exists but has no ``rdtype``"; whether it was stored.

        The name exists after all, so an NXDOMAIN cached for it is dropped.
        """
        stored = self._put("nodata", name, int(rdtype), soa_rrset, now, proofs, security,
                           min_ttl)
        if stored:
            self._arc.pop(("nxdomain", key_name(name), 0, int(soa_rrset.rdclass)))
        return stored

    def put_referral_ds_denial(
        self,
        cut: dns.name.Name,
        proofs: Iterable[dns.rrset.RRset],
        now: float,
    ) -> bool:
        """Cache "no DS at ``cut``" from a referral's NSEC/NSEC3 records (and RRSIGs).

        A signed parent proves an unsigned delegation in the referral itself (RFC 4035
        §3.1.4); keeping the proof saves asking for the DS (Unbound adds referral NSECs to
        its negative cache).  The entry has no SOA; its TTL is the proofs' smallest.  It is
        unvalidated like any cached denial: the validator checks it against the parent's
        keys when it asks for the DS, and drops it if it fails.
        """
        proof_sets = tuple(proofs)
        denial = [p for p in proof_sets if p.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)]
        if not denial:
            return False
        ttl = clamp_ttl(min(p.ttl for p in proof_sets), self.max_ttl)
        return self._store("nodata", cut, int(dns.rdatatype.DS), None, int(denial[0].rdclass),
                           ttl, proof_sets, Security.INDETERMINATE, now)

    def _put(
        self,
        kind: NegativeKind,
        name: dns.name.Name,
        rdtype: int | None,
        soa_rrset: dns.rrset.RRset,
        now: float,
        proofs: Iterable[dns.rrset.RRset] | None,
        security: Security,
        min_ttl: int = 0,
    ) -> bool:
        """``min_ttl`` (a resolver's cache-min-ttl) raises the negative TTL after the cap,
        as Unbound's rdata_copy raises a negative answer's SOA to cache-min-ttl after
        cache-max-negative-ttl ("If this is disabled and cache-min-ttl is configured, it
        will take effect instead", unbound.conf(5) cache-min-negative-ttl)."""
        if soa_rrset.rdtype != dns.rdatatype.SOA or len(soa_rrset) != 1:
            raise ValueError("a negative answer needs exactly one SOA record")
        soa_rdata = soa_rrset[0]
        assert isinstance(soa_rdata, dns.rdtypes.ANY.SOA.SOA)
        ttl = max(min_ttl, clamp_ttl(min(soa_rrset.ttl, soa_rdata.minimum), self.max_ttl))
        return self._store(kind, name, rdtype, soa_rrset, int(soa_rrset.rdclass), ttl,
                           tuple(proofs or ()), security, now)

    def _store(
        self,
        kind: NegativeKind,
        name: dns.name.Name,
        rdtype: int | None,
        soa_rrset: dns.rrset.RRset | None,
        rdclass: int,
        ttl: int,
        proofs: tuple[dns.rrset.RRset, ...],
        security: Security,
        now: float,
    ) -> bool:
        if ttl <= 0:
            return False
        entry = _StoredNegative(
            kind=kind,
            name=name,
            rdtype=rdtype,
            soa=None if soa_rrset is None else with_ttl(soa_rrset, ttl),
            proofs=tuple(with_ttl(p, min(ttl, p.ttl)) for p in proofs),
            security=security,
            stored_at=now,
            ttl=ttl,
        )
        size = _charge(soa_rrset, proofs)
        key: NegativeKey = (kind, key_name(name), rdtype or 0, rdclass)
        if self.shared_soa and entry.soa is not None:
            self._soas.put((key_name(entry.soa.name), rdclass), (entry.soa, now, now + ttl), 1)
        return self._arc.put(key, entry, size)

    def get(
        self,
        name: dns.name.Name,
        rdtype: int,
        now: float,
        rdclass: int = dns.rdataclass.IN,
        *,
        stale: float | None = None,
    ) -> CachedNegative | None:
        """The denial that answers (``name``, ``rdtype``), or ``None``.

        Looked up in order: the name's own NXDOMAIN or NODATA for ``rdtype`` (the more
        recently stored if both are fresh), then an NXDOMAIN at the nearest ancestor.
        With ``stale`` (seconds, or ``math.inf``) a denial expired for less than that is
        used too, marked ``stale`` with TTLs 0 (serve-expired, RFC 8767 §4), unless bogus.
        """
        owner = key_name(name)
        rdclass = int(rdclass)
        own: tuple[NegativeKey, NegativeKey] = (
            ("nxdomain", owner, 0, rdclass),
            ("nodata", owner, int(rdtype), rdclass),
        )
        found: tuple[NegativeKey, _StoredNegative] | None = None
        for key in own:
            entry = self._arc.peek(key)
            if entry is None or now >= entry.expires and not _servable(entry, now, stale):
                continue
            if found is None or entry.stored_at > found[1].stored_at:
                found = (key, entry)
        ancestor = owner
        while found is None and self.cut_below and len(ancestor) > 2:  # "." always exists
            ancestor = ancestor.parent()
            key = ("nxdomain", ancestor, 0, rdclass)
            entry = self._arc.peek(key)
            if entry is None or now >= entry.expires and not _servable(entry, now, stale):
                continue
            if self.secure_cut_only and entry.security is not Security.SECURE:
                continue
            found = (key, entry)
        if found is None:
            self.misses += 1
            return None
        self._arc.get(found[0])  # the reference ARC learns from
        self.hits += 1
        entry = found[1]
        remaining = remaining_ttl(entry.expires, now, entry.ttl)
        soa = None if entry.soa is None else with_ttl(entry.soa, remaining)
        if self.shared_soa and entry.soa is not None:
            newer = self._soas.get((key_name(entry.soa.name), rdclass))
            if newer is not None and newer[1] > entry.stored_at and now < newer[2]:
                soa = with_ttl(newer[0], remaining_ttl(newer[2], now, newer[0].ttl))
        return CachedNegative(
            kind=entry.kind,
            name=entry.name,
            rdtype=entry.rdtype,
            soa=soa,
            proofs=tuple(with_ttl(p, min(remaining, p.ttl)) for p in entry.proofs),
            security=entry.security,
            expires=entry.expires,
            stale=now >= entry.expires,
            stored_ttl=entry.ttl,
        )

    def expire(self, name: dns.name.Name, rdtype: int, now: float,
               rdclass: int = dns.rdataclass.IN) -> bool:
        """Make ``name``'s own unexpired denials (its NXDOMAIN, its NODATA for ``rdtype``)
        expire at ``now``, kept for serve-expired; whether there was one."""
        done = False
        for key in self._own_keys(name, rdtype, rdclass):
            entry = self._arc.peek(key)
            if entry is not None and now < entry.expires:
                done = self._arc.replace(key, dataclasses.replace(entry, expired_at=now))
        return done

    def reset_stale(self, name: dns.name.Name, rdtype: int, now: float, until: float,
                    rdclass: int = dns.rdataclass.IN) -> bool:
        """``name``'s own expired denials stay servable (serve-expired) until ``until`` at
        least (Unbound's serve-expired-ttl-reset); whether there was one."""
        done = False
        for key in self._own_keys(name, rdtype, rdclass):
            entry = self._arc.peek(key)
            if entry is not None and now >= entry.expires and (
                    entry.stale_until is None or entry.stale_until < until):
                done = self._arc.replace(key, dataclasses.replace(entry, stale_until=until))
        return done

    def pop_expired(self, name: dns.name.Name, rdtype: int, now: float,
                    rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget ``name``'s own expired denials (for ``rdtype``); whether any went."""
        gone = False
        for key in self._own_keys(name, rdtype, rdclass):
            entry = self._arc.peek(key)
            if entry is not None and now >= entry.expires:
                gone = self._arc.pop(key) is not None or gone
        return gone

    def keep(self, name: dns.name.Name, rdtype: int,
             rdclass: int = dns.rdataclass.IN) -> Kept:
        """``name``'s own denials (for ``rdtype``) as they are now, for :meth:`put_back`."""
        return self._keep(self._own_keys(name, rdtype, rdclass))

    def put_back(self, kept: Kept) -> None:
        """Those denials as they were when kept (what replaced them since is dropped)."""
        self._put_back(kept)

    @staticmethod
    def _own_keys(name: dns.name.Name, rdtype: int, rdclass: int) -> tuple[NegativeKey, ...]:
        owner = key_name(name)
        return (("nxdomain", owner, 0, int(rdclass)), ("nodata", owner, int(rdtype), int(rdclass)))
    def mark_secure(self, name: dns.name.Name, rdclass: int = dns.rdataclass.IN) -> bool:
        """The validator proved ``name``'s cached NXDOMAIN secure: it may now deny the
        names below (``secure_cut_only``); whether there was one to mark."""
        key: NegativeKey = ("nxdomain", key_name(name), 0, int(rdclass))
        entry = self._arc.peek(key)
        if entry is None or entry.security is Security.SECURE:
            return False
        self._arc.put(key, dataclasses.replace(entry, security=Security.SECURE),
                      _charge(entry.soa, entry.proofs))
        return True

    def pop(self, name: dns.name.Name, rdtype: int, rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget ``name``'s own NXDOMAIN and its NODATA for ``rdtype``; whether any was
        there (a denial that failed validation, to be fetched again)."""
        owner = key_name(name)
        nx = self._arc.pop(("nxdomain", owner, 0, int(rdclass))) is not None
        nodata = self._arc.pop(("nodata", owner, int(rdtype), int(rdclass))) is not None
        return nx or nodata

    def clear(self) -> None:
        self._arc.clear()

    def stats(self) -> dict[str, int]:
        return {**self._arc.stats(), "hits": self.hits, "misses": self.misses}
