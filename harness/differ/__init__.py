"""The differ: decides whether the candidate's answer diverges from the reference's.

``Differ`` is the pipeline's judge (``await Differ().judge(observation, requery)``); the rest
is exported for tests, benchmarks and reports.  See docs/DIFFER.md.
"""

from __future__ import annotations

from harness.differ.answers import Parsed, ParseError, parse
from harness.differ.classify import PRIORITY, Outcome, dnssec_category, dnssec_outcome, primary
from harness.differ.compare import Difference, compare
from harness.differ.differ import Differ, DifferConfig
from harness.differ.knowledge import Knowledge
from harness.differ.normalise import (
    DEFAULT_NORMALISERS,
    Explanation,
    Normalised,
    Normaliser,
    Pair,
    domain_of,
    normalise,
    registered_domain,
)

__all__ = [
    "DEFAULT_NORMALISERS",
    "PRIORITY",
    "Difference",
    "Differ",
    "DifferConfig",
    "Explanation",
    "Knowledge",
    "Normalised",
    "Normaliser",
    "Outcome",
    "Pair",
    "ParseError",
    "Parsed",
    "compare",
    "dnssec_category",
    "dnssec_outcome",
    "domain_of",
    "normalise",
    "parse",
    "primary",
    "registered_domain",
]
