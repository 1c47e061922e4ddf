"""A plain judge for when the differ is not there: exact comparison, no noise model.

Two answers are equal when their rcode, AD bit and answer RRsets (RRSIGs aside) are equal,
ignoring TTLs, record order and name case.  Otherwise the verdict is REAL with every category
that differs (``rcode``, ``ad``, ``answer``); a side without an answer is TIMEOUT; references
that disagree among themselves make the verdict UNSTABLE.  It never re-queries.  Round-robin,
pools and geo answers all show up as REAL here: that is what ``harness.differ`` is for.
"""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from harness.evidence import Evidence
from harness.judge import Requery
from harness.records import CANDIDATE, Observation, TargetAnswer, Verdict, VerdictKind

__all__ = ["ExactJudge", "Shape", "shape"]

Shape = tuple[str, bool, frozenset[tuple[str, int, frozenset[str]]]]


def shape(wire: bytes) -> Shape:
    """(rcode, AD, answer RRsets as sets of text) of a response; raises on a bad message."""
    message = dns.message.from_wire(wire, ignore_trailing=True)
    rrsets = frozenset(
        (rrset.name.to_text().lower(), int(rrset.rdtype),
         frozenset(rd.to_text().lower() for rd in rrset))
        for rrset in message.answer if rrset.rdtype != dns.rdatatype.RRSIG)
    return dns.rcode.to_text(message.rcode()), bool(message.flags & dns.flags.AD), rrsets


def _describe(s: Shape) -> str:
    data = sorted(rd for _, _, rds in s[2] for rd in rds)[:4]
    return " ".join([s[0], *(["AD"] if s[1] else []), *data])


def _differences(a: Shape, b: Shape) -> list[str]:
    out = []
    if a[0] != b[0]:
        out.append("rcode")
    if a[1] != b[1]:
        out.append("ad")
    if a[2] != b[2]:
        out.append("answer")
    return out


class ExactJudge:
    """Candidate against every reference, exactly (see the module docstring)."""

    def __init__(self, candidate: str = CANDIDATE) -> None:
        self.candidate = candidate

    async def judge(self, observation: Observation, requery: Requery) -> Verdict:
        answers = observation.answers
        mine = answers.get(self.candidate)
        references = [a for name, a in answers.items() if name != self.candidate]
        evidence = Evidence()
        missing = [a.target for a in ([mine] if mine else []) + references if a.wire is None]
        if mine is None or not references:
            return Verdict(observation.id, VerdictKind.TIMEOUT, "missing", ["missing"],
                           evidence=Evidence(targets=sorted(answers)))
        if missing:
            for a in [mine, *references]:
                evidence.answers[a.target] = a.error or "answered"
            return Verdict(observation.id, VerdictKind.TIMEOUT, "timeout",
                           [f"timeout.{t}" for t in missing], evidence=evidence)
        shapes: dict[str, Shape] = {}
        for a in [mine, *references]:
            parsed = _parse(a)
            if parsed is None:
                return Verdict(observation.id, VerdictKind.REAL, "malformed",
                               [f"malformed.{a.target}"],
                               evidence=Evidence(answers={a.target: "unparsable"}))
            shapes[a.target] = parsed
            evidence.answers[a.target] = _describe(parsed)
        ref_shapes = [shapes[a.target] for a in references]
        if any(_differences(ref_shapes[0], s) for s in ref_shapes[1:]):
            return Verdict(observation.id, VerdictKind.UNSTABLE, "references_disagree",
                           ["references_disagree"], evidence=evidence)
        categories = _differences(shapes[mine.target], ref_shapes[0])
        if not categories:
            return Verdict(observation.id, VerdictKind.EQUAL, "equal", evidence=evidence)
        return Verdict(observation.id, VerdictKind.REAL, categories[0], categories,
                       evidence=evidence)


def _parse(answer: TargetAnswer) -> Shape | None:
    assert answer.wire is not None
    try:
        return shape(answer.wire)
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError):
        return None
