"""The workers' packet path without sockets: bad input, reply fix-up, deadline, plugins, fuzz.

Everything here calls :meth:`Workers.handle` (frame in, bytes or ``None`` out) directly.
"""

from __future__ import annotations

import asyncio
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import dns.update
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolver.cache.reply import FastCache
from resolver.clock import ManualClock
from resolver.frames import FrameQueue, Inbound
from resolver.model import Frame, Request, Transport
from resolver.plugins import Plugin, PluginChain, gated
from resolver.recursor.exchanger import UpstreamQuery, UpstreamResult
from resolver.workers import OUR_UDP_PAYLOAD, Workers

CLIENT = ("127.0.0.9", 5300)


class FakeAnswerer:
    """Answers A queries with 192.0.2.1; records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        self.requests.append(request)
        reply = dns.message.make_response(query)
        if request.qtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(request.qname, 300, "IN", "A", "192.0.2.1"))
        return reply


class FixedAnswerer:
    """Returns whatever message (or raises whatever) it was built with."""

    def __init__(self, reply: object = None, error: BaseException | None = None,
                 delay: float = 0.0) -> None:
        self.reply, self.error, self.delay = reply, error, delay
        self.calls = 0

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.reply  # type: ignore[return-value]


def workers(answerer: object | None = None, plugins: list[Plugin] | None = None,
            **kwargs: object) -> Workers:
    return Workers(FrameQueue(), answerer or FakeAnswerer(),  # type: ignore[arg-type]
                   PluginChain(plugins or []), n=1, **kwargs)  # type: ignore[arg-type]


def frame(wire: bytes, transport: Transport = "udp", received: float = 0.0) -> Frame:
    return Frame(wire, transport, CLIENT, received)


async def ask(w: Workers, wire: bytes, transport: Transport = "udp") -> dns.message.Message:
    out = await w.handle(frame(wire, transport, received=_now()))
    assert out is not None
    return dns.message.from_wire(out)


def _now() -> float:
    return time.monotonic()


def query(name: str = "www.example.", rdtype: str = "A", **kwargs: object) -> dns.message.Message:
    return dns.message.make_query(name, rdtype, **kwargs)  # type: ignore[arg-type]


# -- malformed and unsupported input -------------------------------------------------------

async def test_too_short_is_dropped() -> None:
    w = workers()
    assert await w.handle(frame(b"", received=_now())) is None
    assert await w.handle(frame(b"\x12\x34\x01\x00\x00", received=_now())) is None
    assert w.stats["dropped_short"] == 2


async def test_responses_are_dropped() -> None:
    w = workers()
    q = query()
    q.flags |= dns.flags.QR
    assert await w.handle(frame(q.to_wire(), received=_now())) is None
    assert w.stats["dropped_response"] == 1


async def test_garbage_after_a_valid_message_is_formerr() -> None:
    w = workers()
    q = query()
    r = await ask(w, q.to_wire() + b"junk")
    assert r.id == q.id and r.flags & dns.flags.QR and r.rcode() == dns.rcode.FORMERR
    assert w.stats["formerr"] == 1


async def test_garbage_after_a_header_is_formerr() -> None:
    w = workers()
    wire = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\xff\xfe\x00garbage"
    r = await ask(w, wire)
    assert r.id == 0xBEEF and r.flags & dns.flags.QR and r.flags & dns.flags.RD
    assert r.rcode() == dns.rcode.FORMERR


@pytest.mark.parametrize("qdcount", [0, 2])
async def test_qdcount_other_than_one_is_formerr(qdcount: int) -> None:
    w = workers()
    q = query()
    if qdcount == 2:
        q.question.append(dns.rrset.RRset(dns.name.from_text("other.example."),
                                          dns.rdataclass.IN, dns.rdatatype.AAAA))
        wire = q.to_wire()
    else:
        wire = struct.pack("!HHHHHH", q.id, 0x0100, 0, 0, 0, 0)
    r = await ask(w, wire)
    assert r.id == q.id and r.rcode() == dns.rcode.FORMERR


@pytest.mark.parametrize("opcode", [dns.opcode.NOTIFY, dns.opcode.UPDATE, dns.opcode.IQUERY,
                                    dns.opcode.STATUS])
async def test_other_opcodes_are_notimp(opcode: dns.opcode.Opcode) -> None:
    w = workers()
    if opcode == dns.opcode.UPDATE:
        q: dns.message.Message = dns.update.UpdateMessage("example.")
        q.add("www", 300, "A", "192.0.2.7")  # type: ignore[attr-defined]
    else:
        q = query()
        q.set_opcode(opcode)
    r = await ask(w, q.to_wire())
    assert r.id == q.id and r.rcode() == dns.rcode.NOTIMP and r.opcode() == opcode
    assert w.stats["notimp"] == 1


@pytest.mark.parametrize("rdclass", ["CH", "HS", "ANY", "NONE"])
async def test_classes_other_than_in_are_refused(rdclass: str) -> None:
    w = workers()
    q = dns.message.make_query("version.bind.", "TXT", rdclass)
    r = await ask(w, q.to_wire())
    assert r.id == q.id and r.rcode() == dns.rcode.REFUSED
    assert r.question == q.question
    assert w.answerer.requests == []  # type: ignore[attr-defined]


async def test_edns_version_1_is_badvers() -> None:
    w = workers()
    q = query(use_edns=1)
    r = await ask(w, q.to_wire())
    assert r.id == q.id and r.rcode() == dns.rcode.BADVERS
    assert r.edns == 0  # we answer with the version we speak
    assert w.stats["badvers"] == 1


@pytest.mark.parametrize(("rdtype", "rcode"), [("AXFR", dns.rcode.REFUSED),
                                              ("IXFR", dns.rcode.REFUSED),
                                              ("MAILA", dns.rcode.NOTIMP),
                                              ("OPT", dns.rcode.FORMERR),
                                              ("TSIG", dns.rcode.FORMERR)])
async def test_meta_qtypes(rdtype: str, rcode: dns.rcode.Rcode) -> None:
    w = workers()
    q = query(rdtype=rdtype)
    r = await ask(w, q.to_wire())
    assert r.rcode() == rcode


async def test_tsig_signed_query_is_notauth() -> None:
    w = workers()
    q = query()
    q.use_tsig(dns.tsigkeyring.from_text({"key.": "c2VjcmV0c2VjcmV0"}))
    r = await ask(w, q.to_wire())
    assert r.id == q.id and r.rcode() == dns.rcode.NOTAUTH


async def test_stale_frames_are_dropped() -> None:
    clock = ManualClock()
    w = workers(clock=clock)
    f = frame(query().to_wire(), received=clock.monotonic())
    clock.advance(w.deadline + 1)
    assert await w.handle(f) is None
    assert w.stats["dropped_stale"] == 1


# -- the reply as the client sees it -------------------------------------------------------

async def test_reply_is_fixed_up_for_the_client() -> None:
    wrong = dns.message.Message(id=1)  # wrong ID, no QR/RA, TC and AD set, lower-case name
    wrong.flags = dns.flags.TC | dns.flags.AD | dns.flags.AA
    wrong.answer.append(dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.2"))
    wrong.use_edns(0, dns.flags.DO, 4096)
    w = workers(FixedAnswerer(wrong))
    q = query("wWw.ExAmPlE.", want_dnssec=False, use_edns=False)
    q.flags |= dns.flags.CD
    out = await w.handle(frame(q.to_wire(), received=_now()))
    assert out is not None
    r = dns.message.from_wire(out)
    assert r.id == q.id
    assert r.flags & dns.flags.QR and r.flags & dns.flags.RA
    assert r.flags & dns.flags.RD and r.flags & dns.flags.CD
    assert not r.flags & dns.flags.TC
    assert not r.flags & dns.flags.AD  # the client asked neither DO nor AD
    assert r.flags & dns.flags.AA
    assert r.edns == -1  # no EDNS in, no EDNS out
    # The question comes back byte for byte (0x20 case kept).
    qname_len = len(q.question[0].name.to_wire() or b"")
    assert out[12:12 + qname_len + 4] == q.to_wire()[12:12 + qname_len + 4]
    assert r.answer[0][0].to_text() == "192.0.2.2"
    # The answerer's message itself is not changed.
    assert wrong.id == 1 and wrong.flags & dns.flags.TC


async def test_edns_reply_echoes_do_and_advertises_our_size() -> None:
    w = workers()
    q = query(want_dnssec=True, payload=4096)
    r = await ask(w, q.to_wire())
    assert r.edns == 0 and r.payload == OUR_UDP_PAYLOAD
    assert r.ednsflags & dns.flags.DO
    req = w.answerer.requests[0]  # type: ignore[attr-defined]
    assert req.do and req.rd and not req.cd and req.client == CLIENT
    assert req.extra["transport"] == "udp"


async def test_answerer_exception_is_servfail_and_worker_survives() -> None:
    w = workers(FixedAnswerer(error=RuntimeError("boom")))
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL
    assert w.stats["servfail_answerer"] == 1
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL


async def test_answerer_returning_nonsense_is_servfail() -> None:
    w = workers(FixedAnswerer(reply="not a message"))
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL


async def test_answerer_own_timeout_is_not_the_deadline() -> None:
    w = workers(FixedAnswerer(error=TimeoutError()))
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL
    assert w.stats["servfail_answerer"] == 1 and w.stats["servfail_deadline"] == 0


async def test_answerer_cancelled_future_is_servfail() -> None:
    w = workers(FixedAnswerer(error=asyncio.CancelledError()))
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL


async def test_deadline_gives_servfail() -> None:
    w = workers(FixedAnswerer(delay=30), deadline=0.2)
    r = await asyncio.wait_for(ask(w, query().to_wire()), 10)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert w.stats["servfail_deadline"] == 1


def big_answer(query: dns.message.Message, records: int = 40) -> dns.message.Message:
    reply = dns.message.make_response(query)
    name = query.question[0].name
    texts = [f'"{i:03d} ' + "x" * 200 + '"' for i in range(records)]
    reply.answer.append(dns.rrset.from_text_list(name, 300, "IN", "TXT", texts))
    return reply


class BigAnswerer:
    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        return big_answer(query)


@pytest.mark.parametrize(("payload", "limit"), [(None, 512), (512, 512), (1232, 1232),
                                                 (4096, 1232), (100, 512)])
async def test_udp_truncation(payload: int | None, limit: int) -> None:
    w = workers(BigAnswerer())
    q = query(rdtype="TXT", use_edns=payload is not None, payload=payload or 512)
    out = await w.handle(frame(q.to_wire(), received=_now()))
    assert out is not None and len(out) <= limit
    r = dns.message.from_wire(out)
    assert r.flags & dns.flags.TC and r.id == q.id
    assert r.question == q.question and r.answer == []
    assert r.edns == (0 if payload is not None else -1)
    assert w.stats["truncated"] == 1


class BigAdditionalAnswerer:
    """A small answer with more name server addresses than 512 octets hold."""

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A",
                                                "192.0.2.1"))
        for i in range(40):
            reply.additional.append(dns.rrset.from_text(
                f"ns{i}.a-long-name-server-name.example.", 300, "IN", "AAAA", f"2001:db8::{i}"))
        return reply


async def test_udp_reply_whose_additional_section_does_not_fit_keeps_its_answer_without_tc(
) -> None:
    w = workers(BigAdditionalAnswerer())
    q = query()
    out = await w.handle(frame(q.to_wire(), received=_now()))
    assert out is not None and len(out) <= 512
    r = dns.message.from_wire(out)
    assert not r.flags & dns.flags.TC  # RFC 2181 §9: additional data is optional
    assert len(r.answer) == 1 and 0 < len(r.additional) < 40
    assert w.stats["truncated"] == 0


async def test_tcp_takes_the_whole_answer() -> None:
    w = workers(BigAnswerer())
    q = query(rdtype="TXT")
    r = await ask(w, q.to_wire(), transport="tcp")
    assert not r.flags & dns.flags.TC
    assert len(r.answer[0]) == 40


async def test_tcp_answer_over_65535_is_servfail() -> None:
    class Huge:
        async def answer(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message:
            return big_answer(query, records=400)

    w = workers(Huge())
    r = await ask(w, query(rdtype="TXT").to_wire(), transport="tcp")
    assert r.rcode() == dns.rcode.SERVFAIL and w.stats["servfail_render"] == 1


# -- plugins ----------------------------------------------------------------------------

class Blocklist(Plugin):
    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        if request.qname == dns.name.from_text("blocked.example."):
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.NXDOMAIN)
            return reply
        return None


class Boom(Plugin):
    def __init__(self, hook: str) -> None:
        self.hook = hook

    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        if self.hook == "pre_cache":
            raise ValueError("plugin bug")
        return None

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        if self.hook == "post_resolve":
            raise ValueError("plugin bug")
        if self.hook == "post_resolve_none":
            return None  # type: ignore[return-value]
        return reply


class TTLCap(Plugin):
    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        for rrset in reply.answer:
            rrset.ttl = min(rrset.ttl, 30)
        return reply


async def test_pre_cache_short_circuit() -> None:
    answerer = FakeAnswerer()
    w = workers(answerer, [Blocklist()])
    r = await ask(w, query("blocked.example.").to_wire())
    assert r.rcode() == dns.rcode.NXDOMAIN and answerer.requests == []
    assert w.stats["short_circuit"] == 1
    r = await ask(w, query("fine.example.").to_wire())
    assert r.rcode() == dns.rcode.NOERROR and len(answerer.requests) == 1


async def test_post_resolve_replaces_reply() -> None:
    w = workers(plugins=[TTLCap()])
    r = await ask(w, query().to_wire())
    assert r.answer[0].ttl == 30


@pytest.mark.parametrize("hook", ["pre_cache", "post_resolve", "post_resolve_none"])
async def test_plugin_exception_is_servfail(hook: str) -> None:
    answerer = FakeAnswerer()
    w = workers(answerer, [Boom(hook)])
    r = await ask(w, query().to_wire())
    assert r.rcode() == dns.rcode.SERVFAIL
    assert w.plugins.stats["errors"] == 1
    assert w.plugins.stats[f"Boom.{hook.removesuffix('_none')}"] == 1
    assert len(answerer.requests) == (0 if hook == "pre_cache" else 1)


def test_chain_order_and_the_inner_hooks() -> None:
    calls: list[str] = []

    class Seen(Plugin):
        def __init__(self, tag: str, answer: bool = False) -> None:
            self.tag, self.answer = tag, answer

        def post_cache(self, request: Request, query: dns.message.Message,
                       cached: dns.message.Message | None) -> dns.message.Message | None:
            calls.append(f"{self.tag}.post_cache:{cached is not None}")
            return dns.message.make_response(query) if self.answer else None

        def pre_upstream(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message | None:
            calls.append(f"{self.tag}.pre_upstream")
            if self.answer:
                raise KeyError("bug")
            return None

    chain = PluginChain([Seen("a"), Plugin(), Seen("b", answer=True), Seen("c")])
    q = query()
    req = Request(q.question[0].name, dns.rdatatype.A)
    assert chain.pre_cache(req, q) is None
    assert chain.post_cache(req, q, None) is not None
    r = chain.pre_upstream(req, q)
    assert r is not None and r.rcode() == dns.rcode.SERVFAIL
    assert calls == ["a.post_cache:False", "b.post_cache:False", "a.pre_upstream",
                     "b.pre_upstream"]
    assert chain.stats == {"errors": 1, "Seen.pre_upstream": 1}


# -- the worker loop --------------------------------------------------------------------

async def test_workers_take_frames_and_reply() -> None:
    queue = FrameQueue()
    sent: list[bytes | None] = []
    async with Workers(queue, FakeAnswerer(), n=2):
        q = query()
        queue.put_nowait(Inbound(frame(q.to_wire(), received=_now()), sent.append))
        queue.put_nowait(Inbound(frame(b"", received=_now()), sent.append))
        for _ in range(200):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
    assert None in sent
    wire = next(s for s in sent if s is not None)
    assert dns.message.from_wire(wire).id == q.id


async def test_a_failing_reply_callable_does_not_kill_the_worker() -> None:
    queue = FrameQueue()
    sent: list[bytes | None] = []

    def broken(wire: bytes | None) -> None:
        raise OSError("socket gone")

    w = Workers(queue, FakeAnswerer(), n=1)
    async with w:
        queue.put_nowait(Inbound(frame(query().to_wire(), received=_now()), broken))
        queue.put_nowait(Inbound(frame(query().to_wire(), received=_now()), sent.append))
        for _ in range(200):
            if sent:
                break
            await asyncio.sleep(0.01)
    assert len(sent) == 1 and w.stats["reply_errors"] == 1


# -- fuzz -------------------------------------------------------------------------------

def _seeds() -> list[bytes]:
    seeds = [
        query().to_wire(),
        query("a.b.c.d.e.f.example.", "AAAA", use_edns=False).to_wire(),
        query("WwW.ExAmPle.", "TXT", want_dnssec=True, payload=4096).to_wire(),
        query("x" * 63 + ".example.", "MX", use_edns=0,
              options=[dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"\x01" * 8)]).to_wire(),
        dns.message.make_query("version.bind.", "TXT", "CH").to_wire(),
        query(use_edns=1).to_wire(),
    ]
    return seeds


SEEDS = _seeds()


@st.composite
def mutated_queries(draw: st.DrawFn) -> bytes:
    wire = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(wire) - 1)))
        if op == "flip" and wire:
            wire[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and wire:
            wire[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            wire[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del wire[pos:pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del wire[pos:]
    return bytes(wire)


def _check_packet_path(wire: bytes, transport: Transport) -> None:
    w = workers()
    out = asyncio.run(w.handle(frame(wire, transport, received=_now())))
    if out is None:
        return
    assert isinstance(out, bytes)
    reply = dns.message.from_wire(out)  # parseable, whatever came in
    assert reply.flags & dns.flags.QR
    assert reply.id == int.from_bytes(wire[:2], "big")
    if transport == "udp":
        assert len(out) <= OUR_UDP_PAYLOAD


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512), st.sampled_from(["udp", "tcp"]))
def test_fuzz_random_bytes(wire: bytes, transport: Transport) -> None:
    _check_packet_path(wire, transport)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_queries(), st.sampled_from(["udp", "tcp"]))
def test_fuzz_mutated_queries(wire: bytes, transport: Transport) -> None:
    _check_packet_path(wire, transport)


# -- every phase where its name says (issue 19 part 3) -----------------------------------------

class GatedAnswerer:
    """A cache in front of an exchanger: a name asked before is answered without upstream;
    upstream is asked through the request's gate, as ResolverAnswerer does."""

    def __init__(self) -> None:
        self.cached: set[dns.name.Name] = set()
        self.upstream = 0

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        if request.qname not in self.cached:
            await gated(self, request).exchange(
                UpstreamQuery(request.qname, request.qtype, dns.name.root, ("192.0.2.53",)))
            self.cached.add(request.qname)
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(request.qname, 300, "IN", "A", "192.0.2.1"))
        return reply

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        self.upstream += 1
        return UpstreamResult(None)


class Recorder(Plugin):
    def __init__(self, answer_upstream: bool = False) -> None:
        self.calls: list[str] = []
        self.answer_upstream = answer_upstream

    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        self.calls.append("pre_cache")
        return None

    def post_cache(self, request: Request, query: dns.message.Message,
                   cached: dns.message.Message | None) -> dns.message.Message | None:
        self.calls.append(f"post_cache:{'hit' if cached is not None else 'miss'}")
        return None

    def pre_upstream(self, request: Request,
                     query: dns.message.Message) -> dns.message.Message | None:
        self.calls.append("pre_upstream")
        if self.answer_upstream:
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.REFUSED)
            return reply
        return None

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        self.calls.append("post_resolve")
        return reply


async def test_every_phase_is_called_where_its_name_says() -> None:
    answerer, plugin = GatedAnswerer(), Recorder()
    w = workers(answerer, [plugin])
    await ask(w, query("a.example.").to_wire())
    assert plugin.calls == ["pre_cache", "post_cache:miss", "pre_upstream", "post_resolve"]
    plugin.calls.clear()
    await ask(w, query("a.example.").to_wire())  # from the cache: no upstream, a hit
    assert plugin.calls == ["pre_cache", "post_cache:hit", "post_resolve"]
    assert answerer.upstream == 1


async def test_pre_upstream_answers_before_any_upstream_query() -> None:
    answerer, plugin = GatedAnswerer(), Recorder(answer_upstream=True)
    w = workers(answerer, [plugin])
    r = await ask(w, query("b.example.").to_wire())
    assert r.rcode() == dns.rcode.REFUSED and answerer.upstream == 0
    assert w.stats["short_circuit"] == 1 and plugin.calls[-1] == "post_resolve"


def test_fast_path_paused_while_a_plugin_sees_cache_hits() -> None:
    fast = FastCache(1 << 20)

    class UpstreamOnly(Plugin):
        def pre_upstream(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message | None:
            return None

    w = workers(fastcache=fast)
    assert not fast.paused
    w.plugins = PluginChain([Recorder()])
    assert fast.paused and fast.lookup(query().to_wire(), 0.0) is None
    w.plugins = PluginChain([UpstreamOnly()])  # cache hits never reach pre_upstream
    assert not fast.paused
    w.plugins = PluginChain()
    assert not fast.paused


async def test_a_swap_that_keeps_the_fast_path_on_keeps_its_replies() -> None:
    """Between chains whose plugins never see a cache hit the bytes stay (no plugin made
    them, none would see the hit); a chain that sees hits empties them."""
    fast = FastCache(1 << 20)
    w = workers(fastcache=fast)  # (the answerer: A 192.0.2.1, TTL 300)
    wire = query().to_wire()
    await ask(w, wire)
    assert fast.lookup(wire, _now()) is not None

    class UpstreamOnly(Plugin):
        def pre_upstream(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message | None:
            return None

    w.plugins = PluginChain([UpstreamOnly()])
    w.plugins = PluginChain([UpstreamOnly()])  # replaced by a new version
    assert fast.lookup(wire, _now()) is not None and len(fast) == 1
    w.plugins = PluginChain([Recorder()])
    w.plugins = PluginChain()
    assert fast.lookup(wire, _now()) is None and len(fast) == 0


async def test_a_query_in_flight_finishes_on_the_chain_it_started_with() -> None:
    release = asyncio.Event()

    class Held:
        async def answer(self, request: Request,
                         query: dns.message.Message) -> dns.message.Message:
            await release.wait()
            return dns.message.make_response(query)

    old, new = Recorder(), Recorder()
    w = workers(Held(), [old])
    task = asyncio.create_task(w.handle(frame(query().to_wire(), received=_now())))
    await asyncio.sleep(0.01)
    w.plugins = PluginChain([new])  # swapped while the query waits for its answer
    release.set()
    assert await task is not None
    seen = ["pre_cache", "post_cache:hit", "post_resolve"]  # (Held never asks upstream)
    assert old.calls == seen and new.calls == []
    await ask(w, query().to_wire())
    assert new.calls == seen and old.calls == seen
