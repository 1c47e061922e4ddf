"""The peer protocol and its two sides (issue 21 part 2): framing, MAC, ownership checks,
single-flight at the owner, no forwarding loop, timeouts and backoff at the seam."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
import pytest_asyncio

from resolver.cache import Security
from resolver.clock import ManualClock
from resolver.dnssec.validating import ValidatedResolution
from resolver.model import Request
from resolver.peers import protocol as p
from resolver.peers.group import PeerGroup
from resolver.peers.server import PeerResolver, PeerServer
from resolver.recursor import Resolution
from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

SECRET = b"s" * 32
N = dns.name.from_text


def rr(name: str, rdtype: str, *data: str, ttl: int = 300) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *data)


class NoExchange:
    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        raise AssertionError("no upstream in these tests")


class Counting:
    """A resolver that answers every A question with 192.0.2.1, counted: the first time after
    ``delay`` (a resolution upstream), then at once (from its cache)."""

    def __init__(self, delay: float = 0.0, security: Security | None = None) -> None:
        self.delay = delay
        self.calls: list[str] = []
        self.security = security

    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution:
        cached = request.qname.to_text() in self.calls
        self.calls.append(request.qname.to_text())
        if not cached:
            await asyncio.sleep(self.delay)
        answer = [rr(request.qname.to_text(), "A", "192.0.2.1")]
        if self.security is not None:
            return ValidatedResolution(0, answer, [], 1, "", self.security, [])
        return Resolution(0, answer, [], upstream_queries=0 if cached else 1)


# -- framing ------------------------------------------------------------------------------


def _open(wire: bytes, secret: bytes | None) -> p.Frame:
    assert p.decode_header(wire[:4]) == len(wire) - 4
    return p.open_frame(wire[4:], secret)


def test_frames_round_trip_with_and_without_a_mac() -> None:
    q = p.Question(N("www.example.com."), 1)
    for secret in (None, SECRET):
        wire = p.encode_frame(p.Kind.REQUEST, 7, p.encode_question(q), p.F_DO, secret)
        frame = _open(wire, secret)
        assert (frame.kind, frame.request_id, frame.flags) == (p.Kind.REQUEST, 7, p.F_DO)
        assert p.decode_question(frame.body) == q


def test_a_bad_or_missing_mac_is_refused() -> None:
    body = p.encode_question(p.Question(N("a.example."), 1))
    signed = p.encode_frame(p.Kind.REQUEST, 1, body, 0, SECRET)
    with pytest.raises(p.FrameError, match="bad MAC"):
        _open(signed, b"another secret")
    tampered = bytearray(signed)
    tampered[20] ^= 1  # a byte of the question
    with pytest.raises(p.FrameError, match="bad MAC"):
        _open(bytes(tampered), SECRET)
    with pytest.raises(p.FrameError, match="no MAC"):
        _open(p.encode_frame(p.Kind.REQUEST, 1, body), SECRET)


def test_malformed_frames_are_refused() -> None:
    with pytest.raises(p.FrameError, match="length"):
        p.decode_header(struct.pack("!I", p.MAX_FRAME + 1))
    wire = bytearray(p.encode_frame(p.Kind.ACK, 1))
    wire[4] = 9
    with pytest.raises(p.FrameError, match="version 9"):
        _open(bytes(wire), None)
    wire = bytearray(p.encode_frame(p.Kind.ACK, 1))
    wire[5] = 42
    with pytest.raises(p.FrameError, match="type 42"):
        _open(bytes(wire), None)
    with pytest.raises(p.FrameError):
        p.decode_question(b"\x03www\x00\x00")


def test_an_answer_keeps_ttls_security_and_ede() -> None:
    q = p.Question(N("www.example.com."), 1)
    res = ValidatedResolution(0, [rr("www.example.com.", "A", "192.0.2.1", ttl=17)], [], 0, "",
                              Security.SECURE, [(6, "why")])
    body, flags = p.encode_answer(q, res, do=True)
    got = p.decode_answer(body, flags)
    assert got.cached and got.validated and got.security is Security.SECURE
    assert got.answer[0].ttl == 17 and got.ede == [(6, "why")]
    trusted = p.checked_resolution(q, got, trusted=True)
    assert isinstance(trusted, ValidatedResolution) and trusted.security is Security.SECURE
    untrusted = p.checked_resolution(q, got, trusted=False)
    assert isinstance(untrusted, ValidatedResolution)
    assert untrusted.security is Security.INDETERMINATE  # no AD from an unauthenticated peer
    capped = p.checked_resolution(q, got, trusted=True, max_ttl=10)
    assert capped.answer[0].ttl == 10


def _answer(question: p.Question, answer: list[dns.rrset.RRset],
            authority: list[dns.rrset.RRset] | None = None) -> p.Answer:
    return p.Answer(0, Security.INDETERMINATE, False, True, question, answer, authority or [])


def test_a_cname_chain_and_its_zone_proofs_are_accepted() -> None:
    q = p.Question(N("www.example.com."), 1)
    chain = [rr("www.example.com.", "CNAME", "edge.cdn.net."),
             rr("edge.cdn.net.", "A", "192.0.2.9")]
    assert p.checked_resolution(q, _answer(q, chain), trusted=False).answer == chain
    dq = p.Question(N("host.dname.example.com."), 1)
    dname = [rr("dname.example.com.", "DNAME", "other.example."),
             rr("dname.example.com.", "RRSIG", "DNAME 13 3 300 20300101000000 "
                "20200101000000 1 example.com. AAAA"),
             rr("host.dname.example.com.", "CNAME", "host.other.example."),
             rr("host.other.example.", "A", "192.0.2.5")]
    assert p.checked_resolution(dq, _answer(dq, dname), trusted=False).answer == dname
    nx = p.Question(N("nope.example.com."), 1)
    proofs = [rr("example.com.", "SOA", "ns. host. 1 2 3 4 5"),
              rr("mail.example.com.", "NSEC", "zz.example.com. A")]
    res = p.checked_resolution(nx, _answer(nx, [], proofs), trusted=False)
    assert res.authority == proofs
    # a wildcard answer: its NSEC proof lies elsewhere in the zone, no SOA beside it
    wq = p.Question(N("x.wild.example.com."), 1)
    wild = [rr("x.wild.example.com.", "A", "192.0.2.3")]
    proof = [rr("txt.example.com.", "NSEC", "zz.example.com. TXT")]
    assert p.checked_resolution(wq, _answer(wq, wild, proof), trusted=False).authority == proof


@pytest.mark.parametrize("answer,authority,match", [
    ([rr("www.example.com.", "A", "192.0.2.1")], [], "answer for"),  # another question
    ([rr("www.example.org.", "A", "192.0.2.1")], [], "not on the chain"),
    ([rr("www.example.net.", "A", "192.0.2.1"), rr("bank.example.", "A", "192.0.2.66")], [],
     "not on the chain"),
    ([], [rr("bank.example.", "NS", "ns.evil.")], "outside the zone"),
    ([], [rr("example.org.", "SOA", "ns. host. 1 2 3 4 5")], "outside the zone"),
])
def test_records_for_names_the_question_does_not_lead_to_are_refused(
        answer: list[dns.rrset.RRset], authority: list[dns.rrset.RRset], match: str) -> None:
    asked = p.Question(N("www.example.net."), 1)
    got_q = asked if match != "answer for" else p.Question(N("www.example.com."), 1)
    with pytest.raises(p.OwnershipError, match=match):
        p.checked_resolution(asked, _answer(got_q, answer, authority), trusted=True)


# -- the two sides over a real socket -------------------------------------------------------


async def _server(tmp_path: Path, name: str, inner: Counting, *, secret: bytes | None = None,
                  group: PeerGroup | None = None) -> PeerServer:
    server = PeerServer(PeerResolver(inner, group), NoExchange(), f"unix:{tmp_path}/{name}",
                        secret=secret)
    await server.start()
    return server


@pytest_asyncio.fixture
async def owner(tmp_path: Path) -> AsyncIterator[tuple[PeerServer, Counting]]:
    inner = Counting(delay=0.05)
    server = await _server(tmp_path, "owner.sock", inner, secret=SECRET)
    yield server, inner
    await server.close()


def _request(name: str = "www.example.com.") -> Request:
    return Request(N(name), dns.rdatatype.A)


async def test_the_owner_resolves_once_for_all_askers(
        owner: tuple[PeerServer, Counting], tmp_path: Path) -> None:
    server, inner = owner
    group = PeerGroup("me", (server.listen,), secret=SECRET)
    try:
        results = await asyncio.gather(*(group.ask(server.listen, _request())
                                         for _ in range(5)))
        assert inner.calls == ["www.example.com."]  # single-flight at the owner
        assert all(r is not None and r.answer[0][0].address == "192.0.2.1" for r in results)
        counts = group.metrics.peers[server.listen]
        assert counts["forwards"] == 5 and counts["misses"] == 5
        assert server.stats["acks"] == 5  # "alive" on receipt, before the answer
        again = await group.ask(server.listen, _request())
        assert again is not None and counts["hits"] == 1  # now from the owner's cache
        assert len(inner.calls) == 2 and server.stats["acks"] == 6
        assert "outcome=\"hits\"} 1" in "\n".join(group.prometheus())
    finally:
        await group.close()


async def test_a_peer_with_another_secret_is_not_believed(
        owner: tuple[PeerServer, Counting]) -> None:
    server, inner = owner
    group = PeerGroup("me", (server.listen,), secret=b"wrong" * 8)
    try:
        assert await group.ask(server.listen, _request()) is None
        assert group.metrics.peers[server.listen]["errors"] == 1
        assert server.stats["bad_frames"] == 1 and inner.calls == []
        assert not group.alive(server.listen)
    finally:
        await group.close()


async def test_a_forwarded_request_is_never_forwarded_again(tmp_path: Path) -> None:
    # B's own ring sends every name to another member; a request reaching B is still
    # answered by B itself, and B asks nobody
    inner = Counting()
    elsewhere = f"unix:{tmp_path}/elsewhere.sock"
    b_group = PeerGroup("unix:b", (elsewhere,))
    b_group.ring.order = lambda key: (elsewhere, "unix:b")  # type: ignore[method-assign]
    server = await _server(tmp_path, "b.sock", inner, group=b_group)
    a_group = PeerGroup("unix:a", (server.listen,))
    try:
        res = await a_group.ask(server.listen, _request("x.example.com."))
        assert res is not None and inner.calls == ["x.example.com."]
        assert b_group.metrics.peers[elsewhere]["forwards"] == 0
    finally:
        await server.close()
        await a_group.close()
        await b_group.close()


async def test_a_silent_peer_times_out_fast_and_is_skipped_with_backoff(tmp_path: Path) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # reads requests, never answers

    path = tmp_path / "silent.sock"
    srv = await asyncio.start_unix_server(silent, str(path))
    clock = ManualClock()
    member = f"unix:{path}"
    group = PeerGroup("unix:me", (member,), clock=clock)
    req = _request()
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await group.ask(member, req) is None
        assert loop.time() - start < 0.5  # the default 50 ms, with scheduling slack
        assert group.metrics.peers[member]["timeouts"] == 1
        owned = next(f"n{i}.example{i}.com." for i in range(100)
                     if group.ring.order(f"example{i}.com.")[0] == member)
        assert group.owner(_request(owned)) == member  # one late frame: not yet dead
        assert await group.ask(member, req) is None
        assert group.owner(_request(owned)) == member  # two: not yet either
        assert await group.ask(member, req) is None
        # dead: questions it owns go to the next member of their ranking (here: us)
        assert group.owner(_request(owned)) is None
        assert group.metrics.peers[member]["skipped_dead"] == 1
        clock.advance(1.01)  # the backoff (1 s) is over: tried again
        assert group.owner(_request(owned)) == member
        assert await group.ask(member, req) is None  # late again: skipped for 1 s again
        assert group.owner(_request(owned)) is None
        clock.advance(1.01)
        assert group.owner(_request(owned)) == member
    finally:
        await group.close()
        for writer in writers:
            writer.close()
        srv.close()
        await srv.wait_closed()


async def test_a_refusing_peer_is_skipped_with_a_doubling_backoff(tmp_path: Path) -> None:
    clock = ManualClock()
    member = f"unix:{tmp_path}/nobody.sock"
    group = PeerGroup("unix:me", (member,), clock=clock)
    try:
        for backoff in (1.0, 2.0, 4.0):
            assert await group.ask(member, _request()) is None  # connection refused
            assert not group.alive(member)
            clock.advance(backoff - 0.01)
            assert not group.alive(member)
            clock.advance(0.02)
            assert group.alive(member)
        assert group.metrics.peers[member]["errors"] == 3
    finally:
        await group.close()


async def test_a_dead_peer_costs_nothing_but_a_fallback(tmp_path: Path) -> None:
    member = f"unix:{tmp_path}/gone.sock"
    inner = Counting()
    group = PeerGroup("unix:me", (member,))
    resolver = PeerResolver(inner, group)
    names = [f"www.example{i}.com." for i in range(40)]
    try:
        for name in names:
            res = await resolver.resolve(_request(name), NoExchange())
            assert res.rcode == dns.rcode.NOERROR
        assert sorted(inner.calls) == sorted(names)  # every one answered here
        owned = [n for n in names if group.ring.order(n.split(".", 1)[1])[0] == member]
        assert len(owned) > 5
        counts = group.metrics.peers[member]
        # asked once (connection refused), then skipped while dead
        assert counts["errors"] == 1 and group.metrics.fallbacks == 1
        assert counts["skipped_dead"] == len(owned) - 1
    finally:
        await group.close()


async def test_only_allowed_addresses_may_connect() -> None:
    inner = Counting()
    server = PeerServer(PeerResolver(inner, None), NoExchange(), "127.0.0.1:0",
                        allowed=lambda host: host == "127.0.0.2")
    member = await server.start()
    group = PeerGroup("127.0.0.1:1", (member,))
    try:
        assert await group.ask(member, _request()) is None
        assert server.stats["refused_connections"] == 1 and inner.calls == []
        allowed = PeerGroup("127.0.0.2:1", (member,), source="127.0.0.2")
        assert await allowed.ask(member, _request()) is not None
        await allowed.close()
    finally:
        await group.close()
        await server.close()


async def test_per_peer_counters_are_served_to_prometheus(
        owner: tuple[PeerServer, Counting]) -> None:
    from resolver.server.metrics import MetricsServer

    server, _ = owner
    group = PeerGroup("me", (server.listen,), secret=SECRET)
    metrics = MetricsServer("127.0.0.1", 0, lambda: "\n".join(group.prometheus()) + "\n")
    host, port = await metrics.start()
    try:
        await group.ask(server.listen, _request())

        async def get(path: str) -> bytes:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            data = await reader.read()
            writer.close()
            return data

        text = (await get("/metrics")).decode()
        assert text.startswith("HTTP/1.0 200 OK")
        assert "# TYPE shadowdns_resolver_peer_requests_total counter" in text
        assert f'shadowdns_resolver_peer_requests_total{{peer="{server.listen}",' \
               'outcome="forwards"} 1' in text
        assert f'peer="{server.listen}",outcome="misses"}} 1' in text
        assert f'peer="{server.listen}",outcome="timeouts"}} 0' in text
        assert (await get("/other")).startswith(b"HTTP/1.0 404")
    finally:
        await metrics.close()
        await group.close()


class Failing:
    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution:
        raise RuntimeError("broken resolver")


async def test_an_owner_that_fails_a_question_is_not_dead(tmp_path: Path) -> None:
    server = PeerServer(PeerResolver(Failing(), None), NoExchange(), f"unix:{tmp_path}/f.sock")
    await server.start()
    group = PeerGroup("unix:me", (server.listen,))
    try:
        assert await group.ask(server.listen, _request()) is None  # the caller resolves it
        assert group.metrics.peers[server.listen]["errors"] == 1
        assert server.stats["errors"] == 1
        assert group.alive(server.listen)
    finally:
        await group.close()
        await server.close()


async def test_with_ack_after_an_answer_ready_in_time_goes_alone(tmp_path: Path) -> None:
    inner = Counting(delay=0.2)
    server = PeerServer(PeerResolver(inner, None), NoExchange(), f"unix:{tmp_path}/a.sock",
                        ack_after=0.05)
    await server.start()
    group = PeerGroup("unix:me", (server.listen,), timeout=0.1)
    try:
        assert await group.ask(server.listen, _request()) is not None  # resolving: ACK
        assert server.stats["acks"] == 1
        assert await group.ask(server.listen, _request()) is not None  # cached: no ACK
        assert server.stats["acks"] == 1 and server.stats["cached"] == 1
    finally:
        await group.close()
        await server.close()


async def test_ipv6_members() -> None:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    inner = Counting()
    server = PeerServer(PeerResolver(inner, None), NoExchange(), "[::1]:0",
                        allowed=lambda host: host == "::1")
    member = await server.start()
    assert member.startswith("[::1]:")
    group = PeerGroup("[::1]:1", (member,), source="::1")
    try:
        assert await group.ask(member, _request()) is not None
        assert inner.calls == ["www.example.com."]
    finally:
        await group.close()
        await server.close()


async def test_the_health_check_brings_a_dead_peer_back_without_a_client_query(
        tmp_path: Path) -> None:
    path = tmp_path / "later.sock"
    member = f"unix:{path}"
    group = PeerGroup("unix:me", (member,), backoff=0.05)
    group.start(interval=0.02)
    server: PeerServer | None = None
    try:
        assert await group.ask(member, _request()) is None  # nobody there: dead
        assert not group.alive(member)
        await asyncio.sleep(0.3)  # probed after each backoff, still nobody: still dead
        assert not group.alive(member)
        counts = group.metrics.peers[member]
        assert counts["probes"] >= 1 and counts["forwards"] == 1
        server = await _server(tmp_path, "later.sock", Counting())
        for _ in range(100):  # the backoff has doubled meanwhile: wait for the next probe
            if group.alive(member):
                break
            await asyncio.sleep(0.05)
        assert group.alive(member) and server.stats["pings"] >= 1
        assert counts["forwards"] == 1  # no client question was spent on finding out
    finally:
        await group.close()
        if server is not None:
            await server.close()
