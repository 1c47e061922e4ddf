"""The running lab's counters, read from outside its process (what ``bench resolver`` uses)."""

from __future__ import annotations

import dns.message
import dns.query
import pytest

from lab.run import LabInfo, LabProcess

pytestmark = pytest.mark.integration

SOURCE = "127.54.9.9"  # a querier address no other test uses


def test_stats_count_queries_per_source(lab: LabInfo) -> None:
    proc = LabProcess(lab.state_dir)
    before = proc.stats()
    assert before["pid"] == lab.pid
    root = lab.root_servers[0][1]
    for _ in range(3):
        q = dns.message.make_query("www.example.lab.", "A")
        dns.query.udp(q, root, port=lab.port, source=SOURCE, timeout=5)
    after = proc.stats()
    assert after["dump"] > before["dump"]
    assert after["by_source"].get(SOURCE, 0) - before["by_source"].get(SOURCE, 0) == 3
    assert after["stats"]["queries"] >= before["stats"].get("queries", 0) + 3
