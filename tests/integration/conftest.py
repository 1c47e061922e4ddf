"""Integration tests share the session ``lab`` fixture from ``tests/conftest.py`` with the
system tests (one lab per session: it binds port 53 on 127.53.x.y), and ``references``:
Unbound and Knot Resolver on the lab, each egressing from its own region (one pair per
module)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from lab.run import LabInfo
from legacy_adapter import ManagedResolver, ReferenceSpec


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def references(lab: LabInfo, tmp_path_factory: pytest.TempPathFactory
                     ) -> AsyncIterator[dict[str, ManagedResolver]]:
    base = Path(tmp_path_factory.mktemp("refs"))
    specs = {
        "unbound": ("127.55.0.11", lab.egress["unbound"]),
        "kresd": ("127.55.0.12", lab.egress["kresd"]),
    }
    started: dict[str, ManagedResolver] = {}
    try:
        for kind, (listen, egress) in specs.items():
            spec = ReferenceSpec.from_lab_files(
                kind=kind, listen=listen, port=5053, workdir=base / kind,  # type: ignore[arg-type]
                root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
                outgoing_address=egress,
            )
            ref = ManagedResolver.from_spec(spec)
            await ref.start()
            started[kind] = ref
        yield started
    finally:
        for ref in started.values():
            await ref.stop()
