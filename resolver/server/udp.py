"""The UDP listener: each datagram becomes a :class:`~resolver.model.Frame` in the queue.

Nothing is parsed here and nothing is awaited per datagram: ``datagram_received`` stamps
the bytes with the client's address and the clock, pairs them with a reply callable bound
to that address, and offers them to the :class:`~resolver.frames.FrameQueue`, which drops
and counts what does not fit (UDP clients retry).  Replies go out with
``transport.sendto``; sizing them for the client is the worker's job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from dataclasses import dataclass
from typing import Any, cast

from resolver.clock import Clock, SystemClock
from resolver.fastpath import FastCache
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame

__all__ = ["RECEIVE_BUFFER", "UDPServer", "UDPStats"]

log = logging.getLogger("shadowdns.resolver.server")

RECEIVE_BUFFER = 1 << 20
"""Socket receive buffer we ask the kernel for (bytes; it may grant less), to ride bursts."""


@dataclass(slots=True)
class UDPStats:
    """Counters of a :class:`UDPServer`; they only grow."""

    datagrams: int = 0
    """Datagrams received (and offered to the queue)."""
    replies: int = 0
    """Replies handed to the socket."""
    reply_dropped: int = 0
    """Replies not sent because the listener was already closed."""
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
        self._transport: asyncio.DatagramTransport | None = None
        self.fastcache = fastcache
        self.reuse_port = reuse_port  # several processes share the port (SO_REUSEPORT)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); only valid after :meth:`start`."""
        if self._transport is None:
            raise RuntimeError("the UDP listener is not started")
        sockname = self._transport.get_extra_info("sockname")
        return (sockname[0], sockname[1])

    async def start(self) -> tuple[str, int]:
        if self._transport is not None:
            raise RuntimeError("the UDP listener is already started")
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UDPProtocol(self), local_addr=(self.host, self.port),
            reuse_port=self.reuse_port or None)
        self._transport = transport
        if self._receive_buffer:
            sock = transport.get_extra_info("socket")
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._receive_buffer)
            except OSError as e:  # best effort
                log.debug("cannot set SO_RCVBUF on %s: %s", self.address, e)
        log.info("UDP listening on %s port %d", *self.address)
        return self.address

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            await asyncio.sleep(0)  # let the loop run connection_lost and free the socket

    def _received(self, transport: asyncio.DatagramTransport, data: bytes, addr: Any) -> None:
        self.stats.datagrams += 1
        now = self._clock.monotonic()
        if self.fastcache is not None:
            reply = self.fastcache.lookup(data, now)
            if reply is not None:  # a cache hit from bytes: no queue, no parse
                transport.sendto(reply, addr)
                self.stats.replies += 1
                return
        client = (addr[0], addr[1])
        frame = Frame(data, "udp", client, now)
        self.queue.put_nowait(Inbound(frame, functools.partial(self._send, transport, addr)))

    def _send(self, transport: asyncio.DatagramTransport, addr: Any, wire: bytes | None) -> None:
        if wire is None:
            return
        if transport.is_closing():
            self.stats.reply_dropped += 1
            return
        transport.sendto(wire, addr)
        self.stats.replies += 1


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: UDPServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self._transport is not None:
            self._server._received(self._transport, data, addr)

    def error_received(self, exc: Exception) -> None:
        self._server.stats.socket_errors += 1
        log.debug("UDP socket error: %s", exc)
