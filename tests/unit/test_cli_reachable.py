"""The commands the report and the demo print can be pasted into the same shell and run:
``.venv/bin/shadowdns report explain 91`` in a fresh shell of the checkout, ``shadowdns ...``
once the venv is activated."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reports.command import invoked_as
from reports.synthetic import generate

SCRIPT = Path(sys.executable).parent / "shadowdns"  # the venv's console script


def _env(path_dirs: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["PATH"] = os.pathsep.join(path_dirs)
    return env


def _path_without_venv() -> list[str]:
    return [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
            if d and Path(d).resolve() != SCRIPT.parent.resolve()]


@pytest.mark.skipif(not SCRIPT.exists(), reason="no console script in this environment")
@pytest.mark.parametrize("activated", [False, True])
def test_the_printed_explain_command_runs_as_printed(tmp_path: Path, activated: bool) -> None:
    store = tmp_path / "s.db"
    generate(store, observations=600, names=100)
    path = ([str(SCRIPT.parent)] if activated else []) + _path_without_venv()
    program = "shadowdns" if activated else str(SCRIPT)
    done = subprocess.run([*shlex.split(program), "report", "--db", str(store), "--width", "200"],
                          capture_output=True, text=True, cwd=tmp_path, env=_env(path),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    hint = re.search(r"details: (.+?) report explain (\d+)", done.stdout)
    assert hint is not None, done.stdout[:2000]
    assert hint.group(1) == program
    again = subprocess.run([*shlex.split(hint.group(1)), "report", "explain", hint.group(2),
                            "--db", str(store)], capture_output=True, text=True, cwd=tmp_path,
                           env=_env(path), timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"#{hint.group(2)}" in again.stdout or hint.group(2) in again.stdout


def test_invoked_as(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "shadowdns"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert invoked_as(str(script)) == ".venv/bin/shadowdns"
    assert invoked_as(".venv/bin/shadowdns") == ".venv/bin/shadowdns"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin")
    assert invoked_as(str(script)) == "shadowdns"  # the venv is activated
    monkeypatch.chdir(bin_dir)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert invoked_as("shadowdns") == "./shadowdns"
    assert invoked_as("/usr/lib/python3/site-packages/pytest") == "shadowdns"  # not us
    main = tmp_path / "shadowdns" / "__main__.py"
    assert invoked_as(str(main)).endswith(" -m shadowdns")
