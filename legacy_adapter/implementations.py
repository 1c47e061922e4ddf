"""The reference implementations: how to configure and launch each one.

An :class:`Implementation` turns one :class:`~legacy_adapter.config.ReferenceSpec`
into the files its software reads (:meth:`~Implementation.render_files`), the
command that runs it in the foreground (:meth:`~Implementation.command_line`)
and a :class:`~legacy_adapter.control.Controller` for its control channel. It
never starts anything itself: :class:`~legacy_adapter.process.ManagedResolver`
does. Templates live in ``legacy_adapter/templates/``.

Known traps handled here (see the shared REFERENCES notes):

* Unbound refuses 127/8 authorities unless ``do-not-query-localhost: no``, and
  falls back to the real roots without ``root-hints``;
* kresd loads the real root key before the config (``trust_anchors.remove('.')``)
  and drops 127/8 glue unless every request has the ``ALLOW_LOCAL`` flag;
* both answer some RFC 6761 names themselves (``unblock_zones`` lifts that).
"""

from __future__ import annotations

import abc
import asyncio
import os
import re
import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from string import Template
from typing import ClassVar

from legacy_adapter import lua
from legacy_adapter.config import ReferenceSpec
from legacy_adapter.control import Controller, KresdControl, UnboundControl
from legacy_adapter.errors import BinaryMissing
from netpolicy import is_loopback

__all__ = [
    "IMPLEMENTATIONS",
    "Implementation",
    "KnotResolver",
    "Unbound",
    "find_program",
    "implementation_for",
]

# Debian keeps daemons in sbin, which is not on every user's PATH.
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
VERSION_TIMEOUT = 10.0
# The root trust anchor Debian's dns-root-data installs (unbound recommends it, knot-resolver
# depends on it): what a reference with ``distribution_root`` validates from.
DISTRIBUTION_ROOT_KEY = Path("/usr/share/dns/root.key")
# The lab's root for kresd: its servers, never the built-in list, and no real root key.
KRESD_LAB_ROOT = """-- Root servers come from the lab, never from the built-in list.
modules.load('hints > iterate')
hints.root({{
{hints}
}})

-- kresd installs the real root key before reading this file: drop it.
trust_anchors.remove('.')"""


def find_program(name: str, debian_package: str, override: Path | None = None) -> Path:
    """Locate a program: ``override`` if given, else ``PATH`` plus the sbin directories.

    Raises :class:`BinaryMissing` naming the Debian package to install.
    """
    if override is not None:
        if override.is_file() and os.access(override, os.X_OK):
            return override
        raise BinaryMissing(name, debian_package, f"{override} is not an executable file")
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN])
    found = shutil.which(name, path=search)
    if found is None:
        raise BinaryMissing(name, debian_package, f"not on PATH nor in {', '.join(_SBIN)}")
    return Path(found)


def _template(name: str) -> Template:
    text = resources.files("legacy_adapter").joinpath("templates", name).read_text("utf-8")
    return Template(text)


class Implementation(abc.ABC):
    """How to run one kind of reference resolver from a :class:`ReferenceSpec`."""

    kind: ClassVar[str]
    program: ClassVar[str]
    debian_package: ClassVar[str]
    template: ClassVar[str]

    def __init__(self, spec: ReferenceSpec) -> None:
        if spec.kind != self.kind:
            raise ValueError(f"kind: {type(self).__name__} runs {self.kind!r}, not {spec.kind!r}")
        self.spec = spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec.identity})"

    # Files of a run, all inside the spec's workdir.

    @property
    def config_path(self) -> Path:
        return self.spec.workdir / f"{self.kind}.conf"

    @property
    def log_path(self) -> Path:
        """Everything the process writes (stdout, stderr and its own log file)."""
        return self.spec.workdir / f"{self.kind}.log"

    @property
    def control_socket(self) -> Path:
        return self.spec.workdir / "control.sock"

    def binary(self) -> Path:
        """The resolver program; raises :class:`BinaryMissing` if it is not installed."""
        return find_program(self.program, self.debian_package, self.spec.binary)

    def render_config(self) -> str:
        """The main configuration file's text."""
        return _template(self.template).substitute(self.template_values())

    def render_files(self) -> dict[str, str]:
        """Every file the run needs, by name relative to the workdir."""
        return {self.config_path.name: self.render_config()}

    def write_files(self) -> None:
        """Create the workdir and write :meth:`render_files` into it."""
        self.spec.workdir.mkdir(parents=True, exist_ok=True)
        for name, text in self.render_files().items():
            (self.spec.workdir / name).write_text(text, encoding="utf-8")

    async def version(self) -> str:
        """``"<kind> <version>"`` as the installed program reports it."""
        argv = [str(self.binary()), *self.version_arguments()]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), VERSION_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        text = output.decode("utf-8", errors="replace")
        match = re.search(r"[Vv]ersion:?\s+(\S+)", text)
        if match:
            return f"{self.kind} {match.group(1)}"
        first = text.strip().splitlines()[0] if text.strip() else "(no output)"
        return f"{self.kind} {first}"

    @abc.abstractmethod
    def template_values(self) -> Mapping[str, object]:
        """Values for the config template's ``$placeholders``."""

    @abc.abstractmethod
    def command_line(self) -> list[str]:
        """The argv that runs the resolver in the foreground with our config."""

    @abc.abstractmethod
    def version_arguments(self) -> list[str]:
        """Arguments that make the program print its version and exit."""

    @abc.abstractmethod
    def controller(self) -> Controller:
        """A controller for the running process."""


class Unbound(Implementation):
    """NLnet Labs Unbound, run as ``unbound -d -c <workdir>/unbound.conf``."""

    kind = "unbound"
    program = "unbound"
    debian_package = "unbound"
    template = "unbound.conf"
    control_program = "unbound-control"

    @property
    def root_hints_path(self) -> Path:
        return self.spec.workdir / "root.hints"

    @property
    def trust_anchor_path(self) -> Path:
        return self.spec.workdir / "trust-anchors.ds"

    @property
    def pid_path(self) -> Path:
        return self.spec.workdir / "unbound.pid"

    def render_root_hints(self) -> str:
        servers = list(dict.fromkeys(name for name, _ in self.spec.root_hints))
        lines = [f".\t3600000\tIN\tNS\t{name}" for name in servers]
        lines += [f"{name}\t3600000\tIN\tA\t{address}" for name, address in self.spec.root_hints]
        return "\n".join(lines) + "\n"

    def render_trust_anchors(self) -> str:
        return "\n".join(self.spec.trust_anchors) + "\n"

    def render_files(self) -> dict[str, str]:
        files = super().render_files()
        if self.spec.distribution_root:
            return files  # Unbound's compiled-in hints, dns-root-data's anchor
        files[self.root_hints_path.name] = self.render_root_hints()
        if self.spec.validate:
            files[self.trust_anchor_path.name] = self.render_trust_anchors()
        return files

    def template_values(self) -> Mapping[str, object]:
        spec = self.spec
        outgoing = ""
        if spec.outgoing_address is not None:
            outgoing = f"    outgoing-interface: {spec.outgoing_address}"
        # Who may ask: this host (loopback, and the listen address itself, the source a
        # local harness uses to reach it).
        allowed = ["127.0.0.0/8", "::1"]
        if not is_loopback(spec.listen):
            allowed.append(spec.listen)
        access_control = "\n".join(f"    access-control: {net} allow" for net in allowed)
        trust_anchor = ""
        anchor_file = DISTRIBUTION_ROOT_KEY if spec.distribution_root else self.trust_anchor_path
        if spec.validate:
            trust_anchor = f'    trust-anchor-file: "{anchor_file}"'
        root_hints = f'    root-hints: "{self.root_hints_path}"'
        if spec.distribution_root:
            root_hints = "    # root hints: Unbound's own (compiled in)"
        local_zones = "\n".join(
            f'    local-zone: "{zone}" nodefault' for zone in spec.unblock_zones
        )
        dnstap = ""
        if spec.dnstap_socket is not None:
            dnstap = "\n".join(
                [
                    "dnstap:",
                    "    dnstap-enable: yes",
                    f'    dnstap-socket-path: "{spec.dnstap_socket}"',
                    "    dnstap-send-identity: yes",
                    f'    dnstap-identity: "{spec.identity}"',
                    "    dnstap-send-version: yes",
                    "    dnstap-log-client-query-messages: yes",
                    "    dnstap-log-client-response-messages: yes",
                ]
            )
        msg_cache_mb = max(1, spec.cache_size_mb // 3)
        tls: list[str] = []
        for option, value in (("tls-port", spec.tls_port), ("https-port", spec.https_port)):
            if value is not None:
                tls += [f"    interface: {spec.listen}@{value}", f"    {option}: {value}"]
        if tls:
            tls += [f'    tls-service-key: "{spec.tls_key}"',
                    f'    tls-service-pem: "{spec.tls_cert}"',
                    f'    http-endpoint: "{spec.http_endpoint}"',
                    "    http-notls-downstream: no"]
        return {
            "tls": "\n".join(tls) if tls else "    # no DoT/DoH ports",
            "identity": spec.identity,
            "listen": spec.listen,
            "port": spec.port,
            "threads": spec.threads,
            "workdir": spec.workdir,
            "logfile": self.log_path,
            "pidfile": self.pid_path,
            "root_hints": root_hints,
            "outgoing": outgoing,
            # IPv6 authorities asked for (ip6), or an IPv6 address in the spec
            "do_ip6": "yes" if spec.ip6 or spec.uses_ipv6 else "no",
            "access_control": access_control,
            "module_config": "validator iterator" if spec.validate else "iterator",
            "trust_anchor": trust_anchor,
            "qname_minimisation": "yes" if spec.qname_minimisation else "no",
            "msg_cache_mb": msg_cache_mb,
            "rrset_cache_mb": max(1, spec.cache_size_mb - msg_cache_mb),
            "local_zones": local_zones,
            "control_socket": self.control_socket,
            "dnstap": dnstap,
        }

    def command_line(self) -> list[str]:
        return [str(self.binary()), "-d", "-c", str(self.config_path)]

    def version_arguments(self) -> list[str]:
        return ["-V"]

    def control_binary(self) -> Path:
        """``unbound-control``: next to an overridden binary if there is one, else on PATH."""
        if self.spec.binary is not None:
            sibling = self.spec.binary.parent / self.control_program
            if sibling.is_file() and os.access(sibling, os.X_OK):
                return sibling
        return find_program(self.control_program, self.debian_package)

    def controller(self) -> Controller:
        return UnboundControl(self.control_binary(), self.config_path)


class KnotResolver(Implementation):
    """CZ.NIC Knot Resolver 5, run as ``kresd -n -c <workdir>/kresd.conf <workdir>``."""

    kind = "kresd"
    program = "kresd"
    debian_package = "knot-resolver"
    template = "kresd.conf"

    @property
    def cache_dir(self) -> Path:
        return self.spec.workdir / "cache"

    def template_values(self) -> Mapping[str, object]:
        spec = self.spec
        outgoing = ""
        if spec.outgoing_address is not None:
            family = "v6" if ":" in spec.outgoing_address else "v4"
            outgoing = f"net.outgoing_{family}({lua.quote(spec.outgoing_address)})"
        by_server: dict[str, list[str]] = {}
        for name, address in spec.root_hints:
            by_server.setdefault(name, []).append(address)
        hints = ",\n".join(
            f"    [{lua.quote(name)}] = {{ {', '.join(lua.quote(a) for a in addresses)} }}"
            for name, addresses in by_server.items()
        )
        root = KRESD_LAB_ROOT.format(hints=hints)
        if spec.distribution_root:
            # kresd's compiled-in root hints, and the root key it loads before this file
            # (dns-root-data's, with RFC 5011 updates)
            root = "-- Root hints and root trust anchor: the distribution's (kresd's defaults)."
        trust_anchors = ""
        if spec.validate:
            trust_anchors = "\n".join(
                f"trust_anchors.add({lua.quote(anchor)})" for anchor in spec.trust_anchors
            )
        else:
            if spec.distribution_root:
                root += "\ntrust_anchors.remove('.')"
            trust_anchors = "-- validate=False: no trust anchor, so every answer is insecure."
        flags = ["ALLOW_LOCAL"]
        if not spec.qname_minimisation:
            flags.append("NO_MINIMIZE")
        unblock = ""
        if spec.unblock_zones:
            zones = ", ".join(lua.quote(zone) for zone in spec.unblock_zones)
            unblock = (
                "-- Resolve these special-use names through the lab instead of answering them.\n"
                f"policy.add(policy.suffix(policy.PASS, policy.todnames({{ {zones} }})))"
            )
        dnstap = ""
        if spec.dnstap_socket is not None:
            dnstap = "\n".join(
                [
                    "-- Client queries and responses to the dnstap collector (it must be up).",
                    "modules.load('dnstap')",
                    "dnstap.config({",
                    f"    socket_path = {lua.quote(str(spec.dnstap_socket))},",
                    f"    identity = {lua.quote(spec.identity)},",
                    "    client = { log_queries = true, log_responses = true },",
                    "})",
                ]
            )
        return {
            "identity": spec.identity,
            "listen": lua.quote(spec.listen),
            "port": spec.port,
            "ipv6": "true" if spec.ip6 or spec.uses_ipv6 else "false",
            "control_socket": lua.quote(str(self.control_socket)),
            "outgoing": outgoing,
            "cache_size_mb": spec.cache_size_mb,
            "cache_uri": lua.quote(f"lmdb://{self.cache_dir}"),
            "root": root,
            "trust_anchors": trust_anchors,
            "flags": ", ".join(lua.quote(flag) for flag in flags),
            "unblock": unblock,
            "dnstap": dnstap,
        }

    def write_files(self) -> None:
        super().write_files()
        self.cache_dir.mkdir(exist_ok=True)

    def command_line(self) -> list[str]:
        return [str(self.binary()), "-n", "-c", str(self.config_path), str(self.spec.workdir)]

    def version_arguments(self) -> list[str]:
        return ["--version"]

    def controller(self) -> Controller:
        return KresdControl(self.control_socket)


IMPLEMENTATIONS: dict[str, type[Implementation]] = {
    Unbound.kind: Unbound,
    KnotResolver.kind: KnotResolver,
}


def implementation_for(spec: ReferenceSpec) -> Implementation:
    """The implementation that runs ``spec.kind``."""
    return IMPLEMENTATIONS[spec.kind](spec)
