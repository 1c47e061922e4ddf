"""``shadowdns demo``: the main job on the embedded lab -- a shadow run.

1. start the lab;
2. start the harness: a dnstap intake on a unix socket, the candidate resolver in process,
   Knot Resolver as the reference (each egressing from its own lab region);
3. start a *staging* Unbound that sends dnstap (client queries and its own responses) to the
   harness's socket;
4. send a bundled client load (the lab manifest's names, twice) through the staging Unbound;
5. the harness compares every sampled query between candidate and kresd and stores it;
   the demo ends with the harness's divergence summary.

``shadowdns demo --tour`` is the earlier tour: every manifest name through Unbound and Knot
Resolver next to the ground truth.  Everything binds 127.0.0.0/8 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from harness.targets import InProcessTarget
from lab.manifest import agrees, manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import ManifestEntry, load_world
from legacy_adapter import ManagedResolver, ReferenceResolverError, ReferenceSpec
from netpolicy import LAB
from reports.command import invoked_as
from resolver.app import describe

DEFAULT_RUN_DIR = Path("run/demo")
UNBOUND_LISTEN = "127.55.0.1"
KRESD_LISTEN = "127.55.0.2"
REFERENCE_PORT = 5053
QUERY_TIMEOUT = 5.0
QUERY_TRIES = 2  # like a stub resolver: a resolver busy with a dead server gets a second ask


STAGING_LISTEN = "127.55.0.3"
ROUNDS = 2


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="a shadow run on the lab: staging Unbound -> dnstap -> "
                                    "harness -> candidate vs Knot Resolver")
    p.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, metavar="DIR",
                   help="where the lab and resolvers keep state and logs")
    p.add_argument("--no-qname-minimisation", action="store_true",
                   help="resolvers ask upstream servers the full name (RFC 9156 off)")
    p.add_argument("--rounds", type=int, default=ROUNDS, metavar="N",
                   help="times the client load asks every name")
    p.add_argument("--sample", type=float, default=1.0, metavar="P",
                   help="probability a query is compared")
    p.add_argument("--live", choices=("auto", "dashboard", "log", "off"), default="auto",
                   help="progress: a dashboard on a terminal and log lines otherwise (auto), "
                        "dashboard, log or off")
    p.add_argument("--tour", action="store_true",
                   help="the earlier tour instead: every name through Unbound and kresd")
    p.set_defaults(func=run)


@dataclass
class Observed:
    response: dns.message.Message | None
    error: str = ""
    elapsed: float = 0.0


async def ask(entry: ManifestEntry, address: str, port: int,
              source: str | None = None) -> Observed:
    """One question as dig asks it (RD, AD, EDNS0 with DO), UDP then TCP on truncation,
    with :data:`QUERY_TRIES` tries of :data:`QUERY_TIMEOUT` seconds."""
    q = dns.message.make_query(entry.name, entry.rdtype, want_dnssec=True)
    q.flags |= dns.flags.AD
    start = time.monotonic()
    for _ in range(QUERY_TRIES):
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(
                q, address, timeout=QUERY_TIMEOUT, port=port, source=source
            )
        except (dns.exception.Timeout, TimeoutError):
            continue
        except (OSError, dns.exception.DNSException) as e:
            return Observed(None, f"{type(e).__name__}: {e}", time.monotonic() - start)
        return Observed(response, "", time.monotonic() - start)
    return Observed(None, "timeout", time.monotonic() - start)


def summary(obs: Observed) -> str:
    if obs.response is None:
        return obs.error
    r = obs.response
    parts = [dns.rcode.to_text(r.rcode())]
    if r.flags & dns.flags.AD:
        parts.append("AD")
    data = [rd.to_text() for rrset in r.answer if rrset.rdtype != dns.rdatatype.RRSIG
            for rd in rrset][:3]
    if data:
        parts.append(" ".join(data))
    return " ".join(parts)


@contextlib.asynccontextmanager
async def references(run_dir: Path, lab: LabInfo, qmin: bool
                     ) -> AsyncIterator[list[ManagedResolver]]:
    specs = [
        ReferenceSpec.from_lab_files(
            kind="unbound", listen=UNBOUND_LISTEN, port=REFERENCE_PORT,
            workdir=run_dir / "unbound", root_hints_file=lab.hints_path,
            trust_anchor_file=lab.anchor_path, qname_minimisation=qmin,
            outgoing_address=lab.egress.get("unbound"), address_policy=LAB,
        ),
        ReferenceSpec.from_lab_files(
            kind="kresd", listen=KRESD_LISTEN, port=REFERENCE_PORT,
            workdir=run_dir / "kresd", root_hints_file=lab.hints_path,
            trust_anchor_file=lab.anchor_path, qname_minimisation=qmin,
            outgoing_address=lab.egress.get("kresd"), address_policy=LAB,
        ),
    ]
    async with contextlib.AsyncExitStack() as stack:
        refs = [await stack.enter_async_context(ManagedResolver.from_spec(s)) for s in specs]
        yield refs


async def tour(run_dir: Path, lab: LabInfo, qmin: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    entries = manifest(load_world(lab.world))
    async with references(run_dir, lab, qmin) as refs:
        console.print("references up: " + ", ".join(
            f"{r.name} at {r.address}:{r.port}" for r in refs))
        results = await asyncio.gather(*[
            asyncio.gather(*[ask(e, r.address, r.port) for r in refs]) for e in entries
        ])
    table = Table(title=f"lab tour: {len(entries)} names through Unbound and Knot Resolver "
                        f"(QNAME minimisation {'on' if qmin else 'off'})")
    table.add_column("name", no_wrap=True)
    table.add_column("type")
    table.add_column("expected")
    for r in refs:
        table.add_column(r.name.split("@")[0])
    agree_counts = [0 for _ in refs]
    for entry, observed in zip(entries, results, strict=True):
        expect = f"{dns.rcode.to_text(dns.rcode.Rcode(entry.rcode))} {entry.dnssec}"
        if entry.category != "stable":
            expect += f" ({entry.category}:{entry.kind})"
        cells = []
        for i, obs in enumerate(observed):
            if obs.response is not None:
                ok, why = agrees(entry, obs.response)
            else:
                ok, why = entry.timeout_ok and obs.error == "timeout", obs.error
            agree_counts[i] += ok
            mark = "[green]✓[/]" if ok else f"[red]✗ {why}[/]"
            cells.append(f"{mark} {summary(obs)}")
        table.add_row(entry.name.to_text(), dns.rdatatype.to_text(entry.rdtype), expect, *cells)
    console.print(table)
    for r, n in zip(refs, agree_counts, strict=True):
        console.print(f"{r.name}: {n}/{len(entries)} names agree with the lab's manifest")
    geo = [e for e in entries if e.kind in ("geo", "cdn")]
    for e, pair in zip(entries, results, strict=True):
        if e in geo:
            console.print(f"geo noise {e.name}: " + " | ".join(
                f"{r.name}: {summary(o)}" for r, o in zip(refs, pair, strict=True)))
    console.print(f"logs: {run_dir}/unbound, {run_dir}/kresd, {lab.state_dir}/lab.log")
    return 0


def store_note(db: Path) -> str:
    """Keep what earlier demos stored: this run is appended to ``db`` as the next run (a
    file that is not a store is moved aside, never deleted); say where it all is."""
    from harness.store import keep_or_rotate

    runs, moved = keep_or_rotate(db)
    if moved is not None:
        return (f"store: {db} could not be appended to (not a store of this shadowdns): "
                f"moved to {moved}; this demo starts a new store")
    if not runs:
        return f"store: {db} (new)"
    kept = f"run {runs[0]}" if len(runs) == 1 else f"runs {runs[0]}-{runs[-1]}"
    return (f"store: {db} keeps earlier demos ({kept}: shadowdns report RUN --db {db}); "
            "this demo is appended as the next run")


async def shadow(args: argparse.Namespace, run_dir: Path, lab: LabInfo) -> int:
    """The shadow run (see the module docstring)."""
    from harness.assemble import build_pipeline
    from harness.config import config_from_mapping
    from harness.live import LiveView
    from harness.load import client_load, load_names
    from harness.summary import summary_lines

    qmin = not args.no_qname_minimisation
    sock = (run_dir / "dnstap.sock").absolute()
    db = run_dir / "shadow.db"
    print(store_note(db), flush=True)
    config = config_from_mapping({
        "lab": str(lab.state_dir),
        "run_dir": str(run_dir),
        "intake": [{"kind": "dnstap", "socket": str(sock)}],
        # The staging Unbound's own health probe (localhost.) is not client traffic.
        "sampler": {"probability": args.sample, "exclude_suffixes": ["localhost."]},
        "candidate": {"timeout": QUERY_TIMEOUT, "qname_minimisation": qmin},
        "references": [{"name": "kresd", "kind": "kresd", "listen": f"{KRESD_LISTEN}:"
                        f"{REFERENCE_PORT}", "timeout": QUERY_TIMEOUT,
                        "qname_minimisation": qmin}],
        "store": {"path": str(db), "commit_interval": 0.2},
        "differ": {"authority_port": lab.port},  # the authority sweep asks the lab's servers
        "live": args.live,
        "log_interval": 2,
    }, source="demo")
    pipeline = build_pipeline(config)
    lines = load_names(lab, quick=True) * max(1, args.rounds)
    staging_spec = ReferenceSpec.from_lab_files(
        kind="unbound", listen=STAGING_LISTEN, port=REFERENCE_PORT,
        workdir=run_dir / "staging-unbound", root_hints_file=lab.hints_path,
        trust_anchor_file=lab.anchor_path, qname_minimisation=qmin,
        outgoing_address=lab.egress.get("unbound"), dnstap_socket=sock, identity="staging",
        address_policy=LAB)
    print(f"harness: dnstap on {sock}; candidate in process; reference kresd at "
          f"{KRESD_LISTEN}:{REFERENCE_PORT}; judge {type(pipeline.judge).__name__}", flush=True)
    for target in pipeline.targets:
        if isinstance(target, InProcessTarget):  # its root hints and trust anchor
            for line in describe(target.config, off="candidate.validate: false"):
                print(f"candidate: {line}", flush=True)
    async with pipeline:
        view = LiveView(pipeline, config.live, config.log_interval)
        view_task = asyncio.create_task(view.run())
        try:
            async with ManagedResolver.from_spec(staging_spec) as staging:
                print(f"staging Unbound at {staging.address}:{staging.port} sends dnstap to the "
                      f"harness; client load: {len(lines)} queries", flush=True)
                load = await client_load(staging.address, staging.port, lines,
                                         timeout=QUERY_TIMEOUT)
                print(f"client load done: {load.answered} answered, {load.timeouts} timed out",
                      flush=True)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    counters = pipeline.metrics.counters
                    if (counters["seen"] >= load.sent and pipeline.dispatcher.in_flight == 0):
                        break
                    await asyncio.sleep(0.2)
        finally:
            view_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await view_task
    print()
    for line in summary_lines(pipeline.status(), db):
        print(line)
    print(f"logs: {run_dir}/staging-unbound, {run_dir}/kresd, {lab.state_dir}/lab.log")
    return 0


def run(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir
    lab_proc = LabProcess(run_dir / "lab")
    try:
        lab_proc.stop()  # a lab left behind by an interrupted demo of this run dir
        info = lab_proc.start()
        print(f"lab up: pid {info.pid}, root servers "
              + ", ".join(a for _, a in info.root_servers))
        if args.tour:
            return asyncio.run(tour(run_dir, info, not args.no_qname_minimisation))
        status = asyncio.run(shadow(args, run_dir, info))
    except (LabError, ReferenceResolverError, OSError, ValueError) as e:
        print(f"shadowdns demo: {e}", file=sys.stderr)
        return 1
    finally:
        lab_proc.stop()
    if status == 0:
        # The divergence report of the run, first screen first: safe to ship, and why.
        from reports import cli as reports_cli

        print()
        parser = argparse.ArgumentParser(prog=invoked_as())
        reports_cli.register(parser.add_subparsers())
        reports_cli.main(parser.parse_args(["report", "--db", str(run_dir / "shadow.db")]))
        again = invoked_as()
        print(f"(again: {again} report --db {run_dir / 'shadow.db'}; "
              f"one verdict in full: {again} report explain ID)")
    return status
