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

import dns.exception
import dns.message
import dns.name
import dns.rdatatype

from harness.records import ExchangeLog, UpstreamExchange
from resolver.conductor.transport import Transport, TransportError
from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

__all__ = ["CURRENT", "ExchangeLog", "RecordingExchanger", "RecordingTransport",
           "UpstreamExchange"]

MAX_WIRE = 65535

CURRENT: contextvars.ContextVar[ExchangeLog | None] = contextvars.ContextVar(
    "shadowdns_upstream_log", default=None)


RECENT_BYTES = 4 * 1024 * 1024
"""Wire bytes of recent exchanges (any query's) kept to find a divergence's context."""


class RecordingTransport:
    """A Transport that records into the current :class:`ExchangeLog` (if any), and keeps
    the most recent exchanges (``recent_bytes`` of them) for :meth:`context`."""

    def __init__(self, inner: Transport, recent_bytes: int = RECENT_BYTES) -> None:
        self.inner = inner
        self.recent: collections.deque[UpstreamExchange] = collections.deque()
        self.recent_bytes = 0
        self.recent_cap = recent_bytes

    def _keep(self, log: ExchangeLog, exchange: UpstreamExchange) -> None:
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
        own = {id(x) for x in log.exchanges}
        names = {_name(qname)} | {n for x in log.exchanges if (n := _qname(x)) is not None}
        found: dict[int, UpstreamExchange] = {}
        for _ in range(3):  # server names found in a pass are looked up in the next
            more: set[dns.name.Name] = set()
            for x in self.recent:
                if id(x) in own or id(x) in found:
                    continue
                asked = _qname(x)
                if asked is None or not any(n.is_subdomain(asked) for n in names):
                    continue
                found[id(x)] = x
                more |= _ns_names(x)
            if not more - names:
                break
            names |= more
        return sorted(found.values(), key=lambda x: x.at)

    async def query(self, address: str, message: dns.message.Message, *, tcp: bool,
                    timeout: float) -> dns.message.Message:
        log = CURRENT.get()
        if log is None:
            return await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        at = time.time()
        start = time.monotonic()
        proto = "tcp" if tcp else "udp"
        wire = message.to_wire(max_size=MAX_WIRE)
        try:
            response = await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        except TimeoutError:
            self._keep(log, UpstreamExchange(address, proto, wire, None, "timeout", at,
                                             time.monotonic() - start))
            raise
        except TransportError as e:
            self._keep(log, UpstreamExchange(address, proto, wire, None, f"error: {e}", at,
                                             time.monotonic() - start))
            raise
        answer = response.to_wire(max_size=MAX_WIRE)
        self._keep(log, UpstreamExchange(address, proto, wire, answer, "answer", at,
                                         time.monotonic() - start))
        return response


def _name(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text)
    except dns.exception.DNSException:
        return dns.name.root


def _qname(x: UpstreamExchange) -> dns.name.Name | None:
    try:
        return dns.message.from_wire(x.query).question[0].name
    except (dns.exception.DNSException, IndexError):
        return None


def _ns_names(x: UpstreamExchange) -> set[dns.name.Name]:
    if x.answer is None:
        return set()
    try:
        answer = dns.message.from_wire(x.answer)
    except dns.exception.DNSException:
        return set()
    return {rd.target for rrset in (*answer.answer, *answer.authority)
            if rrset.rdtype == dns.rdatatype.NS for rd in rrset}


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
                                                       list[UpstreamExchange]]] = (
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
        if sub.exchanges or sub.dropped:  # this caller sent them
            self._sent[id(result)] = (result, sub.exchanges)
            while len(self._sent) > self.KEEP:
                self._sent.popitem(last=False)
            exchanges = sub.exchanges
            outer.dropped += sub.dropped
        else:  # joined another caller's exchange (or nothing was sent)
            kept = self._sent.get(id(result))
            exchanges = kept[1] if kept is not None and kept[0] is result else []
        for x in exchanges:
            outer.add(x)
        return result
