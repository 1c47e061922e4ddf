"""Divergences shown as dig shows responses, side by side, the differing lines marked.

This is the only place the report parses wire with dnspython, and only for the few
observations it shows: a handful per category (:func:`examples`) or the one ``report explain``
asks for (:func:`explain`).

Lines are compared across the two sides by what they say, not how: TTLs and message IDs
are left out (decay and IDs always differ), owner names compare in lower case, record order
does not matter, and an RRSIG is the same when its signer, key, algorithm, labels, original
TTL and covered type are (signature bytes and validity apart, as the differ's ``resign``
normaliser sees them).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from harness.differ.compare import rrsig_identity
from harness.evidence import record_json
from harness.records import Observation, Verdict
from harness.store import StoredRun, StoreReader
from reports.command import invoked_as
from reports.model import Example, Line
from reports.tables import StoreError, choose_run, connect, roles

__all__ = ["SOURCES", "Explanation", "dig_lines", "examples", "explain", "pick", "plain",
           "qtype_text", "shorten_blob", "shorten_blobs", "side_by_side", "words"]

_LONG = frozenset({"RRSIG", "DNSKEY", "CDNSKEY", "DS", "CDS", "NSEC3", "NSEC3PARAM", "TLSA",
                   "SSHFP", "OPENPGPKEY", "ZONEMD"})


def qtype_text(value: int) -> str:
    try:
        return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(value))
    except ValueError:
        return f"TYPE{value}"


def rcode_text(value: int) -> str:
    try:
        return dns.rcode.to_text(dns.rcode.Rcode.make(value))
    except ValueError:
        return f"RCODE{value}"


_ACRONYMS = {"dnssec": "DNSSEC", "dnskey": "DNSKEY", "ds": "DS", "nsec": "NSEC",
             "nsec3": "NSEC3", "rrsigs": "RRSIGs", "nxdomain": "NXDOMAIN"}


def _ede_name(code: int) -> str:
    """As dig writes it: 'DNSSEC Bogus', 'Signature Expired'."""
    try:
        words = dns.edns.EDECode(code).name.lower().split("_")
    except ValueError:
        return "Unassigned"
    return " ".join(_ACRONYMS.get(w, w.capitalize()) for w in words)


@dataclass(frozen=True)
class DigLine:
    """One line of dig's output and what it says (``key``: compared across sides; None for
    lines that only frame, such as section titles)."""

    text: str
    key: tuple[Any, ...] | None = None


_BLOB_LAST = frozenset({"RRSIG", "DNSKEY", "CDNSKEY", "DS", "CDS", "TLSA", "SSHFP",
                        "OPENPGPKEY", "ZONEMD"})
"""Types whose last field is one blob, which presentation format splits into chunks."""
BLOB_KEEP = 8
"""Characters kept at each end of a shortened blob (``report explain`` without ``--full``)."""


def _abbreviate(text: str, width: int, rtype: str) -> str:
    """Long tokens cut to ``width``; for a trailing blob, only its start is kept."""
    out: list[str] = []
    for token in text.split(" "):
        if len(token) <= width:
            out.append(token)
            continue
        out.append(token[:width - 1] + "…")
        if rtype in _BLOB_LAST:
            break
    return " ".join(out)


def shorten_blob(data: str, keep: int = BLOB_KEEP) -> str:
    """A long trailing blob (a signature, a key, a digest) as its first and last ``keep``
    characters around an ellipsis: ``MEUCIQDx…Zm9vYmFy``; shorter data unchanged."""
    head, _, blob = data.rpartition(" ")
    if len(blob) <= 2 * keep + 3:
        return data
    short = f"{blob[:keep]}…{blob[-keep:]}"
    return f"{head} {short}" if head else short


_BLOB_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}(?: [A-Za-z0-9+/]{4,}={0,2})*")


def shorten_blobs(text: str, keep: int = BLOB_KEEP) -> str:
    """Every run of base64 or hex chunks in ``text`` (signatures, keys, digests, as the
    differ's evidence writes rdata) shortened like :func:`shorten_blob`; names, numbers and
    times are left alone (a name has dots, a time 14 digits)."""
    def cut(m: re.Match[str]) -> str:
        blob = m.group(0).replace(" ", "")
        return blob if len(blob) <= 2 * keep + 3 else f"{blob[:keep]}…{blob[-keep:]}"

    return _BLOB_RUN.sub(cut, text)


def dig_lines(wire: bytes | None, error: str | None = None, *,
              abbreviate: int | None = None, shorten: bool = False) -> list[DigLine]:
    """``wire`` in dig's presentation format (no blank lines, IDs shown but not compared).

    ``abbreviate``: cut tokens of long rdata (signatures, keys) to this many characters.
    ``shorten``: write the blob that ends long rdata (an RRSIG's signature, a DNSKEY's key, a
    DS digest) as its first and last :data:`BLOB_KEEP` characters (:func:`shorten_blob`).
    """
    if wire is None:
        return [DigLine(f";; no response: {error or 'none recorded'}", ("error", error))]
    try:
        msg = dns.message.from_wire(wire, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError) as e:
        return [DigLine(f";; unparseable response ({type(e).__name__}: {e})", ("unparseable",)),
                DigLine(";; " + wire[:48].hex() + ("…" if len(wire) > 48 else ""))]
    rcode = rcode_text(int(msg.rcode()))
    opcode = dns.opcode.to_text(msg.opcode())
    flags = dns.flags.to_text(msg.flags).lower()
    if abbreviate:  # side by side: what a reader compares, without dig's counts
        lines = [DigLine(f";; status: {rcode}, id: {msg.id}", ("status", rcode)),
                 DigLine(f";; flags: {flags}", ("flags", flags))]
    else:
        lines = [
            DigLine(f";; ->>HEADER<<- opcode: {opcode}, status: {rcode}, id: {msg.id}",
                    ("status", rcode)),
            DigLine(f";; flags: {flags}; QUERY: {len(msg.question)}, ANSWER: "
                    f"{sum(len(r) for r in msg.answer)}, AUTHORITY: "
                    f"{sum(len(r) for r in msg.authority)}, ADDITIONAL: "
                    f"{sum(len(r) for r in msg.additional) + (1 if msg.edns >= 0 else 0)}",
                    ("flags", flags)),
        ]
    if msg.edns >= 0:
        do = " do" if msg.ednsflags & dns.flags.DO else ""
        lines.append(DigLine(";; OPT PSEUDOSECTION:"))
        lines.append(DigLine(f"; EDNS: version: {msg.edns}, flags:{do}; udp: {msg.payload}",
                             ("edns", msg.edns, bool(do))))
        for option in msg.options:
            if isinstance(option, dns.edns.EDEOption):
                code = int(option.code)
                # dig 9.18: "; EDE: 9 (DNSKEY Missing): (no SEP matching the DS found)"
                text = f": ({option.text})" if option.text else ""
                lines.append(DigLine(f"; EDE: {code} ({_ede_name(code)}){text}", ("ede", code)))
    lines.append(DigLine(";; QUESTION SECTION:"))
    for q in msg.question:
        lines.append(DigLine(f";{q.name.to_text()} {dns.rdataclass.to_text(q.rdclass)} "
                             f"{dns.rdatatype.to_text(q.rdtype)}",
                             ("question", q.name.to_text(), int(q.rdtype))))
    for title, section in (("ANSWER", msg.answer), ("AUTHORITY", msg.authority),
                           ("ADDITIONAL", msg.additional)):
        if not section:
            continue
        lines.append(DigLine(f";; {title} SECTION:"))
        for rrset in section:
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            klass = dns.rdataclass.to_text(rrset.rdclass)
            owner = rrset.name.to_text()
            for rd in rrset:
                data = rd.to_text()
                if abbreviate and rtype in _LONG:
                    data = _abbreviate(data, abbreviate, rtype)
                elif shorten and rtype in _BLOB_LAST:
                    data = shorten_blob(rd.to_text(chunksize=0))
                if int(rrset.rdtype) == dns.rdatatype.RRSIG:
                    ident: object = rrsig_identity(rd)
                else:
                    ident = rd.to_text().lower()
                lines.append(DigLine(f"{owner} {rrset.ttl} {klass} {rtype} {data}",
                                     (title, owner.lower(), int(rrset.rdtype), ident)))
    return lines


def side_by_side(left: list[DigLine], right: list[DigLine]) -> tuple[list[Line], list[Line]]:
    """Both sides as :class:`Line`, each marked where the other side does not say it."""
    lkeys = {d.key for d in left if d.key is not None}
    rkeys = {d.key for d in right if d.key is not None}
    return ([Line(d.text, d.key is not None and d.key not in rkeys) for d in left],
            [Line(d.text, d.key is not None and d.key not in lkeys) for d in right])


def _details(verdict: Verdict | None, limit: int = 4) -> list[str]:
    if verdict is None:
        return ["(no verdict stored)"]
    out: list[str] = []
    evidence = verdict.evidence
    diffs = evidence.differences
    for d in diffs[:limit]:
        line = f"{d.category}: {d.detail}"
        if d.candidate is not None or d.reference is not None:
            line += f"  [candidate {_short(d.candidate)} | reference {_short(d.reference)}]"
        out.append(line)
    if len(diffs) > limit:
        out.append(f"… {len(diffs) - limit} more")
    if not out:
        out = [f"{k}: {_short(v, 90)}" for k, v in evidence.to_json().items()
               if isinstance(v, str | int | float) and k != "version"][:limit]
    confirmation = evidence.confirmation
    if confirmation is not None and (shown := record_json(confirmation)):
        out.append("confirmation: " + plain(shown))
    return out


def plain(value: object) -> str:
    """Evidence in words, not Python: ``no`` for False, ``candidate changed: no`` for
    ``{"candidate_changed": False}``, lists joined by commas."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{words(str(k))}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "none"
    return str(value)


def words(key: str) -> str:
    """An evidence key as words: ``candidate_changed`` -> ``candidate changed``."""
    return key.replace("_", " ")


SOURCES = {"udp_mirror": "UDP mirror", "dnstap": "dnstap", "pcap": "pcap file",
           "query_list": "query list"}
"""How each intake is named to a reader (:class:`harness.records.Source` values)."""


def _short(value: object, width: int = 40) -> str:
    text = plain(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def pick(db: sqlite3.Connection, run_id: int, per_category: int,
         kinds: Sequence[str] = ("real",)) -> list[tuple[str, int]]:
    """(category, observation ID): the first ``per_category`` of each category."""
    if per_category <= 0:
        return []
    marks = ",".join("?" * len(kinds))
    rows = db.execute(
        "SELECT category, observation_id FROM (SELECT category, observation_id, row_number() "
        "OVER (PARTITION BY category ORDER BY observation_id) AS n FROM verdicts "
        f"WHERE run_id=? AND kind IN ({marks})) WHERE n <= ? ORDER BY category, observation_id",
        (run_id, *kinds, per_category)).fetchall()
    return [(str(c), int(i)) for c, i in rows]


def example(observation: Observation, verdict: Verdict | None, candidate: str,
            reference: str, *, abbreviate: int | None = 18) -> Example:
    cand = observation.answers.get(candidate)
    ref = observation.answers.get(reference)
    left = dig_lines(cand.wire if cand else None, cand.error if cand else "no answer stored",
                     abbreviate=abbreviate)
    right = dig_lines(ref.wire if ref else None, ref.error if ref else "no answer stored",
                      abbreviate=abbreviate)
    cl, rl = side_by_side(left, right)
    assert observation.id is not None
    return Example(
        id=observation.id,
        kind=verdict.kind.value if verdict else "unjudged",
        category=verdict.category if verdict else "",
        categories=list(verdict.categories) if verdict else [],
        qname=observation.query.qname,
        qtype=qtype_text(observation.query.qtype),
        reference=reference,
        details=_details(verdict),
        candidate_lines=cl,
        reference_lines=rl,
    )


def examples(path: Path, run: StoredRun, candidate: str, reference: str, per_category: int,
             order: Sequence[str]) -> list[Example]:
    """A few real divergences per category, categories in ``order`` (most important first)."""
    db = connect(path)
    try:
        picked = pick(db, run.id, per_category)
    finally:
        db.close()
    rank = {c: i for i, c in enumerate(order)}
    picked.sort(key=lambda p: (rank.get(p[0], len(rank)), p[0], p[1]))
    out: list[Example] = []
    reader = StoreReader(path)
    try:
        for _, oid in picked:
            obs = reader.observation(oid)
            if obs is None:
                continue
            out.append(example(obs, reader.verdict(oid), candidate, reference))
    finally:
        reader.close()
    return out


@dataclass
class Answer:
    target: str
    role: str  # candidate | reference | staging
    latency: float | None
    error: str | None
    lines: list[Line]


@dataclass
class Explanation:
    """One observation and its verdict, with everything the verdict's evidence holds."""

    observation: Observation
    verdict: Verdict | None
    run: StoredRun
    candidate: str
    reference: str
    answers: list[Answer] = field(default_factory=list)
    full: bool = False  # long rdata blobs in full (else shortened)
    replay: str | None = None
    """The commands that write and play this divergence's scenario (when the candidate's
    upstream exchanges were recorded)."""


def explain(path: Path, observation_id: int, *, full: bool = False) -> Explanation:
    """Observation ``observation_id`` with its answers in dig's format; long rdata blobs
    shortened (:func:`shorten_blob`) unless ``full``."""
    connect(path).close()  # a missing file or one that is not a store: StoreError naming it
    reader = StoreReader(path)
    try:
        obs = reader.observation(observation_id)
        if obs is None:
            raise StoreError(f"{path}: no observation {observation_id}")
        verdict = reader.verdict(observation_id)
        run = choose_run(reader.runs(), obs.run_id, path)
        upstream = reader.upstream(observation_id)
    except sqlite3.Error as e:
        raise StoreError(f"{path}: not a shadowdns store ({e})") from None
    finally:
        reader.close()
    replay = None
    if upstream is not None and upstream.exchanges:
        rpl = f"divergence-{observation_id}.rpl"
        me = invoked_as()
        replay = (f"{me} report scenario {observation_id} --db {path} -o {rpl} && "
                  f"{me} deckard run {rpl}")
    candidate, references = roles(run, obs.answers)
    primary = (verdict.evidence.reference_target if verdict else None) or ""
    if primary not in obs.answers:
        primary = next((r for r in references if r in obs.answers), "")
    base = {t: dig_lines(a.wire, a.error, shorten=not full) for t, a in obs.answers.items()}
    answers: list[Answer] = []
    order = [candidate, primary, *[t for t in obs.answers if t not in (candidate, primary)]]
    for target in order:
        a = obs.answers.get(target)
        if a is None:
            continue
        other = primary if target == candidate else candidate
        mine = base[target]
        theirs = base.get(other, [])
        lines, _ = side_by_side(mine, theirs) if theirs else (
            [Line(d.text, False) for d in mine], [])
        role = "candidate" if target == candidate else "reference"
        answers.append(Answer(target, role, a.latency, a.error, lines))
    if obs.staging_wire is not None:
        staging = dig_lines(obs.staging_wire, shorten=not full)
        lines, _ = side_by_side(staging, base.get(candidate, []))
        answers.append(Answer("staging", "staging", None, None, lines))
    return Explanation(obs, verdict, run, candidate, primary, answers, full, replay)
