"""What the answerer asks for a client's question: a recursor, validating or not, or the peer
group in front of one.  One protocol, so that a wrapper cannot silently drop a method."""

from __future__ import annotations

from typing import Protocol

import dns.name

from resolver.model import Request
from resolver.recursor.config import Resolution
from resolver.recursor.exchanger import Exchanger

__all__ = ["Resolves"]


class Resolves(Protocol):
    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution: ...

    def flush_name(self, name: dns.name.Name) -> int:
        """Forget everything cached at ``name`` (RRsets of every type there, the negative
        answers, the verdicts kept for them): the next question for it is asked afresh, as
        ``unbound-control flush`` and kresd's ``cache.clear(name, true)`` do.  Returns how
        many cache entries went."""
        ...
