"""The candidate resolver assembled in-process for one scenario run.

A fresh cache, recursor and conductor per run (per scenario and variant), on a
:class:`~resolver.clock.ManualClock` that starts at the scenario's ``val-override-date``
(UTC; the real time when absent, as Deckard's faked clock does) and moves only on
TIME_PASSES.  The conductor is the production one over a
:class:`~deckard.fakenet.ScenarioTransport`, so retries, TCP on TC and EDNS fallback are
exercised as in production.  The header configures it through :class:`CandidateConfig`:
the root hint (``stub-addr``/``stub-name``, or built-in hints), QNAME minimisation, the
address families, glue hardening, 127/8 servers, forwarding, and DNSSEC validation: with
``trust-anchor`` lines the recursor is wrapped in the
:class:`~resolver.dnssec.validating.ValidatingRecursor`, with the anchors and the
``domain-insecure`` names as negative anchors, on the same clock (so signatures are checked
at the scenario's date).

:class:`Candidate` is the client side: wire in, wire out, like a server front end (a query
that does not parse gets a header-only FORMERR, a non-QUERY opcode gets NOTIMP, a question
count other than one FORMERR).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype

from deckard.fakenet import ScenarioNet, ScenarioTransport
from deckard.header import ScenarioConfig, ValidationConfig
from resolver.app import ResolverAnswerer, assemble
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.dnssec.anchors import TrustAnchorError, TrustAnchors
from resolver.dnssec.config import DnssecConfig
from resolver.kresdmod import KresdModules
from resolver.localzone import LocalConfig, NoReply
from resolver.model import Request, server_ip
from resolver.msgfit import fit
from resolver.recursor import ConfiguredZone, RecursorConfig, Resolution
from resolver.recursor.exchanger import Exchanger
from resolver.recursor.private import PrivateAddresses
from resolver.workers import udp_limit

CACHE_BYTES = 16 * 1024 * 1024
OUR_PAYLOAD = 1232
MAX_MESSAGE = 65535  # a client query gets its whole answer (Deckard never truncates)

BUILTIN_ROOT_HINTS: tuple[tuple[str, str], ...] = tuple(
    (f"{letter}.root-servers.net.", addr)
    for letter, v4, v6 in (
        ("a", "198.41.0.4", "2001:503:ba3e::2:30"),
        ("b", "192.228.79.201", "2001:500:84::b"),
        ("c", "192.33.4.12", "2001:500:2::c"),
        ("d", "199.7.91.13", "2001:500:2d::d"),
        ("e", "192.203.230.10", "2001:500:a8::e"),
        ("f", "192.5.5.241", "2001:500:2f::f"),
        ("g", "192.112.36.4", "2001:500:12::d0d"),
        ("h", "198.97.190.53", "2001:500:1::53"),
        ("i", "192.36.148.17", "2001:7fe::53"),
        ("j", "192.58.128.30", "2001:503:c27::2:30"),
        ("k", "193.0.14.129", "2001:7fd::1"),
        ("l", "199.7.83.42", "2001:500:9f::42"),
        ("m", "202.12.27.33", "2001:dc3::35"),
    )
    for addr in (v4, v6)
)
"""The root servers as a resolver of the scenarios' era (2017) had them built in; used
when a scenario names no ``stub-addr`` (it then serves these addresses itself)."""


class WholeSecondClock:
    """A view of a clock that reads whole seconds, rounded down: Unbound's idea of time
    (``time_t``; testbound advances it by fractions, the resolver sees the seconds), so a
    TTL counts down when a second boundary passes, not a second after the data came."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def now(self) -> float:
        return float(math.floor(self.clock.now()))

    def monotonic(self) -> float:
        return float(math.floor(self.clock.monotonic()))


@dataclass(frozen=True)
class CandidateConfig:
    """How the scenario's header sets up the candidate for one variant."""

    root_hints: tuple[tuple[str, str], ...]
    qname_minimisation: bool
    start_time: float
    do_ip4: bool = True
    do_ip6: bool = True
    harden_glue: bool = True
    harden_unverified_glue: bool = False  # sibling glue kept for the last resort
    scrub_promiscuous: bool = False
    # RFC 8109 priming before the first iteration from the hints: Unbound's testbound
    # scenarios expect its '. NS' query first; Deckard's often have no entry for it
    prime: bool = False
    root_stub: bool = False  # testbound's stub-zone ".": its addresses stay the root's
    root_tcp: bool = False  # the root's configured servers over TCP
    root_no_cache: bool = False  # the root forward zone's answers are not cached
    # Unbound's scrubber cuts an answer's CNAME chain after the first alias and asks the
    # target again (RFC 2181 §5.4.1); Knot Resolver, whose view Deckard's scenarios hold,
    # follows the chain inside the server's zone
    cut_cname_chains: bool = False
    recursion_lame_answers: bool = True  # Unbound's; Knot Resolver takes positive ones
    # Unbound 1.24 keeps a DNAME of TTL 0 for a second's grace (synthesis from the cache)
    dname_zero_ttl_grace: bool = False
    whole_seconds: bool = False  # the resolver's clock reads whole seconds (Unbound's)
    shared_soa: bool = False  # a cached denial shows the zone's latest SOA (Unbound's)
    qmin_hide_qtype: bool = False  # Unbound's: the full name asked with qtype A first
    do_not_query_localhost: bool = True
    forwarders: tuple[str, ...] = ()
    forward_hosts: tuple[dns.name.Name, ...] = ()
    zones: tuple[ConfiguredZone, ...] = ()
    harden_referral_path: bool = False
    prefetch: bool = False
    qmin_strict: bool = False
    # Knot Resolver's: a minimised query's non-referral answer ends minimisation (Deckard's
    # scenarios are Knot Resolver's); Unbound reveals the next label (testbound)
    qmin_stop_on_answer: bool = False
    deny_any: bool = False
    dnssec_lame_check: bool = True
    use_0x20: bool = True  # randomise the case of names sent upstream (Unbound's use-caps-for-id)
    tcp_upstream: bool = False  # every upstream query over TCP (tcp-upstream, do-udp: no)
    prefer_family: int | None = None  # prefer-ip4 / prefer-ip6: that family asked first
    caps_exempt: tuple[dns.name.Name, ...] = ()  # caps-exempt: no 0x20 at or below these
    edns_buffer_size: int = 1232  # the UDP size advertised upstream (edns-buffer-size)
    max_udp_size: int = 0  # the largest UDP reply to a client (max-udp-size); 0: no limit
    nat64_prefix: ipaddress.IPv6Network | None = None  # do-nat64: IPv4 servers via NAT64
    do_not_query: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # which NXDOMAINs deny the names below them (RFC 8020, DnsCache.nxdomain_cut): Knot
    # Resolver's view (Deckard) every one; Unbound's harden-below-nxdomain secure ones only
    nxdomain_cut: str = "any"
    norec: str | None = None  # a query without RD: "refuse", "snoop", "recurse"; None: resolved
    validation: ValidationConfig = ValidationConfig()
    minimal_responses: bool = True
    minimal_ns_answers: bool = True  # off: answers to NS keep their extras (Unbound's way)
    # RecursorConfig numbers: cache_*_ttl, max_query_restarts
    ttl_bounds: tuple[tuple[str, int], ...] = ()
    local: LocalConfig | None = None  # local zones (testbound: with Unbound's defaults)
    kresd: KresdModules | None = None  # kresd's policy, dns64, renumber (Deckard features)
    stale: tuple[tuple[str, int | bool], ...] = ()  # RecursorConfig fields: serve_expired*
    private: PrivateAddresses = PrivateAddresses()  # private-address / private-domain
    qmin_qtype: int = int(dns.rdatatype.NS)
    """Deckard's scenarios are written for minimised queries of type NS (Knot Resolver's
    way, RFC 7816): their ranges often have no entry for a minimised A query, and Deckard
    fails any question it cannot answer.  The candidate's own default is A (RFC 9156,
    Unbound); ``shadowdns deckard run --qmin-qtype A`` runs the scenarios that way."""

    @classmethod
    def from_scenario(
        cls, config: ScenarioConfig, qmin: bool, now: float | None = None
    ) -> CandidateConfig:
        if config.stub_addr is not None:
            hints: tuple[tuple[str, str], ...] = tuple(
                (config.stub_name.to_text(), a) for a in (config.stub_addrs or (config.stub_addr,))
            )
        elif config.forward_addrs:
            hints = tuple((config.stub_name.to_text(), a) for a in config.forward_addrs)
        else:
            hints = BUILTIN_ROOT_HINTS
        start = config.start_time
        if start is None:
            start = float(int(time.time() if now is None else now))
        return cls(
            root_hints=hints,
            qname_minimisation=qmin,
            start_time=start,
            do_ip4=config.do_ip4,
            do_ip6=config.do_ip6,
            harden_glue=config.harden_glue,
            harden_unverified_glue=config.harden_unverified_glue,
            scrub_promiscuous=config.scrub_promiscuous,
            prime=config.dialect == "testbound",
            root_stub=(config.dialect == "testbound" and config.stub_addr is not None
                       and not config.root_stub_prime),
            cut_cname_chains=config.dialect == "testbound",
            recursion_lame_answers=config.dialect == "testbound",
            dname_zero_ttl_grace=config.dialect == "testbound",
            whole_seconds=config.dialect == "testbound",
            shared_soa=config.dialect == "testbound",
            qmin_hide_qtype=config.dialect == "testbound",
            minimal_ns_answers=config.dialect != "testbound",
            do_not_query_localhost=config.do_not_query_localhost,
            forwarders=config.forward_addrs,
            forward_hosts=config.forward_hosts,
            zones=config.zones,
            norec=config.norec,
            harden_referral_path=config.harden_referral_path,
            prefetch=config.prefetch,
            qmin_strict=config.qmin_strict,
            qmin_stop_on_answer=config.dialect != "testbound",
            deny_any=config.deny_any,
            dnssec_lame_check=config.dnssec_lame_check,
            use_0x20=config.use_0x20,
            tcp_upstream=config.tcp_upstream,
            prefer_family=config.prefer_family, caps_exempt=config.caps_exempt,
            edns_buffer_size=config.edns_buffer_size,
            max_udp_size=config.max_udp_size,
            nat64_prefix=config.nat64_prefix,
            do_not_query=config.do_not_query,
            nxdomain_cut="any" if config.dialect != "testbound"
            else "secure" if config.harden_below_nxdomain else "none",
            validation=config.validation if config.dialect == "testbound"
            else strict_windows(config.validation),
            minimal_responses=config.minimal_responses,
            ttl_bounds=config.ttl_bounds,
            local=config.local,
            kresd=config.kresd,
            stale=config.stale,
            private=config.private,
            root_tcp=config.root_tcp,
            root_no_cache=config.root_no_cache,
        )

    def usable_hints(self) -> tuple[tuple[str, str], ...]:
        """The root hints of the address families the candidate may use."""
        return tuple(
            (n, a)
            for n, a in self.root_hints
            if (self.do_ip4 or self.nat64_prefix is not None
                if ipaddress.ip_address(server_ip(a)).version == 4 else self.do_ip6)
        )

    def dnssec_config(self) -> DnssecConfig:
        """The validator's settings the header gives (Unbound's val-* options)."""
        v = self.validation
        config = DnssecConfig(
            unchecked_algorithms=v.unchecked_algorithms,
            ignore_dates=v.ignore_dates,
            harden_dnssec_stripped=v.harden_dnssec_stripped,
            permissive=v.permissive,
            ignore_cd=v.ignore_cd,
            validate_cd=v.validate_cd,
            nsec3_keysize_iterations=v.nsec3_keysize_iterations,
            aggressive_nsec=v.aggressive_nsec,
            clean_additional=v.clean_additional,
            harden_algo_downgrade=v.harden_algo_downgrade,
            root_key_sentinel=v.root_key_sentinel,
        )
        numbers = dict(v.dnssec_numbers)
        if v.bogus_ttl is not None:
            numbers["bogus_ttl"] = v.bogus_ttl
        return dataclasses.replace(config, **numbers)  # type: ignore[arg-type]

    def recursor_config(self) -> RecursorConfig:
        config = RecursorConfig(
            qname_minimisation=self.qname_minimisation,
            qmin_qtype=self.qmin_qtype,
            do_ip4=self.do_ip4,
            do_ip6=self.do_ip6,
            nat64_prefix=self.nat64_prefix,
            do_not_query_localhost=self.do_not_query_localhost,
            harden_glue=self.harden_glue,
            harden_unverified_glue=self.harden_unverified_glue,
            scrub_promiscuous=self.scrub_promiscuous,
            prime=self.prime,
            root_stub=self.root_stub,
            root_tcp=self.root_tcp,
            root_no_cache=self.root_no_cache,
            cut_cname_chains=self.cut_cname_chains,
            recursion_lame_answers=self.recursion_lame_answers,
            qmin_hide_qtype=self.qmin_hide_qtype,
            forwarders=self.forwarders,
            forward_hosts=self.forward_hosts,
            zones=self.zones,
            harden_referral_path=self.harden_referral_path,
            prefetch=self.prefetch,
            qmin_strict=self.qmin_strict,
            qmin_stop_on_answer=self.qmin_stop_on_answer,
            deny_any=self.deny_any,
            dnssec_lame_check=self.dnssec_lame_check,
            do_not_query=self.do_not_query,
            keep_extras=not (self.minimal_responses and self.minimal_ns_answers),
            private=self.private,
        )
        overrides: dict[str, object] = {**dict(self.ttl_bounds), **dict(self.stale)}
        return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]


def strict_windows(validation: ValidationConfig) -> ValidationConfig:
    """The Deckard dialect's validator: no clock skew around a signature's validity window.
    Knot Resolver, whose scenarios these are, checks inception and expiration against the
    time itself (RFC 4035 §5.3.1); Unbound's 10 % of the window (val-sig-skew-min/max) is
    the testbound dialect's.  A CD query is not validated (Knot Resolver's validate layer
    passes CD queries through: no AD, bogus data as it came); the testbound dialect
    validates it, as Unbound does."""
    numbers = dict(validation.dnssec_numbers)
    numbers.setdefault("sig_skew_min", 0)
    numbers.setdefault("sig_skew_max", 0)
    return dataclasses.replace(validation, dnssec_numbers=tuple(sorted(numbers.items())),
                               validate_cd=False)


def finish(query: dns.message.Message, answer: dns.message.Message) -> dns.message.Message:
    """The reply a client gets: ``answer``'s rcode and sections, fixed up as the server's
    workers do it: the client's ID and question (0x20 case kept), QR and RA set, RD and CD
    copied, AA and AD kept (AD only for a client that set DO or AD, RFC 6840 §5.8), EDNS
    only for an EDNS client (version 0, DO echoed, the answer's options such as EDE kept)."""
    reply = dns.message.Message(id=query.id)
    kept = answer.flags & (dns.flags.AA | dns.flags.AD)
    if not (query.ednsflags & dns.flags.DO or query.flags & dns.flags.AD):
        kept &= ~dns.flags.AD
    reply.flags = (
        dns.flags.QR | dns.flags.RA | kept | (query.flags & (dns.flags.RD | dns.flags.CD))
    )
    reply.question = list(query.question)
    reply.answer = list(answer.answer)
    reply.authority = list(answer.authority)
    reply.additional = list(answer.additional)
    rcode = answer.rcode()
    if query.edns >= 0:
        options = list(answer.options) if answer.edns >= 0 else []  # EDE, for one
        reply.use_edns(0, query.ednsflags & dns.flags.DO, OUR_PAYLOAD, options=options)
    elif rcode > 0xF:
        rcode = dns.rcode.SERVFAIL
    reply.set_rcode(dns.rcode.Rcode(rcode))
    return reply


def trust_anchors(validation: ValidationConfig) -> TrustAnchors:
    """The header's trust anchors and ``domain-insecure`` names for the validator.

    An anchor the validator's reader refuses (a DS whose digest does not fit its type, kept
    as generic data by the parser) can never match a key: its zone is kept as anchored but
    unusable, so it validates as bogus (as in Unbound) instead of going unvalidated.
    """
    records: list[str] = []
    unusable: set[dns.name.Name] = set()
    for rr in validation.trust_anchors:
        text = rr.to_text()
        try:
            TrustAnchors.from_records([text])
        except TrustAnchorError:
            unusable.add(rr.name)
            continue
        records.append(text)
    anchors = TrustAnchors.from_records(records, validation.negative_anchors)
    return dataclasses.replace(anchors, unusable=frozenset(unusable))


def malformed_reply(wire: bytes) -> bytes | None:
    """The reply to a query that does not parse (a name longer than 255 octets, a
    truncated record, ...): FORMERR with the query's own header, QR set and no section
    (RFC 1035 §4.1.1 "unable to interpret the query"; the server front end does the same,
    resolver.workers), RA not set as Unbound's worker_check_request has it.  Nothing for
    less than a header or for a response."""
    if len(wire) < 12 or wire[2] & 0x80:
        return None
    flags = int.from_bytes(wire[2:4], "big")
    kept = flags & (0x7800 | int(dns.flags.RD) | int(dns.flags.CD))  # opcode, RD, CD
    out = int(dns.flags.QR) | kept | dns.rcode.FORMERR
    return wire[:2] + out.to_bytes(2, "big") + bytes(8)


class _Known:
    """A resolution already made (from the cache), for the answerer to shape."""

    def __init__(self, res: Resolution) -> None:
        self.res = res

    async def resolve(self, request: Request, exchanger: Exchanger) -> Resolution:
        return self.res

    def flush_name(self, name: dns.name.Name) -> int:
        return 0  # (it holds one resolution, no cache)


class Candidate:
    """The candidate resolver over a scenario's fake network, driven by wire messages."""

    def __init__(self, config: CandidateConfig, net: ScenarioNet, seed: int = 0,
                 exchanger: Callable[[Exchanger], Exchanger] | None = None) -> None:
        """``exchanger`` wraps the conductor (tests put a fault there, at the seam)."""
        self.config = config
        self.clock = ManualClock(start=config.start_time)
        negative_cap = dict(config.ttl_bounds).get("cache_max_negative_ttl")
        max_ttl = dict(config.ttl_bounds).get("cache_max_ttl")
        if dict(config.stale).get("serve_original_ttl"):
            max_ttl = None  # serve-original-ttl: the bounds do not apply (unbound.conf(5))
        self.cache = DnsCache(CACHE_BYTES, dname_zero_ttl_grace=config.dname_zero_ttl_grace,
                              shared_soa=config.shared_soa, nxdomain_cut=config.nxdomain_cut,
                              **({} if max_ttl is None else {"max_ttl": max_ttl}),
                              **({} if negative_cap is None
                                 else {"max_negative_ttl": negative_cap}))
        self.transport = ScenarioTransport(net)
        self.validation = config.validation
        self.anchors = trust_anchors(config.validation)
        parts = assemble(
            self.transport, self.clock, cache=self.cache,
            root_hints=config.usable_hints() or config.root_hints,
            recursor_config=config.recursor_config(), anchors=self.anchors or None,
            dnssec_config=config.dnssec_config(),
            rng=random.Random(seed),
            recursor_clock=WholeSecondClock(self.clock) if config.whole_seconds else None,
            seam=exchanger, minimal_responses=config.minimal_responses, use_0x20=config.use_0x20,
            tcp_upstream=config.tcp_upstream, prefer_family=config.prefer_family,
            caps_exempt=config.caps_exempt, edns_payload=config.edns_buffer_size,
            minimal_ns_answers=config.minimal_ns_answers,
            local_zones=None if config.local is None else config.local.build())
        self.conductor = parts.conductor
        self.recursor = parts.recursor
        self.answerer = parts.answerer

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def forget(self, name: dns.name.Name, rdtype: int, expire: bool = False) -> None:
        """Drop the cached answer to (``name``, ``rdtype``): its RRset, its denial and the
        extras kept with it (testbound's FLUSH_MESSAGE, and EXPIRE_MESSAGE without
        serve-expired: the next such query goes upstream).  ``expire`` with serve-expired
        on (EXPIRE_MESSAGE): the answer expires now instead, kept as expired data is."""
        if expire and self.recursor.config.serve_expired:
            self.cache.expire(name, rdtype, self.recursor.clock.monotonic())
            return
        self.cache.rrsets.pop(name, rdtype)
        self.cache.negative.pop(name, rdtype)
        self.recursor.forget_extras(name, rdtype)

    def infra_rtt(self, address: str, milliseconds: int) -> None:
        """A measured round trip to ``address`` (testbound's INFRA_RTT), fed to the infra
        cache the conductor orders servers by.  The candidate keeps RTTs per address, as
        Knot Resolver does (Unbound per address and zone), so the zone is not needed."""
        self.cache.infra.rtt_update(address, milliseconds / 1000, self.clock.monotonic())

    async def handle(self, wire: bytes) -> bytes | None:
        """The reply to one client message, or None when the candidate sends nothing."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return malformed_reply(wire)
        if query.flags & dns.flags.QR:
            return None
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            reply = dns.message.make_response(query, recursion_available=True)
            if query.opcode() != dns.opcode.QUERY:
                reply.set_rcode(dns.rcode.NOTIMP)
            else:
                reply.set_rcode(dns.rcode.FORMERR)
            return reply.to_wire()
        q = query.question[0]
        request = Request(
            qname=q.name,
            qtype=q.rdtype,
            qclass=q.rdclass,
            do=bool(query.ednsflags & dns.flags.DO),
            cd=bool(query.flags & dns.flags.CD),
            rd=bool(query.flags & dns.flags.RD),
        )
        kresd = self.config.kresd
        try:  # kresd's policy rules come first (its policy module's begin layer)
            policy = kresd.policy_reply(query) if kresd is not None else None
        except NoReply:
            return None  # NO_ANSWER
        if policy is not None:
            return self._policy_wire(query, policy)
        try:  # local zones answer before the RD check (Unbound's worker_handle_request;
            # a local alias is resolved after it)
            local = await self.answerer.local_reply(request, query, aliases=request.rd)
        except NoReply:
            return None  # a deny zone: no reply at all
        if local is not None:
            return self._wire(query, finish(query, local))
        if not request.rd and self.config.norec is not None:
            if self.config.norec == "refuse":
                reply = dns.message.make_response(query, recursion_available=True)
                reply.set_rcode(dns.rcode.REFUSED)
                return reply.to_wire()
            if self.config.norec == "snoop":
                return self._wire(query, finish(query, await self.snoop(request, query)))
            request = dataclasses.replace(request, rd=True)
        answer = await self.answerer.answer(request, query)
        if kresd is not None:
            answer = await self._kresd_answer(kresd, request, query, answer)
        await self.recursor.settle()  # refreshes behind expired answers end before the next step
        return self._wire(query, finish(query, answer))

    async def _kresd_answer(self, kresd: KresdModules, request: Request,
                            query: dns.message.Message,
                            answer: dns.message.Message) -> dns.message.Message:
        """kresd's answer stage: dns64 synthesis (RFC 6147 §5.1), then renumbering."""
        if kresd.wants_dns64(request.qtype, answer, query):
            a_query = dns.message.make_query(request.qname, dns.rdatatype.A)
            a_request = dataclasses.replace(request, qtype=dns.rdatatype.A)
            answer = kresd.synthesise(answer, await self.answerer.answer(a_request, a_query))
        return kresd.renumbered(answer)

    def _policy_wire(self, query: dns.message.Message, reply: dns.message.Message) -> bytes:
        out = finish(query, reply)
        out.flags |= reply.flags & dns.flags.TC  # policy TC: the client retries over TCP
        return self._wire(query, out)

    def _wire(self, query: dns.message.Message, reply: dns.message.Message) -> bytes:
        """``reply`` as the client takes it.  Testbound's client asks over UDP: a reply over
        the limit (max-udp-size, lowered to the query's EDNS size; 512 octets without EDNS) is
        cut as Unbound's msgencode.c cuts it, whole RRsets that fit staying: TC when an RRset
        of the answer or authority section did not fit, an additional section shortened
        without TC (RFC 2181 §9).  Deckard's scenarios get the whole answer."""
        if not self.config.max_udp_size:
            return reply.to_wire(max_size=MAX_MESSAGE)
        return fit(reply, udp_limit(query, cap=self.config.max_udp_size))

    async def snoop(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        """A query without RD answered from the cache only (Unbound's allow_snoop): the
        cached answer, else a referral to the closest servers the cache knows (RFC 1034
        §4.3.1), else (nothing cached, the root's NS RRset expired too) the root primed
        now, answered as Unbound answers with its priming response: the root's NS RRset in
        the answer section, its servers' addresses in the additional section; SERVFAIL when
        the root cannot be primed.  Nothing else is sent upstream."""
        cached = self.recursor.cached(request)
        if cached is not None:
            return await ResolverAnswerer(
                _Known(cached), self.answerer.exchanger,
                minimal_responses=self.answerer.minimal_responses,
                minimal_ns_answers=self.answerer.minimal_ns_answers,
                stale_ede=self.answerer.stale_ede,
            ).answer(request, query)
        reply = dns.message.make_response(query, recursion_available=True)
        referral = self.recursor.cached_referral(request.qname, request.qtype)
        if referral is not None:
            reply.authority, reply.additional = referral
            return reply
        primed = await self.recursor.primed_root(self.answerer.exchanger)
        if primed is None:
            reply.set_rcode(dns.rcode.SERVFAIL)
            return reply
        reply.answer, reply.additional = primed
        return reply

    @property
    def upstream_queries(self) -> int:
        return self.transport.queries

