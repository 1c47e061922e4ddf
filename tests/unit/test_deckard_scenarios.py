"""The project's own Deckard scenarios (tests/scenarios/) pass against the candidate, and
exercise what they say they do (the upstream traffic shows the lame servers, the TCP retry,
the cached answers)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from deckard.candidate import Candidate, CandidateConfig
from deckard.fakenet import ScenarioNet
from deckard.network import check_playable
from deckard.runner import CandidateTarget, RunOptions, play, run_file
from deckard.scenario import load

SCENARIOS = Path(__file__).parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.rpl"))


def test_there_are_scenarios() -> None:
    assert {f.stem for f in FILES} >= {
        "referral_glue", "cname_cross_zone", "lame_server", "tcp_fallback",
        "glueless_negative_cache",
    }


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_own_scenario_passes(path: Path) -> None:
    results = run_file(str(path), RunOptions())
    assert [r.variant for r in results] == ["qmin", "noqmin"]
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_own_scenarios_use_loopback_only(path: Path) -> None:
    scenario = load(path)
    if any(s.kind == "TIME_PASSES" for s in scenario.steps):
        pytest.skip("uses TIME_PASSES: in-process only")
    check_playable(scenario)  # raises if some address would leave the machine


async def traffic(name: str, qmin: bool) -> list[str]:
    scenario = load(SCENARIOS / f"{name}.rpl")
    net = ScenarioNet(scenario, rng=random.Random(3))
    candidate = Candidate(CandidateConfig.from_scenario(scenario.config, qmin), net, seed=3)
    assert await play(scenario, CandidateTarget(candidate), net, random.Random(4)) is None
    return [str(x) for x in net.log]


@pytest.mark.parametrize("qmin", [True, False])
async def test_truncated_answer_is_asked_again_over_tcp(qmin: bool) -> None:
    log = await traffic("tcp_fallback", qmin)
    to_server = [x for x in log if "127.7.2.1" in x]
    assert to_server == [
        "step 10: www.example.com. A to 127.7.2.1/udp: STEP 11 REPLY",
        "step 10: www.example.com. A to 127.7.2.1/tcp: STEP 12 REPLY",
    ]


@pytest.mark.parametrize("qmin", [True, False])
async def test_lame_servers_are_tried_once_then_the_other_server(qmin: bool) -> None:
    log = await traffic("lame_server", qmin)
    assert sum("to 127.7.2.1/" in x for x in log) == 1  # REFUSED: not asked again
    assert any("ns.good.net. A to 127.7.5.1" in x for x in log)  # the glue-less NS looked up
    assert any("www.lame.com. A to 127.7.4.1" in x for x in log)  # the upward referral
    assert any("www.lame.com. A to 127.7.5.1" in x for x in log)


async def test_cached_answers_cost_no_traffic() -> None:
    log = await traffic("referral_glue", qmin=False)
    assert all(x.startswith("step 10:") for x in log)  # nothing at step 20: from cache
    log = await traffic("glueless_negative_cache", qmin=False)
    nx = [x for x in log if "nx.example.com." in x]
    assert [x.split(":")[0] for x in nx] == ["step 12", "step 50"]  # not at 30: still cached


@pytest.mark.parametrize("qmin", [True, False])
async def test_a_cname_chain_in_one_answer_is_followed_without_asking_again(qmin: bool) -> None:
    log = await traffic("cname_cross_zone", qmin)
    assert not any("alias.example.com." in x for x in log)  # the in-zone hop came with it
    assert any("www.example.net. A to 127.7.3.1" in x for x in log)  # the out-of-zone one asked


DIVERGENCES = sorted((SCENARIOS / "divergences").glob("*.rpl"))


def test_there_are_divergence_scenarios() -> None:
    assert {f.stem for f in DIVERGENCES} >= {"drop_answer", "corrupt_signature",
                                              "corrupt_denial"}


@pytest.mark.parametrize("path", DIVERGENCES, ids=[f.stem for f in DIVERGENCES])
async def test_divergence_scenario_passes_fixed_and_fails_with_its_fault(path: Path) -> None:
    """Scenarios written by ``shadowdns report scenario`` from divergences found on the lab
    (tests/scenarios/divergences/README.md): the candidate passes them; with the fault that
    caused the divergence (the file's name) at its Exchanger seam, it fails at the check."""
    from harness.seamfaults import FaultyExchanger

    scenario = load(path)
    check_playable(scenario)
    for qmin_qtype in ("NS", "A"):
        results = await asyncio.to_thread(run_file, str(path), RunOptions(qmin_qtype=qmin_qtype))
        assert [r.status for r in results if r.status != "skip"] == ["pass"], results
    for seed in (1, 2, 3):
        net = ScenarioNet(scenario, rng=random.Random(seed))
        config = CandidateConfig.from_scenario(scenario.config, bool(scenario.config.qmin))
        candidate = Candidate(config, net, seed=seed,
                              exchanger=lambda e: FaultyExchanger(e, path.stem))
        failure = await play(scenario, CandidateTarget(candidate), net, random.Random(seed))
        assert failure is not None and failure.kind == "CHECK_ANSWER", failure
