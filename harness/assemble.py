"""From a :class:`~harness.config.HarnessConfig` to a ready :class:`~harness.pipeline.Pipeline`.

Paths the config leaves out come from the lab's state directory (``lab:``): root hints and
trust anchor for the in-process candidate and for managed references, and the lab's egress
address per resolver kind, so each one queries the lab from its own region.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from configfiles.roothints import read_root_hints
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
from resolver.config import ResolverConfig
from resolver.wasm import PluginLoadError

__all__ = ["build_intake", "build_intakes", "build_pipeline", "build_targets", "build_twins",
           "choose_judge"]

log = logging.getLogger("shadowdns.harness")


def choose_judge(name: str, config: HarnessConfig | None = None,
                 twins: Mapping[str, str] | None = None, *,
                 ignore_tc_only: bool = False) -> Judge:
    """``differ``: :class:`harness.differ.Differ` (an error if it is missing); ``exact``:
    :class:`~harness.exactjudge.ExactJudge`; ``auto``: the differ when it can be built.
    The differ is configured by ``config.differ``; ``twins``: target -> egress twin;
    ``config.ignore_tc_only`` adds the differ's ``tc`` normaliser (truncation alone is
    noise)."""
    if name in ("auto", "differ"):
        try:
            module = importlib.import_module("harness.differ")
            normalisers = None
            if ignore_tc_only or (config is not None and config.ignore_tc_only):
                normalise = importlib.import_module("harness.differ.normalise")
                normalisers = (*normalise.DEFAULT_NORMALISERS, normalise.TcOnly())
            if config is None:
                return cast(Judge, module.Differ(normalisers=normalisers))
            d = config.differ
            authorities = None
            if d.authority_sweep:
                sweep = importlib.import_module("harness.differ.sweep")
                authorities = sweep.UdpAuthorities(d.authority_port, policy=config.policy)
            return cast(Judge, module.Differ(module.DifferConfig(
                candidate=config.candidate.name,
                references=tuple(r.name for r in config.references),
                confirm=d.confirm, requery_rate=d.requery_rate,
                requery_burst=d.requery_burst, requery_concurrency=d.requery_concurrency,
                floor_requeries=d.floor_requeries,
                floor_references=d.floor_references or None,
                egress_swap=d.egress_swap, twins=dict(twins or {}),
                fresh_candidate=d.fresh_candidate, authority_sweep=d.authority_sweep,
                authority_port=d.authority_port), normalisers=normalisers,
                authorities=authorities))
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


def _candidate(config: HarnessConfig, lab: LabInfo | None, *, name: str | None = None,
               egress: str | None = None) -> Target:
    """The candidate; with ``name`` and ``egress``, its egress twin (the same resolver
    asking from another address)."""
    c: CandidateConfig = config.candidate
    if c.address is not None:
        return AddressTarget(c.name, c.address[0], c.address[1], timeout=c.timeout,
                             transport=c.transport, doh_path=c.doh_path)
    # Defaults as `resolver serve` has them: the lab's hints and anchor with lab:, else the
    # bundled IANA ones (ResolverConfig's); validation on unless candidate.validate is false.
    hints = c.root_hints or _lab_file(config, HINTS_FILE)
    if hints is None and config.lab is not None:  # never the real roots by accident
        raise ConfigError(f"{config.lab} has no {HINTS_FILE} (is the lab up?)",
                          source=config.source, key="lab")
    try:
        root_hints = read_root_hints(hints, config.policy) if hints is not None else ()
    except ConfigError as e:
        raise ConfigError(str(e), source=config.source, key="candidate.root_hints") from None
    if c.trust_anchor is not None and not c.validate:
        raise ConfigError("given with candidate.validate: false", source=config.source,
                          key="candidate.trust_anchor")
    anchor = c.trust_anchor or (_lab_file(config, ANCHOR_FILE) if c.validate else None)
    if anchor is None and c.validate and config.lab is not None:
        raise ConfigError(f"{config.lab} has no {ANCHOR_FILE} (is the lab up? or set "
                          "candidate.validate: false)", source=config.source, key="lab")
    egress = egress or c.egress or (lab.egress.get("candidate") if lab else None)
    resolver_config = ResolverConfig(
        root_hints=root_hints, root_hints_source=str(hints) if hints is not None else "",
        trust_anchor_file=anchor, validation=c.validate,
        qname_minimisation=c.qname_minimisation, egress=egress,
        cache_bytes=c.cache_mb * 1024 * 1024, workers=c.workers,
        do_ip6=False if config.lab is not None else None, plugins=c.plugins)
    try:
        if name is None:  # (the twin is the same resolver: said once)
            for line in describe(resolver_config, off="candidate.validate: false"):
                log.info("candidate: %s", line)
        return InProcessTarget(name or c.name, resolver_config, timeout=c.timeout)
    except ConfigError as e:  # the trust anchor file
        raise ConfigError(str(e), source=config.source, key="candidate.trust_anchor") from None
    except PluginLoadError as e:
        raise ConfigError(str(e), source=config.source, key="candidate.plugins") from None


def _reference_egress(r: ReferenceConfig, lab: LabInfo | None) -> str | None:
    return r.egress or (lab.egress.get(r.kind) if lab else None)


def build_twins(config: HarnessConfig) -> tuple[list[Target], dict[str, str]]:
    """Egress twins for the differ (``differ.egress_swap``): the in-process candidate again,
    asking from the primary reference's egress address.  Only where the harness controls
    both egress addresses; otherwise none (the differ then goes without that evidence)."""
    if (not config.differ.egress_swap or not config.references
            or config.candidate.address is not None):
        return [], {}
    lab = _lab(config)
    primary = config.references[0]
    ref_egress = _reference_egress(primary, lab)
    own = config.candidate.egress or (lab.egress.get("candidate") if lab else None)
    if ref_egress is None or own is None or ref_egress == own:
        return [], {}
    name = f"{config.candidate.name}@{primary.name}-egress"
    return ([_candidate(config, lab, name=name, egress=ref_egress)],
            {config.candidate.name: name})


def _reference(config: HarnessConfig, r: ReferenceConfig, lab: LabInfo | None) -> Target:
    reference: Reference
    if r.kind == "address":
        reference = ByAddress(r.listen[0], r.listen[1], name=r.name,
                              address_policy=config.policy)
    else:
        hints = r.root_hints or _lab_file(config, HINTS_FILE)
        if hints is None and config.lab is not None:  # never the real roots by accident
            raise ConfigError(f"{config.lab} has no {HINTS_FILE} (is the lab up?)",
                              source=config.source, key="lab")
        anchor = r.trust_anchor or _lab_file(config, ANCHOR_FILE)
        options: dict[str, Any] = {
            "qname_minimisation": r.qname_minimisation,
            "outgoing_address": _reference_egress(r, lab),
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
        raise ConfigError("at least one reference is needed", source=config.source,
                          key="references")
    lab = _lab(config)
    return [_candidate(config, lab), *(_reference(config, r, lab) for r in config.references)]


def build_intakes(config: HarnessConfig) -> list[Intake]:
    """The config's intakes, each checked (a file that cannot be used: an error before
    anything is recorded)."""
    if not config.intakes:
        raise ConfigError("at least one input is needed", source=config.source,
                          key="intake")
    intakes = [build_intake(i) for i in config.intakes]
    for i, intake in enumerate(intakes):
        try:
            intake.check()
        except ValueError as e:
            what = "socket" if getattr(config.intakes[i], "socket", None) else "file"
            raise ConfigError(str(e), source=config.source, key=f"intake[{i}].{what}"
                              ) from None
    return intakes


def build_pipeline(config: HarnessConfig, *, judge: Judge | None = None,
                   targets: list[Target] | None = None,
                   intakes: list[Intake] | None = None,
                   probes: list[Target] | None = None) -> Pipeline:
    """A pipeline for ``config``; ``judge``, ``targets``, ``intakes`` and ``probes`` (egress
    twins the judge may ask) replace what the config says (tests, the demo, benches)."""
    if intakes is None:
        intakes = build_intakes(config)
    store = Store(config.store)
    try:
        store.check()
    except ValueError as e:
        raise ConfigError(str(e), source=config.source, key="store.path") from None
    twins: dict[str, str] = {}
    if probes is None:
        probes = []
        if judge is None and targets is None:
            probes, twins = build_twins(config)
    return Pipeline(
        intakes=intakes,
        sampler=Sampler(config.sampler),
        targets=targets if targets is not None else build_targets(config),
        judge=judge if judge is not None else choose_judge(config.judge, config, twins),
        probes=probes,
        store=store,
        max_in_flight=config.dispatcher.max_in_flight,
        target_qps=config.dispatcher.target_qps,
        run_config=config.as_dict(),
    )
