"""The bytes fast path's wire readers: what the reply cache (:mod:`resolver.cache.reply`)
and DoH read from a packet without dnspython.

:func:`read_query` reads the fast-path key straight from a query packet: the question name
lower-cased, type and class, plus the bits that change the answer (RD, CD, DO) and whether
the client used EDNS.  Only plain queries qualify: QR=0, opcode QUERY, one question, no
answer or authority records, and at most an OPT record in the additional section; anything
else falls through to the full path.  :func:`walk_reply` finds where a message's question
ends and where the TTL field of every record is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
OPT = 41
_RD, _CD, _DO = 0x0100, 0x0010, 0x8000


@dataclass(frozen=True)
class QueryShape:
    """What a plain query packet looks like, read without dnspython."""

    key: bytes
    qend: int  # offset just past the question
    payload: int | None  # EDNS UDP payload, None without OPT


def read_query(wire: bytes) -> QueryShape | None:
    """The fast-path key of a plain query, or None if it is not one."""
    if len(wire) < 17:
        return None
    _, flags, qd, an, ns, ar = HEADER.unpack_from(wire)
    if flags & 0xF800 or qd != 1 or an or ns or ar > 1:  # QR or opcode set, odd counts
        return None
    pos = 12
    labels = bytearray()
    while True:
        if pos >= len(wire):
            return None
        length = wire[pos]
        if length == 0:
            pos += 1
            break
        if length > 63:
            return None  # compression in a question: not a plain query
        labels += wire[pos:pos + length + 1]
        pos += length + 1
        if len(labels) > 255:
            return None
    if pos + 4 > len(wire):
        return None
    qtype_class = wire[pos:pos + 4]
    qend = pos + 4
    payload: int | None = None
    do = 0
    if ar:
        # the OPT record: root name, type 41
        if qend + 11 > len(wire) or wire[qend] != 0:
            return None
        rtype, rclass, ttl, rdlen = _RR_FIXED.unpack_from(wire, qend + 1)
        if rtype != OPT or qend + 11 + rdlen != len(wire) or (ttl >> 16) & 0xFF:
            return None  # not OPT, trailing junk, or EDNS version > 0
        payload = rclass
        do = 1 if ttl & _DO else 0
    elif qend != len(wire):
        return None
    bits = (1 if flags & _RD else 0) | (2 if flags & _CD else 0) | (4 * do) \
        | (8 if payload is not None else 0)
    key = bytes(labels.lower()) + qtype_class + bytes((bits,))
    return QueryShape(key, qend, payload)


def walk_reply(wire: bytes) -> tuple[int, list[int]] | None:
    """Where a message's question ends and where the TTL field of every RR (OPT aside) is.

    None when the bytes are not a well-formed DNS message (short, a bad label, trailing
    bytes).  Used by the fast path and DoH; the differ has its own (harness/wirewalk.py).
    """
    n = len(wire)
    if n < 12:
        return None
    _, _, qd, an, ns, ar = HEADER.unpack_from(wire)
    pos = 12
    for _ in range(qd):
        pos = _skip_name(wire, pos, n) + 4
        if pos > n:
            return None
    question_end = pos
    offsets: list[int] = []
    for _ in range(an + ns + ar):
        pos = _skip_name(wire, pos, n)
        if pos + 10 > n:
            return None
        if ((wire[pos] << 8) | wire[pos + 1]) != OPT:
            offsets.append(pos + 4)
        pos += 10 + ((wire[pos + 8] << 8) | wire[pos + 9])
    if pos != n:
        return None
    return question_end, offsets


def ttl_offsets(wire: bytes) -> list[int] | None:
    """Offsets of the TTL field of every RR (OPT aside) in a reply, or None if malformed."""
    walked = walk_reply(wire)
    return None if walked is None else walked[1]


def _skip_name(wire: bytes, pos: int, end: int) -> int:
    """The offset after the name at ``pos``; past ``end`` when the name is malformed."""
    while pos < end:
        length = wire[pos]
        if length == 0:
            return pos + 1
        if length >= 0xC0:
            return pos + 2
        if length > 63:
            return end + 1
        pos += length + 1
    return end + 1
