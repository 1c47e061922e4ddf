"""What a run would do, as text: ``shadowdns run --check``.

Everything here is read from the checked config and the targets built from it (nothing is
started, bound or sent): the sockets the run would bind, the files it would read, and every
address it would send queries to, each address marked when it is in a documentation range
(RFC 5737, RFC 3849) -- valid in a config, never answered on the internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from harness.config import (
    ConfigError,
    DnstapConfig,
    HarnessConfig,
    PcapConfig,
    QueryListConfig,
    UdpMirrorConfig,
)
from harness.targets import AddressTarget, InProcessTarget, Target
from legacy_adapter import ReferenceSpec
from netpolicy import format_hostport, is_documentation

__all__ = ["plan_lines"]


def _mark(host: str) -> str:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if is_documentation(ip):
        return " (documentation range)"
    if ip.is_unspecified:
        return "  (every local address)"
    return ""


def _hostport(address: tuple[str, int]) -> str:
    return format_hostport(*address) + _mark(address[0])


def plan_lines(config: HarnessConfig, targets: Sequence[Target]) -> list[str]:
    """The plan of a run of ``config`` with ``targets`` (from ``build_targets``)."""
    if not config.intakes:
        raise ConfigError(f"{config.source}: intake: at least one input is needed")
    policy = config.policy
    mode = (f"lab (loopback only, set by {policy.because})" if policy.lab
            else "production (any address)")
    lines = [f"shadowdns run --check: {config.source}: valid; address policy: {mode}", "bind:"]
    reads: list[str] = []
    for i, intake in enumerate(config.intakes):
        where = f"  intake[{i}] {intake.kind}"
        if isinstance(intake, DnstapConfig):
            if intake.tcp is not None:
                allow = ", ".join(str(n) for n in intake.allow)
                tls = ""
                if intake.tls is not None:
                    tls = f" inside TLS ({intake.tls.cert}"
                    tls += (f", client certificates from {intake.tls.client_ca})"
                            if intake.tls.client_ca else ")")
                lines.append(f"{where}: Frame Streams on tcp {_hostport(intake.tcp)}{tls}, "
                             f"accepting from {allow}")
            elif intake.socket is not None:
                lines.append(f"{where}: Frame Streams on unix socket {intake.socket}")
            else:
                reads.append(f"{where}: file {intake.file}")
        elif isinstance(intake, UdpMirrorConfig):
            allow = ", ".join(str(n) for n in intake.allow)
            lines.append(f"{where}: udp {_hostport(intake.listen)}, accepting from {allow}; "
                         "never answers")
        elif isinstance(intake, PcapConfig):
            speed = "max" if intake.speed is None else f"{intake.speed:g}x"
            reads.append(f"{where}: file {intake.file} (port {intake.port}, speed {speed})")
        elif isinstance(intake, QueryListConfig):
            reads.append(f"{where}: file {intake.file}")
    if config.api.listen is not None:
        lines.append(f"  api: http on tcp {_hostport(config.api.listen)}")
    managed = [r for r in config.references if r.kind != "address"]
    for r in managed:
        lines.append(f"  reference {r.name} ({r.kind}, started here): udp and tcp "
                     f"{_hostport(r.listen)}")
    if len(lines) == 2:
        lines.append("  (nothing)")
    if reads:
        lines += ["read:", *reads]
    lines.append("send to:")
    for target in targets:
        if isinstance(target, InProcessTarget):
            c = target.config
            servers = sorted({address for _, address in c.root_hints})
            shown = ", ".join(a + _mark(a) for a in servers[:4])
            more = f" and {len(servers) - 4} more" if len(servers) > 4 else ""
            egress = f" from {c.egress}" if c.egress else ""
            lines.append(f"  candidate {target.name}: in this process; sends{egress} to "
                         f"{len(servers)} root server address(es), port {c.upstream_port}: "
                         f"{shown}{more}")
        elif isinstance(target, AddressTarget):
            role = "candidate" if target is targets[0] else "reference"
            lines.append(f"  {role} {target.name}: {_hostport((target.address, target.port))}"
                         f" (udp; tcp when truncated or when the query came over tcp)")
            spec = getattr(target.reference, "spec", None)
            if isinstance(spec, ReferenceSpec):
                servers = sorted({address for _, address in spec.root_hints})
                egress = f" from {spec.outgoing_address}" if spec.outgoing_address else ""
                lines.append(f"    which sends{egress} to {len(servers)} root server "
                             "address(es): " + ", ".join(a + _mark(a) for a in servers[:4])
                             + (f" and {len(servers) - 4} more" if len(servers) > 4 else ""))
    excluded = config.sampler.exclude_clients
    if excluded:
        lines.append("never compared: clients in " + ", ".join(str(n) for n in excluded))
    qps = config.dispatcher.target_qps
    lines.append(f"rate cap per target: {qps:g} queries/s" if qps else
                 "rate cap per target: none (dispatcher.target_qps: 0)")
    lines.append(f"store: {config.store.path}")
    lines.append("nothing was bound, started or sent")
    return lines
