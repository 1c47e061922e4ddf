"""The scenario's simulated authoritative servers, and a Transport made of them.

:class:`ScenarioNet` answers one upstream query (wire bytes, to an address, at the current
step) with Deckard's rules:

1. walk the RANGEs in file order and take the **first** one whose step interval holds the
   current step and whose addresses hold the destination (no fall-through);
2. in it, the **first** entry whose MATCH conditions all hold answers; none: SERVFAIL and
   an *undefined answer*, which fails the scenario when it ends;
3. (testbound) the next step that ends a pending query (REPLY, TIMEOUT, ERROR, with an id
   at or after the current step, not yet used): a ``TIMEOUT`` step leaves the query
   unanswered (the conductor sees a timeout), an ``ERROR`` step fails it as a network
   error (:class:`UpstreamError`); either moves the current step past itself, as
   testbound advances to the next moment; a REPLY step goes on to rule 3'.
3'. only when no range was eligible, a one-shot ``STEP m REPLY`` with m >= the current step
   that matches answers (and is used up); these ignore addresses;
4. otherwise an address that no range lists is an unknown server: no answer (a timeout),
   noted in the log; a listed one gets SERVFAIL and an undefined answer.

ADJUST ``copy_id`` copies the query ID and (Deckard dialect only, as CZ.NIC's Deckard does
for the 0x20 case; testbound's testpkts.c copies the ID alone, and here the query's
spelling of the same name) the query's name into the first question (the template's type
stays), ``copy_query`` copies the whole question, and either one rebuilds EDNS from the
query (present iff the query had it, its version and flags, payload 1232);
``raw_id`` patches a RAW reply's ID; ``do_not_answer`` sends nothing.  No truncation is
applied: TC appears only where an entry says so.

:class:`ScenarioTransport` puts this behind the conductor's Transport protocol, so the
candidate's real conductor (retries, TCP on TC, EDNS fallback) runs against it in-process:
no socket is opened and the scenarios' public addresses never leave the process.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from deckard.match import matches
from deckard.scenario import BACK_EVENTS, Entry, Scenario, Step, normalise_address
from resolver.conductor.transport import TransportError, parse_response

REPLY_PAYLOAD = 1232
"""UDP payload size in rebuilt EDNS (dnspython's default, which Deckard ends up with)."""

MAX_MESSAGE = 65535
"""Replies are never truncated to the query's payload size (Deckard does not either)."""


class UpstreamError(Exception):
    """The upstream query fails with a network error (testbound's ``STEP n ERROR``)."""


@dataclass(frozen=True)
class Exchange:
    """One upstream query as the fake network saw it, and what it did with it."""

    step: int
    address: str
    tcp: bool
    question: str
    outcome: str  # "entry at line N", "REPLY step N", "no answer ...", "undefined ..."

    def __str__(self) -> str:
        proto = "tcp" if self.tcp else "udp"
        return f"step {self.step}: {self.question} to {self.address}/{proto}: {self.outcome}"


@dataclass
class ScenarioNet:
    """The authoritative side of one scenario run (one variant): fresh state per run."""

    scenario: Scenario
    rng: random.Random = field(default_factory=random.Random)
    step: int = 0
    log: list[Exchange] = field(default_factory=list)
    undefined: list[Exchange] = field(default_factory=list)
    unknown: list[Exchange] = field(default_factory=list)
    used: set[int] = field(default_factory=set)  # lines of entries that answered
    sent: list[tuple[dns.message.Message, bool]] = field(default_factory=list)
    """Every upstream query (and whether over TCP), for testbound's CHECK_OUT_QUERY."""

    def __post_init__(self) -> None:
        self.replies: list[Step] = [
            s for s in self.scenario.steps if s.kind == "REPLY" and s.entry is not None
        ]
        self.ended: set[int] = set()  # ids of TIMEOUT / ERROR steps that ended a query
        self.known = self.scenario.addresses()
        self.any_address = any(not r.addresses for r in self.scenario.ranges)

    # -- the rules ------------------------------------------------------------------------

    def answer(self, address: str, wire: bytes, tcp: bool) -> bytes | None:
        """The reply to ``wire`` sent to ``address`` now, or None for no answer."""
        address = normalise_address(address)
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException as e:
            self._note(address, tcp, "?", f"no answer: query does not parse ({e})")
            return None
        question = _describe(query)
        self.sent.append((query, tcp))
        if self.scenario.dialect == "testbound":
            return self._testbound(address, query, tcp, question)
        rng = next((r for r in self.scenario.ranges if r.covers(self.step, address)), None)
        if rng is not None:
            entry = next((e for e in rng.entries if matches(e, query)), None)
            if entry is None:
                return self._undefined(address, tcp, question, query, f"range of line {rng.line}")
            return self._reply(entry, query, address, tcp, question, f"entry at line {entry.line}")
        for step in self.replies:
            assert step.entry is not None
            if step.id >= self.step and matches(step.entry, query):
                self.replies.remove(step)
                return self._reply(
                    step.entry, query, address, tcp, question, f"STEP {step.id} REPLY"
                )
        if address not in self.known and not self.any_address:
            ex = self._note(address, tcp, question, "no answer: no range serves this address")
            self.unknown.append(ex)
            return None
        return self._undefined(address, tcp, question, query, "no range for this step")

    def _testbound(
        self, address: str, query: dns.message.Message, tcp: bool, question: str
    ) -> bytes | None:
        """testbound's rules: the first range (by step and address) with an entry that
        matches answers (ranges fall through); then a one-shot REPLY step; otherwise the
        query stays unanswered (a timeout), which fails the run as an undefined answer."""
        for rng in self.scenario.ranges:
            if not rng.covers(self.step, address):
                continue
            entry = next((e for e in rng.entries if matches(e, query, tcp)), None)
            if entry is not None:
                source = f"entry at line {entry.line}"
                return self._reply(entry, query, address, tcp, question, source)
        event = self._back_event()
        if event is not None:
            self._end(event, address, tcp, question)  # raises for ERROR
            return None
        for step in self.replies:
            assert step.entry is not None
            if step.id >= self.step and matches(step.entry, query, tcp):
                self.replies.remove(step)
                source = f"STEP {step.id} REPLY"
                return self._reply(step.entry, query, address, tcp, question, source)
        later = self._pending_answer(address, query, tcp)
        if later is not None:
            step, entry = later
            self.step = step.id  # (testbound has moved on to that step meanwhile)
            source = f"entry at line {entry.line}, pending until STEP {step.id}"
            return self._reply(entry, query, address, tcp, question, source)
        ex = self._note(address, tcp, question, "undefined answer: nothing matches (no answer)")
        self.undefined.append(ex)
        return None

    def _pending_answer(
        self, address: str, query: dns.message.Message, tcp: bool
    ) -> tuple[Step, Entry] | None:
        """testbound leaves a query nothing answers pending and matches it again as the
        steps advance: the first later step (before the next CHECK_ANSWER, which needs the
        answer) whose ranges answer it, and the entry that does."""
        for step in self.scenario.steps:
            if step.id <= self.step:
                continue
            if step.kind == "CHECK_ANSWER":
                return None
            for rng in self.scenario.ranges:
                if not rng.covers(step.id, address):
                    continue
                entry = next((e for e in rng.entries if matches(e, query, tcp)), None)
                if entry is not None:
                    return step, entry
        return None

    def _back_event(self) -> Step | None:
        """The next TIMEOUT or ERROR step to end a query, unless a REPLY step comes first."""
        for step in self.scenario.steps:
            if step.id < self.step:
                continue
            if step.kind in BACK_EVENTS and step.id not in self.ended:
                return step
            if step in self.replies:
                return None
        return None

    def _end(self, event: Step, address: str, tcp: bool, question: str) -> None:
        """``event`` (TIMEOUT or ERROR) ends this query; the current step moves past it."""
        self.ended.add(event.id)
        steps = self.scenario.steps
        later = [s.id for s in steps[steps.index(event) + 1:]]
        self.step = later[0] if later else event.id
        if event.kind == "TIMEOUT":
            self._note(address, tcp, question, f"no answer: STEP {event.id} TIMEOUT")
            return
        self._note(address, tcp, question, f"network error: STEP {event.id} ERROR")
        raise UpstreamError(f"{address}: STEP {event.id} ERROR")

    def _note(self, address: str, tcp: bool, question: str, outcome: str) -> Exchange:
        ex = Exchange(self.step, address, tcp, question, outcome)
        self.log.append(ex)
        return ex

    def _undefined(
        self, address: str, tcp: bool, question: str, query: dns.message.Message, where: str
    ) -> bytes:
        ex = self._note(address, tcp, question, f"undefined answer ({where}): SERVFAIL")
        self.undefined.append(ex)
        reply = dns.message.make_response(query)
        reply.set_rcode(dns.rcode.SERVFAIL)
        return reply.to_wire(max_size=MAX_MESSAGE)

    def _reply(
        self,
        entry: Entry,
        query: dns.message.Message,
        address: str,
        tcp: bool,
        question: str,
        source: str,
    ) -> bytes | None:
        self.used.add(entry.line)
        if "do_not_answer" in entry.adjust:
            self._note(address, tcp, question, f"no answer: {source} says do_not_answer")
            return None
        self._note(address, tcp, question, source)
        return build_reply(entry, query, self.rng,
                           echo_case=self.scenario.dialect != "testbound")

    # -- after the run --------------------------------------------------------------------

    def unused_mandatory(self) -> list[Entry]:
        return [e for e in self.scenario.entries() if e.mandatory and e.line not in self.used]


def build_reply(entry: Entry, query: dns.message.Message, rng: random.Random, *,
                echo_case: bool = True) -> bytes:
    """The reply ``entry`` makes to ``query``: its template with ADJUST applied, as wire.

    ``echo_case`` off (testbound): ``copy_id`` copies the ID alone, as testpkts.c's
    adjust_packet does: the question stays as the entry spells it, so the query's name in
    another case is a server that does not echo the 0x20 case (only ``copy_query`` copies
    the question as asked), and a question naming another name stays a reply to another
    question (Unbound drops it, scrub.c).  On (Deckard): ``copy_id`` also writes the
    query's name into the first question, as CZ.NIC's Deckard does."""
    if entry.raw is not None:
        data = bytearray(entry.raw)
        patch = "raw_id" in entry.adjust or (entry.edns is not None and "copy_id" in entry.adjust)
        if patch and len(data) >= 2:
            data[0:2] = query.id.to_bytes(2, "big")
        return bytes(data)
    msg = entry.template(msg_id=rng.randrange(0, 65536))
    copy_id = "copy_id" in entry.adjust
    copy_query = "copy_query" in entry.adjust
    if copy_id:
        msg.id = query.id
        if msg.question and query.question and echo_case:
            first = msg.question[0]
            renamed = dns.rrset.RRset(query.question[0].name, first.rdclass, first.rdtype)
            msg.question[0] = renamed
    if copy_query:
        msg.question = [dns.rrset.RRset(q.name, q.rdclass, q.rdtype) for q in query.question]
    if (copy_id or copy_query) and entry.edns is None:  # Deckard's; testbound keeps EDNS
        options = list(msg.options)
        if query.edns >= 0:
            msg.use_edns(query.edns, query.ednsflags & 0xFFFF, REPLY_PAYLOAD, options=options)
        else:
            msg.use_edns(False)
        msg.set_rcode(dns.rcode.Rcode(entry.rcode))
    return msg.to_wire(max_size=MAX_MESSAGE)


def _describe(query: dns.message.Message) -> str:
    if not query.question:
        return "(no question)"
    q = query.question[0]
    # in lower case: the candidate randomises the case it sends (0x20), and ranges match
    # names case-insensitively, so the pattern would only make traces differ run to run
    return f"{q.name.canonicalize()} {dns.rdatatype.to_text(q.rdtype)}"


class ScenarioTransport:
    """The conductor's Transport over a :class:`ScenarioNet`: answers by address, in-process.

    A query the scenario leaves unanswered raises TimeoutError at once (the virtual clock
    does not move: only TIME_PASSES moves it); testbound's ERROR raises TransportError, as
    a connection error does on the network; a reply that does not parse raises
    TransportError, as the network transport does for a malformed answer.
    """

    def __init__(self, net: ScenarioNet) -> None:
        self.net = net
        self.queries = 0

    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        self.queries += 1
        try:
            wire = self.net.answer(address, message.to_wire(max_size=MAX_MESSAGE), tcp)
        except UpstreamError as e:
            await asyncio.sleep(0)
            raise TransportError(str(e)) from e
        await asyncio.sleep(0)  # let other tasks run, as a real exchange would
        if wire is None:
            raise TimeoutError(f"{address}: no answer")
        try:
            return parse_response(wire)
        except dns.exception.DNSException as e:
            raise TransportError(f"{address}: malformed response: {e}") from e

