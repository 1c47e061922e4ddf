"""The bundled root data: IANA's root hints and root trust anchor, shipped as package data.

``resolver/data/`` holds ``root.hints`` (named.root), ``root-anchors.xml`` (RFC 7958) and the
same anchors as ``root.ds`` / ``root.key`` records, copied from Debian's dns-root-data by
``ci/update-root-data.sh`` (see ``resolver/data/README.md`` for the version and date).  They are
the candidate's defaults when no ``--root-hints`` / ``--trust-anchor`` is given; nothing is
downloaded at run time.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["ANCHOR", "HINTS", "anchor_path", "data_path", "hints_path"]

HINTS = "root.hints"
ANCHOR = "root-anchors.xml"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def data_path(name: str) -> Path:
    """A file system path for the bundled file ``name`` (extracted for the life of the
    process when the package is not installed as plain files)."""
    resource = files("resolver").joinpath("data", name)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))  # pragma: no cover - zipped installs


def hints_path() -> Path:
    return data_path(HINTS)


def anchor_path() -> Path:
    return data_path(ANCHOR)
