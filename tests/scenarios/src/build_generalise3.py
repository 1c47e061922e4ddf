"""Write the scenarios of tests/scenarios/generalise3/{fixon,heldout} (issue 16, fourth round).

Behaviours the earlier rounds did not cover, in the same four areas (iteration around broken
or lame servers, DNAME in an insecure zone, NS sets that change, validation next to NXDOMAIN
and wildcard proofs) and QNAME-minimisation fallbacks (RFC 9156 §2.3/§3, Unbound's relaxed
mode, Knot Resolver's NO_MINIMIZE).  Addresses 127.7.60.0 and up.  Every scenario is
written into ``generalise3/`` and placed in ``fixon/`` or ``heldout/`` by deckard.split's
rule (SHA-256 of the name: even = fix, odd = measure), decided before any was run.  Each
file's comment lines say which RFC section or documented behaviour its answers follow.
``heldout2`` (HELDOUT2) was written after the fixes and run once.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[3]))

from build import NOERROR, signed_zone_server, soa, ta  # noqa: E402
from build_generalise import INSECURE, cite, signed_path, zone_server  # noqa: E402
from rpl import (  # noqa: E402
    Entry,
    Nsec3Chain,
    Signer,
    catch_all,
    check,
    elapse,
    header,
    query,
    range_,
    root_range,
    sub,
    tld_range,
)

from deckard.split import half  # noqa: E402

OUT = Path(__file__).parents[1] / "generalise3"
SERVFAIL_ONLY = "opcode qname qtype rcode"


def write(name: str, text: str, where: str | None = None) -> None:
    where = where or ("fixon" if half(name) == "fix" else "heldout")
    path = OUT / where / f"{name}.rpl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "SCENARIO_END\n")


QMIN_FALLBACK = ("RFC 9156 §2.3: a server that answers a minimised query with an error is "
                 "broken; the resolver",
                 "asks the full name instead (Unbound's relaxed qname-minimisation: 'fall "
                 "back to sending the full QNAME to potentially broken nameservers';",
                 "Knot Resolver's iterator sets NO_MINIMIZE and asks the full name).")


def qmin_error(rcode: str, zone: str, addr: str, www: str, txt: str) -> str:
    """A zone whose server answers only the full questions (and its own NS/address); every
    other query, so every minimised one, gets ``rcode``."""
    ns = f"ns.{zone}"
    t = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {zone: ([ns], [f"{ns} A {addr}"])})
    t += range_(0, 1000, [addr], [
        Entry(f"www.dept.{zone} A", answer=[f"www.dept.{zone} 300 IN A {www}"]),
        Entry(f"info.a.b.c.{zone} TXT", answer=[f'info.a.b.c.{zone} 300 IN TXT "{txt}"']),
        Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS {ns}"]),
        Entry(f"{ns} A", answer=[f"{ns} 3600 IN A {addr}"]),
        Entry(f"{ns} AAAA", authority=[soa(zone, ns)]),
        catch_all(f"QR {rcode}"),
    ], comment=f"{ns}: answers the full questions, {rcode} to anything else")
    t += query(10, f"www.dept.{zone} A")
    t += check(11, f"www.dept.{zone} A", NOERROR, [f"www.dept.{zone} 300 IN A {www}"])
    t += query(20, f"info.a.b.c.{zone} TXT")
    t += check(21, f"info.a.b.c.{zone} TXT", NOERROR, [f'info.a.b.c.{zone} 300 IN TXT "{txt}"'])
    return t


def qmin_refused() -> str:
    t = cite(*QMIN_FALLBACK)
    t += header("A server that REFUSES every query but the full questions: both names "
                "(three and five labels below the cut) are answered")
    return t + qmin_error("REFUSED", "refusing.com.", "127.7.60.1", "192.0.2.61", "r")


def qmin_servfail() -> str:
    t = cite(*QMIN_FALLBACK)
    t += header("A server that answers SERVFAIL to every query but the full questions: both "
                "names are answered")
    return t + qmin_error("SERVFAIL", "failing.com.", "127.7.60.2", "192.0.2.62", "s")


def qmin_formerr() -> str:
    t = cite(*QMIN_FALLBACK)
    t += header("A server that answers FORMERR to every query but the full questions: both "
                "names are answered")
    return t + qmin_error("FORMERR", "formerr.com.", "127.7.60.3", "192.0.2.63", "f")


def qmin_notimp() -> str:
    t = cite(*QMIN_FALLBACK)
    t += header("A server that answers NOTIMP to every query but the full questions: both "
                "names are answered")
    return t + qmin_error("NOTIMP", "notimp.com.", "127.7.60.4", "192.0.2.64", "n")


def qmin_nxdomain_ent() -> str:
    t = cite("RFC 9156 §2.3: some servers answer NXDOMAIN for an empty non-terminal (against "
             "RFC 8020); in a zone that is",
             "not signed the resolver asks the full name (Unbound's relaxed mode; Knot "
             "Resolver: 'NXDOMAIN => retry as a workaround for bad authoritatives').")
    t += header("An unsigned zone whose server says NXDOMAIN for the empty non-terminals "
                "above existing names: the names are answered")
    zone, ns, addr = "entbug.net.", "ns.entbug.net.", "127.7.60.10"
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {zone: ([ns], [f"{ns} A {addr}"])})
    nx = [soa(zone, ns)]
    t += zone_server(addr, zone, [ns], [f"{ns} 3600 IN A {addr}"], [
        Entry("host.lab.site.entbug.net. A",
              answer=["host.lab.site.entbug.net. 300 IN A 192.0.2.70"]),
        Entry("mail.site.entbug.net. MX",
              answer=["mail.site.entbug.net. 300 IN MX 10 mx.entbug.net."]),
        Entry("lab.site.entbug.net. A", reply="QR AA NXDOMAIN", authority=nx),
        Entry("lab.site.entbug.net. NS", reply="QR AA NXDOMAIN", authority=nx),
        Entry("site.entbug.net. A", reply="QR AA NXDOMAIN", authority=nx),
        Entry("site.entbug.net. NS", reply="QR AA NXDOMAIN", authority=nx),
    ], f"{ns}: entbug.net; site and lab.site are empty non-terminals it calls NXDOMAIN")
    t += query(10, "host.lab.site.entbug.net. A")
    t += check(11, "host.lab.site.entbug.net. A", NOERROR,
               ["host.lab.site.entbug.net. 300 IN A 192.0.2.70"])
    t += query(20, "mail.site.entbug.net. MX")
    t += check(21, "mail.site.entbug.net. MX", NOERROR,
               ["mail.site.entbug.net. 300 IN MX 10 mx.entbug.net."])
    return t


def qmin_ent_nodata_no_soa() -> str:
    t = cite("RFC 9156 §3: a NOERROR answer without data for a minimised name shows no cut "
             "there; the walk goes on to the",
             "full name (RFC 2308 §2.2: NODATA; a missing SOA only makes it uncacheable).")
    t += header("A server that answers the empty non-terminals with an AA NOERROR without "
                "records and without SOA: the name below is answered")
    zone, ns, addr = "nosoa.org.", "ns.nosoa.org.", "127.7.60.20"
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {zone: ([ns], [f"{ns} A {addr}"])})
    t += range_(0, 1000, [addr], [
        Entry("api.v2.eu.nosoa.org. A", answer=["api.v2.eu.nosoa.org. 300 IN A 192.0.2.71"]),
        Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS {ns}"]),
        Entry(f"{ns} A", answer=[f"{ns} 3600 IN A {addr}"]),
        sub(f"{zone} A", "QR AA NOERROR"),
    ], comment=f"{ns}: nosoa.org; anything else is an empty AA NOERROR without SOA")
    t += query(10, "api.v2.eu.nosoa.org. A")
    t += check(11, "api.v2.eu.nosoa.org. A", NOERROR,
               ["api.v2.eu.nosoa.org. 300 IN A 192.0.2.71"])
    return t


def qmin_many_labels() -> str:
    deep = "a.b.c.d.e.f.g.h.i.j.k.deep.com."
    deeper = "l01.l02.l03.l04.l05.l06.l07.l08.l09.l10.l11.l12.l13.l14.l15.l16.k.deep.com."
    t = cite("RFC 9156 §2.3 (MAX_MINIMISE_COUNT): a long name is revealed several labels "
             "at a time, but a cut anywhere",
             "on the way is still found (a referral to any minimised name below the cut "
             "leads to the cut), RFC 1034 §5.3.3.")
    t += header("Names of 13 and 19 labels below deep.com, which delegates "
                "h.i.j.k.deep.com (for the first) and k.deep.com (for the second)")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "deep.com.": (["ns.deep.com."], ["ns.deep.com. A 127.7.60.30"])})
    t += zone_server("127.7.60.30", "deep.com.", ["ns.deep.com."],
                     ["ns.deep.com. 3600 IN A 127.7.60.30"], [
        sub("h.i.j.k.deep.com. NS", authority=["h.i.j.k.deep.com. 3600 IN NS ns.h.i.j.k.deep.com."],
            additional=["ns.h.i.j.k.deep.com. 3600 IN A 127.7.60.31"]),
        sub("l16.k.deep.com. NS", authority=["l16.k.deep.com. 3600 IN NS ns.l16.k.deep.com."],
            additional=["ns.l16.k.deep.com. 3600 IN A 127.7.60.32"]),
    ], "ns.deep.com: deep.com, delegating h.i.j.k and l16.k")
    t += zone_server("127.7.60.31", "h.i.j.k.deep.com.", ["ns.h.i.j.k.deep.com."],
                     ["ns.h.i.j.k.deep.com. 3600 IN A 127.7.60.31"], [
        Entry(f"{deep} A", answer=[f"{deep} 300 IN A 192.0.2.72"])], "h.i.j.k.deep.com")
    t += zone_server("127.7.60.32", "l16.k.deep.com.", ["ns.l16.k.deep.com."],
                     ["ns.l16.k.deep.com. 3600 IN A 127.7.60.32"], [
        Entry(f"{deeper} AAAA", answer=[f"{deeper} 300 IN AAAA 2001:db8::73"])],
        "l16.k.deep.com")
    t += query(10, f"{deep} A")
    t += check(11, f"{deep} A", NOERROR, [f"{deep} 300 IN A 192.0.2.72"])
    t += query(20, f"{deeper} AAAA")
    t += check(21, f"{deeper} AAAA", NOERROR, [f"{deeper} 300 IN AAAA 2001:db8::73"])
    return t


def qmin_cname_to_deep_target() -> str:
    t = cite("RFC 1034 §3.6.2/§5.3.3: a CNAME's target is resolved from the root down as "
             "a new question; RFC 9156 §3",
             "minimises that walk afresh (the cut below the target's zone is found).")
    t += header("A CNAME into another TLD whose zone delegates the target's parent "
                "several labels down: CNAME and target's address")
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", ""),
                     "org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "alias.net.": (["ns.alias.net."], ["ns.alias.net. A 127.7.60.40"])})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "cdn.org.": (["ns.cdn.org."], ["ns.cdn.org. A 127.7.60.41"])})
    t += zone_server("127.7.60.40", "alias.net.", ["ns.alias.net."],
                     ["ns.alias.net. 3600 IN A 127.7.60.40"], [
        sub("www.alias.net. A", "QR AA NOERROR",
            answer=["www.alias.net. 300 IN CNAME edge.pop.eu.west.cdn.org."])],
        "ns.alias.net: alias.net, www is a CNAME")
    t += zone_server("127.7.60.41", "cdn.org.", ["ns.cdn.org."],
                     ["ns.cdn.org. 3600 IN A 127.7.60.41"], [
        sub("eu.west.cdn.org. NS", authority=["eu.west.cdn.org. 3600 IN NS ns.eu.west.cdn.org."],
            additional=["ns.eu.west.cdn.org. 3600 IN A 127.7.60.42"])],
        "ns.cdn.org: cdn.org, delegating eu.west.cdn.org")
    t += zone_server("127.7.60.42", "eu.west.cdn.org.", ["ns.eu.west.cdn.org."],
                     ["ns.eu.west.cdn.org. 3600 IN A 127.7.60.42"], [
        Entry("edge.pop.eu.west.cdn.org. A",
              answer=["edge.pop.eu.west.cdn.org. 300 IN A 192.0.2.74"])],
        "ns.eu.west.cdn.org: eu.west.cdn.org")
    t += query(10, "www.alias.net. A")
    t += check(11, "www.alias.net. A", NOERROR, [
        "www.alias.net. 300 IN CNAME edge.pop.eu.west.cdn.org.",
        "edge.pop.eu.west.cdn.org. 300 IN A 192.0.2.74"])
    return t


def qmin_dname_in_path_insecure() -> str:
    s = Signer()
    t = cite("RFC 6672 §2.2/§3.1: every name below a DNAME owner is redirected, so a "
             "minimised query below it is answered",
             "with the DNAME (and a CNAME for that minimised name): no cut; the full name's "
             "answer is the DNAME, the CNAME",
             "synthesised for it and the target's data; RFC 4035 §4.3: the zone is unsigned "
             "(NSEC: no DS), so no AD.")
    t += header("QNAME minimisation meets a DNAME in an unsigned zone below a signed TLD: "
                "the full name is answered through the DNAME, insecure", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "moved.com.": (["ns.moved.com."], ["ns.moved.com. A 127.7.60.50"])}, signer=s)
    dn = "legacy.moved.com. 300 IN DNAME current.moved.com."
    t += zone_server("127.7.60.50", "moved.com.", ["ns.moved.com."],
                     ["ns.moved.com. 3600 IN A 127.7.60.50"], [
        Entry("host.team.current.moved.com. A",
              answer=["host.team.current.moved.com. 300 IN A 192.0.2.75"]),
        Entry("legacy.moved.com. NS", authority=[soa("moved.com.", "ns.moved.com.")]),
        Entry("legacy.moved.com. A", authority=[soa("moved.com.", "ns.moved.com.")]),
        Entry("team.legacy.moved.com. NS", answer=[
            dn, "team.legacy.moved.com. 300 IN CNAME team.current.moved.com."]),
        Entry("team.legacy.moved.com. A", answer=[
            dn, "team.legacy.moved.com. 300 IN CNAME team.current.moved.com."]),
        Entry("host.team.legacy.moved.com. A", answer=[
            dn, "host.team.legacy.moved.com. 300 IN CNAME host.team.current.moved.com.",
            "host.team.current.moved.com. 300 IN A 192.0.2.75"]),
        sub("legacy.moved.com. A", "QR AA NOERROR", answer=[dn]),
    ], "ns.moved.com: moved.com, unsigned; legacy.moved.com is a DNAME")
    t += query(10, "host.team.legacy.moved.com. A", "RD DO")
    t += check(11, "host.team.legacy.moved.com. A", INSECURE, [
        dn, "host.team.legacy.moved.com. 300 IN CNAME host.team.current.moved.com.",
        "host.team.current.moved.com. 300 IN A 192.0.2.75"])
    return t


def glue_v6_only_needs_a() -> str:
    t = cite("RFC 1034 §5.3.3 step 2/4: a nameserver whose only glue is an address the "
             "resolver cannot use (IPv6 with do-ip6: no)",
             "has its IPv4 address looked up; the other nameserver refuses (RFC 4697 §2.1: "
             "lame for the zone).")
    t += header("ns1 (IPv4 glue) refuses; ns2's glue is IPv6 only, unusable here; its A "
                "record, in its own zone, is looked up and used")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "v6glue.com.": (["ns1.v6glue.com.", "ns2.hosting.net."],
                        ["ns1.v6glue.com. A 127.7.60.60", "ns2.hosting.net. AAAA fd07:60::61"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "hosting.net.": (["ns.hosting.net."], ["ns.hosting.net. A 127.7.60.62"])})
    t += range_(0, 1000, ["127.7.60.60"], [catch_all("QR REFUSED")],
                comment="ns1.v6glue.com: refuses")
    t += zone_server("127.7.60.62", "hosting.net.", ["ns.hosting.net."],
                     ["ns.hosting.net. 3600 IN A 127.7.60.62"], [
        Entry("ns2.hosting.net. A", answer=["ns2.hosting.net. 3600 IN A 127.7.60.61"]),
        Entry("ns2.hosting.net. AAAA", answer=["ns2.hosting.net. 3600 IN AAAA fd07:60::61"]),
    ], "ns.hosting.net: hosting.net")
    t += zone_server("127.7.60.61", "v6glue.com.", ["ns1.v6glue.com.", "ns2.hosting.net."],
                     ["ns1.v6glue.com. 3600 IN A 127.7.60.60"], [
        Entry("www.v6glue.com. A", answer=["www.v6glue.com. 300 IN A 192.0.2.76"])],
        "ns2.hosting.net over IPv4: v6glue.com")
    t += query(10, "www.v6glue.com. A")
    t += check(11, "www.v6glue.com. A", NOERROR, ["www.v6glue.com. 300 IN A 192.0.2.76"])
    return t


def glueless_cycle_exit() -> str:
    t = cite("RFC 1034 §5.3.3: a nameserver whose address depends on the zone being "
             "resolved (a cycle) is skipped; another",
             "route to an address is taken; a refusing server is lame (RFC 4697 §2.1).")
    t += header("a.com's servers: ns1 (glue, refuses) and ns.b.net (glue-less); b.net's "
                "servers: ns.a.com (a cycle) and ns2.b.net (glue): the name resolves")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "cyc-a.com.": (["ns1.cyc-a.com.", "ns.cyc-b.net."], ["ns1.cyc-a.com. A 127.7.60.70"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "cyc-b.net.": (["ns.cyc-a.com.", "ns2.cyc-b.net."], ["ns2.cyc-b.net. A 127.7.60.72"])})
    t += range_(0, 1000, ["127.7.60.70"], [catch_all("QR REFUSED")],
                comment="ns1.cyc-a.com: refuses")
    t += zone_server("127.7.60.72", "cyc-b.net.", ["ns.cyc-a.com.", "ns2.cyc-b.net."],
                     ["ns2.cyc-b.net. 3600 IN A 127.7.60.72"], [
        Entry("ns.cyc-b.net. A", answer=["ns.cyc-b.net. 3600 IN A 127.7.60.71"])],
        "ns2.cyc-b.net: cyc-b.net")
    t += zone_server("127.7.60.71", "cyc-a.com.", ["ns1.cyc-a.com.", "ns.cyc-b.net."],
                     ["ns1.cyc-a.com. 3600 IN A 127.7.60.70"], [
        Entry("www.cyc-a.com. A", answer=["www.cyc-a.com. 300 IN A 192.0.2.77"])],
        "ns.cyc-b.net: cyc-a.com")
    t += query(10, "www.cyc-a.com. A")
    t += check(11, "www.cyc-a.com. A", NOERROR, ["www.cyc-a.com. 300 IN A 192.0.2.77"])
    return t


def every_server_refuses() -> str:
    t = cite("RFC 1034 §5.3.3 / RFC 4697 §2.1: when every server of the zone is lame "
             "(REFUSED, an upward referral), the resolver",
             "answers SERVFAIL; a neighbour zone in the same TLD is unaffected.")
    t += header("Both servers of a zone are lame (one refuses, one refers upward): "
                "SERVFAIL; the neighbour zone answers")
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "gone.org.": (["ns1.gone.org.", "ns2.gone.org."],
                      ["ns1.gone.org. A 127.7.60.80", "ns2.gone.org. A 127.7.60.81"]),
        "fine.org.": (["ns.fine.org."], ["ns.fine.org. A 127.7.60.82"])})
    t += range_(0, 1000, ["127.7.60.80"], [catch_all("QR REFUSED")],
                comment="ns1.gone.org: refuses")
    t += range_(0, 1000, ["127.7.60.81"], [catch_all(
        "QR NOERROR", authority=["org. 86400 IN NS ns.nic.org."],
        additional=["ns.nic.org. 86400 IN A 127.7.1.3"])],
        comment="ns2.gone.org: upward referral to org.")
    t += zone_server("127.7.60.82", "fine.org.", ["ns.fine.org."],
                     ["ns.fine.org. 3600 IN A 127.7.60.82"], [
        Entry("www.fine.org. A", answer=["www.fine.org. 300 IN A 192.0.2.78"])],
        "ns.fine.org: fine.org")
    t += query(10, "www.gone.org. A")
    t += check(11, "www.gone.org. A", "QR RD RA SERVFAIL", match=SERVFAIL_ONLY)
    t += query(20, "www.fine.org. A")
    t += check(21, "www.fine.org. A", NOERROR, ["www.fine.org. 300 IN A 192.0.2.78"])
    return t


def child_nsset_from_authority() -> str:
    t = cite("RFC 2181 §5.4.1: the zone's own NS RRset (in the authority section of an "
             "authoritative answer) ranks above the",
             "parent's referral and replaces it; when the first server later drops the "
             "zone (REFUSED), the second, known only from the child's NS set, is used.")
    t += header("The parent delegates to ns1 only; the child's answers list ns1 and ns2; "
                "ns1 drops the zone at step 30; the next question is answered by ns2")
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", "")})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "grow.nl.": (["ns1.grow.nl."], ["ns1.grow.nl. A 127.7.60.90"])})
    nsset = ["grow.nl. 3600 IN NS ns1.grow.nl.", "grow.nl. 3600 IN NS ns2.grow.nl."]
    glue = ["ns1.grow.nl. 3600 IN A 127.7.60.90", "ns2.grow.nl. 3600 IN A 127.7.60.91"]
    data = [Entry("www.grow.nl. A", answer=["www.grow.nl. 300 IN A 192.0.2.79"],
                  authority=nsset, additional=glue),
            Entry("ftp.grow.nl. A", answer=["ftp.grow.nl. 300 IN A 192.0.2.80"],
                  authority=nsset, additional=glue)]
    t += zone_server("127.7.60.90", "grow.nl.", ["ns1.grow.nl.", "ns2.grow.nl."], glue, data,
                     "ns1.grow.nl: grow.nl (until step 29)", 0, 29)
    t += range_(30, 1000, ["127.7.60.90"], [catch_all("QR REFUSED")],
                comment="ns1.grow.nl from step 30: no longer serves grow.nl")
    t += zone_server("127.7.60.91", "grow.nl.", ["ns1.grow.nl.", "ns2.grow.nl."], glue, data,
                     "ns2.grow.nl: grow.nl")
    t += query(10, "www.grow.nl. A")
    t += check(11, "www.grow.nl. A", NOERROR, ["www.grow.nl. 300 IN A 192.0.2.79"])
    t += elapse(20, 60)
    t += query(40, "ftp.grow.nl. A")
    t += check(41, "ftp.grow.nl. A", NOERROR, ["ftp.grow.nl. 300 IN A 192.0.2.80"])
    return t


def nsset_new_name() -> str:
    t = cite("RFC 1034 §3.6/§4.2.2: a delegation lives for its TTL; after it has expired "
             "the parent's new NS set (a new",
             "nameserver name and address) is used; the old server's stale copy is not "
             "asked again.")
    t += header("The zone moves to a new nameserver (new name, new address) after the "
                "delegation's 300 s; the old server keeps serving its old copy")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "")})
    for first, last, ns, addr in ((0, 29, "dns1.oldhost.com.", "127.7.60.100"),
                                  (30, 1000, "dns9.newhost.com.", "127.7.60.101")):
        t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
            "shop-x.com.": ([f"300 {ns}"], [f"{ns} 300 IN A {addr}"]),
            "oldhost.com.": (["dns1.oldhost.com."], ["dns1.oldhost.com. A 127.7.60.100"]),
            "newhost.com.": (["dns9.newhost.com."], ["dns9.newhost.com. A 127.7.60.101"])},
            first, last, comment=f"ns.nic.com: com, shop-x.com at {ns}")
    for addr, ns, www in (("127.7.60.100", "dns1.oldhost.com.", "192.0.2.81"),
                          ("127.7.60.101", "dns9.newhost.com.", "192.0.2.82")):
        host = ns.split(".", 1)[1]
        t += range_(0, 1000, [addr], [
            Entry("www.shop-x.com. A", answer=[f"www.shop-x.com. 300 IN A {www}"]),
            Entry("shop-x.com. NS", answer=[f"shop-x.com. 300 IN NS {ns}"]),
            Entry(f"{ns} A", answer=[f"{ns} 300 IN A {addr}"]),
            sub("shop-x.com. A", "QR AA NOERROR", authority=[soa("shop-x.com.", ns)]),
            sub(f"{host} A", "QR AA NOERROR", authority=[soa(host, ns)]),
        ], comment=f"{ns}: shop-x.com ({www}) and {host}")
    t += query(10, "www.shop-x.com. A")
    t += check(11, "www.shop-x.com. A", NOERROR, ["www.shop-x.com. 300 IN A 192.0.2.81"])
    t += elapse(20, 400)
    t += query(40, "www.shop-x.com. A")
    t += check(41, "www.shop-x.com. A", NOERROR, ["www.shop-x.com. 300 IN A 192.0.2.82"])
    return t


def dname_insecure_mismatched_cname() -> str:
    s = Signer()
    t = cite("RFC 6672 §3.1/§3.4: the CNAME sent with a DNAME must be the DNAME's "
             "substitution; a CNAME that is not is",
             "not believed (Unbound's scrubber synthesises it from the DNAME); RFC 4035 "
             "§4.3: unsigned zone, no AD.")
    t += header("A DNAME in an unsigned zone sent with a CNAME pointing elsewhere: the "
                "answer follows the DNAME's substitution, insecure", extra=ta(s))
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "rename.net.": (["ns.rename.net."], ["ns.rename.net. A 127.7.60.110"])}, signer=s)
    dn = "old.rename.net. 300 IN DNAME new.rename.net."
    t += zone_server("127.7.60.110", "rename.net.", ["ns.rename.net."],
                     ["ns.rename.net. 3600 IN A 127.7.60.110"], [
        Entry("pc.old.rename.net. A", answer=[
            dn, "pc.old.rename.net. 300 IN CNAME trap.rename.net."]),
        Entry("pc.new.rename.net. A", answer=["pc.new.rename.net. 300 IN A 192.0.2.83"]),
        Entry("trap.rename.net. A", answer=["trap.rename.net. 300 IN A 192.0.2.84"]),
        sub("old.rename.net. A", "QR AA NOERROR", answer=[dn]),
    ], "ns.rename.net: rename.net, unsigned; old is a DNAME, sent with a wrong CNAME")
    t += query(10, "pc.old.rename.net. A", "RD DO")
    t += check(11, "pc.old.rename.net. A", INSECURE, [
        dn, "pc.old.rename.net. 300 IN CNAME pc.new.rename.net.",
        "pc.new.rename.net. 300 IN A 192.0.2.83"])
    return t


def nsec_nxdomain_no_wildcard_proof() -> str:
    s = Signer()
    z = "SIG quay.org."
    soa_ = soa("quay.org.", "ns.quay.org.")
    # canonical order: quay.org, *.quay.org? (none), a, k, ns, z
    t = cite("RFC 4035 §3.1.3.2/§5.4: an NXDOMAIN needs an NSEC covering the name and one "
             "proving no wildcard could match;",
             "here the only NSEC covers the name but not *.quay.org: bogus, SERVFAIL (§5.5); "
             "the same zone's full proof validates (AD).")
    t += header("NSEC zone: an NXDOMAIN whose NSEC covers the name but not the wildcard is "
                "bogus; a full NXDOMAIN proof validates", extra=ta(s))
    t += signed_path(s, "quay.org.", "127.7.60.120")
    t += signed_zone_server(s, "quay.org.", "127.7.60.120", "ns.quay.org.", [
        Entry("m.quay.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "k.quay.org. 300 IN NSEC ns.quay.org. A RRSIG NSEC", z]),
        Entry("b.quay.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "a.quay.org. 300 IN NSEC k.quay.org. A RRSIG NSEC", z,
            "quay.org. 300 IN NSEC a.quay.org. NS SOA RRSIG NSEC DNSKEY", z]),
        sub("quay.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.quay.org: quay.org, NSEC (apex, a, k, ns)")
    t += query(10, "m.quay.org. A", "RD DO")
    t += check(11, "m.quay.org. A", "QR RD RA DO SERVFAIL", match=SERVFAIL_ONLY)
    t += query(20, "b.quay.org. A", "RD DO")
    t += check(21, "b.quay.org. A", "QR RD RA AD DO NXDOMAIN", match=SERVFAIL_ONLY + " flags")
    return t


def nsec_nxdomain_owner_is_qname() -> str:
    s = Signer()
    z = "SIG pier.com."
    soa_ = soa("pier.com.", "ns.pier.com.")
    t = cite("RFC 4035 §5.4: an NSEC whose owner is the queried name proves that name "
             "exists, so it is no NXDOMAIN proof;",
             "its type map (no TXT) proves NODATA, and Unbound's validator is 'lenient with "
             "RCODE in NSEC NameError responses':",
             "it answers a secure NODATA (NOERROR, AD) instead.  (Written first expecting "
             "SERVFAIL, which no RFC requires; corrected",
             "after the held-out run, see tests/scenarios/README.md.)")
    t += header("NSEC zone: an NXDOMAIN for a name whose own NSEC is the proof is answered "
                "as the NODATA that NSEC proves; the name's data validates", extra=ta(s))
    t += signed_path(s, "pier.com.", "127.7.60.130")
    t += signed_zone_server(s, "pier.com.", "127.7.60.130", "ns.pier.com.", [
        Entry("dock.pier.com. TXT", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "dock.pier.com. 300 IN NSEC ns.pier.com. A RRSIG NSEC", z,
            "pier.com. 300 IN NSEC dock.pier.com. NS SOA RRSIG NSEC DNSKEY", z]),
        Entry("dock.pier.com. A", answer=["dock.pier.com. 300 IN A 192.0.2.85", z]),
        sub("pier.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.pier.com: pier.com, NSEC (apex, dock, ns); lies NXDOMAIN for dock TXT")
    t += query(10, "dock.pier.com. TXT", "RD DO")
    t += check(11, "dock.pier.com. TXT", "QR RD RA AD DO NOERROR")
    t += query(20, "dock.pier.com. A", "RD DO")
    t += check(21, "dock.pier.com. A", "QR RD RA AD DO NOERROR",
               ["dock.pier.com. 300 IN A 192.0.2.85", z], signer=s)
    return t


# == heldout2: written after the fixes, run once ============================================

def nsec3_nxdomain_owner_is_qname() -> str:
    s = Signer()
    z = "SIG vault.net."
    chain = Nsec3Chain("vault.net.", {"vault.net.": "NS SOA DNSKEY NSEC3PARAM",
                                      "ns.vault.net.": "A", "box.vault.net.": "A"},
                       salt="FACE", iterations=1)
    soa_ = soa("vault.net.", "ns.vault.net.")
    t = cite("RFC 5155 §8.5/§8.4: an NSEC3 matching the queried name proves it exists (no "
             "NXDOMAIN); its type map (no TXT)",
             "proves NODATA, which Unbound's validator answers, NOERROR and secure ('lenient "
             "with RCODE in NSEC3 NameError responses'); the name's A validates.")
    t += header("NSEC3 zone: an NXDOMAIN for a name whose own NSEC3 is the proof is answered "
                "as the NODATA it proves; the name's A record validates", extra=ta(s))
    t += signed_path(s, "vault.net.", "127.7.60.140")
    t += signed_zone_server(s, "vault.net.", "127.7.60.140", "ns.vault.net.", [
        Entry("box.vault.net. TXT", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("box.vault.net."), z, chain.match("vault.net."), z]),
        Entry("box.vault.net. A", answer=["box.vault.net. 300 IN A 192.0.2.86", z]),
        Entry("box.vault.net. NS", authority=[soa_, z, chain.match("box.vault.net."), z]),
        sub("vault.net. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.vault.net: vault.net, NSEC3 (apex, ns, box); lies NXDOMAIN for box TXT")
    t += query(10, "box.vault.net. TXT", "RD DO")
    t += check(11, "box.vault.net. TXT", "QR RD RA AD DO NOERROR")
    t += query(20, "box.vault.net. A", "RD DO")
    t += check(21, "box.vault.net. A", "QR RD RA AD DO NOERROR",
               ["box.vault.net. 300 IN A 192.0.2.86", z], signer=s)
    return t


def nsec_ent_nxdomain_then_below() -> str:
    s = Signer()
    z = "SIG tree.org."
    soa_ = soa("tree.org.", "ns.tree.org.")
    # canonical order: tree.org, leaf.branch.tree.org, ns.tree.org
    ent = "tree.org. 300 IN NSEC leaf.branch.tree.org. NS SOA RRSIG NSEC DNSKEY"
    t = cite("RFC 4035 §5.4 / RFC 8020 §2: an NSEC whose next name is below the queried "
             "name proves an empty non-terminal,",
             "not a name error; the NXDOMAIN a server sends for it is answered as NODATA "
             "(Unbound's lenient rcode), and the existing name below it resolves, secure.")
    t += header("NSEC zone: a server calls an empty non-terminal NXDOMAIN with the NSEC "
                "that proves it exists; the name below is then asked and validates",
                extra=ta(s))
    t += signed_path(s, "tree.org.", "127.7.60.150")
    t += signed_zone_server(s, "tree.org.", "127.7.60.150", "ns.tree.org.", [
        Entry("branch.tree.org. TXT", reply="QR AA NXDOMAIN", authority=[soa_, z, ent, z]),
        Entry("branch.tree.org. NS", authority=[soa_, z, ent, z]),
        Entry("branch.tree.org. A", authority=[soa_, z, ent, z]),
        Entry("leaf.branch.tree.org. A",
              answer=["leaf.branch.tree.org. 300 IN A 192.0.2.87", z]),
        sub("tree.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.tree.org: tree.org, NSEC (apex, leaf.branch, ns); branch is an empty non-terminal")
    t += query(10, "branch.tree.org. TXT", "RD DO")
    t += check(11, "branch.tree.org. TXT", "QR RD RA AD DO NOERROR")
    t += query(20, "leaf.branch.tree.org. A", "RD DO")
    t += check(21, "leaf.branch.tree.org. A", "QR RD RA AD DO NOERROR",
               ["leaf.branch.tree.org. 300 IN A 192.0.2.87", z], signer=s)
    return t


def qmin_ent_then_deeper_cut() -> str:
    t = cite("RFC 9156 §3 / RFC 1034 §5.3.3: a NODATA for a minimised name shows no cut "
             "there; the walk goes on (label by label,",
             "or, Knot Resolver's way, with the full name) and the referral to the cut "
             "below the empty non-terminal leads to the answer.")
    t += header("An empty non-terminal (b.corp.org) above a delegated zone (a.b.corp.org): "
                "a name in the delegated zone is answered")
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "corp.org.": (["ns.corp.org."], ["ns.corp.org. A 127.7.60.160"])})
    t += zone_server("127.7.60.160", "corp.org.", ["ns.corp.org."],
                     ["ns.corp.org. 3600 IN A 127.7.60.160"], [
        sub("a.b.corp.org. NS", authority=["a.b.corp.org. 3600 IN NS ns.a.b.corp.org."],
            additional=["ns.a.b.corp.org. 3600 IN A 127.7.60.161"])],
        "ns.corp.org: corp.org, b is an empty non-terminal, a.b is delegated")
    t += zone_server("127.7.60.161", "a.b.corp.org.", ["ns.a.b.corp.org."],
                     ["ns.a.b.corp.org. 3600 IN A 127.7.60.161"], [
        Entry("x.y.a.b.corp.org. A", answer=["x.y.a.b.corp.org. 300 IN A 192.0.2.88"])],
        "ns.a.b.corp.org: a.b.corp.org")
    t += query(10, "x.y.a.b.corp.org. A")
    t += check(11, "x.y.a.b.corp.org. A", NOERROR, ["x.y.a.b.corp.org. 300 IN A 192.0.2.88"])
    return t


def qmin_nxdomain_signed_final() -> str:
    s = Signer()
    z = "SIG lake.com."
    soa_ = soa("lake.com.", "ns.lake.com.")
    # canonical order: lake.com, ns.lake.com, www.lake.com
    t = cite("RFC 8020 §2 / RFC 9156 §2.3: a signed NXDOMAIN for an ancestor of the queried "
             "name means nothing exists below it;",
             "the answer is NXDOMAIN, secure (RFC 4035 §3.1.3.2: the NSEC covers the name "
             "and the wildcard), asked minimised or not.")
    t += header("NSEC zone: a name below a name that does not exist is NXDOMAIN, secure, "
                "however the resolver minimises", extra=ta(s))
    t += signed_path(s, "lake.com.", "127.7.60.170")
    t += signed_zone_server(s, "lake.com.", "127.7.60.170", "ns.lake.com.", [
        sub("nothere.lake.com. A", "QR AA NXDOMAIN", authority=[
            soa_, z, "lake.com. 300 IN NSEC ns.lake.com. NS SOA RRSIG NSEC DNSKEY", z]),
        sub("lake.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.lake.com: lake.com, NSEC (apex, ns, www)")
    t += query(10, "deep.x.nothere.lake.com. A", "RD DO")
    t += check(11, "deep.x.nothere.lake.com. A", "QR RD RA AD DO NXDOMAIN",
               match=SERVFAIL_ONLY + " flags")
    return t


HELDOUT2 = {
    "val_nsec3_nxdomain_owner_is_qname": nsec3_nxdomain_owner_is_qname,
    "val_nsec_ent_nxdomain_then_below": nsec_ent_nxdomain_then_below,
    "iter_qmin_ent_then_deeper_cut": qmin_ent_then_deeper_cut,
    "val_qmin_nxdomain_signed_final": qmin_nxdomain_signed_final,
}


ALL = {
    "iter_qmin_refused_minimised": qmin_refused,
    "iter_qmin_servfail_minimised": qmin_servfail,
    "iter_qmin_formerr_minimised": qmin_formerr,
    "iter_qmin_notimp_minimised": qmin_notimp,
    "iter_qmin_nxdomain_for_ent": qmin_nxdomain_ent,
    "iter_qmin_ent_nodata_without_soa": qmin_ent_nodata_no_soa,
    "iter_qmin_many_labels": qmin_many_labels,
    "iter_qmin_cname_to_deep_target": qmin_cname_to_deep_target,
    "val_qmin_dname_in_path_insecure": qmin_dname_in_path_insecure,
    "iter_glue_v6_only_needs_a": glue_v6_only_needs_a,
    "iter_glueless_cycle_exit": glueless_cycle_exit,
    "iter_every_server_lame": every_server_refuses,
    "iter_child_nsset_from_authority": child_nsset_from_authority,
    "iter_nsset_new_name": nsset_new_name,
    "val_dname_insecure_mismatched_cname": dname_insecure_mismatched_cname,
    "val_nsec_nxdomain_no_wildcard_proof": nsec_nxdomain_no_wildcard_proof,
    "val_nsec_nxdomain_owner_is_qname": nsec_nxdomain_owner_is_qname,
}

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for name, make in ALL.items():
        if not only or name in only:
            write(name, make())
    for name, make in HELDOUT2.items():
        if not only or name in only:
            write(name, make(), "heldout2")
