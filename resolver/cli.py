"""``shadowdns resolver serve``: the candidate resolver on a loopback address.

    shadowdns resolver serve --listen 127.0.0.12:5353 --root-hints run/lab/root.hints \\
        --trust-anchor run/lab/trust-anchor.ds

Then ``dig @127.0.0.12 -p 5353 www.example.lab``.  Runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from resolver.app import build, trust_anchors
from resolver.config import ConfigError, ResolverConfig, loopback, read_root_hints
from resolver.fastpath import FastCache
from resolver.frames import FrameQueue
from resolver.plugins import PluginChain
from resolver.server import Listeners
from resolver.workers import Workers

log = logging.getLogger("shadowdns.resolver")


def register(sub: Any) -> None:
    p = sub.add_parser("resolver", help="the candidate resolver")
    rsub = p.add_subparsers(dest="resolver_command", required=True, metavar="ACTION")
    s = rsub.add_parser("serve", help="serve DNS on a loopback address until interrupted")
    s.add_argument("--listen", default="127.0.0.12:5353", metavar="ADDR:PORT",
                   help="where to serve (127.0.0.0/8)")
    s.add_argument("--root-hints", type=Path, required=True, metavar="FILE",
                   help="root hints (zone-file text)")
    s.add_argument("--trust-anchor", type=Path, metavar="FILE",
                   help="trust anchor file (DS or DNSKEY lines)")
    s.add_argument("--no-qname-minimisation", action="store_true",
                   help="ask upstream servers the full name (RFC 9156 off)")
    s.add_argument("--qmin-qtype", choices=("A", "NS"), default="A",
                   help="type of minimised queries: A (RFC 9156, Unbound) or NS "
                        "(RFC 7816, Knot Resolver)")
    s.add_argument("--egress", metavar="ADDR",
                   help="source address for upstream queries (127.0.0.0/8)")
    s.add_argument("--upstream-port", type=int, default=53, metavar="PORT",
                   help="port the authoritative servers are asked on")
    s.add_argument("--cache-mb", type=int, default=64, metavar="MB",
                   help="cache budget per process")
    s.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="server processes sharing the port with SO_REUSEPORT, each with its "
                        "own cache (default: one per core)")
    s.add_argument("--tasks", type=int, default=64, metavar="N",
                   help="queries in flight per process")
    s.set_defaults(func=serve)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen: expected ADDR:PORT, got {text!r}")
    return loopback("--listen", host), int(port)


def config_from(args: argparse.Namespace) -> ResolverConfig:
    """The configuration the flags describe, its files read and checked now: a bad file is
    a one-line error naming the flag before anything starts."""
    host, port = parse_listen(args.listen)
    try:
        root_hints = read_root_hints(args.root_hints)
    except ConfigError as e:
        raise ConfigError(f"--root-hints {e}") from None
    config = ResolverConfig(
        listen=host, port=port, root_hints=root_hints,
        trust_anchor_file=args.trust_anchor,
        qname_minimisation=not args.no_qname_minimisation, qmin_qtype=args.qmin_qtype,
        egress=loopback("--egress", args.egress) if args.egress else None,
        upstream_port=args.upstream_port, cache_bytes=args.cache_mb * 1024 * 1024,
        workers=args.tasks, processes=max(1, args.workers),
    )
    try:
        trust_anchors(config)
    except ConfigError as e:
        raise ConfigError(f"--trust-anchor {e}") from None
    return config


async def run_server(config: ResolverConfig, stop: asyncio.Event) -> None:
    answerer = build(config)
    queue = FrameQueue()
    fast = FastCache(config.cache_bytes // 4)
    workers = Workers(queue, answerer, PluginChain(), n=config.workers, fastcache=fast)
    listeners = Listeners(queue, config.listen, config.port, fastcache=fast,
                          reuse_port=config.processes > 1)
    workers.start()
    try:
        host, port = await listeners.start()
        print(f"resolver: serving on {host}:{port} (udp, tcp), pid {os.getpid()}", flush=True)
        await stop.wait()
    finally:
        await listeners.close()
        await workers.stop()


def serve(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
    except ConfigError as e:
        print(f"shadowdns resolver: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if config.processes > 1:
        try:
            ensure_free(config.listen, config.port)
        except OSError as e:
            print(f"shadowdns resolver: cannot serve on {args.listen}: {e.strerror or e}",
                  file=sys.stderr)
            return 1
        return _supervise(config)
    return _serve_one(config, args.listen)


def ensure_free(host: str, port: int) -> None:
    """Fail if anyone already has the port: with SO_REUSEPORT a stale server on the same
    address would silently take a share of the queries."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind((host, port))


def _supervise(config: ResolverConfig) -> int:
    """Fork one server process per worker and wait; signals are passed on to them."""
    children: list[int] = []
    for _ in range(config.processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _serve_one(config, f"{config.listen}:{config.port}")
            finally:
                os._exit(code)
        children.append(pid)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for child in children:
        _, code = os.waitpid(child, 0)
        status = status or os.waitstatus_to_exitcode(code)
    return status


def _serve_one(config: ResolverConfig, listen: str) -> int:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_server(config, stop)

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(main())
    except OSError as e:
        print(f"shadowdns resolver: cannot serve on {listen}: {e.strerror}", file=sys.stderr)
        return 1
    return 0
