"""Trust anchors (RFC 4033 §2) and negative trust anchors (RFC 7646), as plain data.

A trust-anchor file holds DS or DNSKEY records in zone-file syntax, one record per line or
spread over lines with parentheses, as Unbound's ``trust-anchor-file`` reads them::

    . 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
    example. IN DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d
                                  xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL )

TTL and class are optional; ``;`` starts a comment; several anchors per name are allowed (a
key roll).  A file may instead be in IANA's RFC 7958 XML format (``root-anchors.xml``, see
:mod:`resolver.anchorxml`): its KeyDigest entries valid now become DS anchors.  Errors name the
file and the line.  Negative trust anchors are domain names at
and below which nothing is validated (Unbound's ``domain-insecure``): answers there are
insecure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS

from configfiles import ConfigError
from configfiles.anchors import parse_trust_anchors
from resolver.anchorxml import AnchorXmlError, looks_like_xml, parse_anchor_xml

DNSKEY = dns.rdtypes.ANY.DNSKEY.DNSKEY
DS = dns.rdtypes.ANY.DS.DS

__all__ = ["TrustAnchorError", "TrustAnchors", "parse_anchor_text"]


class TrustAnchorError(ValueError):
    """A trust-anchor file or name is wrong; the message says where and what."""


@dataclass(frozen=True)
class TrustAnchors:
    """DS and DNSKEY anchors by zone, and negative anchors (names validated as insecure)."""

    ds: Mapping[dns.name.Name, tuple[DS, ...]] = field(default_factory=dict)
    dnskey: Mapping[dns.name.Name, tuple[DNSKEY, ...]] = field(default_factory=dict)
    negative: frozenset[dns.name.Name] = frozenset()
    unusable: frozenset[dns.name.Name] = frozenset()
    """Zones anchored by records that can match no key (say, a DS whose digest does not fit
    its digest type, which Unbound loads and never matches): validated, and bogus, never
    left unvalidated for want of a usable anchor."""

    # -- building --------------------------------------------------------------------------

    @classmethod
    def from_text(
        cls, text: str, source: str = "<text>", negative: Iterable[str | dns.name.Name] = ()
    ) -> TrustAnchors:
        ds: dict[dns.name.Name, list[DS]] = {}
        keys: dict[dns.name.Name, list[DNSKEY]] = {}
        for owner, rdata in parse_anchor_text(text, source):
            if isinstance(rdata, DS):
                ds.setdefault(owner, []).append(rdata)
            elif isinstance(rdata, DNSKEY):
                keys.setdefault(owner, []).append(rdata)
        return cls(
            {n: tuple(v) for n, v in ds.items()},
            {n: tuple(v) for n, v in keys.items()},
            negative_names(negative, source),
        )

    @classmethod
    def from_xml(
        cls, text: str, source: str = "<xml>", negative: Iterable[str | dns.name.Name] = (),
        now: datetime | None = None,
    ) -> TrustAnchors:
        """Anchors from an RFC 7958 file: the DS records of the KeyDigests valid ``now``."""
        try:
            zone, ds = parse_anchor_xml(text, source, now)
        except AnchorXmlError as e:
            raise TrustAnchorError(str(e)) from None
        return cls({zone: tuple(ds)}, {}, negative_names(negative, source))

    @classmethod
    def from_file(
        cls, path: Path, negative: Iterable[str | dns.name.Name] = (), now: datetime | None = None
    ) -> TrustAnchors:
        """DS/DNSKEY records in zone-file syntax, or an RFC 7958 XML file (told by its first
        character)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise TrustAnchorError(f"{path}: cannot read trust anchors: {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise TrustAnchorError(f"{path}: not a text file (byte {e.start} is not UTF-8): "
                                   "expected DS/DNSKEY records or RFC 7958 XML") from None
        if looks_like_xml(text):
            return cls.from_xml(text, str(path), negative, now)
        anchors = cls.from_text(text, str(path), negative)
        if not anchors.ds and not anchors.dnskey:
            raise TrustAnchorError(f"{path}: no DS or DNSKEY record")
        return anchors

    @classmethod
    def from_records(
        cls, records: Iterable[str], negative: Iterable[str | dns.name.Name] = ()
    ) -> TrustAnchors:
        """Anchors from record lines (``"<owner> [ttl] [IN] DS|DNSKEY <rdata>"``)."""
        return cls.from_text("\n".join(records), "<config>", negative)

    def merged(self, other: TrustAnchors) -> TrustAnchors:
        ds = {n: tuple(v) for n, v in self.ds.items()}
        for n, v in other.ds.items():
            ds[n] = ds.get(n, ()) + tuple(v)
        keys = {n: tuple(k) for n, k in self.dnskey.items()}
        for n, k in other.dnskey.items():
            keys[n] = keys.get(n, ()) + tuple(k)
        return TrustAnchors(ds, keys, self.negative | other.negative,
                            self.unusable | other.unusable)

    # -- asking ----------------------------------------------------------------------------

    def __bool__(self) -> bool:
        return bool(self.ds or self.dnskey or self.unusable)

    @property
    def zones(self) -> frozenset[dns.name.Name]:
        return frozenset(self.ds) | frozenset(self.dnskey) | self.unusable

    def closest(self, name: dns.name.Name) -> dns.name.Name | None:
        """The deepest anchored zone at or above ``name``, if any."""
        zones = self.zones
        n = name
        while True:
            if n in zones:
                return n
            if n == dns.name.root:
                return None
            n = n.parent()

    def is_negative(self, name: dns.name.Name) -> bool:
        """Is ``name`` at or below a negative trust anchor that no deeper anchor overrides?"""
        if not self.negative:
            return False
        anchor = self.closest(name)
        n = name
        while True:
            if n in self.negative:
                return anchor is None or len(n) >= len(anchor)
            if n == dns.name.root:
                return False
            n = n.parent()

    def key_tags(self, zone: dns.name.Name) -> frozenset[int]:
        """Key tags of the keys anchored at ``zone``: a DS anchor's own tag, a DNSKEY
        anchor's computed tag (what RFC 8509's root-key-sentinel labels are checked against)."""
        tags = {d.key_tag for d in self.ds.get(zone, ())}
        tags.update(dns.dnssec.key_id(k) for k in self.dnskey.get(zone, ()))
        return frozenset(tags)

    def ds_for(self, zone: dns.name.Name) -> tuple[DS, ...]:
        return tuple(self.ds.get(zone, ()))

    def keys_for(self, zone: dns.name.Name) -> tuple[DNSKEY, ...]:
        return tuple(self.dnskey.get(zone, ()))


def negative_names(
    names: Iterable[str | dns.name.Name], source: str = "<config>"
) -> frozenset[dns.name.Name]:
    out: set[dns.name.Name] = set()
    for n in names:
        if isinstance(n, dns.name.Name):
            out.add(n)
            continue
        try:
            out.add(dns.name.from_text(n))
        except dns.exception.DNSException as e:
            raise TrustAnchorError(f"{source}: bad negative trust anchor {n!r}: {e}") from e
    return frozenset(out)


def parse_anchor_text(text: str, source: str = "<text>") -> list[tuple[dns.name.Name, DS | DNSKEY]]:
    """Every DS or DNSKEY record of a trust-anchor file, as (owner, rdata), by the one
    parser every package uses (:mod:`configfiles.anchors`)."""
    try:
        records = parse_trust_anchors(text, source)
    except ConfigError as e:
        raise TrustAnchorError(str(e)) from None
    out: list[tuple[dns.name.Name, DS | DNSKEY]] = []
    for record in records:
        rdata = record.rdata
        if not isinstance(rdata, DS | DNSKEY):  # pragma: no cover - dnspython's classes
            raise TrustAnchorError(f"{source}:{record.line}: unexpected record class")
        out.append((record.owner, rdata))
    return out
