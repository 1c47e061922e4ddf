"""Fixtures shared by the integration and system tests: the lab as a real background process.

One lab per test session (it binds port 53 on 127.53.x.y, so there can only be one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.run import LabInfo, LabProcess


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    """The default lab world, served on 127.53.0.0/16 port 53 for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("the lab binds port 53 on 127.53.x.y: run as root (CI does)")
    proc = LabProcess(Path(tmp_path_factory.mktemp("lab")))
    info = proc.start()
    try:
        yield info
    finally:
        proc.stop()
