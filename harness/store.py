"""The store: SQLite in WAL mode, written in batches by one thread, read by anyone.

Tables (``schema_version`` 2; a version-1 store gains the two upstream tables when opened
for writing, and reads as having no recorded exchanges until then)::

    runs          id, started_at, finished_at, status, config (JSON), versions (JSON: target
                  -> software version), counters (JSON, the pipeline's at the end)
    observations  id, run_id, seen_at, stored_at, source, client, client_port, qname, qtype,
                  qclass, flag_rd, flag_cd, flag_do, flag_ad, edns_payload, query_wire,
                  staging_wire (the staging resolver's own answer, dnstap CLIENT_RESPONSE or
                  the pcap's response)
    answers       observation_id, target, wire, latency (s), error       -- one per target
    verdicts      observation_id, run_id, kind, category, categories (JSON), explained_by
                  (JSON), evidence (JSON), judged_at
    upstream      observation_id, seq, server, transport, query (wire), answer (wire or
                  NULL), outcome ("answer", "timeout", "error: ..."), at, elapsed -- the
                  candidate's upstream exchanges, kept only for real or undecided verdicts
    upstream_logs observation_id, recorded, dropped (exchanges over the recording cap)

Writes go through :meth:`Store.add` (never blocks: the item is queued) to a writer thread
that commits every ``batch`` items or every ``commit_interval`` seconds, whichever comes first.
WAL with ``synchronous=NORMAL``: a committed batch survives the process being killed
(SIGKILL) -- only a power failure may lose the last batches.  Observation IDs are handed out
when queued, so a later staging answer or verdict can refer to them.

Retention (``max_age_days``, ``max_mb``) runs in the writer thread every
``retention_interval`` seconds: the oldest observations go first, with their answers and
verdicts, and freed pages are returned with incremental vacuum.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import StoreConfig
from harness.evidence import Evidence
from harness.metrics import latency_figures
from harness.records import (
    ExchangeLog,
    Observation,
    Query,
    Source,
    TargetAnswer,
    UpstreamExchange,
    Verdict,
    VerdictKind,
)
from harness.timefmt import iso_utc

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "StoreReader", "StoredRun", "check_store",
           "json_text", "keep_or_rotate"]

log = logging.getLogger("shadowdns.harness.store")

SCHEMA_VERSION = 2
MIGRATABLE = {1}  # older versions this one upgrades in place (tables added)
MAX_QUEUED = 200_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL,
    config TEXT NOT NULL, versions TEXT NOT NULL, counters TEXT);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, seen_at REAL NOT NULL,
    stored_at REAL NOT NULL, source TEXT NOT NULL, client TEXT, client_port INTEGER,
    qname TEXT NOT NULL, qtype INTEGER NOT NULL, qclass INTEGER NOT NULL,
    flag_rd INTEGER NOT NULL, flag_cd INTEGER NOT NULL, flag_do INTEGER NOT NULL,
    flag_ad INTEGER NOT NULL, edns_payload INTEGER, query_wire BLOB, staging_wire BLOB);
CREATE INDEX IF NOT EXISTS observations_run ON observations (run_id, id);
CREATE INDEX IF NOT EXISTS observations_stored ON observations (stored_at);
CREATE TABLE IF NOT EXISTS answers (
    observation_id INTEGER NOT NULL, target TEXT NOT NULL, wire BLOB, latency REAL,
    error TEXT, PRIMARY KEY (observation_id, target)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verdicts (
    observation_id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, kind TEXT NOT NULL,
    category TEXT NOT NULL, categories TEXT NOT NULL, explained_by TEXT NOT NULL,
    evidence TEXT NOT NULL, judged_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS verdicts_run_kind ON verdicts (run_id, kind, observation_id);
CREATE TABLE IF NOT EXISTS upstream (
    observation_id INTEGER NOT NULL, seq INTEGER NOT NULL, server TEXT NOT NULL,
    transport TEXT NOT NULL, query BLOB NOT NULL, answer BLOB, outcome TEXT NOT NULL,
    at REAL NOT NULL, elapsed REAL NOT NULL,
    PRIMARY KEY (observation_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS upstream_logs (
    observation_id INTEGER PRIMARY KEY, recorded INTEGER NOT NULL, dropped INTEGER NOT NULL);
"""


def json_text(value: object) -> str:
    """JSON as the store writes it (bytes as hex, sets and tuples as lists, keys sorted)."""
    def default(item: object) -> object:
        if isinstance(item, bytes | bytearray):
            return item.hex()
        if isinstance(item, set | frozenset | tuple):
            return list(item)
        return str(item)

    return json.dumps(value, default=default, sort_keys=True)


class StoreError(RuntimeError):
    """The store file cannot be written safely (damaged, not a store, another schema); the
    message names the file and what is wrong, and the file was left as it was."""


def check_store(path: Path) -> None:
    """Raise :class:`StoreError` unless ``path`` is absent, empty, or a sound SQLite file.

    Read-only (nothing is written, not even a WAL replay): SQLite's ``quick_check`` reads
    every page, so a store damaged in the middle is refused before a run appends to it and
    spreads the damage, rather than failing later inside the writer thread.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        # With a WAL left behind (a killed run) read through it; without one, open the file
        # as immutable, so that not even the -wal and -shm side files are created.
        wal = path.with_name(path.name + "-wal")
        mode = "mode=ro" if wal.exists() and wal.stat().st_size else "immutable=1"
        connection = sqlite3.connect(f"file:{path}?{mode}", uri=True, timeout=10)
        try:
            problems = [" ".join(str(r[0]).split())  # one line: SQLite's may hold several
                        for r in connection.execute("PRAGMA quick_check(3)")]
        finally:
            connection.close()
    except sqlite3.OperationalError:
        raise  # locked, unreadable: not a verdict on the file; opening it will say why
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: not a usable store ({e}); left as it was: move it away or "
                         "give another store path") from None
    if problems != ["ok"]:
        raise StoreError(f"{path}: the store is damaged ({'; '.join(problems)}); left as it "
                         "was: recover it (sqlite3 .recover) or give another store path")


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10,
                                     check_same_thread=False)
    else:
        connection = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 10000")
    return connection


@dataclass(frozen=True)
class StoredRun:
    id: int
    started_at: float
    finished_at: float | None
    status: str
    config: dict[str, Any]
    versions: dict[str, str]
    counters: dict[str, Any] | None


class Store:
    """The writing side; one per database file."""

    def __init__(self, config: StoreConfig, *,
                 on_commit: Callable[[int], None] | None = None,
                 ignore_duplicates: bool = False) -> None:
        self.config = config
        self.ignore_duplicates = ignore_duplicates
        """An observation whose ID is already stored is skipped (with its answers and
        verdict) and its ID listed in :attr:`duplicate_ids`: the bus collector's idempotent
        writes, keyed by the query's ID (docs/BUS.md)."""
        self.duplicate_ids: list[int] = []
        self.path = Path(config.path)
        self.on_commit = on_commit
        self.committed = 0  # observations committed so far by this Store
        self.errors = 0
        self.overflow = 0
        self.failure: str | None = None
        """Why the store stopped writing (its disk is full, or the file can no longer be
        written); None while it writes.  Set once; the run should stop (the pipeline does)."""
        self.lost = 0
        """Observations handed to the store after, or in the batch of, its failure."""
        self.pruned = 0
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None
        self._next_id = 1
        self.run_id: int | None = None

    # -- lifecycle (event-loop side) -------------------------------------------------------

    def check(self) -> None:
        """Before anything starts: raise :class:`ValueError` (``PATH: why``) if the path holds
        something that is not a shadowdns store, which :meth:`open` must not write into."""
        path = self.path
        if path.is_dir():
            raise ValueError(f"{path}: is a directory")
        if not path.exists() or path.stat().st_size == 0:
            return  # a new store
        try:
            connection = _connect(path, readonly=True)
            try:
                tables = {row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                connection.close()
        except sqlite3.Error as e:
            raise ValueError(f"{path}: not a shadowdns store ({e})") from None
        if tables and not {"meta", "runs", "observations"} <= tables:
            raise ValueError(f"{path}: an SQLite database of something else (tables: "
                             f"{', '.join(sorted(tables)[:5])}); not written to")

    def open(self) -> None:
        """Create or open the database and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_store(self.path)  # refuse a damaged file before anything is written to it
        connection = _connect(self.path)
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes on a new file
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: SQLite refused WAL mode ({mode})")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.executescript(_SCHEMA)
        row = connection.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            connection.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
        elif int(row[0]) in MIGRATABLE:
            log.info("%s: schema version %s upgraded to %d", self.path, row[0], SCHEMA_VERSION)
            connection.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                               (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            connection.close()
            raise StoreError(f"{self.path}: schema version {row[0]}, this shadowdns writes "
                               f"{SCHEMA_VERSION}")
        connection.commit()
        self._next_id = (connection.execute("SELECT max(id) FROM observations").fetchone()[0]
                         or 0) + 1
        self._connection = connection
        self._thread = threading.Thread(target=self._writer, name="shadowdns-store",
                                        daemon=True)
        self._thread.start()

    def start_run(self, config: dict[str, Any], versions: dict[str, str]) -> int:
        assert self._connection is not None
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO runs (started_at, status, config, versions) VALUES (?,?,?,?)",
                (time.time(), "running", json_text(config), json_text(versions)))
            self._connection.commit()
        assert cursor.lastrowid is not None
        self.run_id = int(cursor.lastrowid)
        return self.run_id

    def next_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def add(self, observation: Observation, verdict: Verdict | None) -> bool:
        """Queue an observation (with its ID set) and its verdict; False if the queue is
        full (counted in :attr:`overflow`) or the store has failed (counted in :attr:`lost`)."""
        if self.failure is not None:
            self.lost += 1
            return False
        if self._queue.qsize() >= MAX_QUEUED:
            self.overflow += 1
            return False
        self._queue.put(("observation", observation, verdict, time.time()))
        return True

    def attach_staging(self, observation_id: int, wire: bytes) -> None:
        self._queue.put(("staging", observation_id, wire))

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything queued so far is committed."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self, counters: dict[str, Any] | None = None, status: str = "finished") -> None:
        """Commit what is queued, close the run, stop the writer."""
        if self._thread is not None:
            self._queue.put(("stop", counters, status))
            self._thread.join(60)
            self._thread = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- writer thread ---------------------------------------------------------------------

    def _writer(self) -> None:
        assert self._connection is not None
        db = self._connection
        pending = 0
        observations = 0
        last_commit = time.monotonic()
        last_retention = time.monotonic()
        flushes: list[threading.Event] = []
        interval = self.config.commit_interval
        while True:
            timeout = max(0.0, interval - (time.monotonic() - last_commit))
            try:
                item = self._queue.get(timeout=timeout if pending or flushes else interval)
            except queue.Empty:
                item = None
            stop: tuple[Any, ...] | None = None
            if item is not None and self.failure is not None and item[0] == "observation":
                self.lost += 1  # the store failed: nothing more is written
                item = None
            if item is not None:
                kind = item[0]
                try:
                    with self._lock:
                        if kind == "observation":
                            self._insert(db, item[1], item[2], item[3])
                            pending += 1
                            observations += 1
                        elif kind == "staging":
                            db.execute("UPDATE observations SET staging_wire=? WHERE id=?",
                                       (item[2], item[1]))
                            pending += 1
                        elif kind == "flush":
                            flushes.append(item[1])
                        elif kind == "stop":
                            stop = item
                except sqlite3.Error as e:
                    self.errors += 1
                    if _fatal(e):
                        self._fail(db, e, pending=observations + (kind == "observation"))
                        pending = observations = 0
                    else:
                        log.error("store: %s", e)
            due = time.monotonic() - last_commit >= interval
            if pending and (pending >= self.config.batch or due or flushes or stop):
                self._commit(db, observations)
                pending = observations = 0
                last_commit = time.monotonic()
            elif due:
                last_commit = time.monotonic()
            for event in flushes:
                event.set()
            flushes.clear()
            if time.monotonic() - last_retention >= self.config.retention_interval:
                last_retention = time.monotonic()
                self._retention(db)
            if stop is not None:
                self._finish_run(db, stop[1], stop[2])
                return

    def _fail(self, db: sqlite3.Connection, e: sqlite3.Error, pending: int) -> None:
        """The file can take no more (disk full, I/O error): roll the open batch back, keep
        what was committed, and write nothing more -- said once, not per observation."""
        with contextlib.suppress(sqlite3.Error), self._lock:
            db.rollback()
        self.lost += pending
        if self.failure is None:
            self.failure = f"{self.path}: {e}"
            log.error("store: %s: %s; nothing more is written (%d observations committed and "
                      "kept)", self.path, e, self.committed)

    def _commit(self, db: sqlite3.Connection, observations: int) -> None:
        if self.failure is not None:
            self.lost += observations
            return
        try:
            with self._lock:
                db.commit()
        except sqlite3.Error as e:
            self.errors += 1
            if _fatal(e):
                self._fail(db, e, pending=observations)
                return
            log.error("store: commit failed: %s", e)
            return
        self.committed += observations
        if self.on_commit is not None:
            self.on_commit(self.committed)

    def _insert(self, db: sqlite3.Connection, obs: Observation, verdict: Verdict | None,
                stored_at: float) -> None:
        q = obs.query
        verb = "INSERT OR IGNORE" if self.ignore_duplicates else "INSERT"
        cursor = db.execute(
            f"{verb} INTO observations (id, run_id, seen_at, stored_at, source, client, "
            "client_port, qname, qtype, qclass, flag_rd, flag_cd, flag_do, flag_ad, "
            "edns_payload, query_wire, staging_wire) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (obs.id, obs.run_id if obs.run_id is not None else self.run_id, q.seen_at,
             stored_at, q.source.value, q.client, q.client_port, q.qname, q.qtype, q.qclass,
             q.rd, q.cd, q.do, q.ad, q.edns_payload, q.wire, obs.staging_wire))
        if cursor.rowcount == 0:  # (only with ignore_duplicates: a plain INSERT raises)
            assert obs.id is not None
            self.duplicate_ids.append(obs.id)
            return
        db.executemany(
            "INSERT INTO answers (observation_id, target, wire, latency, error) "
            "VALUES (?,?,?,?,?)",
            [(obs.id, a.target, a.wire, a.latency, a.error) for a in obs.answers.values()])
        if verdict is not None:
            db.execute(
                "INSERT OR REPLACE INTO verdicts (observation_id, run_id, kind, category, "
                "categories, explained_by, evidence, judged_at) VALUES (?,?,?,?,?,?,?,?)",
                (obs.id, obs.run_id if obs.run_id is not None else self.run_id,
                 verdict.kind.value, verdict.category, json_text(verdict.categories),
                 json_text(verdict.explained_by), json_text(verdict.evidence.to_json()),
                 time.time()))
        upstream = obs.upstream
        if upstream is not None:
            db.execute("INSERT OR REPLACE INTO upstream_logs VALUES (?,?,?)",
                       (obs.id, len(upstream.exchanges), upstream.dropped))
            db.executemany(
                "INSERT OR REPLACE INTO upstream (observation_id, seq, server, transport, "
                "query, answer, outcome, at, elapsed) VALUES (?,?,?,?,?,?,?,?,?)",
                [(obs.id, i, x.server, x.transport, x.query, x.answer, x.outcome, x.at,
                  x.elapsed) for i, x in enumerate(upstream.exchanges)])

    def _retention(self, db: sqlite3.Connection) -> None:
        config = self.config
        try:
            with self._lock:
                removed = 0
                if config.max_age_days is not None:
                    cutoff = time.time() - config.max_age_days * 86400
                    removed += _delete_where(db, "stored_at < ?", (cutoff,))
                if config.max_mb is not None:
                    limit = config.max_mb * 1024 * 1024
                    for _ in range(20):
                        if _used_bytes(db) <= limit:
                            break
                        total = db.execute("SELECT count(*) FROM observations").fetchone()[0]
                        if not total:
                            break
                        cut = db.execute(
                            "SELECT id FROM observations ORDER BY id LIMIT 1 OFFSET ?",
                            (max(1, total // 10),)).fetchone()
                        if cut is None:
                            break
                        removed += _delete_where(db, "id < ?", (cut[0],))
                        db.commit()
                        db.executescript("PRAGMA incremental_vacuum;")
                db.commit()
                if removed:
                    db.executescript("PRAGMA incremental_vacuum;")
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                    self.pruned += removed
                    log.info("store: retention removed %d observations", removed)
        except sqlite3.Error as e:
            self.errors += 1
            log.error("store: retention failed: %s", e)

    def _finish_run(self, db: sqlite3.Connection, counters: dict[str, Any] | None,
                    status: str) -> None:
        try:
            with self._lock:
                db.execute("UPDATE runs SET finished_at=?, status=?, counters=? WHERE id=?",
                           (time.time(), status, json_text(counters or {}), self.run_id))
                db.commit()
        except sqlite3.Error as e:
            self.errors += 1
            log.error("store: closing the run failed: %s", e)


_FATAL_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
                          sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT})


def _fatal(e: sqlite3.Error) -> bool:
    """An error after which the file takes no more writes (as opposed to one bad row)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _FATAL_CODES  # extended codes keep the primary in the low byte
    return "full" in str(e) or "disk I/O" in str(e)


def _delete_where(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> int:
    ids = f"SELECT id FROM observations WHERE {where}"
    db.execute(f"DELETE FROM upstream WHERE observation_id IN ({ids})", args)
    db.execute(f"DELETE FROM upstream_logs WHERE observation_id IN ({ids})", args)
    db.execute(f"DELETE FROM answers WHERE observation_id IN ({ids})", args)
    db.execute(f"DELETE FROM verdicts WHERE observation_id IN ({ids})", args)
    return db.execute(f"DELETE FROM observations WHERE {where}", args).rowcount


def _used_bytes(db: sqlite3.Connection) -> int:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


class StoreReader:
    """Reading a store (while a run writes it, or afterwards): runs, observations, verdicts."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such store")
        self._db = _connect(self.path, readonly=True)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def runs(self) -> list[StoredRun]:
        return [StoredRun(r["id"], r["started_at"], r["finished_at"], r["status"],
                          json.loads(r["config"]), json.loads(r["versions"]),
                          json.loads(r["counters"]) if r["counters"] else None)
                for r in self._rows("SELECT * FROM runs ORDER BY id")]

    def count(self, run_id: int | None = None) -> int:
        if run_id is None:
            return int(self._rows("SELECT count(*) AS n FROM observations")[0]["n"])
        return int(self._rows("SELECT count(*) AS n FROM observations WHERE run_id=?",
                              (run_id,))[0]["n"])

    def verdict_counts(self, run_id: int) -> dict[str, int]:
        return {r["kind"]: r["n"] for r in self._rows(
            "SELECT kind, count(*) AS n FROM verdicts WHERE run_id=? GROUP BY kind", (run_id,))}

    def category_counts(self, run_id: int, kinds: tuple[str, ...] = ("real",)
                        ) -> dict[str, int]:
        marks = ",".join("?" * len(kinds))
        return {r["category"]: r["n"] for r in self._rows(
            f"SELECT category, count(*) AS n FROM verdicts WHERE run_id=? AND kind IN ({marks})"
            " GROUP BY category ORDER BY n DESC", (run_id, *kinds))}

    def latency_figures(self, run_id: int) -> dict[str, dict[str, float | None]]:
        """Per target, :func:`harness.metrics.latency_figures` of the run: every answer with a
        response to the run's stored observations (re-queries are not stored here), streamed
        in order from SQLite, so a long run's millions of latencies are never held at once.
        """
        where = ("FROM answers a JOIN observations o ON o.id = a.observation_id WHERE "
                 "o.run_id=? AND a.wire IS NOT NULL AND a.latency IS NOT NULL "
                 "AND a.latency >= 0")
        out: dict[str, dict[str, float | None]] = {}
        with self._lock:
            self._db.execute("BEGIN")  # one snapshot: the counts fit the rows of a live run
            try:
                counts = [(str(t), int(n)) for t, n in self._db.execute(
                    f"SELECT a.target, count(*) {where} GROUP BY a.target", (run_id,))]
                for target, n in counts:
                    rows = self._db.execute(
                        f"SELECT a.latency {where} AND a.target=? ORDER BY a.latency",
                        (run_id, target))
                    out[target] = latency_figures((float(r[0]) for r in rows), n)
            finally:
                self._db.execute("COMMIT")
        return out

    def divergences(self, run_id: int | None = None, limit: int = 20,
                    kinds: tuple[str, ...] = ("real",)) -> list[dict[str, Any]]:
        """The latest observations judged as one of ``kinds``, newest first (``seen_at`` in
        ISO 8601 UTC with milliseconds, as every export writes it: :mod:`harness.timefmt`)."""
        marks = ",".join("?" * len(kinds))
        where = f"v.kind IN ({marks})" + (" AND v.run_id = ?" if run_id is not None else "")
        args: tuple[Any, ...] = (*kinds, run_id) if run_id is not None else tuple(kinds)
        rows = self._rows(
            "SELECT o.id, o.run_id, o.seen_at, o.qname, o.qtype, o.source, v.kind, v.category,"
            " v.categories, v.evidence FROM verdicts v JOIN observations o ON o.id ="
            f" v.observation_id WHERE {where} ORDER BY v.observation_id DESC LIMIT ?",
            (*args, limit))
        return [{"id": r["id"], "run_id": r["run_id"], "seen_at": iso_utc(r["seen_at"]),
                 "qname": r["qname"], "qtype": r["qtype"], "source": r["source"],
                 "kind": r["kind"], "category": r["category"],
                 "categories": json.loads(r["categories"]),
                 "evidence": Evidence.from_json(json.loads(r["evidence"]),
                                                f"{self.path}: verdict {r['id']}'s evidence")}
                for r in rows]

    def observation(self, observation_id: int) -> Observation | None:
        rows = self._rows("SELECT * FROM observations WHERE id=?", (observation_id,))
        if not rows:
            return None
        return self._observation(rows[0])

    def observations(self, run_id: int) -> Iterator[Observation]:
        for row in self._rows("SELECT * FROM observations WHERE run_id=? ORDER BY id",
                              (run_id,)):
            yield self._observation(row)

    def _observation(self, r: sqlite3.Row) -> Observation:
        query = Query(qname=r["qname"], qtype=r["qtype"], qclass=r["qclass"],
                      rd=bool(r["flag_rd"]), cd=bool(r["flag_cd"]), do=bool(r["flag_do"]),
                      ad=bool(r["flag_ad"]), edns_payload=r["edns_payload"],
                      source=Source(r["source"]), client=r["client"],
                      client_port=r["client_port"], seen_at=r["seen_at"],
                      wire=r["query_wire"])
        answers = {a["target"]: TargetAnswer(a["target"], a["wire"], a["latency"], a["error"])
                   for a in self._rows("SELECT * FROM answers WHERE observation_id=?",
                                       (r["id"],))}
        return Observation(query=query, answers=answers, staging_wire=r["staging_wire"],
                           id=r["id"], run_id=r["run_id"])

    def _has_table(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                               (name,)))

    def upstream(self, observation_id: int) -> ExchangeLog | None:
        """The candidate's recorded upstream exchanges for an observation (None: none were
        kept, or the store predates recording)."""
        if not self._has_table("upstream_logs"):
            return None
        head = self._rows("SELECT * FROM upstream_logs WHERE observation_id=?",
                          (observation_id,))
        if not head:
            return None
        rows = self._rows("SELECT * FROM upstream WHERE observation_id=? ORDER BY seq",
                          (observation_id,))
        log_ = ExchangeLog(max_bytes=1 << 62, dropped=int(head[0]["dropped"]))
        for r in rows:
            log_.add(UpstreamExchange(r["server"], r["transport"], bytes(r["query"]),
                                      bytes(r["answer"]) if r["answer"] is not None else None,
                                      r["outcome"], r["at"], r["elapsed"]))
        return log_

    def with_upstream(self, run_id: int | None = None, kinds: tuple[str, ...] = ("real",)
                      ) -> int:
        """How many observations judged as one of ``kinds`` have recorded exchanges."""
        if not self._has_table("upstream_logs"):
            return 0
        marks = ",".join("?" * len(kinds))
        where = f"v.kind IN ({marks})" + (" AND v.run_id = ?" if run_id is not None else "")
        args: tuple[Any, ...] = (*kinds, run_id) if run_id is not None else tuple(kinds)
        rows = self._rows("SELECT count(*) AS n FROM verdicts v JOIN upstream_logs u ON "
                          f"u.observation_id = v.observation_id WHERE {where} AND "
                          "u.recorded > 0", args)
        return int(rows[0]["n"])

    def verdict(self, observation_id: int) -> Verdict | None:
        rows = self._rows("SELECT * FROM verdicts WHERE observation_id=?", (observation_id,))
        if not rows:
            return None
        r = rows[0]
        return Verdict(observation_id, VerdictKind(r["kind"]), r["category"],
                       json.loads(r["categories"]), json.loads(r["explained_by"]),
                       Evidence.from_json(json.loads(r["evidence"]),
                                          f"{self.path}: verdict {observation_id}'s evidence"))


@contextlib.contextmanager
def reading(path: Path) -> Iterator[StoreReader]:
    reader = StoreReader(path)
    try:
        yield reader
    finally:
        reader.close()


def keep_or_rotate(path: Path) -> tuple[list[int], Path | None]:
    """Before a run that writes ``path``: the IDs of the runs it already holds (the new run
    is appended after them, nothing is deleted), or, when ``path`` is not a store this
    shadowdns can append to (not SQLite, another schema version), where it was moved so that
    nothing is lost: the first free ``path.1``, ``path.2``, ... (its -wal and -shm along)."""
    path = Path(path)
    if not path.exists():
        return [], None
    try:
        check_store(path)
        connection = _connect(path)  # as the run will open it (a WAL left behind is replayed)
        try:
            row = connection.execute(
                "SELECT value FROM meta WHERE key='schema_version'").fetchone()
            ids = [int(r[0]) for r in connection.execute("SELECT id FROM runs ORDER BY id")]
        finally:
            connection.close()
        if row is not None and int(row[0]) == SCHEMA_VERSION:
            return ids, None
    except sqlite3.OperationalError as e:
        if "no such table" not in str(e):
            return [], None  # locked, unreadable: not ours to move; opening it will say why
    except (sqlite3.DatabaseError, ValueError, StoreError):
        pass  # not SQLite, or damaged: moved aside
    n = 1
    while path.with_name(f"{path.name}.{n}").exists():
        n += 1
    moved = path.with_name(f"{path.name}.{n}")
    path.rename(moved)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(moved.with_name(moved.name + suffix))
    return [], moved
