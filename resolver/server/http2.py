"""A small server side of HTTP/2 (RFC 9113) for the DoH listener: frames in, requests out.

Sans-I/O: :meth:`H2Server.receive` takes the bytes read from the connection and returns the
requests it completed; :meth:`H2Server.respond` queues a response; :meth:`H2Server.take`
hands back what to write, one chunk per response (a DoH client such as dnsperf reads one TLS
record per response, so the caller writes the chunks with ``writelines``: one record each,
one system call for all).  Header blocks are decoded by ``hpack`` (RFC 7541); responses are
encoded here, statelessly: literals without indexing after a dynamic table size update to 0,
so our encoder never has a dynamic table the peer must follow.

Why not ``h2``: it builds an event object, a frame object and a state machine transition per
frame, and validates every header of every request: about 800 Python calls per DoH request,
~0.3 ms of CPU, where this module spends a few dozen.  What it does, by RFC 9113 section:

* §3.4 the client preface, then a SETTINGS frame first; ours (max concurrent streams, max
  header list size) is sent at once.
* §4.2 a frame over our SETTINGS_MAX_FRAME_SIZE (16384) is refused at its header
  (FRAME_SIZE_ERROR), before its payload is buffered.
* §5.1 stream states: client streams odd and increasing; frames on closed streams are
  STREAM_CLOSED errors, except shortly after we reset a stream (then they are ignored).
* §5.1.2 concurrency: a stream over our MAX_CONCURRENT_STREAMS is refused (RST_STREAM
  REFUSED_STREAM) after its header block is decoded (HPACK state stays in step).
* §5.4 connection errors send GOAWAY and end the connection (:class:`H2Error`); stream
  errors send RST_STREAM and drop the stream.
* §6.1/§6.9 flow control both ways: the bytes of every DATA frame (padding included) are
  given back with WINDOW_UPDATE once half a window is used; response bodies are cut to the
  peer's stream and connection windows and its max frame size, the rest waits for its
  WINDOW_UPDATE or a larger SETTINGS_INITIAL_WINDOW_SIZE.
* §6.2/§6.10 HEADERS then CONTINUATION frames of the same stream and nothing between, the
  block capped at :data:`MAX_BLOCK` bytes and :data:`MAX_CONTINUATIONS` frames
  (ENHANCE_YOUR_CALM: a CONTINUATION flood); the decoded list capped by hpack.
* §6.5 SETTINGS acknowledged; §6.7 PING answered; §6.8 GOAWAY from the client ends the
  connection once its streams are answered; PRIORITY and unknown frame types are ignored.
* §8.1.1/§8.3 malformed requests (pseudo-headers missing, repeated, unknown or after
  regular ones, upper-case or connection-specific names, a content-length the body does
  not match) are stream errors (PROTOCOL_ERROR).

Decoding a header block that neither adds to nor resizes the dynamic table gives the same
headers every time the table is the same; such blocks (a DoH client sends the same few
again and again, its :path and content-length not indexed) are kept with what they decoded
to until the table changes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import hpack

__all__ = ["H2Error", "H2Server", "Request", "MAX_BLOCK", "MAX_CONTINUATIONS", "PREFACE"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_FRAME = 16384
"""Our SETTINGS_MAX_FRAME_SIZE (the RFC's initial value, which we keep)."""
MAX_BLOCK = 16384
"""The largest header block (compressed) a request may send over HEADERS + CONTINUATION."""
MAX_CONTINUATIONS = 32
"""CONTINUATION frames one header block may take."""
WINDOW = 65535
"""Our receive windows (connection and stream; the RFC's initial value)."""
MAX_WINDOW = 2**31 - 1
_CACHE_ENTRIES = 256

# frame types (RFC 9113 §6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
# flags
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
# error codes (RFC 9113 §7)
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR, \
    REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x0, 0x1, 0x3, 0x5, 0x6, \
    0x7, 0x8, 0x9, 0xb
# settings
_HEADER_TABLE_SIZE, _ENABLE_PUSH, _MAX_CONCURRENT_STREAMS, _INITIAL_WINDOW_SIZE, \
    _MAX_FRAME_SIZE, _MAX_HEADER_LIST_SIZE = range(1, 7)

_HEADER = struct.Struct("!BHBBI")  # length as 8 + 16 bits, type, flags, stream id
_CONNECTION_SPECIFIC = frozenset((b"connection", b"keep-alive", b"proxy-connection",
                                  b"transfer-encoding", b"upgrade"))
_PSEUDO = frozenset((b":method", b":path", b":scheme", b":authority"))


class H2Error(Exception):
    """A connection error (RFC 9113 §5.4.1); GOAWAY with ``code`` is already queued."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class _StreamError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True, slots=True)
class _Head:
    """What a request's header block says that DoH needs."""

    method: str
    path: str
    content_type: str | None
    content_length: int | None


@dataclass(slots=True)
class Request:
    """A complete request: ``body`` is None when it went over the body cap."""

    stream_id: int
    method: str
    path: str
    content_type: str | None
    body: bytes | None


@dataclass(slots=True)
class _Stream:
    head: _Head | None = None
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False  # the client's side is closed (END_STREAM seen)
    send_window: int = WINDOW
    received: int = 0  # DATA bytes not yet given back with WINDOW_UPDATE
    pending: bytes = b""  # response body waiting for flow-control window
    too_big: bool = False


def _frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return _HEADER.pack(n >> 16, n & 0xFFFF, kind, flags, stream_id) + payload


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """RFC 7541 §5.1: ``value`` with an N-bit prefix, ``first`` holding the high bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(value: bytes) -> bytes:
    return _integer(len(value), 7, 0) + value  # no Huffman coding


_STATIC_NAMES = {b"cache-control": 24, b"content-length": 28, b"content-type": 31,
                 b"allow": 22, b"retry-after": 53}
_STATUS_INDEXED = {200: 8, 204: 9, 206: 10, 304: 11, 400: 12, 404: 13, 500: 14}


def encode_field(name: bytes, value: bytes) -> bytes:
    """One header field as a literal without indexing (RFC 7541 §6.2.2)."""
    index = _STATIC_NAMES.get(name)
    if index is not None:
        return _integer(index, 4, 0) + _string(value)
    return b"\x00" + _string(name) + _string(value)


Headers = Sequence[tuple[bytes, bytes]]
_blocks: dict[tuple[int, Headers], bytes] = {}
_BLOCK_ENTRIES = 1024


def encode_headers(status: int, headers: Headers) -> bytes:
    """A response header block: a table size update to 0, then ``:status`` and ``headers``.

    Stateless, so a block is kept by what it encodes (the DoH listener passes its headers as
    tuples, and a cache hit repeats them)."""
    key = (status, headers if isinstance(headers, tuple) else tuple(headers))
    block = _blocks.get(key)
    if block is None:
        index = _STATUS_INDEXED.get(status)
        out = [b"\x20", bytes((0x80 | index,)) if index is not None
               else _integer(8, 4, 0) + _string(str(status).encode())]
        out.extend(encode_field(name, value) for name, value in headers)
        if len(_blocks) >= _BLOCK_ENTRIES:
            _blocks.clear()
        block = _blocks[key] = b"".join(out)
    return block


class H2Server:
    """The server end of one HTTP/2 connection; ``max_streams`` concurrent streams,
    request bodies over ``max_body`` bytes reported with ``body=None``."""

    def __init__(self, *, max_streams: int, max_header_list: int, max_body: int) -> None:
        self.max_streams = max_streams
        self.max_body = max_body
        self.streams: dict[int, _Stream] = {}
        self.last_stream_id = 0
        self.remote_closed = False  # the client sent GOAWAY
        self.closed = False  # we sent GOAWAY
        self._buffer = bytearray()
        self._preface = False
        self._settings_seen = False
        self._block: tuple[int, int, bytearray, int] | None = None  # sid, flags, block, frames
        self._decoder = hpack.Decoder(max_header_list_size=max_header_list)
        self._heads: dict[bytes, _Head | _StreamError] = {}
        self._send_window = WINDOW  # connection
        self._initial_window = WINDOW  # the peer's SETTINGS_INITIAL_WINDOW_SIZE
        self._max_frame = MAX_FRAME  # the peer's SETTINGS_MAX_FRAME_SIZE
        self._received = 0  # connection DATA bytes not yet given back
        self._reset: dict[int, None] = {}  # streams we reset lately (ordered, bounded)
        self._out: list[bytes] = [_frame(SETTINGS, 0, 0, struct.pack(
            "!HIHI", _MAX_CONCURRENT_STREAMS, max_streams, _MAX_HEADER_LIST_SIZE,
            max_header_list))]

    def take(self) -> list[bytes]:
        """The bytes to write, one chunk per response or control frame burst."""
        out, self._out = self._out, []
        return out

    # -- input -------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Request]:
        """Feed bytes read; the requests completed.  Raises :class:`H2Error` (GOAWAY queued)."""
        if self.closed:
            return []
        buffer = self._buffer
        buffer += data
        requests: list[Request] = []
        try:
            if not self._preface:
                if len(buffer) < len(PREFACE):
                    if PREFACE.startswith(buffer):
                        return requests
                    raise H2Error(PROTOCOL_ERROR, "not the HTTP/2 client preface")
                if buffer[:len(PREFACE)] != PREFACE:
                    raise H2Error(PROTOCOL_ERROR, "not the HTTP/2 client preface")
                del buffer[:len(PREFACE)]
                self._preface = True
            pos, end = 0, len(buffer)
            while end - pos >= 9:
                high, low, kind, flags, sid = _HEADER.unpack_from(buffer, pos)
                length = (high << 16) | low
                if length > MAX_FRAME:
                    raise H2Error(FRAME_SIZE_ERROR, f"a frame of {length} bytes")
                if end - pos - 9 < length:
                    break
                payload = bytes(buffer[pos + 9:pos + 9 + length])
                pos += 9 + length
                self._frame(kind, flags, sid & MAX_WINDOW, payload, requests)
            del buffer[:pos]
        except H2Error as e:
            self._goaway(e.code, str(e))
            raise
        return requests

    def _goaway(self, code: int, reason: str) -> None:
        self.closed = True
        self._buffer.clear()
        self._out.append(_frame(GOAWAY, 0, 0, struct.pack("!II", self.last_stream_id, code)
                                + reason.encode("utf-8", "replace")[:256]))

    def _frame(self, kind: int, flags: int, sid: int, payload: bytes,
               requests: list[Request]) -> None:
        if not self._settings_seen:
            if kind != SETTINGS or flags & ACK:
                raise H2Error(PROTOCOL_ERROR, "the first frame is not SETTINGS")
            self._settings_seen = True
        if self._block is not None:
            if kind != CONTINUATION or sid != self._block[0]:
                raise H2Error(PROTOCOL_ERROR, "a header block interrupted")
            self._continuation(flags, payload, requests)
            return
        try:
            if kind == HEADERS:
                self._headers(flags, sid, payload, requests)
            elif kind == DATA:
                self._data(flags, sid, payload, requests)
            elif kind == SETTINGS:
                self._settings(flags, sid, payload)
            elif kind == WINDOW_UPDATE:
                self._window_update(sid, payload)
            elif kind == PING:
                if sid or len(payload) != 8:
                    raise H2Error(PROTOCOL_ERROR if sid else FRAME_SIZE_ERROR, "bad PING")
                if not flags & ACK:
                    self._out.append(_frame(PING, ACK, 0, payload))
            elif kind == RST_STREAM:
                if len(payload) != 4:
                    raise H2Error(FRAME_SIZE_ERROR, "RST_STREAM of a wrong size")
                self._check_not_idle(sid, "RST_STREAM")
                self.streams.pop(sid, None)
            elif kind == PRIORITY:
                if not sid:
                    raise H2Error(PROTOCOL_ERROR, "PRIORITY on stream 0")
                if len(payload) != 5:
                    raise _StreamError(FRAME_SIZE_ERROR, "PRIORITY of a wrong size")
            elif kind == GOAWAY:
                if sid:
                    raise H2Error(PROTOCOL_ERROR, "GOAWAY on a stream")
                self.remote_closed = True
            elif kind == PUSH_PROMISE:
                raise H2Error(PROTOCOL_ERROR, "PUSH_PROMISE from a client")
            elif kind == CONTINUATION:
                raise H2Error(PROTOCOL_ERROR, "CONTINUATION without HEADERS")
            # other types: ignored (RFC 9113 §5.5)
        except _StreamError as e:
            self.reset(sid, e.code)

    def _check_not_idle(self, sid: int, what: str) -> None:
        if not sid:
            raise H2Error(PROTOCOL_ERROR, f"{what} on stream 0")
        if sid > self.last_stream_id:
            raise H2Error(PROTOCOL_ERROR, f"{what} on idle stream {sid}")

    @staticmethod
    def _unpad(flags: int, payload: bytes) -> bytes:
        if flags & PADDED:
            if not payload or payload[0] >= len(payload):
                raise H2Error(PROTOCOL_ERROR, "padding longer than the frame")
            return payload[1:len(payload) - payload[0]]
        return payload

    def _headers(self, flags: int, sid: int, payload: bytes, requests: list[Request]) -> None:
        if not sid or not sid & 1:
            raise H2Error(PROTOCOL_ERROR, f"HEADERS on stream {sid}")
        block = self._unpad(flags, payload)
        if flags & PRIORITY_FLAG:
            if len(block) < 5:
                raise H2Error(FRAME_SIZE_ERROR, "HEADERS too short for its priority")
            block = block[5:]
        if sid not in self.streams and sid <= self.last_stream_id and sid not in self._reset:
            raise H2Error(STREAM_CLOSED, f"HEADERS on closed stream {sid}")
        if flags & END_HEADERS:
            self._header_block(sid, flags, block, requests)
        else:
            if len(block) > MAX_BLOCK:
                raise H2Error(ENHANCE_YOUR_CALM, "a header block over the cap")
            self._block = (sid, flags, bytearray(block), 0)

    def _continuation(self, flags: int, payload: bytes, requests: list[Request]) -> None:
        assert self._block is not None
        sid, first_flags, block, frames = self._block
        block += payload
        if len(block) > MAX_BLOCK or frames >= MAX_CONTINUATIONS:
            raise H2Error(ENHANCE_YOUR_CALM, "a header block over the cap (CONTINUATION)")
        if flags & END_HEADERS:
            self._block = None
            try:
                self._header_block(sid, first_flags, bytes(block), requests)
            except _StreamError as e:
                self.reset(sid, e.code)
        else:
            self._block = (sid, first_flags, block, frames + 1)

    def _header_block(self, sid: int, flags: int, block: bytes,
                      requests: list[Request]) -> None:
        head = self._decode(block)  # always: the HPACK state must follow every block
        stream = self.streams.get(sid)
        if stream is not None:  # trailers
            if stream.ended or not flags & END_STREAM:
                raise _StreamError(PROTOCOL_ERROR if not stream.ended else STREAM_CLOSED,
                                   "a second header block")
            self._end(sid, stream, requests)
            return
        if sid in self._reset:  # a stream we reset and the client had not heard yet
            return
        self.last_stream_id = sid
        if self.remote_closed:
            raise _StreamError(REFUSED_STREAM, "a stream after GOAWAY")
        if len(self.streams) >= self.max_streams:
            raise _StreamError(REFUSED_STREAM, "over the concurrent streams limit")
        if isinstance(head, _StreamError):
            raise head
        stream = self.streams[sid] = _Stream(head, send_window=self._initial_window)
        if flags & END_STREAM:
            self._end(sid, stream, requests)

    def _decode(self, block: bytes) -> _Head | _StreamError:
        cached = self._heads.get(block)
        if cached is not None:
            return cached
        table = self._decoder.header_table
        entries = table.dynamic_entries
        before = (len(entries), entries[0] if entries else None, table.maxsize)
        try:
            fields = cast(list[tuple[bytes, bytes]], self._decoder.decode(block, raw=True))
        except hpack.HPACKError as e:
            raise H2Error(COMPRESSION_ERROR, f"header block: {e}") from None
        head = _parse_head(fields)
        after = (len(entries), entries[0] if entries else None, table.maxsize)
        if before[0] == after[0] and before[1] is after[1] and before[2] == after[2]:
            if len(self._heads) >= _CACHE_ENTRIES:
                self._heads.clear()
            self._heads[block] = head
        else:  # the table changed: what was kept was decoded with another table
            self._heads.clear()
        return head

    def _data(self, flags: int, sid: int, payload: bytes, requests: list[Request]) -> None:
        self._check_not_idle(sid, "DATA")
        self._received += len(payload)
        if self._received > WINDOW:
            raise H2Error(FLOW_CONTROL_ERROR, "DATA over the connection window")
        if self._received >= WINDOW // 2:
            self._out.append(_frame(WINDOW_UPDATE, 0, 0, struct.pack("!I", self._received)))
            self._received = 0
        stream = self.streams.get(sid)
        if stream is None or stream.ended:
            if stream is None and sid in self._reset:
                return  # sent before the client heard of our RST_STREAM
            raise _StreamError(STREAM_CLOSED, f"DATA on closed stream {sid}")
        stream.received += len(payload)
        if stream.received > WINDOW:
            raise _StreamError(FLOW_CONTROL_ERROR, "DATA over the stream window")
        data = self._unpad(flags, payload)
        if not stream.too_big:
            stream.body += data
            if len(stream.body) > self.max_body:
                stream.too_big = True
                stream.body = bytearray()
                requests.append(Request(sid, "", "", None, None))
                return
        if flags & END_STREAM:
            self._end(sid, stream, requests)
        elif stream.received >= WINDOW // 2:
            self._out.append(_frame(WINDOW_UPDATE, 0, sid, struct.pack("!I", stream.received)))
            stream.received = 0

    def _end(self, sid: int, stream: _Stream, requests: list[Request]) -> None:
        stream.ended = True
        if stream.too_big:
            return
        head = stream.head
        assert head is not None
        if head.content_length is not None and head.content_length != len(stream.body):
            raise _StreamError(PROTOCOL_ERROR, "content-length is not the body's length")
        requests.append(Request(sid, head.method, head.path, head.content_type,
                                bytes(stream.body)))
        stream.body = bytearray()

    def _settings(self, flags: int, sid: int, payload: bytes) -> None:
        if sid:
            raise H2Error(PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise H2Error(FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
            return
        if len(payload) % 6:
            raise H2Error(FRAME_SIZE_ERROR, "SETTINGS of a wrong size")
        for off in range(0, len(payload), 6):
            key, value = struct.unpack_from("!HI", payload, off)
            if key == _ENABLE_PUSH and value > 1:
                raise H2Error(PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1")
            if key == _INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise H2Error(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large")
                delta, self._initial_window = value - self._initial_window, value
                for stream in self.streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        raise H2Error(FLOW_CONTROL_ERROR, "a stream window over 2^31-1")
            elif key == _MAX_FRAME_SIZE:
                if not MAX_FRAME <= value <= 2**24 - 1:
                    raise H2Error(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range")
                self._max_frame = value
            # HEADER_TABLE_SIZE: our blocks start with a size update to 0 (never larger)
        self._out.append(_frame(SETTINGS, ACK, 0))
        self._send_pending()

    def _window_update(self, sid: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise H2Error(FRAME_SIZE_ERROR, "WINDOW_UPDATE of a wrong size")
        increment = struct.unpack("!I", payload)[0] & MAX_WINDOW
        if not sid:
            if not increment:
                raise H2Error(PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            self._send_window += increment
            if self._send_window > MAX_WINDOW:
                raise H2Error(FLOW_CONTROL_ERROR, "the connection window over 2^31-1")
        else:
            self._check_not_idle(sid, "WINDOW_UPDATE")
            stream = self.streams.get(sid)
            if stream is None:
                return  # a stream we closed: it may come late
            if not increment:
                raise _StreamError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            stream.send_window += increment
            if stream.send_window > MAX_WINDOW:
                raise _StreamError(FLOW_CONTROL_ERROR, "a stream window over 2^31-1")
        self._send_pending()

    # -- output ------------------------------------------------------------------------

    def respond(self, sid: int, status: int, headers: Headers,
                body: bytes) -> None:
        """Queue a response on ``sid``; nothing if the stream is gone (reset, or closed)."""
        stream = self.streams.get(sid)
        if stream is None or self.closed or stream.pending:
            return
        block = encode_headers(status, headers)
        if len(block) > self._max_frame:
            raise ValueError("a response header block over one frame")
        out = [_frame(HEADERS, END_HEADERS | (0 if body else END_STREAM), sid, block)]
        stream.pending = body
        self._send_body(sid, stream, out)

    def _send_body(self, sid: int, stream: _Stream, out: list[bytes]) -> None:
        """Queue ``out`` (the headers, if any) and what the windows let through of the body
        still pending; the stream ends once all of it is out."""
        body = stream.pending
        while body:
            room = min(self._send_window, stream.send_window, self._max_frame)
            if room <= 0:
                break
            chunk, body = body[:room], body[room:]
            self._send_window -= len(chunk)
            stream.send_window -= len(chunk)
            out.append(_frame(DATA, 0 if body else END_STREAM, sid, chunk))
        stream.pending = body
        if out:
            self._out.append(b"".join(out))
        if not body:
            del self.streams[sid]
            if not stream.ended:  # answered before the request ended (413): stop it
                self.reset(sid, CANCEL)

    def _send_pending(self) -> None:
        for sid, stream in list(self.streams.items()):
            if stream.pending:
                self._send_body(sid, stream, [])

    def reset(self, sid: int, code: int) -> None:
        """RST_STREAM ``sid`` with ``code``; later frames on it are ignored for a while."""
        self.streams.pop(sid, None)
        self._reset[sid] = None
        if len(self._reset) > 4 * self.max_streams:
            del self._reset[next(iter(self._reset))]
        self._out.append(_frame(RST_STREAM, 0, sid, struct.pack("!I", code)))


def _parse_head(fields: list[tuple[bytes, bytes]]) -> _Head | _StreamError:
    """The request's method, path, content type and length; a stream error if malformed."""
    pseudo: dict[bytes, bytes] = {}
    regular = False
    content_type: bytes | None = None
    content_length: int | None = None
    for name, value in fields:
        if name[:1] == b":":
            if regular or name not in _PSEUDO or name in pseudo:
                return _StreamError(PROTOCOL_ERROR, f"pseudo-header {name!r} misplaced")
            pseudo[name] = value
            continue
        regular = True
        if name != name.lower() or name in _CONNECTION_SPECIFIC or (
                name == b"te" and value != b"trailers"):
            return _StreamError(PROTOCOL_ERROR, f"header {name!r} not allowed")
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            if not value.isdigit() or (content_length is not None
                                       and content_length != int(value)):
                return _StreamError(PROTOCOL_ERROR, "bad content-length")
            content_length = int(value)
    method, path = pseudo.get(b":method"), pseudo.get(b":path")
    if method is None or not path or b":scheme" not in pseudo:
        return _StreamError(PROTOCOL_ERROR, "a pseudo-header missing")
    return _Head(method.decode("latin-1"), path.decode("latin-1"),
                 content_type.decode("latin-1") if content_type is not None else None,
                 content_length)
