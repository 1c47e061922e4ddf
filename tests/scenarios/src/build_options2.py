"""Write tests/scenarios/testbound/options2/: testbound-dialect scenarios for Unbound's
``private-address`` / ``private-domain`` (DNS rebinding protection) and for server
addresses with a port (``stub-addr: 192.0.2.1@10053``), written from unbound.conf(5) before
each resolver change (issue 16 part 3, helper "opts").

unbound.conf(5), stub-addr / forward-addr: "IP address of stub zone nameserver.  Can be
IP 4 or IP 6.  To use a nondefault port for DNS communication append '@' with the port
number."  A range's ``ADDRESS ip@port`` in testbound is that server (port 53 without one).

unbound.conf(5), private-address: "These are addresses on your private network, and are
not allowed to be returned for public internet names.  Any occurrence of such addresses
are removed from DNS answers. [...] Some names can be allowed to contain your private
addresses [...] you can specify additional names using private-domain."  private-domain:
"Allow this domain, and all its subdomains to contain private addresses."

Each file is one aspect; the topology (root, com., example.com.) is the same for all and
is written here, not copied from Unbound's testdata.  Run: ``python
tests/scenarios/src/build_options2.py``.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).parents[1] / "testbound" / "options2"

ROOT = "193.0.14.129"
GTLD = "192.5.6.30"
NS = "1.2.3.4"


def entry(question: str, *, answer: str = "", authority: str = "", additional: str = "",
          aa: bool = True, match: str = "opcode qtype qname", rcode: str = "NOERROR",
          copy_query: bool = False) -> str:
    sections = [f"SECTION QUESTION\n{question}"]
    for title, body in (("ANSWER", answer), ("AUTHORITY", authority),
                        ("ADDITIONAL", additional)):
        if body:
            sections.append(f"SECTION {title}\n{body.strip()}")
    adjust = "copy_id copy_query" if copy_query else "copy_id"
    flags = "QR AA" if aa else "QR"
    return (f"ENTRY_BEGIN\nMATCH {match}\nADJUST {adjust}\nREPLY {flags} {rcode}\n"
            + "\n".join(sections) + "\nENTRY_END\n")


def nodata(name: str, rdtype: str, zone: str) -> str:
    apex = "" if zone == "." else zone
    return entry(f"{name} IN {rdtype}",
                 authority=f"{zone} 3600 IN SOA ns.{apex} hostmaster.{apex} 1 3600 900 "
                           f"86400 300")


def root_range(address: str = ROOT, glue: str = ROOT, extra: str = "") -> str:
    return (f"; K.ROOT-SERVERS.NET.\nRANGE_BEGIN 0 1000\n\tADDRESS {address}\n" + extra
            + entry(". IN NS", answer=". 86400 IN NS K.ROOT-SERVERS.NET.",
                    additional=f"K.ROOT-SERVERS.NET. 86400 IN A {glue}")
            + entry("K.ROOT-SERVERS.NET. IN A", answer=f"K.ROOT-SERVERS.NET. 86400 IN A {glue}")
            + nodata("K.ROOT-SERVERS.NET.", "AAAA", ".")
            + entry("a.gtld-servers.net. IN A",
                    answer=f"a.gtld-servers.net. 86400 IN A {GTLD}")
            + nodata("a.gtld-servers.net.", "AAAA", ".")
            + entry("com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                    authority="com. 86400 IN NS a.gtld-servers.net.",
                    additional=f"a.gtld-servers.net. 86400 IN A {GTLD}")
            + "RANGE_END\n\n")


def gtld_range(referral: str) -> str:
    return (f"; a.gtld-servers.net.\nRANGE_BEGIN 0 1000\n\tADDRESS {GTLD}\n"
            + entry("com. IN NS", answer="com. 86400 IN NS a.gtld-servers.net.",
                    additional=f"a.gtld-servers.net. 86400 IN A {GTLD}")
            + referral
            + "RANGE_END\n\n")


def example_referral() -> str:
    return entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                 authority="example.com. 86400 IN NS ns.example.com.",
                 additional=f"ns.example.com. 86400 IN A {NS}")


def zone_range(address: str, entries: str, ns_names: tuple[tuple[str, str], ...]
               = (("ns.example.com.", NS),)) -> str:
    ns_set = "\n".join(f"example.com. 86400 IN NS {n}" for n, _ in ns_names)
    out = (f"; {ns_names[0][0]} and the other servers of example.com.\n"
           f"RANGE_BEGIN 0 1000\n\tADDRESS {address}\n"
           + entries
           + entry("example.com. IN NS", answer=ns_set))
    for n, a in ns_names:
        out += entry(f"{n} IN A", answer=f"{n} 86400 IN A {a}") + nodata(n, "AAAA",
                                                                          "example.com.")
    return out + "RANGE_END\n\n"


def query(step: int, qname: str, qtype: str, answer: str, rcode: str = "NOERROR",
          authority: str = "") -> str:
    body = f"SECTION QUESTION\n{qname} IN {qtype}\n"
    if answer:
        body += f"SECTION ANSWER\n{answer.strip()}\n"
    if authority:
        body += f"SECTION AUTHORITY\n{authority.strip()}\n"
    return (f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY RD\nSECTION QUESTION\n{qname} IN {qtype}\n"
            f"ENTRY_END\n\n"
            f"STEP {step + 1} CHECK_ANSWER\nENTRY_BEGIN\nMATCH all\nREPLY QR RD RA {rcode}\n"
            f"{body}ENTRY_END\n\n")


def header(server: str, *, forward: bool = False, zones: str = "") -> str:
    zone = (f"forward-zone:\n\tname: \".\"\n\tforward-addr: {NS}\n" if forward else
            f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\t# K.ROOT-SERVERS.NET.\n")
    return ("; config options\nserver:\n\tqname-minimisation: \"no\"\n"
            "\tminimal-responses: yes\n" + server + "\n" + (zones or zone) + "CONFIG_END\n\n")


def scenario(name: str, title: str, server: str, ranges: str, steps: str,
             forward: bool = False, zones: str = "") -> None:
    text = (f"; {name}: written for shadowdns (issue 16 part 3), not Unbound's testdata\n"
            + header(server, forward=forward, zones=zones)
            + f"SCENARIO_BEGIN {title}\n\n" + ranges + steps + "SCENARIO_END\n")
    (OUT / f"{name}.rpl").write_text(text)


def iterated(zone_entries: str, **kw: tuple[tuple[str, str], ...]) -> str:
    return (root_range() + gtld_range(example_referral())
            + zone_range(NS, zone_entries, **kw))


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.rpl"):
        old.unlink()

    scenario(
        "opt_private_a_removed",
        "private-address: an A RRset all in a private range is removed (NOERROR, no answer)",
        "\tprivate-address: 10.0.0.0/8\n",
        iterated(entry("www.example.com. IN A", answer="www.example.com. 300 IN A 10.1.2.3")),
        query(10, "www.example.com.", "A", ""),
    )
    scenario(
        "opt_private_a_partial",
        "private-address: only the private records of an A RRset are removed",
        "\tprivate-address: 10.0.0.0/8\n\tprivate-address: 172.16.0.0/12\n",
        iterated(entry("mixed.example.com. IN A", answer="""
mixed.example.com. 300 IN A 10.9.8.7
mixed.example.com. 300 IN A 192.0.2.10
mixed.example.com. 300 IN A 172.20.0.1
mixed.example.com. 300 IN A 198.51.100.20
""")),
        query(10, "mixed.example.com.", "A", """
mixed.example.com. IN A 192.0.2.10
mixed.example.com. IN A 198.51.100.20
"""),
    )
    scenario(
        "opt_private_aaaa_only_listed",
        "private-address: an IPv6 range filters AAAA records; IPv4 not listed is kept",
        "\tprivate-address: fd00::/8\n",
        iterated(
            entry("host.example.com. IN AAAA", answer="""
host.example.com. 300 IN AAAA fd12:3456::1
host.example.com. 300 IN AAAA 2001:db8::53
""")
            + entry("host.example.com. IN A", answer="host.example.com. 300 IN A 10.0.0.1")),
        query(10, "host.example.com.", "AAAA", "host.example.com. IN AAAA 2001:db8::53")
        + query(20, "host.example.com.", "A", "host.example.com. IN A 10.0.0.1"),
    )
    scenario(
        "opt_private_single_address",
        "private-address: an address without a prefix length is that one address",
        "\tprivate-address: 192.0.2.1\n",
        iterated(entry("pair.example.com. IN A", answer="""
pair.example.com. 300 IN A 192.0.2.1
pair.example.com. 300 IN A 192.0.2.2
""")),
        query(10, "pair.example.com.", "A", "pair.example.com. IN A 192.0.2.2"),
    )
    scenario(
        "opt_private_domain_allows",
        "private-domain: names in the domain keep their private addresses",
        "\tprivate-address: 10.0.0.0/8\n\tprivate-address: fd00::/8\n"
        "\tprivate-domain: \"example.com\"\n",
        iterated(
            entry("www.example.com. IN A", answer="www.example.com. 300 IN A 10.1.2.3")
            + entry("www.example.com. IN AAAA",
                    answer="www.example.com. 300 IN AAAA fd00::1")),
        query(10, "www.example.com.", "A", "www.example.com. IN A 10.1.2.3")
        + query(20, "www.example.com.", "AAAA", "www.example.com. IN AAAA fd00::1"),
    )
    scenario(
        "opt_private_domain_subtree",
        "private-domain: its subdomains are allowed too, names outside it are not",
        "\tprivate-address: 10.0.0.0/8\n\tprivate-domain: \"intra.example.com\"\n",
        iterated(
            entry("a.b.intra.example.com. IN A",
                  answer="a.b.intra.example.com. 300 IN A 10.20.0.1")
            + entry("intra.example.com. IN A", answer="intra.example.com. 300 IN A 10.20.0.2")
            + entry("xintra.example.com. IN A",
                    answer="xintra.example.com. 300 IN A 10.20.0.3")),
        query(10, "a.b.intra.example.com.", "A", "a.b.intra.example.com. IN A 10.20.0.1")
        + query(20, "intra.example.com.", "A", "intra.example.com. IN A 10.20.0.2")
        + query(30, "xintra.example.com.", "A", ""),
    )
    scenario(
        "opt_private_cname_to_private_domain",
        "private-domain: the address record's owner decides, not the name asked (CNAME in)",
        "\tprivate-address: 10.0.0.0/8\n\tprivate-domain: \"intra.example.com\"\n",
        iterated(
            entry("www.example.com. IN A", answer="""
www.example.com. 300 IN CNAME host.intra.example.com.
host.intra.example.com. 300 IN A 10.0.0.7
""")
            + entry("host.intra.example.com. IN A",
                    answer="host.intra.example.com. 300 IN A 10.0.0.7")),
        query(10, "www.example.com.", "A", """
www.example.com. IN CNAME host.intra.example.com.
host.intra.example.com. IN A 10.0.0.7
"""),
    )
    scenario(
        "opt_private_cname_out_of_private_domain",
        "private-domain: a CNAME from it to a public name with a private address loses the A",
        "\tprivate-address: 10.0.0.0/8\n\tprivate-domain: \"intra.example.com\"\n",
        iterated(
            entry("portal.intra.example.com. IN A", answer="""
portal.intra.example.com. 300 IN CNAME www.example.com.
www.example.com. 300 IN A 10.0.0.8
""")
            + entry("www.example.com. IN A", answer="www.example.com. 300 IN A 10.0.0.8")),
        query(10, "portal.intra.example.com.", "A",
              "portal.intra.example.com. IN CNAME www.example.com."),
    )
    forwarder = (f"; the forwarder\nRANGE_BEGIN 0 1000\n\tADDRESS {NS}\n"
                 + entry("www.example.com. IN A", aa=False, answer="""
www.example.com. 300 IN A 192.168.1.1
www.example.com. 300 IN A 203.0.113.9
""") + "RANGE_END\n\n")
    scenario(
        "opt_private_forwarded",
        "private-address: answers from a forwarder are filtered too",
        "\tprivate-address: 192.168.0.0/16\n",
        forwarder,
        query(10, "www.example.com.", "A", "www.example.com. IN A 203.0.113.9"),
        forward=True,
    )
    two_ns = (("ns1.example.com.", "10.53.0.1"), ("ns2.example.com.", "1.2.3.5"))
    referral = entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
                     authority="example.com. 86400 IN NS ns1.example.com.\n"
                               "example.com. 86400 IN NS ns2.example.com.",
                     additional="ns1.example.com. 86400 IN A 10.53.0.1\n"
                                "ns2.example.com. 86400 IN A 1.2.3.5")
    good = entry("www.example.com. IN A", answer="www.example.com. 300 IN A 192.0.2.55")
    wrong = entry("www.example.com. IN A", answer="www.example.com. 300 IN A 192.0.2.66")
    scenario(
        "opt_private_glue_unused",
        "private-address: glue in a private range is removed, that server is not asked",
        "\tprivate-address: 10.0.0.0/8\n",
        root_range() + gtld_range(referral)
        + zone_range("1.2.3.5", good, ns_names=two_ns)
        + zone_range("10.53.0.1", wrong, ns_names=two_ns),
        query(10, "www.example.com.", "A", "www.example.com. IN A 192.0.2.55"),
    )


def answering(address: str, a: str, what: str, aa: bool = True) -> str:
    """A server at ``address`` that answers www.example.com. A with ``a``."""
    return (f"; {what}\nRANGE_BEGIN 0 1000\n\tADDRESS {address}\n"
            + entry("www.example.com. IN A", aa=aa, answer=f"www.example.com. 300 IN A {a}")
            + "RANGE_END\n\n")


def build_ports() -> None:
    www = "www.example.com."
    root_port = ROOT + "@10053"
    scenario(
        "opt_port_stub_root",
        "stub-addr with a port: the root hint is asked on that port, not on 53",
        "",
        answering(ROOT, "192.0.2.66", "port 53 of the hint's address: not the hint")
        + root_range(root_port) + gtld_range(example_referral())
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {root_port}\n",
    )
    scenario(
        "opt_port_forward_root",
        "forward-addr with a port: the forwarder is asked on that port",
        "",
        answering(NS, "192.0.2.66", "port 53: not the forwarder", aa=False)
        + answering(NS + "@5300", "192.0.2.55", "the forwarder", aa=False),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=f"forward-zone:\n\tname: \".\"\n\tforward-addr: {NS}@5300\n",
    )
    scenario(
        "opt_port_stub_zone",
        "stub-addr with a port in a stub zone below the root",
        "",
        root_range() + gtld_range(example_referral())
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.66"))
        + zone_range(NS + "@10053",
                     entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=(f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"
               f"stub-zone:\n\tname: \"example.com\"\n\tstub-addr: {NS}@10053\n"),
    )
    scenario(
        "opt_port_forward_zone",
        "forward-addr with a port in a forward zone below the root",
        "",
        root_range() + gtld_range(example_referral())
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.66"))
        + answering("198.51.100.7@8053", "192.0.2.55", "the forwarder", aa=False),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=(f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"
               "forward-zone:\n\tname: \"example.com\"\n"
               "\tforward-addr: 198.51.100.7@8053\n"),
    )
    scenario(
        "opt_port_53_is_the_default",
        "stub-addr with @53 is the address without a port",
        "",
        root_range() + gtld_range(example_referral())
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}@53\n",
    )
    scenario(
        "opt_port_ipv6_forwarder",
        "forward-addr: an IPv6 address with a port",
        "",
        answering("2001:db8::53", "192.0.2.66", "port 53: not the forwarder", aa=False)
        + answering("2001:db8::53@5353", "192.0.2.55", "the forwarder", aa=False),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones="forward-zone:\n\tname: \".\"\n\tforward-addr: 2001:db8::53@5353\n",
    )
    scenario(
        "opt_port_two_ports_one_address",
        "forward-addr: two ports of one address are two servers (a failing one, a good one)",
        "",
        (f"; the failing forwarder\nRANGE_BEGIN 0 1000\n\tADDRESS {NS}@5301\n"
         + entry(f"{www} IN A", aa=False, rcode="SERVFAIL") + "RANGE_END\n\n")
        + answering(NS + "@5302", "192.0.2.55", "the good forwarder", aa=False),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=(f"forward-zone:\n\tname: \".\"\n\tforward-addr: {NS}@5301\n"
               f"\tforward-addr: {NS}@5302\n"),
    )
    scenario(
        "opt_port_not_for_learnt_servers",
        "a port is the configured server's: servers learnt from its referrals use port 53",
        "",
        root_range(root_port) + root_range()
        .replace("K.ROOT-SERVERS.NET.\nRANGE", "port 53 of the root: not asked\nRANGE", 1)
        + gtld_range(example_referral())
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55"))
        + answering(GTLD + "@10053", "192.0.2.66", "the TLD server on the root's port"),
        query(10, www, "A", f"{www} IN A 192.0.2.55"),
        zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {root_port}\n",
    )


def build_stub_prime() -> None:
    """unbound.conf(5) stub-prime: "If enabled it performs NS set priming, which is similar
    to root hints, where it starts using the list of nameservers currently published by the
    zone.  Thus, if the hint list is slightly outdated, the resolver picks up a correct list
    online."  Default no: the stub's own addresses are used."""
    www = "www.example.com."
    ns2 = "1.2.3.5"
    published = (("ns2.example.com.", ns2),)
    stub_server = zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.66")
                             + entry("example.com. IN NS",
                                     answer="example.com. 86400 IN NS ns2.example.com.",
                                     additional=f"ns2.example.com. 86400 IN A {ns2}"))
    published_server = zone_range(ns2, entry(f"{www} IN A",
                                             answer=f"{www} 300 IN A 192.0.2.55"),
                                  ns_names=published)
    world = root_range() + gtld_range(example_referral()) + stub_server + published_server

    def zones(prime: str) -> str:
        return (f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"
                f"stub-zone:\n\tname: \"example.com\"\n\tstub-addr: {NS}\n" + prime)

    scenario("opt_stubprime_published_servers_used",
             "stub-prime: yes: the zone's published NS set replaces the stub's address",
             "", world, query(10, www, "A", f"{www} IN A 192.0.2.55"),
             zones=zones("\tstub-prime: yes\n"))
    check_ns = ("STEP 12 CHECK_OUT_QUERY\nENTRY_BEGIN\nMATCH qname qtype opcode\n"
                "SECTION QUESTION\nexample.com. IN NS\nENTRY_END\n\n")
    scenario("opt_stubprime_asks_the_ns_set",
             "stub-prime: yes: the stub's server is asked for the zone's NS set",
             "", world, query(10, www, "A", f"{www} IN A 192.0.2.55") + check_ns,
             zones=zones("\tstub-prime: yes\n"))
    scenario("opt_stubprime_no_uses_the_stub",
             "stub-prime: no: the stub's own address is asked, whatever the zone publishes",
             "", world, query(10, www, "A", f"{www} IN A 192.0.2.66"),
             zones=zones("\tstub-prime: no\n"))
    scenario("opt_stubprime_absent_is_no",
             "stub-prime absent: no priming, the stub's own address is asked",
             "", world, query(10, www, "A", f"{www} IN A 192.0.2.66"), zones=zones(""))
    scenario("opt_stubprime_second_query_primed",
             "stub-prime: yes: later questions in the zone go to the published servers too",
             "", world, query(10, www, "A", f"{www} IN A 192.0.2.55")
             + query(20, www, "A", f"{www} IN A 192.0.2.55"),
             zones=zones("\tstub-prime: yes\n"))
    glueless_stub = zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.66")
                               + entry("example.com. IN NS",
                                       answer="example.com. 86400 IN NS ns.example.net."))
    net_answer = (entry("ns.example.net. IN A", answer="ns.example.net. 86400 IN A 1.2.3.6")
                  + nodata("ns.example.net.", "AAAA", "."))
    glueless_world = (root_range(extra=net_answer) + gtld_range(example_referral())
                      + glueless_stub
                      + zone_range("1.2.3.6", entry(f"{www} IN A",
                                                    answer=f"{www} 300 IN A 192.0.2.55"),
                                   ns_names=(("ns.example.net.", "1.2.3.6"),)))
    scenario("opt_stubprime_published_ns_without_glue",
             "stub-prime: yes: a published server without glue is looked up",
             "", glueless_world, query(10, www, "A", f"{www} IN A 192.0.2.55"),
             zones=zones("\tstub-prime: yes\n"))
    primed_root = "193.0.14.130"
    direct = entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.66")
    root_world = (root_range(ROOT, glue=primed_root, extra=direct)
                  + root_range(primed_root, glue=primed_root)
                  + gtld_range(example_referral())
                  + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")))
    scenario("opt_stubprime_root_yes",
             "stub-prime: yes for the root: the primed root servers replace the stub address",
             "", root_world, query(10, www, "A", f"{www} IN A 192.0.2.55"),
             zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n\tstub-prime: yes\n")
    scenario("opt_stubprime_root_no",
             "stub-prime absent for the root: the stub address stays the root's server",
             "", root_world, query(10, www, "A", f"{www} IN A 192.0.2.66"),
             zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n")


def over(transport: str, ranges: str) -> str:
    """Every entry of ``ranges`` answers only queries over ``transport`` (TCP or UDP): a
    query over the other is unmatched, which fails the run."""
    return ranges.replace("MATCH opcode", f"MATCH {transport} opcode")


def build_tcp_upstream() -> None:
    """unbound.conf(5) tcp-upstream: "Enable or disable whether the upstream queries use TCP
    only for transport.  Default is no."  do-udp: "Enable or disable whether UDP queries are
    answered or issued.  Default is yes" (with no, upstream queries go over TCP).
    """
    www = "www.example.com."
    simple = iterated(entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55"))
    scenario("opt_tcp_upstream_all_tcp",
             "tcp-upstream: yes: every upstream query (priming, referrals, answer) over TCP",
             "\ttcp-upstream: yes\n", over("TCP", simple),
             query(10, www, "A", f"{www} IN A 192.0.2.55"))
    scenario("opt_tcp_upstream_default_udp",
             "tcp-upstream absent: upstream queries go over UDP",
             "", over("UDP", simple), query(10, www, "A", f"{www} IN A 192.0.2.55"))
    scenario("opt_tcp_upstream_no_is_udp",
             "tcp-upstream: no: upstream queries go over UDP",
             "\ttcp-upstream: no\n", over("UDP", simple),
             query(10, www, "A", f"{www} IN A 192.0.2.55"))
    scenario("opt_tcp_upstream_do_udp_no",
             "do-udp: no: no UDP query is issued upstream, TCP is used",
             "\tdo-udp: no\n", over("TCP", simple),
             query(10, www, "A", f"{www} IN A 192.0.2.55"))
    forwarder = (f"; the forwarder\nRANGE_BEGIN 0 1000\n\tADDRESS {NS}\n"
                 + entry(f"{www} IN A", aa=False, answer=f"{www} 300 IN A 192.0.2.55")
                 + "RANGE_END\n\n")
    scenario("opt_tcp_upstream_forwarder",
             "tcp-upstream: yes: a forwarder is asked over TCP",
             "\ttcp-upstream: yes\n", over("TCP", forwarder),
             query(10, www, "A", f"{www} IN A 192.0.2.55"), forward=True)
    net_answer = (entry("ns.example.net. IN A", answer=f"ns.example.net. 86400 IN A {NS}")
                  + nodata("ns.example.net.", "AAAA", "."))
    glueless = (root_range(extra=net_answer) + gtld_range(
        entry("example.com. IN A", match="opcode subdomain", aa=False, copy_query=True,
              authority="example.com. 86400 IN NS ns.example.net."))
        + zone_range(NS, entry(f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")))
    scenario("opt_tcp_upstream_glueless",
             "tcp-upstream: yes: a nameserver's address is looked up over TCP too",
             "\ttcp-upstream: yes\n", over("TCP", glueless),
             query(10, www, "A", f"{www} IN A 192.0.2.55"))
    chain = iterated(
        entry(f"{www} IN A", answer=f"{www} 300 IN CNAME host.example.com.")
        + entry("host.example.com. IN A", answer="host.example.com. 300 IN A 192.0.2.56"))
    scenario("opt_tcp_upstream_cname",
             "tcp-upstream: yes: the target of a CNAME is asked over TCP",
             "\ttcp-upstream: yes\n", over("TCP", chain),
             query(10, www, "A", f"{www} IN CNAME host.example.com.\n"
                                 "host.example.com. IN A 192.0.2.56"))
    soa = "example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 900 86400 300"
    negative = iterated(entry("nx.example.com. IN A", rcode="NXDOMAIN", authority=soa))
    scenario("opt_tcp_upstream_nxdomain",
             "tcp-upstream: yes: a negative answer comes over TCP",
             "\ttcp-upstream: yes\n", over("TCP", negative),
             query(10, "nx.example.com.", "A", "", rcode="NXDOMAIN", authority=soa))


def build_zone_tcp() -> None:
    """unbound.conf(5) forward-tcp-upstream / stub-tcp-upstream: "If it is set to "yes" then
    upstream queries use TCP only for transport regardless of global flag tcp-upstream.
    Default is no."  Only the zone's configured servers: servers learnt from referrals
    below it are asked as usual."""
    www = "www.example.com."
    good = f"{www} IN A 192.0.2.55"
    root_udp = over("UDP", root_range() + gtld_range(example_referral()))
    fwd = (f"; the forwarder\nRANGE_BEGIN 0 1000\n\tADDRESS {NS}\n"
           + entry(f"{www} IN A", aa=False, answer=f"{www} 300 IN A 192.0.2.55")
           + "RANGE_END\n\n")
    root_stub = f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"
    scenario("opt_zone_tcp_forward_zone",
             "forward-tcp-upstream: yes: the forward zone's servers are asked over TCP only",
             "", root_udp + over("TCP", fwd), query(10, www, "A", good),
             zones=root_stub + f"forward-zone:\n\tname: \"example.com\"\n"
                               f"\tforward-addr: {NS}\n\tforward-tcp-upstream: yes\n")
    zone_tcp = over("TCP", zone_range(NS, entry(f"{www} IN A",
                                                answer=f"{www} 300 IN A 192.0.2.55")))
    scenario("opt_zone_tcp_stub_zone",
             "stub-tcp-upstream: yes: the stub zone's servers are asked over TCP only",
             "", root_udp + zone_tcp, query(10, www, "A", good),
             zones=root_stub + f"stub-zone:\n\tname: \"example.com\"\n"
                               f"\tstub-addr: {NS}\n\tstub-tcp-upstream: yes\n")
    scenario("opt_zone_tcp_stub_no",
             "stub-tcp-upstream: no: the stub zone's servers are asked over UDP",
             "", root_udp + over("UDP", zone_range(NS, entry(
                 f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55"))),
             query(10, www, "A", good),
             zones=root_stub + f"stub-zone:\n\tname: \"example.com\"\n"
                               f"\tstub-addr: {NS}\n\tstub-tcp-upstream: no\n")
    scenario("opt_zone_tcp_root_forward",
             "forward-tcp-upstream: yes in the root forward zone: every query over TCP",
             "", over("TCP", fwd), query(10, www, "A", good),
             zones=f"forward-zone:\n\tname: \".\"\n\tforward-addr: {NS}\n"
                   "\tforward-tcp-upstream: yes\n")
    scenario("opt_zone_tcp_root_stub",
             "stub-tcp-upstream: yes for the root: the root over TCP, learnt servers over UDP",
             "", over("TCP", root_range()) + over("UDP", gtld_range(example_referral())
                                                   + zone_range(NS, entry(
                                                       f"{www} IN A",
                                                       answer=f"{www} 300 IN A 192.0.2.55"))),
             query(10, www, "A", good),
             zones=f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\n"
                   "\tstub-tcp-upstream: yes\n")
    sub = "www.sub.example.com."
    sub_fwd = ("; the forwarder of sub.example.com.\nRANGE_BEGIN 0 1000\n"
               "\tADDRESS 198.51.100.7\n"
               + entry(f"{sub} IN A", aa=False, answer=f"{sub} 300 IN A 192.0.2.77")
               + "RANGE_END\n\n")
    scenario("opt_zone_tcp_outside_the_zone_udp",
             "forward-tcp-upstream: yes: names outside the zone are still asked over UDP",
             "", root_udp + over("UDP", zone_range(NS, entry(
                 f"{www} IN A", answer=f"{www} 300 IN A 192.0.2.55")))
             + over("TCP", sub_fwd),
             query(10, www, "A", good) + query(20, sub, "A", f"{sub} IN A 192.0.2.77"),
             zones=root_stub + "forward-zone:\n\tname: \"sub.example.com\"\n"
                               "\tforward-addr: 198.51.100.7\n\tforward-tcp-upstream: yes\n")
    scenario("opt_zone_tcp_no_keeps_global_yes",
             "forward-tcp-upstream: no does not undo tcp-upstream: yes",
             "\ttcp-upstream: yes\n", over("TCP", fwd), query(10, www, "A", good),
             zones=f"forward-zone:\n\tname: \".\"\n\tforward-addr: {NS}\n"
                   "\tforward-tcp-upstream: no\n")
    child = (entry("sub.example.com. IN A", match="opcode subdomain", aa=False,
                   copy_query=True, authority="sub.example.com. 86400 IN NS ns.sub.example.com.",
                   additional="ns.sub.example.com. 86400 IN A 1.2.3.7"))
    child_server = ("; ns.sub.example.com.\nRANGE_BEGIN 0 1000\n\tADDRESS 1.2.3.7\n"
                    + entry(f"{sub} IN A", answer=f"{sub} 300 IN A 192.0.2.77")
                    + entry("sub.example.com. IN NS",
                            answer="sub.example.com. 86400 IN NS ns.sub.example.com.",
                            additional="ns.sub.example.com. 86400 IN A 1.2.3.7")
                    + entry("ns.sub.example.com. IN A",
                            answer="ns.sub.example.com. 86400 IN A 1.2.3.7")
                    + nodata("ns.sub.example.com.", "AAAA", "sub.example.com.")
                    + "RANGE_END\n\n")
    scenario("opt_zone_tcp_child_of_stub_udp",
             "stub-tcp-upstream: yes: a zone delegated below the stub zone is asked over UDP",
             "", root_udp + over("TCP", zone_range(NS, child)) + over("UDP", child_server),
             query(10, sub, "A", f"{sub} IN A 192.0.2.77"),
             zones=root_stub + f"stub-zone:\n\tname: \"example.com\"\n"
                               f"\tstub-addr: {NS}\n\tstub-tcp-upstream: yes\n")


if __name__ == "__main__":
    build()
    build_ports()
    build_stub_prime()
    build_tcp_upstream()
    build_zone_tcp()
