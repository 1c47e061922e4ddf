"""How to run ``shadowdns`` again, written the way this process was started.

Hints such as ``shadowdns report explain 91`` must work when pasted into the same shell: in a
fresh shell of a checkout the command is ``.venv/bin/shadowdns`` (or ``./shadowdns``, or the
venv activated), so the hint names the program as the user ran it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["invoked_as"]


def invoked_as(argv0: str | None = None) -> str:
    """``shadowdns`` when that is what the shell finds; else the path the user typed
    (``.venv/bin/shadowdns``, ``./shadowdns``); ``python -m shadowdns`` as ``.venv/bin/python -m
    shadowdns``; plain ``shadowdns`` when shadowdns is not the program (tests, imports)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    path = Path(argv0)
    if path.name == "__main__.py" and path.parent.name == "shadowdns":
        return f"{_as_typed(sys.executable)} -m shadowdns"
    if path.name != "shadowdns" or not path.exists():
        return "shadowdns"
    found = shutil.which("shadowdns")
    if found is not None and Path(found).resolve() == path.resolve():
        return "shadowdns"
    return _as_typed(argv0)


def _as_typed(program: str) -> str:
    """``program`` relative to the working directory when it is below it (``./x``, ``a/x``)."""
    try:
        relative = os.path.relpath(program)
    except ValueError:
        return program
    if relative.startswith(".."):
        return str(Path(program))
    return relative if "/" in relative else f"./{relative}"
