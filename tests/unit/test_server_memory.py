"""Memory bounds of the server half under a flood (issue 24 part 1, "memory flat").

The reads: a packet read must allocate what it keeps, not the largest packet possible and
then shrink it (resolver/server/receive.py: the C allocator's heap fragments into holes no
next 64 KB read fits in).  Each test measures, with tracemalloc, the transient peak of one
batch of reads above what stays allocated after it; the old reads (``recv(65535)``, the
front's pair ``recv`` of 196 KB) peaked at their whole size per packet.
"""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from resolver.cache.reply import FastCache
from resolver.frames import FrameQueue
from resolver.server.front import QUERY, REPLY, Front, FrontLink, pack_address
from resolver.server.receive import Receiver
from resolver.server.udp import UDPServer

HOST = "127.0.0.1"
PACKETS = 16
TRANSIENT_LIMIT = 16 * 1024
"""Bytes a batch of small packets may allocate beyond what it keeps (a 64 KB read: 4x)."""


def transient_peak(read: Callable[[], object]) -> int:
    """Bytes ``read`` allocated at its peak above what is still allocated after it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        read()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - current


@pytest.fixture
def udp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(a bound non-blocking server socket, a client socket connected to it)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((HOST, 0))
    server.setblocking(False)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.connect(server.getsockname())
    try:
        yield server, client
    finally:
        server.close()
        client.close()


@pytest.fixture
def seqpacket() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    a.setblocking(False)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def _settle(sock: socket.socket) -> None:
    """Wait (briefly) until ``sock`` has something to read: loopback is quick, not instant."""
    import select

    select.select([sock], [], [], 2.0)


def _query(i: int) -> bytes:
    return i.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
        + b"\x04name" + str(i).encode() + b"\x00\x00\x01\x00\x01"


def test_a_receiver_keeps_exactly_what_arrived(udp_pair: tuple[socket.socket, socket.socket]
                                               ) -> None:
    server, client = udp_pair
    receiver = Receiver(65535)
    client.send(b"abc")
    _settle(server)
    data, addr = receiver.recvfrom(server)
    assert data == b"abc" and isinstance(data, bytes) and addr == client.getsockname()
    client.send(b"de")
    _settle(server)
    assert receiver.recvfrom(server)[0] == b"de"  # the buffer's earlier bytes do not show


def test_the_front_reads_datagrams_without_a_64k_allocation_each(
        udp_pair: tuple[socket.socket, socket.socket],
        seqpacket: tuple[socket.socket, socket.socket]) -> None:
    (server, client), (ours, theirs) = udp_pair, seqpacket
    front = Front(server, ours, FastCache(1 << 20))
    for i in range(PACKETS):
        client.send(_query(i))
    _settle(server)
    time.sleep(0.05)
    assert transient_peak(front.from_clients) < TRANSIENT_LIMIT
    assert front.counts["datagrams"] == PACKETS  # every one handed to the resolving side
    handed = [theirs.recv(65535) for _ in range(PACKETS)]
    assert all(m.startswith(QUERY) for m in handed)


def test_the_front_reads_the_pair_without_a_196k_allocation_each(
        udp_pair: tuple[socket.socket, socket.socket],
        seqpacket: tuple[socket.socket, socket.socket]) -> None:
    (server, client), (ours, theirs) = udp_pair, seqpacket
    sent = [REPLY + pack_address(client.getsockname()) + _query(i) for i in range(PACKETS)]
    front = Front(server, ours, FastCache(1 << 20))
    for message in sent:
        theirs.send(message)
    _settle(ours)
    assert transient_peak(front.from_resolver) < TRANSIENT_LIMIT
    assert front.counts["replies"] == PACKETS


async def test_the_resolving_side_reads_the_pair_without_a_196k_allocation_each(
        seqpacket: tuple[socket.socket, socket.socket]) -> None:
    import asyncio

    ours, theirs = seqpacket
    queue = FrameQueue()
    link = FrontLink(socket.socket(), queue, None, time.monotonic, lambda _a, _w: None,
                     lambda: None, 1 << 20)
    link._link, link._loop = ours, asyncio.get_running_loop()
    try:
        for i in range(PACKETS):
            theirs.send(QUERY + pack_address(("127.0.0.9", 1000 + i)) + _query(i))
        _settle(ours)
        assert transient_peak(link._readable) < TRANSIENT_LIMIT
        assert len(queue) == PACKETS
    finally:
        link.sock.close()


def test_the_loop_reader_reads_datagrams_without_a_64k_allocation_each(
        udp_pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = udp_pair
    listener = UDPServer(FrameQueue(), HOST, 0)
    listener._sock = server
    for i in range(PACKETS):
        client.send(_query(i))
    _settle(server)
    time.sleep(0.05)
    assert transient_peak(listener._readable) < TRANSIENT_LIMIT
    assert listener.stats.datagrams == PACKETS
