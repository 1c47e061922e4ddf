"""``shadowdns bus intake|worker|collect``: the harness as processes on Redis Streams.

    shadowdns bus collect --redis redis://127.0.0.1:6379/0 --db run/shadow/shadow.db
    shadowdns bus intake --redis ... --dnstap-socket run/shadow/dnstap.sock --sample 0.5
    shadowdns bus worker --redis ... --lab run/lab --reference kresd@127.55.0.2:5053

Every role takes ``shadowdns run``'s flags and ``--config`` (with its ``bus:`` section); each
uses what it needs: the intake node its intakes and sampler, the worker the targets, the
judge and the dispatcher, the collector the store.  Start the collector first (it sets the
ID floor from its store).  SIGINT or SIGTERM stops a role cleanly; docs/BUS.md has the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from configfiles import read_text
from harness.api import ApiServer
from harness.assemble import build_intakes, build_targets, build_twins, choose_judge
from harness.bus.api import RoleApi
from harness.bus.roles import (
    BUCKETS,
    Collector,
    IntakeNode,
    ResultSink,
    Worker,
    connect,
    consumer_name,
    run_intake,
)
from harness.cli import add_run_arguments, config_and_flags, named_by_flag
from harness.config import ConfigError, HarnessConfig, SamplerConfig, with_line
from harness.intake.base import Intake
from harness.judge import Judge
from harness.pipeline import Pipeline
from harness.sampler import Sampler
from harness.store import Store, StoreError
from harness.targets import Target
from legacy_adapter import ReferenceResolverError

__all__ = ["register"]

log = logging.getLogger("shadowdns.harness.bus")

T = TypeVar("T")


def register(sub: Any) -> None:
    p = sub.add_parser("bus", help="the harness as processes on Redis Streams: intake nodes, "
                                   "workers and a collector (docs/BUS.md)",
                       description=__doc__)
    roles = p.add_subparsers(dest="role", required=True, metavar="ROLE")
    for name, text in (
            ("intake", "intakes and sampler: publish sampled queries to the query streams"),
            ("worker", "ask candidate and references, judge, publish the observations"),
            ("collect", "write the observations to the store; keep the accounts")):
        r = roles.add_parser(name, help=text, description=text)
        r.add_argument("--config", type=Path, metavar="FILE",
                       help="YAML config (harness/config.py; the bus: section)")
        b = r.add_argument_group("the bus (YAML: bus:)")
        b.add_argument("--redis", metavar="URL",
                       help="the Redis server (default: redis://127.0.0.1:6379/0)")
        b.add_argument("--prefix", metavar="NAME",
                       help="prefix of every key (default: shadowdns)")
        b.add_argument("--shards", type=int, metavar="N",
                       help="query streams, by registered domain (default: 4)")
        b.add_argument("--consumer", metavar="NAME",
                       help="this process's consumer name in the groups (default: HOST-PID)")
        if name == "intake":
            b.add_argument("--stream-cap", type=int, metavar="N",
                           help="entries per query stream; beyond it the oldest undelivered "
                                "are shed and counted (default: 100000)")
        if name == "worker":
            b.add_argument("--shard-set", action="append", default=[], metavar="N",
                           help="read only this shard, repeatable (default: all)")
            b.add_argument("--claim-timeout", type=float, metavar="SECONDS",
                           help="re-claim entries another consumer has held this long "
                                "(default: 30)")
            b.add_argument("--max-deliveries", type=int, metavar="N",
                           help="an entry delivered more often is counted failed "
                                "(default: 3)")
            b.add_argument("--max-age", type=float, metavar="SECONDS",
                           help="a query older than this when read is counted expired "
                                "(default: 0, never)")
        if name == "collect":
            b.add_argument("--intakes", type=int, metavar="N",
                           help="intake nodes --until-drained waits for (default: 1)")
            b.add_argument("--until-drained", action="store_true",
                           help="stop when every intake node is done and every query it "
                                "sampled is stored or counted")
        add_run_arguments(r)
        r.set_defaults(func=main)


@dataclass
class _Parts:
    """What a role is made of, built (and checked) before anything connects."""

    intakes: list[Intake] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    probes: list[Target] = field(default_factory=list)
    judge: Judge | None = None
    store: Store | None = None


def _parts(args: argparse.Namespace) -> tuple[HarnessConfig, _Parts]:
    """The config and the role's parts; a :class:`ConfigError` names the flag or the
    file:line, as ``shadowdns run`` does."""
    flags: dict[str, str] = {}
    try:
        config, flags = config_and_flags(args)
        parts = _Parts()
        if args.role == "intake":
            parts.intakes = build_intakes(config)
        elif args.role == "worker":
            parts.targets = build_targets(config)
            parts.probes, twins = build_twins(config)
            parts.judge = choose_judge(config.judge, config, twins)
        else:
            parts.store = Store(config.store, ignore_duplicates=True)
            try:
                parts.store.check()
            except ValueError as e:
                raise ConfigError(str(e), source=config.source, key="store.path") from None
        return config, parts
    except ConfigError as e:
        e = named_by_flag(e, flags)
        if args.config is not None and e.source == str(args.config):
            e = with_line(e, read_text(args.config))
        raise e from None


async def _signalled(body: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        return await body(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _role_api(config: HarnessConfig, role: str,
                    counts: Callable[[], collections.Counter[str]]) -> RoleApi | None:
    """With ``--api ADDR:PORT``: this role's ``/metrics`` and ``/api/status``, started."""
    if config.api.listen is None:
        return None
    api = RoleApi(role, consumer_name(config.bus), counts, *config.api.listen)
    await api.start()
    log.info("api: http://%s:%d/metrics, /api/status", api.host, api.port)
    return api


async def _intake(config: HarnessConfig, intakes: list[Intake],
                  stop: asyncio.Event) -> list[str]:
    r = connect(config.bus)
    api: RoleApi | None = None
    try:
        node = IntakeNode(r, config.bus, Sampler(config.sampler))
        api = await _role_api(config, "intake", lambda: node.counters)
        ended = await run_intake(r, config.bus, node, intakes, stop, config.duration or None)
    finally:
        if api is not None:
            await api.stop()
        await r.aclose()
    c = node.counters
    return [f"bus intake: {ended}: seen {c['seen']}, sampled {c['sampled']}, published "
            f"{c['published']}, shed at the stream cap {c['shed_cap']}, shed with Redis away "
            f"{c['shed_buffer']}"]


async def _worker(config: HarnessConfig, parts: _Parts, stop: asyncio.Event) -> list[str]:
    bus = config.bus
    r = connect(bus)
    worker = Worker(r, bus, consumer_name(bus))
    assert parts.judge is not None
    pipeline = Pipeline(
        intakes=[], sampler=Sampler(SamplerConfig(adaptive=False)),
        targets=parts.targets, probes=parts.probes, judge=parts.judge,
        store=ResultSink(worker),
        max_in_flight=config.dispatcher.max_in_flight,
        target_qps=config.dispatcher.target_qps, run_config=config.as_dict())
    worker.attach(pipeline)
    if bus.claim_timeout < pipeline.drain_timeout:
        log.warning("bus.claim_timeout %g s is shorter than a query may take here (%g s: "
                    "twice the longest target timeout and 5 s): slow queries may be "
                    "re-claimed by another worker and compared twice (stored once)",
                    bus.claim_timeout, pipeline.drain_timeout)
    api: ApiServer | None = None
    try:
        await pipeline.start()
        try:
            await worker.start()
            if config.api.listen is not None:  # /metrics and /api/status of this worker
                api = ApiServer(pipeline, *config.api.listen)
                await api.start()
                log.info("api: http://%s:%d/metrics, /api/status", api.host, api.port)
            ended = await worker.run(stop, config.duration or None)
        finally:
            if api is not None:
                await api.stop()
            await pipeline.close()
            await worker.close()
    finally:
        await r.aclose()
    c = worker.counters
    return [f"bus worker {worker.consumer}: {ended}: compared {c['compared']}, claimed "
            f"{c['claimed']}, expired {c['expired']}, failed {c['failed']}, capped "
            f"{c['capped']}"]


async def _collect(config: HarnessConfig, store: Store, stop: asyncio.Event,
                   until_drained: bool) -> list[str]:
    bus = config.bus
    r = connect(bus)
    collector = Collector(r, bus, store, consumer_name(bus), run_config=config.as_dict())
    api: RoleApi | None = None
    try:
        api = await _role_api(config, "collect", lambda: collector.counters)
        await collector.start()
        ended = "failed"
        try:
            ended = await collector.run(stop, duration=config.duration or None,
                                        until_drained=until_drained)
        finally:
            counts = await collector.close("finished" if ended != "failed" else "aborted")
    finally:
        if api is not None:
            await api.stop()
        await r.aclose()
    sampled = counts.get("sampled", 0)
    settled = sum(counts.get(b, 0) for b in BUCKETS)
    buckets = ", ".join(f"{b} {counts.get(b, 0)}" for b in BUCKETS)
    state = ("(counts add up)" if settled == sampled else
             f"({sampled - settled} still buffered, in a stream or in flight)")
    return [f"bus collect: {ended}: run {collector.run_id} in {config.store.path}",
            f"bus: sampled {sampled}: {buckets} {state}; published "
            f"{counts.get('published', 0)}, duplicates ignored "
            f"{counts.get('duplicates', 0)}, re-claimed {counts.get('claimed', 0)}"]


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("redis").setLevel(logging.WARNING)  # (its notes on server features)
    where = f"shadowdns bus {args.role}"
    try:
        config, parts = _parts(args)
    except ConfigError as e:
        print(f"{where}: {e}", file=sys.stderr)
        return 2
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    body: Callable[[asyncio.Event], Awaitable[list[str]]]
    if args.role == "intake":
        def body(stop: asyncio.Event) -> Awaitable[list[str]]:
            return _intake(config, parts.intakes, stop)
    elif args.role == "worker":
        def body(stop: asyncio.Event) -> Awaitable[list[str]]:
            return _worker(config, parts, stop)
    else:
        store = parts.store
        assert store is not None

        def body(stop: asyncio.Event) -> Awaitable[list[str]]:
            return _collect(config, store, stop, args.until_drained)
    try:
        lines = runner(_signalled(body))
    except ConfigError as e:
        print(f"{where}: {e}", file=sys.stderr)
        return 2
    except (OSError, ReferenceResolverError, StoreError) as e:
        print(f"{where}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # redis.exceptions.ConnectionError and kin: the server's words
        if type(e).__module__.startswith("redis"):
            print(f"{where}: redis: {e}", file=sys.stderr)
            return 1
        raise
    for line in lines:
        print(line)
    return 0
