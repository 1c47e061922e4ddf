"""Faults injected into the candidate, to measure what the differ finds.

:class:`FaultPlugin` is a :class:`resolver.plugins.Plugin` whose ``post_resolve`` hook bends
the reply for the questions it has been told to (``plugin.inject(name, type, kind)``); the
same mutations are available as :func:`apply_fault` for replies built outside a worker.

Each kind, what it does, and the category the differ should file it under:

* ``drop_rr``: drop the last record of the last data RRset of the answer (of the authority
  section when the answer is empty) -> ``answer.data`` (``authority.data``);
* ``rcode``: NOERROR -> NXDOMAIN, NXDOMAIN -> NOERROR, anything else -> REFUSED -> ``rcode``;
* ``flip_ad``: toggle AD -> ``dnssec.secure_insecure`` (``flags.ad`` when the rcode is not
  an answer or the client asked for no DNSSEC);
* ``strip_rrsig``: remove every RRSIG from the answer and authority sections ->
  ``answer.rrsig`` (``authority.rrsig``);
* ``reorder_cname``: move the answer's first CNAME RRset to the end, after the records it
  points to -> ``cname.order``;
* ``raise_ttl``: the first answer RRset's TTL (the authority's when the answer is empty) plus
  one hour, above anything the authority gave -> ``answer.ttl`` (``authority.ttl``);
* ``change_address``: the first A/AAAA RRset's first address replaced by one that no lab name
  has (127.66.6.6 / fd00:66::6) -> ``answer.data``.

A fault that cannot apply to a reply (no CNAME to reorder, no RRSIG to strip) leaves it as
it is and says so: :func:`apply_fault` returns ``None``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.model import Request
from resolver.plugins import Plugin, copy_reply

__all__ = ["FAULT_ADDRESS_V4", "FAULT_ADDRESS_V6", "Applied", "FaultKind", "FaultPlugin",
           "apply_fault"]

FAULT_ADDRESS_V4 = "127.66.6.6"
FAULT_ADDRESS_V6 = "fd00:66::6"
RAISE_BY = 3600

_RRSIG = dns.rdatatype.RRSIG
_CNAME = dns.rdatatype.CNAME
_DNAME = dns.rdatatype.DNAME
_ADDRESS = (dns.rdatatype.A, dns.rdatatype.AAAA)


class FaultKind(enum.Enum):
    DROP_RR = "drop_rr"
    RCODE = "rcode"
    FLIP_AD = "flip_ad"
    STRIP_RRSIG = "strip_rrsig"
    REORDER_CNAME = "reorder_cname"
    RAISE_TTL = "raise_ttl"
    CHANGE_ADDRESS = "change_address"


@dataclass(frozen=True)
class Applied:
    """A fault applied to one reply: the bent reply and the category it should be found as."""

    kind: FaultKind
    reply: dns.message.Message
    expected: str
    detail: str


def _rrset(name: dns.name.Name, ttl: int, rdatas: list[dns.rdata.Rdata]) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(name, ttl, rdatas)


def _data_rrsets(section: list[dns.rrset.RRset]) -> list[int]:
    return [i for i, r in enumerate(section) if r.rdtype != _RRSIG]


def apply_fault(kind: FaultKind, reply: dns.message.Message,
                query: dns.message.Message | None = None) -> Applied | None:
    """``reply`` with the fault applied (a copy), or ``None`` when it does not apply."""
    out = copy_reply(reply)
    asked_dnssec = query is None or bool(query.ednsflags & dns.flags.DO
                                         or query.flags & dns.flags.AD)
    if kind is FaultKind.DROP_RR:
        for name, section in (("answer", out.answer), ("authority", out.authority)):
            idx = [i for i in _data_rrsets(section) if section[i].rdtype not in (_CNAME, _DNAME)]
            if not idx:
                continue
            i = idx[-1]
            old = section[i]
            rdatas = list(old)
            dropped = rdatas.pop()
            if rdatas:
                section[i] = _rrset(old.name, old.ttl, rdatas)
            else:
                del section[i]
            return Applied(kind, out, f"{name}.data",
                           f"dropped {old.name} {dns.rdatatype.to_text(old.rdtype)} {dropped}")
        return None
    if kind is FaultKind.RCODE:
        rc = reply.rcode()
        rcode = (dns.rcode.NXDOMAIN if rc == dns.rcode.NOERROR else
                 dns.rcode.NOERROR if rc == dns.rcode.NXDOMAIN else dns.rcode.REFUSED)
        out.set_rcode(rcode)
        return Applied(kind, out, "rcode", f"rcode {dns.rcode.to_text(rc)} -> "
                       f"{dns.rcode.to_text(rcode)}")
    if kind is FaultKind.FLIP_AD:
        out.flags ^= dns.flags.AD
        answered = reply.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
        expected = "dnssec.secure_insecure" if answered and asked_dnssec else "flags.ad"
        return Applied(kind, out, expected, "AD flipped")
    if kind is FaultKind.STRIP_RRSIG:
        had = {"answer": any(r.rdtype == _RRSIG for r in out.answer),
               "authority": any(r.rdtype == _RRSIG for r in out.authority)}
        if not any(had.values()):
            return None
        out.answer = [r for r in out.answer if r.rdtype != _RRSIG]
        out.authority = [r for r in out.authority if r.rdtype != _RRSIG]
        return Applied(kind, out, "answer.rrsig" if had["answer"] else "authority.rrsig",
                       "RRSIGs stripped")
    if kind is FaultKind.REORDER_CNAME:
        firsts = [i for i, r in enumerate(out.answer) if r.rdtype == _CNAME]
        if not firsts:
            return None
        i = firsts[0]
        target = out.answer[i][0].target
        if not any(r.name == target and r.rdtype != _RRSIG for r in out.answer):
            return None  # nothing after it to be out of order with
        moved = out.answer.pop(i)
        out.answer.append(moved)
        return Applied(kind, out, "cname.order", f"CNAME at {moved.name} moved last")
    if kind is FaultKind.RAISE_TTL:
        for name, section in (("answer", out.answer), ("authority", out.authority)):
            idx = _data_rrsets(section)
            if not idx:
                continue
            old = section[idx[0]]
            section[idx[0]] = _rrset(old.name, old.ttl + RAISE_BY, list(old))
            return Applied(kind, out, f"{name}.ttl", f"TTL of {old.name} {old.ttl} -> "
                           f"{old.ttl + RAISE_BY}")
        return None
    if kind is FaultKind.CHANGE_ADDRESS:
        for i, old in enumerate(out.answer):
            if old.rdtype not in _ADDRESS:
                continue
            rdatas = list(old)
            value = FAULT_ADDRESS_V4 if old.rdtype == dns.rdatatype.A else FAULT_ADDRESS_V6
            new = dns.rdata.from_text(dns.rdataclass.IN, old.rdtype, value)
            if new in rdatas:
                return None
            was = rdatas[0]
            rdatas[0] = new
            out.answer[i] = _rrset(old.name, old.ttl, rdatas)
            return Applied(kind, out, "answer.data", f"{old.name} {was} -> {value}")
        return None
    raise ValueError(f"unknown fault {kind}")


class FaultPlugin(Plugin):
    """Bends the candidate's replies for chosen questions at the post-resolve hook.

    ``inject(name, rdtype, kind)`` arms a fault for a question (any case, any class),
    ``clear(name, rdtype)`` disarms it.  ``applied`` maps each armed question to the last
    :class:`Applied` (or ``None`` when the fault did not apply to the reply).
    """

    def __init__(self) -> None:
        self.armed: dict[tuple[str, int], FaultKind] = {}
        self.applied: dict[tuple[str, int], Applied | None] = {}

    @staticmethod
    def _key(name: str | dns.name.Name, rdtype: int) -> tuple[str, int]:
        text = name.to_text() if isinstance(name, dns.name.Name) else name
        if not text.endswith("."):
            text += "."
        return text.lower(), int(rdtype)

    def inject(self, name: str | dns.name.Name, rdtype: int, kind: FaultKind) -> None:
        key = self._key(name, rdtype)
        self.armed[key] = kind
        self.applied.pop(key, None)

    def clear(self, name: str | dns.name.Name, rdtype: int) -> None:
        key = self._key(name, rdtype)
        self.armed.pop(key, None)

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        key = self._key(request.qname, request.qtype)
        kind = self.armed.get(key)
        if kind is None:
            return reply
        applied = apply_fault(kind, reply, query)
        self.applied[key] = applied
        return reply if applied is None else applied.reply
