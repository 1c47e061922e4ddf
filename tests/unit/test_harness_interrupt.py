"""Ctrl-C during `shadowdns run`: the first says at once what the run waits for, the second
stops promptly, and what was compared before the signal stays in the store.

A real `shadowdns run` process (query list in, candidate and reference by address) against
a DNS server of the test's own on 127.0.0.1: it answers `fast*` names at once and never
answers `slow*` ones, so that queries are in flight when the signals come.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.message
import dns.rrset
import pytest

FAST, SLOW = 20, 30
TIMEOUT = 8.0  # per target: the drain would wait up to 2 * 8 + 5 = 21 s


@contextlib.contextmanager
def udp_dns_server(reply: Callable[[dns.message.Message, Callable[[bytes], object]], None]
                   ) -> Iterator[int]:
    """A UDP DNS server on 127.0.0.1 (its port yielded): ``reply(query, send)`` for every
    query it can read, ``send`` sending bytes back to the querier."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - a test server ignores what it cannot read
                continue
            reply(query, lambda wire, peer=peer: sock.sendto(wire, peer))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        done.set()
        thread.join(2)
        sock.close()


def a_record(query: dns.message.Message) -> bytes:
    """The response to ``query`` with one A record (192.0.2.1)."""
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A",
                                               "192.0.2.1"))
    return bytes(response.to_wire())


@pytest.fixture
def server() -> Iterator[int]:
    """A UDP DNS server on 127.0.0.1: answers fast* names, ignores slow* ones."""

    def reply(query: dns.message.Message, send: Callable[[bytes], object]) -> None:
        if not query.question[0].name.labels[0].startswith(b"slow"):
            send(a_record(query))

    with udp_dns_server(reply) as port:
        yield port


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(connection.execute("SELECT count(*) FROM observations").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def test_ctrl_c_twice_stops_promptly_and_keeps_the_store(tmp_path: Path, server: int) -> None:
    names = tmp_path / "names.txt"
    names.write_text("".join(f"fast{i}.example. A\n" for i in range(FAST))
                     + "".join(f"slow{i}.example. A\n" for i in range(SLOW)))
    db = tmp_path / "shadow.db"
    cmd = [sys.executable, "-m", "shadowdns", "run", "--query-list", str(names),
           "--candidate", f"127.0.0.1:{server}", "--reference", f"address@127.0.0.1:{server}",
           "--timeout", str(TIMEOUT), "--sample", "1", "--db", str(db), "--live", "off",
           "--judge", "exact"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # Each pipe has one reader of its own (communicate() would read stderr too, racing the
    # stderr reader for the "stopping now:" line).
    err: list[str] = []
    outs: list[str] = []
    stderr, stdout = proc.stderr, proc.stdout
    assert stderr is not None and stdout is not None
    reader = threading.Thread(target=lambda: err.extend(iter(stderr.readline, "")), daemon=True)
    out_reader = threading.Thread(target=lambda: outs.extend(iter(stdout.readline, "")),
                                  daemon=True)
    reader.start()
    out_reader.start()
    try:
        deadline = time.monotonic() + 30
        while _count(db) < FAST and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(err)
            time.sleep(0.1)
        before = _count(db)
        assert before >= FAST, "".join(err)
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 3
        while not any(line.startswith("stopping:") for line in err) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        said = next((line for line in err if line.startswith("stopping:")), None)
        assert said is not None, "".join(err)
        assert f"draining {SLOW} in-flight queries (up to 21 s)" in said
        assert "Ctrl-C again to stop now" in said
        assert proc.poll() is None  # still draining: it would wait for the slow queries
        second = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        took = time.monotonic() - second
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(2)
        out_reader.join(2)
        for stream in (proc.stdout, proc.stderr):  # (never left to the garbage collector)
            if stream is not None:
                stream.close()
    assert took < 5, f"{took:.1f} s after the second Ctrl-C"
    assert proc.returncode == 0, "".join(err)
    assert any(line.startswith("stopping now:") for line in err)
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        stored = {r[0] for r in connection.execute("SELECT qname FROM observations")}
        status = connection.execute("SELECT status FROM runs").fetchone()[0]
    finally:
        connection.close()
    assert len(stored) >= before and {f"fast{i}.example." for i in range(FAST)} <= stored
    assert status == "finished"
    out = "".join(outs)
    assert "shadow run 1:" in out and "(counts add up)" in out
