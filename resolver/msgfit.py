"""A reply cut to a size limit the way a name server cuts it (RFC 2181 §9, RFC 4035 §3.1.1).

:func:`fit` renders a message in at most ``limit`` octets.  A message that fits is rendered
whole.  One that does not keeps, section by section, the RRsets that fit, each together with
the RRSIG records that cover it (an RRset is never sent without its signatures in the answer
and authority sections, nor a signature without its RRset); at the first one that does not
fit the message ends there:

- in the answer or authority section the reply gets TC ("ask again over TCP"), as data the
  question needs is missing;
- in the additional section it does not: additional data is optional (RFC 2181 §9, "the TC
  bit should not be set merely because some extra information could have been included").

This is what Unbound's msgencode.c does (whole RRsets with their signatures, TC unless the
cut falls in the additional section).  The question and the OPT record always stay.
"""

from __future__ import annotations

import copy

import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

_RRSIG = dns.rdatatype.RRSIG


def _groups(section: list[dns.rrset.RRset]) -> list[list[dns.rrset.RRset]]:
    """The section's RRsets in order, each with the RRSIG RRsets that cover it."""
    groups: list[list[dns.rrset.RRset]] = []
    owner: dict[tuple[dns.name.Name, int], list[dns.rrset.RRset]] = {}
    for rrset in section:
        if rrset.rdtype != _RRSIG:
            group = [rrset]
            groups.append(group)
            owner.setdefault((rrset.name, rrset.rdtype), group)
    for rrset in section:
        if rrset.rdtype == _RRSIG:
            covered = owner.get((rrset.name, rrset.covers))
            if covered is None:
                groups.append([rrset])  # a signature whose RRset is not here
            else:
                covered.append(rrset)
    return groups


def fit(message: dns.message.Message, limit: int) -> bytes:
    """``message`` rendered in at most ``limit`` octets, cut as the module says."""
    try:
        return message.to_wire(max_size=limit, want_shuffle=False)
    except dns.exception.TooBig:
        pass
    out = copy.copy(message)
    out.sections = [list(message.question), [], [], []]
    wire = out.to_wire(max_size=limit, want_shuffle=False)  # the question alone fits
    for number in (1, 2, 3):
        kept = out.sections[number]
        for group in _groups(message.sections[number]):
            kept.extend(group)
            try:
                wire = out.to_wire(max_size=limit, want_shuffle=False)
            except dns.exception.TooBig:
                del kept[-len(group):]
                if number < 3:
                    out.flags |= dns.flags.TC
                    wire = out.to_wire(max_size=limit, want_shuffle=False)
                return wire
    return wire
