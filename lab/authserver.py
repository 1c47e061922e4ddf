"""The lab's authoritative servers: one asyncio process, UDP and TCP on many loopback addresses.

Every server of the world gets a UDP socket and a TCP listener on its own 127.x.y.z address.
:meth:`LabServer.answer` is the pure part (bytes in, bytes out, given the server, the
querier's address and the transport); the listeners only move bytes and apply timing
behaviours (slow, dead).  A packet never crashes the server: what cannot be parsed is
answered with FORMERR when it has a header, and dropped otherwise, and counted either way.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import functools
import logging
import random
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from lab.behaviours import apply_behaviour
from lab.hostile import DRIP_INTERVAL, Bent, Hostility
from lab.world import POLICY, ServerDef, WorldDef
from lab.zones import AnswerContext, LabZone
from netpolicy import AddressError

log = logging.getLogger("shadowdns.lab")

OUR_UDP_PAYLOAD = 1232
TCP_IDLE_TIMEOUT = 30.0
REPLY_CACHE_ENTRIES = 200_000


class BindError(RuntimeError):
    """A lab address could not be bound; the message says which and why."""


class LabServer:
    """Answers for every server of a world; :meth:`start` binds them, :meth:`close` unbinds."""

    def __init__(self, world: WorldDef, zones: Mapping[dns.name.Name, LabZone],
                 seed: int | None = None, hostility: Hostility | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.clock = clock
        """Seconds since the epoch, now: what time-dependent answers (flapping data, a
        lagging secondary's view) are computed for.  The wall clock unless a virtual one is
        given (the differ's in-process benchmark)."""
        self.hostility = hostility
        """Hostile mode (:mod:`lab.hostile`): the listeners bend a share of the replies."""
        self.zones = zones
        self.rng = random.Random(seed)
        self.served: dict[str, list[LabZone]] = {sid: [] for sid in world.servers}
        for zone in zones.values():
            for sid in zone.spec.servers:
                self.served[sid].append(zone)
        for lst in self.served.values():
            lst.sort(key=lambda z: len(z.origin), reverse=True)
        self.stats: collections.Counter[str] = collections.Counter()
        self.by_source: collections.Counter[str] = collections.Counter()  # queries per querier
        self._replies: dict[tuple[str, bool, bytes], bytes] = {}
        self._transports: list[asyncio.BaseTransport] = []
        self._servers: list[asyncio.base_events.Server] = []

    # -- the pure part ----------------------------------------------------------------------

    def zone_for(self, server: ServerDef, qname: dns.name.Name, qtype: int) -> LabZone | None:
        for zone in self.served[server.id]:
            if not qname.is_subdomain(zone.origin):
                continue
            if qtype == dns.rdatatype.DS and qname == zone.origin and qname != dns.name.root:
                continue  # DS lives in the parent: prefer a parent this server also serves
            return zone
        for zone in self.served[server.id]:
            if qname.is_subdomain(zone.origin):
                return zone
        return None

    def answer(self, server: ServerDef, wire: bytes, source: str, tcp: bool) -> bytes | None:
        """The reply to one query packet, or None to stay silent.

        Answers that cannot vary (no noise in the zone, no randomness in the behaviour) are
        kept by the exact query bytes after the ID, so repeated questions (benchmarks)
        cost no parsing; the reply gets the new query's ID.
        """
        self.stats["queries"] += 1
        self.by_source[source] += 1
        key = (server.id, tcp, wire[2:])
        hit = self._replies.get(key)
        if hit is not None:
            self.stats["answered_from_bytes"] += 1
            return wire[:2] + hit[2:]
        reply, cacheable = self._respond(server, wire, source, tcp)
        if cacheable and reply is not None:
            if len(self._replies) >= REPLY_CACHE_ENTRIES:
                self._replies.clear()
            self._replies[key] = reply
        return reply

    def _respond(self, server: ServerDef, wire: bytes, source: str,
                 tcp: bool) -> tuple[bytes | None, bool]:
        """The reply, and whether it may be replayed for the same query bytes."""
        cacheable = False
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            self.stats["malformed"] += 1
            return _formerr(wire), cacheable
        if query.flags & dns.flags.QR:
            self.stats["dropped_responses"] += 1
            return None, cacheable
        decision = apply_behaviour(server, query, tcp)
        if decision.drop:
            return None, cacheable
        if decision.reply is not None:
            return decision.reply.to_wire(), cacheable
        response = dns.message.make_response(query, our_payload=OUR_UDP_PAYLOAD)
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response.to_wire(), cacheable
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire(), cacheable
        q = query.question[0]
        if q.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire(), cacheable
        zone = self.zone_for(server, q.name, q.rdtype)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire(), cacheable
        do = bool(query.ednsflags & dns.flags.DO)
        cacheable = not zone.varies  # noise varies per answer, querier, server and time
        # A lagging secondary answers time-dependent data as of that long ago.
        now = self.clock() - zone.spec.lagging.get(server.id, 0)
        ctx = AnswerContext(self.world.region_of(source), now, self.rng, source, server.id)
        result = zone.lookup(q.name, q.rdtype, do, ctx)
        if decision.self_referral:
            # Lame: a non-authoritative referral back to the zone's own servers.
            response.authority.append(zone.nodes[zone.origin][dns.rdatatype.NS])
        elif decision.upward_referral:
            # Lame: a non-authoritative referral up to the root.
            root = self.zones[dns.name.root]
            response.authority.append(root.nodes[dns.name.root][dns.rdatatype.NS])
        else:
            response.set_rcode(dns.rcode.Rcode(result.rcode))
            if result.aa:
                response.flags |= dns.flags.AA
            response.answer.extend(result.answer)
            response.authority.extend(result.authority)
            response.additional.extend(result.additional)
        if query.edns < 0:
            limit = 512
        else:
            limit = max(512, min(query.payload, OUR_UDP_PAYLOAD))
        if decision.truncate:
            return _truncated(response), cacheable
        try:
            return response.to_wire(max_size=65535 if tcp else limit), cacheable
        except dns.exception.TooBig:
            self.stats["truncated"] += 1
            return _truncated(response), cacheable

    def bend(self, reply: bytes | None, query: bytes, tcp: bool) -> Bent:
        """What the listener sends for ``reply``: itself, or in hostile mode maybe not."""
        if reply is None or self.hostility is None:
            return Bent(reply)
        bent = self.hostility.bend(reply, query, tcp)
        if bent.kind:
            self.stats[f"hostile_{bent.kind}"] += 1
        return bent

    # -- the listeners -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            for server in self.world.servers.values():
                if server.phantom:
                    continue  # a name with no address: nothing to bind
                addr = server.address
                try:  # the world checked; be sure
                    POLICY.address(f"servers.{server.id}", addr, role="bind")
                except AddressError as e:
                    raise BindError(f"refusing to bind {addr}: {e}") from None
                try:
                    transport, _ = await loop.create_datagram_endpoint(
                        functools.partial(_UDP, self, server), local_addr=(addr, self.world.port)
                    )
                    self._transports.append(transport)
                    tcp = await asyncio.start_server(
                        functools.partial(self._tcp, server), addr, self.world.port
                    )
                    self._servers.append(tcp)
                except OSError as e:
                    raise BindError(_bind_problem(addr, self.world.port, e)) from e
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for t in self._transports:
            t.close()
        for s in self._servers:
            s.close()
        for s in self._servers:
            await s.wait_closed()
        self._transports.clear()
        self._servers.clear()

    async def _tcp(self, server: ServerDef, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = peer[0] if peer else ""
        try:
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_TIMEOUT)
                (length,) = struct.unpack("!H", header)
                wire = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_TIMEOUT)
                if server.behaviour == "slow":
                    await asyncio.sleep(server.delay)
                bent = self.bend(self.answer(server, wire, source, tcp=True), wire, tcp=True)
                reply = bent.reply
                if reply is not None and bent.drip:
                    for byte in struct.pack("!H", len(reply)) + reply:
                        writer.write(bytes((byte,)))
                        await writer.drain()
                        await asyncio.sleep(DRIP_INTERVAL)
                elif reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        except Exception:  # never let one connection take the server down
            log.exception("lab: TCP handler error on %s", server.address)
            self.stats["errors"] += 1
        finally:
            writer.close()


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, lab: LabServer, server: ServerDef) -> None:
        self.lab = lab
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            reply = self.lab.bend(self.lab.answer(self.server, data, addr[0], tcp=False), data,
                                  tcp=False).reply
        except Exception:
            log.exception("lab: error answering on %s", self.server.address)
            self.lab.stats["errors"] += 1
            return
        if reply is None or self.transport is None:
            return
        if self.server.behaviour == "slow":
            loop = asyncio.get_running_loop()
            loop.call_later(self.server.delay, self._send, reply, addr)
        else:
            self.transport.sendto(reply, addr)

    def _send(self, reply: bytes, addr: Any) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


def _truncated(response: dns.message.Message) -> bytes:
    response.flags |= dns.flags.TC
    response.answer.clear()
    response.authority.clear()
    response.additional.clear()
    return response.to_wire()


def _formerr(wire: bytes) -> bytes | None:
    """FORMERR for a packet with a readable header that is not a query we can parse."""
    if len(wire) < 12:
        return None
    (qid, flags) = struct.unpack("!HH", wire[:4])
    if flags & 0x8000:  # a response: never answer it
        return None
    opcode_bits = flags & 0x7800
    return struct.pack("!HHHHHH", qid, 0x8000 | opcode_bits | dns.rcode.FORMERR, 0, 0, 0, 0)


def _bind_problem(addr: str, port: int, e: OSError) -> str:
    if e.errno == errno.EACCES:
        return (f"cannot bind {addr}:{port}: permission denied (port {port} needs root, or "
                f"sysctl net.ipv4.ip_unprivileged_port_start={port})")
    if e.errno == errno.EADDRINUSE:
        return f"cannot bind {addr}:{port}: already in use (is another lab running?)"
    if "in use" in str(e).lower():
        return f"cannot bind {addr}:{port}: already in use (is another lab running?)"
    return f"cannot bind {addr}:{port}: {e.strerror or e}"
