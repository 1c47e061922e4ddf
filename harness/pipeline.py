"""The shadow pipeline: intakes -> sampler -> dispatcher -> judge -> store.

:class:`Pipeline` is the sink every intake feeds.  :meth:`Pipeline.offer` runs in the
intake's callback and never waits: it counts the query as seen, asks the sampler, and gives a
sampled query to the dispatcher -- or counts it dropped and makes the sampler sample down.
When every target has answered, the observation goes to the judge (with a
:class:`~harness.judge.Requery` that can ask a target again, after a flush or with CD) and
then, with its verdict, to the store.

The staging resolver's own answers (dnstap CLIENT_RESPONSE, the responses in a pcap) are
matched to sampled queries by client, port, ID and question and stored with them, also when
they arrive after the observation was stored.

Usage::

    async with Pipeline(intakes=..., sampler=..., targets=[candidate, kresd], judge=...,
                        store=...) as pipeline:
        await pipeline.run(duration=60)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.dispatcher import Dispatcher
from harness.intake.base import Intake, StagingKey, staging_key
from harness.judge import Judge
from harness.metrics import Metrics
from harness.ratecap import RateCap
from harness.recording import CURRENT
from harness.records import ExchangeLog, Observation, Query, TargetAnswer, Verdict, VerdictKind
from harness.sampler import Decision, Sampler
from harness.store import Store
from harness.targets import Target

__all__ = ["Pipeline"]

log = logging.getLogger("shadowdns.harness")

TICK = 0.25  # seconds between load checks
STAGING_WAIT = 10.0  # seconds a sampled query waits for its staging answer
YIELD_EVERY = 64  # finite sources give the loop a turn at least this often
KEEP_UPSTREAM = frozenset({VerdictKind.REAL, VerdictKind.UNSTABLE, VerdictKind.TIMEOUT})
"""Verdicts whose recorded upstream exchanges are stored (with a failed judge: undecided)."""


@dataclass(slots=True)
class _Pending:
    observation: Observation
    created: float
    stored: bool = False


class Pipeline:
    """Wires intakes, sampler, dispatcher, judge and store (see the module docstring).

    ``targets[0]`` is the candidate; the others are references.
    """

    def __init__(self, *, intakes: Sequence[Intake], sampler: Sampler,
                 targets: Sequence[Target], judge: Judge, store: Store,
                 max_in_flight: int = 256, run_config: dict[str, Any] | None = None,
                 drain_timeout: float | None = None, target_qps: float = 0.0,
                 probes: Sequence[Target] = ()) -> None:
        if len(targets) < 2:
            raise ValueError("a shadow run needs the candidate and at least one reference")
        names = [t.name for t in targets]
        every = names + [t.name for t in probes]
        if len(set(every)) != len(every):
            raise ValueError(f"target names must differ: {every}")
        self.intakes = list(intakes)
        self.sampler = sampler
        self.targets = list(targets)
        self.probes = list(probes)
        """Targets only the judge asks (egress twins), never sent the mirrored traffic."""
        self.by_name = {t.name: t for t in [*targets, *probes]}
        self.judge = judge
        self.store = store
        self.run_config = run_config or {}
        self.metrics = Metrics(names)
        self.metrics.capacity = max_in_flight
        self.metrics.judge = getattr(judge, "stats", None)
        self.dispatcher = Dispatcher(self.targets, max_in_flight, self._complete)
        self.rate_cap = RateCap(names, target_qps, now=time.monotonic())
        self.drain_timeout = drain_timeout if drain_timeout is not None else (
            2 * max(t.timeout for t in targets) + 5)
        self.run_id: int | None = None
        self.versions: dict[str, str] = {}
        self._pending: collections.OrderedDict[StagingKey, _Pending] = (
            collections.OrderedDict())
        self._ticker: asyncio.Task[None] | None = None
        self._hurry: asyncio.Event | None = None
        self._started_targets: list[Target] = []
        self._room_calls = 0
        self.closed = False
        self.recording = bool(getattr(self.targets[0], "recording", False))

    # -- the sink ---------------------------------------------------------------------------

    def offer(self, query: Query) -> None:
        counters = self.metrics.counters
        counters["seen"] += 1
        now = time.monotonic()
        decision = self.sampler.decide(query, now)
        if decision is not Decision.SAMPLED:
            counters[decision.value] += 1
            return
        counters["sampled"] += 1
        self.dispatch(query, None, now)

    def dispatch(self, query: Query, observation_id: int | None, now: float) -> bool:
        """Compare a sampled query (the rate cap first), its observation numbered
        ``observation_id`` (None: the store's next); False when it was rate-capped or
        dropped (counted)."""
        counters = self.metrics.counters
        if self.rate_cap.buckets:
            empty = self.rate_cap.admit(now)
            if empty is not None:
                counters["rate_capped"] += 1
                self.metrics.capped[empty] += 1
                return False
        if observation_id is None:
            observation_id = self.store.next_id()
        observation = Observation(query=query, id=observation_id, run_id=self.run_id)
        if self.recording:
            # The dispatcher's task copies the current context: the candidate's upstream
            # exchanges for this query (and the judge's re-queries) land in this log.
            observation.upstream = ExchangeLog()
            token = CURRENT.set(observation.upstream)
            try:
                submitted = self.dispatcher.submit(query, observation)
            finally:
                CURRENT.reset(token)
        else:
            submitted = self.dispatcher.submit(query, observation)
        if not submitted:
            counters["dropped"] += 1
            self.sampler.pressure(True, 1.0, now)
            return False
        key = staging_key(query)
        if key is not None:
            self._pending[key] = _Pending(observation, now)
        return True

    def staging(self, key: StagingKey, wire: bytes) -> None:
        counters = self.metrics.counters
        entry = self._pending.pop(key, None)
        if entry is None:
            counters["staging_unmatched"] += 1
            return
        counters["staging_matched"] += 1
        if entry.stored:
            assert entry.observation.id is not None
            self.store.attach_staging(entry.observation.id, wire)
        else:
            entry.observation.staging_wire = wire

    async def room(self) -> None:
        self._room_calls += 1
        if self.dispatcher.in_flight >= self.dispatcher.max_in_flight:
            await self.dispatcher.room()
        elif self._room_calls % YIELD_EVERY == 0:
            await asyncio.sleep(0)

    # -- completion ------------------------------------------------------------------------

    async def _complete(self, query: Query, answers: dict[str, TargetAnswer],
                        observation: Observation) -> None:
        metrics = self.metrics
        for answer in answers.values():
            metrics.answer(answer.target, answer.latency, answer.error)
        # Keep the targets' order (candidate first) whatever order they answered in.
        observation.answers = {t.name: answers[t.name] for t in self.targets if t.name in answers}
        verdict: Verdict | None
        try:
            verdict = await self.judge.judge(observation, self.requery)
            verdict.observation_id = observation.id
        except asyncio.CancelledError:
            raise
        except Exception:
            metrics.counters["judge_errors"] += 1
            log.warning("the judge failed on %s %s", query.qname, query.qtype, exc_info=True)
            verdict = None
        key = staging_key(query)
        if key is not None:
            entry = self._pending.get(key)
            if entry is not None and entry.observation is observation:
                entry.stored = True
        upstream = observation.upstream
        if upstream is not None:
            counters = metrics.counters
            counters["upstream_recorded"] += len(upstream.items)
            counters["upstream_dropped"] += upstream.dropped
            if verdict is not None and verdict.kind not in KEEP_UPSTREAM:
                observation.upstream = None
            else:
                counters["upstream_kept"] += 1
                with_context = getattr(self.targets[0], "with_context", None)
                if callable(with_context):
                    observation.upstream = with_context(upstream, query.qname)
        if not self.store.add(observation, verdict):
            if self.store.failure is not None:
                metrics.counters["store_lost"] += 1
            else:
                metrics.counters["store_overflow"] += 1
        metrics.counters["compared"] += 1
        if verdict is not None:
            metrics.verdicts[verdict.kind.value] += 1
            if verdict.kind is VerdictKind.REAL:
                metrics.categories[verdict.category] += 1

    async def requery(self, target: str, query: Query, *, flush: bool = False,
                      cd: bool = False) -> TargetAnswer:
        """Ask ``target`` again (the judge's :class:`~harness.judge.Requery`)."""
        chosen = self.by_name[target]
        self.metrics.counters["requeries"] += 1
        while not self.rate_cap.take(target, time.monotonic()):
            await asyncio.sleep(self.rate_cap.wait_time(target, time.monotonic()))
        flushed: bool | None = None
        if flush:
            try:
                await chosen.flush(query.qname)
                flushed = True
            except Exception as e:  # noqa: BLE001 - the judge sees an unflushed answer
                log.info("flushing %s on %s failed: %s", query.qname, target, e)
                flushed = False
        answer = await chosen.ask(query, cd=True if cd else None)
        answer.flushed = flushed  # the judge knows whether this was a fresh fetch
        return answer

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, start the targets, then the intakes (which then feed us)."""
        self.store.open()
        try:
            for target in [*self.targets, *self.probes]:
                await target.start()
                self._started_targets.append(target)
            for target in self.targets:
                self.versions[target.name] = await target.version()
            setup = getattr(self.targets[0], "setup", None)
            if callable(setup):
                self.run_config = {**self.run_config, "candidate_setup": setup()}
            self.run_id = self.store.start_run(self.run_config, self.versions)
            for intake in self.intakes:
                self.metrics.intakes[intake.name] = intake.stats
                await intake.start(self)
        except BaseException:
            await self._shutdown("failed")
            raise
        self._ticker = asyncio.create_task(self._tick(), name="shadowdns-tick")

    @property
    def live_inputs(self) -> bool:
        return any(not i.finite for i in self.intakes)

    @property
    def inputs_done(self) -> bool:
        """Every intake is finite and has been read through."""
        return all(i.finite and i.finished for i in self.intakes)

    async def run(self, duration: float | None = None,
                  stop: asyncio.Event | None = None) -> str:
        """Until ``duration`` seconds pass, ``stop`` is set, every (finite) input is read
        and compared, or the store fails (its disk is full); returns which ("duration",
        "stopped", "inputs_done", "store_failed")."""
        deadline = time.monotonic() + duration if duration else None
        while True:
            if stop is not None and stop.is_set():
                return "stopped"
            if self.store.failure is not None:
                return "store_failed"
            if self.intakes and self.inputs_done and self.dispatcher.in_flight == 0:
                return "inputs_done"
            if deadline is not None and time.monotonic() >= deadline:
                return "duration"
            await asyncio.sleep(0.05)

    async def close(self, status: str = "finished") -> None:
        """Stop the intakes, let what is in flight finish, commit, stop the targets."""
        await self._shutdown(status)

    def hurry(self) -> None:
        """Stop waiting for the queries in flight (a second Ctrl-C): they are cancelled and
        counted as failed; everything already compared is still committed."""
        if self._hurry is None:
            self._hurry = asyncio.Event()
        self._hurry.set()

    async def _shutdown(self, status: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.store.failure is not None:
            status = "store_failed"
        for intake in self.intakes:
            try:
                await intake.close()
            except Exception:  # noqa: BLE001 - closing the rest matters more
                log.warning("closing %s failed", intake.name, exc_info=True)
        if self._hurry is None:
            self._hurry = asyncio.Event()
        await self.dispatcher.drain(self.drain_timeout, self._hurry)
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self._update()
        if self.run_id is not None:
            await asyncio.to_thread(self.store.close, self.status(), status)
        else:
            await asyncio.to_thread(self.store.close, None, status)
        for target in reversed(self._started_targets):
            try:
                await target.stop()
            except Exception:  # noqa: BLE001
                log.warning("stopping %s failed", target.name, exc_info=True)

    async def __aenter__(self) -> Pipeline:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        await self.close("finished" if exc_type is None else "aborted")

    # -- bookkeeping -------------------------------------------------------------------------

    def _update(self) -> None:
        metrics = self.metrics
        metrics.in_flight = self.dispatcher.in_flight
        metrics.sample_scale = self.sampler.scale
        metrics.counters["failed"] = self.dispatcher.failed + self.dispatcher.cancelled

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            self.sampler.pressure(False, self.dispatcher.load, now)
            self._update()
            pending = self._pending
            while pending:
                first = next(iter(pending.values()))
                if now - first.created < STAGING_WAIT:
                    break
                pending.popitem(last=False)

    def status(self) -> dict[str, Any]:
        """Run status for the API, the log and the store's run record."""
        self._update()
        snapshot = self.metrics.snapshot()
        snapshot.update({
            "run_id": self.run_id,
            "versions": self.versions,
            "intakes_detail": [{"name": i.name, "kind": i.kind, "finite": i.finite,
                                "finished": i.finished, "total": i.total, "done": i.done,
                                "unit": i.unit, "what": i.describe()} for i in self.intakes],
            "store": {"path": str(self.store.path), "committed": self.store.committed,
                      "errors": self.store.errors, "pruned": self.store.pruned,
                      "failure": self.store.failure, "lost": self.store.lost},
            "judge": type(self.judge).__name__,
        })
        stats = getattr(self.judge, "stats", None)
        if stats:
            snapshot["judge_stats"] = dict(stats)
        return snapshot
