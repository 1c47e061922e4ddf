"""The reply cache the server answers from: cache hits answered from bytes, no dnspython
parse, no queue, no task on a hit.

Replies are stored by the key :func:`~resolver.fastpath.read_query` reads from the query
packet (the question lower-cased, type, class, RD, CD, DO and whether the client used EDNS).
A stored reply keeps its wire bytes, the offsets of every TTL field in it (OPT aside) and
when it was stored.  A hit copies the bytes, writes the client's ID and its question
exactly as sent (0x20 case), and lowers every TTL by the whole seconds elapsed; once the
smallest TTL has run out the entry is a miss and the full path answers (and refreshes it).
The byte budget is held by an ARC, so a flood of one-time names does not evict the hot set.
While a plugin that sees cache hits is enabled the cache is *paused* (emptied, serving and
storing nothing): such a plugin must see every query (docs/PLUGINS.md).

In front of the ARC sits a *memo* of finished replies keyed by the query's bytes after its
ID (flags, counts, the question exactly as sent, the OPT record): a repeat of the same query
costs one dict lookup and one concatenation.  A memo item is the rendered reply plus the
interval of clock values over which that rendering is exact (its age in whole seconds,
rounded up, is the one the TTLs were lowered by), so a memo hit is byte-identical to what
the ARC path would render at that moment; outside the interval the ARC path renders again.
A memo item outlives its ARC entry by less than a second at most (eviction, a newer store),
never past the entry's lifetime.  The memo takes a quarter of the byte budget and is emptied
whole when full.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Protocol

from resolver.cache.arc import ARC
from resolver.fastpath import HEADER, QueryShape, read_query, ttl_offsets

__all__ = ["CACHEABLE_RCODES", "MAX_STORED_REPLY", "UNSTORED_KEY", "FastCache"]

UNSTORED_KEY = "reply_not_stored"
"""A ``Request.extra`` key the answerer sets when its reply must not be stored here: an
answer from expired data (serve-expired), so that the next client gets the refreshed one."""

ENTRY_OVERHEAD = 420
"""Bytes charged per entry beyond its reply, key and TTL offsets: the entry object, its two
tuples, the ARC's node and ``(value, size)`` pair (measured with tracemalloc, CPython 3.11:
~480 bytes for a one-record reply beside its wire, of which the key is ~60; 160 before
2026-12-08 charged ~55 % of what a small entry holds, so a full cache outgrew its budget)."""
GHOST_BYTES = 230
"""What an ARC ghost of this cache costs: its key (~90 bytes) and its list node (~140)."""
OFFSET_CHARGE = 56
"""Bytes charged per TTL offset: an int in each of two tuples (measured ~36-53)."""
MEMO_OVERHEAD = 300  # bytes charged per memo item beyond its key and reply
MEMO_SHARE = 4  # the memo gets 1/MEMO_SHARE of the byte budget
MAX_STORED_REPLY = 1232
MAX_STORED_STREAM_REPLY = 16384
"""A whole answer rendered for a stream (TCP, DoT, DoH) is kept up to this size: served only
to stream queries (over UDP it is bigger than any client's limit)."""
_TC = 0x0200
_RCODE_MASK = 0x000F
CACHEABLE_RCODES = (0, 3)  # NOERROR, NXDOMAIN


def _client_limit(shape: QueryShape) -> int:
    """The largest UDP reply this client takes from us (as the workers size replies)."""
    if shape.payload is None:
        return 512
    return max(512, min(shape.payload, MAX_STORED_REPLY))


@dataclass(frozen=True, slots=True)
class _Entry:
    wire: bytes
    offsets: tuple[int, ...]
    ttls: tuple[int, ...]
    stored_at: float
    lifetime: float  # the smallest TTL: the entry is good until stored_at + lifetime
    truncated_at: int = 0  # a TC=1 reply: the client limit it did not fit; 0 otherwise


class Mirror(Protocol):
    """What is told of a :class:`FastCache`'s stores and flushes, to keep a copy."""

    def stored(self, query: bytes, reply: bytes, lifetime: float | None,
               stream: bool) -> None: ...

    def cleared(self) -> None: ...


_Memo = tuple[float, float, bytes, _Entry, int]
"""A memo item: valid after, valid until, the reply after its ID, the entry it was rendered
from and the end of the question (to render the entry again for another second)."""


def _render_entry(entry: _Entry, wire: bytes, now: float, qend: int) -> bytes | None:
    """``entry`` as the reply to ``wire`` at ``now`` (its ID and question, the TTLs aged in
    whole seconds rounded up: never higher than the full path would serve at the same
    moment, at most one second lower); None once the entry has expired."""
    age = math.ceil(now - entry.stored_at)
    if age >= entry.lifetime:
        return None
    out = bytearray(entry.wire)
    out[0:2] = wire[0:2]  # the client's ID
    out[12:qend] = wire[12:qend]  # its question, 0x20 case as sent
    for off, ttl in zip(entry.offsets, entry.ttls, strict=True):
        struct.pack_into("!I", out, off, max(0, ttl - age))
    return bytes(out)


class FastCache:
    """Stored replies by query shape; see the module docstring."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._memo_capacity = capacity_bytes // MEMO_SHARE
        self._arc: ARC[bytes, _Entry] = ARC(capacity_bytes - self._memo_capacity,
                                          ghost_bytes=GHOST_BYTES)
        # query bytes after the ID -> (valid after, valid until, reply bytes after the ID)
        self._memo: dict[bytes, _Memo] = {}
        self._memo_bytes = 0
        self.rendered = 0  # hits answered by rendering from the ARC
        self.memo_hits = 0  # hits answered from the memo
        self.misses = 0
        self.stored = 0
        self.memo_resets = 0
        # True while a plugin must see every query (resolver.plugins.SEES_EVERY_QUERY):
        # nothing is served from bytes or stored; set by the workers when plugins change
        self.paused = False
        # told of every store and flush: the UDP front's copy of this cache
        # (resolver.server.front.FrontLink), None without a front
        self.mirror: Mirror | None = None

    @property
    def hits(self) -> int:
        return self.rendered + self.memo_hits

    def lookup(self, wire: bytes, now: float, *, stream: bool = False) -> bytes | None:
        """The reply to ``wire`` at monotonic time ``now`` from bytes, or None (a miss).

        ``stream``: the query came over TCP, DoT or DoH, whose replies have no UDP size
        limit: a stored whole answer bigger than the client's UDP limit is served too (the
        full path would send it whole), a stored TC=1 reply is not.
        """
        if self.paused:
            return None
        memo = self._memo.get(wire[2:])
        if memo is not None and memo[0] < now <= memo[1]:
            self.memo_hits += 1
            return wire[:2] + memo[2]
        return self._render(wire, now, stream)

    def memo_lookup(self, wire: bytes, now: float) -> bytes | None:
        """The memo's reply to ``wire`` at ``now``, or None; reads only, counts nothing:
        safe from another thread while the loop uses the cache (one atomic dict lookup of
        an immutable item)."""
        if self.paused:
            return None
        memo = self._memo.get(wire[2:])
        if memo is None:
            return None
        if memo[0] < now <= memo[1]:
            return wire[:2] + memo[2]
        # the reply of another second: rendered again from the (immutable) entry it came from
        return _render_entry(memo[3], wire, now, memo[4])

    def _render(self, wire: bytes, now: float, stream: bool = False) -> bytes | None:
        shape = read_query(wire)
        if shape is None:
            return None
        entry = self._arc.get(shape.key)
        if entry is None:
            self.misses += 1
            return None
        limit = _client_limit(shape)
        fits = len(entry.wire) <= limit and not limit > entry.truncated_at > 0
        if (stream and entry.truncated_at) or not (fits or stream):
            self.misses += 1  # too big for this client, or it may take the whole answer
            return None
        reply = _render_entry(entry, wire, now, shape.qend)
        if reply is None:
            self.misses += 1
            return None
        self.rendered += 1
        if fits:  # the memo answers the same query bytes over UDP too: only what fits UDP
            # ceil(t - stored_at) == age exactly for t in (until - 1, until]
            until = entry.stored_at + math.ceil(now - entry.stored_at)
            self._remember(wire[2:], (until - 1.0, until, reply[2:], entry, shape.qend))
        return reply

    def _remember(self, key: bytes, item: _Memo) -> None:
        # the entry is charged too: the memo keeps it alive after the ARC lets it go
        cost = len(key) + len(item[2]) + len(item[3].wire) + MEMO_OVERHEAD
        if self._memo_bytes + cost > self._memo_capacity:
            self._memo.clear()
            self._memo_bytes = 0
            self.memo_resets += 1
            if cost > self._memo_capacity:
                return
        self._memo[key] = item
        self._memo_bytes += cost

    def store(self, query_wire: bytes, reply_wire: bytes, now: float, *,
              lifetime: float | None = None, stream: bool = False) -> bool:
        """Remember a reply the full path rendered for this query; False if not cacheable.

        A truncated (TC=1) reply carries no TTL, so it is stored only with ``lifetime``:
        the smallest TTL of the answer it stands for.  It is then served to clients whose
        size limit is at most the one it was truncated for; a client that takes more goes
        to the full path, which may fit the whole answer.  A reply rendered for a stream
        (``stream``) is kept up to :data:`MAX_STORED_STREAM_REPLY` bytes; one over the UDP
        limits is served to stream queries only.
        """
        given_lifetime = lifetime
        shape = read_query(query_wire)
        cap = MAX_STORED_STREAM_REPLY if stream else MAX_STORED_REPLY
        if self.paused or shape is None or len(reply_wire) > cap \
                or len(reply_wire) < 12:
            return False
        flags = HEADER.unpack_from(reply_wire)[1]
        if (flags & _RCODE_MASK) not in CACHEABLE_RCODES:
            return False
        if reply_wire[12:shape.qend].lower() != query_wire[12:shape.qend].lower():
            return False
        offsets = ttl_offsets(reply_wire)
        if offsets is None:
            return False
        truncated_at = 0
        if flags & _TC:
            if lifetime is None or offsets:
                return False  # a TC reply is the question alone, and needs its lifetime
            ttls: tuple[int, ...] = ()
            truncated_at = _client_limit(shape)
        else:
            if not offsets:
                return False  # nothing with a TTL: no lifetime to honour
            ttls = tuple(struct.unpack_from("!I", reply_wire, off)[0] for off in offsets)
            lifetime = min(ttls)
        if lifetime <= 0:
            return False
        entry = _Entry(reply_wire, tuple(offsets), ttls, now, float(lifetime), truncated_at)
        size = len(reply_wire) + len(shape.key) + OFFSET_CHARGE * len(offsets) + ENTRY_OVERHEAD
        stored = self._arc.put(shape.key, entry, size)
        self.stored += stored
        if stored and self.mirror is not None:
            self.mirror.stored(query_wire, reply_wire, given_lifetime, stream)
        return stored

    def clear(self) -> None:
        """Forget everything (a cache flush)."""
        self._arc.clear()
        self._memo.clear()
        self._memo_bytes = 0
        if self.mirror is not None:
            self.mirror.cleared()

    def __len__(self) -> int:
        return len(self._arc)

    @property
    def size_bytes(self) -> int:
        """Bytes charged: the ARC's entries and the memo's items."""
        return self._arc.size_bytes + self._memo_bytes
