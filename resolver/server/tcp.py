"""The TCP listener (RFC 7766) and, over TLS, the DoT listener (RFC 7858).

Length-prefixed messages, pipelined, answered out of order.  DoT is the same byte stream
inside TLS, so :class:`TCPServer` with a ``tls`` context *is* the DoT listener: asyncio's
TLS transport hands this protocol the decrypted stream and the framing, limits and timeouts
below apply unchanged; the frames are marked ``dot``.  The TLS handshake has its own
deadline (:data:`HANDSHAKE_TIMEOUT`); a peer that does not finish it in time is dropped
before it reaches the protocol (and before it counts against :data:`MAX_CONNECTIONS`).

Each connection is an :class:`asyncio.Protocol` that cuts its byte stream at the 2-byte
length prefixes and puts each message into the :class:`~resolver.frames.FrameQueue` as a
frame, without waiting for earlier ones to be answered; every reply is written as soon as
its worker finishes, so answers may come back in any order (clients match them by ID).

Limits, all configurable and named here:

* :data:`BACKLOG` — the listen backlog (bounded by the kernel's ``somaxconn``), so a burst
  of new connections waits in the kernel's accept queue instead of having its SYNs dropped
  (100, asyncio's default, overflowed at a few hundred connections per second).
* :data:`MAX_CONNECTIONS` — connections above it are closed as soon as they are accepted
  (``refused``): a flood is refused cleanly, at the cost of one accept each.
* :data:`MAX_PER_CLIENT` — open connections from one client address; more are refused the
  same way (``refused_client``), so one address cannot take every slot.
* :data:`MAX_IN_FLIGHT` — queries of one connection being worked on at once.  At that mark
  the connection stops taking messages from its buffer and pauses reading the socket, so
  the client's own TCP window pushes back; reading resumes once half of them are answered.
  Reading is also paused while the transport's write buffer is over its high-water mark
  (a client that does not read its answers).
* :data:`IDLE_TIMEOUT` — a connection with nothing in flight that has neither completed a
  message nor been sent a reply for this long is closed (``closed_idle``).  Trickling
  bytes without completing messages does not keep it open.

A client may half-close after its queries: pending answers are still written, and the
connection closes once they are out.

With a :class:`~resolver.cache.reply.FastCache`, a message it answers from bytes is answered as
soon as it is cut from the stream (no frame, no queue), as the UDP listener does; a stored
TC=1 reply is never served on a stream (it would be a miss there: the full path answers), a
stored whole answer bigger than the client's UDP limit is (``lookup(..., stream=True)``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import cast

from resolver.cache.reply import FastCache
from resolver.clock import Clock, SystemClock
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame, Transport

__all__ = ["BACKLOG", "HANDSHAKE_TIMEOUT", "IDLE_TIMEOUT", "MAX_CONNECTIONS", "MAX_IN_FLIGHT",
           "MAX_PER_CLIENT", "TCPServer", "TCPStats", "listen_backlog"]

log = logging.getLogger("shadowdns.resolver.server")

IDLE_TIMEOUT = 10.0
"""Seconds a connection may sit with nothing in flight and no traffic before we close it."""

MAX_CONNECTIONS = 1024
"""Open client connections; more are closed on accept."""

MAX_PER_CLIENT = 256
"""Open connections from one client address; more are closed on accept."""

BACKLOG = 4096
"""Listen backlog asked for (the kernel caps it at net.core.somaxconn)."""

MAX_IN_FLIGHT = 32
"""Queries of one connection in the queue or being worked on before reading pauses."""

HANDSHAKE_TIMEOUT = 5.0
"""Seconds a TLS client has to complete its handshake."""

WRITE_BATCH = 64
"""Fast-cache replies cut from one read that are written together (pipelined clients)."""

READ_BUFFER = 65536
"""Bytes one read may take: the listener's one receive buffer, shared by its connections."""


@dataclass(slots=True)
class TCPStats:
    """Counters of a :class:`TCPServer`; they only grow."""

    accepted: int = 0
    """Connections admitted."""
    refused: int = 0
    """Connections closed on accept because :data:`MAX_CONNECTIONS` were open."""
    refused_client: int = 0
    """Connections closed on accept because their address had :data:`MAX_PER_CLIENT` open."""
    closed_idle: int = 0
    """Connections closed by the idle timeout."""
    messages: int = 0
    """Complete messages taken from connections (and offered to the queue)."""
    queue_dropped: int = 0
    """Messages the queue refused (full, or the client over its share); not answered."""
    replies: int = 0
    """Replies written."""
    fast_replies: int = 0
    """Of ``replies``, those answered from bytes by the fast cache."""
    paused: int = 0
    """Times a connection's reading was paused for backpressure."""


class TCPServer:
    """A TCP listener on ``(host, port)`` feeding ``queue``; with ``tls``, a DoT listener.

    ``await start()`` binds and returns the bound address; ``await close()`` stops
    listening and closes every connection.
    """

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 53, *,
                 clock: Clock | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS,
                 max_in_flight: int = MAX_IN_FLIGHT, reuse_port: bool = False,
                 fastcache: FastCache | None = None, tls: ssl.SSLContext | None = None,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 backlog: int = BACKLOG, max_per_client: int = MAX_PER_CLIENT) -> None:
        if (idle_timeout <= 0 or max_connections < 1 or max_in_flight < 1 or backlog < 1
                or max_per_client < 1 or handshake_timeout <= 0):
            raise ValueError("idle_timeout, max_connections, max_in_flight, backlog, "
                             "max_per_client and handshake_timeout must be positive")
        self.tls = tls
        self.handshake_timeout = handshake_timeout
        self.transport: Transport = "dot" if tls is not None else "tcp"
        self.fastcache = fastcache
        self.queue = queue
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        self.reuse_port = reuse_port
        self.backlog = listen_backlog(backlog)
        self.max_per_client = max_per_client
        self.stats = TCPStats()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._per_client: dict[str, int] = {}
        # Every connection reads into this one buffer and copies out at once (the loop reads
        # one connection at a time).  Over TLS it spares a 256 KB bytes object per record
        # that asyncio's and uvloop's SSL transports allocate for a plain Protocol: an
        # mmap/munmap pair per read, most of DoT's and DoH's CPU per small query.
        self._read_view = memoryview(bytearray(READ_BUFFER))

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); only valid after :meth:`start`."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the TCP listener is not started")
        sockname = self._server.sockets[0].getsockname()
        return (sockname[0], sockname[1])

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._connections)

    @property
    def reading_paused(self) -> int:
        """Connections whose socket is not being read now (their in-flight limit reached,
        their client not reading its answers, or shed): the transport's own state."""
        return sum(1 for c in self._connections
                   if c._transport is not None and not c._transport.is_reading())

    @property
    def writing_paused(self) -> int:
        """Connections whose client does not read: answers over the write buffer's mark."""
        return sum(1 for c in self._connections if c._writing_paused)

    async def start(self) -> tuple[str, int]:
        if self._server is not None:
            raise RuntimeError("the TCP listener is already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, reuse_address=True,
            reuse_port=self.reuse_port or None, backlog=self.backlog, ssl=self.tls,
            ssl_handshake_timeout=self.handshake_timeout if self.tls is not None else None)
        log.info("%s listening on %s port %d (backlog %d)", self.transport.upper(),
                 *self.address, self.backlog)
        return self.address

    def _protocol(self) -> asyncio.BaseProtocol:
        """A new connection's protocol (the DoH listener has its own)."""
        return _Connection(self)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self._connections):
            connection.abort()
        await server.wait_closed()
        await asyncio.sleep(0)  # let connection_lost run for the aborted connections


class _Connection(asyncio.BufferedProtocol):
    """One client connection: framing, in-flight accounting, pausing, idle timeout."""

    def __init__(self, server: TCPServer) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._client: tuple[str, int] = ("", 0)
        self._buffer = bytearray()
        self._in_flight = 0
        self._reading_paused = False
        self._writing_paused = False
        self._eof = False
        self._closed = False
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self._server
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self._client = (str(peer[0]), int(peer[1])) if peer else ("", 0)
        if len(server._connections) >= server.max_connections:
            server.stats.refused += 1
            self._refuse("TCP connection cap (%d) reached", server.max_connections)
            return
        address = self._client[0]
        if server._per_client.get(address, 0) >= server.max_per_client:
            server.stats.refused_client += 1
            self._refuse("TCP per-client cap (%d) reached", server.max_per_client)
            return
        server._connections.add(self)
        server._per_client[address] = server._per_client.get(address, 0) + 1
        server.stats.accepted += 1
        self._last_activity = self._loop.time()
        self._timer = self._loop.call_later(server.idle_timeout, self._check_idle)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._server._read_view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._server._read_view[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        if self._closed or self._eof:  # after end of stream, or shedding (:meth:`_shed`)
            return
        self._buffer += data
        self._dispatch()

    def eof_received(self) -> bool:
        self._eof = True
        if self._in_flight == 0 and not self._has_message():
            return False  # nothing owed: let the transport close
        return True  # keep the write side open for the answers still owed

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._dispatch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._buffer.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        server = self._server
        if self in server._connections:
            server._connections.discard(self)
            address = self._client[0]
            left = server._per_client.get(address, 1) - 1
            if left > 0:
                server._per_client[address] = left
            else:
                server._per_client.pop(address, None)

    # -- ours --------------------------------------------------------------------------

    def _refuse(self, why: str, limit: int) -> None:
        """Close a connection just accepted, at once: the client reads end-of-stream."""
        self._closed = True
        log.debug(why + "; closing a new connection from %s", limit, self._client[0])
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _dispatch(self) -> None:
        """Queue the complete messages in the buffer, up to the in-flight limit, and not
        while the client is not reading its answers."""
        server = self._server
        buffer = self._buffer
        limit = server.max_in_flight
        fast = server.fastcache
        transport = self._transport
        answered: list[bytes] = []  # fast replies, written at once after the loop
        pos = 0
        while self._in_flight < limit and not self._writing_paused and len(buffer) - pos >= 2:
            length = (buffer[pos] << 8) | buffer[pos + 1]
            end = pos + 2 + length
            if len(buffer) < end:
                break
            wire = bytes(buffer[pos + 2:end])
            pos = end
            server.stats.messages += 1
            self._last_activity = self._loop.time()
            if fast is not None and transport is not None:
                reply = fast.lookup(wire, server._clock.monotonic(), stream=True)
                if reply is not None and not reply[2] & 0x02:  # a hit, and not TC=1
                    answered.append(len(reply).to_bytes(2, "big") + reply)
                    if len(answered) >= WRITE_BATCH:  # bounded; may pause writing
                        self._write_hits(answered)
                        answered = []
                    continue
            frame = Frame(wire, server.transport, self._client, server._clock.monotonic())
            self._in_flight += 1
            if not server.queue.put_nowait(Inbound(frame, self._reply)):
                self._in_flight -= 1
                server.stats.queue_dropped += 1
                if answered:  # the cache hits read before it are still owed
                    self._write_hits(answered)
                self._shed()
                return
        if pos:
            del buffer[:pos]
        if answered:
            self._write_hits(answered)
        self._update_reading()
        if self._eof and self._in_flight == 0 and not self._has_message():
            self._close()

    def _shed(self) -> None:
        """The queue refused a message (full, or the client over its share): rather than
        leave the client waiting for an answer that will never come, stop reading, write
        the answers still owed and close (RFC 7766 §6.2.3: a server may close connections
        under resource pressure; the client sees end of stream and may retry)."""
        self._buffer.clear()
        self._eof = True
        if self._transport is not None and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()
        if self._in_flight == 0:
            self._close()
    def _write_hits(self, replies: list[bytes]) -> None:
        """Fast-cache replies (length-prefixed) in one write: one TLS record on DoT."""
        if self._transport is None:
            return
        self._transport.write(b"".join(replies))
        stats = self._server.stats
        stats.replies += len(replies)
        stats.fast_replies += len(replies)
        self._last_activity = self._loop.time()

    def _has_message(self) -> bool:
        """Whether the buffer holds a complete message not yet queued."""
        buffer = self._buffer
        return len(buffer) >= 2 and len(buffer) >= 2 + ((buffer[0] << 8) | buffer[1])

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        busy = self._in_flight >= self._server.max_in_flight
        if not self._reading_paused:
            if busy or self._writing_paused:
                self._reading_paused = True
                self._server.stats.paused += 1
                transport.pause_reading()
        elif (not self._writing_paused and not self._eof
              and self._in_flight <= self._server.max_in_flight // 2):
            self._reading_paused = False
            transport.resume_reading()

    def _reply(self, wire: bytes | None) -> None:
        """Called once per queued frame by the worker that handled it."""
        self._in_flight -= 1
        if self._closed or self._transport is None or self._transport.is_closing():
            return
        if wire is not None:
            self._transport.write(len(wire).to_bytes(2, "big") + wire)
            self._server.stats.replies += 1
            self._last_activity = self._loop.time()
        self._dispatch()

    def _check_idle(self) -> None:
        self._timer = None
        if self._closed:
            return
        timeout = self._server.idle_timeout
        idle_for = self._loop.time() - self._last_activity
        if self._in_flight == 0 and idle_for >= timeout:
            self._server.stats.closed_idle += 1
            log.debug("closing idle TCP connection from %s", self._client)
            self._close()
            return
        delay = timeout if self._in_flight else timeout - idle_for
        self._timer = self._loop.call_later(delay, self._check_idle)

    def _close(self) -> None:
        if not self._closed and self._transport is not None:
            self._closed = True
            self._transport.close()


def listen_backlog(wanted: int) -> int:
    """``wanted`` bounded by the kernel's ``net.core.somaxconn`` (which caps it anyway): the
    backlog the listener really gets, to log and report."""
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            somaxconn = int(f.read().strip())
    except (OSError, ValueError):
        somaxconn = socket.SOMAXCONN
    return max(1, min(wanted, somaxconn))
