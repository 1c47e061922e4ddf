"""Pure DNSSEC checks (resolver.dnssec: signatures, keys, denial) on zones signed here.

Each proof type gets a positive case and negative cases that must fail: a proof that covers
some other name, a missing wildcard denial, a record listing the type, an ancestor
delegation, the wrong side of a cut.  Signatures are checked against a fixed clock.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dns.dnssec
import dns.dnssectypes
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.util
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from resolver.cache import Security
from resolver.dnssec.denial import (
    NSEC3_MAX_ITERATIONS,
    DsProof,
    Limits,
    bitmap_types,
    nsec_covers,
    prove_no_ds,
    prove_nodata,
    prove_nxdomain,
    prove_wildcard_answer,
)
from resolver.dnssec.keys import usable_ds, verify_dnskeys
from resolver.dnssec.signatures import SKEW_MAX_S, SignatureMemo, check_time, verify_rrset
from resolver.dnssec.verdicts import Ede

T = dns.rdatatype
IN = dns.rdataclass.IN
Alg = dns.dnssectypes.Algorithm
N = dns.name.from_text

NOW = 1_700_000_000
INCEPTION = NOW - 3600
EXPIRATION = NOW + 30 * 86400
DAY = 86400

# -- a signed zone, built and signed here ----------------------------------------------------------


@dataclass
class Key:
    private: Any
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY

    @property
    def tag(self) -> int:
        return dns.dnssec.key_id(self.dnskey)


def private_key(alg: Alg) -> Any:
    if alg in (Alg.RSASHA1, Alg.RSASHA256, Alg.RSASHA512, Alg.RSASHA1NSEC3SHA1):
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if alg == Alg.ECDSAP256SHA256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == Alg.ECDSAP384SHA384:
        return ec.generate_private_key(ec.SECP384R1())
    if alg == Alg.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(alg)


def make_key(alg: Alg = Alg.ECDSAP256SHA256, flags: int = 256) -> Key:
    private = private_key(alg)
    return Key(private, dns.dnssec.make_dnskey(private.public_key(), alg, flags))


def sign(
    rrset: dns.rrset.RRset,
    key: Key,
    signer: dns.name.Name,
    inception: int = INCEPTION,
    expiration: int = EXPIRATION,
) -> dns.rrset.RRset:
    sig = dns.dnssec.sign(rrset, key.private, signer, key.dnskey, inception=inception,
                          expiration=expiration)
    out = dns.rrset.RRset(rrset.name, IN, T.RRSIG, rrset.rdtype)
    out.add(sig, rrset.ttl)
    return out


def rrset_of(owner: dns.name.Name, ttl: int, rdtype: int, *texts: str,
             origin: dns.name.Name | None = None) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(owner, ttl, IN, T.RdataType.make(rdtype), texts,
                                    origin=origin or dns.name.root, relativize=False)


def renamed(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    return out


def _bitmap(types: set[int]) -> Sequence[tuple[int, bytes]]:
    return dns.rdtypes.util.Bitmap.from_rdtypes(
        [T.RdataType.make(t) for t in sorted(types)]
    ).windows


class Zone:
    """A small signed zone: KSK + ZSK, records from text, an NSEC or NSEC3 chain.

    ``records`` lines are ``owner ttl type rdata`` with owners relative to the origin.  A
    non-apex owner with NS is a delegation (its NS and glue stay unsigned, its DS signed).
    """

    def __init__(
        self,
        origin: str,
        records: Sequence[str] = (),
        *,
        denial: str = "nsec",
        iterations: int = 0,
        salt: bytes = b"\xaa\xbb",
        opt_out: bool = False,
        alg: Alg = Alg.ECDSAP256SHA256,
    ) -> None:
        self.origin = N(origin)
        self.ksk = make_key(alg, 257)
        self.zsk = make_key(alg, 256)
        self.iterations = iterations
        self.salt = salt
        self.data: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self.add(self.origin, 300, T.SOA, f"ns.{origin} host.{origin} 1 7200 3600 1209600 300")
        self.add(self.origin, 300, T.NS, f"ns.{origin}")
        self.add(self.origin, 300, T.DNSKEY, self.ksk.dnskey.to_text(), self.zsk.dnskey.to_text())
        for line in records:
            label, ttl, type_text, rdata = line.split(maxsplit=3)
            name = self.origin if label == "@" else N(label, self.origin)
            self.add(name, int(ttl), T.from_text(type_text), rdata)
        self.cuts = {n for (n, t) in self.data if t == T.NS and n != self.origin}
        self.existing = {self.origin}
        for owner, _ in self.data:
            if any(owner.is_subdomain(c) and owner != c for c in self.cuts):
                continue  # glue
            n = owner
            while n != self.origin:
                self.existing.add(n)
                n = n.parent()
        self.nsec3: dict[bytes, dns.name.Name] = {}
        if denial == "nsec":
            self._nsec_chain()
        else:
            self._nsec3_chain(opt_out)
        self.sigs: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        for (owner, rdtype), rrset in self.data.items():
            if owner in self.cuts and rdtype not in (T.DS, T.NSEC):
                continue
            if any(owner.is_subdomain(c) and owner != c for c in self.cuts):
                continue
            key = self.ksk if rdtype == T.DNSKEY else self.zsk
            self.sigs[(owner, rdtype)] = sign(rrset, key, self.origin)

    def add(self, owner: dns.name.Name, ttl: int, rdtype: int, *texts: str) -> None:
        rrset = rrset_of(owner, ttl, rdtype, *texts, origin=self.origin)
        have = self.data.get((owner, rdtype))
        if have is None:
            self.data[(owner, rdtype)] = rrset
        else:
            have.update(rrset)

    def types_at(self, owner: dns.name.Name) -> set[int]:
        return {t for (n, t) in self.data if n == owner}

    def _nsec_chain(self) -> None:
        owners = sorted(n for n in self.existing if self.types_at(n))
        for i, owner in enumerate(owners):
            nxt = owners[(i + 1) % len(owners)]
            types = self.types_at(owner) | {T.NSEC, T.RRSIG}
            rd = dns.rdtypes.ANY.NSEC.NSEC(IN, T.NSEC, nxt, _bitmap(types))
            self.data[(owner, T.NSEC)] = dns.rrset.from_rdata(owner, 300, rd)

    def hash(self, name: dns.name.Name) -> bytes:
        return base64.b32hexdecode(
            dns.dnssec.nsec3_hash(name, self.salt, self.iterations, 1)
        )

    def hashed_owner(self, digest: bytes) -> dns.name.Name:
        label = base64.b32hexencode(digest).decode().lower().encode()
        return dns.name.Name((label,) + self.origin.labels)

    def _nsec3_chain(self, opt_out: bool) -> None:
        names = [
            n for n in self.existing
            if not (opt_out and n in self.cuts and T.DS not in self.types_at(n))
        ]
        by_hash = {self.hash(n): n for n in names}
        order = sorted(by_hash)
        for i, digest in enumerate(order):
            owner = by_hash[digest]
            types = self.types_at(owner)
            if types and not (owner in self.cuts and T.DS not in types):
                types = types | {T.RRSIG}
            rd = dns.rdtypes.ANY.NSEC3.NSEC3(
                IN, T.NSEC3, 1, 1 if opt_out else 0, self.iterations, self.salt,
                order[(i + 1) % len(order)], _bitmap(types),
            )
            hashed = self.hashed_owner(digest)
            self.data[(hashed, T.NSEC3)] = dns.rrset.from_rdata(hashed, 300, rd)
            self.nsec3[digest] = hashed

    # -- what tests pick from the zone ------------------------------------------------------

    def rrset(self, owner: str | dns.name.Name, rdtype: int) -> dns.rrset.RRset:
        name = owner if isinstance(owner, dns.name.Name) else N(owner, self.origin)
        return self.data[(name, rdtype)]

    def sig(self, owner: str | dns.name.Name, rdtype: int) -> dns.rrset.RRset:
        name = owner if isinstance(owner, dns.name.Name) else N(owner, self.origin)
        return self.sigs[(name, rdtype)]

    @property
    def keys(self) -> dns.rrset.RRset:
        return self.data[(self.origin, T.DNSKEY)]

    def nsec_at(self, name: str) -> dns.rrset.RRset:
        return self.rrset(name, T.NSEC)

    def nsec_covering(self, name: str) -> dns.rrset.RRset:
        target = N(name, self.origin)
        for (owner, rdtype), rrset in self.data.items():
            if rdtype == T.NSEC and owner != target and nsec_covers(owner, rrset[0].next, target):
                return rrset
        raise AssertionError(f"nothing covers {target}")

    def nsec3_match(self, name: str) -> dns.rrset.RRset:
        return self.data[(self.hashed_owner(self.hash(N(name, self.origin))), T.NSEC3)]

    def nsec3_cover(self, name: str) -> dns.rrset.RRset:
        h = self.hash(N(name, self.origin))
        order = sorted(self.nsec3)
        before = [d for d in order if d < h]
        digest = before[-1] if before else order[-1]
        assert digest != h, f"{name} has an NSEC3 of its own"
        return self.data[(self.nsec3[digest], T.NSEC3)]

    def ds(self, digest: str = "SHA256", key: Key | None = None) -> dns.rrset.RRset:
        rd = dns.dnssec.make_ds(self.origin, (key or self.ksk).dnskey, digest,
                                policy=dns.dnssec.allow_all_policy)
        return dns.rrset.from_rdata(self.origin, 300, rd)


NSEC_RECORDS = (
    "@ 300 MX 10 mail",
    "mail 300 A 192.0.2.1",
    "www 300 A 192.0.2.2",
    "*.wild 300 A 192.0.2.3",
    '*.wild 300 TXT "wildcard"',
    "x.y.ent 300 A 192.0.2.4",
    "sub 300 NS ns.sub",
    "ns.sub 300 A 192.0.2.53",
    "sec 300 NS ns.sec",
    "sec 300 DS 12345 13 2 " + "ab" * 32,
    "ns.sec 300 A 192.0.2.54",
)


@pytest.fixture(scope="module")
def nsec_zone() -> Zone:
    return Zone("example.", NSEC_RECORDS)


@pytest.fixture(scope="module")
def nsec3_zone() -> Zone:
    return Zone("example.", NSEC_RECORDS, denial="nsec3", iterations=3)


@pytest.fixture(scope="module")
def optout_zone() -> Zone:
    return Zone("example.", NSEC_RECORDS, denial="nsec3", opt_out=True)


Z = N("example.")

# -- signatures -----------------------------------------------------------------------------


def test_signed_rrset_is_secure_and_ttl_is_capped(nsec_zone: Zone) -> None:
    www = nsec_zone.rrset("www", T.A)
    check = verify_rrset(www, nsec_zone.sig("www", T.A), nsec_zone.keys, Z, NOW)
    assert check.outcome.security is Security.SECURE and check.wildcard is None
    assert check.ttl == 300
    inflated = dns.rrset.from_text("www.example.", 86400, "IN", "A", "192.0.2.2")
    check = verify_rrset(inflated, nsec_zone.sig("www", T.A), nsec_zone.keys, Z, NOW)
    assert check.outcome.secure and check.ttl == 300  # the original TTL caps a longer one
    late = verify_rrset(www, nsec_zone.sig("www", T.A), nsec_zone.keys, Z, EXPIRATION - 100)
    assert late.ttl == 100  # and so does the signature's expiration


def test_missing_tampered_and_foreign_signatures_are_bogus(nsec_zone: Zone) -> None:
    www = nsec_zone.rrset("www", T.A)
    sig = nsec_zone.sig("www", T.A)
    assert verify_rrset(www, None, nsec_zone.keys, Z, NOW).outcome.ede is Ede.RRSIGS_MISSING
    other = rrset_of(www.name, 300, T.A, "192.0.2.99")
    tampered = verify_rrset(other, sig, nsec_zone.keys, Z, NOW).outcome
    assert tampered.bogus and tampered.ede is Ede.DNSSEC_BOGUS
    stranger = make_key()
    stranger_keys = rrset_of(Z, 300, T.DNSKEY, stranger.dnskey.to_text())
    unknown = verify_rrset(www, sig, stranger_keys, Z, NOW).outcome
    assert unknown.bogus and unknown.ede is Ede.DNSKEY_MISSING
    wrong_zone = verify_rrset(www, sig, nsec_zone.keys, N("other."), NOW).outcome
    assert wrong_zone.bogus


@pytest.mark.parametrize(
    ("now", "ede"),
    [
        (EXPIRATION + 2 * DAY, Ede.SIGNATURE_EXPIRED),
        (INCEPTION - 2 * DAY, Ede.SIGNATURE_NOT_YET_VALID),
        (EXPIRATION + 3600, None),  # inside the skew allowance (a day for a 30-day window)
        (INCEPTION - 3600, None),
    ],
)
def test_signature_validity_window_with_skew(nsec_zone: Zone, now: int, ede: Ede | None) -> None:
    check = verify_rrset(nsec_zone.rrset("www", T.A), nsec_zone.sig("www", T.A),
                         nsec_zone.keys, Z, now)
    if ede is None:
        assert check.outcome.secure
    else:
        assert check.outcome.bogus and check.outcome.ede is ede
    assert SKEW_MAX_S == DAY


@pytest.mark.parametrize(
    ("inception", "expiration", "now", "ede"),
    [
        (1_000_000, 1_000_000 + 2**31 + 10 * DAY, 1_000_000 + DAY, Ede.DNSSEC_BOGUS),  # > 2^31
        (2**32 - 30 * DAY, 30 * DAY, 2**32 - DAY, None),  # across the wrap: valid
        (2**32 - 30 * DAY, 30 * DAY, 10 * DAY, None),  # the clock wrapped too
        (2**32 - 30 * DAY, 30 * DAY, 40 * DAY, Ede.SIGNATURE_EXPIRED),
        (2**32 - 30 * DAY, 30 * DAY, 2**32 - 40 * DAY, Ede.SIGNATURE_NOT_YET_VALID),
    ],
)
def test_signature_times_compare_in_serial_arithmetic(
    inception: int, expiration: int, now: int, ede: Ede | None,
) -> None:
    """RFC 4034 §3.1.5: RRSIG times compare in RFC 1982 serial number arithmetic."""
    sig = dns.rdata.from_text("IN", "RRSIG", f"A 15 3 3600 {expiration} {inception} 1 "
                              "example.com. AAAA")
    late = check_time(sig, now)  # type: ignore[arg-type]
    assert (late is None) if ede is None else (late is not None and late.ede is ede)


def test_dates_can_be_ignored(nsec_zone: Zone) -> None:
    """Unbound's val-override-date: -1: no validity window, no TTL cap by the expiration."""
    www, sig = nsec_zone.rrset("www", T.A), nsec_zone.sig("www", T.A)
    late = EXPIRATION + 20 * DAY
    assert verify_rrset(www, sig, nsec_zone.keys, Z, late).outcome.bogus
    check = verify_rrset(www, sig, nsec_zone.keys, Z, late, ignore_dates=True)
    assert check.outcome.secure and check.ttl == min(www.ttl, sig[0].original_ttl)
    assert verify_rrset(www, sig, [], Z, late, ignore_dates=True).outcome.bogus  # no key


def test_wildcard_expansion_is_reported_from_the_labels_field(nsec_zone: Zone) -> None:
    source = nsec_zone.rrset("*.wild", T.A)
    sig = nsec_zone.sig("*.wild", T.A)
    expanded = renamed(source, N("b.c.wild.example."))
    check = verify_rrset(expanded, renamed(sig, expanded.name), nsec_zone.keys, Z, NOW)
    assert check.outcome.secure and check.wildcard == N("wild.example.")
    # A labels field larger than the owner's label count cannot be right.
    short = renamed(source, N("wild.example."))
    assert verify_rrset(short, renamed(sig, short.name), nsec_zone.keys, Z, NOW).outcome.bogus


def test_rsasha1_still_validates_and_unknown_rrsig_algorithms_do_not() -> None:
    zone = Zone("sha1.", ["www 300 A 192.0.2.1"], alg=Alg.RSASHA1)
    www = zone.rrset("www", T.A)
    assert verify_rrset(www, zone.sig("www", T.A), zone.keys, zone.origin, NOW).outcome.secure
    rd = zone.sig("www", T.A)[0].replace(algorithm=253)
    odd = dns.rrset.from_rdata(www.name, 300, rd)
    assert verify_rrset(www, odd, zone.keys, zone.origin, NOW).outcome.bogus


def test_revoked_key_signs_only_the_dnskey_set() -> None:
    key = make_key(flags=256 | 0x80)
    owner = N("www.rev.")
    a = rrset_of(owner, 300, T.A, "192.0.2.1")
    keys = rrset_of(N("rev."), 300, T.DNSKEY, key.dnskey.to_text())
    assert verify_rrset(a, sign(a, key, N("rev.")), keys, N("rev."), NOW).outcome.bogus
    assert verify_rrset(keys, sign(keys, key, N("rev.")), keys, N("rev."), NOW).outcome.secure


# -- keys -----------------------------------------------------------------------------------


def test_dnskey_set_from_ds(nsec_zone: Zone) -> None:
    sigs = nsec_zone.sig("@", T.DNSKEY)
    for digest in ("SHA256", "SHA384", "SHA1"):
        ds = list(nsec_zone.ds(digest))
        check = verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, ds=ds)
        assert check.outcome.secure and check.keys == nsec_zone.keys, digest
    # A DS for a key the zone does not publish.
    stray = list(nsec_zone.ds(key=make_key(flags=257)))
    out = verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, ds=stray).outcome
    assert out.bogus and out.ede is Ede.DNSKEY_MISSING
    # No DNSKEY RRset at all.
    out = verify_dnskeys(Z, None, None, NOW, ds=list(nsec_zone.ds())).outcome
    assert out.bogus and out.ede is Ede.DNSKEY_MISSING


def test_sep_flag_does_not_matter_only_the_ds_does() -> None:
    # One key with flags 256 (no SEP) that the DS points at and that signs the DNSKEY set.
    key = make_key(flags=256)
    zone = N("nosep.")
    keys = rrset_of(zone, 300, T.DNSKEY, key.dnskey.to_text())
    ds = [dns.dnssec.make_ds(zone, key.dnskey, "SHA256")]
    assert verify_dnskeys(zone, keys, sign(keys, key, zone), NOW, ds=ds).outcome.secure


def test_dnskey_set_must_be_signed_by_a_key_the_ds_names(nsec_zone: Zone) -> None:
    zsk_only = sign(nsec_zone.keys, nsec_zone.zsk, Z)  # the DS names the KSK
    out = verify_dnskeys(Z, nsec_zone.keys, zsk_only, NOW, ds=list(nsec_zone.ds())).outcome
    assert out.bogus and out.ede is Ede.DNSKEY_MISSING


def test_unsupported_ds_algorithm_or_digest_is_insecure_not_bogus(nsec_zone: Zone) -> None:
    real = nsec_zone.ds()[0]
    private_alg = real.replace(algorithm=253)  # PRIVATEDNS
    gost = real.replace(digest_type=3)  # GOST R 34.11-94: not supported
    md5 = real.replace(algorithm=1)  # RSAMD5: RFC 8624 MUST NOT validate
    for records, ede in (([private_alg], Ede.UNSUPPORTED_DNSKEY_ALGORITHM),
                         ([md5], Ede.UNSUPPORTED_DNSKEY_ALGORITHM),
                         ([gost], Ede.UNSUPPORTED_DS_DIGEST)):
        out = verify_dnskeys(Z, nsec_zone.keys, nsec_zone.sig("@", T.DNSKEY), NOW,
                             ds=records).outcome
        assert out.security is Security.INSECURE and out.ede is ede
    # An unsupported DS beside a supported one is ignored (RFC 6840 §5.2).
    out = verify_dnskeys(Z, nsec_zone.keys, nsec_zone.sig("@", T.DNSKEY), NOW,
                         ds=[gost, real]).outcome
    assert out.secure


def test_sha1_ds_is_ignored_beside_sha256_only_when_hardened(nsec_zone: Zone) -> None:
    sha1 = nsec_zone.ds("SHA1")[0]
    bad256 = nsec_zone.ds("SHA256")[0].replace(digest=b"\x00" * 32)
    usable, early = usable_ds([sha1, bad256], strongest_digest_only=True)
    assert early is None and usable == [bad256]
    sigs = nsec_zone.sig("@", T.DNSKEY)
    out = verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, ds=[sha1, bad256],
                         all_algorithms=True).outcome
    assert out.bogus  # harden-algo-downgrade: no downgrade to SHA-1 (RFC 4509 §3)
    # by default any usable DS counts, the weakest digest too (Unbound's default,
    # unbound.conf(5) harden-algo-downgrade: "If no, allows the weakest algorithm")
    assert usable_ds([sha1, bad256]) == ([sha1, bad256], None)
    assert verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, ds=[sha1, bad256]).outcome.secure


def test_dnskey_trust_anchor(nsec_zone: Zone) -> None:
    sigs = nsec_zone.sig("@", T.DNSKEY)
    ok = verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, anchor_keys=[nsec_zone.ksk.dnskey])
    assert ok.outcome.secure
    wrong = verify_dnskeys(Z, nsec_zone.keys, sigs, NOW, anchor_keys=[make_key(flags=257).dnskey])
    assert wrong.outcome.bogus and wrong.outcome.ede is Ede.DNSKEY_MISSING


def colliding_keys() -> tuple[Key, Key]:
    """Two Ed25519 zone keys with the same key tag (a birthday search, about 300 keys)."""
    seen: dict[int, Key] = {}
    for _ in range(20_000):
        key = make_key(Alg.ED25519, 257)
        if key.tag in seen:
            return seen[key.tag], key
        seen[key.tag] = key
    raise AssertionError("no key tag collision found")


def test_key_tag_collision_is_resolved_by_digest_and_signature() -> None:
    first, second = colliding_keys()
    zone = N("collide.")
    assert first.tag == second.tag and first.dnskey != second.dnskey
    keys = rrset_of(zone, 300, T.DNSKEY, first.dnskey.to_text(), second.dnskey.to_text())
    # The DS names the second key; the set is signed by it: the first one with the same tag
    # must not stop the search.
    ds = [dns.dnssec.make_ds(zone, second.dnskey, "SHA256")]
    check = verify_dnskeys(zone, keys, sign(keys, second, zone), NOW, ds=ds)
    assert check.outcome.secure
    a = rrset_of(N("www.collide."), 300, T.A, "192.0.2.1")
    assert verify_rrset(a, sign(a, second, zone), keys, zone, NOW).outcome.secure
    assert verify_rrset(a, sign(a, first, zone), keys, zone, NOW).outcome.secure
    # A DS naming a third key with that tag (present in neither) matches nothing.
    only_first = rrset_of(zone, 300, T.DNSKEY, first.dnskey.to_text())
    out = verify_dnskeys(zone, only_first, sign(only_first, first, zone), NOW, ds=ds).outcome
    assert out.bogus and out.ede is Ede.DNSKEY_MISSING


# -- NSEC ---------------------------------------------------------------------------------------


def test_bitmap_types(nsec_zone: Zone) -> None:
    assert bitmap_types(nsec_zone.nsec_at("www")[0].windows) == {T.A, T.NSEC, T.RRSIG}


def test_nsec_nxdomain(nsec_zone: Zone) -> None:
    qname = N("nope.example.")
    proof = [nsec_zone.nsec_covering("nope"), nsec_zone.nsec_covering("*")]
    assert prove_nxdomain(qname, Z, proof).secure
    # Negative: an NSEC that covers some other name, or no wildcard denial.
    elsewhere = [nsec_zone.nsec_covering("zzz"), nsec_zone.nsec_covering("*")]
    assert N("zzz.example.") != qname
    out = prove_nxdomain(qname, Z, elsewhere)
    assert out.bogus and out.ede is Ede.NSEC_MISSING
    assert prove_nxdomain(qname, Z, [nsec_zone.nsec_covering("nope")]).bogus
    assert prove_nxdomain(qname, Z, []).ede is Ede.NSEC_MISSING
    # An existing name cannot be NXDOMAIN, nor a name a wildcard would have answered.
    assert prove_nxdomain(N("www.example."), Z, [nsec_zone.nsec_at("www")]).bogus
    wild_q = N("a.wild.example.")
    assert prove_nxdomain(wild_q, Z, [nsec_zone.nsec_covering("a.wild"),
                                      nsec_zone.nsec_at("*.wild")]).bogus
    # An empty non-terminal exists: its "NXDOMAIN" is wrong.
    assert prove_nxdomain(N("y.ent.example."), Z, [nsec_zone.nsec_covering("y.ent"),
                                                   nsec_zone.nsec_covering("*")]).bogus


def test_nsec_from_above_a_delegation_proves_nothing_below_it(nsec_zone: Zone) -> None:
    qname = N("x.sub.example.")  # under the unsigned delegation sub.example.
    proof = [nsec_zone.nsec_at("sub"), nsec_zone.nsec_covering("*")]
    assert nsec_covers(N("sub.example."), nsec_zone.nsec_at("sub")[0].next, qname)
    assert prove_nxdomain(qname, Z, proof).bogus


def test_nsec_nodata(nsec_zone: Zone) -> None:
    www = N("www.example.")
    assert prove_nodata(www, T.AAAA, Z, [nsec_zone.nsec_at("www")]).secure
    out = prove_nodata(www, T.A, Z, [nsec_zone.nsec_at("www")])  # the NSEC lists A
    assert out.bogus
    out = prove_nodata(www, T.AAAA, Z, [nsec_zone.nsec_at("mail")])  # another name's NSEC
    assert out.bogus and out.ede is Ede.NSEC_MISSING
    # The parent side of a cut says nothing about the child's data: that of an unsigned
    # delegation (no DS) makes it insecure, as in Unbound.
    sub = prove_nodata(N("sub.example."), T.A, Z, [nsec_zone.nsec_at("sub")])
    assert sub.security is Security.INSECURE


def test_nsec_empty_non_terminal(nsec_zone: Zone) -> None:
    ent = N("y.ent.example.")
    proof = [nsec_zone.nsec_covering("y.ent")]
    assert proof[0][0].next == N("x.y.ent.example.")
    assert prove_nodata(ent, T.A, Z, proof).secure
    assert prove_nodata(ent, T.A, Z, [nsec_zone.nsec_covering("nope")]).bogus


def test_nsec_wildcard_answer(nsec_zone: Zone) -> None:
    owner = N("a.wild.example.")
    source = N("wild.example.")
    assert prove_wildcard_answer(owner, source, Z, [nsec_zone.nsec_covering("a.wild")]).secure
    # Negative: the NSEC does not cover the owner (so it may exist).
    out = prove_wildcard_answer(owner, source, Z, [nsec_zone.nsec_covering("nope")])
    assert out.bogus
    # Negative: a closer encloser exists than the wildcard's parent.
    deep = N("q.x.y.ent.example.")
    out = prove_wildcard_answer(deep, N("ent.example."), Z,
                                [nsec_zone.nsec_covering("q.x.y.ent")])
    assert out.bogus


def test_nsec_wildcard_nodata(nsec_zone: Zone) -> None:
    qname = N("a.wild.example.")
    proof = [nsec_zone.nsec_covering("a.wild"), nsec_zone.nsec_at("*.wild")]
    assert prove_nodata(qname, T.MX, Z, proof).secure
    assert prove_nodata(qname, T.A, Z, proof).bogus  # the wildcard has A
    # Negative: no wildcard at the closest encloser of zz.www.example.
    assert prove_nodata(N("zz.www.example."), T.MX, Z,
                        [nsec_zone.nsec_covering("zz.www"), nsec_zone.nsec_at("*.wild")]).bogus


def test_nsec_no_ds(nsec_zone: Zone) -> None:
    def no_ds(child: str, proof: list[dns.rrset.RRset], nx: bool = False) -> DsProof | None:
        return prove_no_ds(N(child, Z), Z, proof, nxdomain=nx)[0]

    assert no_ds("sub", [nsec_zone.nsec_at("sub")]) is DsProof.INSECURE_DELEGATION
    assert no_ds("www", [nsec_zone.nsec_at("www")]) is DsProof.NOT_A_CUT
    assert no_ds("y.ent", [nsec_zone.nsec_covering("y.ent")]) is DsProof.NOT_A_CUT
    assert no_ds("nope", [nsec_zone.nsec_covering("nope"), nsec_zone.nsec_covering("*")],
                 nx=True) is DsProof.NAME_ABSENT
    # Negative: the NSEC lists DS, belongs to another name, or is the child's apex NSEC.
    assert no_ds("sec", [nsec_zone.nsec_at("sec")]) is None
    assert no_ds("sub", [nsec_zone.nsec_at("mail")]) is None
    child = Zone("sub.example.", ["www 300 A 192.0.2.9"])
    assert no_ds("sub", [child.nsec_at("@")]) is None
    assert prove_nodata(N("sub.example."), T.DS, Z, [nsec_zone.nsec_at("sub")]).secure


# -- NSEC3 ----------------------------------------------------------------------------------------


def test_nsec3_nxdomain_closest_encloser_proof(nsec3_zone: Zone) -> None:
    z = nsec3_zone
    qname = N("nope.example.")
    proof = [z.nsec3_match("@"), z.nsec3_cover("nope"), z.nsec3_cover("*")]
    assert prove_nxdomain(qname, Z, proof).secure
    # Negative: the next closer name is not covered (the cover is for another name).
    elsewhere = next(
        n for n in ("zzzz", "aaaa", "mmmm", "qqqq", "bbbb", "cccc")
        if z.nsec3_cover(n) != z.nsec3_cover("nope")
    )
    other = [z.nsec3_match("@"), z.nsec3_cover(elsewhere), z.nsec3_cover("*")]
    out = prove_nxdomain(qname, Z, other)
    assert out.bogus and out.ede is Ede.NSEC_MISSING
    # Negative: no closest encloser match, or no wildcard denial.
    assert prove_nxdomain(qname, Z, [z.nsec3_cover("nope"), z.nsec3_cover("*")]).bogus
    out = prove_nxdomain(qname, Z, [z.nsec3_match("@"), z.nsec3_cover("nope")])
    assert out.bogus and out.ede is Ede.NSEC_MISSING
    # Negative: the name has an NSEC3 of its own.
    assert prove_nxdomain(N("www.example."), Z, [z.nsec3_match("www")]).bogus


def test_nsec3_nodata_and_empty_non_terminal(nsec3_zone: Zone) -> None:
    z = nsec3_zone
    assert prove_nodata(N("www.example."), T.AAAA, Z, [z.nsec3_match("www")]).secure
    assert prove_nodata(N("www.example."), T.A, Z, [z.nsec3_match("www")]).bogus
    assert prove_nodata(N("www.example."), T.AAAA, Z, [z.nsec3_match("mail")]).bogus
    assert prove_nodata(N("y.ent.example."), T.A, Z, [z.nsec3_match("y.ent")]).secure
    parent_side = prove_nodata(N("sub.example."), T.A, Z, [z.nsec3_match("sub")])
    assert parent_side.security is Security.INSECURE  # the unsigned delegation's parent side


def test_nsec3_wildcard_answer(nsec3_zone: Zone) -> None:
    z = nsec3_zone
    owner, source = N("x.wild.example."), N("wild.example.")
    assert prove_wildcard_answer(owner, source, Z, [z.nsec3_cover("x.wild")]).secure
    deep = N("a.b.wild.example.")
    assert prove_wildcard_answer(deep, source, Z, [z.nsec3_cover("b.wild")]).secure
    # Negative: the NSEC3 covers some other name, not the next closer one.
    wrong = z.nsec3_match("www")
    assert prove_wildcard_answer(owner, source, Z, [wrong]).bogus
    assert prove_wildcard_answer(deep, source, Z, [z.nsec3_match("wild")]).bogus


def test_nsec3_wildcard_nodata(nsec3_zone: Zone) -> None:
    z = nsec3_zone
    qname = N("x.wild.example.")
    proof = [z.nsec3_match("wild"), z.nsec3_cover("x.wild"), z.nsec3_match("*.wild")]
    assert prove_nodata(qname, T.MX, Z, proof).secure
    assert prove_nodata(qname, T.TXT, Z, proof).bogus  # the wildcard has TXT
    # Negative: the wildcard's NSEC3 is missing.
    assert prove_nodata(qname, T.MX, Z, proof[:2]).bogus


def test_nsec3_no_ds_and_opt_out(nsec3_zone: Zone, optout_zone: Zone) -> None:
    z = nsec3_zone
    sub = N("sub.example.")
    assert prove_no_ds(sub, Z, [z.nsec3_match("sub")])[0] is DsProof.INSECURE_DELEGATION
    assert prove_no_ds(N("www.example."), Z, [z.nsec3_match("www")])[0] is DsProof.NOT_A_CUT
    assert prove_no_ds(N("sec.example."), Z, [z.nsec3_match("sec")])[0] is None  # lists DS
    # Opt-out: the unsigned delegation has no NSEC3; the span covering it has the flag.
    o = optout_zone
    proof = [o.nsec3_match("@"), o.nsec3_cover("sub")]
    kind, out = prove_no_ds(sub, Z, proof)
    assert kind is DsProof.OPT_OUT and out.security is Security.INSECURE
    assert prove_nodata(sub, T.DS, Z, proof).security is Security.INSECURE
    # Negative: without the opt-out flag the same shape proves nothing.
    plain = [z.nsec3_match("@"), z.nsec3_cover("sub.nope")]
    kind, out = prove_no_ds(N("sub.nope.example."), Z, plain)
    assert kind is None and out.bogus
    # An NXDOMAIN resting on an opt-out span is insecure, not secure.
    nx = [o.nsec3_match("@"), o.nsec3_cover("nope"), o.nsec3_cover("*")]
    assert prove_nxdomain(N("nope.example."), Z, nx).security is Security.INSECURE


@pytest.mark.parametrize("iterations", [NSEC3_MAX_ITERATIONS, NSEC3_MAX_ITERATIONS + 1])
def test_nsec3_iteration_limit(iterations: int) -> None:
    z = Zone("example.", NSEC_RECORDS, denial="nsec3", iterations=iterations)
    proof = [z.nsec3_match("@"), z.nsec3_cover("nope"), z.nsec3_cover("*")]
    out = prove_nxdomain(N("nope.example."), Z, proof)
    if iterations <= NSEC3_MAX_ITERATIONS:
        assert out.secure
    else:
        assert out.security is Security.INSECURE and out.ede is Ede.UNSUPPORTED_NSEC3_ITERATIONS
        harsh = prove_nxdomain(N("nope.example."), Z, proof, Limits(bogus_above=100))
        assert harsh.bogus and harsh.ede is Ede.UNSUPPORTED_NSEC3_ITERATIONS


def test_proof_records_verify_with_the_zone_keys(nsec3_zone: Zone) -> None:
    z = nsec3_zone
    for rrset in (z.nsec3_match("@"), z.nsec3_cover("nope")):
        assert verify_rrset(rrset, z.sig(rrset.name, T.NSEC3), z.keys, Z, NOW).outcome.secure


def test_nsec3_wildcard_nodata_over_an_opt_out_span_is_insecure(optout_zone: Zone) -> None:
    # RFC 5155 §9.2: no AD when the next closer name is covered by an opt-out NSEC3, for a
    # wildcard NODATA as for any closest encloser proof (Unbound: insecure).
    z = optout_zone
    qname = N("x.wild.example.")
    proof = [z.nsec3_match("wild"), z.nsec3_cover("x.wild"), z.nsec3_match("*.wild")]
    out = prove_nodata(qname, T.MX, Z, proof)
    assert out.security is Security.INSECURE
    assert prove_nodata(qname, T.TXT, Z, proof).bogus  # the wildcard has TXT: still bogus


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[dns.name.Name]:
    """The owners of the RRsets whose signatures went through the public-key check."""
    done: list[dns.name.Name] = []
    real = dns.dnssec.validate_rrsig

    def counted(rrset: dns.rrset.RRset, *args: object, **kwargs: object) -> None:
        done.append(rrset.name)
        real(rrset, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dns.dnssec, "validate_rrsig", counted)
    return done


def test_remembered_signature_checks_still_catch_changed_data(
    nsec_zone: Zone, checks: list[dns.name.Name]
) -> None:
    memo = SignatureMemo()
    www = nsec_zone.rrset("www", T.A)
    sig = nsec_zone.sig("www", T.A)
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=memo).outcome.secure
    done = len(checks)
    assert done == 1 and len(memo) == 1
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=memo).outcome.secure
    assert len(checks) == done  # remembered: no second public-key operation
    shouted = dns.rrset.from_text("WWW.EXAMPLE.", 300, "IN", "A",
                                  *(rd.to_text() for rd in www))
    assert verify_rrset(shouted, sig, nsec_zone.keys, Z, NOW, memo=memo).outcome.secure
    assert len(checks) == done  # the same canonical data: the same remembered proof
    swapped = rrset_of(www.name, 300, T.A, "192.0.2.99")
    assert verify_rrset(swapped, sig, nsec_zone.keys, Z, NOW, memo=memo).outcome.bogus
    assert len(checks) == done + 1  # changed data is checked again, and fails
    grown = rrset_of(www.name, 300, T.A, *(rd.to_text() for rd in www), "192.0.2.98")
    assert verify_rrset(grown, sig, nsec_zone.keys, Z, NOW, memo=memo).outcome.bogus
    assert len(checks) == done + 2 and len(memo) == 1  # failures are not remembered
    # the validity window is checked every time, remembered or not
    late = verify_rrset(www, sig, nsec_zone.keys, Z, EXPIRATION + 10**7, memo=memo).outcome
    assert late.ede is Ede.SIGNATURE_EXPIRED


def test_signed_data_digest_recalled_by_objects_is_the_digest(nsec_zone: Zone) -> None:
    """The digest recalled for the same RDATA, RRSIG and key objects is the one worked out;
    equal data in new objects gives the same digest, other data another one."""
    from resolver.dnssec import signatures

    www = nsec_zone.rrset("www", T.A)
    sig = next(iter(nsec_zone.sig("www", T.A)))
    keys = list(nsec_zone.keys)
    first = signatures.signed_data_digest(www, sig, keys)
    assert first == signatures._digest(www, sig, keys)
    assert signatures.signed_data_digest(www, sig, keys) == first  # recalled
    shouted = dns.rrset.from_text("WWW.EXAMPLE.", 300, "IN", "A", *(rd.to_text() for rd in www))
    assert signatures.signed_data_digest(shouted, sig, keys) == first  # new objects, same data
    swapped = rrset_of(www.name, 300, T.A, "192.0.2.99")
    assert signatures.signed_data_digest(swapped, sig, keys) \
        == signatures._digest(swapped, sig, keys) != first
    assert signatures.signed_data_digest(www, sig, keys[:1]) \
        == signatures._digest(www, sig, keys[:1])


def test_signature_memos_are_their_owners_and_none_means_no_memory(
    nsec_zone: Zone, checks: list[dns.name.Name]
) -> None:
    """What one resolver's memo holds saves another nothing; without a memo every check
    does the public-key work (the functions keep no state of their own)."""
    www = nsec_zone.rrset("www", T.A)
    sig = nsec_zone.sig("www", T.A)
    first, second = SignatureMemo(), SignatureMemo()
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=first).outcome.secure
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=second).outcome.secure
    assert len(checks) == 2 and len(first) == len(second) == 1
    for _ in range(2):
        assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW).outcome.secure
    assert len(checks) == 4
    small = SignatureMemo(capacity=1)
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=small).outcome.secure
    soa = nsec_zone.rrset("@", T.SOA)
    assert verify_rrset(soa, nsec_zone.sig("@", T.SOA), nsec_zone.keys, Z, NOW,
                        memo=small).outcome.secure
    assert len(small) == 1  # bounded: the oldest is forgotten
    assert verify_rrset(www, sig, nsec_zone.keys, Z, NOW, memo=small).outcome.secure
    assert len(checks) == 7  # www was forgotten, so checked again


def test_nodata_at_an_unsigned_delegation_is_insecure_and_at_a_signed_one_bogus() -> None:
    """An NSEC(3) at the name with NS and without SOA is the parent side of a cut: without
    DS the name is an unsigned delegation, so what lies there is insecure (Unbound:
    val_nsec_proves_insecuredelegation, nsec3_do_prove_nodata); with DS it is bogus."""
    zone = N("example.")
    unsafe = N("unsafe.example.")
    unsigned = dns.rrset.from_text(unsafe, 300, IN, T.NSEC, "v.example. NS RRSIG NSEC")
    signed = dns.rrset.from_text(unsafe, 300, IN, T.NSEC, "v.example. NS DS RRSIG NSEC")
    assert prove_nodata(unsafe, T.AAAA, zone, [unsigned]).security is Security.INSECURE
    assert prove_nodata(unsafe, T.AAAA, zone, [signed]).bogus
    hashed = dns.dnssec.nsec3_hash(unsafe, "", 1, 1).lower()
    for types, want in (("NS", Security.INSECURE), ("NS DS", Security.BOGUS)):
        n3 = dns.rrset.from_text(f"{hashed}.example.", 300, IN, T.NSEC3,
                                 f"1 0 1 - {hashed} {types}")
        assert prove_nodata(unsafe, T.AAAA, zone, [n3]).security is want
