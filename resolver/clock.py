"""Time as an argument: the resolver never reads the system clock except through a Clock.

``now()`` is wall-clock seconds (for RRSIG validity and logging); ``monotonic()`` is for
TTLs, timeouts and RTTs.  :class:`ManualClock` moves only when told (Deckard's TIME_PASSES,
unit tests).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only by :meth:`advance` (or :meth:`set`)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = start
        self._mono = 1000.0

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._wall += seconds
        self._mono += seconds

    def set(self, wall: float) -> None:
        self.advance(max(0.0, wall - self._wall))
