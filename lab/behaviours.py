"""How misbehaving lab servers bend an answer: the broken-server kinds real resolvers meet.

=================  =========================================================================
``normal``         answers as the zone data says
``refused``        lame: REFUSED to everything
``self_referral``  lame: a non-authoritative referral to the zone's own servers
``upward_referral`` lame: a non-authoritative referral to the root servers
``dead``           never answers (UDP datagrams and TCP queries are swallowed)
``slow``           answers correctly after a fixed delay (applied by the listener)
``truncating``     TC=1 with empty sections over UDP; the full answer over TCP
``edns_intolerant`` FORMERR without OPT to any query that carries OPT
=================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.message
import dns.rcode

from lab.world import ServerDef


@dataclass(frozen=True)
class Decision:
    drop: bool = False
    reply: dns.message.Message | None = None
    truncate: bool = False
    self_referral: bool = False
    upward_referral: bool = False


NORMAL = Decision()


def apply_behaviour(server: ServerDef, query: dns.message.Message, tcp: bool) -> Decision:
    kind = server.behaviour
    if kind == "dead":
        return Decision(drop=True)
    if kind == "refused":
        reply = dns.message.make_response(query)
        reply.set_rcode(dns.rcode.REFUSED)
        return Decision(reply=reply)
    if kind == "edns_intolerant" and query.edns >= 0:
        reply = dns.message.make_response(query)
        reply.use_edns(False)
        reply.set_rcode(dns.rcode.FORMERR)
        return Decision(reply=reply)
    if kind == "truncating" and not tcp:
        return Decision(truncate=True)
    if kind == "self_referral":
        return Decision(self_referral=True)
    if kind == "upward_referral":
        return Decision(upward_referral=True)
    return NORMAL
