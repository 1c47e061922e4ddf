"""harness.pipeline with fake targets: counts add up, saturation sheds without blocking,
staging answers, judge failures, re-queries, the API and the live view."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from pathlib import Path

import aiohttp
import dns.message
import pytest
from rich.console import Console

from harness.api import ApiServer
from harness.config import SamplerConfig, StoreConfig
from harness.exactjudge import ExactJudge
from harness.fakes import FakeTarget, address_reply
from harness.intake.base import Intake, IntakeSink, staging_key
from harness.judge import Requery
from harness.live import LiveView
from harness.pipeline import Pipeline
from harness.records import (
    CANDIDATE,
    Observation,
    Query,
    Source,
    TargetAnswer,
    Verdict,
    VerdictKind,
)
from harness.sampler import Sampler, name_point
from harness.store import StoreReader
from harness.summary import summary_lines


class ListIntake(Intake):
    """Offers prepared queries, all at once (live) or waiting for room (finite)."""

    def __init__(self, queries: list[Query], finite: bool = True) -> None:
        super().__init__("list")
        self.queries = queries
        self.finite = finite
        self.total = len(queries)
        self.offered = asyncio.Event()  # set once every query has been offered
        self._task: asyncio.Task[None] | None = None

    async def start(self, sink: IntakeSink) -> None:
        self._task = asyncio.create_task(self._run(sink))

    async def _run(self, sink: IntakeSink) -> None:
        for query in self.queries:
            if self.finite:
                await sink.room()
            sink.offer(query)
            self.done += 1
        self.offered.set()
        if self.finite:
            self._finished.set()

    async def close(self) -> None:
        if self._task is not None:
            await self._task
        self._finished.set()


class GatedTarget(FakeTarget):
    """A :class:`FakeTarget` that answers nothing until ``gate`` is set."""

    def __init__(self, name: str, gate: asyncio.Event, **kwargs: float) -> None:
        super().__init__(name, **kwargs)
        self.gate = gate

    async def ask(self, query: Query, *, cd: bool | None = None) -> TargetAnswer:
        await self.gate.wait()
        return await super().ask(query, cd=cd)


def mk(name: str, qtype: str = "A", client_port: int = 1) -> Query:
    message = dns.message.make_query(name, qtype)
    return Query(qname=name, qtype=dns.message.from_wire(message.to_wire()).question[0].rdtype,
                 source=Source.UDP_MIRROR, client="127.0.0.1", client_port=client_port,
                 wire=message.to_wire())


def pipeline_for(tmp_path: Path, queries: list[Query], *, sampler: SamplerConfig | None = None,
                 candidate: FakeTarget | None = None, reference: FakeTarget | None = None,
                 max_in_flight: int = 64, finite: bool = True, judge: object = None) -> Pipeline:
    return Pipeline(
        intakes=[ListIntake(queries, finite)],
        sampler=Sampler(sampler or SamplerConfig()),
        targets=[candidate or FakeTarget(CANDIDATE), reference or FakeTarget("ref")],
        judge=judge or ExactJudge(),  # type: ignore[arg-type]
        store=__import__("harness.store", fromlist=["Store"]).Store(
            StoreConfig(path=tmp_path / "p.db", commit_interval=0.05)),
        max_in_flight=max_in_flight,
        run_config={"test": True},
    )


def diverging(query: dns.message.Message) -> dns.message.Message:
    name = query.question[0].name.to_text()
    return address_reply("127.100.0.2" if name.startswith("diff") else "127.100.0.1")(query)


async def test_counts_add_up(tmp_path: Path) -> None:
    queries = [mk(f"n{i}.lab.") for i in range(200)] + [mk(f"diff{i}.lab.") for i in range(20)]
    kept = next(f"n{i}.lab." for i in range(200) if name_point(f"n{i}.lab.") < 0.7)
    queries += [mk(kept)] * 5 + [mk("x.other.")] * 3 + [mk("n2.lab.", "AAAA")] * 2
    pipeline = pipeline_for(tmp_path, queries, sampler=SamplerConfig(
        probability=0.7, dedup_window=60, suffixes=("lab.",), qtypes=frozenset({1})),
        reference=FakeTarget("ref", diverging))
    async with pipeline:
        assert await pipeline.run(duration=10) == "inputs_done"
    c = pipeline.metrics.counters
    assert c["seen"] == len(queries) and c["filtered"] == 5
    assert c["duplicate"] == 5 and c["unsampled"] > 0 and c["dropped"] == c["shed"] == 0
    assert c["sampled"] == c["compared"] > 100
    assert pipeline.metrics.unaccounted() == {"seen": 0, "sampled": 0}
    real = pipeline.metrics.verdicts["real"]
    assert 0 < real <= 20 and pipeline.metrics.categories["answer"] == real
    status = pipeline.status()
    assert status["store"]["committed"] == c["compared"]
    reader = StoreReader(tmp_path / "p.db")
    assert reader.count(pipeline.run_id) == c["compared"]
    assert reader.verdict_counts(pipeline.run_id or 0)["real"] == real
    run = reader.runs()[0]
    assert run.status == "finished" and run.counters is not None
    assert run.versions == {CANDIDATE: f"fake {CANDIDATE}", "ref": "fake ref"}
    assert run.counters["counters"]["compared"] == c["compared"]
    reader.close()
    lines = summary_lines(status, tmp_path / "p.db")
    assert "(counts add up)" in lines[0] and any("latest divergences" in x for x in lines)


async def test_saturation_sheds_and_never_blocks(tmp_path: Path) -> None:
    queries = [mk(f"s{i}.lab.") for i in range(3000)]
    # The reference answers nothing until the intake has offered every query: were an offer
    # to wait on a target, the intake would never finish and the run would end at its
    # duration with fewer than 3000 seen.
    gate = asyncio.Event()
    slow = GatedTarget("ref", gate, delay=0.05)
    pipeline = pipeline_for(tmp_path, queries, reference=slow, max_in_flight=8, finite=False)
    intake = pipeline.intakes[0]
    assert isinstance(intake, ListIntake)
    intake.offered = gate
    async with asyncio.timeout(20):  # an intake stuck on a target fails here, not hangs
        async with pipeline:
            await pipeline.run(duration=0.6)
    assert gate.is_set()
    c = pipeline.metrics.counters
    assert c["seen"] == 3000
    assert c["dropped"] > 0 and c["shed"] > 0
    assert pipeline.sampler.scale < 1.0
    assert pipeline.metrics.unaccounted() == {"seen": 0, "sampled": 0}
    assert c["compared"] + c["failed"] + c["dropped"] == c["sampled"]


async def test_finite_inputs_wait_for_room(tmp_path: Path) -> None:
    queries = [mk(f"f{i}.lab.") for i in range(60)]
    pipeline = pipeline_for(tmp_path, queries, reference=FakeTarget("ref", delay=0.01),
                            max_in_flight=4)
    async with pipeline:
        assert await pipeline.run(duration=10) == "inputs_done"
    c = pipeline.metrics.counters
    assert c["compared"] == 60 and c["dropped"] == c["shed"] == 0


async def test_staging_answers_before_and_after_storing(tmp_path: Path) -> None:
    early, late = mk("early.lab.", client_port=11), mk("late.lab.", client_port=12)
    pipeline = pipeline_for(tmp_path, [], reference=FakeTarget("ref", delay=0.05), finite=False)
    async with pipeline:
        pipeline.offer(early)
        pipeline.offer(late)
        key_early, key_late = staging_key(early), staging_key(late)
        assert key_early is not None and key_late is not None
        pipeline.staging(key_early, b"early staging")
        pipeline.staging(("127.0.0.1", 99, 1, "nobody.lab.", 1), b"x")
        await pipeline.run(duration=0.3)
        pipeline.staging(key_late, b"late staging")
    c = pipeline.metrics.counters
    assert c["staging_matched"] == 2 and c["staging_unmatched"] == 1
    reader = StoreReader(tmp_path / "p.db")
    stored = {o.query.qname: o.staging_wire for o in reader.observations(pipeline.run_id or 0)}
    reader.close()
    assert stored == {"early.lab.": b"early staging", "late.lab.": b"late staging"}


class RequeryingJudge:
    def __init__(self) -> None:
        self.seen: list[Observation] = []

    async def judge(self, observation: Observation, requery: Requery) -> Verdict:
        self.seen.append(observation)
        if observation.query.qname.startswith("boom"):
            raise RuntimeError("judge bug")
        again = await requery("ref", observation.query, flush=True, cd=True)
        return Verdict(None, VerdictKind.NOISE if again.wire else VerdictKind.TIMEOUT, "noise",
                       explained_by=["requery"])


async def test_judge_requery_and_failures(tmp_path: Path) -> None:
    ref = FakeTarget("ref")
    judge = RequeryingJudge()
    pipeline = pipeline_for(tmp_path, [mk("a.lab."), mk("boom.lab.")], reference=ref,
                            judge=judge)
    async with pipeline:
        await pipeline.run(duration=5)
    c = pipeline.metrics.counters
    assert c["judge_errors"] == 1 and c["compared"] == 2 and c["requeries"] == 1
    assert ref.flushed == ["a.lab."] and ref.cd_asked == 1
    assert pipeline.metrics.verdicts == {"noise": 1}
    assert list(judge.seen[0].answers) == [CANDIDATE, "ref"]
    reader = StoreReader(tmp_path / "p.db")
    ids = [o.id for o in reader.observations(pipeline.run_id or 0)]
    assert len(ids) == 2 and [reader.verdict(i) is None for i in ids].count(True) == 1
    reader.close()


async def test_a_silent_side_is_a_timeout(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, [mk("t.lab.")],
                            reference=FakeTarget("ref", lambda q: None))
    async with pipeline:
        await pipeline.run(duration=5)
    assert pipeline.metrics.verdicts == {"timeout": 1}
    assert pipeline.metrics.errors["ref"]["timeout"] == 1


def test_needs_two_distinct_targets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one reference"):
        Pipeline(intakes=[], sampler=Sampler(SamplerConfig()), targets=[FakeTarget("a")],
                 judge=ExactJudge(), store=__import__("harness.store", fromlist=["Store"]).Store(
                     StoreConfig(path=tmp_path / "x.db")))


async def test_api_and_live_view(tmp_path: Path) -> None:
    queries = [mk(f"n{i}.lab.") for i in range(30)] + [mk(f"diff{i}.lab.") for i in range(5)]
    pipeline = pipeline_for(tmp_path, queries, reference=FakeTarget("ref", diverging))
    async with pipeline:
        await pipeline.run(duration=5)
        pipeline.store.flush()
        api = ApiServer(pipeline, "127.0.0.1", 0)
        await api.start()
        try:
            base = f"http://127.0.0.1:{api.port}"
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/metrics") as r:
                    text = await r.text()
                    assert r.status == 200
                    assert 'shadowdns_queries_total{stage="compared"} 35' in text
                    assert 'shadowdns_divergences_total{category="answer"} 5' in text
                    assert 'shadowdns_target_latency_seconds_count{target="ref"} 35' in text
                async with session.get(f"{base}/api/status") as r:
                    status = await r.json()
                    assert status["counters"]["compared"] == 35 and status["run_id"] == 1
                async with session.get(f"{base}/api/divergences?limit=3") as r:
                    body = await r.json()
                    assert len(body["divergences"]) == 3
                    assert body["divergences"][0]["qname"].startswith("diff")
                async with session.get(f"{base}/api/divergences?limit=0") as r:
                    assert r.status == 400
        finally:
            await api.stop()
        console = Console(file=io.StringIO(), width=160, force_terminal=True)
        view = LiveView(pipeline, "dashboard", console=console)
        console.print(view.render())
        out = console.file.getvalue()  # type: ignore[attr-defined]
        assert "compared" in out and "answer" in out and "p99" in out
        line = LiveView(pipeline, "log").log_once()
        assert "compared 35" in line and "real 5 (14.3%)" in line


async def test_bad_input_everywhere_is_counted_and_the_run_goes_on(tmp_path: Path) -> None:
    """Malformed mirrored packets, garbage and cut dnstap frames and a corrupt pcap, all in one
    run next to good traffic: each is counted where it came in, and the good queries behind
    them are still compared."""
    import socket
    import struct

    import dnstap_pb
    import fstrm

    from harness.config import DnstapConfig, PcapConfig, UdpMirrorConfig
    from harness.intake.dnstap import DnstapIntake, control_frame, data_frame
    from harness.intake.pcap import PcapIntake
    from harness.intake.udp_mirror import UdpMirrorIntake
    from harness.store import Store

    corrupt = tmp_path / "corrupt.pcap"
    corrupt.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 10)  # a pcap header cut short
    mirror = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0)))
    tap = DnstapIntake(DnstapConfig(socket=tmp_path / "t.sock"))
    pcap = PcapIntake(PcapConfig(file=corrupt))
    pipeline = Pipeline(intakes=[mirror, tap, pcap], sampler=Sampler(SamplerConfig()),
                        targets=[FakeTarget(CANDIDATE), FakeTarget("ref")], judge=ExactJudge(),
                        store=Store(StoreConfig(path=tmp_path / "b.db")))

    def frame(name: str) -> bytes:
        message = dnstap_pb.Dnstap(type=dnstap_pb.Dnstap.MESSAGE)
        message.message.type = dnstap_pb.Message.CLIENT_QUERY
        message.message.query_message = dns.message.make_query(name, "A").to_wire()
        return data_frame(message.SerializeToString())

    async with pipeline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for packet in (b"\x01", b"garbage" * 5, dns.message.make_query("m1.lab.", "A")
                           .to_wire(), b"\x00" * 12, dns.message.make_query("m2.lab.", "A")
                           .to_wire()):
                sender.sendto(packet, mirror.address)
        _, writer = await asyncio.open_unix_connection(str(tmp_path / "t.sock"))
        writer.write(control_frame(fstrm.FSTRM_CONTROL_START) + frame("d1.lab.")
                     + data_frame(b"\x08\x99garbage") + frame("d2.lab.")
                     + struct.pack("!I", 400) + b"cut")
        await writer.drain()
        writer.close()
        for _ in range(200):
            if pipeline.metrics.counters["compared"] == 4 and tap.stats["truncated"]:
                break
            await asyncio.sleep(0.02)
    c = pipeline.metrics.counters
    assert c["compared"] == 4 and pipeline.metrics.unaccounted() == {"seen": 0, "sampled": 0}
    assert mirror.stats["malformed"] == 3 and mirror.stats["queries"] == 2
    assert tap.stats["bad_frames"] == 1 and tap.stats["truncated"] == 1
    assert pcap.stats["corrupt"] == 1
    totals = pipeline.metrics.intake_totals()
    assert totals["malformed"] == 3 and totals["corrupt"] == 1


def test_token_bucket_arithmetic() -> None:
    from harness.ratecap import RateCap, TokenBucket

    bucket = TokenBucket(10, now=0.0)  # 10/s, a burst of 10
    assert sum(bucket.take(0.0) for _ in range(15)) == 10
    assert not bucket.take(0.05) and bucket.wait_time(0.05) == pytest.approx(0.05)
    assert bucket.take(0.1) and not bucket.take(0.1)
    assert sum(bucket.take(100.0) for _ in range(50)) == 10  # never more than the burst
    cap = RateCap(["a", "b"], 2, now=0.0)
    cap.buckets["b"].tokens = 0.0
    assert cap.admit(0.0) == "b" and cap.buckets["a"].tokens == 2.0  # nothing taken
    assert cap.admit(0.5) is None and cap.buckets["a"].tokens == 1.0
    assert RateCap(["a"], 0).admit(0.0) is None  # 0: no cap


async def test_target_qps_caps_what_is_sent_and_counts_the_rest(tmp_path: Path) -> None:
    queries = [mk(f"q{i}.lab.") for i in range(400)]
    candidate, reference = FakeTarget(CANDIDATE), FakeTarget("ref")
    pipeline = Pipeline(
        intakes=[ListIntake(queries, finite=False)], sampler=Sampler(SamplerConfig()),
        targets=[candidate, reference], judge=ExactJudge(),
        store=__import__("harness.store", fromlist=["Store"]).Store(
            StoreConfig(path=tmp_path / "p.db", commit_interval=0.05)),
        target_qps=50)
    async with pipeline:
        await pipeline.run(duration=0.5)
    c = pipeline.metrics.counters
    # a burst of 50 plus at most 0.5 s of refill at 50/s, offered all at once
    assert 50 <= c["compared"] <= 80
    assert c["rate_capped"] == c["sampled"] - c["compared"] - c["failed"] > 300
    assert len(candidate.asked) == len(reference.asked) == c["compared"]
    assert pipeline.metrics.unaccounted() == {"seen": 0, "sampled": 0}
    assert sum(pipeline.metrics.capped.values()) == c["rate_capped"]
    text = pipeline.metrics.prometheus()
    assert 'shadowdns_rate_capped_total{target="candidate"}' in text


async def test_excluded_client_networks_are_filtered_for_every_intake(tmp_path: Path) -> None:
    import ipaddress

    inside = [dataclasses.replace(mk(f"in{i}.lab."), client="127.9.0.5") for i in range(10)]
    v6 = [dataclasses.replace(mk(f"six{i}.lab."), client="::1") for i in range(4)]
    outside = [mk(f"out{i}.lab.") for i in range(10)]  # client 127.0.0.1
    unknown = [dataclasses.replace(mk("nobody.lab."), client=None)]
    sampler = SamplerConfig(exclude_clients=(ipaddress.ip_network("127.9.0.0/16"),
                                             ipaddress.ip_network("::1/128")))
    pipeline = pipeline_for(tmp_path, inside + v6 + outside + unknown, sampler=sampler)
    async with pipeline:
        assert await pipeline.run(duration=10) == "inputs_done"
    c = pipeline.metrics.counters
    assert c["filtered"] == 14 and c["compared"] == 11
async def test_the_differs_confirmation_is_budgeted_counted_and_asks_egress_twins(
        tmp_path: Path) -> None:
    from harness.differ import Differ, DifferConfig

    queries = [mk(f"diff{i}.lab.") for i in range(6)] + [mk(f"n{i}.lab.") for i in range(6)]
    twin = FakeTarget("twin")  # the reference asked from the candidate's egress
    differ = Differ(DifferConfig(candidate=CANDIDATE, references=("ref",),
                                 twins={"ref": "twin"}, requery_rate=0.001,
                                 requery_burst=8, requery_concurrency=2))
    pipeline = Pipeline(
        intakes=[ListIntake(queries)], sampler=Sampler(SamplerConfig()),
        targets=[FakeTarget(CANDIDATE, diverging), FakeTarget("ref")], judge=differ,
        store=__import__("harness.store", fromlist=["Store"]).Store(
            StoreConfig(path=tmp_path / "p.db", commit_interval=0.05)),
        max_in_flight=1, probes=[twin])
    async with pipeline:
        assert await pipeline.run(duration=10) == "inputs_done"
    assert twin.started and twin.stopped
    assert twin.asked and all(q.qname.startswith("diff") for q in twin.asked)  # re-queries only
    v = pipeline.metrics.verdicts
    assert v["equal"] == 6 and v["real"] >= 1 and v["undecided"] >= 1 and "noise" not in v
    text = pipeline.metrics.prometheus()
    assert "shadowdns_confirmation_requeries_total 8" in text
    assert "shadowdns_authority_queries_total 0" in text  # no Authorities: no sweep
    assert f"shadowdns_confirmation_budget_exhausted_total {v['undecided']}" in text
    assert f'shadowdns_differ_verdicts_total{{kind="undecided"}} {v["undecided"]}' in text
    assert pipeline.status()["judge_stats"]["requeries"] == 8
    with pytest.raises(ValueError, match="target names must differ"):
        Pipeline(intakes=[], sampler=Sampler(SamplerConfig()),
                 targets=[FakeTarget(CANDIDATE), FakeTarget("ref")], judge=differ,
                 store=pipeline.store, probes=[FakeTarget("ref")])
