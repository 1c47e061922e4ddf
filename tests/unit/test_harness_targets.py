"""harness.exchange, harness.targets and harness.exactjudge against loopback stand-ins."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import dns.flags
import dns.message
import dns.rrset
import pytest
import pytest_asyncio

from harness.exactjudge import ExactJudge
from harness.exchange import ExchangeError, UdpExchange, question_end, set_flags
from harness.fakes import address_reply
from harness.records import CANDIDATE, Observation, Query, TargetAnswer, VerdictKind
from harness.targets import AddressTarget, InProcessTarget, query_wire
from resolver.config import ResolverConfig
from resolver.model import Request


class Server(asyncio.DatagramProtocol):
    """Answers A queries; 'wrong.' first gets a reply with another ID, 'big.' is truncated
    over UDP (and answered over TCP), 'slow.' is never answered."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.seen: list[dns.message.Message] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        query = dns.message.from_wire(data)
        self.seen.append(query)
        name = query.question[0].name.to_text()
        assert self.transport is not None
        if name.startswith("slow."):
            return
        reply = address_reply()(query)
        if name.startswith("wrong."):
            other = dns.message.make_response(query)
            other.id = (query.id + 1) % 65536
            self.transport.sendto(other.to_wire(), addr)
            self.transport.sendto(b"\x00", addr)
        if name.startswith("big."):
            reply.flags |= dns.flags.TC
            reply.answer = []
        self.transport.sendto(reply.to_wire(), addr)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[Server, int]]:
    loop = asyncio.get_running_loop()

    async def tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
        query = dns.message.from_wire(await reader.readexactly(length))
        reply = address_reply("127.100.0.99")(query).to_wire()
        writer.write(struct.pack("!H", len(reply)) + reply)
        await writer.drain()
        writer.close()

    for _ in range(20):  # a port free for both UDP and TCP
        tcp_server = await asyncio.start_server(tcp, "127.0.0.1", 0)
        port = tcp_server.sockets[0].getsockname()[1]
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                Server, local_addr=("127.0.0.1", port))
            break
        except OSError:
            tcp_server.close()
    else:
        raise RuntimeError("no free port")
    try:
        yield protocol, port
    finally:
        tcp_server.close()
        transport.close()


def query(name: str, do: bool = False) -> Query:
    wire = dns.message.make_query(name, "A", want_dnssec=do).to_wire()
    return Query(qname=name, qtype=1, do=do, wire=wire)


async def test_address_target(server: tuple[Server, int]) -> None:
    protocol, port = server
    target = AddressTarget("ref", "127.0.0.1", port, timeout=0.5)
    await target.start()
    try:
        answers = await asyncio.gather(*(target.ask(query(f"n{i}.lab.")) for i in range(50)))
        assert all(a.wire is not None and a.error is None for a in answers)
        q = query("WwW.lab.", do=True)
        answer = await target.ask(q)
        assert answer.wire is not None and answer.wire[:2] == (q.wire or b"")[:2]
        sent = protocol.seen[-1]
        assert sent.question[0].name.to_text() == "WwW.lab."  # 0x20 case kept
        assert sent.ednsflags & dns.flags.DO and sent.id != dns.message.from_wire(q.wire or b"").id
        wrong = await target.ask(query("wrong.lab."))
        assert wrong.error is None and target.exchange.stats["mismatched"] == 2
        big = await target.ask(query("big.lab."))
        assert big.wire is not None and "127.100.0.99" in dns.message.from_wire(big.wire).to_text()
        assert target.exchange.stats["truncated"] == 1
        slow = await target.ask(query("slow.lab."))
        assert slow.error == "timeout" and slow.wire is None and (slow.latency or 0) >= 0.5
        await target.ask(query("n0.lab."), cd=True)
        assert protocol.seen[-1].flags & dns.flags.CD
        assert not target.can_flush
        with pytest.raises(RuntimeError):
            await target.flush("x.")
        assert await target.version() == f"127.0.0.1:{port}"
    finally:
        await target.stop()


async def test_nothing_listening() -> None:
    exchange = UdpExchange("127.0.0.1", 9)
    with pytest.raises(TimeoutError):
        await exchange.query(query("a.").wire or b"", 0.2)
    exchange.close()


def test_wire_helpers() -> None:
    wire = dns.message.make_query("www.example.", "A").to_wire()
    assert question_end(wire) == len(wire)
    with pytest.raises(ExchangeError):
        question_end(wire[:15])
    assert set_flags(wire, cd=True)[3] & 0x10
    assert not set_flags(set_flags(wire, cd=True), cd=False)[3] & 0x10
    assert set_flags(wire) == wire
    built = dns.message.from_wire(query_wire(Query(qname="x.lab.", qtype=28, rd=False, cd=True,
                                                   do=True, edns_payload=4096)))
    assert built.flags & dns.flags.CD and not built.flags & dns.flags.RD
    assert built.payload == 4096 and built.ednsflags & dns.flags.DO


class Answerer:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        self.requests.append(request)
        reply = dns.message.make_response(query)
        name = query.question[0].name
        if name.to_text().startswith("huge"):
            for i in range(120):
                reply.answer.append(dns.rrset.from_text(name, 60, "IN", "A", f"127.100.1.{i}"))
        else:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "127.100.0.1"))
        if name.to_text().startswith("hang"):
            await asyncio.sleep(10)
        return reply


async def test_in_process_target() -> None:
    answerer = Answerer()
    config = ResolverConfig(root_hints=(("a.root.", "127.53.0.1"),))
    target = InProcessTarget(CANDIDATE, config, timeout=0.3,
                             answerer=answerer)  # type: ignore[arg-type]
    q = query("Mixed.Lab.", do=True)
    answer = await target.ask(q)
    assert answer.wire is not None
    reply = dns.message.from_wire(answer.wire)
    assert reply.id == dns.message.from_wire(q.wire or b"").id
    assert reply.question[0].name.to_text() == "Mixed.Lab." and reply.flags & dns.flags.RA
    assert answerer.requests[0].do
    huge = await target.ask(Query(qname="huge.lab.", qtype=1, edns_payload=None))
    assert huge.wire is not None and len(huge.wire) > 512  # asked again "over TCP"
    assert len(answerer.requests) == 3
    hang = await target.ask(query("hang.lab."))
    assert hang.wire is not None or hang.error == "timeout"
    await target.ask(query("x.lab."), cd=True)
    assert answerer.requests[-1].cd
    assert "in process" in await target.version()


def observation(candidate: bytes | None, *refs: bytes | None) -> Observation:
    answers = {CANDIDATE: TargetAnswer(CANDIDATE, candidate, 0.01,
                                       None if candidate else "timeout")}
    for i, wire in enumerate(refs):
        answers[f"r{i}"] = TargetAnswer(f"r{i}", wire, 0.01, None if wire else "timeout")
    return Observation(Query(qname="a.lab.", qtype=1), answers, id=7)


def reply(*addresses: str, rcode: int = 0, ad: bool = False, ttl: int = 60,
          name: str = "a.lab.") -> bytes:
    q = dns.message.make_query(name, "A")
    r = dns.message.make_response(q)
    r.set_rcode(rcode)  # type: ignore[arg-type]
    if ad:
        r.flags |= dns.flags.AD
    if addresses:
        r.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", *addresses))
    return r.to_wire()


async def nobody(*args: object, **kwargs: object) -> TargetAnswer:
    raise AssertionError("the exact judge never re-queries")


async def test_exact_judge() -> None:
    judge = ExactJudge()
    same = await judge.judge(observation(reply("1.2.3.4", "5.6.7.8", ttl=10),
                                         reply("5.6.7.8", "1.2.3.4", ttl=300, name="A.LAB.")),
                             nobody)
    assert same.kind is VerdictKind.EQUAL and same.observation_id == 7
    differ = await judge.judge(observation(reply("1.2.3.4"), reply("1.2.3.5", ad=True)), nobody)
    assert differ.kind is VerdictKind.REAL and differ.categories == ["ad", "answer"]
    rcode = await judge.judge(observation(reply(rcode=2), reply("1.2.3.4")), nobody)
    assert rcode.category == "rcode"
    timeout = await judge.judge(observation(None, reply("1.2.3.4")), nobody)
    assert timeout.kind is VerdictKind.TIMEOUT and timeout.categories == [f"timeout.{CANDIDATE}"]
    unstable = await judge.judge(observation(reply("1.1.1.1"), reply("1.1.1.1"), reply("2.2.2.2")),
                                 nobody)
    assert unstable.kind is VerdictKind.UNSTABLE
    bad = await judge.judge(observation(b"\x00\x01garbage", reply("1.1.1.1")), nobody)
    assert bad.kind is VerdictKind.REAL and bad.category == "malformed"
    alone = await judge.judge(observation(reply("1.1.1.1")), nobody)
    assert alone.kind is VerdictKind.TIMEOUT and alone.category == "missing"


async def test_in_process_target_flushes_one_name() -> None:
    from resolver.app import ResolverAnswerer
    from tests.unit.test_recursor import make, small_world

    recursor, conductor, transport, _ = make(small_world, qmin=False)
    config = ResolverConfig(root_hints=(("a.root.", "127.53.0.1"),))
    target = InProcessTarget(CANDIDATE, config, timeout=5,
                             answerer=ResolverAnswerer(recursor, conductor))
    for _ in range(2):
        assert (await target.ask(query("www.zone.ex."))).wire is not None
    cached = len(transport.sent)  # the second ask came from the cache
    await target.flush("www.zone.ex.")
    again = await target.ask(query("www.zone.ex."))
    assert again.wire is not None and dns.message.from_wire(again.wire).answer
    # asked afresh, straight to the zone's server: the delegation stayed cached
    assert len(transport.sent) == cached + 1
    assert transport.sent[-1].qname.canonicalize().to_text() == "www.zone.ex."


async def test_in_process_target_flushes_one_name_behind_the_validator() -> None:
    """The candidate as the harness runs it in the demo: validating.  A flush must reach the
    recursor's cache through the validator (a fresh fetch that answers from the cache would
    make the differ call any varying answer persisted)."""
    from lab.authserver import LabServer
    from lab.manifest import manifest
    from lab.world import load_world
    from lab.zones import build_zones, trust_anchor_ds
    from resolver.app import ResolverAnswerer
    from resolver.dnssec.anchors import TrustAnchors
    from tests.unit.test_recursor import lab_recursor

    world = load_world()
    zones = build_zones(world)
    lab = (world, zones, LabServer(world, zones, seed=5))
    anchors = TrustAnchors.from_text("\n".join(trust_anchor_ds(zones)))
    validating, conductor, transport = lab_recursor(lab, qmin=False, anchors=anchors)
    assert type(validating).__name__ == "ValidatingRecursor"
    entry = next(e for e in manifest(world) if e.category == "stable" and e.dnssec == "secure"
                 and e.rdtype == 1 and e.rcode == 0 and not e.nodata)
    name = entry.name.to_text()
    config = ResolverConfig(root_hints=(("a.root.", "127.53.0.1"),))
    target = InProcessTarget(CANDIDATE, config, timeout=5,
                             answerer=ResolverAnswerer(validating, conductor))
    ask = query(name, do=True)
    for _ in range(2):
        assert (await target.ask(ask)).wire is not None
    cached = len(transport.sent)  # the second ask came from the cache
    await target.flush(name)
    assert (await target.ask(ask)).wire is not None
    asked = [q.qname.canonicalize().to_text() for q in transport.sent[cached:]]
    assert name.lower() in asked, asked


async def test_a_query_that_came_over_tcp_is_replayed_over_tcp(
        server: tuple[Server, int]) -> None:
    protocol, port = server
    target = AddressTarget("ref", "127.0.0.1", port, timeout=1.0)
    await target.start()
    try:
        udp_before = len(protocol.seen)
        q = query("WwW.Stream.lab.", do=True)
        answer = await target.ask(Query(qname=q.qname, qtype=1, do=True, wire=q.wire, tcp=True))
        # the fixture's TCP side answers 127.100.0.99, its UDP side 127.100.0.1
        assert answer.error is None and answer.wire is not None
        assert "127.100.0.99" in dns.message.from_wire(answer.wire).to_text()
        assert answer.wire[:2] == (q.wire or b"")[:2]  # the client's own ID back
        assert len(protocol.seen) == udp_before  # nothing went over UDP
        assert target.exchange.stats["tcp"] == 1 and target.exchange.stats["truncated"] == 0
        udp = await target.ask(query("n1.lab."))
        assert udp.wire is not None and "127.100.0.1" in dns.message.from_wire(udp.wire).to_text()
    finally:
        await target.stop()


async def test_in_process_target_answers_a_tcp_query_as_tcp() -> None:
    answerer = Answerer()
    config = ResolverConfig(root_hints=(("a.root.", "127.53.0.1"),))
    target = InProcessTarget(CANDIDATE, config, timeout=1.0,
                             answerer=answerer)  # type: ignore[arg-type]
    answer = await target.ask(Query(qname="huge.lab.", qtype=1, edns_payload=None, tcp=True))
    assert answer.wire is not None and len(answer.wire) > 512
    assert not answer.wire[2] & 0x02  # no TC: the size limit of UDP never applied
    assert len(answerer.requests) == 1  # one pass, over "TCP"; no UDP attempt first
