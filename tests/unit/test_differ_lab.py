"""The differ on the whole lab, in process: the accuracy benchmark in a reduced form, the
fault plugin at the candidate's post-resolve hook, and the stored corpus for the throughput
benchmark.  No sockets: the lab answers through ``LabServer.answer``.
"""

from __future__ import annotations

import asyncio

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from harness.records import VerdictKind
from resolver.model import Request
from shadowdns.bench.differ import (
    AccuracyConfig,
    AccuracyReport,
    Stored,
    accuracy,
    load_corpus,
    make_corpus,
    throughput,
)
from shadowdns.bench.faults import FaultKind, FaultPlugin, apply_fault


@pytest.fixture(scope="module")
def report() -> AccuracyReport:
    """Every name but the held-out noise kinds (those are measured apart, below)."""
    return asyncio.run(accuracy(AccuracyConfig(rounds=8, fault_rate=0.5, seed=3,
                                               kinds="no-held-out")))


@pytest.fixture(scope="module")
def held_out() -> AccuracyReport:
    return asyncio.run(accuracy(AccuracyConfig(rounds=6, fault_rate=0.3, seed=4,
                                               kinds="held-out", references=1)))


def test_noise_names_never_give_a_real_verdict(report: AccuracyReport) -> None:
    noise = [r for r in report.clean if r.kind.startswith("noise:")]
    kinds = {r.kind for r in noise}
    assert kinds == {"noise:rotation", "noise:pool", "noise:geo", "noise:cdn", "noise:flap"}
    assert len(noise) >= 20
    assert report.false_real() == [], report.text()
    assert report.false_real_split()[0] == (0, len(noise))
    # and they are explained as what they are
    by_kind = {k: {n for r in noise if r.kind == k for n in r.verdict.explained_by}
               for k in kinds}
    assert "order" in by_kind["noise:rotation"]
    assert "pool" in by_kind["noise:pool"]
    assert "geo" in by_kind["noise:geo"]
    assert "cdn" in by_kind["noise:cdn"]


def test_held_out_noise_kinds_are_reported_apart(held_out: AccuracyReport) -> None:
    rows = held_out.noise_kinds()
    assert {"noise:whoami", "noise:nonce", "noise:instance", "noise:ttl_jitter",
            "noise:serial", "noise:online_signer"} <= set(rows)
    assert all(row["held_out"] for row in rows.values())
    named, (false_real, observations) = held_out.false_real_split()
    assert named == (0, 0)
    assert observations == sum(r["observations"] for r in rows.values()) > 0
    assert false_real == len(held_out.false_real())
    text = held_out.text()
    assert "held out noise:whoami" in text and "held-out kinds" in text
    found, total = held_out.found()  # faults under held-out noise are still found
    assert total > 0 and found == total, text


def test_every_injected_fault_kind_is_found(report: AccuracyReport) -> None:
    injected = {r.fault for r in report.faulty}
    assert injected == set(FaultKind)
    for kind in FaultKind:
        found, total = report.found(kind)
        assert found == total, (kind, report.text())
    found, total = report.found()
    assert total >= 100 and found / total >= 0.99


def test_faults_are_filed_under_their_category(report: AccuracyReport) -> None:
    for cat, (_, fp, fn, _) in report.per_category().items():
        assert fn == 0 and fp == 0, (cat, report.text())
    text = report.text()
    assert "precision" in text and "recall" in text


def test_broken_servers_agree_with_themselves(report: AccuracyReport) -> None:
    broken = [r for r in report.clean if r.kind.startswith("broken:")]
    assert broken and all(r.verdict.kind is not VerdictKind.REAL for r in broken)


def reply_for(qname: str, *records: str, do: bool = True) -> tuple[dns.message.Message,
                                                                     dns.message.Message]:
    q = dns.message.make_query(qname, "A", want_dnssec=do)
    r = dns.message.make_response(q)
    for text in records:
        owner, ttl, rdtype, rdata = text.split(maxsplit=3)
        r.answer.append(dns.rrset.from_text(owner, int(ttl), "IN", rdtype, *rdata.split(",")))
    return q, r


def test_fault_mutations_and_their_categories() -> None:
    q, r = reply_for("alias.example.", "alias.example. 300 CNAME www.example.",
                     "www.example. 300 A 192.0.2.1,192.0.2.2")
    before = r.to_text()
    expected = {
        FaultKind.DROP_RR: "answer.data",
        FaultKind.RCODE: "rcode",
        FaultKind.FLIP_AD: "dnssec.secure_insecure",
        FaultKind.REORDER_CNAME: "cname.order",
        FaultKind.RAISE_TTL: "answer.ttl",
        FaultKind.CHANGE_ADDRESS: "answer.data",
    }
    for kind, category in expected.items():
        applied = apply_fault(kind, r, q)
        assert applied is not None and applied.expected == category
        assert applied.reply.to_text() != before
    assert r.to_text() == before  # the original (maybe cached) reply is untouched
    assert apply_fault(FaultKind.STRIP_RRSIG, r, q) is None  # nothing to strip
    moved = apply_fault(FaultKind.REORDER_CNAME, r, q)
    assert moved is not None and moved.reply.answer[-1].rdtype == dns.rdatatype.CNAME
    raised = apply_fault(FaultKind.RAISE_TTL, r, q)
    assert raised is not None and raised.reply.answer[0].ttl == 3900
    changed = apply_fault(FaultKind.CHANGE_ADDRESS, r, q)
    assert changed is not None
    assert {rd.to_text() for rd in changed.reply.answer[1]} == {"127.66.6.6", "192.0.2.2"}
    rc = apply_fault(FaultKind.RCODE, r, q)
    assert rc is not None and rc.reply.rcode() == dns.rcode.NXDOMAIN
    _, plain = reply_for("www.example.", "www.example. 300 A 192.0.2.1")
    assert apply_fault(FaultKind.REORDER_CNAME, plain) is None
    servfail = dns.message.make_response(q)
    servfail.set_rcode(dns.rcode.SERVFAIL)
    flipped = apply_fault(FaultKind.FLIP_AD, servfail, q)
    assert flipped is not None and flipped.expected == "flags.ad"
    assert flipped.reply.flags & dns.flags.AD


def test_fault_plugin_arms_questions_at_the_post_resolve_hook() -> None:
    q, r = reply_for("www.example.", "www.example. 300 A 192.0.2.1")
    plugin = FaultPlugin()
    request = Request(q.question[0].name, dns.rdatatype.A)
    assert plugin.post_resolve(request, q, r) is r
    plugin.inject("WWW.Example", dns.rdatatype.A, FaultKind.RCODE)
    bent = plugin.post_resolve(request, q, r)
    assert bent is not r and bent.rcode() == dns.rcode.NXDOMAIN
    applied = plugin.applied[("www.example.", 1)]
    assert applied is not None and applied.kind is FaultKind.RCODE
    plugin.clear("www.example.", dns.rdatatype.A)
    assert plugin.post_resolve(request, q, r) is r


async def test_corpus_round_trip_and_replayed_judgement(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "corpus.jsonl"
    counts = await make_corpus(path, 300, fault_rate=0.05, seed=5)
    assert sum(v for k, v in counts.items() if k.startswith("verdict ")) == 300
    corpus = load_corpus(path)
    assert len(corpus) == 300 and all(isinstance(s, Stored) for s in corpus)
    again = Stored.from_json(corpus[0].to_json())
    assert again.observation.answers.keys() == corpus[0].observation.answers.keys()
    result = await throughput(corpus)
    assert result.observations == 300 and result.per_second > 0
    assert sum(result.by_kind.values()) == 300
    # the replayed verdicts are those of the recording, as far as REAL goes
    assert result.by_kind.get("real", 0) == counts.get("verdict real", 0)


def test_bench_differ_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from shadowdns.cli import main

    figures = tmp_path / "figures.json"
    assert main(["bench", "differ", "--rounds", "1", "--corpus", str(tmp_path / "c.jsonl"),
                 "--corpus-size", "60", "--json", str(figures)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "comparisons per CPU-second" in out
    import json

    data = json.loads(figures.read_text())
    assert data["accuracy"]["false_real_named"] == 0
    assert data["accuracy"]["observations_held_out"] > 0
    assert data["accuracy"]["noise_kinds"]["noise:whoami"]["held_out"] is True
    assert "done when (issue 14)" in out and "fault recall (found/injected)" in out
    for row in data["accuracy"]["faults_by_kind"].values():
        assert row["recall"] == round(row["found"] / row["injected"], 4)
    assert data["throughput"]["observations"] == 60


def test_differ_configuration_from_flags_and_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from shadowdns.bench.differ import differ_for_lab, differ_overrides
    from shadowdns.cli import main

    path = tmp_path / "differ.yaml"
    path.write_text("confirm: false\nreferences: [unbound]\n")
    got = differ_overrides(["pool_requeries=3", "confirm=true"], path)
    assert got == {"confirm": True, "references": ("unbound",), "pool_requeries": 3}
    differ = differ_for_lab(1, got)
    assert differ.config.pool_requeries == 3 and differ.config.references == ("unbound",)
    for argv, message in (
            (["--differ", "nope=1"], "--differ: nope: not a DifferConfig field"),
            (["--differ", "confirm"], "--differ: 'confirm' is not KEY=VALUE"),
            (["--rates", "2x"], "--rates: '2x' is not a comma-separated list"),
            (["--differ-config", str(tmp_path / "missing.yaml")], "cannot read")):
        assert main(["bench", "differ", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    path.write_text("confirm: [\n")
    assert main(["bench", "differ", "--differ-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: not valid YAML" in err and err.count("\n") == 1, err


def test_done_when_reads_per_kind_recall_and_false_real_off_one_table() -> None:
    from harness.records import Verdict
    from shadowdns.bench.differ import Record, done_when

    def rec(kind: str, fault: FaultKind | None, verdict: VerdictKind) -> Record:
        return Record("x.lab.", "A", kind, fault, "answer.ttl" if fault else None,
                      Verdict(1, verdict, "answer.ttl"))

    paced = AccuracyReport(held_out={"noise:ttl_jitter"}, records=[
        rec("noise:ttl_jitter", None, VerdictKind.NOISE),
        rec("noise:pool", None, VerdictKind.REAL),
        *[rec("noise:ttl_jitter", FaultKind.RAISE_TTL, VerdictKind.REAL)] * 99,
        rec("noise:ttl_jitter", FaultKind.RAISE_TTL, VerdictKind.UNSTABLE),
        rec("stable:stable", FaultKind.RCODE, VerdictKind.REAL)])
    fast = AccuracyReport(held_out={"noise:ttl_jitter"}, records=[
        rec("noise:ttl_jitter", None, VerdictKind.NOISE),
        rec("noise:ttl_jitter", FaultKind.RAISE_TTL, VerdictKind.REAL),
        rec("noise:ttl_jitter", FaultKind.RAISE_TTL, VerdictKind.TIMEOUT)])
    text = done_when([("20/s", paced), ("highest", fast)])
    lines = {line.strip().split("  ")[0]: line for line in text.splitlines()[1:]}
    assert "0/1" in lines["noise:ttl_jitter"] and "1/1" in lines["noise:pool"]
    assert "1/1" in lines["false REAL, named kinds"]
    assert "0/1" in lines["false REAL, held-out kinds (no named rule)"]
    assert "99/100  99.0%" in lines["raise_ttl"]
    assert "1/2  50.0% (1/1 answered)" in lines["raise_ttl"]
    assert "done when, 20/s: 1 false REAL; recall >= 99% on every fault kind" in text
    assert "done when, highest: no false REAL; below: raise_ttl 50.0%" in text
    assert fast.recall(FaultKind.RAISE_TTL).missed_as == {"timeout": 1}
