"""Trust anchors from files in the testbound dialect.

testbound (Unbound's ``testcode/testbound.c``) writes temporary files from the header before
``CONFIG_END``:

* ``TEMPFILE_CONTENTS ID`` ... ``TEMPFILE_END``: a file's lines; a ``$INCLUDE_TEMPFILE ID2``
  line in it becomes ``$INCLUDE`` of that other temporary file;
* ``TEMPFILE_NAME ID``: the file's quoted path as a line of the configuration, the value of
  the option on the line before (``trust-anchor-file:`` alone, then ``TEMPFILE_NAME ID``);
* ``AUTOTRUST_FILE ID`` ... ``AUTOTRUST_END``: an RFC 5011 state file, and the option
  ``server: auto-trust-anchor-file: PATH`` naming it.

:func:`split_tempfiles` takes those blocks out of the header (the rest is the unbound.conf
text, a ``TEMPFILE_NAME`` joined to its option), :func:`read_anchors` reads the anchors of
one option as unbound.conf(5) describes the three options:

* ``trust-anchor-file``: "Both DS and DNSKEY entries can appear in the file.  The format of
  the file is the standard DNS Zone file format" (``$ORIGIN``, ``$TTL``, parentheses and
  comments as zone files have them);
* ``trusted-keys-file``: "Format is BIND-9 style format, the trusted-keys { name flag proto
  algo "key"; }; clauses are read";
* ``auto-trust-anchor-file``: the DS and DNSKEY lines of the state file.  A DNSKEY counts
  when its ``;;state=`` comment is VALID (2) or MISSING (4), or when it has none (a plain
  anchor file given to the option); a DS always does, as it starts the trust point.  The
  RFC 5011 rollover itself (probing, hold-down, revocation) is not played: the anchors are
  static, and ``CHECK_AUTOTRUST`` stays unsupported.

A path that is no testbound temporary file is unsupported (the run never reads the disk).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zonefile

from deckard.records import Record, RecordError, parse_record

TEMP = "TEMPFILE:"
AUTO = "AUTOTRUST:"
"""Prefixes of the made-up paths a header's temporary files get (testbound's own
``fake_temp_file`` names them ``_temp_ID`` and ``_auto_ID``: two name spaces)."""

ANCHOR_KEYS = ("trust-anchor-file", "trusted-keys-file", "auto-trust-anchor-file")

ANCHOR_TYPES = (dns.rdatatype.DS, dns.rdatatype.DNSKEY)

_STATE = re.compile(r";;\s*state\s*=\s*(\d+)")
_ANCHOR_STATES = {2, 4}  # VALID, MISSING (Unbound's autotrust.h)
_BIND_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*|#[^\n]*", re.S)
_AT = re.compile(r"<input>:\d+: (.*)", re.S)
_TRUSTED = re.compile(r"trusted-keys\s*\{(.*?)\}\s*;", re.S)


class AnchorFileError(ValueError):
    """A temporary file or an anchor in it that cannot be read: (line, problem)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line


Files = dict[str, list[tuple[int, str]]]


def split_tempfiles(lines: Iterable[tuple[int, str]]) -> tuple[list[tuple[int, str]], Files]:
    """The header's unbound.conf lines, and its temporary files by made-up path."""
    conf: list[tuple[int, str]] = []
    files: Files = {}
    current: list[tuple[int, str]] | None = None
    end = ""
    start = 0
    for lineno, raw in lines:
        word, _, rest = raw.strip().partition(" ")
        ident = rest.strip()
        if current is not None:
            if word == end:
                current = None
            else:
                current.append((lineno, raw))
            continue
        if word in ("TEMPFILE_CONTENTS", "AUTOTRUST_FILE"):
            if not ident:
                raise AnchorFileError(lineno, f"{word} must have an id")
            if word == "AUTOTRUST_FILE":
                path, end = AUTO + ident, "AUTOTRUST_END"
                conf.append((lineno, f'server: auto-trust-anchor-file: "{path}"'))
            else:
                path, end = TEMP + ident, "TEMPFILE_END"
            current = files[path] = []
            start = lineno
        elif word == "TEMPFILE_NAME":
            if not ident:
                raise AnchorFileError(lineno, "TEMPFILE_NAME must have an id")
            if not conf or not conf[-1][1].split("#")[0].rstrip().endswith(":"):
                raise AnchorFileError(lineno, "TEMPFILE_NAME does not follow an option 'key:'")
            before_line, before = conf[-1]
            conf[-1] = (before_line, f'{before.split("#")[0].rstrip()} "{TEMP}{ident}"')
        else:
            conf.append((lineno, raw))
    if current is not None:
        raise AnchorFileError(start, f"no {end} for the file begun here")
    return conf, files


def _expand(files: Files, path: str, seen: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """A temporary file's lines, each ``$INCLUDE_TEMPFILE ID`` replaced by that file's."""
    if path not in files:
        raise AnchorFileError(0, f"no temporary file {path.split(':', 1)[1]!r} in the header")
    if path in seen:
        raise AnchorFileError(0, f"temporary file {path.split(':', 1)[1]!r} includes itself")
    out: list[tuple[int, str]] = []
    for lineno, raw in files[path]:
        word, _, ident = raw.strip().partition(" ")
        if word == "$INCLUDE_TEMPFILE":
            out.extend(_expand(files, TEMP + ident.strip(), (*seen, path)))
        else:
            out.append((lineno, raw))
    return out


def _zone_file(lines: list[tuple[int, str]]) -> list[Record]:
    text = "\n".join(raw for _, raw in lines) + "\n"
    first = lines[0][0] if lines else 0
    # dns.zonefile.read_rrsets refuses directives: its reader, with $ORIGIN and $TTL allowed
    manager = dns.zonefile.RRSetsReaderManager(dns.name.root, False, dns.rdataclass.IN)
    try:
        with manager.writer(True) as txn:
            dns.zonefile.Reader(dns.tokenizer.Tokenizer(text, "<input>"), dns.rdataclass.IN,
                                txn, allow_directives={"$ORIGIN", "$TTL"},
                                default_ttl=3600).read()
        rrsets = manager.rrsets
    except dns.exception.DNSException as e:
        at = _AT.match(str(e))  # "<input>:N: problem" (N: the tokenizer's line, past the RR)
        raise AnchorFileError(first, f"not zone file syntax: {at[1] if at else e}") from None
    records = [Record(rrset.name, rrset.ttl, rrset.rdclass, rrset.rdtype, rd)
               for rrset in rrsets for rd in rrset]
    for r in records:
        if r.rdtype not in ANCHOR_TYPES:
            raise AnchorFileError(first, f"{r.name} {r.rdtype.name}: not a DS or DNSKEY record")
    return records


def _trusted_keys(lines: list[tuple[int, str]]) -> list[Record]:
    first = lines[0][0] if lines else 0
    text = _BIND_COMMENT.sub(" ", "\n".join(raw for _, raw in lines))
    records: list[Record] = []
    for block in _TRUSTED.findall(text):
        for entry in block.split(";"):
            tokens = entry.split()
            if not tokens:
                continue
            if len(tokens) < 5:
                raise AnchorFileError(first, f"trusted-keys entry {entry.strip()!r}: not "
                                             "'name flags protocol algorithm \"key\"'")
            name = tokens[0].strip('"')
            if not name.endswith("."):
                name += "."
            key = "".join(tokens[4:]).strip('"')
            try:
                records.append(parse_record(
                    f"{name} 3600 IN DNSKEY {' '.join(tokens[1:4])} {key}"))
            except RecordError as e:
                raise AnchorFileError(first, f"trusted-keys entry for {name}: {e}") from None
    return records


def _autotrust(lines: list[tuple[int, str]]) -> list[Record]:
    records: list[Record] = []
    for lineno, raw in lines:
        text = raw.strip()
        if not text or text.startswith((";", "$")):
            continue
        data, _, comments = text.partition(";")
        try:
            rr = parse_record(data.strip())
        except RecordError as e:
            raise AnchorFileError(lineno, f"auto-trust-anchor-file: {e}") from None
        if rr.rdtype not in ANCHOR_TYPES:
            raise AnchorFileError(lineno, "auto-trust-anchor-file: not a DS or DNSKEY record")
        state = _STATE.search(";" + comments)
        if rr.rdtype == dns.rdatatype.DS or state is None or int(state[1]) in _ANCHOR_STATES:
            records.append(rr)
    return records


def read_anchors(key: str, path: str, files: Files) -> list[Record]:
    """The trust anchors option ``key`` (one of :data:`ANCHOR_KEYS`) reads from ``path``, a
    made-up path :func:`split_tempfiles` gave (anything else: ``ValueError``)."""
    if not path.startswith((TEMP, AUTO)):
        raise ValueError(f"{path!r} is no testbound temporary file")
    lines = _expand(files, path)
    if key == "trusted-keys-file":
        return _trusted_keys(lines)
    if key == "auto-trust-anchor-file":
        return _autotrust(lines)
    return _zone_file(lines)
