"""Asking upstream: the walk down from the closest known zone cut (RFC 1034 §5.3.3, with
QNAME minimisation, RFC 9156), and forwarding to configured servers.

One walk (:class:`_Walk`) is a sequence of named steps, repeated until a step concludes:
find the cut's servers, pick the next question (minimised or not), send it, classify the
response, then follow a referral, drop a lame server, note what a minimised probe showed,
or take the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from resolver.cache import DnsCache, Rank
from resolver.clock import Clock
from resolver.recursor.addresses import ServerAddresses
from resolver.recursor.answers import bounded, conclude, denial_records, ds_of_referral, with_extras
from resolver.recursor.cacheview import CacheView
from resolver.recursor.classify import Classified, Kind, classify, scrub
from resolver.recursor.config import (
    LAME_TTL,
    MAX_MINIMISE_COUNT,
    MAX_REFERRALS,
    MINIMISE_MULTIPLE_LABS,
    MINIMISE_ONE_LAB,
    Budget,
    ConfiguredZone,
    RecursorConfig,
    ResolutionFailed,
    Step,
)
from resolver.recursor.exchanger import Exchanger, Failure, UpstreamQuery, UpstreamResult
from resolver.recursor.learn import (
    cache_child_ns,
    cache_referral,
    mark_refusers,
    remember_no_cut,
    set_aside_unverified_glue,
)
from resolver.recursor.priming import Primer

T = dns.rdatatype


class Iteration:
    """The Recursor's way upstream: its cache, configuration and helpers, and two checks it
    owns (``dnssec_expected``: does a zone look signed; ``dnssec_lame``: is a response from
    a signed zone's server without any signature)."""

    def __init__(
        self, cache: DnsCache, clock: Clock, config: RecursorConfig, view: CacheView,
        addresses: ServerAddresses, primer: Primer,
        dnssec_expected: Callable[[dns.name.Name], bool],
        dnssec_lame: Callable[[Classified, dns.message.Message, dns.name.Name], bool],
    ) -> None:
        self.cache = cache
        self.clock = clock
        self.config = config
        self.view = view
        self.addresses = addresses
        self.primer = primer
        self.dnssec_expected = dnssec_expected
        self.dnssec_lame = dnssec_lame

    async def walk(self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget,
                   depth: int, above: dns.name.Name) -> Step:
        """Resolve ``name``/``qtype`` from the closest cut at or above ``above``."""
        walk = _Walk(self, name, qtype, exchanger, budget, depth)
        await walk.find_servers(above)
        return await walk.run()

    async def forward(
        self, name: dns.name.Name, qtype: int, exchanger: Exchanger, budget: Budget,
        depth: int = 0, zone: ConfiguredZone | None = None,
    ) -> Step:
        """Ask a forward zone's servers (RD=1; the root forward zone by default) and take
        their answer as it is."""
        if budget.queries_left <= 0:
            raise ResolutionFailed("upstream query budget spent")
        zone = zone or self._root_forward()
        assert zone is not None
        servers = await self.addresses.of_configured(zone, exchanger, budget, depth)
        if not servers:
            raise ResolutionFailed(f"no forwarder address for {zone.name}")
        # The validator's restart avoids the forwarders that gave bogus data (Unbound
        # blacklists a bogus reply's origin, forwarders too); nobody else: no answer.
        servers = tuple(s for s in servers if s not in budget.avoid)
        if not servers:
            raise ResolutionFailed(f"no forwarder of {zone.name} left to ask")
        result = await exchanger.exchange(
            UpstreamQuery(name, qtype, zone.name, servers,
                          dnssec=self.config.dnssec, rd=True, tcp=zone.tcp)
        )
        budget.spend(max(1, result.attempts))
        if depth == 0 and result.server is not None:
            budget.origins.add(result.server)  # (the validator avoids it on a restart)
        if result.response is None:
            failure = result.failure.value if result.failure else "no answer"
            raise ResolutionFailed(f"forwarders: {failure}")
        response = result.response
        away = scrub(response, zone.name, self.config.harden_glue,
                     self.config.scrub_promiscuous, private=self.config.private,
                     max_ns=self.config.scrub_ns)
        # a forwarder's CNAME chain is cut after the alias as an authority's is (Unbound
        # scrubs every response alike: "remainders of CNAME chains are cut off and
        # resolved by iterator", the target asked on its own, of whatever serves it)
        c = classify(response, name, qtype, zone.name, self.config.chain_hops(), away,
                     recursion_desired=True, cut_chains=self.config.cut_cname_chains)
        if c.kind is Kind.REFERRAL:
            # A forwarder's referral is its answer: a NODATA (Unbound's iterator: "When
            # forwarding (RD bit is set), we handle referrals differently. No queries
            # should be sent elsewhere", the type made RESPONSE_TYPE_ANSWER); its proofs
            # stay for the validator (an opt-out insecure delegation)
            c = Classified(Kind.NODATA, [], c.sigs, name, None, c.proofs)
        if c.kind is Kind.LAME:
            raise ResolutionFailed(f"forwarders gave no answer for {name} ({c.kind.value})")
        if c.kind in (Kind.ANSWER, Kind.CNAME) and not c.proofs:
            c.proofs = denial_records(response)  # as when iterating: a wildcard's proof
        step = conclude(c, name, qtype, response.flags, self.cache, self.config,
                        self.clock.monotonic(), store=not zone.no_cache)
        return with_extras(step, c, response, self.config)

    def _root_forward(self) -> ConfiguredZone | None:
        if not (self.config.forwarders or self.config.forward_hosts):
            return None
        return ConfiguredZone(dns.name.root, True, self.config.forwarders,
                              self.config.forward_hosts, tcp=self.config.root_tcp,
                              no_cache=self.config.root_no_cache)

    def conclude(self, c: Classified, name: dns.name.Name, qtype: int, flags: int) -> Step:
        return conclude(c, name, qtype, flags, self.cache, self.config, self.clock.monotonic())

    async def check_ns(self, zone: dns.name.Name, servers: list[str], exchanger: Exchanger,
                       budget: Budget, glue: bool = False) -> bool:
        """harden_referral_path: ask ``zone``'s servers for its NS RRset and keep their
        authoritative answer (Unbound's generate_ns_check); failures change nothing.
        ``glue``: the answer's addresses of those servers are kept too (stub priming).
        Whether an NS RRset was kept."""
        if zone in budget.ns_checked or not servers or budget.queries_left <= 0:
            return False
        budget.ns_checked.add(zone)
        result = await exchanger.exchange(
            UpstreamQuery(zone, T.NS, zone, self.view.not_lame(zone, servers),
                          dnssec=self.config.dnssec, tcp=self.zone_tcp(zone))
        )
        budget.spend(max(1, result.attempts))
        response = result.response
        if response is None or not response.flags & dns.flags.AA \
                or response.rcode() != dns.rcode.NOERROR:
            return False
        scrub(response, zone, self.config.harden_glue, self.config.scrub_promiscuous,
              private=self.config.private, max_ns=self.config.scrub_ns)
        now = self.clock.monotonic()
        kept = False
        for rrset in response.answer:
            if rrset.rdtype == T.NS and rrset.name == zone and len(rrset):
                self.cache.rrsets.put(bounded(rrset, self.config), Rank.ANSWER_AUTH, now)
                kept = True
        if kept and glue:
            for rrset in response.additional:  # (the scrubber kept only the NS targets')
                if rrset.rdtype in (T.A, T.AAAA):
                    self.cache.rrsets.put(bounded(rrset, self.config), Rank.ADDITIONAL, now)
        return kept

    def zone_tcp(self, zone: dns.name.Name) -> bool:
        """Whether ``zone``'s servers are asked over TCP only: it is a configured zone with
        stub-tcp-upstream (the root: ``root_tcp``); a zone learnt below it is not."""
        if zone == dns.name.root:
            return self.config.root_tcp
        configured = self.view.configured(zone)
        return configured is not None and configured.name == zone and configured.tcp

    async def prime_stub(self, zone: ConfiguredZone, exchanger: Exchanger, budget: Budget,
                         depth: int) -> None:
        """Unbound's stub-prime: unless the zone's NS RRset is cached, ask the stub's
        servers for it; the published servers then serve the zone (CacheView.closest_cut)
        while it is cached.  A failure leaves the stub's own servers in charge."""
        if self.cache.rrsets.get(zone.name, T.NS, self.clock.monotonic()) is not None:
            return
        servers = await self.addresses.of_configured(zone, exchanger, budget, depth)
        await self.check_ns(zone.name, list(servers), exchanger, budget, glue=True)


class _Question(NamedTuple):
    name: dns.name.Name
    qtype: int
    probe: bool  # a minimised query: it only learns where the cuts are


class _Walk:
    """One lookup's walk down the tree: where it is (the zone, its servers), how far the
    name is revealed, and what failed on the way."""

    def __init__(self, it: Iteration, name: dns.name.Name, qtype: int, exchanger: Exchanger,
                 budget: Budget, depth: int) -> None:
        self.it = it
        self.config = it.config
        self.name = name
        self.qtype = qtype
        self.exchanger = exchanger
        self.budget = budget
        self.depth = depth
        self.avoid = budget.avoid if depth == 0 else frozenset()
        self.zone = dns.name.root
        self.ns_names: list[dns.name.Name] = []
        self.servers: list[str] = []
        # QNAME minimisation as Unbound does it (RFC 9156; iterator.c processQueryTargets):
        # ``qout`` is the name last asked with qtype A (it starts at the zone cut), each step
        # reveals labels by minimise_labels(), and the full question is asked once the name
        # is reached.  (Unbound, for qtypes other than A and DS, first asks the full name
        # with qtype A too: config.qmin_hide_qtype; Deckard's scenarios expect the real
        # qtype there, as Knot Resolver and RFC 9156 §3 do.)
        self.minimise = self.config.qname_minimisation
        self.qout = 0
        self.count = 0
        self.failed: set[str] = set()  # servers of the current zone that gave no usable answer
        # the first recursion-lame response for the question itself (not a probe)
        self.reclame: tuple[Classified, int, str | None] | None = None
        self.cached_cut = False  # the zone's NS set came from the cache
        self.refetched: tuple[dns.name.Name, frozenset[str]] | None = None
        self.exhausted = ""  # why, when no server is left

    async def run(self) -> Step:
        for _ in range(MAX_REFERRALS * 2 + MAX_MINIMISE_COUNT + len(self.name)):
            self.check_limits()
            if not self.servers:  # every server of the zone failed or is lame
                await self.refetch_delegation()
            question = self.next_question()
            if question is None:
                continue  # cached as existing without a cut: reveal more
            result = await self.send(question)
            if result.response is None:
                await self.no_response(result, question)
                continue
            c, response = self.classify(result.response, question)
            if c.kind is Kind.REFERRAL:
                await self.follow_referral(c, question)
                continue
            if c.kind is Kind.LAME:
                step = await self.drop_lame_server(c, result, response, question)
            else:
                if response.flags & dns.flags.AA:
                    cache_child_ns(self.it.cache, response, self.zone, self.it.clock.monotonic())
                if question.probe:
                    step = self.learn_from_probe(c, result, response, question)
                else:
                    step = self.take_answer(c, result, response)
            if step is not None:
                return step
        raise ResolutionFailed(f"too many referrals resolving {self.name}")

    # -- the steps ------------------------------------------------------------------------------

    async def find_servers(self, above: dns.name.Name) -> None:
        """The closest cut at or above ``above`` (primed first when due) and its servers'
        addresses; a cut without a usable address gives way to its parent's."""
        it, budget = self.it, self.budget
        zone, ns_names = it.view.closest_cut(above, budget.unconfigured)
        if zone == dns.name.root and not ns_names and it.primer.due():
            sent = budget.sent
            await it.primer.prime(self.exchanger, budget)
            # priming is a query of its own (Unbound's prime_root sub-request, started
            # before the client query has counted anything): its sends are not taken from
            # the client query's quota (max-global-quota), though they are reported
            budget.queries_left += budget.sent - sent
            zone, ns_names = it.view.closest_cut(zone, budget.unconfigured)
        while zone != dns.name.root and it.view.useless_cut(zone, ns_names, budget):
            # every server named inside the cut, no address known for any (their glue
            # expired): asking them for their own addresses cannot work, the parent's
            # referral brings the glue afresh (Unbound's iter_dp_is_useless: "go up one
            # level, and try to get even further")
            zone, ns_names = it.view.closest_cut(zone.parent(), budget.unconfigured)
        while True:
            try:
                servers = await it.addresses.for_zone(zone, ns_names, self.exchanger, budget,
                                                      self.depth, self.avoid)
                break
            except ResolutionFailed:
                if zone == dns.name.root or (self.avoid and it.view.addresses(ns_names)):
                    raise  # (every known server of the cut is avoided: that is final)
                # No usable address for this cut (its glue expired, say): start from the
                # parent's cut, whose referral brings the delegation and glue afresh.
                if not ns_names:
                    raise  # a stub zone's configured servers: nothing above them to ask
                zone, ns_names = it.view.closest_cut(zone.parent(), budget.unconfigured)
        self.zone, self.ns_names, self.servers = zone, ns_names, servers
        self.qout = len(zone)
        self.cached_cut = zone != dns.name.root and bool(ns_names)  # an NS set from the cache
        self.exhausted = f"no usable server for {zone}"

    def check_limits(self) -> None:
        if self.budget.queries_left <= 0:
            raise ResolutionFailed("upstream query budget spent")
        if self.it.clock.monotonic() > self.budget.deadline:
            raise ResolutionFailed("deadline passed")

    async def refetch_delegation(self) -> None:
        """No server of the zone is left: fetch its delegation afresh from the parent, once
        per lookup, or fail."""
        it = self.it
        if not self.cached_cut or self.refetched is not None \
                or it.cache.parent_refetched(self.zone, it.clock.monotonic()):
            # (once per lookup, and not while the parent's NS set fetched again
            # for an earlier lookup stands: Unbound's processLastResort goes up
            # only when no parent-side NS set is cached)
            raise ResolutionFailed(self.exhausted)
        self.refetched = (self.zone, frozenset(self.failed))
        self.zone, self.ns_names, self.servers = await it.addresses.refetch(
            self.zone, self.exchanger, self.budget, self.depth, self.avoid)
        self.cached_cut, self.failed, self.reclame = False, set(), None
        self.qout, self.count, self.minimise = len(self.zone), 0, self.config.qname_minimisation

    def next_question(self) -> _Question | None:
        """The next name to ask, revealed by minimise_labels() while minimising, else the
        question itself; None when the minimised name is known to have no cut."""
        if self.minimise:
            self.count += 1
            labdiff, keep = minimise_labels(len(self.name), self.qout, self.count)
            hide = self.config.qmin_hide_qtype \
                and self.qtype not in (T.A, T.DS, self.config.qmin_qtype)
            if labdiff < 1 or (labdiff < 2 and not hide):
                self.minimise = False  # stop minimising: resolve "as usual"
            else:
                self.qout = keep
                if self.it.view.known_no_cut(self.name.split(keep)[1]):
                    return None
                return _Question(self.name.split(self.qout)[1], self.config.qmin_qtype, True)
        return _Question(self.name, self.qtype, False)

    async def send(self, question: _Question) -> UpstreamResult:
        """Ask the zone's servers (the lame ones last), paying for every attempt."""
        it = self.it
        result = await self.exchanger.exchange(
            UpstreamQuery(question.name, question.qtype, self.zone,
                          it.view.not_lame(self.zone, self.servers),
                          dnssec=self.config.dnssec, minimised=question.probe,
                          tcp=it.zone_tcp(self.zone))
        )
        self.budget.spend(max(1, result.attempts))
        if not question.probe:
            mark_refusers(it.cache, result, self.zone, it.clock.monotonic())
        return result

    async def no_response(self, result: UpstreamResult, question: _Question) -> None:
        """No usable response: ask the full name (a minimised probe, relaxed), or the
        servers not tried yet, or look further ones up."""
        if result.failure is Failure.CAPS_FALLBACK:
            # 0x20 failed and the servers then disagreed: Unbound's iterator gives up the
            # question at once ("0x20 failed, then got different replies in fallback")
            raise ResolutionFailed(f"{self.zone} servers: 0x20 failed, then different "
                                   "replies in the fallback")
        if question.probe and not self.config.qmin_strict:
            # Unbound's relaxed mode: a minimised query that fails (error rcode,
            # timeouts) stops minimisation for this resolution; ask the full name.
            # (Strict: the full name is never sent; the failure is the servers'.)
            self.minimise = False
            return
        # Only the addresses that were tried and failed count as failed: with many
        # addresses one exchange's attempts may not reach them all.
        tried = {addr for addr, _ in result.failures}
        self.failed.update(tried or self.servers)
        self.servers = [s for s in self.servers if s not in self.failed]
        if not self.servers:
            self.servers = await self.it.addresses.others(
                self.zone, self.ns_names, self.exchanger, self.budget, self.depth,
                self.failed | self.avoid)
        if self.servers:
            return  # addresses not tried yet (or newly looked up)
        failure = result.failure.value if result.failure else "no answer"
        self.exhausted = f"{self.zone} servers: {failure}"

    def classify(self, response: dns.message.Message,
                 question: _Question) -> tuple[Classified, dns.message.Message]:
        """The scrubbed response classified (what a probe takes from a recursion-lame
        server; a DNSSEC-lame answer as lame; a referral carrying the asked DS as the
        answer), with the response the answer is taken from."""
        qn, qt, zone = question.name, question.qtype, self.zone
        away = scrub(response, zone, self.config.harden_glue, self.config.scrub_promiscuous,
                     private=self.config.private, max_ns=self.config.scrub_ns)
        c = classify(response, qn, qt, zone, self.config.chain_hops(), away,
                     cut_chains=self.config.cut_cname_chains,
                     lame_answers=self.config.recursion_lame_answers)
        if question.probe and c.fallback is not None:
            # A minimised probe only learns where the cuts are; a recursion-lame
            # server's view of that is taken (the question itself is judged).
            c = c.fallback
        if self.it.dnssec_lame(c, response, zone):
            # DNSSEC-lame (Unbound's dnsseclame, iterator.c processQueryResponse): a
            # server of a signed zone answered without any signature; another server
            # is asked, and the answer is taken only when every one does the same
            # (the validator then judges it).  Minimised questions too: an unsigned
            # NXDOMAIN would end the walk (Unbound checks every response while DNSSEC
            # is expected, and stops at an NXDOMAIN only when it is signed).
            c = Classified(Kind.LAME, why=f"dnssec-lame: no RRSIG from a server of {zone}, "
                           "which is signed", fallback=c)
        if c.kind is Kind.REFERRAL and qt == T.DS and c.cut == qn:
            # A DS question answered with the referral to that very zone: the DS RRset
            # the referral carries is the parent's own data, the answer (RFC 4035
            # §3.1.4.1: DS is served from the parent side of the cut).
            ds = ds_of_referral(response, qn)
            if ds is not None:
                response = ds
                c = classify(ds, qn, qt, zone, self.config.chain_hops(), False,
                             cut_chains=self.config.cut_cname_chains)
        return c, response

    async def follow_referral(self, c: Classified, question: _Question) -> None:
        """Cache the delegation and go down to the new cut's servers (unless the cut is no
        help for the address asked: then the full question goes to this zone)."""
        assert c.cut is not None and c.ns is not None
        it, budget = self.it, self.budget
        if self.config.harden_unverified_glue:
            set_aside_unverified_glue(it.cache, c, it.clock.monotonic())
        cache_referral(it.cache, c, self.zone, it.clock.monotonic())
        budget.remember_glue(c.glue)
        if question.probe and it.view.useless_for(self.name, self.qtype, c):
            # The cut's only way in is the address asked for here (Unbound's
            # iter_dp_is_useless): stay with this zone's servers, full question.
            self.minimise = False
            return
        self.zone = zone = c.cut
        if not (question.probe and question.name.is_subdomain(zone)):
            # Unbound (INIT_MINIMISE_STATE) keeps the minimised name when it is
            # under the new cut; else it starts again from the cut.
            self.qout, self.count = len(zone), 0
        self.ns_names = [rd.target for rd in c.ns]
        self.failed = set()
        self.reclame = None
        self.cached_cut = False
        # (after a re-fetch, the servers that failed for this zone stay out)
        gone: frozenset[str] = frozenset()
        if self.refetched is not None and self.refetched[0] == zone:
            gone = self.refetched[1]
            it.cache.mark_parent_refetched(zone, it.clock.monotonic(), c.ns.ttl)
        self.servers = await it.addresses.for_zone(zone, self.ns_names, self.exchanger,
                                                   budget, self.depth, self.avoid | gone)
        if self.config.harden_referral_path:
            await it.check_ns(zone, self.servers, self.exchanger, budget)

    async def drop_lame_server(self, c: Classified, result: UpstreamResult,
                               response: dns.message.Message,
                               question: _Question) -> Step | None:
        """The server is lame for the zone: ask another; when none is left, take what a
        recursion-lame server said for the question, if one did."""
        it = self.it
        self.servers = [s for s in self.servers if s != result.server]
        if result.server is not None:
            self.failed.add(result.server)
            # Lameness is a property of one address for one zone (RFC 4697 §2.1;
            # Unbound's infra cache keys it by address and zone): that address is
            # not asked for this zone again while others are left, whatever name
            # it is listed under.
            it.cache.infra.mark_lame(result.server, self.zone, it.clock.monotonic(), LAME_TTL)
        if c.fallback is not None and self.reclame is None and not question.probe:
            self.reclame = (c.fallback, response.flags, result.server)
        if not self.servers:
            self.servers = await it.addresses.others(
                self.zone, self.ns_names, self.exchanger, self.budget, self.depth,
                self.failed | self.avoid)
        if question.probe and c.fallback is not None:
            # A minimised question answered dnssec-lame (the only lameness a probe keeps a
            # fallback for): as Unbound after any lame answer, stop minimising; the full
            # question goes to the zone's other servers, or back to this one when none is
            # left (Unbound's dnssec-lame bypass), whose answer the validator then judges.
            self.minimise = False
            if not self.servers and result.server is not None:
                self.servers = [result.server]
                return None
        if not self.servers:
            if self.reclame is not None and not question.probe:
                # Every server is recursion-lame: take what one of them said
                # (Unbound does, rather than fail: iter_reclame_two).
                fallback, flags, server = self.reclame
                self._count_origin(server)
                return it.conclude(fallback, self.name, self.qtype, flags)
            self.exhausted = f"every server of {self.zone} is lame ({c.why})"
        return None

    def learn_from_probe(self, c: Classified, result: UpstreamResult,
                         response: dns.message.Message, question: _Question) -> Step | None:
        """A minimised probe's answer: no cut at that name (reveal more), or an NXDOMAIN
        that ends the walk where DNSSEC is expected (else the full name is asked)."""
        if c.kind is Kind.NXDOMAIN:
            # Unbound's relaxed mode: stop minimising.  In a zone where DNSSEC is
            # expected the NXDOMAIN is the answer (RFC 8020: nothing exists below;
            # signed zones do not deny empty non-terminals); elsewhere the full
            # name is asked.
            self.minimise = False
            if self.it.dnssec_expected(self.zone) or self.config.qmin_strict:
                self._count_origin(result.server)
                return self.it.conclude(c, question.name, question.qtype, response.flags)
            return None
        remember_no_cut(self.it.cache, self.config.qmin_qtype, question.name, c,
                        self.it.clock.monotonic())
        if self.config.qmin_stop_on_answer:
            self.minimise = False  # Knot Resolver's NO_MINIMIZE: the full name next
        return None

    def take_answer(self, c: Classified, result: UpstreamResult,
                    response: dns.message.Message) -> Step:
        """The answer to the question (data, a CNAME, a negative answer), cached."""
        if c.kind in (Kind.ANSWER, Kind.CNAME) and not c.proofs:
            c.proofs = denial_records(response)  # a wildcard answer's proof, if any
        self._count_origin(result.server)
        return with_extras(self.it.conclude(c, self.name, self.qtype, response.flags), c,
                           response, self.config)

    def _count_origin(self, server: str | None) -> None:
        """The client's answer comes from ``server`` (the validator avoids it on a retry)."""
        if self.depth == 0 and server is not None:
            self.budget.origins.add(server)


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
