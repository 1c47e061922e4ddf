"""``shadowdns resolver plugins``: list, load, replace or unload a running resolver's
plugins through its ``--control`` HTTP API (resolver/control.py; docs/PLUGINS.md), on each
process of a ``--workers N`` resolver in turn.

    shadowdns resolver plugins --control 127.0.0.1:8053 load blocklist --arg ads.example
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from netpolicy import PRODUCTION, AddressError
from resolver import wasm


def register(rsub: Any) -> None:
    """The ``plugins`` action of ``shadowdns resolver``."""
    pl = rsub.add_parser("plugins", help="list, load, replace or unload a running resolver's "
                                         "plugins (its --control API)")
    pl.add_argument("--control", required=True, action="append", metavar="ADDR:PORT",
                    help="the resolver's --control address; repeat it for each process of "
                         "a --workers N resolver (PORT, PORT+1, ...): the change is made on "
                         "each, in order")
    plsub = pl.add_subparsers(dest="plugins_command", required=True, metavar="ACTION")
    plsub.add_parser("list", help="the plugins in use, in chain order")
    ld = plsub.add_parser("load", help="load FILE as NAME (a new version if NAME is loaded)")
    ld.add_argument("file", type=Path, metavar="FILE",
                    help="a .wasm/.wat module or a shipped example's name")
    ld.add_argument("--name", metavar="NAME",
                    help="the plugin's name (default: FILE's name without its suffix)")
    ld.add_argument("--policy", choices=("open", "closed"), default="open",
                    help="on a failure: as if absent, or SERVFAIL (default: open)")
    ld.add_argument("--arg", default="", metavar="ARG", help="the plugin's argument")
    ul = plsub.add_parser("unload", help="unload NAME")
    ul.add_argument("name", metavar="NAME", help="the plugin to unload")
    pl.set_defaults(func=plugins_command)


def plugins_command(args: argparse.Namespace) -> int:
    """``shadowdns resolver plugins``: a client of the --control API (of each process)."""
    source = b""
    if args.plugins_command == "load":
        path: Path = args.file
        if not path.exists() and path.suffix == "" and wasm.bundled(str(path)).exists():
            path = wasm.bundled(str(path))
        try:
            source = path.read_bytes()
        except OSError as e:
            print(f"shadowdns resolver plugins: {args.file}: {e.strerror}", file=sys.stderr)
            return 2
        args.name = args.name or path.stem
    status = 0
    for control in args.control:
        try:
            host, port = PRODUCTION.hostport("--control", control, role="send")
        except AddressError as e:
            print(f"shadowdns resolver plugins: {e}", file=sys.stderr)
            return 2
        base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        prefix = f"{control}: " if len(args.control) > 1 else ""
        status = max(status, _plugins_at(base, args, source, prefix))
    return status


def _plugins_at(base: str, args: argparse.Namespace, source: bytes, prefix: str) -> int:
    if args.plugins_command == "list":
        status, body = _http("GET", f"{base}/plugins")
    elif args.plugins_command == "unload":
        status, body = _http("DELETE", f"{base}/plugins/{urllib.parse.quote(args.name)}")
    else:
        query = urllib.parse.urlencode({"policy": args.policy, "arg": args.arg})
        status, body = _http("PUT", f"{base}/plugins/{urllib.parse.quote(args.name)}?{query}",
                             source)
    if status is None:
        print(f"shadowdns resolver plugins: {base}: {body}", file=sys.stderr)
        return 1
    try:
        data = json.loads(body)
    except ValueError:
        data = {"error": body.strip()}
    if status >= 400:
        print(f"shadowdns resolver plugins: {prefix}{data.get('error', body)}", file=sys.stderr)
        return 1
    if args.plugins_command == "list":
        if not data:
            print(f"{prefix}no plugins")
        for p in data:
            print(f"{prefix}{p['name']} v{p['version']} {p['sha256'][:16]} fail-{p['policy']} "
                  f"phases {','.join(p['phases'])} calls {sum(p['calls'].values())} "
                  f"failures {sum(p['failures'].values())}")
    elif args.plugins_command == "unload":
        print(f"{prefix}unloaded {data['unloaded']}")
    else:
        print(f"{prefix}loaded {data['name']} v{data['version']} {data['sha256'][:16]} "
              f"phases {','.join(data['phases'])}")
    return 0


def _http(method: str, url: str, body: bytes | None = None) -> tuple[int | None, str]:
    """(status, body) of one request; (None, why) when the API cannot be reached."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(getattr(e, "reason", e))
