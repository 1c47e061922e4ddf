"""Socket reads into one reused buffer that keep exactly the bytes received.

``sock.recv(65535)`` allocates the whole 64 KB for every packet and then shrinks the bytes
object to what arrived.  Above pymalloc's 512-byte limit that is the C allocator's malloc and
realloc: the shrunk object stays where the big block began, and the next 64 KB read needs a
fresh contiguous block, so a few long-lived small remnants (a query kept in a frame, a
cache entry allocated meanwhile) leave the heap full of holes none of the next reads fit in.
Under a flood of small datagrams a resolving process's heap grew by ~25 MB in 30 s while
holding 3 MB (glibc ``mallinfo2``: 27 MB free inside it; docs/RELIABILITY.md, "Memory under
the flood").  Reading into a buffer allocated once and copying out the exact length
allocates only what is kept.
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["Receiver"]


class Receiver:
    """``recv`` and ``recvfrom`` of ``size`` bytes at most, through one buffer of its own
    (not thread-safe: one per reading thread)."""

    __slots__ = ("_buffer", "_view")

    def __init__(self, size: int) -> None:
        self._buffer = bytearray(size)
        self._view = memoryview(self._buffer)

    def recvfrom(self, sock: socket.socket) -> tuple[bytes, Any]:
        n, addr = sock.recvfrom_into(self._buffer)
        return self._view[:n].tobytes(), addr

    def recv(self, sock: socket.socket) -> bytes:
        return self._view[:sock.recv_into(self._buffer)].tobytes()
