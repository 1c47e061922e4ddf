"""The store's disk fills up during `shadowdns run` (issue 24 part 5): one clear error, the
run stops, what was committed is kept and readable, and the lost observations are counted.

A real `shadowdns run` process writes its store to a 400 KiB tmpfs (mounted by the test; it
needs root and a kernel that lets it mount, as CI has) while it compares a query list against
a DNS server of the test's own on 127.0.0.1.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NAMES = 6000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_stops_the_run_with_one_line_and_keeps_what_was_committed(
        tmp_path: Path, disk: Path, tiny_dns: Callable[..., int]) -> None:
    server = tiny_dns()
    names = tmp_path / "names.txt"
    names.write_text("".join(f"n{i}.example. A\n" for i in range(NAMES)))
    db = disk / "shadow.db"
    done = subprocess.run(
        [sys.executable, "-m", "shadowdns", "run", "--query-list", str(names),
         "--candidate", f"127.0.0.1:{server}", "--reference", f"address@127.0.0.1:{server}",
         "--sample", "1", "--db", str(db), "--live", "off", "--judge", "exact"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"shadowdns run: store {db}: database or disk is full: the run "
                           "stopped; "), last
    full_lines = [line for line in done.stderr.splitlines() if "disk is full" in line]
    assert len(full_lines) == 2  # the store's log line and the final one: not one per write
    committed = int(last.split("; ")[1].split()[0])
    lost = int(last.split(", ")[1].split()[0])
    assert committed > 0 and lost > 0
    assert committed + lost < NAMES  # the run stopped: it did not go on comparing
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = connection.execute("SELECT count(*) FROM observations").fetchone()[0]
    finally:
        connection.close()
    assert stored == committed
