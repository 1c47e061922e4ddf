"""DS and DNSKEY: which keys a zone's DS RRset or trust anchors vouch for (RFC 4035 §5.2).

:func:`verify_dnskeys` takes a DNSKEY RRset from a DS RRset or from trust anchors: DS records
with an unsupported algorithm or digest are ignored, and when none is left the zone is
insecure, not bogus (RFC 4035 §5.2, RFC 6840 §5.2).  Any usable DS may authenticate a key,
whatever its digest, unless harden-algo-downgrade is on: then only the DS records of the
strongest digest count (RFC 4509 §3's "ignore SHA-1 beside SHA-256"), as Unbound does
(val_verify_DNSKEY_with_DS: without it "accept any key algo, any digest algo"; with it
val_favorite_ds_algo; unbound.conf(5): "If no, allows the weakest algorithm to validate the
zone").  Pure, like :mod:`resolver.dnssec.signatures`.
The walk down the chain of trust that fetches these records is
:mod:`resolver.dnssec.chain`'s; the anchors themselves are :mod:`resolver.dnssec.anchors`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dns.dnssec
import dns.dnssectypes
import dns.name
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rrset

from resolver.dnssec.signatures import (
    SKEW_BOUNDS,
    SUPPORTED_ALGORITHMS,
    SigCheck,
    SignatureMemo,
    each_algorithm,
    is_zone_key,
    verify_rrset,
)
from resolver.dnssec.verdicts import Ede, Outcome, bogus, insecure, secure

DNSKEY = dns.rdtypes.ANY.DNSKEY.DNSKEY
DS = dns.rdtypes.ANY.DS.DS

__all__ = [
    "SUPPORTED_DIGESTS",
    "KeyCheck",
    "ds_matches_key",
    "usable_ds",
    "verify_dnskeys",
]

SUPPORTED_DIGESTS = frozenset({1, 2, 4})
"""DS digest types we check: SHA-1 (1), SHA-256 (2), SHA-384 (4). GOST (3) and unknown
digests are unsupported (a DS set with only those makes the zone insecure)."""


@dataclass(frozen=True)
class KeyCheck:
    """A DNSKEY RRset's verdict; ``keys`` and ``ttl`` are set when it is secure."""

    outcome: Outcome
    keys: dns.rrset.RRset | None = None
    ttl: int | None = None
    # with harden-algo-downgrade: the DS (or anchor) algorithms the set was proved for
    algorithms: frozenset[int] = frozenset()


def usable_ds(ds_records: Iterable[DS],
              strongest_digest_only: bool = False) -> tuple[list[DS], Outcome | None]:
    """The DS records to check keys against, or an insecure outcome when none is usable.

    Unsupported algorithms and digests are ignored (RFC 6840 §5.2); when none is left the
    zone is insecure, with EDE 1 or 2.  With ``strongest_digest_only`` (harden-algo-downgrade)
    only the records of the highest supported digest type stay (Unbound's
    val_favorite_ds_algo, RFC 4509 §3), so a downgrade to SHA-1 cannot be forced; without it
    every usable record counts, as Unbound's default.
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
    if strongest_digest_only:
        favourite = max(d.digest_type for d in usable)
        usable = [d for d in usable if d.digest_type == favourite]
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
    memo: SignatureMemo | None = None,
    skew_bounds: tuple[int, int] = SKEW_BOUNDS,
    all_algorithms: bool = False,
) -> KeyCheck:
    """Is ``zone``'s DNSKEY RRset authentic, given a DS set or trust-anchor keys?

    The keys that a usable DS (or an anchor key) points at are trusted, whatever their SEP
    flag (RFC 4035 §5.2); the RRset is secure when one of them signs it.  No supported DS
    or anchor: insecure (EDE 1/2).  No key matching: bogus (EDE 9).  With
    ``all_algorithms`` (Unbound's harden-algo-downgrade) only the DS records of the strongest
    digest count, and every algorithm of them (or of the anchor keys) must have a matching
    key whose signature verifies.
    """
    ds_list = list(ds)
    anchors = [k for k in anchor_keys if k.algorithm in SUPPORTED_ALGORITHMS]
    usable: list[DS] = []
    if ds_list:
        usable, early = usable_ds(ds_list, strongest_digest_only=all_algorithms)
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
    def one(subset: dns.rrset.RRset | None, keys: list[DNSKEY]) -> SigCheck:
        return verify_rrset(dnskeys, subset, keys, zone, now, unchecked, ignore_dates, memo,
                            skew_bounds)

    algorithms = frozenset({d.algorithm for d in usable} | {a.algorithm for a in anchors})
    if all_algorithms and len(algorithms) > 1:
        check = each_algorithm(one, dnskeys, sigs, trusted, algorithms)
    else:
        check, algorithms = one(sigs, trusted), frozenset()
    if not check.outcome.secure:
        return KeyCheck(check.outcome)
    return KeyCheck(secure(f"DNSKEY {zone} verified"), dnskeys, check.ttl, algorithms)

