"""Asking a resolver at an address over UDP, TCP, DoT or DoH, many queries in flight.

The client's packet is forwarded as it came (flags, EDNS options, 0x20 case and all) with
only its ID replaced, so the target sees what the staging resolver saw.  Replies are matched
by ID and question (case-insensitively); anything else arriving is counted as ``mismatched``
and ignored.

* ``udp`` (:class:`UdpExchange`): one connected socket; a truncated reply is asked again over
  TCP, and so is a query the client sent over TCP (``query(..., tcp=True)``).
* ``tcp`` and ``dot`` (:class:`StreamExchange`): one connection, pipelined (RFC 7766), kept
  open and opened again after it closes; ``dot`` inside TLS (RFC 7858, ALPN ``dot``).
* ``doh`` (:class:`DohExchange`): one HTTP/2 connection over TLS (RFC 8484), a POST of
  ``application/dns-message`` per query on its own stream, up to the server's concurrent
  streams setting.

TLS here does not verify the peer: the lab's and the candidate's certificates are
self-signed, and a target is a resolver the operator names by address.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import socket
import ssl
import struct
from typing import Any, Literal, Protocol

import h2.config
import h2.connection
import h2.events
import h2.exceptions

__all__ = ["TRANSPORTS", "DohExchange", "Exchange", "ExchangeError", "StreamExchange",
           "Transport", "UdpExchange", "make_exchange", "question_end", "set_flags"]

Transport = Literal["udp", "tcp", "dot", "doh"]
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp", "dot", "doh")
DEFAULT_DOH_PATH = "/dns-query"

_ID = struct.Struct("!H")
_TC = 0x02  # in the third header byte
MAX_IN_FLIGHT = 60000
RECEIVE_BUFFER = 4 * 1024 * 1024


class ExchangeError(Exception):
    """A failed exchange; the text is what the store records as the target's error."""


def question_end(wire: bytes) -> int:
    """The offset just after the (single) question; ``ExchangeError`` if there is none."""
    offset = 12
    try:
        while True:
            length = wire[offset]
            if length == 0:
                offset += 1
                break
            if length & 0xC0:
                raise ExchangeError("compressed question")
            offset += 1 + length
        end = offset + 4
    except IndexError:
        raise ExchangeError("short question") from None
    if end > len(wire):
        raise ExchangeError("short question")
    return end


def set_flags(wire: bytes, *, cd: bool | None = None) -> bytes:
    """``wire`` with the CD bit set or cleared (``None``: as it is)."""
    if cd is None or len(wire) < 4:
        return wire
    flags = wire[3] | 0x10 if cd else wire[3] & ~0x10
    return wire[:3] + bytes([flags]) + wire[4:]


class Exchange(Protocol):
    """What a target asks through."""

    stats: collections.Counter[str]

    async def open(self) -> None: ...

    def close(self) -> None: ...

    async def query(self, wire: bytes, timeout: float, *, tcp: bool = False) -> bytes: ...


def make_exchange(transport: Transport, address: str, port: int, *,
                  doh_path: str = DEFAULT_DOH_PATH) -> Exchange:
    """The exchange for ``transport`` to ``address:port``."""
    if transport == "udp":
        return UdpExchange(address, port)
    if transport in ("tcp", "dot"):
        return StreamExchange(address, port, tls=transport == "dot")
    return DohExchange(address, port, path=doh_path)


def _client_context(alpn: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # loopback targets with self-signed certificates
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols([alpn])
    return context


class _Matcher:
    """Queries in flight by ID, each with its question; replies matched to them."""

    def __init__(self, rng: random.Random | None) -> None:
        self.stats: collections.Counter[str] = collections.Counter()
        self._rng = rng or random.Random()
        self._pending: dict[int, tuple[asyncio.Future[bytes], bytes]] = {}

    def _fail_all(self, why: str) -> None:
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(ExchangeError(why))
        self._pending.clear()

    def _received(self, data: bytes) -> None:
        if len(data) < 12:
            self.stats["mismatched"] += 1
            return
        (qid,) = _ID.unpack_from(data)
        entry = self._pending.get(qid)
        if entry is None:
            self.stats["mismatched"] += 1  # late, or not ours
            return
        future, question = entry
        if data[12:12 + len(question)].lower() != question.lower():
            self.stats["mismatched"] += 1
            return
        del self._pending[qid]
        if not future.done():
            future.set_result(data)

    def _register(self, wire: bytes) -> tuple[int, asyncio.Future[bytes], bytes]:
        """A fresh ID for ``wire``: (id, the future its reply completes, the packet)."""
        question = wire[12:question_end(wire)]
        if len(self._pending) >= MAX_IN_FLIGHT:
            raise ExchangeError("network: too many queries in flight")
        qid = self._rng.getrandbits(16)
        while qid in self._pending:
            qid = self._rng.getrandbits(16)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[qid] = (future, question)
        return qid, future, _ID.pack(qid) + wire[2:]

    def _forget(self, qid: int, future: asyncio.Future[bytes]) -> None:
        if self._pending.get(qid, (None,))[0] is future:
            del self._pending[qid]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpExchange) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner._received(data)

    def error_received(self, exc: Exception) -> None:
        self.owner.stats["socket_errors"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost()


class UdpExchange(_Matcher):
    """Queries to ``address:port`` over one connected UDP socket (TCP when truncated)."""

    def __init__(self, address: str, port: int, *, rng: random.Random | None = None) -> None:
        super().__init__(rng)
        self.address = address
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            # Replies to hundreds of queries in flight can arrive while the loop is busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.connect((self.address, self.port))
            sock.setblocking(False)
            transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self),
                                                               sock=sock)
        except BaseException:
            sock.close()
            raise
        self._transport = transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _lost(self) -> None:
        self._fail_all("network: socket closed")

    async def query(self, wire: bytes, timeout: float, *, tcp: bool = False) -> bytes:
        """The reply to ``wire`` (whose ID is replaced), over TCP when ``tcp``; raises
        ``TimeoutError`` or :class:`ExchangeError`."""
        if tcp:
            question_end(wire)
            packet = _ID.pack(self._rng.getrandbits(16)) + wire[2:]
            self.stats["tcp"] += 1
            reply = await self.tcp(packet, timeout)
            return wire[:2] + reply[2:]
        if self._transport is None:
            await self.open()
        assert self._transport is not None
        qid, future, packet = self._register(wire)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            self._transport.sendto(packet)
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._forget(qid, future)
        if reply[2] & _TC:
            self.stats["truncated"] += 1
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            reply = await self.tcp(packet, remaining)
        return wire[:2] + reply[2:]  # the client's own ID back

    async def tcp(self, packet: bytes, timeout: float) -> bytes:
        async with asyncio.timeout(timeout):
            try:
                reader, writer = await asyncio.open_connection(self.address, self.port)
            except OSError as e:
                raise ExchangeError(f"network: tcp: {e.strerror or e}") from None
            try:
                writer.write(struct.pack("!H", len(packet)) + packet)
                await writer.drain()
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError) as e:
                raise ExchangeError(f"network: tcp: {e}") from None
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        if len(reply) < 12 or reply[:2] != packet[:2]:
            raise ExchangeError("network: tcp: reply does not match")
        return reply


class StreamExchange(_Matcher):
    """Queries to ``address:port`` pipelined on one TCP connection, in TLS with ``tls``."""

    def __init__(self, address: str, port: int, *, tls: bool = False,
                 rng: random.Random | None = None) -> None:
        super().__init__(rng)
        self.address = address
        self.port = port
        self.transport = "dot" if tls else "tcp"
        self._tls = _client_context("dot") if tls else None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()

    async def open(self) -> None:
        """Connections are opened on the first query (and again after one closes)."""

    def close(self) -> None:
        writer, self._writer = self._writer, None
        if self._reader_task is not None:
            self._reader_task.cancel()
            self._reader_task = None
        if writer is not None:
            writer.close()
        self._fail_all(f"network: {self.transport}: closed")

    async def _connection(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is not None and not self._writer.is_closing():
                return self._writer
            try:
                reader, writer = await asyncio.open_connection(
                    self.address, self.port, ssl=self._tls,
                    server_hostname="" if self._tls is not None else None)
            except (OSError, ssl.SSLError) as e:
                raise ExchangeError(f"network: {self.transport}: "
                                    f"{getattr(e, 'strerror', None) or e}") from None
            self.stats["connections"] += 1
            self._writer = writer
            self._reader_task = asyncio.create_task(self._read(reader, writer))
            return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        why = "closed by the server"
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                self._received(await reader.readexactly(length))
        except asyncio.IncompleteReadError:
            pass
        except (OSError, ssl.SSLError) as e:
            why = str(e)
        if self._writer is writer:
            self._writer = None
            self._fail_all(f"network: {self.transport}: {why}")
        writer.close()

    async def query(self, wire: bytes, timeout: float, *, tcp: bool = False) -> bytes:
        """The reply to ``wire`` (whose ID is replaced); raises ``TimeoutError`` or
        :class:`ExchangeError`.  ``tcp`` changes nothing: this is a stream already."""
        async with asyncio.timeout(timeout):
            writer = await self._connection()
            qid, future, packet = self._register(wire)
            try:
                writer.write(struct.pack("!H", len(packet)) + packet)
                reply = await future
            finally:
                self._forget(qid, future)
        return wire[:2] + reply[2:]


class _H2Client(asyncio.Protocol):
    """One HTTP/2 connection of a :class:`DohExchange`."""

    def __init__(self, owner: DohExchange) -> None:
        self.owner = owner
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, tuple[asyncio.Future[bytes], list[Any]]] = {}
        self.room = asyncio.Event()  # a stream slot may have freed up
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.h2.initiate_connection()
        self.flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            self.fail(f"HTTP/2: {e}")
            return
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                entry = self.streams.get(event.stream_id)
                if entry is not None:
                    entry[1][0] = dict(event.headers).get(b":status", b"")
            elif isinstance(event, h2.events.DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length,
                                                  event.stream_id)
                entry = self.streams.get(event.stream_id)
                if entry is not None:
                    entry[1][1] += event.data
            elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                self.finish(event.stream_id, isinstance(event, h2.events.StreamReset))
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.fail("HTTP/2: the server ended the connection")
        self.flush()

    def finish(self, stream_id: int, reset: bool) -> None:
        entry = self.streams.pop(stream_id, None)
        self.room.set()
        if entry is None or entry[0].done():
            return
        future, (status, body) = entry
        if reset:
            future.set_exception(ExchangeError("network: doh: stream reset by the server"))
        elif status != b"200":
            future.set_exception(ExchangeError(
                f"network: doh: HTTP {status.decode(errors='replace')}"))
        else:
            future.set_result(bytes(body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail("closed by the server" if exc is None else str(exc))

    def fail(self, why: str) -> None:
        self.closed = True
        for future, _ in self.streams.values():
            if not future.done():
                future.set_exception(ExchangeError(f"network: doh: {why}"))
        self.streams.clear()
        self.room.set()
        if self.transport is not None:
            self.transport.close()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class DohExchange:
    """Queries to ``https://address:port{path}``: POSTs on one HTTP/2 connection."""

    def __init__(self, address: str, port: int, *, path: str = DEFAULT_DOH_PATH) -> None:
        self.address = address
        self.port = port
        self.path = path
        self.stats: collections.Counter[str] = collections.Counter()
        self._client: _H2Client | None = None
        self._connecting = asyncio.Lock()

    async def open(self) -> None:
        """The connection is opened on the first query (and again after one closes)."""

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.fail("closed")

    async def _connection(self) -> _H2Client:
        async with self._connecting:
            if self._client is not None and not self._client.closed:
                return self._client
            loop = asyncio.get_running_loop()
            try:
                _, client = await loop.create_connection(
                    lambda: _H2Client(self), self.address, self.port,
                    ssl=_client_context("h2"), server_hostname="")
            except (OSError, ssl.SSLError) as e:
                raise ExchangeError(f"network: doh: {getattr(e, 'strerror', None) or e}"
                                    ) from None
            self.stats["connections"] += 1
            self._client = client
            return client

    async def query(self, wire: bytes, timeout: float, *, tcp: bool = False) -> bytes:
        """The reply to ``wire`` (sent with ID 0, RFC 8484 §4.1); raises ``TimeoutError``
        or :class:`ExchangeError`.  ``tcp`` changes nothing: HTTP/2 is a stream already."""
        question = wire[12:question_end(wire)]
        body = b"\x00\x00" + wire[2:]
        async with asyncio.timeout(timeout):
            client = await self._connection()
            conn = client.h2
            while (not client.closed and conn.open_outbound_streams
                   >= conn.remote_settings.max_concurrent_streams):
                client.room.clear()
                await client.room.wait()
            if client.closed:
                raise ExchangeError("network: doh: connection closed")
            stream_id = conn.get_next_available_stream_id()
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            client.streams[stream_id] = (future, [b"", bytearray()])
            headers = [(b":method", b"POST"), (b":scheme", b"https"),
                       (b":authority", f"{self.address}:{self.port}".encode()),
                       (b":path", self.path.encode()),
                       (b"content-type", b"application/dns-message"),
                       (b"accept", b"application/dns-message"),
                       (b"content-length", str(len(body)).encode())]
            try:
                conn.send_headers(stream_id, headers)
                conn.send_data(stream_id, body, end_stream=True)
            except h2.exceptions.ProtocolError as e:
                client.streams.pop(stream_id, None)
                raise ExchangeError(f"network: doh: {e}") from None
            client.flush()
            try:
                reply = await future
            finally:
                client.streams.pop(stream_id, None)
        if len(reply) < 12 or reply[12:12 + len(question)].lower() != question.lower():
            self.stats["mismatched"] += 1
            raise ExchangeError("network: doh: the reply does not match the question")
        return wire[:2] + reply[2:]
