"""How the scenario header configures the in-process candidate, and the resolver behaviours
the Deckard set needed (each as a small scenario, so they hold without the shared set)."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import dns.name
import pytest

from deckard.candidate import Candidate, CandidateConfig
from deckard.fakenet import ScenarioNet
from deckard.runner import CandidateTarget, play
from deckard.scenario import Scenario, parse


def scenario(header: str, body: str) -> Scenario:
    text = textwrap.dedent(header) + "CONFIG_END\nSCENARIO_BEGIN unit\n" + textwrap.dedent(body)
    return parse(Path("unit.rpl"), text + "\nSCENARIO_END\n")


async def run(s: Scenario, qmin: bool = False) -> tuple[str | None, list[str]]:
    net = ScenarioNet(s, rng=random.Random(5))
    candidate = Candidate(CandidateConfig.from_scenario(s.config, qmin), net, seed=5)
    failure = await play(s, CandidateTarget(candidate), net, random.Random(6))
    return (None if failure is None else f"{failure.kind}: {failure.message}",
            [str(x) for x in net.log])


def ask(step: int, name: str, expect: str, rcode: str = "NOERROR") -> str:
    answer = f"SECTION ANSWER\n{expect}\n" if expect else ""
    return f"""
STEP {step} QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
{name} IN A
ENTRY_END
STEP {step + 1} CHECK_ANSWER
ENTRY_BEGIN
MATCH opcode qname qtype rcode answer
REPLY QR RD RA {rcode}
SECTION QUESTION
{name} IN A
{answer}ENTRY_END
"""


def server(address: str, *entries: str, first: int = 0, last: int = 100) -> str:
    return f"RANGE_BEGIN {first} {last}\n\tADDRESS {address}\n" + "".join(entries) + "RANGE_END\n"


def referral(zone: str, ns: str, glue: str = "", match: str = "opcode subdomain") -> str:
    additional = f"SECTION ADDITIONAL\n{glue}\n" if glue else ""
    return f"""ENTRY_BEGIN
MATCH {match}
ADJUST copy_id copy_query
REPLY QR NOERROR
SECTION QUESTION
{zone} IN NS
SECTION AUTHORITY
{ns}
{additional}ENTRY_END
"""


def data(name: str, *records: str, rtype: str = "A", flags: str = "QR AA NOERROR") -> str:
    return f"""ENTRY_BEGIN
MATCH opcode qname qtype
ADJUST copy_id
REPLY {flags}
SECTION QUESTION
{name} IN {rtype}
SECTION ANSWER
{chr(10).join(records)}
ENTRY_END
"""


class RecordingNet(ScenarioNet):
    """Keeps the upstream queries' header flags."""

    flags: list[int]

    def answer(self, address: str, wire: bytes, tcp: bool) -> bytes | None:
        self.flags = [*getattr(self, "flags", []), int.from_bytes(wire[2:4], "big")]
        return super().answer(address, wire, tcp)


async def test_forward_addr_sends_everything_with_rd_to_the_forwarder() -> None:
    s = scenario("forward-addr: 127.7.9.1\n", server("127.7.9.1", data(
        "www.example.com.", "www.example.com. CNAME www.example.net.",
        "www.example.net. A 192.0.2.7", flags="QR RD RA NOERROR",
    )) + ask(10, "www.example.com.", "www.example.com. CNAME www.example.net.\n"
                                     "www.example.net. A 192.0.2.7"))
    net = RecordingNet(s, rng=random.Random(5))
    candidate = Candidate(CandidateConfig.from_scenario(s.config, False), net, seed=5)
    assert await play(s, CandidateTarget(candidate), net, random.Random(6)) is None
    assert [str(x) for x in net.log] == [
        "step 10: www.example.com. A to 127.7.9.1/udp: entry at line 6"]
    assert net.flags == [0x0100]  # RD, nothing else


ROOT_TO_COM = referral("com.", "com. NS ns.nic.com.", "ns.nic.com. A 127.7.1.1")
NXDOMAIN = """ENTRY_BEGIN
MATCH opcode
ADJUST copy_id copy_query
REPLY QR AA NXDOMAIN
SECTION AUTHORITY
. SOA a. b. 1 2 3 4 5
ENTRY_END
"""


async def test_do_not_query_localhost_spares_the_root_hint_only() -> None:
    body = (server("127.7.0.1", ROOT_TO_COM)
            + server("127.7.1.1", referral("example.com.", "example.com. NS ns.example.com.",
                                           "ns.example.com. A 127.7.2.1"))
            + server("127.7.2.1", data("www.example.com.", "www.example.com. A 192.0.2.1"))
            + ask(10, "www.example.com.", "", rcode="SERVFAIL"))
    failure, log = await run(scenario("stub-addr: 127.7.0.1\n", body))
    assert failure is None, failure
    assert all("127.7.2.1" not in x for x in log)  # glue into 127/8 is never used
    assert any("to 127.7.0.1" in x for x in log)  # the configured hint is
    allowed = body.replace(
        "REPLY QR RD RA SERVFAIL\nSECTION QUESTION\nwww.example.com. IN A\n",
        "REPLY QR RD RA NOERROR\nSECTION QUESTION\nwww.example.com. IN A\n"
        "SECTION ANSWER\nwww.example.com. A 192.0.2.1\n")
    failure, _ = await run(scenario("stub-addr: 127.7.0.1\ndo-not-query-localhost: off\n",
                                    allowed))
    assert failure is None, failure


async def test_ipv6_only_uses_aaaa_glue_and_v6_hints() -> None:
    glue = "ns.nic.com. A 192.0.2.53\nns.nic.com. AAAA 2001:db8::53"
    body = (server("2001:db8::1", referral("com.", "com. NS ns.nic.com.", glue))
            + server("2001:db8::53", data("www.example.com.", "www.example.com. A 192.0.2.1"))
            + ask(10, "www.example.com.", "www.example.com. A 192.0.2.1"))
    failure, log = await run(scenario("stub-addr: 2001:db8::1\ndo-ip4: no\n", body))
    assert failure is None, failure
    assert not any("192.0.2.53" in x for x in log)


async def test_harden_glue_off_keeps_out_of_zone_glue() -> None:
    body = (server("192.0.2.1", ROOT_TO_COM.replace("127.7.1.1", "192.0.2.2"))
            + server("192.0.2.2", referral("example.com.", "example.com. NS ns.example.net.",
                                           "ns.example.net. A 192.0.2.3"))
            + server("192.0.2.3", data("www.example.com.", "www.example.com. A 192.0.2.80"))
            + ask(10, "www.example.com.", "www.example.com. A 192.0.2.80"))
    failure, log = await run(scenario("stub-addr: 192.0.2.1\nharden-glue: no\n", body))
    assert failure is None, failure
    assert not any("ns.example.net." in x for x in log)  # the glue was used, not looked up
    failure, _ = await run(scenario("stub-addr: 192.0.2.1\n", body))
    assert failure is not None  # hardened: ns.example.net is looked up, and nothing answers


async def test_records_of_another_type_only_make_nodata() -> None:
    body = server("192.0.2.1", data("example.com.", "example.com. 0 A 2.2.2.2", rtype="AAAA",
                                    flags="QR RD NOERROR")) + """
STEP 1 QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
example.com. IN AAAA
ENTRY_END
STEP 2 CHECK_ANSWER
ENTRY_BEGIN
MATCH all
REPLY QR RD RA NOERROR
SECTION QUESTION
example.com. IN AAAA
ENTRY_END
"""
    failure, _ = await run(scenario("stub-addr: 192.0.2.1\n", body))
    assert failure is None, failure


@pytest.mark.parametrize("qmin", [True, False])
async def test_parent_glue_is_used_when_the_childs_own_lookup_fails(qmin: bool) -> None:
    body = (
        server("192.0.2.1",
               referral("example.net.", "example.net. NS ns.example.net.",
                        "ns.example.net. A 192.0.2.4"),
               ROOT_TO_COM.replace("127.7.1.1", "192.0.2.2"), NXDOMAIN)
        + server("192.0.2.2", referral("example.com.", "example.com. NS ns.example.net."))
        # the child's answer for its own nameserver is a bogus sub-delegation
        + server("192.0.2.4",
                 referral("ns.example.net.", "ns.example.net. NS ns.nowhere.invalid.",
                          match="opcode qname"),
                 data("www.example.com.", "www.example.com. A 192.0.2.80"))
        + ask(10, "www.example.com.", "www.example.com. A 192.0.2.80"))
    failure, _ = await run(scenario("stub-addr: 192.0.2.1\n", body), qmin=qmin)
    assert failure is None, failure


def test_clock_starts_at_the_override_date_and_anchors_are_kept() -> None:
    s = scenario('val-override-date: "20170401000000"\nstub-addr: 192.0.2.1\n'
                 'trust-anchor: ". DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A4185'
                 '5200FD2CE1CDDE32F24E8FB5"\ndomain-insecure: net.\n', "")
    candidate = Candidate(CandidateConfig.from_scenario(s.config, True), ScenarioNet(s))
    assert candidate.clock.now() == 1491004800.0  # 2017-04-01 00:00:00 UTC
    before = candidate.clock.monotonic()
    candidate.advance(30)
    assert candidate.clock.now() == 1491004830.0 and candidate.clock.monotonic() == before + 30
    assert [str(a.name) for a in candidate.validation.trust_anchors] == ["."]
    assert [str(n) for n in candidate.validation.negative_anchors] == ["net."]
    assert candidate.recursor.root_servers == ("192.0.2.1",)


@pytest.mark.parametrize("qmin", [True, False])
async def test_parent_glue_is_a_last_resort_when_the_childs_address_is_broken(qmin: bool) -> None:
    broken = """ENTRY_BEGIN
MATCH opcode
ADJUST copy_id copy_query
REPLY QR SERVFAIL
ENTRY_END
"""
    body = (
        server("192.0.2.1",
               referral("example.net.", "example.net. NS ns.example.net.",
                        "ns.example.net. A 192.0.2.44"),
               referral("example.com.", "example.com. NS ns.example.com.\n"
                                        "example.com. NS ns.example.net.",
                        "ns.example.com. A 192.0.2.55"),
               NXDOMAIN)
        + server("192.0.2.55", broken)
        # the child says its nameserver is at the broken address; the parent's glue works
        + server("192.0.2.44",
                 data("ns.example.net.", "ns.example.net. A 192.0.2.55"),
                 data("www.example.com.", "www.example.com. A 192.0.2.80"),
                 referral("example.net.", "example.net. SOA a. b. 1 2 3 4 5"))  # NODATA
        + ask(10, "www.example.com.", "www.example.com. A 192.0.2.80"))
    failure, log = await run(scenario("stub-addr: 192.0.2.1\n", body), qmin=qmin)
    assert failure is None, failure
    assert "www.example.com. A to 192.0.2.44/udp" in log[-1]


def test_trust_anchors_turn_validation_on() -> None:
    from deckard.candidate import trust_anchors
    from resolver.dnssec.validating import ValidatingRecursor

    s = scenario('stub-addr: 192.0.2.1\ndomain-insecure: net.\n'
                 'trust-anchor: ". DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A4185'
                 '5200FD2CE1CDDE32F24E8FB5"\n'
                 'trust-anchor: ". DS 49060 8 1 E7B1EB56D7D5791B3D45630FEAA9C823DB84B385'
                 'ACEEAC5F44DD08885C36700F"\n', "")
    anchors = trust_anchors(s.config.validation)
    assert [ds.key_tag for ds in anchors.ds_for(dns.name.root)] == [19036]  # bad one dropped
    assert anchors.is_negative(dns.name.from_text("www.net."))
    candidate = Candidate(CandidateConfig.from_scenario(s.config, True), ScenarioNet(s))
    assert isinstance(candidate.answerer.recursor, ValidatingRecursor)
    plain = scenario("stub-addr: 192.0.2.1\n", "")
    candidate = Candidate(CandidateConfig.from_scenario(plain.config, True), ScenarioNet(plain))
    assert candidate.answerer.recursor is candidate.recursor


@pytest.mark.parametrize(("wire", "expected"), [
    # a question name of 300 octets (labels "\x01a" repeated): header-only FORMERR, the ID,
    # opcode, RD and CD kept, QR set, RA clear (Unbound's worker_check_request)
    (b"\x12\x34\x01\x10" + b"\x00\x01" + bytes(6) + b"\x01a" * 150 + b"\x00\x00\x01\x00\x01",
     b"\x12\x34\x81\x11" + bytes(8)),
    (b"\x12\x34\x81\x00" + bytes(8) + b"\xff", None),  # a response: nothing
    (b"\x12\x34\x01", None),  # less than a header: nothing
])
async def test_a_query_that_does_not_parse_gets_a_header_only_formerr(
    wire: bytes, expected: bytes | None
) -> None:
    s = scenario("stub-addr: 192.0.2.1\n", "")
    candidate = Candidate(CandidateConfig.from_scenario(s.config, True), ScenarioNet(s))
    assert await candidate.handle(wire) == expected
