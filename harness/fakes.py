"""Stand-ins for tests and benchmarks: a target answering from a function, a recording sink.

:class:`FakeTarget` answers each query with whatever its ``handler`` makes of it (a dnspython
reply, raw bytes, or ``None`` for a timeout), after an optional delay; it counts what it was
asked and flushed.  :class:`RecordingSink` collects what an intake offers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from harness.intake.base import StagingKey
from harness.records import Query, TargetAnswer
from harness.targets import query_wire

__all__ = ["FakeTarget", "RecordingSink", "address_reply"]

Handler = Callable[[dns.message.Message], dns.message.Message | bytes | None]


def address_reply(address: str = "127.100.0.1", rcode: int = 0, ttl: int = 300) -> Handler:
    """A handler that answers every A question with ``address``."""

    def handler(query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.RA
        reply.set_rcode(dns.rcode.Rcode(rcode))
        if rcode == 0:
            q = query.question[0]
            reply.answer.append(dns.rrset.from_text(q.name, ttl, "IN", "A", address))
        return reply

    return handler


class FakeTarget:
    """A target that answers from ``handler`` after ``delay`` seconds."""

    def __init__(self, name: str, handler: Handler | None = None, *, delay: float = 0.0,
                 timeout: float = 1.0) -> None:
        self._name = name
        self.handler = handler or address_reply()
        self.delay = delay
        self._timeout = timeout
        self.asked: list[Query] = []
        self.flushed: list[str] = []
        self.cd_asked = 0
        self.started = False
        self.stopped = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def can_flush(self) -> bool:
        return True

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def version(self) -> str:
        return f"fake {self._name}"

    async def ask(self, query: Query, *, cd: bool | None = None) -> TargetAnswer:
        self.asked.append(query)
        if cd:
            self.cd_asked += 1
        start = time.monotonic()
        if self.delay:
            try:
                await asyncio.wait_for(asyncio.sleep(self.delay), self._timeout)
            except TimeoutError:
                return TargetAnswer(self._name, None, time.monotonic() - start, "timeout")
        message = dns.message.from_wire(query_wire(query))
        reply = self.handler(message)
        if reply is None:
            return TargetAnswer(self._name, None, time.monotonic() - start, "timeout")
        wire = reply if isinstance(reply, bytes) else reply.to_wire()
        return TargetAnswer(self._name, wire, (now := time.monotonic()) - start, received=now)

    async def flush(self, name: str) -> None:
        self.flushed.append(name)


class RecordingSink:
    """An intake sink that keeps everything (``room`` never waits unless ``full``)."""

    def __init__(self) -> None:
        self.queries: list[Query] = []
        self.staged: list[tuple[StagingKey, bytes]] = []
        self.full = False
        self._room = asyncio.Event()

    def offer(self, query: Query) -> None:
        self.queries.append(query)

    def staging(self, key: StagingKey, wire: bytes) -> None:
        self.staged.append((key, wire))

    async def room(self) -> None:
        if self.full:
            await self._room.wait()
        await asyncio.sleep(0)

    def release(self) -> None:
        self.full = False
        self._room.set()
