"""dnsdist's ``TeeAction(remote, addECS=true)`` (the docs/DEPLOY.md setting for dnsdist before
1.9) into the UDP mirror with ``client_from_ecs``: the client's subnet becomes the query's
client and the option is gone from the packet the harness would replay.

dnsdist answers the clients itself here (``SpoofAction``), so no backend is needed; everything
stays on loopback.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.message
import pytest

from harness.config import UdpMirrorConfig
from harness.fakes import RecordingSink
from harness.intake.udp_mirror import UdpMirrorIntake

pytestmark = [pytest.mark.integration]

DNSDIST = ("127.55.0.93", 5393)

CONF = """
setSecurityPollSuffix("")
setLocal("{listen}")
setECSSourcePrefixV4(24)
addAction(AllRule(), TeeAction("127.0.0.1:{mirror}", true))
addAction(AllRule(), SpoofAction("192.0.2.1"))
"""


async def test_dnsdist_ecs_names_the_client(tmp_path: Path,
                                            stop_process: Callable[..., None]) -> None:
    program = shutil.which("dnsdist")
    if program is None:
        pytest.skip("dnsdist is not installed")
    intake = UdpMirrorIntake(UdpMirrorConfig(listen=("127.0.0.1", 0), client_from_ecs=True))
    sink = RecordingSink()
    await intake.start(sink)
    conf = tmp_path / "dnsdist.conf"
    conf.write_text(CONF.format(listen=f"{DNSDIST[0]}:{DNSDIST[1]}", mirror=intake.address[1]))
    log = (tmp_path / "dnsdist.log").open("wb")
    proc = subprocess.Popen([program, "--supervised", "--disable-syslog", "-C", str(conf)],
                            stdout=log, stderr=subprocess.STDOUT)
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 15
        while True:
            try:
                await dns.asyncquery.udp(dns.message.make_query("probe.test.", "A"),
                                         DNSDIST[0], timeout=0.5, port=DNSDIST[1])
                break
            except (OSError, dns.exception.Timeout):
                assert proc.poll() is None and loop.time() < deadline, \
                    (tmp_path / "dnsdist.log").read_text()
                await asyncio.sleep(0.1)
        asked = dns.message.make_query("WwW.Mirrored.test.", "A", use_edns=0,
                                       want_dnssec=True)
        await dns.asyncquery.udp(asked, DNSDIST[0], timeout=2, port=DNSDIST[1],
                                 source="127.0.0.1")
        while not any(q.qname == "WwW.Mirrored.test." for q in sink.queries):
            assert loop.time() < deadline + 5, intake.stats
            await asyncio.sleep(0.05)
    finally:
        stop_process(proc)
        log.close()
        await intake.close()
    query = next(q for q in sink.queries if q.qname == "WwW.Mirrored.test.")
    assert query.client == "127.0.0.0"  # 127.0.0.1 in a /24, as dnsdist sent it
    replayed = dns.message.from_wire(query.wire or b"")
    assert not any(isinstance(o, dns.edns.ECSOption) for o in replayed.options)
    assert replayed.ednsflags & dns.flags.DO and replayed.id == asked.id
    assert intake.stats["client_from_ecs"] >= 1
