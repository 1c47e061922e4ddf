"""NAT64 upstream (do-nat64), YXDOMAIN without DNAME, harden-unverified-glue and the iterator
limits taken from the config (iter-scrub-cname, max-global-quota)."""

from __future__ import annotations

import asyncio
import ipaddress

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from resolver.recursor.classify import Kind, classify
from resolver.recursor.config import RecursorConfig
from resolver.recursor.exchanger import Failure, UpstreamQuery, UpstreamResult
from resolver.recursor.nat64 import (
    DEFAULT_PREFIX,
    Nat64Exchanger,
    embed,
    nat64_prefix,
    through_nat64,
    translate,
)

V4 = ipaddress.IPv4Address("192.0.2.33")


@pytest.mark.parametrize(("prefix", "expected"), [
    # RFC 6052 §2.4's examples for 192.0.2.33
    ("2001:db8::/32", "2001:db8:c000:221::"),
    ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
    ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
    ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
    ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
    ("2001:db8:122:344::/96", "2001:db8:122:344::c000:221"),
    ("64:ff9b::/96", "64:ff9b::c000:221"),
])
def test_embed_follows_rfc6052(prefix: str, expected: str) -> None:
    assert embed(V4, nat64_prefix(prefix)) == ipaddress.IPv6Address(expected)


@pytest.mark.parametrize("bad", ["64:ff9b::/80", "192.0.2.0/24", "nonsense"])
def test_bad_prefixes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        nat64_prefix(bad)


def test_translate_keeps_ipv6_and_ports() -> None:
    assert translate("2001:db8::1", DEFAULT_PREFIX) == "2001:db8::1"
    assert translate("192.0.2.33@5353", DEFAULT_PREFIX) == "64:ff9b::c000:221@5353"


class Recording:
    def __init__(self, answer_from: str | None) -> None:
        self.answer_from = answer_from
        self.seen: tuple[str, ...] = ()

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        self.seen = query.servers
        return UpstreamResult(dns.message.make_response(dns.message.make_query("a.", "A")),
                              server=self.answer_from,
                              failures=[(query.servers[0], Failure.TIMEOUT)])


def test_exchanger_sends_to_nat64_and_reports_ipv4() -> None:
    inner = Recording(answer_from="64:ff9b::c000:221")
    query = UpstreamQuery(dns.name.from_text("a."), 1, dns.name.root,
                          ("192.0.2.33", "2001:db8::5"))
    result = asyncio.run(Nat64Exchanger(inner, DEFAULT_PREFIX).exchange(query))
    assert inner.seen == ("64:ff9b::c000:221", "2001:db8::5")
    assert result.server == "192.0.2.33"
    assert result.failures == [("192.0.2.33", Failure.TIMEOUT)]


def test_no_prefix_no_wrapper_and_ipv4_usable_only_with_nat64() -> None:
    inner = Recording(None)
    assert through_nat64(inner, None) is inner
    assert not RecursorConfig(do_ip4=False, do_ip6=True).usable("192.0.2.33")
    with_nat64 = RecursorConfig(do_ip4=False, do_ip6=True, nat64_prefix=DEFAULT_PREFIX)
    assert with_nat64.usable("192.0.2.33")
    assert with_nat64.address_types() == [dns.rdatatype.A, dns.rdatatype.AAAA]



def test_yxdomain_without_dname_is_no_answer() -> None:
    """Unbound 1.24 rejects a YXDOMAIN reply that carries no DNAME (iter_scrub_promiscuous:
    "Since the reply does not contain a DNAME, it is rejected as YXDOMAIN answer")."""
    query = dns.message.make_query("www.example.com.", "A")
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.YXDOMAIN)
    c = classify(response, dns.name.from_text("www.example.com."), dns.rdatatype.A,
                 dns.name.from_text("example.com."))
    assert c.kind is Kind.LAME


def test_noerror_with_an_overflowing_dname_is_no_answer() -> None:
    """RFC 6672 §2.2: a DNAME substitution longer than 255 octets is answered YXDOMAIN; a
    NOERROR reply with such a DNAME is thrown away (Unbound's scrub_normalize: synth_cname
    "should have been RCODE YXDOMAIN"), the same DNAME under YXDOMAIN is the answer."""
    qname = dns.name.from_text("q" * 50 + ".alias.example.com.")
    target = ".".join(c * 63 for c in "xyz") + ".example.com."
    response = dns.message.make_response(dns.message.make_query(qname, "A"))
    response.answer.append(dns.rrset.from_text("alias.example.com.", 300, "IN", "DNAME",
                                               target))
    zone = dns.name.from_text("example.com.")
    assert classify(response, qname, dns.rdatatype.A, zone).kind is Kind.LAME
    response.set_rcode(dns.rcode.YXDOMAIN)
    assert classify(response, qname, dns.rdatatype.A, zone).kind is Kind.YXDOMAIN
    short = dns.name.from_text("www.alias.example.com.")
    response.set_rcode(dns.rcode.NOERROR)
    assert classify(response, short, dns.rdatatype.A, zone).kind is Kind.CNAME


def test_unverified_glue_is_set_aside_for_the_last_resort() -> None:
    """harden-unverified-glue: glue for a name outside the child zone leaves the referral's
    glue and is kept apart (parent side), glue inside the child stays."""
    from resolver.cache import DnsCache
    from resolver.recursor.classify import Classified
    from resolver.recursor.learn import set_aside_unverified_glue

    cut = dns.name.from_text("example.com.")
    inside = dns.rrset.from_text("ns1.example.com.", 300, "IN", "A", "192.0.2.1")
    sibling = dns.rrset.from_text("ns.example2.com.", 300, "IN", "A", "192.0.2.2")
    c = Classified(Kind.REFERRAL, cut=cut, glue=[inside, sibling])
    cache = DnsCache(1 << 20)
    set_aside_unverified_glue(cache, c, 0.0)
    assert c.glue == [inside]
    assert cache.parent_side.get(sibling.name, dns.rdatatype.A, 0.0) is not None
    assert cache.rrsets.get(sibling.name, dns.rdatatype.A, 0.0) is None


def test_iterator_limits_from_the_config() -> None:
    assert RecursorConfig().chain_hops() == 12
    assert RecursorConfig(scrub_cname=1).chain_hops() == 1
    assert RecursorConfig(max_global_quota=2).max_global_quota == 2
