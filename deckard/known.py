"""The known-failures file: scenarios expected to fail, each with its reason.

A YAML mapping from scenario name (the file name without ``.rpl``) to an entry::

    val_adbit:
      reason: needs DNSSEC validation (issue 4)
    iter_minim_a:
      reason: expects QNAME minimisation with qtype NS
      variants: [qmin]          # optional: only these variants are expected to fail

Scenarios of the testbound dialect (Unbound's testdata: many share a name with a Deckard
scenario but are different files) are listed under a top-level ``testbound:`` mapping of
the same shape.

Judging a run against it gives each result a verdict: ``pass``, ``fail`` (unexpected),
``xfail`` (failed as listed), ``xpass`` (listed but passed: *now passing*, remove the
entry so the list only shrinks), ``skip``, ``unsupported`` (the scenario needs something
the candidate cannot honour; it did not run) or ``error`` (the file did not parse).  Unexpected
failures, errors and passes of listed scenarios are all "unexpected results": the command
exits non-zero on any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from configfiles import ConfigError, read_yaml
from deckard.outcome import RunResult

DEFAULT_PATH = Path(__file__).with_name("known_failures.yaml")
VARIANTS = ("qmin", "noqmin", "ext")

Verdict = Literal["pass", "fail", "xfail", "xpass", "skip", "error", "unsupported"]
DIALECT_SECTIONS = ("testbound",)
"""Top-level keys of the file that hold another dialect's entries, not a scenario."""
UNEXPECTED: frozenset[str] = frozenset({"fail", "xpass", "error"})


MAX_CAUSE = 60
"""A reason's prefix longer than this is no cause name (the entry counts under "other")."""


class KnownFailuresError(ConfigError):
    """A malformed known-failures file (names the file and the entry)."""


@dataclass(frozen=True)
class KnownFailure:
    scenario: str
    reason: str
    variants: frozenset[str] | None = None  # None: every variant
    cause: str = ""  # the entry's ``cause:``, else what its reason says before the first ': '

    @property
    def group(self) -> str:
        """The cause the entry is counted under (per-cause totals, JUnit)."""
        if self.cause:
            return self.cause
        head, sep, _ = self.reason.partition(": ")
        return head if sep and len(head) <= MAX_CAUSE else "other"

    def covers(self, variant: str) -> bool:
        return self.variants is None or variant in self.variants


@dataclass(frozen=True)
class KnownFailures:
    entries: dict[str, KnownFailure]
    path: str = ""
    dialects: dict[str, dict[str, KnownFailure]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> KnownFailures:
        return cls({})

    @classmethod
    def load(cls, path: Path) -> KnownFailures:
        try:
            data, _ = read_yaml(path)
        except ConfigError as e:
            raise KnownFailuresError(str(e)) from None
        return cls.parse(data, str(path))

    @classmethod
    def parse(cls, data: object, path: str = "<known failures>") -> KnownFailures:
        if data is None:
            return cls({}, path)
        if not isinstance(data, dict):
            raise KnownFailuresError(f"{path}: expected a mapping of scenario names")
        dialects: dict[str, dict[str, KnownFailure]] = {}
        for dialect in DIALECT_SECTIONS:
            section = data.get(dialect)
            if section is None:
                continue
            if not isinstance(section, dict):
                raise KnownFailuresError(f"{path}: {dialect}: expected a mapping of scenario names")
            dialects[dialect] = cls._entries(section, f"{path}: {dialect}")
        data = {k: v for k, v in data.items() if k not in DIALECT_SECTIONS}
        return cls(cls._entries(data, path), path, dialects)

    @staticmethod
    def _entries(data: dict[object, object], path: str) -> dict[str, KnownFailure]:
        entries: dict[str, KnownFailure] = {}
        for name, value in data.items():
            where = f"{path}: {name}"
            if not isinstance(name, str) or not name:
                raise KnownFailuresError(f"{where}: a scenario name must be a string")
            if not isinstance(value, dict):
                raise KnownFailuresError(f"{where}: expected 'reason:' (and 'variants:')")
            unknown = set(value) - {"reason", "variants", "cause"}
            if unknown:
                raise KnownFailuresError(f"{where}: unknown keys {sorted(unknown)}")
            reason = value.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise KnownFailuresError(f"{where}: every known failure needs a reason")
            variants = value.get("variants")
            chosen: frozenset[str] | None = None
            if variants is not None:
                if not isinstance(variants, list) or not variants:
                    raise KnownFailuresError(f"{where}: variants must be a non-empty list")
                bad = [v for v in variants if v not in VARIANTS]
                if bad:
                    raise KnownFailuresError(
                        f"{where}: unknown variants {bad} (known: {', '.join(VARIANTS)})"
                    )
                chosen = frozenset(variants)
            cause = value.get("cause", "")
            if not isinstance(cause, str):
                raise KnownFailuresError(f"{where}: cause must be a short text")
            entries[name] = KnownFailure(name, reason.strip(), chosen, cause.strip())
        return entries

    def of(self, dialect: str) -> dict[str, KnownFailure]:
        """The entries for one dialect's scenarios."""
        return self.dialects.get(dialect, {}) if dialect != "deckard" else self.entries

    def lookup(self, scenario: str, variant: str, dialect: str = "deckard") -> KnownFailure | None:
        entry = self.of(dialect).get(scenario)
        if entry is None or not entry.covers(variant):
            return None
        return entry


@dataclass(frozen=True)
class Judged:
    result: RunResult
    verdict: Verdict
    reason: str = ""  # the known-failure reason, for xfail and xpass
    known_cause: str = ""  # the known failure's cause (KnownFailure.group), for xfail

    @property
    def cause(self) -> str:
        """Why the run did not pass: the known failure's cause, the unsupported keys, or
        the kind of step that failed."""
        if self.known_cause:
            return self.known_cause
        if self.verdict == "unsupported":
            return ", ".join(self.result.unsupported) or "unsupported"
        return self.result.cause

    @property
    def unexpected(self) -> bool:
        return self.verdict in UNEXPECTED


def judge(results: Iterable[RunResult], known: KnownFailures) -> list[Judged]:
    out: list[Judged] = []
    for r in results:
        entry = known.lookup(r.scenario, r.variant, r.dialect)
        if r.status in ("skip", "unsupported"):
            out.append(Judged(r, r.status))
        elif entry is None:
            out.append(Judged(r, r.status))
        elif r.status == "pass":
            out.append(Judged(r, "xpass", entry.reason))
        else:
            out.append(Judged(r, "xfail", entry.reason, entry.group))
    return out


def stale_entries(known: KnownFailures, judged: Sequence[Judged]) -> list[KnownFailure]:
    """Entries for scenarios that ran but matched no failing-or-passing run of theirs
    (e.g. listed for a variant the header skips)."""
    out = []
    for dialect in ("deckard", *DIALECT_SECTIONS):
        ran = {
            (j.result.scenario, j.result.variant)
            for j in judged
            if j.verdict not in ("skip", "unsupported") and j.result.dialect == dialect
        }
        scenarios = {s for s, _ in ran}
        for entry in known.of(dialect).values():
            if entry.scenario not in scenarios:
                continue
            variants = entry.variants or frozenset(VARIANTS)
            if not any((entry.scenario, v) in ran for v in variants):
                out.append(entry)
    return out


def exit_status(judged: Sequence[Judged]) -> int:
    return 1 if any(j.unexpected for j in judged) else 0
