"""The coverage-guided fuzz targets (shadowdns/fuzz.py) and `bench fuzz` (issue 24 part 1).

Each target takes its seeds without raising; a short real run of every target (libFuzzer in
its own process) finds coverage and no crash; and the harness reports a crash as one (the
`selftest` target crashes on its own seed), keeping the input that did it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

from shadowdns.bench.fuzz import TARGETS, parse_output  # noqa: E402
from shadowdns.fuzz import seeds, target  # noqa: E402


@pytest.mark.parametrize("name", TARGETS)
def test_every_target_takes_its_seeds(name: str) -> None:
    one = target(name)
    inputs = seeds(name)
    assert inputs
    for data in inputs:
        one(data)
        one(data[: len(data) // 2])
        one(b"")


def _bench(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, "-m", "shadowdns", "bench", "fuzz", *argv,
                           "--run-dir", str(tmp_path / "run"), "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    return done, json.loads(out.read_text()) if out.exists() else {}


def test_a_short_run_of_every_target_covers_code_and_crashes_nothing(tmp_path: Path) -> None:
    done, figures = _bench(tmp_path, "--seconds", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(figures) == set(TARGETS)
    for name, f in figures.items():
        assert not f["crashed"], (name, f)
        assert f["executions"] > 0 and f["coverage"] > 20, (name, f)


def test_a_crash_is_reported_and_its_input_kept(tmp_path: Path) -> None:
    done, figures = _bench(tmp_path, "--targets", "selftest", "--seconds", "5")
    assert done.returncode == 1
    assert "selftest: " in done.stdout and "CRASH" in done.stdout
    artifact = figures["selftest"]["artifact"]
    assert artifact and b"crash" in Path(artifact).read_bytes()


def test_libfuzzer_output_is_read() -> None:
    text = ("#2\tINITED cov: 12 ft: 12 corp: 1/1b exec/s: 0 rss: 66Mb\n"
            "#31692\tDONE   cov: 64 ft: 177 corp: 61/2546b lim: 205 exec/s: 3521 rss: 66Mb\n")
    f = parse_output(text)
    assert (f["executions"], f["coverage"], f["features"], f["corpus"], f["finished"]) == \
        (31692, 64, 177, 61, True)
    crash = parse_output("==1== ERROR: libFuzzer: deadly signal\n"
                         "artifact_prefix='x/'; Test unit written to x/crash-abc\n")
    assert crash["artifact"] == "x/crash-abc" and not crash["finished"]
