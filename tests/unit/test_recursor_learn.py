"""What the recursor keeps from an authoritative answer beside its data (recursor/learn.py)."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from resolver.cache import DnsCache
from resolver.cache.common import Rank
from resolver.recursor.learn import cache_child_ns

T = dns.rdatatype
N = dns.name.from_text


def answer_with_nsset(additional: list[str]) -> dns.message.Message:
    msg = dns.message.make_response(dns.message.make_query("www.grow.nl.", "A"))
    msg.answer.append(dns.rrset.from_text("www.grow.nl.", 300, "IN", "A", "192.0.2.1"))
    msg.authority.append(dns.rrset.from_text("grow.nl.", 3600, "IN", "NS", "ns1.grow.nl.",
                                             "ns2.grow.nl."))
    for line in additional:
        name, ttl, rdtype, rdata = line.split()
        msg.additional.append(dns.rrset.from_text(name, int(ttl), "IN", rdtype, rdata))
    return msg


def test_the_child_ns_set_and_its_in_zone_addresses_are_kept() -> None:
    # RFC 2181 §5.4.1: the zone's own NS set ranks above the referral; the addresses of
    # its nameservers in the additional section are kept as glue, so a server the parent
    # does not list can be reached
    cache = DnsCache(1 << 20)
    msg = answer_with_nsset(["ns2.grow.nl. 3600 A 127.7.60.91",
                             "ns2.grow.nl. 3600 AAAA fd07:60::91",
                             "other.grow.nl. 3600 A 127.7.60.99",  # no NS of the zone
                             "ns9.elsewhere.nl. 3600 A 127.7.60.98"])  # not in the zone
    cache_child_ns(cache, msg, N("grow.nl."), 0.0)
    ns = cache.rrsets.get(N("grow.nl."), T.NS, 1.0)
    assert ns is not None and ns.rank == Rank.AUTHORITY_AUTH
    a = cache.rrsets.get(N("ns2.grow.nl."), T.A, 1.0)
    assert a is not None and a.rank == Rank.ADDITIONAL
    assert [rd.address for rd in a.rrset] == ["127.7.60.91"]
    assert cache.rrsets.get(N("ns2.grow.nl."), T.AAAA, 1.0) is not None
    assert cache.rrsets.get(N("other.grow.nl."), T.A, 1.0) is None
    assert cache.rrsets.get(N("ns9.elsewhere.nl."), T.A, 1.0) is None


def test_glue_does_not_replace_an_address_the_zone_answered() -> None:
    cache = DnsCache(1 << 20)
    better = dns.rrset.from_text("ns2.grow.nl.", 3600, "IN", "A", "127.7.60.1")
    cache.rrsets.put(better, Rank.ANSWER_AUTH, 0.0)
    cache_child_ns(cache, answer_with_nsset(["ns2.grow.nl. 3600 A 127.7.60.91"]),
                   N("grow.nl."), 0.0)
    a = cache.rrsets.get(N("ns2.grow.nl."), T.A, 1.0)
    assert a is not None and [rd.address for rd in a.rrset] == ["127.7.60.1"]
