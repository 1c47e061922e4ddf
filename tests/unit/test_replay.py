"""Issue 18: a real divergence becomes a Deckard scenario that replays it.

The candidate runs in-process through the real pipeline, differ and store, its transport a
small world of authoritative servers served at the transport seam (the only mock); a fault
at its Exchanger seam makes it diverge from a reference that answers right.  The recorded
exchanges are stored with the real verdict, ``report scenario`` writes the ``.rpl``, and
the Deckard runner plays it: it fails with the fault, the same way, and passes without.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from deckard.candidate import Candidate, CandidateConfig
from deckard.fakenet import ScenarioNet
from deckard.runner import CandidateTarget, RunOptions, play, run_file
from deckard.scenario import load
from harness.config import SamplerConfig, StoreConfig
from harness.differ import Differ
from harness.fakes import FakeTarget
from harness.pipeline import Pipeline
from harness.recording import CURRENT, RecordingTransport
from harness.records import ExchangeLog, Query, Source, UpstreamExchange
from harness.sampler import Sampler
from harness.scenario import ScenarioWriteError, scenario_from_store
from harness.seamfaults import FaultyExchanger
from harness.store import SCHEMA_VERSION, Store, StoreReader
from harness.targets import InProcessTarget
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig
from resolver.localzone import LocalConfig
from tests.unit.test_harness_pipeline import ListIntake

ROOT_ADDR = "127.9.0.1"
ZONES = {
    ROOT_ADDR: dns.zone.from_text("""
@ 86400 IN SOA a.root. admin. 1 3600 600 86400 300
@ 86400 IN NS a.root.
a.root. 86400 IN A 127.9.0.1
test. 86400 IN NS ns1.test.
test. 86400 IN NS ns2.test.
ns1.test. 86400 IN A 127.9.1.1
ns2.test. 86400 IN A 127.9.1.2
""", origin=".", relativize=False),
    "127.9.1.1": dns.zone.from_text("""
@ 300 IN SOA ns1 admin 7 3600 600 86400 300
@ 300 IN NS ns1
@ 300 IN NS ns2
ns1 300 IN A 127.9.1.1
ns2 300 IN A 127.9.1.2
www 300 IN A 127.0.0.80
www 300 IN A 127.0.0.81
mail 300 IN MX 10 www
""", origin="test.", relativize=False),
}
ZONES["127.9.1.2"] = ZONES["127.9.1.1"]


def authority(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
    """A minimal authoritative server for the zone at ``address``: answers, referrals,
    NODATA and NXDOMAIN with the SOA."""
    zone = ZONES[address]
    q = query.question[0]
    reply = dns.message.make_response(query)
    reply.flags &= ~dns.flags.RD
    origin = zone.origin
    assert origin is not None
    if not q.name.is_subdomain(origin):
        reply.set_rcode(dns.rcode.REFUSED)
        return reply
    depth = len(q.name.labels) - len(origin.labels)
    for i in range(depth, 0, -1):  # a delegation at or above the name?
        cut = q.name.split(len(origin.labels) + i)[1]
        ns = zone.get_rdataset(cut, "NS")
        if ns is not None:
            reply.authority.append(dns.rrset.from_rdata_list(cut, ns.ttl, list(ns)))
            for rd in ns:
                glue = zone.get_rdataset(rd.target, "A")
                if glue is not None:
                    reply.additional.append(
                        dns.rrset.from_rdata_list(rd.target, glue.ttl, list(glue)))
            return reply
    reply.flags |= dns.flags.AA
    node = zone.get_node(q.name)
    rds = node.get_rdataset(1, q.rdtype) if node is not None else None
    if rds is not None:
        reply.answer.append(dns.rrset.from_rdata_list(q.name, rds.ttl, list(rds)))
        return reply
    soa = zone.get_rdataset(origin, "SOA")
    assert soa is not None
    reply.authority.append(dns.rrset.from_rdata_list(origin, soa.ttl, list(soa)))
    if node is None:
        reply.set_rcode(dns.rcode.NXDOMAIN)
    return reply


def right_answer(query: dns.message.Message) -> dns.message.Message:
    """The reference: what a correct resolver answers (from the zones above)."""
    q = query.question[0]
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.RA
    rds = ZONES["127.9.1.1"].get_rdataset(q.name, q.rdtype)
    if rds is not None:
        reply.answer.append(dns.rrset.from_rdata_list(q.name, rds.ttl, list(rds)))
    return reply


def query(name: str, qtype: str = "A") -> Query:
    message = dns.message.make_query(name, qtype)
    return Query(qname=name, qtype=dns.rdatatype.from_text(qtype), source=Source.UDP_MIRROR,
                 client="127.0.0.99", client_port=40000, wire=message.to_wire())


def candidate(fault: str | None) -> tuple[InProcessTarget, MockTransport]:
    transport = MockTransport(authority)
    # the world is under the RFC 6761 TLD test., which the candidate, as Unbound, answers
    # itself by default (a static local zone): these zones are resolved instead
    config = ResolverConfig(root_hints=(("a.root.", ROOT_ADDR),), validation=False,
                            do_ip6=False, local=LocalConfig(defaults=False))
    target = InProcessTarget("candidate", config, transport=transport)
    if fault is not None:
        target.answerer.exchanger = FaultyExchanger(target.answerer.exchanger, fault)
    return target, transport


async def shadow_run(tmp_path: Path, queries: list[Query], fault: str | None) -> Path:
    target, _ = candidate(fault)
    db = tmp_path / "shadow.db"
    pipeline = Pipeline(
        intakes=[ListIntake(queries)], sampler=Sampler(SamplerConfig()),
        targets=[target, FakeTarget("unbound", right_answer)], judge=Differ(),
        store=Store(StoreConfig(path=db, commit_interval=0.05)))
    async with pipeline:
        await pipeline.run(duration=20)
    return db


async def test_a_real_divergence_replays_from_its_scenario(tmp_path: Path) -> None:
    db = await shadow_run(tmp_path, [query("www.test."), query("mail.test.", "MX")],
                          fault="drop_answer")
    reader = StoreReader(db)
    real = reader.divergences()
    assert {d["qname"] for d in real} == {"www.test.", "mail.test."}
    assert reader.with_upstream() == 2
    www = next(d["id"] for d in real if d["qname"] == "www.test.")
    log = reader.upstream(www)
    assert log is not None and log.dropped == 0
    servers = {x.server for x in log.exchanges}
    assert ROOT_ADDR in servers and servers & {"127.9.1.1", "127.9.1.2"}
    assert all(x.transport == "udp" and x.outcome == "answer" for x in log.exchanges)

    written = scenario_from_store(db, www)
    text = written.text
    assert "127.0.0.99" not in text and "40000" not in text  # no client address or port
    assert "val-override-date: " in text and "query-minimization: on" in text
    assert "MATCH opcode qname qtype flags rcode answer\n" in text
    rpl = tmp_path / "www.rpl"
    rpl.write_text(text)

    # Without the fault (the candidate fixed): it passes, in both QNAME-minimisation
    # types, as `shadowdns deckard run` runs it.
    for qtype in ("NS", "A"):
        results = await asyncio.to_thread(run_file, str(rpl), RunOptions(qmin_qtype=qtype))
        assert [r.status for r in results] == ["pass", "skip"], [r.summary for r in results]

    # With the fault: it fails at the check, on the answer (the live verdict's category).
    scenario = load(rpl)
    for seed in (1, 2, 3):
        net = ScenarioNet(scenario, rng=random.Random(seed))
        config = CandidateConfig.from_scenario(scenario.config, True)
        faulty = Candidate(config, net, seed=seed,
                           exchanger=lambda e: FaultyExchanger(e, "drop_answer"))
        failure = await play(scenario, CandidateTarget(faulty), net, random.Random(seed))
        assert failure is not None and failure.kind == "CHECK_ANSWER", failure
        assert "answer" in failure.message
        assert not net.undefined and not net.unknown


async def test_equal_answers_keep_no_exchanges_and_old_stores_upgrade(tmp_path: Path) -> None:
    db = await shadow_run(tmp_path, [query("www.test.")], fault=None)
    reader = StoreReader(db)
    assert reader.divergences() == [] and reader.count() == 1
    assert reader.with_upstream(kinds=("equal", "noise", "real")) == 0
    assert reader.upstream(1) is None
    with pytest.raises(ScenarioWriteError, match="no recorded upstream exchanges"):
        scenario_from_store(db, 1)
    reader.close()

    old = tmp_path / "old.db"  # a schema-1 store (no upstream tables) opens and upgrades
    con = sqlite3.connect(old)
    con.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "INSERT INTO meta VALUES ('schema_version', '1');")
    con.commit()
    con.close()
    assert StoreReader(old).upstream(1) is None  # read-only: no table yet, no error
    store = Store(StoreConfig(path=old))
    store.open()
    store.close()
    con = sqlite3.connect(old)
    version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert int(version) == SCHEMA_VERSION == 2 and {"upstream", "upstream_logs"} <= tables


async def test_the_log_is_bounded_and_counts_drops() -> None:
    log = ExchangeLog(max_bytes=600)
    transport = RecordingTransport(MockTransport(authority))
    token = CURRENT.set(log)
    try:
        for _ in range(10):
            await transport.query(ROOT_ADDR, dns.message.make_query("www.test.", "A"),
                                  tcp=False, timeout=1.0)
    finally:
        CURRENT.reset(token)
    assert sum(x.size for x in log.items) == log.bytes <= 600  # estimated before stored
    assert 0 < len(log.exchanges) < 10 and log.dropped == 10 - len(log.exchanges)
    silent = MockTransport(lambda a, q, t: None)  # a timeout is recorded as one
    timeouts = ExchangeLog()
    token = CURRENT.set(timeouts)
    try:
        with pytest.raises(TimeoutError):
            await RecordingTransport(silent).query(ROOT_ADDR, dns.message.make_query(
                "x.test.", "A"), tcp=True, timeout=0.1)
    finally:
        CURRENT.reset(token)
    assert [(x.outcome, x.transport, x.answer) for x in timeouts.exchanges] == [
        ("timeout", "tcp", None)]
    assert isinstance(timeouts.exchanges[0], UpstreamExchange)
    await asyncio.sleep(0)


def test_report_scenario_command(tmp_path: Path) -> None:
    db = asyncio.run(shadow_run(tmp_path, [query("www.test.")], fault="drop_answer"))
    out = tmp_path / "d.rpl"
    run = subprocess.run([sys.executable, "-m", "shadowdns", "report", "scenario", "1",
                          "--db", str(db), "-o", str(out)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert f"shadowdns deckard run {out}" in run.stderr and out.read_text().startswith(";")
    bad = subprocess.run([sys.executable, "-m", "shadowdns", "report", "scenario", "7",
                          "--db", str(db)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "no observation 7" in bad.stderr


def test_report_and_explain_offer_the_scenario(tmp_path: Path) -> None:
    db = asyncio.run(shadow_run(tmp_path, [query("www.test."), query("mail.test.", "MX"),
                                           query("ns1.test.")], fault="drop_answer"))
    explain = subprocess.run([sys.executable, "-m", "shadowdns", "report", "explain", "1",
                              "--db", str(db), "--width", "200"], capture_output=True,
                             text=True, timeout=60)
    assert explain.returncode == 0, explain.stderr
    text = " ".join(explain.stdout.split())  # (the program as it was run: reports.command)
    assert (f"-m shadowdns report scenario 1 --db {db} -o divergence-1.rpl && ") in text
    assert "-m shadowdns deckard run divergence-1.rpl" in text
    report = subprocess.run([sys.executable, "-m", "shadowdns", "report", "--db", str(db),
                             "--width", "200"], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert "3 of 3 real divergences have a replay scenario" in report.stdout
    reader = StoreReader(db)
    for d in reader.divergences():  # joined exchanges too: each log reaches the root
        log = reader.upstream(d["id"])
        assert log is not None and any(x.server == ROOT_ADDR for x in log.exchanges), d
