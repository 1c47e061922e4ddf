"""Asking a resolver at an address: one UDP socket per target, many queries in flight.

The client's packet is forwarded as it came (flags, EDNS options, 0x20 case and all) with
only its ID replaced, so the target sees what the staging resolver saw -- over TCP when the
client's query came over TCP (``query(..., tcp=True)``), over UDP otherwise.  Replies are matched
by ID and question (case-insensitively); anything else arriving on the socket is counted as
``mismatched`` and ignored.  A truncated reply is asked again over TCP.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import socket
import struct

__all__ = ["ExchangeError", "UdpExchange", "question_end", "set_flags"]

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


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpExchange) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner._received(data)

    def error_received(self, exc: Exception) -> None:
        self.owner.stats["socket_errors"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost()


class UdpExchange:
    """Queries to ``address:port`` over one connected UDP socket (TCP when truncated)."""

    def __init__(self, address: str, port: int, *, rng: random.Random | None = None) -> None:
        self.address = address
        self.port = port
        self.stats: collections.Counter[str] = collections.Counter()
        self._rng = rng or random.Random()
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[int, tuple[asyncio.Future[bytes], bytes]] = {}

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
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(ExchangeError("network: socket closed"))
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
        question = wire[12:question_end(wire)]
        if len(self._pending) >= MAX_IN_FLIGHT:
            raise ExchangeError("network: too many queries in flight")
        qid = self._rng.getrandbits(16)
        while qid in self._pending:
            qid = self._rng.getrandbits(16)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[qid] = (future, question)
        packet = _ID.pack(qid) + wire[2:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            self._transport.sendto(packet)
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            if self._pending.get(qid, (None,))[0] is future:
                del self._pending[qid]
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
