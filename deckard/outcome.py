"""What running one scenario variant produced: plain, picklable data for reports.

A variant is ``qmin`` or ``noqmin`` (QNAME minimisation on or off), or ``ext`` when an
external resolver by address is driven (its settings are its own).  ``status`` is what
happened (pass, fail, skip, error); whether that was expected is decided later against
the known-failures file (:mod:`deckard.known`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "skip", "error", "unsupported"]

VARIANT_NAMES = {True: "qmin", False: "noqmin"}


@dataclass(frozen=True)
class StepFailure:
    """Where and why a variant failed; ``diff`` is expected (-) vs got (+), dig style."""

    step: int | None  # None: after the last step (undefined answers, MANDATORY)
    line: int
    kind: str  # QUERY, CHECK_ANSWER, UPSTREAM, MANDATORY, ...
    message: str
    diff: str = ""

    def where(self) -> str:
        return f"step {self.step}" if self.step is not None else "end"


@dataclass(frozen=True)
class RunResult:
    path: str
    scenario: str  # file name without .rpl
    variant: str
    status: Status
    failure: StepFailure | None = None
    reason: str = ""  # for skip and error
    seconds: float = 0.0
    upstream_queries: int = 0
    kresd_only: tuple[str, ...] = ()  # kresd-only header keys the scenario uses
    traffic: tuple[str, ...] = field(default=(), compare=False)  # upstream log, on failure
    dialect: str = "deckard"  # or "testbound"
    unsupported: tuple[str, ...] = ()  # status "unsupported": what the candidate cannot honour

    @property
    def generic(self) -> bool:
        return not self.kresd_only

    @property
    def cause(self) -> str:
        """What the result is down to, for per-cause totals: the unsupported key, or the
        failing step's kind (CHECK_ANSWER, UPSTREAM, ...), or the status itself."""
        if self.status == "unsupported":
            return "unsupported: " + (self.unsupported[0] if self.unsupported else "?")
        if self.failure is not None:
            return self.failure.kind
        return self.status

    @property
    def summary(self) -> str:
        if self.failure is not None:
            return f"{self.failure.where()} {self.failure.kind}: {self.failure.message}"
        return self.reason
