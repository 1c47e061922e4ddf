"""Recording the in-process candidate's upstream exchanges at the transport seam.

The candidate's conductor talks to authoritative servers through a
:class:`~resolver.conductor.transport.Transport`; :class:`RecordingTransport` wraps it and,
while an :class:`ExchangeLog` is current (a :mod:`contextvars` variable the pipeline sets
around each sampled query, so the dispatcher's task and everything it awaits -- the first
ask and the judge's re-queries -- inherit it), appends one :class:`UpstreamExchange` per
query sent: server address, transport, query and answer wire, wall-clock time, seconds
taken, and the outcome (``answer``, ``timeout``, ``error: ...``).  A
:class:`RecordingExchanger` around the conductor copies an exchange that several queries
joined (the conductor sends it once) into each one's log.

A log is bounded: at most ``max_bytes`` of wire per query; what does not fit is counted in
:attr:`ExchangeLog.dropped` and never stored.  A query answered from the cache records
nothing: a divergence found on a warm cache may lack the delegations above the name
(:mod:`harness.scenario` warns).

The pipeline keeps the log with the observation and the store writes it only when the
verdict is real or undecided (see :data:`KEEP_KINDS`); from it ``shadowdns report
scenario`` writes a Deckard scenario (:mod:`harness.scenario`).
"""

from __future__ import annotations

import collections
import contextvars
import time
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rdatatype

from harness.records import ExchangeLog, Recorded, UpstreamExchange
from resolver.conductor.transport import Transport, TransportError
from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

__all__ = ["CURRENT", "ExchangeLog", "RecordingExchanger", "RecordingTransport",
           "UpstreamExchange"]

MAX_WIRE = 65535

CURRENT: contextvars.ContextVar[ExchangeLog | None] = contextvars.ContextVar(
    "shadowdns_upstream_log", default=None)


@dataclass(slots=True)
class SentExchange:
    """An exchange as the transport saw it: the messages themselves, made wire only when
    the observation is kept (:meth:`stored`), so an equal verdict costs no serialising.
    ``size`` estimates the wire (100 bytes a record), which is what the caps count."""

    server: str
    transport: str
    query: dns.message.Message
    answer: dns.message.Message | None
    outcome: str
    at: float
    elapsed: float
    size: int = 0

    def __post_init__(self) -> None:
        records = 0
        if self.answer is not None:
            records = sum(len(r) for r in (*self.answer.answer, *self.answer.authority,
                                           *self.answer.additional))
        self.size = 128 + 100 * records

    def stored(self) -> UpstreamExchange:
        return UpstreamExchange(
            self.server, self.transport, self.query.to_wire(max_size=MAX_WIRE),
            None if self.answer is None else self.answer.to_wire(max_size=MAX_WIRE),
            self.outcome, self.at, self.elapsed)


RECENT_BYTES = 4 * 1024 * 1024
"""Wire bytes of recent exchanges (any query's) kept to find a divergence's context."""


class RecordingTransport:
    """A Transport that records into the current :class:`ExchangeLog` (if any), and keeps
    the most recent exchanges (``recent_bytes`` of them) for :meth:`context`."""

    def __init__(self, inner: Transport, recent_bytes: int = RECENT_BYTES) -> None:
        self.inner = inner
        self.recent: collections.deque[SentExchange] = collections.deque()
        self.recent_bytes = 0
        self.recent_cap = recent_bytes

    def _keep(self, log: ExchangeLog, exchange: SentExchange) -> None:
        log.add(exchange)
        self.recent.append(exchange)
        self.recent_bytes += exchange.size
        while self.recent_bytes > self.recent_cap and self.recent:
            self.recent_bytes -= self.recent.popleft().size

    def context(self, log: ExchangeLog, qname: str) -> list[UpstreamExchange]:
        """Earlier exchanges (of other queries) a divergence's answer may rest on, through
        the candidate's cache: those that asked for an ancestor of (or the same name as)
        the client's name, a name the log asked, or a server name they delegate to --
        priming, referrals, DS and DNSKEY.  Oldest first, the log's own left out."""
        own = {id(x) for x in log.items}
        names = {_name(qname)} | {n for x in log.items if (n := _qname(x)) is not None}
        for x in log.items:  # server names and CNAME targets it found in the cache
            if isinstance(x, SentExchange):
                names |= _ns_names(x)
        found: dict[int, SentExchange] = {}
        for _ in range(3):  # server names found in a pass are looked up in the next
            more: set[dns.name.Name] = set()
            for x in self.recent:
                if id(x) in own or id(x) in found:
                    continue
                asked = _qname(x)
                if asked is None:
                    continue
                keys = {asked} | _cut(x)  # a referral counts for every name below its cut
                if not any(n.is_subdomain(k) for n in names for k in keys):
                    continue
                found[id(x)] = x
                more |= _ns_names(x)
            if not more - names:
                break
            names |= more
        return [x.stored() for x in sorted(found.values(), key=lambda x: x.at)]

    async def query(self, address: str, message: dns.message.Message, *, tcp: bool,
                    timeout: float) -> dns.message.Message:
        log = CURRENT.get()
        if log is None:
            return await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        at = time.time()
        start = time.monotonic()
        proto = "tcp" if tcp else "udp"
        try:
            response = await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        except TimeoutError:
            self._keep(log, SentExchange(address, proto, message, None, "timeout", at,
                                         time.monotonic() - start))
            raise
        except TransportError as e:
            self._keep(log, SentExchange(address, proto, message, None, f"error: {e}", at,
                                         time.monotonic() - start))
            raise
        self._keep(log, SentExchange(address, proto, message, response, "answer", at,
                                     time.monotonic() - start))
        return response


def _name(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text)
    except dns.exception.DNSException:
        return dns.name.root


def _qname(x: Recorded) -> dns.name.Name | None:
    try:
        query = x.query if isinstance(x, SentExchange) else dns.message.from_wire(
            x.stored().query)
        return query.question[0].name
    except (dns.exception.DNSException, IndexError):
        return None


def _ns_names(x: SentExchange) -> set[dns.name.Name]:
    """Server names (NS targets) and CNAME targets an answer names."""
    answer = x.answer
    if answer is None:
        return set()
    return {rd.target for rrset in (*answer.answer, *answer.authority)
            if rrset.rdtype in (dns.rdatatype.NS, dns.rdatatype.CNAME) for rd in rrset}


def _cut(x: SentExchange) -> set[dns.name.Name]:
    """The zone cut of a referral (empty for anything else)."""
    answer = x.answer
    if answer is None or answer.answer:
        return set()
    return {r.name for r in answer.authority if r.rdtype == dns.rdatatype.NS}


class RecordingExchanger:
    """Gives every caller of a deduplicated exchange its exchanges.

    The conductor sends a question once however many queries ask it at the same time; the
    transport then records only into the log of the query whose task sent it.  This
    wrapper (around the conductor) collects what one ``exchange`` sent and copies it into
    the log of each caller that joined it, so each query's log holds every exchange its
    answer depended on (apart from what it found in the cache).
    """

    KEEP = 4096  # results remembered for joiners (held strongly, so ids stay unique)

    def __init__(self, inner: Exchanger) -> None:
        self.inner = inner
        self._sent: collections.OrderedDict[int, tuple[UpstreamResult,
                                                       list[Recorded]]] = (
            collections.OrderedDict())

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        outer = CURRENT.get()
        if outer is None:
            return await self.inner.exchange(query)
        sub = ExchangeLog(max_bytes=outer.max_bytes)
        token = CURRENT.set(sub)
        try:
            result = await self.inner.exchange(query)
        finally:
            CURRENT.reset(token)
        if sub.items or sub.dropped:  # this caller sent them
            self._sent[id(result)] = (result, sub.items)
            while len(self._sent) > self.KEEP:
                self._sent.popitem(last=False)
            exchanges = sub.items
            outer.dropped += sub.dropped
        else:  # joined another caller's exchange (or nothing was sent)
            kept = self._sent.get(id(result))
            exchanges = kept[1] if kept is not None and kept[0] is result else []
        for x in exchanges:
            outer.add(x)
        return result
