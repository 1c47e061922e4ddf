"""Playing scenarios: steps in file order against a target, one run per variant.

For each step, in file order, the fake network's current step id is set to the step's id
(so all upstream traffic a QUERY causes is answered by what is active at that id), then:

* ``QUERY``: the entry's message (random ID, EDNS0 with payload 4096, the flags of its
  REPLY line) goes to the target, which has :data:`~deckard.target.CLIENT_TIMEOUT`
  seconds to answer; that answer is the one the next CHECK_ANSWER checks.  A RAW query is
  sent without waiting.
* ``CHECK_ANSWER``: the last answer against the entry's MATCH list; a mismatch fails the
  run there, with the step (and its line), every failed condition and a dig-style diff.
* ``TIME_PASSES ELAPSE n``: the target's clock moves n seconds (testbound: ``TIME_PASSES
  EVAL text`` by the expanded text's number, :mod:`deckard.macros`).
* testbound: ``ASSIGN name = text`` sets a macro variable; ``INFRA_RTT address zone ms``
  feeds that RTT to the target's infra cache; ``TIMEOUT`` and ``ERROR`` have ended an
  upstream query while an earlier QUERY was handled (:mod:`deckard.fakenet`), or the run
  fails there (testbound: "No pending queries").
* ``REPLY`` (a one-shot answer the fake network uses) and ``CHECK_OUT_QUERY`` (ignored by
  Deckard) do nothing when played.

After the last step, an undefined upstream answer (a query no entry matched) or a
MANDATORY entry that never answered fails the run.

Targets are the in-process candidate (:mod:`deckard.candidate`, the default) or a resolver
reached over loopback (:mod:`deckard.network`).  :func:`run_paths` runs files in parallel
processes (``jobs``); a file that does not parse gives one ``error`` result and the others
still run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import fnmatch
import functools
import multiprocessing
import random
import time
import traceback
import warnings
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.rdatatype

from deckard.candidate import Candidate, CandidateConfig
from deckard.fakenet import ScenarioNet
from deckard.macros import MacroError, expand, number
from deckard.match import matches, mismatches
from deckard.network import network_target_factory
from deckard.outcome import VARIANT_NAMES, RunResult, Status, StepFailure
from deckard.records import Question
from deckard.render import diff, expected_text, got_text
from deckard.scenario import BACK_EVENTS, Scenario, Step, load
from deckard.target import CLIENT_TIMEOUT, RunOptions, Target, TargetFactory, Unsupported
from deckard.text import ScenarioError
from deckard.worker import inherit_warning_filters
from resolver.conductor.transport import parse_response

TRAFFIC_LINES = 60
"""Upstream exchanges kept with a failed result (the last ones)."""


class CandidateTarget:
    """The in-process candidate as a :class:`Target`."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate

    async def send(self, wire: bytes, *, wait: bool) -> bytes | None:
        return await self.candidate.handle(wire)

    def advance(self, seconds: float) -> None:
        self.candidate.advance(seconds)

    def forget(self, question: Question, expire: bool = False) -> None:
        self.candidate.forget(question.name, question.rdtype, expire)

    def now(self) -> float:
        return self.candidate.clock.now()

    def infra_rtt(self, address: str, zone: dns.name.Name, milliseconds: int) -> None:
        self.candidate.infra_rtt(address, milliseconds)

    @property
    def upstream_queries(self) -> int:
        return self.candidate.upstream_queries


@asynccontextmanager
async def candidate_target(
    scenario: Scenario, qmin: bool | None, net: ScenarioNet, seed: int, qmin_qtype: str = "NS"
) -> AsyncIterator[Target]:
    config = CandidateConfig.from_scenario(scenario.config, bool(qmin))
    if scenario.dialect == "testbound":
        qmin_qtype = "A"  # Unbound's minimised queries (RFC 9156), which its tests expect
    config = dataclasses.replace(config, qmin_qtype=int(dns.rdatatype.from_text(qmin_qtype)))
    yield CandidateTarget(Candidate(config, net, seed))


# -- one run ------------------------------------------------------------------------------


def _fail(step: Step, kind: str, message: str, text: str = "") -> StepFailure:
    return StepFailure(step.id, step.line, kind, message, text)


async def play(
    scenario: Scenario, target: Target, net: ScenarioNet, rng: random.Random
) -> StepFailure | None:
    """Play every step; the first failure, or None when the run passed.

    testbound differs in three places: the upstream traffic a QUERY causes is answered at
    the id of the *next* step (testbound handles it after the QUERY moment is consumed), a
    raw (HEX_ANSWER) query is answered like any other, and ``CHECK_OUT_QUERY`` checks that
    such an upstream query was sent (each one checks a different query)."""
    last: dns.message.Message | None = None
    last_step: Step | None = None
    testbound = scenario.dialect == "testbound"
    checked_out: set[int] = set()
    variables: dict[str, str] = {}  # testbound's macro variables (ASSIGN)
    for index, step in enumerate(scenario.steps):
        net.step = step.id
        if testbound and step.kind == "QUERY" and index + 1 < len(scenario.steps):
            net.step = scenario.steps[index + 1].id
        entry = step.entry
        if step.kind == "CHECK_OUT_QUERY" and testbound:
            assert entry is not None
            hit = next(
                (i for i, (q, tcp) in enumerate(net.sent)
                 if i not in checked_out and matches(entry, q, tcp)),
                None,
            )
            if hit is None:
                return _fail(step, "CHECK_OUT_QUERY", "no upstream query matches the entry",
                             "\n".join(expected_text(entry)))
            checked_out.add(hit)
        elif step.kind == "QUERY":
            assert entry is not None
            if entry.raw is not None and not testbound:  # Deckard does not wait for an answer
                try:
                    await asyncio.wait_for(target.send(entry.raw, wait=False), CLIENT_TIMEOUT)
                except TimeoutError:
                    pass
                continue
            if entry.raw is not None:
                wire = entry.raw
            else:
                wire = entry.template(msg_id=rng.randrange(0, 65536)).to_wire(max_size=65535)
            try:
                reply = await asyncio.wait_for(target.send(wire, wait=True), CLIENT_TIMEOUT)
            except TimeoutError:
                reply = None
            if reply is None:
                return _fail(step, "QUERY", f"no answer within {CLIENT_TIMEOUT:g} s")
            try:
                last = parse_response(reply)
            except dns.exception.DNSException as e:
                return _fail(step, "QUERY", f"the answer does not parse: {e}")
            last_step = step
        elif step.kind == "CHECK_ANSWER":
            assert entry is not None
            if last is None:
                return _fail(step, "CHECK_ANSWER", "no answer to check (no QUERY before)")
            missed = mismatches(entry, last)
            if missed:
                q = f" (answer to step {last_step.id})" if last_step is not None else ""
                text = diff(expected_text(entry), got_text(entry, last))
                return _fail(step, "CHECK_ANSWER", "; ".join(map(str, missed)) + q, text)
        elif step.kind == "TIME_PASSES" and step.expression is not None:
            try:
                seconds = number(expand(step.expression, variables, target.now))
            except MacroError as e:
                return _fail(step, "TIME_PASSES", f"EVAL {step.expression}: {e}")
            if seconds < 0:
                return _fail(step, "TIME_PASSES", f"EVAL {step.expression}: {seconds:g} < 0")
            target.advance(seconds)
        elif step.kind == "TIME_PASSES":
            target.advance(step.elapse)
        elif step.kind == "ASSIGN":
            assert step.expression is not None
            try:
                variables[step.variable] = expand(step.expression, variables, target.now)
            except MacroError as e:
                return _fail(step, "ASSIGN", f"{step.variable} = {step.expression}: {e}")
        elif step.rtt is not None:
            target.infra_rtt(*step.rtt)
        elif step.kind in BACK_EVENTS and step.id not in net.ended:
            # testbound: "No pending queries." (the step ends the latest pending query)
            return _fail(step, step.kind, "no upstream query was pending to end")
        elif step.forget is not None:
            target.forget(step.forget, step.kind == "EXPIRE_MESSAGE")
    if net.undefined:
        first = net.undefined[0]
        more = f" (+{len(net.undefined) - 1} more)" if len(net.undefined) > 1 else ""
        return StepFailure(first.step, 0, "UPSTREAM", f"no entry matches {first}{more}")
    unused = net.unused_mandatory()
    if unused:
        lines = ", ".join(str(e.line) for e in unused)
        return StepFailure(None, unused[0].line, "MANDATORY", f"entry never used (line {lines})")
    return None


def seed_for(scenario: Scenario, variant: str, base: int) -> int:
    return zlib.crc32(f"{scenario.name}/{variant}".encode()) ^ base


async def run_variant(
    scenario: Scenario, qmin: bool | None, options: RunOptions, factory: TargetFactory
) -> RunResult:
    variant = "ext" if qmin is None else VARIANT_NAMES[qmin]
    seed = seed_for(scenario, variant, options.seed)
    if scenario.unsupported:
        return _result(scenario, variant, "unsupported",
                       reason="unsupported: " + ", ".join(scenario.unsupported))
    net = ScenarioNet(scenario, rng=random.Random(seed))
    start = time.perf_counter()
    queries = 0
    failure: StepFailure | None
    try:
        async with factory(scenario, qmin, net, seed) as target:
            failure = await play(scenario, target, net, random.Random(seed + 1))
            queries = target.upstream_queries
    except Unsupported as e:
        return _result(scenario, variant, "skip", reason=str(e))
    except Exception as e:  # a crash of the target is a failed run, with its traceback
        tb = "".join(traceback.format_exception(e))
        failure = StepFailure(net.step, 0, "CRASH", f"{type(e).__name__}: {e}", tb)
    seconds = time.perf_counter() - start
    if failure is None:
        return _result(scenario, variant, "pass", seconds=seconds, upstream_queries=queries)
    return _result(
        scenario,
        variant,
        "fail",
        failure=failure,
        seconds=seconds,
        upstream_queries=queries,
        traffic=tuple(str(x) for x in net.log[-TRAFFIC_LINES:]),
    )


def _result(
    scenario: Scenario,
    variant: str,
    status: Status,
    *,
    failure: StepFailure | None = None,
    reason: str = "",
    seconds: float = 0.0,
    upstream_queries: int = 0,
    traffic: tuple[str, ...] = (),
) -> RunResult:
    return RunResult(
        path=str(scenario.path),
        scenario=scenario.name,
        variant=variant,
        status=status,
        failure=failure,
        reason=reason,
        seconds=seconds,
        upstream_queries=upstream_queries,
        kresd_only=scenario.config.kresd_only,
        traffic=traffic,
        dialect=scenario.dialect,
        unsupported=scenario.unsupported,
    )


def target_factory(options: RunOptions) -> TargetFactory:
    if options.resolver is not None or options.reference is not None:
        return network_target_factory(options)
    return functools.partial(candidate_target, qmin_qtype=options.qmin_qtype)


def variants_for(scenario: Scenario, options: RunOptions) -> list[tuple[bool | None, str]]:
    """(qmin, skip reason) pairs: both QNAME-minimisation modes unless the header says."""
    if options.resolver is not None:
        return [(None, "")]
    out: list[tuple[bool | None, str]] = []
    for qmin in (True, False):
        if scenario.config.qmin is None or scenario.config.qmin == qmin:
            out.append((qmin, ""))
        else:
            said = "on" if scenario.config.qmin else "off"
            key = "qname-minimisation" if scenario.dialect == "testbound" else "query-minimization"
            out.append((qmin, f"the header sets {key}: {said}"))
    return out


def run_file(path: str, options: RunOptions) -> list[RunResult]:
    """Every variant of one file (runs in a worker process)."""
    try:
        scenario = load(Path(path))
    except ScenarioError as e:
        return [RunResult(path, Path(path).stem, "-", "error", reason=str(e))]
    factory = target_factory(options)
    results = []
    for qmin, skip in variants_for(scenario, options):
        if skip:
            results.append(_result(scenario, VARIANT_NAMES[bool(qmin)], "skip", reason=skip))
            continue
        results.append(asyncio.run(run_variant(scenario, qmin, options, factory)))
    return results


# -- many files ---------------------------------------------------------------------------


def discover(paths: Iterable[Path]) -> list[Path]:
    """``.rpl`` files: the files given, and those in the directories given (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.glob("*.rpl")))
        else:
            out.append(p)
    return out


def select(files: Sequence[Path], pattern: str | None) -> list[Path]:
    """Files whose scenario name matches ``-k``: a glob if it has wildcards, else a
    substring; several patterns separated by commas; a leading ``not `` negates."""
    if not pattern:
        return list(files)
    negate = pattern.startswith("not ")
    pats = [p.strip() for p in pattern[4 if negate else 0 :].split(",") if p.strip()]

    def hit(name: str) -> bool:
        return any(
            fnmatch.fnmatchcase(name, p) if any(c in p for c in "*?[") else p in name for p in pats
        )

    return [f for f in files if hit(f.stem) != negate]


def run_paths(
    files: Sequence[Path],
    options: RunOptions,
    jobs: int = 1,
    progress: Callable[[list[RunResult]], None] | None = None,
) -> list[RunResult]:
    """Run every file; results in file order.  ``progress`` is called per finished file."""
    results: dict[str, list[RunResult]] = {}
    names = [str(f) for f in files]
    if jobs <= 1 or len(names) <= 1 or options.reference or options.resolver:
        for name in names:
            results[name] = run_file(name, options)
            if progress is not None:
                progress(results[name])
    else:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=inherit_warning_filters,
            initargs=(list(warnings.filters),),
        ) as pool:
            futures = {pool.submit(run_file, name, options): name for name in names}
            for fut in concurrent.futures.as_completed(futures):
                name = futures[fut]
                try:
                    results[name] = fut.result()
                except Exception as e:  # a worker died: report the file, keep going
                    results[name] = [
                        RunResult(name, Path(name).stem, "-", "error", reason=f"worker: {e}")
                    ]
                if progress is not None:
                    progress(results[name])
    return [r for name in names for r in results[name]]
