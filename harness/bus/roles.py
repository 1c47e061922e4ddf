"""The three roles on Redis Streams: intake node, worker, collector (docs/BUS.md).

Keys, under ``bus.prefix`` (P)::

    P:q:0 .. P:q:K-1   query streams (consumer group "workers"), one per shard
    P:results          observations and other outcomes (consumer group "collector")
    P:ids              the last query ID handed out (INCRBY: IDs in blocks)
    P:counts           the accounts (hash): what every role counted, added up by Redis
    P:run              the collector's run ID in its store: set when it is ready
    P:versions         target -> software version, as the workers found them
    P:floor            the collector's store's highest ID when this bus began: what the store
                       holds above it is ``stored``
    P:batch:TOKEN      an intake batch published (10 minutes: a retried batch is not
                       published twice)

Delivery: at least once, made exactly once where it is stored.  A worker acknowledges and
deletes a query entry only after its outcome is in the results stream; the collector only
after the store has committed it, and the store ignores an observation whose ID it already
holds.  Entries a dead worker held are re-claimed (XAUTOCLAIM) after ``claim_timeout``; an
entry delivered more than ``max_deliveries`` times is counted failed.  A query stream holds
at most ``stream_cap`` entries: beyond it the oldest entries not yet delivered are deleted
and counted ``shed`` (entries being worked on are never trimmed).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from harness.bus.codec import (
    CodecError,
    Fields,
    decode_query,
    decode_result,
    encode_observation,
    encode_outcome,
    encode_query,
)
from harness.bus.shard import shard_of
from harness.config import BusConfig, StoreConfig
from harness.intake.base import Intake, StagingKey
from harness.pipeline import Pipeline
from harness.records import Observation, Query, Verdict
from harness.sampler import Decision, Sampler
from harness.store import Store

__all__ = ["BUCKETS", "Collector", "IntakeNode", "ResultSink", "Worker", "accounts", "connect",
           "consumer_name", "keys"]

log = logging.getLogger("shadowdns.harness.bus")

WORKERS = "workers"
COLLECTOR = "collector"
BUCKETS = ("stored", "shed", "expired", "failed", "capped")
"""Where a sampled query ends: exactly one of these (``sampled`` is their sum once
nothing is buffered, in a stream or in flight).  ``shed``: beyond the stream cap, or beyond
an intake node's buffer while Redis is away."""

_PUBLISH = """
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', 600) then return {-1} end
local cap, group, per = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local pos, published, shed = 4, 0, 0
local lengths = {}
for s = 4, #KEYS do
  local stream, n = KEYS[s], tonumber(ARGV[pos])
  pos = pos + 1
  local last = redis.call('INCRBY', KEYS[1], n)
  for e = 1, n do
    redis.call('XADD', stream, '*', 'id', last - n + e, unpack(ARGV, pos, pos + per - 1))
    pos = pos + per
  end
  published = published + n
  local len = redis.call('XLEN', stream)
  if len > cap then
    local delivered = '0-0'
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local name, lid
      for j = 1, #g, 2 do
        if g[j] == 'name' then name = g[j + 1] elseif g[j] == 'last-delivered-id' then
          lid = g[j + 1] end
      end
      if name == group then delivered = lid end
    end
    for _, e in ipairs(redis.call('XRANGE', stream, '(' .. delivered, '+', 'COUNT', len - cap)) do
      local gone = redis.call('XDEL', stream, e[1])
      shed = shed + gone
      len = len - gone
    end
  end
  lengths[#lengths + 1] = len
end
redis.call('HINCRBY', KEYS[2], 'published', published)
if shed > 0 then
  redis.call('HINCRBY', KEYS[2], 'shed', shed)
  redis.call('HINCRBY', KEYS[2], 'shed_cap', shed)
end
return {shed, unpack(lengths)}
"""
"""Publish one batch, atomically and at most once: KEYS: the ID counter, the counts, the
batch's token (a retry of a batch already applied returns {-1}), then each stream with
entries; ARGV: cap, group, field/value arguments per entry, then per stream its entry count
and its entries' field/value pairs (without ``id``: the script numbers them from the
counter).  Beyond the cap the oldest entries after the group's last-delivered ID (never
delivered) are deleted and counted ``shed``; returns {shed, each stream's length}."""

_FLOOR = """
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""
"""Raise the ID counter to at least ARGV[1] (the store's highest observation ID)."""


class Keys:
    def __init__(self, prefix: str, shards: int) -> None:
        self.streams = [f"{prefix}:q:{i}" for i in range(shards)]
        self.results = f"{prefix}:results"
        self.ids = f"{prefix}:ids"
        self.counts = f"{prefix}:counts"
        self.run = f"{prefix}:run"
        self.versions = f"{prefix}:versions"
        self.batch = f"{prefix}:batch"
        self.floor = f"{prefix}:floor"


def keys(bus: BusConfig) -> Keys:
    return Keys(bus.prefix, bus.shards)


def connect(bus: BusConfig) -> aioredis.Redis:
    """A client for ``bus.redis`` (binary values: wire bytes travel as they are)."""
    return aioredis.from_url(bus.redis, decode_responses=False)


def consumer_name(bus: BusConfig) -> str:
    return bus.consumer or f"{socket.gethostname()}-{os.getpid()}"


async def _group(r: aioredis.Redis, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` from its start (the stream too), unless it exists."""
    try:
        await r.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


async def accounts(r: aioredis.Redis, bus: BusConfig) -> dict[str, int]:
    """Every role's counts, added up (``P:counts``)."""
    raw: dict[Any, Any] = await r.hgetall(keys(bus).counts)
    return {_text(k): int(v) for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class _Repeat:
    """Runs ``work`` whenever :meth:`kick` is called (and every ``interval`` seconds); a
    failure (Redis away) is logged and tried again a second later, nothing being lost
    meanwhile.  Stopped by :meth:`stop`, never by cancelling (a cancel that lands inside the
    Redis client's call may be absorbed there)."""

    def __init__(self, work: Callable[[], Awaitable[None]], what: str,
                 interval: float | None = None) -> None:
        self.work = work
        self.what = what
        self.interval = interval
        self._kick = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"shadowdns-bus: {what}")

    def kick(self) -> None:
        self._kick.set()

    async def _run(self) -> None:
        while not self._stopping:
            if self.interval is None:
                await self._kick.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._kick.wait()
            self._kick.clear()
            if self._stopping:
                return
            try:
                await self.work()
            except REDIS_AWAY as e:
                await _redis_away(e)
                self._kick.set()
            except Exception:  # noqa: BLE001 - said, and tried again
                log.warning("bus: %s failed", self.what, exc_info=True)
                await asyncio.sleep(1.0)
                self._kick.set()

    async def stop(self) -> None:
        self._stopping = True
        self._kick.set()
        await self._task


REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, BusyLoadingError)
"""Redis is restarting, loading its AOF, or unreachable: the roles wait and go on."""


async def _redis_away(error: Exception) -> None:
    log.warning("bus: redis: %s (trying again)", error)
    await asyncio.sleep(0.5)


def _entry_ms(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0])


# -- intake node --------------------------------------------------------------------------


class IntakeNode:
    """The sink the intakes feed (:class:`~harness.intake.base.IntakeSink`): samples, numbers
    and publishes to the query streams in batches."""

    def __init__(self, r: aioredis.Redis, bus: BusConfig, sampler: Sampler, *,
                 batch: int = 256, interval: float = 0.05) -> None:
        self.r = r
        self.bus = bus
        self.keys = keys(bus)
        self.sampler = sampler
        self.batch = batch
        self.interval = interval
        self.counters: collections.Counter[str] = collections.Counter()
        self._reported: collections.Counter[str] = collections.Counter()
        self._buffers: list[list[Query]] = [[] for _ in range(bus.shards)]
        self._buffered = 0
        self._lengths = [0] * bus.shards
        self._lock = asyncio.Lock()
        self._batch: tuple[list[list[Query]], int, str] | None = None
        """The batch being published (kept with its token until a call succeeds)."""
        self._flusher: _Repeat | None = None
        self._script: Any = None

    async def start(self) -> None:
        for stream in self.keys.streams:
            await _group(self.r, stream, WORKERS)
        self._script = self.r.register_script(_PUBLISH)
        self._flusher = _Repeat(self.flush, "publishing queries", self.interval)

    async def wait_for_collector(self, timeout: float, stop: asyncio.Event) -> None:
        """Until the collector has set the ID floor (``P:run``): IDs handed out before could
        collide with observations its store already holds."""
        deadline = time.monotonic() + timeout
        while not await self.r.exists(self.keys.run):
            if stop.is_set() or time.monotonic() >= deadline:
                raise OSError(f"no collector on {self.bus.redis} (prefix {self.bus.prefix}) "
                              f"within {timeout:g} s: start `shadowdns bus collect` first")
            await asyncio.sleep(0.1)

    # the sink

    def offer(self, query: Query) -> None:
        counters = self.counters
        counters["seen"] += 1
        decision = self.sampler.decide(query, time.monotonic())
        if decision is not Decision.SAMPLED:
            counters[decision.value] += 1
            return
        counters["sampled"] += 1
        if self._buffered >= self.bus.stream_cap * self.bus.shards:  # (Redis away: bounded)
            counters["shed"] += 1
            counters["shed_buffer"] += 1
            return
        self._buffers[shard_of(query.qname, self.bus.shards)].append(query)
        self._buffered += 1
        if self._buffered >= self.batch and self._flusher is not None:
            self._flusher.kick()

    def staging(self, key: StagingKey, wire: bytes) -> None:
        self.counters["staging_ignored"] += 1  # (not carried over the bus yet)

    async def room(self) -> None:
        """Finite inputs wait here: for a flush, and while a stream is at its cap (a file is
        read as fast as the workers take it, never shed)."""
        while True:
            try:
                if self._buffered >= self.batch:
                    await self.flush()
                while max(self._lengths) >= self.bus.stream_cap:
                    await asyncio.sleep(self.interval)
                    lengths = await asyncio.gather(*(self.r.xlen(s)
                                                     for s in self.keys.streams))
                    self._lengths = [int(n) for n in lengths]
                return
            except REDIS_AWAY as e:  # (the file waits for Redis)
                await _redis_away(e)

    # publishing

    async def flush(self) -> None:
        """Publish what is buffered (one atomic script call; a failed call is retried with
        the same token, so a batch is published once), and add the counts to
        ``P:counts``."""
        async with self._lock:
            if self._batch is None and self._buffered:
                self._batch = (self._buffers, self._buffered,
                               f"{self.keys.batch}:{uuid.uuid4().hex}")
                self._buffers = [[] for _ in range(self.bus.shards)]
                self._buffered = 0
            if self._batch is not None:
                await self._publish(*self._batch)
                self._batch = None
            await self._report()

    async def _publish(self, buffers: list[list[Query]], n: int, token: str) -> None:
        stream_keys: list[str] = []
        shards: list[int] = []
        args: list[Any] = [self.bus.stream_cap, WORKERS, 6]
        for shard, queries in enumerate(buffers):
            if not queries:
                continue
            stream_keys.append(self.keys.streams[shard])
            shards.append(shard)
            args.append(len(queries))
            for query in queries:
                for field, value in encode_query(0, query).items():
                    if field != b"id":
                        args += [field, value]
        reply = await self._script(keys=[self.keys.ids, self.keys.counts, token,
                                         *stream_keys], args=args)
        counts = {"published": n}
        if int(reply[0]) >= 0:  # (-1: applied by an earlier try whose reply was lost)
            counts["shed"] = int(reply[0])
            counts["shed_cap"] = int(reply[0])
            for shard, length in zip(shards, reply[1:], strict=True):
                self._lengths[shard] = int(length)
        self.counters.update(counts)
        self._reported.update(counts)  # (the script counted them)

    async def _report(self) -> None:
        delta = self.counters - self._reported
        if not delta:
            return
        pipe = self.r.pipeline(transaction=False)
        for name, value in delta.items():
            pipe.hincrby(self.keys.counts, name, value)
        await pipe.execute()
        self._reported.update(delta)

    async def close(self) -> None:
        """Publish what is left and count this node as done."""
        if self._flusher is not None:
            await self._flusher.stop()
        deadline = time.monotonic() + 60
        while True:
            try:
                await self.flush()
                await self.r.hincrby(self.keys.counts, "intakes_done", 1)
                return
            except REDIS_AWAY as e:
                if time.monotonic() >= deadline:
                    raise
                await _redis_away(e)


async def run_intake(r: aioredis.Redis, bus: BusConfig, node: IntakeNode,
                     intakes: Sequence[Intake], stop: asyncio.Event,
                     duration: float | None = None, wait: float = 60.0) -> str:
    """Feed ``node`` from ``intakes`` until they are read through (all finite), ``duration``
    passes or ``stop`` is set; returns which."""
    await node.wait_for_collector(wait, stop)
    await node.start()
    started: list[Intake] = []
    ended = "stopped"
    try:
        for intake in intakes:
            await intake.start(node)
            started.append(intake)
        deadline = time.monotonic() + duration if duration else None
        while not stop.is_set():
            if all(i.finite and i.finished for i in intakes):
                ended = "inputs_done"
                break
            if deadline is not None and time.monotonic() >= deadline:
                ended = "duration"
                break
            await asyncio.sleep(0.05)
    finally:
        for intake in started:
            try:
                await intake.close()
            except Exception:  # noqa: BLE001 - closing the rest matters more
                log.warning("closing %s failed", intake.name, exc_info=True)
        await node.close()
    return ended


# -- worker --------------------------------------------------------------------------------


class ResultSink(Store):
    """The worker pipeline's store: each judged observation goes to the results stream (the
    collector stores it), instead of into SQLite here."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(StoreConfig(path=Path(f"{worker.bus.redis}#{worker.keys.results}")))
        self.worker = worker

    def open(self) -> None:
        return None

    def start_run(self, config: dict[str, Any], versions: dict[str, str]) -> int:
        self.worker.versions = dict(versions)
        return 0

    def add(self, observation: Observation, verdict: Verdict | None) -> bool:
        self.worker.completed(observation, verdict)
        self.committed += 1
        return True

    def attach_staging(self, observation_id: int, wire: bytes) -> None:
        return None

    def flush(self, timeout: float = 30.0) -> bool:
        return True

    def close(self, counters: dict[str, Any] | None = None, status: str = "finished") -> None:
        return None


_Entry = tuple[bytes, bytes, Fields]
"""(stream, entry ID, fields) of a query entry delivered to this worker."""


class Worker:
    """Reads the query streams in the consumer group, compares through ``pipeline`` (whose
    store is a :class:`ResultSink`), publishes outcomes and acknowledges."""

    def __init__(self, r: aioredis.Redis, bus: BusConfig, consumer: str) -> None:
        self.r = r
        self.bus = bus
        self.keys = keys(bus)
        self.consumer = consumer
        shards = bus.shard_set or tuple(range(bus.shards))
        self.streams = [self.keys.streams[i].encode() for i in shards]
        self.versions: dict[str, str] = {}
        self.counters: collections.Counter[str] = collections.Counter()
        self.pipeline: Pipeline | None = None
        self._backlog: collections.deque[_Entry] = collections.deque()
        self._held: set[tuple[bytes, bytes]] = set()  # (stream, ID): IDs repeat across streams
        self._inflight: dict[int, tuple[bytes, bytes]] = {}
        self._outbox: list[tuple[Fields | None, bytes, bytes, str]] = []
        self._publisher: _Repeat | None = None

    def attach(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def start(self) -> None:
        for stream in self.streams:
            await _group(self.r, stream.decode(), WORKERS)
        if self.versions:
            await self.r.hset(self.keys.versions, mapping=dict[Any, Any](self.versions))
        self._publisher = _Repeat(self.publish, "publishing results")

    # outcomes

    def completed(self, observation: Observation, verdict: Verdict | None) -> None:
        assert observation.id is not None
        where = self._inflight.pop(observation.id, None)
        if where is None:
            return  # (not one of ours: cannot happen)
        self._settle(encode_observation(observation, verdict), where, "compared")

    def _settle(self, fields: Fields | None, where: tuple[bytes, bytes], counter: str) -> None:
        self._outbox.append((fields, where[0], where[1], counter))
        if self._publisher is not None:
            self._publisher.kick()

    async def publish(self) -> None:
        """Results first, then acknowledge and delete their query entries (a crash between
        the two: the entry is re-claimed and compared again, the collector ignores the
        second observation)."""
        batch, self._outbox = self._outbox, []
        if not batch:
            return
        pipe = self.r.pipeline(transaction=True)  # (all or nothing: no count without its ack)
        counts: collections.Counter[str] = collections.Counter()
        for fields, stream, entry_id, counter in batch:
            if fields is not None:
                pipe.xadd(self.keys.results, fields)  # type: ignore[arg-type]
            pipe.xack(stream, WORKERS, entry_id)
            pipe.xdel(stream, entry_id)
            counts[counter] += 1
        for name, value in counts.items():
            pipe.hincrby(self.keys.counts, name, value)
        try:
            await pipe.execute()
        except BaseException:
            self._outbox[:0] = batch
            raise
        for _, stream, entry_id, _ in batch:
            self._held.discard((stream, entry_id))
        self.counters.update(counts)

    # reading

    def _dispatch_backlog(self) -> None:
        assert self.pipeline is not None
        dispatcher = self.pipeline.dispatcher
        while self._backlog and dispatcher.in_flight < dispatcher.max_in_flight:
            stream, entry_id, fields = self._backlog.popleft()
            where = (stream, entry_id)
            try:
                query_id, query = decode_query(fields)
            except CodecError as e:
                log.warning("bus: %s %s: %s (counted failed)", stream.decode(),
                            entry_id.decode(), e)
                raw = fields.get(b"id", b"")
                outcome = encode_outcome("failed", int(raw)) if raw.isdigit() else None
                self._settle(outcome, where, "failed")
                continue
            if self.bus.max_age and time.time() * 1000 - _entry_ms(entry_id) > \
                    self.bus.max_age * 1000:
                self._settle(encode_outcome("expired", query_id), where, "expired")
                continue
            self._inflight[query_id] = where
            if not self.pipeline.dispatch(query, query_id, time.monotonic()):
                self._inflight.pop(query_id, None)
                self._settle(encode_outcome("capped", query_id), where, "capped")

    async def _take(self, stream: bytes, entries: Iterable[tuple[bytes, Fields]],
                    claimed: bool = False) -> None:
        for entry_id, fields in entries:
            if (stream, entry_id) in self._held:
                continue  # ours already (re-claimed while we work on it)
            if claimed:
                self.counters["claimed"] += 1
                await self.r.hincrby(self.keys.counts, "claimed", 1)
                info = await self.r.xpending_range(stream, WORKERS, min=entry_id, max=entry_id,
                                                   count=1)
                if info and int(info[0]["times_delivered"]) > self.bus.max_deliveries:
                    raw = fields.get(b"id", b"")
                    outcome = encode_outcome("failed", int(raw)) if raw.isdigit() else None
                    self._held.add((stream, entry_id))
                    self._settle(outcome, (stream, entry_id), "failed")
                    continue
            self._held.add((stream, entry_id))
            self._backlog.append((stream, entry_id, fields))

    async def claim(self) -> None:
        """Take over entries idle longer than ``claim_timeout`` (their consumer died)."""
        idle = int(self.bus.claim_timeout * 1000)
        for stream in self.streams:
            start: bytes | str = "0-0"
            while True:
                reply: Any = await self.r.xautoclaim(stream, WORKERS, self.consumer, idle,
                                                     start_id=start, count=100)
                start, entries = reply[0], reply[1]
                await self._take(stream, entries, claimed=True)
                if start in (b"0-0", "0-0"):
                    break

    async def run(self, stop: asyncio.Event, duration: float | None = None) -> str:
        """Until ``stop`` is set or ``duration`` passes; returns which."""
        assert self.pipeline is not None
        dispatcher = self.pipeline.dispatcher
        deadline = time.monotonic() + duration if duration else None
        interval = max(0.2, min(5.0, self.bus.claim_timeout / 2))
        last_claim = float("-inf")
        while not stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return "duration"
            self._dispatch_backlog()
            free = dispatcher.max_in_flight - dispatcher.in_flight
            try:
                if now - last_claim >= interval:
                    last_claim = now
                    await self.claim()
                if self._backlog or free <= 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.25):
                            await dispatcher.room()
                    continue
                count = max(1, free // len(self.streams))
                reply: Any = await self.r.xreadgroup(WORKERS, self.consumer,
                                                     dict.fromkeys(self.streams, ">"),
                                                     count=count, block=250)
                for stream, entries in reply or []:
                    await self._take(stream, entries)
            except REDIS_AWAY as e:  # (what was read and lost is re-claimed later)
                await _redis_away(e)
        return "stopped"

    async def close(self) -> None:
        """Publish what is settled (call after the pipeline has drained).  Entries still
        held stay pending: another worker re-claims them."""
        if self._publisher is not None:
            await self._publisher.stop()
        await self.publish()


# -- collector ----------------------------------------------------------------------------


class Collector:
    """Reads the results stream into ``store`` (opened with ``ignore_duplicates``) and keeps
    the accounts: every sampled query is stored once or counted in one bucket.

    ``stored`` is what the store holds above the bus's ID floor (``P:floor``, the store's
    highest ID when the bus's first collector started): the store is the truth, so a batch
    committed and then not acknowledged (Redis away) is neither lost nor counted twice."""

    def __init__(self, r: aioredis.Redis, bus: BusConfig, store: Store, consumer: str, *,
                 run_config: dict[str, Any] | None = None, batch: int = 500) -> None:
        if not store.ignore_duplicates:
            raise ValueError("the collector's store must ignore duplicates")
        self.r = r
        self.bus = bus
        self.keys = keys(bus)
        self.store = store
        self.consumer = consumer
        self.run_config = run_config or {}
        self.batch = batch
        self.run_id: int | None = None
        self.floor = 0
        self.counters: collections.Counter[str] = collections.Counter()
        self._settled: dict[int, str] = {}
        self._reader: sqlite3.Connection | None = None

    async def start(self) -> None:
        self.store.open()
        raw: dict[Any, Any] = await self.r.hgetall(self.keys.versions)
        versions = {_text(k): _text(v) for k, v in raw.items()}
        self.run_id = self.store.start_run(self.run_config, versions)
        highest = self.store.next_id() - 1  # (never handed out again)
        await self.r.set(self.keys.floor, highest, nx=True)
        self.floor = int(await self.r.get(self.keys.floor) or 0)
        await self.r.eval(_FLOOR, 1, self.keys.ids, highest)
        await _group(self.r, self.keys.results, COLLECTOR)
        await self.r.set(self.keys.run, self.run_id)

    def _read(self, sql: str, args: tuple[Any, ...]) -> Any:
        if self._reader is None:
            self._reader = sqlite3.connect(f"file:{self.store.path}?mode=ro", uri=True,
                                           timeout=10, check_same_thread=False)
        return self._reader.execute(sql, args).fetchone()

    def _stored(self, query_id: int) -> bool:
        return self._read("SELECT 1 FROM observations WHERE id=?", (query_id,)) is not None

    def stored(self) -> int:
        """Observations the store holds from this bus (IDs above its floor)."""
        return int(self._read("SELECT count(*) FROM observations WHERE id > ?",
                              (self.floor,))[0])

    async def take(self, entries: Sequence[tuple[bytes, Fields]]) -> None:
        """Store a batch of results and commit; then count the other outcomes, acknowledge
        and delete the entries in one transaction."""
        stored: list[int] = []
        others: list[tuple[str, int]] = []
        for entry_id, fields in entries:
            try:
                kind, query_id, observation, verdict = decode_result(fields)
            except CodecError as e:
                log.warning("bus: %s %s: %s (skipped)", self.keys.results, entry_id.decode(), e)
                self.counters["undecodable"] += 1
                continue
            if observation is not None:
                observation.run_id = self.run_id
                if not self.store.add(observation, verdict):
                    raise OSError(f"{self.store.path}: the store's queue is full")
                stored.append(query_id)
            else:
                others.append((kind, query_id))
        if stored and not await asyncio.to_thread(self.store.flush):
            raise OSError(f"{self.store.path}: the store did not commit within 30 s")
        duplicates = len(self.store.duplicate_ids)
        self.store.duplicate_ids.clear()
        counts: collections.Counter[str] = collections.Counter()
        counts["duplicates"] += duplicates
        settled = dict(self._settled)
        for query_id in stored:
            earlier = settled.pop(query_id, None)
            if earlier is not None:  # counted in a bucket before, then compared after all
                counts[earlier] -= 1
        for kind, query_id in others:
            if query_id in settled or self._stored(query_id):
                counts["duplicates"] += 1
            else:
                settled[query_id] = kind
                counts[kind] += 1
        pipe = self.r.pipeline(transaction=True)
        for name, value in counts.items():
            if value:
                pipe.hincrby(self.keys.counts, name, value)
        ids = [entry_id for entry_id, _ in entries]
        if ids:
            pipe.xack(self.keys.results, COLLECTOR, *ids)
            pipe.xdel(self.keys.results, *ids)
        await pipe.execute()
        self._settled = settled
        self.counters.update(counts)
        self.counters["stored"] += len(stored) - duplicates

    async def accounts(self) -> dict[str, int]:
        counts = await accounts(self.r, self.bus)
        counts["stored"] = self.stored()
        return counts

    async def drained(self) -> bool:
        """Every intake node is done and every query it sampled is accounted for."""
        counts = await self.accounts()
        if counts.get("intakes_done", 0) < self.bus.intakes:
            return False
        return sum(counts.get(b, 0) for b in BUCKETS) >= counts.get("sampled", 0)

    async def run(self, stop: asyncio.Event, *, duration: float | None = None,
                  until_drained: bool = False) -> str:
        """Until ``stop``, ``duration``, or (``until_drained``) :meth:`drained`.  Redis
        away: said, and tried again (from what this consumer had been given)."""
        deadline = time.monotonic() + duration if duration else None
        start = b"0"  # first what this consumer had read and not acknowledged (a restart)
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return "duration"
            try:
                reply: Any = await self.r.xreadgroup(COLLECTOR, self.consumer,
                                                     {self.keys.results: start},
                                                     count=self.batch, block=250)
                entries = reply[0][1] if reply else []
                if entries:
                    await self.take(entries)
                elif start == b"0":
                    start = b">"
                elif until_drained and await self.drained():
                    return "drained"
            except REDIS_AWAY as e:
                await _redis_away(e)
                start = b"0"
        return "stopped"

    async def close(self, status: str = "finished") -> dict[str, int]:
        counts = await self.accounts()
        if self._reader is not None:
            self._reader.close()
        await asyncio.to_thread(self.store.close, {"bus": counts, **self.counters}, status)
        return counts
