"""Set-up of the worker processes that run scenario files in parallel.

Kept free of heavy imports: a spawned worker imports this module first, so the parent's
warning filters are in force before the resolver and dnspython are imported (dnspython's
DSA module warns at import time).
"""

from __future__ import annotations

import warnings
from typing import Any, cast


def inherit_warning_filters(filters: list[Any]) -> None:
    """The parent's warning filters, in a worker (a spawned process starts with Python's
    defaults, so a dependency's deprecation warnings would reach the terminal)."""
    current = cast(list[Any], warnings.filters)  # a list at run time; typeshed says Sequence
    current[:] = filters
