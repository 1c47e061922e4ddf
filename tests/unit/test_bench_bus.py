"""``bench harness --bus``: its arguments and its verdict on the figures (the measurement
itself is a benchmark, run by hand; docs/SCALE.md has its figures)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shadowdns.bench.bus import BusFigures, Leg, parse_workers, print_bus


def test_worker_counts_are_sorted_and_distinct() -> None:
    assert parse_workers("2,1,2") == (1, 2)
    assert parse_workers("3") == (3,)


@pytest.mark.parametrize("text", ["0,1", "", "one", "1,-2"])
def test_bad_worker_counts_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_workers(text)


def test_a_zero_query_count_is_one_line_naming_the_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "shadowdns", "bench", "harness", "--bus",
                           "--bus-queries", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--bus-queries" in lines[0], done.stderr


def _figures(stored: tuple[int, int, int]) -> BusFigures:
    one, w1, w2 = stored
    return BusFigures(100, [
        Leg("one process", 0, stored=one, rate=500.0, accounted=one),
        Leg("bus, 1 worker", 1, stored=w1, rate=400.0, accounted=w1),
        Leg("bus, 2 workers", 2, stored=w2, rate=700.0, accounted=w2),
    ])


def test_all_accounted_passes_and_states_the_speedup(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bus.json"
    assert print_bus(_figures((100, 100, 100)), out) == 0
    text = capsys.readouterr().out
    assert "1 -> 2 workers: x1.75" in text
    assert [leg["workers"] for leg in json.loads(out.read_text())["legs"]] == [0, 1, 2]


def test_a_leg_that_lost_queries_fails_the_bench(capsys: pytest.CaptureFixture[str]) -> None:
    assert print_bus(_figures((100, 100, 97)), None) == 1
    text = capsys.readouterr().out
    assert "not every query accounted for in: bus, 2 workers" in text
    assert "fewer accounted queries than one process: bus, 2 workers" in text
