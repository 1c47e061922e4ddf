"""``shadowdns bench differ``: how right and how fast the differ is, on the lab, in process.

Everything runs in this process without sockets: the lab answers through
``LabServer.answer`` behind a ``MockTransport``, and each resolver is the candidate's own
code (workers, plugins, cache, recursor, conductor) egressing from its own lab region:

* ``candidate``: region ap (127.54.3.1), with a :class:`~shadowdns.bench.faults.FaultPlugin`
  at its post-resolve hook;
* the references ``unbound`` (region eu, 127.54.1.1, the primary) and ``kresd`` (region us,
  127.54.2.1): fault-free instances of the same code, so every difference between them and
  the candidate is either lab noise or an injected fault.  They also answer background
  traffic from "other clients", which keeps their caches out of step with the candidate's.

Time is virtual: one :class:`ManualClock` drives the resolvers' TTLs and the lab's flapping
answers (``LabServer(clock=...)``) and the zones' signatures.

**Accuracy** (:func:`accuracy`): every manifest name is asked each round (DO=1 mostly, 0x20
case), some with a fault injected; each observation is judged with re-queries going to the
same in-process resolvers.  Reported: false REAL verdicts on fault-free observations (by
manifest kind, noise names first), faults found per kind, precision and recall per
category.

**Throughput** (:func:`make_corpus`, :func:`throughput`): a stored corpus of observations
(JSON lines, wires in base64) generated from the lab with popularity-weighted names and a
small fault rate, then judged by a fresh differ on one core; re-queries replay the stored
answers.  Reported: comparisons per CPU-second, overall and by verdict kind.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import dataclasses
import functools
import json
import random
import sys
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import yaml

from configfiles import ConfigError, read_yaml
from harness.differ import Differ, DifferConfig
from harness.differ.sweep import Authorities, sweep_wire
from harness.records import Observation, Query, TargetAnswer, Verdict, VerdictKind
from lab.authserver import LabServer
from lab.manifest import manifest
from lab.run import root_servers
from lab.world import ManifestEntry, WorldDef, load_world
from lab.zones import build_zones
from resolver.app import assemble
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.frames import FrameQueue
from resolver.model import Frame
from resolver.plugins import Plugin, PluginChain
from resolver.workers import Workers
from shadowdns.bench.faults import Applied, FaultKind, FaultPlugin

CANDIDATE = "candidate"
REFERENCES = {"unbound": "127.54.1.1", "kresd": "127.54.2.1"}
CANDIDATE_EGRESS = "127.54.3.1"
ALL_FAULTS = tuple(FaultKind)

# -- the lab in process --------------------------------------------------------------------------


class LabWorld:
    """The default lab world, answered in process, and resolvers egressing into it."""

    def __init__(self, seed: int = 5, world: WorldDef | None = None) -> None:
        self.world = world or load_world()
        self.clock = ManualClock(start=time.time())
        self.zones = build_zones(self.world, int(self.clock.now()))
        self.server = LabServer(self.world, self.zones, seed=seed, clock=self.clock.now)
        self.hints = root_servers(self.zones)
        self.by_addr = {s.address: s for s in self.world.servers.values()}
        self.seed = seed

    def resolver(self, name: str, egress: str, plugins: Sequence[Plugin] = ()) -> LabResolver:
        return LabResolver(self, name, egress, plugins)

    def manifest(self) -> list[ManifestEntry]:
        return manifest(self.world)


class LabResolver:
    """One resolver (the candidate's code) answering client packets in process."""

    def __init__(self, world: LabWorld, name: str, egress: str,
                 plugins: Sequence[Plugin] = ()) -> None:
        self.world = world
        self.name = name
        self.egress = egress
        server, by_addr = world.server, world.by_addr

        def handler(address: str, query: dns.message.Message,
                    tcp: bool) -> dns.message.Message | None:
            s = by_addr.get(address)
            if s is None:
                return None
            wire = server.answer(s, query.to_wire(), egress, tcp)
            return None if wire is None else dns.message.from_wire(wire)

        self.cache = DnsCache(32 * 1024 * 1024)
        resolver = assemble(MockTransport(handler), world.clock, cache=self.cache,
                            root_hints=world.hints,
                            rng=random.Random(zlib.crc32(f"{world.seed}/{name}".encode())))
        self.workers = Workers(FrameQueue(), resolver.answerer,
                               PluginChain(plugins), n=1, clock=world.clock)
        self._ids = random.Random(zlib.crc32(f"{world.seed}/{name}/id".encode()))

    def packet(self, query: Query, *, cd: bool = False) -> bytes:
        if query.wire is not None and not cd:
            return query.wire
        msg = dns.message.make_query(query.qname, dns.rdatatype.RdataType(query.qtype),
                                     dns.rdataclass.RdataClass(query.qclass),
                                     use_edns=query.edns_payload is not None or query.do,
                                     want_dnssec=query.do,
                                     payload=query.edns_payload or 1232)
        msg.id = self._ids.randrange(65536)
        flags = dns.flags.Flag(0)
        if query.rd:
            flags |= dns.flags.RD
        if query.cd or cd:
            flags |= dns.flags.CD
        if query.ad:
            flags |= dns.flags.AD
        msg.flags = flags
        return msg.to_wire()

    async def ask(self, query: Query, *, cd: bool = False) -> TargetAnswer:
        frame = Frame(self.packet(query, cd=cd), "tcp", ("127.0.0.1", 5353),
                      self.world.clock.monotonic())
        started = time.perf_counter()
        wire = await self.workers.handle(frame)
        latency = time.perf_counter() - started
        if wire is None:
            return TargetAnswer(self.name, None, latency, "timeout")
        return TargetAnswer(self.name, wire, latency, received=self.world.clock.monotonic())

    def flush(self, name: str) -> None:
        """Forget one name's positive data (what ``unbound-control flush`` does)."""
        n = dns.name.from_text(name)
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.CNAME,
                       dns.rdatatype.DNAME, dns.rdatatype.TXT, dns.rdatatype.MX,
                       dns.rdatatype.NS, dns.rdatatype.SOA):
            self.cache.rrsets.pop(n, rdtype)


TWINS = {"unbound": "unbound@ap", CANDIDATE: "candidate@eu"}
"""Egress twins: the primary reference's code asking from the candidate's egress, and the
candidate's (faults included) from the primary reference's.  They answer the differ's
re-queries only (``DifferConfig.twins``; ``--differ egress_swap=false`` leaves them out)."""


class Sides:
    """The candidate and the references, and the :class:`~harness.judge.Requery` over them;
    the egress twins (:data:`TWINS`) answer re-queries only."""

    def __init__(self, world: LabWorld, faults: FaultPlugin | None = None,
                 references: int = len(REFERENCES)) -> None:
        self.world = world
        self.faults = faults or FaultPlugin()
        self.candidate = world.resolver(CANDIDATE, CANDIDATE_EGRESS, [self.faults])
        self.references = {n: world.resolver(n, a)
                           for n, a in list(REFERENCES.items())[:references]}
        self.all: dict[str, LabResolver] = {CANDIDATE: self.candidate, **self.references}
        self.twins = {
            TWINS["unbound"]: world.resolver(TWINS["unbound"], CANDIDATE_EGRESS),
            TWINS[CANDIDATE]: world.resolver(TWINS[CANDIDATE], REFERENCES["unbound"],
                                             [self.faults]),
        }
        self.requeries = 0
        self.authority_queries = 0

    async def observe(self, query: Query, obs_id: int) -> Observation:
        answers = await asyncio.gather(*(r.ask(query) for r in self.all.values()))
        return Observation(query, {a.target: a for a in answers}, id=obs_id)

    async def requery(self, target: str, query: Query, *, flush: bool = False,
                      cd: bool = False) -> TargetAnswer:
        self.requeries += 1
        r = self.all.get(target) or self.twins[target]
        if flush:
            r.flush(query.qname)
        return await r.ask(query, cd=cd)

    async def authority(self, address: str, query: Query) -> TargetAnswer:
        """The differ's authority sweep: a lab server asked directly (RD=0), from
        :data:`SWEEP_SOURCE` (:class:`~harness.differ.sweep.Authorities`)."""
        self.authority_queries += 1
        label = f"authority {address}"
        server = self.world.by_addr.get(address)
        if server is None:
            return TargetAnswer(label, error="network: no server at that address")
        wire = self.world.server.answer(server, sweep_wire(query), SWEEP_SOURCE, False)
        if wire is None:
            return TargetAnswer(label, error="timeout")
        return TargetAnswer(label, wire, 0.0, received=self.world.clock.monotonic())


SWEEP_SOURCE = "127.0.0.1"
"""Where the harness's authority sweep comes from (the lab's default region)."""


def differ_for_lab(references: int = len(REFERENCES),
                   overrides: Mapping[str, Any] | None = None,
                   authorities: Authorities | None = None) -> Differ:
    names = tuple(REFERENCES)[:references]
    vantages = {CANDIDATE: "ap", "unbound": "eu", "kresd": "us"}
    settings: dict[str, Any] = {"candidate": CANDIDATE, "references": names,
                                "vantages": {k: v for k, v in vantages.items()
                                             if k == CANDIDATE or k in names},
                                "twins": TWINS}
    settings.update(overrides or {})
    return Differ(DifferConfig(**settings), authorities=authorities)


KIND_SETS = ("all", "no-held-out", "noise", "named", "held-out")


def select_kinds(entries: Sequence[ManifestEntry], kinds: str) -> list[ManifestEntry]:
    """``all``; ``no-held-out``: all but the held-out noise names; ``noise``: noise names;
    ``named``: noise kinds the differ has a normaliser for; ``held-out``: noise kinds it has
    none for (``held_out: true`` in the world)."""
    if kinds == "all":
        return list(entries)
    if kinds == "no-held-out":
        return [e for e in entries if not e.held_out]
    noise = [e for e in entries if e.category == "noise"]
    if kinds == "noise":
        return noise
    if kinds == "named":
        return [e for e in noise if not e.held_out]
    if kinds == "held-out":
        return [e for e in noise if e.held_out]
    raise ValueError(f"--kinds: {kinds!r} is not one of {', '.join(KIND_SETS)}")


def held_out_kinds(entries: Sequence[ManifestEntry]) -> set[str]:
    return {f"{e.category}:{e.kind}" for e in entries if e.held_out}


def differ_overrides(pairs: Sequence[str], path: Path | None) -> dict[str, Any]:
    """DifferConfig fields from a YAML mapping file and ``KEY=VALUE`` pairs (values read as
    YAML: ``confirm=false``, ``pool_requeries=10``); unknown keys are one-line errors."""
    known = {f.name for f in dataclasses.fields(DifferConfig)}
    out: dict[str, Any] = {}
    if path is not None:
        try:
            loaded, _ = read_yaml(path)
        except ConfigError as e:
            raise ValueError(f"--differ-config: {e}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"--differ-config: {path}: expected a mapping of DifferConfig "
                             "fields")
        for key, value in loaded.items():
            if key not in known:
                raise ValueError(f"--differ-config: {path}: {key}: not a DifferConfig field "
                                 f"(known: {', '.join(sorted(known))})")
            out[str(key)] = value
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ValueError(f"--differ: {pair!r} is not KEY=VALUE")
        if key not in known:
            raise ValueError(f"--differ: {key}: not a DifferConfig field (known: "
                             f"{', '.join(sorted(known))})")
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ValueError(f"--differ: {pair!r}: the value is not YAML") from None
    for key, value in out.items():  # lists in YAML, tuples in the dataclass
        if isinstance(value, list):
            out[key] = tuple(value)
    return out


def _mixed_case(name: dns.name.Name, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name.to_text())


def _query_for(entry: ManifestEntry, rng: random.Random, dnssec: bool = True) -> Query:
    return Query(qname=_mixed_case(entry.name, rng), qtype=int(entry.rdtype), do=dnssec,
                 edns_payload=1232)


# -- accuracy ----------------------------------------------------------------------------------


@dataclass
class AccuracyConfig:
    rounds: int = 30
    step: float = 1.3  # mean virtual seconds between rounds
    fault_rate: float = 0.35  # share of observations with a fault injected
    background: float = 0.5  # chance per round that a reference answers another client
    seed: int = 7
    faults: tuple[FaultKind, ...] = ALL_FAULTS
    names: tuple[str, ...] = ()  # restrict to these manifest names ('' = all)
    kinds: str = "all"  # see select_kinds
    references: int = len(REFERENCES)  # 1: unbound only
    differ: dict[str, Any] = field(default_factory=dict)  # DifferConfig overrides


@dataclass
class Record:
    name: str
    rdtype: str
    kind: str  # manifest category:kind, e.g. "noise:pool", "stable:stable"
    fault: FaultKind | None
    expected: str | None  # the category the fault should be found under
    verdict: Verdict


RECALL_TARGET = 0.99
"""Issue 14's done-when: at least this share of the injected faults of every kind found."""


@dataclass(frozen=True)
class Recall:
    """One fault kind's figures."""

    found: int
    injected: int
    answered: int  # injected but TIMEOUT (nothing to judge)
    missed_as: dict[str, int]  # verdict kind -> count, for the faults not found

    @property
    def share(self) -> float:
        return self.found / self.injected if self.injected else 1.0

    def cell(self) -> str:
        text = f"{self.found}/{self.injected} {100 * self.share:5.1f}%"
        if self.answered < self.injected:
            text += f" ({self.found}/{self.answered} answered)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"found": self.found, "injected": self.injected, "answered": self.answered,
                "recall": round(self.share, 4), "missed_as": self.missed_as}


@dataclass
class AccuracyReport:
    records: list[Record] = field(default_factory=list)
    excluded: collections.Counter[str] = field(default_factory=collections.Counter)
    requeries: int = 0
    authority_queries: int = 0  # the authority sweep's, apart from the re-queries
    seconds: float = 0.0
    held_out: set[str] = field(default_factory=set)  # noise kinds without a named rule

    @property
    def clean(self) -> list[Record]:
        return [r for r in self.records if r.fault is None]

    @property
    def faulty(self) -> list[Record]:
        return [r for r in self.records if r.fault is not None]

    def false_real(self) -> list[Record]:
        """REAL verdicts on fault-free observations of noise names: false positives."""
        return [r for r in self.clean if r.verdict.kind is VerdictKind.REAL
                and r.kind.startswith("noise:")]

    def noise_kinds(self) -> dict[str, dict[str, Any]]:
        """Per noise kind (``noise:<kind>``): whether it is held out (no named normaliser),
        fault-free observations, false REAL among them, the other verdicts, and the faults
        injected into its answers and found."""
        out: dict[str, dict[str, Any]] = {}
        kinds = sorted({r.kind for r in self.records if r.kind.startswith("noise:")},
                       key=lambda k: (k in self.held_out, k))
        for kind in kinds:
            clean = [r for r in self.clean if r.kind == kind]
            faulty = [r for r in self.faulty if r.kind == kind]
            verdicts = collections.Counter(r.verdict.kind.value for r in clean)
            out[kind] = {
                "held_out": kind in self.held_out,
                "observations": len(clean),
                "false_real": verdicts["real"],
                "verdicts": dict(verdicts),
                "real_categories": dict(collections.Counter(
                    r.verdict.category for r in clean if r.verdict.kind is VerdictKind.REAL)),
                "faults_injected": len(faulty),
                "faults_found": sum(r.verdict.kind is VerdictKind.REAL for r in faulty),
            }
        return out

    def false_real_split(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((false REAL, observations) on named noise kinds, the same on held-out kinds)."""
        rows = self.noise_kinds().values()
        named = [r for r in rows if not r["held_out"]]
        held = [r for r in rows if r["held_out"]]
        return ((sum(r["false_real"] for r in named), sum(r["observations"] for r in named)),
                (sum(r["false_real"] for r in held), sum(r["observations"] for r in held)))

    def unprompted(self) -> list[Record]:
        """REAL verdicts on fault-free observations of other names.  Both sides run the
        candidate's code, so these are its own cache-state-dependent behaviours: real
        divergences, reported apart from the fault figures."""
        return [r for r in self.clean if r.verdict.kind is VerdictKind.REAL
                and not r.kind.startswith("noise:")]

    def found(self, kind: FaultKind | None = None) -> tuple[int, int]:
        rows = [r for r in self.faulty if kind is None or r.fault is kind]
        return sum(r.verdict.kind is VerdictKind.REAL for r in rows), len(rows)

    def recall(self, kind: FaultKind) -> Recall:
        """One fault kind's recall: found, injected, and answered (injected but for the
        TIMEOUT verdicts: a side gave no answer, even when asked again)."""
        rows = [r for r in self.faulty if r.fault is kind]
        return Recall(sum(r.verdict.kind is VerdictKind.REAL for r in rows), len(rows),
                      sum(r.verdict.kind is not VerdictKind.TIMEOUT for r in rows),
                      dict(collections.Counter(r.verdict.kind.value for r in rows
                                               if r.verdict.kind is not VerdictKind.REAL)))

    def per_category(self) -> dict[str, tuple[int, int, int, int]]:
        """category -> (true positives, false positives, false negatives, unprompted).

        Truth is the expected category of each injected fault.  A REAL verdict under another
        category, or on a fault-free noise name, is a false positive; REAL verdicts on
        fault-free stable and broken names are counted apart (:meth:`unprompted`).
        """
        tp: collections.Counter[str] = collections.Counter()
        fp: collections.Counter[str] = collections.Counter()
        fn: collections.Counter[str] = collections.Counter()
        other: collections.Counter[str] = collections.Counter()
        for r in self.records:
            real = r.verdict.kind is VerdictKind.REAL
            got = r.verdict.category if real else None
            if r.expected is not None:
                if got == r.expected:
                    tp[r.expected] += 1
                else:
                    fn[r.expected] += 1
                    if got is not None:
                        fp[got] += 1
            elif got is not None:
                if r.kind.startswith("noise:"):
                    fp[got] += 1
                else:
                    other[got] += 1
        cats = sorted(set(tp) | set(fp) | set(fn) | set(other))
        return {c: (tp[c], fp[c], fn[c], other[c]) for c in cats}

    def text(self) -> str:
        lines: list[str] = []
        kinds = collections.Counter(r.verdict.kind.value for r in self.records)
        lines.append(f"observations: {len(self.records)} ({len(self.clean)} fault-free, "
                     f"{len(self.faulty)} with a fault) in {self.seconds:.1f} s, "
                     f"{self.requeries} re-queries, {self.authority_queries} to "
                     "authorities; verdicts: "
                     + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        lines.append("")
        lines.append("fault-free observations by manifest kind (REAL here is a false positive):")
        by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        explained: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        for r in self.clean:
            by_kind[r.kind][r.verdict.kind.value] += 1
            for n in r.verdict.explained_by:
                explained[r.kind][n] += 1
            if r.verdict.kind is not VerdictKind.REAL:
                for e in {f.evidence for f in r.verdict.evidence.noise_floor}:
                    explained[r.kind][f"floor:{e}"] += 1  # which evidence the floor used
        for kind in sorted(by_kind, key=lambda k: (not k.startswith("noise"), k)):
            c = by_kind[kind]
            ex = ", ".join(f"{n} {m}" for n, m in explained[kind].most_common())
            lines.append(f"  {kind:28} n={sum(c.values()):5}  real={c['real']:3}  "
                         f"equal={c['equal']:5} noise={c['noise']:5} "
                         f"unstable={c['unstable']:3} timeout={c['timeout']:3} "
                         f"undecided={c['undecided']:3}"
                         + (f"   explained by: {ex}" if ex else ""))
        lines.append(f"  REAL on fault-free noise names (false positives): "
                     f"{len(self.false_real())}")
        lines.append("")
        lines.append("noise kinds (named: the differ has a normaliser for the kind; held out: "
                     "it has none):")
        for kind, row in self.noise_kinds().items():
            cats = ", ".join(f"{c} {n}" for c, n in sorted(row["real_categories"].items()))
            lines.append(f"  {'held out' if row['held_out'] else 'named':8} {kind:22} "
                         f"n={row['observations']:4}  false real={row['false_real']:4}  "
                         f"faults found {row['faults_found']}/{row['faults_injected']}"
                         + (f"   real as: {cats}" if cats else ""))
        (nr, nn), (hr, hn) = self.false_real_split()
        lines.append(f"  false REAL: named kinds {nr}/{nn}, held-out kinds {hr}/{hn}")
        lines.append("")
        for r in self.false_real()[:10]:
            lines.append(f"    {r.name} {r.rdtype} ({r.kind}): {r.verdict.category} "
                         f"{json.dumps(r.verdict.evidence.to_json().get('differences', []))[:300]}")
        unprompted = collections.Counter((r.name, r.rdtype, r.verdict.category)
                                         for r in self.unprompted())
        lines.append(f"  REAL on fault-free stable/broken names: {len(self.unprompted())} "
                     "(the candidate's own divergences between cache states, confirmed by "
                     "re-query)")
        for (name, rdtype, cat), count in unprompted.most_common(10):
            example = next(r for r in self.unprompted()
                           if (r.name, r.rdtype, r.verdict.category) == (name, rdtype, cat))
            diffs = example.verdict.evidence.differences
            first = diffs[0].detail if diffs else ""
            lines.append(f"    {name} {rdtype}: {cat} x{count}: {first}")
        lines.append("")
        lines.append("injected faults (found = a REAL verdict; as expected = under the "
                     "expected category):")
        for fault in ALL_FAULTS:
            rows = [r for r in self.faulty if r.fault is fault]
            if not rows:
                continue
            found = sum(r.verdict.kind is VerdictKind.REAL for r in rows)
            right = sum(r.verdict.kind is VerdictKind.REAL and r.verdict.category == r.expected
                        for r in rows)
            lines.append(f"  {fault.value:15} injected={len(rows):4} found={found:4} "
                         f"({100 * found / len(rows):5.1f}%)  as expected={right:4}")
        found, total = self.found()
        if total:
            lines.append(f"  all faults: {found}/{total} found ({100 * found / total:.2f}%)")
            timed_out = [r for r in self.faulty if r.verdict.kind is VerdictKind.TIMEOUT]
            if timed_out:
                sides = collections.Counter(r.verdict.evidence.side or "?"
                                            for r in timed_out)
                lines.append(f"  of which a side gave no answer (TIMEOUT, not judged): "
                             f"{len(timed_out)} ("
                             + ", ".join(f"{k} {v}" for k, v in sorted(sides.items()))
                             + f"); found among the answered: {found}/"
                             f"{total - len(timed_out)}")
        for what, count in sorted(self.excluded.items()):
            lines.append(f"  not injected: {what} x{count}")
        missed = [r for r in self.faulty if r.verdict.kind is not VerdictKind.REAL]
        for r in missed[:10]:
            lines.append(f"    missed {r.fault.value if r.fault else ''} on {r.name} "
                         f"{r.rdtype}: {r.verdict.kind.value} {r.verdict.category} "
                         f"explained by {r.verdict.explained_by}")
        lines.append("")
        lines.append("per category (truth: the expected category of each injected fault; FP: a "
                     "REAL verdict under another category or on a fault-free noise name; "
                     "unprompted: REAL on fault-free stable/broken names, not in precision):")
        lines.append(f"  {'category':26} {'TP':>5} {'FP':>5} {'FN':>5} {'unprompted':>10} "
                     f"{'precision':>10} {'recall':>8}")
        for cat, (tp, fp, fn, other) in self.per_category().items():
            prec = f"{100 * tp / (tp + fp):.1f}%" if tp + fp else "-"
            rec = f"{100 * tp / (tp + fn):.1f}%" if tp + fn else "-"
            lines.append(f"  {cat:26} {tp:5} {fp:5} {fn:5} {other:10} {prec:>10} {rec:>8}")
        return "\n".join(lines)


def indistinguishable(kind: FaultKind, entry: ManifestEntry) -> str | None:
    """Why ``kind`` on ``entry`` cannot be told from the name's noise by construction (None:
    it can); such faults are not injected, in process or live."""
    if kind is FaultKind.CHANGE_ADDRESS and entry.kind == "geo":
        return ("change_address on a geo name: an unseen address from a third region is "
                "what geo noise looks like")
    if kind is FaultKind.DROP_RR and entry.kind == "lb_count":
        return ("drop_rr on a varying-count load balancer: one record fewer is an answer the "
                "balancer gives itself")
    return None


def _fault_applies(kind: FaultKind, entry: ManifestEntry, query: Query) -> str | None:
    """Why ``kind`` is not injected for ``entry`` (None: it is)."""
    why = indistinguishable(kind, entry)
    if why is not None:
        return why
    if kind is FaultKind.FLIP_AD and not (query.do or query.ad):
        return "flip_ad without DO/AD: the worker strips AD for such clients"
    return None


async def accuracy(cfg: AccuracyConfig | None = None) -> AccuracyReport:
    """Run the accuracy benchmark on the in-process lab."""
    cfg = cfg or AccuracyConfig()
    world = LabWorld(seed=cfg.seed)
    rng = random.Random(cfg.seed)
    report = AccuracyReport(held_out=held_out_kinds(world.manifest()))
    entries = select_kinds(world.manifest(), cfg.kinds)
    if cfg.names:
        wanted = {n if n.endswith(".") else n + "." for n in cfg.names}
        entries = [e for e in entries if e.name.to_text() in wanted]
    noise_entries = [e for e in entries if e.category == "noise"]
    started = time.perf_counter()
    sides = Sides(world, references=cfg.references)
    differ = differ_for_lab(cfg.references, cfg.differ, sides.authority)
    obs_id = 0
    for _ in range(cfg.rounds):
        world.clock.advance(cfg.step * rng.uniform(0.3, 1.7))
        for ref in sides.references.values():  # other clients of the references
            for e in noise_entries:
                if rng.random() < cfg.background:
                    await ref.ask(_query_for(e, rng))
        order = list(entries)
        rng.shuffle(order)
        for entry in order:
            dnssec = rng.random() < 0.85
            query = _query_for(entry, rng, dnssec)
            kind: FaultKind | None = None
            if cfg.faults and rng.random() < cfg.fault_rate:
                kind = rng.choice(cfg.faults)
                why = _fault_applies(kind, entry, query)
                if why is not None:
                    report.excluded[why] += 1
                    kind = None
            if kind is not None:
                sides.faults.inject(entry.name, entry.rdtype, kind)
            obs_id += 1
            obs = await sides.observe(query, obs_id)
            applied: Applied | None = None
            if kind is not None:
                applied = sides.faults.applied.get(
                    (entry.name.to_text().lower(), int(entry.rdtype)))
            verdict = await differ.judge(obs, sides.requery)
            if kind is not None:
                sides.faults.clear(entry.name, entry.rdtype)
                if applied is None:
                    report.excluded[f"{kind.value}: does not apply to the reply"] += 1
                    kind = None
            report.records.append(Record(
                entry.name.to_text(), dns.rdatatype.to_text(entry.rdtype),
                f"{entry.category}:{entry.kind}", kind,
                applied.expected if applied is not None and kind is not None else None,
                verdict))
    report.requeries = sides.requeries
    report.authority_queries = sides.authority_queries
    report.seconds = time.perf_counter() - started
    return report


# -- throughput ----------------------------------------------------------------------------------


def _b64(wire: bytes | None) -> str | None:
    return None if wire is None else base64.b64encode(wire).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


@dataclass
class StoredRequery:
    """A re-query the differ made while the corpus was recorded, and its answer."""

    target: str
    qname: str
    qtype: int
    cd: bool
    answer: TargetAnswer


@dataclass
class Stored:
    """One corpus entry: the observation and the re-queries judging it took."""

    observation: Observation
    requeries: list[StoredRequery] = field(default_factory=list)

    def to_json(self) -> str:
        obs, q = self.observation, self.observation.query
        return json.dumps({
            "id": obs.id,
            "query": {"qname": q.qname, "qtype": q.qtype, "do": q.do, "ad": q.ad,
                      "edns_payload": q.edns_payload},
            "answers": {t: {"wire": _b64(a.wire), "error": a.error}
                        for t, a in obs.answers.items()},
            "requeries": [{"target": r.target, "qname": r.qname, "qtype": r.qtype, "cd": r.cd,
                           "wire": _b64(r.answer.wire), "error": r.answer.error}
                          for r in self.requeries],
        })

    @classmethod
    def from_json(cls, line: str) -> Stored:
        d = json.loads(line)
        q = d["query"]
        query = Query(qname=q["qname"], qtype=q["qtype"], do=q["do"], ad=q["ad"],
                      edns_payload=q["edns_payload"])
        answers = {t: TargetAnswer(t, _unb64(a["wire"]), None, a["error"])
                   for t, a in d["answers"].items()}
        requeries = [StoredRequery(r["target"], r["qname"], r["qtype"], r["cd"],
                                   TargetAnswer(r["target"], _unb64(r["wire"]), None,
                                                r["error"]))
                     for r in d.get("requeries", [])]
        return cls(Observation(query, answers, id=d["id"]), requeries)

    def replay(self) -> Any:
        """A Requery answering from what was recorded (the observation's own answers for
        its question when nothing was recorded)."""
        recorded: dict[tuple[str, str, int, bool], list[TargetAnswer]] = {}
        for r in self.requeries:
            recorded.setdefault((r.target, r.qname.lower(), r.qtype, r.cd), []).append(r.answer)
        obs = self.observation
        used: collections.Counter[tuple[str, str, int, bool]] = collections.Counter()

        async def requery(target: str, query: Query, *, flush: bool = False,
                          cd: bool = False) -> TargetAnswer:
            key = (target, query.qname.lower(), query.qtype, cd)
            answers = recorded.get(key)
            if answers:
                i = min(used[key], len(answers) - 1)
                used[key] += 1
                return answers[i]
            if query.qname.lower() == obs.query.qname.lower() and target in obs.answers:
                return obs.answers[target]
            return TargetAnswer(target, error="timeout")

        return requery


async def make_corpus(path: Path, count: int = 20_000, *, fault_rate: float = 0.002,
                      seed: int = 11, step: float = 0.05) -> dict[str, int]:
    """Record a corpus from the lab: popularity-weighted names (a few popular, a long tail,
    as real traffic has), mostly DO=1, a small share with a fault, and the re-queries a
    live differ made judging each observation (so that a replay can confirm)."""
    world = LabWorld(seed=seed)
    rng = random.Random(seed)
    entries = world.manifest()
    rng.shuffle(entries)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(entries))]  # Zipf-like popularity
    counts: collections.Counter[str] = collections.Counter()
    with path.open("w") as out:
        sides = Sides(world)
        differ = differ_for_lab()
        for i in range(count):
            world.clock.advance(step * rng.uniform(0, 2))
            entry = rng.choices(entries, weights)[0]
            if rng.random() < 0.3:  # another client of a reference only
                ref = rng.choice(list(sides.references.values()))
                await ref.ask(_query_for(entry, rng))
            asked = _query_for(entry, rng, rng.random() < 0.85)
            kind = None
            if rng.random() < fault_rate:
                kind = rng.choice(ALL_FAULTS)
                if _fault_applies(kind, entry, asked) is None:
                    sides.faults.inject(entry.name, entry.rdtype, kind)
                else:
                    kind = None
            stored = Stored(await sides.observe(asked, i))

            async def recording(target: str, query: Query, *, flush: bool = False,
                                cd: bool = False, stored: Stored = stored) -> TargetAnswer:
                answer = await sides.requery(target, query, flush=flush, cd=cd)
                stored.requeries.append(
                    StoredRequery(target, query.qname, query.qtype, cd, answer))
                return answer

            verdict = await differ.judge(stored.observation, recording)
            if kind is not None:
                sides.faults.clear(entry.name, entry.rdtype)
                counts["faulty"] += 1
            counts[entry.category] += 1
            counts["verdict " + verdict.kind.value] += 1
            out.write(stored.to_json() + "\n")
    return dict(counts)


@dataclass
class ThroughputReport:
    observations: int
    cpu_seconds: float
    wall_seconds: float
    by_kind: dict[str, int]
    cpu_by_kind: dict[str, float]
    passes: int

    @property
    def per_second(self) -> float:
        return self.observations / self.cpu_seconds if self.cpu_seconds else 0.0

    def text(self) -> str:
        lines = [f"{self.observations} comparisons ({self.passes} pass(es) over the corpus) in "
                 f"{self.cpu_seconds:.2f} CPU-s ({self.wall_seconds:.2f} s wall), one core: "
                 f"{self.per_second:,.0f} comparisons per CPU-second"]
        for kind, n in sorted(self.by_kind.items(), key=lambda kv: -kv[1]):
            cpu = self.cpu_by_kind.get(kind, 0.0)
            us = 1e6 * cpu / n if n else 0.0
            lines.append(f"  {kind:9} {n:7} ({100 * n / self.observations:5.1f}%)  "
                         f"{us:8.1f} us each")
        return "\n".join(lines)


def load_corpus(path: Path) -> list[Stored]:
    with path.open() as f:
        return [Stored.from_json(line) for line in f if line.strip()]


async def throughput(corpus: list[Stored], passes: int = 1) -> ThroughputReport:
    """Judge ``corpus`` with a fresh differ on this core; re-queries replay the recording."""
    differ = differ_for_lab()
    replays = [s.replay() for s in corpus]
    by_kind: collections.Counter[str] = collections.Counter()
    cpu_by_kind: dict[str, float] = collections.defaultdict(float)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    clock = time.process_time
    for _ in range(passes):
        for stored, replay in zip(corpus, replays, strict=True):
            t0 = clock()
            verdict = await differ.judge(stored.observation, replay)
            cpu_by_kind[verdict.kind.value] += clock() - t0
            by_kind[verdict.kind.value] += 1
    return ThroughputReport(len(corpus) * passes, time.process_time() - cpu0,
                            time.perf_counter() - wall0, dict(by_kind), dict(cpu_by_kind),
                            passes)


# -- the command -------------------------------------------------------------------------------


LiveAccuracy = Callable[[argparse.Namespace, dict[str, Any], tuple[float, ...]],
                        Awaitable[dict[str, Any] | None]]
"""``--mode live``: :func:`shadowdns.bench.differ_live.run_live`, handed in by the command
line (that module builds on this one)."""


def register(bsub: Any, live: LiveAccuracy) -> None:
    p = bsub.add_parser("differ", help="the differ on the lab: accuracy (noise and injected "
                        "faults, named and held-out noise kinds apart) and throughput")
    p.add_argument("--what", choices=("accuracy", "throughput", "both"), default="both",
                   help="which measurement")
    p.add_argument("--mode", choices=("in-process", "live"), default="in-process",
                   help="accuracy: in-process (no sockets, virtual time) or live (the lab, "
                        "Unbound as the one reference, a fault-injecting proxy as the "
                        "candidate, through the harness as 'shadowdns run --query-list'; "
                        "needs the lab's addresses: run it under flock)")
    p.add_argument("--kinds", choices=KIND_SETS, default="all",
                   help="accuracy: which manifest names (held-out: the noise kinds the "
                        "differ has no named rule for)")
    p.add_argument("--differ", action="append", default=[], metavar="NAME=X",
                   help="a DifferConfig field for this run (repeatable; value as YAML)")
    p.add_argument("--differ-config", type=Path, metavar="FILE",
                   help="a YAML mapping of DifferConfig fields")
    p.add_argument("--rounds", type=int, default=30, metavar="N",
                   help="accuracy: rounds over the manifest")
    p.add_argument("--fault-rate", type=float, default=0.35, metavar="X",
                   help="accuracy: share of observations with a fault")
    p.add_argument("--references", type=int, choices=(1, 2), default=2,
                   help="in-process accuracy: references (1: unbound only); live uses one")
    p.add_argument("--rates", default="20,0", metavar="RATE",
                   help="live: query-list rates, comma-separated (0: as fast as the harness "
                        "takes them)")
    p.add_argument("--live-rounds", type=int, default=8, metavar="N",
                   help="live: rounds over the names per rate (noise names 3 times a round)")
    p.add_argument("--max-in-flight", type=int, default=256, metavar="N",
                   help="live: the harness's dispatcher bound")
    p.add_argument("--backend", choices=("unbound", "kresd"), default="unbound",
                   help="live: the resolver behind the fault proxy")
    p.add_argument("--run-dir", type=Path, default=Path("run/bench-differ-live"), metavar="DIR",
                   help="live: state of the lab, resolvers and harness")
    p.add_argument("--seed", type=int, default=7, metavar="N",
                   help="accuracy: seed of the injected faults")
    p.add_argument("--corpus", type=Path, default=Path("run/bench/differ-corpus.jsonl"),
                   metavar="FILE", help="throughput: the stored corpus (generated when missing)")
    p.add_argument("--corpus-size", type=int, default=20_000, metavar="N",
                   help="throughput: observations in a generated corpus")
    p.add_argument("--passes", type=int, default=1, metavar="N",
                   help="throughput: passes over the corpus")
    p.add_argument("--regenerate", action="store_true", help="throughput: make a new corpus")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=functools.partial(run, live=live))


def run(args: argparse.Namespace, live: LiveAccuracy) -> int:
    try:
        overrides = differ_overrides(args.differ, args.differ_config)
        rates = _rates(args.rates)
        differ_for_lab(1, overrides)  # a bad combination fails here, before anything starts
    except (ValueError, TypeError) as e:
        print(f"shadowdns bench differ: {e}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, overrides, rates, live))


def _rates(text: str) -> tuple[float, ...]:
    try:
        rates = tuple(float(r) for r in text.split(",") if r.strip())
    except ValueError:
        raise ValueError(f"--rates: {text!r} is not a comma-separated list of numbers") from None
    if not rates or any(r < 0 for r in rates):
        raise ValueError(f"--rates: {text!r}: give one or more rates >= 0")
    return rates


def done_when(columns: Sequence[tuple[str, AccuracyReport]]) -> str:
    """Issue 14's done-when read off one table, a column per run (the paced and the highest
    rate, or the one in-process run): false REAL on fault-free observations per noise kind,
    named kinds and held-out kinds apart, and each fault kind's recall (found/injected)."""
    reports = [r for _, r in columns]
    kinds: list[str] = []
    for r in reports:
        kinds += [k for k in r.noise_kinds() if k not in kinds]
    held = set().union(*(r.held_out for r in reports))
    faults = [f for f in ALL_FAULTS if any(r.recall(f).injected for r in reports)]
    rows: list[tuple[str, list[str]]] = []

    def noise_row(label: str, chosen: list[str]) -> None:
        cells = []
        for r in reports:
            table = r.noise_kinds()
            got = [table[k] for k in chosen if k in table]
            cells.append(f"{sum(g['false_real'] for g in got)}/"
                         f"{sum(g['observations'] for g in got)}" if got else "-")
        rows.append((label, cells))

    for title, held_out in (("named kinds", False), ("held-out kinds", True)):
        chosen = [k for k in kinds if (k in held) is held_out]
        noise_row(f"false REAL, {title} (no named rule)" if held_out
                  else f"false REAL, {title}", chosen)
        for k in chosen:
            noise_row(f"  {k}", [k])
    rows.append(("fault recall (found/injected)", ["" for _ in reports]))
    for f in faults:
        rows.append((f"  {f.value}", [r.recall(f).cell() if r.recall(f).injected else "-"
                                      for r in reports]))
    verdicts = []
    for r in reports:
        noisy = sum(g["false_real"] for g in r.noise_kinds().values())
        low = [f"{f.value} {100 * r.recall(f).share:.1f}%" for f in faults
               if r.recall(f).injected and r.recall(f).share < RECALL_TARGET]
        verdicts.append(("no false REAL" if noisy == 0 else f"{noisy} false REAL") + "; "
                        + (f"recall >= {100 * RECALL_TARGET:g}% on every fault kind"
                           if not low else "below: " + ", ".join(low)))
    width = max(len(label) for label, _ in rows)
    widths = [max(len(title), *(len(cells[i]) for _, cells in rows))
              for i, (title, _) in enumerate(columns)]
    out = ["  " + " " * width + "  " + "  ".join(t.ljust(w) for (t, _), w in
                                                 zip(columns, widths, strict=True))]
    out += ["  " + label.ljust(width) + "  " + "  ".join(c.ljust(w) for c, w in
                                                          zip(cells, widths, strict=True))
            for label, cells in rows]
    out += [f"  done when, {title}: {v}" for (title, _), v in zip(columns, verdicts, strict=True)]
    return "\n".join(line.rstrip() for line in out)


MISSED_IN_FIGURES = 50
"""Faults not found whose verdicts (evidence included) ``--json`` lists, at most."""


def accuracy_figures(report: AccuracyReport) -> dict[str, Any]:
    found, total = report.found()
    (nr, nn), (hr, hn) = report.false_real_split()
    return {
        "observations": len(report.records),
        "false_real": len(report.false_real()),
        "false_real_named": nr, "observations_named": nn,
        "false_real_held_out": hr, "observations_held_out": hn,
        "noise_kinds": report.noise_kinds(),
        "requeries": report.requeries,
        "authority_queries": report.authority_queries,
        "faults_found": found,
        "faults_injected": total,
        "faults_by_kind": {k.value: report.recall(k).as_dict()
                           for k in ALL_FAULTS if report.recall(k).injected},
        "unprompted_real": len(report.unprompted()),
        "missed": [{"fault": r.fault.value if r.fault else None, "name": r.name,
                    "rdtype": r.rdtype, "kind": r.kind, "verdict": r.verdict.kind.value,
                    "category": r.verdict.category, "explained_by": r.verdict.explained_by,
                    "evidence": r.verdict.evidence.to_json()}
                   for r in report.faulty
                   if r.verdict.kind is not VerdictKind.REAL][:MISSED_IN_FIGURES],
        "per_category": {c: dict(zip(("tp", "fp", "fn", "unprompted"), v, strict=True))
                         for c, v in report.per_category().items()},
    }


async def _run(args: argparse.Namespace, overrides: dict[str, Any],
               rates: tuple[float, ...], live_accuracy: LiveAccuracy) -> int:
    figures: dict[str, Any] = {}
    if args.what in ("accuracy", "both") and args.mode == "live":
        live = await live_accuracy(args, overrides, rates)
        if live is None:
            return 1
        figures["live"] = live
    elif args.what in ("accuracy", "both"):
        report = await accuracy(AccuracyConfig(rounds=args.rounds, fault_rate=args.fault_rate,
                                               seed=args.seed, kinds=args.kinds,
                                               references=args.references,
                                               differ=overrides))
        print(f"== differ accuracy on the in-process lab ({args.references} reference(s))")
        print(report.text())
        print()
        print(f"== done when (issue 14), in process, {args.references} reference(s), "
              f"seed {args.seed}")
        print(done_when([(f"seed {args.seed}", report)]))
        figures["accuracy"] = accuracy_figures(report)
    if args.what in ("throughput", "both"):
        path: Path = args.corpus
        if args.regenerate or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"== generating a corpus of {args.corpus_size} observations at {path}")
            made = await make_corpus(path, args.corpus_size)
            print("   " + ", ".join(f"{k} {v}" for k, v in sorted(made.items())))
        corpus = load_corpus(path)
        t = await throughput(corpus, args.passes)
        print("== differ throughput")
        print(t.text())
        figures["throughput"] = {"comparisons_per_cpu_second": t.per_second,
                                 "observations": t.observations, "by_kind": t.by_kind}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0
