"""``shadowdns bench amplification``: upstream queries per client question on delegations
built to amplify (issue 24 part 4), the candidate next to Unbound on the same world.

Serves ``lab/worlds/amplification.yaml`` (NXNS-style delegations to NS names that do not
exist, a glue-less fan-out, a 24-hop CNAME chain and a CNAME loop across two zones, a
delegation 12 zones deep), starts the candidate (``resolver serve``, validating, one
process) and Unbound (one thread), warms both with ``www.amp.`` (the root's and the TLD's
keys), and asks each of the world's manifest names once, one resolver at a time.  The
upstream queries a question cost are read from the lab's per-querier counters (each resolver
egresses from its own address) once the resolver has been quiet for ``--settle`` seconds, so
work a resolver goes on with after it answered (target fetches, retries) is counted too.

Reported per name: each resolver's rcode, upstream queries and time to answer; the
candidate's cap (:data:`resolver.recursor.config.MAX_UPSTREAM_QUERIES`) and the maximum seen.
Loopback only; the lab binds 127.53.0.0/16 port 53 (root; one lab at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode

from lab.manifest import manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import default_world_path, load_world
from legacy_adapter import ManagedResolver, ReferenceSpec
from netpolicy import LAB
from resolver.recursor import MAX_UPSTREAM_QUERIES
from shadowdns.bench.resolver import (
    CANDIDATE,
    UNBOUND,
    _wait_answering,
    nonpositive_flag,
    stop_process,
)

WORLD = default_world_path().parent / "amplification.yaml"
QUESTION_TIMEOUT = 20.0
WARM_NAME = "www.amp."
"""Asked first, not counted: the root's and the TLD's keys and delegations are then cached,
so each row counts what its own delegations cost."""


def register(bsub: Any) -> None:
    a = bsub.add_parser("amplification",
                        help="upstream queries per client question on amplifying delegations "
                             "(NXNS, fan-out, CNAME chains, deep delegation), candidate vs "
                             "Unbound (loopback only)")
    a.add_argument("--settle", type=float, default=2.0, metavar="SECONDS",
                   help="a resolver's upstream count is read once it has sent nothing for "
                        "this long")
    a.add_argument("--run-dir", type=Path, default=Path("run/amplification"), metavar="DIR",
                   help="state of the lab and the resolvers")
    a.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    a.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if nonpositive_flag("amplification", args, "settle"):
        return 2
    run_dir: Path = args.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    lab = LabProcess(run_dir / "lab", str(WORLD))
    lab.stop()
    try:
        info = lab.start()
        try:
            results = asyncio.run(_bench(args, lab, info, run_dir))
        finally:
            lab.stop()
    except (LabError, RuntimeError, OSError) as e:
        print(f"shadowdns bench amplification: {e}", file=sys.stderr)
        return 1
    for line in summary_lines(results):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


async def _sent(lab: LabProcess, source: str) -> int:
    stats = await asyncio.to_thread(lab.stats)
    return int(stats.get("by_source", {}).get(source, 0))


async def _settled(lab: LabProcess, source: str, settle: float) -> int:
    """The querier's count once it has stayed the same for ``settle`` seconds."""
    last = await _sent(lab, source)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        await asyncio.sleep(settle)
        now = await _sent(lab, source)
        if now == last:
            return now
        last = now
    return last


async def _question(addr: tuple[str, int], name: str, rdtype: str) -> tuple[str, float]:
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    start = time.monotonic()
    try:
        r = await dns.asyncquery.udp(q, addr[0], port=addr[1], timeout=QUESTION_TIMEOUT)
        rcode = dns.rcode.to_text(r.rcode())
    except (dns.exception.DNSException, OSError):
        rcode = "TIMEOUT"
    return rcode, round(time.monotonic() - start, 3)


async def _bench(args: argparse.Namespace, lab: LabProcess, info: LabInfo, run_dir: Path
                 ) -> dict[str, Any]:
    entries = manifest(load_world(info.world))
    egress = {"candidate": info.egress.get("candidate", "127.54.3.1"),
              "unbound": info.egress.get("unbound", "127.54.1.1")}
    spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen=UNBOUND[0], port=UNBOUND[1], workdir=run_dir / "unbound",
        root_hints_file=info.hints_path, trust_anchor_file=info.anchor_path, threads=1,
        outgoing_address=egress["unbound"], address_policy=LAB)
    cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
           "--listen", f"{CANDIDATE[0]}:{CANDIDATE[1]}", "--lab", str(info.state_dir),
           "--egress", egress["candidate"], "--workers", "1"]
    rows: list[dict[str, Any]] = []
    with open(run_dir / "candidate.log", "ab") as log:
        candidate = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
    try:
        await _wait_answering(CANDIDATE, candidate)
        async with ManagedResolver.from_spec(spec):
            targets = {"candidate": CANDIDATE, "unbound": UNBOUND}
            for addr in targets.values():  # the root's and amp.'s keys and delegations
                await _question(addr, WARM_NAME, "A")
            for e in entries:
                name, rdtype = e.name.to_text(), e.rdtype.name
                row: dict[str, Any] = {"name": name, "type": rdtype, "kind": e.kind}
                for who, addr in targets.items():
                    before = await _settled(lab, egress[who], args.settle)
                    rcode, took = await _question(addr, name, rdtype)
                    after = await _settled(lab, egress[who], args.settle)
                    row[who] = {"rcode": rcode, "upstream": after - before, "seconds": took}
                rows.append(row)
    finally:
        stop_process(candidate)
    return {"world": str(WORLD), "candidate_cap": MAX_UPSTREAM_QUERIES, "rows": rows,
            "max": {who: max((r[who]["upstream"] for r in rows), default=0)
                    for who in ("candidate", "unbound")}}


def summary_lines(r: dict[str, Any]) -> list[str]:
    out = [f"{'name':<48} {'kind':<17} {'candidate':>18} {'unbound':>18}"]
    for row in r["rows"]:
        c, u = row["candidate"], row["unbound"]
        out.append(f"{row['name'] + ' ' + row['type']:<48} {row['kind']:<17} "
                   f"{c['rcode']:>8} {c['upstream']:>4} q {c['seconds']:>5.2f}s "
                   f"{u['rcode']:>8} {u['upstream']:>4} q {u['seconds']:>5.2f}s")
    out.append(f"upstream queries per client question, maximum: candidate {r['max']['candidate']}"
               f" (cap {r['candidate_cap']}), unbound {r['max']['unbound']}")
    return out
