"""DNSSEC validation as pure functions (RFC 4033-4035, 5155, 6840, 8624, 9276).

Nothing here does I/O or reads a clock: every check that depends on time takes ``now``, wall
clock seconds.  The :mod:`resolver.dnssec.validating` layer fetches the records and calls these.

* Signatures: :func:`verify_rrset` checks an RRset's RRSIGs against a zone's DNSKEYs (key tag
  collisions: every key with the signature's tag and algorithm is tried), with the validity
  window widened by Unbound's skew, the RRSIG labels field (wildcard expansion) and the TTL
  capped by the original TTL and the expiration (RFC 4035 §5.3.3).
* Keys: :func:`verify_dnskeys` takes a DNSKEY RRset from a DS RRset or from trust anchors:
  DS records with an unsupported algorithm or digest are ignored, and when none is left the
  zone is insecure, not bogus (RFC 4035 §5.2, RFC 6840 §5.2); SHA-1 DS records are ignored
  when a stronger digest is present (RFC 4509 §3).
* Denial of existence: :func:`prove_nxdomain`, :func:`prove_nodata`, :func:`prove_no_ds`
  and :func:`prove_wildcard_answer` check NSEC (RFC 4035 §5.4) and NSEC3 (RFC 5155 §8)
  proofs, including empty non-terminals, wildcard NODATA, closest-encloser proofs and
  opt-out; NSEC3 with more than :data:`NSEC3_MAX_ITERATIONS` iterations make the answer
  insecure (RFC 9276 §3.2, as Unbound 1.17 does).

Results are :class:`Outcome` values: a :class:`~resolver.cache.dnscache.Security` verdict,
an :class:`Ede` code (RFC 8914) saying why when there is one, and a short text.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.dnssec
import dns.dnssectypes
import dns.exception
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.RRSIG
import dns.rrset

from resolver.cache.dnscache import Security

T = dns.rdatatype
DNSKEY = dns.rdtypes.ANY.DNSKEY.DNSKEY
DS = dns.rdtypes.ANY.DS.DS
NSEC = dns.rdtypes.ANY.NSEC.NSEC
NSEC3 = dns.rdtypes.ANY.NSEC3.NSEC3
RRSIG = dns.rdtypes.ANY.RRSIG.RRSIG

__all__ = [
    "DEFAULT_LIMITS",
    "NSEC3_MAX_ITERATIONS",
    "SKEW_MAX_S",
    "SKEW_MIN_S",
    "SUPPORTED_ALGORITHMS",
    "SUPPORTED_DIGESTS",
    "DsProof",
    "Ede",
    "KeyCheck",
    "Limits",
    "Outcome",
    "SigCheck",
    "bitmap_types",
    "check_time",
    "ds_matches_key",
    "nsec_covers",
    "owner_labels",
    "prove_no_ds",
    "prove_nodata",
    "prove_nxdomain",
    "prove_wildcard_answer",
    "signer_of",
    "skew",
    "usable_ds",
    "verify_dnskeys",
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

SUPPORTED_DIGESTS = frozenset({1, 2, 4})
"""DS digest types we check: SHA-1 (1), SHA-256 (2), SHA-384 (4). GOST (3) and unknown
digests are unsupported (a DS set with only those makes the zone insecure)."""

SHA1_DIGEST = 1

NSEC3_MAX_ITERATIONS = 150
"""NSEC3 proofs with more iterations than this are not computed: the answer is insecure with
EDE 27 (RFC 9276 §3.2; Unbound 1.17's val-nsec3-keysize-iterations is 150 for every key
size)."""

NSEC3_SHA1 = 1
NSEC3_OPT_OUT = 0x01

SKEW_MIN_S = 3600
"""Least clock skew allowed around a signature's validity window (Unbound val-sig-skew-min)."""

SKEW_MAX_S = 86400
"""Most clock skew allowed (Unbound val-sig-skew-max); in between, 10% of the window."""

ZONE_FLAG = 0x0100
REVOKE_FLAG = 0x0080


class Ede(enum.IntEnum):
    """Extended DNS Error codes (RFC 8914) that validation reports."""

    UNSUPPORTED_DNSKEY_ALGORITHM = 1
    UNSUPPORTED_DS_DIGEST = 2
    DNSSEC_BOGUS = 6
    SIGNATURE_EXPIRED = 7
    SIGNATURE_NOT_YET_VALID = 8
    DNSKEY_MISSING = 9
    RRSIGS_MISSING = 10
    NSEC_MISSING = 12
    UNSUPPORTED_NSEC3_ITERATIONS = 27


@dataclass(frozen=True)
class Outcome:
    """A verdict, with the EDE code and text that say why (for bogus and some insecure)."""

    security: Security
    ede: Ede | None = None
    why: str = ""

    @property
    def secure(self) -> bool:
        return self.security is Security.SECURE

    @property
    def bogus(self) -> bool:
        return self.security is Security.BOGUS


def secure(why: str = "") -> Outcome:
    return Outcome(Security.SECURE, None, why)


def insecure(why: str, ede: Ede | None = None) -> Outcome:
    return Outcome(Security.INSECURE, ede, why)


def bogus(ede: Ede, why: str) -> Outcome:
    return Outcome(Security.BOGUS, ede, why)


# -- signatures ----------------------------------------------------------------------------


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


def skew(rrsig: RRSIG) -> int:
    """Clock skew tolerated around ``rrsig``'s window: 10% of it, within the Unbound bounds."""
    return max(SKEW_MIN_S, min(SKEW_MAX_S, (rrsig.expiration - rrsig.inception) // 10))


def check_time(rrsig: RRSIG, now: float) -> Outcome | None:
    """``None`` if ``now`` falls in the validity window (with skew), else why not."""
    slack = skew(rrsig)
    if now > rrsig.expiration + slack:
        return bogus(Ede.SIGNATURE_EXPIRED, f"signature by {rrsig.signer} expired")
    if now < rrsig.inception - slack:
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
"""How many successful signature checks are remembered (32-byte digests, ~1 MB at most)."""

_VERIFIED: OrderedDict[bytes, None] = OrderedDict()


def _signed_data_digest(rrset: dns.rrset.RRset, sig: RRSIG, keys: Sequence[DNSKEY]) -> bytes:
    """SHA-256 over everything a signature check depends on: the owner (canonical), type,
    class, every RDATA (canonical, sorted), the RRSIG RDATA (signature included) and the
    candidate keys, each length-prefixed.  The same digest means the same check, so a
    signature already verified (an NXDOMAIN's SOA, a zone's NSEC3 records, seen again and
    again) skips the public-key work; time windows are checked every time, outside this."""
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
        part(key.to_digestable())
    return h.digest()


def verify_rrset(
    rrset: dns.rrset.RRset,
    sigs: dns.rrset.RRset | None,
    keys: Iterable[DNSKEY],
    zone: dns.name.Name,
    now: float,
    unchecked: frozenset[int] = frozenset(),
    ignore_dates: bool = False,
) -> SigCheck:
    """Does one of ``sigs`` by ``zone`` over ``rrset`` verify with one of ``keys`` at ``now``?

    Bogus when there is no signature (EDE 10), or none verifies: the most telling failure
    is reported (expired 7, not yet valid 8, bad signature 6, no such key 9).  For the
    algorithms in ``unchecked`` (Unbound's ``fake-sha1``/``fake-dsa`` test options) the
    cryptographic check is skipped; signer, key tag, algorithm, labels and validity window
    are still checked.  ``ignore_dates`` skips the validity window (Unbound's
    ``val-override-date: -1``, "ignores the date altogether"); the TTL is then not capped
    by the expiration either.
    """
    what = f"{rrset.name} {_type(rrset.rdtype)}"
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
            and dns.dnssec.key_id(k) == sig.key_tag
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
        late = check_time(sig, now)
        if late is not None:
            failures.append(Outcome(late.security, late.ede, f"{what}: {late.why}"))
            continue
        # dnspython checks the window without skew: hand it a time inside the window.
        inside = min(max(now, float(sig.inception)), float(sig.expiration))
        proof = _signed_data_digest(rrset, sig, candidates)
        if sig.algorithm not in unchecked and proof not in _VERIFIED:
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
            _VERIFIED[proof] = None
            if len(_VERIFIED) > VERIFIED_MEMO:
                _VERIFIED.popitem(last=False)
        elif proof in _VERIFIED:
            _VERIFIED.move_to_end(proof)
        wildcard = None
        if sig.labels < labels:
            wildcard = dns.name.Name(rrset.name.labels[-(sig.labels + 1) :])
        ttl = max(0, min(rrset.ttl, sig.original_ttl,
                         *(() if ignore_dates else (int(sig.expiration - now),))))
        return SigCheck(secure(f"{what} verified with key {sig.key_tag}"), sig, wildcard, ttl)
    return SigCheck(
        _worst(failures, bogus(Ede.RRSIGS_MISSING, f"no RRSIGs over {what} of this type"))
    )


# -- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    """A DNSKEY RRset's verdict; ``keys`` and ``ttl`` are set when it is secure."""

    outcome: Outcome
    keys: dns.rrset.RRset | None = None
    ttl: int | None = None


def usable_ds(ds_records: Iterable[DS]) -> tuple[list[DS], Outcome | None]:
    """The DS records to check keys against, or an insecure outcome when none is usable.

    Unsupported algorithms and digests are ignored (RFC 6840 §5.2); when none is left the
    zone is insecure, with EDE 1 or 2.  SHA-1 records are dropped when a stronger supported
    digest is present (RFC 4509 §3), so a downgrade to SHA-1 cannot be forced.
    """
    records = list(ds_records)
    known_alg = [d for d in records if d.algorithm in SUPPORTED_ALGORITHMS]
    usable = [d for d in known_alg if d.digest_type in SUPPORTED_DIGESTS]
    if not usable:
        if known_alg:
            digests = sorted({d.digest_type for d in records})
            return [], insecure(f"DS digest types {digests} unsupported", Ede.UNSUPPORTED_DS_DIGEST)
        algs = sorted({d.algorithm for d in records})
        return [], insecure(
            f"DS algorithms {algs} unsupported", Ede.UNSUPPORTED_DNSKEY_ALGORITHM
        )
    if any(d.digest_type != SHA1_DIGEST for d in usable):
        usable = [d for d in usable if d.digest_type != SHA1_DIGEST]
    return usable, None


def ds_matches_key(owner: dns.name.Name, ds: DS, key: DNSKEY) -> bool:
    """Is ``ds`` a digest of ``key`` at ``owner``?  Tags only preselect: digests decide."""
    if ds.algorithm != key.algorithm or ds.key_tag != dns.dnssec.key_id(key):
        return False
    if ds.digest_type not in SUPPORTED_DIGESTS:
        return False
    made = dns.dnssec.make_ds(
        owner,
        key,
        dns.dnssectypes.DSDigest(ds.digest_type),
        policy=dns.dnssec.allow_all_policy,
        validating=True,
    )
    return bool(made.digest == ds.digest)


def _same_key(a: DNSKEY, b: DNSKEY) -> bool:
    return a.protocol == b.protocol and a.algorithm == b.algorithm and a.key == b.key


def verify_dnskeys(
    zone: dns.name.Name,
    dnskeys: dns.rrset.RRset | None,
    sigs: dns.rrset.RRset | None,
    now: float,
    *,
    ds: Iterable[DS] = (),
    anchor_keys: Iterable[DNSKEY] = (),
    unchecked: frozenset[int] = frozenset(),
    ignore_dates: bool = False,
) -> KeyCheck:
    """Is ``zone``'s DNSKEY RRset authentic, given a DS set or trust-anchor keys?

    The keys that a usable DS (or an anchor key) points at are trusted, whatever their SEP
    flag (RFC 4035 §5.2); the RRset is secure when one of them signs it.  No supported DS
    or anchor: insecure (EDE 1/2).  No key matching: bogus (EDE 9).
    """
    ds_list = list(ds)
    anchors = [k for k in anchor_keys if k.algorithm in SUPPORTED_ALGORITHMS]
    usable: list[DS] = []
    if ds_list:
        usable, early = usable_ds(ds_list)
        if early is not None and not anchors:
            return KeyCheck(early)
    elif not anchors:
        given = list(anchor_keys)
        if given:
            algs = sorted({k.algorithm for k in given})
            return KeyCheck(
                insecure(f"anchor algorithms {algs} unsupported", Ede.UNSUPPORTED_DNSKEY_ALGORITHM)
            )
        return KeyCheck(bogus(Ede.DNSKEY_MISSING, f"no DS or anchor for {zone}"))
    if dnskeys is None or len(dnskeys) == 0:
        return KeyCheck(bogus(Ede.DNSKEY_MISSING, f"no DNSKEY RRset for {zone}"))
    trusted = [
        k
        for k in dnskeys
        if isinstance(k, DNSKEY)
        and is_zone_key(k, for_dnskey=True)
        and (
            any(ds_matches_key(zone, d, k) for d in usable)
            or any(_same_key(k, a) for a in anchors)
        )
    ]
    if not trusted:
        return KeyCheck(bogus(Ede.DNSKEY_MISSING, f"no DNSKEY of {zone} matches its DS/anchor"))
    check = verify_rrset(dnskeys, sigs, trusted, zone, now, unchecked, ignore_dates)
    if not check.outcome.secure:
        return KeyCheck(check.outcome)
    return KeyCheck(secure(f"DNSKEY {zone} verified"), dnskeys, check.ttl)


# -- denial of existence: shared -----------------------------------------------------------------


def bitmap_types(windows: Iterable[tuple[int, bytes]]) -> frozenset[int]:
    """The types an NSEC/NSEC3 type bitmap lists (RFC 4034 §4.1.2)."""
    out: set[int] = set()
    for window, bitmap in windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.add(window * 256 + i * 8 + bit)
    return frozenset(out)


def _type(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def _wild(ce: dns.name.Name) -> dns.name.Name:
    return dns.name.Name((b"*",) + ce.labels)


def _is_delegation(types: frozenset[int]) -> bool:
    """NS without SOA: the parent side of a zone cut (RFC 6840 §4.1)."""
    return T.NS in types and T.SOA not in types


def _ancestor_cut(owner: dns.name.Name, types: frozenset[int], name: dns.name.Name) -> bool:
    """Is ``owner`` (a proper ancestor of ``name``) a delegation or DNAME, so that its record
    says nothing about ``name`` (RFC 6840 §4.1)?"""
    if owner == name or not name.is_subdomain(owner):
        return False
    return _is_delegation(types) or T.DNAME in types


class DsProof(enum.Enum):
    """What a proof that ``child`` has no DS says about a zone cut there."""

    INSECURE_DELEGATION = "insecure delegation"  # a cut, provably without DS
    NOT_A_CUT = "not a cut"  # the name exists (or is an empty non-terminal), no delegation
    NAME_ABSENT = "name absent"  # the name does not exist: no cut at or below it
    OPT_OUT = "opt-out"  # an opt-out span covers it: maybe an unsigned delegation


def _split(
    proofs: Sequence[dns.rrset.RRset], zone: dns.name.Name
) -> tuple[list[tuple[dns.name.Name, NSEC, frozenset[int]]], list[dns.rrset.RRset]]:
    nsecs = [
        (r.name, rd, bitmap_types(rd.windows))
        for r in proofs
        if r.rdtype == T.NSEC and r.name.is_subdomain(zone)
        for rd in r
        if isinstance(rd, NSEC)
    ]
    nsec3s = [r for r in proofs if r.rdtype == T.NSEC3]
    return nsecs, nsec3s


# -- NSEC (RFC 4035 §5.4) ----------------------------------------------------------------------


def nsec_covers(owner: dns.name.Name, nxt: dns.name.Name, name: dns.name.Name) -> bool:
    """Does the NSEC ``owner`` → ``nxt`` span ``name`` (strictly between, canonical order)?"""
    if owner < nxt:
        return bool(owner < name < nxt)
    return bool(name > owner or name < nxt)  # the last NSEC of the zone wraps to the apex


def nsec_closest_encloser(owner: dns.name.Name, nxt: dns.name.Name,
                          name: dns.name.Name) -> dns.name.Name:
    """The closest encloser of ``name`` that a covering NSEC reveals: the longer of its common
    ancestors with the NSEC's owner and with its next name."""
    common = max(name.fullcompare(owner)[2], name.fullcompare(nxt)[2])
    return name.split(common)[1]


class _Nsec:
    def __init__(self, records: list[tuple[dns.name.Name, NSEC, frozenset[int]]],
                 zone: dns.name.Name) -> None:
        self.records = records
        self.zone = zone

    def match(self, name: dns.name.Name) -> frozenset[int] | None:
        for owner, _, types in self.records:
            if owner == name:
                return types
        return None

    def cover(self, name: dns.name.Name) -> tuple[dns.name.Name, NSEC] | None:
        """An NSEC that proves ``name`` does not exist, with its closest encloser checked
        against ancestor delegations."""
        for owner, rd, types in self.records:
            if owner == name or not nsec_covers(owner, rd.next, name):
                continue
            if _ancestor_cut(owner, types, name):
                continue
            return owner, rd
        return None

    def closest_encloser(self, name: dns.name.Name) -> dns.name.Name | None:
        hit = self.cover(name)
        if hit is None:
            return None
        ce = nsec_closest_encloser(hit[0], hit[1].next, name)
        return ce if ce.is_subdomain(self.zone) else None

    def empty_non_terminal(self, name: dns.name.Name) -> bool:
        """An NSEC whose next name is below ``name`` proves ``name`` an empty non-terminal."""
        hit = self.cover(name)
        return hit is not None and hit[1].next.is_subdomain(name) and hit[1].next != name

    def nxdomain(self, qname: dns.name.Name) -> Outcome:
        if self.match(qname) is not None:
            return bogus(Ede.NSEC_MISSING, f"an NSEC says {qname} exists")
        ce = self.closest_encloser(qname)
        if ce is None:
            return bogus(Ede.NSEC_MISSING, f"no NSEC proves {qname} does not exist")
        if self.empty_non_terminal(qname):
            return bogus(Ede.NSEC_MISSING, f"{qname} is an empty non-terminal, not NXDOMAIN")
        wild = _wild(ce)
        if self.match(wild) is not None:
            return bogus(Ede.NSEC_MISSING, f"{wild} exists: {qname} should have been expanded")
        if self.cover(wild) is None:
            return bogus(Ede.NSEC_MISSING, f"no NSEC proves {wild} does not exist")
        return secure(f"NSEC NXDOMAIN for {qname}")

    def _nodata_types(self, name: dns.name.Name, types: frozenset[int], qtype: int) -> Outcome:
        if qtype in types:
            return bogus(Ede.NSEC_MISSING, f"the NSEC at {name} lists {_type(qtype)}")
        if T.CNAME in types and qtype != T.CNAME:
            return bogus(Ede.NSEC_MISSING, f"the NSEC at {name} lists CNAME")
        if qtype == T.DS:
            if T.SOA in types and name != dns.name.root:
                return bogus(Ede.DNSSEC_BOGUS, f"DS denied by the child side of {name}")
        elif _is_delegation(types):
            if T.DS not in types:
                # The name is an unsigned delegation: what lies there is insecure (Unbound:
                # val_nsec_proves_insecuredelegation, nsec3_do_prove_nodata).
                return insecure(f"{name} is an unsigned delegation (NS without DS)")
            return bogus(Ede.DNSSEC_BOGUS, f"NODATA from the parent side of the cut at {name}")
        return secure(f"NSEC NODATA for {name} {_type(qtype)}")

    def nodata(self, qname: dns.name.Name, qtype: int) -> Outcome:
        types = self.match(qname)
        if types is not None:
            return self._nodata_types(qname, types, qtype)
        if self.empty_non_terminal(qname):
            return secure(f"NSEC NODATA for the empty non-terminal {qname}")
        ce = self.closest_encloser(qname)
        if ce is not None:
            wild = _wild(ce)
            wtypes = self.match(wild)
            if wtypes is not None:
                out = self._nodata_types(wild, wtypes, qtype)
                if out.secure:
                    return secure(f"NSEC wildcard NODATA for {qname} from {wild}")
                return out
        return bogus(Ede.NSEC_MISSING, f"no NSEC proves {qname} {_type(qtype)} NODATA")

    def no_ds(self, child: dns.name.Name) -> tuple[DsProof | None, Outcome]:
        types = self.match(child)
        if types is not None:
            if T.DS in types:
                return None, bogus(Ede.DNSSEC_BOGUS, f"the NSEC at {child} lists DS")
            if T.SOA in types:
                return None, bogus(Ede.DNSSEC_BOGUS, f"DS denied by the child side of {child}")
            if T.NS in types:
                return DsProof.INSECURE_DELEGATION, secure(f"NSEC: {child} is unsigned")
            return DsProof.NOT_A_CUT, secure(f"NSEC: {child} is no zone cut")
        if self.empty_non_terminal(child):
            return DsProof.NOT_A_CUT, secure(f"NSEC: {child} is an empty non-terminal")
        nodata = self.nodata(child, T.DS)
        if nodata.secure:  # only a wildcard NODATA gets here
            return DsProof.NAME_ABSENT, nodata
        return None, bogus(Ede.NSEC_MISSING, f"no NSEC proves {child} has no DS")

    def wildcard_answer(self, owner: dns.name.Name, source: dns.name.Name) -> Outcome:
        ce = self.closest_encloser(owner)
        if ce is None:
            return bogus(Ede.NSEC_MISSING, f"no NSEC proves {owner} itself does not exist")
        if ce != source:
            return bogus(
                Ede.DNSSEC_BOGUS, f"{owner} was expanded from *.{source}, but {ce} is closer"
            )
        return secure(f"NSEC wildcard proof for {owner}")


# -- NSEC3 (RFC 5155 §8) -------------------------------------------------------------------------


@dataclass(frozen=True)
class _N3:
    digest: bytes
    rd: NSEC3
    types: frozenset[int]

    @property
    def opt_out(self) -> bool:
        return bool(self.rd.flags & NSEC3_OPT_OUT)


def _b32(label: bytes) -> bytes | None:
    try:
        return base64.b32hexdecode(label.upper())
    except (binascii.Error, ValueError):
        return None


def nsec3_params(rrset: dns.rrset.RRset, zone: dns.name.Name) -> tuple[int, int, bytes] | None:
    """(algorithm, iterations, salt) of a usable NSEC3 RRset of ``zone`` (owner one label
    below the zone, a base32hex hash, SHA-1, known flags), or None."""
    if len(rrset.name) != len(zone) + 1 or not rrset.name.is_subdomain(zone):
        return None
    if _b32(rrset.name.labels[0]) is None:
        return None
    rd = next(iter(rrset), None)
    if not isinstance(rd, NSEC3) or rd.algorithm != NSEC3_SHA1 or rd.flags & ~NSEC3_OPT_OUT:
        return None
    return rd.algorithm, rd.iterations, rd.salt


def nsec3_owner(name: dns.name.Name, zone: dns.name.Name,
                params: tuple[int, int, bytes]) -> dns.name.Name:
    """The NSEC3 owner name ``name`` hashes to in ``zone`` (RFC 5155 §5)."""
    algorithm, iterations, salt = params
    digest = dns.dnssec.nsec3_hash(name, salt, iterations, algorithm)
    return dns.name.Name((digest.lower().encode(),) + zone.labels)


class _Nsec3:
    """The usable NSEC3 records of one zone: SHA-1, known flags, one parameter set."""

    def __init__(self, rrsets: list[dns.rrset.RRset], zone: dns.name.Name) -> None:
        self.zone = zone
        self.records: list[_N3] = []
        self.iterations = 0
        self.salt = b""
        params: tuple[int, bytes] | None = None
        for r in rrsets:
            if len(r.name) != len(zone) + 1 or not r.name.is_subdomain(zone):
                continue  # RFC 5155 §8.2: owners are one label below the zone
            digest = _b32(r.name.labels[0])
            if digest is None:
                continue
            for rd in r:
                if not isinstance(rd, NSEC3) or rd.algorithm != NSEC3_SHA1:
                    continue
                if rd.flags & ~NSEC3_OPT_OUT:
                    continue  # unknown flags: ignore the record
                if params is None:
                    params = (rd.iterations, rd.salt)
                elif params != (rd.iterations, rd.salt):
                    continue
                self.records.append(_N3(digest, rd, bitmap_types(rd.windows)))
        if params is not None:
            self.iterations, self.salt = params
        self._hashes: dict[dns.name.Name, bytes] = {}

    def hash(self, name: dns.name.Name) -> bytes:
        h = self._hashes.get(name)
        if h is None:
            text = dns.dnssec.nsec3_hash(name, self.salt, self.iterations, NSEC3_SHA1)
            h = self._hashes[name] = base64.b32hexdecode(text)
        return h

    def match(self, name: dns.name.Name) -> _N3 | None:
        h = self.hash(name)
        return next((n for n in self.records if n.digest == h), None)

    def cover(self, name: dns.name.Name) -> _N3 | None:
        h = self.hash(name)
        for n in self.records:
            nxt = n.rd.next
            if n.digest < nxt:
                if n.digest < h < nxt:
                    return n
            elif h > n.digest or h < nxt:  # the last NSEC3 wraps around
                return n
        return None

    def closest_encloser(
        self, name: dns.name.Name
    ) -> tuple[dns.name.Name, _N3, _N3] | Outcome:
        """RFC 5155 §8.3: the closest encloser of ``name`` (which must not exist), its NSEC3,
        and the NSEC3 covering the next closer name; or why there is no such proof."""
        if not name.is_subdomain(self.zone):
            return bogus(Ede.NSEC_MISSING, f"{name} is outside {self.zone}")
        nearer = name
        n = name
        while n != self.zone:
            nearer, n = n, n.parent()
            m = self.match(n)
            if m is None:
                continue
            if _is_delegation(m.types) or T.DNAME in m.types:
                return bogus(Ede.DNSSEC_BOGUS, f"NSEC3 closest encloser {n} is a cut or DNAME")
            cover = self.cover(nearer)
            if cover is None:
                return bogus(Ede.NSEC_MISSING, f"no NSEC3 covers the next closer name {nearer}")
            return n, m, cover
        return bogus(Ede.NSEC_MISSING, f"no NSEC3 closest encloser proof for {name}")

    def _nodata_types(self, name: dns.name.Name, types: frozenset[int], qtype: int) -> Outcome:
        if qtype in types:
            return bogus(Ede.NSEC_MISSING, f"the NSEC3 for {name} lists {_type(qtype)}")
        if T.CNAME in types and qtype != T.CNAME:
            return bogus(Ede.NSEC_MISSING, f"the NSEC3 for {name} lists CNAME")
        if qtype == T.DS:
            if T.SOA in types and name != dns.name.root:
                return bogus(Ede.DNSSEC_BOGUS, f"DS denied by the child side of {name}")
        elif _is_delegation(types):
            if T.DS not in types:
                # The name is an unsigned delegation: what lies there is insecure (Unbound:
                # val_nsec_proves_insecuredelegation, nsec3_do_prove_nodata).
                return insecure(f"{name} is an unsigned delegation (NS without DS)")
            return bogus(Ede.DNSSEC_BOGUS, f"NODATA from the parent side of the cut at {name}")
        return secure(f"NSEC3 NODATA for {name} {_type(qtype)}")

    def nxdomain(self, qname: dns.name.Name) -> Outcome:
        if self.match(qname) is not None:
            return bogus(Ede.NSEC_MISSING, f"an NSEC3 says {qname} exists")
        proof = self.closest_encloser(qname)
        if isinstance(proof, Outcome):
            return proof
        ce, _, cover = proof
        wild = _wild(ce)
        if self.match(wild) is not None:
            return bogus(Ede.NSEC_MISSING, f"{wild} exists: {qname} should have been expanded")
        if self.cover(wild) is None:
            return bogus(Ede.NSEC_MISSING, f"no NSEC3 proves {wild} does not exist")
        if cover.opt_out:
            return insecure(f"NSEC3 NXDOMAIN for {qname} rests on an opt-out span")
        return secure(f"NSEC3 NXDOMAIN for {qname}")

    def nodata(self, qname: dns.name.Name, qtype: int) -> Outcome:
        m = self.match(qname)
        if m is not None:
            return self._nodata_types(qname, m.types, qtype)
        proof = self.closest_encloser(qname)
        if isinstance(proof, Outcome):
            return proof
        ce, _, cover = proof
        wild = _wild(ce)
        wm = self.match(wild)
        if wm is not None and qtype != T.DS:
            out = self._nodata_types(wild, wm.types, qtype)
            if not out.secure:
                return out
            if cover.opt_out:
                # RFC 5155 §9.2: no AD when the closest encloser proof's next closer name
                # is covered by an opt-out NSEC3 (Unbound: insecure), wildcard NODATA too.
                return insecure(f"NSEC3 wildcard NODATA for {qname} rests on an opt-out span")
            return secure(f"NSEC3 wildcard NODATA for {qname} from {wild}")
        if cover.opt_out:
            return insecure(f"NSEC3 NODATA for {qname} rests on an opt-out span")
        return bogus(Ede.NSEC_MISSING, f"no NSEC3 matches {qname}")

    def no_ds(self, child: dns.name.Name) -> tuple[DsProof | None, Outcome]:
        m = self.match(child)
        if m is not None:
            if T.DS in m.types:
                return None, bogus(Ede.DNSSEC_BOGUS, f"the NSEC3 for {child} lists DS")
            if T.SOA in m.types:
                return None, bogus(Ede.DNSSEC_BOGUS, f"DS denied by the child side of {child}")
            if T.NS in m.types:
                return DsProof.INSECURE_DELEGATION, secure(f"NSEC3: {child} is unsigned")
            return DsProof.NOT_A_CUT, secure(f"NSEC3: {child} is no zone cut")
        proof = self.closest_encloser(child)
        if isinstance(proof, Outcome):
            return None, proof
        ce, _, cover = proof
        if cover.opt_out:
            return DsProof.OPT_OUT, insecure(f"NSEC3 opt-out span covers {child}")
        wm = self.match(_wild(ce))
        if wm is not None and T.DS not in wm.types:
            return DsProof.NAME_ABSENT, secure(f"NSEC3 wildcard NODATA for {child} DS")
        return None, bogus(Ede.NSEC_MISSING, f"no NSEC3 proves {child} has no DS")

    def wildcard_answer(self, owner: dns.name.Name, source: dns.name.Name) -> Outcome:
        if not owner.is_subdomain(source) or owner == source:
            return bogus(Ede.DNSSEC_BOGUS, f"{owner} is not below its wildcard's parent {source}")
        next_closer = owner.split(len(source) + 1)[1]
        cover = self.cover(next_closer)
        if cover is None:
            return bogus(Ede.NSEC_MISSING, f"no NSEC3 proves {next_closer} does not exist")
        if cover.opt_out:
            return insecure(f"NSEC3 wildcard proof for {owner} rests on an opt-out span")
        return secure(f"NSEC3 wildcard proof for {owner}")


def _nsec3_limit(n3: _Nsec3, max_iterations: int, bogus_above: int | None) -> Outcome | None:
    if bogus_above is not None and n3.iterations > bogus_above:
        return bogus(
            Ede.UNSUPPORTED_NSEC3_ITERATIONS,
            f"NSEC3 iterations {n3.iterations} above {bogus_above}",
        )
    if n3.iterations > max_iterations:
        return insecure(
            f"NSEC3 iterations {n3.iterations} above {max_iterations}",
            Ede.UNSUPPORTED_NSEC3_ITERATIONS,
        )
    return None


@dataclass(frozen=True)
class Limits:
    """NSEC3 iteration limits: above ``max_iterations`` insecure (EDE 27); above
    ``bogus_above`` (if set) bogus, as RFC 9276 §3.2 allows."""

    max_iterations: int = NSEC3_MAX_ITERATIONS
    bogus_above: int | None = None


DEFAULT_LIMITS = Limits()


def _dispatch(
    proofs: Sequence[dns.rrset.RRset], zone: dns.name.Name, limits: Limits
) -> _Nsec | _Nsec3 | Outcome:
    nsecs, nsec3s = _split(proofs, zone)
    if nsecs:
        return _Nsec(nsecs, zone)
    if nsec3s:
        n3 = _Nsec3(nsec3s, zone)
        if not n3.records:
            return bogus(Ede.NSEC_MISSING, "no usable NSEC3 record (algorithm, flags, owner)")
        limit = _nsec3_limit(n3, limits.max_iterations, limits.bogus_above)
        return limit if limit is not None else n3
    return bogus(Ede.NSEC_MISSING, f"no NSEC or NSEC3 records from {zone}")


def prove_nxdomain(
    qname: dns.name.Name,
    zone: dns.name.Name,
    proofs: Sequence[dns.rrset.RRset],
    limits: Limits = DEFAULT_LIMITS,
) -> Outcome:
    """Do ``proofs`` (verified NSEC/NSEC3 RRsets of ``zone``) prove ``qname`` does not exist?

    NSEC: one NSEC covers the name, one covers the wildcard at the closest encloser.
    NSEC3: a closest-encloser proof and a covered wildcard; insecure when the next closer
    name lies in an opt-out span.
    """
    checker = _dispatch(proofs, zone, limits)
    if isinstance(checker, Outcome):
        return checker
    return checker.nxdomain(qname)


def prove_nodata(
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    proofs: Sequence[dns.rrset.RRset],
    limits: Limits = DEFAULT_LIMITS,
) -> Outcome:
    """Do ``proofs`` prove ``qname`` exists without ``qtype`` (or CNAME)?

    Covers the record at the name, empty non-terminals and wildcard NODATA; for DS, a proof
    of an insecure delegation is a secure NODATA, an opt-out span an insecure one.
    """
    checker = _dispatch(proofs, zone, limits)
    if isinstance(checker, Outcome):
        return checker
    if qtype == T.DS and qname != dns.name.root:
        return checker.no_ds(qname)[1]
    # (The root has no parent: its own apex NSEC/NSEC3, SOA and all, denies a DS there.)
    return checker.nodata(qname, qtype)


def prove_no_ds(
    child: dns.name.Name,
    zone: dns.name.Name,
    proofs: Sequence[dns.rrset.RRset],
    limits: Limits = DEFAULT_LIMITS,
    *,
    nxdomain: bool = False,
) -> tuple[DsProof | None, Outcome]:
    """What a denial of ``child``'s DS (a NODATA, or an NXDOMAIN when ``nxdomain``) from
    ``zone`` says about a zone cut at ``child``; ``None`` with a bogus outcome when it proves
    nothing, ``None`` with an insecure outcome when NSEC3 iterations are too many."""
    checker = _dispatch(proofs, zone, limits)
    if isinstance(checker, Outcome):
        return None, checker
    if nxdomain:
        out = checker.nxdomain(child)
        if out.secure:
            return DsProof.NAME_ABSENT, out
        if out.security is Security.INSECURE:
            return DsProof.OPT_OUT, out
        return None, out
    return checker.no_ds(child)


def prove_wildcard_answer(
    owner: dns.name.Name,
    source: dns.name.Name,
    zone: dns.name.Name,
    proofs: Sequence[dns.rrset.RRset],
    limits: Limits = DEFAULT_LIMITS,
) -> Outcome:
    """An RRset at ``owner`` was expanded from the wildcard ``*.source`` (its RRSIG labels
    say so): do ``proofs`` show ``owner`` itself does not exist and no closer name does?"""
    checker = _dispatch(proofs, zone, limits)
    if isinstance(checker, Outcome):
        return checker
    return checker.wildcard_answer(owner, source)


def signer_of(sigs: dns.rrset.RRset | None) -> dns.name.Name | None:
    """The signer of an RRSIG RRset (the first signature's; they agree in practice)."""
    if sigs is None:
        return None
    for sig in sigs:
        if isinstance(sig, RRSIG):
            return sig.signer
    return None
