"""``shadowdns bench WHAT``: the benchmarks, one module per command (``resolver``, ``harness``
with ``bus``, ``differ`` with ``differ_live`` and the fault plugin ``faults``, ``plugins``,
``plugin_swap``, ``peers``, ``profile``, ``recording``, ``fairness``, ``chaos``,
``amplification``, ``fuzz``).  Shared helpers (starting and stopping processes, rates,
latency summaries) live in :mod:`shadowdns.bench.resolver`, the first of them.  Loopback
only, bounded in time; figures are printed, never asserted by timed tests."""
