"""The bytes fast path: query shapes, TTL arithmetic, and identity with the full path."""

from __future__ import annotations

import random
import struct

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from lab.authserver import LabServer
from lab.manifest import manifest
from lab.run import root_servers
from lab.world import load_world
from lab.zones import build_zones
from resolver.app import assemble
from resolver.cache import DnsCache
from resolver.cache.reply import FastCache
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.fastpath import read_query, ttl_offsets
from resolver.frames import FrameQueue
from resolver.model import Frame
from resolver.workers import Workers


def wire(name: str, rdtype: str = "A", **kw: object) -> bytes:
    return dns.message.make_query(name, rdtype, **kw).to_wire()  # type: ignore[arg-type]


def test_query_shapes() -> None:
    plain = read_query(wire("www.Example.lab.", use_edns=False))
    assert plain is not None and plain.payload is None
    edns = read_query(wire("www.example.lab.", use_edns=0, payload=1232))
    do = read_query(wire("www.example.lab.", want_dnssec=True))
    assert edns is not None and do is not None and edns.payload == 1232
    # case does not matter; EDNS presence and DO do
    assert plain.key == read_query(wire("WWW.example.LAB.", use_edns=False)).key  # type: ignore[union-attr]
    assert len({plain.key, edns.key, do.key}) == 3
    # not plain: a response, two questions' worth of junk, trailing bytes, EDNS version 1
    resp = dns.message.make_response(dns.message.make_query("a.lab.", "A")).to_wire()
    assert read_query(resp) is None
    assert read_query(wire("a.lab.", use_edns=False) + b"\x00") is None
    assert read_query(wire("a.lab.", use_edns=1)) is None
    assert read_query(b"\x00" * 11) is None


def test_ttls_decrease_and_entries_expire() -> None:
    q = dns.message.make_query("www.example.lab.", "A", use_edns=False)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.lab.", 300, "IN", "A", "127.0.0.1"))
    r.authority.append(dns.rrset.from_text("example.lab.", 60, "IN", "NS", "ns.example.lab."))
    fast = FastCache(1 << 20)
    assert fast.store(q.to_wire(), r.to_wire(), now=100.0)
    q2 = dns.message.make_query("WwW.example.lab.", "A", use_edns=False)
    hit = fast.lookup(q2.to_wire(), now=110.5)
    assert hit is not None
    m = dns.message.from_wire(hit)
    assert m.id == q2.id and m.question[0].name.to_text() == "WwW.example.lab."
    assert m.answer[0].ttl == 300 - 11 and m.authority[0].ttl == 60 - 11
    assert fast.lookup(q2.to_wire(), now=160.0) is None  # the 60 s RRset ran out


def test_size_limit_and_uncacheable_replies() -> None:
    q = dns.message.make_query("big.example.lab.", "TXT", use_edns=0, payload=1232)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("big.example.lab.", 300, "IN", "TXT",
                                        *[f'"{c * 200}"' for c in "xyz"]))
    fast = FastCache(1 << 20)
    assert fast.store(q.to_wire(), r.to_wire(), 0.0)
    small = dns.message.make_query("big.example.lab.", "TXT", use_edns=0, payload=512)
    assert fast.lookup(small.to_wire(), 1.0) is None  # 600+ bytes do not fit in 512
    servfail = dns.message.make_response(q)
    servfail.set_rcode(dns.rcode.SERVFAIL)
    assert not fast.store(q.to_wire(), servfail.to_wire(), 0.0)
    tc = dns.message.make_response(q)
    tc.flags |= dns.flags.TC
    assert not fast.store(q.to_wire(), tc.to_wire(), 0.0)


def test_ttl_offsets_skip_opt_and_find_every_rr() -> None:
    q = dns.message.make_query("x.lab.", "A", want_dnssec=True)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("x.lab.", 7, "IN", "A", "127.0.0.1", "127.0.0.2"))
    w = r.to_wire()
    offs = ttl_offsets(w)
    assert offs is not None and len(offs) == 2
    assert all(struct.unpack_from("!I", w, o)[0] == 7 for o in offs)


@pytest.mark.parametrize("edns", [False, True])
async def test_fast_path_equals_full_path_on_the_lab(edns: bool) -> None:
    world = load_world()
    zones = build_zones(world)
    server = LabServer(world, zones, seed=3)
    by_addr = {s.address: s for s in world.servers.values()}

    def handler(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message | None:
        s = by_addr.get(address)
        out = None if s is None else server.answer(s, query.to_wire(), "127.54.3.1", tcp)
        return None if out is None else dns.message.from_wire(out)

    clock = ManualClock()
    cache = DnsCache(32 << 20)
    answerer = assemble(MockTransport(handler), clock, cache=cache,
                        root_hints=root_servers(zones), rng=random.Random(1)).answerer
    fast = FastCache(8 << 20)
    with_fast = Workers(FrameQueue(), answerer, clock=clock, fastcache=fast)
    full = Workers(FrameQueue(), answerer, clock=clock)
    names = [e for e in manifest(world) if e.rcode in (0, 3) and e.kind != "flap"]
    compared = 0
    for entry in names:
        query = dns.message.make_query(entry.name, entry.rdtype,
                                       use_edns=0 if edns else False).to_wire()
        first = await with_fast.handle(Frame(query, "udp", ("127.0.0.1", 1), clock.monotonic()))
        assert first is not None
        clock.advance(3)
        from_bytes = fast.lookup(query, clock.monotonic())
        from_full = await full.handle(Frame(query, "udp", ("127.0.0.1", 1), clock.monotonic()))
        if from_bytes is None:
            continue  # not cacheable (e.g. truncated): the full path answers it
        assert from_full is not None
        assert from_bytes[2:] == from_full[2:], entry.name
        compared += 1
    assert compared >= 30


def _stored(fast: FastCache, ttl: int = 300, now: float = 100.0) -> dns.message.Message:
    q = dns.message.make_query("www.example.lab.", "A", use_edns=0, payload=1232)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.lab.", ttl, "IN", "A", "127.0.0.1"))
    assert fast.store(q.to_wire(), r.to_wire(), now=now)
    return q


def _with_id(query: dns.message.Message, qid: int) -> bytes:
    w = bytearray(query.to_wire())
    w[0:2] = qid.to_bytes(2, "big")
    return bytes(w)


def test_memo_hit_is_the_arc_render_at_that_moment() -> None:
    memo, arc_only = FastCache(1 << 20), FastCache(1 << 20)
    q = _stored(memo)
    _stored(arc_only)
    for now in (103.2, 103.9, 104.0, 104.05, 150.5, 398.5):
        for qid in (1, 2, 3):  # the first renders and remembers, the others hit the memo
            got = memo.lookup(_with_id(q, qid), now)
            arc_only._memo.clear()  # noqa: SLF001 - the reference renders from the ARC
            want = arc_only.lookup(_with_id(q, qid), now)
            assert got is not None and got == want, (now, qid)
            assert got[:2] == qid.to_bytes(2, "big")
    # 103.2, 103.9 and 104.0 are all age 4: one render for the nine lookups, then one each
    assert memo.memo_hits == 18 - 4 and memo.hits == 18
    # 104.0 is still age 4 (ceil), 104.05 is age 5: the TTL drops by exactly one there
    ttl = dns.message.from_wire(memo.lookup(_with_id(q, 9), 104.05) or b"").answer[0].ttl
    assert ttl == 300 - 5
    assert memo.lookup(_with_id(q, 9), 400.0) is None  # ran out, memo or not
    assert memo.misses == 1


def test_memo_keys_on_the_exact_bytes() -> None:
    fast = FastCache(1 << 20)
    q = _stored(fast)
    shouted = dns.message.make_query("WWW.EXAMPLE.LAB.", "A", use_edns=0, payload=1232)
    for _ in range(2):
        hit = fast.lookup(shouted.to_wire(), 101.0)
        assert hit is not None
        assert dns.message.from_wire(hit).question[0].name.to_text() == "WWW.EXAMPLE.LAB."
    plain = fast.lookup(q.to_wire(), 101.0)
    assert plain is not None
    assert dns.message.from_wire(plain).question[0].name.to_text() == "www.example.lab."
    assert fast.memo_hits == 1  # the shouted repeat; the plain one was a different key
    assert fast.lookup(wire("www.example.lab.", "A", use_edns=False), 101.0) is None


def test_memo_stays_inside_its_share_of_the_budget() -> None:
    capacity = 64 << 10
    fast = FastCache(capacity)
    q = _stored(fast)
    rng = random.Random(5)
    for _ in range(2000):  # 0x20 variants: each is its own memo key
        name = "".join(c.upper() if rng.random() < 0.5 else c for c in "www.example.lab.")
        variant = dns.message.make_query(name, "A", use_edns=0, payload=1232)
        assert fast.lookup(variant.to_wire(), 101.0) is not None
        assert fast.size_bytes <= capacity
    assert fast.memo_resets > 0
    fast.clear()
    assert fast.lookup(q.to_wire(), 101.0) is None and fast.size_bytes == 0


def test_truncated_reply_is_kept_for_clients_it_fits() -> None:
    fast = FastCache(1 << 20)
    small = dns.message.make_query("big.example.lab.", "TXT", use_edns=False)
    tc = dns.message.make_response(small)
    tc.flags |= dns.flags.TC
    assert not fast.store(small.to_wire(), tc.to_wire(), 0.0)  # no lifetime: no TTL to go by
    assert fast.store(small.to_wire(), tc.to_wire(), 0.0, lifetime=60)
    hit = fast.lookup(small.to_wire(), 59.0)
    assert hit is not None and hit == tc.to_wire()
    assert fast.lookup(small.to_wire(), 60.0) is None  # the answer it stood for ran out
    e512 = dns.message.make_query("big.example.lab.", "TXT", use_edns=0, payload=512)
    e1232 = dns.message.make_query("big.example.lab.", "TXT", use_edns=0, payload=1232)
    tc512 = dns.message.make_response(e512)
    tc512.flags |= dns.flags.TC
    assert fast.store(e512.to_wire(), tc512.to_wire(), 100.0, lifetime=60)
    assert fast.lookup(e512.to_wire(), 101.0) is not None
    assert fast.lookup(e1232.to_wire(), 101.0) is None  # may fit whole: the full path decides


def test_streams_get_whole_answers_over_the_udp_limit_and_never_tc() -> None:
    """A query without EDNS takes 512 bytes over UDP; over TCP, DoT or DoH the whole stored
    answer is its reply, and that never leaks to UDP through the memo."""
    fast = FastCache(1 << 20)
    q = dns.message.make_query("big.example.lab.", "TXT", use_edns=False)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text_list("big.example.lab.", 300, "IN", "TXT",
                                             [f'"{i} ' + "x" * 200 + '"' for i in range(4)]))
    whole = r.to_wire()
    assert 512 < len(whole) <= 1232
    assert fast.store(q.to_wire(), whole, 0.0)
    assert fast.lookup(q.to_wire(), 1.0) is None  # over UDP: the full path truncates
    for _ in range(2):
        hit = fast.lookup(q.to_wire(), 1.0, stream=True)
        assert hit is not None and dns.message.from_wire(hit).answer == r.answer
    assert fast.lookup(q.to_wire(), 1.0) is None  # still: no memo for UDP
    assert fast.memo_lookup(q.to_wire(), 1.0) is None
    tc = dns.message.make_response(q)
    tc.flags |= dns.flags.TC
    assert fast.store(q.to_wire(), tc.to_wire(), 2.0, lifetime=60)
    assert fast.lookup(q.to_wire(), 3.0, stream=True) is None  # a TC reply: not on streams
    assert fast.lookup(q.to_wire(), 3.0) == tc.to_wire()


def test_a_whole_answer_rendered_for_a_stream_is_kept_over_the_udp_cap() -> None:
    fast = FastCache(1 << 20)
    q = dns.message.make_query("huge.example.lab.", "TXT", use_edns=0, payload=4096)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text_list("huge.example.lab.", 300, "IN", "TXT",
                                             [f'"{i} ' + "y" * 200 + '"' for i in range(10)]))
    whole = r.to_wire()
    assert len(whole) > 2000
    assert not fast.store(q.to_wire(), whole, 0.0)  # from UDP: over the stored size
    assert fast.store(q.to_wire(), whole, 0.0, stream=True)
    assert fast.lookup(q.to_wire(), 1.0) is None  # over UDP it never fits
    hit = fast.lookup(q.to_wire(), 1.0, stream=True)
    assert hit is not None and dns.message.from_wire(hit).answer == r.answer
