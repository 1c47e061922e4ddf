"""The resolver's caches, one module each as Unbound keeps services/cache/: a byte-budget
ARC (:mod:`~resolver.cache.arc`), the RRset, negative, infra and NSEC caches
(:mod:`~resolver.cache.rrset`, :mod:`~resolver.cache.negative`,
:mod:`~resolver.cache.infra`, :mod:`~resolver.cache.nsec`) with what they share
(:mod:`~resolver.cache.common`) and the facade that owns one of each
(:mod:`~resolver.cache.dnscache`), and the server's reply cache of wire bytes
(:mod:`~resolver.cache.reply`)."""

from __future__ import annotations

from resolver.cache.arc import ARC, LRU, ByteCache
from resolver.cache.common import MAX_NEGATIVE_TTL_S, MAX_TTL_S, Rank, Security
from resolver.cache.dnscache import FLUSH_TYPES, DnsCache
from resolver.cache.infra import EdnsState, InfraCache
from resolver.cache.negative import CachedNegative, NegativeCache
from resolver.cache.nsec import CachedProof, NsecCache
from resolver.cache.reply import FastCache
from resolver.cache.rrset import CachedRRset, RRsetCache

__all__ = [
    "ARC",
    "FLUSH_TYPES",
    "LRU",
    "MAX_NEGATIVE_TTL_S",
    "MAX_TTL_S",
    "ByteCache",
    "CachedNegative",
    "CachedProof",
    "CachedRRset",
    "DnsCache",
    "EdnsState",
    "FastCache",
    "InfraCache",
    "NegativeCache",
    "NsecCache",
    "Rank",
    "RRsetCache",
    "Security",
]
