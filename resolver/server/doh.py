"""The DoH listener (RFC 8484): DNS messages in HTTP/2 and HTTP/1.1 requests over TLS.

One TLS port speaks both HTTP versions; ALPN picks (``h2`` first, then ``http/1.1``), and a
client that names neither is told apart by the HTTP/2 connection preface.  The HTTP layers
are sans-I/O state machines driven by this module's own :class:`asyncio.Protocol`: our own
:mod:`resolver.server.http2` for HTTP/2 (h2 cost ~0.3 ms of CPU per request; see that module)
and ``h11`` (python-hyper) for HTTP/1.1.  An
ASGI server (hypercorn, uvicorn) would put a framework, a task per request and its own
timeouts between the socket and the frame queue; here a request becomes a
:class:`~resolver.model.Frame` (transport ``doh``, keyed by the connection's client address
for the queue's per-client fairness) in the same callback that completed it, and a fast
cache hit is answered in that callback too, as the UDP and TCP listeners do.

The connection machinery (connection cap, idle timeout, in-flight count, pausing on write
backpressure) is the TCP listener's: :class:`DoHServer` is a :class:`TCPServer` whose
connections speak HTTP instead of cutting at length prefixes.

Requests (RFC 8484 §4.1): ``GET path?dns=BASE64URL`` (no padding; padding is tolerated) and
``POST path`` with ``content-type: application/dns-message``.  Refused with a status and
a one-line reason: another path (404), another method (405), a wrong content type (415), a
body or decoded message over 65535 bytes (413), a missing or bad ``dns`` parameter, a message
shorter than a DNS header or one with QR set (400).  A reply carries
``cache-control: max-age=N``, N the smallest TTL in it (RFC 8484 §5.1; 0 with no records).

Slow and abusive clients: a request counts only once complete, so a client that trickles
headers or a body is closed by the idle timeout like a TCP client that trickles bytes; the
header block is capped (:data:`MAX_HEADER_BYTES`), the body at 65535 bytes, the HTTP/2
concurrent streams at :data:`MAX_STREAMS` (more are refused with REFUSED_STREAM); protocol
errors close the connection (HTTP/2 with GOAWAY, HTTP/1.1 with a 400).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import logging
import re
import ssl
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

import h11

from resolver.cache.reply import FastCache
from resolver.clock import Clock
from resolver.fastpath import walk_reply
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame
from resolver.server.http2 import PREFACE as _H2_PREFACE
from resolver.server.http2 import H2Error, H2Server
from resolver.server.tcp import (
    HANDSHAKE_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_IN_FLIGHT,
    TCPServer,
    TCPStats,
    _Connection,
)

__all__ = ["CONTENT_TYPE", "DEFAULT_PATH", "MAX_HEADER_BYTES", "MAX_MESSAGE", "DoHServer",
           "DoHStats", "max_age", "parse_request"]

log = logging.getLogger("shadowdns.resolver.server")

DEFAULT_PATH = "/dns-query"
CONTENT_TYPE = "application/dns-message"
MAX_MESSAGE = 65535
"""The largest DNS message a request may carry (RFC 8484 §4.1, as in TCP)."""
MAX_HEADER_BYTES = 16384
"""The largest header block (HTTP/1.1 request head, HTTP/2 header list) we accept."""
MAX_STREAMS = 100
"""HTTP/2 concurrent streams per connection (RFC 9113 §6.5.2 recommends no fewer than 100,
Unbound's ``http-max-streams`` is 100; dnsperf -q 100 over fewer streams stalls).  Queries
waiting in the queue still pause the connection's reading at the in-flight limit."""

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*={0,2}")
_HEADER_LEN = 12
_QR = 0x80  # in the third byte
_TC = 0x02  # in the third byte


@dataclass(slots=True)
class DoHStats(TCPStats):
    """Counters of a :class:`DoHServer`; ``messages`` counts valid DNS requests."""

    h2_connections: int = 0
    h1_connections: int = 0
    bad_requests: int = 0
    """Requests answered with a 4xx status."""
    protocol_errors: int = 0
    """Connections closed for an HTTP protocol error."""
    unanswered: int = 0
    """Requests answered 503: the queue was full, or the workers gave no reply."""


class BadRequest(Exception):
    """A request refused with ``status``; the message says why (sent as the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def parse_request(method: str, target: str, content_type: str | None, body: bytes,
                  path: str) -> bytes:
    """The DNS query a DoH request carries; raises :class:`BadRequest` when there is none."""
    req_path, _, query = target.partition("?")
    if req_path != path:
        raise BadRequest(404, f"no DoH endpoint at {req_path} (it is {path})")
    if method == "GET":
        values = parse_qs(query, keep_blank_values=True).get("dns", [])
        if len(values) != 1:
            raise BadRequest(400, "GET needs exactly one dns= parameter")
        text = values[0].encode("ascii", "replace")
        if len(text) > (MAX_MESSAGE * 4 + 2) // 3 + 2:
            raise BadRequest(413, "the dns= parameter is over 65535 bytes decoded")
        if _BASE64URL.fullmatch(text) is None:
            raise BadRequest(400, "the dns= parameter is not base64url")
        try:
            wire = base64.urlsafe_b64decode(text.rstrip(b"=") + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise BadRequest(400, "the dns= parameter is not base64url") from None
    elif method == "POST":
        kind = (content_type or "").partition(";")[0].strip().lower()
        if kind != CONTENT_TYPE:
            raise BadRequest(415, f"POST needs content-type {CONTENT_TYPE}")
        if len(body) > MAX_MESSAGE:
            raise BadRequest(413, "the body is over 65535 bytes")
        wire = body
    else:
        raise BadRequest(405, f"method {method} is not GET or POST")
    if len(wire) < _HEADER_LEN:
        raise BadRequest(400, "the DNS message is shorter than a DNS header")
    if wire[2] & _QR:
        raise BadRequest(400, "the DNS message is a response, not a query")
    return wire


def max_age(wire: bytes) -> int:
    """The smallest TTL of the records in a reply (OPT aside); 0 with none or if malformed."""
    walked = walk_reply(wire)
    if walked is None or not walked[1]:
        return 0
    return int(min(struct.unpack_from("!I", wire, off)[0] for off in walked[1]))


_MEMO_ENTRIES = 1024
_response_memo: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}


def _response_headers(wire: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """A reply's headers, kept by its bytes after the ID (a cache hit repeats them until its
    TTLs drop a second): walking the reply for its smallest TTL is most of the cost."""
    key = wire[2:]
    headers = _response_memo.get(key)
    if headers is None:
        if len(_response_memo) >= _MEMO_ENTRIES:
            _response_memo.clear()
        headers = _response_memo[key] = (
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(wire)).encode()),
            (b"cache-control", f"max-age={max_age(wire)}".encode()))
    return headers


def _error_headers(status: int, reason: bytes) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(reason)).encode()),
               (b"cache-control", b"no-store")]
    if status == 405:
        headers.append((b"allow", b"GET, POST"))
    return headers


class DoHServer(TCPServer):
    """A DoH listener on ``(host, port)`` feeding ``queue``; ``tls=None`` serves plain HTTP
    (h2 by prior knowledge or HTTP/1.1), for a TLS-terminating proxy in front."""

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 443, *,
                 tls: ssl.SSLContext | None, path: str = DEFAULT_PATH,
                 clock: Clock | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS,
                 max_in_flight: int = MAX_IN_FLIGHT, reuse_port: bool = False,
                 fastcache: FastCache | None = None,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT) -> None:
        if not path.startswith("/") or "?" in path:
            raise ValueError(f"DoH path {path!r}: must start with / and have no query")
        super().__init__(queue, host, port, clock=clock, idle_timeout=idle_timeout,
                         max_connections=max_connections, max_in_flight=max_in_flight,
                         reuse_port=reuse_port, fastcache=fastcache, tls=tls,
                         handshake_timeout=handshake_timeout)
        self.transport = "doh"
        self.path = path
        self.stats: DoHStats = DoHStats()

    def _protocol(self) -> asyncio.BaseProtocol:
        return _DoHConnection(self)


Respond = Callable[[int, Sequence[tuple[bytes, bytes]], bytes], None]


class _DoHConnection(_Connection):
    """One client connection: picks HTTP/2 or HTTP/1.1, then turns requests into frames."""

    _server: DoHServer

    def __init__(self, server: DoHServer) -> None:
        super().__init__(server)
        self._session: _H2Session | _H1Session | None = None
        self._alpn: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._closed:
            return
        ssl_object = transport.get_extra_info("ssl_object")
        self._alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        if self._alpn == "h2":
            self._start(h2=True)
        elif self._alpn == "http/1.1":
            self._start(h2=False)

    def _start(self, *, h2: bool) -> None:
        stats = self._server.stats
        if h2:
            stats.h2_connections += 1
            self._session = _H2Session(self)
        else:
            stats.h1_connections += 1
            self._session = _H1Session(self)

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        if self._session is None:  # no ALPN: HTTP/2 by its preface, else HTTP/1.1
            self._buffer += data
            head = bytes(self._buffer[:len(_H2_PREFACE)])
            if head == _H2_PREFACE[:len(head)] and len(head) < len(_H2_PREFACE):
                return
            self._start(h2=head == _H2_PREFACE)
            data = bytes(self._buffer)
            self._buffer.clear()
        assert self._session is not None
        self._session.receive(data)
        self._update_reading()

    def eof_received(self) -> bool:
        self._eof = True
        if self._session is not None:
            self._session.receive(b"")
        if self._in_flight == 0:
            return False
        return True  # answers still owed: keep the write side open

    def _dispatch(self) -> None:
        """Writing may go on again: let the session take requests it held back."""
        if self._session is not None and not self._closed:
            self._session.pump()
        self._update_reading()

    # -- requests ----------------------------------------------------------------------

    def request(self, method: str, target: str, content_type: str | None, body: bytes,
                respond: Respond) -> None:
        """A complete request: answer it, from the fast cache or through the queue."""
        server = self._server
        stats = server.stats
        self._last_activity = self._loop.time()
        try:
            wire = parse_request(method, target, content_type, body, server.path)
        except BadRequest as e:
            stats.bad_requests += 1
            reason = f"{e}\n".encode()
            respond(e.status, _error_headers(e.status, reason), reason)
            return
        stats.messages += 1
        now = server._clock.monotonic()
        fast = server.fastcache
        if fast is not None:
            reply = fast.lookup(wire, now, stream=True)
            if reply is not None and not reply[2] & _TC:
                stats.replies += 1
                stats.fast_replies += 1
                respond(200, _response_headers(reply), reply)
                return
        self._in_flight += 1
        frame = Frame(wire, "doh", self._client, now)
        if not server.queue.put_nowait(Inbound(frame, functools.partial(self._answer, respond))):
            self._in_flight -= 1
            stats.queue_dropped += 1
            self._unanswered(respond)

    def _answer(self, respond: Respond, wire: bytes | None) -> None:
        """Called once per queued frame by the worker that handled it."""
        self._in_flight -= 1
        if self._closed or self._transport is None or self._transport.is_closing():
            return
        self._last_activity = self._loop.time()
        if wire is None:
            self._unanswered(respond)
        else:
            self._server.stats.replies += 1
            respond(200, _response_headers(wire), wire)
        self._dispatch()
        if self._eof and self._in_flight == 0:
            self._close()

    def _unanswered(self, respond: Respond) -> None:
        self._server.stats.unanswered += 1
        reason = b"no answer: the server is busy\n"
        respond(503, _error_headers(503, reason) + [(b"retry-after", b"1")], reason)

    def write(self, data: bytes) -> None:
        if data and self._transport is not None and not self._closed:
            self._transport.write(data)

    def writelines(self, chunks: list[bytes]) -> None:
        """Several chunks in one system call (over TLS: one record each)."""
        if chunks and self._transport is not None and not self._closed:
            self._transport.writelines(chunks)

    def protocol_error(self, what: str) -> None:
        self._server.stats.protocol_errors += 1
        log.debug("DoH protocol error from %s: %s", self._client, what)
        self._close()

    def close(self) -> None:
        self._close()


class _H2Session:
    """HTTP/2 on one connection (:mod:`resolver.server.http2`): streams become requests.

    What one read completes is answered, as far as the fast cache can, before anything is
    written; then every response of that read goes out in one ``writelines`` (a TLS record
    each, one system call)."""

    def __init__(self, connection: _DoHConnection) -> None:
        self._conn = connection
        self._h2 = H2Server(max_streams=max(MAX_STREAMS, connection._server.max_in_flight),
                            max_header_list=MAX_HEADER_BYTES, max_body=MAX_MESSAGE)
        self._receiving = False
        self._flush()

    def receive(self, data: bytes) -> None:
        if not data:  # EOF
            return
        h2conn = self._h2
        try:
            requests = h2conn.receive(data)
        except H2Error as e:
            self._flush()
            self._conn.protocol_error(f"HTTP/2: {e}")
            return
        self._receiving = True
        try:
            for r in requests:
                respond = functools.partial(self._respond, r.stream_id)
                if r.body is None:
                    self._conn._server.stats.bad_requests += 1
                    reason = b"the body is over 65535 bytes\n"
                    respond(413, _error_headers(413, reason), reason)
                else:
                    self._conn.request(r.method, r.path, r.content_type, r.body, respond)
        finally:
            self._receiving = False
        self._flush()
        if h2conn.remote_closed and not h2conn.streams:
            self._conn.close()

    def pump(self) -> None:
        """Nothing is held back on HTTP/2: the concurrent streams setting is the limit."""

    def _respond(self, stream_id: int, status: int, headers: Sequence[tuple[bytes, bytes]],
                 body: bytes) -> None:
        self._h2.respond(stream_id, status, headers, body)
        if not self._receiving:
            self._flush()
            if self._h2.remote_closed and not self._h2.streams:
                self._conn.close()

    def _flush(self) -> None:
        self._conn.writelines(self._h2.take())


class _H1Session:
    """HTTP/1.1 on one connection (h11): one request at a time, pipelined ones wait."""

    def __init__(self, connection: _DoHConnection) -> None:
        self._conn = connection
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._busy = False  # a request is being answered

    def receive(self, data: bytes) -> None:
        try:
            self._h11.receive_data(data)
        except RuntimeError:  # data after the peer closed its side
            return
        self.pump()

    def pump(self) -> None:
        h1 = self._h11
        while not self._busy and not self._conn._closed:
            try:
                event = h1.next_event()
            except h11.RemoteProtocolError as e:
                self._conn._server.stats.bad_requests += 1
                self._bad(e.error_status_hint, f"bad HTTP/1.1 request: {e}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request = event
                self._body.clear()
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_MESSAGE:
                    self._conn._server.stats.bad_requests += 1
                    self._bad(413, "the body is over 65535 bytes")
                    return
            elif isinstance(event, h11.EndOfMessage):
                request, self._request = self._request, None
                if request is None:
                    continue
                self._busy = True
                ctype = next((v for k, v in request.headers if k == b"content-type"), None)
                self._conn.request(request.method.decode("latin-1"),
                                   request.target.decode("latin-1"),
                                   ctype.decode("latin-1") if ctype is not None else None,
                                   bytes(self._body), self._respond)
            elif isinstance(event, h11.ConnectionClosed):
                if not self._busy:
                    self._conn.close()
                return

    def _respond(self, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> None:
        h1 = self._h11
        try:
            data = h1.send(h11.Response(status_code=status, headers=list(headers)))
            data = (data or b"") + (h1.send(h11.Data(data=body)) or b"")
            data += h1.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:
            self._conn.close()
            return
        self._conn.write(data)
        self._busy = False
        if h1.our_state is h11.MUST_CLOSE or h1.their_state is h11.MUST_CLOSE:
            self._conn.close()
            return
        if h1.our_state is h11.DONE and h1.their_state is h11.DONE:
            h1.start_next_cycle()

    def _bad(self, status: int, reason: str) -> None:
        """A request we cannot go on from: say so, then close."""
        body = f"{reason}\n".encode()
        headers = _error_headers(status, body) + [(b"connection", b"close")]
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                self._conn.write(self._h11.send(h11.Response(status_code=status,
                                                             headers=headers)) or b"")
                self._conn.write(self._h11.send(h11.Data(data=body)) or b"")
                self._conn.write(self._h11.send(h11.EndOfMessage()) or b"")
            except h11.LocalProtocolError:
                pass
        self._conn.protocol_error(reason)
