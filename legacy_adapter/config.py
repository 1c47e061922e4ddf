"""The neutral description of a reference resolver run: :class:`ReferenceSpec`.

One spec says *what* we want (where to listen, which root servers and trust
anchors, QNAME minimisation, where to send dnstap, where to keep files); each
implementation in :mod:`legacy_adapter.implementations` renders it into its own
configuration. Validation happens here, once: every address is checked by the
spec's :class:`netpolicy.AddressPolicy` (production: any IPv4/IPv6 address; lab:
127.0.0.0/8 and ::1 only), and a bad field raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import dns.exception
import dns.name

from legacy_adapter.errors import LabFileError
from legacy_adapter.labfiles import parse_trust_anchor, read_root_hints, read_trust_anchors
from netpolicy import PRODUCTION, AddressPolicy, format_hostport

__all__ = ["KINDS", "Kind", "ReferenceSpec"]

Kind = Literal["unbound", "kresd"]
KINDS: tuple[Kind, ...] = ("unbound", "kresd")

# sun_path is 108 bytes on Linux, including the terminating NUL.
UNIX_SOCKET_PATH_MAX = 107
_IDENTITY = re.compile(r"[A-Za-z0-9._@:-]{1,64}")
# Characters that would break out of a quoted Unbound value or a config line.
_UNSAFE_IN_PATH = ('"', "\n", "\r", "\0")


def _check_path(field_name: str, path: Path, *, unix_socket: bool = False) -> None:
    text = str(path)
    for char in _UNSAFE_IN_PATH:
        if char in text:
            raise ValueError(f"{field_name}: path {text!r} contains {char!r}")
    if unix_socket and len(text.encode()) > UNIX_SOCKET_PATH_MAX:
        raise ValueError(
            f"{field_name}: {text} is {len(text.encode())} bytes long; a unix socket path "
            f"may have at most {UNIX_SOCKET_PATH_MAX}"
        )


@dataclass(frozen=True)
class ReferenceSpec:
    """What one reference resolver run should look like, independent of the software.

    :param kind: ``"unbound"`` or ``"kresd"``.
    :param listen: address to answer clients on (UDP and TCP), IPv4 or IPv6.
    :param port: port to answer clients on.
    :param workdir: per-run directory for the config, log, pidfile, control socket
        and cache; created on start. Made absolute.
    :param root_hints: ``(NS name, address)`` pairs for the root; at least one,
        every address accepted by ``address_policy``.
    :param trust_anchors: DS or DNSKEY records in presentation format, for example
        ``". 3600 IN DS 12345 13 2 ABCD..."``; needed when ``validate`` is true.
    :param validate: DNSSEC validation on (with ``trust_anchors``) or off.
    :param qname_minimisation: RFC 9156 QNAME minimisation on or off.
    :param outgoing_address: source address for queries to authorities, so
        two references can be told apart by the lab; ``None`` lets the kernel pick.
    :param dnstap_socket: unix socket of a dnstap collector that receives the
        client query and response messages; it must exist before the start.
    :param cache_size_mb: total cache size in MiB.
    :param threads: worker threads (Unbound only; kresd runs one process here).
    :param identity: name sent as dnstap identity and shown in logs; defaults to
        ``"<kind>@<listen>:<port>"``.
    :param unblock_zones: special-use names the resolver would answer itself
        (RFC 6761, such as ``test.``) that should be resolved through the lab.
    :param binary: path of the resolver program, instead of looking it up.
    :param distribution_root: use the distribution's root hints (compiled into the
        resolver) and root trust anchor (Debian's dns-root-data,
        ``/usr/share/dns/root.key``) instead of ``root_hints`` and ``trust_anchors``, which
        must then be empty: a reference on the real internet, never on the lab.
    :param ip6: ask IPv6 authorities too (Unbound ``do-ip6``, kresd ``net.ipv6``); the lab
        is IPv4 only.
    :param tls_port: also serve DNS over TLS (RFC 7858) on ``listen:tls_port`` (Unbound's
        ``tls-port``; Unbound only here).
    :param https_port: also serve DNS over HTTPS (RFC 8484, HTTP/2) on ``listen:https_port``
        at ``http_endpoint`` (Unbound's ``https-port``, built with nghttp2 on Debian).
    :param tls_cert: PEM certificate chain for ``tls_port``/``https_port``; needed with them.
    :param tls_key: its PEM private key.
    :param address_policy: which addresses are allowed (:data:`netpolicy.PRODUCTION`: any;
        the lab, tests and benchmarks pass a lab policy: loopback only).
    """

    kind: Kind
    listen: str
    port: int
    workdir: Path
    root_hints: tuple[tuple[str, str], ...]
    trust_anchors: tuple[str, ...] = ()
    validate: bool = True
    qname_minimisation: bool = True
    outgoing_address: str | None = None
    dnstap_socket: Path | None = None
    cache_size_mb: int = 64
    threads: int = 1
    identity: str = ""
    unblock_zones: tuple[str, ...] = ()
    binary: Path | None = field(default=None, compare=False)
    distribution_root: bool = False
    ip6: bool = False
    tls_port: int | None = None
    https_port: int | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    http_endpoint: str = "/dns-query"
    address_policy: AddressPolicy = field(default=PRODUCTION, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        policy = self.address_policy
        self._set("listen", policy.address("listen", self.listen, role="bind"))
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValueError(f"port: {self.port!r} is not an integer")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port: {self.port} is outside 1..65535")
        if self.outgoing_address is not None:
            self._set("outgoing_address", policy.address("outgoing_address",
                                                         self.outgoing_address, role="source"))
        self._check_tls()
        self._set("workdir", Path(self.workdir).absolute())
        _check_path("workdir", self.workdir)
        # The control socket lives in the workdir.
        _check_path("workdir", self.workdir / "control.sock", unix_socket=True)
        if self.dnstap_socket is not None:
            self._set("dnstap_socket", Path(self.dnstap_socket).absolute())
            _check_path("dnstap_socket", Path(self.dnstap_socket), unix_socket=True)
        if self.binary is not None:
            self._set("binary", Path(self.binary))
        if self.distribution_root:
            for name in ("root_hints", "trust_anchors"):
                if getattr(self, name):
                    raise ValueError(f"{name}: given with distribution_root=True (the "
                                     "distribution's root hints and anchor are used)")
        else:
            self._set("root_hints", self._checked_hints())
            self._set("trust_anchors", self._checked_anchors())
        if self.validate and not self.trust_anchors and not self.distribution_root:
            raise ValueError(
                "trust_anchors: validate=True needs at least one DS or DNSKEY trust anchor "
                "(or pass validate=False)"
            )
        if self.cache_size_mb < 1:
            raise ValueError(f"cache_size_mb: {self.cache_size_mb} is below 1")
        if self.threads < 1:
            raise ValueError(f"threads: {self.threads} is below 1")
        if self.kind == "kresd" and self.threads != 1:
            raise ValueError("threads: kresd is run as one single-threaded process here")
        if not self.identity:
            self._set("identity", f"{self.kind}@{self.listen}:{self.port}")
        if not _IDENTITY.fullmatch(self.identity):
            raise ValueError(
                f"identity: {self.identity!r} must be 1-64 characters of A-Z a-z 0-9 . _ @ : -"
            )
        self._set(
            "unblock_zones", tuple(self._absolute("unblock_zones", z) for z in self.unblock_zones)
        )

    def _check_tls(self) -> None:
        ports = {"port": self.port}
        for name in ("tls_port", "https_port"):
            value = getattr(self, name)
            if value is None:
                continue
            if self.kind != "unbound":
                raise ValueError(f"{name}: DoT and DoH references are Unbound only here")
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise ValueError(f"{name}: {value!r} is not a port 1..65535")
            clash = [k for k, v in ports.items() if v == value]
            if clash:
                raise ValueError(f"{name}: {value} is already {clash[0]}")
            ports[name] = value
        if len(ports) > 1:
            for name in ("tls_cert", "tls_key"):
                value = getattr(self, name)
                if value is None:
                    raise ValueError(f"{name}: needed with tls_port or https_port")
                self._set(name, Path(value).absolute())
                if not getattr(self, name).is_file():
                    raise ValueError(f"{name}: {getattr(self, name)} does not exist")
        if not self.http_endpoint.startswith("/") or '"' in self.http_endpoint:
            raise ValueError(f"http_endpoint: {self.http_endpoint!r} is not a /PATH")

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @staticmethod
    def _absolute(field_name: str, name: str) -> str:
        try:
            return dns.name.from_text(name).to_text()
        except dns.exception.DNSException as error:
            raise ValueError(f"{field_name}: {name!r} is not a domain name ({error})") from None

    def _checked_hints(self) -> tuple[tuple[str, str], ...]:
        if not self.root_hints:
            raise ValueError(
                "root_hints: at least one (name, address) pair is needed; without hints "
                "the resolver would use the real root servers"
            )
        checked: list[tuple[str, str]] = []
        for index, pair in enumerate(self.root_hints):
            if len(pair) != 2:
                raise ValueError(f"root_hints[{index}]: {pair!r} is not a (name, address) pair")
            name, address = pair
            checked.append(
                (
                    self._absolute(f"root_hints[{index}]", name),
                    self.address_policy.address(f"root_hints[{index}]", address),
                )
            )
        return tuple(checked)

    def _checked_anchors(self) -> tuple[str, ...]:
        checked: list[str] = []
        for index, text in enumerate(self.trust_anchors):
            try:
                checked.append(parse_trust_anchor(text).to_text())
            except LabFileError as error:
                raise ValueError(f"trust_anchors[{index}]: {error.problem}") from None
        return tuple(checked)

    @classmethod
    def from_lab_files(
        cls,
        *,
        kind: Kind,
        listen: str,
        port: int,
        workdir: Path,
        root_hints_file: Path,
        trust_anchor_file: Path | None = None,
        **options: object,
    ) -> ReferenceSpec:
        """Build a spec from the lab's ``root.hints`` and ``trust-anchor.ds`` files.

        Without ``trust_anchor_file`` validation is off unless ``options`` say
        otherwise. Other keyword arguments are spec fields.
        """
        policy = options.get("address_policy", PRODUCTION)
        if not isinstance(policy, AddressPolicy):
            raise TypeError(f"address_policy: {policy!r} is not an AddressPolicy")
        hints = read_root_hints(root_hints_file, policy)
        anchors = read_trust_anchors(trust_anchor_file) if trust_anchor_file else ()
        options.setdefault("validate", bool(anchors))
        return cls(
            kind=kind,
            listen=listen,
            port=port,
            workdir=workdir,
            root_hints=hints,
            trust_anchors=anchors,
            **options,  # type: ignore[arg-type]
        )

    @property
    def address(self) -> str:
        """``listen:port``, as used in messages."""
        return format_hostport(self.listen, self.port)

    @property
    def uses_ipv6(self) -> bool:
        """Whether the spec names an IPv6 address (listen, egress or a root server): the
        resolver then needs its IPv6 side on."""
        addresses = [self.listen, self.outgoing_address or "", *(a for _, a in self.root_hints)]
        return any(":" in a for a in addresses)
