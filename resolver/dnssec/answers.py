"""Positive and negative validation of one answer (RFC 4035 §5.3, §5.4): a verdict per part.

:class:`AnswerCheck` takes the recursor's :class:`~resolver.recursor.core.Resolution` and
decides, for every RRset of the answer (in chain order, so CNAME/DNAME chains across zones are
covered) and for the denial at the chain's end, secure, insecure, bogus or indeterminate
(:class:`PartVerdict`); the answer gets the weakest of them.  The keys come from the
:class:`~resolver.dnssec.chain.ChainOfTrust`.  Every answer RRset's verdict is stored beside
it in the cache (with the reason when there is an EDE), so a cached answer is not validated
twice; :meth:`AnswerCheck.forget` and :meth:`AnswerCheck.restore` drop and put back the
bogus parts when the validating recursor asks other servers.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from resolver.cache import FLUSH_TYPES, CachedRRset, Rank, Security
from resolver.dnssec.chain import BoundedMap, ChainOfTrust, SubQueries, verified_denials
from resolver.dnssec.config import DnssecConfig
from resolver.dnssec.denial import Limits, prove_nodata, prove_nxdomain, prove_wildcard_answer
from resolver.dnssec.signatures import SignedRRset, Verifier, signed_pairs, signer_of
from resolver.dnssec.synthesis import AggressiveNsec
from resolver.dnssec.verdicts import WEAKNESS, Ede, Outcome, bogus, insecure, type_name
from resolver.model import Request, with_ttl
from resolver.recursor.config import Resolution

__all__ = ["MAX_REASONS", "AnswerCheck", "PartVerdict", "chain_end", "data_failed"]

T = dns.rdatatype
Name = dns.name.Name

MAX_REASONS = 10_000
"""Reasons remembered for RRsets cached as bogus or insecure-with-EDE."""


@dataclass(frozen=True)
class PartVerdict:
    """The verdict on one part of an answer (an RRset, or the denial at the chain's end)."""

    outcome: Outcome
    ttl: int | None = None  # the capped TTL of a secure RRset
    cached: bool = False  # the verdict was the cache's, not worked out now
    chain: bool = False  # the verdict is the chain of trust's (the zone's keys), not the data's
    rcode: int | None = None  # the rcode the proof shows, when it is not the one received


def data_failed(parts: Sequence[PartVerdict]) -> bool:
    """Some bogus part failed on its own data, worked out now (not a cached verdict, not
    the zone's keys): fetching it from another server may help."""
    return any(p.outcome.bogus and not p.chain and not p.cached for p in parts)


def _dname_source(cname: dns.rrset.RRset, earlier: Sequence[SignedRRset]) -> int | None:
    """The index of the DNAME in ``earlier`` that ``cname`` is the synthesis of (RFC 6672 §5.3.1:
    the CNAME is unsigned; its DNAME's signature vouches for it)."""
    if len(cname) != 1:
        return None
    for i, (r, _) in enumerate(earlier):
        if r.rdtype != T.DNAME or not cname.name.is_subdomain(r.name) or cname.name == r.name:
            continue
        try:
            target = cname.name.relativize(r.name).derelativize(r[0].target)
        except dns.name.NameTooLong:
            continue
        if cname[0].target == target:
            return i
    return None


def chain_end(qname: Name, qtype: int, pairs: Sequence[SignedRRset]) -> tuple[Name, bool]:
    """Where the answer's CNAME chain ends, and whether data of ``qtype`` is there."""
    by_key = {(r.name, r.rdtype): r for r, _ in pairs}
    name = qname
    seen = {name}
    while True:
        if qtype == T.ANY and any(r.name == name for r, _ in pairs):
            return name, True
        if (name, qtype) in by_key:
            return name, True
        cname = by_key.get((name, T.CNAME))
        if cname is None or qtype == T.CNAME:
            return name, False
        name = cname[0].target
        if name in seen:
            return name, False
        seen.add(name)


Dropped = list[tuple[CachedRRset, Outcome | None]]
"""Cached RRsets taken out for a retry, with the reasons kept for them."""


class AnswerCheck:
    """Validates the parts of an answer with the chain of trust's keys."""

    def __init__(self, chain: ChainOfTrust, aggressive: AggressiveNsec, config: DnssecConfig,
                 verifier: Verifier, limits: Limits, stats: collections.Counter[str]) -> None:
        self.chain = chain
        self.aggressive = aggressive
        self.cache = chain.cache
        self.clock = chain.clock
        self.anchors = chain.anchors
        self.config = config
        self.verifier = verifier
        self.limits = limits
        self.stats = stats
        self._reasons: BoundedMap[tuple[Name, int], Outcome] = BoundedMap(MAX_REASONS)

    async def check(
        self, request: Request, res: Resolution, subq: SubQueries
    ) -> tuple[Outcome, list[PartVerdict], list[dns.rrset.RRset]]:
        """The answer's verdict (its weakest part's), the parts' verdicts (the answer's
        RRsets in order, then the denial at the chain's end if there is one) and the answer
        section with secure RRsets' TTLs capped."""
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return Outcome(Security.INDETERMINATE), [], res.answer
        pairs = signed_pairs(res.answer)
        parts: list[PartVerdict] = []
        by_index: dict[int, PartVerdict] = {}
        answer: list[dns.rrset.RRset] = []
        for i, (rrset, sigs) in enumerate(pairs):
            source = _dname_source(rrset, pairs[:i]) if rrset.rdtype == T.CNAME else None
            if source is not None and sigs is None:
                part = by_index[source]
                part = PartVerdict(part.outcome, None, part.cached, part.chain)
            else:
                part = await self._positive(rrset, sigs, res.authority, subq)
            by_index[i] = part
            parts.append(part)
            ttl = part.ttl
            if ttl is not None and ttl < rrset.ttl:
                answer.append(with_ttl(rrset, ttl))
                if sigs is not None:
                    answer.append(with_ttl(sigs, ttl))
            else:
                answer.extend([rrset] if sigs is None else [rrset, sigs])
        end, complete = chain_end(request.qname, request.qtype, pairs)
        if res.rcode == dns.rcode.NXDOMAIN or not complete:
            parts.append(
                await self._negative(end, request.qtype, res.rcode, res.authority, subq)
            )
        if not parts:
            return Outcome(Security.INDETERMINATE), [], answer
        weakest = min(parts, key=lambda p: WEAKNESS[p.outcome.security])
        verdict = weakest.outcome
        if verdict.secure and res.rcode == dns.rcode.NOERROR and complete:
            verdict = await self._authority(res, verdict, subq)
        if verdict.security is Security.INSECURE and verdict.ede is None:
            noted = next((p.outcome for p in parts if p.outcome.ede is not None
                          and p.outcome.security is Security.INSECURE), None)
            verdict = noted or verdict
        return verdict, parts, answer

    async def _authority(self, res: Resolution, verdict: Outcome, subq: SubQueries) -> Outcome:
        """A secure positive answer stays secure only if every RRset beside it in the
        authority section validates too (RFC 4035 §5; Unbound's validate_msg_signatures: 'If
        anything in the authority section fails to be secure, we have a bad message'), but
        for unsigned NS RRsets, which are dropped (Unbound's remove_spurious_authority).  The
        SOA sent beside the answer comes in ``beside`` (checked, never sent on)."""
        in_answer = {(r.name, r.rdtype) for r in res.answer}
        for rrset, sigs in signed_pairs([*res.authority, *res.beside]):
            if (sigs is None and rrset.rdtype == T.NS) or (rrset.name, rrset.rdtype) in in_answer:
                continue
            part = await self._positive(rrset, sigs, res.authority, subq)
            if part.outcome.bogus:
                return part.outcome
        return verdict

    # -- a retry: what is dropped and put back ------------------------------------------------

    def forget(self, res: Resolution, parts: Sequence[PartVerdict] | None = None,
               request: Request | None = None) -> Dropped:
        """Drop the answer's RRsets (only the bogus ones when ``parts`` is given) and a
        bogus denial at the chain's end from the cache, so that they are fetched again.
        Returns what was dropped (with its reason), for :meth:`restore`."""
        mono = self.clock.monotonic()
        dropped: Dropped = []
        pairs = signed_pairs(res.answer)
        for i, (rrset, _) in enumerate(pairs):
            if parts is not None and i < len(parts) and not parts[i].outcome.bogus:
                continue
            hit = self.cache.rrsets.get(rrset.name, rrset.rdtype, mono)
            if hit is not None:
                dropped.append((hit, self._reasons.get((rrset.name, rrset.rdtype))))
            self.cache.rrsets.pop(rrset.name, rrset.rdtype)
            self._reasons.pop((rrset.name, rrset.rdtype))
        if request is not None and parts is not None and len(parts) > len(pairs):
            end, _ = chain_end(request.qname, request.qtype, pairs)
            self.cache.negative.pop(end, request.qtype)
        return dropped

    def restore(self, dropped: Dropped) -> None:
        mono = self.clock.monotonic()
        for hit, reason in dropped:
            self.cache.rrsets.put(hit.rrset, hit.rank, mono, security=hit.security,
                                  sigs=hit.sigs)
            if reason is not None:
                self._reasons.put((hit.rrset.name, hit.rrset.rdtype), reason)

    def flush_name(self, name: Name) -> None:
        """Forget the verdicts kept for RRsets at ``name``."""
        for rdtype in FLUSH_TYPES:
            self._reasons.pop((name, rdtype))

    def clear(self) -> None:
        self._reasons.clear()

    # -- positive data ---------------------------------------------------------------------------

    async def _positive(self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
                        authority: Sequence[dns.rrset.RRset], subq: SubQueries) -> PartVerdict:
        """The RRset's verdict: the one cached beside it, else worked out and cached."""
        mono = self.clock.monotonic()
        hit = self.cache.rrsets.get(rrset.name, rrset.rdtype, mono)
        if (
            hit is not None
            and hit.security is not Security.INDETERMINATE
            and set(hit.rrset) == set(rrset)
        ):
            self.stats["cached_verdicts"] += 1
            known = self._reasons.get((rrset.name, rrset.rdtype))
            if known is not None and known.security is hit.security:
                return PartVerdict(known, cached=True)
            if hit.security is Security.BOGUS:
                return PartVerdict(bogus(Ede.DNSSEC_BOGUS, f"{rrset.name} cached as bogus"),
                                   cached=True)
            return PartVerdict(Outcome(hit.security), cached=True)
        outcome, ttl, chain = await self._check_positive(rrset, sigs, authority, subq)
        self._remember(rrset, sigs, hit, outcome, ttl)
        return PartVerdict(outcome, ttl, chain=chain)

    async def _check_positive(
        self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
        authority: Sequence[dns.rrset.RRset], subq: SubQueries,
    ) -> tuple[Outcome, int | None, bool]:
        """The RRset's verdict, its capped TTL when secure, and whether the verdict is the
        chain of trust's (the zone's keys) rather than the RRset's own."""
        owner = rrset.name
        what = f"{owner} {type_name(rrset.rdtype)}"
        if self.anchors.is_negative(owner):
            return insecure(f"{owner} is under a negative trust anchor"), None, False
        signer = signer_of(sigs)
        is_ds = rrset.rdtype == T.DS and owner != dns.name.root
        if signer is not None:
            if not owner.is_subdomain(signer) or (is_ds and signer == owner):
                return bogus(Ede.DNSSEC_BOGUS, f"{what} signed by {signer}"), None, False
            target = signer
        else:
            target = owner.parent() if is_ds else owner
        entry = await self.chain.keys_for(target, subq)
        if entry.security is not Security.SECURE:
            return entry.outcome, None, True
        assert entry.keys is not None
        if signer is None:
            return bogus(Ede.RRSIGS_MISSING,
                         f"no RRSIGs over {what} in the signed zone {entry.zone}"), None, False
        if entry.zone != signer:
            return bogus(Ede.DNSKEY_MISSING,
                         f"{what} signed by {signer}, which has no secure keys"), None, False
        now = self.clock.now()
        check = self.verifier.verify(rrset, sigs, entry.keys, entry.zone, now)
        if not check.outcome.secure:
            return check.outcome, None, False
        if check.wildcard is not None:
            verified, bad = verified_denials(authority, entry, now, self.verifier)
            proofs = [r for r, _, _ in verified]
            out = prove_wildcard_answer(owner, check.wildcard, entry.zone, proofs,
                                        self.limits.for_keys(entry.keys))
            if not out.secure:
                return bad or out, None, False
            self.aggressive.learn(entry.zone, verified,
                                  wildcard=(rrset, sigs, check.wildcard, check.ttl))
        return check.outcome, check.ttl, False

    def _remember(
        self,
        rrset: dns.rrset.RRset,
        sigs: dns.rrset.RRset | None,
        hit: CachedRRset | None,
        outcome: Outcome,
        ttl: int | None,
    ) -> None:
        """Keep the verdict beside the cached RRset (only RRsets the recursor cached)."""
        if hit is None or outcome.security is Security.INDETERMINATE:
            return
        if set(hit.rrset) != set(rrset):
            return
        mono = self.clock.monotonic()
        rank = hit.rank
        keep = rrset.ttl if ttl is None else min(rrset.ttl, ttl)
        if outcome.security is Security.SECURE:
            rank = Rank.VALIDATED
        elif outcome.security is Security.BOGUS:
            keep = min(keep, self.config.bogus_ttl)
        if outcome.ede is not None:
            self._reasons.put((rrset.name, rrset.rdtype), outcome)
        self.cache.rrsets.put(
            with_ttl(rrset, keep),
            rank,
            mono,
            security=outcome.security,
            sigs=None if sigs is None else with_ttl(sigs, keep),
        )

    # -- denial of existence -------------------------------------------------------------------

    async def _negative(
        self,
        name: Name,
        qtype: int,
        rcode: int,
        authority: Sequence[dns.rrset.RRset],
        subq: SubQueries,
    ) -> PartVerdict:
        if self.anchors.is_negative(name):
            return PartVerdict(insecure(f"{name} is under a negative trust anchor"))
        pairs = signed_pairs(authority)
        soa = next(((r, s) for r, s in pairs if r.rdtype == T.SOA), None)
        denials = [(r, s) for r, s in pairs if r.rdtype in (T.NSEC, T.NSEC3)]
        if soa is not None:
            signer = signer_of(soa[1])
            target = soa[0].name if signer is None else signer
        else:
            signer = next((signer_of(s) for _, s in denials if s is not None), None)
            target = name if signer is None else signer
        if not name.is_subdomain(target):
            return PartVerdict(bogus(Ede.DNSSEC_BOGUS,
                                     f"the denial for {name} comes from {target}"))
        entry = await self.chain.keys_for(target, subq)
        if entry.security is not Security.SECURE:
            return PartVerdict(entry.outcome, chain=True)
        assert entry.keys is not None
        if signer is not None and entry.zone != signer:
            return PartVerdict(bogus(Ede.DNSKEY_MISSING,
                                     f"denial signed by {signer}, which has no secure keys"))
        now = self.clock.now()
        # Without an SOA the signed NSEC/NSEC3 records still prove the denial (Unbound and
        # Knot Resolver do not require it); an SOA that is there must verify.
        soa_ttl: int | None = None
        if soa is not None:
            check = self.verifier.verify(soa[0], soa[1], entry.keys, entry.zone, now)
            if not check.outcome.secure:
                return PartVerdict(check.outcome)
            soa_ttl = check.ttl
        verified, bad = verified_denials(authority, entry, now, self.verifier)
        proofs = [r for r, _, _ in verified]
        fixed: int | None = None
        if rcode == dns.rcode.NXDOMAIN:
            out = prove_nxdomain(name, entry.zone, proofs,
                                 self.limits.for_keys(entry.keys))
            if out.bogus:
                # An NXDOMAIN whose signed denial proves NODATA instead (the name exists,
                # e.g. as an empty non-terminal): Unbound is lenient with the rcode and
                # answers NOERROR, secure (validator.c, validate_nameerror_response).  An
                # insecure NXDOMAIN proof (an opt-out span, too many NSEC3 iterations)
                # cannot prove a secure NODATA either, so it gets no second look.
                nodata = prove_nodata(name, qtype, entry.zone, proofs,
                                      self.limits.for_keys(entry.keys))
                if nodata.secure:
                    out, fixed = nodata, dns.rcode.NOERROR
                    # The name exists (its own NSEC or an empty non-terminal's says so):
                    # the server's name error, cached as such by the recursor, must not
                    # deny the name's other types (RFC 4035 §5.4: the NSEC proves which
                    # types exist; RFC 2308 §5: a name error covers every type).
                    self.cache.negative.pop(name, qtype)
        else:
            out = prove_nodata(name, qtype, entry.zone, proofs,
                               self.limits.for_keys(entry.keys))
        if out.secure and soa is not None and soa[0].name == entry.zone:
            self.aggressive.learn(entry.zone, verified, soa=(soa[0], soa[1], soa_ttl))
        if out.secure and rcode == dns.rcode.NXDOMAIN and fixed is None:
            # a secure NXDOMAIN may deny the names below it (RFC 8020; Unbound's
            # harden-below-nxdomain uses only DNSSEC-secure ones)
            self.cache.negative.mark_secure(name)
        return PartVerdict(bad if out.bogus and bad is not None else out, rcode=fixed)
