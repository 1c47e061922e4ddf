"""``shadowdns report compare A B``: what changed from run A to run B, and whether B regressed.

Each side is a run of a store (``3``, ``path/to/shadow.db`` for its latest run,
``path/to/shadow.db:3``) or a report exported with ``--format json`` (so that CI can keep a
baseline file).  The comparison is made on the reports' aggregates:

* every real-divergence category: count and rate (of judged queries) in A and in B;
  ``new`` when A had none, ``gone`` when B has none;
* the rates of each verdict kind, and of the candidate's own timeouts;
* latency percentiles per target.

B **regressed** (exit status 1) when

* the real divergences in categories that A did not have exceed ``max_new_real``
  (default 0), or
* the overall real rate, any category's real rate, or the candidate's timeout rate rose by
  more than ``max_rate_increase`` (a fraction of judged queries; default 0.001, 0.1
  percentage point).

Noise, unstable answers and the reference's timeouts are shown but never regress.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.differ.classify import rank
from harness.timefmt import latency_s
from reports.model import FORMAT, REPORT_VERSION, Report, from_dict

__all__ = ["Change", "Comparison", "compare", "load_side"]

COMPARE_FORMAT = "shadowdns-report-compare"


@dataclass
class Change:
    what: str  # "real rcode", "verdict noise", "candidate timeouts", "latency kresd p99"
    a: float
    b: float
    a_count: int | None
    b_count: int | None
    delta: float
    note: str  # new | gone | up | down | same
    regression: bool = False


@dataclass
class Comparison:
    a: str  # a label for each side
    b: str
    a_judged: int
    b_judged: int
    a_status: str
    b_status: str
    changes: list[Change]
    regressions: list[str]
    new_real: int
    thresholds: dict[str, float]
    format: str = COMPARE_FORMAT
    version: int = 1
    latency: list[Change] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["regressed"] = self.regressed
        return {"format": out.pop("format"), "version": out.pop("version"), **out}


def load_side(spec: str, default_db: Path | None, *, label: str) -> tuple[Report, str]:
    """A report for ``spec`` (see the module docstring) and a label for it."""
    from reports.summary import report

    text = spec.strip()
    if text.isdigit():
        if default_db is None:
            raise FileNotFoundError(f"{label} {text}: no store given (--db)")
        return report(default_db, int(text), examples_per_category=0), f"run {text}"
    path_text, sep, run_text = text.rpartition(":")
    if sep and run_text.isdigit() and Path(path_text).exists():
        return (report(Path(path_text), int(run_text), examples_per_category=0),
                f"{path_text} run {run_text}")
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"{label} {text}: no such run, store or report file")
    if path.suffix == ".json" or _looks_json(path):
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a shadowdns report (format {data.get('format')!r})")
        if int(data.get("version", 0)) > REPORT_VERSION:
            raise ValueError(f"{path}: report version {data['version']}, this shadowdns "
                             f"reads up to {REPORT_VERSION}")
        try:
            r = from_dict(Report, data)
        except (TypeError, KeyError, ValueError, AttributeError) as e:
            raise ValueError(f"{path}: not a complete shadowdns report ({e})") from None
        return r, f"{path.name} (run {r.header.run_id})"
    r = report(path, None, examples_per_category=0)
    return r, f"{path.name} run {r.header.run_id}"


def _looks_json(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(1) in (b"{", b"[")


def _real(r: Report) -> dict[str, int]:
    return {c.category: c.count for c in r.verdicts.categories if c.kind == "real"}


def _candidate_timeouts(r: Report) -> int:
    return sum(s.count for s in r.verdicts.sides
               if s.kind == "timeout" and s.side in ("candidate", "both"))


def _note(a: float, b: float, a_count: int | None) -> str:
    if a_count == 0 and b > 0:
        return "new"
    if a > 0 and b == 0:
        return "gone"
    if b > a:
        return "up"
    if b < a:
        return "down"
    return "same"


def compare(a: Report, b: Report, *, a_label: str = "A", b_label: str = "B",
            max_new_real: int = 0, max_rate_increase: float = 0.001) -> Comparison:
    ja, jb = a.verdicts.judged, b.verdicts.judged

    def rate(n: int, judged: int) -> float:
        return n / judged if judged else 0.0

    changes: list[Change] = []
    regressions: list[str] = []
    ra, rb = _real(a), _real(b)
    new_real = 0
    for category in sorted(set(ra) | set(rb), key=lambda c: (rank(c), c)):
        na, nb = ra.get(category, 0), rb.get(category, 0)
        fa, fb = rate(na, ja), rate(nb, jb)
        ch = Change(f"real {category}", fa, fb, na, nb, fb - fa, _note(fa, fb, na))
        if na == 0 and nb > 0:
            new_real += nb
        if fb - fa > max_rate_increase:
            ch.regression = True
            regressions.append(f"real {category}: {100 * fa:.3f}% → {100 * fb:.3f}% "
                               f"(+{100 * (fb - fa):.3f} points > "
                               f"{100 * max_rate_increase:.3f})")
        changes.append(ch)
    if new_real > max_new_real:
        new = [c.what.removeprefix("real ") for c in changes if c.note == "new"]
        regressions.insert(0, f"{new_real} real divergence{'' if new_real == 1 else 's'} in "
                              "categories run A did not have "
                              f"({', '.join(new)}) > {max_new_real}")
        for c in changes:
            if c.note == "new":
                c.regression = True
    total_a, total_b = sum(ra.values()), sum(rb.values())
    fa, fb = rate(total_a, ja), rate(total_b, jb)
    overall = Change("real (all categories)", fa, fb, total_a, total_b, fb - fa,
                     _note(fa, fb, total_a))
    if fb - fa > max_rate_increase:
        overall.regression = True
        regressions.append(f"real rate {100 * fa:.3f}% → {100 * fb:.3f}% "
                           f"(+{100 * (fb - fa):.3f} points > {100 * max_rate_increase:.3f})")
    changes.insert(0, overall)
    ta, tb = _candidate_timeouts(a), _candidate_timeouts(b)
    fa, fb = rate(ta, ja), rate(tb, jb)
    timeouts = Change("candidate timeouts", fa, fb, ta, tb, fb - fa, _note(fa, fb, ta))
    if fb - fa > max_rate_increase:
        timeouts.regression = True
        regressions.append(f"candidate timeouts {100 * fa:.3f}% → {100 * fb:.3f}%")
    changes.append(timeouts)
    for kind in ("noise", "unstable", "timeout", "equal"):
        na, nb = a.verdicts.by_kind.get(kind, 0), b.verdicts.by_kind.get(kind, 0)
        fa, fb = rate(na, ja), rate(nb, jb)
        changes.append(Change(f"verdict {kind}", fa, fb, na, nb, fb - fa, _note(fa, fb, na)))
    latency: list[Change] = []
    la = {s.target: s for s in a.latency.targets}
    for s in b.latency.targets:
        other = la.get(s.target)
        if other is None:
            continue
        for q in ("p50", "p90", "p99"):
            va, vb = getattr(other, q), getattr(s, q)
            if va is None or vb is None:
                continue
            va, vb = latency_s(va) or 0.0, latency_s(vb) or 0.0  # an older export's: unrounded
            latency.append(Change(f"latency {s.target} {q}", va, vb, None, None,
                                  latency_s(vb - va) or 0.0, _note(va, vb, None)))
    return Comparison(a=a_label, b=b_label, a_judged=ja, b_judged=jb,
                      a_status=a.safety.status, b_status=b.safety.status, changes=changes,
                      regressions=regressions, new_real=new_real,
                      thresholds={"max_new_real": max_new_real,
                                  "max_rate_increase": max_rate_increase},
                      latency=latency)


def render_comparison(c: Comparison, console: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    head = Text()
    if c.regressed:
        head.append(f"✗ REGRESSION from {c.a} to {c.b}\n", style="bold red")
        for r in c.regressions:
            head.append(f"  • {r}\n")
    else:
        head.append(f"✓ no regression from {c.a} to {c.b} "
                    f"(new real ≤ {int(c.thresholds['max_new_real'])}, rates up by ≤ "
                    f"{100 * c.thresholds['max_rate_increase']:.3f} points)\n",
                    style="bold green")
    head.append(f"  judged {c.a_judged:,} → {c.b_judged:,} · verdict on the candidate "
                f"{c.a_status} → {c.b_status}")
    console.print(head)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col, justify in (("what", "left"), (c.a, "right"), (c.b, "right"),
                         ("change", "right"), ("", "left")):
        table.add_column(col, justify=justify, no_wrap=col == "what")  # type: ignore[arg-type]
    for ch in c.changes:
        def cell(rate: float, count: int | None) -> str:
            return f"{count:,} ({100 * rate:.3f}%)" if count is not None else f"{rate:.4f}"

        style = "bold red" if ch.regression else ("green" if ch.delta < 0 and
                                                  ch.what.startswith(("real", "candidate"))
                                                  else "")
        table.add_row(ch.what, cell(ch.a, ch.a_count), cell(ch.b, ch.b_count),
                      Text(f"{100 * ch.delta:+.3f} pts", style=style),
                      Text(ch.note + (" ← regression" if ch.regression else ""), style=style))
    for ch in c.latency:
        table.add_row(ch.what, f"{ch.a * 1000:.2f} ms", f"{ch.b * 1000:.2f} ms",
                      f"{ch.delta * 1000:+.2f} ms", ch.note)
    console.print()
    console.print(table)
