"""A parsed response in the shape the comparison needs.

:func:`parse` turns wire bytes into a :class:`Parsed`: header fields, the question exactly
as echoed (0x20 case kept), EDNS (version, UDP size, DO, Extended DNS Error codes) and each
section as RRsets keyed by ``(owner in lower case, type, covered type)`` in the order they
appeared.  Only the slow path parses; see :mod:`harness.differ.wire` for the fast one.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rdata
import dns.rdatatype
import dns.rrset

__all__ = ["ADDRESS_TYPES", "SECTIONS", "ParseError", "Parsed", "RRKey", "RRsetView", "parse",
           "rdata_text"]

RRKey = tuple[str, int, int]
"""An RRset's identity: owner (lower-case text, absolute), type, covered type (RRSIG)."""

SECTIONS = ("answer", "authority", "additional")
ADDRESS_TYPES = frozenset({dns.rdatatype.A, dns.rdatatype.AAAA})
_RRSIG = dns.rdatatype.RRSIG


class ParseError(ValueError):
    """The bytes are not a DNS response dnspython can read."""


@dataclass(slots=True)
class RRsetView:
    """One RRset of a section."""

    key: RRKey
    owner: str  # as received: case kept
    ttl: int
    rdatas: tuple[dns.rdata.Rdata, ...]  # in the order received
    index: int  # position among the section's RRsets

    @property
    def rdtype(self) -> int:
        return self.key[1]

    def data(self) -> frozenset[dns.rdata.Rdata]:
        """The rdata as a set (names compared case-insensitively, as DNS does)."""
        return frozenset(self.rdatas)

    def addresses(self) -> frozenset[str]:
        return frozenset(rd.to_text() for rd in self.rdatas)

    def texts(self) -> list[str]:
        return sorted(rdata_text(rd) for rd in self.rdatas)


def rdata_text(rd: dns.rdata.Rdata) -> str:
    return rd.to_text()


@dataclass(slots=True)
class Parsed:
    """A response, read once."""

    wire: bytes
    rcode: int
    flags: int
    question: tuple[tuple[str, int, int], ...]  # (name exactly as echoed, type, class)
    sections: dict[str, dict[RRKey, RRsetView]]
    edns: int  # -1: no OPT
    payload: int
    do: bool
    ede: tuple[int, ...]  # Extended DNS Error codes, sorted, unique

    @property
    def qname(self) -> str:
        """The question name in lower case ('' without a question)."""
        return self.question[0][0].lower() if self.question else ""

    def rrset(self, section: str, key: RRKey) -> RRsetView | None:
        return self.sections[section].get(key)

    def sigs_for(self, section: str, key: RRKey) -> RRsetView | None:
        """The RRSIG RRset covering ``key`` in ``section``."""
        return self.sections[section].get((key[0], _RRSIG, key[1]))

    def summary(self, limit: int = 6) -> str:
        """A one-line description for evidence: rcode, flags and the first records."""
        import dns.rcode

        parts = [dns.rcode.to_text(dns.rcode.Rcode(self.rcode)),
                 dns.flags.to_text(self.flags) or "-"]
        if self.ede:
            parts.append("EDE " + ",".join(str(c) for c in self.ede))
        shown = 0
        for section in SECTIONS:
            for view in self.sections[section].values():
                if shown >= limit:
                    parts.append("...")
                    return " ".join(parts)
                rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(view.rdtype))
                parts.append(f"[{section[:3]}] {view.owner} {view.ttl} {rtype} "
                             + " ".join(view.texts()))
                shown += 1
        return " ".join(parts)


def parse(wire: bytes) -> Parsed:
    """Read ``wire``; :class:`ParseError` when dnspython cannot."""
    try:
        msg = dns.message.from_wire(wire, ignore_trailing=False)
    except (dns.exception.DNSException, ValueError, IndexError) as e:
        raise ParseError(f"unparseable response ({type(e).__name__}: {e})") from e
    return from_message(msg, wire)


def from_message(msg: dns.message.Message, wire: bytes = b"") -> Parsed:
    sections: dict[str, dict[RRKey, RRsetView]] = {}
    for name, rrsets in (("answer", msg.answer), ("authority", msg.authority),
                         ("additional", msg.additional)):
        views: dict[RRKey, RRsetView] = {}
        for rrset in rrsets:
            owner = rrset.name.to_text()
            key = (owner.lower(), int(rrset.rdtype), int(rrset.covers))
            previous = views.get(key)
            if previous is not None:  # the same RRset split in two places: merge
                previous.rdatas = previous.rdatas + tuple(rrset)
                continue
            views[key] = RRsetView(key, owner, int(rrset.ttl), tuple(rrset), len(views))
        sections[name] = views
    ede = tuple(sorted({int(o.code) for o in msg.options
                        if isinstance(o, dns.edns.EDEOption)}))
    return Parsed(
        wire=wire,
        rcode=int(msg.rcode()),
        flags=int(msg.flags),
        question=tuple((q.name.to_text(), int(q.rdtype), int(q.rdclass)) for q in msg.question),
        sections=sections,
        edns=int(msg.edns),
        payload=int(msg.payload) if msg.edns >= 0 else 0,
        do=bool(msg.ednsflags & dns.flags.DO),
        ede=ede,
    )
