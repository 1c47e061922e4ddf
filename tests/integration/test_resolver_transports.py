"""``shadowdns resolver serve --dot --doh`` asked by real clients: ``dig +tls``, ``dig +https``.

Every name is asked over UDP (TCP for the large one) and over DoT, DoH POST and DoH GET; the
rcode and the answer records (TTL aside: it counts down between asks) must be the same.
Garbage on the TLS and HTTPS ports must not stop the server from answering.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.run import LabInfo
from tests.integration.test_resolver_serve import _serve

pytestmark = pytest.mark.integration

LISTEN = ("127.0.0.14", 5356)
DOT, DOH = 5857, 5443
# (name, type, the plain-DNS transport to compare with): an A, a CNAME chain, an NXDOMAIN,
# a bogus name (SERVFAIL), and an answer too large for UDP
NAMES = [("www.example.lab", "A", "udp"), ("alias.example.lab", "A", "udp"),
         ("no-such-name.example.lab", "A", "udp"), ("www.nokey.broken", "A", "udp"),
         ("big.example.lab", "TXT", "tcp")]
_STATUS = re.compile(r"status: (\w+)")


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("transports") / "serve.log"


@pytest.fixture(scope="module")
def candidate(lab: LabInfo, serve_log: Path) -> Iterator[tuple[str, int]]:
    yield from _serve(lab, serve_log, LISTEN, "--dot", str(DOT), "--doh", str(DOH))


def dig(*args: str) -> tuple[str, list[str]]:
    """The status and the answer records (TTL dropped, sorted) of one dig run."""
    out = subprocess.run(["dig", f"@{LISTEN[0]}", "+time=5", "+tries=1", "+noall", "+comments",
                          "+answer", *args], capture_output=True, text=True, timeout=30,
                         check=False)
    status = _STATUS.search(out.stdout)
    assert status is not None, f"dig {' '.join(args)}: no reply\n{out.stdout}{out.stderr}"
    records = []
    for line in out.stdout.splitlines():
        if line and not line.startswith(";"):
            name, _ttl, *rest = line.split()
            records.append(" ".join([name, *rest]))
    return status.group(1), sorted(records)


def test_banner_names_the_transports(candidate: tuple[str, int], serve_log: Path) -> None:
    text = serve_log.read_text()
    assert f"resolver: DoT on {LISTEN[0]}:{DOT}" in text
    assert f"resolver: DoH on https://{LISTEN[0]}:{DOH}/dns-query (h2, http/1.1)" in text


@pytest.mark.parametrize(("name", "rdtype", "plain"), NAMES)
def test_dig_gets_the_same_answer_over_every_transport(
        candidate: tuple[str, int], name: str, rdtype: str, plain: str) -> None:
    port = ["-p", str(LISTEN[1])]
    status, records = dig(*port, f"+{plain}" if plain == "tcp" else "+notcp", name, rdtype)
    if rdtype == "TXT":
        assert status == "NOERROR" and records
    for args in (["+tls", "-p", str(DOT)], ["+https", "-p", str(DOH)],
                 ["+https-get", "-p", str(DOH)]):
        assert dig(*args, name, rdtype) == (status, records), args


def test_dig_pipelines_over_one_tls_connection(candidate: tuple[str, int]) -> None:
    """dig +keepopen sends every question of the command line on one DoT connection."""
    out = subprocess.run(["dig", f"@{LISTEN[0]}", "-p", str(DOT), "+tls", "+keepopen",
                          "+short", "+time=5", "+tries=1", "www.example.lab", "A",
                          "alias.example.lab", "A"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert out.returncode == 0 and len(out.stdout.split()) >= 2, out.stdout + out.stderr


def _tls(port: int, alpn: str) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols([alpn])
    return context.wrap_socket(socket.create_connection((LISTEN[0], port), timeout=5))


def test_malformed_tls_and_http_do_not_stop_the_server(candidate: tuple[str, int]) -> None:
    for port in (DOT, DOH):
        for junk in (b"\x16\x03\x01\x40\x00" + b"\xee" * 300, b"\x80\x80garbage" * 50,
                     b"\x17\x03\x03\xff\xff" + b"\x00" * 20):
            with socket.create_connection((LISTEN[0], port), timeout=5) as raw:
                raw.sendall(junk)
                raw.shutdown(socket.SHUT_WR)
                try:
                    while raw.recv(4096):
                        pass
                except OSError:
                    pass
    with _tls(DOT, "dot") as s:  # a length prefix promising more than ever comes, then EOF
        s.sendall(b"\xff\xff" + b"\x00" * 100)
    with _tls(DOH, "http/1.1") as s:
        s.sendall(b"GET /dns-query?dns=!!! HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400")
    with _tls(DOH, "http/1.1") as s:
        s.sendall(b"\x00\x01\x02 not http at all\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400")
    with _tls(DOH, "h2") as s:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x99" + b"\xff" * 40)
    for args in (["+tls", "-p", str(DOT)], ["+https", "-p", str(DOH)]):
        assert dig(*args, "www.example.lab", "A")[0] == "NOERROR", args


@pytest.mark.parametrize("mode", ["dot", "doh"])
def test_dnsperf_over_dot_and_doh_gets_every_answer(candidate: tuple[str, int], mode: str,
                                                    tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("".join(f"{name} {rdtype}\n" for name, rdtype, _ in NAMES[:3]))
    port = DOT if mode == "dot" else DOH
    cmd = ["dnsperf", "-s", LISTEN[0], "-p", str(port), "-m", mode, "-d", str(names),
           "-c", "2", "-q", "20", "-n", "20", "-t", "5"]
    if mode == "doh":
        cmd += ["-O", f"doh-uri=https://{LISTEN[0]}:{DOH}/dns-query", "-O", "doh-method=POST"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
    completed = re.search(r"Queries completed:\s+(\d+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    assert completed is not None and lost is not None, out
    assert int(completed.group(1)) == 60 and int(lost.group(1)) == 0, out
    assert "NOERROR 40" in out and "NXDOMAIN 20" in out, out
