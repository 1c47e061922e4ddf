"""The scrubber drops NSEC RRsets whose next name lies outside the zone asked (RFC 4034
§4.1.1; Unbound's iter_scrub.c sanitize_nsec_is_overreach), with their RRSIGs, and keeps
every other NSEC, the zone's last one (next name: the apex) included."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from resolver.recursor.classify import scrub

ZONE = dns.name.from_text("example.com.")
SIG = "NSEC 15 3 300 20260131120000 20251202120000 1 example.com. AAAA"


def response(*authority: str) -> dns.message.Message:
    msg = dns.message.make_response(dns.message.make_query("zz.example.com.", "A"))
    for text in authority:
        owner, rdtype, rdata = text.split(" ", 2)
        msg.authority.append(dns.rrset.from_text(owner, 300, "IN", rdtype, rdata))
    return msg


def names(msg: dns.message.Message) -> list[tuple[str, str]]:
    return [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in msg.authority]


def test_overreaching_nsec_and_its_signature_go() -> None:
    msg = response("ns.example.com. NSEC www.example.org. A RRSIG NSEC",
                   f"ns.example.com. RRSIG {SIG}",
                   "example.com. NSEC ns.example.com. NS SOA RRSIG NSEC DNSKEY",
                   "www.example.com. NSEC example.com. A RRSIG NSEC")
    scrub(msg, ZONE)
    assert names(msg) == [("example.com.", "NSEC"), ("www.example.com.", "NSEC")]


def test_nsec_of_a_parent_zone_is_judged_by_the_zone_asked() -> None:
    # the same record is fine when the server was asked as the parent zone
    msg = response("ns.example.com. NSEC www.example.org. A RRSIG NSEC")
    scrub(msg, dns.name.root)
    assert names(msg) == [("ns.example.com.", "NSEC")]
