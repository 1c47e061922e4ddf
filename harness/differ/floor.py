"""The noise floor: how much the reference side varies with itself, measured, not listed.

Named normalisers (:mod:`harness.differ.normalise`) are fast explanations for noise someone
has seen before.  Noise in real traffic is an open set, so what they leave is judged here by
measurement: the reference side is sampled (the same reference asked again, flushed and
not; the other references; the reference asked from the candidate's egress address and the
candidate from the reference's, where the harness controls egress), and each difference the
candidate shows is held against the variation of the *same field* within those samples.

A field is identified by its path: the difference's category and, for section data, the
RRset (owner, type, covered type).  For each difference left:

======================  ==========================================================================
evidence                  when
======================  ==========================================================================
``egress``                a sample taken across egress (the reference asked from the candidate's
                          address, or the candidate from the reference's) agrees with the
                          other side in this field: the difference is where the question came from
``reference varies``      the field varies among the reference samples, and one of them gave the
                          candidate's value
``records seen``          (section data) the field varies, and every record of the candidate's
                          RRset, and its record count, were given by the reference side
``fresh per fetch``       (section data) the field varies, the candidate has records the reference
                          never gave, and a fresh (flushed) fetch by the candidate gave none of
                          them again: the value is new on every fetch, on both sides
``reference stable``      the reference gave one value in every sample: the difference is the
                          candidate's (a real divergence)
``persisted``             the field varies, but the candidate's value is outside everything the
                          reference gave and came back on the candidate's fresh fetch: real
``beyond variation``      (a TTL the authority varies) the candidate's TTL is more than twice the
                          highest the reference side and the authorities gave: no draw of that
                          variation (:data:`SPAN`): real, no fresh fetch needed
``undetermined``          the field varies, and no fresh fetch of the candidate could be had to
                          tell the two apart: never real (the verdict is ``unstable``)
======================  ==========================================================================

TTL decay is expected and measured by the TTL rule (the time between the two answers, the
range the reference has shown, see :class:`harness.differ.normalise.Ttl`); what it leaves is
judged here by the authority's own TTL: above the signer's original TTL, real; above what
the reference side showed while the authority's TTL does not vary, real; where it varies
(fresh fetches further apart than the time between them), :func:`judge_varying_ttl`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import dns.rdatatype

from harness.differ.answers import ADDRESS_TYPES, SECTIONS, Parsed, RRKey, RRsetView
from harness.differ.classify import GROUPS, rank
from harness.differ.compare import Difference, compare, rrsig_identity
from harness.differ.knowledge import Knowledge, record_texts
from harness.differ.normalise import ROUNDING
from harness.evidence import FloorEntry

__all__ = ["SPAN", "Budget", "Exhausted", "FieldJudgement", "Sample", "field_path",
           "authority_cap", "judge_fields", "judge_varying_ttl"]

_RRSIG = int(dns.rdatatype.RRSIG)
_SOA = int(dns.rdatatype.SOA)

FieldPath = tuple[str, RRKey | None]


class Exhausted(Exception):
    """The confirmation budget has no re-query left for this judgement."""


class Budget:
    """Confirmation traffic: a token bucket (``rate`` re-queries per second, up to ``burst``
    at once; ``rate`` 0: unlimited) and at most ``concurrency`` re-queries in flight (0:
    unlimited).  :meth:`take` says whether one more re-query may be sent now."""

    def __init__(self, rate: float = 0.0, burst: int = 0, concurrency: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst > 0 else max(1, int(rate))
        self.concurrency = concurrency
        self.clock = clock
        self.tokens = float(self.burst)
        self.stamp = clock()
        self._slots: asyncio.Semaphore | None = (
            asyncio.Semaphore(concurrency) if concurrency > 0 else None)

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    @property
    def slots(self) -> asyncio.Semaphore | None:
        return self._slots


@dataclass(slots=True)
class Sample:
    """One answer from the reference side, labelled for the evidence."""

    label: str  # "unbound re-query (flushed)", "kresd", "staging"
    parsed: Parsed
    fresh: bool = False  # fetched from the authority just now (after a flush)
    received: float | None = None  # time.monotonic() of the answer


def field_path(d: Difference) -> FieldPath:
    return (d.category, d.key)


@dataclass(slots=True)
class _Compared:
    """One comparison's differences by field path, and its most important group."""

    paths: dict[FieldPath, Difference]
    top_group: int

    @classmethod
    def of(cls, a: Parsed, b: Parsed, asked_dnssec: bool) -> _Compared:
        diffs = compare(a, b, asked_dnssec=asked_dnssec)
        return cls({field_path(d): d for d in diffs},
                   min((rank(d.category)[0] for d in diffs), default=len(GROUPS)))

    def agrees_on(self, d: Difference) -> bool:
        """Do the two sides agree in ``d``'s field, with nothing more important differing
        (a bogus SERVFAIL files an rcode difference under ``dnssec``: no agreement)?"""
        return field_path(d) not in self.paths and self.top_group >= rank(d.category)[0]


def _key_text(key: RRKey | None) -> str:
    if key is None:
        return ""
    owner, rdtype, covers = key
    text = f" {owner} {dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))}"
    if covers:
        text += f"({dns.rdatatype.to_text(dns.rdatatype.RdataType(covers))})"
    return text


def _view(p: Parsed, key: RRKey) -> RRsetView | None:
    for section in SECTIONS:
        view = p.sections[section].get(key)
        if view is not None:
            return view
    return None


def _records(p: Parsed, key: RRKey) -> frozenset[object] | None:
    """The records of ``key`` in ``p`` (any section), as comparable values; None: absent."""
    view = _view(p, key)
    if view is None:
        return None
    if key[1] == _RRSIG:
        return frozenset(rrsig_identity(rd) for rd in view.rdatas)
    return frozenset(record_texts(view.rdatas))


def _ttl_of(p: Parsed, d: Difference) -> int | None:
    """``p``'s value of the TTL field ``d`` is about (an RRset's TTL, or an RRSIG's original
    TTL when ``d`` compares those)."""
    assert d.key is not None
    view = _view(p, d.key)
    if view is None:
        return None
    if d.detail.startswith(f"{d.section}: original TTL"):
        return max(int(rd.original_ttl) for rd in view.rdatas)  # type: ignore[attr-defined]
    return view.ttl


def _authority_ttl_varies(d: Difference, samples: Sequence[Sample]) -> str | None:
    """Do fresh fetches from the reference side give TTLs further apart than the time
    between them (plus rounding)?  Then the authority's TTL itself varies (jitter)."""
    fresh = [(s, t) for s in samples if s.fresh and (t := _ttl_of(s.parsed, d)) is not None]
    for i, (a, ta) in enumerate(fresh):
        for b, tb in fresh[i + 1:]:
            apart = (abs(a.received - b.received) if a.received is not None
                     and b.received is not None else 0.0)
            if abs(ta - tb) > apart + ROUNDING:
                return f"fresh fetches {a.label} and {b.label} gave TTLs {ta} and {tb}"
    return None


def _is_data(d: Difference) -> bool:
    what = d.category.rsplit(".", 1)[-1]
    return d.key is not None and (what == "data" or d.category == "cname.chain")


@dataclass
class FieldJudgement:
    """What the floor made of one difference."""

    difference: Difference
    evidence: str  # see the module docstring's table
    explained: bool  # noise
    real: bool  # a real divergence by evidence (stable reference, or a persisted value)
    sample: str = ""
    how: str = ""

    def entry(self) -> FloorEntry:
        """As the verdict's evidence lists it."""
        return FloorEntry(f"{self.difference.category}{_key_text(self.difference.key)}",
                          self.evidence, self.sample or None, self.how or None)


def judge_fields(cand: Parsed, ref: Parsed, remaining: Sequence[Difference],
                 samples: Sequence[Sample], across: Sequence[str],
                 fresh: Parsed | None, *, asked_dnssec: bool,
                 knowledge: Knowledge | None = None) -> list[FieldJudgement]:
    """Judge each of ``remaining`` (differences between ``cand`` and ``ref`` the normalisers
    left) against the reference side's own variation.

    ``samples``: other answers from the reference side (the original reference not among
    them).  ``across``: the egress-swapped pairs that agree as a whole (the reference asked
    from the candidate's egress answered what the candidate did, or the candidate asked from
    the reference's egress what the reference did), by label: the whole pair, not field by
    field, since a fault can sit under another owner once the egress changes (a CDN edge).
    ``fresh``: the candidate's answer after a flush (None: none could be had).
    ``knowledge``: what the reference side gave in earlier observations (records, counts,
    distinct RRsets: a field that varied over time varies).
    """
    k = knowledge or Knowledge(capacity=1)
    variation: dict[FieldPath, list[tuple[str, Difference]]] = {}
    for s in samples:
        for d in compare(s.parsed, ref, asked_dnssec=asked_dnssec):
            variation.setdefault(field_path(d), []).append((s.label, d))
    against = [(s.label, _Compared.of(cand, s.parsed, asked_dnssec)) for s in samples]
    refetch = None if fresh is None else _Compared.of(fresh, cand, asked_dnssec)
    n = len(samples) + 1
    out: list[FieldJudgement] = []
    for d in remaining:
        fp = field_path(d)
        if d.category.endswith(".ttl") and d.key is not None:
            out.append(_judge_ttl(d, [Sample("reference", ref), *samples], fresh, k))
            continue
        if across:
            out.append(FieldJudgement(d, "egress", True, False, across[0],
                                      "the two sides agree once the egress is swapped"))
            continue
        varied = variation.get(fp)
        if not varied and _is_data(d) and d.key is not None and k.seen(d.key)[2] >= 2:
            varied = [("the reference in earlier observations", Difference(
                d.category, "", d.key, f"{k.seen(d.key)[2]} distinct RRsets", d.reference))]
        if not varied:
            out.append(FieldJudgement(d, "reference stable", False, True,
                                      ", ".join(s.label for s in samples),
                                      f"the reference gave one value in {n} samples"))
            continue
        first_label, first = varied[0]
        how_varied = (f"{first_label} gave {_value(first.candidate)} where the reference "
                      f"gave {_value(first.reference)}")
        same = next((label for label, c in against if c.agrees_on(d)), None)
        if same is not None:
            out.append(FieldJudgement(d, "reference varies", True, False, same,
                                      f"gave the candidate's value; {how_varied}"))
            continue
        if _is_data(d):
            out.append(_judge_data(d, cand, ref, samples, fresh, how_varied, k))
            continue
        out.append(_persistence(d, fresh, refetch is not None and refetch.agrees_on(d),
                                how_varied, "the candidate's value came back"))
    return out


def _value(v: object) -> str:
    text = "absent" if v is None else str(v)
    return text if len(text) <= 80 else text[:77] + "..."


def authority_cap(d: Difference, answers: Iterable[Parsed]) -> tuple[int, str] | None:
    """The highest TTL any cache may give ``d``'s RRset, as far as ``answers`` (the
    reference side's, the authorities') tell, and why: the original TTL of the RRSIGs over
    it (RFC 4034 3.1.4, RFC 4035 5.3.3) and, for the SOA of a negative answer (and its
    RRSIGs), the SOA's MINIMUM field (RFC 2308 §5: the negative TTL is the lesser of it and
    the SOA's own TTL).  None: no cap known."""
    assert d.key is not None
    owner, rdtype, covers = d.key
    answers = list(answers)
    caps: list[tuple[int, str]] = []
    sig_key = d.key if rdtype == _RRSIG else (owner, _RRSIG, rdtype)
    signed = [max(int(rd.original_ttl) for rd in view.rdatas)  # type: ignore[attr-defined]
              for p in answers if (view := _view(p, sig_key)) is not None]
    if signed:
        caps.append((max(signed), f"the original TTL the signer gave ({max(signed)}): no "
                                  "cache may serve it longer (RFC 4035 5.3.3)"))
    if d.section == "authority" and _SOA in (rdtype, covers):
        minima = [min(int(rd.minimum) for rd in view.rdatas)  # type: ignore[attr-defined]
                  for p in answers
                  if (view := p.rrset("authority", (owner, _SOA, 0))) is not None]
        if minima:
            caps.append((max(minima), f"the SOA MINIMUM of the negative answer "
                                      f"({max(minima)}): the negative TTL is at most that "
                                      "(RFC 2308 5)"))
    return min(caps) if caps else None


SPAN = 2
"""A TTL the authority varies is a draw between 0 and its highest value, and the highest TTL
the reference side and the authorities have shown is itself one draw: a candidate TTL more
than ``SPAN`` times that is beyond the widest variation consistent with what was seen (the
variation would have to be wider than all of it, from 0 up).  Jitter that keeps every draw
above half the authority's TTL can never reach it."""


def judge_varying_ttl(d: Difference, fresh: Parsed | None, highest: int, varies: str,
                      cap: tuple[int, str] | None, noise: str) -> FieldJudgement:
    """A TTL the TTL rule left, where the authority's TTL itself varies (``varies``: the
    evidence, fresh fetches or the authorities further apart than the time between them).
    Real when above the TTL any cache may give (``cap``, :func:`authority_cap`) or beyond the
    variation (more than :data:`SPAN` times ``highest``, the highest TTL the reference side
    and the authorities gave); otherwise the candidate's fresh fetch decides: above
    ``highest`` again, real; within it, noise (evidence ``noise``); none to be had,
    undetermined."""
    mine = d.candidate if isinstance(d.candidate, int) else None
    if cap is not None and mine is not None and mine > cap[0] + ROUNDING:
        return _above_cap(d, mine, cap)
    if mine is not None and highest > 0 and mine > SPAN * highest + ROUNDING:
        return FieldJudgement(d, "beyond variation", False, True, "",
                              f"{mine} is more than {SPAN} times the highest TTL the reference "
                              f"side and the authorities gave ({highest}): no draw of a TTL "
                              f"that varies between 0 and {highest} ({varies})")
    if fresh is None:
        return FieldJudgement(d, "undetermined", False, False, "",
                              varies + "; no fresh fetch of the candidate")
    again = _ttl_of(fresh, d)
    if again is not None and again > highest + ROUNDING:
        return FieldJudgement(d, "persisted", False, True, "candidate (flushed)",
                              f"the candidate's fresh fetch gave TTL {again}, again above "
                              f"everything the reference side gave ({highest}; {varies})")
    return FieldJudgement(d, noise, True, False, "candidate (flushed)",
                          f"{varies}; the candidate's fresh fetch gave {again}, within "
                          f"{highest}")


def _above_cap(d: Difference, mine: int, cap: tuple[int, str]) -> FieldJudgement:
    return FieldJudgement(d, "ttl", False, True, "", f"{mine} is above {cap[1]}")


def _judge_ttl(d: Difference, samples: Sequence[Sample], fresh: Parsed | None,
               k: Knowledge) -> FieldJudgement:
    """A TTL the TTL rule left (above the reference's plus the time between the answers,
    above every TTL the reference has shown): real, unless the authority's TTL itself
    varies (fresh fetches disagree): then :func:`judge_varying_ttl`."""
    assert d.key is not None
    cap = authority_cap(d, (s.parsed for s in samples))
    mine = d.candidate if isinstance(d.candidate, int) else None
    if cap is not None and mine is not None and mine > cap[0] + ROUNDING:
        return _above_cap(d, mine, cap)
    varies = _authority_ttl_varies(d, samples)
    if varies is None:
        return FieldJudgement(d, "ttl", False, True, "",
                              "above the reference's TTL plus the time between the answers, "
                              "and above every TTL the reference has shown")
    highest = max([k.max_ttl(d.key), *(t for s in samples
                                       if (t := _ttl_of(s.parsed, d)) is not None)])
    return judge_varying_ttl(d, fresh, highest, "the authority's TTL varies: " + varies,
                             cap, "fresh per fetch")


def _judge_data(d: Difference, cand: Parsed, ref: Parsed, samples: Sequence[Sample],
                fresh: Parsed | None, how_varied: str, k: Knowledge) -> FieldJudgement:
    assert d.key is not None
    key = d.key
    mine = _records(cand, key)
    known, sizes, n_sets = (k.seen(key) if key[1] != _RRSIG
                            else (frozenset(), frozenset(), 0))
    seen: set[object] = set(known)
    counts: set[int] = set(sizes)
    sets: set[frozenset[object]] = set()
    absent = False
    for p in (ref, *(s.parsed for s in samples)):
        recs = _records(p, key)
        if recs is None:
            absent = True
            continue
        seen |= recs
        counts.add(len(recs))
        sets.add(recs)
    if mine is not None and (sets or n_sets) and len(sets) <= 1 and n_sets <= 1 \
            and mine not in sets:
        # What varies is which owner is in the answer (steering, a CDN edge); at this owner
        # the reference side has only ever given one RRset, and the candidate's is another.
        given = next(iter(sets), None)
        return FieldJudgement(d, "reference stable", False, True, "",
                              "the reference side gave one RRset for this owner ("
                              + (_value(" ".join(sorted(map(str, given)))) if given
                                 else "in earlier observations") + f"); {how_varied}")
    if mine is None:  # the candidate lacks the RRset
        if absent:
            return FieldJudgement(d, "reference varies", True, False, "",
                                  "the reference side also answered without it; " + how_varied)
        # Its content varies, but the reference side gave it in every sample.
        return FieldJudgement(d, "reference stable", False, True, "",
                              f"the reference side gave this RRset in all {len(samples) + 1} "
                              f"samples, the candidate none; {how_varied}")
    again = None if fresh is None else _records(fresh, key)
    finite = _finite(k, key)
    if finite and (len(mine) not in counts or not mine <= seen):
        # An address pool that has stopped growing: the reference side has shown its whole
        # range, and the candidate's RRset lies outside it (no fresh fetch needed).
        return FieldJudgement(d, "persisted", False, True, "",
                              f"outside a pool that stopped growing ({finite}): "
                              + ("a record count it never gave" if len(mine) not in counts
                                 else f"{len(mine - seen)} address(es) it never gave")
                              + f"; {how_varied}")
    if len(mine) not in counts:  # a record dropped or added, whatever the records
        return _persistence(d, fresh, again is not None and len(again) == len(mine),
                            how_varied, f"{len(mine)} record(s) again, a count the reference "
                            f"never gave ({', '.join(map(str, sorted(counts)))})")
    novel = mine - seen
    if not novel:
        return FieldJudgement(d, "records seen", True, False, "",
                              f"every record ({len(mine)}) and the record count were given "
                              f"by the reference side; {how_varied}")
    kept = again is not None and bool(novel & again)
    if fresh is not None and not kept:
        return FieldJudgement(d, "fresh per fetch", True, False, "candidate (flushed)",
                              f"{len(novel)} record(s) the reference never gave did not come "
                              f"back on the candidate's fresh fetch: new on every fetch, as "
                              f"on the reference side ({how_varied})")
    return _persistence(d, fresh, kept, how_varied,
                        f"{len(novel)} record(s) the reference never gave came back")


FINITE = 8
"""Samples without a new address after which an address pool counts as fully seen."""


def _finite(k: Knowledge, key: RRKey) -> str:
    """Why ``key``'s addresses form a finite pool the reference side has shown in full ('':
    they do not, or it is not known)."""
    if key[1] not in ADDRESS_TYPES:
        return ""
    f = k.facts(key)
    if f is None or f.since_growth < FINITE:
        return ""
    return f"{len(f.pool)} addresses, none new in the last {f.since_growth} samples"


def _persistence(d: Difference, fresh: Parsed | None, persisted: bool, how_varied: str,
                 what: str) -> FieldJudgement:
    if fresh is None:
        return FieldJudgement(d, "undetermined", False, False, "",
                              how_varied + "; no fresh fetch of the candidate")
    if persisted:
        return FieldJudgement(d, "persisted", False, True, "candidate (flushed)",
                              f"{what} on the candidate's fresh fetch ({how_varied})")
    return FieldJudgement(d, "fresh per fetch", True, False, "candidate (flushed)",
                          f"the candidate's fresh fetch differed ({how_varied})")
