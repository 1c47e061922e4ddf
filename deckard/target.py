"""What the runner plays scenarios against: the target protocol, its factory and the run
options, apart from :mod:`deckard.runner` so that the targets (:mod:`deckard.network`)
need not import the runner that picks them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import dns.name

from deckard.fakenet import ScenarioNet
from deckard.records import Question
from deckard.scenario import Scenario

__all__ = ["CLIENT_TIMEOUT", "RunOptions", "Target", "TargetFactory", "Unsupported"]

CLIENT_TIMEOUT = 5.0
"""Seconds the target has to answer a client query (Deckard's limit)."""


class Unsupported(Exception):
    """The target cannot play this scenario (e.g. TIME_PASSES on a real resolver)."""


class Target(Protocol):
    async def send(self, wire: bytes, *, wait: bool) -> bytes | None:
        """Send a client message; with ``wait``, return the answer (None: none came)."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the target's clock forward (raise :class:`Unsupported` if impossible)."""
        ...

    def forget(self, question: Question, expire: bool = False) -> None:
        """Drop the cached answer to ``question`` (raise :class:`Unsupported` if
        impossible): testbound's FLUSH_MESSAGE and EXPIRE_MESSAGE (``expire``: the answer
        expires, kept for serve-expired, where the target serves expired data)."""
        ...

    def now(self) -> float:
        """The target's current time, seconds since the epoch (testbound's ``${time}``;
        raise :class:`Unsupported` if unknown)."""
        ...

    def infra_rtt(self, address: str, zone: dns.name.Name, milliseconds: int) -> None:
        """Feed a round-trip time for ``address`` (serving ``zone``) into the target's
        infra cache (testbound's INFRA_RTT; raise :class:`Unsupported` if impossible)."""
        ...

    @property
    def upstream_queries(self) -> int: ...


TargetFactory = Callable[
    [Scenario, "bool | None", ScenarioNet, int], AbstractAsyncContextManager[Target]
]
"""(scenario, qmin or None for "as configured", net, seed) → a target for one run."""


@dataclass(frozen=True)
class RunOptions:
    """How to run: picklable, so worker processes can rebuild the target factory."""

    seed: int = 0
    resolver: str | None = None  # "ADDR[:PORT]": an external resolver instead of the candidate
    reference: str | None = None  # "unbound" / "kresd": a managed reference per run
    workdir: str | None = None  # for managed references
    qmin_qtype: str = "NS"  # the candidate's minimised query type (see CandidateConfig)
