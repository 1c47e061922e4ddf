"""Write tests/scenarios/testbound/misc7/: testbound-dialect scenarios beside Unbound's smaller
testdata families (ttl_*, fetch_glue*, long_qname), issue 16 part 3, seventh round, helper
"r7misc": one documented behaviour per file, written from the RFCs, unbound.conf(5) and
Unbound's source before any resolver change, on behaviours the earlier rounds' sets
(iteration/, iteration2/, steps_options/, forward/) do not cover.

Sources: RFC 1035 §3.2.1 (TTL 0: not cached), RFC 2181 §5.2 and §8 (TTLs per RRset), RFC 2308
§3 and §5 (negative TTL: min(SOA TTL, SOA MINIMUM)), RFC 1034 §3.1 and RFC 1035 §2.3.4 (names
of at most 255 octets), RFC 1034 §5.3.3 (SLIST: glueless server names are resolved, a server
that does not answer is skipped), RFC 9156 §2.3 (QNAME minimisation: a limit on the number of
queries, Unbound's MAX_MINIMISE_COUNT 10 and MINIMISE_ONE_LAB 4), unbound.conf(5) cache-max-ttl,
cache-min-ttl, cache-max-negative-ttl ("Time to live maximum for negative responses, these
have a SOA in the authority section that is limited in time"), and Unbound's msgreply.c
rdata_copy (an authority SOA's TTL is cut to its MINIMUM, then to cache-max-negative-ttl, and
every RR's TTL is held within cache-min-ttl and cache-max-ttl; each RRset keeps its own TTL,
the message's TTL is the smallest) and dns_cache_store (a TTL 0 message is not stored, its
RRsets are).

The topology comes from build_itergen.py (root, com., net., example.com. on ns1/ns2,
example.net. on ns.example.net.).  ``python tests/scenarios/src/build_misc7.py``
"""

from __future__ import annotations

from pathlib import Path

import build_itergen as base
import build_misc7_signed
from build_itergen import (
    NET,
    NS1,
    NS2,
    NSNET,
    SOA_COM,
    both,
    com_range,
    example_net,
    net_range,
    query,
    root_range,
    scenario,
    server,
)
from build_options2 import entry, nodata

OUT = Path(__file__).parents[1] / "testbound" / "misc7"
RCODE_ONLY = "opcode qname qtype rcode"
CHAIN = """
www.example.com. 300 IN CNAME host.example.com.
host.example.com. 100 IN A 10.0.0.1
"""


def windows(early: str, late: str) -> str:
    """example.com.'s servers answer ``early`` up to step 50 and ``late`` from step 60."""
    return (both(early).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
            + both(late).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"))


def elapse(step: int, seconds: int) -> str:
    return f"STEP {step} TIME_PASSES ELAPSE {seconds}\n\n"


def chain_ttl(answer: str) -> str:
    return CHAIN.replace("300 IN CNAME", "{c} IN CNAME").replace("100 IN A", "{a} IN A").format(
        **dict(zip("ca", answer.split(), strict=True)))


def chain_world() -> str:
    later = "www.example.com. 3600 IN A 10.0.0.99"
    return root_range() + com_range() + windows(
        entry("www.example.com. IN A", answer=CHAIN)
        + entry("host.example.com. IN A", answer="host.example.com. 100 IN A 10.0.0.1"),
        entry("www.example.com. IN A", answer=later)
        + entry("host.example.com. IN A", answer="host.example.com. 3600 IN A 10.0.0.99"))


def ttl_positive() -> None:
    scenario("ttl_rrsets_count_down_separately", """
An answer of two RRsets with different TTLs (CNAME 300, A 100) served from the cache 40
seconds later: each RRset counts down on its own (260 and 60)

RFC 2181 §5.2 (the TTL belongs to the RRset); Unbound's msgreply.c keeps each RRset's TTL
(rdata_copy) and the message's TTL is the smallest of them (parse_copy_decompress), so the
message is still valid after 40 seconds and each RRset is answered with its own remaining TTL.
""", chain_world(),
        query(10, "www.example.com.", match="all ttl", answer=CHAIN)
        + elapse(20, 40)
        + query(30, "www.example.com.", match="all ttl", answer=chain_ttl("260 60")))
    scenario("ttl_cache_max_ttl_each_rrset", """
cache-max-ttl caps each RRset of an answer on its own: CNAME 300 becomes 200, A 100 stays
100; 50 seconds later they are 150 and 50

unbound.conf(5) cache-max-ttl: "Time to live maximum for RRsets and messages in the cache";
Unbound's msgreply.c rdata_copy applies the cap to every RR's TTL as the reply is parsed.
""", chain_world(),
        query(10, "www.example.com.", match="all ttl", answer=chain_ttl("200 100"))
        + elapse(20, 50)
        + query(30, "www.example.com.", match="all ttl", answer=chain_ttl("150 50")),
        server_opts="\tcache-max-ttl: 200\n")
    scenario("ttl_cache_min_ttl_each_rrset", """
cache-min-ttl raises each RRset of an answer on its own: A 100 becomes 150, CNAME 300 stays
300; 120 seconds later the message is still cached (30 and 180)

unbound.conf(5) cache-min-ttl: "Time to live minimum for RRsets and messages in the cache";
Unbound's msgreply.c rdata_copy raises every RR's TTL to it; the message's TTL is the
smallest RRset TTL (150), so after 120 seconds the answer comes from the cache.
""", chain_world(),
        query(10, "www.example.com.", match="all ttl", answer=chain_ttl("300 150"))
        + elapse(20, 120)
        + query(30, "www.example.com.", match="all ttl", answer=chain_ttl("180 30")),
        server_opts="\tcache-min-ttl: 150\n")
    zero = """
www.example.com. 300 IN CNAME host.example.com.
host.example.com. 0 IN A 10.0.0.1
"""
    scenario("ttl_zero_address_behind_cached_cname", """
An answer whose CNAME has TTL 300 and whose target's address has TTL 0: a second later the
CNAME comes from the cache (TTL 299) and only the address is asked again

RFC 1035 §3.2.1 (TTL 0: "should not be cached"); RFC 2181 §5.2 (TTLs per RRset); Unbound's
dns_cache_store does not store a message of TTL 0 but stores its RRsets ("we do not store the
message, but we did store the RRs"), so the cached CNAME is followed and the address fetched.
""", root_range() + com_range() + windows(
        entry("www.example.com. IN A", answer=zero)
        + entry("host.example.com. IN A", answer="host.example.com. 0 IN A 10.0.0.1"),
        entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.6.6.6")
        + entry("host.example.com. IN A", answer="host.example.com. 0 IN A 10.0.0.99")),
        query(10, "www.example.com.", match="all ttl", answer=zero)
        + elapse(20, 1)
        + query(70, "www.example.com.", match="all ttl", answer="""
www.example.com. 299 IN CNAME host.example.com.
host.example.com. 0 IN A 10.0.0.99
"""))


def negative_world(early: str) -> str:
    return root_range() + com_range() + windows(
        early, entry("new.example.com. IN A", answer="new.example.com. 3600 IN A 10.0.0.5"))


def soa(ttl: int, minimum: int) -> str:
    return (f"example.com. {ttl} IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 "
            f"86400 {minimum}")


def ttl_negative() -> None:
    scenario("ttl_negative_soa_ttl_below_minimum", """
An NXDOMAIN whose SOA has TTL 20 and MINIMUM 3600 is cached for 20 seconds (the smaller of
the two): the SOA is answered with TTL 20 and the name is asked again after 30 seconds

RFC 2308 §5: "the TTL of this record is set from the minimum of the MINIMUM field of the SOA
record and the TTL of the SOA itself"; RFC 9077 §3 (the same minimum, also for NSEC TTLs).
""", negative_world(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=soa(20, 3600))),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=soa(20, 3600))
        + elapse(20, 30)
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"))
    scenario("ttl_nodata_soa_minimum", """
A NODATA answer is cached for min(SOA TTL, SOA MINIMUM): SOA TTL 3600 with MINIMUM 30 is
answered with TTL 30, and the name and type are asked again after 40 seconds

RFC 2308 §5 (negative answers, NODATA included, carry the SOA with that TTL) and §2.2
(NODATA); Unbound's msgreply.c rdata_copy cuts an authority SOA's TTL to its MINIMUM.
""", negative_world(nodata("new.example.com.", "A", "example.com.").replace(
        "86400 300", "86400 30")),
        query(10, "new.example.com.", match="all ttl",
              authority=soa(30, 30).replace("ns1.example.com.", "ns.example.com."))
        + elapse(20, 40)
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"))
    scenario("ttl_max_negative_nodata", """
cache-max-negative-ttl bounds NODATA answers too: a NODATA whose SOA gives 300 seconds is
answered with TTL 10 and asked again after 15 seconds

unbound.conf(5) cache-max-negative-ttl: "Time to live maximum for negative responses, these
have a SOA in the authority section that is limited in time"; a NODATA answer is such a
response (RFC 2308 §2.2).
""", negative_world(nodata("new.example.com.", "A", "example.com.")),
        query(10, "new.example.com.", match="all ttl",
              authority=soa(10, 300).replace("ns1.example.com.", "ns.example.com."))
        + elapse(20, 15)
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"),
        server_opts="\tcache-max-negative-ttl: 10\n")
    scenario("ttl_nodata_counts_down_in_cache", """
A cached NODATA answer counts down: asked again 100 seconds later it comes from the cache with
the SOA's TTL 100 lower (300 becomes 200), the server is not asked

RFC 2308 §5 (the negative answer is cached for the SOA's TTL) and RFC 1035 §4.1.3 (a cached
record is given with its remaining TTL).
""", negative_world(nodata("new.example.com.", "A", "example.com.")),
        query(10, "new.example.com.", match="all ttl",
              authority=soa(300, 300).replace("ns1.example.com.", "ns.example.com."))
        + elapse(20, 100)
        + query(70, "new.example.com.", match="all ttl",
                authority=soa(200, 300).replace("ns1.example.com.", "ns.example.com.")))
    scenario("ttl_cache_max_ttl_negative", """
cache-max-ttl bounds negative answers too: an NXDOMAIN whose SOA gives 300 seconds is
answered with TTL 50 under cache-max-ttl 50 and asked again after 60 seconds

unbound.conf(5) cache-max-ttl: "Time to live maximum for RRsets and messages in the cache";
Unbound's msgreply.c rdata_copy caps every RR's TTL, the negative answer's SOA included.
""", negative_world(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=soa(50, 300))
        + elapse(20, 60)
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"),
        server_opts="\tcache-max-ttl: 50\n")


GOOD = "www.example.com. 3600 IN A 10.0.0.2"
SILENT = "ENTRY_BEGIN\nMATCH opcode\nADJUST do_not_answer\nREPLY QR NOERROR\nENTRY_END\n"
NET_REFERRAL = entry("example.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                     authority="example.net. 172800 IN NS ns.example.net.",
                     additional=f"ns.example.net. 172800 IN A {NSNET}")


def glueless(ns: str, net_entries: str, servers: str, com_extra: str = "") -> str:
    """example.com. delegated without glue to ``ns``; net.'s server answers ``net_entries``."""
    return (root_range() + com_range(ns=ns, extra=com_extra)
            + server(NET, net_entries, title="net. servers") + servers)


def fetch_glue() -> None:
    scenario("fetch_glue_target_zone_times_out", """
example.com. is delegated without glue to two names in two zones; one of those zones' server
never answers: the other name is resolved and its server answers

RFC 1034 §5.3.3 step 4 (a server that does not answer is dropped and the next is tried) with
§5.3.3 step 2 (the addresses of glueless servers are looked up); Unbound's iterator
(processQueryTargets) fetches the missing targets and keeps going with those it gets.
""", glueless("example.com. 172800 IN NS ns.dead.net.\nexample.com. 172800 IN NS ns.example.net.",
              entry("dead.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="dead.net. 172800 IN NS ns.dead.net.",
                    additional="ns.dead.net. 172800 IN A 1.2.9.9")
              + NET_REFERRAL,
              example_net(entry("www.example.com. IN A", answer=GOOD))
              + server("1.2.9.9", SILENT, title="ns.dead.net. (never answers)")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    scenario("fetch_glue_two_levels", """
A glueless delegation whose server's own zone is delegated without glue too: both levels of
server names are resolved (example.com. -> ns.example.net., example.net. -> ns.other.com.)

RFC 1034 §5.3.3 step 2 (the address of a server name is looked up like any other name);
Unbound's target-fetch-policy allows dependencies of several levels (the default's five
numbers are five depths, unbound.conf(5)).
""", glueless("example.com. 172800 IN NS ns.example.net.",
              entry("example.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="example.net. 172800 IN NS ns.other.com."),
              server("1.2.3.7", entry("ns.other.com. IN A",
                                      answer="ns.other.com. 3600 IN A 1.2.3.7")
                     + nodata("ns.other.com.", "AAAA", "other.com.")
                     + entry("ns.example.net. IN A",
                             answer=f"ns.example.net. 3600 IN A {NSNET}")
                     + nodata("ns.example.net.", "AAAA", "example.net."),
                     title="ns.other.com. (other.com. and example.net.)")
              + server(NSNET, entry("www.example.com. IN A", answer=GOOD),
                       title="ns.example.net. (example.com.)"),
              com_extra=entry("other.com. IN A", match="opcode subdomain", aa=False,
                              copy_query=True,
                              authority="other.com. 172800 IN NS ns.other.com.",
                              additional="ns.other.com. 172800 IN A 1.2.3.7")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    names = "example.com. 172800 IN NS {a}.example.net.\nexample.com. 172800 IN NS {b}.example.net."
    scenario("fetch_glue_target_nodata", """
example.com. is delegated without glue to two names; one of them has no address (NODATA for
A and AAAA): the other is resolved and its server answers

RFC 1034 §5.3.3 step 2 and step 4 (a server without an address cannot be asked, the others
are); RFC 2308 §2.2 (NODATA: the name exists without that type).
""", glueless(names.format(a="noaddr", b="host"), NET_REFERRAL,
              server(NSNET, nodata("noaddr.example.net.", "A", "example.net.")
                     + nodata("noaddr.example.net.", "AAAA", "example.net.")
                     + entry("host.example.net. IN A", answer="host.example.net. 3600 IN A 1.2.3.8")
                     + nodata("host.example.net.", "AAAA", "example.net."),
                     title="ns.example.net.")
              + server("1.2.3.8", entry("www.example.com. IN A", answer=GOOD),
                       title="host.example.net. (example.com.)")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    nx = "example.net. 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 900 86400 300"
    scenario("fetch_glue_all_targets_nxdomain", """
example.com. is delegated without glue to two names that do not exist (NXDOMAIN): no server
of the zone can be asked, the answer is SERVFAIL

RFC 1034 §5.3.3 step 4 (when no server is left the resolver fails); Unbound's iterator ends
with SERVFAIL when every target fetch failed ("all targets failed", error_response).
""", glueless(names.format(a="gone", b="lost"), NET_REFERRAL,
              example_net(entry("gone.example.net. IN A", match="opcode subdomain",
                                rcode="NXDOMAIN", authority=nx)
                          + entry("lost.example.net. IN A", match="opcode subdomain",
                                  rcode="NXDOMAIN", authority=nx))),
        query(10, "www.example.com.", rcode="SERVFAIL", match=RCODE_ONLY))


def long_name(labels: list[str]) -> str:
    return ".".join(labels) + ".example.com."


def wire_len(name: str) -> int:
    return sum(len(label) + 1 for label in name.rstrip(".").split(".")) + 1


def long_names() -> None:
    octets = long_name(["p" * 45, "q" * 63, "r" * 63, "s" * 63, "www"])
    many = long_name(["a"] * 121)
    assert wire_len(octets) == 255 and wire_len(many) == 255
    for name, qname, doc, qmin in (
        ("long_qname_255_octets", octets, """
A query name of exactly 255 octets (the longest a name may be) is resolved and answered

RFC 1035 §2.3.4 ("names: 255 octets or less") and §3.1; RFC 1034 §3.1.
""", False),
        ("long_qname_123_labels", many, """
A query name of 123 labels (255 octets, one-letter labels) is resolved and answered

RFC 1035 §2.3.4 (255 octets or less, each label 63 or less: as many as 127 labels).
""", False),
        ("long_qname_many_labels_qmin", many, """
With QNAME minimisation a query name of 123 labels is still resolved: the resolver adds
labels one at a time at first, then several at a time, and asks for the whole name after a
bounded number of queries

RFC 9156 §2.3 ("an implementation might choose to limit the number of queries ... MAX_MINIMISE_COUNT
... MINIMISE_ONE_LAB"): Unbound's iterator uses MAX_MINIMISE_COUNT 10 and MINIMISE_ONE_LAB 4
(iterator.h); the empty non-terminals on the way answer NODATA (RFC 8020 does not apply).
""", True),
    ):
        scenario(name, doc, root_range() + com_range() + both(
            entry(f"{qname} IN A", answer=f"{qname} 3600 IN A 10.0.0.9")
            + entry("example.com. IN A", match="opcode subdomain", copy_query=True,
                    authority=SOA_COM)),
            query(10, qname, answer=f"{qname} IN A 10.0.0.9"), qmin=qmin)
    target = long_name(["t" * 45, "u" * 63, "v" * 63, "w" * 63, "www"])
    cname = f"www.example.com. 3600 IN CNAME {target}"
    scenario("long_cname_target_255_octets", """
A CNAME whose target is a name of 255 octets is followed and the target's address answered

RFC 1034 §3.6.2 and §4.3.2 step 3c (the alias is followed), RFC 1035 §2.3.4 (a target of 255
octets is a valid name).
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer=cname)
        + entry(f"{target} IN A", answer=f"{target} 3600 IN A 10.0.0.8")),
        query(10, "www.example.com.", answer=f"{cname}\n{target} 3600 IN A 10.0.0.8"))


def batch2_ttl() -> None:
    scenario("ttl_cache_min_ttl_over_max_negative", """
cache-min-ttl is applied after cache-max-negative-ttl: an NXDOMAIN whose SOA gives 300
seconds is answered with TTL 60 under cache-max-negative-ttl 10 and cache-min-ttl 60

Unbound's msgreply.c rdata_copy: an authority SOA's TTL is cut to its MINIMUM, then to
MAX_NEG_TTL (cache-max-negative-ttl), then raised to MIN_TTL (cache-min-ttl) and cut to
MAX_TTL (cache-max-ttl), in that order; unbound.conf(5) cache-min-ttl ("Time to live minimum
for RRsets and messages in the cache").
""", negative_world(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=soa(60, 300))
        + elapse(20, 30)
        + query(30, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
                authority=soa(30, 300)),
        server_opts="\tcache-max-negative-ttl: 10\n\tcache-min-ttl: 60\n")
    apex = soa(3600, 300)
    scenario("ttl_soa_answer_not_cut_to_minimum", """
A SOA record asked for and given in the answer section keeps its own TTL (3600): the SOA
MINIMUM (300) limits only negative answers' SOA in the authority section

RFC 2308 §5 (the minimum applies to the SOA "added to the authority section" of a negative
answer) and RFC 2181 §5.2; Unbound's msgreply.c rdata_copy cuts the TTL only for a SOA in the
AUTHORITY section.
""", root_range() + com_range() + both(entry("example.com. IN SOA", answer=apex)),
        query(10, "example.com.", "SOA", match="all ttl", answer=apex))
    cross = "www.example.com. 300 IN CNAME www.example.net."
    scenario("ttl_cross_zone_chain_counts_down", """
A CNAME chain across two zones (CNAME 300 from example.com., A 100 from example.net.) served
from the cache 40 seconds later: each RRset with its own remaining TTL (260 and 60)

RFC 2181 §5.2 (TTLs per RRset) and RFC 1034 §4.3.2 step 3c (the chain is followed across
zones, each part from its own zone); Unbound keeps one TTL per RRset and answers from the
cache with each RRset's remaining time.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A", answer=cross))
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 100 IN A 10.0.0.3")),
        query(10, "www.example.com.", match="all ttl",
              answer=f"{cross}\nwww.example.net. 100 IN A 10.0.0.3")
        + elapse(20, 40)
        + query(30, "www.example.com.", match="all ttl", answer=(
            "www.example.com. 260 IN CNAME www.example.net.\n"
            "www.example.net. 60 IN A 10.0.0.3")))
    nx_soa = soa(3600, 30)
    chain = "www.example.com. 300 IN CNAME gone.example.com."
    scenario("ttl_cname_to_nxdomain_negative_expires_first", """
A CNAME (TTL 300) to a name that does not exist (negative TTL 30): 40 seconds later the
CNAME comes from the cache (260) and only its target is asked again, which exists by then

RFC 2308 §5 (the negative answer lasts min(SOA TTL, MINIMUM) = 30), RFC 2181 §5.2 (the CNAME
keeps its own TTL), RFC 6604 §3 (the NXDOMAIN is the target's).
""", root_range() + com_range() + windows(
        entry("www.example.com. IN A", rcode="NXDOMAIN", answer=chain, authority=nx_soa)
        + entry("gone.example.com. IN A", rcode="NXDOMAIN", authority=nx_soa),
        entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.6.6.6")
        + entry("gone.example.com. IN A", answer="gone.example.com. 3600 IN A 10.0.0.5")),
        query(10, "www.example.com.", rcode="NXDOMAIN", answer=chain,
              authority=soa(30, 30))
        + elapse(20, 40)
        + query(70, "www.example.com.", match="all ttl", answer=(
            "www.example.com. 260 IN CNAME gone.example.com.\n"
            "gone.example.com. 3600 IN A 10.0.0.5")))


def batch2_other() -> None:
    later_com = com_range(ns="example.com. 172800 IN NS ns3.example.com.",
                          glue="ns3.example.com. 172800 IN A 1.2.3.9")
    scenario("ttl_cache_max_ttl_delegation", """
cache-max-ttl bounds delegations too: with cache-max-ttl 10 the example.com. NS set is
forgotten after 10 seconds, so 20 seconds later the parent is asked again and its new
delegation (to another server) is followed

unbound.conf(5) cache-max-ttl: "Time to live maximum for RRsets and messages in the cache";
Unbound's msgreply.c rdata_copy caps the TTL of every RRset parsed, the referral's NS and glue
included (RFC 1034 §5.3.3: delegations are cached data with TTLs like any other).
""", root_range() + com_range().replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + later_com.replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.1")
               + entry("mail.example.com. IN A", answer="mail.example.com. 3600 IN A 10.6.6.6"))
        + server("1.2.3.9", entry("mail.example.com. IN A",
                                  answer="mail.example.com. 3600 IN A 10.0.0.9"),
                 title="ns3.example.com. (the new delegation)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.1")
        + elapse(20, 20)
        + query(70, "mail.example.com.", answer="mail.example.com. IN A 10.0.0.9"),
        server_opts="\tcache-max-ttl: 10\n")
    scenario("fetch_glue_target_address_expired_refetched", """
A glueless server's address (TTL 10) expires while the delegation (TTL 172800) is still
cached: 20 seconds later the server name's address is looked up again, and the new address
is used

RFC 1034 §5.3.3 step 2 (server addresses are looked up like other names) and RFC 2181 §5.2
(the address RRset has its own TTL); Unbound's delegation point from the cache keeps the NS
names and fetches targets whose addresses have expired.
""", root_range() + com_range(ns="example.com. 172800 IN NS ns.example.net.")
        + net_range()
        + server(NSNET, entry("ns.example.net. IN A", answer="ns.example.net. 10 IN A 1.2.3.7")
                 + nodata("ns.example.net.", "AAAA", "example.net."),
                 last=50, title="ns.example.net. (early: the server is at 1.2.3.7)")
        + server(NSNET, entry("ns.example.net. IN A", answer="ns.example.net. 10 IN A 1.2.3.8")
                 + nodata("ns.example.net.", "AAAA", "example.net."),
                 first=60, title="ns.example.net. (later: the server moved to 1.2.3.8)")
        + server("1.2.3.7", entry("www.example.com. IN A",
                                  answer="www.example.com. 3600 IN A 10.0.0.1")
                 + entry("mail.example.com. IN A",
                         answer="mail.example.com. 3600 IN A 10.6.6.6"),
                 last=50, title="the old address")
        + server("1.2.3.8", entry("mail.example.com. IN A",
                                  answer="mail.example.com. 3600 IN A 10.0.0.9"),
                 title="the new address"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.1")
        + elapse(20, 20)
        + query(70, "mail.example.com.", answer="mail.example.com. IN A 10.0.0.9"))
    long_target = long_name(["x" * 63, "y" * 63, "z" * 63])
    qname = "q" * 50 + ".alias.example.com."
    dname = f"alias.example.com. 3600 IN DNAME {long_target}"
    assert wire_len(qname) - wire_len("alias.example.com.") + wire_len(long_target) > 255
    scenario("long_dname_noerror_too_long_next_server", """
A NOERROR reply whose DNAME substitution would exceed 255 octets is not used (RFC 6672 §2.2
says that is YXDOMAIN): the zone's other server is asked and its YXDOMAIN with the DNAME is
the answer

RFC 6672 §2.2 ("If the result ... is longer than the maximum length of a domain name ...
the server MUST return ... YXDOMAIN"); Unbound's iter_scrub.c scrub_normalize: when
synth_cname finds the result too long ("should have been RCODE YXDOMAIN") the scrub fails and
the reply is thrown away; a YXDOMAIN with its DNAME is final (iterator.c processQueryResponse).
""", root_range() + com_range()
        + server(NS1, entry(f"{qname} IN A", answer=dname), title="ns1.example.com. (NOERROR)")
        + server(NS2, entry(f"{qname} IN A", rcode="YXDOMAIN", answer=dname),
                 title="ns2.example.com. (YXDOMAIN)"),
        base.rtt(1, NS1, NS2)
        + query(10, qname, rcode="YXDOMAIN", match="opcode qname qtype rcode answer",
                answer=dname))
    dn = "alias.example.com. 3600 IN DNAME example.net."
    wrong = "www.alias.example.com. 3600 IN CNAME elsewhere.example.com."
    scenario("dname_wrong_cname_resynthesised", """
A DNAME reply whose CNAME does not point where the DNAME says: the resolver makes the CNAME
from the DNAME itself (www.alias.example.com. -> www.example.net.) and follows that, not the
server's CNAME

RFC 6672 §3.1 and §3.4 (the CNAME is synthesised from the DNAME; a resolver receiving a DNAME
uses it); Unbound's iter_scrub.c scrub_normalize: "check if next rrset is correct CNAME.
else, synthesize a CNAME" ("synth ourselves"), the wrong CNAME and its target's data are
removed as irrelevant.
""", root_range() + com_range() + net_range()
        + both(entry("www.alias.example.com. IN A", answer=(
            f"{dn}\n{wrong}\nelsewhere.example.com. 3600 IN A 10.6.6.6"))
            + entry("elsewhere.example.com. IN A",
                    answer="elsewhere.example.com. 3600 IN A 10.6.6.6"))
        + example_net(entry("www.example.net. IN A", answer="www.example.net. 3600 IN A 10.0.0.3")),
        query(10, "www.alias.example.com.", match="opcode qname qtype rcode answer", answer=(
            f"{dn}\nwww.alias.example.com. 3600 IN CNAME www.example.net.\n"
            "www.example.net. 3600 IN A 10.0.0.3")))


ROOT_STUB = f"stub-zone:\n\tname: \".\"\n\tstub-addr: {base.ROOT}\n"


def batch3_dname() -> None:
    dn = "alias.example.com. 600 IN DNAME example.net."
    net_a = "www.example.net. 3600 IN A 10.0.0.3"
    net_side = net_range() + example_net(entry("www.example.net. IN A", answer=net_a))
    scenario("dname_synthesised_cname_takes_dname_ttl", """
A DNAME reply without the CNAME: the resolver makes the CNAME itself, with the DNAME's TTL
(600), and follows it

RFC 6672 §3.1 and §3.4 (a resolver synthesises the CNAME from the DNAME; the synthesised
CNAME has the DNAME's TTL); Unbound's iter_scrub.c synth_cname_rrset ("RFC6672: synth CNAME
TTL == DNAME TTL").
""", root_range() + com_range() + net_side
        + both(entry("www.alias.example.com. IN A", answer=dn)),
        query(10, "www.alias.example.com.", match="all ttl", answer=(
            f"{dn}\nwww.alias.example.com. 600 IN CNAME www.example.net.\n{net_a}")))
    two = f"{dn}\nalias.example.com. 600 IN DNAME example.org."
    scenario("dname_rrset_of_two_dropped_next_server", """
A reply with a DNAME RRset of two records (a DNAME owner may have only one) is thrown away:
the zone's other server is asked and its DNAME is followed

RFC 6672 §2.4 ("there MUST NOT be more than one DNAME RR per owner name" ... a DNAME RRset is
a singleton like CNAME, RFC 2181 §10.1); Unbound's iter_scrub.c scrub_normalize: "Found
DNAME rrset with size > 1" fails the reply, the next server is tried.
""", root_range() + com_range() + net_side
        + server(NS1, entry("www.alias.example.com. IN A", answer=two),
                 title="ns1.example.com. (two DNAMEs)")
        + server(NS2, entry("www.alias.example.com. IN A", answer=(
            f"{dn}\nwww.alias.example.com. 600 IN CNAME www.example.net.")),
            title="ns2.example.com."),
        base.rtt(1, NS1, NS2)
        + query(10, "www.alias.example.com.", match="opcode qname qtype rcode answer", answer=(
            f"{dn}\nwww.alias.example.com. 600 IN CNAME www.example.net.\n{net_a}")))
    scenario("dname_after_its_cname_accepted", """
A reply that gives the synthesised CNAME before the DNAME it comes from is accepted: the
answer has the DNAME, its CNAME and the target's address

RFC 6672 §3.4 (the resolver uses the DNAME and its CNAME); RFC 2181 §5 does not fix the order
of RRsets in a section; Unbound's iter_scrub.c scrub_normalize re-orders a CNAME followed by
the DNAME it was made from ("normalize: re-order of DNAME and its CNAME").
""", root_range() + com_range() + net_side
        + both(entry("www.alias.example.com. IN A", answer=(
            f"www.alias.example.com. 600 IN CNAME www.example.net.\n{dn}"))),
        query(10, "www.alias.example.com.", match="opcode qname qtype rcode answer", answer=(
            f"{dn}\nwww.alias.example.com. 600 IN CNAME www.example.net.\n{net_a}")))


def batch3_first() -> None:
    public = root_range() + com_range() + both(entry("www.example.com. IN A", answer=GOOD))
    silent = server("192.0.2.53", SILENT, title="the forwarder / stub server (never answers)")
    for kind in ("forward", "stub"):
        scenario(f"{kind}_first_server_silent_falls_back", f"""
{kind}-first: yes: the {kind} zone's only server never answers (timeouts): the name is
resolved by iteration from the public delegation

unbound.conf(5) {kind}-first: "If enabled, a query is attempted without the {kind} clause if it
fails. The data could not be retrieved and would have caused SERVFAIL because the servers
are unreachable, instead it is tried without this clause."
""", public + silent, query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
            zones=ROOT_STUB + f"{kind}-zone:\n\tname: \"example.com\"\n"
            f"\t{kind}-addr: 192.0.2.53\n\t{kind}-first: yes\n")
    nx = "example.net. 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 900 86400 300"
    scenario("forward_host_nxdomain_first_falls_back", """
forward-first: yes with a forward-host name that does not exist (NXDOMAIN): no forwarder can
be asked, so the name is resolved by iteration from the public delegation

unbound.conf(5) forward-host ("Name of server to forward to") and forward-first ("a query is
attempted without the forward clause if it fails ... because the servers are unreachable").
""", public + net_range() + example_net(entry("gone.example.net. IN A", rcode="NXDOMAIN",
                                              authority=nx)
                                        + entry("gone.example.net. IN AAAA", rcode="NXDOMAIN",
                                                authority=nx)),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
        zones=ROOT_STUB + "forward-zone:\n\tname: \"example.com\"\n"
        "\tforward-host: gone.example.net\n\tforward-first: yes\n")


def batch5() -> None:
    """Written after the held-out run of batches 1-4 (a fifth batch, its own baseline)."""
    scenario("ttl_max_negative_keeps_a_lower_soa_ttl", """
cache-max-negative-ttl only lowers: an NXDOMAIN whose SOA has TTL 20 (MINIMUM 3600) is
answered with TTL 20 under cache-max-negative-ttl 100

RFC 2308 §5 (min(SOA TTL, MINIMUM)); unbound.conf(5) cache-max-negative-ttl is a maximum.
""", negative_world(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=soa(20, 3600))),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=soa(20, 3600)),
        server_opts="\tcache-max-negative-ttl: 100\n")
    scenario("ttl_min_negative_nodata", """
cache-min-negative-ttl raises NODATA answers too: a NODATA whose SOA gives 10 seconds is
answered with TTL 60 and still answered from the cache 30 seconds later (TTL 30)

unbound.conf(5) cache-min-negative-ttl: "Time to live minimum for negative responses, these
have a SOA in the authority section"; a NODATA answer is one (RFC 2308 §2.2).
""", negative_world(nodata("new.example.com.", "A", "example.com.").replace(
        "86400 300", "86400 10")),
        query(10, "new.example.com.", match="all ttl",
              authority=soa(60, 10).replace("ns1.example.com.", "ns.example.com."))
        + elapse(20, 30)
        + query(30, "new.example.com.", match="all ttl",
                authority=soa(30, 10).replace("ns1.example.com.", "ns.example.com.")),
        server_opts="\tcache-min-negative-ttl: 60\n")
    scenario("ttl_cache_max_ttl_zero_nothing_kept", """
cache-max-ttl 0: every answer is given with TTL 0 and nothing is answered from the cache, a
second later the server is asked again

unbound.conf(5) cache-max-ttl ("Time to live maximum for RRsets and messages in the cache");
with a maximum of 0 every TTL is 0 (Unbound's rdata_copy), and TTL 0 data is not cached
(RFC 1035 §3.2.1).
""", root_range() + com_range() + windows(
        entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.1"),
        entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.99")),
        query(10, "www.example.com.", match="all ttl", answer="www.example.com. 0 IN A 10.0.0.1")
        + elapse(20, 1)
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 0 IN A 10.0.0.99"),
        server_opts="\tcache-max-ttl: 0\n")
    deep = long_name(["w"] + ["d"] * 11)
    cut = long_name(["d"] * 7)
    scenario("long_qname_qmin_deep_cut", """
With QNAME minimisation a name 12 labels below example.com. whose zone is cut 7 labels down
is resolved: the minimised questions find the delegation (or the full name reaches it) and
the child zone's server answers

RFC 9156 §2.3 (labels added one or several at a time up to the whole name; a referral on the
way is followed); Unbound's MAX_MINIMISE_COUNT 10 / MINIMISE_ONE_LAB 4 (iterator.h).
""", root_range() + com_range() + both(
        entry(f"{cut} IN A", match="opcode subdomain", aa=False, copy_query=True,
              authority=f"{cut} 3600 IN NS ns.{cut}",
              additional=f"ns.{cut} 3600 IN A 1.2.3.9")
        + entry("example.com. IN A", match="opcode subdomain", copy_query=True,
                authority=SOA_COM))
        + server("1.2.3.9", entry(f"{deep} IN A", answer=f"{deep} 3600 IN A 10.0.0.9")
                 + entry(cut + " IN A", match="opcode subdomain", copy_query=True,
                         authority=f"{cut} 3600 IN SOA ns.{cut} h.{cut} 1 3600 900 86400 300"),
                 title="the deep child zone's server"),
        query(10, deep, answer=f"{deep} IN A 10.0.0.9"), qmin=True)
    escaped = r"a\.b.example.com."
    scenario("long_qname_escaped_dot_in_label", r"""
A query name with a label that holds a dot (a\.b: one label of three octets) is asked and
answered as that label, not as two labels

RFC 1035 §5.1 (\. in master files is a dot inside a label) and RFC 2181 §11 ("any binary
string whatever can be used as the label of any resource record").
""", root_range() + com_range() + both(
        entry(f"{escaped} IN A", answer=f"{escaped} 3600 IN A 10.0.0.4")
        + entry("b.example.com. IN A", answer="b.example.com. 3600 IN A 10.6.6.6")),
        query(10, escaped, answer=f"{escaped} IN A 10.0.0.4"))
    two = "alias.example.com. 3600 IN DNAME alias.example.net."
    second = "alias.example.net. 3600 IN DNAME example.org."
    org_a = "www.example.org. 3600 IN A 10.0.0.6"
    scenario("dname_chain_of_two_zones", """
A DNAME into a zone where another DNAME applies: both substitutions are made in turn
(www.alias.example.com. -> www.alias.example.net. -> www.example.org.) and the answer has
both DNAMEs, their CNAMEs and the final address

RFC 6672 §3.4 (a resolver follows the synthesised CNAME, which may meet another DNAME) and
RFC 1034 §4.3.2 step 3c (aliases are followed across zones).
""", root_range().replace("RANGE_END", entry(
        "example.org. IN A", match="opcode subdomain", aa=False, copy_query=True,
        authority="example.org. 172800 IN NS ns.example.org.",
        additional="ns.example.org. 172800 IN A 1.2.3.7") + "RANGE_END")
        + com_range() + net_range()
        + both(entry("www.alias.example.com. IN A", answer=two))
        + example_net(entry("www.alias.example.net. IN A", answer=second))
        + server("1.2.3.7", entry("www.example.org. IN A", answer=org_a),
                 title="ns.example.org."),
        query(10, "www.alias.example.com.", match="opcode qname qtype rcode answer", answer=(
            f"{two}\nwww.alias.example.com. 3600 IN CNAME www.alias.example.net.\n"
            f"{second}\nwww.alias.example.net. 3600 IN CNAME www.example.org.\n{org_a}")))
    scenario("fetch_glue_target_zone_servfail", """
example.com. is delegated without glue to two names in two zones; the first zone's server
answers SERVFAIL for everything: the other name is resolved and its server answers

RFC 1034 §5.3.3 step 4 (a server error: the next server is tried) and step 2 (glueless names
are looked up); RFC 2308 §7.1 (a server failure is no answer about the name).
""", glueless("example.com. 172800 IN NS ns.broken.net.\nexample.com. 172800 IN NS "
              "ns.example.net.",
              entry("broken.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="broken.net. 172800 IN NS ns.broken.net.",
                    additional="ns.broken.net. 172800 IN A 1.2.9.8")
              + NET_REFERRAL,
              example_net(entry("www.example.com. IN A", answer=GOOD))
              + server("1.2.9.8", entry("broken.net. IN A", match="opcode", aa=False,
                                        rcode="SERVFAIL", copy_query=True),
                       title="ns.broken.net. (SERVFAIL)")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.rpl"):
        old.unlink()
    base.OUT = OUT  # build_itergen's writers put files where its OUT points
    ttl_positive()
    ttl_negative()
    fetch_glue()
    long_names()
    batch2_ttl()
    batch2_other()
    batch3_dname()
    batch3_first()
    batch5()
    build_misc7_signed.build()


if __name__ == "__main__":
    build()
