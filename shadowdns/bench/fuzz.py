"""``shadowdns bench fuzz``: the coverage-guided fuzz targets of :mod:`shadowdns.fuzz`, each for
a bounded time, with the figures libFuzzer reports (issue 24 part 1).

Each target runs in a process of its own (libFuzzer ends its process), from a seed corpus
written under ``--run-dir`` that it grows as it finds new coverage; a crash (an undeclared
exception), a hang (one input over ``--input-timeout`` seconds) or running out of memory
ends the target early, leaves the input that did it under ``RUN_DIR/crashes/`` and makes the
command exit 1.  No network: the targets are pure functions over bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FINAL = re.compile(r"^#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
PROGRESS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
ARTIFACT = re.compile(r"Test unit written to (\S+)")
TARGETS = ("client", "fastpath", "judge", "deckard")


def register(bsub: Any) -> None:
    z = bsub.add_parser("fuzz", help="coverage-guided fuzzing (atheris) of the wire parsers, "
                                     "the fast path, the judge's walker and the scenario "
                                     "parser")
    z.add_argument("--targets", default=",".join(TARGETS), metavar="NAME,NAME",
                   help=f"comma-separated ({', '.join(TARGETS)}; 'selftest' must crash: a "
                        "check of the harness)")
    z.add_argument("--seconds", type=float, default=60.0, metavar="SECONDS",
                   help="time per target")
    z.add_argument("--input-timeout", type=int, default=10, metavar="SECONDS",
                   help="one input taking longer is a hang")
    z.add_argument("--run-dir", type=Path, default=Path("run/fuzz"), metavar="DIR",
                   help="corpora and crashing inputs go here")
    z.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    z.set_defaults(func=run)


def parse_output(text: str) -> dict[str, Any]:
    """libFuzzer's figures from its output: executions, edges covered, features, corpus
    size, and the input it wrote on a crash."""
    out: dict[str, Any] = {"executions": 0, "coverage": 0, "features": 0, "corpus": 0,
                           "artifact": None, "finished": False}
    for line in text.splitlines():
        m = FINAL.match(line)
        if m:
            out["finished"] = True
        m = m or PROGRESS.match(line)
        if m:
            out.update(executions=int(m[1]), coverage=int(m[2]), features=int(m[3]),
                       corpus=int(m[4]))
        a = ARTIFACT.search(line)
        if a:
            out["artifact"] = a[1]
    return out


def run(args: argparse.Namespace) -> int:
    from shadowdns.fuzz import seeds

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in (*TARGETS, "selftest")]
    if unknown or not targets:
        print(f"shadowdns bench fuzz: --targets: unknown {', '.join(unknown) or '(none)'} "
              f"(known: {', '.join(TARGETS)})", file=sys.stderr)
        return 2
    if args.seconds <= 0 or args.input_timeout <= 0:
        print("shadowdns bench fuzz: --seconds and --input-timeout: expected positive numbers",
              file=sys.stderr)
        return 2
    run_dir: Path = args.run_dir
    crashes = run_dir / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for name in targets:
        corpus = run_dir / "corpus" / name
        corpus.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds(name)):
            (corpus / f"seed-{i}").write_bytes(seed)
        cmd = [sys.executable, "-m", "shadowdns.fuzz", name,
               f"-max_total_time={max(1, round(args.seconds))}",
               f"-timeout={args.input_timeout}", "-rss_limit_mb=2048",
               f"-artifact_prefix={crashes}/{name}-", str(corpus)]
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=args.seconds + 120)
        figures = parse_output(done.stderr)
        figures["exit_status"] = done.returncode
        figures["crashed"] = done.returncode != 0
        if figures["crashed"]:
            figures["tail"] = done.stderr.strip().splitlines()[-15:]
        results[name] = figures
        state = (f"CRASH: {figures['artifact'] or 'see ' + str(crashes)}"
                 if figures["crashed"] else "no crash")
        print(f"{name}: {figures['executions']:,} inputs in {args.seconds:g} s, "
              f"{figures['coverage']} edges, {figures['features']} features, corpus "
              f"{figures['corpus']}; {state}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if any(r["crashed"] for r in results.values()) else 0
