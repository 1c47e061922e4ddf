"""The judge's own reader of DNS wire format (RFC 1035 §4.1), without dnspython.

The differ's fast path (:mod:`harness.differ.wire`) and the report's bulk reader
(:mod:`reports.wire`) both need to find their way through a message cheaply: where the
question ends, where each resource record starts, where its TTL and RDATA are.  They share
this walker, and it shares nothing with the candidate (``resolver/`` has its own for its
cache-hit path): a bug in the candidate's walker must show up as a divergence, not be
repeated by the judge.  The architecture test forbids ``harness`` and ``reports`` code
from importing ``resolver`` for this.

What counts as malformed (:func:`walk` returns ``None``): a header shorter than 12 bytes, a
label longer than 63 bytes, the reserved label types 0x40 and 0x80, a compression pointer
that does not point to a prior occurrence (RFC 1035 §4.1.4: strictly before the pointer
itself, so a walk cannot loop), a name running past the end, an RR whose fixed part or
RDATA runs past the end, and bytes left over after the last RR.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["HEADER_LEN", "OPT", "Walk", "read_name", "skip_name", "walk"]

HEADER_LEN = 12
OPT = 41
MAX_NAME_LEN = 255  # RFC 1035 §2.3.4: octets of a name in wire form, its root label included


class Walk(NamedTuple):
    """Where things are in one message.

    ``fixed[i]`` is where RR ``i``'s TYPE field starts (CLASS at +2, TTL at +4, RDLENGTH at
    +8, RDATA at +10; its owner name right after the previous RR, :meth:`owner`), for the RRs
    of the answer, authority and additional sections in that order (``counts`` says how many
    of each).
    """

    counts: tuple[int, int, int, int]  # QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT
    question_end: int
    fixed: tuple[int, ...]
    ttl_offsets: tuple[int, ...]  # the TTL field of every RR but OPT (whose TTL holds flags)

    def owner(self, wire: bytes, i: int) -> int:
        """Where RR ``i``'s owner name starts: after the question, or the previous RR."""
        return self.question_end if i == 0 else self.rdata(wire, i - 1)[1]

    def rtype(self, wire: bytes, i: int) -> int:
        f = self.fixed[i]
        return (wire[f] << 8) | wire[f + 1]

    def rdata(self, wire: bytes, i: int) -> tuple[int, int]:
        """Where RR ``i``'s RDATA starts and ends."""
        f = self.fixed[i]
        return f + 10, f + 10 + ((wire[f + 8] << 8) | wire[f + 9])


def skip_name(wire: bytes, p: int) -> int:
    """The offset after the name at ``p``, or -1 if the name is malformed there.

    Does not follow compression pointers (a pointer ends the name in place), but refuses one
    that does not point before itself.
    """
    n = len(wire)
    start = p
    while p < n:
        length = wire[p]
        if length == 0:
            return p + 1 if p + 1 - start <= MAX_NAME_LEN else -1
        if length >= 0xC0:
            if p + 1 >= n or (((length & 0x3F) << 8) | wire[p + 1]) >= p:
                return -1
            return p + 2
        if length > 63:
            return -1  # 0x40 and 0x80: reserved label types (RFC 6891 §5)
        p += 1 + length
    return -1


def read_name(wire: bytes, p: int) -> tuple[str, int] | None:
    """The name at ``p`` as text (absolute, as written, '.' for the root) and the offset
    after it in the message, following compression pointers; ``None`` if malformed.

    Each pointer must jump below every offset read so far, so the walk always ends; the
    name, pointers followed, must fit in 255 octets.
    """
    n = len(wire)
    labels: list[str] = []
    end = -1
    lowest = p
    size = 1
    while p < n:
        length = wire[p]
        if length == 0:
            text = ".".join(labels) + "." if labels else "."
            return text, (p + 1 if end < 0 else end)
        if length >= 0xC0:
            if p + 1 >= n:
                return None
            target = ((length & 0x3F) << 8) | wire[p + 1]
            if target >= lowest:
                return None
            if end < 0:
                end = p + 2
            p = lowest = target
            continue
        if length > 63 or p + 1 + length > n:
            return None
        size += 1 + length
        if size > MAX_NAME_LEN:
            return None
        labels.append(wire[p + 1:p + 1 + length].decode("ascii", "backslashreplace")
                      .replace(".", "\\."))
        p += 1 + length
    return None


def walk(wire: bytes) -> Walk | None:
    """Where the question ends and where every RR is; ``None`` if ``wire`` is malformed.

    The differ's fast path calls this once per compared response, so names are skipped
    inline (the rules of :func:`skip_name`) rather than by a call per name.
    """
    n = len(wire)
    if n < HEADER_LEN:
        return None
    qd = (wire[4] << 8) | wire[5]
    an = (wire[6] << 8) | wire[7]
    ns = (wire[8] << 8) | wire[9]
    ar = (wire[10] << 8) | wire[11]
    p = HEADER_LEN
    fixed: list[int] = []
    ttls: list[int] = []
    question_end = -1
    for i in range(qd + an + ns + ar):
        if i == qd:
            question_end = p
        start = p
        while True:  # the name at p
            if p >= n:
                return None
            length = wire[p]
            if length == 0:
                p += 1
                if p - start > MAX_NAME_LEN:
                    return None
                break
            if length >= 0xC0:
                if p + 1 >= n or (((length & 0x3F) << 8) | wire[p + 1]) >= p:
                    return None
                p += 2
                break
            if length > 63:
                return None
            p += 1 + length
        if i < qd:
            p += 4
            if p > n:
                return None
            continue
        if p + 10 > n:
            return None
        fixed.append(p)
        if ((wire[p] << 8) | wire[p + 1]) != OPT:
            ttls.append(p + 4)
        p += 10 + ((wire[p + 8] << 8) | wire[p + 9])
        if p > n:
            return None
    if p != n:
        return None
    if question_end < 0:
        question_end = p
    return Walk((qd, an, ns, ar), question_end, tuple(fixed), tuple(ttls))
