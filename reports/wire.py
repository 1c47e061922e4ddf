"""A light reader of DNS responses for the report's bulk work: no dnspython, no allocation of
records.

The report needs, for many stored responses, only a few facts: the rcode and flags (read
from the header in SQL, see :mod:`reports.tables`), the Extended DNS Error codes (to tell a
bogus SERVFAIL from another one) and the deepest zone cut the answer names for the question
(RRSIG signers, SOA and NS owners: :attr:`Facts.zone`).  :func:`facts` walks the
message once to get them, with the judge's own walker (:mod:`harness.wirewalk`, shared
with the differ's fast path).  Examples and ``explain`` parse with dnspython instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.wirewalk import HEADER_LEN, OPT, read_name, walk

__all__ = ["Facts", "facts"]

_RRSIG = 46
_SOA = 6
_NS = 2
_EDE = 15


@dataclass(frozen=True, slots=True)
class Facts:
    """What :func:`facts` read from one response."""

    rcode: int
    flags: int
    ede: tuple[int, ...]  # Extended DNS Error info codes, sorted, unique
    zone: str | None  # lower-case, absolute ('example.com.'); None when nothing says
    """The deepest zone cut the response names for its question's name: of the signers of
    RRSIGs (answer and authority), the owners of SOA and NS records in the authority section
    and of an SOA in the answer, the longest that is the question's name or an ancestor of
    it (the signer of a CNAME target's records in another zone is not the name's zone)."""


def facts(wire: bytes) -> Facts | None:
    """Rcode, flags, EDE codes and the answering zone of ``wire``; ``None`` if it is not a
    well-formed DNS message (as :func:`harness.wirewalk.walk` judges)."""
    w = walk(wire)
    if w is None:
        return None
    flags = (wire[2] << 8) | wire[3]
    rcode = wire[3] & 0x0F
    qd, an, ns, _ = w.counts
    qname = _lower_name(wire, HEADER_LEN) if qd else None
    ede: set[int] = set()
    cuts: set[str] = set()
    for i in range(len(w.fixed)):
        rtype = w.rtype(wire, i)
        rdata, end = w.rdata(wire, i)
        if rtype == OPT:
            rcode |= wire[w.fixed[i] + 4] << 4  # the extended rcode's upper bits
            o = rdata
            while o + 4 <= end:
                code = (wire[o] << 8) | wire[o + 1]
                length = (wire[o + 2] << 8) | wire[o + 3]
                if code == _EDE and length >= 2 and o + 6 <= end:
                    ede.add((wire[o + 4] << 8) | wire[o + 5])
                o += 4 + length
        elif rtype == _RRSIG and i < an + ns and end - rdata > 18:
            cut = _lower_name(wire, rdata + 18)
            if cut is not None:
                cuts.add(cut)
        elif (rtype == _SOA and i < an + ns) or (rtype == _NS and an <= i < an + ns):
            cut = _lower_name(wire, w.owner(wire, i))
            if cut is not None:
                cuts.add(cut)
    return Facts(rcode, flags, tuple(sorted(ede)), _deepest_cut(qname, cuts))


def _lower_name(wire: bytes, p: int) -> str | None:
    got = read_name(wire, p)
    return None if got is None else got[0].lower()


def _deepest_cut(qname: str | None, cuts: set[str]) -> str | None:
    """The longest of ``cuts`` that is ``qname`` or one of its ancestors."""
    if qname is None or not cuts:
        return None
    inside = [c for c in cuts if c == "." or qname == c or qname.endswith("." + c)]
    return max(inside, key=lambda c: 0 if c == "." else c.count("."), default=None)
