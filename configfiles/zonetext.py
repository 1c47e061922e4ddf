"""Zone-file text, record by record, for the small files operators hand us (root hints,
trust anchors): ``;`` starts a comment, the TTL and class are optional and may come in
either order, a record may span lines inside ``( )``, a line starting with blanks repeats
the previous owner, ``$TTL`` is accepted (and ignored); other directives are refused.
Every problem is a :class:`~configfiles.ConfigError` naming the file and the line where the
record starts.
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

from configfiles import ConfigError

__all__ = ["ZoneLine", "parse_zone_text"]


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

    Comments (``;`` to the end of the line, and whole lines starting with ``#``, as
    trust-anchor files sometimes have) are removed and parenthesised continuations joined.
    """
    pending: list[str] = []
    start = 0
    indented = False
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split(";", 1)[0]
        if not pending:
            if not content.strip() or content.lstrip().startswith("#"):
                continue
            start = number
            indented = content[:1].isspace()
        pending.append(content)
        depth += content.count("(") - content.count(")")
        if depth < 0:
            raise ConfigError("unbalanced ')'", source=str(source), line=number)
        if depth == 0:
            joined = " ".join(pending).replace("(", " ").replace(")", " ")
            yield start, joined, indented
            pending = []
    if pending:
        raise ConfigError("'(' is never closed", source=str(source), line=start)


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
    try:
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN, rdtype, rdata_text, origin=dns.name.root, relativize=False
        )
    except (dns.exception.DNSException, ValueError) as e:
        raise ValueError(f"bad {tokens[index].upper()} record: {e}") from None
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
            raise ConfigError(f"directive {tokens[0]} is not supported", source=str(source),
                              line=number)
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
            raise ConfigError(problem, source=str(source), line=number) from None
    return records
