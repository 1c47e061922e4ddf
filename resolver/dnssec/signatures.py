"""RRSIG verification (RFC 4034 §3, RFC 4035 §5.3), pure: time is an argument.

:func:`verify_rrset` checks an RRset's RRSIGs against a zone's DNSKEYs (key tag collisions:
every key with the signature's tag and algorithm is tried), with the validity window widened
by Unbound's skew, the RRSIG labels field (wildcard expansion) and the TTL capped by the
original TTL and the expiration (RFC 4035 §5.3.3).  The canonical form (RFC 4034 §6) is
dnspython's.  A :class:`SignatureMemo`, when one is given, remembers the checks that
succeeded so the same signature over the same data is not verified twice; it belongs to
whoever passes it (a validating recursor owns one), so two resolvers share nothing.
:class:`Verifier` bundles a memo with the checking options of one resolver.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dns.dnssec
import dns.exception
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.RRSIG
import dns.rrset

from resolver.cache.arc import LRU
from resolver.dnssec.verdicts import Ede, Outcome, bogus, secure, type_name

T = dns.rdatatype
DNSKEY = dns.rdtypes.ANY.DNSKEY.DNSKEY
RRSIG = dns.rdtypes.ANY.RRSIG.RRSIG

__all__ = [
    "SKEW_BOUNDS",
    "SKEW_MAX_S",
    "SKEW_MIN_S",
    "SUPPORTED_ALGORITHMS",
    "SigCheck",
    "SignatureMemo",
    "Verifier",
    "check_time",
    "find_signed",
    "is_zone_key",
    "key_facts",
    "owner_labels",
    "signed_pairs",
    "signer_of",
    "skew",
    "verify_rrset",
]

# -- what we support (RFC 8624 §3; see docs/DNSSEC.md) ---------------------------------------

SUPPORTED_ALGORITHMS = frozenset({3, 5, 6, 7, 8, 10, 13, 14, 15, 16})
"""DNSKEY/RRSIG algorithms we validate: DSA (3) and DSA-NSEC3-SHA1 (6), RSASHA1 (5) and
RSASHA1-NSEC3-SHA1 (7), which RFC 8624 says validators MUST still support, RSASHA256 (8),
RSASHA512 (10), ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), ED25519 (15) and ED448 (16).

DSA: RFC 8624 §3.1 says MUST NOT validate, but Unbound (the reference: built with DSA, the
default wherever OpenSSL has it) still validates it, so a zone whose DS/anchor names only
DSA keys is checked (secure or bogus) rather than waved through as insecure.  Knot Resolver
treats it as unsupported.  Everything else (RSAMD5, ECC-GOST, private and unknown numbers)
is unsupported: a zone signed only with those is insecure."""


SKEW_MIN_S = 3600
"""Least clock skew allowed around a signature's validity window (Unbound val-sig-skew-min)."""

SKEW_MAX_S = 86400
"""Most clock skew allowed (Unbound val-sig-skew-max); in between, 10% of the window."""

ZONE_FLAG = 0x0100
REVOKE_FLAG = 0x0080

@dataclass(frozen=True)
class SigCheck:
    """The result of checking an RRset's signatures.

    ``rrsig`` is the signature that verified; ``wildcard`` the closest encloser the RRset was
    expanded from (the source is ``*.`` + it), when the labels field says it was; ``ttl``
    the RRset's TTL capped by the original TTL and the time to expiration.
    """

    outcome: Outcome
    rrsig: RRSIG | None = None
    wildcard: dns.name.Name | None = None
    ttl: int | None = None


SKEW_BOUNDS = (SKEW_MIN_S, SKEW_MAX_S)


def serial_diff(a: int, b: int) -> int:
    """``a - b`` in RFC 1982 serial number arithmetic on 32 bits (positive: ``a`` is after
    ``b``), which every comparison of RRSIG times MUST use (RFC 4034 §3.1.5; Unbound's
    compare_1982 / subtract_1982)."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


def skew(rrsig: RRSIG, bounds: tuple[int, int] = SKEW_BOUNDS) -> int:
    """Clock skew tolerated around ``rrsig``'s window: 10% of it, raised to the minimum and
    then capped at the maximum of ``bounds`` (Unbound's val-sig-skew-min / -max, applied in
    that order, so the maximum wins when it is the smaller)."""
    low, high = bounds
    return min(high, max(low, serial_diff(rrsig.expiration, rrsig.inception) // 10))


def check_time(rrsig: RRSIG, now: float, bounds: tuple[int, int] = SKEW_BOUNDS) -> Outcome | None:
    """``None`` if ``now`` falls in the validity window (with skew), else why not.  The
    times compare in serial number arithmetic: a window whose Expiration is more than 2^31
    seconds after its Inception is inverted (Unbound's check_dates: 'inception after
    expiration')."""
    if serial_diff(rrsig.inception, rrsig.expiration) > 0:
        return bogus(Ede.DNSSEC_BOGUS, f"signature by {rrsig.signer}: inception after expiration")
    slack = skew(rrsig, bounds)
    clock = int(now) & 0xFFFFFFFF
    if serial_diff(clock, rrsig.expiration) > slack:
        return bogus(Ede.SIGNATURE_EXPIRED, f"signature by {rrsig.signer} expired")
    if serial_diff(rrsig.inception, clock) > slack:
        return bogus(Ede.SIGNATURE_NOT_YET_VALID, f"signature by {rrsig.signer} not yet valid")
    return None


def owner_labels(name: dns.name.Name) -> int:
    """The labels count an RRSIG over ``name`` carries (RFC 4034 §3.1.3)."""
    n = len(name) - 1  # the root label does not count
    if name.is_wild():
        n -= 1
    return n


def is_zone_key(key: DNSKEY, *, for_dnskey: bool = False) -> bool:
    """A usable zone key: protocol 3, ZONE flag, not revoked (except over the DNSKEY set)."""
    if key.protocol != 3 or not key.flags & ZONE_FLAG:
        return False
    return for_dnskey or not key.flags & REVOKE_FLAG


_FAILURE_ORDER = (
    Ede.SIGNATURE_EXPIRED,
    Ede.SIGNATURE_NOT_YET_VALID,
    Ede.DNSSEC_BOGUS,
    Ede.DNSKEY_MISSING,
    Ede.UNSUPPORTED_DNSKEY_ALGORITHM,
)


def _worst(failures: list[Outcome], fallback: Outcome) -> Outcome:
    for code in _FAILURE_ORDER:
        for f in failures:
            if f.ede is code:
                return f
    return failures[0] if failures else fallback


VERIFIED_MEMO = 8192
"""How many successful signature checks a memo remembers (32-byte digests, ~1 MB at most)."""


class SignatureMemo:
    """The signature checks that succeeded, by :func:`signed_data_digest`, the oldest
    forgotten first.  One per validating recursor: what one resolver has verified says
    nothing to another (each has its own options, and tests build many)."""

    def __init__(self, capacity: int = VERIFIED_MEMO) -> None:
        self.capacity = capacity
        self._verified: OrderedDict[bytes, None] = OrderedDict()

    def recalls(self, digest: bytes) -> bool:
        """Was the check with this digest a success (and so need not be done again)?"""
        if digest not in self._verified:
            return False
        self._verified.move_to_end(digest)
        return True

    def remember(self, digest: bytes) -> None:
        self._verified[digest] = None
        if len(self._verified) > self.capacity:
            self._verified.popitem(last=False)

    def __len__(self) -> int:
        return len(self._verified)


KEY_FACTS_MEMO = 1024
"""DNSKEY records whose key tag and canonical RDATA are remembered (by identity: a zone's
validated keys are the same objects query after query)."""

_key_facts: OrderedDict[int, tuple[DNSKEY, int, bytes]] = OrderedDict()


def key_facts(key: DNSKEY) -> tuple[int, bytes]:
    """``key``'s tag (RFC 4034 Appendix B) and canonical RDATA, each worked out once per key
    object (the entry keeps the object, so its id cannot be reused while remembered)."""
    known = _key_facts.get(id(key))
    if known is not None and known[0] is key:
        return known[1], known[2]
    tag, data = dns.dnssec.key_id(key), key.to_digestable()
    _key_facts[id(key)] = (key, tag, data)
    if len(_key_facts) > KEY_FACTS_MEMO:
        _key_facts.popitem(last=False)
    return tag, data


DIGEST_MEMO = 4096
"""Digests remembered by the objects they were worked out from (see below)."""

_digests: OrderedDict[tuple[Any, ...], tuple[tuple[object, ...], bytes]] = OrderedDict()


def signed_data_digest(rrset: dns.rrset.RRset, sig: RRSIG, keys: Sequence[DNSKEY]) -> bytes:
    """SHA-256 over everything a signature check depends on: the owner (canonical), type,
    class, every RDATA (canonical, sorted), the RRSIG RDATA (signature included) and the
    candidate keys, each length-prefixed.  The same digest means the same check, so a
    signature already verified (an NXDOMAIN's SOA, a zone's NSEC3 records, seen again and
    again) skips the public-key work; time windows are checked every time, outside this.

    RDATA objects are immutable, and where records seen again are the same objects (the
    serving process's parse memo, resolver/dnsfast.py) the digest is recalled by the
    owner's lowered labels, type, class and the identities of the RDATA, RRSIG and keys
    (the entry keeps the objects, so their ids are not reused while remembered)."""
    objects = (sig, *rrset, *keys)
    memo_key = (tuple([label.lower() for label in rrset.name.labels]), int(rrset.rdtype),
                int(rrset.rdclass), len(rrset), tuple(map(id, objects)))
    known = _digests.get(memo_key)
    if known is not None and all(a is b for a, b in zip(known[0], objects, strict=True)):
        return known[1]
    digest = _digest(rrset, sig, keys)
    _digests[memo_key] = (objects, digest)
    if len(_digests) > DIGEST_MEMO:
        _digests.popitem(last=False)
    return digest


def _digest(rrset: dns.rrset.RRset, sig: RRSIG, keys: Sequence[DNSKEY]) -> bytes:
    h = hashlib.sha256()

    def part(data: bytes) -> None:
        h.update(len(data).to_bytes(4, "big"))
        h.update(data)

    part(rrset.name.canonicalize().to_wire() or b"")
    part(int(rrset.rdtype).to_bytes(2, "big") + int(rrset.rdclass).to_bytes(2, "big"))
    for data in sorted(rd.to_digestable() for rd in rrset):
        part(data)
    part(sig.to_digestable())
    for key in keys:
        part(key_facts(key)[1])
    return h.digest()


def verify_rrset(
    rrset: dns.rrset.RRset,
    sigs: dns.rrset.RRset | None,
    keys: Iterable[DNSKEY],
    zone: dns.name.Name,
    now: float,
    unchecked: frozenset[int] = frozenset(),
    ignore_dates: bool = False,
    memo: SignatureMemo | None = None,
    skew_bounds: tuple[int, int] = SKEW_BOUNDS,
) -> SigCheck:
    """Does one of ``sigs`` by ``zone`` over ``rrset`` verify with one of ``keys`` at ``now``?

    Bogus when there is no signature (EDE 10), or none verifies: the most telling failure
    is reported (expired 7, not yet valid 8, bad signature 6, no such key 9).  For the
    algorithms in ``unchecked`` (Unbound's ``fake-sha1``/``fake-dsa`` test options) the
    cryptographic check is skipped; signer, key tag, algorithm, labels and validity window
    are still checked.  ``ignore_dates`` skips the validity window (Unbound's
    ``val-override-date: -1``, "ignores the date altogether"); the TTL is then not capped
    by the expiration either.  With a ``memo``, a check it recalls skips the public-key
    work (the validity window is checked every time) and one that succeeds is remembered.
    """
    what = f"{rrset.name} {type_name(rrset.rdtype)}"
    if sigs is None or len(sigs) == 0:
        return SigCheck(bogus(Ede.RRSIGS_MISSING, f"no RRSIGs over {what}"))
    key_list = list(keys)
    failures: list[Outcome] = []
    labels = owner_labels(rrset.name)
    for sig in sigs:
        if not isinstance(sig, RRSIG) or sig.type_covered != rrset.rdtype:
            continue
        if sig.signer != zone:
            failures.append(bogus(Ede.DNSSEC_BOGUS, f"{what} signed by {sig.signer}, not {zone}"))
            continue
        if sig.algorithm not in SUPPORTED_ALGORITHMS:
            failures.append(
                bogus(Ede.DNSSEC_BOGUS, f"{what}: RRSIG algorithm {sig.algorithm} unsupported")
            )
            continue
        if sig.labels > labels:
            failures.append(bogus(Ede.DNSSEC_BOGUS, f"{what}: RRSIG labels field too large"))
            continue
        candidates = [
            k
            for k in key_list
            if k.algorithm == sig.algorithm
            and key_facts(k)[0] == sig.key_tag
            and is_zone_key(k, for_dnskey=rrset.rdtype == T.DNSKEY)
        ]
        if not candidates:
            failures.append(
                bogus(
                    Ede.DNSKEY_MISSING,
                    f"{what}: no DNSKEY {sig.key_tag}/{sig.algorithm} of {zone} for the RRSIG",
                )
            )
            continue
        if ignore_dates:
            now = float(sig.inception)
        late = None if ignore_dates else check_time(sig, now, skew_bounds)
        if late is not None:
            failures.append(Outcome(late.security, late.ede, f"{what}: {late.why}"))
            continue
        # dnspython checks the window without skew: hand it a time inside the window.
        inside = min(max(now, float(sig.inception)), float(sig.expiration))
        proof = signed_data_digest(rrset, sig, candidates)
        if sig.algorithm not in unchecked and not (memo is not None and memo.recalls(proof)):
            rdataset = dns.rdataset.from_rdata_list(0, candidates)
            try:
                # Which algorithms count is SUPPORTED_ALGORITHMS' business, not dnspython's
                # default policy (that refuses DSA).
                dns.dnssec.validate_rrsig(rrset, sig, {zone: rdataset}, now=inside,
                                          policy=dns.dnssec.allow_all_policy)
            except (dns.exception.ValidationFailure, dns.exception.UnsupportedAlgorithm) as e:
                failures.append(
                    bogus(Ede.DNSSEC_BOGUS, f"{what}: signature does not verify ({e})"))
                continue
            if memo is not None:
                memo.remember(proof)
        wildcard = None
        if sig.labels < labels:
            wildcard = dns.name.Name(rrset.name.labels[-(sig.labels + 1) :])
        ttl = max(0, min(rrset.ttl, sig.original_ttl,
                         *(() if ignore_dates else (serial_diff(sig.expiration, int(now)),))))
        return SigCheck(secure(f"{what} verified with key {sig.key_tag}"), sig, wildcard, ttl)
    return SigCheck(
        _worst(failures, bogus(Ede.RRSIGS_MISSING, f"no RRSIGs over {what} of this type"))
    )


SignedRRset = tuple[dns.rrset.RRset, dns.rrset.RRset | None]
"""An RRset with the RRSIG RRset that covers it (None when unsigned)."""


def signed_pairs(section: Sequence[dns.rrset.RRset]) -> list[SignedRRset]:
    """Each non-RRSIG RRset of a section with the RRSIG RRset covering it, in order."""
    sigs = {(r.name, r.covers): r for r in section if r.rdtype == T.RRSIG}
    return [(r, sigs.get((r.name, r.rdtype))) for r in section if r.rdtype != T.RRSIG]


def find_signed(section: Sequence[dns.rrset.RRset], name: dns.name.Name,
                rdtype: int) -> tuple[dns.rrset.RRset | None, dns.rrset.RRset | None]:
    """The RRset of ``rdtype`` at ``name`` in a section and its RRSIGs, or (None, None)."""
    for rrset, sigs in signed_pairs(section):
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset, sigs
    return None, None


def signer_of(sigs: dns.rrset.RRset | None) -> dns.name.Name | None:
    """The signer of an RRSIG RRset (the first signature's; they agree in practice)."""
    if sigs is None:
        return None
    for sig in sigs:
        if isinstance(sig, RRSIG):
            return sig.signer
    return None


def of_algorithm(sigs: dns.rrset.RRset | None, algorithm: int) -> dns.rrset.RRset | None:
    """The signatures of ``algorithm`` in an RRSIG RRset (None when there are none)."""
    if sigs is None:
        return None
    subset = dns.rrset.RRset(sigs.name, sigs.rdclass, sigs.rdtype, sigs.covers)
    for sig in sigs:
        if isinstance(sig, RRSIG) and sig.algorithm == algorithm:
            subset.add(sig, sigs.ttl)
    return subset if len(subset) else None


def each_algorithm(
    check_one: Callable[[dns.rrset.RRset | None, list[DNSKEY]], SigCheck],
    rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None, keys: Iterable[DNSKEY],
    algorithms: Iterable[int],
) -> SigCheck:
    """Secure only when, for every one of ``algorithms``, a signature of that algorithm
    verifies with a key of it (Unbound's harden-algo-downgrade: "algo_needs"); the TTL is
    the least of theirs.  ``check_one(sigs, keys)`` checks one algorithm's share."""
    key_list = list(keys)
    results: list[SigCheck] = []
    for alg in sorted(set(algorithms)):
        result = check_one(of_algorithm(sigs, alg), [k for k in key_list if k.algorithm == alg])
        if not result.outcome.secure:
            why = (f"{rrset.name} {type_name(rrset.rdtype)}: no valid signature of "
                   f"algorithm {alg} (harden-algo-downgrade): {result.outcome.why}")
            return SigCheck(bogus(result.outcome.ede or Ede.DNSSEC_BOGUS, why))
        results.append(result)
    ttls = [r.ttl for r in results if r.ttl is not None]
    return replace(results[-1], ttl=min(ttls) if ttls else None)


REQUIRED_ZONES = 10_000
"""Zones whose signing algorithms a verifier remembers (harden-algo-downgrade)."""


@dataclass(frozen=True)
class Verifier:
    """One resolver's way of checking signatures: its options and its own memo.  With
    harden-algo-downgrade, the zones whose DNSKEY RRset was proved for several DS
    algorithms are remembered (:meth:`require`): their data must be signed with each."""

    unchecked: frozenset[int] = frozenset()  # Unbound's fake-sha1/fake-dsa test options
    ignore_dates: bool = False  # Unbound's val-override-date: -1
    memo: SignatureMemo = field(default_factory=SignatureMemo)
    skew_bounds: tuple[int, int] = SKEW_BOUNDS  # Unbound's val-sig-skew-min / -max
    required: LRU[dns.name.Name, frozenset[int]] = field(
        default_factory=lambda: LRU(REQUIRED_ZONES))

    def require(self, zone: dns.name.Name, algorithms: frozenset[int]) -> None:
        """``zone``'s data must carry a valid signature of each of ``algorithms``."""
        if len(algorithms) > 1:
            self.required.put(zone, algorithms, 1)
        else:
            self.required.pop(zone)

    def verify(self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
               keys: Iterable[DNSKEY], zone: dns.name.Name, now: float) -> SigCheck:
        """:func:`verify_rrset` with this verifier's options and memo (for every algorithm
        the zone requires, when it requires several)."""
        def one(subset: dns.rrset.RRset | None, of: Iterable[DNSKEY]) -> SigCheck:
            return verify_rrset(rrset, subset, of, zone, now, self.unchecked,
                                self.ignore_dates, self.memo, self.skew_bounds)

        needed = self.required.get(zone) if len(self.required) else None
        if needed is None:
            return one(sigs, keys)
        return each_algorithm(one, rrset, sigs, keys, needed)
