"""The UDP listener: each datagram becomes a :class:`~resolver.model.Frame` in the queue.

Nothing is parsed here and nothing is awaited per datagram.  The listener owns a
non-blocking socket and registers it with the loop's reader (``add_reader``, under uvloop
or asyncio alike); each time the socket is readable it drains up to :data:`BATCH`
datagrams in one go, reading the clock once for the batch.  That skips the per-datagram
protocol callback of ``create_datagram_endpoint``, which on this machine kind costs more
than answering a cache hit: a trivial answer-from-a-dict server does ~150k replies/s behind
a uvloop ``DatagramProtocol`` and ~215k/s draining the socket itself.

A datagram the :class:`~resolver.fastpath.FastCache` can answer from bytes is answered on
the spot; any other is stamped with the client's address and the clock, paired with a reply
callable bound to that address, and offered to the :class:`~resolver.frames.FrameQueue`,
which drops and counts what does not fit (UDP clients retry).  Replies go straight to
``socket.sendto``; one the kernel will not take right now (a full send buffer) is dropped
and counted, as a UDP server must rather than queue without bound.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from dataclasses import dataclass
from typing import Any

from resolver.clock import Clock, SystemClock
from resolver.fastpath import FastCache
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame

__all__ = ["BATCH", "RECEIVE_BUFFER", "UDPServer", "UDPStats"]

log = logging.getLogger("shadowdns.resolver.server")

RECEIVE_BUFFER = 1 << 20
"""Socket receive buffer we ask the kernel for (bytes; it may grant less), to ride bursts."""

BATCH = 64
"""Datagrams read per readiness event before the loop gets a turn (fairness to TCP, timers)."""

MAX_DATAGRAM = 65535
"""Receive size: a datagram is never truncated by us."""


@dataclass(slots=True)
class UDPStats:
    """Counters of a :class:`UDPServer`; they only grow."""

    datagrams: int = 0
    """Datagrams received (and offered to the queue)."""
    replies: int = 0
    """Replies handed to the socket."""
    fast_replies: int = 0
    """Of ``replies``, those answered from bytes by the fast cache."""
    reply_dropped: int = 0
    """Replies not sent: the listener was already closed, or the send buffer was full."""
    socket_errors: int = 0
    """Errors the socket reported (e.g. ICMP port unreachable from a departed client)."""


class UDPServer:
    """A UDP listener on ``(host, port)`` feeding ``queue``.

    ``await start()`` binds and returns the bound address (useful with port 0);
    ``await close()`` stops it.
    """

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 53, *,
                 clock: Clock | None = None, receive_buffer: int | None = RECEIVE_BUFFER,
                 fastcache: FastCache | None = None, reuse_port: bool = False) -> None:
        self.queue = queue
        self.host = host
        self.port = port
        self.stats = UDPStats()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._receive_buffer = receive_buffer
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fastcache = fastcache
        self.reuse_port = reuse_port  # several processes share the port (SO_REUSEPORT)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); only valid after :meth:`start`."""
        if self._sock is None:
            raise RuntimeError("the UDP listener is not started")
        sockname = self._sock.getsockname()
        return (sockname[0], sockname[1])

    async def start(self) -> tuple[str, int]:
        if self._sock is not None:
            raise RuntimeError("the UDP listener is already started")
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM,
                                       flags=socket.AI_NUMERICHOST | socket.AI_PASSIVE)
        family, _, _, _, sockaddr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if self.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(sockaddr)
            sock.setblocking(False)
            if self._receive_buffer:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._receive_buffer)
                except OSError as e:  # best effort
                    log.debug("cannot set SO_RCVBUF on %s: %s", sockaddr, e)
            loop.add_reader(sock.fileno(), self._readable)
        except BaseException:
            sock.close()
            raise
        self._sock, self._loop = sock, loop
        log.info("UDP listening on %s port %d", *self.address)
        return self.address

    async def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()
            await asyncio.sleep(0)

    def _readable(self) -> None:
        """Drain up to :data:`BATCH` datagrams; fast-cache hits are answered here."""
        sock = self._sock
        if sock is None:
            return
        recvfrom, sendto = sock.recvfrom, sock.sendto
        fast = self.fastcache
        lookup = fast.lookup if fast is not None else None
        now = self._clock.monotonic()
        received = answered = dropped = errors = 0
        try:
            for _ in range(BATCH):
                try:
                    data, addr = recvfrom(MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:  # e.g. a queued ICMP error; the socket itself is fine
                    errors += 1
                    log.debug("UDP socket error: %s", e)
                    continue
                received += 1
                if lookup is not None:
                    reply = lookup(data, now)
                    if reply is not None:  # a cache hit from bytes: no queue, no parse
                        try:
                            sendto(reply, addr)
                            answered += 1
                        except OSError:
                            dropped += 1
                        continue
                frame = Frame(data, "udp", (addr[0], addr[1]), now)
                self.queue.put_nowait(Inbound(frame, functools.partial(self._send, addr)))
        finally:
            stats = self.stats
            stats.datagrams += received
            stats.replies += answered
            stats.fast_replies += answered
            stats.reply_dropped += dropped
            stats.socket_errors += errors

    def _send(self, addr: Any, wire: bytes | None) -> None:
        if wire is None:
            return
        sock = self._sock
        if sock is None:
            self.stats.reply_dropped += 1
            return
        try:
            sock.sendto(wire, addr)
        except (BlockingIOError, InterruptedError):
            self.stats.reply_dropped += 1
            return
        except OSError as e:
            self.stats.socket_errors += 1
            log.debug("UDP send to %s failed: %s", addr, e)
            return
        self.stats.replies += 1
