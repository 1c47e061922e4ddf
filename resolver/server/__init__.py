"""The client-facing listeners: bytes in, frames to the queue, bytes back out.

The server half only moves bytes.  :class:`UDPServer` and :class:`TCPServer` turn what
clients send into :class:`~resolver.model.Frame` objects paired with a way back
(:class:`~resolver.frames.Inbound`) and offer them to a shared
:class:`~resolver.frames.FrameQueue`; :class:`~resolver.workers.Workers` do the rest.
:class:`Listeners` runs both on one address and port, the usual way to serve DNS::

    queue = FrameQueue()
    workers = Workers(queue, answerer, PluginChain(plugins))
    listeners = Listeners(queue, "127.0.0.1", 5353)
    workers.start()
    host, port = await listeners.start()
    ...
    await listeners.close()
    await workers.stop()
"""

from __future__ import annotations

import errno
import logging

from resolver.clock import Clock
from resolver.fastpath import FastCache
from resolver.frames import FrameQueue, Inbound, QueueStats
from resolver.server.tcp import (
    BACKLOG,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_IN_FLIGHT,
    MAX_PER_CLIENT,
    TCPServer,
    TCPStats,
)
from resolver.server.udp import UDPServer, UDPStats

__all__ = [
    "BACKLOG",
    "IDLE_TIMEOUT",
    "MAX_CONNECTIONS",
    "MAX_IN_FLIGHT",
    "MAX_PER_CLIENT",
    "FrameQueue",
    "Inbound",
    "Listeners",
    "QueueStats",
    "TCPServer",
    "TCPStats",
    "UDPServer",
    "UDPStats",
]

log = logging.getLogger("shadowdns.resolver.server")

_PORT_ATTEMPTS = 8
"""With port 0, how many ephemeral ports to try for one that is free for UDP and TCP."""


class Listeners:
    """UDP and TCP listeners on the same address and port, feeding one queue.

    With ``port=0`` an ephemeral port free for both protocols is chosen.  The keyword
    arguments after ``clock`` go to :class:`TCPServer`.
    """

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 53, *,
                 clock: Clock | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS,
                 max_in_flight: int = MAX_IN_FLIGHT,
                 fastcache: FastCache | None = None, reuse_port: bool = False,
                 backlog: int = BACKLOG, max_per_client: int = MAX_PER_CLIENT) -> None:
        self.queue = queue
        self.host = host
        self.port = port
        self._clock = clock
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        self.fastcache = fastcache
        self.reuse_port = reuse_port
        self.backlog = backlog
        self.max_per_client = max_per_client
        self.udp: UDPServer | None = None
        self.tcp: TCPServer | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self.udp is None:
            raise RuntimeError("listeners not started")
        return self.udp.address

    async def start(self) -> tuple[str, int]:
        """Bind UDP, then TCP on the same port; returns the bound (host, port)."""
        if self.udp is not None:
            raise RuntimeError("listeners already started")
        attempts = _PORT_ATTEMPTS if self.port == 0 else 1
        for attempt in range(attempts):
            udp = UDPServer(self.queue, self.host, self.port, clock=self._clock,
                            fastcache=self.fastcache, reuse_port=self.reuse_port)
            host, port = await udp.start()
            tcp = TCPServer(self.queue, self.host, port, clock=self._clock,
                            idle_timeout=self.idle_timeout,
                            max_connections=self.max_connections,
                            max_in_flight=self.max_in_flight, reuse_port=self.reuse_port,
                            backlog=self.backlog, max_per_client=self.max_per_client)
            try:
                await tcp.start()
            except OSError as e:
                await udp.close()
                if e.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                log.debug("port %d is taken for TCP; trying another", port)
                continue
            self.udp, self.tcp = udp, tcp
            return host, port
        raise AssertionError("unreachable")

    async def close(self) -> None:
        udp, tcp, self.udp, self.tcp = self.udp, self.tcp, None, None
        if udp is not None:
            await udp.close()
        if tcp is not None:
            await tcp.close()

    async def __aenter__(self) -> Listeners:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
