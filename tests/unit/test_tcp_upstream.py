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


# -- one zone's servers over TCP (stub-tcp-upstream / forward-tcp-upstream) ----------------

ZONE_SERVER = "192.0.2.1"


def zone_world(query: dns.message.Message, address: str) -> dns.message.Message:
    name = query.question[0].name
    if address == ROOT:  # the root refers zone.ex. to a server below the stub zone
        if name.is_subdomain(dns.name.from_text("zone.ex.")):
            return reply(query, aa=False, authority=("zone.ex. 3600 NS ns.zone.ex.",),
                         additional=("ns.zone.ex. 3600 A 192.0.2.9",))
        return reply(query, answer=(f"{name} 60 A 198.51.100.1",))
    if address == ZONE_SERVER:
        return reply(query, aa=False, authority=("zone.ex. 3600 NS ns.zone.ex.",),
                     additional=("ns.zone.ex. 3600 A 192.0.2.9",))
    return reply(query, answer=(f"{name} 60 A 198.51.100.9",))


@pytest.mark.parametrize("zone_tcp, root_tcp", [(True, False), (False, True), (False, False)])
async def test_a_configured_zone_over_tcp(zone_tcp: bool, root_tcp: bool) -> None:
    import dataclasses

    from resolver.recursor import ConfiguredZone

    recursor, conductor, transport, _ = make(zone_world, qmin=False)
    recursor.config = dataclasses.replace(
        recursor.config, root_tcp=root_tcp,
        zones=(ConfiguredZone(dns.name.from_text("ex."), False, (ZONE_SERVER,),
                              tcp=zone_tcp),))
    await resolve(recursor, conductor, "www.zone.ex.")  # ex. (stub) refers to zone.ex.
    await resolve(recursor, conductor, "a.root.")  # (the root's own name: not in ex.)
    by_server = {(s.address, s.tcp) for s in transport.sent}
    assert (ZONE_SERVER, zone_tcp) in by_server and ("192.0.2.9", False) in by_server
    assert {tcp for a, tcp in by_server if a == ROOT} == {root_tcp}


@pytest.mark.parametrize("text, zone_tcp, root_tcp", [
    ('stub-zone:\n\tname: "ex."\n\tstub-addr: 192.0.2.1\n\tstub-tcp-upstream: yes\n', True,
     False),
    ('forward-zone:\n\tname: "ex."\n\tforward-addr: 192.0.2.1\n\tforward-tcp-upstream: yes\n',
     True, False),
    ('stub-zone:\n\tname: "ex."\n\tstub-addr: 192.0.2.1\n\tstub-tcp-upstream: no\n', False,
     False),
])
def test_zone_tcp_is_translated(text: str, zone_tcp: bool, root_tcp: bool) -> None:
    c = parse(Path("x.rpl"), scenario_text().replace("CONFIG_END", text + "CONFIG_END", 1))
    assert c.config.unsupported == ()
    assert [z.tcp for z in c.config.zones] == [zone_tcp]
    assert c.config.root_tcp is root_tcp
    root = parse(Path("x.rpl"), scenario_text().replace(
        "K.ROOT-SERVERS.NET.\n", "K.ROOT-SERVERS.NET.\n\tstub-tcp-upstream: yes\n", 1))
    assert root.config.root_tcp is True and root.config.unsupported == ()
