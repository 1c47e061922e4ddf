"""What the resolver's caches share: TTL caps, trust :class:`Rank`, the validator's
:class:`Security` verdict, cache keys, and what an entry costs in memory.

Nothing here reads a clock: each method that needs time takes ``now``, monotonic seconds.
Byte budgets are charged in Python memory, not wire bytes: a parsed entry costs
:data:`ENTRY_OVERHEAD_BYTES` plus :data:`WIRE_EXPANSION` times its wire length (both measured
with tracemalloc: a one-address RRset is ~1,300 bytes of objects for ~40 wire bytes), so
the process's memory follows the configured budget.
"""

from __future__ import annotations

import enum
import io
import math
from collections.abc import Iterable
from typing import Any

import dns.name
import dns.rdatatype
import dns.rrset

from resolver.cache.arc import ARC

__all__ = [
    "ENTRY_OVERHEAD_BYTES",
    "GHOST_BYTES",
    "RRSET_OVERHEAD_BYTES",
    "MAX_NEGATIVE_TTL_S",
    "MAX_TTL_S",
    "MIN_TTL_S",
    "WIRE_EXPANSION",
    "ArcBacked",
    "Kept",
    "Rank",
    "Security",
    "clamp_ttl",
    "entry_charge",
    "key_name",
    "remaining_ttl",
    "rrsets_charge",
    "servable",
    "wire_size",
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


RRSET_OVERHEAD_BYTES = 500
"""Charge per further RRset object an entry holds (its RRSIGs, its proofs; a denial's SOA
too, beside its key's names): measured ~450 bytes each (tracemalloc, CPython 3.11).  Before
2026-12-08 an entry was charged one overhead whatever it held, and a denial with an NSEC
proof (SOA, RRSIG, NSEC, RRSIG) was charged 64 % of what it held: a full negative cache
outgrew its budget by half (issue 24 part 1, docs/RELIABILITY.md "Memory under the flood")."""


GHOST_BYTES = 400
"""What one ARC ghost of the record caches costs: its key (a tuple with a name, ~260 bytes
once the entry is gone) and its list node (~140); see :class:`~resolver.cache.arc.ARC`."""


def entry_charge(wire_bytes: int) -> int:
    """What a parsed entry of ``wire_bytes`` on the wire costs in Python memory."""
    return ENTRY_OVERHEAD_BYTES + WIRE_EXPANSION * wire_bytes


def rrsets_charge(rrsets: Iterable[dns.rrset.RRset | None], included: int = 1) -> int:
    """What an entry holding ``rrsets`` (None: absent) costs: :func:`entry_charge` of their
    wire lengths, plus :data:`RRSET_OVERHEAD_BYTES` for each RRset past the first
    ``included`` (the ones :data:`ENTRY_OVERHEAD_BYTES` already stands for)."""
    present = [r for r in rrsets if r is not None]
    return entry_charge(sum(wire_size(r) for r in present)) \
        + RRSET_OVERHEAD_BYTES * max(0, len(present) - included)


# -- trust --------------------------------------------------------------------------------


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


def clamp_ttl(ttl: int, cap: int) -> int:
    """``ttl`` as a whole number of seconds, at least :data:`MIN_TTL_S` and at most ``cap``."""
    return max(MIN_TTL_S, min(int(ttl), cap))


def remaining_ttl(expires: float, now: float, ttl: int) -> int:
    """Whole seconds left, rounded down, never more than the TTL stored."""
    return max(0, min(ttl, math.floor(expires - now)))


def servable(expires: float, stale_until: float | None, now: float,
             stale: float | None) -> bool:
    """Whether an entry that expires at ``expires`` may be served at ``now``: unexpired, or,
    with ``stale`` (serve-expired, RFC 8767), expired for less than ``stale`` seconds
    (``math.inf``: no limit) or before ``stale_until`` when a failed refresh reset its
    window (Unbound's serve-expired-ttl-reset)."""
    if now < expires:
        return True
    if stale is None:
        return False
    return now < (expires + stale if stale_until is None else stale_until)


def wire_size(rrset: dns.rrset.RRset | None) -> int:
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


def key_name(name: dns.name.Name) -> dns.name.Name:
    """``name`` as a cache key: absolute (or ValueError) and lower-cased."""
    if not name.is_absolute():
        raise ValueError(f"cache keys need absolute names, not {name}")
    return name.canonicalize()


Kept = tuple[tuple[Any, ...], dict[Any, tuple[Any, int]]]
"""Some keys of an :class:`ArcBacked` cache and the entries (with sizes) they had."""


class ArcBacked:
    """Sizing shared by the caches that keep their entries on an :class:`ARC`, and keeping
    some entries aside to put them back (serve-expired: the expired answer a bogus refresh
    replaced)."""

    _arc: ARC[Any, Any]

    def _keep(self, keys: tuple[Any, ...]) -> Kept:
        return keys, {k: e for k in keys if (e := self._arc.peek_sized(k)) is not None}

    def _put_back(self, kept: Kept) -> None:
        """The kept keys as they were: their entries back, the ones absent then dropped."""
        keys, entries = kept
        for key in keys:
            if key in entries:
                self._arc.put(key, *entries[key])
            else:
                self._arc.pop(key)

    def __len__(self) -> int:
        return len(self._arc)

    @property
    def size_bytes(self) -> int:
        return self._arc.size_bytes

    @property
    def capacity_bytes(self) -> int:
        return self._arc.capacity_bytes
