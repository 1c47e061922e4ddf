"""Deckard ``.rpl`` scenarios: the model (:class:`Scenario`) and the parser (:func:`load`).

The format is described in ``shared/deckard/FORMAT.md``; this is the Deckard dialect::

    <header: key: value lines>          (deckard.header)
    CONFIG_END
    SCENARIO_BEGIN <title>
      RANGE_BEGIN <from> <to> [<address>] / ADDRESS <ip> / ENTRY... / RANGE_END
      STEP <id> QUERY|CHECK_ANSWER|REPLY|CHECK_OUT_QUERY  followed by one ENTRY
      STEP <id> TIME_PASSES ELAPSE <seconds>
    SCENARIO_END

An ENTRY holds at most one MATCH, one ADJUST and one REPLY (alias FLAGS) line, optional
MANDATORY and TSIG lines, then sections in the order QUESTION, ANSWER, AUTHORITY,
ADDITIONAL with one record per line, or a RAW line followed by one line of hex.  ``;``
starts a comment anywhere in the body (not inside double quotes).  Everything after
SCENARIO_END is ignored.  Errors are :class:`~deckard.text.ScenarioError` naming file:line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rrset

from deckard.header import ScenarioConfig, parse_header
from deckard.records import Question, Record, RecordError, parse_question, parse_record
from deckard.text import ScenarioError, strip_comment
from deckard.unboundconf import is_unbound_conf, parse_unbound_conf
from resolver.model import normal_server

ENTRY_PAYLOAD = 4096
"""Every Deckard entry message carries EDNS version 0 with this UDP payload size."""

FLAG_WORDS: dict[str, int] = {
    "QR": int(dns.flags.QR),
    "AA": int(dns.flags.AA),
    "TC": int(dns.flags.TC),
    "RD": int(dns.flags.RD),
    "RA": int(dns.flags.RA),
    "AD": int(dns.flags.AD),
    "CD": int(dns.flags.CD),
}
HEADER_FLAGS = 0
for _bit in FLAG_WORDS.values():
    HEADER_FLAGS |= _bit

RCODE_WORDS = (
    "NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED YXDOMAIN YXRRSET NXRRSET NOTAUTH "
    "NOTZONE BADVERS BADSIG BADKEY BADTIME BADMODE BADNAME BADALG BADTRUNC BADCOOKIE"
).split()
OPCODE_WORDS = ("QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE")

MATCH_OPTIONS = frozenset(
    "opcode qtype qname qcase subdomain question all flags rcode answer authority "
    "additional edns nsid".split()
)
ADJUST_OPTIONS = frozenset({"copy_id", "copy_query", "raw_id", "do_not_answer"})
SECTIONS = ("QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL")

STEP_KINDS = ("QUERY", "CHECK_ANSWER", "TIME_PASSES", "REPLY", "CHECK_OUT_QUERY")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
STEPS_WITH_ENTRY = frozenset({"QUERY", "CHECK_ANSWER", "REPLY", "CHECK_OUT_QUERY"})

# -- the testbound dialect (Unbound's testdata): what it adds to the body ------------------
TESTBOUND_MATCH = frozenset({"ttl", "DO", "noedns", "all_noedns", "UDP", "TCP"})
"""testbound MATCH options the runner plays (``all`` there also compares EDNS and DO)."""
TESTBOUND_MATCH_UNPLAYED = frozenset(
    {"CO", "ednsdata", "client_cookie", "server_cookie", "answertypes", "answerrrsigs"}
)
"""testbound MATCH options the runner does not play (plus ``serial=N``)."""
TESTBOUND_ADJUST_UNPLAYED = frozenset(
    {"copy_ednsdata_assume_clientsubnet", "increment_ecs_scope"}
)
"""testbound ADJUST options not played (plus ``sleep=N``, ``packet_sleep=N``)."""
TESTBOUND_STEPS_PLAYED = (
    "NOTHING", "TRAFFIC", "FLUSH_MESSAGE", "EXPIRE_MESSAGE", "TIMEOUT", "ERROR", "ASSIGN",
    "INFRA_RTT",
)
"""testbound steps the runner plays besides Deckard's: NOTHING and TRAFFIC change nothing
in-process (the upstream traffic has already flowed: every query is answered while the
client query is handled); the cache steps; TIMEOUT and ERROR (an upstream query nothing
answers times out, or fails, at them: :mod:`deckard.fakenet`); ASSIGN (a macro variable,
:mod:`deckard.macros`); INFRA_RTT (an RTT for a server in the target's infra cache)."""
BACK_EVENTS = ("TIMEOUT", "ERROR")
"""testbound steps that end the latest pending upstream query (replay.h): a timeout, a
network error."""
TESTBOUND_STEPS_UNPLAYED = ("CHECK_AUTOTRUST", "CHECK_TEMPFILE")
"""testbound steps the runner does not play: a scenario with one is unsupported."""
TESTBOUND_ENTRY_UNPLAYED = ("EXTRA_PACKET", "$ORIGIN", "$TTL", "$INCLUDE_TEMPFILE")


@dataclass
class Entry:
    """A message template: a client query, an expected answer or an authoritative reply."""

    line: int
    match: tuple[str, ...] | None = None  # None: no MATCH line (matches anything upstream)
    adjust: frozenset[str] = frozenset()
    flags: int = 0
    do: bool = False
    rcode: int = dns.rcode.NOERROR
    opcode: int = dns.opcode.QUERY
    question: list[Question] = field(default_factory=list)
    answer: list[Record] = field(default_factory=list)
    authority: list[Record] = field(default_factory=list)
    additional: list[Record] = field(default_factory=list)
    raw: bytes | None = None
    mandatory: bool = False
    tsig: tuple[str, str] | None = None
    edns: bool | None = None
    """None: Deckard's entry (EDNS0 payload 4096 always; ``copy_id``/``copy_query`` rebuild
    it from the query).  A bool: a testbound entry, with EDNS only when its REPLY line says
    ``DO``, and ADJUST never touches EDNS."""

    def section(self, name: str) -> list[Record]:
        return {"ANSWER": self.answer, "AUTHORITY": self.authority, "ADDITIONAL": self.additional}[
            name
        ]

    def template(self, msg_id: int = 0) -> dns.message.Message:
        """The entry as a message: its flags, rcode and sections, EDNS0 with payload 4096."""
        msg = dns.message.Message(id=msg_id)
        msg.flags = self.flags
        msg.set_opcode(dns.opcode.Opcode(self.opcode))
        if self.edns is None or self.edns:
            msg.use_edns(0, int(dns.flags.DO) if self.do else 0, ENTRY_PAYLOAD)
        msg.set_rcode(dns.rcode.Rcode(self.rcode))
        for q in self.question:
            msg.question.append(dns.rrset.RRset(q.name, q.rdclass, q.rdtype))
        for target, records in (
            (msg.answer, self.answer),
            (msg.authority, self.authority),
            (msg.additional, self.additional),
        ):
            for rr in records:  # one RRset per line, as Deckard keeps them
                target.append(rr.rrset())
        return msg


@dataclass
class Range:
    """A simulated authoritative server set, active for steps ``start``..``end``."""

    line: int
    start: int
    end: int
    addresses: list[str] = field(default_factory=list)  # normalised; empty: any address
    entries: list[Entry] = field(default_factory=list)

    def covers(self, step: int, address: str) -> bool:
        return self.start <= step <= self.end and (not self.addresses or address in self.addresses)


@dataclass
class Step:
    line: int
    id: int
    kind: str
    entry: Entry | None = None
    elapse: float = 0  # TIME_PASSES
    args: tuple[str, ...] = ()
    forget: Question | None = None  # FLUSH_MESSAGE / EXPIRE_MESSAGE (testbound)
    expression: str | None = None  # TIME_PASSES EVAL / ASSIGN: macro text (testbound)
    variable: str = ""  # ASSIGN <variable> = <expression>
    rtt: tuple[str, dns.name.Name, int] | None = None  # INFRA_RTT <address> <zone> <ms>


@dataclass
class Scenario:
    path: Path
    title: str
    config: ScenarioConfig
    ranges: list[Range] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    body_unsupported: tuple[str, ...] = ()  # testbound words in the body the runner lacks

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def dialect(self) -> str:
        return self.config.dialect

    @property
    def unsupported(self) -> tuple[str, ...]:
        """What the candidate or the runner cannot honour (header keys, body words)."""
        return self.config.unsupported + self.body_unsupported

    def addresses(self) -> set[str]:
        """Every address some range serves."""
        return {a for r in self.ranges for a in r.addresses}

    def entries(self) -> list[Entry]:
        out = [e for r in self.ranges for e in r.entries]
        out.extend(s.entry for s in self.steps if s.entry is not None)
        return out


def normalise_address(text: str) -> str:
    """An address as ranges and the fake network compare it: ``ip`` or ``ip@port``
    (testbound's ADDRESS takes a port; 53 is the default, dropped)."""
    return normal_server(text)


# -- the parser ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.ranges: list[Range] = []
        self.steps: list[Step] = []
        self.range: Range | None = None
        self.step: Step | None = None  # a step still waiting for its entry
        self.entry: Entry | None = None
        self.section: str | None = None
        self.sections_seen: list[str] = []
        self.entry_lines: set[str] = set()
        self.raw_pending = False
        self.hex_lines: list[str] | None = None  # inside HEX_ANSWER_BEGIN..END (testbound)
        self.step_ids: set[int] = set()
        self.testbound = False
        self.unsupported: list[str] = []

    def unsupport(self, what: str) -> None:
        if what not in self.unsupported:
            self.unsupported.append(what)

    def error(self, line: int, problem: str) -> ScenarioError:
        return ScenarioError(self.path, line, problem)

    def parse(self) -> Scenario:
        header: list[tuple[int, str]] = []
        i = 0
        while i < len(self.lines):
            raw = self.lines[i]
            i += 1
            if strip_comment(raw, ";#").strip() == "CONFIG_END":
                break
            header.append((i, raw))
        else:
            raise self.error(len(self.lines) or 1, "no CONFIG_END line")
        if is_unbound_conf(header):
            config = parse_unbound_conf(self.path, header)
            self.testbound = True
        else:
            config = parse_header(self.path, header)
        title: str | None = None
        while i < len(self.lines):
            raw = self.lines[i]
            i += 1
            text = strip_comment(raw).strip()
            if not text:
                continue
            word, _, rest = text.partition(" ")
            if word != "SCENARIO_BEGIN":
                raise self.error(i, f"expected SCENARIO_BEGIN after CONFIG_END, got {word!r}")
            title = rest.strip()
            if not title:
                raise self.error(i, "SCENARIO_BEGIN needs a title")
            break
        if title is None:
            raise self.error(len(self.lines), "no SCENARIO_BEGIN line")
        while i < len(self.lines):
            raw = self.lines[i]
            i += 1
            if self.body_line(i, raw):
                return Scenario(
                    self.path, title, config, self.ranges, self.steps, tuple(self.unsupported)
                )
        raise self.error(len(self.lines), "no SCENARIO_END line")

    # -- one body line; True at SCENARIO_END --------------------------------------------

    def body_line(self, lineno: int, raw: str) -> bool:
        text = strip_comment(raw).strip()
        if not text:
            return False
        if self.hex_lines is not None:
            assert self.entry is not None
            if text == "HEX_ANSWER_END":
                try:
                    self.entry.raw = bytes.fromhex("".join("".join(self.hex_lines).split()))
                except ValueError:
                    raise self.error(lineno, "HEX_ANSWER holds something that is not hex") from None
                self.hex_lines = None
            else:
                self.hex_lines.append(text)
            return False
        if self.raw_pending:
            assert self.entry is not None
            try:
                self.entry.raw = bytes.fromhex("".join(text.split()))
            except ValueError:
                raise self.error(lineno, "RAW must be followed by one line of hex") from None
            self.raw_pending = False
            return False
        tokens = text.split()
        word = tokens[0]
        if self.entry is not None:
            self.entry_line(lineno, text, tokens)
            return False
        if word == "ENTRY_BEGIN":
            self.begin_entry(lineno, tokens)
        elif word == "RANGE_BEGIN":
            self.need_no_open_step(lineno)
            if self.range is not None:
                raise self.error(lineno, "RANGE_BEGIN inside a range (missing RANGE_END?)")
            self.range = self.begin_range(lineno, tokens)
        elif word == "ADDRESS":
            if self.range is None or len(tokens) != 2:
                raise self.error(lineno, "ADDRESS <ip> belongs inside a RANGE")
            if self.testbound:  # one address per range in testbound: the last one wins
                self.range.addresses[:] = [self.address(lineno, tokens[1])]
            else:
                self.range.addresses.append(self.address(lineno, tokens[1]))
        elif word == "RANGE_END":
            if self.range is None:
                raise self.error(lineno, "RANGE_END without RANGE_BEGIN")
            self.ranges.append(self.range)
            self.range = None
        elif word == "STEP":
            self.need_no_open_step(lineno)
            if self.range is not None:
                raise self.error(lineno, f"STEP inside the range of line {self.range.line}")
            self.begin_step(lineno, tokens)
        elif word == "SCENARIO_END":
            self.need_no_open_step(lineno)
            if self.range is not None:
                raise self.error(lineno, f"range of line {self.range.line} has no RANGE_END")
            return True
        else:
            raise self.error(lineno, f"unexpected {word!r} outside an ENTRY")
        return False

    def need_no_open_step(self, lineno: int) -> None:
        if self.step is not None:
            raise self.error(
                self.step.line,
                f"STEP {self.step.id} {self.step.kind} has no ENTRY (line {lineno} comes next)",
            )

    def address(self, lineno: int, text: str) -> str:
        try:
            return normalise_address(text)
        except ValueError:
            raise self.error(lineno, f"{text!r} is not an IP address") from None

    def number(self, lineno: int, text: str, what: str) -> int:
        if not text.isdigit():
            raise self.error(lineno, f"{what} must be a non-negative integer, not {text!r}")
        return int(text)

    def begin_range(self, lineno: int, tokens: list[str]) -> Range:
        if len(tokens) not in (3, 4) and not (self.testbound and len(tokens) > 4):
            raise self.error(lineno, "RANGE_BEGIN <from> <to> [<address>]")
        start = self.number(lineno, tokens[1], "RANGE_BEGIN <from>")
        end = self.number(lineno, tokens[2], "RANGE_BEGIN <to>")
        if end < start:
            raise self.error(lineno, f"RANGE_BEGIN {start} {end}: the range ends before it starts")
        rng = Range(lineno, start, end)
        if len(tokens) == 4 and not self.testbound:  # testbound ignores the text there
            rng.addresses.append(self.address(lineno, tokens[3]))
        return rng

    def begin_step(self, lineno: int, tokens: list[str]) -> None:
        if len(tokens) < 3:
            raise self.error(lineno, "STEP <id> <type> [args]")
        sid = self.number(lineno, tokens[1], "STEP id")
        kind = tokens[2]
        if self.testbound and kind in TESTBOUND_STEPS_UNPLAYED:
            self.unsupport(f"STEP {kind}")
        elif kind not in STEP_KINDS and not (self.testbound and kind in TESTBOUND_STEPS_PLAYED):
            raise self.error(lineno, f"unknown STEP type {kind!r} (Deckard knows {STEP_KINDS})")
        if sid in self.step_ids:
            raise self.error(lineno, f"STEP {sid} appears twice")
        self.step_ids.add(sid)
        step = Step(lineno, sid, kind, args=tuple(tokens[3:]))
        if kind == "TIME_PASSES":
            self.time_passes(lineno, step, tokens)
        elif kind in ("FLUSH_MESSAGE", "EXPIRE_MESSAGE"):
            # "<name> <type> <class>": the cached answer to that question is gone (flushed)
            # or expired; without serve-expired both make the next such query go upstream
            try:
                step.forget = parse_question(" ".join(step.args))
            except RecordError as e:
                raise self.error(lineno, f"STEP {kind} <name> <type> <class>: {e}") from None
        elif kind == "ASSIGN":
            # "ASSIGN name = expression" ('=' is syntactic sugar, replay.h)
            if len(tokens) < 6 or tokens[4] != "=" or not _IDENTIFIER.match(tokens[3]):
                raise self.error(lineno, "STEP ASSIGN <name> = <expression>")
            step.variable, step.expression = tokens[3], " ".join(tokens[5:])
        elif kind == "INFRA_RTT":
            step.rtt = self.infra_rtt(lineno, step.args)
        elif kind in BACK_EVENTS and step.args:
            raise self.error(lineno, f"STEP {kind} takes no arguments: {step.args}")
        elif kind in ("QUERY", "CHECK_ANSWER") and step.args:
            if not self.testbound:
                raise self.error(lineno, f"STEP {kind} takes no arguments in Deckard: {step.args}")
            self.unsupport(f"STEP {kind} {step.args[0]}")  # QUERY ADDRESS <client>: ACL tests
        self.steps.append(step)
        if kind in STEPS_WITH_ENTRY:
            self.step = step

    def time_passes(self, lineno: int, step: Step, tokens: list[str]) -> None:
        if len(tokens) == 5 and tokens[3] == "ELAPSE" and self.testbound:
            try:
                step.elapse = float(tokens[4])
            except ValueError:
                raise self.error(lineno, "TIME_PASSES ELAPSE <seconds>") from None
            if step.elapse < 0:
                raise self.error(lineno, "TIME_PASSES ELAPSE: time does not go back")
        elif len(tokens) >= 5 and tokens[3] == "EVAL" and self.testbound:
            step.expression = " ".join(tokens[4:])  # expanded when played (deckard.macros)
        elif len(tokens) != 5 or tokens[3] != "ELAPSE":
            raise self.error(lineno, "TIME_PASSES ELAPSE <whole seconds>")
        else:
            step.elapse = self.number(lineno, tokens[4], "ELAPSE")

    def infra_rtt(self, lineno: int, args: tuple[str, ...]) -> tuple[str, dns.name.Name, int]:
        """``INFRA_RTT <address> <zone> <rtt in ms>`` (replay.h)."""
        usage = "STEP INFRA_RTT <address> <zone> <milliseconds>"
        if len(args) != 3 or not args[2].isdigit():
            raise self.error(lineno, usage)
        try:
            zone = dns.name.from_text(args[1], origin=dns.name.root)
        except dns.exception.DNSException as e:
            raise self.error(lineno, f"{usage}: {args[1]!r}: {e}") from None
        return self.address(lineno, args[0]), zone, int(args[2])

    def begin_entry(self, lineno: int, tokens: list[str]) -> None:
        if len(tokens) != 1:
            raise self.error(lineno, "ENTRY_BEGIN takes no arguments")
        if self.range is None and self.step is None:
            raise self.error(lineno, "ENTRY_BEGIN outside a RANGE and not after a STEP")
        self.entry = Entry(lineno, edns=False if self.testbound else None)
        self.section = None
        self.sections_seen = []
        self.entry_lines = set()

    def end_entry(self, lineno: int) -> None:
        entry = self.entry
        assert entry is not None
        if self.raw_pending:
            raise self.error(lineno, "RAW without its line of hex")
        if self.hex_lines is not None:
            raise self.error(lineno, "HEX_ANSWER_BEGIN without HEX_ANSWER_END")
        if self.range is not None:
            self.range.entries.append(entry)
        else:
            assert self.step is not None
            if self.step.kind == "CHECK_ANSWER" and entry.match is None and not self.testbound:
                raise self.error(entry.line, "a CHECK_ANSWER entry needs a MATCH line")
            if self.step.kind == "CHECK_ANSWER" and entry.raw is not None:
                self.expect_raw(entry)
            self.step.entry = entry
            self.step = None
        self.entry = None

    def expect_raw(self, entry: Entry) -> None:
        """A CHECK_ANSWER entry given as a raw message (testbound's HEX_ANSWER): the MATCH
        words compare its fields as if it were written out.  The header (flags, rcode,
        opcode) always reads; a message whose records do not parse (a malformed RDATA,
        which is what such entries often show) can only be compared on the header, so a
        MATCH word that needs more makes the scenario unsupported."""
        raw = entry.raw
        assert raw is not None
        if len(raw) < 12:
            raise self.error(entry.line, "HEX_ANSWER is shorter than a DNS header")
        bits = int.from_bytes(raw[2:4], "big")
        entry.flags = bits & HEADER_FLAGS
        entry.rcode = bits & 0xF
        entry.opcode = (bits >> 11) & 0xF
        try:
            msg = dns.message.from_wire(raw)
        except Exception:  # noqa: BLE001 - dnspython raises many kinds on malformed data
            header_only = {"opcode", "flags", "rcode"}
            if entry.match is None or not set(entry.match) <= header_only:
                self.unsupport("HEX_ANSWER that does not parse, matched beyond its header")
            return
        entry.rcode = msg.rcode()
        entry.question = [Question(q.name, q.rdtype, q.rdclass) for q in msg.question]
        for section, rrsets in (("ANSWER", msg.answer), ("AUTHORITY", msg.authority),
                                ("ADDITIONAL", msg.additional)):
            entry.section(section)[:] = [
                Record(rrset.name, rrset.ttl, rrset.rdclass, rrset.rdtype, rd)
                for rrset in rrsets for rd in rrset
            ]
        entry.edns = msg.edns >= 0
        entry.do = bool(msg.ednsflags & dns.flags.DO)
        entry.raw = None  # compared field by field from here on

    def once(self, lineno: int, word: str) -> None:
        key = "REPLY" if word == "FLAGS" else word
        if key in self.entry_lines:
            raise self.error(
                lineno, f"a second {word} line in the entry of line {self.entry_line_no}"
            )
        if self.section is not None and not self.testbound:
            raise self.error(lineno, f"{word} after SECTION {self.section}: it belongs before")
        self.entry_lines.add(key)

    @property
    def entry_line_no(self) -> int:
        return self.entry.line if self.entry is not None else 0

    def entry_line(self, lineno: int, text: str, tokens: list[str]) -> None:
        entry = self.entry
        assert entry is not None
        word = tokens[0]
        if word == "ENTRY_END":
            self.end_entry(lineno)
        elif word == "MATCH":
            self.once(lineno, word)
            entry.match = self.match_options(lineno, tokens[1:])
        elif word == "ADJUST":
            self.once(lineno, word)
            for opt in tokens[1:]:
                if opt in ADJUST_OPTIONS:
                    continue
                base = opt.split("=")[0]
                if self.testbound and (
                    opt in TESTBOUND_ADJUST_UNPLAYED or base in ("sleep", "packet_sleep")
                ):
                    self.unsupport(f"ADJUST {base}")
                else:
                    raise self.error(lineno, f"unknown ADJUST option {opt!r}")
            entry.adjust = frozenset(tokens[1:])
        elif word == "HEX_ANSWER_BEGIN" and self.testbound:
            if entry.raw is not None:
                raise self.error(lineno, "a second HEX_ANSWER in one entry")
            self.hex_lines = []
        elif word in TESTBOUND_ENTRY_UNPLAYED and self.testbound:
            self.unsupport(word)
        elif word in ("REPLY", "FLAGS"):
            self.once(lineno, word)
            self.reply_line(lineno, entry, tokens[1:])
        elif word == "MANDATORY":
            if len(tokens) != 1:
                raise self.error(lineno, "MANDATORY takes no arguments")
            entry.mandatory = True
        elif word == "TSIG":
            if len(tokens) != 3:
                raise self.error(lineno, "TSIG <keyname> <base64 secret>")
            entry.tsig = (tokens[1], tokens[2])
        elif word == "SECTION":
            if len(tokens) != 2 or tokens[1] not in SECTIONS:
                raise self.error(lineno, f"SECTION takes one of {', '.join(SECTIONS)}")
            name = tokens[1]
            if self.sections_seen and SECTIONS.index(name) <= SECTIONS.index(
                self.sections_seen[-1]
            ):
                raise self.error(
                    lineno,
                    f"SECTION {name} after SECTION {self.sections_seen[-1]}: sections go "
                    "QUESTION, ANSWER, AUTHORITY, ADDITIONAL, each once",
                )
            self.sections_seen.append(name)
            self.section = name
            if self.testbound:
                self.sections_seen = []  # testbound takes sections in any order
        elif word == "RAW":
            if len(tokens) != 1:
                raise self.error(lineno, "RAW stands alone; the hex goes on the next line")
            if entry.raw is not None:
                raise self.error(lineno, "a second RAW in one entry")
            self.raw_pending = True
        elif word in ("ENTRY_BEGIN", "RANGE_BEGIN", "RANGE_END", "STEP", "SCENARIO_END"):
            raise self.error(lineno, f"{word} inside the entry of line {entry.line}: no ENTRY_END")
        elif self.section is None:
            raise self.error(lineno, f"unexpected {word!r} in an entry before any SECTION")
        else:
            try:
                if self.section == "QUESTION":
                    entry.question.append(parse_question(text))
                else:
                    entry.section(self.section).append(parse_record(text))
            except RecordError as e:
                raise self.error(lineno, str(e)) from None

    def match_options(self, lineno: int, words: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for opt in words:
            if opt in MATCH_OPTIONS and not (self.testbound and opt == "all"):
                out.append(opt)
            elif not self.testbound:
                raise self.error(lineno, f"unknown MATCH option {opt!r}")
            elif opt == "all":  # testbound compares EDNS presence and DO too
                out += ["all", "edns_do"]
            elif opt == "all_noedns":
                out.append("all")
            elif opt in TESTBOUND_MATCH:
                out.append(opt)
            elif opt.startswith("ede="):
                code = opt.split("=", 1)[1]
                if code != "any" and not code.isdigit():
                    raise self.error(lineno, f"MATCH {opt}: ede=<number> or ede=any")
                out.append(opt)
            elif opt in TESTBOUND_MATCH_UNPLAYED or opt.split("=")[0] == "serial":
                self.unsupport(f"MATCH {opt.split('=')[0]}")
            else:
                raise self.error(lineno, f"unknown MATCH option {opt!r}")
        return tuple(out)

    def reply_line(self, lineno: int, entry: Entry, words: list[str]) -> None:
        rcodes = []
        for w in words:
            if w in FLAG_WORDS:
                entry.flags |= FLAG_WORDS[w]
            elif w == "DO":
                entry.do = True
                if entry.edns is not None:
                    entry.edns = True
            elif w in RCODE_WORDS:
                rcodes.append(w)
            elif w in OPCODE_WORDS:
                entry.opcode = int(dns.opcode.from_text(w))
            else:
                raise self.error(lineno, f"unknown REPLY word {w!r}")
        if len(rcodes) > 1:
            raise self.error(lineno, f"more than one rcode: {' '.join(rcodes)}")
        if rcodes:
            entry.rcode = int(dns.rcode.from_text(rcodes[0]))


def parse(path: Path, text: str) -> Scenario:
    """Parse scenario ``text`` (``path`` is used in error messages and as the name)."""
    return _Parser(path, text).parse()


def load(path: Path) -> Scenario:
    """Read and parse one ``.rpl`` file; :class:`ScenarioError` names file:line."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise ScenarioError(path, 1, f"not UTF-8 text: {e}") from None
    except OSError as e:
        raise ScenarioError(path, 0, f"cannot read: {e.strerror}") from None
    return parse(path, text)


__all__ = [
    "Entry",
    "Range",
    "Scenario",
    "ScenarioError",
    "Step",
    "load",
    "parse",
]
