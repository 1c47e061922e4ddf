"""The recursor's only door to the world: ask a question of a zone's servers, get an outcome.

The recursor says *what* to ask and *whom* (the addresses of one zone cut's servers); the
exchanger (in production the conductor, in tests a conductor over a MockTransport, in
Deckard a scenario) decides *which* server, retries, TCP and EDNS fallback, and returns
either a response that matched the query or a failure as a value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import dns.message
import dns.name


class Failure(enum.Enum):
    """Why an exchange produced no usable response (the conductor's error vocabulary)."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    SERVFAIL = "servfail"
    FORMERR = "formerr"
    NOTIMP = "notimp"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"  # ID, question or source did not match
    CASE_MISMATCH = "case_mismatch"  # the question's case was not the one sent (0x20)
    CAPS_FALLBACK = "caps_fallback"  # after a 0x20 mismatch, the servers' answers differ
    TRUNCATED = "truncated"  # TC even over TCP
    NETWORK = "network"  # socket errors (ICMP unreachable, refused TCP connect)
    NO_SERVERS = "no_servers"  # nothing left to ask (all dead or lame)
    BUDGET = "budget"  # the client query's upstream budget is spent


@dataclass(frozen=True)
class UpstreamQuery:
    qname: dns.name.Name
    qtype: int
    zone: dns.name.Name  # the zone cut the servers belong to
    servers: tuple[str, ...]  # addresses
    dnssec: bool = True  # set DO upstream
    cd: bool = False
    rd: bool = False  # recursion desired: only when asking a forwarder
    # A QNAME-minimised probe (RFC 9156): the recursor stops minimising when it fails, so
    # the exchanger gives up on it early (Unbound's relaxed mode, see the conductor).
    minimised: bool = False
    tcp: bool = False  # TCP only (a configured zone's stub/forward-tcp-upstream)


@dataclass
class UpstreamResult:
    response: dns.message.Message | None
    server: str | None = None
    failure: Failure | None = None
    attempts: int = 0
    failures: list[tuple[str, Failure]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.response is not None


class Exchanger(Protocol):
    async def exchange(self, query: UpstreamQuery) -> UpstreamResult: ...
