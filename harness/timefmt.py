"""How times and latencies are written wherever the harness or the reports hand them out
(exports, the API, the run summary): one definition, used by all.

* a moment: ISO 8601 in UTC with milliseconds, ``2025-01-01T00:04:40.123Z``;
* a latency: to the microsecond, that is 3 decimals in milliseconds (``125.754``) and
  6 decimals in seconds (``0.125754``): a float such as ``125.75364799999988`` never
  leaves the program.
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["LATENCY_DECIMALS_MS", "iso_utc", "latency_ms", "latency_s"]

LATENCY_DECIMALS_MS = 3
"""Latencies are given to the microsecond: 3 decimals in milliseconds."""


def iso_utc(seconds: float) -> str:
    """Unix ``seconds`` as ISO 8601 UTC with milliseconds: ``2025-01-01T00:04:40.123Z``."""
    when = dt.datetime.fromtimestamp(round(float(seconds), 3), dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def latency_ms(seconds: float | None) -> float | None:
    """A latency in seconds as milliseconds to the microsecond; None (or NaN) stays None."""
    if seconds is None or math.isnan(seconds):
        return None
    return round(seconds * 1000, LATENCY_DECIMALS_MS)


def latency_s(seconds: float | None) -> float | None:
    """A latency in seconds, to the microsecond; None (or NaN) stays None."""
    if seconds is None or math.isnan(seconds):
        return None
    return round(seconds, LATENCY_DECIMALS_MS + 3)
