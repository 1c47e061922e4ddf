"""``shadowdns run``: the shadow harness from a YAML config and/or flags.

    shadowdns run --config shadow.yaml
    shadowdns run --lab run/lab --dnstap-socket run/shadow/dnstap.sock \\
        --reference kresd@127.55.0.2:5053 --sample 0.5 --api 127.0.0.1:8053
    shadowdns run --config shadow.yaml --check     # what it would bind and send to; no run

Flags are turned into config keys and checked by the same code as the YAML file: intake and
reference flags add to the file's lists, the others replace its values.  Runs until SIGINT or
SIGTERM, ``--duration`` seconds, or the end of finite inputs; then prints the divergence
summary.  Exit status 0; 2 on bad input, said in one line naming the flag (``--sample: 2.0
must be <= 1``) or FILE:LINE, before anything is started or recorded (every input file is
read and checked first); 1 on a start-up error, or when an input file turns out corrupt
after the start (the run is kept as far as it went, and the run says so).  ``--check``: 0
when the config is valid, after printing the plan; nothing is bound or sent either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any

from configfiles import read_text, read_yaml
from harness.api import ApiServer
from harness.assemble import build_pipeline, build_targets
from harness.config import (
    ConfigError,
    HarnessConfig,
    config_from_mapping,
    with_line,
)
from harness.live import LiveView
from harness.pipeline import Pipeline
from harness.plan import plan_lines
from harness.store import StoreError
from harness.summary import summary_lines
from legacy_adapter import ReferenceResolverError
from netpolicy import AddressPolicy

__all__ = ["BUS_FLAGS", "add_run_arguments", "config_and_flags", "config_from_args",
           "named_by_flag", "register", "run_harness"]

log = logging.getLogger("shadowdns.harness")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="the shadow harness: mirrored queries to candidate and "
                                   "references, compared and stored")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="YAML config (its format is described at the top of harness/config.py)")
    p.add_argument("--check", action="store_true",
                   help="validate the config and print what would be bound and where queries "
                        "would be sent; bind and send nothing")
    add_run_arguments(p)
    p.set_defaults(func=main)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``shadowdns run`` (but --config and --check), which the bus roles share."""
    g = p.add_argument_group("intake (each adds one input)")
    g.add_argument("--dnstap-socket", type=Path, action="append", default=[], metavar="PATH",
                   help="Frame Streams unix socket to listen on")
    g.add_argument("--dnstap-tcp", action="append", default=[], metavar="ADDR:PORT",
                   help="Frame Streams over TCP: listen here")
    g.add_argument("--dnstap-tls-cert", type=Path, metavar="FILE",
                   help="serve --dnstap-tcp inside TLS with this PEM certificate "
                        "(and --dnstap-tls-key)")
    g.add_argument("--dnstap-tls-key", type=Path, metavar="FILE",
                   help="the PEM key of --dnstap-tls-cert")
    g.add_argument("--dnstap-tls-client-ca", type=Path, metavar="FILE",
                   help="require dnstap clients to show a certificate this CA (PEM) signed")
    g.add_argument("--dnstap-file", type=Path, action="append", default=[], metavar="FILE",
                   help="read a dnstap (Frame Streams) file")
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
    g.add_argument("--pcap", type=Path, action="append", default=[], metavar="FILE",
                   help="replay a pcap or pcapng capture (UDP to and from port 53)")
    g.add_argument("--speed", default=None, metavar="SPEED",
                   help="pcap replay: 1 (the original pace), N (times faster) or max "
                        "(default: max)")
    g.add_argument("--query-list", type=Path, action="append", default=[], metavar="FILE",
                   help="'name type' per line")
    g.add_argument("--rate", type=float, default=None, metavar="QPS",
                   help="query list pace, queries/s (default: 0, as fast as the harness "
                        "takes them)")
    t = p.add_argument_group("targets")
    t.add_argument("--lab", type=Path, metavar="DIR",
                   help="lab state dir (root hints, trust anchor, egress addresses); lab mode: "
                        "every address must be loopback (127.0.0.0/8, ::1)")
    t.add_argument("--candidate", metavar="ADDR:PORT",
                   help="the candidate by address (default: in this process)")
    t.add_argument("--root-hints", type=Path, metavar="FILE",
                   help="root hints for the in-process candidate (default: from --lab)")
    t.add_argument("--trust-anchor", type=Path, metavar="FILE",
                   help="trust anchor for the in-process candidate (default: from --lab)")
    t.add_argument("--reference", action="append", default=[], metavar="[NAME=]KIND@ADDR:PORT",
                   help="KIND is unbound or kresd (started here) or address (already running)")
    t.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="per-target timeout (default: 5)")
    t.add_argument("--transport", action="append", default=[], metavar="NAME=KIND",
                   help="ask the target NAME (candidate, or a reference's name) over KIND: "
                        "udp (tcp on TC; used when not given), tcp, dot or doh")
    t.add_argument("--target-qps", type=float, metavar="N",
                   help="at most N queries per second to each target (token bucket; what is "
                        "over is shed and counted); 0: no cap")
    s = p.add_argument_group("sampling and the rest")
    s.add_argument("--sample", type=float, metavar="P",
                   help="probability a query is compared (default: 1)")
    s.add_argument("--per-query", action="store_true",
                   help="sample each query independently (default: per name)")
    s.add_argument("--dedup-window", type=float, metavar="SECONDS",
                   help="the same question again within this window is not compared again "
                        "(default: 0, off)")
    s.add_argument("--qtype", action="append", default=[], metavar="TYPE",
                   help="compare only this query type, repeatable (default: all)")
    s.add_argument("--suffix", action="append", default=[], metavar="SUFFIX",
                   help="compare only names under this suffix, repeatable (default: all)")
    s.add_argument("--max-in-flight", type=int, metavar="N",
                   help="queries being compared at once (default: 256)")
    s.add_argument("--db", type=Path, metavar="FILE",
                   help="SQLite store (default: run/shadow/shadow.db)")
    s.add_argument("--api", metavar="ADDR:PORT", help="serve /metrics and /api/* here")
    s.add_argument("--duration", type=float, metavar="SECONDS",
                   help="run this long (default: 0, until interrupted or the inputs end)")
    s.add_argument("--live", choices=("auto", "dashboard", "log", "off"),
                   help="progress: a dashboard on a terminal and log lines otherwise "
                        "(default: auto), dashboard, log or off")
    s.add_argument("--judge", choices=("auto", "exact", "differ"),
                   help="the differ when it can be used (default: auto), or exact comparison, "
                        "or the differ only")
    s.add_argument("--ignore-tc-only", action="store_true",
                   help="a difference in the TC bit alone is noise (RRL truncation)")
    d = p.add_argument_group("the differ's confirmation (YAML: differ:)")
    d.add_argument("--confirm", action=argparse.BooleanOptionalAction, default=None,
                   help="re-query before a divergence counts (default: on)")
    d.add_argument("--requery-rate", type=float, metavar="QPS",
                   help="confirmation re-queries per second; 0: unlimited; out of budget: "
                   "undecided")
    d.add_argument("--requery-burst", type=int, metavar="N",
                   help="confirmation re-queries allowed at once above the rate")
    d.add_argument("--requery-concurrency", type=int, metavar="N",
                   help="confirmation re-queries in flight at once; 0: unlimited")
    d.add_argument("--floor-requeries", type=int, metavar="N",
                   help="re-queries of the primary reference for the noise floor (default: 3)")
    d.add_argument("--floor-reference", action="append", default=[], metavar="NAME",
                   help="a reference sampled for the noise floor (repeat; all when none given)")
    d.add_argument("--egress-swap", action=argparse.BooleanOptionalAction, default=None,
                   help="ask egress twins while confirming (default: on, when egress is set)")
    d.add_argument("--fresh-candidate", action=argparse.BooleanOptionalAction, default=None,
                   help="one flushed candidate re-query to tell a nonce from a fault")
    d.add_argument("--authority-sweep", action=argparse.BooleanOptionalAction, default=None,
                   help="ask the zone's authoritative servers directly about a difference "
                   "the noise floor leaves real (default: on)")
    d.add_argument("--authority-port", type=int, metavar="PORT",
                   help="the port authoritative servers are asked on (default: 53)")
    s.add_argument("-v", "--verbose", action="store_true", help="debug logging")


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
    return config_and_flags(args)[0]


BUS_FLAGS = ("redis", "prefix", "shards", "shard_set", "consumer", "claim_timeout",
             "max_deliveries", "stream_cap", "max_age", "intakes")
"""``bus:`` keys that ``shadowdns bus`` sets from flags of the same name."""

FlagMap = dict[str, str]
"""Config key path (``sampler.probability``, ``intake[2]``) -> the flag that set it."""


def config_and_flags(args: argparse.Namespace) -> tuple[HarnessConfig, FlagMap]:
    """The YAML file (if any) with the flags applied, checked, and which flag set which key.

    The file is checked alone first, so that its errors name its keys; an error in what the
    flags set names the flag the user typed (:func:`named_by_flag`).
    """
    data: dict[str, Any] = {}
    source = "<flags>"
    if args.config is not None:
        source = str(args.config)
        try:
            loaded, text = read_yaml(args.config)
            data = _top_mapping(args.config, loaded)
        except ConfigError as e:
            raise ConfigError(f"--config {e}") from None
        try:
            config_from_mapping(data, source=source)
        except ConfigError as e:
            raise with_line(e, text) from None
    flags: FlagMap = {}
    intakes = list(data.get("intake") or [])

    def add(flag: str, value: object, item: dict[str, Any]) -> int:
        intakes.append(item)
        i = len(intakes) - 1
        flags[f"intake[{i}]"] = f"{flag} {value}"
        return i

    for p in args.dnstap_socket:
        add("--dnstap-socket", p, {"kind": "dnstap", "socket": str(p)})
    tls = {key: str(value) for key, value in (
        ("cert", args.dnstap_tls_cert), ("key", args.dnstap_tls_key),
        ("client_ca", args.dnstap_tls_client_ca)) if value is not None}
    if tls and not args.dnstap_tcp:
        raise ConfigError("--dnstap-tls-*: only with --dnstap-tcp")
    for a in args.dnstap_tcp:
        tcp: dict[str, Any] = {"kind": "dnstap", "tcp": a}
        i = add("--dnstap-tcp", a, tcp)
        flags[f"intake[{i}].allow"] = "--allow"  # (also when missing: the flag to give)
        if args.allow:
            tcp["allow"] = list(args.allow)
        if tls:
            tcp["tls"] = dict(tls)
            flags[f"intake[{i}].tls"] = "--dnstap-tls-cert"
    for p in args.dnstap_file:
        add("--dnstap-file", p, {"kind": "dnstap", "file": str(p)})
    for address in args.udp_mirror:
        mirror: dict[str, Any] = {"kind": "udp_mirror", "listen": address}
        i = add("--udp-mirror", address, mirror)
        flags[f"intake[{i}].allow"] = "--allow"  # (also when missing: the flag to give)
        if args.allow:
            mirror["allow"] = list(args.allow)
        if args.client_from_ecs:
            mirror["client_from_ecs"] = True
    for path in args.pcap:
        pcap: dict[str, Any] = {"kind": "pcap", "file": str(path)}
        i = add("--pcap", path, pcap)
        if args.speed is not None:
            pcap["speed"] = args.speed if args.speed == "max" else _number(args.speed, "--speed")
            flags[f"intake[{i}].speed"] = "--speed"
    for path in args.query_list:
        qlist: dict[str, Any] = {"kind": "query_list", "file": str(path)}
        i = add("--query-list", path, qlist)
        if args.rate is not None:
            qlist["rate"] = args.rate
            flags[f"intake[{i}].rate"] = "--rate"
    if intakes:
        data["intake"] = intakes
    references = [dict(r) if isinstance(r, dict) else r for r in data.get("references") or []]
    for text in args.reference:
        references.append(_reference(text))
        flags[f"references[{len(references) - 1}]"] = f"--reference {text}"
    if args.timeout is not None:
        for i, r in enumerate(references):
            if isinstance(r, dict) and "timeout" not in r:
                r["timeout"] = args.timeout
                flags[f"references[{i}].timeout"] = "--timeout"
    if references:
        data["references"] = references
    candidate = dict(data.get("candidate") or {})
    for key, flag, value in (("address", "--candidate", args.candidate),
                             ("root_hints", "--root-hints", args.root_hints),
                             ("trust_anchor", "--trust-anchor", args.trust_anchor),
                             ("timeout", "--timeout", args.timeout)):
        if value is not None:
            candidate[key] = str(value) if isinstance(value, Path) else value
            flags[f"candidate.{key}"] = f"{flag} {value}" if isinstance(value, Path) else flag
    for text in args.transport:
        _set_transport(text, candidate, references)
    if candidate:
        data["candidate"] = candidate
    sampler = dict(data.get("sampler") or {})
    for key, flag, value, given in (
            ("probability", "--sample", args.sample, args.sample is not None),
            ("per_name", "--per-query", False, args.per_query),
            ("dedup_window", "--dedup-window", args.dedup_window, args.dedup_window is not None),
            ("qtypes", "--qtype", list(args.qtype), bool(args.qtype)),
            ("suffixes", "--suffix", list(args.suffix), bool(args.suffix))):
        if given:
            sampler[key] = value
            flags[f"sampler.{key}"] = flag
    if args.exclude_client:
        sampler["exclude_clients"] = [*(sampler.get("exclude_clients") or []),
                                      *args.exclude_client]
        flags["sampler.exclude_clients"] = "--exclude-client"
    if sampler:
        data["sampler"] = sampler
    if args.ignore_tc_only:
        data["ignore_tc_only"] = True
    for section, key, flag, value in (
            ("dispatcher", "max_in_flight", "--max-in-flight", args.max_in_flight),
            ("dispatcher", "target_qps", "--target-qps", args.target_qps),
            ("store", "path", "--db", None if args.db is None else str(args.db)),
            ("api", "listen", "--api", args.api)):
        if value is not None:
            data[section] = {**(data.get(section) or {}), key: value}
            flags[f"{section}.{key}"] = f"{flag} {value}" if key == "path" else flag
    differ = dict(data.get("differ") or {})
    for key in ("confirm", "requery_rate", "requery_burst", "requery_concurrency",
                "floor_requeries", "egress_swap", "fresh_candidate", "authority_sweep",
                "authority_port"):
        if getattr(args, key) is not None:
            differ[key] = getattr(args, key)
            flags[f"differ.{key}"] = "--" + key.replace("_", "-")
    if args.floor_reference:
        differ["floor_references"] = list(args.floor_reference)
        flags["differ.floor_references"] = "--floor-reference"
    if differ:
        data["differ"] = differ
    bus = dict(data.get("bus") or {})
    for key in BUS_FLAGS:  # (flags only the bus roles have)
        value = getattr(args, key, None)
        if value is not None and value != []:
            bus[key] = value
            flags[f"bus.{key}"] = "--" + key.replace("_", "-")
    if bus:
        data["bus"] = bus
    for key in ("duration", "live", "judge", "lab"):
        value = getattr(args, key)
        if value is not None:
            data[key] = str(value) if isinstance(value, Path) else value
            flags[key] = f"--{key}"
    policy = AddressPolicy.lab_mode(f"--lab {args.lab}") if args.lab is not None else None
    try:
        return config_from_mapping(data, source=source, policy=policy), flags
    except ConfigError as e:
        raise named_by_flag(e, flags) from None


def named_by_flag(error: ConfigError, flags: FlagMap) -> ConfigError:
    """``error`` saying the flag that set its key (``--sample: 2.0 must be <= 1``), or as it
    is when no flag set that key (a YAML key: ``shadow.yaml: sampler.probability: ...``)."""
    key = error.key or ""
    while key:
        flag = flags.get(key)
        if flag is not None:
            name, _, value = flag.partition(" ")
            if value and error.detail.startswith(f"{value}:"):
                return ConfigError(f"{name} {error.detail}")  # --pcap FILE: what is wrong
            return ConfigError(f"{flag}: {error.detail}")
        key = _PARENT.sub("", key)
    if error.source == "<flags>" and error.key is not None:
        return ConfigError(_MISSING.get(error.key, f"{error.key}: {error.detail}"))
    return error


_MISSING = {
    "intake": "no input: give --dnstap-socket, --dnstap-tcp, --dnstap-file, --udp-mirror, "
              "--pcap or --query-list (or a --config with intake:)",
    "references": "no reference: give --reference [NAME=]KIND@ADDR:PORT (or a --config with "
                  "references:)",
}
"""What a run given only flags lacks, said in flags."""


_PARENT = re.compile(r"\.?[^.\[\]]*$|\[\d+\]$")
"""The last step of a key path: ``.probability``, ``[2]`` (the whole key at the top)."""


def _top_mapping(path: Path, loaded: object) -> dict[str, Any]:
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return dict(loaded or {})


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
    flags: FlagMap = {}
    try:
        config, flags = config_and_flags(args)
        if args.check:
            lines = plan_lines(config, build_targets(config))
        else:
            pipeline = build_pipeline(config)
    except ConfigError as e:
        e = named_by_flag(e, flags)
        if args.config is not None and e.source == str(args.config):
            e = with_line(e, read_text(args.config))  # an error in a key of the file
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
    except (OSError, ReferenceResolverError, ConfigError, StoreError) as e:
        print(f"shadowdns run: {e}", file=sys.stderr)
        return 1
    for line in summary_lines(status, config.store.path):
        print(line)
    store = status.get("store", {})
    if store.get("failure"):
        print(f"shadowdns run: store {store['failure']}: the run stopped; "
              f"{store.get('committed', 0)} observations committed are kept, "
              f"{store.get('lost', 0)} compared but not stored", file=sys.stderr)
        return 1
    broken = [i for i in pipeline.intakes if i.stats["corrupt"]]
    for intake in broken:
        print(f"shadowdns run: {intake.describe()}: the input is corrupt and was read only up "
              "to there (see the warning above); the run is recorded as far as it went",
              file=sys.stderr)
    return 1 if broken else 0
