"""``shadowdns run``: the shadow harness from a YAML config and/or flags.

    shadowdns run --config shadow.yaml
    shadowdns run --lab run/lab --dnstap-socket run/shadow/dnstap.sock \\
        --reference kresd@127.55.0.2:5053 --sample 0.5 --api 127.0.0.1:8053
    shadowdns run --config shadow.yaml --check     # what it would bind and send to; no run

Flags are turned into config keys and checked by the same code as the YAML file: intake and
reference flags add to the file's lists, the others replace its values.  Runs until SIGINT or
SIGTERM, ``--duration`` seconds, or the end of finite inputs; then prints the divergence
summary.  Exit status 0, 1 on a start-up error, 2 on a bad config (``--check``: 0 when the
config is valid, after printing the plan; nothing is bound or sent either way).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.api import ApiServer
from harness.assemble import build_pipeline, build_targets
from harness.config import ConfigError, HarnessConfig, config_from_mapping
from harness.live import LiveView
from harness.pipeline import Pipeline
from harness.plan import plan_lines
from harness.summary import summary_lines
from legacy_adapter import ReferenceResolverError
from netpolicy import AddressPolicy

__all__ = ["config_from_args", "register", "run_harness"]

log = logging.getLogger("shadowdns.harness")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="the shadow harness: mirrored queries to candidate and "
                                   "references, compared and stored")
    p.add_argument("--config", type=Path, help="YAML config (see harness/config.py)")
    p.add_argument("--check", action="store_true",
                   help="validate the config and print what would be bound and where queries "
                        "would be sent; bind and send nothing")
    g = p.add_argument_group("intake (each adds one input)")
    g.add_argument("--dnstap-socket", type=Path, action="append", default=[],
                   help="Frame Streams unix socket to listen on")
    g.add_argument("--dnstap-tcp", action="append", default=[], metavar="ADDR:PORT")
    g.add_argument("--dnstap-tls-cert", type=Path, metavar="PEM",
                   help="serve --dnstap-tcp inside TLS with this certificate "
                        "(and --dnstap-tls-key)")
    g.add_argument("--dnstap-tls-key", type=Path, metavar="PEM")
    g.add_argument("--dnstap-tls-client-ca", type=Path, metavar="PEM",
                   help="require dnstap clients to show a certificate this CA signed")
    g.add_argument("--dnstap-file", type=Path, action="append", default=[])
    g.add_argument("--udp-mirror", action="append", default=[], metavar="ADDR:PORT",
                   help="receive mirrored queries (dnsdist TeeAction) here")
    g.add_argument("--allow", action="append", default=[], metavar="NET",
                   help="networks that may send to --udp-mirror and --dnstap-tcp (default: "
                        "loopback only; required when they listen on another address)")
    g.add_argument("--client-from-ecs", action="store_true",
                   help="--udp-mirror: the mirror adds EDNS Client Subnet (dnsdist TeeAction "
                        "addECS); read it as the client and remove it before replaying")
    g.add_argument("--exclude-client", action="append", default=[], metavar="NET",
                   help="never compare queries from clients in NET (every intake)")
    g.add_argument("--pcap", type=Path, action="append", default=[])
    g.add_argument("--speed", default=None, help="pcap replay: 1, N (times faster) or max")
    g.add_argument("--query-list", type=Path, action="append", default=[],
                   help="'name type' per line")
    g.add_argument("--rate", type=float, default=None, help="query list pace, queries/s")
    t = p.add_argument_group("targets")
    t.add_argument("--lab", type=Path, help="lab state dir (root hints, trust anchor, egress); "
                        "lab mode: every address must be loopback (127.0.0.0/8, ::1)")
    t.add_argument("--candidate", metavar="ADDR:PORT",
                   help="the candidate by address (default: in this process)")
    t.add_argument("--root-hints", type=Path, help="root hints for the in-process candidate")
    t.add_argument("--trust-anchor", type=Path)
    t.add_argument("--reference", action="append", default=[], metavar="[NAME=]KIND@ADDR:PORT",
                   help="KIND is unbound or kresd (started here) or address")
    t.add_argument("--timeout", type=float, help="per-target timeout, seconds")
    t.add_argument("--transport", action="append", default=[], metavar="NAME=TRANSPORT",
                   help="ask the target NAME (candidate, or a reference's name) over udp "
                        "(tcp on TC; the default), tcp, dot or doh")
    t.add_argument("--target-qps", type=float, metavar="N",
                   help="at most N queries per second to each target (token bucket; what is "
                        "over is shed and counted); 0: no cap")
    s = p.add_argument_group("sampling and the rest")
    s.add_argument("--sample", type=float, help="probability a query is compared")
    s.add_argument("--per-query", action="store_true",
                   help="sample each query independently (default: per name)")
    s.add_argument("--dedup-window", type=float)
    s.add_argument("--qtype", action="append", default=[])
    s.add_argument("--suffix", action="append", default=[])
    s.add_argument("--max-in-flight", type=int)
    s.add_argument("--db", type=Path, help="SQLite store")
    s.add_argument("--api", metavar="ADDR:PORT", help="serve /metrics and /api/* here")
    s.add_argument("--duration", type=float, help="seconds; 0: until interrupted")
    s.add_argument("--live", choices=("auto", "dashboard", "log", "off"))
    s.add_argument("--judge", choices=("auto", "exact", "differ"))
    s.add_argument("--ignore-tc-only", action="store_true",
                   help="a difference in the TC bit alone is noise (RRL truncation)")
    s.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=main)


def _reference(text: str) -> dict[str, Any]:
    name, sep, rest = text.partition("=")
    if not sep:
        name, rest = "", text
    kind, at, address = rest.partition("@")
    if not at:
        raise ConfigError(f"--reference: {text!r} is not [NAME=]KIND@ADDR:PORT")
    out: dict[str, Any] = {"kind": kind, "listen": address}
    if name or kind == "address":
        out["name"] = name or "reference"
    return out


def _set_transport(text: str, candidate: dict[str, Any],
                   references: list[dict[str, Any]]) -> None:
    """``--transport NAME=TRANSPORT`` into the candidate's or the named reference's keys."""
    name, sep, transport = text.partition("=")
    if not sep or not name or not transport:
        raise ConfigError(f"--transport: {text!r} is not NAME=TRANSPORT")
    if name == candidate.get("name", "candidate"):
        candidate["transport"] = transport
        return
    for r in references:
        if isinstance(r, dict) and r.get("name", r.get("kind")) == name:
            r["transport"] = transport
            return
    names = [str(candidate.get("name", "candidate"))] + [
        str(r.get("name", r.get("kind"))) for r in references if isinstance(r, dict)]
    raise ConfigError(f"--transport: no target named {name!r} (targets: {', '.join(names)})")


def config_from_args(args: argparse.Namespace) -> HarnessConfig:
    """The YAML file (if any) with the flags applied, checked."""
    data: dict[str, Any] = {}
    source = "<flags>"
    if args.config is not None:
        source = str(args.config)
        try:
            loaded = yaml.safe_load(args.config.read_text())
        except OSError as e:
            raise ConfigError(f"{args.config}: cannot read: {e.strerror}") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{args.config}: not valid YAML: {e}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{args.config}: expected a mapping at the top level")
        data = dict(loaded or {})
    intakes = list(data.get("intake") or [])
    intakes += [{"kind": "dnstap", "socket": str(p)} for p in args.dnstap_socket]
    tcp_options: dict[str, Any] = {"allow": list(args.allow)} if args.allow else {}
    tls = {key: str(value) for key, value in (
        ("cert", args.dnstap_tls_cert), ("key", args.dnstap_tls_key),
        ("client_ca", args.dnstap_tls_client_ca)) if value is not None}
    if tls:
        if not args.dnstap_tcp:
            raise ConfigError("--dnstap-tls-*: only with --dnstap-tcp")
        tcp_options["tls"] = tls
    intakes += [{"kind": "dnstap", "tcp": a, **tcp_options} for a in args.dnstap_tcp]
    intakes += [{"kind": "dnstap", "file": str(p)} for p in args.dnstap_file]
    for address in args.udp_mirror:
        mirror: dict[str, Any] = {"kind": "udp_mirror", "listen": address}
        if args.allow:
            mirror["allow"] = list(args.allow)
        if args.client_from_ecs:
            mirror["client_from_ecs"] = True
        intakes.append(mirror)
    for path in args.pcap:
        pcap: dict[str, Any] = {"kind": "pcap", "file": str(path)}
        if args.speed is not None:
            pcap["speed"] = args.speed if args.speed == "max" else _number(args.speed, "--speed")
        intakes.append(pcap)
    for path in args.query_list:
        qlist: dict[str, Any] = {"kind": "query_list", "file": str(path)}
        if args.rate is not None:
            qlist["rate"] = args.rate
        intakes.append(qlist)
    if intakes:
        data["intake"] = intakes
    references = list(data.get("references") or [])
    references += [_reference(r) for r in args.reference]
    if args.timeout is not None:
        for r in references:
            r.setdefault("timeout", args.timeout)
    if references:
        data["references"] = references
    candidate = dict(data.get("candidate") or {})
    for key, value in (("address", args.candidate), ("root_hints", args.root_hints),
                       ("trust_anchor", args.trust_anchor), ("timeout", args.timeout)):
        if value is not None:
            candidate[key] = str(value) if isinstance(value, Path) else value
    for text in args.transport:
        _set_transport(text, candidate, references)
    if candidate:
        data["candidate"] = candidate
    sampler = dict(data.get("sampler") or {})
    if args.sample is not None:
        sampler["probability"] = args.sample
    if args.per_query:
        sampler["per_name"] = False
    if args.dedup_window is not None:
        sampler["dedup_window"] = args.dedup_window
    if args.qtype:
        sampler["qtypes"] = list(args.qtype)
    if args.suffix:
        sampler["suffixes"] = list(args.suffix)
    if args.exclude_client:
        sampler["exclude_clients"] = [*(sampler.get("exclude_clients") or []),
                                      *args.exclude_client]
    if sampler:
        data["sampler"] = sampler
    if args.max_in_flight is not None:
        data["dispatcher"] = {**(data.get("dispatcher") or {}), "max_in_flight": args.max_in_flight}
    if args.target_qps is not None:
        data["dispatcher"] = {**(data.get("dispatcher") or {}), "target_qps": args.target_qps}
    if args.ignore_tc_only:
        data["ignore_tc_only"] = True
    if args.db is not None:
        data["store"] = {**(data.get("store") or {}), "path": str(args.db)}
    if args.api is not None:
        data["api"] = {"listen": args.api}
    for key in ("duration", "live", "judge"):
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    policy = None
    if args.lab is not None:
        data["lab"] = str(args.lab)
        policy = AddressPolicy.lab_mode(f"--lab {args.lab}")
    return config_from_mapping(data, source=source, policy=policy)


def _number(text: str, flag: str) -> float:
    try:
        return float(text.rstrip("x"))
    except ValueError:
        raise ConfigError(f"{flag}: {text!r} is not a number or 'max'") from None


def _on_signal(pipeline: Pipeline, stop: asyncio.Event) -> None:
    """Ctrl-C (or SIGTERM): the first stops the run and says what it waits for; the next
    stops waiting for the queries in flight (what is compared is still committed)."""
    if not stop.is_set():
        stop.set()
        n = pipeline.dispatcher.in_flight
        what = (f"draining {n} in-flight quer{'y' if n == 1 else 'ies'} (up to "
                f"{pipeline.drain_timeout:.0f} s), " if n else "")
        print(f"stopping: {what}committing the store; Ctrl-C again to stop now",
              file=sys.stderr, flush=True)
        return
    n = pipeline.dispatcher.in_flight
    print(f"stopping now: {n} quer{'y' if n == 1 else 'ies'} in flight cancelled (counted as "
          "failed); what was compared is kept", file=sys.stderr, flush=True)
    pipeline.hurry()


async def run_harness(config: HarnessConfig, pipeline: Pipeline | None = None, *,
                      stop: asyncio.Event | None = None) -> dict[str, Any]:
    """Run a pipeline with its API and live view until it ends; return its final status."""
    pipeline = pipeline or build_pipeline(config)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, _on_signal, pipeline, stop)
            installed.append(sig)
    api: ApiServer | None = None
    view_task: asyncio.Task[None] | None = None
    try:
        async with pipeline:
            for intake in pipeline.intakes:
                log.info("intake: %s", intake.describe())
            if config.api.listen is not None:
                api = ApiServer(pipeline, *config.api.listen)
                await api.start()
                log.info("api: http://%s:%d/metrics, /api/status, /api/divergences",
                         api.host, api.port)
            view = LiveView(pipeline, config.live, config.log_interval)
            view_task = asyncio.create_task(view.run())
            ended = await pipeline.run(config.duration or None, stop)
            log.info("run ended: %s", ended)
            view_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await view_task
            if view.mode == "log":
                view.log_once()
    finally:
        if view_task is not None and not view_task.done():
            view_task.cancel()
        if api is not None:
            await api.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return pipeline.status()


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        config = config_from_args(args)
        if args.check:
            lines = plan_lines(config, build_targets(config))
        else:
            pipeline = build_pipeline(config)
    except ConfigError as e:
        print(f"shadowdns run: {e}", file=sys.stderr)
        return 2
    if args.check:
        for line in lines:
            print(line)
        return 0
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    try:
        status = runner(run_harness(config, pipeline))
    except (OSError, ReferenceResolverError, ConfigError) as e:
        print(f"shadowdns run: {e}", file=sys.stderr)
        return 1
    for line in summary_lines(status, config.store.path):
        print(line)
    return 0
