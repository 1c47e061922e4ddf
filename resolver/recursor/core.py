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

import asyncio
import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.NSEC3 import NSEC3

from resolver.cache.dnscache import MAX_NEGATIVE_TTL_S, MAX_TTL_S, DnsCache, Rank, Security
from resolver.clock import Clock
from resolver.dnssec.denial import bitmap_types
from resolver.model import Request
from resolver.recursor.classify import Classified, Kind, classify, scrub
from resolver.recursor.exchanger import Exchanger, Failure, UpstreamQuery, UpstreamResult

T = dns.rdatatype
IN = dns.rdataclass.IN

MAX_REFERRALS = 30  # delegations followed in one lookup
MAX_CNAME_CHAIN = 12  # CNAME/DNAME hops per client query
MAX_SUBQUERY_DEPTH = 6  # nested nameserver-address resolutions
MAX_UPSTREAM_QUERIES = 96  # sends per client query, all sub-queries included (NXNSAttack)
MAX_NS_LOOKUPS_PER_CUT = 4  # glue-less nameserver names resolved per delegation
MAX_KEPT_EXTRAS = 10_000  # answers whose extras are kept (keep_extras), least recent dropped
# QNAME minimisation schedule, Unbound's (iterator.h): the first MINIMISE_ONE_LAB steps
# reveal one label each; names with more than MAX_MINIMISE_COUNT labels then reveal several
# at a time, so that at most MAX_MINIMISE_COUNT minimised queries are sent per zone walk.
MAX_MINIMISE_COUNT = 10
MINIMISE_ONE_LAB = 4
MINIMISE_MULTIPLE_LABS = MAX_MINIMISE_COUNT - MINIMISE_ONE_LAB
TOTAL_DEADLINE = 12.0  # seconds per client query
PRIME_RETRY = 60.0  # seconds on the hints alone after a failed priming (RFC 8109 §3)


_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
LAME_TTL = 900.0  # seconds an address stays lame for a zone (Unbound's infra-host-ttl)


@dataclass(frozen=True)
class ConfiguredZone:
    """A stub or forward zone: its name, its servers' addresses and names, ``first``."""

    name: dns.name.Name
    forward: bool  # a forward zone (RD=1 to its servers), else a stub zone
    addresses: tuple[str, ...] = ()
    hosts: tuple[dns.name.Name, ...] = ()
    first: bool = False  # stub-first / forward-first


@dataclass
class RecursorConfig:
    qname_minimisation: bool = True
    # The type of the minimised queries: A as RFC 9156 recommends and Unbound does, or NS as
    # RFC 7816 had it and Knot Resolver does (a cut then shows as a referral or NS answer,
    # a name without one as NODATA).
    qmin_qtype: int = 1  # A
    dnssec: bool = True  # ask with DO and keep signatures (validation is its own layer)
    # Which upstream addresses may be used.  The lab is IPv4 on 127/8, hence the defaults;
    # Deckard scenarios set these from their do-ip4/do-ip6/do-not-query-localhost keys.
    do_ip4: bool = True
    do_ip6: bool = False
    do_not_query_localhost: bool = False
    harden_glue: bool = True  # off: keep out-of-zone glue for the NS names of a referral
    # Unbound's iter-scrub-promiscuous (yes by default from Unbound 1.24.1, CVE-2025-11411):
    # an NS set in the authority section of a response that is not a referral (an answer,
    # a NODATA with its SOA, an NXDOMAIN) is dropped with its glue, so no answer can
    # replace the zone's delegation.  Off, as the reference Unbound 1.17 has it: the
    # zone's own NS set in its answers then replaces the parent's (RFC 2181 §5.4.1).
    scrub_promiscuous: bool = False
    # RFC 8109 priming: before the first iteration from the root hints (and whenever the
    # primed root NS set has expired) ask a hint for ". NS" and cache the answer's NS set and
    # addresses, which then replace the hints.  Off here (tests and Deckard scenarios count
    # upstream queries); the candidate's ResolverConfig turns it on.
    prime: bool = False
    forwarders: tuple[str, ...] = ()  # forward every question (RD=1) here instead of iterating
    # Names of more forwarders (Unbound's forward-host): their addresses, looked up (through
    # the forwarders) before the first forwarded question and kept in the cache, join
    # ``forwarders`` as further servers to try.
    forward_hosts: tuple[dns.name.Name, ...] = ()
    # Zones below the root with configured servers (Unbound's stub-zone and forward-zone
    # clauses): a stub zone's servers are its delegation, however the parent delegates it
    # (a cached delegation below it still wins); a forward zone's questions go to its
    # servers with RD=1, below any cached delegation; the deepest configured zone over a
    # name decides.  ``first``: when they fail, resolve as if the zone were not configured.
    zones: tuple[ConfiguredZone, ...] = ()
    # Unbound's harden-referral-path: after a referral, the new zone's own servers are asked
    # for its NS RRset (once per zone and client query), whose authoritative answer then
    # replaces the parent's delegation in the cache (RFC 2181 §5.4.1 ranks it higher): a
    # delegation is what the zone itself says, not only what the referral said.
    harden_referral_path: bool = False
    # Unbound's prefetch: an answer served from the cache in the last tenth of the TTL it
    # was stored with is fetched again at once (the client still gets the cached one), so
    # popular names do not expire from the cache.
    prefetch: bool = False
    # Bounds on the TTLs of what is cached and answered (Unbound's cache-min-ttl,
    # cache-max-ttl, cache-max-negative-ttl, with Unbound's defaults).
    cache_min_ttl: int = 0
    cache_max_ttl: int = MAX_TTL_S
    cache_max_negative_ttl: int = MAX_NEGATIVE_TTL_S
    # Keep what the server sent beside a positive answer for answers from the cache too
    # (for non-minimal responses; off where replies are minimal, to spare the work).
    keep_extras: bool = False
    # Unbound's scrubber: an answer's CNAME chain is cut after the first CNAME (or DNAME and
    # its CNAME) and the target asked again, since only the alias is necessarily
    # authoritative (RFC 2181 §5.4.1).  Off by default (Knot Resolver follows a chain that
    # stays inside the server's zone); the testbound dialect turns it on.
    cut_cname_chains: bool = False
    # Unbound hides the question's type at the full name too (iterator.c,
    # processQueryTargets: minimising stops before the last label only for qtype A or DS):
    # the full name is first asked with qmin_qtype, then with the real type.  Off by
    # default (RFC 9156 §3 asks the real type at the full name, as Knot Resolver does).
    qmin_hide_qtype: bool = False
    # Unbound's qname-minimisation-strict: the full name is never sent in place of a
    # minimised query that failed, and an NXDOMAIN to a minimised query is the answer
    # everywhere (RFC 8020), not only where DNSSEC is expected.
    qmin_strict: bool = False

    def usable(self, address: str, configured: bool = False) -> bool:
        """Whether an upstream server at ``address`` may be asked.

        ``do_not_query_localhost`` keeps the DNS from steering us to loopback servers; an
        address the operator configured (a root hint) is trusted whatever it is.
        """
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.is_unspecified or ip.is_multicast or ip == _BROADCAST or ip in _THIS_NETWORK:
            # not a unicast destination (RFC 6890: 0.0.0.0/8 and :: are "this host",
            # 255.255.255.255 is limited broadcast): no server can be reached there
            return False
        if self.do_not_query_localhost and ip.is_loopback and not configured:
            return False
        return self.do_ip4 if ip.version == 4 else self.do_ip6


@dataclass
class Budget:
    queries_left: int
    deadline: float
    in_progress: set[tuple[dns.name.Name, int]] = field(default_factory=set)
    sent: int = 0
    primed: bool = False  # the root hints were asked for the root's NS set
    # Servers not to ask for the client's question itself (depth 0): they gave data that
    # failed validation (Unbound's blacklist on a validation retry).
    avoid: frozenset[str] = frozenset()
    # Servers whose responses the answer was taken from (depth 0).
    origins: set[str] = field(default_factory=set)
    # Glue seen in referrals during this client query, kept apart from the cache (where the
    # child's own answer replaces it): the parent's addresses are a last resort when the
    # child's are broken (Unbound's "parent-side" addresses).
    parent_glue: dict[dns.name.Name, list[str]] = field(default_factory=dict)
    # Nameserver address lookups that gave no address during this client query: not made
    # again (Unbound marks a target it fetched in the delegation point and does not fetch
    # it twice; a CNAME learnt later must not send the same lookup round again).
    failed_lookups: set[tuple[dns.name.Name, int]] = field(default_factory=set)
    # configured zones that failed with ``first`` set: resolved as if not configured
    unconfigured: set[dns.name.Name] = field(default_factory=set)
    ns_checked: set[dns.name.Name] = field(default_factory=set)  # harden_referral_path

    def spend(self, n: int) -> None:
        self.sent += n
        self.queries_left -= n

    def remember_glue(self, glue: Sequence[dns.rrset.RRset]) -> None:
        for rrset in glue:
            addrs = self.parent_glue.setdefault(rrset.name, [])
            addrs.extend(rd.address for rd in rrset if rd.address not in addrs)


@dataclass
class Resolution:
    """What the recursor found for a client question."""

    rcode: int
    answer: list[dns.rrset.RRset] = field(default_factory=list)  # chain order; RRSIGs follow
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    upstream_queries: int = 0
    reason: str = ""
    # The upstream servers whose responses the answer (each step of the chain) came from;
    # empty when it all came from the cache.  The validator avoids them on a retry.
    origins: frozenset[str] = field(default=frozenset(), kw_only=True)
    # What the server of a fresh positive answer sent beside it: its zone's NS RRset (in
    # the authority section) and their addresses (additional), with signatures; a server
    # configured for non-minimal responses copies them into its reply (Unbound's
    # minimal-responses: no).  Empty for negative answers and answers from the cache.
    extra_authority: list[dns.rrset.RRset] = field(default_factory=list, kw_only=True)
    extra_additional: list[dns.rrset.RRset] = field(default_factory=list, kw_only=True)


@dataclass
class _Step:
    """One name's worth of lookup: its records, and where the chain goes next."""

    rcode: int
    records: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    target: dns.name.Name | None = None  # continue the chain here
    reason: str = ""
    extra_authority: list[dns.rrset.RRset] = field(default_factory=list)
    extra_additional: list[dns.rrset.RRset] = field(default_factory=list)
    prefetch: bool = False  # from the cache, in the last tenth of its TTL (config.prefetch)


class ResolutionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Recursor:
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
        self.config = config or RecursorConfig()
        self.root_servers = tuple(addr for _, addr in root_hints)
        self._extras: OrderedDict[
            tuple[dns.name.Name, int],
            tuple[list[dns.rrset.RRset], list[dns.rrset.RRset], float],
        ] = OrderedDict()
        # Is a zone known to be signed (trust anchor, secure or bogus keys)?  Given by whoever
        # validates (resolver.dnssec.chain.ZoneKeys.is_signed); None without validation.
        # Used to accept a minimised query's NXDOMAIN as final and to spot DNSSEC-lame servers.
        self.signed_zone_hint = signed_zone_hint
        self._prime_after = float("-inf")  # no priming before this time (after a failure)
        self._priming: asyncio.Future[None] | None = None  # the priming in flight
        self.primings = 0  # priming queries that succeeded
        if not self.root_servers:
            raise ValueError("root hints: at least one root server address is needed")

    async def resolve(
        self, request: Request, exchanger: Exchanger, avoid: frozenset[str] = frozenset()
    ) -> Resolution:
        """Resolve ``request``; ``avoid``: servers not to ask for it unless nothing else is
        left (then the lookup fails rather than ask them again)."""
        budget = Budget(MAX_UPSTREAM_QUERIES, self.clock.monotonic() + TOTAL_DEADLINE,
                        avoid=avoid)
        try:
            res = await self._resolve(request.qname, request.qtype, exchanger, budget, 0)
        except ResolutionFailed as e:
            res = Resolution(dns.rcode.SERVFAIL, reason=e.reason)
        res.upstream_queries = budget.sent
        res.origins = frozenset(budget.origins)
        return res

    # -- the chain --------------------------------------------------------------------------

    async def _resolve(
        self, qname: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> Resolution:
        answer: list[dns.rrset.RRset] = []
        proofs: list[dns.rrset.RRset] = []  # wildcard proofs of the chain's earlier steps
        name = qname
        seen = {qname}
        for _ in range(MAX_CNAME_CHAIN + 1):
            step = await self._lookup(name, qtype, exchanger, budget, depth)
            answer.extend(step.records)
            if step.target is None:
                authority = step.authority + [r for r in proofs if r not in step.authority]
                if self.config.keep_extras and step.rcode == dns.rcode.NOERROR and step.records:
                    self._remember_extras(name, qtype, step)
                return Resolution(step.rcode, answer, authority, reason=step.reason,
                                  extra_authority=step.extra_authority,
                                  extra_additional=step.extra_additional)
            proofs.extend(step.authority)
            if step.target in seen:
                return Resolution(dns.rcode.SERVFAIL, reason=f"CNAME loop at {step.target}")
            seen.add(step.target)
            name = step.target
        return Resolution(dns.rcode.SERVFAIL, reason="CNAME chain too long")

    async def _lookup(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> _Step:
        cached = self._from_cache(name, qtype)
        if cached is not None:
            if cached.prefetch and self.config.prefetch:
                try:  # the refresh's outcome goes to the cache; the client gets the old one
                    await self._iterate(name, qtype, exchanger, budget, depth)
                except ResolutionFailed:
                    pass
            return cached
        return await self._iterate(name, qtype, exchanger, budget, depth)

    def _from_cache(self, name: dns.name.Name, qtype: int) -> _Step | None:
        now = self.clock.monotonic()
        hit = self.cache.rrsets.get(name, qtype, now)
        if hit is not None:
            return _Step(dns.rcode.NOERROR, _with_sigs(hit.rrset, hit.sigs), list(hit.proofs),
                         prefetch=hit.expires - now <= hit.stored_ttl / 10)
        if qtype not in (T.CNAME, T.DS):
            # (not for DS, which is answered on the parent side of the name: a CNAME there
            # does not redirect it; Unbound's dns_cache_lookup skips the CNAME for DS too)
            cname = self.cache.rrsets.get(name, T.CNAME, now)
            if cname is not None:
                return _Step(
                    dns.rcode.NOERROR,
                    _with_sigs(cname.rrset, cname.sigs),
                    target=cname.rrset[0].target,
                )
        dname = self._cached_dname(name, qtype, now)
        if dname is not None:
            return dname
        neg = self.cache.negative.get(name, qtype, now)
        if neg is not None and neg.soa is not None:
            # (a referral's DS denial has no SOA: it is the validator's, not an answer)
            rcode = dns.rcode.NXDOMAIN if neg.kind == "nxdomain" else dns.rcode.NOERROR
            return _Step(rcode, [], [neg.soa, *neg.proofs])
        return None

    def _cached_dname(self, name: dns.name.Name, qtype: int, now: float) -> _Step | None:
        """A cached DNAME above ``name`` answers it: the DNAME and the CNAME it implies
        (which ends the chain when the question is for the CNAME itself)."""
        n = name
        while n != dns.name.root:
            n = n.parent()
            hit = self.cache.rrsets.get(n, T.DNAME, now)
            if hit is not None and self.config.cut_cname_chains and (
                hit.security is not Security.SECURE
            ):
                # Unbound's dns_cache_lookup synthesises only from a secure DNAME ("the
                # first DNAME ... needs checking before it can be used from the cache",
                # iter_scrub.c): an unvalidated one sends the question upstream again
                return None
            if hit is not None:
                try:
                    target = name.relativize(n).derelativize(hit.rrset[0].target)
                except dns.name.NameTooLong:
                    return _Step(dns.rcode.YXDOMAIN, _with_sigs(hit.rrset, hit.sigs))
                synth = dns.rrset.from_text(name, hit.rrset.ttl, IN, T.CNAME, target.to_text())
                return _Step(dns.rcode.NOERROR, [*_with_sigs(hit.rrset, hit.sigs), synth],
                             target=None if qtype == T.CNAME else target)
        return None

    # -- iteration --------------------------------------------------------------------------

    def cached(self, request: Request) -> Resolution | None:
        """The answer to ``request`` from the cache alone (its CNAME chain followed in the
        cache), or None when some of it is not cached; nothing is sent, nothing changes."""
        answer: list[dns.rrset.RRset] = []
        name, seen = request.qname, {request.qname}
        for _ in range(MAX_CNAME_CHAIN + 1):
            step = self._from_cache(name, request.qtype)
            if step is None:
                return None
            answer.extend(step.records)
            if step.target is None:
                if self.config.keep_extras and step.rcode == dns.rcode.NOERROR and step.records:
                    self._remember_extras(name, request.qtype, step)
                return Resolution(step.rcode, answer, step.authority,
                                  extra_authority=step.extra_authority,
                                  extra_additional=step.extra_additional)
            if step.target in seen:
                return None
            seen.add(step.target)
            name = step.target
        return None

    def cached_referral(
        self, name: dns.name.Name, qtype: int
    ) -> tuple[list[dns.rrset.RRset], list[dns.rrset.RRset]] | None:
        """The closest delegation the cache holds for ``name``: its NS RRset and its
        servers' cached addresses (RFC 1034 §4.3.1: what a server that does not recurse
        answers with, "a referral to name servers closer to the answer"); None when no
        NS RRset is cached."""
        now = self.clock.monotonic()
        n = name.parent() if qtype == T.DS and name != dns.name.root else name
        while True:
            ns = self.cache.rrsets.get(n, T.NS, now)
            if ns is not None:
                break
            if n == dns.name.root:
                return None
            n = n.parent()
        additional = [
            hit.rrset for rd in ns.rrset for rdtype in self._address_types()
            if (hit := self.cache.rrsets.get(rd.target, rdtype, now)) is not None
        ]
        return [ns.rrset], additional

    def _configured(self, name: dns.name.Name,
                    ignore: frozenset[dns.name.Name] | set[dns.name.Name] = frozenset(),
                    ) -> ConfiguredZone | None:
        """The deepest configured stub or forward zone at or above ``name``."""
        best: ConfiguredZone | None = None
        for z in self.config.zones:
            if z.name not in ignore and name.is_subdomain(z.name) and (
                    best is None or len(z.name) > len(best.name)):
                best = z
        return best

    def _closest_cut(self, name: dns.name.Name,
                     ignore: frozenset[dns.name.Name] | set[dns.name.Name] = frozenset(),
                     ) -> tuple[dns.name.Name, list[dns.name.Name]]:
        """The closest delegation known for ``name``: a cached NS RRset, or a configured
        stub zone (no NS names: its servers are configured), whichever is deeper; a stub
        zone wins over an NS RRset cached at the same name."""
        now = self.clock.monotonic()
        n = name
        while True:
            stub = self._configured(n, ignore)
            if stub is not None and stub.name == n and not stub.forward:
                return n, []
            ns = self.cache.rrsets.get(n, T.NS, now)
            if ns is not None:
                return n, [rd.target for rd in ns.rrset]
            if n == dns.name.root:
                return dns.name.root, []
            n = n.parent()

    def _address_types(self) -> list[int]:
        types = [int(T.A)] if self.config.do_ip4 else []
        return types + [int(T.AAAA)] if self.config.do_ip6 else types

    def _cached_addresses(self, names: Sequence[dns.name.Name]) -> list[str]:
        now = self.clock.monotonic()
        out: list[str] = []
        for n in names:
            for rdtype in self._address_types():
                hit = self.cache.rrsets.get(n, rdtype, now)
                if hit is not None:
                    out.extend(rd.address for rd in hit.rrset if self.config.usable(rd.address))
        return out

    def _root_addresses(self, exclude: frozenset[str] | set[str]) -> list[str]:
        usable = self.config.usable
        return [a for a in self.root_servers
                if usable(a, configured=True) and a not in exclude]

    async def _addresses(
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
        if zone == dns.name.root and not ns_names:
            return self._root_addresses(exclude)
        if not ns_names:
            stub = self._configured(zone, budget.unconfigured)
            if stub is not None and stub.name == zone and not stub.forward:
                found = [a for a in await self._servers_of(stub, exchanger, budget, depth)
                         if a not in exclude]
                if not found:
                    raise ResolutionFailed(f"no usable server of the stub zone {zone}")
                return found
        addrs = [a for a in self._cached_addresses(ns_names) if a not in exclude]
        if addrs:
            return addrs
        if depth >= MAX_SUBQUERY_DEPTH:
            raise ResolutionFailed(f"nameserver lookups nested too deep under {zone}")
        looked = 0
        # Every nameserver inside the zone and none with an address: the delegation is
        # "useless" (Unbound's iter_dp_is_useless); their addresses are looked up all the
        # same, which (the cut itself being of no help) asks the parent's servers.
        useless = all(ns.is_subdomain(zone) for ns in ns_names)
        for ns in ns_names:
            if self._cached_addresses([ns]):
                continue  # known, and every address of it has failed already
            if looked >= MAX_NS_LOOKUPS_PER_CUT:
                break
            for rdtype in self._address_types():
                if not useless and ns.is_subdomain(zone) and self._from_cache(ns, rdtype) is None:
                    # Needs glue we do not have: resolving it would ask the zone itself.
                    # (A cached CNAME for the name is followed, though.)
                    continue
                key = (ns, rdtype)
                if key in budget.in_progress or key in budget.failed_lookups:
                    continue  # a cycle (being resolved up the stack), or tried in vain
                looked += 1
                budget.in_progress.add(key)
                try:
                    sub: Resolution | None = await self._resolve(
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
                    found = self._cached_addresses([ns])
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
        pside = [a for a in self._parent_side_addresses(ns_names, budget) if a not in exclude]
        if pside:
            return pside
        if zone == dns.name.root:
            roots = self._root_addresses(exclude)
            if roots:
                return roots
        raise ResolutionFailed(f"no address for any nameserver of {zone}")

    def _useless_for(self, name: dns.name.Name, qtype: int, c: Classified) -> bool:
        """Is the referral ``c`` no help in finding the address ``name``/``qtype``: the name
        is one of the cut's nameservers, inside the cut, and no address came for any?"""
        assert c.cut is not None and c.ns is not None
        targets = [rd.target for rd in c.ns]
        return (
            qtype in self._address_types()
            and name in targets
            and name.is_subdomain(c.cut)
            and not self._cached_addresses(targets)
        )

    def _parent_side_addresses(
        self, names: Sequence[dns.name.Name], budget: Budget
    ) -> list[str]:
        now = self.clock.monotonic()
        out: list[str] = []
        for n in names:
            for a in budget.parent_glue.get(n, []):
                if a not in out and self.config.usable(a):
                    out.append(a)
            for rdtype in self._address_types():
                hit = self.cache.parent_side.get(n, rdtype, now)
                if hit is not None:
                    out.extend(rd.address for rd in hit.rrset
                               if rd.address not in out and self.config.usable(rd.address))
        return out

    async def _other_addresses(
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
            found = await self._addresses(zone, ns_names, exchanger, budget, depth, failed)
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
                await self._prime(exchanger, budget)
            _, primed = self._closest_cut(dns.name.root)
            if not primed:
                return []
            try:
                return await self._addresses(zone, primed, exchanger, budget, depth, failed)
            except ResolutionFailed:
                return []
        hit = self.cache.parent_side.get(zone, T.NS, self.clock.monotonic())
        extra = [] if hit is None else [rd.target for rd in hit.rrset
                                        if rd.target not in ns_names]
        if not extra:
            return []
        try:
            return await self._addresses(zone, extra, exchanger, budget, depth, failed)
        except ResolutionFailed:
            return []

    async def _refetch(
        self, zone: dns.name.Name, exchanger: Exchanger, budget: Budget, depth: int,
        avoid: frozenset[str],
    ) -> tuple[dns.name.Name, list[dns.name.Name], list[str]]:
        """Every server of ``zone``'s cached delegation failed or is lame: forget that NS
        set and start again from the parent's cut, whose referral gives the delegation as
        it is now (the zone may have moved: a domain sale, a renumbered operator).  Done
        once per lookup; Knot Resolver likewise falls back to the parent cut when no
        nameserver of a cut is left."""
        self.cache.rrsets.pop(zone, T.NS)
        parent, names = self._closest_cut(zone.parent(), budget.unconfigured)
        return parent, names, await self._addresses(parent, names, exchanger, budget, depth,
                                                    avoid)

    async def _servers_of(self, zone: ConfiguredZone, exchanger: Exchanger, budget: Budget,
                          depth: int) -> tuple[str, ...]:
        """A configured zone's server addresses, then those of its hosts: cached, or looked
        up (as any name is, so through the forwarders for the root forward zone) once per
        client query; a lookup already under way up the stack is not started again."""
        servers = list(zone.addresses)
        for host in zone.hosts:
            for rdtype in self._address_types():
                hit = self.cache.rrsets.get(host, rdtype, self.clock.monotonic())
                found = [] if hit is None else [rd.address for rd in hit.rrset]
                key = (host, rdtype)
                if hit is None and key not in budget.in_progress \
                        and key not in budget.failed_lookups and depth < MAX_SUBQUERY_DEPTH:
                    budget.in_progress.add(key)
                    try:
                        sub = await self._resolve(host, rdtype, exchanger, budget, depth + 1)
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

    def _root_forward(self) -> ConfiguredZone | None:
        if not (self.config.forwarders or self.config.forward_hosts):
            return None
        return ConfiguredZone(dns.name.root, True, self.config.forwarders,
                              self.config.forward_hosts)

    async def _forward(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget,
        depth: int = 0, zone: ConfiguredZone | None = None,
    ) -> _Step:
        """Ask a forward zone's servers (RD=1; the root forward zone by default) and take
        their answer as it is."""
        if budget.queries_left <= 0:
            raise ResolutionFailed("upstream query budget spent")
        zone = zone or self._root_forward()
        assert zone is not None
        servers = await self._servers_of(zone, exchanger, budget, depth)
        if not servers:
            raise ResolutionFailed(f"no forwarder address for {zone.name}")
        result = await exchanger.exchange(
            UpstreamQuery(name, qtype, zone.name, servers,
                          dnssec=self.config.dnssec, rd=True)
        )
        budget.spend(max(1, result.attempts))
        if result.response is None:
            failure = result.failure.value if result.failure else "no answer"
            raise ResolutionFailed(f"forwarders: {failure}")
        response = result.response
        away = scrub(response, zone.name, self.config.harden_glue,
                     self.config.scrub_promiscuous)
        c = classify(response, name, qtype, zone.name, MAX_CNAME_CHAIN, away,
                     recursion_desired=True)
        if c.kind in (Kind.REFERRAL, Kind.LAME):
            raise ResolutionFailed(f"forwarders gave no answer for {name} ({c.kind.value})")
        if c.kind in (Kind.ANSWER, Kind.CNAME) and not c.proofs:
            c.proofs = _denial_records(response)  # as when iterating: a wildcard's proof
        return self._with_extras(self._conclude(c, name, qtype, response.flags), c, response)

    async def _iterate(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget, depth: int
    ) -> _Step:
        if self.config.forwarders or self.config.forward_hosts:
            return await self._forward(name, qtype, exchanger, budget, depth)
        # DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): start above the name.
        above = name.parent() if qtype == T.DS and name != dns.name.root else name
        configured = self._configured(above, budget.unconfigured)
        if configured is not None:
            try:
                if configured.forward:
                    return await self._forward(name, qtype, exchanger, budget, depth,
                                               configured)
                return await self._iterate_from(name, qtype, exchanger, budget, depth, above)
            except ResolutionFailed:
                if not configured.first:
                    raise
                # stub-first / forward-first: resolve as if the zone were not configured
                budget.unconfigured.add(configured.name)
        return await self._iterate_from(name, qtype, exchanger, budget, depth, above)

    async def _iterate_from(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget,
        depth: int, above: dns.name.Name,
    ) -> _Step:
        zone, ns_names = self._closest_cut(above, budget.unconfigured)
        avoid = budget.avoid if depth == 0 else frozenset()
        if zone == dns.name.root and not ns_names and self._prime_due():
            await self._prime(exchanger, budget)
            zone, ns_names = self._closest_cut(zone, budget.unconfigured)
        while True:
            try:
                servers = await self._addresses(zone, ns_names, exchanger, budget, depth, avoid)
                break
            except ResolutionFailed:
                if zone == dns.name.root or (avoid and self._cached_addresses(ns_names)):
                    raise  # (every known server of the cut is avoided: that is final)
                # No usable address for this cut (its glue expired, say): start from the
                # parent's cut, whose referral brings the delegation and glue afresh.
                if not ns_names:
                    raise  # a stub zone's configured servers: nothing above them to ask
                zone, ns_names = self._closest_cut(zone.parent(), budget.unconfigured)
        # QNAME minimisation as Unbound does it (RFC 9156; iterator.c processQueryTargets):
        # ``qout`` is the name last asked with qtype A (it starts at the zone cut), each step
        # reveals labels by minimise_labels(), and the full question is asked once the name
        # is reached.  (Unbound, for qtypes other than A and DS, first asks the full name
        # with qtype A too: config.qmin_hide_qtype; Deckard's scenarios expect the real
        # qtype there, as Knot Resolver and RFC 9156 §3 do.)
        minimise = self.config.qname_minimisation
        qmin_type = self.config.qmin_qtype
        qout = len(zone)
        count = 0
        failed: set[str] = set()  # servers of the current zone that gave no usable answer
        # the first recursion-lame response for the question itself (not a probe)
        reclame: tuple[Classified, int, str | None] | None = None
        cached_cut = zone != dns.name.root and bool(ns_names)  # an NS set from the cache
        refetched: tuple[dns.name.Name, frozenset[str]] | None = None
        exhausted = f"no usable server for {zone}"  # why, when no server is left
        for _ in range(MAX_REFERRALS * 2 + MAX_MINIMISE_COUNT + len(name)):
            if budget.queries_left <= 0:
                raise ResolutionFailed("upstream query budget spent")
            if self.clock.monotonic() > budget.deadline:
                raise ResolutionFailed("deadline passed")
            if not servers:  # every server of the zone failed or is lame
                if not cached_cut or refetched is not None \
                        or self.cache.parent_refetched(zone, self.clock.monotonic()):
                    # (once per lookup, and not while the parent's NS set fetched again
                    # for an earlier lookup stands: Unbound's processLastResort goes up
                    # only when no parent-side NS set is cached)
                    raise ResolutionFailed(exhausted)
                refetched = (zone, frozenset(failed))
                zone, ns_names, servers = await self._refetch(zone, exchanger, budget, depth,
                                                              avoid)
                cached_cut, failed, reclame = False, set(), None
                qout, count, minimise = len(zone), 0, self.config.qname_minimisation
            probe = False
            if minimise:
                count += 1
                labdiff, keep = minimise_labels(len(name), qout, count)
                hide = self.config.qmin_hide_qtype and qtype not in (T.A, T.DS, qmin_type)
                if labdiff < 1 or (labdiff < 2 and not hide):
                    minimise = False  # stop minimising: resolve "as usual"
                else:
                    qout = keep
                    probe = True
                    if self._known_no_cut(name.split(keep)[1]):
                        continue  # cached as existing without a cut: reveal more
            if probe:
                qn, qt = name.split(qout)[1], qmin_type
            else:
                qn, qt = name, qtype
            result = await exchanger.exchange(
                UpstreamQuery(qn, qt, zone, self._not_lame(zone, servers),
                              dnssec=self.config.dnssec, minimised=probe)
            )
            budget.spend(max(1, result.attempts))
            if not probe:
                self._mark_refusers(result, zone)
            if result.response is None:
                if probe and not self.config.qmin_strict:
                    # Unbound's relaxed mode: a minimised query that fails (error rcode,
                    # timeouts) stops minimisation for this resolution; ask the full name.
                    # (Strict: the full name is never sent; the failure is the servers'.)
                    minimise = False
                    continue
                # Only the addresses that were tried and failed count as failed: with many
                # addresses one exchange's attempts may not reach them all.
                tried = {addr for addr, _ in result.failures}
                failed.update(tried or servers)
                servers = [s for s in servers if s not in failed]
                if not servers:
                    servers = await self._other_addresses(zone, ns_names, exchanger, budget,
                                                          depth, failed | avoid)
                if servers:
                    continue  # addresses not tried yet (or newly looked up)
                failure = result.failure.value if result.failure else "no answer"
                exhausted = f"{zone} servers: {failure}"
                continue
            response = result.response
            away = scrub(response, zone, self.config.harden_glue,
                         self.config.scrub_promiscuous)
            c = classify(response, qn, qt, zone, MAX_CNAME_CHAIN, away,
                         cut_chains=self.config.cut_cname_chains)
            if probe and c.fallback is not None:
                # A minimised probe only learns where the cuts are; a recursion-lame
                # server's view of that is taken (the question itself is judged).
                c = c.fallback
            elif not probe and self._dnssec_lame(c, response, zone):
                # DNSSEC-lame (Unbound's dnsseclame, iterator.c processQueryResponse): a
                # server of a signed zone answered without any signature; another server
                # is asked, and the answer is taken only when every one does the same
                # (the validator then judges it).
                c = Classified(Kind.LAME, why=f"dnssec-lame: no RRSIG from a server of {zone}, "
                               "which is signed", fallback=c)
            if c.kind is Kind.REFERRAL and qt == T.DS and c.cut == qn:
                # A DS question answered with the referral to that very zone: the DS RRset
                # the referral carries is the parent's own data, the answer (RFC 4035
                # §3.1.4.1: DS is served from the parent side of the cut).
                ds = _ds_of_referral(response, qn)
                if ds is not None:
                    response = ds
                    c = classify(ds, qn, qt, zone, MAX_CNAME_CHAIN, False,
                                 cut_chains=self.config.cut_cname_chains)
            if c.kind is Kind.REFERRAL:
                assert c.cut is not None and c.ns is not None
                self._cache_referral(c)
                budget.remember_glue(c.glue)
                if probe and self._useless_for(name, qtype, c):
                    # The cut's only way in is the address asked for here (Unbound's
                    # iter_dp_is_useless): stay with this zone's servers, full question.
                    minimise = False
                    continue
                zone = c.cut
                if not (probe and qn.is_subdomain(zone)):
                    # Unbound (INIT_MINIMISE_STATE) keeps the minimised name when it is
                    # under the new cut; else it starts again from the cut.
                    qout, count = len(zone), 0
                ns_names = [rd.target for rd in c.ns]
                failed = set()
                reclame = None
                cached_cut = False
                # (after a re-fetch, the servers that failed for this zone stay out)
                gone: frozenset[str] = frozenset()
                if refetched is not None and refetched[0] == zone:
                    gone = refetched[1]
                    self.cache.mark_parent_refetched(zone, self.clock.monotonic(),
                                                     c.ns.ttl)
                servers = await self._addresses(zone, ns_names, exchanger, budget, depth,
                                                avoid | gone)
                if self.config.harden_referral_path:
                    await self._check_ns(zone, servers, exchanger, budget)
                continue
            if c.kind is Kind.LAME:
                servers = [s for s in servers if s != result.server]
                if result.server is not None:
                    failed.add(result.server)
                    # Lameness is a property of one address for one zone (RFC 4697 §2.1;
                    # Unbound's infra cache keys it by address and zone): that address is
                    # not asked for this zone again while others are left, whatever name
                    # it is listed under.
                    self.cache.infra.mark_lame(result.server, zone, self.clock.monotonic(),
                                               LAME_TTL)
                if c.fallback is not None and reclame is None and not probe:
                    reclame = (c.fallback, response.flags, result.server)
                if not servers:
                    servers = await self._other_addresses(zone, ns_names, exchanger, budget,
                                                          depth, failed | avoid)
                if not servers:
                    if reclame is not None and not probe:
                        # Every server is recursion-lame: take what one of them said
                        # (Unbound does, rather than fail: iter_reclame_two).
                        c, flags, server = reclame
                        if depth == 0 and server is not None:
                            budget.origins.add(server)
                        return self._conclude(c, name, qtype, flags)
                    exhausted = f"every server of {zone} is lame ({c.why})"
                continue
            if response.flags & dns.flags.AA:
                self._cache_child_ns(response, zone)
            if probe:
                if c.kind is Kind.NXDOMAIN:
                    # Unbound's relaxed mode: stop minimising.  In a zone where DNSSEC is
                    # expected the NXDOMAIN is the answer (RFC 8020: nothing exists below;
                    # signed zones do not deny empty non-terminals); elsewhere the full
                    # name is asked.
                    minimise = False
                    if self._dnssec_expected(zone) or self.config.qmin_strict:
                        if depth == 0 and result.server is not None:
                            budget.origins.add(result.server)
                        return self._conclude(c, qn, qt, response.flags)
                    continue
                self._remember_no_cut(qn, c)
                continue
            if c.kind in (Kind.ANSWER, Kind.CNAME) and not c.proofs:
                c.proofs = _denial_records(response)  # a wildcard answer's proof, if any
            if depth == 0 and result.server is not None:
                budget.origins.add(result.server)
            return self._with_extras(self._conclude(c, name, qtype, response.flags), c, response)
        raise ResolutionFailed(f"too many referrals resolving {name}")

    # -- priming (RFC 8109) ----------------------------------------------------------------

    def _prime_due(self) -> bool:
        return self.config.prime and not (self.config.forwarders or self.config.forward_hosts) \
            and self.clock.monotonic() >= self._prime_after

    async def _prime(self, exchanger: Exchanger, budget: Budget) -> None:
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
        servers = self._root_addresses(frozenset())
        if not servers or budget.queries_left <= 0:
            return False
        result = await exchanger.exchange(
            UpstreamQuery(dns.name.root, T.NS, dns.name.root, tuple(servers),
                          dnssec=self.config.dnssec))
        budget.spend(max(1, result.attempts))
        response = result.response
        if response is None or response.rcode() != dns.rcode.NOERROR:
            return False
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

    # -- caching ----------------------------------------------------------------------------

    def _dnssec_expected(self, zone: dns.name.Name) -> bool:
        """Does ``zone`` look signed?  Unbound's iter_indicates_dnssec: a trust anchor at the
        zone, a DS for it (the referral's, or one cached), or a validated key set."""
        if self.cache.rrsets.get(zone, T.DS, self.clock.monotonic()) is not None:
            return True
        return self.signed_zone_hint is not None and self.signed_zone_hint(zone)

    def _known_no_cut(self, name: dns.name.Name) -> bool:
        """A minimised name already seen answered (data or NODATA) by its zone's servers."""
        now = self.clock.monotonic()
        qtype = self.config.qmin_qtype
        if self.cache.negative.get(name, qtype, now) is not None:
            return True
        # cached A data says the name exists; cached NS data would say it is a cut
        return qtype != T.NS and self.cache.rrsets.get(name, qtype, now) is not None

    def _remember_no_cut(self, name: dns.name.Name, c: Classified) -> None:
        now = self.clock.monotonic()
        if c.kind is Kind.NODATA and c.soa is not None and not c.chain:
            self.cache.negative.put_nodata(name, self.config.qmin_qtype, c.soa, now,
                                           proofs=tuple(c.proofs))

    def _mark_refusers(self, result: UpstreamResult, zone: dns.name.Name) -> None:
        """A server that refused the question does not serve ``zone``: lame for it (RFC 4697
        §2.1), and not asked for the zone again while it has other servers."""
        now = self.clock.monotonic()
        for addr, failure in result.failures:
            if failure is Failure.REFUSED:
                self.cache.infra.mark_lame(addr, zone, now, LAME_TTL)

    def _dnssec_lame(self, c: Classified, response: dns.message.Message,
                     zone: dns.name.Name) -> bool:
        """Is ``response`` (asked with DO, validation on) an answer from a server of a zone
        known to be signed that carries no RRSIG at all?"""
        if c.kind not in (Kind.ANSWER, Kind.CNAME, Kind.NXDOMAIN, Kind.NODATA):
            return False
        if not self.config.dnssec or self.signed_zone_hint is None:
            return False
        if any(r.rdtype == T.RRSIG for r in (*response.answer, *response.authority)):
            return False
        return self._dnssec_expected(zone)

    def _not_lame(self, zone: dns.name.Name, servers: Sequence[str]) -> tuple[str, ...]:
        """``servers`` without the addresses known lame for ``zone``, unless that is all."""
        now = self.clock.monotonic()
        fine = tuple(s for s in servers if not self.cache.infra.is_lame(s, zone, now))
        return fine or tuple(servers)

    async def _check_ns(self, zone: dns.name.Name, servers: list[str], exchanger: Exchanger,
                        budget: Budget) -> None:
        """harden_referral_path: ask ``zone``'s servers for its NS RRset and keep their
        authoritative answer (Unbound's generate_ns_check); failures change nothing."""
        if zone in budget.ns_checked or not servers or budget.queries_left <= 0:
            return
        budget.ns_checked.add(zone)
        result = await exchanger.exchange(
            UpstreamQuery(zone, T.NS, zone, self._not_lame(zone, servers),
                          dnssec=self.config.dnssec)
        )
        budget.spend(max(1, result.attempts))
        response = result.response
        if response is None or not response.flags & dns.flags.AA \
                or response.rcode() != dns.rcode.NOERROR:
            return
        scrub(response, zone, self.config.harden_glue, self.config.scrub_promiscuous)
        now = self.clock.monotonic()
        for rrset in response.answer:
            if rrset.rdtype == T.NS and rrset.name == zone:
                self.cache.rrsets.put(self._bounded(rrset), Rank.ANSWER_AUTH, now)

    def _cache_child_ns(self, response: dns.message.Message, zone: dns.name.Name) -> None:
        """The zone's own NS set, from the authority section of its authoritative answer.

        RFC 2181 §5.4.1 ranks it above the parent's referral, so it replaces the delegation
        in the cache: the child's servers are the ones asked next (a nameserver the parent
        still lists but the child dropped is not).  The cache does not let a same-ranked
        copy extend its TTL (RRsetCache.put, the ghost-domain rule).
        """
        for rrset in response.authority:
            if rrset.rdtype == T.NS and rrset.name == zone and zone != dns.name.root:
                self.cache.rrsets.put(rrset, Rank.AUTHORITY_AUTH, self.clock.monotonic())

    def _cache_referral(self, c: Classified) -> None:
        now = self.clock.monotonic()
        assert c.ns is not None
        self.cache.rrsets.put(c.ns, Rank.AUTHORITY_NONAUTH, now)
        self.cache.parent_side.put(c.ns, Rank.AUTHORITY_NONAUTH, now)  # see _other_addresses
        if c.ds is not None:
            ds_sigs = c.sigs.get((c.ds.name, T.DS))
            self.cache.rrsets.put(c.ds, Rank.AUTHORITY_AUTH, now, sigs=ds_sigs)
        elif c.proofs and c.cut is not None \
                and self.cache.negative.get(c.cut, T.DS, now) is None:
            # an unsigned delegation from a signed parent: the NSEC/NSEC3 records say so
            self.cache.negative.put_referral_ds_denial(c.cut, c.proofs, now)
        for g in c.glue:
            self.cache.rrsets.put(g, Rank.ADDITIONAL, now)
            # Also kept apart: the child's own answer replaces the glue in the RRset cache,
            # and when the child's addresses are broken the parent's are the last resort
            # (Unbound's parent-side rrsets, iter_lookup_parent_glue_from_cache).
            self.cache.parent_side.put(g, Rank.ADDITIONAL, now)

    def _learn_insecure_cuts(
        self, target: dns.name.Name, proofs: Sequence[dns.rrset.RRset], now: float
    ) -> None:
        """A CNAME answer whose authority carries the NSEC/NSEC3 of an unsigned delegation
        above the CNAME's target (NS in its type map, no DS, no SOA): kept as that cut's DS
        denial, as a referral's would be (Unbound keeps the validated NSEC records of a
        response, its negative cache answers the DS question from them).  The validator
        checks it against the parent's keys when it needs the DS, and drops it if it fails."""
        for cut in insecure_cuts(target, proofs):
            if self.cache.negative.get(cut, T.DS, now) is None:
                self.cache.negative.put_referral_ds_denial(cut, proofs, now)

    def forget_extras(self, name: dns.name.Name, qtype: int) -> None:
        """Drop the extras kept with the answer to (``name``, ``qtype``)."""
        self._extras.pop((name, qtype), None)

    def _remember_extras(self, name: dns.name.Name, qtype: int, step: _Step) -> None:
        """Keep a fresh answer's extras (with when they were stored), or give a cached
        answer the ones kept, with their TTLs lowered by the time since (dropped once
        expired), as Unbound's message cache keeps the whole reply."""
        now = self.clock.monotonic()
        key = (name, qtype)
        if step.extra_authority or step.extra_additional:
            self._extras[key] = (step.extra_authority, step.extra_additional, now)
            self._extras.move_to_end(key)
            while len(self._extras) > MAX_KEPT_EXTRAS:
                self._extras.popitem(last=False)
            return
        kept = self._extras.get(key)
        if kept is None:
            if qtype == T.NS:
                # an NS RRset known from a referral: its servers' cached addresses are the
                # additional data (RFC 1035 §3.3.11 additional section processing)
                targets = [rd.target for r in step.records if r.rdtype == T.NS for rd in r]
                step.extra_additional = [
                    hit.rrset for t in targets for rdtype in self._address_types()
                    if (hit := self.cache.rrsets.get(t, rdtype, now)) is not None
                ]
            return
        authority, additional, stored = kept
        gone = int(now - stored)
        step.extra_authority = _aged(authority, gone)
        step.extra_additional = _aged(additional, gone)

    def _bounded(self, rrset: dns.rrset.RRset) -> dns.rrset.RRset:
        """``rrset`` with its TTL inside [cache_min_ttl, cache_max_ttl] (a copy if it moves)."""
        ttl = max(self.config.cache_min_ttl, min(rrset.ttl, self.config.cache_max_ttl))
        if ttl == rrset.ttl:
            return rrset
        out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
        out.update(rrset)
        out.ttl = ttl
        return out

    def _with_extras(
        self, step: _Step, c: Classified, response: dns.message.Message
    ) -> _Step:
        """``step`` with what the (scrubbed) response had beside a positive answer, or beside
        a NODATA without SOA: the NS RRsets of its authority section and the addresses of
        its additional section, each with its signatures (TTLs bounded as the answer's
        are).  Unbound's reply with minimal-responses: no is the scrubbed upstream message,
        whose authority and additional sections stay with the answer it caches."""
        if not (c.kind is Kind.ANSWER or (c.kind is Kind.NODATA and c.soa is None)):
            return step
        step.extra_authority = [
            self._bounded(r) for r in response.authority
            if r.rdtype == T.NS or (r.rdtype == T.RRSIG and r.covers == T.NS)
        ]
        step.extra_additional = [self._bounded(r) for r in response.additional]
        return step

    def _conclude(self, c: Classified, name: dns.name.Name, qtype: int, flags: int) -> _Step:
        now = self.clock.monotonic()
        c.chain = [self._bounded(r) for r in c.chain]
        c.sigs = {k: self._bounded(r) for k, r in c.sigs.items()}
        rank = Rank.ANSWER_AUTH if flags & dns.flags.AA else Rank.ANSWER_NONAUTH
        records: list[dns.rrset.RRset] = []
        for rrset in c.chain:
            if rrset.rdtype == T.RRSIG:
                # the answer to qtype RRSIG: passed on, never cached (signatures live in
                # the cache only beside the RRset they cover, and these are unverified)
                records.append(rrset)
                continue
            sigs = c.sigs.get((rrset.name, rrset.rdtype))
            if not (rrset.rdtype == T.CNAME and _synthesised(rrset, c.chain)):
                proofs = tuple(c.proofs) if _from_wildcard(rrset, sigs) else ()
                self.cache.rrsets.put(rrset, rank, now, sigs=sigs, proofs=proofs)
            records.extend(_with_sigs(rrset, sigs))
        if c.kind is Kind.ANSWER:
            return _Step(dns.rcode.NOERROR, records, list(c.proofs))
        if c.kind is Kind.YXDOMAIN:
            return _Step(dns.rcode.YXDOMAIN, records)
        if c.kind is Kind.CNAME:
            if c.target is not None and c.proofs:
                self._learn_insecure_cuts(c.target, c.proofs, now)
            return _Step(dns.rcode.NOERROR, records, list(c.proofs), target=c.target)
        # Without an SOA (not cached as negative) the NSEC/NSEC3 proofs still go along:
        # the validator can prove the denial from them alone.
        authority: list[dns.rrset.RRset] = list(c.proofs)
        target = c.target or name
        if c.soa is not None:
            proofs = tuple(c.proofs)
            if c.kind is Kind.NXDOMAIN:
                self.cache.negative.put_nxdomain(target, c.soa, now, proofs=proofs)
            else:
                self.cache.negative.put_nodata(target, qtype, c.soa, now, proofs=proofs)
            # RFC 2308 §3: the SOA of a negative answer carries the negative TTL.
            soa = dns.rrset.RRset(c.soa.name, c.soa.rdclass, c.soa.rdtype)
            soa.update(c.soa)
            soa.ttl = min(c.soa.ttl, c.soa[0].minimum, self.config.cache_max_negative_ttl)
            soa_sigs = [_capped(s, soa.ttl) for s in _sig_list(c, c.soa)]
            authority = [soa, *soa_sigs, *(r for r in c.proofs if r not in soa_sigs
                                           and not _covers_soa(r))]
        rcode = dns.rcode.NXDOMAIN if c.kind is Kind.NXDOMAIN else dns.rcode.NOERROR
        return _Step(rcode, records, authority)


def _from_wildcard(rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None) -> bool:
    """Signed data synthesised from a wildcard: its RRSIG has fewer labels than its owner."""
    if sigs is None or not len(sigs):
        return False
    owner_labels = len(rrset.name) - 1  # without the root
    return any(sig.labels < owner_labels for sig in sigs)


def _covers_soa(rrset: dns.rrset.RRset) -> bool:
    return rrset.rdtype == T.RRSIG and rrset.covers == T.SOA


def _capped(rrset: dns.rrset.RRset, ttl: int) -> dns.rrset.RRset:
    """A copy with its TTL lowered to ``ttl`` (signatures over a negative answer's SOA)."""
    out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    out.ttl = min(rrset.ttl, ttl)
    return out


def _ds_of_referral(response: dns.message.Message,
                    name: dns.name.Name) -> dns.message.Message | None:
    """``response`` (a referral to ``name``) as the answer to ``name`` DS: its DS RRset and
    the signatures over it, alone in the answer section; None when it has no DS RRset."""
    ds = [r for r in response.authority if r.name == name
          and (r.rdtype == T.DS or (r.rdtype == T.RRSIG and r.covers == T.DS))]
    if not any(r.rdtype == T.DS for r in ds):
        return None
    answer = dns.message.Message(id=response.id)
    answer.flags = response.flags | dns.flags.AA  # the parent is authoritative for DS
    answer.question = list(response.question)
    answer.answer = ds
    return answer


def minimise_labels(name_labels: int, qout_labels: int, count: int) -> tuple[int, int]:
    """Unbound's QNAME minimisation schedule (iterator.c, processQueryTargets).

    ``name_labels``: labels of the name resolved (root included), ``qout_labels``: of the
    name last asked, ``count``: this step's number since the walk (re)started.  Returns
    (labdiff, labels of the next name to ask): one more label per step, except that a
    name of more than MAX_MINIMISE_COUNT labels, after MINIMISE_ONE_LAB steps, reveals
    several labels per step, and all of them at step MAX_MINIMISE_COUNT.
    """
    labdiff = name_labels - qout_labels
    if name_labels > MAX_MINIMISE_COUNT and labdiff > 1 and count > MINIMISE_ONE_LAB:
        if count < MAX_MINIMISE_COUNT:
            multilabs = name_labels - 1 - MINIMISE_ONE_LAB
            extralabs = multilabs // MINIMISE_MULTIPLE_LABS
            if MAX_MINIMISE_COUNT - count >= multilabs % MINIMISE_MULTIPLE_LABS:
                extralabs -= 1  # one label per step is the default: count it out
            labdiff = labdiff - extralabs if extralabs < labdiff else 1
        else:
            labdiff = 1
    keep = name_labels - (labdiff - 1) if labdiff > 1 else name_labels
    return labdiff, keep


def insecure_cuts(
    target: dns.name.Name, proofs: Sequence[dns.rrset.RRset]
) -> list[dns.name.Name]:
    """The names at or above ``target`` (not the root) that an NSEC or NSEC3 record among
    ``proofs`` shows as an unsigned delegation: NS in its type map, neither DS nor SOA
    (RFC 4035 §5.2, RFC 5155 §8.9)."""
    names = []
    n = target
    while n != dns.name.root:
        names.append(n)
        n = n.parent()
    out: list[dns.name.Name] = []
    for rrset in proofs:
        if rrset.rdtype not in (T.NSEC, T.NSEC3):
            continue
        for rd in rrset:
            types = bitmap_types(rd.windows)
            if T.NS not in types or T.DS in types or T.SOA in types:
                continue
            for name in names:
                if name in out:
                    continue
                if rrset.rdtype == T.NSEC and rrset.name == name:
                    out.append(name)
                elif rrset.rdtype == T.NSEC3 and _nsec3_owner_of(rrset.name, rd, name):
                    out.append(name)
    return out


def _nsec3_owner_of(owner: dns.name.Name, rd: NSEC3, name: dns.name.Name) -> bool:
    """Is the NSEC3 record at ``owner`` the one of ``name`` (its hashed owner label)?"""
    if len(owner) < 2 or not name.is_subdomain(owner.parent()):
        return False
    try:
        hashed = dns.dnssec.nsec3_hash(name, rd.salt, rd.iterations, rd.algorithm)
    except (ValueError, dns.exception.DNSException):
        return False
    return bool(owner.labels[0].decode("ascii", "replace").lower() == hashed.lower())


def _aged(rrsets: list[dns.rrset.RRset], seconds: int) -> list[dns.rrset.RRset]:
    """Copies of ``rrsets`` with ``seconds`` less TTL; those that expired are left out."""
    out = []
    for r in rrsets:
        if r.ttl <= seconds:
            continue
        copy = dns.rrset.RRset(r.name, r.rdclass, r.rdtype, r.covers)
        copy.update(r)
        copy.ttl = r.ttl - seconds
        out.append(copy)
    return out


def _denial_records(response: dns.message.Message) -> list[dns.rrset.RRset]:
    """NSEC/NSEC3 (and their RRSIGs) in a positive answer's authority section: the proof that
    a wildcard was expanded (RFC 4035 §3.1.3.3), kept for the validator."""
    kinds = (T.NSEC, T.NSEC3)
    return [
        r
        for r in response.authority
        if r.rdtype in kinds or (r.rdtype == T.RRSIG and r.covers in kinds)
    ]


def _with_sigs(rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None) -> list[dns.rrset.RRset]:
    return [rrset] if sigs is None else [rrset, sigs]


def _sig_list(c: Classified, rrset: dns.rrset.RRset) -> list[dns.rrset.RRset]:
    sig = c.sigs.get((rrset.name, rrset.rdtype))
    return [] if sig is None else [sig]


def _synthesised(rrset: dns.rrset.RRset, chain: list[dns.rrset.RRset]) -> bool:
    """A CNAME made from a DNAME in this chain (cached as the DNAME, not by itself)."""
    return any(
        r.rdtype == T.DNAME and rrset.name.is_subdomain(r.name) and rrset.name != r.name
        for r in chain
    )
