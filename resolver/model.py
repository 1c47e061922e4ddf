"""The resolver's shared vocabulary: frames in from clients, and the request they carry."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

import dns.message
import dns.name
import dns.rrset

Transport = Literal["udp", "tcp", "dot", "doh"]


@dataclass(frozen=True)
class Frame:
    """One client packet as the server received it: the unit that flows to workers."""

    wire: bytes
    transport: Transport
    client: tuple[str, int]
    received: float  # monotonic seconds
    message: dns.message.Message | None = None  # parsed lazily by the worker


@dataclass(frozen=True)
class Request:
    """A client question, as the recursor sees it."""

    qname: dns.name.Name
    qtype: int
    qclass: int = 1
    do: bool = False  # DNSSEC OK: include RRSIGs
    cd: bool = False  # checking disabled
    rd: bool = True
    client: tuple[str, int] = ("127.0.0.1", 0)
    extra: dict[str, object] = field(default_factory=dict)


def with_ttl(rrset: dns.rrset.RRset, ttl: int) -> dns.rrset.RRset:
    """A copy of ``rrset`` whose TTL is ``ttl`` (the original is shared and never changed)."""
    copy: dns.rrset.RRset = rrset.copy()
    copy.ttl = ttl
    return copy


def server_endpoint(address: str, default_port: int = 53) -> tuple[str, int]:
    """An upstream server's address as the resolver keeps it, ``ip`` or ``ip@port``
    (Unbound's notation for a configured server on a nondefault port, unbound.conf(5)
    stub-addr / forward-addr), as (ip, port); ``default_port`` without a port.
    ``ValueError`` when the port is no number in 1..65535."""
    ip, at, port = address.partition("@")
    if not at:
        return address, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r}: the port after '@' must be a number in 1..65535")
    return ip, int(port)


def server_ip(address: str) -> str:
    """The IP of an upstream server's address (``ip`` or ``ip@port``)."""
    return address.partition("@")[0]


def normal_server(text: str) -> str:
    """``ip`` or ``ip@port`` in its one spelling: the IP compressed, ``@53`` dropped
    (``ValueError`` for a bad address or port)."""
    ip, port = server_endpoint(text.strip())
    compressed = ipaddress.ip_address(ip).compressed
    return compressed if port == 53 else f"{compressed}@{port}"
