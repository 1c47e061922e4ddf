"""The resolver's caches, kept apart the way Unbound keeps them.

* :class:`RRsetCache` holds RRsets (with their RRSIGs) keyed by owner, type and class. A
  :class:`Rank` says how much each one is trusted; an unexpired entry is replaced only by
  data of equal or higher rank, so glue from a referral can never overwrite an
  authoritative answer. :class:`Security` is the validator's verdict, kept beside it.
* :class:`NegativeCache` holds denials (RFC 2308): NXDOMAIN per name, NODATA per name and
  type, each with the SOA and the NSEC/NSEC3 proofs that came with it. An NXDOMAIN also
  denies every name below it (RFC 8020).
* :class:`InfraCache` holds what we know about upstream servers: smoothed RTT and
  retransmission timeout (RFC 6298), consecutive timeouts and a dead-until hold-down, EDNS
  support, and lameness per zone. Server health never mixes with answers.
* :class:`MessageCache` holds whole answers as served to clients, as wire bytes.
* :class:`DnsCache` owns one of each, splitting one byte budget between them.

Nothing here reads a clock: each method that needs time takes ``now``, monotonic seconds.
Byte budgets are charged in Python memory, not wire bytes: a parsed entry costs
:data:`ENTRY_OVERHEAD_BYTES` plus :data:`WIRE_EXPANSION` times its wire length (both measured
with tracemalloc: a one-address RRset is ~1,300 bytes of objects for ~40 wire bytes), so
the process's memory follows the configured budget.  Entries kept as wire bytes (the message
cache) cost their length plus :data:`BYTES_ENTRY_OVERHEAD`.
"""

from __future__ import annotations

import bisect
import enum
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset

from resolver.cache.arc import ARC, LRU
from resolver.model import with_ttl

__all__ = [
    "BYTES_ENTRY_OVERHEAD",
    "ENTRY_OVERHEAD_BYTES",
    "WIRE_EXPANSION",
    "entry_charge",
    "MAX_TTL_S",
    "MAX_NEGATIVE_TTL_S",
    "CachedMessage",
    "CachedNegative",
    "CachedProof",
    "CachedRRset",
    "DnsCache",
    "EdnsState",
    "InfraCache",
    "MessageCache",
    "MessageKey",
    "NegativeCache",
    "NsecCache",
    "Rank",
    "RRsetCache",
    "Security",
]

# -- TTLs -------------------------------------------------------------------------------

MAX_TTL_S = 86_400
"""Longest we keep anything, whatever TTL it came with (one day, as Unbound's cache-max-ttl)."""

MIN_TTL_S = 0
"""Floor for TTLs; a TTL of zero means "do not cache" and such data is not stored."""

MAX_NEGATIVE_TTL_S = 3_600
"""Default cap on a negative answer's TTL (RFC 2308 §5 suggests one to three hours)."""

ENTRY_OVERHEAD_BYTES = 1_080
"""Charge per parsed entry for its key, entry object, RRset/Rdataset objects and slots
(measured: ~1,080 bytes plus ~6 per wire byte, tracemalloc, dnspython 2.9, CPython 3.11)."""

WIRE_EXPANSION = 6
"""Python bytes per wire byte of parsed records (rdata objects, names, slots)."""

BYTES_ENTRY_OVERHEAD = 160
"""Charge per entry kept as wire bytes (bytes object, entry tuple, dictionary slot)."""


def entry_charge(wire_bytes: int) -> int:
    """What a parsed entry of ``wire_bytes`` on the wire costs in Python memory."""
    return ENTRY_OVERHEAD_BYTES + WIRE_EXPANSION * wire_bytes

# -- infra: RFC 6298 ----------------------------------------------------------------------

RTT_ALPHA = 1 / 8
"""RFC 6298 §2.3 gain for SRTT."""

RTT_BETA = 1 / 4
"""RFC 6298 §2.3 gain for RTTVAR."""

RTT_K = 4
"""RFC 6298 §2.2 multiplier of RTTVAR in the RTO."""

CLOCK_GRANULARITY_S = 0.001
"""RFC 6298's G: our timers resolve to about a millisecond."""

MIN_RTO_S = 0.05
"""Lower bound on the RTO. RFC 6298 says 1 s for TCP; DNS over UDP answers in milliseconds,
and Unbound likewise floors its timeout at 50 ms."""

MAX_RTO_S = 12.0
"""Upper bound on the RTO, also the ceiling for back-off after timeouts."""

UNKNOWN_RTO_S = 0.4
"""RTO for a server we have never measured: close to Unbound's niceness for unknown servers,
so a new server competes with known ones instead of waiting out RFC 6298's 1 s."""

TIMEOUT_BACKOFF = 2.0
"""RFC 6298 §5.5: each timeout doubles the RTO (up to :data:`MAX_RTO_S`)."""

DEAD_AFTER_TIMEOUTS = 4
"""Consecutive timeouts after which a server is held down (Knot Resolver uses 4 too)."""

DEAD_HOLDDOWN_S = 30.0
"""How long a dead server is skipped before it may be probed again."""

EDNS_RECHECK_S = 900.0
"""How long an EDNS verdict stands: a no-EDNS server is retried with EDNS after this, and
an EDNS-capable server is not downgraded by a single failure (a spoofed FORMERR) before."""

CAPS_RECHECK_S = 900.0
"""Seconds a server found not to preserve the question's case is sent lower case (0x20 off)."""

MAX_LAME_TTL_S = 900.0
"""Longest a server stays marked lame for a zone."""

MAX_LAME_ZONES_PER_HOST = 64
"""Bound on the lame zones remembered per server; the soonest to expire go first."""

DEFAULT_INFRA_ENTRIES = 10_000
"""Servers the :class:`DnsCache` facade remembers by default."""

# -- DnsCache budget split ----------------------------------------------------------------

MESSAGE_SHARE_PERCENT = 30
RRSET_SHARE_PERCENT = 50
NEGATIVE_SHARE_PERCENT = 20
PARENT_SIDE_SHARE_PERCENT = 2
"""Parent-side nameserver addresses (referral glue) get a small budget of their own, on top
of the shares above: Unbound keeps them apart from the child's data (its
PACKED_RRSET_PARENT_SIDE entries) as a last resort when the child's addresses fail."""


class Rank(enum.IntEnum):
    """How much cached data is trusted; a higher rank may replace a lower one, never the reverse.

    Ordered as Unbound's trust levels and Knot Resolver's ranks are, so that one integer
    comparison decides replacement.
    """

    ADDITIONAL = 1
    """Glue and other non-authoritative additional-section data."""
    AUTHORITY_NONAUTH = 2
    """Authority-section data from a response without AA (e.g. a referral's NS set)."""
    ANSWER_NONAUTH = 3
    """Answer-section data from a response without AA."""
    AUTHORITY_AUTH = 4
    """Authority-section data from an authoritative (AA) response."""
    ANSWER_AUTH = 5
    """Answer-section data from an authoritative (AA) response."""
    VALIDATED = 6
    """Data the validator has proven secure."""


class Security(enum.Enum):
    """The validator's verdict on cached data (RFC 4035 §4.3). Bogus data is kept, flagged."""

    INDETERMINATE = "indeterminate"
    INSECURE = "insecure"
    SECURE = "secure"
    BOGUS = "bogus"


def _clamp_ttl(ttl: int, cap: int) -> int:
    return max(MIN_TTL_S, min(int(ttl), cap))


def _remaining(expires: float, now: float, ttl: int) -> int:
    """Whole seconds left, rounded down, never more than the TTL stored."""
    return max(0, min(ttl, math.floor(expires - now)))


def _wire_size(rrset: dns.rrset.RRset | None) -> int:
    """The RRset's uncompressed wire length, counted from its fields (rendering it costs
    ~10-14 us an RRset, several times per cold query); types not known here are rendered."""
    if rrset is None:
        return 0
    owner = _name_size(rrset.name)
    total = 0
    for rd in rrset:
        size = _rdata_size(rd)
        if size is None:
            out = io.BytesIO()
            rd.to_wire(out)
            size = out.tell()
        total += owner + 10 + size
    return total


def _name_size(name: dns.name.Name) -> int:
    return sum(len(label) + 1 for label in name.labels)


def _bitmap_size(windows: Iterable[tuple[int, bytes]]) -> int:
    return sum(2 + len(bitmap) for _, bitmap in windows)


def _rdata_size(rd: Any) -> int | None:
    """RDATA length of the common types from their fields; None for the others."""
    t = rd.rdtype
    R = dns.rdatatype.RdataType
    if t == R.A:
        return 4
    if t == R.AAAA:
        return 16
    if t == R.RRSIG:
        return 18 + _name_size(rd.signer) + len(rd.signature)
    if t == R.NSEC3:
        return 6 + len(rd.salt) + len(rd.next) + _bitmap_size(rd.windows)
    if t == R.NSEC:
        return _name_size(rd.next) + _bitmap_size(rd.windows)
    if t in (R.DNSKEY, R.DS):
        return 4 + len(rd.key if t == R.DNSKEY else rd.digest)
    if t in (R.NS, R.CNAME, R.DNAME, R.PTR):
        return _name_size(rd.target)
    if t == R.SOA:
        return _name_size(rd.mname) + _name_size(rd.rname) + 20
    if t == R.MX:
        return 2 + _name_size(rd.exchange)
    if t == R.TXT:
        return sum(len(s) + 1 for s in rd.strings)
    return None


def _key_name(name: dns.name.Name) -> dns.name.Name:
    if not name.is_absolute():
        raise ValueError(f"cache keys need absolute names, not {name}")
    return name.canonicalize()


# -- RRsets -------------------------------------------------------------------------------

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


@dataclass(frozen=True, slots=True)
class _StoredRRset:
    rrset: dns.rrset.RRset  # TTL is the capped TTL it was stored with
    sigs: dns.rrset.RRset | None
    rank: Rank
    security: Security
    expires: float
    proofs: tuple[dns.rrset.RRset, ...] = ()


class _ArcBacked:
    """Sizing shared by the caches that keep their entries on an :class:`ARC`."""

    _arc: ARC[Any, Any]

    def __len__(self) -> int:
        return len(self._arc)

    @property
    def size_bytes(self) -> int:
        return self._arc.size_bytes

    @property
    def capacity_bytes(self) -> int:
        return self._arc.capacity_bytes


class RRsetCache(_ArcBacked):
    """RRsets by (owner, type, class) on an :class:`ARC` with a byte budget.

    Replacement rule: an unexpired entry is replaced only by an RRset of equal or higher
    :class:`Rank`; an expired one by anything. Signatures are stored with the RRset they
    cover (``sigs``), never as an RRset of their own.
    """

    def __init__(self, capacity_bytes: int, *, max_ttl: int = MAX_TTL_S,
                 dname_zero_ttl_grace: bool = False) -> None:
        self._arc: ARC[RRsetKey, _StoredRRset] = ARC(capacity_bytes)
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

        The TTL is the lower of the RRset's and its signatures', capped at ``max_ttl``. Not
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
        ttl = _clamp_ttl(ttl, self.max_ttl)
        lifetime: float = ttl
        if ttl <= 0:
            if not (self.dname_zero_ttl_grace and rrset.rdtype == dns.rdatatype.DNAME):
                return False
            ttl, lifetime = 0, math.floor(now) + 2 - now
        key: RRsetKey = (_key_name(rrset.name), int(rrset.rdtype), int(rrset.rdclass))
        cached = self._arc.peek(key)
        if cached is not None and now < cached.expires and rank < cached.rank:
            self.rank_rejections += 1
            return False
        if rrset.rdtype == dns.rdatatype.NS and cached is not None and now < cached.expires \
                and rank == cached.rank:
            # Ghost domains (CVE-2012-1191): a delegation re-asserted at the same rank (the
            # old operator's servers repeating their NS set, changed or not) keeps the
            # expiry it had, so it still ends and the parent is asked again (Unbound's
            # need_to_update_rrset keeps the old TTL for NS of the same trust).
            ttl = min(ttl, _remaining(cached.expires, now, ttl))
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
        size = entry_charge(_wire_size(rrset) + _wire_size(sigs)
                       + sum(_wire_size(p) for p in proofs))
        return self._arc.put(key, entry, size)

    def get(
        self,
        name: dns.name.Name,
        rdtype: int,
        now: float,
        rdclass: int = dns.rdataclass.IN,
    ) -> CachedRRset | None:
        """The cached RRset with its remaining TTL (rounded down), or ``None`` if absent/expired.

        An expired entry stays resident (so a popular name keeps its place in the ARC when
        it is refreshed) until it is replaced or evicted.
        """
        entry = self._arc.get((_key_name(name), int(rdtype), int(rdclass)))
        if entry is None or now >= entry.expires:
            self.misses += 1
            return None
        self.hits += 1
        ttl = _remaining(entry.expires, now, entry.rrset.ttl)
        return CachedRRset(
            rrset=with_ttl(entry.rrset, ttl),
            sigs=None if entry.sigs is None else with_ttl(entry.sigs, ttl),
            rank=entry.rank,
            security=entry.security,
            expires=entry.expires,
            proofs=tuple(with_ttl(p, min(p.ttl, ttl)) for p in entry.proofs),
            stored_ttl=entry.rrset.ttl,
        )

    def pop(self, name: dns.name.Name, rdtype: int, rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget one RRset; whether it was cached."""
        return self._arc.pop((_key_name(name), int(rdtype), int(rdclass))) is not None

    def clear(self) -> None:
        self._arc.clear()

    def stats(self) -> dict[str, int]:
        return {
            **self._arc.stats(),
            "hits": self.hits,
            "misses": self.misses,
            "rank_rejections": self.rank_rejections,
        }


# -- negative answers ---------------------------------------------------------------------

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

    @property
    def expires(self) -> float:
        return self.stored_at + self.ttl


MAX_SHARED_SOAS = 10_000  # zones whose latest SOA is remembered (NegativeCache.shared_soa)


class NegativeCache(_ArcBacked):
    """NXDOMAIN and NODATA answers (RFC 2308) on an :class:`ARC` with a byte budget.

    The TTL is ``min(SOA TTL, SOA MINIMUM)`` (RFC 2308 §5), capped at ``max_ttl``. An
    NXDOMAIN for a name answers every type at that name and every name below it (RFC 8020);
    with ``secure_cut_only`` the cut applies below the name only when the NXDOMAIN was
    validated secure, as Unbound's harden-below-nxdomain does.
    """

    def __init__(
        self,
        capacity_bytes: int,
        *,
        max_ttl: int = MAX_NEGATIVE_TTL_S,
        secure_cut_only: bool = False,
        shared_soa: bool = False,
    ) -> None:
        self._arc: ARC[NegativeKey, _StoredNegative] = ARC(capacity_bytes)
        self.max_ttl = max_ttl
        self.secure_cut_only = secure_cut_only
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
    ) -> bool:
        """Cache "``name`` does not exist"; whether it was stored."""
        if name == dns.name.root:
            raise ValueError("the root always exists")
        return self._put("nxdomain", name, None, soa_rrset, now, proofs, security)

    def put_nodata(
        self,
        name: dns.name.Name,
        rdtype: int,
        soa_rrset: dns.rrset.RRset,
        now: float,
        proofs: Iterable[dns.rrset.RRset] | None = None,
        security: Security = Security.INDETERMINATE,
    ) -> bool:
        """Cache "``name`` exists but has no ``rdtype``"; whether it was stored.

        The name exists after all, so an NXDOMAIN cached for it is dropped.
        """
        stored = self._put("nodata", name, int(rdtype), soa_rrset, now, proofs, security)
        if stored:
            self._arc.pop(("nxdomain", _key_name(name), 0, int(soa_rrset.rdclass)))
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
        ttl = _clamp_ttl(min(p.ttl for p in proof_sets), self.max_ttl)
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
    ) -> bool:
        if soa_rrset.rdtype != dns.rdatatype.SOA or len(soa_rrset) != 1:
            raise ValueError("a negative answer needs exactly one SOA record")
        soa_rdata = soa_rrset[0]
        assert isinstance(soa_rdata, dns.rdtypes.ANY.SOA.SOA)
        ttl = _clamp_ttl(min(soa_rrset.ttl, soa_rdata.minimum), self.max_ttl)
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
        size = entry_charge(_wire_size(soa_rrset) + sum(_wire_size(p) for p in proofs))
        key: NegativeKey = (kind, _key_name(name), rdtype or 0, rdclass)
        if self.shared_soa and entry.soa is not None:
            self._soas.put((_key_name(entry.soa.name), rdclass), (entry.soa, now, now + ttl), 1)
        return self._arc.put(key, entry, size)

    def get(
        self,
        name: dns.name.Name,
        rdtype: int,
        now: float,
        rdclass: int = dns.rdataclass.IN,
    ) -> CachedNegative | None:
        """The denial that answers (``name``, ``rdtype``), or ``None``.

        Looked up in order: the name's own NXDOMAIN or NODATA for ``rdtype`` (the more
        recently stored if both are fresh), then an NXDOMAIN at the nearest ancestor.
        """
        owner = _key_name(name)
        rdclass = int(rdclass)
        own: tuple[NegativeKey, NegativeKey] = (
            ("nxdomain", owner, 0, rdclass),
            ("nodata", owner, int(rdtype), rdclass),
        )
        found: tuple[NegativeKey, _StoredNegative] | None = None
        for key in own:
            entry = self._arc.peek(key)
            if entry is None or now >= entry.expires:
                continue
            if found is None or entry.stored_at > found[1].stored_at:
                found = (key, entry)
        ancestor = owner
        while found is None and len(ancestor) > 2:  # stop above the root: "." always exists
            ancestor = ancestor.parent()
            key = ("nxdomain", ancestor, 0, rdclass)
            entry = self._arc.peek(key)
            if entry is None or now >= entry.expires:
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
        remaining = _remaining(entry.expires, now, entry.ttl)
        soa = None if entry.soa is None else with_ttl(entry.soa, remaining)
        if self.shared_soa and entry.soa is not None:
            newer = self._soas.get((_key_name(entry.soa.name), rdclass))
            if newer is not None and newer[1] > entry.stored_at and now < newer[2]:
                soa = with_ttl(newer[0], _remaining(newer[2], now, newer[0].ttl))
        return CachedNegative(
            kind=entry.kind,
            name=entry.name,
            rdtype=entry.rdtype,
            soa=soa,
            proofs=tuple(with_ttl(p, min(remaining, p.ttl)) for p in entry.proofs),
            security=entry.security,
            expires=entry.expires,
        )

    def pop(self, name: dns.name.Name, rdtype: int, rdclass: int = dns.rdataclass.IN) -> bool:
        """Forget ``name``'s own NXDOMAIN and its NODATA for ``rdtype``; whether any was
        there (a denial that failed validation, to be fetched again)."""
        owner = _key_name(name)
        nx = self._arc.pop(("nxdomain", owner, 0, int(rdclass))) is not None
        nodata = self._arc.pop(("nodata", owner, int(rdtype), int(rdclass))) is not None
        return nx or nodata

    def clear(self) -> None:
        self._arc.clear()

    def stats(self) -> dict[str, int]:
        return {**self._arc.stats(), "hits": self.hits, "misses": self.misses}


# -- infrastructure -----------------------------------------------------------------------


class EdnsState(enum.Enum):
    """What we know of a server's EDNS (RFC 6891) support."""

    UNKNOWN = "unknown"
    SUPPORTED = "supported"
    NO_EDNS = "no-edns"


@dataclass(slots=True)
class _Host:
    srtt: float | None = None
    rttvar: float | None = None
    rto: float = UNKNOWN_RTO_S
    timeouts: int = 0  # consecutive
    dead_until: float | None = None
    edns: EdnsState = EdnsState.UNKNOWN
    edns_until: float = 0.0  # when the EDNS verdict may be revisited
    no_caps_until: float = 0.0  # until then the server is sent plain lower case (no 0x20)
    lame: dict[dns.name.Name, float] = field(default_factory=dict)  # zone -> expiry


def _clamp_rto(rto: float) -> float:
    return min(MAX_RTO_S, max(MIN_RTO_S, rto))


class InfraCache:
    """Per-server state on an LRU of at most ``capacity_entries`` servers.

    RTT is tracked per address (as Knot Resolver does); lameness per address and zone.
    """

    def __init__(self, capacity_entries: int) -> None:
        self._hosts: LRU[str, _Host] = LRU(capacity_entries)

    def __len__(self) -> int:
        return len(self._hosts)

    @property
    def capacity_entries(self) -> int:
        return self._hosts.capacity_bytes

    def _host(self, addr: str) -> _Host:
        host = self._hosts.get(addr)
        if host is None:
            host = _Host()
            self._hosts.put(addr, host, 1)
        return host

    def rtt_update(self, addr: str, rtt: float, now: float) -> None:
        """Feed one measured round trip (seconds): RFC 6298 §2.2/2.3; clears timeouts."""
        if not math.isfinite(rtt) or rtt < 0:
            raise ValueError(f"an RTT sample must be a finite number >= 0, not {rtt}")
        host = self._host(addr)
        if host.srtt is None or host.rttvar is None:
            host.srtt = rtt
            host.rttvar = rtt / 2
        else:
            host.rttvar = (1 - RTT_BETA) * host.rttvar + RTT_BETA * abs(host.srtt - rtt)
            host.srtt = (1 - RTT_ALPHA) * host.srtt + RTT_ALPHA * rtt
        host.rto = _clamp_rto(host.srtt + max(CLOCK_GRANULARITY_S, RTT_K * host.rttvar))
        host.timeouts = 0
        host.dead_until = None

    def timeout(self, addr: str, now: float) -> bool:
        """Record a query that went unanswered; whether the server is now held down.

        The RTO backs off (RFC 6298 §5.5); after :data:`DEAD_AFTER_TIMEOUTS` in a row the
        server is dead for :data:`DEAD_HOLDDOWN_S`, and each further timeout (of a re-probe)
        renews the hold-down.
        """
        host = self._host(addr)
        host.timeouts += 1
        host.rto = _clamp_rto(host.rto * TIMEOUT_BACKOFF)
        if host.timeouts >= DEAD_AFTER_TIMEOUTS:
            host.dead_until = now + DEAD_HOLDDOWN_S
            return True
        return False

    def srtt(self, addr: str) -> float | None:
        """Smoothed RTT in seconds, or ``None`` if never measured."""
        host = self._hosts.peek(addr)
        return None if host is None else host.srtt

    def rto(self, addr: str) -> float:
        """Retransmission timeout in seconds (:data:`UNKNOWN_RTO_S` for a new server)."""
        host = self._hosts.peek(addr)
        return UNKNOWN_RTO_S if host is None else host.rto

    def consecutive_timeouts(self, addr: str) -> int:
        host = self._hosts.peek(addr)
        return 0 if host is None else host.timeouts

    def is_dead(self, addr: str, now: float) -> bool:
        """Whether the server is held down; once the hold-down ends it may be re-probed."""
        host = self._hosts.peek(addr)
        return host is not None and host.dead_until is not None and now < host.dead_until

    def set_edns(self, addr: str, ok: bool, now: float) -> None:
        """Record whether an EDNS query worked. Each verdict stands :data:`EDNS_RECHECK_S`;
        a failure does not downgrade a server whose EDNS support was confirmed before then."""
        host = self._host(addr)
        if ok:
            host.edns = EdnsState.SUPPORTED
            host.edns_until = now + EDNS_RECHECK_S
        elif host.edns is not EdnsState.SUPPORTED or now >= host.edns_until:
            host.edns = EdnsState.NO_EDNS
            host.edns_until = now + EDNS_RECHECK_S

    def edns_ok(self, addr: str, now: float) -> bool:
        """Whether to send EDNS: yes unless the server is known not to, and not due a recheck."""
        host = self._hosts.peek(addr)
        if host is None or host.edns is not EdnsState.NO_EDNS:
            return True
        return now >= host.edns_until

    def edns_state(self, addr: str) -> EdnsState:
        host = self._hosts.peek(addr)
        return EdnsState.UNKNOWN if host is None else host.edns

    def caps_ok(self, addr: str, now: float) -> bool:
        """Whether to randomise the case of the names sent to ``addr`` (0x20): yes unless it
        answered a randomised name in another case within the last :data:`CAPS_RECHECK_S`."""
        host = self._hosts.peek(addr)
        return host is None or now >= host.no_caps_until

    def set_no_caps(self, addr: str, now: float) -> None:
        """``addr`` does not echo the question's case: send it lower case for a while.  The
        verdict expires (:data:`CAPS_RECHECK_S`), so a forged wrong-case answer cannot turn
        0x20 off for a server for good."""
        self._host(addr).no_caps_until = now + CAPS_RECHECK_S

    def mark_lame(self, addr: str, zone: dns.name.Name, now: float, ttl: float) -> None:
        """Mark ``addr`` lame for ``zone`` for ``ttl`` seconds (capped at
        :data:`MAX_LAME_TTL_S`)."""
        ttl = min(ttl, MAX_LAME_TTL_S)
        if ttl <= 0:
            return
        host = self._host(addr)
        host.lame[_key_name(zone)] = now + ttl
        if len(host.lame) > MAX_LAME_ZONES_PER_HOST:
            for expired in [z for z, until in host.lame.items() if until <= now]:
                del host.lame[expired]
            while len(host.lame) > MAX_LAME_ZONES_PER_HOST:
                del host.lame[min(host.lame, key=host.lame.__getitem__)]

    def is_lame(self, addr: str, zone: dns.name.Name, now: float) -> bool:
        host = self._hosts.peek(addr)
        if host is None:
            return False
        zone = _key_name(zone)
        until = host.lame.get(zone)
        if until is None:
            return False
        if now >= until:
            del host.lame[zone]
            return False
        return True

    def clear(self) -> None:
        self._hosts.clear()

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self._hosts),
            "capacity_entries": self._hosts.capacity_bytes,
            "evictions": self._hosts.evictions,
        }


# -- whole messages -----------------------------------------------------------------------


class MessageKey(NamedTuple):
    """What a client asked: question plus the flags that change the answer."""

    qname: dns.name.Name
    qtype: int
    qclass: int
    do: bool
    cd: bool

    @classmethod
    def make(
        cls,
        qname: dns.name.Name,
        qtype: int,
        qclass: int = dns.rdataclass.IN,
        do: bool = False,
        cd: bool = False,
    ) -> MessageKey:
        """A key with the name lower-cased and the numbers as plain ints."""
        return cls(_key_name(qname), int(qtype), int(qclass), bool(do), bool(cd))


class CachedMessage(NamedTuple):
    """A cached response. ``age`` is whole seconds since it was stored, rounded **up**, so
    ``TTL - age`` never overstates what is left (it matches :class:`RRsetCache`'s rounding)."""

    wire: bytes
    age: int


@dataclass(frozen=True, slots=True)
class _StoredMessage:
    wire: bytes
    stored_at: float
    min_ttl: int

    @property
    def expires(self) -> float:
        return self.stored_at + self.min_ttl


class MessageCache(_ArcBacked):
    """Whole responses as wire bytes, on an :class:`ARC`, valid for their smallest TTL."""

    def __init__(self, capacity_bytes: int, *, max_ttl: int = MAX_TTL_S) -> None:
        self._arc: ARC[MessageKey, _StoredMessage] = ARC(capacity_bytes)
        self.max_ttl = max_ttl
        self.hits = 0
        self.misses = 0

    def put(self, key: MessageKey, wire: bytes, min_ttl: int, now: float) -> bool:
        """Store ``wire`` for ``min_ttl`` seconds (capped); whether it was stored."""
        ttl = _clamp_ttl(min_ttl, self.max_ttl)
        if ttl <= 0:
            return False
        entry = _StoredMessage(wire=bytes(wire), stored_at=now, min_ttl=ttl)
        return self._arc.put(key, entry, BYTES_ENTRY_OVERHEAD + len(wire))

    def get(self, key: MessageKey, now: float) -> CachedMessage | None:
        """The stored wire and its age, or ``None`` if absent or expired."""
        entry = self._arc.get(key)
        if entry is None or now >= entry.expires:
            self.misses += 1
            return None
        self.hits += 1
        age = min(entry.min_ttl, max(0, math.ceil(now - entry.stored_at)))
        return CachedMessage(entry.wire, age)

    def pop(self, key: MessageKey) -> bool:
        return self._arc.pop(key) is not None

    def clear(self) -> None:
        self._arc.clear()

    def stats(self) -> dict[str, int]:
        return {**self._arc.stats(), "hits": self.hits, "misses": self.misses}


# -- facade -------------------------------------------------------------------------------


FLUSH_TYPES = tuple(int(t) for t in (
    dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.NS, dns.rdatatype.SOA,
    dns.rdatatype.CNAME, dns.rdatatype.DNAME, dns.rdatatype.MX, dns.rdatatype.PTR,
    dns.rdatatype.SRV, dns.rdatatype.NAPTR, dns.rdatatype.TXT, dns.rdatatype.DS,
    dns.rdatatype.DNSKEY, dns.rdatatype.HTTPS, dns.rdatatype.SVCB, dns.rdatatype.CAA))
"""The types :meth:`DnsCache.flush_name` forgets (Unbound's flush_name list, and more)."""


class DnsCache:
    """The resolver's caches, with one byte budget split between them.

    ``messages`` gets :data:`MESSAGE_SHARE_PERCENT` of it, ``rrsets``
    :data:`RRSET_SHARE_PERCENT` and ``negative`` :data:`NEGATIVE_SHARE_PERCENT`. ``infra``
    is counted in servers, not bytes.
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
    ) -> None:
        if total_bytes < 100:
            raise ValueError(f"a DNS cache needs at least 100 bytes, not {total_bytes}")
        self.total_bytes = total_bytes
        self.messages = MessageCache(total_bytes * MESSAGE_SHARE_PERCENT // 100)
        # max_ttl: Unbound's cache-max-ttl bounds every cached RRset (delegations too)
        self.rrsets = RRsetCache(total_bytes * RRSET_SHARE_PERCENT // 100, max_ttl=max_ttl,
                                 dname_zero_ttl_grace=dname_zero_ttl_grace)
        self.negative = NegativeCache(
            total_bytes * NEGATIVE_SHARE_PERCENT // 100, max_ttl=max_negative_ttl,
            shared_soa=shared_soa,
        )
        self.infra = InfraCache(infra_entries)
        self.parent_side = RRsetCache(max(1024, total_bytes * PARENT_SIDE_SHARE_PERCENT // 100))
        # zone -> until when the parent's NS set, fetched again because every server of
        # the cached delegation failed, stands (see parent_refetched)
        self._refetched: LRU[dns.name.Name, float] = LRU(infra_entries)
        self.nsec = NsecCache()  # validated NSEC records (RFC 8198), fed by the validator

    @property
    def size_bytes(self) -> int:
        return (self.messages.size_bytes + self.rrsets.size_bytes + self.negative.size_bytes
                + self.parent_side.size_bytes)

    def mark_parent_refetched(self, zone: dns.name.Name, now: float, ttl: float) -> None:
        """The parent's NS set for ``zone`` was fetched again (every server of the cached
        delegation having failed); it stands as the parent-side NS set for ``ttl`` seconds."""
        if ttl > 0:
            self._refetched.put(_key_name(zone), now + ttl, 1)

    def parent_refetched(self, zone: dns.name.Name, now: float) -> bool:
        """Whether ``zone``'s parent-side NS set was fetched again and has not expired: as
        Unbound's processLastResort, which goes up to the parent only when no parent-side NS
        set is cached (iter_lookup_parent_NS_from_cache), the resolver does not ask the
        parent again while it stands."""
        until = self._refetched.peek(_key_name(zone))
        if until is None:
            return False
        if now >= until:
            self._refetched.pop(_key_name(zone))
            return False
        return True

    def flush_name(self, name: dns.name.Name) -> int:
        """Forget what is cached at ``name`` (not below it), as ``unbound-control
        flush_name`` does: its RRsets of the usual types (and their parent-side copies), its
        denials and its cached messages.  Server knowledge and validated NSEC records stay.
        Returns how many entries went."""
        gone = 0
        for rdtype in FLUSH_TYPES:
            gone += self.rrsets.pop(name, rdtype)
            gone += self.parent_side.pop(name, rdtype)
            gone += self.negative.pop(name, rdtype)
            for do in (False, True):
                for cd in (False, True):
                    gone += self.messages.pop(MessageKey.make(name, rdtype, do=do, cd=cd))
        gone += self._refetched.pop(_key_name(name)) is not None
        return gone

    def clear(self) -> None:
        """Flush answers and server knowledge alike."""
        self.messages.clear()
        self.rrsets.clear()
        self.negative.clear()
        self.infra.clear()
        self.parent_side.clear()
        self._refetched.clear()
        self.nsec.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            "message": self.messages.stats(),
            "rrset": self.rrsets.stats(),
            "negative": self.negative.stats(),
            "infra": self.infra.stats(),
        }


# -- validated NSEC records, for aggressive negative caching (RFC 8198) ---------------------


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
        key = _key_name(zone)
        z = self._zones.pop(key, None) or _NsecZone()
        self._zones[key] = z  # most recently stored last
        while len(self._zones) > self.max_zones:
            del self._zones[next(iter(self._zones))]
        return z

    def put_nsec(self, zone: dns.name.Name, rrset: dns.rrset.RRset,
                 sigs: dns.rrset.RRset | None, expires: float) -> None:
        z = self._zone(zone)
        owner = _key_name(rrset.name)
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
        z = self._zones.get(_key_name(zone))
        return None if z is None else z.nsec3_params

    def last(self, zone: dns.name.Name, now: float) -> CachedProof | None:
        """The unexpired record with the greatest owner (the one that wraps around)."""
        z = self._zones.get(_key_name(zone))
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
        z.wildcards[(_key_name(rrset.name), rrset.rdtype)] = CachedProof(rrset, sigs, expires)
        while len(z.wildcards) > self.per_zone:
            del z.wildcards[next(iter(z.wildcards))]

    def zone_for(self, name: dns.name.Name) -> dns.name.Name | None:
        """The closest zone at or above ``name`` that has NSEC records here."""
        n = _key_name(name)
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
        z = self._zones.get(_key_name(zone))
        if z is None:
            return None
        i = bisect.bisect_right(z.owners, _key_name(name)) - 1
        if i < 0:
            return None
        hit = z.nsecs[z.owners[i]]
        if now >= hit.expires:
            del z.nsecs[z.owners[i]]
            del z.owners[i]
            return None
        return hit

    def soa(self, zone: dns.name.Name, now: float) -> CachedProof | None:
        z = self._zones.get(_key_name(zone))
        if z is None or z.soa is None or now >= z.soa.expires:
            return None
        return z.soa

    def wildcard(self, zone: dns.name.Name, name: dns.name.Name, rdtype: int,
                 now: float) -> CachedProof | None:
        z = self._zones.get(_key_name(zone))
        hit = None if z is None else z.wildcards.get((_key_name(name), rdtype))
        if hit is None or now >= hit.expires:
            return None
        return hit

    def clear(self) -> None:
        self._zones.clear()
