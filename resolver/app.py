"""The resolver assembled: cache + recursor + conductor behind the workers' Answerer seam.

:class:`ResolverAnswerer` turns a recursor :class:`~resolver.recursor.core.Resolution`
into the client's reply (RA set, signatures and denial proofs only for DO clients).
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from resolver.cache.dnscache import DnsCache
from resolver.clock import Clock, SystemClock
from resolver.conductor import Conductor, NetworkTransport
from resolver.config import ResolverConfig
from resolver.model import Request
from resolver.recursor.core import Recursor, RecursorConfig
from resolver.recursor.exchanger import Exchanger

DNSSEC_TYPES = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}


class ResolverAnswerer:
    def __init__(self, recursor: Recursor, exchanger: Exchanger) -> None:
        self.recursor = recursor
        self.exchanger = exchanger

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        res = await self.recursor.resolve(request, self.exchanger)
        reply = dns.message.make_response(query, recursion_available=True, our_payload=1232)
        reply.set_rcode(dns.rcode.Rcode(res.rcode))
        keep_dnssec = request.do
        for section, rrsets in ((reply.answer, res.answer), (reply.authority, res.authority)):
            for rrset in rrsets:
                if (
                    rrset.rdtype in DNSSEC_TYPES
                    and not keep_dnssec
                    and rrset.rdtype != request.qtype
                ):
                    continue
                if rrset not in section:
                    section.append(rrset)
        return reply


def build(config: ResolverConfig, clock: Clock | None = None) -> ResolverAnswerer:
    clock = clock or SystemClock()
    cache = DnsCache(config.cache_bytes)
    transport = NetworkTransport(port=config.upstream_port, source=config.egress)
    conductor = Conductor(transport, cache.infra, clock)
    recursor = Recursor(
        cache,
        config.root_hints,
        clock,
        RecursorConfig(qname_minimisation=config.qname_minimisation),
    )
    return ResolverAnswerer(recursor, conductor)
