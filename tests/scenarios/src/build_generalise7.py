"""Write the scenarios of tests/scenarios/generalise7/ (issue 16, seventh round).

Deckard dialect, Knot Resolver's expectations: aspects the earlier rounds did not cover,
around negative proofs whose records or signatures are missing, DNAME chains and DNAME at
a signed apex, CD-bit queries, unsigned delegations without proof, DS digests a validator
does not know, answers synthesised from cached NSEC records (RFC 8198, RFC 8020), and TTLs
(capped by the RRSIG's original TTL, negative TTLs from the SOA).  Addresses 127.7.70.0 and
up.  Every file is written into one directory; deckard.split's rule (``--half fix`` or
``--half measure``) splits it.  Each file's comment lines say which RFC section or which
documented Knot Resolver behaviour its answers follow.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[3]))

from build import NOERROR, soa, ta  # noqa: E402
from build_generalise import INSECURE, SECURE, TLD_SERVERS, cite, zone_server  # noqa: E402
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

OUT = Path(__file__).parents[1] / "generalise7"
SERVFAIL = "QR RD RA DO SERVFAIL"
SERVFAIL_ONLY = "opcode qname qtype rcode"
NXSECURE = "QR RD RA AD DO NXDOMAIN"


def write(name: str, text: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.rpl").write_text(text + "SCENARIO_END\n")


def signed_path(s: Signer, zone: str, addr: str) -> str:
    """The signed root and TLD above ``zone`` (delegated with a DS to ns.``zone`` at
    ``addr``), and always a signed net.: the root servers' own names are under net., and a
    root that denied net. would contradict itself (Knot Resolver then fails every query)."""
    tld = zone.split(".", 1)[1]
    tlds = {tld: TLD_SERVERS[tld], "net.": TLD_SERVERS["net."]}
    t = root_range({k: (ns, a, "ds") for k, (ns, a) in tlds.items()}, s)
    for k, (ns, a) in tlds.items():
        children = {zone: ([f"ns.{zone}"], [f"ns.{zone} A {addr}"])} if k == tld else {}
        t += tld_range(k, ns, a, children, signer=s, ds={zone: "ds"})
    return t


def zone_base(s: Signer, zone: str, ns: str, addr: str) -> list[Entry | str]:
    """A signed zone's DNSKEY, NS and the address of its in-zone nameserver."""
    z = f"SIG {zone}"
    return [Entry(f"{zone} DNSKEY", answer=[s.dnskey_line(zone), z]),
            Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS {ns}", z]),
            Entry(f"{ns} A", answer=[f"{ns} 3600 IN A {addr}", z])]


def signed_server(s: Signer, zone: str, addr: str, entries: list[Entry | str], comment: str,
                  first: int = 0, last: int = 1000) -> str:
    """ns.``zone`` at ``addr``: the zone's keys and NS, ``entries``, NODATA (SOA only)."""
    ns = f"ns.{zone}"
    return range_(first, last, [addr], [
        *zone_base(s, zone, ns, addr), *entries,
        sub(f"{zone} A", "QR AA NOERROR", authority=[soa(zone, ns), f"SIG {zone}"])],
        s, comment)


def ask(step: int, question: str, reply: str, answer: list[str] | None = None,
        s: Signer | None = None, flags: str = "RD DO",
        match: str = "opcode qname qtype rcode flags answer") -> str:
    return query(step, question, flags) + check(step + 1, question, reply, answer, match, s)


def ask_fail(step: int, question: str) -> str:
    return ask(step, question, SERVFAIL, match=SERVFAIL_ONLY)


# -- NSEC / NSEC3 proofs with a record or a signature missing -----------------------------

def nsec_nodata_unsigned() -> str:
    s = Signer()
    z = "SIG lake.com."
    soa_ = soa("lake.com.", "ns.lake.com.")
    t = cite("RFC 4035 §5.4: a NODATA is proven by an NSEC at the name whose type map lacks "
             "the type; §5.3/§5.5: that NSEC must itself validate,",
             "an NSEC without its RRSIG proves nothing: bogus, SERVFAIL (Knot Resolver: "
             "'bogus' for a negative answer whose proof does not validate).")
    t += header("NSEC zone: a name's A validates; a NODATA for its TXT whose NSEC comes "
                "without RRSIG is bogus", extra=ta(s))
    t += signed_path(s, "lake.com.", "127.7.70.1")
    t += signed_server(s, "lake.com.", "127.7.70.1", [
        Entry("boat.lake.com. A", answer=["boat.lake.com. 300 IN A 192.0.2.1", z]),
        Entry("boat.lake.com. TXT", authority=[
            soa_, z, "boat.lake.com. 300 IN NSEC lake.com. A RRSIG NSEC"]),
    ], "ns.lake.com: lake.com, NSEC (apex, boat, ns); the TXT NODATA's NSEC is unsigned")
    t += ask(10, "boat.lake.com. A", SECURE, ["boat.lake.com. 300 IN A 192.0.2.1", z], s)
    t += ask_fail(20, "boat.lake.com. TXT")
    return t


def nsec_nxdomain_cover_unsigned() -> str:
    s = Signer()
    z = "SIG hill.net."
    soa_ = soa("hill.net.", "ns.hill.net.")
    # canonical order: hill.net, *? (none), ns, zz
    t = cite("RFC 4035 §3.1.3.2/§5.4: an NXDOMAIN needs a validated NSEC covering the name "
             "and one denying the wildcard; the NSEC covering both here has no RRSIG:",
             "bogus, SERVFAIL (§5.5).  A later NXDOMAIN in the same zone with signed proofs "
             "is secure (AD).")
    t += header("NSEC zone: an NXDOMAIN whose only NSEC is unsigned is bogus; another "
                "name's signed NXDOMAIN proof validates", extra=ta(s))
    t += signed_path(s, "hill.net.", "127.7.70.2")
    t += signed_server(s, "hill.net.", "127.7.70.2", [
        Entry("m.hill.net. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "hill.net. 300 IN NSEC ns.hill.net. NS SOA RRSIG NSEC DNSKEY"]),
        Entry("p.hill.net. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, "ns.hill.net. 300 IN NSEC zz.hill.net. A RRSIG NSEC", z,
            "hill.net. 300 IN NSEC ns.hill.net. NS SOA RRSIG NSEC DNSKEY", z]),
        Entry("zz.hill.net. A", answer=["zz.hill.net. 300 IN A 192.0.2.2", z]),
    ], "ns.hill.net: hill.net, NSEC (apex, ns, zz)")
    t += ask_fail(10, "m.hill.net. A")
    t += ask(20, "p.hill.net. A", NXSECURE, match=SERVFAIL_ONLY + " flags")
    return t


def nsec_wildcard_nodata_no_wildcard_nsec() -> str:
    s = Signer()
    z = "SIG mesa.org."
    soa_ = soa("mesa.org.", "ns.mesa.org.")
    # canonical order: mesa.org, *.mesa.org (A), ns
    cover = "ns.mesa.org. 300 IN NSEC mesa.org. A RRSIG NSEC"
    wild = "*.mesa.org. 300 IN NSEC ns.mesa.org. A RRSIG NSEC"
    t = cite("RFC 4035 §3.1.3.4/§5.4: a NODATA for a name under a wildcard needs the NSEC "
             "covering the name and the NSEC at the wildcard without the type;",
             "with the wildcard's NSEC missing it is bogus (SERVFAIL); with both it is "
             "secure (AD).")
    t += header("NSEC zone with *.mesa.org (A): a wildcard NODATA for TXT without the "
                "wildcard's NSEC is bogus, with it secure", extra=ta(s))
    t += signed_path(s, "mesa.org.", "127.7.70.3")
    t += signed_server(s, "mesa.org.", "127.7.70.3", [
        Entry("q.mesa.org. TXT", authority=[soa_, z, cover, z]),
        Entry("r.mesa.org. TXT", authority=[soa_, z, cover, z, wild, z]),
        Entry("r.mesa.org. A", answer=["r.mesa.org. 300 IN A 192.0.2.3",
                                       "SIG mesa.org. *.mesa.org."],
              authority=[cover, z]),
    ], "ns.mesa.org: mesa.org, NSEC (apex, *, ns)")
    t += ask_fail(10, "q.mesa.org. TXT")
    t += ask(20, "r.mesa.org. TXT", SECURE)
    t += ask(30, "r.mesa.org. A", SECURE,
             ["r.mesa.org. 300 IN A 192.0.2.3", "SIG mesa.org. *.mesa.org."], s)
    return t


def nsec_wildcard_answer_proof_unsigned() -> str:
    s = Signer()
    z = "SIG glen.com."
    # canonical order: glen.com, *.glen.com (A), ns, www
    t = cite("RFC 4035 §3.1.3.3/§5.3.4: an answer expanded from a wildcard needs a validated "
             "NSEC proving the name itself does not exist;",
             "an unsigned NSEC proves nothing: bogus (SERVFAIL).  The same wildcard's answer "
             "with a signed NSEC is secure.")
    t += header("NSEC zone: a wildcard answer whose proof NSEC lacks its RRSIG is bogus; "
                "another name's wildcard answer with a signed proof validates", extra=ta(s))
    t += signed_path(s, "glen.com.", "127.7.70.4")
    t += signed_server(s, "glen.com.", "127.7.70.4", [
        Entry("x.glen.com. A", answer=["x.glen.com. 300 IN A 192.0.2.4",
                                       "SIG glen.com. *.glen.com."],
              authority=["www.glen.com. 300 IN NSEC glen.com. A RRSIG NSEC"]),
        Entry("host.glen.com. A", answer=["host.glen.com. 300 IN A 192.0.2.4",
                                          "SIG glen.com. *.glen.com."],
              authority=["*.glen.com. 300 IN NSEC ns.glen.com. A RRSIG NSEC", z]),
    ], "ns.glen.com: glen.com, NSEC (apex, *, ns, www)")
    t += ask_fail(10, "x.glen.com. A")
    t += ask(20, "host.glen.com. A", SECURE,
             ["host.glen.com. 300 IN A 192.0.2.4", "SIG glen.com. *.glen.com."], s)
    return t


def nsec_nodata_bitmap_has_type() -> str:
    s = Signer()
    z = "SIG reef.nl."
    soa_ = soa("reef.nl.", "ns.reef.nl.")
    t = cite("RFC 4035 §5.4: NODATA is proven only by an NSEC whose type map lacks the asked "
             "type; an NSEC listing TXT cannot deny TXT: bogus, SERVFAIL.")
    t += header("NSEC zone: a NODATA for TXT whose (signed) NSEC lists TXT is bogus; the "
                "name's A validates", extra=ta(s))
    t += signed_path(s, "reef.nl.", "127.7.70.5")
    t += signed_server(s, "reef.nl.", "127.7.70.5", [
        Entry("fish.reef.nl. A", answer=["fish.reef.nl. 300 IN A 192.0.2.5", z]),
        Entry("fish.reef.nl. TXT", authority=[
            soa_, z, "fish.reef.nl. 300 IN NSEC ns.reef.nl. A TXT RRSIG NSEC", z]),
    ], "ns.reef.nl: reef.nl, NSEC (apex, fish, ns)")
    t += ask(10, "fish.reef.nl. A", SECURE, ["fish.reef.nl. 300 IN A 192.0.2.5", z], s)
    t += ask_fail(20, "fish.reef.nl. TXT")
    return t


def dune_chain() -> Nsec3Chain:
    return Nsec3Chain("dune.com.", {"dune.com.": "NS SOA DNSKEY NSEC3PARAM",
                                    "ns.dune.com.": "A", "b.dune.com.": "",
                                    "a.b.dune.com.": "A"}, salt="D0E5", iterations=0)


def nsec3_nodata_unsigned() -> str:
    s = Signer()
    z = "SIG dune.com."
    chain = dune_chain()
    soa_ = soa("dune.com.", "ns.dune.com.")
    t = cite("RFC 5155 §8.5: NODATA is proven by the NSEC3 matching the name (an empty "
             "non-terminal's has no types: secure);",
             "RFC 4035 §5.3/§5.5 via RFC 5155 §8.1: an NSEC3 without its RRSIG proves "
             "nothing: bogus (SERVFAIL).")
    t += header("NSEC3 zone: NODATA at an empty non-terminal validates; a NODATA whose "
                "matching NSEC3 is unsigned is bogus", extra=ta(s))
    t += signed_path(s, "dune.com.", "127.7.70.6")
    t += signed_server(s, "dune.com.", "127.7.70.6", [
        Entry("b.dune.com. A", authority=[soa_, z, chain.match("b.dune.com."), z]),
        Entry("a.b.dune.com. TXT", authority=[soa_, z, chain.match("a.b.dune.com.")]),
        Entry("a.b.dune.com. A", answer=["a.b.dune.com. 300 IN A 192.0.2.6", z]),
    ], "ns.dune.com: dune.com, NSEC3 (apex, ns, b (empty), a.b)")
    t += ask(10, "b.dune.com. A", SECURE)
    t += ask_fail(20, "a.b.dune.com. TXT")
    t += ask(30, "a.b.dune.com. A", SECURE, ["a.b.dune.com. 300 IN A 192.0.2.6", z], s)
    return t


def nsec3_wildcard_cover_unsigned() -> str:
    s = Signer()
    z = "SIG tarn.org."
    chain = Nsec3Chain("tarn.org.", {"tarn.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.tarn.org.": "A", "*.tarn.org.": "TXT"},
                       salt="7A57", iterations=1)
    t = cite("RFC 5155 §8.8: a wildcard answer needs the NSEC3 covering the next closer name, "
             "and it must validate (RFC 4035 §5.3.4):",
             "unsigned, the answer is bogus (SERVFAIL); the same wildcard's answer for "
             "another name with a signed cover is secure (AD).")
    t += header("NSEC3 zone: a TXT answer from *.tarn.org whose next-closer NSEC3 has no "
                "RRSIG is bogus; with the RRSIG it validates", extra=ta(s))
    t += signed_path(s, "tarn.org.", "127.7.70.7")
    t += signed_server(s, "tarn.org.", "127.7.70.7", [
        Entry("one.tarn.org. TXT", answer=['one.tarn.org. 300 IN TXT "w"',
                                           "SIG tarn.org. *.tarn.org."],
              authority=[chain.cover("one.tarn.org.")]),
        Entry("two.tarn.org. TXT", answer=['two.tarn.org. 300 IN TXT "w"',
                                           "SIG tarn.org. *.tarn.org."],
              authority=[chain.cover("two.tarn.org."), z]),
    ], "ns.tarn.org: tarn.org, NSEC3 (apex, ns, *)")
    t += ask_fail(10, "one.tarn.org. TXT")
    t += ask(20, "two.tarn.org. TXT", SECURE,
             ['two.tarn.org. 300 IN TXT "w"', "SIG tarn.org. *.tarn.org."], s)
    return t


# -- delegations: without proof, unknown DS digest ----------------------------------------

def unsigned_delegation_without_proof() -> str:
    s = Signer()
    c = "SIG com."
    com_soa = "com. 3600 IN SOA ns.nic.com. hostmaster.com. 1 1800 900 604800 3600"
    t = cite("RFC 4035 §5.2: a referral from a signed zone must carry the DS or an NSEC "
             "proving there is none; the resolver asks for the DS,",
             "and a DS NODATA without NSEC proves nothing: the child's answers are bogus "
             "(SERVFAIL).  The sibling delegation with its NSEC proof is insecure",
             "(answered, no AD).")
    t += header("Signed com. delegates open.com and free.com without DS; only free.com's "
                "referral and DS NODATA carry the NSEC proof", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {}, signer=s)
    free_nsec = ["free.com. 3600 IN NSEC open.com. NS RRSIG NSEC", c]
    t += range_(0, 1000, ["127.7.1.1"], [
        Entry("com. NS", answer=["com. 86400 IN NS ns.nic.com.", c],
              additional=["ns.nic.com. 86400 IN A 127.7.1.1"]),
        Entry("ns.nic.com. A", answer=["ns.nic.com. 86400 IN A 127.7.1.1", c]),
        Entry("com. DNSKEY", answer=[s.dnskey_line("com."), c]),
        Entry("free.com. DS", authority=[com_soa, c, *free_nsec]),
        Entry("open.com. DS", authority=[com_soa, c]),
        sub("free.com. NS", authority=["free.com. 3600 IN NS ns.free.com.", *free_nsec],
            additional=["ns.free.com. 3600 IN A 127.7.70.11"]),
        sub("open.com. NS", authority=["open.com. 3600 IN NS ns.open.com."],
            additional=["ns.open.com. 3600 IN A 127.7.70.10"]),
        sub("com. A", "QR AA NXDOMAIN", authority=[com_soa, c]),
    ], s, "ns.nic.com: com., signed; open.com's delegation comes without any proof")
    for zone, addr, data in (("open.com.", "127.7.70.10", "192.0.2.10"),
                             ("free.com.", "127.7.70.11", "192.0.2.11")):
        t += zone_server(addr, zone, [f"ns.{zone}"], [f"ns.{zone} 3600 IN A {addr}"], [
            Entry(f"www.{zone} A", answer=[f"www.{zone} 300 IN A {data}"]),
        ], f"ns.{zone}: {zone}, unsigned")
    t += ask_fail(10, "www.open.com. A")
    t += ask(20, "www.free.com. A", INSECURE, ["www.free.com. 300 IN A 192.0.2.11"])
    return t


def ds_unknown_digest_insecure() -> str:
    s = Signer()
    t = cite("RFC 4035 §5.2 and RFC 6840 §5.2: a DS RRset none of whose digest types the "
             "validator supports leaves no authentication path: the child is treated as",
             "unsigned (Knot Resolver: a DS with unsupported algorithm or digest makes the "
             "zone insecure); its unsigned answers are given without AD.")
    t += header("Signed net. holds, for odd.net, only a DS with an unassigned digest type; "
                "odd.net's unsigned answers are insecure, not bogus", extra=ta(s))
    t += root_range({"net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    n = "SIG net."
    tag = s.ds_line("odd.net.").split()[4]
    ds = f"odd.net. 3600 IN DS {tag} 15 250 {'5A' * 32}"
    t += range_(0, 1000, ["127.7.1.2"], [
        Entry("net. NS", answer=["net. 86400 IN NS ns.nic.net.", n],
              additional=["ns.nic.net. 86400 IN A 127.7.1.2"]),
        Entry("ns.nic.net. A", answer=["ns.nic.net. 86400 IN A 127.7.1.2", n]),
        Entry("net. DNSKEY", answer=[s.dnskey_line("net."), n]),
        Entry("odd.net. DS", answer=[ds, n]),
        sub("odd.net. NS", authority=["odd.net. 3600 IN NS ns.odd.net.", ds, n],
            additional=["ns.odd.net. 3600 IN A 127.7.70.12"]),
        sub("net. A", "QR AA NXDOMAIN", authority=[
            "net. 3600 IN SOA ns.nic.net. hostmaster.net. 1 1800 900 604800 3600", n]),
    ], s, "ns.nic.net: net., signed; odd.net's DS has digest type 250 (unassigned)")
    t += zone_server("127.7.70.12", "odd.net.", ["ns.odd.net."],
                     ["ns.odd.net. 3600 IN A 127.7.70.12"], [
        Entry("odd.net. DNSKEY", answer=[s.dnskey_line("odd.net.")]),
        Entry("www.odd.net. A", answer=["www.odd.net. 300 IN A 192.0.2.12"]),
    ], "ns.odd.net: odd.net, its key but no signatures")
    t += ask(10, "www.odd.net. A", INSECURE, ["www.odd.net. 300 IN A 192.0.2.12"])
    return t


# -- the CD bit ----------------------------------------------------------------------------

def cd_bogus_then_checked() -> str:
    s, other = Signer(), Signer()
    z = "SIG kiln.org."
    t = cite("RFC 4035 §3.2.2: with CD set the resolver returns the data without requiring "
             "it to validate (CD echoed, no AD); Knot Resolver passes bogus data with CD.",
             "RFC 4035 §4.7 / Knot Resolver 1.2.1's fix: what was fetched for a CD query is "
             "not served as checked: the same question without CD is bogus (SERVFAIL).")
    t += header("A zone signed with a key matching no DS: a CD query gets the data, the "
                "same question without CD SERVFAIL", extra=ta(s))
    t += signed_path(s, "kiln.org.", "127.7.70.13")
    t += range_(0, 1000, ["127.7.70.13"], [
        *zone_base(other, "kiln.org.", "ns.kiln.org.", "127.7.70.13"),
        Entry("pot.kiln.org. A", answer=["pot.kiln.org. 300 IN A 192.0.2.13", z]),
        sub("kiln.org. A", "QR AA NOERROR", authority=[soa("kiln.org.", "ns.kiln.org."), z]),
    ], other, "ns.kiln.org: kiln.org, signed with a key that no DS names")
    t += ask(10, "pot.kiln.org. A", "QR RD RA CD DO NOERROR",
             ["pot.kiln.org. 300 IN A 192.0.2.13", z], other, flags="RD CD DO")
    t += ask_fail(20, "pot.kiln.org. A")
    return t


# -- CNAME chains mixing secure and insecure ----------------------------------------------

def cname_insecure_to_secure() -> str:
    s = Signer()
    t = cite("RFC 4035 §3.2.3/RFC 6840 §5.8: AD only when every RRset of the answer is "
             "secure; a CNAME from an insecure zone to a signed name is answered without AD,",
             "and the signed target asked on its own is secure (each RRset keeps its own "
             "status in the cache).")
    t += header("An unsigned zone's CNAME to a name in a signed zone: the chain without AD, "
                "then the target alone with AD", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "bare.com.": (["ns.bare.com."], ["ns.bare.com. A 127.7.70.14"])}, signer=s, ds={})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "sure.net.": (["ns.sure.net."], ["ns.sure.net. A 127.7.70.15"])}, signer=s,
        ds={"sure.net.": "ds"})
    t += zone_server("127.7.70.14", "bare.com.", ["ns.bare.com."],
                     ["ns.bare.com. 3600 IN A 127.7.70.14"], [
        Entry("go.bare.com. A", answer=["go.bare.com. 300 IN CNAME web.sure.net."]),
    ], "ns.bare.com: bare.com, unsigned")
    n = "SIG sure.net."
    t += signed_server(s, "sure.net.", "127.7.70.15", [
        Entry("web.sure.net. A", answer=["web.sure.net. 300 IN A 192.0.2.15", n]),
    ], "ns.sure.net: sure.net, signed")
    t += ask(10, "go.bare.com. A", INSECURE, ["go.bare.com. 300 IN CNAME web.sure.net.",
                                             "web.sure.net. 300 IN A 192.0.2.15", n], s)
    t += ask(20, "web.sure.net. A", SECURE, ["web.sure.net. 300 IN A 192.0.2.15", n], s)
    return t


# -- DNAME ----------------------------------------------------------------------------------

def dname_at_signed_apex() -> str:
    s = Signer()
    o, n = "SIG old.com.", "SIG new.net."
    t = cite("RFC 6672 §2.3/§3: a DNAME at a zone's apex redirects every name below it "
             "(not the apex's own NS/DNSKEY); §5.3.1: the signed DNAME validates and the",
             "unsigned synthesised CNAME is accepted when it matches it; the target's "
             "signed data makes the whole answer secure (AD).")
    t += header("Signed old.com has DNAME new.net at its apex (its nameserver is in "
                "new.net); names below it are answered securely from new.net", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {"old.com.": (["ns.new.net."], [])},
                   signer=s, ds={"old.com.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "new.net.": (["ns.new.net."], ["ns.new.net. A 127.7.70.16"])}, signer=s,
        ds={"new.net.": "ds"})
    dname = "old.com. 300 IN DNAME new.net."
    apex_nsec = "old.com. 300 IN NSEC old.com. NS SOA RRSIG NSEC DNSKEY DNAME"
    t += range_(0, 1000, ["127.7.70.16"], [
        *zone_base(s, "new.net.", "ns.new.net.", "127.7.70.16"),
        Entry("www.new.net. A", answer=["www.new.net. 300 IN A 192.0.2.16", n]),
        Entry("mail.new.net. MX", answer=["mail.new.net. 300 IN MX 10 www.new.net.", n]),
        *[Entry(f"{name}.old.com. {q}", answer=[
            dname, o, f"{name}.old.com. 300 IN CNAME {name}.new.net."])
          for name, q in (("www", "A"), ("mail", "MX"))],
        Entry("old.com. DNSKEY", answer=[s.dnskey_line("old.com."), o]),
        Entry("old.com. NS", answer=["old.com. 3600 IN NS ns.new.net.", o]),
        Entry("old.com. DNAME", answer=[dname, o]),
        Entry("old.com. A", authority=[soa("old.com.", "ns.new.net."), o, apex_nsec, o]),
        sub("old.com. A", "QR AA NOERROR", answer=[dname, o]),
        sub("new.net. A", "QR AA NOERROR", authority=[soa("new.net.", "ns.new.net."), n]),
    ], s, "ns.new.net: new.net and old.com (apex DNAME), both signed")
    t += ask(10, "www.old.com. A", SECURE, [dname, o, "www.old.com. 300 IN CNAME www.new.net.",
                                           "www.new.net. 300 IN A 192.0.2.16", n], s)
    t += ask(20, "mail.old.com. MX", SECURE, [
        dname, o, "mail.old.com. 300 IN CNAME mail.new.net.",
        "mail.new.net. 300 IN MX 10 www.new.net.", n], s)
    return t


def dname_cname_dname_insecure() -> str:
    s = Signer()
    t = cite("RFC 6672 §3.2/RFC 1034 §3.6.2: the resolver follows a DNAME, then a CNAME, then "
             "another DNAME to the data; every zone is an unsigned delegation of a signed",
             "TLD (RFC 4035 §5.2: NSEC proves no DS), so the whole chain is answered without "
             "AD (RFC 4035 §4.3).")
    t += header("DNAME (unsigned one.com) -> CNAME (unsigned two.net) -> DNAME (unsigned "
                "three.org) -> A: the whole chain, insecure", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds"),
                     "org.": ("ns.nic.org.", "127.7.1.3", "ds")}, s)
    for tld, zone, addr in (("com.", "one.com.", "127.7.70.17"),
                            ("net.", "two.net.", "127.7.70.18"),
                            ("org.", "three.org.", "127.7.70.19")):
        ns = f"ns.nic.{tld}"
        t += tld_range(tld, ns, {"com.": "127.7.1.1", "net.": "127.7.1.2",
                                 "org.": "127.7.1.3"}[tld],
                       {zone: ([f"ns.{zone}"], [f"ns.{zone} A {addr}"])}, signer=s, ds={})
    t += zone_server("127.7.70.17", "one.com.", ["ns.one.com."],
                     ["ns.one.com. 3600 IN A 127.7.70.17"], [
        Entry("h.x.one.com. A", answer=["x.one.com. 300 IN DNAME y.two.net.",
                                        "h.x.one.com. 300 IN CNAME h.y.two.net."]),
        sub("x.one.com. A", "QR AA NOERROR", answer=["x.one.com. 300 IN DNAME y.two.net."]),
    ], "ns.one.com: one.com, x.one.com is a DNAME (sent with its CNAME, RFC 6672 §3.4)")
    t += zone_server("127.7.70.18", "two.net.", ["ns.two.net."],
                     ["ns.two.net. 3600 IN A 127.7.70.18"], [
        Entry("h.y.two.net. A", answer=["h.y.two.net. 300 IN CNAME h.z.three.org."]),
    ], "ns.two.net: two.net, h.y.two.net is a CNAME")
    t += zone_server("127.7.70.19", "three.org.", ["ns.three.org."],
                     ["ns.three.org. 3600 IN A 127.7.70.19"], [
        Entry("h.w.three.org. A", answer=["h.w.three.org. 300 IN A 192.0.2.19"]),
        Entry("h.z.three.org. A", answer=["z.three.org. 300 IN DNAME w.three.org.",
                                          "h.z.three.org. 300 IN CNAME h.w.three.org.",
                                          "h.w.three.org. 300 IN A 192.0.2.19"]),
        sub("z.three.org. A", "QR AA NOERROR",
            answer=["z.three.org. 300 IN DNAME w.three.org."]),
    ], "ns.three.org: three.org, z.three.org is a DNAME")
    t += ask(10, "h.x.one.com. A", INSECURE, [
        "x.one.com. 300 IN DNAME y.two.net.", "h.x.one.com. 300 IN CNAME h.y.two.net.",
        "h.y.two.net. 300 IN CNAME h.z.three.org.", "z.three.org. 300 IN DNAME w.three.org.",
        "h.z.three.org. 300 IN CNAME h.w.three.org.", "h.w.three.org. 300 IN A 192.0.2.19"])
    return t


def dname_to_wildcard_secure() -> str:
    s = Signer()
    z = "SIG wood.com."
    # canonical order: wood.com, alias (DNAME), ns, (tree: empty), *.tree (A)
    cover = "*.tree.wood.com. 300 IN NSEC wood.com. A RRSIG NSEC"
    t = cite("RFC 6672 §5.3.1: the signed DNAME and the matching synthesised CNAME; RFC 4035 "
             "§5.3.4/§3.1.3.3: the target is answered from a wildcard, proven by the NSEC",
             "covering the target name; every part validates: secure (AD).")
    t += header("NSEC zone: alias.wood.com DNAME tree.wood.com, whose names come from "
                "*.tree.wood.com: the DNAME, CNAME and wildcard answer validate", extra=ta(s))
    t += signed_path(s, "wood.com.", "127.7.70.20")
    dname = "alias.wood.com. 300 IN DNAME tree.wood.com."
    own = "alias.wood.com. 300 IN NSEC ns.wood.com. DNAME RRSIG NSEC"
    target = ["leaf.tree.wood.com. 300 IN A 192.0.2.20", "SIG wood.com. *.tree.wood.com."]
    t += signed_server(s, "wood.com.", "127.7.70.20", [
        Entry("leaf.tree.wood.com. A", answer=target, authority=[cover, z]),
        *[Entry(f"alias.wood.com. {q}", authority=[soa("wood.com.", "ns.wood.com."), z,
                                                   own, z]) for q in ("A", "NS")],
        sub("alias.wood.com. A", "QR AA NOERROR",
            answer=[dname, z, "leaf.alias.wood.com. 300 IN CNAME leaf.tree.wood.com.",
                    *target], authority=[cover, z]),
    ], "ns.wood.com: wood.com, NSEC (apex, alias DNAME, ns, *.tree)")
    t += ask(10, "leaf.alias.wood.com. A", SECURE, [
        dname, z, "leaf.alias.wood.com. 300 IN CNAME leaf.tree.wood.com.", *target], s)
    return t


# -- answers from cached NSEC records (RFC 8198, RFC 8020) ---------------------------------

def nx_then_from_cache(zone: str, addr: str, first: str, nsecs: list[str], second: str,
                       why: tuple[str, ...], title: str) -> str:
    """An NSEC zone at ``addr`` that answers one NXDOMAIN (``first``, proven by the SOA and
    ``nsecs``) and is gone after step 15; ``second`` must then be denied from the cache."""
    s = Signer()
    z = f"SIG {zone}"
    t = cite(*why) + header(title, extra=ta(s)) + signed_path(s, zone, addr)
    proof = [soa(zone, f"ns.{zone}"), z, *[x for n in nsecs for x in (n, z)]]
    t += signed_server(s, zone, addr, [
        Entry(f"{first} A", reply="QR AA NXDOMAIN", authority=proof),
    ], f"ns.{zone}: {zone}, NSEC; gone after step 15", last=15)
    t += ask(10, f"{first} A", NXSECURE, match=SERVFAIL_ONLY + " flags")
    t += ask(20, second, NXSECURE, match=SERVFAIL_ONLY + " flags")
    return t


def aggressive_nsec_sibling() -> str:
    # canonical order: grid.net, a, ns, z
    return nx_then_from_cache(
        "grid.net.", "127.7.70.21", "m.grid.net.",
        ["a.grid.net. 300 IN NSEC ns.grid.net. A RRSIG NSEC",
         "grid.net. 300 IN NSEC a.grid.net. NS SOA RRSIG NSEC DNSKEY"], "b.grid.net. A",
        ("RFC 8198 §5.1/§5.4: a validated NSEC covering a name (with the wildcard denied) "
         "lets the resolver answer NXDOMAIN from its cache; Knot Resolver",
         "does so by default for NSEC ('aggressive caching') and sets AD.  The server "
         "answers only the first question, so the second must come from the cache."),
        "NSEC zone: an NXDOMAIN, then another name in the same NSEC span once the server "
        "has stopped answering: NXDOMAIN, secure, from the cache")


def nxdomain_cut_from_cache() -> str:
    # canonical order: pine.org, cone, ns
    return nx_then_from_cache(
        "pine.org.", "127.7.70.22", "gone.pine.org.",
        ["cone.pine.org. 300 IN NSEC ns.pine.org. A RRSIG NSEC",
         "pine.org. 300 IN NSEC cone.pine.org. NS SOA RRSIG NSEC DNSKEY"],
        "a.b.gone.pine.org. TXT",
        ("RFC 8020 §2: below a validated NXDOMAIN nothing exists; RFC 8198 §5.1: the cached "
         "NSEC covering the name covers its descendants too, so Knot Resolver",
         "answers NXDOMAIN (AD) for a name below it from the cache; the server stops "
         "answering after the first question."),
        "NSEC zone: an NXDOMAIN, then a name two labels below it once the server is gone: "
        "NXDOMAIN, secure, from the cache")


# -- TTLs ----------------------------------------------------------------------------------

def ttl_capped_by_rrsig() -> str:
    s = Signer()

    def signed_long(addr: str) -> list[str]:
        # an RRset sent with TTL 3600 whose RRSIG says the original TTL was 300
        line = f"tick.clock.com. 300 IN A {addr}"
        sig = s.sign("clock.com.", [line]).replace(" 300 IN RRSIG ", " 3600 IN RRSIG ", 1)
        return [line.replace(" 300 ", " 3600 ", 1), sig]

    t = cite("RFC 4035 §5.3.3: a validated RRset's TTL is at most the RRSIG's Original TTL "
             "(Knot Resolver caps it so), so an A sent with TTL 3600 but signed with",
             "Original TTL 300 expires after 300 s: after 600 s the resolver asks again and "
             "gets the zone's new address.")
    t += header("Signed data sent with TTL 3600 whose RRSIG's Original TTL is 300: after "
                "600 s the new data is fetched", extra=ta(s))
    t += signed_path(s, "clock.com.", "127.7.70.23")
    for first, last, addr in ((0, 29, "192.0.2.23"), (30, 1000, "192.0.2.24")):
        t += signed_server(s, "clock.com.", "127.7.70.23", [
            Entry("tick.clock.com. A", answer=signed_long(addr)),
        ], f"ns.clock.com: clock.com, tick = {addr}", first, last)
    t += ask(10, "tick.clock.com. A", SECURE, signed_long("192.0.2.23"))
    t += elapse(20, 600)
    t += ask(40, "tick.clock.com. A", SECURE, signed_long("192.0.2.24"))
    return t


def before_and_after(zone: str, addr: str, before: list[Entry | str],
                     after: list[Entry | str], question: str, first: tuple[str, list[str]],
                     then: list[str]) -> str:
    """ns.``zone`` serves ``before`` until step 29 and ``after`` from step 30; ``question``
    is asked at step 10 (expecting ``first``: reply flags/rcode and answer), 120 s pass, and
    it is asked again at step 40 (expecting NOERROR with ``then``)."""
    t = one_server_zone(zone, addr, zone.split(".", 1)[1])
    glue = [f"ns.{zone} 3600 IN A {addr}"]
    for (lo, hi), data, what in (((0, 29), before, "before"), ((30, 1000), after, "after")):
        t += zone_server(addr, zone, [f"ns.{zone}"], glue, data, f"ns.{zone}: {zone} {what}",
                         lo, hi)
    t += ask(10, question, first[0], first[1], flags="RD",
             match=SERVFAIL_ONLY + " flags" + (" answer" if first[1] else ""))
    t += elapse(20, 120)
    return t + ask(40, question, NOERROR, then, flags="RD")


def negative_ttl_soa_minimum() -> str:
    t = cite("RFC 2308 §3/§5: a negative answer is cached for the lesser of the SOA's TTL "
             "and its MINIMUM field (here 3600 and 60); after 120 s the name, created",
             "meanwhile, is asked again and answered.")
    t += header("An NXDOMAIN whose SOA has TTL 3600 and MINIMUM 60; after 120 s the name "
                "exists and is answered")
    return t + before_and_after("bay.org.", "127.7.70.24", [
        Entry("dock.bay.org. A", reply="QR AA NXDOMAIN",
              authority=[soa("bay.org.", "ns.bay.org.", 60)])], [
        Entry("dock.bay.org. A", answer=["dock.bay.org. 300 IN A 192.0.2.24"])],
        "dock.bay.org. A", ("QR RD RA NXDOMAIN", []), ["dock.bay.org. 300 IN A 192.0.2.24"])


def nodata_ttl_soa_ttl() -> str:
    t = cite("RFC 2308 §3/§5: a NODATA is cached for the lesser of the SOA's TTL and its "
             "MINIMUM (here 60 and 3600): after 120 s the type, added meanwhile, is asked",
             "again and answered.")
    t += header("A NODATA whose SOA has TTL 60 and MINIMUM 3600; after 120 s the record "
                "exists and is answered")
    short_soa = "cove.net. 60 IN SOA ns.cove.net. hostmaster.cove.net. 1 1800 900 604800 3600"
    return t + before_and_after("cove.net.", "127.7.70.25", [
        Entry("pier.cove.net. TXT", authority=[short_soa]),
        Entry("pier.cove.net. A", answer=["pier.cove.net. 300 IN A 192.0.2.25"])], [
        Entry("pier.cove.net. TXT", answer=['pier.cove.net. 300 IN TXT "new"'])],
        "pier.cove.net. TXT", (NOERROR, []), ['pier.cove.net. 300 IN TXT "new"'])


def cname_changes_after_ttl() -> str:
    t = cite("RFC 1034 §3.6.2/RFC 2181 §5.2: each RRset of a chain keeps its own TTL; the "
             "CNAME (60 s) expires before its target's A (3600 s), and after 120 s the",
             "resolver follows the zone's new CNAME to the new target.")
    t += header("A CNAME with TTL 60 is repointed; after 120 s the new chain is answered "
                "although the old target's A is still cached")
    targets: list[Entry | str] = [
        Entry("east.vane.com. A", answer=["east.vane.com. 3600 IN A 192.0.2.26"]),
        Entry("west.vane.com. A", answer=["west.vane.com. 3600 IN A 192.0.2.27"])]
    wind = [f"wind.vane.com. 60 IN CNAME {to}.vane.com." for to in ("east", "west")]
    return t + before_and_after(
        "vane.com.", "127.7.70.26", [Entry("wind.vane.com. A", answer=[wind[0]]), *targets],
        [Entry("wind.vane.com. A", answer=[wind[1]]), *targets], "wind.vane.com. A",
        (NOERROR, [wind[0], "east.vane.com. 3600 IN A 192.0.2.26"]),
        [wind[1], "west.vane.com. 3600 IN A 192.0.2.27"])


# == second batch (written after the first ran clean, before any resolver change) ========

def tld_with_ds(s: Signer, zone: str, addr: str, ds: list[str]) -> str:
    """The signed root, signed net. and the signed TLD of ``zone``, whose referral to
    ns.``zone`` (at ``addr``) carries the DS lines ``ds``."""
    tld = zone.split(".", 1)[1]
    tlds = {tld: TLD_SERVERS[tld], "net.": TLD_SERVERS["net."]}
    t = root_range({k: (ns, a, "ds") for k, (ns, a) in tlds.items()}, s)
    if tld != "net.":
        t += tld_range("net.", *TLD_SERVERS["net."], {}, signer=s)
    ns, tld_addr = TLD_SERVERS[tld]
    z = f"SIG {tld}"
    t += range_(0, 1000, [tld_addr], [
        Entry(f"{tld} NS", answer=[f"{tld} 86400 IN NS {ns}", z],
              additional=[f"{ns} 86400 IN A {tld_addr}"]),
        Entry(f"{ns} A", answer=[f"{ns} 86400 IN A {tld_addr}", z]),
        Entry(f"{tld} DNSKEY", answer=[s.dnskey_line(tld), z]),
        Entry(f"{zone} DS", answer=[*ds, z]),
        sub(f"{zone} NS", authority=[f"{zone} 3600 IN NS ns.{zone}", *ds, z],
            additional=[f"ns.{zone} 3600 IN A {addr}"]),
        sub(f"{tld} A", "QR AA NXDOMAIN", authority=[
            f"{tld} 3600 IN SOA {ns} hostmaster.{tld} 1 1800 900 604800 3600", z]),
    ], s, f"{ns}: {tld}, signed; {zone}'s DS set is given")
    return t


def aggressive_wildcard_from_cache() -> str:
    s = Signer()
    z = "SIG moor.com."
    # canonical order: moor.com, *.moor.com (TXT), ns
    t = cite("RFC 8198 §5.2: with the wildcard and the NSEC covering a name both cached and "
             "validated, the resolver may answer the name from the wildcard itself;",
             "Knot Resolver's cache synthesises such wildcard answers (AD).  The server "
             "answers only the first question.")
    t += header("NSEC zone with *.moor.com (TXT): one wildcard answer, then another name in "
                "the same NSEC span once the server is gone: answered from the cache",
                extra=ta(s))
    t += signed_path(s, "moor.com.", "127.7.70.30")
    t += signed_server(s, "moor.com.", "127.7.70.30", [
        Entry("a.moor.com. TXT", answer=['a.moor.com. 300 IN TXT "heath"',
                                         "SIG moor.com. *.moor.com."],
              authority=["*.moor.com. 300 IN NSEC ns.moor.com. TXT RRSIG NSEC", z]),
    ], "ns.moor.com: moor.com, NSEC (apex, *, ns); gone after step 15", last=15)
    t += ask(10, "a.moor.com. TXT", SECURE, ['a.moor.com. 300 IN TXT "heath"',
                                             "SIG moor.com. *.moor.com."], s)
    t += ask(20, "b.moor.com. TXT", SECURE, match=SERVFAIL_ONLY + " flags")
    return t


def aggressive_nodata_from_cache() -> str:
    s = Signer()
    z = "SIG fen.org."
    soa_ = soa("fen.org.", "ns.fen.org.")
    t = cite("RFC 8198 §5.1 with RFC 4035 §5.4: a validated NSEC at a name lists its types, "
             "so a NODATA for any other type is proven by the cached NSEC alone;",
             "Knot Resolver answers it from the cache (NOERROR, AD) once the server has "
             "stopped answering.")
    t += header("NSEC zone: a NODATA for TXT at reed.fen.org, then its MX once the server "
                "is gone: NODATA, secure, from the cached NSEC", extra=ta(s))
    t += signed_path(s, "fen.org.", "127.7.70.31")
    t += signed_server(s, "fen.org.", "127.7.70.31", [
        Entry("reed.fen.org. TXT", authority=[
            soa_, z, "reed.fen.org. 300 IN NSEC fen.org. A RRSIG NSEC", z]),
    ], "ns.fen.org: fen.org, NSEC (apex, ns, reed); gone after step 15", last=15)
    t += ask(10, "reed.fen.org. TXT", SECURE)
    t += ask(20, "reed.fen.org. MX", SECURE)
    return t


def aggressive_nsec3_sibling() -> str:
    s = Signer()
    z = "SIG mere.nl."
    chain = Nsec3Chain("mere.nl.", {"mere.nl.": "NS SOA DNSKEY NSEC3PARAM", "ns.mere.nl.": "A",
                                    "a.mere.nl.": "A", "k.mere.nl.": "A", "t.mere.nl.": "A"},
                       salt="5E", iterations=0)
    soa_ = soa("mere.nl.", "ns.mere.nl.")
    names = [f"{c}.mere.nl." for c in "bcdefghijlmopqrsuvwxyz"]
    first = names[0]
    second = next(n for n in names[1:] if chain.cover(n) == chain.cover(first))
    proof = [chain.match("mere.nl."), z, chain.cover(first), z, chain.cover("*.mere.nl."), z]
    t = cite("RFC 8198 §5.1 (NSEC3 too): the cached NSEC3 records (closest encloser, the "
             "next closer's cover, the wildcard's cover) deny every name whose hash falls",
             "in the same span; Knot Resolver answers such a name from the cache (NXDOMAIN, "
             "AD) once the server has stopped answering.")
    t += header("NSEC3 zone: an NXDOMAIN, then a name whose hash lies in the same span once "
                "the server is gone: NXDOMAIN, secure, from the cache", extra=ta(s))
    t += signed_path(s, "mere.nl.", "127.7.70.32")
    t += signed_server(s, "mere.nl.", "127.7.70.32", [
        Entry(f"{first} A", reply="QR AA NXDOMAIN", authority=[soa_, z, *proof]),
    ], "ns.mere.nl: mere.nl, NSEC3 (apex, ns, a, k, t); gone after step 15", last=15)
    t += ask(10, f"{first} A", NXSECURE, match=SERVFAIL_ONLY + " flags")
    t += ask(20, f"{second} A", NXSECURE, match=SERVFAIL_ONLY + " flags")
    return t


def two_rrsigs_one_bad() -> str:
    s = Signer()
    z = "SIG twin.net."
    good = s.sign("twin.net.", ["pair.twin.net. 300 IN A 192.0.2.33"])
    words = good.split()
    sig = words[-1]
    bad = " ".join(words[:-1] + [sig[:8] + ("A" if sig[8] != "A" else "B") + sig[9:]])
    t = cite("RFC 4035 §5.3.3/§5.3.1: an RRset is secure when any one of its RRSIGs "
             "validates; a second RRSIG by the same key that fails is ignored",
             "(Knot Resolver tries each signature).  The answer is secure (AD).")
    t += header("Signed data with two RRSIGs by the zone's key, the first corrupted: the "
                "other one validates it", extra=ta(s))
    t += signed_path(s, "twin.net.", "127.7.70.33")
    t += signed_server(s, "twin.net.", "127.7.70.33", [
        Entry("pair.twin.net. A", answer=["pair.twin.net. 300 IN A 192.0.2.33", bad, good]),
    ], "ns.twin.net: twin.net, one RRset with a bad and a good RRSIG")
    t += ask(10, "pair.twin.net. A", SECURE, ["pair.twin.net. 300 IN A 192.0.2.33", z], s,
             match="opcode qname qtype rcode flags")
    return t


def nsec3_iterations_over_limit() -> str:
    s = Signer()
    z = "SIG slow.org."
    chain = Nsec3Chain("slow.org.", {"slow.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.slow.org.": "A", "web.slow.org.": "A"},
                       salt="AB", iterations=200)
    soa_ = soa("slow.org.", "ns.slow.org.")
    t = cite("RFC 9276 §3.2: a validating resolver may treat NSEC3 records with too many "
             "iterations as insecure; Knot Resolver's limit is 150 (KR_NSEC3_MAX_ITERATIONS:",
             "'zones shooting over get downgraded to insecure status'): the NXDOMAIN with "
             "200 iterations is answered without AD; positive data still validates.")
    t += header("NSEC3 zone with 200 iterations: an NXDOMAIN is insecure (no AD, not bogus); "
                "signed data is secure", extra=ta(s))
    t += signed_path(s, "slow.org.", "127.7.70.34")
    t += signed_server(s, "slow.org.", "127.7.70.34", [
        Entry("gone.slow.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("slow.org."), z, chain.cover("gone.slow.org."), z,
            chain.cover("*.slow.org."), z]),
        Entry("web.slow.org. A", answer=["web.slow.org. 300 IN A 192.0.2.34", z]),
    ], "ns.slow.org: slow.org, NSEC3 with 200 iterations")
    t += ask(10, "gone.slow.org. A", "QR RD RA DO NXDOMAIN", match=SERVFAIL_ONLY + " flags")
    t += ask(20, "web.slow.org. A", SECURE, ["web.slow.org. 300 IN A 192.0.2.34", z], s)
    return t


def ds_one_unknown_algorithm_one_good() -> str:
    s = Signer()
    z = "SIG duo.com."
    unknown = f"duo.com. 3600 IN DS 4242 253 2 {'CD' * 32}"
    t = cite("RFC 4035 §5.2: the chain goes on through any DS whose algorithm and digest the "
             "validator supports; a second DS of an unknown algorithm does not make",
             "the zone insecure (RFC 6840 §5.2/§5.11).  The data validates (AD).")
    t += header("A DS set with one DS of a private algorithm and one matching the zone's "
                "key: the zone is secure", extra=ta(s))
    t += tld_with_ds(s, "duo.com.", "127.7.70.35", [unknown, s.ds_line("duo.com.")])
    t += signed_server(s, "duo.com.", "127.7.70.35", [
        Entry("www.duo.com. A", answer=["www.duo.com. 300 IN A 192.0.2.35", z]),
    ], "ns.duo.com: duo.com, signed")
    t += ask(10, "www.duo.com. A", SECURE, ["www.duo.com. 300 IN A 192.0.2.35", z], s)
    return t


def ksk_zsk_split() -> str:
    s, zsk, old = Signer(), Signer(), Signer()
    zone = "keys.net."
    keys = [s.dnskey_line(zone), zsk.dnskey_line(zone), old.dnskey_line(zone)]
    dnskey = [*keys, s.sign(zone, keys)]
    t = cite("RFC 4035 §5.2/§5.3: the DS authenticates one key, that key's RRSIG "
             "authenticates the DNSKEY RRset, and any key of that set may sign the zone's",
             "data (RFC 6781 §3.1: KSK/ZSK split; a pre-published key beside them): "
             "data signed by the second key is secure (AD).")
    t += header("DNSKEY set of three keys signed by the one the DS names; data signed by "
                "another of them validates", extra=ta(s))
    t += signed_path(s, zone, "127.7.70.36")
    n = "SIG keys.net."
    data = "lock.keys.net. 300 IN A 192.0.2.36"
    t += range_(0, 1000, ["127.7.70.36"], [
        Entry(f"{zone} DNSKEY", answer=dnskey),
        Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS ns.{zone}", n]),
        Entry(f"ns.{zone} A", answer=[f"ns.{zone} 3600 IN A 127.7.70.36", n]),
        Entry("lock.keys.net. A", answer=[data, n]),
        sub(f"{zone} A", "QR AA NOERROR", authority=[soa(zone, f"ns.{zone}"), n]),
    ], zsk, "ns.keys.net: keys.net, DNSKEY by the DS's key, the rest by the second key")
    t += ask(10, "lock.keys.net. A", SECURE, [data, n], zsk)
    return t


def cname_to_bogus_target() -> str:
    s, other = Signer(), Signer()
    t = cite("RFC 4035 §5.5: a chain is only as good as its parts; a secure CNAME to a name "
             "whose data is bogus (signed by a key no DS names) is SERVFAIL, and with CD",
             "(RFC 4035 §3.2.2) the whole chain is returned unchecked.")
    t += header("A signed CNAME to a zone signed with the wrong key: SERVFAIL; with CD the "
                "chain is answered", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "ok.com.": (["ns.ok.com."], ["ns.ok.com. A 127.7.70.37"])}, signer=s,
        ds={"ok.com.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "rot.net.": (["ns.rot.net."], ["ns.rot.net. A 127.7.70.38"])}, signer=s,
        ds={"rot.net.": "ds"})
    o, r = "SIG ok.com.", "SIG rot.net."
    t += signed_server(s, "ok.com.", "127.7.70.37", [
        Entry("link.ok.com. A", answer=["link.ok.com. 300 IN CNAME end.rot.net.", o]),
    ], "ns.ok.com: ok.com, signed")
    t += range_(0, 1000, ["127.7.70.38"], [
        *zone_base(other, "rot.net.", "ns.rot.net.", "127.7.70.38"),
        Entry("end.rot.net. A", answer=["end.rot.net. 300 IN A 192.0.2.38", r]),
        sub("rot.net. A", "QR AA NOERROR", authority=[soa("rot.net.", "ns.rot.net."), r]),
    ], other, "ns.rot.net: rot.net, signed with a key that no DS names")
    t += ask_fail(10, "link.ok.com. A")
    t += ask(20, "link.ok.com. A", "QR RD RA CD DO NOERROR",
             ["link.ok.com. 300 IN CNAME end.rot.net.", "end.rot.net. 300 IN A 192.0.2.38"],
             flags="RD CD DO", match="opcode qname qtype rcode flags")
    return t


def secure_cname_to_insecure_nx() -> str:
    s = Signer()
    t = cite("RFC 4035 §3.2.3: a secure CNAME whose target lies in an unsigned zone (NSEC "
             "proves no DS) and does not exist: NXDOMAIN (RFC 6604 §2.1: the rcode of",
             "the last name) without AD.")
    t += header("A signed CNAME to a name that does not exist in an unsigned zone: NXDOMAIN "
                "with the CNAME, no AD", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "firm.com.": (["ns.firm.com."], ["ns.firm.com. A 127.7.70.39"])}, signer=s,
        ds={"firm.com.": "ds"})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "loose.net.": (["ns.loose.net."], ["ns.loose.net. A 127.7.70.40"])}, signer=s, ds={})
    f = "SIG firm.com."
    t += signed_server(s, "firm.com.", "127.7.70.39", [
        Entry("to.firm.com. A", answer=["to.firm.com. 300 IN CNAME none.loose.net.", f]),
    ], "ns.firm.com: firm.com, signed")
    t += zone_server("127.7.70.40", "loose.net.", ["ns.loose.net."],
                     ["ns.loose.net. 3600 IN A 127.7.70.40"], [
        Entry("none.loose.net. A", reply="QR AA NXDOMAIN",
              authority=[soa("loose.net.", "ns.loose.net.")]),
    ], "ns.loose.net: loose.net, unsigned")
    t += ask(10, "to.firm.com. A", "QR RD RA DO NXDOMAIN",
             ["to.firm.com. 300 IN CNAME none.loose.net.", f], s)
    return t


def nsec3_optout_nxdomain() -> str:
    s = Signer()
    z = "SIG span.org."
    chain = Nsec3Chain("span.org.", {"span.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.span.org.": "A"}, salt="0F", iterations=0, flags=1)
    soa_ = soa("span.org.", "ns.span.org.")
    t = cite("RFC 5155 §6/§9.2: an opt-out NSEC3 covering the next closer name cannot prove "
             "that no unsigned delegation exists there, so the NXDOMAIN it 'proves'",
             "is not authenticated: Knot Resolver answers it without AD (insecure), not "
             "bogus.  The zone's signed data is secure.")
    t += header("NSEC3 opt-out zone: an NXDOMAIN whose next closer is covered by an opt-out "
                "NSEC3 is insecure; signed data is secure", extra=ta(s))
    t += signed_path(s, "span.org.", "127.7.70.41")
    t += signed_server(s, "span.org.", "127.7.70.41", [
        Entry("void.span.org. A", reply="QR AA NXDOMAIN", authority=[
            soa_, z, chain.match("span.org."), z, chain.cover("void.span.org."), z,
            chain.cover("*.span.org."), z]),
    ], "ns.span.org: span.org, NSEC3 opt-out (apex, ns)")
    t += ask(10, "void.span.org. A", "QR RD RA DO NXDOMAIN", match=SERVFAIL_ONLY + " flags")
    t += ask(20, "ns.span.org. A", SECURE, ["ns.span.org. 3600 IN A 127.7.70.41", z], s)
    return t



# == third batch: iteration and DNAME (written before any resolver change) ===============

def two_server_zone(zone: str, addrs: tuple[str, str], tld: str = "com.") -> str:
    """The unsigned root and TLD delegating ``zone`` to ns1/ns2.``zone`` at ``addrs``."""
    ns, tld_addr = TLD_SERVERS[tld]
    return root_range({tld: (ns, tld_addr, "")}) + tld_range(tld, ns, tld_addr, {
        zone: ([f"ns1.{zone}", f"ns2.{zone}"],
               [f"ns1.{zone} A {addrs[0]}", f"ns2.{zone} A {addrs[1]}"])})


def good_second(zone: str, addrs: tuple[str, str], data: list[Entry | str]) -> str:
    """ns2.``zone``: serves the zone."""
    return zone_server(addrs[1], zone, [f"ns1.{zone}", f"ns2.{zone}"],
                       [f"ns1.{zone} 3600 IN A {addrs[0]}", f"ns2.{zone} 3600 IN A {addrs[1]}"],
                       data, f"ns2.{zone}: {zone}")


def additional_out_of_bailiwick() -> str:
    t = cite("RFC 2181 §5.4.1 / RFC 5452 §6: data outside the answering server's zone "
             "(here an address for a name in another TLD, in the additional section)",
             "is not trusted; the name is later resolved from its own zone's server.")
    t += header("A server adds a forged address for a name in another zone; asked next, "
                "that name is resolved from its own server")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "noisy.com.": (["ns.noisy.com."], ["ns.noisy.com. A 127.7.70.52"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "quiet.net.": (["ns.quiet.net."], ["ns.quiet.net. A 127.7.70.53"])})
    t += zone_server("127.7.70.52", "noisy.com.", ["ns.noisy.com."],
                     ["ns.noisy.com. 3600 IN A 127.7.70.52"], [
        Entry("www.noisy.com. MX", answer=["www.noisy.com. 300 IN MX 10 www.quiet.net."],
              additional=["www.quiet.net. 300 IN A 192.0.2.66"]),
    ], "ns.noisy.com: noisy.com; adds an address for www.quiet.net")
    t += zone_server("127.7.70.53", "quiet.net.", ["ns.quiet.net."],
                     ["ns.quiet.net. 3600 IN A 127.7.70.53"], [
        Entry("www.quiet.net. A", answer=["www.quiet.net. 300 IN A 192.0.2.53"]),
    ], "ns.quiet.net: quiet.net")
    t += ask(10, "www.noisy.com. MX", NOERROR, ["www.noisy.com. 300 IN MX 10 www.quiet.net."],
             flags="RD")
    t += ask(20, "www.quiet.net. A", NOERROR, ["www.quiet.net. 300 IN A 192.0.2.53"],
             flags="RD")
    return t


def lame_empty_noaa() -> str:
    zone, addrs = "mute.com.", ("127.7.70.54", "127.7.70.55")
    t = cite("RFC 4697 §2.2 / RFC 2308 §2.2: a reply that is neither authoritative nor a "
             "referral nor an answer (NOERROR, no AA, empty sections) says nothing:",
             "the server is lame for the zone and the resolver asks the other one.")
    t += header("One of two nameservers answers every query with an empty, non-authoritative "
                "NOERROR; the other serves the zone")
    t += two_server_zone(zone, addrs)
    t += range_(0, 1000, [addrs[0]], [catch_all("QR NOERROR")],
                comment="ns1.mute.com: empty NOERROR without AA, always")
    t += good_second(zone, addrs, [
        Entry("www.mute.com. A", answer=["www.mute.com. 300 IN A 192.0.2.54"]),
        Entry("www.mute.com. TXT", answer=['www.mute.com. 300 IN TXT "here"'])])
    t += ask(10, "www.mute.com. A", NOERROR, ["www.mute.com. 300 IN A 192.0.2.54"], flags="RD")
    t += ask(20, "www.mute.com. TXT", NOERROR, ['www.mute.com. 300 IN TXT "here"'],
             flags="RD")
    return t


def dname_owner_itself_insecure() -> str:
    s = Signer()
    t = cite("RFC 6672 §2.3: a DNAME redirects the names below its owner, never the owner "
             "itself: the owner's own A is answered from the zone, and a DNAME question",
             "gets the DNAME record; the zone is an unsigned delegation (RFC 4035 §5.2), so "
             "neither has AD.")
    t += header("Unsigned zone with a DNAME at alias.flat.org: the owner's A and its DNAME "
                "record are answered as they are; a name below is redirected", extra=ta(s))
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {}, signer=s)
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        "flat.org.": (["ns.flat.org."], ["ns.flat.org. A 127.7.70.56"])}, signer=s, ds={})
    dname = "alias.flat.org. 300 IN DNAME real.flat.org."
    t += zone_server("127.7.70.56", "flat.org.", ["ns.flat.org."],
                     ["ns.flat.org. 3600 IN A 127.7.70.56"], [
        Entry("alias.flat.org. A", answer=["alias.flat.org. 300 IN A 192.0.2.56"]),
        Entry("alias.flat.org. DNAME", answer=[dname]),
        Entry("x.real.flat.org. A", answer=["x.real.flat.org. 300 IN A 192.0.2.57"]),
        Entry("x.alias.flat.org. A", answer=[
            dname, "x.alias.flat.org. 300 IN CNAME x.real.flat.org.",
            "x.real.flat.org. 300 IN A 192.0.2.57"]),
    ], "ns.flat.org: flat.org, unsigned; alias has an A and a DNAME")
    t += ask(10, "alias.flat.org. A", INSECURE, ["alias.flat.org. 300 IN A 192.0.2.56"])
    t += ask(20, "alias.flat.org. DNAME", INSECURE, [dname])
    t += ask(30, "x.alias.flat.org. A", INSECURE, [
        dname, "x.alias.flat.org. 300 IN CNAME x.real.flat.org.",
        "x.real.flat.org. 300 IN A 192.0.2.57"])
    return t


def dname_loop_insecure() -> str:
    s = Signer()
    t = cite("RFC 6672 §2.4 / RFC 1034 §3.6.2: DNAMEs that redirect into each other make a "
             "loop; the resolver stops following it and fails the question (SERVFAIL,",
             "as Knot Resolver does), and other names of the zone are still answered.")
    t += header("Unsigned zone where ping.ring.com DNAMEs to pong.ring.com and back: "
                "SERVFAIL for a name below; a plain name is answered", extra=ta(s))
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                     "net.": ("ns.nic.net.", "127.7.1.2", "ds")}, s)
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {}, signer=s)
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "ring.com.": (["ns.ring.com."], ["ns.ring.com. A 127.7.70.57"])}, signer=s, ds={})
    t += zone_server("127.7.70.57", "ring.com.", ["ns.ring.com."],
                     ["ns.ring.com. 3600 IN A 127.7.70.57"], [
        Entry("bell.ring.com. A", answer=["bell.ring.com. 300 IN A 192.0.2.58"]),
        *[Entry(f"x.{a}.ring.com. A", answer=[
            f"{a}.ring.com. 300 IN DNAME {b}.ring.com.",
            f"x.{a}.ring.com. 300 IN CNAME x.{b}.ring.com.",
            f"{b}.ring.com. 300 IN DNAME {a}.ring.com.",
            f"x.{b}.ring.com. 300 IN CNAME x.{a}.ring.com."])
          for a, b in (("ping", "pong"), ("pong", "ping"))],
    ], "ns.ring.com: ring.com, unsigned; ping <-> pong DNAMEs")
    t += ask_fail(10, "x.ping.ring.com. A")
    t += ask(20, "bell.ring.com. A", INSECURE, ["bell.ring.com. 300 IN A 192.0.2.58"])
    return t


def ns_name_is_cname() -> str:
    t = cite("RFC 2181 §10.3: an NS record must not name an alias; a resolver that meets "
             "one may still follow it (Knot Resolver resolves the nameserver's",
             "address like any name); the zone's other, proper nameserver answers anyway.")
    t += header("A zone with two nameservers, one of whose names is a CNAME (to a host that "
                "does not answer); the zone's names are answered")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "alias.com.": (["dns.host.net.", "ns.alias.com."], ["ns.alias.com. A 127.7.70.60"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "host.net.": (["ns.host.net."], ["ns.host.net. A 127.7.70.59"])})
    t += zone_server("127.7.70.59", "host.net.", ["ns.host.net."],
                     ["ns.host.net. 3600 IN A 127.7.70.59"], [
        Entry("dns.host.net. A", answer=["dns.host.net. 300 IN CNAME box.host.net.",
                                         "box.host.net. 300 IN A 127.7.70.61"]),
        Entry("box.host.net. A", answer=["box.host.net. 300 IN A 127.7.70.61"]),
    ], "ns.host.net: host.net (dns is a CNAME to box, whose address does not answer)")
    t += zone_server("127.7.70.60", "alias.com.", ["dns.host.net.", "ns.alias.com."],
                     ["ns.alias.com. 3600 IN A 127.7.70.60"], [
        Entry("www.alias.com. A", answer=["www.alias.com. 300 IN A 192.0.2.60"]),
    ], "ns.alias.com: alias.com")
    t += ask(10, "www.alias.com. A", NOERROR, ["www.alias.com. 300 IN A 192.0.2.60"],
             flags="RD")
    return t


# == fourth batch: proofs around empty non-terminals, met by QNAME minimisation ==========

def nsec3_nxdomain_below_ent() -> str:
    s = Signer()
    z = "SIG deep.org."
    chain = Nsec3Chain("deep.org.", {"deep.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.deep.org.": "A", "ent.deep.org.": "",
                                     "a.ent.deep.org.": "A"}, salt="E7", iterations=1)
    soa_ = soa("deep.org.", "ns.deep.org.")
    t = cite("RFC 5155 §8.4/§7.2.2: the closest encloser may be an empty non-terminal (its "
             "NSEC3 has no types); with the next closer and the wildcard below it covered",
             "the NXDOMAIN is secure.  A minimising resolver first meets the ENT's NODATA "
             "(§8.5, secure) and then the NXDOMAIN (RFC 8020: it stops there).")
    t += header("NSEC3 zone: x.y.ent.deep.org does not exist (ent is an empty non-terminal): "
                "NXDOMAIN with AD; the ENT itself is a secure NODATA", extra=ta(s))
    t += signed_path(s, "deep.org.", "127.7.70.62")
    ent_nodata = [soa_, z, chain.match("ent.deep.org."), z]
    nx = [soa_, z, chain.match("ent.deep.org."), z, chain.cover("y.ent.deep.org."), z,
          chain.cover("*.ent.deep.org."), z]
    t += signed_server(s, "deep.org.", "127.7.70.62", [
        *[Entry(f"ent.deep.org. {q}", authority=ent_nodata) for q in ("NS", "A", "TXT")],
        sub("y.ent.deep.org. A", "QR AA NXDOMAIN", authority=nx),
        Entry("a.ent.deep.org. A", answer=["a.ent.deep.org. 300 IN A 192.0.2.62", z]),
    ], "ns.deep.org: deep.org, NSEC3 (apex, ns, ent (empty), a.ent)")
    t += ask(10, "x.y.ent.deep.org. TXT", NXSECURE, match=SERVFAIL_ONLY + " flags")
    t += ask(20, "ent.deep.org. TXT", SECURE)
    t += ask(30, "a.ent.deep.org. A", SECURE, ["a.ent.deep.org. 300 IN A 192.0.2.62", z], s)
    return t


def nsec_wildcard_below_ent() -> str:
    s = Signer()
    z = "SIG cave.com."
    soa_ = soa("cave.com.", "ns.cave.com.")
    # canonical order: cave.com, (b: empty), *.b (A), ns
    wild = "*.b.cave.com. 300 IN NSEC ns.cave.com. A RRSIG NSEC"
    t = cite("RFC 4592 §2.2.2 / RFC 4035 §3.1.3.3-4: a wildcard under an empty non-terminal "
             "(*.b, b has no data) answers the names below b: an A from the wildcard",
             "and a wildcard NODATA for TXT (the wildcard's NSEC lacks TXT and covers the "
             "name), both secure; the ENT b itself is a secure NODATA.")
    t += header("NSEC zone with *.b.cave.com under the empty non-terminal b: wildcard answer, "
                "wildcard NODATA and the ENT's NODATA all validate", extra=ta(s))
    t += signed_path(s, "cave.com.", "127.7.70.63")
    ent = [soa_, z, "cave.com. 300 IN NSEC *.b.cave.com. NS SOA RRSIG NSEC DNSKEY", z]
    t += signed_server(s, "cave.com.", "127.7.70.63", [
        *[Entry(f"b.cave.com. {q}", authority=ent) for q in ("NS", "A", "TXT")],
        Entry("bat.b.cave.com. A", answer=["bat.b.cave.com. 300 IN A 192.0.2.63",
                                           "SIG cave.com. *.b.cave.com."],
              authority=[wild, z]),
        Entry("bat.b.cave.com. TXT", authority=[soa_, z, wild, z]),
        sub("b.cave.com. NS", "QR AA NOERROR", authority=[soa_, z, wild, z]),
    ], "ns.cave.com: cave.com, NSEC (apex, b (empty), *.b, ns)")
    t += ask(10, "bat.b.cave.com. A", SECURE, ["bat.b.cave.com. 300 IN A 192.0.2.63",
                                               "SIG cave.com. *.b.cave.com."], s)
    t += ask(20, "bat.b.cave.com. TXT", SECURE)
    t += ask(30, "b.cave.com. TXT", SECURE)
    return t


def nsec_ents_on_the_way() -> str:
    s = Signer()
    z = "SIG step.net."
    soa_ = soa("step.net.", "ns.step.net.")
    # canonical order: step.net, (c, b.c: empty), a.b.c (A), ns
    ent = [soa_, z, "step.net. 300 IN NSEC a.b.c.step.net. NS SOA RRSIG NSEC DNSKEY", z]
    t = cite("RFC 4035 §3.1.3.2 / RFC 7129 §3.2: an empty non-terminal has no NSEC of its "
             "own; the NSEC whose next name lies below it proves it exists with no data",
             "(NODATA, secure).  A minimising resolver walks c and b.c this way (RFC 9156) "
             "before asking a.b.c, whose A validates.")
    t += header("NSEC zone: a.b.c.step.net under two empty non-terminals; its A and the "
                "ENTs' NODATA validate", extra=ta(s))
    t += signed_path(s, "step.net.", "127.7.70.64")
    t += signed_server(s, "step.net.", "127.7.70.64", [
        *[Entry(f"{n}.step.net. {q}", authority=ent) for n in ("c", "b.c")
          for q in ("NS", "A", "MX")],
        Entry("a.b.c.step.net. A", answer=["a.b.c.step.net. 300 IN A 192.0.2.64", z]),
    ], "ns.step.net: step.net, NSEC (apex, c and b.c empty, a.b.c, ns)")
    t += ask(10, "a.b.c.step.net. A", SECURE, ["a.b.c.step.net. 300 IN A 192.0.2.64", z], s)
    t += ask(20, "b.c.step.net. MX", SECURE)
    return t


# == fifth batch: servers that come back, records with TTL 0 ==============================

def one_server_zone(zone: str, addr: str, tld: str, ttl: str = "") -> str:
    """The unsigned root and TLD delegating ``zone`` to ns.``zone`` at ``addr`` (NS and glue
    TTL ``ttl`` when given)."""
    ns, tld_addr = TLD_SERVERS[tld]
    glue = f"ns.{zone} {ttl} IN A {addr}" if ttl else f"ns.{zone} A {addr}"
    return root_range({tld: (ns, tld_addr, "")}) + tld_range(tld, ns, tld_addr, {
        zone: ([f"{ttl} ns.{zone}" if ttl else f"ns.{zone}"], [glue])})


def server_comes_back(broken: str) -> str:
    zone, addr = ("back.com.", "127.7.70.65") if broken == "REFUSED" else \
        ("wake.net.", "127.7.70.66")
    tld = zone.split(".", 1)[1]
    what = "refuses every query" if broken == "REFUSED" else "does not answer"
    t = cite("RFC 9520 §3.2/RFC 2308 §7.1: a resolution failure is cached for at most five "
             "minutes, and a server's lameness or unreachability is remembered for a",
             "limited time only (Unbound's infra-host-ttl 900 s; Knot Resolver's server "
             "selection ages its records): 1000 s later the zone's server is asked again.")
    t += header(f"The zone's only nameserver {what} at first (SERVFAIL); 1000 s later it "
                "serves the zone and the name is answered")
    t += one_server_zone(zone, addr, tld)
    if broken == "REFUSED":
        t += range_(0, 15, [addr], [catch_all("QR REFUSED")],
                    comment=f"ns.{zone}: refuses until step 15")
    else:  # Deckard answers an address without a range for the step with SERVFAIL
        t += range_(0, 15, [addr], [Entry(f"{zone} A", match="opcode subdomain",
                                          adjust="do_not_answer")],
                    comment=f"ns.{zone}: silent until step 15")
    data: list[Entry | str] = [Entry(f"www.{zone} A", answer=[f"www.{zone} 300 IN A 192.0.2.65"])]
    t += zone_server(addr, zone, [f"ns.{zone}"], [f"ns.{zone} 3600 IN A {addr}"], data,
                     f"ns.{zone}: {zone}, from step 16 on", first=16)
    t += ask_fail(10, f"www.{zone} A")
    t += elapse(20, 1000)
    t += ask(30, f"www.{zone} A", NOERROR, [f"www.{zone} 300 IN A 192.0.2.65"], flags="RD")
    return t


def ns_and_glue_ttl_zero() -> str:
    zone, addr = "zero.org.", "127.7.70.67"
    t = cite("RFC 2181 §8 / RFC 1035 §3.2.1: a TTL of 0 means the record is used for the "
             "transaction at hand and not cached; a delegation whose NS and glue have",
             "TTL 0 still leads to the zone, and again for the next question.")
    t += header("The delegation's NS and glue records have TTL 0: two questions are both "
                "answered")
    t += one_server_zone(zone, addr, "org.", ttl="0")
    t += zone_server(addr, zone, [f"ns.{zone}"], [f"ns.{zone} 0 IN A {addr}"], [
        Entry(f"www.{zone} A", answer=[f"www.{zone} 300 IN A 192.0.2.67"]),
        Entry(f"ftp.{zone} A", answer=[f"ftp.{zone} 300 IN A 192.0.2.68"]),
    ], f"ns.{zone}: {zone}")
    t += ask(10, f"www.{zone} A", NOERROR, [f"www.{zone} 300 IN A 192.0.2.67"], flags="RD")
    t += ask(20, f"ftp.{zone} A", NOERROR, [f"ftp.{zone} 300 IN A 192.0.2.68"], flags="RD")
    return t


# == sixth batch ===========================================================================

def nsec3_optout_delegation_in_zone() -> str:
    s = Signer()
    z = "SIG corp.org."
    chain = Nsec3Chain("corp.org.", {"corp.org.": "NS SOA DNSKEY NSEC3PARAM",
                                     "ns.corp.org.": "A", "www.corp.org.": "A"},
                       salt="0A70", iterations=0, flags=1)
    t = cite("RFC 5155 §7.2.7/§8.9: a referral from an NSEC3 opt-out zone to an unsigned "
             "child carries the closest encloser's NSEC3 and an opt-out NSEC3 covering",
             "the child: the child is insecure, its answers come without AD; the parent's "
             "own signed data stays secure.")
    t += header("Signed corp.org (NSEC3 opt-out) delegates lab.corp.org without DS: the "
                "child's answer is insecure, the parent's is secure", extra=ta(s))
    t += signed_path(s, "corp.org.", "127.7.70.68")
    proof = [chain.match("corp.org."), z, chain.cover("lab.corp.org."), z]
    soa_ = soa("corp.org.", "ns.corp.org.")
    t += signed_server(s, "corp.org.", "127.7.70.68", [
        Entry("lab.corp.org. DS", authority=[soa_, z, *proof]),
        sub("lab.corp.org. NS", "QR NOERROR",
            authority=["lab.corp.org. 3600 IN NS ns.lab.corp.org.", *proof],
            additional=["ns.lab.corp.org. 3600 IN A 127.7.70.69"]),
        Entry("www.corp.org. A", answer=["www.corp.org. 300 IN A 192.0.2.68", z]),
    ], "ns.corp.org: corp.org, NSEC3 opt-out; lab.corp.org delegated without DS")
    t += zone_server("127.7.70.69", "lab.corp.org.", ["ns.lab.corp.org."],
                     ["ns.lab.corp.org. 3600 IN A 127.7.70.69"], [
        Entry("box.lab.corp.org. A", answer=["box.lab.corp.org. 300 IN A 192.0.2.69"]),
    ], "ns.lab.corp.org: lab.corp.org, unsigned")
    t += ask(10, "box.lab.corp.org. A", INSECURE, ["box.lab.corp.org. 300 IN A 192.0.2.69"])
    t += ask(20, "www.corp.org. A", SECURE, ["www.corp.org. 300 IN A 192.0.2.68", z], s)
    return t


# == seventh batch: glue and referrals ====================================================

def out_of_bailiwick_glue_ignored() -> str:
    t = cite("RFC 2181 §5.4.1 / RFC 5452 §6: the com. server's referral may carry addresses "
             "only for names in its own zone; an address for ns.host.net in it is not",
             "trusted (Knot Resolver and Unbound drop it): the name's address comes from "
             "net., and the answer from the real server.")
    t += header("com. refers shop.com to ns.host.net with a forged address for it; the real "
                "address (from net.) serves the zone")
    t += root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                     "net.": ("ns.nic.net.", "127.7.1.2", "")})
    t += tld_range("com.", "ns.nic.com.", "127.7.1.1", {
        "shop.com.": (["ns.host.net."], ["ns.host.net. A 127.7.70.80"])})
    t += tld_range("net.", "ns.nic.net.", "127.7.1.2", {
        "host.net.": (["ns.host.net."], ["ns.host.net. A 127.7.70.81"])})
    t += range_(0, 1000, ["127.7.70.80"], [
        sub("shop.com. A", "QR AA NOERROR", answer=["www.shop.com. 300 IN A 192.0.2.99"])],
        comment="127.7.70.80: the forged address (answers every name with a wrong address)")
    t += zone_server("127.7.70.81", "host.net.", ["ns.host.net."],
                     ["ns.host.net. 3600 IN A 127.7.70.81"], [
        Entry("www.shop.com. A", answer=["www.shop.com. 300 IN A 192.0.2.81"]),
        Entry("shop.com. NS", answer=["shop.com. 3600 IN NS ns.host.net."]),
        sub("shop.com. A", "QR AA NOERROR", authority=[soa("shop.com.", "ns.host.net.")]),
    ], "ns.host.net: host.net and shop.com")
    t += ask(10, "www.shop.com. A", NOERROR, ["www.shop.com. 300 IN A 192.0.2.81"], flags="RD")
    return t


def referral_with_aa() -> str:
    t = cite("RFC 1034 §4.3.2 / RFC 4697 §2.2: a reply without answer whose authority section "
             "holds the NS set of a child zone is a referral even if the parent's server",
             "sets AA (some do); the resolver follows it to the child, which answers.")
    t += header("The TLD's referral for a child zone comes with the AA bit set; the child's "
                "server is asked and answers")
    zone, addr = "flag.org.", "127.7.70.82"
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    org_soa = "org. 3600 IN SOA ns.nic.org. hostmaster.org. 1 1800 900 604800 3600"
    t += range_(0, 1000, ["127.7.1.3"], [
        Entry("org. NS", answer=["org. 86400 IN NS ns.nic.org."],
              additional=["ns.nic.org. 86400 IN A 127.7.1.3"]),
        Entry("ns.nic.org. A", answer=["ns.nic.org. 86400 IN A 127.7.1.3"]),
        sub(f"{zone} NS", "QR AA NOERROR", authority=[f"{zone} 3600 IN NS ns.{zone}"],
            additional=[f"ns.{zone} 3600 IN A {addr}"]),
        sub("org. A", "QR AA NXDOMAIN", authority=[org_soa]),
    ], comment="ns.nic.org: org., its referral to flag.org has AA set")
    t += zone_server(addr, zone, [f"ns.{zone}"], [f"ns.{zone} 3600 IN A {addr}"], [
        Entry(f"www.{zone} A", answer=[f"www.{zone} 300 IN A 192.0.2.82"]),
    ], f"ns.{zone}: {zone}")
    t += ask(10, f"www.{zone} A", NOERROR, [f"www.{zone} 300 IN A 192.0.2.82"], flags="RD")
    return t


def special_purpose_glue() -> str:
    t = cite("RFC 6890: broadcast (255.255.255.255), multicast (224.0.0.0/4) and 'this host' "
             "(0.0.0.0/8) addresses are no server's address; a resolver does not send to",
             "them (Knot Resolver filters such addresses) and uses the zone's other "
             "nameserver.")
    t += header("Two nameservers whose glue is broadcast and multicast, and a third with a "
                "real address: the zone is answered")
    zone = "odd.org."
    t += root_range({"org.": ("ns.nic.org.", "127.7.1.3", "")})
    t += tld_range("org.", "ns.nic.org.", "127.7.1.3", {
        zone: ([f"a.ns.{zone}", f"b.ns.{zone}", f"c.ns.{zone}"],
               [f"a.ns.{zone} A 255.255.255.255", f"b.ns.{zone} A 224.0.0.53",
                f"c.ns.{zone} A 127.7.70.83"])})
    t += zone_server("127.7.70.83", zone, [f"a.ns.{zone}", f"b.ns.{zone}", f"c.ns.{zone}"], [
        f"a.ns.{zone} 3600 IN A 255.255.255.255", f"b.ns.{zone} 3600 IN A 224.0.0.53",
        f"c.ns.{zone} 3600 IN A 127.7.70.83"], [
        Entry(f"www.{zone} A", answer=[f"www.{zone} 300 IN A 192.0.2.83"]),
        Entry(f"ftp.{zone} A", answer=[f"ftp.{zone} 300 IN A 192.0.2.84"]),
    ], f"c.ns.{zone}: {zone}")
    t += ask(10, f"www.{zone} A", NOERROR, [f"www.{zone} 300 IN A 192.0.2.83"], flags="RD")
    t += ask(20, f"ftp.{zone} A", NOERROR, [f"ftp.{zone} 300 IN A 192.0.2.84"], flags="RD")
    return t


ALL = {
    "val_nsec_nodata_unsigned_proof": nsec_nodata_unsigned,
    "val_nsec_nxdomain_unsigned_cover": nsec_nxdomain_cover_unsigned,
    "val_nsec_wildcard_nodata_no_wildcard_nsec": nsec_wildcard_nodata_no_wildcard_nsec,
    "val_nsec_wildcard_answer_unsigned_proof": nsec_wildcard_answer_proof_unsigned,
    "val_nsec_nodata_bitmap_has_type": nsec_nodata_bitmap_has_type,
    "val_nsec3_nodata_unsigned_and_ent": nsec3_nodata_unsigned,
    "val_nsec3_wildcard_unsigned_cover": nsec3_wildcard_cover_unsigned,
    "val_unsigned_delegation_without_proof": unsigned_delegation_without_proof,
    "val_ds_unknown_digest_insecure": ds_unknown_digest_insecure,
    "val_cd_bogus_then_checked": cd_bogus_then_checked,
    "val_cname_insecure_to_secure": cname_insecure_to_secure,
    "val_dname_at_signed_apex": dname_at_signed_apex,
    "val_dname_cname_dname_insecure": dname_cname_dname_insecure,
    "val_dname_to_wildcard_secure": dname_to_wildcard_secure,
    "val_aggressive_nsec_sibling": aggressive_nsec_sibling,
    "val_nxdomain_cut_from_cache": nxdomain_cut_from_cache,
    "val_ttl_capped_by_rrsig": ttl_capped_by_rrsig,
    "iter_negative_ttl_soa_minimum": negative_ttl_soa_minimum,
    "iter_nodata_ttl_soa_ttl": nodata_ttl_soa_ttl,
    "iter_cname_changes_after_ttl": cname_changes_after_ttl,
    # second batch
    "val_aggressive_wildcard_from_cache": aggressive_wildcard_from_cache,
    "val_aggressive_nodata_from_cache": aggressive_nodata_from_cache,
    "val_aggressive_nsec3_sibling": aggressive_nsec3_sibling,
    "val_two_rrsigs_one_bad": two_rrsigs_one_bad,
    "val_nsec3_iterations_over_limit": nsec3_iterations_over_limit,
    "val_ds_unknown_and_good_algorithm": ds_one_unknown_algorithm_one_good,
    "val_dnskey_set_signed_by_ds_key_only": ksk_zsk_split,
    "val_cname_to_bogus_target": cname_to_bogus_target,
    "val_secure_cname_to_insecure_nx": secure_cname_to_insecure_nx,
    "val_nsec3_optout_nxdomain_insecure": nsec3_optout_nxdomain,
    # third batch
    "iter_additional_out_of_bailiwick": additional_out_of_bailiwick,
    "iter_lame_empty_noaa": lame_empty_noaa,
    "val_dname_owner_itself_insecure": dname_owner_itself_insecure,
    "val_dname_loop_insecure": dname_loop_insecure,
    "iter_ns_name_is_cname": ns_name_is_cname,
    # fourth batch
    "val_nsec3_nxdomain_below_ent": nsec3_nxdomain_below_ent,
    "val_nsec_wildcard_below_ent": nsec_wildcard_below_ent,
    "val_nsec_ents_on_the_way": nsec_ents_on_the_way,
    # fifth batch
    "iter_refusing_server_comes_back": lambda: server_comes_back("REFUSED"),
    "iter_silent_server_comes_back": lambda: server_comes_back("timeout"),
    "iter_ns_and_glue_ttl_zero": ns_and_glue_ttl_zero,
    # sixth batch
    "val_nsec3_optout_delegation_in_zone": nsec3_optout_delegation_in_zone,
    # seventh batch
    "iter_out_of_bailiwick_glue_ignored": out_of_bailiwick_glue_ignored,
    "iter_referral_with_aa": referral_with_aa,
    "iter_special_purpose_glue": special_purpose_glue,
}

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for name, make in ALL.items():
        if not only or name in only:
            write(name, make())
