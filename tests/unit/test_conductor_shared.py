"""One upstream question shared by several clients: a client whose deadline passes leaves
the others waiting on their own deadlines, never with its cancellation (Exchanger seam: a
transport that never answers)."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import dns.message
import dns.rcode
import pytest

from resolver.app import assemble
from resolver.cache import DnsCache
from resolver.clock import SystemClock
from resolver.conductor import MockTransport
from resolver.frames import FrameQueue
from resolver.model import Frame
from resolver.workers import Workers

DEADLINE = 0.4
SLACK = 0.3


def _silent_network() -> tuple[Workers, MockTransport]:
    """A resolver whose every upstream server is dead: queries are sent, nothing returns."""

    def never(_addr: str, _query: dns.message.Message, _tcp: bool) -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()  # never resolved

    transport = MockTransport(never)
    cache = DnsCache(1 << 20)
    clock = SystemClock()
    resolver = assemble(transport, clock, cache=cache, root_hints=(("a.root.", "127.0.0.250"),),
                        rng=random.Random(5))
    workers = Workers(FrameQueue(), resolver.answerer, n=1, deadline=DEADLINE)
    return workers, transport


async def _ask(workers: Workers, name: str, delay: float) -> tuple[dns.message.Message, float]:
    await asyncio.sleep(delay)
    start = time.monotonic()
    wire = dns.message.make_query(name, "A").to_wire()
    reply = await workers.handle(Frame(wire, "udp", ("127.0.0.1", 4000), start))
    assert reply is not None
    return dns.message.from_wire(reply), time.monotonic() - start


async def test_a_joiner_outlives_the_first_askers_deadline(
        caplog: pytest.LogCaptureFixture) -> None:
    workers, transport = _silent_network()
    caplog.set_level(logging.DEBUG)
    results = await asyncio.gather(*(_ask(workers, "www.dead.test.", d)
                                     for d in (0.0, 0.1, 0.2)))
    for reply, elapsed in results:
        assert reply.rcode() == dns.rcode.SERVFAIL
        assert elapsed < DEADLINE + SLACK
    assert workers.stats["servfail_deadline"] == 3
    assert workers.stats["servfail_answerer"] == 0
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not noisy, [r.getMessage() for r in noisy]
    assert not any(r.exc_info for r in caplog.records)
    assert len(transport.sent) >= 1


async def test_the_question_is_dropped_when_nobody_waits_any_more() -> None:
    workers, transport = _silent_network()
    reply, _ = await _ask(workers, "www.dead.test.", 0.0)
    assert reply.rcode() == dns.rcode.SERVFAIL
    await asyncio.sleep(0.05)
    conductor = workers.answerer.exchanger  # type: ignore[attr-defined]
    assert not conductor._inflight  # noqa: SLF001 - nothing left running upstream
    sent = len(transport.sent)
    await asyncio.sleep(0.2)
    assert len(transport.sent) == sent
