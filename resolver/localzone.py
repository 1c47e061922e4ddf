"""Local zones: answers the resolver gives from its own data, before the cache and the
recursion, as Unbound's ``local-zone`` / ``local-data`` / ``local-data-ptr`` (unbound.conf(5),
"local-zone: <zone> <type>"; services/localzone.c).

A query is matched to the deepest local zone that contains its name (in its class); that
zone's *type* decides (unbound.conf(5)):

=====================  ===================================================================
type                   a name of the zone is ...
=====================  ===================================================================
deny                   answered from local data when it matches, else dropped (no reply)
refuse                 answered from local data when it matches, else REFUSED
static                 answered from local data, else NODATA (the name exists in the local
                       data, an empty non-terminal too) or NXDOMAIN, with the zone's SOA
                       when the apex has one
transparent            answered from local data; NODATA for another type of a name that has
                       local data; any other name resolved normally
typetransparent        answered from local data, anything else resolved normally
redirect               answered with the apex's data under the query name, for the apex and
                       every name below; NODATA for another type
inform                 as transparent, and the client is logged
inform_deny            as deny, and the client is logged
inform_redirect        as redirect, and the client is logged
always_transparent     resolved normally, local data ignored
always_refuse          REFUSED, local data ignored
always_nxdomain        NXDOMAIN (with the zone's SOA), local data ignored
always_nodata          NODATA (with the zone's SOA), local data ignored
always_deny            dropped, local data ignored
always_null            0.0.0.0 for A, ``::`` for AAAA, NODATA for other types
noview                 as transparent (there are no views to break out of)
nodefault              no zone: only turns the default zone of that name off
=====================  ===================================================================

Answers from local data are authoritative (AA), carry the record's configured TTL (3600
when the ``local-data`` line gives none), and the negative ones the zone's SOA with the TTL
of its MINIMUM field when lower (RFC 2308 §5; Unbound's ``soa_negative``).  A CNAME of the
query name answers any other type with the CNAME alone; in a redirect zone it is an alias:
the CNAME, then its target resolved normally (Unbound's ``local_alias``).  A DS question is
looked up from the parent name (the DS is on the parent side of a zone cut).

``local-data`` whose name no zone covers creates a transparent zone at the closest name
that encloses all such records ("If no local-zone is given local-data causes a transparent
zone to be created by default", Unbound's lz_setup_implicit).

:data:`resolver.localzone_defaults.DEFAULT_ZONES` are Unbound's default local zones (RFC
6761, RFC 6303, RFC 7686, RFC 8375, ...), on unless the configuration names the same zone
(any type, ``nodefault`` too) or sets ``defaults=False``; ``unblock_lan`` leaves out the
private-address and AS112 zones (Unbound's ``unblock-lan-zones``).  :class:`LocalView` is
Unbound's ``view:``: local zones of the clients of some networks, asked before the global
ones.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.reversename
import dns.rrset
import dns.ttl

from resolver.localzone_defaults import DEFAULT_ZONES

log = logging.getLogger(__name__)

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

ZONE_TYPES = frozenset(
    "deny refuse static transparent typetransparent redirect inform inform_deny "
    "inform_redirect always_transparent always_refuse always_nxdomain always_nodata "
    "always_deny always_null noview nodefault".split()
)
"""Unbound's documented local-zone types (unbound.conf(5), local-zone)."""

DEFAULT_TTL = 3600  # a local-data record without a TTL (Unbound's default)
_REDIRECTS = frozenset({"redirect", "inform_redirect"})
_IGNORE_DATA = frozenset({"always_transparent", "always_refuse", "always_nxdomain",
                          "always_nodata", "always_deny", "always_null"})
_RESOLVED = frozenset({"always_transparent", "typetransparent"})
_DROPPED = frozenset({"deny", "inform_deny", "always_deny"})
_REFUSED = frozenset({"refuse", "always_refuse"})
_NEGATIVE = frozenset({"static", "redirect", "inform_redirect", "always_nxdomain",
                       "always_nodata"})
_INFORM = frozenset({"inform", "inform_deny", "inform_redirect"})

class LocalZoneError(ValueError):
    """A local-zone, local-data or local-data-ptr that cannot be read (the message says
    what; the caller says where)."""


class NoReply(Exception):  # noqa: N818 (an outcome, not an error)
    """The query is dropped: no reply at all (deny zones)."""


@dataclass(frozen=True)
class LocalConfig:
    """The operator's (or a scenario's) local zones, as text: ``zones`` as (name, type),
    ``data`` as zone-file records, ``ptrs`` as ``ADDRESS [TTL] NAME``."""

    zones: tuple[tuple[str, str], ...] = ()
    data: tuple[str, ...] = ()
    ptrs: tuple[str, ...] = ()
    defaults: bool = True  # Unbound's default local zones
    unblock_lan: bool = False  # unblock-lan-zones: no AS112 / private reverse zones
    views: tuple[LocalView, ...] = ()  # Unbound's views: local zones of some clients

    def build(self) -> LocalZones:
        return LocalZones.build(self)

    def describe(self) -> str:
        """One line for the start-up banner."""
        if not self.defaults:
            defaults = "Unbound's default zones off"
        elif self.unblock_lan:
            defaults = "Unbound's default zones on, LAN zones unblocked"
        else:
            defaults = "Unbound's default zones on (localhost, RFC 1918 reverse, ...)"
        return (f"local zones: {defaults}; {len(self.zones)} configured, "
                f"{len(self.data) + len(self.ptrs)} local records")


@dataclass(frozen=True)
class LocalView:
    """Unbound's ``view:`` clause: local zones for the clients of ``networks`` (its
    ``access-control-view``), looked up before the global ones.  A question the view's
    zones do not answer goes to the global zones with ``first`` (``view-first: yes``), else
    it is resolved normally.  A view has no default zones."""

    name: str
    zones: LocalConfig = LocalConfig(defaults=False)
    first: bool = False
    networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalAnswer:
    """What a local zone says: a reply (``rcode``, sections, AA), or, with ``alias``, a CNAME
    whose target the resolver resolves and appends (the CNAME goes first)."""

    rcode: int
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    alias: dns.rrset.RRset | None = None


@dataclass
class LocalZone:
    name: dns.name.Name
    kind: str
    rdclass: int = dns.rdataclass.IN
    data: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = field(default_factory=dict)
    names: set[dns.name.Name] = field(default_factory=set)  # with empty non-terminals
    shared: bool = False  # a default zone shared by every resolver: copy() before add()

    def copy(self) -> LocalZone:
        data = {name: {t: rrset.copy() for t, rrset in types.items()}
                for name, types in self.data.items()}
        return LocalZone(self.name, self.kind, self.rdclass, data, set(self.names))

    def add(self, rrset: dns.rrset.RRset) -> None:
        if self.kind in _REDIRECTS and rrset.name != self.name:
            raise LocalZoneError(f"local-data {rrset.name} in redirect zone {self.name}: a "
                                 "redirect zone's data must be at its apex")
        empty = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
        self.data.setdefault(rrset.name, {}).setdefault(rrset.rdtype, empty).update(rrset)
        name = rrset.name
        while name.is_subdomain(self.name) and name not in self.names:
            self.names.add(name)
            if name == self.name:
                break
            name = name.parent()

    @property
    def soa(self) -> dns.rrset.RRset | None:
        return self.data.get(self.name, {}).get(dns.rdatatype.SOA)

    def negative_soa(self) -> tuple[dns.rrset.RRset, ...]:
        soa = self.soa
        if soa is None:
            return ()
        copy = soa.copy()
        rdata = next(iter(soa))
        assert isinstance(rdata, dns.rdtypes.ANY.SOA.SOA)
        copy.ttl = min(soa.ttl, rdata.minimum)  # RFC 2308 §5
        return (copy,)


def parse_record(text: str) -> dns.rrset.RRset:
    """One ``local-data`` record: ``NAME [TTL] [CLASS] TYPE RDATA`` (TTL and class in
    either order; names are absolute)."""
    fields = text.split()
    if len(fields) < 3:
        raise LocalZoneError(f"{text!r}: not a record (NAME [TTL] [CLASS] TYPE RDATA)")
    try:
        name = dns.name.from_text(fields[0], origin=dns.name.root)
        ttl, rdclass = DEFAULT_TTL, dns.rdataclass.IN
        i = 1
        while i < len(fields) - 1:
            word = fields[i]
            if word[0].isdigit():
                ttl = dns.ttl.from_text(word)
            elif (cls := _class(word)) is not None:
                rdclass = dns.rdataclass.RdataClass.make(cls)
            else:
                break
            i += 1
        rdtype = dns.rdatatype.from_text(fields[i])
        rest = text.split(None, i + 1)[i + 1] if len(fields) > i + 1 else ""
        rdata = dns.rdata.from_text(rdclass, rdtype, rest, origin=dns.name.root,
                                     relativize=False)
    except (dns.exception.DNSException, ValueError) as e:
        raise LocalZoneError(f"{text!r}: {e}") from None
    rrset = dns.rrset.RRset(name, rdclass, rdtype)
    rrset.add(rdata, ttl)
    return rrset


def _class(word: str) -> int | None:
    try:
        return dns.rdataclass.from_text(word)
    except dns.exception.DNSException:
        return None


def _key(name: dns.name.Name) -> tuple[bytes, ...]:
    return tuple(label.lower() for label in name.labels)


@functools.cache
def _default_zone(name: str, kind: str, records: tuple[str, ...]) -> LocalZone:
    """A default zone, built once and shared (never changed: see LocalZone.shared)."""
    zone = LocalZone(dns.name.from_text(name), kind)
    for record in records:
        zone.add(parse_record(record))
    zone.shared = True
    return zone


def parse_ptr(text: str) -> dns.rrset.RRset:
    """One ``local-data-ptr``: ``ADDRESS [TTL] NAME`` as the PTR record of the address's
    reverse name."""
    fields = text.split()
    if len(fields) not in (2, 3):
        raise LocalZoneError(f"{text!r}: not 'ADDRESS [TTL] NAME'")
    try:
        ipaddress.ip_address(fields[0])
        reverse = dns.reversename.from_address(fields[0])
    except ValueError:
        raise LocalZoneError(f"{text!r}: {fields[0]!r} is not an IP address") from None
    ttl = fields[1] if len(fields) == 3 else str(DEFAULT_TTL)
    return parse_record(f"{reverse} {ttl} IN PTR {fields[-1]}")


_ZONE_LINE = re.compile(r'^\s*"?([^"\s]+)"?\s+"?([a-z_]+)"?\s*$')


def parse_zone(text: str) -> tuple[dns.name.Name, str]:
    """One ``local-zone``: ``NAME TYPE`` (the name may be quoted)."""
    m = _ZONE_LINE.match(text)
    if m is None:
        raise LocalZoneError(f"{text!r}: not 'NAME TYPE'")
    kind = m.group(2)
    if kind not in ZONE_TYPES:
        raise LocalZoneError(f"{text!r}: unknown local-zone type {kind!r} (one of "
                             f"{', '.join(sorted(ZONE_TYPES))})")
    try:
        return dns.name.from_text(m.group(1), origin=dns.name.root), kind
    except dns.exception.DNSException as e:
        raise LocalZoneError(f"{text!r}: {e}") from None


class LocalZones:
    """The local zones of a resolver, looked up by query name."""

    def __init__(self, zones: Iterable[LocalZone] = ()) -> None:
        self.zones: dict[tuple[dns.name.Name, int], LocalZone] = {
            (z.name, z.rdclass): z for z in zones}
        # the zones' top-level labels once built (None: no quick rejection), so that a name
        # under no local zone costs one set lookup
        self._tops: frozenset[bytes] | None = None
        self._index: dict[tuple[tuple[bytes, ...], int], LocalZone] | None = None
        # views: (client networks, the view's zones, view-first)
        self.views: list[tuple[list[IPNetwork], LocalZones, bool]] = []

    def seal(self) -> LocalZones:
        """Index the zones for :meth:`lookup` (after the last zone is added)."""
        names = [name for name, _ in self.zones]
        self._tops = None if any(len(n) < 2 for n in names) else frozenset(
            n.labels[-2].lower() for n in names)
        self._index = {(_key(name), rdclass): zone
                       for (name, rdclass), zone in self.zones.items()}
        return self

    @classmethod
    def build(cls, config: LocalConfig) -> LocalZones:
        """The zones of ``config``: configured zones first (a duplicate keeps the first, as
        Unbound does), then the defaults whose name is not configured, then the implicit
        transparent zone of data no zone covers, then the data."""
        zones = cls()
        nodefault: set[dns.name.Name] = set()
        for text in config.zones:
            name, kind = parse_zone(" ".join(text))
            nodefault.add(name)
            if kind != "nodefault" and (name, dns.rdataclass.IN) not in zones.zones:
                zones.zones[name, dns.rdataclass.IN] = LocalZone(name, kind)
        if config.defaults:
            for zname, kind, _rfc, records, lan in DEFAULT_ZONES:
                name = dns.name.from_text(zname)
                if name in nodefault or (lan and config.unblock_lan):
                    continue
                zones.zones[name, dns.rdataclass.IN] = _default_zone(zname, kind, records)
        rrsets = [parse_record(t) for t in config.data] + [parse_ptr(t) for t in config.ptrs]
        zones._implicit(rrsets)
        for rrset in rrsets:
            covering = zones.lookup(rrset.name, rrset.rdclass)
            assert covering is not None  # (the implicit zone covers it)
            if covering.shared:  # a default zone: this resolver's own copy gets the data
                covering = zones.zones[covering.name, covering.rdclass] = covering.copy()
            covering.add(rrset)
        for view in config.views:
            try:
                networks = [ipaddress.ip_network(n, strict=False) for n in view.networks]
            except ValueError as e:
                raise LocalZoneError(f"view {view.name}: {e}") from None
            zones.views.append((networks, LocalZones.build(view.zones), view.first))
        return zones.seal()

    def _implicit(self, rrsets: list[dns.rrset.RRset]) -> None:
        """A transparent zone at the closest common ancestor of the records no zone
        covers, one per class (Unbound's lz_setup_implicit)."""
        uncovered: dict[int, dns.name.Name] = {}
        for rrset in rrsets:
            if self.lookup(rrset.name, rrset.rdclass) is not None:
                continue
            top = uncovered.get(rrset.rdclass)
            if top is None:
                uncovered[rrset.rdclass] = rrset.name
            else:
                _, _, common = top.fullcompare(rrset.name)
                uncovered[rrset.rdclass] = dns.name.Name(rrset.name.labels[-common:])
        for rdclass, name in uncovered.items():
            self.zones[name, rdclass] = LocalZone(name, "transparent", rdclass)

    def __bool__(self) -> bool:
        return bool(self.zones or self.views)

    def lookup(self, qname: dns.name.Name, qclass: int = dns.rdataclass.IN) -> LocalZone | None:
        """The deepest zone that contains ``qname``."""
        if self._tops is not None and (len(qname) < 2
                                       or qname.labels[-2].lower() not in self._tops):
            return None
        if self._index is not None:
            labels = _key(qname)
            for i in range(len(labels)):
                zone = self._index.get((labels[i:], qclass))
                if zone is not None:
                    return zone
            return None
        name = qname
        while True:
            zone = self.zones.get((name, qclass))
            if zone is not None:
                return zone
            if name == dns.name.root or len(name) == 0:
                return None
            name = name.parent()

    def answer(self, qname: dns.name.Name, qtype: int, qclass: int = dns.rdataclass.IN,
               client: object = None) -> LocalAnswer | None:
        """The local answer to a question; None when it is resolved normally.  Raises
        :class:`NoReply` when the query is to be dropped."""
        # a DS question belongs to the parent side of a zone cut: its zone is looked up
        # from the parent name (Unbound's local_zones_tags_lookup)
        start = qname.parent() if qtype == dns.rdatatype.DS and qname != dns.name.root \
            else qname
        view = self._view(client)
        if view is not None:  # Unbound's local_zones_answer with a view
            zones, first = view
            zone = zones.lookup(start, qclass)
            if zone is not None and not _covers(zone, qname, qtype):
                zone = None
            if zone is not None:
                return self._answer_in(zone, qname, qtype, client)
            if zones and not first:
                return None
        zone = self.lookup(start, qclass)
        if zone is None:
            return None
        return self._answer_in(zone, qname, qtype, client)

    def _view(self, client: object) -> tuple[LocalZones, bool] | None:
        """The view of the client's address: its most specific network."""
        if not self.views or not isinstance(client, tuple) or not client:
            return None
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return None
        best: tuple[int, LocalZones, bool] | None = None
        for networks, zones, first in self.views:
            for net in networks:
                if address in net and (best is None or net.prefixlen > best[0]):
                    best = (net.prefixlen, zones, first)
        return None if best is None else (best[1], best[2])

    def _answer_in(self, zone: LocalZone, qname: dns.name.Name, qtype: int,
                   client: object) -> LocalAnswer | None:
        kind = zone.kind
        if kind in _INFORM:
            log.info("%s %s inform %s %s %s", zone.name, kind, client, qname,
                     dns.rdatatype.to_text(dns.rdatatype.RdataType.make(qtype)))
        if kind == "always_null":
            return _null(qname, qtype, zone)
        if kind not in _IGNORE_DATA:
            found = self._from_data(zone, qname, qtype)
            if found is not None:
                return found
        if kind in _RESOLVED:
            return None
        if kind in _DROPPED:
            raise NoReply(f"{qname} in {kind} zone {zone.name}")
        if kind in _REFUSED:
            return LocalAnswer(dns.rcode.REFUSED)
        exists = kind in _REDIRECTS or qname in zone.names
        if kind in _NEGATIVE:
            nodata = (exists and kind != "always_nxdomain") or kind == "always_nodata"
            return LocalAnswer(dns.rcode.NOERROR if nodata else dns.rcode.NXDOMAIN,
                               authority=zone.negative_soa())
        # transparent, inform: NODATA for another type of a name with data
        if zone.data.get(qname):
            return LocalAnswer(dns.rcode.NOERROR, authority=zone.negative_soa())
        return None

    @staticmethod
    def _from_data(zone: LocalZone, qname: dns.name.Name, qtype: int) -> LocalAnswer | None:
        owner = zone.name if zone.kind in _REDIRECTS else qname
        types = zone.data.get(owner)
        if not types:
            return None
        rrset = types.get(qtype)
        alias = None
        if rrset is None and qtype != dns.rdatatype.CNAME:
            alias = types.get(dns.rdatatype.CNAME)
            if alias is None:
                return None
            rrset = alias
        if rrset is None:
            return None
        if owner != qname:
            renamed = dns.rrset.RRset(qname, rrset.rdclass, rrset.rdtype)
            renamed.update(rrset)
            rrset = renamed
        if alias is not None and zone.kind in _REDIRECTS:
            return LocalAnswer(dns.rcode.NOERROR, alias=rrset)
        return LocalAnswer(dns.rcode.NOERROR, answer=(rrset,))


def _covers(zone: LocalZone, qname: dns.name.Name, qtype: int) -> bool:
    """Whether a view's zone decides the question (Unbound's local_zone_does_not_cover,
    negated): not a noview zone, and a transparent one only for names (typetransparent:
    types) it has data for."""
    if zone.kind in ("noview", "always_transparent"):
        return False
    types = zone.data.get(qname, {})
    if zone.kind in ("transparent", "inform"):
        return bool(types)
    if zone.kind == "typetransparent":
        return qtype in types or dns.rdatatype.CNAME in types
    return True


def _null(qname: dns.name.Name, qtype: int, zone: LocalZone) -> LocalAnswer:
    """always_null: 0.0.0.0 or ``::`` (TTL 3600), NODATA for other types."""
    address = {int(dns.rdatatype.A): "0.0.0.0", int(dns.rdatatype.AAAA): "::"}.get(qtype)
    if address is None:
        return LocalAnswer(dns.rcode.NOERROR, authority=zone.negative_soa())
    rrset = dns.rrset.from_text(qname, DEFAULT_TTL, dns.rdataclass.IN,
                                dns.rdatatype.RdataType.make(qtype), address)
    return LocalAnswer(dns.rcode.NOERROR, answer=(rrset,))


_FILE_KEYS = ("local-zone", "local-data", "local-data-ptr", "unblock-lan-zones")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _strip_comment(raw: str) -> str:
    """A line without its ``#`` comment (a ``#`` inside quotes is kept)."""
    quote = ""
    for i, c in enumerate(raw):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "#":
            return raw[:i].strip()
    return raw.strip()


def read_file(text: str, where: str) -> LocalConfig:
    """A local-zones file: unbound.conf's lines ``local-zone: NAME TYPE``, ``local-data:
    "RR"``, ``local-data-ptr: "ADDRESS [TTL] NAME"``, ``unblock-lan-zones: yes|no``, with
    ``#`` comments and an optional ``server:`` line.  Errors name ``where`` and the line."""
    zones: list[tuple[str, str]] = []
    data: list[str] = []
    ptrs: list[str] = []
    unblock = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line or line == "server:":
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in _FILE_KEYS:
            raise LocalZoneError(f"{where} line {lineno}: expected one of "
                                 f"{', '.join(k + ':' for k in _FILE_KEYS)} got {line!r}")
        value = value.strip()
        try:
            if key == "local-zone":
                name, kind = parse_zone(value)
                zones.append((name.to_text(), kind))
            elif key == "local-data":
                parse_record(_unquote(value))
                data.append(_unquote(value))
            elif key == "local-data-ptr":
                parse_ptr(_unquote(value))
                ptrs.append(_unquote(value))
            elif value.lower() in ("yes", "no"):
                unblock = value.lower() == "yes"
            else:
                raise LocalZoneError(f"{key}: {value!r} is neither yes nor no")
        except LocalZoneError as e:
            raise LocalZoneError(f"{where} line {lineno}: {key}: {e}") from None
    config = LocalConfig(tuple(zones), tuple(data), tuple(ptrs), unblock_lan=unblock)
    try:
        config.build()
    except LocalZoneError as e:
        raise LocalZoneError(f"{where}: {e}") from None
    return config
