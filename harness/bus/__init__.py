"""The harness over processes on Redis Streams (docs/BUS.md).

``shadowdns run`` is one process and needs no Redis.  ``shadowdns bus intake|worker|collect``
split the same pipeline into roles that meet on Redis Streams:

* intake nodes (:mod:`harness.bus.roles`): the intakes and the sampler; each sampled query is
  numbered and published to one of K query streams, by its registered domain
  (:mod:`harness.bus.shard`);
* workers: a consumer group per query stream; ask candidate and references, judge, publish
  the observation (:mod:`harness.bus.codec`) to the results stream, acknowledge;
* the collector: writes observations to the SQLite store, idempotently by the query's ID,
  and keeps the accounts.
"""
