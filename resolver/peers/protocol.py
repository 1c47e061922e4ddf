"""The peer protocol: length-prefixed frames over one persistent stream per peer pair.

Every frame (big-endian)::

    0   u32  length of the rest of the frame (8 + body + MAC), at most MAX_FRAME
    4   u8   version (1)
    5   u8   type: REQUEST 1, ACK 2, ANSWER 3, ERROR 4, PING 5, PONG 6
    6   u8   flags (REQUEST: DO 0x01, CD 0x02, FORWARDED 0x04; ANSWER: CACHED 0x01,
             VALIDATED 0x02)
    7   u8   MAC length: 0, or 32 with a shared secret
    8   u64  request id (chosen at random by the requester; the ACK, ANSWER or ERROR to a
             request carries the request's id)
    16  ...  body
    end      HMAC-SHA256(secret, bytes 4 .. end of body) when the MAC length is 32

Bodies:

* REQUEST: the question as in a DNS message (uncompressed name, u16 type, u16 class).  A
  requester always sets FORWARDED; a receiver resolves a request itself and never forwards it
  again, whatever its own ring says (no loop can form).
* ACK: empty; "alive, the answer follows" (sent on receipt; the requester then waits
  longer than the short liveness timeout, see :mod:`resolver.peers.group`).
* ANSWER: u16 rcode (extended), u8 security (0 indeterminate, 1 insecure, 2 secure,
  3 bogus), u8 EDE count, per EDE u16 code + u16 length + UTF-8 text, then a DNS message
  (wire format) holding the question, the answer section and the authority section, each
  RRset with its *remaining* TTL.  CACHED says the owner had it all in its cache (a peer
  hit); VALIDATED that the owner's resolver validates (the security field is its verdict).
* ERROR: u8 code, UTF-8 text.
* PING, PONG: empty; the health check of a member marked dead (a PONG carries the PING's id).

With a secret every frame must carry a valid MAC (a frame without one, or with a wrong one,
is dropped and its connection closed).  Request ids are random 64-bit numbers, so an answer
recorded earlier can not be replayed for a later request.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import struct
from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.cache.common import MAX_TTL_S, Security
from resolver.dnssec.validating import ValidatedResolution
from resolver.peers.ring import key_of
from resolver.recursor import Resolution

__all__ = [
    "HEADER",
    "MAC_LEN",
    "MAX_FRAME",
    "VERSION",
    "Answer",
    "Frame",
    "FrameError",
    "Kind",
    "OwnershipError",
    "Question",
    "decode_answer",
    "decode_header",
    "decode_question",
    "encode_answer",
    "encode_frame",
    "encode_question",
    "open_frame",
    "checked_resolution",
]

VERSION = 1
MAC_LEN = 32
MAX_FRAME = 256 * 1024
"""The longest frame accepted (the rest after the length prefix)."""

HEADER = struct.Struct("!IBBBBQ")  # length, version, type, flags, MAC length, request id
_PREFIX = 4

F_DO = 0x01
F_CD = 0x02
F_FORWARDED = 0x04
F_CACHED = 0x01
F_VALIDATED = 0x02

_SECURITY = [Security.INDETERMINATE, Security.INSECURE, Security.SECURE, Security.BOGUS]


class Kind(enum.IntEnum):
    REQUEST = 1
    ACK = 2
    ANSWER = 3
    ERROR = 4
    PING = 5
    PONG = 6


class FrameError(ValueError):
    """A frame that is malformed, too long, unauthenticated or of another version."""


class OwnershipError(ValueError):
    """An answer with records for names the question did not lead to."""


@dataclass(frozen=True)
class Frame:
    kind: Kind
    flags: int
    request_id: int
    body: bytes


@dataclass(frozen=True)
class Question:
    qname: dns.name.Name
    qtype: int
    qclass: int = dns.rdataclass.IN


@dataclass
class Answer:
    """What an ANSWER carries, as the requester reads it."""

    rcode: int
    security: Security
    validated: bool
    cached: bool
    question: Question
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    ede: list[tuple[int, str]] = field(default_factory=list)


def _mac(secret: bytes, data: bytes) -> bytes:
    return hmac.new(secret, data, hashlib.sha256).digest()


def encode_frame(kind: Kind, request_id: int, body: bytes = b"", flags: int = 0,
                 secret: bytes | None = None) -> bytes:
    mac_len = MAC_LEN if secret else 0
    length = HEADER.size - _PREFIX + len(body) + mac_len
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes is longer than {MAX_FRAME}")
    head = HEADER.pack(length, VERSION, int(kind), flags, mac_len, request_id)
    if secret:
        return head + body + _mac(secret, head[_PREFIX:] + body)
    return head + body


def decode_header(head: bytes) -> int:
    """The length of the rest of the frame, from its first 4 bytes."""
    length = int(struct.unpack("!I", head)[0])
    if not HEADER.size - _PREFIX <= length <= MAX_FRAME:
        raise FrameError(f"frame length {length} out of range")
    return length


def open_frame(rest: bytes, secret: bytes | None) -> Frame:
    """The frame whose bytes after the length prefix are ``rest``, its MAC checked when a
    secret is configured (then a frame without a MAC is refused too)."""
    version, kind, flags, mac_len, request_id = HEADER.unpack(bytes(4) + rest[:12])[1:]
    if version != VERSION:
        raise FrameError(f"protocol version {version}, expected {VERSION}")
    if mac_len not in (0, MAC_LEN) or len(rest) < 12 + mac_len:
        raise FrameError(f"MAC length {mac_len}")
    body_end = len(rest) - mac_len
    if secret:
        if mac_len != MAC_LEN:
            raise FrameError("no MAC (a shared secret is configured)")
        if not hmac.compare_digest(_mac(secret, rest[:body_end]), rest[body_end:]):
            raise FrameError("bad MAC")
    try:
        k = Kind(kind)
    except ValueError:
        raise FrameError(f"unknown frame type {kind}") from None
    return Frame(k, flags, request_id, rest[12:body_end])


def encode_question(q: Question) -> bytes:
    return (q.qname.to_wire() or b"") + struct.pack("!HH", q.qtype, q.qclass)


def decode_question(body: bytes) -> Question:
    try:
        name, used = dns.name.from_wire(body, 0)
    except dns.exception.DNSException as e:
        raise FrameError(f"bad question name: {e}") from None
    if len(body) != used + 4 or not name.is_absolute():
        raise FrameError("bad question")
    qtype, qclass = struct.unpack_from("!HH", body, used)
    return Question(name, qtype, qclass)


def encode_answer(question: Question, res: Resolution, do: bool) -> tuple[bytes, int]:
    """The ANSWER body for ``res`` and its flags; without ``do`` the DNSSEC records the
    requester's client will not see are left out (RRSIG, NSEC, NSEC3 unless asked for)."""
    validated = isinstance(res, ValidatedResolution)
    security = res.security if isinstance(res, ValidatedResolution) else Security.INDETERMINATE
    ede = res.ede if isinstance(res, ValidatedResolution) else []
    msg = dns.message.Message(id=0)
    msg.question = [dns.rrset.RRset(question.qname, dns.rdataclass.RdataClass.make(question.qclass),
                                   dns.rdatatype.RdataType.make(question.qtype))]
    msg.answer = [r for r in res.answer if _kept(r, question.qtype, do)]
    msg.authority = [r for r in res.authority if _kept(r, question.qtype, do)]
    wire = msg.to_wire(want_shuffle=False)
    head = struct.pack("!HBB", res.rcode, _SECURITY.index(security), len(ede[:255]))
    parts = [head]
    for code, text in ede[:255]:
        raw = text.encode("utf-8")[:1024]
        parts.append(struct.pack("!HH", code, len(raw)) + raw)
    parts.append(wire)
    flags = (F_CACHED if res.upstream_queries == 0 else 0) | (F_VALIDATED if validated else 0)
    return b"".join(parts), flags


_DNSSEC = frozenset({dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3})


def _kept(rrset: dns.rrset.RRset, qtype: int, do: bool) -> bool:
    return do or rrset.rdtype not in _DNSSEC or rrset.rdtype == qtype


def decode_answer(body: bytes, flags: int) -> Answer:
    try:
        rcode, sec, n_ede = struct.unpack_from("!HBB", body)
        pos = 4
        ede: list[tuple[int, str]] = []
        for _ in range(n_ede):
            code, n = struct.unpack_from("!HH", body, pos)
            ede.append((code, body[pos + 4:pos + 4 + n].decode("utf-8", "replace")))
            pos += 4 + n
        msg = dns.message.from_wire(body[pos:])
        security = _SECURITY[sec]
    except (struct.error, IndexError, dns.exception.DNSException) as e:
        raise FrameError(f"bad answer: {e}") from None
    if len(msg.question) != 1:
        raise FrameError("bad answer: not one question")
    q = msg.question[0]
    return Answer(rcode, security, bool(flags & F_VALIDATED), bool(flags & F_CACHED),
                  Question(q.name, q.rdtype, q.rdclass), list(msg.answer), list(msg.authority),
                  ede)


def checked_resolution(asked: Question, got: Answer, *, trusted: bool,
                       max_ttl: int = MAX_TTL_S) -> Resolution:
    """The peer's answer as a resolution for ``asked``, never trusted beyond its claims.

    * its question must be the one asked (name, type, class);
    * the answer section must be the question name's chain: each RRset's owner is the
      question name or a name a CNAME/DNAME before it leads to (a DNAME's owner is an
      ancestor of the chain name it rewrites); RRSIGs go with the names they may cover;
    * each authority RRset's owner must be an ancestor of a name of the chain (the zone's
      SOA, NS), or lie in the registered domain of a chain name or in a zone whose SOA (an
      ancestor of the chain) the section carries (NSEC/NSEC3 and their signatures);
    * TTLs are kept as the peer's remaining TTLs, capped at ``max_ttl`` (never extended);
    * the DNSSEC verdict is taken as claimed only from a ``trusted`` (authenticated) peer
      that validates; otherwise secure becomes indeterminate (no AD from it).

    Raises :class:`OwnershipError` otherwise (the caller counts it and resolves itself).
    """
    q = got.question
    if q.qname != asked.qname or q.qtype != asked.qtype or q.qclass != asked.qclass:
        raise OwnershipError(f"answer for {q.qname}/{q.qtype}, asked {asked.qname}/"
                             f"{asked.qtype}")
    chain = [asked.qname]
    for rrset in got.answer:
        name = rrset.name
        if rrset.rdtype == dns.rdatatype.DNAME or rrset.covers == dns.rdatatype.DNAME:
            if not any(c.is_subdomain(name) for c in chain):
                raise OwnershipError(f"DNAME {name} does not cover the chain")
            continue
        if name not in chain:
            raise OwnershipError(f"answer record {name} is not on the chain from "
                                 f"{asked.qname}")
        if rrset.rdtype == dns.rdatatype.CNAME and len(rrset):
            chain.append(rrset[0].target)
    zones = [r.name for r in got.authority if r.rdtype == dns.rdatatype.SOA
             and any(c.is_subdomain(r.name) for c in chain)]
    # the registered domains the chain is in: the owners' own (a wildcard answer's NSEC or
    # NSEC3 proof lies elsewhere in the zone, without an SOA beside it)
    zones += [dns.name.from_text(key_of(c)) for c in chain]
    for rrset in got.authority:
        name = rrset.name
        if any(c.is_subdomain(name) for c in chain):
            continue
        if any(name.is_subdomain(z) for z in zones):
            continue
        raise OwnershipError(f"authority record {name} is outside the zone of "
                             f"{asked.qname}")
    answer = [_capped(r, max_ttl) for r in got.answer]
    authority = [_capped(r, max_ttl) for r in got.authority]
    if got.validated:
        security = got.security
        if not trusted and security is Security.SECURE:
            security = Security.INDETERMINATE
        return ValidatedResolution(got.rcode, answer, authority, 0, "from a peer", security,
                                   list(got.ede))
    return Resolution(got.rcode, answer, authority, 0, "from a peer")


def _capped(rrset: dns.rrset.RRset, ttl: int) -> dns.rrset.RRset:
    if rrset.ttl <= ttl:
        return rrset
    out: dns.rrset.RRset = rrset.copy()
    out.ttl = ttl
    return out

