"""A store damaged in the middle (a valid SQLite header, pages overwritten): a run refuses
it with a one-line error naming the file and leaves every byte as it was; the demo's
keep-or-rotate moves it aside whole instead of appending to it.  Real SQLite files."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from harness.config import StoreConfig
from harness.store import Store, StoreError, check_store, keep_or_rotate
from tests.unit.test_harness_store import observation


def _store_with(path: Path, n: int) -> None:
    store = Store(StoreConfig(path=path, commit_interval=0.05))
    store.open()
    run = store.start_run({}, {})
    for _ in range(n):
        assert store.add(observation(store, run), None)
    store.close({"seen": n})


def _damage(path: Path) -> str:
    """Overwrite 8 KB in the middle of the file (the header stays valid); its digest."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8192] = b"\xde\xad" * 4096
    path.write_bytes(bytes(data))
    return hashlib.sha256(data).hexdigest()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_sound_store_passes_and_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    check_store(path)  # absent: fine, a new store
    _store_with(path, 50)
    check_store(path)
    assert keep_or_rotate(path) == ([1], None)


def test_a_damaged_store_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    _store_with(path, 3000)
    digest = _damage(path)
    store = Store(StoreConfig(path=path, commit_interval=0.05))
    with pytest.raises(StoreError) as caught:
        store.open()
    message = str(caught.value)
    assert message.startswith(f"{path}: the store is damaged") and "\n" not in message
    assert "left as it was" in message
    assert _digest(path) == digest
    assert not path.with_name(path.name + "-wal").exists()  # not even a WAL was started
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:  # the damage is real: reading the rows fails
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            db.execute("SELECT count(*), sum(length(query_wire)) FROM observations "
                       "JOIN answers ON answers.observation_id = observations.id").fetchall()
    finally:
        db.close()


def test_a_file_that_is_not_sqlite_is_refused_by_a_run(tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    digest = _digest(path)
    with pytest.raises(StoreError, match=f"^{path}: not a usable store"):
        Store(StoreConfig(path=path)).open()
    assert _digest(path) == digest


def test_the_demo_moves_a_damaged_store_aside_whole(tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    _store_with(path, 3000)
    digest = _damage(path)
    assert keep_or_rotate(path) == ([], tmp_path / "shadow.db.1")
    assert not path.exists() and _digest(tmp_path / "shadow.db.1") == digest
