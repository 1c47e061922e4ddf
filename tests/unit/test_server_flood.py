"""TCP connection floods on loopback: the listen backlog holds a burst, and connections over
the caps (total, per client address) are refused cleanly while other clients are served.

Real sockets, real listeners; every wait is bounded (nothing asserts on latency).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import select
import socket
from collections import Counter

import dns.message

from resolver.frames import FrameQueue
from resolver.server.tcp import listen_backlog
from tests.unit.test_server import BOUND, HOST, DelayAnswerer, framed, read_message, serving

BURST = 1000


def open_burst(port: int, n: int, source: str = HOST) -> list[socket.socket]:
    """Start ``n`` non-blocking connects at once (the caller's event loop is not running, so
    nothing is accepted meanwhile): only the listen backlog holds them."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        rc = s.connect_ex((HOST, port))
        assert rc in (0, errno.EINPROGRESS), errno.errorcode.get(rc, rc)
        socks.append(s)
    return socks


def established(socks: list[socket.socket], wait: float) -> int:
    """How many of ``socks`` completed their handshake within ``wait`` seconds (polled)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLOUT)
    done: set[int] = set()
    loop_deadline = wait
    while loop_deadline > 0 and len(done) < len(socks):
        for fd, _ in poller.poll(50):
            if fd not in done and by_fd[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.add(fd)
                poller.unregister(fd)
        loop_deadline -= 0.05
    return len(done)


async def ask(sock: socket.socket, name: str) -> str:
    """One query over ``sock``: "answered", "refused" (end of stream or reset before an
    answer) or "hung" (nothing within the bound)."""
    try:
        reader, writer = await asyncio.open_connection(sock=sock)
    except OSError:
        return "refused"
    try:
        q = dns.message.make_query(name, "A")
        writer.write(framed(q.to_wire()))
        r = await asyncio.wait_for(read_message(reader), BOUND)
        return "answered" if r.id == q.id else "wrong"
    except (asyncio.IncompleteReadError, ConnectionError):
        return "refused"
    except TimeoutError:
        return "hung"
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def test_backlog_is_bounded_by_somaxconn() -> None:
    with open("/proc/sys/net/core/somaxconn") as f:
        somaxconn = int(f.read())
    assert listen_backlog(10**9) == somaxconn
    assert listen_backlog(16) == min(16, somaxconn)


async def test_a_burst_of_connections_waits_in_the_backlog_and_is_served() -> None:
    """1,000 connects while the server's loop is busy: with asyncio's default backlog (100)
    all but ~101 had their SYNs dropped (retried after 1 s, or failed); with the backlog
    from the config every handshake completes at once and every connection is answered."""
    n = min(BURST, listen_backlog(4096) - 8)
    queue = FrameQueue(client_capacity=2 * n)  # every query fits: this is about connections
    async with serving(DelayAnswerer(), queue=queue, max_connections=2 * n,
                       max_per_client=2 * n) as s:
        tcp = s.listeners.tcp
        assert tcp is not None and tcp.backlog >= n
        socks = open_burst(s.port, n)
        try:
            assert established(socks, 1.0) == n  # all in the accept queue, none dropped
            outcomes = Counter(await asyncio.gather(
                *(ask(sock, f"q{i}.example.") for i, sock in enumerate(socks))))
        finally:
            for sock in socks:
                sock.close()
        assert outcomes == Counter({"answered": n}), (tcp.stats, s.queue.stats)
        assert tcp.stats.accepted == n and tcp.stats.refused == 0


async def test_flood_over_the_caps_is_refused_cleanly_and_others_are_served() -> None:
    """One address opens 1,000 connections against a per-client cap of 200: 200 answered,
    800 closed on accept (end of stream, never a hang); another address is still served."""
    async with serving(DelayAnswerer(), max_connections=1024, max_per_client=200) as s:
        tcp = s.listeners.tcp
        assert tcp is not None
        flood = open_burst(s.port, BURST, source="127.0.0.2")
        quiet = open_burst(s.port, 5, source="127.0.0.3")
        try:
            results = await asyncio.gather(
                *(ask(sock, f"f{i}.example.") for i, sock in enumerate(flood)),
                *(ask(sock, f"quiet{i}.example.") for i, sock in enumerate(quiet)))
        finally:
            for sock in flood + quiet:
                sock.close()
        assert Counter(results[:BURST]) == Counter({"answered": 200, "refused": BURST - 200})
        assert results[BURST:] == ["answered"] * 5
        assert tcp.stats.refused_client == BURST - 200 and tcp.stats.refused == 0
        # the refused ones left no trace: every slot is free again once clients are gone
        for _ in range(int(BOUND / 0.01)):
            if tcp.connections == 0:
                break
            await asyncio.sleep(0.01)
        assert tcp.connections == 0 and not tcp._per_client


async def test_queries_the_queue_refuses_close_the_connection_not_hang_it() -> None:
    """More connections from one address than its share of the queue: the queries that do
    not fit are not left unanswered on an open connection; those connections are closed."""
    queue = FrameQueue(client_capacity=50)
    answerer = DelayAnswerer(default=0.2)  # slow enough that the first 50 are still queued
    async with serving(answerer, queue=queue, n=4) as s:
        tcp = s.listeners.tcp
        assert tcp is not None
        socks = open_burst(s.port, 120)
        try:
            outcomes = Counter(await asyncio.gather(
                *(ask(sock, f"q{i}.example.") for i, sock in enumerate(socks))))
        finally:
            for sock in socks:
                sock.close()
        assert outcomes["hung"] == 0 and outcomes["answered"] >= 50
        assert outcomes["answered"] + outcomes["refused"] == 120
        assert tcp.stats.queue_dropped == outcomes["refused"] > 0
