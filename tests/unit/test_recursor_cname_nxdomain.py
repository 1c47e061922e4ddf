"""An alias answered with rcode NXDOMAIN (issue 16 part 2, helper "dlame"): the rcode speaks of
the chain's last name (RFC 6604 §3); when that name is outside the server's zone (or the
chain is cut, the testbound dialect) the target is asked, as Unbound's
response_type_from_server makes it a CNAME response."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rcode
import dns.rrset

from resolver.recursor.classify import Kind, classify

ZONE = dns.name.from_text("example.com.")
QNAME = dns.name.from_text("www.example.com.")


def _nx_alias(target: str) -> dns.message.Message:
    m = dns.message.make_response(dns.message.make_query(QNAME, "A"))
    m.set_rcode(dns.rcode.NXDOMAIN)
    m.answer.append(dns.rrset.from_text(QNAME, 3600, "IN", "CNAME", target))
    return m


def test_alias_out_of_zone_with_nxdomain_is_followed() -> None:
    c = classify(_nx_alias("www.example.net."), QNAME, 1, ZONE)
    assert c.kind is Kind.CNAME
    assert c.target == dns.name.from_text("www.example.net.")


def test_alias_in_zone_with_nxdomain_is_the_answer() -> None:
    c = classify(_nx_alias("gone.example.com."), QNAME, 1, ZONE)
    assert c.kind is Kind.NXDOMAIN


def test_alias_in_zone_with_nxdomain_is_followed_when_chains_are_cut() -> None:
    c = classify(_nx_alias("gone.example.com."), QNAME, 1, ZONE, cut_chains=True)
    assert c.kind is Kind.CNAME


def test_plain_nxdomain_stays_nxdomain() -> None:
    m = dns.message.make_response(dns.message.make_query(QNAME, "A"))
    m.set_rcode(dns.rcode.NXDOMAIN)
    assert classify(m, QNAME, 1, ZONE, cut_chains=True).kind is Kind.NXDOMAIN
