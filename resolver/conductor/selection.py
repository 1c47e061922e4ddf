"""Choosing which of a zone's servers to ask, from what the infra cache knows.

Epsilon-greedy over smoothed RTT (as Knot Resolver): usually the fastest known server first,
sometimes (``EXPLORE_PROBABILITY``) a random one, so a server that got faster is noticed.
Unknown servers get a small random RTT, which places them early and spreads load.  Servers
marked dead go last, and are still tried when nothing else is left (that is the re-probe).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

EXPLORE_PROBABILITY = 0.05
UNKNOWN_SRTT_RANGE = (0.0, 0.010)  # seconds: unknown servers are tried early


class RttSource(Protocol):
    def srtt(self, addr: str) -> float | None: ...

    def is_dead(self, addr: str, now: float) -> bool: ...


def order_servers(
    servers: Sequence[str], infra: RttSource, now: float, rng: random.Random
) -> list[str]:
    unique = list(dict.fromkeys(servers))
    if not unique:
        return []
    alive = [a for a in unique if not infra.is_dead(a, now)]
    dead = [a for a in unique if a not in alive]

    def key(addr: str) -> float:
        srtt = infra.srtt(addr)
        return rng.uniform(*UNKNOWN_SRTT_RANGE) if srtt is None else srtt

    alive.sort(key=key)
    if len(alive) > 1 and rng.random() < EXPLORE_PROBABILITY:
        pick = rng.randrange(1, len(alive))
        alive.insert(0, alive.pop(pick))
    rng.shuffle(dead)
    return alive + dead
