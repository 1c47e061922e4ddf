"""What every intake shares: the sink it feeds, its counters, and turning a packet into a Query.

An intake is started with a sink and then runs by itself.  Live intakes (UDP mirror, dnstap
sockets) call :meth:`IntakeSink.offer` and never wait on the pipeline: when it is saturated the
sampler sheds and counts.  Finite intakes (files) may await :meth:`IntakeSink.room` before each
query so that a file read "as fast as possible" goes as fast as the pipeline takes it instead
of being shed.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import struct
from typing import Protocol

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.opcode

from harness.records import Query, Source

__all__ = ["Intake", "IntakeSink", "IntakeStats", "Malformed", "StagingKey", "query_from_wire",
           "response_key", "staging_key"]

_HEADER = struct.Struct("!HHHHHH")
_QR = 0x8000
_OPCODE = 0x7800

StagingKey = tuple[str | None, int | None, int, str, int]
"""(client address, client port, DNS ID, lowercase qname, qtype): pairs a staging resolver's
answer with the query it answers."""

IntakeStats = collections.Counter
"""An intake's counters by name (``queries``, ``malformed``, ``responses``, ...)."""


class Malformed(ValueError):
    """A packet that is not a usable DNS query (or response); the message says why."""


class IntakeSink(Protocol):
    """Where intakes put what they read (the pipeline)."""

    def offer(self, query: Query) -> None:
        """Take a query; never blocks (the pipeline samples, sheds and counts)."""
        ...

    def staging(self, key: StagingKey, wire: bytes) -> None:
        """The staging resolver's own answer to the query with this key, where known."""
        ...

    async def room(self) -> None:
        """Wait until the dispatcher could take one more query (finite sources only)."""
        ...


class Intake(abc.ABC):
    """One input of the pipeline.

    :attr:`finite` intakes end by themselves (:meth:`wait` returns when the input is read);
    :attr:`total` and :attr:`done` measure their progress in :attr:`unit`.
    """

    kind: str = "intake"
    finite: bool = False
    unit: str = "queries"

    def __init__(self, name: str) -> None:
        self.name = name
        self.stats: collections.Counter[str] = collections.Counter()
        self.total: int | None = None
        self.done = 0
        self._finished = asyncio.Event()

    @abc.abstractmethod
    async def start(self, sink: IntakeSink) -> None:
        """Bind or open, then run in the background; raises if it cannot start."""

    async def wait(self) -> None:
        """Until a finite input is read through, or the intake is closed."""
        await self._finished.wait()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop reading and release sockets and files."""

    def describe(self) -> str:
        return self.name


def query_from_wire(wire: bytes, *, source: Source, client: str | None = None,
                    client_port: int | None = None, seen_at: float = 0.0,
                    tcp: bool = False) -> Query:
    """The :class:`Query` in a client packet; raises :class:`Malformed` if it is not one."""
    if len(wire) < _HEADER.size:
        raise Malformed("short")
    _, flags, qdcount, _, _, _ = _HEADER.unpack_from(wire)
    if flags & _QR:
        raise Malformed("response")
    if flags & _OPCODE:
        raise Malformed("opcode")
    if qdcount != 1:
        raise Malformed("qdcount")
    try:
        message = dns.message.from_wire(wire, ignore_trailing=True)
    except dns.message.UnknownTSIGKey:
        raise Malformed("tsig") from None
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError):
        raise Malformed("unparsable") from None
    question = message.question[0]
    return Query(
        qname=question.name.to_text(),
        qtype=int(question.rdtype),
        qclass=int(question.rdclass),
        rd=bool(message.flags & dns.flags.RD),
        cd=bool(message.flags & dns.flags.CD),
        do=bool(message.ednsflags & dns.flags.DO),
        ad=bool(message.flags & dns.flags.AD),
        edns_payload=message.payload if message.edns >= 0 else None,
        source=source,
        client=client,
        client_port=client_port,
        seen_at=seen_at,
        wire=bytes(wire),
        tcp=tcp,
    )


def split_ecs(wire: bytes) -> tuple[str | None, bytes]:
    """``(subnet address, wire without the EDNS Client Subnet option)``; ``(None, wire)``
    when the packet has no ECS option (or does not parse: the caller's parser will say so).
    ID, flags, question case and the other EDNS options are kept."""
    try:
        message = dns.message.from_wire(wire, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError):
        return None, wire
    ecs = [o for o in message.options if isinstance(o, dns.edns.ECSOption)]
    if not ecs:
        return None, wire
    message.use_edns(message.edns, message.ednsflags, message.payload,
                     options=[o for o in message.options
                              if not isinstance(o, dns.edns.ECSOption)])
    try:
        return str(ecs[0].address), message.to_wire()
    except (dns.exception.DNSException, ValueError):
        return None, wire


def staging_key(query: Query) -> StagingKey | None:
    """The key a staging answer to ``query`` would carry (None without the original packet)."""
    if query.wire is None or len(query.wire) < 2:
        return None
    (qid,) = struct.unpack_from("!H", query.wire)
    return (query.client, query.client_port, qid, query.qname.lower(), query.qtype)


def response_key(wire: bytes, client: str | None, client_port: int | None) -> StagingKey:
    """The key of a response sent to ``client``; raises :class:`Malformed`."""
    if len(wire) < _HEADER.size:
        raise Malformed("short")
    qid, flags, qdcount, _, _, _ = _HEADER.unpack_from(wire)
    if not flags & _QR:
        raise Malformed("not a response")
    if qdcount != 1:
        raise Malformed("qdcount")
    try:
        message = dns.message.from_wire(wire, question_only=True, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError):
        raise Malformed("unparsable") from None
    question = message.question[0]
    return (client, client_port, qid, question.name.to_text().lower(), int(question.rdtype))
