"""Write tests/scenarios/testbound/iteration/: testbound-dialect scenarios for the iterator
(issue 16 part 3, sixth round, helper "itergen"), one documented behaviour per file, written
from the RFCs and unbound.conf(5) / Unbound's iterator before any resolver change.

Sources: RFC 1034 §4.3.2 and §5.3.3 (the resolver's algorithm: SLIST, referrals, CNAMEs),
RFC 2181 §5.4.1 (ranking: authoritative data over glue and referrals), RFC 2308 §5 (negative
TTL: min(SOA TTL, SOA MINIMUM)), RFC 4697 (observed resolver misbehaviour: lame servers,
upward referrals, what a good resolver does instead), RFC 6604 (CNAME and NXDOMAIN), RFC 8020
and RFC 9156 (QNAME minimisation, empty non-terminals), RFC 7766 §5 (TC: retry over TCP),
unbound.conf(5) (cache-max-ttl, cache-min-ttl, stub-first, forward and stub zones) and the
classification of Unbound's iterator (iter_resptype.c response_type_from_server: REFUSED and
SERVFAIL are thrown away, upward and same-zone referrals are lame, a non-authoritative
answer with RA set is "recursive lame", an entirely empty NOERROR is not taken at first;
scrub.c: a reply whose question differs is not a reply to the query, answer-section RRsets
off the CNAME chain and out-of-zone glue are removed).

The topology (root, com., net., example.com., example.net.) is written here, not copied from
Unbound's testdata.  ``python tests/scenarios/src/build_itergen.py``
"""

from __future__ import annotations

from pathlib import Path

from build_options2 import entry, nodata

OUT = Path(__file__).parents[1] / "testbound" / "iteration"

ROOT = "193.0.14.129"
COM = "192.5.6.30"
NET = "192.12.94.30"
NS1 = "1.2.3.4"
NS2 = "1.2.3.5"
NSNET = "1.2.3.6"


def root_range() -> str:
    return (f"; K.ROOT-SERVERS.NET.\nRANGE_BEGIN 0 1000\n\tADDRESS {ROOT}\n"
            + entry(". IN NS", answer=". 86400 IN NS K.ROOT-SERVERS.NET.",
                    additional=f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}")
            + entry("com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="com. 172800 IN NS a.gtld-servers.net.",
                    additional=f"a.gtld-servers.net. 172800 IN A {COM}")
            + entry("net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="net. 172800 IN NS e.gtld-servers.net.",
                    additional=f"e.gtld-servers.net. 172800 IN A {NET}")
            + "RANGE_END\n\n")


def com_range(ns: str = "", glue: str = "", extra: str = "") -> str:
    """com.'s server: example.com. delegated to ns (default ns1 and ns2 with glue)."""
    if not ns:
        ns = ("example.com. 172800 IN NS ns1.example.com.\n"
              "example.com. 172800 IN NS ns2.example.com.")
        glue = glue or (f"ns1.example.com. 172800 IN A {NS1}\n"
                        f"ns2.example.com. 172800 IN A {NS2}")
    return (f"; com. servers\nRANGE_BEGIN 0 1000\n\tADDRESS {COM}\n" + extra
            + entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority=ns, additional=glue)
            + "RANGE_END\n\n")


def net_range(extra: str = "") -> str:
    """net.'s server: example.net. delegated to ns.example.net. with glue."""
    return (f"; net. servers\nRANGE_BEGIN 0 1000\n\tADDRESS {NET}\n" + extra
            + entry("example.net. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="example.net. 172800 IN NS ns.example.net.",
                    additional=f"ns.example.net. 172800 IN A {NSNET}")
            + "RANGE_END\n\n")


def server(address: str, entries: str, first: int = 0, last: int = 1000,
           title: str = "") -> str:
    return (f"; {title or address}\nRANGE_BEGIN {first} {last}\n\tADDRESS {address}\n"
            + entries + "RANGE_END\n\n")


def example_net(entries: str = "") -> str:
    """example.net.'s server: its own NS and address, and ``entries``."""
    return server(NSNET, entries
                  + entry("ns.example.net. IN A", answer=f"ns.example.net. 3600 IN A {NSNET}")
                  + nodata("ns.example.net.", "AAAA", "example.net."), title="ns.example.net.")


def rtt(step: int, fast: str, slow: str, zone: str = "example.com.") -> str:
    """Unbound picks among servers within 400 ms of the fastest: ``fast`` is asked first."""
    return (f"STEP {step} INFRA_RTT {fast} {zone} 10\n\n"
            f"STEP {step + 1} INFRA_RTT {slow} {zone} 900\n\n")


def ask(step: int, qname: str, qtype: str = "A", klass: str = "IN", rd: bool = True) -> str:
    flags = "RD" if rd else ""
    return (f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY {flags}\nSECTION QUESTION\n"
            f"{qname} {klass} {qtype}\nENTRY_END\n\n")


def check(step: int, qname: str, qtype: str = "A", *, answer: str = "", authority: str = "",
          rcode: str = "NOERROR", match: str = "all", klass: str = "IN",
          flags: str = "QR RD RA") -> str:
    body = f"SECTION QUESTION\n{qname} {klass} {qtype}\n"
    if answer:
        body += f"SECTION ANSWER\n{answer.strip()}\n"
    if authority:
        body += f"SECTION AUTHORITY\n{authority.strip()}\n"
    return (f"STEP {step} CHECK_ANSWER\nENTRY_BEGIN\nMATCH {match}\nREPLY {flags} {rcode}\n"
            f"{body}ENTRY_END\n\n")


def query(step: int, qname: str, qtype: str = "A", **kw: str) -> str:
    return ask(step, qname, qtype) + check(step + 1, qname, qtype, **kw)


def scenario(name: str, doc: str, ranges: str, steps: str, server_opts: str = "",
             zones: str = "", qmin: bool = False) -> None:
    title, _, _ = doc.strip().partition("\n\n")
    comment = "".join(f"; {line}\n" for line in doc.strip().splitlines() if line)
    zone = zones or f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n"
    text = (f"; {name}: written for shadowdns (issue 16 part 3), not Unbound's testdata\n"
            + comment
            + "server:\n\ttarget-fetch-policy: \"0 0 0 0 0\"\n"
            + f"\tqname-minimisation: {'yes' if qmin else 'no'}\n"
            + "\tminimal-responses: yes\n" + server_opts + "\n" + zone + "CONFIG_END\n\n"
            + f"SCENARIO_BEGIN {' '.join(title.split())}\n\n" + ranges + steps
            + "SCENARIO_END\n")
    (OUT / f"{name}.rpl").write_text(text)


def two_servers(bad: str, good_answer: str = "www.example.com. 3600 IN A 10.0.0.2",
                qname: str = "www.example.com.", qtype: str = "A") -> str:
    """example.com. on ns1 (``bad`` entries) and ns2 (the real answer)."""
    return (root_range() + com_range()
            + server(NS1, bad, title="ns1.example.com. (misbehaves)")
            + server(NS2, entry(f"{qname} IN {qtype}", answer=good_answer),
                     title="ns2.example.com."))


def lame_pair(name: str, doc: str, bad: str) -> None:
    """ns1 (asked first) misbehaves, ns2 answers: the answer is ns2's."""
    scenario(name, doc, two_servers(bad),
             rtt(1, NS1, NS2) + query(10, "www.example.com.",
                                      answer="www.example.com. IN A 10.0.0.2"))


SOA_COM = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 86400 300"
SOA_TLD = "com. 900 IN SOA a.gtld-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400"
SOA_NET = "example.net. 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 900 86400 300"


def build_lame() -> None:
    lame_pair("iter_lame_upward_referral", """
Lame server: a referral upwards (to com.) from a server of example.com. is lame; the other
server is asked

RFC 4697 §2.3 (lame delegations) and §2.5 (referrals upwards); Unbound's iter_resptype.c:
"If we are getting a referral upwards (or to the same zone), then the server is 'lame'".
""", entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
           authority="com. 172800 IN NS a.gtld-servers.net.",
           additional=f"a.gtld-servers.net. 172800 IN A {COM}"))
    lame_pair("iter_lame_same_zone_referral", """
Lame server: a non-authoritative referral to the zone being asked (NS = the zone, no AA) is
not an answer; another server is asked

RFC 4697 §2.3; Unbound's iter_resptype.c: an NS set for the zone asked, without AA and without
an answer ("a lame server ... gives ns==zone delegation from cache without AA bit") is thrown
away and the next server of the selection is picked.
""", entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
           authority="example.com. 172800 IN NS ns1.example.com.\n"
                     "example.com. 172800 IN NS ns2.example.com."))
    lame_pair("iter_refused_next_server", """
A server that answers REFUSED is skipped: the zone's other server gives the answer

RFC 1034 §5.3.3 step 4 ("if the response shows a server error or other bizarre contents,
delete the server from SLIST and go back to step 3"); Unbound's iter_resptype.c: rcodes other
than NOERROR and NXDOMAIN "throw the response away as meaningless and move on to the next
nameserver".
""", entry("www.example.com. IN A", match="opcode", rcode="REFUSED", aa=False,
           copy_query=True))
    lame_pair("iter_reclame_nxdomain", """
Recursive lame: an NXDOMAIN with RA set and AA clear (a recursive server deployed as
authoritative) is not taken; the other server answers

Unbound's iter_resptype.c for NXDOMAIN: "make sure its not recursive when we don't want it
to": RA without AA is RESPONSE_TYPE_REC_LAME, the next server is asked; RFC 4697 §2.3.
""", entry("www.example.com. IN A", rcode="NXDOMAIN", aa=False,
           authority=SOA_COM).replace("REPLY QR NXDOMAIN", "REPLY QR RA NXDOMAIN"))
    lame_pair("iter_reclame_nodata", """
Recursive lame: a NODATA (SOA in authority) with RA set and AA clear is not taken; the other
server answers

Unbound's iter_resptype.c, NOERROR/NODATA with a SOA: "we do our own recursion, thank you":
RA without AA is RESPONSE_TYPE_REC_LAME and the next server is asked (RFC 4697 §2.3).
""", entry("www.example.com. IN A", aa=False,
           authority=SOA_COM).replace("REPLY QR NOERROR", "REPLY QR RA NOERROR"))
    lame_pair("iter_empty_noerror_retried", """
An entirely empty NOERROR (no record in any section, not even the SOA of a NODATA) is not
taken at first: the other server is asked

RFC 2308 §2.2: a NODATA carries the SOA; Unbound's iter_resptype.c: "For entirely empty
messages, try again, at first, then accept it if it happens more"
(EMPTY_NODATA_RETRY_COUNT 2): the reply is thrown away and another server picked.
""", entry("www.example.com. IN A"))
    lame_pair("iter_question_mismatch_ignored", """
A reply whose question is not the query's is no reply to it: it is ignored and the other
server answers

Unbound's scrub.c scrub_message: "if a query is echoed back, make sure it is correct.
Otherwise, this may be not a reply to our query" (the reply fails, the next server is
tried); RFC 5452 §9.1 (the question section must match).
""", entry("other.example.com. IN A", match="opcode",
           answer="other.example.com. 3600 IN A 10.6.6.6"))
    scenario("iter_all_servers_servfail", """
Every server of the zone answers SERVFAIL: the client gets SERVFAIL, not a guess

RFC 1034 §5.3.3 step 4: a server error deletes the server from SLIST; with none left the
resolver has no answer (RFC 1035 §4.1.1 rcode 2, server failure).
""", root_range() + com_range()
        + server(NS1, entry("www.example.com. IN A", match="opcode", rcode="SERVFAIL",
                            aa=False, copy_query=True))
        + server(NS2, entry("www.example.com. IN A", match="opcode", rcode="SERVFAIL",
                            aa=False, copy_query=True)),
        query(10, "www.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_timeout_bad_glue", """
One server's address never answers (timeout): the query is sent to the zone's other server

RFC 1034 §5.3.3 step 4 (a timeout: try the next server of SLIST); RFC 4697 §2.1 (unresponsive
servers); unbound.conf(5) infra-host-ttl: timeouts are remembered per server.
""", root_range() + com_range()
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2"),
                 title="ns2.example.com. (ns1's address 1.2.3.4 has no server)"),
        rtt(1, NS1, NS2) + ask(10, "www.example.com.") + "STEP 11 TIMEOUT\n\n"
        + check(20, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))


def build_glue() -> None:
    glueless = "example.com. 172800 IN NS ns.example.net."
    scenario("iter_glueless_out_of_zone", """
An NS name without glue in another zone is resolved first (example.com. served by
ns.example.net.), then asked

RFC 1034 §5.3.3 step 3 ("... if none of the servers have addresses, start parallel
resolution of the server names"); RFC 1034 §4.3.2 step 3b.
""", root_range() + com_range(ns=glueless) + net_range()
        + example_net(entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.7")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))
    scenario("iter_glue_out_of_zone_scrubbed", """
Out-of-zone glue in a referral (an address for a net. name given by com.'s server) is not
trusted: the name is resolved in its own zone

unbound.conf(5) harden-glue (default yes): "Will trust glue only if it is within the servers
authority"; RFC 2181 §5.4.1 (additional-section data of another zone is the least
trusted); RFC 1034 §4.3.2 (glue is only for names in or below the delegated zone).
""", root_range() + com_range(ns=glueless, glue="ns.example.net. 172800 IN A 6.6.6.6")
        + net_range()
        + example_net(entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.7"))
        + server("6.6.6.6", entry("www.example.com. IN A",
                                  answer="www.example.com. 3600 IN A 10.6.6.6"),
                 title="the spoofed glue address (must not be asked)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))
    scenario("iter_glueless_parent_zone_name", """
A delegation to a name of the parent zone without glue (sub.example.com. NS
ns1.example.com.): its address is asked of the parent's servers

RFC 1034 §4.3.2 / §5.3.3 step 3: the server name is resolved like any other; ns1.example.com.
is not below the cut, so no glue is needed or given.
""", root_range() + com_range()
        + server(NS1, entry("sub.example.com. IN A", match="opcode subdomain", aa=False,
                            copy_query=True,
                            authority="sub.example.com. 86400 IN NS ns3.example.com.")
                 + entry("ns3.example.com. IN A", answer="ns3.example.com. 3600 IN A 1.2.3.7")
                 + nodata("ns3.example.com.", "AAAA", "example.com."),
                 title="ns1.example.com. (and ns2: same data)")
        + server(NS2, entry("sub.example.com. IN A", match="opcode subdomain", aa=False,
                            copy_query=True,
                            authority="sub.example.com. 86400 IN NS ns3.example.com.")
                 + entry("ns3.example.com. IN A", answer="ns3.example.com. 3600 IN A 1.2.3.7")
                 + nodata("ns3.example.com.", "AAAA", "example.com."))
        + server("1.2.3.7", entry("www.sub.example.com. IN A",
                                  answer="www.sub.example.com. 3600 IN A 10.0.0.8"),
                 title="ns3.example.com., server of sub.example.com."),
        query(10, "www.sub.example.com.", answer="www.sub.example.com. IN A 10.0.0.8"))
    same = (root_range() + com_range()
            + both(entry("ns1.example.com. IN A", answer=f"""
ns1.example.com. 3600 IN A {NS1}
ns1.example.com. 3600 IN A 1.2.3.44
""")
                   + entry("www.example.com. IN A",
                           answer="www.example.com. 3600 IN A 10.0.0.2")))
    scenario("iter_glue_not_an_answer", """
Glue is not an answer: after a referral whose glue gave ns1.example.com. one address, a
query for it is asked of the zone, whose authoritative RRset is answered

RFC 2181 §5.4.1: glue ("additional information") ranks below authoritative answer data and
"should not be cached except as needed"; data from the additional section must not be
returned in an answer when authoritative data can be had.
""", same, query(5, "www.example.com.", answer="www.example.com. IN A 10.0.0.2")
        + query(10, "ns1.example.com.", answer=f"""
ns1.example.com. IN A {NS1}
ns1.example.com. IN A 1.2.3.44
"""))
    scenario("iter_ns_answer_from_child", """
A query for a zone's NS RRset is answered with the child's authoritative NS set, not the
parent's referral

RFC 2181 §5.4.1: the zone's own authoritative NS RRset ranks above the parent's (non-
authoritative) delegation; RFC 1034 §4.2.2: the parent's NS copy is not authoritative.
""", root_range() + com_range()
        + server(NS1, entry("example.com. IN NS", answer="""
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
example.com. 3600 IN NS ns3.example.com.
"""))
        + server(NS2, entry("example.com. IN NS", answer="""
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
example.com. 3600 IN NS ns3.example.com.
""")), query(10, "example.com.", "NS", match="opcode qname qtype rcode answer", answer="""
example.com. IN NS ns1.example.com.
example.com. IN NS ns2.example.com.
example.com. IN NS ns3.example.com.
"""))


def both(entries: str) -> str:
    """The same entries on example.com.'s two servers."""
    return server(NS1, entries, title="ns1.example.com.") + server(NS2, entries,
                                                                   title="ns2.example.com.")


def build_cname() -> None:
    scenario("iter_cname_cross_zone", """
A CNAME into another zone is followed there: the answer carries the CNAME and the target's
address

RFC 1034 §4.3.2 step 3c ("if the data is a CNAME ... change QNAME to the canonical name ...
and go back to step 1"), §3.6.2.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 3600 IN CNAME www.example.net."))
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.", answer="""
www.example.com. IN CNAME www.example.net.
www.example.net. IN A 10.0.0.9
"""))
    scenario("iter_cname_loop", """
A CNAME loop across two zones ends in SERVFAIL, the loop is not followed for ever

RFC 1034 §3.6.2: "CNAME chains should be followed and CNAME loops signalled as an error";
RFC 1035 §7.1 (bounded work per query); Unbound: past MAX_RESTART_COUNT restarts SERVFAIL.
""", root_range() + com_range() + net_range()
        + both(entry("a.example.com. IN A",
                     answer="a.example.com. 3600 IN CNAME b.example.net."))
        + example_net(entry("b.example.net. IN A",
                            answer="b.example.net. 3600 IN CNAME a.example.com.")),
        query(10, "a.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_cname_to_nxdomain", """
A CNAME whose target does not exist: rcode NXDOMAIN, the CNAME in the answer, the target
zone's SOA in authority

RFC 6604 §3: the RCODE is that of the last name of the chain; RFC 2308 §2.1 (NXDOMAIN carries
the SOA); RFC 1034 §4.3.2 (the CNAME is included in the answer).
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 3600 IN CNAME gone.example.net."))
        + example_net(entry("gone.example.net. IN A", rcode="NXDOMAIN", authority=SOA_NET)),
        query(10, "www.example.com.", rcode="NXDOMAIN",
              answer="www.example.com. IN CNAME gone.example.net.",
              authority=SOA_NET.replace("3600 IN SOA", "IN SOA")))
    chain = """
a.example.com. 3600 IN CNAME b.example.com.
b.example.com. 3600 IN CNAME c.example.com.
c.example.com. 3600 IN A 10.0.0.3
"""
    scenario("iter_cname_chain_one_reply", """
Two CNAMEs and the final address in one authoritative reply: the answer carries the whole
chain

RFC 1034 §4.3.2 step 3a/3c (a server adds the chain within its zone), §3.6.2 (the resolver
follows the chain); Unbound's scrub.c keeps only the query name's RRsets ("Remainders of
CNAME chains are cut off and resolved by iterator"), so the server is asked for b. and c.
too, and answers them as it would.
""", root_range() + com_range()
        + both(entry("a.example.com. IN A", answer=chain)
               + entry("b.example.com. IN A", answer=chain.split("\n", 2)[2])
               + entry("c.example.com. IN A", answer="c.example.com. 3600 IN A 10.0.0.3")),
        query(10, "a.example.com.", answer=chain.replace(" 3600 IN ", " IN ")))
    scenario("iter_answer_out_of_chain_scrubbed", """
An answer-section record that is not on the query's CNAME chain (an address for a net. name
in example.com.'s reply) is removed, not cached, not answered

Unbound's scrub.c scrub_normalize: answer-section RRsets not on the chain from the query name
are removed; RFC 2181 §5.4.1 (data outside the server's zone is not trusted); the net. name
is then resolved at its own servers.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN A 10.0.0.2
www.example.net. 3600 IN A 10.6.6.6
"""))
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2")
        + query(20, "www.example.net.", answer="www.example.net. IN A 10.0.0.9"))


def build_ttl() -> None:
    first = """
www.example.com. 3600 IN CNAME host.example.com.
host.example.com. 60 IN A 10.0.0.1
"""
    scenario("iter_cname_ttl_independent", """
TTLs count per RRset: when the target's address (TTL 60) has expired, the cached CNAME (TTL
3600) is reused and only the address asked again

RFC 2181 §5.2 (TTLs are per RRset) and §7; RFC 1034 §4.3.2 step 3c with a cached CNAME;
unbound.conf(5): RRsets and messages are cached separately (rrset-cache, msg-cache).
Unbound's scrub.c cuts the chain after the CNAME, so the target is asked for on its own.
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer=first)
               + entry("host.example.com. IN A", answer="host.example.com. 60 IN A 10.0.0.1")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("host.example.com. IN A", answer="host.example.com. 60 IN A 10.0.0.99")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "www.example.com.", match="all ttl", answer=first)
        + "STEP 20 TIME_PASSES ELAPSE 100\n\n" + query(70, "www.example.com.", match="all ttl",
                                                    answer="""
www.example.com. 3500 IN CNAME host.example.com.
host.example.com. 60 IN A 10.0.0.99
"""))
    changing = (root_range() + com_range()
                + both(entry("www.example.com. IN A",
                             answer="www.example.com. {ttl} IN A 10.0.0.1")).replace(
                    "RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
                + both(entry("www.example.com. IN A",
                             answer="www.example.com. {ttl} IN A 10.0.0.99")).replace(
                    "RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"))
    scenario("iter_cache_max_ttl", """
cache-max-ttl caps the TTL of cached data: answered with the cap, asked again once the cap
has passed

unbound.conf(5) cache-max-ttl: "Time to live maximum for RRsets and messages in the cache
... When the TTL expires, the cache item has expired"; the answer's TTL is the capped one.
""", changing.format(ttl=86400), query(10, "www.example.com.", match="all ttl",
                                      answer="www.example.com. 100 IN A 10.0.0.1")
        + "STEP 20 TIME_PASSES ELAPSE 150\n\n"
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 100 IN A 10.0.0.99"),
        server_opts="\tcache-max-ttl: 100\n")
    scenario("iter_cache_min_ttl", """
cache-min-ttl raises a short TTL: the answer is kept (and answered with the raised TTL
counting down) after its own TTL passed

unbound.conf(5) cache-min-ttl: "Time to live minimum for RRsets and messages in the cache.
If the minimum kicks in, the data is cached for longer than the domain owner intended".
""", changing.format(ttl=10), query(10, "www.example.com.", match="all ttl",
                                   answer="www.example.com. 300 IN A 10.0.0.1")
        + "STEP 20 TIME_PASSES ELAPSE 100\n\n"
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 200 IN A 10.0.0.1"),
        server_opts="\tcache-min-ttl: 300\n")
    scenario("iter_ttl_zero_not_cached", """
Data with TTL 0 is answered with TTL 0 and not served from the cache later: the next query
goes upstream

RFC 1035 §3.2.1: "Zero values are interpreted to mean that the RR can only be used for the
transaction in progress, and should not be cached"; RFC 2181 §8.
""", changing.format(ttl=0), query(10, "www.example.com.", match="all ttl",
                                  answer="www.example.com. 0 IN A 10.0.0.1")
        + "STEP 20 TIME_PASSES ELAPSE 2\n\n"
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 0 IN A 10.0.0.99"))
    low_min = SOA_COM.replace(" 300", " 30")
    scenario("iter_negative_ttl_soa_minimum", """
Negative caching lasts min(SOA TTL, SOA MINIMUM): the SOA is answered with TTL 30, and the
name is asked again after 30 seconds

RFC 2308 §5: "the TTL of this record is set from the minimum of the MINIMUM field of the SOA
record and the TTL of the SOA itself"; §3 (the SOA in the negative answer carries it).
""", root_range() + com_range()
        + both(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=low_min)).replace(
            "RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("new.example.com. IN A", answer="new.example.com. 3600 IN A 10.0.0.5")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=low_min.replace("3600 IN SOA", "30 IN SOA"))
        + "STEP 20 TIME_PASSES ELAPSE 40\n\n"
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"))


def build_misc() -> None:
    scenario("iter_tc_retry_tcp", """
A truncated UDP reply (TC) is not used: the query is repeated over TCP and that answer given

RFC 1035 §4.2.1 and RFC 7766 §5 ("the resolver SHOULD ... retry the query over TCP" on TC);
RFC 2181 §9 (a truncated reply is not to be cached).
""", root_range() + com_range()
        + both(entry("big.example.com. IN TXT", match="UDP opcode qtype qname")
               .replace("REPLY QR AA NOERROR", "REPLY QR AA TC NOERROR")
               + entry("big.example.com. IN TXT", match="TCP opcode qtype qname",
                       answer='big.example.com. 3600 IN TXT "over tcp"')),
        query(10, "big.example.com.", "TXT", answer='big.example.com. IN TXT "over tcp"'))
    scenario("iter_qmin_empty_non_terminal", """
QNAME minimisation: a NODATA for an empty non-terminal (b.example.com.) is not a denial of
the names below it; the next label is asked

RFC 9156 §3 (a NOERROR/NODATA answer to a minimised query: add a label and go on); RFC 8020
§2 (only NXDOMAIN denies the subtree); RFC 7719 empty non-terminal.
""", root_range() + com_range()
        + both(entry("b.example.com. IN A", authority=SOA_COM)
               + entry("a.b.example.com. IN A", answer="a.b.example.com. 3600 IN A 10.0.0.4")),
        query(10, "a.b.example.com.", answer="a.b.example.com. IN A 10.0.0.4"), qmin=True)
    scenario("iter_qmin_insecure_nxdomain_full_query", """
QNAME minimisation: an unsigned NXDOMAIN to a minimised query (a broken server's answer for
an empty non-terminal) is not final; the full name is asked

RFC 9156 §2.3 (some servers answer NXDOMAIN for empty non-terminals) and §4; Unbound: "Best
effort qname-minimisation. Stop minimising and send full query when RCODE is not NOERROR",
only a DNSSEC-signed NXDOMAIN stops the resolution (harden-below-nxdomain, RFC 8020).
""", root_range() + com_range()
        + both(entry("b.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)
               + entry("a.b.example.com. IN A", answer="a.b.example.com. 3600 IN A 10.0.0.4")),
        query(10, "a.b.example.com.", answer="a.b.example.com. IN A 10.0.0.4"), qmin=True)
    scenario("iter_class_ch_refused", """
A class CH question (other than the server's own id/version names) cannot be iterated: there
are no root hints for CH, the answer is REFUSED

Unbound's iterator (processInitRequest): priming needs hints for the query's class, "Cannot
prime due to lack of hints" is answered REFUSED; RFC 1034 §4.3.2 (data is per class).
""", root_range() + com_range() + both(entry("www.example.com. IN A",
                                           answer="www.example.com. 3600 IN A 10.0.0.2")),
        ask(10, "www.example.com.", "TXT", klass="CH")
        + check(11, "www.example.com.", "TXT", klass="CH", rcode="REFUSED",
                match="opcode qname qtype rcode"))
    scenario("iter_qtype_any_passed_on", """
qtype ANY is asked of the authoritative server and its records are the answer

RFC 1035 §3.2.3 (QTYPE * "a request for all records"); RFC 8482 §4.1 (a server may answer
with a subset); unbound.conf(5) deny-any (default no): ANY queries are resolved.
""", root_range() + com_range() + both(entry("www.example.com. IN ANY", answer="""
www.example.com. 3600 IN A 10.0.0.2
www.example.com. 3600 IN TXT "any"
""")), query(10, "www.example.com.", "ANY", match="opcode qname qtype rcode answer", answer="""
www.example.com. IN A 10.0.0.2
www.example.com. IN TXT "any"
"""))
    stub_zones = (f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
                  "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n"
                  "\tstub-first: yes\n")
    scenario("iter_stub_first_fallback", """
stub-first: yes: when the stub zone's server fails (SERVFAIL), the name is resolved through
the public delegation instead

unbound.conf(5) stub-first: "If enabled, a query is attempted without the stub clause if it
fails. The data could not be retrieved and would have caused SERVFAIL because the servers
are unreachable, instead it is tried without this clause."
""", root_range() + com_range()
        + server("1.2.3.9", entry("www.example.com. IN A", match="opcode", rcode="SERVFAIL",
                                  aa=False, copy_query=True), title="the stub's server (fails)")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
        zones=stub_zones)
    fwd_stub = (f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
                "forward-zone:\n\tname: \"example.com\"\n\tforward-addr: 1.2.3.20\n\n"
                "stub-zone:\n\tname: \"sub.example.com\"\n\tstub-addr: 1.2.3.21\n")
    scenario("iter_stub_below_forward", """
A stub zone below a forward zone: names in the stub zone go to the stub's server (no RD),
the rest of the forward zone to the forwarder (RD)

unbound.conf(5): the most specific configured zone applies (a stub zone inside a forward
zone is a hole in it, Unbound's forwards_add_stub_hole); forward-zone queries carry RD,
stub-zone queries do not.
""", root_range() + com_range()
        + server("1.2.3.20", entry("www.example.com. IN A", aa=False,
                                   answer="www.example.com. 300 IN A 10.0.0.20")
                 .replace("REPLY QR NOERROR", "REPLY QR RD RA NOERROR"),
                 title="the forwarder of example.com.")
        + server("1.2.3.21", entry("www.sub.example.com. IN A",
                                   answer="www.sub.example.com. 3600 IN A 10.0.0.21"),
                 title="the stub server of sub.example.com."),
        query(10, "www.sub.example.com.", answer="www.sub.example.com. IN A 10.0.0.21")
        + query(20, "www.example.com.", answer="www.example.com. IN A 10.0.0.20"),
        zones=fwd_stub)
    scenario("iter_priming_root_ns", """
The root NS RRset learnt by priming answers a query for it: both servers the root lists

RFC 8109 §3 and §4 (the priming response's NS RRset replaces the hints' view of the root);
RFC 1034 §5.3.3 (answers from the cache).
""", root_range().replace(
            ". 86400 IN NS K.ROOT-SERVERS.NET.",
            ". 86400 IN NS K.ROOT-SERVERS.NET.\n. 86400 IN NS L.ROOT-SERVERS.NET.").replace(
            f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}",
            f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}\nL.ROOT-SERVERS.NET. 86400 IN A {ROOT}"),
        query(10, ".", "NS", match="opcode qname qtype rcode answer", answer="""
. IN NS K.ROOT-SERVERS.NET.
. IN NS L.ROOT-SERVERS.NET.
"""))


# -- second batch (written after the first batch's held-out figure, before any change it
#    prompted; its own split and baseline, docs/TESTBOUND.md "Sixth round") --------------


def build_batch2_servers() -> None:
    lame_aaaa = (root_range() + com_range()
                 + server(NS1, entry("www.example.com. IN A",
                                     answer="www.example.com. 3600 IN A 10.0.0.2")
                          + entry("www.example.com. IN AAAA", aa=False,
                                  authority="com. 172800 IN NS a.gtld-servers.net.",
                                  additional=f"a.gtld-servers.net. 172800 IN A {COM}"),
                          title="ns1.example.com. (lame for AAAA only)")
                 + server(NS2, entry("www.example.com. IN A",
                                     answer="www.example.com. 3600 IN A 10.0.0.2")
                          + entry("www.example.com. IN AAAA",
                                  answer="www.example.com. 3600 IN AAAA 2001:db8::2")))
    scenario("iter_lame_for_aaaa_only", """
A server lame for AAAA queries only (an upward referral) while it answers A: the AAAA
question goes to the zone's other server, the A answer still comes from the first

RFC 4697 §2.3 and §2.5; Unbound's iter_resptype.c (referral upwards: lame); lameness is
per question (Unbound's infra cache keeps "lame" per zone and query type: A-lame apart).
""", lame_aaaa, rtt(1, NS1, NS2) + query(10, "www.example.com.",
                                          answer="www.example.com. IN A 10.0.0.2")
        + query(20, "www.example.com.", "AAAA",
                answer="www.example.com. IN AAAA 2001:db8::2"))
    scenario("iter_all_servers_upward_referral", """
Every server of a zone answers with an upward referral: SERVFAIL, not a loop back to the
parent

RFC 4697 §2.5 (referrals upward must not be followed: they would loop); RFC 1034 §5.3.3
step 4; Unbound marks each such server lame and, with none left, fails.
""", root_range() + com_range() + both(
        entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
              authority=". 86400 IN NS K.ROOT-SERVERS.NET.",
              additional=f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}")),
        query(10, "www.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_tc_over_tcp_next_server", """
A reply truncated over TCP too is no answer: the zone's other server is asked

Unbound's iter_resptype.c: "If the TC flag is set, the response is incomplete. Too large
to fit even in TCP or so. Discard it" (RESPONSE_TYPE_THROWAWAY, the next server); RFC 7766
§5 (TC over TCP is not retried over TCP).
""", root_range() + com_range()
        + server(NS1, entry("www.example.com. IN A").replace(
            "REPLY QR AA NOERROR", "REPLY QR AA TC NOERROR"), title="ns1 (always TC)")
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2")),
        rtt(1, NS1, NS2) + query(10, "www.example.com.",
                                 answer="www.example.com. IN A 10.0.0.2"))
    scenario("iter_formerr_edns_fallback", """
A server that answers FORMERR to a query with EDNS is asked again without EDNS, and that
answer is used

RFC 6891 §7 ("a requestor ... MAY retry the query without EDNS" on FORMERR); RFC 6891
§6.2.2; Unbound's outside_network falls back to plain DNS for such a server.
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", match="opcode qtype qname noedns",
              answer="www.example.com. 3600 IN A 10.0.0.2")
        + entry("www.example.com. IN A", rcode="FORMERR", aa=False)),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    scenario("iter_forwarder_nxdomain_with_ra", """
A forwarder's NXDOMAIN (RA set, AA clear, as every recursive server answers) is the answer:
only an authoritative server is "recursive lame"

Unbound's iter_resptype.c: the REC_LAME test applies only when the query was sent without
RD ("!rdset"); forward-zone queries carry RD (unbound.conf(5) forward-zone); RFC 2308 §2.1.
""", root_range() + com_range()
        + server("1.2.3.20", entry("gone.example.com. IN A", aa=False, rcode="NXDOMAIN",
                                   authority=SOA_COM)
                 .replace("REPLY QR NXDOMAIN", "REPLY QR RD RA NXDOMAIN"),
                 title="the forwarder of example.com."),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "forward-zone:\n\tname: \"example.com\"\n\tforward-addr: 1.2.3.20\n")
    scenario("iter_stub_server_non_authoritative_answer", """
A stub zone's server that answers without AA (a recursive server behind stub-addr): its
positive answer is used

Unbound's iter_resptype.c: an answer whose name and type match is RESPONSE_TYPE_ANSWER
whatever AA and RA say (only NXDOMAIN/NODATA/referrals are tested for recursion);
unbound.conf(5) stub-zone.
""", root_range() + com_range()
        + server("1.2.3.9", entry("www.example.com. IN A", aa=False,
                                  answer="www.example.com. 300 IN A 10.0.0.9")
                 .replace("REPLY QR NOERROR", "REPLY QR RA NOERROR"),
                 title="the stub's server (recursive, answers without AA)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.9"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n")


def build_batch2_delegations() -> None:
    scenario("iter_ds_asked_at_parent", """
A DS question is asked of the parent zone's servers (com.), not of the child's, whose own
answer would be wrong

RFC 4035 §3.1.4.1 and RFC 4034 §5 (the DS RRset lives on the parent side of the cut);
Unbound's iterator: for qtype DS the delegation is looked up from the parent of the name.
""", root_range()
        + com_range(extra=entry("example.com. IN DS", authority=SOA_TLD))
        + both(entry("example.com. IN DS",
                     answer="example.com. 3600 IN DS 12345 8 2 "
                            "0000000000000000000000000000000000000000000000000000000000000000")),
        query(10, "example.com.", "DS", authority=SOA_TLD.replace("com. 900 IN", "com. IN")))
    scenario("iter_ns_cycle_servfail", """
Two zones whose servers are named only in each other (no glue anywhere): the dependency
cycle ends in SERVFAIL

RFC 1034 §5.3.3 (the resolver must bound its work and avoid loops); RFC 1035 §7.2;
Unbound detects the target-query cycle and fails the query.
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns.example.net.")
        + net_range().replace(
            "example.net. 172800 IN NS ns.example.net.\nSECTION ADDITIONAL\n"
            f"ns.example.net. 172800 IN A {NSNET}\n",
            "example.net. 172800 IN NS ns.example.com.\n"),
        query(10, "www.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_glueless_child_names_servfail", """
A delegation whose only server names are inside the child zone, without glue, cannot be
followed: SERVFAIL

RFC 1034 §4.2.1 (glue is required for servers named below the cut) and §5.3.3; without it
the server's address can only be had from the server itself.
""", root_range() + com_range()
        + both(entry("sub.example.com. IN A", match="opcode subdomain", aa=False,
                     copy_query=True,
                     authority="sub.example.com. 86400 IN NS ns.sub.example.com.")),
        query(10, "www.sub.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_one_ns_name_nxdomain", """
Of a zone's two glueless server names, one does not exist (NXDOMAIN): the other is resolved
and asked

RFC 1034 §5.3.3 step 3/4 (a server without an address is dropped from SLIST, the others are
tried); RFC 4697 §2.2 (stale NS names).
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns.gone.net.\n"
                       "example.com. 172800 IN NS ns.example.net.")
        + net_range(extra=entry("ns.gone.net. IN A", match="opcode subdomain",
                                copy_query=True, rcode="NXDOMAIN",
                                authority=SOA_TLD.replace("com. 900", "net. 900"))
                    .replace("SECTION QUESTION\nns.gone.net. IN A",
                             "SECTION QUESTION\ngone.net. IN A"))
        + example_net(entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.7")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))
    scenario("iter_referral_extra_glue_not_an_answer", """
An address in a referral's additional section for a name that is no server of the
delegation is neither glue nor an answer: the name is asked of its zone

RFC 2181 §5.4.1 (additional data is never an answer); Unbound's scrub.c keeps additional
records only for the NS names (and other targets) of the message.
""", root_range() + com_range(glue=f"""
ns1.example.com. 172800 IN A {NS1}
ns2.example.com. 172800 IN A {NS2}
www.example.com. 172800 IN A 10.6.6.6
""".strip(), ns="example.com. 172800 IN NS ns1.example.com.\n"
               "example.com. 172800 IN NS ns2.example.com.")
        + both(entry("a.example.com. IN A", answer="a.example.com. 3600 IN A 10.0.0.1")
               + entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "a.example.com.", answer="a.example.com. IN A 10.0.0.1")
        + query(20, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    scenario("iter_qmin_cname_at_intermediate_label", """
QNAME minimisation: a CNAME at an intermediate label (b.example.com.) is not the answer for
the name below it; the full name is asked and its answer given

RFC 9156 §3 (the minimised question's answer only tells that the label exists); RFC 1034
§3.6.2 (a CNAME's owner has no other data and no children to redirect).
""", root_range() + com_range() + both(
        entry("b.example.com. IN A", answer="b.example.com. 3600 IN CNAME elsewhere.example.com.")
        + entry("a.b.example.com. IN A", answer="a.b.example.com. 3600 IN A 10.0.0.4")
        + entry("elsewhere.example.com. IN A",
                answer="elsewhere.example.com. 3600 IN A 10.6.6.6")),
        query(10, "a.b.example.com.", answer="a.b.example.com. IN A 10.0.0.4"), qmin=True)


def build_batch2_answers() -> None:
    scenario("iter_cname_to_nodata", """
A CNAME whose target has no data of the type: NOERROR, the CNAME in the answer, the target
zone's SOA in authority

RFC 2308 §2.2 (NODATA) and RFC 1034 §4.3.2 step 3c; RFC 6604 §3 (the rcode is the last
name's).
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 3600 IN CNAME host.example.net."))
        + example_net(entry("host.example.net. IN A", authority=SOA_NET)),
        query(10, "www.example.com.", answer="www.example.com. IN CNAME host.example.net.",
              authority=SOA_NET.replace("3600 IN SOA", "IN SOA")))
    scenario("iter_qtype_cname_not_followed", """
A question for the CNAME type itself is answered with the CNAME, which is not followed

RFC 1034 §3.6.2 ("if the query is for the CNAME ... the CNAME RR is returned") and §4.3.2
step 3a.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN CNAME",
                     answer="www.example.com. 3600 IN CNAME host.example.net.")),
        query(10, "www.example.com.", "CNAME",
              answer="www.example.com. IN CNAME host.example.net."))
    scenario("iter_ttl_counts_down_in_cache", """
A cached answer is served with its TTL counted down, without asking again

RFC 1035 §3.2.1 and RFC 1034 §4.3.2 step 2 (answers from the cache); RFC 2181 §8.
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50"),
        query(10, "www.example.com.", match="all ttl",
              answer="www.example.com. 3600 IN A 10.0.0.2")
        + "STEP 20 TIME_PASSES ELAPSE 100\n\n"
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 3500 IN A 10.0.0.2"))
    scenario("iter_nxdomain_served_from_cache", """
A cached NXDOMAIN is answered from the cache while its negative TTL runs, even when the name
has appeared upstream since

RFC 2308 §5 ("negative responses ... cached"), §3 (the SOA in the answer, its TTL counted
down from min(SOA TTL, MINIMUM)).
""", root_range() + com_range()
        + both(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)).replace(
            "RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("new.example.com. IN A", answer="new.example.com. 3600 IN A 10.0.0.5")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=SOA_COM.replace("3600 IN SOA", "300 IN SOA"))
        + "STEP 20 TIME_PASSES ELAPSE 100\n\n"
        + query(70, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
                authority=SOA_COM.replace("3600 IN SOA", "200 IN SOA")))
    scenario("iter_nodata_is_per_type", """
A cached NODATA for one type (AAAA) does not deny another type of the same name (A)

RFC 2308 §5: NODATA is cached per name and type ("the negative answer ... for that QTYPE").
""", root_range() + com_range() + both(
        entry("www.example.com. IN AAAA", authority=SOA_COM)
        + entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", "AAAA",
              authority=SOA_COM.replace("3600 IN SOA", "IN SOA"))
        + query(20, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    scenario("iter_ttl_high_bit_is_zero", """
A TTL with its most significant bit set is read as zero: answered with TTL 0

RFC 2181 §8: "implementations should treat TTL values received with the most significant
bit set as if the entire value received was zero"; Unbound's msgreply.c rdata_copy does.
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="www.example.com. 2147483649 IN A 10.0.0.2")),
        query(10, "www.example.com.", match="all ttl",
              answer="www.example.com. 0 IN A 10.0.0.2"))
    scenario("iter_default_cache_max_ttl", """
Without cache-max-ttl, Unbound's default (86400 s) caps a longer TTL: a week's TTL is
answered as one day

unbound.conf(5) cache-max-ttl: "Time to live maximum for RRsets and messages in the cache.
Default is 86400 seconds (1 day)."
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="www.example.com. 604800 IN A 10.0.0.2")),
        query(10, "www.example.com.", match="all ttl",
              answer="www.example.com. 86400 IN A 10.0.0.2"))
    big_soa = SOA_COM.replace("3600 IN SOA", "86400 IN SOA").replace(" 300", " 86400")
    scenario("iter_default_cache_max_negative_ttl", """
Without cache-max-negative-ttl, Unbound's default (3600 s) caps a negative answer's TTL:
the SOA of an NXDOMAIN with TTL and MINIMUM one day is answered with TTL 3600

unbound.conf(5) cache-max-negative-ttl: "Time to live maximum for negative responses ...
Default is 3600 seconds"; RFC 2308 §5 (TTL of the negative answer).
""", root_range() + com_range() + both(
        entry("gone.example.com. IN A", rcode="NXDOMAIN", authority=big_soa)),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=big_soa.replace("86400 IN SOA", "3600 IN SOA")))


# -- third batch (written after the second batch's figures) --------------------------------


def build_batch3() -> None:
    scenario("iter_referral_with_aa_followed", """
A referral that carries the AA bit (NS of a child zone in authority, no answer) is still a
referral and is followed

Unbound's iter_resptype.c: an NS set below the zone asked is RESPONSE_TYPE_REFERRAL ("True,
referrals should not have the AA bit set, but..."; the AA case is not an answer); RFC 1034
§4.3.2 step 3b.
""", root_range() + com_range().replace("REPLY QR NOERROR", "REPLY QR AA NOERROR")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    child_ns = """
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
example.com. 3600 IN NS ns3.example.com.
"""
    scenario("iter_ns_in_answer_without_aa_is_a_referral", """
A parent that answers an NS question for its child with the NS RRset in the answer section
but without AA gives a referral: the child is asked, and its authoritative NS RRset is the
answer

Unbound's iter_resptype.c: "if the answer section has NS rrset, and qtype ANY and the
delegation is lower ... this is a referral where the NS went to AN section" (without AA:
RESPONSE_TYPE_REFERRAL); RFC 2181 §5.4.1.
""", root_range()
        + com_range(extra=entry("example.com. IN NS", aa=False, answer="""
example.com. 172800 IN NS ns1.example.com.
example.com. 172800 IN NS ns2.example.com.
""", additional=f"ns1.example.com. 172800 IN A {NS1}\nns2.example.com. 172800 IN A {NS2}"))
        + both(entry("example.com. IN NS", answer=child_ns)),
        query(10, "example.com.", "NS", match="opcode qname qtype rcode answer",
              answer=child_ns.replace(" 3600 IN ", " IN ")))
    scenario("iter_nodata_with_ns_and_aa", """
An authoritative NOERROR without answer whose authority section holds the zone's own NS
RRset (no SOA) is a NODATA, not a referral to the same servers

Unbound's iter_resptype.c: an NS set for the zone asked is an answer unless it looks
recursive (RA without AA) or lame (no AA); RFC 2308 §2.2 (NODATA type 2/3 shapes).
""", root_range() + com_range() + both(entry("www.example.com. IN TXT", authority="""
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
""")), query(10, "www.example.com.", "TXT", match="opcode qname qtype rcode answer"))
    scenario("iter_cname_nxdomain_same_zone", """
A CNAME and an NXDOMAIN rcode in one reply of the same zone: NXDOMAIN, the CNAME in the
answer, the zone's SOA in authority

RFC 6604 §2.1 and §3 (the rcode is the last name's; the CNAME is kept); Unbound cuts the
chain after the CNAME and asks for its target too.
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", rcode="NXDOMAIN",
              answer="www.example.com. 3600 IN CNAME gone.example.com.", authority=SOA_COM)
        + entry("gone.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)),
        query(10, "www.example.com.", rcode="NXDOMAIN",
              answer="www.example.com. IN CNAME gone.example.com.",
              authority=SOA_COM.replace("3600 IN SOA", "IN SOA")))
    scenario("iter_ds_for_a_name_inside_a_zone", """
A DS question for a name that is no zone cut (www.example.com.) is answered by the zone that
holds the name: NODATA with that zone's SOA

RFC 4035 §3.1.4.1 (DS is asked of the parent side; the parent of a name inside example.com.
is example.com. itself); RFC 2308 §2.2.
""", root_range() + com_range() + both(entry("www.example.com. IN DS", authority=SOA_COM)),
        query(10, "www.example.com.", "DS", authority=SOA_COM.replace("3600 IN SOA", "IN SOA")))
    scenario("iter_unknown_qtype_passed_on", """
A question of a type the resolver does not know (TYPE65280) is resolved like any other and
its opaque data answered

RFC 3597 §2 and §5 ("queries for unknown RR types ... must be handled as any other"); RFC
1034 §4.3.2.
""", root_range() + com_range() + both(
        entry("www.example.com. IN TYPE65280",
              answer="www.example.com. 3600 IN TYPE65280 \\# 4 0a000001")),
        query(10, "www.example.com.", "TYPE65280",
              answer="www.example.com. IN TYPE65280 \\# 4 0a000001"))
    scenario("iter_forward_first_fallback", """
forward-first: yes: when the forwarder fails (SERVFAIL), the name is resolved from the
public delegation instead

unbound.conf(5) forward-first: "If a forwarded query is met with a SERVFAIL error, and this
option is enabled, unbound will fall back to normal recursive resolution for this query as
if no query forwarding had been specified."
""", root_range() + com_range()
        + server("1.2.3.20", entry("www.example.com. IN A", match="opcode", rcode="SERVFAIL",
                                   aa=False, copy_query=True), title="the forwarder (fails)")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "forward-zone:\n\tname: \"example.com\"\n\tforward-addr: 1.2.3.20\n"
              "\tforward-first: yes\n")
    scenario("iter_aa_with_ra_nxdomain_is_final", """
An NXDOMAIN with both AA and RA set is authoritative: it is the answer, the zone's other
server is not asked

Unbound's iter_resptype.c: only "RA and not AA" is recursive lame; an authoritative
NXDOMAIN ends the lookup (RFC 2308 §2.1; RFC 1034 §4.3.2 step 3a).
""", two_servers(entry("www.example.com. IN A", rcode="NXDOMAIN", authority=SOA_COM)
                  .replace("REPLY QR AA NXDOMAIN", "REPLY QR AA RA NXDOMAIN")),
        rtt(1, NS1, NS2) + query(10, "www.example.com.", rcode="NXDOMAIN",
                                 match="opcode qname qtype rcode answer"))


# -- fourth batch (written after the third batch's figures) ---------------------------------


def chain_entries(prefix: str, hops: int) -> str:
    """``prefix``0 .. ``prefix``(hops-1) are CNAMEs to the next name, the last one has an
    address; each name answered on its own, as a server answers."""
    out = ""
    for i in range(hops):
        out += entry(f"{prefix}{i}.example.com. IN A",
                     answer=f"{prefix}{i}.example.com. 3600 IN CNAME {prefix}{i + 1}.example.com.")
    return out + entry(f"{prefix}{hops}.example.com. IN A",
                       answer=f"{prefix}{hops}.example.com. 3600 IN A 10.0.0.{hops}")


def chain_answer(prefix: str, hops: int) -> str:
    lines = [f"{prefix}{i}.example.com. IN CNAME {prefix}{i + 1}.example.com."
             for i in range(hops)]
    return "\n".join([*lines, f"{prefix}{hops}.example.com. IN A 10.0.0.{hops}"])


def build_batch4() -> None:
    scenario("iter_cname_chain_at_the_restart_limit", """
A chain of 11 CNAMEs (Unbound's default max-query-restarts) is followed to its end

unbound.conf(5) max-query-restarts: "Set the maximum number of times a query is allowed to
restart upon encountering a CNAME record. If a query encounters more than the specified
number of CNAME records before resolving, Unbound will reply with SERVFAIL. Default is 11."
""", root_range() + com_range() + both(chain_entries("h", 11)),
        query(10, "h0.example.com.", answer=chain_answer("h", 11)))
    scenario("iter_cname_chain_over_the_restart_limit", """
A chain of 12 CNAMEs, one more than Unbound's default max-query-restarts (11): SERVFAIL

unbound.conf(5) max-query-restarts: "If a query encounters more than the specified number
of CNAME records before resolving, Unbound will reply with SERVFAIL. Default is 11."
""", root_range() + com_range() + both(chain_entries("k", 12)),
        query(10, "k0.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_max_query_restarts_option", """
max-query-restarts: 3: a chain of three CNAMEs is followed, a chain of four is SERVFAIL

unbound.conf(5) max-query-restarts (see iter_cname_chain_over_the_restart_limit).
""", root_range() + com_range() + both(chain_entries("t", 3) + chain_entries("f", 4)),
        query(10, "t0.example.com.", answer=chain_answer("t", 3))
        + query(20, "f0.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"),
        server_opts="\tmax-query-restarts: 3\n")
    scenario("iter_cname_to_itself", """
A CNAME that points to its own owner is a loop: SERVFAIL

RFC 1034 §3.6.2 ("CNAME loops signalled as an error"); RFC 2181 §10.1 (an alias has one
canonical name, never itself).
""", root_range() + com_range() + both(
        entry("self.example.com. IN A",
              answer="self.example.com. 3600 IN CNAME self.example.com.")),
        query(10, "self.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    lame_pair("iter_lame_sideways_referral", """
Lame server: a referral sideways (to a zone that is neither above nor below the name, another
TLD's zone) is not followed; the other server is asked

RFC 4697 §2.5 (a server that refers elsewhere for a zone it should serve is lame); Unbound's
iter_resptype.c ("Otherwise, the NS set is irrelevant") and scrub.c (out-of-zone NS RRsets
are removed, the empty reply is not taken).
""", entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
           authority="example.org. 172800 IN NS ns.example.org.",
           additional="ns.example.org. 172800 IN A 1.2.3.66"))
    remembered = (root_range() + com_range()
                  + server(NS1, entry("example.com. IN A", match="opcode subdomain", aa=False,
                                      copy_query=True,
                                      authority="com. 172800 IN NS a.gtld-servers.net.",
                                      additional=f"a.gtld-servers.net. 172800 IN A {COM}"),
                           last=15, title="ns1.example.com. (lame; not asked after step 15)")
                  + server(NS2, entry("a.example.com. IN A",
                                      answer="a.example.com. 3600 IN A 10.0.0.1")
                           + entry("b.example.com. IN A",
                                   answer="b.example.com. 3600 IN A 10.0.0.2")))
    scenario("iter_lame_server_remembered", """
A server found lame (an upward referral) is remembered: the next question for the zone goes
to the other server, although the lame one is faster

RFC 4697 §2.3 ("resolvers ... should cache the lameness" and not keep asking); unbound.conf(5)
infra-host-ttl (lameness is kept in the infrastructure cache, 900 s by default).
""", remembered, rtt(1, NS1, NS2) + query(10, "a.example.com.",
                                          answer="a.example.com. IN A 10.0.0.1")
        + query(20, "b.example.com.", answer="b.example.com. IN A 10.0.0.2"))
    scenario("iter_nxdomain_with_parent_soa", """
An authoritative NXDOMAIN whose SOA is the parent zone's (com., out of the server's zone) is
still NXDOMAIN; the foreign SOA is not the answer's

RFC 2308 §2.1 (NXDOMAIN) and RFC 2181 §5.4.1 (data of another zone is not trusted); Unbound's
scrub.c removes RRsets outside the server's zone, the rcode stands.
""", root_range() + com_range() + both(
        entry("gone.example.com. IN A", rcode="NXDOMAIN", authority=SOA_TLD)),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode answer"))


# -- fifth batch (written after the fourth batch's figures) --------------------------------


def build_batch5() -> None:
    scenario("iter_forward_below_stub", """
A forward zone below a stub zone: names in the forward zone go to the forwarder (with RD),
the rest of the stub zone to the stub's server

unbound.conf(5) forward-zone / stub-zone: the most specific configured zone applies (Unbound
looks the forward zones up first, the deepest match wins; a stub above does not hide it).
""", root_range() + com_range()
        + server("1.2.3.9", entry("www.example.com. IN A",
                                  answer="www.example.com. 3600 IN A 10.0.0.9"),
                 title="the stub server of example.com.")
        + server("1.2.3.20", entry("www.sub.example.com. IN A", aa=False,
                                   answer="www.sub.example.com. 300 IN A 10.0.0.20")
                 .replace("REPLY QR NOERROR", "REPLY QR RD RA NOERROR"),
                 title="the forwarder of sub.example.com."),
        query(10, "www.sub.example.com.", answer="www.sub.example.com. IN A 10.0.0.20")
        + query(20, "www.example.com.", answer="www.example.com. IN A 10.0.0.9"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n\n"
              "forward-zone:\n\tname: \"sub.example.com\"\n\tforward-addr: 1.2.3.20\n")
    scenario("iter_stub_zone_without_the_root", """
A stub zone's names are resolved at its server even when the root hints never answer:
nothing of the root is needed for them

unbound.conf(5) stub-zone ("the stub zone's nameservers are used for queries below it");
Unbound's iterator: "if there is a stub, then no root prime needed" (processInitRequest).
""", server("1.2.3.9", entry("www.example.com. IN A",
                               answer="www.example.com. 3600 IN A 10.0.0.9"),
            title="the stub server of example.com. (the root hint has no server at all)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.9"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n")
    v6 = "2001:db8::53"
    scenario("iter_do_ip6_no_skips_v6_glue", """
do-ip6: no: a server with only an IPv6 address (AAAA glue) is never asked; the zone's server
with an IPv4 address answers

unbound.conf(5) do-ip6: "Enable or disable whether ip6 queries are answered or issued";
with it off no upstream query goes to an IPv6 address.
""", root_range()
        + com_range(glue=f"ns1.example.com. 172800 IN AAAA {v6}\n"
                         f"ns2.example.com. 172800 IN A {NS2}")
        + server(v6, entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.6.6.6"),
                 title="ns1.example.com. over IPv6 (must not be asked)")
        + server(NS2, entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")
                 + entry("ns1.example.com. IN A", authority=SOA_COM)),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
        server_opts="\tdo-ip6: no\n")
    scenario("iter_harden_glue_no_takes_out_of_zone_glue", """
harden-glue: no: out-of-zone glue in a referral (com.'s address for a net. name) is used,
as unbound.conf(5) allows when the option is off

unbound.conf(5) harden-glue: "Will trust glue only if it is within the servers authority";
off, Unbound's scrub.c stores such addresses ("storing potential poison RRset") and uses
them from the cache for the delegation.
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns.example.net.",
                    glue="ns.example.net. 172800 IN A 1.2.3.66")
        + net_range() + example_net(entry("www.example.com. IN A",
                                          answer="www.example.com. 3600 IN A 10.0.0.7"))
        + server("1.2.3.66", entry("www.example.com. IN A",
                                   answer="www.example.com. 3600 IN A 10.0.0.66"),
                 title="the out-of-zone glue's address"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.66"),
        server_opts="\tharden-glue: no\n")


# -- sixth batch (written after the fifth batch's figures) ---------------------------------


def build_batch6() -> None:
    low_min = SOA_COM.replace(" 300", " 30")
    scenario("iter_cache_min_ttl_raises_negative", """
cache-min-ttl raises a negative answer's TTL too: an NXDOMAIN whose SOA gives 30 s is kept
(and its SOA answered) for the minimum, 300 s

unbound.conf(5) cache-min-ttl ("Time to live minimum for RRsets and messages in the
cache"; cache-min-negative-ttl: "If this is disabled and cache-min-ttl is configured, it
will take effect instead"); RFC 2308 §5 gives the 30 s, the minimum raises it.
""", root_range() + com_range()
        + both(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=low_min)).replace(
            "RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("new.example.com. IN A", answer="new.example.com. 3600 IN A 10.0.0.5")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=low_min.replace("3600 IN SOA", "300 IN SOA"))
        + "STEP 20 TIME_PASSES ELAPSE 100\n\n"
        + query(70, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
                authority=low_min.replace("3600 IN SOA", "200 IN SOA")),
        server_opts="\tcache-min-ttl: 300\n")
    scenario("iter_cache_min_ttl_raises_zero", """
cache-min-ttl applies to TTL 0 too: such an answer is kept for the minimum and served from
the cache with it

unbound.conf(5) cache-min-ttl: "If the minimum kicks in, the data is cached for longer than
the domain owner intended, and thus less queries are made to look up the data."
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer="www.example.com. 0 IN A 10.0.0.1")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("www.example.com. IN A", answer="www.example.com. 0 IN A 10.0.0.99")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "www.example.com.", match="all ttl",
              answer="www.example.com. 60 IN A 10.0.0.1")
        + "STEP 20 TIME_PASSES ELAPSE 20\n\n"
        + query(70, "www.example.com.", match="all ttl",
                answer="www.example.com. 40 IN A 10.0.0.1"),
        server_opts="\tcache-min-ttl: 60\n")
    scenario("iter_cname_into_failing_zone", """
A CNAME into a zone whose every server refuses: SERVFAIL for the client, the chain's
failure is the answer's

RFC 1034 §5.3.3 step 4 (no server left); RFC 6604 §3 (the rcode of a chain is its last
name's; a failure there fails the answer).
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 3600 IN CNAME www.example.net."))
        + server(NSNET, entry("www.example.net. IN A", match="opcode", rcode="REFUSED",
                              aa=False, copy_query=True), title="ns.example.net. (refuses)"),
        query(10, "www.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_localhost_glue_not_asked", """
A server whose glue is a loopback address (127.0.0.53) is never asked (do-not-query-localhost
is on by default); the zone's other server answers

unbound.conf(5) do-not-query-localhost: "If yes, localhost is added to the
do-not-query-address entries, both IP6 ::1 and IP4 127.0.0.1/8 ... Default is yes."
""", root_range()
        + com_range(glue=f"ns1.example.com. 172800 IN A 127.0.0.53\n"
                         f"ns2.example.com. 172800 IN A {NS2}")
        + server("127.0.0.53", entry("www.example.com. IN A",
                                     answer="www.example.com. 3600 IN A 10.6.6.6"),
                 title="ns1.example.com. on loopback (must not be asked)")
        + server(NS2, entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))


# -- seventh batch (written after the sixth batch's figures) -------------------------------


def build_batch7() -> None:
    low_min = SOA_COM.replace(" 300", " 30")
    scenario("iter_cache_min_negative_ttl", """
cache-min-negative-ttl raises negative answers' TTLs, in place of cache-min-ttl, which still
raises positive ones

unbound.conf(5) cache-min-negative-ttl: "Time to live minimum for negative responses ... If
this is disabled and cache-min-ttl is configured, it will take effect instead ... This
applies to NXDOMAIN and NODATA answers."
""", root_range() + com_range() + both(
        entry("new.example.com. IN A", rcode="NXDOMAIN", authority=low_min)
        + entry("www.example.com. IN A", answer="www.example.com. 10 IN A 10.0.0.2")),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl",
              authority=low_min.replace("3600 IN SOA", "120 IN SOA"))
        + query(20, "www.example.com.", match="all ttl",
                answer="www.example.com. 300 IN A 10.0.0.2"),
        server_opts="\tcache-min-ttl: 300\n\tcache-min-negative-ttl: 120\n")


# -- eighth batch (written after the seventh batch's figures) ------------------------------


def build_batch8() -> None:
    public = both(entry("gone.example.com. IN A", answer="gone.example.com. 3600 IN A 10.6.6.6"))
    scenario("iter_stub_first_nxdomain_is_final", """
stub-first: yes falls back only when the stub fails: an NXDOMAIN from the stub's server is
the answer, the public delegation is not asked

unbound.conf(5) stub-first: "If enabled, a query is attempted without the stub clause if it
fails" (fails: "would have caused SERVFAIL because the servers are unreachable"); an
NXDOMAIN is an answer (RFC 2308 §2.1).
""", root_range() + com_range() + public
        + server("1.2.3.9", entry("gone.example.com. IN A", rcode="NXDOMAIN",
                                  authority=SOA_COM), title="the stub's server"),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode answer"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n"
              "\tstub-first: yes\n")
    scenario("iter_forward_first_nxdomain_is_final", """
forward-first: yes falls back only on SERVFAIL: the forwarder's NXDOMAIN is the answer, the
public delegation is not asked

unbound.conf(5) forward-first: "If a forwarded query is met with a SERVFAIL error, and this
option is enabled, unbound will fall back to normal recursive resolution".
""", root_range() + com_range() + public
        + server("1.2.3.20", entry("gone.example.com. IN A", aa=False, rcode="NXDOMAIN",
                                   authority=SOA_COM)
                 .replace("REPLY QR NXDOMAIN", "REPLY QR RD RA NXDOMAIN"),
                 title="the forwarder"),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode answer"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n\n"
              "forward-zone:\n\tname: \"example.com\"\n\tforward-addr: 1.2.3.20\n"
              "\tforward-first: yes\n")
    scenario("iter_nodata_type1_without_aa", """
A NODATA with the zone's SOA and NS in authority (RFC 2308 §2.2 type 1) is a NODATA even
without AA (and without RA): the empty answer, not SERVFAIL

RFC 2308 §2.2 (NO DATA RESPONSE: TYPE 1, "the authority section will contain an SOA record,
or there will be no NS records there"); Unbound's iter_resptype.c looks for the SOA first:
"that means a NOERROR/NODATA" unless RA is set without AA.
""", root_range() + com_range() + both(
        entry("www.example.com. IN TXT", aa=False, authority=f"""
{SOA_COM}
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
""")), query(10, "www.example.com.", "TXT", match="opcode qname qtype rcode answer"))
    scenario("iter_nxdomain_without_soa", """
An authoritative NXDOMAIN without an SOA is still NXDOMAIN for the client

RFC 1035 §4.1.1 (rcode 3, name error: "the domain name referenced in the query does not
exist"); RFC 2308 §5 (without an SOA it is not cached, not less of an answer); Unbound's
iter_resptype.c: "If the message is NXDOMAIN, then it answers the question."
""", root_range() + com_range() + both(entry("gone.example.com. IN A", rcode="NXDOMAIN")),
        query(10, "gone.example.com.", rcode="NXDOMAIN", match="opcode qname qtype rcode answer"))


# -- ninth batch (written after the eighth batch's figures) --------------------------------


def build_batch9() -> None:
    scenario("iter_referral_ttl_zero_still_followed", """
A referral whose NS RRset and glue have TTL 0 is still followed for the query in progress

RFC 1035 §3.2.1: TTL zero means the RR "can only be used for the transaction in progress,
and should not be cached" (used, then, for this transaction); RFC 2181 §8.
""", root_range()
        + com_range(ns="example.com. 0 IN NS ns1.example.com.\n"
                       "example.com. 0 IN NS ns2.example.com.",
                    glue=f"ns1.example.com. 0 IN A {NS1}\nns2.example.com. 0 IN A {NS2}")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))
    scenario("iter_cname_ttl_zero_followed", """
A CNAME with TTL 0 is followed and answered with TTL 0 beside its target's address

RFC 1035 §3.2.1 (TTL 0: used for the transaction in progress); RFC 1034 §4.3.2 step 3c.
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 0 IN CNAME www.example.net."))
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.", match="all ttl", answer="""
www.example.com. 0 IN CNAME www.example.net.
www.example.net. 3600 IN A 10.0.0.9
"""))
    scenario("iter_qtype_any_on_an_alias", """
qtype ANY for a name that is an alias: the CNAME is the answer and is not followed

RFC 1034 §3.6.2 (a CNAME owner has no other data; ANY returns what the name has); Unbound's
iter_resptype.c: "not a referral, and qtype any, thus an answer".
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN ANY",
                     answer="www.example.com. 3600 IN CNAME www.example.net.")),
        query(10, "www.example.com.", "ANY", match="opcode qname qtype rcode answer",
              answer="www.example.com. IN CNAME www.example.net."))
    scenario("iter_answer_owner_case_differs", """
An answer whose owner name is spelt in another case than the question is the answer:
names compare without regard to case

RFC 1034 §3.1 ("name servers and resolvers must compare them in a case-insensitive
manner"); RFC 4343 §3.
""", root_range() + com_range()
        + both(entry("www.example.com. IN A", answer="WWW.Example.COM. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"))


# -- tenth batch (written after the ninth batch's figures) ---------------------------------


def build_batch10() -> None:
    zero_soa = SOA_COM.replace("3600 IN SOA", "0 IN SOA")
    scenario("iter_negative_ttl_zero_not_cached", """
A negative answer whose SOA has TTL 0 is answered with TTL 0 and not cached: asked again,
the name is looked up anew

RFC 2308 §5 (the negative TTL is min(SOA TTL, MINIMUM), here 0) and RFC 1035 §3.2.1 (TTL 0
is not cached).
""", root_range() + com_range()
        + both(entry("new.example.com. IN A", rcode="NXDOMAIN", authority=zero_soa)).replace(
            "RANGE_BEGIN 0 1000", "RANGE_BEGIN 0 50")
        + both(entry("new.example.com. IN A", answer="new.example.com. 3600 IN A 10.0.0.5")
               ).replace("RANGE_BEGIN 0 1000", "RANGE_BEGIN 60 1000"),
        query(10, "new.example.com.", rcode="NXDOMAIN", match="all ttl", authority=zero_soa)
        + "STEP 20 TIME_PASSES ELAPSE 2\n\n"
        + query(70, "new.example.com.", answer="new.example.com. IN A 10.0.0.5"))
    scenario("iter_glueless_ns_address_ttl_zero", """
A glueless nameserver whose address comes with TTL 0 is still asked for the query in
progress

RFC 1035 §3.2.1 (TTL 0: used for the transaction in progress); RFC 1034 §5.3.3 step 3 (the
server name is resolved, then the server asked).
""", root_range() + com_range(ns="example.com. 172800 IN NS ns.example.net.") + net_range()
        + server(NSNET, entry("ns.example.net. IN A", answer=f"ns.example.net. 0 IN A {NSNET}")
                 + nodata("ns.example.net.", "AAAA", "example.net.")
                 + entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.7"),
                 title="ns.example.net."),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))
    scenario("iter_qmin_referrals_ttl_zero", """
QNAME minimisation through referrals whose NS RRsets and glue have TTL 0: each is used for
the query in progress and the name is found

RFC 9156 §3 (the minimised walk follows each referral) and RFC 1035 §3.2.1 (TTL 0 data is
used for the transaction in progress).
""", root_range().replace("com. 172800 IN NS", "com. 0 IN NS").replace(
            f"a.gtld-servers.net. 172800 IN A {COM}", f"a.gtld-servers.net. 0 IN A {COM}")
        + com_range(ns="example.com. 0 IN NS ns1.example.com.\n"
                       "example.com. 0 IN NS ns2.example.com.",
                    glue=f"ns1.example.com. 0 IN A {NS1}\nns2.example.com. 0 IN A {NS2}")
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"), qmin=True)


# -- twelfth batch (written after the eleventh batch's figures) ----------------------------


def build_batch12() -> None:
    scenario("iter_qmin_soa_at_zone_apex", """
QNAME minimisation, a question for a zone's SOA: the zone's own servers are reached and
their authoritative SOA is the answer

RFC 9156 §3 (minimised walk to the zone, then the full question); RFC 1034 §4.3.2 (the
apex data is the zone's, not its parent's).
""", root_range() + com_range() + both(
        entry("example.com. IN SOA", answer=SOA_COM)
        + entry("example.com. IN A", authority=SOA_COM)),
        query(10, "example.com.", "SOA", match="opcode qname qtype rcode answer",
              answer=SOA_COM.replace("3600 IN SOA", "IN SOA")), qmin=True)
    scenario("iter_ns_question_below_a_cut", """
An NS question for a name that is no zone cut (www.example.com.) is a NODATA from the zone
that holds the name

RFC 1034 §4.3.2 step 3a; RFC 2308 §2.2 (NODATA with the zone's SOA).
""", root_range() + com_range() + both(entry("www.example.com. IN NS", authority=SOA_COM)),
        query(10, "www.example.com.", "NS", authority=SOA_COM.replace("3600 IN SOA", "IN SOA")))
    scenario("iter_qmin_aaaa_full_name", """
QNAME minimisation with a question for AAAA: the full name's AAAA is the answer (asked after
whatever probes the resolver makes with its minimising type)

RFC 9156 §3 ("the full QNAME and the original QTYPE" at the end); Unbound also asks the full
name with qtype A first (processQueryTargets), which the server answers.
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")
        + entry("www.example.com. IN AAAA", answer="www.example.com. 3600 IN AAAA 2001:db8::2")),
        query(10, "www.example.com.", "AAAA", answer="www.example.com. IN AAAA 2001:db8::2"),
        qmin=True)
    scenario("iter_snoop_cached_cname_chain", """
access-control allow_snoop: a question without RD whose CNAME chain is all cached is
answered from the cache, the whole chain

unbound.conf(5) access-control allow_snoop ("nonrecursive queries ... answered from the
cache"); RFC 1034 §4.3.1 (a server answers from its data without recursion).
""", root_range() + com_range() + net_range()
        + both(entry("www.example.com. IN A",
                     answer="www.example.com. 3600 IN CNAME www.example.net."))
        + example_net(entry("www.example.net. IN A",
                            answer="www.example.net. 3600 IN A 10.0.0.9")),
        query(10, "www.example.com.", answer="""
www.example.com. IN CNAME www.example.net.
www.example.net. IN A 10.0.0.9
""") + ask(20, "www.example.com.", rd=False)
        + check(21, "www.example.com.", flags="QR RA", answer="""
www.example.com. IN CNAME www.example.net.
www.example.net. IN A 10.0.0.9
"""), server_opts="\taccess-control: 127.0.0.1 allow_snoop\n")


# -- thirteenth batch (written after the twelfth batch's figures) --------------------------


def build_batch13() -> None:
    scenario("iter_nonauth_answer_with_referral", """
A parent's non-authoritative reply that carries an address for the name and, in authority,
the delegation of the child zone is a referral: the child's authoritative answer is used

Unbound's iter_resptype.c: a non-AA answer is only "provisionally" an answer ("it very well
could be a REFERRAL"); an NS set below the zone asked makes it RESPONSE_TYPE_REFERRAL; RFC
2181 §5.4.1 (a non-authoritative answer ranks below the zone's own).  With
iter-scrub-promiscuous: no (with yes, Unbound 1.24.1's default, the scrubber removes the NS
set from a reply with an answer first, and the answer stands).
""", root_range()
        + com_range(extra=entry("www.example.com. IN A", aa=False,
                                answer="www.example.com. 3600 IN A 10.6.6.6", authority="""
example.com. 172800 IN NS ns1.example.com.
example.com. 172800 IN NS ns2.example.com.
""", additional=f"ns1.example.com. 172800 IN A {NS1}\nns2.example.com. 172800 IN A {NS2}"))
        + both(entry("www.example.com. IN A", answer="www.example.com. 3600 IN A 10.0.0.2")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2"),
        server_opts="\titer-scrub-promiscuous: no\n")
    scenario("iter_lame_glued_server_then_glueless", """
The only server with glue refuses: the zone's glueless server name is resolved and asked

RFC 1034 §5.3.3 steps 3 and 4 (SLIST holds every server; those without addresses are
resolved when the others fail); RFC 4697 §2.3.
""", root_range()
        + com_range(ns="example.com. 172800 IN NS ns1.example.com.\n"
                       "example.com. 172800 IN NS ns.example.net.",
                    glue=f"ns1.example.com. 172800 IN A {NS1}")
        + net_range()
        + server(NS1, entry("www.example.com. IN A", match="opcode", rcode="REFUSED",
                            aa=False, copy_query=True), title="ns1.example.com. (refuses)")
        + example_net(entry("www.example.com. IN A",
                            answer="www.example.com. 3600 IN A 10.0.0.7")),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.7"))


# -- fourteenth batch (written after the thirteenth batch's figures) -----------------------


def build_batch14() -> None:
    scenario("iter_answer_other_type_not_cached", """
An answer that carries an RRset of another type for the name (a TXT beside the A asked) does
not answer a later question for that type: it is asked of the zone

Unbound's scrub.c removes answer-section RRsets whose type is not the question's ("remove
irrelevant RRset"); RFC 2181 §5.4.1 (data not asked for is not trusted as an answer).
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN A 10.0.0.2
www.example.com. 3600 IN TXT "unasked"
""") + entry("www.example.com. IN TXT", answer='www.example.com. 3600 IN TXT "asked"')),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2")
        + query(20, "www.example.com.", "TXT", answer='www.example.com. IN TXT "asked"'))
    scenario("iter_answer_ns_for_the_name_not_a_delegation", """
An NS RRset for the question's own name in the answer to an A question (with an address for
its server) is no delegation: a name below it is still asked of the zone's servers

Unbound's scrub.c (answer-section RRsets of another type are removed; iter-scrub-promiscuous
removes NS sets from replies with an answer); RFC 2181 §5.4.1 (only a referral delegates).
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN A 10.0.0.2
www.example.com. 3600 IN NS ns.evil.example.com.
""", additional="ns.evil.example.com. 3600 IN A 6.6.6.6")
        + entry("host.www.example.com. IN A",
                answer="host.www.example.com. 3600 IN A 10.0.0.8"))
        + server("6.6.6.6", entry("host.www.example.com. IN A",
                                  answer="host.www.example.com. 3600 IN A 10.6.6.6"),
                 title="the address the answer's NS set points at (must not be asked)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2")
        + query(20, "host.www.example.com.", answer="host.www.example.com. IN A 10.0.0.8"))


# -- fifteenth batch (written after the fourteenth batch's figures) ------------------------


def build_batch15() -> None:
    scenario("iter_referral_to_the_same_server_loop", """
A server that refers a child zone to itself and, asked as the child's server, refers again
(never answering) ends in SERVFAIL, not an endless walk

RFC 1034 §5.3.3 (bounded work); Unbound's iter_resptype.c: asked as the child's server, the
child's NS set again without AA is no answer ("a lame server ... gives ns==zone delegation
from cache without AA bit"); RFC 4697 §2.3.
""", root_range() + com_range() + both(
        entry("sub.example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
              authority="sub.example.com. 86400 IN NS ns1.example.com.")
        + entry("ns1.example.com. IN A", answer=f"ns1.example.com. 3600 IN A {NS1}")
        + nodata("ns1.example.com.", "AAAA", "example.com.")),
        query(10, "www.sub.example.com.", rcode="SERVFAIL", match="opcode qname qtype rcode"))
    scenario("iter_answer_ns_for_the_name_not_promiscuous", """
With iter-scrub-promiscuous: no too, an NS RRset for the question's name in the answer
section of an A answer is not a delegation: a name below it is asked of the zone's servers

Unbound's scrub.c removes answer-section RRsets whose type is not the question's ("remove
irrelevant RRset"), whatever iter-scrub-promiscuous says; RFC 2181 §5.4.1.
""", root_range() + com_range() + both(
        entry("www.example.com. IN A", answer="""
www.example.com. 3600 IN A 10.0.0.2
www.example.com. 3600 IN NS ns.evil.example.com.
""", additional="ns.evil.example.com. 3600 IN A 6.6.6.6")
        + entry("host.www.example.com. IN A",
                answer="host.www.example.com. 3600 IN A 10.0.0.8"))
        + server("6.6.6.6", entry("host.www.example.com. IN A",
                                  answer="host.www.example.com. 3600 IN A 10.6.6.6"),
                 title="the address the answer's NS set points at (must not be asked)"),
        query(10, "www.example.com.", answer="www.example.com. IN A 10.0.0.2")
        + query(20, "host.www.example.com.", answer="host.www.example.com. IN A 10.0.0.8"),
        server_opts="\titer-scrub-promiscuous: no\n")


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.rpl"):
        old.unlink()
    build_lame()
    build_glue()
    build_cname()
    build_ttl()
    build_misc()
    build_batch2_servers()
    build_batch2_delegations()
    build_batch2_answers()
    build_batch3()
    build_batch4()
    build_batch5()
    build_batch6()
    build_batch7()
    build_batch8()
    build_batch9()
    build_batch10()
    build_batch12()
    build_batch13()
    build_batch14()
    build_batch15()


if __name__ == "__main__":
    build()
