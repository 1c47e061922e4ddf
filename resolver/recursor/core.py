"""The recursor: iterative resolution from the root hints (RFC 1034 §5.3.3), with no I/O.

``await Recursor.resolve(request, exchanger)`` finds the closest known zone cut in the
cache (or starts at the root hints), asks that cut's servers through the exchanger, and
follows referrals down, caching what each answer teaches (NS and glue at the rank they
deserve, answers, negative answers with their SOA).  Nameserver names without glue are
resolved as sub-queries; CNAME and DNAME chains are chased across zones; QNAME
minimisation (RFC 9156) reveals one label per step unless switched off.

Everything is capped by named constants: referrals per lookup, chain length, sub-query
depth, upstream sends per client query (the NXNSAttack cap), and a total deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.cache import DnsCache
from resolver.clock import Clock
from resolver.model import Request
from resolver.recursor.addresses import ServerAddresses
from resolver.recursor.answers import Extras
from resolver.recursor.cacheview import CacheView
from resolver.recursor.classify import Classified, Kind
from resolver.recursor.config import (
    TOTAL_DEADLINE,
    Budget,
    RecursorConfig,
    Resolution,
    ResolutionFailed,
    Step,
)
from resolver.recursor.exchanger import Exchanger
from resolver.recursor.iterate import Iteration
from resolver.recursor.nat64 import through_nat64
from resolver.recursor.priming import Primer
from resolver.recursor.stale import StaleAnswers, stale_window

T = dns.rdatatype
# Classes resolved: IN, and ANY (answered with what class IN has, as Unbound's class-ANY
# collection over the classes it has hints for).
RESOLVED_CLASSES = frozenset({dns.rdataclass.IN, dns.rdataclass.ANY})


def fallback(steps: list[Step]) -> tuple[Resolution, Callable[[], None]] | None:
    """The chain answered with the expired data its refreshed steps replaced (and what puts
    that data back in the cache), when some step was refreshed so and the chain still
    leads the same way; None otherwise (serve-expired, see resolver.recursor.stale)."""
    replaced = [s.expired for s in steps if s.expired is not None]
    if not replaced:
        return None
    old = [s if s.expired is None else s.expired[0] for s in steps]
    if any(o.target != s.target for o, s in zip(old, steps, strict=True)):
        return None
    records = [r for o in old for r in o.records]
    res = Resolution(old[-1].rcode, records, old[-1].authority, stale=True)

    def put_back() -> None:
        for _, undo in replaced:
            undo()

    return res, put_back


class Recursor:
    """The front: a client question's chain of lookups, each answered from the cache or by
    asking upstream (:mod:`resolver.recursor.iterate`)."""

    def __init__(
        self,
        cache: DnsCache,
        root_hints: Sequence[tuple[str, str]],
        clock: Clock,
        config: RecursorConfig | None = None,
        signed_zone_hint: Callable[[dns.name.Name], bool] | None = None,
    ) -> None:
        self.cache = cache
        self.clock = clock
        self._config = config = config or RecursorConfig()
        self.root_servers = tuple(addr for _, addr in root_hints)
        self._extras = Extras(cache, config)
        # Is a zone known to be signed (trust anchor, secure or bogus keys)?  Given by whoever
        # validates (resolver.dnssec.chain.ZoneKeys.is_signed); None without validation.
        # Used to accept a minimised query's NXDOMAIN as final and to spot DNSSEC-lame servers.
        self.signed_zone_hint = signed_zone_hint
        # A denial the validator proves from its cached NSEC records (RFC 8198), for a CNAME
        # target: set by whoever validates (resolver.dnssec.validating), None otherwise.
        self.denial_hint: Callable[[dns.name.Name, int], Resolution | None] | None = None
        self.view = CacheView(cache, clock, config, self.root_servers)
        self.primer = Primer(cache, clock, config, self.view)
        addresses = ServerAddresses(cache, clock, config, self.view, self.primer,
                                    resolve=self._resolve)
        self.iteration = Iteration(cache, clock, config, self.view, addresses,
                                   self.primer, dnssec_expected=self._dnssec_expected,
                                   dnssec_lame=self._dnssec_lame)
        self.stale = StaleAnswers(cache, clock, config)
        self._parts = (self._extras, self.view, self.primer, addresses, self.iteration,
                       self.stale)
        if not self.root_servers:
            raise ValueError("root hints: at least one root server address is needed")

    @property
    def config(self) -> RecursorConfig:
        return self._config

    @config.setter
    def config(self, config: RecursorConfig) -> None:
        """A configuration set later (tests switch options so) is every part's."""
        self._config = config
        for part in self._parts:
            part.config = config

    @property
    def primings(self) -> int:
        """Priming queries that succeeded."""
        return self.primer.primings

    async def resolve(
        self, request: Request, exchanger: Exchanger, avoid: frozenset[str] = frozenset()
    ) -> Resolution:
        """Resolve ``request``; ``avoid``: servers not to ask for it unless nothing else is
        left (then the lookup fails rather than ask them again)."""
        if self.denies(request):
            return Resolution(dns.rcode.NOTIMP, reason="deny-any: qtype ANY is not answered")
        if request.qclass not in RESOLVED_CLASSES:
            # Root hints and configured zones are class IN: a question of another class
            # (CH, HS, ...) has no servers to start from.  Unbound's iterator: "Cannot prime
            # due to lack of hints" is answered REFUSED (processInitRequest); asking class IN
            # servers instead would answer IN data to a CH question.
            klass = dns.rdataclass.RdataClass.make(request.qclass)
            return Resolution(dns.rcode.REFUSED,
                              reason=f"no root hints for class {dns.rdataclass.to_text(klass)}")
        budget = Budget(self.config.max_global_quota, self.clock.monotonic() + TOTAL_DEADLINE,
                        avoid=avoid)
        exchanger = through_nat64(exchanger, self.config.nat64_prefix)
        try:
            res = await self._resolve(request.qname, request.qtype, exchanger, budget, 0)
        except ResolutionFailed as e:
            res = Resolution(dns.rcode.SERVFAIL, reason=e.reason)
        res.upstream_queries = budget.sent
        res.origins = frozenset(budget.origins)
        return res

    def denies(self, request: Request) -> bool:
        """Whether the question is refused outright: qtype ANY with ``deny_any``."""
        return self.config.deny_any and request.qtype == dns.rdatatype.ANY

    # -- the chain --------------------------------------------------------------------------

    async def _resolve(
        self, qname: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> Resolution:
        answer: list[dns.rrset.RRset] = []
        proofs: list[dns.rrset.RRset] = []  # wildcard proofs of the chain's earlier steps
        name = qname
        seen = {qname}
        steps: list[Step] = []
        for _ in range(self.config.max_query_restarts + 1):
            step = self._denied(name, qtype) if name != qname else None
            if step is None:
                step = await self._lookup(name, qtype, exchanger, budget, depth)
            answer.extend(step.records)
            steps.append(step)
            if step.target is None:
                authority = step.authority + [r for r in proofs if r not in step.authority]
                if self.config.keep_extras and step.rcode == dns.rcode.NOERROR and step.records:
                    self._extras.remember(name, qtype, step, self.clock.monotonic())
                return Resolution(step.rcode, answer, authority, reason=step.reason,
                                  extra_authority=step.extra_authority,
                                  extra_additional=step.extra_additional, beside=step.beside,
                                  stale=any(s.stale for s in steps), fallback=fallback(steps))
            proofs.extend(step.authority)
            if step.target in seen:
                return Resolution(dns.rcode.SERVFAIL, reason=f"CNAME loop at {step.target}")
            seen.add(step.target)
            name = step.target
        return Resolution(dns.rcode.SERVFAIL, reason="CNAME chain too long")

    def _denied(self, name: dns.name.Name, qtype: int) -> Step | None:
        """A CNAME target's NXDOMAIN or NODATA proven from the validated NSEC records of the
        cache (RFC 8198 §5; Unbound's iterator looks its cache up, aggressive NSEC
        included, for each name of the chain): not asked upstream."""
        synth = self.denial_hint(name, qtype) if self.denial_hint is not None else None
        if synth is None or synth.answer:
            return None
        return Step(synth.rcode, [], synth.authority, reason=synth.reason)

    async def _lookup(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> Step:
        # A client's question (depth 0) is answered from answer data only; a nameserver's
        # address (a sub-query) may come from glue, as Unbound fills a delegation point's
        # addresses from any cached A/AAAA RRset.
        answers_only = depth == 0
        cached = None if self._uncached(name, qtype) else self.view.step(
            name, qtype, answers_only=answers_only)
        if cached is not None:
            if cached.prefetch and self.config.prefetch:
                try:  # the refresh's outcome goes to the cache; the client gets the old one
                    await self._iterate(name, qtype, exchanger, budget, depth)
                except ResolutionFailed:
                    pass
            return cached
        if self.stale.applies(qtype, depth):
            expired = self.view.step(name, qtype, stale=stale_window(self.config),
                                     answers_only=answers_only)
            if expired is not None:  # serve-expired (RFC 8767): it, or a fresh answer
                return await self.stale.answer(
                    name, qtype, expired,
                    lambda: self._iterate(name, qtype, exchanger, budget, depth), exchanger)
        return await self._iterate(name, qtype, exchanger, budget, depth)

    def _uncached(self, name: dns.name.Name, qtype: int) -> bool:
        """Whether ``name`` is in a forward zone whose data is not cached (Unbound's
        forward-no-cache: "data inside the forward is not cached"): the cache is not
        consulted for it, as Unbound's iter_stub_fwd_no_cache sets no_cache_lookup."""
        if self.config.forwarders or self.config.forward_hosts:
            return self.config.root_no_cache
        above = name.parent() if qtype == T.DS and name != dns.name.root else name
        zone = self.view.configured(above)
        return zone is not None and zone.no_cache

    async def _iterate(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> Step:
        """Ask upstream: the forwarders, a configured zone's servers, or the closest cut's
        (a stub-first or forward-first zone that fails gives way to the plain walk)."""
        if self.config.forwarders or self.config.forward_hosts:
            return await self.iteration.forward(name, qtype, exchanger, budget, depth)
        # DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): start above the name.
        above = name.parent() if qtype == T.DS and name != dns.name.root else name
        configured = self.view.configured(above, budget.unconfigured)
        if configured is not None:
            try:
                if configured.forward:
                    return await self.iteration.forward(name, qtype, exchanger, budget, depth,
                                                        configured)
                if configured.prime:
                    await self.iteration.prime_stub(configured, exchanger, budget, depth)
                return await self.iteration.walk(name, qtype, exchanger, budget, depth, above)
            except ResolutionFailed:
                if not configured.first:
                    raise
                # stub-first / forward-first: resolve as if the zone were not configured
                budget.unconfigured.add(configured.name)
        return await self.iteration.walk(name, qtype, exchanger, budget, depth, above)

    async def settle(self) -> None:
        """Wait for the refreshes running behind expired answers (serve-expired)."""
        await self.stale.settle()

    # -- from the cache alone ---------------------------------------------------------------

    def cached(self, request: Request) -> Resolution | None:
        """The answer to ``request`` from the cache alone (its CNAME chain followed in the
        cache), or None when some of it is not cached; nothing is sent, nothing changes.
        Expired data too where serve-expired would answer with it at once (client timeout
        0, or a refresh that failed moments ago: Unbound's answer_from_cache)."""
        answer: list[dns.rrset.RRset] = []
        name, seen = request.qname, {request.qname}
        stale = False
        for _ in range(self.config.max_query_restarts + 1):
            step = self.view.step(name, request.qtype, answers_only=True)
            if step is None and self.stale.at_once(name, request.qtype):
                step = self.view.step(name, request.qtype, stale=stale_window(self.config),
                                      answers_only=True)
            if step is None:
                return None
            answer.extend(step.records)
            stale |= step.stale
            if step.target is None:
                if self.config.keep_extras and step.rcode == dns.rcode.NOERROR and step.records:
                    self._extras.remember(name, request.qtype, step, self.clock.monotonic())
                return Resolution(step.rcode, answer, step.authority,
                                  extra_authority=step.extra_authority,
                                  extra_additional=step.extra_additional, beside=step.beside,
                                  stale=stale)
            if step.target in seen:
                return None
            seen.add(step.target)
            name = step.target
        return None

    def cached_referral(
        self, name: dns.name.Name, qtype: int
    ) -> tuple[list[dns.rrset.RRset], list[dns.rrset.RRset]] | None:
        """The closest delegation the cache holds for ``name`` (:meth:`CacheView.referral`)."""
        return self.view.referral(name, qtype)

    async def primed_root(
        self, exchanger: Exchanger
    ) -> tuple[list[dns.rrset.RRset], list[dns.rrset.RRset]] | None:
        """The root's delegation after priming it now if due (RFC 8109): its NS RRset and
        its servers' addresses, or None when the root is not primed (forwarding everything,
        priming off or failed).  For a query without RD that the cache cannot answer nor
        refer, not even with the root's NS RRset (expired): Unbound's iterator primes the
        root and answers with the priming response (processInitRequest3: "If the RD flag
        wasn't set, then we just finish with the cached referral as the response")."""
        if self.primer.due():
            budget = Budget(self.config.max_global_quota, self.clock.monotonic() + TOTAL_DEADLINE)
            await self.primer.prime(through_nat64(exchanger, self.config.nat64_prefix), budget)
        return self.view.referral(dns.name.root, T.NS)

    def flush_name(self, name: dns.name.Name) -> int:
        """Forget what the cache holds at ``name`` (:meth:`DnsCache.flush_name`)."""
        return self.cache.flush_name(name)

    def forget_extras(self, name: dns.name.Name, qtype: int) -> None:
        """Drop the extras kept with the answer to (``name``, ``qtype``)."""
        self._extras.forget(name, qtype)

    # -- is the zone signed? ------------------------------------------------------------------

    def _dnssec_expected(self, zone: dns.name.Name) -> bool:
        """Does ``zone`` look signed?  Unbound's iter_indicates_dnssec: a trust anchor at the
        zone, a DS for it (the referral's, or one cached), or a validated key set."""
        if self.cache.rrsets.get(zone, T.DS, self.clock.monotonic()) is not None:
            return True
        return self.signed_zone_hint is not None and self.signed_zone_hint(zone)

    def _dnssec_lame(self, c: Classified, response: dns.message.Message,
                     zone: dns.name.Name) -> bool:
        """Is ``response`` (asked with DO, validation on) an answer from a server of a zone
        known to be signed that carries no RRSIG at all?"""
        if c.kind not in (Kind.ANSWER, Kind.CNAME, Kind.NXDOMAIN, Kind.NODATA):
            return False
        if not (self.config.dnssec and self.config.dnssec_lame_check) \
                or self.signed_zone_hint is None:
            return False
        if any(r.rdtype == T.RRSIG for r in (*response.answer, *response.authority)):
            return False
        return self._dnssec_expected(zone)
