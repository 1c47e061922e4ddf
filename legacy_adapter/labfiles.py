"""Reading the lab's root hints and trust anchors (zone-file text) for the references.

The reading is :mod:`configfiles`' (one reader of each for every package); this module
gives its errors as :class:`LabFileError`.  The lab writes two small files:

* ``root.hints``: ``. 3600000 IN NS a.root-servers.lab.`` plus one
  ``a.root-servers.lab. 3600000 IN A 127.53.0.1`` line per address;
* ``trust-anchor.ds``: one DS (or DNSKEY) record per anchor.

Both are zone-file text: ``;`` starts a comment, the TTL and class are optional
and may come in either order, a record may span lines inside ``( )``, a line
starting with blanks repeats the previous owner, and ``$TTL`` is accepted (and
ignored). Every problem is reported as :class:`LabFileError` naming the file
and the line where the record starts.
"""

from __future__ import annotations

from pathlib import Path

from configfiles import ConfigError, anchors, roothints, zonetext
from configfiles.zonetext import ZoneLine
from legacy_adapter.errors import LabFileError
from netpolicy import PRODUCTION, AddressPolicy

__all__ = [
    "ZoneLine",
    "parse_trust_anchor",
    "parse_zone_text",
    "read_root_hints",
    "read_trust_anchors",
]



def _lab_file_error(e: ConfigError) -> LabFileError:
    return LabFileError(e.source or "<text>", e.line or 0, e.detail)


def parse_zone_text(text: str, source: Path | str = "<text>") -> list[ZoneLine]:
    """Zone-file text into records (:func:`configfiles.zonetext.parse_zone_text`), errors as
    :class:`LabFileError`."""
    try:
        return zonetext.parse_zone_text(text, source)
    except ConfigError as e:
        raise _lab_file_error(e) from None


def read_root_hints(
    path: Path | str, policy: AddressPolicy = PRODUCTION
) -> tuple[tuple[str, str], ...]:
    """``(NS name, address)`` pairs from a root hints file, by the one reader's rules
    (:mod:`configfiles.roothints`), errors as :class:`LabFileError`."""
    try:
        return roothints.read_root_hints(path, policy)
    except ConfigError as e:
        raise _lab_file_error(e) from None


def parse_trust_anchor(text: str) -> ZoneLine:
    """Parse one DS or DNSKEY record given as presentation text."""
    try:
        records = anchors.parse_trust_anchors(text)
    except ConfigError as e:
        raise _lab_file_error(e) from None
    if len(records) != 1:
        raise LabFileError("<text>", 1, f"expected one record, got {len(records)}")
    return records[0]


def read_trust_anchors(path: Path | str) -> tuple[str, ...]:
    """Read a trust-anchor file into presentation lines, one per DS/DNSKEY record.

    Each line has owner, TTL, class and type, ready for
    :attr:`ReferenceSpec.trust_anchors <legacy_adapter.config.ReferenceSpec.trust_anchors>`.
    """
    try:
        return tuple(record.to_text() for record in anchors.read_trust_anchors(path))
    except ConfigError as e:
        raise _lab_file_error(e) from None
