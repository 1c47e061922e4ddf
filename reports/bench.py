"""``shadowdns bench report``: how long ``shadowdns report`` takes on a big store.

Generates a store of ``--observations`` (default 1,000,000) with
:func:`reports.synthetic.generate` in a temporary directory (or uses ``--store``), then runs
``shadowdns report --db STORE`` as a separate process ``--repeat`` times (the whole command:
interpreter start, imports, SQL, pandas, rendering, written to a file) and prints the wall
times.  The JSON export is timed once as well.  ``--max-seconds`` turns the figure into a
check (exit status 1 above it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="time 'shadowdns report' on a store of 1,000,000 "
                                      "observations")
    p.add_argument("--observations", type=int, default=1_000_000, metavar="N",
                   help="observations in the generated store")
    p.add_argument("--store", type=Path, metavar="FILE", help="time this existing store instead")
    p.add_argument("--keep", type=Path, metavar="FILE",
                   help="keep the generated store at this path")
    p.add_argument("--repeat", type=int, default=3, metavar="N",
                   help="runs timed (the median is reported)")
    p.add_argument("--max-seconds", type=float, metavar="SECONDS",
                   help="fail (exit 1) if the median is above")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=run)


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode == 2:  # the store cannot be reported on: said in one line
        from reports.tables import StoreError

        last = (done.stderr.strip().splitlines() or ["cannot report"])[-1]
        raise StoreError(last.removeprefix("shadowdns report: "))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed


def run(args: argparse.Namespace) -> int:
    from reports.synthetic import generate

    tmp = Path(tempfile.mkdtemp(prefix="shadowdns-bench-report-"))
    figures: dict[str, Any] = {"observations": args.observations, "cpus": os.cpu_count()}
    try:
        if args.store is not None:
            from reports.tables import connect

            store = args.store
            connect(store).close()  # not a store: one line naming it (StoreError), not a run
            figures["observations"] = None
        else:
            store = args.keep or tmp / "shadow.db"
            print(f"generating {args.observations:,} observations in {store} ...", flush=True)
            start = time.perf_counter()
            generate(store, args.observations)
            figures["generate_seconds"] = round(time.perf_counter() - start, 2)
            print(f"  generated in {figures['generate_seconds']:.1f} s", flush=True)
        figures["store_mb"] = round(store.stat().st_size / 1e6, 1)
        base = [sys.executable, "-m", "shadowdns", "report", "--db", str(store)]
        times = []
        for i in range(max(1, args.repeat)):
            out = tmp / f"report-{i}.txt"
            seconds = _time([*base, "--width", "120", "--output", str(out)])
            times.append(seconds)
            print(f"  shadowdns report (text): {seconds:.2f} s", flush=True)
        json_seconds = _time([*base, "--format", "json", "--output", str(tmp / "r.json")])
        print(f"  shadowdns report --format json: {json_seconds:.2f} s", flush=True)
        figures.update({"report_seconds": [round(t, 2) for t in times],
                        "report_median_seconds": round(statistics.median(times), 2),
                        "json_seconds": round(json_seconds, 2),
                        "load_average": os.getloadavg()[0]})
        first = (tmp / "report-0.txt").read_text().splitlines()
        print("\n".join(first[:3]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    median = figures["report_median_seconds"]
    print(f"shadowdns report on {figures['store_mb']} MB "
          f"({f'{args.observations:,}' if args.store is None else 'given'} observations): median "
          f"{median:.2f} s over {len(times)} runs (load average {figures['load_average']:.2f}, "
          f"{figures['cpus']} CPUs)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if args.max_seconds is not None and median > args.max_seconds:
        print(f"slower than {args.max_seconds} s", file=sys.stderr)
        return 1
    return 0
