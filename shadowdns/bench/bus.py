"""``shadowdns bench harness --bus``: the harness on Redis Streams with 1 and W compare workers,
next to one ``shadowdns run`` process, on the lab (issue 23).

Everything is started here on loopback and stopped here by PID: the lab, the candidate
(``shadowdns resolver serve``, its own process), Knot Resolver as the reference (one for all
roles, asked by address), and a ``redis-server`` of the bench's own (no persistence, its files
in the run directory).  The query list is the lab's stable names, repeated to ``--bus-queries``
lines; a warm pass of the distinct names fills both resolvers' caches first, so the figures
are the harness's cost, not the lab's.

Then, the same list each time:

* **one process**: ``shadowdns run --query-list`` (candidate and reference by address);
* **the bus, W workers** for each W of ``--bus-workers``: the collector starts
  (``--until-drained``), the intake node publishes the whole list and finishes, then W
  ``bus worker`` processes start; the collector stops once every query is accounted for.

The rate is observations / (last ``stored_at`` − first ``stored_at``) in the store each
produced, as ``ci/bench-bus.sh`` measures it; the accounting is the collector's own line
(``sampled N: stored ..., shed ..., ... (counts add up)``); each process's CPU time (user +
system, from ``wait4`` for the processes that end by themselves and from /proc just before
the workers are stopped) is given per 1,000 queries, and Redis's from ``INFO cpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.load import load_names
from lab.run import LabInfo
from legacy_adapter import ManagedResolver, ReferenceSpec
from shadowdns.bench.resolver import _cpu_seconds, free_port, stop_process

__all__ = ["BusFigures", "parse_workers", "run_bus"]

ACCOUNTS = re.compile(r"bus: sampled (\d+): stored (\d+), shed (\d+), expired (\d+), "
                      r"failed (\d+), capped (\d+) \(counts add up\)")


@dataclass
class Leg:
    """One measured configuration: one process, or the bus with ``workers`` workers."""

    name: str
    workers: int
    stored: int = 0
    rate: float = 0.0
    accounted: int | None = None   # the collector's settled sum, when its counts add up
    accounts_line: str = ""
    cpu_ms_per_query: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0


@dataclass
class BusFigures:
    queries: int
    legs: list[Leg]

    def leg(self, workers: int) -> Leg | None:
        return next((g for g in self.legs if g.workers == workers), None)

    def speedup(self, low: int, high: int) -> float | None:
        a, b = self.leg(low), self.leg(high)
        if a is None or b is None or not a.rate:
            return None
        return b.rate / a.rate


def parse_workers(text: str) -> tuple[int, ...]:
    """``--bus-workers`` ("1,2"): positive worker counts, ascending, no repeats."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of worker counts: {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be 1 or more: {text!r}")
    return tuple(counts)


def _reap(proc: subprocess.Popen[bytes], timeout: float, what: str) -> float:
    """Wait for ``proc`` to end by itself; its CPU seconds (user + system) from wait4."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not finish in {timeout:.0f} s")
        time.sleep(0.05)


def _store_rate(db: Path) -> tuple[int, float]:
    con = sqlite3.connect(db)
    try:
        n, lo, hi = con.execute(
            "SELECT count(*), min(stored_at), max(stored_at) FROM observations").fetchone()
    finally:
        con.close()
    if not n or hi is None or hi <= lo:
        return int(n or 0), 0.0
    return int(n), n / (hi - lo)


class _Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def _client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def ping(self) -> bool:
        try:
            with self._client() as client:
                return bool(client.ping())
        except Exception:  # redis.exceptions.ConnectionError while it starts
            return False

    def exists(self, key: str) -> bool:
        with self._client() as client:
            return bool(client.exists(key))

    def flush(self) -> None:
        with self._client() as client:
            client.flushall()

    def info(self, section: str) -> dict[str, Any]:
        with self._client() as client:
            info: dict[str, Any] = client.info(section)
            return info

    def cpu_seconds(self) -> float:
        info = self.info("cpu")
        return float(info.get("used_cpu_user", 0)) + float(info.get("used_cpu_sys", 0))

    def stop(self) -> None:
        stop_process(self.proc, grace=10, kill_wait=5)


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowdns", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _one_process(qfile: Path, targets: list[str], db: Path, log: Path,
                 queries: int, timeout: float) -> Leg:
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(_cmd("run", "--query-list", str(qfile), *targets, "--db", str(db)),
                                stdout=out, stderr=subprocess.STDOUT, env=_env(),
                                start_new_session=True)
        try:
            cpu = _reap(proc, timeout, "shadowdns run")
        finally:
            if proc.returncode is None:
                stop_process(proc, grace=10, kill_wait=5)
    leg = Leg("one process (shadowdns run)", 0, wall_seconds=time.monotonic() - started)
    if proc.returncode != 0:
        raise RuntimeError(f"shadowdns run exited {proc.returncode}: see {log}")
    leg.stored, leg.rate = _store_rate(db)
    leg.accounted = leg.stored
    leg.cpu_ms_per_query = {"run": cpu * 1000 / queries}
    return leg


def _bus(workers: int, qfile: Path, targets: list[str], redis: _Redis, run_dir: Path,
         queries: int, timeout: float) -> Leg:
    redis.flush()
    bus = ["--redis", redis.url, "--shards", "4", "--live", "off"]
    db = run_dir / f"bus{workers}.db"
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    started = time.monotonic()
    leg = Leg(f"bus, {workers} worker{'s' if workers > 1 else ''}", workers)
    try:
        collect_out = (run_dir / f"collect{workers}.log").open("wb")
        logs.append(collect_out)
        collector = subprocess.Popen(
            _cmd("bus", "collect", *bus, "--db", str(db), "--until-drained", "--intakes", "1"),
            stdout=collect_out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
        procs.append(collector)
        redis_cpu0 = redis.cpu_seconds()
        deadline = time.monotonic() + 60
        while not redis.exists("shadowdns:run"):
            if collector.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the collector did not start: see {collect_out.name}")
            time.sleep(0.1)
        intake_log = (run_dir / f"intake{workers}.log").open("wb")
        logs.append(intake_log)
        intake = subprocess.Popen(_cmd("bus", "intake", *bus, "--query-list", str(qfile)),
                                  stdout=intake_log, stderr=subprocess.STDOUT, env=_env(),
                                  start_new_session=True)
        procs.append(intake)
        intake_cpu = _reap(intake, timeout, "bus intake")
        worker_procs = []
        for w in range(workers):
            wlog = (run_dir / f"worker{workers}-{w}.log").open("wb")
            logs.append(wlog)
            worker_procs.append(subprocess.Popen(
                _cmd("bus", "worker", *bus, *targets, "--consumer", f"w{w}"),
                stdout=wlog, stderr=subprocess.STDOUT, env=_env(), start_new_session=True))
        procs.extend(worker_procs)
        collector_cpu = _reap(collector, timeout, "bus collect")
        worker_cpu = sum(_cpu_seconds(p.pid) for p in worker_procs if p.poll() is None)
        redis_cpu = redis.cpu_seconds() - redis_cpu0
    finally:
        for proc in reversed(procs):
            if proc.returncode is None and proc.poll() is None:
                stop_process(proc, grace=30, kill_wait=5)
        for log in logs:
            log.close()
    leg.wall_seconds = time.monotonic() - started
    text = Path(collect_out.name).read_text(errors="replace")
    match = ACCOUNTS.search(text)
    lines = [line for line in text.splitlines() if line.startswith("bus: sampled")]
    leg.accounts_line = lines[-1] if lines else "(the collector printed no accounts)"
    if match:
        leg.accounted = sum(int(g) for g in match.groups()[1:])
    leg.stored, leg.rate = _store_rate(db)
    per = 1000 / queries
    leg.cpu_ms_per_query = {"intake": intake_cpu * per, "workers": worker_cpu * per,
                            "collector": collector_cpu * per, "redis-server": redis_cpu * per}
    return leg


async def _with_reference(lab: LabInfo, run_dir: Path, listen: tuple[str, int],
                          body: Any) -> Any:
    reference = ManagedResolver.from_spec(ReferenceSpec.from_lab_files(
        kind="kresd", listen=listen[0], port=listen[1], workdir=run_dir / "kresd",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
        outgoing_address=lab.egress.get("kresd"), identity="bench-bus-reference"))
    await reference.start()
    try:
        return await asyncio.to_thread(body)
    finally:
        await reference.stop()


def run_bus(args: argparse.Namespace, lab: LabInfo, run_dir: Path,
            candidate: tuple[str, int], reference: tuple[str, int]) -> BusFigures:
    """Measure one process and the bus with each worker count; the lab and the candidate
    are running (``bench harness`` started them)."""
    names = load_names(lab, quick=True, stable_only=True)
    queries: int = args.bus_queries
    qfile = run_dir / "bus-queries.txt"
    qfile.write_text("".join(names[i % len(names)] + "\n" for i in range(queries)))
    warm = run_dir / "bus-warm.txt"
    warm.write_text("\n".join(names) + "\n")
    targets = ["--candidate", f"{candidate[0]}:{candidate[1]}",
               "--reference", f"address@{reference[0]}:{reference[1]}", "--live", "off"]
    timeout = max(120.0, queries / 50)

    def measure() -> BusFigures:
        _one_process(warm, targets, run_dir / "warm.db", run_dir / "warm.log", len(names),
                     timeout)
        legs = [_one_process(qfile, targets, run_dir / "one.db", run_dir / "one.log", queries,
                             timeout)]
        print(_leg_line(legs[-1], queries), flush=True)
        redis = _Redis(run_dir / "redis")
        try:
            for workers in args.bus_workers:
                legs.append(_bus(workers, qfile, targets, redis, run_dir, queries, timeout))
                print(_leg_line(legs[-1], queries), flush=True)
            memory = redis.info("memory").get("used_memory_peak_human", "?")
        finally:
            redis.stop()
        print(f"redis-server peak memory: {memory}")
        return BusFigures(queries, legs)

    figures: BusFigures = asyncio.run(_with_reference(lab, run_dir, reference, measure))
    return figures


def _leg_line(leg: Leg, queries: int) -> str:
    cpu = ", ".join(f"{k} {v:.3f}" for k, v in leg.cpu_ms_per_query.items())
    accounted = ("all" if leg.accounted == queries else
                 f"{leg.accounted if leg.accounted is not None else '?'} of {queries}")
    return (f"bench harness --bus: {leg.name}: {leg.rate:,.0f} observations/s (stored_at), "
            f"stored {leg.stored}, accounted {accounted}; CPU ms per query: {cpu}")


def print_bus(figures: BusFigures, json_path: Path | None) -> int:
    """The summary lines; exit status 1 when a leg lost queries (not all accounted)."""
    print()
    one = figures.leg(0)
    for leg in figures.legs:
        print(_leg_line(leg, figures.queries))
        if leg.workers:
            print(f"  {leg.accounts_line}")
    counts = sorted(g.workers for g in figures.legs if g.workers)
    if len(counts) >= 2:
        speedup = figures.speedup(counts[0], counts[-1])
        if speedup is not None:
            print(f"bench harness --bus: {counts[0]} -> {counts[-1]} workers: x{speedup:.2f} "
                  f"(on {os.cpu_count()} CPUs shared by every process of the bench)")
    lost = [g.name for g in figures.legs if g.accounted != figures.queries]
    if one is not None:
        fewer = [g.name for g in figures.legs if g.workers and (g.accounted or 0) < one.stored]
        if fewer:
            print(f"bench harness --bus: fewer accounted queries than one process: "
                  f"{', '.join(fewer)}")
    if json_path is not None:
        json_path.write_text(json.dumps({"queries": figures.queries,
                                         "legs": [asdict(g) for g in figures.legs]}, indent=1))
    if lost:
        print(f"bench harness --bus: not every query accounted for in: {', '.join(lost)}")
        return 1
    return 0

