"""``shadowdns resolver serve`` as a user runs it: a process on loopback, asked over UDP and TCP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from lab.run import LabInfo

pytestmark = pytest.mark.integration

LISTEN = ("127.0.0.13", 5354)


@pytest.fixture(scope="module")
def candidate(lab: LabInfo, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[str, int]]:
    log_path = tmp_path_factory.mktemp("candidate") / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowdns", "resolver", "serve", "--lab",
         "--listen", f"{LISTEN[0]}:{LISTEN[1]}", "--root-hints", str(lab.hints_path),
         "--egress", lab.egress["candidate"]],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            try:
                dns.query.udp(dns.message.make_query("localhost.", "A"), LISTEN[0],
                              port=LISTEN[1], timeout=0.5)
                break
            except dns.exception.Timeout:
                continue
        yield LISTEN
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


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
