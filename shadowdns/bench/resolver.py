"""``shadowdns bench resolver``: dnsperf against the candidate and Unbound on the lab, one run.

Starts the lab, Unbound (one thread) and the candidate (``shadowdns resolver serve`` in its
own process), then for each resolver:

* cached:   warm the cache with the lab's stable names, then dnsperf replays them;
* uncached: every query a fresh name under the lab's NSEC-signed wildcard
            (``<n>.wild.example.lab``): a cache miss for the message cache, which both
            resolvers answer from the cached wildcard and its NSEC proof (RFC 8198);
* cached over DoT and DoH (``--tls-runs``, on by default): the same cached names with
            ``dnsperf -m dot`` and ``-m doh`` (HTTP/2 POST), against the candidate's ``--dot`` and
            ``--doh`` listeners and Unbound's ``tls-port`` and ``https-port`` (one self-signed
            pair made for the run serves both);
* cold:     every query a fresh name in the NSEC3 opt-out zone (``<n>.optout.rsa``): an
            NXDOMAIN that neither resolver may synthesise (an opt-out span proves nothing
            secure, RFC 8198 §4 / RFC 5155 §9.2), so each one costs an upstream query, its
            parsing and the check of the NSEC3 closest-encloser proof.

It prints QPS for both and the candidate/Unbound ratios, plus server CPU seconds per 1,000
queries (from /proc, fairer than QPS when dnsperf and the servers share two cores), and, in
the same run:

* latency:  cache hits at a fixed rate (dnsperf ``-Q``, default 5,000 qps) with ``-v``, whose
            per-query lines carry each latency (µs resolution): p50, p99, max and losses;
* upstream: the queries each resolver sent to the lab per client query in the uncached and
            cold runs, counted by the lab per source address (each resolver egresses from its
            own address; the lab writes its counters to ``stats.json`` on SIGUSR1);
* memory:   RSS (sum over the server's processes, from /proc) at start, after the cached runs
            and after the uncached and cold floods, next to the cache budget (``--cache-mb``
            per process).

Nothing here is a timed assertion; the figures are for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.message

from lab.manifest import manifest
from lab.run import LabInfo, LabProcess
from lab.world import load_world
from legacy_adapter import ManagedResolver, ReferenceSpec
from netpolicy import LAB
from resolver.server.tls import self_signed, write_pair
from resolver.server.udp import READERS

CANDIDATE = ("127.0.0.12", 5353)
WILDCARD_NSEC = "wild.example.lab."
"""Signed wildcard with NSEC: both resolvers synthesise fresh names (RFC 8198)."""
COLD_ZONE = "optout.rsa."
"""NSEC3 opt-out zone: fresh names are NXDOMAIN that no resolver synthesises from cached
NSEC3 (opt-out spans), so each costs an upstream query and a proof check: the cold path."""
UNBOUND = ("127.55.0.40", 5053)
DOT_PORT, DOH_PORT = 8853, 8443
"""DoT and DoH ports, on the candidate's and on Unbound's address alike."""
DOH_PATH = "/dns-query"
CONTROL_PORT = 9053
"""The candidate's control API (``--plugin-runs``), on its address; process i: +i."""


def register(bsub: Any) -> None:
    """``bench resolver``; the other benchmarks register themselves (shadowdns/cli.py)."""
    r = bsub.add_parser("resolver", help="dnsperf: candidate vs Unbound, cached and uncached")
    r.add_argument("--seconds", type=int, default=10, metavar="SECONDS",
                   help="dnsperf run length")
    r.add_argument("--clients", type=int, default=4, metavar="N", help="dnsperf -c")
    r.add_argument("--outstanding", type=int, default=100, metavar="N", help="dnsperf -q")
    r.add_argument("--uncached-queries", type=int, default=20000, metavar="N",
                   help="unique wildcard names for the uncached run")
    r.add_argument("--uncached-seconds", type=int, metavar="SECONDS",
                   help="time limit of the uncached run (default: --seconds); the flood that "
                        "fills the candidate's cache stops at this or at the last name")
    r.add_argument("--run-dir", type=Path, default=Path("run/bench"), metavar="DIR",
                   help="where the lab, resolvers and dnsperf keep state and logs")
    r.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    r.add_argument("--candidate-workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="candidate server processes sharing the port with SO_REUSEPORT "
                        "(default: one per core)")
    r.add_argument("--cache-mb", type=int, default=64, metavar="MB",
                   help="the candidate's cache budget per process")
    r.add_argument("--candidate-udp-reader", choices=READERS, default="loop",
                   help="the candidate's UDP reader (resolver serve --udp-reader)")
    r.add_argument("--latency-qps", type=int, default=5000, metavar="QPS",
                   help="fixed rate of the cache-hit latency run")
    r.add_argument("--latency-seconds", type=int, default=10, metavar="SECONDS",
                   help="length of the cache-hit latency run (0 skips it)")
    r.add_argument("--tls-runs", action=argparse.BooleanOptionalAction, default=True,
                   help="cached runs over DoT and DoH too (dnsperf -m dot / -m doh) "
                        "(default: on)")
    r.add_argument("--plugin-runs", action=argparse.BooleanOptionalAction, default=False,
                   help="repeat the candidate's cached run with no plugin, the no-op and the "
                        "blocklist plugin (loaded through its control API) and print what a "
                        "plugin costs per query (docs/PLUGINS.md) (default: off)")
    r.set_defaults(func=run)


@dataclass
class Perf:
    qps: float
    sent: int
    completed: int
    lost: int
    cpu_per_kq: float  # server CPU seconds per 1000 completed queries
    rcodes: str = ""  # dnsperf's "Response codes:" line, e.g. "NOERROR 5000 (100.00%)"


def free_port(run: int = 1) -> int:
    """A port free for UDP and TCP (and the ``run - 1`` after it, at the time of asking)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
        if port + run > 65535:
            continue
        try:
            for p in range(port, port + run):
                for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, k) as s:
                        s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free ports on 127.0.0.1")


def process_tree(pid: int) -> set[int]:
    """``pid`` and its live descendants: a server's supervisor, its workers and their UDP
    fronts (``--udp-reader front``, a worker's child)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return tree


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def _rss_mb(pid: int) -> tuple[float, int]:
    """Resident memory (MB) summed over a process and its live descendants, and how many."""
    total_kb, procs = 0, 0
    for p in process_tree(pid):
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        rss = _status_field(text, "VmRSS")  # "12345 kB"; absent for a zombie
        if rss:
            total_kb += int(rss.split()[0])
            procs += 1
    return total_kb / 1024, procs


def _status_field(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def parse_verbose(out: str) -> tuple[list[float], int]:
    """Per-query latencies (seconds) and timeouts from ``dnsperf -v`` output.

    Answered queries are ``> RCODE name type latency``; timed-out ones ``> T name type``.
    """
    latencies: list[float] = []
    timeouts = 0
    for line in out.splitlines():
        if not line.startswith("> "):
            continue
        parts = line.split()
        if parts[1] == "T":
            timeouts += 1
        elif len(parts) >= 5:
            try:
                latencies.append(float(parts[-1]))
            except ValueError:
                continue
    return latencies, timeouts


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of an ascending list; 0.0 if empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


def latency_summary(latencies: list[float], timeouts: int) -> dict[str, float]:
    """p50/p99/max/mean in milliseconds, with answered and lost counts."""
    ordered = sorted(latencies)
    ms = 1000.0
    return {"answered": len(ordered), "lost": timeouts,
            "p50_ms": percentile(ordered, 50) * ms, "p99_ms": percentile(ordered, 99) * ms,
            "max_ms": (ordered[-1] if ordered else 0.0) * ms,
            "mean_ms": (sum(ordered) / len(ordered) if ordered else 0.0) * ms}


def fixed_rate_latency(addr: tuple[str, int], datafile: Path, qps: int,
                       seconds: int) -> dict[str, float]:
    """dnsperf at a fixed rate (``-Q``), one client, per-query lines (``-v``) summarised."""
    cmd = ["dnsperf", "-s", addr[0], "-p", str(addr[1]), "-d", str(datafile), "-c", "1",
           "-q", "500", "-Q", str(qps), "-l", str(seconds), "-t", "2", "-v"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    summary = latency_summary(*parse_verbose(out))
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    summary["qps"] = float(m.group(1)) if m else 0.0
    return summary


def dnsperf(addr: tuple[str, int], datafile: Path, seconds: int, clients: int,
            outstanding: int, pid: int, max_queries: int | None = None,
            mode: str = "udp") -> Perf:
    """One dnsperf run; ``mode`` udp, dot or doh (HTTP/2 POST to :data:`DOH_PATH`)."""
    cmd = ["dnsperf", "-s", addr[0], "-p", str(addr[1]), "-d", str(datafile),
           "-c", str(clients), "-q", str(outstanding), "-l", str(seconds), "-t", "5"]
    if mode != "udp":
        cmd += ["-m", mode]
    if mode == "doh":
        cmd += ["-O", f"doh-uri=https://{addr[0]}:{addr[1]}{DOH_PATH}", "-O", "doh-method=POST"]
    if max_queries is not None:
        cmd += ["-n", "1"]  # each name once: the uncached run must not repeat names
    before = _cpu_seconds(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = _cpu_seconds(pid) - before

    def num(label: str) -> float:
        m = re.search(rf"{label}:\s+([\d.]+)", out)
        return float(m.group(1)) if m else 0.0

    completed = int(num("Queries completed"))
    rcodes = re.search(r"Response codes:\s+(.*)", out)
    return Perf(num("Queries per second"), int(num("Queries sent")), completed,
                int(num("Queries lost")), 1000 * cpu / completed if completed else 0.0,
                rcodes.group(1).strip() if rcodes else "")


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
        return asyncio.run(_bench(args, info, run_dir, lab_proc))
    finally:
        lab_proc.stop()


def _upstream(lab_proc: LabProcess, egress: str | None) -> int:
    """Queries the lab has received from one source address (all sources if None)."""
    data = lab_proc.stats()
    if egress is None:
        return int(data.get("stats", {}).get("queries", 0))
    return int(data.get("by_source", {}).get(egress, 0))


async def _bench(args: argparse.Namespace, lab: LabInfo, run_dir: Path,
                 lab_proc: LabProcess) -> int:
    entries = [e for e in manifest(load_world(lab.world))
               if e.category == "stable" and e.dnssec != "bogus" and e.rcode == 0]
    cached_lines = [f"{e.name.to_text()} {e.rdtype.name}" for e in entries]
    tmp = Path(tempfile.mkdtemp(prefix="shadowdns-bench-"))
    cached_file = tmp / "cached.txt"
    cached_file.write_text("\n".join(cached_lines) + "\n")
    results: dict[str, dict[str, Any]] = {}
    spec_cache_mb = 256
    tls: dict[str, Any] = {}
    tls_flags: list[str] = []
    if args.tls_runs:  # one self-signed pair for both servers' DoT and DoH
        cert, key = write_pair(self_signed(), tmp)
        tls = {"tls_port": DOT_PORT, "https_port": DOH_PORT, "tls_cert": cert, "tls_key": key,
               "http_endpoint": DOH_PATH}
        tls_flags = ["--dot", str(DOT_PORT), "--doh", str(DOH_PORT), "--doh-path", DOH_PATH,
                     "--tls-cert", str(cert), "--tls-key", str(key)]
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen=UNBOUND[0], port=UNBOUND[1], workdir=run_dir / "unbound",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path, threads=1,
        outgoing_address=lab.egress.get("unbound"), cache_size_mb=spec_cache_mb,
        address_policy=LAB, **tls)
    candidate_cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
                     "--listen", f"{CANDIDATE[0]}:{CANDIDATE[1]}",
                     "--lab", str(lab.state_dir),
                     "--egress", lab.egress.get("candidate", "127.54.3.1"),
                     "--workers", str(args.candidate_workers), "--cache-mb", str(args.cache_mb),
                     "--udp-reader", args.candidate_udp_reader,
                     *tls_flags]
    if args.plugin_runs:  # each process its own control API: PORT+i
        candidate_cmd += ["--control", f"{CANDIDATE[0]}:{CONTROL_PORT}"]
    egress = {"candidate": lab.egress.get("candidate", "127.54.3.1"),
              "unbound": lab.egress.get("unbound")}
    log = open(run_dir / "candidate.log", "ab")  # noqa: SIM115
    candidate = subprocess.Popen(candidate_cmd, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        await _wait_answering(CANDIDATE, candidate)
        async with ManagedResolver.from_spec(spec) as unbound:
            assert unbound.pid is not None
            targets = {"candidate": (CANDIDATE, candidate.pid), "unbound": (UNBOUND, unbound.pid)}
            for who, (addr, pid) in targets.items():
                rss_start = _rss_mb(pid)
                await _warm(addr, cached_lines)
                cached = dnsperf(addr, cached_file, args.seconds, args.clients,
                                 args.outstanding, pid)
                plugin_runs: dict[str, Any] = {}
                if args.plugin_runs and who == "candidate":
                    from shadowdns.bench.plugins import cached_runs
                    plugin_runs = {"plugins": cached_runs(
                        [f"http://{addr[0]}:{CONTROL_PORT + i}"
                         for i in range(max(1, args.candidate_workers))],
                        functools.partial(dnsperf, addr, cached_file, args.seconds,
                                          args.clients, args.outstanding, pid))}
                streams: dict[str, Any] = {}
                if args.tls_runs:
                    for mode, port in (("dot", DOT_PORT), ("doh", DOH_PORT)):
                        streams[f"cached_{mode}"] = dnsperf(
                            (addr[0], port), cached_file, args.seconds, args.clients,
                            args.outstanding, pid, mode=mode).__dict__
                latency: dict[str, float] = {}
                if args.latency_seconds > 0:
                    latency = fixed_rate_latency(addr, cached_file, args.latency_qps,
                                                 args.latency_seconds)
                    latency["target_qps"] = args.latency_qps
                rss_cached = _rss_mb(pid)
                count = functools.partial(_upstream, lab_proc, egress[who])
                samples: list[tuple[float, float]] = []
                sampler = asyncio.create_task(_sample_rss(pid, samples))
                try:
                    uncached, upstream = await _flood(args, who, addr, pid, tmp,
                                                      WILDCARD_NSEC, count)
                finally:
                    sampler.cancel()
                cold, cold_upstream = await _flood(args, who, addr, pid, tmp,
                                                   COLD_ZONE, count)
                rss_end = _rss_mb(pid)
                results[who] = {
                    "cached": cached.__dict__, **streams, **plugin_runs,
                    "uncached": uncached.__dict__,
                    "latency": latency,
                    "upstream": _per_query(egress[who], upstream, uncached),
                    "cold": cold.__dict__,
                    "upstream_cold": _per_query(egress[who], cold_upstream, cold),
                    "memory": {"processes": rss_end[1], "rss_start_mb": rss_start[0],
                               "rss_after_cached_mb": rss_cached[0],
                               "rss_after_uncached_mb": rss_end[0],
                               "rss_peak_mb": max([rss_end[0], *(mb for _, mb in samples)]),
                               "rss_samples_mb": [[round(t, 1), round(mb, 1)]
                                                  for t, mb in samples],
                               "cache_budget_mb": (args.cache_mb * max(1, args.candidate_workers)
                                                   if who == "candidate"
                                                   else spec_cache_mb)},
                }
    finally:
        stop_process(candidate)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


async def _flood(args: argparse.Namespace, who: str, addr: tuple[str, int], pid: int,
                 tmp: Path, zone: str, upstream_count: Callable[[], int]) -> tuple[Perf, int]:
    """dnsperf with every name fresh under ``zone`` (each asked once); the lab's count of
    queries from this resolver during the run."""
    names = tmp / f"{who}-{zone.strip('.')}.txt"
    stamp = time.time_ns() % 10**9
    names.write_text("".join(f"{who}{i}x{stamp}.{zone} A\n"
                             for i in range(args.uncached_queries)))
    before = upstream_count()
    perf = await asyncio.to_thread(
        dnsperf, addr, names, args.uncached_seconds or args.seconds, args.clients,
        args.outstanding, pid, args.uncached_queries)
    await asyncio.sleep(0.5)  # let late upstream answers land before counting
    return perf, upstream_count() - before


def _per_query(source: str | None, upstream: int, perf: Perf) -> dict[str, Any]:
    return {"source": source or "all", "queries": upstream, "client_queries": perf.sent,
            "per_client_query": upstream / perf.sent if perf.sent else 0.0}


async def _sample_rss(pid: int, into: list[tuple[float, float]],
                      every: float = 1.0) -> None:
    """Append (seconds since start, RSS MB) every ``every`` seconds until cancelled."""
    start = time.monotonic()
    while True:
        into.append((time.monotonic() - start, _rss_mb(pid)[0]))
        await asyncio.sleep(every)


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10.0,
                 kill_wait: float = 5.0) -> None:
    """Stop a process this bench started: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(kill_wait)


def nonpositive_flag(command: str, args: Any, *flags: str) -> bool:
    """Say so (one line, the flag named) and return True if one of ``flags`` (argparse
    destinations) is zero or negative."""
    for flag in flags:
        value = getattr(args, flag)
        if value <= 0:
            print(f"shadowdns bench {command}: --{flag.replace('_', '-')}: expected a positive "
                  f"number, got {value}", file=sys.stderr)
            return True
    return False


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


RUNS = ("cached", "cached_dot", "cached_doh", "uncached", "cold")


def _print(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dnsperf on the lab: candidate vs Unbound (1 thread)")
    for col in ("run", "resolver", "QPS", "completed", "lost", "CPU s / 1k queries"):
        table.add_column(col)
    runs = [run for run in RUNS if run in results["candidate"]]
    for run_name in runs:
        for who in ("candidate", "unbound"):
            p = results[who][run_name]
            table.add_row(run_name, who, f"{p['qps']:.0f}", str(p["completed"]), str(p["lost"]),
                          f"{p['cpu_per_kq']:.3f}")
    console = Console()
    console.print(table)
    for run_name in runs:
        c, u = results["candidate"][run_name], results["unbound"][run_name]
        ratio = c["qps"] / u["qps"] if u["qps"] else 0.0
        cpu_ratio = u["cpu_per_kq"] / c["cpu_per_kq"] if c["cpu_per_kq"] else 0.0
        console.print(f"{run_name}: candidate/unbound QPS ratio {ratio:.2f}; "
                      f"CPU-efficiency ratio {cpu_ratio:.2f}")
    for line in extra_lines(results):
        console.print(line)
    from shadowdns.bench.plugins import cached_run_lines
    for line in cached_run_lines(results["candidate"].get("plugins")):
        console.print(line, soft_wrap=True)


def extra_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """Latency, upstream and memory figures, one line each per resolver."""
    lines: list[str] = []
    for who in ("candidate", "unbound"):
        lat = results[who].get("latency") or {}
        if lat:
            lines.append(
                f"latency {who} (cache hits at {lat['target_qps']:.0f} qps, got "
                f"{lat['qps']:.0f}): p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms, "
                f"max {lat['max_ms']:.3f} ms; answered {lat['answered']:.0f}, "
                f"lost {lat['lost']:.0f}")
    for run_name, upstream_key, zone in (("uncached", "upstream", WILDCARD_NSEC),
                                         ("cold", "upstream_cold", COLD_ZONE)):
        for who in ("candidate", "unbound"):
            up = results[who].get(upstream_key)
            if not up:
                continue
            lines.append(f"upstream {who} ({run_name}, *.{zone}): {up['queries']} lab queries "
                         f"from {up['source']} for {up['client_queries']} cold client queries "
                         f"= {up['per_client_query']:.2f} per query")
            rcodes = results[who].get(run_name, {}).get("rcodes")
            if rcodes:
                lines.append(f"  {who} {run_name} answers: {rcodes}")
            if up["client_queries"] and up["per_client_query"] < 0.5:
                lines.append(f"  ({who} answered most cold names without asking: synthesised "
                             "from the cached wildcard and its NSEC proof, RFC 8198)")
    for who in ("candidate", "unbound"):
        mem = results[who]["memory"]
        lines.append(f"memory {who} ({mem['processes']} processes): RSS start "
                     f"{mem['rss_start_mb']:.1f} MB, after cached {mem['rss_after_cached_mb']:.1f} "
                     f"MB, after the uncached and cold floods "
                     f"{mem['rss_after_uncached_mb']:.1f} MB "
                     f"(growth {mem['rss_after_uncached_mb'] - mem['rss_start_mb']:+.1f} MB, "
                     f"peak {mem.get('rss_peak_mb', 0.0):.1f} MB); "
                     f"cache budget {mem['cache_budget_mb']} MB")
    return lines
