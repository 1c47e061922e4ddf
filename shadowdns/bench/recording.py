"""``shadowdns bench recording``: what recording the candidate's upstream exchanges costs.

Everything runs in this process, without sockets: the lab world answers at the candidate's
transport seam (``LabServer.answer`` behind a ``MockTransport``), the candidate is the
harness's :class:`~harness.targets.InProcessTarget` (recording on or off), the reference a
table of the answers a fault-free candidate gave (so it costs next to nothing), the judge
the differ, the store SQLite in a temporary directory: the real pipeline.

Each round asks every name of the lab's manifest (DO set) through a fresh pipeline and a
fresh candidate (``--cold``: empty cache, every query resolved upstream, the worst case for
recording) or one candidate kept across rounds (``--warm``: after the first round,
answers come from the cache).  Rounds alternate recording on and off; the harness CPU of a
round is this process's CPU time minus what the lab's authoritative servers spent
answering.  Printed: harness CPU per sampled query (median over rounds) on and off, and
the overhead in percent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import dns.message
import dns.name

from harness.config import SamplerConfig, StoreConfig
from harness.differ import Differ
from harness.fakes import FakeTarget
from harness.intake.base import Intake, IntakeSink
from harness.pipeline import Pipeline
from harness.recording import CURRENT, RecordingExchanger, RecordingTransport, SentExchange
from harness.records import ExchangeLog, Query, Source
from harness.sampler import Sampler
from harness.store import Store
from harness.targets import InProcessTarget
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig
from resolver.recursor.exchanger import UpstreamQuery, UpstreamResult
from shadowdns.bench.differ import CANDIDATE_EGRESS, LabWorld

__all__ = ["register"]


def register(bsub: Any) -> None:
    p = bsub.add_parser("recording", help="harness CPU per sampled query with the candidate's "
                                          "upstream recording on and off (in process)")
    p.add_argument("--rounds", type=int, default=6, metavar="N", help="rounds per setting")
    p.add_argument("--warm", action="store_true",
                   help="keep one candidate (and its cache) across rounds (cold when not given)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=run)


class _Lab:
    """The lab's servers behind a transport, with the CPU they spend counted apart."""

    def __init__(self, world: LabWorld) -> None:
        self.world = world
        self.cpu = 0.0
        self.by_addr = {s.address: s for s in world.world.servers.values()}

    def handler(self, address: str, query: dns.message.Message,
                tcp: bool) -> dns.message.Message | None:
        start = time.process_time()
        try:
            s = self.by_addr.get(address)
            if s is None:
                return None
            wire = self.world.server.answer(s, query.to_wire(), CANDIDATE_EGRESS, tcp)
            return None if wire is None else dns.message.from_wire(wire)
        finally:
            self.cpu += time.process_time() - start


def _candidate(lab: _Lab, record: bool) -> InProcessTarget:
    config = ResolverConfig(root_hints=tuple(lab.world.hints), validation=False, do_ip6=False)
    return InProcessTarget("candidate", config, record=record,
                           transport=MockTransport(lab.handler))


class _ListIntake(Intake):
    """Offers prepared queries, waiting for room (a finite source)."""

    def __init__(self, queries: list[Query]) -> None:
        super().__init__("list")
        self.queries = queries
        self.finite = True
        self.total = len(queries)
        self._task: asyncio.Task[None] | None = None

    async def start(self, sink: IntakeSink) -> None:
        self._task = asyncio.create_task(self._run(sink))

    async def _run(self, sink: IntakeSink) -> None:
        for query in self.queries:
            await sink.room()
            sink.offer(query)
            self.done += 1
        self._finished.set()

    async def close(self) -> None:
        if self._task is not None:
            await self._task
        self._finished.set()


async def _run(args: argparse.Namespace, world: LabWorld) -> dict[str, Any]:
    lab = _Lab(world)
    queries = []
    for e in world.manifest():
        if e.category == "broken" and e.kind in ("dead", "slow", "dead_and_live"):
            continue  # timeouts measure the clock, not the CPU
        msg = dns.message.make_query(e.name, e.rdtype, want_dnssec=True)
        queries.append(Query(qname=e.name.to_text(), qtype=int(e.rdtype), do=True,
                             edns_payload=1232, source=Source.QUERY_LIST, wire=msg.to_wire()))
    # The reference: what a fault-free candidate answered, replayed from a table.
    table: dict[tuple[str, int], bytes] = {}
    clean = _candidate(lab, record=False)
    for q in queries:
        answer = await clean.ask(q)
        if answer.wire is not None:
            table[(q.qname.lower(), q.qtype)] = answer.wire

    def reference_answer(m: dns.message.Message) -> bytes | None:
        wire = table.get((m.question[0].name.to_text().lower(), m.question[0].rdtype))
        if wire is None:
            return None
        reply = dns.message.from_wire(wire)
        reply.id = m.id
        return reply.to_wire()

    cpu: dict[bool, list[float]] = {True: [], False: []}
    kept: dict[bool, InProcessTarget] = {r: _candidate(lab, r) for r in (True, False)}
    recorded = 0
    last_recording = kept[True]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(2 * args.rounds + 2):
            record = i % 2 == 0
            candidate = kept[record] if args.warm else _candidate(lab, record)
            reference = FakeTarget("unbound", reference_answer)
            lab.cpu = 0.0
            start = time.process_time()
            pipeline = Pipeline(
                intakes=[_ListIntake(queries)], sampler=Sampler(SamplerConfig()),
                targets=[candidate, reference], judge=Differ(),
                store=Store(StoreConfig(path=Path(tmp) / f"r{i}.db", commit_interval=0.05)))
            async with pipeline:
                await pipeline.run(duration=120)
            used = time.process_time() - start - lab.cpu
            compared = pipeline.metrics.counters["compared"]
            if record:
                last_recording = candidate
            if i >= 2:  # the first pair warms up imports and the lab's caches
                recorded += pipeline.metrics.counters["upstream_recorded"] if record else 0
                cpu[record].append(used / max(1, compared))
    on, off = statistics.median(cpu[True]), statistics.median(cpu[False])
    direct = await _direct_cost(last_recording)
    per_query = (direct["per_exchange_s"] * recorded / max(1, args.rounds * len(queries))
                 + direct["per_query_s"])
    return {"direct_us_per_exchange": direct["per_exchange_s"] * 1e6,
            "direct_us_per_query_fixed": direct["per_query_s"] * 1e6,
            "exchanges_per_query": recorded / max(1, args.rounds * len(queries)),
            "direct_overhead_percent": per_query / off * 100,
            **{"mode": "warm" if args.warm else "cold", "queries_per_round": len(queries),
            "rounds": args.rounds, "cpu_us_per_query_recording": on * 1e6,
            "cpu_us_per_query_not_recording": off * 1e6,
            "overhead_percent": (on - off) / off * 100, "exchanges_recorded": recorded,
            "samples_on_us": [x * 1e6 for x in cpu[True]],
            "samples_off_us": [x * 1e6 for x in cpu[False]]}}


async def _direct_cost(candidate: InProcessTarget, n: int = 20000) -> dict[str, float]:
    """CPU of the recording path alone, on the exchanges a recording candidate made: what
    the transport adds per exchange (the contextvar, the record, the recent ring) and what
    the pipeline adds per query (a log, the contextvar set and reset)."""
    recorder = candidate.recorder
    assert recorder is not None
    sample = list(recorder.recent)[:200]
    if not sample:
        return {"per_exchange_s": 0.0, "per_query_s": 0.0}
    fresh = RecordingTransport(recorder.inner)
    log = ExchangeLog(max_bytes=1 << 62)
    start = time.process_time()
    for i in range(n):
        x = sample[i % len(sample)]
        if CURRENT.get() is None:
            fresh._keep(log, SentExchange(x.server, x.transport, x.query, x.answer, x.outcome,
                                          x.at, x.elapsed))
    per_exchange = (time.process_time() - start) / n
    start = time.process_time()
    for _ in range(n):
        token = CURRENT.set(ExchangeLog())
        CURRENT.reset(token)
    per_query = (time.process_time() - start) / n
    per_exchange += await _exchanger_cost(n)
    return {"per_exchange_s": per_exchange, "per_query_s": per_query}


class _Answered:
    def __init__(self) -> None:
        self.result = UpstreamResult(None)

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        return self.result


async def _exchanger_cost(n: int) -> float:
    """What :class:`RecordingExchanger` adds to one exchange (less an await of the bare
    inner exchanger)."""
    inner = _Answered()
    wrapped = RecordingExchanger(inner)
    query = UpstreamQuery(dns.name.root, 2, dns.name.root, ("127.0.0.1",))
    token = CURRENT.set(ExchangeLog())
    try:
        start = time.process_time()
        for _ in range(n):
            await wrapped.exchange(query)
        with_wrapper = time.process_time() - start
        start = time.process_time()
        for _ in range(n):
            await inner.exchange(query)
        bare = time.process_time() - start
    finally:
        CURRENT.reset(token)
    return max(0.0, with_wrapper - bare) / n


def run(args: argparse.Namespace) -> int:
    world = LabWorld()
    result = asyncio.run(_run(args, world))
    print(f"recording ({result['mode']} cache, {result['queries_per_round']} queries x "
          f"{result['rounds']} rounds per setting): harness CPU per sampled query "
          f"{result['cpu_us_per_query_recording']:.0f} us recording, "
          f"{result['cpu_us_per_query_not_recording']:.0f} us not; overhead "
          f"{result['overhead_percent']:+.1f} % ({result['exchanges_recorded']} exchanges "
          "recorded; rounds vary by the machine's load)")
    print(f"recording path alone: {result['direct_us_per_exchange']:.1f} us per exchange x "
          f"{result['exchanges_per_query']:.2f} exchanges per query + "
          f"{result['direct_us_per_query_fixed']:.1f} us per query = "
          f"{result['direct_overhead_percent']:.2f} % of the harness CPU per sampled query")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0
