"""dnstap: Frame Streams from a staging resolver (unix socket, TCP) or from a dnstap file.

The staging resolver (Unbound's ``dnstap-socket-path`` or ``dnstap-ip``, with
``dnstap-tls``, kresd's dnstap module, dnsdist's ``newFrameStreamTcpLogger``, ``fstrm_replay``)
connects -- over TCP only from an allowed peer network, and inside TLS when ``tls`` is set
(client certificates required when it names a ``client_ca``) -- and speaks Frame Streams:

* bidirectional (sockets): it sends READY with the content types it offers, we ACCEPT
  ``protobuf:dnstap.Dnstap``, it sends START, data frames, then STOP, and we answer FINISH;
* unidirectional (files, and some senders): START, data frames, STOP.

Each data frame is one ``dnstap.Dnstap`` protobuf (decoded with ``dnstap_pb``; the control
frames with ``fstrm``).  CLIENT_QUERY carries the client's query; CLIENT_RESPONSE the staging
resolver's own answer, which the pipeline keeps with the observation.  Other message types
are counted as ``ignored``.

Nothing here trusts the sender: a frame longer than ``max_frame`` (``oversized``) or a broken
handshake (``handshake_errors``) ends that connection; a connection that ends inside a frame
counts ``truncated``; a frame that is not a dnstap message counts ``bad_frames`` and a DNS
message that does not parse ``malformed`` -- both are skipped and the stream goes on.  The
listener keeps accepting new connections throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import ssl
import struct
import time
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import dnstap_pb
import fstrm
from google.protobuf.message import DecodeError

from harness.config import DnstapConfig, TlsConfig
from harness.intake.base import Intake, IntakeSink, Malformed, query_from_wire, response_key
from harness.records import Source
from netpolicy import Networks

__all__ = ["CONTENT_TYPE", "DnstapIntake", "FrameError", "control_frame", "data_frame"]

log = logging.getLogger("shadowdns.harness.intake")

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
MAX_CONTROL = 512  # bytes: control frames carry a few content types at most

_LENGTH = struct.Struct("!I")
_CLIENT_QUERY = dnstap_pb.Message.CLIENT_QUERY
_CLIENT_RESPONSE = dnstap_pb.Message.CLIENT_RESPONSE
_MESSAGE = dnstap_pb.Dnstap.MESSAGE
# Queries that came over a stream are replayed over TCP (DoT, DoH and DNSCrypt-over-TCP
# included: none of them has a UDP size limit that would truncate the answer).
_STREAMS = frozenset((dnstap_pb.TCP, dnstap_pb.DOT, dnstap_pb.DOH, dnstap_pb.DNSCryptTCP))


class FrameError(Exception):
    """The stream cannot go on: the connection (or file) is closed; ``kind`` is its counter."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class _Reader(Protocol):
    async def readexactly(self, n: int) -> bytes: ...


class _FileReader:
    """``readexactly`` over a file, for the same session code as sockets."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.offset = 0

    async def readexactly(self, n: int) -> bytes:
        data = self.handle.read(n)
        self.offset += len(data)
        if len(data) < n:
            raise asyncio.IncompleteReadError(data, n)
        return data


def control_frame(ctrl: int, content_type: bytes | None = CONTENT_TYPE) -> bytes:
    """A Frame Streams control frame (escape, length, type, optional content type)."""
    codec = fstrm.FstrmCodec()
    return bytes(codec.encode(ctrl=ctrl, ct=[content_type] if content_type else []))


def data_frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def _decode_control(body: bytes) -> tuple[int, list[bytes]]:
    codec = fstrm.FstrmCodec()
    if not codec.append_and_process(b"\0\0\0\0" + _LENGTH.pack(len(body)) + body):
        raise FrameError("handshake_errors", "incomplete control frame")
    try:
        ctrl, types, _ = codec.decode()
    except Exception as e:  # fstrm raises bare Exception on bad fields
        raise FrameError("handshake_errors", f"bad control frame: {e}") from None
    return int(ctrl), [bytes(t) for t in types]


def _address(raw: bytes) -> str | None:
    if len(raw) in (4, 16):
        return str(ipaddress.ip_address(raw))
    return None


class _Session:
    """One Frame Streams stream: the handshake state machine and the data frames."""

    def __init__(self, intake: DnstapIntake, sink: IntakeSink, reader: _Reader,
                 writer: asyncio.StreamWriter | None, *, finite: bool) -> None:
        self.intake = intake
        self.sink = sink
        self.reader = reader
        self.writer = writer
        self.finite = finite
        self.started = False

    async def run(self) -> None:
        stats = self.intake.stats
        try:
            await self._frames()
        except FrameError as e:
            stats[e.kind] += 1
            log.info("%s: %s", self.intake.name, e)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                stats["truncated"] += 1
                log.info("%s: stream ended inside a frame", self.intake.name)
            elif self.started:
                stats["ended_without_stop"] += 1
        except (ConnectionError, OSError) as e:
            stats["connection_errors"] += 1
            log.info("%s: %s", self.intake.name, e)

    async def _frames(self) -> None:
        limit = self.intake.config.max_frame
        while True:
            try:
                head = await self.reader.readexactly(4)
            except asyncio.IncompleteReadError as e:
                if not e.partial and not self.started:
                    return  # connected and left without a word
                raise
            (length,) = _LENGTH.unpack(head)
            if length == 0:
                (clen,) = _LENGTH.unpack(await self.reader.readexactly(4))
                if clen > MAX_CONTROL or clen < 4:
                    raise FrameError("handshake_errors", f"control frame of {clen} bytes")
                ctrl, types = _decode_control(await self.reader.readexactly(clen))
                if await self._control(ctrl, types):
                    return
                continue
            if length > limit:
                raise FrameError("oversized", f"a {length}-byte frame (max_frame {limit})")
            payload = await self.reader.readexactly(length)
            if not self.started:
                raise FrameError("handshake_errors", "data before START")
            if self.finite:
                await self.sink.room()
            self.intake.handle(payload, self.sink)

    async def _control(self, ctrl: int, types: list[bytes]) -> bool:
        """Act on a control frame; True when the stream is over."""
        stats = self.intake.stats
        if ctrl == fstrm.FSTRM_CONTROL_READY:
            if self.writer is None or self.started:
                raise FrameError("handshake_errors", "READY out of place")
            if types and CONTENT_TYPE not in types:
                raise FrameError("handshake_errors", f"content types {types} without dnstap")
            self.writer.write(control_frame(fstrm.FSTRM_CONTROL_ACCEPT))
            await self.writer.drain()
            return False
        if ctrl == fstrm.FSTRM_CONTROL_START:
            if self.started:
                raise FrameError("handshake_errors", "START twice")
            if types and types[0] != CONTENT_TYPE:
                raise FrameError("handshake_errors", f"content type {types[0]!r} is not dnstap")
            self.started = True
            stats["streams"] += 1
            return False
        if ctrl == fstrm.FSTRM_CONTROL_STOP:
            if self.writer is not None:
                self.writer.write(control_frame(fstrm.FSTRM_CONTROL_FINISH, None))
                with contextlib.suppress(ConnectionError, OSError):
                    await self.writer.drain()
            stats["stops"] += 1
            return True
        raise FrameError("handshake_errors", f"unexpected control frame type {ctrl}")


def _server_context(tls: TlsConfig) -> ssl.SSLContext:
    """TLS 1.2 or later with our certificate; client certificates required with a CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert, tls.key)
    if tls.client_ca is not None:
        context.load_verify_locations(tls.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class DnstapIntake(Intake):
    """dnstap over a unix socket, TCP, or from a file (exactly one, as configured)."""

    kind = "dnstap"

    def __init__(self, config: DnstapConfig, name: str | None = None) -> None:
        where = config.socket or config.file or (
            f"{config.tcp[0]}:{config.tcp[1]}" if config.tcp else "?")
        super().__init__(name or f"dnstap:{where}")
        self.config = config
        self.finite = config.file is not None
        self.unit = "bytes" if self.finite else "queries"
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._file_task: asyncio.Task[None] | None = None
        self.address: tuple[str, int] | None = None

    # -- one frame -------------------------------------------------------------------------

    def handle(self, payload: bytes, sink: IntakeSink) -> None:
        """Decode one data frame and pass its query or staging answer on; never raises."""
        stats = self.stats
        stats["frames"] += 1
        try:
            frame: Any = dnstap_pb.Dnstap.FromString(payload)
        except (DecodeError, ValueError, RuntimeError):
            stats["bad_frames"] += 1
            return
        if frame.type != _MESSAGE or not frame.HasField("message"):
            stats["bad_frames"] += 1
            return
        message = frame.message
        if message.type == _CLIENT_QUERY:
            if not message.HasField("query_message"):
                stats["malformed"] += 1
                return
            seen = (message.query_time_sec + message.query_time_nsec / 1e9
                    if message.HasField("query_time_sec") else time.time())
            try:
                query = query_from_wire(
                    message.query_message, source=Source.DNSTAP,
                    client=_address(message.query_address),
                    client_port=message.query_port if message.HasField("query_port") else None,
                    seen_at=seen,
                    tcp=message.HasField("socket_protocol")
                    and message.socket_protocol in _STREAMS)
            except Malformed:
                stats["malformed"] += 1
                return
            stats["queries"] += 1
            sink.offer(query)
        elif message.type == _CLIENT_RESPONSE:
            if not message.HasField("response_message"):
                stats["malformed"] += 1
                return
            wire = bytes(message.response_message)
            try:
                key = response_key(
                    wire, _address(message.query_address),
                    message.query_port if message.HasField("query_port") else None)
            except Malformed:
                stats["malformed"] += 1
                return
            stats["responses"] += 1
            sink.staging(key, wire)
        else:
            stats["ignored"] += 1

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, sink: IntakeSink) -> None:
        config = self.config
        if config.file is not None:
            try:
                handle = config.file.open("rb")
            except OSError as e:
                raise OSError(f"{config.file}: cannot read the dnstap file: {e.strerror}") from e
            self.total = os.fstat(handle.fileno()).st_size
            self._file_task = asyncio.create_task(self._read_file(handle, sink), name=self.name)
            return

        allowed = Networks(config.allow)

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if config.tcp is not None:
                peer = writer.get_extra_info("peername")
                if not peer or str(peer[0]) not in allowed:
                    self.stats["refused_peer"] += 1
                    writer.close()
                    return
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            self.stats["connections"] += 1
            try:
                await _Session(self, sink, reader, writer, finite=False).run()
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()
                if task is not None:
                    self._tasks.discard(task)

        if config.socket is not None:
            path = Path(config.socket)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_socket():
                path.unlink()  # a stale socket of an earlier run; a live one would fail bind
            self._server = await asyncio.start_unix_server(connected, path=str(path),
                                                           limit=config.max_frame + 64)
            os.chmod(path, 0o666)  # resolvers may run as their own user
        elif config.tcp is not None:
            try:
                self._server = await asyncio.start_server(
                    connected, host=config.tcp[0], port=config.tcp[1],
                    limit=config.max_frame + 64, reuse_address=True,
                    ssl=_server_context(config.tls) if config.tls is not None else None,
                    ssl_handshake_timeout=10 if config.tls is not None else None)
            except OSError as e:
                raise OSError(f"dnstap: cannot listen on {config.tcp[0]}:{config.tcp[1]}: "
                              f"{e.strerror}") from e
            host, port = self._server.sockets[0].getsockname()[:2]
            self.address = (str(host), int(port))

    async def _read_file(self, handle: BinaryIO, sink: IntakeSink) -> None:
        reader = _FileReader(handle)

        async def progress() -> None:
            while True:
                self.done = reader.offset
                await asyncio.sleep(0.2)

        ticker = asyncio.create_task(progress())
        try:
            await _Session(self, sink, reader, None, finite=True).run()
        finally:
            ticker.cancel()
            self.done = reader.offset
            handle.close()
            self._finished.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._file_task is not None:
            self._file_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._file_task
        if self.config.socket is not None:
            with contextlib.suppress(OSError):
                Path(self.config.socket).unlink()
        self._finished.set()

    def describe(self) -> str:
        if self.config.socket is not None:
            return f"dnstap on unix socket {self.config.socket}"
        if self.address is not None:
            over = "TLS" if self.config.tls is not None else "TCP"
            return f"dnstap on {over} {self.address[0]}:{self.address[1]}"
        return f"dnstap file {self.config.file}"
