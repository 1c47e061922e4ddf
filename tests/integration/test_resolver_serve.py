"""``shadowdns resolver serve`` as a user runs it: a process on loopback, asked over UDP and TCP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from lab.run import LabInfo

pytestmark = pytest.mark.integration

LISTEN = ("127.0.0.13", 5354)


def _serve(lab: LabInfo, log_path: Path, listen: tuple[str, int], *flags: str
           ) -> Iterator[tuple[str, int]]:
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowdns", "resolver", "serve",
         "--listen", f"{listen[0]}:{listen[1]}", "--lab", str(lab.state_dir),
         "--egress", lab.egress["candidate"], *flags],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            try:
                dns.query.udp(dns.message.make_query("localhost.", "A"), listen[0],
                              port=listen[1], timeout=0.5)
                break
            except dns.exception.Timeout:
                continue
        yield listen
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("candidate") / "serve.log"


@pytest.fixture(scope="module")
def candidate(lab: LabInfo, serve_log: Path) -> Iterator[tuple[str, int]]:
    yield from _serve(lab, serve_log, LISTEN)


def test_lab_validates_and_the_banner_says_with_what(
        lab: LabInfo, candidate: tuple[str, int], serve_log: Path) -> None:
    bogus = dns.query.udp(dns.message.make_query("www.nokey.broken.", "A", use_edns=0),
                          candidate[0], port=candidate[1], timeout=5)
    assert bogus.rcode() == dns.rcode.SERVFAIL
    secure = dns.query.udp(dns.message.make_query("www.example.lab.", "A", want_dnssec=True),
                           candidate[0], port=candidate[1], timeout=5)
    assert secure.rcode() == dns.rcode.NOERROR and secure.flags & dns.flags.AD
    text = serve_log.read_text()
    assert f"resolver: root hints: {lab.hints_path} (" in text
    assert f"resolver: DNSSEC validation on: trust anchor {lab.anchor_path} (. key tags " in text


def test_no_validation_answers_the_bogus_name(lab: LabInfo, tmp_path: Path) -> None:
    listen = (LISTEN[0], LISTEN[1] + 1)
    log_path = tmp_path / "serve.log"
    server = _serve(lab, log_path, listen, "--no-validation")
    next(server)
    try:
        r = dns.query.udp(dns.message.make_query("www.nokey.broken.", "A"), listen[0],
                          port=listen[1], timeout=5)
        assert r.rcode() == dns.rcode.NOERROR and r.answer
        assert "resolver: DNSSEC validation OFF (--no-validation)" in log_path.read_text()
    finally:
        server.close()


def test_udp_and_tcp_answers(candidate: tuple[str, int]) -> None:
    q = dns.message.make_query("alias.example.lab.", "A")
    r = dns.query.udp(q, candidate[0], port=candidate[1], timeout=5)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.RA
    assert [x.rdtype for x in r.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    t = dns.query.tcp(dns.message.make_query("www.tc.lab.", "A"), candidate[0],
                      port=candidate[1], timeout=5)
    assert t.answer and t.answer[0][0].address == "127.100.8.5"


def test_large_answer_truncates_over_udp_and_arrives_over_tcp(candidate: tuple[str, int]
                                                              ) -> None:
    q = dns.message.make_query("big.example.lab.", "TXT", use_edns=0, payload=1232)
    r = dns.query.udp(q, candidate[0], port=candidate[1], timeout=5)
    assert r.flags & dns.flags.TC
    r, used_tcp = dns.query.udp_with_fallback(q, candidate[0], port=candidate[1], timeout=5)
    assert used_tcp and len(r.answer[0]) == 4


def test_bad_packets_do_not_kill_the_server(candidate: tuple[str, int]) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"", b"\x00", b"\xff" * 12, b"\x12\x34" + b"\x00" * 30):
            s.sendto(junk, candidate)
    r = dns.query.udp(dns.message.make_query("www.example.lab.", "A"), candidate[0],
                      port=candidate[1], timeout=5)
    assert r.rcode() == dns.rcode.NOERROR
