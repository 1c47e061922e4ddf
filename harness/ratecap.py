"""An outbound rate cap per target: a token bucket for each resolver the harness asks.

A sampled query goes to every target at once, so it is sent only when every target's bucket
holds a token (and then takes one from each); otherwise it is not sent anywhere and the
pipeline counts it ``rate_capped`` (and per target, for the bucket that was empty).  A
confirmation re-query goes to one target and waits for that target's next token instead:
the cap holds for everything the harness sends, and a verdict is never left unconfirmed.

Buckets refill continuously at ``rate`` tokens per second up to ``burst`` (one second's worth,
at least one); time is an argument, so the arithmetic is testable without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["RateCap", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` kept."""

    def __init__(self, rate: float, burst: float | None = None, *, now: float = 0.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.tokens = self.burst
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def ready(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1.0

    def take(self, now: float) -> bool:
        """Take a token if there is one."""
        if not self.ready(now):
            return False
        self.tokens -= 1.0
        return True

    def wait_time(self, now: float) -> float:
        """Seconds until a token is there (0 if one is)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class RateCap:
    """One bucket per target name; ``rate`` 0 means no cap (every call says yes)."""

    def __init__(self, targets: Iterable[str], rate: float, *, now: float = 0.0) -> None:
        self.rate = rate
        self.buckets = {name: TokenBucket(rate, now=now) for name in targets} if rate > 0 else {}

    def admit(self, now: float) -> str | None:
        """Take a token from every bucket and return None, or return the name of a target
        whose bucket is empty (and take nothing)."""
        for name, bucket in self.buckets.items():
            if not bucket.ready(now):
                return name
        for bucket in self.buckets.values():
            bucket.take(now)
        return None

    def wait_time(self, target: str, now: float) -> float:
        bucket = self.buckets.get(target)
        return 0.0 if bucket is None else bucket.wait_time(now)

    def take(self, target: str, now: float) -> bool:
        bucket = self.buckets.get(target)
        return True if bucket is None else bucket.take(now)
