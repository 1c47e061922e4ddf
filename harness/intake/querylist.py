"""Query lists: ``name type`` per line, the format respdiff's users already have.

Blank lines and ``#`` comments are skipped; a line that is not UTF-8 text, a name and a known
record type (``example.com. AAAA``, ``example.com TYPE65``; a missing type means A) is
counted as ``malformed`` and skipped.  Before the run starts the file is read once: the first
malformed lines are named (``FILE:LINE: why``) in a warning, and a file with more malformed
lines than usable ones is an error (it is not a query list).  Each line becomes a query with the
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

__all__ = ["QueryListIntake", "parse_line", "parse_raw", "query_for"]

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
        raise Malformed(f"too many fields in {text[:60]!r} (expected 'name type')")
    try:
        name = dns.name.from_text(fields[0])
    except dns.exception.DNSException:
        raise Malformed(f"{fields[0][:60]!r} is not a domain name") from None
    qtype = dns.rdatatype.A
    if len(fields) == 2:
        try:
            qtype = dns.rdatatype.from_text(fields[1])
        except dns.exception.DNSException:
            raise Malformed(f"{fields[1][:20]!r} is not a record type") from None
    if dns.rdatatype.is_metatype(qtype) and qtype != dns.rdatatype.ANY:
        raise Malformed(f"{fields[1]} is a meta type")
    return name.to_text(), int(qtype)


def parse_raw(raw: bytes) -> tuple[str, int] | None:
    """:func:`parse_line` for one line as read from the file (bytes)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Malformed(f"not UTF-8 text ({e.reason} at column {e.start + 1})") from None
    control = next((i for i, c in enumerate(line.rstrip("\r\n")) if c < " " and c != "\t"), None)
    if control is not None:
        raise Malformed(f"not a text line (control character at column {control + 1})")
    return parse_line(line)


SHOWN_MALFORMED = 3
"""Malformed lines named in the start-up warning; the rest are counted."""


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

    def _entries(self) -> Iterator[tuple[int, bytes]]:
        with self.config.file.open("rb") as handle:
            yield from enumerate(handle, 1)

    def check(self) -> None:
        """Read the list once: an error if most lines are malformed, a warning naming the
        first malformed lines (``FILE:LINE: why``) and counting the others."""
        file = self.config.file
        usable = 0
        bad: list[str] = []
        malformed = 0
        try:
            for number, raw in self._entries():
                try:
                    usable += parse_raw(raw) is not None
                except Malformed as e:
                    malformed += 1
                    if len(bad) < SHOWN_MALFORMED:
                        bad.append(f"{file}:{number}: {e}")
        except OSError as e:
            raise ValueError(f"{file}: cannot read: {e.strerror}") from None
        more = f"; and {malformed - len(bad)} more" if malformed > len(bad) else ""
        if not usable and not malformed:
            raise ValueError(f"{file}: no query in the list ('name type' per line)")
        if malformed > usable:  # not a query list (a binary file, the wrong file)
            raise ValueError(f"{file}: not a query list: {malformed} of {malformed + usable} "
                             f"lines malformed ({'; '.join(bad)}{more})")
        if malformed:
            log.warning("%s: %d malformed line%s skipped: %s%s", file, malformed,
                        "" if malformed == 1 else "s", "; ".join(bad), more)

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
                        entry = parse_raw(line)
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

