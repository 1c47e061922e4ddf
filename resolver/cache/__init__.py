"""The resolver's caches: a byte-budget ARC, and the RRset, negative, infra and message
caches built on it (see :mod:`resolver.cache.dnscache`)."""

from __future__ import annotations

from resolver.cache.arc import ARC, LRU, ByteCache
from resolver.cache.dnscache import (
    CachedMessage,
    CachedNegative,
    CachedRRset,
    DnsCache,
    EdnsState,
    InfraCache,
    MessageCache,
    MessageKey,
    NegativeCache,
    Rank,
    RRsetCache,
    Security,
)

__all__ = [
    "ARC",
    "LRU",
    "ByteCache",
    "CachedMessage",
    "CachedNegative",
    "CachedRRset",
    "DnsCache",
    "EdnsState",
    "InfraCache",
    "MessageCache",
    "MessageKey",
    "NegativeCache",
    "Rank",
    "RRsetCache",
    "Security",
]
