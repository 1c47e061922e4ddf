"""The conductor: implements the recursor's Exchanger over a Transport.

For each upstream question it: joins an identical question already in flight (one shared
task, so N clients asking for one uncached name cause one upstream query per step);
orders the zone's servers by smoothed RTT with exploration (:mod:`.selection`); sends with
the server's retransmission timeout, backing off each round across the set; accepts an
answer only if its ID and question match; retries over TCP on TC; falls back to plain DNS
for servers that answer FORMERR or NOTIMP to EDNS; randomises the case of the name it sends (0x20,
draft-vixie-dnsext-dns0x20, RFC 5452 §9.1) and accepts only an answer whose question has
exactly that case; and moves to the next server on REFUSED,
SERVFAIL, NOTIMP, timeouts and network errors (a server that refused is not asked again
in the same exchange).  Per-upstream metrics are kept.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from resolver.cache.infra import InfraCache
from resolver.clock import Clock, SystemClock
from resolver.conductor import caps as caps_fallback
from resolver.conductor.selection import order_servers
from resolver.conductor.transport import (
    CaseRestoring,
    MalformedResponse,
    Transport,
    TransportError,
)
from resolver.recursor.exchanger import Failure, UpstreamQuery, UpstreamResult

EDNS_PAYLOAD = 1232
"""The UDP payload size advertised upstream by default (DNS Flag Day 2020; Unbound's
edns-buffer-size default)."""
MAX_ATTEMPTS = 6  # sends per exchange, across the server set
MAX_TIMEOUT = 3.0  # seconds, after backoff
MIN_TIMEOUT = 0.05
MAX_MINIMISED_TIMEOUTS = 3
"""Sends of a QNAME-minimised probe that may time out before the exchange gives up on it
(Unbound's ``MAX_MINIMISE_TIMEOUT_COUNT``; then the recursor asks the full name)."""

DEFINITIVE_FAILURES = frozenset({Failure.REFUSED, Failure.NOTIMP, Failure.FORMERR})
"""Answers that will not change on a retry within one exchange (unlike SERVFAIL, timeouts)."""

EDNS_REFUSALS = frozenset({dns.rcode.FORMERR, dns.rcode.NOTIMP})
"""Answers to an EDNS query that make the conductor ask again without EDNS."""
EDNS_FALLBACK_WORKED = frozenset({dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.YXDOMAIN})
"""Answers without EDNS after which the server is remembered as EDNS-intolerant (Unbound
stores it only when the fallback "produced a result that looks promising")."""

RCODE_FAILURES = {
    dns.rcode.REFUSED: Failure.REFUSED,
    dns.rcode.SERVFAIL: Failure.SERVFAIL,
    dns.rcode.NOTIMP: Failure.NOTIMP,
    dns.rcode.FORMERR: Failure.FORMERR,
}


@dataclass
class UpstreamMetrics:
    """Per-server counters: queries, answers, failures by kind, TCP use, EDNS fallbacks."""

    queries: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    tcp: Counter[str] = field(default_factory=Counter)
    errors: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    deduplicated: int = 0
    caps_mismatches: Counter[str] = field(default_factory=Counter)
    """Answers rejected because their question was not in the case we sent (0x20)."""

    def error(self, addr: str, failure: Failure) -> None:
        self.errors[addr][failure.value] += 1

    def as_dict(self) -> dict[str, dict[str, object]]:
        servers = set(self.queries) | set(self.errors)
        return {
            a: {
                "queries": self.queries[a],
                "answers": self.answers[a],
                "tcp": self.tcp[a],
                "errors": dict(self.errors[a]),
            }
            for a in sorted(servers)
        }


@dataclass
class _Shared:
    """One upstream question in flight and how many askers still wait for it."""

    task: asyncio.Task[UpstreamResult]
    waiters: int = 0


class Conductor:
    def __init__(
        self,
        transport: Transport,
        infra: InfraCache | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        *,
        use_0x20: bool = True,
        tcp_upstream: bool = False,
        prefer_family: int | None = None,
        caps_exempt: tuple[dns.name.Name, ...] = (),
        edns_payload: int = EDNS_PAYLOAD,
    ) -> None:
        self.transport = transport
        self.infra = infra if infra is not None else InfraCache(10_000)
        self.clock = clock if clock is not None else SystemClock()
        if rng is None:
            # Query IDs and 0x20 bits must be unpredictable (RFC 5452 §9.2): the operating
            # system's generator, not a Mersenne Twister whose state 624 observed IDs give
            # away to an authority an attacker runs.
            self.rng: random.Random = random.SystemRandom()
            self.case_rng: random.Random = random.SystemRandom()
        else:
            # A seeded conductor (tests) stays reproducible.  The 0x20 bits come from their
            # own generator, so that randomising the case does not shift the draws for IDs
            # and server choice; seeded from ``rng``'s state without drawing from it.
            self.rng = rng
            self.case_rng = random.Random(hash(rng.getstate()[1]))  # ints: same every run
        self.use_0x20 = use_0x20
        # every upstream query over TCP (Unbound's tcp-upstream; a TC answer is then final)
        self.tcp_upstream = tcp_upstream
        # servers of this address family first (Unbound's prefer-ip4 / prefer-ip6)
        self.prefer_family = prefer_family
        self.caps_exempt = caps_exempt  # names at or below these: no 0x20 (caps-exempt)
        self.edns_payload = edns_payload  # advertised UDP size (Unbound's edns-buffer-size)
        self.metrics = UpstreamMetrics()
        self._inflight: dict[tuple[object, ...], _Shared] = {}

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        key = (
            query.qname.canonicalize(),
            query.qtype,
            query.zone.canonicalize(),
            frozenset(query.servers),
            query.dnssec,
            query.cd,
            query.rd,
            query.minimised,
        )
        shared = self._inflight.get(key)
        if shared is None:
            shared = _Shared(asyncio.get_running_loop().create_task(self._exchange(query)))
            self._inflight[key] = shared
            shared.task.add_done_callback(lambda t: self._finished(key, shared))
        else:
            self.metrics.deduplicated += 1
        shared.waiters += 1
        try:
            # Each asker waits under its own deadline: one asker's cancellation (its
            # deadline passed) must neither cancel the question for the others nor reach
            # them as a CancelledError they did not ask for.
            return await asyncio.shield(shared.task)
        finally:
            shared.waiters -= 1
            if shared.waiters == 0 and not shared.task.done():
                # nobody wants the answer any more: stop asking upstream
                self._finished(key, shared)
                shared.task.cancel()

    def _finished(self, key: tuple[object, ...], shared: _Shared) -> None:
        if self._inflight.get(key) is shared:
            del self._inflight[key]
        if shared.task.done() and not shared.task.cancelled():
            shared.task.exception()  # retrieved: no "never retrieved" warning

    async def _exchange(self, query: UpstreamQuery) -> UpstreamResult:
        result = UpstreamResult(None)
        order = order_servers(query.servers, self.infra, self.clock.monotonic(), self.rng,
                              self.prefer_family)
        if not order:
            result.failure = Failure.NO_SERVERS
            return result
        refused: set[str] = set()  # servers that said no: asking them again will not help
        for attempt in range(MAX_ATTEMPTS):
            addr = order[attempt % len(order)]
            if addr in refused:
                continue
            backoff = 2 ** (attempt // len(order))
            timeout = min(MAX_TIMEOUT, max(MIN_TIMEOUT, self.infra.rto(addr) * backoff))
            response, failure = await self._try(addr, query, timeout)
            result.attempts += 1
            if failure is Failure.CASE_MISMATCH and response is not None:
                response, failure, addr = await self._caps_fallback(query, order, addr,
                                                                    response, result)
            if response is not None:
                result.response = response
                result.server = addr
                return result
            assert failure is not None
            result.failures.append((addr, failure))
            result.failure = failure
            if failure is Failure.CAPS_FALLBACK:
                break  # Unbound: "0x20 failed, then got different replies in fallback"
            if query.minimised and (
                failure in RCODE_FAILURES.values() or result.attempts >= MAX_MINIMISED_TIMEOUTS
            ):
                # Unbound's relaxed QNAME minimisation (iterator.c, processQueryResponse):
                # an error rcode to a minimised query is thrown away and minimisation stops
                # at once; timeouts are retried up to MAX_MINIMISE_TIMEOUT_COUNT times.  The
                # recursor then asks the full name, so do not spend the retries here.
                break
            if failure in DEFINITIVE_FAILURES:
                refused.add(addr)
        return result

    async def _caps_fallback(
        self, query: UpstreamQuery, order: list[str], first: str,
        reference: dns.message.Message, result: UpstreamResult,
    ) -> tuple[dns.message.Message | None, Failure | None, str]:
        """Unbound's 0x20 fallback (:mod:`.caps`): ``reference``, the answer of ``first``
        that did not echo the case, is taken once the servers asked again without 0x20
        agree with it; an answer that differs fails the exchange."""
        reference = caps_fallback.strip(reference)
        server, agreeing = first, 1
        start = order.index(first)
        for sent in range(caps_fallback.MAX_FALLBACK_SENDS):
            if agreeing >= caps_fallback.CAPS_AGREEING * len(order):
                break
            addr = order[(start + sent) % len(order)]
            timeout = min(MAX_TIMEOUT, max(MIN_TIMEOUT, self.infra.rto(addr)))
            response, failure = await self._try(addr, query, timeout, caps_allowed=False)
            result.attempts += 1
            if response is None:
                assert failure is not None
                result.failures.append((addr, failure))
                agreeing += failure in RCODE_FAILURES.values()  # a failed rcode: no vote
                continue
            response = caps_fallback.strip(response)
            if caps_fallback.failed(reference) and not caps_fallback.failed(response):
                reference, server = response, addr  # a real answer over a failed one
            elif not caps_fallback.same_reply(reference, response):
                self.metrics.error(addr, Failure.CAPS_FALLBACK)
                return None, Failure.CAPS_FALLBACK, addr
            agreeing += 1
        kind = RCODE_FAILURES.get(reference.rcode())
        if kind is not None or reference.flags & dns.flags.TC:
            return None, kind or Failure.TRUNCATED, server
        return reference, None, server

    def _message(self, query: UpstreamQuery, edns: bool, caps: bool) -> dns.message.Message:
        """The upstream query: a fresh random ID and, with ``caps``, the name in a random case
        (otherwise plain lower case)."""
        qname = query.qname.canonicalize()
        if caps:
            qname = random_case(qname, self.case_rng)
        msg = dns.message.make_query(
            qname,
            dns.rdatatype.RdataType(query.qtype),
            use_edns=0 if edns else False,
            payload=self.edns_payload,
            want_dnssec=query.dnssec and edns,
            id=self.rng.randrange(0, 65536),
        )
        msg.flags = dns.flags.RD if query.rd else 0  # iterative: no RD (unless forwarding)
        if query.cd:
            msg.flags |= dns.flags.CD
        return msg

    async def _send(
        self, addr: str, msg: dns.message.Message, tcp: bool, timeout: float,
        wanted: dns.name.Name, caps: bool = False,
    ) -> tuple[dns.message.Message | None, Failure | None]:
        """One message to ``addr``; the answer comes back with the question name spelled as
        ``wanted`` (the 0x20 pattern undone), or a failure.  With ``caps`` (the name went
        in a random case) an answer whose question is in another case comes back too, with
        CASE_MISMATCH; without, the case is not checked (Unbound checks it only for 0x20
        queries)."""
        self.metrics.queries[addr] += 1
        if tcp:
            self.metrics.tcp[addr] += 1
        start = self.clock.monotonic()
        try:
            if isinstance(self.transport, CaseRestoring):
                response, same_case = await self.transport.query_restoring(
                    addr, msg, wanted, tcp=tcp, timeout=timeout)
            else:
                response = await self.transport.query(addr, msg, tcp=tcp, timeout=timeout)
                same_case = bool(response.question) and _same_case(msg, response)
                if same_case:
                    response = _restore_case(response, msg.question[0].name, wanted)
        except TimeoutError:
            self.infra.timeout(addr, self.clock.monotonic())
            self.metrics.error(addr, Failure.TIMEOUT)
            return None, Failure.TIMEOUT
        except MalformedResponse:
            self.infra.timeout(addr, self.clock.monotonic())
            self.metrics.error(addr, Failure.MALFORMED)
            return None, Failure.MALFORMED
        except TransportError:
            self.infra.timeout(addr, self.clock.monotonic())
            self.metrics.error(addr, Failure.NETWORK)
            return None, Failure.NETWORK
        if not _matches(msg, response):
            self.metrics.error(addr, Failure.MISMATCH)
            return None, Failure.MISMATCH
        if response.question and not same_case and caps:
            self.metrics.error(addr, Failure.CASE_MISMATCH)
            self.metrics.caps_mismatches[addr] += 1
            return response, Failure.CASE_MISMATCH
        now = self.clock.monotonic()
        self.infra.rtt_update(addr, max(0.0, now - start), now)
        return response, None

    async def _try(
        self, addr: str, query: UpstreamQuery, timeout: float, caps_allowed: bool = True,
    ) -> tuple[dns.message.Message | None, Failure | None]:
        """One server's answer (EDNS and TCP fallbacks done), or why there is none.  An
        answer that did not echo the 0x20 case comes back with CASE_MISMATCH: the caller
        starts the fallback (:meth:`_caps_fallback`)."""
        now = self.clock.monotonic()
        edns = self.infra.edns_ok(addr, now)
        caps = (self.use_0x20 and caps_allowed and self.infra.caps_ok(addr, now)
                and not caps_fallback.exempt(query.qname, self.caps_exempt))
        msg = self._message(query, edns, caps)
        tcp = self.tcp_upstream or query.tcp
        if tcp:
            timeout = max(timeout, 1.0)
        response, failure = await self._send(addr, msg, tcp, timeout, query.qname, caps)
        # The EDNS and TCP fallbacks come before the 0x20 verdict, which is the final
        # answer's (Unbound's serviced query does both before its callbacks check the case).
        if response is not None and response.rcode() in EDNS_REFUSALS and edns \
                and failure in (None, Failure.CASE_MISMATCH):
            # An EDNS-intolerant server (RFC 6891 §7: it answers FORMERR to a query with
            # an OPT record; Unbound's serviced_udp_callback falls back on NOTIMP too): ask
            # again without OPT, and remember when that gives a real answer.
            msg = self._message(query, False, caps)
            response, failure = await self._send(addr, msg, tcp, timeout, query.qname, caps)
            if response is not None and response.rcode() in EDNS_FALLBACK_WORKED:
                self.infra.set_edns(addr, False, self.clock.monotonic())
        if response is not None and failure in (None, Failure.CASE_MISMATCH) \
                and response.flags & dns.flags.TC and not tcp:
            response, failure = await self._send(addr, msg, True, max(timeout, 1.0),
                                                 query.qname, caps)
        if failure is Failure.CASE_MISMATCH:
            # A server that does not echo the question's case (or a forgery that guessed ID
            # and port but not the case): Unbound's fallback follows; this server is sent
            # plain lower case for a while from now on (as EDNS fallback; kresd's NO_0X20)
            self.infra.set_no_caps(addr, self.clock.monotonic())
            return response, failure
        if response is None:
            return None, failure
        if response.flags & dns.flags.TC:
            self.metrics.error(addr, Failure.TRUNCATED)
            return None, Failure.TRUNCATED
        kind = RCODE_FAILURES.get(response.rcode())
        if kind is not None:
            self.metrics.error(addr, kind)
            return None, kind
        self.metrics.answers[addr] += 1
        return response, None


def random_case(name: dns.name.Name, rng: random.Random) -> dns.name.Name:
    """``name`` with each ASCII letter upper- or lower-cased at random (one bit per letter)."""
    labels = []
    for label in name.labels:
        bits = rng.getrandbits(len(label)) if label else 0
        out = bytearray(label)
        for i, c in enumerate(out):
            if 0x61 <= c <= 0x7A and bits >> i & 1:
                out[i] = c - 0x20
        labels.append(bytes(out))
    return dns.name.Name(labels)


def _same_case(query: dns.message.Message, response: dns.message.Message) -> bool:
    """Whether the answer's question name is byte for byte the one sent (0x20)."""
    return bool(query.question[0].name.labels == response.question[0].name.labels)


def _restore_case(response: dns.message.Message, sent: dns.name.Name,
                  wanted: dns.name.Name) -> dns.message.Message:
    """``response`` with the name sent (in its random case) back in the case the recursor
    asked, so the 0x20 pattern never reaches the cache or a client.

    Servers compress the names of their answer against the question, so the pattern spreads
    to every name sharing a suffix with it (owners and names in RDATA).  Rendered again, the
    message's question is the first name at offset 12 and every such suffix points to it:
    patching those bytes and parsing again restores them all at once.
    """
    if sent.labels == wanted.labels:
        return response
    try:
        # as received: no shuffling of the records (dnspython's default when rendering)
        wire = response.to_wire(max_size=65535, want_shuffle=False)
        old, new = sent.to_wire() or b"", wanted.to_wire() or b""
        if wire[12:12 + len(old)] != old or len(old) != len(new):
            return response
        return dns.message.from_wire(wire[:12] + new + wire[12 + len(old):])
    except dns.exception.DNSException:
        return response


def _matches(query: dns.message.Message, response: dns.message.Message) -> bool:
    """ID, QR, the opcode and the question (name case-insensitively, type, class) must all
    match (RFC 5452 §4.3; RFC 1035 §4.1.1: a response copies the query's opcode -- an UPDATE
    "response" would otherwise be read with its prerequisites as answers)."""
    if response.id != query.id or not response.flags & dns.flags.QR:
        return False
    if response.opcode() != query.opcode():
        return False
    if response.rcode() == dns.rcode.FORMERR and not response.question:
        return True  # FORMERR replies may omit the question
    if len(response.question) != 1:
        return False
    q, r = query.question[0], response.question[0]
    return bool(q.name == r.name and q.rdtype == r.rdtype and q.rdclass == r.rdclass)
