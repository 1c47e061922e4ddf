"""Keys and signatures for lab zones, made fresh at every start with real cryptography.

A :class:`ZoneSigner` holds a zone's keys (one combined key, or a KSK and a ZSK) and signs
RRsets the way its signing mode asks: properly, with an expired or not-yet-valid validity
window, or over different data (a signature that does not verify).  ``stripped`` zones are
signed like good ones; the server leaves the signatures out of its answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dns.dnssec
import dns.dnssectypes
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.RRSIG
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from lab.world import SigningDef

# Online signatures start an hour in the past: a resolver whose clock lags a little must not
# call them "not yet valid".
INCEPTION_SKEW = 3600
VALIDITY = 30 * 86400
DAY = 86400

Alg = dns.dnssectypes.Algorithm


def generate_private_key(algorithm: dns.dnssectypes.Algorithm) -> Any:
    if algorithm in (Alg.RSASHA256, Alg.RSASHA512):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == Alg.ECDSAP256SHA256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == Alg.ECDSAP384SHA384:
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == Alg.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == Alg.ED448:
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"cannot generate keys for {algorithm.name}")


@dataclass
class Key:
    private: Any
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY

    @property
    def tag(self) -> int:
        return dns.dnssec.key_id(self.dnskey)


@dataclass
class ZoneSigner:
    origin: dns.name.Name
    spec: SigningDef
    ksk: Key
    zsk: Key
    now: int  # signatures are valid around this time (seconds since the epoch)

    @classmethod
    def create(cls, origin: dns.name.Name, spec: SigningDef, now: int | None = None) -> ZoneSigner:
        def make(flags: int) -> Key:
            private = generate_private_key(spec.algorithm)
            return Key(private, dns.dnssec.make_dnskey(private.public_key(), spec.algorithm, flags))

        ksk = make(257)
        zsk = make(256) if spec.split_keys else ksk
        return cls(origin, spec, ksk, zsk, int(time.time()) if now is None else now)

    @property
    def dnskeys(self) -> list[dns.rdtypes.ANY.DNSKEY.DNSKEY]:
        return [self.ksk.dnskey] if self.ksk is self.zsk else [self.ksk.dnskey, self.zsk.dnskey]

    def ds(self, digest: str = "SHA256") -> dns.rdtypes.ANY.DS.DS:
        return dns.dnssec.make_ds(self.origin, self.ksk.dnskey, digest)

    def window(self) -> tuple[int, int]:
        """(inception, expiration) for this zone's signing mode."""
        # Validators allow clock skew (Unbound: 10% of the validity period, at most a day),
        # so broken windows sit a week clear of now.
        if self.spec.mode == "expired":
            return self.now - VALIDITY, self.now - 7 * DAY
        if self.spec.mode == "not_yet_valid":
            return self.now + 7 * DAY, self.now + VALIDITY
        return self.now - INCEPTION_SKEW, self.now + VALIDITY

    def sign(self, rrset: dns.rrset.RRset) -> dns.rrset.RRset:
        """RRSIGs for ``rrset`` as an RRset of its own (DNSKEY sets are signed by the KSK)."""
        keys = [self.ksk] if rrset.rdtype == dns.rdatatype.DNSKEY else [self.zsk]
        if rrset.rdtype == dns.rdatatype.DNSKEY and self.zsk is not self.ksk:
            keys.append(self.zsk)
        inception, expiration = self.window()
        tamper = self.spec.mode == "bad_signature" and rrset.rdtype != dns.rdatatype.DNSKEY
        target = (_tampered(rrset) if tamper else None) or rrset
        sigs = dns.rrset.RRset(rrset.name, rrset.rdclass, dns.rdatatype.RRSIG, dns.rdatatype.NONE)
        for key in keys:
            sig = dns.dnssec.sign(
                target,
                key.private,
                self.origin,
                key.dnskey,
                inception=inception,
                expiration=expiration,
                deterministic=False,
            )
            if tamper and target is rrset:
                sig = _corrupt(sig)
            sigs.add(sig, rrset.ttl)
        sigs.covers = rrset.rdtype
        return sigs


def _tampered(rrset: dns.rrset.RRset) -> dns.rrset.RRset | None:
    """Other data under the same owner and type, for a signature 'over other data'.

    None for types where no plausible substitute exists; the caller then corrupts the
    signature bytes instead, which fails validation the same way.
    """
    substitutes = {dns.rdatatype.A: "192.0.2.66", dns.rdatatype.AAAA: "2001:db8::66"}
    text = substitutes.get(rrset.rdtype)
    if text is None:
        return None
    other = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
    other.add(dns.rdata.from_text(rrset.rdclass, rrset.rdtype, text), rrset.ttl)
    return other


def _corrupt(sig: dns.rdtypes.ANY.RRSIG.RRSIG) -> dns.rdtypes.ANY.RRSIG.RRSIG:
    raw = bytearray(sig.signature)
    raw[len(raw) // 2] ^= 0xFF
    corrupted = sig.replace(signature=bytes(raw))
    assert isinstance(corrupted, dns.rdtypes.ANY.RRSIG.RRSIG)
    return corrupted


def rdataset_of(rrset: dns.rrset.RRset) -> dns.rdataset.Rdataset:
    rds = dns.rdataset.Rdataset(rrset.rdclass, rrset.rdtype, rrset.covers)
    rds.update(rrset)
    rds.ttl = rrset.ttl
    return rds
