"""Driving a real resolver by address: the scenario's servers on loopback sockets.

For a scenario whose addresses (every RANGE address and the ``stub-addr``) are all
loopback, the fake network is served on real sockets: UDP and TCP on port 53 of each
address (resolvers always ask authorities on port 53, so this needs root), answered by
the same :class:`~deckard.fakenet.ScenarioNet` rules as in-process.  Client queries go to
the resolver over UDP and wait up to five seconds, as Deckard does.

The resolver is either one the user runs (``--resolver ADDR[:PORT]``: its root hint must
be the scenario's ``stub-addr``; its cache is not ours to flush, so scenarios share it)
or a fresh reference per scenario variant (``--reference unbound|kresd``, started through
:mod:`legacy_adapter` with the scenario's root hint, QNAME minimisation setting and trust
anchors).  A scenario with a public address, or with TIME_PASSES (a real resolver's clock
cannot be moved), is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import dns.name
import dns.rdatatype

from deckard.fakenet import ScenarioNet, UpstreamError
from deckard.records import Question
from deckard.scenario import Scenario
from deckard.target import CLIENT_TIMEOUT, RunOptions, Target, TargetFactory, Unsupported
from netpolicy import is_loopback

AUTH_PORT = 53
REFERENCE_LISTEN = "127.54.53.1"
"""Where a managed reference listens (outside the 127.7.x.y the project's scenarios use)."""
REFERENCE_PORT = 5353


def parse_resolver(text: str) -> tuple[str, int]:
    """``ADDR[:PORT]`` (``[v6]:PORT`` for IPv6) → (address, port); port 53 by default."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    ip = ipaddress.ip_address(host)
    if not is_loopback(ip):
        raise ValueError(f"{text}: the resolver must be on loopback")
    return ip.compressed, port


def server_addresses(scenario: Scenario) -> set[str]:
    """Every address a resolver could be sent to by the scenario: the ranges', the root
    hint, glue (A/AAAA in additional sections) and any A/AAAA of a name some NS names."""
    addresses = set(scenario.addresses())
    if scenario.config.stub_addr is not None:
        addresses.add(scenario.config.stub_addr)
    entries = scenario.entries()
    ns_targets = {
        rr.rdata.target.canonicalize()  # type: ignore[attr-defined]
        for e in entries
        for rr in (*e.answer, *e.authority, *e.additional)
        if rr.rdtype == dns.rdatatype.NS
    }
    for e in entries:
        for section, records in (("answer", e.answer), ("authority", e.authority),
                                 ("additional", e.additional)):
            for rr in records:
                if rr.rdtype not in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    continue
                if section == "additional" or rr.name.canonicalize() in ns_targets:
                    addresses.add(ipaddress.ip_address(rr.rdata.address).compressed)  # type: ignore[attr-defined]
    return addresses


def check_playable(scenario: Scenario) -> None:
    """Raise :class:`Unsupported` unless the scenario can run against a real resolver."""
    if scenario.config.stub_addr is None:
        raise Unsupported("no stub-addr: the scenario relies on built-in root hints")
    if scenario.config.zones or scenario.config.forward_hosts:
        raise Unsupported("stub or forward zones: only the candidate is configured with them")
    addresses = server_addresses(scenario)
    if any("@" in a for a in addresses):
        raise Unsupported("a server on a port other than 53: in-process only")
    public = sorted(a for a in addresses if not is_loopback(a))
    if public:
        raise Unsupported(
            f"non-loopback addresses ({', '.join(public[:3])}{'…' if len(public) > 3 else ''})"
            " would leave the machine: in-process only"
        )
    if any(s.kind == "TIME_PASSES" for s in scenario.steps):
        raise Unsupported("TIME_PASSES: a real resolver's clock cannot be moved")
    if any(not r.addresses for r in scenario.ranges):
        raise Unsupported("a range without addresses cannot be bound to sockets")


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, net: ScenarioNet, address: str) -> None:
        self.net = net
        self.address = address
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = self.net.answer(self.address, data, tcp=False)
        except UpstreamError:  # testbound's ERROR: nothing comes back over UDP
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class FakeAuthorities:
    """The scenario's servers on UDP and TCP sockets (port 53 of each address)."""

    def __init__(self, net: ScenarioNet, port: int = AUTH_PORT) -> None:
        self.net = net
        self.port = port
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []

    async def __aenter__(self) -> FakeAuthorities:
        loop = asyncio.get_running_loop()
        # every server address the scenario mentions: a one-shot REPLY step may answer an
        # address that no range lists (Deckard receives all of the resolver's traffic)
        addresses = sorted(server_addresses(self.net.scenario))
        try:
            for addr in addresses:
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_UDP, self.net, addr), local_addr=(addr, self.port)
                )
                self._udp.append(transport)
                server = await asyncio.start_server(
                    functools.partial(self._tcp_client, addr), addr, self.port
                )
                self._tcp.append(server)
        except PermissionError:
            await self.close()
            raise Unsupported(f"binding port {self.port} needs root") from None
        except OSError as e:
            await self.close()
            raise Unsupported(f"cannot bind the scenario's servers: {e}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for t in self._udp:
            t.close()
        for s in self._tcp:
            s.close()
            with contextlib.suppress(Exception):
                await s.wait_closed()
        self._udp, self._tcp = [], []

    async def _tcp_client(
        self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readexactly(2)
                data = await reader.readexactly(int.from_bytes(head, "big"))
                try:
                    reply = self.net.answer(address, data, tcp=True)
                except UpstreamError:  # testbound's ERROR: the connection closes
                    return
                if reply is not None:
                    writer.write(len(reply).to_bytes(2, "big") + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class ResolverTarget:
    """A resolver at ``address:port``, asked over UDP like Deckard does."""

    def __init__(self, address: str, port: int, net: ScenarioNet) -> None:
        self.address = address
        self.port = port
        self.net = net

    async def send(self, wire: bytes, *, wait: bool) -> bytes | None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, (self.address, self.port))
            await loop.sock_sendall(sock, wire)
            if not wait:
                return None
            query_id = wire[:2]
            try:
                async with asyncio.timeout(CLIENT_TIMEOUT):
                    while True:
                        data = await loop.sock_recv(sock, 65535)
                        if data[:2] == query_id:
                            return data
            except TimeoutError:
                return None

    def advance(self, seconds: float) -> None:
        raise Unsupported("TIME_PASSES: a real resolver's clock cannot be moved")

    def forget(self, question: Question, expire: bool = False) -> None:
        raise Unsupported("FLUSH_MESSAGE: a real resolver's cache is not reached from here")

    def now(self) -> float:
        raise Unsupported("${time}: a real resolver's clock is not read from here")

    def infra_rtt(self, address: str, zone: dns.name.Name, milliseconds: int) -> None:
        raise Unsupported("INFRA_RTT: a real resolver's infra cache is not reached from here")

    @property
    def upstream_queries(self) -> int:
        return len(self.net.log)


def network_target_factory(options: RunOptions) -> TargetFactory:
    def factory(
        scenario: Scenario, qmin: bool | None, net: ScenarioNet, seed: int
    ) -> AbstractAsyncContextManager[Target]:
        return _network_target(scenario, qmin, net, options)

    return factory


@asynccontextmanager
async def _network_target(
    scenario: Scenario, qmin: bool | None, net: ScenarioNet, options: RunOptions
) -> AsyncIterator[Target]:
    check_playable(scenario)
    async with FakeAuthorities(net):
        if options.resolver is not None:
            address, port = parse_resolver(options.resolver)
            yield ResolverTarget(address, port, net)
            return
        assert options.reference is not None
        async with _managed(scenario, bool(qmin), options) as (address, port):
            yield ResolverTarget(address, port, net)


@asynccontextmanager
async def _managed(
    scenario: Scenario, qmin: bool, options: RunOptions
) -> AsyncIterator[tuple[str, int]]:
    from legacy_adapter import ManagedResolver, ReferenceResolverError, ReferenceSpec
    from netpolicy import LAB

    config = scenario.config
    assert config.stub_addr is not None
    anchors = tuple(rr.to_text() for rr in config.validation.trust_anchors)
    variant = "qmin" if qmin else "noqmin"
    workdir = Path(options.workdir or "run/deckard") / f"{scenario.name}-{variant}"
    if workdir.is_dir():
        shutil.rmtree(workdir)  # ours, from an earlier run: a cold cache for every run
    try:
        spec = ReferenceSpec(
            kind=options.reference,  # type: ignore[arg-type]
            listen=REFERENCE_LISTEN,
            port=REFERENCE_PORT,
            workdir=workdir,
            root_hints=((config.stub_name.to_text(), config.stub_addr),),
            trust_anchors=anchors,
            validate=bool(anchors),
            qname_minimisation=qmin,
            address_policy=LAB,  # the scenario's servers are played on loopback
        )
        resolver = ManagedResolver.from_spec(spec)
        await resolver.start()
    except (ValueError, ReferenceResolverError) as e:
        raise Unsupported(f"cannot start {options.reference}: {e}") from None
    try:
        yield resolver.address, resolver.port
    finally:
        await resolver.stop()

