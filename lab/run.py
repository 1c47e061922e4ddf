"""Running the lab: in this process (:func:`serve`) or in the background (:class:`LabProcess`).

A running lab leaves three files in its state directory that resolvers and tools need:

``root.hints``       the root servers' NS and address records (zone-file text)
``trust-anchor.ds``  the root's DS record, the trust anchor for validation
``lab.json``         pid, port, root servers, trust anchor, regions and egress addresses

On SIGUSR1 the lab writes ``stats.json`` there (atomically): its pid, its counters and the
queries it received per source address, with a ``dump`` number that grows with every write
(per lab process), so a reader (:meth:`LabProcess.stats`) knows the file it reads is the
answer to its own signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.name
import dns.rdatatype

from lab.authserver import LabServer
from lab.hostile import Hostility
from lab.manifest import manifest
from lab.world import WorldDef, load_world
from lab.zones import LabZone, build_zones, trust_anchor_ds

DEFAULT_STATE_DIR = Path("run/lab")
STATE_FILE = "lab.json"
HINTS_FILE = "root.hints"
ANCHOR_FILE = "trust-anchor.ds"
LOG_FILE = "lab.log"
STATS_FILE = "stats.json"


@dataclass(frozen=True)
class LabInfo:
    """What a running lab tells its users (read back from ``lab.json``)."""

    state_dir: Path
    pid: int
    port: int
    root_servers: tuple[tuple[str, str], ...]
    trust_anchors: tuple[str, ...]
    egress: dict[str, str]
    world: str

    @property
    def hints_path(self) -> Path:
        return self.state_dir / HINTS_FILE

    @property
    def anchor_path(self) -> Path:
        return self.state_dir / ANCHOR_FILE

    @classmethod
    def read(cls, state_dir: Path) -> LabInfo:
        data = json.loads((state_dir / STATE_FILE).read_text())
        return cls(
            state_dir=state_dir,
            pid=int(data["pid"]),
            port=int(data["port"]),
            root_servers=tuple((n, a) for n, a in data["root_servers"]),
            trust_anchors=tuple(data["trust_anchors"]),
            egress=dict(data["egress"]),
            world=str(data["world"]),
        )


def root_servers(zones: dict[dns.name.Name, LabZone]) -> list[tuple[str, str]]:
    root = zones[dns.name.root]
    out: list[tuple[str, str]] = []
    for rd in root.nodes[dns.name.root][dns.rdatatype.NS]:
        a = root.nodes.get(rd.target, {}).get(dns.rdatatype.A)
        if a is not None:
            out.extend((rd.target.to_text(), r.address) for r in a)
    return out


def write_state(state_dir: Path, world: WorldDef, zones: dict[dns.name.Name, LabZone]) -> LabInfo:
    state_dir.mkdir(parents=True, exist_ok=True)
    roots = root_servers(zones)
    anchors = trust_anchor_ds(zones)
    hints = [f". 3600000 IN NS {name}" for name, _ in roots]
    hints += [f"{name} 3600000 IN A {addr}" for name, addr in roots]
    (state_dir / HINTS_FILE).write_text("; lab root hints\n" + "\n".join(hints) + "\n")
    (state_dir / ANCHOR_FILE).write_text("; lab root trust anchor\n" + "\n".join(anchors) + "\n")
    info: dict[str, Any] = {
        "pid": os.getpid(),
        "port": world.port,
        "world": world.source,
        "root_servers": roots,
        "trust_anchors": anchors,
        "egress": dict(world.resolver_egress),
        "regions": [[str(net), region] for net, region in world.regions],
        "started_at": time.time(),
        "manifest": [e.as_dict() for e in manifest(world)],
    }
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(state_dir / STATE_FILE)  # atomic: readers never see half a file
    return LabInfo.read(state_dir)


@contextlib.asynccontextmanager
async def running_lab(world: WorldDef, state_dir: Path, seed: int | None = None,
                      hostility: Hostility | None = None
                      ) -> AsyncIterator[tuple[LabServer, LabInfo]]:
    """Serve the world in the running event loop until the block exits."""
    zones = build_zones(world)
    server = LabServer(world, zones, seed=seed, hostility=hostility)
    await server.start()
    try:
        info = write_state(state_dir, world, zones)
        yield server, info
    finally:
        await server.close()
        with contextlib.suppress(FileNotFoundError):
            (state_dir / STATE_FILE).unlink()


def write_stats(state_dir: Path, server: LabServer, dump: int) -> None:
    """Write the lab's counters to ``stats.json`` (atomically)."""
    data = {"pid": os.getpid(), "dump": dump, "written_at": time.time(),
            "stats": dict(server.stats), "by_source": dict(server.by_source)}
    tmp = state_dir / (STATS_FILE + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(state_dir / STATS_FILE)


def serve(world_path: str | None, state_dir: Path, hostility: Hostility | None = None) -> int:
    """The lab process's main: serve until SIGTERM or SIGINT."""
    world = load_world(world_path)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency
        runner = asyncio.run

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with running_lab(world, state_dir, hostility=hostility) as (server, info):
            dumps = [0]

            def dump_stats() -> None:
                dumps[0] += 1
                try:
                    write_stats(state_dir, server, dumps[0])
                except OSError as e:  # a full disk must not stop the lab
                    print(f"lab: cannot write {STATS_FILE}: {e}", flush=True)

            loop.add_signal_handler(signal.SIGUSR1, dump_stats)
            print(f"lab: serving {len(world.servers)} servers on port {info.port} "
                  f"(pid {info.pid}); state in {state_dir}"
                  + (f"; hostile: {hostility.share:.0%} of replies bent"
                     if hostility is not None else ""), flush=True)
            await stop.wait()
            print(f"lab: stopping; stats {dict(server.stats)}", flush=True)

    runner(main())
    return 0


def lab_command(*args: str) -> list[str]:
    """``python -m lab ARGS`` as :class:`LabProcess` starts it.  ``-P``: the working
    directory is not put on the child's ``sys.path``, so that a folder there named like one
    of our packages (a state directory called ``lab``) is never imported in its place."""
    return [sys.executable, "-P", "-m", "lab", *args]


class LabError(RuntimeError):
    pass


class LabProcess:
    """The lab as a background process that this code started (and alone stops, by PID)."""

    def __init__(self, state_dir: Path = DEFAULT_STATE_DIR, world_path: str | None = None,
                 hostile: float = 0.0, hostile_seed: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.world_path = world_path
        self.hostile = hostile
        self.hostile_seed = hostile_seed
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> LabInfo:
        existing = self.running()
        if existing is not None:
            raise LabError(f"a lab is already running from {self.state_dir} (pid {existing.pid})")
        load_world(self.world_path)  # a bad world fails here, with file and key, not in a log
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / STATE_FILE).unlink()
        cmd = lab_command("serve", "--state-dir", str(self.state_dir))
        if self.world_path:
            cmd += ["--world", str(self.world_path)]
        if self.hostile > 0:
            cmd += ["--hostile", str(self.hostile)]
            if self.hostile_seed is not None:
                cmd += ["--hostile-seed", str(self.hostile_seed)]
        log = open(self.state_dir / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LabError(f"the lab exited with status {self.proc.returncode}:\n"
                               + _tail(self.state_dir / LOG_FILE))
            info = self.running()
            if info is not None and info.pid == self.proc.pid:
                return info
            time.sleep(0.05)
        self.stop()
        raise LabError(f"the lab did not come up within {timeout:.0f} s:\n"
                       + _tail(self.state_dir / LOG_FILE))

    def running(self) -> LabInfo | None:
        try:
            info = LabInfo.read(self.state_dir)
        except (FileNotFoundError, ValueError, KeyError):
            return None
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return info

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """The running lab's counters: ``{"stats": {...}, "by_source": {addr: queries}}``.

        Signals the lab (SIGUSR1) and waits for the ``stats.json`` it writes in reply.
        """
        info = self.running()
        if info is None:
            raise LabError(f"no lab is running from {self.state_dir}")
        path = self.state_dir / STATS_FILE
        old = _read_json(path)
        before = old.get("dump", 0) if old.get("pid") == info.pid else 0  # not a former lab's
        os.kill(info.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = _read_json(path)
            if data.get("pid") == info.pid and data.get("dump", 0) > before:
                return data
            time.sleep(0.02)
        raise LabError(f"the lab (pid {info.pid}) wrote no {STATS_FILE} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the lab started from this state directory; True if one was running."""
        pid = self.proc.pid if self.proc is not None else None
        if pid is None:
            info = self.running()
            if info is None:
                return False
            pid = info.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None:
                if self.proc.poll() is not None:
                    break
            elif not _alive(pid):
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if self.proc is not None:
                self.proc.wait(5)
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / STATE_FILE).unlink()
        self.proc = None
        return True


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
