"""The project's own held-out style scenarios (tests/scenarios/fixon, measure, measure2,
written by tests/scenarios/src/build.py; tests/scenarios/generalise/{fixon,heldout,heldout2},
written by tests/scenarios/src/build_generalise.py; tests/scenarios/generalise3/{fixon,
heldout,heldout2}, written by tests/scenarios/src/build_generalise3.py, the first two split
by deckard.split's hash rule; tests/scenarios/generalise7, written by
tests/scenarios/src/build_generalise7.py, one directory that the same rule splits at run
time) pass against the candidate in both QNAME minimisation variants, and really are what
their directory says: the same four behaviours (lame or unusable server addresses, DNAME in
insecure zones, changing NS sets, validation next to NXDOMAIN/wildcard proofs) in every set
(generalise3's split halves: in the two together; it adds QNAME-minimisation fallbacks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckard.runner import RunOptions, run_file
from deckard.scenario import load

SCENARIOS = Path(__file__).parents[1] / "scenarios"
SETS = ("fixon", "measure", "measure2", "generalise/fixon", "generalise/heldout",
        "generalise/heldout2", "generalise3/fixon", "generalise3/heldout",
        "generalise3/heldout2", "generalise7")
# sets split by a hash of the name (deckard.split), whose coverage is that of both halves
SPLIT = {"generalise3/fixon": "generalise3/heldout", "generalise3/heldout": "generalise3/fixon"}
FILES = sorted(f for s in SETS for f in (SCENARIOS / s).glob("*.rpl"))


def test_every_set_covers_iteration_and_validation() -> None:
    for s in SETS:
        names = {f.stem for d in (s, SPLIT.get(s, s)) for f in (SCENARIOS / d).glob("*.rpl")}
        assert any(n.startswith("iter_") for n in names), s
        assert any(n.startswith("val_") for n in names), s
    assert any("qmin" in f.stem for f in (SCENARIOS / "generalise3").glob("*/*.rpl"))
    assert len(FILES) >= 76


IDS = [f"{f.relative_to(SCENARIOS).parent}/{f.stem}" for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_own_scenario_passes(path: Path) -> None:
    assert load(path).steps  # it parses, and has steps
    results = run_file(str(path), RunOptions())
    assert [r.variant for r in results] == ["qmin", "noqmin"]
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"


# testbound-dialect sets for unbound.conf options (issue 16 part 3), each file one
# documented aspect of an option; their header fixes the QNAME minimisation variant
OPTION_SETS = ("testbound/options2",)  # private-address / private-domain (helper opts)
OPTION_FILES = sorted(f for s in OPTION_SETS for f in (SCENARIOS / s).glob("*.rpl"))


def test_option_sets_are_there() -> None:
    assert len(OPTION_FILES) >= 8


@pytest.mark.parametrize("path", OPTION_FILES,
                         ids=[f"{f.parent.name}/{f.stem}" for f in OPTION_FILES])
def test_own_option_scenario_passes(path: Path) -> None:
    results = [r for r in run_file(str(path), RunOptions()) if r.status != "skip"]
    assert results and all(r.dialect == "testbound" for r in results)
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"


# Deckard-dialect sets of Knot Resolver's knobs (header keys features/feature-list,
# deckard/kresdconf.py), written by tests/scenarios/src/build_kresd7.py; split at run time
# by deckard.split's rule; their header sets query-minimization: off
KRESD_SETS = ("kresd7",)
KRESD_FILES = sorted(f for s in KRESD_SETS for f in (SCENARIOS / s).glob("*.rpl"))


def test_kresd_sets_are_there() -> None:
    assert len(KRESD_FILES) >= 12
    assert all(load(f).config.kresd_only for f in KRESD_FILES)


@pytest.mark.parametrize("path", KRESD_FILES,
                         ids=[f"{f.parent.name}/{f.stem}" for f in KRESD_FILES])
def test_own_kresd_scenario_passes(path: Path) -> None:
    results = [r for r in run_file(str(path), RunOptions()) if r.status != "skip"]
    assert results
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"
