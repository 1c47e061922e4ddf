"""The sampler: which of the queries seen are compared.

In order, for each query:

1. filters -- ``qtypes`` (allow-list), ``suffixes`` / ``exclude_suffixes`` and
   ``exclude_clients`` (the original client's network, for every intake): ``filtered``;
2. probability -- with ``per_name`` the lowercased name (plus ``salt``) is hashed to a point
   in [0, 1): a name is always in or always out, so its whole history is compared or none of
   it; otherwise a seeded random draw per query: ``unsampled``;
3. load -- when the dispatcher is saturated the effective probability is ``probability *
   scale`` with ``scale`` < 1 (see :meth:`Sampler.pressure`): queries that the configured
   probability takes but the scaled one does not are ``shed``.  With ``per_name`` the names
   kept are a consistent subset of those sampled at full rate;
4. dedup -- the same question (name, type, DO, CD) again within ``dedup_window`` seconds of
   the last one sampled: ``duplicate``.

What is left is ``sampled``.  The sampler is pure: time and randomness are arguments.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import random

from harness.config import SamplerConfig
from harness.records import Query
from netpolicy import Networks

__all__ = ["Decision", "Sampler", "name_point"]

MIN_SCALE = 1 / 4096
DOWN_FACTOR = 0.5
UP_FACTOR = 1.25
DOWN_INTERVAL = 0.1
MAX_DEDUP_KEYS = 1_000_000


class Decision(enum.Enum):
    SAMPLED = "sampled"
    FILTERED = "filtered"
    UNSAMPLED = "unsampled"
    SHED = "shed"
    DUPLICATE = "duplicate"


def name_point(qname: str, salt: str = "") -> float:
    """The name's fixed point in [0, 1) (case-insensitive; trailing dot optional)."""
    key = (salt + "\0" + qname.lower().rstrip(".")).encode("utf-8", "surrogateescape")
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _under(qname: str, suffixes: tuple[str, ...]) -> bool:
    name = qname.lower()
    if not name.endswith("."):
        name += "."
    for suffix in suffixes:
        if suffix == "." or name == suffix or name.endswith("." + suffix):
            return True
    return False


class Sampler:
    """Decides per query; adapts its rate to the dispatcher's load when ``adaptive``."""

    def __init__(self, config: SamplerConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.rng = rng or random.Random(0)
        self.scale = 1.0
        self._last_down = float("-inf")
        self._recent: collections.OrderedDict[tuple[str, int, bool, bool], float] = (
            collections.OrderedDict())
        self._points: dict[str, float] = {}
        self._excluded = Networks(config.exclude_clients)

    @property
    def effective_probability(self) -> float:
        return self.config.probability * self.scale

    def _point(self, qname: str) -> float:
        key = qname.lower()
        point = self._points.get(key)
        if point is None:
            point = name_point(key, self.config.salt)
            if len(self._points) >= 200_000:
                self._points.clear()
            self._points[key] = point
        return point

    def decide(self, query: Query, now: float) -> Decision:
        config = self.config
        if config.qtypes and query.qtype not in config.qtypes:
            return Decision.FILTERED
        if config.suffixes and not _under(query.qname, config.suffixes):
            return Decision.FILTERED
        if config.exclude_suffixes and _under(query.qname, config.exclude_suffixes):
            return Decision.FILTERED
        if config.exclude_clients and query.client is not None and query.client in self._excluded:
            return Decision.FILTERED
        p = config.probability
        if p < 1.0 or self.scale < 1.0:
            u = self._point(query.qname) if config.per_name else self.rng.random()
            if u >= p:
                return Decision.UNSAMPLED
            if u >= p * self.scale:
                return Decision.SHED
        if config.dedup_window > 0:
            key = (query.qname.lower(), query.qtype, query.do, query.cd)
            recent = self._recent
            while recent:
                oldest_key, oldest = next(iter(recent.items()))
                if now - oldest < config.dedup_window and len(recent) < MAX_DEDUP_KEYS:
                    break
                del recent[oldest_key]
            if key in recent:
                return Decision.DUPLICATE
            recent[key] = now
        return Decision.SAMPLED

    def pressure(self, saturated: bool, load: float, now: float) -> None:
        """Adapt to the dispatcher: call on every drop (``saturated``) and periodically.

        A drop halves ``scale`` (at most once per :data:`DOWN_INTERVAL` seconds, so one burst
        does not collapse it); a periodic call with ``load`` (in-flight / capacity) under one
        half raises it by a quarter, up to 1.
        """
        if not self.config.adaptive:
            return
        if saturated:
            if now - self._last_down >= DOWN_INTERVAL:
                self._last_down = now
                self.scale = max(MIN_SCALE, self.scale * DOWN_FACTOR)
        elif load < 0.5 and self.scale < 1.0:
            self.scale = min(1.0, self.scale * UP_FACTOR)
