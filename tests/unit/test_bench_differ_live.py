"""The live differ benchmark's parts that need no lab: the query plan (faults armed per
question as asked) and the fault-injecting proxy, on loopback sockets in front of a small
authoritative backend (the lab's own answering code for one zone, on an ephemeral port)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from collections.abc import AsyncIterator
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest_asyncio

from lab.authserver import LabServer
from lab.manifest import manifest
from lab.world import load_world
from lab.zones import build_zones
from shadowdns.bench.differ_live import FaultPlan, FaultProxy, query_plan
from shadowdns.bench.faults import FaultKind


def test_query_plan_marks_faulted_lines_by_case_and_only_those() -> None:
    entries = manifest(load_world())
    lines, plan = query_plan(entries, rounds=3, noise_weight=2, fault_rate=0.4,
                             faults=tuple(FaultKind), rng=random.Random(1))
    noise = sum(e.category == "noise" for e in entries)
    assert len(lines) == 3 * (len(entries) + noise)
    faulted = [line for line in lines if line.split()[0] != line.split()[0].lower()]
    assert len(faulted) == len(plan.faults)  # one case pattern per faulted line, none shared
    assert 0.25 < len(faulted) / len(lines) < 0.55
    for line in faulted:
        name, rdtype = line.split()
        assert (name, int(dns.rdatatype.from_text(rdtype))) in plan.faults
    geo = [k for k, v in plan.faults.items()
           if k[0].lower() == "geo.noise.lab." and v is FaultKind.CHANGE_ADDRESS]
    assert geo == []  # indistinguishable from geo noise by construction: never planned


class _Backend(asyncio.DatagramProtocol):
    """One lab server answering UDP and TCP on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, lab: LabServer, sid: str) -> None:
        self.lab, self.server = lab, lab.world.servers[sid]
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        reply = self.lab.answer(self.server, data, addr[0], tcp=False)
        if reply is not None:
            self.transport.sendto(reply, addr)

    async def tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                wire = await reader.readexactly(length)
                reply = self.lab.answer(self.server, wire, "127.0.0.1", tcp=True)
                assert reply is not None
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        writer.close()


@pytest_asyncio.fixture()
async def proxy() -> AsyncIterator[FaultProxy]:
    world = load_world()
    lab = LabServer(world, build_zones(world), seed=1)
    loop = asyncio.get_running_loop()
    transport, backend = await loop.create_datagram_endpoint(
        lambda: _Backend(lab, "example-1"), local_addr=("127.0.0.1", 0))
    tcp = await asyncio.start_server(backend.tcp, *transport.get_extra_info("sockname")[:2])
    plan = FaultPlan(faults={("WWW.example.lab.", 1): FaultKind.RCODE,
                             ("Mail.example.lab.", 1): FaultKind.STRIP_RRSIG})
    p = FaultProxy(("127.0.0.1", 0), transport.get_extra_info("sockname")[:2], plan,
                   timeout=2.0)
    await p.start()
    try:
        yield p
    finally:
        await p.close()
        transport.close()
        tcp.close()


async def ask(p: FaultProxy, name: str, *, tcp: bool = False,
              rdtype: str = "A") -> dns.message.Message:
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    q.flags &= ~dns.flags.RD  # the backend is an authority
    if tcp:
        return await dns.asyncquery.tcp(q, p.listen[0], port=p.listen[1], timeout=3)
    return await dns.asyncquery.udp(q, p.listen[0], port=p.listen[1], timeout=3)


async def test_proxy_bends_the_planned_questions_exactly(proxy: FaultProxy) -> None:
    clean = await ask(proxy, "www.example.lab.")
    assert clean.rcode() == dns.rcode.NOERROR and clean.answer
    bent = await ask(proxy, "WWW.example.lab.")
    assert bent.rcode() == dns.rcode.NXDOMAIN  # the rcode fault, for this spelling only
    again = await ask(proxy, "WWW.example.lab.", tcp=True)  # re-queries are bent alike
    assert again.rcode() == dns.rcode.NXDOMAIN
    stripped = await ask(proxy, "Mail.example.lab.")
    assert stripped.answer and not any(r.rdtype == dns.rdatatype.RRSIG for r in stripped.answer)
    assert await ask(proxy, "mAIL.example.lab.") != stripped
    first = proxy.plan.applied[("WWW.example.lab.", 1)]
    assert first is not None and first.expected == "rcode"
    assert proxy.plan.bent == 3
    assert proxy.stats["unanswered"] == 0


async def test_proxy_truncates_what_the_client_cannot_take_over_udp(proxy: FaultProxy) -> None:
    udp = await ask(proxy, "big.example.lab.", rdtype="TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = await ask(proxy, "big.example.lab.", rdtype="TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC and tcp.answer
    assert proxy.stats["truncated"] == 1


async def test_proxy_stays_up_after_garbage(proxy: FaultProxy) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=proxy.listen)
    transport.sendto(b"\x00\x01garbage")
    transport.close()
    await asyncio.sleep(0.1)
    assert (await ask(proxy, "www.example.lab.")).answer
    assert proxy.stats["unanswered"] == 1
