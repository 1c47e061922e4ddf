# ruff: noqa: E501 (one scenario per entry, its documented behaviour in full words)
"""Write tests/scenarios/kresd7: Knot Resolver's module knobs in the Deckard dialect.

Issue 16 part 3, seventh round (helper "kresd").  Each scenario sets one of the kresd-only
header keys (``features``, ``feature-list``: what Deckard's kresd template turns into
``cache.min_ttl``, ``hints``, ``dns64``, ``renumber`` and ``policy`` configuration) and
checks the behaviour Knot Resolver's documentation gives for it.  One authoritative root
server (127.7.0.1) holds every name; a forwarder (127.7.9.9) answers for FORWARD rules.
Run ``python tests/scenarios/src/build_kresd7.py`` from the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "kresd7"
ROOT = "127.7.0.1"
FWD = "127.7.9.9"
SOA = ". 86400 IN SOA k.root-servers.net. hostmaster.root. 1 1800 900 604800 300"


@dataclass
class Step:
    qname: str
    qtype: str
    rcode: str = "NOERROR"
    answer: tuple[str, ...] = ()
    match: str = "opcode qname rcode answer"
    flags: str = ""  # "REPLY" flags when 'flags' is matched
    time_passes: int = 0  # TIME_PASSES before this query


@dataclass
class Scenario:
    name: str
    why: str
    header: tuple[str, ...]
    data: tuple[str, ...]  # records the root serves (authoritatively)
    steps: tuple[Step, ...]
    later: tuple[str, ...] = ()  # records served instead after step 100 (TTL checks)
    fwd: tuple[str, ...] = ()  # records the forwarder serves
    extra: list[str] = field(default_factory=list)


def entries(records: tuple[str, ...], with_ns: bool) -> list[str]:
    out: list[str] = []
    if with_ns:
        out += ["ENTRY_BEGIN", "MATCH opcode qtype qname", "ADJUST copy_id",
                "REPLY QR AA NOERROR", "SECTION QUESTION", ". IN NS", "SECTION ANSWER",
                ". 86400 IN NS k.root-servers.net.", "SECTION ADDITIONAL",
                f"k.root-servers.net. 86400 IN A {ROOT}", "ENTRY_END",
                "ENTRY_BEGIN", "MATCH opcode qtype qname", "ADJUST copy_id",
                "REPLY QR AA NOERROR", "SECTION QUESTION", "k.root-servers.net. IN A",
                "SECTION ANSWER", f"k.root-servers.net. 86400 IN A {ROOT}", "ENTRY_END"]
    by_key: dict[tuple[str, str], list[str]] = {}
    for rr in records:
        words = rr.split()
        by_key.setdefault((words[0], words[3]), []).append(rr)
    for (name, rdtype), rrs in by_key.items():
        out += ["ENTRY_BEGIN", "MATCH opcode qtype qname", "ADJUST copy_id",
                "REPLY QR AA NOERROR", "SECTION QUESTION", f"{name} IN {rdtype}",
                "SECTION ANSWER", *rrs, "ENTRY_END"]
    for name in dict.fromkeys(rr.split()[0] for rr in records):  # NODATA for other types
        out += ["ENTRY_BEGIN", "MATCH opcode qname", "ADJUST copy_id copy_query",
                "REPLY QR AA NOERROR", "SECTION QUESTION", f"{name} IN A",
                "SECTION AUTHORITY", SOA, "ENTRY_END"]
    out += ["ENTRY_BEGIN", "MATCH opcode", "ADJUST copy_id copy_query",
            "REPLY QR AA NXDOMAIN", "SECTION AUTHORITY", SOA, "ENTRY_END"]
    return out


def render(s: Scenario) -> str:
    lines = [f"; {line}" for line in s.why.splitlines()]
    lines += ["", "; shadowdns's own scenario (Deckard dialect), written by "
              "tests/scenarios/src/build_kresd7.py", "do-ip6: no", "do-not-query-localhost: off",
              f"stub-addr: {ROOT}", "query-minimization: off", *s.header, "CONFIG_END", "",
              f"SCENARIO_BEGIN {s.why.splitlines()[0]}"]
    first = 100 if s.later else 1000
    lines += [f"RANGE_BEGIN 0 {first}", f"\tADDRESS {ROOT}", *entries(s.data, True),
              "RANGE_END"]
    if s.later:
        lines += [f"RANGE_BEGIN {first + 1} 1000", f"\tADDRESS {ROOT}",
                  *entries(s.later, True), "RANGE_END"]
    if s.fwd:
        lines += ["RANGE_BEGIN 0 1000", f"\tADDRESS {FWD}", *entries(s.fwd, False), "RANGE_END"]
    n = 10
    for st in s.steps:
        if st.time_passes:
            lines += [f"STEP {n} TIME_PASSES ELAPSE {st.time_passes}"]
            n += 100 if s.later else 10
        lines += [f"STEP {n} QUERY", "ENTRY_BEGIN", "REPLY RD", "SECTION QUESTION",
                  f"{st.qname} IN {st.qtype}", "ENTRY_END"]
        n += 10
        match = st.match + (" flags" if st.flags else "")
        lines += [f"STEP {n} CHECK_ANSWER", "ENTRY_BEGIN", f"MATCH {match}",
                  f"REPLY QR {st.flags or ''} {st.rcode}".replace("  ", " "),
                  "SECTION QUESTION", f"{st.qname} IN {st.qtype}", "SECTION ANSWER",
                  *st.answer, "ENTRY_END"]
        n += 10
    lines += ["", "SCENARIO_END", ""]
    return "\n".join(lines)


def A(name: str, addr: str, ttl: int = 3600) -> str:  # noqa: N802 (the record type)
    return f"{name} {ttl} IN A {addr}"


def AAAA(name: str, addr: str, ttl: int = 3600) -> str:  # noqa: N802
    return f"{name} {ttl} IN AAAA {addr}"


POLICY = "feature-list: policy=policy:add(policy.{}"
WWW = "www.site.example."
DATA = (A(WWW, "10.1.1.1"), A("www.other.example.", "10.1.1.2"),
        A("host5.site.example.", "10.1.1.5"), A("hostx.site.example.", "10.1.1.6"))

SCENARIOS = (
    Scenario("kresd_min_ttl_keeps_short_record",
             "kresd cache.min_ttl (Deckard features min_ttl): 'minimum time-to-live for all records in\n"
             "the cache'; a record with TTL 5 is still answered from the cache 60 s later.",
             ("features: min_ttl = 300",), (A(WWW, "10.1.1.1", 5),),
             (Step(WWW, "A", answer=(A(WWW, "10.1.1.1", 5),)),
              Step(WWW, "A", answer=(A(WWW, "10.1.1.1", 5),), time_passes=60)),
             later=(A(WWW, "10.2.2.2", 5),)),
    Scenario("kresd_max_ttl_caps_long_record",
             "kresd cache.max_ttl (Deckard features max_ttl): 'maximum time-to-live for all records in\n"
             "the cache'; a record with TTL 3600 is asked for again after 120 s when max_ttl is 60.",
             ("features: max_ttl = 60",), (A(WWW, "10.1.1.1"),),
             (Step(WWW, "A", answer=(A(WWW, "10.1.1.1"),)),
              Step(WWW, "A", answer=(A(WWW, "10.2.2.2"),), time_passes=120)),
             later=(A(WWW, "10.2.2.2"),)),
    Scenario("kresd_hint_static_answers",
             "kresd hints module (hints.set 'name addr', Deckard features static_hint_name/addr):\n"
             "a hinted name is answered with the hinted address, not the authoritative one.",
             ("features: static_hint_name = www.site.example", "features: static_hint_addr = 10.7.7.7"),
             DATA, (Step(WWW, "A", answer=(A(WWW, "10.7.7.7"),)),)),
    Scenario("kresd_hint_static_other_names_resolve",
             "kresd hints module: only the hinted name is answered from the hints; another name\n"
             "is resolved as usual.",
             ("features: static_hint_name = www.site.example", "features: static_hint_addr = 10.7.7.7"),
             DATA, (Step("www.other.example.", "A", answer=(A("www.other.example.", "10.1.1.2"),)),)),
    Scenario("kresd_dns64_synthesises_aaaa",
             "kresd dns64 module, RFC 6147 §5.1: an AAAA query answered NOERROR without AAAA records\n"
             "gets AAAA records synthesised from the name's A records under the prefix (RFC 6052 /96).",
             ("features: dns64_prefix = 2001:db8:64::",), (A(WWW, "192.0.2.33"),),
             (Step(WWW, "AAAA", answer=(AAAA(WWW, "2001:db8:64::c000:221"),)),)),
    Scenario("kresd_dns64_keeps_real_aaaa",
             "kresd dns64 module, RFC 6147 §5.1.1: a name that has AAAA records gets them unchanged\n"
             "(no synthesis).",
             ("features: dns64_prefix = 2001:db8:64::",),
             (A(WWW, "192.0.2.33"), AAAA(WWW, "2001:db8::33")),
             (Step(WWW, "AAAA", answer=(AAAA(WWW, "2001:db8::33"),)),)),
    Scenario("kresd_dns64_leaves_a_queries",
             "kresd dns64 module: only AAAA queries are synthesised; an A query gets the A records.",
             ("features: dns64_prefix = 2001:db8:64::",), (A(WWW, "192.0.2.33"),),
             (Step(WWW, "A", answer=(A(WWW, "192.0.2.33"),)),)),
    Scenario("kresd_renumber_rewrites_prefix",
             "kresd renumber module (renumber.config{{src, dst}}): A records inside the source prefix\n"
             "are rewritten into the destination prefix, keeping the host part.",
             ("features: renumber_src = 10.10.0.0/16; renumber_dst = 10.20.0.0",),
             (A(WWW, "10.10.3.4"),), (Step(WWW, "A", answer=(A(WWW, "10.20.3.4"),)),)),
    Scenario("kresd_renumber_outside_prefix_unchanged",
             "kresd renumber module: an address outside the source prefix is left as it is.",
             ("features: renumber_src = 10.10.0.0/16; renumber_dst = 10.20.0.0",),
             (A(WWW, "10.11.3.4"),), (Step(WWW, "A", answer=(A(WWW, "10.11.3.4"),)),)),
    Scenario("kresd_policy_suffix_deny_below",
             "kresd policy module: suffix(DENY, {todname(zone)}) 'denies resolution' of names in\n"
             "the zone: NXDOMAIN for a name below the suffix.",
             (POLICY.format("suffix(policy.DENY, {todname('site.example')}))"),), DATA,
             (Step(WWW, "A", rcode="NXDOMAIN", match="opcode qname rcode"),)),
    Scenario("kresd_policy_suffix_deny_apex_and_others",
             "kresd policy module: the suffix matches the zone's apex itself; a name outside the\n"
             "suffix resolves as usual.",
             (POLICY.format("suffix(policy.DENY, {todname('site.example')}))"),), DATA,
             (Step("site.example.", "A", rcode="NXDOMAIN", match="opcode qname rcode"),
              Step("www.other.example.", "A", answer=(A("www.other.example.", "10.1.1.2"),)))),
    Scenario("kresd_policy_drop_servfail",
             "kresd policy module: DROP 'terminates query resolution and returns SERVFAIL to the\n"
             "requestor'.",
             (POLICY.format("suffix(policy.DROP, {todname('site.example')}))"),), DATA,
             (Step(WWW, "A", rcode="SERVFAIL", match="opcode qname rcode"),)),
    Scenario("kresd_policy_tc_over_udp",
             "kresd policy module: TC 'sets TC=1 if the request came through UDP, forcing the client\n"
             "to retry with TCP'; the answer section is empty.",
             (POLICY.format("suffix(policy.TC, {todname('site.example')}))"),), DATA,
             (Step(WWW, "A", match="opcode qname rcode answer", flags="TC RD RA"),)),
    Scenario("kresd_policy_pass_before_deny",
             "kresd policy module: PASS 'lets the query pass through; useful to make exceptions\n"
             "before wider rules': rules apply in order and the first match decides.",
             (POLICY.format("pattern(policy.PASS, todname('www.site.example')))"),
              POLICY.format("suffix(policy.DENY, {todname('site.example')}))")), DATA,
             (Step(WWW, "A", answer=(A(WWW, "10.1.1.1"),)),
              Step("host5.site.example.", "A", rcode="NXDOMAIN", match="opcode qname rcode"))),
    Scenario("kresd_policy_all_deny",
             "kresd policy module: all(action) 'always applies the action'; DENY gives NXDOMAIN.",
             (POLICY.format("all(policy.DENY))"),), DATA,
             (Step("www.other.example.", "A", rcode="NXDOMAIN", match="opcode qname rcode"),)),
    Scenario("kresd_policy_pattern_wire_format",
             "kresd policy module: pattern(action, pattern) applies when the QNAME (in wire format,\n"
             "length bytes before labels) matches the Lua pattern; other names resolve.",
             (POLICY.format(r"pattern(policy.DENY, '\5host[0-9]\4site'))"),), DATA,
             (Step("host5.site.example.", "A", rcode="NXDOMAIN", match="opcode qname rcode"),
              Step("hostx.site.example.", "A",
                   answer=(A("hostx.site.example.", "10.1.1.6"),)))),
    Scenario("kresd_policy_suffix_common",
             "kresd policy module: suffix_common(action, suffix_table, common_suffix) applies the\n"
             "action to names under one of the suffixes (the common suffix only narrows the check).",
             (POLICY.format("suffix_common(policy.DENY, policy.todnames({'site.example', "
                            "'gone.example'}), todname('example')))"),), DATA,
             (Step(WWW, "A", rcode="NXDOMAIN", match="opcode qname rcode"),
              Step("www.other.example.", "A", answer=(A("www.other.example.", "10.1.1.2"),)))),
    Scenario("kresd_policy_forward",
             "kresd policy module: FORWARD(ip) 'forwards the query to the given IP and proxies back\n"
             "the response' for names under the suffix; the forwarder's data is answered.",
             (POLICY.format(f"suffix(policy.FORWARD('{FWD}'), {{todname('site.example')}}))"),),
             DATA, (Step(WWW, "A", answer=(A(WWW, "10.9.9.9"),)),),
             fwd=(A(WWW, "10.9.9.9"),)),
)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for s in SCENARIOS:
        (OUT / f"{s.name}.rpl").write_text(render(s))


if __name__ == "__main__":
    main()
