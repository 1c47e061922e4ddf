"""The dispatcher: each sampled query to every target at once, bounded in flight.

:meth:`Dispatcher.submit` never waits: it returns False when ``max_in_flight`` queries are
already being worked on (the pipeline counts that as ``dropped`` and the sampler samples
down).  Otherwise one task asks all targets concurrently -- each with its own timeout --
and hands the query with every :class:`~harness.records.TargetAnswer` to ``complete`` (the
pipeline: judge and store), whose time counts as in flight too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from harness.records import Query, TargetAnswer
from harness.targets import Target

__all__ = ["Complete", "Dispatcher"]

log = logging.getLogger("shadowdns.harness.dispatcher")

Complete = Callable[[Query, dict[str, TargetAnswer], Any], Awaitable[None]]


class Dispatcher:
    """Sends queries to ``targets``; at most ``max_in_flight`` at a time."""

    def __init__(self, targets: Sequence[Target], max_in_flight: int,
                 complete: Complete) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.targets = list(targets)
        self.max_in_flight = max_in_flight
        self.complete = complete
        self.failed = 0  # raised instead of completing (a bug: logged)
        self.cancelled = 0  # still in flight when the run was stopped
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def load(self) -> float:
        return len(self._tasks) / self.max_in_flight

    def submit(self, query: Query, context: Any = None) -> bool:
        """Start working on ``query``; False (and nothing done) if saturated."""
        if len(self._tasks) >= self.max_in_flight:
            return False
        task = asyncio.create_task(self._work(query, context))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        self._idle.clear()
        if len(self._tasks) >= self.max_in_flight:
            self._room.clear()
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self.cancelled += 1
        elif task.exception() is not None:
            self.failed += 1
            log.error("dispatch failed", exc_info=task.exception())
        self._room.set()
        if not self._tasks:
            self._idle.set()

    async def _work(self, query: Query, context: Any) -> None:
        answers = await asyncio.gather(*(t.ask(query) for t in self.targets))
        await self.complete(query, {a.target: a for a in answers}, context)

    async def room(self) -> None:
        """Wait until :meth:`submit` would accept a query."""
        while len(self._tasks) >= self.max_in_flight:
            self._room.clear()
            await self._room.wait()

    async def drain(self, timeout: float, hurry: asyncio.Event | None = None) -> int:
        """Wait for queries in flight (at most ``timeout`` s, and no longer than until
        ``hurry`` is set); cancel the rest and return how many were cancelled."""
        if self._tasks:
            waits = [asyncio.ensure_future(self._idle.wait())]
            if hurry is not None:
                waits.append(asyncio.ensure_future(hurry.wait()))
            try:
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
        left = list(self._tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
        return len(left)
