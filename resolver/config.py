"""Resolver configuration: plain data, and the root hints file reader.

Defaults are the real internet's: without root hints the bundled IANA hints
(:mod:`resolver.rootdata`), and DNSSEC validation with the bundled IANA root trust anchor
unless validation is switched off or other anchors are given.  Errors name the file (and
line, where dnspython reports one) and what is wrong.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from netpolicy import PRODUCTION, AddressError, AddressPolicy, Role
from resolver import rootdata

if TYPE_CHECKING:
    from resolver.peers.config import PeerSettings


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ResolverConfig:
    listen: str = "127.0.0.12"
    port: int = 5353
    # (NS name, address) pairs; () means the bundled IANA hints (resolver/data/root.hints)
    root_hints: tuple[tuple[str, str], ...] = ()
    root_hints_source: str = ""  # where the hints came from, for the start-up banner
    # DS/DNSKEY records or RFC 7958 XML (resolver.trust); None means the bundled IANA root
    # anchor (resolver/data/root-anchors.xml) unless validation is off or anchors are inline
    trust_anchor_file: Path | None = None
    trust_anchors: tuple[str, ...] = ()  # more anchors, as record lines
    negative_trust_anchors: tuple[str, ...] = ()  # domains validated as insecure (RFC 7646)
    validation: bool = True  # False: no DNSSEC validation whatever the anchors
    qname_minimisation: bool = True
    qmin_qtype: str = "A"  # type of minimised queries: "A" (RFC 9156, Unbound) or "NS" (kresd)
    egress: str | None = None  # source address for upstream queries
    upstream_port: int = 53
    cache_bytes: int = 64 * 1024 * 1024
    workers: int = 64  # concurrent queries in flight per process (asyncio tasks)
    processes: int = 1  # server processes sharing the port with SO_REUSEPORT
    do_ip6: bool | None = None  # ask IPv6 servers; None: when the host has a global IPv6 address
    priming: bool = True  # RFC 8109: learn the root's NS set from a hint before iterating
    tcp_backlog: int = 4096  # listen backlog (capped by net.core.somaxconn)
    tcp_per_client: int = 256  # open TCP connections from one client address
    use_0x20: bool = True  # randomise the case of upstream query names (RFC 5452 §9.1)
    dot_port: int | None = None  # DoT (RFC 7858) on the listen address, when set
    doh_port: int | None = None  # DoH (RFC 8484) on the listen address, when set
    doh_path: str = "/dns-query"
    tls_cert: Path | None = None  # PEM chain for DoT/DoH; None: a self-signed pair at start
    tls_key: Path | None = None
    udp_reader: str = "loop"  # "loop" or "thread" (resolver.server.udp.READERS)
    peers: PeerSettings | None = None  # the peer cache (resolver.peers, docs/PEERS.md)
    metrics: tuple[str, int] | None = None  # GET /metrics here (worker i: port + i)

    def __post_init__(self) -> None:
        if not self.root_hints:
            path = rootdata.hints_path()
            object.__setattr__(self, "root_hints", bundled_root_hints())
            object.__setattr__(self, "root_hints_source", str(path))
        if self.validation and self.trust_anchor_file is None and not self.trust_anchors:
            object.__setattr__(self, "trust_anchor_file", rootdata.anchor_path())


def checked_address(policy: AddressPolicy, field: str, value: str, *,
                    role: Role = "send") -> str:
    """``value`` if ``policy`` accepts it (see :mod:`netpolicy`), else ``ConfigError``."""
    try:
        return policy.address(field, value, role=role)
    except AddressError as e:
        raise ConfigError(str(e)) from None


def read_root_hints(path: Path, policy: AddressPolicy = PRODUCTION
                    ) -> tuple[tuple[str, str], ...]:
    """(NS name, address) pairs (IPv4 and IPv6) from a hints file in zone-file format; every
    address accepted by ``policy`` (lab mode: loopback only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read root hints: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a text file (byte {e.start} is not UTF-8): expected "
                          "root hints in zone-file format") from None
    hints = parse_root_hints(text, str(path))
    return tuple((name, checked_address(policy, f"{path}: {name}", address))
                 for name, address in hints)


def parse_root_hints(text: str, source: str) -> tuple[tuple[str, str], ...]:
    """(NS name, address) pairs, A then AAAA per name, from hints in zone-file format; no
    address policy (the caller applies its own)."""
    try:
        zone = dns.zone.from_text(text, origin=dns.name.root, relativize=False,
                                  check_origin=False, filename=source)
    except dns.exception.SyntaxError as e:
        raise ConfigError(str(e)) from e  # FILE:LINE: what is wrong
    except dns.exception.DNSException as e:
        raise ConfigError(f"{source}: not a hints file: {e}") from e
    ns = zone.get_rdataset(dns.name.root, dns.rdatatype.NS)
    if ns is None:
        raise ConfigError(f"{source}: no NS records for the root '.'")
    hints: list[tuple[str, str]] = []
    for rd in ns:
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            for addr in zone.get_rdataset(rd.target, rdtype) or ():
                hints.append((rd.target.to_text(), addr.address))
    if not hints:
        raise ConfigError(f"{source}: no address for any root server")
    return tuple(hints)


@functools.cache
def bundled_root_hints() -> tuple[tuple[str, str], ...]:
    """The IANA root hints shipped in the package (resolver/data/root.hints)."""
    path = rootdata.hints_path()
    return parse_root_hints(path.read_text(), str(path))
