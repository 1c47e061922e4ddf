"""Write tests/scenarios/testbound/forward/: testbound-dialect scenarios for forwarding and
upstream transport behaviour, written from unbound.conf(5), the RFCs and Unbound's own code
(read through the ``search`` tool) before any resolver change (issue 16 part 3, helper
"fwd").  Each file is one documented behaviour, stated in its first comment line; the
topology (root, com., example.com., forwarders) is this file's, not Unbound's testdata.

Run: ``python tests/scenarios/src/build_forward.py`` (new keys for the signed files).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from build_options2 import (  # noqa: E402  (the topology helpers of the options2 set)
    NS,
    ROOT,
    entry,
    example_referral,
    gtld_range,
    nodata,
    root_range,
    zone_range,
)
from rpl import Signer, expand  # noqa: E402

OUT = Path(__file__).parents[1] / "testbound" / "forward"

FWD = "192.0.2.53"
FWD2 = "192.0.2.54"
WWW = "www.example.com."
ROOT_STUB = f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"


def conf(server: str = "", zones: str = "") -> str:
    return ("server:\n\ttarget-fetch-policy: \"0 0 0 0 0\"\n\tqname-minimisation: \"no\"\n"
            "\tminimal-responses: yes\n" + server + (zones or ROOT_STUB) + "CONFIG_END\n\n")


def write(name: str, documented: str, title: str, server: str, zones: str, ranges: str,
          steps: str) -> None:
    text = (f"; {name}: written for shadowdns (issue 16 part 3, helper fwd), "
            "not Unbound's testdata\n"
            + "".join(f"; {line}\n" for line in documented.strip().splitlines())
            + conf(server, zones) + f"SCENARIO_BEGIN {title}\n\n" + ranges + steps
            + "SCENARIO_END\n")
    (OUT / f"{name}.rpl").write_text(text)


def forward_root(*addrs: str, extra: str = "") -> str:
    return "forward-zone:\n\tname: \".\"\n" + "".join(f"\tforward-addr: {a}\n" for a in addrs) \
        + extra


def server(address: str, entries: str, what: str, first: int = 0, last: int = 1000) -> str:
    return (f"; {what}\nRANGE_BEGIN {first} {last}\n\tADDRESS {address}\n" + entries
            + "RANGE_END\n\n")


def a_entry(name: str, addr: str, aa: bool = False, ttl: int = 300, match: str = "",
            rcode: str = "NOERROR") -> str:
    out = entry(f"{name} IN A", aa=aa, answer=f"{name} {ttl} IN A {addr}" if addr else "",
                rcode=rcode)
    return out.replace("MATCH opcode qtype qname", match, 1) if match else out


def ask(step: int, qname: str = WWW, qtype: str = "A", flags: str = "RD") -> str:
    return (f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY {flags}\nSECTION QUESTION\n"
            f"{qname} IN {qtype}\nENTRY_END\n\n")


def expect(step: int, answer: str, *, qname: str = WWW, qtype: str = "A",
           reply: str = "QR RD RA NOERROR", match: str = "all") -> str:
    body = f"SECTION ANSWER\n{answer.strip()}\n" if answer.strip() else ""
    return (f"STEP {step} CHECK_ANSWER\nENTRY_BEGIN\nMATCH {match}\nREPLY {reply}\n"
            f"SECTION QUESTION\n{qname} IN {qtype}\n{body}ENTRY_END\n\n")


def out_query(step: int, qname: str, qtype: str, match: str = "opcode qtype qname",
              reply: str = "") -> str:
    return (f"STEP {step} CHECK_OUT_QUERY\nENTRY_BEGIN\nMATCH {match}\nREPLY {reply}\n"
            f"SECTION QUESTION\n{qname} IN {qtype}\nENTRY_END\n\n")


def iterated(zone_entries: str) -> str:
    return root_range() + gtld_range(example_referral()) + zone_range(NS, zone_entries)


def build_forwarding() -> None:
    good = f"{WWW} IN A 192.0.2.55"
    fwd_good = server(FWD, a_entry(WWW, "192.0.2.55"), "the forwarder")
    write("fwd_rd_flag_sent",
          "unbound.conf(5) forward-zone: \"the server at the forward address ... must "
          "handle further recursion\":\nqueries to a forwarder carry RD=1 (and, with no trust "
          "anchor, no CD); Unbound sets DO on every EDNS query\n(iterator.c "
          "processQueryTargets, EDNS_DO).",
          "forward-zone: the forwarder is asked with RD set", "", forward_root(FWD),
          fwd_good, ask(1) + expect(10, good)
          + out_query(20, WWW, "A", match="all", reply="RD DO"))
    fwd_short = server(FWD, a_entry(WWW, "192.0.2.55", ttl=300), "the forwarder, until step 15",
                       last=15)
    write("fwd_answer_cached",
          "RFC 1035 §7.4 / unbound.conf(5): answers from a forwarder are cached like any "
          "other;\nthe second question within the TTL is answered from the cache with the TTL "
          "counted down.",
          "forwarded answers are cached: the second query is not sent", "", forward_root(FWD),
          fwd_short, ask(1) + expect(10, f"{WWW} 300 IN A 192.0.2.55", match="all ttl")
          + "STEP 20 TIME_PASSES ELAPSE 100\n\n" + ask(30)
          + expect(40, f"{WWW} 200 IN A 192.0.2.55", match="all ttl"))
    two_eras = (server(FWD, a_entry(WWW, "192.0.2.55", ttl=60), "the forwarder, first answer",
                       last=25)
                + server(FWD, a_entry(WWW, "192.0.2.66", ttl=60), "the forwarder, later",
                         first=26))
    write("fwd_ttl_expired_asked_again",
          "RFC 1035 §3.2.1 / RFC 2181 §8: when the TTL of a forwarded answer has run out the "
          "cached copy\nis not used; the forwarder is asked again and its new answer served.",
          "forwarded answer expires: the forwarder is asked again", "", forward_root(FWD),
          two_eras, ask(1) + expect(10, good) + "STEP 20 TIME_PASSES ELAPSE 61\n\n" + ask(30)
          + expect(40, f"{WWW} IN A 192.0.2.66"))
    fail = server(FWD, a_entry(WWW, "", rcode="SERVFAIL"), "the failing forwarder")
    write("fwd_servfail_other_forwarder",
          "unbound.conf(5) forward-addr may be given several times: a forwarder that answers "
          "SERVFAIL\nis not the end of it, Unbound asks the zone's other forwarder "
          "(iterator.c: a SERVFAIL\nreply is like no reply, the next target is tried).",
          "one forwarder SERVFAILs, the other answers", "", forward_root(FWD, FWD2),
          fail + server(FWD2, a_entry(WWW, "192.0.2.55"), "the good forwarder"),
          ask(1) + expect(10, good))
    write("fwd_timeout_other_forwarder",
          "A forwarder that does not answer (testbound TIMEOUT) is given up for the "
          "question and the\nother forwarder of the zone is asked (RFC 1035 §7.2: \"try the "
          "next server\"); INFRA_RTT makes\nthe silent one the first choice.",
          "the preferred forwarder times out, the other answers", "", forward_root(FWD, FWD2),
          server(FWD2, a_entry(WWW, "192.0.2.55"), "the good forwarder (slow RTT)"),
          f"STEP 1 INFRA_RTT {FWD} . 10\nSTEP 2 INFRA_RTT {FWD2} . 1000\n\n" + ask(5)
          + "STEP 6 TIMEOUT\n\n" + expect(10, good))
    write("fwd_all_servfail",
          "When every forwarder of the zone fails (SERVFAIL) the client gets SERVFAIL: the "
          "iterator\nhas no other servers for a forward zone (forward-first absent, so no "
          "fallback to iteration).",
          "every forwarder SERVFAILs: the answer is SERVFAIL", "", forward_root(FWD, FWD2),
          fail + server(FWD2, a_entry(WWW, "", rcode="SERVFAIL"), "the other failing forwarder"),
          ask(1) + expect(10, "", reply="QR RD RA SERVFAIL"))
    fwd_zone_fail = server(FWD, a_entry(WWW, "", rcode="SERVFAIL"), "the failing forwarder")
    iter_good = iterated(entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.77"))
    write("fwd_first_falls_back",
          "unbound.conf(5) forward-first: \"If a forwarded query is met with a SERVFAIL "
          "error, and this\noption is enabled, unbound will fall back to normal recursive "
          "resolution for this query\nas if no query forwarding had been specified.\"",
          "forward-first: yes: the forwarder fails, the name is resolved by iteration", "",
          ROOT_STUB + "forward-zone:\n\tname: \"example.com\"\n"
          f"\tforward-addr: {FWD}\n\tforward-first: yes\n",
          iter_good + fwd_zone_fail, ask(1) + expect(10, f"{WWW} IN A 192.0.2.77"))
    write("fwd_first_absent_no_fallback",
          "unbound.conf(5) forward-first: \"The default is no\": without it a failing "
          "forward zone is\nnot resolved by iteration; the client gets SERVFAIL even though "
          "the iterative path works.",
          "forward-first absent: the failing forwarder means SERVFAIL", "",
          ROOT_STUB + f"forward-zone:\n\tname: \"example.com\"\n\tforward-addr: {FWD}\n",
          iter_good + fwd_zone_fail, ask(1) + expect(10, "", reply="QR RD RA SERVFAIL"))
    sub = "www.sub.example.com."
    stub_server = zone_range(NS, entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55"))
    write("fwd_zone_below_stub_zone",
          "unbound.conf(5) stub-zone / forward-zone: the most specific configured zone "
          "decides\n(iter_fwd / iter_hints lookups, the deeper name wins): a forward zone "
          "below a stub zone\nforwards its names (RD=1); the stub zone's other names go to "
          "the stub's server.",
          "a forward zone below a stub zone: its names go to the forwarder", "",
          ROOT_STUB + f"stub-zone:\n\tname: \"example.com\"\n\tstub-addr: {NS}\n"
          f"forward-zone:\n\tname: \"sub.example.com\"\n\tforward-addr: {FWD}\n",
          stub_server + server(FWD, a_entry(sub, "192.0.2.88"), "the forwarder of sub"),
          ask(1, sub) + expect(10, f"{sub} IN A 192.0.2.88", qname=sub) + ask(20)
          + expect(30, good))
    sub_server = server("1.2.3.9", entry(f"{sub} IN A", aa=True,
                                         answer=f"{sub} 300 IN A 192.0.2.99"),
                        "the stub server of sub.example.com")
    write("stub_zone_below_fwd_zone",
          "unbound.conf(5): the most specific configured zone decides: a stub zone below a "
          "forward\nzone is resolved at the stub's server (iteratively, RD=0), not at the "
          "forwarder; the\nforward zone's other names go to the forwarder.",
          "a stub zone below a forward zone: its names go to the stub server", "",
          ROOT_STUB + f"forward-zone:\n\tname: \"example.com\"\n\tforward-addr: {FWD}\n"
          "stub-zone:\n\tname: \"sub.example.com\"\n\tstub-addr: 1.2.3.9\n",
          fwd_good + sub_server,
          ask(1, sub) + expect(10, f"{sub} IN A 192.0.2.99", qname=sub) + ask(20)
          + expect(30, good))
    build_cname()


def build_cname() -> None:
    chain = entry(f"{WWW} IN A", aa=False, answer=f"""
{WWW} 300 IN CNAME host.example.com.
host.example.com. 300 IN A 192.0.2.11
""")
    target = a_entry("host.example.com.", "192.0.2.12")
    write("fwd_cname_remainder_asked_again",
          "Unbound's scrubber (iter_scrub.c scrub_sanitize) keeps only the answer RRsets "
          "owned by the\nname asked: \"Remainders of CNAME chains are cut off and resolved by "
          "iterator\" -- for\nforwarders too; the CNAME's target is asked of the forwarder "
          "and its own answer served.",
          "a forwarder's CNAME chain: the target is asked again", "", forward_root(FWD),
          server(FWD, chain + target, "the forwarder"),
          ask(1) + expect(10, f"{WWW} IN CNAME host.example.com.\n"
                              "host.example.com. IN A 192.0.2.12"))
    out = entry(f"{WWW} IN A", aa=False, answer=f"""
{WWW} 300 IN CNAME www.example.net.
www.example.net. 300 IN A 192.0.2.13
""")
    net_world = (root_range(extra=entry("example.net. IN A", match="opcode subdomain",
                                        aa=False, copy_query=True,
                                        authority="example.net. 86400 IN NS ns.example.net.",
                                        additional="ns.example.net. 86400 IN A 1.2.3.10"))
                 + server("1.2.3.10", entry("www.example.net. IN A",
                                            answer="www.example.net. 300 IN A 192.0.2.14"),
                          "ns.example.net."))
    write("fwd_cname_out_of_zone",
          "A forward zone's servers are trusted for that zone only (iter_scrub.c: RRsets "
          "outside the\nzone of the servers asked are removed): the target of a CNAME "
          "leaving the forward zone is\nresolved as if asked on its own, here by iteration "
          "from the root hints, not of the forwarder.",
          "a CNAME out of the forward zone: the target is resolved by iteration", "",
          ROOT_STUB + f"forward-zone:\n\tname: \"example.com\"\n\tforward-addr: {FWD}\n",
          net_world + server(FWD, out, "the forwarder of example.com"),
          ask(1) + expect(10, f"{WWW} IN CNAME www.example.net.\n"
                              "www.example.net. IN A 192.0.2.14"))


def build_signed() -> None:
    signer = Signer()
    zone = "example.com."
    a_lines = [f"{WWW} 300 IN A 192.0.2.55", f"SIG {zone}"]
    key = [signer.dnskey_line(zone), f"SIG {zone}"]
    fwd = server(FWD, entry(f"{WWW} IN A", aa=False, answer="\n".join(expand(signer, a_lines)))
                 + entry(f"{zone} IN DNSKEY", aa=False,
                         answer="\n".join(expand(signer, key))), "the forwarder")
    anchor = (f"\ttrust-anchor: \"{signer.ds_line(zone)}\"\n"
              "\tval-override-date: \"20260101120000\"\n")
    secure = expect(10, "\n".join(expand(signer, a_lines)),
                    reply="QR RD RA AD DO NOERROR")
    write("fwd_validated_secure",
          "RFC 4035 §5 / unbound.conf(5) forward-zone: a validating resolver validates "
          "forwarded answers\nitself; the DNSKEY RRset it needs is asked of the forwarder "
          "(the only server it has), and a\nverified answer gets AD (RFC 4035 §3.2.3).",
          "forwarded signed answer: the key is fetched through the forwarder, AD set", anchor,
          forward_root(FWD), fwd, ask(1, flags="RD DO") + secure
          + out_query(20, zone, "DNSKEY"))
    other = Signer()
    forged = [f"{WWW} 300 IN A 192.0.2.66", f"SIG {zone}"]
    bogus = server(FWD, entry(f"{WWW} IN A", aa=False,
                              answer="\n".join(expand(other, forged)))
                   + entry(f"{zone} IN DNSKEY", aa=False,
                           answer="\n".join(expand(signer, key))), "the forwarder")
    write("fwd_validated_bogus",
          "RFC 4035 §5.5: a forwarded answer whose signature does not verify with the "
          "zone's keys is\nbogus: SERVFAIL, whatever the forwarder said (unbound.conf(5): "
          "bogus data is not returned).",
          "forwarded answer signed by another key: SERVFAIL", anchor, forward_root(FWD), bogus,
          ask(1, flags="RD DO") + expect(10, "", reply="QR RD RA DO SERVFAIL",
                                         match="opcode qname qtype rcode"))
    com = "com."
    ds = [signer.ds_line(zone), f"SIG {com}"]
    com_key = [signer.dnskey_line(com), f"SIG {com}"]
    chain = server(FWD, entry(f"{WWW} IN A", aa=False,
                              answer="\n".join(expand(signer, a_lines)))
                   + entry(f"{zone} IN DNSKEY", aa=False, answer="\n".join(expand(signer, key)))
                   + entry(f"{zone} IN DS", aa=False, answer="\n".join(expand(signer, ds)))
                   + entry(f"{com} IN DNSKEY", aa=False,
                           answer="\n".join(expand(signer, com_key))), "the forwarder")
    com_anchor = (f"\ttrust-anchor: \"{signer.ds_line(com)}\"\n"
                  "\tval-override-date: \"20260101120000\"\n")
    write("fwd_validated_ds_chain",
          "RFC 4035 §5: from an anchor above the zone the validator walks the chain of trust "
          "down:\nthe zone's DS and DNSKEY RRsets (and the anchor zone's DNSKEY) are asked of "
          "the forwarder;\nthe answer is secure (AD).",
          "forwarded signed answer under an anchor for com.: DS fetched through the forwarder",
          com_anchor, forward_root(FWD), chain,
          ask(1, flags="RD DO") + expect(10, "\n".join(expand(signer, a_lines)),
                                         reply="QR RD RA AD DO NOERROR")
          + out_query(20, zone, "DS"))


def build_transport() -> None:
    good = f"{WWW} IN A 192.0.2.55"
    noedns_first = a_entry(WWW, "192.0.2.55", aa=True, match="MATCH opcode qtype qname noedns")

    def refusing(rcode: str) -> str:
        return zone_range(NS, noedns_first + entry(f"{WWW} IN A", rcode=rcode))

    world = root_range() + gtld_range(example_referral())
    write("edns_formerr_fallback",
          "RFC 6891 §7: a responder that does not implement EDNS answers FORMERR to a query "
          "with an OPT\nrecord; the requestor then asks again without EDNS (Unbound's "
          "outside_network.c\nserviced_udp_callback: \"attempt without EDNS\").",
          "a server answering FORMERR to EDNS is asked again without EDNS", "", "",
          world + refusing("FORMERR"), ask(1) + expect(10, good))
    write("edns_notimp_fallback",
          "Unbound's outside_network.c serviced_udp_callback falls back without EDNS on "
          "FORMERR or\nNOTIMPL to an EDNS query (\"try to get an answer by falling back "
          "without EDNS\"): a server\nanswering NOTIMP to EDNS queries is asked again "
          "without, and its answer used.",
          "a server answering NOTIMP to EDNS is asked again without EDNS", "", "",
          world + refusing("NOTIMP"), ask(1) + expect(10, good))
    tc = (entry(f"{WWW} IN A", aa=False, answer=f"{WWW} 300 IN A 192.0.2.55")
          .replace("MATCH opcode", "MATCH TCP opcode", 1)
          + entry(f"{WWW} IN A", aa=False).replace("MATCH opcode", "MATCH UDP opcode", 1)
          .replace("REPLY QR NOERROR", "REPLY QR TC NOERROR", 1))
    write("fwd_tc_retried_over_tcp",
          "RFC 7766 §5 / RFC 1035 §4.2.1: a truncated (TC) UDP answer is retried over TCP; "
          "a forwarder's\ntruncated answer gives the full answer over TCP.",
          "a forwarder's TC answer: the question is asked again over TCP", "",
          forward_root(FWD), server(FWD, tc, "the forwarder"), ask(1) + expect(10, good))
    # 0x20: in testbound only copy_query echoes the question as sent; copy_id copies the ID
    # (testpkts.c adjust_packet), so an entry without copy_query answers in its own case.
    write("caps_not_echoed_accepted",
          "unbound.conf(5) use-caps-for-id: 0x20 bits in the query; a server that does not "
          "echo the case\nmakes Unbound fall back (iterator.c: \"Capsforid: starting "
          "fallback\"): the question is asked\nagain without 0x20 and, when the replies "
          "agree, the answer is accepted.",
          "use-caps-for-id: a server not echoing the case: the answer is accepted after "
          "fallback",
          "\tuse-caps-for-id: yes\n", "",
          world + zone_range(NS, entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55")),
          ask(1) + expect(10, good))
    two = (("ns1.example.com.", NS), ("ns2.example.com.", "1.2.3.5"))
    referral = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                     authority="example.com. 86400 IN NS ns1.example.com.\n"
                               "example.com. 86400 IN NS ns2.example.com.",
                     additional=f"ns1.example.com. 86400 IN A {NS}\n"
                                "ns2.example.com. 86400 IN A 1.2.3.5")
    differing = (root_range() + gtld_range(referral)
                 + zone_range(NS, entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55"),
                              ns_names=two)
                 + zone_range("1.2.3.5", entry(f"{WWW} IN A",
                                               answer=f"{WWW} 300 IN A 192.0.2.56"),
                              ns_names=two))
    write("caps_fallback_different_replies",
          "Unbound's 0x20 fallback (iterator.c process_response) asks the zone's servers "
          "again without\n0x20 and compares the replies: \"Capsforid fallback: getting "
          "different replies, failed\" --\nSERVFAIL (unbound.conf(5) caps-exempt: \"domains "
          "that ... fail with fallback because they\nkeep sending different answers\").",
          "use-caps-for-id: servers not echoing the case and disagreeing: SERVFAIL",
          "\tuse-caps-for-id: yes\n", "", differing,
          ask(1) + expect(10, "", reply="QR RD RA SERVFAIL", match="opcode qname qtype rcode"))
    write("caps_whitelist_exempt",
          "unbound.conf(5) caps-exempt (caps-whitelist): \"Exempt the domain so that it does "
          "not\nreceive caps-for-id perturbed queries\": names under it are asked in their "
          "own case, no\nfallback happens, and the disagreeing servers' answer is taken.",
          "use-caps-for-id with caps-whitelist: the exempt zone resolves",
          "\tuse-caps-for-id: yes\n\tcaps-whitelist: \"example.com\"\n", "", differing,
          ask(1) + expect(10, "", match="opcode qname qtype rcode"))
    v6_only = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="example.com. 86400 IN NS ns1.example.com.\n"
                              "example.com. 86400 IN NS ns.example.net.",
                    additional="ns1.example.com. 86400 IN AAAA 2001:db8::1")
    net = (entry("ns.example.net. IN A", answer=f"ns.example.net. 86400 IN A {NS}")
           + nodata("ns.example.net.", "AAAA", "."))
    write("do_ip6_no_aaaa_glue",
          "unbound.conf(5) do-ip6: no: \"Unbound does not use IPv6 to send queries\": a "
          "server with only\nAAAA glue is not asked; the zone's other server, whose IPv4 "
          "address is looked up, answers.",
          "do-ip6: no: the server with only IPv6 glue is not asked",
          "\tdo-ip6: no\n", "",
          root_range(extra=net) + gtld_range(v6_only)
          + server("2001:db8::1", a_entry(WWW, "192.0.2.66", aa=True), "ns1 over IPv6")
          + zone_range(NS, entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55"),
                       ns_names=(("ns.example.net.", NS),)),
          ask(1) + expect(10, good))
    dual = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                 authority="example.com. 86400 IN NS ns1.example.com.",
                 additional=f"ns1.example.com. 86400 IN A {NS}\n"
                            "ns1.example.com. 86400 IN AAAA 2001:db8::1")
    dual_world = (root_range() + gtld_range(dual)
                  + server("2001:db8::1", a_entry(WWW, "192.0.2.66", aa=True), "ns1 over IPv6")
                  + server(NS, a_entry(WWW, "192.0.2.55", aa=True), "ns1 over IPv4"))
    write("prefer_ip6",
          "unbound.conf(5) prefer-ip6: \"prefer IPv6 transport for sending DNS queries to "
          "internet\nnameservers\": of a server with A and AAAA glue the IPv6 address is "
          "asked.",
          "prefer-ip6: yes: the IPv6 address is asked", "\tdo-ip6: yes\n\tprefer-ip6: yes\n", "",
          dual_world, ask(1) + expect(10, f"{WWW} IN A 192.0.2.66"))
    write("prefer_ip4",
          "unbound.conf(5) prefer-ip4: \"prefer IPv4 transport for sending DNS queries to "
          "internet\nnameservers\": of a server with A and AAAA glue the IPv4 address is "
          "asked.",
          "prefer-ip4: yes: the IPv4 address is asked", "\tdo-ip6: yes\n\tprefer-ip4: yes\n", "",
          dual_world, ask(1) + expect(10, good))
    two_eras = (server(FWD, a_entry(WWW, "192.0.2.55", ttl=3600), "the forwarder, first",
                       last=15)
                + server(FWD, a_entry(WWW, "192.0.2.66", ttl=3600), "the forwarder, later",
                         first=16))
    write("fwd_no_cache",
          "unbound.conf(5) forward-no-cache: \"If enabled, data inside the forward is not "
          "cached.  This\nis useful when you want immediate changes to be visible\": the "
          "second question is asked of\nthe forwarder again though the first answer's TTL "
          "has not run out.",
          "forward-no-cache: yes: the forwarder is asked every time", "",
          forward_root(FWD, extra="\tforward-no-cache: yes\n"), two_eras,
          ask(1) + expect(10, good) + ask(20) + expect(30, f"{WWW} IN A 192.0.2.66"))
    write("fwd_host_of_zone",
          "unbound.conf(5) forward-host: \"Name of server to forward to\": the name is "
          "resolved (here by\niteration) and the forward zone's questions go to its address "
          "with RD=1.",
          "forward-host of a forward zone below the root is looked up and asked", "",
          ROOT_STUB + "forward-zone:\n\tname: \"example.com\"\n\tforward-host: fwd.example.net\n",
          root_range(extra=entry("fwd.example.net. IN A",
                                 answer=f"fwd.example.net. 86400 IN A {FWD}")
                     + nodata("fwd.example.net.", "AAAA", "."))
          + server(FWD, a_entry(WWW, "192.0.2.55"), "the forwarder"),
          ask(1) + expect(10, good))


def conf_qmin(server: str = "", zones: str = "") -> str:
    """The header with Unbound's default QNAME minimisation (the option absent)."""
    return conf(server, zones).replace('\tqname-minimisation: "no"\n', "", 1)


def write_qmin(name: str, documented: str, title: str, server: str, zones: str, ranges: str,
               steps: str) -> None:
    write(name, documented, title, server, zones, ranges, steps)
    path = OUT / f"{name}.rpl"
    path.write_text(path.read_text().replace(conf(server, zones), conf_qmin(server, zones), 1))


def build_second() -> None:
    """Second batch (written after the first batch's figures, before its changes)."""
    good = f"{WWW} IN A 192.0.2.55"
    fwd_good = server(FWD, a_entry(WWW, "192.0.2.55"), "the forwarder")
    write_qmin("fwd_qmin_not_applied",
               "RFC 9156 minimises the names an iterative resolver sends to authorities; a "
               "forwarder is asked\nthe full question (Unbound: no minimisation while the "
               "query goes out with RD, iterator.c\nprocessQueryTargets): with "
               "qname-minimisation on, the forwarder gets www.example.com. A.",
               "qname-minimisation on: the forwarder is asked the full name", "",
               forward_root(FWD), fwd_good, ask(1) + expect(10, good))
    deep = "a.b.www.example.com."
    write_qmin("fwd_zone_full_name_with_qmin",
               "A forward zone below the root decides at once for its names (the deepest "
               "configured zone):\nwith qname-minimisation on, nothing is asked of the root "
               "and the forwarder gets the full,\nunminimised name.",
               "qname-minimisation on, forward zone below the root: the full name forwarded",
               "", ROOT_STUB + f"forward-zone:\n\tname: \"example.com\"\n"
               f"\tforward-addr: {FWD}\n",
               server(FWD, a_entry(deep, "192.0.2.57"), "the forwarder"),
               ask(1, deep) + expect(10, f"{deep} IN A 192.0.2.57", qname=deep))
    ds_nodata = entry("example.com. IN DS", authority="com. 3600 IN SOA a.gtld-servers.net. "
                      "hostmaster.com. 1 3600 900 86400 300")
    write("fwd_ds_of_apex_not_forwarded",
          "RFC 4035 §3.1.4.1: DS is served from the parent side of a cut.  Unbound's "
          "forward_request\n\"strip[s] one label off of DS query to lookup higher for it\": "
          "the DS of a forward zone's\napex is resolved from the parent (here by "
          "iteration), not asked of the zone's forwarder.",
          "the DS of a forward zone's apex is asked of the parent, not of the forwarder", "",
          ROOT_STUB + f"forward-zone:\n\tname: \"example.com\"\n\tforward-addr: {FWD}\n",
          root_range() + gtld_range(ds_nodata + example_referral()) + fwd_good,
          ask(1, "example.com.", "DS")
          + expect(10, "", qname="example.com.", qtype="DS", match="opcode qname qtype rcode"))
    soa = "example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 900 86400 300"
    nx = server(FWD, entry("nx.example.com. IN A", aa=False, rcode="NXDOMAIN", authority=soa),
                "the forwarder, until step 15", last=15)
    write("fwd_nxdomain_cached",
          "RFC 2308 §5: a negative answer is cached for the SOA's negative TTL, from a "
          "forwarder too:\nthe same question within it is answered NXDOMAIN from the "
          "cache.",
          "a forwarded NXDOMAIN is cached", "", forward_root(FWD), nx,
          ask(1, "nx.example.com.")
          + expect(10, "", qname="nx.example.com.", reply="QR RD RA NXDOMAIN",
                   match="opcode qname qtype rcode")
          + "STEP 20 TIME_PASSES ELAPSE 100\n\n" + ask(30, "nx.example.com.")
          + expect(40, "", qname="nx.example.com.", reply="QR RD RA NXDOMAIN",
                   match="opcode qname qtype rcode"))
    write("fwd_refused_other_forwarder",
          "A forwarder that answers REFUSED gives no answer (RFC 1035 §4.1.1: \"refuses to "
          "perform the\nspecified operation\"); the zone's other forwarder is asked.",
          "one forwarder REFUSES, the other answers", "", forward_root(FWD, FWD2),
          server(FWD, a_entry(WWW, "", rcode="REFUSED"), "the refusing forwarder")
          + server(FWD2, a_entry(WWW, "192.0.2.55"), "the good forwarder"),
          ask(1) + expect(10, good))
    write("fwd_ipv6_forwarder_do_ip6_no",
          "unbound.conf(5) do-ip6: no: \"Unbound does not use IPv6 to send queries\" -- to "
          "forwarders\neither: of an IPv6 and an IPv4 forward-addr only the IPv4 one is "
          "asked.",
          "do-ip6: no: an IPv6 forward-addr is not used", "\tdo-ip6: no\n",
          forward_root("2001:db8::53", FWD),
          server("2001:db8::53", a_entry(WWW, "192.0.2.66"), "the IPv6 forwarder") + fwd_good,
          ask(1) + expect(10, good))
    write("caps_forwarder_not_echoed",
          "unbound.conf(5) use-caps-for-id applies to every upstream query, forwarders "
          "included; a\nforwarder that does not echo the case gets the fallback (asked again "
          "without 0x20) and its\nagreeing answers are accepted.",
          "use-caps-for-id: a forwarder not echoing the case: the answer is accepted",
          "\tuse-caps-for-id: yes\n", forward_root(FWD), fwd_good, ask(1) + expect(10, good))
    two = (("ns1.example.com.", NS), ("ns2.example.com.", "1.2.3.5"))
    referral = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                     authority="example.com. 86400 IN NS ns1.example.com.\n"
                               "example.com. 86400 IN NS ns2.example.com.",
                     additional=f"ns1.example.com. 86400 IN A {NS}\n"
                                "ns2.example.com. 86400 IN A 1.2.3.5")
    write("caps_fallback_servfail_ignored",
          "Unbound's 0x20 fallback ignores SERVFAIL answers when comparing (iterator.c: \"if "
          "we have\nnon-SERVFAIL as answer then we can ignore SERVFAILs for the equality "
          "comparison\"): one server\nanswers, the other SERVFAILs, neither echoes the case: "
          "the answer is taken.",
          "use-caps-for-id: a SERVFAIL during the fallback does not count against the answer",
          "\tuse-caps-for-id: yes\n", "",
          root_range() + gtld_range(referral)
          + zone_range(NS, entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55"),
                       ns_names=two)
          + zone_range("1.2.3.5", entry(f"{WWW} IN A", rcode="SERVFAIL"), ns_names=two),
          ask(1) + expect(10, good))
    with_ns = entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55",
                    authority="example.com. 86400 IN NS ns.example.com.",
                    additional=f"ns.example.com. 86400 IN A {NS}")
    write("caps_fallback_strips_authority",
          "Unbound's caps_strip_reply: \"for fallback we care about main answer, not "
          "additionals\": an\nauthoritative answer taken through the 0x20 fallback loses "
          "its additional section and its\nNS RRset, so even with minimal-responses: no the "
          "client gets the answer alone.",
          "use-caps-for-id: an answer taken through the fallback has no NS RRset or glue",
          "\tuse-caps-for-id: yes\n\tminimal-responses: no\n\titer-scrub-promiscuous: no\n",
          "", root_range() + gtld_range(example_referral()) + zone_range(NS, with_ns),
          ask(1) + expect(10, good))
    write("fwd_edns_formerr_forwarder",
          "RFC 6891 §7: a forwarder that answers FORMERR to a query with EDNS is asked again "
          "without\nEDNS and its plain answer used.",
          "a forwarder answering FORMERR to EDNS is asked again without EDNS", "",
          forward_root(FWD),
          server(FWD, a_entry(WWW, "192.0.2.55", match="MATCH opcode qtype qname noedns")
                 + entry(f"{WWW} IN A", aa=False, rcode="FORMERR"), "the forwarder"),
          ask(1) + expect(10, good))
    referral_only = entry(f"{WWW} IN A", aa=False,
                          authority="example.com. 86400 IN NS ns.example.com.",
                          additional=f"ns.example.com. 86400 IN A {NS}")
    write("fwd_referral_taken_as_answer",
          "Unbound's iterator.c processQueryResponse: \"When forwarding (RD bit is set), we "
          "handle\nreferrals differently. No queries should be sent elsewhere\" -- a "
          "referral from a forwarder is\ntaken as the answer (NOERROR, no data); the servers "
          "it names are not asked.",
          "a forwarder's referral is the answer: nothing is asked elsewhere", "",
          forward_root(FWD), server(FWD, referral_only, "the forwarder (answers a referral)"),
          ask(1) + expect(10, "", match="opcode qname qtype rcode answer"))
    build_second_signed()


def build_second_signed() -> None:
    signer = Signer()
    com, zone = "com.", "example.com."
    soa = ["com. 3600 IN SOA a.gtld-servers.net. hostmaster.com. 1 3600 900 86400 300",
           f"SIG {com}"]
    nsec = ["example.com. 3600 IN NSEC zzz.com. NS RRSIG NSEC", f"SIG {com}"]
    fwd = server(FWD, entry(f"{WWW} IN A", aa=False, answer=f"{WWW} 300 IN A 192.0.2.55")
                 + entry(f"{com} IN DNSKEY", aa=False, answer="\n".join(
                     expand(signer, [signer.dnskey_line(com), f"SIG {com}"])))
                 + entry(f"{zone} IN DS", aa=False, authority="\n".join(
                     expand(signer, soa) + expand(signer, nsec))), "the forwarder")
    anchor = (f"\ttrust-anchor: \"{signer.ds_line(com)}\"\n"
              "\tval-override-date: \"20260101120000\"\n")
    write("fwd_validated_insecure",
          "RFC 4035 §5.2 / RFC 4035 §4.3: a delegation proven unsigned (a DS NODATA with "
          "its signed NSEC,\nfetched through the forwarder) makes the zone insecure: the "
          "forwarded answer is served,\nwithout AD.",
          "forwarded unsigned answer under a signed parent proven insecure: no AD", anchor,
          forward_root(FWD), fwd,
          ask(1, flags="RD DO") + expect(10, f"{WWW} IN A 192.0.2.55",
                                         reply="QR RD RA DO NOERROR")
          + out_query(20, zone, "DS"))


def build_third() -> None:
    """Third batch (written after the second batch's figures, before its changes)."""
    good = f"{WWW} IN A 192.0.2.55"
    fwd_good = server(FWD, a_entry(WWW, "192.0.2.55"), "the forwarder")
    write("opt_udp_upstream_without_downstream",
          "unbound.conf(5) udp-upstream-without-downstream: \"Enable udp upstream even if "
          "do-udp is no\":\nwith do-udp: no the upstream queries still go over UDP.",
          "do-udp: no with udp-upstream-without-downstream: yes: upstream over UDP",
          "\tdo-udp: no\n\tudp-upstream-without-downstream: yes\n", forward_root(FWD),
          fwd_good.replace("MATCH opcode", "MATCH UDP opcode"), ask(1) + expect(10, good))
    zero = (server(FWD, a_entry(WWW, "192.0.2.55", ttl=0), "the forwarder, first", last=15)
            + server(FWD, a_entry(WWW, "192.0.2.66", ttl=0), "the forwarder, later", first=16))
    write("fwd_zero_ttl_not_cached",
          "RFC 1035 §3.2.1: a TTL of zero means the RR \"should not be cached\": a forwarded "
          "answer with\nTTL 0 is not reused, the same question at the same time is asked "
          "again.",
          "a forwarded answer with TTL 0 is asked again", "", forward_root(FWD), zero,
          ask(1) + expect(10, good) + ask(20) + expect(30, f"{WWW} IN A 192.0.2.66"))
    fwd3 = "192.0.2.55"
    write("fwd_three_forwarders",
          "Several forward-addr: Unbound tries the zone's forwarders in turn; two that fail "
          "(SERVFAIL,\nREFUSED) do not stop the third from being asked and its answer "
          "served.",
          "of three forwarders two fail, the third answers", "",
          forward_root(FWD, FWD2, fwd3),
          server(FWD, a_entry(WWW, "", rcode="SERVFAIL"), "the failing forwarder")
          + server(FWD2, a_entry(WWW, "", rcode="REFUSED"), "the refusing forwarder")
          + server(fwd3, a_entry(WWW, "192.0.2.77"), "the good forwarder"),
          ask(1) + expect(10, f"{WWW} IN A 192.0.2.77"))
    write("opt_transport_no_ops",
          "unbound.conf(5) socket and timing options -- delay-close (ms before a timed-out "
          "port closes),\nudp-connect, outgoing-tcp-mss, tcp-idle-timeout, jostle-timeout "
          "(load shedding), infra-cache-min-rtt\n50 and infra-host-ttl 900 (the defaults) -- "
          "do not change what is answered.",
          "transport options that change sockets and timing, not answers",
          "\tdelay-close: 1500\n\tudp-connect: yes\n\toutgoing-tcp-mss: 1200\n"
          "\ttcp-idle-timeout: 30000\n\tjostle-timeout: 200\n\tinfra-cache-min-rtt: 50\n"
          "\tinfra-host-ttl: 900\n", forward_root(FWD), fwd_good, ask(1) + expect(10, good))
    write("fwd_timeout_then_answer",
          "A forwarder that does not answer once (testbound TIMEOUT) is asked again: the "
          "query is\nretransmitted (RFC 1035 §4.2.1, Unbound's serviced query retry) and "
          "the answer served.",
          "the only forwarder times out once, then answers", "", forward_root(FWD),
          server(FWD, a_entry(WWW, "192.0.2.55"), "the forwarder, from step 3", first=3),
          ask(1) + "STEP 2 TIMEOUT\n\n" + expect(10, good))
    net = "www.example.net."
    write("fwd_cname_to_other_forward_zone",
          "The target of a CNAME is resolved as a question of its own (RFC 1034 §4.3.2): "
          "a CNAME from\none forward zone into another is followed at the second zone's "
          "forwarder.",
          "a CNAME from one forward zone into another: the target asked of the second", "",
          "forward-zone:\n\tname: \"example.com\"\n"
          f"\tforward-addr: {FWD}\n"
          f"forward-zone:\n\tname: \"example.net\"\n\tforward-addr: {FWD2}\n"
          + ROOT_STUB,
          root_range()
          + server(FWD, entry(f"{WWW} IN A", aa=False, answer=f"{WWW} 300 IN CNAME {net}"),
                   "the forwarder of example.com")
          + server(FWD2, a_entry(net, "192.0.2.58"), "the forwarder of example.net"),
          ask(1) + expect(10, f"{WWW} IN CNAME {net}\n{net} IN A 192.0.2.58"))
    dname = entry("www.sub.example.com. IN A", aa=False, answer="""
sub.example.com. 300 IN DNAME other.example.com.
www.sub.example.com. 300 IN CNAME www.other.example.com.
www.other.example.com. 300 IN A 192.0.2.11
""")
    write("fwd_dname_from_forwarder",
          "RFC 6672 §2: a DNAME redirects the names below its owner; the forwarder's DNAME "
          "and the CNAME\nit implies are kept, and the CNAME's target (the remainder of the "
          "chain cut off, Unbound's\nscrub_sanitize) is asked of the forwarder and its own "
          "answer served.",
          "a forwarder's DNAME answer: the synthesised target is asked again", "",
          forward_root(FWD),
          server(FWD, dname + a_entry("www.other.example.com.", "192.0.2.12"), "the forwarder"),
          ask(1, "www.sub.example.com.")
          + expect(10, "sub.example.com. IN DNAME other.example.com.\n"
                       "www.sub.example.com. IN CNAME www.other.example.com.\n"
                       "www.other.example.com. IN A 192.0.2.12", qname="www.sub.example.com."))
    write("stub_first_falls_back",
          "unbound.conf(5) stub-first: \"If enabled, a query is attempted without the stub "
          "clause if it\nfails\": a stub zone whose server SERVFAILs is resolved by "
          "iteration from the root.",
          "stub-first: yes: the stub's server fails, the name is resolved by iteration", "",
          ROOT_STUB + "stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.9\n"
          "\tstub-first: yes\n",
          iterated(entry(f"{WWW} IN A", answer=f"{WWW} 300 IN A 192.0.2.55"))
          + server("1.2.3.9", entry(f"{WWW} IN A", rcode="SERVFAIL"), "the failing stub server"),
          ask(1) + expect(10, good))


def build_fourth() -> None:
    """Fourth batch (written after the third batch's figures, before its changes)."""
    good = f"{WWW} IN A 192.0.2.55"
    ad = server(FWD, entry(f"{WWW} IN A", aa=False, answer=f"{WWW} 300 IN A 192.0.2.55")
                .replace("REPLY QR NOERROR", "REPLY QR RA AD NOERROR", 1), "the forwarder")
    write("fwd_upstream_ad_ignored",
          "RFC 4035 §3.2.3 / §4.9: a validating resolver sets AD from its own validation; "
          "the forwarder's\nAD bit is not passed on (Unbound's scrubber: \"force off bit "
          "AD and Z\"): without a trust anchor\nthe answer has no AD.",
          "the forwarder's AD bit is not passed on", "", forward_root(FWD), ad,
          ask(1, flags="RD AD") + expect(10, good))
    aa = server(FWD, a_entry(WWW, "192.0.2.55", aa=True), "the forwarder (answers with AA)")
    write("fwd_aa_cleared",
          "RFC 1035 §4.1.1: AA says the responding server is an authority for the name; a "
          "recursive\nresolver's answer from a forwarder (or the cache) is not, so AA is "
          "clear (Unbound's\nprocessFinished: \"Clear the AA flag\").",
          "an authoritative answer from the forwarder reaches the client without AA", "",
          forward_root(FWD), aa, ask(1) + expect(10, good))
    signer, other = Signer(), Signer()
    zone = "example.com."
    forged = [f"{WWW} 300 IN A 192.0.2.66", f"SIG {zone}"]
    key = [signer.dnskey_line(zone), f"SIG {zone}"]
    bogus = server(FWD, entry(f"{WWW} IN A", aa=False,
                              answer="\n".join(expand(other, forged)))
                   + entry(f"{zone} IN DNSKEY", aa=False,
                           answer="\n".join(expand(signer, key))), "the forwarder")
    anchor = (f"\ttrust-anchor: \"{signer.ds_line(zone)}\"\n"
              "\tval-override-date: \"20260101120000\"\n")
    write("fwd_cd_query_gets_bogus_data",
          "RFC 4035 §3.2.2: with CD set the client does its own checking; the resolver "
          "returns the data\nit has, bogus or not, without AD: a forwarded answer whose "
          "signature does not verify is\nserved to a CD query.",
          "CD query: the forwarded bogus answer is served, without AD", anchor,
          forward_root(FWD), bogus,
          ask(1, flags="RD CD DO")
          + expect(10, "\n".join(expand(other, forged)), reply="QR RD RA CD DO NOERROR"))


BATCHES = {"1": (build_forwarding, build_signed, build_transport), "2": (build_second,),
           "3": (build_third,), "4": (build_fourth,)}


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    chosen = sys.argv[1:] or list(BATCHES)  # a batch alone keeps the others' files (keys)
    if not sys.argv[1:]:
        for old in OUT.glob("*.rpl"):
            old.unlink()
    for batch in chosen:
        for build in BATCHES[batch]:
            build()
