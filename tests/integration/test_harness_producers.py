"""The intakes fed by real producers on the lab.

* Unbound sends dnstap (bidirectional Frame Streams) to the harness's unix socket;
* Unbound sends dnstap to ``fstrm_capture``, which writes a dnstap file; the harness reads the
  file (and ``dnstap-ldns`` agrees on its content), and ``fstrm_replay`` sends the file to the
  harness over TCP and over a unix socket;
* ``tcpdump`` captures client queries to Unbound into a pcap file that the harness replays.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import dns.asyncquery
import dns.message
import pytest
import pytest_asyncio

from harness.config import DnstapConfig, PcapConfig
from harness.fakes import RecordingSink
from harness.intake.dnstap import DnstapIntake
from harness.intake.pcap import PcapIntake
from lab.run import LabInfo
from legacy_adapter import ManagedResolver, ReferenceSpec

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NAMES = ["www.example.lab.", "nonexistent.example.lab.", "www.rsa.", "cdn.noise.lab.",
         "www.insecure.lab.", "mail.example.lab."]
TYPE = "protobuf:dnstap.Dnstap"


def need(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (see ci/setup.sh)")


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def ask_all(address: str, port: int, names: list[str]) -> None:
    for name in names:
        query = dns.message.make_query(name, "A", want_dnssec=True)
        await dns.asyncquery.udp(query, address, timeout=5, port=port)


def unbound_spec(lab: LabInfo, workdir: Path, port: int, dnstap: Path | None) -> ReferenceSpec:
    return ReferenceSpec.from_lab_files(
        kind="unbound", listen="127.55.0.61", port=port, workdir=workdir,
        root_hints_file=lab.hints_path, trust_anchor_file=lab.anchor_path,
        outgoing_address=lab.egress["unbound"], dnstap_socket=dnstap, identity="staging")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def capture(lab: LabInfo, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[Path]:
    """A dnstap file written by fstrm_capture from a real Unbound's stream."""
    need("fstrm_capture")
    work = tmp_path_factory.mktemp("capture")
    sock, out = work / "cap.sock", work / "unbound.fstrm"
    proc = subprocess.Popen(["fstrm_capture", "-t", TYPE, "-u", str(sock), "-w", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await until(sock.exists)
        await asyncio.sleep(0.5)  # the socket file exists a moment before it listens
        async with ManagedResolver.from_spec(unbound_spec(lab, work / "ub", 5061, sock)) as ub:
            await ask_all(ub.address, ub.port, NAMES)
            await asyncio.sleep(1.5)  # Unbound's dnstap thread connects and sends in its time
        await asyncio.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)  # fstrm_capture closes the file cleanly on SIGINT
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert out.stat().st_size > 100
    yield out


async def test_unbound_dnstap_to_the_unix_socket(lab: LabInfo, tmp_path: Path) -> None:
    sock = tmp_path / "dnstap.sock"
    intake = DnstapIntake(DnstapConfig(socket=sock))
    sink = RecordingSink()
    await intake.start(sink)
    try:
        async with ManagedResolver.from_spec(unbound_spec(lab, tmp_path / "ub", 5062, sock)) as ub:
            await ask_all(ub.address, ub.port, NAMES)
            await until(lambda: len(sink.staged) >= len(NAMES))
        await until(lambda: intake.stats["stops"] >= 1)  # Unbound says STOP when it stops
    finally:
        await intake.close()
    asked = [q.qname for q in sink.queries if q.qname != "localhost."]  # health probes
    assert asked == NAMES
    assert all(q.do and q.client == "127.0.0.1" and q.client_port for q in sink.queries
               if q.qname in NAMES)
    staged_names = {key[3] for key, _ in sink.staged}
    assert set(NAMES) <= staged_names
    assert intake.stats["bad_frames"] == intake.stats["malformed"] == 0


async def test_dnstap_file_from_fstrm_capture(capture: Path) -> None:
    intake = DnstapIntake(DnstapConfig(file=capture))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 10)
    asked = [q.qname for q in sink.queries if q.qname != "localhost."]
    assert asked == NAMES
    if shutil.which("dnstap-ldns"):
        text = subprocess.run(["dnstap-ldns", "-r", str(capture)], capture_output=True,
                              text=True, timeout=30).stdout
        assert text.count(" CQ ") == len(sink.queries)
        assert text.count(" CR ") == len(sink.staged)


@pytest.mark.parametrize("over", ["tcp", "unix"])
async def test_fstrm_replay_to_the_harness(capture: Path, tmp_path: Path, over: str) -> None:
    need("fstrm_replay")
    if over == "tcp":
        intake = DnstapIntake(DnstapConfig(tcp=("127.0.0.1", 0)))
    else:
        intake = DnstapIntake(DnstapConfig(socket=tmp_path / "replay.sock"))
    sink = RecordingSink()
    await intake.start(sink)
    try:
        if over == "tcp":
            assert intake.address is not None
            where = ["-a", "127.0.0.1", "-p", str(intake.address[1])]
        else:
            where = ["-u", str(tmp_path / "replay.sock")]
        proc = await asyncio.create_subprocess_exec(
            "fstrm_replay", "-t", TYPE, *where, "-r", str(capture),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        await until(lambda: intake.stats["stops"] == 1)
    finally:
        await intake.close()
    assert [q.qname for q in sink.queries if q.qname != "localhost."] == NAMES
    assert intake.stats["streams"] == 1 and intake.stats["handshake_errors"] == 0


async def test_pcap_from_tcpdump(lab: LabInfo, tmp_path: Path) -> None:
    need("tcpdump")
    out = tmp_path / "lo.pcap"
    port = 5063
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-w", str(out),
                             f"udp and host 127.55.0.61 and port {port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await asyncio.sleep(1.0)  # tcpdump needs a moment before it captures
        if dump.poll() is not None:
            pytest.skip(f"tcpdump cannot capture here: {dump.stderr.read() if dump.stderr else ''}")
        async with ManagedResolver.from_spec(unbound_spec(lab, tmp_path / "ub", port, None)) as ub:
            await ask_all(ub.address, ub.port, NAMES)
        await asyncio.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        try:
            dump.wait(10)
        except subprocess.TimeoutExpired:
            dump.kill()
            dump.wait(5)
        if dump.stderr is not None:
            dump.stderr.close()
    assert os.path.getsize(out) > 24
    intake = PcapIntake(PcapConfig(file=out, port=port, speed=4.0))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 20)
    asked = [q.qname for q in sink.queries if q.qname != "localhost."]
    assert asked == NAMES
    assert {key[3] for key, _ in sink.staged} >= set(NAMES)  # Unbound's answers, from the pcap
    assert intake.stats["corrupt"] == intake.stats["malformed"] == 0
