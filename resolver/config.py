"""Resolver configuration: plain data (root hints are read by :mod:`configfiles.roothints`).

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

from configfiles import ConfigError
from configfiles.roothints import parse_root_hints
from netpolicy import AddressError, AddressPolicy, Role
from resolver import rootdata
from resolver.cache.common import MAX_NEGATIVE_TTL_S, MAX_TTL_S
from resolver.localzone import LocalConfig
from resolver.recursor.config import MAX_QUERY_RESTARTS

if TYPE_CHECKING:
    from resolver.peers.config import PeerSettings


@dataclass(frozen=True)
class ResolverConfig:
    listen: str = "127.0.0.12"
    port: int = 5353
    # (NS name, address) pairs; () means the bundled IANA hints (resolver/data/root.hints)
    root_hints: tuple[tuple[str, str], ...] = ()
    root_hints_source: str = ""  # where the hints came from, for the start-up banner
    # DS/DNSKEY records or RFC 7958 XML (resolver.dnssec.anchors); None means the bundled IANA root
    # anchor (resolver/data/root-anchors.xml) unless validation is off or anchors are inline
    trust_anchor_file: Path | None = None
    trust_anchors: tuple[str, ...] = ()  # more anchors, as record lines
    negative_trust_anchors: tuple[str, ...] = ()  # domains validated as insecure (RFC 7646)
    validation: bool = True  # False: no DNSSEC validation whatever the anchors
    qname_minimisation: bool = True
    qmin_qtype: str = "A"  # type of minimised queries: "A" (RFC 9156, Unbound) or "NS" (kresd)
    egress: str | None = None  # source address for upstream queries
    upstream_port: int = 53
    cache_bytes: int = 64 * 1024 * 1024  # the whole budget of one process (see the properties)
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
    udp_reader: str = "loop"  # "loop", "thread" or "front" (resolver.server.udp.READERS)
    front_nice: int = 0  # with the front reader: the resolving process's own nice increment
    front_per_client: int = 256  # with the front reader: unanswered per client (0: no limit)
    # WebAssembly plugins in chain order: (file, policy "open"/"closed", argument)
    plugins: tuple[tuple[Path, str, str], ...] = ()
    control: tuple[str, int] | None = None  # the HTTP control API (metrics, plugins)
    peers: PeerSettings | None = None  # the peer cache (resolver.peers, docs/PEERS.md)
    metrics: tuple[str, int] | None = None  # GET /metrics here (worker i: port + i)
    # local zones and data answered before the cache (resolver.localzone); Unbound's
    # default local zones (localhost, RFC 1918 reverse, ...) are on by default
    local: LocalConfig = LocalConfig()
    # serve-stale (RFC 8767), Unbound's serve-expired family: RecursorConfig.serve_expired*
    serve_expired: bool = False
    serve_expired_ttl: int = 86_400  # seconds past expiry; 0: no limit
    serve_expired_ttl_reset: bool = False
    serve_expired_reply_ttl: int = 30
    serve_expired_client_timeout: int = 1800  # ms; 0: expired data at once
    serve_expired_ede: bool = False  # EDE 3 Stale Answer on such answers
    serve_original_ttl: bool = False  # answers carry the TTL the data came with
    # DNS rebinding protection (Unbound's private-address / private-domain): A and AAAA
    # records in these networks are removed from answers unless their owner is under one
    # of the domains (resolver.recursor.private).  Empty: nothing is removed.
    private_addresses: tuple[str, ...] = ()
    private_domains: tuple[str, ...] = ()
    tcp_upstream: bool = False  # every upstream query over TCP (Unbound's tcp-upstream)
    prefer_family: int | None = None  # 4 or 6: those servers asked first (prefer-ip4/6)
    caps_exempt: tuple[str, ...] = ()  # domains whose names get no 0x20 (caps-exempt)
    edns_buffer_size: int = 1232  # UDP payload size advertised upstream (edns-buffer-size)
    # TTL bounds and limits of the recursion (Unbound's options of the same names, with
    # Unbound's defaults): RecursorConfig fields of the same names
    cache_min_ttl: int = 0
    cache_max_ttl: int = MAX_TTL_S
    cache_max_negative_ttl: int = MAX_NEGATIVE_TTL_S
    cache_min_negative_ttl: int = 0  # 0: cache_min_ttl applies to negative answers too
    max_query_restarts: int = MAX_QUERY_RESTARTS
    prefetch: bool = False

    @property
    def reply_cache_bytes(self) -> int:
        """The reply cache's part of ``cache_bytes`` (whole answers as wire bytes, the fast
        path's): a quarter."""
        return self.cache_bytes // 4

    @property
    def dns_cache_bytes(self) -> int:
        """The rest of ``cache_bytes``: the RRset, negative and proof caches (``DnsCache``)."""
        return self.cache_bytes - self.reply_cache_bytes

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


@functools.cache
def bundled_root_hints() -> tuple[tuple[str, str], ...]:
    """The IANA root hints shipped in the package (resolver/data/root.hints)."""
    path = rootdata.hints_path()
    return parse_root_hints(path.read_text(), str(path))  # IANA's: every address public
