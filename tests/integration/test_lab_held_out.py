"""The held-out noise kinds through real validators, and the live differ benchmark end to end:
the lab, Unbound as the reference, a fault proxy in front of a second Unbound as the
candidate, through the harness."""

from __future__ import annotations

from pathlib import Path

import dns.rdatatype
import pytest

from harness.records import VerdictKind
from lab.manifest import agrees, manifest
from lab.run import LabInfo
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver
from shadowdns.bench.differ import held_out_kinds, select_kinds
from shadowdns.bench.differ_live import LiveConfig, live_accuracy, live_report
from shadowdns.demo import ask

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

HELD_OUT = select_kinds(manifest(load_world()), "held-out")


@pytest.mark.parametrize("kind", ["unbound", "kresd"])
@pytest.mark.parametrize("entry", HELD_OUT, ids=lambda e: f"{e.name}{e.rdtype.name}")
async def test_held_out_names_validate_and_agree_with_the_manifest(
        references: dict[str, ManagedResolver], kind: str, entry: ManifestEntry) -> None:
    ref = references[kind]
    for _ in range(2):  # the first answer fetched, the second from the cache
        observed = await ask(entry, ref.address, ref.port)
        assert observed.response is not None, f"{kind}: {observed.error}"
        ok, why = agrees(entry, observed.response)
        assert ok, f"{kind} on {entry.name} {entry.rdtype.name}: {why}\n{observed.response}"


async def test_whoami_tells_each_resolver_its_own_egress(
        references: dict[str, ManagedResolver], lab: LabInfo) -> None:
    entry = next(e for e in HELD_OUT if e.kind == "whoami" and e.rdtype == dns.rdatatype.A)
    for kind, ref in references.items():
        observed = await ask(entry, ref.address, ref.port)
        assert observed.response is not None
        got = {rd.address for r in observed.response.answer if r.rdtype == dns.rdatatype.A
               for rd in r}
        assert got == {lab.egress[kind]}


async def test_live_bench_judges_every_line_and_finds_the_faults(
        lab: LabInfo, tmp_path: Path) -> None:
    cfg = LiveConfig(rates=(0.0,), rounds=1, noise_weight=2, fault_rate=0.3, seed=2)
    [run] = await live_accuracy(lab, HELD_OUT, cfg, tmp_path)
    assert run.ended == "inputs_done" and len(run.kept) == run.lines
    report = live_report(run, HELD_OUT, held_out_kinds(HELD_OUT))
    assert report.faulty, "no fault applied"
    found, total = report.found()
    assert found == total
    rows = report.noise_kinds()
    assert set(rows) == {f"noise:{e.kind}" for e in HELD_OUT}
    assert all(r["held_out"] for r in rows.values())
    assert any(r.verdict.kind is not VerdictKind.REAL for r in report.clean)
