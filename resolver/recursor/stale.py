"""Serve-stale (RFC 8767) as Unbound's serve-expired family does it (unbound.conf(5):
serve-expired, serve-expired-ttl, serve-expired-ttl-reset, serve-expired-reply-ttl,
serve-expired-client-timeout; Unbound's "Serving Stale Data" page).

When the client's question (not a nameserver-address sub-query, not the validator's DNSKEY
or DS) finds only expired data in the cache, :class:`StaleAnswers` decides between it and a
fresh resolution:

* ``serve_expired_client_timeout`` 0 (Unbound before 1.23): the expired answer at once; the
  resolution runs behind it and updates the cache for the next client;
* otherwise (RFC 8767 §5, Unbound's default 1800 ms): resolve first; the expired answer
  only when the resolution fails (SERVFAIL) or takes longer than the timeout (it then goes
  on behind the answer, and its result goes to the cache).

A refresh the validator finds bogus counts as failed: the expired data it replaced in the
cache is put back and served (``Step.expired``, ``Resolution.fallback``; Unbound keeps
"still usable expired records" over bogus replies, NLnetLabs/unbound#1143).
A failed refresh with ``serve_expired_ttl_reset`` keeps the expired data servable for
``serve_expired_ttl`` more seconds (Unbound's error_response_cache), and for
:data:`FAILED_REFRESH_BACKOFF_S` the question is answered from the expired data without
asking again (Unbound 1.22.1, NLnetLabs/unbound#1174: "If resolution fails, back off and use
the expired entry for some time (default 5 seconds)"; RFC 8767 §5's failure recheck timer).
What is served has TTL ``serve_expired_reply_ttl`` (RFC 8767 §4 recommends 30).  Nothing
here reads the data:
:meth:`~resolver.recursor.cacheview.CacheView.step` finds it; the caches never give bogus
expired data.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

import dns.name
import dns.rcode
import dns.rdatatype

from resolver.cache import LRU, DnsCache
from resolver.cache.common import Kept
from resolver.clock import Clock
from resolver.recursor.config import RecursorConfig, ResolutionFailed, Step
from resolver.recursor.exchanger import Exchanger

T = dns.rdatatype
NEVER_STALE = frozenset({int(T.DNSKEY), int(T.DS)})
"""Types never answered from expired data: the validator fetches them through the same
path, and a chain of trust must rest on keys the zone still publishes."""

FAILED_REFRESH_BACKOFF_S = 5.0
"""After a failed refresh, how long the expired answer is given without asking again."""
MAX_BACKOFFS = 10_000  # questions whose failed refresh is remembered

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[Step]]
Judge = Callable[[dns.name.Name, int, Step, Exchanger], Awaitable[bool]]
"""Whether a refreshed answer is bogus (the validator's verdict on it), for refreshes that
run behind an expired answer, which no client's question validates."""


def stale_window(config: RecursorConfig) -> float:
    """How long after expiry data may be served (serve-expired-ttl; 0: no limit)."""
    return math.inf if config.serve_expired_ttl == 0 else float(config.serve_expired_ttl)


class StaleAnswers:
    """Expired answers against fresh resolutions; see the module docstring."""

    def __init__(self, cache: DnsCache, clock: Clock, config: RecursorConfig) -> None:
        self.cache = cache
        self.clock = clock
        self.config = config
        # refreshes running behind an answer, by question, and all of them
        self._behind: dict[tuple[dns.name.Name, int], asyncio.Future[None]] = {}
        self._running: set[asyncio.Future[None]] = set()
        # question -> until when a failed refresh is not tried again
        self._backoff: LRU[tuple[dns.name.Name, int], float] = LRU(MAX_BACKOFFS)
        self.served = 0  # expired answers given to clients
        # set by the validator over the recursor: judges the refreshes run behind answers
        self.judge: Judge | None = None

    def applies(self, qtype: int, depth: int) -> bool:
        """Whether this lookup may be answered from expired data."""
        return self.config.serve_expired and depth == 0 and int(qtype) not in NEVER_STALE

    def at_once(self, name: dns.name.Name, qtype: int) -> bool:
        """Whether expired data answers (``name``, ``qtype``) without a refresh first:
        client timeout 0, or a refresh of it failed moments ago."""
        if not self.applies(qtype, 0):
            return False
        return self.config.serve_expired_client_timeout == 0 or self._backing_off(
            (name, int(qtype)))

    def _backing_off(self, key: tuple[dns.name.Name, int]) -> bool:
        """Whether a refresh of ``key`` failed moments ago (FAILED_REFRESH_BACKOFF_S)."""
        until = self._backoff.peek(key)
        return until is not None and self.clock.monotonic() < until

    async def answer(self, name: dns.name.Name, qtype: int, stale: Step,
                     refresh: Refresh, exchanger: Exchanger) -> Step:
        """``stale`` (the expired answer) or the fresh one ``refresh`` resolves, as the
        client timeout says."""
        key = (name, int(qtype))
        timeout_ms = self.config.serve_expired_client_timeout
        if self.at_once(name, qtype):
            if timeout_ms == 0 and key not in self._behind and not self._backing_off(key):
                kept = self.cache.keep(name, qtype)
                self._behind_answer(key, asyncio.ensure_future(refresh()), (kept, exchanger))
            return self._served(stale)
        kept = self.cache.keep(name, qtype)
        task = asyncio.ensure_future(refresh())
        try:
            fresh = await asyncio.wait_for(asyncio.shield(task), timeout_ms / 1000)
        except ResolutionFailed:
            self._failed(key)
            return self._served(stale)
        except TimeoutError:
            self._behind_answer(key, task)  # it goes on; its answer is cached
            return self._served(stale)
        except asyncio.CancelledError:
            self._behind_answer(key, task)  # the client's deadline: the refresh goes on
            raise
        if fresh.rcode == dns.rcode.SERVFAIL:
            self._failed(key)
            return self._served(stale)
        self._refreshed(key)

        def put_back() -> None:  # the refresh turned out bogus: the expired data stays
            self.cache.put_back(kept)
            self._failed(key)
            self.served += 1

        fresh.expired = (stale, put_back)
        return fresh

    async def settle(self) -> None:
        """Wait for the refreshes running behind answers (a replay's next step must see
        the cache they leave, as testbound's event loop runs them before it)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def _served(self, stale: Step) -> Step:
        self.served += 1
        return stale

    def _behind_answer(self, key: tuple[dns.name.Name, int], task: asyncio.Future[Step],
                       judged: tuple[tuple[Kept, Kept], Exchanger] | None = None) -> None:
        """``task`` goes on after the expired answer was given; a failure resets the
        expired data's window (serve-expired-ttl-reset), anything else is logged.
        ``judged``: the expired data as kept and the exchanger to validate through; a
        refresh the judge finds bogus puts that data back (NLnetLabs/unbound#1143)."""

        async def run() -> None:
            try:
                step = await task
                if step.rcode == dns.rcode.SERVFAIL:
                    self._failed(key)
                elif judged is not None and self.judge is not None and step.target is None \
                        and await self.judge(key[0], key[1], step, judged[1]):
                    self.cache.put_back(judged[0])
                    self._failed(key)
                else:
                    self._refreshed(key)
            except ResolutionFailed:
                self._failed(key)
            except Exception:  # noqa: BLE001 - a refresh behind an answer has no caller
                log.exception("refresh of expired %s type %d failed", key[0], key[1])

        runner = asyncio.ensure_future(run())
        self._behind[key] = runner
        self._running.add(runner)

        def done(_: asyncio.Future[None]) -> None:
            self._running.discard(runner)
            if self._behind.get(key) is runner:
                del self._behind[key]

        runner.add_done_callback(done)

    def _refreshed(self, key: tuple[dns.name.Name, int]) -> None:
        """A refresh succeeded: the expired data it replaces is gone, even where the new
        answer was not cached (TTL 0)."""
        self.cache.drop_expired(key[0], key[1], self.clock.monotonic())

    def _failed(self, key: tuple[dns.name.Name, int]) -> None:
        """A refresh failed: it is not tried again for a while, and with
        serve-expired-ttl-reset the expired data's window starts again (a serve-expired-ttl
        of 0 has no window to reset)."""
        now = self.clock.monotonic()
        self._backoff.put(key, now + FAILED_REFRESH_BACKOFF_S, 1)
        if self.config.serve_expired_ttl_reset and self.config.serve_expired_ttl > 0:
            self.cache.reset_stale(key[0], key[1], now, now + self.config.serve_expired_ttl)
