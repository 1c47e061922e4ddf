"""Exports: ``--format json|csv|parquet|markdown``.

* ``json``: the whole report, :meth:`reports.model.Report.to_dict` (the documented, stable
  shape: docs/REPORT.md).  ``report compare`` reads it back.
* ``markdown``: the report's sections as Markdown tables, for a CI summary or a ticket.
* ``csv`` and ``parquet``: the divergences as rows, one per judged observation that is not
  ``equal`` (every observation with ``all_verdicts``), with the columns of
  :data:`ROW_COLUMNS`, for a spreadsheet or a notebook.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.differ.normalise import domain_of
from harness.timefmt import LATENCY_DECIMALS_MS, iso_utc
from reports.examples import qtype_text, rcode_text
from reports.model import Report
from reports.tables import STATES, Tables, connect

__all__ = ["FORMATS", "ROW_COLUMNS", "divergence_rows", "to_json", "to_markdown",
           "write_rows"]

FORMATS = ("text", "json", "csv", "parquet", "markdown")
ROW_COLUMNS = ("run_id", "observation_id", "seen_at", "qname", "qtype", "kind", "category",
               "categories", "explained_by", "candidate_rcode", "reference_rcode",
               "candidate_dnssec", "reference_dnssec", "candidate_latency_ms",
               "reference_latency_ms", "registered_domain")


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=1, sort_keys=False) + "\n"


# -- rows ----------------------------------------------------------------------------------


def divergence_rows(t: Tables, *, all_verdicts: bool = False) -> pd.DataFrame:
    """One row per non-equal verdict of the run (or per observation), columns
    :data:`ROW_COLUMNS`; ``categories`` and ``explained_by`` joined with ``;``."""
    db = connect(t.path)
    try:
        return _rows(db, t, all_verdicts)
    finally:
        db.close()


def _rows(db: sqlite3.Connection, t: Tables, all_verdicts: bool) -> pd.DataFrame:
    rid = t.run.id
    if all_verdicts:
        sql = ("SELECT o.id, o.seen_at, o.qname, ifnull(v.categories, '[]'), "
               "ifnull(v.explained_by, '[]') FROM observations o LEFT JOIN verdicts v "
               "ON v.observation_id = o.id WHERE o.run_id=? ORDER BY o.id")
    else:
        sql = ("SELECT o.id, o.seen_at, o.qname, v.categories, v.explained_by "
               "FROM verdicts v JOIN observations o ON o.id = v.observation_id "
               "WHERE v.run_id=? AND v.kind != 'equal' ORDER BY o.id")
    base = pd.DataFrame(db.execute(sql, (rid,)).fetchall(),
                        columns=["observation_id", "seen_at", "qname", "categories",
                                 "explained_by"])
    per = t.per_obs.reindex(base["observation_id"].to_numpy())
    states = np.array(STATES, dtype=object)
    out = pd.DataFrame({
        "run_id": np.full(len(base), rid, dtype=np.int64),
        "observation_id": base["observation_id"].astype(np.int64),
        "seen_at": [iso_utc(float(x)) for x in base["seen_at"]],
        "qname": base["qname"].astype(str),
        "qtype": [qtype_text(int(q)) for q in per["qtype"].to_numpy()],
        "kind": per["kind"].astype(str).to_numpy(),
        "category": per["category"].astype(str).to_numpy(),
        "categories": [";".join(_list(c)) for c in base["categories"]],
        "explained_by": [";".join(_list(c)) for c in base["explained_by"]],
        "candidate_rcode": _rcodes(per["c_rcode"].to_numpy()),
        "reference_rcode": _rcodes(per["r_rcode"].to_numpy()),
        "candidate_dnssec": states[per["c_state"].to_numpy(dtype=np.int64)],
        "reference_dnssec": states[per["r_state"].to_numpy(dtype=np.int64)],
        "candidate_latency_ms": _latency_column(per["c_latency"]),
        "reference_latency_ms": _latency_column(per["r_latency"]),
    })
    names = out["qname"].str.lower()
    domains = {n: domain_of(n) for n in names.unique()}
    out["registered_domain"] = names.map(domains)
    return out.reset_index(drop=True)


def _latency_column(seconds: pd.Series) -> Any:
    """Seconds as milliseconds to the microsecond (harness.timefmt); NaN: no answer."""
    return np.round(seconds.to_numpy(dtype=float) * 1000, LATENCY_DECIMALS_MS)


def _list(text: object) -> list[str]:
    try:
        value = json.loads(str(text))
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _rcodes(values: Any) -> list[str]:
    labels: dict[int, str] = {}
    out = []
    for v in values:
        k = int(v)
        if k not in labels:
            labels[k] = ("" if k == -1 else "unreadable" if k < 0 else rcode_text(k))
        out.append(labels[k])
    return out


def write_rows(frame: pd.DataFrame, fmt: str, path: Path) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(f"not a row format: {fmt}")


# -- markdown --------------------------------------------------------------------------------


def _md_table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right or set()

    def cell(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in head) + " |",
             "| " + " | ".join("---:" if i in right else "---" for i in range(len(head)))
             + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _n(v: int) -> str:
    return f"{v:,}"


def _p(rate: float) -> str:
    return f"{100 * rate:.2f}%"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.2f} ms"


def to_markdown(r: Report) -> str:
    h = r.header
    s = r.safety
    mark = {"safe": "✅", "not_safe": "❌", "inconclusive": "⚠️"}[s.status]
    parts = [f"# shadowdns report: run {h.run_id}", "", f"**{mark} {s.headline}**", ""]
    parts += [f"- {reason}" for reason in s.reasons]
    if s.first_example is not None:
        parts.append(f"- details: `shadowdns report explain {s.first_example}`")
    when = dt.datetime.fromtimestamp(h.started_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    c = h.counters
    parts += ["", "## Run", "",
              _md_table(["", ""], [
                  ["run", f"{h.run_id} ({h.status}), {when}, "
                          + (f"{h.duration:.1f} s" if h.duration is not None else "running")],
                  ["store", f"`{h.store}`"],
                  ["sources", ", ".join(h.sources) or "-"],
                  ["targets", "; ".join(f"{t.name} ({t.role}) {t.version}".strip()
                                        for t in h.targets)],
                  ["queries", ", ".join(f"{k} {_n(c[k])}" for k in
                                        ("seen", "sampled", "compared", "dropped") if k in c)
                   + f", stored {_n(h.stored)}, judged {_n(h.judged)}"],
              ])]
    parts += ["", "## Verdicts", "",
              _md_table(["verdict", "category", "queries", "%", "meaning"],
                        [[x.kind, x.category, _n(x.count), _p(x.rate), x.meaning]
                         for x in r.verdicts.categories], {2, 3})]
    if r.verdicts.normalisers:
        parts += ["", "### Noise, by normaliser", "",
                  _md_table(["normaliser", "queries", "of them noise", "differences absorbed",
                             "categories"],
                            [[x.normaliser, _n(x.queries), _n(x.noise), _n(x.differences),
                              ", ".join(x.categories)] for x in r.verdicts.normalisers],
                            {1, 2, 3})]
    if r.verdicts.sides:
        parts += ["", "### Unstable answers and timeouts", "",
                  _md_table(["verdict", "side", "queries"],
                            [[x.kind, x.side, _n(x.count)] for x in r.verdicts.sides], {2})]
    d = r.dnssec
    cand = h.targets[0].name if h.targets else "candidate"
    parts += ["", "## DNSSEC", "",
              f"State of each judged query: {cand} (rows) × {d.reference} (columns); real "
              "divergences in brackets.", "",
              _md_table([f"{cand} \\ {d.reference}", *d.states],
                        [[d.states[i], *(_n(d.matrix[i][j]) + (f" [{_n(d.real[i][j])}]"
                                                               if d.real[i][j] else "")
                                         for j in range(len(d.states)))]
                         for i in range(len(d.states))],
                        set(range(1, len(d.states) + 1)))]
    if d.ede:
        parts += ["", _md_table(["verdict", f"{cand} EDE", f"{d.reference} EDE", "queries"],
                                [[e.kind, e.candidate, e.reference, _n(e.count)]
                                 for e in d.ede], {3})]
    w = r.where
    parts += ["", "## Where"]
    sections = [("Registered domains", w.domains),
                ("Zones (as the answers name them)", w.zones)]
    if w.zones_repeat_domains():
        sections = [("Registered domains = zones", w.domains)]
    for title, places in sections:
        if places:
            parts += ["", f"### {title}", "",
                      _md_table(["name", "real", "% of real", "top category", "e.g."],
                                [[p.name, _n(p.real), _p(p.share), p.top_category, p.example]
                                 for p in places], {1, 2})]
    for title, rows in (("By qtype", w.qtypes), ("By the reference's rcode", w.rcodes)):
        if rows:
            parts += ["", f"### {title}", "",
                      _md_table(["key", "compared", "noise", "real", "real rate",
                                 "top real category"],
                                [[b.key, _n(b.compared), _n(b.noise), _n(b.real), _p(b.rate),
                                  b.top_category] for b in rows], {1, 2, 3, 4})]
    parts += ["", "## Latency", "",
              _md_table(["target", "answered", "no response", "p50", "p90", "p99", "mean"],
                        [[x.target, _n(x.answered), _n(x.no_response), _ms(x.p50), _ms(x.p90),
                          _ms(x.p99), _ms(x.mean)] for x in r.latency.targets],
                        {1, 2, 3, 4, 5, 6})]
    if r.examples:
        parts += ["", "## Examples"]
        for e in r.examples:
            parts += ["", f"### #{e.id} {e.qname} {e.qtype}: {e.kind} {e.category}", ""]
            parts += [f"- {d}" for d in e.details]
            for label, lines in ((cand, e.candidate_lines), (e.reference, e.reference_lines)):
                parts += ["", f"{label} (`-` marks lines the other side lacks):", "", "```"]
                parts += [("- " if line.differs else "  ") + line.text for line in lines]
                parts.append("```")
    if r.notes:
        parts += ["", *[f"_note: {n}_" for n in r.notes]]
    return "\n".join(parts) + "\n"
