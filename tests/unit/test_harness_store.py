"""harness.store: batched WAL writes, reading back, SIGKILL durability, retention."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from harness.config import StoreConfig
from harness.evidence import Evidence
from harness.records import Observation, Query, Source, TargetAnswer, Verdict, VerdictKind
from harness.store import Store, StoreReader

ROOT = Path(__file__).resolve().parents[2]


def observation(store: Store, i: int, staging: bytes | None = None) -> Observation:
    query = Query(qname=f"n{i}.lab.", qtype=1, do=True, edns_payload=1232,
                  source=Source.DNSTAP, client="127.0.0.9", client_port=1000 + i,
                  seen_at=1000.0 + i, wire=b"\x00\x01query")
    return Observation(query=query, id=store.next_id(), staging_wire=staging, answers={
        "candidate": TargetAnswer("candidate", b"wire-c", 0.01),
        "kresd": TargetAnswer("kresd", None, 5.0, "timeout"),
    })


def test_write_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    commits: list[int] = []
    store = Store(StoreConfig(path=path, batch=5, commit_interval=0.05), on_commit=commits.append)
    store.open()
    run = store.start_run({"sampler": {"probability": 1}}, {"kresd": "kresd 5.6.0"})
    observations = [observation(store, i) for i in range(12)]
    for obs in observations:
        verdict = Verdict(obs.id, VerdictKind.REAL if obs.id and obs.id % 3 == 0
                          else VerdictKind.EQUAL, "answer" if obs.id and obs.id % 3 == 0
                          else "equal", ["answer"],
                          evidence=Evidence(candidate="NOERROR", other={"raw": b"\x01"}))
        assert store.add(obs, verdict)
    assert observations[0].id is not None
    store.attach_staging(observations[0].id, b"staging")
    assert store.flush()
    assert store.committed == 12 and commits[-1] == 12
    reader = StoreReader(path)
    assert reader.count(run) == 12
    back = reader.observation(observations[0].id)
    assert back is not None and back.staging_wire == b"staging"
    assert back.query == observations[0].query
    assert back.answers["kresd"].error == "timeout" and back.answers["candidate"].wire == b"wire-c"
    assert reader.verdict_counts(run) == {"real": 4, "equal": 8}
    assert reader.category_counts(run) == {"answer": 4}
    latest = reader.divergences(run, limit=2)
    assert [d["id"] for d in latest] == [12, 9] and latest[0]["evidence"].other["raw"] == "01"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", latest[0]["seen_at"])
    verdict = reader.verdict(12)
    assert verdict is not None and verdict.kind is VerdictKind.REAL
    assert len(list(reader.observations(run))) == 12
    store.close({"seen": 12})
    runs = reader.runs()
    assert runs[0].status == "finished" and runs[0].counters == {"seen": 12}
    assert runs[0].versions == {"kresd": "kresd 5.6.0"}
    reader.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    # A second run continues the IDs.
    again = Store(StoreConfig(path=path))
    again.open()
    assert again.next_id() == 13
    again.close()


def _one(path: Path, sql: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from harness.config import StoreConfig
from harness.records import Observation, Query, TargetAnswer
from harness.store import Store

def report(n):
    print(n, flush=True)

store = Store(StoreConfig(path=Path({path!r}), batch=25, commit_interval=0.02), on_commit=report)
store.open()
store.start_run({{}}, {{}})
i = 0
while True:
    obs = Observation(Query(qname=f"k{{i}}.lab.", qtype=1), id=store.next_id(),
                      answers={{"candidate": TargetAnswer("candidate", b"x" * 200, 0.001)}})
    store.add(obs, None)
    i += 1
    if i % 50 == 0:
        time.sleep(0.001)
"""


def test_sigkill_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER.format(root=str(ROOT), path=str(path))))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    committed = 0
    try:
        deadline = time.monotonic() + 20
        assert proc.stdout is not None
        while committed < 2000 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert committed >= 2000
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = db.execute("SELECT count(*) FROM observations").fetchone()[0]
    answers = db.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert stored >= committed
    assert answers == stored  # whole batches: never an observation without its answers
    db.close()


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = Store(StoreConfig(path=path, batch=500, retention_interval=0.05, max_mb=0.5,
                              max_age_days=1.0))
    store.open()
    store.start_run({}, {})
    big = b"y" * 4000
    for i in range(600):  # about 2.4 MB of answers
        obs = observation(store, i)
        obs.answers["candidate"].wire = big
        store.add(obs, None)
    store.flush()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.1)
        store.flush()
        pages = _one(path, "PRAGMA page_count")
        if pages * 4096 <= 0.6 * 1024 * 1024 and store.pruned:
            break
    assert store.pruned > 0
    reader = StoreReader(path)
    left = reader.count()
    assert 0 < left < 600
    first = reader.observation(600 - left + 1)
    assert first is not None  # the newest are kept, the oldest went first
    reader.close()
    # Age: make every row old, then let retention run.
    db = sqlite3.connect(path)
    db.execute("UPDATE observations SET stored_at = stored_at - 3 * 86400")
    db.commit()
    db.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.1)
        store.flush()
        if _one(path, "SELECT count(*) FROM observations") == 0:
            break
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM observations").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
    db.close()
    store.close()


def test_a_second_demo_appends_to_the_store_and_keeps_the_first(tmp_path: Path) -> None:
    """Re-running the demo keeps the earlier runs: the new run is appended (run N+1); a file
    that is not a store is moved aside (shadow.db.1, .2), never deleted; the note says so."""
    from shadowdns.demo import store_note

    path = tmp_path / "demo" / "shadow.db"
    assert store_note(path) == f"store: {path} (new)"
    for expected_run in (1, 2):
        store = Store(StoreConfig(path=path, commit_interval=0.05))
        store.open()
        assert store.start_run({}, {}) == expected_run
        assert store.add(observation(store, expected_run), None)
        store.close({"seen": 1})
        note = store_note(path)
        assert path.exists() and "appended as the next run" in note
        assert (f"run {expected_run}:" if expected_run == 1 else "runs 1-2:") in note
    reader = StoreReader(path)
    assert [r.id for r in reader.runs()] == [1, 2] and reader.count(1) == reader.count(2) == 1
    reader.close()
    junk = tmp_path / "junk" / "shadow.db"
    junk.parent.mkdir()
    for n in (1, 2):
        junk.write_bytes(b"not a store" * 50)
        note = store_note(junk)
        assert not junk.exists() and (junk.parent / f"shadow.db.{n}").read_bytes() == \
            b"not a store" * 50
        assert f"moved to {junk}.{n}" in note


def test_a_foreign_sqlite_file_is_moved_aside_not_appended_to(tmp_path: Path) -> None:
    from harness.store import keep_or_rotate

    path = tmp_path / "shadow.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE mine (x)")
    other.commit()
    other.close()
    assert keep_or_rotate(path) == ([], tmp_path / "shadow.db.1")
    assert not path.exists()
    assert keep_or_rotate(path) == ([], None)  # nothing there now: a new store
