"""The project's own scenarios against the real references: the runner drives a resolver
by address (fake authorities on loopback sockets, port 53), so Unbound and Knot Resolver are
checked on the same files the candidate passes in-process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from deckard.known import KnownFailures, judge
from deckard.runner import RunOptions, discover, run_paths

pytestmark = pytest.mark.integration

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.mark.parametrize("kind", ["unbound", "kresd"])
def test_references_pass_the_projects_scenarios(kind: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the scenario's servers bind port 53 on 127.7.x.y: run as root (CI does)")
    if shutil.which(kind) is None and not Path(f"/usr/sbin/{kind}").exists():
        pytest.skip(f"{kind} is not installed")
    results = run_paths(discover([SCENARIOS]),
                        RunOptions(reference=kind, workdir=str(tmp_path)), jobs=1)
    judged = judge(results, KnownFailures.empty())
    problems = [f"{j.result.scenario}[{j.result.variant}]: {j.result.summary}"
                for j in judged if j.unexpected]
    assert not problems, "\n".join(problems)
    ran = [j for j in judged if j.verdict == "pass"]
    assert len(ran) >= 8  # four scenarios without TIME_PASSES, both variants
    skipped = {j.result.scenario for j in judged if j.verdict == "skip"}
    assert skipped == {"glueless_negative_cache"}  # TIME_PASSES: in-process only


def test_by_address_runs_one_variant_against_a_running_resolver(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the scenario's servers bind port 53 on 127.7.x.y: run as root (CI does)")
    if not Path("/usr/sbin/unbound").exists() and shutil.which("unbound") is None:
        pytest.skip("unbound is not installed")
    import asyncio

    from legacy_adapter import ManagedResolver, ReferenceSpec

    async def run() -> list[str]:
        spec = ReferenceSpec(kind="unbound", listen="127.54.53.9", port=5399,
                             workdir=tmp_path / "unbound",
                             root_hints=(("k.root-servers.net.", "127.7.0.1"),),
                             validate=False)
        async with ManagedResolver.from_spec(spec):
            results = await asyncio.to_thread(
                run_paths, [SCENARIOS / "referral_glue.rpl"],
                RunOptions(resolver="127.54.53.9:5399"), 1)
        return [f"{r.variant}:{r.status}:{r.summary}" for r in results]

    assert asyncio.run(run()) == ["ext:pass:"]


def test_unbound_passes_the_divergence_scenarios(tmp_path: Path) -> None:
    """The scenarios written from lab divergences expect Unbound's live answer: a fresh
    Unbound, fed only the recorded authorities' answers, gives it again."""
    if os.geteuid() != 0:
        pytest.skip("the scenario's servers bind port 53 on 127.53.x.y: run as root (CI does)")
    if shutil.which("unbound") is None and not Path("/usr/sbin/unbound").exists():
        pytest.skip("unbound is not installed")
    results = run_paths(discover([SCENARIOS / "divergences"]),
                        RunOptions(reference="unbound", workdir=str(tmp_path)), jobs=1)
    if any("cannot bind" in r.reason for r in results):
        pytest.skip("the lab holds the scenarios' addresses (127.53.x.y) in this session")
    assert [r.status for r in results if r.status != "skip"] == ["pass"] * 3, \
        [f"{r.scenario}[{r.variant}]: {r.summary}" for r in results]
