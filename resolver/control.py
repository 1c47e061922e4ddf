"""The resolver's control side: its plugin set, swapped at run time, and an HTTP API.

:class:`PluginSet` holds the named WebAssembly plugins of one server process, in order.
``load`` compiles a module off the event loop (a thread), then installs a new chain on the
workers in one assignment; a query reads the chain once when its work starts, so queries
in flight finish on the old version and new ones use the new (none is dropped or sees a
half-made set).  Each load of a name is a new version (1, 2, ...).

:class:`ControlServer` serves, on ``resolver serve --control ADDR:PORT`` (unauthenticated:
keep it on loopback)::

    GET    /metrics                    Prometheus text: workers, fast path, plugins
    GET    /plugins                    the plugins as JSON, in chain order
    PUT    /plugins/NAME?policy=&arg=  body: a .wasm or .wat module; loads or replaces NAME
    DELETE /plugins/NAME               unloads NAME

``shadowdns resolver plugins --control ADDR:PORT list|load|unload`` is its client.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from resolver.cache.reply import FastCache
from resolver.plugins import PHASES, PluginChain
from resolver.wasm import Limits, PluginLoadError, Policy, WasmPlugin
from resolver.workers import Workers

__all__ = ["ControlServer", "PluginSet", "prometheus", "serve_app"]

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_MODULE = 8 * 1024 * 1024  # bytes of a module sent to PUT /plugins/NAME


class PluginSet:
    """The plugins of one process by name, in chain order; every change swaps the chain."""

    def __init__(self, workers: Workers, limits: Limits | None = None) -> None:
        self.workers = workers
        self.limits = limits or Limits()
        self._plugins: dict[str, WasmPlugin] = {}
        self._versions: dict[str, int] = {}
        self.swaps = 0

    @property
    def plugins(self) -> list[WasmPlugin]:
        return list(self._plugins.values())

    def build(self, name: str, source: bytes, *, policy: Policy = Policy.OPEN, arg: str = "",
              where: str = "") -> WasmPlugin:
        """The next version of ``name`` compiled and instantiated, not yet installed."""
        if not NAME.match(name):
            raise PluginLoadError(f"plugin name {name!r}: 1-64 letters, digits, '_.-'")
        return WasmPlugin(source, name=name, where=where or name, policy=policy,
                          limits=self.limits, arg=arg,
                          version=self._versions.get(name, 0) + 1)

    def install(self, plugin: WasmPlugin) -> None:
        """Put ``plugin`` in the chain (in its name's place if it replaces one)."""
        self._versions[plugin.name] = plugin.version
        self._plugins[plugin.name] = plugin
        self._swap()

    async def load(self, name: str, source: bytes, *, policy: Policy = Policy.OPEN,
                   arg: str = "", where: str = "") -> WasmPlugin:
        """Compile in a thread (the loop keeps answering), then install."""
        plugin = await asyncio.to_thread(self.build, name, source, policy=policy, arg=arg,
                                         where=where)
        self.install(plugin)
        return plugin

    def unload(self, name: str) -> bool:
        if self._plugins.pop(name, None) is None:
            return False
        self._swap()
        return True

    def _swap(self) -> None:
        self.workers.plugins = PluginChain(self._plugins.values())
        self.swaps += 1

    def describe(self) -> list[dict[str, Any]]:
        return [{
            "name": p.name, "version": p.version, "sha256": p.sha256, "policy": p.policy.value,
            "phases": list(p.phases), "arg": p.arg.decode(), "calls": dict(p.calls),
            "answers": dict(p.answers), "failures": dict(p.failures),
            "metrics": dict(p.metrics), "instances": p.instances,
        } for p in self._plugins.values()]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(workers: Workers, plugins: PluginSet | None,
               fastcache: FastCache | None) -> str:
    """The Prometheus text exposition (0.0.4) of one resolver process."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str,
               samples: Iterable[tuple[dict[str, str], float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    family("shadowdns_resolver_queries_total", "counter",
           "Queries by what the workers did with them.",
           [({"outcome": k}, v) for k, v in sorted(workers.stats.items())])
    if fastcache is not None:
        family("shadowdns_resolver_fast_hits_total", "counter",
               "Replies served from bytes.", [({}, fastcache.hits)])
        family("shadowdns_resolver_fast_paused", "gauge",
               "1 while a plugin must see every query (the fast path is off).",
               [({}, float(fastcache.paused))])
    if plugins is None:
        return "\n".join(out) + "\n"
    ps = plugins.plugins
    family("shadowdns_resolver_plugin_info", "gauge",
           "The plugins in use, in chain order, with their version and module hash.",
           [({"plugin": p.name, "version": str(p.version), "sha256": p.sha256[:16],
              "policy": p.policy.value, "position": str(i)}, 1) for i, p in enumerate(ps)])
    family("shadowdns_resolver_plugin_swaps_total", "counter",
           "Plugin set changes (load, replace, unload).", [({}, plugins.swaps)])
    for metric, help_text, counts in (
            ("calls", "Phase calls made.", lambda p: p.calls),
            ("answers", "Phase calls that answered or replaced the reply.", lambda p: p.answers),
            ("seconds", "Time spent in phase calls.", lambda p: p.seconds)):
        family(f"shadowdns_resolver_plugin_{metric}_total", "counter", help_text,
               [({"plugin": p.name, "version": str(p.version), "phase": ph}, counts(p)[ph])
                for p in ps for ph in PHASES if ph in p.phases])
    family("shadowdns_resolver_plugin_failures_total", "counter",
           "Contained failures by kind (trap, fuel, memory, budget, abi).",
           [({"plugin": p.name, "version": str(p.version), "kind": k}, p.failures[k])
            for p in ps for k in ("trap", "fuel", "memory", "budget", "abi")])
    family("shadowdns_resolver_plugin_metric_total", "counter",
           "What plugins counted with the metric host call.",
           [({"plugin": p.name, "name": k}, v) for p in ps for k, v in sorted(p.metrics.items())])
    return "\n".join(out) + "\n"


_STATE = web.AppKey("state", dict)


async def _metrics(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    return web.Response(text=prometheus(state["workers"], state["plugins"], state["fast"]),
                        content_type="text/plain", charset="utf-8")


async def _list(request: web.Request) -> web.Response:
    return web.json_response(request.app[_STATE]["plugins"].describe())


async def _put(request: web.Request) -> web.Response:
    plugins: PluginSet = request.app[_STATE]["plugins"]
    name = request.match_info["name"]
    try:
        policy = Policy(request.query.get("policy", "open"))
    except ValueError:
        return _error(400, "policy: open or closed")
    source = await request.read()
    try:
        plugin = await plugins.load(name, source, policy=policy,
                                    arg=request.query.get("arg", ""), where=name)
    except PluginLoadError as e:
        return _error(400, str(e))
    return web.json_response({"name": plugin.name, "version": plugin.version,
                              "sha256": plugin.sha256, "phases": list(plugin.phases)})


async def _delete(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not request.app[_STATE]["plugins"].unload(name):
        return _error(404, f"no plugin named {name}")
    return web.json_response({"unloaded": name})


def _error(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": text}),
                        content_type="application/json")


async def serve_app(app: web.Application, host: str, port: int,
                    what: str) -> tuple[web.AppRunner, int]:
    """``app`` listening on ``host:port`` (0: any free port): its runner and the port;
    :class:`OSError` naming ``what`` and the address when it cannot listen."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise OSError(f"{what}: cannot listen on {host}:{port}: {e.strerror}") from e
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = int(server.sockets[0].getsockname()[1])
    return runner, port


class ControlServer:
    """The HTTP API of one resolver process (see the module docstring)."""

    def __init__(self, workers: Workers, plugins: PluginSet, fastcache: FastCache | None,
                 host: str, port: int) -> None:
        self.host, self.port = host, port
        app = web.Application(client_max_size=MAX_MODULE)
        app[_STATE] = {"workers": workers, "plugins": plugins, "fast": fastcache}
        app.router.add_get("/metrics", _metrics)
        app.router.add_get("/plugins", _list)
        app.router.add_put("/plugins/{name}", _put)
        app.router.add_delete("/plugins/{name}", _delete)
        self._app = app
        self._runner: web.AppRunner | None = None

    async def start(self) -> tuple[str, int]:
        self._runner, self.port = await serve_app(self._app, self.host, self.port, "control")
        return self.host, self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
