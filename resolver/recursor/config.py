"""What the recursor is told and what it tells: its configuration, its caps, one client
query's budget, and the results of a lookup.

:class:`RecursorConfig` (with the stub and forward zones, :class:`ConfiguredZone`) says how
to resolve; :class:`Budget` is what one client question may still spend (upstream sends,
time) and what it learnt on the way; :class:`Step` is one name's worth of a lookup and
:class:`Resolution` the whole answer to the client's question.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dns.name
import dns.rdatatype
import dns.rrset

from resolver.cache import MAX_NEGATIVE_TTL_S, MAX_TTL_S
from resolver.model import server_ip
from resolver.recursor.private import PrivateAddresses

T = dns.rdatatype

MAX_REFERRALS = 30  # delegations followed in one lookup
MAX_CNAME_CHAIN = 12  # CNAME/DNAME hops walked inside one response
# CNAME/DNAME hops followed per client query, the last one's target answered: Unbound's
# max-query-restarts default ("If a query encounters more than the specified number of
# CNAME records before resolving, Unbound will reply with SERVFAIL. Default is 11.")
MAX_QUERY_RESTARTS = 11
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
    # stub-prime: the stub's servers are first asked for the zone's NS set, whose servers
    # (with their addresses) then serve the zone while it is cached
    prime: bool = False
    tcp: bool = False  # stub/forward-tcp-upstream: its servers are asked over TCP only
    # stub/forward-no-cache (unbound.conf(5): "data inside the forward is not cached"):
    # answers for the zone's names are neither looked up in the cache nor stored there
    no_cache: bool = False


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
    # Unbound's do-nat64 with its nat64-prefix: IPv4 servers are asked at their NAT64
    # addresses under this prefix, even with do_ip4 off (resolver.recursor.nat64)
    nat64_prefix: ipaddress.IPv6Network | None = None
    do_not_query_localhost: bool = False
    harden_glue: bool = True  # off: keep out-of-zone glue for the NS names of a referral
    # Unbound's harden-unverified-glue: a referral's glue for names outside the child zone
    # (a sibling's) is kept only for the last resort; the names are resolved first
    harden_unverified_glue: bool = False
    # Unbound's iter-scrub-promiscuous (yes by default from Unbound 1.24.1, CVE-2025-11411):
    # an NS set in the authority section of a response that is not a referral (an answer,
    # a NODATA with its SOA, an NXDOMAIN) is dropped with its glue, so no answer can
    # replace the zone's delegation.  Off, as the reference Unbound 1.17 has it: the
    # zone's own NS set in its answers then replaces the parent's (RFC 2181 §5.4.1).
    scrub_promiscuous: bool = False
    # Unbound's iter-scrub-ns: NS RRsets are cut to their first this many records (20)
    scrub_ns: int = 20
    # Unbound's iter-scrub-cname: CNAME/DNAME records walked inside one response before the
    # rest is cut off and looked up name by name (None: MAX_CNAME_CHAIN)
    scrub_cname: int | None = None
    # Unbound's max-global-quota: upstream queries per client query, sub-queries included
    max_global_quota: int = MAX_UPSTREAM_QUERIES
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
    # Unbound's deny-any (no by default): "deny queries of type ANY with an empty response"
    # (unbound.conf(5)); Unbound's empty message has rcode NOTIMP "for RFC 8482"
    # (services/cache/dns.c, fill_any).  Nothing is asked upstream.
    deny_any: bool = False
    # Unbound's DNSSEC-lameness check (disable-dnssec-lame-check: no, the default): an
    # answer without RRSIGs from a server of a zone known to be signed marks the server lame
    # for the zone and the zone's other servers are asked.  Off (disable-dnssec-lame-check:
    # yes), such an answer goes to the validator, "which will insist in RRSIGs for DNSSEC
    # signed domains regardless of this setting" (unbound.conf(5)).
    dnssec_lame_check: bool = True
    # Unbound's do-not-query-address: servers at these addresses or in these netblocks are
    # never asked (unbound.conf(5)), configured ones included
    do_not_query: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Unbound's prefetch: an answer served from the cache in the last tenth of the TTL it
    # was stored with is fetched again at once (the client still gets the cached one), so
    # popular names do not expire from the cache.
    prefetch: bool = False
    # CNAME/DNAME hops a client query may follow (Unbound's max-query-restarts): one more
    # is SERVFAIL.
    max_query_restarts: int = MAX_QUERY_RESTARTS
    # Bounds on the TTLs of what is cached and answered (Unbound's cache-min-ttl,
    # cache-max-ttl, cache-max-negative-ttl, with Unbound's defaults).
    cache_min_ttl: int = 0
    cache_max_ttl: int = MAX_TTL_S
    cache_max_negative_ttl: int = MAX_NEGATIVE_TTL_S
    # Unbound's cache-min-negative-ttl: the least TTL of NXDOMAIN and NODATA answers; 0
    # (disabled): cache_min_ttl "will take effect instead" (unbound.conf(5)).
    cache_min_negative_ttl: int = 0
    # Keep what the server sent beside a positive answer for answers from the cache too
    # (for non-minimal responses; off where replies are minimal, to spare the work).
    keep_extras: bool = False
    # Unbound's scrubber: an answer's CNAME chain is cut after the first CNAME (or DNAME and
    # its CNAME) and the target asked again, since only the alias is necessarily
    # authoritative (RFC 2181 §5.4.1).  Off by default (Knot Resolver follows a chain that
    # stays inside the server's zone); the testbound dialect turns it on.
    cut_cname_chains: bool = False
    # Unbound's recursion-lame rule (iter_resptype.c RESPONSE_TYPE_REC_LAME) covers every
    # kind of answer with RA set and AA clear.  Knot Resolver takes a positive answer
    # whatever its AA bit and judges only a negative one without AA lame (lib/layer/
    # iterate.c: "non-auth sent negative response"): off, positive answers are taken.
    recursion_lame_answers: bool = True
    # Unbound hides the question's type at the full name too (iterator.c,
    # processQueryTargets: minimising stops before the last label only for qtype A or DS):
    # the full name is first asked with qmin_qtype, then with the real type.  Off by
    # default (RFC 9156 §3 asks the real type at the full name, as Knot Resolver does).
    qmin_hide_qtype: bool = False
    # Unbound's qname-minimisation-strict: the full name is never sent in place of a
    # minimised query that failed, and an NXDOMAIN to a minimised query is the answer
    # everywhere (RFC 8020), not only where DNSSEC is expected.
    qmin_strict: bool = False
    # Knot Resolver's QNAME minimisation (lib/layer/iterate.c process_answer): a minimised
    # query answered with anything but a referral (a NODATA for an empty non-terminal or a
    # name without a cut, an error rcode) stops minimising for the rest of the lookup, and
    # the full name is asked (its NO_MINIMIZE flag).  Off: Unbound's way, which reveals the
    # next label after a NODATA (RFC 9156 §3).  The Deckard dialect turns it on.
    qmin_stop_on_answer: bool = False
    # Serve-stale (RFC 8767), as Unbound's serve-expired family (unbound.conf(5)): the
    # client's answer may come from data that has expired (for at most serve_expired_ttl
    # seconds, 0: no limit; DNSKEY and DS never, the chain of trust rests on fresh keys;
    # bogus data never) when a fresh resolution fails, or when it takes longer than
    # serve_expired_client_timeout ms (0: the expired answer at once, refreshed behind it);
    # it carries TTL serve_expired_reply_ttl.  serve_expired_ttl_reset: a failed refresh
    # starts the expired data's window again.  serve_expired_ede: such answers carry
    # EDE 3 Stale Answer (RFC 8914 §4.4).  Defaults are Unbound 1.23's.
    serve_expired: bool = False
    serve_expired_ttl: int = 86_400
    serve_expired_ttl_reset: bool = False
    serve_expired_reply_ttl: int = 30
    serve_expired_client_timeout: int = 1800
    serve_expired_ede: bool = False
    # Unbound's serve-original-ttl: answers carry the TTL the data came with, not the one
    # counting down in the cache (which still expires it); cache-min/max-ttl do not apply
    serve_original_ttl: bool = False

    # Unbound's private-address / private-domain (DNS rebinding protection): A and AAAA
    # records in these ranges are removed from responses unless their owner is under one
    # of the domains (resolver.recursor.private).  Empty: nothing removed (the default).
    private: PrivateAddresses = PrivateAddresses()
    # The root hints are Unbound's stub-zone "." without stub-prime: its servers (a port
    # too, ip@port) are asked for the root's zone even once the primed NS set is cached
    # (iter_hints.c hints_lookup_stub: a noprime stub is used instead of the cached
    # delegation point); off: the primed root servers replace the hints (RFC 8109).
    root_stub: bool = False
    # The root's configured servers (the hints, or the root forwarders) are asked over TCP
    # only (Unbound's stub-tcp-upstream / forward-tcp-upstream of the zone ".").
    root_tcp: bool = False
    root_no_cache: bool = False  # forward-no-cache of the root forward zone

    def __post_init__(self) -> None:
        for name in ("serve_expired_ttl", "serve_expired_reply_ttl",
                     "serve_expired_client_timeout"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name.replace('_', '-')}: {value!r} is not a whole "
                                 "number >= 0")

    def usable(self, address: str, configured: bool = False) -> bool:
        """Whether an upstream server at ``address`` may be asked.

        ``do_not_query_localhost`` keeps the DNS from steering us to loopback servers; an
        address the operator configured (a root hint) is trusted whatever it is, unless it is
        in ``do_not_query`` (Unbound's do-not-query-address).
        """
        try:
            ip = ipaddress.ip_address(server_ip(address))  # a configured ip@port too
        except ValueError:
            return False
        if ip.is_unspecified or ip.is_multicast or ip == _BROADCAST or ip in _THIS_NETWORK:
            # not a unicast destination (RFC 6890: 0.0.0.0/8 and :: are "this host",
            # 255.255.255.255 is limited broadcast): no server can be reached there
            return False
        if self.do_not_query_localhost and ip.is_loopback and not configured:
            return False
        if any(ip in net for net in self.do_not_query):
            return False
        return self.ip4_reachable() if ip.version == 4 else self.do_ip6

    def chain_hops(self) -> int:
        """The CNAME/DNAME hops walked inside one response (iter-scrub-cname)."""
        return MAX_CNAME_CHAIN if self.scrub_cname is None else min(MAX_CNAME_CHAIN,
                                                                    self.scrub_cname)

    def ip4_reachable(self) -> bool:
        """Whether IPv4 servers can be asked: directly, or through NAT64."""
        return self.do_ip4 or self.nat64_prefix is not None

    def address_types(self) -> list[int]:
        """The address types of the servers that may be asked: A, AAAA or both."""
        types = [int(T.A)] if self.ip4_reachable() else []
        return types + [int(T.AAAA)] if self.do_ip6 else types


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
    # RRsets the server sent beside a fresh positive answer that only the validator looks
    # at (its zone's SOA with signatures): never copied into a reply
    beside: list[dns.rrset.RRset] = field(default_factory=list, kw_only=True)
    stale: bool = field(default=False, kw_only=True)  # some of it is expired data
    # serve-expired: the expired answer a refresh replaced, and what puts that expired data
    # back in the cache; the validator answers with it when the refresh is bogus
    fallback: tuple[Resolution, Callable[[], None]] | None = field(
        default=None, kw_only=True, repr=False)


@dataclass
class Step:
    """One name's worth of lookup: its records, and where the chain goes next."""

    rcode: int
    records: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    target: dns.name.Name | None = None  # continue the chain here
    reason: str = ""
    extra_authority: list[dns.rrset.RRset] = field(default_factory=list)
    extra_additional: list[dns.rrset.RRset] = field(default_factory=list)
    beside: list[dns.rrset.RRset] = field(default_factory=list)  # Resolution.beside
    prefetch: bool = False  # from the cache, in the last tenth of its TTL (config.prefetch)
    stale: bool = False  # expired data (config.serve_expired), TTLs serve_expired_reply_ttl
    # the expired answer this fresh one replaced, and what puts it back in the cache
    expired: tuple[Step, Callable[[], None]] | None = field(default=None, repr=False)


class ResolutionFailed(Exception):
    """The lookup cannot go on (SERVFAIL); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
