"""Write the scenarios of tests/scenarios/generalise/{heldout,fixon} (issue 16, third round).

Same four behaviours as build.py's sets (iteration around broken or lame servers, DNAME in
an insecure zone, a domain whose NS set changes, validation next to NXDOMAIN and wildcard
proofs) with other names, addresses (127.7.20.0 and up, fd07:20::/32) and topologies.
``heldout`` was written first and not run against the candidate until the fixes made on
``fixon`` were done.  Each scenario's title says what an RFC-correct resolver answers and
why (the section is cited in the file's comment lines).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from build import NOERROR, nodata, signed_zone_server, soa, ta  # noqa: E402
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

OUT = Path(__file__).parents[1] / "generalise"
SECURE = "QR RD RA AD DO NOERROR"
INSECURE = "QR RD RA DO NOERROR"


def cite(*lines: str) -> str:
    return "".join(f"; {line}\n" for line in lines) + "\n"


def write(where: str, name: str, text: str) -> None:
    path = OUT / where / f"{name}.rpl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "SCENARIO_END\n")


def zone_server(addr: str | list[str], zone: str, ns_names: list[str], glue: list[str],
                data: list[Entry | str], comment: str, first: int = 0,
                last: int = 1000) -> str:
    """An unsigned authoritative server for ``zone``: the given data, its NS set, the
    addresses of its in-zone nameservers, NODATA for anything else in the zone."""
    addrs = [addr] if isinstance(addr, str) else addr
    entries: list[Entry | str] = list(data)
    entries.append(Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS {n}" for n in ns_names]))
    for g in glue:
        entries.append(Entry(f"{g.split()[0]} {g.split()[-2]}", answer=[g]))
    entries.append(nodata(zone, ns_names[0]))
    return range_(first, last, addrs, entries, comment=comment)


TLD_SERVERS = {"com.": ("ns.nic.com.", "127.7.1.1"), "net.": ("ns.nic.net.", "127.7.1.2"),
               "org.": ("ns.nic.org.", "127.7.1.3"), "nl.": ("ns.nic.nl.", "127.7.1.20")}


def signed_path(s: Signer, zone: str, addr: str) -> str:
    """The signed root and the signed TLD above ``zone``, which is delegated securely (a DS)
    to its one nameserver ns.``zone`` at ``addr``."""
    tld = zone.split(".", 1)[1]
    ns, tld_addr = TLD_SERVERS[tld]
    return root_range({tld: (ns, tld_addr, "ds")}, s) + tld_range(
        tld, ns, tld_addr, {zone: ([f"ns.{zone}"], [f"ns.{zone} A {addr}"])}, signer=s,
        ds={zone: "ds"})


UPWARD = ["se. 86400 IN NS ns.nic.se."]


# == held out (written first) ==============================================================

def nsset_refused_timeout_good() -> str:
    t = cite("RFC 1034 §5.3.3: a server that refuses or does not answer is left for the next",
             "address of the zone's NS set; the answer comes from the one that serves it.")
    t += header("Three nameservers: the first refuses every query, the second never answers, "
                "the third serves the zone; three questions are all answered")
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", "")})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "shop.nl.": (["a.dns.shop.nl.", "b.dns.shop.nl.", "c.dns.shop.nl."],
                     ["a.dns.shop.nl. A 127.7.20.1", "b.dns.shop.nl. A 127.7.20.2",
                      "c.dns.shop.nl. A 127.7.20.3"])})
    t += range_(0, 1000, ["127.7.20.1"], [catch_all("QR REFUSED")],
                comment="a.dns.shop.nl: refuses (127.7.20.2 has no range: it times out)")
    glue = ["a.dns.shop.nl. 3600 IN A 127.7.20.1", "b.dns.shop.nl. 3600 IN A 127.7.20.2",
            "c.dns.shop.nl. 3600 IN A 127.7.20.3"]
    t += zone_server("127.7.20.3", "shop.nl.", ["a.dns.shop.nl.", "b.dns.shop.nl.",
                                                "c.dns.shop.nl."], glue, [
        Entry("www.shop.nl. A", answer=["www.shop.nl. 300 IN A 192.0.2.101"]),
        Entry("img.shop.nl. A", answer=["img.shop.nl. 300 IN A 192.0.2.102"]),
        Entry("shop.nl. MX", answer=["shop.nl. 300 IN MX 10 mail.shop.nl."]),
    ], "c.dns.shop.nl: shop.nl")
    t += query(10, "www.shop.nl. A")
    t += check(11, "www.shop.nl. A", NOERROR, ["www.shop.nl. 300 IN A 192.0.2.101"])
    t += query(20, "img.shop.nl. A")
    t += check(21, "img.shop.nl. A", NOERROR, ["img.shop.nl. 300 IN A 192.0.2.102"])
    t += query(30, "shop.nl. MX")
    t += check(31, "shop.nl. MX", NOERROR, ["shop.nl. 300 IN MX 10 mail.shop.nl."])
    return t


def lame_v6_upward_v4_good() -> str:
    t = cite("RFC 4697 §2.1/§2.2: an upward referral or a refusal is lameness of that server "
             "address for the zone;",
             "the same nameserver's IPv4 address is authoritative and is used (lameness is "
             "per address).")
    t += header("ns1 has an IPv4 and an IPv6 address; over IPv6 it refers upward to se. "
                "(lame); ns2 has only IPv6 and refuses; ns1 over IPv4 serves the zone",
                do_ip6=True)
    t += root_range({"se.": ("ns.nic.se.", "127.7.1.21", "")})
    t += tld_range("se.", "ns.nic.se.", "127.7.1.21", {
        "example.se.": (["ns1.example.se.", "ns2.example.se."],
                        ["ns1.example.se. A 127.7.21.1", "ns1.example.se. AAAA fd07:21::1",
                         "ns2.example.se. AAAA fd07:21::2"])})
    t += range_(0, 1000, ["fd07:21::1"], [catch_all(
        "QR NOERROR", authority=UPWARD, additional=["ns.nic.se. 86400 IN A 127.7.1.21"])],
        comment="ns1.example.se over IPv6: upward referral (lame)")
    t += range_(0, 1000, ["fd07:21::2"], [catch_all("QR REFUSED")],
                comment="ns2.example.se (IPv6 only): refuses")
    t += zone_server("127.7.21.1", "example.se.", ["ns1.example.se.", "ns2.example.se."],
                     ["ns1.example.se. 3600 IN A 127.7.21.1",
                      "ns1.example.se. 3600 IN AAAA fd07:21::1",
                      "ns2.example.se. 3600 IN AAAA fd07:21::2"], [
        Entry("www.example.se. A", answer=["www.example.se. 300 IN A 192.0.2.111"]),
        Entry("www.example.se. AAAA", answer=["www.example.se. 300 IN AAAA 2001:db8::111"]),
        Entry("ftp.example.se. A", answer=["ftp.example.se. 300 IN A 192.0.2.112"]),
    ], "ns1.example.se over IPv4: example.se")
    t += query(10, "www.example.se. A")
    t += check(11, "www.example.se. A", NOERROR, ["www.example.se. 300 IN A 192.0.2.111"])
    t += query(20, "www.example.se. AAAA")
    t += check(21, "www.example.se. AAAA", NOERROR, ["www.example.se. 300 IN AAAA 2001:db8::111"])
    t += query(30, "ftp.example.se. A")
    t += check(31, "ftp.example.se. A", NOERROR, ["ftp.example.se. 300 IN A 192.0.2.112"])
    return t


def io_tld_optout(s: Signer, children: dict[str, tuple[str, str]]) -> str:
    """The io. server, signed with NSEC3 opt-out; ``children`` (name -> (ns, address)) are
    unsigned delegations, each proven insecure by the closest encloser (io.) and an opt-out
    NSEC3 covering the child (RFC 5155 §7.2.7, §8.9)."""
    chain = Nsec3Chain("io.", {"io.": "NS SOA DNSKEY NSEC3PARAM", "a.nic.io.": "A"},
                       salt="C0FFEE", iterations=0, flags=1)
    z = "SIG io."
    io_soa = "io. 3600 IN SOA a.nic.io. hostmaster.io. 1 1800 900 604800 3600"
    entries: list[Entry | str] = [
        Entry("io. NS", answer=["io. 86400 IN NS a.nic.io.", z],
              additional=["a.nic.io. 86400 IN A 127.7.1.22"]),
        Entry("a.nic.io. A", answer=["a.nic.io. 86400 IN A 127.7.1.22", z]),
        Entry("io. DNSKEY", answer=[s.dnskey_line("io."), z]),
    ]
    for child, (ns, addr) in children.items():
        proof = [chain.match("io."), z, chain.cover(child), z]
        entries.append(Entry(f"{child} DS", authority=[io_soa, z, *proof]))
        entries.append(sub(f"{child} NS", authority=[f"{child} 3600 IN NS {ns}", *proof],
                           additional=[f"{ns} 3600 IN A {addr}"]))
    entries.append(sub("a.nic.io. A", "QR AA NOERROR", authority=[io_soa, z]))
    entries.append(catch_all("QR AA NXDOMAIN", authority=[io_soa]))
    return range_(0, 1000, ["127.7.1.22"], entries, s, "a.nic.io: io., NSEC3 opt-out")


def dname_insecure_optout() -> str:
    s = Signer()
    t = cite("RFC 5155 §8.9: an opt-out NSEC3 covering the delegation proves it insecure;",
             "RFC 4035 §4.3/RFC 6672 §5: a DNAME from an insecure zone is answered (DNAME, "
             "synthesised CNAME, target) without AD.")
    t += header("A DNAME in a zone delegated insecurely by an NSEC3 opt-out TLD: answered "
                "with the synthesised CNAME and the target's data, without AD", extra=ta(s))
    t += root_range({"io.": ("a.nic.io.", "127.7.1.22", "ds")}, s)
    t += io_tld_optout(s, {"acme.io.": ("ns.acme.io.", "127.7.22.1")})
    t += zone_server("127.7.22.1", "acme.io.", ["ns.acme.io."],
                     ["ns.acme.io. 3600 IN A 127.7.22.1"], [
        Entry("x.new.acme.io. A", answer=["x.new.acme.io. 300 IN A 192.0.2.121"]),
        Entry("y.new.acme.io. TXT", answer=['y.new.acme.io. 300 IN TXT "moved"']),
        sub("old.acme.io. A", "QR AA NOERROR",
            answer=["old.acme.io. 300 IN DNAME new.acme.io."]),
    ], "ns.acme.io: acme.io, unsigned, old.acme.io is a DNAME (sent without its CNAME)")
    t += query(10, "x.old.acme.io. A", "RD DO")
    t += check(11, "x.old.acme.io. A", INSECURE, [
        "old.acme.io. 300 IN DNAME new.acme.io.",
        "x.old.acme.io. 300 IN CNAME x.new.acme.io.",
        "x.new.acme.io. 300 IN A 192.0.2.121"])
    t += query(20, "y.old.acme.io. TXT")
    t += check(21, "y.old.acme.io. TXT", NOERROR, [
        "old.acme.io. 300 IN DNAME new.acme.io.",
        "y.old.acme.io. 300 IN CNAME y.new.acme.io.",
        'y.new.acme.io. 300 IN TXT "moved"'])
    return t


def nameserver_renumbered() -> str:
    t = cite("RFC 1034 §3.6/§5.3.3: the nameserver's address record expires with its TTL and "
             "is looked up again;",
             "the delegation (NS set, 3600 s) still stands, the new address serves the zone.")
    t += header("The zone's only nameserver (glue-less, in another TLD) is renumbered; its "
                "old address refuses after the move; once its A record (60 s) has expired "
                "the new address is used")
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", ""),
                     "se.": ("ns.nic.se.", "127.7.1.21", "")})
    t += tld_range("se.", "ns.nic.se.", "127.7.1.21", {
        "bank.se.": (["ns.hoster.nl."], [])})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "hoster.nl.": (["ns0.hoster.nl."], ["ns0.hoster.nl. A 127.7.23.9"])})
    for first, last, addr in ((0, 29, "127.7.23.1"), (30, 1000, "127.7.23.2")):
        t += zone_server("127.7.23.9", "hoster.nl.", ["ns0.hoster.nl."],
                         ["ns0.hoster.nl. 3600 IN A 127.7.23.9"], [
            Entry("ns.hoster.nl. A", answer=[f"ns.hoster.nl. 60 IN A {addr}"])],
            f"ns0.hoster.nl: ns.hoster.nl is at {addr}", first, last)
    for addr, www in (("127.7.23.1", "192.0.2.131"), ("127.7.23.2", "192.0.2.132")):
        t += zone_server(addr, "bank.se.", ["ns.hoster.nl."], [], [
            Entry("www.bank.se. A", answer=[f"www.bank.se. 300 IN A {www}"])],
            f"ns.hoster.nl at {addr}: bank.se", 0, 29 if addr.endswith(".1") else 1000)
    t += range_(30, 1000, ["127.7.23.1"], [catch_all("QR REFUSED")],
                comment="the old address after the move: refuses")
    t += query(10, "www.bank.se. A")
    t += check(11, "www.bank.se. A", NOERROR, ["www.bank.se. 300 IN A 192.0.2.131"])
    t += elapse(20, 400)
    t += query(40, "www.bank.se. A")
    t += check(41, "www.bank.se. A", NOERROR, ["www.bank.se. 300 IN A 192.0.2.132"])
    return t


def bakery_chain() -> Nsec3Chain:
    return Nsec3Chain("bakery.nl.", {"bakery.nl.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.bakery.nl.": "A", "www.bakery.nl.": "A",
                                     "shop.bakery.nl.": "", "*.shop.bakery.nl.": "A"},
                      salt="BEEF", iterations=2)


def nsec3_nx_wildcard_nodata() -> str:
    s = Signer()
    z = "SIG bakery.nl."
    chain = bakery_chain()
    assert chain.cover("lost.bakery.nl.") != chain.cover("*.bakery.nl."), "a real proof"
    soa_ = soa("bakery.nl.", "ns.bakery.nl.")
    t = cite("RFC 5155 §8.4 (NXDOMAIN: closest encloser, next closer and wildcard covered),",
             "§8.7 (wildcard NODATA: closest encloser, next closer covered, wildcard matched),",
             "§8.8 (wildcard answer: next closer covered); RFC 4035 §5.5: a missing proof is "
             "bogus (SERVFAIL).")
    t += header("NSEC3 zone: an NXDOMAIN without its wildcard proof is bogus; a proper "
                "NXDOMAIN, a wildcard NODATA and a wildcard answer validate", extra=ta(s))
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", "ds")}, s)
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "bakery.nl.": (["ns.bakery.nl."], ["ns.bakery.nl. A 127.7.24.1"])}, signer=s,
        ds={"bakery.nl.": "ds"})
    t += signed_zone_server(s, "bakery.nl.", "127.7.24.1", "ns.bakery.nl.", [
        Entry("lost.bakery.nl. AAAA", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("bakery.nl."), z, chain.cover("lost.bakery.nl."), z]),
        Entry("nope.bakery.nl. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("bakery.nl."), z, chain.cover("nope.bakery.nl."), z,
            chain.cover("*.bakery.nl."), z]),
        Entry("x.shop.bakery.nl. TXT", authority=[
            soa_, z, chain.match("shop.bakery.nl."), z, chain.cover("x.shop.bakery.nl."), z,
            chain.match("*.shop.bakery.nl."), z]),
        Entry("y.shop.bakery.nl. A",
              answer=["y.shop.bakery.nl. 300 IN A 192.0.2.141",
                      "SIG bakery.nl. *.shop.bakery.nl."],
              authority=[chain.cover("y.shop.bakery.nl."), z]),
        sub("bakery.nl. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.bakery.nl: bakery.nl, NSEC3 (apex, ns, www, shop (empty), *.shop)")
    t += query(10, "lost.bakery.nl. AAAA", "RD DO")
    t += check(11, "lost.bakery.nl. AAAA", "QR RD RA DO SERVFAIL",
               match="opcode qname qtype rcode")
    t += query(20, "nope.bakery.nl. A", "RD DO")
    t += check(21, "nope.bakery.nl. A", "QR RD RA AD DO NXDOMAIN")
    t += query(30, "x.shop.bakery.nl. TXT", "RD DO")
    t += check(31, "x.shop.bakery.nl. TXT", SECURE)
    t += query(40, "y.shop.bakery.nl. A", "RD DO")
    t += check(41, "y.shop.bakery.nl. A", SECURE,
               ["y.shop.bakery.nl. 300 IN A 192.0.2.141", "SIG bakery.nl. *.shop.bakery.nl."],
               signer=s)
    return t


def nsec_wildcard_nodata_and_nx() -> str:
    s = Signer()
    z = "SIG garden.org."
    soa_ = soa("garden.org.", "ns.garden.org.")
    # canonical order: garden.org, *.garden.org, ns, www
    wild = "*.garden.org. 300 IN NSEC ns.garden.org. MX RRSIG NSEC"
    t = cite("RFC 4035 §3.1.3.4/§5.4: wildcard NODATA (an NSEC covering the name, one "
             "matching the wildcard without the type);",
             "§3.1.3.2: NXDOMAIN needs the name and the wildcard denied; an NXDOMAIN with no "
             "NSEC at all is bogus (SERVFAIL, §5.5).")
    t += header("NSEC zone with an apex wildcard: an NXDOMAIN without proof is bogus; a "
                "wildcard NODATA, a wildcard MX answer and an NXDOMAIN below www validate",
                extra=ta(s))
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "ds")}, s)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "garden.org.": (["ns.garden.org."], ["ns.garden.org. A 127.7.25.1"])}, signer=s,
        ds={"garden.org.": "ds"})
    t += signed_zone_server(s, "garden.org.", "127.7.25.1", "ns.garden.org.", [
        Entry("q.ns.garden.org. A", reply="QR AA NXDOMAIN", authority=[soa_, z]),
        Entry("a.garden.org. A", authority=[soa_, z, wild, z]),
        Entry("b.garden.org. MX", answer=["b.garden.org. 300 IN MX 10 mx.garden.org.",
                                          "SIG garden.org. *.garden.org."],
              authority=[wild, z]),
        Entry("zz.www.garden.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "www.garden.org. 300 IN NSEC garden.org. A RRSIG NSEC", z]),
        sub("garden.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.garden.org: garden.org, NSEC (apex, *, ns, www)")
    t += query(10, "q.ns.garden.org. A", "RD DO")
    t += check(11, "q.ns.garden.org. A", "QR RD RA DO SERVFAIL",
               match="opcode qname qtype rcode")
    t += query(20, "a.garden.org. A", "RD DO")
    t += check(21, "a.garden.org. A", SECURE)
    t += query(30, "b.garden.org. MX", "RD DO")
    t += check(31, "b.garden.org. MX", SECURE,
               ["b.garden.org. 300 IN MX 10 mx.garden.org.", "SIG garden.org. *.garden.org."],
               signer=s)
    t += query(40, "zz.www.garden.org. A", "RD DO")
    t += check(41, "zz.www.garden.org. A", "QR RD RA AD DO NXDOMAIN")
    return t


HELDOUT = {
    "iter_nsset_refused_timeout_good": nsset_refused_timeout_good,
    "iter_lame_v6_upward_v4_good": lame_v6_upward_v4_good,
    "iter_nameserver_renumbered": nameserver_renumbered,
    "val_dname_insecure_optout": dname_insecure_optout,
    "val_nsec3_nx_wildcard_nodata": nsec3_nx_wildcard_nodata,
    "val_nsec_wildcard_nodata_and_nx": nsec_wildcard_nodata_and_nx,
}

# == fixed on (written after the held-out ones) ============================================

def glue_refused_glueless_good() -> str:
    t = cite("RFC 1034 §5.3.3, RFC 4697 §2.1: a refusing address is left for the zone's "
             "other nameserver, found by resolving its name (no glue).")
    t += header("The glued in-zone nameserver refuses; the glue-less one in another TLD "
                "serves the zone; two names answered")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "cafe.com.": (["ns1.cafe.com.", "ns.dns-host.org."], ["ns1.cafe.com. A 127.7.30.1"])})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "dns-host.org.": (["ns.dns-host.org."], ["ns.dns-host.org. A 127.7.30.2"])})
    t += range_(0, 1000, ["127.7.30.1"], [catch_all("QR REFUSED")],
                comment="ns1.cafe.com: refuses")
    t += zone_server("127.7.30.2", "cafe.com.", ["ns1.cafe.com.", "ns.dns-host.org."],
                     ["ns1.cafe.com. 3600 IN A 127.7.30.1"], [
        Entry("www.cafe.com. A", answer=["www.cafe.com. 300 IN A 192.0.2.151"]),
        Entry("menu.cafe.com. A", answer=["menu.cafe.com. 300 IN A 192.0.2.152"]),
        Entry("ns.dns-host.org. A", answer=["ns.dns-host.org. 3600 IN A 127.7.30.2"]),
        nodata("dns-host.org.", "ns.dns-host.org."),
    ], "ns.dns-host.org: cafe.com and dns-host.org")
    t += query(10, "www.cafe.com. A")
    t += check(11, "www.cafe.com. A", NOERROR, ["www.cafe.com. 300 IN A 192.0.2.151"])
    t += query(20, "menu.cafe.com. A")
    t += check(21, "menu.cafe.com. A", NOERROR, ["menu.cafe.com. 300 IN A 192.0.2.152"])
    return t


def servfail_v4_v6_good() -> str:
    t = cite("RFC 1034 §5.3.3: SERVFAIL from one address and an upward referral (RFC 4697 "
             "§2.2) from another nameserver; the IPv6 address of the first one answers.")
    t += header("ns1's IPv4 address answers SERVFAIL, ns2 refers upward to the root (lame); "
                "ns1 over IPv6 serves the zone", do_ip6=True)
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "radio.net.": (["ns1.radio.net.", "ns2.radio.net."],
                       ["ns1.radio.net. A 127.7.32.1", "ns1.radio.net. AAAA fd07:32::1",
                        "ns2.radio.net. A 127.7.32.2"])})
    t += range_(0, 1000, ["127.7.32.1"], [catch_all("QR SERVFAIL")],
                comment="ns1.radio.net over IPv4: SERVFAIL")
    t += range_(0, 1000, ["127.7.32.2"], [catch_all(
        "QR NOERROR", authority=[". 518400 IN NS k.root-servers.net."],
        additional=["k.root-servers.net. 518400 IN A 127.7.0.1"])],
        comment="ns2.radio.net: upward referral to the root")
    t += zone_server("fd07:32::1", "radio.net.", ["ns1.radio.net.", "ns2.radio.net."],
                     ["ns1.radio.net. 3600 IN A 127.7.32.1",
                      "ns1.radio.net. 3600 IN AAAA fd07:32::1",
                      "ns2.radio.net. 3600 IN A 127.7.32.2"], [
        Entry("live.radio.net. A", answer=["live.radio.net. 300 IN A 192.0.2.171"]),
        Entry("radio.net. MX", answer=["radio.net. 300 IN MX 5 live.radio.net."]),
    ], "ns1.radio.net over IPv6: radio.net")
    t += query(10, "live.radio.net. A")
    t += check(11, "live.radio.net. A", NOERROR, ["live.radio.net. 300 IN A 192.0.2.171"])
    t += query(20, "radio.net. MX")
    t += check(21, "radio.net. MX", NOERROR, ["radio.net. 300 IN MX 5 live.radio.net."])
    return t


def lame_self_referral() -> str:
    t = cite("RFC 4697 §2.2: a non-authoritative referral to the zone itself (no AA, the "
             "zone's own NS set) is lameness; the zone's other nameserver answers.",
             "(Knot Resolver 5 answers so; Unbound 1.17 takes the referral as an empty "
             "answer.)")
    t += header("One nameserver answers every query with a referral to the zone itself "
                "without AA (lame); the other, glue-less, serves the zone", do_ip6=False)
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "bike.com.": (["ns.bike.com.", "dns.cloud.net."], ["ns.bike.com. A 127.7.33.1"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "cloud.net.": (["dns.cloud.net."], ["dns.cloud.net. A 127.7.33.2"])})
    t += range_(0, 1000, ["127.7.33.1"], [catch_all(
        "QR NOERROR", authority=["bike.com. 3600 IN NS ns.bike.com.",
                                 "bike.com. 3600 IN NS dns.cloud.net."],
        additional=["ns.bike.com. 3600 IN A 127.7.33.1"])],
        comment="ns.bike.com: refers to bike.com itself, without AA")
    t += zone_server("127.7.33.2", "bike.com.", ["ns.bike.com.", "dns.cloud.net."],
                     ["ns.bike.com. 3600 IN A 127.7.33.1"], [
        Entry("www.bike.com. A", answer=["www.bike.com. 300 IN A 192.0.2.181"]),
        Entry("parts.bike.com. AAAA", answer=["parts.bike.com. 300 IN AAAA 2001:db8::181"]),
        Entry("dns.cloud.net. A", answer=["dns.cloud.net. 3600 IN A 127.7.33.2"]),
        nodata("cloud.net.", "dns.cloud.net."),
    ], "dns.cloud.net: bike.com and cloud.net")
    t += query(10, "www.bike.com. A")
    t += check(11, "www.bike.com. A", NOERROR, ["www.bike.com. 300 IN A 192.0.2.181"])
    t += query(20, "parts.bike.com. AAAA")
    t += check(21, "parts.bike.com. AAAA", NOERROR,
               ["parts.bike.com. 300 IN AAAA 2001:db8::181"])
    return t


def delegation_to_glueless_old_lame() -> str:
    t = cite("RFC 1034 §4.3.2/§5.3.3, RFC 2181 §5.4.1: once the cached NS set (300 s) "
             "expires the parent's new delegation is followed;",
             "the old server, which refers upward by then (lame, RFC 4697 §2.2), is not "
             "used.")
    t += header("The parent moves zoo.org from an in-zone glued server to a glue-less one in "
                "another TLD; after the NS TTL the new server answers (the old one is lame)")
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "zoo.org.": (["300 ns.zoo.org."], ["ns.zoo.org. 300 IN A 127.7.34.1"])},
        last=29, comment="org before the move")
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "zoo.org.": (["300 ns.parks.net."], [])}, first=30, comment="org after the move")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "parks.net.": (["ns.parks.net."], ["ns.parks.net. A 127.7.34.2"])})
    t += range_(0, 29, ["127.7.34.1"], [
        Entry("lion.zoo.org. A", answer=["lion.zoo.org. 300 IN A 192.0.2.191"],
              authority=["zoo.org. 300 IN NS ns.zoo.org."]),
        Entry("zoo.org. NS", answer=["zoo.org. 300 IN NS ns.zoo.org."]),
        Entry("ns.zoo.org. A", answer=["ns.zoo.org. 300 IN A 127.7.34.1"]),
        nodata("zoo.org.", "ns.zoo.org."),
    ], comment="ns.zoo.org before the move")
    t += range_(30, 1000, ["127.7.34.1"], [catch_all(
        "QR NOERROR", authority=["org. 86400 IN NS ns.nic.org."],
        additional=["ns.nic.org. 86400 IN A 127.7.1.3"])],
        comment="ns.zoo.org after the move: upward referral (lame)")
    t += zone_server("127.7.34.2", "zoo.org.", ["ns.parks.net."], [], [
        Entry("lion.zoo.org. A", answer=["lion.zoo.org. 300 IN A 192.0.2.192"]),
        Entry("ns.parks.net. A", answer=["ns.parks.net. 3600 IN A 127.7.34.2"]),
        nodata("parks.net.", "ns.parks.net."),
    ], "ns.parks.net: zoo.org and parks.net")
    t += query(10, "lion.zoo.org. A")
    t += check(11, "lion.zoo.org. A", NOERROR, ["lion.zoo.org. 300 IN A 192.0.2.191"])
    t += elapse(20, 400)
    t += query(40, "lion.zoo.org. A")
    t += check(41, "lion.zoo.org. A", NOERROR, ["lion.zoo.org. 300 IN A 192.0.2.192"])
    return t


def new_nsset_first_dead() -> str:
    t = cite("RFC 1034 §5.3.3: after the NS set changes (the cached one expired) the new "
             "set's first server never answers, the second one does.")
    t += header("The parent gives example.nl a new NS set of two servers once the old one "
                "(120 s) has expired; the first new server is dead, the second answers")
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", "")})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "example.nl.": (["120 ns.example.nl."], ["ns.example.nl. 120 IN A 127.7.35.1"])},
        last=29, comment="nl before")
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "example.nl.": (["120 x1.example.nl.", "120 x2.example.nl."],
                        ["x1.example.nl. 120 IN A 127.7.35.11",
                         "x2.example.nl. 120 IN A 127.7.35.12"])},
        first=30, comment="nl after (127.7.35.11 has no range: it times out)")
    for first, last, addr, ip in ((0, 29, "127.7.35.1", "192.0.2.201"),
                                  (0, 1000, "127.7.35.12", "192.0.2.202")):
        t += zone_server(addr, "example.nl.", ["ns.example.nl."] if ip.endswith("1") else
                         ["x1.example.nl.", "x2.example.nl."], [], [
            Entry("app.example.nl. A", answer=[f"app.example.nl. 60 IN A {ip}"])],
            f"{addr}: example.nl", first, last)
    t += range_(30, 1000, ["127.7.35.1"], [catch_all("QR REFUSED")],
                comment="the old server after the change: refuses")
    t += query(10, "app.example.nl. A")
    t += check(11, "app.example.nl. A", NOERROR, ["app.example.nl. 60 IN A 192.0.2.201"])
    t += elapse(20, 200)
    t += query(40, "app.example.nl. A")
    t += check(41, "app.example.nl. A", NOERROR, ["app.example.nl. 60 IN A 192.0.2.202"])
    return t


def signed_com_net(s: Signer) -> str:
    return root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                       "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)


def dname_insecure_to_signed_target() -> str:
    s = Signer()
    n = "SIG signed.net."
    t = cite("RFC 4035 §4.3, RFC 6672 §5.3.1: the DNAME is in a zone whose delegation an "
             "NSEC proves unsigned, so the whole answer is insecure",
             "even though the target's data is signed (no AD, with or without DO).")
    t += header("A DNAME in an unsigned delegation (NSEC: no DS) points into a signed zone: "
                "answered without AD, asked with DO and without", extra=ta(s))
    t += signed_com_net(s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "plain.com.": (["ns.plain.com."], ["ns.plain.com. A 127.7.36.1"])}, signer=s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "signed.net.": (["ns.signed.net."], ["ns.signed.net. A 127.7.36.2"])}, signer=s,
        ds={"signed.net.": "ds"})
    t += zone_server("127.7.36.1", "plain.com.", ["ns.plain.com."],
                     ["ns.plain.com. 3600 IN A 127.7.36.1"], [
        sub("go.plain.com. A", "QR AA NOERROR",
            answer=["go.plain.com. 300 IN DNAME signed.net."])],
        "ns.plain.com: plain.com, unsigned, go.plain.com is a DNAME")
    t += signed_zone_server(s, "signed.net.", "127.7.36.2", "ns.signed.net.", [
        Entry("mail.signed.net. A", answer=["mail.signed.net. 300 IN A 192.0.2.211", n]),
        Entry("web.signed.net. A", answer=["web.signed.net. 300 IN A 192.0.2.212", n]),
        sub("signed.net. A", "QR AA NOERROR", authority=[
            soa("signed.net.", "ns.signed.net."), n]),
    ], "ns.signed.net: signed.net")
    t += query(10, "mail.go.plain.com. A", "RD DO")
    t += check(11, "mail.go.plain.com. A", INSECURE, [
        "go.plain.com. 300 IN DNAME signed.net.",
        "mail.go.plain.com. 300 IN CNAME mail.signed.net.",
        "mail.signed.net. 300 IN A 192.0.2.211", n], signer=s)
    t += query(20, "web.go.plain.com. A")
    t += check(21, "web.go.plain.com. A", NOERROR, [
        "go.plain.com. 300 IN DNAME signed.net.",
        "web.go.plain.com. 300 IN CNAME web.signed.net.",
        "web.signed.net. 300 IN A 192.0.2.212"])
    return t


def dname_insecure_nodata_and_chain() -> str:
    s = Signer()
    t = cite("RFC 6672 §2.2/§3: below a DNAME the synthesised CNAME is followed; its target "
             "has no data of the type (NODATA, NOERROR) or is a CNAME to another zone;",
             "the zone is unsigned under a signed TLD (RFC 4035 §4.3): no AD.")
    t += header("An insecure DNAME whose target has no data of the asked type (NODATA), and "
                "one whose target is a CNAME leaving the zone", extra=ta(s))
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "ds"),
                     "com.": ("ns.nic.com.", "127.7.1.1", "")}, s)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "museum.org.": (["ns.museum.org."], ["ns.museum.org. A 127.7.37.1"])}, signer=s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "gallery.com.": (["ns.gallery.com."], ["ns.gallery.com. A 127.7.37.2"])})
    t += zone_server("127.7.37.1", "museum.org.", ["ns.museum.org."],
                     ["ns.museum.org. 3600 IN A 127.7.37.1"], [
        Entry("hall.new.museum.org. A", answer=["hall.new.museum.org. 300 IN A 192.0.2.221"]),
        Entry("shop.new.museum.org. A",
              answer=["shop.new.museum.org. 300 IN CNAME store.gallery.com."]),
        sub("old.museum.org. A", "QR AA NOERROR",
            answer=["old.museum.org. 300 IN DNAME new.museum.org."]),
    ], "ns.museum.org: museum.org, unsigned (hall.new has an A record only)")
    t += zone_server("127.7.37.2", "gallery.com.", ["ns.gallery.com."],
                     ["ns.gallery.com. 3600 IN A 127.7.37.2"], [
        Entry("store.gallery.com. A", answer=["store.gallery.com. 300 IN A 192.0.2.222"])],
        "ns.gallery.com: gallery.com")
    t += query(10, "hall.old.museum.org. MX", "RD DO")
    t += check(11, "hall.old.museum.org. MX", INSECURE, [
        "old.museum.org. 300 IN DNAME new.museum.org.",
        "hall.old.museum.org. 300 IN CNAME hall.new.museum.org."])
    t += query(20, "shop.old.museum.org. A", "RD DO")
    t += check(21, "shop.old.museum.org. A", INSECURE, [
        "old.museum.org. 300 IN DNAME new.museum.org.",
        "shop.old.museum.org. 300 IN CNAME shop.new.museum.org.",
        "shop.new.museum.org. 300 IN CNAME store.gallery.com.",
        "store.gallery.com. 300 IN A 192.0.2.222"])
    return t


def nsec3_wildcard_answer_missing_proof() -> str:
    s = Signer()
    z = "SIG fruit.com."
    chain = Nsec3Chain("fruit.com.", {"fruit.com.": "NS SOA DNSKEY NSEC3PARAM",
                                      "ns.fruit.com.": "A", "*.fruit.com.": "TXT",
                                      "apple.fruit.com.": "A"}, salt="F00D", iterations=1)
    soa_ = soa("fruit.com.", "ns.fruit.com.")
    t = cite("RFC 5155 §8.8: a wildcard answer needs an NSEC3 covering the next closer name; "
             "without it the answer is bogus (SERVFAIL, RFC 4035 §5.5);",
             "with it, and for a NODATA at an existing name (§8.5), the answers validate.")
    t += header("NSEC3 zone with an apex wildcard: a TXT answer from the wildcard without the "
                "next-closer proof is bogus; with it, secure; a NODATA at apple validates",
                extra=ta(s))
    t += signed_path(s, "fruit.com.", "127.7.38.1")
    t += signed_zone_server(s, "fruit.com.", "127.7.38.1", "ns.fruit.com.", [
        Entry("pear.fruit.com. TXT", answer=['pear.fruit.com. 300 IN TXT "wild"',
                                             "SIG fruit.com. *.fruit.com."]),
        Entry("plum.fruit.com. TXT", answer=['plum.fruit.com. 300 IN TXT "wild"',
                                             "SIG fruit.com. *.fruit.com."],
              authority=[chain.cover("plum.fruit.com."), z]),
        Entry("apple.fruit.com. AAAA", authority=[soa_, z, chain.match("apple.fruit.com."), z]),
        sub("fruit.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.fruit.com: fruit.com, NSEC3 (apex, ns, *, apple)")
    t += query(10, "pear.fruit.com. TXT", "RD DO")
    t += check(11, "pear.fruit.com. TXT", "QR RD RA DO SERVFAIL",
               match="opcode qname qtype rcode")
    t += query(20, "plum.fruit.com. TXT", "RD DO")
    t += check(21, "plum.fruit.com. TXT", SECURE, ['plum.fruit.com. 300 IN TXT "wild"',
                                                   "SIG fruit.com. *.fruit.com."], signer=s)
    t += query(30, "apple.fruit.com. AAAA", "RD DO")
    t += check(31, "apple.fruit.com. AAAA", SECURE)
    return t


def nsec_nx_and_wildcard_cname() -> str:
    s = Signer()
    z = "SIG city.net."
    soa_ = soa("city.net.", "ns.city.net.")
    # canonical order: city.net, a, *.b, c, ns
    t = cite("RFC 4035 §3.1.3.2: NXDOMAIN proven by an NSEC covering the name and one "
             "covering the wildcard; §3.1.3.3: a CNAME from a wildcard comes with the NSEC",
             "covering the name, and its in-zone target is an answer of its own; all secure.")
    t += header("NSEC zone: an NXDOMAIN, then a CNAME expanded from *.b to an existing name "
                "of the zone (answered in one response); both validate", extra=ta(s))
    t += signed_path(s, "city.net.", "127.7.39.1")
    t += signed_zone_server(s, "city.net.", "127.7.39.1", "ns.city.net.", [
        Entry("zz.city.net. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "ns.city.net. 300 IN NSEC city.net. A RRSIG NSEC", z,
            "city.net. 300 IN NSEC a.city.net. NS SOA RRSIG NSEC DNSKEY", z]),
        Entry("x.b.city.net. A",
              answer=["x.b.city.net. 300 IN CNAME a.city.net.",
                      "SIG city.net. *.b.city.net.",
                      "a.city.net. 300 IN A 192.0.2.231", z],
              authority=["*.b.city.net. 300 IN NSEC c.city.net. CNAME RRSIG NSEC", z]),
        Entry("a.city.net. A", answer=["a.city.net. 300 IN A 192.0.2.231", z]),
        sub("city.net. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.city.net: city.net, NSEC (apex, a, *.b, c, ns)")
    t += query(10, "zz.city.net. A", "RD DO")
    t += check(11, "zz.city.net. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "x.b.city.net. A", "RD DO")
    t += check(21, "x.b.city.net. A", SECURE,
               ["x.b.city.net. 300 IN CNAME a.city.net.", "SIG city.net. *.b.city.net.",
                "a.city.net. 300 IN A 192.0.2.231", z], signer=s)
    return t


def nsec3_nodata_nx_noce() -> str:
    s = Signer()
    z = "SIG lake.org."
    chain = Nsec3Chain("lake.org.", {"lake.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.lake.org.": "A", "boat.lake.org.": "A TXT"},
                       salt="CAFE", iterations=3)
    apex = chain.match("lake.org.")
    assert apex not in (chain.cover("fish.lake.org."), chain.cover("*.lake.org.")), \
        "the apex's NSEC3 must not happen to complete the proof"
    soa_ = soa("lake.org.", "ns.lake.org.")
    t = cite("RFC 5155 §8.5: NODATA at an existing name (its NSEC3 matches, type absent) "
             "validates; §8.4: an NXDOMAIN needs the closest encloser's NSEC3,",
             "without it the denial is bogus (SERVFAIL, RFC 4035 §5.5); with all three "
             "records it is secure.")
    t += header("NSEC3 zone: an NXDOMAIN missing the closest encloser's NSEC3 is bogus; a "
                "NODATA and a complete NXDOMAIN validate", extra=ta(s))
    t += signed_path(s, "lake.org.", "127.7.40.1")
    t += signed_zone_server(s, "lake.org.", "127.7.40.1", "ns.lake.org.", [
        Entry("fish.lake.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.cover("fish.lake.org."), z, chain.cover("*.lake.org."), z]),
        Entry("boat.lake.org. MX", authority=[soa_, z, chain.match("boat.lake.org."), z]),
        Entry("swim.lake.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("lake.org."), z, chain.cover("swim.lake.org."), z,
            chain.cover("*.lake.org."), z]),
        sub("lake.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.lake.org: lake.org, NSEC3 (apex, ns, boat)")
    t += query(10, "fish.lake.org. A", "RD DO")
    t += check(11, "fish.lake.org. A", "QR RD RA DO SERVFAIL", match="opcode qname qtype rcode")
    t += query(20, "boat.lake.org. MX", "RD DO")
    t += check(21, "boat.lake.org. MX", SECURE)
    t += query(30, "swim.lake.org. A", "RD DO")
    t += check(31, "swim.lake.org. A", "QR RD RA AD DO NXDOMAIN")
    return t


def dname_yxdomain_and_two_hops() -> str:
    s = Signer()
    long_label = "a" * 60
    t = cite("RFC 6672 §2.2: when the DNAME substitution makes a name longer than 255 octets "
             "the answer is YXDOMAIN with the DNAME;",
             "§3: a chain of two DNAMEs is followed; the zones are unsigned under a signed TLD "
             "(RFC 4035 §4.3): no AD.")
    t += header("Two DNAMEs in a row in unsigned zones, and a name whose substitution "
                "overflows (YXDOMAIN)", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "first.com.": (["ns.first.com."], ["ns.first.com. A 127.7.41.1"]),
        "second.com.": (["ns.second.com."], ["ns.second.com. A 127.7.41.2"])}, signer=s)
    long_target = ".".join(["b" * 60, "c" * 60, "d" * 60]) + ".second.com."
    t += zone_server("127.7.41.1", "first.com.", ["ns.first.com."],
                     ["ns.first.com. 3600 IN A 127.7.41.1"], [
        Entry(f"{long_label}.{long_label}.deep.first.com. A", reply="QR AA YXDOMAIN",
              answer=[f"deep.first.com. 300 IN DNAME {long_target}"]),
        sub("deep.first.com. A", "QR AA NOERROR",
            answer=[f"deep.first.com. 300 IN DNAME {long_target}"]),
        sub("hop.first.com. A", "QR AA NOERROR",
            answer=["hop.first.com. 300 IN DNAME hop.second.com."]),
    ], "ns.first.com: first.com, unsigned, two DNAMEs")
    t += zone_server("127.7.41.2", "second.com.", ["ns.second.com."],
                     ["ns.second.com. 3600 IN A 127.7.41.2"], [
        Entry("www.end.second.com. A", answer=["www.end.second.com. 300 IN A 192.0.2.241"]),
        sub("hop.second.com. A", "QR AA NOERROR",
            answer=["hop.second.com. 300 IN DNAME end.second.com."]),
    ], "ns.second.com: second.com, unsigned")
    t += query(10, "www.hop.first.com. A", "RD DO")
    t += check(11, "www.hop.first.com. A", INSECURE, [
        "hop.first.com. 300 IN DNAME hop.second.com.",
        "www.hop.first.com. 300 IN CNAME www.hop.second.com.",
        "hop.second.com. 300 IN DNAME end.second.com.",
        "www.hop.second.com. 300 IN CNAME www.end.second.com.",
        "www.end.second.com. 300 IN A 192.0.2.241"])
    q = f"{long_label}.{long_label}.deep.first.com. A"
    t += query(20, q, "RD DO")
    t += check(21, q, "QR RD RA DO YXDOMAIN",
               [f"deep.first.com. 300 IN DNAME {long_target}"])
    return t


def aggressive_nsec_respects_wildcard() -> str:
    s = Signer()
    z = "SIG park.com."
    soa_ = soa("park.com.", "ns.park.com.")
    # canonical order: park.com, b, *.b, ns, x
    t = cite("RFC 8198 §5.1/§5.3: a cached NSEC may deny a name only with the wildcard "
             "denied as well; a name under an existing wildcard is answered from it",
             "(RFC 4592), with its proof (RFC 4035 §3.1.3.3): secure both times.")
    t += header("NSEC zone: an NXDOMAIN, then names that the cached NSEC records do not deny "
                "(one under the wildcard *.b) are asked and answered", extra=ta(s))
    t += signed_path(s, "park.com.", "127.7.42.1")
    t += signed_zone_server(s, "park.com.", "127.7.42.1", "ns.park.com.", [
        Entry("a.park.com. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "park.com. 300 IN NSEC b.park.com. NS SOA RRSIG NSEC DNSKEY", z,
            "x.park.com. 300 IN NSEC park.com. A RRSIG NSEC", z]),
        Entry("q.b.park.com. A",
              answer=["q.b.park.com. 300 IN A 192.0.2.251", "SIG park.com. *.b.park.com."],
              authority=["*.b.park.com. 300 IN NSEC ns.park.com. A RRSIG NSEC", z]),
        Entry("y.park.com. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "x.park.com. 300 IN NSEC park.com. A RRSIG NSEC", z]),
        Entry("x.park.com. A", answer=["x.park.com. 300 IN A 192.0.2.252", z]),
        sub("park.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.park.com: park.com, NSEC (apex, b (empty), *.b, ns, x)")
    t += query(10, "a.park.com. A", "RD DO")
    t += check(11, "a.park.com. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "q.b.park.com. A", "RD DO")
    t += check(21, "q.b.park.com. A", SECURE,
               ["q.b.park.com. 300 IN A 192.0.2.251", "SIG park.com. *.b.park.com."], signer=s)
    t += query(30, "y.park.com. A", "RD DO")
    t += check(31, "y.park.com. A", "QR RD RA AD DO NXDOMAIN")
    t += query(40, "x.park.com. A", "RD DO")
    t += check(41, "x.park.com. A", SECURE, ["x.park.com. 300 IN A 192.0.2.252", z], signer=s)
    return t


def nxdomain_below_cached_nx() -> str:
    s = Signer()
    z = "SIG pond.net."
    soa_ = soa("pond.net.", "ns.pond.net.")
    t = cite("RFC 8020 §2: below a name validated as NXDOMAIN nothing exists (NXDOMAIN); RFC "
             "4035 §5.4: the NSEC records prove it (AD).")
    t += header("NSEC zone: an NXDOMAIN, then a name below it (NXDOMAIN too, secure), then "
                "a sibling that exists", extra=ta(s))
    t += signed_path(s, "pond.net.", "127.7.43.1")
    nx = [soa_, z, "pond.net. 300 IN NSEC ns.pond.net. NS SOA RRSIG NSEC DNSKEY", z,
          "ns.pond.net. 300 IN NSEC zed.pond.net. A RRSIG NSEC", z]
    t += signed_zone_server(s, "pond.net.", "127.7.43.1", "ns.pond.net.", [
        Entry("duck.pond.net. A", reply="QR AA NXDOMAIN", authority=nx),
        Entry("egg.duck.pond.net. A", reply="QR AA NXDOMAIN", authority=nx),
        Entry("zed.pond.net. A", answer=["zed.pond.net. 300 IN A 192.0.2.253", z]),
        sub("pond.net. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.pond.net: pond.net, NSEC (apex, ns, zed)")
    t += query(10, "duck.pond.net. A", "RD DO")
    t += check(11, "duck.pond.net. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "egg.duck.pond.net. A", "RD DO")
    t += check(21, "egg.duck.pond.net. A", "QR RD RA AD DO NXDOMAIN")
    t += query(30, "zed.pond.net. A", "RD DO")
    t += check(31, "zed.pond.net. A", SECURE, ["zed.pond.net. 300 IN A 192.0.2.253", z],
               signer=s)
    return t


def lame_for_aaaa_only() -> str:
    t = cite("RFC 4697 §2.2: a server that refers upward for some questions (here every AAAA "
             "question) is lame there; the zone's other server answers those,",
             "and the first one's authoritative answers to A questions stay usable.")
    t += header("One of two nameservers answers A questions authoritatively but every AAAA "
                "question with an upward referral; the other serves everything")
    t += root_range({"nl.": ("ns.nic.nl.", "127.7.1.20", "")})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "farm.nl.": (["ns1.farm.nl.", "ns2.farm.nl."],
                     ["ns1.farm.nl. A 127.7.44.1", "ns2.farm.nl. A 127.7.44.2"])})
    data = [Entry("cow.farm.nl. A", answer=["cow.farm.nl. 300 IN A 192.0.2.254"]),
            Entry("cow.farm.nl. AAAA", answer=["cow.farm.nl. 300 IN AAAA 2001:db8::254"]),
            Entry("pig.farm.nl. AAAA", answer=["pig.farm.nl. 300 IN AAAA 2001:db8::255"]),
            Entry("pig.farm.nl. A", answer=["pig.farm.nl. 300 IN A 192.0.2.255"])]
    glue = ["ns1.farm.nl. 3600 IN A 127.7.44.1", "ns2.farm.nl. 3600 IN A 127.7.44.2"]
    upward = Entry("farm.nl. AAAA", reply="QR NOERROR", match="opcode qtype subdomain",
                   authority=["nl. 86400 IN NS ns.nic.nl."],
                   additional=["ns.nic.nl. 86400 IN A 127.7.1.20"],
                   adjust="copy_id copy_query")
    t += zone_server("127.7.44.1", "farm.nl.", ["ns1.farm.nl.", "ns2.farm.nl."], glue,
                     [upward, *data[:1], data[3]], "ns1.farm.nl: lame for AAAA questions")
    t += zone_server("127.7.44.2", "farm.nl.", ["ns1.farm.nl.", "ns2.farm.nl."], glue, data,
                     "ns2.farm.nl: farm.nl")
    for i, (q, a) in enumerate((("cow.farm.nl. AAAA", "cow.farm.nl. 300 IN AAAA 2001:db8::254"),
                                ("pig.farm.nl. A", "pig.farm.nl. 300 IN A 192.0.2.255"),
                                ("pig.farm.nl. AAAA", "pig.farm.nl. 300 IN AAAA 2001:db8::255"),
                                ("cow.farm.nl. A", "cow.farm.nl. 300 IN A 192.0.2.254"))):
        t += query(10 * (i + 1), q)
        t += check(10 * (i + 1) + 1, q, NOERROR, [a])
    return t


def ent_denials_nsec() -> str:
    s = Signer()
    z = "SIG hill.org."
    soa_ = soa("hill.org.", "ns.hill.org.")
    # canonical order: hill.org, a.b.hill.org (b is an empty non-terminal), ns
    apex = "hill.org. 300 IN NSEC a.b.hill.org. NS SOA RRSIG NSEC DNSKEY"
    ab = "a.b.hill.org. 300 IN NSEC ns.hill.org. A RRSIG NSEC"
    t = cite("RFC 4035 §3.1.3.2 and RFC 4592 §2.2.2: below the empty non-terminal b the "
             "name x.b does not exist (its NSEC, and the apex NSEC covering *.b);",
             "RFC 4035 §3.1.3.1/RFC 5155 §7.2.3 analogue for NSEC: b itself exists without "
             "data (NODATA, the apex NSEC's next name lies below it); all secure.")
    t += header("NSEC zone with an empty non-terminal: NXDOMAIN below it, NODATA at it, "
                "and the data below it", extra=ta(s))
    t += signed_path(s, "hill.org.", "127.7.45.1")
    t += signed_zone_server(s, "hill.org.", "127.7.45.1", "ns.hill.org.", [
        Entry("x.b.hill.org. A", reply="QR AA NXDOMAIN", authority=[soa_, z, ab, z, apex, z]),
        Entry("b.hill.org. TXT", authority=[soa_, z, apex, z]),
        Entry("a.b.hill.org. A", answer=["a.b.hill.org. 300 IN A 192.0.2.245", z]),
        sub("hill.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.hill.org: hill.org, NSEC (apex, b (empty), a.b, ns)")
    t += query(10, "x.b.hill.org. A", "RD DO")
    t += check(11, "x.b.hill.org. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "b.hill.org. TXT", "RD DO")
    t += check(21, "b.hill.org. TXT", SECURE)
    t += query(30, "a.b.hill.org. A", "RD DO")
    t += check(31, "a.b.hill.org. A", SECURE, ["a.b.hill.org. 300 IN A 192.0.2.245", z],
               signer=s)
    return t


def nsec3_deep_wildcard_and_ent() -> str:
    s = Signer()
    z = "SIG rock.nl."
    chain = Nsec3Chain("rock.nl.", {"rock.nl.": "NS SOA DNSKEY NSEC3PARAM",
                                    "ns.rock.nl.": "A", "*.rock.nl.": "TXT",
                                    "b.rock.nl.": "", "a.b.rock.nl.": "A"},
                       salt="5A17", iterations=0)
    soa_ = soa("rock.nl.", "ns.rock.nl.")
    t = cite("RFC 5155 §8.8: a wildcard answer several labels below the wildcard's parent "
             "needs the next closer name (one label below it) covered;",
             "§8.5/§7.2.3: NODATA at an empty non-terminal (its NSEC3 with no types); §8.4: "
             "NXDOMAIN below it (closest encloser b, *.b covered); all secure.")
    t += header("NSEC3 zone: a TXT answer from *.rock.nl three labels down, NODATA at an "
                "empty non-terminal, NXDOMAIN below it", extra=ta(s))
    t += signed_path(s, "rock.nl.", "127.7.46.1")
    t += signed_zone_server(s, "rock.nl.", "127.7.46.1", "ns.rock.nl.", [
        Entry("p.q.r.rock.nl. TXT",
              answer=['p.q.r.rock.nl. 300 IN TXT "deep"', "SIG rock.nl. *.rock.nl."],
              authority=[chain.cover("r.rock.nl."), z]),
        Entry("b.rock.nl. MX", authority=[soa_, z, chain.match("b.rock.nl."), z]),
        Entry("x.b.rock.nl. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("b.rock.nl."), z, chain.cover("x.b.rock.nl."), z,
            chain.cover("*.b.rock.nl."), z]),
        sub("rock.nl. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.rock.nl: rock.nl, NSEC3 (apex, ns, *, b (empty), a.b)")
    t += query(10, "p.q.r.rock.nl. TXT", "RD DO")
    t += check(11, "p.q.r.rock.nl. TXT", SECURE,
               ['p.q.r.rock.nl. 300 IN TXT "deep"', "SIG rock.nl. *.rock.nl."], signer=s)
    t += query(20, "b.rock.nl. MX", "RD DO")
    t += check(21, "b.rock.nl. MX", SECURE)
    t += query(30, "x.b.rock.nl. A", "RD DO")
    t += check(31, "x.b.rock.nl. A", "QR RD RA AD DO NXDOMAIN")
    return t


def nsec3_cname_wildcard_to_nodata() -> str:
    s = Signer()
    z = "SIG wave.com."
    chain = Nsec3Chain("wave.com.", {"wave.com.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.wave.com.": "A", "*.wave.com.": "CNAME",
                                     "surf.wave.com.": "A"}, salt="0C3A", iterations=1)
    soa_ = soa("wave.com.", "ns.wave.com.")
    t = cite("RFC 5155 §8.8: the CNAME from the wildcard needs its next closer covered; "
             "§8.5: its target surf exists without AAAA (NODATA); RFC 4035 §5.3.4: each "
             "part is proven, so the answer is secure.")
    t += header("NSEC3 zone: a CNAME expanded from *.wave.com to surf.wave.com, which has no "
                "AAAA; one response with both proofs; secure NODATA", extra=ta(s))
    t += signed_path(s, "wave.com.", "127.7.47.1")
    t += signed_zone_server(s, "wave.com.", "127.7.47.1", "ns.wave.com.", [
        Entry("tide.wave.com. AAAA",
              answer=["tide.wave.com. 300 IN CNAME surf.wave.com.",
                      "SIG wave.com. *.wave.com."],
              authority=[chain.cover("tide.wave.com."), z, soa_, z,
                         chain.match("surf.wave.com."), z]),
        Entry("surf.wave.com. AAAA", authority=[soa_, z, chain.match("surf.wave.com."), z]),
        sub("wave.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.wave.com: wave.com, NSEC3 (apex, ns, *, surf)")
    t += query(10, "tide.wave.com. AAAA", "RD DO")
    t += check(11, "tide.wave.com. AAAA", SECURE,
               ["tide.wave.com. 300 IN CNAME surf.wave.com.", "SIG wave.com. *.wave.com."],
               signer=s)
    return t


def dnssec_lame_server() -> str:
    s = Signer()
    z = "SIG vault.net."
    soa_ = soa("vault.net.", "ns1.vault.net.")
    t = cite("RFC 4035 §4.3/§5: the zone is signed (a DS), so an answer without RRSIGs "
             "cannot be validated; Unbound marks such a server dnssec-lame and asks another",
             "(iterator.c, processQueryResponse); the other server's signed answers are "
             "secure (AD).")
    t += header("A signed zone with two servers: the first strips every RRSIG (DNSSEC-lame), "
                "the second signs; answers and a NODATA validate", extra=ta(s))
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "vault.net.": (["ns1.vault.net.", "ns2.vault.net."],
                       ["ns1.vault.net. A 127.7.48.1", "ns2.vault.net. A 127.7.48.2"])},
        signer=s, ds={"vault.net.": "ds"})
    data = {
        "vault.net. DNSKEY": ([s.dnskey_line("vault.net.")], []),
        "vault.net. NS": (["vault.net. 3600 IN NS ns1.vault.net.",
                           "vault.net. 3600 IN NS ns2.vault.net."], []),
        "gold.vault.net. A": (["gold.vault.net. 300 IN A 192.0.2.48"], []),
        "gold.vault.net. TXT": ([], [soa_, "gold.vault.net. 300 IN NSEC ns1.vault.net. A RRSIG "
                                     "NSEC"]),
    }
    for addr, signs in (("127.7.48.1", False), ("127.7.48.2", True)):
        entries: list[Entry | str] = []
        for question, (answer, authority) in data.items():
            sign = (lambda lines: [x for line in lines for x in (line, z)]) if signs else \
                (lambda lines: list(lines))
            entries.append(Entry(question, answer=sign(answer), authority=sign(authority)))
        entries.append(sub("vault.net. A", "QR AA NOERROR", authority=[soa_, z] if signs
                           else [soa_]))
        t += range_(0, 1000, [addr], entries, s,
                    f"{'ns2 (signs)' if signs else 'ns1 (strips every RRSIG)'}: vault.net")
    t += query(10, "gold.vault.net. A", "RD DO")
    t += check(11, "gold.vault.net. A", SECURE, ["gold.vault.net. 300 IN A 192.0.2.48", z],
               signer=s)
    t += query(20, "gold.vault.net. TXT", "RD DO")
    t += check(21, "gold.vault.net. TXT", SECURE)
    return t


def wrong_key_server() -> str:
    s, other = Signer(), Signer()
    z = "SIG safe.org."
    soa_ = soa("safe.org.", "ns1.safe.org.")
    t = cite("RFC 4035 §5.3/§5.5: data and keys that do not validate are bogus; Unbound and "
             "Knot Resolver then ask the zone's other servers (Unbound's validator retry",
             "with the failing servers blacklisted) and the second server's data validates "
             "(AD).")
    t += header("A signed zone with two servers: the first serves another key set and "
                "signatures by it (matching no DS); the second serves the right ones",
                extra=ta(s))
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "ds")}, s)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "safe.org.": (["ns1.safe.org.", "ns2.safe.org."],
                      ["ns1.safe.org. A 127.7.49.1", "ns2.safe.org. A 127.7.49.2"])},
        signer=s, ds={"safe.org.": "ds"})
    for addr, signer in (("127.7.49.1", other), ("127.7.49.2", s)):
        t += range_(0, 1000, [addr], [
            Entry("safe.org. DNSKEY", answer=[signer.dnskey_line("safe.org."), z]),
            Entry("safe.org. NS", answer=["safe.org. 3600 IN NS ns1.safe.org.", z,
                                          "safe.org. 3600 IN NS ns2.safe.org.", z]),
            Entry("door.safe.org. A", answer=["door.safe.org. 300 IN A 192.0.2.49", z]),
            sub("safe.org. A", "QR AA NOERROR", authority=[soa_, z]),
        ], signer, f"{addr}: safe.org, signed with {'another' if signer is other else 'the'} "
           "key")
    t += query(10, "door.safe.org. A", "RD DO")
    t += check(11, "door.safe.org. A", SECURE, ["door.safe.org. 300 IN A 192.0.2.49", z],
               signer=s)
    return t


# == held out, second batch (written after the fixes, run once at the end) ================

def nsset_replaced_old_refuse() -> str:
    t = cite("RFC 1034 §4.3.2/§5.3.3 and RFC 2181 §5.4.1: the cached NS set (3600 s) "
             "expires; the parent's new delegation (two glue-less names in another zone)",
             "is followed; the old servers refuse by then (lame, RFC 4697 §2.1).")
    t += header("The parent replaces a zone's three glue-less nameservers with two others in "
                "another TLD; an hour later the new ones answer (the old ones refuse)")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "org.": ("ns.nic.org.", "127.7.1.3", ""),
                     "nl.": ("ns.nic.nl.", "127.7.1.20", "")})
    old = ["a.dnsa.org.", "b.dnsa.org.", "c.dnsa.org."]
    new = ["x.dnsb.nl.", "y.dnsb.nl."]
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {"books.com.": (old, [])}, last=29,
                   comment="com before")
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {"books.com.": (new, [])}, first=30,
                   comment="com after")
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "dnsa.org.": (["ns.dnsa.org."], ["ns.dnsa.org. A 127.7.50.9"])})
    t += tld_range("nl.", "ns.nic.nl.", "127.7.1.20", {
        "dnsb.nl.": (["ns.dnsb.nl."], ["ns.dnsb.nl. A 127.7.51.9"])})
    t += zone_server("127.7.50.9", "dnsa.org.", ["ns.dnsa.org."],
                     ["ns.dnsa.org. 3600 IN A 127.7.50.9"],
                     [Entry(f"{n} A", answer=[f"{n} 3600 IN A 127.7.50.{i + 1}"])
                      for i, n in enumerate(old)], "ns.dnsa.org: dnsa.org")
    t += zone_server("127.7.51.9", "dnsb.nl.", ["ns.dnsb.nl."],
                     ["ns.dnsb.nl. 3600 IN A 127.7.51.9"],
                     [Entry(f"{n} A", answer=[f"{n} 3600 IN A 127.7.51.{i + 1}"])
                      for i, n in enumerate(new)], "ns.dnsb.nl: dnsb.nl")
    for first, last, addrs, ns, ip in (
            (0, 29, ["127.7.50.1", "127.7.50.2", "127.7.50.3"], old, "192.0.2.31"),
            (0, 1000, ["127.7.51.1", "127.7.51.2"], new, "192.0.2.32")):
        t += zone_server(addrs, "books.com.", ns, [], [
            Entry("shop.books.com. A", answer=[f"shop.books.com. 300 IN A {ip}"])],
            f"books.com at {', '.join(addrs)}", first, last)
    t += range_(30, 1000, ["127.7.50.1", "127.7.50.2", "127.7.50.3"],
                [catch_all("QR REFUSED")], comment="the old servers after the change: refuse")
    t += query(10, "shop.books.com. A")
    t += check(11, "shop.books.com. A", NOERROR, ["shop.books.com. 300 IN A 192.0.2.31"])
    t += elapse(20, 4000)
    t += query(40, "shop.books.com. A")
    t += check(41, "shop.books.com. A", NOERROR, ["shop.books.com. 300 IN A 192.0.2.32"])
    return t


def broken_v6_family() -> str:
    t = cite("RFC 1034 §5.3.3: every IPv6 address of the zone's servers answers SERVFAIL; "
             "the one IPv4 address answers, for every question.")
    t += header("Both nameservers' IPv6 addresses answer SERVFAIL; only the second has an "
                "IPv4 address, which serves the zone", do_ip6=True)
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "river.org.": (["ns1.river.org.", "ns2.river.org."],
                       ["ns1.river.org. AAAA fd07:52::1", "ns2.river.org. AAAA fd07:52::2",
                        "ns2.river.org. A 127.7.52.2"])})
    t += range_(0, 1000, ["fd07:52::1", "fd07:52::2"], [catch_all("QR SERVFAIL")],
                comment="the IPv6 addresses: SERVFAIL")
    t += zone_server("127.7.52.2", "river.org.", ["ns1.river.org.", "ns2.river.org."],
                     ["ns1.river.org. 3600 IN AAAA fd07:52::1",
                      "ns2.river.org. 3600 IN AAAA fd07:52::2",
                      "ns2.river.org. 3600 IN A 127.7.52.2"], [
        Entry("boat.river.org. A", answer=["boat.river.org. 300 IN A 192.0.2.52"]),
        Entry("boat.river.org. AAAA", answer=["boat.river.org. 300 IN AAAA 2001:db8::52"]),
    ], "ns2.river.org over IPv4: river.org")
    t += query(10, "boat.river.org. AAAA")
    t += check(11, "boat.river.org. AAAA", NOERROR,
               ["boat.river.org. 300 IN AAAA 2001:db8::52"])
    t += query(20, "boat.river.org. A")
    t += check(21, "boat.river.org. A", NOERROR, ["boat.river.org. 300 IN A 192.0.2.52"])
    return t


def signed_dname_to_insecure_nx() -> str:
    s = Signer()
    n = "SIG sign.net."
    t = cite("RFC 6672 §2.2/§5.3.1: a signed DNAME (and the CNAME it implies) into an "
             "unsigned zone where the target does not exist: NXDOMAIN;",
             "RFC 4035 §4.3: the target's zone is insecure (NSEC: no DS), so no AD.")
    t += header("A signed DNAME points into an unsigned zone whose name does not exist: "
                "NXDOMAIN with the DNAME and CNAME, without AD", extra=ta(s))
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "sign.net.": (["ns.sign.net."], ["ns.sign.net. A 127.7.53.1"]),
        "unsign.net.": (["ns.unsign.net."], ["ns.unsign.net. A 127.7.53.2"])}, signer=s,
        ds={"sign.net.": "ds"})
    t += signed_zone_server(s, "sign.net.", "127.7.53.1", "ns.sign.net.", [
        sub("to.sign.net. A", "QR AA NOERROR",
            answer=["to.sign.net. 300 IN DNAME unsign.net.", n]),
        sub("sign.net. A", "QR AA NOERROR", authority=[soa("sign.net.", "ns.sign.net."), n]),
    ], "ns.sign.net: sign.net, signed, to.sign.net is a DNAME")
    t += zone_server("127.7.53.2", "unsign.net.", ["ns.unsign.net."],
                     ["ns.unsign.net. 3600 IN A 127.7.53.2"], [
        sub("nothing.unsign.net. A", "QR AA NXDOMAIN",
            authority=[soa("unsign.net.", "ns.unsign.net.")])],
        "ns.unsign.net: unsign.net, unsigned")
    t += query(10, "nothing.to.sign.net. A", "RD DO")
    t += check(11, "nothing.to.sign.net. A", "QR RD RA DO NXDOMAIN", [
        "to.sign.net. 300 IN DNAME unsign.net.", n,
        "nothing.to.sign.net. 300 IN CNAME nothing.unsign.net."], signer=s)
    return t


def wildcard_wrong_proof() -> str:
    s = Signer()
    z = "SIG moon.org."
    soa_ = soa("moon.org.", "ns.moon.org.")
    # canonical order: moon.org, *.moon.org, ns, sea, zz
    cover_m = "*.moon.org. 300 IN NSEC ns.moon.org. A RRSIG NSEC"
    t = cite("RFC 4035 §5.3.4: a wildcard answer needs an NSEC proving the query name does "
             "not exist; one that covers some other name proves nothing (bogus, SERVFAIL);",
             "with the right NSEC it validates (AD).")
    t += header("NSEC zone: a wildcard answer whose NSEC covers another name is bogus; a "
                "wildcard answer with the covering NSEC validates", extra=ta(s))
    t += signed_path(s, "moon.org.", "127.7.54.1")
    t += signed_zone_server(s, "moon.org.", "127.7.54.1", "ns.moon.org.", [
        Entry("tide.moon.org. A", answer=["tide.moon.org. 300 IN A 192.0.2.54",
                                          "SIG moon.org. *.moon.org."],
              authority=[cover_m, z]),
        Entry("crater.moon.org. A", answer=["crater.moon.org. 300 IN A 192.0.2.54",
                                            "SIG moon.org. *.moon.org."],
              authority=[cover_m, z]),
        sub("moon.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.moon.org: moon.org, NSEC (apex, *, ns, sea, zz)")
    t += query(10, "tide.moon.org. A", "RD DO")
    t += check(11, "tide.moon.org. A", "QR RD RA DO SERVFAIL", match="opcode qname qtype rcode")
    t += query(20, "crater.moon.org. A", "RD DO")
    t += check(21, "crater.moon.org. A", SECURE,
               ["crater.moon.org. 300 IN A 192.0.2.54", "SIG moon.org. *.moon.org."], signer=s)
    return t


HELDOUT2 = {
    "iter_nsset_replaced_old_refuse": nsset_replaced_old_refuse,
    "iter_broken_v6_family": broken_v6_family,
    "val_signed_dname_to_insecure_nx": signed_dname_to_insecure_nx,
    "val_wildcard_wrong_proof": wildcard_wrong_proof,
}


FIXON = {
    "iter_glue_refused_glueless_good": glue_refused_glueless_good,
    "iter_servfail_v4_v6_good": servfail_v4_v6_good,
    "iter_lame_self_referral": lame_self_referral,
    "iter_delegation_to_glueless_old_lame": delegation_to_glueless_old_lame,
    "iter_new_nsset_first_dead": new_nsset_first_dead,
    "val_dname_insecure_to_signed_target": dname_insecure_to_signed_target,
    "val_dname_insecure_nodata_and_chain": dname_insecure_nodata_and_chain,
    "val_nsec3_wildcard_answer_missing_proof": nsec3_wildcard_answer_missing_proof,
    "val_nsec_nx_and_wildcard_cname": nsec_nx_and_wildcard_cname,
    "val_nsec3_nodata_nx_noce": nsec3_nodata_nx_noce,
    "iter_dname_yxdomain_two_hops": dname_yxdomain_and_two_hops,
    "val_aggressive_nsec_wildcard": aggressive_nsec_respects_wildcard,
    "val_nxdomain_below_cached_nx": nxdomain_below_cached_nx,
    "iter_lame_for_aaaa_only": lame_for_aaaa_only,
    "val_ent_denials_nsec": ent_denials_nsec,
    "val_nsec3_deep_wildcard_and_ent": nsec3_deep_wildcard_and_ent,
    "val_nsec3_cname_wildcard_to_nodata": nsec3_cname_wildcard_to_nodata,
    "iter_dnssec_lame_server": dnssec_lame_server,
    "val_wrong_key_server": wrong_key_server,
}

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for where, table in (("heldout", HELDOUT), ("fixon", FIXON), ("heldout2", HELDOUT2)):
        for name, make in table.items():
            if not only or name in only:
                write(where, name, make())
