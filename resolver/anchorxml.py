"""RFC 7958 trust-anchor files (IANA's ``root-anchors.xml``), read into DS records.

The format::

    <TrustAnchor id="..." source="...">
      <Zone>.</Zone>
      <KeyDigest id="Klajeyz" validFrom="2017-02-02T00:00:00+00:00">
        <KeyTag>20326</KeyTag>
        <Algorithm>8</Algorithm>
        <DigestType>2</DigestType>
        <Digest>E06D44B8...</Digest>
      </KeyDigest>
      <KeyDigest id="Kjqmt7v" validFrom="2010-07-15T00:00:00+00:00"
                 validUntil="2019-01-11T00:00:00+00:00"> ... </KeyDigest>
    </TrustAnchor>

Only the ``KeyDigest`` entries valid at the given time are anchors (RFC 7958 §2.3:
``validFrom`` <= now, and now < ``validUntil`` when there is one).  Other children of a
``KeyDigest`` (the ``PublicKey`` and ``Flags`` of later revisions of the format) are ignored:
the digest is the anchor.  Errors name the file and line.  The parser is expat's, with entity
declarations refused (no entity expansion, no external resources).
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS

DS = dns.rdtypes.ANY.DS.DS

__all__ = ["AnchorXmlError", "looks_like_xml", "parse_anchor_xml"]


class AnchorXmlError(ValueError):
    """An RFC 7958 file is wrong; the message says where and what."""


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    line: int
    text: list[str] = field(default_factory=list)
    children: list[_Element] = field(default_factory=list)

    def child(self, tag: str) -> _Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    @property
    def content(self) -> str:
        return "".join(self.text).strip()


def looks_like_xml(text: str) -> bool:
    return text.lstrip().startswith("<")


def _tree(text: str, source: str) -> _Element:
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Element] = []
    top: list[_Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else top).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    def entity(name: str, *_rest: object) -> None:
        raise AnchorXmlError(f"{source}:{parser.CurrentLineNumber}: entity declaration "
                             f"{name!r} refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as e:
        message = xml.parsers.expat.ErrorString(e.code) if e.code is not None else str(e)
        raise AnchorXmlError(f"{source}:{e.lineno}: not well-formed XML: {message}") from None
    if not top:  # pragma: no cover - expat rejects a document without an element
        raise AnchorXmlError(f"{source}: no XML element")
    return top[0]


def _when(value: str, where: str, attr: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AnchorXmlError(f"{where}: {attr}={value!r} is not an xsd:dateTime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(digest: _Element, tag: str, source: str, top: int) -> int:
    element = digest.child(tag)
    if element is None:
        raise AnchorXmlError(f"{source}:{digest.line}: KeyDigest without <{tag}>")
    text = element.content
    if not text.isdigit() or int(text) > top:
        raise AnchorXmlError(f"{source}:{element.line}: <{tag}> {text!r} is not a number "
                             f"in 0..{top}")
    return int(text)


def parse_anchor_xml(
    text: str, source: str = "<xml>", now: datetime | None = None
) -> tuple[dns.name.Name, list[DS]]:
    """The zone and the DS records of its ``KeyDigest`` entries valid at ``now`` (default:
    the current time).  An error when none is valid, naming how many were listed."""
    now = now or datetime.now(UTC)
    root = _tree(text, source)
    if root.tag != "TrustAnchor":
        raise AnchorXmlError(f"{source}:{root.line}: root element is <{root.tag}>, "
                             "expected <TrustAnchor> (RFC 7958)")
    zone_el = root.child("Zone")
    if zone_el is None:
        raise AnchorXmlError(f"{source}:{root.line}: <TrustAnchor> without <Zone>")
    try:
        zone = dns.name.from_text(zone_el.content)
    except dns.exception.DNSException as e:
        raise AnchorXmlError(f"{source}:{zone_el.line}: bad <Zone> {zone_el.content!r}: "
                             f"{e}") from None
    digests = [c for c in root.children if c.tag == "KeyDigest"]
    valid: list[DS] = []
    for digest in digests:
        where = f"{source}:{digest.line}"
        if "validFrom" not in digest.attrs:
            raise AnchorXmlError(f"{where}: KeyDigest without validFrom")
        start = _when(digest.attrs["validFrom"], where, "validFrom")
        until = digest.attrs.get("validUntil")
        end = _when(until, where, "validUntil") if until is not None else None
        tag = _number(digest, "KeyTag", source, 65535)
        algorithm = _number(digest, "Algorithm", source, 255)
        digest_type = _number(digest, "DigestType", source, 255)
        hex_el = digest.child("Digest")
        if hex_el is None:
            raise AnchorXmlError(f"{where}: KeyDigest without <Digest>")
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, dns.rdatatype.DS,
                f"{tag} {algorithm} {digest_type} {hex_el.content}")
        except (dns.exception.DNSException, ValueError) as e:
            raise AnchorXmlError(f"{source}:{hex_el.line}: bad <Digest>: {e}") from None
        assert isinstance(rdata, DS)
        if start <= now and (end is None or now < end):
            valid.append(rdata)
    if not valid:
        raise AnchorXmlError(f"{source}: no KeyDigest valid at {now.isoformat()} "
                             f"({len(digests)} listed)")
    return zone, valid
