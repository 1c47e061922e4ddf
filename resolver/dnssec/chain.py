"""The chain of trust (RFC 4035 §5): from a trust anchor down to the zone that signed the data.

From the closest trust anchor (:class:`~resolver.dnssec.anchors.TrustAnchors`) the
:class:`ChainOfTrust` walks down, one label at a time, to the zone that signed the data (the
RRSIG signer; for unsigned data the owner name, so that a missing signature in a signed zone
is told apart from an unsigned delegation).  Key priming comes first: the anchored zone's
DNSKEY RRset, checked against the anchors.  At each label it asks the DS RRset through the
inner recursor (sub-requests: cache and conductor are shared): a signed DS leads to the
child's DNSKEY RRset, which one of the DS records must vouch for; a signed denial proves an
unsigned delegation (insecure), or no cut at all (the walk goes on).  A DS or DNSKEY set that
fails on its own data is fetched again from the zone's other servers (Unbound blacklists the
source and restarts).

What it learns is kept per zone in :class:`ZoneKeys` (a :class:`KeyEntry`: secure with keys,
insecure, or bogus for the configured bogus TTL), which the recursor also reads to tell a
signed zone (it is given :meth:`ZoneKeys.is_signed` when it is built); validated DS and
DNSKEY RRsets go into the RRset cache as secure.
"""

from __future__ import annotations

import collections
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from resolver.cache import MAX_TTL_S, Rank, Security
from resolver.clock import Clock
from resolver.dnssec.anchors import TrustAnchors
from resolver.dnssec.config import DnssecConfig
from resolver.dnssec.denial import DsProof, Limits, prove_no_ds
from resolver.dnssec.keys import DNSKEY, DS, KeyCheck, usable_ds, verify_dnskeys
from resolver.dnssec.signatures import Verifier, find_signed, signed_pairs, signer_of
from resolver.dnssec.verdicts import Ede, Outcome, bogus, insecure, type_name
from resolver.model import Request, with_ttl
from resolver.recursor.config import Resolution
from resolver.recursor.core import Recursor
from resolver.recursor.exchanger import Exchanger

__all__ = [
    "MAX_CUT_ENTRIES",
    "MAX_KEY_ENTRIES",
    "BoundedMap",
    "ChainOfTrust",
    "KeyEntry",
    "SubQueries",
    "VerifiedRRset",
    "ZoneKeys",
    "verified_denials",
]

T = dns.rdatatype
Name = dns.name.Name

MAX_KEY_ENTRIES = 10_000
"""Zones whose validation state (keys, insecure, bogus) is remembered."""

MAX_CUT_ENTRIES = 50_000
"""Names remembered as proven not to be zone cuts."""

KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")


class BoundedMap(Generic[KeyT, ValueT]):
    """A bounded map that forgets its oldest entries first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[KeyT, ValueT] = OrderedDict()

    def get(self, key: KeyT) -> ValueT | None:
        return self._data.get(key)

    def put(self, key: KeyT, value: ValueT) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def pop(self, key: KeyT) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


@dataclass(frozen=True)
class KeyEntry:
    """What is known of a zone: secure (with its validated DNSKEY RRset), insecure (an
    unsigned delegation, unsupported algorithms, a negative anchor) or bogus."""

    zone: Name
    security: Security
    keys: dns.rrset.RRset | None = None
    expires: float = 0.0  # monotonic
    ede: Ede | None = None
    why: str = ""

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.security, self.ede, self.why)


class ZoneKeys:
    """The trust anchors and what the chain of trust has learnt of each zone since."""

    def __init__(self, anchors: TrustAnchors, clock: Clock,
                 capacity: int = MAX_KEY_ENTRIES) -> None:
        self.anchors = anchors
        self.clock = clock
        self._entries: BoundedMap[Name, KeyEntry] = BoundedMap(capacity)

    def get(self, zone: Name, mono: float) -> KeyEntry | None:
        """``zone``'s entry while it lasts (monotonic ``mono``)."""
        entry = self._entries.get(zone)
        if entry is None:
            return None
        if mono >= entry.expires:
            self._entries.pop(zone)
            return None
        return entry

    def store(self, entry: KeyEntry) -> KeyEntry:
        self._entries.put(entry.zone, entry)
        return entry

    def is_signed(self, zone: Name) -> bool:
        """Is ``zone`` known to be signed: a (positive) trust anchor there, or keys found
        secure or bogus?  (Unbound's iter_indicates_dnssec, for the recursor.)"""
        if zone in self.anchors.zones and not self.anchors.is_negative(zone):
            return True
        entry = self.get(zone, self.clock.monotonic())
        return entry is not None and entry.security in (Security.SECURE, Security.BOGUS)

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class SubQueries:
    """One client query's DS and DNSKEY sub-requests: the exchanger they go through, how
    many were made and the upstream queries they cost."""

    exchanger: Exchanger
    fetches: int = 0
    upstream: int = 0


VerifiedRRset = tuple[dns.rrset.RRset, dns.rrset.RRset | None, int | None]
"""An RRset whose signature verified, its RRSIGs and its capped TTL."""


def verified_denials(
    authority: Sequence[dns.rrset.RRset], entry: KeyEntry, now: float, verifier: Verifier
) -> tuple[list[VerifiedRRset], Outcome | None]:
    """The NSEC/NSEC3 RRsets of ``entry``'s zone in ``authority`` that verify, and the
    failure of the first that does not (if any).

    A record that does not verify is left out of the proof, not fatal by itself: the proof
    is built from verified records only, so an extra bad record cannot make it succeed, and
    a good proof is not spoilt by a bad record it does not need (Unbound likewise accepts a
    DS denial as soon as one verified NSEC proves it).  When the proof fails, the caller
    reports the bad record's failure, which says more."""
    assert entry.keys is not None
    out: list[VerifiedRRset] = []
    bad: Outcome | None = None
    for rrset, sigs in signed_pairs(authority):
        if rrset.rdtype not in (T.NSEC, T.NSEC3) or not rrset.name.is_subdomain(entry.zone):
            continue
        signer = signer_of(sigs)
        if signer is not None and signer != entry.zone:
            continue  # another zone's proof (an earlier step of a CNAME chain)
        check = verifier.verify(rrset, sigs, entry.keys, entry.zone, now)
        if not check.outcome.secure:
            bad = bad or check.outcome
            continue
        out.append((rrset, sigs, check.ttl))
    return out, bad


def _budget_spent(zone: Name) -> KeyEntry:
    return KeyEntry(zone, Security.BOGUS, ede=Ede.DNSSEC_BOGUS,
                    why="validation fetch budget spent")


class ChainOfTrust:
    """Walks from the trust anchors to a zone, priming keys and proving cuts on the way."""

    def __init__(self, inner: Recursor, zones: ZoneKeys, config: DnssecConfig,
                 verifier: Verifier, limits: Limits,
                 stats: collections.Counter[str]) -> None:
        self.inner = inner
        self.cache = inner.cache
        self.clock = inner.clock
        self.zones = zones
        self.anchors = zones.anchors
        self.config = config
        self.verifier = verifier
        self.limits = limits
        self.stats = stats
        self._cuts: BoundedMap[Name, tuple[DsProof, float]] = BoundedMap(MAX_CUT_ENTRIES)

    async def keys_for(self, target: Name, subq: SubQueries) -> KeyEntry:
        """The validation state of the zone ``target`` is in (or is the apex of)."""
        anchor = self.anchors.closest(target)
        if anchor is None:
            return KeyEntry(target, Security.INDETERMINATE, why=f"no trust anchor above {target}")
        if self.anchors.is_negative(target):
            return KeyEntry(target, Security.INSECURE, why=f"{target}: negative trust anchor")
        mono = self.clock.monotonic()
        entry: KeyEntry | None = None
        n = target
        while True:
            entry = self.zones.get(n, mono)
            if entry is not None or n == anchor:
                break
            n = n.parent()
        if entry is None:
            entry = await self._prime(anchor, subq)
        if entry.security is not Security.SECURE:
            return entry
        return await self._descend(entry, target, subq)

    def clear(self) -> None:
        """Forget every zone's state (the caches are the recursor's to flush)."""
        self.zones.clear()
        self._cuts.clear()

    # -- what a check makes of a zone -------------------------------------------------------

    def _key_set_entry(self, zone: Name, check: KeyCheck, cap: int | None = None) -> KeyEntry:
        """The key entry of a DNSKEY RRset check: bogus, unless harden-dnssec-stripped is
        off, which makes a zone whose keys are missing or fail insecure."""
        if check.outcome.bogus and not self.config.harden_dnssec_stripped:
            check = KeyCheck(insecure(f"{check.outcome.why} (harden-dnssec-stripped off)",
                                      check.outcome.ede))
        return self._entry(zone, check, cap)

    def _entry(self, zone: Name, check: KeyCheck, cap: int | None = None) -> KeyEntry:
        """A key entry from a DNSKEY check, stored for the TTL the verdict deserves."""
        mono = self.clock.monotonic()
        out = check.outcome
        if out.secure:
            assert check.keys is not None
            ttl = min(check.ttl or 0, cap if cap is not None else MAX_TTL_S, MAX_TTL_S)
            return self.zones.store(KeyEntry(zone, Security.SECURE, check.keys, mono + ttl))
        if out.bogus:
            return self.zones.store(KeyEntry(zone, Security.BOGUS, None,
                                             mono + self.config.bogus_ttl, out.ede, out.why))
        ttl = min(cap if cap is not None else MAX_TTL_S, MAX_TTL_S)
        return self.zones.store(KeyEntry(zone, out.security, None, mono + ttl, out.ede,
                                         out.why))

    def _secure_rrset(self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
                      ttl: int | None) -> None:
        """Cache a validated DS or DNSKEY RRset as secure, so it is reused as it is."""
        keep = rrset.ttl if ttl is None else min(rrset.ttl, ttl)
        self.cache.rrsets.put(with_ttl(rrset, keep), Rank.VALIDATED, self.clock.monotonic(),
                              security=Security.SECURE,
                              sigs=None if sigs is None else with_ttl(sigs, keep))

    # -- fetching ---------------------------------------------------------------------------

    async def fetch(self, name: Name, rdtype: int, subq: SubQueries,
                    avoid: frozenset[str] = frozenset()) -> Resolution | None:
        """A DO sub-request through the inner recursor, or None when the budget is spent."""
        if subq.fetches >= self.config.max_fetches:
            return None
        subq.fetches += 1
        self.stats[f"fetch_{type_name(rdtype)}"] += 1
        res = await self.inner.resolve(Request(name, rdtype, do=True), subq.exchanger, avoid)
        subq.upstream += res.upstream_queries
        return res

    async def _fetch_keys(
        self, zone: Name, subq: SubQueries, check: Callable[[Resolution], KeyCheck]
    ) -> tuple[Resolution | None, KeyCheck | None]:
        """``zone``'s DNSKEY RRset and its check.  A set fetched now that fails on its own
        (not for want of an answer) is fetched again from the zone's other servers, up to
        ``config.max_restarts`` times (Unbound blacklists the source of a bad key set)."""
        res = await self.fetch(zone, T.DNSKEY, subq)
        if res is None:
            return None, None
        result = check(res)
        avoid: frozenset[str] = frozenset()
        for _ in range(self.config.max_restarts):
            if not (result.outcome.bogus and res.rcode == dns.rcode.NOERROR):
                break
            if not res.origins and res.upstream_queries > 0:
                break  # (from the cache, it is simply fetched afresh)
            avoid |= res.origins
            self.stats["dnskey_restarts"] += 1
            self.cache.rrsets.pop(zone, T.DNSKEY)
            retry = await self.fetch(zone, T.DNSKEY, subq, avoid)
            if retry is None or retry.rcode == dns.rcode.SERVFAIL:
                break  # nobody else to ask: the first verdict stands
            res, result = retry, check(retry)
        return res, result

    # -- keys: priming at an anchor, and below a secure DS ----------------------------------

    async def _prime(self, anchor: Name, subq: SubQueries) -> KeyEntry:
        """The anchored zone's DNSKEY RRset, checked against the trust anchors."""
        return await self._zone_keys(anchor, subq, None, ds=self.anchors.ds_for(anchor),
                                     anchor_keys=self.anchors.keys_for(anchor))

    async def _dnskeys(self, zone: Name, ds: dns.rrset.RRset, cap: int | None,
                       subq: SubQueries) -> KeyEntry:
        """``zone``'s DNSKEY RRset, checked against its validated DS RRset."""
        return await self._zone_keys(zone, subq, cap,
                                     ds=tuple(rd for rd in ds if isinstance(rd, DS)))

    async def _zone_keys(self, zone: Name, subq: SubQueries, cap: int | None, *,
                         ds: Sequence[DS], anchor_keys: Sequence[DNSKEY] = ()) -> KeyEntry:
        """``zone``'s DNSKEY RRset fetched and checked against ``ds`` or ``anchor_keys``."""

        def against(res: Resolution) -> KeyCheck:
            keys, sigs = find_signed(res.answer, zone, T.DNSKEY)
            if keys is None and res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return KeyCheck(bogus(Ede.DNSKEY_MISSING,
                                      f"cannot fetch DNSKEY {zone}: {res.reason}"))
            return verify_dnskeys(
                zone, keys, sigs, self.clock.now(), ds=ds, anchor_keys=anchor_keys,
                unchecked=self.verifier.unchecked, ignore_dates=self.verifier.ignore_dates,
                memo=self.verifier.memo, skew_bounds=self.verifier.skew_bounds,
                all_algorithms=self.config.harden_algo_downgrade,
            )

        res, check = await self._fetch_keys(zone, subq, against)
        if res is None or check is None:
            return _budget_spent(zone)
        keys, sigs = find_signed(res.answer, zone, T.DNSKEY)
        entry = self._key_set_entry(zone, check, cap)
        if entry.security is Security.SECURE and keys is not None:
            self._secure_rrset(keys, sigs, check.ttl)
            self.verifier.require(zone, check.algorithms)
        return entry

    # -- the walk down ----------------------------------------------------------------------

    async def _descend(self, entry: KeyEntry, target: Name, subq: SubQueries) -> KeyEntry:
        """Walk from the secure ``entry`` down to ``target``, one label at a time."""
        for depth in range(len(entry.zone) + 1, len(target) + 1):
            child = target.split(depth)[1]
            if self.anchors.is_negative(child):
                return KeyEntry(child, Security.INSECURE, why=f"{child}: negative trust anchor")
            mono = self.clock.monotonic()
            known = self.zones.get(child, mono)
            if known is not None:
                entry = known
                if known.security is not Security.SECURE:
                    return known
                continue
            cut = self._cuts.get(child)
            if cut is not None and mono < cut[1]:
                step: KeyEntry | DsProof = cut[0]
            else:
                step = await self._probe(entry, child, subq)
            if isinstance(step, KeyEntry):
                entry = step
                if step.security is not Security.SECURE:
                    return step
            elif step is DsProof.NAME_ABSENT:
                return entry  # nothing exists here: no cut below either
        return entry

    async def _probe(self, parent: KeyEntry, child: Name,
                     subq: SubQueries) -> KeyEntry | DsProof:
        """Is ``child`` a zone cut below the secure ``parent``, and if so how secure is it?"""
        assert parent.keys is not None
        res = self._referral_denial(child) or await self.fetch(child, T.DS, subq)
        avoid: frozenset[str] = frozenset()
        for _ in range(self.config.max_restarts):
            if res is None or await self._ds_data_ok(parent, child, res):
                break
            if not res.origins and res.upstream_queries > 0:
                break
            # A DS RRset or denial that fails on its own: ask the parent's other servers
            # (Unbound blacklists the source and restarts); nobody left, the verdict stands.
            # One that came from the cache (a referral's DS) is simply fetched afresh.
            avoid |= res.origins
            self.stats["ds_restarts"] += 1
            self.cache.rrsets.pop(child, T.DS)
            self.cache.negative.pop(child, T.DS)
            retry = await self.fetch(child, T.DS, subq, avoid)
            if retry is None or retry.rcode == dns.rcode.SERVFAIL:
                break
            res = retry
        if res is None:
            return _budget_spent(child)
        now = self.clock.now()
        mono = self.clock.monotonic()
        ds, ds_sigs = find_signed(res.answer, child, T.DS)
        if res.rcode == dns.rcode.NOERROR and ds is not None:
            check = self.verifier.verify(ds, ds_sigs, parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return self._entry(child, KeyCheck(check.outcome))
            self._secure_rrset(ds, ds_sigs, check.ttl)
            _, unusable = usable_ds(rd for rd in ds if isinstance(rd, DS))
            if unusable is not None:
                return self._entry(child, KeyCheck(unusable), check.ttl)
            return await self._dnskeys(child, ds, check.ttl, subq)
        cname, cname_sigs = find_signed(res.answer, child, T.CNAME)
        if res.rcode == dns.rcode.NOERROR and cname is not None:
            check = self.verifier.verify(cname, cname_sigs, parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return self._entry(child, KeyCheck(check.outcome))
            self._cuts.put(child, (DsProof.NOT_A_CUT, mono + (check.ttl or 0)))
            return DsProof.NOT_A_CUT
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return self._entry(child, KeyCheck(bogus(
                Ede.DNSSEC_BOGUS, f"cannot fetch DS {child}: {res.reason or 'SERVFAIL'}")))
        denial = await self._negative_for_ds(parent, child, res, now)
        if isinstance(denial, Outcome):
            return self._entry(child, KeyCheck(denial))
        kind, out, ttl = denial
        if kind in (DsProof.INSECURE_DELEGATION, DsProof.OPT_OUT) or kind is None:
            return self._entry(child, KeyCheck(Outcome(Security.INSECURE, out.ede, out.why)),
                               ttl)
        self._cuts.put(child, (kind, mono + ttl))
        return kind

    def _referral_denial(self, child: Name) -> Resolution | None:
        """The NSEC/NSEC3 records of a referral to ``child`` that had no DS, as a DS answer
        from the cache (checked like any other; a failing one is dropped and fetched)."""
        neg = self.cache.negative.get(child, T.DS, self.clock.monotonic())
        if neg is None or neg.soa is not None or neg.kind != "nodata":
            return None
        self.stats["ds_from_referral"] += 1
        return Resolution(dns.rcode.NOERROR, [], list(neg.proofs))

    async def _ds_data_ok(self, parent: KeyEntry, child: Name, res: Resolution) -> bool:
        """Whether the DS answer (a DS RRset, a CNAME, a denial) is not bogus on its own."""
        assert parent.keys is not None
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return True  # a failure to fetch, not bad data
        now = self.clock.now()
        for rdtype in (T.DS, T.CNAME):
            rrset, sigs = find_signed(res.answer, child, rdtype)
            if rrset is not None and res.rcode == dns.rcode.NOERROR:
                check = self.verifier.verify(rrset, sigs, parent.keys, parent.zone, now)
                return not check.outcome.bogus
        return not isinstance(await self._negative_for_ds(parent, child, res, now), Outcome)

    async def _negative_for_ds(
        self, parent: KeyEntry, child: Name, res: Resolution, now: float
    ) -> tuple[DsProof | None, Outcome, int] | Outcome:
        """A DS denial from ``parent``'s zone, checked: what it says about a cut at ``child``
        (``None`` when NSEC3 iterations make it insecure), with its TTL; or why it is bogus."""
        assert parent.keys is not None
        pairs = signed_pairs(res.authority)
        soa = next(((r, s) for r, s in pairs if r.rdtype == T.SOA), None)
        # An SOA is not required: the signed NSEC/NSEC3 records prove the denial on their
        # own (a NODATA without SOA, as Unbound and Knot Resolver accept it); one that is
        # there must be the parent's and verify.
        if soa is not None:
            if soa[0].name != parent.zone:
                return bogus(Ede.DNSSEC_BOGUS,
                             f"DS {child} denied by {soa[0].name}, not by {parent.zone}")
            check = self.verifier.verify(soa[0], soa[1], parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return check.outcome
        verified, bad = verified_denials(res.authority, parent, now, self.verifier)
        proofs = [r for r, _, _ in verified]
        kind, out = prove_no_ds(child, parent.zone, proofs, self.limits.for_keys(parent.keys),
                                nxdomain=res.rcode == dns.rcode.NXDOMAIN)
        if kind is None and out.security is not Security.INSECURE:
            return bad or out
        ttl = min([*([soa[0].ttl] if soa is not None else []), *(p.ttl for p in proofs)],
                  default=0)
        return kind, out, max(0, min(ttl, MAX_TTL_S))
