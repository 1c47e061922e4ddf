"""The terminal summary of a Deckard run (rich).

1. a table, one row per scenario, one column per variant (pass, FAIL, xfail, XPASS,
   skip, ERROR), with the first failing step and what went wrong;
2. for every unexpected failure (every failure with ``verbose``) the step and an
   expected-vs-got diff in dig style, and with ``verbose`` the last upstream exchanges;
3. scenarios that are listed as known failures but now pass;
4. pass counts per variant, generic scenarios apart from kresd-only ones (those using
   the ``features``/``feature-list`` header keys), and known failures by reason;
5. per dialect (deckard, testbound): runs, pass, fail and unsupported, and what the runs
   that did not pass are down to (the unsupported key, or the kind of failing step).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from deckard.known import Judged, KnownFailure

STYLES = {
    "pass": ("pass", "green"),
    "fail": ("FAIL", "bold red"),
    "xfail": ("xfail", "yellow"),
    "xpass": ("XPASS", "bold magenta"),
    "skip": ("skip", "dim"),
    "unsupported": ("unsup", "cyan"),
    "error": ("ERROR", "bold red"),
}
VARIANT_ORDER = ("qmin", "noqmin", "ext", "-")


@dataclass(frozen=True)
class Counts:
    """Per variant: how many ran (not skipped), passed, failed as known, failed unexpectedly."""

    ran: int = 0
    passed: int = 0
    xfail: int = 0
    unexpected: int = 0


def counts(judged: Sequence[Judged], generic: bool) -> dict[str, Counts]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for j in judged:
        if j.result.dialect != "deckard":
            continue  # testbound runs have their own totals (dialect_totals)
        if j.result.generic != generic or j.verdict in ("skip", "unsupported"):
            continue
        c = out[j.result.variant]
        c["ran"] += 1
        if j.verdict in ("pass", "xpass"):
            c["passed"] += 1
        if j.verdict == "xfail":
            c["xfail"] += 1
        if j.unexpected:
            c["unexpected"] += 1
    return {
        v: Counts(c["ran"], c["passed"], c["xfail"], c["unexpected"]) for v, c in out.items()
    }


def _variants(judged: Sequence[Judged]) -> list[str]:
    seen = {j.result.variant for j in judged}
    return [v for v in VARIANT_ORDER if v in seen]


def table(judged: Sequence[Judged], only_problems: bool = False) -> Table:
    variants = _variants(judged)
    t = Table(title="Deckard scenarios", show_lines=False, expand=False)
    t.add_column("scenario", no_wrap=True)
    for v in variants:
        t.add_column(v, justify="center")
    t.add_column("step", no_wrap=True)
    t.add_column("detail", overflow="fold")
    rows: dict[str, dict[str, Judged]] = {}
    for j in judged:
        rows.setdefault(j.result.scenario, {})[j.result.variant] = j
    for name, by_variant in rows.items():
        if only_problems and not any(j.unexpected for j in by_variant.values()):
            continue
        cells: list[Text | str] = [Text(name, style="dim" if not _generic(by_variant) else "")]
        for v in variants:
            cell = by_variant.get(v)
            if cell is None:
                cells.append("")
                continue
            label, style = STYLES[cell.verdict]
            cells.append(Text(label, style=style))
        worst = _first_problem(by_variant)
        if worst is None:
            cells += ["", ""]
        else:
            r = worst.result
            step = r.failure.where() if r.failure else ""
            detail = r.summary if r.failure is None else f"{r.failure.kind}: {r.failure.message}"
            if worst.verdict in ("xfail", "xpass"):
                detail = f"[known: {worst.reason}] {detail}" if worst.verdict == "xfail" else (
                    f"now passing — remove from known failures ({worst.reason})"
                )
            cells += [step, _shorten(detail, 160)]
        t.add_row(*cells)
    return t


def _generic(by_variant: dict[str, Judged]) -> bool:
    return all(j.result.generic for j in by_variant.values())


def _first_problem(by_variant: dict[str, Judged]) -> Judged | None:
    order = ("fail", "error", "xpass", "xfail", "unsupported", "skip")
    for verdict in order:
        for v in VARIANT_ORDER:
            j = by_variant.get(v)
            if j is not None and j.verdict == verdict:
                if verdict == "skip" and any(x.verdict != "skip" for x in by_variant.values()):
                    continue  # a variant the header excludes is not worth a line
                return j
    return None


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_panel(j: Judged, verbose: bool) -> Panel:
    r = j.result
    parts: list[Text | Syntax] = []
    head = Text()
    if r.failure is not None:
        head.append(f"{r.failure.where()} ({r.failure.kind}", style="bold")
        if r.failure.line:
            head.append(f", {r.path}:{r.failure.line}", style="bold")
        head.append(f"): {r.failure.message}")
    else:
        head.append(r.reason)
    if j.verdict == "xfail":
        head.append(f"\nknown failure: {j.reason}", style="yellow")
    parts.append(head)
    if r.failure is not None and r.failure.diff:
        lexer = "diff" if r.failure.kind == "CHECK_ANSWER" else "pytb"
        parts.append(Syntax(r.failure.diff, lexer, theme="ansi_dark", word_wrap=True))
    if verbose and r.traffic:
        parts.append(Text("upstream traffic (last exchanges):", style="bold"))
        parts.append(Text("\n".join(r.traffic), style="dim"))
    title = escape(f"{r.scenario} [{r.variant}]")
    style = "red" if j.unexpected else "yellow"
    return Panel(Group(*parts), title=title, border_style=style, expand=True)


def summary_lines(judged: Sequence[Judged]) -> list[str]:
    lines = []
    for generic, label in ((True, "generic"), (False, "kresd-only")):
        per = counts(judged, generic)
        if not per:
            continue
        parts = []
        for v in VARIANT_ORDER:
            c = per.get(v)
            if c is None:
                continue
            parts.append(
                f"{v} {c.passed}/{c.ran} pass ({c.xfail} known failures, "
                f"{c.unexpected} unexpected)"
            )
        lines.append(f"Deckard {label} scenarios: " + "; ".join(parts))
    return lines


@dataclass(frozen=True)
class Totals:
    """Runs of one dialect (variants the header excludes are not runs)."""

    runs: int = 0
    passed: int = 0
    failed: int = 0  # failures, known or not, and files that do not parse
    unsupported: int = 0

    def line(self, dialect: str) -> str:
        rate = f" ({100 * self.passed / self.runs:.1f} %)" if self.runs else ""
        return (
            f"{dialect}: {self.runs} runs: {self.passed} pass{rate}, {self.failed} fail, "
            f"{self.unsupported} unsupported"
        )


def dialect_totals(judged: Sequence[Judged]) -> dict[str, Totals]:
    """pass / fail / unsupported per dialect (unsupported counts as not passing)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for j in judged:
        if j.verdict == "skip":
            continue
        c = out[j.result.dialect]
        c["runs"] += 1
        if j.verdict in ("pass", "xpass"):
            c["passed"] += 1
        elif j.verdict == "unsupported":
            c["unsupported"] += 1
        else:
            c["failed"] += 1
    return {
        d: Totals(c["runs"], c["passed"], c["failed"], c["unsupported"])
        for d, c in sorted(out.items())
    }


def cause_totals(judged: Sequence[Judged]) -> dict[str, dict[str, int]]:
    """Per dialect, runs that did not pass by cause: the unsupported key (every key a run
    lacks is counted), a known failure's cause (its entry's ``cause``, else the head of its
    reason: "DNSSEC lameness", ...), or the kind of step that failed (CHECK_ANSWER, ...)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for j in judged:
        r = j.result
        if j.verdict in ("skip", "pass", "xpass"):
            continue
        if j.verdict == "unsupported":
            for key in r.unsupported or ("?",):
                out[r.dialect][f"unsupported: {key}"] += 1
        elif j.verdict == "xfail":
            out[r.dialect][f"{j.cause} (known, {r.cause})"] += 1
        else:
            out[r.dialect][r.cause] += 1
    return {d: dict(c.most_common()) for d, c in sorted(out.items())}


def known_by_reason(judged: Sequence[Judged]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for j in judged:
        if j.verdict == "xfail":
            out[j.reason].append(f"{j.result.scenario}[{j.result.variant}]")
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def render(
    judged: Sequence[Judged],
    console: Console,
    *,
    verbose: bool = False,
    only_problems: bool = False,
    stale: Sequence[KnownFailure] = (),
    elapsed: float | None = None,
) -> None:
    console.print(table(judged, only_problems))
    for j in judged:
        if j.verdict in ("fail", "error") or (verbose and j.verdict == "xfail"):
            console.print(failure_panel(j, verbose))
    now_passing = [j for j in judged if j.verdict == "xpass"]
    if now_passing:
        console.print(
            Text("Now passing (remove from the known-failures file):", style="bold magenta")
        )
        for j in now_passing:
            console.print(Text(f"  {j.result.scenario} [{j.result.variant}] — was: {j.reason}"))
    for entry in stale:
        console.print(
            Text(
                f"known failure {entry.scenario} matches no run of it "
                f"(variants {sorted(entry.variants or [])})",
                style="magenta",
            )
        )
    reasons = known_by_reason(judged)
    if reasons:
        console.print(Text("Known failures by reason:", style="bold"))
        for reason, items in reasons.items():
            console.print(Text(f"  {len(items):4d}  {reason}"))
            if verbose:
                console.print(Text("        " + ", ".join(items), style="dim"))
    for line in summary_lines(judged):
        console.print(Text(line, style="bold"))
    causes = cause_totals(judged)
    for dialect, totals in dialect_totals(judged).items():
        console.print(Text(totals.line(dialect), style="bold"))
        for cause, n in causes.get(dialect, {}).items():
            console.print(Text(f"  {n:4d}  {cause}"))
    verdicts = Counter(j.verdict for j in judged)
    tail = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    unexpected = sum(1 for j in judged if j.unexpected)
    style = "bold red" if unexpected else "bold green"
    console.print(Text(f"{len(judged)} runs{took}: {tail}; {unexpected} unexpected", style=style))
