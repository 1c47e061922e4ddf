"""Unbound's dnstap over TCP and TLS (``dnstap-ip``, ``dnstap-tls``: the docs/DEPLOY.md
settings) into the harness.

A real Unbound, configured by hand as an operator would (no lab needed: it answers local
data itself, nothing leaves loopback), sends its client queries over Frame Streams on TCP to
the harness's dnstap intake -- in the clear, or inside TLS with a client certificate the
harness requires; a query its client sent over TCP arrives marked for TCP replay.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import pytest

from harness.config import DnstapConfig, TlsConfig
from harness.fakes import RecordingSink
from harness.intake.dnstap import DnstapIntake

pytestmark = [pytest.mark.integration]

LISTEN, PORT = "127.55.0.72", 5081

CONFIG = """\
server:
    interface: {listen}@{port}
    port: {port}
    do-ip6: no
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    directory: "{work}"
    username: ""
    chroot: ""
    use-syslog: no
    logfile: "{work}/unbound.log"
    pidfile: "{work}/unbound.pid"
    local-zone: "shadow.example." static
    local-data: "udp.shadow.example. A 192.0.2.1"
    local-data: "tcp.shadow.example. A 192.0.2.2"
remote-control:
    control-enable: no
dnstap:
    dnstap-enable: yes
    dnstap-bidirectional: yes
    dnstap-ip: "127.0.0.1@{tap_port}"
{tls}
    dnstap-send-identity: yes
    dnstap-identity: "staging-unbound-1"
    dnstap-log-client-query-messages: yes
    dnstap-log-client-response-messages: yes
"""


@pytest.mark.parametrize("over", ["tcp", "tls"])
async def test_unbound_dnstap_over_tcp_keeps_the_transport(
        tmp_path: Path, tls_files: dict[str, Path], over: str,
        stop_process: Callable[..., None]) -> None:
    if shutil.which("unbound") is None:
        pytest.skip("unbound is not installed")
    tls = None
    unbound_tls = "    dnstap-tls: no"
    if over == "tls":
        tls = TlsConfig(cert=tls_files["cert"], key=tls_files["key"], client_ca=tls_files["ca"])
        unbound_tls = "\n".join([
            "    dnstap-tls: yes",
            '    dnstap-tls-server-name: "shadow.test"',
            f'    dnstap-tls-cert-bundle: "{tls_files["ca"]}"',
            f'    dnstap-tls-client-key-file: "{tls_files["client_key"]}"',
            f'    dnstap-tls-client-cert-file: "{tls_files["client_cert"]}"'])
    intake = DnstapIntake(DnstapConfig(tcp=("127.0.0.1", 0), tls=tls))
    sink = RecordingSink()
    await intake.start(sink)
    assert intake.address is not None
    conf = tmp_path / "unbound.conf"
    conf.write_text(CONFIG.format(listen=LISTEN, port=PORT, work=tmp_path,
                                  tap_port=intake.address[1], tls=unbound_tls))
    proc = subprocess.Popen(["unbound", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:  # until Unbound answers
            try:
                await dns.asyncquery.udp(dns.message.make_query("udp.shadow.example.", "A"),
                                         LISTEN, timeout=0.5, port=PORT)
                break
            except (OSError, dns.exception.Timeout):
                assert proc.poll() is None and loop.time() < deadline, \
                    (tmp_path / "unbound.log").read_text()
                await asyncio.sleep(0.1)
        await dns.asyncquery.tcp(dns.message.make_query("tcp.shadow.example.", "A"),
                                 LISTEN, timeout=2, port=PORT)
        while not any(q.qname == "tcp.shadow.example." for q in sink.queries):
            assert loop.time() < deadline + 10, intake.stats
            await asyncio.sleep(0.05)
    finally:
        stop_process(proc)
        await intake.close()
    seen = {q.qname: q.tcp for q in sink.queries}
    assert seen["udp.shadow.example."] is False
    assert seen["tcp.shadow.example."] is True
    assert all(q.client == "127.0.0.1" for q in sink.queries)
    assert intake.stats["bad_frames"] == 0
