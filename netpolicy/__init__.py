"""Which addresses shadowdns may bind to and send to: one policy for every package.

Two modes:

* **production** (the product on a real network): any IPv4 or IPv6 address the operator
  configures is accepted for listeners, egress, references, intakes, root hints and mirror
  allow-lists; only what cannot work is refused (``0.0.0.0``/``::`` as a destination, a
  multicast address anywhere).
* **lab** (``--lab``, a ``lab:`` key, lab worlds, tests, benchmarks): loopback only,
  ``127.0.0.0/8`` and ``::1``; the error names the key and what put the run in lab mode.

Every check raises :class:`AddressError` (a ``ValueError``) whose text starts with the key
the user wrote, so each package can prefix its file name and print one line.  This package
imports nothing of ours: ``resolver``, ``lab``, ``legacy_adapter`` and ``harness`` all use it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DOCUMENTATION",
    "LAB",
    "LOOPBACK",
    "PRODUCTION",
    "AddressError",
    "AddressPolicy",
    "IPAddress",
    "IPNetwork",
    "Networks",
    "Role",
    "format_hostport",
    "is_documentation",
    "is_loopback",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Role = Literal["bind", "send", "source"]

LOOPBACK: tuple[IPNetwork, ...] = (ipaddress.IPv4Network("127.0.0.0/8"),
                                   ipaddress.IPv6Network("::1/128"))
"""What lab mode allows."""

DOCUMENTATION: tuple[IPNetwork, ...] = (
    ipaddress.IPv4Network("192.0.2.0/24"),  # RFC 5737 TEST-NET-1
    ipaddress.IPv4Network("198.51.100.0/24"),  # TEST-NET-2
    ipaddress.IPv4Network("203.0.113.0/24"),  # TEST-NET-3
    ipaddress.IPv6Network("2001:db8::/32"),  # RFC 3849
)
"""Ranges reserved for examples: valid in a config, never answered on the internet."""


class AddressError(ValueError):
    """A refused address; the text is ``"KEY: what is wrong"``."""


def is_loopback(ip: IPAddress | IPNetwork | str) -> bool:
    """Whether ``ip`` (an address, a network, or the text of an address) is loopback:
    ``127.0.0.0/8`` or ``::1``; the one check every package uses.  Text that is no address
    is not loopback."""
    if isinstance(ip, str):
        try:
            ip = ipaddress.ip_address(ip)
        except ValueError:
            return False
    if isinstance(ip, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return any(ip.version == n.version and ip.subnet_of(n)  # type: ignore[arg-type]
                   for n in LOOPBACK)
    return any(ip in n for n in LOOPBACK)


def is_documentation(ip: IPAddress) -> bool:
    return any(ip in n for n in DOCUMENTATION)


def format_hostport(host: str, port: int) -> str:
    """``127.0.0.1:53`` or ``[::1]:53``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class AddressPolicy:
    """``lab``: loopback only; ``because`` names what chose lab mode (``"lab: run/lab"``,
    ``"--lab"``, ``"the lab world"``), for the error text."""

    lab: bool
    because: str = ""

    @classmethod
    def lab_mode(cls, because: str) -> AddressPolicy:
        return cls(True, because)

    @property
    def mode(self) -> str:
        return "lab" if self.lab else "production"

    def _refuse(self, key: str, text: str) -> AddressError:
        why = f" (lab mode, set by {self.because})" if self.because else " (lab mode)"
        return AddressError(f"{key}: {text} is outside 127.0.0.0/8 and ::1: loopback only{why}")

    def ip(self, key: str, text: object, *, role: Role = "send") -> IPAddress:
        """The address ``text`` if this policy lets it be used as ``role``."""
        value = str(text).strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            raise AddressError(f"{key}: {str(text)!r} is not an IPv4 or IPv6 address") from None
        if self.lab and not is_loopback(ip):
            raise self._refuse(key, value)
        if ip.is_multicast:
            raise AddressError(f"{key}: {ip} is a multicast address")
        if ip.is_unspecified and role != "bind":
            raise AddressError(f"{key}: {ip} is unspecified: name the address to "
                               + ("send to" if role == "send" else "send from"))
        return ip

    def address(self, key: str, text: object, *, role: Role = "send") -> str:
        """Like :meth:`ip`, as normalised text."""
        return str(self.ip(key, text, role=role))

    def network(self, key: str, text: object) -> IPNetwork:
        """A network (``10.0.0.0/8``, ``2001:db8::/32``, a bare address is a /32 or /128)."""
        try:
            net = ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            raise AddressError(f"{key}: {str(text)!r} is not an IPv4 or IPv6 network") from None
        if self.lab and not is_loopback(net):
            raise self._refuse(key, str(net))
        return net

    def hostport(self, key: str, text: object, *, role: Role = "send") -> tuple[str, int]:
        """``"ADDR:PORT"`` or ``"[IPv6]:PORT"`` as ``(address, port)``."""
        value = str(text).strip()
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise AddressError(f"{key}: {value!r} is not ADDRESS:PORT (port 1..65535)")
        if ":" in host and not (host.startswith("[") and host.endswith("]")):
            raise AddressError(f"{key}: {value!r}: write an IPv6 address as [ADDRESS]:PORT")
        return self.address(key, host, role=role), int(port)


class Networks:
    """Is a client address (text, as a socket or a capture gives it) in one of ``networks``?
    Answers are remembered per address (a bounded memo: clients repeat)."""

    MEMO = 65536

    def __init__(self, networks: tuple[IPNetwork, ...]) -> None:
        self.networks = networks
        self._memo: dict[str, bool] = {}

    def __contains__(self, host: object) -> bool:
        key = str(host)
        verdict = self._memo.get(key)
        if verdict is None:
            try:
                address = ipaddress.ip_address(key)
            except ValueError:
                return False
            verdict = any(address in net for net in self.networks)
            if len(self._memo) >= self.MEMO:
                self._memo.clear()
            self._memo[key] = verdict
        return verdict


PRODUCTION = AddressPolicy(False)
LAB = AddressPolicy(True)
