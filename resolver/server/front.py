"""The UDP front: a process of its own that reads the UDP socket (``--udp-reader front``).

Issue 24 part 6 and issue 22 part 4: in one Python process the hit path and the cold path
share the interpreter's lock, so a flood of cold names delays cache hits by tens of
milliseconds (docs/RELIABILITY.md, "Fairness under a flood").  The front takes the hit
path out of the resolving process:

* the **front process** (:func:`main`, in a Python of its own started by the listener and
  stopped when the listener closes or its process dies) owns the reading side of the UDP
  socket; it answers from its own :class:`~resolver.cache.reply.FastCache` (bytes in,
  bytes out, no parse) and hands every other datagram to the resolving process over a
  ``SOCK_SEQPACKET`` pair, each client address allowed :data:`PER_CLIENT` datagrams
  waiting for an answer: a flood is shed in the front, before any parse, at its sender;
* the **resolving process** (:class:`FrontLink`) turns the handed datagrams into frames for
  its queue, sends its replies back over the pair (the front sends them to the client),
  and mirrors into the front's cache every reply its own fast cache stores and every
  flush, so the front answers exactly what the resolving process would from bytes.

The operating system schedules the front apart from the resolving work, so a hit waits for
a core, not for the interpreter's lock.  If the front dies, the listener reads the socket
on its loop again (the ``loop`` reader) and says so in the log: a server keeps answering.

Messages on the pair (one per packet): front -> resolver ``Q`` + address + query and ``T``
+ counters; resolver -> front ``R`` + address + reply, ``D`` + address (no reply for that
query), ``S`` + lifetime + stream + query length + query + reply (store), ``C`` (clear).
An address is the port (2 octets), the host's length (1) and the host in ASCII.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from resolver.cache.reply import FastCache
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame
from resolver.server.receive import Receiver

__all__ = ["PER_CLIENT", "FrontLink", "main"]

log = logging.getLogger("shadowdns.resolver.server")

QUERY, REPLY, DONE, STORE, CLEAR, STATS = b"Q", b"R", b"D", b"S", b"C", b"T"

PER_CLIENT = 256
"""Datagrams of one client address handed to the resolving process and not yet answered;
beyond it the front sheds that client's new datagrams (counted ``shed_client``).  The
default of ``resolver serve --udp-front-per-client`` (0 there: no limit, for a resolver
whose clients all come through one address, a load balancer's)."""

RESET_SECONDS = 2.0
"""The per-client counts start again this often (a query the resolver dropped unanswered,
say from a full queue, must not hold its client's share for ever)."""

STATS_SECONDS = 0.5
"""How often the front reports its counters to the resolving process."""

LINK_BUFFER = 4 << 20
"""Socket buffer asked for on each side of the pair (the kernel may grant less); when the
resolving process's side is full, new datagrams are shed (``shed_full``)."""

BATCH = 256
"""Datagrams (or messages) read per readiness event before the other side gets a turn."""

MAX_MESSAGE = 65535 + 2 * 65535 + 64
"""Largest message on the pair: a store carries a query and a reply."""

COUNTERS = ("datagrams", "replies", "fast_replies", "reply_dropped", "socket_errors",
            "shed_client", "shed_full")
"""The front's counters, in :class:`~resolver.server.udp.UDPStats`'s names and order."""

_COUNTERS = struct.Struct(f"!{len(COUNTERS)}Q")
_STORE = struct.Struct("!dBH")  # lifetime (negative: none), stream, query length


def pack_address(addr: Any) -> bytes:
    host: bytes = addr[0].encode("ascii")
    return struct.pack("!HB", addr[1], len(host)) + host


def unpack_address(message: bytes, at: int) -> tuple[tuple[str, int], int]:
    """The address at ``at`` and where what follows it starts."""
    port, n = struct.unpack_from("!HB", message, at)
    start = at + 3
    return (message[start:start + n].decode("ascii"), port), start + n


def _pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for s in (ours, theirs):
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            with contextlib.suppress(OSError):  # best effort, as the UDP buffer
                s.setsockopt(socket.SOL_SOCKET, option, LINK_BUFFER)
    ours.setblocking(False)
    return ours, theirs


# -- the front process ---------------------------------------------------------------------

class Front:
    """The front's loop: the UDP socket and the pair, in one thread, no asyncio."""

    def __init__(self, udp: socket.socket, link: socket.socket, cache: FastCache,
                 clock: Callable[[], float] = time.monotonic,
                 per_client: int = PER_CLIENT) -> None:
        self.udp, self.link, self.cache, self.clock = udp, link, cache, clock
        # 0: no limit (every datagram of a client is handed over)
        self.per_client = per_client if per_client > 0 else 1 << 62
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.waiting: dict[str, int] = {}
        self._datagrams = Receiver(65535)
        self._messages = Receiver(MAX_MESSAGE)

    def run(self) -> None:
        """Serve until the resolving process closes its side of the pair."""
        self.udp.setblocking(False)
        self.link.setblocking(False)
        poller = select.poll()
        poller.register(self.udp.fileno(), select.POLLIN)
        poller.register(self.link.fileno(), select.POLLIN | select.POLLHUP)
        link_fd = self.link.fileno()
        reset_at = self.clock() + RESET_SECONDS
        report_at, reported = 0.0, b""
        while True:
            for fd, _ in poller.poll(STATS_SECONDS * 1000):
                if fd == link_fd:
                    if not self.from_resolver():
                        return
                else:
                    self.from_clients()
            now = self.clock()
            if now >= reset_at:
                self.waiting.clear()
                reset_at = now + RESET_SECONDS
            if now >= report_at:
                report = _COUNTERS.pack(*self.counts.values())
                if report != reported:
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        self.link.send(STATS + report)
                        reported = report
                report_at = now + STATS_SECONDS

    def from_clients(self) -> None:
        udp, sendto, send = self.udp, self.udp.sendto, self.link.send
        recvfrom = self._datagrams.recvfrom
        lookup, memo = self.cache.lookup, self.cache.memo_lookup
        counts, waiting, share = self.counts, self.waiting, self.per_client
        now = self.clock()
        for _ in range(BATCH):
            try:
                data, addr = recvfrom(udp)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. a queued ICMP error; the socket itself is fine
                counts["socket_errors"] += 1
                continue
            counts["datagrams"] += 1
            host = addr[0]
            held = waiting.get(host, 0)
            try:
                # a client at its share gets the memo's exact repeats (one dict lookup) and
                # is shed otherwise, before the costlier parse of a full lookup: a flood
                # must not delay its neighbours' hits behind its own misses
                reply = memo(data, now) if held >= share else lookup(data, now)
            except Exception:  # never on a packet: the resolving process will judge it
                reply = None
            if reply is not None:
                try:
                    sendto(reply, addr)
                    counts["replies"] += 1
                    counts["fast_replies"] += 1
                except OSError:
                    counts["reply_dropped"] += 1
                continue
            if held >= share:
                counts["shed_client"] += 1
                continue
            try:
                send(QUERY + pack_address(addr) + data)
            except (BlockingIOError, InterruptedError):
                counts["shed_full"] += 1
                continue
            waiting[host] = held + 1

    def from_resolver(self) -> bool:
        """Replies, stores and flushes from the resolving process; False once it is gone."""
        link, recv, counts, waiting = self.link, self._messages.recv, self.counts, self.waiting
        for _ in range(BATCH):
            try:
                message = recv(link)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
            if not message:
                return False
            kind = message[:1]
            if kind == REPLY or kind == DONE:
                addr, at = unpack_address(message, 1)
                held = waiting.get(addr[0], 0)
                if held > 1:
                    waiting[addr[0]] = held - 1
                else:
                    waiting.pop(addr[0], None)
                if kind == DONE:
                    continue
                try:
                    self.udp.sendto(message[at:], addr)
                    counts["replies"] += 1
                except OSError:
                    counts["reply_dropped"] += 1
            elif kind == STORE:
                lifetime, stream, qlen = _STORE.unpack_from(message, 1)
                start = 1 + _STORE.size
                self.cache.store(message[start:start + qlen], message[start + qlen:],
                                 self.clock(), lifetime=lifetime if lifetime >= 0 else None,
                                 stream=bool(stream))
            elif kind == CLEAR:
                self.cache.clear()
        return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="resolver front",
                                description="The UDP front of one resolver process (started "
                                            "by it; see the module's docstring).")
    p.add_argument("--udp-fd", type=int, required=True)
    p.add_argument("--link-fd", type=int, required=True)
    p.add_argument("--cache-bytes", type=int, required=True)
    p.add_argument("--per-client", type=int, default=PER_CLIENT)
    args = p.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the resolver closes the pair
    try:
        udp = socket.socket(fileno=args.udp_fd)
        link = socket.socket(fileno=args.link_fd)
    except OSError as e:
        print(f"resolver front: --udp-fd/--link-fd: {e.strerror or e}", file=sys.stderr)
        return 2
    Front(udp, link, FastCache(args.cache_bytes), per_client=args.per_client).run()
    return 0


# -- the resolving process's side ----------------------------------------------------------

class FrontLink:
    """Starts the front for a bound UDP socket and plays the pair on the loop: datagrams
    in as frames, replies out, the fast cache's stores and flushes mirrored."""

    def __init__(self, sock: socket.socket, queue: FrameQueue, fastcache: FastCache | None,
                 clock: Callable[[], float], send: Callable[[Any, bytes | None], None],
                 on_lost: Callable[[], None], cache_bytes: int,
                 per_client: int = PER_CLIENT) -> None:
        self.sock, self.queue, self.fastcache, self.clock = sock, queue, fastcache, clock
        self.send = send  # the listener's reply: through reply() below, or itself
        self.on_lost = on_lost
        self.cache_bytes = cache_bytes
        self.per_client = per_client
        self.counts = dict.fromkeys(COUNTERS, 0)  # the front's latest report
        self.lost = False  # the front exited while we served: the loop reads the socket
        self.process: subprocess.Popen[bytes] | None = None
        self._link: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._messages = Receiver(MAX_MESSAGE)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        ours, theirs = _pair()
        try:
            fds = (self.sock.fileno(), theirs.fileno())
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, "--udp-fd", str(fds[0]), "--link-fd",
                 str(fds[1]), "--cache-bytes", str(self.cache_bytes), "--per-client",
                 str(self.per_client)],
                pass_fds=fds, stdin=subprocess.DEVNULL,
                # third-party import-time warnings are not the front's to print
                env={**os.environ, "PYTHONPATH": _import_path(), "PYTHONWARNINGS": "ignore"})
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._link, self._loop = ours, loop
        loop.add_reader(ours.fileno(), self._readable)
        if self.fastcache is not None:
            self.fastcache.mirror = self

    async def close(self) -> None:
        link, self._link = self._link, None
        if self.fastcache is not None and self.fastcache.mirror is self:
            self.fastcache.mirror = None
        if link is not None and self._loop is not None:
            self._loop.remove_reader(link.fileno())
            link.close()  # the front sees the pair close and exits
        process = self.process
        if process is not None:
            try:
                await asyncio.to_thread(process.wait, 5.0)
            except subprocess.TimeoutExpired:
                process.kill()  # ours, by PID
                await asyncio.to_thread(process.wait)

    def _readable(self) -> None:
        link = self._link
        if link is None:
            return
        now = self.clock()
        put, recv = self.queue.put_nowait, self._messages.recv
        for _ in range(BATCH):
            try:
                message = recv(link)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message = b""
            if not message:
                self._lost()
                return
            kind = message[:1]
            if kind == QUERY:
                addr, at = unpack_address(message, 1)
                frame = Frame(message[at:], "udp", addr, now)
                put(Inbound(frame, functools.partial(self.send, addr)))
            elif kind == STATS:
                self.counts = dict(zip(COUNTERS, _COUNTERS.unpack_from(message, 1),
                                       strict=True))

    def _lost(self) -> None:
        """The front exited under us: read the socket on the loop from now on."""
        link, self._link = self._link, None
        if link is not None and self._loop is not None:
            self._loop.remove_reader(link.fileno())
            link.close()
        if self.fastcache is not None and self.fastcache.mirror is self:
            self.fastcache.mirror = None
        self.lost = True
        code = self.process.poll() if self.process is not None else None
        log.error("the UDP front process exited (status %s); reading UDP on the loop", code)
        self.on_lost()

    def _send(self, message: bytes) -> bool:
        link = self._link
        if link is None:
            return False
        try:
            link.send(message)
        except OSError:  # full (the front is behind) or gone
            return False
        return True

    def reply(self, addr: tuple[str, int], wire: bytes | None) -> bool:
        """Send ``wire`` to the client at ``addr`` through the front (None: no reply);
        False if the pair did not take it (the listener then answers itself)."""
        if wire is None:
            return self._send(DONE + pack_address(addr))
        return self._send(REPLY + pack_address(addr) + wire)

    # the fast cache's mirror (resolver.cache.reply.FastCache.mirror)
    def stored(self, query: bytes, reply: bytes, lifetime: float | None, stream: bool) -> None:
        header = _STORE.pack(-1.0 if lifetime is None else lifetime, stream, len(query))
        self._send(STORE + header + query + reply)

    def cleared(self) -> None:
        self._send(CLEAR)


_ENTRY = ("import sys; from resolver.server.front import main; "
          "sys.exit(main(sys.argv[1:]))")
"""The front's command (``-c``: ``-m`` would warn that the package imported it already)."""


def _import_path() -> str:
    """PYTHONPATH for the front: this package's root first, so it runs the same code."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rest = os.environ.get("PYTHONPATH")
    return root + (os.pathsep + rest if rest else "")


if __name__ == "__main__":
    sys.exit(main())
