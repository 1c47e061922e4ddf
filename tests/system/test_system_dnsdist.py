"""Real dnsdist (the Debian package) mirrors client queries with TeeAction to the UDP intake.

Clients ask dnsdist, dnsdist forwards to a staging Unbound and tees a copy of every query to
``shadowdns run``'s UDP mirror, which compares them between the candidate and Knot Resolver.
Garbage sent to the mirror in the middle is counted as malformed and the run goes on.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.load import client_load, load_names
from lab.run import LabInfo
from legacy_adapter import ManagedResolver, ReferenceSpec

pytestmark = [pytest.mark.integration]

API_PORT = 18932
MIRROR = ("127.0.0.1", 5391)
DNSDIST = ("127.55.0.90", 5390)
STAGING = ("127.55.0.91", 5091)
GARBAGE = [b"\x00", b"not dns at all, but long enough to have a header", b"\xff" * 30,
           b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01"]

DNSDIST_CONF = f"""
setSecurityPollSuffix("")
setLocal("{DNSDIST[0]}:{DNSDIST[1]}")
newServer({{address="{STAGING[0]}:{STAGING[1]}", name="staging", checkName="localhost.",
           checkInterval=1}})
addAction(AllRule(), TeeAction("{MIRROR[0]}:{MIRROR[1]}"))
"""


def harness_config(lab: LabInfo, work: Path) -> str:
    return f"""
lab: {lab.state_dir}
run_dir: {work}
intake:
  - {{kind: udp_mirror, listen: "{MIRROR[0]}:{MIRROR[1]}", allow: [127.0.0.0/8]}}
references:
  - {{name: kresd, kind: kresd, listen: "127.55.0.92:5092", timeout: 4}}
candidate: {{timeout: 4}}
store: {{path: {work}/shadow.db, commit_interval: 0.2}}
log_interval: 1
"""


def test_dnsdist_tee_to_the_udp_mirror(lab: LabInfo, tmp_path: Path,
                                       harness_process: Any) -> None:
    program = shutil.which("dnsdist")
    if program is None:
        pytest.skip("dnsdist is not installed (Debian package dnsdist; see ci/setup.sh)")
    config = tmp_path / "shadow.yaml"
    config.write_text(harness_config(lab, tmp_path))
    harness = harness_process(config, API_PORT, tmp_path / "harness.log")
    harness.wait_ready()
    lines = load_names(lab, quick=True, stable_only=True) * 2
    conf = tmp_path / "dnsdist.conf"
    conf.write_text(DNSDIST_CONF)
    log = (tmp_path / "dnsdist.log").open("wb")
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen=STAGING[0], port=STAGING[1], workdir=tmp_path / "staging",
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
        outgoing_address=lab.egress["unbound"])

    async def traffic() -> tuple[int, int]:
        async with ManagedResolver.from_spec(spec):
            dnsdist = subprocess.Popen([program, "--supervised", "--disable-syslog", "-C",
                                        str(conf)], stdout=log, stderr=subprocess.STDOUT)
            try:
                for _ in range(100):  # until dnsdist forwards
                    probe = await client_load(*DNSDIST, ["localhost. A"], timeout=0.5)
                    if probe.answered:
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("dnsdist does not answer:\n"
                                         + (tmp_path / "dnsdist.log").read_text())
                first = await client_load(*DNSDIST, lines[: len(lines) // 2])
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
                    for packet in GARBAGE:
                        raw.sendto(packet, MIRROR)
                second = await client_load(*DNSDIST, lines[len(lines) // 2:])
                return first.answered + second.answered, 1
            finally:
                dnsdist.send_signal(signal.SIGTERM)
                try:
                    dnsdist.wait(10)
                except subprocess.TimeoutExpired:
                    dnsdist.kill()
                    dnsdist.wait(5)

    try:
        answered, probes = asyncio.run(traffic())
    finally:
        log.close()
    assert answered == len(lines)
    total = len(lines) + len(GARBAGE)
    status = harness.wait_for(
        lambda s: sum(s["intakes"][k].get("datagrams", 0) for k in s["intakes"]) >= total
        and s["in_flight"] == 0, timeout=60)
    output = harness.stop()
    assert harness.proc.returncode == 0, output
    intake = next(iter(status["intakes"].values()))
    c = status["counters"]
    assert intake["malformed"] + intake.get("responses", 0) == len(GARBAGE)
    assert intake.get("refused_source", 0) == 0
    # Every client query (and the readiness probes) came through the tee exactly once.
    assert len(lines) < c["seen"] <= len(lines) + 100
    assert c["seen"] == c["sampled"] == c["compared"]
    assert c["dropped"] == c["shed"] == c["failed"] == 0
    assert status["unaccounted"] == {"seen": 0, "sampled": 0}
    assert status["verdicts"].get("equal", 0) + status["verdicts"].get("noise", 0) > len(lines) // 2
    assert "(counts add up)" in output
