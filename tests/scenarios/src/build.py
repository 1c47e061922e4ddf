"""Write the scenarios of tests/scenarios/fixon and tests/scenarios/measure.

The two sets cover the same four behaviours (iteration around broken or lame server
addresses, DNAME in an insecure zone, a delegation whose NS set changes, validation of
answers next to NXDOMAIN/wildcard proofs) with different names, addresses and structure:
``fixon`` is what the resolver was fixed on, ``measure`` was written before the fixes and
only run at the end.  Every address is on loopback (127.7.0.0/16) except the IPv6 ones
(fd07::/16, in-process only).  Signed scenarios get fresh keys each time this runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

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

OUT = Path(__file__).parents[1]
NOERROR = "QR RD RA NOERROR"
SECURE = "QR RD RA AD NOERROR"


def soa(zone: str, ns: str, minimum: int = 300) -> str:
    return f"{zone} 3600 IN SOA {ns} hostmaster.{zone} 1 1800 900 604800 {minimum}"


def nodata(zone: str, ns: str) -> Entry:
    return sub(f"{zone} A", "QR AA NOERROR", authority=[soa(zone, ns)])


def before_and_after(question: str, before: str, after: str, seconds: int) -> str:
    """Ask at step 10 (expect ``before``), let ``seconds`` pass at step 20, ask again at
    step 40 (expect ``after``): the moves happen at step 30."""
    return (query(10, question) + check(11, question, NOERROR, [before])
            + elapse(20, seconds) + query(40, question) + check(41, question, NOERROR, [after]))


def write(where: str, name: str, text: str) -> None:
    path = OUT / where / f"{name}.rpl"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text + "SCENARIO_END\n")


ROOT3 = {"com.": ("ns.nic.com.", "127.7.1.1", ""), "net.": ("ns.nic.net.", "127.7.1.2", ""),
         "org.": ("ns.nic.org.", "127.7.1.3", "")}


# -- (a) broken or lame server addresses --------------------------------------------------

def ns_unusable_glue() -> str:
    """One nameserver's glue is 0.0.0.0 (unusable); the other is glue-less, in net."""
    t = header("A nameserver whose glue address is unusable (0.0.0.0) is skipped; the zone's "
               "other, glue-less nameserver answers")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns1.example.com.", "ns.example.net."], ["ns1.example.com. A 0.0.0.0"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])})
    t += range_(0, 1000, ["127.7.3.1"], [
        Entry("www.example.com. A", answer=["www.example.com. 300 IN A 192.0.2.10"]),
        Entry("mail.example.com. A", answer=["mail.example.com. 300 IN A 192.0.2.11"]),
        Entry("example.com. NS", answer=["example.com. NS ns1.example.com.",
                                         "example.com. NS ns.example.net."]),
        Entry("ns1.example.com. A", answer=["ns1.example.com. A 0.0.0.0"]),
        Entry("ns.example.net. A", answer=["ns.example.net. A 127.7.3.1"]),
        nodata("example.com.", "ns.example.net."), nodata("example.net.", "ns.example.net."),
    ], comment="ns.example.net: example.net and example.com")
    t += query(10, "www.example.com. A")
    t += check(11, "www.example.com. A", NOERROR, ["www.example.com. 300 IN A 192.0.2.10"])
    t += query(20, "mail.example.com. A")
    t += check(21, "mail.example.com. A", NOERROR, ["mail.example.com. 300 IN A 192.0.2.11"])
    return t


def lame_ipv6_refused() -> str:
    """The server's IPv6 address refuses; its IPv4 address answers."""
    t = header("A nameserver's IPv6 address refuses every query; its IPv4 address serves the "
               "zone", do_ip6=True)
    t += root_range(ROOT3)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1",
                                               "ns.example.net. AAAA fd07:3::1"])})
    t += range_(0, 1000, ["fd07:3::1"], [catch_all("QR REFUSED")],
                comment="ns.example.net over IPv6: refuses")
    t += range_(0, 1000, ["127.7.3.1"], [
        Entry("www.example.net. A", answer=["www.example.net. 300 IN A 192.0.2.20"]),
        Entry("www.example.net. AAAA", answer=["www.example.net. 300 IN AAAA 2001:db8::20"]),
        Entry("ftp.example.net. A", answer=["ftp.example.net. 300 IN A 192.0.2.21"]),
        Entry("example.net. NS", answer=["example.net. NS ns.example.net."]),
        Entry("ns.example.net. A", answer=["ns.example.net. A 127.7.3.1"]),
        Entry("ns.example.net. AAAA", answer=["ns.example.net. AAAA fd07:3::1"]),
        nodata("example.net.", "ns.example.net."),
    ], comment="ns.example.net over IPv4")
    t += query(10, "www.example.net. A")
    t += check(11, "www.example.net. A", NOERROR, ["www.example.net. 300 IN A 192.0.2.20"])
    t += query(20, "www.example.net. AAAA")
    t += check(21, "www.example.net. AAAA", NOERROR,
               ["www.example.net. 300 IN AAAA 2001:db8::20"])
    t += query(30, "ftp.example.net. A")
    t += check(31, "ftp.example.net. A", NOERROR, ["ftp.example.net. 300 IN A 192.0.2.21"])
    return t


def lame_ipv4_upward() -> str:
    """ns1's IPv4 address gives upward referrals, ns2 times out, ns1's IPv6 address works."""
    t = header("A nameserver's IPv4 address is lame (upward referral), the other nameserver "
               "times out; the first one's IPv6 address serves the zone", do_ip6=True)
    t += root_range(ROOT3)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["ns1.example.org.", "ns2.example.org."],
                         ["ns1.example.org. A 127.7.4.1", "ns1.example.org. AAAA fd07:4::1",
                          "ns2.example.org. A 127.7.4.2"])})
    t += range_(0, 1000, ["127.7.4.1"], [catch_all(
        "QR NOERROR", authority=["org. 86400 IN NS ns.nic.org."],
        additional=["ns.nic.org. 86400 IN A 127.7.1.3"])],
        comment="ns1.example.org over IPv4: lame, refers up to org")
    t += range_(0, 1000, ["fd07:4::1"], [
        Entry("www.example.org. A", answer=["www.example.org. 300 IN A 192.0.2.30"]),
        Entry("shop.example.org. A", answer=["shop.example.org. 300 IN A 192.0.2.31"]),
        Entry("example.org. NS", answer=["example.org. NS ns1.example.org.",
                                         "example.org. NS ns2.example.org."]),
        Entry("ns1.example.org. A", answer=["ns1.example.org. A 127.7.4.1"]),
        Entry("ns1.example.org. AAAA", answer=["ns1.example.org. AAAA fd07:4::1"]),
        Entry("ns2.example.org. A", answer=["ns2.example.org. A 127.7.4.2"]),
        nodata("example.org.", "ns1.example.org."),
    ], comment="ns1.example.org over IPv6 (ns2, 127.7.4.2, has no range: it times out)")
    t += query(10, "www.example.org. A")
    t += check(11, "www.example.org. A", NOERROR, ["www.example.org. 300 IN A 192.0.2.30"])
    t += query(20, "shop.example.org. A")
    t += check(21, "shop.example.org. A", NOERROR, ["shop.example.org. 300 IN A 192.0.2.31"])
    return t


def ns_v6_timeout_glueless() -> str:
    """measure: bad IPv4 glue + timing-out IPv6 on one server, SERVFAIL IPv6 on the other."""
    t = header("One nameserver has a broadcast IPv4 glue address and an IPv6 address that "
               "times out; the other, glue-less, one fails over IPv6 and answers over IPv4",
               do_ip6=True)
    t += root_range({**ROOT3, "info.": ("a.nic.info.", "127.7.1.4", "")})
    t += tld_range("info.", "a.nic.info.", "127.7.1.4", {
        "example.info.": (["ns-a.example.info.", "dns.example.net."],
                          ["ns-a.example.info. A 255.255.255.255",
                           "ns-a.example.info. AAAA fd07:5::1"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["dns.example.net."], ["dns.example.net. A 127.7.5.2",
                                                "dns.example.net. AAAA fd07:5::2"])})
    t += range_(0, 1000, ["fd07:5::2"], [catch_all("QR SERVFAIL")],
                comment="dns.example.net over IPv6: SERVFAIL")
    t += range_(0, 1000, ["127.7.5.2"], [
        Entry("www.example.info. A", answer=["www.example.info. 300 IN A 192.0.2.40"]),
        Entry("api.example.info. A", answer=["api.example.info. 300 IN A 192.0.2.41"]),
        Entry("example.info. NS", answer=["example.info. NS ns-a.example.info.",
                                          "example.info. NS dns.example.net."]),
        Entry("dns.example.net. A", answer=["dns.example.net. A 127.7.5.2"]),
        Entry("dns.example.net. AAAA", answer=["dns.example.net. AAAA fd07:5::2"]),
        nodata("example.info.", "dns.example.net."), nodata("example.net.", "dns.example.net."),
    ], comment="dns.example.net over IPv4 (fd07:5::1 has no range: it times out)")
    t += query(10, "www.example.info. A")
    t += check(11, "www.example.info. A", NOERROR, ["www.example.info. 300 IN A 192.0.2.40"])
    t += query(20, "api.example.info. A")
    t += check(21, "api.example.info. A", NOERROR, ["api.example.info. 300 IN A 192.0.2.41"])
    return t


def lame_noaa_one_address() -> str:
    """measure: one address of a server is lame (no AA), its other address works."""
    t = header("A nameserver with two IPv4 addresses: one answers without AA (lame), the "
               "other serves the zone; the zone's second nameserver times out")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "shop.com.": (["a.ns.shop.com.", "b.ns.shop.com."],
                      ["a.ns.shop.com. A 127.7.6.1", "a.ns.shop.com. A 127.7.6.3",
                       "b.ns.shop.com. A 127.7.6.2"])})
    t += range_(0, 1000, ["127.7.6.1"], [catch_all("QR NOERROR")],
                comment="a.ns.shop.com at 127.7.6.1: lame, empty answers without AA")
    t += range_(0, 1000, ["127.7.6.3"], [
        Entry("www.shop.com. A", answer=["www.shop.com. 300 IN A 192.0.2.60"]),
        Entry("cart.shop.com. A", answer=["cart.shop.com. 300 IN A 192.0.2.61"]),
        Entry("shop.com. NS", answer=["shop.com. NS a.ns.shop.com.",
                                      "shop.com. NS b.ns.shop.com."]),
        Entry("a.ns.shop.com. A", answer=["a.ns.shop.com. A 127.7.6.1",
                                          "a.ns.shop.com. A 127.7.6.3"]),
        Entry("b.ns.shop.com. A", answer=["b.ns.shop.com. A 127.7.6.2"]),
        nodata("shop.com.", "a.ns.shop.com."),
    ], comment="a.ns.shop.com at 127.7.6.3 (b.ns.shop.com, 127.7.6.2, times out)")
    t += query(10, "www.shop.com. A")
    t += check(11, "www.shop.com. A", NOERROR, ["www.shop.com. 300 IN A 192.0.2.60"])
    t += query(20, "cart.shop.com. A")
    t += check(21, "cart.shop.com. A", NOERROR, ["cart.shop.com. 300 IN A 192.0.2.61"])
    return t


# -- (c) the NS set changes ---------------------------------------------------------------

def delegation_moves() -> str:
    """The parent moves the delegation; the old server turns lame after the move."""
    t = header("The parent moves example.com to another operator; once the cached delegation "
               "expires the resolver follows the new one (the old server refuses by then)")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["300 ns.hostold.net."], [])}, last=29, comment="com before the move")
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["300 ns.hostnew.net."], [])}, first=30, comment="com after the move")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "hostold.net.": (["ns.hostold.net."], ["ns.hostold.net. A 127.7.3.1"]),
        "hostnew.net.": (["ns.hostnew.net."], ["ns.hostnew.net. A 127.7.3.2"])})
    for first, last, addr, host, www in ((0, 29, "127.7.3.1", "hostold", "192.0.2.1"),
                                         (0, 1000, "127.7.3.2", "hostnew", "192.0.2.2")):
        ns = f"ns.{host}.net."
        t += range_(first, last, [addr], [
            Entry("www.example.com. A", answer=[f"www.example.com. 300 IN A {www}"],
                  authority=[f"example.com. 300 IN NS {ns}"]),
            Entry("example.com. NS", answer=[f"example.com. 300 IN NS {ns}"]),
            Entry(f"{ns} A", answer=[f"{ns} A {addr}"]),
            nodata("example.com.", ns), nodata(f"{host}.net.", ns),
        ], comment=f"{ns}")
    t += range_(30, 1000, ["127.7.3.1"], [catch_all("QR REFUSED")],
                comment="ns.hostold.net after the move: refuses")
    return t + before_and_after("www.example.com. A", "www.example.com. 300 IN A 192.0.2.1",
                                "www.example.com. 300 IN A 192.0.2.2", 600)


def child_ns_differs() -> str:
    """The child's NS set (authoritative) differs from the parent's; the parent's server
    stops answering; the child's set is the one to use (RFC 2181 §5.4.1)."""
    t = header("The child's authoritative NS set (in its answers) replaces the parent's "
               "delegation; when the server only the parent lists goes silent, the child's "
               "nameserver is used")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns1.example.com."], ["ns1.example.com. A 127.7.2.1"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns2.example.net."], ["ns2.example.net. A 127.7.3.2"])})
    for last, addr in ((25, "127.7.2.1"), (1000, "127.7.3.2")):
        t += range_(0, last, [addr], [
            Entry("www.example.com. A", answer=["www.example.com. 300 IN A 192.0.2.10"],
                  authority=["example.com. 3600 IN NS ns2.example.net."]),
            Entry("mail.example.com. A", answer=["mail.example.com. 300 IN A 192.0.2.11"],
                  authority=["example.com. 3600 IN NS ns2.example.net."]),
            Entry("example.com. NS", answer=["example.com. 3600 IN NS ns2.example.net."]),
            Entry("ns2.example.net. A", answer=["ns2.example.net. A 127.7.3.2"]),
            nodata("example.com.", "ns2.example.net."), nodata("example.net.", "ns2.example.net."),
        ], comment=f"{addr}: example.com (127.7.2.1 goes silent after step 25)")
    t += query(10, "www.example.com. A")
    t += check(11, "www.example.com. A", NOERROR, ["www.example.com. 300 IN A 192.0.2.10"])
    t += query(30, "mail.example.com. A")
    t += check(31, "mail.example.com. A", NOERROR, ["mail.example.com. 300 IN A 192.0.2.11"])
    return t


def ns_ttl_not_extended() -> str:
    """measure: the old operator keeps re-asserting its NS set; it must still expire."""
    t = header("Domain sold: the old server keeps answering and re-asserting its NS set in "
               "every answer; the NS set still expires on time and the new delegation is used")
    t += root_range(ROOT3)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["600 ns.example.org."], ["ns.example.org. 600 IN A 127.7.4.1"])},
        last=29, comment="org before the sale")
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["600 ns.example.org."], ["ns.example.org. 600 IN A 127.7.4.9"])},
        first=30, comment="org after the sale")
    for addr, net in (("127.7.4.1", "1"), ("127.7.4.9", "9")):
        t += range_(0, 1000, [addr], [
            Entry(f"{h}.example.org. A", answer=[f"{h}.example.org. 60 IN A 192.0.2.{net}{i}"],
                  authority=["example.org. 600 IN NS ns.example.org."],
                  additional=[f"ns.example.org. 600 IN A {addr}"])
            for i, h in enumerate(("www", "two", "three"))
        ] + [
            Entry("example.org. NS", answer=["example.org. 600 IN NS ns.example.org."],
                  additional=[f"ns.example.org. 600 IN A {addr}"]),
            Entry("ns.example.org. A", answer=[f"ns.example.org. 600 IN A {addr}"]),
            nodata("example.org.", "ns.example.org."),
        ], comment=f"{addr}: example.org ({'old' if net == '1' else 'new'} owner)")
    t += query(10, "www.example.org. A")
    t += check(11, "www.example.org. A", NOERROR, ["www.example.org. 60 IN A 192.0.2.10"])
    t += elapse(15, 400)
    t += query(20, "two.example.org. A")
    t += check(21, "two.example.org. A", NOERROR, ["two.example.org. 60 IN A 192.0.2.11"])
    t += elapse(35, 300)
    t += query(40, "three.example.org. A")
    t += check(41, "three.example.org. A", NOERROR, ["three.example.org. 60 IN A 192.0.2.92"])
    return t


# -- (b) DNAME in an insecure zone ---------------------------------------------------------

def signed_root(signer: Signer, modes: dict[str, str]) -> str:
    return root_range({k: (v[0], v[1], modes.get(k, "nods")) for k, v in ROOT3.items()},
                      signer)


def ta(signer: Signer) -> list[str]:
    return [f'trust-anchor: "{signer.ds_line(".")}"', f"val-override-date: {DATE}"]


def dname_insecure() -> str:
    s = Signer()
    t = header("A DNAME in an unsigned zone below a signed TLD: the answer (DNAME, the "
               "synthesised CNAME, the target's data in another unsigned zone) is insecure",
               extra=ta(s))
    t += signed_root(s, {"com.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s,
        ds={})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])})
    t += range_(0, 1000, ["127.7.2.1"], [
        sub("alias.example.com. A", "QR AA NOERROR",
            answer=["alias.example.com. 300 IN DNAME target.example.net."]),
        Entry("example.com. NS", answer=["example.com. NS ns.example.com."]),
        Entry("ns.example.com. A", answer=["ns.example.com. A 127.7.2.1"]),
        nodata("example.com.", "ns.example.com."),
    ], comment="ns.example.com: example.com, unsigned; the DNAME comes without its CNAME")
    t += range_(0, 1000, ["127.7.3.1"], [
        Entry("www.target.example.net. A", answer=["www.target.example.net. 300 IN A 192.0.2.70"]),
        Entry("ftp.target.example.net. A", answer=["ftp.target.example.net. 300 IN A 192.0.2.71"]),
        Entry("example.net. NS", answer=["example.net. NS ns.example.net."]),
        Entry("ns.example.net. A", answer=["ns.example.net. A 127.7.3.1"]),
        nodata("example.net.", "ns.example.net."),
    ], comment="ns.example.net: example.net, unsigned")
    t += query(10, "www.alias.example.com. A", "RD DO")
    t += check(11, "www.alias.example.com. A", "QR RD RA DO NOERROR", [
        "alias.example.com. 300 IN DNAME target.example.net.",
        "www.alias.example.com. 300 IN CNAME www.target.example.net.",
        "www.target.example.net. 300 IN A 192.0.2.70"])
    t += query(20, "ftp.alias.example.com. A", "RD DO")
    t += check(21, "ftp.alias.example.com. A", "QR RD RA DO NOERROR", [
        "alias.example.com. 300 IN DNAME target.example.net.",
        "ftp.alias.example.com. 300 IN CNAME ftp.target.example.net.",
        "ftp.target.example.net. 300 IN A 192.0.2.71"])
    return t


def dname_insecure_with_cname() -> str:
    s = Signer()
    t = header("A DNAME in an unsigned delegation of a signed TLD, answered with the "
               "synthesised CNAME and in-zone target data: insecure, answered as given",
               extra=ta(s))
    t += signed_root(s, {"org.": "ds"})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "corp.org.": (["ns1.corp.org."], ["ns1.corp.org. A 127.7.4.1"]),
        "other.org.": (["ns1.other.org."], ["ns1.other.org. A 127.7.4.2"])}, signer=s, ds={})
    t += range_(0, 1000, ["127.7.4.1"], [
        Entry("host.old.corp.org. A", answer=[
            "old.corp.org. 300 IN DNAME new.corp.org.",
            "host.old.corp.org. 300 IN CNAME host.new.corp.org.",
            "host.new.corp.org. 300 IN A 192.0.2.80"]),
        Entry("host.new.corp.org. A", answer=["host.new.corp.org. 300 IN A 192.0.2.80"]),
        Entry("corp.org. NS", answer=["corp.org. NS ns1.corp.org."]),
        Entry("ns1.corp.org. A", answer=["ns1.corp.org. A 127.7.4.1"]),
        nodata("corp.org.", "ns1.corp.org."),
    ], comment="ns1.corp.org: corp.org, unsigned")
    t += query(10, "host.old.corp.org. A", "RD DO")
    t += check(11, "host.old.corp.org. A", "QR RD RA DO NOERROR", [
        "old.corp.org. 300 IN DNAME new.corp.org.",
        "host.old.corp.org. 300 IN CNAME host.new.corp.org.",
        "host.new.corp.org. 300 IN A 192.0.2.80"])
    return t


def dname_insecure_nx() -> str:
    """measure: DNAME to a name that does not exist, in an insecure zone; and a cached use."""
    s = Signer()
    t = header("An insecure DNAME whose target does not exist (NXDOMAIN with the DNAME and "
               "CNAME), then a second name under the cached DNAME", extra=ta(s))
    t += signed_root(s, {"net.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "legacy.net.": (["a.ns.legacy.net."], ["a.ns.legacy.net. A 127.7.3.5"]),
        "current.net.": (["b.ns.current.net."], ["b.ns.current.net. A 127.7.3.6"])},
        signer=s, ds={})
    t += range_(0, 1000, ["127.7.3.5"], [
        sub("legacy.net. A", "QR AA NOERROR",
            answer=["legacy.net. 600 IN DNAME current.net."]),
    ], comment="a.ns.legacy.net: legacy.net is one DNAME (unsigned)")
    cur_soa = soa("current.net.", "b.ns.current.net.")
    t += range_(0, 1000, ["127.7.3.6"], [
        Entry("mx.current.net. MX", answer=["mx.current.net. 300 IN MX 10 mail.current.net."]),
        Entry("current.net. NS", answer=["current.net. NS b.ns.current.net."]),
        Entry("b.ns.current.net. A", answer=["b.ns.current.net. A 127.7.3.6"]),
        Entry("mail.current.net. A", answer=["mail.current.net. A 192.0.2.90"]),
        sub("b.ns.current.net. A", "QR AA NOERROR", authority=[cur_soa]),
        sub("mx.current.net. A", "QR AA NOERROR", authority=[cur_soa]),
        sub("mail.current.net. A", "QR AA NOERROR", authority=[cur_soa]),
        sub("current.net. A", "QR AA NXDOMAIN", authority=[cur_soa]),
    ], comment="b.ns.current.net: current.net (unsigned)")
    t += query(10, "gone.legacy.net. A", "RD DO")
    t += check(11, "gone.legacy.net. A", "QR RD RA DO NXDOMAIN", [
        "legacy.net. 600 IN DNAME current.net.",
        "gone.legacy.net. 600 IN CNAME gone.current.net."])
    t += query(20, "mx.legacy.net. MX", "RD DO")
    t += check(21, "mx.legacy.net. MX", "QR RD RA DO NOERROR", [
        "legacy.net. 600 IN DNAME current.net.",
        "mx.legacy.net. 600 IN CNAME mx.current.net.",
        "mx.current.net. 300 IN MX 10 mail.current.net."])
    return t


# -- (d) validation next to NXDOMAIN / wildcard proofs -------------------------------------

def signed_zone_server(s: Signer, zone: str, addr: str, ns: str, entries: list[Entry],
                       comment: str) -> str:
    z = f"SIG {zone}"
    base = [
        Entry(f"{zone} DNSKEY", answer=[s.dnskey_line(zone), z]),
        Entry(f"{zone} NS", answer=[f"{zone} NS {ns}", z]),
        Entry(f"{ns} A", answer=[f"{ns} A {addr}", z]),
    ]
    return range_(0, 1000, [addr], base + entries, s, comment)


def wildcard_answer_nsec() -> str:
    s = Signer()
    z = "SIG example.com."
    t = header("A signed wildcard answer with its NSEC proof validates (AD), and so does an "
               "NXDOMAIN of the same zone", extra=ta(s))
    t += signed_root(s, {"com.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s,
        ds={"example.com.": "ds"})
    soa_ = soa("example.com.", "ns.example.com.")
    t += signed_zone_server(s, "example.com.", "127.7.2.1", "ns.example.com.", [
        Entry("host.example.com. A",
              answer=["host.example.com. 300 IN A 192.0.2.50", "SIG example.com. *.example.com."],
              authority=["*.example.com. 300 IN NSEC ns.example.com. A RRSIG NSEC", z]),
        Entry("ns.example.com. AAAA", authority=[
            soa_, z, "ns.example.com. 300 IN NSEC www.example.com. A RRSIG NSEC", z]),
        Entry("a.b.www.example.com. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "www.example.com. 300 IN NSEC example.com. A RRSIG NSEC", z,
            "example.com. 300 IN NSEC *.example.com. NS SOA RRSIG NSEC DNSKEY", z]),
        sub("example.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.com: example.com, signed (apex, *, ns, www)")
    t += query(10, "host.example.com. A", "RD DO")
    t += check(11, "host.example.com. A", "QR RD RA AD DO NOERROR",
               ["host.example.com. 300 IN A 192.0.2.50", "SIG example.com. *.example.com."],
               signer=s)
    t += query(20, "a.b.www.example.com. A", "RD DO")
    t += check(21, "a.b.www.example.com. A", "QR RD RA AD DO NXDOMAIN")
    return t


def cname_wildcard_to_nx() -> str:
    s = Signer()
    z, n = "SIG example.com.", "SIG example.net."
    t = header("A CNAME expanded from a signed wildcard (with its NSEC proof) points to a "
               "name that a signed zone denies: NXDOMAIN, validated (AD)", extra=ta(s))
    t += signed_root(s, {"com.": "ds", "net.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s,
        ds={"example.com.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])}, signer=s,
        ds={"example.net.": "ds"})
    t += signed_zone_server(s, "example.com.", "127.7.2.1", "ns.example.com.", [
        Entry("a.example.com. A",
              answer=["a.example.com. 300 IN CNAME gone.example.net.",
                      "SIG example.com. *.example.com."],
              authority=["*.example.com. 300 IN NSEC example.com. CNAME RRSIG NSEC", z]),
        sub("example.com. A", "QR AA NOERROR", authority=[
            soa("example.com.", "ns.example.com."), z]),
    ], "ns.example.com: example.com, signed (apex, *)")
    soa_n = soa("example.net.", "ns.example.net.")
    t += signed_zone_server(s, "example.net.", "127.7.3.1", "ns.example.net.", [
        Entry("gone.example.net. A", reply="QR AA NXDOMAIN", authority=[
            soa_n, n, "example.net. 300 IN NSEC ns.example.net. NS SOA RRSIG NSEC DNSKEY", n]),
        sub("example.net. A", "QR AA NOERROR", authority=[soa_n, n]),
    ], "ns.example.net: example.net, signed (apex, ns)")
    t += query(10, "a.example.com. A", "RD DO")
    t += check(11, "a.example.com. A", "QR RD RA AD DO NXDOMAIN",
               ["a.example.com. 300 IN CNAME gone.example.net.",
                "SIG example.com. *.example.com."], signer=s)
    return t


def nxdomain_then_deep_wildcard() -> str:
    s = Signer()
    z = "SIG example.org."
    t = header("In one signed zone, an NXDOMAIN (name and wildcard denied) and a TXT answer "
               "expanded from a wildcard two labels down (its NSEC proof) both validate",
               extra=ta(s))
    t += signed_root(s, {"org.": "ds"})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["ns.example.org."], ["ns.example.org. A 127.7.4.1"])}, signer=s,
        ds={"example.org.": "ds"})
    soa_ = soa("example.org.", "ns.example.org.")
    # order: example.org, ns, w, *.w, z.w
    t += signed_zone_server(s, "example.org.", "127.7.4.1", "ns.example.org.", [
        Entry("other.example.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "ns.example.org. 300 IN NSEC *.w.example.org. A RRSIG NSEC", z,
            "example.org. 300 IN NSEC ns.example.org. NS SOA RRSIG NSEC DNSKEY", z]),
        Entry("x.y.w.example.org. TXT",
              answer=['x.y.w.example.org. 300 IN TXT "wild"', "SIG example.org. *.w.example.org."],
              authority=["*.w.example.org. 300 IN NSEC z.w.example.org. TXT RRSIG NSEC", z]),
        sub("example.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.org: example.org, signed (apex, ns, w (empty), *.w, z.w)")
    t += query(10, "other.example.org. A", "RD DO")
    t += check(11, "other.example.org. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "x.y.w.example.org. TXT", "RD DO")
    t += check(21, "x.y.w.example.org. TXT", "QR RD RA AD DO NOERROR",
               ['x.y.w.example.org. 300 IN TXT "wild"', "SIG example.org. *.w.example.org."],
               signer=s)
    return t


def wildcard_without_proof() -> str:
    """measure: wildcard answers with and without their proof, next to an NXDOMAIN."""
    s = Signer()
    z = "SIG example.net."
    t = header("Signed zone: an NXDOMAIN, a wildcard MX answer with its NSEC proof (AD), and "
               "a wildcard answer whose proof is missing (bogus: SERVFAIL)", extra=ta(s))
    t += signed_root(s, {"net.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])}, signer=s,
        ds={"example.net.": "ds"})
    soa_ = soa("example.net.", "ns.example.net.")
    # order: example.net, *.mail, x.mail, ns, *.web
    t += signed_zone_server(s, "example.net.", "127.7.3.1", "ns.example.net.", [
        Entry("a.mail.example.net. MX",
              answer=["a.mail.example.net. 300 IN MX 5 mx.example.org.",
                      "SIG example.net. *.mail.example.net."],
              authority=["*.mail.example.net. 300 IN NSEC x.mail.example.net. MX RRSIG NSEC", z]),
        Entry("b.web.example.net. A",
              answer=["b.web.example.net. 300 IN A 192.0.2.99",
                      "SIG example.net. *.web.example.net."]),
        Entry("q.example.net. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "ns.example.net. 300 IN NSEC *.web.example.net. A RRSIG NSEC", z,
            "example.net. 300 IN NSEC *.mail.example.net. NS SOA RRSIG NSEC DNSKEY", z]),
        sub("example.net. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.net: example.net, signed")
    t += query(10, "q.example.net. A", "RD DO")
    t += check(11, "q.example.net. A", "QR RD RA AD DO NXDOMAIN")
    t += query(20, "a.mail.example.net. MX", "RD DO")
    t += check(21, "a.mail.example.net. MX", "QR RD RA AD DO NOERROR",
               ["a.mail.example.net. 300 IN MX 5 mx.example.org.",
                "SIG example.net. *.mail.example.net."], signer=s)
    t += query(30, "b.web.example.net. A", "RD DO")
    t += check(31, "b.web.example.net. A", "QR RD RA DO SERVFAIL", match="opcode qname qtype rcode")
    return t


def lame_recursive_noaa() -> str:
    """A server answers like an open recursive resolver (RA, no AA) with data.  Knot
    Resolver, whose view the Deckard dialect holds, takes a positive answer whatever its AA
    bit ("an authoritative answer (even with AA=0)", lib/layer/iterate.c); only a negative
    one without AA is lame (iter_reclame_nxdomain).  Unbound would call the server
    recursion-lame (RFC 4697 §2.3), the testbound dialect's rule."""
    t = header("A delegated server answers with data, without AA and with RA (an open "
               "resolver): Knot Resolver takes a positive answer whatever its AA bit, so "
               "its data is the answer, not the zone's other, glue-less server's")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns1.example.com.", "ns.hosting.org."],
                         ["ns1.example.com. A 127.7.2.1"])})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "hosting.org.": (["ns.hosting.org."], ["ns.hosting.org. A 127.7.4.4"])})
    t += range_(0, 1000, ["127.7.2.1"], [
        sub("example.com. A", "QR RA NOERROR", answer=["www.example.com. 60 IN A 198.51.100.66"]),
        catch_all("QR RA NOERROR"),
    ], comment="ns1.example.com: answers like a resolver (RA, no AA); the server with an "
               "address, asked first")
    t += range_(0, 1000, ["127.7.4.4"], [
        Entry("www.example.com. A", answer=["www.example.com. 300 IN A 192.0.2.10"]),
        Entry("example.com. NS", answer=["example.com. NS ns1.example.com.",
                                         "example.com. NS ns.hosting.org."]),
        Entry("ns1.example.com. A", answer=["ns1.example.com. A 127.7.2.1"]),
        Entry("ns.hosting.org. A", answer=["ns.hosting.org. A 127.7.4.4"]),
        nodata("example.com.", "ns.hosting.org."), nodata("hosting.org.", "ns.hosting.org."),
    ], comment="ns.hosting.org: example.com and hosting.org (glue-less: asked only if the "
               "first server's answer were refused)")
    t += query(10, "www.example.com. A")
    t += check(11, "www.example.com. A", NOERROR, ["www.example.com. 60 IN A 198.51.100.66"])
    return t


def glue_changes() -> str:
    """The parent's glue for an in-zone nameserver changes; the child's own (long-lived)
    address record for it points at the old, now refusing, server."""
    t = header("The parent changes the glue of example.net's nameserver; the address the old "
               "server gave for it (long TTL, cached) refuses, the parent's new glue works")
    t += root_range(ROOT3)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["300 ns.example.net."], ["ns.example.net. 300 IN A 127.7.3.1"])},
        last=29, comment="net before the move")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["300 ns.example.net."], ["ns.example.net. 300 IN A 127.7.3.2"])},
        first=30, comment="net after the move")
    for first, last, addr, www in ((0, 29, "127.7.3.1", "192.0.2.1"),
                                   (0, 1000, "127.7.3.2", "192.0.2.2")):
        t += range_(first, last, [addr], [
            Entry("www.example.net. A", answer=[f"www.example.net. 300 IN A {www}"]),
            Entry("example.net. NS", answer=["example.net. 300 IN NS ns.example.net."]),
            Entry("ns.example.net. A", answer=[f"ns.example.net. 86400 IN A {addr}"]),
            nodata("example.net.", "ns.example.net."),
        ], comment=f"{addr}: example.net")
    t += range_(30, 1000, ["127.7.3.1"], [catch_all("QR REFUSED")],
                comment="127.7.3.1 after the move: refuses")
    t += query(10, "ns.example.net. A")
    t += check(11, "ns.example.net. A", NOERROR, ["ns.example.net. 86400 IN A 127.7.3.1"])
    t += query(12, "www.example.net. A")
    t += check(13, "www.example.net. A", NOERROR, ["www.example.net. 300 IN A 192.0.2.1"])
    t += elapse(20, 600)
    t += query(40, "www.example.net. A")
    t += check(41, "www.example.net. A", NOERROR, ["www.example.net. 300 IN A 192.0.2.2"])
    return t


def nsec3_wildcard_and_nx() -> str:
    s = Signer()
    z = "SIG example.com."
    chain = Nsec3Chain("example.com.", {"example.com.": "NS SOA DNSKEY NSEC3PARAM",
                                        "ns.example.com.": "A", "sub.example.com.": "",
                                        "*.sub.example.com.": "TXT"})
    t = header("NSEC3 zone: a TXT answer expanded from a wildcard below an empty non-terminal "
               "(NSEC3 covering the next closer name) and an NXDOMAIN (closest encloser "
               "proof) both validate", extra=ta(s))
    t += signed_root(s, {"com.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s,
        ds={"example.com.": "ds"})
    soa_ = soa("example.com.", "ns.example.com.")
    t += signed_zone_server(s, "example.com.", "127.7.2.1", "ns.example.com.", [
        Entry("x.sub.example.com. TXT",
              answer=['x.sub.example.com. 300 IN TXT "from the wildcard"',
                      "SIG example.com. *.sub.example.com."],
              authority=[chain.cover("x.sub.example.com."), z]),
        Entry("nope.example.com. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("example.com."), z, chain.cover("nope.example.com."), z,
            chain.cover("*.example.com."), z]),
        sub("example.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.com: example.com, signed with NSEC3")
    t += query(10, "x.sub.example.com. TXT", "RD DO")
    t += check(11, "x.sub.example.com. TXT", "QR RD RA AD DO NOERROR",
               ['x.sub.example.com. 300 IN TXT "from the wildcard"',
                "SIG example.com. *.sub.example.com."], signer=s)
    t += query(20, "nope.example.com. A", "RD DO")
    t += check(21, "nope.example.com. A", "QR RD RA AD DO NXDOMAIN")
    return t


def cname_to_nx_same_zone() -> str:
    s = Signer()
    z = "SIG example.org."
    t = header("A signed CNAME to a name that does not exist in the same zone: one response "
               "with the CNAME and the NSEC proofs, NXDOMAIN, validated", extra=ta(s))
    t += signed_root(s, {"org.": "ds"})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["ns.example.org."], ["ns.example.org. A 127.7.4.1"])}, signer=s,
        ds={"example.org.": "ds"})
    soa_ = soa("example.org.", "ns.example.org.")
    # order: example.org, ns, www
    t += signed_zone_server(s, "example.org.", "127.7.4.1", "ns.example.org.", [
        Entry("www.example.org. A", reply="QR AA NXDOMAIN",
              answer=["www.example.org. 300 IN CNAME nothere.example.org.", z],
              authority=[soa_, z,
                         "ns.example.org. 300 IN NSEC www.example.org. A RRSIG NSEC", z,
                         "example.org. 300 IN NSEC ns.example.org. NS SOA RRSIG NSEC DNSKEY",
                         z]),
        Entry("nothere.example.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "ns.example.org. 300 IN NSEC www.example.org. A RRSIG NSEC", z,
            "example.org. 300 IN NSEC ns.example.org. NS SOA RRSIG NSEC DNSKEY", z]),
        sub("example.org. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.org: example.org, signed (apex, ns, www)")
    t += query(10, "www.example.org. A", "RD DO")
    t += check(11, "www.example.org. A", "QR RD RA AD DO NXDOMAIN",
               ["www.example.org. 300 IN CNAME nothere.example.org.", z], signer=s)
    return t


def dname_insecure_to_secure() -> str:
    s = Signer()
    t = header("A DNAME in an unsigned zone points into a signed zone: the whole answer is "
               "insecure (no AD), the signed target data comes with its RRSIG", extra=ta(s))
    t += signed_root(s, {"com.": "ds", "net.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])}, signer=s,
        ds={"example.net.": "ds"})
    t += range_(0, 1000, ["127.7.2.1"], [
        Entry("www.alias.example.com. A", answer=[
            "alias.example.com. 300 IN DNAME example.net.",
            "www.alias.example.com. 300 IN CNAME www.example.net."]),
        Entry("example.com. NS", answer=["example.com. NS ns.example.com."]),
        Entry("ns.example.com. A", answer=["ns.example.com. A 127.7.2.1"]),
        nodata("example.com.", "ns.example.com."),
    ], comment="ns.example.com: example.com, unsigned")
    n = "SIG example.net."
    t += signed_zone_server(s, "example.net.", "127.7.3.1", "ns.example.net.", [
        Entry("www.example.net. A", answer=["www.example.net. 300 IN A 192.0.2.77", n]),
        sub("example.net. A", "QR AA NOERROR", authority=[
            soa("example.net.", "ns.example.net."), n]),
    ], "ns.example.net: example.net, signed")
    t += query(10, "www.alias.example.com. A", "RD DO")
    t += check(11, "www.alias.example.com. A", "QR RD RA DO NOERROR", [
        "alias.example.com. 300 IN DNAME example.net.",
        "www.alias.example.com. 300 IN CNAME www.example.net.",
        "www.example.net. 300 IN A 192.0.2.77", n], signer=s)
    return t


def dname_insecure_qtypes() -> str:
    s = Signer()
    t = header("In an unsigned zone under a signed TLD: the DNAME asked for itself, and a "
               "CNAME question below it (answered by the synthesised CNAME)", extra=ta(s))
    t += signed_root(s, {"org.": "ds"})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["ns.example.org."], ["ns.example.org. A 127.7.4.1"])}, signer=s)
    t += range_(0, 1000, ["127.7.4.1"], [
        Entry("moved.example.org. DNAME",
              answer=["moved.example.org. 300 IN DNAME example.info."]),
        Entry("a.moved.example.org. CNAME", answer=[
            "moved.example.org. 300 IN DNAME example.info.",
            "a.moved.example.org. 300 IN CNAME a.example.info."]),
        Entry("example.org. NS", answer=["example.org. NS ns.example.org."]),
        Entry("ns.example.org. A", answer=["ns.example.org. A 127.7.4.1"]),
        sub("moved.example.org. A", "QR AA NOERROR",
            answer=["moved.example.org. 300 IN DNAME example.info."]),
        nodata("example.org.", "ns.example.org."),
    ], comment="ns.example.org: example.org, unsigned")
    t += query(10, "moved.example.org. DNAME", "RD DO")
    t += check(11, "moved.example.org. DNAME", "QR RD RA DO NOERROR",
               ["moved.example.org. 300 IN DNAME example.info."])
    t += query(20, "a.moved.example.org. CNAME", "RD DO")
    t += check(21, "a.moved.example.org. CNAME", "QR RD RA DO NOERROR", [
        "moved.example.org. 300 IN DNAME example.info.",
        "a.moved.example.org. 300 IN CNAME a.example.info."])
    return t


def root_hint_lame() -> str:
    """The configured root hint answers the priming query but is lame for everything else;
    the root servers the priming answer names (RFC 8109) serve the root."""
    t = header("The root hint answers the priming query (the root's NS set and addresses) but "
               "refuses every other question; the primed root servers are used")
    t += range_(0, 1000, ["127.7.0.1"], [
        Entry(". NS", answer=[". 86400 IN NS a.root.example.", ". 86400 IN NS b.root.example."],
              additional=["a.root.example. 86400 IN A 127.7.0.11",
                          "b.root.example. 86400 IN A 127.7.0.12"]),
        catch_all("QR REFUSED"),
    ], comment="the configured hint: primes, then refuses")
    soa_ = ". 86400 IN SOA a.root.example. hostmaster.root. 1 1800 900 604800 86400"
    t += range_(0, 1000, ["127.7.0.11", "127.7.0.12"], [
        Entry(". NS", answer=[". 86400 IN NS a.root.example.", ". 86400 IN NS b.root.example."],
              additional=["a.root.example. 86400 IN A 127.7.0.11",
                          "b.root.example. 86400 IN A 127.7.0.12"]),
        sub("net. NS", "QR NOERROR", authority=["net. 86400 IN NS ns.nic.net."],
            additional=["ns.nic.net. 86400 IN A 127.7.1.2"]),
        sub("root.example. A", "QR AA NOERROR", authority=[soa_]),
        catch_all("QR AA NXDOMAIN", authority=[soa_]),
    ], comment="the real root servers")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns.example.net."], ["ns.example.net. A 127.7.3.1"])})
    t += range_(0, 1000, ["127.7.3.1"], [
        Entry("www.example.net. A", answer=["www.example.net. 300 IN A 192.0.2.5"]),
        Entry("example.net. NS", answer=["example.net. NS ns.example.net."]),
        Entry("ns.example.net. A", answer=["ns.example.net. A 127.7.3.1"]),
        nodata("example.net.", "ns.example.net."),
    ], comment="ns.example.net")
    t += query(10, "www.example.net. A")
    t += check(11, "www.example.net. A", NOERROR, ["www.example.net. 300 IN A 192.0.2.5"])
    return t


def dname_deep_iterative() -> str:
    """No validation: a name several labels below an unsigned DNAME (QNAME minimisation
    probes meet the DNAME before the full name is asked); the server sends the target's
    data from another zone, which is not believed and asked again."""
    t = header("Several labels below a DNAME in an unsigned zone (no trust anchor): the answer "
               "is the DNAME, the synthesised CNAME and the target's data from its own zone")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": (["ns.example.org."], ["ns.example.org. A 127.7.4.1"])})
    t += range_(0, 1000, ["127.7.2.1"], [
        Entry("old.example.com. DNAME", answer=["old.example.com. 300 IN DNAME new.example.org."]),
        Entry("a.b.c.old.example.com. A", answer=[
            "old.example.com. 300 IN DNAME new.example.org.",
            "a.b.c.old.example.com. 300 IN CNAME a.b.c.new.example.org.",
            "a.b.c.new.example.org. 300 IN A 198.51.100.1"]),
        sub("old.example.com. A", "QR AA NOERROR", answer=[
            "old.example.com. 300 IN DNAME new.example.org."]),
        Entry("example.com. NS", answer=["example.com. NS ns.example.com."]),
        Entry("ns.example.com. A", answer=["ns.example.com. A 127.7.2.1"]),
        nodata("example.com.", "ns.example.com."),
    ], comment="ns.example.com: example.com with a DNAME at old")
    t += range_(0, 1000, ["127.7.4.1"], [
        Entry("a.b.c.new.example.org. A",
              answer=["a.b.c.new.example.org. 300 IN A 192.0.2.44"]),
        Entry("example.org. NS", answer=["example.org. NS ns.example.org."]),
        Entry("ns.example.org. A", answer=["ns.example.org. A 127.7.4.1"]),
        nodata("example.org.", "ns.example.org."),
    ], comment="ns.example.org: example.org (new, c.new, b.c.new are empty non-terminals)")
    t += query(10, "a.b.c.old.example.com. A")
    t += check(11, "a.b.c.old.example.com. A", NOERROR, [
        "old.example.com. 300 IN DNAME new.example.org.",
        "a.b.c.old.example.com. 300 IN CNAME a.b.c.new.example.org.",
        "a.b.c.new.example.org. 300 IN A 192.0.2.44"])
    return t


# -- a second measure batch, written after the fixes and run once on both sides -------------

def child_addr_bad() -> str:
    t = header("The child's own address record for its nameserver points nowhere (times out) "
               "while the parent's glue works: the parent-side address is used")
    t += root_range(ROOT3)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "widget.org.": (["dns1.widget.org."], ["dns1.widget.org. A 127.7.4.20"])})
    t += range_(0, 1000, ["127.7.4.20"], [
        Entry("dns1.widget.org. A", answer=["dns1.widget.org. 7200 IN A 127.7.4.99"]),
        Entry("api.widget.org. A", answer=["api.widget.org. 300 IN A 192.0.2.120"]),
        Entry("cdn.widget.org. A", answer=["cdn.widget.org. 300 IN A 192.0.2.121"]),
        Entry("widget.org. NS", answer=["widget.org. NS dns1.widget.org."]),
        nodata("widget.org.", "dns1.widget.org."),
    ], comment="dns1.widget.org at its glue address (127.7.4.99 has no range: timeouts)")
    t += query(10, "dns1.widget.org. A")
    t += check(11, "dns1.widget.org. A", NOERROR, ["dns1.widget.org. 7200 IN A 127.7.4.99"])
    t += query(20, "api.widget.org. A")
    t += check(21, "api.widget.org. A", NOERROR, ["api.widget.org. 300 IN A 192.0.2.120"])
    t += elapse(25, 4000)
    t += query(30, "cdn.widget.org. A")
    t += check(31, "cdn.widget.org. A", NOERROR, ["cdn.widget.org. 300 IN A 192.0.2.121"])
    return t


def reclame_nxdomain() -> str:
    t = header("Two glued servers: one is an open resolver that says NXDOMAIN (RA, no AA), "
               "the other the authority; the name exists", do_ip6=True)
    t += root_range(ROOT3)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "media.net.": (["a.media.net.", "b.media.net."],
                       ["a.media.net. AAAA fd07:9::1", "b.media.net. A 127.7.3.40"])})
    t += range_(0, 1000, ["fd07:9::1"], [
        catch_all("QR RA NXDOMAIN", authority=[
            "media.net. 300 IN SOA a.media.net. h.media.net. 1 2 3 4 300"])],
        comment="a.media.net: an open resolver, not an authority")
    t += range_(0, 1000, ["127.7.3.40"], [
        Entry("video.media.net. AAAA", answer=["video.media.net. 300 IN AAAA 2001:db8::40"]),
        Entry("media.net. NS", answer=["media.net. NS a.media.net.",
                                       "media.net. NS b.media.net."]),
        Entry("a.media.net. AAAA", answer=["a.media.net. AAAA fd07:9::1"]),
        Entry("b.media.net. A", answer=["b.media.net. A 127.7.3.40"]),
        nodata("media.net.", "b.media.net."),
    ], comment="b.media.net: the authority")
    for step in (10, 20):
        t += query(step, "video.media.net. AAAA")
        t += check(step + 1, "video.media.net. AAAA", NOERROR,
                   ["video.media.net. 300 IN AAAA 2001:db8::40"])
    return t


def ns_renamed() -> str:
    t = header("The parent renames the zone's nameservers (glue-less, in another TLD) once the "
               "old NS set has expired; the old names' server has gone silent")
    t += root_range(ROOT3)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "store.com.": (["120 ns-old.dnshost.net."], [])}, last=49, comment="com before")
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "store.com.": (["120 ns-new.dnshost.net."], [])}, first=50, comment="com after")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "dnshost.net.": (["ns.dnshost.net."], ["ns.dnshost.net. A 127.7.3.50"])})
    t += range_(0, 1000, ["127.7.3.50"], [
        Entry("ns-old.dnshost.net. A", answer=["ns-old.dnshost.net. 60 IN A 127.7.2.51"]),
        Entry("ns-new.dnshost.net. A", answer=["ns-new.dnshost.net. 60 IN A 127.7.2.52"]),
        nodata("dnshost.net.", "ns.dnshost.net."),
    ], comment="ns.dnshost.net")
    for last, addr, ip in ((49, "127.7.2.51", "192.0.2.51"), (1000, "127.7.2.52", "192.0.2.52")):
        ns = "ns-old.dnshost.net." if addr.endswith("51") else "ns-new.dnshost.net."
        t += range_(0, last, [addr], [
            Entry("shop.store.com. A", answer=[f"shop.store.com. 60 IN A {ip}"],
                  authority=[f"store.com. 120 IN NS {ns}"]),
            Entry("store.com. NS", answer=[f"store.com. 120 IN NS {ns}"]),
            nodata("store.com.", ns),
        ], comment=f"{ns}")
    t += query(10, "shop.store.com. A")
    t += check(11, "shop.store.com. A", NOERROR, ["shop.store.com. 60 IN A 192.0.2.51"])
    t += elapse(40, 200)
    t += query(60, "shop.store.com. A")
    t += check(61, "shop.store.com. A", NOERROR, ["shop.store.com. 60 IN A 192.0.2.52"])
    return t


def nsec3_wildcard_cname_nx() -> str:
    s = Signer()
    z = "SIG example.info."
    chain = Nsec3Chain("example.info.", {"example.info.": "NS SOA DNSKEY NSEC3PARAM",
                                         "ns.example.info.": "A",
                                         "*.example.info.": "CNAME"}, salt="01020304",
                       iterations=0)
    t = header("NSEC3 zone: a CNAME expanded from the apex wildcard (NSEC3 covering the next "
               "closer name) to a name of the same zone, answered in one response; secure",
               extra=ta(s))
    t += root_range({"info.": ("a.nic.info.", "127.7.1.4", "ds")}, s)
    t += tld_range("info.", "a.nic.info.", "127.7.1.4", {
        "example.info.": (["ns.example.info."], ["ns.example.info. A 127.7.5.1"])}, signer=s,
        ds={"example.info.": "ds"})
    t += signed_zone_server(s, "example.info.", "127.7.5.1", "ns.example.info.", [
        Entry("q.example.info. A",
              answer=["q.example.info. 300 IN CNAME ns.example.info.",
                      "SIG example.info. *.example.info.",
                      "ns.example.info. 3600 IN A 127.7.5.1", z],
              authority=[chain.cover("q.example.info."), z]),
        sub("example.info. A", "QR AA NOERROR", authority=[
            soa("example.info.", "ns.example.info."), z]),
    ], "ns.example.info: example.info, NSEC3")
    t += query(10, "q.example.info. A", "RD DO")
    t += check(11, "q.example.info. A", "QR RD RA AD DO NOERROR",
               match="opcode qname qtype rcode flags")
    return t

def delegation_moves_early() -> str:
    """The zone moves while the old delegation is still cached; the old servers refuse."""
    t = header("The parent moves example.net to other servers while the old delegation is "
               "still cached; the old server refuses, so the delegation is fetched again "
               "from the parent and the new server answers")
    t += root_range(ROOT3)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns1.example.net."], ["ns1.example.net. A 127.7.3.11"])},
        last=29, comment="net before the move")
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "example.net.": (["ns2.example.net."], ["ns2.example.net. A 127.7.3.12"])},
        first=30, comment="net after the move")
    for last, addr, ns, www in ((29, "127.7.3.11", "ns1.example.net.", "192.0.2.11"),
                                (1000, "127.7.3.12", "ns2.example.net.", "192.0.2.12")):
        t += range_(0, last, [addr], [
            Entry("www.example.net. A", answer=[f"www.example.net. 60 IN A {www}"],
                  authority=[f"example.net. 3600 IN NS {ns}"]),
            Entry("example.net. NS", answer=[f"example.net. 3600 IN NS {ns}"]),
            Entry(f"{ns} A", answer=[f"{ns} 3600 IN A {addr}"]),
            nodata("example.net.", ns),
        ], comment=f"{ns}")
    t += range_(30, 1000, ["127.7.3.11"], [catch_all("QR REFUSED")],
                comment="ns1.example.net after the move: refuses")
    return t + before_and_after("www.example.net. A", "www.example.net. 60 IN A 192.0.2.11",
                                "www.example.net. 60 IN A 192.0.2.12", 120)


def many_dead_addresses() -> str:
    """Nine addresses for the zone's four nameservers, eight of them silent."""
    glue = []
    for i in range(1, 5):
        glue += [f"ns{i}.example.org. A 127.7.4.{30 + i}",
                 f"ns{i}.example.org. AAAA fd07:4::{30 + i}"]
    glue.append("ns4.example.org. A 127.7.4.39")
    t = header("Four nameservers with nine addresses (IPv4 and IPv6); all but one second IPv4 "
               "address of the last nameserver time out", do_ip6=True)
    t += root_range(ROOT3)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "example.org.": ([f"ns{i}.example.org." for i in range(1, 5)], glue)})
    t += range_(0, 1000, ["127.7.4.39"], [
        Entry("www.example.org. A", answer=["www.example.org. 300 IN A 192.0.2.39"]),
        Entry("example.org. NS", answer=[f"example.org. NS ns{i}.example.org."
                                         for i in range(1, 5)]),
        nodata("example.org.", "ns4.example.org."),
    ], comment="ns4.example.org at 127.7.4.39 (every other address has no range: timeouts)")
    t += query(10, "www.example.org. A")
    t += check(11, "www.example.org. A", NOERROR, ["www.example.org. 300 IN A 192.0.2.39"])
    return t


def dname_insecure_unknown_algorithm() -> str:
    s = Signer()
    t = header("A DNAME in a zone that is insecure because its only DS has an algorithm the "
               "resolver does not implement (RFC 4035 §5.2): answered, without AD",
               extra=ta(s))
    t += signed_root(s, {"net.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "corp.net.": (["ns.corp.net."], ["ns.corp.net. A 127.7.3.60"])}, signer=s,
        ds={"corp.net.": "unknown-algorithm"})
    t += range_(0, 1000, ["127.7.3.60"], [
        sub("eu.corp.net. A", "QR AA NOERROR",
            answer=["eu.corp.net. 300 IN DNAME europe.corp.net."]),
        Entry("mail.europe.corp.net. A", answer=["mail.europe.corp.net. 300 IN A 192.0.2.61"]),
        Entry("corp.net. NS", answer=["corp.net. NS ns.corp.net."]),
        Entry("ns.corp.net. A", answer=["ns.corp.net. A 127.7.3.60"]),
        nodata("corp.net.", "ns.corp.net."),
    ], comment="ns.corp.net: corp.net, signed with an algorithm nobody knows (no RRSIGs "
               "served)")
    t += query(10, "mail.eu.corp.net. A", "RD DO")
    t += check(11, "mail.eu.corp.net. A", "QR RD RA DO NOERROR", [
        "eu.corp.net. 300 IN DNAME europe.corp.net.",
        "mail.eu.corp.net. 300 IN CNAME mail.europe.corp.net.",
        "mail.europe.corp.net. 300 IN A 192.0.2.61"])
    return t


def wildcard_cname_nx_one_response() -> str:
    s = Signer()
    z = "SIG example.com."
    t = header("One response, NXDOMAIN: a CNAME expanded from a wildcard (its NSEC proof) to a "
               "name of the same zone that does not exist (NSEC proofs for it); validated",
               extra=ta(s))
    t += signed_root(s, {"com.": "ds"})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "example.com.": (["ns.example.com."], ["ns.example.com. A 127.7.2.1"])}, signer=s,
        ds={"example.com.": "ds"})
    soa_ = soa("example.com.", "ns.example.com.")
    # order: example.com, a (ENT), *.a, b, ns
    nsec_b = "b.example.com. 300 IN NSEC ns.example.com. A RRSIG NSEC"
    t += signed_zone_server(s, "example.com.", "127.7.2.1", "ns.example.com.", [
        Entry("x.a.example.com. A", reply="QR AA NXDOMAIN",
              answer=["x.a.example.com. 300 IN CNAME nope.b.example.com.",
                      "SIG example.com. *.a.example.com."],
              authority=[soa_, z, "*.a.example.com. 300 IN NSEC b.example.com. CNAME RRSIG NSEC",
                         z, nsec_b, z]),
        Entry("nope.b.example.com. A", reply="QR AA NXDOMAIN", authority=[soa_, z, nsec_b, z]),
        sub("example.com. A", "QR AA NOERROR", authority=[soa_, z]),
    ], "ns.example.com: example.com, signed (apex, *.a, b, ns)")
    t += query(10, "x.a.example.com. A", "RD DO")
    t += check(11, "x.a.example.com. A", "QR RD RA AD DO NXDOMAIN",
               ["x.a.example.com. 300 IN CNAME nope.b.example.com.",
                "SIG example.com. *.a.example.com."], signer=s)
    return t


FIXON = {
    "iter_ns_unusable_glue": ns_unusable_glue,
    "iter_lame_ipv6_refused": lame_ipv6_refused,
    "iter_lame_ipv4_upward": lame_ipv4_upward,
    "iter_delegation_moves": delegation_moves,
    "iter_child_ns_differs": child_ns_differs,
    "val_dname_insecure": dname_insecure,
    "val_dname_insecure_cname": dname_insecure_with_cname,
    "val_wildcard_answer_nsec": wildcard_answer_nsec,
    "val_cname_wildcard_to_nx": cname_wildcard_to_nx,
    "val_nx_and_deep_wildcard": nxdomain_then_deep_wildcard,
    "iter_lame_recursive_noaa": lame_recursive_noaa,
    "iter_glue_changes": glue_changes,
    "val_nsec3_wildcard_and_nx": nsec3_wildcard_and_nx,
    "val_cname_to_nx_same_zone": cname_to_nx_same_zone,
    "val_dname_insecure_to_secure": dname_insecure_to_secure,
    "val_dname_insecure_qtypes": dname_insecure_qtypes,
    "iter_root_hint_lame": root_hint_lame,
    "iter_dname_deep": dname_deep_iterative,
    "iter_delegation_moves_early": delegation_moves_early,
    "iter_many_dead_addresses": many_dead_addresses,
    "val_dname_insecure_unknown_alg": dname_insecure_unknown_algorithm,
    "val_wildcard_cname_nx_one": wildcard_cname_nx_one_response,
}
MEASURE2 = {
    "iter_child_addr_bad": child_addr_bad,
    "iter_reclame_nxdomain": reclame_nxdomain,
    "iter_ns_renamed": ns_renamed,
    "val_nsec3_wildcard_cname": nsec3_wildcard_cname_nx,
}
MEASURE = {
    "iter_ns_v6_timeout_glueless": ns_v6_timeout_glueless,
    "iter_lame_noaa_one_address": lame_noaa_one_address,
    "iter_ns_ttl_not_extended": ns_ttl_not_extended,
    "val_dname_insecure_nx": dname_insecure_nx,
    "val_wildcard_without_proof": wildcard_without_proof,
}

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for where, table in (("fixon", FIXON), ("measure", MEASURE), ("measure2", MEASURE2)):
        for name, make in table.items():
            if not only or name in only:
                write(where, name, make())
