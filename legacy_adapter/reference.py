"""What the rest of shadowdns sees of a reference resolver: :class:`Reference`.

A reference is either one we run (:class:`~legacy_adapter.process.ManagedResolver`)
or one the user already runs (:class:`~legacy_adapter.external.ByAddress`). Both
have an address to send queries to, an async ``start``/``stop`` (a no-op apart
from a health check for ``ByAddress``), and the flush verbs, which
``ByAddress`` refuses with :class:`~legacy_adapter.errors.NotManaged`: check
``can_flush`` first.
"""

from __future__ import annotations

from typing import Protocol, Self, runtime_checkable

import dns.message

from legacy_adapter.control import FlushReport

__all__ = ["Reference"]


@runtime_checkable
class Reference(Protocol):
    """A resolver shadowdns can send queries to."""

    @property
    def name(self) -> str:
        """Short label for reports and logs."""
        ...

    @property
    def address(self) -> str:
        """Where clients send queries (an IPv4 loopback address)."""
        ...

    @property
    def port(self) -> int: ...

    @property
    def can_flush(self) -> bool:
        """Whether :meth:`flush_all` and :meth:`flush_name` work."""
        ...

    async def start(self) -> None:
        """Make the resolver ready; returns once it answers queries."""
        ...

    async def stop(self) -> None:
        """Release the resolver (stop it, if it is ours)."""
        ...

    async def health_check(self, timeout: float = 2.0) -> dns.message.Message:
        """One probe query; raises if the resolver does not answer."""
        ...

    async def flush_all(self) -> FlushReport: ...

    async def flush_name(self, name: str) -> FlushReport: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...
