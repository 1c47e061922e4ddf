"""The bus roles with the real engine: a redis-server of the test's own on loopback (no
persistence, in a temporary directory, stopped by PID), DNS servers of the test's own on
127.0.0.1 as candidate and reference, and `shadowdns bus` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from harness.api import ApiServer
from harness.bus.codec import decode_result, encode_observation, encode_outcome, encode_query
from harness.bus.roles import (
    Collector,
    IntakeNode,
    ResultSink,
    Worker,
    accounts,
    connect,
    keys,
)
from harness.config import BusConfig, SamplerConfig, StoreConfig
from harness.exactjudge import ExactJudge
from harness.fakes import FakeTarget
from harness.pipeline import Pipeline
from harness.records import Observation, Query, TargetAnswer
from harness.sampler import Sampler
from harness.store import Store
from tests.unit.test_harness_interrupt import _count as stored_count

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (ci/setup.sh installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """redis-server on 127.0.0.1 (a free port), no RDB, its files in ``workdir``; with
    ``aof`` the append-only file on (a restart keeps the streams, groups and counts)."""

    def __init__(self, workdir: Path, *, aof: bool = False) -> None:
        self.workdir = workdir
        self.aof = aof
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.aof else "no", "--dir", str(self.workdir),
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            assert proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (a clean shutdown: the AOF is written through), by PID."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _served(workdir: Path, *, aof: bool) -> Iterator[RedisServer]:
    workdir.mkdir()
    server = RedisServer(workdir, aof=aof)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """redis-server without persistence (``--save '' --appendonly no``)."""
    yield from _served(tmp_path / "redis", aof=False)


@pytest.fixture
def redis_aof(tmp_path: Path) -> Iterator[RedisServer]:
    """redis-server with the append-only file on (``--appendonly yes``)."""
    yield from _served(tmp_path / "redis-aof", aof=True)


@pytest.fixture
def dns_server(tiny_dns: Callable[..., int]) -> int:
    """A UDP DNS server on 127.0.0.1 answering every query after DELAY seconds (so that
    a worker always has queries in flight)."""
    return tiny_dns(delay=DELAY)


DELAY = 0.05


@pytest.fixture
async def bus(redis_server: RedisServer) -> AsyncIterator[BusConfig]:
    yield BusConfig(redis=redis_server.url, shards=2, stream_cap=10)


def _query(i: int) -> Query:
    return Query(qname=f"n{i}.example{i % 5}.com.", qtype=1)


async def test_the_stream_cap_sheds_the_oldest_undelivered_and_counts_them(
        bus: BusConfig) -> None:
    one = BusConfig(redis=bus.redis, shards=1, stream_cap=10)
    r = connect(one)
    try:
        await r.set(keys(one).run, 1)
        node = IntakeNode(r, one, Sampler(SamplerConfig()))
        await node.start()
        stream = keys(one).streams[0]
        for i in range(6):
            node.offer(_query(i))
        await node.flush()
        # a worker takes 4 (they are pending: being worked on, never trimmed)
        taken = await r.xreadgroup("workers", "w1", {stream: ">"}, count=4)
        taken_ids = [entry_id for entry_id, _ in taken[0][1]]
        for i in range(6, 30):
            node.offer(_query(i))
            if i % 8 == 5:  # (flushed in batches: at most the cap is buffered)
                await node.flush()
        await node.close()
        assert await r.xlen(stream) == 10
        left = [entry_id for entry_id, _ in await r.xrange(stream)]
        assert left[:4] == taken_ids  # the pending ones kept
        counts = await accounts(r, one)
        assert counts["published"] == 30 and counts["shed"] == counts["shed_cap"] == 20
        assert counts["sampled"] == 30
        assert counts["intakes_done"] == 1
        assert [int(f[b"id"]) for _, f in await r.xrange(stream)][4:] == list(range(25, 31))
    finally:
        await r.aclose()


async def test_the_collector_stores_once_and_counts_each_query_in_one_bucket(
        bus: BusConfig, tmp_path: Path) -> None:
    r = connect(bus)
    store = Store(StoreConfig(path=tmp_path / "shadow.db", commit_interval=0.05),
                  ignore_duplicates=True)
    collector = Collector(r, bus, store, "c1")
    try:
        await collector.start()
        assert await r.get(keys(bus).run) == b"1"

        def observation(i: int) -> Observation:
            return Observation(query=_query(i), id=i,
                               answers={"candidate": TargetAnswer("candidate", b"x", 0.1)})

        results = keys(bus).results
        for fields in (encode_observation(observation(1), None),
                       encode_observation(observation(1), None),  # compared twice
                       encode_observation(observation(2), None),
                       encode_outcome("expired", 2),  # a late second outcome: ignored
                       encode_outcome("failed", 3),
                       encode_outcome("failed", 3)):
            await r.xadd(results, fields)  # type: ignore[arg-type]
        await r.hset(keys(bus).counts, mapping={"sampled": 3, "published": 3,
                                                "intakes_done": 1})
        assert await collector.run(asyncio.Event(), until_drained=True, duration=10) == \
            "drained"
        counts = await collector.close()
        assert counts["stored"] == 2 and counts["failed"] == 1
        assert counts.get("expired", 0) == 0 and counts["duplicates"] == 3
        assert await r.xlen(results) == 0  # acknowledged and deleted
    finally:
        await r.aclose()
    db = sqlite3.connect(tmp_path / "shadow.db")
    try:
        assert [r[0] for r in db.execute("SELECT id FROM observations ORDER BY id")] == [1, 2]
        assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 2
        assert db.execute("SELECT run_id FROM observations").fetchone()[0] == 1
    finally:
        db.close()


async def test_ids_continue_after_what_the_store_holds(bus: BusConfig, tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    store = Store(StoreConfig(path=path))
    store.open()
    store.start_run({}, {})
    for i in range(1, 8):
        store.add(Observation(query=_query(i), id=store.next_id()), None)
    store.close()
    r = connect(bus)
    try:
        collector = Collector(r, bus, Store(StoreConfig(path=path), ignore_duplicates=True),
                              "c1")
        await collector.start()
        node = IntakeNode(r, bus, Sampler(SamplerConfig()))
        await node.start()
        node.offer(_query(100))
        await node.close()
        fields = [f for s in keys(bus).streams for _, f in await r.xrange(s)]
        assert [int(f[b"id"]) for f in fields] == [8]
        await collector.close()
    finally:
        await r.aclose()


N = 300


def _roles(tmp_path: Path, redis_url: str, port: int) -> dict[str, list[str]]:
    common = ["--redis", redis_url, "--shards", "3", "--live", "off"]
    targets = ["--candidate", f"127.0.0.1:{port}", "--reference", f"address@127.0.0.1:{port}",
               "--timeout", "2", "--judge", "exact"]
    shadowdns = [sys.executable, "-m", "shadowdns", "bus"]
    names = tmp_path / "names.txt"
    names.write_text("".join(f"q{i}.domain{i % 17}.example. A\n" for i in range(N)))
    return {
        "collect": [*shadowdns, "collect", *common, "--db", str(tmp_path / "shadow.db"),
                    "--until-drained", "--consumer", "collector"],
        "intake": [*shadowdns, "intake", *common, "--query-list", str(names)],
        "worker": [*shadowdns, "worker", *common, *targets, "--claim-timeout", "1",
                   "--max-in-flight", "4"],
    }


@pytest.mark.parametrize("restart", [False, True], ids=["worker-killed",
                                                        "worker-killed+redis-restarted"])
def test_processes_one_worker_killed_every_query_stored_once(
        tmp_path: Path, redis_aof: RedisServer, dns_server: int, restart: bool) -> None:
    """1 intake + 3 workers + collector as processes; one worker SIGKILLed mid-run (and,
    in the second case, Redis stopped and started again later in the run, AOF on)."""
    cmds = _roles(tmp_path, redis_aof.url, dns_server)
    db = tmp_path / "shadow.db"
    procs: dict[str, subprocess.Popen[str]] = {}

    def start(name: str, cmd: list[str]) -> subprocess.Popen[str]:
        with open(tmp_path / f"{name}.err", "w") as err:  # (the child keeps its own copy)
            proc = subprocess.Popen(
                [*cmd, *(["--consumer", name] if "worker" in name else [])], cwd=tmp_path,
                stdout=subprocess.PIPE, stderr=err, text=True)
        procs[name] = proc
        return proc

    try:
        collector = start("collect", cmds["collect"])
        workers = [start(f"worker{i}", cmds["worker"]) for i in range(3)]
        intake = start("intake", cmds["intake"])
        deadline = time.monotonic() + 60
        while stored_count(db) < 30:
            assert time.monotonic() < deadline, (tmp_path / "worker0.err").read_text()
            assert collector.poll() is None, (tmp_path / "collect.err").read_text()
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # mid-run, with queries in flight
        workers[0].wait(10)
        if restart:
            while stored_count(db) < 100:
                assert time.monotonic() < deadline, (tmp_path / "collect.err").read_text()
                time.sleep(0.05)
            assert stored_count(db) < N  # (still mid-run)
            redis_aof.stop()
            time.sleep(1.0)  # every role finds Redis away
            redis_aof.start()
        out, _ = collector.communicate(timeout=120)
        assert collector.returncode == 0, (tmp_path / "collect.err").read_text()
        intake_out, _ = intake.communicate(timeout=30)
        assert intake.returncode == 0, (tmp_path / "intake.err").read_text()
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        worker_outs = [w.communicate(timeout=30)[0] for w in workers[1:]]
        assert all(w.returncode == 0 for w in workers[1:])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:  # (never left to the garbage collector)
                proc.stdout.close()
    assert f"published {N}" in intake_out
    waited = [name for name in ("collect", "worker1", "worker2")
              if "(trying again)" in (tmp_path / f"{name}.err").read_text()]
    assert bool(waited) == restart, waited  # (each that used Redis in that second says so)
    assert f"bus: sampled {N}: stored {N}, shed 0, expired 0, failed 0, capped 0 " \
           f"(counts add up); published {N}," in out, out
    claimed = int(out.split("re-claimed ")[1].split()[0])
    assert claimed >= 1, out  # the killed worker's queries were taken over
    compared = sum(int(o.split("compared ")[1].split(",")[0]) for o in worker_outs)
    assert 0 < compared < N  # the killed worker did its share too
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT qname, count(*) FROM observations GROUP BY qname"
                                  ).fetchall()
        answers = connection.execute("SELECT count(*) FROM answers").fetchone()[0]
        status = connection.execute("SELECT status FROM runs").fetchone()[0]
    finally:
        connection.close()
    assert len(rows) == N and all(n == 1 for _, n in rows)
    assert {q for q, _ in rows} == {f"q{i}.domain{i % 17}.example." for i in range(N)}
    assert answers == 2 * N  # candidate and reference, each once
    assert status == "finished"


async def test_a_worker_compares_expires_and_fails_and_settles_each_entry(
        bus: BusConfig) -> None:
    """In one process with fake targets: an entry older than max_age is expired, one that a
    dead consumer held is re-claimed and, past max_deliveries, failed; one of another
    version is failed; a good one is compared; every query entry is acknowledged and
    deleted, and each has exactly one outcome."""
    config = BusConfig(redis=bus.redis, shards=2, max_age=60, max_deliveries=1,
                       claim_timeout=0.2)
    k = keys(config)
    r = connect(config)
    try:
        for stream in k.streams:
            await r.xgroup_create(stream, "workers", id="0", mkstream=True)
        await r.xadd(k.streams[1], encode_query(1, _query(1)), id="1000-0")  # type: ignore[arg-type]
        await r.xadd(k.streams[0], encode_query(2, _query(2)))  # type: ignore[arg-type]
        await r.xreadgroup("workers", "dead", {k.streams[0]: ">"}, count=1)  # then it died
        await r.xadd(k.streams[0], encode_query(3, _query(3)))  # type: ignore[arg-type]
        await r.xadd(k.streams[0], {**encode_query(4, _query(4)), b"v": b"9"})  # type: ignore[arg-type]
        await asyncio.sleep(0.3)  # the dead consumer's entry is idle past claim_timeout

        worker = Worker(r, config, "w1")
        pipeline = Pipeline(intakes=[], sampler=Sampler(SamplerConfig(adaptive=False)),
                            targets=[FakeTarget("candidate"), FakeTarget("reference")],
                            judge=ExactJudge(), store=ResultSink(worker))
        worker.attach(pipeline)
        await pipeline.start()
        await worker.start()
        api = ApiServer(pipeline, "127.0.0.1", 0)  # (what `bus worker --api` serves)
        await api.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.0, stop.set)
        assert await worker.run(stop) == "stopped"
        async with aiohttp.ClientSession() as session, session.get(
                f"http://127.0.0.1:{api.port}/metrics") as response:
            metrics = await response.text()
        await api.stop()
        assert 'shadowdns_queries_total{stage="compared"} 1' in metrics
        await pipeline.close()
        await worker.close()

        outcomes = {}
        for _, fields in await r.xrange(k.results):
            kind, query_id, observation, _ = decode_result(fields)
            assert query_id not in outcomes
            outcomes[query_id] = kind
            if observation is not None:
                assert set(observation.answers) == {"candidate", "reference"}
        assert outcomes == {1: "expired", 2: "failed", 3: "observation", 4: "failed"}
        for stream in k.streams:
            assert await r.xlen(stream) == 0
            assert (await r.xpending(stream, "workers"))["pending"] == 0
        counts = await accounts(r, config)
        assert (counts["compared"], counts["expired"], counts["failed"],
                counts["claimed"]) == (1, 1, 2, 1)
        assert await r.hgetall(k.versions) == {b"candidate": b"fake candidate",
                                               b"reference": b"fake reference"}
    finally:
        await r.aclose()


@pytest.mark.parametrize(("argv", "said"), [
    (["worker", "--shards", "0"], "--shards: 0 must be >= 1"),
    (["worker", "--shard-set", "7", "--candidate", "127.0.0.1:53", "--reference",
      "address@127.0.0.1:53"], "--shard-set: '7' is not a shard number below 4"),
    (["collect", "--redis", "http://x"],
     "--redis: 'http://x' is not a redis://, rediss:// or unix:// URL"),
    (["worker"], "no reference: give --reference"),
    (["intake", "--query-list", "missing.txt"], "--query-list missing.txt: cannot read"),
])
def test_bad_input_is_one_line_naming_the_flag(argv: list[str], said: str,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    from shadowdns.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["bus", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"shadowdns bus {argv[0]}: ") and said in err
    assert len(err.strip().splitlines()) == 1


def test_a_bus_config_file_error_names_its_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from shadowdns.cli import main

    config = tmp_path / "shadow.yaml"
    config.write_text("store: {path: x.db}\nbus:\n  shards: 2\n  claim_timeout: 0\n")
    assert main(["bus", "collect", "--config", str(config)]) == 2
    assert f"{config}:4: bus.claim_timeout: 0 must be > 0" in capsys.readouterr().err


async def test_an_intake_node_buffers_at_most_the_cap_and_counts_the_rest_shed(
        bus: BusConfig) -> None:
    """While nothing is published (Redis away), a live input's queries are buffered up to
    what the streams may hold (stream_cap x shards); the rest are shed and counted, so that
    sampled = stored + buckets holds."""
    config = BusConfig(redis=bus.redis, shards=1, stream_cap=3)
    r = connect(config)
    try:
        node = IntakeNode(r, config, Sampler(SamplerConfig()))
        for i in range(5):
            node.offer(_query(i))
        assert (node.counters["sampled"], node.counters["shed_buffer"]) == (5, 2)
        await node.start()
        await node.close()
        counts = await accounts(r, config)
        assert (counts["sampled"], counts["published"], counts["shed"]) == (5, 3, 2)
        assert sum([await r.xlen(s) for s in keys(config).streams]) == 3
    finally:
        await r.aclose()
