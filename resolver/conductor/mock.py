"""A transport made of a function: the seam unit tests, Deckard and the harness drive.

``MockTransport(handler)`` calls ``handler(address, query, tcp)``; the handler returns a
response message, or None for "no answer" (a timeout), or raises TransportError.  Every
query sent is recorded in :attr:`MockTransport.sent` so tests can assert upstream traffic
(queries per server, TCP use) as well as answers.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name

from resolver.conductor.transport import MalformedResponse

Handler = Callable[
    [str, dns.message.Message, bool],
    "dns.message.Message | None | Awaitable[dns.message.Message | None]",
]


@dataclass(frozen=True)
class Sent:
    address: str
    qname: dns.name.Name
    qtype: int
    tcp: bool
    edns: bool
    message: dns.message.Message


class MockTransport:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[Sent] = []

    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        q = message.question[0]
        self.sent.append(Sent(address, q.name, q.rdtype, tcp, message.edns >= 0, message))
        # Round-trip through wire format, as a real network would.
        query = dns.message.from_wire(message.to_wire())
        result = self.handler(address, query, tcp)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        if result is None:
            await asyncio.sleep(0)
            raise TimeoutError(f"{address}: no answer")
        assert isinstance(result, dns.message.Message)
        try:
            return dns.message.from_wire(result.to_wire())
        except dns.exception.DNSException as e:  # as NetworkTransport: a malformed response
            raise MalformedResponse(f"{address}: malformed response: {e}") from e

    def per_server(self) -> Counter[str]:
        return Counter(s.address for s in self.sent)

    def questions(self) -> list[tuple[str, str, str]]:
        """(address, name, type) of each query sent; the name in lower case (the conductor
        randomises its case, 0x20: :attr:`sent` has the name as sent)."""
        import dns.rdatatype

        return [
            (
                s.address,
                s.qname.canonicalize().to_text(),
                dns.rdatatype.to_text(dns.rdatatype.RdataType(s.qtype)),
            )
            for s in self.sent
        ]
