"""Issue 18, done-when: a real divergence, produced end to end on the lab, replays from its
scenario.

The in-process candidate (a fault at its Exchanger seam: :mod:`harness.seamfaults`) and a
managed Unbound answer the same query through the real pipeline, differ and store; the
verdict is real; ``report scenario`` writes the ``.rpl`` from the exchanges recorded at the
candidate's transport; the Deckard runner plays it in-process: it fails at the
CHECK_ANSWER with the fault and passes without it.  Three faults: an answer dropped (an
answer divergence), a corrupted signature on a secure answer (bogus vs secure), and a
corrupted signature on an NXDOMAIN's denial proof.  The names are taken from the lab's
manifest by what they are (secure answer, secure NXDOMAIN), never by name.

What the scenario holds is what the *faulty* candidate asked.  A fault that makes it ask
less than a correct resolver would (an answer dropped from a signed zone: nothing left to
validate, so no DNSKEY query) leaves the fixed candidate questions no RANGE answers: the
replay then fails with UPSTREAM, not at the check.  The reference's own upstream traffic
(its resolver dnstap) would fill that in; it is not recorded yet.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from configfiles.roothints import read_root_hints
from deckard.candidate import Candidate, CandidateConfig
from deckard.fakenet import ScenarioNet
from deckard.runner import CandidateTarget, RunOptions, play, run_file
from deckard.scenario import load
from harness.config import SamplerConfig, StoreConfig
from harness.differ import Differ
from harness.pipeline import Pipeline
from harness.records import Query, Source
from harness.sampler import Sampler
from harness.scenario import scenario_from_store
from harness.seamfaults import FaultyExchanger
from harness.store import Store, StoreReader
from harness.targets import AddressTarget, InProcessTarget
from lab.manifest import manifest
from lab.run import LabInfo
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver
from resolver.config import ResolverConfig
from tests.integration.test_candidate_vs_unbound import unbound  # noqa: F401 - the fixture
from tests.unit.test_harness_pipeline import ListIntake

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

ENTRIES = manifest(load_world())


def pick(dnssec: str, rcode: int, n: int) -> list[ManifestEntry]:
    found = [e for e in ENTRIES if e.category == "stable" and e.dnssec == dnssec
             and e.rcode == rcode and not e.nodata and e.rdtype in (1, 28)]
    return found[:n]


# drop_answer with a non-validating candidate: a validating one, left with nothing to
# validate, skips DNSKEY queries the fixed one needs (see the module docstring).
CASES = [("drop_answer", e, False) for e in pick("insecure", 0, 2)] + \
        [("corrupt_signature", e, True) for e in pick("secure", 0, 2)] + \
        [("corrupt_denial", e, True) for e in pick("secure", 3, 2)]


async def diverge(lab: LabInfo, unbound: ManagedResolver,  # noqa: F811
                  fault: str, entry: ManifestEntry, validate: bool, db: Path) -> int:
    """One shadow run of one query, the candidate with ``fault``; the real verdict's id."""
    config = ResolverConfig(root_hints=read_root_hints(lab.hints_path), validation=validate,
                            trust_anchor_file=lab.anchor_path if validate else None,
                            qname_minimisation=True,
                            egress=lab.egress["candidate"], do_ip6=False)
    candidate = InProcessTarget("candidate", config)
    candidate.answerer.exchanger = FaultyExchanger(candidate.answerer.exchanger, fault)
    reference = AddressTarget("unbound", unbound.address, unbound.port)
    query = Query(qname=entry.name.to_text(), qtype=int(entry.rdtype), do=True, ad=True,
                  edns_payload=1232, source=Source.QUERY_LIST)
    pipeline = Pipeline(intakes=[ListIntake([query])], sampler=Sampler(SamplerConfig()),
                        targets=[candidate, reference], judge=Differ(),
                        store=Store(StoreConfig(path=db, commit_interval=0.05)))
    async with pipeline:
        await pipeline.run(duration=30)
    reader = StoreReader(db)
    try:
        real = reader.divergences()
        assert len(real) == 1, f"{fault} on {entry.name}: no real verdict ({reader.runs()})"
        assert reader.with_upstream() == 1
        return int(real[0]["id"])
    finally:
        reader.close()


async def replay_with(path: Path, fault: str | None, seed: int) -> object:
    scenario = load(path)
    net = ScenarioNet(scenario, rng=random.Random(seed))
    qmin = scenario.config.qmin is not False  # as the header says (the candidate's setting)
    candidate = Candidate(CandidateConfig.from_scenario(scenario.config, qmin), net, seed=seed,
                          exchanger=None if fault is None
                          else (lambda e: FaultyExchanger(e, fault)))
    failure = await play(scenario, CandidateTarget(candidate), net, random.Random(seed))
    assert not net.undefined and not net.unknown, [str(x) for x in net.undefined]
    return failure


@pytest.mark.parametrize(("fault", "entry", "validate"), CASES,
                         ids=[f"{f}-{e.name.to_text()}" for f, e, _ in CASES])
async def test_a_lab_divergence_replays_from_its_scenario(
        lab: LabInfo, unbound: ManagedResolver, tmp_path: Path, fault: str,  # noqa: F811
        entry: ManifestEntry, validate: bool) -> None:
    db = tmp_path / "shadow.db"
    observation = await diverge(lab, unbound, fault, entry, validate, db)
    written = scenario_from_store(db, observation)
    assert not written.warnings, written.warnings
    assert ("trust-anchor: " in written.text) == validate
    assert "val-override-date: " in written.text
    rpl = tmp_path / f"{fault}.rpl"
    rpl.write_text(written.text)
    for seed in (1, 2):
        failure = await replay_with(rpl, fault, seed)  # with the fault: fails at the check
        assert failure is not None and getattr(failure, "kind", "") == "CHECK_ANSWER", failure
        assert await replay_with(rpl, None, seed) is None  # fixed: passes
    # and as `shadowdns deckard run FILE` runs it, both QNAME-minimisation types
    for qtype in ("NS", "A"):
        results = await asyncio.to_thread(run_file, str(rpl), RunOptions(qmin_qtype=qtype))
        assert [r.status for r in results] == ["pass", "skip"], [r.summary for r in results]


@pytest.mark.parametrize("qmin", [True, False])
async def test_divergences_on_a_warm_cache_replay_too(
        lab: LabInfo, unbound: ManagedResolver, tmp_path: Path, qmin: bool,  # noqa: F811
) -> None:
    """One candidate answers several names in turn: later queries find delegations, DS and
    DNSKEY in its cache, and their scenarios still start at the root (the recorder adds
    the earlier exchanges their answers rest on)."""
    entries = pick("secure", 0, 6)[2:] + pick("secure", 3, 4)[2:]  # not the ones above
    config = ResolverConfig(root_hints=read_root_hints(lab.hints_path),
                            trust_anchor_file=lab.anchor_path, qname_minimisation=qmin,
                            egress=lab.egress["candidate"], do_ip6=False)
    candidate = InProcessTarget("candidate", config)
    candidate.answerer.exchanger = FaultyExchanger(candidate.answerer.exchanger,
                                                   "corrupt_signature")
    denial = {e.name for e in entries if e.rcode == 3}
    queries = [Query(qname=e.name.to_text(), qtype=int(e.rdtype), do=True, ad=True,
                     edns_payload=1232) for e in entries]
    db = tmp_path / "warm.db"
    pipeline = Pipeline(intakes=[ListIntake(queries)], sampler=Sampler(SamplerConfig()),
                        targets=[candidate, AddressTarget("unbound", unbound.address,
                                                          unbound.port)],
                        judge=Differ(), store=Store(StoreConfig(path=db,
                                                                commit_interval=0.05)))
    async with pipeline:
        await pipeline.run(duration=60)
    reader = StoreReader(db)
    real = reader.divergences(limit=100)
    reader.close()
    positive = [d for d in real if d["qname"] not in {n.to_text() for n in denial}]
    assert len(positive) == len(entries) - len(denial) >= 3
    for d in positive:
        written = scenario_from_store(db, d["id"])
        assert not written.warnings, (d["qname"], written.warnings)
        rpl = tmp_path / f"{d['id']}.rpl"
        rpl.write_text(written.text)
        failure = await replay_with(rpl, "corrupt_signature", 1)
        assert failure is not None and getattr(failure, "kind", "") == "CHECK_ANSWER", failure
        assert await replay_with(rpl, None, 1) is None, d["qname"]
