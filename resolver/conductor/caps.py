"""0x20 fallback as Unbound does it (``use-caps-for-id``; iterator.c process_response and
processQueryTargets): when a server does not echo the random case of the name sent, its
answer is kept and the question is asked again without 0x20, of the zone's servers in turn,
until three answers per server address agree with it (``CAPS_AGREEING``); an answer that
differs makes the exchange fail ("Capsforid fallback: getting different replies,
failed"), which a client sees as SERVFAIL.  Answers with an rcode other than NOERROR or
NXDOMAIN do not count against the others (Unbound's caps_failed_rcode), and the compared
answers are stripped first (caps_strip_reply: an authoritative answer loses its additional
section and the NS RRset of its authority section; a referral keeps both), as the one
finally taken is.

Names at or below a ``caps-exempt`` (``caps-whitelist``) domain are sent without 0x20
("domains that do not support 0x20 and also fail with fallback because they keep sending
different answers, like some load balancers", unbound.conf(5)).
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode

CAPS_AGREEING = 3
"""Answers per server address that must agree before a fallback answer is taken."""
MAX_FALLBACK_SENDS = 15
"""Sends of one fallback at most (Unbound stops at half its max-sent-count of 32)."""


def exempt(name: dns.name.Name, domains: Iterable[dns.name.Name]) -> bool:
    """Whether ``name`` is at or below one of the caps-exempt ``domains``."""
    return any(name.is_subdomain(d) for d in domains)


def failed(response: dns.message.Message) -> bool:
    """Unbound's caps_failed_rcode: neither NOERROR nor NXDOMAIN."""
    return response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)


def strip(response: dns.message.Message) -> dns.message.Message:
    """Unbound's caps_strip_reply, in place: an authoritative answer (AA) without its
    additional section and without the first NS RRset of its authority section."""
    if response.flags & dns.flags.AA:
        response.additional = []
        ns = next((r for r in response.authority if r.rdtype == dns.rdatatype.NS), None)
        if ns is not None:
            response.authority = [r for r in response.authority if r is not ns]
    return response


def _section(rrsets: list[dns.rrset.RRset]) -> frozenset[tuple[object, ...]]:
    return frozenset((r.name.canonicalize(), r.rdclass, r.rdtype, r.covers,
                      frozenset(rd.to_digestable() for rd in r)) for r in rrsets)


def same_reply(a: dns.message.Message, b: dns.message.Message) -> bool:
    """Unbound's reply_equal on two stripped answers: the same flags, rcode and RRsets
    (TTLs and order aside: a forwarder counts its TTLs down between two answers)."""
    return (a.flags == b.flags and a.rcode() == b.rcode()
            and all(_section(x) == _section(y) for x, y in (
                (a.answer, b.answer), (a.authority, b.authority),
                (a.additional, b.additional))))
