"""harness.intake: packets to queries, query lists, the UDP mirror."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import dns.flags
import dns.message
import pytest

from harness.config import QueryListConfig, UdpMirrorConfig
from harness.fakes import RecordingSink
from harness.intake.base import Malformed, query_from_wire, response_key, staging_key
from harness.intake.querylist import QueryListIntake, parse_line
from harness.intake.udp_mirror import UdpMirrorIntake
from harness.records import Source


def test_query_from_wire_keeps_the_client_flags() -> None:
    message = dns.message.make_query("WwW.Example.LAB.", "AAAA", want_dnssec=True, payload=4096)
    message.flags |= dns.flags.CD | dns.flags.AD
    query = query_from_wire(message.to_wire(), source=Source.UDP_MIRROR, client="127.0.0.9",
                            client_port=4000, seen_at=5.0)
    assert query.qname == "WwW.Example.LAB."
    assert (query.qtype, query.rd, query.cd, query.do, query.ad) == (28, True, True, True, True)
    assert query.edns_payload == 4096 and query.wire == message.to_wire()
    assert staging_key(query) == ("127.0.0.9", 4000, message.id, "www.example.lab.", 28)
    plain = dns.message.make_query("a.lab.", "A", use_edns=False)
    plain.flags = 0
    q2 = query_from_wire(plain.to_wire(), source=Source.PCAP)
    assert (q2.rd, q2.do, q2.edns_payload) == (False, False, None)


@pytest.mark.parametrize(("wire", "reason"), [
    (b"\x00\x01", "short"),
    (dns.message.make_response(dns.message.make_query("a.", "A")).to_wire(), "response"),
    (b"\x00\x01\x28\x00" + b"\x00" * 8, "opcode"),  # UPDATE
    (b"\x00\x01\x01\x00\x00\x00" + b"\x00" * 6, "qdcount"),
    (b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab", "unparsable"),
])
def test_malformed_packets(wire: bytes, reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        query_from_wire(wire, source=Source.UDP_MIRROR)


def test_response_key() -> None:
    query = dns.message.make_query("A.lab.", "A")
    reply = dns.message.make_response(query)
    assert response_key(reply.to_wire(), "127.0.0.1", 53) == ("127.0.0.1", 53, query.id,
                                                              "a.lab.", 1)
    with pytest.raises(Malformed):
        response_key(query.to_wire(), None, None)


def test_parse_line() -> None:
    assert parse_line("www.example.lab. AAAA") == ("www.example.lab.", 28)
    assert parse_line("  example.com  # comment") == ("example.com.", 1)
    assert parse_line("x.lab TYPE65") == ("x.lab.", 65)
    assert parse_line("# only a comment") is None
    assert parse_line("   ") is None
    for bad in ("a b c", "x.lab NOTATYPE", "x.lab OPT", "a..b A"):
        with pytest.raises(Malformed):
            parse_line(bad)


async def test_query_list(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("# respdiff style\nwww.example.lab. A\nexample.lab AAAA\nbad line here\n\n"
                    "x.lab NOPE\nsigned.lab. DNSKEY\n")
    intake = QueryListIntake(QueryListConfig(file=path, repeat=2, edns_payload=1400, cd=True))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 5)
    assert [q.qname for q in sink.queries] == ["www.example.lab.", "example.lab.",
                                                "signed.lab."] * 2
    assert intake.stats["malformed"] == 4 and intake.stats["queries"] == 6
    assert intake.total == intake.done == 14
    first = dns.message.from_wire(sink.queries[0].wire or b"")
    assert first.payload == 1400 and first.flags & dns.flags.CD
    assert first.ednsflags & dns.flags.DO
    await intake.close()


async def test_query_list_rate(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("".join(f"n{i}.lab. A\n" for i in range(10)))
    intake = QueryListIntake(QueryListConfig(file=path, rate=50))
    sink = RecordingSink()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 5)
    assert len(sink.queries) == 10
    assert loop.time() - start >= 9 / 50 * 0.9
    # how the report's header and the run's log name the source: in words
    assert intake.describe() == f"query list {path} (50 queries/s)"
    assert QueryListIntake(QueryListConfig(file=path)).describe() == (
        f"query list {path} (as fast as possible)")


async def test_query_list_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot read the query list"):
        await QueryListIntake(QueryListConfig(file=tmp_path / "nope")).start(RecordingSink())


async def test_udp_mirror_takes_queries_and_never_answers() -> None:
    intake = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0)))
    sink = RecordingSink()
    await intake.start(sink)
    host, port = intake.address
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.settimeout(0.3)
    try:
        for i in range(20):
            sender.sendto(dns.message.make_query(f"n{i}.lab.", "A").to_wire(), (host, port))
        sender.sendto(b"garbage", (host, port))
        sender.sendto(b"\x00" * 40, (host, port))
        response = dns.message.make_response(dns.message.make_query("r.lab.", "A"))
        sender.sendto(response.to_wire(), (host, port))
        for _ in range(100):
            if intake.stats["datagrams"] == 23:
                break
            await asyncio.sleep(0.01)
        assert intake.stats["queries"] == 20 and len(sink.queries) == 20
        assert intake.stats["malformed"] == 2 and intake.stats["responses"] == 1
        assert sink.queries[0].client == "127.0.0.1"
        assert sink.queries[0].source is Source.UDP_MIRROR
        with pytest.raises(TimeoutError):
            sender.recv(512)  # nothing comes back
    finally:
        sender.close()
        await intake.close()


async def test_udp_mirror_refuses_other_sources() -> None:
    intake = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0),
                                             allow=(__import__("ipaddress").IPv4Network(
                                                 "127.9.9.0/24"),)))
    sink = RecordingSink()
    await intake.start(sink)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(dns.message.make_query("a.lab.", "A").to_wire(), intake.address)
        for _ in range(100):
            if intake.stats["datagrams"]:
                break
            await asyncio.sleep(0.01)
        assert intake.stats["refused_source"] == 1 and not sink.queries
        assert not intake.allowed("not an address")
    finally:
        sender.close()
        await intake.close()


async def test_udp_mirror_port_in_use() -> None:
    first = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0)))
    await first.start(RecordingSink())
    try:
        second = UdpMirrorIntake(UdpMirrorConfig(listen=first.address))
        with pytest.raises(OSError, match="udp mirror: cannot bind"):
            await second.start(RecordingSink())
    finally:
        await first.close()


def proxy_v2(client: str, port: int, *, stream: bool = False, local: bool = False,
             tlv: bytes = b"") -> bytes:
    """A PROXY protocol v2 header as a mirror (dnsdist addProxyProtocol) writes it."""
    import ipaddress
    import struct

    from harness.intake.proxyv2 import SIGNATURE

    ip = ipaddress.ip_address(client)
    family = 0x1 if ip.version == 4 else 0x2
    body = ip.packed + ip.packed + struct.pack("!HH", port, 53) + tlv
    return (SIGNATURE + bytes([0x20 if local else 0x21, family << 4 | (0x1 if stream else 0x2)])
            + struct.pack("!H", len(body)) + body)


async def test_udp_mirror_keeps_the_client_of_a_proxy_v2_header() -> None:
    intake = UdpMirrorIntake(UdpMirrorConfig(listen=("::1", 0)))  # loopback default allow
    sink = RecordingSink()
    await intake.start(sink)
    query = dns.message.make_query("p.lab.", "A").to_wire()
    sender = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        for datagram in (proxy_v2("192.0.2.77", 40000) + query,
                         proxy_v2("2001:db8::77", 40001, stream=True, tlv=b"\x04\x00\x01x")
                         + query,
                         proxy_v2("192.0.2.78", 1, local=True) + query,
                         proxy_v2("192.0.2.79", 1)[:20],  # cut short
                         query):
            sender.sendto(datagram, intake.address[:2])
        for _ in range(200):
            if intake.stats["datagrams"] == 5:
                break
            await asyncio.sleep(0.01)
        got = [(q.client, q.client_port, q.tcp) for q in sink.queries]
        assert got[:2] == [("192.0.2.77", 40000, False), ("2001:db8::77", 40001, True)]
        assert got[2][0] == "::1" and got[3][0] == "::1"  # LOCAL, and no header: the sender
        assert intake.stats["proxy_v2"] == 3 and intake.stats["bad_proxy_header"] == 1
    finally:
        sender.close()
        await intake.close()


async def test_udp_mirror_reads_the_client_from_the_mirrors_ecs_option() -> None:
    import dns.edns

    from harness.intake.base import split_ecs

    intake = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0), client_from_ecs=True))
    sink = RecordingSink()
    await intake.start(sink)
    cookie = dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"\x01" * 8)
    with_ecs = dns.message.make_query("WwW.Ecs.lab.", "A", use_edns=0, payload=1400,
                                      want_dnssec=True, options=[
                                          dns.edns.ECSOption("198.51.100.0", 24), cookie])
    plain = dns.message.make_query("plain.lab.", "A")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(with_ecs.to_wire(), intake.address)
        sender.sendto(plain.to_wire(), intake.address)
        for _ in range(200):
            if len(sink.queries) == 2:
                break
            await asyncio.sleep(0.01)
        first, second = sink.queries
        assert first.client == "198.51.100.0" and first.qname == "WwW.Ecs.lab."
        replayed = dns.message.from_wire(first.wire or b"")
        assert replayed.id == with_ecs.id and replayed.payload == 1400
        assert replayed.ednsflags & dns.flags.DO
        assert [o.otype for o in replayed.options] == [dns.edns.OptionType.COOKIE]
        assert second.client == "127.0.0.1" and second.wire == plain.to_wire()
        assert intake.stats["client_from_ecs"] == 1
    finally:
        sender.close()
        await intake.close()
    assert split_ecs(b"junk") == (None, b"junk")
