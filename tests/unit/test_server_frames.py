"""The fair frame queue, without sockets: bounds, counters, round-robin, waiting getters."""

from __future__ import annotations

import asyncio

import pytest

from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame


def inbound(client: str, tag: int = 0, sink: list[bytes | None] | None = None) -> Inbound:
    frame = Frame(tag.to_bytes(4, "big"), "udp", (client, 5300), 0.0)
    return Inbound(frame, sink.append if sink is not None else (lambda wire: None))


def tags(items: list[Inbound]) -> list[tuple[str, int]]:
    return [(i.frame.client[0], int.from_bytes(i.frame.wire, "big")) for i in items]


def drain(queue: FrameQueue) -> list[Inbound]:
    out = []
    while len(queue):
        out.append(queue.get_nowait())
    return out


def test_round_robin_between_clients() -> None:
    q = FrameQueue()
    for i in range(5):
        assert q.put_nowait(inbound("127.0.0.2", i))
    for i in range(2):
        assert q.put_nowait(inbound("127.0.0.3", 100 + i))
    assert len(q) == 7 and q.clients() == 2
    assert tags(drain(q)) == [
        ("127.0.0.2", 0), ("127.0.0.3", 100), ("127.0.0.2", 1), ("127.0.0.3", 101),
        ("127.0.0.2", 2), ("127.0.0.2", 3), ("127.0.0.2", 4),
    ]
    assert q.clients() == 0
    with pytest.raises(asyncio.QueueEmpty):
        q.get_nowait()


def test_client_quota_drops_and_counts() -> None:
    q = FrameQueue(capacity=100, client_capacity=4)
    accepted = [q.put_nowait(inbound("127.0.0.2", i)) for i in range(10)]
    assert accepted == [True] * 4 + [False] * 6
    assert q.put_nowait(inbound("127.0.0.3"))  # another client still fits
    assert (q.stats.received, q.stats.dropped_client_quota, q.stats.dropped_full) == (11, 6, 0)
    q.get_nowait()  # frees one slot of 127.0.0.2
    assert q.put_nowait(inbound("127.0.0.2", 99))


def test_total_capacity_drops_and_counts() -> None:
    q = FrameQueue(capacity=3, client_capacity=10)
    accepted = [q.put_nowait(inbound(f"127.0.0.{i}")) for i in range(2, 7)]
    assert accepted == [True, True, True, False, False]
    assert (q.stats.received, q.stats.dropped_full, q.stats.dropped_client_quota) == (5, 2, 0)


def test_bad_capacities() -> None:
    with pytest.raises(ValueError):
        FrameQueue(capacity=0)
    with pytest.raises(ValueError):
        FrameQueue(client_capacity=0)


def test_flooder_cannot_starve_a_quiet_client() -> None:
    """A offers 2000 frames, B one every 100; the consumer takes one per 4 offers."""
    q = FrameQueue(capacity=1000, client_capacity=32)
    served: list[Inbound] = []
    b_offered = 0
    for i in range(2000):
        q.put_nowait(inbound("127.0.0.2", i))
        if i % 100 == 50:
            assert q.put_nowait(inbound("127.0.0.3", i))
            b_offered += 1
        if i % 4 == 3:
            served.append(q.get_nowait())
    served += drain(q)
    b_served = [t for t in tags(served) if t[0] == "127.0.0.3"]
    a_served = [t for t in tags(served) if t[0] == "127.0.0.2"]
    assert len(b_served) == b_offered == 20
    assert len(a_served) + q.stats.dropped_client_quota == 2000
    assert q.stats.dropped_client_quota > 1000
    # B never waits behind more than one of A's frames per turn.
    positions = [n for n, t in enumerate(tags(served)) if t[0] == "127.0.0.3"]
    assert all(pos < 600 for pos in positions)


async def test_get_waits_then_wakes() -> None:
    q = FrameQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.put_nowait(inbound("127.0.0.2", 7))
    item = await asyncio.wait_for(getter, 2)
    assert tags([item]) == [("127.0.0.2", 7)]


async def test_many_getters_each_get_one() -> None:
    q = FrameQueue()
    getters = [asyncio.create_task(q.get()) for _ in range(5)]
    await asyncio.sleep(0)
    for i in range(5):
        q.put_nowait(inbound(f"127.0.0.{i + 2}", i))
    items = await asyncio.wait_for(asyncio.gather(*getters), 2)
    assert sorted(t[1] for t in tags(list(items))) == [0, 1, 2, 3, 4]


async def test_cancelled_getter_does_not_lose_a_frame() -> None:
    q = FrameQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.put_nowait(inbound("127.0.0.2", 1))  # wakes `first`...
    first.cancel()  # ...which is cancelled before it runs
    item = await asyncio.wait_for(second, 2)
    assert tags([item]) == [("127.0.0.2", 1)]
    with pytest.raises(asyncio.CancelledError):
        await first
    assert len(q) == 0
