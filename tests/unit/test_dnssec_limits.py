"""NSEC3 iteration limits by key size (resolver.dnssec.limits), as Unbound's
val-nsec3-keysize-iterations picks them: the smallest zone key's size, rounded up to the
nearest listed size, the last limit above them all."""

from __future__ import annotations

import dns.dnssec
import dns.rdtypes.ANY.DNSKEY
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from resolver.dnssec.limits import Limits, key_bits

LIMITS = Limits(by_keysize=((1024, 10), (2048, 20), (4096, 30)))


def rsa_key(bits: int, flags: int = 257) -> dns.rdtypes.ANY.DNSKEY.DNSKEY:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    key = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.RSASHA256,
                                 flags=flags)
    assert isinstance(key, dns.rdtypes.ANY.DNSKEY.DNSKEY)
    return key


def ed_key() -> dns.rdtypes.ANY.DNSKEY.DNSKEY:
    key = dns.dnssec.make_dnskey(ed25519.Ed25519PrivateKey.generate().public_key(),
                                 dns.dnssec.Algorithm.ED25519, flags=257)
    assert isinstance(key, dns.rdtypes.ANY.DNSKEY.DNSKEY)
    return key


def test_key_sizes_as_unbound_counts_them() -> None:
    assert key_bits(8, rsa_key(2048).key) == 2048
    assert key_bits(15, ed_key().key) == 256
    assert key_bits(13, b"x" * 64) == 256 and key_bits(16, b"x" * 57) == 456
    assert key_bits(3, bytes([8]) + b"x" * 40) == (64 + 64) * 8  # DSA: T = 8
    assert key_bits(253, b"anything") == 0 and key_bits(8, b"") == 0


def test_the_smallest_zone_key_rounded_up_picks_the_limit() -> None:
    assert LIMITS.for_keys([ed_key()]).max_iterations == 10
    assert LIMITS.for_keys([rsa_key(2048)]).max_iterations == 20
    assert LIMITS.for_keys([rsa_key(2048), rsa_key(1024)]).max_iterations == 10
    # keys without the Zone Key bit do not count
    assert LIMITS.for_keys([rsa_key(2048), rsa_key(1024, flags=0)]).max_iterations == 20
    # above every listed size: the last limit
    assert Limits(by_keysize=((1024, 10), (2048, 20))).for_keys(
        [rsa_key(4096)]).max_iterations == 20
    assert LIMITS.lowest().max_iterations == 10


def test_one_limit_for_every_size_is_kept() -> None:
    plain = Limits(max_iterations=50)
    assert plain.for_keys([rsa_key(1024)]) is plain and plain.lowest() is plain
