"""Unbound's own scenarios (the testbound dialect, ``../shared/unbound-testdata``) against
the candidate: the pass count of each half of the held-out split must not drop below the
floor recorded in ``testbound_floor.yaml`` (raise the floor when it goes up).

Skipped with the reason when the set is not beside the checkout.  No resolver process or
socket is needed: every scenario runs in-process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from deckard.known import DEFAULT_PATH, Judged, KnownFailures, judge
from deckard.report import dialect_totals
from deckard.runner import RunOptions, discover, run_paths
from deckard.split import HALVES, only

REPO = Path(__file__).resolve().parents[2]
SET = REPO / ".." / "shared" / "unbound-testdata"
FLOOR = Path(__file__).with_name("testbound_floor.yaml")


@pytest.fixture(scope="module")
def judged() -> dict[str, list[Judged]]:
    if not SET.is_dir():
        pytest.skip(f"Unbound's testbound scenarios are not at {SET.resolve()} (CI puts "
                    "them beside the checkout)")
    files = discover([SET])
    assert len(files) >= 100, f"only {len(files)} scenarios in {SET}"
    known = KnownFailures.load(DEFAULT_PATH)
    out = {}
    for which in HALVES:
        results = run_paths(only(files, which), RunOptions(), jobs=min(2, os.cpu_count() or 1))
        out[which] = judge(results, known)
    return out


def floors() -> dict[str, int]:
    data = yaml.safe_load(FLOOR.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == set(HALVES), f"{FLOOR}: one floor per half"
    return {k: int(v) for k, v in data.items()}


@pytest.mark.parametrize("which", HALVES)
def test_passes_never_drop_below_the_floor(judged: dict[str, list[Judged]], which: str) -> None:
    totals = dialect_totals(judged[which])["testbound"]
    floor = floors()[which]
    assert totals.passed >= floor, (
        f"{which} half: {totals.passed} of {totals.runs} runs pass, below the floor {floor} "
        f"in {FLOOR.name}"
    )


def test_every_scenario_is_the_testbound_dialect(judged: dict[str, list[Judged]]) -> None:
    runs = [j for js in judged.values() for j in js]
    assert {j.result.dialect for j in runs} == {"testbound"}
    assert not [j for j in runs if j.verdict == "error"], "a testbound file does not parse"


def test_unsupported_runs_name_what_they_lack(judged: dict[str, list[Judged]]) -> None:
    for j in (j for js in judged.values() for j in js if j.verdict == "unsupported"):
        assert j.result.unsupported, j.result.scenario
        assert j.result.reason.startswith("unsupported: ")


def test_every_failure_is_a_known_one(judged: dict[str, list[Judged]]) -> None:
    """Failures are listed with their cause under ``testbound:`` in known_failures.yaml; a
    new one (or a listed one that now passes) must be dealt with there."""
    unexpected = [
        f"{j.result.scenario}[{j.result.variant}] {j.verdict}: "
        + ("now passing, remove it from the known failures" if j.verdict == "xpass"
           else j.result.summary)
        for js in judged.values() for j in js if j.unexpected
    ]
    assert not unexpected, "\n".join(unexpected)
