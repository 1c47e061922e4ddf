"""The bytes fast path: query shapes, TTL arithmetic, and identity with the full path."""

from __future__ import annotations

import random
import struct

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from lab.authserver import LabServer
from lab.manifest import manifest
from lab.run import root_servers
from lab.world import load_world
from lab.zones import build_zones
from resolver.app import ResolverAnswerer
from resolver.cache.dnscache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.fastpath import FastCache, read_query, ttl_offsets
from resolver.frames import FrameQueue
from resolver.model import Frame
from resolver.recursor.core import Recursor
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
    conductor = Conductor(MockTransport(handler), cache.infra, clock, random.Random(1))
    answerer = ResolverAnswerer(Recursor(cache, root_servers(zones), clock), conductor)
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
