"""What the differ has learned per RRset across observations, from the reference side only.

The candidate never teaches: everything here comes from reference answers (the original
ones, confirmation re-queries, other references at other vantages, the staging resolver's
dnstap answer).  Otherwise a candidate's wrong address would join the pool it is checked
against.

Per RRset key ``(owner, type, covered)``:

* ``max_ttl``: the highest TTL any reference has shown, and the original TTL of any RRSIG
  over it: the bound a candidate's TTL may not exceed;
* for address RRsets (A, AAAA): the address ``pool`` (every address seen), the record
  ``counts`` seen, how many distinct address sets (``variants``), how many samples since the
  pool last grew (saturation), and per vantage the last address set with whether that
  vantage has been stable (same set every time) or has varied over time.

A key *varies by vantage* (the geo normaliser's condition) when at least two vantages each
answered the same set every time, at least twice, and those sets differ.  A vantage whose
own answers change over time makes the key a pool (or a flap), never geo: a third region's
unseen address must not hide behind a pool's churn.

:class:`Knowledge` also holds the fast path's :class:`~harness.differ.wire.Layouts`.  Memory
is bounded: least recently used keys are forgotten past ``capacity``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.rdata
import dns.rdatatype

from harness.differ.answers import ADDRESS_TYPES, SECTIONS, Parsed, RRKey
from harness.differ.wire import Layouts

__all__ = ["Facts", "Knowledge", "record_texts"]

_RRSIG = int(dns.rdatatype.RRSIG)
MAX_POOL = 1024
MAX_VARIANTS = 256


@dataclass(slots=True)
class _Vantage:
    data: frozenset[str]
    stable: int = 1  # times this vantage gave ``data``
    varied: bool = False  # this vantage has given different sets over time


@dataclass(slots=True)
class Facts:
    """What is known about one RRset key."""

    max_ttl: int = 0
    pool: set[str] = field(default_factory=set)
    counts: set[int] = field(default_factory=set)
    variants: set[frozenset[str]] = field(default_factory=set)
    samples: int = 0
    since_growth: int = 0
    vantages: dict[str, _Vantage] = field(default_factory=dict)
    texts: set[str] = field(default_factory=set)
    """Every record (as text) the reference side gave for the key, any type (bounded)."""
    text_sets: set[frozenset[str]] = field(default_factory=set)
    """The distinct RRsets it gave (bounded): two or more, and the key varies over time."""
    sizes: set[int] = field(default_factory=set)
    """The record counts it gave."""

    def add_texts(self, data: frozenset[str]) -> None:
        if len(self.texts) < MAX_POOL:
            self.texts |= data
        if len(self.text_sets) < MAX_VARIANTS:
            self.text_sets.add(data)
        self.sizes.add(len(data))

    def add_addresses(self, data: frozenset[str], vantage: str) -> bool:
        """Learn one address set; whether a vantage started to vary (geo no longer holds)."""
        grew = not data <= self.pool
        if grew and len(self.pool) < MAX_POOL:
            self.pool |= data
        self.counts.add(len(data))
        if len(self.variants) < MAX_VARIANTS:
            self.variants.add(data)
        self.samples += 1
        self.since_growth = 0 if grew else self.since_growth + 1
        seen = self.vantages.get(vantage)
        if seen is None:
            self.vantages[vantage] = _Vantage(data)
        elif seen.data == data:
            seen.stable += 1
        else:
            newly = not seen.varied
            seen.data = data
            seen.stable = 1
            seen.varied = True
            return newly
        return False

    def varies_by_vantage(self) -> bool:
        if len(self.vantages) < 2:
            return False
        sets = set()
        for v in self.vantages.values():
            if v.varied or v.stable < 2:
                return False
            sets.add(v.data)
        return len(sets) >= 2


def record_texts(rdatas: Iterable[dns.rdata.Rdata]) -> frozenset[str]:
    """Records as comparable text (names in lower case, as DNS compares them)."""
    return frozenset(rd.to_text().lower() for rd in rdatas)


class Knowledge:
    """Facts per RRset key, learned from reference answers; LRU-bounded."""

    def __init__(self, capacity: int = 500_000) -> None:
        self.capacity = capacity
        self.layouts = Layouts()
        self._facts: OrderedDict[RRKey, Facts] = OrderedDict()
        self.epoch = 0
        """Bumped whenever something learned stops holding (a vantage that starts to vary,
        a forgotten key): conclusions drawn before may no longer be drawn."""

    def __len__(self) -> int:
        return len(self._facts)

    def facts(self, key: RRKey) -> Facts | None:
        return self._facts.get(key)

    def _get(self, key: RRKey) -> Facts:
        f = self._facts.get(key)
        if f is None:
            f = self._facts[key] = Facts()
            if len(self._facts) > self.capacity:
                self._facts.popitem(last=False)
                self.epoch += 1
        else:
            self._facts.move_to_end(key)
        return f

    def learn(self, p: Parsed, vantage: str) -> None:
        """Learn from one reference response given at ``vantage``."""
        for section in SECTIONS:
            for key, view in p.sections[section].items():
                f = self._get(key)
                if view.ttl > f.max_ttl:
                    f.max_ttl = view.ttl
                rdtype = key[1]
                if rdtype == _RRSIG:
                    original = max((int(rd.original_ttl)  # type: ignore[attr-defined]
                                    for rd in view.rdatas), default=0)
                    if original > f.max_ttl:
                        f.max_ttl = original
                    covered = self._get((key[0], key[2], 0))
                    if original > covered.max_ttl:
                        covered.max_ttl = original
                    continue
                f.add_texts(record_texts(view.rdatas))
                if rdtype in ADDRESS_TYPES and section != "authority":
                    if f.add_addresses(view.addresses(), vantage):
                        self.epoch += 1

    # -- questions the normalisers ask ------------------------------------------------------

    def pool(self, key: RRKey) -> frozenset[str]:
        f = self._facts.get(key)
        return frozenset(f.pool) if f is not None else frozenset()

    def counts(self, key: RRKey) -> frozenset[int]:
        f = self._facts.get(key)
        return frozenset(f.counts) if f is not None else frozenset()

    def max_ttl(self, key: RRKey) -> int:
        f = self._facts.get(key)
        return f.max_ttl if f is not None else 0

    def varies_by_vantage(self, key: RRKey) -> bool:
        f = self._facts.get(key)
        return f is not None and f.varies_by_vantage()

    def vantage_set(self, key: RRKey, vantage: str) -> frozenset[str] | None:
        """The address set the reference side gives at ``vantage``, if it has answered
        there and never varied; else None."""
        f = self._facts.get(key)
        seen = f.vantages.get(vantage) if f is not None else None
        return None if seen is None or seen.varied else seen.data

    def varies(self, key: RRKey) -> bool:
        """Has the reference side given more than one address set for ``key``?"""
        f = self._facts.get(key)
        return f is not None and len(f.variants) >= 2

    def seen(self, key: RRKey) -> tuple[frozenset[str], frozenset[int], int]:
        """Every record (text) and record count the reference side gave for ``key``, and
        how many distinct RRsets (two or more: the key varies over time)."""
        f = self._facts.get(key)
        if f is None:
            return frozenset(), frozenset(), 0
        return frozenset(f.texts), frozenset(f.sizes), len(f.text_sets)

    def saturated(self, key: RRKey, patience: int) -> bool:
        """Has the pool for ``key`` stopped growing (``patience`` samples without news)?"""
        f = self._facts.get(key)
        return f is not None and f.since_growth >= patience
