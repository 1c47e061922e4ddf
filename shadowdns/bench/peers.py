"""``shadowdns bench peers``: the peer cache on the lab (issue 21).

Starts the lab and three candidates (``resolver serve --lab --workers 1``, validating, each
egressing from its own address so the lab counts each one's upstream queries), then:

1. **fleet**: a workload of questions (the lab manifest's stable questions and ``--names``
   fresh names per zone), each asked ``--repeat`` times: all at one member (the 1x
   reference), then at members chosen at random (seeded) among three separate resolvers, then
   among the three as a peer group: fleet-wide upstream queries per distinct question in
   each (fresh candidates for each run);
2. **latency**: fresh questions asked at their owner (a cold resolution), then at a member
   that does not own them (a *peer hit*: its own cache misses, the owner's hits), then at the
   owner again (a local hit): p50/p99 of each;
3. **workers**: the same batches asked of one instance of three workers (``--workers 3``,
   SO_REUSEPORT spreads the queries), with separate caches (``--no-peer-workers``) and as a
   group;
4. **kill**: fresh questions asked in a stream at the first two members while the third is
   terminated halfway: client queries lost (no answer or SERVFAIL) and, for the questions
   the dead member owned (re-homed to their second choice), how many were answered and how
   long the first one after the kill took.

Nothing here is a timed assertion; the figures go to docs/PEERS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from lab.manifest import manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import load_world
from resolver.peers.ring import Ring, key_of
from shadowdns.bench.resolver import _wait_answering, nonpositive_flag, stop_process

HOSTS = ("127.0.0.31", "127.0.0.32", "127.0.0.33")
DNS_PORT = 5353
PEER_PORT = 5453
EGRESS = ("127.54.31.1", "127.54.31.2", "127.54.31.3")
SECRET = b"bench-peers-shared-secret-0123456789"
TIMEOUT = 3.0

Question = tuple[str, int]


def register(bsub: Any) -> None:
    p = bsub.add_parser("peers", help="the peer cache: fleet-wide upstream queries with and "
                                      "without peers, peer-hit latency, a member killed "
                                      "(loopback only)")
    p.add_argument("--names", type=int, default=20, metavar="N",
                   help="fresh names per lab zone in each phase's workload")
    p.add_argument("--repeat", type=int, default=3, metavar="N",
                   help="times each question of the fleet workload is asked")
    p.add_argument("--peer-timeout-ms", type=float, default=50.0, metavar="N",
                   help="the members' --peer-timeout-ms (milliseconds for the owner's first "
                        "frame)")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="which instance is asked, and when")
    p.add_argument("--run-dir", type=Path, default=Path("run/peers"), metavar="DIR",
                   help="state of the lab and the candidates")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=run)


def _members() -> list[str]:
    return [f"{h}:{PEER_PORT}" for h in HOSTS]


@contextlib.contextmanager
def _fleet(info: LabInfo, run_dir: Path, peers: bool, tag: str, timeout_ms: float
           ) -> Iterator[list[subprocess.Popen[bytes]]]:
    secret = run_dir / "peer.key"
    secret.write_bytes(SECRET)
    procs: list[subprocess.Popen[bytes]] = []
    workers = tag.startswith("workers")  # one instance of three workers
    try:
        for i, host in enumerate(HOSTS[:1] if workers else HOSTS):
            cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
                   "--listen", f"{host}:{DNS_PORT}", "--lab", str(info.state_dir),
                   "--egress", EGRESS[i], "--workers", str(len(HOSTS) if workers else 1)]
            if workers and not peers:
                cmd.append("--no-peer-workers")
            if peers and not workers:
                cmd += ["--peer-listen", f"{host}:{PEER_PORT}", "--peer-secret-file",
                        str(secret), "--peer-timeout-ms", str(timeout_ms)]
                cmd += [f"--peer={m}" for m in _members() if not m.startswith(host + ":")]
            with open(run_dir / f"{tag}-{i}.log", "ab") as log:
                procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        yield procs
    finally:
        for proc in procs:
            stop_process(proc)


async def _ask(host: str, q: Question, do: bool = True) -> tuple[float | None, int | None]:
    """(seconds, rcode) of one query, (None, None) when no answer came."""
    start = time.monotonic()
    query = dns.message.make_query(q[0], dns.rdatatype.RdataType.make(q[1]), want_dnssec=do)
    try:
        r = await dns.asyncquery.udp(query, host, port=DNS_PORT, timeout=TIMEOUT)
    except (dns.exception.DNSException, OSError):
        return None, None
    return time.monotonic() - start, r.rcode()


def _upstream(lab: LabProcess) -> int:
    by_source = lab.stats()["by_source"]
    return sum(int(by_source.get(s, 0)) for s in EGRESS)


def _questions(info: LabInfo, tag: str, per_zone: int) -> list[Question]:
    """``per_zone`` fresh A questions in each zone of the lab whose names are all stable
    (no lame, dead or slow servers, no noise, not bogus): names that do not exist, and names
    a wildcard answers (``*.wild`` in the zone)."""
    out: list[Question] = []
    for zone in load_world(info.world).zones:
        if zone.origin == dns.name.root or not zone.names or zone.noise \
                or any(e.category != "stable" for e in zone.names) \
                or all(e.rcode == dns.rcode.SERVFAIL for e in zone.names):
            continue
        origin = zone.origin.to_text()
        out += [(f"{tag}{i}.{origin}", int(dns.rdatatype.A)) for i in range(per_zone)]
        if "*.wild" in zone.records:
            out += [(f"{tag}{i}.wild.{origin}", int(dns.rdatatype.A)) for i in range(per_zone)]
    return out


def _pct(values: list[float], p: float) -> float | None:
    v = sorted(values)
    return round(1000 * v[int(p * (len(v) - 1))], 2) if v else None


async def _fleet_run(args: argparse.Namespace, info: LabInfo, lab: LabProcess,
                     mode: str) -> dict[str, Any]:
    """``mode``: "single" (every query at the first member: the 1x reference), "alone"
    (spread over three separate resolvers), "peers" (spread over the group), "workers" and
    "workers_alone" (one instance of three workers, with and without their group)."""
    peers = mode in ("peers", "workers")
    entries = [e for e in manifest(load_world(info.world)) if e.category == "stable"]
    first = [(e.name.to_text(), int(e.rdtype)) for e in entries]
    first = list(dict.fromkeys(first + _questions(info, "fleet", args.names)))
    second = _questions(info, "more", args.names)
    rng = random.Random(args.seed)
    with _fleet(info, args.run_dir, peers, mode, args.peer_timeout_ms) as procs:
        for host, proc in zip(HOSTS, procs, strict=False):
            await _wait_answering((host, DNS_PORT), proc)
        result: dict[str, Any] = {}
        # the first batch starts cold (delegations, keys, priming: per member); the second,
        # fresh names of the same zones, is what each further name costs
        for label, questions in (("cold", first), ("warm", second)):
            spread = mode in ("alone", "peers")
            order = [(q, rng.randrange(len(HOSTS)) if spread else 0)
                     for q in questions for _ in range(args.repeat)]
            rng.shuffle(order)
            before = _upstream(lab)
            lost = await _workload(order)
            spent = _upstream(lab) - before
            result[label] = {"questions": len(questions), "queries": len(order), "lost": lost,
                             "upstream": spent,
                             "upstream_per_question": round(spent / len(questions), 2)}
        if mode == "peers":
            result["latency"] = await _latency(args, info)
            result["kill"] = await _kill(args, info, procs)
    return result


async def _workload(order: list[tuple[Question, int]]) -> int:
    """Ask each question at its member, 8 at a time; how many got no answer."""
    lost = 0
    sem = asyncio.Semaphore(8)

    async def one(q: Question, i: int) -> None:
        nonlocal lost
        async with sem:
            seconds, _ = await _ask(HOSTS[i], q)
            lost += seconds is None

    await asyncio.gather(*(one(q, i) for q, i in order))
    return lost


async def _latency(args: argparse.Namespace, info: LabInfo) -> dict[str, Any]:
    ring = Ring(_members())
    figures: dict[str, list[float]] = {
        "cold_at_owner": [], "peer_hit": [], "local_hit_bytes": [], "local_hit_full": []}
    for q in _questions(info, "lat", args.names):
        order = ring.order(key_of(dns.name.from_text(q[0])))
        owner, other = HOSTS[_members().index(order[0])], HOSTS[_members().index(order[1])]
        # the owner resolves; a non-owner's miss is the owner's hit; the owner again (its
        # bytes cache); the owner without DO (a miss of the bytes cache, a hit of its
        # resolver's cache: the full path a peer hit also takes at the owner)
        for host, key, do in ((owner, "cold_at_owner", True), (other, "peer_hit", True),
                              (owner, "local_hit_bytes", True),
                              (owner, "local_hit_full", False)):
            seconds, _ = await _ask(host, q, do)
            if seconds is not None:
                figures[key].append(seconds)
    return {name: {"n": len(v), "p50_ms": _pct(v, 0.5), "p99_ms": _pct(v, 0.99)}
            for name, v in figures.items()}


async def _kill(args: argparse.Namespace, info: LabInfo,
                procs: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    ring = Ring(_members())
    dead = _members()[2]
    questions = _questions(info, "kill", args.names)
    half = len(questions) // 2
    lost = servfail = answered = 0
    rehomed: list[float] = []

    async def one(q: Question, i: int, killed: bool) -> None:
        nonlocal lost, servfail, answered
        seconds, rcode = await _ask(HOSTS[i % 2], q)
        if seconds is None:
            lost += 1
        elif rcode == dns.rcode.SERVFAIL:
            servfail += 1
        else:
            answered += 1
            if killed and ring.owner(key_of(dns.name.from_text(q[0]))) == dead:
                rehomed.append(seconds)

    await asyncio.gather(*(one(q, i, False) for i, q in enumerate(questions[:half])))
    procs[2].send_signal(signal.SIGTERM)
    procs[2].wait(10)
    await asyncio.gather(*(one(q, i, True) for i, q in enumerate(questions[half:])))
    return {"queries": len(questions), "lost": lost, "servfail": servfail,
            "answered": answered, "rehomed_answered": len(rehomed),
            "rehomed_p50_ms": _pct(rehomed, 0.5), "rehomed_max_ms": _pct(rehomed, 1.0)}


async def _main(args: argparse.Namespace, info: LabInfo, lab: LabProcess) -> dict[str, Any]:
    single = await _fleet_run(args, info, lab, "single")
    alone = await _fleet_run(args, info, lab, "alone")
    grouped = await _fleet_run(args, info, lab, "peers")
    workers_alone = await _fleet_run(args, info, lab, "workers_alone")
    workers = await _fleet_run(args, info, lab, "workers")
    return {"one_member": single, "without_peers": alone, "with_peers": grouped,
            "workers_alone": workers_alone, "workers_grouped": workers}


def run(args: argparse.Namespace) -> int:
    if nonpositive_flag("peers", args, "names", "repeat", "peer_timeout_ms"):
        return 2
    args.run_dir.mkdir(parents=True, exist_ok=True)
    lab = LabProcess(args.run_dir / "lab")
    lab.stop()
    try:
        info = lab.start()
        try:
            result = asyncio.run(_main(args, info, lab))
        finally:
            lab.stop()
    except (LabError, OSError, RuntimeError, dns.exception.DNSException) as e:
        print(f"shadowdns bench peers: {e}", file=sys.stderr)
        return 1
    for batch in ("cold", "warm"):
        one, a, g = (result[k][batch] for k in ("one_member", "without_peers", "with_peers"))
        print(f"{batch}: {a['questions']} questions x {args.repeat}: upstream queries per "
              f"question {one['upstream_per_question']} at one member (1x); at random members "
              f"of 3: {a['upstream_per_question']} without peers "
              f"(x{round(a['upstream'] / max(1, one['upstream']), 2)}), "
              f"{g['upstream_per_question']} with peers "
              f"(x{round(g['upstream'] / max(1, one['upstream']), 2)}); client queries lost "
              f"{one['lost']} / {a['lost']} / {g['lost']}")
        wa, wg = result["workers_alone"][batch], result["workers_grouped"][batch]
        print(f"{batch}: one instance of {len(HOSTS)} workers: upstream queries per question "
              f"{wa['upstream_per_question']} with separate caches "
              f"(x{round(wa['upstream'] / max(1, one['upstream']), 2)}), "
              f"{wg['upstream_per_question']} as a group "
              f"(x{round(wg['upstream'] / max(1, one['upstream']), 2)}); lost {wa['lost']} / "
              f"{wg['lost']}")
    g = result["with_peers"]
    lat = g["latency"]
    print("latency (ms): " + "; ".join(f"{k} p50 {v['p50_ms']} p99 {v['p99_ms']} (n {v['n']})"
                                        for k, v in lat.items()))
    k = g["kill"]
    print(f"member killed mid-run: {k['queries']} queries, lost {k['lost']}, SERVFAIL "
          f"{k['servfail']}; re-homed questions answered {k['rehomed_answered']} (p50 "
          f"{k['rehomed_p50_ms']} ms, max {k['rehomed_max_ms']} ms)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0
