"""The harness's configuration: ``shadow.yaml`` read into validated, frozen records.

Every section is a mapping with a fixed set of keys. An unknown key, a wrong type or a bad
value is a :class:`ConfigError` naming the file, the line and the key path, for example::

    shadow.yaml:7: sampler.probability: 1.5 must be <= 1
    shadow.yaml:12: references[0].lisen: unknown key (expected one of: egress, kind, ...)

Addresses (IPv4 or IPv6; ``[IPv6]:PORT``) are checked by one :mod:`netpolicy` policy: in
production any address the operator gives is accepted; with ``lab:`` (``--lab``) the run is in
lab mode and every address must be loopback (``127.0.0.0/8``, ``::1``).  Nothing is bound or
sent before the whole config has passed.
Command-line flags are turned into the same mapping and checked by the same code
(:func:`config_from_mapping`); ``shadowdns run`` then names the flag that set a bad key
(``--sample: 1.5 must be <= 1``).

The format (every key optional except where said)::

    duration: 0              # seconds; 0: until interrupted, or until finite inputs end
    lab: run/lab             # a lab state dir: default root hints and trust anchor
    run_dir: run/shadow      # workdirs of managed references
    intake:                  # one or more of:
      - {kind: dnstap, socket: run/shadow/dnstap.sock}    # Frame Streams, unix socket
      - {kind: dnstap, tcp: 127.0.0.1:6000, allow: [...]}  # Frame Streams over TCP; allow:
                                                          # peers, required off loopback
        # over TLS (Unbound dnstap-tls): tls: {cert: c.pem, key: k.pem, client_ca: ca.pem}
        # client_ca: optional; when given, a client certificate it signed is required
      - {kind: dnstap, file: capture.fstrm}               # a dnstap file
      - {kind: udp_mirror, listen: 127.0.0.1:5300, allow: [127.0.0.0/8]}  # allow: required
                                                          # when listen is not loopback
        # client_from_ecs: true -- the mirror adds EDNS Client Subnet (dnsdist addECS): read
        # it as the client and remove it before the query is replayed
      - {kind: pcap, file: traffic.pcap, speed: 1}        # 1, N (x faster) or max; port: 53
      - {kind: query_list, file: names.txt, rate: 0}      # "name type" lines; rate 0: max
    sampler:
      probability: 1.0       # share of queries compared
      per_name: true         # hash the name: a name is always in or always out
      salt: ""               # changes which names are in
      dedup_window: 0        # seconds: the same question again within it is skipped
      qtypes: []             # only these types (names or numbers); empty: all
      suffixes: []           # only names under these; empty: all
      exclude_suffixes: []
      exclude_clients: []    # client networks never compared (every intake), e.g. 10.9.0.0/16
      adaptive: true         # sample down when the dispatcher is saturated
    candidate:               # in-process by default; or address: 127.0.0.12:5353
      root_hints: run/lab/root.hints   # default: the lab's (lab:), else the bundled IANA hints
      trust_anchor: run/lab/trust-anchor.ds  # likewise: the lab's, else the IANA root anchor
      validate: true         # false: no DNSSEC validation
      egress: 127.54.3.1
      plugins: ["blocklist:closed:ads.example"]  # in-process only: WebAssembly plugins,
                             # as resolver serve --plugin (docs/PLUGINS.md, plugins in shadow)
      qname_minimisation: true
      timeout: 5
      transport: udp         # with address: udp (tcp on TC) | tcp | dot | doh (doh_path:)
    references:              # one or more
      - {name: kresd, kind: kresd, listen: 127.55.0.2:5053, egress: 127.54.2.1, timeout: 5}
      - {name: mine, kind: address, listen: 127.0.0.1:53}
      - {name: mine-doh, kind: address, listen: 127.0.0.1:443, transport: doh,
         doh_path: /dns-query}   # transport: udp|tcp (any kind), dot|doh (kind: address)
    dispatcher: {max_in_flight: 256, target_qps: 0}  # target_qps: per-target cap, 0: none
    ignore_tc_only: false    # a difference in the TC bit alone is noise (RRL truncation)
    store: {path: run/shadow/shadow.db, batch: 200, commit_interval: 0.5,
            max_age_days: 30, max_mb: 1024}
    api: {listen: 127.0.0.1:8053}
    bus:                     # `shadowdns bus intake|worker|collect` only (docs/BUS.md)
      redis: redis://127.0.0.1:6379/0   # the Redis server (redis:// or unix://)
      prefix: shadowdns      # key prefix: streams PREFIX:q:0..K-1, PREFIX:results, ...
      shards: 4              # K query streams, by the question's registered domain
      shard_set: []          # a worker reads only these shards; empty: all
      consumer: ""           # consumer name in the groups; empty: HOST-PID
      claim_timeout: 30      # seconds: pending entries idle this long are re-claimed
      max_deliveries: 3      # an entry delivered more often is counted failed
      stream_cap: 100000     # entries per query stream; the oldest undelivered are shed
      max_age: 0             # seconds: a query older when read is counted expired; 0: never
      intakes: 1             # intake nodes the collector waits for (--until-drained)
    live: auto               # auto: a dashboard on a TTY, log lines otherwise; dashboard|log|off
    log_interval: 5          # seconds between log lines
    judge: auto              # auto (the differ if present, else exact) | exact | differ
    differ:                  # how the differ confirms (docs/DIFFER.md)
      confirm: true          # re-query before a divergence counts
      requery_rate: 0        # confirmation re-queries per second, all together; 0: unlimited
      requery_burst: 0       # re-queries at once from the budget; 0: one second's worth
      requery_concurrency: 0 # re-queries in flight at once; 0: unlimited
      floor_requeries: 3     # re-queries of the primary reference for the noise floor
      floor_references: []   # references sampled for the noise floor; empty: all
      egress_swap: true      # ask egress twins (a managed primary reference, an in-process
                             # candidate, both with egress addresses)
      fresh_candidate: true  # one flushed candidate re-query to tell a nonce from a fault
      authority_sweep: true  # ask the zone's authoritative servers (RD=0) about a field
                             # still real after the noise floor
      authority_port: 53     # the port they are asked on (the lab's: its world's port)
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dns.exception
import dns.name
import dns.rdatatype
import yaml

from configfiles import ConfigError, read_yaml
from harness.exchange import DEFAULT_DOH_PATH, TRANSPORTS, Transport
from netpolicy import (
    LOOPBACK,
    PRODUCTION,
    AddressError,
    AddressPolicy,
    IPNetwork,
    Role,
    is_loopback,
)
from resolver.wasm import checked_specs

__all__ = [
    "ApiConfig",
    "BusConfig",
    "CandidateConfig",
    "ConfigError",
    "DispatcherConfig",
    "DifferSettings",
    "DnstapConfig",
    "HarnessConfig",
    "IntakeConfig",
    "PcapConfig",
    "QueryListConfig",
    "ReferenceConfig",
    "SamplerConfig",
    "StoreConfig",
    "TlsConfig",
    "UdpMirrorConfig",
    "config_from_mapping",
    "key_line",
    "load_config",
    "parse_hostport",
    "with_line",
]

Address = tuple[str, int]


@dataclass(frozen=True)
class TlsConfig:
    """A TLS server identity; with ``client_ca``, clients must show a certificate it signed."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True)
class DnstapConfig:
    """Frame Streams carrying dnstap: exactly one of ``socket``, ``tcp``, ``file``."""

    socket: Path | None = None
    tcp: Address | None = None
    file: Path | None = None
    max_frame: int = 65536  # bytes; a longer frame is garbage and ends its connection
    allow: tuple[IPNetwork, ...] = LOOPBACK  # TCP peers accepted (resolvers sending dnstap)
    tls: TlsConfig | None = None  # TCP only: Frame Streams inside TLS
    kind: Literal["dnstap"] = "dnstap"


@dataclass(frozen=True)
class UdpMirrorConfig:
    """Copies of client queries (dnsdist TeeAction, a packet broker) on a UDP port."""

    listen: Address
    allow: tuple[IPNetwork, ...] = LOOPBACK
    receive_buffer: int = 8 * 1024 * 1024
    client_from_ecs: bool = False  # the mirror's ECS option names the client; removed
    kind: Literal["udp_mirror"] = "udp_mirror"


@dataclass(frozen=True)
class PcapConfig:
    """A pcap or pcapng file; ``speed`` ``None`` replays as fast as the pipeline takes it."""

    file: Path
    speed: float | None = None
    port: int = 53
    kind: Literal["pcap"] = "pcap"


@dataclass(frozen=True)
class QueryListConfig:
    """``name type`` per line; each becomes a query with these flags."""

    file: Path
    rate: float = 0.0  # queries per second; 0: as fast as the pipeline takes them
    rd: bool = True
    cd: bool = False
    do: bool = True
    edns_payload: int | None = 1232  # None: no EDNS
    repeat: int = 1
    kind: Literal["query_list"] = "query_list"


IntakeConfig = DnstapConfig | UdpMirrorConfig | PcapConfig | QueryListConfig


@dataclass(frozen=True)
class SamplerConfig:
    probability: float = 1.0
    per_name: bool = True
    salt: str = ""
    dedup_window: float = 0.0
    qtypes: frozenset[int] = frozenset()
    suffixes: tuple[str, ...] = ()
    exclude_suffixes: tuple[str, ...] = ()
    exclude_clients: tuple[IPNetwork, ...] = ()
    adaptive: bool = True


@dataclass(frozen=True)
class CandidateConfig:
    """The resolver under test: in this process (``address`` None) or at an address."""

    name: str = "candidate"
    address: Address | None = None
    root_hints: Path | None = None
    trust_anchor: Path | None = None
    egress: str | None = None
    qname_minimisation: bool = True
    timeout: float = 5.0
    cache_mb: int = 64
    workers: int = 256
    validate: bool = True
    transport: Transport = "udp"  # how the candidate at ``address`` is asked
    doh_path: str = DEFAULT_DOH_PATH
    # WebAssembly plugins of the in-process candidate: (file, policy, argument), in order
    plugins: tuple[tuple[Path, str, str], ...] = ()


@dataclass(frozen=True)
class ReferenceConfig:
    """A reference: Unbound or kresd that the harness runs, or any resolver by address."""

    name: str
    kind: Literal["unbound", "kresd", "address"]
    listen: Address
    timeout: float = 5.0
    egress: str | None = None
    workdir: Path | None = None
    root_hints: Path | None = None
    trust_anchor: Path | None = None
    qname_minimisation: bool = True
    validate: bool = True
    cache_mb: int = 64
    transport: Transport = "udp"  # how it is asked: udp (tcp on TC), tcp, dot, doh
    doh_path: str = DEFAULT_DOH_PATH


@dataclass(frozen=True)
class DispatcherConfig:
    max_in_flight: int = 256
    target_qps: float = 0.0  # queries per second per target (token bucket); 0: no cap


@dataclass(frozen=True)
class StoreConfig:
    path: Path = Path("run/shadow/shadow.db")
    batch: int = 200
    commit_interval: float = 0.5
    max_age_days: float | None = None
    max_mb: float | None = None
    retention_interval: float = 60.0


@dataclass(frozen=True)
class BusConfig:
    """The ``bus:`` section (the harness over Redis Streams, docs/BUS.md)."""

    redis: str = "redis://127.0.0.1:6379/0"
    prefix: str = "shadowdns"
    shards: int = 4
    shard_set: tuple[int, ...] = ()
    consumer: str = ""
    claim_timeout: float = 30.0
    max_deliveries: int = 3
    stream_cap: int = 100_000
    max_age: float = 0.0
    intakes: int = 1


@dataclass(frozen=True)
class ApiConfig:
    listen: Address | None = None


@dataclass(frozen=True)
class DifferSettings:
    """The ``differ:`` section: how the differ confirms (see docs/DIFFER.md)."""

    confirm: bool = True
    requery_rate: float = 0.0
    requery_burst: int = 0
    requery_concurrency: int = 0
    floor_requeries: int = 3
    floor_references: tuple[str, ...] = ()
    egress_swap: bool = True
    fresh_candidate: bool = True
    authority_sweep: bool = True
    authority_port: int = 53


@dataclass(frozen=True)
class HarnessConfig:
    intakes: tuple[IntakeConfig, ...] = ()
    sampler: SamplerConfig = SamplerConfig()
    candidate: CandidateConfig = CandidateConfig()
    references: tuple[ReferenceConfig, ...] = ()
    dispatcher: DispatcherConfig = DispatcherConfig()
    store: StoreConfig = StoreConfig()
    api: ApiConfig = ApiConfig()
    bus: BusConfig = BusConfig()
    live: Literal["auto", "dashboard", "log", "off"] = "auto"
    log_interval: float = 5.0
    judge: Literal["auto", "exact", "differ"] = "auto"
    differ: DifferSettings = DifferSettings()
    duration: float = 0.0
    lab: Path | None = None
    run_dir: Path = Path("run/shadow")
    ignore_tc_only: bool = False
    source: str = field(default="<flags>", compare=False)
    policy: AddressPolicy = field(default=PRODUCTION, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the store's run record (paths and addresses as text)."""
        out: dict[str, Any] = _plain(self)
        out["policy"] = self.policy.mode
        return out


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# -- reading ------------------------------------------------------------------------------


class _Reader:
    """Typed access to one mapping of the config, naming ``source: key.path`` in errors."""

    def __init__(self, source: str, path: str, data: object, allowed: Sequence[str],
                 policy: AddressPolicy = PRODUCTION) -> None:
        self.source = source
        self.path = path
        self.policy = policy
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise self.error("", f"expected a mapping, got {_kind(data)}")
        self.data: Mapping[Any, Any] = data
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                raise self.error(str(key), "unknown key (expected one of: "
                                 + ", ".join(sorted(allowed)) + ")")

    def key(self, key: str) -> str:
        if not key:
            return self.path or "(top level)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, source=self.source, key=self.key(key))

    def policy_error(self, key: str, e: AddressError) -> ConfigError:
        """The address policy's ``KEY: what is wrong`` as a ConfigError for ``key`` (so that
        ``shadowdns run`` can name the flag that set it)."""
        return self.error(key, str(e).removeprefix(f"{self.key(key)}: "))

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.error(key, f"{value!r} is not true or false")
        return value

    def number(self, key: str, default: float, *, low: float | None = None,
               high: float | None = None, low_open: bool = False) -> float:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.error(key, f"{value!r} is not a number")
        out = float(value)
        if low is not None and (out < low or (low_open and out == low)):
            raise self.error(key, f"{value} must be {'>' if low_open else '>='} {low:g}")
        if high is not None and out > high:
            raise self.error(key, f"{value} must be <= {high:g}")
        return out

    def integer(self, key: str, default: int, *, low: int | None = None,
                high: int | None = None) -> int:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"{value!r} is not an integer")
        if low is not None and value < low:
            raise self.error(key, f"{value} must be >= {low}")
        if high is not None and value > high:
            raise self.error(key, f"{value} must be <= {high}")
        return value

    def text(self, key: str, default: str) -> str:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.error(key, f"{value!r} is not a string")
        return value

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.error(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def path_(self, key: str, default: Path | None = None) -> Path | None:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, str | Path) or not str(value):
            raise self.error(key, f"{value!r} is not a path")
        return Path(value)

    def address(self, key: str, default: Address | None = None, *,
                role: Role = "send") -> Address | None:
        """``ADDRESS:PORT`` (``[IPv6]:PORT``), accepted by the address policy."""
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.error(key, f"{value!r} is not ADDRESS:PORT")
        try:
            return self.policy.hostport(self.key(key), value, role=role)
        except AddressError as e:
            raise self.policy_error(key, e) from None

    def ip(self, key: str, *, role: Role = "source") -> str | None:
        """An address without port, accepted by the address policy."""
        if not self.has(key):
            return None
        try:
            return self.policy.address(self.key(key), self.data[key], role=role)
        except AddressError as e:
            raise self.policy_error(key, e) from None

    def networks(self, key: str) -> list[IPNetwork]:
        """A list of networks (or one), accepted by the address policy."""
        out = []
        for text in self.strings(key):
            try:
                out.append(self.policy.network(self.key(key), text))
            except AddressError as e:
                raise self.policy_error(key, e) from None
        return out

    def strings(self, key: str) -> list[str]:
        if not self.has(key):
            return []
        value = self.data[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise self.error(key, f"{value!r} is not a list of strings")
        return [str(v) for v in value]

    def sub(self, key: str, allowed: Sequence[str]) -> _Reader:
        return _Reader(self.source, self.key(key), self.data.get(key), allowed, self.policy)

    def items(self, key: str) -> list[tuple[str, object]]:
        if not self.has(key):
            return []
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_kind(value)}")
        return [(f"{self.key(key)}[{i}]", item) for i, item in enumerate(value)]


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def parse_hostport(text: str, policy: AddressPolicy = PRODUCTION) -> Address:
    """``"127.0.0.1:53"`` as ``("127.0.0.1", 53)`` (``"[::1]:53"`` as ``("::1", 53)``) if
    ``policy`` accepts the address; ``ValueError`` otherwise."""
    try:
        return policy.hostport("address", text)
    except AddressError as e:
        raise ValueError(str(e).removeprefix("address: ")) from None


def load_config(path: Path) -> HarnessConfig:
    """Read and check a YAML config file."""
    data, text = read_yaml(path)
    try:
        return config_from_mapping(data or {}, source=str(path))
    except ConfigError as e:
        raise with_line(e, text) from None


def with_line(error: ConfigError, text: str) -> ConfigError:
    """``error`` about a key of the YAML ``text`` as ``FILE:LINE: key: detail`` (the line of
    the key, or of the deepest part of its path that the file has)."""
    if error.source is None or error.key is None:
        return error
    line = key_line(text, error.key)
    if line is None:
        return error
    return ConfigError(error.detail, source=f"{error.source}:{line}", key=error.key)


def key_line(text: str, key: str) -> int | None:
    """The line (1-based) where ``key`` (``references[1].listen``) is written in ``text``."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for step in re.findall(r"\[\d+\]|[^.\[\]]+", key):
        if step.startswith("[") and isinstance(node, yaml.SequenceNode):
            index = int(step[1:-1])
            if index >= len(node.value):
                break
            node = node.value[index]
            line = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        else:
            break
    return line


_TOP = ("intake", "sampler", "candidate", "references", "dispatcher", "store", "api", "bus",
        "live", "log_interval", "judge", "differ", "duration", "lab", "run_dir",
        "ignore_tc_only")


def config_from_mapping(data: object, source: str = "<flags>", *,
                        policy: AddressPolicy | None = None) -> HarnessConfig:
    """Check a parsed config (YAML's mapping, or one built from flags).

    The address policy is lab mode (loopback only) when the config names a lab (``lab:``)
    or ``policy`` says so, production otherwise."""
    top = _Reader(source, "", data, _TOP)
    lab = top.path_("lab")
    if policy is None:
        policy = AddressPolicy.lab_mode(f"lab: {lab}") if lab is not None else PRODUCTION
    top.policy = policy
    intakes = tuple(_intake(source, path, item, policy) for path, item in top.items("intake"))
    references = tuple(_reference(source, path, item, policy)
                       for path, item in top.items("references"))
    names = [r.name for r in references]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"{name!r} is used twice", source=source, key=f"references[{i}].name")
    candidate = _candidate(top.sub("candidate", _CANDIDATE_KEYS))
    if candidate.name in names:
        raise ConfigError(f"{candidate.name!r} is also a reference", source=source,
                          key="candidate.name")
    return HarnessConfig(
        intakes=intakes,
        sampler=_sampler(top.sub("sampler", _SAMPLER_KEYS)),
        candidate=candidate,
        references=references,
        dispatcher=_dispatcher(top.sub("dispatcher", ("max_in_flight", "target_qps"))),
        store=_store(top.sub("store", _STORE_KEYS)),
        api=ApiConfig(listen=top.sub("api", ("listen",)).address("listen", role="bind")),
        bus=_bus(top.sub("bus", _BUS_KEYS)),
        live=_live(top),
        log_interval=top.number("log_interval", 5.0, low=0.1),
        judge=top.choice("judge", "auto", ("auto", "exact", "differ")),  # type: ignore[arg-type]
        differ=_differ(top.sub("differ", _DIFFER_KEYS), names),
        duration=top.number("duration", 0.0, low=0),
        lab=lab,
        run_dir=top.path_("run_dir", Path("run/shadow")) or Path("run/shadow"),
        ignore_tc_only=top.boolean("ignore_tc_only", False),
        source=source,
        policy=policy,
    )


_DIFFER_KEYS = ("confirm", "requery_rate", "requery_burst", "requery_concurrency",
                "floor_requeries", "floor_references", "egress_swap", "fresh_candidate",
                "authority_sweep", "authority_port")


def _differ(r: _Reader, references: Sequence[str]) -> DifferSettings:
    floor = tuple(r.strings("floor_references"))
    for i, name in enumerate(floor):
        if references and name not in references:
            raise r.error(f"floor_references[{i}]", f"{name!r} is not a reference (expected "
                          "one of: " + ", ".join(references) + ")")
    return DifferSettings(
        confirm=r.boolean("confirm", True),
        requery_rate=r.number("requery_rate", 0.0, low=0),
        requery_burst=r.integer("requery_burst", 0, low=0),
        requery_concurrency=r.integer("requery_concurrency", 0, low=0),
        floor_requeries=r.integer("floor_requeries", 3, low=1, high=32),
        floor_references=floor,
        egress_swap=r.boolean("egress_swap", True),
        fresh_candidate=r.boolean("fresh_candidate", True),
        authority_sweep=r.boolean("authority_sweep", True),
        authority_port=r.integer("authority_port", 53, low=1, high=65535),
    )


def _live(r: _Reader) -> Literal["auto", "dashboard", "log", "off"]:
    if r.raw("live") is False:  # YAML 1.1 reads a bare off as false
        return "off"
    return r.choice("live", "auto", ("auto", "dashboard", "log", "off"))  # type: ignore[return-value]


_INTAKE_KEYS = {
    "dnstap": ("kind", "socket", "tcp", "file", "max_frame", "allow", "tls"),
    "udp_mirror": ("kind", "listen", "allow", "receive_buffer", "client_from_ecs"),
    "pcap": ("kind", "file", "speed", "port"),
    "query_list": ("kind", "file", "rate", "rd", "cd", "do", "edns_payload", "repeat"),
}


def _intake(source: str, path: str, item: object, policy: AddressPolicy) -> IntakeConfig:
    if not isinstance(item, Mapping):
        raise ConfigError(f"expected a mapping with a kind, got {_kind(item)}", source=source,
                          key=path)
    kind = item.get("kind")
    if kind not in _INTAKE_KEYS:
        raise ConfigError(f"{kind!r} is not one of " + ", ".join(_INTAKE_KEYS), source=source,
                          key=f"{path}.kind")
    r = _Reader(source, path, item, _INTAKE_KEYS[str(kind)], policy)
    if kind == "dnstap":
        given = [k for k in ("socket", "tcp", "file") if r.has(k)]
        if len(given) != 1:
            raise r.error("", "a dnstap intake needs exactly one of socket, tcp, file"
                          + (f" (got {', '.join(given)})" if given else ""))
        tcp = r.address("tcp", role="bind")
        if r.has("allow") and tcp is None:
            raise r.error("allow", "only for a dnstap tcp intake (who may connect)")
        if r.has("tls") and tcp is None:
            raise r.error("tls", "only for a dnstap tcp intake")
        return DnstapConfig(socket=r.path_("socket"), tcp=tcp, file=r.path_("file"),
                            max_frame=r.integer("max_frame", 65536, low=64, high=16 << 20),
                            allow=_allow(r, tcp),
                            tls=_tls(r.sub("tls", ("cert", "key", "client_ca")))
                            if r.has("tls") else None)
    if kind == "udp_mirror":
        listen = r.address("listen", role="bind")
        if listen is None:
            raise r.error("listen", "required (ADDRESS:PORT)")
        return UdpMirrorConfig(listen=listen, allow=_allow(r, listen),
                               receive_buffer=r.integer("receive_buffer", 8 << 20, low=4096),
                               client_from_ecs=r.boolean("client_from_ecs", False))
    if kind == "pcap":
        file = r.path_("file")
        if file is None:
            raise r.error("file", "required")
        return PcapConfig(file=file, speed=_speed(r), port=r.integer("port", 53, low=1,
                                                                     high=65535))
    file = r.path_("file")
    if file is None:
        raise r.error("file", "required")
    payload: int | None = r.integer("edns_payload", 1232, low=0, high=65535)
    if r.has("edns_payload") and payload == 0:
        payload = None
    elif payload is not None and payload < 512:
        raise r.error("edns_payload", f"{payload} must be 0 (no EDNS) or 512..65535")
    return QueryListConfig(file=file, rate=r.number("rate", 0.0, low=0), rd=r.boolean("rd", True),
                           cd=r.boolean("cd", False), do=r.boolean("do", True),
                           edns_payload=payload, repeat=r.integer("repeat", 1, low=1))


def _allow(r: _Reader, listen: Address | None) -> tuple[IPNetwork, ...]:
    """The senders an intake listening on ``listen`` accepts: ``allow``, or loopback -- which
    is only implicit while the intake itself listens on loopback."""
    allow = r.networks("allow")
    if allow:
        return tuple(allow)
    if listen is not None and not is_loopback(ipaddress.ip_address(listen[0])):
        raise r.error("allow", f"required when listening on {listen[0]} (not loopback): name "
                      "the networks that may send")
    return LOOPBACK


def _tls(r: _Reader) -> TlsConfig:
    """Certificate, key and optional client CA: present, and loadable together."""
    import ssl

    cert, key, client_ca = r.path_("cert"), r.path_("key"), r.path_("client_ca")
    if cert is None or key is None:
        raise r.error("cert" if cert is None else "key", "required for TLS")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise r.error("cert", f"cannot load {cert} with {key}: "
                      f"{getattr(e, 'strerror', None) or e}") from None
    if client_ca is not None:
        try:
            context.load_verify_locations(client_ca)
        except (OSError, ssl.SSLError) as e:
            raise r.error("client_ca", f"cannot load {client_ca}: "
                          f"{getattr(e, 'strerror', None) or e}") from None
    return TlsConfig(cert=cert, key=key, client_ca=client_ca)


def _speed(r: _Reader) -> float | None:
    if not r.has("speed"):
        return None
    value = r.raw("speed")
    if value == "max":
        return None
    if isinstance(value, str) and value.endswith("x"):
        value = value[:-1]
    try:
        speed = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise r.error("speed", f"{value!r} is not a number or 'max'") from None
    if not speed > 0 or math.isinf(speed):
        raise r.error("speed", f"{value!r} must be > 0 (or 'max')")
    return speed


_SAMPLER_KEYS = ("probability", "per_name", "salt", "dedup_window", "qtypes", "suffixes",
                 "exclude_suffixes", "exclude_clients", "adaptive")


def _sampler(r: _Reader) -> SamplerConfig:
    qtypes: set[int] = set()
    for text in r.strings("qtypes"):
        try:
            qtypes.add(int(text) if text.isdigit() else int(dns.rdatatype.from_text(text)))
        except dns.exception.DNSException:
            raise r.error("qtypes", f"{text!r} is not a DNS record type") from None
    return SamplerConfig(
        probability=r.number("probability", 1.0, low=0, high=1),
        per_name=r.boolean("per_name", True),
        salt=r.text("salt", ""),
        dedup_window=r.number("dedup_window", 0.0, low=0),
        qtypes=frozenset(qtypes),
        suffixes=tuple(_names(r, "suffixes")),
        exclude_suffixes=tuple(_names(r, "exclude_suffixes")),
        exclude_clients=tuple(r.networks("exclude_clients")),
        adaptive=r.boolean("adaptive", True),
    )


def _names(r: _Reader, key: str) -> list[str]:
    out = []
    for text in r.strings(key):
        try:
            out.append(dns.name.from_text(text).to_text().lower())
        except dns.exception.DNSException:
            raise r.error(key, f"{text!r} is not a domain name") from None
    return out


_CANDIDATE_KEYS = ("name", "address", "root_hints", "trust_anchor", "egress",
                   "qname_minimisation", "timeout", "cache_mb", "workers", "validate",
                   "transport", "doh_path", "plugins")


def _transport(r: _Reader, managed: str | None) -> tuple[Transport, str]:
    """The ``transport`` and ``doh_path`` keys; ``managed`` names what cannot take DoT/DoH."""
    transport = r.choice("transport", "udp", TRANSPORTS)
    if managed is not None and transport not in ("udp", "tcp"):
        raise r.error("transport", f"{transport}: {managed} is asked over udp or tcp only")
    path = r.text("doh_path", DEFAULT_DOH_PATH)
    if not path.startswith("/") or "?" in path:
        raise r.error("doh_path", f"{path!r}: expected /PATH without a query")
    return transport, path  # type: ignore[return-value]


def _candidate(r: _Reader) -> CandidateConfig:
    transport, doh_path = _transport(
        r, None if r.has("address") else "the in-process candidate (give candidate.address)")
    return CandidateConfig(
        transport=transport, doh_path=doh_path,
        name=_target_name(r, "candidate"),
        address=r.address("address"),
        root_hints=r.path_("root_hints"),
        trust_anchor=r.path_("trust_anchor"),
        egress=r.ip("egress"),
        qname_minimisation=r.boolean("qname_minimisation", True),
        timeout=r.number("timeout", 5.0, low=0, low_open=True),
        cache_mb=r.integer("cache_mb", 64, low=1),
        workers=r.integer("workers", 256, low=1),
        validate=r.boolean("validate", True),
        plugins=_plugins(r),
    )


def _plugins(r: _Reader) -> tuple[tuple[Path, str, str], ...]:
    """``candidate.plugins``: a list of ``FILE[:open|closed[:ARG]]`` (as ``resolver serve
    --plugin``), for the in-process candidate only."""
    if not r.has("plugins"):
        return ()
    if r.has("address"):
        raise r.error("plugins", "a candidate at an address runs its own plugins (give them "
                                 "to its resolver serve --plugin)")
    try:
        return checked_specs(r.strings("plugins"), "plugin")
    except ValueError as e:
        raise r.error("plugins", str(e)) from None


def _target_name(r: _Reader, default: str | None) -> str:
    if default is None and not r.has("name"):
        raise r.error("name", "required")
    name = r.text("name", default or "")
    if not name or not all(c.isalnum() or c in "-_.@" for c in name):
        raise r.error("name", f"{name!r}: use letters, digits and -_.@")
    return name


_REFERENCE_KEYS = ("name", "kind", "listen", "timeout", "egress", "workdir", "root_hints",
                   "trust_anchor", "qname_minimisation", "validate", "cache_mb", "transport",
                   "doh_path")


def _reference(source: str, path: str, item: object, policy: AddressPolicy) -> ReferenceConfig:
    r = _Reader(source, path, item, _REFERENCE_KEYS, policy)
    kind = r.choice("kind", "", ("unbound", "kresd", "address")) if r.has("kind") else None
    if kind is None:
        raise r.error("kind", "required (unbound, kresd or address)")
    listen = r.address("listen")  # the harness sends there: never 0.0.0.0 or ::
    if listen is None:
        raise r.error("listen", "required (ADDRESS:PORT)")
    transport, doh_path = _transport(r, None if kind == "address" else f"a managed {kind}")
    return ReferenceConfig(
        transport=transport, doh_path=doh_path,
        name=_target_name(r, kind if kind != "address" else None),
        kind=kind,  # type: ignore[arg-type]
        listen=listen,
        timeout=r.number("timeout", 5.0, low=0, low_open=True),
        egress=r.ip("egress"),
        workdir=r.path_("workdir"),
        root_hints=r.path_("root_hints"),
        trust_anchor=r.path_("trust_anchor"),
        qname_minimisation=r.boolean("qname_minimisation", True),
        validate=r.boolean("validate", True),
        cache_mb=r.integer("cache_mb", 64, low=1),
    )


def _dispatcher(r: _Reader) -> DispatcherConfig:
    return DispatcherConfig(max_in_flight=r.integer("max_in_flight", 256, low=1, high=60000),
                            target_qps=r.number("target_qps", 0.0, low=0))


_BUS_KEYS = ("redis", "prefix", "shards", "shard_set", "consumer", "claim_timeout",
             "max_deliveries", "stream_cap", "max_age", "intakes")


def _bus(r: _Reader) -> BusConfig:
    url = r.text("redis", BusConfig.redis)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise r.error("redis", f"{url!r} is not a redis://, rediss:// or unix:// URL")
    prefix = r.text("prefix", BusConfig.prefix)
    if not prefix or any(c.isspace() for c in prefix):
        raise r.error("prefix", f"{prefix!r} must be non-empty, without spaces")
    shards = r.integer("shards", BusConfig.shards, low=1, high=4096)
    shard_set = []
    for i, text in enumerate(r.strings("shard_set")):
        if not text.isdigit() or int(text) >= shards:
            raise r.error(f"shard_set[{i}]", f"{text!r} is not a shard number below {shards}")
        shard_set.append(int(text))
    return BusConfig(
        redis=url, prefix=prefix, shards=shards, shard_set=tuple(sorted(set(shard_set))),
        consumer=r.text("consumer", ""),
        claim_timeout=r.number("claim_timeout", BusConfig.claim_timeout, low=0, low_open=True),
        max_deliveries=r.integer("max_deliveries", BusConfig.max_deliveries, low=1),
        stream_cap=r.integer("stream_cap", BusConfig.stream_cap, low=1),
        max_age=r.number("max_age", 0.0, low=0),
        intakes=r.integer("intakes", 1, low=1),
    )


_STORE_KEYS = ("path", "batch", "commit_interval", "max_age_days", "max_mb",
               "retention_interval")


def _store(r: _Reader) -> StoreConfig:
    return StoreConfig(
        path=r.path_("path", Path("run/shadow/shadow.db")) or Path("run/shadow/shadow.db"),
        batch=r.integer("batch", 200, low=1),
        commit_interval=r.number("commit_interval", 0.5, low=0, low_open=True),
        max_age_days=r.number("max_age_days", 0, low=0, low_open=True)
        if r.has("max_age_days") else None,
        max_mb=r.number("max_mb", 0, low=0, low_open=True) if r.has("max_mb") else None,
        retention_interval=r.number("retention_interval", 60.0, low=0, low_open=True),
    )
