"""Frames on their way from the listeners to the workers: :class:`Inbound` and the fair queue.

A listener (UDP or TCP) turns bytes into a :class:`~resolver.model.Frame` without parsing
them and pairs it with a ``reply`` callable that knows how to send bytes back to that client
on that transport.  The pair is an :class:`Inbound`; it goes into a :class:`FrameQueue`, and
a worker takes it out, computes the reply and calls ``inbound.reply(wire)`` exactly once
(``None`` meaning "nothing to send": a dropped packet).  The call always happens, so the TCP
side can count queries in flight per connection.

:class:`FrameQueue` is bounded twice: in total and per client (source IP).  It never blocks a
producer: :meth:`FrameQueue.put_nowait` returns ``False`` and counts the reason when a frame
does not fit.  :meth:`FrameQueue.get` serves clients round-robin, one frame per client per
turn, so one client flooding the resolver fills only its own share and cannot starve the
others.  (This is deficit round robin with a quantum of one frame, which is exact here
because every frame costs the same: one query.)
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

from resolver.model import Frame

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CLIENT_CAPACITY",
    "FrameQueue",
    "Inbound",
    "QueueStats",
    "Reply",
]

DEFAULT_CAPACITY = 4096
"""Frames held in total across all clients before new ones are dropped."""

DEFAULT_CLIENT_CAPACITY = 256
"""Frames held for one source IP before its new ones are dropped."""

Reply = Callable[[bytes | None], None]
"""Sends one reply to the client a frame came from; ``None`` means no reply (dropped)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """A frame plus the way back to its client; what the queue holds."""

    frame: Frame
    reply: Reply


@dataclass(slots=True)
class QueueStats:
    """Counters of a :class:`FrameQueue`; they only grow."""

    received: int = 0
    """Frames offered to :meth:`FrameQueue.put_nowait`, accepted or not."""
    dropped_full: int = 0
    """Refused because the queue held its total capacity."""
    dropped_client_quota: int = 0
    """Refused because the frame's client already held its per-client capacity."""


class FrameQueue:
    """A bounded queue of :class:`Inbound` frames, fair between clients.

    :param capacity: frames held in total.
    :param client_capacity: frames held per client (keyed by source IP).

    Producers call :meth:`put_nowait` (never blocks); consumers ``await`` :meth:`get`, which
    returns at once, without suspending, while frames are waiting.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY,
                 client_capacity: int = DEFAULT_CLIENT_CAPACITY) -> None:
        if capacity < 1 or client_capacity < 1:
            raise ValueError("capacities must be at least 1")
        self.capacity = capacity
        self.client_capacity = client_capacity
        self.stats = QueueStats()
        self._by_client: dict[str, collections.deque[Inbound]] = {}
        self._turns: collections.deque[str] = collections.deque()  # clients with frames
        self._size = 0
        self._getters: collections.deque[asyncio.Future[None]] = collections.deque()

    def __len__(self) -> int:
        return self._size

    def clients(self) -> int:
        """How many clients have frames waiting."""
        return len(self._by_client)

    def put_nowait(self, item: Inbound) -> bool:
        """Queue ``item`` if it fits; otherwise count why and return ``False``."""
        self.stats.received += 1
        key = item.frame.client[0]
        frames = self._by_client.get(key)
        if frames is not None and len(frames) >= self.client_capacity:
            self.stats.dropped_client_quota += 1
            return False
        if self._size >= self.capacity:
            self.stats.dropped_full += 1
            return False
        if frames is None:
            frames = self._by_client[key] = collections.deque()
            self._turns.append(key)
        frames.append(item)
        self._size += 1
        self._wake_one()
        return True

    def get_nowait(self) -> Inbound:
        """The next frame in round-robin order; :class:`asyncio.QueueEmpty` if none."""
        if not self._size:
            raise asyncio.QueueEmpty
        return self._pop()

    async def get(self) -> Inbound:
        """The next frame in round-robin order, waiting for one if the queue is empty."""
        while not self._size:
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._getters:
                    self._getters.remove(waiter)
                elif self._size:
                    # We were woken for a frame but cancelled before taking it: pass it on.
                    self._wake_one()
                raise
        return self._pop()

    def _pop(self) -> Inbound:
        key = self._turns.popleft()
        frames = self._by_client[key]
        item = frames.popleft()
        self._size -= 1
        if frames:
            self._turns.append(key)
        else:
            del self._by_client[key]
        return item

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
