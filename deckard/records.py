"""Resource records and questions as written in ``.rpl`` files (one per line).

``owner [ttl] [class] type rdata`` for records (TTL and class in either order, default
3600 and IN) and ``owner [class] type`` for questions.  Names without a trailing dot are
made absolute against the root, in the owner and in the RDATA alike.  RDATA is parsed by
dnspython, so parentheses on one line and RFC 3597 ``\\#`` generic data work.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.ttl

DEFAULT_TTL = 3600
_TTL = re.compile(r"^\d+([smhdwSMHDW](\d+[smhdwSMHDW])*)?$")
_CLASSES = {"IN", "CH", "HS", "NONE", "ANY"}


class RecordError(ValueError):
    """A record or question line that does not parse (the caller adds file:line)."""


RdataType = dns.rdatatype.RdataType
RdataClass = dns.rdataclass.RdataClass


@dataclass(frozen=True)
class Question:
    name: dns.name.Name
    rdtype: RdataType
    rdclass: RdataClass = RdataClass.IN

    def to_text(self) -> str:
        return (
            f"{self.name} {dns.rdataclass.to_text(self.rdclass)} "
            f"{dns.rdatatype.to_text(self.rdtype)}"
        )


@dataclass(frozen=True)
class Record:
    """One resource record: the unit Deckard compares (TTL is kept but never compared)."""

    name: dns.name.Name
    ttl: int
    rdclass: RdataClass
    rdtype: RdataType
    rdata: dns.rdata.Rdata

    @property
    def covers(self) -> RdataType:
        return self.rdata.covers()

    def key(self) -> tuple[dns.name.Name, RdataClass, RdataType, bytes]:
        """Identity for comparison: owner case-insensitively, class, type, canonical RDATA."""
        return (
            self.name.canonicalize(),
            self.rdclass,
            self.rdtype,
            self.rdata.to_digestable(dns.name.root),
        )

    def to_text(self, ttl: bool = True) -> str:
        cls = dns.rdataclass.to_text(self.rdclass)
        typ = dns.rdatatype.to_text(self.rdtype)
        data = self.rdata.to_text(origin=None, relativize=False)
        if ttl:
            return f"{self.name}\t{self.ttl}\t{cls}\t{typ}\t{data}"
        return f"{self.name}\t{cls}\t{typ}\t{data}"

    def rrset(self) -> dns.rrset.RRset:
        rrset = dns.rrset.RRset(self.name, self.rdclass, self.rdtype, self.covers)
        rrset.add(self.rdata, self.ttl)
        return rrset


def _is_class(token: str) -> bool:
    upper = token.upper()
    return upper in _CLASSES or (upper.startswith("CLASS") and upper[5:].isdigit())


def _name(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text, origin=dns.name.root)
    except dns.exception.DNSException as e:
        raise RecordError(f"bad domain name {text!r}: {e}") from None


def _rdtype(token: str) -> RdataType:
    try:
        return dns.rdatatype.from_text(token)
    except dns.exception.DNSException:
        raise RecordError(f"unknown record type {token!r}") from None


def _inconsistent_ds(rdclass: RdataClass, rdtype: RdataType, text: str) -> dns.rdata.Rdata | None:
    """A DS whose digest length does not fit its digest type, kept as generic RDATA.

    dnspython refuses such a DS; scenarios use one on purpose (a trust anchor that must
    fail to match), and on the wire it is just bytes, so it is carried as it is.
    """
    if rdtype not in (dns.rdatatype.DS, dns.rdatatype.CDS):
        return None
    fields = text.split()
    if len(fields) < 4 or not fields[0].isdigit() or not fields[2].isdigit():
        return None
    try:
        algorithm = int(dns.dnssec.algorithm_from_text(fields[1]))
        digest = bytes.fromhex("".join(fields[3:]))
        wire = struct.pack("!HBB", int(fields[0]), algorithm, int(fields[2])) + digest
    except (ValueError, struct.error):
        return None
    return dns.rdata.GenericRdata(rdclass, rdtype, wire)


def _generic(rdclass: RdataClass, rdtype: RdataType, text: str) -> dns.rdata.Rdata | None:
    """RFC 3597 ``\\# length hex`` data that the type's own parser refuses (a malformed
    record written on purpose), kept as the bytes it says."""
    fields = text.split()
    if len(fields) < 2 or fields[0] != "\\#" or not fields[1].isdigit():
        return None
    try:
        wire = bytes.fromhex("".join(fields[2:]))
    except ValueError:
        return None
    if len(wire) != int(fields[1]):
        return None
    return dns.rdata.GenericRdata(rdclass, rdtype, wire)


def parse_question(text: str) -> Question:
    """``owner [class] type`` (the class may also follow the type)."""
    tokens = text.split()
    if len(tokens) < 2 or len(tokens) > 3:
        raise RecordError(f"a question is 'name [class] type', not {text.strip()!r}")
    name = _name(tokens[0])
    rdclass: RdataClass | None = None
    rdtype: RdataType | None = None
    for token in tokens[1:]:
        if _is_class(token) and rdclass is None and not (rdtype is None and len(tokens) == 2):
            rdclass = dns.rdataclass.from_text(token)
        elif rdtype is None:
            rdtype = _rdtype(token)
        else:
            raise RecordError(f"unexpected {token!r} in question {text.strip()!r}")
    assert rdtype is not None
    return Question(name, rdtype, rdclass if rdclass is not None else RdataClass.IN)


def parse_record(text: str) -> Record:
    """``owner [ttl] [class] type rdata`` on one line (comments already removed)."""
    parts = text.strip().split(maxsplit=1)
    if len(parts) < 2:
        raise RecordError(f"a record needs at least an owner and a type: {text.strip()!r}")
    name = _name(parts[0])
    rest = parts[1]
    ttl: int | None = None
    rdclass: RdataClass | None = None
    while True:
        head = rest.split(maxsplit=1)
        token = head[0]
        remainder = head[1] if len(head) > 1 else ""
        if ttl is None and _TTL.match(token):
            try:
                ttl = dns.ttl.from_text(token)
            except dns.exception.DNSException as e:
                raise RecordError(f"bad TTL {token!r}: {e}") from None
        elif rdclass is None and _is_class(token):
            rdclass = dns.rdataclass.from_text(token)
        else:
            break
        rest = remainder
        if not rest:
            raise RecordError(f"record has no type: {text.strip()!r}")
    rdtype = _rdtype(token)
    cls = rdclass if rdclass is not None else RdataClass.IN
    try:
        rdata = dns.rdata.from_text(
            cls, rdtype, remainder, origin=dns.name.root, relativize=False
        )
    except dns.exception.DNSException as e:
        generic = _inconsistent_ds(cls, rdtype, remainder) or _generic(cls, rdtype, remainder)
        if generic is None:
            raise RecordError(
                f"bad {dns.rdatatype.to_text(rdtype)} data {remainder.strip()!r}: {e}"
            ) from None
        rdata = generic
    except (ValueError, KeyError, IndexError) as e:  # some rdata parsers raise these
        raise RecordError(
            f"bad {dns.rdatatype.to_text(rdtype)} data {remainder.strip()!r}: {e}"
        ) from None
    return Record(name, DEFAULT_TTL if ttl is None else ttl, cls, rdtype, rdata)
