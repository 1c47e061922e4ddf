"""The requester's side of the peer protocol: one persistent connection per peer, owners
from the ring, dead peers skipped with backoff, per-peer counters.

A question goes to its owner in two bounded steps: the owner's first frame (its ANSWER, or an
ACK saying it is resolving) must arrive within ``timeout`` (default 50 ms: connect, send and
the owner's cache lookup on loopback or in a data centre); after an ACK the ANSWER must arrive
within ``answer_timeout`` (the owner resolving the name once for everybody).  A refused or
broken connection marks the peer dead for a backoff (1 s, doubling per further failure up to
30 s); three late first frames in a row (its connection up, its loop busy) for 1 s, and one
more late frame after it for 1 s again; while dead its keys go to the next member
of their rendezvous ranking (the local process when that is us).  Whatever goes wrong, the
caller resolves the question itself: a peer failure never loses a client query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from resolver.clock import Clock, SystemClock
from resolver.model import Request
from resolver.peers.protocol import (
    F_CD,
    F_DO,
    F_FORWARDED,
    Answer,
    Frame,
    FrameError,
    Kind,
    OwnershipError,
    Question,
    checked_resolution,
    decode_answer,
    decode_header,
    encode_frame,
    encode_question,
    open_frame,
)
from resolver.peers.ring import Ring, key_of
from resolver.recursor import Resolution

__all__ = ["DEFAULT_ANSWER_TIMEOUT", "DEFAULT_TIMEOUT", "COUNTERS", "PeerGroup",
           "open_stream", "read_frame"]

log = logging.getLogger("shadowdns.resolver.peers")

DEFAULT_TIMEOUT = 0.05
"""Seconds for the owner's first frame (ACK or ANSWER), connecting included."""

DEFAULT_ANSWER_TIMEOUT = 4.0
"""Seconds for the ANSWER after an ACK (below the workers' 10 s deadline, leaving time to
resolve locally when the owner is slow)."""

BACKOFF = 1.0
MAX_BACKOFF = 30.0
DEAD_AFTER_TIMEOUTS = 3
PROBE_INTERVAL = 0.5
"""Seconds between the health check's rounds (PINGs to dead peers whose backoff is over)."""
"""Consecutive late first frames that mark a peer dead (a refused or broken connection
does at once)."""

COUNTERS = ("forwards", "hits", "misses", "timeouts", "errors", "rejected", "skipped_dead",
            "probes", "revived")
"""Per peer: requests sent; answers it had cached (hits) or resolved (misses); requests
without a timely frame; connection or protocol failures (bad MAC included); answers refused
by the ownership check; questions it owned that went elsewhere because it was dead; health
check PINGs sent to it while dead, and those it answered (back in the group)."""


async def read_frame(reader: asyncio.StreamReader, secret: bytes | None) -> Frame:
    """The next frame; :class:`FrameError` for a bad one, ``IncompleteReadError`` at EOF."""
    head = await reader.readexactly(4)
    rest = await reader.readexactly(decode_header(head))
    return open_frame(rest, secret)


async def open_stream(member: str, source: str | None
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``member`` (``ADDR:PORT``, ``[ADDR]:PORT`` or ``unix:PATH``)."""
    if member.startswith("unix:"):
        return await asyncio.open_unix_connection(member[5:])
    host, _, port = member.rpartition(":")
    host = host.strip("[]")
    local = (source, 0) if source else None
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=local)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


@dataclass
class _Pending:
    first: asyncio.Future[Frame]
    final: asyncio.Future[Frame]


class _Link:
    """One persistent connection to one peer, requests multiplexed by id."""

    def __init__(self, member: str, secret: bytes | None, source: str | None) -> None:
        self.member = member
        self.secret = secret
        self.source = source
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self.auth_failures = 0

    async def _connect(self) -> None:
        reader, writer = await open_stream(self.member, self.source)
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read(reader, writer))

    async def connected(self) -> asyncio.StreamWriter:
        if self._writer is None or self._writer.is_closing():
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.create_task(self._connect())
                self._connecting.add_done_callback(_retrieve)
            await asyncio.shield(self._connecting)
        assert self._writer is not None
        return self._writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        error: BaseException = ConnectionError("peer closed the connection")
        try:
            while True:
                frame = await read_frame(reader, self.secret)
                waiting = self._pending.get(frame.request_id)
                if waiting is None:
                    continue  # an answer we stopped waiting for
                if not waiting.first.done():
                    waiting.first.set_result(frame)
                if frame.kind is not Kind.ACK and not waiting.final.done():
                    waiting.final.set_result(frame)
        except FrameError as e:
            self.auth_failures += 1
            error = e
            log.warning("peer %s: %s; connection closed", self.member, e)
        except (OSError, asyncio.IncompleteReadError) as e:
            error = ConnectionError(str(e) or "connection lost")
        finally:
            writer.close()
            if self._writer is writer:
                self._writer = None
            for waiting in self._pending.values():
                for fut in (waiting.first, waiting.final):
                    if not fut.done():
                        fut.set_exception(error)
                        fut.exception()  # retrieved: only the asker cares

    @contextlib.asynccontextmanager
    async def _exchange(self, kind: Kind, body: bytes, flags: int,
                        timeout: float) -> AsyncIterator[tuple[Frame, _Pending]]:
        """Send one frame (a fresh random id) and yield the peer's first frame to it (within
        ``timeout``, connecting included) and the futures of this exchange."""
        loop = asyncio.get_running_loop()
        request_id = secrets.randbits(64)
        waiting = _Pending(loop.create_future(), loop.create_future())
        self._pending[request_id] = waiting
        try:
            async with asyncio.timeout(timeout):
                writer = await self.connected()
                writer.write(encode_frame(kind, request_id, body, flags, self.secret))
                first = await waiting.first
            yield first, waiting
        finally:
            del self._pending[request_id]

    async def ask(self, question: Question, flags: int, timeout: float,
                  answer_timeout: float) -> Answer:
        """The owner's answer.  Raises TimeoutError when its first frame is late,
        :class:`_SlowAnswer` when the answer after an ACK is, :class:`_PeerError` for its
        ERROR, OSError or FrameError when the connection or a frame fails."""
        async with self._exchange(Kind.REQUEST, encode_question(question), flags,
                                  timeout) as (first, waiting):
            if first.kind is Kind.ACK:
                try:
                    async with asyncio.timeout(answer_timeout):
                        final = await waiting.final
                except TimeoutError:
                    raise _SlowAnswer() from None
            else:
                final = first
        if final.kind is Kind.ERROR:
            raise _PeerError(final.body[1:].decode(errors="replace"))
        if final.kind is not Kind.ANSWER:
            raise FrameError(f"unexpected {final.kind.name} frame")
        return decode_answer(final.body, final.flags)

    async def ping(self, timeout: float) -> None:
        """A PING answered by a PONG within ``timeout``, or TimeoutError, OSError,
        FrameError."""
        async with self._exchange(Kind.PING, b"", 0, timeout) as (frame, _):
            if frame.kind is not Kind.PONG:
                raise FrameError(f"{frame.kind.name} frame to a PING")

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        for task in (self._reader_task, self._connecting):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # the asker that timed out no longer looks at it


class _SlowAnswer(Exception):
    """The owner acknowledged but did not answer within the answer timeout."""


class _PeerError(Exception):
    """The owner answered with an ERROR frame (busy, a failed resolution): alive."""


@dataclass
class _Health:
    failures: int = 0  # in a row, of any kind
    timeouts: int = 0  # late first frames in a row
    dead: bool = False  # until a success (a PING answered, with the health check running)
    dead_until: float = float("-inf")


@dataclass
class PeerMetrics:
    """Per-peer counters (:data:`COUNTERS`) and the questions this member owned itself."""

    peers: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    local: int = 0  # questions whose owner (alive) was this member
    fallbacks: int = 0  # questions resolved here after a peer failed them


class PeerGroup:
    """This member (``self_id``) and the others of its group, for the requester side."""

    def __init__(self, self_id: str, members: tuple[str, ...], *,
                 secret: bytes | None = None, timeout: float = DEFAULT_TIMEOUT,
                 answer_timeout: float = DEFAULT_ANSWER_TIMEOUT, source: str | None = None,
                 backoff: float = BACKOFF, max_backoff: float = MAX_BACKOFF,
                 clock: Clock | None = None) -> None:
        if timeout <= 0 or answer_timeout <= 0:
            raise ValueError("peer timeouts must be positive")
        self.self_id = self_id
        self.ring = Ring((self_id, *members))
        self.secret = secret
        self.timeout = timeout
        self.answer_timeout = answer_timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.metrics = PeerMetrics()
        self._links = {m: _Link(m, secret, source) for m in self.ring.members if m != self_id}
        self._prober: asyncio.Task[None] | None = None
        self._health = {m: _Health() for m in self._links}

    @property
    def trusted(self) -> bool:
        """Whether peers' DNSSEC verdicts are taken as claimed: every frame authenticated."""
        return bool(self.secret)

    def alive(self, member: str) -> bool:
        """This member, or a peer not marked dead.  A dead peer comes back when its backoff
        is over or, with the health check running (:meth:`start`), when it answers a PING
        after its backoff: then no client question is spent on finding out."""
        if member == self.self_id:
            return True
        health = self._health[member]
        if self._prober is not None:
            return not health.dead
        return health.dead_until <= self.clock.monotonic()

    def start(self, interval: float = PROBE_INTERVAL) -> None:
        """Run the health check: every ``interval`` seconds, PING each dead peer whose backoff
        is over; a PONG brings it back, a failure extends its backoff."""
        if self._prober is None:
            self._prober = asyncio.create_task(self._probe(interval))

    async def _probe(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            now = self.clock.monotonic()
            due = [m for m, h in self._health.items() if h.dead and h.dead_until <= now]
            await asyncio.gather(*(self._ping(m) for m in due))

    async def _ping(self, member: str) -> None:
        counts = self.metrics.peers[member]
        counts["probes"] += 1
        try:
            await self._links[member].ping(self.timeout)
        except TimeoutError:
            counts["timeouts"] += 1
            self._failed(member, timeout=True)
            return
        except (OSError, FrameError):
            counts["errors"] += 1
            self._failed(member)
            return
        self._health[member] = _Health()
        counts["revived"] += 1
        log.info("peer %s answers again", member)

    def owner(self, request: Request) -> str | None:
        """The member to ask for ``request``: the first alive member of its ranking; None
        when that is this member (resolve here)."""
        for member in self.ring.order(key_of(request.qname)):
            if member == self.self_id:
                self.metrics.local += 1
                return None
            if self.alive(member):
                return member
            self.metrics.peers[member]["skipped_dead"] += 1
        return None  # pragma: no cover - self is always in the ring

    def _failed(self, member: str, *, timeout: bool = False) -> None:
        """Count a failure of ``member``: a refused or broken connection makes it dead for a
        backoff doubling per failure in a row; late first frames (its connection is up, its
        loop busy) make it dead after DEAD_AFTER_TIMEOUTS in a row, for the base backoff only
        (a busy member is asked again soon; the next late frame skips it again)."""
        health = self._health[member]
        health.failures += 1
        if timeout:
            health.timeouts += 1
            if health.timeouts < DEAD_AFTER_TIMEOUTS:
                return  # a late frame or two (a busy owner) do not make a dead one
            delay = self.backoff
            health.timeouts = DEAD_AFTER_TIMEOUTS - 1
        else:
            delay = min(self.max_backoff, self.backoff * 2 ** (health.failures - 1))
        health.dead_until = self.clock.monotonic() + delay
        health.dead = True
        log.info("peer %s failed; skipped for %.1f s", member, delay)

    async def ask(self, member: str, request: Request) -> Resolution | None:
        """``member``'s answer to ``request`` as checked by :func:`checked_resolution`, or
        None (counted) when it fails, is late or oversteps what it may answer."""
        counts = self.metrics.peers[member]
        question = Question(request.qname, request.qtype, request.qclass)
        flags = F_FORWARDED | (F_DO if request.do else 0) | (F_CD if request.cd else 0)
        counts["forwards"] += 1
        try:
            got = await self._links[member].ask(question, flags, self.timeout,
                                                self.answer_timeout)
            res = checked_resolution(question, got, trusted=self.trusted)
        except TimeoutError:
            counts["timeouts"] += 1
            self._failed(member, timeout=True)
            return None
        except _SlowAnswer:
            counts["timeouts"] += 1
            return None
        except _PeerError as e:
            counts["errors"] += 1
            log.info("peer %s: error: %s", member, e)
            return None
        except OwnershipError as e:
            counts["rejected"] += 1
            log.warning("peer %s: answer refused: %s", member, e)
            return None
        except (OSError, FrameError) as e:
            counts["errors"] += 1
            log.info("peer %s: %s", member, e)
            self._failed(member)
            return None
        self._health[member] = _Health()
        counts["hits" if got.cached else "misses"] += 1
        return res

    async def close(self) -> None:
        prober, self._prober = self._prober, None
        if prober is not None:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober
        for link in self._links.values():
            await link.close()

    def prometheus(self, labels: str = "") -> list[str]:
        """Counter lines in the Prometheus text format (``labels``: more ``k="v",`` pairs)."""
        lines = ["# HELP shadowdns_resolver_peer_requests_total Peer cache requests by peer "
                 "and outcome.", "# TYPE shadowdns_resolver_peer_requests_total counter"]
        for member in sorted(self._links):
            counts = self.metrics.peers[member]
            for key in COUNTERS:
                lines.append(f'shadowdns_resolver_peer_requests_total{{{labels}peer='
                             f'"{member}",outcome="{key}"}} {counts[key]}')
        lines += ["# HELP shadowdns_resolver_peer_local_total Questions this member owned.",
                  "# TYPE shadowdns_resolver_peer_local_total counter",
                  f"shadowdns_resolver_peer_local_total{{{labels.rstrip(',')}}} "
                  f"{self.metrics.local}",
                  "# HELP shadowdns_resolver_peer_fallbacks_total Questions resolved here "
                  "after their owner failed them.",
                  "# TYPE shadowdns_resolver_peer_fallbacks_total counter",
                  f"shadowdns_resolver_peer_fallbacks_total{{{labels.rstrip(',')}}} "
                  f"{self.metrics.fallbacks}"]
        return lines
