"""NSEC3 iteration limits (RFC 9276 §3.2), optionally by the size of the zone's keys.

Unbound's val-nsec3-keysize-iterations: "List of keysize and iteration count values [...]
This determines the maximum allowed NSEC3 iteration count before a message is simply marked
insecure instead of performing the many hashing iterations.  The list must be in ascending
order" (unbound.conf(5)).  The size that counts is the smallest zone key of the zone that
signed the NSEC3 records, rounded up to the nearest listed size, the last one's limit above
them all (Unbound's val_kentry.c key_entry_keysize and val_nsec3.c get_max_iter).  Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import dns.rdata
import dns.rdtypes.ANY.DNSKEY

__all__ = ["DEFAULT_LIMITS", "NSEC3_MAX_ITERATIONS", "Limits", "key_bits"]

NSEC3_MAX_ITERATIONS = 150
"""NSEC3 proofs with more iterations than this are not computed: the answer is insecure with
EDE 27 (RFC 9276 §3.2; Unbound 1.17's val-nsec3-keysize-iterations is 150 for every key
size)."""

_ZONE_KEY = 0x0100
_RSA = frozenset({1, 5, 7, 8, 10})
_DSA = frozenset({3, 6})
_FIXED_BITS = {12: 512, 13: 256, 14: 384, 15: 256, 16: 456}
"""Key sizes of the algorithms whose size is fixed: ECC-GOST, ECDSA P-256/P-384, Ed25519,
Ed448 (as Unbound's sldns_rr_dnskey_key_size_raw counts them)."""


def key_bits(algorithm: int, key: bytes) -> int:
    """A DNSKEY's size in bits as Unbound counts it: an RSA key's modulus, a DSA key's
    (64 + T * 8) * 8, the fixed size of the elliptic-curve algorithms; 0 when unknown."""
    if algorithm in _RSA:
        if not key:
            return 0
        if key[0] == 0:  # RFC 3110 §2: a zero byte, then the exponent length in two bytes
            if len(key) < 3:
                return 0
            offset, exponent = 3, (key[1] << 8) | key[2]
        else:
            offset, exponent = 1, key[0]
        return max(0, len(key) - offset - exponent) * 8
    if algorithm in _DSA:
        return (64 + key[0] * 8) * 8 if key else 0
    return _FIXED_BITS.get(algorithm, 0)


@dataclass(frozen=True)
class Limits:
    """NSEC3 iteration limits: above ``max_iterations`` insecure (EDE 27); above
    ``bogus_above`` (if set) bogus, as RFC 9276 §3.2 allows.  With ``by_keysize`` ((bits,
    iterations) pairs, ascending) the limit depends on the signing zone's keys:
    :meth:`for_keys`."""

    max_iterations: int = NSEC3_MAX_ITERATIONS
    bogus_above: int | None = None
    by_keysize: tuple[tuple[int, int], ...] = ()

    def for_keys(self, keys: Iterable[dns.rdata.Rdata] | None) -> Limits:
        """The limits for a zone with these DNSKEYs: the smallest zone key's size, rounded
        up to the nearest listed size (the last limit for larger keys)."""
        if not self.by_keysize:
            return self
        sizes = [key_bits(k.algorithm, k.key) for k in keys or ()
                 if isinstance(k, dns.rdtypes.ANY.DNSKEY.DNSKEY) and k.flags & _ZONE_KEY]
        bits = min(sizes, default=0)
        limit = next((it for size, it in self.by_keysize if bits <= size),
                     self.by_keysize[-1][1])
        return dataclasses.replace(self, max_iterations=limit, by_keysize=())

    def lowest(self) -> Limits:
        """The strictest of the limits, for a use that does not know the zone's keys."""
        if not self.by_keysize:
            return self
        return dataclasses.replace(self, max_iterations=min(i for _, i in self.by_keysize),
                                   by_keysize=())


DEFAULT_LIMITS = Limits()
