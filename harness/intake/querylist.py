"""Query lists: ``name type`` per line, the format respdiff's users already have.

Blank lines and ``#`` comments are skipped; a line that is not a name and a known record type
(``example.com. AAAA``, ``example.com TYPE65``; a missing type means A) is counted as
``malformed`` with its line number logged at debug level.  Each line becomes a query with the
configured flags (RD, CD, DO, EDNS payload), built once as wire so the dispatcher forwards it
like a mirrored packet.  ``rate`` paces the list in queries per second; 0 sends as fast as the
pipeline takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from harness.config import QueryListConfig
from harness.intake.base import Intake, IntakeSink, Malformed
from harness.records import Query, Source

__all__ = ["QueryListIntake", "parse_line", "query_for"]

log = logging.getLogger("shadowdns.harness.intake")


def parse_line(line: str) -> tuple[str, int] | None:
    """``(name, qtype)`` from one line, ``None`` for a blank or comment line.

    Raises :class:`Malformed` for anything else.
    """
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    fields = text.split()
    if len(fields) > 2:
        raise Malformed("too many fields")
    try:
        name = dns.name.from_text(fields[0])
    except dns.exception.DNSException:
        raise Malformed("bad name") from None
    qtype = dns.rdatatype.A
    if len(fields) == 2:
        try:
            qtype = dns.rdatatype.from_text(fields[1])
        except dns.exception.DNSException:
            raise Malformed("bad type") from None
    if dns.rdatatype.is_metatype(qtype) and qtype != dns.rdatatype.ANY:
        raise Malformed("meta type")
    return name.to_text(), int(qtype)


def query_for(name: str, qtype: int, config: QueryListConfig, seen_at: float) -> Query:
    """The query a client would send for one list entry (wire included)."""
    message = dns.message.make_query(
        name, dns.rdatatype.RdataType.make(qtype), use_edns=config.edns_payload is not None,
        payload=config.edns_payload or 1232, want_dnssec=config.do and
        config.edns_payload is not None)
    message.flags = (dns.flags.RD if config.rd else 0) | (dns.flags.CD if config.cd else 0)
    return Query(qname=name, qtype=qtype, rd=config.rd, cd=config.cd,
                 do=config.do and config.edns_payload is not None,
                 edns_payload=config.edns_payload, source=Source.QUERY_LIST,
                 seen_at=seen_at, wire=message.to_wire())


class QueryListIntake(Intake):
    """Reads a query list file once (``repeat`` times), paced by ``rate``."""

    kind = "query_list"
    finite = True

    def __init__(self, config: QueryListConfig, name: str | None = None) -> None:
        super().__init__(name or f"query_list:{config.file}")
        self.config = config
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        pace = f"{self.config.rate:g} queries/s" if self.config.rate > 0 else "as fast as possible"
        return f"query list {self.config.file} ({pace})"

    def _entries(self) -> Iterator[tuple[int, str]]:
        with self.config.file.open(encoding="utf-8", errors="replace") as handle:
            yield from enumerate(handle, 1)

    async def start(self, sink: IntakeSink) -> None:
        try:
            lines = sum(1 for _ in self._entries())
        except OSError as e:
            raise OSError(f"{self.config.file}: cannot read the query list: {e.strerror}") from e
        self.total = lines * self.config.repeat
        self.unit = "lines"
        self._task = asyncio.create_task(self._run(sink), name=self.name)

    async def _run(self, sink: IntakeSink) -> None:
        interval = 1.0 / self.config.rate if self.config.rate > 0 else 0.0
        started = time.monotonic()
        sent = 0
        try:
            for _ in range(self.config.repeat):
                for number, line in self._entries():
                    self.done += 1
                    try:
                        entry = parse_line(line)
                    except Malformed as e:
                        self.stats["malformed"] += 1
                        log.debug("%s:%d: %s", self.config.file, number, e)
                        continue
                    if entry is None:
                        continue
                    if interval:
                        delay = started + sent * interval - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    else:
                        await sink.room()
                    self.stats["queries"] += 1
                    sink.offer(query_for(entry[0], entry[1], self.config, time.time()))
                    sent += 1
        except OSError as e:
            self.stats["read_errors"] += 1
            log.warning("%s: read error: %s", self.config.file, e)
        finally:
            self._finished.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._finished.set()

