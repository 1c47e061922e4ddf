"""Which query stream a question goes to: its registered domain, hashed over K shards.

The registered domain comes from the bundled public suffix list, as the differ counts names
(:func:`harness.differ.normalise.domain_of`), so every name of one registered domain
(``www.example.co.uk``, ``cdn.example.co.uk``) lands on one shard, and with a worker per shard
set its dedup window and noise floor live on one worker.
"""

from __future__ import annotations

import functools
import hashlib

from harness.differ.normalise import domain_of

__all__ = ["shard_of"]


@functools.lru_cache(maxsize=65536)
def _point(qname: str) -> int:
    domain = domain_of(qname)
    return int.from_bytes(hashlib.blake2b(domain.encode("utf-8", "surrogateescape"),
                                          digest_size=8).digest(), "big")


def shard_of(qname: str, shards: int) -> int:
    """The shard (0 .. ``shards`` - 1) of ``qname``: the same for every name under one
    registered domain, whatever the case and the trailing dot."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    return _point(qname) % shards
