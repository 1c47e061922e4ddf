"""Faults at the candidate's Exchanger seam: a resolver bug on demand, for replay tests.

:class:`FaultyExchanger` wraps an Exchanger (the conductor) and bends the responses the
recursor and validator get, as a buggy response parser would; the authorities' real
answers still pass through the transport below it, where they are recorded
(:mod:`harness.recording`).  So a divergence caused by the fault replays from its scenario
with the fault (it fails) and without it (it passes).  Kinds:

* ``drop_answer``: every RRset of the question's type leaves the answer section (and its
  RRSIGs) -> a NODATA where the reference answers;
* ``corrupt_signature``: the last byte of the signature of every RRSIG covering the
  question's type (DS and DNSKEY excepted, so the chain of trust is still fetched) is
  flipped -> bogus (SERVFAIL) where the reference is secure;
* ``corrupt_denial``: the same for RRSIGs covering NSEC/NSEC3 in a negative response's
  authority section -> bogus where the reference gives a proven NXDOMAIN/NODATA.
"""

from __future__ import annotations

import dns.message
import dns.rdatatype
import dns.rrset

from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

__all__ = ["KINDS", "FaultyExchanger", "bend"]

KINDS = ("drop_answer", "corrupt_signature", "corrupt_denial")
_CHAIN = (dns.rdatatype.DS, dns.rdatatype.DNSKEY)
_DENIAL = (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)


def _flip(rrset: dns.rrset.RRset) -> dns.rrset.RRset:
    out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
    for sig in rrset:
        signature = bytes(sig.signature[:-1]) + bytes([sig.signature[-1] ^ 0xFF])
        out.add(sig.replace(signature=signature), rrset.ttl)
    return out


def bend(kind: str, qtype: int, response: dns.message.Message) -> bool:
    """Apply ``kind`` to ``response`` (a reply to a question of type ``qtype``) in place;
    whether anything changed."""
    changed = False
    if kind == "drop_answer":
        kept = [r for r in response.answer if qtype not in (r.rdtype, r.covers)]
        changed = len(kept) != len(response.answer)
        response.answer = kept
    elif kind == "corrupt_signature":
        if qtype in _CHAIN:
            return False
        for i, r in enumerate(response.answer):
            if r.rdtype == dns.rdatatype.RRSIG and r.covers == qtype:
                response.answer[i] = _flip(r)
                changed = True
    elif kind == "corrupt_denial":
        for i, r in enumerate(response.authority):
            if r.rdtype == dns.rdatatype.RRSIG and r.covers in _DENIAL:
                response.authority[i] = _flip(r)
                changed = True
    else:
        raise ValueError(f"unknown fault {kind!r} (known: {', '.join(KINDS)})")
    return changed


class FaultyExchanger:
    """An Exchanger that bends every response of ``inner`` with :func:`bend`."""

    def __init__(self, inner: Exchanger, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(KINDS)})")
        self.inner = inner
        self.kind = kind
        self.bent = 0

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        result = await self.inner.exchange(query)
        if result.response is not None:
            response = dns.message.from_wire(result.response.to_wire())  # never the cached one
            if bend(self.kind, query.qtype, response):
                self.bent += 1
                result = UpstreamResult(response, result.server, result.failure,
                                        result.attempts, list(result.failures))
        return result
