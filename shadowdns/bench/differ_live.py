"""``shadowdns bench differ --mode live``: the differ end to end, on the real path.

What ``shadowdns run --query-list`` does, measured.  On the running lab (started here):

* the **reference**: Unbound, started and flushed by the harness (the one reference), egressing
  from the lab's ``unbound`` region;
* the **candidate**: a fault-injecting DNS proxy on loopback (:class:`FaultProxy`, in this
  process) in front of a second resolver of the same software (``--backend``, default
  Unbound) egressing from the lab's ``candidate`` region.  Both resolvers are correct and the
  same code, so every difference is lab noise or an injected fault;
* the **harness**: :func:`harness.assemble.build_pipeline` with a query-list intake at a
  given rate, the candidate by address, the reference managed, and the differ as the judge
  (wrapped to keep each verdict for the tally).

Faults are armed per question *as asked*: a faulted line of the query list carries its name
in a random 0x20 case pattern, and the proxy bends every reply to exactly that question
(the original answer and the differ's re-queries alike) with the fault the plan gives it.
Lines in lower case are fault-free.  Resolvers treat names case-insensitively, so faulted and
clean lines share caches and the differ's knowledge, as real traffic would.

The run is repeated per rate (``--rates``: 20 paced, 0 as fast as the harness takes
queries), each with a fresh reference, backend and differ, and tallied as the in-process
accuracy benchmark is (:class:`shadowdns.bench.differ.AccuracyReport`): false REAL per noise
kind, named and held out apart; faults found per kind; precision and recall per category.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from harness.assemble import build_pipeline
from harness.config import config_from_mapping
from harness.differ import Differ, DifferConfig
from harness.differ.sweep import UdpAuthorities
from harness.exchange import ExchangeError, UdpExchange
from harness.judge import Requery
from harness.records import Observation, Verdict
from harness.targets import AddressTarget, Target
from lab.manifest import manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver, ReferenceResolverError, ReferenceSpec
from shadowdns.bench.differ import (
    AccuracyReport,
    Record,
    accuracy_figures,
    done_when,
    held_out_kinds,
    indistinguishable,
    select_kinds,
)
from shadowdns.bench.faults import Applied, FaultKind, apply_fault

__all__ = ["FaultPlan", "FaultProxy", "LiveConfig", "LiveRun", "live_accuracy", "live_report",
           "query_plan", "run_live"]

log = logging.getLogger("shadowdns.bench")

REFERENCE_NAME = "unbound"
REFERENCE_LISTEN = ("127.55.0.60", 5053)
BACKEND_LISTEN = ("127.55.0.61", 5053)
TWIN_LISTEN = ("127.55.0.62", 5053)
TWIN_NAME = "unbound@candidate-egress"
"""The reference's egress twin: a second Unbound of its own, egressing from the candidate's
region (differ ``egress_swap``; ``--differ egress_swap=false`` leaves it out)."""
PROXY_LISTEN = ("127.0.0.61", 5353)
TCP_IDLE = 10.0

Key = tuple[str, int]  # (qname exactly as asked, qtype)


# -- the fault plan and the proxy ------------------------------------------------------------


@dataclass
class FaultPlan:
    """Which question (exact case) gets which fault, and what happened on its first reply."""

    faults: dict[Key, FaultKind] = field(default_factory=dict)
    applied: dict[Key, Applied | None] = field(default_factory=dict)
    bent: int = 0  # replies changed, re-queries included

    def first(self, key: Key, applied: Applied | None) -> None:
        self.applied.setdefault(key, applied)
        if applied is not None:
            self.bent += 1


def _case_pattern(name: str, rng: random.Random, taken: set[str]) -> str:
    """``name`` in a random case pattern with at least one upper-case letter, not in
    ``taken``."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    for _ in range(64):
        chars = [c.upper() if rng.random() < 0.5 else c for c in name]
        if not any(chars[i].isupper() for i in letters):
            i = rng.choice(letters)
            chars[i] = chars[i].upper()
        text = "".join(chars)
        if text not in taken:
            return text
    raise ValueError(f"no free case pattern left for {name}")


def _fault_applies(kind: FaultKind, entry: ManifestEntry) -> bool:
    # A fault that cannot be told from the name's noise by construction (a third region's
    # address on a geo name, one record fewer from a varying-count balancer) is left out.
    return indistinguishable(kind, entry) is None


def query_plan(entries: Sequence[ManifestEntry], *, rounds: int, noise_weight: int,
               fault_rate: float, faults: Sequence[FaultKind],
               rng: random.Random) -> tuple[list[str], FaultPlan]:
    """Query-list lines (``name type``) and the plan of their faults.

    Each round asks every entry once, noise entries ``noise_weight`` times, shuffled; a share
    ``fault_rate`` of lines gets a fault (a case pattern of its own).
    """
    plan = FaultPlan()
    taken: set[str] = set()
    lines: list[str] = []
    for _ in range(rounds):
        batch = [e for e in entries for _ in range(noise_weight if e.category == "noise" else 1)]
        rng.shuffle(batch)
        for entry in batch:
            name = entry.name.to_text().lower()
            rdtype = dns.rdatatype.to_text(entry.rdtype)
            if faults and rng.random() < fault_rate:
                kind = rng.choice(list(faults))
                if _fault_applies(kind, entry):
                    name = _case_pattern(name, rng, taken)
                    taken.add(name)
                    plan.faults[(name, int(entry.rdtype))] = kind
            lines.append(f"{name} {rdtype}")
    return lines, plan


class FaultProxy:
    """A DNS proxy on loopback (UDP and TCP) in front of a resolver, bending the replies to
    the questions of a :class:`FaultPlan`.  Never crashes on a packet: what it cannot parse
    or forward goes unanswered (the harness records a timeout)."""

    def __init__(self, listen: tuple[str, int], backend: tuple[str, int], plan: FaultPlan,
                 *, timeout: float = 4.0) -> None:
        self.listen = listen
        self.plan = plan
        self.timeout = timeout
        self.backend = UdpExchange(*backend)
        self.stats: dict[str, int] = {"queries": 0, "unanswered": 0, "truncated": 0}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await self.backend.open()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _ProxyUdp(self), local_addr=self.listen)
        host, port = self._udp.get_extra_info("sockname")[:2]
        self.listen = (host, port)  # the port the kernel chose when asked for port 0
        self._tcp = await asyncio.start_server(self._serve_tcp, host, port)

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        self.backend.close()

    async def answer(self, wire: bytes, tcp: bool) -> bytes | None:
        self.stats["queries"] += 1
        try:
            query = dns.message.from_wire(wire)
            question = query.question[0]
            reply = await self.backend.query(wire, self.timeout)
        except (dns.exception.DNSException, IndexError, ExchangeError, TimeoutError, OSError):
            self.stats["unanswered"] += 1
            return None
        key = (question.name.to_text(), int(question.rdtype))
        kind = self.plan.faults.get(key)
        limit = 65535 if tcp else (max(512, query.payload) if query.edns >= 0 else 512)
        if kind is None and len(reply) <= limit:
            return reply
        try:
            message = dns.message.from_wire(reply)
        except dns.exception.DNSException:
            self.stats["unanswered"] += 1
            return None
        if kind is not None:
            applied = apply_fault(kind, message, query)
            self.plan.first(key, applied)
            if applied is not None:
                message = applied.reply
        try:
            return message.to_wire(max_size=limit)
        except dns.exception.TooBig:
            self.stats["truncated"] += 1
            message.flags |= dns.flags.TC
            message.answer.clear()
            message.authority.clear()
            message.additional.clear()
            return message.to_wire()

    def spawn(self, wire: bytes, addr: Any) -> None:
        task = asyncio.create_task(self._udp_reply(wire, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _udp_reply(self, wire: bytes, addr: Any) -> None:
        reply = await self.answer(wire, tcp=False)
        if reply is not None and self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(reply, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2),
                                                                         TCP_IDLE))
                wire = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE)
                reply = await self.answer(wire, tcp=True)
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


class _ProxyUdp(asyncio.DatagramProtocol):
    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.proxy.spawn(data, addr)


# -- the judge that keeps its verdicts ---------------------------------------------------------


class Keeping:
    """A judge that hands each observation to ``inner`` and keeps (question, verdict)."""

    def __init__(self, inner: Differ) -> None:
        self.inner = inner
        self.kept: list[tuple[Key, Verdict]] = []

    async def judge(self, observation: Observation, requery: Requery) -> Verdict:
        verdict = await self.inner.judge(observation, requery)
        q = observation.query
        name = q.qname if q.qname.endswith(".") else q.qname + "."
        self.kept.append(((name, q.qtype), verdict))
        return verdict


# -- one run per rate --------------------------------------------------------------------------


@dataclass
class LiveConfig:
    rates: tuple[float, ...] = (20.0, 0.0)
    rounds: int = 8
    noise_weight: int = 3
    fault_rate: float = 0.25
    faults: tuple[FaultKind, ...] = tuple(FaultKind)
    seed: int = 7
    backend: str = "unbound"  # the resolver behind the fault proxy: unbound or kresd
    max_in_flight: int = 256
    time_limit: float = 240.0  # seconds per rate, at most
    differ: dict[str, Any] = field(default_factory=dict)  # DifferConfig overrides


@dataclass
class LiveRun:
    """One rate's run: what the tally needs."""

    rate: float
    kept: list[tuple[Key, Verdict]]
    plan: FaultPlan
    seconds: float
    requeries: int
    ended: str
    proxy: dict[str, int]
    lines: int
    authority_queries: int = 0  # the differ's authority sweep, to the lab's servers

    @property
    def achieved(self) -> float:
        return len(self.kept) / self.seconds if self.seconds else 0.0


async def live_accuracy(lab: LabInfo, entries: Sequence[ManifestEntry], cfg: LiveConfig,
                        run_dir: Path) -> list[LiveRun]:
    """Run the harness over ``entries`` once per rate of ``cfg``; the lab must be running."""
    run_dir.mkdir(parents=True, exist_ok=True)
    out: list[LiveRun] = []
    for i, rate in enumerate(cfg.rates):
        rng = random.Random(cfg.seed * 1000 + i)
        lines, plan = query_plan(entries, rounds=cfg.rounds, noise_weight=cfg.noise_weight,
                                 fault_rate=cfg.fault_rate, faults=cfg.faults, rng=rng)
        qfile = run_dir / f"queries-{i}.txt"
        qfile.write_text("\n".join(lines) + "\n")
        out.append(await _one_rate(lab, cfg, rate, qfile, len(lines), plan, run_dir / f"r{i}"))
    return out


async def _one_rate(lab: LabInfo, cfg: LiveConfig, rate: float, qfile: Path, lines: int,
                    plan: FaultPlan, run_dir: Path) -> LiveRun:
    backend = ManagedResolver.from_spec(ReferenceSpec.from_lab_files(
        kind=cfg.backend,  # type: ignore[arg-type]
        listen=BACKEND_LISTEN[0], port=BACKEND_LISTEN[1], workdir=run_dir / "backend",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
        outgoing_address=lab.egress.get("candidate"), identity="candidate-backend"))
    config = config_from_mapping({
        "lab": str(lab.state_dir),
        "run_dir": str(run_dir / "shadow"),
        "intake": [{"kind": "query_list", "file": str(qfile), "rate": rate}],
        "candidate": {"address": f"{PROXY_LISTEN[0]}:{PROXY_LISTEN[1]}", "timeout": 5},
        "references": [{"name": REFERENCE_NAME, "kind": "unbound",
                        "listen": f"{REFERENCE_LISTEN[0]}:{REFERENCE_LISTEN[1]}",
                        "timeout": 5}],
        "dispatcher": {"max_in_flight": cfg.max_in_flight},
        "store": {"path": str(run_dir / "shadow.db")},
        "live": "off",
        "judge": "differ",
    }, source="bench differ --mode live")
    differ_config = DifferConfig(**{"candidate": "candidate",
                                    "references": (REFERENCE_NAME,),
                                    "twins": {REFERENCE_NAME: TWIN_NAME},
                                    "authority_port": lab.port, **cfg.differ})
    authorities = (UdpAuthorities(differ_config.authority_port, policy=config.policy)
                   if differ_config.authority_sweep else None)
    judge = Keeping(Differ(differ_config, authorities=authorities))
    probes: list[Target] = []
    if differ_config.egress_swap:
        twin = ManagedResolver.from_spec(ReferenceSpec.from_lab_files(
            kind="unbound", listen=TWIN_LISTEN[0], port=TWIN_LISTEN[1],
            workdir=run_dir / "twin", root_hints_file=lab.hints_path,
            trust_anchor_file=lab.anchor_path, outgoing_address=lab.egress.get("candidate"),
            identity=TWIN_NAME))
        probes.append(AddressTarget(TWIN_NAME, TWIN_LISTEN[0], TWIN_LISTEN[1], timeout=5,
                                    reference=twin))
    proxy = FaultProxy(PROXY_LISTEN, BACKEND_LISTEN, plan)
    await backend.start()
    try:
        await backend.flush_all()
        await proxy.start()
        pipeline = build_pipeline(config, judge=judge, probes=probes)
        async with pipeline:  # starts (and flushes) the reference, then the intake
            started = time.monotonic()
            ended = await pipeline.run(cfg.time_limit, None)
            seconds = time.monotonic() - started
        requeries = int(pipeline.metrics.counters.get("requeries", 0))
    finally:
        await proxy.close()
        with contextlib.suppress(Exception):
            await backend.stop()
    return LiveRun(rate, judge.kept, plan, seconds, requeries, ended, dict(proxy.stats), lines,
                   int(judge.inner.stats["authority_queries"]))


# -- the tally and the command -----------------------------------------------------------------


def live_report(run: LiveRun, entries: Sequence[ManifestEntry],
                held_out: set[str]) -> AccuracyReport:
    """The run's verdicts as an :class:`AccuracyReport`: each kept verdict with its manifest
    kind and the fault its question carried (a fault that did not apply to the reply, such as
    strip_rrsig on an unsigned answer, leaves a fault-free observation, counted apart)."""
    by_key = {(e.name.to_text().lower(), int(e.rdtype)): e for e in entries}
    report = AccuracyReport(held_out=held_out, requeries=run.requeries, seconds=run.seconds,
                            authority_queries=run.authority_queries)
    for (name, qtype), verdict in run.kept:
        entry = by_key.get((name.lower(), qtype))
        if entry is None:
            report.excluded["a question outside the manifest"] += 1
            continue
        kind = run.plan.faults.get((name, qtype))
        expected = None
        if kind is not None:
            applied = run.plan.applied.get((name, qtype))
            if applied is None:
                report.excluded[f"{kind.value}: does not apply to the reply"] += 1
                kind = None
            else:
                expected = applied.expected
        report.records.append(Record(entry.name.to_text(), dns.rdatatype.to_text(entry.rdtype),
                                     f"{entry.category}:{entry.kind}", kind, expected, verdict))
    return report


async def run_live(args: Any, overrides: dict[str, Any],
                   rates: tuple[float, ...]) -> dict[str, Any] | None:
    """``bench differ --mode live``: start the lab, run every rate, print and return figures
    (None when something could not start; the reason is printed)."""
    run_dir: Path = args.run_dir.absolute()
    world = load_world()
    manifest_all = manifest(world)
    entries = [e for e in select_kinds(manifest_all, args.kinds) if e.category != "broken"]
    cfg = LiveConfig(rates=rates, rounds=args.live_rounds, fault_rate=args.fault_rate,
                     seed=args.seed, backend=args.backend, differ=overrides,
                     max_in_flight=args.max_in_flight)
    lab = LabProcess(run_dir / "lab")
    try:
        info = await asyncio.to_thread(lab.start)
    except LabError as e:
        print(f"shadowdns bench differ: the lab: {e}", file=sys.stderr)
        return None
    try:
        runs = await live_accuracy(info, entries, cfg, run_dir)
    except ReferenceResolverError as e:
        print(f"shadowdns bench differ: {e}", file=sys.stderr)
        return None
    finally:
        await asyncio.to_thread(lab.stop)
    figures: dict[str, Any] = {"kinds": args.kinds, "backend": args.backend,
                               "max_in_flight": args.max_in_flight,
                               "differ": {k: repr(v) for k, v in overrides.items()},
                               "rates": []}
    columns: list[tuple[str, AccuracyReport]] = []
    for one in runs:
        report = live_report(one, entries, held_out_kinds(manifest_all))
        columns.append((f"{one.rate:g}/s paced ({one.achieved:.1f}/s)" if one.rate
                        else f"highest ({one.achieved:.1f}/s)", report))
        pace = f"{one.rate:g}/s paced" if one.rate else "as fast as the harness takes them"
        print(f"== differ accuracy, live: lab + Unbound (one reference) + fault proxy in front "
              f"of {args.backend}, through the harness; query list {pace}: "
              f"{len(one.kept)} judged of {one.lines} lines in {one.seconds:.1f} s "
              f"({one.achieved:.1f}/s), run {one.ended}")
        print(report.text())
        print(f"  proxy: {one.proxy}; replies bent: {one.plan.bent}")
        print()
        figures["rates"].append({"rate": one.rate, "achieved_rate": round(one.achieved, 1),
                                 "lines": one.lines, "judged": len(one.kept),
                                 "seconds": round(one.seconds, 1), "ended": one.ended,
                                 **accuracy_figures(report)})
    print(f"== done when (issue 14), live, one reference, seed {args.seed}: "
          "the achieved rate in each column")
    print(done_when(columns))
    return figures
