"""Process management and control channels of legacy_adapter, against fakes.

A small Python script stands in for ``unbound`` (same command line, reads the
rendered config for its address) so start, health check, early exit, timeout
and SIGTERM/SIGKILL can be tested without the real resolvers. The kresd control
socket and ``unbound-control`` are faked the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from legacy_adapter import (
    BinaryMissing,
    ControlError,
    KresdControl,
    ManagedResolver,
    ReferenceSpec,
    StartFailed,
    UnboundControl,
    implementations,
)

FAKE_RESOLVER = """\
#!{python}
import os, re, signal, socket, sys
import dns.message, dns.rcode, dns.rrset

MODE = {mode!r}
config = open(sys.argv[sys.argv.index("-c") + 1]).read()
address, port = re.search(r"interface: ([0-9.]+)@([0-9]+)", config).groups()
workdir = os.path.dirname(sys.argv[sys.argv.index("-c") + 1])
open(os.path.join(workdir, "fake.pid"), "w").write(str(os.getpid()))
print("fake resolver starting on", address, port, flush=True)
if MODE == "exit":
    print("fatal: cannot parse config", flush=True)
    sys.exit(3)
if MODE == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((address, int(port)))
while True:
    data, peer = server.recvfrom(4096)
    if MODE == "silent":
        continue
    query = dns.message.from_wire(data)
    response = dns.message.make_response(query)
    if MODE == "refuse":
        response.set_rcode(dns.rcode.REFUSED)
    else:
        response.answer.append(dns.rrset.from_text("localhost.", 60, "IN", "A", "127.0.0.1"))
    server.sendto(response.to_wire(), peer)
"""

FAKE_UNBOUND_CONTROL = """\
#!{python}
import sys, time
open({argv_file!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
command = sys.argv[3:]
if {mode!r} == "fail":
    print("error: connect: No such file or directory")
    sys.exit(1)
if {mode!r} == "hang":
    time.sleep(30)
if command[0] == "flush_zone":
    print("ok removed 3 rrsets, 2 messages and 1 key entries")
elif command[0] == "stats_noreset":
    print("total.num.queries=12")
    print("time.up=3.500000")
    print("not a counter")
else:
    print("ok")
"""


def write_script(path: Path, template: str, **values: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template.format(python=sys.executable, **values))
    path.chmod(0o755)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def fake_spec(
    tmp_path: Path, mode: str, *, with_control: bool = True, **changes: object
) -> ReferenceSpec:
    binary = write_script(tmp_path / "bin" / "unbound", FAKE_RESOLVER, mode=mode)
    if with_control:
        write_script(
            tmp_path / "bin" / "unbound-control",
            FAKE_UNBOUND_CONTROL,
            argv_file=str(tmp_path / "argv"),
            mode="ok",
        )
    fields: dict[str, object] = {
        "kind": "unbound",
        "listen": "127.0.0.1",
        "port": free_port(),
        "workdir": tmp_path / "run",
        "root_hints": (("a.root-servers.lab.", "127.53.250.1"),),
        "validate": False,
        "binary": binary,
    }
    fields.update(changes)
    return ReferenceSpec(**fields)  # type: ignore[arg-type]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def fake_pid(spec: ReferenceSpec) -> int:
    return int((spec.workdir / "fake.pid").read_text())


# --- ManagedResolver ------------------------------------------------------------------


async def test_start_answers_then_stop_ends_that_pid(tmp_path: Path) -> None:
    spec = fake_spec(tmp_path, "ok")
    resolver = ManagedResolver.from_spec(spec, start_timeout=10)
    async with resolver:
        pid = resolver.pid
        assert pid is not None and resolver.running
        assert pid == fake_pid(spec)
        assert is_alive(pid)
        response = await resolver.health_check()
        assert response.answer[0].to_text() == "localhost. 60 IN A 127.0.0.1"
        with pytest.raises(StartFailed, match="already started"):
            await resolver.start()
    assert not is_alive(pid)
    assert resolver.pid is None and not resolver.running
    assert resolver.returncode == -signal.SIGTERM
    log = resolver.log_path.read_text()
    assert "shadowdns starting:" in log
    assert f"fake resolver starting on 127.0.0.1 {spec.port}" in log
    assert (spec.workdir / "unbound.conf").is_file()
    await resolver.stop()  # stopping twice is harmless


async def test_early_exit_reports_status_and_log(tmp_path: Path) -> None:
    resolver = ManagedResolver.from_spec(fake_spec(tmp_path, "exit"))
    with pytest.raises(StartFailed) as caught:
        await resolver.start()
    message = str(caught.value)
    assert "exited with status 3 during start-up" in message
    assert "fatal: cannot parse config" in message
    assert "fatal: cannot parse config" in caught.value.log_tail
    assert resolver.pid is None
    assert resolver.returncode == 3


async def test_silent_process_times_out_and_is_killed(tmp_path: Path) -> None:
    spec = fake_spec(tmp_path, "silent")
    resolver = ManagedResolver.from_spec(spec, start_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(StartFailed) as caught:
        await resolver.start()
    assert time.monotonic() - started < 5
    assert "did not answer localhost. A" in str(caught.value)
    assert "queries time out" in str(caught.value)
    assert not is_alive(fake_pid(spec))
    assert resolver.pid is None


async def test_refusing_process_is_reported_as_misconfigured(tmp_path: Path) -> None:
    spec = fake_spec(tmp_path, "refuse")
    resolver = ManagedResolver.from_spec(spec)
    with pytest.raises(StartFailed, match="answers localhost. A with REFUSED"):
        await resolver.start()
    assert not is_alive(fake_pid(spec))


async def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    resolver = ManagedResolver.from_spec(fake_spec(tmp_path, "stubborn"), stop_grace=0.3)
    await resolver.start()
    pid = resolver.pid
    assert pid is not None
    try:
        # Bounded: if SIGKILL never came, stop() would wait forever.
        await asyncio.wait_for(resolver.stop(), 5)
    finally:
        if is_alive(pid):
            os.kill(pid, signal.SIGKILL)  # our own fake, by its PID
    assert resolver.returncode == -signal.SIGKILL
    assert not is_alive(pid)


async def test_missing_dnstap_socket_is_refused(tmp_path: Path) -> None:
    tap = tmp_path / "tap.sock"
    spec = fake_spec(tmp_path, "ok", dnstap_socket=tap)
    resolver = ManagedResolver.from_spec(spec)
    with pytest.raises(StartFailed, match="start the dnstap collector before"):
        await resolver.start()
    assert resolver.pid is None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as collector:
        collector.bind(str(tap))
        collector.listen(1)
        async with resolver:
            assert resolver.running


async def test_workdir_of_a_running_resolver_is_refused(tmp_path: Path) -> None:
    spec = fake_spec(tmp_path, "ok")
    spec.workdir.mkdir(parents=True)
    control = spec.workdir / "control.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(control))
        live.listen(1)
        with pytest.raises(StartFailed, match="belongs to a running resolver"):
            await ManagedResolver.from_spec(spec).start()
    # Closed: only a stale socket file is left, which does not block a start.
    assert control.exists()
    async with ManagedResolver.from_spec(spec) as resolver:
        assert resolver.running


async def test_control_needs_a_running_process(tmp_path: Path) -> None:
    resolver = ManagedResolver.from_spec(fake_spec(tmp_path, "ok"))
    with pytest.raises(ControlError, match="is not running"):
        await resolver.flush_all()


# --- kresd control socket -------------------------------------------------------------


def printed(text: str) -> bytes:
    """A string as kresd's krprint prints it."""
    body = "".join(
        chr(b) if 0x20 <= b < 0x7F and b not in (0x27, 0x5C) else f"\\{b:03d}"
        for b in text.encode()
    )
    return f"'{body}'".encode()


class FakeKresd:
    """A unix socket that speaks kresd's control protocol with canned replies."""

    def __init__(self, path: Path, replies: list[bytes]) -> None:
        self.path = path
        self.replies = replies
        self.commands: list[str] = []
        self.server: asyncio.AbstractServer | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"> ")
        binary = (await reader.readline()).strip()
        assert binary == b"__binary"
        command = (await reader.readline()).decode().rstrip("\n")
        self.commands.append(command)
        reply = self.replies.pop(0)
        writer.write(struct.pack("!I", len(reply)) + reply)
        await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def fake_kresd(tmp_path: Path) -> AsyncIterator[FakeKresd]:
    fake = FakeKresd(tmp_path / "control.sock", [])
    server = await asyncio.start_unix_server(fake.handle, path=str(fake.path))
    yield fake
    server.close()
    await server.wait_closed()


async def test_kresd_flush_name_sends_wrapped_cache_clear(fake_kresd: FakeKresd) -> None:
    result = {"count": 4, "not_apex": "to clear proofs of non-existence call cache.clear('.')"}
    fake_kresd.replies.append(printed(json.dumps({"ok": True, "result": result})))
    report = await KresdControl(fake_kresd.path).flush_name("Www.Lab")
    assert report.removed == 4
    assert "cache.clear('.')" in report.detail
    (command,) = fake_kresd.commands
    assert "cache.clear('Www.Lab.')" in command
    assert command.startswith("tojson(") and "pcall(" in command


async def test_kresd_errors_become_control_errors(fake_kresd: FakeKresd) -> None:
    control = KresdControl(fake_kresd.path)
    fake_kresd.replies.append(printed(json.dumps({"ok": False, "error": "sandbox.lua: boom"})))
    with pytest.raises(ControlError, match="cache.clear\\(\\) failed: sandbox.lua: boom"):
        await control.flush_all()
    fake_kresd.replies.append(b'[string "return table_print(x)"]:1: attempt to call nil')
    with pytest.raises(ControlError, match="unexpected reply"):
        await control.flush_all()


async def test_kresd_stats_are_flattened(fake_kresd: FakeKresd) -> None:
    result = {"worker": {"queries": 5, "rss": 1.5, "name": "x"}, "cache": {"count": 2}}
    fake_kresd.replies.append(printed(json.dumps({"ok": True, "result": result})))
    stats = await KresdControl(fake_kresd.path).stats()
    assert stats == {"worker.queries": 5.0, "worker.rss": 1.5, "cache.count": 2.0}


async def test_kresd_without_socket(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="cannot talk to kresd control socket"):
        await KresdControl(tmp_path / "none.sock").flush_all()


# --- unbound-control ------------------------------------------------------------------


async def test_unbound_control_commands_and_parsing(tmp_path: Path) -> None:
    argv_file = tmp_path / "argv"
    program = write_script(
        tmp_path / "unbound-control", FAKE_UNBOUND_CONTROL, argv_file=str(argv_file), mode="ok"
    )
    control = UnboundControl(program, tmp_path / "unbound.conf")
    report = await control.flush_all()
    assert report.removed == 6
    assert "flush_infra all: ok" in report.detail
    report = await control.flush_name("lab")
    assert report.removed == 6
    stats = await control.stats()
    assert stats == {"total.num.queries": 12.0, "time.up": 3.5}
    assert argv_file.read_text().splitlines() == [
        f"-c {tmp_path}/unbound.conf flush_zone .",
        f"-c {tmp_path}/unbound.conf flush_infra all",
        f"-c {tmp_path}/unbound.conf flush_zone lab.",
        f"-c {tmp_path}/unbound.conf stats_noreset",
    ]
    with pytest.raises(ValueError):
        await control.flush_name("bad..name")


async def test_unbound_control_failure_and_timeout(tmp_path: Path) -> None:
    failing = write_script(
        tmp_path / "fail" / "unbound-control",
        FAKE_UNBOUND_CONTROL,
        argv_file=str(tmp_path / "argv"),
        mode="fail",
    )
    with pytest.raises(ControlError, match=r"flush_zone \. failed \(exit 1\): error: connect"):
        await UnboundControl(failing, tmp_path / "unbound.conf").flush_all()
    hanging = write_script(
        tmp_path / "hang" / "unbound-control",
        FAKE_UNBOUND_CONTROL,
        argv_file=str(tmp_path / "argv"),
        mode="hang",
    )
    control = UnboundControl(hanging, tmp_path / "unbound.conf", timeout=0.5)
    with pytest.raises(ControlError, match="did not finish in 0.5 s"):
        await control.stats()


async def test_unbound_control_found_next_to_overridden_binary(tmp_path: Path) -> None:
    spec = fake_spec(tmp_path, "ok")
    assert spec.binary is not None
    sibling = write_script(
        spec.binary.parent / "unbound-control",
        FAKE_UNBOUND_CONTROL,
        argv_file=str(tmp_path / "argv"),
        mode="ok",
    )
    async with ManagedResolver.from_spec(spec) as resolver:
        report = await resolver.flush_name("lab.")
    assert report.removed == 6
    assert (tmp_path / "argv").read_text().strip() == (
        f"-c {spec.workdir}/unbound.conf flush_zone lab."
    )
    assert sibling.exists()


async def test_missing_unbound_control_is_reported_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(implementations, "_SBIN", ())
    spec = fake_spec(tmp_path, "ok", with_control=False)
    resolver = ManagedResolver.from_spec(spec)
    with pytest.raises(BinaryMissing, match="unbound-control not found.*'unbound'"):
        await resolver.start()
    assert resolver.pid is None
