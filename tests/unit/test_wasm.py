"""WebAssembly plugins: the ABI's host calls, the shipped examples, the bounds (an infinite
loop, a memory bomb, a trap: each contained, counted, the query answered per policy), and a
fuzz of random modules and random host-call arguments.  No sockets: the plugin seam and
:meth:`Workers.handle`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import dns.edns
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolver.frames import FrameQueue
from resolver.model import Frame, Request
from resolver.plugins import PluginChain
from resolver.wasm import (
    HOST_CALLS,
    Limits,
    PluginLoadError,
    Policy,
    WasmPlugin,
    bundled,
    load_plugin,
    parse_plugin_spec,
    qname_text,
)
from resolver.workers import Workers

CLIENT = ("192.0.2.77", 5300)


def request(name: str = "www.example.", qtype: str = "A") -> tuple[Request, dns.message.Message]:
    q = dns.message.make_query(name, qtype, use_edns=0)
    return Request(qname=dns.name.from_text(name), qtype=dns.rdatatype.from_text(qtype),
                   client=CLIENT, extra={"transport": "udp"}), q


def module(body: str, imports: str = "") -> bytes:
    return f'(module {imports} (memory (export "memory") 1) {body})'.encode()


def imp(name: str) -> str:
    n = HOST_CALLS[name]
    return f'(import "shadowdns.v1" "{name}" (func ${name} (param{" i32" * n}) (result i32)))'


def plugin(body: str, *calls: str, policy: Policy = Policy.OPEN,
           limits: Limits | None = None, arg: str = "") -> WasmPlugin:
    return WasmPlugin(module(body, " ".join(imp(c) for c in calls)), name="t", policy=policy,
                      limits=limits, arg=arg)


def ede(message: dns.message.Message) -> list[tuple[int, str | None]]:
    return [(int(o.code), o.text) for o in message.options if isinstance(o, dns.edns.EDEOption)]


# -- loading ----------------------------------------------------------------------------------

@pytest.mark.parametrize("source, message", [
    (b"(module (func (export \"pre_cache\") (result i32) (i32.const 0))", "expected"),
    (module('(func (export "other") (result i32) (i32.const 0))'), "exports no phase"),
    (module('(func (export "pre_cache") (param i32) (result i32) (i32.const 0))'),
     "phase pre_cache must be exported as"),
    (module('(func (export "pre_cache") (result i32) (i32.const 0))',
            '(import "env" "x" (func))'), "imports env.x; this host offers only shadowdns.v1"),
    (module('(func (export "pre_cache") (result i32) (i32.const 0))',
            '(import "shadowdns.v1" "nope" (func (result i32)))'), "unknown host call"),
    (module('(func (export "pre_cache") (result i32) (i32.const 0))',
            '(import "shadowdns.v1" "qtype" (func (param i32) (result i32)))'),
     "host call qtype must be imported as (func (result i32))"),
    (b"\xff\xfe", "neither wasm"),
    (b"\0asm\x01\0\0\0\x99", "f.wasm:"),
])
def test_bad_modules_are_one_line_errors(source: bytes, message: str) -> None:
    with pytest.raises(PluginLoadError) as e:
        WasmPlugin(source, name="f", where="f.wasm")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_binary_module_loads_like_its_text(tmp_path: Path) -> None:
    import wasmtime

    binary = tmp_path / "blocklist.wasm"
    binary.write_bytes(wasmtime.wat2wasm(bundled("blocklist").read_text()))
    p = load_plugin(binary, arg="ads.example")
    assert p.name == "blocklist" and p.phases == ("pre_cache",)
    out = p.pre_cache(*request("www.ads.example."))
    assert out is not None and out.rcode() == dns.rcode.NXDOMAIN


def test_memory_above_the_cap_is_refused_at_load() -> None:
    with pytest.raises(PluginLoadError, match="f.wasm"):
        WasmPlugin(b'(module (memory 64) (func (export "pre_cache") (result i32) i32.const 0))',
                   name="f", where="f.wasm", limits=Limits(memory=1 << 20))


def test_plugin_spec() -> None:
    assert parse_plugin_spec("a.wat") == (Path("a.wat"), Policy.OPEN, "")
    assert parse_plugin_spec("a.wat:closed:x,y:z") == (Path("a.wat"), Policy.CLOSED, "x,y:z")
    with pytest.raises(PluginLoadError, match="policy must be open or closed"):
        parse_plugin_spec("a.wat:shut")
    with pytest.raises(PluginLoadError, match="missing.wat"):
        load_plugin(Path("missing.wat"))


def test_phases_are_what_the_module_exports() -> None:
    p = plugin('(func (export "post_resolve") (result i32) i32.const 0)'
               '(func (export "pre_cache") (result i32) i32.const 0)')
    assert p.phases == ("pre_cache", "post_resolve")
    chain = PluginChain([p])
    assert chain.sees_cache_hits and not chain.gated
    upstream_only = plugin('(func (export "pre_upstream") (result i32) i32.const 0)')
    assert not PluginChain([upstream_only]).sees_cache_hits


# -- host calls -------------------------------------------------------------------------------

def test_reads_the_question_client_and_flags() -> None:
    p = plugin('''
      (func (export "pre_cache") (result i32)
        (drop (call $qname (i32.const 100) (i32.const 200)))
        (drop (call $client (i32.const 400) (i32.const 50)))
        (i32.store (i32.const 0) (call $qtype))
        (i32.store (i32.const 4) (call $qclass))
        (i32.store (i32.const 8) (call $flags))
        (i32.store (i32.const 12) (call $qname (i32.const 600) (i32.const 3)))
        (i32.store (i32.const 16) (call $rcode))
        (i32.store (i32.const 20) (call $qname (i32.const 65530) (i32.const 100)))
        (i32.const 0))''', "qname", "client", "qtype", "qclass", "flags", "rcode")
    req, q = request("WwW.Example.", "AAAA")
    assert p.pre_cache(req, q) is None
    mem = p._memory
    assert mem is not None
    data = mem.read(p._store, 0, 700)
    assert bytes(data[100:113]) == b"www.example.\0"  # lower case, final dot
    assert bytes(data[400:411]) == b"192.0.2.77\0"
    ints = [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(0, 24, 4)]
    # AAAA, IN, RD|EDNS, the length when the buffer is too small (nothing written), no
    # reply before the cache, a buffer past the memory's end
    assert ints == [28, 1, 1 | 8, 12, -1, -3]
    assert bytes(data[600:603]) == b"\0\0\0"


def test_reads_the_answer_sections() -> None:
    p = plugin('''
      (func (export "post_resolve") (result i32)
        (i32.store (i32.const 0) (call $count (i32.const 0)))
        (i32.store (i32.const 4) (call $count (i32.const 2)))
        (i32.store (i32.const 8) (call $record (i32.const 0) (i32.const 1) (i32.const 100)
                                               (i32.const 200)))
        (i32.store (i32.const 12) (call $record (i32.const 0) (i32.const 2) (i32.const 100)
                                                (i32.const 200)))
        (i32.store (i32.const 16) (call $count (i32.const 3)))
        (i32.store (i32.const 20) (call $rcode))
        (i32.const 0))''', "count", "record", "rcode")
    req, q = request()
    reply = dns.message.make_response(q)
    reply.answer.append(dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.1",
                                            "192.0.2.2"))
    assert p.post_resolve(req, q, reply) is reply
    data = p._memory.read(p._store, 0, 300)  # type: ignore[union-attr]
    ints = [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(0, 24, 4)]
    text = b"www.example. 60 IN A 192.0.2.2"
    assert ints == [2, 0, len(text), -2, -2, 0]
    assert bytes(data[100:100 + len(text)]) == text


def test_sets_rcode_records_and_ede_without_touching_the_original() -> None:
    p = plugin('''
      (data (i32.const 100) "www.example. 30 IN A 198.51.100.9")
      (data (i32.const 200) "why")
      (data (i32.const 300) "not a record")
      (func (export "post_resolve") (result i32)
        (drop (call $set_rcode (i32.const 0)))
        (i32.store (i32.const 0) (call $add_record (i32.const 0) (i32.const 100) (i32.const 33)))
        (i32.store (i32.const 4) (call $add_record (i32.const 0) (i32.const 300) (i32.const 12)))
        (i32.store (i32.const 8) (call $add_ede (i32.const 17) (i32.const 200) (i32.const 3)))
        (i32.store (i32.const 12) (call $set_rcode (i32.const 99)))
        (i32.const 1))''', "set_rcode", "add_record", "add_ede")
    req, q = request()
    reply = dns.message.make_response(q)
    reply.set_rcode(dns.rcode.NXDOMAIN)
    original = dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.1")
    reply.answer.append(original)
    out = p.post_resolve(req, q, reply)
    assert out is not reply and out.rcode() == dns.rcode.NOERROR
    assert sorted(rd.to_text() for rd in out.answer[0]) == ["192.0.2.1", "198.51.100.9"]
    assert ede(out) == [(17, "why")]
    assert reply.rcode() == dns.rcode.NXDOMAIN and len(original) == 1 and not reply.options
    data = p._memory.read(p._store, 0, 16)  # type: ignore[union-attr]
    assert [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(0, 16, 4)] \
        == [0, -4, 0, -2]
    assert p.answers["post_resolve"] == 1


def test_metric_names_are_bounded() -> None:
    p = plugin('''
      (data (i32.const 100) "hits")
      (data (i32.const 200) "bad name")
      (func (export "pre_cache") (result i32)
        (i32.store (i32.const 0) (call $metric (i32.const 100) (i32.const 4) (i32.const 2)))
        (i32.store (i32.const 4) (call $metric (i32.const 200) (i32.const 8) (i32.const 1)))
        (i32.store (i32.const 8) (call $metric (i32.const 100) (i32.const 0) (i32.const 1)))
        (i32.store (i32.const 12) (call $log (i32.const 1) (i32.const 100) (i32.const 4)))
        (i32.const 0))''', "metric", "log")
    p.pre_cache(*request())
    p.pre_cache(*request())
    assert p.metrics == {"hits": 4}
    data = p._memory.read(p._store, 0, 16)  # type: ignore[union-attr]
    assert [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(0, 16, 4)] \
        == [0, -4, -2, 0]


# -- the shipped examples ---------------------------------------------------------------------

def test_blocklist_example() -> None:
    p = load_plugin(Path("blocklist"), arg="ads.example,tracker.example")
    for name, blocked in [("ads.example.", True), ("x.y.ads.example.", True),
                          ("bads.example.", False), ("example.", False),
                          ("TRACKER.example.", True), ("ads.example.net.", False)]:
        out = p.pre_cache(*request(name))
        if blocked:
            assert out is not None and out.rcode() == dns.rcode.NXDOMAIN, name
            assert ede(out) == [(15, "Blocked")]
        else:
            assert out is None, name
    assert p.metrics == {"blocked": 3} and not p.failures


def test_blocklist_example_sinkhole_mode() -> None:
    p = load_plugin(Path("blocklist"), arg="sinkhole:ads.example tracker.example")
    out = p.pre_cache(*request("x.ads.example."))
    assert out is not None and out.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for r in out.answer] == ["x.ads.example. 300 IN A 0.0.0.0"]
    assert ede(out) == [(15, "Blocked")]
    out = p.pre_cache(*request("tracker.example.", "AAAA"))
    assert out is not None and out.rcode() == dns.rcode.NOERROR and not out.answer
    assert p.pre_cache(*request("sinkhole.example.")) is None
    assert p.metrics == {"blocked": 2} and not p.failures


def test_localzone_example() -> None:
    p = load_plugin(bundled("localzone"), arg="corp.example 10.1.2.3")
    req, q = request("host.corp.example.")
    upstream = dns.message.make_response(q)
    upstream.set_rcode(dns.rcode.NXDOMAIN)
    out = p.post_resolve(req, q, upstream)
    assert out.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for r in out.answer] == ["host.corp.example. 300 IN A 10.1.2.3"]
    for name, qtype in [("corp.example.net.", "A"), ("xcorp.example.", "A"),
                        ("host.corp.example.", "AAAA")]:
        req, q = request(name, qtype)
        reply = dns.message.make_response(q)
        assert p.post_resolve(req, q, reply) is reply
    assert p.metrics == {"rewritten": 1}


def test_ede_annotator_example() -> None:
    p = load_plugin(bundled("ede-annotator"), arg="23 upstream unreachable")
    req, q = request()
    fail = dns.message.make_response(q)
    fail.set_rcode(dns.rcode.SERVFAIL)
    assert ede(p.post_resolve(req, q, fail)) == [(23, "upstream unreachable")]
    ok = dns.message.make_response(q)
    assert p.post_resolve(req, q, ok) is ok


# -- bounds -----------------------------------------------------------------------------------

LOOP = '(func (export "pre_cache") (result i32) (loop $l (br $l)) (i32.const 0))'
BOMB = '''(func (export "pre_cache") (result i32)
            (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
            (i32.const 0))'''
TRAP = '(func (export "pre_cache") (result i32) unreachable)'
OOB = '(func (export "pre_cache") (result i32) (i32.load (i32.const 0x7ffffff0)))'
BADRET = '(func (export "pre_cache") (result i32) (i32.const 7))'
DEEP = '(func $f (export "pre_cache") (result i32) (call $f))'


@pytest.mark.parametrize("body, kind", [(LOOP, "fuel"), (BOMB, "memory"), (TRAP, "trap"),
                                        (OOB, "trap"), (BADRET, "abi"), (DEEP, "trap")])
@pytest.mark.parametrize("policy", [Policy.OPEN, Policy.CLOSED])
def test_failures_are_contained_counted_and_follow_the_policy(body: str, kind: str,
                                                              policy: Policy) -> None:
    # (a budget of 10 s: on a busy machine the wall-time bound must not come first)
    p = plugin(body, policy=policy, limits=Limits(fuel=200_000, memory=2 << 20, budget=10.0))
    before = p.instances
    for _ in range(3):
        started = time.perf_counter()
        out = p.pre_cache(*request())
        assert time.perf_counter() - started < 2.0  # bounded by fuel, not by luck
        if policy is Policy.OPEN:
            assert out is None
        else:
            assert out is not None and out.rcode() == dns.rcode.SERVFAIL
            assert ede(out) == [(0, f"plugin t failed: {kind}")]
    assert p.failures == {kind: 3}
    assert p.instances == before + 3  # a fresh instance after each failure


def test_wall_time_budget_per_query() -> None:
    p = plugin('(func (export "pre_cache") (result i32) (i32.const 0))'
               '(func (export "post_resolve") (result i32) (i32.const 0))',
               policy=Policy.CLOSED, limits=Limits(budget=0.001))
    req, q = request()
    assert p.pre_cache(req, q) is None
    req.extra["wasm.t.seconds"] = 0.002  # as if the first call had taken 2 ms
    out = p.post_resolve(req, q, dns.message.make_response(q))
    assert out.rcode() == dns.rcode.SERVFAIL and p.failures == {"budget": 1}
    assert p.calls == {"pre_cache": 1}
    assert p.pre_cache(*request()) is None  # the next query has its own budget


HOST_CALL_STORM = '(func (export "pre_cache") (result i32) (loop $l (drop (call $qtype)) (br $l))' \
    ' (i32.const 0))'


@pytest.mark.parametrize("body, calls, fuel", [(LOOP, (), 2_000_000_000),
                                               (HOST_CALL_STORM, ("qtype",), 20_000_000)])
@pytest.mark.parametrize("policy", [Policy.OPEN, Policy.CLOSED])
def test_a_call_running_past_the_budget_is_interrupted(body: str, calls: tuple[str, ...],
                                                       fuel: int, policy: Policy) -> None:
    """Fuel for seconds (host calls cost almost none: a loop of them stalls for long on
    little fuel): the epoch deadline stops the call once the query's wall time is spent
    and the grace past it (counted as budget; a fresh instance, as after any failure
    inside a call); the next query has its own budget."""
    p = plugin(body, *calls, policy=policy, limits=Limits(fuel=fuel, budget=0.01))
    before = p.instances
    for _ in range(2):
        req, q = request()
        started = time.perf_counter()
        out = p.pre_cache(req, q)
        took = time.perf_counter() - started
        assert 0.09 < took < 2.0, took  # budget + EPOCH_GRACE (110 ms), a tick later at most
        if policy is Policy.OPEN:
            assert out is None
        else:
            assert out is not None and ede(out) == [(0, "plugin t failed: budget")]
    assert p.failures == {"budget": 2} and p.instances == before + 2
    assert p.calls == {"pre_cache": 2}


def _query_frame(name: str) -> Frame:
    return Frame(dns.message.make_query(name, "A", use_edns=0).to_wire(), "udp", CLIENT,
                 time.monotonic())


class Answers:
    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(request.qname, 60, "IN", "A", "192.0.2.1"))
        return reply


@pytest.mark.parametrize("body, policy, rcode", [
    (LOOP, Policy.OPEN, dns.rcode.NOERROR), (BOMB, Policy.CLOSED, dns.rcode.SERVFAIL),
    (TRAP, Policy.OPEN, dns.rcode.NOERROR), (TRAP, Policy.CLOSED, dns.rcode.SERVFAIL)])
async def test_the_worker_keeps_answering(body: str, policy: Policy, rcode: int) -> None:
    p = plugin(body, policy=policy, limits=Limits(fuel=500_000, memory=4 << 20, budget=10.0))
    w = Workers(FrameQueue(), Answers(), PluginChain([p]), n=1)
    for i in range(20):
        out = await asyncio.wait_for(w.handle(_query_frame(f"q{i}.example.")), 10)
        assert out is not None
        assert dns.message.from_wire(out).rcode() == rcode
    assert sum(p.failures.values()) == 20


# -- fuzz ---------------------------------------------------------------------------------------

_ARG = st.sampled_from([0, 1, 2, 3, 15, 255, 4096, 65535, 65536, -1, 0x7FFFFFFF, -0x80000000])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.tuples(st.sampled_from(sorted(HOST_CALLS)),
                                st.lists(_ARG, min_size=4, max_size=4)), max_size=8),
       result=st.sampled_from([0, 1, 2, -1]), phase=st.sampled_from(
           ["pre_cache", "post_cache", "pre_upstream", "post_resolve"]),
       policy=st.sampled_from(list(Policy)))
def test_fuzz_host_call_arguments(calls: list[tuple[str, list[int]]], result: int, phase: str,
                                  policy: Policy) -> None:
    """Random host calls with random arguments: the plugin may fail, but only as a counted
    failure; the host never raises and the query gets a message or None."""
    body = "".join(
        f"(drop (call ${name} {' '.join(f'(i32.const {a})' for a in args[:HOST_CALLS[name]])}))"
        for name, args in calls)
    p = plugin(f'(data (i32.const 10) "a.example. 5 IN A 1.2.3.4")'
               f'(func (export "{phase}") (result i32) {body} (i32.const {result}))',
               *HOST_CALLS, policy=policy, arg="x")
    req, q = request()
    reply = dns.message.make_response(q)
    out = getattr(p, phase)(req, q, reply) if phase in ("post_cache", "post_resolve") \
        else getattr(p, phase)(req, q)
    assert out is None or isinstance(out, dns.message.Message)
    if out is not None:
        out.to_wire()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_fuzz_random_modules(data: bytes) -> None:
    """Random bytes, with and without the wasm magic: a load error or a plugin, never a
    crash."""
    for source in (data, b"\0asm\x01\0\0\0" + data):
        try:
            p = WasmPlugin(source, name="fuzz")
        except PluginLoadError as e:
            assert "\n" not in str(e)
        else:
            p.pre_cache(*request())


@pytest.mark.parametrize("name", ["www.Example.COM.", ".", "a\\.b.example.", "x y.example.",
                                  "*.wild.example.", "_dns.resolver.arpa.", "\\200.example."])
def test_qname_text_is_the_presentation_format(name: str) -> None:
    parsed = dns.name.from_text(name)
    assert qname_text(parsed) == parsed.to_text().lower().encode()


def test_memory_at_the_cap_from_the_start_is_refused() -> None:
    with pytest.raises(PluginLoadError, match="within a page of the cap"):
        WasmPlugin(b'(module (memory (export "memory") 2) '
                   b'(func (export "pre_cache") (result i32) i32.const 0))',
                   name="f", limits=Limits(memory=2 * 65536))


def test_the_same_module_is_compiled_once() -> None:
    source = bundled("noop").read_bytes()
    a = WasmPlugin(source, name="a")
    b = WasmPlugin(source, name="b", arg="other")
    assert a.module is b.module and a._store is not b._store  # one compile, own instances
