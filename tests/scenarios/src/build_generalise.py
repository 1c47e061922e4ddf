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

from build import NOERROR, nodata, signed_zone_server, soa  # noqa: E402
from rpl import (  # noqa: E402
    DATE,
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


def ta(s: Signer) -> list[str]:
    return [f'trust-anchor: "{s.ds_line(".")}"', f"val-override-date: {DATE}"]


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

FIXON: dict[str, object] = {}

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for where, table in (("heldout", HELDOUT), ("fixon", FIXON)):
        for name, make in table.items():
            if not only or name in only:
                write(where, name, make())  # type: ignore[operator]
