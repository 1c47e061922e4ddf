"""System tests: ``shadowdns run`` as a process, with real producers, references and lab.

:class:`HarnessProcess` starts the harness from a YAML config, waits for its API, reads its
status from ``/api/status`` and stops it with SIGTERM (by its PID).  The session ``lab``
fixture comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class HarnessProcess:
    def __init__(self, config: Path, api_port: int, log: Path) -> None:
        self.api = f"http://127.0.0.1:{api_port}"
        self.log = log
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shadowdns", "run", "--config", str(config),
                 "--api", f"127.0.0.1:{api_port}", "--live", "log"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.api}/api/status", timeout=5) as response:
            data: dict[str, Any] = json.load(response)
            return data

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the harness exited ({self.proc.returncode}):\n"
                                     + self.log.read_text())
            try:
                return self.status()
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the harness API did not come up:\n" + self.log.read_text())

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status = self.status()
        while not predicate(status):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; status {status['counters']}")
            time.sleep(0.2)
            status = self.status()
        return status

    def stop(self, timeout: float = 60.0) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.log.read_text()


@pytest.fixture
def harness_process() -> Any:
    started: list[HarnessProcess] = []

    def start(config: Path, api_port: int, log: Path) -> HarnessProcess:
        process = HarnessProcess(config, api_port, log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
