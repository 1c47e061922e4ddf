"""Adaptive Replacement Cache with a byte budget, and a plain LRU to measure it against.

:class:`ARC` follows Megiddo & Modha ("ARC: A Self-Tuning, Low Overhead Replacement
Cache", FAST 2003), reworked so that every list is measured in **bytes**, not entries:

* ``T1`` holds resident entries seen once since they entered, ``T2`` those seen at least
  twice (a :meth:`ARC.get` hit moves an entry to the MRU end of ``T2``).
* ``B1`` and ``B2`` are *ghost* lists: keys recently evicted from ``T1`` and ``T2``. They keep
  the key and the byte size it had, never the value.
* ``p`` (:attr:`ARC.target_t1_bytes`) is how many bytes ``T1`` may hold before eviction
  prefers it. A ghost hit in ``B1`` ("we evicted a recent entry too early") grows ``p``; a
  ghost hit in ``B2`` shrinks it. Steps are scaled by the entry's size, as a byte cache must.

Invariants, in bytes, with ``c`` the capacity (checked by :meth:`ARC.check_invariants`)::

    T1 + T2 <= c        T1 + B1 <= c        T1 + T2 + B1 + B2 <= 2c        0 <= p <= c

A one-time key enters ``T1`` and, since ``p`` only grows on ``B1`` ghost hits that a scan never
produces, leaves from ``T1``: a flood of one-time keys cannot push out the hot set in ``T2``.
That is the scan resistance a plain :class:`LRU` lacks.

A cache, unlike the paper's page store, separates *looking* from *storing*. Here the reference
that ARC learns from is :meth:`~ARC.get`; :meth:`~ARC.put` of a key that is resident replaces
its value in place (refreshing recency inside its list, not promoting it), and :meth:`~ARC.put`
of a key that is in a ghost list is the paper's ghost hit. So a caller that re-stores the same
RRset twice during one resolution does not make it look popular.

Entries larger than the whole budget are refused (and any old value under that key is
dropped, since the caller meant to supersede it). Every operation is O(1) amortised: each
eviction pays for one earlier insertion.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)

__all__ = ["ARC", "GHOST_SHARE", "LRU", "ByteCache"]

GHOST_SHARE = 8
"""With ``ghost_bytes`` (what one ghost really costs: its key and the list's node), the
ghosts together may cost at most ``capacity // GHOST_SHARE``."""


class ByteCache(Protocol[K_contra, V]):
    """What :class:`ARC` and :class:`LRU` both offer: a key-value cache with a byte budget."""

    @property
    def capacity_bytes(self) -> int: ...

    @property
    def size_bytes(self) -> int: ...

    def get(self, key: K_contra) -> V | None: ...

    def peek(self, key: K_contra) -> V | None: ...

    def put(self, key: K_contra, value: V, size: int) -> bool: ...

    def pop(self, key: K_contra) -> V | None: ...

    def clear(self) -> None: ...

    def stats(self) -> dict[str, int]: ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


def _check_capacity(capacity_bytes: int) -> None:
    if capacity_bytes < 1:
        raise ValueError(f"capacity_bytes must be >= 1, not {capacity_bytes}")


def _check_size(size: int) -> None:
    if size < 1:
        raise ValueError(f"an entry's size must be >= 1 byte, not {size}")


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


class ARC(Generic[K, V]):
    """Adaptive Replacement Cache whose budget is ``capacity_bytes`` of entry sizes.

    ``get`` is the reference (a hit promotes to ``T2``); ``peek`` and ``in`` look without
    promoting or counting. Counters: ``hits``, ``misses`` (of ``get``), ``evictions`` (resident
    entries pushed out by the budget), ``ghost_hits`` (``put`` of a key remembered in ``B1``
    or ``B2``) and ``refused`` (``put`` of an entry larger than the budget).
    """

    __slots__ = (
        "_capacity",
        "_t1",
        "_t2",
        "_b1",
        "_b2",
        "_t1_bytes",
        "_t2_bytes",
        "_b1_bytes",
        "_b2_bytes",
        "_p",
        "hits",
        "misses",
        "evictions",
        "ghost_hits",
        "refused",
        "ghosts_shed",
        "_max_ghosts",
    )

    def __init__(self, capacity_bytes: int, ghost_bytes: int = 0) -> None:
        """``ghost_bytes``: what one ghost costs in memory (0: not counted, the paper's
        directory).  The ghost lists are bounded in entry sizes (``T1 + B1 <= c``, all
        ``<= 2c``), but a ghost's key and node are not in any charge: with small entries
        they would cost up to half the budget again (a reply cache's ~230 bytes a ghost
        for ~560 an entry).  With ``ghost_bytes`` they cost at most
        ``capacity // GHOST_SHARE``; the oldest of the longer list go first, counted in
        ``ghosts_shed``."""
        _check_capacity(capacity_bytes)
        self._capacity = capacity_bytes
        self._max_ghosts = capacity_bytes // GHOST_SHARE // ghost_bytes if ghost_bytes > 0 \
            else -1
        self.ghosts_shed = 0
        # LRU end first, MRU end last; resident lists map key -> (value, size).
        self._t1: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._t2: OrderedDict[K, tuple[V, int]] = OrderedDict()
        # Ghost lists map key -> the size the entry had when it was evicted.
        self._b1: OrderedDict[K, int] = OrderedDict()
        self._b2: OrderedDict[K, int] = OrderedDict()
        self._t1_bytes = 0
        self._t2_bytes = 0
        self._b1_bytes = 0
        self._b2_bytes = 0
        self._p = 0.0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.ghost_hits = 0
        self.refused = 0

    # -- sizes ----------------------------------------------------------------------------

    @property
    def capacity_bytes(self) -> int:
        return self._capacity

    @property
    def size_bytes(self) -> int:
        """Bytes held by resident entries (``T1 + T2``); never above the capacity."""
        return self._t1_bytes + self._t2_bytes

    @property
    def target_t1_bytes(self) -> float:
        """The adaptive target ``p``: bytes ``T1`` may hold before eviction prefers it."""
        return self._p

    @property
    def t1_bytes(self) -> int:
        return self._t1_bytes

    @property
    def t2_bytes(self) -> int:
        return self._t2_bytes

    @property
    def b1_bytes(self) -> int:
        return self._b1_bytes

    @property
    def b2_bytes(self) -> int:
        return self._b2_bytes

    @property
    def ghost_count(self) -> int:
        """Keys held in ``B1`` and ``B2`` together."""
        return len(self._b1) + len(self._b2)

    def __len__(self) -> int:
        return len(self._t1) + len(self._t2)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is resident; ghosts do not count, and nothing is promoted."""
        return key in self._t1 or key in self._t2

    # -- lookups --------------------------------------------------------------------------

    def get(self, key: K) -> V | None:
        """The value under ``key``, or ``None``; a hit moves the key to the MRU end of ``T2``."""
        entry = self._t1.pop(key, None)
        if entry is not None:
            self._t1_bytes -= entry[1]
            self._t2[key] = entry
            self._t2_bytes += entry[1]
            self.hits += 1
            return entry[0]
        entry = self._t2.get(key)
        if entry is not None:
            self._t2.move_to_end(key)
            self.hits += 1
            return entry[0]
        self.misses += 1
        return None

    def peek(self, key: K) -> V | None:
        """The value under ``key`` without promoting it or touching the counters."""
        entry = self._t1.get(key)
        if entry is None:
            entry = self._t2.get(key)
        return None if entry is None else entry[0]

    # -- stores ---------------------------------------------------------------------------

    def peek_sized(self, key: K) -> tuple[V, int] | None:
        """The value under ``key`` and its size, without promoting it or counting."""
        return self._t1.get(key) or self._t2.get(key)

    def replace(self, key: K, value: V) -> bool:
        """Swap the value of a resident ``key`` for one of the same size, in place (no
        reference, no move); whether ``key`` was resident."""
        for resident in (self._t1, self._t2):
            entry = resident.get(key)
            if entry is not None:
                resident[key] = (value, entry[1])
                return True
        return False

    def put(self, key: K, value: V, size: int) -> bool:
        """Store ``value`` of ``size`` bytes under ``key``; ``False`` if it can never fit."""
        _check_size(size)
        if size > self._capacity:
            self.refused += 1
            self.pop(key)
            return False
        old = self._t1.pop(key, None)
        if old is not None:  # a store, not a reference: stays in T1
            self._t1_bytes -= old[1]
            self._make_room(size, ghost_hit_in_b2=False)
            self._t1[key] = (value, size)
            self._t1_bytes += size
        elif (old := self._t2.pop(key, None)) is not None:  # stays in T2
            self._t2_bytes -= old[1]
            self._make_room(size, ghost_hit_in_b2=False)
            self._t2[key] = (value, size)
            self._t2_bytes += size
        elif key in self._b1:  # evicted from T1 too early: give T1 more room
            self.ghost_hits += 1
            ratio = max(1.0, self._b2_bytes / self._b1_bytes)
            self._p = min(float(self._capacity), self._p + size * ratio)
            self._b1_bytes -= self._b1.pop(key)
            self._make_room(size, ghost_hit_in_b2=False)
            self._t2[key] = (value, size)
            self._t2_bytes += size
        elif key in self._b2:  # evicted from T2 too early: give T2 more room
            self.ghost_hits += 1
            ratio = max(1.0, self._b1_bytes / self._b2_bytes)
            self._p = max(0.0, self._p - size * ratio)
            self._b2_bytes -= self._b2.pop(key)
            self._make_room(size, ghost_hit_in_b2=True)
            self._t2[key] = (value, size)
            self._t2_bytes += size
        else:  # never seen, or forgotten: a first reference
            self._make_room(size, ghost_hit_in_b2=False)
            self._t1[key] = (value, size)
            self._t1_bytes += size
        self._trim_ghosts()
        return True

    def pop(self, key: K) -> V | None:
        """Forget ``key`` entirely (resident or ghost); the value it had, if resident."""
        result: V | None = None
        entry = self._t1.pop(key, None)
        if entry is not None:
            self._t1_bytes -= entry[1]
            result = entry[0]
        elif (entry := self._t2.pop(key, None)) is not None:
            self._t2_bytes -= entry[1]
            result = entry[0]
        ghost = self._b1.pop(key, None)
        if ghost is not None:
            self._b1_bytes -= ghost
        ghost = self._b2.pop(key, None)
        if ghost is not None:
            self._b2_bytes -= ghost
        return result

    def clear(self) -> None:
        """Drop every entry and ghost and reset ``p``; the counters are kept."""
        for lst in (self._t1, self._t2):
            lst.clear()
        for ghosts in (self._b1, self._b2):
            ghosts.clear()
        self._t1_bytes = self._t2_bytes = self._b1_bytes = self._b2_bytes = 0
        self._p = 0.0

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self),
            "bytes": self.size_bytes,
            "capacity_bytes": self._capacity,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "ghost_hits": self.ghost_hits,
            "ghosts_shed": self.ghosts_shed,
            "refused": self.refused,
        }

    # -- internals ------------------------------------------------------------------------

    def _make_room(self, size: int, *, ghost_hit_in_b2: bool) -> None:
        """The paper's REPLACE, repeated until ``size`` more bytes fit in ``T1 + T2``."""
        while self._t1_bytes + self._t2_bytes + size > self._capacity:
            from_t1 = bool(self._t1) and (
                not self._t2
                or self._t1_bytes > self._p
                or (ghost_hit_in_b2 and self._t1_bytes >= self._p)
            )
            if from_t1:
                key, (_, victim) = self._t1.popitem(last=False)
                self._t1_bytes -= victim
                self._b1[key] = victim
                self._b1_bytes += victim
            else:
                key, (_, victim) = self._t2.popitem(last=False)
                self._t2_bytes -= victim
                self._b2[key] = victim
                self._b2_bytes += victim
            self.evictions += 1

    def _trim_ghosts(self) -> None:
        """Keep the directory bounded: ``T1 + B1 <= c`` and everything ``<= 2c``."""
        while self._b1 and self._t1_bytes + self._b1_bytes > self._capacity:
            self._b1_bytes -= self._b1.popitem(last=False)[1]
        while self._b1 or self._b2:
            total = self._t1_bytes + self._t2_bytes + self._b1_bytes + self._b2_bytes
            if total <= 2 * self._capacity:
                break
            if self._b2:
                self._b2_bytes -= self._b2.popitem(last=False)[1]
            else:
                self._b1_bytes -= self._b1.popitem(last=False)[1]
        if self._max_ghosts >= 0:
            while len(self._b1) + len(self._b2) > self._max_ghosts:
                if len(self._b1) > len(self._b2):
                    self._b1_bytes -= self._b1.popitem(last=False)[1]
                else:
                    self._b2_bytes -= self._b2.popitem(last=False)[1]
                self.ghosts_shed += 1

    def check_invariants(self) -> None:
        """Raise :class:`AssertionError` if the lists disagree with the ARC invariants."""
        c = self._capacity
        _require(self._t1_bytes == sum(s for _, s in self._t1.values()), "T1 byte count")
        _require(self._t2_bytes == sum(s for _, s in self._t2.values()), "T2 byte count")
        _require(self._b1_bytes == sum(self._b1.values()), "B1 byte count")
        _require(self._b2_bytes == sum(self._b2.values()), "B2 byte count")
        _require(self._t1_bytes + self._t2_bytes <= c, "T1 + T2 <= c")
        _require(self._t1_bytes + self._b1_bytes <= c, "T1 + B1 <= c")
        _require(
            self._t1_bytes + self._t2_bytes + self._b1_bytes + self._b2_bytes <= 2 * c,
            "T1 + T2 + B1 + B2 <= 2c",
        )
        _require(0.0 <= self._p <= c, "0 <= p <= c")
        lists = [set(self._t1), set(self._t2), set(self._b1), set(self._b2)]
        _require(
            sum(len(keys) for keys in lists) == len(set().union(*lists)),
            "T1, T2, B1, B2 are disjoint",
        )


class LRU(Generic[K, V]):
    """Least-recently-used cache with a byte budget and the same interface as :class:`ARC`."""

    __slots__ = ("_capacity", "_entries", "_bytes", "hits", "misses", "evictions", "refused")

    def __init__(self, capacity_bytes: int) -> None:
        _check_capacity(capacity_bytes)
        self._capacity = capacity_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.refused = 0

    @property
    def capacity_bytes(self) -> int:
        return self._capacity

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value under ``key``, or ``None``; a hit makes it most recently used."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def peek(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V, size: int) -> bool:
        """Store ``value`` as most recently used; ``False`` if it can never fit."""
        _check_size(size)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if size > self._capacity:
            self.refused += 1
            return False
        while self._bytes + size > self._capacity:
            _, (_, victim) = self._entries.popitem(last=False)
            self._bytes -= victim
            self.evictions += 1
        self._entries[key] = (value, size)
        self._bytes += size
        return True

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self._bytes -= entry[1]
        return entry[0]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self),
            "bytes": self._bytes,
            "capacity_bytes": self._capacity,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "refused": self.refused,
        }

    def check_invariants(self) -> None:
        """Raise :class:`AssertionError` if the byte count or budget is wrong."""
        _require(self._bytes == sum(s for _, s in self._entries.values()), "byte count")
        _require(self._bytes <= self._capacity, "size <= capacity")
