"""Finding the addresses of a zone's servers: cached (glue included), configured, or looked
up as sub-queries for nameserver names without one; then the last resorts when they all
fail (parent-side addresses and NS names, priming, the parent's delegation afresh)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import dns.name
import dns.rdatatype

from resolver.cache import DnsCache
from resolver.clock import Clock
from resolver.recursor.cacheview import CacheView
from resolver.recursor.config import (
    MAX_NS_LOOKUPS_PER_CUT,
    MAX_SUBQUERY_DEPTH,
    Budget,
    ConfiguredZone,
    RecursorConfig,
    Resolution,
    ResolutionFailed,
)
from resolver.recursor.exchanger import Exchanger
from resolver.recursor.priming import Primer

T = dns.rdatatype

# A sub-query: resolve (name, qtype) through the exchanger within the budget, one level deeper.
SubQuery = Callable[[dns.name.Name, int, Exchanger, Budget, int], Awaitable[Resolution]]


class ServerAddresses:
    """The addresses to ask for a zone; ``resolve`` looks nameserver names up."""

    def __init__(self, cache: DnsCache, clock: Clock, config: RecursorConfig, view: CacheView,
                 primer: Primer, resolve: SubQuery) -> None:
        self.cache = cache
        self.clock = clock
        self.config = config
        self.view = view
        self.primer = primer
        self.resolve = resolve

    async def for_zone(
        self,
        zone: dns.name.Name,
        ns_names: list[dns.name.Name],
        exchanger: Exchanger,
        budget: Budget,
        depth: int,
        exclude: frozenset[str] | set[str] = frozenset(),
    ) -> list[str]:
        """Addresses of ``zone``'s nameservers, other than ``exclude`` (those that failed).

        Cached addresses (glue included) first; else the names without a known address
        are resolved, one after another, until one gives an address.
        """
        if zone == dns.name.root and (not ns_names or self.config.root_stub):
            return self.view.root_addresses(exclude)
        if not ns_names:
            stub = self.view.configured(zone, budget.unconfigured)
            if stub is not None and stub.name == zone and not stub.forward:
                found = [a for a in await self.of_configured(stub, exchanger, budget, depth)
                         if a not in exclude]
                if not found:
                    raise ResolutionFailed(f"no usable server of the stub zone {zone}")
                return found
        addrs = [a for a in self.view.addresses(ns_names) if a not in exclude]
        if addrs:
            return addrs
        # Glue a referral of this very query gave for names the cache holds no address of
        # (its TTL was 0, so it was not cached: RFC 1035 §3.2.1, such data "can only be
        # used for the transaction in progress"; Unbound builds the delegation point from
        # the referral message itself).
        fresh = [a for ns in ns_names if not self.view.addresses([ns])
                 for a in budget.parent_glue.get(ns, [])
                 if a not in exclude and self.config.usable(a)]
        if fresh:
            return fresh
        if depth >= MAX_SUBQUERY_DEPTH:
            raise ResolutionFailed(f"nameserver lookups nested too deep under {zone}")
        looked = 0
        # Every nameserver inside the zone and none with an address: the delegation is
        # "useless" (Unbound's iter_dp_is_useless); their addresses are looked up all the
        # same, which (the cut itself being of no help) asks the parent's servers.
        useless = all(ns.is_subdomain(zone) for ns in ns_names)
        for ns in ns_names:
            if self.view.addresses([ns]):
                continue  # known, and every address of it has failed already
            if looked >= MAX_NS_LOOKUPS_PER_CUT:
                break
            for rdtype in self.config.address_types():
                if not useless and ns.is_subdomain(zone) and self.view.step(ns, rdtype) is None:
                    # Needs glue we do not have: resolving it would ask the zone itself.
                    # (A cached CNAME for the name is followed, though.)
                    continue
                key = (ns, rdtype)
                if key in budget.in_progress or key in budget.failed_lookups:
                    continue  # a cycle (being resolved up the stack), or tried in vain
                looked += 1
                budget.in_progress.add(key)
                try:
                    sub: Resolution | None = await self.resolve(
                        ns, rdtype, exchanger, budget, depth + 1
                    )
                except ResolutionFailed:
                    sub = None
                finally:
                    budget.in_progress.discard(key)
                found = [
                    rd.address
                    for r in (sub.answer if sub else [])
                    if r.rdtype == rdtype
                    for rd in r
                    if self.config.usable(rd.address)
                ]
                if not found:
                    # The lookup may have failed (a lame or broken child) after a referral
                    # on the way gave glue for this very name: the parent's address works.
                    found = self.view.addresses([ns])
                if not found:
                    budget.failed_lookups.add(key)
                found = [a for a in found if a not in exclude]
                if not found:
                    found = [
                        a
                        for a in budget.parent_glue.get(ns, [])
                        if a not in exclude and self.config.usable(a)
                    ]
                if found:
                    return found
        # Last resort (Unbound's processLastResort): the parent-side addresses of the
        # nameservers, from this query's referrals or cached apart from the child's data.
        pside = [a for a in self.view.parent_side_addresses(ns_names, budget)
                 if a not in exclude]
        if pside:
            return pside
        if zone == dns.name.root:
            roots = self.view.root_addresses(exclude)
            if roots:
                return roots
        raise ResolutionFailed(f"no address for any nameserver of {zone}")

    async def others(
        self,
        zone: dns.name.Name,
        ns_names: list[dns.name.Name],
        exchanger: Exchanger,
        budget: Budget,
        depth: int,
        failed: set[str],
    ) -> list[str]:
        """Addresses of ``zone``'s servers not in ``failed``; [] when there are none left.

        Last resort: the nameservers the parent's referral listed that the child's own NS
        set (which replaced it in the cache) does not (Unbound's parent-side NS,
        iter_lookup_parent_NS_from_cache).
        """
        try:
            found = await self.for_zone(zone, ns_names, exchanger, budget, depth, failed)
            if found:
                return found
        except ResolutionFailed:
            pass
        if zone == dns.name.root and not ns_names and not budget.primed:
            # Every root hint failed: prime (RFC 8109), once per client query.  A hint
            # may answer the priming question and be lame for everything else.
            # (also where priming up front is off, as in Deckard, whose scenarios often have
            # no answer for the priming question)
            budget.primed = True
            if not (self.config.forwarders or self.config.forward_hosts):
                await self.primer.prime(exchanger, budget)
            _, primed = self.view.closest_cut(dns.name.root)
            if not primed:
                return []
            try:
                return await self.for_zone(zone, primed, exchanger, budget, depth, failed)
            except ResolutionFailed:
                return []
        hit = self.cache.parent_side.get(zone, T.NS, self.clock.monotonic())
        extra = [] if hit is None else [rd.target for rd in hit.rrset
                                        if rd.target not in ns_names]
        if not extra:
            return []
        try:
            return await self.for_zone(zone, extra, exchanger, budget, depth, failed)
        except ResolutionFailed:
            return []

    async def refetch(
        self, zone: dns.name.Name, exchanger: Exchanger, budget: Budget, depth: int,
        avoid: frozenset[str],
    ) -> tuple[dns.name.Name, list[dns.name.Name], list[str]]:
        """Every server of ``zone``'s cached delegation failed or is lame: forget that NS
        set and start again from the parent's cut, whose referral gives the delegation as
        it is now (the zone may have moved: a domain sale, a renumbered operator).  Done
        once per lookup; Knot Resolver likewise falls back to the parent cut when no
        nameserver of a cut is left."""
        self.cache.rrsets.pop(zone, T.NS)
        parent, names = self.view.closest_cut(zone.parent(), budget.unconfigured)
        return parent, names, await self.for_zone(parent, names, exchanger, budget, depth,
                                                  avoid)

    async def of_configured(self, zone: ConfiguredZone, exchanger: Exchanger, budget: Budget,
                            depth: int) -> tuple[str, ...]:
        """A configured zone's server addresses, then those of its hosts: cached, or looked
        up (as any name is, so through the forwarders for the root forward zone) once per
        client query; a lookup already under way up the stack is not started again.  An
        address of a family the resolver does not use (do-ip6: no, "Unbound does not use
        IPv6 to send queries") or in do-not-query-address is left out, configured or not."""
        servers = [a for a in zone.addresses if self.config.usable(a, configured=True)]
        for host in zone.hosts:
            for rdtype in self.config.address_types():
                hit = self.cache.rrsets.get(host, rdtype, self.clock.monotonic())
                found = [] if hit is None else [rd.address for rd in hit.rrset]
                key = (host, rdtype)
                if hit is None and key not in budget.in_progress \
                        and key not in budget.failed_lookups and depth < MAX_SUBQUERY_DEPTH:
                    budget.in_progress.add(key)
                    try:
                        sub = await self.resolve(host, rdtype, exchanger, budget, depth + 1)
                        found = [rd.address for r in sub.answer if r.rdtype == rdtype
                                 for rd in r]
                    except ResolutionFailed:
                        pass
                    finally:
                        budget.in_progress.discard(key)
                    if not found:
                        budget.failed_lookups.add(key)
                servers.extend(a for a in found if a not in servers and self.config.usable(a))
        return tuple(servers)
