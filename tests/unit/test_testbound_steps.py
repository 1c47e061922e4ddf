"""testbound's steps beyond Deckard's (issue 16, helper "steps"): TIMEOUT and ERROR end the
latest pending upstream query, INFRA_RTT feeds the infra cache, ASSIGN and TIME_PASSES EVAL
play testbound's macro language (Unbound's testcode/replay.h); and the project's scenarios
of tests/scenarios/testbound/steps_options pass."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset
import pytest

from deckard.candidate import CandidateConfig
from deckard.macros import MacroError, expand
from deckard.runner import RunOptions, run_file
from deckard.scenario import load, parse
from deckard.text import ScenarioError
from resolver.app import assemble
from resolver.cache import DnsCache, Security
from resolver.cache.infra import InfraCache
from resolver.clock import ManualClock
from resolver.conductor.mock import MockTransport
from resolver.conductor.selection import RTT_BAND, order_servers
from resolver.dnssec.signatures import skew
from resolver.model import Request
from resolver.recursor import RecursorConfig
from tests.unit.test_testbound import QUERY_AND_CHECK, ran, scenario_text

STEPS_SET = Path(__file__).parents[1] / "scenarios" / "testbound" / "steps_options"
FILES = sorted(STEPS_SET.glob("*.rpl"))

VARS = {"t0": "1000", "half": "5"}


def now() -> float:
    return 1234.9


@pytest.mark.parametrize(("text", "value"), [
    ("${2+3*4}", "20"),  # left to right, no precedence (replay.h)
    ("2+${3*4}", "2+12"),  # text substitution: only ${...} is evaluated
    ("${2+${3*4}}", "14"),  # a nested ${} is the bracket
    ("${$t0 + 1800}", "2800"),
    ("$half", "5"),
    ("${$unset}", ""),
    ("${time}", "1234"),  # the simulated time, whole seconds
    ("${10 / 4}", "2.5"),
    ("${-5 + 10}", "5"),
    ("${range 1 $half 10}", "5"),
    ("${ctime 0}", "Thu Jan  1 00:00:00 1970"),
    ("no macro here", "no macro here"),
])
def test_macros_expand_as_testbound_documents(text: str, value: str) -> None:
    assert expand(text, VARS, now) == value


@pytest.mark.parametrize(("text", "why"), [
    ("${timeout}", "next timer"),
    ("${range 6 $half 10}", "not in"),
    ("${1 / 0}", "division by zero"),
    ("${1 + * 2}", "two operators"),
    ("${1 +}", "ends with an operator"),
    ("${1 + 2", "without its"),
    ("${__import__('os')}", ""),  # not arithmetic: kept as text, never evaluated
])
def test_bad_macros_are_one_line_errors(text: str, why: str) -> None:
    if not why:
        assert expand(text, VARS, now) == "__import__('os')"
        return
    with pytest.raises(MacroError, match=why):
        expand(text, VARS, now)


@pytest.mark.parametrize(("step", "problem"), [
    ("STEP 20 ASSIGN x 5", "ASSIGN <name> = <expression>"),
    ("STEP 20 ASSIGN x-y = 5", "ASSIGN <name> = <expression>"),
    ("STEP 20 INFRA_RTT 1.2.3.4 example.com.", "INFRA_RTT <address>"),
    ("STEP 20 INFRA_RTT 1.2.3.4 example.com. fast", "INFRA_RTT <address>"),
    ("STEP 20 INFRA_RTT nowhere example.com. 10", "not an IP address"),
    ("STEP 20 TIMEOUT now", "takes no arguments"),
])
def test_bad_steps_name_file_and_line(step: str, problem: str) -> None:
    text = scenario_text(body=QUERY_AND_CHECK + step + "\n")
    with pytest.raises(ScenarioError, match=problem) as e:
        parse(Path("x.rpl"), text)
    assert "x.rpl:" in str(e.value)


def test_a_timeout_with_no_pending_query_fails_the_run(tmp_path: Path) -> None:
    """testbound: "No pending queries." when a TIMEOUT step comes and nothing waits."""
    [r] = ran(tmp_path, scenario_text(body=QUERY_AND_CHECK + "STEP 20 TIMEOUT\n"))
    assert r.status == "fail" and r.failure is not None
    assert (r.failure.kind, r.failure.step) == ("TIMEOUT", 20)


def test_an_eval_that_fails_fails_its_step(tmp_path: Path) -> None:
    body = QUERY_AND_CHECK + "STEP 20 TIME_PASSES EVAL ${timeout}\n"
    [r] = ran(tmp_path, scenario_text(body=body))
    assert r.status == "fail" and r.failure is not None
    assert (r.failure.kind, r.failure.step) == ("TIME_PASSES", 20)


def test_the_rtt_band_keeps_slow_servers_out_of_the_random_pick() -> None:
    """Unbound picks at random among servers within 400 ms of the fastest; one slower than
    that is never first while a faster one is alive."""
    infra = InfraCache(16)
    infra.rtt_update("192.0.2.1", 0.020, 0.0)
    infra.rtt_update("192.0.2.2", 0.020 + RTT_BAND + 0.1, 0.0)
    infra.rtt_update("192.0.2.3", 0.030, 0.0)
    firsts = {order_servers(["192.0.2.2", "192.0.2.1", "192.0.2.3"], infra, 0.0,
                            random.Random(seed))[0] for seed in range(400)}
    assert firsts == {"192.0.2.1", "192.0.2.3"}  # the band is still explored


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_steps_options_scenarios_pass(path: Path) -> None:
    assert load(path).steps
    results = [r for r in run_file(str(path), RunOptions()) if r.status != "skip"]
    assert results
    for r in results:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"


def test_the_steps_set_is_big_enough() -> None:
    assert len(FILES) >= 8


# -- options: unbound.conf(5) behaviours as RecursorConfig / DnssecConfig switches ----------


def test_validator_and_cache_options_are_translated() -> None:
    extra = ("\tval-permissive-mode: yes\n\tignore-cd-flag: yes\n\tdeny-any: yes\n"
             "\taggressive-nsec: no\n\tharden-below-nxdomain: no\n"
             "\tdisable-dnssec-lame-check: yes\n\tval-clean-additional: no\n"
             "\tprefetch-key: yes\n\tuse-caps-for-id: yes\n\tharden-algo-downgrade: yes\n"
             "\troot-key-sentinel: no")
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    v = c.validation
    assert (v.permissive, v.ignore_cd, c.deny_any, v.aggressive_nsec, c.harden_below_nxdomain,
            c.dnssec_lame_check, c.unsupported) == (True, True, True, False, False, False, ())
    assert CandidateConfig.from_scenario(c, False).recursor_config().dnssec_lame_check is False
    assert CandidateConfig.from_scenario(c, False).dnssec_config().clean_additional is False
    assert c.use_0x20 is True and CandidateConfig.from_scenario(c, False).use_0x20 is True
    assert CandidateConfig.from_scenario(c, False).dnssec_config().harden_algo_downgrade
    assert not CandidateConfig.from_scenario(c, False).dnssec_config().root_key_sentinel
    c = parse(Path("x.rpl"), scenario_text()).config  # absent: Unbound's defaults
    v = c.validation
    assert (v.permissive, v.ignore_cd, c.deny_any, v.aggressive_nsec,
            c.harden_below_nxdomain, c.dnssec_lame_check) == (False, False, False, True, True, True)
    assert CandidateConfig.from_scenario(c, False).nxdomain_cut == "secure"
    assert c.use_0x20 is False  # use-caps-for-id: no, Unbound's default


@pytest.mark.parametrize(("cut", "security", "below"), [
    ("any", Security.INDETERMINATE, True),
    ("secure", Security.INDETERMINATE, False),
    ("secure", Security.SECURE, True),
    ("none", Security.SECURE, False),
])
def test_which_nxdomains_deny_the_names_below(cut: str, security: Security, below: bool) -> None:
    """RFC 8020 cut: every NXDOMAIN, DNSSEC-secure ones only (Unbound's
    harden-below-nxdomain), or none."""
    cache = DnsCache(1 << 20, nxdomain_cut=cut)
    soa = dns.rrset.from_text("example.com.", 300, "IN", "SOA", "ns. host. 1 2 3 4 300")
    name = dns.name.from_text("a.example.com.")
    assert cache.negative.put_nxdomain(name, soa, 0.0)
    if security is Security.SECURE:
        assert cache.negative.mark_secure(name) and not cache.negative.mark_secure(name)
    assert cache.negative.get(name, dns.rdatatype.A, 1.0) is not None  # its own name: always
    sub = dns.name.from_text("b.a.example.com.")
    assert (cache.negative.get(sub, dns.rdatatype.A, 1.0) is not None) is below


@pytest.mark.parametrize(("bounds", "lifetime", "allowed"), [
    ((3600, 86400), 30 * 86400, 86400),  # 10 % = 3 days, capped at a day
    ((3600, 86400), 7200, 3600),  # 10 % = 12 minutes, raised to an hour
    ((3600, 1800), 30 * 86400, 1800),  # the maximum is applied last (Unbound's order)
    ((0, 0), 30 * 86400, 0),  # no allowance at all
])
def test_signature_skew_bounds(bounds: tuple[int, int], lifetime: int, allowed: int) -> None:
    sig = dns.rdata.from_text("IN", "RRSIG", f"A 13 3 3600 {1_000_000 + lifetime} 1000000 "
                              "1 example.com. AAAA")
    assert skew(sig, bounds) == allowed  # type: ignore[arg-type]


def test_skew_and_restart_options_are_translated() -> None:
    extra = "\tval-sig-skew-min: 0\n\tval-sig-skew-max: 120\n\tval-max-restart: 2"
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    assert (c.validation.dnssec_numbers, c.unsupported) == (
        (("max_restarts", 2), ("sig_skew_max", 120), ("sig_skew_min", 0)), ())
    dnssec = CandidateConfig.from_scenario(c, False).dnssec_config()
    assert (dnssec.sig_skew_min, dnssec.sig_skew_max, dnssec.max_restarts) == (0, 120, 2)
    with pytest.raises(ScenarioError, match="val-sig-skew-min: 'soon' is not a whole number"):
        parse(Path("x.rpl"), scenario_text("\tval-sig-skew-min: soon"))


@pytest.mark.parametrize(("value", "limit", "by_size"), [
    ("150", 150, ()),
    ("1024 0 2048 0 4096 0", 0, ()),
    ("1024 150 2048 500 4096 2500", None, ((1024, 150), (2048, 500), (4096, 2500))),
])
def test_nsec3_iteration_limits_are_translated(value: str, limit: int | None,
                                               by_size: tuple[tuple[int, int], ...]) -> None:
    c = parse(Path("x.rpl"), scenario_text(f'\tval-nsec3-keysize-iterations: "{value}"')).config
    assert dict(c.validation.dnssec_numbers).get("nsec3_max_iterations") == limit
    assert c.validation.nsec3_keysize_iterations == by_size
    assert c.unsupported == ()
    with pytest.raises(ScenarioError, match="key sizes must ascend"):
        parse(Path("x.rpl"), scenario_text('\tval-nsec3-keysize-iterations: "2048 1 1024 2"'))


@pytest.mark.parametrize(("extra", "tcp"), [
    ("", False), ("\ttcp-upstream: yes", True), ("\tdo-udp: no", True), ("\tdo-udp: yes", False),
])
def test_tcp_upstream_is_translated(extra: str, tcp: bool) -> None:
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    assert (c.tcp_upstream, c.unsupported) == (tcp, ())


def test_a_tcp_only_conductor_asks_over_tcp() -> None:
    """assemble(tcp_upstream=True): the upstream queries go over TCP, none over UDP."""
    def handler(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        reply.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A",
                                                "192.0.2.7"))
        return reply

    transport = MockTransport(handler)
    parts = assemble(transport, ManualClock(), cache=DnsCache(1 << 20),
                     root_hints=(("a.root-servers.net.", "192.0.2.1"),), tcp_upstream=True)
    query = dns.message.make_query("www.example.com.", "A")
    reply = asyncio.run(parts.answerer.answer(Request(query.question[0].name, 1), query))
    assert reply.rcode() == dns.rcode.NOERROR and transport.sent
    assert all(s.tcp for s in transport.sent)


def test_do_not_query_address_is_translated() -> None:
    extra = "\tdo-not-query-address: 192.0.2.1\n\tdo-not-query-address: 2001:db8::/32"
    c = parse(Path("x.rpl"), scenario_text(extra)).config
    recursor = CandidateConfig.from_scenario(c, False).recursor_config()
    assert not recursor.usable("192.0.2.1") and recursor.usable("192.0.2.2")
    assert not recursor.usable("2001:db8::53", configured=True)  # configured ones too
    with pytest.raises(ScenarioError, match="do-not-query-address: 'nowhere' is not"):
        parse(Path("x.rpl"), scenario_text("\tdo-not-query-address: nowhere"))


def test_a_bad_nxdomain_cut_is_refused() -> None:
    with pytest.raises(ValueError, match="nxdomain_cut is one of"):
        DnsCache(1 << 20, nxdomain_cut="some")


def test_deny_any_answers_notimp_without_asking() -> None:
    """deny-any in the resolver itself (RecursorConfig.deny_any), not only the dialect."""
    transport = MockTransport(lambda address, query, tcp: None)
    parts = assemble(transport, ManualClock(), cache=DnsCache(1 << 20),
                     root_hints=(("a.root-servers.net.", "192.0.2.1"),),
                     recursor_config=RecursorConfig(deny_any=True))
    query = dns.message.make_query("www.example.com.", "ANY")
    request = Request(query.question[0].name, dns.rdatatype.ANY)
    reply = asyncio.run(parts.answerer.answer(request, query))
    assert reply.rcode() == dns.rcode.NOTIMP and not reply.answer
    assert transport.sent == []
