"""Noise: named normalisers, each saying which differences it explains and why.

A normaliser is an object with a ``name`` and ``explain(pair, differences)``.  It reads the
two parsed responses and what :class:`~harness.differ.knowledge.Knowledge` has learned from
the reference side, and returns an :class:`Explanation`: the differences it accounts for, a
note for the report, and possibly ``wants``, names it would need the reference's answer for
before it can vouch for the candidate's data (the differ asks them while confirming).
:func:`normalise` runs them in order over what is still unexplained.

Each one explains its noise and nothing of the same shape that is real:

========  =================================================================================
name      explains                                     but not
========  =================================================================================
case      owner names differing only in case (0x20)    the question echoed differently
order     records of an RRset, or RRsets of a           a CNAME placed after the record it
          section, in another order                    points to (``cname.order``)
ttl       a candidate TTL at or below the authority's  a TTL above it: above the highest
          (decay): below the reference's, or within    TTL any reference showed and any
          the RRSIG original TTL / learned maximum      RRSIG's original TTL
resign    RRSIG bytes or validity differing, same      a missing RRSIG or another signer,
          signer and key, when the validity times or   algorithm or key (``*.rrsig``)
          the covered data differ
pool      address sets that differ but lie within the  an address never seen from any
          pool learned for the name, with a record     reference, or a record count the
          count the reference has given                reference never gave (a dropped RR)
geo       same answer structure (owners, types,        names whose reference answers churn
          counts) with other addresses, where the      over time (those are pools), or a
          reference side's answers differ by vantage   different structure
          and are stable at each vantage
cdn       CNAME chains that agree up to an edge name,  tails under different registered
          the differing tails under one registered     domains, other terminal types, or
          domain (ICANN public suffix list), with the  an edge address the reference does
          candidate's edge data confirmed by the       not give for that edge name
          reference's own answer for that edge name
========  =================================================================================

``tc`` (not a default: ``ignore_tc_only``, ``--ignore-tc-only``) explains a difference in the
TC bit alone, and, where the truncated side carries no records at all (a response-rate-limit
"slip": header and question only), the records that are missing from it; never a difference
in rcode, question or flags other than TC, nor records the truncated side does carry.

"Unstable upstream" is not a pair normaliser: it needs re-queries, so the differ decides it
while confirming (:mod:`harness.differ.differ`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import dns.rdatatype

from configfiles.psl import domain_of, registered_domain
from harness.differ.answers import ADDRESS_TYPES, Parsed, RRKey
from harness.differ.compare import Difference, chain
from harness.differ.knowledge import Knowledge
from harness.evidence import ExplainedEntry

__all__ = ["DEFAULT_NORMALISERS", "Cdn", "Case", "Explanation", "Geo", "Normalised",
           "Normaliser", "Order", "Pair", "Pool", "Resign", "TcOnly", "Ttl", "normalise",
           "domain_of", "registered_domain"]

_RRSIG = int(dns.rdatatype.RRSIG)
_CNAME = int(dns.rdatatype.CNAME)
_SOA = int(dns.rdatatype.SOA)


@dataclass(frozen=True, slots=True)
class Pair:
    """What a normaliser looks at: both responses and the learned context."""

    candidate: Parsed
    reference: Parsed
    knowledge: Knowledge
    lag: float = 0.0
    """Seconds the reference's answer arrived after the candidate's (negative: before).  A
    cached TTL decays by that much in between, so the candidate's TTL may lie that much (plus
    one second of rounding) above the reference's."""
    vantage: str = ""
    """The candidate's vantage (egress region) label, when the differ knows it."""

    @property
    def qname(self) -> str:
        return self.reference.qname or self.candidate.qname


@dataclass(frozen=True, slots=True)
class Explanation:
    """What one normaliser accounted for."""

    normaliser: str
    explained: tuple[Difference, ...]
    note: str
    wants: tuple[tuple[str, int], ...] = ()  # (name, type) the reference should be asked

    def entry(self) -> ExplainedEntry:
        """As the verdict's evidence lists it."""
        return ExplainedEntry(self.normaliser, self.note,
                              sorted({d.category for d in self.explained}), len(self.explained),
                              [f"{n} {dns.rdatatype.to_text(dns.rdatatype.RdataType(t))}"
                               for n, t in self.wants])


class Normaliser(Protocol):
    @property
    def name(self) -> str: ...

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None: ...


@dataclass
class Normalised:
    """The outcome of running the normalisers over one pair's differences."""

    differences: list[Difference]
    explanations: list[Explanation]
    remaining: list[Difference]
    wants: list[tuple[str, int]] = field(default_factory=list)

    @property
    def explained_by(self) -> list[str]:
        return [e.normaliser for e in self.explanations if e.explained]


def normalise(pair: Pair, diffs: Sequence[Difference],
              normalisers: Sequence[Normaliser] | None = None) -> Normalised:
    """Run ``normalisers`` (default :data:`DEFAULT_NORMALISERS`) over ``diffs`` in order."""
    remaining = list(diffs)
    explanations: list[Explanation] = []
    wants: list[tuple[str, int]] = []
    for n in normalisers if normalisers is not None else DEFAULT_NORMALISERS:
        if not remaining:
            break
        e = n.explain(pair, remaining)
        if e is None:
            continue
        if e.explained:
            explanations.append(e)
            gone = {id(d) for d in e.explained}
            remaining = [d for d in remaining if id(d) not in gone]
        for w in e.wants:
            if w not in wants:
                wants.append(w)
    return Normalised(list(diffs), explanations, remaining, wants)


def _with_suffix(diffs: Sequence[Difference], *suffixes: str) -> list[Difference]:
    return [d for d in diffs if d.category.rsplit(".", 1)[-1] in suffixes
            and d.section != "" and not d.category.startswith("cname.")]


# -- the simple ones ---------------------------------------------------------------------------


_TC = 0x0200  # dns.flags.TC


class TcOnly:
    """Truncation as noise (RRL slips): the TC bit, and the records a bare truncated
    response leaves out."""

    name = "tc"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        truncated = [p for p in (pair.candidate, pair.reference) if p.flags & _TC]
        if len(truncated) != 1:
            return None  # neither side or both: TC is not what differs
        hits = [d for d in diffs if d.category == "flags.tc"]
        if not hits:
            return None
        side = truncated[0]
        bare = not any(side.sections[s] for s in side.sections)
        if bare:
            # The slipped side carries nothing: the other side's records are not a
            # disagreement about data.  Only what lies in a section (and CNAME chains).
            hits += [d for d in diffs if d.category != "flags.tc" and d.section != ""]
        who = "candidate" if side is pair.candidate else "reference"
        note = (f"the {who} answered truncated (TC=1"
                + (", no records: a rate-limit slip)" if bare else ")"))
        return Explanation(self.name, tuple(hits), note)


class Case:
    """0x20: owner names that differ only in letter case."""

    name = "case"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        hits = _with_suffix(diffs, "case")
        if not hits:
            return None
        return Explanation(self.name, tuple(hits),
                           f"{len(hits)} owner name(s) differ only in letter case (0x20)")


class Order:
    """RRsets compared as sets; RRsets within a section in any order.  The CNAME chain's
    client-visible order is compared separately (``cname.order``) and never explained."""

    name = "order"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        hits = _with_suffix(diffs, "order")
        if not hits:
            return None
        return Explanation(self.name, tuple(hits),
                           f"{len(hits)} record or RRset order difference(s) (round-robin)")


ROUNDING = 1.0
"""Seconds of TTL a resolver may lose to rounding (TTLs are whole seconds, decay is not)."""


class Ttl:
    """Decayed TTLs are equal; a TTL above what the authority gave is not.

    Time-aware: the candidate's TTL may exceed the reference's by the time that passed
    between the two answers (``Pair.lag``) plus one second of rounding; beyond that it must
    lie within the TTL range the reference side has shown (:func:`ttl_bound`)."""

    name = "ttl"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        hits: list[Difference] = []
        highest = 0
        slack = max(0.0, pair.lag) + ROUNDING
        decayed = 0
        for d in diffs:
            if d.key is None or not d.category.endswith(".ttl"):
                continue
            c, r = int(d.candidate or 0), int(d.reference or 0)
            if c <= r:
                hits.append(d)
                continue
            if c <= r + slack:
                hits.append(d)
                decayed += 1
                continue
            bound = ttl_bound(pair, d.section, d.key)
            if c <= bound:
                hits.append(d)
                highest = max(highest, bound)
        if not hits:
            return None
        note = f"{len(hits)} TTL(s) differ by decay"
        if decayed:
            note += (f" ({decayed} within {slack:.1f} s: the time between the two answers "
                     "plus rounding)")
        if highest:
            note += f" (candidate within the authority's TTL, up to {highest})"
        return Explanation(self.name, tuple(hits), note)


def ttl_bound(pair: Pair, section: str, key: RRKey) -> int:
    """The highest TTL the authority is known to have given for ``key``: the reference's
    TTL, any TTL learned from the reference side, the original TTL of the reference's
    RRSIGs over it; for the SOA of a negative answer (and its RRSIGs) no more than the SOA
    MINIMUM field either (RFC 2308: the negative TTL is the lesser of the two)."""
    bound = pair.knowledge.max_ttl(key)
    ref = pair.reference.rrset(section, key) if section else None
    sigs = ref if key[1] == _RRSIG else (
        pair.reference.sigs_for(section, key) if section else None)
    if sigs is not None:
        for rd in sigs.rdatas:
            bound = max(bound, int(rd.original_ttl))  # type: ignore[attr-defined]
    if section == "authority" and (key[1] == _SOA or (key[1] == _RRSIG and key[2] == _SOA)):
        soa = pair.reference.rrset(section, (key[0], _SOA, 0))
        if soa is not None and soa.rdatas:
            bound = min(bound, min(int(rd.minimum)  # type: ignore[attr-defined]
                                   for rd in soa.rdatas))
    if ref is not None:
        bound = max(bound, ref.ttl)
    return bound


class Resign:
    """Signatures that differ in bytes or validity while the signer, key and algorithm are the
    same: the zone was re-signed, or the covered data differs (which other normalisers, or
    the report, account for)."""

    name = "resign"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        hits: list[Difference] = []
        for d in diffs:
            if d.key is None or not d.category.endswith(".signature"):
                continue
            cv = pair.candidate.rrset(d.section, d.key)
            rv = pair.reference.rrset(d.section, d.key)
            if cv is None or rv is None:
                continue
            times_c = {(int(rd.inception), int(rd.expiration))  # type: ignore[attr-defined]
                       for rd in cv.rdatas}
            times_r = {(int(rd.inception), int(rd.expiration))  # type: ignore[attr-defined]
                       for rd in rv.rdatas}
            covered = (d.key[0], d.key[2], 0)
            cc = pair.candidate.rrset(d.section, covered)
            rc = pair.reference.rrset(d.section, covered)
            data_differs = cc is None or rc is None or cc.data() != rc.data()
            if times_c != times_r or data_differs:
                hits.append(d)
        if not hits:
            return None
        return Explanation(self.name, tuple(hits),
                           f"{len(hits)} RRSIG(s) re-signed or over other data, same keys")


# -- learned noise -----------------------------------------------------------------------------


def _address_data(diffs: Sequence[Difference]) -> list[Difference]:
    return [d for d in diffs if d.key is not None and d.key[1] in ADDRESS_TYPES
            and d.category in ("answer.data", "additional.data")]


class Pool:
    """Round-robin and load-balancing pools: other addresses, all from the learned pool."""

    name = "pool"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        hits: list[Difference] = []
        sizes: list[int] = []
        k = pair.knowledge
        for d in _address_data(diffs):
            assert d.key is not None
            cv = pair.candidate.rrset(d.section, d.key)
            rv = pair.reference.rrset(d.section, d.key)
            if cv is None or rv is None:
                continue
            mine = cv.addresses()
            pool = k.pool(d.key) | rv.addresses()
            counts = k.counts(d.key) | {len(rv.addresses())}
            if mine <= pool and len(mine) in counts:
                hits.append(d)
                sizes.append(len(pool))
        if not hits:
            return None
        return Explanation(self.name, tuple(hits),
                           f"{len(hits)} address set(s) within the learned pool "
                           f"(pool size {max(sizes)})")


def _structure(p: Parsed) -> dict[tuple[str, int], int]:
    return {(key[0], key[1]): len(view.rdatas) for key, view in p.sections["answer"].items()
            if key[1] != _RRSIG}


class Geo:
    """Localised answers: the same structure, other addresses, where the reference side's
    own answers for the name differ by vantage (and each vantage is stable)."""

    name = "geo"

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        candidates = [d for d in _address_data(diffs) if d.section == "answer"]
        if not candidates or _structure(pair.candidate) != _structure(pair.reference):
            return None
        k = pair.knowledge
        hits = []
        for d in candidates:
            if d.key is None or not k.varies_by_vantage(d.key):
                continue
            # What the reference side gave at the candidate's own vantage (an egress twin)
            # is what the candidate must give.
            mine = k.vantage_set(d.key, pair.vantage) if pair.vantage else None
            view = pair.candidate.rrset(d.section, d.key)
            if mine is not None and (view is None or view.addresses() != mine):
                continue
            hits.append(d)
        if not hits:
            return None
        return Explanation(self.name, tuple(hits),
                           f"{len(hits)} address set(s) localised: the reference side's "
                           "answers differ by vantage")


class Cdn:
    """CDN chains: the CNAME chains agree up to a provider's edge names, which lie under one
    registered domain; the candidate's edge data must be what the reference itself answers
    for the candidate's edge name (learned, or asked for through ``wants``)."""

    name = "cdn"

    def __init__(self, registered: Callable[[str], str | None] = registered_domain) -> None:
        self.registered = registered

    def explain(self, pair: Pair, diffs: Sequence[Difference]) -> Explanation | None:
        qname = pair.qname
        cc, rc = chain(pair.candidate, qname), chain(pair.reference, qname)
        if cc == rc or len(cc) < 2 or len(rc) < 2:
            return None
        i = 1
        while i < len(cc) and i < len(rc) and cc[i] == rc[i]:
            i += 1
        if i >= len(cc) or i >= len(rc):
            return None  # one chain stops where the other goes on: not an edge difference
        domain = self.registered(cc[i])
        if domain is None or any(self.registered(n) != domain for n in cc[i:] + rc[i:]):
            return None
        if _terminal_types(pair.candidate, cc[-1]) != _terminal_types(pair.reference, rc[-1]):
            return None
        pivot = cc[i - 1]
        tail_c, tail_r = set(cc[i:]), set(rc[i:])
        unverified: set[RRKey] = set()
        wants: list[tuple[str, int]] = []
        k = pair.knowledge
        for key, view in pair.candidate.sections["answer"].items():
            if key[0] not in tail_c or key[1] not in ADDRESS_TYPES:
                continue
            pool = k.pool(key)
            if not pool:
                unverified.add(key)
                wants.append((key[0], key[1]))
            elif not view.addresses() <= pool or view.ttl > max(k.max_ttl(key), 1):
                unverified.add(key)
        hits: list[Difference] = []
        for d in diffs:
            if d.key is None or d.section != "answer":
                continue
            owner = d.key[0]
            if d.key in unverified:
                continue
            if (d.category == "cname.chain" and owner == pivot) or owner in tail_c \
                    or owner in tail_r:
                hits.append(d)
        if not hits and not wants:
            return None
        note = (f"CNAME chains agree up to {pivot}; edges {', '.join(sorted(tail_c))} and "
                f"{', '.join(sorted(tail_r))} under {domain}")
        if unverified:
            note += f"; {len(unverified)} candidate edge RRset(s) not confirmed by the reference"
        return Explanation(self.name, tuple(hits), note, tuple(wants))


def _terminal_types(p: Parsed, name: str) -> frozenset[int]:
    return frozenset(key[1] for key in p.sections["answer"]
                     if key[0] == name and key[1] not in (_RRSIG, _CNAME))


DEFAULT_NORMALISERS: tuple[Normaliser, ...] = (Case(), Order(), Ttl(), Resign(), Pool(), Geo(),
                                               Cdn())
