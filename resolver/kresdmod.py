"""Knot Resolver's answer-shaping modules: ``policy`` (the query stage), ``dns64`` and
``renumber`` (the answer stage), as its documentation describes them.

- policy (https://knot-resolver.readthedocs.io, modules/policy/README.rst): *rules* of a
  *filter* and an *action*, evaluated in the order added; the first rule whose filter
  matches decides.  Filters: ``all`` (always), ``suffix`` (the QNAME is at or below one of
  the names), ``pattern`` (the QNAME in wire format matches a Lua pattern).  Actions:
  ``PASS`` ("let the query pass through; useful to make exceptions before wider rules":
  no later rule is looked at), ``DENY`` (NXDOMAIN; kresd's ``DENY_MSG`` answers it with AA
  and a SOA of the QNAME in the authority section, ``localhost. nobody.invalid.``),
  ``DROP`` ("terminate query resolution and return SERVFAIL to the requestor"), ``REFUSE``
  (REFUSED), ``NO_ANSWER`` (no reply at all), ``TC`` ("set TC=1 if the request came through
  UDP, forcing client to retry with TCP": an empty answer).  ``FORWARD``/``STUB`` send the
  names to other servers: the configuration turns them into forward zones.
- dns64 (modules/dns64, RFC 6147 §5.1): an AAAA question answered NOERROR without AAAA
  records (AAAA inside ::ffff:0:0/96 do not count, §5.1.4) gets AAAA records synthesised
  from the name's A records: the prefix's first 96 bits and the IPv4 address (RFC 6052
  §2.2 /96), the TTL the smaller of the A records' and the negative answer's SOA minimum
  (§5.1.7); CNAMEs before them are kept; AD is cleared (§5.5).
  A query with CD and DO set is not synthesised (§5.5 point 3).
- hints (modules/hints, ``hints.set``): a hinted name's A/AAAA question is answered from the
  hints (TTL 5 s, AA clear: the answer is not authoritative data); the other address type
  gets NODATA (``hints.use_nodata``, on by default); the address's reverse name answers
  PTR with the hinted name (``hints.set`` sets the reverse mapping too); other types are
  resolved.
- renumber (modules/renumber): A/AAAA records of the answer inside a source prefix get
  the destination prefix's network bits, keeping their host bits.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.localzone import NoReply

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ACTIONS = ("PASS", "DENY", "DROP", "REFUSE", "NO_ANSWER", "TC")
DENY_SOA_TTL = 10800
DENY_SOA = "localhost. nobody.invalid. 1 3600 1200 604800 10800"  # kresd's mkauth_soa
MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@dataclass(frozen=True)
class PolicyRule:
    """One rule: ``kind`` all/suffix/pattern, its names or compiled pattern, the action."""

    kind: str
    action: str
    names: tuple[dns.name.Name, ...] = ()
    pattern: re.Pattern[bytes] | None = None

    def matches(self, qname: dns.name.Name) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "suffix":
            return any(qname.is_subdomain(n) for n in self.names)
        assert self.pattern is not None
        return self.pattern.search(qname.to_wire() or b"") is not None


@dataclass(frozen=True)
class KresdModules:
    rules: tuple[PolicyRule, ...] = ()
    dns64_prefix: ipaddress.IPv6Network | None = None
    renumber: tuple[tuple[Network, Network], ...] = ()
    hints: tuple[dns.rrset.RRset, ...] = ()

    def action(self, qname: dns.name.Name) -> str | None:
        """The action of the first rule that matches ``qname`` (None: resolve normally)."""
        low = qname.canonicalize()
        for rule in self.rules:
            if rule.matches(low):
                return None if rule.action == "PASS" else rule.action
        return None

    def policy_reply(self, query: dns.message.Message) -> dns.message.Message | None:
        """The policy stage's reply to ``query``; None to resolve it.  Raises
        :class:`NoReply` for NO_ANSWER."""
        if not query.question:
            return None
        q = query.question[0]
        action = self.action(q.name)
        if action is None:
            return self.hint_reply(query)
        if action == "NO_ANSWER":
            raise NoReply
        reply = dns.message.make_response(query, recursion_available=True)
        reply.flags &= ~dns.flags.AD
        if action == "DENY":
            reply.flags |= dns.flags.AA
            reply.set_rcode(dns.rcode.NXDOMAIN)
            soa = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SOA, DENY_SOA)
            reply.authority.append(dns.rrset.from_rdata(q.name, DENY_SOA_TTL, soa))
        elif action == "DROP":
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif action == "REFUSE":
            reply.set_rcode(dns.rcode.REFUSED)
        elif action == "TC":
            reply.flags |= dns.flags.TC
        return reply

    def hint_reply(self, query: dns.message.Message) -> dns.message.Message | None:
        q = query.question[0]
        if q.rdtype not in (dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.PTR):
            return None
        named = [rr for rr in self.hints if rr.name == q.name]
        if q.rdtype == dns.rdatatype.PTR and not any(rr.rdtype == q.rdtype for rr in named):
            return None
        if not named:
            return None
        reply = dns.message.make_response(query, recursion_available=True)
        reply.answer = [rr for rr in named if rr.rdtype == q.rdtype]
        return reply

    def wants_dns64(self, qtype: int, answer: dns.message.Message,
                    query: dns.message.Message | None = None) -> bool:
        if self.dns64_prefix is None or qtype != dns.rdatatype.AAAA:
            return False
        if query is not None and query.flags & dns.flags.CD and query.ednsflags & dns.flags.DO:
            return False
        if answer.rcode() != dns.rcode.NOERROR:
            return False
        return not any(rr.rdtype == dns.rdatatype.AAAA and any(
            ipaddress.IPv6Address(r.address) not in MAPPED for r in rr) for rr in answer.answer)

    def synthesise(self, aaaa: dns.message.Message, a: dns.message.Message) -> dns.message.Message:
        """RFC 6147 §5.1: ``aaaa`` (the NODATA answer) with AAAA records made from ``a``'s."""
        assert self.dns64_prefix is not None
        records = [rr for rr in a.answer if rr.rdtype == dns.rdatatype.A]
        if a.rcode() != dns.rcode.NOERROR or not records:
            return aaaa
        soa_min = min((rr[0].minimum for rr in aaaa.authority
                       if rr.rdtype == dns.rdatatype.SOA), default=None)
        head = self.dns64_prefix.network_address.packed[:12]
        out = dns.message.Message(id=aaaa.id)
        out.flags = aaaa.flags & ~dns.flags.AD
        out.question = list(aaaa.question)
        out.answer = [rr for rr in a.answer if rr.rdtype == dns.rdatatype.CNAME]
        for rr in records:
            ttl = rr.ttl if soa_min is None else min(rr.ttl, soa_min)
            synth = dns.rrset.RRset(rr.name, dns.rdataclass.IN, dns.rdatatype.AAAA)
            for r in rr:
                addr = ipaddress.IPv6Address(head + ipaddress.IPv4Address(r.address).packed)
                synth.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.AAAA,
                                              addr.compressed), ttl)
            out.answer.append(synth)
        return out

    def renumbered(self, answer: dns.message.Message) -> dns.message.Message:
        """``answer`` with its A/AAAA records moved from source to destination prefixes."""
        if not self.renumber:
            return answer
        answer.answer = [self._renumber(rr) for rr in answer.answer]
        return answer

    def _renumber(self, rrset: dns.rrset.RRset) -> dns.rrset.RRset:
        if rrset.rdtype not in (dns.rdatatype.A, dns.rdatatype.AAAA):
            return rrset
        out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
        for r in rrset:
            addr = ipaddress.ip_address(r.address)
            for src, dst in self.renumber:
                if addr.version == src.version and addr in src:
                    host = int(addr) & int(src.hostmask)
                    addr = ipaddress.ip_address(int(dst.network_address) | host)
                    break
            out.add(dns.rdata.from_text(rrset.rdclass, rrset.rdtype, addr.compressed),
                    rrset.ttl)
        return out
