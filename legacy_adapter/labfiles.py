"""Reading the lab's root hints and trust anchors (zone-file text).

The lab writes two small files for the references:

* ``root.hints``: ``. 3600000 IN NS a.root-servers.lab.`` plus one
  ``a.root-servers.lab. 3600000 IN A 127.53.0.1`` line per address;
* ``trust-anchor.ds``: one DS (or DNSKEY) record per anchor.

Both are zone-file text: ``;`` starts a comment, the TTL and class are optional
and may come in either order, a record may span lines inside ``( )``, a line
starting with blanks repeats the previous owner, and ``$TTL`` is accepted (and
ignored). Every problem is reported as :class:`LabFileError` naming the file
and the line where the record starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl

from legacy_adapter.errors import LabFileError
from netpolicy import PRODUCTION, AddressError, AddressPolicy

__all__ = [
    "ZoneLine",
    "parse_trust_anchor",
    "parse_zone_text",
    "read_root_hints",
    "read_trust_anchors",
]

ANCHOR_TYPES = (dns.rdatatype.DS, dns.rdatatype.DNSKEY)


@dataclass(frozen=True)
class ZoneLine:
    """One record read from zone-file text."""

    line: int
    owner: dns.name.Name
    ttl: int | None
    rdata: dns.rdata.Rdata

    @property
    def rdtype(self) -> dns.rdatatype.RdataType:
        return dns.rdatatype.RdataType.make(self.rdata.rdtype)

    def to_text(self, default_ttl: int = 3600) -> str:
        """Presentation format, with owner, TTL and class always present."""
        ttl = default_ttl if self.ttl is None else self.ttl
        rdtype = dns.rdatatype.to_text(self.rdtype)
        rdata = self.rdata.to_text(chunksize=0)  # one line: no blanks inside base64 or hex
        return f"{self.owner.to_text()} {ttl} IN {rdtype} {rdata}"


def _logical_lines(text: str, source: Path | str) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(first line number, text, starts with blank)`` per record.

    Comments are removed and parenthesised continuations are joined.
    """
    pending: list[str] = []
    start = 0
    indented = False
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split(";", 1)[0]
        if not pending:
            if not content.strip():
                continue
            start = number
            indented = content[:1].isspace()
        pending.append(content)
        depth += content.count("(") - content.count(")")
        if depth < 0:
            raise LabFileError(source, number, "unbalanced ')'")
        if depth == 0:
            joined = " ".join(pending).replace("(", " ").replace(")", " ")
            yield start, joined, indented
            pending = []
    if pending:
        raise LabFileError(source, start, "'(' is never closed")


def _parse_record(number: int, owner: dns.name.Name, tokens: list[str]) -> ZoneLine:
    ttl: int | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token[0].isdigit() and ttl is None:
            ttl = dns.ttl.from_text(token)
        elif token.upper() == "IN":
            pass
        elif token.upper() in ("CH", "HS", "CS"):
            raise ValueError(f"class {token} is not supported: only IN")
        else:
            break
        index += 1
    if index >= len(tokens):
        raise ValueError("record has no type")
    rdtype = dns.rdatatype.from_text(tokens[index])
    rdata_text = " ".join(tokens[index + 1 :])
    if not rdata_text:
        raise ValueError(f"{tokens[index]} record has no data")
    rdata = dns.rdata.from_text(
        dns.rdataclass.IN, rdtype, rdata_text, origin=dns.name.root, relativize=False
    )
    return ZoneLine(line=number, owner=owner, ttl=ttl, rdata=rdata)


def parse_zone_text(text: str, source: Path | str = "<text>") -> list[ZoneLine]:
    """Parse zone-file text into records; relative names are taken as absolute."""
    records: list[ZoneLine] = []
    owner: dns.name.Name | None = None
    for number, content, indented in _logical_lines(text, source):
        tokens = content.split()
        if tokens[0].upper() == "$TTL":
            continue
        if tokens[0].startswith("$"):
            raise LabFileError(source, number, f"directive {tokens[0]} is not supported")
        try:
            if indented:
                if owner is None:
                    raise ValueError("a line starting with blanks needs a previous owner name")
            else:
                owner = dns.name.from_text(tokens[0], origin=dns.name.root)
                tokens = tokens[1:]
            records.append(_parse_record(number, owner, tokens))
        except (ValueError, dns.exception.DNSException) as error:
            problem = str(error) or type(error).__name__
            raise LabFileError(source, number, problem) from None
    return records


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise LabFileError(path, 0, f"cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise LabFileError(path, 0, f"not UTF-8 text: {error.reason}") from None


def read_root_hints(
    path: Path | str, policy: AddressPolicy = PRODUCTION
) -> tuple[tuple[str, str], ...]:
    """Read a root hints file into ``(NS name, IPv4 address)`` pairs.

    Every NS record must be owned by the root and every name server must have
    at least one address; every address must be accepted by ``policy`` (a lab
    policy: loopback only). Pairs keep the file's order.
    """
    path = Path(path)
    records = parse_zone_text(_read(path), path)
    servers: list[dns.name.Name] = []
    addresses: dict[dns.name.Name, list[str]] = {}
    address_lines: list[ZoneLine] = []
    for record in records:
        if record.rdtype == dns.rdatatype.NS:
            if record.owner != dns.name.root:
                problem = f"NS records in root hints must be owned by '.', not {record.owner}"
                raise LabFileError(path, record.line, problem)
            target: dns.name.Name = record.rdata.target  # type: ignore[attr-defined]
            if target not in servers:
                servers.append(target)
        elif record.rdtype == dns.rdatatype.A:
            address = str(record.rdata.address)  # type: ignore[attr-defined]
            try:
                policy.address(str(record.owner), address)
            except AddressError as error:
                raise LabFileError(path, record.line, str(error)) from None
            addresses.setdefault(record.owner, []).append(address)
            address_lines.append(record)
        else:
            rdtype = dns.rdatatype.to_text(record.rdtype)
            problem = f"unexpected {rdtype} record: root hints hold only NS and A records"
            raise LabFileError(path, record.line, problem)
    if not servers:
        raise LabFileError(path, 0, "no NS records for '.'")
    for record in address_lines:
        if record.owner not in servers:
            problem = f"address for {record.owner}, which is not a root name server here"
            raise LabFileError(path, record.line, problem)
    pairs: list[tuple[str, str]] = []
    for server in servers:
        if server not in addresses:
            raise LabFileError(path, 0, f"root name server {server} has no A record")
        pairs.extend((server.to_text(), address) for address in addresses[server])
    return tuple(pairs)


def parse_trust_anchor(text: str) -> ZoneLine:
    """Parse one DS or DNSKEY record given as presentation text."""
    records = parse_zone_text(text)
    if len(records) != 1:
        raise LabFileError("<text>", 1, f"expected one record, got {len(records)}")
    record = records[0]
    if record.rdtype not in ANCHOR_TYPES:
        rdtype = dns.rdatatype.to_text(record.rdtype)
        raise LabFileError("<text>", 1, f"a trust anchor is DS or DNSKEY, not {rdtype}")
    return record


def read_trust_anchors(path: Path | str) -> tuple[str, ...]:
    """Read a trust-anchor file into presentation lines, one per DS/DNSKEY record.

    Each line has owner, TTL, class and type, ready for
    :attr:`ReferenceSpec.trust_anchors <legacy_adapter.config.ReferenceSpec.trust_anchors>`.
    """
    path = Path(path)
    records = parse_zone_text(_read(path), path)
    if not records:
        raise LabFileError(path, 0, "no trust anchors in file")
    for record in records:
        if record.rdtype not in ANCHOR_TYPES:
            rdtype = dns.rdatatype.to_text(record.rdtype)
            raise LabFileError(path, record.line, f"a trust anchor is DS or DNSKEY, not {rdtype}")
    return tuple(record.to_text() for record in records)
