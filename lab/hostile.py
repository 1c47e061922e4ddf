"""The lab's hostile mode: authorities that bend a share of their replies (issue 24 part 2).

``shadowdns lab up --hostile SHARE`` makes every server of the world pass each reply it was
going to send through :meth:`Hostility.bend` first; with probability ``SHARE`` the reply is
replaced by one of the kinds below, chosen uniformly by a seeded generator:

=================  ===========================================================================
``bitflip``        the true reply with 1-4 random bits flipped after the ID
``truncated``      the true reply cut short at a random length, TC not set
``oversize``       the true reply with random bytes appended: larger than the query's UDP
                   payload (EDNS, or 512 without it) and not a valid message
``garbage``        random bytes of random length behind the query's ID
``wrong_id``       a *poisoned* reply (see below) with another ID
``wrong_question`` a poisoned reply for another name (first label changed), right ID
``not_response``   a poisoned reply with QR clear
``wrong_opcode``   a poisoned reply with opcode UPDATE
``slow_drip``      over UDP a TC=1 reply; over TCP the true reply one byte per
                   :data:`DRIP_INTERVAL`, far slower than any resolver's patience
=================  ===========================================================================

A *poisoned* reply claims, authoritatively, that the question's name has an A record
:data:`POISON` (no lab zone holds it) and carries the answer for a question of type A
whatever was asked: a resolver that accepts any of them shows it in its answers or cache, so
"the poison never appears" is the test of "what must be rejected is rejected".  The other
kinds test parsing (``bitflip``, ``truncated``, ``oversize``, ``garbage``) and patience
(``slow_drip``): a flipped bit in signed data must end as bogus, never as an answer.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

KINDS = ("bitflip", "truncated", "oversize", "garbage", "wrong_id", "wrong_question",
         "not_response", "wrong_opcode", "slow_drip")
POISON = "127.66.6.6"
DRIP_INTERVAL = 0.25
"""Seconds between the bytes of a slow-drip TCP reply."""


@dataclass(frozen=True, slots=True)
class Bent:
    """What a listener sends instead: ``reply`` (None: nothing), dripped over TCP or not."""

    reply: bytes | None
    drip: bool = False
    kind: str = ""


@dataclass
class Hostility:
    """Bends ``share`` of the replies (0 < share <= 1) into one of ``kinds``."""

    share: float
    seed: int | None = None
    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        if not 0.0 < self.share <= 1.0:
            raise ValueError(f"hostile share must be in (0, 1], not {self.share}")
        unknown = sorted(set(self.kinds) - set(KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"unknown hostile kinds {unknown} (known: {', '.join(KINDS)})")
        self.rng = random.Random(self.seed)

    def bend(self, reply: bytes, query: bytes, tcp: bool) -> Bent:
        """The reply to send in place of ``reply`` (the true one) to ``query``."""
        if len(query) < 12 or self.rng.random() >= self.share:
            return Bent(reply)
        kind = self.rng.choice(self.kinds)
        rng = self.rng
        if kind == "bitflip":
            data = bytearray(reply)
            for _ in range(rng.randint(1, 4)):
                if len(data) > 2:
                    i = rng.randrange(2, len(data))
                    data[i] ^= 1 << rng.randrange(8)
            return Bent(bytes(data), kind=kind)
        if kind == "truncated":
            return Bent(reply[:rng.randrange(2, max(3, len(reply)))], kind=kind)
        if kind == "oversize":
            limit = _udp_limit(query)
            extra = max(1, limit + 1 - len(reply)) + rng.randrange(64)
            return Bent(reply + rng.randbytes(extra), kind=kind)
        if kind == "garbage":
            return Bent(query[:2] + rng.randbytes(rng.randrange(0, 600)), kind=kind)
        if kind == "slow_drip":
            if tcp:
                return Bent(reply, drip=True, kind=kind)
            return Bent(_tc(query), kind=kind)
        poisoned = _poisoned(query, kind, rng)
        return Bent(poisoned, kind=kind)


def _udp_limit(query: bytes) -> int:
    try:
        msg = dns.message.from_wire(query)
    except dns.exception.DNSException:
        return 512
    return max(512, msg.payload) if msg.edns >= 0 else 512


def _tc(query: bytes) -> bytes | None:
    try:
        msg = dns.message.from_wire(query)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(msg)
    response.flags |= dns.flags.TC
    return response.to_wire()


def _poisoned(query: bytes, kind: str, rng: random.Random) -> bytes | None:
    try:
        msg = dns.message.from_wire(query)
    except dns.exception.DNSException:
        return None
    if len(msg.question) != 1:
        return None
    qname = msg.question[0].name
    response = dns.message.make_response(msg)
    response.flags |= dns.flags.AA
    if kind == "wrong_question":
        first = qname.labels[0] if qname != dns.name.root else b""
        qname = dns.name.Name(((b"x" + first)[:63], *qname.labels[1:])) if first else \
            dns.name.from_text("x.")
    response.question = [dns.rrset.RRset(qname, dns.rdataclass.IN, dns.rdatatype.A)]
    response.answer.append(dns.rrset.from_text(qname, 300, "IN", "A", POISON))
    if kind == "not_response":
        response.flags &= ~dns.flags.QR
    elif kind == "wrong_opcode":
        response.set_opcode(dns.opcode.UPDATE)
    wire = bytearray(response.to_wire())
    if kind == "wrong_id":
        (qid,) = struct.unpack("!H", wire[:2])
        struct.pack_into("!H", wire, 0, (qid + 1 + rng.randrange(0xFFFE)) & 0xFFFF)
    return bytes(wire)
