"""DNSSEC validation wrapped around the recursor (RFC 4035 §5), as Unbound and Knot Resolver do.

:class:`ValidatingRecursor` has the recursor's ``resolve(request, exchanger)`` and returns a
:class:`ValidatedResolution`: the recursor's answer plus its :class:`Security` and the
Extended DNS Errors (RFC 8914) that say why.  A bogus answer becomes SERVFAIL with an EDE,
unless the client set CD: a CD query is validated too (``validate_cd``, as Unbound does,
validator.c needs_validation: "User queries are validated with BIT_CD to make our cache
clean"), secure data keeps AD (RFC 6840 §5.9), and bogus data comes back as it is, without
AD; without ``validate_cd`` (Knot Resolver's way) a CD answer is not validated at all (with
``ignore_cd``, Unbound's ignore-cd-flag, CD is not honoured); with ``permissive``
(val-permissive-mode) a bogus answer is passed on without AD instead.  It runs the steps of
one client question and leaves each concept to its module:

* an answer synthesised from validated NSEC records, when the cache proves one
  (:class:`~resolver.dnssec.synthesis.AggressiveNsec`, RFC 8198), else the inner recursor's;
* the verdict on every part of the answer (:class:`~resolver.dnssec.answers.AnswerCheck`),
  with the keys from the chain of trust (:class:`~resolver.dnssec.chain.ChainOfTrust`);
* the retries: a bogus answer from the cache alone is fetched once more, and one whose data
  failed on its own is fetched again from servers that did not give it
  (``DnssecConfig.max_restarts``, Unbound's val-max-restart);
* RFC 8509's root-key-sentinel on a secure A/AAAA answer.

The recursor it wraps is built with the wing's :class:`~resolver.dnssec.chain.ZoneKeys`
(``Recursor(..., signed_zone_hint=zones.is_signed)``), which this recursor then fills.
Everything is capped: DS/DNSKEY fetches per client query
(:data:`~resolver.dnssec.config.MAX_FETCHES`) and the entries each memo holds.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from resolver.cache import Security
from resolver.dnssec.answers import AnswerCheck, data_failed
from resolver.dnssec.chain import ChainOfTrust, SubQueries, ZoneKeys
from resolver.dnssec.config import DnssecConfig
from resolver.dnssec.denial import Limits
from resolver.dnssec.signatures import SignatureMemo, Verifier, signed_pairs, signer_of
from resolver.dnssec.synthesis import AggressiveNsec
from resolver.dnssec.verdicts import Ede, type_name, weakest
from resolver.model import Request
from resolver.recursor.config import Resolution, Step
from resolver.recursor.core import Recursor
from resolver.recursor.exchanger import Exchanger

__all__ = ["ValidatedResolution", "ValidatingRecursor"]

T = dns.rdatatype
Name = dns.name.Name

MAX_SYNTH_CHAIN = 8
"""CNAMEs synthesised from cached wildcards followed in a row for one question."""

_SENTINEL = re.compile(rb"root-key-sentinel-(is|not)-ta-(\d{5})")
"""RFC 8509 §2: the sentinel label, its key tag in five decimal digits."""


@dataclass
class ValidatedResolution(Resolution):
    """A :class:`Resolution` with the validation's verdict and the EDEs explaining it."""

    security: Security = Security.INDETERMINATE
    ede: list[tuple[int, str]] = field(default_factory=list)


class ValidatingRecursor:
    """The recursor with DNSSEC validation: ``resolve`` as :class:`Recursor`'s, validated."""

    def __init__(self, inner: Recursor, zones: ZoneKeys,
                 config: DnssecConfig | None = None) -> None:
        if inner.signed_zone_hint != zones.is_signed:
            raise ValueError("the recursor must be built with signed_zone_hint=zones.is_signed")
        self.inner = inner
        self.clock = inner.clock
        self.zones = zones
        self.anchors = zones.anchors
        self.config = config or DnssecConfig()
        self.limits = Limits(self.config.nsec3_max_iterations,
                             self.config.nsec3_bogus_iterations,
                             self.config.nsec3_keysize_iterations)
        self.stats: collections.Counter[str] = collections.Counter()
        # Signature checks this resolver has made: its own, shared with no other resolver.
        self.verifier = Verifier(self.config.unchecked_algorithms, self.config.ignore_dates,
                                 SignatureMemo(),
                                 (self.config.sig_skew_min, self.config.sig_skew_max))
        self.chain = ChainOfTrust(inner, zones, self.config, self.verifier, self.limits,
                                  self.stats)
        self.aggressive = AggressiveNsec(inner.cache, self.clock, zones, self.limits,
                                         self.stats)
        self.answers = AnswerCheck(self.chain, self.aggressive, self.config, self.verifier,
                                   self.limits, self.stats)
        inner.stale.judge = self._bogus  # serve-expired: refreshes behind expired answers
        if self.anchors and self.config.aggressive_nsec:
            inner.denial_hint = lambda name, qtype: self.aggressive.answer(Request(name, qtype))

    async def _bogus(self, name: Name, qtype: int, step: Step, exchanger: Exchanger) -> bool:
        """Whether a refreshed answer (one step, no chain to follow) validates as bogus."""
        request = Request(name, qtype, do=True)
        res = Resolution(step.rcode, step.records, step.authority)
        verdict, _, _ = await self.answers.check(request, res, SubQueries(exchanger))
        return verdict.bogus

    # -- the client's question ------------------------------------------------------------------

    async def resolve(self, request: Request, exchanger: Exchanger) -> ValidatedResolution:
        if request.cd and self.config.ignore_cd:
            request = dataclasses.replace(request, cd=False)  # ignore-cd-flag: validate anyway
        res = await self._resolve(request, exchanger, 0)
        sentinel = self._sentinel(request, res) if self.config.root_key_sentinel else None
        if sentinel is None:
            return res
        self.stats["sentinel_servfail"] += 1
        return ValidatedResolution(dns.rcode.SERVFAIL, [], [], res.upstream_queries, sentinel,
                                   Security.INDETERMINATE, [])

    async def _resolve(self, request: Request, exchanger: Exchanger,
                       depth: int) -> ValidatedResolution:
        if not request.cd and self.anchors and self.config.aggressive_nsec:
            synthesised = self.aggressive.answer(request)
            if synthesised is not None:
                return await self._follow(_validated(synthesised, 0, Security.SECURE, []),
                                          request, exchanger, depth)
        res = await self.inner.resolve(request, exchanger)
        fallback = res.fallback  # serve-expired: the expired answer a refresh replaced
        if not self.anchors or request.qtype == T.RRSIG or self.inner.denies(request) \
                or (request.cd and not self.config.validate_cd):
            # qtype RRSIG: signatures are not signed, so there is nothing to validate them
            # with (RFC 4035 §3.2.1 lets them through unchecked; Unbound and kresd do)
            self.stats["unvalidated"] += 1
            return _validated(res, res.upstream_queries, Security.INDETERMINATE, [])
        subq = SubQueries(exchanger)
        spent = res.upstream_queries
        verdict, parts, answer = await self.answers.check(request, res, subq)
        if verdict.bogus and res.upstream_queries == 0 and not any(
            p.cached and p.outcome.bogus for p in parts
        ):
            # Bogus from the cache alone (glue, a referral's NS set, data cached unvalidated
            # or without its wildcard proof): forget it and ask once more, as Unbound
            # retries a bogus answer.
            self.stats["bogus_retries"] += 1
            self.answers.forget(res)
            res = await self.inner.resolve(request, exchanger)
            fallback = fallback or res.fallback
            spent += res.upstream_queries
            verdict, parts, answer = await self.answers.check(request, res, subq)
        avoid: frozenset[str] = frozenset()
        for _ in range(self.config.max_restarts):
            if not (verdict.bogus and res.origins and data_failed(parts)):
                break
            # The data itself failed (the zone's keys are fine): ask the zone's other
            # servers, not those that gave it (RFC 4035 §5.5 lets a resolver try others;
            # Unbound blacklists the sources and restarts).  Nobody left: it stays bogus.
            avoid |= res.origins
            self.stats["bogus_restarts"] += 1
            stashed = self.answers.forget(res, parts, request)
            retry = await self.inner.resolve(request, exchanger, avoid)
            spent += retry.upstream_queries
            if retry.rcode == dns.rcode.SERVFAIL:
                self.answers.restore(stashed)  # keep the bogus verdicts (val-bogus-ttl)
                break
            res = retry
            verdict, parts, answer = await self.answers.check(request, res, subq)
        if verdict.bogus and fallback is not None:
            # serve-expired: a bogus refresh leaves the valid expired answer it replaced in
            # place, and that is the answer (NLnetLabs/unbound#1143)
            old, put_back = fallback
            put_back()  # (before the check, which reads the verdicts kept in the cache)
            checked = await self.answers.check(request, old, subq)
            if checked[0].bogus:
                self.answers.forget(old)
            else:
                res, (verdict, parts, answer) = old, checked
        spent += subq.upstream
        self.stats[verdict.security.value] += 1
        if verdict.bogus and (self.config.permissive or request.cd):
            # val-permissive-mode, or CD set: the bogus data as it came, indeterminate (no AD)
            self.stats["cd_bogus" if request.cd else "permissive"] += 1
            how = "checking disabled" if request.cd else "permissive"
            return ValidatedResolution(res.rcode, res.answer, res.authority, spent,
                                       f"bogus, passed on ({how}): {verdict.why}",
                                       Security.INDETERMINATE, [],
                                       extra_authority=res.extra_authority,
                                       extra_additional=res.extra_additional)
        if verdict.bogus:
            why = f"validation failure <{request.qname} {type_name(request.qtype)}>: " \
                  f"{verdict.why}"
            code = int(verdict.ede or Ede.DNSSEC_BOGUS)
            return ValidatedResolution(
                dns.rcode.SERVFAIL, [], [], spent, why, Security.BOGUS, [(code, verdict.why)]
            )
        ede = [] if verdict.ede is None else [(int(verdict.ede), verdict.why)]
        rcode = next((p.rcode for p in parts if p.rcode is not None), res.rcode)
        ns_sets, additional = res.extra_authority, res.extra_additional
        if verdict.security is Security.SECURE:
            # Unbound's val_check_nonsecure: an NS RRset beside a secure answer that does
            # not verify is removed; the additional section too with val-clean-additional
            if ns_sets:
                ns_sets = await self._signed_extras(answer, ns_sets, subq)
            if self.config.clean_additional and additional:
                additional = await self._signed_extras(answer, additional, subq)
        return ValidatedResolution(rcode, answer, res.authority, spent, res.reason,
                                   verdict.security, ede, extra_authority=ns_sets,
                                   extra_additional=additional, stale=res.stale)

    async def _signed_extras(self, answer: list[dns.rrset.RRset],
                             extras: list[dns.rrset.RRset],
                             subq: SubQueries) -> list[dns.rrset.RRset]:
        """The RRsets beside a secure answer (its server's NS RRset, or additional data)
        that verify with the keys of the zone that signed the answer, with their RRSIGs;
        the rest (unsigned, signed by another zone, failing) are left out, as Unbound's
        validator removes them."""
        signer = next((signer_of(r) for r in answer if r.rdtype == T.RRSIG), None)
        if signer is None:
            return extras
        entry = await self.chain.keys_for(signer, subq)
        if entry.security is not Security.SECURE or entry.keys is None:
            return []
        kept: list[dns.rrset.RRset] = []
        now = self.clock.now()
        for rrset, sigs in signed_pairs(extras):
            if sigs is not None and self.verifier.verify(
                    rrset, sigs, entry.keys, entry.zone, now).outcome.secure:
                kept += [rrset, sigs]
            else:
                self.stats["extras_removed"] += 1
        return kept

    async def _follow(self, synth: ValidatedResolution, request: Request, exchanger: Exchanger,
                      depth: int) -> ValidatedResolution:
        """A CNAME synthesised from a wildcard leads on: its target is resolved (and
        validated) as the rest of the answer, which is as secure as its weakest part."""
        cname = next((r for r in synth.answer if r.rdtype == T.CNAME), None)
        if cname is None or request.qtype == T.CNAME:
            return synth
        if depth >= MAX_SYNTH_CHAIN:
            return ValidatedResolution(dns.rcode.SERVFAIL, [], [], 0, "CNAME chain too long")
        target = cname[0].target
        rest = await self._resolve(dataclasses.replace(request, qname=target), exchanger,
                                   depth + 1)
        if rest.rcode == dns.rcode.SERVFAIL:
            return rest
        security = weakest((synth.security, rest.security))
        return ValidatedResolution(
            rest.rcode, synth.answer + [r for r in rest.answer if r not in synth.answer],
            synth.authority + [r for r in rest.authority if r not in synth.authority],
            rest.upstream_queries, rest.reason or synth.reason, security, rest.ede,
            stale=rest.stale)

    def _sentinel(self, request: Request, res: ValidatedResolution) -> str | None:
        """RFC 8509 root-key-sentinel: why a secure A/AAAA answer must be SERVFAIL, or None.

        ``root-key-sentinel-is-ta-NNNNN`` asks "is key NNNNN one of your root trust
        anchors?" and ``root-key-sentinel-not-ta-NNNNN`` the opposite; a "no" is a SERVFAIL,
        so a client can tell which root keys its resolver trusts.  Only validated (secure)
        A and AAAA answers, and only the leftmost label of the question, count.
        """
        if res.security is not Security.SECURE or res.rcode != dns.rcode.NOERROR \
                or request.qtype not in (T.A, T.AAAA):
            return None
        if len(request.qname.labels) < 2:
            return None
        m = _SENTINEL.fullmatch(request.qname.labels[0].lower())
        if m is None:
            return None
        tag = int(m.group(2))
        trusted = tag in self.anchors.key_tags(dns.name.root)
        if m.group(1) == b"is" and not trusted:
            return f"root-key-sentinel: key {tag} is not a root trust anchor"
        if m.group(1) == b"not" and trusted:
            return f"root-key-sentinel: key {tag} is a root trust anchor"
        return None

    # -- flushing -------------------------------------------------------------------------------

    def flush_name(self, name: Name) -> int:
        """Forget the verdicts kept for RRsets at ``name`` and what the recursor's cache holds
        there (:meth:`~resolver.cache.dnscache.DnsCache.flush_name`): a fresh look at one
        name.  Validated NSEC records and key state stay, as in Unbound."""
        self.answers.flush_name(name)
        return self.inner.flush_name(name)

    def clear(self) -> None:
        """Forget every zone's validation state (the caches are the recursor's to flush)."""
        self.chain.clear()
        self.answers.clear()


def _validated(res: Resolution, spent: int, security: Security,
               ede: list[tuple[int, str]]) -> ValidatedResolution:
    return ValidatedResolution(res.rcode, res.answer, res.authority, spent, res.reason,
                               security, ede, extra_authority=res.extra_authority,
                               extra_additional=res.extra_additional, stale=res.stale)
