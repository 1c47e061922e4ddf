"""harness.intake.pcap: pcap and pcapng, link types, timing replay, corrupt files.

Captures are written here with dpkt; the integration test reads one that tcpdump wrote.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import dns.message
import dpkt
import pytest

from harness.config import PcapConfig
from harness.fakes import RecordingSink
from harness.intake.pcap import PcapIntake

CLIENT, SERVER = "127.0.0.5", "127.0.0.53"


def udp_ip(payload: bytes, sport: int, dport: int, src: str = CLIENT, dst: str = SERVER,
           frag: bool = False) -> dpkt.ip.IP:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=dpkt.ip.IP_PROTO_UDP,
                    data=udp)
    if frag:
        ip.mf = 1
    ip.len = len(ip)
    return ip


def ether(ip: dpkt.Packet) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=b"\0" * 6, dst=b"\0" * 6,
                                        type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def exchange(n: int) -> list[tuple[bytes, bytes]]:
    """(query, response) wire pairs."""
    out = []
    for i in range(n):
        q = dns.message.make_query(f"p{i}.lab.", "A")
        out.append((q.to_wire(), dns.message.make_response(q).to_wire()))
    return out


def write_pcap(path: Path, frames: list[tuple[float, bytes]], linktype: int = 1,
               ng: bool = False) -> None:
    with path.open("wb") as handle:
        writer: dpkt.pcap.Writer | dpkt.pcapng.Writer
        writer = (dpkt.pcapng.Writer(handle, linktype=linktype) if ng
                  else dpkt.pcap.Writer(handle, linktype=linktype))
        for ts, frame in frames:
            writer.writepkt(frame, ts=ts)


async def replay(path: Path, speed: float | None = None, port: int = 53
                 ) -> tuple[PcapIntake, RecordingSink]:
    intake = PcapIntake(PcapConfig(file=path, speed=speed, port=port))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 10)
    await intake.close()
    return intake, sink


@pytest.mark.parametrize("ng", [False, True])
async def test_queries_and_responses(tmp_path: Path, ng: bool) -> None:
    frames = []
    for i, (q, r) in enumerate(exchange(5)):
        frames.append((100.0 + i, ether(udp_ip(q, 4000 + i, 53))))
        frames.append((100.0 + i + 0.01, ether(udp_ip(r, 53, 4000 + i, SERVER, CLIENT))))
    frames.append((106.0, ether(udp_ip(b"garbage!", 5000, 53))))
    frames.append((106.1, ether(udp_ip(b"x" * 20, 5000, 5353))))
    frames.append((106.2, ether(udp_ip(exchange(1)[0][0], 5000, 53, frag=True))))
    frames.append((106.3, b"\x01\x02"))  # a runt frame
    path = tmp_path / ("t.pcapng" if ng else "t.pcap")
    write_pcap(path, frames, ng=ng)
    intake, sink = await replay(path)
    assert [q.qname for q in sink.queries] == [f"p{i}.lab." for i in range(5)]
    assert sink.queries[0].client == CLIENT and sink.queries[0].client_port == 4000
    assert sink.queries[0].seen_at == pytest.approx(100.0)
    assert len(sink.staged) == 5 and sink.staged[0][0][:2] == (CLIENT, 4000)
    stats = intake.stats
    assert stats["packets"] == 14 and stats["malformed"] == 1 and stats["other"] >= 1
    assert stats["fragments"] == 1 and stats["corrupt"] == 0
    assert stats["undecodable"] + stats["other"] == 2  # the runt and the 5353 datagram
    assert intake.done == intake.total


@pytest.mark.parametrize(("linktype", "wrap"), [
    (0, lambda ip: dpkt.loopback.Loopback(family=2, data=ip)),  # DLT_NULL
    (101, lambda ip: ip),  # raw IP
    (113, lambda ip: dpkt.sll.SLL(type=0, ethtype=dpkt.ethernet.ETH_TYPE_IP, data=ip)),
])
async def test_link_types(tmp_path: Path, linktype: int, wrap: object) -> None:
    q, _ = exchange(1)[0]
    path = tmp_path / "l.pcap"
    write_pcap(path, [(1.0, bytes(wrap(udp_ip(q, 4000, 53))))], linktype=linktype)  # type: ignore[operator]
    _, sink = await replay(path)
    assert [x.qname for x in sink.queries] == ["p0.lab."]


async def test_ipv6(tmp_path: Path) -> None:
    q, _ = exchange(1)[0]
    udp = dpkt.udp.UDP(sport=4000, dport=53, data=q)
    udp.ulen = len(udp)
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, "::1"),
                       dst=socket.inet_pton(socket.AF_INET6, "::1"), nxt=dpkt.ip.IP_PROTO_UDP,
                       hlim=64, data=udp)
    ip6.plen = len(udp)
    path = tmp_path / "6.pcap"
    write_pcap(path, [(1.0, bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP6,
                                                         data=ip6)))])
    _, sink = await replay(path)
    assert sink.queries[0].client == "::1"


class VirtualTime:
    """A :class:`~harness.intake.pcap.Pacer` whose clock moves only when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 50.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_timing(tmp_path: Path) -> None:
    frames = [(1000.0 + 0.1 * i, ether(udp_ip(q, 4000, 53))) for i, (q, _) in
              enumerate(exchange(5))]  # spans 0.4 s
    path = tmp_path / "timed.pcap"
    write_pcap(path, frames)
    for speed, gap in ((1.0, 0.1), (4.0, 0.025), (None, None)):
        pacer = VirtualTime()
        intake = PcapIntake(PcapConfig(file=path, speed=speed), pacer=pacer)
        sink = RecordingSink()
        await intake.start(sink)
        await asyncio.wait_for(intake.wait(), 10)
        await intake.close()
        assert len(sink.queries) == 5
        if gap is None:
            assert pacer.slept == [], "as fast as possible: no pacing"
        else:
            # Each packet after the first waits for its capture time, scaled by the speed.
            assert pacer.slept == pytest.approx([gap] * 4), speed
            assert pacer.now - 50.0 == pytest.approx(0.4 / speed)


async def test_corrupt_captures_are_counted_and_end_the_file(tmp_path: Path) -> None:
    frames = [(1.0 + i, ether(udp_ip(q, 4000, 53))) for i, (q, _) in enumerate(exchange(20))]
    good = tmp_path / "good.pcap"
    write_pcap(good, frames)
    data = good.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 30])  # the last record breaks off
    intake, sink = await replay(cut)
    assert len(sink.queries) == 19 and intake.stats["corrupt"] == 1
    header_cut = tmp_path / "header_cut.pcap"
    header_cut.write_bytes(data[: len(data) - len(frames[-1][1]) - 8])  # inside a record header
    intake, sink = await replay(header_cut)
    assert intake.stats["corrupt"] == 1 and len(sink.queries) == 19
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"\x00\x11garbage, not a capture" * 20)
    intake, sink = await replay(garbage)
    assert intake.stats["corrupt"] == 1 and not sink.queries
    ng = tmp_path / "bad.pcapng"
    ng.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\xff" * 40)
    intake, sink = await replay(ng)
    assert intake.stats["corrupt"] == 1
    with pytest.raises(OSError, match="cannot read the capture"):
        await PcapIntake(PcapConfig(file=tmp_path / "missing.pcap")).start(RecordingSink())


def tcp_ip(payload: bytes, sport: int, dport: int, src: str = CLIENT,
           dst: str = SERVER) -> dpkt.ip.IP:
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
                       data=payload)
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=dpkt.ip.IP_PROTO_TCP,
                    data=tcp)
    ip.len = len(ip)
    return ip


def framed(*wires: bytes) -> bytes:
    return b"".join(len(w).to_bytes(2, "big") + w for w in wires)


async def test_dns_over_tcp_segments_are_read_and_marked_tcp(tmp_path: Path) -> None:
    pairs = exchange(4)
    frames = [
        (1.0, ether(udp_ip(pairs[0][0], 4000, 53))),  # UDP, as before
        (1.1, ether(tcp_ip(framed(pairs[1][0]), 4001, 53))),  # one query per segment
        (1.2, ether(tcp_ip(framed(pairs[2][0], pairs[3][0]), 4002, 53))),  # pipelined
        (1.3, ether(tcp_ip(framed(pairs[1][1]), 53, 4001))),  # the answer: staging
        (1.4, ether(tcp_ip(b"", 4003, 53))),  # a bare ACK
        (1.5, ether(tcp_ip(framed(pairs[0][0])[:-5], 4004, 53))),  # split across segments
    ]
    path = tmp_path / "tcp.pcap"
    write_pcap(path, frames)
    intake, sink = await replay(path)
    assert [(q.qname, q.tcp) for q in sink.queries] == [
        ("p0.lab.", False), ("p1.lab.", True), ("p2.lab.", True), ("p3.lab.", True)]
    assert sink.queries[1].client_port == 4001
    assert [key[1] for key, _ in sink.staged] == [4001]
    assert intake.stats["tcp_partial"] == 1 and intake.stats["queries"] == 4
