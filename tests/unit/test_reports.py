"""reports/: the report on a fixed store (snapshots of the rendered text), the pieces behind
it (wire facts, DNSSEC states, safety thresholds), exports, run-to-run comparison, the CLI.

Snapshots live in tests/snapshots/.  After an intended change of the output, write them
again with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_reports.py`` and review the diff.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import json
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pandas as pd
import pytest
from rich.console import Console

from harness.config import StoreConfig
from harness.differ import Differ, DifferConfig
from harness.evidence import (
    Confirmation,
    DifferenceEntry,
    DnssecOutcomes,
    Evidence,
    ExplainedEntry,
    RequeryEntry,
)
from harness.records import Observation, Query, Source, TargetAnswer, Verdict, VerdictKind
from harness.store import Store, reading
from reports import cli as reports_cli
from reports.compare import compare, load_side
from reports.examples import dig_lines, explain, shorten_blobs, side_by_side
from reports.export import ROW_COLUMNS, divergence_rows, to_json, to_markdown
from reports.model import FORMAT, REPORT_VERSION, Report, Thresholds, from_dict
from reports.render import render, render_explain
from reports.summary import build, report
from reports.synthetic import generate
from reports.tables import STATES, StoreError, load
from reports.wire import facts

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
T0 = 1_735_689_600.0  # 2025-01-01 00:00:00 UTC
STORE_NAME = "shadow.db"


# -- a fixed store -------------------------------------------------------------------------


def resp(qname: str, qtype: str = "A", *, answer: Sequence[str] = (),
         authority: Sequence[str] = (), rcode: int = 0, ad: bool = False,
         ede: Sequence[int] = (), qid: int = 1, do: bool = True) -> bytes:
    """A resolver's response; records as 'owner ttl type rdata' (',' separates rdatas)."""
    q = dns.message.make_query(qname, qtype, want_dnssec=do, payload=1232)
    r = dns.message.make_response(q, our_payload=1232)
    r.id = qid
    r.flags |= dns.flags.RA
    if ad:
        r.flags |= dns.flags.AD
    r.set_rcode(dns.rcode.Rcode(rcode))
    for section, texts in ((r.answer, answer), (r.authority, authority)):
        for text in texts:
            owner, ttl, rdtype, rdata = text.split(maxsplit=3)
            rdatas = [rdata] if rdtype in ("RRSIG", "SOA", "TXT") else rdata.split(",")
            section.append(dns.rrset.from_text(owner, int(ttl), "IN", rdtype, *rdatas))
    if ede:
        r.use_edns(0, dns.flags.DO if do else 0, 1232,
                   options=[dns.edns.EDEOption(dns.edns.EDECode(c)) for c in ede])
    return bytes(r.to_wire(want_shuffle=False))


def sig(owner: str, covers: str, signer: str) -> str:
    labels = owner.rstrip(".").count(".") + 1
    return (f"{owner} 300 RRSIG {covers} 13 {labels} 300 20300101000000 20240101000000 4242 "
            f"{signer} c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVieXRlcw==")


def soa(zone: str) -> str:
    return f"{zone} 300 SOA ns1.{zone} hostmaster.{zone} 1 7200 3600 1209600 300"


CONFIG = {"intakes": [{"kind": "dnstap", "socket": "run/shadow/dnstap.sock"}],
          "candidate": {"name": "candidate"},
          "references": [{"name": "kresd", "kind": "kresd", "listen": ["127.55.0.2", 5053]}]}
VERSIONS = {"candidate": "shadowdns resolver 0.1.0 (in process)",
            "kresd": "Knot Resolver 5.6.0"}


def _status(n: int, verdicts: dict[str, int]) -> dict[str, Any]:
    return {"counters": {"seen": n + 6, "sampled": n + 1, "unsampled": 5, "compared": n,
                         "dropped": 1, "shed": 0, "failed": 0, "filtered": 0,
                         "duplicate": 0},
            "verdicts": verdicts,
            "intakes_detail": [{"name": "dnstap", "kind": "dnstap", "finite": False,
                                "what": "dnstap on run/shadow/dnstap.sock"}]}


Case = tuple[Query, bytes | None, bytes | None, Verdict | None]


def _query(i: int, qname: str, qtype: int = 1, do: bool = True) -> Query:
    return Query(qname=qname, qtype=qtype, do=do, edns_payload=1232, source=Source.DNSTAP,
                 client="127.0.0.9", client_port=40000 + i, seen_at=T0 + 10 * i)


EQUAL_NAMES = [
    ("www.example.com.", "A", dict(answer=["www.example.com. 300 A 192.0.2.1"])),
    ("api.example.com.", "AAAA", dict(answer=["api.example.com. 300 AAAA 2001:db8::1"])),
    ("mail.example.org.", "MX", dict(answer=["mail.example.org. 300 MX 10 mx.example.org."])),
    ("shop.example.net.", "A", dict(answer=["shop.example.net. 300 A 198.51.100.7",
                                            sig("shop.example.net.", "A", "example.net.")],
                                    ad=True)),
    ("nx.example.com.", "A", dict(rcode=3, authority=[soa("example.com.")])),
    ("bogus.example.net.", "A", dict(rcode=2, ede=[6])),
]


def fixed_cases() -> list[Case]:
    """The hand-made run: equal answers, noise of three kinds, four real divergences, an
    unstable answer and timeouts on both sides."""
    cases: list[Case] = []
    i = 0

    def add(qname: str, qtype: str, cand: bytes | None, ref: bytes | None,
            verdict: Verdict | None, do: bool = True) -> None:
        nonlocal i
        i += 1
        cases.append((_query(i, qname, dns.rdatatype.from_text(qtype), do), cand, ref, verdict))

    for round_ in range(4):
        for qname, qtype, kw in EQUAL_NAMES:
            add(qname, qtype, resp(qname, qtype, qid=100 + round_, **kw),  # type: ignore[arg-type]
                resp(qname, qtype, qid=200 + round_, **kw),  # type: ignore[arg-type]
                Verdict(None, VerdictKind.EQUAL, "equal"))

    def explained(name: str, note: str, category: str) -> Evidence:
        return Evidence(reference_target="kresd",
                        explained=[ExplainedEntry(name, note, [category], 1)])

    add("www.example.com.", "A", resp("www.example.com.", answer=[
        "www.example.com. 250 A 192.0.2.1"]), resp("www.example.com.", answer=[
            "www.example.com. 300 A 192.0.2.1"]),
        Verdict(None, VerdictKind.NOISE, "answer.ttl", ["answer.ttl"], ["ttl"],
                explained("ttl", "TTL at or below the authority's: decay", "answer.ttl")))
    add("rr.example.com.", "A", resp("rr.example.com.", answer=[
        "rr.example.com. 300 A 192.0.2.2,192.0.2.3"]), resp("rr.example.com.", answer=[
            "rr.example.com. 300 A 192.0.2.3,192.0.2.2"]),
        Verdict(None, VerdictKind.NOISE, "answer.order", ["answer.order"], ["order"],
                explained("order", "same records in another order", "answer.order")))
    add("pool.example.com.", "A", resp("pool.example.com.", answer=[
        "pool.example.com. 60 A 203.0.113.5"]), resp("pool.example.com.", answer=[
            "pool.example.com. 60 A 203.0.113.9"]),
        Verdict(None, VerdictKind.NOISE, "answer.data", ["answer.data"], ["pool"],
                explained("pool", "addresses within the pool learned from the reference",
                          "answer.data")))

    def real(category: str, cand: str, ref: str, detail: str,
             states: tuple[str, str]) -> Verdict:
        return Verdict(None, VerdictKind.REAL, category, [category], [], Evidence(
            reference_target="kresd", confirmed=True,
            differences=[DifferenceEntry(category, detail, None, cand, ref)],
            dnssec=DnssecOutcomes(*states),
            confirmation=Confirmation(candidate_changed=False, reference_changed=False,
                                      persisted=True),
            requeries=[RequeryEntry("candidate", "confirm", "x", 1, answer="as before"),
                       RequeryEntry("kresd", "confirm", "x", 1, flush=True,
                                    answer="as before")]))

    add("secure.example.net.", "A", resp("secure.example.net.", rcode=2, ede=[6], qid=7),
        resp("secure.example.net.", answer=["secure.example.net. 300 A 198.51.100.20",
                                            sig("secure.example.net.", "A", "example.net.")],
             ad=True, qid=8),
        real("dnssec.bogus_secure", "bogus", "secure",
             "DNSSEC bogus where the reference is secure (rcode SERVFAIL vs NOERROR)",
             ("bogus", "secure")))
    add("data.eu.example.org.", "A", resp("data.eu.example.org.", answer=[
        "data.eu.example.org. 300 A 192.0.2.50,192.0.2.51",
        sig("data.eu.example.org.", "A", "eu.example.org.")], ad=True, qid=9),
        resp("data.eu.example.org.", answer=[
            "data.eu.example.org. 300 A 192.0.2.50,192.0.2.99",
            sig("data.eu.example.org.", "A", "eu.example.org.")], ad=True, qid=10),
        real("answer.data", "192.0.2.50 192.0.2.51", "192.0.2.50 192.0.2.99",
             "answer: data.eu.example.org. A data differs", ("secure", "secure")))
    add("gone.example.com.", "AAAA", resp("gone.example.com.", "AAAA", rcode=3,
                                          authority=[soa("example.com.")], qid=11),
        resp("gone.example.com.", "AAAA", answer=["gone.example.com. 300 AAAA 2001:db8::9"],
             qid=12),
        real("rcode", "NXDOMAIN", "NOERROR", "rcode NXDOMAIN where the reference says NOERROR",
             ("insecure", "insecure")))
    add("ede.example.net.", "A", resp("ede.example.net.", rcode=2, ede=[9], qid=13),
        resp("ede.example.net.", rcode=2, ede=[6], qid=14),
        real("dnssec.ede", "9", "6", "Extended DNS Error codes differ", ("bogus", "bogus")))
    add("flap.example.com.", "A", resp("flap.example.com.", answer=[
        "flap.example.com. 30 A 192.0.2.77"]), resp("flap.example.com.", answer=[
            "flap.example.com. 30 A 192.0.2.78"]),
        Verdict(None, VerdictKind.UNSTABLE, "answer.data", ["answer.data"], [],
                Evidence(reference_target="kresd", unstable_side="reference",
                         confirmation=Confirmation(matches="reference re-query"))))
    add("slow.example.com.", "A", None, resp("slow.example.com.", answer=[
        "slow.example.com. 300 A 192.0.2.60"]),
        Verdict(None, VerdictKind.TIMEOUT, "timeout", [], [],
                Evidence(side="candidate", errors={"candidate": "timeout"})))
    add("dead.example.org.", "A", resp("dead.example.org.", rcode=2), None,
        Verdict(None, VerdictKind.TIMEOUT, "timeout", [], [],
                Evidence(side="reference", errors={"kresd": "timeout"})))
    add("plain.example.com.", "A", resp("plain.example.com.", answer=[
        "plain.example.com. 300 A 192.0.2.8"], do=False), resp("plain.example.com.", answer=[
            "plain.example.com. 300 A 192.0.2.8"], do=False),
        Verdict(None, VerdictKind.EQUAL, "equal"), do=False)
    return cases


def write_store(path: Path, cases: Sequence[Case], *, started: float = T0,
                duration: float = 600.0) -> int:
    """One finished run of ``cases`` through the store's own API, times then fixed."""
    store = Store(StoreConfig(path=path, batch=500, commit_interval=0.05))
    store.open()
    run_id = store.start_run(CONFIG, VERSIONS)
    kinds: dict[str, int] = {}
    for n, (query, cand, ref, verdict) in enumerate(cases):
        obs = Observation(query=query, id=store.next_id(), answers={
            "candidate": TargetAnswer("candidate", cand, 5.0 if cand is None else
                                      0.0008 + (n % 7) * 0.003,
                                      "timeout" if cand is None else None),
            "kresd": TargetAnswer("kresd", ref, 5.0 if ref is None else
                                  0.0011 + (n % 5) * 0.004, "timeout" if ref is None else None)})
        if verdict is not None:
            verdict.observation_id = obs.id
            kinds[verdict.kind.value] = kinds.get(verdict.kind.value, 0) + 1
        assert store.add(obs, verdict)
    store.close(_status(len(cases), kinds), "finished")
    db = sqlite3.connect(path)
    db.execute("UPDATE runs SET started_at=?, finished_at=? WHERE id=?",
               (started, started + duration, run_id))
    db.commit()
    db.close()
    return run_id


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / STORE_NAME
    write_store(path, fixed_cases())
    return path


def text_of(report_: Report, width: int = 120, *, first_screen: bool = False) -> str:
    report_.header.store = STORE_NAME  # the temporary path is not part of the snapshot
    console = Console(record=True, width=width, force_terminal=False, color_system=None)
    render(report_, console, first_screen_only=first_screen)
    return console.export_text()


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"{path} missing: write it with UPDATE_SNAPSHOTS=1 and review it")
    expected = path.read_text()
    if text != expected:
        diff = "\n".join(difflib.unified_diff(expected.splitlines(), text.splitlines(),
                                              "snapshot", "now", lineterm="", n=2))
        pytest.fail(f"{name} changed (UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


# -- snapshots -------------------------------------------------------------------------------


def test_report_snapshot(store: Path) -> None:
    check_snapshot("report_fixed_store.txt", text_of(report(store)))


def test_a_store_written_before_evidence_had_a_version_reads_the_same(
        store: Path, tmp_path: Path) -> None:
    """Evidence stored without ``version`` (version 0, the stores written before the typed
    record) reads as the same record: the report and every explanation are unchanged."""
    old = tmp_path / "old.db"
    write_store(old, fixed_cases())
    with sqlite3.connect(old) as db:
        db.execute("UPDATE verdicts SET evidence = json_remove(evidence, '$.version')")
        assert db.execute("SELECT count(*) FROM verdicts WHERE instr(evidence, "
                          "'\"version\"')").fetchone() == (0,)
    assert text_of(report(old)) == text_of(report(store))
    with sqlite3.connect(store) as db:
        ids = [r[0] for r in db.execute("SELECT observation_id FROM verdicts "
                                        "WHERE kind != 'equal'")]
    assert len(ids) > 5
    for oid in ids:
        assert _explain_text(old, oid) == _explain_text(store, oid)
        kept = reading_verdict(store, oid)
        assert reading_verdict(old, oid) == dataclasses.replace(
            kept, evidence=dataclasses.replace(kept.evidence, version=0))


def reading_verdict(path: Path, oid: int) -> Verdict:
    with reading(path) as reader:
        verdict = reader.verdict(oid)
    assert verdict is not None
    return verdict


def test_first_screen_says_whether_to_ship_and_why(store: Path) -> None:
    text = text_of(report(store), first_screen=True)
    check_snapshot("report_first_screen.txt", text)
    lines = text.splitlines()
    assert len(lines) <= 40, "the first screen must fit a terminal without scrolling"
    assert "NOT SAFE TO SHIP: 4 real divergences in rcode, dnssec.bogus_secure" in lines[1]
    # why: the categories, the DNSSEC direction, what was counted, where to look next
    head = "\n".join(lines[:12])
    assert "1 × rcode: a different response code" in head
    assert "DNSSEC: candidate bogus where kresd says secure (1)" in head
    assert "shadowdns report explain" in head
    assert "Knot Resolver 5.6.0" in text and "compared 35" in text


def test_explain_snapshot(store: Path) -> None:
    bogus = next(e for e in report(store).examples if e.category == "dnssec.bogus_secure")
    console = Console(record=True, width=120, force_terminal=False, color_system=None)
    render_explain(explain(store, bogus.id), console)
    text = console.export_text()
    check_snapshot("explain_bogus_secure.txt", text)
    assert "; EDE: 6 (DNSSEC Bogus)" in text and "Re-queries made to confirm" in text


def test_snapshot_fails_when_the_output_changes(store: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    text = text_of(report(store))
    with pytest.raises(pytest.fail.Exception, match="changed"):
        check_snapshot("report_fixed_store.txt", text.replace("NOT SAFE", "SAFE"))


# -- what the report says ----------------------------------------------------------------------


def test_verdict_summary_counts_each_query_once(store: Path) -> None:
    r = report(store)
    assert r.verdicts.judged == 35 and r.header.stored == 35
    assert sum(c.count for c in r.verdicts.categories) == 35
    real = [(c.category, c.count) for c in r.verdicts.categories if c.kind == "real"]
    assert real == [("rcode", 1), ("dnssec.bogus_secure", 1), ("dnssec.ede", 1),
                    ("answer.data", 1)]  # most important first
    assert {(n.normaliser, n.queries, n.noise) for n in r.verdicts.normalisers} == {
        ("ttl", 1, 1), ("order", 1, 1), ("pool", 1, 1)}
    assert {(s.kind, s.side, s.count) for s in r.verdicts.sides} == {
        ("timeout", "candidate", 1), ("timeout", "reference", 1), ("unstable", "reference", 1)}
    assert r.header.counters["seen"] == 41 and r.header.sources == [
        "dnstap on run/shadow/dnstap.sock"]
    assert r.header.duration == 600.0


def test_dnssec_matrix_reads_states_from_wire_and_evidence(store: Path) -> None:
    r = report(store)
    m = {(r.dnssec.states[i], r.dnssec.states[j]): n
         for i, row in enumerate(r.dnssec.matrix) for j, n in enumerate(row) if n}
    # equal answers: AD -> secure; no AD, DO set -> insecure; SERVFAIL + EDE 6 -> bogus;
    # NXDOMAIN without AD -> insecure; no DO and no AD -> indeterminate
    assert m[("secure", "secure")] == 5  # four equal answers with AD + the answer.data one
    assert m[("insecure", "insecure")] == 21
    assert m[("bogus", "bogus")] == 5  # four equal bogus answers + the EDE 9/6 divergence
    assert m[("bogus", "secure")] == 1
    assert m[("indeterminate", "indeterminate")] == 1
    assert m[("none", "insecure")] == 1 and m[("indeterminate", "none")] == 1
    assert sum(m.values()) == 35
    assert [(e.candidate, e.reference, e.count) for e in r.dnssec.ede] == [("9", "6", 1)]


def test_where_names_domains_zones_qtypes_and_rcodes(store: Path) -> None:
    w = report(store).where
    assert {p.name: p.real for p in w.domains} == {"example.net.": 2, "example.org.": 1,
                                                   "example.com.": 1}
    # the zone is the deepest zone cut either answer names for the name: a signer (the
    # reference's RRSIG over data.eu.example.org), an SOA owner (the candidate's NXDOMAIN for
    # gone.example.com); where neither answer names one (two SERVFAILs for ede.example.net)
    # there is no zone, and no registered domain passed off as one
    assert {p.name: p.real for p in w.zones} == {"example.net.": 1, "eu.example.org.": 1,
                                                 "example.com.": 1}
    assert any("answers name no zone (no RRSIG, SOA or NS for the name): 1 of 4" in n
               for n in report(store).notes)
    assert not w.zones_repeat_domains()
    assert {b.key: b.real for b in w.qtypes}["AAAA"] == 1
    assert ("NXDOMAIN", "NOERROR", 1) in {(p.candidate, p.reference, p.count)
                                          for p in w.rcode_pairs}
    assert ("SERVFAIL", "NOERROR", 1) in {(p.candidate, p.reference, p.count)
                                          for p in w.rcode_pairs}


def test_latency_percentiles_and_histogram(store: Path) -> None:
    lat = report(store).latency
    by = {s.target: s for s in lat.targets}
    assert by["candidate"].answered == 34 and by["candidate"].no_response == 1
    assert by["kresd"].answered == 34 and by["kresd"].no_response == 1
    p50 = by["candidate"].p50
    assert p50 is not None and 0.0008 <= p50 <= 0.0188
    assert all(sum(c) == by[t].answered for t, c in lat.histogram.counts.items())
    assert len(lat.histogram.counts["kresd"]) == len(lat.histogram.edges) + 1


def test_examples_are_side_by_side_with_differences_marked(store: Path) -> None:
    r = report(store)
    ex = next(e for e in r.examples if e.category == "answer.data")
    only_cand = [line.text for line in ex.candidate_lines if line.differs]
    only_ref = [line.text for line in ex.reference_lines if line.differs]
    assert only_cand == ["data.eu.example.org. 300 IN A 192.0.2.51"]
    assert only_ref == ["data.eu.example.org. 300 IN A 192.0.2.99"]
    # IDs and TTLs are not differences
    assert not any(line.differs for line in ex.candidate_lines if "status" in line.text)


def test_dig_lines_ignore_ttl_case_and_order_but_not_data() -> None:
    a = resp("x.example.", answer=["X.example. 100 A 192.0.2.1,192.0.2.2"], qid=1)
    b = resp("x.example.", answer=["x.example. 300 A 192.0.2.2,192.0.2.1"], qid=2)
    left, right = side_by_side(dig_lines(a), dig_lines(b))
    assert not any(line.differs for line in left + right)
    c = resp("x.example.", answer=["x.example. 300 A 192.0.2.3"], ad=True)
    left, right = side_by_side(dig_lines(a), dig_lines(c))
    marked = [line.text for line in right if line.differs]
    assert len(marked) == 2 and marked[0].startswith(";; flags: qr rd ra ad;")
    assert marked[1] == "x.example. 300 IN A 192.0.2.3"
    assert [line.text for line in left if line.differs][1:] == [
        "x.example. 100 IN A 192.0.2.1", "x.example. 100 IN A 192.0.2.2"]
    assert dig_lines(None, "timeout")[0].text == ";; no response: timeout"
    assert "unparseable" in dig_lines(b"\x00\x01garbage")[0].text


# -- the verdict on the candidate --------------------------------------------------------------


def test_safe_inconclusive_and_thresholds(tmp_path: Path) -> None:
    equal = [(q, c, r, v) for q, c, r, v in fixed_cases() if v and v.kind is VerdictKind.EQUAL]
    noise = [x for x in fixed_cases() if x[3] and x[3].kind is VerdictKind.NOISE]
    few = tmp_path / "few.db"
    write_store(few, equal[:10])
    assert report(few).safety.status == "inconclusive"
    assert report(few).safety.headline.startswith("NOT ENOUGH DATA: 10 queries compared")
    many = tmp_path / "many.db"
    write_store(many, (equal * 6) + noise)
    s = report(many).safety
    assert s.status == "safe" and s.headline == (
        "SAFE TO SHIP: no real divergence in 153 compared queries")
    assert "noise 3 (1.96%)" in s.reasons[-1]


def test_an_ede_code_choice_does_not_fail_safe_to_ship(tmp_path: Path) -> None:
    equal = [x for x in fixed_cases() if x[3] and x[3].kind is VerdictKind.EQUAL]
    q = Query("www.nokey.broken.", 1, do=True, edns_payload=1232)
    servfail = resp("www.nokey.broken.", rcode=2)
    minor = (q, servfail, servfail, Verdict(None, VerdictKind.REAL, "dnssec.ede_code",
                                            ["dnssec.ede_code"], []))
    undecided = (q, servfail, servfail, Verdict(None, VerdictKind.UNDECIDED, "answer.data",
                                                ["answer.data"], [],
                                                Evidence(budget="exhausted")))
    path = tmp_path / "ede.db"
    write_store(path, (equal * 6) + [minor, undecided])
    t = load(path)
    s = build(t).safety
    assert s.status == "safe" and s.blocking == {}
    assert "1 real of lower severity (dnssec.ede_code: not blocking)" in s.reasons[-2]
    assert "undecided (confirmation budget spent) 1" in s.reasons[-1]
    strict = build(t, Thresholds(minor=[])).safety
    assert strict.status == "not_safe" and strict.blocking == {"dnssec.ede_code": 1}


def test_thresholds_move_the_verdict(store: Path) -> None:
    t = load(store)
    assert build(t).safety.status == "not_safe"

    def lenient(**kw: Any) -> Thresholds:
        return Thresholds(min_compared=10, max_timeout_rate=0.05, **kw)

    assert build(t, lenient(max_real=4)).safety.status == "safe"
    assert build(t, lenient(max_real_rate=0.2)).safety.status == "safe"
    assert build(t, lenient(max_real_rate=0.1)).safety.status == "not_safe"
    ignored = build(t, lenient(ignore=["dnssec", "rcode", "answer"]))
    assert ignored.safety.status == "safe" and ignored.safety.blocking == {}
    # the candidate's one timeout in 35 is 2.9 %
    slow = build(t, Thresholds(max_real=4, max_timeout_rate=0.02, min_compared=10)).safety
    assert slow.status == "not_safe" and "unanswered" in slow.headline


# -- exports -------------------------------------------------------------------------------


def test_json_shape_is_versioned_and_reads_back(store: Path) -> None:
    r = report(store)
    data = json.loads(to_json(r))
    assert list(data)[:2] == ["format", "version"]
    assert data["format"] == FORMAT and data["version"] == REPORT_VERSION
    assert set(data) == {"format", "version", "header", "safety", "verdicts", "dnssec",
                         "where", "latency", "examples", "notes"}
    assert data["safety"]["status"] == "not_safe"
    again = from_dict(Report, data)
    assert again == r


def test_json_shape_matches_the_documentation(store: Path) -> None:
    """docs/REPORT.md names every key of the JSON; a key added must be documented."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "REPORT.md").read_text()
    data = json.loads(to_json(report(store)))

    def paths(value: object, prefix: str = "") -> set[tuple[str, str]]:
        """(dotted path, key) of every key; maps keyed by data are not walked."""
        out: set[tuple[str, str]] = set()
        if isinstance(value, dict) and prefix not in ("header.counters", "verdicts.by_kind",
                                                      "safety.blocking",
                                                      "latency.histogram.counts"):
            for k, v in value.items():
                path = f"{prefix}.{k}" if prefix else k
                out.add((path, k))
                out |= paths(v, path)
        elif isinstance(value, list) and value:
            out |= paths(value[0], prefix)
        return out

    missing = sorted(p for p, k in paths(data) if f"`{p}`" not in doc and f"`{k}`" not in doc)
    assert not missing, f"undocumented JSON keys: {missing}"


def test_csv_parquet_and_markdown(store: Path, tmp_path: Path) -> None:
    t = load(store)
    rows = divergence_rows(t)
    assert tuple(rows.columns) == ROW_COLUMNS
    assert len(rows) == 10  # every verdict but the equal ones
    bogus = rows[rows["category"] == "dnssec.bogus_secure"].iloc[0]
    assert (bogus["candidate_rcode"], bogus["reference_rcode"]) == ("SERVFAIL", "NOERROR")
    assert (bogus["candidate_dnssec"], bogus["reference_dnssec"]) == ("bogus", "secure")
    assert bogus["registered_domain"] == "example.net."
    # one form: absolute, like every other name; times in ISO 8601 UTC with milliseconds;
    # latencies in ms to the microsecond (the fixture's are 0.0008 + k * 0.003 s: float noise)
    assert rows["registered_domain"].str.endswith(".").all()
    assert bogus["seen_at"] == "2025-01-01T00:04:40.000Z"
    assert rows["seen_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    for column in ("candidate_latency_ms", "reference_latency_ms"):
        values = rows[column].dropna()
        assert len(values) and ((values * 1000).round() == values * 1000).all(), column
    assert len(divergence_rows(t, all_verdicts=True)) == 35
    assert reports_cli.main(_args(["--db", str(store), "--format", "parquet", "--output",
                                   str(tmp_path / "d.parquet")])) == 0
    back = pd.read_parquet(tmp_path / "d.parquet")
    assert list(back.columns) == list(ROW_COLUMNS) and len(back) == 10
    assert reports_cli.main(_args(["--db", str(store), "--format", "csv", "-o",
                                   str(tmp_path / "d.csv")])) == 0
    assert len(pd.read_csv(tmp_path / "d.csv")) == 10
    csv_text = (tmp_path / "d.csv").read_text()
    assert "2025-01-01T00:04:40.000Z" in csv_text and ",example.net.\n" in csv_text
    assert not re.search(r"\d\.\d{4,}", csv_text), "a number with more than 3 decimals"
    data = json.loads(to_json(build(t)))
    for stats in data["latency"]["targets"]:
        for key in ("p50", "p90", "p99", "mean"):
            assert stats[key] == round(stats[key], 6), (stats["target"], key)
    md = to_markdown(build(t))
    assert md.startswith("# shadowdns report: run 1\n\n**❌ NOT SAFE TO SHIP")
    for section in ("## Verdicts", "## DNSSEC", "## Where", "## Latency", "## Examples"):
        assert section in md


# -- compare -----------------------------------------------------------------------------------


def test_compare_flags_new_categories_and_rising_rates(tmp_path: Path) -> None:
    cases = fixed_cases()
    path = tmp_path / "two.db"
    calm = [c for c in cases if c[3] is not None and c[3].category != "dnssec.bogus_secure"]
    write_store(path, calm)
    write_store(path, cases, started=T0 + 3600)  # run 2 adds a bogus/secure divergence
    a, _ = load_side("1", path, label="A")
    b, _ = load_side("2", path, label="B")
    c = compare(a, b)
    assert c.regressed and c.new_real == 1
    assert "dnssec.bogus_secure" in c.regressions[0]
    assert not compare(a, b, max_new_real=1, max_rate_increase=0.05).regressed
    assert not compare(b, a).regressed  # getting better is not a regression
    a.latency.targets[0].p50, b.latency.targets[0].p50 = 0.1, 0.3  # 0.3 - 0.1 != 0.2
    c = compare(a, b)
    assert c.latency and all(round(x, 6) == x for ch in c.latency
                             for x in (ch.a, ch.b, ch.delta))  # to the microsecond
    assert c.latency[0].delta == 0.2
    baseline = tmp_path / "baseline.json"
    assert reports_cli.main(_args(["--db", str(path), "--format", "json", "-o",
                                   str(baseline), "1"])) == 0
    assert reports_cli.main(_args(["compare", str(baseline), f"{path}:2"])) == 1
    assert reports_cli.main(_args(["compare", str(baseline), f"{path}:2",
                                   "--max-new-real", "1", "--max-rate-increase", "5%"])) == 0
    assert reports_cli.main(_args(["--db", str(path), "compare", "2", "1"])) == 0


# -- the CLI ---------------------------------------------------------------------------------


def _args(argv: list[str]) -> Any:
    from shadowdns.cli import build_parser

    return build_parser().parse_args(["report", *argv])


def test_cli_report_explain_and_errors(store: Path, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    from shadowdns.cli import main

    assert main(["report", "--db", str(store), "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "NOT SAFE TO SHIP" in out and "Examples" in out
    assert main(["report", "1", "--db", str(store), "--fail-if-unsafe"]) == 1
    capsys.readouterr()
    assert main(["report", "--db", str(store), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["header"]["run_id"] == 1
    oid = report(store).safety.first_example
    assert main(["report", "explain", str(oid), "--db", str(store)]) == 0
    assert "Differences left after normalisation" in capsys.readouterr().out
    assert main(["report", "explain", str(oid), "--db", str(store), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["kind"] == "real" and data["answers"][0]["target"] == "candidate"
    assert main(["report", "9", "--db", str(store)]) == 2
    assert "no run 9" in capsys.readouterr().err
    assert main(["report", "explain", "99999", "--db", str(store)]) == 2
    assert main(["report", "--db", str(tmp_path / "nope.db")]) == 2
    assert main(["report", "--db", str(store), "--format", "parquet"]) == 2
    assert main(["report", "what", "--db", str(store)]) == 2
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    assert main(["report", "--db", str(tmp_path / "junk.db")]) == 2
    assert "not a shadowdns store" in capsys.readouterr().err
    # evidence from a newer writer: one line naming the store and the verdict
    with sqlite3.connect(store) as db:
        db.execute("UPDATE verdicts SET evidence = json_set(evidence, '$.version', 99) "
                   "WHERE observation_id = ?", (oid,))
    assert main(["report", "explain", str(oid), "--db", str(store)]) == 2
    err = capsys.readouterr().err
    assert f"{store}: verdict {oid}'s evidence: version 99 is not one this reader" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_finds_the_demo_store(store: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert reports_cli.main(_args([])) == 2  # none yet
    (tmp_path / "run" / "demo").mkdir(parents=True)
    (tmp_path / "run" / "demo" / "shadow.db").write_bytes(store.read_bytes())
    assert reports_cli.find_store(None) == Path("run/demo/shadow.db")
    assert reports_cli.main(_args(["--format", "json", "-o", "r.json"])) == 0


def test_empty_store_and_running_run(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    s = Store(StoreConfig(path=path))
    s.open()
    s.close()
    with pytest.raises(StoreError, match="no runs"):
        load(path)
    s = Store(StoreConfig(path=path))
    s.open()
    s.start_run(CONFIG, VERSIONS)
    s.flush()
    r = report(path)  # a run with nothing stored yet, still running
    assert r.safety.status == "inconclusive" and r.header.duration is None
    assert "still running" in text_of(r)
    s.close()


# -- pieces ----------------------------------------------------------------------------------


def test_zone_is_the_deepest_cut_either_answer_names_for_the_name() -> None:
    # a CNAME into another zone: that zone's signer is not the name's zone
    chained = facts(resp("www.a.example.", answer=[
        "www.a.example. 300 CNAME x.other.example.", sig("www.a.example.", "CNAME", "a.example."),
        "x.other.example. 300 A 192.0.2.1", sig("x.other.example.", "A", "other.example.")]))
    assert chained is not None and chained.zone == "a.example."
    # an NXDOMAIN from a delegated child zone: its SOA is deeper than the parent's signer
    deep = facts(resp("x.sub.example.net.", rcode=3, authority=[
        soa("sub.example.net."), sig("sub.example.net.", "SOA", "example.net.")]))
    assert deep is not None and deep.zone == "sub.example.net."
    # an SOA owner that is not an ancestor of the name says nothing about it
    other = facts(resp("x.example.com.", rcode=3, authority=[soa("example.org.")]))
    assert other is not None and other.zone is None


def test_zones_that_repeat_the_domains_are_one_table(store: Path) -> None:
    r = report(store)
    r.where.zones = [dataclasses.replace(p) for p in r.where.domains]
    assert r.where.zones_repeat_domains()
    text = text_of(r)
    assert "Top divergent registered domains = zones" in text
    assert "Top divergent zones" not in text
    assert "### Zones" not in to_markdown(r)


def test_wire_facts_agree_with_dnspython() -> None:
    signed = resp("www.example.net.", answer=["www.example.net. 300 A 192.0.2.1",
                                              sig("www.example.net.", "A", "example.net.")],
                  ad=True)
    f = facts(signed)
    assert f is not None and f.rcode == 0 and f.flags & dns.flags.AD and f.zone == "example.net."
    neg = facts(resp("no.example.com.", rcode=3, authority=[soa("example.com.")]))
    assert neg is not None and neg.rcode == 3 and neg.zone == "example.com."
    bogus = facts(resp("b.example.", rcode=2, ede=[6, 9]))
    assert bogus is not None and bogus.ede == (6, 9) and bogus.zone is None
    assert facts(signed[:-3]) is None and facts(b"\0" * 5) is None
    assert facts(signed + b"\0") is None


def test_interleaved_runs_keep_their_own_answers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.db"
    cases = fixed_cases()
    write_store(path, cases)
    write_store(path, cases[:20], started=T0 + 7200)
    db = sqlite3.connect(path)  # interleave: give every other observation to run 2
    db.execute("UPDATE observations SET run_id = 3 - run_id WHERE id % 2 = 0 AND id <= 35")
    db.execute("UPDATE verdicts SET run_id = (SELECT run_id FROM observations "
               "WHERE id = observation_id)")
    db.commit()
    db.close()
    one, two = load(path, 1), load(path, 2)
    assert one.stored + two.stored == 55 and one.stored == 18
    assert sum(len(v) for v in one.latency.values()) + sum(
        len(v) for v in two.latency.values()) == 2 * 55 - 2  # two timeouts answered nothing
    assert set(one.per_obs.index).isdisjoint(two.per_obs.index)


def test_real_differ_verdicts_render(tmp_path: Path) -> None:
    """Verdicts as the differ writes them (not hand-made) go through the whole report."""
    differ = Differ(DifferConfig(references=("kresd",)))

    async def requery(target: str, query: Query, *, flush: bool = False,
                      cd: bool = False) -> TargetAnswer:
        wires = {"candidate": resp(query.qname, rcode=2, ede=[6]),
                 "kresd": resp(query.qname, answer=[f"{query.qname} 300 A 192.0.2.1"],
                               ad=True)}
        return TargetAnswer(target, wires[target], 0.001)

    cases: list[Case] = []
    for i, (cand, ref) in enumerate([
            (resp("a.example.", rcode=2, ede=[6]),
             resp("a.example.", answer=["a.example. 300 A 192.0.2.1"], ad=True)),
            (resp("b.example.", answer=["b.example. 100 A 192.0.2.1"]),
             resp("b.example.", answer=["b.example. 300 A 192.0.2.1"])),
            (resp("c.example.", answer=["c.example. 300 A 192.0.2.1"]),
             resp("c.example.", answer=["c.example. 300 A 192.0.2.1"]))]):
        q = _query(i, ["a.example.", "b.example.", "c.example."][i])
        obs = Observation(q, {"candidate": TargetAnswer("candidate", cand, 0.001),
                              "kresd": TargetAnswer("kresd", ref, 0.002)}, id=i + 1)
        verdict = asyncio.run(differ.judge(obs, requery))
        cases.append((q, cand, ref, verdict))
    path = tmp_path / "differ.db"
    write_store(path, cases)
    r = report(path, thresholds=None)
    kinds = {c.kind: c.category for c in r.verdicts.categories}
    assert kinds["real"] == "dnssec.bogus_secure"
    assert "noise" in kinds or "equal" in kinds
    assert r.dnssec.real[STATES.index("bogus")][STATES.index("secure")] == 1
    assert "Re-queries made to confirm" in _explain_text(path, r.safety.first_example)


def _explain_text(path: Path, oid: int | None, *, full: bool = False) -> str:
    assert oid is not None
    console = Console(record=True, width=120, force_terminal=False, color_system=None)
    render_explain(explain(path, oid, full=full), console)
    return console.export_text()


SIGNATURE = "c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVieXRlcw=="  # sig()'s, 40 characters


def test_explain_speaks_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No Python reprs, the source in words and no unknown client, signatures shortened
    (in full with --full and in JSON), EDE as dig 9.18 writes it."""
    from shadowdns.cli import main

    q = dns.message.make_query("secure.example.net.", "A", want_dnssec=True, payload=1232)
    bogus = dns.message.make_response(q, our_payload=1232)
    bogus.set_rcode(dns.rcode.SERVFAIL)
    bogus.use_edns(0, dns.flags.DO, 1232, options=[
        dns.edns.EDEOption(dns.edns.EDECode.DNSKEY_MISSING, "no SEP matching the DS found")])
    signed = resp("secure.example.net.", answer=["secure.example.net. 300 A 198.51.100.20",
                                                 sig("secure.example.net.", "A", "example.net.")],
                  ad=True)
    query = Query(qname="secure.example.net.", qtype=1, do=True, edns_payload=1232,
                  source=Source.QUERY_LIST, seen_at=T0 + 1.25)
    verdict = Verdict(None, VerdictKind.REAL, "dnssec.bogus_secure", ["dnssec.bogus_secure"], [],
                      Evidence(reference_target="kresd", confirmed=True,
                               confirmation=Confirmation(candidate_changed=False,
                                                         persisted=True)))
    path = tmp_path / "plain.db"
    write_store(path, [(query, bogus.to_wire(), signed, verdict)])
    text = _explain_text(path, 1)
    lines = {line.split(maxsplit=1)[0]: line for line in text.splitlines() if line.strip()}
    assert lines["from"].split() == ["from", "query", "list"]
    assert "seen at      2025-01-01 00:00:01.250 UTC" in text
    assert "candidate changed: no, persisted: yes" in text and "confirmed        yes" in text
    assert "reference target kresd" in text
    for python in ("False", "True", "None", "_changed", "client ?", "query_list"):
        assert python not in text, python
    candidate_lines = [line.text for line in explain(path, 1).answers[0].lines]
    assert "; EDE: 9 (DNSKEY Missing): (no SEP matching the DS found)" in candidate_lines
    assert "c2lnbmF0…eXRlcw==" in text and "dXJlYnl0" not in text
    # the differ's evidence writes rdata as text: its signatures are shortened the same way
    assert shorten_blobs(f"A 13 3 300 20300101000000 20240101000000 4242 example.net. "
                         f"{SIGNATURE[:32]} {SIGNATURE[32:]}") == (
        "A 13 3 300 20300101000000 20240101000000 4242 example.net. c2lnbmF0…eXRlcw==")
    assert shorten_blobs("www.example.net. 192.0.2.1 2001:db8::1") == (
        "www.example.net. 192.0.2.1 2001:db8::1")
    full = _explain_text(path, 1, full=True)
    assert "c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVi eXRlcw==" in full and "…" not in full
    assert main(["report", "explain", "1", "--db", str(path), "--full", "--width", "120"]) == 0
    assert "c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVi eXRlcw==" in capsys.readouterr().out
    assert main(["report", "explain", "1", "--db", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"]["seen_at"] == "2025-01-01T00:00:01.250Z"
    assert any(SIGNATURE[:32] in line for line in data["answers"][1]["dig"])
    assert data["answers"][0]["latency"] == round(data["answers"][0]["latency"], 6)


def test_exact_judge_verdicts_render(tmp_path: Path) -> None:
    """harness.exactjudge's verdicts: other categories, evidence without differences,
    timeouts named by category."""
    def exact(q: Query, c: bytes | None, r: bytes | None, v: Verdict | None) -> Case:
        assert v is not None
        if v.kind is VerdictKind.REAL:
            v = Verdict(None, VerdictKind.REAL, "answer", ["answer"], [],
                        Evidence(answers={"candidate": "NOERROR 192.0.2.1",
                                          "kresd": "NOERROR 192.0.2.2"}))
        elif v.kind is VerdictKind.TIMEOUT:
            side = "candidate" if c is None else "kresd"
            v = Verdict(None, VerdictKind.TIMEOUT, "timeout", [f"timeout.{side}"], [],
                        Evidence(answers={"candidate": "timeout" if c is None
                                          else "answered"}))
        return q, c, r, v

    path = tmp_path / "exact.db"
    write_store(path, [exact(*case) for case in fixed_cases()])
    r = report(path)
    assert r.safety.blocking == {"answer": 4}
    assert {(s.kind, s.side) for s in r.verdicts.sides if s.kind == "timeout"} == {
        ("timeout", "candidate"), ("timeout", "reference")}
    assert "answer: different answer records" in text_of(r)


def test_synthetic_store_adds_up(tmp_path: Path) -> None:
    path = tmp_path / "syn.db"
    made = generate(path, 3000, names=60)
    t = load(path)
    assert t.stored == 3000 == t.judged == made.observations
    assert len(t.per_obs) == 3000
    assert t.kinds["equal"] > 2500 and t.kinds.get("real", 0) > 0
    r = build(t)
    assert sum(sum(row) for row in r.dnssec.matrix) == 3000
    assert r.header.counters["compared"] == 3000


async def test_a_real_pipeline_run_reports(tmp_path: Path) -> None:
    """The store as the pipeline writes it (counters, versions, intakes, the differ's
    verdicts) reads into a report."""
    import time as time_module

    from harness.config import SamplerConfig
    from harness.fakes import FakeTarget, address_reply
    from harness.intake.base import Intake, IntakeSink
    from harness.pipeline import Pipeline
    from harness.sampler import Sampler

    class Names(Intake):
        def __init__(self, names: list[str]) -> None:
            super().__init__("names")
            self.names = names
            self.finite = True
            self.total = len(names)

            self.task: asyncio.Task[None] | None = None

        async def start(self, sink: IntakeSink) -> None:
            self.task = asyncio.create_task(self.feed(sink))

        async def feed(self, sink: IntakeSink) -> None:
            for name in self.names:
                await sink.room()
                sink.offer(Query(qname=name, qtype=1, do=True, edns_payload=1232,
                                 source=Source.QUERY_LIST, seen_at=time_module.time()))
                self.done += 1
            self._finished.set()

        async def close(self) -> None:
            if self.task is not None:
                await self.task
            self._finished.set()

    def candidate(query: dns.message.Message) -> dns.message.Message | bytes | None:
        name = query.question[0].name.to_text()
        return address_reply("127.100.0.2" if name.startswith("diff") else "127.100.0.1")(
            query)

    names = [f"n{i}.lab." for i in range(150)] + [f"diff{i}.lab." for i in range(3)]
    path = tmp_path / "p.db"
    pipeline = Pipeline(intakes=[Names(names)], sampler=Sampler(SamplerConfig()),
                        targets=[FakeTarget("candidate", candidate), FakeTarget("kresd")],
                        judge=Differ(DifferConfig(references=("kresd",))),
                        store=Store(StoreConfig(path=path, commit_interval=0.05)),
                        run_config={"references": [{"name": "kresd"}]})
    async with pipeline:
        assert await pipeline.run(duration=20) == "inputs_done"
    r = report(path)
    assert r.header.counters["seen"] == 153 and r.header.counters["compared"] == 153
    assert [t.version for t in r.header.targets] == ["fake candidate", "fake kresd"]
    assert r.verdicts.judged == 153 and r.safety.status == "not_safe"
    assert r.safety.blocking == {"answer.data": 3}
    assert r.latency.targets[0].answered == 153
    assert [e.qname for e in r.examples] == ["diff0.lab.", "diff1.lab."]


# -- the run summary and the report: one latency definition ---------------------------------


def test_run_summary_and_report_agree_on_latency(tmp_path: Path) -> None:
    """The summary `shadowdns run` ends with and the report on the same store give the same
    percentiles (harness.metrics.latency_figures: StoreReader.latency_figures).  Latencies
    in two clusters, as a resolver's cache hits and cold resolutions are: adjacent ranks
    around the median lie 100 ms apart, so any other method or population shows."""
    from harness.metrics import Metrics
    from harness.summary import summary_lines

    path = tmp_path / "lat.db"
    cases = fixed_cases()[:10]  # ten equal answers
    write_store(path, cases)
    db = sqlite3.connect(path)
    for i, ms in enumerate([1, 1, 1, 1, 1, 100, 100, 100, 100, 100], start=1):
        db.execute("UPDATE answers SET latency=? WHERE observation_id=? AND target='candidate'",
                   (ms / 1000 + i * 1e-6, i))
    db.commit()
    # the pipeline's live figures, as it gathered them: every answer it was given
    metrics = Metrics(["candidate", "kresd"])
    for target, latency, wire in db.execute("SELECT target, latency, wire FROM answers"):
        metrics.answer(target, latency, None if wire is not None else "timeout")
    db.close()
    status = {**_status(10, {"equal": 10}), "run_id": 1, **{
        k: v for k, v in metrics.snapshot().items() if k == "latency"}}
    lines = summary_lines(status, path)
    stats = {s.target: s for s in report(path).latency.targets}
    for target in ("candidate", "kresd"):
        s = stats[target]
        assert s.p50 is not None and s.p99 is not None
        expected = f"latency {target}: p50 {s.p50 * 1000:.1f} ms, p99 {s.p99 * 1000:.1f} ms"
        assert expected in lines, (expected, lines)
    assert stats["candidate"].p50 == pytest.approx(0.001005)  # the 5th of 10: nearest rank
    assert "latest divergences: none" in lines
    assert not any(line == "latest divergences:" for line in lines)
