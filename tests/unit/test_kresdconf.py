"""deckard.kresdconf (Knot Resolver's header knobs) and resolver.kresdmod (its policy,
dns64, renumber and hints stages)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import pytest

from deckard.header import ScenarioConfig, parse_header
from deckard.kresdconf import lua_pattern, lua_string
from deckard.text import ScenarioError
from resolver.kresdmod import KresdModules
from resolver.localzone import NoReply

P = Path("x.rpl")


def header(*lines: str) -> ScenarioConfig:
    return parse_header(P, list(enumerate(("stub-addr: 1.2.3.4", *lines), start=1)))


def policy(text: str) -> KresdModules:
    kresd = header(f"feature-list: p=policy:add({text})").kresd
    assert kresd is not None
    return kresd


def reply(kresd: KresdModules, name: str, rdtype: str = "A") -> dns.message.Message | None:
    return kresd.policy_reply(dns.message.make_query(name, rdtype))


def test_lua_strings_and_patterns() -> None:
    assert lua_string(r"'\8ex\x41\\'") == b"\x08exA\\"
    pat = lua_pattern(lua_string(r"'^\3www%d+%.[0-8]'"))
    assert pat.search(b"\x03www12.5") and not pat.search(b"\x03www12.9")
    assert not pat.search(b"x\x03www1")


def test_policy_actions_and_order() -> None:
    deny = policy("policy.suffix(policy.DENY, {todname('bad.test')})")
    r = reply(deny, "a.bad.test.")
    assert r is not None and r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
    assert r.authority[0].name == dns.name.from_text("a.bad.test.")
    assert reply(deny, "good.test.") is None and reply(deny, "xbad.test.") is None
    r = reply(policy("policy.all(policy.DROP)"), "x.")
    assert r is not None and r.rcode() == dns.rcode.SERVFAIL
    r = reply(policy("policy.all(policy.TC)"), "x.")
    assert r is not None and r.flags & dns.flags.TC and not r.answer
    with pytest.raises(NoReply):
        reply(policy("policy.all(policy.NO_ANSWER)"), "x.")
    both = header("feature-list: a=policy:add(policy.pattern(policy.PASS, '\\2ok'))",
                  "feature-list: b=policy:add(policy.all(policy.REFUSE))").kresd
    assert both is not None and reply(both, "ok.test.") is None
    r = reply(both, "no.test.")
    assert r is not None and r.rcode() == dns.rcode.REFUSED


def test_forward_becomes_a_forward_zone() -> None:
    c = header("feature-list: f=policy:add(policy.suffix(policy.FORWARD('10.0.0.1@53'), "
               "{todname('fwd.test')}))")
    assert [(z.name.to_text(), z.forward, z.addresses) for z in c.zones] == \
        [("fwd.test.", True, ("10.0.0.1",))]


def test_unknown_knobs_are_unsupported_and_bad_lines_errors() -> None:
    c = header("features: frobnicate = 1",
               "feature-list: x=policy:add(policy.rpz(policy.DENY, 'f.rpz'))",
               "feature-list: y=modules.load('nsid')")
    assert c.unsupported == ("features: frobnicate", "feature-list: policy.rpz()",
                             "feature-list: modules.load")
    with pytest.raises(ScenarioError, match=r"x.rpl:2: feature-list"):
        header("feature-list: p=policy:add(policy.all(policy.DENY)")
    with pytest.raises(ScenarioError, match=r"x.rpl:2: features"):
        header("features: min_ttl = soon")


def test_ttl_hints_dns64_renumber() -> None:
    c = header("features: min_ttl = 30; max_ttl = 600", "features: dns64_prefix = 64:ff9b::",
               "features: renumber_src = 10.1.0.0/16; renumber_dst = 10.2.0.0",
               "features: static_hint_name = h.test", "features: static_hint_addr = 192.0.2.1")
    assert dict(c.ttl_bounds) == {"cache_min_ttl": 30, "cache_max_ttl": 600}
    kresd = c.kresd
    assert kresd is not None
    hint = reply(kresd, "h.test.")
    assert hint is not None and not hint.flags & dns.flags.AA and hint.answer
    nodata = reply(kresd, "h.test.", "AAAA")
    assert nodata is not None and not nodata.answer and nodata.rcode() == dns.rcode.NOERROR
    ptr = reply(kresd, "1.2.0.192.in-addr.arpa.", "PTR")
    assert ptr is not None and ptr.answer[0][0].target == dns.name.from_text("h.test.")
    q = dns.message.make_query("w.test.", "AAAA")
    empty = dns.message.make_response(q)
    assert kresd.wants_dns64(28, empty, q)
    assert not kresd.wants_dns64(28, empty, dns.message.make_query("w.test.", "AAAA",
                                                                     want_dnssec=True,
                                                                     flags=dns.flags.CD))
    a = dns.message.make_response(dns.message.make_query("w.test.", "A"))
    a.answer.append(dns.rrset.from_text("w.test.", 60, "IN", "A", "192.0.2.33", "10.1.3.4"))
    synth = kresd.synthesise(empty, a)
    assert sorted(r.address for r in synth.answer[0]) == ["64:ff9b::a01:304",
                                                          "64:ff9b::c000:221"]
    moved = kresd.renumbered(a)
    assert sorted(ipaddress.ip_address(r.address) for r in moved.answer[0]) == \
        [ipaddress.ip_address("10.2.3.4"), ipaddress.ip_address("192.0.2.33")]
