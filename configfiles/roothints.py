"""Root hints (RFC 1035 zone-file text, as IANA's ``named.root`` and the lab's ``root.hints``):
the one reader for the candidate, the references and the harness.

The rules: ``NS`` records owned by the root name the root servers; ``A`` and ``AAAA``
records give their addresses, each accepted by an :class:`~netpolicy.AddressPolicy` (lab
mode: loopback only); every root server needs an address, every address must belong to a
root server, and nothing else may be in the file.  Every error names the file and line.
"""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdatatype

from configfiles import ConfigError, read_text
from configfiles.zonetext import ZoneLine, parse_zone_text
from netpolicy import PRODUCTION, AddressError, AddressPolicy

__all__ = ["parse_root_hints", "read_root_hints"]

_ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


def read_root_hints(path: Path | str, policy: AddressPolicy = PRODUCTION
                    ) -> tuple[tuple[str, str], ...]:
    """(NS name, address) pairs from a hints file; see :func:`parse_root_hints`."""
    return parse_root_hints(read_text(path), str(path), policy)


def parse_root_hints(text: str, source: str, policy: AddressPolicy = PRODUCTION
                     ) -> tuple[tuple[str, str], ...]:
    """(NS name, address) pairs: the root servers in the order of their NS records, for each
    its IPv4 then its IPv6 addresses in file order."""
    servers: list[dns.name.Name] = []
    addresses: dict[dns.name.Name, list[ZoneLine]] = {}
    for record in parse_zone_text(text, source):
        if record.rdtype == dns.rdatatype.NS:
            if record.owner != dns.name.root:
                raise ConfigError(f"NS records in root hints must be owned by '.', not "
                                  f"{record.owner}", source=source, line=record.line)
            target: dns.name.Name = record.rdata.target  # type: ignore[attr-defined]
            if target not in servers:
                servers.append(target)
        elif record.rdtype in _ADDRESS_TYPES:
            address = str(record.rdata.address)  # type: ignore[attr-defined]
            try:
                policy.address(str(record.owner), address)
            except AddressError as e:
                raise ConfigError(str(e), source=source, line=record.line) from None
            addresses.setdefault(record.owner, []).append(record)
        else:
            rdtype = dns.rdatatype.to_text(record.rdtype)
            raise ConfigError(f"unexpected {rdtype} record: root hints hold only NS, A and "
                              "AAAA records", source=source, line=record.line)
    if not servers:
        raise ConfigError("no NS records for '.'", source=source, line=0)
    for owner, records in addresses.items():
        if owner not in servers:
            raise ConfigError(f"address for {owner}, which is not a root name server here",
                              source=source, line=records[0].line)
    pairs: list[tuple[str, str]] = []
    for server in servers:
        if server not in addresses:
            raise ConfigError(f"root name server {server} has no address (A or AAAA)",
                              source=source, line=0)
        for kind in _ADDRESS_TYPES:
            pairs.extend((server.to_text(), str(r.rdata.address))  # type: ignore[attr-defined]
                         for r in addresses[server] if r.rdtype == kind)
    return tuple(pairs)
