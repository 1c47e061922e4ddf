"""The install is reproducible and quiet: the lock covers pyproject, no dependency warning
reaches the user's terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_lock_pins_every_dependency_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    pinned: dict[str, str] = {}
    for number, line in enumerate((ROOT / "requirements.lock").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"requirements.lock:{number}: not pinned with ==: {line!r}"
        pinned[_name(name)] = version
    assert wanted <= set(pinned), f"not in the lock: {sorted(wanted - set(pinned))}"
    assert "setuptools" in pinned  # the editable install builds without isolation


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return env


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["report", "--help"],
        ["resolver", "serve", "--help"],
        ["lab", "--help"],
        ["deckard", "run", "--help"],
        ["bench", "--help"],
        ["demo", "--help"],
    ],
)
def test_no_warning_reaches_the_terminal(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shadowdns", *argv],
        capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "warn" not in done.stderr.lower(), done.stderr
    assert "Warning:" not in done.stdout
