"""The resolver assembled: cache + recursor (+ validator) + conductor behind the Answerer seam.

:class:`ResolverAnswerer` turns a recursor :class:`~resolver.recursor.config.Resolution`
into the client's reply (RA set, signatures and denial proofs only for DO clients).  When the
resolution was validated (:class:`~resolver.dnssec.validating.ValidatedResolution`), a secure answer
gets AD if the client set DO or AD (RFC 6840 §5.7/5.8), and the Extended DNS Errors that
explain a bogus or insecure verdict go into the OPT record (RFC 8914) of EDNS clients.
:func:`build` wraps the recursor in a :class:`~resolver.dnssec.validating.ValidatingRecursor` when
trust anchors are configured (by default the bundled IANA root anchor, see
:mod:`resolver.config`); :func:`describe` says which hints and anchors a config uses.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from configfiles import ConfigError
from netpolicy import is_loopback
from resolver import rootdata
from resolver.cache import DnsCache, Security
from resolver.cache.common import MAX_TTL_S
from resolver.cache.reply import UNSTORED_KEY
from resolver.clock import Clock, SystemClock
from resolver.conductor import Conductor, NetworkTransport, Transport
from resolver.conductor.core import EDNS_PAYLOAD
from resolver.config import ResolverConfig
from resolver.dnssec.anchors import TrustAnchorError, TrustAnchors
from resolver.dnssec.chain import ZoneKeys
from resolver.dnssec.config import DnssecConfig
from resolver.dnssec.validating import ValidatedResolution, ValidatingRecursor
from resolver.localzone import LocalZoneError, LocalZones
from resolver.model import Request
from resolver.peers import PeerGroup, PeerResolver
from resolver.plugins import gated
from resolver.recursor import Recursor, RecursorConfig
from resolver.recursor.exchanger import Exchanger
from resolver.recursor.private import PrivateAddressError, PrivateAddresses
from resolver.recursor.resolves import Resolves

DNSSEC_TYPES = {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
MAX_EDE_TEXT = 200  # characters of EXTRA-TEXT per EDE option


class ResolverAnswerer:
    def __init__(
        self, recursor: Resolves, exchanger: Exchanger, *, minimal_responses: bool = True,
        minimal_ns_answers: bool = True, local_zones: LocalZones | None = None,
        stale_ede: bool = False, store_replies: bool = True,
    ) -> None:
        self.recursor = recursor
        self.exchanger = exchanger
        # answered before the cache and the recursion (resolver.localzone)
        self.local_zones = local_zones or None
        # False: a positive answer (or a NODATA without SOA) also carries the NS RRset and
        # addresses its server sent beside it (Unbound's minimal-responses: no); True: only
        # what the answer needs.
        self.minimal_responses = minimal_responses
        # False: answers to qtype NS keep their extras even when replies are minimal, as
        # Unbound's do (msgencode.c positive_answer: "for priming queries, type NS,
        # include addresses")
        self.minimal_ns_answers = minimal_ns_answers
        # True: an answer from expired data carries EDE 3 Stale Answer (RFC 8914 §4.4;
        # Unbound's ede-serve-expired)
        self.stale_ede = stale_ede
        # False: no reply goes to the server's reply cache, which lowers TTLs as it serves
        # (serve-original-ttl answers with the TTL the data came with)
        self.store_replies = store_replies

    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        local = await self.local_reply(request, query)
        if local is not None:
            return local
        return await self.resolved(request, query)

    async def local_reply(self, request: Request, query: dns.message.Message, *,
                          aliases: bool = True) -> dns.message.Message | None:
        """The reply of the local zones (AA set), None when the question is resolved
        normally; raises :class:`~resolver.localzone.NoReply` when it is dropped.  A local
        CNAME answers with the CNAME first and its target resolved after it (Unbound's
        local alias; with ``aliases=False`` such a question gets None, as it goes on to the
        checks a resolved question passes)."""
        if self.local_zones is None:
            return None
        local = self.local_zones.answer(request.qname, request.qtype, request.qclass,
                                        request.client)
        if local is None:
            return None
        if local.alias is not None:
            if not aliases:
                return None
            target = next(iter(local.alias)).target
            reply = await self.resolved(dataclasses.replace(request, qname=target), query)
            reply.answer.insert(0, local.alias)
            return reply
        reply = dns.message.make_response(query, recursion_available=True, our_payload=1232)
        reply.flags |= dns.flags.AA
        reply.set_rcode(dns.rcode.Rcode(local.rcode))
        reply.answer = list(local.answer)
        reply.authority = list(local.authority)
        return reply

    async def resolved(self, request: Request,
                       query: dns.message.Message) -> dns.message.Message:
        """The reply of the recursion (and the validator): no local zone asked."""
        res = await self.recursor.resolve(request, gated(self.exchanger, request))
        reply = dns.message.make_response(query, recursion_available=True, our_payload=1232)
        reply.set_rcode(dns.rcode.Rcode(res.rcode))
        keep_dnssec = request.do
        sections = [(reply.answer, res.answer), (reply.authority, res.authority)]
        minimal = self.minimal_responses and (
            self.minimal_ns_answers or request.qtype != dns.rdatatype.NS)
        if not minimal and res.rcode == dns.rcode.NOERROR \
                and not any(r.rdtype == dns.rdatatype.SOA for r in res.authority):
            sections += [(reply.authority, res.extra_authority),
                         (reply.additional, res.extra_additional)]
        for section, rrsets in sections:
            for rrset in rrsets:
                # without DO only the DNSSEC types asked for; an ANY answer asks them all
                # (Unbound's insert_section: "include all types in ANY answer")
                if (
                    rrset.rdtype in DNSSEC_TYPES
                    and not keep_dnssec
                    and rrset.rdtype != request.qtype
                    and not (section is reply.answer and request.qtype == dns.rdatatype.ANY)
                ):
                    continue
                # an RRset goes in once: extras already in the answer are not repeated
                if rrset not in section and not (section is reply.additional
                                                  and rrset in reply.answer):
                    section.append(rrset)
        if res.stale or not self.store_replies:  # expired data: the next client gets fresh
            request.extra[UNSTORED_KEY] = True
        ede = [(int(_stale_code(res.rcode)), "")] if res.stale and self.stale_ede else []
        if isinstance(res, ValidatedResolution):
            asked_ad = bool(query.flags & dns.flags.AD)
            if res.security is Security.SECURE and (request.do or asked_ad):
                reply.flags |= dns.flags.AD
            ede += res.ede
        if ede and reply.edns >= 0:
            options = list(reply.options) + [
                dns.edns.EDEOption(dns.edns.EDECode.make(code), text[:MAX_EDE_TEXT] or None)
                for code, text in ede
            ]
            reply.use_edns(0, reply.ednsflags, reply.payload, options=options)
        return reply


def _stale_code(rcode: int) -> dns.edns.EDECode:
    """RFC 8914 §4.4 Stale Answer, or §4.20 Stale NXDomain Answer for an NXDOMAIN."""
    if rcode == dns.rcode.NXDOMAIN:
        return dns.edns.EDECode.STALE_NXDOMAIN_ANSWER
    return dns.edns.EDECode.STALE_ANSWER


def trust_anchors(config: ResolverConfig) -> TrustAnchors:
    """The configured trust anchors (file and inline records) and negative anchors; none
    when validation is off."""
    if not config.validation:
        return TrustAnchors()
    try:
        anchors = TrustAnchors.from_records(config.trust_anchors, config.negative_trust_anchors)
        if config.trust_anchor_file is not None:
            anchors = anchors.merged(TrustAnchors.from_file(config.trust_anchor_file))
    except TrustAnchorError as e:
        raise ConfigError(str(e)) from e
    return anchors


@dataclass(frozen=True)
class Assembly:
    """One resolver's parts, as :func:`assemble` put them together."""

    cache: DnsCache
    conductor: Conductor  # over the transport: the network, or a fake one
    recursor: Recursor
    validator: ValidatingRecursor | None  # over the recursor when validating
    answerer: ResolverAnswerer  # what the workers call

    @property
    def resolves(self) -> Resolves:
        """What the answerer asks: the validator, else the recursor."""
        return self.recursor if self.validator is None else self.validator


def assemble(transport: Transport, clock: Clock, *, cache: DnsCache,
             root_hints: Sequence[tuple[str, str]],
             recursor_config: RecursorConfig | None = None,
             anchors: TrustAnchors | None = None,
             dnssec_config: DnssecConfig | None = None,
             rng: random.Random | None = None, use_0x20: bool = True,
             tcp_upstream: bool = False, prefer_family: int | None = None,
             caps_exempt: tuple[dns.name.Name, ...] = (), edns_payload: int = EDNS_PAYLOAD,
             recursor_clock: Clock | None = None,
             seam: Callable[[Exchanger], Exchanger] | None = None,
             minimal_responses: bool = True, minimal_ns_answers: bool = True,
             local_zones: LocalZones | None = None) -> Assembly:
    """The one place a resolver is put together: a conductor over ``transport`` (the
    exchanger seam the recursor asks through), the recursor, the validator over it when
    ``anchors`` are given (None: no validation), and the answerer.  :func:`build` calls it for a
    :class:`ResolverConfig`; Deckard's candidate, the differ's in-process benchmark and the
    tests call it with a fake network (a ``MockTransport``, a scenario's) and a manual clock.

    ``rng``: the conductor's randomness (server choice, IDs, 0x20), seeded for replays;
    ``tcp_upstream``: every upstream query over TCP (Unbound's tcp-upstream);
    ``prefer_family``: 4 or 6, servers of that address family asked first (prefer-ip4/6);
    ``caps_exempt``: names at or below these are sent without 0x20 (caps-exempt);
    ``edns_payload``: the UDP payload size advertised upstream (edns-buffer-size);
    ``recursor_clock``: the recursor's clock when it is not ``clock`` (Deckard's whole
    seconds); ``seam``: wraps the conductor where the answerer asks it (a fault, a
    recorder); ``local_zones``: answered before the cache and the recursion
    (:mod:`resolver.localzone`; None: no local zone, not even Unbound's defaults)."""
    conductor = Conductor(transport, cache.infra, clock, rng, use_0x20=use_0x20,
                          tcp_upstream=tcp_upstream, prefer_family=prefer_family,
                          caps_exempt=caps_exempt, edns_payload=edns_payload)
    resolving_clock = recursor_clock or clock
    zones = None if anchors is None else ZoneKeys(anchors, resolving_clock)
    recursor = Recursor(cache, root_hints, resolving_clock, recursor_config,
                        signed_zone_hint=None if zones is None else zones.is_signed)
    validator = None if zones is None else ValidatingRecursor(recursor, zones, dnssec_config)
    exchanger: Exchanger = conductor if seam is None else seam(conductor)
    answerer = ResolverAnswerer(recursor if validator is None else validator, exchanger,
                                minimal_responses=minimal_responses,
                                minimal_ns_answers=minimal_ns_answers,
                                local_zones=local_zones,
                                stale_ede=recursor.config.serve_expired_ede,
                                store_replies=not recursor.config.serve_original_ttl)
    return Assembly(cache, conductor, recursor, validator, answerer)


def build(config: ResolverConfig, clock: Clock | None = None,
          transport: Transport | None = None) -> ResolverAnswerer:
    """The resolver a config describes, over ``transport`` (default: the network, UDP and
    TCP from ``config.egress`` to ``config.upstream_port``; a ``MockTransport`` or any
    other :class:`~resolver.conductor.Transport` in tests)."""
    clock = clock or SystemClock()
    try:
        local_zones = config.local.build()
    except LocalZoneError as e:
        raise ConfigError(f"local zones: {e}") from None
    if transport is None:
        transport = NetworkTransport(port=config.upstream_port, source=config.egress)
    parts = assemble(
        transport, clock, cache=DnsCache(
            config.dns_cache_bytes, max_negative_ttl=config.cache_max_negative_ttl,
            # cache-max-ttl bounds what the cache keeps, unless serve-original-ttl lifts it
            max_ttl=MAX_TTL_S if config.serve_original_ttl else config.cache_max_ttl),
        root_hints=config.root_hints,
        recursor_config=RecursorConfig(
            qname_minimisation=config.qname_minimisation,
            qmin_qtype=int(dns.rdatatype.from_text(config.qmin_qtype)),
            do_ip6=ip6_enabled(config), prime=config.priming,
            serve_expired=config.serve_expired, serve_expired_ttl=config.serve_expired_ttl,
            serve_expired_ttl_reset=config.serve_expired_ttl_reset,
            serve_expired_reply_ttl=config.serve_expired_reply_ttl,
            serve_expired_client_timeout=config.serve_expired_client_timeout,
            serve_expired_ede=config.serve_expired_ede,
            serve_original_ttl=config.serve_original_ttl,
            cache_min_ttl=config.cache_min_ttl, cache_max_ttl=config.cache_max_ttl,
            cache_max_negative_ttl=config.cache_max_negative_ttl,
            cache_min_negative_ttl=config.cache_min_negative_ttl,
            max_query_restarts=config.max_query_restarts, prefetch=config.prefetch,
            private=private_addresses(config)),
        anchors=trust_anchors(config) or None, use_0x20=config.use_0x20,
        local_zones=local_zones, tcp_upstream=config.tcp_upstream,
        prefer_family=config.prefer_family,
        caps_exempt=caps_exempt(config), edns_payload=config.edns_buffer_size)
    resolves = parts.resolves
    peers = config.peers
    if peers is not None and peers.self_id is not None:
        # a member: it answers peers (single-flight) and, with others, asks their owners
        source = peers.listen[0] if peers.listen is not None else None
        group = PeerGroup(peers.self_id, (*peers.members, *peers.siblings),
                          secret=peers.secret, timeout=peers.timeout,
                          answer_timeout=peers.answer_timeout,
                          source=source if source and not ipaddress.ip_address(
                              source).is_unspecified else None,
                          clock=clock) if peers.enabled else None
        return ResolverAnswerer(PeerResolver(resolves, group), parts.conductor,
                                local_zones=local_zones)
    return parts.answerer


def caps_exempt(config: ResolverConfig) -> tuple[dns.name.Name, ...]:
    """The domains sent without 0x20 (``ConfigError`` naming a bad one)."""
    try:
        return tuple(dns.name.from_text(text, origin=dns.name.root)
                     for text in config.caps_exempt)
    except dns.exception.DNSException as e:
        raise ConfigError(f"--caps-exempt: {e}") from None


def private_addresses(config: ResolverConfig) -> PrivateAddresses:
    """The configured private ranges and domains (``ConfigError`` naming a bad one)."""
    for text in config.private_domains:
        try:
            dns.name.from_text(text, origin=dns.name.root)
        except dns.exception.DNSException as e:
            raise ConfigError(f"--private-domain {text!r}: {e}") from None
    try:
        return PrivateAddresses.parse(config.private_addresses, config.private_domains)
    except PrivateAddressError as e:
        raise ConfigError(f"--private-address {e}") from None


def ip6_enabled(config: ResolverConfig) -> bool:
    """``do_ip6`` as configured, else whether this host has a global IPv6 address."""
    return host_has_global_ipv6() if config.do_ip6 is None else config.do_ip6


def host_has_global_ipv6(if_inet6: Path = Path("/proc/net/if_inet6")) -> bool:
    """Whether an interface has a global unicast IPv6 address (Linux's table of addresses;
    no packet is sent).  False where the table cannot be read."""
    try:
        lines = if_inet6.read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if not fields or len(fields[0]) != 32:
            continue
        try:
            address = ipaddress.IPv6Address(int(fields[0], 16))
        except ValueError:
            continue
        if address.is_global:
            return True
    return False


def describe(config: ResolverConfig, off: str = "--no-validation") -> list[str]:
    """What the candidate resolves from: its root hints and its trust anchors (path and key
    tags), or that validation is off (``off`` names the setting that turned it off)."""
    names = {name for name, _ in config.root_hints}
    v6 = sum(1 for _, a in config.root_hints if ipaddress.ip_address(a).version == 6)
    source = config.root_hints_source or "given in the config"
    ip6 = "on" if ip6_enabled(config) else "off"
    lines = [f"root hints: {source} ({len(names)} servers, {len(config.root_hints) - v6} IPv4 "
             f"+ {v6} IPv6 addresses; do-ip6 {ip6}; priming "
             f"{'on' if config.priming else 'off'})"]
    if not config.validation:
        return [*lines, f"DNSSEC validation OFF ({off})"]
    anchors = trust_anchors(config)
    if not anchors:
        return [*lines, "DNSSEC validation OFF (no trust anchor)"]
    where = [str(config.trust_anchor_file)] if config.trust_anchor_file else []
    if config.trust_anchors:
        where.append(f"{len(config.trust_anchors)} inline")
    zones = "; ".join(
        f"{zone} key tags {' '.join(str(t) for t in sorted(anchors.key_tags(zone)))}"
        for zone in sorted(anchors.zones))
    lines.append(f"DNSSEC validation on: trust anchor {', '.join(where)} ({zones})")
    loopback_hints = all(is_loopback(a) for _, a in config.root_hints)
    if loopback_hints and config.trust_anchor_file == rootdata.anchor_path():
        lines.append("note: loopback root hints (a lab?) with the IANA root anchor: signed "
                     "answers will be bogus; give the lab's anchor (--lab DIR or "
                     "--trust-anchor)")
    return lines
