"""The testbound dialect (Unbound's testdata): header translation, unsupported keys, the
body words Deckard lacks, the runner's testbound rules, reports and the held-out split."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import dns.name
import pytest

from deckard import junit
from deckard.candidate import CandidateConfig
from deckard.known import KnownFailures, judge, stale_entries
from deckard.outcome import RunResult
from deckard.report import cause_totals, dialect_totals
from deckard.runner import RunOptions, run_file
from deckard.scenario import parse
from deckard.split import half, only
from deckard.text import ScenarioError
from deckard.worker import inherit_warning_filters
from resolver.recursor import ConfiguredZone

ROOT_AND_SERVER = """
RANGE_BEGIN 0 100
	ADDRESS 193.0.14.129
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
. IN NS
SECTION ANSWER
. IN NS K.ROOT-SERVERS.NET.
SECTION ADDITIONAL
K.ROOT-SERVERS.NET. IN A 193.0.14.129
ENTRY_END
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id copy_query
REPLY QR NOERROR
SECTION QUESTION
example.com. IN NS
SECTION AUTHORITY
example.com. IN NS ns.example.com.
SECTION ADDITIONAL
ns.example.com. IN A 1.2.3.4
ENTRY_END
RANGE_END

RANGE_BEGIN 0 100
	ADDRESS 1.2.3.4
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. 300 IN A 10.20.30.40
ENTRY_END
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id copy_query
REPLY QR AA NOERROR
SECTION QUESTION
example.com. IN NS
SECTION ANSWER
example.com. IN NS ns.example.com.
ENTRY_END
RANGE_END
"""



def query_and_check(
    expected: str = "www.example.com. 300 IN A 10.20.30.40",
    match: str = "all ttl",
    reply: str = "QR RD RA NOERROR",
    then: str = "",
) -> str:
    return f"""
STEP 1 QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
www.example.com. IN A
ENTRY_END

STEP 10 CHECK_ANSWER
ENTRY_BEGIN
MATCH {match}
REPLY {reply}
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
{expected}
ENTRY_END
{then}"""


QUERY_AND_CHECK = query_and_check()

LATER = """
STEP {step} TIME_PASSES ELAPSE {elapse}
STEP {q} QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP {c} CHECK_ANSWER
ENTRY_BEGIN
MATCH all ttl
REPLY QR RD RA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. {ttl} IN A 10.20.30.40
ENTRY_END
"""
"""Time passes, the question again, its answer with a given TTL (``str.format`` fields)."""


HEADER = """; config options
server:
	target-fetch-policy: "0 0 0 0 0"   # a no-op
	qname-minimisation: "no"
	verbosity: 3
{extra}
stub-zone:
	name: "."
	stub-addr: 193.0.14.129 	# K.ROOT-SERVERS.NET.
CONFIG_END
"""


ANCHOR = "example.com. 3600 IN DS 30899 5 1 14188c885f20623ad1d3bec42798f3f951793e4f"


def scenario_text(extra: str = "", body: str = QUERY_AND_CHECK) -> str:
    return (HEADER.format(extra=extra) + "\nSCENARIO_BEGIN a testbound test\n"
            + ROOT_AND_SERVER + body + "\nSCENARIO_END\n")


def write(tmp_path: Path, text: str, name: str = "tb_case") -> Path:
    path = tmp_path / f"{name}.rpl"
    path.write_text(text)
    return path


def ran(tmp_path: Path, text: str) -> list[RunResult]:
    """The runs of a scenario (not the variant its header excludes)."""
    return [r for r in run_file(str(write(tmp_path, text)), RunOptions()) if r.status != "skip"]


# -- the header -----------------------------------------------------------------------------


def test_an_unbound_conf_header_is_the_testbound_dialect() -> None:
    s = parse(Path("x.rpl"), scenario_text())
    assert s.dialect == "testbound"
    assert s.config.stub_addr == "193.0.14.129"
    assert s.config.qmin is False
    assert s.unsupported == ()
    deckard = parse(Path("y.rpl"), "stub-addr: 193.0.14.129\nCONFIG_END\nSCENARIO_BEGIN t\n"
                    + ROOT_AND_SERVER + QUERY_AND_CHECK.replace(" ttl", "") + "SCENARIO_END\n")
    assert deckard.dialect == "deckard"


def test_options_are_translated() -> None:
    extra = """	trust-anchor: "{ANCHOR}"
	val-override-date: "20070916134226"
	domain-insecure: "sub.example.com"
	do-ip6: no
	harden-glue: no
	minimal-responses: no
	cache-max-ttl: 10
	max-query-restarts: 4
	fake-sha1: yes
	trust-anchor-signaling: no
	access-control: 127.0.0.1 allow_snoop"""
    c = parse(Path("x.rpl"), scenario_text(extra.replace("{ANCHOR}", ANCHOR))).config
    assert [rr.name for rr in c.validation.trust_anchors] == [dns.name.from_text("example.com.")]
    assert c.validation.date == 1189950146.0
    assert c.validation.negative_anchors == (dns.name.from_text("sub.example.com."),)
    assert (c.do_ip6, c.harden_glue, c.unsupported) == (False, False, ())
    assert c.validation.unchecked_algorithms == {3, 5, 6, 7}  # fake-sha1
    assert c.minimal_responses is False
    assert c.ttl_bounds == (("cache_max_ttl", 10), ("max_query_restarts", 4))
    assert CandidateConfig.from_scenario(c, qmin=False).recursor_config().max_query_restarts == 4
    # iter-scrub-promiscuous: absent means yes (Unbound 1.24.1's default)
    assert c.scrub_promiscuous is True
    off = parse(Path("x.rpl"), scenario_text("	iter-scrub-promiscuous: no")).config
    assert off.scrub_promiscuous is False and off.unsupported == ()
    with pytest.raises(ScenarioError, match="cache-min-ttl: 'ten' is not a number"):
        parse(Path("x.rpl"), scenario_text("	cache-min-ttl: ten"))
    neg = parse(Path("x.rpl"), scenario_text("	cache-min-negative-ttl: 5")).config
    assert neg.ttl_bounds == (("cache_min_negative_ttl", 5),) and neg.unsupported == ()
    with pytest.raises(ScenarioError, match="max-query-restarts: '0' is not a positive"):
        parse(Path("x.rpl"), scenario_text("	max-query-restarts: 0"))


def test_iterator_only_means_no_validation() -> None:
    extra = """	trust-anchor: "{ANCHOR}"
	module-config: "iterator\""""
    c = parse(Path("x.rpl"), scenario_text(extra.replace("{ANCHOR}", ANCHOR))).config
    assert c.validation.trust_anchors == ()


def test_a_root_forward_zone_forwards() -> None:
    text = scenario_text().replace("stub-zone:", "forward-zone:")
    text = text.replace("stub-addr", "forward-addr")
    c = parse(Path("x.rpl"), text).config
    assert (c.stub_addr, c.forward_addrs, c.unsupported) == (None, ("193.0.14.129",), ())


def test_forward_hosts_and_several_stub_addrs_are_translated() -> None:
    text = scenario_text().replace("stub-zone:", "forward-zone:")
    text = text.replace("stub-addr", "forward-addr") + ""
    text = text.replace("CONFIG_END", "\tforward-host: ns.example.com\nCONFIG_END", 1)
    c = parse(Path("x.rpl"), text).config
    assert (c.forward_addrs, c.forward_hosts, c.unsupported) == (
        ("193.0.14.129",), (dns.name.from_text("ns.example.com."),), ())
    two = scenario_text().replace("CONFIG_END", "\tstub-addr: 192.0.2.53\nCONFIG_END", 1)
    c = parse(Path("x.rpl"), two).config
    assert (c.stub_addrs, c.unsupported) == (("193.0.14.129", "192.0.2.53"), ())


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("	ratelimit: 1000", "ratelimit: 1000"),
        ("	trust-anchor-signaling: yes", "trust-anchor-signaling: yes"),
        ('	module-config: "respip validator iterator"',
         "module-config: respip validator iterator"),
        ("	some-future-option: 3", "some-future-option"),
        ("	access-control: 127.0.0.1 refuse", "access-control: refuse"),
    ],
)
def test_what_the_candidate_cannot_honour_is_unsupported(extra: str, why: str) -> None:
    assert why in parse(Path("x.rpl"), scenario_text(extra)).unsupported


def test_serve_expired_options_are_translated() -> None:
    # unbound.conf(5)'s serve-expired family, as the RecursorConfig fields; absent ones keep
    # the fields' defaults (Unbound 1.23's); ede-serve-expired counts only with ede: yes
    extra = ("	serve-expired: yes\n	serve-expired-ttl: 20\n	serve-expired-ttl-reset: yes\n"
             "	serve-expired-reply-ttl: 5\n	serve-expired-client-timeout: 0\n"
             "	ede-serve-expired: yes")
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    assert c.unsupported == ()
    assert dict(c.stale) == {
        "serve_expired": True, "serve_expired_ttl": 20, "serve_expired_ttl_reset": True,
        "serve_expired_reply_ttl": 5, "serve_expired_client_timeout": 0,
        "serve_expired_ede": False,
    }
    config = CandidateConfig.from_scenario(c, qmin=False).recursor_config()
    assert (config.serve_expired, config.serve_expired_ttl, config.serve_expired_reply_ttl,
            config.serve_expired_client_timeout) == (True, 20, 5, 0)
    c = parse(Path("x.rpl"), scenario_text("	ede: yes\n	ede-serve-expired: yes")).config
    assert dict(c.stale)["serve_expired_ede"] is True
    with pytest.raises(ScenarioError, match="serve-expired-ttl: '-1' is not a whole number"):
        parse(Path("x.rpl"), scenario_text("	serve-expired-ttl: -1"))
    with pytest.raises(ScenarioError, match="serve-expired-ttl-reset: 'maybe' is neither"):
        parse(Path("x.rpl"), scenario_text("	serve-expired-ttl-reset: maybe"))


def test_validator_options_are_translated_or_as_the_candidate_does() -> None:
    extra = ("	val-bogus-ttl: 30\n	val-sig-skew-max: 86400\n	val-permissive-mode: no\n"
             "	ratelimit: 0\n	neg-cache-size: 1m")
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    assert (c.validation.bogus_ttl, c.unsupported) == (30, ())
    c = parse(Path("x.rpl"), scenario_text("	trust-anchor-signaling: yes")).config
    assert c.unsupported == ("trust-anchor-signaling: yes",)


def test_override_date_minus_one_ignores_signature_dates() -> None:
    c = parse(Path("x.rpl"), scenario_text("	val-override-date: -1")).config
    assert (c.unsupported, c.validation.date, c.validation.ignore_dates) == ((), None, True)


def test_zones_below_the_root_are_translated() -> None:
    text = scenario_text().replace("CONFIG_END", """stub-zone:
	name: "example.com"
	stub-addr: 1.2.3.4
	stub-first: yes
forward-zone:
	name: "example.net."
	forward-addr: 192.0.2.7
	forward-host: fwd.example.org
stub-zone:
	name: "example.org"
	stub-addr: 192.0.2.8
	stub-prime: yes
CONFIG_END""", 1)
    c = parse(Path("x.rpl"), text).config
    assert c.zones == (
        ConfiguredZone(dns.name.from_text("example.com."), False, ("1.2.3.4",), (), True),
        ConfiguredZone(dns.name.from_text("example.net."), True, ("192.0.2.7",),
                       (dns.name.from_text("fwd.example.org."),)),
        ConfiguredZone(dns.name.from_text("example.org."), False, ("192.0.2.8",), prime=True),
    )
    assert c.unsupported == ()  # stub-prime: yes is translated (tests/unit/test_stub_prime.py)


def test_a_stub_zone_below_the_root_is_asked_for_its_names(tmp_path: Path) -> None:
    """The stub zone's server answers for www.example.com. without any referral (the
    root server of the scenario has none: its entries are never used)."""
    stub = scenario_text().replace("CONFIG_END", "stub-zone:\n\tname: example.com\n"
                                   "\tstub-addr: 1.2.3.4\nCONFIG_END", 1)
    stub = stub.replace("ADDRESS 193.0.14.129\nENTRY_BEGIN", "ADDRESS 193.0.14.129\n"
                        "ENTRY_BEGIN\nMATCH opcode qname\nADJUST copy_id\nREPLY QR SERVFAIL\n"
                        "SECTION QUESTION\nwww.example.com. IN A\nENTRY_END\nENTRY_BEGIN", 1)
    [r] = ran(tmp_path, stub)
    assert r.status == "pass", r.summary


def test_a_date_that_is_not_one_is_a_one_line_error() -> None:
    """14 digits that are no date (month 18) were a ValueError out of the parser (found by
    bench fuzz's scenario-parser target); digits of other scripts are not digits here."""
    with pytest.raises(ScenarioError, match=r"x.rpl:\d+: val-override-date: '40141832268452' "
                                            r"is not a date"):
        parse(Path("x.rpl"), scenario_text('	val-override-date: "40141832268452"'))
    with pytest.raises(ScenarioError, match="is not YYYYMMDDHHMMSS"):
        parse(Path("x.rpl"), scenario_text("	val-override-date: 2007031610845\uff12"))


def test_bad_values_name_file_and_line() -> None:
    with pytest.raises(ScenarioError, match=r"x.rpl:4: qname-minimisation: 'maybe'"):
        parse(Path("x.rpl"), scenario_text().replace('"no"', '"maybe"'))
    with pytest.raises(ScenarioError, match=r"x.rpl:9: stub-addr: 'nowhere'"):
        parse(Path("x.rpl"), scenario_text().replace("193.0.14.129 \t#", "nowhere #"))


# -- the body -------------------------------------------------------------------------------


def test_body_words_deckard_lacks_are_played_or_unsupported() -> None:
    body = query_and_check(
        then="\nSTEP 11 TRAFFIC\nSTEP 12 NOTHING\nSTEP 20 INFRA_RTT 1.2.3.4 example.com. 100\n"
        "STEP 21 CHECK_TEMPFILE x\n"
    )
    s = parse(Path("x.rpl"), scenario_text(body=body))
    assert s.unsupported == ("STEP CHECK_TEMPFILE",)
    assert s.steps[-2].rtt == ("1.2.3.4", dns.name.from_text("example.com."), 100)
    body = QUERY_AND_CHECK.replace("MATCH all ttl", "MATCH all server_cookie")
    assert parse(Path("x.rpl"), scenario_text(body=body)).unsupported == ("MATCH server_cookie",)


def test_a_testbound_scenario_passes_and_checks_ttls(tmp_path: Path) -> None:
    [r] = ran(tmp_path, scenario_text())
    assert (r.status, r.dialect, r.variant) == ("pass", "testbound", "noqmin"), r.summary
    ttl_299 = query_and_check("www.example.com. 299 IN A 10.20.30.40")
    [r] = ran(tmp_path, scenario_text(body=ttl_299))
    assert r.status == "fail" and r.failure is not None
    assert "TTL 299" in r.failure.message


def test_testbound_all_compares_edns(tmp_path: Path) -> None:
    """testbound's ``all`` wants EDNS in the answer exactly when the entry says DO."""
    [r] = ran(tmp_path, scenario_text(body=query_and_check(reply="QR RD RA DO NOERROR")))
    assert r.status == "fail" and r.failure is not None and "edns_do" in r.failure.message


# The answer to www.example.com. A as a raw message: ID 0, QR RD RA, one question, one answer
HEX_REPLY = ("0000 8180 0001 0001 0000 0000 03777777 076578616d706c65 03636f6d 00 0001 0001"
             " c00c 0001 0001 0000012c 0004 0a141e28")


def hex_check(hex_text: str, match: str) -> str:
    return QUERY_AND_CHECK.replace(
        "MATCH all ttl\nREPLY QR RD RA NOERROR\nSECTION QUESTION\nwww.example.com. IN A\n"
        "SECTION ANSWER\nwww.example.com. 300 IN A 10.20.30.40",
        f"MATCH {match}\nSECTION ANSWER\nHEX_ANSWER_BEGIN\n{hex_text}\nHEX_ANSWER_END")


def test_a_hex_answer_is_compared_as_the_message_it_holds(tmp_path: Path) -> None:
    [r] = ran(tmp_path, scenario_text(body=hex_check(HEX_REPLY, "all_noedns ttl")))
    assert r.status == "pass", r.summary
    other = HEX_REPLY.replace("0a141e28", "0a141e29")  # 10.20.30.41
    [r] = ran(tmp_path, scenario_text(body=hex_check(other, "all_noedns")))
    assert r.status == "fail" and r.failure is not None and "answer" in r.failure.message


def test_a_hex_answer_that_does_not_parse_is_compared_on_its_header(tmp_path: Path) -> None:
    broken = HEX_REPLY[:-4]  # the A record's RDATA cut short
    [r] = ran(tmp_path, scenario_text(body=hex_check(broken, "rcode flags")))
    assert r.status == "pass", r.summary
    servfail = broken.replace("8180", "8182", 1)
    [r] = ran(tmp_path, scenario_text(body=hex_check(servfail, "rcode")))
    assert r.status == "fail" and r.failure is not None and "SERVFAIL" in r.failure.message
    s = parse(Path("x.rpl"), scenario_text(body=hex_check(broken, "all")))
    assert s.unsupported == ("HEX_ANSWER that does not parse, matched beyond its header",)


def test_the_testbound_clock_reads_whole_seconds(tmp_path: Path) -> None:
    """Unbound counts time in whole seconds: half a second later the TTL is still 300,
    a second boundary later it is 299."""
    for elapse, ttl in (("0.5", 300), ("1.5", 299)):
        body = query_and_check(then=LATER.format(step=20, elapse=elapse, q=30, c=40, ttl=ttl))
        [r] = ran(tmp_path, scenario_text(body=body))
        assert r.status == "pass", (elapse, r.summary)


NOREC_QUERY = """
STEP 20 TIME_PASSES ELAPSE {elapse}
STEP 30 QUERY
ENTRY_BEGIN
REPLY
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 40 CHECK_ANSWER
ENTRY_BEGIN
MATCH all
REPLY QR RA {rcode}
SECTION QUESTION
www.example.com. IN A
{sections}
ENTRY_END
"""


@pytest.mark.parametrize(("acl", "elapse", "rcode", "sections"), [
    # allow (Unbound's default): "nonrecursive queries are refused"
    ("", "0", "REFUSED", ""),
    # allow_snoop: from the cache; once expired, a referral to the closest cached servers
    ("	access-control: 127.0.0.1 allow_snoop", "0", "NOERROR",
     "SECTION ANSWER\nwww.example.com. IN A 10.20.30.40"),
    ("	access-control: 127.0.0.1 allow_snoop", "400", "NOERROR",
     "SECTION AUTHORITY\nexample.com. IN NS ns.example.com.\n"
     "SECTION ADDITIONAL\nns.example.com. IN A 1.2.3.4"),
    # allow_snoop, everything expired, the root's NS RRset too: the root is primed and
    # the priming response is the answer (Unbound's processInitRequest3), NS in ANSWER
    ("	access-control: 127.0.0.1 allow_snoop", "4000", "NOERROR",
     "SECTION ANSWER\n. IN NS K.ROOT-SERVERS.NET.\n"
     "SECTION ADDITIONAL\nK.ROOT-SERVERS.NET. IN A 193.0.14.129"),
])
def test_a_query_without_rd_follows_the_access_control(
    tmp_path: Path, acl: str, elapse: str, rcode: str, sections: str
) -> None:
    body = query_and_check(then=NOREC_QUERY.format(elapse=elapse, rcode=rcode,
                                                   sections=sections))
    [r] = ran(tmp_path, scenario_text(acl + "\n	minimal-responses: yes", body=body))
    assert r.status == "pass", r.summary


@pytest.mark.parametrize(("step", "passes"), [
    ("STEP 15 FLUSH_MESSAGE www.example.com. IN A", True),
    ("STEP 15 EXPIRE_MESSAGE www.example.com. IN A", True),
    ("STEP 15 NOTHING", False),  # answered from the cache: one upstream query only
])
def test_a_flushed_or_expired_message_is_asked_for_again(
    tmp_path: Path, step: str, passes: bool
) -> None:
    again = f"""
{step}
STEP 20 QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 30 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname qtype opcode
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 31 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname qtype opcode
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 32 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname qtype opcode
SECTION QUESTION
www.example.com. IN A
ENTRY_END
"""
    # (the first query asks the root and the zone's server for the full name: two queries)
    [r] = ran(tmp_path, scenario_text(body=query_and_check(then=again)))
    assert (r.status == "pass") is passes, r.summary


@pytest.mark.parametrize(("ede", "passes"), [("any", True), ("9", True), ("6", False)])
def test_match_ede_compares_the_extended_error(tmp_path: Path, ede: str, passes: bool) -> None:
    """The zone is anchored but serves no DNSKEY: SERVFAIL with EDE 9 (DNSKEY missing)."""
    body = query_and_check(match=f"rcode ede={ede}", reply="QR RD RA DO SERVFAIL", expected="")
    body = body.replace("REPLY RD\n", "REPLY RD DO\n", 1)
    text = scenario_text(f'	trust-anchor: "{ANCHOR}"', body=body)
    [r] = ran(tmp_path, text)
    assert (r.status == "pass") is passes, r.summary


@pytest.mark.parametrize("prefetch", ["yes", "no"])
def test_prefetch_fetches_an_answer_in_its_last_tenth_again(tmp_path: Path, prefetch: str) -> None:
    """TTL 300: after 275 s the answer comes from the cache (TTL 25) and, with prefetch, is
    fetched again at once; 10 s later it shows the refreshed TTL (290), else 15."""
    then = LATER.format(step=20, elapse=275, q=21, c=22, ttl=25) + LATER.format(
        step=30, elapse=10, q=31, c=32, ttl=290 if prefetch == "yes" else 15)
    text = scenario_text(f"	prefetch: {prefetch}", body=query_and_check(then=then))
    [r] = ran(tmp_path, text)
    assert r.status == "pass", r.summary


def test_check_out_query_checks_the_upstream_queries(tmp_path: Path) -> None:
    check_out = """
STEP 20 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname qtype opcode
SECTION QUESTION
www.example.com. IN {qtype}
ENTRY_END
"""
    [r] = ran(tmp_path, scenario_text(body=query_and_check(then=check_out.format(qtype="A"))))
    assert r.status == "pass", r.summary
    [r] = ran(tmp_path, scenario_text(body=query_and_check(then=check_out.format(qtype="MX"))))
    assert r.status == "fail" and r.failure is not None and r.failure.kind == "CHECK_OUT_QUERY"


def test_the_testbound_candidate_primes_first(tmp_path: Path) -> None:
    """Unbound primes (RFC 8109) before it iterates from its stub-addr; its scenarios
    check the '. NS' query, so the testbound dialect's candidate primes too."""
    check_prime = """
STEP 20 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname qtype opcode
SECTION QUESTION
. IN NS
ENTRY_END
"""
    [r] = ran(tmp_path, scenario_text(body=query_and_check(then=check_prime)))
    assert r.status == "pass", r.summary


def test_an_unmatched_upstream_query_fails_the_run(tmp_path: Path) -> None:
    served = "SECTION QUESTION\nwww.example.com. IN A\nSECTION ANSWER\nwww.example.com. 300"
    text = scenario_text().replace(served, served.replace("IN A", "IN MX"), 1)
    [r] = ran(tmp_path, text)
    assert r.status == "fail" and r.failure is not None
    assert r.failure.kind in ("UPSTREAM", "CHECK_ANSWER")


def test_ranges_fall_through_to_the_next_matching_range(tmp_path: Path) -> None:
    """testbound takes the first range whose step, address *and an entry* match."""
    extra_range = """
RANGE_BEGIN 0 100
	ADDRESS 1.2.3.4
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
other.example.com. IN A
SECTION ANSWER
other.example.com. IN A 10.0.0.1
ENTRY_END
RANGE_END
"""
    text = scenario_text().replace("SCENARIO_BEGIN a testbound test\n",
                                   "SCENARIO_BEGIN a testbound test\n" + extra_range)
    [r] = ran(tmp_path, text)
    assert r.status == "pass", r.summary


# -- results, reports, known failures ---------------------------------------------------------


def test_unsupported_runs_are_counted_listed_and_skipped_in_junit(tmp_path: Path) -> None:
    good = write(tmp_path, scenario_text(), "tb_good")
    bad = write(tmp_path, scenario_text("	trust-anchor-signaling: yes\n	ratelimit: 1000"),
                "tb_bad")
    results = run_file(str(good), RunOptions()) + run_file(str(bad), RunOptions())
    judged = judge(results, KnownFailures.empty())
    [unsup] = [j for j in judged if j.verdict == "unsupported"]
    assert unsup.result.reason == "unsupported: trust-anchor-signaling: yes, ratelimit: 1000"
    assert not unsup.unexpected
    totals = dialect_totals(judged)["testbound"]
    assert (totals.runs, totals.passed, totals.failed, totals.unsupported) == (2, 1, 0, 1)
    assert cause_totals(judged)["testbound"] == {
        "unsupported: trust-anchor-signaling: yes": 1, "unsupported: ratelimit: 1000": 1,
    }
    suite = junit.build(judged)
    skipped = [c for c in suite.iter("testcase") if c.get("name") == "tb_bad[noqmin]"][0]
    el = skipped.find("skipped")
    assert el is not None and el.get("type") == "deckard.unsupported"
    assert el.get("message") == "unsupported: trust-anchor-signaling: yes, ratelimit: 1000"
    assert skipped.get("classname", "").startswith("testbound.")
    ET.tostring(suite)


def test_known_failures_of_testbound_are_apart_from_deckard_ones(tmp_path: Path) -> None:
    text = scenario_text(body=query_and_check("www.example.com. 300 IN A 10.20.30.41"))
    results = run_file(str(write(tmp_path, text, "tb_case")), RunOptions())
    deckard_only = KnownFailures.parse({"tb_case": {"reason": "a Deckard scenario's entry"}})
    assert [j.verdict for j in judge(results, deckard_only) if j.verdict != "skip"] == ["fail"]
    known = KnownFailures.parse({"testbound": {"tb_case": {"reason": "Unbound-specific: x"}}})
    judged = judge(results, known)
    assert [j.verdict for j in judged if j.verdict != "skip"] == ["xfail"]
    assert stale_entries(known, judged) == []


def test_known_failures_are_counted_and_reported_by_cause(tmp_path: Path) -> None:
    text = scenario_text(body=query_and_check("www.example.com. 300 IN A 10.20.30.41"))
    results = run_file(str(write(tmp_path, text, "tb_case")), RunOptions())
    for entry, cause in (({"reason": "DNSSEC lameness: the server x"}, "DNSSEC lameness"),
                         ({"reason": "y: z", "cause": "reply shape"}, "reply shape"),
                         ({"reason": "no prefix here"}, "other")):
        judged = judge(results, KnownFailures.parse({"testbound": {"tb_case": entry}}))
        assert cause_totals(judged)["testbound"] == {f"{cause} (known, CHECK_ANSWER)": 1}
        case = [c for c in junit.build(judged).iter("testcase")
                if c.get("name") == "tb_case[noqmin]"][0]
        prop = case.find("properties/property")
        assert prop is not None and (prop.get("name"), prop.get("value")) == ("cause", cause)
        skipped = case.find("skipped")
        assert skipped is not None and f"[{cause}]" in skipped.get("message", "")
    with pytest.raises(ValueError, match="cause must be a short text"):
        KnownFailures.parse({"testbound": {"tb_case": {"reason": "r", "cause": 3}}})


def test_the_split_is_by_name_and_stable() -> None:
    assert half("iter_pc_a") == half("iter_pc_a")
    files = [Path(f"{n}.rpl") for n in ("a", "b", "c", "d", "e", "f", "g", "h")]
    fix, measure = only(files, "fix"), only(files, "measure")
    assert sorted(fix + measure) == sorted(files) and fix and measure
    assert all(half(f.stem) == "fix" for f in fix)
    with pytest.raises(ValueError, match="no half called 'all'"):
        only(files, "all")


def test_worker_processes_take_the_parents_warning_filters() -> None:
    saved = list(warnings.filters)
    try:
        wanted = [("ignore", None, DeprecationWarning, None, 0)]
        inherit_warning_filters(wanted)
        assert list(warnings.filters) == wanted
        with warnings.catch_warnings(record=True) as seen:
            warnings.warn("old", DeprecationWarning, stacklevel=1)
        assert seen == []
    finally:
        inherit_warning_filters(saved)
