"""Write tests/scenarios/testbound/iteration2/: testbound-dialect scenarios for the iterator
(issue 16 part 3, seventh round, helper "r7iter"), one documented behaviour per file, written
from the RFCs and Unbound's iterator before any resolver change, on behaviours the sixth
round's iteration/ set does not cover.

Sources: RFC 1034 §4.3.2 and §5.3.3 (the resolver's algorithm), RFC 2181 §5.4.1 (ranking:
data outside the server's zone and additional/authority addresses are not trusted) and §10.3
(NS naming an alias), RFC 5452 §9.1 (the reply's question must be the query's), RFC 6604 §3
(the rcode of a CNAME chain is the last name's, and only that name's zone can tell), Unbound's
iter_resptype.c (response_type_from_server: rcodes other than NOERROR and NXDOMAIN are thrown
away, an NXDOMAIN is an answer, an answer without AA is an answer unless RA says "recursive
lame", referrals upwards are lame, NS sets below the delegation point are referrals),
iter_scrub.c (scrub_message: no QR, no question for NOERROR/NXDOMAIN, or another qname/qtype:
not a reply; scrub_normalize: A/AAAA/CNAME in authority removed, a CNAME chain sets the rcode
to NOERROR; scrub_sanitize: RRsets outside the server's zone removed) and iterator.c
processTargetResponse ("NS should not have got CNAMEs. Robust.": the alias's target is used).

The topology comes from build_itergen.py (root, com., net., example.com. on ns1/ns2,
example.net. on ns.example.net.).  ``python tests/scenarios/src/build_iter2.py``
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import build_itergen as base
from build_itergen import (
    COM,
    NET,
    NS1,
    NS2,
    ROOT,
    SOA_COM,
    ask,
    both,
    check,
    com_range,
    example_net,
    lame_pair,
    net_range,
    query,
    root_range,
    rtt,
    scenario,
    server,
    two_servers,
)
from build_options2 import entry, nodata

OUT = Path(__file__).parents[1] / "testbound" / "iteration2"
GOOD = "www.example.com. IN A 10.0.0.2"
BAD_A = "www.example.com. 3600 IN A 10.6.6.6"
# the answer section decides (the servers' addresses beside an NS answer are incidental)
ANSWER_ONLY = "opcode qname qtype rcode answer"


def header_replies() -> None:
    """Replies that are no reply to the query (scrub_message) and rcodes thrown away."""
    lame_pair("iter2_reply_qr_clear_dropped", """
A reply with the QR bit clear is no response: it is dropped and the zone's other server
answers

RFC 1035 §4.1.1 (QR: "whether this message is a query (0), or a response (1)"); Unbound's
iter_scrub.c scrub_message: "if( !(msg->flags&BIT_QR) ) return 0" (the reply fails, the next
server is tried).
""", entry("www.example.com. IN A", answer=BAD_A).replace("REPLY QR AA", "REPLY AA"))
    lame_pair("iter2_reply_without_question_dropped", """
A NOERROR reply without a question section is not taken as the reply to the query: it is
dropped and the zone's other server answers

Unbound's iter_scrub.c scrub_message: "make sure that a query is echoed back when NOERROR or
NXDOMAIN ... this is a forgery resistance (security) feature" (qdcount 0: return 0);
RFC 5452 §9.1.
""", "ENTRY_BEGIN\nMATCH opcode\nADJUST copy_id\nREPLY QR AA NOERROR\n"
         f"SECTION ANSWER\n{BAD_A}\nENTRY_END\n")
    lame_pair("iter2_reply_question_other_type_dropped", """
A reply whose question names the query's name but another type (AAAA for an A query) is no
reply to the query: it is dropped and the zone's other server answers

Unbound's iter_scrub.c scrub_message: "if(msg->qtype != qinfo->qtype || msg->qclass !=
qinfo->qclass) return 0"; RFC 5452 §9.1 (the question section must match).
""", entry("www.example.com. IN AAAA", match="opcode qname", answer=BAD_A))
    scenario("iter2_reply_question_case_differs_accepted", """
A reply whose question spells the query's name in another case is the reply to the query
(without use-caps-for-id): its answer is taken, the zone's other server is not needed

RFC 1035 §2.3.3 and RFC 4343 (names compare without regard to case); Unbound's iter_scrub.c
scrub_message compares the echoed name with dname_pkt_compare, which ignores case; only
use-caps-for-id (off by default, unbound.conf(5)) checks the case.
""", root_range() + com_range()
        + server(NS1, entry("WWW.EXAMPLE.COM. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.1"),
                 title="ns1.example.com. (question in capitals)")
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="ns2.example.com."),
        rtt(1, NS1, NS2) + query(10, "www.example.com.",
                                 answer="www.example.com. IN A 10.0.0.1"))
    lame_pair("iter2_notimp_next_server", """
A server that answers NOTIMP (with and without EDNS) is skipped: the zone's other server
gives the answer

RFC 1035 §4.1.1 (rcode 4, not implemented); RFC 1034 §5.3.3 step 4 (a server error deletes
the server from SLIST); Unbound's iter_resptype.c: rcodes other than NOERROR and NXDOMAIN
"throw the response away as meaningless and move on to the next nameserver" (after the EDNS
fallback of outside_network.c, which retries a NOTIMP without EDNS once).
""", entry("www.example.com. IN A", match="opcode", rcode="NOTIMP", aa=False,
           copy_query=True))
    lame_pair("iter2_formerr_without_edns_too_next_server", """
A server that answers FORMERR with and without EDNS is skipped: the zone's other server gives
the answer

RFC 6891 §7 (a FORMERR to an EDNS query: retry without EDNS); a FORMERR to the plain query
too is a server error (RFC 1034 §5.3.3 step 4); Unbound's iter_resptype.c throws the reply
away and moves on to the next nameserver.
""", entry("www.example.com. IN A", match="opcode", rcode="FORMERR", aa=False,
           copy_query=True))


def flags_and_scrub() -> None:
    """AA-less answers, and what the scrubber removes from an answer."""
    scenario("iter2_nxdomain_without_aa_accepted", """
An NXDOMAIN without AA (and without RA, so not "recursive lame") is the answer: the zone's
other server, which would give an address, is not asked

Unbound's iter_resptype.c: "If the message is NXDOMAIN, then it answers the question"; only
RA set with AA clear makes it RESPONSE_TYPE_REC_LAME (RFC 4697 §2.3).
""", two_servers(entry("www.example.com. IN A", aa=False, rcode="NXDOMAIN",
                                   authority=SOA_COM)),
        rtt(1, NS1, NS2) + query(10, "www.example.com.", rcode="NXDOMAIN",
                                 match="opcode qname qtype rcode"))
    scenario("iter2_answer_without_aa_accepted", """
A positive answer without AA (RA clear, no NS set in authority) from the zone's server is the
answer: the zone's other server is not asked

Unbound's iter_resptype.c: an answer RRset without AA is a provisional ANSWER ("it very well
could be a REFERRAL"); with no delegation NS set in authority it stays an ANSWER, and only RA
set with AA clear makes it recursive lame.
""", two_servers(entry("www.example.com. IN A", aa=False,
                       answer="www.example.com. 3600 IN A 10.0.0.1")),
        rtt(1, NS1, NS2) + query(10, "www.example.com.",
                                 answer="www.example.com. IN A 10.0.0.1"))
    scenario("iter2_authority_ns_other_zone_not_used", """
An NS RRset for another zone (example.net.) in the authority section of example.com.'s
answer is not trusted: example.net. is still resolved through its own delegation

RFC 2181 §5.4.1 (data a server is not authoritative for is not cached as such); Unbound's
iter_scrub.c scrub_sanitize: "remove ALL rrsets that aren't children of the originating
zone" (harden-glue: yes, the default).
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2",
                     authority="example.net. 172800 IN NS ns.evil.example.com.",
                     additional="ns.evil.example.com. 172800 IN A 1.2.3.66"))
        + server("1.2.3.66", entry("www.example.net. IN A", answer="www.example.net. 3600 "
                                   "IN A 10.6.6.6"), title="ns.evil.example.com. (never asked)")
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.", answer=GOOD)
        + query(20, "www.example.net.", answer="www.example.net. IN A 10.0.0.9"))
    scenario("iter2_authority_address_not_data", """
An address record in the authority section of an answer is not data: a later question for
that name is asked of the zone, whose answer is given

Unbound's iter_scrub.c scrub_normalize removes A, AAAA, CNAME and DNAME RRsets from the
authority section ("removing irrelevant RRset"); RFC 2181 §5.4.1 (authority-section data
other than NS and SOA ranks below answers).
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2",
                     authority="mail.example.com. 3600 IN A 10.6.6.6")
               + entry("mail.example.com. IN A",
                       answer="mail.example.com. 3600 IN A 10.0.0.5")),
        query(10, "www.example.com.", answer=GOOD)
        + query(20, "mail.example.com.", answer="mail.example.com. IN A 10.0.0.5"))


def cnames() -> None:
    target = "www.example.net. IN A 10.0.0.9"
    net_answer = example_net(entry("www.example.net. IN A",
                                   answer="www.example.net. 3600 IN A 10.0.0.9"))
    scenario("iter2_cname_target_data_out_of_zone_reasked", """
A CNAME into another zone with the target's address in the same reply: the address from
example.com.'s server is not used, the target is asked of example.net.'s server

RFC 2181 §5.4.1 (data outside the server's zone is not trusted); Unbound's iter_scrub.c
scrub_sanitize: "Remainders of CNAME chains are cut off and resolved by iterator".
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN CNAME www.example.net.
www.example.net. 3600 IN A 10.6.6.6
""")) + net_answer,
        query(10, "www.example.com.",
              answer=f"www.example.com. IN CNAME www.example.net.\n{target}"))
    scenario("iter2_nxdomain_cname_target_other_zone", """
An NXDOMAIN whose answer is a CNAME into another zone does not deny the target: the target is
asked of its own zone, which has it, and the answer is NOERROR with the chain

RFC 6604 §3 (the rcode is the last name's of the chain) and RFC 2181 §5.4.1 (example.com.'s
server cannot speak for example.net.); Unbound's iter_scrub.c scrub_normalize: "internally we
have CNAME'd ... chains ending in nxdomain with NOERROR rcode" and the out-of-zone remainder
is resolved by the iterator.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A", rcode="NXDOMAIN",
                     answer="www.example.com. 3600 IN CNAME www.example.net.",
                     authority=SOA_COM)) + net_answer,
        query(10, "www.example.com.",
              answer=f"www.example.com. IN CNAME www.example.net.\n{target}"))
    scenario("iter2_cname_to_zone_on_the_same_servers", """
A CNAME into another zone served by the same servers (example.net. delegated to
ns1/ns2.example.com.): the target is found through example.net.'s delegation and the answer
carries the chain

RFC 1034 §4.3.2 step 3c (follow the canonical name from the top: its zone's servers are
found by delegation, whichever hosts they are); RFC 2181 §5.4.1.
""", root_range() + com_range()
        + f"; net. servers\nRANGE_BEGIN 0 1000\n\tADDRESS {NET}\n"
        + entry("example.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                authority="example.net. 172800 IN NS ns1.example.com.\n"
                          "example.net. 172800 IN NS ns2.example.com.")
        + "RANGE_END\n\n"
        + both(entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN CNAME www.example.net.
www.example.net. 3600 IN A 10.0.0.9
""") + entry("www.example.net. IN A", answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.",
              answer=f"www.example.com. IN CNAME www.example.net.\n{target}"))


def delegations() -> None:
    """Referral shapes: glue below a further cut, skipped levels, aliases, stubs, addresses."""
    scenario("iter2_glue_below_a_further_cut_used", """
Glue for a server name below a further zone cut inside the delegated zone (ns.sub.example.com.
for example.com.) is in the referring zone's bailiwick: it is used to reach the server

RFC 1034 §4.2.1 (glue for servers named below the cut); RFC 2181 §5.4.1; Unbound's
iter_scrub.c keeps additional addresses named by the referral's NS set that are inside the
zone of the server that sent them (com.).
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns.sub.example.com.",
                    glue=f"ns.sub.example.com. 172800 IN A {NS1}")
        + server(NS1, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="ns.sub.example.com."),
        query(10, "www.example.com.", answer=GOOD))
    scenario("iter2_referral_skipping_a_level", """
A referral that skips a level (the root's server delegating example.com. itself, below com.)
is followed: its NS set is below the zone asked and above the name

RFC 1034 §4.3.2 step 3b (a referral to servers "closer to the answer"); Unbound's
iter_resptype.c: "If the NS set is below the delegation point we are on ... it is a
referral".
""", f"; K.ROOT-SERVERS.NET.\nRANGE_BEGIN 0 1000\n\tADDRESS {ROOT}\n"
        + entry(". IN NS", answer=". 86400 IN NS K.ROOT-SERVERS.NET.",
                additional=f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}")
        + entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                authority="example.com. 172800 IN NS ns1.example.com.",
                additional=f"ns1.example.com. 172800 IN A {NS1}")
        + "RANGE_END\n\n"
        + server(NS1, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="ns1.example.com."),
        query(10, "www.example.com.", answer=GOOD))
    alias = "alias.example.net."
    scenario("iter2_ns_name_is_an_alias", """
A delegation whose server name is an alias (NS ns names a CNAME) still reaches the server:
the alias is followed to its target's address

RFC 2181 §10.3 (an NS must not name an alias, yet resolvers meet it); Unbound's iterator.c
processTargetResponse follows the CNAME of a target query and adds the target's address to
the delegation ("NS should not have got CNAMEs. Robust.").
""", root_range() + com_range(ns=f"example.com. 172800 IN NS {alias}") + net_range()
        + example_net(entry(f"{alias} IN A", answer=f"""
{alias} 3600 IN CNAME host.example.net.
host.example.net. 3600 IN A {NS1}
""") + entry(f"{alias} IN AAAA", answer=f"{alias} 3600 IN CNAME host.example.net.")
            + nodata("host.example.net.", "AAAA", "example.net.")
            + entry("host.example.net. IN A", answer=f"host.example.net. 3600 IN A {NS1}"))
        + server(NS1, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="host.example.net. (example.com.'s server)"),
        query(10, "www.example.com.", answer=GOOD))
    scenario("iter2_timeout_other_address_same_server", """
A server name with two addresses, one of which never answers: the query is sent to the
other address of the same server and its answer given

RFC 1034 §5.3.3 step 4 (on a timeout try the next address: SLIST holds addresses); Unbound's
delegation point keeps every address of a server and selects among them by RTT, a timeout
marks only that address (infra cache per address).
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns1.example.com.",
                    glue=f"ns1.example.com. 172800 IN A {NS1}\n"
                         f"ns1.example.com. 172800 IN A {NS2}")
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title=f"ns1.example.com.'s second address ({NS1} has no server)"),
        rtt(1, NS1, NS2) + ask(10, "www.example.com.") + "STEP 11 TIMEOUT\n\n"
        + check(20, "www.example.com.", answer=GOOD))
    zones = (f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
             f"stub-zone:\n\tname: \"example.com\"\n\tstub-addr: {NS1}\n\tstub-addr: {NS2}\n")
    scenario("iter2_stub_server_upward_referral_lame", """
A stub zone's server that answers with an upward referral (to com.) is lame: the stub's other
address is asked and answers

unbound.conf(5) stub-zone (the stub's addresses are the zone's delegation); Unbound's
iter_resptype.c: "If we are getting a referral upwards (or to the same zone), then the server
is 'lame'" (the delegation point is the stub's); RFC 4697 §2.5.
""", root_range() + com_range()
        + server(NS1, entry("example.com. IN A", match="opcode subdomain", aa=False,
                            copy_query=True, authority="com. 172800 IN NS a.gtld-servers.net.",
                            additional=f"a.gtld-servers.net. 172800 IN A {COM}"),
                 title="stub-addr 1 (refers upwards)")
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="stub-addr 2"),
        rtt(1, NS1, NS2) + query(10, "www.example.com.", answer=GOOD), zones=zones)


def nat64_address(v4: str, prefix: str) -> str:
    """The IPv6 address RFC 6052 §2.2 makes of ``v4`` under ``prefix`` (bits 64-71 zero)."""
    net = ipaddress.IPv6Network(prefix)
    out = bytearray(net.network_address.packed)
    at = net.prefixlen // 8
    for octet in ipaddress.IPv4Address(v4).packed:
        if at == 8:
            at += 1
        out[at] = octet
        at += 1
    return str(ipaddress.IPv6Address(bytes(out)))


def nat64_ranges(prefix: str) -> str:
    """root, com. and example.com.'s ns1, each answering only at its NAT64 address."""
    text = (root_range() + com_range(ns="example.com. 172800 IN NS ns1.example.com.",
                                     glue=f"ns1.example.com. 172800 IN A {NS1}")
            + server(NS1, entry("www.example.com. IN A",
                                answer="www.example.com. 3600 IN A 10.0.0.2"),
                     title="ns1.example.com."))
    for v4 in (ROOT, COM, NS1):
        text = text.replace(f"\tADDRESS {v4}\n", f"\tADDRESS {nat64_address(v4, prefix)}\n")
    return text


def nat64() -> None:
    """do-nat64 (unbound.conf(5)): IPv4 servers reached through a NAT64 prefix."""
    doc = """
do-nat64: yes with do-ip4: no: every IPv4 server address (the root hint, glue) is reached at
its NAT64 address under {where}, and the answer is found

unbound.conf(5) do-nat64 ("Use NAT64 to reach IPv4-only servers") and nat64-prefix ("Use a
specific NAT64 prefix to reach IPv4-only servers. Defaults to using dns64-prefix value or
64:ff9b::/96"); Unbound's iterator.c sends to addr_to_nat64(target) for an IPv4 target when
do-nat64 is on; RFC 6052 §2.2 (the IPv4 address follows the prefix, bits 64 to 71 are zero).
"""
    for name, prefix, opts, where in (
        ("iter2_nat64_default_prefix", "64:ff9b::/96", "", "the default prefix 64:ff9b::/96"),
        ("iter2_nat64_prefix_option", "2001:db8:64::/96", "\tnat64-prefix: 2001:db8:64::/96\n",
         "nat64-prefix"),
        ("iter2_nat64_prefix_48", "2001:db8:1::/48", "\tnat64-prefix: 2001:db8:1::/48\n",
         "a /48 nat64-prefix (the address straddles the zero octet)"),
        ("iter2_nat64_dns64_prefix", "2001:db8:6464::/96", "\tdns64-prefix: 2001:db8:6464::/96\n",
         "dns64-prefix when nat64-prefix is not set"),
    ):
        scenario(name, doc.replace("{where}", where), nat64_ranges(prefix),
                 query(10, "www.example.com.", answer=GOOD),
                 server_opts="\tdo-ip4: no\n\tdo-ip6: yes\n\tdo-nat64: yes\n" + opts)
    lame_pair("iter2_yxdomain_without_dname_next_server", """
A YXDOMAIN reply without a DNAME is no answer: the zone's other server is asked and answers

RFC 6672 §2.2 (YXDOMAIN answers a DNAME substitution that overflows, with the DNAME); the
reference Unbound (1.24) rejects a YXDOMAIN that carries no DNAME (its testdata
iter_scrub_promiscuous.rpl: "Since the reply does not contain a DNAME, it is rejected as
YXDOMAIN answer"), and a rejected reply moves on to the next nameserver (iter_resptype.c).
""", entry("www.example.com. IN A", match="opcode qname qtype", rcode="YXDOMAIN",
           copy_query=True))


def authority_and_limits() -> None:
    """What an answer's authority section may teach (scrub_normalize), iter-scrub-ns, and a
    delegation whose glue expired."""
    evil = server("1.2.3.66", entry("host.sub.example.com. IN A", match="opcode qname",
                                    answer="host.sub.example.com. 3600 IN A 10.6.6.6")
                  + entry("www.example.com. IN A", answer=BAD_A),
                  title="1.2.3.66 (named only in authority sections: never asked)")
    scenario("iter2_authority_ns_not_pertinent_ignored", """
An NS RRset in an answer's authority section for a name that is not at or above the question
(sub.example.com. beside the answer for www.example.com.) is no delegation: names below it are
still asked of the zone's servers, whose referral is followed

Unbound's iter_scrub.c scrub_normalize: "NS set must be pertinent to the query" (an authority
NS RRset whose owner is not a superdomain of the question is removed, and with it the glue it
would have marked); RFC 2181 §5.4.1.
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2",
                     authority="sub.example.com. 3600 IN NS ns.sub.example.com.",
                     additional="ns.sub.example.com. 3600 IN A 1.2.3.66")
               + entry("sub.example.com. IN A", match="opcode subdomain", aa=False,
                       copy_query=True, authority="sub.example.com. 3600 IN NS ns.sub.example.com.",
                       additional="ns.sub.example.com. 3600 IN A 1.2.3.7"))
        + server("1.2.3.7", entry("host.sub.example.com. IN A",
                                  answer="host.sub.example.com. 3600 IN A 10.0.0.7"),
                 title="ns.sub.example.com. (per example.com.'s referral)")
        + evil,
        query(10, "www.example.com.", answer=GOOD)
        + query(20, "host.sub.example.com.", answer="host.sub.example.com. IN A 10.0.0.7"))
    scenario("iter2_nxdomain_authority_ns_not_learnt", """
An NS RRset in the authority section of an NXDOMAIN (a new server set for the zone, with glue)
is not learnt: later questions for the zone still go to the servers of the referral

Unbound's iter_scrub.c scrub_normalize: "we don't want NS sets for NXDOMAIN answers, because
they could contain poisonous contents" (also for NODATA answers): the NS RRset is removed, and
the glue it would have marked with it; RFC 2308 §2.1 (a negative answer's authority carries
the SOA).
""", root_range() + com_range()
        + both(entry("nx.example.com. IN A", rcode="NXDOMAIN", authority=f"""
{SOA_COM}
example.com. 3600 IN NS ns9.example.com.
""", additional="ns9.example.com. 3600 IN A 1.2.3.66")
               + entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2"))
        + evil,
        query(10, "nx.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode")
        + query(20, "www.example.com.", answer=GOOD))
    ns3 = """
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
example.com. 3600 IN NS ns3.example.com.
"""
    scenario("iter2_iter_scrub_ns_option", """
iter-scrub-ns: 2: an NS RRset of three records from the zone's server is shortened to its
first two, and the answer to the NS question carries those two

unbound.conf(5) iter-scrub-ns: "Limit on the number of NS records allowed in an rrset of type
NS, from the iterator scrubber. This protects the internals of the resolver from overly large
NS sets"; Unbound's iter_scrub.c shorten_rrset keeps the first records of the RRset.
""", root_range() + com_range()
        + both(entry("example.com. IN NS", answer=ns3)),
        query(10, "example.com.", "NS", match=ANSWER_ONLY, answer="""
example.com. IN NS ns1.example.com.
example.com. IN NS ns2.example.com.
"""), server_opts="\titer-scrub-ns: 2\n")
    many = "".join(f"example.com. 3600 IN NS ns{i}.example.com.\n" for i in range(1, 23))
    kept = "".join(f"example.com. IN NS ns{i}.example.com.\n" for i in range(1, 21))
    scenario("iter2_iter_scrub_ns_default_20", """
Without iter-scrub-ns, Unbound's default limit of 20 NS records applies: an NS RRset of 22
records is answered with its first 20

unbound.conf(5) iter-scrub-ns ("Default is 20"); Unbound's iter_scrub.c scrub_normalize
shortens an answer's NS RRset over the limit (shorten_rrset).
""", root_range() + com_range() + both(entry("example.com. IN NS", answer=many)),
        query(10, "example.com.", "NS", match=ANSWER_ONLY, answer=kept))
    scenario("iter2_glue_expired_referral_asked_again", """
A cached delegation whose only server name is inside the zone and whose glue has expired is
of no use: the parent is asked again, its referral gives the address anew, and the answer is
found

Unbound's iter_utils.c iter_dp_is_useless ("all NS items are required glue ... no addresses
are provided": go up one level and use that delegation instead) and RFC 1034 §5.3.3 step 2
(SLIST from the closest known servers that can be reached); RFC 2181 §5.4.1 (glue TTLs are
the referral's).
""", root_range()
        + com_range(ns="example.com. 3600 IN NS ns1.example.com.",
                    glue=f"ns1.example.com. 10 IN A {NS1}")
        + server(NS1, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2")
                 + entry("mail.example.com. IN A",
                         answer="mail.example.com. 3600 IN A 10.0.0.5"),
                 title="ns1.example.com."),
        query(10, "www.example.com.", answer=GOOD)
        + "STEP 20 TIME_PASSES ELAPSE 60\n\n"
        + query(30, "mail.example.com.", answer="mail.example.com. IN A 10.0.0.5"))


def gtld_names() -> str:
    """net.'s server, answering for a.gtld-servers.net. too: with harden-unverified-glue the
    root's glue for com.'s server (a name outside com.) is verified by asking for it."""
    return net_range(entry("a.gtld-servers.net. IN A",
                           answer=f"a.gtld-servers.net. 172800 IN A {COM}")
                     + nodata("a.gtld-servers.net.", "AAAA", "net."))


def sibling_glue(glue_address: str, sibling_alive: bool) -> str:
    """example.com. delegated by com. to ns.example2.com. (a sibling zone's name) with glue
    ``glue_address``; example2.com.'s own server says the name is at 1.2.3.5 (or, not
    ``sibling_alive``, refuses)."""
    referral = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                     authority="example.com. 172800 IN NS ns.example2.com.",
                     additional=f"ns.example2.com. 172800 IN A {glue_address}")
    sibling = entry("example2.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="example2.com. 172800 IN NS ns1.example2.com.",
                    additional="ns1.example2.com. 172800 IN A 1.2.3.8")
    text = (root_range() + gtld_names() + f"; com. servers\nRANGE_BEGIN 0 1000\n\tADDRESS {COM}\n"
            + referral + sibling + "RANGE_END\n\n"
            + server(NS2, entry("www.example.com. IN A",
                                answer="www.example.com. 3600 IN A 10.0.0.2"),
                     title="ns.example2.com. (its address per example2.com.)"))
    if sibling_alive:
        text += server("1.2.3.8", entry("ns.example2.com. IN A",
                                        answer=f"ns.example2.com. 3600 IN A {NS2}")
                       + nodata("ns.example2.com.", "AAAA", "example2.com."),
                       title="ns1.example2.com.")
    else:
        text += server("1.2.3.8", entry("ns.example2.com. IN A", match="opcode",
                                        rcode="REFUSED", aa=False, copy_query=True),
                       title="ns1.example2.com. (refuses everything)")
    return text


def batch2() -> None:
    """Second batch (written after the first batch's fixes, before any change for it):
    harden-unverified-glue, iter-scrub-cname and max-global-quota (unbound.conf(5))."""
    doc_unverified = """
unbound.conf(5) harden-unverified-glue ("Harden against unverified (outside-zone, including
sibling zone) glue rrsets"); Unbound's iter_scrub.c scrub_sanitize sets aside additional
addresses that are not strict subdomains of the delegation ("It'll be retrieved if we can't
separately resolve the glue") and processLastResort tries them ("try unverified glue from
cache") when the names could not be resolved; RFC 2181 §5.4.1.
"""
    scenario("iter2_unverified_glue_resolved", """
harden-unverified-glue: yes: sibling glue (an address for ns.example2.com. in com.'s referral
for example.com.) is not used while the name resolves: its own zone's address is asked
""" + doc_unverified, sibling_glue("1.2.3.66", True)
        + server("1.2.3.66", entry("www.example.com. IN A", answer=BAD_A),
                 title="the sibling glue's address (never asked)"),
        query(10, "www.example.com.", answer=GOOD),
        server_opts="\tharden-unverified-glue: yes\n")
    scenario("iter2_unverified_glue_fallback", """
harden-unverified-glue: yes: when the sibling zone's servers refuse, the set-aside
sibling glue is used as the last resort and the answer is found
""" + doc_unverified, sibling_glue(NS2, False),
        query(10, "www.example.com.", answer=GOOD),
        server_opts="\tharden-unverified-glue: yes\n")
    scenario("iter2_sibling_glue_used_by_default", """
Without harden-unverified-glue (default no), sibling glue inside the referring zone (com.'s
address for ns.example2.com.) is used as it came, the sibling zone is not asked
""" + doc_unverified, sibling_glue(NS2, False),
        query(10, "www.example.com.", answer=GOOD))
    scenario("iter2_unverified_glue_in_zone_kept", """
harden-unverified-glue: yes keeps glue for a name inside the delegated zone (ns1.example.com.
for example.com.): it is verified by the delegation itself and used at once
""" + doc_unverified, root_range() + gtld_names() + com_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer=GOOD),
        server_opts="\tharden-unverified-glue: yes\n")
    scenario("iter2_max_global_quota_enough", """
max-global-quota: 3: a question that needs three upstream queries (the root, com., the zone's
server) is answered: the quota is the number of queries allowed, not one less

unbound.conf(5) max-global-quota; Unbound's iterator.c counts each query sent and fails only
when the count exceeds the quota.
""", root_range() + com_range() + both(entry("www.example.com. IN A",
                                              answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer=GOOD),
        server_opts="\tmax-global-quota: 3\n")
    aaaa = sibling_glue(NS2, True).replace(
        f"ns.example2.com. 172800 IN A {NS2}", "ns.example2.com. 172800 IN AAAA 2001:db8::66")
    scenario("iter2_unverified_glue_aaaa_sibling", """
harden-unverified-glue: yes sets aside IPv6 sibling glue too (an AAAA for ns.example2.com. in
com.'s referral for example.com.): the name's addresses are asked of its own zone
""" + doc_unverified, aaaa + server("2001:db8::66", entry("www.example.com. IN A", answer=BAD_A),
                                    title="the sibling AAAA glue (never asked)"),
        query(10, "www.example.com.", answer=GOOD),
        server_opts="\tharden-unverified-glue: yes\n")
    chain = """
a.example.com. 3600 IN CNAME b.example.com.
b.example.com. 3600 IN CNAME c.example.com.
c.example.com. 3600 IN CNAME d.example.com.
d.example.com. 3600 IN A 10.0.0.4
"""
    scenario("iter2_iter_scrub_cname_option", """
iter-scrub-cname: 1: a reply with a chain of three CNAMEs and the final address is cut after
the limit, and the rest of the chain is looked up: the client still gets the whole chain

unbound.conf(5) iter-scrub-cname ("Limit on the number of CNAME, DNAME records in an answer
... Clips off the remainder of the reply packet at that point"); Unbound's iter_scrub.c
scrub_normalize: "The iterator is going to look up the content one by one anyway".
""", root_range() + com_range()
        + both(entry("a.example.com. IN A", answer=chain)
               + entry("b.example.com. IN A", answer="\n".join(chain.strip().split("\n")[1:]))
               + entry("c.example.com. IN A", answer="\n".join(chain.strip().split("\n")[2:]))
               + entry("d.example.com. IN A", answer="d.example.com. 3600 IN A 10.0.0.4")),
        query(10, "a.example.com.", answer="""
a.example.com. IN CNAME b.example.com.
b.example.com. IN CNAME c.example.com.
c.example.com. IN CNAME d.example.com.
d.example.com. IN A 10.0.0.4
"""), server_opts="\titer-scrub-cname: 1\n")
    scenario("iter2_max_global_quota_option", """
max-global-quota: 2: a question that needs three upstream queries (the root, com., the zone's
server) is SERVFAIL once the quota is spent

unbound.conf(5) max-global-quota ("Limit on the number of upstream queries sent out for an
incoming query and its subqueries from recursion"); Unbound's iterator.c: "request %s has
exceeded the maximum global quota on number of upstream queries" (SERVFAIL).
""", root_range() + com_range() + both(entry("www.example.com. IN A",
                                              answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"),
        server_opts="\tmax-global-quota: 2\n")


def batch3() -> None:
    """Third batch (after the second batch's fixes): what is left when every server of a
    zone misbehaves the same way, and a referral that is no help."""
    reclame = entry("www.example.com. IN A", rcode="NXDOMAIN", aa=False, authority=SOA_COM
                    ).replace("REPLY QR NXDOMAIN", "REPLY QR RA NXDOMAIN")
    scenario("iter2_all_servers_recursion_lame", """
Every server of the zone is recursion-lame (NXDOMAIN with RA set, AA clear): their answer is
taken in the end, not SERVFAIL

Unbound's iter_utils.c server selection keeps recursion-lame servers as the last choice and
asks them with RD set (chase_to_rd), whose reply is then taken as a forwarder's
(iter_resptype.c: rdset, no REC_LAME); RFC 4697 §2.3.
""", root_range() + com_range() + both(reclame),
        query(10, "www.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode"))
    scenario("iter2_all_servers_empty_noerror", """
Every server of the zone answers an entirely empty NOERROR: after trying another server the
empty answer is accepted as NODATA, not SERVFAIL

Unbound's iter_resptype.c / iterator.c: "For entirely empty messages, try again, at first,
then accept it if it happens more" (EMPTY_NODATA_RETRY_COUNT); RFC 2308 §2.2 type 3.
""", root_range() + com_range() + both(entry("www.example.com. IN A")),
        query(10, "www.example.com.", match="opcode qname qtype rcode answer"))
    scenario("iter2_referral_to_a_sideways_child_lame", """
A referral from a zone's server to a child zone that is not above the question (other.example.com.
for www.example.com.) is a bad referral: thrown away, the zone's other server answers

Unbound's iterator.c processQueryResponse: a referral whose NS owner is not a strict
subdomain of the zone asked or not a superdomain of the name is "bad referral, throwaway";
RFC 1034 §4.3.2 (a referral must lead closer to the name).
""", two_servers(entry("www.example.com. IN A", match="opcode qname", aa=False, copy_query=True,
                       authority="other.example.com. 172800 IN NS ns.other.example.com.",
                       additional="ns.other.example.com. 172800 IN A 1.2.3.66"))
        + server("1.2.3.66", entry("www.example.com. IN A", answer=BAD_A),
                 title="ns.other.example.com. (never asked)"),
        rtt(1, NS1, NS2) + query(10, "www.example.com.", answer=GOOD))
    scenario("iter2_referral_to_the_question_zone_itself_followed", """
A referral whose child zone is the question's own name (www.example.com. delegated, asked
for www.example.com. A) is followed: the child's servers answer

RFC 1034 §4.3.2 step 3b (a referral to a zone at the name itself is still closer); Unbound's
iter_resptype.c: an NS set below the delegation point is a referral, and processQueryResponse
accepts it when the question is at or below the NS owner.
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", aa=False, copy_query=True,
                     authority="www.example.com. 172800 IN NS ns.www.example.com.",
                     additional="ns.www.example.com. 172800 IN A 1.2.3.7"))
        + server("1.2.3.7", entry("www.example.com. IN A",
                                  answer="www.example.com. 3600 IN A 10.0.0.7"),
                 title="ns.www.example.com."),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.rpl"):
        old.unlink()
    base.OUT = OUT  # build_itergen's writers put files where its OUT points
    header_replies()
    flags_and_scrub()
    cnames()
    delegations()
    nat64()
    authority_and_limits()
    batch2()
    batch3()


if __name__ == "__main__":
    build()
