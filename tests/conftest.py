"""Fixtures shared by the integration and system tests: the lab as a real background process.

One lab per test session (it binds port 53 on 127.53.x.y, so there can only be one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.run import LabInfo, LabProcess


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    """The default lab world, served on 127.53.0.0/16 port 53 for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("the lab binds port 53 on 127.53.x.y: run as root (CI does)")
    proc = LabProcess(Path(tmp_path_factory.mktemp("lab")))
    info = proc.start()
    try:
        yield info
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
def _upstream_only_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate's network transport, in this process, sends only to loopback: a test that
    forgot to point the candidate at the lab or a mock (say, left it on the bundled IANA root
    hints) fails instead of sending a packet to a real server."""
    import ipaddress

    import dns.message

    from resolver.conductor.transport import NetworkTransport

    real = NetworkTransport.query

    async def query(self: NetworkTransport, address: str, message: dns.message.Message, *,
                    tcp: bool, timeout: float) -> dns.message.Message:
        if not ipaddress.ip_address(address).is_loopback:
            raise AssertionError(f"a test made the candidate send to {address} (not loopback)")
        return await real(self, address, message, tcp=tcp, timeout=timeout)

    monkeypatch.setattr(NetworkTransport, "query", query)
