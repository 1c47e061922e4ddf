"""The resolver's caches: byte-budget ARC (against a plain LRU), RRset ranks and TTLs,
negative caching (RFC 2308, RFC 8020), server RTT/health (RFC 6298) and the facade's budget.

Time is always a number passed in; nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import io

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolver.cache import (
    ARC,
    LRU,
    CachedNegative,
    DnsCache,
    EdnsState,
    InfraCache,
    NegativeCache,
    Rank,
    RRsetCache,
    Security,
)
from resolver.cache.common import RRSET_OVERHEAD_BYTES, entry_charge
from resolver.cache.infra import (
    DEAD_AFTER_TIMEOUTS,
    DEAD_HOLDDOWN_S,
    EDNS_RECHECK_S,
    MAX_LAME_TTL_S,
    MAX_RTO_S,
    MIN_RTO_S,
    UNKNOWN_RTO_S,
)

N = dns.name.from_text
T = dns.rdatatype
NOW = 1000.0


def rr(text: str) -> dns.rrset.RRset:
    """One RRset from zone-file lines sharing owner, TTL, class and type."""
    lines = [line.split() for line in text.strip().splitlines()]
    owner, ttl, rdclass, rdtype = lines[0][:4]
    return dns.rrset.from_text_list(
        owner, int(ttl), rdclass, rdtype, [" ".join(line[4:]) for line in lines]
    )


def soa(zone: str = "example.", ttl: int = 3600, minimum: int = 300) -> dns.rrset.RRset:
    return rr(f"{zone} {ttl} IN SOA ns1.{zone} hostmaster.{zone} 1 7200 900 1209600 {minimum}")


def wire_len(rrset: dns.rrset.RRset) -> int:
    out = io.BytesIO()
    rrset.to_wire(out)
    return out.tell()


# -- ARC and LRU --------------------------------------------------------------------------


class TestARC:
    def test_miss_then_hit_and_counters(self) -> None:
        arc: ARC[str, int] = ARC(100)
        assert arc.get("a") is None
        assert arc.put("a", 1, 10)
        assert arc.get("a") == 1
        assert (arc.hits, arc.misses, arc.evictions) == (1, 1, 0)
        assert "a" in arc and "b" not in arc
        assert len(arc) == 1 and arc.size_bytes == 10

    def test_get_promotes_and_contains_does_not(self) -> None:
        arc: ARC[str, int] = ARC(100)
        arc.put("a", 1, 10)
        assert "a" in arc
        assert arc.peek("a") == 1
        assert (arc.t1_bytes, arc.t2_bytes) == (10, 0)
        assert arc.hits == 0
        arc.get("a")
        assert (arc.t1_bytes, arc.t2_bytes) == (0, 10)

    def test_restoring_a_resident_key_is_not_a_reference(self) -> None:
        arc: ARC[str, int] = ARC(100)
        arc.put("a", 1, 10)
        arc.put("a", 2, 30)
        assert (arc.t1_bytes, arc.t2_bytes) == (30, 0)
        assert arc.peek("a") == 2
        assert arc.size_bytes == 30

    def test_eviction_keeps_byte_budget(self) -> None:
        arc: ARC[str, int] = ARC(100)
        arc.put("hot", 0, 40)
        arc.get("hot")  # T2
        arc.put("b", 1, 40)
        arc.put("c", 2, 40)  # 120 bytes wanted: T1 is over its target p = 0, "b" goes
        assert "hot" in arc and "b" not in arc and "c" in arc
        assert arc.size_bytes == 80 and arc.evictions == 1
        assert arc.b1_bytes == 40  # "b" is remembered as a ghost, without its value
        arc.check_invariants()

    def test_all_recent_cache_evicts_without_ghost(self) -> None:
        arc: ARC[str, int] = ARC(30)
        for key in "abcd":  # T1 alone fills the budget: T1 + B1 <= c leaves no ghost room
            arc.put(key, 0, 10)
        assert "a" not in arc and arc.ghost_count == 0 and arc.evictions == 1
        arc.check_invariants()

    def _two_lists(self) -> ARC[str, int]:
        """T2 = [x], T1 = [b, c], B1 = [a]."""
        arc: ARC[str, int] = ARC(30)
        arc.put("x", 0, 10)
        arc.get("x")
        for key in "abc":
            arc.put(key, 0, 10)
        assert "a" not in arc and arc.b1_bytes == 10
        assert arc.target_t1_bytes == 0
        return arc

    def test_b1_ghost_hit_grows_target_and_lands_in_t2(self) -> None:
        arc = self._two_lists()
        arc.put("a", 1, 10)
        assert arc.ghost_hits == 1
        assert arc.target_t1_bytes == 10
        assert arc.t2_bytes == 20 and "a" in arc  # "a" joined T2 ...
        assert "b" not in arc and "c" in arc  # ... and T1's LRU made room
        assert arc.get("a") == 1
        arc.check_invariants()

    def test_b2_ghost_hit_shrinks_target(self) -> None:
        arc = self._two_lists()
        arc.put("a", 0, 10)  # B1 hit: p = 10; T2 = x a, T1 = c
        arc.get("c")  # T2 = x a c, T1 empty
        arc.put("e", 0, 10)  # nothing in T1: T2's LRU "x" goes to B2
        assert "x" not in arc and arc.b2_bytes == 10
        before = arc.target_t1_bytes
        arc.put("x", 0, 10)
        assert arc.ghost_hits == 2
        assert arc.target_t1_bytes < before
        assert arc.t2_bytes >= 10 and "x" in arc
        arc.check_invariants()

    def test_pop_forgets_resident_and_ghost(self) -> None:
        arc: ARC[str, int] = ARC(20)
        for key in "abc":
            arc.put(key, 0, 10)
        assert arc.pop("c") == 0 and "c" not in arc
        assert arc.pop("a") is None  # a ghost: no value, but forgotten
        assert arc.ghost_count == 0
        arc.put("a", 0, 10)
        assert arc.ghost_hits == 0
        arc.check_invariants()

    def test_ghosts_stay_bounded_under_a_flood(self) -> None:
        arc: ARC[int, int] = ARC(1000)
        for key in range(10_000):
            arc.put(key, key, 7)
            if key % 3 == 0:
                arc.get(key)
        arc.check_invariants()
        assert arc.b1_bytes + arc.b2_bytes <= 2 * 1000 - arc.size_bytes
        assert arc.ghost_count <= 2 * 1000 // 7

    def test_clear(self) -> None:
        arc: ARC[str, int] = ARC(20)
        for key in "abc":
            arc.put(key, 0, 10)
        arc.clear()
        assert len(arc) == 0 and arc.size_bytes == 0 and arc.ghost_count == 0
        arc.check_invariants()


class TestLRU:
    def test_evicts_least_recently_used_by_bytes(self) -> None:
        lru: LRU[str, int] = LRU(30)
        for key in "abc":
            lru.put(key, 0, 10)
        lru.get("a")
        lru.put("d", 0, 15)  # needs 15 bytes: "b" and "c" go
        assert "a" in lru and "d" in lru
        assert "b" not in lru and "c" not in lru
        assert lru.size_bytes == 25 and lru.evictions == 2
        assert not lru.put("x", 0, 31)
        lru.check_invariants()


OPS = st.lists(
    st.tuples(
        st.sampled_from(["get", "put", "pop"]),
        st.integers(min_value=0, max_value=24),
        st.integers(min_value=1, max_value=70),
    ),
    max_size=300,
)


@pytest.mark.parametrize("kind", ["arc", "lru"])
@settings(max_examples=150, deadline=None)
@given(ops=OPS, capacity=st.integers(min_value=1, max_value=200))
def test_random_operations_keep_budget_and_invariants(
    kind: str, ops: list[tuple[str, int, int]], capacity: int
) -> None:
    cache: ARC[int, int] | LRU[int, int] = ARC(capacity) if kind == "arc" else LRU(capacity)
    model: dict[int, int] = {}  # what each key was last given
    for step, (op, key, size) in enumerate(ops):
        if op == "get":
            value = cache.get(key)
            if value is not None:
                assert value == model[key]
        elif op == "put":
            stored = cache.put(key, step, size)
            assert stored == (size <= capacity)
            model[key] = step
            if stored:
                assert key in cache
            else:
                assert key not in cache
        else:
            value = cache.pop(key)
            if value is not None:
                assert value == model[key]
            assert key not in cache
        assert cache.size_bytes <= capacity
        assert len(cache) <= capacity
        cache.check_invariants()
    assert all(cache.peek(k) == model[k] for k in range(25) if k in cache)


def test_scan_resistance_arc_keeps_hot_set_lru_loses_it() -> None:
    """A hot set re-read between bursts of one-time keys, each burst bigger than the cache."""
    capacity, size = 1000, 10  # room for 100 entries
    hot = [f"hot{i}" for i in range(30)]
    arc: ARC[str, int] = ARC(capacity)
    lru: LRU[str, int] = LRU(capacity)
    hot_hits = {"arc": 0, "lru": 0}

    def access(cache: ARC[str, int] | LRU[str, int], key: str) -> bool:
        if cache.get(key) is not None:
            return True
        cache.put(key, 0, size)
        return False

    for cache in (arc, lru):
        for _ in range(3):  # warm up: the hot set is read a few times
            for key in hot:
                access(cache, key)
    one_time = 0
    for _ in range(40):
        for _ in range(150):  # 1500 bytes of keys never seen again
            one_time += 1
            for cache in (arc, lru):
                access(cache, f"scan{one_time}")
        for key in hot:
            hot_hits["arc"] += access(arc, key)
            hot_hits["lru"] += access(lru, key)
    for _ in range(150):  # and the flood has the last word
        one_time += 1
        for cache in (arc, lru):
            access(cache, f"scan{one_time}")

    arc_kept = sum(key in arc for key in hot) / len(hot)
    lru_kept = sum(key in lru for key in hot) / len(hot)
    assert arc_kept >= 0.9
    assert lru_kept <= 0.1
    assert arc_kept - lru_kept >= 0.8
    assert hot_hits["arc"] >= 0.9 * 40 * len(hot)
    assert hot_hits["lru"] == 0
    assert arc.size_bytes <= capacity and lru.size_bytes <= capacity
    arc.check_invariants()


# -- RRset cache --------------------------------------------------------------------------

A_WWW = "www.example. 300 IN A 192.0.2.1\nwww.example. 300 IN A 192.0.2.2"


class TestRRsetCache:
    def test_remaining_ttl_counts_down_and_expires(self) -> None:
        cache = RRsetCache(10_000)
        assert cache.put(rr(A_WWW), Rank.ANSWER_AUTH, NOW)
        hit = cache.get(N("www.example."), T.A, NOW)
        assert hit is not None and hit.rrset.ttl == 300 and hit.expires == NOW + 300
        hit = cache.get(N("www.example."), T.A, NOW + 10.5)
        assert hit is not None and hit.rrset.ttl == 289  # rounded down
        assert set(hit.rrset) == set(rr(A_WWW))
        hit = cache.get(N("www.example."), T.A, NOW + 299.9)
        assert hit is not None and hit.rrset.ttl == 0
        assert cache.get(N("www.example."), T.A, NOW + 300) is None
        assert cache.get(N("www.example."), T.AAAA, NOW) is None
        assert (cache.hits, cache.misses) == (3, 2)

    def test_a_dname_of_ttl_zero_is_kept_for_a_seconds_grace_only_when_asked(self) -> None:
        dname = rr("d.example. 0 IN DNAME example.net.")
        assert not RRsetCache(10_000).put(dname, Rank.ANSWER_AUTH, NOW)  # RFC 1035: not kept
        cache = RRsetCache(10_000, dname_zero_ttl_grace=True)
        assert not cache.put(rr("z.example. 0 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        assert cache.put(dname, Rank.ANSWER_AUTH, NOW + 0.4)
        # whole seconds, as Unbound counts: stored in second NOW, used through second NOW+1
        for later in (0.4, 1.0, 1.9):
            hit = cache.get(N("d.example."), T.DNAME, NOW + later)
            assert hit is not None and hit.rrset.ttl == 0
        assert cache.get(N("d.example."), T.DNAME, NOW + 2) is None

    def test_stores_and_serves_copies(self) -> None:
        cache = RRsetCache(10_000)
        original = rr("www.example. 172800 IN A 192.0.2.1")
        cache.put(original, Rank.ANSWER_AUTH, NOW)
        assert original.ttl == 172800  # the caller's RRset is left alone
        hit = cache.get(N("www.example."), T.A, NOW)
        assert hit is not None and hit.rrset.ttl == 86400  # capped
        hit.rrset.ttl = 5
        hit.rrset.add(rr("www.example. 5 IN A 192.0.2.9")[0])
        again = cache.get(N("www.example."), T.A, NOW)
        assert again is not None and again.rrset.ttl == 86400 and len(again.rrset) == 1

    def test_key_is_case_insensitive_and_class_specific(self) -> None:
        cache = RRsetCache(10_000)
        cache.put(rr("WWW.Example.COM. 60 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        assert cache.get(N("www.example.com."), T.A, NOW) is not None
        assert cache.get(N("www.example.com."), T.A, NOW, rdclass=dns.rdataclass.CH) is None

    def test_ttl_zero_is_not_stored(self) -> None:
        cache = RRsetCache(10_000)
        assert not cache.put(rr("www.example. 0 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        assert len(cache) == 0

    def test_glue_never_overwrites_authoritative_answer(self) -> None:
        cache = RRsetCache(10_000)
        assert cache.put(rr("ns1.example. 300 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        for rank in (
            Rank.ADDITIONAL,
            Rank.AUTHORITY_NONAUTH,
            Rank.ANSWER_NONAUTH,
            Rank.AUTHORITY_AUTH,
        ):
            assert not cache.put(rr("ns1.example. 300 IN A 203.0.113.66"), rank, NOW + 1)
        hit = cache.get(N("ns1.example."), T.A, NOW + 2)
        assert hit is not None and hit.rank is Rank.ANSWER_AUTH
        assert [r.to_text() for r in hit.rrset] == ["192.0.2.1"]
        assert cache.rank_rejections == 4

    def test_authoritative_answer_overwrites_glue(self) -> None:
        cache = RRsetCache(10_000)
        assert cache.put(rr("ns1.example. 172800 IN A 192.0.2.1"), Rank.ADDITIONAL, NOW)
        assert cache.put(rr("ns1.example. 300 IN A 192.0.2.53"), Rank.ANSWER_AUTH, NOW + 1)
        hit = cache.get(N("ns1.example."), T.A, NOW + 1)
        assert hit is not None and hit.rank is Rank.ANSWER_AUTH and hit.rrset.ttl == 300
        assert [r.to_text() for r in hit.rrset] == ["192.0.2.53"]

    def test_equal_rank_replaces(self) -> None:
        cache = RRsetCache(10_000)
        cache.put(rr("a.example. 300 IN A 192.0.2.1"), Rank.ANSWER_NONAUTH, NOW)
        assert cache.put(rr("a.example. 300 IN A 192.0.2.2"), Rank.ANSWER_NONAUTH, NOW)
        hit = cache.get(N("a.example."), T.A, NOW)
        assert hit is not None and [r.to_text() for r in hit.rrset] == ["192.0.2.2"]

    def test_anything_overwrites_expired(self) -> None:
        cache = RRsetCache(10_000)
        cache.put(rr("a.example. 60 IN A 192.0.2.1"), Rank.VALIDATED, NOW, Security.SECURE)
        assert not cache.put(rr("a.example. 60 IN A 192.0.2.2"), Rank.ADDITIONAL, NOW + 59)
        assert cache.put(rr("a.example. 60 IN A 192.0.2.2"), Rank.ADDITIONAL, NOW + 60)
        hit = cache.get(N("a.example."), T.A, NOW + 61)
        assert hit is not None and hit.rank is Rank.ADDITIONAL
        assert hit.security is Security.INDETERMINATE

    def test_rank_order(self) -> None:
        assert (
            Rank.ADDITIONAL
            < Rank.AUTHORITY_NONAUTH
            < Rank.ANSWER_NONAUTH
            < Rank.AUTHORITY_AUTH
            < Rank.ANSWER_AUTH
            < Rank.VALIDATED
        )

    def test_signatures_share_the_lower_ttl(self) -> None:
        cache = RRsetCache(10_000)
        a = rr("www.example. 300 IN A 192.0.2.1")
        sigs = rr(
            "www.example. 200 IN RRSIG A 13 2 300 20300101000000 20200101000000 12345 "
            "example. dGVzdHNpZ25hdHVyZQ=="
        )
        assert cache.put(a, Rank.VALIDATED, NOW, Security.SECURE, sigs=sigs)
        hit = cache.get(N("www.example."), T.A, NOW + 50)
        assert hit is not None and hit.sigs is not None
        assert hit.rrset.ttl == 150 and hit.sigs.ttl == 150
        assert hit.security is Security.SECURE
        assert cache.size_bytes == entry_charge(wire_len(a) + wire_len(sigs)) + RRSET_OVERHEAD_BYTES
        assert cache.get(N("www.example."), T.A, NOW + 200) is None
        with pytest.raises(ValueError):
            cache.put(a, Rank.VALIDATED, NOW, sigs=a)
        with pytest.raises(ValueError):
            cache.put(sigs, Rank.VALIDATED, NOW)

    def test_bogus_is_kept_and_flagged(self) -> None:
        cache = RRsetCache(10_000)
        cache.put(rr("evil.example. 60 IN A 192.0.2.66"), Rank.ANSWER_AUTH, NOW, Security.BOGUS)
        hit = cache.get(N("evil.example."), T.A, NOW)
        assert hit is not None and hit.security is Security.BOGUS

    def test_byte_budget(self) -> None:
        one = rr("h00.example. 60 IN A 192.0.2.1")
        entry = entry_charge(wire_len(one))
        cache = RRsetCache(entry * 5)
        for i in range(50):  # names of equal length: every entry costs the same
            assert cache.put(rr(f"h{i:02d}.example. 60 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
            assert cache.size_bytes <= cache.capacity_bytes
        assert len(cache) == 5
        tiny = RRsetCache(entry - 1)
        assert not tiny.put(one, Rank.ANSWER_AUTH, NOW)

    def test_expired_entry_keeps_its_arc_standing(self) -> None:
        """A popular name with a short TTL is refreshed in place, staying in T2."""
        cache = RRsetCache(10_000)
        cache.put(rr("pop.example. 5 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        cache.get(N("pop.example."), T.A, NOW + 1)
        assert cache.get(N("pop.example."), T.A, NOW + 6) is None  # expired, still a reference
        cache.put(rr("pop.example. 5 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW + 6)
        assert cache.stats()["evictions"] == 0
        assert cache.get(N("pop.example."), T.A, NOW + 7) is not None


# -- negative cache -----------------------------------------------------------------------


class TestNegativeCache:
    @pytest.mark.parametrize(
        ("soa_ttl", "minimum", "expected"),
        [(3600, 300, 300), (60, 300, 60), (86400, 86400, 3600), (300, 0, None)],
    )
    def test_ttl_is_min_of_soa_ttl_and_minimum(
        self, soa_ttl: int, minimum: int, expected: int | None
    ) -> None:
        cache = NegativeCache(10_000)
        stored = cache.put_nxdomain(N("nope.example."), soa(ttl=soa_ttl, minimum=minimum), NOW)
        assert stored == (expected is not None)
        hit = cache.get(N("nope.example."), T.A, NOW)
        if expected is None:
            assert hit is None
            return
        assert hit is not None and hit.soa.ttl == expected
        assert hit.expires == NOW + expected
        later = cache.get(N("nope.example."), T.A, NOW + expected - 0.5)
        assert later is not None and later.soa.ttl == 0
        assert cache.get(N("nope.example."), T.A, NOW + expected) is None

    @pytest.mark.parametrize(
        ("soa_ttl", "minimum", "min_ttl", "expected"),
        [(3600, 30, 300, 300), (3600, 600, 300, 600), (86400, 86400, 7200, 7200),
         (300, 0, 60, 60), (3600, 500, 0, 500)],
    )
    def test_min_ttl_raises_the_negative_ttl_after_its_cap(
        self, soa_ttl: int, minimum: int, min_ttl: int, expected: int
    ) -> None:
        """A resolver's cache-min-ttl raises the negative TTL after the SOA rule and the
        cap (3600 here), as Unbound's rdata_copy does."""
        cache = NegativeCache(10_000, max_ttl=3600)
        assert cache.put_nodata(N("x.example."), T.A, soa(ttl=soa_ttl, minimum=minimum), NOW,
                                min_ttl=min_ttl)
        hit = cache.get(N("x.example."), T.A, NOW)
        assert hit is not None and hit.expires == NOW + expected

    @pytest.mark.parametrize("shared", [False, True])
    def test_a_denial_can_show_the_zones_latest_soa(self, shared: bool) -> None:
        """shared_soa (Unbound's message cache refers to the RRset cache): a denial stored
        later with a newer SOA shows in an earlier one, with its TTL; the earlier denial
        still expires when it was due."""
        cache = NegativeCache(10_000, shared_soa=shared)
        old = soa(ttl=10, minimum=10)
        new = rr("example. 10 IN SOA ns1.example. hostmaster.example. 2 7200 900 1209600 10")
        cache.put_nxdomain(N("a.example."), old, NOW)
        cache.put_nxdomain(N("b.example."), new, NOW + 5)
        hit = cache.get(N("a.example."), T.A, NOW + 5)
        assert hit is not None and hit.soa is not None
        assert (hit.soa[0].serial, hit.soa.ttl) == ((2, 10) if shared else (1, 5))
        assert cache.get(N("a.example."), T.A, NOW + 10) is None

    def test_nxdomain_covers_every_type_and_descendants(self) -> None:
        cache = NegativeCache(10_000)
        cache.put_nxdomain(N("Gone.Example."), soa(), NOW)
        for qname in ("gone.example.", "www.gone.example.", "a.b.c.GONE.example."):
            for qtype in (T.A, T.AAAA, T.MX):
                hit = cache.get(N(qname), qtype, NOW + 1)
                assert isinstance(hit, CachedNegative), (qname, qtype)
                assert hit.kind == "nxdomain" and hit.name == N("gone.example.")
                assert hit.soa.ttl == 299
        assert cache.get(N("example."), T.A, NOW) is None
        assert cache.get(N("sibling.example."), T.A, NOW) is None
        assert cache.get(N("notgone.example."), T.A, NOW) is None
        with pytest.raises(ValueError):
            cache.put_nxdomain(dns.name.root, soa(), NOW)

    def test_nodata_is_per_type(self) -> None:
        cache = NegativeCache(10_000)
        assert cache.put_nodata(N("www.example."), T.AAAA, soa(), NOW)
        hit = cache.get(N("www.example."), T.AAAA, NOW)
        assert hit is not None and hit.kind == "nodata" and hit.rdtype == T.AAAA
        assert cache.get(N("www.example."), T.A, NOW) is None
        assert cache.get(N("sub.www.example."), T.AAAA, NOW) is None

    def test_nodata_proves_the_name_exists(self) -> None:
        cache = NegativeCache(10_000)
        cache.put_nxdomain(N("new.example."), soa(), NOW)
        cache.put_nodata(N("new.example."), T.AAAA, soa(), NOW + 5)
        assert cache.get(N("new.example."), T.A, NOW + 6) is None
        hit = cache.get(N("new.example."), T.AAAA, NOW + 6)
        assert hit is not None and hit.kind == "nodata"

    def test_own_nodata_beats_ancestor_nxdomain(self) -> None:
        cache = NegativeCache(10_000)
        cache.put_nxdomain(N("gone.example."), soa(), NOW)
        cache.put_nodata(N("x.gone.example."), T.A, soa(), NOW)
        hit = cache.get(N("x.gone.example."), T.A, NOW)
        assert hit is not None and hit.kind == "nodata"

    def test_secure_cut_only(self) -> None:
        cache = NegativeCache(10_000, secure_cut_only=True)
        cache.put_nxdomain(N("a.example."), soa(), NOW, security=Security.INSECURE)
        cache.put_nxdomain(N("b.example."), soa(), NOW, security=Security.SECURE)
        assert cache.get(N("a.example."), T.A, NOW) is not None
        assert cache.get(N("x.a.example."), T.A, NOW) is None
        hit = cache.get(N("x.b.example."), T.A, NOW)
        assert hit is not None and hit.security is Security.SECURE

    def test_proofs_are_kept_with_remaining_ttl(self) -> None:
        cache = NegativeCache(10_000)
        nsec = rr("f.example. 600 IN NSEC h.example. A RRSIG NSEC")
        cache.put_nxdomain(N("g.example."), soa(), NOW, proofs=[nsec], security=Security.SECURE)
        hit = cache.get(N("g.example."), T.TXT, NOW + 100)
        assert hit is not None and hit.security is Security.SECURE
        assert len(hit.proofs) == 1 and hit.proofs[0].rdtype == T.NSEC
        assert hit.proofs[0].ttl == 200  # never outlives the negative TTL

    def test_needs_an_soa(self) -> None:
        cache = NegativeCache(10_000)
        with pytest.raises(ValueError):
            cache.put_nxdomain(N("x.example."), rr("x.example. 60 IN A 192.0.2.1"), NOW)


# -- infra cache --------------------------------------------------------------------------


class TestInfraCache:
    def test_rfc6298_worked_example(self) -> None:
        infra = InfraCache(100)
        assert infra.srtt("192.0.2.1") is None
        assert infra.rto("192.0.2.1") == UNKNOWN_RTO_S
        infra.rtt_update("192.0.2.1", 0.100, NOW)
        # first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR
        assert infra.srtt("192.0.2.1") == pytest.approx(0.100)
        assert infra.rto("192.0.2.1") == pytest.approx(0.300)
        infra.rtt_update("192.0.2.1", 0.200, NOW + 1)
        # RTTVAR = 3/4*0.05 + 1/4*|0.1-0.2| = 0.0625; SRTT = 7/8*0.1 + 1/8*0.2 = 0.1125
        assert infra.srtt("192.0.2.1") == pytest.approx(0.1125)
        assert infra.rto("192.0.2.1") == pytest.approx(0.1125 + 4 * 0.0625)
        infra.rtt_update("192.0.2.1", 0.050, NOW + 2)
        # RTTVAR = 3/4*0.0625 + 1/4*0.0625 = 0.0625; SRTT = 7/8*0.1125 + 1/8*0.05 = 0.1046875
        assert infra.srtt("192.0.2.1") == pytest.approx(0.1046875)
        assert infra.rto("192.0.2.1") == pytest.approx(0.1046875 + 0.25)

    def test_rto_bounds(self) -> None:
        infra = InfraCache(100)
        infra.rtt_update("fast", 0.001, NOW)
        assert infra.rto("fast") == MIN_RTO_S
        infra.rtt_update("slow", 30.0, NOW)
        assert infra.rto("slow") == MAX_RTO_S
        with pytest.raises(ValueError):
            infra.rtt_update("x", -1.0, NOW)

    def test_timeouts_back_off_then_hold_down_then_reprobe(self) -> None:
        infra = InfraCache(100)
        addr = "2001:db8::53"
        infra.rtt_update(addr, 0.1, NOW)
        rto = infra.rto(addr)
        for i in range(1, DEAD_AFTER_TIMEOUTS):
            assert not infra.timeout(addr, NOW + i)
            assert infra.rto(addr) == pytest.approx(min(MAX_RTO_S, rto * 2**i))
            assert not infra.is_dead(addr, NOW + i)
        assert infra.consecutive_timeouts(addr) == DEAD_AFTER_TIMEOUTS - 1
        t_dead = NOW + DEAD_AFTER_TIMEOUTS
        assert infra.timeout(addr, t_dead)
        assert infra.is_dead(addr, t_dead)
        assert infra.is_dead(addr, t_dead + DEAD_HOLDDOWN_S - 0.1)
        assert not infra.is_dead(addr, t_dead + DEAD_HOLDDOWN_S)  # may be re-probed
        t_probe = t_dead + DEAD_HOLDDOWN_S + 1
        assert infra.timeout(addr, t_probe)  # the probe failed: dead again at once
        assert infra.is_dead(addr, t_probe + DEAD_HOLDDOWN_S - 0.1)
        infra.rtt_update(addr, 0.1, t_probe + DEAD_HOLDDOWN_S)  # the next probe answered
        assert not infra.is_dead(addr, t_probe + DEAD_HOLDDOWN_S)
        assert infra.consecutive_timeouts(addr) == 0

    def test_an_answer_resets_the_timeout_run(self) -> None:
        infra = InfraCache(100)
        for _ in range(DEAD_AFTER_TIMEOUTS - 1):
            infra.timeout("a", NOW)
        infra.rtt_update("a", 0.1, NOW)
        for _ in range(DEAD_AFTER_TIMEOUTS - 1):
            assert not infra.timeout("a", NOW)
        assert not infra.is_dead("a", NOW)

    def test_edns_fallback_and_recheck(self) -> None:
        infra = InfraCache(100)
        assert infra.edns_ok("old", NOW)
        infra.set_edns("old", False, NOW)
        assert infra.edns_state("old") is EdnsState.NO_EDNS
        assert not infra.edns_ok("old", NOW + EDNS_RECHECK_S - 1)
        assert infra.edns_ok("old", NOW + EDNS_RECHECK_S)
        infra.set_edns("old", True, NOW + EDNS_RECHECK_S)
        assert infra.edns_state("old") is EdnsState.SUPPORTED

    def test_confirmed_edns_is_not_downgraded_by_one_failure(self) -> None:
        infra = InfraCache(100)
        infra.set_edns("good", True, NOW)
        infra.set_edns("good", False, NOW + 10)
        assert infra.edns_ok("good", NOW + 10)
        infra.set_edns("good", False, NOW + EDNS_RECHECK_S)
        assert not infra.edns_ok("good", NOW + EDNS_RECHECK_S + 1)

    def test_lameness_is_per_zone_and_expires(self) -> None:
        infra = InfraCache(100)
        infra.mark_lame("192.0.2.1", N("Example.COM."), NOW, 60)
        assert infra.is_lame("192.0.2.1", N("example.com."), NOW + 59)
        assert not infra.is_lame("192.0.2.1", N("example.net."), NOW)
        assert not infra.is_lame("192.0.2.2", N("example.com."), NOW)
        assert not infra.is_lame("192.0.2.1", N("example.com."), NOW + 60)
        infra.mark_lame("192.0.2.1", N("example.org."), NOW, 10 * MAX_LAME_TTL_S)
        assert not infra.is_lame("192.0.2.1", N("example.org."), NOW + MAX_LAME_TTL_S)

    def test_capacity_in_servers(self) -> None:
        infra = InfraCache(2)
        for addr in ("a", "b", "c"):
            infra.rtt_update(addr, 0.1, NOW)
        assert len(infra) == 2
        assert infra.srtt("a") is None and infra.srtt("c") == pytest.approx(0.1)


# -- facade -------------------------------------------------------------------------------


class TestDnsCache:
    def test_the_budget_goes_to_the_caches_in_use_and_neither_evicts_the_other(self) -> None:
        """The byte budget is split between the RRset and the negative cache and nothing
        else: flooding each fills it to its share without evicting the other's entries, and
        the two together fill (nearly) the whole budget, within it."""
        total = 1_000_000
        cache = DnsCache(total, infra_entries=50)
        soa = rr("example. 300 IN SOA ns.example. host.example. 1 2 3 4 300")
        kept_rrsets = [N(f"kept{i}.example.") for i in range(20)]
        kept_denials = [N(f"gone{i}.example.") for i in range(20)]
        for name in kept_rrsets:
            assert cache.rrsets.put(rr(f"{name} 300 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
        for name in kept_denials:
            assert cache.negative.put_nxdomain(name, soa, NOW)
        for name in kept_rrsets + kept_denials:  # seen twice: the ARC's frequent side
            assert cache.rrsets.get(name, T.A, NOW) or cache.negative.get(name, T.A, NOW)
        for i in range(20_000):  # several times the whole budget, each
            cache.rrsets.put(rr(f"h{i}.example. 300 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
            cache.negative.put_nxdomain(N(f"nx{i}.example."), soa, NOW)
        assert len(cache.rrsets) < 20_000 and len(cache.negative) < 20_000  # both full
        assert all(cache.negative.get(n, T.A, NOW) for n in kept_denials)
        assert all(cache.rrsets.get(n, T.A, NOW) for n in kept_rrsets)
        assert cache.rrsets.size_bytes > cache.negative.size_bytes > 0
        assert 0.9 * total < cache.rrsets.size_bytes + cache.negative.size_bytes <= total
        assert cache.size_bytes <= total + cache.parent_side.capacity_bytes

    def test_stats(self) -> None:
        cache = DnsCache(1_000_000, infra_entries=50)
        cache.rrsets.put(rr(A_WWW), Rank.ANSWER_AUTH, NOW)
        cache.rrsets.get(N("www.example."), T.A, NOW)
        cache.infra.rtt_update("192.0.2.1", 0.1, NOW)
        stats = cache.stats()
        assert set(stats) == {"rrset", "negative", "infra"}
        assert stats["rrset"]["hits"] == 1 and stats["rrset"]["entries"] == 1
        assert stats["infra"]["entries"] == 1
        assert cache.size_bytes == cache.rrsets.size_bytes > 0
        cache.clear()
        assert cache.size_bytes == 0 and len(cache.infra) == 0


def test_referral_ds_denial_has_no_soa_and_the_proofs_ttl() -> None:
    cache = NegativeCache(10_000)
    nsec = rr("sub.example. 600 IN NSEC www.example. NS RRSIG NSEC")
    assert not cache.put_referral_ds_denial(N("sub.example."), [], NOW)  # nothing to prove
    assert cache.put_referral_ds_denial(N("sub.example."), [nsec], NOW)
    hit = cache.get(N("sub.example."), T.DS, NOW + 100)
    assert hit is not None and hit.soa is None and hit.kind == "nodata"
    assert hit.proofs[0].ttl == 500
    assert cache.get(N("sub.example."), T.A, NOW) is None  # about the DS only
    assert cache.get(N("sub.example."), T.DS, NOW + 600) is None


def test_wire_size_from_fields_equals_rendering() -> None:
    import io

    from resolver.cache.common import wire_size

    sig = ("A 13 3 300 20301231000000 20201231000000 12345 example. "
           "ZsKG0TImVm+nAuWvn+Kg61WIet0E++Bt")
    corpus = [
        "www.example. 300 IN A 192.0.2.1", "www.example. 300 IN AAAA 2001:db8::1",
        "www.example. 300 IN RRSIG " + sig,
        "Ab.example. 300 IN NSEC c.example. A NS SOA RRSIG NSEC TYPE65534",
        "0123456789abcdefghijklmnopqrstuv.example. 300 IN NSEC3 1 1 10 aabbccdd "
        "0123456789ABCDEFGHIJKLMNOPQRSTUV A RRSIG",
        "0123456789abcdefghijklmnopqrstuv.example. 300 IN NSEC3 1 0 0 - "
        "0123456789ABCDEFGHIJKLMNOPQRSTUV",
        "example. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpV",
        "example. 300 IN DS 12345 13 2 " + "AB" * 32,
        "example. 300 IN NS ns1.example.", "x.example. 300 IN CNAME y.example.",
        "d.example. 300 IN DNAME t.example.", "1.2.0.192.in-addr.arpa. 300 IN PTR h.example.",
        "example. 300 IN SOA ns.example. host.example. 1 2 3 4 5",
        "example. 300 IN MX 10 mail.example.", 'example. 300 IN TXT "a" "" "bcd"',
        "example. 300 IN SRV 0 5 53 t.example.",  # not counted by fields: rendered
        "example. 300 IN CAA 0 issue \"ca.example\"",
    ]
    for text in corpus:
        r = rr(text)
        out = io.BytesIO()
        r.to_wire(out)
        assert wire_size(r) == out.tell(), text
    two = rr("www.example. 300 IN A 192.0.2.1")
    two.add(rr("www.example. 300 IN A 192.0.2.2")[0])
    out = io.BytesIO()
    two.to_wire(out)
    assert wire_size(two) == out.tell()


def test_flush_name_forgets_the_name_only() -> None:
    cache = DnsCache(1 << 20)
    cache.rrsets.put(rr("www.example. 300 IN A 192.0.2.1"), Rank.ANSWER_AUTH, NOW)
    cache.rrsets.put(rr("a.www.example. 300 IN A 192.0.2.2"), Rank.ANSWER_AUTH, NOW)
    cache.rrsets.put(rr("example. 300 IN NS ns.example."), Rank.ANSWER_AUTH, NOW)
    cache.negative.put_nodata(N("WWW.example."), T.AAAA, soa(), NOW)
    cache.parent_side.put(rr("www.example. 300 IN A 192.0.2.9"), Rank.ADDITIONAL, NOW)
    assert cache.flush_name(N("www.Example.")) == 3
    assert cache.rrsets.get(N("www.example."), T.A, NOW) is None
    assert cache.negative.get(N("www.example."), T.AAAA, NOW) is None
    assert cache.parent_side.get(N("www.example."), T.A, NOW) is None
    assert cache.rrsets.get(N("a.www.example."), T.A, NOW) is not None
    assert cache.rrsets.get(N("example."), T.NS, NOW) is not None


def test_the_process_budget_covers_the_reply_cache_too() -> None:
    """``--cache-mb`` is the budget of every cache of a process: the reply cache's quarter
    and the DNS caches' rest add up to it (the reply cache used to come on top)."""
    from resolver.app import build
    from resolver.clock import ManualClock
    from resolver.conductor import MockTransport
    from resolver.config import ResolverConfig

    config = ResolverConfig(cache_bytes=40 * 1024 * 1024, validation=False)
    assert config.reply_cache_bytes + config.dns_cache_bytes == config.cache_bytes
    assert config.reply_cache_bytes == 10 * 1024 * 1024
    answerer = build(config, ManualClock(), MockTransport(lambda address, query, tcp: None))
    recursor = answerer.recursor
    assert isinstance(recursor.cache, DnsCache)  # type: ignore[attr-defined]
    assert recursor.cache.total_bytes == config.dns_cache_bytes  # type: ignore[attr-defined]
