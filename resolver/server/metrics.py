"""``GET /metrics``: the resolver's counters in the Prometheus text format (0.0.4), over a
minimal HTTP/1.0 responder (one request per connection; anything else is 404)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

__all__ = ["MetricsServer"]

MAX_REQUEST = 8192
READ_TIMEOUT = 5.0


class MetricsServer:
    def __init__(self, host: str, port: int, render: Callable[[], str]) -> None:
        self.host = host
        self.port = port
        self.render = render
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  reuse_address=True)
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        line = head[:MAX_REQUEST].split(b"\r\n", 1)[0].split()
        if len(line) >= 2 and line[0] == b"GET" and line[1].split(b"?")[0] == b"/metrics":
            body = self.render().encode()
            status = b"200 OK"
            kind = b"text/plain; version=0.0.4; charset=utf-8"
        else:
            body, status, kind = b"not found\n", b"404 Not Found", b"text/plain"
        writer.write(b"HTTP/1.0 " + status + b"\r\nContent-Type: " + kind
                     + b"\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\nConnection: close\r\n\r\n" + body)
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()
