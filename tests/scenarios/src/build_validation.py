"""Write tests/scenarios/testbound/validation/: testbound-dialect scenarios for the
validator's rules (issue 16 part 3, sixth round, helper "valgen"), written from the RFCs and
Unbound's documented/coded behaviour before any resolver change.

Every scenario validates: the root's DS is the trust anchor, the root, com. and example.com.
are signed (Ed25519, ``rpl.Signer``), ``val-override-date`` is ``rpl.DATE``.  Each file
checks one rule, named with its source in the file's comment.  The topology (root at
127.7.0.1, com. at 127.7.1.1, example.com. at 127.7.2.1, sub.example.com. at 127.7.2.2) is
written here, not copied from Unbound's testdata.  Run: ``python
tests/scenarios/src/build_validation.py`` to write the scenarios not yet written,
``--rebuild`` to write them all again (new keys).
"""

from __future__ import annotations

import calendar
import sys
import time
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdata
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

sys.path.insert(0, str(Path(__file__).parent))

from build import soa  # noqa: E402
from build_generalise import signed_path  # noqa: E402
from rpl import (  # noqa: E402
    DATE,
    Entry,
    Nsec3Chain,
    Signer,
    catch_all,
    check,
    expand,
    query,
    range_,
    root_range,
    rr,
    sub,
    tld_range,
)

OUT = Path(__file__).parents[1] / "testbound" / "validation"
ZONE, NS, ADDR, SUB_ADDR = "example.com.", "ns.example.com.", "127.7.2.1", "127.7.2.2"
Z = f"SIG {ZONE}"
SOA = soa(ZONE, NS)
SERVFAIL_ONLY = "opcode qname qtype rcode"
DAY = 86400


def header(s: Signer, extra: list[str] | None = None, root_anchor: bool = True) -> str:
    anchor = [f'\ttrust-anchor: "{s.ds_line(".")}"'] if root_anchor else []
    lines = ["server:", *anchor, f'\tval-override-date: "{DATE}"',
             '\ttarget-fetch-policy: "0 0 0 0 0"', '\tqname-minimisation: "no"',
             "\tdo-ip6: no", "\tdo-not-query-localhost: no"]
    extra = extra or []
    if not any(x.startswith("minimal-responses:") for x in extra):
        lines.append("\tminimal-responses: no")
    lines += [f"\t{x}" for x in extra]
    lines += ["stub-zone:", '\tname: "."', "\tstub-addr: 127.7.0.1", "CONFIG_END", ""]
    return "\n".join(lines) + "\n"


def scenario(name: str, cite: list[str], title: str, s: Signer, body: str,
             extra: list[str] | None = None, root_anchor: bool = True,
             out: Path = OUT) -> None:
    text = (f"; {name}: written for shadowdns (issue 16 part 3), not Unbound's testdata\n"
            + "".join(f"; {c}\n" for c in cite) + header(s, extra, root_anchor)
            + f"SCENARIO_BEGIN {title}\n\n" + body + "SCENARIO_END\n")
    out.mkdir(parents=True, exist_ok=True)
    if (out / f"{name}.rpl").exists() and "--rebuild" not in sys.argv:
        return  # written files stay (their keys and signatures) unless asked to rebuild
    (out / f"{name}.rpl").write_text(text)


def zone_server(s: Signer, entries: list[Entry | str], comment: str, addr: str = ADDR,
                zone: str = ZONE, ns: str = NS, apex_proof: list[str] | None = None,
                last: int = 1000) -> str:
    """The signed zone's server: DNSKEY, NS, the nameserver's address, the given entries,
    and (``apex_proof``: the records proving it) a NODATA for anything else."""
    z = f"SIG {zone}"
    base: list[Entry | str] = [
        Entry(f"{zone} DNSKEY", answer=[s.dnskey_line(zone), z]),
        Entry(f"{zone} NS", answer=[f"{zone} 3600 IN NS {ns}", z]),
        Entry(f"{ns} A", answer=[f"{ns} 3600 IN A {addr}", z]),
    ]
    rest = [sub(f"{zone} A", "QR AA NOERROR",
                authority=[soa(zone, ns), z, *(apex_proof or [])])]
    return range_(0, last, [addr], base + entries + rest, s, comment)


def path(s: Signer, example_ds: list[str] | None = None) -> str:
    """The signed root and com.; example.com. delegated with its DS (or ``example_ds``)."""
    if example_ds is None:
        return signed_path(s, ZONE, ADDR)
    return root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s) + com_server(
        s, example_ds)


def com_server(s: Signer, ds_lines: list[str]) -> str:
    c = "SIG com."
    com_soa = soa("com.", "ns.nic.com.")
    return range_(0, 1000, ["127.7.1.1"], [
        Entry("com. NS", answer=["com. 86400 IN NS ns.nic.com.", c],
              additional=["ns.nic.com. 86400 IN A 127.7.1.1"]),
        Entry("ns.nic.com. A", answer=["ns.nic.com. 86400 IN A 127.7.1.1", c]),
        Entry("com. DNSKEY", answer=[s.dnskey_line("com."), c]),
        Entry(f"{ZONE} DS", answer=[*ds_lines, c]),
        sub(f"{ZONE} NS", authority=[f"{ZONE} 3600 IN NS {NS}", *ds_lines, c],
            additional=[f"{NS} 3600 IN A {ADDR}"]),
        catch_all("QR AA NXDOMAIN", authority=[com_soa]),
    ], s, "ns.nic.com.: com., signed")


def sig_at(s: Signer, zone: str, line: str, inception: int, expiration: int) -> str:
    """An RRSIG over the one-record RRset ``line`` with the given validity window."""
    private, dnskey = s.key(zone)
    rrset = rr(line)
    sig = dns.dnssec.sign(rrset, private, dns.name.from_text(zone), dnskey,
                          inception=inception, expiration=expiration)
    return f"{rrset.name} {rrset.ttl} IN RRSIG {sig.to_text()}"


def now() -> int:
    return calendar.timegm(time.strptime(DATE, "%Y%m%d%H%M%S"))


def ask(step: int, question: str, reply: str, answer: list[str] | None = None,
        s: Signer | None = None, flags: str = "RD DO", match: str | None = None) -> str:
    if match is None:
        match = SERVFAIL_ONLY if "SERVFAIL" in reply else \
            "opcode qname qtype rcode flags answer"
    return query(step, question, flags) + "\n" + check(step + 1, question, reply, answer,
                                                       match=match, signer=s) + "\n"


# -- NSEC3 (RFC 5155) ------------------------------------------------------------------------

def nsec3_ent_nodata() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "ent.example.com.": "", "host.ent.example.com.": "A"})
    body = path(s) + zone_server(s, [
        Entry("ent.example.com. A", authority=[SOA, Z, chain.match("ent.example.com."), Z]),
        Entry("ns.example.com. AAAA", authority=[SOA, Z, chain.match(NS), Z]),
    ], "ns.example.com.: example.com., NSEC3; ent.example.com. is an empty non-terminal",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "ent.example.com. A", "QR RD RA AD DO NOERROR")
    scenario("val_rule_nsec3_ent_nodata", [
        "RFC 5155 §7.2.3/§8.5 and Appendix B.2.1: a NODATA for an empty non-terminal is",
        "proven by the NSEC3 matching its hash, whose type bitmap is empty: secure (AD)."],
        "NSEC3 NODATA for an empty non-terminal is secure", s, body)


def nsec3_optout_insecure() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A"}, flags=1)
    proof = [chain.match(ZONE), Z, chain.cover("sub.example.com."), Z]
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
        sub("sub.example.com. A", reply="QR NOERROR",
            authority=["sub.example.com. 3600 IN NS ns.sub.example.com.", *proof],
            additional=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; sub.example.com. is an unsigned "
       "delegation inside an opt-out span", apex_proof=[chain.match(ZONE), Z])
    body += range_(0, 1000, [SUB_ADDR], [
        Entry("www.sub.example.com. A", answer=["www.sub.example.com. 3600 IN A 192.0.2.7"]),
        Entry("sub.example.com. NS", answer=["sub.example.com. 3600 IN NS ns.sub.example.com."]),
        Entry("ns.sub.example.com. A", answer=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
        sub("sub.example.com. A", "QR AA NOERROR", authority=[
            "sub.example.com. 3600 IN SOA ns.sub.example.com. h.sub.example.com. 1 2 3 4 300"]),
    ], comment="ns.sub.example.com.: sub.example.com., unsigned")
    body += ask(10, "www.sub.example.com. A", "QR RD RA DO NOERROR",
                ["www.sub.example.com. 3600 IN A 192.0.2.7"])
    scenario("val_rule_nsec3_optout_insecure_delegation", [
        "RFC 5155 §6 and §8.9 (Appendix B.3): a referral whose NSEC3 proof is the closest",
        "encloser's match and an opt-out NSEC3 covering the next closer name proves an",
        "insecure delegation; the child's unsigned answer is insecure: no AD (RFC 4035 §3.2.3)."],
        "Opt-out NSEC3 proves an insecure delegation: the answer has no AD", s, body)


def nsec3_nx_no_wildcard_denial() -> None:
    s = Signer()
    names = {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A", "www.example.com.": "A",
             "mail.example.com.": "A", "ftp.example.com.": "A", "db.example.com.": "A"}
    # a salt for which the apex's own NSEC3 does not also cover the wildcard's hash
    chain = next(c for c in (Nsec3Chain(ZONE, names, salt=salt) for salt in
                             ("AABBCCDD", "0102", "CAFE", "BEEF", "F00D", "1234"))
                 if c.cover("*.example.com.") != c.match(ZONE))
    wild = chain.cover("*.example.com.")
    qname = next(q for q in (f"{c}.example.com." for c in "abcdefghijklmnopqrstuvwxyz")
                 if q not in names and chain.cover(q) != wild)
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, chain.match(ZONE), Z, chain.cover(qname), Z]),
    ], "ns.example.com.: example.com., NSEC3; the NXDOMAIN lacks the wildcard's denial",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_nxdomain_without_wildcard_denial", [
        "RFC 5155 §8.4: a name error needs the closest encloser proof and an NSEC3 covering",
        "the wildcard at the closest encloser; without the latter the NXDOMAIN is bogus",
        "(SERVFAIL), Unbound's nsec3_do_prove_nameerror."],
        "NSEC3 NXDOMAIN without the wildcard's denial is bogus", s, body)


def nsec3_wildcard_no_next_closer() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "*.example.com.": "A"})
    body = path(s) + zone_server(s, [
        Entry("host.example.com. A",
              answer=["host.example.com. 3600 IN A 192.0.2.80",
                      "SIG example.com. *.example.com."]),
    ], "ns.example.com.: example.com., NSEC3, *.example.com.; the expansion comes without "
       "the NSEC3 covering the next closer name", apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "host.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_wildcard_without_next_closer", [
        "RFC 5155 §8.8 and RFC 4035 §5.3.4: an answer expanded from a wildcard (RRSIG labels",
        "fewer than the owner's) needs an NSEC3 covering the next closer name; without it",
        "the answer is bogus (SERVFAIL)."],
        "A wildcard expansion without the next closer's NSEC3 is bogus", s, body)


def nsec3_iterations_high() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A", "mail.example.com.": "A"},
                       iterations=200)
    qname = "nothere.example.com."
    proof = {chain.match(ZONE), chain.cover(qname), chain.cover("*.example.com.")}
    auth = [SOA, Z]
    for line in sorted(proof):
        auth += [line, Z]
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=auth),
    ], "ns.example.com.: example.com., NSEC3 with 200 iterations",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA DO NXDOMAIN")
    scenario("val_rule_nsec3_iterations_above_limit", [
        "RFC 9276 §3.2: validators may treat NSEC3 with more iterations than their limit as",
        "insecure; Unbound's val-nsec3-keysize-iterations default is 150 (unbound.conf(5)),",
        "so an NXDOMAIN proven with 200 iterations is insecure: NXDOMAIN without AD."],
        "NSEC3 with iterations above the limit: the NXDOMAIN is insecure", s, body)


# -- NSEC (RFC 4035, RFC 6840) ---------------------------------------------------------------

def nsec(owner: str, nxt: str, types: str) -> list[str]:
    return [f"{owner} 3600 IN NSEC {nxt} {types}", Z]


APEX_NSEC = nsec(ZONE, NS, "NS SOA RRSIG NSEC DNSKEY")


def nsec_parent_side_nodata() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. A", authority=[
            SOA, Z, *nsec("sub.example.com.", "www.example.com.", "NS DS RRSIG NSEC")]),
    ], "ns.example.com.: example.com., NSEC; it answers a question for the delegated "
       "sub.example.com. with NODATA and the parent-side NSEC", apex_proof=APEX_NSEC)
    body += ask(10, "sub.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec_parent_side_nodata", [
        "RFC 6840 §4.4 and RFC 4035 §5.4: an NSEC at a delegation point (NS set, no SOA) is",
        "the parent's; it proves nothing about the child's data other than DS.  A NODATA",
        "for type A proven only by it is bogus (Unbound's nsec_proves_nodata)."],
        "A parent-side NSEC does not prove NODATA for the child's data", s, body)


def nsec_nx_below_delegation() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.sub.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, *nsec("sub.example.com.", "www.example.com.", "NS DS RRSIG NSEC"),
            *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC; an NXDOMAIN below the delegation "
       "sub.example.com. proven with the delegation's NSEC", apex_proof=APEX_NSEC)
    body += ask(10, "www.sub.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec_ancestor_delegation_no_nxdomain", [
        "RFC 6840 §4.1: an NSEC with the NS bit set and the SOA bit clear is from an ancestor",
        "delegation and must not be used to prove that names below it do not exist",
        "(Unbound's val_nsec_proves_name_error); such an NXDOMAIN is bogus: SERVFAIL."],
        "An ancestor delegation's NSEC does not deny names below it", s, body)


def nsec_multilabel_wildcard() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("a.b.w.example.com. A",
              answer=["a.b.w.example.com. 3600 IN A 192.0.2.33",
                      "SIG example.com. *.w.example.com."],
              authority=nsec("*.w.example.com.", "www.example.com.", "A RRSIG NSEC")),
    ], "ns.example.com.: example.com., NSEC, *.w.example.com.", apex_proof=APEX_NSEC)
    body += ask(10, "a.b.w.example.com. A", "QR RD RA AD DO NOERROR",
                ["a.b.w.example.com. 3600 IN A 192.0.2.33", "SIG example.com. *.w.example.com."],
                s)
    scenario("val_rule_nsec_wildcard_two_labels", [
        "RFC 4035 §5.3.4 and RFC 4592: a wildcard expanded two labels deep (RRSIG labels 3 for",
        "a 5-label owner) is secure with an NSEC covering the next closer name b.w.example.com.",
        "(Unbound's val_nsec_proves_positive_wildcard): AD."],
        "A wildcard expanded two labels deep, with its NSEC, is secure", s, body)


def nsec_ds_nodata_unsigned_delegation() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[
            SOA, Z, *nsec("sub.example.com.", "www.example.com.", "NS RRSIG NSEC")]),
    ], "ns.example.com.: example.com., NSEC; sub.example.com. is delegated without DS",
        apex_proof=APEX_NSEC)
    body += ask(10, "sub.example.com. DS", "QR RD RA AD DO NOERROR")
    scenario("val_rule_ds_query_unsigned_delegation", [
        "RFC 4035 §5.4/§3.1.4.1 and RFC 6840 §4.4: a DS question is answered by the parent; the",
        "parent-side NSEC at the delegation (NS, no DS, no SOA) proves there is no DS: a",
        "secure NODATA, AD set (Unbound's val_nsec_prove_nodata_dsreply)."],
        "DS question for an unsigned delegation: secure NODATA", s, body)


def aggressive_nsec() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("a.example.com. A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *APEX_NSEC]),
        Entry("m.example.com. A", answer=["m.example.com. 3600 IN A 192.0.2.99", Z]),
    ], "ns.example.com.: example.com., NSEC (apex -> ns); it would answer m.example.com. "
       "(inside the NSEC span) if asked", apex_proof=APEX_NSEC)
    body += ask(10, "a.example.com. A", "QR RD RA AD DO NXDOMAIN")
    body += ask(20, "m.example.com. A", "QR RD RA AD DO NXDOMAIN")
    scenario("val_rule_aggressive_nsec_nxdomain", [
        "RFC 8198 §5.1/§5.3 and unbound.conf(5) aggressive-nsec ('uses the DNSSEC NSEC chain to",
        "synthesize NXDOMAIN'): a validated NSEC that covers a name and the wildcard at the",
        "closest encloser answers a later question for that name from the cache: NXDOMAIN, AD."],
        "Aggressive use of a cached NSEC synthesises an NXDOMAIN", s, body,
        extra=["aggressive-nsec: yes"])


# -- DNAME (RFC 6672) ------------------------------------------------------------------------

def dname_signed() -> None:
    s = Signer()
    answer = ["alias.example.com. 300 IN DNAME target.example.com.", Z,
              "www.alias.example.com. 300 IN CNAME www.target.example.com.",
              "www.target.example.com. 3600 IN A 192.0.2.44", Z]
    body = path(s) + zone_server(s, [
        Entry("www.alias.example.com. A", answer=answer),
        Entry("www.target.example.com. A", answer=answer[3:]),
    ], "ns.example.com.: example.com., NSEC, alias.example.com. DNAME target.example.com.",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.alias.example.com. A", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_dname_signed_cname_synthesised", [
        "RFC 6672 §5.3.1 and RFC 4035 §3.2.3: the DNAME is signed, the CNAME synthesised from",
        "it is not (it is checked against the DNAME); with the signed target the answer is",
        "secure: AD, the DNAME, the CNAME and the target's A."],
        "A signed DNAME with its unsigned synthesised CNAME is secure", s, body)


# -- signatures (RFC 4035 §5.3) --------------------------------------------------------------

def rrsig_labels_wrong() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.10",
                                            "SIG example.com. x.www.example.com."]),
    ], "ns.example.com.: example.com.; www's RRSIG has labels 4 for a 3-label owner",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_rrsig_labels_above_owner", [
        "RFC 4035 §5.3.1: 'The number of labels in the RRset owner name MUST be greater than",
        "or equal to the value in the RRSIG RR's Labels field'; a signature breaking it is",
        "invalid and the only one: bogus, SERVFAIL."],
        "An RRSIG whose labels field exceeds the owner's labels is invalid", s, body)


def sig_window(name: str, inception: int, expiration: int, what: str, cite: str) -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.11"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, sig_at(s, ZONE, line, inception,
                                                         expiration)]),
    ], f"ns.example.com.: example.com.; www's only RRSIG {what}", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario(name, [cite, "val-override-date sets the validator's clock; the skew allowed",
                    "(val-sig-skew-max, one day by default) does not reach it: bogus, SERVFAIL."],
             f"An RRSIG that {what} is bogus", s, body)


def expired() -> None:
    sig_window("val_rule_rrsig_expired", now() - 40 * DAY, now() - 10 * DAY,
               "expired ten days ago",
               "RFC 4035 §5.3.1: 'The validator's notion of the current time MUST be less "
               "than or equal to the time listed in the RRSIG RR's Expiration field';")


def not_yet_valid() -> None:
    sig_window("val_rule_rrsig_not_yet_valid", now() + 10 * DAY, now() + 40 * DAY,
               "is valid from ten days from now",
               "RFC 4035 §5.3.1: 'The validator's notion of the current time MUST be greater "
               "than or equal to the time listed in the RRSIG RR's Inception field';")


# -- DS sets and algorithms (RFC 4035 §5.2, RFC 6840 §5.2/§5.11) -----------------------------

def signed_www(s: Signer) -> str:
    return zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.12", Z]),
    ], "ns.example.com.: example.com., signed", apex_proof=APEX_NSEC)


def ds_unknown_digest() -> None:
    s = Signer()
    real = s.ds_line(ZONE).split()
    unknown = " ".join(real[:6] + ["200", "AB" * 32])
    body = path(s, [unknown]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_ds_unknown_digest_insecure", [
        "RFC 4035 §5.2 and RFC 6840 §5.2: a DS set none of whose digest types the validator",
        "supports leaves no authentication path; the zone is treated as insecure (as a",
        "proven absence of DS), not bogus: the answer comes without AD."],
        "A DS with an unknown digest type only: the zone is insecure", s, body)


def ds_mixed_algorithms() -> None:
    s = Signer()
    fake = f"{ZONE} 3600 IN DS 4242 253 2 {'CD' * 32}"
    body = path(s, [s.ds_line(ZONE), fake]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_ds_supported_and_unsupported_algorithm", [
        "RFC 6840 §5.11 and RFC 4035 §5.2: when the DS set names a supported and an",
        "unsupported algorithm, the supported one is an authentication path; the zone signed",
        "with it validates: AD (harden-algo-downgrade is off by default, unbound.conf(5))."],
        "A DS set with a supported and an unsupported algorithm: secure", s, body)


# -- answer flags and sections (RFC 6840 §5.7-§5.9, unbound.conf(5)) -------------------------

def bogus_www(s: Signer) -> str:
    return zone_server(s, [
        Entry("www.example.com. A", answer=[
            "www.example.com. 3600 IN A 192.0.2.66",
            sig_at(s, ZONE, "www.example.com. 3600 IN A 192.0.2.1", now() - 30 * DAY,
                   now() + 30 * DAY)]),
    ], "ns.example.com.: example.com.; www's RRSIG was made over another address",
        apex_proof=APEX_NSEC)


def cd_bogus() -> None:
    s = Signer()
    body = path(s) + bogus_www(s)
    body += query(10, "www.example.com. A", "RD CD DO") + "\n"
    body += check(11, "www.example.com. A", "QR RD RA CD DO NOERROR",
                  match="opcode qname qtype rcode flags") + "\n"
    body += ask(20, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_cd_returns_bogus", [
        "RFC 4035 §3.2.2 and RFC 6840 §5.9: with CD set the resolver returns the data even",
        "when it is bogus, without AD; the same question without CD is SERVFAIL."],
        "CD=1 returns bogus data without AD; without CD it is SERVFAIL", s, body)


def ad_without_do() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12"], flags="RD")
    body += ask(20, "www.example.com. A", "QR RD RA AD NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12"], flags="RD AD")
    scenario("val_rule_ad_needs_do_or_ad", [
        "RFC 6840 §5.7/§5.8: the AD bit is set on secure data only when the query had DO or",
        "AD set (Unbound's reply_info_answer_encode: secure && (dnssec || qflags&AD)); RRSIGs",
        "are only sent with DO (RFC 4035 §3.2.1)."],
        "Secure data: no AD without DO or AD in the query, AD with AD", s, body)


def clean_additional() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("example.com. MX", answer=["example.com. 3600 IN MX 10 mail1.example.com.",
                                         "example.com. 3600 IN MX 20 mail2.example.com.", Z],
              additional=["mail1.example.com. 3600 IN A 192.0.2.21", Z,
                          "mail2.example.com. 3600 IN A 192.0.2.22"]),
    ], "ns.example.com.: example.com.; the MX answer's additional section holds a signed "
       "and an unsigned address", apex_proof=APEX_NSEC)
    answer = ["example.com. 3600 IN MX 10 mail1.example.com.",
              "example.com. 3600 IN MX 20 mail2.example.com.", Z]
    body += query(10, "example.com. MX", "RD DO") + "\n"
    body += ("STEP 11 CHECK_ANSWER\nENTRY_BEGIN\nMATCH opcode qname qtype rcode flags answer "
             "additional\nREPLY QR RD RA AD DO NOERROR\nSECTION QUESTION\nexample.com. IN MX\n"
             "SECTION ANSWER\n" + "\n".join(expand(s, answer)) + "\nSECTION ADDITIONAL\n"
             + "\n".join(expand(s, ["mail1.example.com. 3600 IN A 192.0.2.21", Z]))
             + "\nENTRY_END\n\n")
    scenario("val_rule_clean_additional_unsigned", [
        "unbound.conf(5) val-clean-additional (default yes): 'remove data from the additional",
        "section of secure messages that are not signed properly'; the signed address stays."],
        "A secure answer loses its unsigned additional RRset", s, body)


def ds_and_dnskey_queries() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "example.com. DS", "QR RD RA AD DO NOERROR", [s.ds_line(ZONE), "SIG com."],
                s)
    body += ask(20, "example.com. DNSKEY", "QR RD RA AD DO NOERROR", [s.dnskey_line(ZONE), Z],
                s)
    scenario("val_rule_ds_and_dnskey_questions", [
        "RFC 4035 §3.1.4.1/§4.2: a DS question is answered from the parent side of the cut,",
        "signed by the parent; a DNSKEY question by the zone, self-signed; both validated",
        "through the chain from the trust anchor: AD."],
        "DS and DNSKEY questions to a secure zone are secure", s, body)


# -- second batch: finer points of the same rules ---------------------------------------------

def nsec_nodata_bitmap_has_type() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", authority=[
            SOA, Z, *nsec("www.example.com.", ZONE, "A TXT RRSIG NSEC")]),
    ], "ns.example.com.: example.com., NSEC; a NODATA for www A whose NSEC lists A",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec_nodata_bitmap_has_qtype", [
        "RFC 4035 §5.4 and RFC 6840 §4.3: a NODATA is proven by the NSEC at the name whose",
        "bitmap lacks the type; an NSEC listing the asked type proves it exists: bogus, SERVFAIL."],
        "A NODATA whose NSEC lists the asked type is bogus", s, body)


def nsec3_ent_covered_not_matched() -> None:
    s = Signer()
    names = {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A", "ent.example.com.": "",
             "host.ent.example.com.": "A", "www.example.com.": "A"}
    chain = Nsec3Chain(ZONE, {k: v for k, v in names.items() if k != "ent.example.com."})
    body = path(s) + zone_server(s, [
        Entry("ent.example.com. A", authority=[SOA, Z, chain.cover("ent.example.com."), Z]),
    ], "ns.example.com.: example.com., NSEC3 chain without the empty non-terminal "
       "ent.example.com.: its NODATA comes with a covering NSEC3",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "ent.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_ent_nodata_covered", [
        "RFC 5155 §8.5 and Appendix B.2.1: NODATA needs the NSEC3 matching the name; an NSEC3",
        "covering its hash (the name would not exist) with no closest encloser proof is no",
        "proof of NODATA: bogus, SERVFAIL."],
        "NSEC3 NODATA for an empty non-terminal with a covering (not matching) NSEC3 is bogus",
        s, body)


def nsec3_optout_nxdomain() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A", "mail.example.com.": "A"}, flags=1)
    qname = "nothere.example.com."
    proof = {chain.match(ZONE), chain.cover(qname), chain.cover("*.example.com.")}
    auth = [SOA, Z]
    for line in sorted(proof):
        auth += [line, Z]
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=auth),
    ], "ns.example.com.: example.com., NSEC3 with opt-out", apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA DO NXDOMAIN")
    scenario("val_rule_nsec3_optout_nxdomain_no_ad", [
        "RFC 5155 §9.2 and §12.2.2: an opt-out NSEC3 covering the next closer name cannot",
        "prove that no insecure delegation exists there; the NXDOMAIN is insecure: no AD",
        "(Unbound: 'nsec3 nameerror proof: nc has optout')."],
        "An NXDOMAIN proven by an opt-out NSEC3 has no AD", s, body)


def nsec3_optout_ent_nodata() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A"}, flags=1)
    body = path(s) + zone_server(s, [
        Entry("ent.example.com. A", authority=[
            SOA, Z, chain.match(ZONE), Z, chain.cover("ent.example.com."), Z]),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; ent.example.com. is an empty "
       "non-terminal above an unsigned delegation, so it has no NSEC3",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "ent.example.com. A", "QR RD RA DO NOERROR")
    scenario("val_rule_nsec3_optout_ent_nodata", [
        "RFC 5155 §8.5 with erratum 3441 (and §8.6): a NODATA for a name with no NSEC3, whose",
        "next closer name is covered by an opt-out NSEC3 (the closest encloser matched), is",
        "insecure: NOERROR without AD."],
        "NODATA for an empty non-terminal in an opt-out span is insecure", s, body)


def nsec3_unknown_hash() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A", "mail.example.com.": "A"})
    qname = "nothere.example.com."
    proof = {chain.match(ZONE), chain.cover(qname), chain.cover("*.example.com.")}
    auth = [SOA, Z]
    for line in sorted(proof):
        auth += [line.replace(" NSEC3 1 ", " NSEC3 2 "), Z]
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=auth),
    ], "ns.example.com.: example.com., NSEC3 records with hash algorithm 2 (unknown)",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_unknown_hash_algorithm", [
        "RFC 5155 §8.1: 'Validators MUST ignore NSEC3 RRs that use unknown hash algorithms';",
        "with only such records the signed zone's NXDOMAIN has no proof left: bogus, SERVFAIL",
        "(as Unbound 1.17.1 answers it)."],
        "An NXDOMAIN with NSEC3 of an unknown hash algorithm only is bogus", s, body)


def anchor_extra_algorithm() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_anchor_two_algorithms", [
        "RFC 4035 §5.2/RFC 6840 §5.11: a trust anchor set naming two algorithms, of which the",
        "root's DNSKEY set has one, validates through that one (harden-algo-downgrade off by",
        "default, unbound.conf(5)): AD."],
        "Trust anchors for two algorithms, the zone signed with one: secure", s, body,
        extra=[f'trust-anchor: ". 3600 IN DS 4711 13 2 {"EF" * 32}"'])


def spurious_ns() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.12", Z],
              authority=["example.com. 3600 IN NS ns.evil.example.net."],
              additional=["ns.evil.example.net. 3600 IN A 192.0.2.250"]),
    ], "ns.example.com.: example.com.; a signed answer with an unsigned NS set in authority",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_unsigned_authority_ns", [
        "RFC 4035 §5.3 / RFC 6840 §5.2: an unsigned NS RRset in the authority section of a",
        "signed positive answer is not part of the answer; it is dropped and the answer stays",
        "secure (Unbound removes unsigned NS from authority): AD."],
        "A secure answer with an unsigned authority NS set stays secure", s, body)


def any_query() -> None:
    s = Signer()
    answer = ["www.example.com. 3600 IN A 192.0.2.12", Z,
              'www.example.com. 3600 IN TXT "hello"', Z]
    body = path(s) + zone_server(s, [Entry("www.example.com. ANY", answer=answer)],
                                 "ns.example.com.: example.com.; www has A and TXT",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. ANY", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_any_query_secure", [
        "RFC 4035 §5: every RRset of an ANY answer is validated; all signed: AD."],
        "An ANY answer whose RRsets are all signed is secure", s, body)


def cname_qtype() -> None:
    s = Signer()
    answer = ["alias.example.com. 3600 IN CNAME www.example.com.", Z]
    body = path(s) + zone_server(s, [Entry("alias.example.com. CNAME", answer=answer)],
                                 "ns.example.com.: example.com.; alias is a signed CNAME",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "alias.example.com. CNAME", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_cname_qtype_secure", [
        "RFC 1034 §3.6.2 and RFC 4035 §5: a question for type CNAME gets the CNAME itself,",
        "not followed; signed: AD."],
        "A question for type CNAME is answered with the signed CNAME", s, body)


def ds_unsigned_in_referral() -> None:
    s = Signer()
    c = "SIG com."
    ds = s.ds_line(ZONE)
    com = range_(0, 1000, ["127.7.1.1"], [
        Entry("com. NS", answer=["com. 86400 IN NS ns.nic.com.", c],
              additional=["ns.nic.com. 86400 IN A 127.7.1.1"]),
        Entry("ns.nic.com. A", answer=["ns.nic.com. 86400 IN A 127.7.1.1", c]),
        Entry("com. DNSKEY", answer=[s.dnskey_line("com."), c]),
        Entry(f"{ZONE} DS", answer=[ds, c]),
        sub(f"{ZONE} NS", authority=[f"{ZONE} 3600 IN NS {NS}", ds],
            additional=[f"{NS} 3600 IN A {ADDR}"]),
        catch_all("QR AA NXDOMAIN", authority=[soa("com.", "ns.nic.com.")]),
    ], s, "ns.nic.com.: com., signed; its referral carries the DS without its RRSIG")
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s) + com + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_referral_ds_without_rrsig", [
        "RFC 4035 §5.2: the DS RRset must be authenticated; a referral whose DS comes without",
        "its RRSIG does not make the zone bogus: the validator asks the parent for the DS",
        "(which is signed) and the chain holds: AD."],
        "A referral's DS without RRSIG: the DS is fetched and the answer is secure", s, body)


def cd_secure() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD CD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s, flags="RD CD DO")
    scenario("val_rule_cd_secure_keeps_ad", [
        "RFC 6840 §5.9: with CD set the resolver may still validate and report secure data",
        "with AD; Unbound validates every answer and sets AD for secure data when DO is set",
        "(reply_info_answer_encode), CD copied from the query."],
        "CD=1 for secure data: the answer carries AD and CD", s, body)


def nxdomain_without_do() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, *nsec(NS, "www.example.com.", "A RRSIG NSEC"), *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC", apex_proof=APEX_NSEC)
    body += query(10, "nothere.example.com. A", "RD") + "\n"
    body += ("STEP 11 CHECK_ANSWER\nENTRY_BEGIN\nMATCH opcode qname qtype rcode flags answer "
             "authority\nREPLY QR RD RA NXDOMAIN\nSECTION QUESTION\nnothere.example.com. IN A\n"
             f"SECTION AUTHORITY\n{SOA}\nENTRY_END\n\n")
    scenario("val_rule_nxdomain_without_do", [
        "RFC 4035 §3.2.1/§3.2.3: without DO the resolver sends no DNSSEC records (RRSIG, NSEC)",
        "and no AD (RFC 6840 §5.8): the validated NXDOMAIN carries the SOA alone."],
        "A secure NXDOMAIN to a query without DO: SOA only, no AD", s, body)


def non_zone_key() -> None:
    s = Signer()
    private = ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519,
                                    flags=0)
    s.zones[ZONE] = (private, dnskey)
    ds = dns.dnssec.make_ds(dns.name.from_text(ZONE), dnskey, "SHA256")
    body = path(s, [f"{ZONE} 3600 IN DS {ds.to_text()}"]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_dnskey_without_zone_bit", [
        "RFC 4034 §2.1.1: 'If bit 7 has value 0, then the DNSKEY record holds some other type",
        "of DNS public key and MUST NOT be used to verify RRSIGs that cover RRsets'; the zone's",
        "only key (flags 0, matched by the DS) verifies nothing: bogus, SERVFAIL."],
        "A DNSKEY without the Zone Key bit cannot verify signatures", s, body)


# -- third batch: chains across zones, configuration around anchors, aggressive NODATA -------

NET, NET_NS, NET_ADDR = "example.net.", "ns.example.net.", "127.7.3.1"
ORG_ADDR = "127.7.4.1"


def three_zones(s: Signer) -> str:
    """The signed root with com. and net. (signed, DS) and org. (no DS); example.com. and
    example.net. signed below them, example.org. unsigned."""
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds"),
                       "net.": ("ns.nic.net.", "127.7.1.2", "ds"),
                       "org.": ("ns.nic.org.", "127.7.1.3", "nods")}, s)
    body += tld_range("com.", "ns.nic.com.", "127.7.1.1",
                      {ZONE: ([NS], [f"{NS} A {ADDR}"])}, signer=s, ds={ZONE: "ds"})
    body += tld_range("net.", "ns.nic.net.", "127.7.1.2",
                      {NET: ([NET_NS], [f"{NET_NS} A {NET_ADDR}"])}, signer=s, ds={NET: "ds"})
    body += tld_range("org.", "ns.nic.org.", "127.7.1.3",
                      {"example.org.": (["ns.example.org."], [f"ns.example.org. A {ORG_ADDR}"])})
    return body


def cname_to_optout_insecure() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "CNAME"}, flags=1)
    proof = [chain.match(ZONE), Z, chain.cover("sub.example.com."), Z]
    cname = ["www.example.com. 3600 IN CNAME host.sub.example.com.", Z]
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=cname),
        Entry("sub.example.com. DS", authority=[SOA, Z, *proof]),
        sub("sub.example.com. A", reply="QR NOERROR",
            authority=["sub.example.com. 3600 IN NS ns.sub.example.com.", *proof],
            additional=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
    ], "ns.example.com.: example.com., NSEC3 with opt-out; www is a CNAME into the unsigned "
       "delegation sub.example.com.", apex_proof=[chain.match(ZONE), Z])
    body += range_(0, 1000, [SUB_ADDR], [
        Entry("host.sub.example.com. A", answer=["host.sub.example.com. 3600 IN A 192.0.2.8"]),
        Entry("sub.example.com. NS", answer=["sub.example.com. 3600 IN NS ns.sub.example.com."]),
        Entry("ns.sub.example.com. A", answer=[f"ns.sub.example.com. 3600 IN A {SUB_ADDR}"]),
        sub("sub.example.com. A", "QR AA NOERROR", authority=[
            "sub.example.com. 3600 IN SOA ns.sub.example.com. h.sub.example.com. 1 2 3 4 300"]),
    ], comment="ns.sub.example.com.: sub.example.com., unsigned")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                [*cname, "host.sub.example.com. 3600 IN A 192.0.2.8"], s)
    scenario("val_rule_cname_into_optout_delegation", [
        "RFC 5155 §8.9 and RFC 4035 §5: a signed CNAME whose target lies below an insecure",
        "delegation proven by an opt-out NSEC3 gives an insecure answer: the CNAME and the",
        "target's unsigned A, without AD (RFC 4035 §3.2.3: AD only if every RRset is secure)."],
        "A signed CNAME into an opt-out insecure delegation: insecure, answered", s, body)


def cname_to_other_zone_nx() -> None:
    s = Signer()
    n = "SIG example.net."
    cname = ["www.example.com. 3600 IN CNAME nothere.example.net.", Z]
    body = three_zones(s) + zone_server(s, [Entry("www.example.com. A", answer=cname)],
                                        "ns.example.com.: example.com.; www is a CNAME to "
                                        "example.net.", apex_proof=APEX_NSEC)
    net_soa = soa(NET, NET_NS)
    body += zone_server(s, [
        Entry("nothere.example.net. A", reply="QR AA NXDOMAIN", authority=[
            net_soa, n, f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", n]),
    ], "ns.example.net.: example.net., signed, NSEC", addr=NET_ADDR, zone=NET, ns=NET_NS,
        apex_proof=[f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", n])
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NXDOMAIN", cname, s)
    scenario("val_rule_cname_to_other_zone_nxdomain", [
        "RFC 4035 §5 and RFC 6604 §3: a signed CNAME to a name another signed zone proves",
        "absent (NSEC) is a secure NXDOMAIN: rcode NXDOMAIN (of the last name), the CNAME in",
        "the answer, AD."],
        "A signed CNAME to a securely denied name in another zone: secure NXDOMAIN", s, body)


def cname_to_unsigned_zone() -> None:
    s = Signer()
    cname = ["www.example.com. 3600 IN CNAME www.example.org.", Z]
    body = three_zones(s) + zone_server(s, [Entry("www.example.com. A", answer=cname)],
                                        "ns.example.com.: example.com.; www is a CNAME to "
                                        "example.org.", apex_proof=APEX_NSEC)
    body += range_(0, 1000, [ORG_ADDR], [
        Entry("www.example.org. A", answer=["www.example.org. 3600 IN A 192.0.2.9"]),
        Entry("example.org. NS", answer=["example.org. 3600 IN NS ns.example.org."]),
        Entry("ns.example.org. A", answer=[f"ns.example.org. 3600 IN A {ORG_ADDR}"]),
        sub("example.org. A", "QR AA NOERROR", authority=[soa("example.org.",
                                                              "ns.example.org.")]),
    ], comment="ns.example.org.: example.org., unsigned (org. has no DS)")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                [*cname, "www.example.org. 3600 IN A 192.0.2.9"], s)
    scenario("val_rule_cname_to_unsigned_zone", [
        "RFC 4035 §3.2.3/§5.2: a signed CNAME whose target is in a zone proven unsigned (the",
        "root's NSEC denies org.'s DS) gives an insecure answer: both records, no AD."],
        "A signed CNAME into a provably unsigned zone: insecure", s, body)


def aggressive_nodata() -> None:
    s = Signer()
    www_nsec = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.12", Z]),
        Entry("www.example.com. TXT", authority=[SOA, Z, *www_nsec]),
        Entry("www.example.com. MX", answer=["www.example.com. 3600 IN MX 10 www.example.com.",
                                             Z]),
    ], "ns.example.com.: example.com., NSEC; it would answer www MX if asked",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. TXT", "QR RD RA AD DO NOERROR")
    body += ask(20, "www.example.com. MX", "QR RD RA AD DO NOERROR")
    scenario("val_rule_aggressive_nsec_nodata", [
        "RFC 8198 §5.2 (and unbound.conf(5) aggressive-nsec): a cached, validated NSEC at a",
        "name whose bitmap lacks a type answers a later question for that type: NODATA, AD."],
        "Aggressive use of a cached NSEC synthesises a NODATA", s, body,
        extra=["aggressive-nsec: yes"])


def anchor_below_root() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    text_extra = [f'trust-anchor: "{s.ds_line(ZONE)}"']
    scenario("val_rule_anchor_below_root", [
        "unbound.conf(5) trust-anchor and RFC 4035 §4.3: an anchor for example.com. (beside",
        "the root's) is where the chain starts for names below it: the answer is secure, AD."],
        "A trust anchor for the zone itself, beside the root's: secure", s, body,
        extra=text_extra)


def domain_insecure() -> None:
    s = Signer()
    body = path(s) + bogus_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.66"],
                match="opcode qname qtype rcode flags")
    scenario("val_rule_domain_insecure_under_anchor", [
        "unbound.conf(5) domain-insecure: 'Sets domain name to be insecure, DNSSEC chain of",
        "trust is ignored towards the domain name'; a bad signature below it is not checked:",
        "the answer comes, without AD."],
        "domain-insecure below a trust anchor: bad signatures are not checked", s, body,
        extra=['domain-insecure: "example.com."'])


def anchor_dnskey() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    text = s.dnskey_line(".")
    scenario("val_rule_anchor_as_dnskey", [
        "unbound.conf(5) trust-anchor: 'a DS or DNSKEY RR'; the root's DNSKEY as the anchor",
        "verifies the root's DNSKEY RRset directly: AD."],
        "A DNSKEY trust anchor for the root: secure", s, body, extra=[f'trust-anchor: "{text}"'])


def nsec_qtype() -> None:
    s = Signer()
    www_nsec = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [Entry("www.example.com. NSEC", answer=www_nsec)],
                                 "ns.example.com.: example.com., NSEC", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. NSEC", "QR RD RA AD DO NOERROR", www_nsec, s)
    scenario("val_rule_nsec_qtype_secure", [
        "RFC 4035 §5 and RFC 4034 §4: a question for type NSEC is answered with the signed",
        "NSEC RRset at the name, validated like any RRset: AD."],
        "A question for type NSEC gets the signed NSEC: secure", s, body)


def cname_target_unsigned() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("alias.example.com. A", answer=[
            "alias.example.com. 3600 IN CNAME host.example.com.", Z,
            "host.example.com. 3600 IN A 192.0.2.16"]),
        Entry("host.example.com. A", answer=["host.example.com. 3600 IN A 192.0.2.16"]),
    ], "ns.example.com.: example.com.; alias is a signed CNAME to host, whose A comes "
       "without RRSIG", apex_proof=APEX_NSEC)
    body += ask(10, "alias.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_cname_target_unsigned", [
        "RFC 4035 §5: every RRset of the answer must validate; the CNAME's target in the same",
        "signed zone without RRSIG is bogus (missing signature): SERVFAIL."],
        "A signed CNAME whose same-zone target is unsigned is bogus", s, body)


def dname_to_other_zone() -> None:
    s = Signer()
    n = "SIG example.net."
    answer = ["alias.example.com. 300 IN DNAME example.net.", Z,
              "www.alias.example.com. 300 IN CNAME www.example.net."]
    body = three_zones(s) + zone_server(s, [Entry("www.alias.example.com. A", answer=answer)],
                                        "ns.example.com.: example.com.; alias DNAME "
                                        "example.net.", apex_proof=APEX_NSEC)
    body += zone_server(s, [
        Entry("www.example.net. A", answer=["www.example.net. 3600 IN A 192.0.2.17", n]),
    ], "ns.example.net.: example.net., signed", addr=NET_ADDR, zone=NET, ns=NET_NS,
        apex_proof=[f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", n])
    body += ask(10, "www.alias.example.com. A", "QR RD RA AD DO NOERROR",
                [*answer, "www.example.net. 3600 IN A 192.0.2.17", n], s)
    scenario("val_rule_dname_to_other_signed_zone", [
        "RFC 6672 §5.3: a signed DNAME redirecting into another signed zone, the synthesised",
        "CNAME checked against it, the target validated in its own zone: AD."],
        "A signed DNAME into another signed zone: secure", s, body)


def wildcard_cname() -> None:
    s = Signer()
    answer = ["x.w.example.com. 3600 IN CNAME www.example.com.",
              "SIG example.com. *.w.example.com.", "www.example.com. 3600 IN A 192.0.2.12", Z]
    body = path(s) + zone_server(s, [
        Entry("x.w.example.com. A", answer=answer,
              authority=nsec("*.w.example.com.", "www.example.com.", "CNAME RRSIG NSEC")),
        Entry("www.example.com. A", answer=answer[2:]),
    ], "ns.example.com.: example.com., NSEC; *.w.example.com. is a CNAME to www",
        apex_proof=APEX_NSEC)
    body += ask(10, "x.w.example.com. A", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_wildcard_cname_secure", [
        "RFC 4035 §5.3.4 and RFC 4592 §4.4: a CNAME expanded from a wildcard, with the NSEC",
        "denying the next closer name, then the target's signed A: AD."],
        "A CNAME expanded from a wildcard, with its NSEC proof: secure", s, body)


def nsec3_nodata_qtype_present() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A TXT"})
    body = path(s) + zone_server(s, [
        Entry("www.example.com. TXT", authority=[SOA, Z, chain.match("www.example.com."), Z]),
    ], "ns.example.com.: example.com., NSEC3; a NODATA for www TXT whose NSEC3 lists TXT",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "www.example.com. TXT", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_nodata_bitmap_has_qtype", [
        "RFC 5155 §8.5: a NODATA needs the matching NSEC3 with the type not set in its bitmap;",
        "the matching NSEC3 listing the asked type proves it exists: bogus, SERVFAIL."],
        "An NSEC3 NODATA whose matching NSEC3 lists the type is bogus", s, body)


# -- fourth batch: keys, several signatures, the cache between queries ----------------------

def sign_with(private: ed25519.Ed25519PrivateKey, dnskey: dns.rdata.Rdata, zone: str,
              lines: list[str]) -> str:
    """The RRSIG over the RRset of ``lines`` made with the given key."""
    rrset = rr(lines[0])
    for line in lines[1:]:
        rrset.update(rr(line))
    sig = dns.dnssec.sign(rrset, private, dns.name.from_text(zone), dnskey,
                          inception=now() - 30 * DAY, expiration=now() + 30 * DAY)
    return f"{rrset.name} {rrset.ttl} IN RRSIG {sig.to_text()}"


def new_key(flags: int = 256) -> tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]:
    private = ed25519.Ed25519PrivateKey.generate()
    return private, dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519,
                                           flags=flags)


def rrsig_qtype() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.example.com. RRSIG", answer=[
            s.sign(ZONE, ["www.example.com. 3600 IN A 192.0.2.12"])]),
    ], "ns.example.com.: example.com.; it answers www RRSIG with the A's signature",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. RRSIG", "QR RD RA DO NOERROR",
                [s.sign(ZONE, ["www.example.com. 3600 IN A 192.0.2.12"])],
                match="opcode qname qtype rcode flags")
    scenario("val_rule_rrsig_qtype_unvalidated", [
        "RFC 4035 §3.2.1/§5: RRSIGs are not themselves signed, so a question for type RRSIG",
        "cannot be validated: the signatures come as they are, without AD (Unbound does not",
        "validate qtype RRSIG)."],
        "A question for type RRSIG is answered unvalidated, without AD", s, body)


def two_rrsigs_one_bad() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.18"
    bad = sig_at(s, ZONE, "www.example.com. 3600 IN A 192.0.2.99", now() - 30 * DAY,
                 now() + 30 * DAY)
    good = s.sign(ZONE, [line])
    body = path(s) + zone_server(s, [Entry("www.example.com. A", answer=[line, bad, good])],
                                 "ns.example.com.: example.com.; www's A has two RRSIGs, the "
                                 "first made over other data", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", [line],
                match="opcode qname qtype rcode flags")
    scenario("val_rule_two_rrsigs_one_valid", [
        "RFC 4035 §5.3.3: an RRset is authenticated when one of its RRSIGs validates; a",
        "second, broken signature does not make it bogus: AD."],
        "An RRset with a broken and a valid RRSIG is secure", s, body)


def ksk_zsk() -> None:
    s = Signer()
    ksk_private, ksk = s.key(ZONE)
    zsk_private, zsk = new_key()
    keys = [s.dnskey_line(ZONE), f"{ZONE} 3600 IN DNSKEY {zsk.to_text()}"]
    line = "www.example.com. 3600 IN A 192.0.2.19"
    sig = sign_with(zsk_private, zsk, ZONE, [line])
    body = path(s) + range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", answer=[*keys, sign_with(ksk_private, ksk, ZONE, keys)]),
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 3600 IN NS {NS}",
                                    sign_with(zsk_private, zsk, ZONE,
                                              [f"{ZONE} 3600 IN NS {NS}"])]),
        Entry(f"{NS} A", answer=[f"{NS} 3600 IN A {ADDR}",
                                 sign_with(zsk_private, zsk, ZONE, [f"{NS} 3600 IN A {ADDR}"])]),
        Entry("www.example.com. A", answer=[line, sig]),
    ], s, "ns.example.com.: example.com. with a KSK (in the DS) signing the DNSKEY set and a "
          "ZSK signing the data")
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR", [line, sig])
    scenario("val_rule_ksk_zsk_split", [
        "RFC 4035 §5.2/§5.3 and RFC 6781 §3.1: the DS matches the KSK, which signs the DNSKEY",
        "RRset; the ZSK in that set (authenticated by it) signs the data: AD."],
        "A KSK/ZSK split: the data signed by the ZSK is secure", s, body)


def dnskey_not_signed_by_ds_key() -> None:
    s = Signer()
    ksk_private, ksk = s.key(ZONE)
    zsk_private, zsk = new_key()
    keys = [s.dnskey_line(ZONE), f"{ZONE} 3600 IN DNSKEY {zsk.to_text()}"]
    line = "www.example.com. 3600 IN A 192.0.2.20"
    body = path(s) + range_(0, 1000, [ADDR], [
        Entry(f"{ZONE} DNSKEY", answer=[*keys, sign_with(zsk_private, zsk, ZONE, keys)]),
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 3600 IN NS {NS}",
                                    sign_with(zsk_private, zsk, ZONE,
                                              [f"{ZONE} 3600 IN NS {NS}"])]),
        Entry(f"{NS} A", answer=[f"{NS} 3600 IN A {ADDR}",
                                 sign_with(zsk_private, zsk, ZONE, [f"{NS} 3600 IN A {ADDR}"])]),
        Entry("www.example.com. A", answer=[line, sign_with(zsk_private, zsk, ZONE, [line])]),
    ], s, "ns.example.com.: example.com.; the DNSKEY set holds the DS's key but is signed "
          "only by the other key")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_dnskey_not_signed_by_ds_key", [
        "RFC 4035 §5.2: the DNSKEY RRset is authenticated only by a signature of a key that a",
        "DS matches; signed by another key of the set alone it is bogus, and so is the data."],
        "A DNSKEY set not signed by the key the DS names is bogus", s, body)


def nxdomain_unsigned_soa() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, *nsec(NS, "www.example.com.", "A RRSIG NSEC"), *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC; the NXDOMAIN's SOA comes without RRSIG",
        apex_proof=APEX_NSEC)
    body += ask(10, "nothere.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nxdomain_unsigned_soa", [
        "RFC 4035 §5.4 and §3.1.3.2: the negative answer's SOA is signed data of the zone; an",
        "NXDOMAIN whose SOA comes without its RRSIG fails (Unbound validates every RRset of the",
        "authority section): SERVFAIL."],
        "A secure zone's NXDOMAIN with an unsigned SOA is bogus", s, body)


def cache_do_after_plain() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12"], flags="RD")
    body += ask(20, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_cached_answer_keeps_signatures", [
        "RFC 4035 §3.2.1/§4.5: the cache keeps the RRSIGs of validated data; a question",
        "without DO, then the same with DO (from the cache): the second answer has the RRSIG",
        "and AD."],
        "An answer cached for a query without DO is served with RRSIGs and AD with DO", s, body)


def cd_then_plain() -> None:
    s = Signer()
    body = path(s) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA CD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s, flags="RD CD DO",
                match="opcode qname qtype rcode answer")
    body += ask(20, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    scenario("val_rule_cd_then_validated", [
        "RFC 4035 §4.7/§5 and RFC 6840 §5.9: data fetched for a CD query is validated before",
        "it is served to a query without CD: the second answer (from the cache) is secure, AD."],
        "Data first asked with CD is secure for a later query without CD", s, body)


def dname_qtype() -> None:
    s = Signer()
    answer = ["alias.example.com. 300 IN DNAME target.example.com.", Z]
    body = path(s) + zone_server(s, [Entry("alias.example.com. DNAME", answer=answer)],
                                 "ns.example.com.: example.com., alias DNAME target",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "alias.example.com. DNAME", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_dname_qtype_secure", [
        "RFC 6672 §2.3/§5.3: a question for type DNAME at the DNAME's owner is answered with",
        "the signed DNAME itself (no synthesis): AD."],
        "A question for type DNAME gets the signed DNAME: secure", s, body)


def nsec_nx_no_wildcard() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, *nsec(NS, "www.example.com.", "A RRSIG NSEC")]),
    ], "ns.example.com.: example.com., NSEC; the NXDOMAIN lacks the NSEC denying "
       "*.example.com.", apex_proof=APEX_NSEC)
    body += ask(10, "nothere.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec_nxdomain_without_wildcard_denial", [
        "RFC 4035 §5.4 and §3.1.3.2: a name error needs an NSEC covering the name and one",
        "proving no wildcard could have matched; without the latter it is bogus: SERVFAIL."],
        "An NSEC NXDOMAIN without the wildcard's denial is bogus", s, body)


# -- fifth batch: DS digests, anchors without the root, bogus data in the cache -------------

def sha1_beside_sha256(harden: bool) -> None:
    s = Signer()
    ds1 = dns.dnssec.make_ds(dns.name.from_text(ZONE), s.key(ZONE)[1], "SHA1",
                             policy=dns.dnssec.allow_all_policy)
    words = s.ds_line(ZONE).split()
    wrong256 = " ".join(words[:7] + ["AB" * 32])
    body = path(s, [f"{ZONE} 3600 IN DS {ds1.to_text()}", wrong256]) + signed_www(s)
    doc = ["unbound.conf(5) harden-algo-downgrade: 'Harden against algorithm downgrade when",
           "multiple algorithms are advertised in the DS record.  If no, allows the weakest",
           "algorithm to validate the zone.  Default is no.'  The DS set has a SHA-1 DS that",
           "matches the key and a SHA-256 DS that matches nothing."]
    if harden:
        body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
        scenario("val_rule_ds_digest_downgrade_hardened", doc + [
            "With it on, only the strongest digest (SHA-256, RFC 4509 §3: SHA-1 DS RRs are",
            "ignored beside SHA-256 ones) counts, and it fails: bogus, SERVFAIL (Unbound's",
            "val_favorite_ds_algo)."],
            "harden-algo-downgrade: the SHA-1 DS is ignored beside SHA-256: bogus", s, body,
            extra=["harden-algo-downgrade: yes"])
    else:
        body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                    ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
        scenario("val_rule_ds_sha1_accepted_beside_sha256", doc + [
            "By default the matching SHA-1 DS authenticates the key (Unbound's",
            "val_verify_DNSKEY_with_DS: 'accept any key algo, any digest algo'): AD."],
            "A matching SHA-1 DS beside a non-matching SHA-256 DS: secure by default", s, body)


def ds_algorithm_mismatch() -> None:
    s = Signer()
    words = s.ds_line(ZONE).split()
    words[5] = "13"  # the digest is over the Ed25519 key, the DS says ECDSA P-256
    body = path(s, [" ".join(words)]) + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_ds_algorithm_must_match_key", [
        "RFC 4035 §5.2: the DS's algorithm must match the DNSKEY's; a DS naming a supported",
        "algorithm (13) whose digest is over a key of another algorithm (15) authenticates",
        "no key: bogus, SERVFAIL."],
        "A DS whose algorithm differs from the key it digests matches nothing: bogus", s, body)


def anchor_without_root() -> None:
    s = Signer()
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", ""),
                       "org.": ("ns.nic.org.", "127.7.1.3", "")})
    body += tld_range("com.", "ns.nic.com.", "127.7.1.1", {ZONE: ([NS], [f"{NS} A {ADDR}"])})
    body += tld_range("org.", "ns.nic.org.", "127.7.1.3",
                      {"example.org.": (["ns.example.org."], [f"ns.example.org. A {ORG_ADDR}"])})
    body += signed_www(s)
    body += range_(0, 1000, [ORG_ADDR], [
        Entry("www.example.org. A", answer=["www.example.org. 3600 IN A 192.0.2.9"]),
        Entry("example.org. NS", answer=["example.org. 3600 IN NS ns.example.org."]),
        Entry("ns.example.org. A", answer=[f"ns.example.org. 3600 IN A {ORG_ADDR}"]),
    ], comment="ns.example.org.: example.org., unsigned")
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
    body += ask(20, "www.example.org. A", "QR RD RA DO NOERROR",
                ["www.example.org. 3600 IN A 192.0.2.9"])
    scenario("val_rule_anchor_island_of_security", [
        "RFC 4033 §5 / RFC 4035 §4.3 (islands of security) and unbound.conf(5) trust-anchor:",
        "with an anchor for example.com. only (the root unsigned), names below it are secure",
        "(AD) and names outside every anchor are insecure (no AD), not bogus."],
        "A trust anchor for one zone only: secure below it, insecure elsewhere", s, body,
        extra=[f'trust-anchor: "{s.ds_line(ZONE)}"'], root_anchor=False)


def bogus_ttl() -> None:
    s = Signer()
    good = ["www.example.com. 3600 IN A 192.0.2.12", Z]
    bad_line = "www.example.com. 3600 IN A 192.0.2.66"
    bad = [bad_line, sig_at(s, ZONE, "www.example.com. 3600 IN A 192.0.2.1",
                            now() - 30 * DAY, now() + 30 * DAY)]
    body = path(s)
    body += range_(0, 15, [ADDR], [Entry("www.example.com. A", answer=bad)], s,
                   "ns.example.com., until step 15: www's RRSIG was made over another address")
    body += range_(16, 1000, [ADDR], [Entry("www.example.com. A", answer=good)], s,
                   "ns.example.com., from step 16: www correctly signed")
    body += zone_server(s, [], "ns.example.com.: example.com., the rest", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    body += ask(20, "www.example.com. A", "QR RD RA DO SERVFAIL")
    body += "STEP 30 TIME_PASSES ELAPSE 61\n\n"
    body += ask(40, "www.example.com. A", "QR RD RA AD DO NOERROR", good, s)
    scenario("val_rule_bogus_ttl", [
        "unbound.conf(5) val-bogus-ttl (default 60): 'The time to live for bogus data [...]",
        "The time interval prevents repeated revalidation of bogus data': within 60 s the",
        "bogus answer stays (SERVFAIL, though the server is fixed); after it, the good data",
        "is fetched and validated: AD."],
        "Bogus data is kept val-bogus-ttl seconds, then fetched again", s, body)


def dnskey_servfail() -> None:
    s = Signer()
    body = path(s) + range_(0, 1000, [ADDR], [Entry(f"{ZONE} DNSKEY", reply="QR SERVFAIL")],
                            s, "ns.example.com.: its DNSKEY question fails (this range is "
                               "matched first)") + signed_www(s)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_dnskey_unavailable", [
        "RFC 4035 §5.2 and unbound.conf(5) harden-dnssec-stripped (default yes): a zone with a",
        "DS whose DNSKEY RRset cannot be had (SERVFAIL from its server) cannot be validated and",
        "is not treated as insecure: the answer is bogus, SERVFAIL."],
        "A signed zone whose DNSKEY cannot be fetched: bogus", s, body)


def minimal_secure() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.12", Z],
              authority=[f"{ZONE} 3600 IN NS {NS}", Z],
              additional=[f"{NS} 3600 IN A {ADDR}", Z]),
    ], "ns.example.com.: example.com.; the answer carries the signed NS set and its address",
        apex_proof=APEX_NSEC)
    body += query(10, "www.example.com. A", "RD DO") + "\n"
    body += ("STEP 11 CHECK_ANSWER\nENTRY_BEGIN\nMATCH all\nREPLY QR RD RA AD DO NOERROR\n"
             "SECTION QUESTION\nwww.example.com. IN A\nSECTION ANSWER\n"
             + "\n".join(expand(s, ["www.example.com. 3600 IN A 192.0.2.12", Z]))
             + "\nENTRY_END\n\n")
    scenario("val_rule_minimal_responses_secure", [
        "unbound.conf(5) minimal-responses: 'only the necessary data in the [...] response':",
        "a secure positive answer carries its signed RRset and AD, no authority or",
        "additional records."],
        "minimal-responses: a secure answer without authority and additional", s, body,
        extra=["minimal-responses: yes"])


# -- sixth batch: where the DS comes from, literal wildcards, two supported algorithms ------

def literal_wildcard() -> None:
    s = Signer()
    answer = ["*.example.com. 3600 IN A 192.0.2.40", Z]
    body = path(s) + zone_server(s, [Entry("*.example.com. A", answer=answer)],
                                 "ns.example.com.: example.com., *.example.com. A",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "*.example.com. A", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_literal_wildcard_name", [
        "RFC 4034 §3.1.3 and RFC 4035 §5.3.4: the Labels field does not count a leading '*';",
        "a question for the wildcard's own name gets its RRset with labels one less than the",
        "owner's, which is no expansion and needs no NSEC proof: AD."],
        "The wildcard's own name asked literally: secure without denial proof", s, body)


def ds_nodata_child_apex_nsec() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[
            soa("sub.example.com.", NS), Z,
            *nsec("sub.example.com.", "www.sub.example.com.", "NS SOA RRSIG NSEC DNSKEY")]),
    ], "ns.example.com.: example.com., NSEC; its DS NODATA for sub comes with an NSEC of a "
       "zone apex (SOA set), the child's side of a cut", apex_proof=APEX_NSEC)
    body += ask(10, "sub.example.com. DS", "QR RD RA DO SERVFAIL")
    scenario("val_rule_ds_nodata_from_child_apex_nsec", [
        "RFC 4035 §5.4 / RFC 6840 §4.4: a DS RRset lives on the parent side; an NSEC with the",
        "SOA bit (a zone apex: the child's side) cannot prove that no DS exists (Unbound's",
        "nsec_proves_nodata: 'qtype == DS && SOA && !root'): bogus, SERVFAIL."],
        "A DS NODATA proven by an apex (child-side) NSEC is bogus", s, body)


def ds_nodata_child_apex_nsec3() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "sub.example.com.": "NS SOA DNSKEY"})
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, chain.match("sub.example.com."), Z]),
    ], "ns.example.com.: example.com., NSEC3; the NSEC3 matching sub has the SOA bit",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "sub.example.com. DS", "QR RD RA DO SERVFAIL")
    scenario("val_rule_ds_nodata_from_child_apex_nsec3", [
        "RFC 5155 §8.6 and RFC 6840 §4.4: for a DS NODATA the matching NSEC3 must be the",
        "parent's (no SOA bit); one with SOA set is the child's apex and proves nothing about",
        "the DS: bogus, SERVFAIL."],
        "A DS NODATA proven by an NSEC3 with the SOA bit is bogus", s, body)


def ds_query_not_a_cut() -> None:
    s = Signer()
    www_nsec = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=["www.example.com. 3600 IN A 192.0.2.12", Z]),
        Entry("www.example.com. DS", authority=[SOA, Z, *www_nsec]),
    ], "ns.example.com.: example.com., NSEC; www is no zone cut", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. DS", "QR RD RA AD DO NOERROR")
    scenario("val_rule_ds_query_below_no_cut", [
        "RFC 4035 §3.1.4.1/§5.4: a DS question for a name that is no delegation is answered by",
        "the zone holding the name, a NODATA whose NSEC (no NS, no DS) proves it: AD."],
        "A DS question for an ordinary name in a signed zone: secure NODATA", s, body)


def two_supported_algorithms(harden: bool) -> None:
    s = Signer()
    other = f"{ZONE} 3600 IN DS 4711 13 2 {'EF' * 32}"
    body = path(s, [s.ds_line(ZONE), other]) + signed_www(s)
    doc = ["unbound.conf(5) harden-algo-downgrade: 'Harden against algorithm downgrade when",
           "multiple algorithms are advertised in the DS record.  If no, allows the weakest",
           "algorithm to validate the zone.'  The DS set names algorithms 15 (the zone's key)",
           "and 13 (supported, but no such key or signature in the zone)."]
    if harden:
        body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
        scenario("val_rule_ds_two_algorithms_hardened", doc + [
            "With it on, every advertised algorithm must sign the DNSKEY set: bogus, SERVFAIL."],
            "harden-algo-downgrade: an advertised algorithm missing from the zone is bogus", s,
            body, extra=["harden-algo-downgrade: yes"])
    else:
        body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                    ["www.example.com. 3600 IN A 192.0.2.12", Z], s)
        scenario("val_rule_ds_two_algorithms_default", doc + [
            "By default (no) the one algorithm present validates the zone: AD."],
            "Two supported algorithms in the DS, the zone signed with one: secure by default",
            s, body)


# -- second round (written after the first round's fixes, split by the same rule) -----------

def dname_too_long() -> None:
    s = Signer()
    target = ".".join(["a" * 60] * 3) + ".example.com."
    label = "b" * 63
    answer = [f"d.example.com. 300 IN DNAME {target}", Z]
    body = path(s) + zone_server(s, [
        Entry(f"{label}.d.example.com. A", reply="QR AA YXDOMAIN", answer=answer),
    ], "ns.example.com.: example.com.; d is a DNAME to a long name: the synthesised name is "
       "too long", apex_proof=APEX_NSEC)
    body += ask(10, f"{label}.d.example.com. A", "QR RD RA DO YXDOMAIN", answer, s)
    scenario("val_rule_dname_yxdomain_unchecked", [
        "RFC 6672 §2.2: a DNAME substitution that would exceed 255 octets is YXDOMAIN, passed",
        "on with the DNAME.  Unbound validates only NOERROR and NXDOMAIN responses (validator.c",
        "needs_validation: 'cannot validate non-answer'), so it carries no AD (Unbound 1.17.1)."],
        "A signed DNAME whose substitution is too long: YXDOMAIN, without AD", s, body)


def nodata_bad_nsec_sig() -> None:
    s = Signer()
    www_nsec = "www.example.com. 3600 IN NSEC example.com. A RRSIG NSEC"
    bad = sig_at(s, ZONE, "www.example.com. 3600 IN NSEC example.com. A TXT RRSIG NSEC",
                 now() - 30 * DAY, now() + 30 * DAY)
    body = path(s) + zone_server(s, [
        Entry("www.example.com. TXT", authority=[SOA, Z, www_nsec, bad]),
    ], "ns.example.com.: example.com.; the NODATA's NSEC carries a signature made over "
       "another bitmap", apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. TXT", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nodata_nsec_bad_signature", [
        "RFC 4035 §5.4: the NSEC RRs of a denial must themselves validate; an NSEC whose only",
        "RRSIG fails makes the NODATA bogus: SERVFAIL."],
        "A NODATA whose NSEC signature fails is bogus", s, body)


def nx_bad_wildcard_sig() -> None:
    s = Signer()
    apex = f"{ZONE} 3600 IN NSEC {NS} NS SOA RRSIG NSEC DNSKEY"
    bad = sig_at(s, ZONE, f"{ZONE} 3600 IN NSEC {NS} NS SOA RRSIG NSEC", now() - 30 * DAY,
                 now() + 30 * DAY)
    body = path(s) + zone_server(s, [
        Entry("nothere.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, *nsec(NS, "www.example.com.", "A RRSIG NSEC"), apex, bad]),
    ], "ns.example.com.: example.com.; the NSEC denying the wildcard has a broken signature",
        apex_proof=APEX_NSEC)
    body += ask(10, "nothere.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nxdomain_wildcard_nsec_bad_signature", [
        "RFC 4035 §5.4: every NSEC of the name error proof must validate; the one denying the",
        "wildcard failing leaves the NXDOMAIN bogus: SERVFAIL."],
        "An NXDOMAIN whose wildcard-denying NSEC fails is bogus", s, body)


def any_at_cname() -> None:
    s = Signer()
    answer = ["alias.example.com. 3600 IN CNAME www.example.com.", Z]
    body = path(s) + zone_server(s, [Entry("alias.example.com. ANY", answer=answer)],
                                 "ns.example.com.: example.com.; alias is a signed CNAME",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "alias.example.com. ANY", "QR RD RA AD DO NOERROR", answer, s)
    scenario("val_rule_any_at_cname_secure", [
        "RFC 1034 §3.6.2/RFC 8482 and RFC 4035 §5: an ANY question at a CNAME is answered with",
        "the CNAME (not followed); signed: AD."],
        "ANY at a signed CNAME: the CNAME, secure", s, body)


def cname_chain_to_unsigned() -> None:
    s = Signer()
    n = "SIG example.net."
    first = ["www.example.com. 3600 IN CNAME www.example.net.", Z]
    second = ["www.example.net. 3600 IN CNAME www.example.org.", n]
    body = three_zones(s) + zone_server(s, [Entry("www.example.com. A", answer=first)],
                                        "ns.example.com.: example.com., signed",
                                        apex_proof=APEX_NSEC)
    body += zone_server(s, [Entry("www.example.net. A", answer=second)],
                        "ns.example.net.: example.net., signed", addr=NET_ADDR, zone=NET,
                        ns=NET_NS,
                        apex_proof=[f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", n])
    body += range_(0, 1000, [ORG_ADDR], [
        Entry("www.example.org. A", answer=["www.example.org. 3600 IN A 192.0.2.9"]),
        Entry("example.org. NS", answer=["example.org. 3600 IN NS ns.example.org."]),
        Entry("ns.example.org. A", answer=[f"ns.example.org. 3600 IN A {ORG_ADDR}"]),
    ], comment="ns.example.org.: example.org., unsigned")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                [*first, *second, "www.example.org. 3600 IN A 192.0.2.9"], s)
    scenario("val_rule_cname_chain_ends_insecure", [
        "RFC 4035 §3.2.3: AD only when every RRset of the answer is secure; two signed CNAMEs",
        "in two signed zones lead to an unsigned zone's A: the answer is insecure, no AD."],
        "Two signed CNAMEs ending in an unsigned zone: insecure", s, body)


def nsec3_nx_deep_encloser() -> None:
    s = Signer()
    names = {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A", "a.example.com.": "",
             "b.a.example.com.": "A", "www.example.com.": "A"}
    chain = Nsec3Chain(ZONE, names)
    qname = next(q for q in (f"{c}.a.example.com." for c in "cdefghijklmnopqrstuvwxyz")
                 if chain.cover(q) != chain.cover("*.a.example.com."))
    proof = {chain.match("a.example.com."), chain.cover(qname),
             chain.cover("*.a.example.com.")}
    auth = [SOA, Z]
    for line in sorted(proof):
        auth += [line, Z]
    body = path(s) + zone_server(s, [Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=auth)],
                                 "ns.example.com.: example.com., NSEC3; a.example.com. is an "
                                 "empty non-terminal above b.a", apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA AD DO NXDOMAIN")
    scenario("val_rule_nsec3_nxdomain_encloser_below_apex", [
        "RFC 5155 §7.2.1/§8.4: the closest encloser may be an empty non-terminal below the apex",
        "(a.example.com.): its matching NSEC3, the one covering the next closer name and the one",
        "covering *.a.example.com. prove the name error: AD."],
        "NSEC3 NXDOMAIN with an empty non-terminal as closest encloser: secure", s, body)


def nsec3_ds_nodata_no_optout() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "sub.example.com.": "NS"})
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[SOA, Z, chain.match("sub.example.com."), Z]),
    ], "ns.example.com.: example.com., NSEC3 without opt-out; sub is delegated unsigned",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, "sub.example.com. DS", "QR RD RA AD DO NOERROR")
    scenario("val_rule_nsec3_ds_nodata_matching", [
        "RFC 5155 §8.6: a DS NODATA is proven by the NSEC3 matching the name with the DS (and",
        "SOA) bits clear; with NS set it is the parent side of an unsigned delegation: AD."],
        "NSEC3 DS NODATA for an unsigned delegation: secure", s, body)


def ds_nodata_nsec_has_ds() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", authority=[
            SOA, Z, *nsec("sub.example.com.", "www.example.com.", "NS DS RRSIG NSEC")]),
    ], "ns.example.com.: example.com., NSEC; a DS NODATA whose NSEC says sub has a DS",
        apex_proof=APEX_NSEC)
    body += ask(10, "sub.example.com. DS", "QR RD RA DO SERVFAIL")
    scenario("val_rule_ds_nodata_nsec_lists_ds", [
        "RFC 4035 §5.4: a NODATA for DS needs an NSEC whose bitmap lacks DS; the NSEC listing",
        "DS proves the DS exists: bogus, SERVFAIL."],
        "A DS NODATA whose NSEC lists DS is bogus", s, body)


def below_secure_nxdomain() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("a.example.com. A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *APEX_NSEC]),
        Entry("b.a.example.com. A", answer=["b.a.example.com. 3600 IN A 192.0.2.77", Z]),
    ], "ns.example.com.: example.com., NSEC; a.example.com. does not exist (it would answer "
       "b.a.example.com. if asked)", apex_proof=APEX_NSEC)
    body += ask(10, "a.example.com. A", "QR RD RA AD DO NXDOMAIN")
    body += ask(20, "b.a.example.com. A", "QR RD RA AD DO NXDOMAIN",
                match="opcode qname qtype rcode answer")
    scenario("val_rule_below_secure_nxdomain", [
        "RFC 8020 §2 and unbound.conf(5) harden-below-nxdomain (default yes: 'only DNSSEC-",
        "secure NXDOMAINs are used'), with RFC 8198 aggressive NSEC: after a secure NXDOMAIN",
        "for a.example.com., a name below it is NXDOMAIN from the cache."],
        "A name below a secure NXDOMAIN is NXDOMAIN without asking", s, body)


def rrsig_window_inverted() -> None:
    s = Signer()
    line = "www.example.com. 3600 IN A 192.0.2.11"
    body = path(s) + zone_server(s, [
        Entry("www.example.com. A", answer=[line, sig_at(s, ZONE, line, now() + 20 * DAY,
                                                         now() - 20 * DAY)]),
    ], "ns.example.com.: example.com.; www's RRSIG expires before its inception",
        apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_rrsig_expiration_before_inception", [
        "RFC 4035 §5.3.1: the current time must be within [Inception, Expiration]; a window",
        "whose expiration precedes its inception contains no time: bogus, SERVFAIL."],
        "An RRSIG whose expiration is before its inception is bogus", s, body)


def nsec3_unsigned() -> None:
    s = Signer()
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A", "mail.example.com.": "A"})
    qname = "nothere.example.com."
    proof = {chain.match(ZONE), chain.cover(qname), chain.cover("*.example.com.")}
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=[SOA, Z, *sorted(proof)]),
    ], "ns.example.com.: example.com., NSEC3; the NXDOMAIN's NSEC3 records come unsigned",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec3_unsigned", [
        "RFC 5155 §8 and RFC 4035 §5.4: denial records are used only once validated; NSEC3",
        "records without RRSIGs prove nothing and the signed zone's NXDOMAIN is bogus."],
        "An NXDOMAIN with unsigned NSEC3 records is bogus", s, body)


def wildcard_dname() -> None:
    s = Signer()
    answer = ["x.example.com. 300 IN DNAME example.net.", "SIG example.com. *.example.com.",
              "www.x.example.com. 300 IN CNAME www.example.net."]
    n = "SIG example.net."
    body = three_zones(s) + zone_server(s, [
        Entry("www.x.example.com. A", answer=answer,
              authority=nsec("*.example.com.", NS, "DNAME RRSIG NSEC")),
    ], "ns.example.com.: example.com., NSEC, *.example.com. DNAME example.net.",
        apex_proof=APEX_NSEC)
    body += zone_server(s, [
        Entry("www.example.net. A", answer=["www.example.net. 3600 IN A 192.0.2.17", n]),
    ], "ns.example.net.: example.net., signed", addr=NET_ADDR, zone=NET, ns=NET_NS,
        apex_proof=[f"{NET} 3600 IN NSEC {NET_NS} NS SOA RRSIG NSEC DNSKEY", n])
    body += ask(10, "www.x.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_dname_from_wildcard", [
        "RFC 6672 §3.3 / RFC 4592 §4.4: a DNAME owned by a wildcard does not redirect (DNAME at",
        "'*' is unsupported); a DNAME expanded from one (RRSIG labels below the owner's) is no",
        "valid DNAME, and the answer built on it is bogus (Unbound: SERVFAIL)."],
        "A DNAME expanded from a wildcard is not accepted", s, body)


def ds_query_at_cname() -> None:
    s = Signer()
    cname = ["sub.example.com. 3600 IN CNAME www.example.com.", Z]
    www_nsec = nsec("www.example.com.", ZONE, "A RRSIG NSEC")
    body = path(s) + zone_server(s, [
        Entry("sub.example.com. DS", answer=cname),
        Entry("www.example.com. DS", authority=[SOA, Z, *www_nsec]),
    ], "ns.example.com.: example.com., NSEC; sub is a CNAME", apex_proof=APEX_NSEC)
    body += ask(10, "sub.example.com. DS", "QR RD RA AD DO NOERROR", cname, s,
                match="opcode qname qtype rcode flags")
    scenario("val_rule_ds_query_at_cname", [
        "RFC 1034 §3.6.2 and RFC 4035 §5: a DS question for a name that is a signed CNAME in",
        "its zone gets the CNAME (and what it leads to), validated: AD."],
        "A DS question for a signed CNAME: secure", s, body)


# -- third round: key and DS lifetimes in the cache (written after the second round) ---------

def com_range(s: Signer, first: int, last: int, ds_lines: list[str], nods: bool = False,
              comment: str = "") -> str:
    """com.'s server for steps ``first``..``last``: example.com. delegated with ``ds_lines``
    or (``nods``) with an NSEC proof, TTL 300, that it has no DS."""
    c = "SIG com."
    com_soa = soa("com.", "ns.nic.com.")
    proof = [f"{ZONE} 300 IN NSEC com. NS RRSIG NSEC", c] if nods else []
    ds_entry = Entry(f"{ZONE} DS", authority=[com_soa, c, *proof]) if nods else \
        Entry(f"{ZONE} DS", answer=[*ds_lines, c])
    return range_(first, last, ["127.7.1.1"], [
        Entry("com. NS", answer=["com. 86400 IN NS ns.nic.com.", c],
              additional=["ns.nic.com. 86400 IN A 127.7.1.1"]),
        Entry("ns.nic.com. A", answer=["ns.nic.com. 86400 IN A 127.7.1.1", c]),
        Entry("com. DNSKEY", answer=[s.dnskey_line("com."), c]),
        ds_entry,
        sub(f"{ZONE} NS", authority=[f"{ZONE} 3600 IN NS {NS}", *(proof or [*ds_lines, c])],
            additional=[f"{NS} 3600 IN A {ADDR}"]),
        catch_all("QR AA NXDOMAIN", authority=[com_soa]),
    ], s, comment or f"ns.nic.com.: com., signed (steps {first}-{last})")


def example_range(s: Signer, first: int, last: int, names: dict[str, str], *,
                  signed: bool = True, comment: str = "") -> str:
    """example.com.'s server for steps ``first``..``last``, TTL 300 throughout: its keys
    (``signed``) and an A record per name."""
    z = [Z] if signed else []
    entries: list[Entry | str] = [
        Entry(f"{ZONE} NS", answer=[f"{ZONE} 300 IN NS {NS}", *z]),
        Entry(f"{NS} A", answer=[f"{NS} 300 IN A {ADDR}", *z]),
    ]
    if signed:
        entries.append(Entry(f"{ZONE} DNSKEY", answer=[s.dnskey_line(ZONE, 300), Z]))
    for name, addr in names.items():
        entries.append(Entry(f"{name} A", answer=[f"{name} 300 IN A {addr}", *z]))
    return range_(first, last, [ADDR], entries, s if signed else None, comment)


def rolled(s: Signer) -> Signer:
    """A signer with ``s``'s keys for the root and com. and a new key for example.com."""
    new = Signer(dict(s.zones))
    new.zones.pop(ZONE, None)
    new.key(ZONE)
    return new


def key_rollover_after_ttl() -> None:
    s = Signer()
    for zone in (".", "com.", ZONE):
        s.key(zone)
    s2 = rolled(s)
    names = {"www.example.com.": "192.0.2.12", "www2.example.com.": "192.0.2.13"}
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s)
    body += com_range(s, 0, 15, [s.ds_line(ZONE, 300)], comment="ns.nic.com.: com., the "
                      "DS of example.com.'s first key (TTL 300), until step 15")
    body += com_range(s2, 16, 1000, [s2.ds_line(ZONE, 300)], comment="ns.nic.com.: com., "
                      "the DS of the new key, from step 16")
    body += example_range(s, 0, 15, names, comment="ns.example.com.: the first key")
    body += example_range(s2, 16, 1000, names, comment="ns.example.com.: the new key")
    body += ask(10, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 300 IN A 192.0.2.12", Z], s)
    body += "STEP 20 TIME_PASSES ELAPSE 400\n\n"
    body += ask(30, "www2.example.com. A", "QR RD RA AD DO NOERROR",
                ["www2.example.com. 300 IN A 192.0.2.13", Z], s2)
    scenario("val_rule_keys_refetched_after_ttl", [
        "RFC 4035 §4.5 / RFC 2181 §5.2: validated DS and DNSKEY RRsets are cached for their TTL",
        "(300 s here); after it the zone's keys are fetched again, so a key rolled meanwhile",
        "(new DS, new DNSKEY) validates the zone's data: AD."],
        "Keys and DS expire with their TTL: a rolled key validates after it", s, body)


def bogus_keys_retried() -> None:
    s = Signer()
    names = {"www.example.com.": "192.0.2.12"}
    other = f"{ZONE} 300 IN DNSKEY {new_key(257)[1].to_text()}"
    bad_keys = [s.dnskey_line(ZONE, 300),
                sig_at(s, ZONE, other, now() - 30 * DAY, now() + 30 * DAY)]
    body = path(s)
    body += range_(0, 15, [ADDR], [Entry(f"{ZONE} DNSKEY", answer=bad_keys)], s,
                   "ns.example.com., until step 15: the DNSKEY RRset's RRSIG was made over "
                   "another key (it fails)")
    body += example_range(s, 0, 1000, names, comment="ns.example.com.: example.com.")
    body += ask(10, "www.example.com. A", "QR RD RA DO SERVFAIL")
    body += "STEP 20 TIME_PASSES ELAPSE 100\n\n"
    body += ask(30, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 300 IN A 192.0.2.12", Z], s)
    scenario("val_rule_bogus_keys_fetched_again", [
        "unbound.conf(5) val-bogus-ttl (60 s): a zone whose DNSKEY RRset failed is bogus for",
        "that long, then its keys are fetched again; the server fixed meanwhile, the answer",
        "is secure: AD."],
        "A zone whose keys failed is retried after the bogus TTL", s, body)


def ds_appears_after_ttl() -> None:
    s = Signer()
    names = {"www.example.com.": "192.0.2.12"}
    body = root_range({"com.": ("ns.nic.com.", "127.7.1.1", "ds")}, s)
    body += com_range(s, 0, 15, [], nods=True, comment="ns.nic.com.: com.; example.com. "
                      "has no DS (NSEC, TTL 300; SOA MINIMUM 300), until step 15")
    body += com_range(s, 16, 1000, [s.ds_line(ZONE, 300)], comment="ns.nic.com.: com.; "
                      "example.com. has a DS from step 16")
    body += example_range(s, 0, 15, names, signed=False,
                          comment="ns.example.com.: example.com. unsigned, until step 15")
    body += example_range(s, 16, 1000, names, comment="ns.example.com.: example.com. "
                          "signed, from step 16")
    body += ask(10, "www.example.com. A", "QR RD RA DO NOERROR",
                ["www.example.com. 300 IN A 192.0.2.12"])
    body += "STEP 20 TIME_PASSES ELAPSE 400\n\n"
    body += ask(30, "www.example.com. A", "QR RD RA AD DO NOERROR",
                ["www.example.com. 300 IN A 192.0.2.12", Z], s)
    scenario("val_rule_insecure_delegation_expires", [
        "RFC 4035 §4.5 and RFC 2308 §5: the proof that example.com. has no DS is cached for",
        "its TTL (300 s); after it the DS is asked again, and the zone, signed meanwhile, is",
        "secure: AD."],
        "A cached proof of no DS expires: the zone signed meanwhile is secure", s, body)


# -- fourth round: NSEC3 iteration limits per key size (written before that change) ----------

KEYSIZE_LIMITS = "1024 10 2048 20 4096 30"


def nsec3_keysize(name: str, rsa_bits: int | None, iterations: int, secure_: bool) -> None:
    s = Signer()
    if rsa_bits is not None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        s.zones[ZONE] = (private, dns.dnssec.make_dnskey(  # type: ignore[assignment]
            private.public_key(), dns.dnssec.Algorithm.RSASHA256, flags=257))
    chain = Nsec3Chain(ZONE, {ZONE: "NS SOA DNSKEY NSEC3PARAM", NS: "A",
                              "www.example.com.": "A", "mail.example.com.": "A"},
                       iterations=iterations)
    qname = "nothere.example.com."
    proof = {chain.match(ZONE), chain.cover(qname), chain.cover("*.example.com.")}
    auth = [SOA, Z]
    for line in sorted(proof):
        auth += [line, Z]
    key = f"RSA {rsa_bits}-bit" if rsa_bits else "Ed25519 (256-bit)"
    body = path(s) + zone_server(s, [
        Entry(f"{qname} A", reply="QR AA NXDOMAIN", authority=auth),
    ], f"ns.example.com.: example.com., {key} key, NSEC3 with {iterations} iterations",
        apex_proof=[chain.match(ZONE), Z])
    body += ask(10, f"{qname} A", f"QR RD RA {'AD ' if secure_ else ''}DO NXDOMAIN")
    limit = 10 if not rsa_bits or rsa_bits <= 1024 else 20 if rsa_bits <= 2048 else 30
    scenario(name, [
        f'unbound.conf(5) val-nsec3-keysize-iterations: "{KEYSIZE_LIMITS}": "the maximum',
        "number of iterations per key size [...] a key size and the maximum number of",
        "iterations for that key size'; Unbound uses the smallest zone key's size, rounded up",
        "to the nearest listed size (val_nsec3.c get_max_iter, val_kentry.c key_entry_keysize);",
        "NSEC3 with more iterations is insecure (RFC 9276 §3.2).  Here the zone's key is",
        f"{key}: limit {limit}, NSEC3 iterations {iterations}: "
        + ("secure, AD." if secure_ else "insecure, no AD.")],
        f"NSEC3 iteration limit by key size: {key}, {iterations} iterations", s, body,
        extra=[f'val-nsec3-keysize-iterations: "{KEYSIZE_LIMITS}"'])


# -- fifth round: NSEC spans that reach outside the zone ------------------------------------

def nsec_overreach() -> None:
    s = Signer()
    body = path(s) + zone_server(s, [
        Entry("zz.example.com. A", reply="QR AA NXDOMAIN", authority=[
            SOA, Z, *nsec(NS, "www.example.org.", "A RRSIG NSEC"), *APEX_NSEC]),
    ], "ns.example.com.: example.com., NSEC; the NSEC covering zz.example.com. claims a "
       "next name outside the zone", apex_proof=APEX_NSEC)
    body += ask(10, "zz.example.com. A", "QR RD RA DO SERVFAIL")
    scenario("val_rule_nsec_next_outside_zone", [
        "RFC 4034 §4.1.1: an NSEC's Next Domain Name is the next owner name in the zone (the",
        "apex for the last one), so it lies inside the zone.  Unbound's scrubber removes an",
        "NSEC RRset whose next name is outside the zone the server was asked for",
        "(iter_scrub.c sanitize_nsec_is_overreach: 'removing overreaching NSEC RRset'); the",
        "NXDOMAIN for zz.example.com., which only that NSEC covers, is left without proof:",
        "bogus, SERVFAIL (Unbound 1.17.1)."],
        "An NSEC whose next name lies outside the zone is removed: no proof, bogus", s, body)


# -- sixth round: reply shape (found comparing whole replies with Unbound 1.17.1) -----------

def any_without_do() -> None:
    s = Signer()
    answer = ["www.example.com. 3600 IN A 192.0.2.12", Z,
              'www.example.com. 3600 IN TXT "hello"', Z]
    body = path(s) + zone_server(s, [Entry("www.example.com. ANY", answer=answer)],
                                 "ns.example.com.: example.com.; www has A and TXT",
                                 apex_proof=APEX_NSEC)
    body += ask(10, "www.example.com. ANY", "QR RD RA NOERROR", answer, s, flags="RD")
    scenario("val_rule_any_answer_keeps_rrsigs_without_do", [
        "RFC 4035 §3.2.1: without DO, DNSSEC RRs are left out 'unless the type is explicitly",
        "asked'; for qtype ANY every type is asked, and Unbound's reply encoder includes the",
        "RRSIGs in an ANY answer without DO (msgencode.c insert_section: 'include all types in",
        "ANY answer'); no AD without DO or AD (RFC 6840 §5.8)."],
        "An ANY answer without DO keeps its RRSIGs", s, body)


def main() -> None:
    for build in (nsec3_ent_nodata, nsec3_optout_insecure, nsec3_nx_no_wildcard_denial,
                  nsec3_wildcard_no_next_closer, nsec3_iterations_high,
                  nsec_parent_side_nodata, nsec_nx_below_delegation, nsec_multilabel_wildcard,
                  nsec_ds_nodata_unsigned_delegation, aggressive_nsec, dname_signed,
                  rrsig_labels_wrong, expired, not_yet_valid, ds_unknown_digest,
                  ds_mixed_algorithms, cd_bogus, ad_without_do, clean_additional,
                  ds_and_dnskey_queries, nsec_nodata_bitmap_has_type,
                  nsec3_ent_covered_not_matched, nsec3_optout_nxdomain, nsec3_optout_ent_nodata,
                  nsec3_unknown_hash, anchor_extra_algorithm, spurious_ns, any_query,
                  cname_qtype, ds_unsigned_in_referral, cd_secure, nxdomain_without_do,
                  non_zone_key,
                  cname_to_optout_insecure, cname_to_other_zone_nx, cname_to_unsigned_zone,
                  aggressive_nodata, anchor_below_root, domain_insecure, anchor_dnskey,
                  nsec_qtype, cname_target_unsigned, dname_to_other_zone, wildcard_cname,
                  nsec3_nodata_qtype_present, rrsig_qtype, two_rrsigs_one_bad, ksk_zsk,
                  dnskey_not_signed_by_ds_key, nxdomain_unsigned_soa,
                  cache_do_after_plain, cd_then_plain, dname_qtype, nsec_nx_no_wildcard,
                  lambda: sha1_beside_sha256(False), lambda: sha1_beside_sha256(True),
                  ds_algorithm_mismatch, anchor_without_root, bogus_ttl,
                  dnskey_servfail, minimal_secure, literal_wildcard, ds_nodata_child_apex_nsec,
                  ds_nodata_child_apex_nsec3, ds_query_not_a_cut,
                  lambda: two_supported_algorithms(False),
                  lambda: two_supported_algorithms(True), dname_too_long, nodata_bad_nsec_sig,
                  nx_bad_wildcard_sig, any_at_cname, cname_chain_to_unsigned,
                  nsec3_nx_deep_encloser, nsec3_ds_nodata_no_optout,
                  ds_nodata_nsec_has_ds, below_secure_nxdomain, rrsig_window_inverted,
                  nsec3_unsigned, wildcard_dname, ds_query_at_cname, key_rollover_after_ttl,
                  bogus_keys_retried, ds_appears_after_ttl,
                  lambda: nsec3_keysize("val_rule_nsec3_keysize_small_key_over", None, 15,
                                        False),
                  lambda: nsec3_keysize("val_rule_nsec3_keysize_rsa2048_within", 2048, 15,
                                        True),
                  lambda: nsec3_keysize("val_rule_nsec3_keysize_rsa2048_over", 2048, 25,
                                        False),
                  lambda: nsec3_keysize("val_rule_nsec3_keysize_rsa1024_over", 1024, 15,
                                        False),
                  nsec_overreach, any_without_do):
        build()


if __name__ == "__main__":
    main()
