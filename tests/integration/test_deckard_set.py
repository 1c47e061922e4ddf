"""The whole shared Deckard set against the candidate: the outcome equals the known-failures
list, so CI catches a regression (an unexpected failure) and an improvement (a listed
scenario that now passes, to be removed from deckard/known_failures.yaml) alike.

The set lives next to the checkout (``../shared/deckard/sets/resolver``), as in CI; the
test is skipped with the reason when it is absent.  No resolver process or socket is
needed: every scenario runs in-process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from deckard.known import DEFAULT_PATH, Judged, KnownFailures, judge, stale_entries
from deckard.runner import RunOptions, discover, run_paths

REPO = Path(__file__).resolve().parents[2]
SET = REPO / ".." / "shared" / "deckard" / "sets" / "resolver"
BUDGET_S = 600.0  # the limit for the whole set on 2 cores


@pytest.fixture(scope="module")
def judged() -> list[Judged]:
    if not SET.is_dir():
        pytest.skip(f"the shared Deckard set is not at {SET.resolve()} (CI puts it beside "
                    "the checkout)")
    files = discover([SET])
    assert len(files) > 100, f"only {len(files)} scenarios in {SET}"
    start = time.perf_counter()
    results = run_paths(files, RunOptions(), jobs=min(2, os.cpu_count() or 1))
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET_S, f"the set took {elapsed:.0f} s"
    return judge(results, KnownFailures.load(DEFAULT_PATH))


def test_outcome_equals_the_known_failures(judged: list[Judged]) -> None:
    unexpected = [
        f"{j.result.scenario}[{j.result.variant}] {j.verdict}: "
        + (f"now passing, remove it from {DEFAULT_PATH.name}" if j.verdict == "xpass"
           else j.result.summary)
        for j in judged
        if j.unexpected
    ]
    assert not unexpected, "\n".join(unexpected)


def test_every_known_failure_is_still_a_scenario_that_fails(judged: list[Judged]) -> None:
    known = KnownFailures.load(DEFAULT_PATH)
    names = {j.result.scenario for j in judged}
    missing = sorted(set(known.entries) - names)
    assert not missing, f"known failures for scenarios not in the set: {missing}"
    assert stale_entries(known, judged) == []
    failing = {j.result.scenario for j in judged if j.verdict == "xfail"}
    assert failing == set(known.entries)


def test_the_generic_set_mostly_runs(judged: list[Judged]) -> None:
    ran = [j for j in judged if j.verdict != "skip" and j.result.generic]
    passed = [j for j in ran if j.verdict == "pass"]
    assert len(passed) >= 80, f"only {len(passed)} of {len(ran)} generic runs pass"
