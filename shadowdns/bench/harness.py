"""``shadowdns bench harness``: the highest sampled rate the harness sustains on the lab.

Starts the lab, the candidate (``shadowdns resolver serve`` in its own process, so the
harness process is measured alone) and ``shadowdns run`` (a UDP mirror intake, sampling
everything, Knot Resolver as the reference it starts itself).  This process sends mirrored
queries (the lab's stable names, round-robin, so both resolvers answer from cache after the
warm-up) at a fixed rate for ``--step-seconds``, waits for the harness to finish what is in
flight, and reads its counters from ``/api/status``.  A rate is *sustained* when

* every datagram sent was seen by the intake (no unaccounted loss in the kernel), and
* nothing was dropped by the dispatcher or shed by the sampler, and all were compared.

Rates go up by ``--factor`` until one is not sustained.  Then the harness runs at the best
rate for ``--soak-seconds`` (600 for the figure the issue asks for) and its RSS is read from
/proc at the end.  Figures are printed and, with ``--json``, written to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness.load import load_names, mirror_blast
from lab.run import LabInfo, LabProcess
from shadowdns.bench.bus import parse_workers, print_bus, run_bus
from shadowdns.bench.resolver import nonpositive_flag, stop_process

__all__ = ["register"]

CANDIDATE = ("127.0.0.12", 5353)
KRESD = ("127.55.0.50", 5053)
MIRROR = ("127.0.0.1", 5399)
API = ("127.0.0.1", 18950)


def register(bsub: Any) -> None:
    h = bsub.add_parser("harness", help="the highest sampled rate the harness sustains, and "
                                        "its RSS after a soak at that rate")
    h.add_argument("--start-rate", type=float, default=200.0, metavar="QPS",
                   help="first rate, queries/s")
    h.add_argument("--factor", type=float, default=1.5, metavar="X", help="rate step factor")
    h.add_argument("--max-rate", type=float, default=20000.0, metavar="QPS",
                   help="highest rate tried")
    h.add_argument("--step-seconds", type=float, default=10.0, metavar="SECONDS",
                   help="time at each rate")
    h.add_argument("--soak-seconds", type=float, default=600.0, metavar="SECONDS",
                   help="time at the best rate before RSS is read (shorter for a try)")
    h.add_argument("--soak-rate", type=float, metavar="QPS",
                   help="rate of the soak (default: the highest sustained step rate)")
    h.add_argument("--max-in-flight", type=int, default=512, metavar="N",
                   help="queries being compared at once")
    h.add_argument("--judge", choices=("auto", "exact", "differ"), default="auto",
                   help="auto: the differ when it can be used")
    h.add_argument("--candidate-in-process", action="store_true",
                   help="run the candidate inside the harness process (measures both)")
    h.add_argument("--run-dir", type=Path, default=Path("run/bench-harness"), metavar="DIR",
                   help="where the lab, resolvers and the store go")
    h.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    b = h.add_argument_group("the harness on Redis Streams (docs/BUS.md, docs/SCALE.md)")
    b.add_argument("--bus", action="store_true",
                   help="instead of the rate steps: one `shadowdns run` process, then "
                        "`shadowdns bus` with each --bus-workers count, on the same query list "
                        "(a redis-server of the bench's own on 127.0.0.1)")
    b.add_argument("--bus-queries", type=int, default=20000, metavar="N",
                   help="queries in the list")
    b.add_argument("--bus-workers", type=parse_workers, default=(1, 2), metavar="N,N",
                   help="worker counts to measure")
    h.set_defaults(func=run)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _udp_errors() -> int:
    lines = Path("/proc/net/snmp").read_text().splitlines()
    udp = [line.split() for line in lines if line.startswith("Udp:")]
    header, values = udp[0], udp[1]
    return int(values[header.index("RcvbufErrors")])


def _status() -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{API[0]}:{API[1]}/api/status", timeout=10) as r:
        data: dict[str, Any] = json.load(r)
        return data


def _mirror_seen(status: dict[str, Any]) -> int:
    return sum(int(s.get("datagrams", 0)) for s in status["intakes"].values())


def _wait_idle(timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status = _status()
    while status["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _status()
    time.sleep(0.3)  # the last datagrams in the socket buffer
    return _status()


def _step(lines: list[str], rate: float, seconds: float) -> dict[str, Any]:
    before = _status()
    errors_before = _udp_errors()
    started = time.monotonic()
    sent = mirror_blast(MIRROR, lines, rate, seconds)
    elapsed = time.monotonic() - started
    after = _wait_idle()
    c0, c1 = before["counters"], after["counters"]
    delta = {k: c1[k] - c0.get(k, 0) for k in c1}
    seen = _mirror_seen(after) - _mirror_seen(before)
    result = {
        "rate": rate, "sent": sent, "send_rate": sent / elapsed, "received": seen,
        "unaccounted": sent - seen, "kernel_rcvbuf_errors": _udp_errors() - errors_before,
        "sampled": delta["sampled"], "compared": delta["compared"],
        "dropped": delta["dropped"], "shed": delta["shed"], "failed": delta["failed"],
        "compared_rate": delta["compared"] / elapsed,
        "timeouts": {t: e.get("timeout", 0) for t, e in after["errors"].items()},
        "latency": after["latency"],
    }
    result["sustained"] = (result["unaccounted"] == 0 and delta["dropped"] == 0
                           and delta["shed"] == 0 and delta["compared"] == sent)
    return result


def _config(lab: LabInfo, run_dir: Path, args: argparse.Namespace) -> str:
    candidate = ("candidate: {timeout: 5}" if args.candidate_in_process else
                 f'candidate: {{address: "{CANDIDATE[0]}:{CANDIDATE[1]}", timeout: 5}}')
    return f"""
lab: {lab.state_dir}
run_dir: {run_dir}
intake:
  - {{kind: udp_mirror, listen: "{MIRROR[0]}:{MIRROR[1]}", receive_buffer: 33554432}}
{candidate}
references:
  - {{name: kresd, kind: kresd, listen: "{KRESD[0]}:{KRESD[1]}", timeout: 5, cache_mb: 128}}
dispatcher: {{max_in_flight: {args.max_in_flight}}}
store: {{path: {run_dir}/bench.db, batch: 500, commit_interval: 0.5, max_mb: 512,
        retention_interval: 30}}
judge: {args.judge}
live: "off"
"""


def run(args: argparse.Namespace) -> int:
    if args.bus and nonpositive_flag("harness", args, "bus_queries"):
        return 2
    run_dir: Path = args.run_dir.absolute()
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    lab_proc = LabProcess(run_dir / "lab")
    info = lab_proc.start()
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        if args.bus or not args.candidate_in_process:
            log = (run_dir / "candidate.log").open("wb")
            logs.append(log)
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "shadowdns", "resolver", "serve", "--listen",
                 f"{CANDIDATE[0]}:{CANDIDATE[1]}", "--lab", str(info.state_dir), "--egress",
                 info.egress.get("candidate", "127.54.3.1")],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
            asyncio.run(_wait_answering(CANDIDATE))
        if args.bus:
            bus_figures = run_bus(args, info, run_dir, CANDIDATE, KRESD)
            return print_bus(bus_figures, args.json)
        config = run_dir / "bench.yaml"
        config.write_text(_config(info, run_dir, args))
        log = (run_dir / "harness.log").open("wb")
        logs.append(log)
        harness = subprocess.Popen(
            [sys.executable, "-m", "shadowdns", "run", "--config", str(config), "--api",
             f"{API[0]}:{API[1]}"], stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        processes.append(harness)
        _wait_api(harness, run_dir)
        figures = _measure(args, info, harness.pid)
    finally:
        for proc in reversed(processes):
            stop_process(proc, grace=60, kill_wait=10)
        for log in logs:
            log.close()
        lab_proc.stop()
    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


async def _wait_answering(addr: tuple[str, int]) -> None:
    import dns.asyncquery
    import dns.message

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            await dns.asyncquery.udp(dns.message.make_query("localhost.", "A"), addr[0],
                                     port=addr[1], timeout=0.5)
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing answers at {addr[0]}:{addr[1]}")


def _wait_api(harness: subprocess.Popen[bytes], run_dir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if harness.poll() is not None:
            raise RuntimeError("the harness exited:\n" + (run_dir / "harness.log").read_text())
        try:
            _status()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the harness API did not come up")


def _measure(args: argparse.Namespace, lab: LabInfo, pid: int) -> dict[str, Any]:
    lines = load_names(lab, quick=True, stable_only=True)
    warm = _step(lines, 50.0, 3.0)  # fills both caches
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    rate = args.start_rate
    while rate <= args.max_rate:
        step = _step(lines, rate, args.step_seconds)
        steps.append(step)
        print(f"bench harness: rate {rate:.0f}/s sent {step['sent']} received {step['received']}"
              f" compared {step['compared']} dropped {step['dropped']} shed {step['shed']}"
              f" -> {'sustained' if step['sustained'] else 'NOT sustained'}", flush=True)
        if not step["sustained"]:
            break
        best = step
        rate *= args.factor
    soak: dict[str, Any] = {}
    soak_rate = args.soak_rate or (best["rate"] if best is not None else None)
    if soak_rate is not None and args.soak_seconds > 0:
        rss_start = _rss_mb(pid)
        cpu_start = _cpu_seconds(pid)
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(5.0):
                samples.append(_rss_mb(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = _step(lines, soak_rate, args.soak_seconds)
        stop.set()
        sampler.join()
        soak = {"rate": soak_rate, "seconds": args.soak_seconds, "result": result,
                "rss_mb_start": rss_start, "rss_mb_end": _rss_mb(pid),
                "rss_mb_max": max(samples, default=_rss_mb(pid)),
                "harness_cpu_seconds": _cpu_seconds(pid) - cpu_start}
    return {"warm": warm, "steps": steps, "best": best, "soak": soak,
            "candidate": "in process" if args.candidate_in_process else "separate process",
            "judge": args.judge, "max_in_flight": args.max_in_flight}


def _print(figures: dict[str, Any]) -> None:
    best = figures["best"]
    print()
    if best is None:
        print("bench harness: no step rate was sustained")
    else:
        _print_best(best, figures)
    soak = figures["soak"]
    if soak:
        r = soak["result"]
        print(f"soak: {soak['seconds']:.0f} s at {soak['rate']:.0f}/s: sent {r['sent']}, "
              f"compared {r['compared']}, unaccounted {r['unaccounted']}, dropped "
              f"{r['dropped']}, shed {r['shed']} ({'sustained' if r['sustained'] else 'NOT'});"
              f" harness RSS {soak['rss_mb_start']:.0f} MB -> {soak['rss_mb_end']:.0f} MB "
              f"(max {soak['rss_mb_max']:.0f} MB), CPU {soak['harness_cpu_seconds']:.0f} s")


def _print_best(best: dict[str, Any], figures: dict[str, Any]) -> None:
    print(f"bench harness: highest sustained sampled rate {best['rate']:.0f} queries/s "
          f"(compared {best['compared_rate']:.0f}/s, unaccounted {best['unaccounted']}, "
          f"dropped {best['dropped']}, shed {best['shed']}; candidate {figures['candidate']}, "
          f"judge {figures['judge']})")
    for target, lat in best["latency"].items():
        if lat.get("p50") is not None:
            print(f"  {target}: p50 {lat['p50'] * 1000:.1f} ms, p99 {lat['p99'] * 1000:.1f} ms")

