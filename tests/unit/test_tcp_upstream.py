"""Every upstream query over TCP (Unbound's tcp-upstream, unbound.conf(5): "whether the
upstream queries use TCP only for transport"), over the MockTransport seam: the conductor,
the operator's ``resolver serve --tcp-upstream`` and the testbound translation."""

from __future__ import annotations

from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import pytest

from deckard.scenario import parse
from resolver.app import build
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig
from resolver.model import Request
from tests.unit.test_recursor import ROOT, T, make, reply, resolve, small_world
from tests.unit.test_testbound import scenario_text


@pytest.mark.parametrize("tcp_upstream", [False, True])
async def test_every_query_goes_over_the_configured_transport(tcp_upstream: bool) -> None:
    recursor, conductor, transport, _ = make(small_world, qmin=False)
    conductor.tcp_upstream = tcp_upstream
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert len(transport.sent) >= 3
    assert {s.tcp for s in transport.sent} == {tcp_upstream}


async def test_a_truncated_answer_over_tcp_is_no_answer() -> None:
    def truncating(query: dns.message.Message, address: str) -> dns.message.Message:
        r = reply(query, answer=(f"{query.question[0].name} 60 A 192.0.2.1",))
        r.flags |= dns.flags.TC
        return r

    recursor, conductor, transport, _ = make(truncating, qmin=False)
    conductor.tcp_upstream = True
    res = await resolve(recursor, conductor, "www.ex.")
    assert res.rcode == dns.rcode.SERVFAIL and res.answer == []
    assert all(s.tcp for s in transport.sent)


@pytest.mark.parametrize("tcp_upstream", [False, True])
async def test_the_operator_setting(tcp_upstream: bool) -> None:
    transport = MockTransport(lambda addr, q, tcp: small_world(q, addr))
    c = ResolverConfig(root_hints=(("a.root.", ROOT),), validation=False, priming=False,
                       do_ip6=False, tcp_upstream=tcp_upstream)
    answerer = build(c, ManualClock(), transport)
    qname = dns.name.from_text("www.zone.ex.")
    await answerer.answer(Request(qname, T.A), dns.message.make_query(qname, "A"))
    assert transport.sent and {s.tcp for s in transport.sent} == {tcp_upstream}


@pytest.mark.parametrize("line, tcp", [("", False), ("\ttcp-upstream: yes", True),
                                       ("\ttcp-upstream: no", False), ("\tdo-udp: no", True),
                                       ("\tdo-udp: yes", False)])
def test_the_testbound_translation(line: str, tcp: bool) -> None:
    c = parse(Path("x.rpl"), scenario_text(line)).config
    assert (c.tcp_upstream, c.unsupported) == (tcp, ())
