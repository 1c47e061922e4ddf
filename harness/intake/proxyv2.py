"""The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt, section 2.2) in front of
a mirrored packet: who the original client was, and over which transport it asked.

dnsdist (1.9 and later: ``TeeAction(remote, addECS, local, addProxyProtocol)``) and other
mirrors can prefix each copy with it; without it the harness sees only the mirror's own address.
The 12-byte signature cannot start a DNS query we would take (read as a header it has opcode 1,
IQUERY), so a datagram is read as PROXY v2 exactly when it starts with the signature.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = ["SIGNATURE", "ProxyHeader", "ProxyError", "split_proxy_v2"]

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_FIXED = struct.Struct("!12sBBH")  # signature, version/command, family/transport, length
_LOCAL, _PROXY = 0x0, 0x1
_INET, _INET6 = 0x1, 0x2
_STREAM, _DGRAM = 0x1, 0x2


class ProxyError(ValueError):
    """A header that starts with the signature but cannot be read."""


@dataclass(frozen=True)
class ProxyHeader:
    client: str | None  # None: a LOCAL command, or an address family we do not read
    client_port: int | None
    stream: bool  # the original query came over a stream (TCP)


def split_proxy_v2(data: bytes) -> tuple[ProxyHeader | None, bytes]:
    """``(header, payload)``; ``(None, data)`` when ``data`` has no PROXY v2 header."""
    if not data.startswith(SIGNATURE):
        return None, data
    if len(data) < _FIXED.size:
        raise ProxyError("short header")
    _, version_command, family_transport, length = _FIXED.unpack_from(data)
    if version_command >> 4 != 2:
        raise ProxyError(f"version {version_command >> 4}")
    command = version_command & 0xF
    if command not in (_LOCAL, _PROXY):
        raise ProxyError(f"command {command}")
    end = _FIXED.size + length
    if end > len(data):
        raise ProxyError("header longer than the datagram")
    family, transport = family_transport >> 4, family_transport & 0xF
    body = data[_FIXED.size:end]
    client: str | None = None
    port: int | None = None
    if command == _PROXY and family == _INET:
        if len(body) < 12:
            raise ProxyError("short IPv4 addresses")
        client = str(ipaddress.IPv4Address(body[0:4]))
        port = int.from_bytes(body[8:10], "big")
    elif command == _PROXY and family == _INET6:
        if len(body) < 36:
            raise ProxyError("short IPv6 addresses")
        client = str(ipaddress.IPv6Address(body[0:16]))
        port = int.from_bytes(body[32:34], "big")
    return ProxyHeader(client, port, transport == _STREAM), data[end:]
