"""``shadowdns resolver serve``: the candidate resolver (any address; ``--lab``: loopback only).

    shadowdns resolver serve --listen 127.0.0.12:5353 --lab run/lab

Then ``dig @127.0.0.12 -p 5353 www.example.lab``.  Runs until SIGTERM or SIGINT.  ``--dot PORT``
and ``--doh PORT`` add DNS over TLS and over HTTPS on the same address (``dig +tls -p PORT``,
``dig +https -p PORT``), with the certificate and key from ``--tls-cert``/``--tls-key`` or, without
them, a self-signed pair made at start.  ``--lab DIR``
takes the lab's root hints and trust anchor (DIR/root.hints, DIR/trust-anchor.ds); without it
the bundled IANA root hints and root trust anchor are the defaults.  DNSSEC validation is on
unless ``--no-validation`` says otherwise; the start-up lines say which hints and anchors
are in use.  ``--plugin FILE[:open|closed[:ARG]]`` adds WebAssembly plugins, ``--control
ADDR:PORT`` serves /metrics and the /plugins API that ``shadowdns resolver plugins`` uses to
load, replace and unload them at run time (docs/PLUGINS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from configfiles import ConfigError
from configfiles.roothints import read_root_hints
from netpolicy import PRODUCTION, AddressError, AddressPolicy, Networks
from resolver import cli_answers, control_client, dnsfast, rootdata, wasm
from resolver.app import (
    ResolverAnswerer,
    build,
    describe,
    private_addresses,
    trust_anchors,
)
from resolver.cache.reply import FastCache
from resolver.config import ResolverConfig, checked_address
from resolver.control import ControlServer, PluginSet
from resolver.frames import FrameQueue
from resolver.peers import PeerResolver, PeerServer
from resolver.peers.config import settings
from resolver.plugins import PluginChain
from resolver.server import DEFAULT_PATH, Listeners
from resolver.server.front import PER_CLIENT as FRONT_PER_CLIENT
from resolver.server.metrics import MetricsServer
from resolver.server.tls import (
    ALPN_DOH,
    ALPN_DOT,
    TLSError,
    self_signed,
    server_context,
    write_pair,
)
from resolver.server.udp import READERS
from resolver.wasm import PluginLoadError
from resolver.workers import Workers

log = logging.getLogger("shadowdns.resolver")

THREAD_SWITCH_INTERVAL = 0.0005
"""Seconds between GIL hand-overs with ``--udp-reader thread`` (Python's default: 0.005)."""

# What the lab writes in its state directory (lab.run.HINTS_FILE, ANCHOR_FILE; the resolver
# does not import the lab).
HINTS_FILE = "root.hints"
ANCHOR_FILE = "trust-anchor.ds"


def register(sub: Any) -> None:
    p = sub.add_parser("resolver", help="the candidate resolver")
    rsub = p.add_subparsers(dest="resolver_command", required=True, metavar="ACTION")
    s = rsub.add_parser("serve", help="serve DNS until interrupted")
    s.add_argument("--listen", default="127.0.0.12:5353", metavar="ADDR:PORT",
                   help="where to serve (IPv6 as [ADDR]:PORT)")
    s.add_argument("--lab", type=Path, metavar="DIR",
                   help="lab mode: every address (listen, egress, root hints) must be loopback "
                        "(127.0.0.0/8, ::1); the lab state directory's root.hints and "
                        "trust-anchor.ds are the defaults for --root-hints and --trust-anchor "
                        "(and IPv6 is off)")
    s.add_argument("--root-hints", type=Path, metavar="FILE",
                   help="root hints (zone-file text) (default: DIR/root.hints with --lab, else "
                        f"the bundled IANA hints {rootdata.hints_path()})")
    s.add_argument("--trust-anchor", type=Path, metavar="FILE",
                   help="trust anchor file: DS or DNSKEY lines, or RFC 7958 XML (default: "
                        "DIR/trust-anchor.ds with --lab, else the bundled IANA root anchor "
                        f"{rootdata.anchor_path()})")
    s.add_argument("--no-validation", action="store_true",
                   help="turn DNSSEC validation off (the start-up line says so)")
    ip6 = s.add_mutually_exclusive_group()
    ip6.add_argument("--ip6", dest="ip6", action="store_true", default=None,
                     help="ask IPv6 servers (default: when this host has a global IPv6 "
                          "address; never with --lab)")
    ip6.add_argument("--no-ip6", dest="ip6", action="store_false", default=argparse.SUPPRESS,
                     help="never ask IPv6 servers")
    s.add_argument("--no-qname-minimisation", action="store_true",
                   help="ask upstream servers the full name (RFC 9156 off)")
    s.add_argument("--qmin-qtype", choices=("A", "NS"), default="A",
                   help="type of minimised queries: A (RFC 9156, Unbound) or NS "
                        "(RFC 7816, Knot Resolver)")
    s.set_defaults(use_0x20=True)
    s.add_argument("--no-0x20", dest="use_0x20", action="store_false", default=argparse.SUPPRESS,
                   help="send upstream query names in lower case, not in a random case "
                        "(0x20, RFC 5452 section 9.1)")
    cli_answers.add_local_options(s)
    s.add_argument("--tcp-backlog", type=int, default=4096, metavar="N",
                   help="TCP listen backlog, capped by net.core.somaxconn")
    s.add_argument("--tcp-per-client", type=int, default=256, metavar="N",
                   help="open TCP connections one client address may hold")
    s.add_argument("--udp-reader", choices=READERS, default="loop", metavar="KIND",
                   help="where UDP datagrams are read: 'loop' (on the event loop), 'thread' "
                        "(a reader thread that sheds per client before parsing) or 'front' "
                        "(a process of its own that answers cache hits and sheds per "
                        "client: fairness under floods, docs/RELIABILITY.md)")
    s.add_argument("--udp-front-nice", type=int, default=0, metavar="N",
                   help="with --udp-reader front: the resolving process lowers its own CPU "
                        "priority by N (nice, 0-19) once the front runs, so cache hits get a "
                        "core before cold work")
    s.add_argument("--udp-front-per-client", type=int, default=FRONT_PER_CLIENT, metavar="N",
                   help="with --udp-reader front: datagrams of one client address the "
                        "resolving process may have unanswered before the front sheds that "
                        "client's new ones (0: no limit, e.g. behind a load balancer)")
    s.add_argument("--egress", metavar="ADDR",
                   help="source address for upstream queries (loopback only with --lab)")
    s.add_argument("--upstream-port", type=int, default=53, metavar="PORT",
                   help="port the authoritative servers are asked on")
    cli_answers.add_cache_options(s)
    s.add_argument("--cache-mb", type=int, default=64, metavar="MB",
                   help="cache budget per process, all caches together: a quarter for whole "
                        "replies as wire bytes, the rest for RRsets and negative answers")
    s.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="server processes sharing the port with SO_REUSEPORT, each with its "
                        "own cache (default: one per core)")
    s.add_argument("--tasks", type=int, default=64, metavar="N",
                   help="queries in flight per process")
    s.add_argument("--dot", type=int, metavar="PORT",
                   help="serve DNS over TLS (RFC 7858) on this port of the --listen address")
    s.add_argument("--doh", type=int, metavar="PORT",
                   help="serve DNS over HTTPS (RFC 8484; HTTP/2 and HTTP/1.1) on this port of "
                        "the --listen address")
    s.add_argument("--doh-path", default=DEFAULT_PATH, metavar="PATH",
                   help="the DoH endpoint")
    s.add_argument("--tls-cert", type=Path, metavar="FILE",
                   help="PEM certificate chain for --dot/--doh (a self-signed one made at "
                        "start when not given)")
    s.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key of --tls-cert")
    s.add_argument("--tcp-upstream", action="store_true",
                   help="send every upstream query over TCP, never UDP (Unbound's "
                        "tcp-upstream: tunnels, networks that drop UDP)")
    prefer = s.add_mutually_exclusive_group()
    prefer.add_argument("--prefer-ip6", dest="prefer_family", action="store_const", const=6,
                        default=None, help="ask a server's IPv6 address before its IPv4 "
                        "one (Unbound's prefer-ip6; needs IPv6, see --ip6)")
    prefer.add_argument("--prefer-ip4", dest="prefer_family", action="store_const", const=4,
                        help="ask a server's IPv4 address before its IPv6 one (Unbound's "
                        "prefer-ip4)")
    s.add_argument("--edns-buffer-size", type=int, default=1232, metavar="N",
                   help="the EDNS UDP payload size advertised to upstream servers, 512 to "
                        "65535 (Unbound's edns-buffer-size; 1232 is DNS Flag Day 2020's)")
    s.add_argument("--caps-exempt", action="append", default=[], metavar="NAME",
                   help="send names at or below this domain without 0x20 case "
                        "randomisation (Unbound's caps-exempt: servers that do not echo the "
                        "case and answer differently each time; repeatable)")
    s.add_argument("--private-address", action="append", default=[], metavar="NET",
                   help="DNS rebinding protection: remove A/AAAA records in this network "
                        "(10.0.0.0/8, fd00::/8, one address) from answers for names outside "
                        "every --private-domain (Unbound's private-address; repeatable)")
    s.add_argument("--private-domain", action="append", default=[], metavar="NAME",
                   help="names under this domain keep their --private-address records "
                        "(Unbound's private-domain; repeatable)")
    s.add_argument("--plugin", action="append", default=[], metavar="FILE[:KIND[:ARG]]",
                   help="a WebAssembly plugin: FILE a .wasm/.wat module or a shipped "
                        "example's name (blocklist, localzone, ede-annotator, noop), KIND its "
                        "failure policy, open or closed (default: open), ARG its argument; "
                        "repeatable, in chain order (docs/PLUGINS.md)")
    s.add_argument("--control", metavar="ADDR:PORT",
                   help="serve the HTTP control API here: /metrics and /plugins (load, "
                        "replace, unload at run time); unauthenticated, keep it on loopback; "
                        "with --workers N, process i serves it on PORT+i")
    peer = s.add_argument_group("peer cache (docs/PEERS.md)")
    peer.add_argument("--peer", action="append", metavar="ADDR:PORT",
                      help="another member of the group (repeat; ADDR:LOW-HIGH for one "
                           "member per port, unix:PATH); needs --peer-listen")
    peer.add_argument("--peer-listen", metavar="ADDR:PORT",
                      help="this instance's peer address (with --workers N, worker i "
                           "listens on PORT+i); without it the workers of one instance "
                           "still form a group over unix sockets")
    peer.add_argument("--peer-secret-file", type=Path, metavar="FILE",
                      help="HMAC-SHA256 key on every peer frame (at least 16 bytes)")
    peer.add_argument("--peer-timeout-ms", type=float, metavar="N",
                      help="milliseconds to wait for an owner's first frame (default: 50)")
    peer.add_argument("--peer-allow", action="append", metavar="NET",
                      help="another network peers may connect from (repeat)")
    peer.add_argument("--peer-config", type=Path, metavar="FILE",
                      help="peer settings in YAML (keys: listen, peers, secret_file, "
                           "timeout_ms, answer_timeout_ms, allow, workers); flags win")
    peer.add_argument("--metrics", metavar="ADDR:PORT",
                      help="serve Prometheus counters (GET /metrics; per-peer hits, misses, "
                           "forwards, timeouts, errors) here; worker i on PORT+i")
    peer.add_argument("--no-peer-workers", dest="peer_workers", action="store_const",
                      const=False, default=None,
                      help="the --workers processes keep separate caches (no local group)")
    s.set_defaults(func=serve)
    control_client.register(rsub)


def parse_listen(text: str, policy: AddressPolicy = PRODUCTION,
                 flag: str = "--listen") -> tuple[str, int]:
    try:
        return policy.hostport(flag, text, role="bind")
    except AddressError as e:
        raise ConfigError(str(e)) from None


def _stream_ports(args: argparse.Namespace, port: int) -> tuple[int | None, int | None]:
    seen = {port: "--listen"}
    for flag, value in (("--dot", args.dot), ("--doh", args.doh)):
        if value is None:
            continue
        if not 0 < value < 65536:
            raise ConfigError(f"{flag}: expected a port 1-65535, got {value}")
        if value in seen:
            raise ConfigError(f"{flag}: port {value} is already {seen[value]}'s")
        seen[value] = flag
    if (args.tls_cert is not None or args.tls_key is not None) \
            and args.dot is None and args.doh is None:
        raise ConfigError("--tls-cert/--tls-key: no --dot or --doh port to use them on")
    if not args.doh_path.startswith("/") or "?" in args.doh_path:
        raise ConfigError(f"--doh-path: expected /PATH without a query, got {args.doh_path!r}")
    return args.dot, args.doh


def _lab_file(args: argparse.Namespace, name: str) -> Path | None:
    if args.lab is None:
        return None
    path = Path(args.lab) / name
    if not path.is_file():
        raise ConfigError(f"--lab: {path} does not exist (is the lab up? shadowdns lab up "
                          f"--state-dir {args.lab})")
    return path


def _plugin_specs(specs: list[str]) -> tuple[tuple[Path, str, str], ...]:
    try:
        return wasm.checked_specs(specs, "--plugin")
    except ValueError as e:
        raise ConfigError(str(e)) from None


def config_from(args: argparse.Namespace) -> ResolverConfig:
    """The whole command line checked by the address policy, its files read and checked now
    (a bad file is a one-line error naming the flag) before anything is opened."""
    policy = AddressPolicy.lab_mode("--lab") if args.lab is not None else PRODUCTION
    host, port = parse_listen(args.listen, policy)
    for flag, value in (("--tcp-backlog", args.tcp_backlog),
                        ("--tcp-per-client", args.tcp_per_client)):
        if value < 1:
            raise ConfigError(f"{flag}: expected a positive number, got {value}")
    if not 0 <= args.udp_front_nice <= 19:
        raise ConfigError(f"--udp-front-nice: expected 0 to 19, got {args.udp_front_nice}")
    if args.udp_front_nice and args.udp_reader != "front":
        raise ConfigError("--udp-front-nice needs --udp-reader front")
    if args.udp_front_per_client < 0:
        raise ConfigError("--udp-front-per-client: expected 0 (no limit) or more, got "
                          f"{args.udp_front_per_client}")
    dot_port, doh_port = _stream_ports(args, port)
    if not 512 <= args.edns_buffer_size <= 65535:
        raise ConfigError(f"--edns-buffer-size: expected 512-65535 bytes, got "
                          f"{args.edns_buffer_size}")
    if args.no_validation and args.trust_anchor is not None:
        raise ConfigError("--trust-anchor and --no-validation contradict each other")
    hints_file = args.root_hints or _lab_file(args, HINTS_FILE)
    anchor = args.trust_anchor
    if anchor is None and not args.no_validation:
        anchor = _lab_file(args, ANCHOR_FILE)
    ip6 = args.ip6 if args.ip6 is not None else (False if args.lab is not None else None)
    try:
        root_hints = read_root_hints(hints_file, policy) if hints_file else ()
    except ConfigError as e:
        raise ConfigError(f"--root-hints {e}") from None
    config = ResolverConfig(
        listen=host, port=port,
        root_hints=root_hints,
        root_hints_source=str(hints_file) if hints_file else "",
        trust_anchor_file=anchor, validation=not args.no_validation,
        qname_minimisation=not args.no_qname_minimisation, qmin_qtype=args.qmin_qtype,
        egress=checked_address(policy, "--egress", args.egress, role="source")
        if args.egress else None,
        upstream_port=args.upstream_port, cache_bytes=args.cache_mb * 1024 * 1024,
        workers=args.tasks, processes=max(1, args.workers), do_ip6=ip6,
        use_0x20=args.use_0x20, tcp_backlog=args.tcp_backlog,
        tcp_per_client=args.tcp_per_client,
        dot_port=dot_port, doh_port=doh_port, doh_path=args.doh_path,
        tls_cert=args.tls_cert, tls_key=args.tls_key, udp_reader=args.udp_reader,
        front_nice=args.udp_front_nice, front_per_client=args.udp_front_per_client,
        plugins=_plugin_specs(args.plugin),
        private_addresses=tuple(args.private_address),
        private_domains=tuple(args.private_domain),
        tcp_upstream=args.tcp_upstream, prefer_family=args.prefer_family,
        caps_exempt=tuple(args.caps_exempt), edns_buffer_size=args.edns_buffer_size,
        control=parse_listen(args.control, policy, "--control") if args.control else None,
        local=cli_answers.local_config(args), **cli_answers.cache_settings(args),
    )
    if config.control is not None and config.control[1] + config.processes - 1 > 65535:
        raise ConfigError(f"--control: ports {config.control[1]}..+{config.processes - 1} "
                          "(one per process) pass 65535")
    private_addresses(config)  # a bad network or name: a one-line ConfigError
    try:
        trust_anchors(config)
    except ConfigError as e:
        raise ConfigError(f"--trust-anchor {e}") from None
    peers = settings(policy, file=args.peer_config, listen=args.peer_listen, peers=args.peer,
                     secret_file=args.peer_secret_file, timeout_ms=args.peer_timeout_ms,
                     allow=args.peer_allow, workers=args.peer_workers)
    if peers.listen is not None or config.processes > 1:
        config = dataclasses.replace(config, peers=peers)
    if args.metrics is not None:
        config = dataclasses.replace(
            config, metrics=_hostport_or_error(policy, "--metrics", args.metrics))
    return config


def _hostport_or_error(policy: AddressPolicy, flag: str, text: str) -> tuple[str, int]:
    try:
        return policy.hostport(flag, text, role="bind")
    except AddressError as e:
        raise ConfigError(str(e)) from None


async def run_server(config: ResolverConfig, stop: asyncio.Event) -> None:
    answerer = build(config)
    queue = FrameQueue()
    fast = FastCache(config.reply_cache_bytes)
    workers = Workers(queue, answerer, PluginChain(), n=config.workers, fastcache=fast)
    plugins = PluginSet(workers)
    for plugin in wasm.load_plugins(config.plugins):
        plugins.install(plugin)
    control = ControlServer(workers, plugins, fast, *config.control) \
        if config.control is not None else None
    streams = config.dot_port is not None or config.doh_port is not None
    listeners = Listeners(
        queue, config.listen, config.port, fastcache=fast, reuse_port=config.processes > 1,
        backlog=config.tcp_backlog, max_per_client=config.tcp_per_client,
        dot_port=config.dot_port, doh_port=config.doh_port, doh_path=config.doh_path,
        dot_tls=server_context(ALPN_DOT, cert=config.tls_cert, key=config.tls_key)
        if streams else None,
        doh_tls=server_context(ALPN_DOH, cert=config.tls_cert, key=config.tls_key)
        if streams else None, udp_reader=config.udp_reader,
        front_per_client=config.front_per_client)
    if config.udp_reader == "thread":
        # the reader thread must get the GIL soon after a datagram arrives, not after the
        # default 5 ms of a worker's computation (this process is ours alone)
        sys.setswitchinterval(THREAD_SWITCH_INTERVAL)
    peer_server = _peer_server(config, answerer)
    metrics = MetricsServer(*config.metrics, render=lambda: _prometheus(
        peer_server, workers)) if config.metrics is not None else None
    workers.start()
    try:
        if metrics is not None:
            print("resolver: metrics on http://{}:{}/metrics".format(*await metrics.start()),
                  flush=True)
        if peer_server is not None:
            where = await peer_server.start()
            group = peer_server.resolver.group
            if group is not None:
                group.start()  # the health check of dead peers
            others = len(group.ring) - 1 if group is not None else 0
            print(f"resolver: peer cache: member {where} of a group of {others + 1}"
                  + ("" if peer_server.secret else " (no secret: peers' DNSSEC verdicts not "
                     "trusted)"), flush=True)
        host, port = await listeners.start()
        if config.front_nice and listeners.udp is not None \
                and listeners.udp.front_pid is not None:
            os.nice(config.front_nice)  # this process only: its front keeps its priority
        print(f"resolver: serving on {host}:{port} (udp, tcp), pid {os.getpid()}", flush=True)
        if listeners.dot is not None:
            print("resolver: DoT on {}:{}".format(*listeners.dot.address), flush=True)
        if listeners.doh is not None:
            print("resolver: DoH on https://{}:{}{} (h2, http/1.1)".format(
                *listeners.doh.address, config.doh_path), flush=True)
        if streams:
            print(f"resolver: TLS certificate {config.tls_cert}", flush=True)
        for line in describe(config):
            print(f"resolver: {line}", flush=True)
        print(f"resolver: {config.local.describe()}", flush=True)
        for p in plugins.plugins:
            print(f"resolver: plugin {p.name} v{p.version} ({', '.join(p.phases)}; fail-"
                  f"{p.policy.value})", flush=True)
        if control is not None:
            print("resolver: control API on http://{}:{}/ (metrics, plugins)".format(
                *await control.start()), flush=True)
        await stop.wait()
    finally:
        udp = listeners.udp
        if udp is not None:
            u = udp.stats_now()
            print(f"resolver: pid {os.getpid()} UDP: {u.datagrams} datagrams, {u.replies} "
                  f"replies ({u.fast_replies} from bytes), shed {u.shed_client} per client and "
                  f"{u.shed_full} full, queue dropped {queue.stats.dropped_client_quota} per "
                  f"client and {queue.stats.dropped_full} full", flush=True)
        if control is not None:
            await control.close()
        await listeners.close()
        await workers.stop()
        if metrics is not None:
            await metrics.close()
        if peer_server is not None:
            _print_peer_stats(peer_server)
            await peer_server.close()
            recursor = peer_server.resolver
            if recursor.group is not None:
                await recursor.group.close()


def _peer_server(config: ResolverConfig, answerer: ResolverAnswerer) -> PeerServer | None:
    peers = config.peers
    if peers is None or peers.self_id is None or not isinstance(answerer.recursor,
                                                                 PeerResolver):
        return None
    return PeerServer(answerer.recursor, answerer.exchanger, peers.self_id,
                      secret=peers.secret, allowed=Networks(peers.allowed_networks()).__contains__)


def _prometheus(server: PeerServer | None, workers: Workers) -> str:
    """The worker counters, and the peer cache's per peer (requester side) and as an owner."""
    pid = f'pid="{os.getpid()}"'
    lines = ["# HELP shadowdns_resolver_queries_total Client frames by outcome.",
             "# TYPE shadowdns_resolver_queries_total counter"]
    lines += [f'shadowdns_resolver_queries_total{{{pid},outcome="{k}"}} {v}'
              for k, v in sorted(workers.stats.items())]
    if server is not None:
        lines += ["# HELP shadowdns_resolver_peer_served_total Peer requests this member "
                  "answered, by outcome.", "# TYPE shadowdns_resolver_peer_served_total counter"]
        lines += [f'shadowdns_resolver_peer_served_total{{{pid},outcome="{k}"}} {v}'
                  for k, v in sorted(server.stats.items())]
        if server.resolver.group is not None:
            lines += server.resolver.group.prometheus(f"{pid},")
    return "\n".join(lines) + "\n"


def _print_peer_stats(server: PeerServer) -> None:
    group = server.resolver.group
    served = ", ".join(f"{k} {v}" for k, v in sorted(server.stats.items())) or "none"
    line = f"resolver: pid {os.getpid()} peers: served {served}; shared {server.resolver.shared}"
    if group is not None:
        asked = "; ".join(f"{m}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                          for m, c in sorted(group.metrics.peers.items()))
        line += (f"; local {group.metrics.local}, fallbacks {group.metrics.fallbacks}; "
                 f"asked {asked or 'none'}")
    print(line, flush=True)


def serve(args: argparse.Namespace) -> int:
    # the serving process (and the workers it forks) takes dnspython's fast paths; a
    # process that only imports the resolver (the harness's in-process candidate, beside
    # the differ) keeps dnspython as it is (resolver/dnsfast.py)
    dnsfast.install()
    with contextlib.ExitStack() as stack:
        try:
            config = config_from(args)  # (the anchors are loaded there: errors before serving)
            config = stack.enter_context(_certificate(config))
        except (ConfigError, TLSError) as e:
            print(f"shadowdns resolver: {e}", file=sys.stderr)
            return 2
        return _serve(config, args)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _certificate(config: ResolverConfig) -> Iterator[ResolverConfig]:
    """The config with a certificate for DoT/DoH: the one given (checked to load), or a
    self-signed pair made now and kept in a private directory while serving."""
    if config.dot_port is None and config.doh_port is None:
        yield config
        return
    if config.tls_cert is not None or config.tls_key is not None:
        server_context(ALPN_DOT, cert=config.tls_cert, key=config.tls_key)
        yield config
        return
    pair = self_signed(config.listen)
    with tempfile.TemporaryDirectory(prefix="shadowdns-tls-") as tmp:
        cert, key = write_pair(pair, Path(tmp))
        yield dataclasses.replace(config, tls_cert=cert, tls_key=key)


def _serve(config: ResolverConfig, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if config.processes > 1:
        try:
            ensure_free(config.listen, config.port)
            for stream_port in (config.dot_port, config.doh_port):
                if stream_port is not None:
                    ensure_free(config.listen, stream_port, udp=False)
        except OSError as e:
            print(f"shadowdns resolver: cannot serve on {args.listen}: {e.strerror or e}",
                  file=sys.stderr)
            return 1
        return _supervise(config)
    if config.peers is not None:
        config = dataclasses.replace(config, peers=config.peers.for_process(0, 1, None, None))
    return _serve_one(config, args.listen)


def ensure_free(host: str, port: int, *, udp: bool = True) -> None:
    """Fail if anyone already has the port: with SO_REUSEPORT a stale server on the same
    address would silently take a share of the queries.  TCP is tried with SO_REUSEADDR,
    as the listeners bind: connections of an earlier server in TIME_WAIT do not hold the
    port (a restart right after serving DoT clients was refused for a minute)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM) if udp else (socket.SOCK_STREAM,):
        with socket.socket(family, kind) as s:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))


def _supervise(config: ResolverConfig) -> int:
    """Fork one server process per worker and wait; signals are passed on to them.  With
    peers (or the local group) each worker is told which member it is."""
    with contextlib.ExitStack() as stack:
        peers = config.peers
        socket_dir: Path | None = None
        secret: bytes | None = None
        if peers is not None and peers.listen is None and peers.workers:
            socket_dir = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="shadowdns-peers-")))
            socket_dir.chmod(0o700)
        if peers is not None and peers.secret is None and not peers.members:
            secret = secrets.token_bytes(32)  # a local group authenticates its own frames
        return _fork_workers(config, socket_dir, secret)
    raise AssertionError("unreachable")


def _fork_workers(config: ResolverConfig, socket_dir: Path | None,
                  secret: bytes | None) -> int:
    children: list[int] = []
    for index in range(config.processes):
        mine = config
        if config.peers is not None:
            mine = dataclasses.replace(config, peers=config.peers.for_process(
                index, config.processes, socket_dir, secret))
        if config.metrics is not None:
            mine = dataclasses.replace(mine, metrics=(config.metrics[0],
                                                      config.metrics[1] + index))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                # each process has its own plugins, so its own control API: PORT+i
                if config.control is not None:
                    mine = dataclasses.replace(mine, control=(config.control[0],
                                                              config.control[1] + index))
                code = _serve_one(mine, f"{config.listen}:{config.port}")
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
    except PluginLoadError as e:
        print(f"shadowdns resolver: --plugin {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"shadowdns resolver: cannot serve on {listen}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0
