"""The lab's world description: a YAML file read into plain, validated definitions.

A world names its servers (address, behaviour), its zones (origin, servers, signing, records,
noise generators) and the manifest of interesting names with what a resolver should make of
them.  Every error names the file and the key path that is wrong, e.g.
``default.yaml: zones.example.lab..signing.algorithm: unknown algorithm 'ECDSA999'``.

Nothing here builds DNS data; :mod:`lab.zones` does that from these definitions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import dns.dnssec
import dns.dnssectypes
import dns.name
import dns.rcode
import dns.rdatatype

from configfiles import ConfigError, read_yaml
from netpolicy import AddressError, AddressPolicy

POLICY = AddressPolicy.lab_mode("the lab world")
"""The lab only ever binds and sends on loopback (:mod:`netpolicy`)."""

BEHAVIOURS = ("normal", "refused", "self_referral", "upward_referral", "dead", "slow",
              "truncating", "edns_intolerant")
DENIALS = ("nsec", "nsec3", "nsec3_optout")
SIGNING_MODES = ("good", "expired", "not_yet_valid", "bad_signature", "stripped")
DS_MODES = ("match", "none", "mismatch")
NOISE_KINDS = ("rotate", "pool", "geo", "flap", "whoami", "nonce", "instance", "jitter", "serial",
               "lb", "server_ttl")
DNSSEC_STATES = ("secure", "insecure", "bogus")
CATEGORIES = ("stable", "noise", "broken")


class WorldError(ConfigError):
    """A world file is wrong; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(problem, source=source, key=key)
        self.problem = problem


@dataclass(frozen=True)
class ServerDef:
    """One authoritative server: a name, a loopback address and how it behaves."""

    id: str
    name: dns.name.Name
    address: str
    behaviour: str = "normal"
    delay: float = 0.0
    phantom: bool = False
    """A name server name with no address anywhere (``phantom: true``, no ``address``): the
    lab binds nothing for it and publishes no A record, so a resolver that looks it up meets
    NXDOMAIN or NODATA -- the NS names of an NXNS-style delegation."""


@dataclass(frozen=True)
class SigningDef:
    algorithm: dns.dnssectypes.Algorithm
    denial: str = "nsec"
    split_keys: bool = False
    mode: str = "good"
    nsec3_iterations: int = 0
    nsec3_salt: bytes = b""
    online: bool = False  # sign every answer afresh (an online signer), same key and window


@dataclass(frozen=True)
class NoiseDef:
    """A dynamic RRset: its data is chosen per answer."""

    owner: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    kind: str
    ttl: int
    values: tuple[str, ...] = ()
    pick: int = 0
    period: int = 0
    by_region: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    spread: int = 0  # jitter: the TTL is ttl minus 0..spread seconds, per answer
    ttls: tuple[int, ...] = ()  # server_ttl: the TTL each server of the NS set gives, in order


@dataclass(frozen=True)
class ManifestEntry:
    """An interesting name and what a correct resolver makes of it (the ground truth)."""

    name: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    category: str
    kind: str
    rcode: int
    dnssec: str | None
    note: str = ""
    nodata: bool = False
    timeout_ok: bool = False
    held_out: bool = False  # a noise kind the differ has no named rule for

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name.to_text(),
            "type": dns.rdatatype.to_text(self.rdtype),
            "category": self.category,
            "kind": self.kind,
            "rcode": dns.rcode.to_text(dns.rcode.Rcode(self.rcode)),
            "dnssec": self.dnssec or "",
            "note": self.note,
            "nodata": "yes" if self.nodata else "",
            "timeout_ok": "yes" if self.timeout_ok else "",
            "held_out": "yes" if self.held_out else "",
        }


@dataclass(frozen=True)
class ZoneDef:
    origin: dns.name.Name
    servers: tuple[str, ...]
    records: str
    ttl: int = 3600
    signing: SigningDef | None = None
    ds: str = "match"
    glue: bool = True
    noise: tuple[NoiseDef, ...] = ()
    names: tuple[ManifestEntry, ...] = ()
    lagging: Mapping[str, int] = field(default_factory=dict)
    """Server id -> seconds its copy of the zone lags behind (a secondary that has not
    caught up): it answers time-dependent data (serial, flap) as of that long ago."""


@dataclass(frozen=True)
class WorldDef:
    source: str
    port: int
    servers: Mapping[str, ServerDef]
    zones: tuple[ZoneDef, ...]
    regions: tuple[tuple[ipaddress.IPv4Network, str], ...]
    default_region: str
    resolver_egress: Mapping[str, str]

    def region_of(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return self.default_region
        for network, region in self.regions:
            if ip in network:
                return region
        return self.default_region


def default_world_path() -> Path:
    """The shipped default world, from the package data (``lab.worlds``), wherever the
    working directory is.  Anchored at the ``lab.worlds`` package, not at ``lab``: a folder
    named ``lab`` in the working directory (a state directory, say) would otherwise be taken
    for the package as a namespace portion, and the world looked for in it."""
    return Path(str(resources.files("lab.worlds") / "default.yaml"))


def load_world(path: str | Path | None = None) -> WorldDef:
    """Read and validate a world file (the shipped default when ``path`` is None)."""
    p = Path(path) if path is not None else default_world_path()
    source = str(p)
    try:
        data, _ = read_yaml(p)
    except ConfigError as e:  # the file as a whole: unreadable, not text, not YAML
        raise WorldError(source, f"line {e.line}" if e.line else "(file)", e.detail) from None
    return parse_world(data, source)


class _Reader:
    """Walks a YAML mapping, remembering the key path for error messages."""

    def __init__(self, source: str, data: Any, path: str) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(self, problem: str, key: str | None = None) -> WorldError:
        where = self.key(key) if key else (self.path or "(top)")
        raise WorldError(self.source, where, problem)

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                self.fail("is required", key)
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.fail(f"expected {names}, got {value!r}", key)
        return value

    def sub(self, key: str, default: Any = ...) -> _Reader | None:
        value = self.get(key, dict, default)
        return None if value is None else _Reader(self.source, value, self.key(key))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(f"unknown key (known: {', '.join(sorted(self.used))})", str(unknown[0]))


def _name(r: _Reader, key: str, text: str, origin: dns.name.Name | None = None) -> dns.name.Name:
    try:
        return dns.name.from_text(text, origin=origin or dns.name.root)
    except Exception as e:  # dnspython raises several kinds for bad names
        r.fail(f"bad domain name {text!r}: {e}", key)
        raise  # unreachable


def _loopback(r: _Reader, key: str, text: str) -> str:
    """An IPv4 loopback address: the lab policy, and IPv4 (the lab's servers and regions)."""
    try:
        ip = POLICY.ip(key, text, role="bind")
    except AddressError as e:
        raise r.fail(str(e).partition(": ")[2], key) from None
    if ip.version != 4:
        r.fail(f"{text} is IPv6: the lab's servers are IPv4 (127.0.0.0/8)", key)
    return str(ip)


def _choice(r: _Reader, key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        r.fail(f"unknown value {value!r} (one of: {', '.join(allowed)})", key)
    return value


def parse_world(data: Any, source: str = "<world>") -> WorldDef:
    top = _Reader(source, data, "")
    port = top.get("port", int, 53)
    if not 1 <= port <= 65535:
        top.fail(f"port {port} out of range", "port")

    regions: list[tuple[ipaddress.IPv4Network, str]] = []
    default_region = "default"
    egress: dict[str, str] = {}
    reg = top.sub("regions", None)
    if reg is not None:
        default_region = reg.get("default", str, "default")
        for region, nets in reg.get("networks", dict, {}).items():
            if not isinstance(nets, list):
                reg.fail("expected a list of networks", f"networks.{region}")
            for net in nets:
                key = f"networks.{region}"
                try:
                    checked = POLICY.network(key, net)
                except AddressError as e:
                    raise reg.fail(str(e).partition(": ")[2], key) from None
                if not isinstance(checked, ipaddress.IPv4Network):
                    raise reg.fail(f"{net} is IPv6: the lab's regions are IPv4 (127.0.0.0/8)", key)
                network: ipaddress.IPv4Network = checked
                regions.append((network, str(region)))
        for who, addr in reg.get("egress", dict, {}).items():
            egress[str(who)] = _loopback(reg, f"egress.{who}", str(addr))
        reg.done()

    servers: dict[str, ServerDef] = {}
    addresses: dict[str, str] = {}
    srv_map = top.get("servers", dict)
    for sid, body in srv_map.items():
        s = _Reader(source, body, f"servers.{sid}")
        phantom = s.get("phantom", bool, False)
        if phantom:
            if s.get("address", str, ""):
                s.fail("a phantom server has no address", "address")
            address = ""
        else:
            address = _loopback(s, "address", s.get("address", str))
        if address in addresses:
            s.fail(f"address {address} already used by server {addresses[address]}", "address")
        if address:
            addresses[address] = sid
        behaviour = _choice(s, "behaviour", s.get("behaviour", str, "normal"), BEHAVIOURS)
        delay = float(s.get("delay", (int, float), 0.0))
        if behaviour == "slow" and delay <= 0:
            s.fail("a slow server needs a positive delay (seconds)", "delay")
        servers[str(sid)] = ServerDef(
            id=str(sid),
            name=_name(s, "name", s.get("name", str)),
            address=address,
            behaviour=behaviour,
            delay=delay,
            phantom=phantom,
        )
        s.done()

    zones: list[ZoneDef] = []
    seen: set[dns.name.Name] = set()
    for origin_text, body in top.get("zones", dict).items():
        zr = _Reader(source, body, f"zones.{origin_text}")
        origin = _name(zr, "(origin)", str(origin_text))
        if origin in seen:
            zr.fail("zone defined twice")
        seen.add(origin)
        zones.append(_parse_zone(zr, origin, servers))
        zr.done()
    top.done()
    if dns.name.root not in seen:
        top.fail("the world needs a root zone '.'", "zones")
    return WorldDef(source, port, servers, tuple(zones), tuple(regions), default_region, egress)


_GENERATED_TYPES = {
    "whoami": (dns.rdatatype.A, dns.rdatatype.TXT),
    "nonce": (dns.rdatatype.TXT,),
    "instance": (dns.rdatatype.TXT,),
    "serial": (dns.rdatatype.SOA,),
}


def _check_generated(nr: _Reader, kind: str, rdtype: dns.rdatatype.RdataType,
                     apex: bool) -> None:
    """Kinds whose data the server makes up need a type it can make."""
    allowed = _GENERATED_TYPES.get(kind)
    if allowed is not None and rdtype not in allowed:
        names = ", ".join(dns.rdatatype.to_text(t) for t in allowed)
        nr.fail(f"a {kind} name has type {names}", "type")
    if kind == "serial" and not apex:
        nr.fail("a serial name is the zone's apex ('@'): its SOA", "(owner)")


def _parse_zone(zr: _Reader, origin: dns.name.Name, servers: Mapping[str, ServerDef]) -> ZoneDef:
    srv = zr.get("servers", list)
    for i, sid in enumerate(srv):
        if sid not in servers:
            zr.fail(f"unknown server {sid!r}", f"servers[{i}]")
    if not srv:
        zr.fail("a zone needs at least one server", "servers")
    signing = None
    sr = zr.sub("signing", None)
    if sr is not None:
        alg_text = sr.get("algorithm", str)
        try:
            algorithm = dns.dnssectypes.Algorithm.from_text(alg_text)
        except Exception:
            sr.fail(f"unknown algorithm {alg_text!r}", "algorithm")
        if algorithm not in (
            dns.dnssectypes.Algorithm.RSASHA256,
            dns.dnssectypes.Algorithm.RSASHA512,
            dns.dnssectypes.Algorithm.ECDSAP256SHA256,
            dns.dnssectypes.Algorithm.ECDSAP384SHA384,
            dns.dnssectypes.Algorithm.ED25519,
            dns.dnssectypes.Algorithm.ED448,
        ):
            sr.fail(f"the lab cannot sign with {alg_text}", "algorithm")
        salt_hex = sr.get("nsec3_salt", str, "")
        try:
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            sr.fail(f"salt must be hex, got {salt_hex!r}", "nsec3_salt")
        signing = SigningDef(
            algorithm=algorithm,
            denial=_choice(sr, "denial", sr.get("denial", str, "nsec"), DENIALS),
            split_keys=sr.get("split_keys", bool, False),
            mode=_choice(sr, "mode", sr.get("mode", str, "good"), SIGNING_MODES),
            nsec3_iterations=sr.get("nsec3_iterations", int, 0),
            nsec3_salt=salt,
            online=sr.get("online", bool, False),
        )
        sr.done()
    ttl = zr.get("ttl", int, 3600)
    noise: list[NoiseDef] = []
    for owner_text, nbody in zr.get("noise", dict, {}).items():
        nr = _Reader(zr.source, nbody, zr.key(f"noise.{owner_text}"))
        owner = _name(nr, "(owner)", str(owner_text), origin)
        type_text = nr.get("type", str, "A")
        try:
            rdtype = dns.rdatatype.from_text(type_text)
        except Exception:
            nr.fail(f"unknown type {type_text!r}", "type")
        kind = _choice(nr, "kind", nr.get("kind", str), NOISE_KINDS)
        by_region: dict[str, tuple[str, ...]] = {}
        for region, vals in nr.get("by_region", dict, {}).items():
            listed = vals if isinstance(vals, list) else [vals]
            by_region[str(region)] = tuple(str(v) for v in listed)
        values = tuple(str(v) for v in nr.get("values", list, []))
        if kind == "geo" and "default" not in by_region:
            nr.fail("a geo name needs a 'default' region", "by_region")
        if kind in ("rotate", "pool", "flap", "instance", "jitter", "lb",
                    "server_ttl") and not values:
            nr.fail(f"a {kind} name needs values", "values")
        _check_generated(nr, kind, rdtype, owner == origin)
        pick = nr.get("pick", int, 0)
        if kind == "pool" and not 0 < pick < len(values):
            nr.fail(f"pick must be between 1 and {len(values) - 1}", "pick")
        if kind == "lb" and not 1 < pick <= len(values):
            nr.fail(f"pick (the most records per answer) must be between 2 and {len(values)}",
                    "pick")
        period = nr.get("period", int, 0)
        if kind in ("flap", "serial") and period <= 0:
            nr.fail(f"a {kind} name needs a positive period (seconds)", "period")
        ttl = nr.get("ttl", int, 300)
        spread = nr.get("spread", int, 0)
        if kind == "jitter" and not 0 < spread < ttl:
            nr.fail(f"spread must be between 1 and {ttl - 1} (below the ttl)", "spread")
        ttls: list[int] = nr.get("ttls", list, [])
        if kind == "server_ttl":
            if len(ttls) < 2 or not all(isinstance(t, int) and not isinstance(t, bool)
                                        and 0 < t < 2**31 for t in ttls):
                nr.fail("a server_ttl name needs ttls: one positive TTL per server (two at "
                        "least)", "ttls")
            if len(ttls) != len(srv):
                nr.fail(f"{len(ttls)} ttls for {len(srv)} servers: one per server, in the "
                        "zone's order", "ttls")
        elif ttls:
            nr.fail(f"ttls applies to server_ttl names only, not {kind}", "ttls")
        noise.append(
            NoiseDef(owner, rdtype, kind, ttl, values, pick, period, by_region, spread,
                     tuple(ttls))
        )
        nr.done()
    names: list[ManifestEntry] = []
    for i, nb in enumerate(zr.get("names", list, [])):
        mr = _Reader(zr.source, nb, zr.key(f"names[{i}]"))
        owner = _name(mr, "name", mr.get("name", str), origin)
        type_text = mr.get("type", str, "A")
        try:
            rdtype = dns.rdatatype.from_text(type_text)
        except Exception:
            mr.fail(f"unknown type {type_text!r}", "type")
        expect = mr.get("expect", str, "stable")
        category, _, kind = expect.partition(":")
        _choice(mr, "expect", category, CATEGORIES)
        rcode_text = mr.get("rcode", str, "NOERROR")
        try:
            rcode = dns.rcode.from_text(rcode_text)
        except Exception:
            mr.fail(f"unknown rcode {rcode_text!r}", "rcode")
        dnssec = mr.get("dnssec", str, None)
        if dnssec is not None:
            _choice(mr, "dnssec", dnssec, DNSSEC_STATES)
        names.append(
            ManifestEntry(owner, rdtype, category, kind or category, int(rcode), dnssec,
                          mr.get("note", str, ""), mr.get("nodata", bool, False),
                          mr.get("timeout_ok", bool, False), mr.get("held_out", bool, False))
        )
        if names[-1].held_out and category != "noise":
            mr.fail("held_out applies to noise names only", "held_out")
        mr.done()
    lagging: dict[str, int] = {}
    for sid, seconds in zr.get("lagging", dict, {}).items():
        if sid not in srv:
            zr.fail(f"{sid!r} is not one of the zone's servers", f"lagging.{sid}")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
            zr.fail(f"expected a positive number of seconds, got {seconds!r}", f"lagging.{sid}")
        lagging[str(sid)] = seconds
    return ZoneDef(
        origin=origin,
        servers=tuple(srv),
        records=zr.get("records", str, ""),
        ttl=ttl,
        signing=signing,
        ds=_choice(zr, "ds", zr.get("ds", str, "match"), DS_MODES),
        glue=zr.get("glue", bool, True),
        noise=tuple(noise),
        names=tuple(names),
        lagging=lagging,
    )
