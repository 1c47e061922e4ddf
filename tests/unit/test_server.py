"""Listeners, queue and workers together on loopback: UDP, RFC 7766 TCP, limits, fairness.

Every test binds 127.0.0.1 port 0, runs a fake answerer, and stops everything it started.
Time bounds are generous; nothing asserts on latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset

from resolver.cache.reply import FastCache
from resolver.frames import FrameQueue
from resolver.model import Request
from resolver.plugins import Plugin, PluginChain
from resolver.server import Listeners
from resolver.workers import OUR_UDP_PAYLOAD, Workers

HOST = "127.0.0.1"
BOUND = 10.0  # seconds: the generous limit for anything a test waits for


class DelayAnswerer:
    """Answers A with 192.0.2.1 after a delay chosen by the first label of the name."""

    def __init__(self, delays: dict[str, float] | None = None, default: float = 0.0,
                 big: bool = False, huge: bool = False) -> None:
        self.delays = delays or {}
        self.default = default
        self.big = big
        self.huge = huge  # one TXT record of ~50 KB: cheap to render, TCP only
        self._huge_txt = dns.rdata.from_text(
            "IN", "TXT", " ".join(f'"{i:03d}' + "y" * 246 + '"' for i in range(200)))
        self.asked: list[str] = []
        self.gate: asyncio.Event | None = None

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        label = request.qname.labels[0].decode().lower()
        self.asked.append(label)
        if self.gate is not None:
            await self.gate.wait()
        delay = self.delays.get(label, self.default)
        if delay:
            await asyncio.sleep(delay)
        reply = dns.message.make_response(query)
        if self.huge:
            reply.answer.append(dns.rrset.from_rdata(request.qname, 300, self._huge_txt))
        elif self.big:
            texts = [f'"{i:03d} ' + "x" * 200 + '"' for i in range(40)]
            reply.answer.append(dns.rrset.from_text_list(request.qname, 300, "IN", "TXT", texts))
        else:
            reply.answer.append(dns.rrset.from_text(request.qname, 300, "IN", "A", "192.0.2.1"))
        return reply


@dataclass
class Served:
    queue: FrameQueue
    workers: Workers
    listeners: Listeners
    port: int


@contextlib.asynccontextmanager
async def serving(answerer: object, *, queue: FrameQueue | None = None, n: int = 8,
                  plugins: PluginChain | None = None,
                  **listener_options: float) -> AsyncIterator[Served]:
    queue = queue if queue is not None else FrameQueue()
    workers = Workers(queue, answerer, plugins, n=n)  # type: ignore[arg-type]
    listeners = Listeners(queue, HOST, 0, **listener_options)  # type: ignore[arg-type]
    workers.start()
    try:
        _, port = await listeners.start()
        yield Served(queue, workers, listeners, port)
    finally:
        await listeners.close()
        await workers.stop()


def framed(*wires: bytes) -> bytes:
    return b"".join(len(w).to_bytes(2, "big") + w for w in wires)


async def read_message(reader: asyncio.StreamReader) -> dns.message.Message:
    length = int.from_bytes(await reader.readexactly(2), "big")
    return dns.message.from_wire(await reader.readexactly(length))


@contextlib.asynccontextmanager
async def connect(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def wait_for(condition: object, bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# -- UDP --------------------------------------------------------------------------------

async def test_udp_round_trip() -> None:
    async with serving(DelayAnswerer()) as s:
        q = dns.message.make_query("WwW.example.", "A")
        r = await dns.asyncquery.udp(q, HOST, port=s.port, timeout=BOUND)
        assert r.id == q.id and r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.RA
        assert r.answer[0][0].to_text() == "192.0.2.1"
        assert r.question[0].name.labels[0] == b"WwW"
        assert s.queue.stats.received == 1
        assert s.listeners.udp is not None and s.listeners.udp.stats.replies == 1


def burst(port: int, wires: list[bytes], bound: float) -> dict[int, bytes]:
    """Send every query at once from one socket, then collect replies by ID until done."""
    replies: dict[int, bytes] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.settimeout(0.5)
        for w in wires:
            sock.sendto(w, (HOST, port))
        deadline = time.monotonic() + bound
        while len(replies) < len(wires) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                data = sock.recv(65535)
                replies[int.from_bytes(data[:2], "big")] = data
    return replies


async def test_udp_burst_is_drained_and_hits_answered_from_bytes() -> None:
    answerer = DelayAnswerer()
    fast = FastCache(1 << 20)
    queue = FrameQueue()
    workers = Workers(queue, answerer, n=4, fastcache=fast)
    listeners = Listeners(queue, HOST, 0, fastcache=fast)
    workers.start()
    try:
        _, port = await listeners.start()
        names = [f"n{i}.example." for i in range(20)]
        first = await asyncio.to_thread(
            burst, port, [_query(n, i) for i, n in enumerate(names)], BOUND)
        assert len(first) == 20 and len(answerer.asked) == 20  # misses: the full path
        # 10 rounds of the same 20 names, 200 datagrams at once: far more than one batch
        wires = [_query(names[i % 20], 1000 + i) for i in range(200)]
        again = await asyncio.to_thread(burst, port, wires, BOUND)
        assert len(again) == 200 and len(answerer.asked) == 20  # every one from bytes
        udp = listeners.udp
        assert udp is not None
        assert udp.stats.datagrams == 220 and udp.stats.replies == 220
        assert udp.stats.fast_replies == 200 and fast.memo_hits == 180
        for qid, data in again.items():
            m = dns.message.from_wire(data)
            assert m.id == qid and m.question[0].name.to_text() == names[(qid - 1000) % 20]
            assert m.answer[0][0].to_text() == "192.0.2.1"
    finally:
        await listeners.close()
        await workers.stop()


def _query(name: str, qid: int) -> bytes:
    q = dns.message.make_query(name, "A")
    q.id = qid
    return q.to_wire()


async def test_udp_truncates_and_tcp_carries_it_whole() -> None:
    async with serving(DelayAnswerer(big=True)) as s:
        q = dns.message.make_query("big.example.", "TXT", payload=4096)
        wire = q.to_wire()
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, (HOST, s.port))
            await loop.sock_sendall(sock, wire)
            out = await asyncio.wait_for(loop.sock_recv(sock, 65535), BOUND)
        assert len(out) <= OUR_UDP_PAYLOAD
        r = dns.message.from_wire(out)
        assert r.id == q.id and r.flags & dns.flags.TC and r.answer == []
        assert r.question == q.question and r.edns == 0

        r = await dns.asyncquery.tcp(q, HOST, port=s.port, timeout=BOUND)
        assert not r.flags & dns.flags.TC and len(r.answer[0]) == 40
        assert s.workers.stats["truncated"] == 1


async def test_udp_and_tcp_share_the_port() -> None:
    async with serving(DelayAnswerer()) as s:
        assert s.listeners.udp is not None and s.listeners.tcp is not None
        assert s.listeners.udp.address == s.listeners.tcp.address == (HOST, s.port)


# -- TCP (RFC 7766) ---------------------------------------------------------------------

async def test_tcp_pipelining_answers_out_of_order() -> None:
    answerer = DelayAnswerer({"slow": 0.5})
    async with serving(answerer) as s, connect(s.port) as (reader, writer):
        queries = [dns.message.make_query(n, "A") for n in
                   ("SlOw.example.", "fast1.example.", "fast2.example.")]
        writer.write(framed(*(q.to_wire() for q in queries)))  # one write, three queries
        await writer.drain()
        replies = [await asyncio.wait_for(read_message(reader), BOUND) for _ in queries]
        by_id = {q.id: q for q in queries}
        assert len({r.id for r in replies}) == 3 and set(by_id) == {r.id for r in replies}
        for r in replies:
            assert r.question == by_id[r.id].question
            assert r.question[0].name == by_id[r.id].question[0].name
        assert replies[-1].id == queries[0].id  # the slow one came last
        assert replies[-1].question[0].name.labels[0] == b"SlOw"
        assert sorted(answerer.asked) == ["fast1", "fast2", "slow"]


async def test_tcp_idle_connection_is_closed() -> None:
    async with serving(DelayAnswerer(), idle_timeout=0.2) as s:
        tcp = s.listeners.tcp
        assert tcp is not None
        async with connect(s.port) as (reader, _):
            assert await asyncio.wait_for(reader.read(), BOUND) == b""
        assert tcp.stats.closed_idle == 1

        async with connect(s.port) as (reader, writer):  # a trickle does not keep it open
            writer.write(b"\x00")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), BOUND) == b""
        assert tcp.stats.closed_idle == 2
        await wait_for(lambda: tcp.connections == 0)


async def test_tcp_query_in_flight_outlives_idle_timeout() -> None:
    async with serving(DelayAnswerer({"slow": 0.6}), idle_timeout=0.2) as s:
        async with connect(s.port) as (reader, writer):
            q = dns.message.make_query("slow.example.", "A")
            writer.write(framed(q.to_wire()))
            r = await asyncio.wait_for(read_message(reader), BOUND)
            assert r.id == q.id and r.rcode() == dns.rcode.NOERROR
            assert await asyncio.wait_for(reader.read(), BOUND) == b""  # then idle closes


async def test_tcp_connection_cap() -> None:
    async with serving(DelayAnswerer(), max_connections=2) as s:
        tcp = s.listeners.tcp
        assert tcp is not None
        async with connect(s.port) as (r1, w1), connect(s.port) as (r2, w2):
            for reader, writer in ((r1, w1), (r2, w2)):
                q = dns.message.make_query("www.example.", "A")
                writer.write(framed(q.to_wire()))
                assert (await asyncio.wait_for(read_message(reader), BOUND)).id == q.id
            async with connect(s.port) as (r3, _):
                assert await asyncio.wait_for(r3.read(), BOUND) == b""
            assert tcp.stats.refused == 1 and tcp.stats.accepted == 2
            q = dns.message.make_query("again.example.", "A")  # the admitted ones still work
            w1.write(framed(q.to_wire()))
            assert (await asyncio.wait_for(read_message(r1), BOUND)).id == q.id
        await wait_for(lambda: tcp.connections == 0)
        async with connect(s.port) as (r4, w4):  # room again once they are gone
            q = dns.message.make_query("www.example.", "A")
            w4.write(framed(q.to_wire()))
            assert (await asyncio.wait_for(read_message(r4), BOUND)).id == q.id


async def test_tcp_backpressure_pauses_reading() -> None:
    answerer = DelayAnswerer()
    answerer.gate = asyncio.Event()
    async with serving(answerer, n=16, max_in_flight=4) as s, \
            connect(s.port) as (reader, writer):
        tcp = s.listeners.tcp
        assert tcp is not None
        queries = [dns.message.make_query(f"q{i}.example.", "A") for i in range(40)]
        writer.write(framed(*(q.to_wire() for q in queries)))
        await writer.drain()
        await wait_for(lambda: len(answerer.asked) == 4)
        await wait_for(lambda: tcp.reading_paused == 1)  # a real pause of the socket
        assert tcp.stats.paused == 1 and tcp.stats.messages == 4
        assert len(answerer.asked) == 4  # no more than max_in_flight taken from the stream
        answerer.gate.set()
        replies = [await asyncio.wait_for(read_message(reader), BOUND) for _ in queries]
        assert sorted(r.id for r in replies) == sorted(q.id for q in queries)
        assert tcp.stats.messages == 40
        assert tcp.reading_paused == 0  # read again once the answers went out


async def test_tcp_client_that_does_not_read_stops_being_served() -> None:
    """Answers pile up in the write buffer: we stop taking its queries until it reads."""
    answerer = DelayAnswerer(huge=True)  # ~50 KB per answer
    count = 400  # ~20 MB of answers, more than loopback socket buffers hold
    async with serving(answerer, n=8) as s, connect(s.port) as (reader, writer):
        tcp = s.listeners.tcp
        assert tcp is not None
        queries = [dns.message.make_query(f"q{i}.example.", "TXT") for i in range(count)]
        writer.write(framed(*(q.to_wire() for q in queries)))
        await writer.drain()
        await wait_for(lambda: tcp.writing_paused == 1)
        await wait_for(lambda: tcp.reading_paused == 1)  # its queries are no longer read
        assert tcp.stats.messages < count  # the rest waits in the socket, unread
        ids = []
        for _ in queries:
            length = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), BOUND), "big")
            wire = await asyncio.wait_for(reader.readexactly(length), BOUND)
            assert length > 50_000
            ids.append(int.from_bytes(wire[:2], "big"))
        assert sorted(ids) == sorted(q.id for q in queries)
        assert tcp.writing_paused == tcp.reading_paused == 0


async def test_tcp_half_close_still_gets_answers() -> None:
    async with serving(DelayAnswerer({"slow": 0.3})) as s, \
            connect(s.port) as (reader, writer):
        queries = [dns.message.make_query(n, "A") for n in ("slow.example.", "fast.example.")]
        writer.write(framed(*(q.to_wire() for q in queries)))
        writer.write_eof()
        replies = [await asyncio.wait_for(read_message(reader), BOUND) for _ in queries]
        assert {r.id for r in replies} == {q.id for q in queries}
        assert await asyncio.wait_for(reader.read(), BOUND) == b""


async def test_tcp_malformed_messages_do_not_break_the_connection() -> None:
    async with serving(DelayAnswerer()) as s, connect(s.port) as (reader, writer):
        good = dns.message.make_query("www.example.", "A")
        junk = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\xff"
        writer.write(framed(b"", b"\x01\x02\x03", junk, good.to_wire()))
        first = await asyncio.wait_for(read_message(reader), BOUND)
        second = await asyncio.wait_for(read_message(reader), BOUND)
        by_id = {first.id: first, second.id: second}
        assert by_id[0x4242].rcode() == dns.rcode.FORMERR
        assert by_id[good.id].rcode() == dns.rcode.NOERROR
        assert s.workers.stats["dropped_short"] == 2


# -- plugins through the whole path ---------------------------------------------------------

class Refuser(Plugin):
    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        if request.qname.labels[0] == b"bad":
            raise RuntimeError("plugin bug")
        return None


async def test_plugin_failure_over_udp_is_servfail() -> None:
    async with serving(DelayAnswerer(), plugins=PluginChain([Refuser()])) as s:
        bad = dns.message.make_query("bad.example.", "A")
        r = await dns.asyncquery.udp(bad, HOST, port=s.port, timeout=BOUND)
        assert r.rcode() == dns.rcode.SERVFAIL
        good = dns.message.make_query("good.example.", "A")
        r = await dns.asyncquery.udp(good, HOST, port=s.port, timeout=BOUND)
        assert r.rcode() == dns.rcode.NOERROR


# -- fairness -----------------------------------------------------------------------------

FLOODER = "127.0.0.2"
QUIET = "127.0.0.3"


def flood_and_ask(port: int, flood: int, asks: int) -> tuple[int, int]:
    """A sends ``flood`` datagrams as fast as it can; B slips in ``asks`` queries among them.

    Runs in a thread with blocking sockets.  B then collects its answers and, like a stub,
    asks again (twice at most) for those still missing.  Returns B's answers on the first
    try and in the end.
    """
    server = (HOST, port)
    flood_wire = dns.message.make_query("flood.example.", "A").to_wire()
    queries = {}
    for i in range(asks):
        q = dns.message.make_query(f"b{i}.example.", "A")
        queries[q.id] = q
    pending = list(queries.values())
    every = max(1, flood // asks)
    answered: set[int] = set()

    def collect(sock: socket.socket, until: float) -> None:
        while len(answered) < len(queries):
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            sock.settimeout(remaining)
            try:
                data = sock.recv(65535)
            except TimeoutError:
                return
            r = dns.message.from_wire(data)
            q = queries.get(r.id)
            if q is not None and r.question == q.question:
                answered.add(r.id)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
        a.bind((FLOODER, 0))
        b.bind((QUIET, 0))
        for i in range(flood):
            with contextlib.suppress(OSError):
                a.sendto(flood_wire, server)
            if i % every == every // 2 and pending:
                b.sendto(pending.pop().to_wire(), server)
        collect(b, time.monotonic() + 3)
        first_try = len(answered)
        for _ in range(2):
            for q in queries.values():
                if q.id not in answered:
                    b.sendto(q.to_wire(), server)
            collect(b, time.monotonic() + 2)
    return first_try, len(answered)


async def test_flooding_client_cannot_starve_another() -> None:
    queue = FrameQueue(capacity=1024, client_capacity=16)
    answerer = DelayAnswerer(default=0.002)
    async with serving(answerer, queue=queue, n=4) as s:
        first_try, total = await asyncio.wait_for(
            asyncio.to_thread(flood_and_ask, s.port, 2000, 20), 30)
        udp = s.listeners.udp
        assert udp is not None
        received = udp.stats.datagrams
    flood_answered = answerer.asked.count("flood")
    assert total == 20, f"B got {total}/20 ({first_try} on the first try)"
    assert first_try >= 15, f"B got only {first_try}/20 on the first try"
    assert queue.stats.dropped_client_quota > 0
    assert queue.stats.received == received
    assert flood_answered < 2000
    assert flood_answered + queue.stats.dropped_client_quota + queue.stats.dropped_full \
        <= 2000


async def test_thread_reader_answers_memo_hits_while_the_loop_is_busy() -> None:
    """The reader thread answers a memo hit even while the loop computes for 0.5 s."""
    answerer = DelayAnswerer()
    fast = FastCache(1 << 20)
    queue = FrameQueue()
    workers = Workers(queue, answerer, n=2, fastcache=fast)
    listeners = Listeners(queue, HOST, 0, fastcache=fast, udp_reader="thread")
    workers.start()
    try:
        _, port = await listeners.start()
        # a miss (full path), then a hit rendered by the loop: now in the memo
        for qid in (1, 2):
            got = await asyncio.to_thread(burst, port, [_query("cached.example.", qid)], BOUND)
            assert len(got) == 1
        assert list(await ask_while_blocked(port, "cached.example.", 3)) == [3]
        udp = listeners.udp
        assert udp is not None and udp.stats_now().fast_replies == 2
        assert len(answerer.asked) == 1
    finally:
        await listeners.close()
        await workers.stop()


async def ask_while_blocked(port: int, name: str, qid: int) -> dict[int, bytes]:
    """One query sent while this loop is blocked for 0.5 s: the replies that came within
    0.3 s, so only from something the loop does not run (a reader thread, a front)."""
    answered: dict[int, bytes] = {}

    def ask() -> None:
        time.sleep(0.1)  # the loop is blocked by now
        answered.update(burst(port, [_query(name, qid)], 0.3))

    client = asyncio.get_running_loop().run_in_executor(None, ask)
    time.sleep(0.5)  # the loop computes (blocked): nothing it owns can answer
    await client
    return answered


async def flood_while_blocked(port: int) -> None:
    """2,000 datagrams from 127.0.0.3 and 10 from 127.0.0.2 (one per 200), sent while this
    loop is blocked for a second: nothing the loop owns reads meanwhile."""
    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
            a.bind(("127.0.0.3", 0))
            b.bind(("127.0.0.2", 0))
            for i in range(2000):
                a.sendto(_query(f"f{i}.example.", i), (HOST, port))
                if i % 200 == 0:
                    b.sendto(_query("quiet.example.", 60000 + i), (HOST, port))
            time.sleep(0.2)  # the reader has read them all

    client = asyncio.get_running_loop().run_in_executor(None, send)
    time.sleep(1.0)  # the loop is blocked: nothing is drained meanwhile
    await client


async def test_thread_reader_sheds_the_flooder_not_its_neighbour() -> None:
    """With the loop blocked, a flooder's datagrams beyond its share are shed in the reader
    thread, before any parse, while every datagram of a quiet client is kept."""
    from resolver.server.udp import HANDOFF_PER_CLIENT

    queue = FrameQueue(capacity=100_000, client_capacity=100_000)
    listeners = Listeners(queue, HOST, 0, udp_reader="thread")
    _, port = await listeners.start()
    try:
        await flood_while_blocked(port)
        await asyncio.sleep(0.2)  # the drain runs now
        udp = listeners.udp
        assert udp is not None
        stats = udp.stats_now()
        by_client: dict[str, int] = {}
        while len(queue):
            item = queue.get_nowait()
            by_client[item.frame.client[0]] = by_client.get(item.frame.client[0], 0) + 1
        assert by_client.get("127.0.0.2") == 10  # every quiet datagram kept
        assert 0 < by_client.get("127.0.0.3", 0) <= 2000 - stats.shed_client
        assert stats.shed_client > 0 and stats.datagrams == 2010
        assert by_client["127.0.0.3"] < 2000 and HANDOFF_PER_CLIENT < 2000
    finally:
        await listeners.close()


async def test_thread_reader_shortens_the_switch_interval_while_it_runs() -> None:
    """The reader thread gets the interpreter's lock within GIL_SWITCH_INTERVAL of asking
    (not the default 5 ms) while it runs; the process's own interval comes back after."""
    import sys

    from resolver.server.udp import GIL_SWITCH_INTERVAL

    before = sys.getswitchinterval()
    assert before > GIL_SWITCH_INTERVAL  # (the interpreter's default, 5 ms)
    first = Listeners(FrameQueue(), HOST, 0, udp_reader="thread")
    second = Listeners(FrameQueue(), HOST, 0, udp_reader="thread")
    await first.start()
    await second.start()
    try:
        assert sys.getswitchinterval() == GIL_SWITCH_INTERVAL
        await first.close()
        assert sys.getswitchinterval() == GIL_SWITCH_INTERVAL  # the second still reads
    finally:
        await second.close()
    assert sys.getswitchinterval() == before
    loop_reader = Listeners(FrameQueue(), HOST, 0, udp_reader="loop")
    await loop_reader.start()
    try:
        assert sys.getswitchinterval() == before  # the loop reader changes nothing
    finally:
        await loop_reader.close()
