"""Write the opt_* scenarios of tests/scenarios/testbound/steps_options (issue 16 part 3,
helper "steps"): unbound.conf options the candidate now honours (deny-any,
val-permissive-mode, ignore-cd-flag, harden-below-nxdomain, aggressive-nsec,
disable-dnssec-lame-check, val-sig-skew-min/max, val-max-restart), one aspect per file, each
title saying what unbound.conf(5) documents.  The zone example.com. is signed with a fresh
ECDSA P-256 key on every run (the trust anchor is its DS), so running this rewrites every
signature.  ``python tests/scenarios/src/build_options.py [KEYFILE.pem]`` (a PEM file keeps
the key).
"""

import calendar
import sys
import time
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rrset
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).parent))

from build_steps import HEADER as PLAIN_HEADER  # noqa: E402
from build_steps import OUT, entry, rng, root  # noqa: E402

KEYFILE = Path(sys.argv[1]) if len(sys.argv) > 1 else None
if KEYFILE is not None and KEYFILE.exists():
    key = serialization.load_pem_private_key(KEYFILE.read_bytes(), None)
else:
    key = ec.generate_private_key(ec.SECP256R1())
    if KEYFILE is not None:
        KEYFILE.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
Z = dns.name.from_text("example.com.")
dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
ds = dns.dnssec.make_ds(Z, dnskey, "SHA256")
DATE = "20070916134226"
NOW = calendar.timegm(time.strptime(DATE, "%Y%m%d%H%M%S"))
INC, EXP = NOW - 86400 * 10, NOW + 86400 * 10


def rr(text):
    name, ttl, cls, typ, *rest = text.split()
    rs = dns.rrset.from_text(name, int(ttl), cls, typ, " ".join(rest))
    return rs


def signed(text):
    rs = rr(text)
    sig = dns.dnssec.sign(rs, key, Z, dnskey, inception=INC, expiration=EXP, origin=None)
    return f"{rs.to_text()}\n{rs.name} {rs.ttl} IN RRSIG {sig.to_text()}"


DNSKEY_RR = f"example.com. 3600 IN DNSKEY {dnskey.to_text()}"
SOA = "example.com. 3600 IN SOA ns1.example.com. host.example.com. 1 3600 600 86400 300"

HEADER = PLAIN_HEADER.replace(
    "\tminimal-responses: yes\n",
    '\tminimal-responses: yes\n\ttrust-anchor: "{ds}"\n\tval-override-date: "{date}"\n',
)

ROOT = root()

AA = "QR AA NOERROR"
DNSKEY_ENTRY = entry("example.com. IN DNSKEY", signed(DNSKEY_RR), flags=AA)
DS_CATCH_ALL = entry(  # any DS question: a NODATA without NSEC proof
    "example.com. IN DS",
    authority=signed(SOA),
    flags=AA,
    match="opcode qtype",
    adjust="copy_id copy_query",
)


def signed_server(addr, *entries, comment=""):
    """A server of the signed example.com. (its DNSKEY RRset first) at ``addr``."""
    return rng(0, 1000, addr, DNSKEY_ENTRY, *entries, comment=comment)


SIGNED_ZONE = signed_server(
    "1.2.3.4",
    entry("www.example.com. IN A", signed("www.example.com. 3600 IN A 10.20.30.40"), flags=AA),
    entry("bad.example.com. IN A", "bad.example.com. 3600 IN A 10.20.30.66", flags=AA),
    entry("nothere.example.com. IN A", authority=signed(SOA), flags="QR AA NXDOMAIN"),
    DS_CATCH_ALL,
    comment="ns1.example.com.: www is signed, bad has no signature, nothere is an NXDOMAIN "
    "without NSEC proof; a DS query (a validator looking for a zone cut above "
    "unsigned data) gets a NODATA",
)

PLAIN_ZONE = rng(
    0,
    1000,
    "1.2.3.4",
    entry("www.example.com. IN A", "www.example.com. 3600 IN A 10.20.30.40", flags=AA),
    entry("www.example.com. IN ANY", "www.example.com. 3600 IN A 10.20.30.40", flags=AA),
    comment="ns1.example.com.",
)


def query(step, name, qtype="A", flags="RD"):
    return (
        f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY {flags}\nSECTION QUESTION\n"
        f"{name} IN {qtype}\nENTRY_END\n\n"
    )


def check(step, name, qtype="A", flags="QR RD RA NOERROR", answer="", match="all"):
    ans = f"SECTION ANSWER\n{answer}\n" if answer else ""
    return (
        f"STEP {step} CHECK_ANSWER\nENTRY_BEGIN\nMATCH {match}\nREPLY {flags}\n"
        f"SECTION QUESTION\n{name} IN {qtype}\n{ans}ENTRY_END\n\n"
    )


def write(name, title, body, extra="", dnssec=True, minimal=True):
    h = (
        HEADER.format(ds=ds_text, date=DATE, extra=extra, title=title)
        if dnssec
        else PLAIN_HEADER.format(extra=extra, title=title)
    )
    if not minimal:
        h = h.replace("minimal-responses: yes", "minimal-responses: no")
    (OUT / f"{name}.rpl").write_text(h + "\n" + body + "SCENARIO_END\n")


ds_text = f"example.com. 3600 IN DS {ds.to_text()}"
HDR = "opcode qtype qname rcode flags answer"



def asked(fname, title, zone, qname, expect, extra, qtype="A", qflags="RD DO", dnssec=True):
    """One question (step 1) to ``zone``'s server and the answer ``expect`` (step 10)."""
    body = ROOT + zone + query(1, qname, qtype, qflags) + expect
    write(fname, title, body, extra=extra, dnssec=dnssec)


DENY = "\tdeny-any: yes"
PERMISSIVE = "\tval-permissive-mode: yes"
WWW_SECURE = signed("www.example.com. 3600 IN A 10.20.30.40")
asked("opt_deny_any_notimp",
      "deny-any: yes: a query of type ANY gets an empty NOTIMP answer, nothing is asked upstream",
      PLAIN_ZONE, "www.example.com.", check(10, "www.example.com.", "ANY", "QR RD RA NOTIMP"),
      DENY, qtype="ANY", qflags="RD", dnssec=False)
write("opt_deny_any_other_types",
      "deny-any: yes: other types are answered as usual, ANY stays denied once they are cached",
      ROOT + PLAIN_ZONE + query(1, "www.example.com.")
      + check(10, "www.example.com.", answer="www.example.com. IN A 10.20.30.40")
      + query(20, "www.example.com.", "ANY")
      + check(30, "www.example.com.", "ANY", "QR RD RA NOTIMP"),
      extra=DENY, dnssec=False)
asked("opt_val_permissive_bogus",
      "val-permissive-mode: yes: a bogus answer reaches the client without AD instead of SERVFAIL",
      SIGNED_ZONE, "bad.example.com.",
      check(10, "bad.example.com.", flags="QR RD RA DO NOERROR",
            answer="bad.example.com. IN A 10.20.30.66", match=HDR), PERMISSIVE)
asked("opt_val_permissive_secure", "val-permissive-mode: yes: a secure answer still has the AD bit",
      SIGNED_ZONE, "www.example.com.",
      check(10, "www.example.com.", flags="QR RD RA AD DO NOERROR", answer=WWW_SECURE, match=HDR),
      PERMISSIVE)
asked("opt_val_permissive_nxdomain",
      "val-permissive-mode: yes: a bogus NXDOMAIN (no NSEC proof) is answered NXDOMAIN, without AD",
      SIGNED_ZONE, "nothere.example.com.",
      check(10, "nothere.example.com.", flags="QR RD RA DO NXDOMAIN", match=HDR), PERMISSIVE)
asked("opt_ignore_cd_bogus",
      "ignore-cd-flag: yes: a client's CD bit does not get it bogus data: SERVFAIL",
      SIGNED_ZONE, "bad.example.com.",
      check(10, "bad.example.com.", flags="QR RD RA CD DO SERVFAIL",
            match="opcode qtype qname rcode flags"),
      "\tignore-cd-flag: yes", qflags="RD CD DO")
asked("opt_ignore_cd_secure",
      "ignore-cd-flag: yes: a CD query for secure data is answered with the data",
      SIGNED_ZONE, "www.example.com.",
      check(10, "www.example.com.", answer=WWW_SECURE, match="opcode qtype qname rcode answer"),
      "\tignore-cd-flag: yes", qflags="RD CD DO")
asked("opt_cd_flag_honoured",
      "ignore-cd-flag: no (the default): a CD query gets the bogus data, unchecked",
      SIGNED_ZONE, "bad.example.com.",
      check(10, "bad.example.com.", flags="QR RD RA CD DO NOERROR",
            answer="bad.example.com. IN A 10.20.30.66", match=HDR),
      "\tignore-cd-flag: no", qflags="RD CD DO")

# -- batch 3: harden-below-nxdomain and aggressive-nsec ---------------------------------
NSEC = "example.com. 3600 IN NSEC www.example.com. A NS SOA RRSIG NSEC DNSKEY"
NX_PROOF = signed(SOA) + "\n" + signed(NSEC)
NSEC_ZONE = signed_server(
    "1.2.3.4",
    entry("a.example.com. IN A", authority=NX_PROOF, flags="QR AA NXDOMAIN"),
    entry("b.a.example.com. IN A", signed("b.a.example.com. 3600 IN A 10.20.30.50"), flags=AA),
    entry("c.example.com. IN A", signed("c.example.com. 3600 IN A 10.20.30.51"), flags=AA),
    DS_CATCH_ALL,
    comment="ns1.example.com.: a secure NXDOMAIN for a.example.com. whose NSEC covers "
    "example.com. to www.example.com.; the server still answers b.a and c, "
    "which shows whether they were asked",
)
PLAIN_NX_ZONE = rng(
    0,
    1000,
    "1.2.3.4",
    entry("a.example.com. IN A", authority=SOA, flags="QR AA NXDOMAIN"),
    entry("b.a.example.com. IN A", "b.a.example.com. 3600 IN A 10.20.30.50", flags=AA),
    comment="ns1.example.com.: an old server that says NXDOMAIN for an empty non-terminal",
)


def nx_then(name, answer_check, zone, extra, title, fname, dnssec=True):
    qflags = "RD DO" if dnssec else "RD"
    first = check(
        10,
        "a.example.com.",
        flags=("QR RD RA AD DO NXDOMAIN" if dnssec else "QR RD RA NXDOMAIN"),
        match="opcode qtype qname rcode flags answer",
    )
    write(
        fname,
        title,
        ROOT
        + zone
        + query(1, "a.example.com.", flags=qflags)
        + first
        + query(20, name, flags=qflags)
        + answer_check,
        extra=extra,
        dnssec=dnssec,
    )


nx_then(
    "b.a.example.com.",
    check(30, "b.a.example.com.", answer="b.a.example.com. IN A 10.20.30.50"),
    PLAIN_NX_ZONE,
    "",
    "harden-below-nxdomain (default yes): an insecure NXDOMAIN does not "
    "deny the names below it (only DNSSEC-secure ones do): they are asked",
    "opt_below_nxdomain_insecure_asks",
    dnssec=False,
)
nx_then(
    "b.a.example.com.",
    check(30, "b.a.example.com.", answer="b.a.example.com. IN A 10.20.30.50"),
    PLAIN_NX_ZONE,
    "\tharden-below-nxdomain: no",
    "harden-below-nxdomain: no: names below an NXDOMAIN are asked",
    "opt_below_nxdomain_no_insecure",
    dnssec=False,
)
nx_then(
    "b.a.example.com.",
    check(
        30,
        "b.a.example.com.",
        flags="QR RD RA AD DO NXDOMAIN",
        match="opcode qtype qname rcode flags answer",
    ),
    NSEC_ZONE,
    "\tharden-below-nxdomain: yes\n\taggressive-nsec: no",
    "harden-below-nxdomain: yes: a name below a secure NXDOMAIN is NXDOMAIN from the "
    "cache (RFC 8020), not asked",
    "opt_below_nxdomain_secure_cut",
)
nx_then(
    "b.a.example.com.",
    check(
        30,
        "b.a.example.com.",
        flags="QR RD RA AD DO NOERROR",
        answer=signed("b.a.example.com. 3600 IN A 10.20.30.50"),
        match="opcode qtype qname rcode flags answer",
    ),
    NSEC_ZONE,
    "\tharden-below-nxdomain: no\n\taggressive-nsec: no",
    "harden-below-nxdomain: no (and aggressive-nsec: no): a name below a secure NXDOMAIN is asked",
    "opt_below_nxdomain_no_secure",
)
nx_then(
    "c.example.com.",
    check(
        30,
        "c.example.com.",
        flags="QR RD RA AD DO NOERROR",
        answer=signed("c.example.com. 3600 IN A 10.20.30.51"),
        match="opcode qtype qname rcode flags answer",
    ),
    NSEC_ZONE,
    "\taggressive-nsec: no",
    "aggressive-nsec: no: a name a cached NSEC covers is asked, not denied from the cache",
    "opt_aggressive_nsec_off",
)
nx_then(
    "c.example.com.",
    check(
        30,
        "c.example.com.",
        flags="QR RD RA AD DO NXDOMAIN",
        match="opcode qtype qname rcode flags answer",
    ),
    NSEC_ZONE,
    "\taggressive-nsec: yes",
    "aggressive-nsec: yes (RFC 8198): a name a cached validated NSEC covers is denied "
    "from the cache, not asked",
    "opt_aggressive_nsec_on",
)

# -- batch 4: disable-dnssec-lame-check ---------------------------------------------------
ROOT2 = root(ns=(("ns1", "1.2.3.4"), ("ns2", "1.2.3.5")))

CHAIN = {
    "www": "www.example.com. 3600 IN NSEC example.com. A RRSIG NSEC",
    "sub": "sub.example.com. 3600 IN NSEC www.example.com. A RRSIG NSEC",
}


def ds_nodata(label):
    """A signed zone's answer to DS at a name that is no delegation: NODATA, NSEC proof."""
    return entry(
        f"{label}.example.com. IN DS", authority=signed(SOA) + "\n" + signed(CHAIN[label]), flags=AA
    )


def lame_zone(sub_entry):
    entries = [
        DNSKEY_ENTRY,
        entry("www.example.com. IN A", "www.example.com. 3600 IN A 10.20.30.40", flags=AA),
    ]
    if sub_entry:
        entries.append(sub_entry)
    entries += [ds_nodata("www"), ds_nodata("sub")]
    return rng(
        0,
        1000,
        "1.2.3.4",
        *entries,
        comment="ns1.example.com.: fast, and DNSSEC-lame: its answers have no RRSIG",
    )


GOOD_NS2 = signed_server(
    "1.2.3.5",
    entry("www.example.com. IN A", signed("www.example.com. 3600 IN A 10.20.30.40"), flags=AA),
    entry("sub.example.com. IN A", signed("sub.example.com. 3600 IN A 10.20.30.52"), flags=AA),
    ds_nodata("www"),
    ds_nodata("sub"),
    comment="ns2.example.com.: slow, signed answers",
)

RTTS = "STEP 1 INFRA_RTT 1.2.3.4 example.com. 10\n\nSTEP 2 INFRA_RTT 1.2.3.5 example.com. 900\n\n"
SECURE = "opcode qtype qname rcode flags answer"


def secure_a(step, label, address):
    """Ask ``label``.example.com. A (with DO) and expect its signed address, AD set."""
    name = f"{label}.example.com."
    return query(step, name, flags="RD DO") + check(
        step + 10, name, flags="QR RD RA AD DO NOERROR",
        answer=signed(f"{name} 3600 IN A {address}"), match=SECURE)


def lame_body(sub_entry):
    return (ROOT2 + lame_zone(sub_entry) + GOOD_NS2 + RTTS
            + secure_a(10, "www", "10.20.30.40") + secure_a(30, "sub", "10.20.30.52"))


write(
    "opt_dnssec_lame_check_on",
    "disable-dnssec-lame-check: no (the default): a server that answers a signed zone "
    "without RRSIGs is lame for the zone and not asked again",
    lame_body(None),
    extra="\tdisable-dnssec-lame-check: no",
)
lame_sub = entry("sub.example.com. IN A", "sub.example.com. 3600 IN A 10.20.30.52", flags=AA)
lame_sub = lame_sub.replace("ENTRY_BEGIN\n", "ENTRY_BEGIN\nMANDATORY\n", 1)
write(
    "opt_dnssec_lame_check_off",
    "disable-dnssec-lame-check: yes: a server that answers without RRSIGs is not marked "
    "lame; it is asked again (the validator then goes to the other server)",
    lame_body(lame_sub),
    extra="\tdisable-dnssec-lame-check: yes",
)


# -- batch 5: val-sig-skew-min / val-sig-skew-max ------------------------------------------
def signed_window(text, inception, expiration):
    rs = rr(text)
    sig = dns.dnssec.sign(
        rs, key, Z, dnskey, inception=inception, expiration=expiration, origin=None
    )
    return f"{rs.to_text()}\n{rs.name} {rs.ttl} IN RRSIG {sig.to_text()}"


def skew_zone(www):
    return signed_server(
        "1.2.3.4",
        entry("www.example.com. IN A", www, flags=AA),
        ds_nodata("www"),
        comment="ns1.example.com.: the signature over www's A has the validity window under test",
    )


def skew_case(fname, title, window, extra, secure):
    www = signed_window("www.example.com. 3600 IN A 10.20.30.40", *window)
    if secure:
        expect = check(
            10,
            "www.example.com.",
            flags="QR RD RA AD DO NOERROR",
            answer=www,
            match="opcode qtype qname rcode flags answer",
        )
    else:
        expect = check(
            10,
            "www.example.com.",
            flags="QR RD RA DO SERVFAIL",
            match="opcode qtype qname rcode flags",
        )
    write(
        fname,
        title,
        ROOT + skew_zone(www) + query(1, "www.example.com.", flags="RD DO") + expect,
        extra=extra,
    )


H = 3600
skew_case(
    "opt_sig_skew_default_allows",
    "val-sig-skew (defaults 3600/86400): a 20-day signature expired an hour ago is "
    "still valid (10 % of its lifetime, capped at a day)",
    (NOW - 20 * 86400, NOW - H),
    "",
    True,
)
skew_case(
    "opt_sig_skew_zero",
    "val-sig-skew-min: 0 and val-sig-skew-max: 0: no clock skew allowance, a signature "
    "expired an hour ago is bogus",
    (NOW - 20 * 86400, NOW - H),
    "\tval-sig-skew-min: 0\n\tval-sig-skew-max: 0",
    False,
)
skew_case(
    "opt_sig_skew_max_caps",
    "val-sig-skew-max: 1800 caps the allowance (applied after the minimum): a signature "
    "expired an hour ago is bogus",
    (NOW - 20 * 86400, NOW - H),
    "\tval-sig-skew-max: 1800",
    False,
)
skew_case(
    "opt_sig_skew_min_raises",
    "val-sig-skew-min: 7200: a two-hour signature expired 90 minutes ago is still "
    "valid (10 % of its lifetime is only 12 minutes)",
    (NOW - 2 * H - 5400, NOW - 5400),
    "\tval-sig-skew-min: 7200",
    True,
)
skew_case(
    "opt_sig_skew_not_yet_valid",
    "val-sig-skew-min/max: 0: a signature whose inception is half an hour ahead is not yet valid",
    (NOW + 1800, NOW + 20 * 86400),
    "\tval-sig-skew-min: 0\n\tval-sig-skew-max: 0",
    False,
)


# -- batch 6: val-max-restart ------------------------------------------------------------------
def root_with(servers):
    return root(ns=tuple(servers))


GOOD_WWW = signed("www.example.com. 3600 IN A 10.20.30.40")
BAD_WWW = GOOD_WWW.replace("IN A 10.20.30.40", "IN A 10.20.30.99")  # the signature no longer fits


def server(addr, www, comment):
    return signed_server(
        addr,
        entry("www.example.com. IN A", www, flags=AA),
        ds_nodata("www"),
        comment=comment,
    )


def restart_case(fname, title, extra, servers, secure):
    body = root_with([(n, a) for n, a, _, _ in servers])
    body += "".join(
        server(
            a,
            GOOD_WWW if good else BAD_WWW,
            f"{n}.example.com.: {'good' if good else 'a signature that does not verify'}",
        )
        for n, a, _, good in servers
    )
    body += "".join(
        f"STEP {i + 1} INFRA_RTT {a} example.com. {rtt}\n\n"
        for i, (_, a, rtt, _) in enumerate(servers)
    )
    body += query(10, "www.example.com.", flags="RD DO")
    if secure:
        body += check(
            20,
            "www.example.com.",
            flags="QR RD RA AD DO NOERROR",
            answer=GOOD_WWW,
            match="opcode qtype qname rcode flags answer",
        )
    else:
        body += check(
            20,
            "www.example.com.",
            flags="QR RD RA DO SERVFAIL",
            match="opcode qtype qname rcode flags",
        )
    write(fname, title, body, extra=extra)


TWO = [("ns1", "1.2.3.4", 10, False), ("ns2", "1.2.3.5", 900, True)]
restart_case(
    "opt_val_max_restart_default",
    "val-max-restart (default 5): bogus data from the fast server, the validator "
    "asks the zone's other server and the answer is secure",
    "",
    TWO,
    True,
)
restart_case(
    "opt_val_max_restart_zero",
    "val-max-restart: 0: bogus data is not fetched again from another server: SERVFAIL",
    "\tval-max-restart: 0",
    TWO,
    False,
)
restart_case(
    "opt_val_max_restart_one",
    "val-max-restart: 1: one more server is asked after bogus data; when it too is "
    "bogus the answer is SERVFAIL although a third server is good",
    "\tval-max-restart: 1",
    [("ns1", "1.2.3.4", 10, False), ("ns2", "1.2.3.5", 300, False), ("ns3", "1.2.3.6", 900, True)],
    False,
)


# -- batch 7: val-clean-additional ---------------------------------------------------------
NS_SIGNED = signed("example.com. 3600 IN NS ns1.example.com.")
GLUE = "ns1.example.com. 3600 IN A 1.2.3.4"


def extras_case(fname, title, extra, authority, additional, kept, dnssec=True):
    """A positive answer with ``authority`` (an NS RRset) and ``additional`` beside it
    (minimal-responses: no); ``kept``: which of the two the client sees."""
    www = signed("www.example.com. 3600 IN A 10.20.30.40") if dnssec else (
        "www.example.com. 3600 IN A 10.20.30.40")
    zone = rng(0, 1000, "1.2.3.4",
               *((DNSKEY_ENTRY,) if dnssec else ()),
               entry("www.example.com. IN A", www, authority=authority, additional=additional,
                     flags=AA),
               ds_nodata("www"),
               comment="ns1.example.com.: the answer comes with the NS RRset"
               + (" and an address" if additional else ""))
    flags = "QR RD RA AD DO NOERROR" if dnssec else "QR RD RA DO NOERROR"
    shown = [(section, records) for section, records in
             (("AUTHORITY", authority), ("ADDITIONAL", additional)) if records in kept]
    expect = (f"STEP 10 CHECK_ANSWER\nENTRY_BEGIN\nMATCH all\nREPLY {flags}\n"
              f"SECTION QUESTION\nwww.example.com. IN A\nSECTION ANSWER\n{www}\n"
              + "".join(f"SECTION {section}\n{records}\n" for section, records in shown)
              + "ENTRY_END\n\n")
    # the NS RRset and glue of an answer are kept by Unbound's scrubber only with
    # iter-scrub-promiscuous: no (yes by default since Unbound 1.24.1)
    extra = "\titer-scrub-promiscuous: no" + ("\n" + extra if extra else "")
    write(fname, title, ROOT + zone + query(1, "www.example.com.", flags="RD DO") + expect,
          extra=extra, minimal=False)


def clean_case(fname, title, glue, extra, kept, dnssec=True):
    """The signed (or, insecure, unsigned) NS RRset and ``glue``; the glue shown if ``kept``."""
    ns = NS_SIGNED if dnssec else "example.com. 3600 IN NS ns1.example.com."
    extras_case(fname, title, extra, ns, glue, (ns, glue) if kept else (ns,), dnssec)


clean_case("opt_clean_additional_default",
           "val-clean-additional (default yes): an unsigned address in the additional section "
           "of a secure answer is removed", GLUE, "", False)
clean_case("opt_clean_additional_no",
           "val-clean-additional: no: an unsigned address in the additional section of a "
           "secure answer stays", GLUE, "\tval-clean-additional: no", True)
clean_case("opt_clean_additional_signed_kept",
           "val-clean-additional: yes: a signed, valid address in the additional section of "
           "a secure answer stays", signed(GLUE), "\tval-clean-additional: yes", True)
clean_case("opt_clean_additional_insecure_untouched",
           "val-clean-additional: yes: insecure answers are not affected, their unsigned "
           "additional data stays", GLUE, "\tval-clean-additional: yes\n"
           "\tdomain-insecure: \"example.com\"", True, dnssec=False)


# -- batch 8: a secure answer's unsigned NS RRset (Unbound's val_check_nonsecure) ----------
UNSIGNED_NS = "example.com. 3600 IN NS ns1.example.com."


def ns_case(fname, title, extra, kept, dnssec=True):
    """An unsigned NS RRset beside the answer, nothing in the additional section."""
    extras_case(fname, title, extra, UNSIGNED_NS, "", (UNSIGNED_NS,) if kept else (), dnssec)


ns_case("val_unsigned_ns_removed",
        "a secure answer loses the unsigned NS RRset its server sent beside it (it does not "
        "verify; Unbound's validator removes such NS RRsets from the authority section)",
        "", False)
ns_case("val_unsigned_ns_insecure_kept",
        "an insecure answer keeps the unsigned NS RRset its server sent beside it",
        "\tdomain-insecure: \"example.com\"", True, dnssec=False)


# -- batch 9: use-caps-for-id (0x20) ------------------------------------------------------------
def caps_case(fname, title, extra, lowercase):
    """www.example.com. A resolved; with ``lowercase`` the query to the zone's server is
    checked to carry the name exactly in lower case (MATCH qcase)."""
    match = "opcode qtype qname qcase" if lowercase else "opcode qtype qname"
    out = (f"STEP 10 CHECK_OUT_QUERY\nENTRY_BEGIN\nMATCH {match}\nREPLY\n"
           "SECTION QUESTION\nwww.example.com. IN A\nENTRY_END\n\n")
    write(fname, title, ROOT + PLAIN_ZONE + query(1, "www.example.com.", flags="RD") + out
          + check(20, "www.example.com.", answer="www.example.com. IN A 10.20.30.40"),
          extra=extra, dnssec=False)


caps_case("opt_caps_for_id_default_off",
          "use-caps-for-id (default no): names are sent upstream as asked, in lower case, "
          "without 0x20 case randomisation", "", True)
caps_case("opt_caps_for_id_no",
          "use-caps-for-id: no: names are sent upstream without 0x20 case randomisation",
          "\tuse-caps-for-id: no", True)
caps_case("opt_caps_for_id_yes",
          "use-caps-for-id: yes: with 0x20 (the server echoes the case) the name resolves",
          "\tuse-caps-for-id: yes", False)


# -- batch 10: val-nsec3-keysize-iterations -------------------------------------------------
def nsec3_chain(iterations):
    """The NSEC3 records (no salt) of example.com.'s two names, apex and www."""
    owners = {"example.com.": "NS SOA RRSIG DNSKEY NSEC3PARAM", "www.example.com.": "A RRSIG"}
    hashed = sorted((dns.dnssec.nsec3_hash(n, None, iterations, 1).lower(), t)
                    for n, t in owners.items())
    return [f"{h}.example.com. 3600 IN NSEC3 1 0 {iterations} - "
            f"{hashed[(i + 1) % len(hashed)][0]} {types}"
            for i, (h, types) in enumerate(hashed)]


def iterations_case(fname, title, extra, iterations, secure):
    """nothere.example.com. A: an NXDOMAIN proved by NSEC3 records of ``iterations``."""
    proof = "\n".join([signed(SOA)] + [signed(r) for r in nsec3_chain(iterations)])
    zone = signed_server("1.2.3.4",
                         entry("nothere.example.com. IN A", authority=proof,
                               flags="QR AA NXDOMAIN"),
                         comment=f"ns1.example.com.: NSEC3 with {iterations} iterations")
    flags = "QR RD RA AD DO NXDOMAIN" if secure else "QR RD RA DO NXDOMAIN"
    write(fname, title, ROOT + zone + query(1, "nothere.example.com.", flags="RD DO")
          + check(10, "nothere.example.com.", flags=flags, match=HDR), extra=extra)


iterations_case("opt_nsec3_iterations_within",
                "val-nsec3-keysize-iterations (default 150): an NXDOMAIN proved with NSEC3 "
                "of 10 iterations is secure", "", 10, True)
iterations_case("opt_nsec3_iterations_above",
                "val-nsec3-keysize-iterations: 5: NSEC3 with 10 iterations makes the "
                "NXDOMAIN insecure (no AD), not bogus", '\tval-nsec3-keysize-iterations: "5"',
                10, False)
iterations_case("opt_nsec3_iterations_pairs",
                "val-nsec3-keysize-iterations: the same limit for every key size (1024 5 2048 "
                "5 4096 5): NSEC3 with 10 iterations makes the NXDOMAIN insecure",
                '\tval-nsec3-keysize-iterations: "1024 5 2048 5 4096 5"', 10, False)


# -- batch 11: harden-algo-downgrade ----------------------------------------------------------
KEY384 = ec.generate_private_key(ec.SECP384R1()) if KEYFILE is None else None
if KEYFILE is not None:
    KEYFILE384 = KEYFILE.with_name(KEYFILE.stem + "-384.pem")
    if KEYFILE384.exists():
        KEY384 = serialization.load_pem_private_key(KEYFILE384.read_bytes(), None)
    else:
        KEY384 = ec.generate_private_key(ec.SECP384R1())
        KEYFILE384.write_bytes(KEY384.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
DNSKEY384 = dns.dnssec.make_dnskey(KEY384.public_key(), dns.dnssec.Algorithm.ECDSAP384SHA384,
                                   flags=257)
DS384 = f"example.com. 3600 IN DS {dns.dnssec.make_ds(Z, DNSKEY384, 'SHA256').to_text()}"
BOTH_KEYS = f"{DNSKEY_RR}\nexample.com. 3600 IN DNSKEY {DNSKEY384.to_text()}"


def signed_by(text, algorithms):
    """``text``'s RRset with an RRSIG by the key of each of ``algorithms`` (13, 14)."""
    rs = dns.rrset.from_text_list(*_fields(text)) if "\n" in text else rr(text)
    lines = [rs.to_text()]
    for alg in algorithms:
        private, public = (key, dnskey) if alg == 13 else (KEY384, DNSKEY384)
        sig = dns.dnssec.sign(rs, private, Z, public, inception=INC, expiration=EXP, origin=None)
        lines.append(f"{rs.name} {rs.ttl} IN RRSIG {sig.to_text()}")
    return "\n".join(lines)


def _fields(text):
    """One RRset of several lines as dns.rrset.from_text_list's arguments."""
    rows = [line.split() for line in text.splitlines()]
    name, ttl, cls, typ = rows[0][:4]
    return name, int(ttl), cls, typ, [" ".join(r[4:]) for r in rows]


def algo_case(fname, title, extra, key_algs, data_algs, secure):
    """example.com. with a DS of algorithm 13 and one of 14 (two trust anchors); its DNSKEY
    RRset signed by ``key_algs``, www's address by ``data_algs``."""
    www = signed_by("www.example.com. 3600 IN A 10.20.30.40", data_algs)
    zone = rng(0, 1000, "1.2.3.4",
               entry("example.com. IN DNSKEY", signed_by(BOTH_KEYS, key_algs), flags=AA),
               entry("www.example.com. IN A", www, flags=AA), ds_nodata("www"),
               comment=f"ns1.example.com.: keys signed by {key_algs}, www by {data_algs}")
    if secure:
        expect = check(10, "www.example.com.", flags="QR RD RA AD DO NOERROR", answer=www,
                       match=HDR)
    else:
        expect = check(10, "www.example.com.", flags="QR RD RA DO SERVFAIL",
                       match="opcode qtype qname rcode flags")
    extra = f'\ttrust-anchor: "{DS384}"' + ("\n" + extra if extra else "")
    write(fname, title, ROOT + zone + query(1, "www.example.com.", flags="RD DO") + expect,
          extra=extra)


algo_case("opt_algo_downgrade_default",
          "harden-algo-downgrade (default no): of a zone's two DS algorithms, a signature by "
          "one is enough", "", (13, 14), (13,), True)
algo_case("opt_algo_downgrade_data",
          "harden-algo-downgrade: yes: data signed by only one of the zone's two DS algorithms "
          "is bogus", "\tharden-algo-downgrade: yes", (13, 14), (13,), False)
algo_case("opt_algo_downgrade_keys",
          "harden-algo-downgrade: yes: a DNSKEY RRset signed by only one of the two DS "
          "algorithms is bogus", "\tharden-algo-downgrade: yes", (13,), (13, 14), False)
algo_case("opt_algo_downgrade_both",
          "harden-algo-downgrade: yes: keys and data signed by both DS algorithms are secure",
          "\tharden-algo-downgrade: yes", (13, 14), (13, 14), True)


# -- batch 12: root-key-sentinel (RFC 8509) ------------------------------------------------------
def sentinel_case(fname, title, extra, label, answered):
    """``label``.example.com. A, signed; the only trust anchor is example.com.'s, so no key
    tag is a root trust anchor: is-ta fails and not-ta holds (RFC 8509 §3)."""
    name = f"{label}.example.com."
    data = signed(f"{name} 3600 IN A 10.20.30.40")
    zone = signed_server("1.2.3.4", entry(f"{name} IN A", data, flags=AA),
                         comment="ns1.example.com.: the sentinel name's address, signed")
    if answered:
        expect = check(10, name, flags="QR RD RA AD DO NOERROR", answer=data, match=HDR)
    else:
        expect = check(10, name, flags="QR RD RA DO SERVFAIL",
                       match="opcode qtype qname rcode flags")
    write(fname, title, ROOT + zone + query(1, name, flags="RD DO") + expect, extra=extra)


IS_TA = "root-key-sentinel-is-ta-20326"
sentinel_case("opt_sentinel_is_ta_default",
              "root-key-sentinel (default yes): is-ta of a key that is no root trust anchor "
              "is SERVFAIL (RFC 8509)", "", IS_TA, False)
sentinel_case("opt_sentinel_not_ta_default",
              "root-key-sentinel (default yes): not-ta of a key that is no root trust anchor "
              "is answered (RFC 8509)", "", "root-key-sentinel-not-ta-20326", True)
sentinel_case("opt_sentinel_off",
              "root-key-sentinel: no: a sentinel label is an ordinary name, answered",
              "\troot-key-sentinel: no", IS_TA, True)


# -- batch 13: tcp-upstream / do-udp -------------------------------------------------------------
def transport_case(fname, title, extra, proto):
    """Every server answers only queries that come over ``proto`` (MATCH TCP / UDP)."""
    servers = rng(0, 1000, "193.0.14.129",
                  entry(". IN NS", ". IN NS\tK.ROOT-SERVERS.NET.",
                        additional="K.ROOT-SERVERS.NET.\tIN A\t193.0.14.129",
                        match=f"opcode qtype qname {proto}"),
                  entry("example.com. IN NS", authority="example.com.\tIN NS\tns1.example.com.",
                        additional="ns1.example.com.\tIN A\t1.2.3.4",
                        match=f"opcode subdomain {proto}", adjust="copy_id copy_query"),
                  comment=f"K.ROOT-SERVERS.NET.: answers over {proto} only")
    servers += rng(0, 1000, "1.2.3.4",
                   entry("www.example.com. IN A", "www.example.com. 3600 IN A 10.20.30.40",
                         flags=AA, match=f"opcode qtype qname {proto}"),
                   comment=f"ns1.example.com.: answers over {proto} only")
    write(fname, title, servers + query(1, "www.example.com.", flags="RD")
          + check(10, "www.example.com.", answer="www.example.com. IN A 10.20.30.40"),
          extra=extra, dnssec=False)


transport_case("opt_tcp_upstream_yes",
               "tcp-upstream: yes: queries to the servers go over TCP", "\ttcp-upstream: yes",
               "TCP")
transport_case("opt_tcp_upstream_default_udp",
               "tcp-upstream (default no): queries to the servers go over UDP", "", "UDP")
transport_case("opt_do_udp_no",
               "do-udp: no: no UDP is issued, queries to the servers go over TCP",
               "\tdo-udp: no", "TCP")


# -- batch 14: do-not-query-address ---------------------------------------------------------------
def dnq_case(fname, title, extra, ns2, answered):
    """ns1 (1.2.3.4, made the fast one) has no answers: asking it fails the run; ns2 answers."""
    servers = root(ns=(("ns1", "1.2.3.4"), ("ns2", ns2)))
    servers += rng(0, 1000, "1.2.3.4", "", comment="ns1: must not be asked")
    servers += rng(0, 1000, ns2,
                   entry("www.example.com. IN A", "www.example.com. 3600 IN A 10.20.30.40",
                         flags=AA), comment="ns2")
    servers += ("STEP 1 INFRA_RTT 1.2.3.4 example.com. 10\n\n"
                f"STEP 2 INFRA_RTT {ns2} example.com. 900\n\n")
    expect = (check(20, "www.example.com.", answer="www.example.com. IN A 10.20.30.40")
              if answered else check(20, "www.example.com.", flags="QR RD RA SERVFAIL",
                                     match="opcode qtype qname rcode flags"))
    write(fname, title, servers + query(10, "www.example.com.", flags="RD") + expect,
          extra=extra, dnssec=False)


dnq_case("opt_do_not_query_address",
         "do-not-query-address: the listed server is never asked, the zone's other one is",
         "\tdo-not-query-address: 1.2.3.4", "1.2.3.5", True)
dnq_case("opt_do_not_query_netblock",
         "do-not-query-address: a netblock (1.2.3.0/24) keeps every server in it from being asked",
         "\tdo-not-query-address: 1.2.3.0/24", "5.6.7.8", True)
dnq_case("opt_do_not_query_every_server",
         "do-not-query-address: when every server of the zone is listed the answer is SERVFAIL",
         "\tdo-not-query-address: 1.2.3.4\n\tdo-not-query-address: 1.2.3.5", "1.2.3.5", False)
