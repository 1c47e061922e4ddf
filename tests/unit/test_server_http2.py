"""The DoH listener's HTTP/2 server side (resolver.server.http2), fed bytes directly.

A real client (h2, client side) for the well-formed exchanges; hand-made frames for the
malformed ones.  Each test checks what goes back on the wire: statuses, bodies, RST_STREAM
and GOAWAY codes.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
import pytest

from resolver.server.http2 import (
    CANCEL,
    COMPRESSION_ERROR,
    ENHANCE_YOUR_CALM,
    FLOW_CONTROL_ERROR,
    FRAME_SIZE_ERROR,
    MAX_CONTINUATIONS,
    PREFACE,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    STREAM_CLOSED,
    H2Error,
    H2Server,
    Request,
    encode_headers,
)

SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # empty SETTINGS
POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"x"),
        (b":path", b"/dns-query"), (b"content-type", b"application/dns-message")]


def server(**kw: Any) -> H2Server:
    args = {"max_streams": 8, "max_header_list": 16384, "max_body": 65535} | kw
    return H2Server(**args)


def frame(kind: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    return struct.pack("!I", len(payload))[1:] + bytes((kind, flags)) + \
        struct.pack("!I", sid) + payload


def frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(type, flags, stream, payload) of every frame in ``data``."""
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 3], "big")
        kind, flags = data[pos + 3], data[pos + 4]
        sid = int.from_bytes(data[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        out.append((kind, flags, sid, data[pos + 9:pos + 9 + length]))
        pos += 9 + length
    return out


def rst_codes(data: bytes) -> dict[int, int]:
    return {sid: struct.unpack("!I", p)[0] for kind, _, sid, p in frames(data) if kind == 3}


def goaway_code(data: bytes) -> int | None:
    codes = [struct.unpack_from("!I", p, 4)[0] for kind, _, _, p in frames(data) if kind == 7]
    return codes[-1] if codes else None


def opened(srv: H2Server) -> bytes:
    """Preface and SETTINGS taken; the server's SETTINGS and ACK returned."""
    assert srv.receive(PREFACE + SETTINGS_FRAME) == []
    return b"".join(srv.take())


class Client:
    """An h2 client talking to an :class:`H2Server` in memory."""

    def __init__(self, srv: H2Server, **settings: int) -> None:
        self.srv = srv
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings({getattr(h2.settings.SettingCodes, k): v
                                       for k, v in settings.items()})
        self.responses: dict[int, list[Any]] = {}
        self.resets: dict[int, int] = {}
        self.requests: list[Request] = []
        self.wire = b""  # every byte the server sent
        self.flush()

    def flush(self) -> None:
        """Client bytes to the server, server bytes back, until both are quiet."""
        while True:
            data = self.conn.data_to_send()
            if data:
                self.requests += self.srv.receive(data)
            back = b"".join(self.srv.take())
            self.wire += back
            if not back and not data:
                return
            for event in self.conn.receive_data(back):
                if isinstance(event, h2.events.ResponseReceived):
                    self.responses[event.stream_id] = [dict(event.headers), bytearray(), False]
                elif isinstance(event, h2.events.DataReceived):
                    self.responses[event.stream_id][1] += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    self.responses[event.stream_id][2] = True
                elif isinstance(event, h2.events.StreamReset):
                    self.resets[event.stream_id] = event.error_code

    def send(self, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> int:
        sid: int = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, headers, end_stream=not body)
        if body:
            self.conn.send_data(sid, body, end_stream=True)
        self.flush()
        return sid


def test_get_and_post_become_requests_and_responses_go_back() -> None:
    srv = server()
    client = Client(srv)
    post = client.send(POST + [(b"content-length", b"5")], b"hello")
    get = client.send([(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"x"),
                       (b":path", b"/dns-query?dns=AAAB")])
    assert [(r.stream_id, r.method, r.path, r.content_type, r.body) for r in client.requests] \
        == [(post, "POST", "/dns-query", "application/dns-message", b"hello"),
            (get, "GET", "/dns-query?dns=AAAB", None, b"")]
    srv.respond(get, 404, [(b"content-type", b"text/plain"), (b"x-why", b"nothing")], b"no\n")
    srv.respond(post, 200, [(b"content-type", b"application/dns-message"),
                            (b"cache-control", b"max-age=300")], b"answer")
    client.flush()
    assert client.responses[post] == [
        {b":status": b"200", b"content-type": b"application/dns-message",
         b"cache-control": b"max-age=300"}, b"answer", True]
    assert client.responses[get] == [
        {b":status": b"404", b"content-type": b"text/plain", b"x-why": b"nothing"}, b"no\n",
        True]
    assert srv.streams == {}


def test_response_header_blocks_decode_with_any_status() -> None:
    decoder = hpack.Decoder()
    for status in (200, 413, 415, 503):
        block = encode_headers(status, [(b"retry-after", b"1"), (b"allow", b"GET, POST")])
        assert decoder.decode(block, raw=True) == [
            (b":status", str(status).encode()), (b"retry-after", b"1"), (b"allow", b"GET, POST")]
        assert decoder.header_table_size == 0


def test_small_client_window_splits_the_body_and_waits_for_window_updates() -> None:
    srv = server()
    client = Client(srv, INITIAL_WINDOW_SIZE=10)
    sid = client.send(POST, b"q" * 12)
    body = bytes(range(256)) * 2
    srv.respond(sid, 200, [], body)
    client.flush()  # the client reads and gives window back; the rest follows
    assert client.responses[sid][1] == body and client.responses[sid][2]
    sizes = [len(f[3]) for f in frames(client.wire) if f[0] == 0 and f[2] == sid]
    assert len(sizes) > 1 and max(sizes) <= 10  # never over the stream window
    assert srv.streams == {}


def test_the_concurrent_streams_limit_refuses_streams_and_frees_slots() -> None:
    srv = server(max_streams=2)
    client = Client(srv)
    sids = [client.send(POST, b"q" * 12) for _ in range(2)]
    assert len(client.requests) == 2
    # a third stream (static table only, so the client's HPACK state is untouched)
    assert srv.receive(frame(1, 0x5, 5, b"\x82\x87\x84")) == []
    assert rst_codes(b"".join(srv.take())) == {5: REFUSED_STREAM}
    srv.respond(sids[0], 200, [], b"a")
    srv.respond(sids[1], 200, [], b"b")
    client.flush()
    [request] = srv.receive(frame(1, 0x5, 7, b"\x82\x87\x84"))
    assert request.stream_id == 7 and 7 in srv.streams


def test_many_streams_in_one_read_are_all_answered() -> None:
    srv = server(max_streams=100)
    client = Client(srv)
    for i in range(100):
        sid = client.conn.get_next_available_stream_id()
        client.conn.send_headers(sid, POST + [(b"x-n", str(i).encode())])
        client.conn.send_data(sid, b"%012d" % i, end_stream=True)
    client.flush()
    assert [r.body for r in client.requests] == [b"%012d" % i for i in range(100)]
    for r in client.requests:
        srv.respond(r.stream_id, 200, [], r.body or b"")
    chunks = srv.take()
    assert len(chunks) == 100  # one chunk (a TLS record) per response
    client.conn.receive_data(b"".join(chunks))
    assert srv.streams == {}


def test_a_body_over_the_cap_is_reported_then_cancelled_and_later_data_ignored() -> None:
    srv = server(max_body=100)
    client = Client(srv)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, POST)
    client.conn.send_data(sid, b"x" * 101)
    client.flush()
    assert client.requests == [Request(sid, "", "", None, None)]
    srv.respond(sid, 413, [], b"too big\n")
    client.flush()
    assert client.responses[sid][0][b":status"] == b"413" and client.resets[sid] == CANCEL
    # the client had sent more before it heard: ignored, no error
    assert srv.receive(frame(0, 1, sid, b"y" * 10)) == []
    assert goaway_code(b"".join(srv.take())) is None


def test_hpack_blocks_kept_are_not_reused_after_the_table_changes() -> None:
    srv = server()
    opened(srv)
    base = b"\x83\x87"  # :method POST, :scheme https (static table)

    def path_indexed(path: bytes) -> bytes:  # literal with incremental indexing, name :path
        return b"\x44" + bytes((len(path),)) + path

    def post(sid: int, block: bytes) -> list[Request]:
        return srv.receive(frame(1, 0x4, sid, block) + frame(0, 1, sid, b"q" * 12))

    assert post(1, base + path_indexed(b"/a"))[0].path == "/a"
    reuse = base + b"\xbe"  # dynamic index 62: the newest entry
    assert post(3, reuse)[0].path == "/a"
    assert post(5, reuse)[0].path == "/a"  # the same block again (kept)
    assert post(7, base + path_indexed(b"/b"))[0].path == "/b"
    assert post(9, reuse)[0].path == "/b"  # same bytes, another table: decoded afresh


def test_header_block_over_continuation_frames() -> None:
    srv = server()
    opened(srv)
    block = hpack.Encoder().encode(POST)
    data = frame(1, 0, 1, block[:5]) + frame(9, 0, 1, block[5:10]) + \
        frame(9, 0x4, 1, block[10:]) + frame(0, 1, 1, b"q" * 12)
    [request] = srv.receive(data)
    assert request.path == "/dns-query" and request.body == b"q" * 12


@pytest.mark.parametrize(("data", "code"), [
    (frame(1, 0, 1, b"\x83") + frame(9, 0, 1) * (MAX_CONTINUATIONS + 1), ENHANCE_YOUR_CALM),
    (frame(1, 0, 1, b"\x83") + frame(9, 0, 1, b"\x83" * 16000) * 2, ENHANCE_YOUR_CALM),
    (frame(1, 0, 1, b"\x83") + frame(6, 0, 0, b"12345678"), PROTOCOL_ERROR),  # interleaved
    (frame(1, 0, 1, b"\x83") + frame(9, 0x4, 3, b""), PROTOCOL_ERROR),  # another stream
    (frame(9, 0x4, 1, b"\x83"), PROTOCOL_ERROR),  # CONTINUATION alone
    (b"\x01\x00\x00\x00\x00\x00\x00\x00\x01", FRAME_SIZE_ERROR),  # 64 KB frame, at its header
    (frame(1, 0x4, 2, b"\x83"), PROTOCOL_ERROR),  # even stream id
    (frame(1, 0x4, 1, b"\xff\xff\xff\xff"), COMPRESSION_ERROR),  # no such table index
    (frame(0, 0, 5, b"x"), PROTOCOL_ERROR),  # DATA on an idle stream
    (frame(8, 0, 0, b"\x00\x00\x00\x00"), PROTOCOL_ERROR),  # WINDOW_UPDATE of 0
    (frame(8, 0, 0, b"\x7f\xff\xff\xff"), FLOW_CONTROL_ERROR),  # connection window overflow
    (frame(6, 0, 0, b"short"), FRAME_SIZE_ERROR),
    (frame(4, 0, 0, b"\x00\x02\x00\x00\x00\x05"), PROTOCOL_ERROR),  # ENABLE_PUSH 5
    (frame(4, 0, 0, b"\x00\x05\x00\x00\x00\x01"), PROTOCOL_ERROR),  # MAX_FRAME_SIZE 1
    (frame(5, 0x4, 1, b"\x00\x00\x00\x02"), PROTOCOL_ERROR),  # PUSH_PROMISE
    (frame(1, 0x8 | 0x4, 1, b"\x05ab"), PROTOCOL_ERROR),  # padding longer than the frame
])
def test_connection_errors_send_goaway(data: bytes, code: int) -> None:
    srv = server()
    opened(srv)
    with pytest.raises(H2Error) as e:
        srv.receive(data)
    assert e.value.code == code and srv.closed
    assert goaway_code(b"".join(srv.take())) == code
    assert srv.receive(b"more") == []  # nothing is read after GOAWAY


@pytest.mark.parametrize("start", [b"GET / HTTP/1.1\r\n\r\n",
                                   PREFACE + frame(6, 0, 0, b"8bytes!!")])
def test_a_bad_preface_or_first_frame_is_a_connection_error(start: bytes) -> None:
    with pytest.raises(H2Error) as e:
        server().receive(start)
    assert e.value.code == PROTOCOL_ERROR


@pytest.mark.parametrize(("headers", "body"), [
    ([(b":method", b"POST"), (b":scheme", b"https")], b"q" * 12),  # no :path
    (POST + [(b"X-Upper", b"1")], b"q" * 12),
    (POST + [(b"connection", b"close")], b"q" * 12),
    ([(b"content-type", b"x"), *POST], b"q" * 12),  # pseudo-header after a regular one
    (POST + [(b":method", b"GET")], b"q" * 12),  # repeated
    (POST + [(b"content-length", b"99")], b"q" * 12),  # not the body's length
])
def test_malformed_requests_are_stream_errors_and_the_connection_goes_on(
        headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    srv = server()
    opened(srv)
    block = hpack.Encoder().encode(headers)
    assert srv.receive(frame(1, 0x4, 1, block) + frame(0, 1, 1, body)) == []
    assert rst_codes(b"".join(srv.take())) == {1: PROTOCOL_ERROR}
    [request] = srv.receive(frame(1, 0x5, 3, hpack.Encoder().encode(
        [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/dns-query?dns=x")])))
    assert request.stream_id == 3


def test_ping_settings_and_closed_streams() -> None:
    srv = server()
    opened(srv)
    srv.receive(frame(6, 0, 0, b"pingpong") + frame(4, 0, 0, b"\x00\x04\x00\x00\x01\x00"))
    got = frames(b"".join(srv.take()))
    assert (6, 1, 0, b"pingpong") in got and (4, 1, 0, b"") in got
    for sid in (1, 3):
        [request] = srv.receive(frame(1, 0x5, sid, b"\x82\x87\x84"))  # GET / (static)
        srv.respond(request.stream_id, 200, [], b"x")
    srv.take()
    srv.receive(frame(0, 1, 1, b"late"))  # DATA on a stream we closed normally
    assert rst_codes(b"".join(srv.take())) == {1: STREAM_CLOSED}
    with pytest.raises(H2Error) as e:  # HEADERS reopening one: a connection error
        srv.receive(frame(1, 0x5, 3, b"\x82\x87\x84"))
    assert e.value.code == STREAM_CLOSED


def test_goaway_from_the_client_refuses_new_streams() -> None:
    srv = server()
    opened(srv)
    srv.receive(frame(7, 0, 0, b"\x00\x00\x00\x00\x00\x00\x00\x00"))
    assert srv.remote_closed
    assert srv.receive(frame(1, 0x5, 1, b"\x82\x87\x84")) == []
    assert rst_codes(b"".join(srv.take())) == {1: REFUSED_STREAM}


def test_random_bytes_never_raise_anything_but_a_connection_error() -> None:
    """Random frames (often well-formed headers, on the few first streams), answered as they
    come: only H2Error may come out, and only once, after which nothing is read."""
    rng = random.Random(20)
    blocks = [b"\x83\x87\x84", b"\x82\x87\x84", hpack.Encoder().encode(POST), b"\xbe",
              b"\x20\x83\x87\x44\x01/", b"\x3f\xe1\x1f"]
    for _ in range(3000):
        srv = server(max_streams=3, max_body=64)
        opened(srv)
        parts = []
        for _ in range(rng.randrange(1, 8)):
            kind = rng.choice([0, 0, 1, 1, 1, 1, 2, 3, 4, 6, 7, 8, 9, 10])
            payload = rng.choice(blocks) if kind in (1, 9) and rng.random() < 0.7 \
                else rng.randbytes(rng.randrange(20))
            flags = rng.choice([0, 1, 4, 5, 5, 5, 8, 0x20, 0x25, rng.randrange(256)])
            sid = 0 if kind in (4, 6, 7) and rng.random() < 0.8 else rng.choice([1, 3, 5, 2, 0])
            parts.append(frame(kind, flags, sid, payload))
        data = b"".join(parts)
        if rng.random() < 0.2:
            data = rng.randbytes(rng.randrange(60))
        try:
            for cut in range(0, len(data), 7):  # in pieces, as reads come
                for request in srv.receive(data[cut:cut + 7]):
                    srv.respond(request.stream_id, rng.choice([200, 413]), [],
                                rng.randbytes(rng.randrange(3)))
        except H2Error:
            assert srv.closed
        frames(b"".join(srv.take()))
