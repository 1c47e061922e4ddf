"""The Deckard runner: .rpl parsing (every construct, the quirks), MATCH rules, the fake
network's answering rules, playing steps, known failures, JUnit XML and the CLI."""

from __future__ import annotations

import calendar
import random
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from deckard import junit
from deckard.candidate import BUILTIN_ROOT_HINTS, CandidateConfig
from deckard.cli import main as deckard_main
from deckard.fakenet import ScenarioNet, ScenarioTransport, build_reply
from deckard.known import (
    DEFAULT_PATH,
    KnownFailures,
    KnownFailuresError,
    exit_status,
    judge,
    stale_entries,
)
from deckard.match import compare_records, matches, message_records, mismatches
from deckard.outcome import RunResult, StepFailure
from deckard.records import parse_record
from deckard.runner import RunOptions, play, run_file, run_paths, select
from deckard.scenario import Entry, Scenario, load, parse
from deckard.text import ScenarioError
from resolver.conductor.transport import TransportError

N = dns.name.from_text
T = dns.rdatatype
SCENARIOS = Path(__file__).parents[1] / "scenarios"

HEADER = "stub-addr: 127.7.0.1\nCONFIG_END\n\nSCENARIO_BEGIN test\n"


def sc(body: str, header: str = HEADER, name: str = "t.rpl") -> Scenario:
    return parse(Path(name), textwrap.dedent(header) + textwrap.dedent(body) + "\nSCENARIO_END\n")


def query(name: str, rdtype: str = "A", *, edns: bool = True, do: bool = False,
          msg_id: int = 4242) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype, use_edns=0 if edns else False, want_dnssec=do)
    q.flags = 0
    q.id = msg_id
    return q


def reply_of(net: ScenarioNet, address: str, q: dns.message.Message,
             tcp: bool = False) -> dns.message.Message | None:
    wire = net.answer(address, q.to_wire(), tcp)
    return None if wire is None else dns.message.from_wire(wire)


# -- the header ---------------------------------------------------------------------------


ANCHORS = "\n".join([
    'trust-anchor: ". 3600 IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A418'
    '55200FD2CE1CDDE32F24E8FB5"',
    # a DNSKEY with parentheses and an in-quote comment
    'trust-anchor: "example. DNSKEY 257 3 7 AwEAAcUlFV1vhmqx6NSOUOq2R/dsR7Xm3upJ ( '
    'j7IommWSpJABVfW8Q0rOvXdM6kzt+TAu92L9 AbsUdblMFin8CVF3n4s= ) ;{id = 30899 (zsk)}"',
    # a mnemonic algorithm
    'trust-anchor: "example.com. DS 57024 RSASHA1NSEC3SHA1 1 '
    '46d134be319b2cc910b9938f1cb25dc41abb27bf"',
    # a digest too long for its type (dnspython refuses it; kept as generic data)
    'trust-anchor: ".\t\t\tIN DS 49060 8 1 E7B1EB56D7D5791B3D45630FEAA9C823DB84B385ACEE'
    'AC5F44DD08885C36700F" # digest type changed',
])


def test_header_keys_and_quirks() -> None:
    header = """\
    do-ip6: no
    ; a column-0 comment: name: "." is not a key
    ;	stub-zone:
    \t; an indented comment without a colon is ignored
    \tstub-addr: 193.0.14.129 \t# K.ROOT-SERVERS.NET.
    stub-name: rootns.
    query-minimization: on
    query-minimization: off ; the last occurrence wins, the comment is not part of it
    harden-glue: "no"
    do-not-query-localhost: off
    val-override-date: "20170401000000"
    {ANCHORS}
    domain-insecure: net.
    features: min_ttl = 5 ; default in kresd
    features: renumber_src = 1.2.3.0/24; renumber_dst = 4.5.6.0
    feature-list: policy=policy:add(policy.all(policy.DENY))
    CONFIG_END
    SCENARIO_BEGIN header test
    """
    s = sc("", header=textwrap.dedent(header).replace("{ANCHORS}", ANCHORS))
    c = s.config
    assert c.stub_addr == "193.0.14.129"
    assert c.stub_name == N("rootns.")
    assert c.qmin is False and c.variants() == (False,)
    assert c.harden_glue is False and c.do_ip6 is False and c.do_ip4 is True
    assert c.do_not_query_localhost is False
    assert c.start_time == calendar.timegm((2017, 4, 1, 0, 0, 0))
    anchors = c.validation.trust_anchors
    assert [a.rdtype for a in anchors] == [T.DS, T.DNSKEY, T.DS, T.DS]
    assert anchors[1].name == N("example.")
    assert anchors[2].rdata.algorithm == 7  # type: ignore[attr-defined]
    assert anchors[3].rdata.to_digestable()[3] == 1  # kept although the digest is too long
    assert set(c.validation.anchors_by_owner()) == {N("."), N("example."), N("example.com.")}
    assert c.validation.negative_anchors == (N("net."),)
    assert dict(c.features) == {"min_ttl": "5", "renumber_src": "1.2.3.0/24",
                                "renumber_dst": "4.5.6.0"}
    assert c.feature_list == ("policy=policy:add(policy.all(policy.DENY))",)
    assert c.kresd_only


def test_header_on_with_comment_is_on_and_defaults() -> None:
    s = sc("", header="query-minimization: on ; would be 'off' in Deckard\nCONFIG_END\n"
                      "SCENARIO_BEGIN x\n")
    assert s.config.qmin is True
    assert s.config.stub_addr is None and s.config.stub_name == N("k.root-servers.net.")
    assert s.config.do_ip4 and s.config.do_ip6 and s.config.harden_glue
    assert s.config.do_not_query_localhost and s.config.start_time is None
    assert not s.config.kresd_only
    none = sc("", header="CONFIG_END\nSCENARIO_BEGIN x\n")
    assert none.config.variants() == (True, False)


def test_timestamp_and_forwarders() -> None:
    s = sc("", header='val-override-timestamp: "1442323400"\nforward-addr: 192.0.2.1\n'
                      "CONFIG_END\nSCENARIO_BEGIN x\n")
    assert s.config.start_time == 1442323400.0
    assert s.config.forward_addrs == ("192.0.2.1",)
    cfg = CandidateConfig.from_scenario(s.config, qmin=False)
    assert cfg.forwarders == ("192.0.2.1",) and cfg.start_time == 1442323400.0


def test_candidate_config_from_header() -> None:
    s = sc("", header="do-ip4: no\nCONFIG_END\nSCENARIO_BEGIN x\n")
    cfg = CandidateConfig.from_scenario(s.config, qmin=True, now=1_000.7)
    assert cfg.root_hints == BUILTIN_ROOT_HINTS  # no stub-addr: built-in hints
    assert all(":" in a for _, a in cfg.usable_hints())  # IPv6 only
    assert cfg.start_time == 1000.0 and cfg.qname_minimisation
    rc = cfg.recursor_config()
    assert not rc.do_ip4 and rc.do_ip6 and rc.do_not_query_localhost
    assert rc.usable("127.0.0.1", configured=True) is False  # no IPv4 at all
    assert rc.usable("::1", configured=True) and not rc.usable("::1")


# -- the body -----------------------------------------------------------------------------

BODY = """\
; a comment
RANGE_BEGIN 0 100 193.0.14.129; root (comment right after the address)
	ADDRESS 2001:DC3::35
ENTRY_BEGIN ; comment after a keyword
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
. IN NS
SECTION ANSWER
. NS k.root-servers.net ; relative names are absolute against the root
SECTION ADDITIONAL
k.root-servers.net. 20 A 193.0.14.129
ENTRY_END
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id copy_query
FLAGS QR NXDOMAIN
SECTION QUESTION
com. IN A
SECTION AUTHORITY
com. IN SOA a. b. 1 2 3 4 5
ENTRY_END
ENTRY_BEGIN
REPLY QR SERVFAIL
ENTRY_END
RANGE_END

STEP 1 QUERY
ENTRY_BEGIN
REPLY RD DO CD
SECTION QUESTION
www.example.com. IN TYPE65534
ENTRY_END
STEP 2 CHECK_ANSWER ; comments may follow step headers
ENTRY_BEGIN
MATCH all
REPLY QR RD RA AD DO SERVFAIL
SECTION QUESTION
www.example.com. IN TYPE65534
SECTION ANSWER
txt.example. TXT "a;b" "c d"
gen.example. IN TYPE65530 \\# 2 abcd
ENTRY_END
STEP 3 TIME_PASSES ELAPSE 3600
STEP 4 REPLY
ENTRY_BEGIN
MATCH opcode qname
MANDATORY
TSIG key.example. c2VjcmV0
ADJUST copy_id raw_id
RAW
b5c9 ca3d 5010
ENTRY_END
STEP 5 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname
SECTION QUESTION
x. A
ENTRY_END
SCENARIO_END
anything after SCENARIO_END is ignored: RANGE_BEGIN garbage
"""


def test_body_constructs() -> None:
    s = parse(Path("body.rpl"), HEADER + BODY)
    assert s.title == "test" and s.name == "body"
    (rng,) = s.ranges
    assert (rng.start, rng.end) == (0, 100)
    assert rng.addresses == ["193.0.14.129", "2001:dc3::35"]  # normalised
    e1, e2, e3 = rng.entries
    assert e1.match == ("opcode", "qtype", "qname") and e1.adjust == {"copy_id"}
    assert e1.flags == dns.flags.QR | dns.flags.AA and e1.rcode == dns.rcode.NOERROR
    assert e1.answer[0].rdata.target == N("k.root-servers.net.")  # type: ignore[attr-defined]
    assert e1.answer[0].ttl == 3600 and e1.additional[0].ttl == 20
    assert e2.rcode == dns.rcode.NXDOMAIN and e2.flags == dns.flags.QR  # FLAGS alias
    assert e3.match is None  # no MATCH line: matches everything upstream
    kinds = [(st.id, st.kind) for st in s.steps]
    assert kinds == [(1, "QUERY"), (2, "CHECK_ANSWER"), (3, "TIME_PASSES"), (4, "REPLY"),
                     (5, "CHECK_OUT_QUERY")]
    q = s.steps[0].entry
    assert q is not None and q.do and q.flags == dns.flags.RD | dns.flags.CD
    assert q.question[0].rdtype == 65534
    check = s.steps[1].entry
    assert check is not None and check.rcode == dns.rcode.SERVFAIL
    assert [str(r.rdata) for r in check.answer] == ['"a;b" "c d"', "\\# 2 abcd"]
    assert s.steps[2].elapse == 3600
    reply = s.steps[3].entry
    assert reply is not None and reply.raw == bytes.fromhex("b5c9ca3d5010")
    assert reply.mandatory and reply.tsig == ("key.example.", "c2VjcmV0")
    msg = q.template(msg_id=7)
    assert msg.id == 7 and msg.edns == 0 and msg.payload == 4096
    assert msg.ednsflags & dns.flags.DO and msg.flags & dns.flags.CD


def test_every_record_line_is_its_own_rrset_in_the_template() -> None:
    s = sc("""\
    STEP 1 CHECK_ANSWER
    ENTRY_BEGIN
    MATCH answer
    SECTION ANSWER
    a. A 1.1.1.1
    a. A 1.1.1.1
    ENTRY_END
    """)
    entry = s.steps[0].entry
    assert entry is not None and len(entry.template().answer) == 2


MALFORMED = [
    ("stub-addr: 1.2.3.4\n", "no CONFIG_END", 1),
    ("bogus-key: 1\nCONFIG_END\nSCENARIO_BEGIN x\nSCENARIO_END\n", "unsupported CONFIG key", 1),
    ("query-minimization: maybe\nCONFIG_END\nSCENARIO_BEGIN x\nSCENARIO_END\n",
     "neither yes", 1),
    ("stub-addr: not-an-ip\nCONFIG_END\nSCENARIO_BEGIN x\nSCENARIO_END\n", "not an IP", 1),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nSECTION ANSWER\nSECTION QUESTION\n",
     "SECTION QUESTION after SECTION ANSWER", 8),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nMATCH qname\nMATCH qtype\n", "a second MATCH", 8),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nMATCH qname ttl\n", "unknown MATCH option 'ttl'", 7),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nADJUST sleep=1\n", "unknown ADJUST option", 7),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nREPLY QR NOERROR NXDOMAIN\n", "more than one rcode",
     7),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nREPLY QR BOGUS\n", "unknown REPLY word", 7),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nwww. A 1.2.3.4\n", "before any SECTION", 7),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nSECTION ANSWER\nwww. A 1.2.3\n", "bad A data", 8),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nSECTION ANSWER\nwww. BOGUSTYPE x\n",
     "unknown record type", 8),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nMATCH opcode\nRANGE_END\n", "no ENTRY_END", 8),
    (HEADER + "RANGE_BEGIN 0 10\nENTRY_BEGIN\nRAW\nxyz\n", "one line of hex", 8),
    (HEADER + "RANGE_BEGIN 10 0\n", "ends before it starts", 5),
    (HEADER + "STEP 1 QUERY\nSTEP 2 QUERY\n", "has no ENTRY", 5),
    (HEADER + "STEP 1 TIME_PASSES ELAPSE\n", "TIME_PASSES ELAPSE", 5),
    (HEADER + "STEP 1 TIME_PASSES ELAPSE 1\nSTEP 1 TIME_PASSES ELAPSE 2\n", "appears twice", 6),
    (HEADER + "STEP 1 TRAFFIC\n", "unknown STEP type", 5),
    (HEADER + "ENTRY_BEGIN\n", "outside a RANGE", 5),
    (HEADER + "STEP 1 CHECK_ANSWER\nENTRY_BEGIN\nENTRY_END\n", "needs a MATCH line", 6),
    (HEADER + "RANGE_BEGIN 0 10\n", "no SCENARIO_END", 5),
    ("CONFIG_END\nRANGE_BEGIN 0 1\n", "expected SCENARIO_BEGIN", 2),
    ("CONFIG_END\nSCENARIO_BEGIN\n", "needs a title", 2),
    (HEADER + "ADDRESS 1.2.3.4\n", "belongs inside a RANGE", 5),
]


@pytest.mark.parametrize(("text", "problem", "line"), MALFORMED)
def test_malformed_files_name_file_and_line(text: str, problem: str, line: int) -> None:
    with pytest.raises(ScenarioError) as info:
        parse(Path("dir/bad.rpl"), text)
    assert info.value.line == line, str(info.value)
    assert str(info.value).startswith(f"dir/bad.rpl:{line}: ")
    assert problem in str(info.value)


def test_a_malformed_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.rpl"
    good.write_text((SCENARIOS / "referral_glue.rpl").read_text())
    bad = tmp_path / "bad.rpl"
    bad.write_text(HEADER + "STEP 1 QUERY\nSCENARIO_END\n")
    results = run_paths([bad, good], RunOptions(), jobs=1)
    assert [(r.scenario, r.status) for r in results] == [
        ("bad", "error"), ("good", "pass"), ("good", "pass")]
    assert results[0].reason.startswith(f"{bad}:5: STEP 1 QUERY")


# -- MATCH --------------------------------------------------------------------------------


def entry(match: str, question: str | None = "www.example.com. IN A", **sections: str) -> Entry:
    body = ["STEP 1 REPLY", "ENTRY_BEGIN"]  # a REPLY entry may lack MATCH, unlike a check
    if match:
        body.append(f"MATCH {match}")
    body.append(sections.pop("reply", "REPLY QR RD RA NOERROR"))
    if question:
        body += ["SECTION QUESTION", question]
    for name in ("answer", "authority", "additional"):
        if name in sections:
            body += [f"SECTION {name.upper()}", *sections[name].splitlines()]
    body.append("ENTRY_END")
    s = sc("\n".join(body) + "\n")
    e = s.steps[0].entry
    assert e is not None
    return e


def test_question_matching_rules() -> None:
    q = query("WwW.Example.COM.")
    assert matches(entry("qname"), q)  # case-insensitive
    assert not matches(entry("qcase"), q)  # byte for byte
    assert matches(entry("qcase", "WwW.Example.COM. IN A"), q)
    assert not matches(entry("qtype", "www.example.com. IN AAAA"), q)
    assert matches(entry("question", "www.example.com. CH A"), q)  # class not compared
    assert matches(entry("subdomain", "example.com. IN NS"), q)
    assert not matches(entry("subdomain", "other.com. IN NS"), q)
    assert matches(entry("subdomain", None), q)  # no question: subdomain is skipped
    # the empty-question trap: qname/qtype against a template without a question
    assert not matches(entry("qname", None), q)
    assert not matches(entry("qtype", None), q)
    empty = dns.message.Message()
    assert matches(entry("qname qtype", None), empty)
    assert matches(entry("", None), q)  # no MATCH line: everything
    assert matches(entry("opcode"), q)
    notify = query("x.")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert not matches(entry("opcode"), notify)


def answer_to(q: dns.message.Message, *answer: str, flags: int = 0,
              rcode: dns.rcode.Rcode = dns.rcode.NOERROR) -> dns.message.Message:
    r = dns.message.make_response(q)
    r.flags = dns.flags.QR | flags
    r.set_rcode(rcode)
    for text in answer:
        owner, ttl, rdclass, rdtype, data = text.split(maxsplit=4)
        r.answer.append(dns.rrset.from_text(owner, int(ttl), rdclass, rdtype, data))
    return r


def test_flags_rcode_and_sections() -> None:
    q = query("www.example.com.", do=True)
    got = answer_to(q, "www.example.com. 300 IN A 192.0.2.1",
                    flags=dns.flags.RD | dns.flags.RA)
    assert mismatches(entry("flags rcode", reply="REPLY QR RD RA DO NOERROR"), got) == []
    missed = mismatches(entry("flags", reply="REPLY QR RD RA AD"), got)
    assert [m.option for m in missed] == ["flags"] and "AD" in missed[0].detail
    assert [m.option for m in mismatches(entry("rcode", reply="REPLY QR NXDOMAIN"), got)] == [
        "rcode"]
    # TTL, owner case and order do not matter; the OPT record is not in additional
    exp = entry("answer additional", answer="WWW.example.com. 5 A 192.0.2.1")
    assert mismatches(exp, got) == []
    assert matches(entry("all", reply="REPLY QR RD RA NOERROR",
                         answer="www.example.com. A 192.0.2.1"), got)
    wrong = entry("answer", answer="www.example.com. A 192.0.2.2")
    (m,) = mismatches(wrong, got)
    assert "missing www.example.com." in m.detail and "unexpected" in m.detail


def test_section_rule_is_each_in_other_and_same_count() -> None:
    a1, a2, b = (parse_record(t) for t in ("a. A 1.1.1.1", "a. 7 A 1.1.1.1", "b. A 2.2.2.2"))
    assert compare_records([a1, a1, b], [a2, b, b]) is None  # Deckard's quirk: it passes
    assert compare_records([a1, b], [a1]) is not None
    assert compare_records([a1, a1], [a1]) is not None  # counts differ
    rrsig = parse_record("x. RRSIG A 8 1 300 20170101000000 20160101000000 1 X. AAAA")
    same = parse_record("X. RRSIG A 8 1 300 20170101000000 20160101000000 1 x. AAAA")
    assert compare_records([rrsig], [same]) is None  # names in RDATA compared canonically
    msg = answer_to(query("a."), "a. 300 IN A 1.1.1.1")
    assert [r.to_text(ttl=False) for r in message_records(msg.answer)] == [
        "a.\tIN\tA\t1.1.1.1"]


# -- the fake network ---------------------------------------------------------------------

NET = """\
RANGE_BEGIN 0 10
	ADDRESS 192.0.2.1
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 10.0.0.1
ENTRY_END
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id
REPLY QR NOERROR
SECTION QUESTION
example.com. IN NS
SECTION AUTHORITY
example.com. IN NS ns.example.com.
ENTRY_END
RANGE_END
; touches the first range at step 10 (the first wins there); serves until 20
RANGE_BEGIN 10 20
	ADDRESS 192.0.2.1
	ADDRESS 192.0.2.2
ENTRY_BEGIN
MATCH opcode qname
ADJUST copy_query
REPLY QR AA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 10.0.0.2
ENTRY_END
ENTRY_BEGIN
MATCH opcode qname
ADJUST copy_id copy_query do_not_answer
SECTION QUESTION
dead.example.com. IN A
ENTRY_END
ENTRY_BEGIN
MATCH opcode qname
ADJUST raw_id
SECTION QUESTION
raw.example.com. IN A
RAW
0000818000010000000000000377777700000100
ENTRY_END
RANGE_END
STEP 5 QUERY
ENTRY_BEGIN
SECTION QUESTION
x. A
ENTRY_END
STEP 30 REPLY
ENTRY_BEGIN
MATCH opcode qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
late.example.com. IN A
SECTION ANSWER
late.example.com. IN A 10.0.0.30
ENTRY_END
STEP 31 REPLY
ENTRY_BEGIN
MATCH opcode qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
late.example.com. IN A
SECTION ANSWER
late.example.com. IN A 10.0.0.31
ENTRY_END
"""


def net_of(body: str = NET) -> ScenarioNet:
    return ScenarioNet(sc(body), rng=random.Random(1))


def test_first_range_first_entry_copy_id() -> None:
    net = net_of()
    net.step = 3
    r = reply_of(net, "192.0.2.1", query("WWW.example.com."))
    assert r is not None and r.id == 4242
    assert str(r.answer[0][0]) == "10.0.0.1"
    assert r.question[0].name.to_text() == "WWW.example.com."  # the query's case
    # copy_id only: the template's qtype stays, the name becomes the query's
    r = reply_of(net, "192.0.2.1", query("a.b.example.com.", "MX"))
    assert r is not None and r.question[0].name == N("a.b.example.com.")
    assert r.question[0].rdtype == T.NS
    assert net.undefined == []


TESTBOUND_HEADER = ("server:\n\tqname-minimisation: no\nstub-zone:\n\tname: \".\"\n"
                   "\tstub-addr: 192.0.2.1\nCONFIG_END\n\nSCENARIO_BEGIN test\n")


def test_testbound_copy_id_copies_the_id_alone() -> None:
    """testbound's copy_id copies the ID bytes only (testpkts.c adjust_packet): the reply's
    question keeps the entry's spelling of the name -- a server that does not echo the 0x20
    case; copy_query copies the question as asked.  A question naming another name stays
    (a reply to another question, which the conductor drops as Unbound's scrubber does)."""
    net = ScenarioNet(sc(NET, header=TESTBOUND_HEADER), rng=random.Random(1))
    assert net.scenario.dialect == "testbound"
    net.step = 3
    r = reply_of(net, "192.0.2.1", query("WWW.example.com."))
    assert r is not None and r.id == 4242
    assert r.question[0].name.to_text() == "www.example.com."  # the entry's spelling
    r = reply_of(net, "192.0.2.1", query("a.b.example.com.", "MX"))
    assert r is not None and r.question[0].name == N("example.com.")


def test_no_fall_through_and_touching_intervals() -> None:
    net = net_of()
    net.step = 10  # both ranges hold step 10: the first one wins, even without a match
    r = reply_of(net, "192.0.2.1", query("other.net."))
    assert r is not None and r.rcode() == dns.rcode.SERVFAIL
    assert len(net.undefined) == 1 and "undefined answer" in net.undefined[0].outcome
    net.step = 11
    r = reply_of(net, "192.0.2.1", query("www.example.com."))
    assert r is not None and str(r.answer[0][0]) == "10.0.0.2"
    assert r.id != 4242  # copy_query without copy_id: the id is the template's random one


def test_timeouts_do_not_answer_raw_id_and_unknown_address() -> None:
    net = net_of()
    net.step = 15
    assert reply_of(net, "192.0.2.2", query("dead.example.com.")) is None
    assert reply_of(net, "203.0.113.9", query("www.example.com.")) is None
    assert len(net.unknown) == 1 and net.undefined == []
    wire = net.answer("192.0.2.1", query("raw.example.com.", msg_id=0x1234).to_wire(), False)
    assert wire is not None and wire[:2] == b"\x12\x34" and wire[2:4] == b"\x81\x80"


def test_reply_steps_are_one_shot_in_file_order() -> None:
    net = net_of()
    net.step = 25  # no range covers step 25
    first = reply_of(net, "198.51.100.7", query("late.example.com."))
    second = reply_of(net, "198.51.100.8", query("late.example.com."), tcp=True)
    third = reply_of(net, "192.0.2.1", query("late.example.com."))
    assert first is not None and str(first.answer[0][0]) == "10.0.0.30"
    assert second is not None and str(second.answer[0][0]) == "10.0.0.31"
    assert third is not None and third.rcode() == dns.rcode.SERVFAIL  # known address: undefined
    assert reply_of(net, "198.51.100.7", query("late.example.com.")) is None  # unknown: timeout


def test_reply_edns_follows_the_query() -> None:
    net = net_of()
    net.step = 1
    plain = reply_of(net, "192.0.2.1", query("www.example.com.", edns=False))
    assert plain is not None and plain.edns == -1
    signed = reply_of(net, "192.0.2.1", query("www.example.com.", do=True))
    assert signed is not None and signed.edns == 0 and signed.ednsflags & dns.flags.DO
    assert signed.payload == 1232


async def test_transport_raises_timeout_and_transport_error() -> None:
    net = net_of()
    net.step = 15
    transport = ScenarioTransport(net)
    with pytest.raises(TimeoutError):
        await transport.query("192.0.2.2", query("dead.example.com."), tcp=False, timeout=1)
    broken = net_of(NET.replace("0000818000010000000000000377777700000100", "00008180"))
    broken.step = 15
    with pytest.raises(TransportError):
        await ScenarioTransport(broken).query("192.0.2.1", query("raw.example.com."),
                                              tcp=False, timeout=1)
    assert transport.queries == 1


def test_big_replies_are_not_truncated() -> None:
    lines = "\n".join(f"big.example. IN TXT \"{'x' * 200} {i}\"" for i in range(30))
    net = net_of(f"""\
    RANGE_BEGIN 0 10
    ADDRESS 192.0.2.1
    ENTRY_BEGIN
    MATCH opcode
    ADJUST copy_id copy_query
    REPLY QR AA NOERROR
    SECTION ANSWER
    {lines}
    ENTRY_END
    RANGE_END
    """.replace("\n    ", "\n"))
    r = reply_of(net, "192.0.2.1", query("big.example.", "TXT"))
    assert r is not None and len(r.answer[0]) == 30 and not r.flags & dns.flags.TC


# -- playing steps --------------------------------------------------------------------------


class FakeTarget:
    def __init__(self, answers: list[dns.message.Message | None]) -> None:
        self.answers = answers
        self.sent: list[bytes] = []
        self.advanced: list[float] = []

    async def send(self, wire: bytes, *, wait: bool) -> bytes | None:
        self.sent.append(wire)
        if not wait:
            return None
        answer = self.answers.pop(0)
        if answer is None:
            return None
        answer.id = dns.message.from_wire(wire).id
        return answer.to_wire()

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)

    @property
    def upstream_queries(self) -> int:
        return 0


PLAY = """\
STEP 1 QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 2 TIME_PASSES ELAPSE 30
STEP 3 CHECK_ANSWER
ENTRY_BEGIN
MATCH all
REPLY QR RD RA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 192.0.2.1
ENTRY_END
STEP 4 QUERY
ENTRY_BEGIN
RAW
00ff
ENTRY_END
"""


async def test_play_passes_sends_raw_and_moves_the_clock() -> None:
    s = sc(PLAY)
    good = answer_to(query("www.example.com."), "www.example.com. 300 IN A 192.0.2.1",
                     flags=dns.flags.RD | dns.flags.RA)
    target = FakeTarget([good])
    assert await play(s, target, ScenarioNet(s), random.Random(0)) is None
    assert target.advanced == [30]
    assert target.sent[-1] == b"\x00\xff"
    sent = dns.message.from_wire(target.sent[0])
    assert sent.flags & dns.flags.RD and sent.edns == 0 and sent.payload == 4096


async def test_play_reports_the_failing_step_with_a_diff() -> None:
    s = sc(PLAY)
    bad = answer_to(query("www.example.com."), "www.example.com. 300 IN A 192.0.2.9",
                    flags=dns.flags.RD | dns.flags.RA)
    failure = await play(s, FakeTarget([bad]), ScenarioNet(s), random.Random(0))
    assert failure is not None and (failure.step, failure.kind) == (3, "CHECK_ANSWER")
    assert failure.line == 4 + 8  # the STEP line: 4 header lines, then the 8th line of PLAY
    assert "-www.example.com.\tIN\tA\t192.0.2.1" in failure.diff
    assert "+www.example.com.\tIN\tA\t192.0.2.9" in failure.diff
    silent = await play(s, FakeTarget([None]), ScenarioNet(s), random.Random(0))
    assert silent is not None and silent.step == 1 and "no answer" in silent.message


async def test_undefined_answers_and_mandatory_entries_fail_at_the_end() -> None:
    s = sc(NET.replace("ENTRY_BEGIN\nMATCH opcode qtype qname",
                       "ENTRY_BEGIN\nMANDATORY\nMATCH opcode qtype qname", 1))
    net = ScenarioNet(s)
    target = FakeTarget([answer_to(query("x."))])
    failure = await play(s, target, net, random.Random(0))
    assert failure is not None and failure.kind == "MANDATORY" and failure.step is None
    net = ScenarioNet(s)
    net.step = 3
    net.answer("192.0.2.1", query("nomatch.org.").to_wire(), False)
    net.used.add(s.ranges[0].entries[0].line)
    failure = await play(s, FakeTarget([answer_to(query("x."))]), net, random.Random(0))
    assert failure is not None and failure.kind == "UPSTREAM"
    assert "nomatch.org. A to 192.0.2.1" in failure.message


def test_variants_follow_the_header() -> None:
    path = SCENARIOS / "referral_glue.rpl"
    results = run_file(str(path), RunOptions())
    assert [(r.variant, r.status) for r in results] == [("qmin", "pass"), ("noqmin", "pass")]


def test_qmin_set_in_the_header_skips_the_other_variant(tmp_path: Path) -> None:
    text = (SCENARIOS / "referral_glue.rpl").read_text().replace(
        "do-ip6: no", "do-ip6: no\nquery-minimization: off")
    path = tmp_path / "only_off.rpl"
    path.write_text(text)
    results = run_file(str(path), RunOptions())
    assert [(r.variant, r.status) for r in results] == [("qmin", "skip"), ("noqmin", "pass")]
    assert "query-minimization: off" in results[0].reason


def test_select_patterns() -> None:
    files = [Path("a/iter_one.rpl"), Path("a/val_two.rpl"), Path("a/module_x.rpl")]
    assert select(files, "iter") == files[:1]
    assert select(files, "val_*,module_*") == files[1:]
    assert select(files, "not module_") == files[:2]
    assert select(files, None) == files


# -- known failures, JUnit -----------------------------------------------------------------


def result(name: str, variant: str, status: str, **kw: object) -> RunResult:
    return RunResult(f"sets/x/{name}.rpl", name, variant, status, **kw)  # type: ignore[arg-type]


KNOWN = KnownFailures.parse({
    "val_a": {"reason": "needs DNSSEC validation (issue 4)"},
    "iter_b": {"reason": "qtype NS minimisation", "variants": ["qmin"]},
    "gone": {"reason": "was never run"},
})


def test_judging_against_known_failures() -> None:
    failure = StepFailure(10, 42, "CHECK_ANSWER", "rcode: expected NOERROR, got SERVFAIL",
                          "-a\n+b")
    results = [
        result("val_a", "qmin", "fail", failure=failure),
        result("val_a", "noqmin", "pass"),
        result("iter_b", "qmin", "fail", failure=failure),
        result("iter_b", "noqmin", "fail", failure=failure),
        result("plain", "qmin", "pass"),
        result("plain", "noqmin", "skip", reason="header"),
        result("broken", "-", "error", reason="x.rpl:3: bad"),
    ]
    judged = judge(results, KNOWN)
    assert [j.verdict for j in judged] == ["xfail", "xpass", "xfail", "fail", "pass", "skip",
                                           "error"]
    assert judged[1].reason == "needs DNSSEC validation (issue 4)"
    assert exit_status(judged) == 1
    assert exit_status([j for j in judged if j.verdict in ("xfail", "pass", "skip")]) == 0
    assert exit_status([judged[1]]) == 1  # now passing is unexpected too: the list shrinks
    assert stale_entries(KNOWN, judged) == []  # "gone" did not run at all: not stale here


@pytest.mark.parametrize(("data", "problem"), [
    ([], "mapping"),
    ({"x": "just a string"}, "expected 'reason:'"),
    ({"x": {"reason": ""}}, "needs a reason"),
    ({"x": {"reason": "r", "variants": ["both"]}}, "unknown variants"),
    ({"x": {"reason": "r", "why": "?"}}, "unknown keys"),
])
def test_malformed_known_failures(data: object, problem: str) -> None:
    with pytest.raises(KnownFailuresError, match=problem):
        KnownFailures.parse(data, "kf.yaml")


def test_the_shipped_known_failures_file_parses_and_gives_reasons() -> None:
    known = KnownFailures.load(DEFAULT_PATH)
    assert known.entries
    assert all(e.reason for e in known.entries.values())


def test_junit_xml_is_well_formed(tmp_path: Path) -> None:
    failure = StepFailure(10, 42, "CHECK_ANSWER", "flags: expected AD \x01", "-a\n+b")
    results = [
        result("val_a", "qmin", "fail", failure=failure, traffic=("step 1: x",)),
        result("val_a", "noqmin", "pass", seconds=0.25),
        result("iter_b", "noqmin", "fail", failure=failure),
        result("plain", "qmin", "skip", reason="header <says> & so"),
        result("broken", "-", "error", reason="x.rpl:3: bad"),
    ]
    path = tmp_path / "out" / "junit.xml"
    junit.write(judge(results, KNOWN), path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5", "2", "1", "2")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"val_a[qmin]", "val_a[noqmin]", "iter_b[noqmin]", "plain[qmin]",
                          "broken[-]"}
    assert cases["val_a[qmin]"].find("skipped") is not None  # known failure
    now_passing = cases["val_a[noqmin]"].find("failure")
    assert now_passing is not None and "now passing" in (now_passing.get("message") or "")
    unexpected = cases["iter_b[noqmin]"].find("failure")
    assert unexpected is not None and "+b" in (unexpected.text or "")
    assert "\x01" not in path.read_text()
    assert cases["broken[-]"].find("error") is not None
    assert cases["val_a[qmin]"].get("classname") == "deckard.x"


# -- the command ----------------------------------------------------------------------------


def write_known(tmp_path: Path, data: str) -> Path:
    path = tmp_path / "known.yaml"
    path.write_text(data)
    return path


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "set"
    scen.mkdir()
    (scen / "referral_glue.rpl").write_text((SCENARIOS / "referral_glue.rpl").read_text())
    failing = (SCENARIOS / "referral_glue.rpl").read_text().replace(
        "www.example.com. IN A 192.0.2.80\nENTRY_END\n\n; example.com's",
        "www.example.com. IN A 192.0.2.81\nENTRY_END\n\n; example.com's")
    (scen / "wrong_expectation.rpl").write_text(failing)
    empty = write_known(tmp_path, "{}\n")
    out = tmp_path / "junit.xml"
    code = deckard_main(["deckard", "run", str(scen), "--known-failures", str(empty),
                         "--junit", str(out), "--jobs", "1"])
    text = capsys.readouterr().out
    assert code == 1  # an unexpected failure
    assert "wrong_expectation" in text and "192.0.2.81" in text
    assert ET.parse(out).getroot().get("failures") == "2"
    listed = write_known(tmp_path, "wrong_expectation:\n  reason: a test of the list\n"
                                   "referral_glue:\n  reason: fixed since\n")
    code = deckard_main(["deckard", "run", str(scen), "--known-failures", str(listed),
                         "--jobs", "2"])
    text = capsys.readouterr().out
    assert code == 1  # referral_glue now passes: reported, so the list only shrinks
    assert "Now passing" in text and "referral_glue [qmin]" in text
    code = deckard_main(["deckard", "run", str(scen), "-k", "wrong", "--known-failures",
                         str(listed)])
    assert code == 0  # only the listed failure ran
    assert deckard_main(["deckard", "run", str(tmp_path / "missing")]) == 2
    assert deckard_main(["deckard", "run", str(scen), "-k", "nothing-matches"]) == 2
    bad = write_known(tmp_path, "x: 1\n")
    assert deckard_main(["deckard", "run", str(scen), "--known-failures", str(bad)]) == 2


def test_shadowdns_registers_the_subcommand() -> None:
    from shadowdns.cli import build_parser

    args = build_parser().parse_args(["deckard", "run", "x.rpl", "-k", "iter", "--jobs", "3"])
    assert args.pattern == "iter" and args.jobs == 3 and args.paths == [Path("x.rpl")]


def test_loading_a_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load(tmp_path / "nope.rpl")



def test_copy_id_renames_the_question_in_deckard_only() -> None:
    """CZ.NIC's Deckard copies the query's name into the reply's question with copy_id;
    testbound's (testpkts.c adjust_packet) copies the ID alone, so a template naming another
    name answers another question, and the same name keeps the template's spelling (a
    server that does not echo the 0x20 case)."""
    s = parse(Path("copy.rpl"), HEADER + textwrap.dedent("""\
        RANGE_BEGIN 0 100
        ENTRY_BEGIN
        MATCH opcode
        ADJUST copy_id
        REPLY QR NOERROR
        SECTION QUESTION
        OTHER.example. IN A
        ENTRY_END
        RANGE_END
        SCENARIO_END
        """))
    (entry,) = s.ranges[0].entries
    rng = random.Random(1)
    for asked, echo, expected in (("www.example.", True, "www.example."),
                                  ("www.example.", False, "OTHER.example."),
                                  ("other.EXAMPLE.", False, "OTHER.example.")):
        query = dns.message.make_query(asked, "A")
        out = dns.message.from_wire(build_reply(entry, query, rng, echo_case=echo))
        assert out.id == query.id
        assert out.question[0].name.to_text() == expected
