"""NetworkTransport on real loopback sockets: stray datagrams ignored, the 0x20 case undone
at the wire level (one parse per answer), a changed case reported, ICMP errors and silence."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset
import pytest

from resolver.conductor.core import random_case
from resolver.conductor.transport import (
    NetworkTransport,
    TransportError,
    parse_response,
    query_wire,
)

Reply = Callable[[bytes], list[bytes]]


async def _serve(reply: Reply) -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()

    class Server(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            for out in reply(data):
                self.transport.sendto(out, addr)  # type: ignore[attr-defined]

    transport, _ = await loop.create_datagram_endpoint(Server, local_addr=("127.0.0.1", 0))
    return transport, transport.get_extra_info("sockname")[1]


def _answer(query: bytes, qname: str | None = None, qid: int | None = None) -> bytes:
    q = dns.message.from_wire(query)
    r = dns.message.make_response(q)
    if qname is not None:
        r.question[0].name = dns.name.from_text(qname)
    name = r.question[0].name
    r.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "192.0.2.1"))
    r.answer.append(dns.rrset.from_text(dns.name.from_text("www", name), 60, "IN", "A",
                                        "192.0.2.2"))
    if qid is not None:
        r.id = qid
    return r.to_wire()


def _query(name: str) -> dns.message.Message:
    return dns.message.make_query(name, "A")


async def test_case_restored_in_every_compressed_name() -> None:
    server, port = await _serve(lambda q: [_answer(q)])
    try:
        t = NetworkTransport(port=port)
        response, same = await t.query_restoring(
            "127.0.0.1", _query("ExAmPlE.oRg."), dns.name.from_text("example.org."),
            tcp=False, timeout=2)
    finally:
        server.close()
    assert same
    assert response.question[0].name.labels[0] == b"example"
    # the second owner was compressed against the question: restored with it
    assert [r.name.to_text() for r in response.answer] == ["example.org.", "www.example.org."]


async def test_changed_case_is_not_restored_and_reported() -> None:
    server, port = await _serve(lambda q: [_answer(q, qname="example.org.")])
    try:
        t = NetworkTransport(port=port)
        response, same = await t.query_restoring(
            "127.0.0.1", _query("ExAmPlE.oRg."), dns.name.from_text("example.org."),
            tcp=False, timeout=2)
    finally:
        server.close()
    assert not same  # the conductor counts this as a 0x20 mismatch


async def test_wrong_id_and_non_response_ignored() -> None:
    def reply(q: bytes) -> list[bytes]:
        good = _answer(q)
        wrong = _answer(q, qid=(int.from_bytes(q[:2], "big") + 1) % 65536)
        return [wrong, q, good]  # a forged ID, the query itself (QR clear), the answer

    server, port = await _serve(reply)
    try:
        t = NetworkTransport(port=port)
        msg = _query("example.org.")
        response = await t.query("127.0.0.1", msg, tcp=False, timeout=2)
    finally:
        server.close()
    assert response.id == msg.id and len(response.answer) == 2


async def test_silence_times_out_and_refusal_is_a_transport_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        port = quiet.getsockname()[1]
        with pytest.raises(TimeoutError):
            await NetworkTransport(port=port).query("127.0.0.1", _query("a.org."), tcp=False,
                                                   timeout=0.2)
    # nobody listens on the port now: ICMP port unreachable
    with pytest.raises(TransportError):
        await NetworkTransport(port=port).query("127.0.0.1", _query("a.org."), tcp=False,
                                               timeout=2)


async def test_malformed_answer_is_a_transport_error() -> None:
    server, port = await _serve(lambda q: [q[:2] + b"\x80" + q[3:12] + b"\xff\xff"])
    try:
        with pytest.raises(TransportError, match="malformed"):
            await NetworkTransport(port=port).query("127.0.0.1", _query("a.org."), tcp=False,
                                                   timeout=2)
    finally:
        server.close()


def _with_https_rdata(rdata: bytes, rdtype: int = 65) -> bytes:
    """A response to www.example. HTTPS whose one answer record has ``rdata`` as it is,
    with EDNS (DO set) and rcode NOERROR."""
    query = dns.message.make_query("www.example.", "HTTPS", want_dnssec=True)
    reply = dns.message.make_response(query)
    reply.use_edns(0, dns.flags.DO, 1232)
    reply.answer.append(dns.rrset.from_text("www.example.", 300, "IN", "TXT", "x"))
    wire = bytearray(reply.to_wire())
    txt = b"\x00\x10\x00\x01" + (300).to_bytes(4, "big") + b"\x00\x02\x01x"
    at = wire.index(txt)
    record = rdtype.to_bytes(2, "big") + b"\x00\x01" + (300).to_bytes(4, "big")
    record += len(rdata).to_bytes(2, "big") + rdata
    return bytes(wire[:at]) + record + bytes(wire[at + len(txt):])


def test_rdata_the_resolver_does_not_read_is_kept_opaque_when_it_does_not_parse() -> None:
    """An HTTPS record with a duplicate SvcParam key: dnspython refuses it, the resolver
    passes it on as it came (RFC 3597); a malformed A record still makes the response
    malformed, and a good response parses as dnspython has it."""
    bad = bytes.fromhex("0001000001000302683200010003026833")
    wire = _with_https_rdata(bad)
    with pytest.raises(dns.exception.DNSException):
        dns.message.from_wire(wire)
    msg = parse_response(wire)
    [rrset] = msg.answer
    assert rrset.rdtype == 65 and rrset.ttl == 300 and rrset[0].to_digestable() == bad
    assert msg.edns == 0 and msg.ednsflags & dns.flags.DO and msg.rcode() == dns.rcode.NOERROR
    assert parse_response(msg.to_wire()).answer == msg.answer  # and it renders back
    with pytest.raises(dns.exception.DNSException):
        parse_response(_with_https_rdata(b"\x01\x02\x03", rdtype=1))  # an A of 3 octets
    good = _with_https_rdata(bytes.fromhex("000100000100030268 32".replace(" ", "")))
    assert parse_response(good) == dns.message.from_wire(good)


def _two_aliases(rdtype: str, first: str, second: str) -> bytes:
    """A reply whose answer section holds two ``rdtype`` records at one owner (dnspython
    would keep only the second of such a singleton RRset, so they are written one by one)."""
    msg = dns.message.make_response(dns.message.make_query("www.alias.example.com.", "A"))
    owner = "alias.example.com." if rdtype == "DNAME" else "www.alias.example.com."
    for target in (first, second):
        msg.answer.append(dns.rrset.from_text(owner, 600, "IN", rdtype, target))
    wire = msg.to_wire()
    assert wire[6:8] == b"\x00\x02"
    return wire


def test_two_aliases_at_one_owner_are_a_malformed_reply() -> None:
    """RFC 6672 §2.4 / RFC 2181 §10.1: an owner has one DNAME (one CNAME); Unbound throws a
    reply with two away (scrub_normalize), so the conductor reports it malformed; the same
    record twice is only a duplicate (one is kept), and other types may have several."""
    for rdtype in ("DNAME", "CNAME"):
        with pytest.raises(dns.exception.FormError, match=f"two {rdtype} records"):
            parse_response(_two_aliases(rdtype, "example.net.", "example.org."))
        [rrset] = parse_response(_two_aliases(rdtype, "example.net.", "example.net.")).answer
        assert len(rrset) == 1
    [a] = parse_response(_two_aliases("A", "10.0.0.1", "10.0.0.2")).answer
    assert len(a) == 2


def test_query_wire_is_dnspythons_rendering() -> None:
    """The conductor's queries written directly: byte for byte what to_wire gives, and
    anything it does not cover (records, options, TSIG, a relative name) left to to_wire."""
    rng = random.Random(3)
    checked = 0
    for text in (".", "example.", "WWW.Example.COM.", "a.b.a.b.", r"x\000y.\255.z."):
        for rdtype in ("A", "NS", "DS", "TYPE65280"):
            for edns, do, payload, flags in ((False, False, 512, 0),
                                             (0, False, 1232, dns.flags.RD),
                                             (0, True, 1232, dns.flags.CD),
                                             (0, True, 4096, dns.flags.RD | dns.flags.CD)):
                name = random_case(dns.name.from_text(text), rng)
                msg = dns.message.make_query(name, rdtype, use_edns=edns, payload=payload,
                                             want_dnssec=do, id=rng.randrange(65536))
                msg.flags = flags
                assert query_wire(msg) == msg.to_wire()
                assert msg.wire == msg.to_wire()
                checked += 1
    assert checked == 80
    # not the conductor's kind of query: to_wire's own bytes
    cookie = dns.message.make_query("example.", "A", use_edns=0,
                                    options=[dns.edns.GenericOption(10, b"12345678")])
    with_answer = dns.message.make_query("example.", "A")
    with_answer.answer.append(dns.rrset.from_text("example.", 60, "IN", "A", "192.0.2.1"))
    relative = dns.message.make_query(dns.name.from_text("rel", origin=None), "A")
    for msg in (cookie, with_answer):
        assert query_wire(msg) == msg.to_wire()
    with pytest.raises(dns.name.NeedAbsoluteNameOrOrigin):
        query_wire(relative)
