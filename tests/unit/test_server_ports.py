"""Upstream servers on a port other than 53 (``ip@port``, unbound.conf(5) stub-addr /
forward-addr: "append '@' with the port number"): over the MockTransport seam, over a real
UDP socket on 127.0.0.1, and in the testbound translation; and a root stub zone whose
servers stay the root's after priming (Unbound's noprime stub, iter_hints.c)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from deckard.scenario import parse
from deckard.text import ScenarioError
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport, NetworkTransport
from resolver.model import Request, normal_server, server_endpoint
from resolver.recursor import Recursor, RecursorConfig
from tests.unit.test_priming import HINT, PRIMED, World
from tests.unit.test_recursor import N, T, reply
from tests.unit.test_testbound import scenario_text


def test_server_endpoints() -> None:
    assert server_endpoint("192.0.2.1") == ("192.0.2.1", 53)
    assert server_endpoint("192.0.2.1", 5353) == ("192.0.2.1", 5353)
    assert server_endpoint("192.0.2.1@10053") == ("192.0.2.1", 10053)
    assert server_endpoint("2001:db8::1@853") == ("2001:db8::1", 853)
    for bad in ("192.0.2.1@", "192.0.2.1@0", "192.0.2.1@65536", "192.0.2.1@x"):
        with pytest.raises(ValueError, match="the port after '@'"):
            server_endpoint(bad)
    assert normal_server("2001:DB8:0::1@53") == "2001:db8::1"
    assert normal_server("2001:DB8:0::1@5353") == "2001:db8::1@5353"


async def test_a_forwarder_with_a_port_is_asked_there() -> None:
    forwarder = "192.0.2.1@5300"

    def handler(address: str, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        assert address == forwarder
        return reply(query, aa=False, answer=(f"{query.question[0].name} 60 A 198.51.100.1",))

    transport = MockTransport(handler)
    clock = ManualClock()
    cache = DnsCache(4 * 1024 * 1024)
    recursor = Recursor(cache, (("a.root.", HINT),), clock,
                        RecursorConfig(qname_minimisation=False, forwarders=(forwarder,)))
    res = await recursor.resolve(Request(N("www.ex."), T.A),
                                 Conductor(transport, cache.infra, clock, random.Random(1)))
    assert res.rcode == dns.rcode.NOERROR and [s.address for s in transport.sent] == [forwarder]


@pytest.mark.parametrize("root_stub, then", [(False, PRIMED), (True, HINT + "@10053")])
async def test_a_root_stub_zone_keeps_its_servers_after_priming(root_stub: bool,
                                                                then: str) -> None:
    hint = HINT + "@10053"
    world = World()
    transport = MockTransport(lambda addr, q, tcp: world(q, addr.partition("@")[0]))
    clock = ManualClock()
    cache = DnsCache(4 * 1024 * 1024)
    recursor = Recursor(cache, (("a.root.", hint),), clock,
                        RecursorConfig(qname_minimisation=False, prime=True,
                                       root_stub=root_stub))
    conductor = Conductor(transport, cache.infra, clock, random.Random(1))
    res = await recursor.resolve(Request(N("www.ex."), T.A), conductor)
    assert res.rcode == dns.rcode.NOERROR
    assert [s.address for s in transport.sent][:2] == [hint, then]


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        answer = reply(query, answer=(f"{query.question[0].name} 60 A 198.51.100.9",))
        self.transport.sendto(answer.to_wire(), addr)  # type: ignore[attr-defined]


async def test_the_network_transport_sends_to_the_port() -> None:
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
    try:
        port = server.get_extra_info("sockname")[1]
        query = dns.message.make_query("www.ex.", "A")
        answer = await NetworkTransport(port=9).query(f"127.0.0.1@{port}", query, tcp=False,
                                                      timeout=2.0)
        assert answer.answer[0][0].address == "198.51.100.9"
    finally:
        server.close()


def test_testbound_addresses_with_a_port_are_translated() -> None:
    text = scenario_text().replace("193.0.14.129 \t#", "193.0.14.129@10053 #")
    c = parse(Path("x.rpl"), text).config
    assert (c.stub_addr, c.unsupported) == ("193.0.14.129@10053", ())
    text = scenario_text().replace("193.0.14.129 \t#", "193.0.14.129@53 #")
    assert parse(Path("x.rpl"), text).config.stub_addr == "193.0.14.129"
    with pytest.raises(ScenarioError, match=r"x.rpl:9: stub-addr: '193.0.14.129@0' is not"):
        parse(Path("x.rpl"), scenario_text().replace("193.0.14.129 \t#", "193.0.14.129@0 #"))
