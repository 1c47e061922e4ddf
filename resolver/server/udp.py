"""The UDP listener: each datagram becomes a :class:`~resolver.model.Frame` in the queue.

Nothing is parsed here and nothing is awaited per datagram.  The listener owns a
non-blocking socket and registers it with the loop's reader (``add_reader``, under uvloop
or asyncio alike); each time the socket is readable it drains up to :data:`BATCH`
datagrams in one go, reading the clock once for the batch.  That skips the per-datagram
protocol callback of ``create_datagram_endpoint``, which on this machine kind costs more
than answering a cache hit: a trivial answer-from-a-dict server does ~150k replies/s behind
a uvloop ``DatagramProtocol`` and ~215k/s draining the socket itself.

A datagram the :class:`~resolver.cache.reply.FastCache` can answer from bytes is answered on
the spot; any other is stamped with the client's address and the clock, paired with a reply
callable bound to that address, and offered to the :class:`~resolver.frames.FrameQueue`,
which drops and counts what does not fit (UDP clients retry).  Replies go straight to
``socket.sendto``; one the kernel will not take right now (a full send buffer) is dropped
and counted, as a UDP server must rather than queue without bound.

``reader="thread"`` moves the reading off the event loop into a thread of its own, for
fairness under overload (issue 24): on the loop, reading waits while the workers compute
(a cold validated resolution holds the loop for milliseconds), the kernel's receive buffer
fills, and the kernel then drops datagrams blindly, a quiet client's among a flooder's.  The
thread reads as fast as datagrams come, answers the fast cache's memo hits itself (read-only,
lock-free: a dict lookup of immutable items), and sheds per client in user space before any
parse: a client with :data:`HANDOFF_PER_CLIENT` datagrams already waiting for the loop loses
its new ones (counted ``shed_client``), so a flood costs its sender, not its neighbours.
The thread needs the interpreter's lock to do any of that, and a thread waiting for it gets
it only after the running one has held it for the switch interval (5 ms by default): while
the reader thread runs, the process's interval is :data:`GIL_SWITCH_INTERVAL`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import select
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from resolver.cache.reply import FastCache
from resolver.clock import Clock, SystemClock
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame
from resolver.server.front import PER_CLIENT as FRONT_PER_CLIENT
from resolver.server.front import FrontLink
from resolver.server.receive import Receiver

__all__ = ["BATCH", "RECEIVE_BUFFER", "UDPServer", "UDPStats"]

log = logging.getLogger("shadowdns.resolver.server")

RECEIVE_BUFFER = 1 << 20
"""Socket receive buffer we ask the kernel for (bytes; it may grant less), to ride bursts."""

BATCH = 64
"""Datagrams read per readiness event before the loop gets a turn (fairness to TCP, timers)."""

MAX_DATAGRAM = 65535
"""Receive size: a datagram is never truncated by us."""

READERS = ("loop", "thread", "front")
"""Where datagrams are read: on the event loop, in a reader thread (see the docstring), or
in a front process of their own (:mod:`resolver.server.front`)."""

HANDOFF_PER_CLIENT = 64
"""Datagrams of one source address waiting in the reader thread's handoff to the loop."""

HANDOFF_TOTAL = 8192
"""Datagrams waiting in the handoff in all; beyond it new ones are shed (``shed_full``)."""

GIL_SWITCH_INTERVAL = 0.0005
"""``sys.setswitchinterval`` while a reader thread runs (restored when the last one stops).
Measured with ``bench fairness --readers thread --flood-rate 4000`` on the idle 2-core
machine: with the default 5 ms the quiet client lost 226 of 800 queries (p99 976 ms); with
0.5 ms and 0.1 ms it lost none (p99 14-71 ms, against 1.7-2.4 ms alone)."""

POLL_SECONDS = 0.2
"""How often the reader thread looks whether the listener was closed."""


_switch_holders = 0
_switch_before = 0.0
_switch_lock = threading.Lock()


def _hold_switch_interval() -> None:
    """A reader thread starts: the process's switch interval becomes GIL_SWITCH_INTERVAL."""
    global _switch_holders, _switch_before
    with _switch_lock:
        if _switch_holders == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, GIL_SWITCH_INTERVAL))
        _switch_holders += 1


def _release_switch_interval() -> None:
    """A reader thread stopped: the last one puts the process's interval back."""
    global _switch_holders
    with _switch_lock:
        _switch_holders -= 1
        if _switch_holders == 0:
            sys.setswitchinterval(_switch_before)


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
    shed_client: int = 0
    """Reader thread: dropped before parsing, their client already had its share waiting."""
    shed_full: int = 0
    """Reader thread: dropped before parsing, the handoff to the loop was full."""


class UDPServer:
    """A UDP listener on ``(host, port)`` feeding ``queue``.

    ``await start()`` binds and returns the bound address (useful with port 0);
    ``await close()`` stops it.
    """

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 53, *,
                 clock: Clock | None = None, receive_buffer: int | None = RECEIVE_BUFFER,
                 fastcache: FastCache | None = None, reuse_port: bool = False,
                 reader: str = "loop", front_cache_bytes: int | None = None,
                 front_per_client: int = FRONT_PER_CLIENT) -> None:
        if reader not in READERS:
            raise ValueError(f"reader: expected one of {', '.join(READERS)}, got {reader!r}")
        self.reader = reader
        self.queue = queue
        self.host = host
        self.port = port
        self.stats = UDPStats()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._receive_buffer = receive_buffer
        self._sock: socket.socket | None = None
        self._receiver = Receiver(MAX_DATAGRAM)  # the loop reader's (the thread has its own)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fastcache = fastcache
        self.reuse_port = reuse_port  # several processes share the port (SO_REUSEPORT)
        # reader thread state: datagrams handed to the loop and per-client counts, under a lock
        self._lock = threading.Lock()
        self._handoff: list[tuple[bytes, Any, float]] = []
        self._waiting: dict[str, int] = {}
        self._drain_scheduled = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._thread_stats = UDPStats()  # written by the thread alone; merged by stats_now()
        self._front: FrontLink | None = None
        self._front_per_client = front_per_client
        self._front_cache_bytes = front_cache_bytes or (
            fastcache.capacity_bytes if fastcache is not None else 1 << 20)

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
            if self.reader == "loop":
                loop.add_reader(sock.fileno(), self._readable)
        except BaseException:
            sock.close()
            raise
        self._sock, self._loop = sock, loop
        if self.reader == "front":
            self._front = FrontLink(sock, self.queue, self.fastcache, self._clock.monotonic,
                                    self._send, self._front_lost, self._front_cache_bytes,
                                    self._front_per_client)
            try:
                self._front.start(loop)
            except BaseException:
                self._sock = None
                sock.close()
                raise
        if self.reader == "thread":
            _hold_switch_interval()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._read_thread, args=(sock, loop),
                                            name=f"udp-reader-{self.port}", daemon=True)
            self._thread.start()
        log.info("UDP listening on %s port %d (reader: %s)", *self.address, self.reader)
        return self.address

    async def close(self) -> None:
        sock, self._sock = self._sock, None
        front, self._front = self._front, None
        if front is not None:
            await front.close()
            if front.lost and sock is not None and self._loop is not None:
                self._loop.remove_reader(sock.fileno())
        if sock is not None and self._loop is not None:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._stopping.set()
                await asyncio.to_thread(thread.join, 2 * POLL_SECONDS + 1.0)
                _release_switch_interval()
            elif self.reader == "loop":
                self._loop.remove_reader(sock.fileno())
            sock.close()
            await asyncio.sleep(0)

    @property
    def front_pid(self) -> int | None:
        """The front process's PID (``reader="front"``), None without one."""
        return self._front.pid if self._front is not None else None

    def _front_lost(self) -> None:
        """The front process exited: this process reads the socket itself from now on."""
        sock, loop = self._sock, self._loop
        if sock is not None and loop is not None:
            loop.add_reader(sock.fileno(), self._readable)

    def stats_now(self) -> UDPStats:
        """The counters, the reader thread's or the front's included (``stats`` alone
        lacks them)."""
        t, s = self._thread_stats, self.stats
        if self._front is not None:
            t = UDPStats(**self._front.counts)
        return UDPStats(datagrams=s.datagrams + t.datagrams, replies=s.replies + t.replies,
                        fast_replies=s.fast_replies + t.fast_replies,
                        reply_dropped=s.reply_dropped + t.reply_dropped,
                        socket_errors=s.socket_errors + t.socket_errors,
                        shed_client=t.shed_client, shed_full=t.shed_full)

    def _read_thread(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        """Read every datagram as it comes; memo hits answered here, the rest handed to the
        loop in batches, each client bounded (see the module docstring)."""
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        recvfrom, sendto = Receiver(MAX_DATAGRAM).recvfrom, sock.sendto
        fast = self.fastcache
        memo = fast.memo_lookup if fast is not None else None
        stats, lock, stopping = self._thread_stats, self._lock, self._stopping
        monotonic = self._clock.monotonic
        while not stopping.is_set():
            try:
                if not poller.poll(POLL_SECONDS * 1000):
                    continue
            except OSError:
                return  # the socket was closed under us
            now = monotonic()
            while True:
                try:
                    data, addr = recvfrom(sock)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if sock.fileno() < 0:
                        return
                    stats.socket_errors += 1
                    log.debug("UDP socket error: %s", e)
                    continue
                stats.datagrams += 1
                if memo is not None:
                    reply = memo(data, now)
                    if reply is not None:
                        try:
                            sendto(reply, addr)
                            stats.replies += 1
                            stats.fast_replies += 1
                        except OSError:
                            stats.reply_dropped += 1
                        continue
                key = addr[0]
                with lock:
                    waiting = self._waiting.get(key, 0)
                    if waiting >= HANDOFF_PER_CLIENT:
                        stats.shed_client += 1
                        continue
                    if len(self._handoff) >= HANDOFF_TOTAL:
                        stats.shed_full += 1
                        continue
                    self._waiting[key] = waiting + 1
                    self._handoff.append((data, addr, now))
                    wake = not self._drain_scheduled
                    self._drain_scheduled = True
                if wake:
                    try:
                        loop.call_soon_threadsafe(self._drain)
                    except RuntimeError:
                        return  # the loop is closed

    def _drain(self) -> None:
        """On the loop: what the reader thread handed over, through the fast cache (it may
        render from its ARC) and into the fair queue."""
        with self._lock:
            items, self._handoff = self._handoff, []
            self._waiting.clear()
            self._drain_scheduled = False
        fast = self.fastcache
        lookup = fast.lookup if fast is not None else None
        answered = dropped = 0
        for data, addr, received_at in items:
            if lookup is not None:
                reply = lookup(data, received_at)
                if reply is not None:
                    sock = self._sock
                    try:
                        if sock is None:
                            raise OSError("closed")
                        sock.sendto(reply, addr)
                        answered += 1
                    except OSError:
                        dropped += 1
                    continue
            frame = Frame(data, "udp", (addr[0], addr[1]), received_at)
            self.queue.put_nowait(Inbound(frame, functools.partial(self._send, addr)))
        self.stats.replies += answered
        self.stats.fast_replies += answered
        self.stats.reply_dropped += dropped

    def _readable(self) -> None:
        """Drain up to :data:`BATCH` datagrams; fast-cache hits are answered here."""
        sock = self._sock
        if sock is None:
            return
        recvfrom, sendto = self._receiver.recvfrom, sock.sendto
        fast = self.fastcache
        lookup = fast.lookup if fast is not None else None
        now = self._clock.monotonic()
        received = answered = dropped = errors = 0
        try:
            for _ in range(BATCH):
                try:
                    data, addr = recvfrom(sock)
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
        front = self._front
        if front is not None and front.reply(addr, wire):
            return  # the front sends it and counts it
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
