"""A fixed split of a scenario set into a half to fix on and a half to measure on.

Held-out discipline (issue 16): the resolver is fixed looking only at the failures of the
``fix`` half; the ``measure`` half is run to see whether the fixes generalise, and both
figures are reported.  A scenario's half depends on nothing but its name (the file name
without ``.rpl``): the first byte of the SHA-256 of that name, even for ``fix`` and odd for
``measure``.  The split is deterministic, needs no list to maintain, and a new scenario
lands in a half without moving any other.  The split of ``../shared/unbound-testdata`` as
it was when the rule was fixed is recorded in ``docs/TESTBOUND.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

HALVES = ("fix", "measure")


def half(name: str) -> str:
    """``fix`` or ``measure`` for the scenario called ``name``."""
    return HALVES[hashlib.sha256(name.encode()).digest()[0] % 2]


def only(files: Sequence[Path], which: str | None) -> list[Path]:
    """The files of one half (all of them when ``which`` is None)."""
    if which is None:
        return list(files)
    if which not in HALVES:
        raise ValueError(f"no half called {which!r} (the halves are {', '.join(HALVES)})")
    return [f for f in files if half(f.stem) == which]
