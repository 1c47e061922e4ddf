"""DSA (algorithms 3 and 6) is validated, as Unbound does, not waved through as insecure.

RFC 8624 §3.1 says validators MUST NOT validate DSA, but Unbound (the reference) still does
whenever OpenSSL has DSA.  A zone whose DS names only DSA keys is therefore checked: good
signatures are secure, missing or broken ones bogus (Deckard's val_* scenarios anchored with
a DSA DS all expect SERVFAIL for broken data).
"""

from __future__ import annotations

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import dsa

from resolver.cache import Security
from resolver.dnssec.keys import usable_ds, verify_dnskeys
from resolver.dnssec.signatures import verify_rrset
from resolver.dnssec.verdicts import Ede

T = dns.rdatatype
IN = dns.rdataclass.IN
Z = dns.name.from_text("example.")
NOW = 1_700_000_000


@pytest.fixture(scope="module", params=[3, 6], ids=["DSA", "DSA-NSEC3-SHA1"])
def dsa_zone(request: pytest.FixtureRequest) -> tuple[dsa.DSAPrivateKey, dns.rrset.RRset, int]:
    private = dsa.generate_private_key(1024)
    key = dns.dnssec.make_dnskey(private.public_key(), request.param, 257)
    keys = dns.rrset.RRset(Z, IN, T.DNSKEY)
    keys.add(key, 3600)
    return private, keys, request.param


def _sign(rrset: dns.rrset.RRset, private: dsa.DSAPrivateKey,
          keys: dns.rrset.RRset) -> dns.rrset.RRset:
    sig = dns.dnssec.sign(rrset, private, Z, keys[0], inception=NOW - 3600,
                          expiration=NOW + 86400 * 30, policy=dns.dnssec.allow_all_policy)
    out = dns.rrset.RRset(rrset.name, IN, T.RRSIG, rrset.rdtype)
    out.add(sig, rrset.ttl)
    return out


def test_dsa_ds_is_usable_and_its_keys_validate(
    dsa_zone: tuple[dsa.DSAPrivateKey, dns.rrset.RRset, int],
) -> None:
    private, keys, alg = dsa_zone
    ds = dns.dnssec.make_ds(Z, keys[0], "SHA256", policy=dns.dnssec.allow_all_policy)
    assert usable_ds([ds]) == ([ds], None)  # not "unsupported algorithm -> insecure"
    check = verify_dnskeys(Z, keys, _sign(keys, private, keys), NOW, ds=[ds])
    assert check.outcome.secure, check.outcome
    www = dns.rrset.from_text("www.example.", 300, IN, T.A, "192.0.2.1")
    assert verify_rrset(www, _sign(www, private, keys), keys, Z, NOW).outcome.secure


def test_dsa_zone_data_without_or_with_broken_signatures_is_bogus(
    dsa_zone: tuple[dsa.DSAPrivateKey, dns.rrset.RRset, int],
) -> None:
    private, keys, _ = dsa_zone
    ds = dns.dnssec.make_ds(Z, keys[0], "SHA256", policy=dns.dnssec.allow_all_policy)
    www = dns.rrset.from_text("www.example.", 300, IN, T.A, "192.0.2.1")
    missing = verify_rrset(www, None, keys, Z, NOW).outcome
    assert missing.bogus and missing.ede is Ede.RRSIGS_MISSING
    other = dns.rrset.from_text("www.example.", 300, IN, T.A, "192.0.2.2")
    forged = verify_rrset(other, _sign(www, private, keys), keys, Z, NOW).outcome
    assert forged.bogus and forged.ede is Ede.DNSSEC_BOGUS
    # A DER-encoded signature (not RFC 2536's T|R|S wire form) does not verify either.
    sig = _sign(keys, private, keys)
    rd = sig[0]
    der = dns.rrset.RRset(Z, IN, T.RRSIG, T.DNSKEY)
    der.add(rd.replace(signature=b"\x30\x2d" + rd.signature[:45]), 3600)
    out = verify_dnskeys(Z, keys, der, NOW, ds=[ds]).outcome
    assert out.security is Security.BOGUS


def test_unchecked_algorithms_skip_only_the_crypto(
    dsa_zone: tuple[dsa.DSAPrivateKey, dns.rrset.RRset, int],
) -> None:
    """Unbound's fake-sha1/fake-dsa: a forged signature of an unchecked algorithm passes,
    but everything else about it is still checked (window, key tag) and other algorithms
    are checked as before."""
    private, keys, alg = dsa_zone
    www = dns.rrset.from_text("www.example.", 300, IN, T.A, "192.0.2.1")
    other = dns.rrset.from_text("www.example.", 300, IN, T.A, "192.0.2.2")
    forged = _sign(www, private, keys)
    assert verify_rrset(other, forged, keys, Z, NOW).outcome.bogus
    assert verify_rrset(other, forged, keys, Z, NOW, frozenset({alg})).outcome.secure
    assert verify_rrset(other, forged, keys, Z, NOW, frozenset({8})).outcome.bogus
    late = verify_rrset(other, forged, keys, Z, NOW + 86400 * 60, frozenset({alg})).outcome
    assert late.bogus and late.ede is Ede.SIGNATURE_EXPIRED
    wrong_tag = dns.rrset.RRset(Z, IN, T.RRSIG, T.A)
    wrong_tag.add(forged[0].replace(key_tag=(forged[0].key_tag + 1) % 65536), 300)
    assert verify_rrset(other, wrong_tag, keys, Z, NOW, frozenset({alg})).outcome.bogus
