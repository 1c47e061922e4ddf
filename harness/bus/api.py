"""``/metrics`` and ``/api/status`` of an intake node and of the collector (``--api ADDR:PORT``).

A worker serves its pipeline's API (harness/api.py).  The two other roles have no pipeline:
they serve their own counters, the ones their closing line prints, as
``shadowdns_bus_events_total{role="intake|collect",consumer="NAME",event="..."}`` and the same
as JSON.  The system-wide accounts (``P:counts``) are Redis's, read by the collector.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable

from aiohttp import web

from harness.api import AppServer, prometheus_response
from harness.metrics import prometheus_label

__all__ = ["RoleApi", "role_metrics"]

Counts = Callable[[], collections.Counter[str]]
_STATE = web.AppKey("role", dict)


def role_metrics(role: str, consumer: str, counts: collections.Counter[str]) -> str:
    """The Prometheus text exposition (version 0.0.4) of one role's counters."""
    lines = ["# HELP shadowdns_bus_events_total What this bus role did, by event.",
             "# TYPE shadowdns_bus_events_total counter"]
    labels = f'role="{prometheus_label(role)}",consumer="{prometheus_label(consumer)}"'
    for event in sorted(counts):
        lines.append(f'shadowdns_bus_events_total{{{labels},event="{prometheus_label(event)}"}} '
                     f"{counts[event]}")
    return "\n".join(lines) + "\n"


async def _metrics(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    return prometheus_response(role_metrics(state["role"], state["consumer"],
                                            state["counts"]()))


async def _status(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    body = {"role": state["role"], "consumer": state["consumer"],
            "counters": dict(state["counts"]())}
    return web.json_response(body, dumps=json.dumps)


class RoleApi(AppServer):
    """Serves one role's counters on ``host:port`` (0: any free port, see :attr:`port`)."""

    def __init__(self, role: str, consumer: str, counts: Counts, host: str, port: int) -> None:
        app = web.Application()
        app[_STATE] = {"role": role, "consumer": consumer, "counts": counts}
        app.router.add_get("/metrics", _metrics)
        app.router.add_get("/api/status", _status)
        super().__init__(app, host, port)
