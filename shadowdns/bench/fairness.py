"""``shadowdns bench fairness``: a quiet client next to a flooding one, on the lab (issue 24).

Starts the lab and the candidate (``shadowdns resolver serve --lab``, validating, in its own
processes) once per UDP reader (``--readers loop,thread,front``; the front reader with
``--front-nice``), then:

1. **alone**: a quiet client (``127.0.0.2``) asks a cached name at ``--quiet-rate`` queries
   per second for ``--seconds``: its unloaded latency (p50, p99) and losses;
2. **flood**: the same, while a flooder process (``127.0.0.3``) sends fresh names of the
   NSEC3 opt-out zone (every one a cold, validated NXDOMAIN upstream) at ``--flood-rate``
   (0: as fast as one process can send, far above what the candidate resolves).

Reported per reader: the quiet client's losses and p99 in both phases and their ratio (the
goal: no loss and p99 under the flood at most 2x the p99 alone), the flood sent and
answered, and the candidate's own counters of datagrams shed per client.  Nothing here is a
timed assertion; the figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from lab.manifest import manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import load_world
from resolver.server.udp import READERS
from shadowdns.bench.resolver import (
    _wait_answering,
    fixed_rate_latency,
    nonpositive_flag,
    stop_process,
)

CANDIDATE = ("127.0.0.14", 5353)
QUIET_SOURCE = "127.0.0.2"
FLOOD_SOURCE = "127.0.0.3"
FLOOD_ZONE = "optout.rsa."
QUIET_TIMEOUT = 1.0


def register(bsub: Any) -> None:
    f = bsub.add_parser("fairness", help="a quiet client's losses and latency while another "
                                         "client floods the candidate (loopback only)")
    f.add_argument("--readers", default="loop,thread,front", metavar="KIND,KIND",
                   help=f"UDP readers to measure, comma-separated ({', '.join(READERS)})")
    f.add_argument("--seconds", type=float, default=15.0, metavar="SECONDS",
                   help="length of each phase (alone, then under the flood)")
    f.add_argument("--quiet-rate", type=int, default=100, metavar="QPS",
                   help="the quiet client's queries per second")
    f.add_argument("--quiet-client", choices=("python", "dnsperf"), default="python",
                   metavar="KIND",
                   help="who asks for the cached name: 'python' (a task per query, from "
                        f"{QUIET_SOURCE}) or 'dnsperf' (-Q at --quiet-rate, one socket: for "
                        "rates like 5,000 qps, issue 22's hit-path p99 under a cold flood)")
    f.add_argument("--flood-rate", type=int, default=0, metavar="QPS",
                   help="the flooder's queries per second (0: as fast as it can send)")
    f.add_argument("--workers", type=int, default=1, metavar="N", help="candidate processes")
    f.add_argument("--front-nice", type=int, default=10, metavar="N",
                   help="with the front reader: resolver serve --udp-front-nice N")
    f.add_argument("--others-nice", type=int, default=0, metavar="N",
                   help="run the lab's authorities and the flooder at this nice increment "
                        "(they stand in for remote machines; 0: as everything else)")
    f.add_argument("--run-dir", type=Path, default=Path("run/fairness"), metavar="DIR",
                   help="state of the lab and the candidate")
    f.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    f.set_defaults(func=run)


def flood(addr: tuple[str, int], seconds: float, rate: int, seed: int,
          out: Connection, nice: int = 0) -> None:
    """Process body: fresh cold names at ``rate`` per second (0: flat out) for ``seconds``;
    sends back how many were sent and answered."""
    if nice:
        os.nice(nice)
    rng = random.Random(seed)
    sent = answered = 0
    # one query rendered once; each datagram patches a fresh 12-hex-digit first label and ID
    template = bytearray(dns.message.make_query(f"f{'0' * 12}.{FLOOD_ZONE}", "A",
                                                want_dnssec=True).to_wire())
    at = 12 + 2  # after the length byte of the first label and its 'f'
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((FLOOD_SOURCE, 0))
        sock.setblocking(False)
        start = time.monotonic()
        deadline = start + seconds
        while (now := time.monotonic()) < deadline:
            if rate and sent >= rate * (now - start):
                time.sleep(0.001)
            else:
                bits = rng.getrandbits(64)
                template[0:2] = (bits & 0xFFFF).to_bytes(2, "big")
                template[at:at + 12] = b"%012x" % (bits >> 16)
                with contextlib.suppress(BlockingIOError):
                    sock.sendto(template, addr)
                    sent += 1
            while True:
                try:
                    sock.recv(65535)
                    answered += 1
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
    out.send({"sent": sent, "answered": answered})


async def quiet(addr: tuple[str, int], name: str, seconds: float, rate: int
                ) -> dict[str, Any]:
    """A client asking ``name`` at ``rate`` per second: each query in its own task, so a
    slow answer never delays the next query."""
    latencies: list[float] = []
    failed = 0

    async def one() -> None:
        nonlocal failed
        start = time.monotonic()
        try:
            r = await dns.asyncquery.udp(dns.message.make_query(name, "A"), addr[0],
                                         port=addr[1], timeout=QUIET_TIMEOUT,
                                         source=QUIET_SOURCE)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                latencies.append(time.monotonic() - start)
                return
        except (dns.exception.DNSException, OSError):
            pass
        failed += 1

    tasks = []
    start = time.monotonic()
    n = int(seconds * rate)
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    lat = sorted(latencies)

    def pct(p: float) -> float | None:
        return round(1000 * lat[int(p * (len(lat) - 1))], 3) if lat else None

    return {"sent": n, "answered": len(lat), "lost": failed, "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "max_ms": round(1000 * lat[-1], 3) if lat else None}


async def _quiet(args: argparse.Namespace, name: str) -> dict[str, Any]:
    if args.quiet_client == "python":
        return await quiet(CANDIDATE, name, args.seconds, args.quiet_rate)
    datafile = args.run_dir / "quiet.txt"
    datafile.write_text(f"{name} A\n")
    seconds = max(1, round(args.seconds))
    r = await asyncio.to_thread(fixed_rate_latency, CANDIDATE, datafile, args.quiet_rate,
                                seconds)
    sent = int(r["answered"] + r["lost"])
    return {"sent": sent, "answered": int(r["answered"]), "lost": int(r["lost"]),
            "p50_ms": round(r["p50_ms"], 3), "p99_ms": round(r["p99_ms"], 3),
            "max_ms": round(r["max_ms"], 3), "qps": r["qps"]}


@contextlib.contextmanager
def _candidate(info: LabInfo, run_dir: Path, reader: str, workers: int, nice: int
               ) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
           "--listen", f"{CANDIDATE[0]}:{CANDIDATE[1]}", "--lab", str(info.state_dir),
           "--egress", info.egress.get("candidate", "127.54.3.1"),
           "--workers", str(workers), "--udp-reader", reader]
    if reader == "front" and nice:
        cmd += ["--udp-front-nice", str(nice)]
    with open(run_dir / f"candidate-{reader}.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        stop_process(proc)


async def _one_reader(args: argparse.Namespace, info: LabInfo, reader: str
                      ) -> dict[str, Any]:
    entries = [e for e in manifest(load_world(info.world))
               if e.category == "stable" and e.rcode == 0 and e.rdtype == dns.rdatatype.A]
    name = entries[0].name.to_text()
    with _candidate(info, args.run_dir, reader, args.workers, args.front_nice) as proc:
        await _wait_answering(CANDIDATE, proc)
        await asyncio.sleep(0.5)
        for _ in range(3):  # warm: the quiet name is a cache hit in every process
            with contextlib.suppress(dns.exception.DNSException, OSError):
                await dns.asyncquery.udp(dns.message.make_query(name, "A"), CANDIDATE[0],
                                         port=CANDIDATE[1], timeout=2)
        alone = await _quiet(args, name)
        ctx = mp.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        flooder = ctx.Process(target=flood, args=(CANDIDATE, args.seconds + 1.0,
                                                  args.flood_rate, 1, send, args.others_nice))
        flooder.start()
        await asyncio.sleep(0.5)  # the flood is on before the quiet client starts again
        loaded = await _quiet(args, name)
        flood_counts = await asyncio.to_thread(receive.recv)
        flooder.join(5)
        crashed = proc.poll() is not None
    ratio = (round(loaded["p99_ms"] / alone["p99_ms"], 2)
             if loaded["p99_ms"] and alone["p99_ms"] else None)
    return {"reader": reader, "alone": alone, "flood": loaded, "p99_ratio": ratio,
            "flooder": flood_counts, "crashed": crashed}


def run(args: argparse.Namespace) -> int:
    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    bad = [r for r in readers if r not in READERS]
    if bad or not readers:
        print(f"shadowdns bench fairness: --readers: expected names from "
              f"{', '.join(READERS)}, got {args.readers!r}", file=sys.stderr)
        return 2
    if nonpositive_flag("fairness", args, "seconds", "quiet_rate", "workers"):
        return 2
    args.run_dir.mkdir(parents=True, exist_ok=True)
    lab = LabProcess(args.run_dir / "lab")
    lab.stop()
    results: list[dict[str, Any]] = []
    try:
        info = lab.start()
        if args.others_nice:
            os.setpriority(os.PRIO_PROCESS, info.pid, args.others_nice)  # ours, by PID
        try:
            for reader in readers:
                results.append(asyncio.run(_one_reader(args, info, reader)))
        finally:
            lab.stop()
    except (LabError, OSError, dns.exception.DNSException) as e:
        print(f"shadowdns bench fairness: {e}", file=sys.stderr)
        return 1
    for r in results:
        a, f = r["alone"], r["flood"]
        print(f"{r['reader']:>6}: quiet alone lost {a['lost']}/{a['sent']} p50 {a['p50_ms']} ms "
              f"p99 {a['p99_ms']} ms | under flood lost {f['lost']}/{f['sent']} p50 "
              f"{f['p50_ms']} ms p99 {f['p99_ms']} ms (x{r['p99_ratio']}) | flood sent "
              f"{r['flooder']['sent']} answered {r['flooder']['answered']}"
              + (" | CANDIDATE EXITED" if r["crashed"] else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0
