"""``shadowdns bench plugin-swap``: hot swaps of WebAssembly plugins under steady load
(issue 19 part 4: "a hot swap under 2,000 qps loses 0 queries").

A real ``shadowdns resolver serve --plugin blocklist:open:ads.example --control ...`` on
loopback (127.0.0.1, free ports: no lab address, no lock needed), recursing to a tiny
authoritative stub this bench serves (every name has ``A 192.0.2.1``, a day's TTL), so after
the warm-up every query is a cache hit the workers answer (the blocklist's ``pre_cache``
pauses the bytes fast path: every query goes through the plugin chain).

``dnsperf -Q QPS`` sends a steady rate over the names ``qN.ads.example`` and
``qN.fine.example`` (alternating) and counts, by query ID, what it sent, what came back and
what was lost (no answer within ``-t``).  While it runs, the bench changes the plugin set
``--swaps`` times, evenly spaced, through the control API (PUT and DELETE
``/plugins/NAME``; on every server process): the blocklist replaced with a new argument, the
no-op loaded beside it, the blocklist replaced again, the no-op unloaded, the blocklist
unloaded and loaded again, over and over.  Every answer is one a whole plugin set gives:
NXDOMAIN (blocked) or NOERROR; any other rcode is reported.

Reported: sent / answered / lost and the achieved rate (dnsperf), the rcodes, the swaps made
and how long each took (the HTTP request: compile + install), the plugin versions and swap
counter in ``/metrics`` before and after, and where any loss happened: the server's own UDP
counters (datagrams read, replies, shed, queue drops; printed at its exit) and the kernel's
drops on its socket (``/proc/net/udp``).  Nothing here is a timed assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from shadowdns.bench.plugins import control_request
from shadowdns.bench.resolver import (
    _cpu_seconds,
    _wait_answering,
    _warm,
    free_port,
    nonpositive_flag,
    stop_process,
)

HOST = "127.0.0.1"
BLOCKED = "ads.example"
STEPS: tuple[tuple[str, str, str], ...] = (
    ("PUT", "blocklist", f"{BLOCKED},x.test"),  # replace: a new version, a new argument
    ("PUT", "noop", ""),  # load beside it
    ("PUT", "blocklist", BLOCKED),  # replace again
    ("DELETE", "noop", ""),  # unload
    ("DELETE", "blocklist", ""),  # unload: no plugin at all (the fast path resumes)
    ("PUT", "blocklist", BLOCKED),  # load again
)
"""The cycle of changes; it ends where the server started (the blocklist alone)."""
REPLACE_ONLY = (("PUT", "blocklist", BLOCKED),)
"""``--cycle replace``: the blocklist replaced by a new version of itself, over and over
(the answers never change: what the swap mechanism alone costs)."""
UPSTREAM = "upstream"
UPSTREAM_STEPS = (("PUT", UPSTREAM, "1"), ("PUT", UPSTREAM, "2"), ("DELETE", UPSTREAM, ""))
"""``--cycle upstream``: a ``pre_upstream``-only no-op (:data:`UPSTREAM_WAT`) loaded,
replaced and unloaded, the blocklist unloaded first: cache hits never reach such a plugin,
so the bytes fast path keeps serving them (the server can take 2,000 qps of hits)."""
UPSTREAM_WAT = b'(module (func (export "pre_upstream") (result i32) (i32.const 0)))'
CYCLES = {"full": STEPS, "replace": REPLACE_ONLY, "upstream": UPSTREAM_STEPS}


def register(bsub: Any) -> None:
    p = bsub.add_parser("plugin-swap", help="hot swaps of WebAssembly plugins under steady "
                                            "load: queries sent, answered, lost")
    p.add_argument("--qps", type=int, default=2000, metavar="QPS", help="dnsperf -Q")
    p.add_argument("--seconds", type=int, default=10, metavar="SECONDS", help="dnsperf -l")
    p.add_argument("--swaps", type=int, default=40, metavar="N",
                   help="changes of the plugin set during the run, evenly spaced")
    p.add_argument("--cycle", choices=tuple(CYCLES), default="full",
                   help="full: replace, load beside, unload, load again (the answers change "
                        "with the set); replace: a new version of the blocklist each time; "
                        "upstream: a pre_upstream-only plugin (the fast path stays on)")
    p.add_argument("--names", type=int, default=500, metavar="N",
                   help="names of each kind (blocked, not blocked) in the load")
    p.add_argument("--server-processes", type=int, default=1, metavar="N",
                   help="resolver serve --workers (each process has its own control API)")
    p.add_argument("--run-dir", type=Path, default=Path("run/bench-plugin-swap"),
                   metavar="DIR", help="where the server's log goes")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=run)


# -- the authoritative stub the resolver recurses to -----------------------------------------


class Stub(asyncio.DatagramProtocol):
    """Authoritative for everything: ``. NS a.root.test.`` (itself), every other A
    ``192.0.2.1``, any other type NODATA; one day's TTL so answers stay cached."""

    def __init__(self) -> None:
        self.transport: Any = None  # (a selector transport is no asyncio.DatagramTransport)
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - not ours to answer
            return
        self.queries += 1
        assert self.transport is not None
        self.transport.sendto(stub_reply(query).to_wire(), addr)


def stub_reply(query: dns.message.Message) -> dns.message.Message:
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    if not query.question:
        reply.set_rcode(dns.rcode.FORMERR)
        return reply
    q = query.question[0]
    name = q.name.to_text()
    if name == "." and q.rdtype == dns.rdatatype.NS:
        reply.answer.append(dns.rrset.from_text(".", 86400, "IN", "NS", "a.root.test."))
        reply.additional.append(dns.rrset.from_text("a.root.test.", 86400, "IN", "A", HOST))
    elif q.rdtype == dns.rdatatype.A:
        address = HOST if name == "a.root.test." else "192.0.2.1"
        reply.answer.append(dns.rrset.from_text(q.name, 86400, "IN", "A", address))
    else:
        reply.authority.append(dns.rrset.from_text(
            ".", 86400, "IN", "SOA", "a.root.test. admin.test. 1 3600 600 86400 86400"))
    return reply


# -- control API ---------------------------------------------------------------------------


def fetch_metrics(base: str) -> str:
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        return str(response.read().decode())


_INFO = re.compile(r'^shadowdns_resolver_plugin_info\{plugin="([^"]*)",version="(\d+)"', re.M)
_SWAPS = re.compile(r"^shadowdns_resolver_plugin_swaps_total (\d+)", re.M)
_FAILURES = re.compile(r"^shadowdns_resolver_plugin_failures_total\{[^}]*\} (\d+)", re.M)


def plugins_in_metrics(text: str) -> dict[str, Any]:
    """The plugins in use (``NAME vVERSION``, chain order), the swap counter and the
    failures of the plugins in use (trap, fuel, memory, budget, abi: all kinds summed)."""
    swaps = _SWAPS.search(text)
    return {"plugins": [f"{n} v{v}" for n, v in _INFO.findall(text)],
            "swaps": int(swaps.group(1)) if swaps else 0,
            "failures": sum(int(v) for v in _FAILURES.findall(text))}


# -- what the server and the kernel counted ------------------------------------------------

_UDP_LINE = re.compile(r"UDP: (\d+) datagrams, (\d+) replies \((\d+) from bytes\), shed (\d+) "
                       r"per client and (\d+) full, queue dropped (\d+) per client and (\d+) full")


def server_udp_counts(log: str) -> dict[str, int]:
    """The server processes' exit lines summed (see ``resolver serve``)."""
    keys = ("datagrams", "replies", "fast_replies", "shed_client", "shed_full",
            "queue_dropped_client", "queue_dropped_full")
    total = dict.fromkeys(keys, 0)
    for m in _UDP_LINE.finditer(log):
        for key, value in zip(keys, m.groups(), strict=True):
            total[key] += int(value)
    return total


def kernel_drops(port: int, table: str = "/proc/net/udp") -> int:
    """Datagrams the kernel dropped on the UDP sockets bound to ``port`` (its last column)."""
    drops = 0
    try:
        lines = Path(table).read_text().splitlines()[1:]
    except OSError:
        return 0
    for line in lines:
        fields = line.split()
        if len(fields) >= 13 and int(fields[1].rsplit(":", 1)[1], 16) == port:
            drops += int(fields[-1])
    return drops


# -- dnsperf at a fixed rate ---------------------------------------------------------------


@dataclass
class Load:
    sent: int = 0
    answered: int = 0
    lost: int = 0
    qps: float = 0.0
    rcodes: dict[str, int] = field(default_factory=dict)


def parse_dnsperf(out: str) -> Load:
    def num(label: str) -> float:
        m = re.search(rf"{label}:\s+([\d.]+)", out)
        return float(m.group(1)) if m else 0.0

    rcodes: dict[str, int] = {}
    m = re.search(r"Response codes:\s+(.*)", out)
    if m:
        for rcode, count in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            rcodes[rcode] = int(count)
    return Load(int(num("Queries sent")), int(num("Queries completed")),
                int(num("Queries lost")), num("Queries per second"), rcodes)


def fixed_rate(port: int, datafile: Path, qps: int, seconds: int) -> tuple[Load, str]:
    cmd = ["dnsperf", "-s", HOST, "-p", str(port), "-d", str(datafile), "-c", "4",
           "-q", "1000", "-Q", str(qps), "-l", str(seconds), "-t", "5"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    return parse_dnsperf(out), out


# -- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if args.swaps < 0:
        print(f"shadowdns bench plugin-swap: --swaps: expected 0 or more, got {args.swaps}",
              file=sys.stderr)
        return 2
    if nonpositive_flag("plugin-swap", args, "qps", "seconds", "names", "server_processes"):
        return 2
    if shutil.which("dnsperf") is None:
        print("shadowdns bench plugin-swap: dnsperf not found: install the Debian package "
              "'dnsperf'", file=sys.stderr)
        return 1
    figures = asyncio.run(_bench(args))
    for line in report_lines(figures):
        print(line)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stub = Stub()
    upstream = free_port()
    transport, _ = await loop.create_datagram_endpoint(lambda: stub, local_addr=(HOST, upstream))
    tmp = Path(tempfile.mkdtemp(prefix="shadowdns-swap-"))
    args.run_dir.mkdir(parents=True, exist_ok=True)
    hints = tmp / "root.hints"
    hints.write_text(f". 3600 NS a.root.test.\na.root.test. 3600 A {HOST}\n")
    names = [f"q{i}.{kind}. A" for i in range(args.names)
             for kind in (BLOCKED, "fine.example")]
    datafile = tmp / "names.txt"
    datafile.write_text("\n".join(names) + "\n")
    port = free_port()
    control = free_port(run=args.server_processes)
    bases = [f"http://{HOST}:{control + i}" for i in range(args.server_processes)]
    log_path = args.run_dir / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "shadowdns", "resolver", "serve", "--listen", f"{HOST}:{port}",
         "--root-hints", str(hints), "--no-validation", "--upstream-port", str(upstream),
         "--workers", str(args.server_processes), "--plugin", f"blocklist:open:{BLOCKED}",
         "--control", f"{HOST}:{control}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    figures: dict[str, Any] = {"qps_target": args.qps, "seconds": args.seconds,
                               "server_processes": args.server_processes, "cycle": args.cycle}
    try:
        await _wait_answering((HOST, port), server)
        await _wait_control(bases, server)
        # every name in the cache, the blocked ones too (the blocklist unloaded meanwhile):
        # when a swap unloads it, they are cache hits, not first-time resolutions
        await _swaps(bases, 1, 0.0, (("DELETE", "blocklist", ""),))
        await _warm((HOST, port), names)
        if args.cycle != "upstream":  # (upstream: no plugin, the fast path on)
            await _swaps(bases, 1, 0.0, (("PUT", "blocklist", BLOCKED),))
        await _warm((HOST, port), names)  # (for the fast path's bytes, when it is on)
        figures["before"] = [plugins_in_metrics(await asyncio.to_thread(fetch_metrics, b))
                             for b in bases]
        drops_before = kernel_drops(port)
        cpu_before = _cpu_seconds(server.pid)
        load_task = asyncio.create_task(
            asyncio.to_thread(fixed_rate, port, datafile, args.qps, args.seconds))
        swap_seconds = await _swaps(bases, args.swaps, args.seconds, CYCLES[args.cycle])
        load, out = await load_task
        figures["kernel_drops"] = kernel_drops(port) - drops_before
        cpu = _cpu_seconds(server.pid) - cpu_before
        figures["server_cpu_us_per_query"] = cpu / load.answered * 1e6 if load.answered else 0.0
        figures["after"] = [plugins_in_metrics(await asyncio.to_thread(fetch_metrics, b))
                            for b in bases]
        figures["load"] = load.__dict__
        figures["swaps"] = len(swap_seconds)
        figures["swap_ms"] = {"median": statistics.median(swap_seconds) * 1000,
                              "max": max(swap_seconds) * 1000} if swap_seconds else {}
        figures["stub_queries"] = stub.queries
        if not load.sent:
            figures["dnsperf_output"] = out[-2000:]
    finally:
        stop_process(server)
        log.close()
        transport.close()
        shutil.rmtree(tmp, ignore_errors=True)
    figures["server"] = server_udp_counts(log_path.read_text(errors="replace"))
    return figures


async def _wait_control(bases: list[str], server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    for base in bases:
        while True:
            try:
                await asyncio.to_thread(fetch_metrics, base)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server's control API {base} did not come up") \
                        from None
                await asyncio.sleep(0.2)


async def _swaps(bases: list[str], count: int, seconds: float,
                 steps: tuple[tuple[str, str, str], ...]) -> list[float]:
    """``count`` changes, evenly spaced over ``seconds``; how long each took (all processes)."""
    took: list[float] = []
    start = time.monotonic()
    every = seconds / (count + 1)
    for i in range(count):
        await asyncio.sleep(max(0.0, start + (i + 1) * every - time.monotonic()))
        method, name, arg = steps[i % len(steps)]
        began = time.monotonic()
        for base in bases:
            source = UPSTREAM_WAT if name == UPSTREAM else None
            status, body = await asyncio.to_thread(control_request, base, method, name, arg,
                                                   source)
            if status != 200:
                raise RuntimeError(f"{method} {base}/plugins/{name}: {status} {body}")
        took.append(time.monotonic() - began)
    return took


def report_lines(f: dict[str, Any]) -> list[str]:
    load = f.get("load", {})
    server = f.get("server", {})
    rcodes = ", ".join(f"{k} {v}" for k, v in sorted(load.get("rcodes", {}).items()))
    swap_ms = f.get("swap_ms") or {}
    lines = [
        f"load: {f['qps_target']} qps for {f['seconds']} s (dnsperf -Q, achieved "
        f"{load.get('qps', 0.0):.0f} qps): sent {load.get('sent', 0)}, answered "
        f"{load.get('answered', 0)}, lost {load.get('lost', 0)}; rcodes {rcodes or 'none'}; "
        f"server CPU {f.get('server_cpu_us_per_query', 0.0):.0f} us per answered query",
        f"swaps: {f.get('swaps', 0)} changes of the plugin set on each of "
        f"{f['server_processes']} server process(es) (cycle {f.get('cycle', 'full')})"
        + (f", each {swap_ms['median']:.1f} ms median, {swap_ms['max']:.1f} ms max "
           "(HTTP request: compile + install)" if swap_ms else ""),
    ]
    for when in ("before", "after"):
        for i, seen in enumerate(f.get(when, [])):
            lines.append(f"metrics {when} (process {i}): plugins "
                         f"{', '.join(seen['plugins']) or 'none'}; swaps_total {seen['swaps']}; "
                         f"failures of those plugins {seen.get('failures', 0)}")
    lines.append(
        f"server: read {server.get('datagrams', 0)} datagrams, sent {server.get('replies', 0)} "
        f"replies ({server.get('fast_replies', 0)} from bytes), shed "
        f"{server.get('shed_client', 0) + server.get('shed_full', 0)}, queue dropped "
        f"{server.get('queue_dropped_client', 0) + server.get('queue_dropped_full', 0)}; "
        f"kernel dropped {f.get('kernel_drops', 0)} on its socket; the stub answered "
        f"{f.get('stub_queries', 0)} upstream queries")
    return lines
