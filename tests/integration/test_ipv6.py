"""The harness, the candidate and a reference over IPv6 loopback (``::1``).

The lab stays IPv4 (127.53.x.y); the resolvers resolve from it as always, but every exchange
between the harness and its targets and the mirrored queries go over ``::1``: a UDP mirror
on ``[::1]``, a managed Unbound listening on ``[::1]``, and the candidate either in process
or as ``shadowdns resolver serve --lab --listen [::1]:PORT``.  Lab mode throughout (``lab:``):
``::1`` is loopback, so the address policy accepts it.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.message
import pytest

from harness.assemble import build_pipeline
from harness.config import config_from_mapping
from harness.intake.udp_mirror import UdpMirrorIntake
from harness.records import VerdictKind
from harness.store import StoreReader
from lab.run import LabInfo

pytestmark = [pytest.mark.integration]

NAMES = ["www.example.lab.", "nonexistent.example.lab.", "www.rsa.", "www.insecure.lab.",
         "mail.example.lab.", "www.example.lab."]
REFERENCE_PORT = 5073
CANDIDATE_PORT = 5374


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def candidate_serve(lab: LabInfo, tmp_path: Path,
                    stop_process: Callable[..., None]) -> Iterator[str]:
    """``shadowdns resolver serve --lab`` on [::1]; stopped by its PID."""
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowdns", "resolver", "serve", "--lab", str(lab.state_dir),
         "--workers", "1", "--listen", f"[::1]:{CANDIDATE_PORT}",
         "--egress", lab.egress["candidate"]],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("::1", CANDIDATE_PORT), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    raise AssertionError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.1)
        yield f"[::1]:{CANDIDATE_PORT}"
    finally:
        stop_process(proc)
        log.close()


async def _shadow_over_ipv6(lab: LabInfo, tmp_path: Path, candidate: dict[str, object],
                            kind: str = "unbound") -> None:
    if not _has_ipv6_loopback():
        pytest.skip("no ::1 on this host")
    db = tmp_path / "v6.db"
    config = config_from_mapping({
        "lab": str(lab.state_dir),
        "run_dir": str(tmp_path / "run"),
        "intake": [{"kind": "udp_mirror", "listen": "[::1]:5399"}],
        "candidate": candidate,
        "references": [{"name": kind, "kind": kind,
                        "listen": f"[::1]:{REFERENCE_PORT}", "timeout": 5}],
        "store": {"path": str(db), "commit_interval": 0.1},
        "live": "off",
    }, source="v6-test")
    assert config.policy.lab
    pipeline = build_pipeline(config)
    stop = asyncio.Event()
    async with pipeline:
        if kind == "unbound":
            unbound_conf = (tmp_path / "run" / "unbound" / "unbound.conf").read_text()
            assert f"interface: ::1@{REFERENCE_PORT}" in unbound_conf
            assert "do-ip6: yes" in unbound_conf
        else:
            kresd_conf = (tmp_path / "run" / "kresd" / "kresd.conf").read_text()
            assert f"net.listen('::1', {REFERENCE_PORT}, {{ kind = 'dns' }})" in kresd_conf
        intake = pipeline.intakes[0]
        assert isinstance(intake, UdpMirrorIntake) and intake.address[0] == "::1"
        runner = asyncio.create_task(pipeline.run(30, stop))
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as mirror:
            for name in NAMES:
                wire = dns.message.make_query(name, "A", want_dnssec=True).to_wire()
                mirror.sendto(wire, ("::1", 5399))
        deadline = time.monotonic() + 25
        while pipeline.metrics.counters["compared"] < len(NAMES):
            assert time.monotonic() < deadline, pipeline.status()
            await asyncio.sleep(0.1)
        stop.set()
        await runner
        assert intake.stats["queries"] == len(NAMES)
    counters = pipeline.metrics.counters
    assert counters["compared"] == len(NAMES) and pipeline.metrics.unaccounted() == {
        "seen": 0, "sampled": 0}
    reader = StoreReader(db)
    try:
        observations = [(o, reader.verdict(o.id or 0))
                         for o in reader.observations(pipeline.run_id or 0)]
    finally:
        reader.close()
    assert len(observations) == len(NAMES)
    for observation, verdict in observations:
        assert observation.query.client == "::1"
        for answer in observation.answers.values():
            assert answer.error is None and answer.wire is not None, answer
        assert verdict is not None and verdict.kind in (VerdictKind.EQUAL, VerdictKind.NOISE), (
            observation.query.qname, verdict)


@pytest.mark.parametrize("kind", ["unbound", "kresd"])
async def test_in_process_candidate_and_a_reference_over_ipv6(lab: LabInfo, tmp_path: Path,
                                                              kind: str) -> None:
    await _shadow_over_ipv6(lab, tmp_path, {}, kind)


async def test_served_candidate_and_unbound_over_ipv6(lab: LabInfo, tmp_path: Path,
                                                      candidate_serve: str) -> None:
    await _shadow_over_ipv6(lab, tmp_path, {"address": candidate_serve})

