"""``shadowdns report``: divergence reports from the store.

    shadowdns report [RUN] [--db PATH] [--format text|json|csv|parquet|markdown] [--output FILE]
    shadowdns report explain ID [--db PATH] [--format text|json]
    shadowdns report scenario ID [--db PATH] [-o FILE] [--reference NAME]
    shadowdns report compare RUN_A RUN_B [--db PATH] [--max-new-real N] [--max-rate-increase X]

RUN is a run ID of the store (default: the latest run).  The store is ``--db``, or else the
most recently written of ``run/shadow/shadow.db`` (``shadowdns run``) and
``run/demo/shadow.db`` (``shadowdns demo``).  For ``compare``, RUN_A and RUN_B may also be a
store path (its latest run), ``PATH:RUN``, or a report exported with ``--format json``.
``scenario`` writes a Deckard ``.rpl`` that replays a divergence from the authorities'
answers the candidate recorded (``shadowdns deckard run FILE`` plays it).

Exit status: 0; 1 when ``--fail-if-unsafe`` is given and the candidate is not safe to ship,
or when ``compare`` finds a regression; 2 on a usage error or an unreadable store.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_STORES", "find_store", "main", "register"]

DEFAULT_STORES = (Path("run/shadow/shadow.db"), Path("run/demo/shadow.db"))

_USAGE = """shadowdns report [RUN] [options]
       shadowdns report explain ID [--db PATH] [--format text|json]
       shadowdns report scenario ID [--db PATH] [-o FILE] [--reference NAME]
       shadowdns report compare RUN_A RUN_B [--max-new-real N] [--max-rate-increase X]"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="divergence reports from the store: report [RUN], report explain ID, "
                       "report scenario ID, report compare A B",
        usage=_USAGE, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False)
    p.add_argument("-h", "--help", action=_HelpFor,
                   help="show this help (after explain, scenario or compare: that command's "
                        "help)")
    p.add_argument("run", nargs="?", metavar="RUN",
                   help="a run ID (default: the latest), or explain, scenario or compare")
    p.add_argument("more", nargs="*", metavar="ARG",
                   help="explain, scenario: ID; compare: RUN_A RUN_B")
    _output_options(p, ("text", "json", "csv", "parquet", "markdown"),
                    "text, json (the documented shape), csv and parquet (one row per "
                    "divergence), markdown")
    p.add_argument("--reference", metavar="NAME",
                   help="scenario: the reference whose answer is expected (default: the first)")
    r = p.add_argument_group("report")
    r.add_argument("--examples", type=int, default=2, metavar="N",
                   help="divergences shown per category")
    r.add_argument("--all-verdicts", action="store_true",
                   help="csv/parquet: a row per observation, equal ones included")
    r.add_argument("--fail-if-unsafe", action="store_true",
                   help="exit 1 when the candidate is not safe to ship")
    r.add_argument("--full", action="store_true",
                   help="explain: signatures, keys and digests in full (default: their first "
                        "and last 8 characters; --format json always gives them in full)")
    t = p.add_argument_group("when the candidate is safe to ship")
    t.add_argument("--max-real", type=int, default=0, metavar="N",
                   help="real divergences tolerated")
    t.add_argument("--max-real-rate", type=_rate, metavar="X",
                   help="a rate of real divergences tolerated instead, e.g. 0.001 or 0.1%%")
    t.add_argument("--max-timeout-rate", type=_rate, default=0.01, metavar="X",
                   help="share of queries the candidate may leave unanswered")
    t.add_argument("--min-compared", type=int, default=100, metavar="N",
                   help="fewer judged queries than this: not enough data")
    t.add_argument("--ignore", action="append", default=[], metavar="CATEGORY",
                   help="a category or group that does not block (repeatable), e.g. edns")
    t.add_argument("--block-minor", action="store_true",
                   help="lower-severity categories (dnssec.ede_code: only the EDE code "
                   "differs) block too")
    _compare_options(p.add_argument_group("compare"))
    p.set_defaults(func=main)

    explain = argparse.ArgumentParser(
        prog="shadowdns report explain", usage="shadowdns report explain ID [options]",
        description="One observation's full evidence: the query, each side's answer as dig\n"
                    "shows it with the differing lines marked, and the verdict's reasons.")
    explain.add_argument("id", metavar="ID", help="an observation ID, as the report shows it "
                                                  "(#1234)")
    _output_options(explain, ("text", "json"), "text or json")
    compare = argparse.ArgumentParser(
        prog="shadowdns report compare", usage="shadowdns report compare RUN_A RUN_B [options]",
        description="Run B against run A: new real divergence categories and rises in the\n"
                    "real, per-category and timeout rates.  Exit status 1 on a regression.")
    compare.add_argument("run_a", metavar="RUN_A",
                         help="a run ID of the store, a store path (its latest run), "
                              "PATH:RUN, or a report exported with --format json")
    compare.add_argument("run_b", metavar="RUN_B", help="the same, for the run judged")
    _output_options(compare, ("text", "json"), "text or json")
    _compare_options(compare)
    scenario = argparse.ArgumentParser(
        prog="shadowdns report scenario",
        usage="shadowdns report scenario ID [--db FILE] [-o FILE] [--reference NAME]",
        description="A Deckard .rpl that replays one divergence from the authorities' recorded\n"
                    "answers and expects the reference's answer (shadowdns deckard run FILE).")
    scenario.add_argument("id", metavar="ID", help="an observation ID, as the report shows it "
                                                   "(#1234)")
    scenario.add_argument("--db", type=Path, metavar="FILE", help="the store (default: the "
                          "newest of " + ", ".join(str(s) for s in DEFAULT_STORES) + ")")
    scenario.add_argument("--output", "-o", type=Path, metavar="FILE",
                          help="write here instead of standard output")
    scenario.add_argument("--reference", metavar="NAME",
                          help="the reference whose answer is expected (default: the first)")
    p.subcommand_help = {"explain": explain, "compare": compare, "scenario": scenario}


def _output_options(p: argparse.ArgumentParser, formats: tuple[str, ...], what: str) -> None:
    p.add_argument("--db", type=Path, metavar="FILE", help="the store (default: the newest of "
                   + ", ".join(str(s) for s in DEFAULT_STORES) + ")")
    p.add_argument("--format", choices=formats, default="text", help=what)
    p.add_argument("--output", "-o", type=Path, metavar="FILE",
                   help="write here instead of standard output"
                   + (" (required for parquet)" if "parquet" in formats else ""))
    p.add_argument("--width", type=int, metavar="N",
                   help="terminal width (default: the terminal's)")


def _compare_options(g: Any) -> None:
    g.add_argument("--max-new-real", type=int, default=0, metavar="N",
                   help="real divergences tolerated in categories run A did not have")
    g.add_argument("--max-rate-increase", type=_rate, default=0.001, metavar="X",
                   help="rise tolerated in the real rate, any category's rate and the "
                        "candidate's timeout rate (0.001 is 0.1 point)")


class _HelpFor(argparse.Action):
    """``-h``: the report's help, or after ``explain`` / ``compare`` that command's own."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        helps: dict[str, argparse.ArgumentParser] = getattr(parser, "subcommand_help", {})
        chosen = helps.get(getattr(namespace, "run", None) or "", parser)
        chosen.print_help()
        parser.exit()


def _rate(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate (0.01 or 1%)") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is outside 0..1")
    return value


def find_store(given: Path | None) -> Path:
    """``given``, or the most recently written default store."""
    if given is not None:
        return given
    found = [p for p in DEFAULT_STORES if p.exists()]
    if not found:
        raise FileNotFoundError(
            "no store found: pass --db PATH (shadowdns run writes run/shadow/shadow.db, "
            "shadowdns demo run/demo/shadow.db)")
    return max(found, key=_written)


def _written(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")
    return max(path.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)


def _err(message: str) -> int:
    print(f"shadowdns report: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    from reports.tables import StoreError

    try:
        if args.run == "explain":
            return _explain(args)
        if args.run == "compare":
            return _compare(args)
        if args.run == "scenario":
            return _scenario(args)
        return _report(args)
    except FileNotFoundError as e:
        return _err(f"{e.filename}: {e.strerror}" if e.filename else str(e))
    except (StoreError, ValueError) as e:
        return _err(str(e))
    except BrokenPipeError:
        return 0


def _console(args: argparse.Namespace, file: Any = None) -> Any:
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=args.width or 120, force_terminal=False,
                       color_system=None)
    width = args.width or (None if sys.stdout.isatty() else 120)  # piped: not rich's 80
    return Console(width=width, highlight=False)


def _report(args: argparse.Namespace) -> int:
    from reports.export import divergence_rows, to_json, to_markdown, write_rows
    from reports.model import Thresholds
    from reports.render import render
    from reports.summary import build
    from reports.tables import load

    if args.more:
        return _err(f"unexpected arguments: {' '.join(args.more)} (report [RUN] takes one RUN)")
    run: int | None = None
    if args.run is not None:
        if not args.run.isdigit():
            return _err(f"RUN must be a run ID (a number), explain or compare, not {args.run!r}")
        run = int(args.run)
    if args.format == "parquet" and args.output is None:
        return _err("--format parquet needs --output FILE")
    path = find_store(args.db)
    thresholds = Thresholds(max_real=args.max_real, max_real_rate=args.max_real_rate,
                            max_timeout_rate=args.max_timeout_rate,
                            min_compared=args.min_compared, ignore=list(args.ignore),
                            **({"minor": []} if args.block_minor else {}))
    tables = load(path, run)
    if args.format in ("csv", "parquet"):
        frame = divergence_rows(tables, all_verdicts=args.all_verdicts)
        if args.output is None:
            frame.to_csv(sys.stdout, index=False)
        else:
            write_rows(frame, args.format, args.output)
        status = build(tables, thresholds, examples_per_category=0).safety.status \
            if args.fail_if_unsafe else "safe"
        return 1 if status == "not_safe" else 0
    report = build(tables, thresholds, examples_per_category=max(0, args.examples))
    if args.format == "json":
        _write(args.output, to_json(report))
    elif args.format == "markdown":
        _write(args.output, to_markdown(report))
    elif args.output is not None:
        with args.output.open("w") as f:
            render(report, _console(args, f))
    else:
        render(report, _console(args))
    return 1 if args.fail_if_unsafe and report.safety.status == "not_safe" else 0


def _write(output: Path | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def _explain(args: argparse.Namespace) -> int:
    from harness.timefmt import iso_utc, latency_s
    from reports.examples import explain
    from reports.render import render_explain
    from reports.tables import dumps

    if len(args.more) != 1 or not args.more[0].isdigit():
        return _err("usage: shadowdns report explain ID (an observation ID, as the report "
                    "shows it: #1234)")
    x = explain(find_store(args.db), int(args.more[0]),
                full=bool(args.full) or args.format == "json")
    if args.format == "json":
        obs, v = x.observation, x.verdict
        data = {
            "format": "shadowdns-explain", "version": 1, "observation_id": obs.id,
            "run_id": obs.run_id, "query": {**obs.query.__dict__,
                                            "source": obs.query.source.value,
                                            "seen_at": iso_utc(obs.query.seen_at)},
            "verdict": None if v is None else {
                "kind": v.kind.value, "category": v.category, "categories": v.categories,
                "explained_by": v.explained_by, "evidence": v.evidence.to_json()},
            "answers": [{"target": a.target, "role": a.role, "latency": latency_s(a.latency),
                         "error": a.error, "dig": [line.text for line in a.lines],
                         "differs": [line.differs for line in a.lines]} for a in x.answers],
            "wires": {t: a.wire for t, a in obs.answers.items()},
            "replay": x.replay,
        }
        _write(args.output, dumps(data) + "\n")
        return 0
    if args.format != "text":
        return _err("explain writes text or json")
    if args.output is not None:
        with args.output.open("w") as f:
            render_explain(x, _console(args, f))
    else:
        render_explain(x, _console(args))
    return 0


def _scenario(args: argparse.Namespace) -> int:
    from harness.scenario import ScenarioWriteError, scenario_from_store

    if len(args.more) != 1 or not args.more[0].isdigit():
        return _err("usage: shadowdns report scenario ID [-o FILE] (an observation ID, as "
                    "the report shows it: #1234)")
    try:
        written = scenario_from_store(find_store(args.db), int(args.more[0]),
                                      reference=args.reference)
    except ScenarioWriteError as e:
        return _err(str(e))
    for warning in written.warnings:
        print(f"shadowdns report: warning: {warning}", file=sys.stderr)
    _write(args.output, written.text)
    if args.output is not None:
        print(f"wrote {args.output}: {written.servers} servers, {written.entries} answers; "
              f"replay with: shadowdns deckard run {args.output}", file=sys.stderr)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from reports.compare import compare, load_side, render_comparison
    from reports.tables import dumps

    if len(args.more) != 2:
        return _err("usage: shadowdns report compare RUN_A RUN_B")
    db: Path | None = None
    if any(s.isdigit() for s in args.more):
        db = find_store(args.db)
    a, a_label = load_side(args.more[0], db, label="RUN_A")
    b, b_label = load_side(args.more[1], db, label="RUN_B")
    result = compare(a, b, a_label=a_label, b_label=b_label,
                     max_new_real=args.max_new_real, max_rate_increase=args.max_rate_increase)
    if args.format == "json":
        _write(args.output, dumps(result.to_dict()) + "\n")
    elif args.format != "text":
        return _err("compare writes text or json")
    elif args.output is not None:
        with args.output.open("w") as f:
            render_comparison(result, _console(args, f))
    else:
        render_comparison(result, _console(args))
    return 1 if result.regressed else 0
