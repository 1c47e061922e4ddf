"""Expected and received answers as dig-style text, and the diff between them.

Only what the CHECK_ANSWER's MATCH compares is rendered (the header bits for ``flags``,
the status for ``rcode``, the question for ``qname``/``qtype``, the sections named), in a
normal form that hides what Deckard ignores: owner names and names inside RDATA in lower
case, no TTLs, records sorted.  So every line of the diff is a real difference.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from deckard.match import expand, message_records
from deckard.records import Question, Record
from deckard.scenario import FLAG_WORDS, HEADER_FLAGS, Entry

SECTION_TITLES = {"answer": "ANSWER", "authority": "AUTHORITY", "additional": "ADDITIONAL"}


def canonical_text(rr: Record) -> str:
    """``owner CLASS TYPE rdata`` with names in canonical (lower-case) form, no TTL."""
    wire = rr.rdata.to_digestable(dns.name.root)
    try:
        rdata = dns.rdata.from_wire(rr.rdclass, rr.rdtype, wire, 0, len(wire))
        data = rdata.to_text(origin=None, relativize=False)
    except Exception:  # a deliberately inconsistent record: show it as given
        data = rr.rdata.to_text()
    return (
        f"{rr.name.canonicalize()}\t{dns.rdataclass.to_text(rr.rdclass)}\t"
        f"{dns.rdatatype.to_text(rr.rdtype)}\t{data}"
    )


def _flags(bits: int) -> str:
    return " ".join(w.lower() for w, b in FLAG_WORDS.items() if bits & b)


def _lines(
    options: tuple[str, ...],
    opcode: int,
    rcode: int,
    flags: int,
    questions: Iterable[Question],
    sections: dict[str, list[Record]],
) -> list[str]:
    opts = expand(options)
    out: list[str] = []
    head = []
    if "opcode" in opts:
        head.append(f"opcode: {dns.opcode.to_text(dns.opcode.Opcode(opcode))}")
    if "rcode" in opts:
        head.append(f"status: {dns.rcode.to_text(dns.rcode.Rcode(rcode))}")
    if head:
        out.append(";; ->>HEADER<<- " + ", ".join(head))
    if "flags" in opts:
        out.append(f";; flags: {_flags(flags & HEADER_FLAGS)}")
    if {"qname", "qtype", "qcase", "subdomain"} & set(opts):
        out.append(";; QUESTION SECTION:")
        for q in questions:
            name = q.name.to_text() if "qcase" in opts else q.name.canonicalize().to_text()
            out.append(
                f";{name}\t{dns.rdataclass.to_text(q.rdclass)}\t{dns.rdatatype.to_text(q.rdtype)}"
            )
    for key, title in SECTION_TITLES.items():
        if key in opts:
            out.append(f";; {title} SECTION:")
            out.extend(sorted(canonical_text(rr) for rr in sections[key]))
    return out


def expected_text(entry: Entry) -> list[str]:
    return _lines(
        entry.match or (),
        entry.opcode,
        entry.rcode,
        entry.flags,
        entry.question,
        {"answer": entry.answer, "authority": entry.authority, "additional": entry.additional},
    )


def got_text(entry: Entry, msg: dns.message.Message) -> list[str]:
    questions = [Question(q.name, q.rdtype, q.rdclass) for q in msg.question]
    return _lines(
        entry.match or (),
        msg.opcode(),
        msg.rcode(),
        msg.flags,
        questions,
        {
            "answer": message_records(msg.answer),
            "authority": message_records(msg.authority),
            "additional": message_records(msg.additional),
        },
    )


def diff(expected: list[str], got: list[str]) -> str:
    """A unified diff, ``-`` expected and ``+`` got, with all context kept."""
    lines = difflib.unified_diff(
        expected, got, fromfile="expected", tofile="got", lineterm="", n=max(len(expected), 3)
    )
    return "\n".join(lines)


def message_dig(msg: dns.message.Message) -> str:
    """A whole message, dig style (for logs)."""
    return msg.to_text()
