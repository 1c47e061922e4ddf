"""The report as plain data: what the terminal shows, the exports write and ``compare`` reads.

:class:`Report` is built by :func:`reports.summary.build` from the store's frames.  Its JSON
form (:meth:`Report.to_dict`) is the documented, stable shape of ``--format json``
(docs/REPORT.md): ``format`` is ``"shadowdns-report"``, ``version`` is
:data:`REPORT_VERSION`; fields are only ever added within a version.  Times are Unix seconds,
latencies seconds, rates fractions (0.005 is 0.5 %).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "FORMAT",
    "REPORT_VERSION",
    "Breakdown",
    "CategoryCount",
    "Dnssec",
    "EdeDifference",
    "Example",
    "Header",
    "Histogram",
    "Latency",
    "LatencyStats",
    "Line",
    "NormaliserCount",
    "Place",
    "RcodePair",
    "Report",
    "Safety",
    "SideCount",
    "TargetInfo",
    "Thresholds",
    "Verdicts",
    "Where",
    "from_dict",
]

FORMAT = "shadowdns-report"
REPORT_VERSION = 1


@dataclass
class TargetInfo:
    name: str
    role: str  # "candidate" | "reference" (the first reference is the one compared against)
    version: str


@dataclass
class Header:
    run_id: int
    store: str
    status: str  # the run's: running | finished | aborted | failed
    started_at: float
    finished_at: float | None
    duration: float | None  # seconds; for a running run, until the last stored observation
    sources: list[str]
    targets: list[TargetInfo]
    counters: dict[str, int]  # the pipeline's: seen, sampled, compared, dropped, ...
    stored: int  # observations in the store for this run
    judged: int  # of them, with a verdict
    runs: list[int]  # every run in the store


MINOR_CATEGORIES = ("dnssec.ede_code",)
"""Real divergences that do not fail "safe to ship" by default: only the Extended DNS Error
code differs, with the same rcode and DNSSEC outcome on both sides (implementations pick
different codes for one failure)."""


@dataclass
class Thresholds:
    """When the candidate is called safe to ship."""

    max_real: int = 0
    """Real divergences tolerated (outside ``ignore``)."""
    max_real_rate: float | None = None
    """If set, a rate of real divergences tolerated instead of ``max_real`` (0.001: 0.1 %)."""
    max_timeout_rate: float = 0.01
    """Share of compared queries the candidate may leave unanswered."""
    min_compared: int = 100
    """Fewer judged queries than this, and no divergence: not enough data to say."""
    ignore: list[str] = field(default_factory=list)
    """Categories (or groups: ``edns`` covers ``edns.payload``) that do not block."""
    minor: list[str] = field(default_factory=lambda: list(MINOR_CATEGORIES))
    """Lower-severity categories: shown, counted apart, never blocking (empty: they block
    like any other)."""


@dataclass
class Safety:
    status: str  # "safe" | "not_safe" | "inconclusive"
    headline: str
    reasons: list[str]
    blocking: dict[str, int]  # real divergences that count, by category
    first_example: int | None  # an observation ID worth ``report explain``
    thresholds: Thresholds


@dataclass
class CategoryCount:
    kind: str  # real | noise | unstable | timeout | equal | unjudged
    category: str
    count: int
    rate: float  # of judged queries
    meaning: str


@dataclass
class NormaliserCount:
    normaliser: str
    queries: int  # verdicts it explained something in
    noise: int  # of them, noise verdicts (everything explained)
    differences: int  # differences it absorbed
    categories: list[str]


@dataclass
class SideCount:
    kind: str  # timeout | unstable
    side: str  # candidate | reference | both | ...
    count: int


@dataclass
class Verdicts:
    judged: int
    by_kind: dict[str, int]
    categories: list[CategoryCount]  # each query once, under its most important category
    normalisers: list[NormaliserCount]
    sides: list[SideCount]


@dataclass
class EdeDifference:
    kind: str
    candidate: str  # EDE codes, comma-separated, or "none"
    reference: str
    count: int


@dataclass
class Dnssec:
    reference: str
    states: list[str]  # secure, insecure, bogus, indeterminate, none
    matrix: list[list[int]]  # [candidate state][reference state], judged queries
    real: list[list[int]]  # the same, real divergences only
    ede: list[EdeDifference]


@dataclass
class Place:
    name: str
    real: int
    share: float  # of real divergences
    top_category: str
    example: str  # one divergent name there


@dataclass
class Breakdown:
    key: str  # a qtype ("AAAA") or the reference's rcode ("NXDOMAIN")
    compared: int
    real: int
    noise: int
    rate: float  # real / compared
    top_category: str


@dataclass
class RcodePair:
    candidate: str
    reference: str
    count: int


@dataclass
class Where:
    domains: list[Place]
    zones: list[Place]
    qtypes: list[Breakdown]
    rcodes: list[Breakdown]
    rcode_pairs: list[RcodePair]  # real divergences by (candidate rcode, reference rcode)

    def zones_repeat_domains(self) -> bool:
        """Every zone is its registered domain, with the same counts: one table says both."""
        return bool(self.zones) and ([(p.name, p.real) for p in self.domains]
                                     == [(p.name, p.real) for p in self.zones])


@dataclass
class LatencyStats:
    target: str
    answered: int
    no_response: int
    p50: float | None
    p90: float | None
    p99: float | None
    mean: float | None


@dataclass
class Histogram:
    edges: list[float]  # bucket upper bounds, seconds; the last bucket is open above
    counts: dict[str, list[int]]  # target -> len(edges) + 1 counts


@dataclass
class Latency:
    targets: list[LatencyStats]
    histogram: Histogram


@dataclass
class Line:
    text: str
    differs: bool  # not on the other side (TTLs and IDs aside)


@dataclass
class Example:
    id: int
    kind: str
    category: str
    categories: list[str]
    qname: str
    qtype: str
    reference: str
    details: list[str]  # the differences left, one line each
    candidate_lines: list[Line]
    reference_lines: list[Line]


@dataclass
class Report:
    header: Header
    safety: Safety
    verdicts: Verdicts
    dnssec: Dnssec
    where: Where
    latency: Latency
    examples: list[Example]
    notes: list[str] = field(default_factory=list)
    format: str = FORMAT
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        # format and version first: readers check them before anything else
        return {"format": out.pop("format"), "version": out.pop("version"), **out}


T = TypeVar("T")


def from_dict(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass of this module from its ``asdict`` form (unknown keys ignored,
    missing ones defaulted where the field has a default)."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        kwargs[f.name] = _value(hints[f.name], data[f.name])
    return cls(**kwargs)


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], value) if len(inner) == 1 else value
    if origin is list and args:
        return [_value(args[0], v) for v in value]
    if origin is dict and len(args) == 2:
        return {k: _value(args[1], v) for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value)
    return value
