"""The whole shadow run with real components only.

A staging Unbound answers a client load on the lab and sends dnstap to ``shadowdns run``'s
unix socket; the harness samples, sends each sampled query to the candidate (in process) and
to Knot Resolver (started by the harness), judges, and stores.  Then: the counts add up, every
compared query is in the store with both answers and the staging resolver's own answer, and
the process stops cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from harness.load import client_load, load_names
from lab.run import LabInfo
from legacy_adapter import ManagedResolver, ReferenceSpec

pytestmark = [pytest.mark.integration]

API_PORT = 18931
ROUNDS = 3
SUFFIXES = (".lab.", ".rsa.", ".ed.", ".broken.", ".plain.")


def config_text(lab: LabInfo, work: Path) -> str:
    return f"""
lab: {lab.state_dir}
run_dir: {work}
intake:
  - {{kind: dnstap, socket: {work}/dnstap.sock}}
sampler:
  probability: 0.8
  suffixes: [lab., rsa., ed., broken., plain.]
candidate: {{timeout: 4}}
references:
  - {{name: kresd, kind: kresd, listen: "127.55.0.81:5081", timeout: 4}}
store: {{path: {work}/shadow.db, batch: 50, commit_interval: 0.2}}
log_interval: 1
"""


def test_staging_unbound_dnstap_to_candidate_and_kresd(lab: LabInfo, tmp_path: Path,
                                                       harness_process: Any) -> None:
    config = tmp_path / "shadow.yaml"
    config.write_text(config_text(lab, tmp_path))
    harness = harness_process(config, API_PORT, tmp_path / "harness.log")
    harness.wait_ready()
    sock = tmp_path / "dnstap.sock"
    assert sock.is_socket()
    lines = load_names(lab, quick=True) * ROUNDS
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen="127.55.0.80", port=5080, workdir=tmp_path / "staging",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
        outgoing_address=lab.egress["unbound"], dnstap_socket=sock, identity="staging")

    async def staging_run() -> int:
        async with ManagedResolver.from_spec(spec) as staging:
            result = await client_load(staging.address, staging.port, lines)
            # Unbound's dnstap thread sends in its own time and drops what it still holds
            # when stopped: keep it running until every client query has been seen.
            await asyncio.to_thread(
                harness.wait_for, lambda s: s["counters"]["seen"] >= len(lines) + 1, 60)
            return result.answered

    started = time.monotonic()
    answered = asyncio.run(staging_run())
    assert answered >= len(lines) * 0.9  # a few may time out on a busy machine; all are seen
    # Unbound's dnstap thread sends in its own time: wait for every query (and at least the
    # start-up probe) to be seen and compared, and for the counts to stay put.
    previous: dict[str, Any] = {}
    for _ in range(60):
        status = harness.wait_for(
            lambda s: s["counters"]["seen"] >= len(lines) + 1 and s["in_flight"] == 0,
            timeout=60)
        if status["counters"] == previous.get("counters"):
            break
        previous = status
        time.sleep(1.0)
    output = harness.stop()
    assert harness.proc.returncode == 0, output
    assert time.monotonic() - started < 120
    c = status["counters"]
    # Every client query was seen, plus the health probes (localhost.) of Unbound's start;
    # those and the names outside the suffixes are filtered.
    probes = c["seen"] - len(lines)
    outside = sum(1 for line in lines if not line.split()[0].endswith(SUFFIXES))
    assert 1 <= probes <= 3 and c["filtered"] == outside + probes
    assert c["seen"] == c["filtered"] + c["unsampled"] + c["shed"] + c["duplicate"] + c["sampled"]
    assert c["sampled"] == c["dropped"] + c["compared"] + c["failed"]
    assert c["dropped"] == c["shed"] == c["failed"] == 0
    assert 0 < c["unsampled"] < len(lines) and c["compared"] > len(lines) // 2
    assert status["unaccounted"] == {"seen": 0, "sampled": 0}
    # Unbound 1.17 sometimes sends no CLIENT_RESPONSE for answers that waited on a slow server.
    assert c["staging_matched"] >= c["compared"] - 6
    assert sum(status["verdicts"].values()) == c["compared"] - c["judge_errors"]
    assert status["verdicts"].get("equal", 0) > 0
    assert "shadow run 1: seen" in output and "(counts add up)" in output
    db = sqlite3.connect(tmp_path / "shadow.db")
    try:
        assert db.execute("SELECT count(*) FROM observations").fetchone()[0] == c["compared"]
        targets = db.execute("SELECT DISTINCT target FROM answers").fetchall()
        assert sorted(t for (t,) in targets) == ["candidate", "kresd"]
        with_staging = db.execute(
            "SELECT count(*) FROM observations WHERE staging_wire IS NOT NULL").fetchone()[0]
        assert with_staging == c["staging_matched"]
        verdicts = db.execute("SELECT count(*) FROM verdicts").fetchone()[0]
        assert verdicts == c["compared"] - c["judge_errors"]
        run = db.execute("SELECT status, versions FROM runs").fetchone()
        assert run[0] == "finished" and "kresd 5" in run[1]
    finally:
        db.close()
