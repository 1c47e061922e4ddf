"""Trust anchors (DS or DNSKEY records in zone-file text, RFC 4033 §3 / Unbound's
``trust-anchor-file``): the one parser for the candidate and the references.

A DNSKEY anchor must have the ZONE flag (RFC 4034 §2.1.1); anything but DS and DNSKEY is
refused; every error names the file and line (:mod:`configfiles.zonetext`).
"""

from __future__ import annotations

from pathlib import Path

import dns.rdatatype

from configfiles import ConfigError, read_text
from configfiles.zonetext import ZoneLine, parse_zone_text

__all__ = ["ANCHOR_TYPES", "parse_trust_anchors", "read_trust_anchors"]

ANCHOR_TYPES = (dns.rdatatype.DS, dns.rdatatype.DNSKEY)
ZONE_FLAG = 0x0100


def parse_trust_anchors(text: str, source: Path | str = "<text>") -> list[ZoneLine]:
    """Every record of ``text``, each a DS or a DNSKEY with the ZONE flag (may be none)."""
    records = parse_zone_text(text, source)
    for record in records:
        if record.rdtype not in ANCHOR_TYPES:
            rdtype = dns.rdatatype.to_text(record.rdtype)
            raise ConfigError(f"a trust anchor is a DS or DNSKEY record, not {rdtype}",
                              source=str(source), line=record.line)
        if (record.rdtype == dns.rdatatype.DNSKEY
                and not record.rdata.flags & ZONE_FLAG):  # type: ignore[attr-defined]
            raise ConfigError("DNSKEY without the ZONE flag cannot be an anchor",
                              source=str(source), line=record.line)
    return records


def read_trust_anchors(path: Path | str) -> list[ZoneLine]:
    """The anchors of a file; at least one."""
    records = parse_trust_anchors(read_text(path), path)
    if not records:
        raise ConfigError("no DS or DNSKEY record", source=str(path))
    return records
