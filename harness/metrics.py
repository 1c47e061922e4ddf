"""The pipeline's counters and latency figures, and their Prometheus text exposition.

Counters only grow.  They add up (checked by :meth:`Metrics.unaccounted`)::

    seen    = filtered + unsampled + shed + duplicate + sampled
    sampled = dropped + rate_capped + compared + failed + in_flight

``seen`` counts the queries the intakes read (what they could not read is in their own
``malformed`` and similar counters); ``dropped`` are sampled queries the saturated dispatcher
could not take; ``rate_capped`` those not sent because a target's outbound rate cap
(``--target-qps``) had no token left (per target in ``capped``); ``shed`` those the sampler
left out while sampling down under load.
"""

from __future__ import annotations

import bisect
import collections
import math
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from harness.timefmt import latency_s

__all__ = ["COUNTERS", "QUANTILES", "LatencyWindow", "Metrics", "latency_figures",
           "nearest_rank", "percentile"]

COUNTERS = ("seen", "filtered", "unsampled", "shed", "duplicate", "sampled", "dropped",
            "rate_capped",
            "compared", "failed", "staging_matched", "staging_unmatched", "judge_errors",
            "store_overflow")

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyWindow:
    """Recent latencies for quantiles, plus a cumulative histogram for Prometheus."""

    def __init__(self, size: int = 4096) -> None:
        self.recent: collections.deque[float] = collections.deque(maxlen=size)
        self.buckets = [0] * len(BUCKETS)
        self.count = 0
        self.sum = 0.0

    def add(self, seconds: float) -> None:
        self.recent.append(seconds)
        self.count += 1
        self.sum += seconds
        i = bisect.bisect_left(BUCKETS, seconds)
        if i < len(self.buckets):
            self.buckets[i] += 1

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile of the recent latencies (:func:`percentile`), for the live view
        and the API; the figures a run ends with are :func:`latency_figures` of the store."""
        return percentile(sorted(self.recent), q)


QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


def nearest_rank(q: float, n: int) -> int:
    """The 1-based rank of the ``q`` quantile of ``n`` sorted values by the nearest-rank
    method: the smallest value with at least ``q`` of the values at or below it (numpy's
    ``inverted_cdf``).  No interpolation: the quantile is always a latency that was measured.
    p50 of 104 values is the 52nd."""
    rank = math.ceil(q * n - 1e-9)  # the epsilon absorbs 0.07 * 100 = 7.000000000000001
    return min(max(rank, 1), n)


@runtime_checkable
class Sorted(Protocol):
    """Latencies sorted ascending, held at once: a list, or the report's numpy array."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> Any: ...


def percentile(ordered: Sorted, q: float) -> float | None:
    """The ``q`` quantile of ``ordered`` (sorted ascending, :func:`nearest_rank`); None for
    no values."""
    n = len(ordered)
    return float(ordered[nearest_rank(q, n) - 1]) if n else None


def latency_figures(ordered: Sorted | Iterable[float], n: int, *,
                    total: float | None = None) -> dict[str, float | None]:
    """p50, p90, p99 (:func:`nearest_rank`) and mean of ``n`` latencies in seconds, given
    sorted ascending, each to the microsecond (:func:`harness.timefmt.latency_s`); None
    without values.  ``ordered`` is held at once (a list, an array: read by index) or an
    iterator that is read once (a store's ordered rows streaming through); ``total``, their
    sum where the caller has it already.

    The one definition the run summary (:meth:`harness.store.StoreReader.latency_figures`)
    and the report (``reports.summary``) use.  The population is every answer with a
    response that a target gave to a run's stored observations, first asks only (the
    differ's re-queries are evidence, not load)."""
    picked: dict[str, float | None] = dict.fromkeys(QUANTILES)
    if isinstance(ordered, Sorted):
        if len(ordered) != n:
            raise ValueError(f"latency_figures: {len(ordered)} values, {n} announced")
        picked = {key: percentile(ordered, q) for key, q in QUANTILES.items()}
        if total is None:
            total = math.fsum(ordered[i] for i in range(n))
    else:
        ranks = {nearest_rank(q, n): key for key, q in QUANTILES.items()} if n else {}
        seen = 0

        def walk() -> Iterator[float]:
            nonlocal seen
            for value in ordered:
                seen += 1
                key = ranks.get(seen)
                if key is not None:
                    picked[key] = float(value)
                yield float(value)

        streamed = math.fsum(walk())
        if seen != n:
            raise ValueError(f"latency_figures: {seen} values, {n} announced")
        total = streamed if total is None else total
    out = {key: latency_s(value) for key, value in picked.items()}
    out["mean"] = latency_s(total / n) if n else None
    return out


class Metrics:
    """Everything the live view, the API and ``/metrics`` show."""

    def __init__(self, targets: Iterable[str] = ()) -> None:
        self.started = time.time()
        self.counters: collections.Counter[str] = collections.Counter({c: 0 for c in COUNTERS})
        self.verdicts: collections.Counter[str] = collections.Counter()
        self.categories: collections.Counter[str] = collections.Counter()
        self.latency: dict[str, LatencyWindow] = {t: LatencyWindow() for t in targets}
        self.errors: dict[str, collections.Counter[str]] = {t: collections.Counter()
                                                            for t in targets}
        self.capped: collections.Counter[str] = collections.Counter()  # rate cap, per target
        self.in_flight = 0
        self.capacity = 0
        self.sample_scale = 1.0
        self.intakes: dict[str, collections.Counter[str]] = {}
        self.judge: collections.Counter[str] | None = None
        """The judge's own counters (the differ's ``stats``), when it keeps them."""

    def answer(self, target: str, latency: float | None, error: str | None) -> None:
        if error is not None:
            kind = error.split(":", 1)[0]
            self.errors.setdefault(target, collections.Counter())[kind] += 1
        elif latency is not None:
            self.latency.setdefault(target, LatencyWindow()).add(latency)

    def unaccounted(self) -> dict[str, int]:
        """How far the identities in the module docstring are off (all zero when sound)."""
        c = self.counters
        return {
            "seen": c["seen"] - (c["filtered"] + c["unsampled"] + c["shed"] + c["duplicate"]
                                 + c["sampled"]),
            "sampled": c["sampled"] - (c["dropped"] + c["rate_capped"] + c["compared"]
                                       + c["failed"] + self.in_flight),
        }

    def intake_totals(self) -> collections.Counter[str]:
        total: collections.Counter[str] = collections.Counter()
        for stats in self.intakes.values():
            total.update(stats)
        return total

    def snapshot(self) -> dict[str, object]:
        """Plain data: counters, verdicts, categories, latencies, intakes."""
        return {
            "uptime": time.time() - self.started,
            "counters": dict(self.counters),
            "in_flight": self.in_flight,
            "capacity": self.capacity,
            "sample_scale": self.sample_scale,
            "verdicts": dict(self.verdicts),
            "categories": dict(self.categories.most_common()),
            "latency": {t: {"p50": w.quantile(0.5), "p99": w.quantile(0.99), "count": w.count}
                        for t, w in self.latency.items()},
            "errors": {t: dict(e) for t, e in self.errors.items()},
            "rate_capped": dict(self.capped),
            "intakes": {name: dict(stats) for name, stats in self.intakes.items()},
            "unaccounted": self.unaccounted(),
        }

    def prometheus(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        metric("shadowdns_queries_total", "counter",
               "Queries by pipeline stage outcome (seen, sampled, compared, dropped, ...).")
        for key in sorted(self.counters):
            lines.append(f'shadowdns_queries_total{{stage="{key}"}} {self.counters[key]}')
        metric("shadowdns_rate_capped_total", "counter",
               "Sampled queries not sent because this target's rate cap had no token.")
        for key in sorted(self.capped):
            lines.append(f'shadowdns_rate_capped_total{{target="{prometheus_label(key)}"}} '
                         f"{self.capped[key]}")
        metric("shadowdns_in_flight", "gauge", "Sampled queries being resolved and judged.")
        lines.append(f"shadowdns_in_flight {self.in_flight}")
        metric("shadowdns_sample_scale", "gauge",
               "Factor applied to the sampling probability under load (1: none).")
        lines.append(f"shadowdns_sample_scale {self.sample_scale}")
        metric("shadowdns_verdicts_total", "counter", "Judged observations by verdict kind.")
        for key in sorted(self.verdicts):
            lines.append(f'shadowdns_verdicts_total{{kind="{prometheus_label(key)}"}} '
                         f"{self.verdicts[key]}")
        metric("shadowdns_divergences_total", "counter", "Real divergences by category.")
        for key in sorted(self.categories):
            lines.append(f'shadowdns_divergences_total{{category="{prometheus_label(key)}"}} '
                         f"{self.categories[key]}")
        if self.judge is not None:
            judge = self.judge
            metric("shadowdns_confirmation_requeries_total", "counter",
                   "Re-queries the differ sent to confirm divergences (the budgeted traffic).")
            lines.append(f"shadowdns_confirmation_requeries_total {judge['requeries']}")
            metric("shadowdns_authority_queries_total", "counter",
                   "Of those, queries sent to authoritative servers (the authority sweep).")
            lines.append(f"shadowdns_authority_queries_total {judge['authority_queries']}")
            metric("shadowdns_confirmation_budget_exhausted_total", "counter",
                   "Judgements left undecided because the re-query budget was spent.")
            lines.append(f"shadowdns_confirmation_budget_exhausted_total "
                         f"{judge['budget_exhausted']}")
            metric("shadowdns_differ_verdicts_total", "counter", "The differ's verdicts by kind.")
            for key in sorted(k for k in judge if k.startswith("verdict_")):
                kind = prometheus_label(key[8:])
                lines.append(f'shadowdns_differ_verdicts_total{{kind="{kind}"}} {judge[key]}')
        metric("shadowdns_intake_events_total", "counter", "Intake counters by intake.")
        for name in sorted(self.intakes):
            for key, value in sorted(self.intakes[name].items()):
                lines.append(f'shadowdns_intake_events_total{{intake="{prometheus_label(name)}",'
                             f'event="{prometheus_label(key)}"}} {value}')
        metric("shadowdns_target_errors_total", "counter", "Failed exchanges by target.")
        for target in sorted(self.errors):
            for key, value in sorted(self.errors[target].items()):
                lines.append(f'shadowdns_target_errors_total{{target="{prometheus_label(target)}",'
                             f'error="{prometheus_label(key)}"}} {value}')
        metric("shadowdns_target_latency_seconds", "histogram", "Answer latency by target.")
        for target in sorted(self.latency):
            window = self.latency[target]
            label = f'target="{prometheus_label(target)}"'
            cumulative = 0
            for bound, count in zip(BUCKETS, window.buckets, strict=True):
                cumulative += count
                lines.append(f'shadowdns_target_latency_seconds_bucket{{{label},le="{bound}"}} '
                             f"{cumulative}")
            lines.append(f'shadowdns_target_latency_seconds_bucket{{{label},le="+Inf"}} '
                         f"{window.count}")
            lines.append(f"shadowdns_target_latency_seconds_sum{{{label}}} {window.sum}")
            lines.append(f"shadowdns_target_latency_seconds_count{{{label}}} {window.count}")
        return "\n".join(lines) + "\n"


def prometheus_label(value: str) -> str:
    """``value`` escaped for a label value of the Prometheus text format."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
