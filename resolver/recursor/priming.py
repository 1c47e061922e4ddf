"""Priming (RFC 8109): the root hints are asked for the root's NS set, whose answer (with
its addresses) is cached and replaces the hints until it expires."""

from __future__ import annotations

import asyncio

import dns.flags
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from resolver.cache import DnsCache, Rank
from resolver.clock import Clock
from resolver.recursor.cacheview import CacheView
from resolver.recursor.config import PRIME_RETRY, Budget, RecursorConfig
from resolver.recursor.exchanger import Exchanger, UpstreamQuery

T = dns.rdatatype
IN = dns.rdataclass.IN


class Primer:
    """When priming is due, and the one priming in flight (shared by concurrent lookups)."""

    def __init__(self, cache: DnsCache, clock: Clock, config: RecursorConfig,
                 view: CacheView) -> None:
        self.cache = cache
        self.clock = clock
        self.config = config
        self.view = view
        self._prime_after = float("-inf")  # no priming before this time (after a failure)
        self._priming: asyncio.Future[None] | None = None  # the priming in flight
        self.primings = 0  # priming queries that succeeded

    def due(self) -> bool:
        return self.config.prime and not (self.config.forwarders or self.config.forward_hosts) \
            and self.clock.monotonic() >= self._prime_after

    async def prime(self, exchanger: Exchanger, budget: Budget) -> None:
        """Ask the hints for the root's NS set and cache it with its addresses; on failure
        keep resolving from the hints and try again after PRIME_RETRY seconds.  Concurrent
        resolutions wait for the one priming in flight instead of sending their own."""
        if self._priming is not None:
            await asyncio.shield(self._priming)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._priming = done
        ok = False
        try:
            ok = await self._prime_once(exchanger, budget)
        finally:
            # after a success the cached NS set is used until it expires; priming is then
            # due again at once
            self._prime_after = self.clock.monotonic() + (0.0 if ok else PRIME_RETRY)
            self._priming = None
            done.set_result(None)

    async def _prime_once(self, exchanger: Exchanger, budget: Budget) -> bool:
        servers = self.view.root_addresses(frozenset())
        if not servers or budget.queries_left <= 0:
            return False
        result = await exchanger.exchange(
            UpstreamQuery(dns.name.root, T.NS, dns.name.root, tuple(servers),
                          dnssec=self.config.dnssec, tcp=self.config.root_tcp))
        budget.spend(max(1, result.attempts))
        response = result.response
        if response is None or response.rcode() != dns.rcode.NOERROR:
            return False
        self.config.private.remove_from(response)  # root servers in private ranges too
        ns = response.get_rrset(response.answer, dns.name.root, IN, T.NS)
        if ns is None or not len(ns):
            return False
        names = {rd.target for rd in ns}
        glue = [r for r in response.additional
                if r.rdtype in (T.A, T.AAAA) and r.rdclass == IN and r.name in names]
        if not any(self.config.usable(rd.address) for r in glue for rd in r):
            return False  # no address we may use: the hints stay in charge
        now = self.clock.monotonic()
        rank = Rank.ANSWER_AUTH if response.flags & dns.flags.AA else Rank.ANSWER_NONAUTH
        sigs = response.get_rrset(response.answer, dns.name.root, IN, T.RRSIG, T.NS)
        self.cache.rrsets.put(ns, rank, now, sigs=sigs)
        for g in glue:
            self.cache.rrsets.put(g, Rank.ADDITIONAL, now)
        self.primings += 1
        return True
