"""Resolver configuration: plain data, and the root hints file reader.

Errors name the file (and line, where dnspython reports one) and what is wrong.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ResolverConfig:
    listen: str = "127.0.0.12"
    port: int = 5353
    root_hints: tuple[tuple[str, str], ...] = ()
    trust_anchor_file: Path | None = None  # DS or DNSKEY records (resolver.trust)
    trust_anchors: tuple[str, ...] = ()  # more anchors, as record lines
    negative_trust_anchors: tuple[str, ...] = ()  # domains validated as insecure (RFC 7646)
    qname_minimisation: bool = True
    qmin_qtype: str = "A"  # type of minimised queries: "A" (RFC 9156, Unbound) or "NS" (kresd)
    egress: str | None = None  # source address for upstream queries
    upstream_port: int = 53
    cache_bytes: int = 64 * 1024 * 1024
    workers: int = 64  # concurrent queries in flight per process (asyncio tasks)
    processes: int = 1  # server processes sharing the port with SO_REUSEPORT


def loopback(field: str, value: str) -> str:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError as e:
        raise ConfigError(f"{field}: {value!r} is not an IP address") from e
    if ip.version != 4 or ip not in LOOPBACK:
        raise ConfigError(f"{field}: {value} is outside 127.0.0.0/8 (loopback only)")
    return str(ip)


def read_root_hints(path: Path) -> tuple[tuple[str, str], ...]:
    """(NS name, IPv4 address) pairs from a hints file in zone-file format."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read root hints: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a text file ({e.reason} at byte {e.start})") from e
    try:
        zone = dns.zone.from_text(text, origin=dns.name.root, relativize=False,
                                  check_origin=False, filename=str(path))
    except dns.exception.SyntaxError as e:
        raise ConfigError(str(e)) from e  # FILE:LINE: what is wrong
    except dns.exception.DNSException as e:
        raise ConfigError(f"{path}: not a hints file: {e}") from e
    ns = zone.get_rdataset(dns.name.root, dns.rdatatype.NS)
    if ns is None:
        raise ConfigError(f"{path}: no NS records for the root '.'")
    hints: list[tuple[str, str]] = []
    for rd in ns:
        a = zone.get_rdataset(rd.target, dns.rdatatype.A)
        for addr in a or ():
            hints.append((rd.target.to_text(), loopback(f"{path}: {rd.target}", addr.address)))
    if not hints:
        raise ConfigError(f"{path}: no IPv4 address for any root server")
    return tuple(hints)
