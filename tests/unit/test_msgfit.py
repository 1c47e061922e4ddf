"""Replies cut to a size limit as a name server cuts them (resolver.msgfit, RFC 2181 §9)."""

from __future__ import annotations

from pathlib import Path

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from deckard.text import ScenarioError
from deckard.unboundconf import parse_unbound_conf
from resolver.msgfit import fit

SIG = ("{covers} 8 2 3600 20300101000000 20200101000000 1 example. "
       + "A" * 172)  # a 128-octet signature: RRSIGs big enough to decide what fits


def rrsets(name: str, rdtype: str, texts: list[str], signed: bool = True) -> list[dns.rrset.RRset]:
    out = [dns.rrset.from_text_list(name, 3600, "IN", rdtype, texts)]
    if signed:
        out.append(dns.rrset.from_text(name, 3600, "IN", "RRSIG", SIG.format(covers=rdtype)))
    return out


def reply(answer: int = 1, authority: int = 0, additional: int = 0) -> dns.message.Message:
    q = dns.message.make_query("www.example.", "A", want_dnssec=True)
    r = dns.message.make_response(q, our_payload=1232)
    r.use_edns(0, dns.flags.DO, 1232)
    for i in range(answer):
        r.answer += rrsets(f"a{i}.example.", "A", [f"192.0.2.{i + 1}"])
    for i in range(authority):
        r.authority += rrsets(f"n{i}.example.", "NSEC", [f"n{i + 1}.example. A RRSIG NSEC"])
    for i in range(additional):
        r.additional += rrsets(f"ns{i}.example.", "A", [f"198.51.100.{i + 1}"])
    return r


def parse(wire: bytes) -> dns.message.Message:
    return dns.message.from_wire(wire)


def test_a_reply_that_fits_is_rendered_whole() -> None:
    r = reply(answer=2, authority=1, additional=1)
    assert fit(r, 4096) == r.to_wire(max_size=4096, want_shuffle=False)


def test_authority_that_does_not_fit_keeps_whole_rrsets_with_their_signatures_and_sets_tc(
) -> None:
    r = reply(answer=2, authority=6)
    whole = len(r.to_wire(max_size=65535))
    wire = fit(r, whole - 100)  # the last NSEC with its RRSIG cannot stay
    out = parse(wire)
    assert out.flags & dns.flags.TC and len(wire) <= whole - 100
    assert len(out.answer) == 4  # the answer is whole
    names = [x.name for x in out.authority]
    assert len(out.authority) == 10  # five NSEC RRsets, each with its RRSIG
    for rrset in out.authority:
        assert names.count(rrset.name) == 2  # never an RRset without its signature
    assert out.edns == 0 and out.ednsflags & dns.flags.DO


def test_an_additional_section_that_does_not_fit_is_shortened_without_tc() -> None:
    r = reply(answer=1, authority=1, additional=8)
    whole = len(r.to_wire(max_size=65535))
    out = parse(fit(r, whole - 50))
    assert not out.flags & dns.flags.TC
    assert len(out.answer) == 2 and len(out.authority) == 2
    assert 0 < len(out.additional) < 16 and len(out.additional) % 2 == 0


def test_an_answer_that_does_not_fit_leaves_the_question_with_tc() -> None:
    q = dns.message.make_query("big.example.", "TXT")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text_list(
        "big.example.", 300, "IN", "TXT", [f'"{i:03d} ' + "x" * 200 + '"' for i in range(10)]))
    out = parse(fit(r, 512))
    assert out.flags & dns.flags.TC and out.answer == [] and out.question == q.question


def test_a_signature_without_its_rrset_is_a_group_of_its_own() -> None:
    r = reply(answer=0)
    r.answer.append(dns.rrset.from_text("x.example.", 3600, "IN", "RRSIG", SIG.format(covers="A")))
    out = parse(fit(r, 4096))
    assert [x.rdtype for x in out.answer] == [dns.rdatatype.RRSIG]


def test_testbound_max_udp_size_is_translated_and_checked() -> None:
    """unbound.conf(5) max-udp-size: "Maximum UDP response size (not applied to TCP
    response)", 1232 by default; a value that is no size is a one-line error at its line."""
    def header(line: str) -> list[tuple[int, str]]:
        text = f"server:\n{line}\nstub-zone:\n\tname: \".\"\n\tstub-addr: 192.0.2.1\n"
        return list(enumerate(text.splitlines(), 1))

    assert parse_unbound_conf(Path("x.rpl"), header("")).max_udp_size == 1232
    assert parse_unbound_conf(Path("x.rpl"), header("\tmax-udp-size: 4096")).max_udp_size == 4096
    with pytest.raises(ScenarioError, match=r"x\.rpl:2.*max-udp-size"):
        parse_unbound_conf(Path("x.rpl"), header("\tmax-udp-size: 100"))
