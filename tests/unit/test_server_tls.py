"""DoT (RFC 7858) and DoH (RFC 8484) listeners with the queue and workers, on loopback.

Real TLS (a self-signed pair made per module), real HTTP/2 (h2 on the client side) and
HTTP/1.1 (aiohttp) clients; only the answerer is a fake.  Time bounds are generous; nothing
asserts on latency.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import re
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import dns.message
import dns.query
import dns.rcode
import h2.config
import h2.connection
import h2.events
import pytest

from configfiles import ConfigError
from resolver.cache.reply import FastCache
from resolver.cli import config_from, serve
from resolver.frames import FrameQueue
from resolver.server import Listeners
from resolver.server.doh import BadRequest, max_age, parse_request
from resolver.server.tls import ALPN_DOH, ALPN_DOT, KeyPair, self_signed, server_context
from resolver.workers import Workers
from shadowdns.cli import build_parser
from tests.unit.test_server import BOUND, HOST, DelayAnswerer, framed, read_message, wait_for

PAIR: KeyPair = self_signed(HOST)


def client_context(alpn: list[str]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the self-signed pair: we test transport, not PKI
    context.set_alpn_protocols(alpn)
    return context


@contextlib.asynccontextmanager
async def serving(answerer: DelayAnswerer, *, fast: FastCache | None = None,
                  **options: Any) -> AsyncIterator[Listeners]:
    queue = FrameQueue()
    workers = Workers(queue, answerer, n=8, fastcache=fast)
    listeners = Listeners(queue, HOST, 0, fastcache=fast, dot_port=0, doh_port=0,
                          dot_tls=server_context(ALPN_DOT, pair=PAIR),
                          doh_tls=server_context(ALPN_DOH, pair=PAIR), **options)
    workers.start()
    try:
        await listeners.start()
        yield listeners
    finally:
        await listeners.close()
        await workers.stop()


def _port(server: Any) -> int:
    assert server is not None
    return int(server.address[1])


def _query(name: str, qid: int = 0) -> bytes:
    q = dns.message.make_query(name, "A")
    q.id = qid
    return q.to_wire()


# -- pure parts ---------------------------------------------------------------------------

def test_parse_request_accepts_get_and_post_and_refuses_the_rest() -> None:
    wire = _query("example.")
    b64 = base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
    assert parse_request("GET", f"/dns-query?dns={b64}", None, b"", "/dns-query") == wire
    assert parse_request("POST", "/dns-query", "application/dns-message; x=1", wire,
                         "/dns-query") == wire
    cases = [
        (("GET", "/other?dns=" + b64, None, b""), 404),
        (("GET", "/dns-query?dns=" + b64 + "&dns=" + b64, None, b""), 400),
        (("GET", "/dns-query", None, b""), 400),
        (("GET", "/dns-query?dns=AA*A", None, b""), 400),
        (("GET", "/dns-query?dns=" + "A" * 90000, None, b""), 413),
        (("GET", "/dns-query?dns=AAAA", None, b""), 400),  # 3 bytes: shorter than a header
        (("POST", "/dns-query", "text/plain", wire, ), 415),
        (("POST", "/dns-query", None, wire), 415),
        (("POST", "/dns-query", "application/dns-message", b"x" * 65536), 413),
        (("POST", "/dns-query", "application/dns-message",
          wire[:2] + bytes([wire[2] | 0x80]) + wire[3:]), 400),  # QR set: a response
        (("PUT", "/dns-query", "application/dns-message", wire), 405),
    ]
    for (method, target, ctype, body), status in cases:
        with pytest.raises(BadRequest) as e:
            parse_request(method, target, ctype, body, "/dns-query")
        assert e.value.status == status, (method, target, ctype)


def test_max_age_is_the_smallest_ttl() -> None:
    q = dns.message.make_query("example.", "A")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("example.", 300, "IN", "A", "192.0.2.1"))
    r.authority.append(dns.rrset.from_text("example.", 120, "IN", "NS", "ns.example."))
    r.use_edns(0)
    assert max_age(r.to_wire()) == 120
    assert max_age(dns.message.make_response(q).to_wire()) == 0
    assert max_age(b"\x00" * 5) == 0


# -- DoT -----------------------------------------------------------------------------------

async def test_dot_negotiates_alpn_pipelines_and_answers_out_of_order() -> None:
    answerer = DelayAnswerer({"slow": 0.4})
    async with serving(answerer) as listeners:
        reader, writer = await asyncio.open_connection(
            HOST, _port(listeners.dot), ssl=client_context(["dot"]))
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "dot"
            assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
            writer.write(framed(_query("slow.example.", 1), _query("fast.example.", 2)))
            first = await asyncio.wait_for(read_message(reader), BOUND)
            second = await asyncio.wait_for(read_message(reader), BOUND)
        finally:
            writer.close()
        assert (first.id, second.id) == (2, 1)  # the quick one overtook the slow one
        assert second.answer[0][0].to_text() == "192.0.2.1"
        dot = listeners.dot
        assert dot is not None and dot.stats.messages == 2 and dot.stats.replies == 2


async def test_dot_cache_hits_are_answered_from_bytes() -> None:
    answerer = DelayAnswerer()
    fast = FastCache(1 << 20)
    async with serving(answerer, fast=fast) as listeners:
        port = _port(listeners.dot)
        context = client_context(["dot"])
        replies = []
        for qid in (7, 8, 9):
            q = dns.message.make_query("HoT.example.", "A")
            q.id = qid
            replies.append(await asyncio.to_thread(
                dns.query.tls, q, HOST, port=port, timeout=BOUND, ssl_context=context))
        assert [r.id for r in replies] == [7, 8, 9]
        assert all(r.question[0].name.labels[0] == b"HoT" for r in replies)
        assert answerer.asked == ["hot"]  # the workers saw the first only
        dot = listeners.dot
        assert dot is not None and dot.stats.fast_replies == 2


async def test_dot_drops_a_stalled_handshake_and_garbage_and_keeps_serving() -> None:
    async with serving(DelayAnswerer(), handshake_timeout=0.3) as listeners:
        port = _port(listeners.dot)
        reader, writer = await asyncio.open_connection(HOST, port)  # TCP, never says hello
        assert await asyncio.wait_for(reader.read(), BOUND) == b""
        writer.close()
        for junk in (b"\x16\x03\x01\xff\xff" + b"\x00" * 64,  # a handshake record, bogus
                     b"\x17\x03\x03\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n"):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(junk)
            assert await asyncio.wait_for(reader.read(), BOUND) is not None
            writer.close()
        q = dns.message.make_query("after.example.", "A")
        r = await asyncio.to_thread(dns.query.tls, q, HOST, port=port, timeout=BOUND,
                                    ssl_context=client_context(["dot"]))
        assert r.rcode() == dns.rcode.NOERROR and r.answer


async def test_dot_connection_cap_and_idle_timeout() -> None:
    async with serving(DelayAnswerer(), max_connections=1, idle_timeout=0.3) as listeners:
        port = _port(listeners.dot)
        context = client_context(["dot"])
        _, first = await asyncio.open_connection(HOST, port, ssl=context)
        dot = listeners.dot
        assert dot is not None
        await wait_for(lambda: dot.connections == 1)
        reader2, writer2 = await asyncio.open_connection(HOST, port, ssl=context)
        assert await asyncio.wait_for(reader2.read(), BOUND) == b""  # over the cap
        assert dot.stats.refused == 1
        await wait_for(lambda: dot.stats.closed_idle == 1)  # the first one, idle
        first.close()
        writer2.close()


# -- DoH over HTTP/2 ---------------------------------------------------------------------

def h2_exchange(port: int, requests: list[tuple[str, str, list[tuple[bytes, bytes]], bytes]],
                *, raw_after_preface: bytes = b"") -> list[tuple[int, dict[bytes, bytes], bytes]]:
    """Send every request on one HTTP/2 connection; (status, headers, body) per request."""
    sock = client_context(["h2"]).wrap_socket(
        socket.create_connection((HOST, port), timeout=BOUND))
    with sock:
        assert sock.selected_alpn_protocol() == "h2"
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_connection()
        if raw_after_preface:
            sock.sendall(conn.data_to_send() + raw_after_preface)
            return [(0, {}, _drain(sock))]
        ids = []
        pending: dict[int, bytes] = {}
        for method, path, headers, body in requests:
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, [(b":method", method.encode()), (b":path", path.encode()),
                                    (b":scheme", b"https"), (b":authority", b"localhost"),
                                    *headers], end_stream=not body)
            if body:
                pending[sid] = body
            ids.append(sid)
        _send_bodies(conn, pending)
        sock.sendall(conn.data_to_send())
        results: dict[int, list[Any]] = {sid: [0, {}, bytearray()] for sid in ids}
        done: set[int] = set()
        while len(done) < len(ids):
            data = sock.recv(65535)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    headers_ = dict(event.headers)
                    results[event.stream_id][0] = int(headers_[b":status"])
                    results[event.stream_id][1] = headers_
                elif isinstance(event, h2.events.DataReceived):
                    results[event.stream_id][2] += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length,
                                                   event.stream_id)
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    done.add(event.stream_id)
                    pending.pop(event.stream_id, None)
            _send_bodies(conn, pending)
            sock.sendall(conn.data_to_send())
        return [(results[s][0], results[s][1], bytes(results[s][2])) for s in ids]


def _send_bodies(conn: h2.connection.H2Connection, pending: dict[int, bytes]) -> None:
    """Send what flow control lets through of each body; the rest waits in ``pending``."""
    for sid in list(pending):
        body = pending.pop(sid)
        while body:
            room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
            if room <= 0:
                pending[sid] = body
                break
            chunk, body = body[:room], body[room:]
            conn.send_data(sid, chunk, end_stream=not body)


def _drain(sock: ssl.SSLSocket) -> bytes:
    out = bytearray()
    with contextlib.suppress(OSError):
        while data := sock.recv(65535):
            out += data
    return bytes(out)


DNS_MESSAGE = [(b"content-type", b"application/dns-message")]


async def test_doh_h2_get_and_post_with_cache_control_and_fast_hits() -> None:
    answerer = DelayAnswerer()
    fast = FastCache(1 << 20)
    async with serving(answerer, fast=fast) as listeners:
        wire = _query("WwW.example.")
        b64 = base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
        port = _port(listeners.doh)
        first = await asyncio.to_thread(h2_exchange, port, [
            ("POST", "/dns-query", DNS_MESSAGE, wire)])
        again = await asyncio.to_thread(h2_exchange, port, [
            ("GET", f"/dns-query?dns={b64}", [], b""),
            ("POST", "/dns-query", DNS_MESSAGE, wire)])
        for status, headers, body in first + again:
            assert status == 200
            assert headers[b"content-type"] == b"application/dns-message"
            reply = dns.message.from_wire(body)
            # the reply's TTL (a fast hit lowers it by the whole seconds it aged, rounded up)
            ttl = reply.answer[0].ttl
            assert ttl in (299, 300) and headers[b"cache-control"] == f"max-age={ttl}".encode()
            assert reply.id == 0 and reply.answer[0][0].to_text() == "192.0.2.1"
            assert reply.question[0].name.labels[0] == b"WwW"
        assert answerer.asked == ["www"]
        doh = listeners.doh
        assert doh is not None
        assert doh.stats.h2_connections == 2 and doh.stats.fast_replies == 2


async def test_doh_h2_bad_requests_get_4xx_and_garbage_does_not_stop_the_server() -> None:
    async with serving(DelayAnswerer()) as listeners:
        port = _port(listeners.doh)
        wire = _query("example.")
        got = await asyncio.to_thread(h2_exchange, port, [
            ("GET", "/dns-query?dns=%%%", [], b""),
            ("POST", "/dns-query", [(b"content-type", b"text/plain")], wire),
            ("POST", "/dns-query", DNS_MESSAGE, b"\x00" * 70000),
            ("DELETE", "/dns-query", [], b""),
            ("GET", "/elsewhere", [], b""),
        ])
        assert [status for status, _, _ in got] == [400, 415, 413, 405, 404]
        assert got[3][1][b"allow"] == b"GET, POST"
        # a frame of an unknown length and type garbage after the preface: GOAWAY and close
        await asyncio.to_thread(h2_exchange, port, [],
                                raw_after_preface=b"\xff\xff\xff\x01\x00\x00\x00\x00\x01junk")
        doh = listeners.doh
        assert doh is not None
        await wait_for(lambda: doh.stats.protocol_errors == 1)
        [(status, _, body)] = await asyncio.to_thread(h2_exchange, port, [
            ("POST", "/dns-query", DNS_MESSAGE, wire)])
        assert status == 200 and dns.message.from_wire(body).answer


async def test_doh_h2_trickled_streams_and_pings_are_closed_by_the_idle_timeout() -> None:
    """A stream opened and never ended, then PINGs: no complete request, so no activity."""
    async with serving(DelayAnswerer(), idle_timeout=0.5) as listeners:
        port = _port(listeners.doh)
        reader, writer = await asyncio.open_connection(HOST, port, ssl=client_context(["h2"]))
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_connection()
        conn.send_headers(1, [(b":method", b"POST"), (b":path", b"/dns-query"),
                              (b":scheme", b"https"), (b":authority", b"x"), *DNS_MESSAGE])
        writer.write(conn.data_to_send())
        closed = False
        for _ in range(40):  # a PING every 0.1 s, never the request's end
            conn.ping(b"12345678")
            writer.write(conn.data_to_send())
            await asyncio.sleep(0.1)
            try:
                if await asyncio.wait_for(reader.read(65535), 0.1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        assert closed
        writer.close()
        doh = listeners.doh
        assert doh is not None and doh.stats.closed_idle >= 1


def _server_settings(port: int) -> Any:
    sock = client_context(["h2"]).wrap_socket(
        socket.create_connection((HOST, port), timeout=BOUND))
    with sock:
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        conn.receive_data(sock.recv(65535))
        return conn.remote_settings


async def test_doh_h2_offers_100_concurrent_streams_whatever_the_in_flight_limit() -> None:
    """dnsperf -q 100 opens its streams before reading our SETTINGS (RFC 9113 §6.5.2)."""
    async with serving(DelayAnswerer(), max_in_flight=8) as listeners:
        settings = await asyncio.to_thread(_server_settings, _port(listeners.doh))
        assert settings.max_concurrent_streams == 100
        assert settings.max_header_list_size == 16384


# -- DoH over HTTP/1.1 ---------------------------------------------------------------------

async def test_doh_http11_get_post_and_errors() -> None:
    async with serving(DelayAnswerer()) as listeners:
        url = f"https://{HOST}:{_port(listeners.doh)}/dns-query"
        wire = _query("www.example.")
        b64 = base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
        connector = aiohttp.TCPConnector(ssl=client_context(["http/1.1"]))
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(url, params={"dns": b64}) as r:
                assert r.status == 200 and r.headers["cache-control"] == "max-age=300"
                assert dns.message.from_wire(await r.read()).answer
            async with session.post(url, data=wire, headers={
                    "content-type": "application/dns-message"}) as r:
                assert r.status == 200
                assert dns.message.from_wire(await r.read()).answer
            for method, kwargs, status in (
                    ("GET", {"params": {"dns": "not base64!"}}, 400),
                    ("POST", {"data": wire, "headers": {"content-type": "text/plain"}}, 415),
                    ("POST", {"data": b"x" * 70000,
                              "headers": {"content-type": "application/dns-message"}}, 413),
                    ("PATCH", {}, 405)):
                async with session.request(method, url, **kwargs) as r:
                    assert r.status == status, (method, kwargs)
        doh = listeners.doh
        assert doh is not None and doh.stats.h1_connections >= 1


async def test_doh_slowloris_is_closed_by_the_idle_timeout_and_bad_http_gets_400() -> None:
    async with serving(DelayAnswerer(), idle_timeout=0.5) as listeners:
        port = _port(listeners.doh)
        context = client_context(["http/1.1"])
        reader, writer = await asyncio.open_connection(HOST, port, ssl=context)
        writer.write(b"GET /dns-query?dns=AAAB HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(40):  # a header line every 0.1 s, never the blank line
            if reader.at_eof():
                closed = True
                break
            writer.write(b"X-Slow: 1\r\n")
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1), 0.1) == b"":
                    closed = True
                    break
        assert closed
        writer.close()
        reader, writer = await asyncio.open_connection(HOST, port, ssl=context)
        writer.write(b"BLAH\x00 nonsense\r\n\r\n")
        head = await asyncio.wait_for(reader.read(), BOUND)
        assert head.startswith(b"HTTP/1.1 400")
        writer.close()
        doh = listeners.doh
        assert doh is not None and doh.stats.closed_idle >= 1


# -- the serve flags -------------------------------------------------------------------------

def _serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["resolver", "serve", "--listen", "127.0.0.12:5353",
                                      *argv])


def test_serve_flags_for_dot_and_doh_are_checked_with_one_line_errors() -> None:
    config = config_from(_serve_args("--dot", "8853", "--doh", "8443", "--doh-path", "/q"))
    assert (config.dot_port, config.doh_port, config.doh_path) == (8853, 8443, "/q")
    for argv, message in (
            (("--dot", "5353"), "--dot: port 5353 is already --listen's"),
            (("--dot", "8853", "--doh", "8853"), "--doh: port 8853 is already --dot's"),
            (("--doh", "70000"), "--doh: expected a port 1-65535, got 70000"),
            (("--doh", "8443", "--doh-path", "dns"), "--doh-path: expected /PATH"),
            (("--tls-cert", "x.pem", "--tls-key", "x.key"), "no --dot or --doh port")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            config_from(_serve_args(*argv))


def test_serve_refuses_a_missing_or_bad_certificate_before_serving(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(PAIR.key_pem)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    for cert, expect in ((tmp_path / "none.pem", "--tls-cert: " + str(tmp_path / "none.pem")
                          + " does not exist"), (bad, "cannot load the certificate and key")):
        args = _serve_args("--no-validation", "--dot", "8853", "--tls-cert", str(cert),
                           "--tls-key", str(key))
        assert serve(args) == 2  # bad input
        err = capsys.readouterr().err
        assert expect in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
