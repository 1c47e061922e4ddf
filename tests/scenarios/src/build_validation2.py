"""Write tests/scenarios/testbound/validation2/: testbound-dialect scenarios for validator
rules not covered by validation/ (issue 16 part 3, seventh round, helper "r7val"), written
from the RFCs and Unbound's documented/coded behaviour before any resolver change.

The topology, keys and helpers are build_validation.py's (root, com., net. and example.com.
/ example.net. signed, org. and example.org. unsigned; ``val-override-date`` is
``rpl.DATE``).  Each file checks one rule, named with its source in the file's comment.
Run: ``python tests/scenarios/src/build_validation2.py`` to write the scenarios not yet
written, ``--rebuild`` to write them all again (new keys).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdata
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

sys.path.insert(0, str(Path(__file__).parent))

from build import soa  # noqa: E402
from build_validation import (  # noqa: E402
    ADDR,
    APEX_NSEC,
    DAY,
    NET,
    NET_ADDR,
    NET_NS,
    NS,
    ORG_ADDR,
    SOA,
    SUB_ADDR,
    ZONE,
    Z,
    ask,
    new_key,
    now,
    nsec,
    path,
    scenario,
    sig_at,
    sign_with,
    signed_www,
    three_zones,
    zone_server,
)
from rpl import Entry, Nsec3Chain, Signer, catch_all, check, query, range_, root_range, sub  # noqa: E402

OUT = Path(__file__).parents[1] / "testbound" / "validation2"
N = "SIG example.net."
NET_APEX_NSEC = [f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", N]
EDE = ["ede: yes"]


def write(name: str, cite: list[str], title: str, s: Signer, body: str,
          extra: list[str] | None = None, root_anchor: bool = True) -> None:
    scenario(name, cite, title, s, body, extra, root_anchor, out=OUT)


def net_server(s: Signer, entries: list[Entry | str], comment: str) -> str:
    return zone_server(s, entries, comment, addr=NET_ADDR, zone=NET, ns=NET_NS,
                       apex_proof=NET_APEX_NSEC)


def org_server(entries: list[Entry | str]) -> str:
    return range_(0, 1000, [ORG_ADDR], [
        *entries,
        Entry("example.org. NS", answer=["example.org. 3600 IN NS ns.example.org."]),
        Entry("ns.example.org. A", answer=[f"ns.example.org. 3600 IN A {ORG_ADDR}"]),
        sub("example.org. A", "QR AA NOERROR", authority=[soa("example.org.",
                                                              "ns.example.org.")]),
    ], comment="ns.example.org.: example.org., unsigned (org. has no DS)")


def bad_net_www() -> list[str]:
    """www.example.net.'s A with an RRSIG made over another address (it fails)."""
    s_line = "www.example.net. 3600 IN A 192.0.2.1"
    return [s_line.replace("192.0.2.1", "192.0.2.66"), s_line]


def failing_sig(s: Signer, zone: str, line: str) -> str:
    return sig_at(s, zone, line, now() - 30 * DAY, now() + 30 * DAY)


def serve_failing(addr: str, first: int) -> str:
    """From step ``first`` on, the server at ``addr`` answers SERVFAIL to everything: what
    is asked later must come from the cache."""
    return range_(first, 1000, [addr], [catch_all("QR SERVFAIL")],
                  comment="the same server, failing from then on")


# -- CNAME and DNAME chains across zones (RFC 4035 §5, §3.2.3) --------------------------------

def cname_secure_to_bogus() -> None:
    s = Signer()
    cname = ["www.example.com. 3600 IN CNAME www.example.net.", Z]
    good, signed_over = bad_net_www()
    body = three_zones(s) + zone_server(s, [Entry("www.example.com. A", answer=cname)],
                                        "ns.example.com.: www is a CNAME to example.net.",
                                        apex_proof=APEX_NSEC)
    body += net_server(s, [Entry("www.example.net. A", answer=[
        good, failing_sig(s, NET, signed_over)])],
        "ns.example.net.: example.net.; www's RRSIG was made over another address")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_cname_secure_to_bogus", [
        "RFC 4035 §5 and §5.5: every RRset of a CNAME chain is validated; a secure CNAME",
        "whose target in another signed zone fails its signature makes the answer bogus",
        "(Unbound validates each link, the weakest wins): SERVFAIL."],
        "A secure CNAME to a bogus target: SERVFAIL", s, body)


def cname_insecure_to_bogus() -> None:
    s = Signer()
    good, signed_over = bad_net_www()
    body = three_zones(s) + org_server([Entry("www.example.org. A", answer=[
        "www.example.org. 3600 IN CNAME www.example.net."])])
    body += net_server(s, [Entry("www.example.net. A", answer=[
        good, failing_sig(s, NET, signed_over)])],
        "ns.example.net.: example.net.; www's RRSIG was made over another address")
    body += ask(10, "www.example.org. A", "QR RD RA DO SERVFAIL")
    write("val2_cname_insecure_to_bogus", [
        "RFC 4035 §4.3/§5: an insecure link (a CNAME in a zone proven unsigned) does not make",
        "the rest of the chain insecure; the target lies in a signed zone (under the anchor,",
        "its DS chain intact) and its failing signature makes the answer bogus: SERVFAIL."],
        "An insecure CNAME into a signed zone whose data is bogus: SERVFAIL", s, body)


def cname_secure_insecure_secure() -> None:
    s = Signer()
    first = ["www.example.com. 3600 IN CNAME www.example.org.", Z]
    middle = ["www.example.org. 3600 IN CNAME host.example.net."]
    last = ["host.example.net. 3600 IN A 192.0.2.21", N]
    body = three_zones(s) + zone_server(s, [Entry("www.example.com. A", answer=first)],
                                        "ns.example.com.: www is a CNAME to example.org.",
                                        apex_proof=APEX_NSEC)
    body += org_server([Entry("www.example.org. A", answer=middle)])
    body += net_server(s, [Entry("host.example.net. A", answer=last)],
                       "ns.example.net.: example.net., signed")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR", [*first, *middle, *last], s)
    write("val2_cname_secure_insecure_secure", [
        "RFC 4035 §3.2.3: AD only when every RRset of the answer is authentic; a chain",
        "secure -> insecure (example.org. has no DS) -> secure is insecure as a whole, the",
        "secure last link does not restore AD: NOERROR, the three records, no AD."],
        "A CNAME chain secure, insecure, secure: answered without AD", s, body)


def cname_to_nodata_same_zone() -> None:
    s = Signer()
    cname = ["www.example.com. 3600 IN CNAME host.example.com.", Z]
    apex = nsec(ZONE, "host.example.com.", "NS SOA RRSIG NSEC DNSKEY")
    host = nsec("host.example.com.", NS, "TXT RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=cname, authority=[SOA, Z, *host]),
        Entry("host.example.com. A", authority=[SOA, Z, *host]),
    ], "ns.example.com.: example.com., NSEC; www is a CNAME to host, which has TXT only",
        apex_proof=apex)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", cname, s)
    write("val2_cname_to_nodata_same_zone", [
        "RFC 4035 §5.4 and §3.1.3.1 (RFC 2308 §2.2 for a CNAME to NODATA): a signed CNAME",
        "whose target's NSEC proves it has no A is a secure NODATA for the target (Unbound's",
        "CNAME_NOANSWER class, validate_cname_noanswer_response): NOERROR, the CNAME, AD."],
        "A signed CNAME to a NODATA proven by NSEC: secure", s, body)


def dname_secure_to_bogus() -> None:
    s = Signer()
    good, signed_over = bad_net_www()
    answer = ["alias.example.com. 300 IN DNAME example.net.", Z,
              "www.alias.example.com. 300 IN CNAME www.example.net."]
    body = three_zones(s) + zone_server(s, [Entry("www.alias.example.com. A", answer=answer)],
                                        "ns.example.com.: example.com.; alias DNAME "
                                        "example.net.", apex_proof=APEX_NSEC)
    body += net_server(s, [Entry("www.example.net. A", answer=[
        good, failing_sig(s, NET, signed_over)])],
        "ns.example.net.: example.net.; www's RRSIG was made over another address")
    body += ask(10, "www.alias.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_dname_secure_to_bogus", [
        "RFC 6672 §5.3.1 and RFC 4035 §5: the signed DNAME and the CNAME synthesised from it",
        "are secure, the target they lead to in another signed zone fails its signature:",
        "the answer is bogus, SERVFAIL."],
        "A secure DNAME redirecting to bogus data: SERVFAIL", s, body)


# -- wildcard-expanded CNAMEs whose target does not exist (RFC 4035 §5.3.4, RFC 5155 §8.8) ----

def wildcard_cname_nxdomain_nsec() -> None:
    s = Signer()
    cname = ["x.w.example.com. 3600 IN CNAME nothere.example.com.",
             "SIG example.com. *.w.example.com."]
    wild = nsec("*.w.example.com.", "www.example.com.", "CNAME RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", reply="QR AA NXDOMAIN", answer=cname,
              authority=[SOA, Z, *wild, *APEX_NSEC]),
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN",
              authority=[SOA, Z, *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC; *.w.example.com. is a CNAME to a name that "
       "does not exist", apex_proof=APEX_NSEC)
    body += ask(10, "x.w.example.com. A", "QR RD RA AD DO NXDOMAIN", cname, s)
    write("val2_wildcard_cname_to_nxdomain_nsec", [
        "RFC 4035 §5.3.4/§5.4 and RFC 6604 §3: a CNAME expanded from a wildcard, its NSEC",
        "denying the next closer name, to a target the apex NSEC proves absent (name and",
        "wildcard): a secure NXDOMAIN, the CNAME in the answer, AD."],
        "A wildcard CNAME to a non-existent name, NSEC: secure NXDOMAIN", s, body)


def nsec3_wildcard_chain() -> Nsec3Chain:
    return Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                             "w.example.com.": "", "*.w.example.com.": "CNAME",
                             "host.example.com.": "TXT"})


def unique(lines: list[str]) -> list[str]:
    """NSEC3 lines once each, each followed by its RRSIG line."""
    out: list[str] = []
    for line in dict.fromkeys(lines):
        out += [line, Z]
    return out


def wildcard_cname_nodata_nsec3() -> None:
    s = Signer()
    chain = nsec3_wildcard_chain()
    cname = ["x.w.example.com. 3600 IN CNAME host.example.com.",
             "SIG example.com. *.w.example.com."]
    host = unique([chain.match("host.example.com.")])
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", answer=cname,
              authority=[SOA, Z, *unique([chain.cover("x.w.example.com."),
                                          chain.match("host.example.com.")])]),
        Entry("host.example.com. A", authority=[SOA, Z, *host]),
    ], "ns.example.com.: example.com., NSEC3; *.w.example.com. is a CNAME to host, which "
       "has TXT only", apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "x.w.example.com. A", "QR RD RA AD DO NOERROR", cname, s)
    write("val2_wildcard_cname_to_nodata_nsec3", [
        "RFC 5155 §8.8 (an NSEC3 covers the next closer name of the wildcard expansion) and",
        "§8.5 (the target's matching NSEC3 lacks A): a wildcard CNAME to a NODATA is secure:",
        "NOERROR, the CNAME, AD."],
        "A wildcard CNAME to a NODATA, NSEC3: secure", s, body)


def wildcard_cname_nxdomain_nsec3() -> None:
    s = Signer()
    chain = nsec3_wildcard_chain()
    cname = ["x.w.example.com. 3600 IN CNAME nothere.example.com.",
             "SIG example.com. *.w.example.com."]
    denial = [chain.match(ZONE), chain.cover("nothere.example.com."),
              chain.cover("*.example.com.")]
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", reply="QR AA NXDOMAIN", answer=cname,
              authority=[SOA, Z, *unique([chain.cover("x.w.example.com."), *denial])]),
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN",
              authority=[SOA, Z, *unique(denial)]),
    ], "ns.example.com.: example.com., NSEC3; *.w.example.com. is a CNAME to a name that "
       "does not exist", apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "x.w.example.com. A", "QR RD RA AD DO NXDOMAIN", cname, s)
    write("val2_wildcard_cname_to_nxdomain_nsec3", [
        "RFC 5155 §8.8 and §8.4: a wildcard CNAME (the next closer name covered) to a name",
        "with a closest encloser proof and a covered wildcard: a secure NXDOMAIN, the CNAME",
        "in the answer, AD."],
        "A wildcard CNAME to a non-existent name, NSEC3: secure NXDOMAIN", s, body)


# -- questions at the apex, flags ----------------------------------------------------------

def soa_at_apex() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [Entry(f"{ZONE} SOA", answer=[SOA, Z])],
                                 "ns.example.com.: example.com., signed", apex_proof=APEX_NSEC)
    body += ask(10, f"{ZONE} SOA", "QR RD RA AD DO NOERROR", [SOA, Z], s)
    write("val2_soa_at_apex", [
        "RFC 4035 §5.3: the apex SOA RRset is signed by the zone's key and validated like any",
        "RRset: NOERROR, the SOA and its RRSIG, AD."],
        "A question for the apex SOA of a signed zone: secure", s, body)


def ad_flag_nxdomain() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC", apex_proof=APEX_NSEC)
    body += ask(10, "nothere.example.com. A", "QR RD RA AD NXDOMAIN", flags="RD AD",
                match="opcode qname qtype rcode flags")
    write("val2_ad_flag_nxdomain_without_do", [
        "RFC 6840 §5.7: 'setting the AD bit in a query [is] a signal indicating that the",
        "requester understands and is interested in the value of the AD bit in the response';",
        "a validated NXDOMAIN asked with AD and without DO has AD (Unbound's",
        "reply_info_answer_encode: secure && (dnssec || AD))."],
        "AD in a query without DO: a secure NXDOMAIN comes with AD", s, body)


# -- negative answers and proofs from the cache (RFC 4035 §4.5, RFC 2308 §5) ----------------

def nxdomain_cached() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *APEX_NSEC]),
    ], "ns.example.com., until step 15: example.com., NSEC", apex_proof=APEX_NSEC, last=15)
    body += serve_failing(ADDR, 16)
    body += ask(10, "nothere.example.com. A", "QR RD RA AD DO NXDOMAIN")
    body += ask(20, "nothere.example.com. A", "QR RD RA AD DO NXDOMAIN")
    write("val2_nxdomain_cached_keeps_ad", [
        "RFC 4035 §4.5 and RFC 2308 §5: a validated NXDOMAIN is cached with its verdict; asked",
        "again (the server failing meanwhile) it is served from the cache as validated:",
        "NXDOMAIN, AD."],
        "A cached secure NXDOMAIN is served again with AD", s, body)


def ds_nodata_cached() -> None:
    s = Signer()
    proof = nsec("sub.example.com.", "www.example.com.", "NS RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
    ], "ns.example.com., until step 15: example.com., NSEC; sub.example.com. is delegated "
       "without DS", apex_proof=APEX_NSEC, last=15)
    body += serve_failing(ADDR, 16)
    body += ask(10, "sub.example.com. DS", "QR RD RA AD DO NOERROR")
    body += ask(20, "sub.example.com. DS", "QR RD RA AD DO NOERROR")
    write("val2_ds_nodata_cached_keeps_ad", [
        "RFC 4035 §4.5/§5.4 and RFC 2308 §5: the parent's proof that a delegation has no DS",
        "(a secure NODATA for DS) is cached; asked again (the server failing meanwhile) it is",
        "served from the cache: NOERROR, AD."],
        "A cached secure DS NODATA is served again with AD", s, body)


def sub_delegation(proof: list[str]) -> Entry:
    return sub("sub.example.com. NS",
               authority=["sub.example.com. 3600 IN NS ns.sub.example.com.", *proof],
               additional=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"])


def insecure_proof_reused() -> None:
    s = Signer()
    proof = nsec("sub.example.com.", "www.example.com.", "NS RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
        sub_delegation(proof),
    ], "ns.example.com., until step 15: example.com., NSEC; sub.example.com. is delegated "
       "without DS", apex_proof=APEX_NSEC, last=15)
    body += serve_failing(ADDR, 16)
    body += range_(0, 1000, [SUB_ADDR], [
        Entry("a.sub.example.com. A", answer=["a.sub.example.com. 3600 IN A 192.0.2.31"]),
        Entry("b.sub.example.com. A", answer=["b.sub.example.com. 3600 IN A 192.0.2.32"]),
        Entry("sub.example.com. NS", answer=["sub.example.com. 3600 IN NS ns.sub.example.com."]),
        Entry("ns.sub.example.com. A", answer=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
        sub("sub.example.com. A", "QR AA NOERROR", authority=[
            "sub.example.com. 3600 IN SOA ns.sub.example.com. h.sub.example.com. 1 2 3 4 300"]),
    ], comment="ns.sub.example.com.: sub.example.com., unsigned")
    body += ask(10, "a.sub.example.com. A", "QR RD RA DO NOERROR",
                ["a.sub.example.com. 3600 IN A 192.0.2.31"])
    body += ask(20, "b.sub.example.com. A", "QR RD RA DO NOERROR",
                ["b.sub.example.com. 3600 IN A 192.0.2.32"])
    write("val2_insecure_proof_reused", [
        "RFC 4035 §4.5/§5.2 and RFC 2308 §5: the validated proof that sub.example.com. has",
        "no DS (an insecure delegation) is kept for its TTL (Unbound's key cache holds a null",
        "key); a second name below it is insecure without asking the parent again (which now",
        "fails): NOERROR, the data, no AD."],
        "The proof of an insecure delegation is reused from the cache", s, body)


# -- trust anchors (RFC 4035 §4.3/§5, unbound.conf(5) trust-anchor) ---------------------------

def anchor_dnskey_nxdomain() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.12"
    body = path(s) + range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", reply="QR AA NXDOMAIN", authority=[SOA]),
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 3600 IN NS {NS}", Z]),
        Entry(f"{NS} A", answer=[f"{NS} 3600 IN A {ADDR}", Z]),
        Entry("www.example.com. A", answer=[line, Z]),
    ], s, "ns.example.com.: example.com.; its DNSKEY question is answered NXDOMAIN")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_anchor_dnskey_nxdomain", [
        "RFC 4035 §5 and unbound.conf(5) harden-dnssec-stripped (default yes): a trust",
        "anchor whose zone gives no DNSKEY RRset (NXDOMAIN for it) cannot be primed (Unbound:",
        "'failed to prime trust anchor -- could not fetch DNSKEY rrset'); the names below",
        "it are bogus, not insecure: SERVFAIL."],
        "An anchored zone answering NXDOMAIN for its DNSKEY: SERVFAIL", s, body,
        extra=[f'trust-anchor: "{s.ds_line(ZONE)}"'], root_anchor=False)


def anchor_below_insecure_delegation() -> None:
    s = Signer()
    subzone, sub_ns = "sub.example.com.", "ns.sub.example.com."
    proof = nsec(subzone, "www.example.com.", "NS RRSIG NSEC")
    zz = f"SIG {subzone}"
    body = path(s) + zone_server(s, [
        Entry(f"{subzone} DS", authority=[SOA, Z, *proof]),
        sub_delegation(proof),
    ], "ns.example.com.: example.com., NSEC; sub.example.com. is delegated without DS",
        apex_proof=APEX_NSEC)
    body += zone_server(s, [
        Entry("www.sub.example.com. A", answer=["www.sub.example.com. 3600 IN A 192.0.2.41",
                                                zz]),
    ], "ns.sub.example.com.: sub.example.com., signed (its key is the second anchor)",
        addr=SUB_ADDR, zone=subzone, ns=sub_ns,
        apex_proof=[f"{subzone} 3600 IN NSEC {sub_ns} NS SOA RRSIG NSEC DNSKEY", zz])
    body += ask(10, "www.sub.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.sub.example.com. 3600 IN A 192.0.2.41", zz], s)
    write("val2_anchor_below_insecure_delegation", [
        "RFC 4035 §4.3/§5 and unbound.conf(5) trust-anchor: validation starts at the closest",
        "trust anchor above the name; an anchor for sub.example.com., whose parent proves it",
        "has no DS, makes sub.example.com.'s signed data secure: AD."],
        "A second anchor below an insecure delegation: secure", s, body,
        extra=[f'trust-anchor: "{s.ds_line(subzone)}"'])


# -- signatures ----------------------------------------------------------------------------

def signer_outside_zone() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.12"
    body = three_zones(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, s.sign(NET, [line])]),
    ], "ns.example.com.: example.com.; www's A is signed with example.net.'s key (signer "
       "example.net.)", apex_proof=APEX_NSEC)
    body += net_server(s, [], "ns.example.net.: example.net., signed")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_signer_outside_zone", [
        "RFC 4035 §5.3.1: 'The RRSIG RR's Signer's Name field MUST be the name of the zone",
        "that contains the RRset'; a signature by example.net. over example.com. data (valid",
        "with that key) is not a signature of the zone (Unbound: 'signer name not a parent",
        "of rrset owner'): bogus, SERVFAIL."],
        "An RRSIG whose signer is another zone is bogus", s, body)


# -- Extended DNS Errors (RFC 8914) with ede: yes ------------------------------------------

EDE_MATCH = "opcode qname qtype rcode ede={}"


def ede_window(name: str, inception: int, expiration: int, what: str, code: int,
               cite: list[str], title: str) -> None:
    """www's only RRSIG has the given validity window (outside the validator's clock)."""
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.11"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, sig_at(s, ZONE, line, inception,
                                                         expiration)]),
    ], f"ns.example.com.: example.com.; www's only RRSIG {what}", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL",
                match=EDE_MATCH.format(code))
    write(name, cite, title, s, body, extra=EDE)


def ede_expired() -> None:
    ede_window("val2_ede_signature_expired", now() - 40 * DAY, now() - 10 * DAY,
               "expired ten days ago", 7, [
                   "RFC 8914 §4.8 and unbound.conf(5) ede: 'If enabled, Unbound will respond "
                   "with Extended",
                   "DNS Error codes'; an answer bogus because its signature expired carries "
                   "INFO-CODE 7",
                   "(Signature Expired; Unbound's check_dates): SERVFAIL, EDE 7."],
               "EDE 7 for an expired signature")


def ede_not_yet_valid() -> None:
    ede_window("val2_ede_signature_not_yet_valid", now() + 10 * DAY, now() + 40 * DAY,
               "is valid from ten days from now", 8, [
                   "RFC 8914 §4.9 and unbound.conf(5) ede: an answer bogus because its "
                   "signature's",
                   "inception is in the future carries INFO-CODE 8 (Signature Not Yet Valid; "
                   "Unbound's",
                   "check_dates): SERVFAIL, EDE 8."],
               "EDE 8 for a signature not yet valid")


def ede_dnskey_missing() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.11"
    body = path(s) + range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", authority=[SOA, Z]),
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 3600 IN NS {NS}", Z]),
        Entry(f"{NS} A", answer=[f"{NS} 3600 IN A {ADDR}", Z]),
        Entry("www.example.com. A", answer=[line, Z]),
    ], s, "ns.example.com.: example.com. (with a DS); it answers its DNSKEY question with "
          "NODATA")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL", match=EDE_MATCH.format(9))
    write("val2_ede_dnskey_missing", [
        "RFC 8914 §4.10 and unbound.conf(5) ede: a zone with a DS whose DNSKEY RRset is absent",
        "(NODATA) is bogus with INFO-CODE 9 (DNSKEY Missing; Unbound's 'No DNSKEY record'):",
        "SERVFAIL, EDE 9."],
        "EDE 9 for a signed delegation without a DNSKEY RRset", s, body, extra=EDE)


def ede_bad_signature() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.66"
    body = path(s) + zone_server(s, [Entry("www.example.com. A", answer=[
        line, failing_sig(s, ZONE, "www.example.com. 3600 IN A 192.0.2.1")])],
        "ns.example.com.: example.com.; www's RRSIG was made over another address",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL", match=EDE_MATCH.format(6))
    write("val2_ede_dnssec_bogus", [
        "RFC 8914 §4.7 and unbound.conf(5) ede: a signature in its validity window that does",
        "not verify makes the answer bogus with INFO-CODE 6 (DNSSEC Bogus): SERVFAIL, EDE 6."],
        "EDE 6 for a signature that does not verify", s, body, extra=EDE)


# -- second batch: keys, signatures and sections probed harder --------------------------------

def keyed_zone(s: Signer, keys: list[tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]],
               signing: tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata],
               entries: list[Entry | str], comment: str,
               dnskey_sigs: list[str] | None = None) -> str:
    """example.com.'s server with the DNSKEY set ``s.key(ZONE)`` + ``keys``, signed by the
    DS's key (or the ``dnskey_sigs`` given), the apex data signed by ``signing``."""
    ksk_private, ksk = s.key(ZONE)
    lines = [s.dnskey_line(ZONE), *(f"{ZONE} 3600 IN DNSKEY {k.to_text()}" for _, k in keys)]
    sigs = dnskey_sigs if dnskey_sigs is not None else [sign_with(ksk_private, ksk, ZONE,
                                                                  lines)]
    private, key = signing
    ns_line, addr_line = f"{ZONE} 3600 IN NS {NS}", f"{NS} 3600 IN A {ADDR}"
    return range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", answer=[*lines, *sigs]),
        Entry(f"{ZONE} NS", answer=[ns_line, sign_with(private, key, ZONE, [ns_line])]),
        Entry(f"{NS} A", answer=[addr_line, sign_with(private, key, ZONE, [addr_line])]),
        *entries,
    ], s, comment)


def colliding_keys() -> tuple[tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata], ...]:
    """Two zone keys (flags 256) with the same key tag and algorithm."""
    seen: dict[int, tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]] = {}
    while True:
        private, key = new_key()
        tag = dns.dnssec.key_id(key)
        if tag in seen:
            return seen[tag], (private, key)
        seen[tag] = (private, key)


def keytag_collision() -> None:
    s = Signer()
    first, second = colliding_keys()
    a_line = "www.example.com. 3600 IN A 192.0.2.51"
    txt_line = 'www.example.com. 3600 IN TXT "second"'
    a = [a_line, sign_with(*first, ZONE, [a_line])]
    txt = [txt_line, sign_with(*second, ZONE, [txt_line])]
    body = path(s) + keyed_zone(s, [first, second], first, [
        Entry("www.example.com. A", answer=a), Entry("www.example.com. TXT", answer=txt),
    ], "ns.example.com.: example.com.; two ZSKs share one key tag; www A is signed by the "
       "first, www TXT by the second")
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", a, s)
    body += ask(20, "www.example.com. TXT", "QR RD RA AD DO NOERROR", txt, s)
    write("val2_keytag_collision", [
        "RFC 4035 §5.3.1 and RFC 4034 Appendix B: a key tag is no unique identifier ('it is",
        "possible for two distinct DNSKEY RRs to have the same owner name, the same algorithm,",
        "and the same key tag'); the validator tries every key with the RRSIG's tag and",
        "algorithm (Unbound's dnskeyset_verify_rrset_sig): both RRsets are secure, AD."],
        "Two keys with one key tag: each signature verifies with its own key", s, body)


def ds_for_zsk_without_sep() -> None:
    s = Signer()
    private, key = new_key(flags=256)
    s.zones[ZONE] = (private, key)
    line = "www.example.com. 3600 IN A 192.0.2.52"
    body = path(s) + signed_www_line(s, line)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", [line, Z], s)
    write("val2_ds_key_without_sep_bit", [
        "RFC 4034 §2.1.1: the SEP flag 'is not used during the validation process'; RFC 4035",
        "§5.2 needs only a DNSKEY with the Zone Key bit that a DS matches.  A zone whose only",
        "key (flags 256, no SEP) is the DS's validates: AD."],
        "A DS naming a key without the SEP bit: secure", s, body)


def signed_www_line(s: Signer, line: str) -> str:
    return zone_server(s, [Entry("www.example.com. A", answer=[line, Z])],
                       "ns.example.com.: example.com., signed", apex_proof=APEX_NSEC)


def dnskey_two_sigs_one_bad() -> None:
    s = Signer()
    ksk_private, ksk = s.key(ZONE)
    zsk = new_key()
    lines = [s.dnskey_line(ZONE), f"{ZONE} 3600 IN DNSKEY {zsk[1].to_text()}"]
    bad = sign_with(*zsk, ZONE, [s.dnskey_line(ZONE)])  # made over the KSK alone: fails
    line = "www.example.com. 3600 IN A 192.0.2.53"
    a = [line, sign_with(*zsk, ZONE, [line])]
    body = path(s) + keyed_zone(s, [zsk], zsk, [Entry("www.example.com. A", answer=a)],
                                "ns.example.com.: example.com.; the DNSKEY set has a failing "
                                "RRSIG by the ZSK and a good one by the KSK",
                                dnskey_sigs=[bad, sign_with(ksk_private, ksk, ZONE, lines)])
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", a, s)
    write("val2_dnskey_two_sigs_one_bad", [
        "RFC 4035 §5.2: the DNSKEY RRset is authenticated when an RRSIG by a key that the DS",
        "matches verifies; another signature over it that fails does not matter: AD."],
        "A DNSKEY set with a failing and a good signature: secure", s, body)


def dnskey_sig_expired() -> None:
    s = Signer()
    ksk_private, ksk = s.key(ZONE)
    key_line = s.dnskey_line(ZONE)
    body = path(s) + keyed_zone(s, [], s.key(ZONE), [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.54", Z]),
    ], "ns.example.com.: example.com.; the DNSKEY set's only RRSIG expired ten days ago",
        dnskey_sigs=[sig_at(s, ZONE, key_line, now() - 40 * DAY, now() - 10 * DAY)])
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_dnskey_sig_expired", [
        "RFC 4035 §5.2/§5.3.1: the DNSKEY RRset is authenticated only by a signature in its",
        "validity period; its only RRSIG expired, the keys are bogus and so is every answer",
        "of the zone: SERVFAIL."],
        "A DNSKEY set whose signature expired: SERVFAIL", s, body)


def ds_bad_signature() -> None:
    s = Signer()
    ds_line = s.ds_line(ZONE)
    bad = failing_sig(s, "com.", f"{ZONE} 3600 IN DS 4242 15 2 {'AB' * 32}")
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s)
    c = "SIG com."
    body += range_(0, 1000, ["127.7.1.1"], [
        Entry("com. NS", answer=["com. 86400 IN NS ns.nic.com.", c],
              additional=["ns.nic.com. 86400 IN A 127.7.1.1"]),
        Entry("ns.nic.com. A", answer=["ns.nic.com. 86400 IN A 127.7.1.1", c]),
        Entry("com. DNSKEY", answer=[s.dnskey_line("com."), c]),
        Entry(f"{ZONE} DS", answer=[ds_line, bad]),
        sub(f"{ZONE} NS", authority=[f"{ZONE} 3600 IN NS {NS}", ds_line, bad],
            additional=[f"{NS} 3600 IN A {ADDR}"]),
        catch_all("QR AA NXDOMAIN", authority=[soa("com.", "ns.nic.com.")]),
    ], s, "ns.nic.com.: com.; example.com.'s DS comes with an RRSIG made over another DS")
    body += signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_ds_bad_signature", [
        "RFC 4035 §5.2: the DS RRset must be authenticated by the parent's key before it",
        "authenticates the child's DNSKEY; a DS whose only RRSIG fails (from the referral and",
        "from the DS question alike) leaves the child bogus: SERVFAIL."],
        "A DS RRset whose signature fails: SERVFAIL", s, body)


def owner_case_differs() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.55"
    upper = "WWW.Example.COM. 3600 IN A 192.0.2.55"
    sig = s.sign(ZONE, [line])
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[upper, "WWW.Example.COM." + sig[len(
            "www.example.com."):]]),
    ], "ns.example.com.: example.com.; it answers with the owner name in other case",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", [line, sig],
                match="opcode qname qtype rcode flags")
    write("val2_owner_name_case", [
        "RFC 4034 §6.2 and RFC 4035 §5.3.2: signatures are checked over the canonical form,",
        "owner names in lower case; an answer whose owner comes in other letter case (RFC 4343",
        "§3) verifies all the same: AD."],
        "An owner name in other case still validates", s, body)


def nsec_ent_nodata() -> None:
    s = Signer()
    apex = nsec(ZONE, "host.ent.example.com.", "NS SOA RRSIG NSEC DNSKEY")
    body = path(s) + zone_server(s, [
        Entry("ent.example.com. A", authority=[SOA, Z, *apex]),
    ], "ns.example.com.: example.com., NSEC; ent.example.com. is an empty non-terminal "
       "(host.ent.example.com. exists)", apex_proof=apex)
    body += ask(10, "ent.example.com. A", "QR RD RA AD DO NOERROR")
    write("val2_nsec_ent_nodata", [
        "RFC 4035 §3.1.3.2/§5.4 and RFC 4592 §2.2.2: an empty non-terminal has no NSEC of its",
        "own; the NSEC whose span covers it and whose next name lies below it proves the name",
        "exists without data (Unbound's nsec_proves_nodata, empty non-terminal): NODATA, AD."],
        "An empty non-terminal proven by a covering NSEC: secure NODATA", s, body)


def bogus_nsec_in_positive() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.56"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, Z], authority=[
            "www.example.com. 3600 IN NSEC zz.example.com. A RRSIG NSEC",
            failing_sig(s, ZONE, "www.example.com. 3600 IN NSEC zz.example.com. MX RRSIG "
                        "NSEC")]),
    ], "ns.example.com.: example.com.; www's answer carries an NSEC whose RRSIG fails",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_positive_with_bogus_authority", [
        "RFC 4035 §5: the validator checks every signed RRset of the response; Unbound's",
        "validate_msg_signatures: 'If anything in the authority section fails to be secure,",
        "we have a bad message': a positive answer with a failing NSEC beside it is bogus."],
        "A positive answer with a bogus authority RRset: SERVFAIL", s, body)


def ds_query_below_signed_cut() -> None:
    s = Signer()
    subzone, sub_ns = "sub.example.com.", "ns.sub.example.com."
    zz = f"SIG {subzone}"
    sub_soa = soa(subzone, sub_ns)
    sub_apex = [f"{subzone} 3600 IN NSEC {sub_ns} NS SOA RRSIG NSEC DNSKEY", zz]
    www_nsec = [f"www.{subzone} 3600 IN NSEC {subzone} A RRSIG NSEC", zz]
    body = path(s) + zone_server(s, [
        Entry(f"{subzone} DS", answer=[s.ds_line(subzone), Z]),
        sub(f"{subzone} NS", authority=[f"{subzone} 3600 IN NS {sub_ns}", s.ds_line(subzone),
                                        Z], additional=[f"{sub_ns} 3600 IN A {SUB_ADDR}"]),
    ], "ns.example.com.: example.com.; sub.example.com. is delegated with a DS",
        apex_proof=APEX_NSEC)
    body += zone_server(s, [
        Entry(f"www.{subzone} DS", authority=[sub_soa, zz, *www_nsec]),
    ], "ns.sub.example.com.: sub.example.com., signed, NSEC", addr=SUB_ADDR, zone=subzone,
        ns=sub_ns, apex_proof=sub_apex)
    body += ask(10, f"www.{subzone} DS", "QR RD RA AD DO NOERROR")
    write("val2_ds_query_below_signed_cut", [
        "RFC 4035 §3.1.4.1/§5.4: a DS question for a name inside a signed child zone (no cut",
        "at it) is answered by the child, a NODATA proven by the child's NSEC at the name",
        "(no DS, no NS); validated with the child's keys: AD."],
        "DS question for a name below a signed cut: secure NODATA", s, body)


def dnskey_query_not_apex() -> None:
    s = Signer()
    www_nsec = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.57", Z]),
        Entry("www.example.com. DNSKEY", authority=[SOA, Z, *www_nsec]),
    ], "ns.example.com.: example.com., NSEC", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. DNSKEY", "QR RD RA AD DO NOERROR")
    write("val2_dnskey_query_not_apex", [
        "RFC 4035 §5.4: a DNSKEY question for a name that is no zone apex is a NODATA like",
        "any other type, proven by the NSEC at the name (no DNSKEY in its bitmap): AD."],
        "DNSKEY question for a name below the apex: secure NODATA", s, body)


def nsec3_referral_insecure() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "sub.example.com.": "NS"})
    proof = unique([chain.match("sub.example.com.")])
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
        sub_delegation(proof),
    ], "ns.example.com.: example.com., NSEC3 (no opt-out); sub.example.com. is delegated "
       "without DS", apex_proof=unique([chain.match(ZONE)]))
    body += unsigned_sub([Entry("www.sub.example.com. A",
                                answer=["www.sub.example.com. 3600 IN A 192.0.2.59"])])
    body += ask(10, "www.sub.example.com. A", "QR RD RA DO NOERROR",
                ["www.sub.example.com. 3600 IN A 192.0.2.59"])
    write("val2_nsec3_referral_insecure", [
        "RFC 5155 §8.6/§8.9: a referral whose NSEC3 matches the delegation, with NS and",
        "without DS in its bitmap, proves an insecure delegation; the child's unsigned answer",
        "is insecure: NOERROR, no AD."],
        "An NSEC3-proven insecure delegation (no opt-out): insecure answer", s, body)


def unsigned_sub(entries: list[Entry | str]) -> str:
    return range_(0, 1000, [SUB_ADDR], [
        *entries,
        Entry("sub.example.com. NS", answer=["sub.example.com. 3600 IN NS ns.sub.example.com."]),
        Entry("ns.sub.example.com. A", answer=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
        sub("sub.example.com. A", "QR AA NOERROR", authority=[
            "sub.example.com. 3600 IN SOA ns.sub.example.com. h.sub.example.com. 1 2 3 4 300"]),
    ], comment="ns.sub.example.com.: sub.example.com., unsigned")


def wildcard_but_name_exists() -> None:
    s = Signer()
    answer = ["x.w.example.com. 3600 IN A 192.0.2.60", "SIG example.com. *.w.example.com."]
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", answer=answer,
              authority=nsec("x.w.example.com.", "www.example.com.", "TXT RRSIG NSEC")),
    ], "ns.example.com.: example.com., NSEC; x.w.example.com. exists (TXT) but the A comes "
       "as a wildcard expansion", apex_proof=APEX_NSEC)
    body += ask(10, "x.w.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_wildcard_answer_name_exists", [
        "RFC 4035 §5.3.4: a wildcard expansion needs an NSEC proving the query name does not",
        "exist; an NSEC owned by the name itself proves it does, so no wildcard could have",
        "been expanded: bogus, SERVFAIL (Unbound's val_nsec_proves_positive_wildcard)."],
        "A wildcard expansion for a name that exists is bogus", s, body)


# -- third batch: algorithms, digests, wrap-around denials, skew, harden-dnssec-stripped ------

def ecdsa_key() -> tuple[ec.EllipticCurvePrivateKey, dns.rdata.Rdata]:
    private = ec.generate_private_key(ec.SECP256R1())
    return private, dns.dnssec.make_dnskey(private.public_key(),
                                           dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)


def two_algorithm_zone_one_signs_data() -> None:
    s = Signer()
    ed_private, ed = s.key(ZONE)
    p256 = ecdsa_key()
    p256_ds = dns.dnssec.make_ds(dns.name.from_text(ZONE), p256[1], "SHA256")
    keys = [s.dnskey_line(ZONE), f"{ZONE} 3600 IN DNSKEY {p256[1].to_text()}"]
    body = path(s, [s.ds_line(ZONE), f"{ZONE} 3600 IN DS {p256_ds.to_text()}"])
    line = "www.example.com. 3600 IN A 192.0.2.61"
    a = [line, sign_with(ed_private, ed, ZONE, [line])]
    body += keyed_zone(s, [p256], s.key(ZONE), [Entry("www.example.com. A", answer=a)],
                       "ns.example.com.: example.com. with an Ed25519 and an ECDSA P-256 key "
                       "(both in the DS, both sign the DNSKEY set); www is signed by Ed25519 "
                       "only", dnskey_sigs=[sign_with(ed_private, ed, ZONE, keys),
                                            sign_with(p256[0], p256[1], ZONE, keys)])
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", a, s)
    write("val2_two_algorithms_data_signed_by_one", [
        "RFC 6840 §5.11: 'A validator SHOULD accept any single valid path'; unbound.conf(5)",
        "harden-algo-downgrade (default no: 'allows the weakest algorithm to validate the",
        "zone'): the zone has keys of two algorithms, www is signed by one of them: AD."],
        "A zone with two algorithms, data signed by one: secure by default", s, body)


def nsec3_upper_case_owner() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A"})
    denial = [chain.match(ZONE), chain.cover("nothere.example.com."),
              chain.cover("*.example.com.")]
    upper = [line.split(".", 1)[0].upper() + "." + line.split(".", 1)[1]
             for line in dict.fromkeys(denial)]
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN",
              authority=[SOA, Z, *unique(upper)]),
    ], "ns.example.com.: example.com., NSEC3; the owner names' hashes come in upper case",
        apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "nothere.example.com. A", "QR RD RA AD DO NXDOMAIN")
    write("val2_nsec3_owner_upper_case", [
        "RFC 5155 §3 (the hashed owner is Base32hex, whose 'letters are case-insensitive',",
        "RFC 4648 §7) and RFC 4343: an NSEC3 owner label in upper case names the same hash;",
        "the name error proof holds: NXDOMAIN, AD."],
        "NSEC3 owner hashes in upper case still prove the name error", s, body)


def name_hashing_outside(chain: Nsec3Chain, parent: str) -> str:
    """A name below ``parent`` whose hash sorts after every hash of the chain (the last
    NSEC3, wrapping around to the first, covers it)."""
    top = max(chain._hash(n) for n in chain.nodes)
    for i in range(10000):
        name = f"n{i}.{parent}"
        if chain._hash(name) > top and chain._hash(f"*.{parent}") != chain._hash(name):
            return name
    raise AssertionError("no name hashes after the chain")


def nsec3_wraparound_nxdomain() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A"})
    name = name_hashing_outside(chain, ZONE)
    denial = [chain.match(ZONE), chain.cover(name), chain.cover("*.example.com.")]
    body = path(s) + zone_server(s, [
        Entry(f"{name} A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *unique(denial)]),
    ], f"ns.example.com.: example.com., NSEC3; {name}'s hash sorts after the last NSEC3 "
       "owner", apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, f"{name} A", "QR RD RA AD DO NXDOMAIN")
    write("val2_nsec3_wraparound_cover", [
        "RFC 5155 §3.1.7/§8.3: the last NSEC3 of the chain names the first as its next hashed",
        "owner, and covers the hashes after its own and before the first; a name error whose",
        "next closer name hashes there is proven: NXDOMAIN, AD."],
        "The last NSEC3 (wrapping around) covers a name: secure NXDOMAIN", s, body)


def nsec_wraparound_nxdomain() -> None:
    s = Signer()
    last = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("zzz.example.com. A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *last,
                                                                      *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC; www.example.com. is the last name",
        apex_proof=APEX_NSEC)
    body += ask(10, "zzz.example.com. A", "QR RD RA AD DO NXDOMAIN")
    write("val2_nsec_last_covers_to_apex", [
        "RFC 4034 §4.1.1: 'The value of the Next Domain Name field in the last NSEC record in",
        "the zone is the name of the zone apex'; the last NSEC covers every name after its",
        "owner: zzz.example.com.'s name error is proven (with the apex NSEC denying the",
        "wildcard): NXDOMAIN, AD."],
        "The last NSEC (next name the apex) covers a name: secure NXDOMAIN", s, body)


def unsigned_dname() -> None:
    s = Signer()
    answer = ["alias.example.com. 300 IN DNAME target.example.com.",
              "www.alias.example.com. 300 IN CNAME www.target.example.com.",
              "www.target.example.com. 3600 IN A 192.0.2.62", Z]
    body = path(s) + zone_server(s, [
        Entry("www.alias.example.com. A", answer=answer),
        Entry("www.target.example.com. A", answer=answer[2:]),
    ], "ns.example.com.: example.com.; alias DNAME target.example.com. without RRSIG",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.alias.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_dname_unsigned_in_signed_zone", [
        "RFC 6672 §5.3.1 / RFC 4035 §5: the DNAME is signed data of its zone and the",
        "synthesised CNAME is trusted only through it; a DNAME of a signed zone without",
        "RRSIG is bogus, and so is the answer: SERVFAIL."],
        "An unsigned DNAME in a signed zone: SERVFAIL", s, body)


def skew_window(name: str, inception: int, expiration: int, what: str, secure_: bool,
                cite: list[str], title: str, extra: list[str] | None = None) -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.63"
    sig = sig_at(s, ZONE, line, inception, expiration)
    body = path(s) + zone_server(s, [Entry("www.example.com. A", answer=[line, sig])],
                                 f"ns.example.com.: example.com.; www's only RRSIG {what}",
                                 apex_proof=APEX_NSEC)
    if secure_:
        body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", [line, sig])
    else:
        body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write(name, cite, title, s, body, extra)


SKEW_DOC = ["unbound.conf(5) val-sig-skew-min/-max: 'A value of 10% of the signature lifetime",
            "(expiration - inception) is used, capped by this setting' (3600 and 86400 by",
            "default); RFC 6781 §4.4.2.1 (clock skew)."]


def skew_expired() -> None:
    skew_window("val2_sig_skew_expired_within", now() - 60 * DAY, now() - 2 * 3600,
                "expired two hours ago (lifetime 60 days)", True, [
                    *SKEW_DOC,
                    "A signature expired two hours ago, its lifetime 60 days, is within the",
                    "skew (10% = 6 days, capped to 24 hours): AD."],
                "A signature just expired is still valid within the clock skew")


def skew_inception() -> None:
    skew_window("val2_sig_skew_inception_within", now() + 2 * 3600, now() + 60 * DAY,
                "is valid from two hours from now (lifetime 60 days)", True, [
                    *SKEW_DOC,
                    "A signature whose inception is two hours ahead, its lifetime 60 days, is",
                    "within the skew (capped to 24 hours): AD."],
                "A signature valid from soon is valid within the clock skew")


def skew_max_lowered() -> None:
    skew_window("val2_sig_skew_max_lowered", now() - 60 * DAY, now() - 2 * 3600,
                "expired two hours ago (lifetime 60 days)", False, [
                    *SKEW_DOC,
                    "With val-sig-skew-min: 60 and val-sig-skew-max: 600 the skew is ten",
                    "minutes; a signature expired two hours ago is bogus: SERVFAIL."],
                "val-sig-skew-max lowered: a signature expired two hours ago is bogus",
                extra=["val-sig-skew-min: 60", "val-sig-skew-max: 600"])


def stripped_dnskey_not_hardened() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.64"
    body = path(s) + range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", authority=[SOA]),
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 3600 IN NS {NS}"]),
        Entry(f"{NS} A", answer=[f"{NS} 3600 IN A {ADDR}"]),
        Entry("www.example.com. A", answer=[line]),
    ], s, "ns.example.com.: example.com. (anchored) serves no DNSSEC data at all")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR", [line])
    write("val2_stripped_not_hardened_insecure", [
        "unbound.conf(5) harden-dnssec-stripped: 'If turned off, and no DNSSEC data is",
        "received (or the DNSKEY data fails to validate), then the zone is made insecure,",
        "this behaves like there is no trust anchor.'  (Unbound's primeResponseToKE: a trust",
        "anchor that cannot be primed is a null key unless hardened.)  With it off, the",
        "anchored zone whose server strips every DNSSEC record is insecure: NOERROR, the",
        "data, no AD."],
        "harden-dnssec-stripped: no, stripped anchored zone: insecure", s, body,
        extra=["harden-dnssec-stripped: no", f'trust-anchor: "{s.ds_line(ZONE)}"'],
        root_anchor=False)


def bad_dnskey_not_hardened() -> None:
    s = Signer()
    key_line = s.dnskey_line(ZONE)
    line = "www.example.com. 3600 IN A 192.0.2.65"
    body = path(s) + keyed_zone(s, [], s.key(ZONE), [
        Entry("www.example.com. A", answer=[line, Z]),
    ], "ns.example.com.: example.com.; the DNSKEY set's RRSIG expired ten days ago",
        dnskey_sigs=[sig_at(s, ZONE, key_line, now() - 40 * DAY, now() - 10 * DAY)])
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR", [line],
                match="opcode qname qtype rcode flags")
    write("val2_bad_dnskey_not_hardened_insecure", [
        "unbound.conf(5) harden-dnssec-stripped: 'If turned off, and no DNSSEC data is",
        "received (or the DNSKEY data fails to validate), then the zone is made insecure'.",
        "With it off, the anchored zone's DNSKEY set whose only signature expired cannot",
        "be primed (Unbound's primeResponseToKE) and the zone is insecure: NOERROR, no AD."],
        "harden-dnssec-stripped: no, DNSKEY failing: insecure", s, body,
        extra=["harden-dnssec-stripped: no", f'trust-anchor: "{s.ds_line(ZONE)}"'],
        root_anchor=False)


def ds_digest(digest: str, name: str, cite: list[str], title: str) -> None:
    s = Signer()
    ds = dns.dnssec.make_ds(dns.name.from_text(ZONE), s.key(ZONE)[1], digest, validating=True)
    body = path(s, [f"{ZONE} 3600 IN DS {ds.to_text()}"]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    write(name, cite, title, s, body)


def ds_sha384() -> None:
    ds_digest("SHA384", "val2_ds_sha384_only", [
        "RFC 6605 §2 / RFC 8624 §3.3 (SHA-384, digest type 4, MAY/RECOMMENDED to validate):",
        "a DS set with only a SHA-384 digest of the key authenticates it: AD."],
        "A SHA-384 DS authenticates the key")


def ds_sha1_only() -> None:
    ds_digest("SHA1", "val2_ds_sha1_only", [
        "RFC 4034 §5.1.4 / RFC 8624 §3.3 (SHA-1 DS: MUST validate): a DS set with only a",
        "SHA-1 digest of the key authenticates it (Unbound validates SHA-1 DS): AD."],
        "A SHA-1-only DS authenticates the key")


# -- fourth batch: more of the message checked, serial-number time, opt-out DS NODATA -------

def positive_unsigned_soa() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.66"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, Z], authority=[SOA]),
    ], "ns.example.com.: example.com.; www's answer carries the zone's SOA without RRSIG",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_positive_with_unsigned_soa", [
        "RFC 4035 §5 and Unbound's validate_msg_signatures ('If anything in the authority",
        "section fails to be secure, we have a bad message'; only unsigned NS RRsets are",
        "removed first, remove_spurious_authority): a positive answer of a signed zone with",
        "an unsigned SOA beside it is bogus: SERVFAIL (as Unbound 1.17.1 answers it)."],
        "A positive answer with an unsigned SOA in the authority section: SERVFAIL", s, body)


def serial_arithmetic_window() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.67"
    sig = sig_at(s, ZONE, line, now() - 30 * DAY, now() + 2**31 + 10 * DAY)
    body = path(s) + zone_server(s, [Entry("www.example.com. A", answer=[line, sig])],
                                 "ns.example.com.: example.com.; www's RRSIG expires more "
                                 "than 2^31 seconds after its inception", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_rrsig_window_serial_arithmetic", [
        "RFC 4034 §3.1.5: 'all comparisons involving these fields MUST use \"Serial number",
        "arithmetic\", as defined in [RFC1982]'; an Expiration more than 2^31 seconds after",
        "the Inception is, in serial arithmetic, before it (Unbound's check_dates,",
        "compare_1982: 'inception after expiration'): bogus, SERVFAIL."],
        "An RRSIG window longer than 2^31 seconds is inverted in serial arithmetic", s, body)


def ds_nodata_optout() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A"}, flags=1)
    proof = unique([chain.match(ZONE), chain.cover("sub.example.com.")])
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; sub.example.com. (an unsigned "
       "delegation) has no NSEC3", apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "sub.example.com. DS", "QR RD RA DO NOERROR")
    write("val2_ds_nodata_optout_no_ad", [
        "RFC 5155 §8.6 (erratum 3441) and §6: a DS NODATA whose next closer name is covered by",
        "an opt-out NSEC3 proves only an insecure delegation, not the absence of a signed",
        "one: the NODATA is insecure, NOERROR without AD."],
        "A DS NODATA proven by an opt-out NSEC3: no AD", s, body)


def root_dnskey_question() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, ". DNSKEY", "QR RD RA AD DO NOERROR", [s.dnskey_line(".", 86400).replace(
        " 86400 ", " 3600 ", 1), "SIG ."], s, match="opcode qname qtype rcode flags")
    write("val2_root_dnskey_question", [
        "RFC 4035 §5 and unbound.conf(5) trust-anchor: the DNSKEY RRset at the trust anchor,",
        "authenticated by the anchor's DS and self-signed, is secure when asked for: AD."],
        "The anchored root's DNSKEY RRset asked for: secure", s, body)


def rrsig_covers_other_type() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.68"
    txt_sig = s.sign(ZONE, ['www.example.com. 3600 IN TXT "other"'])
    body = path(s) + zone_server(s, [Entry("www.example.com. A", answer=[line, txt_sig])],
                                 "ns.example.com.: example.com.; www's A comes with the RRSIG "
                                 "over its TXT only", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_rrsig_covers_other_type", [
        "RFC 4035 §5.3.1: 'The RRSIG RR's Type Covered field MUST equal the RRset's type'; an",
        "A RRset whose only RRSIG covers TXT has no signature: bogus, SERVFAIL."],
        "An RRSIG covering another type does not sign the RRset", s, body)


def any_one_rrset_bogus() -> None:
    s = Signer()
    a_line = "www.example.com. 3600 IN A 192.0.2.69"
    txt_line = 'www.example.com. 3600 IN TXT "tampered"'
    answer = [a_line, Z, txt_line,
              failing_sig(s, ZONE, 'www.example.com. 3600 IN TXT "signed"')]
    body = path(s) + zone_server(s, [Entry("www.example.com. ANY", answer=answer)],
                                 "ns.example.com.: example.com.; www ANY: the A is signed, the "
                                 "TXT's RRSIG fails", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. ANY", "QR RD RA DO SERVFAIL")
    write("val2_any_one_rrset_bogus", [
        "RFC 4035 §5: every RRset of an ANY answer is validated; one failing makes the answer",
        "bogus: SERVFAIL."],
        "An ANY answer with one bogus RRset: SERVFAIL", s, body)


# -- fifth batch: opt-out beside positive proofs, DNAME in NSEC, DS key tags, key TTL 0 ------

def nsec3_optout_wildcard_answer() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A", "w.example.com.": "",
                              "*.w.example.com.": "A"}, flags=1)
    answer = ["x.w.example.com. 3600 IN A 192.0.2.71", "SIG example.com. *.w.example.com."]
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", answer=answer,
              authority=unique([chain.cover("x.w.example.com.")])),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; *.w.example.com. A",
        apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "x.w.example.com. A", "QR RD RA DO NOERROR", answer, s)
    write("val2_nsec3_optout_wildcard_answer", [
        "RFC 5155 §8.8 and §9.2: a wildcard answer needs an NSEC3 covering the next closer",
        "name; an opt-out NSEC3 covering it cannot rule out an unsigned delegation there, so",
        "the expansion is not proven secure: the answer is insecure, NOERROR without AD (as",
        "Unbound 1.17.1 answers it)."],
        "A wildcard answer whose next closer name is covered by opt-out: insecure", s, body)


def nsec3_optout_matching_nodata() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A"}, flags=1)
    body = path(s) + zone_server(s, [
        Entry("www.example.com. TXT", authority=[SOA, Z,
                                                 *unique([chain.match("www.example.com.")])]),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; www has A only",
        apex_proof=unique([chain.match(ZONE)]))
    body += ask(10, "www.example.com. TXT", "QR RD RA AD DO NOERROR")
    write("val2_nsec3_optout_matching_nodata", [
        "RFC 5155 §8.5: a NODATA is proven by the NSEC3 matching the name, its bitmap without",
        "the type; the Opt-Out flag matters only for covering records (§8.6): secure, AD."],
        "A NODATA proven by a matching NSEC3 with the Opt-Out flag: secure", s, body)


def nxdomain_below_dname() -> None:
    s = Signer()
    dname_nsec = nsec("alias.example.com.", NS, "DNAME RRSIG NSEC")
    apex = nsec(ZONE, "alias.example.com.", "NS SOA RRSIG NSEC DNSKEY")
    body = path(s) + zone_server(s, [
        Entry("x.alias.example.com. A", reply="QR AA NXDOMAIN",
              authority=[SOA, Z, *dname_nsec, *apex]),
    ], "ns.example.com.: example.com., NSEC; alias.example.com. is a DNAME; its server "
       "answers a name below it NXDOMAIN, with the DNAME's NSEC", apex_proof=apex)
    body += ask(10, "x.alias.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_nxdomain_below_dname_nsec", [
        "RFC 6672 §5.3.2 and RFC 4035 §5.4: names below a DNAME are redirected, so an NSEC",
        "owned by the DNAME cannot prove they do not exist (Unbound's",
        "val_nsec_proves_name_error: no name error below a DNAME): bogus, SERVFAIL."],
        "An NXDOMAIN below a DNAME, proven by the DNAME's NSEC: SERVFAIL", s, body)


def ds_wrong_key_tag() -> None:
    s = Signer()
    words = s.ds_line(ZONE).split()
    words[4] = str((int(words[4]) + 1) % 65536)  # the digest is right, the key tag is not
    body = path(s, [" ".join(words)]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    write("val2_ds_wrong_key_tag", [
        "RFC 4035 §5.2: a DS authenticates the DNSKEY whose owner, algorithm, key tag and",
        "digest it matches; a DS with the right digest but another key tag matches no key",
        "(Unbound's verify_dnskeys_with_ds_rr compares the tag first): bogus, SERVFAIL."],
        "A DS whose key tag is wrong matches no key: SERVFAIL", s, body)


def ds_two_one_matching() -> None:
    s = Signer()
    real = s.ds_line(ZONE).split()
    stray = " ".join(real[:4] + ["4242", real[5], real[6], "AB" * 32])
    body = path(s, [stray, s.ds_line(ZONE)]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    write("val2_ds_set_one_matching", [
        "RFC 4035 §5.2: the DNSKEY RRset is authenticated when one DS of the set matches a",
        "key that signs it; a second DS (same algorithm and digest type) for a key not",
        "published does not matter: AD."],
        "A DS set with a stray DS beside the matching one: secure", s, body)


def unknown_algorithm_key_beside() -> None:
    s = Signer()
    ksk_private, ksk = s.key(ZONE)
    stray = f"{ZONE} 3600 IN DNSKEY 256 3 253 {'AAEC' * 8}"
    keys = [s.dnskey_line(ZONE), stray]
    line = "www.example.com. 3600 IN A 192.0.2.72"
    a = [line, sign_with(ksk_private, ksk, ZONE, [line])]
    body = path(s) + keyed_zone(s, [], s.key(ZONE), [Entry("www.example.com. A", answer=a)],
                                "ns.example.com.: example.com.; its DNSKEY set also holds a "
                                "key of a private algorithm (253)",
                                dnskey_sigs=[sign_with(ksk_private, ksk, ZONE, keys)])
    body = body.replace(f"{s.dnskey_line(ZONE)}\n", f"{s.dnskey_line(ZONE)}\n{stray}\n", 1)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", a, s)
    write("val2_unknown_algorithm_key_beside", [
        "RFC 4035 §5.2 and RFC 6840 §5.2: keys of algorithms the validator does not know are",
        "ignored; the DNSKEY set authenticated by the DS's key, the data signed by it: AD."],
        "A DNSKEY of an unknown algorithm beside the zone's key: secure", s, body)


def root_anchor_sha1() -> None:
    s = Signer()
    ds1 = dns.dnssec.make_ds(dns.name.root, s.key(".")[1], "SHA1", validating=True)
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    write("val2_anchor_ds_sha1", [
        "unbound.conf(5) trust-anchor ('a DS or DNSKEY RR') and RFC 4034 §5.1.4 / RFC 8624",
        "§3.3 (SHA-1 DS: MUST validate): a root anchor given as a SHA-1 DS authenticates the",
        "root's key: AD."],
        "A trust anchor given as a SHA-1 DS: secure", s, body,
        extra=[f'trust-anchor: ". 3600 IN DS {ds1.to_text()}"'], root_anchor=False)


# -- sixth batch: wildcard links of chains across zones, NSEC beside NSEC3 ------------------

def wildcard_cname_to_other_zone() -> None:
    s = Signer()
    cname = ["x.w.example.com. 3600 IN CNAME www.example.net.",
             "SIG example.com. *.w.example.com."]
    target = ["www.example.net. 3600 IN A 192.0.2.81", N]
    wild = nsec("*.w.example.com.", "www.example.com.", "CNAME RRSIG NSEC")
    body = three_zones(s) + zone_server(s, [
        Entry("x.w.example.com. A", answer=cname, authority=wild),
    ], "ns.example.com.: example.com., NSEC; *.w.example.com. is a CNAME to example.net.",
        apex_proof=APEX_NSEC)
    body += net_server(s, [Entry("www.example.net. A", answer=target)],
                       "ns.example.net.: example.net., signed")
    body += ask(10, "x.w.example.com. A", "QR RD RA AD DO NOERROR", [*cname, *target], s)
    write("val2_wildcard_cname_to_other_zone", [
        "RFC 4035 §5.3.4: the CNAME expanded from a wildcard is proven by the NSEC its own",
        "zone sent with it (Unbound's iterator keeps a wildcard CNAME's NSECs beside it while",
        "the chain goes on in another zone); the target validated in its zone: AD."],
        "A wildcard CNAME into another signed zone: its proof stays with it", s, body)


def wildcard_cname_two_hops() -> None:
    s = Signer()
    first = ["a.example.com. 3600 IN CNAME x.w.example.com.", Z]
    wild_cname = ["x.w.example.com. 3600 IN CNAME y.v.example.com.",
                  "SIG example.com. *.w.example.com."]
    wild_a = ["y.v.example.com. 3600 IN A 192.0.2.82", "SIG example.com. *.v.example.com."]
    apex = nsec(ZONE, "a.example.com.", "NS SOA RRSIG NSEC DNSKEY")
    a_nsec = nsec("a.example.com.", NS, "CNAME RRSIG NSEC")
    v_nsec = nsec("*.v.example.com.", "*.w.example.com.", "A RRSIG NSEC")
    w_nsec = nsec("*.w.example.com.", ZONE, "CNAME RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("a.example.com. A", answer=first, authority=[*a_nsec]),
        Entry("x.w.example.com. A", answer=wild_cname, authority=w_nsec),
        Entry("y.v.example.com. A", answer=wild_a, authority=v_nsec),
    ], "ns.example.com.: example.com., NSEC; a CNAME to x.w (from *.w, a CNAME to y.v), y.v "
       "from *.v; each answered on its own with its proof", apex_proof=apex)
    body += ask(10, "a.example.com. A", "QR RD RA AD DO NOERROR",
                [*first, *wild_cname, *wild_a], s)
    write("val2_cname_to_wildcard_cname_to_wildcard", [
        "RFC 4035 §5.3.4: each link of a chain expanded from a wildcard needs its own NSEC",
        "proof; a CNAME to a wildcard CNAME to a wildcard A, each answer with its proof, is",
        "secure: the three links, AD."],
        "A CNAME, a wildcard CNAME, a wildcard A: each proven, secure", s, body)


def nsec_proof_beside_nsec3() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A"})
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN",
              authority=[SOA, Z, *APEX_NSEC, *unique([chain.match(ZONE)])]),
    ], "ns.example.com.: example.com.; its NXDOMAIN carries the NSEC proof and, beside it, "
       "a signed NSEC3 record", apex_proof=APEX_NSEC)
    body += ask(10, "nothere.example.com. A", "QR RD RA AD DO NXDOMAIN")
    write("val2_nsec_proof_beside_nsec3", [
        "RFC 4035 §5.4 and Unbound's validate_nameerror_response (NSEC first, NSEC3 when NSEC",
        "does not prove it): an NXDOMAIN whose NSECs prove the name error is secure even with",
        "a validly signed NSEC3 beside them: NXDOMAIN, AD."],
        "An NSEC name error proof beside a signed NSEC3: secure", s, body)


# -- written after the fixes (a guard, not counted in the held-out figures) -----------------

def positive_signed_soa_not_sent() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.83"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, Z], authority=[SOA, Z]),
    ], "ns.example.com.: example.com.; www's answer carries the zone's signed SOA",
        apex_proof=APEX_NSEC)
    body += query(10, "www.example.com. A", "RD DO") + "\n" + check(
        11, "www.example.com. A", "QR RD RA AD DO NOERROR", [line, Z],
        match="opcode qname qtype rcode flags answer authority", signer=s) + "\n"
    write("val2_positive_signed_soa_not_sent", [
        "RFC 4035 §5 and Unbound's validate_msg_signatures: the signed SOA beside a positive",
        "answer is validated (it is fine) and not passed on: Unbound 1.17.1 answers with the",
        "A and its RRSIG, AD, and an empty authority section (minimal-responses: no)."],
        "A signed SOA beside a positive answer: checked, not sent on", s, body)


def main() -> None:
    for build in (cname_secure_to_bogus, cname_insecure_to_bogus, cname_secure_insecure_secure,
                  cname_to_nodata_same_zone, dname_secure_to_bogus,
                  wildcard_cname_nxdomain_nsec, wildcard_cname_nodata_nsec3,
                  wildcard_cname_nxdomain_nsec3, soa_at_apex, ad_flag_nxdomain,
                  nxdomain_cached, ds_nodata_cached, insecure_proof_reused,
                  anchor_dnskey_nxdomain, anchor_below_insecure_delegation,
                  signer_outside_zone, ede_expired, ede_not_yet_valid, ede_dnskey_missing,
                  ede_bad_signature, keytag_collision, ds_for_zsk_without_sep,
                  dnskey_two_sigs_one_bad, dnskey_sig_expired, ds_bad_signature,
                  owner_case_differs, nsec_ent_nodata, bogus_nsec_in_positive,
                  ds_query_below_signed_cut, dnskey_query_not_apex,
                  nsec3_referral_insecure, wildcard_but_name_exists,
                  two_algorithm_zone_one_signs_data, nsec3_upper_case_owner,
                  nsec3_wraparound_nxdomain, nsec_wraparound_nxdomain, unsigned_dname,
                  skew_expired, skew_inception, skew_max_lowered,
                  stripped_dnskey_not_hardened, bad_dnskey_not_hardened, ds_sha384,
                  ds_sha1_only, positive_unsigned_soa,
                  serial_arithmetic_window, ds_nodata_optout, root_dnskey_question,
                  rrsig_covers_other_type, any_one_rrset_bogus, nsec3_optout_wildcard_answer,
                  nsec3_optout_matching_nodata, nxdomain_below_dname, ds_wrong_key_tag,
                  ds_two_one_matching, unknown_algorithm_key_beside,
                  root_anchor_sha1, wildcard_cname_to_other_zone, wildcard_cname_two_hops,
                  nsec_proof_beside_nsec3, positive_signed_soa_not_sent):
        build()


if __name__ == "__main__":
    main()
