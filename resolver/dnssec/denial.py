"""Denial of existence: NSEC (RFC 4035 §5.4) and NSEC3 (RFC 5155 §8) proofs, pure.

:func:`prove_nxdomain`, :func:`prove_nodata`, :func:`prove_no_ds` and
:func:`prove_wildcard_answer` check proofs made of NSEC or NSEC3 RRsets whose signatures
have already been verified, including empty non-terminals, wildcard NODATA, closest-encloser
proofs and opt-out; NSEC3 with more than :data:`NSEC3_MAX_ITERATIONS` iterations make the
answer insecure (RFC 9276 §3.2, as Unbound 1.17 does).  :class:`NsecProofs` and
:class:`Nsec3Proofs` hold one zone's records of each kind and answer the questions; the
NSEC3 hashing is here too (:func:`nsec3_owner`), and the type bitmap reader the recursor
uses (:func:`bitmap_types`).

Results are :class:`~resolver.dnssec.verdicts.Outcome` values.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.name
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rrset

from resolver.cache import Security
from resolver.dnssec.limits import DEFAULT_LIMITS, NSEC3_MAX_ITERATIONS, Limits
from resolver.dnssec.verdicts import Ede, Outcome, bogus, insecure, secure, type_name

T = dns.rdatatype
NSEC = dns.rdtypes.ANY.NSEC.NSEC
NSEC3 = dns.rdtypes.ANY.NSEC3.NSEC3

__all__ = [
    "DEFAULT_LIMITS",
    "NSEC3_MAX_ITERATIONS",
    "DsProof",
    "Limits",
    "Nsec3Proofs",
    "NsecProofs",
    "bitmap_types",
    "nsec3_digest",
    "nsec3_owner",
    "nsec3_params",
    "nsec_closest_encloser",
    "nsec_covers",
    "prove_no_ds",
    "prove_nodata",
    "prove_nxdomain",
    "prove_wildcard_answer",
]

NSEC3_SHA1 = 1
NSEC3_OPT_OUT = 0x01

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


def _nodata_by_types(record: str, kind: str, name: dns.name.Name, types: frozenset[int],
                     qtype: int) -> Outcome:
    """What the types an NSEC or NSEC3 at ``name`` lists say of a NODATA for ``qtype``
    there; ``record`` names that record in the texts ("the NSEC at"), ``kind`` the proof."""
    if qtype in types:
        return bogus(Ede.NSEC_MISSING, f"{record} {name} lists {type_name(qtype)}")
    if T.CNAME in types and qtype != T.CNAME:
        return bogus(Ede.NSEC_MISSING, f"{record} {name} lists CNAME")
    if qtype == T.DS:
        if T.SOA in types and name != dns.name.root:
            return bogus(Ede.DNSSEC_BOGUS, f"DS denied by the child side of {name}")
    elif _is_delegation(types):
        if T.DS not in types:
            # The name is an unsigned delegation: what lies there is insecure (Unbound:
            # val_nsec_proves_insecuredelegation, nsec3_do_prove_nodata).
            return insecure(f"{name} is an unsigned delegation (NS without DS)")
        return bogus(Ede.DNSSEC_BOGUS, f"NODATA from the parent side of the cut at {name}")
    return secure(f"{kind} NODATA for {name} {type_name(qtype)}")


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


class NsecProofs:
    """The NSEC records of one zone, as (owner, record, types listed)."""

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
        return _nodata_by_types("the NSEC at", "NSEC", name, types, qtype)

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
        return bogus(Ede.NSEC_MISSING, f"no NSEC proves {qname} {type_name(qtype)} NODATA")

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
class Nsec3Record:
    """One usable NSEC3 record: its owner's hash (decoded), the record, the types listed."""

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


NSEC3_HASH_MEMO = 4096
"""NSEC3 hashes remembered (by name, salt and iterations): a zone's apex, its wildcard and
the closest enclosers come back query after query; ~0.5 MB at most."""

_nsec3_memo: OrderedDict[tuple[bytes, bytes, int], bytes] = OrderedDict()


def nsec3_digest(name: dns.name.Name, salt: bytes, iterations: int) -> bytes:
    """The SHA-1 NSEC3 hash of ``name`` (RFC 5155 §5), the raw 20 bytes.  A pure function of
    its arguments, so the last :data:`NSEC3_HASH_MEMO` results are kept (process-wide: a
    hash says nothing about any resolver's state); hashing is the iterations' SHA-1 work,
    done once per name, not once per proof."""
    wire = b"".join(bytes((len(label),)) + label.lower() for label in name.labels)
    key = (wire, salt, iterations)
    digest = _nsec3_memo.get(key)
    if digest is not None:
        _nsec3_memo.move_to_end(key)
        return digest
    digest = hashlib.sha1(wire + salt).digest()
    for _ in range(iterations):
        digest = hashlib.sha1(digest + salt).digest()
    _nsec3_memo[key] = digest
    if len(_nsec3_memo) > NSEC3_HASH_MEMO:
        _nsec3_memo.popitem(last=False)
    return digest


def nsec3_owner(name: dns.name.Name, zone: dns.name.Name,
                params: tuple[int, int, bytes]) -> dns.name.Name:
    """The NSEC3 owner name ``name`` hashes to in ``zone`` (RFC 5155 §5; SHA-1, the only
    algorithm :func:`nsec3_params` accepts)."""
    _, iterations, salt = params
    label = base64.b32hexencode(nsec3_digest(name, salt, iterations)).lower()
    return dns.name.Name((label,) + zone.labels)


class Nsec3Proofs:
    """The usable NSEC3 records of one zone: SHA-1, known flags, one parameter set."""

    def __init__(self, rrsets: list[dns.rrset.RRset], zone: dns.name.Name) -> None:
        self.zone = zone
        self.records: list[Nsec3Record] = []
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
                self.records.append(Nsec3Record(digest, rd, bitmap_types(rd.windows)))
        if params is not None:
            self.iterations, self.salt = params
        self._hashes: dict[dns.name.Name, bytes] = {}

    def hash(self, name: dns.name.Name) -> bytes:
        h = self._hashes.get(name)
        if h is None:
            h = self._hashes[name] = nsec3_digest(name, self.salt, self.iterations)
        return h

    def match(self, name: dns.name.Name) -> Nsec3Record | None:
        h = self.hash(name)
        return next((n for n in self.records if n.digest == h), None)

    def cover(self, name: dns.name.Name) -> Nsec3Record | None:
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
    ) -> tuple[dns.name.Name, Nsec3Record, Nsec3Record] | Outcome:
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
        return _nodata_by_types("the NSEC3 for", "NSEC3", name, types, qtype)

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


def _nsec3_limit(n3: Nsec3Proofs, max_iterations: int, bogus_above: int | None) -> Outcome | None:
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


def _dispatch(
    proofs: Sequence[dns.rrset.RRset], zone: dns.name.Name, limits: Limits
) -> NsecProofs | Nsec3Proofs | Outcome:
    nsecs, nsec3s = _split(proofs, zone)
    if nsecs:
        return NsecProofs(nsecs, zone)
    if nsec3s:
        n3 = Nsec3Proofs(nsec3s, zone)
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

