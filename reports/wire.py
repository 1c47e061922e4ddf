"""A light reader of DNS responses for the report's bulk work: no dnspython, no allocation of
records.

The report needs, for many stored responses, only a few facts: the rcode and flags (read
from the header in SQL, see :mod:`reports.tables`), the Extended DNS Error codes (to tell a
bogus SERVFAIL from another one) and the deepest zone cut the answer names for the question
(RRSIG signers, SOA and NS owners: :attr:`Facts.zone`).  :func:`facts` walks the
message once to get them.  Examples and ``explain`` parse with dnspython instead.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Facts", "facts"]

_OPT = 41
_RRSIG = 46
_SOA = 6
_NS = 2
_EDE = 15
_MAX_POINTERS = 32


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


def _name(wire: bytes, p: int) -> tuple[str, int] | None:
    """The name at ``p`` (lower-case text, absolute) and the offset after it."""
    labels: list[str] = []
    end = -1
    n = len(wire)
    for _ in range(_MAX_POINTERS):
        while True:
            if p >= n:
                return None
            length = wire[p]
            if length == 0:
                p += 1
                if end < 0:
                    end = p
                return (".".join(labels) + "." if labels else "."), end
            if length >= 0xC0:
                if p + 1 >= n:
                    return None
                if end < 0:
                    end = p + 2
                p = ((length & 0x3F) << 8) | wire[p + 1]
                break
            if length > 63 or p + 1 + length > n:
                return None
            labels.append(wire[p + 1:p + 1 + length].decode("ascii", "backslashreplace")
                          .lower())
            p += 1 + length
    return None


def _skip_name(wire: bytes, p: int) -> int:
    n = len(wire)
    while p < n:
        length = wire[p]
        if length == 0:
            return p + 1
        if length >= 0xC0:
            return p + 2
        p += 1 + length
    return -1


def facts(wire: bytes) -> Facts | None:
    """Rcode, flags, EDE codes and the answering zone of ``wire``; ``None`` if it is not a
    well-formed DNS message."""
    n = len(wire)
    if n < 12:
        return None
    flags = (wire[2] << 8) | wire[3]
    rcode = wire[3] & 0x0F
    qd = (wire[4] << 8) | wire[5]
    an = (wire[6] << 8) | wire[7]
    ns = (wire[8] << 8) | wire[9]
    ar = (wire[10] << 8) | wire[11]
    p = 12
    qname: str | None = None
    for i in range(qd):
        if i == 0:
            got = _name(wire, p)
            qname = got[0] if got is not None else None
        p = _skip_name(wire, p)
        if p < 0:
            return None
        p += 4
    ede: set[int] = set()
    cuts: set[str] = set()
    for i in range(an + ns + ar):
        start = p
        p = _skip_name(wire, p)
        if p < 0 or p + 10 > n:
            return None
        fixed = p
        rtype = (wire[p] << 8) | wire[p + 1]
        rdlength = (wire[p + 8] << 8) | wire[p + 9]
        rdata = p + 10
        p = rdata + rdlength
        if p > n:
            return None
        if rtype == _OPT:
            rcode |= wire[fixed + 4] << 4  # the extended rcode's upper bits
            o = rdata
            while o + 4 <= p:
                code = (wire[o] << 8) | wire[o + 1]
                length = (wire[o + 2] << 8) | wire[o + 3]
                if code == _EDE and length >= 2:
                    ede.add((wire[o + 4] << 8) | wire[o + 5])
                o += 4 + length
        elif rtype == _RRSIG and i < an + ns and rdlength > 18:
            got = _name(wire, rdata + 18)
            if got is not None:
                cuts.add(got[0])
        elif (rtype == _SOA and i < an + ns) or (rtype == _NS and an <= i < an + ns):
            got = _name(wire, start)
            if got is not None:
                cuts.add(got[0])
    if p != n:
        return None
    return Facts(rcode, flags, tuple(sorted(ede)), _deepest_cut(qname, cuts))


def _deepest_cut(qname: str | None, cuts: set[str]) -> str | None:
    """The longest of ``cuts`` that is ``qname`` or one of its ancestors."""
    if qname is None or not cuts:
        return None
    inside = [c for c in cuts if c == "." or qname == c or qname.endswith("." + c)]
    return max(inside, key=lambda c: 0 if c == "." else c.count("."), default=None)
