"""The differ: normalise, compare, classify, and confirm by re-querying before anything counts.

:class:`Differ` is the pipeline's :class:`~harness.judge.Judge`.  For one observation:

1. **Fast path.**  The candidate's and the primary reference's responses are compared as
   bytes, IDs and decayed TTLs masked (:mod:`harness.differ.wire`).  Equal: ``EQUAL``, no
   parsing at all.
2. **Compare and normalise.**  Both are parsed, the reference side (every reference, the
   staging resolver's dnstap answer, and reference responses the fast path kept) teaches
   :class:`~harness.differ.knowledge.Knowledge`, the responses are compared field by field and
   the normalisers explain what they can.  All explained: ``NOISE`` (or ``EQUAL`` when the
   bytes only differed in encoding).
3. **Confirm.**  Otherwise, before a divergence counts:

   * names a normaliser wants (a CDN edge the reference has not answered for) are asked of
     the reference;
   * both sides are asked again (the reference after a flush of the name, when configured,
     and every other reference too, for vantage evidence);
   * a SERVFAIL without a DNSSEC EDE facing a non-SERVFAIL is asked again with CD=1: an
     answer then means the SERVFAIL was validation failing (bogus);
   * where the reference's address data churns, it is asked again (flushed) until the pool
     stops growing or covers the candidate's addresses.

   Then the original pair is normalised again with all that was learned.  Explained:
   ``NOISE``.  A side that does not answer: ``TIMEOUT``.  The re-queried pair agreeing, or the
   candidate matching another answer the reference side gave (the reference disagreeing with
   itself, or the staging resolver disagreeing with the reference): ``UNSTABLE``.  Otherwise
   the divergence persisted: ``REAL``.

Every verdict carries its evidence (see docs/DIFFER.md for the format): the differences left
and explained, the DNSSEC outcomes, every re-query made and what it returned, and how the
confirmation went.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.rcode
import dns.rdatatype

from harness.differ.answers import ADDRESS_TYPES, Parsed, ParseError, RRKey, parse
from harness.differ.classify import DNSSEC_EDE, Outcome, dnssec_outcome, primary, rank
from harness.differ.compare import Difference, compare
from harness.differ.floor import (
    Budget,
    Exhausted,
    FieldJudgement,
    Sample,
    authority_cap,
    field_path,
    judge_fields,
)
from harness.differ.knowledge import Knowledge
from harness.differ.normalise import (
    DEFAULT_NORMALISERS,
    Explanation,
    Normalised,
    Normaliser,
    Pair,
    normalise,
)
from harness.differ.sweep import (
    Authorities,
    AuthorityAnswer,
    ZoneBook,
    ZoneServers,
    apex_of,
    judge_by_authorities,
    judge_ttl_again,
    question_of,
    reference_query,
    server_addresses,
    sweep_query,
    sweepable,
    ttl_of,
    ttl_varies,
)
from harness.differ.wire import memo_key
from harness.evidence import (
    Confirmation,
    DnssecOutcomes,
    Evidence,
    FloorEntry,
    RequeryEntry,
    SweepEntry,
)
from harness.judge import Requery
from harness.records import Observation, Query, TargetAnswer, Verdict, VerdictKind

__all__ = ["Differ", "DifferConfig", "same_answer"]

_SERVFAIL = int(dns.rcode.SERVFAIL)
_SOA = int(dns.rdatatype.SOA)
_NS = int(dns.rdatatype.NS)


@dataclass(frozen=True)
class DifferConfig:
    """How the differ reads observations and how hard it confirms."""

    candidate: str = "candidate"
    """The target name of the candidate in ``Observation.answers``."""
    references: tuple[str, ...] = ()
    """Reference target names, the primary (the one compared against) first.  Empty: every
    target but the candidate, in the observation's order."""
    vantages: Mapping[str, str] = field(default_factory=dict)
    """Target name -> vantage label (egress region); by default each target is its own."""
    confirm: bool = True
    """Re-query before a divergence counts.  Off: divergences are REAL, marked unconfirmed."""
    flush_reference: bool = True
    """Ask the references to flush the name before confirmation re-queries."""
    requery_all_references: bool = True
    """Re-query every reference while confirming (vantage evidence), not only the primary."""
    cd_requery: bool = True
    """Re-query SERVFAILs with CD=1 to tell bogus from other failures."""
    pool_requeries: int = 48
    """At most this many extra reference re-queries to learn a churning address pool."""
    pool_patience: int = 16
    """Stop learning a pool after this many samples that added no address."""
    lookups: int = 4
    """At most this many names asked of the reference for a normaliser (CDN edges)."""
    max_evidence: int = 40
    """At most this many differences listed in a verdict's evidence."""
    floor_requeries: int = 3
    """Re-queries of the primary reference for the noise floor, the confirmation re-query
    included (alternately flushed and cached: flushed, cached, flushed, ...)."""
    floor_references: tuple[str, ...] | None = None
    """References whose answers and re-queries are noise-floor samples (None: every
    reference).  The primary is always one."""
    egress_swap: bool = True
    """Ask the egress twins (``twins``) while confirming: the decisive test for answers
    that depend on where the question came from."""
    twins: Mapping[str, str] = field(default_factory=dict)
    """Target -> the name of its egress twin: the same server asking from the other side's
    egress address (the primary reference's twin from the candidate's, the candidate's from
    the primary reference's).  Empty: the harness does not control egress."""
    fresh_candidate: bool = True
    """Flush the candidate for one re-query when a field varies on the reference side: a
    value that comes back on a fresh fetch is the candidate's, one that does not is noise."""
    requery_rate: float = 0.0
    """Confirmation re-queries per second, all judgements together (0: unlimited).  Out of
    budget: the verdict is ``undecided``, never ``real``."""
    requery_burst: int = 0
    """Re-queries the budget may spend at once (0: one second's worth of ``requery_rate``)."""
    requery_concurrency: int = 0
    """Re-queries in flight at once, all judgements together (0: unlimited)."""
    authority_sweep: bool = True
    """When the noise floor leaves a field real, ask the zone's authoritative servers (the
    NS set as learned through the primary reference) that field directly: an authority
    giving the candidate's value makes it noise (:mod:`harness.differ.sweep`).  Needs an
    :class:`~harness.differ.sweep.Authorities` (``Differ(authorities=...)``)."""
    authority_port: int = 53
    """The port authoritative servers are asked on (the harness's ``UdpAuthorities``)."""
    authority_servers: int = 8
    """At most this many authoritative server addresses asked per field."""
    authority_fields: int = 2
    """At most this many distinct questions swept per judgement."""


@dataclass
class _Trail:
    """The re-queries one judgement made, for the evidence."""

    entries: list[RequeryEntry] = field(default_factory=list)
    pool: int = 0

    def add(self, target: str, purpose: str, query: Query, flush: bool, cd: bool,
            answer: TargetAnswer, parsed: Parsed | None) -> None:
        error = summary = None
        if answer.error is not None or answer.wire is None:
            error = answer.error or "no answer"
        elif parsed is None:
            error = "unparseable response"
        else:
            summary = parsed.summary()
        self.entries.append(RequeryEntry(target, purpose, query.qname, query.qtype,
                                         flush, cd, summary, error))


@dataclass(slots=True)
class _Memo:
    verdict: Verdict
    bounds: list[int]  # per candidate RR: the highest TTL accepted there
    epoch: int


class Differ:
    """The judge: ``await differ.judge(observation, requery) -> Verdict``.

    One instance keeps its :class:`Knowledge` across observations (that is how pools and
    vantages are learned); use one per run, or share one knowledge between differs.
    """

    def __init__(self, config: DifferConfig | None = None, *,
                 knowledge: Knowledge | None = None,
                 normalisers: Sequence[Normaliser] | None = None,
                 authorities: Authorities | None = None) -> None:
        self.config = config or DifferConfig()
        self.authorities = authorities
        """Asks an authoritative server directly (the authority sweep); None: no sweep."""
        self.zones = ZoneBook()
        self.knowledge = knowledge if knowledge is not None else Knowledge()
        self.normalisers: tuple[Normaliser, ...] = (
            tuple(normalisers) if normalisers is not None else DEFAULT_NORMALISERS)
        self._memo: dict[tuple[int, int], _Memo] = {}
        self.memo_capacity = 100_000
        cfg = self.config
        self.budget = Budget(cfg.requery_rate, cfg.requery_burst, cfg.requery_concurrency)
        self.stats: collections.Counter[str] = collections.Counter()
        """Counted for Prometheus: ``requeries`` (confirmation traffic sent, the authority
        sweep's included), ``authority_queries`` (of which sent to authoritative servers),
        ``budget_exhausted`` (judgements left undecided), ``verdict_<kind>``."""

    # -- roles ---------------------------------------------------------------------------

    def references_of(self, observation: Observation) -> list[str]:
        if self.config.references:
            return [r for r in self.config.references if r in observation.answers]
        return [t for t in observation.answers if t != self.config.candidate]

    def vantage(self, target: str) -> str:
        return self.config.vantages.get(target, target)

    # -- the judgement ---------------------------------------------------------------------

    async def judge(self, observation: Observation, requery: Requery) -> Verdict:
        verdict = await self._judge(observation, requery)
        self.stats["verdict_" + verdict.kind.value] += 1
        return verdict

    async def _judge(self, observation: Observation, requery: Requery) -> Verdict:
        cand_ta = observation.answers.get(self.config.candidate)
        refs = self.references_of(observation)
        if cand_ta is not None and refs:
            ref_ta = observation.answers[refs[0]]
            if (cand_ta.wire is not None and ref_ta.wire is not None
                    and self.knowledge.layouts.fast_equal(cand_ta.wire, ref_ta.wire,
                                                          self.vantage(refs[0]))):
                return Verdict(observation.id, VerdictKind.EQUAL, "equal")
            if cand_ta.wire is not None and ref_ta.wire is not None:
                hit = self._recall(cand_ta.wire, ref_ta.wire, observation.id)
                if hit is not None:
                    return hit
        judgement = _Judgement(self, observation, requery, refs)
        try:
            verdict = await judgement.run()
        except Exhausted:
            self.stats["budget_exhausted"] += 1
            return judgement.undecided()
        if judgement.memorable is not None:
            self._remember(*judgement.memorable, verdict)
        return verdict

    # -- the memo: a pair already found to be noise is noise again --------------------------

    def _recall(self, cand: bytes, ref: bytes, obs_id: int | None) -> Verdict | None:
        """The verdict on an earlier pair with these two layouts, if it was EQUAL or NOISE,
        nothing learned since undoes it, and every candidate TTL is within one accepted
        before at the same place; else ``None``."""
        kc, kr = memo_key(cand), memo_key(ref)
        if kc is None or kr is None:
            return None
        (hc, wc), (hr, wr) = kc, kr
        memo = self._memo.get((hc, hr))
        if memo is None or memo.epoch != self.knowledge.epoch:
            return None
        if cand[12:wc.question_end] != ref[12:wr.question_end]:
            return None  # the question must be echoed alike, case included
        offsets = wc.ttl_offsets
        if len(offsets) != len(memo.bounds):
            return None
        for o, bound in zip(offsets, memo.bounds, strict=True):
            if int.from_bytes(cand[o:o + 4]) > bound:
                return None
        t = memo.verdict
        return Verdict(obs_id, t.kind, t.category, list(t.categories), list(t.explained_by),
                       dataclasses.replace(t.evidence, memo=True))

    def _remember(self, cand: bytes, ref: bytes, verdict: Verdict) -> None:
        kc, kr = memo_key(cand), memo_key(ref)
        if kc is None or kr is None:
            return
        key = (kc[0], kr[0])
        ttls = [int.from_bytes(cand[o:o + 4]) for o in kc[1].ttl_offsets]
        memo = self._memo.get(key)
        epoch = self.knowledge.epoch
        if memo is not None and memo.epoch == epoch and len(memo.bounds) == len(ttls):
            memo.bounds = [max(a, b) for a, b in zip(memo.bounds, ttls, strict=True)]
            return
        if len(self._memo) >= self.memo_capacity:
            self._memo.clear()
        self._memo[key] = _Memo(verdict, ttls, epoch)

    def assess(self, candidate: Parsed, reference: Parsed, *, asked_dnssec: bool,
               outcomes: tuple[Outcome, Outcome] | None = None, lag: float = 0.0) -> Normalised:
        """Compare and normalise one pair with what is known now (no learning, no I/O).
        ``lag``: seconds the reference answered after the candidate (TTL decay)."""
        diffs = compare(candidate, reference, outcomes=outcomes, asked_dnssec=asked_dnssec)
        return normalise(Pair(candidate, reference, self.knowledge, lag,
                              self.vantage(self.config.candidate)), diffs, self.normalisers)


def lag_between(candidate: TargetAnswer, reference: TargetAnswer) -> float:
    """Seconds ``reference`` arrived after ``candidate`` (0 when a time is unknown)."""
    if candidate.received is None or reference.received is None:
        return 0.0
    return reference.received - candidate.received


def _address_keys(diffs: Sequence[Difference]) -> list[tuple[str, RRKey]]:
    """Address RRsets both sides have, with other data: where a pool could be."""
    return [(d.section, d.key) for d in diffs
            if d.key is not None and d.key[1] in ADDRESS_TYPES
            and d.category in ("answer.data", "additional.data")
            and d.candidate is not None and d.reference is not None]


_NOT_DATA = ("ttl", "order", "case", "signature")


def same_answer(a: Parsed, b: Parsed) -> bool:
    """Do ``a`` and ``b`` say the same thing (TTLs, order, 0x20 case and signature bytes
    apart)?  What "the reference changed its answer" means."""
    return all(d.category.rsplit(".", 1)[-1] in _NOT_DATA for d in compare(a, b))


@dataclass(frozen=True, slots=True)
class _Answered:
    """The original answers of both sides, each with a response (after a retry, maybe)."""

    cand: TargetAnswer
    ref: TargetAnswer
    cand_wire: bytes
    ref_wire: bytes
    retried: bool


@dataclass(frozen=True, slots=True)
class _Requeried:
    """Both sides asked again: the answers and their parses."""

    cand_answer: TargetAnswer
    cand: Parsed
    ref_answer: TargetAnswer
    ref: Parsed


class _Judgement:
    """One observation's way through the slow path.  :meth:`run` is the sequence of steps;
    each step returns the verdict when it reaches one, else what the next step needs."""

    def __init__(self, differ: Differ, observation: Observation, requery: Requery,
                 refs: list[str]) -> None:
        self.differ = differ
        self.config = differ.config
        self.knowledge = differ.knowledge
        self.observation = observation
        self.requery = requery
        self.refs = refs
        self.query = observation.query
        self.asked = observation.query.do or observation.query.ad
        self.trail = _Trail()
        self.found = Evidence()
        """What the steps found along the way, for every verdict this judgement gives."""
        self.memorable: tuple[bytes, bytes] | None = None
        """The original (candidate, reference) wires when the verdict may be recalled for
        a later pair alike (EQUAL or NOISE on first sight, no side asked again)."""
        self.lag = 0.0  # seconds the reference answered after the candidate
        self.last: Normalised | None = None  # the latest assessment (for UNDECIDED)
        self.samples: list[Sample] = []  # the reference side's answers but the original
        self.fresh_asked = False  # the candidate's flushed re-query, made at most once
        self.fresh_parsed: Parsed | None = None
        wanted = differ.config.floor_references
        self.floor_refs = [r for r in refs if wanted is None or r == refs[0] or r in wanted]

    @property
    def primary_ref(self) -> str:
        """The primary reference: the one the candidate is compared against."""
        return self.refs[0]

    # -- helpers -------------------------------------------------------------------------

    async def ask(self, target: str, purpose: str, query: Query | None = None, *,
                  flush: bool = False, cd: bool = False) -> tuple[TargetAnswer, Parsed | None]:
        q = query or self.query
        return await self._budgeted(target, purpose, q, flush, cd,
                                    lambda: self.requery(target, q, flush=flush, cd=cd))

    async def _budgeted(self, label: str, purpose: str, query: Query, flush: bool, cd: bool,
                        send: Callable[[], Awaitable[TargetAnswer]]
                        ) -> tuple[TargetAnswer, Parsed | None]:
        """Send one confirmation query through the budget; parse and record the answer."""
        budget = self.differ.budget
        if not budget.take():
            self.found.budget_exhausted_at = purpose
            raise Exhausted(purpose)
        self.differ.stats["requeries"] += 1
        try:
            if budget.slots is not None:
                async with budget.slots:
                    answer = await send()
            else:
                answer = await send()
        except Exception as e:  # a broken re-query is a failed one, never a crash
            answer = TargetAnswer(label, error=f"requery failed: {type(e).__name__}: {e}")
        parsed: Parsed | None = None
        if answer.wire is not None:
            try:
                parsed = parse(answer.wire)
            except ParseError:
                parsed = None
        self.trail.add(label, purpose, query, flush, cd, answer, parsed)
        return answer, parsed

    def learn(self, parsed: Parsed | None, target: str) -> None:
        if parsed is not None:
            self.knowledge.learn(parsed, self.differ.vantage(target))

    def assess(self, cand: Parsed, ref: Parsed,
               outcomes: tuple[Outcome, Outcome] | None = None) -> Normalised:
        """``cand`` against ``ref`` (the original pair's timing: ``self.lag``)."""
        result = self.differ.assess(cand, ref, asked_dnssec=self.asked, outcomes=outcomes,
                                    lag=self.lag)
        self.last = result
        return result

    def verdict(self, kind: VerdictKind, category: str, result: Normalised | None = None,
                **fields: Any) -> Verdict:
        """The verdict, its evidence what was found so far plus ``fields`` (Evidence's)."""
        evidence = dataclasses.replace(self.found, **fields)
        categories: list[str] = []
        explained_by: list[str] = []
        if result is not None:
            categories = sorted({d.category for d in result.differences}, key=rank)
            explained_by = result.explained_by
            most = self.config.max_evidence
            evidence.differences = [d.entry() for d in result.remaining[:most]]
            evidence.differences_omitted = max(0, len(result.remaining) - most)
            evidence.explained = [e.entry() for e in result.explanations]
        if kind is VerdictKind.UNSTABLE:
            explained_by = [*explained_by, "unstable"]
        evidence.requeries = list(self.trail.entries)
        evidence.pool_requeries = self.trail.pool
        return Verdict(self.observation.id, kind, category, categories, explained_by, evidence)

    def quiet(self, result: Normalised, **fields: Any) -> Verdict:
        """EQUAL or NOISE for a fully explained pair."""
        if not result.differences:
            return self.verdict(VerdictKind.EQUAL, "equal", result, **fields)
        return self.verdict(VerdictKind.NOISE,
                            primary(d.category for d in result.differences), result,
                            **fields)

    def _unstable(self, category: str, result: Normalised, cand: Parsed, ref: Parsed,
                  side: str, confirmation: Confirmation, **fields: Any) -> Verdict:
        return self.verdict(VerdictKind.UNSTABLE, category, result, unstable_side=side,
                            confirmation=confirmation, candidate=cand.summary(),
                            reference=ref.summary(), **fields)

    # -- the flow ------------------------------------------------------------------------

    async def run(self) -> Verdict:
        if self.config.candidate not in self.observation.answers or not self.refs:
            return self.verdict(VerdictKind.TIMEOUT, "timeout", side="missing",
                                error="the observation lacks the candidate or a reference")
        self.found.reference_target = self.primary_ref
        answered = await self._original_answers()
        if isinstance(answered, Verdict):
            return answered
        parsed = await self._parse_originals(answered)
        if isinstance(parsed, Verdict):
            return parsed
        cand, ref = parsed
        staging = self._learn_reference_side(answered.ref_wire, ref)
        result = self.assess(cand, ref)
        if (verdict := self._staging_disagrees(cand, ref, staging, result)) is not None:
            return verdict
        if not result.remaining and not result.wants:
            if not answered.retried:
                self.memorable = (answered.cand_wire, answered.ref_wire)
            return self.quiet(result)
        if not self.config.confirm:
            return self._real(cand, ref, result, confirmed=False)
        if result.wants:
            result = await self._look_up_wanted(cand, ref, result)
            if not result.remaining:
                return self.quiet(result)
        again = await self._ask_again(result)
        if isinstance(again, Verdict):
            return again
        return await self._confirm(cand, ref, result, again)

    async def _original_answers(self) -> _Answered | Verdict:
        """The candidate's and the primary reference's answers; a side that did not answer
        is asked once more before it counts as a timeout."""
        cand_name, primary_ref = self.config.candidate, self.primary_ref
        cand_ta = self.observation.answers[cand_name]
        ref_ta = self.observation.answers[primary_ref]
        silent = [(t, ta.error or "no answer") for t, ta in
                  ((cand_name, cand_ta), (primary_ref, ref_ta)) if ta.wire is None]
        if not silent and cand_ta.wire is not None and ref_ta.wire is not None:
            return _Answered(cand_ta, ref_ta, cand_ta.wire, ref_ta.wire, retried=False)
        if not self.config.confirm:
            return self._timeout(silent)
        self.found.first_attempt_errors = dict(silent)
        got = await asyncio.gather(*(self.ask(t, "retry") for t, _ in silent))
        for (target, _), (answer, _) in zip(silent, got, strict=True):
            if target == cand_name:
                cand_ta = answer
            else:
                ref_ta = answer
        missing = [(t, e) for (t, e), (a, _) in zip(silent, got, strict=True) if a.wire is None]
        if missing or cand_ta.wire is None or ref_ta.wire is None:
            return self._timeout(missing or [(cand_name, "no answer")])
        return _Answered(cand_ta, ref_ta, cand_ta.wire, ref_ta.wire, retried=True)

    async def _parse_originals(self, answered: _Answered) -> tuple[Parsed, Parsed] | Verdict:
        self.lag = lag_between(answered.cand, answered.ref)
        try:
            ref = parse(answered.ref_wire)
        except ParseError as e:
            return self.verdict(VerdictKind.UNSTABLE, "format", side="reference", error=str(e))
        try:
            cand = parse(answered.cand_wire)
        except ParseError as e:
            return await self._unparseable_candidate(str(e))
        return cand, ref

    def _learn_reference_side(self, ref_wire: bytes, ref: Parsed) -> Parsed | None:
        """Learn from the whole reference side before judging: responses the fast path
        kept, the primary's answer, every other reference's (noise-floor samples too), and
        the staging resolver's answer, which is returned (None: none, or unparseable)."""
        for wire, vantage in self.knowledge.layouts.pending(ref_wire):
            try:
                self.knowledge.learn(parse(wire), vantage)
            except ParseError:
                pass
        self.learn(ref, self.primary_ref)
        for other in self.refs[1:]:
            ta = self.observation.answers[other]
            if ta.wire is not None:
                try:
                    theirs = parse(ta.wire)
                except ParseError:
                    continue
                self.learn(theirs, other)
                if other in self.floor_refs:
                    self.samples.append(Sample(other, theirs))
        if self.observation.staging_wire is None:
            return None
        try:
            staging = parse(self.observation.staging_wire)
        except ParseError:
            return None
        self.knowledge.learn(staging, "staging")
        self.samples.append(Sample("staging", staging))
        return staging

    def _staging_disagrees(self, cand: Parsed, ref: Parsed, staging: Parsed | None,
                           result: Normalised) -> Verdict | None:
        """The staging resolver disagrees with the reference, and the candidate agrees with
        the staging resolver: the upstream is unstable."""
        if (staging is None or same_answer(cand, ref) or same_answer(staging, ref)
                or self.assess(cand, staging).remaining):
            return None
        category = (primary(d.category for d in result.remaining)
                    or primary(d.category for d in result.differences))
        return self._unstable(category, result, cand, ref, "reference",
                              Confirmation(matches="staging"))

    async def _look_up_wanted(self, cand: Parsed, ref: Parsed,
                              result: Normalised) -> Normalised:
        """Ask the primary reference the names a normaliser needs its word on (CDN edges),
        and assess again."""
        for name, rdtype in result.wants[:self.config.lookups]:
            q = Query(qname=name, qtype=rdtype, do=self.query.do,
                      edns_payload=self.query.edns_payload, source=self.query.source)
            _, looked_up = await self.ask(self.primary_ref, "lookup", q)
            self.learn(looked_up, self.primary_ref)
        return self.assess(cand, ref)

    async def _ask_again(self, result: Normalised) -> _Requeried | Verdict:
        """Ask both sides again (the references flushed, when configured; every floor
        reference too, for vantage evidence)."""
        config, primary_ref, cand_name = self.config, self.primary_ref, self.config.candidate
        others = self.floor_refs[1:] if config.requery_all_references else []
        asked = await asyncio.gather(
            self.ask(cand_name, "confirm"),
            self.ask(primary_ref, "confirm", flush=config.flush_reference),
            *(self.ask(o, "vantage", flush=config.flush_reference) for o in others))
        (cand_ta, cand_re), (ref_ta, ref_re) = asked[0], asked[1]
        # Both sides answered the observation: a confirmation re-query that gets no answer
        # is asked once more (a packet lost under load), as the observation itself was.
        if cand_ta.wire is None:
            cand_ta, cand_re = await self.ask(cand_name, "retry")
        if ref_ta.wire is None:
            ref_ta, ref_re = await self.ask(primary_ref, "retry", flush=config.flush_reference)
        for o, (o_ta, o_re) in zip(others, asked[2:], strict=True):
            self.learn(o_re, o)
            self.sample(o, o_ta, o_re, config.flush_reference)
        self.learn(ref_re, primary_ref)
        if cand_re is None or ref_re is None:
            failed = []
            if cand_re is None:
                failed.append((cand_name, cand_ta.error or "unparseable"))
            if ref_re is None:
                failed.append((primary_ref, ref_ta.error or "unparseable"))
            return self._timeout(failed, result)
        self.sample(primary_ref, ref_ta, ref_re, config.flush_reference)
        return _Requeried(cand_ta, cand_re, ref_ta, ref_re)

    async def _confirm(self, cand: Parsed, ref: Parsed, result: Normalised,
                       again: _Requeried) -> Verdict:
        """With both sides asked again: did either change, was a SERVFAIL validation, does
        an address pool explain it, did the divergence persist; then the noise floor."""
        cand_changed = not same_answer(again.cand, cand)
        ref_changed = not same_answer(again.ref, ref)
        confirmation = Confirmation(candidate_changed=cand_changed,
                                    reference_changed=ref_changed)
        category = primary(d.category for d in result.remaining)
        if ref_changed and not self.assess(cand, again.ref).remaining:
            # The reference disagrees with itself, and its second answer is the candidate's.
            confirmation.matches = "reference re-query"
            return self._unstable(category, result, cand, ref, "reference", confirmation)

        # SERVFAIL facing an answer: was it validation?  Ask with CD=1.
        outcomes = await self._cd_outcomes(cand, ref) if self.config.cd_requery else None
        result = self.assess(cand, ref, outcomes)
        if result.remaining and self._pool_churns(cand, ref, again.ref, result):
            await self._learn_pool(self.primary_ref, cand, _address_keys(result.remaining))
            result = self.assess(cand, ref, outcomes)
        if not result.remaining:
            return self.quiet(result)

        # Did the divergence persist?
        persisted = self.differ.assess(again.cand, again.ref, asked_dnssec=self.asked,
                                       outcomes=outcomes,
                                       lag=lag_between(again.cand_answer, again.ref_answer))
        confirmation.persisted = bool(persisted.remaining)
        if not persisted.remaining:
            side = "candidate" if cand_changed else "reference" if ref_changed else "both"
            return self._unstable(primary(d.category for d in result.remaining), result,
                                  cand, ref, side, confirmation)
        self.last = result
        return await self._floor_verdict(cand, ref, result, outcomes, confirmation)

    async def _floor_verdict(self, cand: Parsed, ref: Parsed, result: Normalised,
                             outcomes: tuple[Outcome, Outcome] | None,
                             confirmation: Confirmation) -> Verdict:
        """The noise floor (and the authority sweep): is what is left within the reference
        side's own variation?  Otherwise the divergence is real."""
        fields = await self._floor(cand, ref, result)
        if any(f.real for f in fields):
            fields = await self._sweep(cand, ref, fields)
        if all(f.explained for f in fields):
            return self._floor_noise(result, fields, [f.entry() for f in fields],
                                     confirmation)
        result = self.assess(cand, ref, outcomes)  # the floor's samples taught the knowledge
        if not result.remaining:
            return self.quiet(result, noise_floor=[f.entry() for f in fields])
        paths = {field_path(d) for d in result.remaining}
        fields = [f for f in fields if field_path(f.difference) in paths]
        floor = [f.entry() for f in fields[:self.config.max_evidence]]
        if not any(f.real for f in fields):
            undetermined = [f.difference for f in fields if not f.explained]
            if not undetermined:
                return self._floor_noise(result, fields, floor, confirmation)
            # Never real: the reference side varies in these fields and nothing told the
            # candidate's value apart from that variation.
            return self._unstable(primary(d.category for d in undetermined), result, cand,
                                  ref, "reference", confirmation, noise_floor=floor)
        confirmation.candidate_agrees_with = [o for o in self.refs[1:]
                                              if self._agrees_with(cand, o)]
        return self._real(cand, ref, result, confirmed=True, confirmation=confirmation,
                          outcomes=outcomes, noise_floor=floor)

    # -- the noise floor ---------------------------------------------------------------------

    def sample(self, target: str, answer: TargetAnswer, parsed: Parsed | None,
               flush: bool) -> None:
        """Keep a reference re-query as a noise-floor sample."""
        if parsed is None:
            return
        fresh = self.fresh(answer, flush)
        self.samples.append(Sample(f"{target} re-query ({'flushed' if fresh else 'cached'})",
                                   parsed, fresh, answer.received))

    @staticmethod
    def fresh(answer: TargetAnswer, flush: bool) -> bool:
        """Was ``answer`` a fresh fetch (a flush asked for, and not known to have failed)?"""
        return flush and answer.flushed is not False

    async def _floor(self, cand: Parsed, ref: Parsed,
                     result: Normalised) -> list[FieldJudgement]:
        """Sample the reference side further (more re-queries of the primary, the egress
        twins) and judge each remaining difference against its variation; a flushed
        re-query of the candidate only when a varying field needs telling apart."""
        config = self.config
        primary_ref = self.refs[0]
        for i in range(1, config.floor_requeries):
            flush = config.flush_reference and i % 2 == 0
            ta, parsed = await self.ask(primary_ref, "floor", flush=flush)
            self.learn(parsed, primary_ref)
            self.sample(primary_ref, ta, parsed, flush)
        across: list[str] = []  # egress-swapped pairs that agree as a whole
        if config.egress_swap:
            twin = config.twins.get(primary_ref)
            if twin:
                _, parsed = await self.ask(twin, "egress")
                if parsed is not None:
                    # The reference's software at the candidate's vantage: reference side.
                    self.knowledge.learn(parsed, self.differ.vantage(config.candidate))
                    if not self.differ.assess(cand, parsed, asked_dnssec=self.asked).remaining:
                        across.append(f"{primary_ref} asked from the candidate's egress "
                                      f"({twin}) answered what the candidate did")
            twin = config.twins.get(config.candidate)
            if twin:
                _, parsed = await self.ask(twin, "egress")
                if parsed is not None and not self.differ.assess(parsed, ref,
                                                            asked_dnssec=self.asked).remaining:
                    across.append(f"the candidate asked from {primary_ref}'s egress ({twin}) "
                                  "answered what the reference did")
        remaining = result.remaining
        fields = judge_fields(cand, ref, remaining, self.samples, across, None,
                              asked_dnssec=self.asked, knowledge=self.knowledge)
        if any(f.evidence == "undetermined" for f in fields):
            parsed = await self.fresh_candidate()
            keys = _address_keys([f.difference for f in fields if f.evidence == "undetermined"])
            if parsed is None and keys:
                # No fresh fetch of the candidate: an address RRset that varies is learned
                # as a pool instead (flushed reference re-queries until it stops growing);
                # an address or a record count outside a pool that stopped growing is the
                # candidate's (floor.FINITE), one within it is noise.
                await self._learn_pool(self.primary_ref, cand, keys)
            fields = judge_fields(cand, ref, remaining, self.samples, across, parsed,
                                  asked_dnssec=self.asked, knowledge=self.knowledge)
        return fields

    async def fresh_candidate(self) -> Parsed | None:
        """The candidate's answer after a flush (asked once per judgement; None: off, or
        no fresh fetch could be had)."""
        if not self.config.fresh_candidate:
            return None
        if not self.fresh_asked:
            self.fresh_asked = True
            ta, parsed = await self.ask(self.config.candidate, "fresh", flush=True)
            self.fresh_parsed = parsed if self.fresh(ta, True) else None
        return self.fresh_parsed

    # -- the authority sweep -------------------------------------------------------------------

    async def _sweep(self, cand: Parsed, ref: Parsed,
                     fields: list[FieldJudgement]) -> list[FieldJudgement]:
        """Ask the zone's authoritative servers about each field still judged real; an
        authority that gives the candidate's value makes it noise (:mod:`.sweep`)."""
        config = self.config
        if not config.authority_sweep or self.differ.authorities is None:
            return fields
        questions: list[tuple[str, int]] = []
        for f in fields:
            if f.real and sweepable(f.difference):
                q = question_of(f.difference)
                if q not in questions:
                    questions.append(q)
        answers: dict[tuple[str, int], list[AuthorityAnswer]] = {}
        swept: list[SweepEntry] = []
        for owner, rdtype in questions[:config.authority_fields]:
            zone = await self._zone(owner)
            if zone is None:
                swept.append(SweepEntry(owner, rdtype))
                continue
            query = sweep_query(owner, rdtype, self.query.do)
            got = await asyncio.gather(*(self.ask_authority(name, address, query)
                                         for name, address in
                                         zone.servers[:config.authority_servers]))
            answers[(owner, rdtype)] = [a for a in got if a is not None]
            swept.append(SweepEntry(owner, rdtype, zone.apex,
                                    [f"{n} ({a})" for n, a in
                                     zone.servers[:config.authority_servers]]))
        self.found.authority_sweep = swept
        out = []
        for f in fields:
            if f.real and sweepable(f.difference):
                heard = answers.get(question_of(f.difference))
                if heard:
                    f = judge_by_authorities(f.difference, cand, ref, heard) or f
                if f.real and heard and (varies := ttl_varies(f.difference, heard)):
                    # The authorities' TTL itself varies: a fresh fetch of the candidate
                    # tells a raised TTL (again above) from a draw of that variation.
                    highest = max([self.knowledge.max_ttl(f.difference.key or ("", 0, 0)),
                                   *(t for s in self.samples
                                     if (t := ttl_of(s.parsed, f.difference)) is not None),
                                   *(t for a in heard
                                     if (t := ttl_of(a.parsed, f.difference)) is not None)])
                    cap = authority_cap(f.difference, [*(s.parsed for s in self.samples),
                                                       ref, *(a.parsed for a in heard)])
                    f = judge_ttl_again(f.difference, await self.fresh_candidate(),
                                        highest, varies, cap)
            out.append(f)
        return out

    async def _zone(self, owner: str) -> ZoneServers | None:
        """The authoritative servers of ``owner``'s zone, learned through the primary
        reference (its SOA for the apex, the apex's NS, their addresses) and kept."""
        book = self.differ.zones
        now = time.monotonic()
        primary_ref = self.refs[0]
        apex = book.apex(owner, now)
        if apex is None:
            _, soa = await self.ask(primary_ref, "sweep", reference_query(owner, _SOA))
            apex = None if soa is None else apex_of(soa, owner)
            if apex is None:
                return None
            book.keep_apex(owner, apex, now)
        async with book.lock(apex):
            zone = book.servers(apex, now)
            if zone is not None:
                return zone
            _, ns = await self.ask(primary_ref, "sweep", reference_query(apex, _NS))
            if ns is None:
                return None
            names, glue = server_addresses(ns, apex)
            servers: list[tuple[str, str]] = []
            for name in names[:self.config.authority_servers]:
                addresses = glue.get(name) or await self._addresses(name)
                servers.extend((name, a) for a in addresses)
            zone = ZoneServers(apex, tuple(servers), now)
            book.keep(zone)
            return zone

    async def _addresses(self, name: str) -> list[str]:
        out: list[str] = []
        for rdtype in ADDRESS_TYPES:
            _, parsed = await self.ask(self.refs[0], "sweep", reference_query(name, rdtype))
            view = None if parsed is None else parsed.rrset("answer", (name, rdtype, 0))
            if view is not None:
                out.extend(sorted(view.addresses()))
        return out

    async def ask_authority(self, name: str, address: str,
                            query: Query) -> AuthorityAnswer | None:
        """One authoritative server, directly: budgeted and counted like any re-query."""
        authorities = self.differ.authorities
        assert authorities is not None
        label = f"{name} ({address})"
        _, parsed = await self._budgeted(label, "sweep", query, False, False,
                                         lambda: authorities(address, query))
        self.differ.stats["authority_queries"] += 1
        return None if parsed is None else AuthorityAnswer(label, parsed)

    def _floor_noise(self, result: Normalised, fields: list[FieldJudgement],
                     floor: list[FloorEntry], confirmation: Confirmation) -> Verdict:
        kinds = sorted({f.evidence for f in fields})
        explanation = Explanation("floor", tuple(result.remaining),
                                  f"{len(result.remaining)} difference(s) within the reference "
                                  f"side's own variation ({', '.join(kinds)})")
        done = Normalised(result.differences, [*result.explanations, explanation], [])
        return self.verdict(VerdictKind.NOISE, primary(d.category for d in done.differences),
                            done, confirmation=confirmation, noise_floor=floor)

    def undecided(self) -> Verdict:
        """The budget ran out before the divergence could be confirmed: never real."""
        result = self.last
        category = "undecided"
        if result is not None and result.remaining:
            category = primary(d.category for d in result.remaining)
        return self.verdict(VerdictKind.UNDECIDED, category, result, budget="exhausted")

    # -- pieces ----------------------------------------------------------------------------

    def _timeout(self, failed: list[tuple[str, str]],
                 result: Normalised | None = None) -> Verdict:
        sides = {t for t, _ in failed}
        if sides == {self.config.candidate}:
            side = "candidate"
        elif self.config.candidate in sides:
            side = "both"
        else:
            side = "reference"
        return self.verdict(VerdictKind.TIMEOUT, "timeout", result, side=side,
                            errors=dict(failed))

    async def _unparseable_candidate(self, error: str) -> Verdict:
        if self.config.confirm:
            _, parsed = await self.ask(self.config.candidate, "confirm")
            if parsed is not None:
                return self.verdict(VerdictKind.UNSTABLE, "format", side="candidate",
                                    error=error, unstable_side="candidate")
        diff = Difference("format", f"the candidate's response does not parse: {error}")
        result = Normalised([diff], [], [diff])
        return self.verdict(VerdictKind.REAL, "format", result, confirmed=self.config.confirm)

    def _real(self, cand: Parsed, ref: Parsed, result: Normalised, *, confirmed: bool,
              confirmation: Confirmation | None = None,
              outcomes: tuple[Outcome, Outcome] | None = None,
              noise_floor: list[FloorEntry] | None = None) -> Verdict:
        cand_outcome, ref_outcome = outcomes or (dnssec_outcome(cand, asked_dnssec=self.asked),
                                                 dnssec_outcome(ref, asked_dnssec=self.asked))
        return self.verdict(VerdictKind.REAL, primary(d.category for d in result.remaining),
                            result, confirmed=confirmed, candidate=cand.summary(),
                            reference=ref.summary(),
                            dnssec=DnssecOutcomes(cand_outcome.value, ref_outcome.value),
                            confirmation=confirmation, noise_floor=noise_floor or [])

    def _agrees_with(self, cand: Parsed, target: str) -> bool:
        ta = self.observation.answers.get(target)
        if ta is None or ta.wire is None:
            return False
        try:
            other = parse(ta.wire)
        except ParseError:
            return False
        return not self.assess(cand, other).remaining

    async def _cd_outcomes(self, cand: Parsed, ref: Parsed) -> tuple[Outcome, Outcome] | None:
        def needs(a: Parsed, b: Parsed) -> bool:
            return (a.rcode == _SERVFAIL and b.rcode != _SERVFAIL
                    and not any(c in DNSSEC_EDE for c in a.ede))

        sides = [(self.config.candidate, cand, needs(cand, ref)),
                 (self.refs[0], ref, needs(ref, cand))]
        if not any(n for _, _, n in sides):
            return None
        rcodes: list[int | None] = []
        for target, _, need in sides:
            if not need:
                rcodes.append(None)
                continue
            _, parsed = await self.ask(target, "cd", flush=False, cd=True)
            rcodes.append(None if parsed is None else parsed.rcode)
        outcomes = (dnssec_outcome(cand, asked_dnssec=self.asked, cd_rcode=rcodes[0]),
                    dnssec_outcome(ref, asked_dnssec=self.asked, cd_rcode=rcodes[1]))
        self.found.cd_rcodes = {
            t: dns.rcode.to_text(dns.rcode.Rcode(r)) for (t, _, _), r in
            zip(sides, rcodes, strict=True) if r is not None}
        return outcomes

    def _pool_churns(self, cand: Parsed, ref: Parsed, ref_re: Parsed,
                     result: Normalised) -> bool:
        for section, key in _address_keys(result.remaining):
            if self.knowledge.saturated(key, self.config.pool_patience):
                continue
            a, b = ref.rrset(section, key), ref_re.rrset(section, key)
            changed = a is None or b is None or a.addresses() != b.addresses()
            if changed or self.knowledge.varies(key):
                return True
        return False

    async def _learn_pool(self, target: str, cand: Parsed,
                          keys: Sequence[tuple[str, RRKey]]) -> None:
        """Flushed re-queries of ``target`` until the candidate's address set (its
        addresses and its record count) is within the pool learned for each key, or the
        pool stops growing (``pool_patience``), or ``pool_requeries`` are spent."""
        for _ in range(self.config.pool_requeries):
            open_keys = []
            for section, key in keys:
                view = cand.rrset(section, key)
                covered = (view is not None and view.addresses() <= self.knowledge.pool(key)
                           and len(view.addresses()) in self.knowledge.counts(key))
                if not covered and not self.knowledge.saturated(key, self.config.pool_patience):
                    open_keys.append(key)
            if not open_keys:
                return
            if not self.differ.budget.take():
                return  # learning is best effort; the floor decides what is left
            self.differ.stats["requeries"] += 1
            try:
                answer = await self.requery(target, self.query, flush=True, cd=False)
            except Exception:  # noqa: BLE001 - learning is best effort
                return
            self.trail.pool += 1
            if answer.wire is None:
                return
            try:
                self.learn(parse(answer.wire), target)
            except ParseError:
                return

