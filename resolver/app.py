"""The resolver assembled: cache + recursor (+ validator) + conductor behind the Answerer seam.

:class:`ResolverAnswerer` turns a recursor :class:`~resolver.recursor.core.Resolution`
into the client's reply (RA set, signatures and denial proofs only for DO clients).  When the
resolution was validated (:class:`~resolver.validator.ValidatedResolution`), a secure answer
gets AD if the client set DO or AD (RFC 6840 §5.7/5.8), and the Extended DNS Errors that
explain a bogus or insecure verdict go into the OPT record (RFC 8914) of EDNS clients.
:func:`build` wraps the recursor in a :class:`~resolver.validator.ValidatingRecursor` when
trust anchors are configured.
"""

from __future__ import annotations

from typing import Protocol

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from resolver.cache.dnscache import DnsCache, Security
from resolver.clock import Clock, SystemClock
from resolver.conductor import Conductor, NetworkTransport
from resolver.config import ConfigError, ResolverConfig
from resolver.model import Request
from resolver.recursor.core import Recursor, RecursorConfig, Resolution
from resolver.recursor.exchanger import Exchanger
from resolver.trust import TrustAnchorError, TrustAnchors
from resolver.validator import ValidatedResolution, ValidatingRecursor

DNSSEC_TYPES = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
MAX_EDE_TEXT = 200  # characters of EXTRA-TEXT per EDE option


class Resolves(Protocol):
    """A recursor, validating or not."""

    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution: ...


class ResolverAnswerer:
    def __init__(
        self, recursor: Resolves, exchanger: Exchanger, *, minimal_responses: bool = True
    ) -> None:
        self.recursor = recursor
        self.exchanger = exchanger
        # False: a positive answer also carries the NS RRset and addresses its server sent
        # beside it (Unbound's minimal-responses: no); True: only what the answer needs.
        self.minimal_responses = minimal_responses

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        res = await self.recursor.resolve(request, self.exchanger)
        reply = dns.message.make_response(query, recursion_available=True, our_payload=1232)
        reply.set_rcode(dns.rcode.Rcode(res.rcode))
        keep_dnssec = request.do
        sections = [(reply.answer, res.answer), (reply.authority, res.authority)]
        if not self.minimal_responses and res.rcode == dns.rcode.NOERROR and res.answer \
                and not any(r.rdtype == dns.rdatatype.SOA for r in res.authority):
            sections += [(reply.authority, res.extra_authority),
                         (reply.additional, res.extra_additional)]
        for section, rrsets in sections:
            for rrset in rrsets:
                if (
                    rrset.rdtype in DNSSEC_TYPES
                    and not keep_dnssec
                    and rrset.rdtype != request.qtype
                ):
                    continue
                if rrset not in section:
                    section.append(rrset)
        if isinstance(res, ValidatedResolution):
            asked_ad = bool(query.flags & dns.flags.AD)
            if res.security is Security.SECURE and (request.do or asked_ad):
                reply.flags |= dns.flags.AD
            if res.ede and reply.edns >= 0:
                options = list(reply.options) + [
                    dns.edns.EDEOption(dns.edns.EDECode.make(code), text[:MAX_EDE_TEXT] or None)
                    for code, text in res.ede
                ]
                reply.use_edns(0, reply.ednsflags, reply.payload, options=options)
        return reply


def trust_anchors(config: ResolverConfig) -> TrustAnchors:
    """The configured trust anchors (file and inline records) and negative anchors."""
    try:
        anchors = TrustAnchors.from_records(config.trust_anchors, config.negative_trust_anchors)
        if config.trust_anchor_file is not None:
            anchors = anchors.merged(TrustAnchors.from_file(config.trust_anchor_file))
    except TrustAnchorError as e:
        raise ConfigError(str(e)) from e
    return anchors


def build(config: ResolverConfig, clock: Clock | None = None) -> ResolverAnswerer:
    clock = clock or SystemClock()
    cache = DnsCache(config.cache_bytes)
    transport = NetworkTransport(port=config.upstream_port, source=config.egress)
    conductor = Conductor(transport, cache.infra, clock)
    recursor = Recursor(
        cache,
        config.root_hints,
        clock,
        RecursorConfig(qname_minimisation=config.qname_minimisation,
                       qmin_qtype=int(dns.rdatatype.from_text(config.qmin_qtype))),
    )
    anchors = trust_anchors(config)
    if anchors:
        return ResolverAnswerer(ValidatingRecursor(recursor, anchors), conductor)
    return ResolverAnswerer(recursor, conductor)
