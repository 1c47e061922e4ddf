"""Is a resolver answering? One DNS query for ``localhost. A``, over loopback UDP.

Unbound and kresd both answer ``localhost.`` themselves (RFC 6761), so the
probe needs no upstream and is fast even with an empty lab.
"""

from __future__ import annotations

import dns.asyncquery
import dns.message
import dns.rdatatype

__all__ = ["PROBE_NAME", "probe"]

PROBE_NAME = "localhost."


async def probe(
    address: str, port: int, *, timeout: float = 1.0, qname: str = PROBE_NAME
) -> dns.message.Message:
    """Send ``qname A`` to ``address:port`` over UDP and return the response.

    Raises ``dns.exception.Timeout`` when nothing answers in time and
    ``OSError`` (typically ``ConnectionRefusedError``) when nothing listens.
    dnspython checks the reply's ID and question.
    """
    query = dns.message.make_query(qname, dns.rdatatype.A)
    return await dns.asyncquery.udp(query, address, timeout=timeout, port=port)
