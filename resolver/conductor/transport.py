"""Transports move one query to one server and back; the conductor decides everything else.

:class:`NetworkTransport` uses real UDP and TCP sockets (a fresh socket, so a random source
port, per UDP query; an optional egress address).  dnspython's receive loop ignores
datagrams from other addresses or with other IDs, so spoofed or stray answers are dropped;
the conductor checks ID and question again for every transport, the mock included.
"""

from __future__ import annotations

from typing import Protocol

import dns.asyncquery
import dns.exception
import dns.message


class TransportError(Exception):
    """The network failed (unreachable, connection refused, reset)."""


class Transport(Protocol):
    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        """Send ``message`` to ``address``; raise TimeoutError or TransportError."""
        ...


class NetworkTransport:
    def __init__(self, port: int = 53, source: str | None = None) -> None:
        self.port = port
        self.source = source

    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        try:
            if tcp:
                return await dns.asyncquery.tcp(
                    message, address, timeout=timeout, port=self.port, source=self.source
                )
            return await dns.asyncquery.udp(
                message,
                address,
                timeout=timeout,
                port=self.port,
                source=self.source,
                ignore_unexpected=True,
            )
        except dns.exception.Timeout as e:
            raise TimeoutError(str(e)) from e
        except (OSError, EOFError) as e:
            raise TransportError(f"{address}: {e}") from e
        except dns.exception.DNSException as e:  # malformed answer
            raise TransportError(f"{address}: malformed response: {e}") from e
