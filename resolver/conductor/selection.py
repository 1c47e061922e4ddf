"""Choosing which of a zone's servers to ask, from what the infra cache knows.

Epsilon-greedy over smoothed RTT (as Knot Resolver): usually the fastest known server first,
sometimes (``EXPLORE_PROBABILITY``) a random one, so a server that got faster is noticed.
The random pick is only among servers within :data:`RTT_BAND` of the fastest, as Unbound
selects ("all addresses with an RTT of not more than 400msec above the lowest RTT are used
for the selection", R. Dolmans, unbound-users, January 2018; NLnetLabs/unbound#167): a
server known to be that much slower is asked only after the faster ones failed.
Unknown servers get a small random RTT, which places them early and spreads load.  Servers
marked dead go last, and are still tried when nothing else is left (that is the re-probe).
With a preferred address family (Unbound's prefer-ip4 / prefer-ip6: "prefer IPv6 transport
for sending DNS queries to internet nameservers"), the live servers of that family come
first, the others after them, so they are asked only when the preferred ones fail.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from typing import Protocol

from resolver.model import server_ip

EXPLORE_PROBABILITY = 0.05
UNKNOWN_SRTT_RANGE = (0.0, 0.010)  # seconds: unknown servers are tried early
RTT_BAND = 0.4
"""Seconds above the fastest server's RTT within which a server may be picked at random."""


class RttSource(Protocol):
    def srtt(self, addr: str) -> float | None: ...

    def is_dead(self, addr: str, now: float) -> bool: ...


def order_servers(
    servers: Sequence[str], infra: RttSource, now: float, rng: random.Random,
    prefer: int | None = None,
) -> list[str]:
    """``servers`` in the order to ask them (``prefer``: 4 or 6, that family's first)."""
    unique = list(dict.fromkeys(servers))
    if not unique:
        return []
    alive = [a for a in unique if not infra.is_dead(a, now)]
    dead = [a for a in unique if a not in alive]

    def key(addr: str) -> float:
        srtt = infra.srtt(addr)
        return rng.uniform(*UNKNOWN_SRTT_RANGE) if srtt is None else srtt

    keys = {a: key(a) for a in alive}
    alive.sort(key=keys.__getitem__)
    band = [a for a in alive if keys[a] <= keys[alive[0]] + RTT_BAND] if alive else []
    if len(alive) > 1 and rng.random() < EXPLORE_PROBABILITY and len(band) > 1:
        pick = rng.randrange(1, len(band))
        alive.insert(0, alive.pop(pick))
    rng.shuffle(dead)
    if prefer is not None:
        alive.sort(key=lambda a: family(a) != prefer)  # stable: the RTT order within each
    return alive + dead


def family(server: str) -> int:
    """4 or 6: the address family of a server (``ip`` or ``ip@port``)."""
    return ipaddress.ip_address(server_ip(server)).version
