"""The short divergence summary a run prints when it ends (the full report is ``reports/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.rdatatype

from harness.evidence import Evidence
from harness.store import StoreReader

__all__ = ["summary_lines"]

SKIPPED = ("malformed", "bad_frames", "truncated", "corrupt", "refused_source", "oversized",
           "handshake_errors", "undecodable")


def _evidence(evidence: Evidence, width: int = 110) -> str:
    text = " | ".join(f"{k.replace('_', ' ')}: {v}" for k, v in evidence.to_json().items()
                      if isinstance(v, str))
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_lines(status: dict[str, Any], store_path: Path, *, latest: int = 8) -> list[str]:
    """What the run did, whether its counts add up, and its top and latest divergences."""
    c = status["counters"]
    run_id = status.get("run_id")
    unaccounted = status.get("unaccounted", {})
    sound = all(v == 0 for v in unaccounted.values())
    lines = [
        f"shadow run {run_id}: seen {c['seen']}, sampled {c['sampled']}, compared "
        f"{c['compared']}, dropped {c['dropped']}, shed {c['shed']}, filtered {c['filtered']}, "
        f"unsampled {c['unsampled']}, duplicate {c['duplicate']}, failed {c['failed']} "
        + ("(counts add up)" if sound else f"(counts do NOT add up: {unaccounted})"),
    ]
    intake_bad: dict[str, int] = {}
    for stats in status.get("intakes", {}).values():
        for k, v in stats.items():
            if k in SKIPPED and v:
                intake_bad[k] = intake_bad.get(k, 0) + int(v)
    if intake_bad:
        lines.append("skipped at intake: " + ", ".join(f"{k} {v}" for k, v in intake_bad.items()))
    staging = c.get("staging_matched", 0)
    if staging:
        lines.append(f"staging resolver's own answers kept: {staging}")
    verdicts = status.get("verdicts", {})
    compared = c["compared"] or 0
    real = verdicts.get("real", 0)
    if verdicts:
        lines.append("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    lines.append(f"divergence rate: {100 * real / compared:.1f}% ({real} of {compared})"
                 if compared else "divergence rate: - (nothing compared)")
    categories = status.get("categories", {})
    if categories:
        lines.append("top categories: " + ", ".join(
            f"{k} {v}" for k, v in list(categories.items())[:6]))
    if run_id is None or not store_path.exists():
        return lines
    reader = StoreReader(store_path)
    try:
        latencies = reader.latency_figures(run_id)
        rows = reader.divergences(run_id, limit=latest) if latest > 0 else []
        stored = reader.count(run_id)
    finally:
        reader.close()
    # The stored answers, by the report's definition (harness.metrics.latency_figures): the
    # same figures `shadowdns report` gives for this run.
    for target in status.get("latency", {}) or latencies:
        figures = latencies.get(target, {})
        p50, p99 = figures.get("p50"), figures.get("p99")
        if p50 is not None and p99 is not None:
            lines.append(f"latency {target}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    if latest > 0:
        if not rows:
            lines.append("latest divergences: none")
        else:
            lines.append("latest divergences:")
        for row in rows:
            qtype = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(row["qtype"]))
            lines.append(f"  #{row['id']} {row['qname']} {qtype} [{row['category']}] "
                         + _evidence(row["evidence"]))
    lines.append(f"store: {store_path} ({stored} observations in run {run_id})")
    return lines
