"""What a lookup answers: the final step built from a classified response (cached on the
way), the extras kept beside a positive answer, and the records that go with them.

:func:`conclude` turns a classified response into a :class:`~resolver.recursor.config.Step`
and caches what it holds (the answer's RRsets with their signatures and wildcard proofs,
a negative answer with its SOA); :func:`with_extras` adds what the server sent beside a
positive answer; :class:`Extras` keeps those extras for the answers served from the cache.
"""

from __future__ import annotations

from collections import OrderedDict

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from resolver.cache import DnsCache, Rank
from resolver.recursor.classify import Classified, Kind
from resolver.recursor.config import MAX_KEPT_EXTRAS, RecursorConfig, Step
from resolver.recursor.learn import learn_insecure_cuts

T = dns.rdatatype


def conclude(c: Classified, name: dns.name.Name, qtype: int, flags: int, cache: DnsCache,
             config: RecursorConfig, now: float, *, store: bool = True) -> Step:
    """The step that ends the lookup of ``name``/``qtype`` with the classified response
    ``c`` (``flags``: the response's), its records cached at the rank they deserve (not at
    all without ``store``: a forward or stub zone's ``no_cache``)."""
    c.chain = [bounded(r, config) for r in c.chain]
    c.sigs = {k: bounded(r, config) for k, r in c.sigs.items()}
    rank = Rank.ANSWER_AUTH if flags & dns.flags.AA else Rank.ANSWER_NONAUTH
    records: list[dns.rrset.RRset] = []
    for rrset in c.chain:
        if rrset.rdtype == T.RRSIG:
            # the answer to qtype RRSIG: passed on, never cached (signatures live in
            # the cache only beside the RRset they cover, and these are unverified)
            records.append(rrset)
            continue
        sigs = c.sigs.get((rrset.name, rrset.rdtype))
        if store and not (rrset.rdtype == T.CNAME and _synthesised(rrset, c.chain)):
            proofs = tuple(c.proofs) if _from_wildcard(rrset, sigs) else ()
            cache.rrsets.put(rrset, rank, now, sigs=sigs, proofs=proofs)
        records.extend(with_sigs(rrset, sigs))
    if c.kind is Kind.ANSWER:
        return Step(dns.rcode.NOERROR, records, list(c.proofs))
    if c.kind is Kind.YXDOMAIN:
        return Step(dns.rcode.YXDOMAIN, records)
    if c.kind is Kind.CNAME:
        if c.target is not None and c.proofs and store:
            learn_insecure_cuts(cache, c.target, c.proofs, now)
        return Step(dns.rcode.NOERROR, records, list(c.proofs), target=c.target)
    # Without an SOA (not cached as negative) the NSEC/NSEC3 proofs still go along:
    # the validator can prove the denial from them alone.
    authority: list[dns.rrset.RRset] = list(c.proofs)
    target = c.target or name
    if c.soa is not None:
        proofs = tuple(c.proofs)
        # cache-min-negative-ttl (else cache-min-ttl) raises the negative TTL, after its
        # cap (Unbound's rdata_copy)
        min_ttl = 0 if config.serve_original_ttl else (
            config.cache_min_negative_ttl or config.cache_min_ttl)
        if store and c.kind is Kind.NXDOMAIN:
            cache.negative.put_nxdomain(target, c.soa, now, proofs=proofs, min_ttl=min_ttl)
        elif store:
            cache.negative.put_nodata(target, qtype, c.soa, now, proofs=proofs,
                                      min_ttl=min_ttl)
        # RFC 2308 §3: the SOA of a negative answer carries the negative TTL.
        soa = dns.rrset.RRset(c.soa.name, c.soa.rdclass, c.soa.rdtype)
        soa.update(c.soa)
        soa.ttl = max(min_ttl, min(c.soa.ttl, c.soa[0].minimum, config.cache_max_negative_ttl))
        if not config.serve_original_ttl:
            soa.ttl = min(soa.ttl, config.cache_max_ttl)  # then cache-max-ttl, as rdata_copy
        soa_sigs = [_capped(s, soa.ttl) for s in _sig_list(c, c.soa)]
        authority = [soa, *soa_sigs, *(r for r in c.proofs if r not in soa_sigs
                                       and not _covers_soa(r))]
    rcode = dns.rcode.NXDOMAIN if c.kind is Kind.NXDOMAIN else dns.rcode.NOERROR
    return Step(rcode, records, authority)


def with_extras(step: Step, c: Classified, response: dns.message.Message,
                config: RecursorConfig) -> Step:
    """``step`` with what the (scrubbed) response had beside a positive answer, or beside
    a NODATA without SOA: the NS RRsets of its authority section and the addresses of
    its additional section, each with its signatures (TTLs bounded as the answer's
    are).  Unbound's reply with minimal-responses: no is the scrubbed upstream message,
    whose authority and additional sections stay with the answer it caches."""
    if not (c.kind is Kind.ANSWER or (c.kind is Kind.NODATA and c.soa is None)):
        return step
    step.extra_authority = [
        bounded(r, config) for r in response.authority
        if r.rdtype == T.NS or (r.rdtype == T.RRSIG and r.covers == T.NS)
    ]
    step.extra_additional = [bounded(r, config) for r in response.additional]
    if c.kind is Kind.ANSWER:
        # the SOA beside a positive answer: checked by the validator, never sent on
        # (Unbound's validate_msg_signatures checks every authority RRset)
        step.beside = [r for r in response.authority
                       if r.rdtype == T.SOA or (r.rdtype == T.RRSIG and r.covers == T.SOA)]
    return step


def bounded(rrset: dns.rrset.RRset, config: RecursorConfig) -> dns.rrset.RRset:
    """``rrset`` with its TTL inside [cache_min_ttl, cache_max_ttl] (a copy if it moves);
    as it came with serve-original-ttl, which "implicitly disables enforcement of the
    configured minimum and maximum TTL" (unbound.conf(5))."""
    if config.serve_original_ttl:
        return rrset
    ttl = max(config.cache_min_ttl, min(rrset.ttl, config.cache_max_ttl))
    if ttl == rrset.ttl:
        return rrset
    out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    out.ttl = ttl
    return out


class Extras:
    """The extras of fresh positive answers (config.keep_extras), kept for the same answers
    served from the cache later; at most :data:`MAX_KEPT_EXTRAS`, least recent dropped."""

    def __init__(self, cache: DnsCache, config: RecursorConfig) -> None:
        self.cache = cache
        self.config = config
        self._kept: OrderedDict[
            tuple[dns.name.Name, int],
            tuple[list[dns.rrset.RRset], list[dns.rrset.RRset], float],
        ] = OrderedDict()

    def forget(self, name: dns.name.Name, qtype: int) -> None:
        """Drop the extras kept with the answer to (``name``, ``qtype``)."""
        self._kept.pop((name, qtype), None)

    def remember(self, name: dns.name.Name, qtype: int, step: Step, now: float) -> None:
        """Keep a fresh answer's extras (with when they were stored), or give a cached
        answer the ones kept, with their TTLs lowered by the time since (dropped once
        expired), as Unbound's message cache keeps the whole reply."""
        key = (name, qtype)
        if step.extra_authority or step.extra_additional:
            self._kept[key] = (step.extra_authority, step.extra_additional, now)
            self._kept.move_to_end(key)
            while len(self._kept) > MAX_KEPT_EXTRAS:
                self._kept.popitem(last=False)
            return
        kept = self._kept.get(key)
        if kept is None:
            if qtype == T.NS:
                # an NS RRset known from a referral: its servers' cached addresses are the
                # additional data (RFC 1035 §3.3.11 additional section processing)
                targets = [rd.target for r in step.records if r.rdtype == T.NS for rd in r]
                step.extra_additional = [
                    hit.rrset for t in targets for rdtype in self.config.address_types()
                    if (hit := self.cache.rrsets.get(t, rdtype, now)) is not None
                ]
            return
        authority, additional, stored = kept
        gone = int(now - stored)
        lower = not self.config.serve_original_ttl
        step.extra_authority = _aged(authority, gone, lower)
        step.extra_additional = _aged(additional, gone, lower)


def ds_of_referral(response: dns.message.Message,
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


def denial_records(response: dns.message.Message) -> list[dns.rrset.RRset]:
    """NSEC/NSEC3 (and their RRSIGs) in a positive answer's authority section: the proof that
    a wildcard was expanded (RFC 4035 §3.1.3.3), kept for the validator."""
    kinds = (T.NSEC, T.NSEC3)
    return [
        r
        for r in response.authority
        if r.rdtype in kinds or (r.rdtype == T.RRSIG and r.covers in kinds)
    ]


def with_sigs(rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None) -> list[dns.rrset.RRset]:
    return [rrset] if sigs is None else [rrset, sigs]


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


def _aged(rrsets: list[dns.rrset.RRset], seconds: int,
          lower: bool = True) -> list[dns.rrset.RRset]:
    """Copies of ``rrsets`` with ``seconds`` less TTL (``lower``; else the TTLs they came
    with, serve-original-ttl); those that expired are left out."""
    out = []
    for r in rrsets:
        if r.ttl <= seconds:
            continue
        if not lower:
            out.append(r)
            continue
        copy = dns.rrset.RRset(r.name, r.rdclass, r.rdtype, r.covers)
        copy.update(r)
        copy.ttl = r.ttl - seconds
        out.append(copy)
    return out


def _sig_list(c: Classified, rrset: dns.rrset.RRset) -> list[dns.rrset.RRset]:
    sig = c.sigs.get((rrset.name, rrset.rdtype))
    return [] if sig is None else [sig]


def _synthesised(rrset: dns.rrset.RRset, chain: list[dns.rrset.RRset]) -> bool:
    """A CNAME made from a DNAME in this chain (cached as the DNAME, not by itself)."""
    return any(
        r.rdtype == T.DNAME and rrset.name.is_subdomain(r.name) and rrset.name != r.name
        for r in chain
    )
