"""The scrubber cuts NS RRsets to their first ``max_ns`` records (Unbound's iter-scrub-ns,
iter_scrub.c shorten_rrset), drops the glue of the names cut off, and removes whole a signed
over-long NS RRset from the authority section of a response that is no referral."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from resolver.recursor.classify import scrub

ZONE = dns.name.from_text("example.com.")
SIG = "NS 15 2 300 20260131120000 20251202120000 1 example.com. AAAA"


def ns_set(count: int) -> dns.rrset.RRset:
    return dns.rrset.from_text_list("example.com.", 300, "IN", "NS",
                                    [f"ns{i}.example.com." for i in range(1, count + 1)])


def glue(count: int) -> list[dns.rrset.RRset]:
    return [dns.rrset.from_text(f"ns{i}.example.com.", 300, "IN", "A", f"192.0.2.{i}")
            for i in range(1, count + 1)]


def targets(rrset: dns.rrset.RRset) -> list[str]:
    return [rd.target.to_text() for rd in rrset]


def test_answer_ns_set_keeps_its_first_records_and_their_glue() -> None:
    msg = dns.message.make_response(dns.message.make_query("example.com.", "NS"))
    msg.flags |= dns.flags.AA
    msg.answer.append(ns_set(3))
    msg.additional.extend(glue(3))
    scrub(msg, ZONE, max_ns=2)
    assert targets(msg.answer[0]) == ["ns1.example.com.", "ns2.example.com."]
    assert [r.name.to_text() for r in msg.additional] == ["ns1.example.com.", "ns2.example.com."]


def test_referral_ns_set_is_shortened_even_when_signed() -> None:
    msg = dns.message.make_response(dns.message.make_query("www.example.com.", "A"))
    msg.authority.append(ns_set(25))
    msg.authority.append(dns.rrset.from_text("example.com.", 300, "IN", "RRSIG", SIG))
    scrub(msg, dns.name.from_text("com."))
    assert len(msg.authority[0]) == 20  # the default limit


def test_signed_over_long_ns_set_beside_an_answer_goes_whole() -> None:
    msg = dns.message.make_response(dns.message.make_query("www.example.com.", "A"))
    msg.flags |= dns.flags.AA
    msg.answer.append(dns.rrset.from_text("www.example.com.", 300, "IN", "A", "192.0.2.80"))
    msg.authority.append(ns_set(3))
    msg.authority.append(dns.rrset.from_text("example.com.", 300, "IN", "RRSIG", SIG))
    scrub(msg, ZONE, max_ns=2)
    assert msg.authority == []


def test_sets_within_the_limit_are_untouched() -> None:
    msg = dns.message.make_response(dns.message.make_query("example.com.", "NS"))
    msg.answer.append(ns_set(2))
    scrub(msg, ZONE, max_ns=2)
    assert targets(msg.answer[0]) == ["ns1.example.com.", "ns2.example.com."]
    assert msg.answer[0].rdtype == dns.rdatatype.NS
