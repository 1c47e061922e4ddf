"""What we know about upstream servers: smoothed RTT and retransmission timeout (RFC 6298),
consecutive timeouts and a dead-until hold-down, EDNS support, whether they keep the
question's case (0x20), and lameness per zone.  Server health never mixes with answers.
The recursor reads it to choose servers (resolver/recursor/core.py) and the conductor to
time its queries."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import dns.name

from resolver.cache.arc import LRU
from resolver.cache.common import key_name

__all__ = [
    "CAPS_RECHECK_S",
    "DEAD_AFTER_TIMEOUTS",
    "DEAD_HOLDDOWN_S",
    "EDNS_RECHECK_S",
    "MAX_LAME_TTL_S",
    "MAX_LAME_ZONES_PER_HOST",
    "MAX_RTO_S",
    "MIN_RTO_S",
    "UNKNOWN_RTO_S",
    "EdnsState",
    "InfraCache",
]

RTT_ALPHA = 1 / 8
"""RFC 6298 §2.3 gain for SRTT."""

RTT_BETA = 1 / 4
"""RFC 6298 §2.3 gain for RTTVAR."""

RTT_K = 4
"""RFC 6298 §2.2 multiplier of RTTVAR in the RTO."""

CLOCK_GRANULARITY_S = 0.001
"""RFC 6298's G: our timers resolve to about a millisecond."""

MIN_RTO_S = 0.05
"""Lower bound on the RTO. RFC 6298 says 1 s for TCP; DNS over UDP answers in milliseconds,
and Unbound likewise floors its timeout at 50 ms."""

MAX_RTO_S = 12.0
"""Upper bound on the RTO, also the ceiling for back-off after timeouts."""

UNKNOWN_RTO_S = 0.4
"""RTO for a server we have never measured: close to Unbound's niceness for unknown servers,
so a new server competes with known ones instead of waiting out RFC 6298's 1 s."""

TIMEOUT_BACKOFF = 2.0
"""RFC 6298 §5.5: each timeout doubles the RTO (up to :data:`MAX_RTO_S`)."""

DEAD_AFTER_TIMEOUTS = 4
"""Consecutive timeouts after which a server is held down (Knot Resolver uses 4 too)."""

DEAD_HOLDDOWN_S = 30.0
"""How long a dead server is skipped before it may be probed again."""

EDNS_RECHECK_S = 900.0
"""How long an EDNS verdict stands: a no-EDNS server is retried with EDNS after this, and
an EDNS-capable server is not downgraded by a single failure (a spoofed FORMERR) before."""

CAPS_RECHECK_S = 900.0
"""Seconds a server found not to preserve the question's case is sent lower case (0x20 off)."""

MAX_LAME_TTL_S = 900.0
"""Longest a server stays marked lame for a zone."""

MAX_LAME_ZONES_PER_HOST = 64
"""Bound on the lame zones remembered per server; the soonest to expire go first."""


class EdnsState(enum.Enum):
    """What we know of a server's EDNS (RFC 6891) support."""

    UNKNOWN = "unknown"
    SUPPORTED = "supported"
    NO_EDNS = "no-edns"


@dataclass(slots=True)
class _Host:
    srtt: float | None = None
    rttvar: float | None = None
    rto: float = UNKNOWN_RTO_S
    timeouts: int = 0  # consecutive
    dead_until: float | None = None
    edns: EdnsState = EdnsState.UNKNOWN
    edns_until: float = 0.0  # when the EDNS verdict may be revisited
    no_caps_until: float = 0.0  # until then the server is sent plain lower case (no 0x20)
    lame: dict[dns.name.Name, float] = field(default_factory=dict)  # zone -> expiry


def _clamp_rto(rto: float) -> float:
    return min(MAX_RTO_S, max(MIN_RTO_S, rto))


class InfraCache:
    """Per-server state on an LRU of at most ``capacity_entries`` servers.

    RTT is tracked per address (as Knot Resolver does); lameness per address and zone.
    """

    def __init__(self, capacity_entries: int) -> None:
        self._hosts: LRU[str, _Host] = LRU(capacity_entries)

    def __len__(self) -> int:
        return len(self._hosts)

    @property
    def capacity_entries(self) -> int:
        return self._hosts.capacity_bytes

    def _host(self, addr: str) -> _Host:
        host = self._hosts.get(addr)
        if host is None:
            host = _Host()
            self._hosts.put(addr, host, 1)
        return host

    def rtt_update(self, addr: str, rtt: float, now: float) -> None:
        """Feed one measured round trip (seconds): RFC 6298 §2.2/2.3; clears timeouts."""
        if not math.isfinite(rtt) or rtt < 0:
            raise ValueError(f"an RTT sample must be a finite number >= 0, not {rtt}")
        host = self._host(addr)
        if host.srtt is None or host.rttvar is None:
            host.srtt = rtt
            host.rttvar = rtt / 2
        else:
            host.rttvar = (1 - RTT_BETA) * host.rttvar + RTT_BETA * abs(host.srtt - rtt)
            host.srtt = (1 - RTT_ALPHA) * host.srtt + RTT_ALPHA * rtt
        host.rto = _clamp_rto(host.srtt + max(CLOCK_GRANULARITY_S, RTT_K * host.rttvar))
        host.timeouts = 0
        host.dead_until = None

    def timeout(self, addr: str, now: float) -> bool:
        """Record a query that went unanswered; whether the server is now held down.

        The RTO backs off (RFC 6298 §5.5); after :data:`DEAD_AFTER_TIMEOUTS` in a row the
        server is dead for :data:`DEAD_HOLDDOWN_S`, and each further timeout (of a re-probe)
        renews the hold-down.
        """
        host = self._host(addr)
        host.timeouts += 1
        host.rto = _clamp_rto(host.rto * TIMEOUT_BACKOFF)
        if host.timeouts >= DEAD_AFTER_TIMEOUTS:
            host.dead_until = now + DEAD_HOLDDOWN_S
            return True
        return False

    def srtt(self, addr: str) -> float | None:
        """Smoothed RTT in seconds, or ``None`` if never measured."""
        host = self._hosts.peek(addr)
        return None if host is None else host.srtt

    def rto(self, addr: str) -> float:
        """Retransmission timeout in seconds (:data:`UNKNOWN_RTO_S` for a new server)."""
        host = self._hosts.peek(addr)
        return UNKNOWN_RTO_S if host is None else host.rto

    def consecutive_timeouts(self, addr: str) -> int:
        host = self._hosts.peek(addr)
        return 0 if host is None else host.timeouts

    def is_dead(self, addr: str, now: float) -> bool:
        """Whether the server is held down; once the hold-down ends it may be re-probed."""
        host = self._hosts.peek(addr)
        return host is not None and host.dead_until is not None and now < host.dead_until

    def set_edns(self, addr: str, ok: bool, now: float) -> None:
        """Record whether an EDNS query worked. Each verdict stands :data:`EDNS_RECHECK_S`;
        a failure does not downgrade a server whose EDNS support was confirmed before then."""
        host = self._host(addr)
        if ok:
            host.edns = EdnsState.SUPPORTED
            host.edns_until = now + EDNS_RECHECK_S
        elif host.edns is not EdnsState.SUPPORTED or now >= host.edns_until:
            host.edns = EdnsState.NO_EDNS
            host.edns_until = now + EDNS_RECHECK_S

    def edns_ok(self, addr: str, now: float) -> bool:
        """Whether to send EDNS: yes unless the server is known not to, and not due a recheck."""
        host = self._hosts.peek(addr)
        if host is None or host.edns is not EdnsState.NO_EDNS:
            return True
        return now >= host.edns_until

    def edns_state(self, addr: str) -> EdnsState:
        host = self._hosts.peek(addr)
        return EdnsState.UNKNOWN if host is None else host.edns

    def caps_ok(self, addr: str, now: float) -> bool:
        """Whether to randomise the case of the names sent to ``addr`` (0x20): yes unless it
        answered a randomised name in another case within the last :data:`CAPS_RECHECK_S`."""
        host = self._hosts.peek(addr)
        return host is None or now >= host.no_caps_until

    def set_no_caps(self, addr: str, now: float) -> None:
        """``addr`` does not echo the question's case: send it lower case for a while.  The
        verdict expires (:data:`CAPS_RECHECK_S`), so a forged wrong-case answer cannot turn
        0x20 off for a server for good."""
        self._host(addr).no_caps_until = now + CAPS_RECHECK_S

    def mark_lame(self, addr: str, zone: dns.name.Name, now: float, ttl: float) -> None:
        """Mark ``addr`` lame for ``zone`` for ``ttl`` seconds (capped at
        :data:`MAX_LAME_TTL_S`)."""
        ttl = min(ttl, MAX_LAME_TTL_S)
        if ttl <= 0:
            return
        host = self._host(addr)
        host.lame[key_name(zone)] = now + ttl
        if len(host.lame) > MAX_LAME_ZONES_PER_HOST:
            for expired in [z for z, until in host.lame.items() if until <= now]:
                del host.lame[expired]
            while len(host.lame) > MAX_LAME_ZONES_PER_HOST:
                del host.lame[min(host.lame, key=host.lame.__getitem__)]

    def is_lame(self, addr: str, zone: dns.name.Name, now: float) -> bool:
        """Whether ``addr`` is marked lame for ``zone`` (exactly that zone) at ``now``; a
        mark that has run out is forgotten."""
        host = self._hosts.peek(addr)
        if host is None:
            return False
        zone = key_name(zone)
        until = host.lame.get(zone)
        if until is None:
            return False
        if now >= until:
            del host.lame[zone]
            return False
        return True

    def clear(self) -> None:
        self._hosts.clear()

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self._hosts),
            "capacity_entries": self._hosts.capacity_bytes,
            "evictions": self._hosts.evictions,
        }
