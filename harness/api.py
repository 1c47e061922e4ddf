"""The harness's HTTP side (aiohttp), on a loopback address.

``GET /metrics``           Prometheus text exposition of the pipeline's counters and latencies
``GET /api/status``        run status as JSON (counters, rates' raw material, targets, intakes)
``GET /api/divergences``   the latest stored REAL verdicts of this run (``?limit=N``, max 500;
                           ``?kind=real,unstable`` for other verdict kinds)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from harness.pipeline import Pipeline
from harness.store import StoreReader
from resolver.control import serve_app

__all__ = ["ApiServer", "AppServer", "make_app", "prometheus_response"]

MAX_LIMIT = 500
_PIPELINE = web.AppKey("pipeline", Pipeline)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def prometheus_response(text: str) -> web.Response:
    """``text`` (the Prometheus text exposition) as a ``/metrics`` reply."""
    return web.Response(text=text, content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def _metrics(request: web.Request) -> web.Response:
    pipeline = request.app[_PIPELINE]
    pipeline.status()  # refreshes the gauges
    return prometheus_response(pipeline.metrics.prometheus())


async def _status(request: web.Request) -> web.Response:
    return web.json_response(request.app[_PIPELINE].status(), dumps=_dumps)


async def _divergences(request: web.Request) -> web.Response:
    pipeline = request.app[_PIPELINE]
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        raise web.HTTPBadRequest(text="limit: not an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise web.HTTPBadRequest(text=f"limit: 1..{MAX_LIMIT}")
    kinds = tuple(k for k in request.query.get("kind", "real").split(",") if k)
    if pipeline.run_id is None:
        return web.json_response({"run_id": None, "divergences": []})

    def read() -> list[dict[str, Any]]:
        reader = StoreReader(pipeline.store.path)
        try:
            return reader.divergences(pipeline.run_id, limit, kinds)
        finally:
            reader.close()

    rows = await asyncio.to_thread(read)
    return web.json_response({"run_id": pipeline.run_id, "divergences": rows}, dumps=_dumps)


def make_app(pipeline: Pipeline) -> web.Application:
    app = web.Application()
    app[_PIPELINE] = pipeline
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/api/status", _status)
    app.router.add_get("/api/divergences", _divergences)
    return app


class AppServer:
    """Serves an aiohttp ``app`` on ``host:port`` (port 0: any free one, see :attr:`port`)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner, self.port = await serve_app(self.app, self.host, self.port, "api")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class ApiServer(AppServer):
    """Serves :func:`make_app` for ``pipeline``."""

    def __init__(self, pipeline: Pipeline, host: str, port: int) -> None:
        super().__init__(make_app(pipeline), host, port)
        self.pipeline = pipeline
