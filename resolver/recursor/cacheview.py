"""What the cache (and the configuration) already knows, asked without sending anything: a
name's answer, the closest zone cut, the configured zone over a name, the cached addresses
of nameservers, parent-side data, and which servers are lame for a zone."""

from __future__ import annotations

from collections.abc import Sequence

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from resolver.cache import CachedRRset, DnsCache, Rank, Security
from resolver.clock import Clock
from resolver.model import with_ttl
from resolver.recursor.answers import with_sigs
from resolver.recursor.classify import Classified
from resolver.recursor.config import Budget, ConfiguredZone, RecursorConfig, Step

T = dns.rdatatype
IN = dns.rdataclass.IN
# The least rank a cached RRset needs to answer a client (RFC 2181 §5.4.1): not glue
# (ADDITIONAL), not a referral's NS set (AUTHORITY_NONAUTH).
ANSWERABLE = Rank.ANSWER_NONAUTH


class CacheView:
    """Read-only questions to the cache, answered at the clock's time."""

    def __init__(self, cache: DnsCache, clock: Clock, config: RecursorConfig,
                 root_servers: tuple[str, ...]) -> None:
        self.cache = cache
        self.clock = clock
        self.config = config
        self.root_servers = root_servers

    # -- answers ----------------------------------------------------------------------------

    def step(self, name: dns.name.Name, qtype: int, stale: float | None = None,
             answers_only: bool = False) -> Step | None:
        """The cached answer for ``name``/``qtype`` (data, a CNAME or DNAME to follow, or a
        negative answer with its SOA), or None.  ``stale``: expired data, up to that many
        seconds past its expiry, is an answer too (serve-expired); what of it has expired
        carries TTL ``serve_expired_reply_ttl`` and the step is marked ``stale``.
        ``answers_only`` (a client's question): glue and a referral's NS RRset are no
        answer (RFC 2181 §5.4.1: additional-section data and the authority section of a
        non-authoritative answer "should not be cached in such a way that they would ever
        be returned as answers to a received query"); the name is asked of its zone."""
        now = self.clock.monotonic()
        hit = self.cache.rrsets.get(name, qtype, now, stale=stale)
        if hit is not None and answers_only and hit.rank < ANSWERABLE:
            hit = None
        if hit is not None:
            return Step(dns.rcode.NOERROR, self._records(hit), list(hit.proofs),
                        prefetch=hit.expires - now <= hit.stored_ttl / 10, stale=hit.stale)
        if qtype not in (T.CNAME, T.DS):
            # (not for DS, which is answered on the parent side of the name: a CNAME there
            # does not redirect it; Unbound's dns_cache_lookup skips the CNAME for DS too)
            cname = self.cache.rrsets.get(name, T.CNAME, now, stale=stale)
            if cname is not None:
                return Step(
                    dns.rcode.NOERROR,
                    self._records(cname),
                    target=cname.rrset[0].target,
                    stale=cname.stale,
                )
        dname = self._dname(name, qtype, now, stale)
        if dname is not None:
            return dname
        neg = self.cache.negative.get(name, qtype, now, stale=stale)
        if neg is not None and neg.soa is not None:
            # (a referral's DS denial has no SOA: it is the validator's, not an answer)
            rcode = dns.rcode.NXDOMAIN if neg.kind == "nxdomain" else dns.rcode.NOERROR
            authority = [neg.soa, *neg.proofs]
            if neg.stale:
                authority = [with_ttl(r, self.config.serve_expired_reply_ttl) for r in authority]
            elif self.config.serve_original_ttl:  # the SOA's TTL as the denial was stored
                authority[0] = with_ttl(neg.soa, neg.stored_ttl)
            return Step(rcode, [], authority, stale=neg.stale)
        return None

    def _records(self, hit: CachedRRset) -> list[dns.rrset.RRset]:
        """A cached RRset and its signatures, with serve_expired_reply_ttl when expired, the
        TTL it was stored with under serve_original_ttl."""
        if hit.stale:
            ttl = self.config.serve_expired_reply_ttl
        elif self.config.serve_original_ttl:
            ttl = hit.stored_ttl
        else:
            return with_sigs(hit.rrset, hit.sigs)
        return with_sigs(with_ttl(hit.rrset, ttl),
                         None if hit.sigs is None else with_ttl(hit.sigs, ttl))

    def _dname(self, name: dns.name.Name, qtype: int, now: float,
               stale: float | None = None) -> Step | None:
        """A cached DNAME above ``name`` answers it: the DNAME and the CNAME it implies
        (which ends the chain when the question is for the CNAME itself)."""
        n = name
        while n != dns.name.root:
            n = n.parent()
            hit = self.cache.rrsets.get(n, T.DNAME, now, stale=stale)
            if hit is not None and self.config.cut_cname_chains and (
                hit.security is not Security.SECURE
            ):
                # Unbound's dns_cache_lookup synthesises only from a secure DNAME ("the
                # first DNAME ... needs checking before it can be used from the cache",
                # iter_scrub.c): an unvalidated one sends the question upstream again
                return None
            if hit is not None:
                records = self._records(hit)
                try:
                    target = name.relativize(n).derelativize(hit.rrset[0].target)
                except dns.name.NameTooLong:
                    return Step(dns.rcode.YXDOMAIN, records, stale=hit.stale)
                synth = dns.rrset.from_text(name, records[0].ttl, IN, T.CNAME,
                                            target.to_text())
                return Step(dns.rcode.NOERROR, [*records, synth],
                            target=None if qtype == T.CNAME else target, stale=hit.stale)
        return None

    def known_no_cut(self, name: dns.name.Name) -> bool:
        """A minimised name already seen answered (data or NODATA) by its zone's servers."""
        now = self.clock.monotonic()
        qtype = self.config.qmin_qtype
        if self.cache.negative.get(name, qtype, now) is not None:
            return True
        # cached A data says the name exists; cached NS data would say it is a cut
        return qtype != T.NS and self.cache.rrsets.get(name, qtype, now) is not None

    # -- delegations --------------------------------------------------------------------------

    def referral(
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
            hit.rrset for rd in ns.rrset for rdtype in self.config.address_types()
            if (hit := self.cache.rrsets.get(rd.target, rdtype, now)) is not None
        ]
        return [ns.rrset], additional

    def configured(self, name: dns.name.Name,
                   ignore: frozenset[dns.name.Name] | set[dns.name.Name] = frozenset(),
                   ) -> ConfiguredZone | None:
        """The deepest configured stub or forward zone at or above ``name``."""
        best: ConfiguredZone | None = None
        for z in self.config.zones:
            if z.name not in ignore and name.is_subdomain(z.name) and (
                    best is None or len(z.name) > len(best.name)):
                best = z
        return best

    def closest_cut(self, name: dns.name.Name,
                    ignore: frozenset[dns.name.Name] | set[dns.name.Name] = frozenset(),
                    ) -> tuple[dns.name.Name, list[dns.name.Name]]:
        """The closest delegation known for ``name``: a cached NS RRset, or a configured
        stub zone (no NS names: its servers are configured), whichever is deeper; a stub
        zone wins over an NS RRset cached at the same name."""
        now = self.clock.monotonic()
        n = name
        while True:
            stub = self.configured(n, ignore)
            if stub is not None and stub.name == n and not stub.forward:
                ns = self.cache.rrsets.get(n, T.NS, now) if stub.prime else None
                # a primed stub zone: the NS set its servers published, while cached
                return n, [] if ns is None else [rd.target for rd in ns.rrset]
            ns = self.cache.rrsets.get(n, T.NS, now)
            if ns is not None:
                return n, [rd.target for rd in ns.rrset]
            if n == dns.name.root:
                return dns.name.root, []
            n = n.parent()

    # -- server addresses -----------------------------------------------------------------------

    def addresses(self, names: Sequence[dns.name.Name]) -> list[str]:
        """The usable cached addresses of the nameservers ``names`` (glue included)."""
        now = self.clock.monotonic()
        out: list[str] = []
        for n in names:
            for rdtype in self.config.address_types():
                hit = self.cache.rrsets.get(n, rdtype, now)
                if hit is not None:
                    out.extend(rd.address for rd in hit.rrset if self.config.usable(rd.address))
        return out

    def root_addresses(self, exclude: frozenset[str] | set[str]) -> list[str]:
        usable = self.config.usable
        return [a for a in self.root_servers
                if usable(a, configured=True) and a not in exclude]

    def parent_side_addresses(
        self, names: Sequence[dns.name.Name], budget: Budget
    ) -> list[str]:
        """The addresses of ``names`` that parents gave: in this query's referrals, or kept
        apart from the child's data in the cache."""
        now = self.clock.monotonic()
        out: list[str] = []
        for n in names:
            for a in budget.parent_glue.get(n, []):
                if a not in out and self.config.usable(a):
                    out.append(a)
            for rdtype in self.config.address_types():
                hit = self.cache.parent_side.get(n, rdtype, now)
                if hit is not None:
                    out.extend(rd.address for rd in hit.rrset
                               if rd.address not in out and self.config.usable(rd.address))
        return out

    def useless_cut(self, zone: dns.name.Name, ns_names: Sequence[dns.name.Name],
                    budget: Budget) -> bool:
        """A cached cut whose servers are all named inside it and none has a known address
        (Unbound's iter_dp_is_useless: "all NS items are required glue" and "no addresses
        are provided"): only the parent's referral can bring their glue."""
        return (bool(ns_names) and all(n.is_subdomain(zone) for n in ns_names)
                and not self.addresses(ns_names)
                and not self.parent_side_addresses(ns_names, budget))

    def useless_for(self, name: dns.name.Name, qtype: int, c: Classified) -> bool:
        """Is the referral ``c`` no help in finding the address ``name``/``qtype``: the name
        is one of the cut's nameservers, inside the cut, and no address came for any?"""
        assert c.cut is not None and c.ns is not None
        targets = [rd.target for rd in c.ns]
        return (
            qtype in self.config.address_types()
            and name in targets
            and name.is_subdomain(c.cut)
            and not self.addresses(targets)
        )

    def not_lame(self, zone: dns.name.Name, servers: Sequence[str]) -> tuple[str, ...]:
        """``servers`` without the addresses known lame for ``zone``, unless that is all."""
        now = self.clock.monotonic()
        fine = tuple(s for s in servers if not self.cache.infra.is_lame(s, zone, now))
        return fine or tuple(servers)
