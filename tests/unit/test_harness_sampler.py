"""harness.sampler: filters, per-name consistency, dedup, sampling down under load."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from harness.config import SamplerConfig
from harness.records import Query
from harness.sampler import Decision, Sampler, name_point


def q(name: str, qtype: int = 1, do: bool = False) -> Query:
    return Query(qname=name, qtype=qtype, do=do)


def test_everything_by_default() -> None:
    sampler = Sampler(SamplerConfig())
    assert all(sampler.decide(q(f"n{i}.lab."), 0.0) is Decision.SAMPLED for i in range(100))


def test_filters() -> None:
    sampler = Sampler(SamplerConfig(qtypes=frozenset({1}), suffixes=("lab.",),
                                    exclude_suffixes=("bad.lab.",)))
    assert sampler.decide(q("www.lab."), 0) is Decision.SAMPLED
    assert sampler.decide(q("LAB"), 0) is Decision.SAMPLED
    assert sampler.decide(q("www.lab.", 28), 0) is Decision.FILTERED
    assert sampler.decide(q("www.example."), 0) is Decision.FILTERED
    assert sampler.decide(q("xlab."), 0) is Decision.FILTERED
    assert sampler.decide(q("a.bad.lab."), 0) is Decision.FILTERED
    assert sampler.decide(q("bad.lab."), 0) is Decision.FILTERED


@given(st.lists(st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,5}){0,2}", fullmatch=True),
                min_size=1, max_size=30), st.floats(0.0, 1.0))
def test_per_name_is_consistent(names: list[str], p: float) -> None:
    sampler = Sampler(SamplerConfig(probability=p))
    first = {n: sampler.decide(q(n), 0) for n in names}
    for n in names:
        assert sampler.decide(q(n.upper() + "."), 1.0) is first[n]
        assert first[n] is (Decision.SAMPLED if name_point(n) < p else Decision.UNSAMPLED)


def test_probability_is_roughly_kept() -> None:
    per_name = Sampler(SamplerConfig(probability=0.2))
    per_query = Sampler(SamplerConfig(probability=0.2, per_name=False), random.Random(7))
    names = [q(f"host{i}.example.") for i in range(20000)]
    for sampler in (per_name, per_query):
        sampled = sum(sampler.decide(n, 0) is Decision.SAMPLED for n in names)
        assert 3600 < sampled < 4400
    # Per query: the same name comes and goes.
    outcomes = {per_query.decide(q("same.example."), 0) for _ in range(100)}
    assert outcomes == {Decision.SAMPLED, Decision.UNSAMPLED}


def test_salt_changes_the_names() -> None:
    a = Sampler(SamplerConfig(probability=0.5))
    b = Sampler(SamplerConfig(probability=0.5, salt="other"))
    names = [q(f"n{i}.lab.") for i in range(200)]
    assert [a.decide(n, 0) for n in names] != [b.decide(n, 0) for n in names]


def test_dedup_window() -> None:
    sampler = Sampler(SamplerConfig(dedup_window=2.0))
    assert sampler.decide(q("a.lab."), 10.0) is Decision.SAMPLED
    assert sampler.decide(q("A.LAB."), 11.0) is Decision.DUPLICATE
    assert sampler.decide(q("a.lab.", do=True), 11.0) is Decision.SAMPLED  # another question
    assert sampler.decide(q("a.lab.", 28), 11.0) is Decision.SAMPLED
    assert sampler.decide(q("a.lab."), 12.5) is Decision.SAMPLED  # the window has passed
    assert sampler.decide(q("a.lab."), 13.0) is Decision.DUPLICATE


def test_sampling_down_sheds_a_consistent_subset() -> None:
    sampler = Sampler(SamplerConfig(probability=1.0))
    names = [q(f"n{i}.lab.") for i in range(4000)]
    sampler.pressure(True, 1.0, now=0.0)
    sampler.pressure(True, 1.0, now=0.01)  # within DOWN_INTERVAL: one halving only
    assert sampler.scale == 0.5
    decisions = [sampler.decide(n, 0) for n in names]
    kept = {n.qname for n, d in zip(names, decisions, strict=True) if d is Decision.SAMPLED}
    assert set(decisions) == {Decision.SAMPLED, Decision.SHED}
    assert 1700 < len(kept) < 2300
    sampler.pressure(True, 1.0, now=1.0)
    kept_quarter = {n.qname for n in names if sampler.decide(n, 0) is Decision.SAMPLED}
    assert kept_quarter < kept  # a subset of the names kept at half rate
    for _ in range(20):
        sampler.pressure(False, 0.1, now=2.0)
    assert sampler.scale == 1.0
    assert all(sampler.decide(n, 0) is Decision.SAMPLED for n in names)


def test_not_adaptive() -> None:
    sampler = Sampler(SamplerConfig(adaptive=False))
    sampler.pressure(True, 1.0, 0.0)
    assert sampler.scale == 1.0
