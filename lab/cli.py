"""``shadowdns lab up|down|names|serve``: the simulated DNS internet on loopback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lab.hostile import Hostility
from lab.manifest import manifest
from lab.run import DEFAULT_STATE_DIR, LabError, LabProcess, serve
from lab.world import WorldError, load_world


def register(sub: Any) -> None:
    p = sub.add_parser("lab", help="the simulated DNS internet on loopback")
    lab_sub = p.add_subparsers(dest="lab_command", required=True, metavar="ACTION")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--world", metavar="FILE",
                       help="world YAML (default: the world shipped with shadowdns)")
        q.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR",
                       help="where hints, trust anchor and state go")

    def hostile(q: argparse.ArgumentParser) -> None:
        q.add_argument("--hostile", type=_share, default=0.0, metavar="P",
                       help="hostile mode: bend this share (0-1) of all replies into mutated, "
                            "truncated, oversized, mismatched or slow-drip ones "
                            "(lab/hostile.py; 0: off)")
        q.add_argument("--hostile-seed", type=int, default=None, metavar="N",
                       help="seed of the hostile mode's choices (default: random)")

    up = lab_sub.add_parser("up", help="start the lab in the background")
    common(up)
    hostile(up)
    up.set_defaults(func=_up)
    down = lab_sub.add_parser("down", help="stop the lab started from --state-dir")
    common(down)
    down.set_defaults(func=_down)
    names = lab_sub.add_parser("names", help="print the manifest of interesting names")
    common(names)
    names.add_argument("--json", action="store_true", help="one JSON object per line")
    names.set_defaults(func=_names)
    fg = lab_sub.add_parser("serve", help="serve in the foreground until interrupted")
    common(fg)
    hostile(fg)
    fg.set_defaults(func=_serve)


def _guard(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            result: int = fn(args)
            return result
        except WorldError as e:  # bad input: the world file
            print(f"shadowdns lab: {e}", file=sys.stderr)
            return 2
        except LabError as e:
            print(f"shadowdns lab: {e}", file=sys.stderr)
            return 1

    return run


@_guard
def _up(args: argparse.Namespace) -> int:
    info = LabProcess(args.state_dir, args.world, hostile=args.hostile,
                      hostile_seed=args.hostile_seed).start()
    print(f"lab up: pid {info.pid}, {len(info.root_servers)} root servers, port {info.port}")
    print(f"  root hints:   {info.hints_path}")
    print(f"  trust anchor: {info.anchor_path}")
    for name, addr in info.root_servers:
        print(f"  root server:  {name} {addr}")
    return 0


@_guard
def _down(args: argparse.Namespace) -> int:
    if LabProcess(args.state_dir, args.world).stop():
        print("lab down")
        return 0
    print(f"no lab running from {args.state_dir}", file=sys.stderr)
    return 1


@_guard
def _names(args: argparse.Namespace) -> int:
    entries = manifest(load_world(args.world))
    if args.json:
        for e in entries:
            print(json.dumps(e.as_dict()))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lab manifest", show_lines=False)
    for col in ("name", "type", "expect", "rcode", "dnssec"):
        table.add_column(col, no_wrap=True)
    table.add_column("note")
    for e in entries:
        d = e.as_dict()
        expect = d["category"] if d["kind"] == d["category"] else f"{d['category']}:{d['kind']}"
        table.add_row(d["name"], d["type"], expect, d["rcode"], d["dnssec"], d["note"])
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table)
    return 0


@_guard
def _serve(args: argparse.Namespace) -> int:
    hostility = Hostility(args.hostile, args.hostile_seed) if args.hostile > 0 else None
    return serve(args.world, args.state_dir, hostility)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1, not {text}")
    return value
