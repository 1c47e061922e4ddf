"""Deckard's MATCH conditions: an entry (expected) against a message (got).

The same conditions pick the authoritative reply for an upstream query (every condition
must hold) and check the resolver's answer in CHECK_ANSWER (each failed condition is a
:class:`Mismatch`).  They follow Deckard's code, including its traps:

* ``qtype``/``qname``/``qcase``: an entry without a question matches only a message
  without one (only ``subdomain`` is skipped when the entry has no question);
* ``question`` is ``qtype qname`` (the class is not compared);
* ``flags`` compares the header bits QR AA TC RD RA AD CD exactly (DO is not a flag);
* sections compare as "every expected RR is in got, every got RR is in expected, and the
  counts are equal", ignoring TTL and order; owner names case-insensitively, RDATA in
  canonical form; the OPT record is not part of ``additional``;
* ``all`` = ``opcode qtype qname flags rcode answer authority additional`` (no EDNS);
* an entry with no MATCH line matches every query (testbound's rule; Deckard crashes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset

from deckard.records import Record
from deckard.scenario import ENTRY_PAYLOAD, FLAG_WORDS, HEADER_FLAGS, Entry

ALL = ("opcode", "qtype", "qname", "flags", "rcode", "answer", "authority", "additional")



@dataclass(frozen=True)
class Mismatch:
    option: str
    detail: str

    def __str__(self) -> str:
        return f"{self.option}: {self.detail}"


@functools.lru_cache(maxsize=256)
def expand(options: tuple[str, ...]) -> tuple[str, ...]:
    """MATCH options with ``all`` and ``question`` expanded, each once, in order."""
    out: list[str] = []
    for opt in options:
        parts = ALL if opt == "all" else ("qtype", "qname") if opt == "question" else (opt,)
        for p in parts:
            if p not in out:
                out.append(p)
    return tuple(out)


def message_records(section: Iterable[dns.rrset.RRset]) -> list[Record]:
    """A message section as individual records (RRSIGs and everything else alike)."""
    out: list[Record] = []
    for rrset in section:
        for rd in rrset:
            out.append(Record(rrset.name, rrset.ttl, rrset.rdclass, rrset.rdtype, rd))
    return out


def _question(msg: dns.message.Message) -> dns.rrset.RRset | None:
    return msg.question[0] if msg.question else None


def _opcode(entry: Entry, msg: dns.message.Message) -> str | None:
    if entry.opcode != msg.opcode():
        return f"expected {entry.opcode}, got {msg.opcode()}"
    return None


def _qtype(entry: Entry, msg: dns.message.Message) -> str | None:
    q = _question(msg)
    if not entry.question and q is None:
        return None
    if not entry.question or q is None:
        return "one side has no question"
    if entry.question[0].rdtype != q.rdtype:
        return f"expected type {entry.question[0].rdtype}, got {q.rdtype}"
    return None


def _qname(entry: Entry, msg: dns.message.Message) -> str | None:
    q = _question(msg)
    if not entry.question and q is None:
        return None
    if not entry.question or q is None:
        return "one side has no question"
    if entry.question[0].name != q.name:  # dns.name equality ignores case
        return f"expected {entry.question[0].name}, got {q.name}"
    return None


def _qcase(entry: Entry, msg: dns.message.Message) -> str | None:
    q = _question(msg)
    if not entry.question and q is None:
        return None
    if not entry.question or q is None:
        return "one side has no question"
    if entry.question[0].name.to_wire() != q.name.to_wire():
        return f"expected exactly {entry.question[0].name}, got {q.name}"
    return None


def _subdomain(entry: Entry, msg: dns.message.Message) -> str | None:
    if not entry.question:
        return None
    q = _question(msg)
    if q is None:
        return "the message has no question"
    if not q.name.is_subdomain(entry.question[0].name):
        return f"{q.name} is not at or below {entry.question[0].name}"
    return None


def _flags(entry: Entry, msg: dns.message.Message) -> str | None:
    want, got = entry.flags & HEADER_FLAGS, msg.flags & HEADER_FLAGS
    if want != got:
        return f"expected {flags_text(want) or '(none)'}, got {flags_text(got) or '(none)'}"
    return None


def _rcode(entry: Entry, msg: dns.message.Message) -> str | None:
    if entry.rcode != msg.rcode():
        want = dns.rcode.to_text(dns.rcode.Rcode(entry.rcode))
        return f"expected {want}, got {dns.rcode.to_text(msg.rcode())}"
    return None


def compare_records(expected: list[Record], got: list[Record]) -> str | None:
    """Deckard's section rule; None when equal, else what differs."""
    want = [r.key() for r in expected]
    have = [r.key() for r in got]
    have_set, want_set = set(have), set(want)
    missing = [r for r in expected if r.key() not in have_set]
    extra = [r for r in got if r.key() not in want_set]
    if not missing and not extra and len(want) == len(have):
        return None
    parts = []
    if missing:
        parts.append("missing " + "; ".join(r.to_text(ttl=False) for r in missing))
    if extra:
        parts.append("unexpected " + "; ".join(r.to_text(ttl=False) for r in extra))
    if not parts:
        parts.append(f"expected {len(want)} records, got {len(have)}")
    return ", ".join(parts)


def _section(name: str) -> Callable[[Entry, dns.message.Message], str | None]:
    def check(entry: Entry, msg: dns.message.Message) -> str | None:
        expected = {
            "answer": entry.answer,
            "authority": entry.authority,
            "additional": entry.additional,
        }[name]
        got = message_records(getattr(msg, name))
        return compare_records(expected, got)

    return check


def _ttl(entry: Entry, msg: dns.message.Message) -> str | None:
    """testbound's ``ttl``: the records' TTLs are compared too (in every section)."""
    for name in ("answer", "authority", "additional"):
        want = sorted((r.key(), r.ttl) for r in entry.section(name.upper()))
        have = sorted((r.key(), r.ttl) for r in message_records(getattr(msg, name)))
        if want != have:
            got = {k: t for k, t in have}
            diffs = [
                f"{r.to_text(ttl=False)} TTL {r.ttl} (got {got.get(r.key(), 'none')})"
                for r in entry.section(name.upper())
                if got.get(r.key()) != r.ttl
            ]
            return f"{name}: " + ("; ".join(diffs) or "TTLs differ")
    return None


def _do(entry: Entry, msg: dns.message.Message) -> str | None:
    if not msg.ednsflags & dns.flags.DO:
        return "expected the DO bit, got none"
    return None


def _noedns(entry: Entry, msg: dns.message.Message) -> str | None:
    if msg.edns >= 0:
        return "expected no EDNS, got EDNS"
    return None


def _edns_do(entry: Entry, msg: dns.message.Message) -> str | None:
    """testbound's ``all`` on EDNS: present iff the entry has it, with the same DO bit."""
    want, got = bool(entry.edns), msg.edns >= 0
    if want != got:
        return f"expected {'EDNS' if want else 'no EDNS'}, got {'EDNS' if got else 'none'}"
    if want and entry.do != bool(msg.ednsflags & dns.flags.DO):
        return f"expected DO {'set' if entry.do else 'clear'}, got the opposite"
    return None


def _edns(entry: Entry, msg: dns.message.Message) -> str | None:
    if msg.edns != 0 or msg.payload != ENTRY_PAYLOAD:
        return f"expected EDNS 0 with payload {ENTRY_PAYLOAD}, got {msg.edns}/{msg.payload}"
    return None


def _nsid(entry: Entry, msg: dns.message.Message) -> str | None:
    got = [o for o in msg.options if o.otype == dns.edns.NSID]
    if got:
        return "expected no NSID option, got one"
    return None


CONDITIONS: dict[str, Callable[[Entry, dns.message.Message], str | None]] = {
    "opcode": _opcode,
    "qtype": _qtype,
    "qname": _qname,
    "qcase": _qcase,
    "subdomain": _subdomain,
    "flags": _flags,
    "rcode": _rcode,
    "answer": _section("answer"),
    "authority": _section("authority"),
    "additional": _section("additional"),
    "edns": _edns,
    "nsid": _nsid,
    "ttl": _ttl,
    "DO": _do,
    "noedns": _noedns,
    "edns_do": _edns_do,
}
TRANSPORT = ("UDP", "TCP")
"""testbound's transport conditions, checked against how the message travelled."""


def _ede(code: str, msg: dns.message.Message) -> str | None:
    """testbound's ``ede=N`` / ``ede=any``: the message carries an Extended DNS Error
    (RFC 8914) with that info-code (any code)."""
    got = [int(o.code) for o in msg.options if isinstance(o, dns.edns.EDEOption)]
    if (code == "any" and got) or (code != "any" and int(code) in got):
        return None
    return f"expected EDE {code}, got {', '.join(map(str, got)) or 'none'}"


def _check(opt: str, entry: Entry, msg: dns.message.Message, tcp: bool) -> str | None:
    if opt.startswith("ede="):
        return _ede(opt[4:], msg)
    if opt in TRANSPORT:
        return None if (opt == "TCP") == tcp else f"expected {opt}, got {TRANSPORT[tcp]}"
    return CONDITIONS[opt](entry, msg)


def mismatches(entry: Entry, msg: dns.message.Message, tcp: bool = False) -> list[Mismatch]:
    """Every MATCH condition of ``entry`` that ``msg`` fails (empty: it matches)."""
    if entry.match is None:
        return []
    out = []
    for opt in expand(entry.match):
        detail = _check(opt, entry, msg, tcp)
        if detail is not None:
            out.append(Mismatch(opt, detail))
    return out


def matches(entry: Entry, msg: dns.message.Message, tcp: bool = False) -> bool:
    """Whether ``msg`` meets every MATCH condition of ``entry`` (stops at the first miss)."""
    if entry.match is None:
        return True
    return all(_check(opt, entry, msg, tcp) is None for opt in expand(entry.match))


def flags_text(flags: int) -> str:
    return " ".join(w for w, bit in FLAG_WORDS.items() if flags & bit)

