"""Write tests/scenarios/testbound/dnssec_lame (issue 16 part 3, helper "dlame"): DNSSEC-lame
servers and the validator's own DS/DNSKEY fetches, in the testbound dialect, one aspect per
file, each title saying the documented behaviour it checks:

* unbound.conf(5) ``disable-dnssec-lame-check`` (default no): a server of a signed zone (a DS
  at the parent or a trust anchor) that answers without RRSIGs, or without the DNSKEY RRset,
  is "dnssec-lame": the iterator asks another server of the zone before the validator sees
  the data; when every server does the same the answer is bogus (SERVFAIL);
* RFC 4035 §5 (and §5.2): the validator authenticates each zone cut on the chain from the
  trust anchor, fetching DS from the parent and DNSKEY from the child, also for cuts the
  iterator never saw as referrals (parent and child on the same servers); a DS question at
  a name that is no cut gets a NODATA proof and the walk goes on; a proven unsigned
  delegation (NSEC, or NSEC3 opt-out, RFC 5155 §8.6) ends it: insecure;
* RFC 4035 §5 with CNAME / DNAME (RFC 6672 §5.3.1): each target's zone has its own chain;
  RFC 6604: the rcode of a CNAME chain is the last name's (NXDOMAIN);
* RFC 9156 (QNAME minimisation): validation is unchanged when the iterator minimises.

Zones are signed with fresh Ed25519 keys (``rpl.Signer``) every run; the trust anchors are
DS records of the signed zones (the root is unsigned).  ``python
tests/scenarios/src/build_dlame.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rpl import DATE, Entry, Nsec3Chain, Signer, check, query, range_, sub  # noqa: E402

OUT = Path(__file__).parents[1] / "testbound" / "dnssec_lame"
S = Signer()
ROOT_ADDR = "193.0.14.129"
AA = "QR AA NOERROR"
NX = "QR AA NXDOMAIN"
SECURE = "QR RD RA AD DO NOERROR"
INSECURE = "QR RD RA DO NOERROR"
SERVFAIL = "QR RD RA DO SERVFAIL"
MATCH = "opcode qname qtype rcode flags answer"
MATCH_RCODE = "opcode qname qtype rcode flags"


def header(title: str, anchors: list[str], *, qmin: bool = False, extra: str = "",
           forwarders: tuple[str, ...] = (), zones: str = "") -> str:
    tas = "".join(f'\ttrust-anchor: "{S.ds_line(z)}"\n' for z in anchors)
    upstream = ("forward-zone:\n" + "".join(f"\tforward-addr: {a}\n" for a in forwarders)
                if forwarders else f"stub-zone:\n\tstub-addr: {ROOT_ADDR}\n")
    upstream = upstream.replace(":\n", ':\n\tname: "."\n', 1) + zones
    return (
        "; shadowdns's own scenario (testbound dialect), written by "
        "tests/scenarios/src/build_dlame.py\n"
        "server:\n"
        '\ttarget-fetch-policy: "0 0 0 0 0"\n'
        f'\tqname-minimisation: {"yes" if qmin else "no"}\n'
        "\tminimal-responses: yes\n"
        f"{tas}"
        f'\tval-override-date: "{DATE}"\n'
        f"{extra}"
        f"{upstream}"
        "CONFIG_END\n\n"
        f"SCENARIO_BEGIN {title}\n\n"
    )


def soa(zone: str) -> str:
    return f"{zone} 3600 IN SOA ns1.{zone} host.{zone} 1 3600 600 86400 300"


def signed(zone: str, *lines: str) -> list[str]:
    """``lines`` (one RRset) and the RRSIG of ``zone``'s key over them."""
    return [*lines, f"SIG {zone}"]


def root(delegations: dict[str, list[tuple[str, str]]], tlds: tuple[str, ...] = ()) -> str:
    """The unsigned root: priming, a referral per zone (``{zone: [(ns name, address)]}``),
    a NODATA for a DS at a delegated zone (it is the parent of the DS) and for the
    TLDs' names asked minimised (empty non-terminals here)."""
    root_soa = ". 86400 IN SOA a.root. host.root. 1 1800 900 604800 86400"
    entries: list[Entry | str] = [
        Entry(". NS", "QR AA NOERROR", answer=[". 86400 IN NS K.ROOT-SERVERS.NET."],
              additional=[f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT_ADDR}"]),
    ]
    for zone, servers in delegations.items():
        entries.append(Entry(f"{zone} DS", AA, authority=[root_soa]))
        entries.append(sub(f"{zone} NS", "QR NOERROR",
                           authority=[f"{zone} 86400 IN NS {n}" for n, _ in servers],
                           additional=[f"{n} 86400 IN A {a}" for n, a in servers]))
    for tld in tlds:
        entries.append(Entry(f"{tld} A", AA, match="opcode qname", adjust="copy_id copy_query",
                             authority=[root_soa]))
    return range_(0, 1000, [ROOT_ADDR], entries, S, "K.ROOT-SERVERS.NET.: the root (unsigned)")


def server(addr: str, entries: list[Entry | str], comment: str) -> str:
    return range_(0, 1000, [addr], entries, S, comment)


def catch_all_unsigned(zone: str) -> str:
    """Any other question: a NODATA without signatures (a copy of the zone without them)."""
    return "\n".join(["ENTRY_BEGIN", "MATCH opcode", "ADJUST copy_id copy_query", f"REPLY {AA}",
                      "SECTION AUTHORITY", soa(zone), "ENTRY_END"])


def dnskey(zone: str) -> Entry:
    return Entry(f"{zone} DNSKEY", AA, answer=signed(zone, S.dnskey_line(zone)))


def a_rr(name: str, addr: str) -> str:
    return f"{name} 3600 IN A {addr}"


def ask(step: int, name: str, qtype: str = "A") -> str:
    return query(step, f"{name} {qtype}", "RD DO")


def expect(step: int, name: str, reply: str, answer: list[str] | None = None,
           qtype: str = "A", match: str = MATCH) -> str:
    return check(step, f"{name} {qtype}", reply, answer, match=match, signer=S)


def infra(step: int, addr: str, zone: str, ms: int) -> str:
    return f"STEP {step} INFRA_RTT {addr} {zone} {ms}\n"


def write(name: str, title: str, anchors: list[str], body: str, **kw: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = header(title, anchors, **kw) + body + "\nSCENARIO_END\n"  # type: ignore[arg-type]
    (OUT / f"{name}.rpl").write_text(text)


EX = "example.com."
NET = "example.net."
WWW = "www.example.com."
TWO_SERVERS = {EX: [("ns1.example.com.", "1.2.3.4"), ("ns2.example.com.", "1.2.3.5")]}
FAST_LAME = infra(1, "1.2.3.4", EX, 10) + infra(2, "1.2.3.5", EX, 900)
APEX_NSEC = "example.com. 3600 IN NSEC www.example.com. NS SOA RRSIG NSEC DNSKEY"
WWW_NSEC = "www.example.com. 3600 IN NSEC example.com. A RRSIG NSEC"
WWW_A = a_rr(WWW, "10.20.30.40")


def www_ds_nodata() -> Entry:
    """www.example.com. DS: no cut there (a validator looking above unsigned data)."""
    return Entry(f"{WWW} DS", AA, authority=[*signed(EX, soa(EX)), *signed(EX, WWW_NSEC)])


def good_server(addr: str, *more: Entry) -> str:
    return server(addr, [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A)),
                         www_ds_nodata(), *more],
                  f"{addr}: a good server of the signed example.com.")


# 1 -- an NXDOMAIN without signatures from one server, the other proves it
NX_PROOF = [*signed(EX, soa(EX)), *signed(EX, APEX_NSEC)]
write(
    "dlame_nxdomain_one_lame",
    "disable-dnssec-lame-check: no (unbound.conf(5)): a server of the signed example.com. "
    "answers an NXDOMAIN without RRSIG or NSEC: it is dnssec-lame, the other server is asked "
    "and its proven NXDOMAIN (RFC 4035 §3.1.3.2) is the answer, secure",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry("nothere.example.com. A", NX, authority=[soa(EX)])],
             "ns1.example.com.: fast; its NXDOMAIN carries no signatures")
    + good_server("1.2.3.5", Entry("nothere.example.com. A", NX, authority=NX_PROOF))
    + FAST_LAME + ask(10, "nothere.example.com.")
    + expect(11, "nothere.example.com.", "QR RD RA AD DO NXDOMAIN"),
)

# 2 -- every server is dnssec-lame: bogus
write(
    "dlame_all_servers_lame_servfail",
    "every server of the signed example.com. (DS at the trust anchor) serves it without "
    "signatures and without DNSKEY: no server gives secure data, the answer is bogus, "
    "SERVFAIL (RFC 4035 §5.5, unbound.conf(5) disable-dnssec-lame-check)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [Entry(f"{WWW} A", AA, answer=[WWW_A]), catch_all_unsigned(EX)],
             "ns1.example.com.: an unsigned copy of the zone")
    + server("1.2.3.5", [Entry(f"{WWW} A", AA, answer=[WWW_A]), catch_all_unsigned(EX)],
             "ns2.example.com.: an unsigned copy of the zone")
    + ask(10, WWW) + expect(11, WWW, SERVFAIL, match=MATCH_RCODE),
)

# 3 -- the DNSKEY RRset without its RRSIG from one server
write(
    "dlame_dnskey_unsigned_one_server",
    "one server of the signed example.com. gives its DNSKEY RRset without RRSIG: it is "
    "dnssec-lame (unbound.conf(5) disable-dnssec-lame-check), the keys are fetched from the "
    "other server and the answer is secure (RFC 4035 §5.2: the DNSKEY RRset is verified by "
    "its self-signature)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [Entry(f"{EX} DNSKEY", AA, answer=[S.dnskey_line(EX)]),
                         Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A)), www_ds_nodata()],
             "ns1.example.com.: fast; its DNSKEY RRset has no RRSIG")
    + good_server("1.2.3.5")
    + FAST_LAME + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
)

# 4 -- no DNSKEY at all from one server
write(
    "dlame_dnskey_missing_one_server",
    "one server of the signed example.com. answers its DNSKEY question with NODATA (no keys, "
    "no signatures): it is dnssec-lame, the keys come from the other server, the answer is "
    "secure (unbound.conf(5) disable-dnssec-lame-check; RFC 4035 §5.2)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [Entry(f"{EX} DNSKEY", AA, authority=[soa(EX)]),
                         Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A)), www_ds_nodata()],
             "ns1.example.com.: fast; no DNSKEY RRset")
    + good_server("1.2.3.5")
    + FAST_LAME + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
)

# 5 -- a referral without DS from a lame parent server
SUB = "sub.example.com."
WWW_SUB = "www.sub.example.com."
SUB_NS = [("ns.sub.example.com.", "1.2.3.6")]


def sub_referral(ds: bool) -> Entry:
    auth = [f"{SUB} 3600 IN NS ns.sub.example.com."]
    if ds:
        auth += signed(EX, S.ds_line(SUB))
    return sub(f"{SUB} NS", "QR NOERROR", authority=auth,
               additional=["ns.sub.example.com. 3600 IN A 1.2.3.6"])


def sub_server(addr: str = "1.2.3.6", *more: Entry) -> str:
    return server(addr, [dnskey(SUB), Entry(f"{WWW_SUB} A", AA,
                                            answer=signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
                         *more], f"{addr}: ns.sub.example.com., the signed sub.example.com.")


write(
    "dlame_referral_without_ds_lame_parent",
    "a server of the signed example.com. refers to sub.example.com. without the DS RRset or "
    "an NSEC proof (no signature at all): the delegation is not taken as unsigned; the DS "
    "comes from the other server and the answer is secure (RFC 4035 §5.2, §3.1.4; "
    "unbound.conf(5) disable-dnssec-lame-check)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, authority=[soa(EX)]),
                         sub_referral(ds=False), catch_all_unsigned(EX)],
             "ns1.example.com.: fast; a copy of example.com. without signatures or DS")
    + server("1.2.3.5", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         sub_referral(ds=True)],
             "ns2.example.com.: the signed example.com.")
    + sub_server()
    + FAST_LAME + ask(10, WWW_SUB)
    + expect(11, WWW_SUB, SECURE, signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
)

# 6 -- parent and child on the same server: DS from the parent side
ONE_SERVER = {EX: [("ns1.example.com.", "1.2.3.4")]}
write(
    "dlame_shared_server_ds_from_parent",
    "example.com. and its signed child sub.example.com. are on the same server, which answers "
    "www.sub.example.com. from the child (no referral): the validator finds the cut from the "
    "signer name, fetches the child's DS (served from the parent side, RFC 4035 §3.1.4.1) "
    "and DNSKEY and the answer is secure (RFC 4035 §5)",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX), dnskey(SUB),
                         Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         Entry(f"{SUB} A", AA, authority=[
                             *signed(SUB, soa(SUB)),
                             *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC "
                                     "DNSKEY")]),
                         Entry(f"{WWW_SUB} A", AA,
                               answer=signed(SUB, a_rr(WWW_SUB, "10.20.30.60")))],
             "ns1.example.com.: authoritative for example.com. and sub.example.com.")
    + ask(10, WWW_SUB) + expect(11, WWW_SUB, SECURE, signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
)

# 7 -- a name on the way that is no cut: DS NODATA, the walk goes on
DEEP = "deep.mid.example.com."
WWW_DEEP = "www.deep.mid.example.com."
DEEP_A = a_rr(WWW_DEEP, "10.20.30.70")
write(
    "dlame_ds_nodata_not_a_cut",
    "the signed child deep.mid.example.com. shares its parent's server; mid.example.com. is an "
    "empty non-terminal of example.com., no cut: its DS question gets a NODATA proof "
    "(RFC 4035 §3.1.3.2) and the chain goes on to deep.mid.example.com.'s DS and DNSKEY; the "
    "answer is secure (RFC 4035 §5)",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [
        dnskey(EX), dnskey(DEEP),
        Entry("mid.example.com. DS", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{EX} 3600 IN NSEC {DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry("mid.example.com. A", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{EX} 3600 IN NSEC {DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry(f"{DEEP} A", AA, authority=[
            *signed(DEEP, soa(DEEP)),
            *signed(DEEP, f"{DEEP} 3600 IN NSEC {WWW_DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry(f"{DEEP} DS", AA, answer=signed(EX, S.ds_line(DEEP))),
        Entry(f"{WWW_DEEP} A", AA, answer=signed(DEEP, DEEP_A))],
        "ns1.example.com.: authoritative for example.com. and deep.mid.example.com.")
    + ask(10, WWW_DEEP) + expect(11, WWW_DEEP, SECURE, signed(DEEP, DEEP_A)),
)

# 8 -- an unsigned child on the same server: NSEC proves no DS, insecure
PLAIN = "plain.example.com."
WWW_PLAIN = "www.plain.example.com."
PLAIN_A = a_rr(WWW_PLAIN, "10.20.30.80")
write(
    "dlame_shared_server_insecure_child",
    "the unsigned child plain.example.com. shares the signed parent's server, which answers "
    "www.plain.example.com. from the child without signatures: the parent's NSEC proves the "
    "delegation has no DS (RFC 4035 §5.2: an insecure delegation), the chain ends, the answer "
    "is insecure (NOERROR, no AD), not bogus; the server is not dnssec-lame for the child",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [
        dnskey(EX),
        Entry(f"{PLAIN} DS", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{PLAIN} 3600 IN NSEC {WWW} NS RRSIG NSEC")]),
        Entry(f"{WWW_PLAIN} DS", AA, authority=[soa(PLAIN)]),
        Entry(f"{PLAIN} DNSKEY", AA, authority=[soa(PLAIN)]),
        Entry(f"{PLAIN} A", AA, authority=[soa(PLAIN)]),
        Entry(f"{WWW_PLAIN} A", AA, answer=[PLAIN_A])],
        "ns1.example.com.: authoritative for example.com. (signed) and plain.example.com. "
        "(unsigned)")
    + ask(10, WWW_PLAIN) + expect(11, WWW_PLAIN, INSECURE, [PLAIN_A]),
)

# 9 -- CNAME from a secure zone to an NXDOMAIN in another secure zone
NET_SERVERS = {NET: [("ns1.example.net.", "1.2.4.4")]}
NET_APEX_NSEC = "example.net. 3600 IN NSEC ns1.example.net. NS SOA RRSIG NSEC DNSKEY"
NET_NS_NSEC = "ns1.example.net. 3600 IN NSEC example.net. A RRSIG NSEC"
CNAME_NX = "www.example.com. 3600 IN CNAME nothere.example.net."
write(
    "dlame_cname_to_nxdomain_other_zone",
    "www.example.com. (signed) is a CNAME to nothere.example.net., an NXDOMAIN proven in the "
    "signed example.net.: each zone is validated with its own chain (RFC 4035 §5), the rcode "
    "is the target's NXDOMAIN (RFC 6604 §3) and the answer is secure (AD)",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS})
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_NX))],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.4.4", [
        dnskey(NET),
        Entry("nothere.example.net. A", NX, authority=[
            *signed(NET, soa(NET)), *signed(NET, NET_APEX_NSEC), *signed(NET, NET_NS_NSEC)])],
        "ns1.example.net.: the signed example.net.")
    + ask(10, WWW) + expect(11, WWW, "QR RD RA AD DO NXDOMAIN", signed(EX, CNAME_NX)),
)

# 10 -- CNAME into an NSEC3 opt-out insecure delegation
INSEC = "insec.example.net."
WWW_INSEC = "www.insec.example.net."
CNAME_INSEC = f"www.example.com. 3600 IN CNAME {WWW_INSEC}"
INSEC_A = a_rr(WWW_INSEC, "10.20.40.50")
CHAIN = Nsec3Chain(NET, {NET: "NS SOA DNSKEY NSEC3PARAM", "ns1.example.net.": "A"}, flags=1)
OPTOUT_PROOF = [*signed(NET, CHAIN.match(NET)), *signed(NET, CHAIN.cover(INSEC))]
write(
    "dlame_cname_into_optout_insecure",
    "www.example.com. (signed) is a CNAME into insec.example.net., an unsigned delegation of "
    "the NSEC3-signed example.net. covered by an opt-out NSEC3 (RFC 5155 §6, §8.9): the "
    "target is insecure, the answer NOERROR with the target's address and no AD, not "
    "SERVFAIL",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS})
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_INSEC))],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.4.4", [
        dnskey(NET),
        Entry(f"{INSEC} DS", AA, authority=[*signed(NET, soa(NET)), *OPTOUT_PROOF]),
        sub(f"{INSEC} NS", "QR NOERROR",
            authority=[f"{INSEC} 3600 IN NS ns.insec.example.net.", *OPTOUT_PROOF],
            additional=["ns.insec.example.net. 3600 IN A 1.2.4.5"])],
        "ns1.example.net.: example.net., NSEC3 with opt-out")
    + server("1.2.4.5", [Entry(f"{WWW_INSEC} A", AA, answer=[INSEC_A])],
             "ns.insec.example.net.: the unsigned insec.example.net.")
    + ask(10, WWW) + expect(11, WWW, INSECURE, [*signed(EX, CNAME_INSEC), INSEC_A]),
)

# 11 -- DNAME with QNAME minimisation on
ALIAS = "alias.example.com."
DNAME = f"{ALIAS} 3600 IN DNAME {NET}"
WWW_NET_A = a_rr("www.example.net.", "10.20.50.60")
write(
    "dlame_dname_qmin",
    "qname-minimisation: yes: alias.example.com. (signed) is a DNAME to example.net. "
    "(signed); the minimised questions on the way do not change validation: the DNAME is "
    "verified, the synthesised CNAME accepted from it (RFC 6672 §5.3.1, RFC 4035 §5) and the "
    "target validated in its own zone; secure (AD)",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS}, tlds=("com.", "net."))
    + server("1.2.3.4", [
        dnskey(EX),
        Entry(f"{ALIAS} A", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{ALIAS} 3600 IN NSEC {WWW} DNAME RRSIG NSEC")]),
        sub(f"www.{ALIAS} A", AA, answer=[
            *signed(EX, DNAME), "www.alias.example.com. 3600 IN CNAME www.example.net."])],
        "ns1.example.com.: the signed example.com. with a DNAME at alias")
    + server("1.2.4.4", [dnskey(NET), Entry("www.example.net. A", AA,
                                            answer=signed(NET, WWW_NET_A))],
             "ns1.example.net.: the signed example.net.")
    + ask(10, "www.alias.example.com.")
    + expect(11, "www.alias.example.com.", SECURE, [
        *signed(EX, DNAME), "www.alias.example.com. 3600 IN CNAME www.example.net.",
        *signed(NET, WWW_NET_A)]),
    qmin=True,
)

# 12 -- the validator's DS question answered with a referral carrying the DS
write(
    "dlame_ds_fetch_answered_by_referral",
    "the validator's DS question for sub.example.com. (a cut it found from the signer name) is "
    "answered by the parent's server with a referral to sub.example.com. that carries the "
    "signed DS RRset: that DS is the parent's data (RFC 4035 §3.1.4.1) and the answer is "
    "secure",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX),
                         Entry(f"{WWW_SUB} A", AA,
                               answer=signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
                         sub_referral(ds=True)],
             "ns1.example.com.: answers www.sub.example.com. from the child it also serves, "
             "and refers any other question under sub.example.com.")
    + sub_server()
    + ask(10, WWW_SUB) + expect(11, WWW_SUB, SECURE, signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
)

# 13 -- after a referral to an unsigned child, the DS question goes to the parent
# (first version, in the baseline: the parent's server answered the DS question itself with
# a referral carrying the NSEC; a fault of the scenario: a server authoritative for the
# parent answers DS authoritatively, RFC 4035 §3.1.4.1, and what a validator makes of a
# referral instead is not specified)
PLAIN_NSEC = f"{PLAIN} 3600 IN NSEC {WWW} NS RRSIG NSEC"
write(
    "dlame_ds_fetch_referral_no_ds",
    "the signed example.com. refers www.plain.example.com. to the unsigned child's own "
    "server with an NSEC showing NS without DS; the DS question for plain.example.com. "
    "belongs to the parent (RFC 4035 §3.1.4.1), whose NSEC proves the delegation unsigned "
    "(RFC 4035 §5.2): the child's answer is insecure (NOERROR, no AD); the child's server, "
    "asked for the DS, would give an unsigned NODATA from the wrong side of the cut",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX),
                         Entry(f"{PLAIN} DS", AA, authority=[
                             *signed(EX, soa(EX)), *signed(EX, PLAIN_NSEC)]),
                         sub(f"{PLAIN} NS", "QR NOERROR",
                             authority=[f"{PLAIN} 3600 IN NS ns.plain.example.com.",
                                        *signed(EX, PLAIN_NSEC)],
                             additional=["ns.plain.example.com. 3600 IN A 1.2.3.7"])],
             "ns1.example.com.: the signed example.com.; plain.example.com. is delegated "
             "without DS")
    + server("1.2.3.7", [Entry(f"{WWW_PLAIN} A", AA, answer=[PLAIN_A]),
                         Entry(f"{PLAIN} DNSKEY", AA, authority=[soa(PLAIN)]),
                         Entry(f"{PLAIN} DS", AA, authority=[soa(PLAIN)]),
                         Entry(f"{WWW_PLAIN} DS", AA, authority=[soa(PLAIN)])],
             "ns.plain.example.com.: the unsigned plain.example.com.")
    + ask(10, WWW_PLAIN) + expect(11, WWW_PLAIN, INSECURE, [PLAIN_A]),
)

# 14 -- CNAME from one secure zone to another, QNAME minimisation on
CNAME_NET = "www.example.com. 3600 IN CNAME www.example.net."
write(
    "dlame_cname_secure_to_secure_qmin",
    "qname-minimisation: yes: www.example.com. (signed) is a CNAME to www.example.net. "
    "(signed under its own trust anchor): each RRset is validated with its own zone's keys "
    "(RFC 4035 §5), the answer is secure (AD)",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS}, tlds=("com.", "net."))
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_NET))],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.4.4", [dnskey(NET), Entry("www.example.net. A", AA,
                                            answer=signed(NET, WWW_NET_A))],
             "ns1.example.net.: the signed example.net.")
    + ask(10, WWW) + expect(11, WWW, SECURE, [*signed(EX, CNAME_NET), *signed(NET, WWW_NET_A)]),
    qmin=True,
)

# 15 -- a DNSKEY RRset whose signature does not verify, from one server
def bad_sig(line: str) -> str:
    """An RRSIG line whose signature bytes are changed (it no longer verifies)."""
    head, _, sig = line.rpartition(" ")
    return f"{head} {'A' * 8}{sig[8:]}"


def dnskey_bad_sig() -> Entry:
    from rpl import expand

    key, rrsig = expand(S, signed(EX, S.dnskey_line(EX)))
    return Entry(f"{EX} DNSKEY", AA, answer=[key, bad_sig(rrsig)])


write(
    "dlame_dnskey_bad_sig_one_server",
    "one server of the signed example.com. gives its DNSKEY RRset with an RRSIG that does not "
    "verify: the key set from that server is bogus; the validator fetches it again from "
    "another server (unbound.conf(5) val-max-restart: 'the maximum number the validator "
    "should restart validation with another authority') and the answer is secure",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey_bad_sig(), Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A)),
                         www_ds_nodata()],
             "ns1.example.com.: fast; its DNSKEY RRSIG does not verify")
    + good_server("1.2.3.5")
    + FAST_LAME + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
)

# 16 -- a CNAME without signature from one server
CNAME_IN = "alias.example.com. 3600 IN CNAME www.example.com."
write(
    "dlame_cname_unsigned_one_server",
    "one server of the signed example.com. answers a CNAME without RRSIG: it is dnssec-lame "
    "(unbound.conf(5) disable-dnssec-lame-check), the other server's signed CNAME and target "
    "are the answer, secure",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry(f"alias.{EX} A", AA, answer=[CNAME_IN, WWW_A]),
                         Entry(f"{WWW} A", AA, answer=[WWW_A]), catch_all_unsigned(EX)],
             "ns1.example.com.: fast; answers without signatures")
    + good_server("1.2.3.5", Entry(f"alias.{EX} A", AA,
                                   answer=[*signed(EX, CNAME_IN), *signed(EX, WWW_A)]))
    + FAST_LAME + ask(10, f"alias.{EX}")
    + expect(11, f"alias.{EX}", SECURE, [*signed(EX, CNAME_IN), *signed(EX, WWW_A)]),
)

# 17 -- a NODATA without proof from one server
write(
    "dlame_nodata_unsigned_one_server",
    "one server of the signed example.com. answers a NODATA with a bare SOA (no RRSIG, no "
    "NSEC): it is dnssec-lame; the other server's NSEC proof (RFC 4035 §3.1.3.1) makes the "
    "NODATA secure (AD)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} AAAA", AA, authority=[soa(EX)]),
                         Entry(f"{WWW} A", AA, answer=[WWW_A])],
             "ns1.example.com.: fast; a NODATA without signatures")
    + good_server("1.2.3.5", Entry(f"{WWW} AAAA", AA, authority=[
        *signed(EX, soa(EX)), *signed(EX, WWW_NSEC)]))
    + FAST_LAME + ask(10, WWW, "AAAA") + expect(11, WWW, SECURE, qtype="AAAA"),
)

# 18 -- QNAME minimisation over a child that shares its parent's server
write(
    "dlame_qmin_shared_server_child",
    "qname-minimisation: yes: deep.mid.example.com. (signed) shares its parent's server; the "
    "minimised questions meet mid.example.com. (an empty non-terminal of the parent) and "
    "deep.mid.example.com.'s apex answered from the child; the validator fetches the child's "
    "DS from the parent side and its DNSKEY; the answer is secure (RFC 9156, RFC 4035 §5)",
    [EX],
    root(ONE_SERVER, tlds=("com.",))
    + server("1.2.3.4", [
        dnskey(EX), dnskey(DEEP),
        Entry("mid.example.com. A", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{EX} 3600 IN NSEC {DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry("mid.example.com. DS", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{EX} 3600 IN NSEC {DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry(f"{DEEP} A", AA, authority=[
            *signed(DEEP, soa(DEEP)),
            *signed(DEEP, f"{DEEP} 3600 IN NSEC {WWW_DEEP} NS SOA RRSIG NSEC DNSKEY")]),
        Entry(f"{DEEP} DS", AA, answer=signed(EX, S.ds_line(DEEP))),
        Entry(f"{WWW_DEEP} A", AA, answer=signed(DEEP, DEEP_A))],
        "ns1.example.com.: authoritative for example.com. and deep.mid.example.com.")
    + ask(10, WWW_DEEP) + expect(11, WWW_DEEP, SECURE, signed(DEEP, DEEP_A)),
    qmin=True,
)

# 19 -- qtype DNAME asked with QNAME minimisation on
write(
    "dlame_dname_qtype_qmin",
    "qname-minimisation: yes: the client asks alias.example.com. DNAME; the minimised "
    "question on the way (qtype A, NODATA with its NSEC proof) does not stand for the answer: "
    "the DNAME RRset is asked for, validated and answered, secure (RFC 9156 §3, RFC 4035 §5)",
    [EX],
    root(ONE_SERVER, tlds=("com.",))
    + server("1.2.3.4", [
        dnskey(EX),
        Entry(f"{ALIAS} A", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{ALIAS} 3600 IN NSEC {WWW} DNAME RRSIG NSEC")]),
        Entry(f"{ALIAS} DNAME", AA, answer=signed(EX, DNAME))],
        "ns1.example.com.: the signed example.com. with a DNAME at alias")
    + ask(10, ALIAS, "DNAME") + expect(11, ALIAS, SECURE, signed(EX, DNAME), qtype="DNAME"),
    qmin=True,
)

# 20 -- a lame parent's referral without DS, QNAME minimisation on
write(
    "dlame_referral_without_ds_qmin",
    "qname-minimisation: yes: a server of the signed example.com. refers to sub.example.com. "
    "without DS or NSEC (no signature): dnssec-lame; the signed delegation from the other "
    "server is used and the answer is secure (RFC 4035 §5.2; unbound.conf(5) "
    "disable-dnssec-lame-check)",
    [EX],
    root(TWO_SERVERS, tlds=("com.",))
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, authority=[soa(EX)]),
                         sub_referral(ds=False), catch_all_unsigned(EX)],
             "ns1.example.com.: fast; a copy of example.com. without signatures or DS")
    + server("1.2.3.5", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         sub_referral(ds=True)],
             "ns2.example.com.: the signed example.com.")
    + sub_server("1.2.3.6", Entry(f"{SUB} A", AA, authority=[
        *signed(SUB, soa(SUB)),
        *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC DNSKEY")]))
    + FAST_LAME + ask(10, WWW_SUB)
    + expect(11, WWW_SUB, SECURE, signed(SUB, a_rr(WWW_SUB, "10.20.30.60"))),
    qmin=True,
)

# 21 -- CNAME to an NXDOMAIN whose zone has a dnssec-lame server
NET_TWO = {NET: [("ns1.example.net.", "1.2.4.4"), ("ns2.example.net.", "1.2.4.6")]}
write(
    "dlame_cname_target_zone_lame_server",
    "www.example.com. (signed) is a CNAME to nothere.example.net.; one of example.net.'s two "
    "servers answers the NXDOMAIN without signatures: it is dnssec-lame for example.net. and "
    "the other server's proven NXDOMAIN is taken: NXDOMAIN (RFC 6604), secure",
    [EX, NET],
    root({**ONE_SERVER, **NET_TWO})
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_NX))],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.4.4", [dnskey(NET),
                         Entry("nothere.example.net. A", NX, authority=[soa(NET)])],
             "ns1.example.net.: fast; its NXDOMAIN carries no signatures")
    + server("1.2.4.6", [
        dnskey(NET),
        Entry("nothere.example.net. A", NX, authority=[
            *signed(NET, soa(NET)), *signed(NET, NET_APEX_NSEC), *signed(NET, NET_NS_NSEC)])],
        "ns2.example.net.: the signed example.net.")
    + infra(1, "1.2.4.4", NET, 10) + infra(2, "1.2.4.6", NET, 900)
    + ask(10, WWW) + expect(11, WWW, "QR RD RA AD DO NXDOMAIN", signed(EX, CNAME_NX)),
)


# == second batch (written before its resolver changes) ====================================

# 22 -- a minimised question's NXDOMAIN without signatures from a dnssec-lame server
WWW_SUB_A = a_rr(WWW_SUB, "10.20.30.60")
write(
    "dlame_qmin_probe_nxdomain_lame",
    "qname-minimisation: yes: one server of the signed example.com. (an unsigned, stale copy) "
    "answers the minimised question for sub.example.com. with an NXDOMAIN without signatures: "
    "it is dnssec-lame (unbound.conf(5) disable-dnssec-lame-check; Unbound stops at an "
    "NXDOMAIN only when it is DNSSEC-signed), the other server's signed delegation is "
    "followed and the answer is secure",
    [EX],
    root(TWO_SERVERS, tlds=("com.",))
    + server("1.2.3.4", [dnskey(EX), "\n".join([
        "ENTRY_BEGIN", "MATCH opcode subdomain", "ADJUST copy_id copy_query", f"REPLY {NX}",
        "SECTION QUESTION", f"{SUB} IN A", "SECTION AUTHORITY", soa(EX), "ENTRY_END"])],
        "ns1.example.com.: fast; an unsigned copy of example.com. without sub.example.com.")
    + server("1.2.3.5", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         sub_referral(ds=True)],
             "ns2.example.com.: the signed example.com.")
    + sub_server("1.2.3.6", Entry(f"{SUB} A", AA, authority=[
        *signed(SUB, soa(SUB)),
        *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC DNSKEY")]))
    + FAST_LAME + ask(10, WWW_SUB) + expect(11, WWW_SUB, SECURE, signed(SUB, WWW_SUB_A)),
    qmin=True,
)

# 23 -- an unsigned child on its signed parent's servers does not make them dnssec-lame
PLAIN_DS_NODATA = Entry(f"{PLAIN} DS", AA, authority=[
    *signed(EX, soa(EX)), *signed(EX, f"{PLAIN} 3600 IN NSEC {WWW} NS RRSIG NSEC")])


def parent_and_plain(addr: str) -> str:
    return server(addr, [
        dnskey(EX), PLAIN_DS_NODATA,
        Entry(f"{WWW_PLAIN} DS", AA, authority=[soa(PLAIN)]),
        Entry(f"{PLAIN} DNSKEY", AA, authority=[soa(PLAIN)]),
        Entry(f"{WWW_PLAIN} A", AA, answer=[PLAIN_A]),
        Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A))],
        f"{addr}: authoritative for the signed example.com. and the unsigned "
        "plain.example.com.")


write(
    "dlame_unsigned_child_then_parent",
    "both servers of the signed example.com. also serve its unsigned child plain.example.com. "
    "and answer www.plain.example.com. from it, without signatures: the answer is not from "
    "example.com. (Unbound's iter_msg_from_zone: 'due to parent,child on same server, we "
    "might mark the server,zone lame inappropriately'), the NSEC proves the child unsigned: "
    "insecure; then www.example.com. is still asked of them and is secure",
    [EX],
    root(TWO_SERVERS) + parent_and_plain("1.2.3.4") + parent_and_plain("1.2.3.5")
    + ask(10, WWW_PLAIN) + expect(11, WWW_PLAIN, INSECURE, [PLAIN_A])
    + ask(20, WWW) + expect(21, WWW, SECURE, signed(EX, WWW_A)),
)


# 24 -- one server still has the zone's old key set (it does not match the DS)
def old_key_server(addr: str) -> str:
    """A server of example.com. signed with a key the trust anchor's DS does not name (a
    secondary left behind by a key rollover)."""
    import dns.dnssec
    import dns.name
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from rpl import EXPIRATION, INCEPTION, rr

    private = ed25519.Ed25519PrivateKey.generate()
    key = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)

    def with_sig(line: str) -> list[str]:
        rrset = rr(line)
        sig = dns.dnssec.sign(rrset, private, dns.name.from_text(EX), key,
                              inception=INCEPTION, expiration=EXPIRATION)
        return [line, f"{rrset.name} {rrset.ttl} IN RRSIG {sig.to_text()}"]

    return server(addr, [
        Entry(f"{EX} DNSKEY", AA, answer=with_sig(f"{EX} 3600 IN DNSKEY {key.to_text()}")),
        Entry(f"{WWW} A", AA, answer=with_sig(WWW_A)),
        Entry(f"{WWW} DS", AA, authority=[*with_sig(soa(EX)), *with_sig(WWW_NSEC)])],
        f"{addr}: fast; signs example.com. with an old key the DS does not match")


write(
    "dlame_dnskey_stale_keyset_one_server",
    "one server of the signed example.com. serves an old DNSKEY RRset (and signatures by it) "
    "that the trust anchor's DS does not match: its keys are bogus; the validator asks "
    "another server (unbound.conf(5) val-max-restart: validation restarts 'with another "
    "authority'), whose keys match the DS: the answer is secure",
    [EX],
    root(TWO_SERVERS) + old_key_server("1.2.3.4") + good_server("1.2.3.5")
    + FAST_LAME + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
)

# 25 -- DNAME into an NSEC3 opt-out insecure delegation, QNAME minimisation on
DNAME_INSEC = f"{ALIAS} 3600 IN DNAME {INSEC}"
WWW_ALIAS = f"www.{ALIAS}"
write(
    "dlame_dname_into_optout_qmin",
    "qname-minimisation: yes: alias.example.com. (signed) is a DNAME to insec.example.net., "
    "an unsigned delegation covered by an opt-out NSEC3 in the signed example.net. (RFC 5155 "
    "§6): the DNAME is secure, the target insecure, so the answer is NOERROR without AD "
    "(RFC 4035 §5, RFC 6672 §5.3.1)",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS}, tlds=("com.", "net."))
    + server("1.2.3.4", [
        dnskey(EX),
        Entry(f"{ALIAS} A", AA, authority=[
            *signed(EX, soa(EX)),
            *signed(EX, f"{ALIAS} 3600 IN NSEC {WWW} DNAME RRSIG NSEC")]),
        sub(f"{WWW_ALIAS} A", AA, answer=[
            *signed(EX, DNAME_INSEC), f"{WWW_ALIAS} 3600 IN CNAME {WWW_INSEC}"])],
        "ns1.example.com.: the signed example.com. with a DNAME at alias")
    + server("1.2.4.4", [
        dnskey(NET),
        Entry(f"{INSEC} DS", AA, authority=[*signed(NET, soa(NET)), *OPTOUT_PROOF]),
        sub(f"{INSEC} NS", "QR NOERROR",
            authority=[f"{INSEC} 3600 IN NS ns.insec.example.net.", *OPTOUT_PROOF],
            additional=["ns.insec.example.net. 3600 IN A 1.2.4.5"])],
        "ns1.example.net.: example.net., NSEC3 with opt-out")
    + server("1.2.4.5", [Entry(f"{WWW_INSEC} A", AA, answer=[INSEC_A]),
                         Entry(f"{INSEC} A", AA, authority=[soa(INSEC)])],
             "ns.insec.example.net.: the unsigned insec.example.net.")
    + ask(10, WWW_ALIAS)
    + expect(11, WWW_ALIAS, INSECURE, [*signed(EX, DNAME_INSEC),
                                       f"{WWW_ALIAS} 3600 IN CNAME {WWW_INSEC}", INSEC_A]),
    qmin=True,
)

# 26 -- a CNAME chain through an insecure zone into a secure one
CNAME_TO_PLAIN = f"{WWW} 3600 IN CNAME {WWW_PLAIN}"
PLAIN_TO_NET = f"{WWW_PLAIN} 3600 IN CNAME www.example.net."
write(
    "dlame_cname_chain_insecure_middle",
    "www.example.com. (signed) is a CNAME to www.plain.example.com., in an unsigned child "
    "proven by NSEC, itself a CNAME to www.example.net. (signed): each link is validated in "
    "its own zone (RFC 4035 §5); one insecure link makes the whole answer insecure: "
    "NOERROR, all three RRsets, no AD",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS})
    + server("1.2.3.4", [
        dnskey(EX), PLAIN_DS_NODATA,
        Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_TO_PLAIN)),
        sub(f"{PLAIN} NS", "QR NOERROR",
            authority=[f"{PLAIN} 3600 IN NS ns.plain.example.com.",
                       *signed(EX, f"{PLAIN} 3600 IN NSEC {WWW} NS RRSIG NSEC")],
            additional=["ns.plain.example.com. 3600 IN A 1.2.3.7"])],
        "ns1.example.com.: the signed example.com.; plain.example.com. delegated without DS")
    + server("1.2.3.7", [Entry(f"{WWW_PLAIN} A", AA, answer=[PLAIN_TO_NET]),
                         Entry(f"{PLAIN} DNSKEY", AA, authority=[soa(PLAIN)]),
                         Entry(f"{WWW_PLAIN} DS", AA, authority=[soa(PLAIN)])],
             "ns.plain.example.com.: the unsigned plain.example.com.")
    + server("1.2.4.4", [dnskey(NET), Entry("www.example.net. A", AA,
                                            answer=signed(NET, WWW_NET_A))],
             "ns1.example.net.: the signed example.net.")
    + ask(10, WWW)
    + expect(11, WWW, INSECURE, [*signed(EX, CNAME_TO_PLAIN), PLAIN_TO_NET,
                                 *signed(NET, WWW_NET_A)]),
)


# 27, 28 -- forwarders: not marked dnssec-lame; the validator retries another one
def forwarder(addr: str, strip: bool, comment: str) -> str:
    def data(*lines: str) -> list[str]:
        return list(lines) if strip else signed(EX, *lines)

    return server(addr, [
        Entry(f"{EX} DNSKEY", "QR RD RA NOERROR", answer=signed(EX, S.dnskey_line(EX))),
        Entry(f"{WWW} A", "QR RD RA NOERROR", answer=data(WWW_A)),
        Entry(f"{WWW} DS", "QR RD RA NOERROR", authority=[*data(soa(EX)), *data(WWW_NSEC)])],
        comment)


write(
    "dlame_forwarder_strips_signatures",
    "forward-zone '.': the only forwarder answers the signed example.com.'s data without "
    "RRSIGs (the dnssec-lame check is not made for forwarders, Unbound's iterator: 'not when "
    "forwarding, so we dont mark fwder lame'): the data cannot be validated, bogus, SERVFAIL "
    "(RFC 4035 §5.5)",
    [EX],
    forwarder("10.0.0.1", True, "10.0.0.1: a forwarder that strips signatures")
    + ask(10, WWW) + expect(11, WWW, SERVFAIL, match=MATCH_RCODE),
    forwarders=("10.0.0.1",),
)
write(
    "dlame_forwarders_one_strips",
    "forward-zone '.' with two forwarders: the fast one answers without RRSIGs; the "
    "validator finds the data bogus and restarts with the other forwarder (unbound.conf(5) "
    "val-max-restart, 'restart validation with another authority'), whose signed answer "
    "is secure (AD)",
    [EX],
    forwarder("10.0.0.1", True, "10.0.0.1: fast; strips signatures")
    + forwarder("10.0.0.2", False, "10.0.0.2: passes signatures on")
    + infra(1, "10.0.0.1", ".", 10) + infra(2, "10.0.0.2", ".", 900)
    + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
    forwarders=("10.0.0.1", "10.0.0.2"),
)


# == third batch (written before its resolver changes) =====================================

SUB_A = signed(SUB, WWW_SUB_A)

# 29 -- the validator's DS fetch through a forwarder
write(
    "dlame_forwarder_ds_fetch",
    "forward-zone '.': the trust anchor is example.com.'s; the answer is signed by its child "
    "sub.example.com.: the validator fetches the child's DS and DNSKEY through the forwarder "
    "(RFC 4035 §5: the chain from the anchor down to the signer) and the answer is secure",
    [EX],
    server("10.0.0.1", [
        Entry(f"{EX} DNSKEY", "QR RD RA NOERROR", answer=signed(EX, S.dnskey_line(EX))),
        Entry(f"{SUB} DNSKEY", "QR RD RA NOERROR", answer=signed(SUB, S.dnskey_line(SUB))),
        Entry(f"{SUB} DS", "QR RD RA NOERROR", answer=signed(EX, S.ds_line(SUB))),
        Entry(f"{WWW_SUB} A", "QR RD RA NOERROR", answer=SUB_A)],
        "10.0.0.1: a forwarder that passes signatures on")
    + ask(10, WWW_SUB) + expect(11, WWW_SUB, SECURE, SUB_A),
    forwarders=("10.0.0.1",),
)

# 30 -- a stub zone's DS comes from its parent
write(
    "dlame_stub_zone_ds_from_parent",
    "stub-zone sub.example.com. (stub-addr the child's server): the child's DS is asked of "
    "the parent example.com.'s servers, found from the root, not of the stub's server, which "
    "would answer from the wrong side of the cut (RFC 4035 §3.1.4.1: DS is the parent's "
    "data); the answer is secure",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         sub_referral(ds=True)],
             "ns1.example.com.: the signed example.com.")
    + sub_server("1.2.3.6", Entry(f"{SUB} DS", AA, authority=[
        *signed(SUB, soa(SUB)),
        *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC DNSKEY")]))
    + ask(10, WWW_SUB) + expect(11, WWW_SUB, SECURE, SUB_A),
    zones='stub-zone:\n\tname: "sub.example.com."\n\tstub-addr: 1.2.3.6\n',
)

# 31 -- qtype CNAME with QNAME minimisation
write(
    "dlame_cname_qtype_qmin",
    "qname-minimisation: yes: the client asks alias.example.com. CNAME; the CNAME RRset is "
    "the answer (not its target), validated: secure (RFC 1034 §3.6.2, RFC 4035 §5, RFC 9156)",
    [EX],
    root(ONE_SERVER, tlds=("com.",))
    + server("1.2.3.4", [
        dnskey(EX),
        Entry(f"alias.{EX} A", AA, answer=[*signed(EX, CNAME_IN), *signed(EX, WWW_A)]),
        Entry(f"alias.{EX} CNAME", AA, answer=signed(EX, CNAME_IN))],
        "ns1.example.com.: the signed example.com.")
    + ask(10, f"alias.{EX}", "CNAME")
    + expect(11, f"alias.{EX}", SECURE, signed(EX, CNAME_IN), qtype="CNAME"),
    qmin=True,
)

# 32, 33 -- the client asks for DS, QNAME minimisation on
write(
    "dlame_client_ds_qmin",
    "qname-minimisation: yes: the client asks sub.example.com. DS; it is the parent's data "
    "(RFC 4035 §3.1.4.1), asked of example.com.'s server, not of the child's (which would "
    "answer NODATA from the wrong side); secure",
    [EX],
    root(ONE_SERVER, tlds=("com.",))
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
                         sub_referral(ds=True)],
             "ns1.example.com.: the signed example.com.")
    + sub_server("1.2.3.6", Entry(f"{SUB} DS", AA, authority=[
        *signed(SUB, soa(SUB)),
        *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC DNSKEY")]))
    + ask(10, SUB, "DS") + expect(11, SUB, SECURE, signed(EX, S.ds_line(SUB)), qtype="DS"),
    qmin=True,
)
write(
    "dlame_client_ds_not_a_cut_qmin",
    "qname-minimisation: yes: the client asks www.example.com. DS, a name that is no zone "
    "cut: the signed NODATA with its NSEC proof (RFC 4035 §3.1.3.1) is the answer, secure",
    [EX],
    root(ONE_SERVER, tlds=("com.",))
    + server("1.2.3.4", [dnskey(EX), www_ds_nodata(),
                         Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A))],
             "ns1.example.com.: the signed example.com.")
    + ask(10, WWW, "DS") + expect(11, WWW, SECURE, qtype="DS"),
    qmin=True,
)

# 34 -- no server gives the DNSKEY RRset
write(
    "dlame_dnskey_servfail_everywhere",
    "every server of the signed example.com. answers its DNSKEY question with SERVFAIL: the "
    "keys cannot be had, the signed answer cannot be validated: bogus, SERVFAIL (RFC 4035 "
    "§5: a resolver with a trust anchor needs the zone's DNSKEY RRset)",
    [EX],
    root(TWO_SERVERS)
    + "".join(server(a, [Entry(f"{EX} DNSKEY", "QR AA SERVFAIL"),
                         Entry(f"{WWW} A", AA, answer=signed(EX, WWW_A))],
                     f"{a}: SERVFAIL for DNSKEY") for a in ("1.2.3.4", "1.2.3.5"))
    + ask(10, WWW) + expect(11, WWW, SERVFAIL, match=MATCH_RCODE),
)

# 35 -- no DO from the client: no AD, no RRSIG
write(
    "dlame_no_do_no_ad",
    "the client asks without DO (no EDNS): the signed answer, fetched past a dnssec-lame "
    "server and validated, is given without its RRSIG (RFC 4035 §3.2.1) and without AD "
    "(RFC 6840 §5.8: AD only to a query with DO or AD)",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=[WWW_A]), www_ds_nodata()],
             "ns1.example.com.: fast; answers without signatures")
    + good_server("1.2.3.5")
    + FAST_LAME + query(10, f"{WWW} A", "RD")
    + expect(11, WWW, "QR RD RA NOERROR", [WWW_A]),
)

# 36 -- every server of a signed child gives its keys unsigned
SUB_TWO = [("ns.sub.example.com.", "1.2.3.6"), ("ns2.sub.example.com.", "1.2.3.8")]
write(
    "dlame_child_keys_unsigned_everywhere",
    "sub.example.com. is delegated with a signed DS; both of its servers give its DNSKEY "
    "RRset without RRSIG: no key set can be verified (RFC 4035 §5.2), the child's signed "
    "answer is bogus: SERVFAIL",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [
        dnskey(EX), Entry(f"{SUB} DS", AA, answer=signed(EX, S.ds_line(SUB))),
        sub(f"{SUB} NS", "QR NOERROR",
            authority=[*(f"{SUB} 3600 IN NS {n}" for n, _ in SUB_TWO),
                       *signed(EX, S.ds_line(SUB))],
            additional=[f"{n} 3600 IN A {a}" for n, a in SUB_TWO])],
        "ns1.example.com.: the signed example.com.")
    + "".join(server(a, [Entry(f"{SUB} DNSKEY", AA, answer=[S.dnskey_line(SUB)]),
                         Entry(f"{WWW_SUB} A", AA, answer=SUB_A)],
                     f"{a}: a server of sub.example.com. whose DNSKEY RRset has no RRSIG")
              for _, a in SUB_TWO)
    + ask(10, WWW_SUB) + expect(11, WWW_SUB, SERVFAIL, match=MATCH_RCODE),
)

# 37 -- CNAME into a delegation NSEC3 proves unsigned (no opt-out)
CHAIN_NO = Nsec3Chain(NET, {NET: "NS SOA DNSKEY NSEC3PARAM", "ns1.example.net.": "A",
                            INSEC: "NS"})
NO_DS_PROOF = signed(NET, CHAIN_NO.match(INSEC))
write(
    "dlame_cname_into_nsec3_unsigned",
    "www.example.com. (signed) is a CNAME into insec.example.net., delegated by the "
    "NSEC3-signed example.net. with an NSEC3 matching the cut whose bitmap has NS and no DS "
    "(RFC 5155 §8.9): the target is insecure, the answer NOERROR without AD",
    [EX, NET],
    root({**ONE_SERVER, **NET_SERVERS})
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=signed(EX, CNAME_INSEC))],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.4.4", [
        dnskey(NET),
        Entry(f"{INSEC} DS", AA, authority=[*signed(NET, soa(NET)), *NO_DS_PROOF]),
        sub(f"{INSEC} NS", "QR NOERROR",
            authority=[f"{INSEC} 3600 IN NS ns.insec.example.net.", *NO_DS_PROOF],
            additional=["ns.insec.example.net. 3600 IN A 1.2.4.5"])],
        "ns1.example.net.: example.net., NSEC3 without opt-out")
    + server("1.2.4.5", [Entry(f"{WWW_INSEC} A", AA, answer=[INSEC_A])],
             "ns.insec.example.net.: the unsigned insec.example.net.")
    + ask(10, WWW) + expect(11, WWW, INSECURE, [*signed(EX, CNAME_INSEC), INSEC_A]),
)


# == fourth batch (written before its resolver changes) ====================================

SUB_DS = signed(EX, S.ds_line(SUB))

# 38 -- the client's DS question, one parent server dnssec-lame for it
write(
    "dlame_client_ds_unsigned_one_server",
    "the client asks sub.example.com. DS; the fast server of example.com. gives the DS RRset "
    "without its RRSIG: dnssec-lame (unbound.conf(5) disable-dnssec-lame-check), the other "
    "server's signed DS is the answer, secure",
    [EX],
    root(TWO_SERVERS)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=[S.ds_line(SUB)])],
             "ns1.example.com.: fast; the DS without signature")
    + server("1.2.3.5", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=SUB_DS)],
             "ns2.example.com.: the signed example.com.")
    + FAST_LAME + ask(10, SUB, "DS") + expect(11, SUB, SECURE, SUB_DS, qtype="DS"),
)

# 39 -- the client's DS question at an unsigned delegation
write(
    "dlame_client_ds_insecure_delegation",
    "the client asks plain.example.com. DS, an unsigned delegation of the signed "
    "example.com.: the parent's NODATA with the NSEC showing NS without DS is a secure proof "
    "that there is no DS (RFC 4035 §3.1.4.1, §5.4): NOERROR, empty answer, AD",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX), PLAIN_DS_NODATA,
                         sub(f"{PLAIN} NS", "QR NOERROR",
                             authority=[f"{PLAIN} 3600 IN NS ns.plain.example.com.",
                                        *signed(EX, PLAIN_NSEC)],
                             additional=["ns.plain.example.com. 3600 IN A 1.2.3.7"])],
             "ns1.example.com.: the signed example.com.")
    + server("1.2.3.7", [Entry(f"{PLAIN} DS", AA, authority=[soa(PLAIN)])],
             "ns.plain.example.com.: the unsigned child (its DS answer is from the wrong side)")
    + ask(10, PLAIN, "DS") + expect(11, PLAIN, SECURE, qtype="DS"),
)

# 40 -- the client's DS question with trust anchors at the parent and the child
write(
    "dlame_client_ds_two_anchors",
    "trust anchors at example.com. and at its child sub.example.com.; the client asks "
    "sub.example.com. DS: the DS RRset is the parent's data, validated with example.com.'s "
    "keys (RFC 4035 §3.1.4.1, §5), not looked for at the child's anchor: secure",
    [EX, SUB],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{SUB} DS", AA, answer=SUB_DS),
                         sub_referral(ds=True)],
             "ns1.example.com.: the signed example.com.")
    + sub_server("1.2.3.6", Entry(f"{SUB} DS", AA, authority=[
        *signed(SUB, soa(SUB)),
        *signed(SUB, f"{SUB} 3600 IN NSEC {WWW_SUB} NS SOA RRSIG NSEC DNSKEY")]))
    + ask(10, SUB, "DS") + expect(11, SUB, SECURE, SUB_DS, qtype="DS"),
)


# == fifth batch: QNAME-minimisation twins of batch 1 files ================================
# Unbound minimises by default; the same zones, asked label by label (RFC 9156), must give
# the same answers.  The twin is the file with qname-minimisation on and the root answering
# the minimised questions for the TLDs (empty non-terminals here).
ROOT_SOA = ". 86400 IN SOA a.root. host.root. 1 1800 900 604800 86400"


def qmin_twin(name: str) -> None:
    path = OUT / f"{name}.rpl"
    text = path.read_text()
    assert "qname-minimisation: no" in text, name
    tlds = "\n".join(Entry(f"{t} A", AA, match="opcode qname", adjust="copy_id copy_query",
                           authority=[ROOT_SOA]).text(S) for t in ("com.", "net."))
    head, root_end, rest = text.partition("RANGE_END\n")
    twin = (head.replace("qname-minimisation: no", "qname-minimisation: yes")
            .replace("SCENARIO_BEGIN ", "SCENARIO_BEGIN qname-minimisation: yes: ", 1)
            + tlds + "\n" + root_end + rest)
    (OUT / f"{name}_qmin.rpl").write_text(twin)


for twin in ("dlame_nxdomain_one_lame", "dlame_all_servers_lame_servfail",
             "dlame_dnskey_unsigned_one_server", "dlame_shared_server_ds_from_parent",
             "dlame_shared_server_insecure_child", "dlame_ds_nodata_not_a_cut",
             "dlame_cname_to_nxdomain_other_zone", "dlame_cname_into_optout_insecure",
             "dlame_cname_target_zone_lame_server", "dlame_nodata_unsigned_one_server"):
    qmin_twin(twin)


# == sixth batch (written before any resolver change it may need) ==========================

# 51 -- a stub zone's two servers, one dnssec-lame
write(
    "dlame_stub_zone_one_lame",
    "stub-zone example.com. with two stub-addr, the fast one an unsigned copy of the signed "
    "zone: a stub zone is iterated (no RD), so the dnssec-lame check applies "
    "(unbound.conf(5) disable-dnssec-lame-check): the other stub server's signed answer is "
    "taken, secure",
    [EX],
    root(ONE_SERVER)
    + server("1.2.3.4", [dnskey(EX), Entry(f"{WWW} A", AA, answer=[WWW_A]), www_ds_nodata()],
             "1.2.3.4: fast; answers without signatures")
    + good_server("1.2.3.5")
    + FAST_LAME + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
    zones='stub-zone:\n\tname: "example.com."\n\tstub-addr: 1.2.3.4\n\tstub-addr: 1.2.3.5\n',
)


# 52 -- a forward zone below the root, one forwarder stripping signatures
def zone_forwarder(addr: str, strip: bool, comment: str) -> str:
    def data(*lines: str) -> list[str]:
        return list(lines) if strip else signed(EX, *lines)

    return server(addr, [
        Entry(f"{EX} DNSKEY", "QR RD RA NOERROR", answer=signed(EX, S.dnskey_line(EX))),
        Entry(f"{WWW} A", "QR RD RA NOERROR", answer=data(WWW_A)),
        Entry(f"{WWW} DS", "QR RD RA NOERROR", authority=[*data(soa(EX)), *data(WWW_NSEC)])],
        comment)


write(
    "dlame_forward_zone_one_strips",
    "forward-zone example.com. with two forwarders, the fast one stripping RRSIGs: "
    "forwarders are not marked dnssec-lame (Unbound: 'not when forwarding'); the validator "
    "restarts with the other forwarder (unbound.conf(5) val-max-restart): secure",
    [EX],
    root(ONE_SERVER)
    + zone_forwarder("10.0.0.1", True, "10.0.0.1: fast; strips signatures")
    + zone_forwarder("10.0.0.2", False, "10.0.0.2: passes signatures on")
    + infra(1, "10.0.0.1", EX, 10) + infra(2, "10.0.0.2", EX, 900)
    + ask(10, WWW) + expect(11, WWW, SECURE, signed(EX, WWW_A)),
    zones='forward-zone:\n\tname: "example.com."\n\tforward-addr: 10.0.0.1\n'
          '\tforward-addr: 10.0.0.2\n',
)
