"""Categories, their priority, and what each side made of DNSSEC.

Every difference has a category ``"<group>.<what>"`` (or a bare group).  A query counts once,
under its most important category: groups rank as the issue orders them,

    format > rcode > question > dnssec > answer > cname > flags > authority > additional > edns

(``format``, an unparseable response, and ``question``, a question not echoed exactly, are
added at the top: a client drops such a response before it reads anything else), and within
a group as :data:`PRIORITY` lists them.

DNSSEC outcome of one response (:func:`dnssec_outcome`):

=================  ===========================================================================
``secure``         NOERROR or NXDOMAIN with AD=1
``insecure``       NOERROR or NXDOMAIN with AD=0, to a query that asked for DNSSEC (DO or AD)
``bogus``          SERVFAIL carrying a DNSSEC Extended DNS Error, or SERVFAIL whose CD=1
                   re-query answered (validation was what failed)
``indeterminate``  anything else: SERVFAIL for other reasons, REFUSED, or no AD to go by
=================  ===========================================================================

Two outcomes that differ give ``dnssec.secure_insecure``, ``dnssec.bogus_secure`` or
``dnssec.bogus_insecure``; an EDE missing or added, or other codes with another rcode or
outcome, gives ``dnssec.ede`` (EDE 22 where the reference says EDE 6 is a divergence); only
the code differing, with the same rcode and the same outcome on both sides, gives the
lower-severity ``dnssec.ede_code`` (implementations pick different codes for one failure:
Unbound EDE 9 where kresd says 6).  When a DNSSEC outcome difference explains a
different rcode (bogus SERVFAIL against an answer) the query counts under the DNSSEC
category, not under ``rcode``: the rcode is a symptom, the validation result the cause.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import dns.flags
import dns.rcode

from harness.differ.answers import Parsed

__all__ = ["DNSSEC_EDE", "GROUPS", "PRIORITY", "Outcome", "dnssec_category", "dnssec_outcome",
           "primary", "rank"]

GROUPS = ("format", "rcode", "question", "dnssec", "answer", "cname", "flags", "authority",
          "additional", "edns")


def _section(name: str) -> tuple[str, ...]:
    return tuple(f"{name}.{what}" for what in
                 ("data", "rrsig", "ttl", "signature", "order", "case"))


PRIORITY: tuple[str, ...] = (
    "format",
    "rcode",
    "question",
    "dnssec.bogus_secure",
    "dnssec.bogus_insecure",
    "dnssec.secure_insecure",
    "dnssec.ede",
    "dnssec.ede_code",
    *_section("answer"),
    "cname.chain",
    "cname.order",
    "flags.ad",
    "flags.aa",
    "flags.tc",
    "flags.rd",
    "flags.ra",
    "flags.cd",
    *_section("authority"),
    *_section("additional"),
    "edns.presence",
    "edns.version",
    "edns.do",
    "edns.payload",
)
"""Every category the comparison emits, most important first."""

_RANK = {c: i for i, c in enumerate(PRIORITY)}
_GROUP_RANK = {g: i for i, g in enumerate(GROUPS)}


def rank(category: str) -> tuple[int, int]:
    """Sort key: lower is more important.  Unknown categories sort within their group, last."""
    group = category.split(".", 1)[0]
    return (_GROUP_RANK.get(group, len(GROUPS)), _RANK.get(category, len(PRIORITY)))


def primary(categories: Iterable[str]) -> str:
    """The most important of ``categories`` ('' when there are none)."""
    best = ""
    best_rank = (len(GROUPS) + 1, 0)
    for c in categories:
        r = rank(c)
        if r < best_rank:
            best, best_rank = c, r
    return best


class Outcome(enum.Enum):
    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    INDETERMINATE = "indeterminate"


DNSSEC_EDE = frozenset({1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 25, 27})
"""EDE codes that say validation failed (RFC 8914 and its registry): unsupported algorithm
or digest, indeterminate, bogus, expired, not yet valid, DNSKEY missing, RRSIGs missing, no
zone key bit, NSEC missing, expired before valid, unsupported NSEC3 iterations."""

_ANSWERED = frozenset({int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN)})
_SERVFAIL = int(dns.rcode.SERVFAIL)
_AD = int(dns.flags.AD)


def dnssec_outcome(p: Parsed, *, asked_dnssec: bool, cd_rcode: int | None = None) -> Outcome:
    """What ``p`` says about the DNSSEC state of the name (see the module docstring).

    ``cd_rcode`` is the rcode of the same side's answer to the query re-sent with CD=1,
    where the differ asked it (only for SERVFAILs without a DNSSEC EDE).
    """
    if p.rcode == _SERVFAIL:
        if any(code in DNSSEC_EDE for code in p.ede):
            return Outcome.BOGUS
        if cd_rcode is not None and cd_rcode in _ANSWERED:
            return Outcome.BOGUS
        return Outcome.INDETERMINATE
    if p.rcode in _ANSWERED:
        if p.flags & _AD:
            return Outcome.SECURE
        return Outcome.INSECURE if asked_dnssec else Outcome.INDETERMINATE
    return Outcome.INDETERMINATE


_PAIRS = {
    frozenset({Outcome.SECURE, Outcome.INSECURE}): "dnssec.secure_insecure",
    frozenset({Outcome.BOGUS, Outcome.SECURE}): "dnssec.bogus_secure",
    frozenset({Outcome.BOGUS, Outcome.INSECURE}): "dnssec.bogus_insecure",
}


def dnssec_category(candidate: Outcome, reference: Outcome) -> str | None:
    """The category of two differing outcomes, or ``None`` (equal, or one indeterminate)."""
    if candidate is reference:
        return None
    return _PAIRS.get(frozenset({candidate, reference}))
