"""The authority sweep: ask the zone's authoritative servers themselves.

Some noise lives between the authoritative servers of one zone: an anycast instance or NSID
name per server, a secondary that has not caught up (another serial, older data), a TTL set
per CDN edge.  A resolver sticks to the server it measured fastest, so one reference can
show one server's value in every sample while the candidate shows another's: nothing on
the reference side varies, and the noise floor would call the difference the candidate's.

When a difference is still judged real after the noise floor, the differ learns the
zone's NS set through the primary reference (the owner's SOA for the zone's apex, the
apex's NS, each server's A and AAAA; kept for :data:`ZONE_SECONDS`), asks every address
the question for that field directly (RD=0, DO as the client asked), and holds the
candidate's value against what the authorities gave:

* a **data** field (an RRset's records, a CNAME): an authoritative answer (AA=1, NOERROR
  or NXDOMAIN) with exactly the candidate's records explains the difference as noise;
* an answer-section **TTL** field: a TTL (or RRSIG original TTL) at or above the
  candidate's, from an authoritative answer, explains it (the candidate's TTL is one an
  authority gives).  Not in the authority section: a negative answer's SOA and NSEC are
  cached for the negative TTL (RFC 2308 §5, RFC 9077), whatever TTL the server gives them.
  When the authorities, asked at one moment, give TTLs further apart than rounding (a TTL
  jittered per answer, a TTL per server), :func:`~harness.differ.floor.judge_varying_ttl`
  decides: above an RRSIG's original TTL or a negative answer's SOA MINIMUM, or more than
  twice the highest TTL the reference side and the authorities gave, real; else the
  candidate's fresh (flushed) fetch: within that highest TTL, noise; above it again, real.

Anything else (rcode, flags, DNSSEC, a missing RRset) is never explained here: a referral,
a CNAME into another zone, or a name the authority does not hold would be taken for
agreement.  The evidence names each server and what it gave.  Every query, to the
reference and to the authorities, is confirmation traffic: budgeted and counted.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from harness.differ.answers import Parsed, RRKey
from harness.differ.compare import Difference
from harness.differ.floor import (
    FieldJudgement,
    _records,
    _ttl_of,
    _value,
    judge_varying_ttl,
)
from harness.differ.normalise import ROUNDING
from harness.records import Query, TargetAnswer
from netpolicy import AddressError, AddressPolicy

__all__ = ["AuthorityAnswer", "Authorities", "UdpAuthorities", "ZoneBook", "ZoneServers",
           "apex_of", "judge_by_authorities", "judge_ttl_again", "server_addresses",
           "sweep_query", "sweep_wire", "sweepable", "ttl_of", "ttl_varies"]

ZONE_SECONDS = 300.0
"""How long a zone's NS set, as learned through the reference, is used before it is
learned again."""

_SOA = int(dns.rdatatype.SOA)
_NS = int(dns.rdatatype.NS)
_RRSIG = int(dns.rdatatype.RRSIG)
_ANSWERS = (int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN))


class Authorities(Protocol):
    """Asks one authoritative server at ``address`` a question directly (no recursion)."""

    async def __call__(self, address: str, query: Query) -> TargetAnswer: ...


def sweep_wire(query: Query) -> bytes:
    """The packet for an authority: the question, DO as asked, no RD."""
    msg = dns.message.make_query(query.qname, dns.rdatatype.RdataType.make(query.qtype),
                                 dns.rdataclass.IN, use_edns=True, want_dnssec=query.do,
                                 payload=query.edns_payload or 1232)
    msg.flags = dns.flags.Flag(0)  # RD=0: the server's own data, no recursion
    return msg.to_wire()


class UdpAuthorities:
    """:class:`Authorities` over UDP (TCP when truncated) to ``address:port``."""

    def __init__(self, port: int = 53, timeout: float = 2.0,
                 policy: AddressPolicy | None = None) -> None:
        self.port = port
        self.timeout = timeout
        self.policy = policy  # lab mode: only loopback addresses are asked

    async def __call__(self, address: str, query: Query) -> TargetAnswer:
        from harness.exchange import ExchangeError, UdpExchange

        label = f"authority {address}"
        if self.policy is not None:
            try:
                self.policy.address("authority sweep", address)
            except AddressError as e:
                return TargetAnswer(label, error=f"refused: {e}")
        exchange = UdpExchange(address, self.port)
        start = time.monotonic()
        try:
            await exchange.open()
            reply = await exchange.query(sweep_wire(query), self.timeout)
        except TimeoutError:
            return TargetAnswer(label, None, time.monotonic() - start, "timeout")
        except (ExchangeError, OSError) as e:
            return TargetAnswer(label, None, time.monotonic() - start, f"network: {e}")
        finally:
            exchange.close()
        now = time.monotonic()
        return TargetAnswer(label, reply, now - start, received=now)


def sweep_query(owner: str, rdtype: int, do: bool) -> Query:
    return Query(qname=owner, qtype=rdtype, rd=False, do=do, edns_payload=1232)


def reference_query(owner: str, rdtype: int) -> Query:
    """A question for the reference (recursive), while learning a zone's servers."""
    return Query(qname=owner, qtype=rdtype, edns_payload=1232)


def sweepable(d: Difference) -> bool:
    """Can the authorities speak to ``d``'s field (section data, a CNAME, a TTL)?"""
    if d.key is None:
        return False
    what = d.category.rsplit(".", 1)[-1]
    return what in ("data", "ttl") or d.category == "cname.chain"


def question_of(d: Difference) -> tuple[str, int]:
    """The question that asks an authority for ``d``'s RRset (an RRSIG's covered type)."""
    assert d.key is not None
    owner, rdtype, covers = d.key
    return owner, covers if rdtype == _RRSIG else rdtype


def apex_of(parsed: Parsed, owner: str) -> str | None:
    """The zone apex ``owner`` is in, from a resolver's answer to ``owner SOA``: the SOA's
    owner in the answer (at ``owner``) or in the authority section (a negative answer)."""
    name = dns.name.from_text(owner)
    for section in ("answer", "authority"):
        for key in parsed.sections[section]:
            if key[1] == _SOA and name.is_subdomain(dns.name.from_text(key[0])):
                return key[0]
    return None


def server_addresses(ns: Parsed, apex: str) -> tuple[list[str], dict[str, list[str]]]:
    """The NS names of ``apex`` in a resolver's answer, and the addresses it gave with them."""
    view = ns.rrset("answer", (apex, _NS, 0))
    names = [] if view is None else sorted(rd.target.to_text().lower()  # type: ignore[attr-defined]
                                           for rd in view.rdatas)
    glue: dict[str, list[str]] = collections.defaultdict(list)
    for section in ("answer", "additional"):
        for key, v in ns.sections[section].items():
            if key[0] in names and key[1] in (dns.rdatatype.A, dns.rdatatype.AAAA):
                glue[key[0]].extend(sorted(v.addresses()))
    return names, dict(glue)


@dataclass(slots=True)
class ZoneServers:
    """A zone's authoritative servers as the reference resolved them."""

    apex: str
    servers: tuple[tuple[str, str], ...]  # (NS name, address)
    learned: float


@dataclass
class ZoneBook:
    """Zones' servers learned through the reference: owner -> apex -> servers, each kept
    for ``seconds`` (at most ``capacity`` entries of each)."""

    seconds: float = ZONE_SECONDS
    capacity: int = 10_000
    apexes: dict[str, tuple[str, float]] = field(default_factory=dict)
    zones: dict[str, ZoneServers] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def apex(self, owner: str, now: float) -> str | None:
        hit = self.apexes.get(owner)
        return hit[0] if hit is not None and now - hit[1] < self.seconds else None

    def servers(self, apex: str, now: float) -> ZoneServers | None:
        hit = self.zones.get(apex)
        return hit if hit is not None and now - hit.learned < self.seconds else None

    def keep_apex(self, owner: str, apex: str, now: float) -> None:
        if len(self.apexes) >= self.capacity:
            self.apexes.clear()
        self.apexes[owner] = (apex, now)

    def keep(self, zone: ZoneServers) -> None:
        if len(self.zones) >= self.capacity:
            self.zones.clear()
            self.locks.clear()
        self.zones[zone.apex] = zone

    def lock(self, apex: str) -> asyncio.Lock:
        """One judgement learns a zone at a time; the others then use what it learned."""
        return self.locks.setdefault(apex, asyncio.Lock())


@dataclass(slots=True)
class AuthorityAnswer:
    """One authoritative server's answer to a sweep question."""

    label: str  # "ns2.edge.plain. (127.53.44.2)"
    parsed: Parsed

    @property
    def authoritative(self) -> bool:
        return bool(self.parsed.flags & dns.flags.AA) and self.parsed.rcode in _ANSWERS


def _texts(p: Parsed, key: RRKey) -> str:
    recs = _records(p, key)
    return "absent" if recs is None else _value(" ".join(sorted(map(str, recs))))


def ttl_of(p: Parsed, d: Difference) -> int | None:
    """``p``'s value of the TTL field ``d`` is about (None: ``p`` lacks the RRset)."""
    return _ttl_of(p, d)


def ttl_varies(d: Difference, answers: Sequence[AuthorityAnswer]) -> str:
    """For an answer-section TTL field: do the authoritative answers, all fetched at about
    the same moment, give TTLs further apart than rounding?  ('' when they do not.)"""
    if not d.category.endswith(".ttl") or d.section != "answer":
        return ""
    ttls = [(a.label, t) for a in answers if a.authoritative
            and (t := _ttl_of(a.parsed, d)) is not None]
    if not ttls or max(t for _, t in ttls) - min(t for _, t in ttls) <= ROUNDING:
        return ""
    return "the authorities give TTLs " + ", ".join(f"{t} ({lab})" for lab, t in ttls)


def judge_ttl_again(d: Difference, fresh: Parsed | None, highest: int, varies: str,
                    cap: tuple[int, str] | None = None) -> FieldJudgement:
    """A TTL the authorities themselves vary (:func:`~harness.differ.floor.judge_varying_ttl`:
    above the TTL any cache may give or beyond the variation, real; else the candidate's
    fresh fetch decides, and without one the verdict is undetermined, never real)."""
    return judge_varying_ttl(d, fresh, highest, varies, cap, "authority sweep")


def judge_by_authorities(d: Difference, cand: Parsed, ref: Parsed,
                         answers: Sequence[AuthorityAnswer]) -> FieldJudgement | None:
    """Noise when an authority gave the candidate's value in ``d``'s field (see the
    module docstring); None when the sweep does not explain it."""
    assert d.key is not None
    key = d.key
    held = [a for a in answers if a.authoritative]
    if not held:
        return None
    if d.category.endswith(".ttl"):
        if d.section != "answer":
            # A negative answer's SOA and NSEC records are served for the negative TTL
            # (RFC 2308 §5, RFC 9077), not the TTL the authority gives them when asked.
            return None
        ttl = d.candidate if isinstance(d.candidate, int) else None
        ttls = [(a.label, t) for a in held if (t := _ttl_of(a.parsed, d)) is not None]
        if ttl is None or not ttls:
            return None
        label, top = max(ttls, key=lambda lt: lt[1])
        if ttl > top + ROUNDING:
            return None
        gave = "; ".join(f"{lab} gave {t}" for lab, t in ttls)
        return FieldJudgement(d, "authority sweep", True, False, label,
                              f"the candidate's TTL {ttl} is within what an authority "
                              f"gives ({gave})")
    mine = _records(cand, key)
    if mine is None:
        return None
    same = [a.label for a in held if _records(a.parsed, key) == mine]
    if not same:
        return None
    others = [f"{a.label} gave {_texts(a.parsed, key)}" for a in held if a.label not in same]
    how = f"gave the candidate's value ({_texts(cand, key)}); the reference gave " \
          f"{_texts(ref, key)}"
    if others:
        how += "; " + "; ".join(others)
    return FieldJudgement(d, "authority sweep", True, False, ", ".join(same), how)
