"""The live view: a rich dashboard on a TTY, one log line every few seconds otherwise.

Both show queries seen / sampled / compared per second, the divergence rate, the top
categories, drops (``dropped`` by a saturated dispatcher, ``shed`` by sampling down) and
per-target latency p50/p99; finite inputs (files, lists) get a progress bar on the dashboard
and a percentage in the log line.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from harness.pipeline import Pipeline

__all__ = ["LiveView", "status_line"]

log = logging.getLogger("shadowdns.harness")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}ms"


class _Rates:
    """Per-second rates of chosen counters between two looks."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        self.when = time.monotonic()

    def update(self, counters: dict[str, int]) -> dict[str, float]:
        now = time.monotonic()
        elapsed = max(now - self.when, 1e-6)
        rates = {k: (v - self.last.get(k, 0)) / elapsed for k, v in counters.items()}
        self.last = dict(counters)
        self.when = now
        return rates


def status_line(status: dict[str, Any], rates: dict[str, float]) -> str:
    """One line for logs: counters with rates, divergences, drops, latencies, progress."""
    c = status["counters"]
    compared = c.get("compared", 0)
    real = status["verdicts"].get("real", 0)
    share = f"{100 * real / compared:.1f}%" if compared else "-"
    parts = [
        f"seen {c['seen']} ({rates.get('seen', 0):.0f}/s)",
        f"sampled {c['sampled']} ({rates.get('sampled', 0):.0f}/s)",
        f"compared {compared} ({rates.get('compared', 0):.0f}/s)",
        f"real {real} ({share})",
        f"dropped {c['dropped']} shed {c['shed']}",
        f"in flight {status['in_flight']}",
    ]
    for target, lat in status["latency"].items():
        parts.append(f"{target} p50 {_ms(lat['p50'])} p99 {_ms(lat['p99'])}")
    for intake in status["intakes_detail"]:
        if intake["finite"] and intake["total"]:
            parts.append(f"{intake['name']} {100 * intake['done'] / intake['total']:.0f}%")
    top = list(status["categories"].items())[:3]
    if top:
        parts.append("top " + ", ".join(f"{k} {v}" for k, v in top))
    return "; ".join(parts)


class LiveView:
    """Shows a running pipeline until cancelled (``mode``: auto, dashboard, log, off)."""

    def __init__(self, pipeline: Pipeline, mode: str = "auto", interval: float = 5.0,
                 console: Console | None = None) -> None:
        self.pipeline = pipeline
        self.console = console or Console(stderr=True)
        if mode == "auto":
            mode = "dashboard" if self.console.is_terminal and sys.stderr.isatty() else "log"
        self.mode = mode
        self.interval = interval
        self._rates = _Rates()
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                                  console=self.console)
        self._tasks: dict[str, TaskID] = {}

    async def run(self) -> None:
        if self.mode == "off":
            return
        if self.mode == "log":
            while True:
                await asyncio.sleep(self.interval)
                self.log_once()
        with Live(self.render(), console=self.console, refresh_per_second=2,
                  transient=False) as live:
            while True:
                await asyncio.sleep(0.5)
                live.update(self.render())

    def log_once(self) -> str:
        status = self.pipeline.status()
        line = status_line(status, self._rates.update(status["counters"]))
        print(f"shadowdns run: {line}", file=sys.stderr, flush=True)
        return line

    def render(self) -> Group:
        status = self.pipeline.status()
        counters = status["counters"]
        rates = self._rates.update(counters)
        head = Table(title=f"shadowdns run {status['run_id']} — judge {status['judge']}",
                     show_header=True, expand=False)
        for column in ("", "total", "per second"):
            head.add_column(column, justify="right")
        for key in ("seen", "sampled", "compared"):
            head.add_row(key, str(counters[key]), f"{rates.get(key, 0):.0f}")
        compared = counters["compared"]
        real = status["verdicts"].get("real", 0)
        head.add_row("divergent", str(real), f"{100 * real / compared:.1f}% of compared"
                     if compared else "-")
        head.add_row("dropped / shed", f"{counters['dropped']} / {counters['shed']}",
                     f"scale {status['sample_scale']:.3g}")
        head.add_row("in flight", str(status["in_flight"]), f"of {status['capacity']}")
        targets = Table(title="targets")
        for column in ("target", "p50", "p99", "answers", "errors"):
            targets.add_column(column)
        for name, lat in status["latency"].items():
            errors = ", ".join(f"{k} {v}" for k, v in status["errors"].get(name, {}).items())
            targets.add_row(name, _ms(lat["p50"]), _ms(lat["p99"]), str(lat["count"]),
                            errors or "-")
        categories = Table(title="top divergence categories")
        categories.add_column("category")
        categories.add_column("count", justify="right")
        for name, count in list(status["categories"].items())[:6]:
            categories.add_row(name, str(count))
        parts: list[Any] = [head, targets, categories]
        for intake in status["intakes_detail"]:
            if intake["finite"] and intake["total"]:
                task = self._tasks.get(intake["name"])
                if task is None:
                    task = self._progress.add_task(intake["name"], total=intake["total"])
                    self._tasks[intake["name"]] = task
                self._progress.update(task, completed=intake["done"])
        if self._tasks:
            parts.append(self._progress)
        return Group(*parts)
