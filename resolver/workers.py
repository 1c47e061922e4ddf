"""Workers: take frames from the queue, turn each into at most one reply, send it back.

:class:`Workers` runs ``n`` asyncio tasks over one :class:`~resolver.frames.FrameQueue`.
For each :class:`~resolver.frames.Inbound` a task calls :meth:`Workers.handle` (bytes in,
bytes or ``None`` out, never raises) and then ``inbound.reply(result)``.

What :meth:`Workers.handle` does with a frame, in order:

=========================================  =============================================
input                                      outcome (``stats`` key)
=========================================  =============================================
shorter than a 12-byte header              dropped (``dropped_short``)
QR=1 (a response)                          dropped (``dropped_response``)
waited in the queue past the deadline      dropped (``dropped_stale``)
opcode other than QUERY                    NOTIMP, header only (``notimp``)
QDCOUNT other than 1                       FORMERR, header only (``formerr``)
does not parse (junk, trailing bytes, ..)  FORMERR, header only (``formerr``)
TSIG-signed (we hold no keys)              NOTAUTH, header only (``notauth``)
EDNS version above 0                       BADVERS, with OPT version 0 (``badvers``)
class not IN (CH, HS, ANY, ...)            REFUSED (``refused``)
qtype OPT, TSIG or TKEY                    FORMERR (``formerr``)
qtype AXFR or IXFR                         REFUSED (``refused``)
qtype MAILA or MAILB                       NOTIMP (``notimp``)
otherwise                                  plugins and the answerer (``answered``)
a name of a deny local zone                dropped (``dropped_local``, resolver.localzone)
=========================================  =============================================

An answered query goes ``plugins.pre_cache`` → ``answerer.answer`` (skipped when
``pre_cache`` short-circuits, ``short_circuit``; ``post_cache`` and ``pre_upstream`` placed
inside it by the gate of :mod:`resolver.plugins`, and their answers are short circuits
too) → ``plugins.post_resolve``, all under one
deadline (:data:`QUERY_DEADLINE`, counted from when the frame was received).  An answerer
exception gives SERVFAIL (``servfail_answerer``), and so does the deadline
(``servfail_deadline``).  The reply is then fixed up for the client: its ID, the question
exactly as the client sent it (0x20 case kept), QR and RA set, RD and CD copied, AD kept
only if the client asked with DO or AD, EDNS only if the client used EDNS (version 0,
our payload size, DO echoed).

Two more keys count what should never happen: ``internal_errors`` (a bug in this module;
the client gets a header-only SERVFAIL) and ``reply_errors`` (the listener's reply callable
raised).

Rendering: over UDP the limit is the client's EDNS payload size clamped to
[512, :data:`OUR_UDP_PAYLOAD`], or 512 without EDNS; a larger reply keeps the whole RRsets
(with their signatures) that fit and is TC=1 when the answer or authority section lost one
(``truncated``), an additional section being shortened without TC (RFC 2181 §9;
:mod:`resolver.msgfit`).  Over TCP the limit is 65535; beyond it, SERVFAIL
(``servfail_render``, also used when the answerer's message cannot be rendered).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import struct
from typing import Protocol

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from resolver.cache.reply import UNSTORED_KEY, FastCache
from resolver.clock import Clock, SystemClock
from resolver.frames import FrameQueue, Inbound
from resolver.localzone import NoReply
from resolver.model import Frame, Request
from resolver.msgfit import fit
from resolver.plugins import GATE_KEY, PluginAnswer, PluginChain, UpstreamGate, servfail_for

__all__ = [
    "DEFAULT_WORKERS",
    "MAX_TCP_MESSAGE",
    "MIN_UDP_PAYLOAD",
    "OUR_UDP_PAYLOAD",
    "QUERY_DEADLINE",
    "Answerer",
    "Workers",
    "udp_limit",
]

log = logging.getLogger("shadowdns.resolver.workers")

DEFAULT_WORKERS = 64
"""Worker tasks; each works on one query at a time, so this is the query concurrency."""

QUERY_DEADLINE = 10.0
"""Seconds from receipt within which a query is answered (SERVFAIL when it runs out)."""

OUR_UDP_PAYLOAD = 1232
"""The EDNS UDP payload size we advertise and the most we send over UDP (DNS flag day 2020)."""

MIN_UDP_PAYLOAD = 512
"""What every client can take over UDP (RFC 1035), and the limit without EDNS."""

MAX_TCP_MESSAGE = 65535
"""The largest message a 2-byte TCP length prefix can carry."""

_HEADER = struct.Struct("!HHHHHH")
_HEADER_LEN = _HEADER.size
_QR = int(dns.flags.QR)
_OPCODE_MASK = 0x7800
_RD = int(dns.flags.RD)
_CD = int(dns.flags.CD)
_RA = int(dns.flags.RA)
_AA = int(dns.flags.AA)
_AD = int(dns.flags.AD)
_DO = int(dns.flags.DO)
_QUERY = int(dns.opcode.QUERY)

_FORMERR_TYPES = frozenset({dns.rdatatype.OPT, dns.rdatatype.TSIG, dns.rdatatype.TKEY})
_REFUSED_TYPES = frozenset({dns.rdatatype.AXFR, dns.rdatatype.IXFR})
_NOTIMP_TYPES = frozenset({dns.rdatatype.MAILA, dns.rdatatype.MAILB})


class Answerer(Protocol):
    """What answers a well-formed question: the cache in front of the recursor.

    The returned message is read, not changed: the worker copies its sections into a fresh
    reply, so a cached message may be returned as is.
    """

    async def answer(self, request: Request,
                     query: dns.message.Message) -> dns.message.Message: ...


def _min_ttl(message: dns.message.Message) -> float | None:
    """The smallest TTL in a message's sections (OPT is not among them); None if empty."""
    ttls = [rrset.ttl for section in (message.answer, message.authority, message.additional)
            for rrset in section]
    return float(min(ttls)) if ttls else None


def udp_limit(query: dns.message.Message, cap: int = OUR_UDP_PAYLOAD) -> int:
    """The largest UDP reply ``query``'s sender takes from us: its EDNS payload size clamped
    to [512, ``cap``] (RFC 6891 §6.2.3 and §6.2.5), 512 without EDNS."""
    if query.edns < 0:
        return MIN_UDP_PAYLOAD
    return max(MIN_UDP_PAYLOAD, min(query.payload, cap))


def _header_reply(qid: int, flags: int, rcode: dns.rcode.Rcode) -> bytes:
    """A reply that is only a header: for queries too broken to echo their question."""
    out = _QR | _RA | (flags & (_OPCODE_MASK | _RD | _CD)) | int(rcode)
    return _HEADER.pack(qid, out, 0, 0, 0, 0)


class Workers:
    """``n`` tasks answering frames from ``queue`` with ``answerer`` and ``plugins``.

    :param queue: where the listeners put frames.
    :param answerer: answers well-formed questions (see :class:`Answerer`).
    :param plugins: the hook chain (replaceable at run time: :attr:`plugins`).
    :param n: how many tasks, i.e. how many queries are worked on at once.
    :param deadline: seconds from a frame's receipt until it gets SERVFAIL.
    :param clock: the clock the listeners stamp frames with.

    ``start()`` creates the tasks (inside a running loop); ``await stop()`` cancels them.
    ``stats`` counts outcomes by the keys listed in the module docstring.
    """

    def __init__(self, queue: FrameQueue, answerer: Answerer,
                 plugins: PluginChain | None = None, *, n: int = DEFAULT_WORKERS,
                 deadline: float = QUERY_DEADLINE, clock: Clock | None = None,
                 fastcache: FastCache | None = None) -> None:
        if n < 1:
            raise ValueError("need at least one worker")
        if deadline <= 0:
            raise ValueError("the deadline must be positive")
        self.queue = queue
        self.answerer = answerer
        self.n = n
        self.deadline = deadline
        self.stats: collections.Counter[str] = collections.Counter()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tasks: list[asyncio.Task[None]] = []
        # Replies rendered here feed the bytes fast path, unless plugins must see every reply.
        self.fastcache = fastcache
        self.plugins = plugins if plugins is not None else PluginChain()

    @property
    def plugins(self) -> PluginChain:
        """The chain new queries use.  Setting it swaps the chain: a query reads it once
        when its work starts and keeps that chain to the end, so in-flight queries finish
        on the old plugins and new ones use the new.  While a plugin of the new chain
        sees cache hits the fast path is paused and emptied.  Otherwise what it holds stays:
        it stores only replies no plugin made, and a cache hit reaches no plugin of such a
        chain on either path, so a swap between such chains changes no reply it would serve
        (emptying it sent every repeat to the workers after each swap: under a steady
        2,000 qps of hits that was most of the load)."""
        return self._plugins

    @plugins.setter
    def plugins(self, chain: PluginChain) -> None:
        self._plugins = chain
        if self.fastcache is not None:
            self.fastcache.paused = chain.sees_cache_hits
            if chain.sees_cache_hits:
                self.fastcache.clear()  # (and nothing stored until the pause ends)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        """Start the worker tasks on the running loop."""
        if self._tasks:
            raise RuntimeError("workers already started")
        self._tasks = [asyncio.create_task(self._run(), name=f"resolver-worker-{i}")
                       for i in range(self.n)]

    async def stop(self) -> None:
        """Cancel the worker tasks and wait for them; frames still queued stay unanswered."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Workers:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            item = await self.queue.get()
            await self._serve(item)

    async def _serve(self, item: Inbound) -> None:
        wire: bytes | None = None
        try:
            wire = await self.handle(item.frame)
        finally:  # even when cancelled: the listener counts replies owed per connection
            try:
                item.reply(wire)
            except Exception:
                self.stats["reply_errors"] += 1
                log.warning("sending a reply to %s failed", item.frame.client, exc_info=True)

    # -- one frame -----------------------------------------------------------------------

    async def handle(self, frame: Frame) -> bytes | None:
        """The reply to ``frame`` as wire bytes, or ``None`` to send nothing.  Never raises
        (other than :class:`asyncio.CancelledError` when the task itself is cancelled)."""
        wire = frame.wire
        if len(wire) < _HEADER_LEN:
            self.stats["dropped_short"] += 1
            return None
        qid, flags, qdcount, _, _, _ = _HEADER.unpack_from(wire)
        if flags & _QR:
            self.stats["dropped_response"] += 1
            return None
        budget = self.deadline - (self._clock.monotonic() - frame.received)
        if budget <= 0:
            self.stats["dropped_stale"] += 1
            return None
        try:
            return await self._handle(frame, qid, flags, qdcount, budget)
        except asyncio.CancelledError:
            raise
        except NoReply:
            self.stats["dropped_local"] += 1  # a deny local zone: no reply at all
            return None
        except Exception:
            self.stats["internal_errors"] += 1
            log.error("internal error on a frame from %s", frame.client, exc_info=True)
            return _header_reply(qid, flags, dns.rcode.SERVFAIL)

    async def _handle(self, frame: Frame, qid: int, flags: int, qdcount: int,
                      budget: float) -> bytes:
        if flags & _OPCODE_MASK != _QUERY:
            self.stats["notimp"] += 1
            return _header_reply(qid, flags, dns.rcode.NOTIMP)
        if qdcount != 1:
            self.stats["formerr"] += 1
            return _header_reply(qid, flags, dns.rcode.FORMERR)
        try:
            query = dns.message.from_wire(frame.wire)
        except dns.message.UnknownTSIGKey:
            self.stats["notauth"] += 1
            return _header_reply(qid, flags, dns.rcode.NOTAUTH)
        except Exception:
            self.stats["formerr"] += 1
            return _header_reply(qid, flags, dns.rcode.FORMERR)

        limit = udp_limit(query) if frame.transport == "udp" else MAX_TCP_MESSAGE
        refusal = self._refusal(query)
        if refusal is not None:
            reply = dns.message.make_response(query, recursion_available=True,
                                              our_payload=OUR_UDP_PAYLOAD)
            reply.set_rcode(refusal)
            return reply.to_wire(max_size=limit)

        question = query.question[0]
        request = Request(
            qname=question.name,
            qtype=question.rdtype,
            qclass=question.rdclass,
            do=bool(query.ednsflags & _DO),
            cd=bool(query.flags & _CD),
            rd=bool(query.flags & _RD),
            client=frame.client,
            extra={"transport": frame.transport},
        )
        answer, from_plugin = await self._resolve(self._plugins, request, query, budget)
        wire = self._render(frame, query, self._finish(query, answer), limit)
        # stream replies are never TC: stored as UDP's are
        if self.fastcache is not None and not from_plugin \
                and not request.extra.get(UNSTORED_KEY):
            # a TC=1 reply has no TTL of its own: it lives as long as the answer it cut
            lifetime = _min_ttl(answer) if len(wire) > 3 and wire[2] & 0x02 else None
            self.fastcache.store(frame.wire, wire, self._clock.monotonic(), lifetime=lifetime,
                                 stream=frame.transport != "udp")
        return wire

    def _refusal(self, query: dns.message.Message) -> dns.rcode.Rcode | None:
        """The error rcode for a parsed query we do not answer, counted; ``None`` if we do."""
        if query.edns > 0:
            self.stats["badvers"] += 1
            return dns.rcode.BADVERS
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            self.stats["refused"] += 1
            return dns.rcode.REFUSED
        if question.rdtype in _FORMERR_TYPES:
            self.stats["formerr"] += 1
            return dns.rcode.FORMERR
        if question.rdtype in _REFUSED_TYPES:
            self.stats["refused"] += 1
            return dns.rcode.REFUSED
        if question.rdtype in _NOTIMP_TYPES:
            self.stats["notimp"] += 1
            return dns.rcode.NOTIMP
        return None

    async def _resolve(self, chain: PluginChain, request: Request,
                       query: dns.message.Message,
                       budget: float) -> tuple[dns.message.Message, bool]:
        """Plugins and answerer under the deadline; any failure becomes SERVFAIL.  Returns
        the reply and whether a plugin answered (such a reply is not a cacheable answer)."""
        timeout = asyncio.timeout(budget)
        from_plugin = False
        try:
            async with timeout:
                reply = chain.pre_cache(request, query)
                if reply is None:
                    reply, from_plugin = await self._answer(chain, request, query)
                else:
                    from_plugin = True
                    self.stats["short_circuit"] += 1
                return chain.post_resolve(request, query, reply), from_plugin
        except TimeoutError:
            if not timeout.expired():
                self._answerer_failed(request)
                return servfail_for(query), False
            self.stats["servfail_deadline"] += 1
            log.info("deadline passed for %s/%s from %s", request.qname, request.qtype,
                     request.client[0])
            return servfail_for(query), False
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we are being stopped
            self._answerer_failed(request)  # a cancelled future inside the answerer
            return servfail_for(query), False
        except NoReply:
            raise
        except Exception:
            self._answerer_failed(request)
            return servfail_for(query), False

    async def _answer(self, chain: PluginChain, request: Request,
                      query: dns.message.Message) -> tuple[dns.message.Message, bool]:
        """The answerer's reply with ``post_cache`` and ``pre_upstream`` placed by the gate
        (see :mod:`resolver.plugins`); and whether a plugin answered instead."""
        gate = None
        if chain.gated:
            gate = UpstreamGate(chain, request, query)
            request.extra[GATE_KEY] = gate
        try:
            reply = await self.answerer.answer(request, query)
        except PluginAnswer as e:
            self.stats["short_circuit"] += 1
            return e.reply, True
        if not isinstance(reply, dns.message.Message):
            raise TypeError(f"answerer returned {type(reply).__name__}")
        if gate is not None and not gate.missed:  # from the cache alone
            cached = chain.post_cache(request, query, reply)
            if cached is not None:
                self.stats["short_circuit"] += 1
                return cached, True
        self.stats["answered"] += 1
        return reply, False

    def _answerer_failed(self, request: Request) -> None:
        self.stats["servfail_answerer"] += 1
        log.warning("answering %s/%s from %s failed; SERVFAIL", request.qname, request.qtype,
                    request.client[0], exc_info=True)

    @staticmethod
    def _finish(query: dns.message.Message,
                answer: dns.message.Message) -> dns.message.Message:
        """A fresh reply to ``query`` carrying ``answer``'s rcode, flags and sections."""
        rcode = answer.rcode()
        reply = dns.message.Message(id=query.id)
        kept = answer.flags & (_AA | _AD)
        if not (query.ednsflags & _DO or query.flags & _AD):
            kept &= ~_AD  # RFC 6840 5.8: AD only for clients that asked for it
        reply.flags = _QR | _RA | kept | (query.flags & (_RD | _CD))
        reply.question = list(query.question)
        reply.answer = list(answer.answer)
        reply.authority = list(answer.authority)
        reply.additional = list(answer.additional)
        if query.edns >= 0:
            options = list(answer.options) if answer.edns >= 0 else []
            reply.use_edns(0, query.ednsflags & _DO, OUR_UDP_PAYLOAD, options=options)
        elif rcode > 0xF:
            rcode = dns.rcode.SERVFAIL  # an extended rcode needs EDNS to be expressed
        reply.set_rcode(rcode)
        return reply

    def _render(self, frame: Frame, query: dns.message.Message,
                reply: dns.message.Message, limit: int) -> bytes:
        try:
            # RRsets keep the order the authority gave (dnspython would shuffle each render):
            # stable bytes are what lets the fast path serve the same reply as this path.
            if frame.transport == "udp":
                wire = fit(reply, limit)
                if wire[2] & 0x02:
                    self.stats["truncated"] += 1
                return wire
            return reply.to_wire(max_size=limit, want_shuffle=False)
        except dns.exception.TooBig:
            self.stats["servfail_render"] += 1
            log.warning("reply to %s/%s does not fit in a TCP message", query.question[0].name,
                        query.question[0].rdtype)
        except Exception:
            self.stats["servfail_render"] += 1
            log.warning("cannot render the reply to %s/%s", query.question[0].name,
                        query.question[0].rdtype, exc_info=True)
        return self._finish(query, servfail_for(query)).to_wire(max_size=limit)
