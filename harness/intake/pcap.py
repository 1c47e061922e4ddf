"""pcap and pcapng files (read with dpkt), replayed with their original timing or at full speed.

UDP datagrams to ``port`` (53) are client queries; datagrams from it are the recorded
resolver's answers and are kept as staging answers.  DNS over TCP is read segment by segment
(RFC 7766 framing: a two-byte length before each message): every message a segment holds
whole is a query (replayed over TCP) or a staging answer; a segment without a whole message
(an empty ACK or a message split across segments: there is no stream reassembly) counts
``tcp_partial`` when it carries data.  Link types: Ethernet, Linux cooked
(SLL, SLL2), BSD loopback (NULL/LOOP) and raw IP; IPv4 and IPv6.

``speed`` 1 replays at the original pace, N at N times it; ``None`` (``max``) reads as fast
as the pipeline takes queries.  What cannot be used is counted and skipped: ``malformed``
(not a DNS query), ``undecodable`` (a frame dpkt cannot take apart), ``fragments``,
``tcp_partial``, ``other`` (neither to nor from the port).  A file
that is not pcap at all, or whose structure breaks off, counts ``corrupt`` and ends this
intake; the rest of the harness keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any, BinaryIO, Protocol

import dpkt

from harness.config import PcapConfig
from harness.intake.base import (
    Intake,
    IntakeSink,
    Malformed,
    query_from_wire,
    response_key,
)
from harness.records import Source

__all__ = ["PcapIntake", "open_capture"]

log = logging.getLogger("shadowdns.harness.intake")

_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_RAW_BSD, DLT_RAW_OPENBSD = 0, 1, 101, 12, 14
DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2 = 108, 113, 276
_RAW_TYPES = (DLT_RAW, DLT_RAW_BSD, DLT_RAW_OPENBSD)


class _Watched:
    """A file that notices short reads: a record cut off by the end of the file."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.name = getattr(handle, "name", "<capture>")
        self.short_reads = 0

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        if n > 0 and 0 < len(data) < n:
            self.short_reads += 1
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def fileno(self) -> int:
        return self.handle.fileno()


def open_capture(handle: BinaryIO | _Watched) -> Any:
    """A dpkt reader for a pcap or pcapng file; ``ValueError`` if it is neither."""
    magic = handle.read(4)
    handle.seek(0)
    try:
        if magic == _PCAPNG_MAGIC:
            return dpkt.pcapng.Reader(handle)
        return dpkt.pcap.Reader(handle)
    except (dpkt.Error, ValueError, OSError) as e:
        raise ValueError(f"not a pcap or pcapng file ({e})") from None


def _network_layer(linktype: int, frame: bytes) -> Any:
    if linktype == DLT_EN10MB:
        return dpkt.ethernet.Ethernet(frame).data
    if linktype in (DLT_NULL, DLT_LOOP):
        return dpkt.loopback.Loopback(frame).data
    if linktype == DLT_LINUX_SLL:
        return dpkt.sll.SLL(frame).data
    if linktype == DLT_LINUX_SLL2:
        return dpkt.sll2.SLL2(frame).data
    if linktype in _RAW_TYPES:
        if frame and frame[0] >> 4 == 6:
            return dpkt.ip6.IP6(frame)
        return dpkt.ip.IP(frame)
    raise ValueError(f"link type {linktype} is not supported")


def _text(ip: Any, raw: bytes) -> str:
    family = socket.AF_INET6 if isinstance(ip, dpkt.ip6.IP6) else socket.AF_INET
    return socket.inet_ntop(family, raw)


class Pacer(Protocol):
    """The time a paced replay keeps: the event loop's in a run, a virtual one in tests."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealTime:
    """:class:`Pacer` on the monotonic clock and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PcapIntake(Intake):
    """Replays one capture file."""

    kind = "pcap"
    finite = True
    unit = "bytes"

    def __init__(self, config: PcapConfig, name: str | None = None, *,
                 pacer: Pacer | None = None) -> None:
        super().__init__(name or f"pcap:{config.file}")
        self.config = config
        self.pacer = pacer or RealTime()
        self._task: asyncio.Task[None] | None = None

    def check(self) -> None:
        try:
            with self.config.file.open("rb") as handle:
                open_capture(handle)
        except OSError as e:
            raise ValueError(f"{self.config.file}: cannot read: {e.strerror}") from None
        except ValueError:
            raise ValueError(f"{self.config.file}: not a pcap or pcapng file") from None

    async def start(self, sink: IntakeSink) -> None:
        try:
            handle = self.config.file.open("rb")
        except OSError as e:
            raise OSError(f"{self.config.file}: cannot read the capture: {e.strerror}") from e
        self.total = os.fstat(handle.fileno()).st_size
        self._task = asyncio.create_task(self._run(handle, sink), name=self.name)

    async def _run(self, handle: BinaryIO, sink: IntakeSink) -> None:
        try:
            await self._replay(handle, sink)
        finally:
            with contextlib.suppress(OSError):
                self.done = handle.tell()
            handle.close()
            self._finished.set()

    async def _replay(self, handle: BinaryIO, sink: IntakeSink) -> None:
        stats = self.stats
        watched = _Watched(handle)
        try:
            reader = open_capture(watched)
            linktype = int(reader.datalink())
        except (ValueError, dpkt.Error, OSError) as e:
            stats["corrupt"] += 1
            log.warning("%s: %s", self.config.file, e)
            return
        speed = self.config.speed
        first: float | None = None
        pacer = self.pacer
        wall0 = pacer.monotonic()
        packets = iter(reader)
        while True:
            try:
                ts, frame = next(packets)
            except StopIteration:
                return
            except (dpkt.Error, ValueError, OSError, MemoryError) as e:
                stats["corrupt"] += 1
                log.warning("%s: the capture breaks off after %d packets: %s",
                            self.config.file, stats["packets"], e or type(e).__name__)
                return
            if watched.short_reads:
                stats["corrupt"] += 1
                log.warning("%s: the capture breaks off inside a record after %d packets",
                            self.config.file, stats["packets"])
                return
            stats["packets"] += 1
            ts = float(ts)
            if stats["packets"] % 256 == 0:
                self.done = handle.tell()
            if speed is None:
                await sink.room()
            else:
                if first is None:
                    first = ts
                delay = wall0 + (ts - first) / speed - pacer.monotonic()
                if delay > 0:
                    await pacer.sleep(delay)
                elif stats["packets"] % 64 == 0:
                    await asyncio.sleep(0)
            self._packet(linktype, ts, bytes(frame), sink)

    def _packet(self, linktype: int, ts: float, frame: bytes, sink: IntakeSink) -> None:
        stats = self.stats
        try:
            ip = _network_layer(linktype, frame)
        except (dpkt.Error, ValueError, IndexError, KeyError, TypeError) as e:
            stats["undecodable"] += 1
            log.debug("%s: %s", self.config.file, e)
            return
        if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
            stats["other"] += 1
            return
        if isinstance(ip, dpkt.ip.IP) and (ip.mf or ip.offset):
            stats["fragments"] += 1
            return
        transport = ip.data
        tcp = isinstance(transport, dpkt.tcp.TCP)
        if not tcp and not isinstance(transport, dpkt.udp.UDP):
            stats["other"] += 1
            return
        port = self.config.port
        if transport.dport != port and transport.sport != port:
            stats["other"] += 1
            return
        data = bytes(transport.data)
        if tcp:
            payloads = _stream_messages(data)
            if not payloads:
                if data:
                    stats["tcp_partial"] += 1
                return
        else:
            payloads = [data]
        for payload in payloads:
            if transport.dport == port:
                try:
                    query = query_from_wire(payload, source=Source.PCAP,
                                            client=_text(ip, ip.src),
                                            client_port=int(transport.sport), seen_at=ts,
                                            tcp=tcp)
                except Malformed:
                    stats["malformed"] += 1
                    continue
                stats["queries"] += 1
                sink.offer(query)
            else:
                try:
                    key = response_key(payload, _text(ip, ip.dst), int(transport.dport))
                except Malformed:
                    stats["malformed"] += 1
                    continue
                stats["responses"] += 1
                sink.staging(key, payload)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._finished.set()

    def describe(self) -> str:
        pace = "as fast as possible" if self.config.speed is None else f"{self.config.speed:g}x"
        return f"pcap {self.config.file} ({pace})"


def _stream_messages(data: bytes) -> list[bytes]:
    """The DNS messages a TCP segment holds whole (two-byte length prefix each); none when
    the first one does not fit (the segment is part of a longer message)."""
    out: list[bytes] = []
    offset = 0
    while offset + 2 <= len(data):
        length = int.from_bytes(data[offset:offset + 2], "big")
        end = offset + 2 + length
        if length < 12 or end > len(data):
            break
        out.append(data[offset + 2:end])
        offset = end
    return out
