"""The client-facing listeners: bytes in, frames to the queue, bytes back out.

The server half only moves bytes.  :class:`UDPServer`, :class:`TCPServer` (with a TLS
context, the DoT listener) and :class:`DoHServer` turn what clients send into
:class:`~resolver.model.Frame` objects paired with a way back
(:class:`~resolver.frames.Inbound`) and offer them to a shared
:class:`~resolver.frames.FrameQueue`; :class:`~resolver.workers.Workers` do the rest.
:class:`Listeners` runs UDP and TCP on one address and port, the usual way to serve DNS, and
DoT and DoH on ports of their own when asked::

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
import ssl

from resolver.cache.reply import FastCache
from resolver.clock import Clock
from resolver.frames import FrameQueue, Inbound, QueueStats
from resolver.server.doh import DEFAULT_PATH, DoHServer, DoHStats
from resolver.server.front import PER_CLIENT as FRONT_PER_CLIENT
from resolver.server.tcp import (
    BACKLOG,
    HANDSHAKE_TIMEOUT,
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
    "DEFAULT_PATH",
    "HANDSHAKE_TIMEOUT",
    "IDLE_TIMEOUT",
    "MAX_CONNECTIONS",
    "MAX_IN_FLIGHT",
    "MAX_PER_CLIENT",
    "DoHServer",
    "DoHStats",
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
    """UDP and TCP listeners on the same address and port, feeding one queue; DoT on
    ``dot_port`` with ``dot_tls`` and DoH on ``doh_port`` with ``doh_tls`` when given.

    With ``port=0`` an ephemeral port free for both protocols is chosen (and 0 for DoT or
    DoH, an ephemeral port each).  The keyword arguments after ``clock`` go to every stream
    listener.
    """

    def __init__(self, queue: FrameQueue, host: str = "127.0.0.1", port: int = 53, *,
                 clock: Clock | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS,
                 max_in_flight: int = MAX_IN_FLIGHT,
                 fastcache: FastCache | None = None, reuse_port: bool = False,
                 backlog: int = BACKLOG, max_per_client: int = MAX_PER_CLIENT,
                 dot_port: int | None = None, dot_tls: ssl.SSLContext | None = None,
                 doh_port: int | None = None, doh_tls: ssl.SSLContext | None = None,
                 doh_path: str = DEFAULT_PATH,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 udp_reader: str = "loop", front_per_client: int = FRONT_PER_CLIENT) -> None:
        if dot_port is not None and dot_tls is None:
            raise ValueError("DoT needs a TLS context")
        self.queue = queue
        self.host = host
        self.port = port
        self.udp_reader = udp_reader
        self.front_per_client = front_per_client
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
        self.dot: TCPServer | None = None
        self.doh: DoHServer | None = None
        self._dot = (dot_port, dot_tls)
        self._doh = (doh_port, doh_tls, doh_path)
        self.handshake_timeout = handshake_timeout

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
                            fastcache=self.fastcache, reuse_port=self.reuse_port,
                            reader=self.udp_reader, front_per_client=self.front_per_client)
            host, port = await udp.start()
            tcp = TCPServer(self.queue, self.host, port, clock=self._clock,
                            idle_timeout=self.idle_timeout,
                            max_connections=self.max_connections,
                            max_in_flight=self.max_in_flight, reuse_port=self.reuse_port,
                            backlog=self.backlog, max_per_client=self.max_per_client,
                            fastcache=self.fastcache)
            try:
                await tcp.start()
            except OSError as e:
                await udp.close()
                if e.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                log.debug("port %d is taken for TCP; trying another", port)
                continue
            self.udp, self.tcp = udp, tcp
            try:
                await self._start_tls_listeners()
            except BaseException:
                await self.close()
                raise
            return host, port
        raise AssertionError("unreachable")

    async def _start_tls_listeners(self) -> None:
        dot_port, dot_tls = self._dot
        if dot_port is not None:
            self.dot = TCPServer(
                self.queue, self.host, dot_port, tls=dot_tls, clock=self._clock,
                idle_timeout=self.idle_timeout, max_connections=self.max_connections,
                max_in_flight=self.max_in_flight, reuse_port=self.reuse_port,
                backlog=self.backlog, max_per_client=self.max_per_client,
                fastcache=self.fastcache, handshake_timeout=self.handshake_timeout)
            await self.dot.start()
        doh_port, doh_tls, doh_path = self._doh
        if doh_port is not None:
            self.doh = DoHServer(
                self.queue, self.host, doh_port, tls=doh_tls, path=doh_path, clock=self._clock,
                idle_timeout=self.idle_timeout, max_connections=self.max_connections,
                max_in_flight=self.max_in_flight, reuse_port=self.reuse_port,
                fastcache=self.fastcache, handshake_timeout=self.handshake_timeout)
            await self.doh.start()

    async def close(self) -> None:
        servers = (self.udp, self.tcp, self.dot, self.doh)
        self.udp = self.tcp = self.dot = self.doh = None
        for server in servers:
            if server is not None:
                await server.close()

    async def __aenter__(self) -> Listeners:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
