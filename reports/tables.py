"""The store read into pandas frames, with as little per-row Python as possible.

:func:`load` reads one run.  The store (``harness.store``) is opened read-only with a
connection of our own; only the columns the report needs are read:

* counts by verdict kind come from the ``verdicts_run_kind`` index, categories and evidence
  only for the verdicts that are not ``equal`` (a few percent of a run);
* the ``answers`` table is read once, as one range scan in primary-key order
  (``observation_id`` between the run's first and last), four numbers a row: observation,
  target and whether it answered, latency, and the response's fourth header byte (AD and
  rcode), taken in SQL so that no wire is copied out.  ``numpy.fromiter`` turns the rows into
  arrays; pandas does the rest vectorised;
* wires are read back only for SERVFAILs (their Extended DNS Error codes tell bogus from
  the rest; :mod:`reports.wire` reads them without dnspython) and for one reference answer
  per divergent name (its zone).

The DNSSEC state of an answer follows :mod:`harness.differ.classify`: ``secure`` (NOERROR or
NXDOMAIN with AD), ``insecure`` (the same without AD, to a query with DO or AD), ``bogus``
(SERVFAIL with a DNSSEC EDE), ``indeterminate`` (anything else); where the differ recorded
its own view in a verdict's evidence (``evidence.dnssec``, which includes the CD=1
re-query), that view wins.  ``none``: the target did not answer.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness import evidence as ev
from harness.differ.classify import DNSSEC_EDE
from harness.differ.normalise import domain_of
from harness.records import CANDIDATE
from harness.store import StoredRun, StoreReader
from reports.wire import Facts, facts

__all__ = ["STATES", "StoreError", "Tables", "choose_run", "connect", "load"]

STATES = ("secure", "insecure", "bogus", "indeterminate", "none")
"""DNSSEC states in display order (``none``: no answer)."""

_SECURE, _INSECURE, _BOGUS, _INDETERMINATE, _NONE = range(5)
_SERVFAIL = 2
_ANSWERED_RCODES = (0, 3)
_AD = 0x20
_UNREADABLE = 65533  # unicode() of a byte SQLite cannot read as UTF-8 (Z bit set)
_CHUNK = 900  # ids per IN (...) list
MAX_ZONE_NAMES = 20_000
"""At most this many divergent names get their zone read from a reference answer; the
rest fall back to their registered domain."""


class StoreError(Exception):
    """The store cannot be read, or has no such run."""


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection tuned for scans."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such store")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA mmap_size = 4294967296")
        db.execute("PRAGMA cache_size = -262144")
        db.execute("SELECT count(*) FROM runs").fetchone()
    except sqlite3.Error as e:
        raise StoreError(f"{path}: not a shadowdns store ({e})") from None
    return db


def choose_run(runs: Sequence[StoredRun], run: int | None, path: Path) -> StoredRun:
    """``run`` by ID, or the latest run."""
    if not runs:
        raise StoreError(f"{path}: the store holds no runs yet")
    if run is None:
        return runs[-1]
    for r in runs:
        if r.id == run:
            return r
    raise StoreError(f"{path}: no run {run} (runs: {', '.join(str(r.id) for r in runs)})")


@dataclass
class Tables:
    """One run of the store, as frames (see the module docstring)."""

    path: Path
    run: StoredRun
    run_ids: list[int]
    candidate: str
    references: list[str]  # the primary (the one the differ compares against) first
    stored: int  # observations stored for the run
    kinds: dict[str, int]  # verdicts by kind
    categories: pd.DataFrame  # kind, category, n (every kind but equal)
    per_obs: pd.DataFrame  # index id: qtype, kind, category, c_state, r_state, c_rcode, r_rcode
    latency: dict[str, npt.NDArray[np.float64]]  # target -> seconds, answered queries only
    errors: dict[str, int]  # target -> answers without a response
    normalisers: pd.DataFrame  # normaliser, kind, categories (list), verdicts, differences
    ede: pd.DataFrame  # kind, candidate, reference, n (differences of EDE codes)
    sides: pd.DataFrame  # kind (timeout|unstable), side, n
    divergent: pd.DataFrame  # id, qname, qtype, category, domain, zone (real verdicts)
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.references[0] if self.references else ""

    @property
    def judged(self) -> int:
        return sum(self.kinds.values())


# -- roles ---------------------------------------------------------------------------------


def roles(run: StoredRun, seen_targets: Iterable[str] = ()) -> tuple[str, list[str]]:
    """(candidate, references with the primary first) from the run's config and versions."""
    config = run.config or {}
    cand = config.get("candidate") if isinstance(config.get("candidate"), dict) else None
    candidate = str(cand.get("name") or CANDIDATE) if cand else CANDIDATE
    refs: list[str] = []
    for r in config.get("references") or []:
        if isinstance(r, dict) and r.get("name"):
            refs.append(str(r["name"]))
    for name in itertools.chain(run.versions or {}, seen_targets):
        if name != candidate and name not in refs:
            refs.append(name)
    return candidate, refs


# -- loading -------------------------------------------------------------------------------


def load(path: Path, run: int | None = None) -> Tables:
    """Read one run of the store at ``path`` (the latest when ``run`` is None)."""
    path = Path(path)
    db = connect(path)
    try:
        reader = StoreReader(path)
        try:
            runs = reader.runs()
        finally:
            reader.close()
        chosen = choose_run(runs, run, path)
        return _load(db, path, chosen, [r.id for r in runs])
    except sqlite3.Error as e:
        raise StoreError(f"{path}: {e}") from None
    finally:
        db.close()


def _replayable(db: sqlite3.Connection, rid: int) -> int:
    """Real divergences of run ``rid`` whose candidate's upstream exchanges were recorded
    (what ``report scenario`` needs)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name='upstream_logs'").fetchone():
        return 0
    return int(db.execute(
        "SELECT count(*) FROM verdicts v JOIN upstream_logs u ON u.observation_id = "
        "v.observation_id WHERE v.run_id=? AND v.kind='real' AND u.recorded > 0",
        (rid,)).fetchone()[0])


def _load(db: sqlite3.Connection, path: Path, run: StoredRun, run_ids: list[int]) -> Tables:
    rid = run.id
    lo, hi, stored = db.execute(
        "SELECT min(id), max(id), count(*) FROM observations WHERE run_id=?", (rid,)).fetchone()
    stored = int(stored or 0)
    targets = _targets(db, run, lo)
    candidate, references = roles(run, targets)
    order = [candidate, *references]
    for t in targets:
        if t not in order:
            order.append(t)
    kinds = {str(k): int(n) for k, n in db.execute(
        "SELECT kind, count(*) FROM verdicts WHERE run_id=? GROUP BY kind", (rid,))}
    categories = pd.DataFrame(db.execute(
        "SELECT kind, category, count(*) FROM verdicts WHERE run_id=? AND kind != 'equal' "
        "GROUP BY kind, category", (rid,)).fetchall(), columns=["kind", "category", "n"])
    notes: list[str] = []
    if kinds.get("real") and "candidate_setup" in run.config:  # an in-process candidate
        notes.append(f"{_replayable(db, rid)} of {kinds['real']} real divergences have a "
                     "replay scenario (shadowdns report scenario ID -o FILE; report explain "
                     "ID shows the command)")

    ids, qtype, asked = _observations(db, rid, stored)
    per_obs, latency, errors = _per_observation(ids, qtype, asked,
                                                _answers(db, lo, hi, order, ids), order)
    _verdict_columns(db, rid, per_obs, kinds, stored)
    _servfail_states(db, per_obs, order)
    normalisers = _normalisers(db, rid)
    ede = pd.DataFrame(db.execute(
        f"SELECT v.kind, ifnull(json_extract(d.value, '{ev.ENTRY_CANDIDATE}'), 'none'), "
        f"ifnull(json_extract(d.value, '{ev.ENTRY_REFERENCE}'), 'none'), count(*) "
        f"FROM verdicts v, json_each(v.evidence, '{ev.PATH_DIFFERENCES}') d "
        "WHERE v.run_id=? AND v.kind != 'equal' AND v.categories LIKE '%dnssec.ede%' "
        f"AND json_extract(d.value, '{ev.ENTRY_CATEGORY}') = 'dnssec.ede' GROUP BY 1, 2, 3",
        (rid,)).fetchall(), columns=["kind", "candidate", "reference", "n"])
    ede["candidate"] = ede["candidate"].astype(str)
    ede["reference"] = ede["reference"].astype(str)
    # The differ says which side (evidence.side, .unstable_side); the exact judge lists
    # timeout.<target> categories.
    sides = pd.DataFrame(db.execute(
        f"SELECT kind, coalesce(json_extract(evidence, '{ev.PATH_SIDE}'), "
        f"json_extract(evidence, '{ev.PATH_UNSTABLE_SIDE}'), "
        "CASE WHEN categories = ? THEN 'candidate' WHEN instr(categories, ?) THEN 'both' "
        "WHEN categories LIKE '[\"timeout.%' THEN 'reference' END, category), count(*) "
        "FROM verdicts WHERE run_id=? AND kind IN ('timeout', 'unstable') GROUP BY 1, 2",
        (json.dumps([f"timeout.{candidate}"]), f'"timeout.{candidate}"', rid)).fetchall(),
        columns=["kind", "side", "n"])
    divergent = _divergent(db, rid, [t for t in (references[:1] + [candidate]) if t], notes)
    return Tables(path=path, run=run, run_ids=run_ids, candidate=candidate,
                  references=references, stored=stored, kinds=kinds, categories=categories,
                  per_obs=per_obs, latency=latency, errors=errors, normalisers=normalisers,
                  ede=ede, sides=sides, divergent=divergent, notes=notes)


def _targets(db: sqlite3.Connection, run: StoredRun, first_id: int | None) -> list[str]:
    names = list(run.versions or {})
    if first_id is not None:
        for (t,) in db.execute("SELECT target FROM answers WHERE observation_id=?",
                               (first_id,)):
            if t not in names:
                names.append(str(t))
    return names


def _observations(db: sqlite3.Connection, rid: int, stored: int
                  ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    # One packed integer a row: the sqlite3 module's cost is per value, not per byte.
    cursor = db.execute("SELECT id * 131072 + qtype * 2 + (flag_do OR flag_ad) "
                        "FROM observations WHERE run_id=? ORDER BY id", (rid,))
    packed = np.fromiter((r[0] for r in cursor), dtype=np.int64, count=stored)
    return packed >> 17, ((packed >> 1) & 0xFFFF).astype(np.int32), (packed & 1).astype(bool)


_HEADER = ("CASE WHEN wire IS NULL THEN 0 WHEN length(wire) < 12 THEN 258 "
           "ELSE min(ifnull(unicode(substr(wire, 4, 1)), 0), 256) + 1 END")
"""The fourth header byte (RA, Z, AD, CD, rcode) plus one; 0: no response; 257: a byte
``unicode()`` cannot read (the Z bit set); 258: too short to be a response."""
_READ_WIRE = -2  # an rcode placeholder: read this answer from its wire


@dataclass
class _Answers:
    oid: npt.NDArray[np.int64]
    target: npt.NDArray[np.int64]  # index into the target order; len(order) for others
    answered: npt.NDArray[np.bool_]
    header: npt.NDArray[np.int64]  # see _HEADER
    latency: npt.NDArray[np.float64]  # -1: none recorded


def _answers(db: sqlite3.Connection, lo: int | None, hi: int | None, order: list[str],
             ids: npt.NDArray[np.int64]) -> _Answers:
    """Every answer of the run's observations, two values a row (packed code, latency)."""
    if lo is None or hi is None or not order:
        empty = np.empty(0, dtype=np.int64)
        return _Answers(empty, empty, empty.astype(bool), empty, empty.astype(np.float64))
    known = order[:15]
    cases = " ".join(f"WHEN ? THEN {i}" for i in range(len(known)))
    sql = (f"SELECT ((observation_id * 16 + (CASE target {cases} ELSE 15 END)) * 2 "
           f"+ (wire IS NULL)) * 512 + {_HEADER}, ifnull(latency, -1.0) "
           "FROM answers WHERE observation_id BETWEEN ? AND ?")
    cursor = db.execute(sql, (*known, lo, hi))
    flat = np.fromiter(itertools.chain.from_iterable(cursor), dtype=np.float64)
    code = flat[0::2].astype(np.int64)
    latency = flat[1::2]
    oid = code >> 14
    if len(ids) != hi - lo + 1:  # other runs' observations interleave: keep ours
        mine = np.isin(oid, ids)
        code, latency, oid = code[mine], latency[mine], oid[mine]
    return _Answers(oid, (code >> 10) & 15, ((code >> 9) & 1) == 0, code & 511, latency)


def _state(rcode: npt.NDArray[np.int64], ad: npt.NDArray[np.bool_],
           asked: npt.NDArray[np.bool_], answered: npt.NDArray[np.bool_]
           ) -> npt.NDArray[np.int8]:
    answered_rcode = np.isin(rcode, _ANSWERED_RCODES)
    state = np.full(len(rcode), _INDETERMINATE, dtype=np.int8)
    state[answered_rcode & ~ad & asked] = _INSECURE
    state[answered_rcode & ad] = _SECURE
    state[~answered] = _NONE
    return state


def _per_observation(ids: npt.NDArray[np.int64], qtype: npt.NDArray[np.int32],
                     asked: npt.NDArray[np.bool_], a: _Answers, order: list[str]
                     ) -> tuple[pd.DataFrame, dict[str, npt.NDArray[np.float64]], dict[str, int]]:
    n = len(ids)
    latency: dict[str, npt.NDArray[np.float64]] = {}
    errors: dict[str, int] = {}
    for i, name in enumerate(order[:15]):
        mine = a.target == i
        if not mine.any():
            continue
        latency[name] = np.sort(a.latency[mine & a.answered & (a.latency >= 0)])
        errors[name] = int((mine & ~a.answered).sum())
    pos = np.clip(np.searchsorted(ids, a.oid), 0, max(n - 1, 0))
    frame: dict[str, Any] = {"qtype": qtype, "asked": asked}
    for prefix, index in (("c", 0), ("r", 1)):
        header = np.zeros(n, dtype=np.int64)
        lt = np.full(n, np.nan)
        mine = a.target == index
        p = pos[mine]
        header[p] = a.header[mine]
        lt[p] = np.where(a.answered[mine] & (a.latency[mine] >= 0), a.latency[mine], np.nan)
        has = header > 0
        byte = header - 1
        rc = np.where(has, byte & 0x0F, -1)
        unreadable = header > 256
        rc[unreadable] = _READ_WIRE
        ad = has & ~unreadable & ((byte & _AD) != 0)
        frame[f"{prefix}_rcode"] = rc
        frame[f"{prefix}_state"] = _state(rc, ad, asked, has)
        frame[f"{prefix}_latency"] = lt
    per_obs = pd.DataFrame(frame, index=pd.Index(ids, name="id"))
    return per_obs, latency, errors


def _verdict_columns(db: sqlite3.Connection, rid: int, per_obs: pd.DataFrame,
                     kinds: dict[str, int], stored: int) -> None:
    """kind and category per observation (categoricals); the differ's DNSSEC states where
    its evidence gave them."""
    ids = per_obs.index.to_numpy()
    rows = db.execute(
        "SELECT observation_id, kind, category, "
        f"CASE WHEN instr(evidence, '{ev.KEY_DNSSEC}') "
        f"THEN json_extract(evidence, '{ev.PATH_DNSSEC_CANDIDATE}') END, "
        f"CASE WHEN instr(evidence, '{ev.KEY_DNSSEC}') "
        f"THEN json_extract(evidence, '{ev.PATH_DNSSEC_REFERENCE}') END FROM verdicts "
        "WHERE run_id=? AND kind != 'equal' ORDER BY observation_id", (rid,)).fetchall()
    v = pd.DataFrame(rows, columns=["id", "kind", "category", "c", "r"])
    v = v[np.isin(v["id"].to_numpy(dtype=np.int64), ids)]
    default = "equal"
    if sum(kinds.values()) < stored:  # some observations were never judged
        default = "unjudged"
    kind_names = [default, "equal", *sorted(set(v["kind"]) - {"equal", default})]
    cat_names = [default, "equal", *sorted(set(v["category"]) - {"equal", default})]
    kind_codes = np.zeros(len(ids), dtype=np.int16)
    cat_codes = np.zeros(len(ids), dtype=np.int32)
    if default != "equal":
        equal = np.fromiter((r[0] for r in db.execute(
            "SELECT observation_id FROM verdicts WHERE run_id=? AND kind='equal'", (rid,))),
            dtype=np.int64)
        hit = np.isin(ids, equal)
        kind_codes[hit] = 1
        cat_codes[hit] = 1
    pos = np.searchsorted(ids, v["id"].to_numpy(dtype=np.int64))
    kind_index = {k: i for i, k in enumerate(kind_names)}
    cat_index = {c: i for i, c in enumerate(cat_names)}
    kind_codes[pos] = v["kind"].map(kind_index).to_numpy(dtype=np.int16)
    cat_codes[pos] = v["category"].map(cat_index).to_numpy(dtype=np.int32)
    per_obs["kind"] = pd.Categorical.from_codes(kind_codes, categories=_unique(kind_names))
    per_obs["category"] = pd.Categorical.from_codes(cat_codes, categories=_unique(cat_names))
    codes = {s: i for i, s in enumerate(STATES)}
    for col, target in (("c", "c_state"), ("r", "r_state")):
        given = v[col].map(codes)
        known = given.notna().to_numpy()
        if known.any():
            values = per_obs[target].to_numpy().copy()
            values[pos[known]] = given[known].to_numpy(dtype=np.int8)
            per_obs[target] = values


def _unique(names: list[str]) -> list[str]:
    """Category labels must be unique; codes refer to the first occurrence."""
    seen: list[str] = []
    for n in names:
        seen.append(n if n not in seen else f"{n} ")
    return seen


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]


def _wires(db: sqlite3.Connection, ids: Sequence[int], target: str
           ) -> Iterable[tuple[int, bytes]]:
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        yield from db.execute(
            f"SELECT observation_id, wire FROM answers WHERE target=? AND wire IS NOT NULL "
            f"AND observation_id IN ({marks})", (target, *chunk))


def _servfail_states(db: sqlite3.Connection, per_obs: pd.DataFrame, order: list[str]) -> None:
    """SERVFAIL with a DNSSEC EDE is bogus; answers whose header SQL could not read are
    read from the wire.  Rows whose state the differ gave are left alone, and for an equal
    verdict the candidate's answer is the reference's (the differ found the bytes equal)."""
    asked = per_obs["asked"].to_numpy()
    ids = per_obs.index.to_numpy()
    equal = (per_obs["kind"] == "equal").to_numpy()
    cache: dict[bytes, tuple[int, int] | None] = {}
    done: dict[str, tuple[npt.NDArray[np.bool_], npt.NDArray[np.int8],
                          npt.NDArray[np.int64]]] = {}
    for prefix, index in (("r", 1), ("c", 0)):
        if index >= len(order):
            continue
        rc = per_obs[f"{prefix}_rcode"].to_numpy().copy()
        state = per_obs[f"{prefix}_state"].to_numpy().copy()
        todo = ((rc == _SERVFAIL) & (state == _INDETERMINATE)) | (rc == _READ_WIRE)
        if prefix == "c" and "r" in done:
            r_todo, r_state, r_rcode = done["r"]
            copy = todo & equal & r_todo & (rc == r_rcode)
            state[copy] = r_state[copy]
            todo &= ~copy
        positions = np.flatnonzero(todo)
        read = {int(ids[i]): int(i) for i in positions}
        for oid, wire in _wires(db, list(read), order[index]):
            key = wire[2:]
            if key in cache:
                got = cache[key]
            else:
                f = facts(wire)
                got = None if f is None else (f.rcode & 0x0F, _wire_state(f))
                cache[key] = got
            i = read[oid]
            if got is None:
                rc[i], state[i] = -3, _INDETERMINATE  # not a well-formed response
                continue
            rc[i] = got[0]
            s = got[1]
            state[i] = _INSECURE if s == _INSECURE + 10 and asked[i] else (
                _INDETERMINATE if s == _INSECURE + 10 else s)
        done[prefix] = (todo, state, rc)
        per_obs[f"{prefix}_rcode"] = rc
        per_obs[f"{prefix}_state"] = state


def _wire_state(f: Facts) -> int:
    """The state from :class:`reports.wire.Facts`; ``_INSECURE + 10``: insecure if the query
    asked for DNSSEC, else indeterminate."""
    rcode = f.rcode & 0x0F
    if rcode == _SERVFAIL:
        return _BOGUS if set(f.ede) & DNSSEC_EDE else _INDETERMINATE
    if rcode in _ANSWERED_RCODES:
        return _SECURE if f.flags & _AD else _INSECURE + 10
    return _INDETERMINATE


def _normalisers(db: sqlite3.Connection, rid: int) -> pd.DataFrame:
    """Per normaliser, verdict kind and the categories it explained: verdicts it explained
    something in, and how many differences it absorbed (from the evidence; from the
    ``explained_by`` column where the evidence does not say)."""
    rows = db.execute(
        f"SELECT json_extract(e.value, '{ev.ENTRY_NORMALISER}'), v.kind, "
        f"ifnull(json_extract(e.value, '{ev.ENTRY_CATEGORIES}'), '[]'), count(*), "
        f"sum(ifnull(json_extract(e.value, '{ev.ENTRY_COUNT}'), 1)) "
        f"FROM verdicts v, json_each(v.evidence, '{ev.PATH_EXPLAINED}') e "
        "WHERE v.run_id=? AND v.kind != 'equal' AND v.explained_by != '[]' "
        "GROUP BY 1, 2, 3", (rid,)).fetchall()
    if not rows:
        rows = [(str(name), str(kind), "[]", int(n), int(n)) for name, kind, n in db.execute(
            "SELECT j.value, v.kind, count(*) FROM verdicts v, json_each(v.explained_by) j "
            "WHERE v.run_id=? AND v.kind != 'equal' AND v.explained_by != '[]' "
            "GROUP BY 1, 2", (rid,))]
    frame = pd.DataFrame(rows, columns=["normaliser", "kind", "categories", "verdicts",
                                        "differences"])
    frame["normaliser"] = frame["normaliser"].astype(str)
    frame["verdicts"] = frame["verdicts"].astype(np.int64)
    frame["differences"] = frame["differences"].astype(np.int64)
    frame["categories"] = [_json_list(c) for c in frame["categories"]]
    return frame


def _json_list(text: object) -> list[str]:
    try:
        value = json.loads(str(text))
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _divergent(db: sqlite3.Connection, rid: int, sides: list[str],
               notes: list[str]) -> pd.DataFrame:
    """The real divergences with each name's registered domain and zone.

    The zone is the deepest zone cut that the primary reference's or the candidate's answer
    names for the query name (:attr:`reports.wire.Facts.zone`); None where neither answer
    names one (a SERVFAIL, a timeout): such a divergence is located by its registered domain
    only, never under a zone guessed from it."""
    rows = db.execute(
        "SELECT v.observation_id, o.qname, o.qtype, v.category FROM verdicts v "
        "JOIN observations o ON o.id = v.observation_id "
        "WHERE v.run_id=? AND v.kind='real' ORDER BY v.observation_id", (rid,)).fetchall()
    frame = pd.DataFrame(rows, columns=["id", "qname", "qtype", "category"])
    if frame.empty:
        frame["domain"] = pd.Series(dtype=object)
        frame["zone"] = pd.Series(dtype=object)
        return frame
    names = frame["qname"].str.lower()
    frame["qname"] = names
    first = frame.groupby("qname", sort=False)["id"].first()
    domains = {name: domain_of(name) for name in first.index}
    zones: dict[str, str] = {}
    picked = first.iloc[:MAX_ZONE_NAMES]
    if len(first) > MAX_ZONE_NAMES:
        notes.append(f"zones read for the first {MAX_ZONE_NAMES} of {len(first)} divergent "
                     "names; the rest are located by their registered domain only")
    by_id = {int(i): str(name) for name, i in picked.items()}
    for side in sides:
        for oid, wire in _wires(db, list(by_id), side):
            f = facts(wire)
            name = by_id[oid]
            if f is not None and f.zone and (name not in zones
                                             or _labels(f.zone) > _labels(zones[name])):
                zones[name] = f.zone
    frame["domain"] = names.map(domains)
    frame["zone"] = names.map(zones)
    unknown = int(frame["zone"].isna().sum())
    if unknown:
        notes.append(f"real divergences whose answers name no zone (no RRSIG, SOA or NS for "
                     f"the name): {unknown} of {len(frame)}, located by registered domain only")
    return frame


def _labels(name: str) -> int:
    return 0 if name == "." else name.count(".")


def counters(run: StoredRun) -> dict[str, int]:
    """The pipeline's counters for the run (``runs.counters``), whatever shape it took."""
    data = run.counters or {}
    inner = data.get("counters") if isinstance(data.get("counters"), dict) else data
    out: dict[str, int] = {}
    for k, v in (inner or {}).items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[str(k)] = int(v)
    return out


def sources(run: StoredRun) -> list[str]:
    """Where the run's queries came from, one phrase each."""
    data = run.counters or {}
    detail = data.get("intakes_detail")
    if isinstance(detail, list) and detail:
        return [str(d.get("what") or d.get("kind") or d.get("name")) for d in detail
                if isinstance(d, dict)]
    out = []
    for intake in (run.config or {}).get("intakes") or []:
        if not isinstance(intake, dict):
            continue
        kind = str(intake.get("kind", "?"))
        where = next((intake[k] for k in ("socket", "file", "tcp", "listen")
                      if intake.get(k)), None)
        if isinstance(where, list):
            where = ":".join(str(x) for x in where)
        out.append(f"{kind} {where}" if where else kind)
    return out


def dumps(value: object) -> str:
    """JSON for evidence display: sorted keys, bytes as hex."""
    def default(item: object) -> object:
        if isinstance(item, bytes | bytearray):
            return item.hex()
        return str(item)

    return json.dumps(value, default=default, sort_keys=True, indent=1)
