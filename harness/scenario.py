"""A real divergence as a Deckard scenario: the authorities' recorded answers, replayable.

:func:`write_scenario` turns a stored observation -- the client's question, the reference's
answer, and the candidate's upstream exchanges recorded at the transport seam
(:mod:`harness.recording`) -- into a Deckard-dialect ``.rpl`` text (see
``shared/deckard/FORMAT.md``):

* the header configures the candidate as it ran (recorded with the run as
  ``candidate_setup``): one root hint (the first root server it asked), QNAME minimisation,
  IPv6 use, the trust anchors and negative anchors; ``val-override-date`` puts the virtual
  clock at the recorded time, so signatures that were valid then validate at replay;
* one RANGE per set of server addresses that serve the same zones (as the recorded NS
  sets and addresses say), answering exactly what they answered, matched by ``opcode qtype
  qname``; a QNAME-minimised probe (an ancestor of a name asked) is also answered for any
  type (``opcode qname``, ``copy_query``), so the file replays whichever type the
  minimiser uses (A or NS); a referral is also given for any name below its cut
  (``opcode subdomain``); a query that only timed out gets ``do_not_answer``;
* STEP 1 asks the client's question with its flags (RD, CD, AD, DO); STEP 2 expects the
  **reference's** answer with ``MATCH opcode qname qtype flags rcode answer`` (and
  ``authority`` for a negative answer, where the proof lives): Deckard compares sections
  as multisets without TTLs, so neither TTL nor order noise is in the expectation.

Client addresses, ports, message IDs and EDNS options (cookies, client subnet) never appear.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from harness.records import ExchangeLog, Observation, UpstreamExchange
from netpolicy import is_loopback

__all__ = ["ScenarioWriteError", "WrittenScenario", "scenario_from_store", "write_scenario"]

STEP_QUERY = 1
STEP_CHECK = 2
REPLY_FLAGS = (("QR", dns.flags.QR), ("AA", dns.flags.AA), ("RD", dns.flags.RD),
               ("RA", dns.flags.RA), ("AD", dns.flags.AD), ("CD", dns.flags.CD))


class ScenarioWriteError(ValueError):
    """The observation cannot become a scenario (the message says why)."""


@dataclass(frozen=True)
class WrittenScenario:
    text: str
    servers: int  # RANGEs
    entries: int
    warnings: tuple[str, ...]


def _key(name: dns.name.Name, rdtype: int) -> tuple[str, int]:
    return name.to_text().lower(), rdtype


def _parse(wire: bytes | None) -> dns.message.Message | None:
    if wire is None:
        return None
    try:
        return dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None


def _rr_lines(rrsets: Iterable[dns.rrset.RRset]) -> list[str]:
    lines = []
    for rrset in rrsets:
        cls = dns.rdataclass.to_text(rrset.rdclass)
        typ = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            lines.append(f"{rrset.name.to_text()} {rrset.ttl} {cls} {typ} {rdata.to_text()}")
    return lines


def _sections(msg: dns.message.Message, question: list[str]) -> list[str]:
    out = ["SECTION QUESTION", *question]
    for title, section in (("ANSWER", msg.answer), ("AUTHORITY", msg.authority),
                           ("ADDITIONAL", msg.additional)):
        lines = _rr_lines(section)
        if lines:
            out.append(f"SECTION {title}")
            out.extend(lines)
    return out


def _flags(msg: dns.message.Message, keep: Sequence[str]) -> str:
    words = [w for w, bit in REPLY_FLAGS if w in keep and msg.flags & bit]
    if msg.edns >= 0 and msg.ednsflags & dns.flags.DO:
        words.append("DO")
    return " ".join(words)


def _question_line(name: dns.name.Name, rdclass: int, rdtype: int) -> str:
    return (f"{name.to_text()} {dns.rdataclass.to_text(dns.rdataclass.RdataClass(rdclass))} "
            f"{dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))}")


@dataclass
class _Served:
    """What one server answered to one question (the representative exchange)."""

    query: dns.message.Message
    answer: dns.message.Message | None  # None: it never answered (timeouts, errors)
    probe: bool  # a QNAME-minimised probe: answer it for any type


def _served(exchanges: Sequence[UpstreamExchange], client_name: dns.name.Name
            ) -> dict[tuple[str, ...], dict[tuple[str, int], _Served]]:
    """Per group of server addresses that serve the same zones (:func:`_groups`), per
    question (ancestors of names asked are QNAME-minimisation probes): the last full (not
    truncated) answer one of them gave, or a truncated one,
    or, when none answered, no answer at all."""
    parsed = [(x, _parse(x.query), _parse(x.answer)) for x in exchanges]
    group_of = _groups(parsed)
    asked = {client_name} | {q.question[0].name for _, q, _ in parsed
                             if q is not None and len(q.question) == 1}
    out: dict[tuple[str, ...], dict[tuple[str, int], _Served]] = {}
    for x, query, answer in parsed:
        if query is None or len(query.question) != 1:
            continue
        q = query.question[0]
        key = _key(q.name, q.rdtype)
        per = out.setdefault(group_of[_address(x.server)], {})
        known = per.get(key)
        # a minimised probe: an ancestor of a name asked in full (the client's, a CNAME
        # target's, a server name's)
        probe = any(n != q.name and n.is_subdomain(q.name) for n in asked)
        if answer is None:
            if known is None:
                per[key] = _Served(query, None, probe)
            continue
        if known is not None and known.answer is not None and answer.flags & dns.flags.TC \
                and not known.answer.flags & dns.flags.TC:
            continue  # a full answer beats a truncated one
        per[key] = _Served(query, answer, probe)
    return out


def _groups(parsed: Sequence[tuple[UpstreamExchange, dns.message.Message | None,
                                   dns.message.Message | None]]
            ) -> dict[str, tuple[str, ...]]:
    """Server addresses grouped by the zones they serve, as the recorded answers tell it
    (NS sets and the addresses of their names): the candidate at replay may pick another
    server of a zone than it did live, and it must get the same answers there."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    addresses: dict[dns.name.Name, set[str]] = {}
    ns_names: dict[dns.name.Name, set[dns.name.Name]] = {}
    for _, _, answer in parsed:
        if answer is None:
            continue
        for rrset in (*answer.answer, *answer.authority, *answer.additional):
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                addresses.setdefault(rrset.name, set()).update(
                    _address(rd.address) for rd in rrset)
            elif rrset.rdtype == dns.rdatatype.NS:
                ns_names.setdefault(rrset.name, set()).update(rd.target for rd in rrset)
    order = list(dict.fromkeys(_address(x.server) for x, _, _ in parsed))
    asked = set(order)
    for names in ns_names.values():
        members = sorted({a for n in names for a in addresses.get(n, ())})
        if not asked.intersection(members):
            continue  # a zone the candidate never asked: no range for it
        for a in members[1:]:
            parent[find(a)] = find(members[0])
    groups: dict[str, list[str]] = {}
    for a in order:  # the group of the first server asked comes first
        groups.setdefault(find(a), [])
    for a in [*order, *sorted(a for a in parent if a not in asked)]:
        group = groups.get(find(a))
        if group is not None and a not in group:
            group.append(a)
    return {a: tuple(members) for members in groups.values() for a in members}


def _address(text: str) -> str:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


def _entry(served: _Served, any_type: bool) -> list[str]:
    q = served.query.question[0]
    question = [_question_line(q.name, q.rdclass, q.rdtype)]
    if any_type:
        head = ["MATCH opcode qname", "ADJUST copy_id copy_query"]
    else:
        head = ["MATCH opcode qtype qname", "ADJUST copy_id"]
    if served.answer is None:
        return ["ENTRY_BEGIN", head[0], "ADJUST do_not_answer", "SECTION QUESTION",
                *question, "ENTRY_END"]
    answer = served.answer
    words = _flags(answer, ("QR", "AA", "RD", "RA", "AD", "CD"))
    if answer.flags & dns.flags.TC:
        words += " TC"
    rcode = dns.rcode.to_text(answer.rcode())
    if answer.question:
        a = answer.question[0]
        question = [_question_line(a.name, a.rdclass, a.rdtype)]
    return ["ENTRY_BEGIN", *head, f"REPLY {words} {rcode}".replace("  ", " "),
            *_sections(answer, question), "ENTRY_END"]


def _referral_cut(answer: dns.message.Message | None) -> dns.name.Name | None:
    """The zone cut a referral delegates (None: not a referral)."""
    if answer is None or answer.rcode() != dns.rcode.NOERROR or answer.answer \
            or answer.flags & (dns.flags.AA | dns.flags.TC):
        return None
    return next((r.name for r in answer.authority if r.rdtype == dns.rdatatype.NS), None)


def _referral_entry(served: _Served, cut: dns.name.Name) -> list[str]:
    """A referral answered for every name at or below its cut (a server gives the same
    referral for all of them): replays a name the candidate asked in full at one time and
    minimised, or from a different query, at another."""
    assert served.answer is not None
    answer = served.answer
    words = _flags(answer, ("QR", "RD", "RA", "AD", "CD"))
    rcode = dns.rcode.to_text(answer.rcode())
    question = [_question_line(cut, dns.rdataclass.IN, dns.rdatatype.NS)]
    return ["ENTRY_BEGIN", "MATCH opcode subdomain", "ADJUST copy_id copy_query",
            f"REPLY {words} {rcode}".replace("  ", " "), *_sections(answer, question),
            "ENTRY_END"]


def _header(setup: Mapping[str, object], exchanges: Sequence[UpstreamExchange],
            when: float, warnings: list[str]) -> list[str]:
    hints = [(str(n), _address(str(a))) for n, a in _pairs(setup.get("root_hints"))]
    if not hints:
        raise ScenarioWriteError("the run recorded no root hints for the candidate")
    asked = [_address(x.server) for x in exchanges]
    by_addr = dict((a, n) for n, a in hints)
    first = next((a for a in asked if a in by_addr), None)
    if first is None:
        warnings.append("no root server was asked for this query (delegations came from "
                        "the candidate's cache): the scenario may not replay")
        first = hints[0][1]
    addresses = set(asked) | {first}
    plugins = setup.get("plugins")
    if isinstance(plugins, list) and plugins:
        names = ", ".join(str(p.get("name")) for p in plugins if isinstance(p, dict))
        warnings.append(f"the candidate ran plugins ({names}); the scenario replays the "
                        "resolver without them")
    lines = [f"stub-addr: {first}", f"stub-name: {by_addr.get(first, hints[0][0])}"]
    lines.append(f"query-minimization: {'on' if setup.get('qname_minimisation') else 'off'}")
    lines.append(f"do-ip6: {'yes' if setup.get('do_ip6') else 'no'}")
    if any(is_loopback(a) for a in addresses):
        lines.append("do-not-query-localhost: off")
    date = datetime.datetime.fromtimestamp(int(when), datetime.UTC)
    lines.append(f"val-override-date: {date.strftime('%Y%m%d%H%M%S')}")
    if setup.get("validation"):
        for record in _strings(setup.get("trust_anchors")):
            owner, _, rest = record.partition(" ")
            lines.append(f'trust-anchor: "{owner} 3600 {rest}"')
        for name in _strings(setup.get("negative_trust_anchors")):
            lines.append(f"domain-insecure: {name}")
    return lines


def _pairs(value: object) -> list[tuple[object, object]]:
    if not isinstance(value, list | tuple):
        return []
    return [(p[0], p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2]


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def write_scenario(observation: Observation, upstream: ExchangeLog | None,
                   setup: Mapping[str, object], *, reference: str | None = None,
                   title: str = "") -> WrittenScenario:
    """The scenario text for ``observation`` (see the module docstring)."""
    if upstream is None or not upstream.exchanges:
        raise ScenarioWriteError(
            f"observation {observation.id} has no recorded upstream exchanges (they are kept "
            "for real or undecided verdicts of an in-process candidate; a query answered "
            "from the candidate's cache records none)")
    names = list(observation.answers)
    if len(names) < 2:
        raise ScenarioWriteError(f"observation {observation.id} has no reference answer")
    ref_name = reference or names[1]
    ref = observation.answers.get(ref_name)
    if ref is None or ref_name == names[0]:
        raise ScenarioWriteError(f"observation {observation.id}: no reference named "
                                 f"{ref_name!r} (have: {', '.join(names[1:])})")
    expected = _parse(ref.wire)
    if expected is None:
        raise ScenarioWriteError(f"observation {observation.id}: {ref_name} gave no "
                                 f"parseable answer ({ref.error or 'malformed'})")
    q = observation.query
    qname = dns.name.from_text(q.qname)
    qtype = dns.rdatatype.RdataType.make(q.qtype)
    warnings: list[str] = []
    exchanges = upstream.exchanges
    if upstream.dropped:
        warnings.append(f"{upstream.dropped} exchanges were over the recording cap and are "
                        "missing")
    header = _header(setup, exchanges, exchanges[0].at if exchanges else q.seen_at, warnings)
    served = _served(exchanges, qname)
    body: list[str] = []
    entries = 0
    for group, per in served.items():
        body += [f"RANGE_BEGIN 0 {STEP_CHECK}", *(f"\tADDRESS {a}" for a in group)]
        ordered = list(per.values())
        for item in ordered:  # exact questions first
            body += _entry(item, any_type=False)
            entries += 1
        for item in ordered:  # then minimised probes, for any type
            if item.probe and item.answer is not None:
                body += _entry(item, any_type=True)
                entries += 1
        cuts: set[dns.name.Name] = set()
        for item in ordered:  # then each referral, for any name below its cut
            cut = _referral_cut(item.answer)
            if cut is not None and cut not in cuts:
                cuts.add(cut)
                body += _referral_entry(item, cut)
                entries += 1
        body += ["RANGE_END", ""]
    ask = [w for w, on in (("RD", q.rd), ("AD", q.ad), ("CD", q.cd), ("DO", q.do)) if on]
    question = _question_line(qname, q.qclass, qtype)
    match = "MATCH opcode qname qtype flags rcode answer"
    if not expected.answer:
        match += " authority"  # a negative answer: its proof is what differs
    check_flags = _flags(expected, ("QR", "AA", "RD", "RA", "AD", "CD")).replace("DO", "")
    check_flags = " ".join(check_flags.split())
    exp_rcode = dns.rcode.to_text(expected.rcode())
    check_sections = ["SECTION QUESTION", question]
    for title_, section in (("ANSWER", expected.answer), ("AUTHORITY", expected.authority)):
        lines = _rr_lines(section)
        if lines:
            check_sections += [f"SECTION {title_}", *lines]
    steps = [f"STEP {STEP_QUERY} QUERY", "ENTRY_BEGIN", f"REPLY {' '.join(ask)}".rstrip(),
             "SECTION QUESTION", question, "ENTRY_END", "",
             f"STEP {STEP_CHECK} CHECK_ANSWER", "ENTRY_BEGIN", match,
             f"REPLY {check_flags} {exp_rcode}", *check_sections, "ENTRY_END", ""]
    label = title or (f"observation {observation.id}: {qname.to_text()} "
                      f"{dns.rdatatype.to_text(qtype)}, the reference's ({ref_name}) answer")
    comments = [f"; written by shadowdns report scenario {observation.id} (run "
                f"{observation.run_id}): the authorities' answers as the candidate recorded "
                "them,", f"; and the answer {ref_name} gave.",
                *(f"; warning: {w}" for w in warnings)]
    text = "\n".join([*comments, *header, "CONFIG_END", "", f"SCENARIO_BEGIN {label}", "",
                      *body, *steps, "SCENARIO_END", ""])
    return WrittenScenario(text, len(served), entries, tuple(warnings))


def scenario_from_store(path: Path, observation_id: int, *, reference: str | None = None
                        ) -> WrittenScenario:
    """:func:`write_scenario` for an observation of the store at ``path``."""
    from harness.store import reading

    with reading(path) as reader:
        observation = reader.observation(observation_id)
        if observation is None:
            raise ScenarioWriteError(f"{path}: no observation {observation_id}")
        runs = {r.id: r for r in reader.runs()}
        run = runs.get(observation.run_id) if observation.run_id is not None else None
        setup = run.config.get("candidate_setup") if run is not None else None
        if not isinstance(setup, dict):
            raise ScenarioWriteError(
                f"observation {observation_id}: its run recorded no candidate set-up (the "
                "candidate was not in-process, or the run predates recording)")
        return write_scenario(observation, reader.upstream(observation_id), setup,
                              reference=reference)
