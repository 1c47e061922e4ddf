"""Running a reference resolver as a child process: :class:`ManagedResolver`.

Start-up is careful because a stale or foreign process on the same address
would silently take the traffic:

1. the program must exist (:class:`~legacy_adapter.errors.BinaryMissing`);
2. ``listen:port`` must be free for both UDP and TCP, checked by binding it
   ourselves (:class:`~legacy_adapter.errors.PortInUse`);
3. the dnstap collector's socket, if any, must exist (kresd gives up on dnstap
   for good if it is missing at start);
4. the workdir must not belong to a running resolver (its control socket must
   not accept connections);
5. the config is written, the process started in its own session with output
   appended to ``<workdir>/<kind>.log``, and we keep its PID;
6. we poll ``localhost. A`` until it answers; if the process exits or the
   timeout passes, it is stopped and :class:`~legacy_adapter.errors.StartFailed`
   carries the end of its log.

:meth:`ManagedResolver.stop` signals only that PID: SIGTERM, then SIGKILL after
a grace period. Use it as ``async with ManagedResolver.from_spec(spec) as ref:``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Self

import dns.exception
import dns.message
import dns.rcode

from legacy_adapter.config import ReferenceSpec
from legacy_adapter.control import Controller, FlushReport
from legacy_adapter.errors import ControlError, PortInUse, StartFailed
from legacy_adapter.health import PROBE_NAME, probe
from legacy_adapter.implementations import Implementation, implementation_for

__all__ = ["ManagedResolver", "ensure_port_free", "log_tail"]

START_TIMEOUT = 10.0
STOP_GRACE = 5.0
PROBE_INTERVAL = 0.05
LOG_TAIL_LINES = 20


def ensure_port_free(address: str, port: int) -> None:
    """Raise :class:`PortInUse` unless we can bind ``address:port`` for UDP and TCP.

    Other bind failures (no permission for a port below 1024, say) raise
    :class:`StartFailed`.

    The UDP socket does not set SO_REUSEADDR, so it fails even next to a
    socket that does; the TCP one does, so connections in TIME_WAIT from an
    earlier run do not count as "in use".
    """
    for kind, transport in ((socket.SOCK_DGRAM, "UDP"), (socket.SOCK_STREAM, "TCP")):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, kind) as probe_socket:
            if kind == socket.SOCK_STREAM:
                probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe_socket.bind((address, port))
                if kind == socket.SOCK_STREAM:
                    probe_socket.listen(1)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise PortInUse(address, port, transport) from None
                raise StartFailed(
                    f"cannot bind {address}:{port} over {transport}: {error.strerror or error}"
                ) from None


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' if there is none)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip("\n")
    except FileNotFoundError:
        return ""


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook that makes the child get SIGTERM when we die (Linux only).

    A resolver left behind by a crashed test run would keep its port. The libc
    lookup happens here, in the parent: the hook itself only calls ``prctl``.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return hook


def _socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(1.0)
        try:
            client.connect(str(path))
        except OSError:
            return False
        return True


class ManagedResolver:
    """One reference resolver process that we start, probe, flush and stop.

    ``start_timeout`` bounds the health check; ``stop_grace`` is how long
    SIGTERM gets before SIGKILL.
    """

    def __init__(
        self,
        implementation: Implementation,
        *,
        start_timeout: float = START_TIMEOUT,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self.implementation = implementation
        self.spec = implementation.spec
        self.start_timeout = start_timeout
        self.stop_grace = stop_grace
        self._process: asyncio.subprocess.Process | None = None
        self._controller: Controller | None = None
        self._returncode: int | None = None

    @classmethod
    def from_spec(
        cls,
        spec: ReferenceSpec,
        *,
        start_timeout: float = START_TIMEOUT,
        stop_grace: float = STOP_GRACE,
    ) -> ManagedResolver:
        """The managed resolver for ``spec.kind``."""
        return cls(implementation_for(spec), start_timeout=start_timeout, stop_grace=stop_grace)

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"ManagedResolver({self.name}, {state})"

    # Reference protocol

    @property
    def name(self) -> str:
        return self.spec.identity

    @property
    def address(self) -> str:
        return self.spec.listen

    @property
    def port(self) -> int:
        return self.spec.port

    @property
    def can_flush(self) -> bool:
        return True

    # Process state

    @property
    def pid(self) -> int | None:
        """PID of the process we started, while it has not been reaped."""
        if self._process is None:
            return None
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def returncode(self) -> int | None:
        """Exit status of the last run (negative: killed by that signal)."""
        if self._process is not None:
            return self._process.returncode
        return self._returncode

    @property
    def log_path(self) -> Path:
        return self.implementation.log_path

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, lines)

    async def version(self) -> str:
        return await self.implementation.version()

    async def start(self) -> None:
        """Start the resolver and return once it answers ``localhost. A``."""
        if self._process is not None:
            raise StartFailed(f"{self.name} is already started (pid {self.pid})")
        # BinaryMissing first, for the resolver and for its control tool.
        argv = self.implementation.command_line()
        controller = self.implementation.controller()
        ensure_port_free(self.spec.listen, self.spec.port)
        self._check_dnstap_socket()
        self._check_workdir_free()
        self.implementation.write_files()
        self._controller = controller
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- {stamp} shadowdns starting: {' '.join(argv)}\n".encode())
            log.flush()
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    cwd=self.spec.workdir,
                    start_new_session=True,
                    preexec_fn=_parent_death_signal(),
                )
            except OSError as error:
                raise StartFailed(f"cannot run {argv[0]}: {error}") from None
        try:
            await self._wait_until_answering()
        except BaseException:
            await self._terminate()
            raise

    async def _wait_until_answering(self) -> None:
        assert self._process is not None
        process = self._process
        deadline = time.monotonic() + self.start_timeout
        last_problem = "no answer yet"
        while True:
            if process.returncode is not None:
                raise StartFailed(
                    f"{self.name} exited with status {process.returncode} during start-up "
                    f"(log: {self.log_path})",
                    self.log_tail(),
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StartFailed(
                    f"{self.name} (pid {process.pid}) did not answer {PROBE_NAME} A on "
                    f"{self.spec.address} within {self.start_timeout:g} s: {last_problem} "
                    f"(log: {self.log_path})",
                    self.log_tail(),
                )
            try:
                response = await probe(
                    self.spec.listen, self.spec.port, timeout=min(0.5, remaining)
                )
            except dns.exception.Timeout:
                last_problem = "queries time out"
            except OSError as error:
                last_problem = error.strerror or str(error)
                await asyncio.sleep(min(PROBE_INTERVAL, max(0.0, remaining)))
            except dns.exception.DNSException as error:
                last_problem = f"bad reply: {error}"
                await asyncio.sleep(min(PROBE_INTERVAL, max(0.0, remaining)))
            else:
                if response.rcode() == dns.rcode.NOERROR:
                    return
                rcode = dns.rcode.to_text(response.rcode())
                raise StartFailed(
                    f"{self.name} answers {PROBE_NAME} A with {rcode}: it runs but is "
                    f"misconfigured (log: {self.log_path})",
                    self.log_tail(),
                )

    def _check_dnstap_socket(self) -> None:
        path = self.spec.dnstap_socket
        if path is None:
            return
        if not path.is_socket():
            raise StartFailed(
                f"dnstap socket {path} does not exist: start the dnstap collector before "
                f"{self.name} (kresd never retries a missing socket)"
            )

    def _check_workdir_free(self) -> None:
        control = self.implementation.control_socket
        if control.is_socket() and _socket_accepts(control):
            raise StartFailed(
                f"workdir {self.spec.workdir} belongs to a running resolver "
                f"({control} accepts connections): give each reference its own workdir"
            )

    async def stop(self) -> None:
        """Stop the process by its PID: SIGTERM, then SIGKILL after ``stop_grace``.

        Does nothing if it is not running. See :attr:`returncode` afterwards.
        """
        await self._terminate()

    async def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), self.stop_grace)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        finally:
            self._returncode = process.returncode
            self._process = None
            self._controller = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # Health and control

    async def health_check(self, timeout: float = 2.0) -> dns.message.Message:
        """One ``localhost. A`` probe; raises if the resolver does not answer."""
        return await probe(self.spec.listen, self.spec.port, timeout=timeout)

    def _control(self) -> Controller:
        if not self.running:
            raise ControlError(f"{self.name} is not running")
        if self._controller is None:
            self._controller = self.implementation.controller()
        return self._controller

    async def flush_all(self) -> FlushReport:
        """Empty the resolver's caches (answers, keys, and server state where it can)."""
        return await self._control().flush_all()

    async def flush_name(self, name: str) -> FlushReport:
        """Drop cached data at and below ``name``."""
        return await self._control().flush_name(name)

    async def stats(self) -> dict[str, float]:
        """The resolver's counters (names differ between implementations)."""
        return await self._control().stats()
