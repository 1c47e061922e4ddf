"""The UDP mirror: a port that receives copies of client queries and never answers them.

dnsdist's ``TeeAction``, a packet broker or a switch's mirror port sends each client query
here as one UDP datagram.  Only datagrams from the configured source networks are taken
(others count as ``refused_source``); anything that is not a DNS query counts as
``malformed`` (a mirrored response as ``responses``).  A copy prefixed with a PROXY protocol
v2 header (:mod:`harness.intake.proxyv2`) keeps the original client's address and port, and
its transport (a stream: replayed over TCP); the allow-list still applies to the sender.
With ``client_from_ecs`` the mirror's EDNS Client Subnet option (dnsdist ``TeeAction(remote,
true)``) is read as the client's address (the subnet's address) and removed from the packet
before it is replayed -- the mirror added it, the client did not send it.
Nothing is ever sent back: the real client has its answer from the production resolver.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from harness.config import UdpMirrorConfig
from harness.intake.base import Intake, IntakeSink, Malformed, query_from_wire, split_ecs
from harness.intake.proxyv2 import ProxyError, split_proxy_v2
from harness.records import Source
from netpolicy import Networks

__all__ = ["UdpMirrorIntake"]

log = logging.getLogger("shadowdns.harness.intake")


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, intake: UdpMirrorIntake, sink: IntakeSink) -> None:
        self.intake = intake
        self.sink = sink

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        intake = self.intake
        stats = intake.stats
        stats["datagrams"] += 1
        host = str(addr[0])
        if not intake.allowed(host):
            stats["refused_source"] += 1
            return
        client, port, stream = host, int(addr[1]), False
        try:
            header, data = split_proxy_v2(data)
        except ProxyError:
            stats["bad_proxy_header"] += 1
            return
        if header is not None:
            stats["proxy_v2"] += 1
            if header.client is not None:
                client, port = header.client, header.client_port or 0
            stream = header.stream
        if intake.config.client_from_ecs:
            subnet, data = split_ecs(data)
            if subnet is not None:
                stats["client_from_ecs"] += 1
                client, port = subnet, 0
        try:
            query = query_from_wire(data, source=Source.UDP_MIRROR, client=client,
                                    client_port=port, seen_at=time.time(), tcp=stream)
        except Malformed as e:
            if str(e) == "response":
                stats["responses"] += 1
            else:
                stats["malformed"] += 1
            return
        stats["queries"] += 1
        self.sink.offer(query)

    def error_received(self, exc: Exception) -> None:
        self.intake.stats["socket_errors"] += 1


class UdpMirrorIntake(Intake):
    """Listens on ``config.listen`` for mirrored queries."""

    kind = "udp_mirror"

    def __init__(self, config: UdpMirrorConfig, name: str | None = None) -> None:
        super().__init__(name or f"udp_mirror:{config.listen[0]}:{config.listen[1]}")
        self.config = config
        self._transport: asyncio.DatagramTransport | None = None
        self._allowed = Networks(config.allow)
        self.address: tuple[str, int] = config.listen

    def allowed(self, host: str) -> bool:
        return host in self._allowed

    async def start(self, sink: IntakeSink) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.config.listen[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.config.receive_buffer)
            sock.bind(self.config.listen)
        except OSError as e:
            sock.close()
            raise OSError(f"udp mirror: cannot bind {self.config.listen[0]}:"
                          f"{self.config.listen[1]}: {e.strerror}") from e
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self, sink), sock=sock)
        self._transport = transport
        host, port = sock.getsockname()[:2]
        self.address = (str(host), int(port))

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._finished.set()

    def describe(self) -> str:
        return f"UDP mirror on {self.address[0]}:{self.address[1]}"
