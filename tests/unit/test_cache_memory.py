"""The caches hold what they charge (issue 24 part 1, "memory flat").

A byte budget bounds memory only if an entry's charge covers what it really holds.  Each
test feeds a cache many more unique entries than its budget takes, parsing them the way
the resolver does, and measures with tracemalloc what the cache still holds afterwards:
it must stay within the budget.  Before 2026-12-08 a small reply in the reply cache was
charged ~55 % of its real size and a denial with an NSEC proof ~64 %: both caches, full,
held 1.4-1.6 times their budgets.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import dns.message
import dns.name
import dns.rrset

from resolver import dnsfast
from resolver.cache.arc import ARC, GHOST_SHARE
from resolver.cache.common import Rank
from resolver.cache.negative import NegativeCache
from resolver.cache.reply import FastCache
from resolver.cache.rrset import RRsetCache

BUDGET = 100_000
ENTRIES = 1_000  # each test's entries would take several budgets
SIG = "13 0 300 20270107003130 20261207233130 52782 zone.lab. " + "A" * 88


def held(fill: Callable[[], object]) -> int:
    """Bytes still allocated after ``fill`` (what the cache it filled holds).  dnspython's
    own parse, not resolver.dnsfast's (its process-wide memos, bounded by count, would be
    counted here when an earlier test installed it)."""
    was_fast = dnsfast.installed()
    dnsfast.uninstall()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill()
        gc.collect()  # what the cache let go of, even in a reference cycle, is not held
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        if was_fast:
            dnsfast.install()


def _reply(i: int, records: int) -> tuple[bytes, bytes]:
    name = f"n{i}.example.lab."
    q = dns.message.make_query(name, "A", use_edns=0)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text(name, 300, "IN", "A",
                                        *[f"127.0.0.{k}" for k in range(1, records + 1)]))
    return q.to_wire(), r.to_wire()


def _denial(i: int) -> bytes:
    """An NXDOMAIN with its SOA and an NSEC proof, both signed (as the lab's zones answer)."""
    zone = "zone.lab."
    r = dns.message.make_response(dns.message.make_query(f"x{i}.{zone}", "A"))
    r.authority.append(dns.rrset.from_text(
        zone, 300, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} 1 7200 3600 1209600 300"))
    r.authority.append(dns.rrset.from_text(zone, 300, "IN", "RRSIG", "SOA " + SIG))
    r.authority.append(dns.rrset.from_text(f"w{i}.{zone}", 300, "IN", "NSEC",
                                           f"z{i}.{zone} A RRSIG NSEC"))
    r.authority.append(dns.rrset.from_text(f"w{i}.{zone}", 300, "IN", "RRSIG", "NSEC " + SIG))
    return r.to_wire()


def test_the_reply_cache_holds_no_more_than_its_budget() -> None:
    for records in (1, 4):
        pairs = [_reply(i, records) for i in range(ENTRIES)]
        wires = [(q, bytearray(r)) for q, r in pairs]  # fresh bytes made in the fill
        cache = FastCache(BUDGET)

        def fill(cache: FastCache = cache, wires: list[tuple[bytes, bytearray]] = wires
                 ) -> None:
            for q, r in wires:
                cache.store(q, bytes(r), 0.0)

        assert held(fill) <= BUDGET, f"{records} records a reply"
        assert cache.size_bytes <= BUDGET and len(cache) < ENTRIES


def test_the_negative_cache_holds_no_more_than_its_budget() -> None:
    wires = [_denial(i) for i in range(ENTRIES)]
    cache = NegativeCache(BUDGET)

    def fill() -> None:
        for w in wires:
            m = dns.message.from_wire(w)
            cache.put_nxdomain(m.question[0].name, m.authority[0], 0.0,
                               proofs=m.authority[1:])

    assert held(fill) <= BUDGET
    assert cache.size_bytes <= BUDGET and len(cache) < ENTRIES


def test_the_rrset_cache_holds_no_more_than_its_budget() -> None:
    wires = []
    for i in range(ENTRIES):
        r = dns.message.make_response(dns.message.make_query(f"a{i}.zone.lab.", "A"))
        r.answer.append(dns.rrset.from_text(f"a{i}.zone.lab.", 300, "IN", "A", "127.0.0.1"))
        r.answer.append(dns.rrset.from_text(f"a{i}.zone.lab.", 300, "IN", "RRSIG", "A " + SIG))
        wires.append(r.to_wire())
    cache = RRsetCache(BUDGET)

    def fill() -> None:
        for w in wires:
            m = dns.message.from_wire(w)
            cache.put(m.answer[0], Rank.ANSWER_AUTH, 0.0, sigs=m.answer[1])

    assert held(fill) <= BUDGET
    assert cache.size_bytes <= BUDGET and len(cache) < ENTRIES


def test_the_reply_cache_with_its_ghosts_holds_at_most_an_eighth_more() -> None:
    """Every entry asked again once (so ARC's T2 holds them and their evictions leave B2
    ghosts): the ghosts' keys and nodes, in no entry's charge, cost at most
    1/:data:`GHOST_SHARE` of the budget (uncapped: a ghost per entry, 1.22x the budget)."""
    pairs = [_reply(i, 1) for i in range(ENTRIES)]
    wires = [(q, bytearray(r)) for q, r in pairs]
    cache = FastCache(BUDGET)

    def fill() -> None:
        for q, r in wires:
            cache.store(q, bytes(r), 0.0)
            cache.lookup(q, 0.5)

    assert held(fill) <= BUDGET + BUDGET // GHOST_SHARE
    assert cache._arc.ghosts_shed > 0


def test_ghosts_are_capped_by_what_they_cost() -> None:
    arc: ARC[int, int] = ARC(10_000, ghost_bytes=100)  # at most 10_000 // 8 // 100 = 12
    for i in range(1_000):
        arc.put(i, i, 50)
        arc.get(i)  # to T2: its evictions are B2 ghosts
        assert arc.ghost_count <= 12
        arc.check_invariants()
    assert arc.ghosts_shed > 0 and arc.stats()["ghosts_shed"] == arc.ghosts_shed
    plain: ARC[int, int] = ARC(10_000)  # without ghost_bytes: the paper's directory
    for i in range(1_000):
        plain.put(i, i, 50)
        plain.get(i)
    assert plain.ghost_count > 12 and plain.ghosts_shed == 0
