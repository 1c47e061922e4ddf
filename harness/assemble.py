"""From a :class:`~harness.config.HarnessConfig` to a ready :class:`~harness.pipeline.Pipeline`.

Paths the config leaves out come from the lab's state directory (``lab:``): root hints and
trust anchor for the in-process candidate and for managed references, and the lab's egress
address per resolver kind, so each one queries the lab from its own region.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, cast

from harness.config import (
    CandidateConfig,
    ConfigError,
    DnstapConfig,
    HarnessConfig,
    IntakeConfig,
    PcapConfig,
    QueryListConfig,
    ReferenceConfig,
    UdpMirrorConfig,
)
from harness.exactjudge import ExactJudge
from harness.intake.base import Intake
from harness.intake.dnstap import DnstapIntake
from harness.intake.pcap import PcapIntake
from harness.intake.querylist import QueryListIntake
from harness.intake.udp_mirror import UdpMirrorIntake
from harness.judge import Judge
from harness.pipeline import Pipeline
from harness.sampler import Sampler
from harness.store import Store
from harness.targets import AddressTarget, InProcessTarget, Target
from lab.run import ANCHOR_FILE, HINTS_FILE, LabInfo
from legacy_adapter import ByAddress, ManagedResolver, Reference, ReferenceSpec
from resolver.app import describe, host_has_global_ipv6
from resolver.config import ConfigError as ResolverConfigError
from resolver.config import ResolverConfig, read_root_hints

__all__ = ["build_intake", "build_pipeline", "build_targets", "choose_judge"]

log = logging.getLogger("shadowdns.harness")


def choose_judge(name: str, *, ignore_tc_only: bool = False) -> Judge:
    """``differ``: :class:`harness.differ.Differ` (an error if it is missing); ``exact``:
    :class:`~harness.exactjudge.ExactJudge`; ``auto``: the differ when it can be built.
    ``ignore_tc_only`` adds the differ's ``tc`` normaliser (truncation alone is noise)."""
    if name in ("auto", "differ"):
        try:
            module = importlib.import_module("harness.differ")
            if ignore_tc_only:
                normalise = importlib.import_module("harness.differ.normalise")
                normalisers = (*normalise.DEFAULT_NORMALISERS, normalise.TcOnly())
                return cast(Judge, module.Differ(normalisers=normalisers))
            return cast(Judge, module.Differ())
        except Exception as e:
            if name == "differ":
                raise ConfigError(f"judge: differ: harness.differ cannot be used: {e}") from e
            log.info("no differ available (%s): using the exact judge", e)
    return ExactJudge()


def build_intake(config: IntakeConfig) -> Intake:
    if isinstance(config, DnstapConfig):
        return DnstapIntake(config)
    if isinstance(config, UdpMirrorConfig):
        return UdpMirrorIntake(config)
    if isinstance(config, PcapConfig):
        return PcapIntake(config)
    if isinstance(config, QueryListConfig):
        return QueryListIntake(config)
    raise TypeError(f"unknown intake {config!r}")


def _lab(config: HarnessConfig) -> LabInfo | None:
    if config.lab is None:
        return None
    try:
        return LabInfo.read(config.lab)
    except (OSError, ValueError, KeyError):
        return None


def _lab_file(config: HarnessConfig, name: str) -> Path | None:
    if config.lab is None:
        return None
    path = config.lab / name
    return path if path.exists() else None


def _candidate(config: HarnessConfig, lab: LabInfo | None) -> Target:
    c: CandidateConfig = config.candidate
    if c.address is not None:
        return AddressTarget(c.name, c.address[0], c.address[1], timeout=c.timeout,
                             transport=c.transport, doh_path=c.doh_path)
    # Defaults as `resolver serve` has them: the lab's hints and anchor with lab:, else the
    # bundled IANA ones (ResolverConfig's); validation on unless candidate.validate is false.
    hints = c.root_hints or _lab_file(config, HINTS_FILE)
    if hints is None and config.lab is not None:  # never the real roots by accident
        raise ConfigError(f"{config.source}: candidate.root_hints: lab: {config.lab} has no "
                          f"{HINTS_FILE} (is the lab up?)")
    try:
        root_hints = read_root_hints(hints, config.policy) if hints is not None else ()
    except ResolverConfigError as e:
        raise ConfigError(f"{config.source}: candidate.root_hints: {e}") from None
    if c.trust_anchor is not None and not c.validate:
        raise ConfigError(f"{config.source}: candidate.trust_anchor: given with "
                          "candidate.validate: false")
    anchor = c.trust_anchor or (_lab_file(config, ANCHOR_FILE) if c.validate else None)
    if anchor is None and c.validate and config.lab is not None:
        raise ConfigError(f"{config.source}: candidate.trust_anchor: lab: {config.lab} has no "
                          f"{ANCHOR_FILE} (or set candidate.validate: false)")
    egress = c.egress or (lab.egress.get("candidate") if lab else None)
    resolver_config = ResolverConfig(
        root_hints=root_hints, root_hints_source=str(hints) if hints is not None else "",
        trust_anchor_file=anchor, validation=c.validate,
        qname_minimisation=c.qname_minimisation, egress=egress,
        cache_bytes=c.cache_mb * 1024 * 1024, workers=c.workers,
        do_ip6=False if config.lab is not None else None)
    try:
        for line in describe(resolver_config, off="candidate.validate: false"):
            log.info("candidate: %s", line)
    except ResolverConfigError as e:
        raise ConfigError(f"{config.source}: candidate.trust_anchor: {e}") from None
    return InProcessTarget(c.name, resolver_config, timeout=c.timeout)


def _reference(config: HarnessConfig, r: ReferenceConfig, lab: LabInfo | None) -> Target:
    reference: Reference
    if r.kind == "address":
        reference = ByAddress(r.listen[0], r.listen[1], name=r.name,
                              address_policy=config.policy)
    else:
        hints = r.root_hints or _lab_file(config, HINTS_FILE)
        if hints is None and config.lab is not None:  # never the real roots by accident
            raise ConfigError(f"{config.source}: references.{r.name}.root_hints: lab: "
                              f"{config.lab} has no {HINTS_FILE} (is the lab up?)")
        anchor = r.trust_anchor or _lab_file(config, ANCHOR_FILE)
        options: dict[str, Any] = {
            "qname_minimisation": r.qname_minimisation,
            "outgoing_address": r.egress or (lab.egress.get(r.kind) if lab else None),
            "cache_size_mb": r.cache_mb,
            "identity": r.name,
            "address_policy": config.policy,
        }
        if (anchor is None and hints is not None) or not r.validate:
            options["validate"] = False
        workdir = r.workdir or config.run_dir / r.name
        try:
            if hints is None:
                # no hints and no lab: the distribution's root hints and root anchor
                if r.trust_anchor is not None:
                    raise ValueError("trust_anchor: needs root_hints too (without both the "
                                     "distribution's root hints and anchor are used)")
                spec = ReferenceSpec(kind=r.kind, listen=r.listen[0], port=r.listen[1],
                                     workdir=workdir, root_hints=(), distribution_root=True,
                                     ip6=host_has_global_ipv6(), **options)
            else:
                spec = ReferenceSpec.from_lab_files(
                    kind=r.kind, listen=r.listen[0], port=r.listen[1], workdir=workdir,
                    root_hints_file=hints, trust_anchor_file=anchor if r.validate else None,
                    **options)
        except ValueError as e:
            raise ConfigError(f"{config.source}: references.{r.name}: {e}") from None
        reference = ManagedResolver.from_spec(spec)
    return AddressTarget(r.name, r.listen[0], r.listen[1], timeout=r.timeout,
                         reference=reference, transport=r.transport, doh_path=r.doh_path)


def build_targets(config: HarnessConfig) -> list[Target]:
    """The candidate first, then the references, as the config describes them."""
    if not config.references:
        raise ConfigError(f"{config.source}: references: at least one reference is needed")
    lab = _lab(config)
    return [_candidate(config, lab), *(_reference(config, r, lab) for r in config.references)]


def build_pipeline(config: HarnessConfig, *, judge: Judge | None = None,
                   targets: list[Target] | None = None,
                   intakes: list[Intake] | None = None) -> Pipeline:
    """A pipeline for ``config``; ``judge``, ``targets`` and ``intakes`` replace what the
    config says (tests, the demo)."""
    if intakes is None:
        if not config.intakes:
            raise ConfigError(f"{config.source}: intake: at least one input is needed")
        intakes = [build_intake(i) for i in config.intakes]
    return Pipeline(
        intakes=intakes,
        sampler=Sampler(config.sampler),
        targets=targets if targets is not None else build_targets(config),
        judge=judge if judge is not None else choose_judge(
            config.judge, ignore_tc_only=config.ignore_tc_only),
        store=Store(config.store),
        max_in_flight=config.dispatcher.max_in_flight,
        target_qps=config.dispatcher.target_qps,
        run_config=config.as_dict(),
    )
