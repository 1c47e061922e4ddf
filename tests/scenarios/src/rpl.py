"""Small builder for the project's own Deckard scenarios (tests/scenarios/fixon, measure).

Scenario files are written from Python descriptions so that signed scenarios can carry real
RRSIGs: ``Signer`` holds one Ed25519 key per zone (generated once, at build time) and signs
RRsets for a fixed validity window around ``DATE``.  The written ``.rpl`` files are the
artefacts; run ``python tests/scenarios/src/build.py`` to write them again (new keys).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ed25519

DATE = "20260101120000"  # val-override-date of signed scenarios
_NOW = calendar.timegm(time.strptime(DATE, "%Y%m%d%H%M%S"))
INCEPTION = _NOW - 30 * 86400
EXPIRATION = _NOW + 30 * 86400


def rr(text: str) -> dns.rrset.RRset:
    """One RR from ``owner [ttl] [IN] type rdata`` (TTL 3600 when absent)."""
    parts = text.split()
    owner = dns.name.from_text(parts[0])
    rest = parts[1:]
    ttl = 3600
    if rest and rest[0].isdigit():
        ttl = int(rest.pop(0))
    if rest and rest[0].upper() == "IN":
        rest.pop(0)
    rdtype = dns.rdatatype.from_text(rest[0])
    rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, " ".join(rest[1:]),
                                origin=dns.name.root, relativize=False)
    out = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
    out.add(rdata, ttl)
    return out


def rr_line(rrset: dns.rrset.RRset) -> list[str]:
    return [line for line in rrset.to_text().splitlines()]


@dataclass
class Signer:
    zones: dict[str, tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]] = field(
        default_factory=dict)

    def key(self, zone: str) -> tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]:
        if zone not in self.zones:
            private = ed25519.Ed25519PrivateKey.generate()
            dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519,
                                            flags=257)
            self.zones[zone] = (private, dnskey)
        return self.zones[zone]

    def dnskey_line(self, zone: str, ttl: int = 3600) -> str:
        return f"{zone} {ttl} IN DNSKEY {self.key(zone)[1].to_text()}"

    def ds_line(self, zone: str, ttl: int = 3600) -> str:
        ds = dns.dnssec.make_ds(dns.name.from_text(zone), self.key(zone)[1], "SHA256")
        return f"{zone} {ttl} IN DS {ds.to_text()}"

    def sign(self, zone: str, lines: list[str]) -> str:
        """The RRSIG line over the RRset made of ``lines`` (same owner and type)."""
        private, dnskey = self.key(zone)
        rrset: dns.rrset.RRset | None = None
        for line in lines:
            one = rr(line)
            if rrset is None:
                rrset = one
            else:
                rrset.update(one)
        assert rrset is not None
        sig = dns.dnssec.sign(rrset, private, dns.name.from_text(zone), dnskey,
                              inception=INCEPTION, expiration=EXPIRATION)
        return f"{rrset.name} {rrset.ttl} IN RRSIG {sig.to_text()}"


def expand(signer: Signer | None, records: list[str]) -> list[str]:
    """RR lines; a line ``SIG zone`` is replaced by the RRSIG over the lines just above it that
    share one owner and type (written after them)."""
    out: list[str] = []
    pending: list[str] = []
    for line in records:
        if line.startswith("SIG "):
            # "SIG zone" signs the RRset above; "SIG zone *.wild" signs it as the wildcard
            # it was expanded from (the RRSIG then has the wildcard's label count)
            assert signer is not None, "SIG line in an unsigned scenario"
            words = line.split()
            if len(words) > 2:
                owner = rr(pending[0]).name.to_text()
                wild = [words[2] + p[len(owner):] if p.startswith(owner) else p
                        for p in pending]
                out.append(owner + signer.sign(words[1], wild)[len(words[2]):])
            else:
                out.append(signer.sign(words[1], pending))
            pending = []
            continue
        one = rr(line)
        if pending:
            last = rr(pending[-1])
            if last.name != one.name or last.rdtype != one.rdtype:
                pending = []
        pending.append(line)
        out.append(line)
    return out


@dataclass
class Entry:
    question: str  # "name type"
    reply: str = "QR AA NOERROR"
    match: str = "opcode qtype qname"
    answer: list[str] = field(default_factory=list)
    authority: list[str] = field(default_factory=list)
    additional: list[str] = field(default_factory=list)
    adjust: str = "copy_id"

    def text(self, signer: Signer | None) -> str:
        lines = ["ENTRY_BEGIN", f"MATCH {self.match}", f"ADJUST {self.adjust}",
                 f"REPLY {self.reply}", "SECTION QUESTION", f"{self.question.split()[0]} IN "
                 f"{self.question.split()[1]}"]
        for name, section in (("ANSWER", self.answer), ("AUTHORITY", self.authority),
                              ("ADDITIONAL", self.additional)):
            if section:
                lines.append(f"SECTION {name}")
                lines.extend(expand(signer, section))
        lines.append("ENTRY_END")
        return "\n".join(lines)


def sub(question: str, reply: str = "QR NOERROR", **sections: list[str]) -> Entry:
    """An entry for every query at or below the question's name (referrals, catch-alls)."""
    return Entry(question, reply, "opcode subdomain", adjust="copy_id copy_query", **sections)


def catch_all(reply: str, **sections: list[str]) -> str:
    lines = ["ENTRY_BEGIN", "MATCH opcode", "ADJUST copy_id copy_query", f"REPLY {reply}"]
    for name in ("answer", "authority", "additional"):
        if sections.get(name):
            lines.append(f"SECTION {name.upper()}")
            lines.extend(sections[name])
    lines.append("ENTRY_END")
    return "\n".join(lines)


def range_(first: int, last: int, addresses: list[str], entries: list[Entry | str],
           signer: Signer | None = None, comment: str = "") -> str:
    head = [f"; {comment}"] if comment else []
    head.append(f"RANGE_BEGIN {first} {last}")
    head.extend(f"\tADDRESS {a}" for a in addresses)
    body = [e if isinstance(e, str) else e.text(signer) for e in entries]
    return "\n".join(head + body + ["RANGE_END", ""])


def query(step: int, question: str, flags: str = "RD") -> str:
    name, qtype = question.split()
    return (f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY {flags}\nSECTION QUESTION\n"
            f"{name} IN {qtype}\nENTRY_END\n")


def check(step: int, question: str, reply: str, answer: list[str] | None = None,
          match: str = "opcode qname qtype rcode flags answer",
          signer: Signer | None = None) -> str:
    name, qtype = question.split()
    lines = [f"STEP {step} CHECK_ANSWER", "ENTRY_BEGIN", f"MATCH {match}", f"REPLY {reply}",
             "SECTION QUESTION", f"{name} IN {qtype}"]
    if answer:
        lines.append("SECTION ANSWER")
        lines.extend(expand(signer, answer))
    lines.append("ENTRY_END")
    return "\n".join(lines) + "\n"


def elapse(step: int, seconds: int) -> str:
    return f"STEP {step} TIME_PASSES ELAPSE {seconds}\n"


def root_range(delegations: dict[str, tuple[str, str, str]], signer: Signer | None = None,
               last: int = 1000) -> str:
    """The root at 127.7.0.1 (k.root-servers.net): priming, its own name, and a referral per
    TLD (``{"com.": ("ns.nic.com.", "127.7.1.1", mode)}``), then NXDOMAIN for everything
    else.  Signed (``signer``): the root's DNSKEY, and per TLD ``mode`` "ds" (a signed
    delegation) or "nods" (an NSEC proof that there is no DS)."""
    sig = ["SIG ."] if signer is not None else []
    soa = ". 86400 IN SOA k.root-servers.net. hostmaster.root. 1 1800 900 604800 86400"
    entries: list[Entry | str] = [
        Entry(". NS", answer=[". 86400 IN NS k.root-servers.net.", *sig],
              additional=["k.root-servers.net. 86400 IN A 127.7.0.1"]),
        Entry("k.root-servers.net. A", answer=["k.root-servers.net. 86400 IN A 127.7.0.1"]),
        sub("root-servers.net. A", "QR AA NOERROR", authority=[soa, *sig]),
    ]
    tlds = sorted(delegations, key=dns.name.from_text)
    if signer is not None:
        entries.append(Entry(". DNSKEY", answer=[signer.dnskey_line("."), *sig]))
    for i, tld in enumerate(tlds):
        ns, addr, mode = delegations[tld]
        glue = [f"{ns} 86400 IN A {addr}"]
        auth = [f"{tld} 86400 IN NS {ns}"]
        if signer is not None and mode == "ds":
            entries.append(Entry(f"{tld} DS", answer=[signer.ds_line(tld), *sig]))
            auth += [signer.ds_line(tld), *sig]
        elif signer is not None:
            nxt = tlds[i + 1] if i + 1 < len(tlds) else "."
            nsec = [f"{tld} 86400 IN NSEC {nxt} NS RRSIG NSEC", *sig]
            entries.append(Entry(f"{tld} DS", authority=[soa, *sig, *nsec]))
            auth += nsec
        entries.append(sub(f"{tld} NS", authority=auth, additional=glue))
    if signer is not None:
        first = tlds[0] if tlds else "."
        entries.append(catch_all("QR AA NXDOMAIN", authority=[
            *expand(signer, [soa, *sig]),
            *expand(signer, [f". 86400 IN NSEC {first} NS SOA RRSIG NSEC DNSKEY", *sig])]))
    else:
        entries.append(catch_all("QR AA NXDOMAIN", authority=[soa]))
    return range_(0, last, ["127.7.0.1"], entries, signer, "k.root-servers.net: the root")


def header(title: str, *, do_ip6: bool = False, extra: list[str] | None = None) -> str:
    lines = ["; shadowdns's own scenario (Deckard dialect), written by "
             "tests/scenarios/src/build.py",
             f"do-ip6: {'yes' if do_ip6 else 'no'}", "do-not-query-localhost: off",
             "stub-addr: 127.7.0.1", "stub-name: k.root-servers.net."]
    lines += extra or []
    lines += ["CONFIG_END", "", f"SCENARIO_BEGIN {title}", ""]
    return "\n".join(lines)


def tld_range(tld: str, ns: str, addr: str, children: dict[str, tuple[list[str], list[str]]],
              first: int = 0, last: int = 1000, signer: Signer | None = None,
              ds: dict[str, str] | None = None, comment: str = "") -> str:
    """A TLD server: its apex, its own name, and a referral per child zone
    (``{"example.com.": (["ns1.example.com."], ["ns1.example.com. A 127.7.2.1"])}``; TTLs
    of the NS/glue default to 3600), NXDOMAIN for anything else.  Signed: ``ds`` maps a child
    to "ds" (a DS line from ``signer``) or "nods" (an NSEC proof that there is none)."""
    sig = [f"SIG {tld}"] if signer is not None else []
    soa = f"{tld} 3600 IN SOA {ns} hostmaster.{tld} 1 1800 900 604800 3600"
    entries: list[Entry | str] = [
        Entry(f"{tld} NS", answer=[f"{tld} 86400 IN NS {ns}", *sig],
              additional=[f"{ns} 86400 IN A {addr}"]),
        Entry(f"{ns} A", answer=[f"{ns} 86400 IN A {addr}", *sig]),
    ]
    if signer is not None:
        entries.append(Entry(f"{tld} DNSKEY", answer=[signer.dnskey_line(tld), *sig]))
    names = sorted(children, key=dns.name.from_text)
    for i, child in enumerate(names):
        ns_names, glue = children[child]
        auth = [f"{child} {n.split()[0]} NS {n.split()[1]}" if " " in n else f"{child} NS {n}"
                for n in ns_names]  # "300 ns.example.com.": with a TTL
        mode = (ds or {}).get(child)
        if signer is not None and mode in ("ds", "unknown-algorithm"):
            ds_line = signer.ds_line(child) if mode == "ds" else \
                f"{child} 3600 IN DS 4242 253 2 {'AB' * 32}"  # algorithm 253: private
            entries.append(Entry(f"{child} DS", answer=[ds_line, *sig]))
            auth += [ds_line, *sig]
        elif signer is not None:
            nxt = names[i + 1] if i + 1 < len(names) else tld
            nsec = [f"{child} 3600 IN NSEC {nxt} NS RRSIG NSEC", *sig]
            entries.append(Entry(f"{child} DS", authority=[soa, *sig, *nsec]))
            auth += nsec
        entries.append(sub(f"{child} NS", authority=auth,
                           additional=[g.replace(" A ", " 3600 IN A ", 1)
                                       .replace(" AAAA ", " 3600 IN AAAA ", 1)
                                       if " IN " not in g else g for g in glue]))
    entries.append(sub(f"{ns} A", "QR AA NOERROR", authority=[soa, *sig]))
    entries.append(catch_all("QR AA NXDOMAIN", authority=expand(signer, [soa, *sig])))
    return range_(first, last, [addr], entries, signer, comment or f"{ns}: {tld}")


@dataclass
class Nsec3Chain:
    """The NSEC3 records of a zone (SHA-1, no opt-out) over ``nodes``: owner -> type list
    (an empty string for an empty non-terminal)."""

    zone: str
    nodes: dict[str, str]
    salt: str = "AABBCCDD"
    iterations: int = 1
    ttl: int = 300
    flags: int = 0  # 1: opt-out (RFC 5155 §3.1.2.1)

    def _hash(self, name: str) -> str:
        return dns.dnssec.nsec3_hash(name, self.salt, self.iterations, 1).lower()

    def _sorted(self) -> list[tuple[str, str]]:
        return sorted((self._hash(n), types) for n, types in self.nodes.items())

    def _line(self, i: int) -> str:
        chain = self._sorted()
        h, types = chain[i]
        nxt = chain[(i + 1) % len(chain)][0]
        bitmap = f"{types} RRSIG".strip() if types else ""
        return (f"{h}.{self.zone} {self.ttl} IN NSEC3 1 {self.flags} {self.iterations} {self.salt} "
                f"{nxt.upper()} {bitmap}").rstrip()

    def match(self, name: str) -> str:
        """The NSEC3 record whose owner is the hash of ``name``."""
        h = self._hash(name)
        return self._line([x for x, _ in self._sorted()].index(h))

    def cover(self, name: str) -> str:
        """The NSEC3 record whose span covers the hash of ``name`` (not in the zone)."""
        h = self._hash(name)
        hashes = [x for x, _ in self._sorted()]
        assert h not in hashes, f"{name} is in the zone"
        before = [i for i, x in enumerate(hashes) if x < h]
        return self._line(before[-1] if before else len(hashes) - 1)

    def param(self) -> str:
        return f"{self.zone} 0 IN NSEC3PARAM 1 0 {self.iterations} {self.salt}"
