"""``shadowdns deckard run PATH... [--junit FILE] [-k PATTERN] [--jobs N]``.

Runs every ``.rpl`` file given (directories are searched for ``*.rpl``) against the
in-process candidate, or with ``--resolver ADDR[:PORT]`` / ``--reference unbound|kresd``
against a real resolver over loopback (scenarios whose addresses are all loopback only).
Prints the summary table, writes JUnit XML if asked, and exits 1 on any unexpected result
(a failure not in the known-failures file, a file that does not parse, or a listed
scenario that now passes), 0 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from deckard import junit, report
from deckard.known import (
    DEFAULT_PATH,
    KnownFailures,
    KnownFailuresError,
    exit_status,
    judge,
    stale_entries,
)
from deckard.network import parse_resolver
from deckard.outcome import RunResult
from deckard.runner import discover, run_paths, select
from deckard.split import HALVES, only
from deckard.target import RunOptions

LOG_WIDTH = 160


def register(sub: Any) -> None:
    p = sub.add_parser("deckard", help="run Deckard .rpl scenarios against the candidate")
    actions = p.add_subparsers(dest="deckard_command", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="run scenarios and report pass/fail per scenario and variant",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                     help=".rpl files or directories of them")
    run.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    run.add_argument("-k", dest="pattern", metavar="PATTERN",
                     help="only scenarios whose name contains PATTERN (a glob if it has "
                          "*?[; several separated by commas; 'not PATTERN' excludes)")
    run.add_argument("--half", choices=HALVES,
                     help="only the scenarios of this half of the held-out split "
                          "(deckard.split: SHA-256 of the name, even = fix, odd = measure)")
    run.add_argument("--jobs", "-j", type=int, default=min(4, os.cpu_count() or 1),
                     metavar="N", help="worker processes (default: CPUs, at most 4)")
    run.add_argument("--known-failures", type=Path, metavar="FILE",
                     help="scenarios expected to fail, with reasons (default: the shipped "
                          "deckard/known_failures.yaml for the candidate, none with --resolver "
                          "or --reference)")
    run.add_argument("--no-known-failures", action="store_true",
                     help="expect every scenario to pass")
    run.add_argument("--seed", type=int, default=0, metavar="N",
                     help="vary the candidate's randomness (IDs, server choice)")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--resolver", metavar="ADDR[:PORT]",
                        help="drive a running resolver at this loopback address instead of "
                             "the candidate (its root hint must be the scenario's stub-addr)")
    target.add_argument("--reference", choices=("unbound", "kresd"),
                        help="start a fresh reference resolver per scenario variant")
    run.add_argument("--qmin-qtype", choices=("NS", "A"), default="NS",
                     help="type of the candidate's minimised queries (default: NS, which "
                          "Deckard's scenarios are written for; the resolver itself uses A)")
    run.add_argument("--workdir", type=Path, default=Path("run/deckard"), metavar="DIR",
                     help="state directory for --reference")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="diffs of known failures too, and the upstream traffic")
    run.add_argument("-q", "--problems-only", action="store_true",
                     help="table rows only for scenarios with unexpected results")
    run.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    console = Console(stderr=False, highlight=False, markup=False)
    if not console.is_terminal:
        console.width = max(console.width, LOG_WIDTH)  # CI logs: room for the table
    err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)  # one line each
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        err.print(f"shadowdns deckard: no such file or directory: {', '.join(map(str, missing))}")
        return 2
    if args.jobs < 1:
        err.print("shadowdns deckard: --jobs must be at least 1")
        return 2
    known_path = args.known_failures
    if known_path is None and not (args.resolver or args.reference):
        known_path = DEFAULT_PATH  # the list is about the candidate
    try:
        known = (
            KnownFailures.empty() if args.no_known_failures or known_path is None
            else KnownFailures.load(known_path)
        )
    except KnownFailuresError as e:
        err.print(f"shadowdns deckard: {e}")
        return 2
    files = only(select(discover(args.paths), args.pattern), args.half)
    if not files:
        err.print("shadowdns deckard: no .rpl scenario selected")
        return 2
    if args.resolver is not None:
        try:
            parse_resolver(args.resolver)
        except ValueError as e:
            err.print(f"shadowdns deckard: --resolver {args.resolver}: {e}")
            return 2
    options = RunOptions(
        seed=args.seed,
        resolver=args.resolver,
        reference=args.reference,
        workdir=str(args.workdir),
        qmin_qtype=args.qmin_qtype,
    )
    done = 0

    def progress(results: list[RunResult]) -> None:
        nonlocal done
        done += 1
        if err.is_terminal:
            err.print(f"[{done}/{len(files)}] {results[0].scenario}", end="\r")

    start = time.perf_counter()
    results = run_paths(files, options, jobs=args.jobs, progress=progress)
    elapsed = time.perf_counter() - start
    judged = judge(results, known)
    report.render(
        judged,
        console,
        verbose=args.verbose,
        only_problems=args.problems_only,
        stale=stale_entries(known, judged),
        elapsed=elapsed,
    )
    if args.junit is not None:
        junit.write(judged, args.junit)
        console.print(f"JUnit XML: {args.junit}")
    return exit_status(judged)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shadowdns")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
