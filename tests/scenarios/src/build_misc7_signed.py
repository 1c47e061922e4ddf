"""Write the signed scenarios of tests/scenarios/testbound/misc7/ (issue 16 part 3, seventh
round, helper "r7misc"), beside Unbound's black_* and trust_cname_chain testdata: a server
that sends bogus data is passed over for another server of the zone, and CNAME chains that
cross trust anchors.  Real Ed25519 signatures from rpl.Signer; the root is unsigned and the
trust anchors are DS records of the signed zones (example.com., example.net.).

Sources: RFC 4035 §5 (a validator checks each RRset against its zone's keys; §5.5: bogus data
is not returned, and "a security-aware resolver ... SHOULD ... try other name servers"),
RFC 4033 §5 and RFC 4035 §4.3 (secure, insecure, bogus; the answer is secure only if every
RRset of it is), unbound.conf(5) val-max-restart ("The maximum number the validator should
restart validation with another authority in case of failed validation", default 5) and
Unbound's validator.c (val_blacklist: the servers that sent bogus data are put aside and the
query is sent again to the others).  ``python tests/scenarios/src/build_misc7_signed.py``
(also run by build_misc7.py).
"""

from __future__ import annotations

from pathlib import Path

from rpl import DATE, Entry, Signer, check, query, range_, sub

OUT = Path(__file__).parents[1] / "testbound" / "misc7"
S = Signer()
FORGER = Signer()  # keys nobody trusts: its signatures make data bogus
ROOT = "193.0.14.129"
AA = "QR AA NOERROR"
SECURE = "QR RD RA AD DO NOERROR"
INSECURE = "QR RD RA DO NOERROR"
SERVFAIL = "QR RD RA DO SERVFAIL"
MATCH = "opcode qname qtype rcode flags answer"
EX, NET, ORG = "example.com.", "example.net.", "example.org."
SERVERS = {EX: [("ns1.example.com.", "1.2.3.4"), ("ns2.example.com.", "1.2.3.5")],
           NET: [("ns.example.net.", "1.2.3.6")],
           ORG: [("ns.example.org.", "1.2.3.7")]}


def header(title: str, anchors: list[str]) -> str:
    tas = "".join(f'\ttrust-anchor: "{S.ds_line(z)}"\n' for z in anchors)
    return ("; misc7 (shadowdns's own testbound scenario, issue 16 part 3), written by "
            "tests/scenarios/src/build_misc7_signed.py\n"
            "server:\n\ttarget-fetch-policy: \"0 0 0 0 0\"\n\tqname-minimisation: no\n"
            f"\tminimal-responses: yes\n{tas}\tval-override-date: \"{DATE}\"\n"
            f"stub-zone:\n\tname: \".\"\n\tstub-addr: {ROOT}\nCONFIG_END\n\n"
            f"SCENARIO_BEGIN {title}\n\n")


def root() -> str:
    """The unsigned root: priming, a referral per zone, NODATA for their DS."""
    root_soa = ". 86400 IN SOA a.root. host.root. 1 1800 900 604800 86400"
    entries: list[Entry | str] = [
        Entry(". NS", AA, answer=[". 86400 IN NS K.ROOT-SERVERS.NET."],
              additional=[f"K.ROOT-SERVERS.NET. 86400 IN A {ROOT}"])]
    for zone, servers in SERVERS.items():
        entries.append(Entry(f"{zone} DS", AA, authority=[root_soa]))
        entries.append(sub(f"{zone} NS", "QR NOERROR",
                           authority=[f"{zone} 86400 IN NS {n}" for n, _ in servers],
                           additional=[f"{n} 86400 IN A {a}" for n, a in servers]))
    return range_(0, 1000, [ROOT], entries, S, "K.ROOT-SERVERS.NET.: the root (unsigned)")


def sig(zone: str, lines: list[str], signer: Signer = S) -> list[str]:
    """``lines`` (one RRset) and an RRSIG over them by ``signer``'s key of ``zone``."""
    return [*lines, signer.sign(zone, lines)]


def zone_server(addr: str, zone: str, data: list[Entry], comment: str,
                signed: bool = True) -> str:
    """A server of ``zone``: its DNSKEY (when signed) and ``data``."""
    entries: list[Entry | str] = list(data)
    if signed:
        entries.insert(0, Entry(f"{zone} DNSKEY", AA, answer=sig(zone, [S.dnskey_line(zone)])))
    return range_(0, 1000, [addr], entries, S, comment)


def a_rr(name: str, addr: str) -> str:
    return f"{name} 3600 IN A {addr}"


def write(name: str, doc: str, anchors: list[str], body: str) -> None:
    title, _, _ = doc.strip().partition("\n\n")
    comment = "".join(f"; {line}\n" for line in doc.strip().splitlines() if line)
    text = (header(" ".join(title.split()), anchors).replace("\nserver:", "\n" + comment
                                                              + "server:", 1)
            + root() + body + "\nSCENARIO_END\n")
    (OUT / f"{name}.rpl").write_text(text)


def ask(step: int, name: str) -> str:
    return query(step, f"{name} A", "RD DO")


def expect(step: int, name: str, reply: str, answer: list[str] | None = None,
           match: str = MATCH) -> str:
    return check(step, f"{name} A", reply, answer, match=match)


WWW = "www.example.com."
WWW_A = a_rr(WWW, "10.20.30.40")
FAST_NS1 = f"STEP 1 INFRA_RTT 1.2.3.4 {EX} 10\nSTEP 2 INFRA_RTT 1.2.3.5 {EX} 900\n"


def blacklisting() -> None:
    bogus = Entry(f"{WWW} A", AA, answer=sig(EX, [WWW_A], FORGER))
    good = Entry(f"{WWW} A", AA, answer=sig(EX, [WWW_A]))
    write("black_data_bad_sig_one_server", """
One server of the signed example.com. (asked first) sends the answer with a signature no key
of the zone made: the data is bogus, the other server is asked and its signed answer is
returned, secure

RFC 4035 §5.5 ("try other name servers" when validation fails); unbound.conf(5)
val-max-restart (default 5: validation restarts with another authority); Unbound's
validator.c val_blacklist puts the server that sent the bogus data aside.
""", [EX], zone_server("1.2.3.4", EX, [bogus], "ns1.example.com.: fast, forged signature")
        + zone_server("1.2.3.5", EX, [good], "ns2.example.com.: good")
        + FAST_NS1 + ask(10, WWW) + expect(11, WWW, SECURE, sig(EX, [WWW_A])))
    write("black_data_bad_sig_all_servers", """
Every server of the signed example.com. sends the answer with a signature no key of the zone
made: after trying them all the answer is bogus, SERVFAIL

RFC 4035 §5.5 (bogus data is not returned: SERVFAIL) after the other servers were tried
(unbound.conf(5) val-max-restart).
""", [EX], zone_server("1.2.3.4", EX, [bogus], "ns1.example.com.: forged signature")
        + zone_server("1.2.3.5", EX, [bogus], "ns2.example.com.: forged signature")
        + ask(10, WWW) + expect(11, WWW, SERVFAIL, match="opcode qname qtype rcode"))
    forged_keys = Entry(f"{EX} DNSKEY", AA,
                        answer=sig(EX, [FORGER.dnskey_line(EX)], FORGER))
    write("black_dnskey_other_key_one_server", """
One server of the signed example.com. (asked first) serves a DNSKEY set that the trust
anchor's DS does not match: the keys are bogus from it, the DNSKEY set is fetched from the
other server and the answer is secure

RFC 4035 §5.2 (the DNSKEY set must match the DS); RFC 4035 §5.5 (try other name servers);
Unbound's validator.c: a bogus key set blacklists the server and restarts (val-max-restart).
""", [EX], range_(0, 1000, ["1.2.3.4"], [forged_keys, good], S,
                  "ns1.example.com.: fast, other keys")
        + zone_server("1.2.3.5", EX, [good], "ns2.example.com.: good")
        + FAST_NS1 + ask(10, WWW) + expect(11, WWW, SECURE, sig(EX, [WWW_A])))


def cname_chains() -> None:
    cname = f"{WWW} 3600 IN CNAME www.example.net."
    net_a = a_rr("www.example.net.", "10.20.40.50")
    com_cname = Entry(f"{WWW} A", AA, answer=sig(EX, [cname]))
    com = "".join(zone_server(a, EX, [com_cname], f"{n}: example.com.")
                  for n, a in SERVERS[EX])
    net_good = zone_server("1.2.3.6", NET, [Entry("www.example.net. A", AA,
                                                  answer=sig(NET, [net_a]))],
                           "ns.example.net.: signed")
    write("trust_cname_chain_two_anchors", """
A CNAME from a zone under one trust anchor (example.com.) to a zone under another
(example.net.), both signed: each part is validated with its own anchor, the answer is secure

RFC 4035 §5 (each RRset is validated from the trust anchor above it) and RFC 4033 §5; an
answer is secure when every RRset in it is (RFC 4035 §4.3); unbound.conf(5) trust-anchor
(several anchors may be given).
""", [EX, NET], com + net_good + ask(10, WWW)
        + expect(11, WWW, SECURE, [*sig(EX, [cname]), *sig(NET, [net_a])]))
    org_cname = f"{WWW} 3600 IN CNAME www.example.org."
    org_a = a_rr("www.example.org.", "10.20.60.70")
    com_org = "".join(zone_server(a, EX, [Entry(f"{WWW} A", AA, answer=sig(EX, [org_cname]))],
                                  f"{n}: example.com.") for n, a in SERVERS[EX])
    write("trust_cname_chain_to_unanchored_zone", """
A secure CNAME (example.com., under a trust anchor) to a name in a zone no trust anchor covers
(example.org., unsigned, the root has no anchor): the answer is given without AD

RFC 4035 §4.3 (data with no trust anchor above it is not secure) and RFC 4033 §5 (insecure /
indeterminate data is answered, only bogus data is withheld); Unbound answers such a chain
without AD.
""", [EX], com_org + zone_server("1.2.3.7", ORG, [Entry("www.example.org. A", AA,
                                                          answer=[org_a])],
                                  "ns.example.org.: unsigned", signed=False)
        + ask(10, WWW) + expect(11, WWW, INSECURE, [*sig(EX, [org_cname]), org_a]))
    net_bogus = zone_server("1.2.3.6", NET, [Entry("www.example.net. A", AA,
                                                   answer=sig(NET, [net_a], FORGER))],
                            "ns.example.net.: forged signature on the target")
    write("trust_cname_chain_bogus_target", """
A secure CNAME (example.com.) to a name whose zone (example.net., under its own trust anchor)
serves it with a forged signature: the target is bogus, so the whole answer is SERVFAIL

RFC 4035 §5.5 (bogus data: SERVFAIL) and §4.3 (the answer is as weak as its weakest RRset);
the CNAME's own security does not make its target's data acceptable.
""", [EX, NET], com + net_bogus + ask(10, WWW)
        + expect(11, WWW, SERVFAIL, match="opcode qname qtype rcode"))
    write("trust_cname_chain_second_anchor_only", """
A CNAME from an unsigned zone no anchor covers (example.org.) into a signed zone under a trust
anchor (example.net.): the target is validated from its anchor, but the unsigned CNAME keeps
the answer from being secure (no AD)

RFC 4035 §4.3 (an answer is secure only if every RRset in it is) and RFC 4033 §5.
""", [NET], zone_server("1.2.3.7", ORG, [Entry("www.example.org. A", AA, answer=[
        "www.example.org. 3600 IN CNAME www.example.net."])], "ns.example.org.: unsigned",
                          signed=False) + net_good + ask(10, "www.example.org.")
        + expect(11, "www.example.org.", INSECURE,
                 ["www.example.org. 3600 IN CNAME www.example.net.", *sig(NET, [net_a])]))


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    blacklisting()
    cname_chains()


if __name__ == "__main__":
    build()
