"""The UDP front process (``--udp-reader front``, resolver/server/front.py), on loopback:
it answers cache hits while the resolving process is busy, sheds a flooder at its share,
mirrors flushes, exits with its listener, and if it dies the listener reads UDP itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from configfiles import ConfigError
from resolver.cache.reply import FastCache
from resolver.frames import FrameQueue
from resolver.server import Listeners
from resolver.server.front import PER_CLIENT, pack_address, unpack_address
from resolver.workers import Workers
from tests.unit.test_serve_stale import serve_config
from tests.unit.test_server import (
    BOUND,
    HOST,
    DelayAnswerer,
    _query,
    ask_while_blocked,
    burst,
    flood_while_blocked,
)


async def _until(check: object, seconds: float = BOUND) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def front_serving() -> AsyncIterator[tuple[DelayAnswerer, FastCache, Listeners, int]]:
    """Workers answering through a front: (answerer, fast cache, listeners, UDP port)."""
    answerer = DelayAnswerer()
    fast = FastCache(1 << 20)
    queue = FrameQueue()
    workers = Workers(queue, answerer, n=2, fastcache=fast)
    listeners = Listeners(queue, HOST, 0, fastcache=fast, udp_reader="front")
    workers.start()
    try:
        _, port = await listeners.start()
        yield answerer, fast, listeners, port
    finally:
        await listeners.close()
        await workers.stop()


def test_addresses_round_trip() -> None:
    for addr in (("127.0.0.1", 53), ("::1", 65535), ("fe80::1%lo", 1)):
        packed = pack_address(addr) + b"rest"
        back, at = unpack_address(packed, 0)
        assert back == addr and packed[at:] == b"rest"


async def test_front_answers_hits_while_the_resolving_loop_is_busy() -> None:
    """A hit stored by the resolving process is answered by the front while that process's
    loop computes for 0.5 s; a flush there empties the front's copy too."""
    async with front_serving() as (answerer, fast, listeners, port):
        udp = listeners.udp
        assert udp is not None and udp.front_pid is not None
        got = await asyncio.to_thread(burst, port, [_query("cached.example.", 1)], BOUND)
        assert len(got) == 1 and len(answerer.asked) == 1
        assert list(await ask_while_blocked(port, "cached.example.", 2)) == [2]
        assert len(answerer.asked) == 1  # the resolving process never saw it
        await _until(lambda: udp.stats_now().fast_replies == 1)
        fast.clear()  # a flush (the control API's) reaches the front
        await asyncio.sleep(0.1)
        got = await asyncio.to_thread(burst, port, [_query("cached.example.", 3)], BOUND)
        assert list(got) == [3] and len(answerer.asked) == 2


@pytest.mark.parametrize("share", [PER_CLIENT, 100, 0])
async def test_front_sheds_the_flooder_not_its_neighbour(share: int) -> None:
    """With the resolving loop blocked, a flooder's datagrams beyond its share (PER_CLIENT
    by default; 0: no limit) are shed by the front, while every datagram of a quiet client
    reaches the queue."""
    queue = FrameQueue(capacity=100_000, client_capacity=100_000)
    listeners = Listeners(queue, HOST, 0, udp_reader="front", front_per_client=share)
    _, port = await listeners.start()
    try:
        await flood_while_blocked(port)  # the front goes on reading
        udp = listeners.udp
        assert udp is not None
        await _until(lambda: udp.stats_now().datagrams == 2010)
        by_client: dict[str, int] = {}
        while len(queue):
            item = queue.get_nowait()
            by_client[item.frame.client[0]] = by_client.get(item.frame.client[0], 0) + 1
        stats = udp.stats_now()
        assert by_client.get("127.0.0.2") == 10  # every quiet datagram kept
        handed = share or 2000
        assert by_client.get("127.0.0.3") == handed
        assert stats.shed_client == 2000 - handed
    finally:
        await listeners.close()


async def test_front_exits_with_its_listener_and_the_loop_takes_over_if_it_dies() -> None:
    async with front_serving() as (answerer, fast, listeners, port):
        udp = listeners.udp
        assert udp is not None
        pid = udp.front_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # ours: the listener started it
        await asyncio.sleep(0.3)
        got = await asyncio.to_thread(burst, port, [_query("after.example.", 7)], BOUND)
        assert list(got) == [7]  # answered by the resolving process itself
    # a front whose listener closed is gone too
    second = Listeners(FrameQueue(), HOST, 0, udp_reader="front")
    await second.start()
    assert second.udp is not None
    front = second.udp._front
    assert front is not None and front.process is not None
    await second.close()
    assert front.process.poll() is not None



def test_front_flags_are_checked() -> None:
    config = serve_config("--udp-reader", "front", "--udp-front-nice", "10")
    assert (config.udp_reader, config.front_nice) == ("front", 10)
    with pytest.raises(ConfigError, match="--udp-front-nice needs --udp-reader front"):
        serve_config("--udp-front-nice", "3")
    with pytest.raises(ConfigError, match="--udp-front-nice: expected 0 to 19, got 20"):
        serve_config("--udp-reader", "front", "--udp-front-nice", "20")
    assert serve_config("--udp-reader", "front",
                        "--udp-front-per-client", "0").front_per_client == 0
    with pytest.raises(ConfigError, match="--udp-front-per-client: expected 0 .no limit. or "
                                          "more, got -1"):
        serve_config("--udp-reader", "front", "--udp-front-per-client", "-1")
