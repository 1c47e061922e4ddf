"""Reference resolvers for differential testing: real Unbound and Knot Resolver.

Describe a run once, neutrally, and let each implementation render its own
configuration::

    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen="127.55.0.1", port=5053, workdir=run_dir / "unbound",
        root_hints_file=lab / "root.hints", trust_anchor_file=lab / "trust-anchor.ds",
        outgoing_address="127.55.0.1",
    )
    async with ManagedResolver.from_spec(spec) as unbound:
        ...                      # query unbound.address:unbound.port
        await unbound.flush_all()

A resolver the user already runs is just an address: ``ByAddress("127.0.0.1", 53)``.
Both are a :class:`Reference`.
"""

from __future__ import annotations

from legacy_adapter.config import KINDS, Kind, ReferenceSpec
from legacy_adapter.control import Controller, FlushReport, KresdControl, UnboundControl
from legacy_adapter.errors import (
    BinaryMissing,
    ControlError,
    LabFileError,
    NotManaged,
    PortInUse,
    ReferenceResolverError,
    StartFailed,
)
from legacy_adapter.external import ByAddress
from legacy_adapter.health import probe
from legacy_adapter.implementations import (
    Implementation,
    KnotResolver,
    Unbound,
    find_program,
    implementation_for,
)
from legacy_adapter.labfiles import read_root_hints, read_trust_anchors
from legacy_adapter.process import ManagedResolver, ensure_port_free
from legacy_adapter.reference import Reference

__all__ = [
    "KINDS",
    "BinaryMissing",
    "ByAddress",
    "ControlError",
    "Controller",
    "FlushReport",
    "Implementation",
    "Kind",
    "KnotResolver",
    "KresdControl",
    "LabFileError",
    "ManagedResolver",
    "NotManaged",
    "PortInUse",
    "Reference",
    "ReferenceResolverError",
    "ReferenceSpec",
    "StartFailed",
    "Unbound",
    "UnboundControl",
    "ensure_port_free",
    "find_program",
    "implementation_for",
    "probe",
    "read_root_hints",
    "read_trust_anchors",
]
