"""From the store's frames to the report: the aggregates, and whether the candidate is safe
to ship.

:func:`assess` is the verdict on the run.  In order:

1. **NOT SAFE** when the real divergences that count (categories not in
   ``Thresholds.ignore``) exceed ``max_real`` (default 0), or ``max_real_rate`` when that is
   set; or when the candidate left more than ``max_timeout_rate`` (default 1 %) of the
   judged queries unanswered.  A real divergence is decisive however few queries were
   compared: the differ confirmed it by asking again.
2. **NOT ENOUGH DATA** when fewer than ``min_compared`` (default 100) queries were judged.
3. **SAFE TO SHIP** otherwise.

Noise (explained by a normaliser or the measured noise floor), unstable answers (the
reference disagreeing with itself), undecided ones (the confirmation budget spent), the
reference's own timeouts and lower-severity categories (``Thresholds.minor``: by default
``dnssec.ede_code``) never count against the candidate; the reasons say how
many there were, so that a run that compared little is visible as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from harness.differ.classify import rank
from harness.metrics import latency_figures
from reports.examples import examples, qtype_text, rcode_text
from reports.model import (
    Breakdown,
    CategoryCount,
    Dnssec,
    EdeDifference,
    Header,
    Histogram,
    Latency,
    LatencyStats,
    NormaliserCount,
    Place,
    RcodePair,
    Report,
    Safety,
    SideCount,
    TargetInfo,
    Thresholds,
    Verdicts,
    Where,
)
from reports.tables import STATES, Tables, counters, load, sources

__all__ = ["HISTOGRAM_EDGES", "KIND_ORDER", "assess", "build", "meaning", "report"]

KIND_ORDER = ("real", "undecided", "unstable", "timeout", "noise", "equal", "unjudged")
HISTOGRAM_EDGES = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
TOP = 10

_MEANINGS = {
    "equal": "the same answer (IDs and TTL decay aside)",
    "unjudged": "stored without a verdict",
    "timeout": "a side did not answer, even when asked again",
    "format": "the candidate's response does not parse",
    "rcode": "a different response code",
    "question": "the question not echoed back exactly",
    "dnssec.bogus_secure": "validation: bogus on one side, secure on the other",
    "dnssec.bogus_insecure": "validation: bogus on one side, insecure on the other",
    "dnssec.secure_insecure": "validation: secure on one side, insecure on the other",
    "dnssec.ede": "different Extended DNS Error codes",
    "dnssec.ede_code": "another Extended DNS Error code for the same failure (lower severity)",
    "undecided": "a divergence the confirmation budget left unconfirmed (never counted real)",
    "cname.chain": "a different CNAME chain",
    "cname.order": "a CNAME placed after the record it points to",
    "edns.presence": "an OPT record on one side only",
    "edns.version": "a different EDNS version",
    "edns.do": "the DO bit differs",
    "edns.payload": "a different advertised UDP size",
    # the exact judge's categories
    "answer": "different answer records",
    "ad": "the AD flag differs",
    "malformed": "a response does not parse",
    "missing": "the candidate or the reference is missing",
    "references_disagree": "the references disagree among themselves",
}
_WHAT = {
    "data": "different records",
    "rrsig": "different signatures (signer, key or covered type)",
    "ttl": "different TTLs",
    "signature": "other signature bytes or validity, same signer",
    "order": "records in another order",
    "case": "owner names differing in case (0x20)",
}


def meaning(category: str) -> str:
    """A few plain words for ``category``."""
    if category in _MEANINGS:
        return _MEANINGS[category]
    group, _, what = category.partition(".")
    if group == "flags" and what:
        return f"the {what.upper()} flag differs"
    if group in ("answer", "authority", "additional") and what in _WHAT:
        return f"{group} section: {_WHAT[what]}"
    if group == "timeout":
        return f"{what or 'a side'} did not answer"
    return category


def _ignored(category: str, ignore: Sequence[str]) -> bool:
    return any(category == i or category.startswith(i + ".") for i in ignore)


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


# -- safety --------------------------------------------------------------------------------


def assess(verdicts: Verdicts, dnssec: Dnssec, thresholds: Thresholds,
           first_examples: dict[str, int], candidate: str) -> Safety:
    """The run's verdict on the candidate (see the module docstring)."""
    t = thresholds
    judged = verdicts.judged
    real = {c.category: c.count for c in verdicts.categories if c.kind == "real"}
    blocking = {c: n for c, n in sorted(real.items(), key=lambda kv: (rank(kv[0]), kv[0]))
                if not _ignored(c, t.ignore) and not _ignored(c, t.minor)}
    minor = sum(n for c, n in real.items()
                if _ignored(c, t.minor) and not _ignored(c, t.ignore))
    total = sum(blocking.values())
    ignored = sum(real.values()) - total - minor
    cand_timeouts = sum(s.count for s in verdicts.sides
                        if s.kind == "timeout" and s.side in ("candidate", "both"))
    ref_timeouts = sum(s.count for s in verdicts.sides
                       if s.kind == "timeout" and s.side not in ("candidate", "both"))
    unstable = verdicts.by_kind.get("unstable", 0)
    noise = verdicts.by_kind.get("noise", 0)
    rate = total / judged if judged else 0.0
    if t.max_real_rate is not None:
        too_many = total > 0 and rate > t.max_real_rate
        limit = f"limit {100 * t.max_real_rate:.2f}%"
    else:
        too_many = total > t.max_real
        limit = f"limit {_n(t.max_real)}"
    timeout_rate = cand_timeouts / judged if judged else 0.0
    too_slow = judged > 0 and timeout_rate > t.max_timeout_rate
    reasons: list[str] = []
    for category, count in list(blocking.items())[:3]:
        reasons.append(f"{_n(count)} × {category}: {meaning(category)}")
    if len(blocking) > 3:
        rest = list(blocking.items())[3:]
        reasons.append(f"+ {_n(sum(n for _, n in rest))} in {len(rest)} more "
                       f"categor{'y' if len(rest) == 1 else 'ies'} (table below)")
    flips = _dnssec_flips(dnssec, candidate)
    if flips:
        reasons.append("DNSSEC: " + "; ".join(flips[:3]))
    counted = (f"{_n(total)} real in {_n(judged)} compared ({_pct(total, judged)}, {limit})"
               f" · candidate unanswered {_n(cand_timeouts)} ({_pct(cand_timeouts, judged)}, "
               f"limit {100 * t.max_timeout_rate:.2f}%)")
    if ignored:
        counted += f" · {_n(ignored)} real in ignored categories"
    if minor:
        counted += (f" · {_n(minor)} real of lower severity ({', '.join(t.minor)}: "
                    "not blocking)")
    reasons.append(counted)
    undecided = verdicts.by_kind.get("undecided", 0)
    reasons.append(f"not counted: noise {_n(noise)} ({_pct(noise, judged)}) · unstable "
                   f"upstream {_n(unstable)} ({_pct(unstable, judged)}) · reference "
                   f"unanswered {_n(ref_timeouts)}"
                   + (f" · undecided (confirmation budget spent) {_n(undecided)}"
                      if undecided else ""))
    first = next((first_examples[c] for c in blocking if c in first_examples), None)
    if too_many or too_slow:
        status = "not_safe"
        if too_many:
            top = list(blocking)[:3]
            more = f" (+{len(blocking) - 3} more)" if len(blocking) > 3 else ""
            headline = (f"NOT SAFE TO SHIP: {_n(total)} real divergence"
                        f"{'s' if total != 1 else ''} in {', '.join(top)}{more}")
            if too_slow:
                headline += f"; the candidate left {_pct(cand_timeouts, judged)} unanswered"
        else:
            headline = (f"NOT SAFE TO SHIP: the candidate left {_pct(cand_timeouts, judged)} "
                        f"of the queries unanswered (limit {100 * t.max_timeout_rate:.2f}%)")
    elif judged < t.min_compared:
        status = "inconclusive"
        headline = (f"NOT ENOUGH DATA: {_n(judged)} quer{'y' if judged == 1 else 'ies'} "
                    f"compared, at least {_n(t.min_compared)} needed to call it")
    else:
        status = "safe"
        if total:
            headline = (f"SAFE TO SHIP: {_n(total)} real divergence{'s' if total != 1 else ''}"
                        f" in {_n(judged)} compared queries, within the {limit}")
        else:
            headline = f"SAFE TO SHIP: no real divergence in {_n(judged)} compared queries"
    return Safety(status, headline, reasons, blocking, first, t)


def _dnssec_flips(dnssec: Dnssec, candidate: str) -> list[str]:
    """'candidate bogus where kresd says secure (12)' for the real divergences' states."""
    out: list[tuple[int, str]] = []
    states = dnssec.states
    for i, c in enumerate(states):
        for j, r in enumerate(states):
            n = dnssec.real[i][j] if i < len(dnssec.real) else 0
            if not n or c == r or "none" in (c, r) or "indeterminate" in (c, r):
                continue
            out.append((n, f"{candidate} {c} where {dnssec.reference} says {r} ({_n(n)})"))
    return [text for _, text in sorted(out, key=lambda x: -x[0])]


# -- aggregates ----------------------------------------------------------------------------


def _header(t: Tables) -> Header:
    run = t.run
    duration = None
    if run.finished_at is not None:
        duration = run.finished_at - run.started_at
    targets = [TargetInfo(t.candidate, "candidate",
                          str((run.versions or {}).get(t.candidate, "")))]
    targets += [TargetInfo(r, "reference", str((run.versions or {}).get(r, "")))
                for r in t.references]
    return Header(run_id=run.id, store=str(t.path), status=run.status,
                  started_at=run.started_at, finished_at=run.finished_at, duration=duration,
                  sources=sources(run), targets=targets, counters=counters(run),
                  stored=t.stored, judged=t.judged, runs=t.run_ids)


def _verdicts(t: Tables) -> Verdicts:
    judged = t.judged
    rows: list[CategoryCount] = []
    cats = t.categories
    for kind in [*KIND_ORDER, *sorted(set(cats["kind"]) - set(KIND_ORDER))]:
        if kind == "equal":
            n = t.kinds.get("equal", 0)
            if n:
                rows.append(CategoryCount("equal", "equal", n, n / judged if judged else 0.0,
                                          meaning("equal")))
            continue
        mine = cats[cats["kind"] == kind]
        items = [(str(c), int(n)) for c, n in zip(mine["category"], mine["n"], strict=True)]
        if kind == "real":
            items.sort(key=lambda x: (rank(x[0]), x[0]))
        else:
            items.sort(key=lambda x: (-x[1], x[0]))
        rows += [CategoryCount(kind, c, n, n / judged if judged else 0.0, meaning(c))
                 for c, n in items]
    unjudged = t.stored - judged
    if unjudged > 0:
        rows.append(CategoryCount("unjudged", "unjudged", unjudged, 0.0, meaning("unjudged")))
    norms: list[NormaliserCount] = []
    frame = t.normalisers
    for name in sorted(set(frame["normaliser"])):
        mine = frame[frame["normaliser"] == name]
        cat_count: dict[str, int] = {}
        for cs, n in zip(mine["categories"], mine["verdicts"], strict=True):
            for c in cs:
                cat_count[c] = cat_count.get(c, 0) + int(n)
        norms.append(NormaliserCount(
            normaliser=name, queries=int(mine["verdicts"].sum()),
            noise=int(mine.loc[mine["kind"] == "noise", "verdicts"].sum()),
            differences=int(mine["differences"].sum()),
            categories=[c for c, _ in sorted(cat_count.items(), key=lambda x: (-x[1], x[0]))]))
    norms.sort(key=lambda n: (-n.queries, n.normaliser))
    sides = [SideCount(str(k), str(s), int(n))
             for k, s, n in zip(t.sides["kind"], t.sides["side"], t.sides["n"], strict=True)]
    sides.sort(key=lambda s: (s.kind, -s.count))
    return Verdicts(judged=judged, by_kind=dict(t.kinds), categories=rows, normalisers=norms,
                    sides=sides)


def _matrix(frame: pd.DataFrame) -> list[list[int]]:
    n = len(STATES)
    out = np.zeros((n, n), dtype=np.int64)
    if len(frame):
        c = frame["c_state"].to_numpy(dtype=np.int64)
        r = frame["r_state"].to_numpy(dtype=np.int64)
        np.add.at(out, (c, r), 1)
    return [[int(x) for x in row] for row in out]


def _dnssec(t: Tables) -> Dnssec:
    judged = t.per_obs[t.per_obs["kind"] != "unjudged"]
    real = t.per_obs[t.per_obs["kind"] == "real"]
    ede = [EdeDifference(str(k), str(c), str(r), int(n)) for k, c, r, n in
           zip(t.ede["kind"], t.ede["candidate"], t.ede["reference"], t.ede["n"], strict=True)]
    ede.sort(key=lambda e: (e.kind != "real", -e.count))
    return Dnssec(reference=t.reference, states=list(STATES), matrix=_matrix(judged),
                  real=_matrix(real), ede=ede)


def _places(frame: pd.DataFrame, column: str, total: int) -> list[Place]:
    if frame.empty:
        return []
    out = []
    counts = frame.groupby(column, sort=False).size().sort_values(ascending=False,
                                                                  kind="stable")
    for name, n in counts.head(TOP).items():
        mine = frame[frame[column] == name]
        top = mine["category"].value_counts()
        top_category = str(min(top[top == top.max()].index, key=lambda c: (rank(c), c)))
        out.append(Place(str(name), int(n), int(n) / total if total else 0.0, top_category,
                         str(mine["qname"].iloc[0])))
    return out


def _breakdown(per_obs: pd.DataFrame, column: str, label: dict[int, str],
               divergent_top: dict[int, str]) -> list[Breakdown]:
    judged = per_obs[per_obs["kind"] != "unjudged"]
    if judged.empty:
        return []
    kind = judged["kind"]
    table = pd.DataFrame({"key": judged[column].to_numpy(),
                          "real": (kind == "real").to_numpy(dtype=bool),
                          "noise": (kind == "noise").to_numpy(dtype=bool)})
    g = table.groupby("key").agg(compared=("real", "size"), real=("real", "sum"),
                                 noise=("noise", "sum"))
    g = g.sort_values(["real", "compared"], ascending=False, kind="stable")
    out = []
    for key, row in g.head(TOP).iterrows():
        k = int(key)
        compared = int(row["compared"])
        out.append(Breakdown(label.get(k, str(k)), compared, int(row["real"]),
                             int(row["noise"]), int(row["real"]) / compared if compared else 0.0,
                             divergent_top.get(k, "")))
    return out


def _rcode_label(code: int) -> str:
    if code == -1:
        return "no response"
    if code < 0:
        return "unreadable"
    return rcode_text(code)


def _where(t: Tables) -> Where:
    div = t.divergent
    total = len(div)
    per_obs = t.per_obs
    qtypes = sorted(set(int(q) for q in np.unique(per_obs["qtype"].to_numpy())))
    qlabel = {q: qtype_text(q) for q in qtypes}
    real = per_obs[per_obs["kind"] == "real"]
    top_q: dict[int, str] = {}
    if not div.empty:
        for q, group in div.groupby("qtype"):
            counts = group["category"].value_counts()
            top_q[int(q)] = str(min(counts[counts == counts.max()].index,
                                    key=lambda c: (rank(c), c)))
    top_r: dict[int, str] = {}
    if len(real):
        for code, group in real.groupby("r_rcode"):
            counts = group["category"].astype(str).value_counts()
            top_r[int(code)] = str(min(counts[counts == counts.max()].index,
                                       key=lambda c: (rank(c), c)))
    rcodes = sorted(set(int(r) for r in np.unique(per_obs["r_rcode"].to_numpy())))
    rlabel = {r: _rcode_label(r) for r in rcodes}
    pairs: list[RcodePair] = []
    if len(real):
        g = real.groupby(["c_rcode", "r_rcode"]).size().sort_values(ascending=False,
                                                                    kind="stable")
        for (c, r), n in g.head(TOP).items():
            pairs.append(RcodePair(_rcode_label(int(c)), _rcode_label(int(r)), int(n)))
    return Where(domains=_places(div, "domain", total), zones=_places(div, "zone", total),
                 qtypes=_breakdown(per_obs, "qtype", qlabel, top_q),
                 rcodes=_breakdown(per_obs, "r_rcode", rlabel, top_r), rcode_pairs=pairs)


def _latency(t: Tables) -> Latency:
    stats = []
    counts: dict[str, list[int]] = {}
    edges = np.array(HISTOGRAM_EDGES)
    for target, values in t.latency.items():
        # the run summary's definition (numpy only adds the values up)
        figures = latency_figures(values, len(values), total=float(values.sum()))
        stats.append(LatencyStats(
            target=target, answered=int(len(values)), no_response=t.errors.get(target, 0),
            p50=figures["p50"], p90=figures["p90"], p99=figures["p99"],
            mean=figures["mean"]))
        cuts = np.searchsorted(values, edges, side="right")
        counts[target] = [int(x) for x in np.diff(np.concatenate(([0], cuts, [len(values)])))]
    return Latency(stats, Histogram(list(HISTOGRAM_EDGES), counts))


def build(t: Tables, thresholds: Thresholds | None = None, *,
          examples_per_category: int = 2) -> Report:
    """The report on ``t``'s run."""
    thresholds = thresholds or Thresholds()
    verdicts = _verdicts(t)
    dnssec = _dnssec(t)
    real_order = [c.category for c in verdicts.categories if c.kind == "real"]
    shown = examples(t.path, t.run, t.candidate, t.reference, examples_per_category,
                     real_order) if t.reference else []
    first: dict[str, int] = {}
    for e in shown:
        first.setdefault(e.category, e.id)
    if not first and real_order and t.reference:  # none shown (--examples 0): still name one
        for e in examples(t.path, t.run, t.candidate, t.reference, 1, real_order):
            first.setdefault(e.category, e.id)
    safety = assess(verdicts, dnssec, thresholds, first, t.candidate)
    return Report(header=_header(t), safety=safety, verdicts=verdicts, dnssec=dnssec,
                  where=_where(t), latency=_latency(t), examples=shown, notes=list(t.notes))


def report(path: Path, run: int | None = None, thresholds: Thresholds | None = None, *,
           examples_per_category: int = 2) -> Report:
    """Load the run from the store at ``path`` and build its report."""
    return build(load(path, run), thresholds, examples_per_category=examples_per_category)
