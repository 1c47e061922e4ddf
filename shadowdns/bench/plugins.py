"""``shadowdns bench plugins``: what a WebAssembly plugin costs per query (issue 19).

In process, no lab, no sockets.  For each plugin set — none, the shipped ``noop``
(``pre_cache`` returning at once) and the shipped ``blocklist`` (``pre_cache`` reading the
question name and matching it against a 3-name list; the names asked are not listed, so
every query is a full scan that lets the query go on) — it measures:

* **per phase call**: the plugin's ``pre_cache`` called directly on a fresh request
  (fuel set, the call made through wasmtime's C API, its host calls), minus the same loop
  without the call;
* **per query through the worker**: :meth:`Workers.handle` on a query's bytes with an
  answerer that answers at once (parse, plugins, render), and the difference to no plugin;
* **cache hits from bytes**: the fast path's lookups per second, with no plugin (it serves)
  and with one that sees cache hits (it is paused: every query goes to the worker).

Times are this process's CPU time (``time.process_time``), not wall time, and the best of
``--rounds`` rounds counts: on a shared machine wall time mostly measures the neighbours.
The figures go to docs/PLUGINS.md; nothing here is a timed assertion.

:func:`cached_runs` is the part ``shadowdns bench resolver --plugin-runs`` adds: the
candidate's cached dnsperf run again with no plugin, with ``noop`` and with ``blocklist``
loaded through its control API (same process, same warm cache, same names and flags), and
these in-process phase-call costs beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dns.message
import dns.name
import dns.rrset

from resolver.cache.reply import FastCache
from resolver.frames import FrameQueue
from resolver.model import Frame, Request
from resolver.plugins import PluginChain
from resolver.wasm import WasmPlugin, bundled, load_plugin
from resolver.workers import Workers

LISTED = "ads.example,tracker.example,metrics.example"


def register(bsub: Any) -> None:
    p = bsub.add_parser("plugins", help="cost of a WebAssembly plugin per phase call and per "
                                        "query (in process)")
    p.add_argument("--calls", type=int, default=20000, metavar="N",
                   help="calls or queries per round")
    p.add_argument("--rounds", type=int, default=5, metavar="N", help="the best one counts")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=run)


class Instant:
    async def answer(self, request: Request, query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(request.qname, 300, "IN", "A", "192.0.2.1"))
        return reply


def _best(rounds: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(rounds))


def phase_call_us(plugin: WasmPlugin | None, calls: int, rounds: int) -> float:
    """Microseconds per ``pre_cache`` call (fresh request each; the loop's cost removed)."""
    name = dns.name.from_text("www.example.com.")
    query = dns.message.make_query(name, "A")

    def once(call: bool) -> float:
        started = time.process_time()
        for _ in range(calls):
            request = Request(name, 1)
            if call and plugin is not None:
                plugin.pre_cache(request, query)
        return (time.process_time() - started) / calls * 1e6

    return _best(rounds, lambda: once(True)) - _best(rounds, lambda: once(False))


def worker_query_us(plugin: WasmPlugin | None, calls: int, rounds: int) -> float:
    workers = Workers(FrameQueue(), Instant(),
                      PluginChain([plugin] if plugin else []), n=1)
    wire = dns.message.make_query("www.example.com.", "A", use_edns=0).to_wire()

    async def once() -> float:
        started = time.process_time()
        for _ in range(calls):
            await workers.handle(Frame(wire, "udp", ("127.0.0.1", 5300), time.monotonic()))
        return (time.process_time() - started) / calls * 1e6

    return min(asyncio.run(once()) for _ in range(rounds))


def fast_hits_qps(plugin: WasmPlugin | None, calls: int, rounds: int) -> float:
    """Cache hits answered from bytes per second (0 when a plugin pauses the fast path)."""
    fast = FastCache(1 << 20)
    workers = Workers(FrameQueue(), Instant(),
                      PluginChain([plugin] if plugin else []), n=1, fastcache=fast)
    wire = dns.message.make_query("www.example.com.", "A", use_edns=0).to_wire()
    asyncio.run(workers.handle(Frame(wire, "udp", ("127.0.0.1", 5300), time.monotonic())))

    def once() -> float:
        started = time.process_time()
        hits = 0
        for _ in range(calls):
            hits += fast.lookup(wire, time.monotonic()) is not None
        return hits / (time.process_time() - started)

    return max(once() for _ in range(rounds))


def run(args: argparse.Namespace) -> int:
    sets: dict[str, WasmPlugin | None] = {
        "none": None,
        "noop": load_plugin(bundled("noop")),
        "blocklist": load_plugin(bundled("blocklist"), arg=LISTED),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, plugin in sets.items():
        figures[name] = {
            "phase_call_us": round(phase_call_us(plugin, args.calls, args.rounds), 1),
            "worker_query_us": round(worker_query_us(plugin, args.calls, args.rounds), 1),
            "fast_hits_qps": round(fast_hits_qps(plugin, args.calls, args.rounds)),
        }
        f = figures[name]
        print(f"{name:10s} phase call {f['phase_call_us']:6.1f} us   query through the worker "
              f"{f['worker_query_us']:6.1f} us   cache hits from bytes "
              f"{f['fast_hits_qps']:,.0f}/s", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def control_request(base: str, method: str, name: str, arg: str = "",
                    source: bytes | None = None) -> tuple[int, str]:
    """One PUT (``source``, by default the shipped example ``name``) or DELETE
    ``/plugins/NAME`` on a resolver's control API: (status, body)."""
    query = "?" + urllib.parse.urlencode({"arg": arg}) if method == "PUT" else ""
    body = None
    if method == "PUT":
        body = source if source is not None else bundled(name).read_bytes()
    request = urllib.request.Request(f"{base}/plugins/{name}{query}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


PLUGIN_SETS = ("none", "noop", "blocklist")
"""The candidate's cached run is repeated with each (``bench resolver --plugin-runs``)."""


def cached_runs(bases: Sequence[str], run: Callable[[], Any], calls: int = 5000,
                rounds: int = 3) -> dict[str, dict[str, float]]:
    """``run()`` (a :class:`shadowdns.bench.Perf`: the cached dnsperf run) with each of
    :data:`PLUGIN_SETS` in place on every control API in ``bases``; QPS, lost and server
    CPU µs per query for each, and the in-process µs per ``pre_cache`` call beside them.
    Ends with no plugin loaded."""
    def change(method: str, name: str, arg: str = "") -> None:
        for base in bases:
            status, body = control_request(base, method, name, arg)
            if status != 200:
                raise RuntimeError(f"{method} {base}/plugins/{name}: {status} {body}")

    out: dict[str, dict[str, float]] = {}
    loaded: list[str] = []
    for name in PLUGIN_SETS:
        for old in loaded:
            change("DELETE", old)
        loaded = []
        if name != "none":
            change("PUT", name, LISTED if name == "blocklist" else "")
            loaded = [name]
        perf = run()
        plugin = None if name == "none" else load_plugin(
            bundled(name), arg=LISTED if name == "blocklist" else "")
        out[name] = {"qps": perf.qps, "completed": perf.completed, "lost": perf.lost,
                     "cpu_us_per_query": perf.cpu_per_kq * 1000,
                     "phase_call_us": phase_call_us(plugin, calls, rounds) if plugin else 0.0}
    for old in loaded:
        change("DELETE", old)
    return out


def cached_run_lines(runs: dict[str, dict[str, float]] | None) -> list[str]:
    """One line per plugin set of :func:`cached_runs`, with the differences to none."""
    if not runs:
        return []
    lines = ["cached with plugins (candidate, same process, same names; per query: server "
             "CPU from /proc; per phase call: in process):"]
    base = runs.get("none", {})
    for name, r in runs.items():
        line = (f"  {name:10s} {r['qps']:8.0f} QPS  lost {r['lost']:.0f}  "
                f"{r['cpu_us_per_query']:6.1f} us CPU per query")
        if name != "none" and base:
            line += (f" ({r['cpu_us_per_query'] - base['cpu_us_per_query']:+.1f} us, QPS "
                     f"{(r['qps'] / base['qps'] - 1) * 100 if base['qps'] else 0.0:+.0f}%)"
                     f"  pre_cache call {r['phase_call_us']:.1f} us")
        lines.append(line)
    return lines
