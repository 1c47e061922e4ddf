"""A verdict's evidence: one typed, versioned record shared by the differ, the store and the
reports.

:class:`Evidence` is what a judge found about one observation (docs/DIFFER.md, "Evidence",
lists every field).  The differ and the exact judge build it, the store and the result bus
keep it as JSON, the reports read it back.  The JSON form is made and read here only:

* :meth:`Evidence.to_json` writes every field that differs from its default, plus
  ``version`` (:data:`VERSION`);
* :meth:`Evidence.from_json` reads it back.  A record without ``version`` is version 0, what
  stores written before the record existed hold: the same keys, so it reads the same way, and
  keys no version knows (version 0's exact judge wrote one key per target) are kept in
  :attr:`Evidence.other`.

The report reads a whole run's evidence in SQL, for speed; the JSON paths it uses are named
here (``PATH_*``, ``ENTRY_*``), next to the fields they reach, so that a field renamed is a
path renamed in one place.

This module imports nothing of the differ's: the reports may import it without importing
the judge's logic.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "VERSION", "Confirmation", "DifferenceEntry", "DnssecOutcomes", "Evidence",
    "EvidenceError", "ExplainedEntry", "FloorEntry", "RequeryEntry", "SweepEntry",
    "record_json",
]

VERSION = 1
"""The version :meth:`Evidence.to_json` writes.  0: no ``version`` key (stores written before
the typed record; same layout)."""

# -- the JSON paths the report's SQL reads (json_extract / json_each over the evidence column)

PATH_SIDE = "$.side"
PATH_UNSTABLE_SIDE = "$.unstable_side"
PATH_DNSSEC_CANDIDATE = "$.dnssec.candidate"
PATH_DNSSEC_REFERENCE = "$.dnssec.reference"
KEY_DNSSEC = '"dnssec"'
"""The ``dnssec`` key as it appears in the JSON text (a cheap ``instr`` test before
``json_extract``)."""
PATH_DIFFERENCES = "$.differences"
PATH_EXPLAINED = "$.explained"
# within one entry of those lists (json_each's ``value``)
ENTRY_CATEGORY = "$.category"
ENTRY_CANDIDATE = "$.candidate"
ENTRY_REFERENCE = "$.reference"
ENTRY_NORMALISER = "$.normaliser"
ENTRY_CATEGORIES = "$.categories"
ENTRY_COUNT = "$.count"


class EvidenceError(ValueError):
    """Stored evidence that does not read as an :class:`Evidence` (what and where)."""


_T = TypeVar("_T")


_NO_DEFAULT = object()


@functools.cache
def _defaults(cls: Any) -> dict[str, object]:
    """Field name -> its default value, of a record class, read once (a store writes a
    record per verdict)."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = _NO_DEFAULT
    return out


def record_json(record: object) -> dict[str, object]:
    """A record's fields that differ from their defaults, nested records as JSON too (the
    JSON form of an entry, a :class:`Confirmation`, ...)."""
    cls: Any = type(record)
    defaults = _defaults(cls)
    fields = vars(record)
    if fields == defaults:  # most verdicts (equal at first sight): one comparison
        return {}
    return {name: _plain(value) for name, value in fields.items()
            if value != defaults[name]}


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_json(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _record(cls: type[_T], data: object, where: str,
            nested: Mapping[str, type] | None = None) -> _T:
    """``cls`` from its JSON mapping; ``nested``: fields holding records (one or a list)."""
    if not isinstance(data, Mapping):
        raise EvidenceError(f"{where}: expected an object, got {type(data).__name__}")
    record_class: Any = cls
    names = _defaults(record_class)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            continue
        inner = (nested or {}).get(key)
        if inner is None:
            kwargs[key] = value
        elif isinstance(value, list):
            kwargs[key] = [_record(inner, v, f"{where}.{key}[{i}]", _NESTED.get(inner))
                           for i, v in enumerate(value)]
        elif value is not None:
            kwargs[key] = _record(inner, value, f"{where}.{key}", _NESTED.get(inner))
    try:
        return cls(**kwargs)
    except TypeError as e:  # a required field missing
        raise EvidenceError(f"{where}: {e}") from None


@dataclass(frozen=True)
class DifferenceEntry:
    """One difference left unexplained (``harness.differ.compare.Difference``, as text)."""

    category: str
    detail: str
    rrset: str | None = None  # "owner TYPE" or "owner RRSIG(TYPE)"
    candidate: str | int | None = None  # the candidate's value, None when absent
    reference: str | int | None = None


@dataclass(frozen=True)
class ExplainedEntry:
    """What one normaliser explained."""

    normaliser: str
    note: str
    categories: list[str] = field(default_factory=list)
    count: int = 0
    wants: list[str] = field(default_factory=list)  # "name TYPE" it asked the reference


@dataclass(frozen=True)
class RequeryEntry:
    """One re-query made while judging, and what it returned."""

    target: str
    purpose: str  # retry, lookup, confirm, vantage, cd, floor, egress, fresh, sweep
    qname: str
    qtype: int
    flush: bool = False
    cd: bool = False
    answer: str | None = None  # a one-line summary
    error: str | None = None  # or why there was none


@dataclass(frozen=True)
class FloorEntry:
    """One field judged against the reference side's own variation (the noise floor)."""

    field: str
    evidence: str  # the kind of evidence: harness.differ.floor's table
    sample: str | None = None
    how: str | None = None


@dataclass(frozen=True)
class SweepEntry:
    """One question asked of a zone's authoritative servers (the authority sweep)."""

    qname: str
    qtype: int
    zone: str | None = None  # None: the zone could not be learned
    servers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DnssecOutcomes:
    candidate: str
    reference: str


@dataclass
class Confirmation:
    """How the confirming re-queries went."""

    candidate_changed: bool | None = None
    reference_changed: bool | None = None
    persisted: bool | None = None
    matches: str | None = None  # "reference re-query" or "staging"
    candidate_agrees_with: list[str] = field(default_factory=list)


@dataclass
class Evidence:
    """Everything a judge found about one observation (docs/DIFFER.md, "Evidence")."""

    version: int = VERSION
    reference_target: str | None = None
    candidate: str | None = None  # one-line summaries of the two original answers
    reference: str | None = None
    differences: list[DifferenceEntry] = field(default_factory=list)
    differences_omitted: int = 0
    explained: list[ExplainedEntry] = field(default_factory=list)
    dnssec: DnssecOutcomes | None = None
    confirmed: bool | None = None
    confirmation: Confirmation | None = None
    unstable_side: str | None = None  # UNSTABLE: reference, candidate or both
    side: str | None = None  # TIMEOUT: candidate, reference, both, missing; format errors
    error: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    first_attempt_errors: dict[str, str] = field(default_factory=dict)
    requeries: list[RequeryEntry] = field(default_factory=list)
    pool_requeries: int = 0
    cd_rcodes: dict[str, str] = field(default_factory=dict)
    noise_floor: list[FloorEntry] = field(default_factory=list)
    authority_sweep: list[SweepEntry] = field(default_factory=list)
    budget: str | None = None
    budget_exhausted_at: str | None = None
    memo: bool = False
    targets: list[str] = field(default_factory=list)  # the exact judge: every target
    answers: dict[str, str] = field(default_factory=dict)  # the exact judge: target -> answer
    other: dict[str, object] = field(default_factory=dict)
    """Keys this version does not know, kept as read (never written by a judge)."""

    def to_json(self) -> dict[str, object]:
        """The JSON form the store and the bus keep: ``version`` and every field set."""
        out = record_json(self)
        out.pop("other", None)
        out["version"] = self.version
        for key, value in self.other.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_json(cls, data: object, where: str = "evidence") -> Evidence:
        """Read :meth:`to_json`'s form, any version up to :data:`VERSION` (none: 0)."""
        if not isinstance(data, Mapping):
            raise EvidenceError(f"{where}: expected an object, got {type(data).__name__}")
        version = data.get("version", 0)
        if not isinstance(version, int) or not 0 <= version <= VERSION:
            raise EvidenceError(f"{where}: version {version!r} is not one this reader "
                                f"knows (0..{VERSION})")
        known = _KNOWN
        evidence = _record(cls, {k: v for k, v in data.items() if k in known}, where,
                           _NESTED[cls])
        evidence.version = version
        evidence.other = {k: v for k, v in data.items() if k not in known}
        return evidence


_KNOWN = frozenset(_defaults(Evidence)) - {"other"}
_NESTED: dict[type, dict[str, type]] = {
    Evidence: {"differences": DifferenceEntry, "explained": ExplainedEntry,
               "dnssec": DnssecOutcomes, "confirmation": Confirmation,
               "requeries": RequeryEntry, "noise_floor": FloorEntry,
               "authority_sweep": SweepEntry},
}
