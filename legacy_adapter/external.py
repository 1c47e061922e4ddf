"""A resolver the user already runs: it is just an address (:class:`ByAddress`).

We send it queries and can check that it answers, but we neither start nor
stop it, and we cannot flush its cache: ``can_flush`` is false and the flush
verbs raise :class:`~legacy_adapter.errors.NotManaged`, so a comparison that
needs a cold cache fails loudly instead of silently comparing against a warm
one. The address is checked by the given :class:`netpolicy.AddressPolicy`.
"""

from __future__ import annotations

from typing import Self

import dns.exception
import dns.message

from legacy_adapter.control import FlushReport
from legacy_adapter.errors import NotManaged, StartFailed
from legacy_adapter.health import PROBE_NAME, probe
from netpolicy import PRODUCTION, AddressPolicy

__all__ = ["ByAddress"]


class ByAddress:
    """A running resolver at ``address:port`` that is not ours to manage."""

    def __init__(
        self, address: str, port: int = 53, *, name: str = "", start_timeout: float = 2.0,
        address_policy: AddressPolicy = PRODUCTION,
    ) -> None:
        self._address = address_policy.address("address", address)
        if isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError(f"port: {port!r} is outside 1..65535")
        self._port = port
        self._name = name or f"external@{self._address}:{port}"
        self.start_timeout = start_timeout

    def __repr__(self) -> str:
        return f"ByAddress({self._address!r}, {self._port})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        return self._port

    @property
    def can_flush(self) -> bool:
        return False

    async def start(self) -> None:
        """Only checks that it answers: raises :class:`StartFailed` if it does not.

        Any reply counts (a resolver of the user's may refuse ``localhost.``).
        """
        try:
            await self.health_check(self.start_timeout)
        except (OSError, dns.exception.DNSException) as error:
            raise StartFailed(
                f"{self._name}: nothing answers {PROBE_NAME} A at {self._address}:{self._port} "
                f"({error or type(error).__name__}); it is not ours to start"
            ) from None

    async def stop(self) -> None:
        """Nothing to do: the resolver is not ours."""

    async def health_check(self, timeout: float = 2.0) -> dns.message.Message:
        return await probe(self._address, self._port, timeout=timeout)

    async def flush_all(self) -> FlushReport:
        raise NotManaged(f"{self._name} is not managed by shadowdns: its cache cannot be flushed")

    async def flush_name(self, name: str) -> FlushReport:
        raise NotManaged(
            f"{self._name} is not managed by shadowdns: cannot flush {name} from its cache"
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
