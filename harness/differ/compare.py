"""Field-by-field comparison of two parsed responses: a list of :class:`Difference`.

Compared: rcode; the question exactly as echoed (0x20 case included); the DNSSEC outcome
(see :mod:`harness.differ.classify`) and Extended DNS Error codes; each section's RRsets by
``(owner, type, covered type)``: presence, data (as sets), TTL, RRSIGs (by identity:
covered type, algorithm, labels, signer, key tag; the validity window apart, as
``<section>.signature``, the original TTL as ``<section>.ttl``; never the signature
bytes), owner-name case, record and RRset order; the CNAME chain (targets, and whether
each CNAME precedes the records it points to); the header flags AA, TC, RD, RA, AD, CD;
EDNS presence, version, DO and UDP size.

Nothing is forgiven here: a decayed TTL, a permuted RRset and a 0x20 owner are all
differences.  Saying which differences are noise is the normalisers' job
(:mod:`harness.differ.normalise`); every difference keeps enough to be explained in a report.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.flags
import dns.rcode
import dns.rdata
import dns.rdatatype

from harness.differ.answers import SECTIONS, Parsed, RRKey, RRsetView
from harness.differ.classify import Outcome, dnssec_category, dnssec_outcome
from harness.evidence import DifferenceEntry

__all__ = ["Difference", "chain", "chain_in_order", "compare", "rrsig_identity"]

_CNAME = int(dns.rdatatype.CNAME)
_DNAME = int(dns.rdatatype.DNAME)
_RRSIG = int(dns.rdatatype.RRSIG)
_FLAGS = (("aa", int(dns.flags.AA)), ("tc", int(dns.flags.TC)), ("rd", int(dns.flags.RD)),
          ("ra", int(dns.flags.RA)), ("ad", int(dns.flags.AD)), ("cd", int(dns.flags.CD)))
_BOGUS_CATEGORIES = frozenset({"dnssec.bogus_secure", "dnssec.bogus_insecure"})
MAX_CHAIN = 16

Value = str | int | None


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the candidate's response differs from the reference's."""

    category: str  # see harness.differ.classify.PRIORITY
    detail: str  # one line for a human
    key: RRKey | None = None  # the RRset concerned, when one is
    candidate: Value = None  # the candidate's side (text or number), None when absent
    reference: Value = None

    @property
    def section(self) -> str:
        """The section the difference lies in ('' for header-level differences)."""
        group = self.category.split(".", 1)[0]
        if group == "cname":
            return "answer"
        return group if group in SECTIONS else ""

    def entry(self) -> DifferenceEntry:
        """As the verdict's evidence lists it."""
        return DifferenceEntry(self.category, self.detail,
                               None if self.key is None else _key_text(self.key),
                               self.candidate, self.reference)


def _key_text(key: RRKey) -> str:
    owner, rdtype, covers = key
    text = f"{owner} {dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))}"
    if covers:
        text += f"({dns.rdatatype.to_text(dns.rdatatype.RdataType(covers))})"
    return text


def _rcode_text(rcode: int) -> str:
    return dns.rcode.to_text(dns.rcode.Rcode(rcode))


def rrsig_identity(rd: dns.rdata.Rdata) -> tuple[int, int, int, str, int]:
    """What an RRSIG proves, by whom: covered type, algorithm, labels, signer, key tag.

    Never the signature bytes: ECDSA and EdDSA-with-randomness signers (and any online
    signer) give other bytes for the same data, key and window.  The validity window and the
    original TTL are compared apart (:func:`_compare_rrsigs`)."""
    return (int(rd.type_covered), int(rd.algorithm), int(rd.labels),  # type: ignore[attr-defined]
            rd.signer.to_text().lower(), int(rd.key_tag))  # type: ignore[attr-defined]


def _windows(view: RRsetView) -> set[tuple[tuple[int, int, int, str, int], int, int]]:
    return {(rrsig_identity(rd), int(rd.inception), int(rd.expiration))  # type: ignore[attr-defined]
            for rd in view.rdatas}


def _original_ttl(view: RRsetView) -> int:
    return max(int(rd.original_ttl) for rd in view.rdatas)  # type: ignore[attr-defined]


def _compare_rrsigs(section: str, key: RRKey, cv: RRsetView, rv: RRsetView,
                    out: list[Difference]) -> None:
    """Signatures judged by what they prove: the same keys (identity), the same validity
    windows, the same original TTL; their bytes are never compared."""
    ci = {rrsig_identity(rd) for rd in cv.rdatas}
    ri = {rrsig_identity(rd) for rd in rv.rdatas}
    if ci != ri:
        out.append(Difference(f"{section}.rrsig", f"{section}: signatures over "
                              f"{_key_text(key)} differ", key, _joined(cv), _joined(rv)))
        return
    if _windows(cv) != _windows(rv):
        out.append(Difference(f"{section}.signature", f"{section}: same signers over "
                              f"{_key_text(key)}, other validity window", key,
                              _joined(cv), _joined(rv)))
    co, ro = _original_ttl(cv), _original_ttl(rv)
    if co != ro:  # a TTL of the authority's: judged by the TTL rule
        out.append(Difference(f"{section}.ttl", f"{section}: original TTL of "
                              f"{_key_text(key)}", key, co, ro))


def _joined(view: RRsetView) -> str:
    return " ".join(view.texts())


def compare(candidate: Parsed, reference: Parsed, *,
            outcomes: tuple[Outcome, Outcome] | None = None,
            asked_dnssec: bool = True) -> list[Difference]:
    """Every difference between ``candidate`` and ``reference``.

    ``outcomes`` are the two sides' DNSSEC outcomes when the caller knows more than the
    responses say (a CD=1 re-query); by default they are read from the responses.
    """
    out: list[Difference] = []
    if outcomes is None:
        outcomes = (dnssec_outcome(candidate, asked_dnssec=asked_dnssec),
                    dnssec_outcome(reference, asked_dnssec=asked_dnssec))
    dcat = dnssec_category(*outcomes)
    c_rc, r_rc = candidate.rcode, reference.rcode
    if c_rc != r_rc and dcat not in _BOGUS_CATEGORIES:
        out.append(Difference("rcode", f"rcode {_rcode_text(c_rc)} where the reference says "
                              f"{_rcode_text(r_rc)}", None, _rcode_text(c_rc), _rcode_text(r_rc)))
    if candidate.question != reference.question:
        out.append(Difference(
            "question", "question not echoed the same way", None,
            " ".join(f"{n}/{t}/{c}" for n, t, c in candidate.question),
            " ".join(f"{n}/{t}/{c}" for n, t, c in reference.question)))
    if dcat is not None:
        detail = f"DNSSEC {outcomes[0].value} where the reference is {outcomes[1].value}"
        if c_rc != r_rc:
            detail += f" (rcode {_rcode_text(c_rc)} vs {_rcode_text(r_rc)})"
        out.append(Difference(dcat, detail, None, outcomes[0].value, outcomes[1].value))
    if candidate.ede != reference.ede:
        # Both sides explain the same outcome with a code, only not the same one (Unbound and
        # kresd pick different codes for one failure): its own, lower-severity category.
        code_only = (bool(candidate.ede) and bool(reference.ede) and c_rc == r_rc
                     and outcomes[0] is outcomes[1])
        out.append(Difference(
            "dnssec.ede_code" if code_only else "dnssec.ede",
            "Extended DNS Error code differs, same rcode and DNSSEC outcome" if code_only
            else "Extended DNS Error codes differ", None,
            ",".join(map(str, candidate.ede)) or "none",
            ",".join(map(str, reference.ede)) or "none"))
    for section in SECTIONS:
        _compare_section(section, candidate, reference, out)
    _compare_chain(candidate, reference, out)
    for name, bit in _FLAGS:
        cf, rf = bool(candidate.flags & bit), bool(reference.flags & bit)
        if cf != rf:
            out.append(Difference(f"flags.{name}", f"{name.upper()}={int(cf)} where the "
                                  f"reference has {name.upper()}={int(rf)}", None,
                                  int(cf), int(rf)))
    _compare_edns(candidate, reference, out)
    return out


def _data_category(section: str, rdtype: int) -> str:
    if rdtype == _RRSIG:
        return f"{section}.rrsig"
    if section == "answer" and rdtype in (_CNAME, _DNAME):
        return "cname.chain"
    return f"{section}.data"


def _compare_section(section: str, candidate: Parsed, reference: Parsed,
                     out: list[Difference]) -> None:
    cs, rs = candidate.sections[section], reference.sections[section]
    for key, rv in rs.items():
        cv = cs.get(key)
        rdtype = key[1]
        if cv is None:
            out.append(Difference(_data_category(section, rdtype),
                                  f"{section}: {_key_text(key)} missing", key, None, _joined(rv)))
            continue
        if rdtype == _RRSIG:
            _compare_rrsigs(section, key, cv, rv, out)
        elif cv.data() != rv.data():
            out.append(Difference(_data_category(section, rdtype),
                                  f"{section}: {_key_text(key)} data differs", key,
                                  _joined(cv), _joined(rv)))
        elif cv.rdatas != rv.rdatas:
            out.append(Difference(f"{section}.order", f"{section}: records of "
                                  f"{_key_text(key)} in another order", key,
                                  " ".join(rd.to_text() for rd in cv.rdatas),
                                  " ".join(rd.to_text() for rd in rv.rdatas)))
        if cv.ttl != rv.ttl:
            out.append(Difference(f"{section}.ttl", f"{section}: TTL of {_key_text(key)}",
                                  key, cv.ttl, rv.ttl))
        if cv.owner != rv.owner:
            out.append(Difference(f"{section}.case", f"{section}: owner written "
                                  f"{cv.owner!r}, the reference {rv.owner!r}", key,
                                  cv.owner, rv.owner))
    for key, cv in cs.items():
        if key not in rs:
            out.append(Difference(_data_category(section, key[1]),
                                  f"{section}: {_key_text(key)} extra", key, _joined(cv), None))
    seq_c = [k for k in cs if k in rs and k[1] != _RRSIG]
    seq_r = [k for k in rs if k in cs and k[1] != _RRSIG]
    if seq_c != seq_r:
        out.append(Difference(f"{section}.order", f"{section}: RRsets in another order", None,
                              ", ".join(_key_text(k) for k in seq_c),
                              ", ".join(_key_text(k) for k in seq_r)))


def chain(p: Parsed, qname: str | None = None) -> list[str]:
    """The CNAME chain in ``p``'s answer section from ``qname`` (lower-case names, qname
    first), followed wherever the CNAMEs sit in the section."""
    name = qname if qname is not None else p.qname
    names = [name]
    answer = p.sections["answer"]
    for _ in range(MAX_CHAIN):
        view = answer.get((name, _CNAME, 0))
        if view is None or not view.rdatas:
            break
        target = view.rdatas[0].target.to_text().lower()  # type: ignore[attr-defined]
        if target in names:
            break
        names.append(target)
        name = target
    return names


def chain_in_order(p: Parsed, names: list[str]) -> bool:
    """Does every CNAME of the chain come before the records of the name it points to?

    Stub resolvers (glibc among them) read the answer section in order and lose the data
    when a CNAME follows the record it points to.
    """
    answer = p.sections["answer"]
    for owner, target in zip(names, names[1:], strict=False):
        cname = answer.get((owner, _CNAME, 0))
        if cname is None:
            continue
        for key, view in answer.items():
            if key[0] == target and key[1] != _RRSIG and view.index < cname.index:
                return False
    return True


def _compare_chain(candidate: Parsed, reference: Parsed, out: list[Difference]) -> None:
    qname = reference.qname or candidate.qname
    cc, rc = chain(candidate, qname), chain(reference, qname)
    if len(cc) < 2 and len(rc) < 2:
        return
    ct, rt = _terminal(candidate, cc[-1]), _terminal(reference, rc[-1])
    if ct != rt:
        # What the chain leads to, whichever edge it goes through: the answer to the
        # question (keyed as the question's RRset: the qname holds a CNAME, not this type).
        qtype = (reference.question or candidate.question or (("", 0, 0),))[0][1]
        out.append(Difference("answer.data", "the CNAME chain ends in other data", (qname,
                              qtype, 0), ",".join(ct) or "nothing", ",".join(rt) or "nothing"))
    c_ok, r_ok = chain_in_order(candidate, cc), chain_in_order(reference, rc)
    if c_ok != r_ok:
        out.append(Difference(
            "cname.order", "a CNAME follows the record it points to" if not c_ok else
            "the reference's CNAME follows the record it points to; the candidate's does not",
            None, ", ".join(_order_text(candidate)), ", ".join(_order_text(reference))))


def _terminal(p: Parsed, name: str) -> list[str]:
    """The types of data at the end of a CNAME chain (record counts differ by edge)."""
    return sorted(dns.rdatatype.to_text(dns.rdatatype.RdataType(key[1]))
                  for key in p.sections["answer"]
                  if key[0] == name and key[1] not in (_RRSIG, _CNAME, _DNAME))


def _order_text(p: Parsed) -> list[str]:
    return [_key_text(k) for k in p.sections["answer"] if k[1] != _RRSIG]


def _compare_edns(candidate: Parsed, reference: Parsed, out: list[Difference]) -> None:
    ce, re_ = candidate.edns >= 0, reference.edns >= 0
    if ce != re_:
        out.append(Difference("edns.presence", "OPT record present on one side only", None,
                              int(ce), int(re_)))
        return
    if not ce:
        return
    if candidate.edns != reference.edns:
        out.append(Difference("edns.version", "EDNS version", None, candidate.edns,
                              reference.edns))
    if candidate.do != reference.do:
        out.append(Difference("edns.do", "DO bit", None, int(candidate.do), int(reference.do)))
    if candidate.payload != reference.payload:
        out.append(Difference("edns.payload", "advertised UDP payload size", None,
                              candidate.payload, reference.payload))
