"""The resolver's shared vocabulary: frames in from clients, and the request they carry."""

from __future__ import annotations

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
