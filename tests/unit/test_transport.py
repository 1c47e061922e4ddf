"""NetworkTransport on real loopback sockets: stray datagrams ignored, the 0x20 case undone
at the wire level (one parse per answer), a changed case reported, ICMP errors and silence."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import dns.message
import dns.name
import dns.rrset
import pytest

from resolver.conductor.transport import NetworkTransport, TransportError

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
