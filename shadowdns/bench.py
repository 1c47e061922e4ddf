"""``shadowdns bench resolver``: dnsperf against the candidate and Unbound on the lab, one run.

Starts the lab, Unbound (one thread) and the candidate (``shadowdns resolver serve`` in its
own process), then for each resolver:

* cached:   warm the cache with the lab's stable names, then dnsperf replays them;
* uncached: every query a fresh name under the lab's wildcard (``<n>.wild.example.lab``),
            so each one is a cache miss that costs one upstream query.

It prints QPS for both and the candidate/Unbound ratios, plus server CPU seconds per 1,000
queries (from /proc, fairer than QPS when dnsperf and the servers share two cores), and the
upstream queries each resolver sent per cold client query (counted by the lab).  Nothing
here is a timed assertion; the figures are for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.message

from lab.manifest import manifest
from lab.run import LabInfo, LabProcess
from lab.world import load_world
from legacy_adapter import ManagedResolver, ReferenceSpec

CANDIDATE = ("127.0.0.12", 5353)
UNBOUND = ("127.55.0.40", 5053)


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="benchmarks against Unbound on the lab")
    bsub = p.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    r = bsub.add_parser("resolver", help="dnsperf: candidate vs Unbound, cached and uncached")
    r.add_argument("--seconds", type=int, default=10, help="dnsperf run length (default 10)")
    r.add_argument("--clients", type=int, default=4, help="dnsperf -c (default 4)")
    r.add_argument("--outstanding", type=int, default=100, help="dnsperf -q (default 100)")
    r.add_argument("--uncached-queries", type=int, default=20000,
                   help="unique wildcard names for the uncached run (default 20000)")
    r.add_argument("--run-dir", type=Path, default=Path("run/bench"))
    r.add_argument("--json", type=Path, help="also write the figures here")
    r.add_argument("--candidate-workers", type=int, default=os.cpu_count() or 1,
                   help="candidate server processes (SO_REUSEPORT; default one per core)")
    r.set_defaults(func=run)
    from shadowdns import bench_harness

    bench_harness.register(bsub)
    from shadowdns import bench_differ

    bench_differ.register(bsub)
    from reports import bench as bench_report

    bench_report.register(bsub)


@dataclass
class Perf:
    qps: float
    sent: int
    completed: int
    lost: int
    cpu_per_kq: float  # server CPU seconds per 1000 completed queries


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children (worker processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def dnsperf(addr: tuple[str, int], datafile: Path, seconds: int, clients: int,
            outstanding: int, pid: int, max_queries: int | None = None) -> Perf:
    cmd = ["dnsperf", "-s", addr[0], "-p", str(addr[1]), "-d", str(datafile),
           "-c", str(clients), "-q", str(outstanding), "-l", str(seconds), "-t", "5"]
    if max_queries is not None:
        cmd += ["-n", "1"]  # each name once: the uncached run must not repeat names
    before = _cpu_seconds(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = _cpu_seconds(pid) - before

    def num(label: str) -> float:
        m = re.search(rf"{label}:\s+([\d.]+)", out)
        return float(m.group(1)) if m else 0.0

    completed = int(num("Queries completed"))
    return Perf(num("Queries per second"), int(num("Queries sent")), completed,
                int(num("Queries lost")), 1000 * cpu / completed if completed else 0.0)


async def _warm(addr: tuple[str, int], lines: list[str]) -> None:
    for line in lines:
        name, rdtype = line.split()
        q = dns.message.make_query(name, rdtype)
        try:
            await dns.asyncquery.udp_with_fallback(q, addr[0], port=addr[1], timeout=5)
        except Exception:  # noqa: BLE001 - warming is best effort; dnsperf counts losses
            pass


def run(args: argparse.Namespace) -> int:
    if shutil.which("dnsperf") is None:
        print("shadowdns bench: dnsperf not found: install the Debian package 'dnsperf'",
              file=sys.stderr)
        return 1
    run_dir: Path = args.run_dir
    lab_proc = LabProcess(run_dir / "lab")
    lab_proc.stop()
    info = lab_proc.start()
    try:
        return asyncio.run(_bench(args, info, run_dir))
    finally:
        lab_proc.stop()


async def _bench(args: argparse.Namespace, lab: LabInfo, run_dir: Path) -> int:
    entries = [e for e in manifest(load_world(lab.world))
               if e.category == "stable" and e.dnssec != "bogus" and e.rcode == 0]
    cached_lines = [f"{e.name.to_text()} {e.rdtype.name}" for e in entries]
    tmp = Path(tempfile.mkdtemp(prefix="shadowdns-bench-"))
    cached_file = tmp / "cached.txt"
    cached_file.write_text("\n".join(cached_lines) + "\n")
    results: dict[str, dict[str, Any]] = {}
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen=UNBOUND[0], port=UNBOUND[1], workdir=run_dir / "unbound",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path, threads=1,
        outgoing_address=lab.egress.get("unbound"), cache_size_mb=256)
    candidate_cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
                     "--listen", f"{CANDIDATE[0]}:{CANDIDATE[1]}",
                     "--root-hints", str(lab.hints_path), "--trust-anchor", str(lab.anchor_path),
                     "--egress", lab.egress.get("candidate", "127.54.3.1"),
                     "--workers", str(args.candidate_workers)]
    log = open(run_dir / "candidate.log", "ab")  # noqa: SIM115
    candidate = subprocess.Popen(candidate_cmd, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        await _wait_answering(CANDIDATE, candidate)
        async with ManagedResolver.from_spec(spec) as unbound:
            assert unbound.pid is not None
            targets = {"candidate": (CANDIDATE, candidate.pid), "unbound": (UNBOUND, unbound.pid)}
            for who, (addr, pid) in targets.items():
                await _warm(addr, cached_lines)
                cached = dnsperf(addr, cached_file, args.seconds, args.clients,
                                 args.outstanding, pid)
                unc_file = tmp / f"uncached-{who}.txt"
                stamp = time.time_ns() % 10**9
                unc_file.write_text("".join(f"{who}{i}x{stamp}.wild.example.lab. A\n"
                                            for i in range(args.uncached_queries)))
                uncached = dnsperf(addr, unc_file, args.seconds, args.clients,
                                   args.outstanding, pid, max_queries=args.uncached_queries)
                results[who] = {"cached": cached.__dict__, "uncached": uncached.__dict__}
    finally:
        candidate.send_signal(signal.SIGTERM)
        try:
            candidate.wait(10)
        except subprocess.TimeoutExpired:
            candidate.kill()
            candidate.wait(5)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


async def _wait_answering(addr: tuple[str, int], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the candidate exited with status {proc.returncode}")
        try:
            q = dns.message.make_query("localhost.", "A")
            await dns.asyncquery.udp(q, addr[0], port=addr[1], timeout=0.5)
            return
        except Exception:  # noqa: BLE001 - not up yet
            await asyncio.sleep(0.2)
    raise RuntimeError("the candidate did not answer within 20 s")


def _print(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dnsperf on the lab: candidate vs Unbound (1 thread)")
    for col in ("run", "resolver", "QPS", "completed", "lost", "CPU s / 1k queries"):
        table.add_column(col)
    for run_name in ("cached", "uncached"):
        for who in ("candidate", "unbound"):
            p = results[who][run_name]
            table.add_row(run_name, who, f"{p['qps']:.0f}", str(p["completed"]), str(p["lost"]),
                          f"{p['cpu_per_kq']:.3f}")
    console = Console()
    console.print(table)
    for run_name in ("cached", "uncached"):
        c, u = results["candidate"][run_name], results["unbound"][run_name]
        ratio = c["qps"] / u["qps"] if u["qps"] else 0.0
        cpu_ratio = u["cpu_per_kq"] / c["cpu_per_kq"] if c["cpu_per_kq"] else 0.0
        console.print(f"{run_name}: candidate/unbound QPS ratio {ratio:.2f}; "
                      f"CPU-efficiency ratio {cpu_ratio:.2f}")
