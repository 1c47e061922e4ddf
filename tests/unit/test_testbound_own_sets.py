"""The project's own testbound-dialect scenarios, one directory per feature under
tests/scenarios/testbound/ (written before the feature, issue 16 part 3): every file passes
against the candidate, in every variant it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckard.runner import RunOptions, run_file
from deckard.scenario import load

TESTBOUND = Path(__file__).parents[1] / "scenarios" / "testbound"
FILES = sorted(TESTBOUND.glob("*/*.rpl"))


def test_every_feature_has_at_least_eight_scenarios() -> None:
    for feature in (d for d in TESTBOUND.iterdir() if d.is_dir()):
        assert len(list(feature.glob("*.rpl"))) >= 8, feature.name


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.stem}" for f in FILES])
def test_own_testbound_scenario_passes(path: Path) -> None:
    assert load(path).steps  # it parses, and has steps
    results = [r for r in run_file(str(path), RunOptions()) if r.status != "skip"]
    assert results  # (a variant the header rules out is skipped)
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"
