"""A reference killed mid-run and restarted (issue 24 part 5): its gap is counted as the
reference not answering (timeouts on the reference side), never as divergences, and
comparisons are equal again once it is back.  The reference is a real DNS server process on
loopback, killed with SIGKILL; the judge is the real differ; the store is real SQLite."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from harness.config import SamplerConfig, StoreConfig
from harness.differ import Differ
from harness.fakes import FakeTarget, address_reply
from harness.intake.base import IntakeSink
from harness.pipeline import Pipeline
from harness.records import CANDIDATE
from harness.sampler import Sampler
from harness.store import Store, StoreReader
from harness.targets import AddressTarget
from tests.unit.test_harness_pipeline import ListIntake, mk

SERVER = """
import socket, sys
import dns.message, dns.rrset, dns.flags
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65535)
    q = dns.message.from_wire(data)
    r = dns.message.make_response(q)
    r.flags |= dns.flags.RA
    r.answer.append(dns.rrset.from_text(q.question[0].name, 300, "IN", "A", "127.100.0.1"))
    s.sendto(r.to_wire(), addr)
"""


def start_reference(port: int = 0) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


class PacedIntake(ListIntake):
    """Offers its queries one every ``every`` seconds, so the run spans the kill."""

    def __init__(self, queries: list, every: float) -> None:  # type: ignore[type-arg]
        super().__init__(queries)
        self.every = every

    async def _run(self, sink: IntakeSink) -> None:
        for query in self.queries:
            await sink.room()
            sink.offer(query)
            self.done += 1
            await asyncio.sleep(self.every)
        self._finished.set()


async def test_reference_killed_and_restarted_is_a_gap_not_divergences(tmp_path: Path) -> None:
    reference, port = start_reference()
    queries = [mk(f"n{i}.lab.", client_port=i) for i in range(240)]
    pipeline = Pipeline(
        intakes=[PacedIntake(queries, 0.01)],
        sampler=Sampler(SamplerConfig(dedup_window=0)),
        targets=[FakeTarget(CANDIDATE, address_reply("127.100.0.1")),
                 AddressTarget("ref", "127.0.0.1", port, timeout=0.3)],
        judge=Differ(),
        store=Store(StoreConfig(path=tmp_path / "p.db", commit_interval=0.05)),
        run_config={"test": True},
    )
    restarted: subprocess.Popen[str] | None = None
    try:
        async with pipeline:
            run = asyncio.create_task(pipeline.run(duration=60))
            counters = pipeline.metrics.counters
            while counters["compared"] < 60:
                await asyncio.sleep(0.01)
            reference.send_signal(signal.SIGKILL)  # mid-run, without warning
            reference.wait(5)
            killed_at = counters["compared"]
            while counters["compared"] < killed_at + 40:
                await asyncio.sleep(0.01)
            restarted, _ = start_reference(port)  # back on the same port
            assert await asyncio.wait_for(run, 60) == "inputs_done"
    finally:
        for proc in (reference, restarted):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(5)
            if proc is not None and proc.stdout is not None:
                proc.stdout.close()  # (never left to the garbage collector)
    verdicts = pipeline.metrics.verdicts
    assert verdicts.get("real", 0) == 0 and verdicts.get("unstable", 0) == 0
    assert verdicts["timeout"] >= 30 and verdicts["equal"] >= 100
    assert sum(verdicts.values()) == len(queries)
    reader = StoreReader(tmp_path / "p.db")
    try:
        sides: Counter[str] = Counter()
        order = []
        for obs in reader.observations(pipeline.run_id or 0):
            verdict = reader.verdict(obs.id or 0)
            assert verdict is not None
            order.append(verdict.kind.value)
            if verdict.kind.value == "timeout":
                sides[str(verdict.evidence.side)] += 1
                assert obs.answers["ref"].wire is None and obs.answers[CANDIDATE].wire
    finally:
        reader.close()
    assert sides == Counter({"reference": verdicts["timeout"]})  # never blamed on the candidate
    # one gap: equal, then the reference's timeouts, then equal again once it is back
    first, last = order.index("timeout"), len(order) - 1 - order[::-1].index("timeout")
    assert set(order[:first]) == {"equal"} and set(order[last + 1:]) == {"equal"}
    assert len(order) - 1 - last >= 50
